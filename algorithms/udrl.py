"""Upside-Down RL (Srivastava et al. 2019) for continuous actions with episodic resets.

A behaviour function ``B(s, d_r, d_h)`` maps a state and a command (desired return
``d_r`` within a desired horizon of ``d_h`` steps) to an action, and is trained by pure
supervised learning on the agent's own best episodes:

- **Behaviour function.** The state goes through ``Linear(obs, 256)`` and the activation;
  the scaled command ``(d_r * return_scale, d_h * horizon_scale)`` goes through
  ``Linear(2, 256)`` and a sigmoid; their product (the multiplicative command gate) goes
  through a second hidden layer of 256 units and the output head: 2 hidden layers of
  256 units, as in the paper. The activation is per env (paper: tanh on
  InvertedPendulum, ReLU elsewhere).
- **Continuous actions: a Gaussian head.** The head outputs a mean, squashed by tanh
  into the normalised action range [-1, 1], and a state-dependent log-std (clamped to
  [-5, 1]). Training minimises the Gaussian negative log-likelihood of the stored
  actions; exploration samples from the Gaussian (clipped to [-1, 1]), the role the
  categorical sample plays in discrete UDRL; evaluation uses the mean, so the policy is
  deterministic. Actions are rescaled to the environment's bounds.
- **Replay.** The ``replay_size`` best episodes by return; the first
  ``n_warm_up_episodes`` are uniform-random.
- **Training targets (trailing segments).** Sample an episode uniformly, a time
  ``t1`` uniformly in it; the input is ``(s_t1, sum of rewards from t1 to the end,
  T - t1)`` and the target is ``a_t1``.
- **Iteration** (Srivastava et al., Algorithm 1). ``n_updates_per_iter`` gradient steps;
  then the exploratory commands are sampled from the replay as it stands, and
  ``n_episodes_per_iter`` episodes are generated with them and added to the replay.
- **Exploration command.** Of the ``last_few`` best episodes in the replay: horizon =
  their mean length, desired return ~ U[M, M + S] with M, S the mean and std of their
  returns (one draw per episode, M and S fixed for the iteration). During an episode
  ``d_r -= r`` and ``d_h = max(d_h - 1, 1)`` after each step.
- **Evaluation command** (``eval_command``): M, the mean return of the ``last_few`` best
  episodes, with their mean length as horizon.

The horizon for a return command (``policy(command)``, used by the runner's evaluation
and command sweep): the length of the replay episode whose return is closest to the
command (ties: the longest), i.e. "as long as the agent has needed to get about that
return"; with the evaluation command it is the mean length of the ``last_few`` best.

Evaluation and sweeps follow the same rule: the policy is a
:class:`algorithms.base.RewardAwarePolicy` that sees the rewards of its episodes, so
``d_r -= r`` and ``d_h = max(d_h - 1, 1)`` after every step, per episode.

Command scales: the paper's (Srivastava et al.) ``return_scale``/``horizon_scale`` were
tuned for LunarLander-sized returns. Here they default to ``1 / (return range width)``
and ``1 / max_episode_steps`` of the env, so the command inputs are O(1) on every task.

Rollouts never touch autograd: the behaviour function's weights are copied into numpy
once per iteration, and the iteration's episodes run in lockstep on one environment each,
one batched numpy forward pass per step (``algorithms.common.run_episodes``). ``learn``
stops at the first iteration boundary at or after ``until_env_steps`` (it may overshoot by
less than one iteration: ``n_episodes_per_iter`` episodes; the warm-up's random episodes
form one batch). Before session 4 (2026-11-25) episodes ran one at a time and each drew its
command from the replay as updated by the iteration's earlier episodes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Literal

import numpy as np
import torch
from torch import nn

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy, RewardAwarePolicy
from algorithms.common import run_episodes

LOG_STD_MIN, LOG_STD_MAX = -5.0, 1.0


@dataclass
class UDRLConfig:
    """UDRL hyperparameters. Paper-tuned per env (PoliGen paper B.3): activation, lr, last_few."""

    activation: Literal["relu", "tanh"] = "relu"
    """Hidden nonlinearity (paper: ReLU on Swimmer/Hopper/MountainCar, tanh on InvertedPendulum)."""
    learning_rate: float = 1e-3
    """Adam learning rate (paper grid {1e-3, 1e-4, 1e-5}; Swimmer/InvertedPendulum 1e-3, others 1e-5)."""
    last_few: int = 10
    """Best episodes used for exploration/evaluation commands (paper grid {1, 10, 100})."""
    hidden_size: int = 256
    """Width of the two hidden layers (paper: 256)."""
    replay_size: int = 600
    """Episodes kept in the best-K replay (Srivastava et al.: a few hundred; 600)."""
    n_warm_up_episodes: int = 10
    """Uniform-random episodes before the first update (Srivastava et al.: 10-50)."""
    n_episodes_per_iter: int = 20
    """Exploration episodes per iteration (Srivastava et al.: 20)."""
    n_updates_per_iter: int = 100
    """Gradient steps per iteration (Srivastava et al.: 100-300)."""
    batch_size: int = 768
    """Training segments per gradient step (Srivastava et al.: 768)."""
    return_scale: float | None = None
    """Scale of the desired-return input; None = 1 / (return range width) of the env (else 0.01)."""
    horizon_scale: float | None = None
    """Scale of the desired-horizon input; None = 1 / max_episode_steps of the env."""

    def __post_init__(self) -> None:
        if self.activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {self.activation!r}")
        for name in ("learning_rate", "last_few", "hidden_size", "replay_size", "n_episodes_per_iter",
                     "n_updates_per_iter", "batch_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.n_warm_up_episodes < 1:
            raise ValueError(f"n_warm_up_episodes must be >= 1, got {self.n_warm_up_episodes}")
        for name in ("return_scale", "horizon_scale"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"{name} must be positive, got {v}")


class BehaviourFunction(nn.Module):
    """B(s, c): state embedding times sigmoid(linear(command)), one more hidden layer,
    then a Gaussian head (tanh-squashed mean, clamped log-std) in normalised action units."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int = 256, activation: str = "relu"):
        super().__init__()
        self.state_fc = nn.Linear(obs_dim, hidden)
        self.command_fc = nn.Linear(2, hidden)
        self.hidden_fc = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, 2 * act_dim)
        self.act = torch.tanh if activation == "tanh" else torch.relu
        self.act_dim = act_dim

    def forward(self, obs: torch.Tensor, command: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:return: (mean in [-1, 1], log_std), each (n, act_dim); ``command`` is already scaled."""
        x = self.act(self.state_fc(obs)) * torch.sigmoid(self.command_fc(command))
        x = self.act(self.hidden_fc(x))
        out = self.head(x)
        mean = torch.tanh(out[:, :self.act_dim])
        log_std = out[:, self.act_dim:].clamp(LOG_STD_MIN, LOG_STD_MAX)
        return mean, log_std


def _numpy_forward(params: list[np.ndarray], activation: str, obs: np.ndarray,
                   command: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The behaviour function in numpy (no autograd) for cheap per-step rollouts."""
    ws, bs, wc, bc, wh, bh, wo, bo = params
    act = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0.0))
    x = act(obs @ ws + bs) * (1.0 / (1.0 + np.exp(-(command @ wc + bc))))
    x = act(x @ wh + bh)
    out = x @ wo + bo
    k = out.shape[1] // 2
    return np.tanh(out[:, :k]), np.clip(out[:, k:], LOG_STD_MIN, LOG_STD_MAX)


