"""Wall time and env steps until a run first reaches a return, over the seeds of a cell.

    python scripts/time_to_solve.py ~/paper-runs InvertedPendulum-v2 poligen [--threshold 1000] [--consecutive 3]

Reads every ``seed_*/progress.csv`` of ``RUNS/ENV/ALGO`` (finished or not) and prints, per
seed, the first evaluation whose mean return is at least ``--threshold`` (default: the top
of the env's ``return_range``): its env steps and the run's wall time then, or, for a seed
that has not reached it, the steps and wall time so far (a lower bound, marked ``>``).
``--consecutive K`` asks for the first of K evaluations in a row at or above it, so that one
lucky evaluation (PoliGen Hopper seed 2 scores 1003 once at 120k, then 79-565 until 670k) does
not count as solving.
Then the distribution over seeds (median, min, max; unsolved seeds count as their bound,
so the median is a lower bound when any seed is unsolved).
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.config import load_config


def first_reach(progress: pd.DataFrame, threshold: float, consecutive: int = 1) -> tuple[bool, float, float]:
    """(reached, env_steps, wall_time): the first of ``consecutive`` evaluations in a row at or
    above ``threshold``, else the last row."""
    above = (progress["eval_return_mean"] >= threshold).to_numpy()
    run = 0
    for i, ok in enumerate(above):
        run = run + 1 if ok else 0
        if run == consecutive:
            row = progress.iloc[i - consecutive + 1]
            return True, float(row["env_steps"]), float(row["wall_time"])
    row = progress.iloc[-1]
    return False, float(row["env_steps"]), float(row["wall_time"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs_dir", type=Path)
    ap.add_argument("env")
    ap.add_argument("algo")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--consecutive", type=int, default=1, help="evaluations in a row at or above it (default 1)")
    args = ap.parse_args()
    if args.consecutive < 1:
        raise SystemExit("error: --consecutive must be >= 1")
    threshold = args.threshold
    if threshold is None:
        rr = load_config().env(args.env).return_range
        if not rr:
            raise SystemExit(f"error: {args.env} has no return_range; give --threshold")
        threshold = rr[1]

    rows = []
    for d in sorted((args.runs_dir / args.env / args.algo).glob("seed_*"), key=lambda p: int(p.name[5:])):
        f = d / "progress.csv"
        if not f.exists() or f.stat().st_size == 0:
            continue
        progress = pd.read_csv(f)
        if progress.empty:
            continue
        reached, steps, wall = first_reach(progress, threshold, args.consecutive)
        done = (d / "final.json").exists()
        rows.append({"seed": int(d.name[5:]), "reached": reached, "env_steps": steps, "wall_min": wall / 60,
                     "finished": done})
    if not rows:
        raise SystemExit(f"error: no progress.csv under {args.runs_dir / args.env / args.algo}")
    df = pd.DataFrame(rows)
    what = "first evaluation" if args.consecutive == 1 else f"first of {args.consecutive} evaluations in a row"
    print(f"{args.env} / {args.algo}: {what} with mean return >= {threshold:g} "
          f"(wall time of the run; '>' = not reached yet, the value so far)")
    for r in df.itertuples():
        mark = "" if r.reached else ">"
        print(f"  seed {r.seed:>2}: {mark}{r.env_steps:>9,.0f} env steps  {mark}{r.wall_min:8.1f} min"
              f"{'' if r.finished else '  (run unfinished)'}")
    w = df["wall_min"].to_numpy()
    print(f"  {int(df['reached'].sum())}/{len(df)} seeds reached it; wall minutes: median "
          f"{'>=' if not df['reached'].all() else ''}{np.median(w):.1f}, min {w.min():.1f}, max "
          f"{'>' if not df['reached'].all() else ''}{w.max():.1f}")


if __name__ == "__main__":
    main()
