"""Synthetic run directories with the runner's layout, for tests and the report benchmark.

The curves are made up (a saturating learning curve plus seed noise); nothing here
trains anything. The layout follows ``runs/<env_id>/<algo>/seed_<k>/`` with
``config.json``, ``meta.json``, ``progress.csv``, ``final.json``, ``status.json`` and,
for return-conditioned algorithms, ``sweep.csv``.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from bench.evaluation import final_window as final_window_rows

#: (random-policy return, best return) used to shape the synthetic curves
SCALES: dict[str, tuple[float, float]] = {
    "Swimmer-v3": (0.0, 350.0),
    "Hopper-v3": (20.0, 2800.0),
    "InvertedPendulum-v2": (5.0, 1000.0),
    "MountainCarContinuous-v0": (-30.0, 95.0),
}
#: the fraction of the best return each synthetic algorithm reaches
SKILL: dict[str, float] = {"poligen": 0.9, "ars": 0.85, "ddpg": 0.5, "udrl": 0.3}
RETURN_CONDITIONED = {"poligen", "udrl"}


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def write_run(run_dir: Path, env_id: str, algo: str, seed: int, *, n_evals: int = 50,
              eval_interval: int = 1000, final_window: int = 20, skill: float | None = None,
              scale: tuple[float, float] | None = None, state: str = "done",
              goal: bool = False, sweep: bool | None = None, sweep_points: int = 11,
              success: float | None = None) -> Path:
    """Write one synthetic run directory.

    :param run_dir: the ``seed_<k>`` directory to create
    :param skill: fraction of the scale's best return reached at the end (default per algo)
    :param state: ``done`` (complete run), ``running`` (incomplete) or ``failed``
    :param goal: add ``success_rate`` / ``norm_distance_mean`` columns (goal environments)
    :param success: with ``goal``, the success rate of every evaluation after the one at
        step 0 (so the run's final success rate), instead of a learning curve
    :param sweep: write ``sweep.csv`` (default: for return-conditioned algorithms)
    """
    lo, hi = scale or SCALES.get(env_id, (0.0, 100.0))
    skill = SKILL.get(algo, 0.6) if skill is None else skill
    rng = _rng(env_id, algo, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    budget = (n_evals - 1) * eval_interval
    protocol = {"budget": budget, "eval_interval": eval_interval, "eval_episodes": 10,
                "final_window": final_window, "survival_bonus": 0.0, "return_range": [lo, hi],
                "sweep_episodes": 10, "sweep_points": sweep_points}
    (run_dir / "config.json").write_text(json.dumps(
        {"algo": algo, "env_id": env_id, "seed": seed, "protocol": protocol,
         "hyperparameters": {"synthetic": True}}, indent=1))
    (run_dir / "meta.json").write_text(json.dumps(
        {"gym_id": env_id, "versions": {"bench": "0.1.0", "numpy": np.__version__},
         "git_commit": "synthetic", "hostname": "synthetic", "python": "3.11"}, indent=1))

    n_done = n_evals if state == "done" else max(2, n_evals // 3)
    steps = np.arange(n_done) * eval_interval
    t = steps / max(budget, 1)
    seed_skill = skill * (1.0 + 0.05 * rng.standard_normal())
    mean = lo + (hi - lo) * seed_skill * (1.0 - np.exp(-5.0 * t)) + 0.03 * (hi - lo) * rng.standard_normal(n_done)
    mean[0] = lo + 0.01 * (hi - lo) * rng.standard_normal()
    std = np.abs(0.05 * (hi - lo) * (1 + rng.standard_normal(n_done) * 0.1))
    progress = pd.DataFrame({
        "eval_index": np.arange(n_done), "eval_step": steps, "env_steps": steps, "wall_time": steps / 5000.0,
        "eval_return_mean": mean, "eval_return_std": std, "eval_return_min": mean - 2 * std,
        "eval_return_max": mean + 2 * std, "eval_length_mean": 1000.0, "eval_env_steps": 10_000,
    })
    if goal:
        progress["success_rate"] = (np.clip(seed_skill * (1 - np.exp(-5.0 * t)), 0, 1) if success is None
                                    else np.where(steps > 0, success, 0.0))
        progress["norm_distance_mean"] = 1.0 - progress["success_rate"] * 0.9
    progress.to_csv(run_dir / "progress.csv", index=False)

    status = {"state": state, "env_steps": int(steps[-1]), "budget": budget}
    if state == "failed":
        status["error"] = "synthetic failure"
    (run_dir / "status.json").write_text(json.dumps(status))
    if state != "done":
        return run_dir
    # final.json as the runner writes it (bench.runner): the final window of bench.evaluation
    rows, short = final_window_rows(progress.to_dict("records"), final_window)
    final = {"final_return": float(np.mean([r["eval_return_mean"] for r in rows])), "final_window": len(rows),
             "short_window": short, "n_evals": n_done, "env_steps": int(steps[-1]),
             "eval_env_steps": int(progress["eval_env_steps"].iloc[-1]), "wall_time_s": float(steps[-1] / 5000.0),
             "last_return": float(mean[-1])}
    if goal:
        final["success_rate"] = float(np.mean([r["success_rate"] for r in rows]))
        final["norm_distance"] = float(np.mean([r["norm_distance_mean"] for r in rows]))
    (run_dir / "final.json").write_text(json.dumps(final))

    if goal and (sweep is None or sweep):  # goal sweep: a 5x5 grid of goals
        gx, gy = np.meshgrid(np.linspace(-0.8, 0.8, 5), np.linspace(-0.8, 0.8, 5))
        gx, gy = gx.ravel(), gy.ravel()
        p_success = np.clip(seed_skill * (1.2 - np.hypot(gx, gy)), 0, 1)
        success = (rng.random(gx.size) < p_success).astype(float)
        pd.DataFrame({"goal_index": np.arange(gx.size), "goal_0": gx, "goal_1": gy,
                      "init_distance": np.hypot(gx, gy) + 0.1,
                      "final_distance": (1 - 0.9 * success) * (np.hypot(gx, gy) + 0.1),
                      "norm_distance": 1 - 0.9 * success, "success": success, "return": -50 * (1 - success),
                      "length": 50}).to_csv(run_dir / "sweep.csv", index=False)
    elif sweep if sweep is not None else algo in RETURN_CONDITIONED:
        commands = np.linspace(lo, hi, sweep_points)
        reach = lo + (hi - lo) * seed_skill
        achieved = np.minimum(commands, reach) + 0.02 * (hi - lo) * rng.standard_normal(sweep_points)
        pd.DataFrame({"command": commands, "return_mean": achieved,
                      "return_std": 0.02 * (hi - lo), "return_min": achieved - 0.04 * (hi - lo),
                      "return_max": achieved + 0.04 * (hi - lo), "episodes": 10}
                     ).to_csv(run_dir / "sweep.csv", index=False)
    return run_dir


def write_benchmark(runs_dir: Path, envs: list[str], algos: list[str], seeds: int | list[int], *,
                    n_evals: int = 50, eval_interval: int = 1000, final_window: int = 20) -> int:
    """Write complete synthetic runs for every (env, algo, seed); returns the number written."""
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    count = 0
    for env_id in envs:
        for algo in algos:
            for seed in seed_list:
                write_run(Path(runs_dir) / env_id / algo / f"seed_{seed}", env_id, algo, seed,
                          n_evals=n_evals, eval_interval=eval_interval, final_window=final_window)
                count += 1
    return count
