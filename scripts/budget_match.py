"""At what budget would a published cell match the paper? Evidence for results/paper/NOTES.md.

For an (env, algo) cell of a runs directory, the cell's final return (the mean of each
run's last ``final_window`` evaluations, then mean ± std over seeds) as if its runs had
stopped at a fraction of the budget, and Welch's t against the paper's mean ± std over 20
seeds (``paper`` in benchmark.toml). ``--column train_last_return`` scores the policies
the algorithm trained with instead of the evaluated one (ARS: its perturbed rollouts).

    python scripts/budget_match.py results/paper Swimmer-v3 ars [--column train_last_return]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ttest_ind_from_stats

from bench.config import load_config
from bench.errors import BenchError

FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def cell_at(runs: list[pd.DataFrame], budget: float, column: str, window: int) -> np.ndarray:
    """Each run's mean of ``column`` over its last ``window`` evaluations due at or before ``budget``."""
    return np.array([p.loc[p["eval_step"] <= budget, column].dropna().tail(window).mean() for p in runs])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs_dir", type=Path)
    ap.add_argument("env_id")
    ap.add_argument("algo")
    ap.add_argument("--column", default="eval_return_mean")
    ap.add_argument("--config", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        settings = load_config(args.config, check_algorithms=False).env(args.env_id)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.algo not in settings.paper:
        print(f"error: benchmark.toml has no paper value for {args.algo} on {args.env_id}", file=sys.stderr)
        return 2
    mean_p, std_p = settings.paper[args.algo]
    runs = [pd.read_csv(d / "progress.csv") for d in sorted((args.runs_dir / args.env_id / args.algo).glob("seed_*"))
            if (d / "final.json").exists()]
    if len(runs) < 2:
        print(f"error: fewer than 2 complete runs of {args.algo} on {args.env_id} in {args.runs_dir}", file=sys.stderr)
        return 2
    if args.column not in runs[0]:
        print(f"error: progress.csv has no column {args.column!r}", file=sys.stderr)
        return 2
    print(f"{args.algo} on {args.env_id}, {len(runs)} seeds, {args.column}; paper {mean_p:g} ± {std_p:g} (20 seeds)\n")
    print("| fraction of the budget | env steps | ours | Welch t | p |\n|---|---|---|---|---|")
    for f in FRACTIONS:
        # at the whole budget, the run's own final window (episodic methods overshoot a little)
        v = cell_at(runs, f * settings.budget if f < 1 else np.inf, args.column, settings.final_window)
        t, p = ttest_ind_from_stats(v.mean(), v.std(ddof=1), len(v), mean_p, std_p, 20, equal_var=False)
        print(f"| {f:g} | {f * settings.budget:,.0f} | {v.mean():.4g} ± {v.std(ddof=1):.2g} | {t:.2f} | {p:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
