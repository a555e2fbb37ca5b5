"""Rank a finished `bench tune` grid by two metrics: evidence for results/tune/NOTES.md.

`bench tune` ranks configurations by the benchmark's final return (the deterministic
policy's evaluation). This script ranks the same runs also by the return of the policies
the algorithm itself trained with (``train_last_return`` of progress.csv: for ARS the mean
return of an iteration's perturbed rollouts), each averaged over a run's last ``--window``
evaluation points and then over seeds, and gives for the configurations named with
``--show`` their rank under each metric and how often they rank first when the seeds of
every configuration are resampled (``--reps`` bootstrap draws). Ties on a metric go to the
higher mean return over the whole evaluation curve, as in `bench tune`.

    python scripts/tune_metric_ranking.py results/tune/InvertedPendulum-v2 --algo ars \\
        --show step_size=0.001~n_directions=1~top_directions=1~noise=0.025
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

METRICS = {"final return (mean policy)": "eval_return_mean",
           "training return (perturbed policies)": "train_last_return"}


def per_seed(env_dir: Path, algo: str, window: int) -> pd.DataFrame:
    """One row per (configuration, seed): each metric's mean over the last ``window`` points."""
    rows = []
    for run in sorted(env_dir.glob(f"{algo}~*/seed_*")):
        if not (run / "final.json").exists():
            continue
        p = pd.read_csv(run / "progress.csv")
        row = {"configuration": run.parent.name.removeprefix(f"{algo}~"), "seed": run.name,
               "curve": p["eval_return_mean"].mean()}
        for name, col in METRICS.items():
            row[name] = p[col].dropna().tail(window).mean()
        rows.append(row)
    if not rows:
        raise SystemExit(f"error: no complete {algo} tune runs under {env_dir}")
    return pd.DataFrame(rows)


def first(table: pd.DataFrame, metric: str) -> str:
    means = table.groupby("configuration")[[metric, "curve"]].mean()
    return means.sort_values([metric, "curve"], ascending=False).index[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("env_dir", type=Path, help="<runs-dir>/<env id> holding the tune runs")
    ap.add_argument("--algo", required=True)
    ap.add_argument("--show", action="append", default=[], help="configuration to report (repeatable)")
    ap.add_argument("--window", type=int, default=20)
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--top", type=int, default=5)
    args = ap.parse_args(argv)

    table = per_seed(args.env_dir, args.algo, args.window)
    rng = np.random.default_rng(0)
    groups = [g for _, g in table.groupby("configuration")]
    wins = {m: pd.Series(0, index=sorted(table["configuration"].unique())) for m in METRICS}
    for _ in range(args.reps):
        draw = pd.concat([g.iloc[rng.integers(0, len(g), len(g))] for g in groups])
        for m in METRICS:
            wins[m][first(draw, m)] += 1
    n = table["configuration"].nunique()
    for m in METRICS:
        means = table.groupby("configuration")[[m, "curve"]].agg(["mean", "std"])
        order = means.sort_values([(m, "mean"), ("curve", "mean")], ascending=False).index.tolist()
        print(f"\n## ranked by {m} ({n} configurations, last {args.window} points, mean ± std over seeds)\n")
        print("| rank | configuration | value | P(first), seed bootstrap |\n|---|---|---|---|")
        shown = order[:args.top] + [c for c in args.show if c in order and order.index(c) >= args.top]
        for c in shown:
            v = means.loc[c, m]
            print(f"| {order.index(c) + 1} | {c} | {v['mean']:.0f} ± {v['std']:.0f} | {wins[m][c] / args.reps:.2f} |")
        missing = [c for c in args.show if c not in order]
        if missing:
            print(f"error: not in the grid: {', '.join(missing)}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
