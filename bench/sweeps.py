"""End-of-run sweeps for conditioned algorithms (not charged to the budget).

- Return-conditioned methods: ``sweep_points`` commands evenly spaced over the env's
  ``return_range``, ``sweep_episodes`` deterministic episodes each (paper Figure 4).
- Goal-conditioned methods: a fixed grid of goals (``bench.goal_sweep``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import gymnasium as gym
import numpy as np

from algorithms.base import Algorithm
from bench.evaluation import eval_seeds, run_policy

#: evaluation-index offset that keeps sweep reset seeds apart from the evaluation rounds'
SWEEP_INDEX_OFFSET = 100_000

if TYPE_CHECKING:  # type only: the protocol's code hash does not follow it
    from bench.config import EnvSettings


def command_sweep(algo: Algorithm, envs: list[gym.Env], settings: EnvSettings, seed: int) -> list[dict[str, Any]]:
    """Achieved return per commanded return, over the env's return range."""
    lo, hi = settings.return_range
    rows = []
    for j, command in enumerate(np.linspace(lo, hi, settings.sweep_points)):
        ep = run_policy(algo.policy(float(command)), envs, eval_seeds(seed, SWEEP_INDEX_OFFSET + j, len(envs)))
        rows.append({
            "command": float(command),
            "return_mean": float(np.mean(ep.returns)),
            "return_std": float(np.std(ep.returns)),
            "return_min": float(np.min(ep.returns)),
            "return_max": float(np.max(ep.returns)),
            "episodes": len(envs),
        })
    return rows


def run_sweep(algo: Algorithm, make_eval_env: Callable[[], gym.Env], settings: EnvSettings,
              seed: int) -> list[dict[str, Any]] | None:
    """The sweep suited to the algorithm, or None (unconditioned, or no return range)."""
    if algo.conditioning == "return" and settings.return_range is not None:
        envs = [make_eval_env() for _ in range(settings.sweep_episodes)]
        try:
            return command_sweep(algo, envs, settings, seed)
        finally:
            for e in envs:
                e.close()
    if algo.conditioning == "goal":
        try:
            from bench.goal_sweep import goal_sweep
        except ImportError:
            return None
        df = goal_sweep(algo, make_eval_env, seed)
        return None if df is None else df.to_dict("records")
    return None
