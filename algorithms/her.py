"""Hindsight Experience Replay (Andrychowicz et al. 2017) on stable-baselines3.

The learner is SB3's DDPG (default), TD3 or SAC with SB3's ``HerReplayBuffer``:
every stored transition is replayed, with probability ``1 - 1/(1 + n_sampled_goal)``,
with its desired goal replaced by a goal achieved later in the same episode
("future" strategy, 4 sampled goals as in the paper) and the reward recomputed by
the environment's vectorised ``compute_reward``.

The control is the same learner without HER (``use_her = false``, registered as
``ddpg_goal``): a plain replay buffer of dict observations with the environment's own
(sparse) reward.

Settings (HER paper, appendix A, where SB3 allows): actor and critic 256x256 ReLU
(the brief's "paper-like" size; the paper used 3x64), Adam lr 1e-3, batch 256,
gamma 0.98, polyak 0.95 (tau 0.05), Gaussian action noise 0.2 (of the maximum action),
one gradient step per environment step, 1000 uniform random steps before learning.
Not reproduced: observation normalisation, the action L2 penalty and the 0.3
probability of a uniformly random action of the original code.

Step accounting: ``train_freq=1`` step, one environment, so ``learn(n)`` stops exactly
at ``n`` steps, possibly mid-episode; ``state_dict`` stores the episode in progress
(see ``algorithms.sb3_common``) and resumes it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.sb3_common import sb3_load_state_dict, sb3_state_dict


@dataclass
class HERConfig:
    learner: str = "ddpg"
    """Off-policy learner under HER: "ddpg" (the paper's), "td3" or "sac"."""
    use_her: bool = True
    """Replay with hindsight goals; false = the plain-learner control (same everything else)."""
    n_sampled_goal: int = 4
    """Hindsight goals per real transition (paper: k = 4)."""
    goal_selection_strategy: str = "future"
    """Where hindsight goals come from: "future" (paper's best), "final" or "episode"."""
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 256])
    """Actor and critic hidden layers (ReLU)."""
    learning_rate: float = 1e-3
    """Adam step size of actor and critic (paper: 0.001)."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (paper: 10^6)."""
    batch_size: int = 256
    """Minibatch size (paper: 256)."""
    gamma: float = 0.98
    """Discount (paper: 0.98)."""
    tau: float = 0.05
    """Target-network soft-update rate (paper: polyak 0.95)."""
    action_noise: float = 0.2
    """Std of Gaussian exploration noise, as a fraction of the maximum action (paper: 0.2); ignored by SAC."""
    learning_starts: int = 1000
    """Uniform random actions and no updates before this many steps."""
    gradient_steps: int = 1
    """Gradient steps after every environment step."""

    def __post_init__(self) -> None:
        if self.learner not in ("ddpg", "td3", "sac"):
            raise ValueError(f"learner must be ddpg, td3 or sac, got {self.learner!r}")
        if self.goal_selection_strategy not in ("future", "final", "episode"):
            raise ValueError(f"goal_selection_strategy must be future, final or episode, got {self.goal_selection_strategy!r}")
        if self.n_sampled_goal < 1:
            raise ValueError("n_sampled_goal must be >= 1")
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ValueError("hidden_sizes must be positive integers")
        for name in ("learning_rate", "gamma", "tau"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if self.buffer_size < self.batch_size or self.batch_size < 1:
            raise ValueError("need 1 <= batch_size <= buffer_size")
        if self.action_noise < 0 or self.learning_starts < 0 or self.gradient_steps < 1:
            raise ValueError("action_noise and learning_starts must be >= 0, gradient_steps >= 1")


class HER(Algorithm):
    """SB3 DDPG/TD3/SAC + HerReplayBuffer (or the plain learner when ``use_her`` is false)."""

    Config: ClassVar[type] = HERConfig
    conditioning: ClassVar[str] = "goal"
    #: value forced on ``use_her`` by a registry alias (None = as configured)
    force_her: ClassVar[bool | None] = None

    def __init__(self, make_env: EnvFactory, seed: int, config: HERConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        from stable_baselines3 import DDPG, SAC, TD3, HerReplayBuffer
        from stable_baselines3.common.noise import NormalActionNoise
        from stable_baselines3.common.vec_env import DummyVecEnv

        c = config
        self.use_her = c.use_her if self.force_her is None else self.force_her
        self.rng = np.random.default_rng(seed)
        self.vec_env = DummyVecEnv([lambda: make_env()])
        act_dim = self.vec_env.action_space.shape[0]
        kwargs: dict[str, Any] = dict(
            learning_rate=c.learning_rate, buffer_size=c.buffer_size, batch_size=c.batch_size,
            gamma=c.gamma, tau=c.tau, learning_starts=c.learning_starts, train_freq=(1, "step"),
            gradient_steps=c.gradient_steps, policy_kwargs={"net_arch": list(c.hidden_sizes)},
            seed=int(self.rng.integers(2**31 - 1)), device="cpu", verbose=0,
        )
        if self.use_her:
            kwargs["replay_buffer_class"] = HerReplayBuffer
            kwargs["replay_buffer_kwargs"] = {"n_sampled_goal": c.n_sampled_goal,
                                              "goal_selection_strategy": c.goal_selection_strategy}
        if c.learner != "sac" and c.action_noise > 0:
            # SB3 adds the noise to the [-1, 1]-scaled action, so the std is a fraction of the max action
            kwargs["action_noise"] = NormalActionNoise(np.zeros(act_dim), c.action_noise * np.ones(act_dim))
        cls = {"ddpg": DDPG, "td3": TD3, "sac": SAC}[c.learner]
        self.model = cls("MultiInputPolicy", self.vec_env, **kwargs)
        # resets are seeded from our own generator (SB3 applies it at the first reset)
        self.vec_env.seed(int(self.rng.integers(2**31 - 1)))

    # ------------------------------------------------------------------ training
    def learn(self, until_env_steps: int) -> None:
        remaining = until_env_steps - self.model.num_timesteps
        if remaining > 0:
            self.model.learn(total_timesteps=remaining, reset_num_timesteps=False)
        self.env_steps = int(self.model.num_timesteps)

    # ------------------------------------------------------------------ evaluation
    def policy(self, command: float | None = None) -> Policy:
        model = self.model

        def act(obs: Any) -> np.ndarray:
            with torch.no_grad():
                actions, _ = model.predict({k: np.asarray(v) for k, v in obs.items()}, deterministic=True)
            return np.asarray(actions, np.float32)

        return act

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"sb3": sb3_state_dict(self.model), "rng": self.rng.bit_generator.state,
                "env_steps": self.env_steps, "use_her": self.use_her,
                "reset_seeds": list(self.vec_env._seeds)}

    def final_state(self) -> dict[str, Any]:
        """Networks, optimisers and counters, without the replay buffer."""
        return {"env_steps": self.env_steps, "use_her": self.use_her,
                "sb3": sb3_state_dict(self.model, include_buffer=False)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._load_model(state)
        self.vec_env._seeds = list(state["reset_seeds"])  # pending first-reset seed, if not used yet
        self.rng.bit_generator.state = state["rng"]

    def load_final_state(self, state: dict[str, Any]) -> None:
        """Read :meth:`final_state` (``model.pt``): networks, optimisers and counters; the replay
        buffer stays empty."""
        self._load_model(state)

    def _load_model(self, state: dict[str, Any]) -> None:
        if state["use_her"] != self.use_her:
            raise ValueError("checkpoint was written with a different use_her setting")
        sb3_load_state_dict(self.model, state["sb3"])
        self.env_steps = int(state["env_steps"])

    def training_stats(self) -> dict[str, float]:
        buf = list(self.model.ep_info_buffer or [])
        if not buf:
            return {}
        return {"episode_return": float(np.mean([e["r"] for e in buf[-10:]]))}


class DDPGGoal(HER):
    """The control: the same learner and settings on the goal env, without hindsight replay."""

    force_her = False