def update_command(d_r: float | np.ndarray, d_h: float | np.ndarray, reward: float | np.ndarray):
    """The rollout command update: ``d_r -= r``, ``d_h = max(d_h - 1, 1)``."""
    return d_r - reward, np.maximum(d_h - 1, 1)


def trailing_segment_targets(rewards: list[np.ndarray], ep_idx: np.ndarray,
                             t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Commands of trailing segments: (return from ``t1`` to the episode's end, ``T - t1``)."""
    d_r = np.array([rewards[e][t:].sum() for e, t in zip(ep_idx, t1)], np.float64)
    d_h = np.array([len(rewards[e]) - t for e, t in zip(ep_idx, t1)], np.float64)
    return d_r, d_h


class CommandPolicy(RewardAwarePolicy):
    """UDRL's deterministic evaluation policy: the Gaussian mean under the command
    ``(d_r, d_h)``, which follows each episode's rewards (``d_r -= r``, ``d_h = max(d_h - 1, 1)``)."""

    def __init__(self, params: list[np.ndarray], activation: str, scale: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 d_r0: float, d_h0: float, low: np.ndarray, high: np.ndarray):
        self.params, self.activation, self.scale = params, activation, scale
        self.d_r0, self.d_h0, self.low, self.high = d_r0, d_h0, low, high
        self.reset(0)

    def reset(self, n: int) -> None:
        self.d_r, self.d_h = np.full(n, self.d_r0), np.full(n, self.d_h0)

    def act(self, obs: np.ndarray, idx: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, np.float64).reshape(len(idx), -1)
        mean, _ = _numpy_forward(self.params, self.activation, obs, self.scale(self.d_r[idx], self.d_h[idx]).astype(np.float64))
        return self.low + 0.5 * (mean + 1.0) * (self.high - self.low)

    def observe(self, rewards: np.ndarray, idx: np.ndarray) -> None:
        self.d_r[idx], self.d_h[idx] = update_command(self.d_r[idx], self.d_h[idx], rewards)


class UDRL(Algorithm):
    """Upside-Down RL with a best-K episode replay (see the module docstring)."""

    Config = UDRLConfig
    conditioning = "return"

    def __init__(self, make_env: EnvFactory, seed: int, config: UDRLConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        cfg = config
        self.envs: list = []  # one training env per episode of an iteration, made on first use
        space = env_info.action_space
        self.obs_dim = int(np.prod(env_info.observation_space.shape))
        self.act_dim = int(space.shape[0])
        self._low, self._high = space.low.astype(np.float64), space.high.astype(np.float64)
        rr = env_info.return_range
        self.return_scale = cfg.return_scale or (1.0 / (rr[1] - rr[0]) if rr else 0.01)
        self.horizon_scale = cfg.horizon_scale or 1.0 / max(1, env_info.max_episode_steps)
        self.rng = np.random.Generator(np.random.PCG64(seed))
        gen = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=gen)))
            self.net = BehaviourFunction(self.obs_dim, self.act_dim, cfg.hidden_size, cfg.activation)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.learning_rate)
        # replay: best-K episodes, kept sorted by return (descending)
        self.episodes: list[dict[str, np.ndarray]] = []
        self.episodes_done = 0
        self.last_loss = float("nan")
        self.last_train_return = float("nan")
        self.best_return = float("-inf")
        self._flat: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ replay
    def _add_episode(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray) -> None:
        ep = {"obs": obs.astype(np.float32), "actions": actions.astype(np.float32),
              "rewards": rewards.astype(np.float64), "ret": float(rewards.sum())}
        # insert after episodes with a higher or equal return (stable: older first among ties)
        pos = sum(1 for e in self.episodes if e["ret"] >= ep["ret"])
        self.episodes.insert(pos, ep)
        del self.episodes[self.config.replay_size:]
        self._flat = None
        self.episodes_done += 1
        self.last_train_return = ep["ret"]
        self.best_return = max(self.best_return, ep["ret"])

    def _flatten(self) -> dict[str, np.ndarray]:
        if self._flat is None:
            lengths = np.array([len(e["rewards"]) for e in self.episodes])
            suffix = [np.cumsum(e["rewards"][::-1])[::-1] for e in self.episodes]  # return from t to the end
            self._flat = {
                "obs": np.concatenate([e["obs"] for e in self.episodes]),
                "actions": np.concatenate([e["actions"] for e in self.episodes]),
                "to_go": np.concatenate(suffix),
                "lengths": lengths,
                "offsets": np.concatenate([[0], np.cumsum(lengths)[:-1]]),
            }
        return self._flat

    def sample_batch(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Trailing-segment training data: (obs (n, d), scaled command (n, 2), action (n, a))."""
        f = self._flatten()
        ep = self.rng.integers(len(self.episodes), size=n)
        t1 = (self.rng.random(n) * f["lengths"][ep]).astype(np.int64)
        idx = f["offsets"][ep] + t1
        d_r = f["to_go"][idx]
        d_h = (f["lengths"][ep] - t1).astype(np.float64)
        return f["obs"][idx], self._scale(d_r, d_h), f["actions"][idx]

    def _scale(self, d_r: np.ndarray, d_h: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(d_r) * self.return_scale, np.asarray(d_h) * self.horizon_scale],
                        axis=-1).astype(np.float32)

    def _best(self) -> tuple[np.ndarray, np.ndarray]:
        top = self.episodes[: self.config.last_few]
        return np.array([e["ret"] for e in top]), np.array([len(e["rewards"]) for e in top], np.float64)

    def exploration_commands(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` commands (d_r, d_h): horizon = mean length of the last_few best, d_r ~ U[M, M + S]."""
        rets, lens = self._best()
        m, s = float(rets.mean()), float(rets.std())
        return self.rng.uniform(m, m + s, n), np.full(n, float(lens.mean()))

    # ------------------------------------------------------------------ training
    def _train(self) -> None:
        self.net.train()
        for _ in range(self.config.n_updates_per_iter):
            obs, cmd, act = self.sample_batch(self.config.batch_size)
            mean, log_std = self.net(torch.from_numpy(obs), torch.from_numpy(cmd))
            target = torch.from_numpy(act)
            loss = (0.5 * ((target - mean) / log_std.exp()) ** 2 + log_std).sum(-1).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.last_loss = float(loss.detach())

    def _numpy_params(self) -> list[np.ndarray]:
        n = self.net
        return [p.detach().numpy().astype(np.float64).copy() for p in (
            n.state_fc.weight.T, n.state_fc.bias, n.command_fc.weight.T, n.command_fc.bias,
            n.hidden_fc.weight.T, n.hidden_fc.bias, n.head.weight.T, n.head.bias)]

    def _envs(self, n: int) -> list:
        while len(self.envs) < n:
            self.envs.append(self.make_env(remove_survival_bonus=False))
        return self.envs[:n]

    def _episodes(self, n: int, params: list[np.ndarray] | None) -> None:
        """``n`` training episodes in lockstep (one batched forward pass per step):
        uniform-random actions (params None) or exploration commands drawn once, from the
        replay as it is after the iteration's training (Srivastava et al., Algorithm 1)."""
        seeds = [int(s) for s in self.rng.integers(2**31, size=n)]
        if params is None:
            d_r, d_h = np.zeros(n), np.zeros(n)
        else:
            d_r, d_h = self.exploration_commands(n)
        obs_l = [[] for _ in range(n)]
        act_l = [[] for _ in range(n)]
        rew_l = [[] for _ in range(n)]

        def act(obs: np.ndarray, idx: np.ndarray) -> np.ndarray:
            o = np.asarray(obs, np.float64).reshape(len(idx), -1)
            if params is None:
                a = self.rng.uniform(-1.0, 1.0, (len(idx), self.act_dim))
            else:
                mean, log_std = _numpy_forward(params, self.config.activation, o,
                                               self._scale(d_r[idx], d_h[idx]).astype(np.float64))
                a = np.clip(mean + np.exp(log_std) * self.rng.standard_normal((len(idx), self.act_dim)), -1.0, 1.0)
            for j, i in enumerate(idx):
                obs_l[i].append(o[j])
                act_l[i].append(a[j])
            return self._low + 0.5 * (a + 1.0) * (self._high - self._low)

        def observe(rewards: np.ndarray, idx: np.ndarray) -> None:
            for j, i in enumerate(idx):
                rew_l[i].append(float(rewards[j]))
            d_r[idx], d_h[idx] = update_command(d_r[idx], d_h[idx], rewards)

        run_episodes(self._envs(n), act, seeds, observe=observe)
        self.env_steps += sum(len(r) for r in rew_l)
        for i in range(n):  # into the replay in episode order (ties: the earlier one first)
            self._add_episode(np.array(obs_l[i]), np.array(act_l[i]), np.array(rew_l[i]))

    def learn(self, until_env_steps: int) -> None:
        cfg = self.config
        while self.env_steps < until_env_steps:
            if self.episodes_done < cfg.n_warm_up_episodes:
                self._episodes(cfg.n_warm_up_episodes - self.episodes_done, None)
                continue
            self._train()
            self._episodes(cfg.n_episodes_per_iter, self._numpy_params())

    # ------------------------------------------------------------------ evaluation
    def eval_command(self) -> float | None:
        if not self.episodes:
            return 0.0
        return float(self._best()[0].mean())

    def _horizon_for(self, command: float) -> float:
        rets, lens = self._best()
        if np.isclose(command, rets.mean()):
            return float(lens.mean())
        all_rets = np.array([e["ret"] for e in self.episodes])
        all_lens = np.array([len(e["rewards"]) for e in self.episodes], np.float64)
        gap = np.abs(all_rets - command)
        return float(all_lens[gap == gap.min()].max())

    def policy(self, command: float | None = None) -> Policy:
        if command is None:
            command = self.eval_command()
        d_h0 = self._horizon_for(float(command)) if self.episodes else float(self.env_info.max_episode_steps)
        return CommandPolicy(self._numpy_params(), self.config.activation, self._scale, float(command), d_h0,
                             self._low, self._high)

    def training_stats(self) -> dict[str, float]:
        rets = [e["ret"] for e in self.episodes]
        return {
            "loss": self.last_loss,
            "episodes": float(self.episodes_done),
            "best_return": self.best_return if rets else float("nan"),
            "last_return": self.last_train_return,
        }

    # ------------------------------------------------------------------ checkpoint
    def state_dict(self) -> dict[str, Any]:
        return {
            "env_steps": self.env_steps,
            "net": copy.deepcopy(self.net.state_dict()),
            "opt": copy.deepcopy(self.opt.state_dict()),
            "episodes": [dict(e) for e in self.episodes],
            "counters": {"episodes_done": self.episodes_done, "last_loss": self.last_loss,
                         "last_train_return": self.last_train_return, "best_return": self.best_return},
            "rng": copy.deepcopy(self.rng.bit_generator.state),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.env_steps = state["env_steps"]
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.episodes = [dict(e) for e in state["episodes"]]
        self._flat = None
        for k, v in state["counters"].items():
            if k not in ("iter_pos", "iter_trained"):  # checkpoints of the one-episode-at-a-time version
                setattr(self, k, v)
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
