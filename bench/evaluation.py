"""The evaluation protocol, identical for every algorithm.

Evaluation runs ``episodes`` deterministic episodes of the algorithm's evaluation
policy on separate evaluation environments with the unmodified reward. Reset seeds
depend only on (run seed, evaluation index, episode), never on what happened before,
so an evaluation is reproducible and a resumed run evaluates exactly as an
uninterrupted one.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from algorithms.base import Policy, RewardAwarePolicy
from algorithms.common import Episodes, run_episodes

#: offset that keeps evaluation reset seeds apart from any training seed
EVAL_SEED_OFFSET = 1_000_000_007


def eval_seeds(run_seed: int, eval_index: int, episodes: int) -> list[int]:
    """Reset seeds of the evaluation episodes of round ``eval_index`` (deterministic)."""
    base = (EVAL_SEED_OFFSET + run_seed * 100_003 + eval_index * 1_009) % (2**31 - episodes)
    return [base + i for i in range(episodes)]


def eval_points(budget: int, interval: int) -> list[int]:
    """The nominal evaluation points of a run: 0, interval, 2 x interval, ..., budget.

    Every algorithm is evaluated once at each point (a ``budget`` that is not a multiple
    of ``interval`` is the last point), so curves and final windows line up across
    methods whatever their iteration length.
    """
    return list(range(0, budget, interval)) + [budget]


def final_window(rows: list[dict[str, Any]], window: int) -> tuple[list[dict[str, Any]], bool]:
    """The evaluation rows the final score averages, and whether the window is short.

    The last ``window`` points; when the run has no more than ``window`` points, all of
    them except the untrained evaluation at step 0 (then ``short`` is True and reports
    mark the cell).
    """
    if len(rows) > window:
        return rows[-window:], False
    return (rows[1:] or rows), True


def run_policy(policy: Policy, envs: list[gym.Env], seeds: list[int],
               reset_options: list[dict | None] | None = None) -> Episodes:
    """Run one episode per env with a batched deterministic policy (a
    :class:`RewardAwarePolicy` also sees the rewards of its episodes)."""
    if isinstance(policy, RewardAwarePolicy):
        policy.reset(len(envs))
        return run_episodes(envs, lambda obs, idx: np.asarray(policy.act(obs, idx)), seeds,
                            reset_options=reset_options, observe=policy.observe)
    return run_episodes(envs, lambda obs, idx: np.asarray(policy(obs)), seeds, reset_options=reset_options)


def summarize(ep: Episodes) -> dict[str, Any]:
    """The evaluation columns of a progress row."""
    row = {
        "eval_return_mean": float(np.mean(ep.returns)),
        "eval_return_std": float(np.std(ep.returns)),
        "eval_return_min": float(np.min(ep.returns)),
        "eval_return_max": float(np.max(ep.returns)),
        "eval_length_mean": float(np.mean(ep.lengths)),
        "eval_episode_steps": int(np.sum(ep.lengths)),
    }
    if ep.success is not None:
        init = np.maximum(ep.init_distance, 1e-8)
        row["success_rate"] = float(np.mean(ep.success))
        row["norm_distance_mean"] = float(np.mean(ep.final_distance / init))
    return row


def evaluate(policy: Policy, envs: list[gym.Env], run_seed: int, eval_index: int) -> dict[str, Any]:
    """One evaluation round: ``len(envs)`` episodes, summarised as a progress row."""
    ep = run_policy(policy, envs, eval_seeds(run_seed, eval_index, len(envs)))
    return summarize(ep)
