"""DDPG: stable-baselines3's implementation, driven step-exactly by the bench runner.

The paper's DDPG baseline is the Spinning Up setup; we run SB3's ``DDPG`` configured to
match it (SPEC §4): actor and critic 256x256 ReLU, Adam lr 1e-3 for both, batch 128,
replay buffer 100k, gamma 0.99, Polyak 0.995 (``tau`` 0.005), Gaussian action noise,
10k uniform-random start steps, no learning before step 1000, then 50 gradient steps
after every 50 environment steps. Time-outs are not terminal: SB3's replay buffer keeps
``handle_timeout_termination=True``, so a TimeLimit truncation bootstraps.

Two places where we do not simply call ``model.learn``:

- **Random start steps vs learning start.** SB3 acts uniformly at random exactly while
  ``num_timesteps < learning_starts``, and learning starts there too. The reference acts
  randomly for 10k steps but learns from step 1000, so :class:`_SplitStartDDPG`
  overrides ``_sample_action`` to use its own ``random_steps`` threshold for the random
  phase while ``learning_starts`` (1000) gates the updates.
- **Step accounting.** ``learn(until_env_steps)`` drives ``collect_rollouts`` and
  ``train`` itself: it collects at most up to the next multiple of ``train_freq`` and
  never past ``until_env_steps``, and runs the ``gradient_steps`` updates whenever the
  global step count reaches a multiple of ``train_freq`` (after ``learning_starts``).
  The budget is therefore respected exactly and the update schedule does not depend on
  where the runner's evaluation points fall (so a resumed run trains like an
  uninterrupted one). No SB3 callback or EvalCallback is involved; the runner evaluates.

Action noise: SB3 adds noise in its normalised action space [-1, 1], so ``action_noise``
is a fraction of the half action range (0.1 = Spinning Up's 0.1 on the tasks whose
bounds are [-1, 1]; on InvertedPendulum, bounds [-3, 3], it is 0.3 in env units).

Randomness: SB3 draws from numpy's and torch's global generators (replay sampling,
the target-noise call) and from the action space's generator (random start actions);
the noise uses its own ``np.random.Generator``. ``learn`` swaps in this run's own global
generator states for its duration and swaps the caller's back afterwards, so the
runner's use of the global generators (evaluation) cannot change the training stream,
and :meth:`DDPG.state_dict` can capture every stream (global states via
:func:`algorithms.common.global_rng_state`). Checkpoints reuse
:func:`algorithms.sb3_common.sb3_state_dict` for the SB3 model (weights, optimisers,
counters, action noise with its generator, action-space generator, replay buffer) and the
training environment, saved mid-episode by :mod:`algorithms.env_state` (MuJoCo physics
via ``mj_getState``); DDPG adds its update-phase counter, its global generator streams
and the vec env's pending reset seeds.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from stable_baselines3 import DDPG as SB3DDPG
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit
from stable_baselines3.common.vec_env import DummyVecEnv

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.common import global_rng_state, set_global_rng_state
from algorithms.sb3_common import sb3_load_state_dict, sb3_state_dict


@dataclass
class DDPGConfig:
    """DDPG hyperparameters (Spinning Up values used by the paper; same for every env)."""

    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layers of actor and critic, ReLU (paper: 256x256)."""
    learning_rate: float = 1e-3
    """Adam learning rate of actor and critic (paper: 1e-3)."""
    batch_size: int = 128
    """Minibatch size per gradient step (paper table: 128)."""
    buffer_size: int = 100_000
    """Replay buffer capacity in transitions (paper table: 100k)."""
    gamma: float = 0.99
    """Discount factor (paper: 0.99)."""
    tau: float = 0.005
    """Target-network Polyak step, 1 - polyak (paper: polyak 0.995)."""
    action_noise: float = 0.1
    """Std of Gaussian exploration noise, as a fraction of the half action range (paper: 0.1)."""
    random_steps: int = 10_000
    """Uniform-random actions for this many initial steps (paper: start steps 10000)."""
    learning_starts: int = 1_000
    """No gradient updates before this many steps (paper: update after 1000)."""
    train_freq: int = 50
    """Environment steps between update phases (paper: update every 50)."""
    gradient_steps: int = 50
    """Gradient steps per update phase (paper: 50)."""

    def __post_init__(self) -> None:
        self.hidden_sizes = tuple(self.hidden_sizes)
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive integers, got {self.hidden_sizes}")
        for name in ("learning_rate", "batch_size", "buffer_size", "train_freq", "gradient_steps"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau}")
        if self.action_noise < 0:
            raise ValueError(f"action_noise must be >= 0, got {self.action_noise}")
        if self.random_steps < 0 or self.learning_starts < 0:
            raise ValueError("random_steps and learning_starts must be >= 0")


class SeededNormalActionNoise(ActionNoise):
    """Gaussian action noise drawing from its own ``np.random.Generator`` (SB3's uses the
    global numpy generator)."""

    def __init__(self, sigma: np.ndarray, rng: np.random.Generator):
        super().__init__()
        self.sigma = np.asarray(sigma, np.float64)
        self.rng = rng

    def __call__(self) -> np.ndarray:
        return (self.rng.standard_normal(self.sigma.shape) * self.sigma).astype(np.float32)


