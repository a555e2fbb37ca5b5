"""Basic random search (Mania et al., 2018, "BRS"): a linear policy, ``n_directions``
antithetic perturbations per iteration, and a step along the return differences.

An example of an algorithm that lives outside the bench package. Installed
(``pip install -e examples/random_search``), it is found through the entry point
``random_search`` of the group ``bench.algorithms`` (see pyproject.toml); or name the class
in a benchmark.toml: ``[algos.my_rs] class = "bench_random_search:RandomSearch"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.base import Algorithm, Policy

__version__ = "0.1.0"


@dataclass
class RandomSearchConfig:
    step_size: float = 0.2
    """alpha: step along the mean return difference."""
    noise: float = 0.2
    """nu: standard deviation of the parameter perturbations."""
    n_directions: int = 4
    """perturbations per iteration (each evaluated + and -, one episode each)."""

    def __post_init__(self) -> None:
        if self.step_size <= 0 or self.noise <= 0 or self.n_directions < 1:
            raise ValueError("need step_size > 0, noise > 0, n_directions >= 1")


class RandomSearch(Algorithm):
    """Basic random search over linear policies (example plugin)."""

    Config = RandomSearchConfig

    def __init__(self, make_env, seed, config, env_info):
        super().__init__(make_env, seed, config, env_info)
        self.env = make_env(remove_survival_bonus=True)
        self.rng = np.random.default_rng(seed)
        space = env_info.action_space
        self.high, self.low = space.high.astype(np.float32), space.low.astype(np.float32)
        self.theta = np.zeros((env_info.observation_space.shape[0], space.shape[0]), np.float32)

    def _episode(self, theta: np.ndarray) -> float:
        obs, _ = self.env.reset(seed=int(self.rng.integers(2**31)))
        total, done = 0.0, False
        while not done:
            action = np.clip(obs.astype(np.float32) @ theta, self.low, self.high)
            obs, reward, term, trunc, _ = self.env.step(action)
            total += float(reward)
            self.env_steps += 1
            done = term or trunc
        return total

    def learn(self, until_env_steps: int) -> None:
        cfg = self.config
        while self.env_steps < until_env_steps:
            deltas = self.rng.standard_normal((cfg.n_directions, *self.theta.shape)).astype(np.float32)
            diffs = np.array([self._episode(self.theta + cfg.noise * d) - self._episode(self.theta - cfg.noise * d)
                              for d in deltas])
            scale = diffs.std() or 1.0
            self.theta += cfg.step_size / (cfg.n_directions * scale) * np.tensordot(diffs, deltas, axes=1)

    def policy(self, command: float | None = None) -> Policy:
        theta, low, high = self.theta.copy(), self.low, self.high
        return lambda obs: np.clip(np.asarray(obs, np.float32) @ theta, low, high)

    def state_dict(self) -> dict[str, Any]:
        return {"theta": self.theta.copy(), "rng": self.rng.bit_generator.state, "env_steps": self.env_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.theta = np.array(state["theta"], np.float32)
        self.rng.bit_generator.state = state["rng"]
        self.env_steps = int(state["env_steps"])
