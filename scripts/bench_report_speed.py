"""Benchmark: `bench report` time on synthetic runs (default 4 envs x 4 algos x 20 seeds).

Writes the synthetic runs into a temporary folder (not timed), then times the report
(load + statistics + tables + figures + index.html) in this process. Prints wall time and
CPU time of the process: on a shared machine the CPU time is the fairer number.

    python scripts/bench_report_speed.py [--seeds 20] [--evals 100] [--reps N] [--band-reps N] [--keep DIR]
"""

from __future__ import annotations

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import bootstrap, report, synthetic  # noqa: E402
from bench.config import load_config  # noqa: E402

ENVS = ["Swimmer-v3", "Hopper-v3", "InvertedPendulum-v2", "MountainCarContinuous-v0"]
ALGOS = ["poligen", "ars", "ddpg", "udrl"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--evals", type=int, default=100, help="evaluations per run (progress.csv rows)")
    p.add_argument("--reps", type=int, default=bootstrap.REPS, help="bootstrap resamples per printed interval")
    p.add_argument("--band-reps", type=int, default=bootstrap.BAND_REPS, help="bootstrap resamples per drawn band")
    p.add_argument("--keep", type=Path, help="write runs and report here and keep them")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_report_speed_"))
    try:
        n = synthetic.write_benchmark(root / "runs", ENVS, ALGOS, args.seeds, n_evals=args.evals)
        config = load_config(check_algorithms=False)
        w0, c0 = time.perf_counter(), time.process_time()
        rep = report.build_report(root / "runs", root / "report", config, reps=args.reps, band_reps=args.band_reps)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(f"report on {n} synthetic runs ({len(ENVS)} envs x {len(ALGOS)} algos x {args.seeds} seeds, "
              f"{args.evals} evaluations each, {args.reps} / {args.band_reps} resamples per interval / band): "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU; {len(rep.files)} files in {rep.out_dir}")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
