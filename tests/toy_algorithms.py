"""Tiny algorithms for runner tests (registered into ``algorithms.REGISTRY`` by the tests).

``Jumpy`` is episodic: each iteration runs whole 200-step Pendulum episodes, so with an
evaluation interval of 100 steps one ``learn()`` call passes two evaluation points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.base import Algorithm, Policy


@dataclass
class JumpyConfig:
    gain: float = 0.5


class Jumpy(Algorithm):
    """Toy episodic method: a linear policy nudged at random after each episode."""

    Config = JumpyConfig

    def __init__(self, make_env, seed, config, env_info):
        super().__init__(make_env, seed, config, env_info)
        self.env = make_env()
        self.rng = np.random.default_rng(seed)
        self.w = np.zeros(env_info.observation_space.shape[0], dtype=np.float32)
        self.episodes = 0

    def learn(self, until_env_steps: int) -> None:
        while self.env_steps < until_env_steps:
            self.env.reset(seed=int(self.rng.integers(2**31)))
            done = False
            while not done:
                _, _, term, trunc, _ = self.env.step(np.full(self.env.action_space.shape, 0.1, np.float32))
                self.env_steps += 1
                done = term or trunc
            self.w = self.w + self.config.gain * self.rng.standard_normal(self.w.shape).astype(np.float32)
            self.episodes += 1

    def policy(self, command: float | None = None) -> Policy:
        w, high = self.w.copy(), self.env_info.action_space.high
        return lambda obs: np.clip(np.asarray(obs) @ w[:, None], -high, high)

    def state_dict(self) -> dict[str, Any]:
        return {"w": self.w.copy(), "rng": self.rng.bit_generator.state, "env_steps": self.env_steps,
                "episodes": self.episodes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w = state["w"].copy()
        self.rng.bit_generator.state = state["rng"]
        self.env_steps, self.episodes = state["env_steps"], state["episodes"]
