"""Summarise goal-conditioned runs: per algo and seed, success rate and normalised distance
(last evaluation, and mean of the last 3), beside a uniform-random policy evaluated on the
same evaluation episodes (same reset seeds as the last evaluation round).

Usage: python scripts/goal_summary.py RUNS_DIR ENV_ID
"""
import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.evaluation import evaluate
from envs.registry import make_env

runs, env_id = Path(sys.argv[1]), sys.argv[2]
rows = []
for d in sorted((runs / env_id).glob("*/seed_*")):
    p = pd.read_csv(d / "progress.csv")
    seed = int(d.name.split("_")[1])
    last = p.iloc[-1]
    envs = [make_env(env_id) for _ in range(int(len(p) and 20))]
    rng = np.random.default_rng(seed)
    rand = evaluate(lambda o: rng.uniform(-1, 1, (len(o["observation"]), 2)), envs, seed, int(last["eval_index"]))
    rows.append({"algo": d.parent.name, "seed": seed, "env_steps": int(last["env_steps"]),
                 "success_0": p["success_rate"].iloc[0], "nd_0": p["norm_distance_mean"].iloc[0],
                 "success": last["success_rate"], "nd": last["norm_distance_mean"],
                 "success_last3": p["success_rate"].iloc[-3:].mean(), "nd_last3": p["norm_distance_mean"].iloc[-3:].mean(),
                 "random_success": rand["success_rate"], "random_nd": rand["norm_distance_mean"]})
df = pd.DataFrame(rows)
pd.set_option("display.width", 200)
print(df.round(3).to_string(index=False))
print(df.groupby("algo")[["success", "nd", "success_last3", "nd_last3", "random_success", "random_nd"]].agg(["mean", "std"]).round(3).to_string())