class _SplitStartDDPG(SB3DDPG):
    """SB3 DDPG whose uniform-random phase lasts ``random_steps`` (not ``learning_starts``)."""

    random_steps: int = 10_000

    def _sample_action(self, learning_starts: int, action_noise: ActionNoise | None = None,
                       n_envs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        return super()._sample_action(self.random_steps, action_noise, n_envs)


class _NoCallback(BaseCallback):
    def _on_step(self) -> bool:
        return True


class DDPG(Algorithm):
    """stable-baselines3 DDPG under the bench interface (see the module docstring)."""

    Config = DDPGConfig
    conditioning = None

    def __init__(self, make_env: EnvFactory, seed: int, config: DDPGConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        cfg = config
        rng = np.random.Generator(np.random.PCG64(seed))
        self._env = Monitor(make_env(remove_survival_bonus=False))
        self._vec = DummyVecEnv([lambda: self._env])
        act_dim = env_info.action_space.shape[0]
        self._noise = SeededNormalActionNoise(np.full(act_dim, cfg.action_noise), np.random.Generator(
            np.random.PCG64(rng.integers(2**63))))
        outer = global_rng_state()
        try:
            self.model = _SplitStartDDPG(
                "MlpPolicy", self._vec, learning_rate=cfg.learning_rate, buffer_size=cfg.buffer_size,
                learning_starts=cfg.learning_starts, batch_size=cfg.batch_size, tau=cfg.tau, gamma=cfg.gamma,
                train_freq=(cfg.train_freq, "step"), gradient_steps=cfg.gradient_steps, action_noise=self._noise,
                replay_buffer_kwargs={"handle_timeout_termination": True},
                policy_kwargs={"net_arch": list(cfg.hidden_sizes), "activation_fn": torch.nn.ReLU},
                seed=int(rng.integers(2**31)), device="cpu", verbose=0)
            self.model.random_steps = cfg.random_steps
            # first reset seeded from our generator; later resets continue the env's stream
            self._vec.seed(int(rng.integers(2**31)))
            self._rng_state = global_rng_state()  # this run's own global-generator streams
        finally:
            set_global_rng_state(outer)
        self._callback = _NoCallback()
        self._callback.init_callback(self.model)
        self._since_train = 0  # env steps collected since the last update phase
        self._time_sim = 0.0
        self._time_train = 0.0

    # ------------------------------------------------------------------ training
    def learn(self, until_env_steps: int) -> None:
        m, cfg = self.model, self.config
        if self.env_steps >= until_env_steps:
            return
        outer = global_rng_state()
        set_global_rng_state(self._rng_state)
        try:
            m._setup_learn(until_env_steps - m.num_timesteps, None, reset_num_timesteps=False)
            m._total_timesteps = until_env_steps
            while m.num_timesteps < until_env_steps:
                n = min(cfg.train_freq - self._since_train, until_env_steps - m.num_timesteps)
                t0 = time.perf_counter()
                m.collect_rollouts(self._vec, callback=self._callback,
                                   train_freq=TrainFreq(n, TrainFrequencyUnit.STEP),
                                   replay_buffer=m.replay_buffer, action_noise=m.action_noise,
                                   learning_starts=m.learning_starts, log_interval=None)
                t1 = time.perf_counter()
                self._time_sim += t1 - t0
                self._since_train += n
                self.env_steps = m.num_timesteps
                if self._since_train == cfg.train_freq:
                    self._since_train = 0
                    if m.num_timesteps > m.learning_starts:
                        m.train(batch_size=cfg.batch_size, gradient_steps=cfg.gradient_steps)
                        self._time_train += time.perf_counter() - t1
        finally:
            self._rng_state = global_rng_state()
            set_global_rng_state(outer)

    # ------------------------------------------------------------------ evaluation
    def policy(self, command: float | None = None) -> Policy:
        actor = copy.deepcopy(self.model.actor).eval()
        low = self.env_info.action_space.low.astype(np.float32)
        high = self.env_info.action_space.high.astype(np.float32)

        def act(obs: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                a = actor(torch.as_tensor(np.asarray(obs, np.float32))).numpy()  # tanh output in [-1, 1]
            return low + 0.5 * (a + 1.0) * (high - low)

        return act

    def training_stats(self) -> dict[str, float]:
        """Training episodes so far and the mean return of the last 10 (wall-clock splits of
        interaction vs updates are kept in ``_time_sim`` / ``_time_train``, not logged, so
        that progress rows stay reproducible)."""
        returns = self._env.get_episode_rewards()
        return {
            "episodes": float(len(returns)),
            "return_last10": float(np.mean(returns[-10:])) if returns else float("nan"),
        }

    # ------------------------------------------------------------------ checkpoint
    def state_dict(self) -> dict[str, Any]:
        """SB3 model, replay buffer and training env via :func:`sb3_state_dict` (the noise's
        generator travels inside the saved action-noise object), plus what the bench loop adds."""
        return {
            "env_steps": self.env_steps,
            "since_train": self._since_train,
            "timing": (self._time_sim, self._time_train),
            "sb3": sb3_state_dict(self.model),
            "global_rng": copy.deepcopy(self._rng_state),
            "vec_seeds": list(self._vec._seeds),
        }

    def final_state(self) -> dict[str, Any]:
        """Networks, optimisers and counters, without the replay buffer."""
        return {"env_steps": self.env_steps, "sb3": sb3_state_dict(self.model, include_buffer=False)}

    def load_final_state(self, state: dict[str, Any]) -> None:
        """Read :meth:`final_state` (``model.pt``): networks, optimisers and counters; the replay
        buffer stays empty and the global-generator streams are this instance's own."""
        self.env_steps = state["env_steps"]
        self._since_train = self.env_steps % self.config.train_freq  # update phases fall on multiples
        sb3_load_state_dict(self.model, state["sb3"])
        self._noise = self.model.action_noise

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.env_steps = state["env_steps"]
        self._since_train = state["since_train"]
        self._time_sim, self._time_train = state["timing"]
        sb3_load_state_dict(self.model, state["sb3"])
        self._noise = self.model.action_noise  # restored copy, generator state included
        self._rng_state = copy.deepcopy(state["global_rng"])
        self._vec._seeds = list(state["vec_seeds"])
