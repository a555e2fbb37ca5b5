"""Goal sweep of a goal-conditioned algorithm (Figure 4 analogue for goal-conditioned methods).

A fixed grid of goals, the same for every algorithm and seed of an environment; the
algorithm's deterministic evaluation policy runs one episode per goal (and per start,
for envs with random starts) and the sweep records, per episode, the goal, the achieved
goal at the end, the initial and final distance, their ratio and success.

How the goal is set, per environment:

- envs exposing ``sweep_goals()`` (our ``Nav2D``): its grid of ``reset(options=...)``
  (9x9 goals over ``[-0.8, 0.8]^2``);
- gymnasium-robotics mazes (PointMaze, AntMaze): every free cell of the maze as
  ``options={"goal_cell": (row, col)}``, ``episodes_per_goal`` episodes each (the maze
  randomises the start cell and adds noise to the goal inside its cell);
- any other goal env: ``n_sampled_goals`` episodes with goals sampled by the env's own
  reset from fixed seeds (the goals are recorded, so the sweep is still reproducible).

Episodes are not charged to the training budget.
"""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym
import numpy as np
import pandas as pd

from algorithms.base import Algorithm
from bench.evaluation import eval_seeds, run_policy

#: evaluation-index offset keeping sweep reset seeds apart from evaluation rounds
GOAL_SWEEP_INDEX = 200_000


def goal_options(env: gym.Env, episodes_per_goal: int = 3, n_sampled_goals: int = 50) -> list[dict | None]:
    """The sweep's reset options for ``env`` (one entry per episode; None = env-sampled goal)."""
    u = env.unwrapped
    if hasattr(u, "sweep_goals"):
        return list(u.sweep_goals())
    maze = getattr(u, "maze", None)
    if maze is not None and hasattr(maze, "maze_map"):
        cells = [(i, j) for i, row in enumerate(maze.maze_map) for j, v in enumerate(row)
                 if v not in (1, "1")]
        return [{"goal_cell": np.array(c)} for c in cells for _ in range(episodes_per_goal)]
    return [None] * n_sampled_goals


def goal_sweep(algo: Algorithm, make_eval_env: Callable[[], gym.Env], seed: int,
               batch: int = 25) -> pd.DataFrame:
    """Run the goal grid with ``algo.policy()``; one row per episode.

    Columns: ``goal_index, goal_<i>, init_achieved_<i>, final_<i>`` (goal-space
    coordinates), ``init_distance, final_distance, norm_distance, success, return, length``.
    """
    probe = make_eval_env()
    options = goal_options(probe)
    probe.close()
    policy = algo.policy(algo.eval_command())
    seeds = eval_seeds(seed, GOAL_SWEEP_INDEX, len(options))
    rows: list[dict[str, Any]] = []
    envs = [make_eval_env() for _ in range(min(batch, len(options)))]
    try:
        for start in range(0, len(options), len(envs)):
            opts = options[start:start + len(envs)]
            used = envs[:len(opts)]
            goals: list[np.ndarray] = []
            inits: list[np.ndarray] = []

            class _Record(gym.Wrapper):
                """Remembers the goal and start of the episode (the env may sample them)."""

                def reset(self, **kw):
                    obs, info = self.env.reset(**kw)
                    goals.append(np.asarray(obs["desired_goal"], np.float64).copy())
                    inits.append(np.asarray(obs["achieved_goal"], np.float64).copy())
                    return obs, info

            ep = run_policy(policy, [_Record(e) for e in used], seeds[start:start + len(opts)], reset_options=opts)
            for k in range(len(opts)):
                g, a0, aT = goals[k], inits[k], np.asarray(ep.final_achieved[k], np.float64)
                row: dict[str, Any] = {"goal_index": start + k}
                row.update({f"goal_{i}": float(v) for i, v in enumerate(g)})
                row.update({f"init_achieved_{i}": float(v) for i, v in enumerate(a0)})
                row.update({f"final_{i}": float(v) for i, v in enumerate(aT)})
                d0, dT = float(ep.init_distance[k]), float(ep.final_distance[k])
                row.update({"init_distance": d0, "final_distance": dT, "norm_distance": dT / max(d0, 1e-8),
                            "success": float(ep.success[k]), "return": float(ep.returns[k]),
                            "length": int(ep.lengths[k])})
                rows.append(row)
    finally:
        for e in envs:
            e.close()
    return pd.DataFrame(rows)
