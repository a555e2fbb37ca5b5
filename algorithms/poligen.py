"""PoliGen (Faccio et al., "Goal-Conditioned Generators of Deep Policies"; public code
IDSIA/GoGePo): a return-conditioned hypernetwork that generates deep policies.

Algorithm 1 of the paper, one episode per iteration:

1. command ``c`` = best training return so far + ``command_drive`` (20); the first
   episode uses ``first_command`` (1);
2. ``theta = G(c * command_scale) + param_noise * N(0, I)`` (generated once per episode,
   no autograd), run one episode with the numpy tanh MLP ``theta``;
3. store ``(theta, return)`` in a buffer of the ``buffer_size`` (10k) newest episodes;
4. ``evaluator_updates`` (5) Adam steps on ``E[(r - V(theta))^2]`` over batches of 16
   drawn with recency weights ``(1/k)^1.1`` (``k = 1`` the newest episode);
5. ``generator_updates`` (20) Adam steps on ``E[(r - V(G(r * command_scale)))^2]``, ``r``
   the returns of a recency-weighted batch, evaluator frozen.

Networks (``algorithms.poligen_nets``): hypernetwork generator with 16x16 slices,
slice embeddings of dim 8, shared 2x256 ReLU slice MLPs for hidden layers and
dedicated ones for the input / output layers, bias heads averaged over the input-slice
axis, outputs scaled by ``2 / sqrt(fan_in)``; fingerprinting evaluator with 200 learnable
probing states and a 2x256 ReLU MLP.

Evaluation (runner): ``eval_command()`` = best training return so far, no parameter
noise. ``policy(c)`` generates ``theta = G(c * command_scale)`` for any command (the
runner's command sweep calls it over the env's return range).

Where paper and public code differ, the paper is the default and the code's choice a
hyperparameter:

- updates per episode: paper 5 / 20; the code loops ``range(1, 5)`` / ``range(1, 20)``,
  i.e. 4 / 19 (``evaluator_updates``, ``generator_updates``);
- first command: Algorithm 1 initialises ``c = 0``, the code uses 1 (``first_command``;
  default 1 as the SPEC asks; it only matters for the very first episode).

Details the paper leaves open, taken from the public code:

- command scaling: the command enters G as ``c / (rew_max - rew_min)`` (no shift),
  ``rew_min, rew_max`` the env's return range (benchmark.toml ``return_range``);
  ids without a range use the code's default range ``[0, 3000]``;
- probing states are policy inputs, i.e. they live in normalised-observation space and
  are not normalised themselves; probing actions are tanh outputs mapped to the action
  box (the code's ``act_lim`` scaling);
- generator targets ``r`` are drawn from the buffer with the same recency weights; a
  batch is ``min(16, buffer size)`` draws with replacement; the evaluator is fit to raw
  (unscaled) returns; the evaluator and the generator are updated after every episode,
  the first included;
- parameter noise is added to every generated weight and bias after output scaling;
- observation normalisation statistics include the first episode's observations but
  are applied from the second episode on (and in evaluation once one episode is done).

Deviations (for speed or the common runner), none changing the method:

- the observation statistics are merged once per episode (frozen within an episode,
  like ARS V2) instead of per step; an episode therefore always runs one fixed policy;
- duplicate draws in a batch (sampling is with replacement) are computed once and
  weighted by their multiplicity: the loss and its gradient are the same function.

Randomness: networks are initialised from ``torch.manual_seed(seed)`` inside a forked
torch RNG; everything else (noise, batches, env reset seeds) comes from one
``np.random.Generator(seed)`` whose state is checkpointed. Episodes are never split
across ``learn`` calls, so no environment state needs saving.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.common import MLPLayout, RunningMeanStd, mlp_forward
from algorithms.poligen_nets import FingerprintEvaluator, HyperGenerator

#: the public code's default return range, used for ids without one
DEFAULT_RETURN_RANGE = (0.0, 3000.0)


@dataclass
class PoliGenConfig:
    """PoliGen hyperparameters (defaults: the paper's appendix B, same for every env)."""

    hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden widths of the generated tanh MLP policy (multiples of slice_size)."""
    slice_size: int = 16
    """f: generated weight matrices are cut into f x f slices."""
    embedding_dim: int = 8
    """size of each slice's learned embedding z (N(0, 1) init)."""
    hypernet_hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden widths of the slice MLPs H (ReLU)."""
    output_scale: float = 2.0
    """generated weights and biases are multiplied by output_scale / sqrt(fan_in)."""
    scale_output: bool = True
    """False: generated weights are used unscaled (public code ``scale_layer_out=False``; the
    "no scale" ablation of the paper's Figure 7)."""
    n_probing_states: int = 200
    """learnable probing states of the fingerprinting evaluator (uniform [0, 1) init)."""
    evaluator_hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden widths of the evaluator MLP U over the probing actions (ReLU)."""
    param_noise: float = 0.1
    """standard deviation of the Gaussian noise added to generated parameters in training."""
    buffer_size: int = 10_000
    """replay buffer of (theta, return): the newest this many episodes."""
    recency_exponent: float = 1.1
    """buffer sampling weight (1/k)^exponent, k = 1 for the newest episode (0 = uniform)."""
    batch_size: int = 16
    """batch size of evaluator and generator updates."""
    evaluator_updates: int = 5
    """evaluator Adam steps per episode (paper 5; public code 4)."""
    generator_updates: int = 20
    """generator Adam steps per episode (paper 20; public code 19)."""
    lr_generator: float = 2e-6
    """Adam learning rate of the generator."""
    lr_evaluator: float = 5e-3
    """Adam learning rate of the evaluator (MLP and probing states)."""
    command_drive: float = 20.0
    """training command = best training return so far + this ("drive")."""
    first_command: float = 1.0
    """command of the first episode (and evaluation command before any episode)."""
    return_range: tuple[float, ...] = ()
    """(min, max) used to scale commands by 1/(max - min); empty = the env's return_range."""
    normalize_observations: bool = True
    """running mean/std observation normalisation (from the second episode on)."""
    remove_survival_bonus: bool = True
    """train on r - bonus on survival-bonus envs (Hopper); evaluation is unmodified."""

    def __post_init__(self) -> None:
        self.hidden_sizes = tuple(self.hidden_sizes)
        self.hypernet_hidden_sizes = tuple(self.hypernet_hidden_sizes)
        self.evaluator_hidden_sizes = tuple(self.evaluator_hidden_sizes)
        self.return_range = tuple(float(x) for x in self.return_range)
        if not self.hidden_sizes:
            raise ValueError("hidden_sizes: the generated policy needs at least one hidden layer")
        if self.slice_size < 1 or any(h < 1 or h % self.slice_size for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes {self.hidden_sizes} must be positive multiples of slice_size {self.slice_size}")
        for name in ("embedding_dim", "n_probing_states", "buffer_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.evaluator_updates < 0 or self.generator_updates < 0:
            raise ValueError("evaluator_updates and generator_updates must be >= 0")
        if self.param_noise < 0 or self.recency_exponent < 0 or self.output_scale <= 0:
            raise ValueError("need param_noise >= 0, recency_exponent >= 0, output_scale > 0")
        if self.lr_generator <= 0 or self.lr_evaluator <= 0:
            raise ValueError("learning rates must be positive")
        if self.return_range and (len(self.return_range) != 2 or self.return_range[1] <= self.return_range[0]):
            raise ValueError(f"return_range must be empty or [min, max] with min < max, got {list(self.return_range)}")


def _keep_freed_memory() -> None:
    """Let glibc keep large freed blocks: the updates allocate and free ~5 MB tensors many
    times per episode, and returning them to the OS each time costs page faults (~20%)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 1024 * 1024)   # M_MMAP_THRESHOLD (glibc maximum)
        libc.mallopt(-1, 512 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


class ReplayBuffer:
    """The newest ``capacity`` (theta, return) pairs, sampled with recency weights.

    Rows are kept in a float32 array grown on demand (a 256x256 policy is ~270 kB).
    """

    def __init__(self, capacity: int, n_params: int, exponent: float):
        self.capacity, self.n_params, self.exponent = capacity, n_params, exponent
        self.thetas = np.zeros((min(capacity, 64), n_params), np.float32)
        self.returns = np.zeros(capacity, np.float64)
        self.ptr = 0   # next row to write
        self.size = 0
        self._weights = np.arange(1, capacity + 1, dtype=np.float64) ** -exponent

    def add(self, theta: np.ndarray, ret: float) -> None:
        if self.ptr >= len(self.thetas):  # grow (only before the buffer first fills)
            grown = np.zeros((min(self.capacity, 2 * len(self.thetas)), self.n_params), np.float32)
            grown[: len(self.thetas)] = self.thetas
            self.thetas = grown
        self.thetas[self.ptr] = theta
        self.returns[self.ptr] = ret
        self.ptr = (self.ptr + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def probabilities(self) -> np.ndarray:
        """Sampling probability of each age k = 1..size (k = 1 the newest)."""
        w = self._weights[: self.size]
        return w / w.sum()

    def sample(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Row indices of ``min(batch_size, size)`` draws with replacement."""
        ages = rng.choice(self.size, size=min(batch_size, self.size), p=self.probabilities())  # 0 = newest
        return (self.ptr - 1 - ages) % self.capacity

    def ordered(self) -> tuple[np.ndarray, np.ndarray]:
        """(thetas, returns) from the oldest to the newest."""
        idx = (self.ptr - self.size + np.arange(self.size)) % self.capacity
        return self.thetas[idx], self.returns[idx]

    def state_dict(self) -> dict[str, Any]:
        """Rows in storage order, as zero-copy tensors (10k policies are 2.7 GB; torch.save
        writes tensor storage without the extra copy numpy pickling makes)."""
        return {"thetas": torch.from_numpy(self.thetas[: self.size]),
                "returns": torch.from_numpy(self.returns[: self.size]), "ptr": self.ptr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        thetas, returns = np.asarray(state["thetas"]), np.asarray(state["returns"])
        self.thetas = np.zeros((max(len(thetas), min(self.capacity, 64)), self.n_params), np.float32)
        self.returns = np.zeros(self.capacity, np.float64)
        self.thetas[: len(thetas)] = thetas
        self.returns[: len(thetas)] = returns
        self.size = len(thetas)
        # older checkpoints stored the rows oldest-first, without the pointer
        self.ptr = int(state["ptr"]) if "ptr" in state else self.size % self.capacity


def _unique_weights(idx: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    """Unique entries of a batch with replacement and their share of the batch."""
    uniq, counts = np.unique(idx, return_counts=True)
    return uniq, torch.as_tensor(counts / counts.sum(), dtype=torch.float32)


class PoliGen(Algorithm):
    """PoliGen: return-conditioned generator of deep policies (Algorithm 1 of the paper)."""

    Config = PoliGenConfig
    conditioning = "return"

    def __init__(self, make_env: EnvFactory, seed: int, config: PoliGenConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        _keep_freed_memory()
        cfg = config
        obs_dim = int(np.prod(env_info.observation_space.shape))
        act_dim = int(np.prod(env_info.action_space.shape))
        self.layout = MLPLayout(obs_dim, act_dim, tuple(cfg.hidden_sizes))
        low, high = env_info.action_space.low, env_info.action_space.high
        self.act_scale = ((high - low) / 2.0).astype(np.float32)
        self.act_centre = ((high + low) / 2.0).astype(np.float32)
        lo, hi = cfg.return_range or env_info.return_range or DEFAULT_RETURN_RANGE
        #: commands enter the generator multiplied by this (public code: / (rew_max - rew_min))
        self.command_scale = 1.0 / (float(hi) - float(lo))

        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.generator = HyperGenerator(self.layout, cfg.slice_size, cfg.embedding_dim,
                                            cfg.hypernet_hidden_sizes,
                                            cfg.output_scale if cfg.scale_output else None)
            self.evaluator = FingerprintEvaluator(self.layout, cfg.n_probing_states, cfg.evaluator_hidden_sizes,
                                                  self.act_scale, self.act_centre)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_generator)
        self.opt_v = torch.optim.Adam(self.evaluator.parameters(), lr=cfg.lr_evaluator)

        self.rng = np.random.default_rng(seed)
        self.buffer = ReplayBuffer(cfg.buffer_size, self.layout.n_params, cfg.recency_exponent)
        self.obs_rms = RunningMeanStd((obs_dim,))
        self.env = make_env(remove_survival_bonus=cfg.remove_survival_bonus)
        self.episodes = 0
        self.best_return = -np.inf
        self.last_return = np.nan
        self.last_command = np.nan
        self.loss_v = np.nan
        self.loss_g = np.nan

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(self, commands: np.ndarray | list[float]) -> np.ndarray:
        """Mean parameters G(c) (n, n_params) float32 for raw return commands ``c`` (no noise)."""
        c = torch.as_tensor(np.asarray(commands, np.float64) * self.command_scale, dtype=torch.float32)
        return self.generator(c.reshape(-1)).numpy()

    def _normalizer(self) -> tuple[np.ndarray, np.ndarray]:
        """(shift, scale) of the observation normalisation in force now (identity before episode 2)."""
        if not self.config.normalize_observations or self.episodes == 0:
            d = self.layout.obs_dim
            return np.zeros(d, np.float32), np.ones(d, np.float32)
        return self.obs_rms.affine()

    def _train_command(self) -> float:
        return self.config.first_command if self.episodes == 0 else self.best_return + self.config.command_drive

    # ------------------------------------------------------------------ one episode
    def _run_episode(self, theta: np.ndarray) -> tuple[float, int, np.ndarray]:
        layers = self.layout.unflatten(theta)
        shift, scale = self._normalizer()
        obs, _ = self.env.reset(seed=int(self.rng.integers(0, 2**31 - 1)))
        visited, ret, n = [], 0.0, 0
        while True:
            o = np.asarray(obs, np.float32).reshape(-1)
            visited.append(o)
            a = mlp_forward(layers, ((o - shift) * scale)[None])[0] * self.act_scale + self.act_centre
            obs, r, term, trunc, _ = self.env.step(a)
            ret += float(r)
            n += 1
            if term or trunc:
                return ret, n, np.stack(visited)

    def _update_evaluator(self) -> float:
        uniq, w = _unique_weights(self.buffer.sample(self.rng, self.config.batch_size))
        theta = torch.from_numpy(self.buffer.thetas[uniq])
        r = torch.as_tensor(self.buffer.returns[uniq], dtype=torch.float32)
        loss = (w * (self.evaluator(theta) - r) ** 2).sum()
        self.opt_v.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_v.step()
        return float(loss.detach())

    def _update_generator(self) -> float:
        idx = self.buffer.sample(self.rng, self.config.batch_size)
        r_all = self.buffer.returns[idx]
        r_uniq, counts = np.unique(r_all, return_counts=True)  # same return -> same G(r)
        w = torch.as_tensor(counts / counts.sum(), dtype=torch.float32)
        r = torch.as_tensor(r_uniq, dtype=torch.float32)
        c = torch.as_tensor(r_uniq * self.command_scale, dtype=torch.float32)
        loss = (w * (self.evaluator(self.generator(c)) - r) ** 2).sum()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return float(loss.detach())

    def _iteration(self) -> None:
        cfg = self.config
        command = self._train_command()
        theta = self.generate([command])[0]
        if cfg.param_noise > 0:
            theta = theta + cfg.param_noise * self.rng.standard_normal(theta.shape, dtype=np.float32)
        ret, length, visited = self._run_episode(theta)
        self.env_steps += length
        if cfg.normalize_observations:
            self.obs_rms.update(visited)
        self.buffer.add(theta, ret)
        self.episodes += 1
        self.best_return = max(self.best_return, ret)
        self.last_return, self.last_command = ret, command

        for _ in range(cfg.evaluator_updates):
            self.loss_v = self._update_evaluator()
        params = list(self.evaluator.parameters())
        for p in params:  # evaluator frozen: gradients flow through it to the generator only
            p.requires_grad_(False)
        try:
            for _ in range(cfg.generator_updates):
                self.loss_g = self._update_generator()
        finally:
            for p in params:
                p.requires_grad_(True)

    def learn(self, until_env_steps: int) -> None:
        while self.env_steps < until_env_steps:
            self._iteration()

    # ------------------------------------------------------------------ evaluation
    def eval_command(self) -> float:
        """Best training return so far (the first command before any episode)."""
        return float(self.best_return) if self.episodes else float(self.config.first_command)

    def policy(self, command: float | None = None) -> Policy:
        c = self.eval_command() if command is None else float(command)
        layers = self.layout.unflatten(self.generate([c])[0])
        shift, scale = self._normalizer()
        act_scale, act_centre = self.act_scale, self.act_centre

        def act(obs: np.ndarray) -> np.ndarray:
            x = (np.asarray(obs, np.float32).reshape(len(obs), -1) - shift) * scale
            return mlp_forward(layers, x) * act_scale + act_centre

        return act

    def training_stats(self) -> dict[str, float]:
        best = float(self.best_return) if self.episodes else float("nan")
        return {"episodes": self.episodes, "best_return": best,
                "last_return": float(self.last_return), "last_command": float(self.last_command),
                "loss_evaluator": float(self.loss_v), "loss_generator": float(self.loss_g)}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(), "evaluator": self.evaluator.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_v": self.opt_v.state_dict(),
            "buffer": self.buffer.state_dict(), "obs_rms": self.obs_rms.state_dict(),
            "rng": self.rng.bit_generator.state, "env_steps": self.env_steps, "episodes": self.episodes,
            "best_return": self.best_return, "last_return": self.last_return,
            "last_command": self.last_command, "loss_v": self.loss_v, "loss_g": self.loss_g,
        }

    def final_state(self) -> dict[str, Any]:
        """Networks, normaliser and counters; the buffer keeps its returns, not its policies."""
        state = self.state_dict()
        state["buffer"] = {"returns": state["buffer"]["returns"].clone()}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.evaluator.load_state_dict(state["evaluator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_v.load_state_dict(state["opt_v"])
        if "thetas" in state["buffer"]:  # a finished run's model.pt has none: it acts, it does not resume
            self.buffer.load_state_dict(state["buffer"])
        self.obs_rms.load_state_dict(state["obs_rms"])
        self.rng.bit_generator.state = state["rng"]
        for key in ("env_steps", "episodes", "best_return", "last_return", "last_command", "loss_v", "loss_g"):
            setattr(self, key, state[key])

    # ------------------------------------------------------------------ artifacts
    @torch.no_grad()
    def probing_snapshot(self, commands: np.ndarray) -> dict[str, np.ndarray]:
        """Probing actions (on the current probing states) of the buffer policies and of
        the generated policies for ``commands``, with returns and evaluator predictions."""
        thetas, returns = self.buffer.ordered()
        chunks, values = [], []
        for i in range(0, len(thetas), 256):
            t = torch.from_numpy(thetas[i:i + 256])
            pa = self.evaluator.probing_actions(t)
            chunks.append(pa.numpy())
            values.append(self.evaluator.net(pa).squeeze(-1).numpy())
        gen = torch.from_numpy(self.generate(commands)) if len(commands) else torch.zeros(0, self.layout.n_params)
        gen_pa = self.evaluator.probing_actions(gen)
        n_pa = self.config.n_probing_states * self.layout.act_dim
        return {
            "probing_states": self.evaluator.probing_states.numpy().copy(),
            "buffer_probing_actions": np.concatenate(chunks) if chunks else np.zeros((0, n_pa), np.float32),
            "buffer_returns": returns.astype(np.float64),
            "buffer_predicted": np.concatenate(values) if values else np.zeros(0, np.float32),
            "buffer_episode": np.arange(self.episodes - len(thetas), self.episodes),
            "commands": np.asarray(commands, np.float64),
            "generated_probing_actions": gen_pa.numpy(),
            "generated_predicted": self.evaluator.net(gen_pa).squeeze(-1).numpy(),
        }

    def write_artifacts(self, run_dir: Path) -> None:
        """``probing.npz``: the probing-action snapshot for a Figure 3-style PCA plot.

        Generated policies use the sweep's commands (and achieved returns) from
        ``sweep.csv`` when the runner wrote one, else ``sweep_points`` commands over the
        return range of ``config.json``.
        """
        run_dir = Path(run_dir)
        commands, achieved = None, None
        sweep = run_dir / "sweep.csv"
        if sweep.exists():
            import pandas as pd

            df = pd.read_csv(sweep)
            if {"command", "return_mean"} <= set(df.columns) and len(df):
                commands, achieved = df["command"].to_numpy(float), df["return_mean"].to_numpy(float)
        if commands is None:
            lo, hi = self.env_info.return_range or DEFAULT_RETURN_RANGE
            points = 21
            cfg_file = run_dir / "config.json"
            if cfg_file.exists():
                proto = json.loads(cfg_file.read_text()).get("protocol", {})
                points = int(proto.get("sweep_points") or points)
                if proto.get("return_range"):
                    lo, hi = proto["return_range"]
            commands = np.linspace(lo, hi, points)
        snap = self.probing_snapshot(commands)
        snap["generated_achieved_return"] = (np.full(len(commands), np.nan) if achieved is None else achieved)
        tmp = run_dir / "probing.tmp.npz"
        np.savez_compressed(tmp, **snap)
        tmp.replace(run_dir / "probing.npz")
