"""A small continuous 2D navigation goal environment (pure numpy, no MuJoCo).

A point starts at the centre of the square ``[-1, 1]^2`` and moves by
``max_step * action`` per step (action in ``[-1, 1]^2``, clipped at the walls). Each
episode has a goal drawn uniformly from the square, at least ``min_goal_distance``
from the start (so the normalised distance ``||x_T - g|| / ||x_0 - g||`` is well defined).

Observations follow the gymnasium-robotics goal API: a dict with ``observation``
(the position), ``achieved_goal`` (the position) and ``desired_goal`` (the goal), and a
vectorised :meth:`NavEnv.compute_reward`. Episodes never terminate on success (as in
Fetch); the time limit (``max_episode_steps``, default 50) truncates them.

Registered ids:

- ``Nav2D-v0``: sparse reward, ``0`` when ``||x - g|| <= distance_threshold`` else ``-1``
- ``Nav2DDense-v0``: dense reward ``-||x - g||``

``info["is_success"]`` is 1.0 within ``distance_threshold`` (0.1) of the goal.

Extras used by the benchmark: ``reset(options={"goal": (x, y)})`` fixes the goal (goal
sweeps, GPIM's relabelled goals); ``reset(options={"start": (x, y)})`` fixes the start;
``get_state()`` / ``set_state()`` snapshot an episode in progress (exact resume);
``sweep_goals()`` is the fixed grid of goals of the goal sweep.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class NavEnv(gym.Env):
    """Point navigation to a goal in ``[-1, 1]^2``.

    :param reward_type: "sparse" (0 / -1) or "dense" (minus the distance)
    :param distance_threshold: success radius around the goal
    :param max_step: displacement per step at full action
    :param min_goal_distance: minimum distance of a sampled goal from the start
    :param random_start: draw the start uniformly from the square instead of the centre
    """

    metadata = {"render_modes": []}

    def __init__(self, reward_type: str = "sparse", distance_threshold: float = 0.1, max_step: float = 0.1,
                 min_goal_distance: float = 0.3, random_start: bool = False):
        if reward_type not in ("sparse", "dense"):
            raise ValueError(f"reward_type must be 'sparse' or 'dense', got {reward_type!r}")
        self.reward_type = reward_type
        self.distance_threshold = float(distance_threshold)
        self.max_step = float(max_step)
        self.min_goal_distance = float(min_goal_distance)
        self.random_start = bool(random_start)
        box = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self.pos = np.zeros(2, np.float64)
        self.goal = np.zeros(2, np.float64)

    # ------------------------------------------------------------------ goal API
    def compute_reward(self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None) -> np.ndarray:
        """Reward of achieved vs desired goals; works on single goals and on batches ``(n, 2)``."""
        d = np.linalg.norm(np.asarray(achieved_goal, np.float64) - np.asarray(desired_goal, np.float64), axis=-1)
        if self.reward_type == "sparse":
            return -(d > self.distance_threshold).astype(np.float32)
        return (-d).astype(np.float32)

    def compute_terminated(self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None) -> bool:
        return False

    def compute_truncated(self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None) -> bool:
        return False

    # ------------------------------------------------------------------ gym API
    def _obs(self) -> dict[str, np.ndarray]:
        p = self.pos.astype(np.float32)
        return {"observation": p.copy(), "achieved_goal": p.copy(), "desired_goal": self.goal.astype(np.float32)}

    def _info(self) -> dict[str, Any]:
        d = float(np.linalg.norm(self.pos - self.goal))
        return {"is_success": float(d <= self.distance_threshold), "distance": d}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "start" in options:
            self.pos = np.clip(np.asarray(options["start"], np.float64), -1.0, 1.0)
        elif self.random_start:
            self.pos = self.np_random.uniform(-1.0, 1.0, size=2)
        else:
            self.pos = np.zeros(2)
        if "goal" in options:
            self.goal = np.clip(np.asarray(options["goal"], np.float64), -1.0, 1.0)
        else:
            while True:
                g = self.np_random.uniform(-1.0, 1.0, size=2)
                if np.linalg.norm(g - self.pos) >= self.min_goal_distance:
                    break
            self.goal = g
        return self._obs(), self._info()

    def step(self, action):
        a = np.clip(np.asarray(action, np.float64).reshape(2), -1.0, 1.0)
        self.pos = np.clip(self.pos + self.max_step * a, -1.0, 1.0)
        obs = self._obs()
        info = self._info()
        reward = float(self.compute_reward(obs["achieved_goal"], obs["desired_goal"], info))
        return obs, reward, False, False, info

    # ------------------------------------------------------------------ benchmark extras
    def get_state(self) -> dict[str, Any]:
        """Snapshot of the episode in progress (position, goal, RNG)."""
        return {"pos": self.pos.copy(), "goal": self.goal.copy(), "np_random": self.np_random.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> None:
        self.pos = np.array(state["pos"], np.float64)
        self.goal = np.array(state["goal"], np.float64)
        self.np_random.bit_generator.state = state["np_random"]

    def sweep_goals(self) -> list[dict[str, Any]]:
        """The goal sweep's fixed grid: reset options for a 9x9 grid over [-0.8, 0.8]^2 (start excluded)."""
        xs = np.linspace(-0.8, 0.8, 9)
        out = []
        for y in xs:
            for x in xs:
                if np.hypot(x, y) >= 1e-9:
                    out.append({"goal": (float(x), float(y))})
        return out


for _id, _kw in (("Nav2D-v0", {"reward_type": "sparse"}), ("Nav2DDense-v0", {"reward_type": "dense"})):
    if _id not in gym.registry:
        gym.register(id=_id, entry_point="envs.nav:NavEnv", max_episode_steps=50, kwargs=_kw)
