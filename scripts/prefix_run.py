"""Derive a shorter-budget run from the first evaluations of a complete longer run.

    python scripts/prefix_run.py RUN_DIR RUNS_DIR --budget 200000 [--final-window 10]

``RUN_DIR`` is a complete run (``.../<env>/<algo>/seed_<k>``). The derived run goes to
``RUNS_DIR/<env>/<algo>/seed_<k>``. It holds the same configuration except the budget and
the final window, and its progress rows are the source's rows up to the budget. It is
what `bench run --budget B` would have produced, without training: see :mod:`bench.prefix`
for why, and for what it lacks (no sweep.csv or model.pt; CPU time estimated). So a later
``bench run`` of that cell finds it complete and skips it. Prints the run directory, and
whether it was written or was already there.
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import sys
from pathlib import Path

from bench.errors import BenchError
from bench.prefix import derive_prefix


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src", type=Path, help="a complete run directory (.../<env>/<algo>/seed_<k>)")
    p.add_argument("runs_dir", type=Path, help="the runs directory to write the derived run into")
    p.add_argument("--budget", type=int, required=True, help="the derived run's budget (an evaluation point)")
    p.add_argument("--final-window", type=int, help="evaluations its final return averages (default: the source's)")
    args = p.parse_args()
    try:
        d, written = derive_prefix(args.src, args.runs_dir, args.budget, args.final_window)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{d}: {'derived' if written else 'already there'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
