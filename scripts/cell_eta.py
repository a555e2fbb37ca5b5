"""Wall seconds a cell still needs: the background queue's test of whether it fits a session.

    python scripts/cell_eta.py ~/paper-runs Swimmer-v3 ddpg --seeds 2 --budget 1000000 --full 7100 --workers 2 \
        --speed "$(python scripts/machine_speed.py)"

Per seed of the first ``--seeds`` of benchmark.toml's list (or of ``--seed-list``): ``--full`` for a run
made at another budget than ``--budget`` (status.json; ``bench run`` starts it afresh); 0 when complete; for a run in
progress, its remaining env steps at its own recent rate (wall time per env step over its last
``RECENT`` = 10 evaluations, or since its start while it has fewer; progress.csv's wall time is
cumulative over resumes: the speed of the machine it ran on), at most ``--full``
less the wall time it has had (while that is less than ``--full``); else ``--full``, the wall time
of a whole run. ``--full`` is stated for the reference machine of scripts/machine_speed.py and
divided by ``--speed``, this machine's speed relative to it. The bound matters for PoliGen, whose
early, short episodes are the slow ones: its rate so far overestimates what is left (Hopper seed 0
took 4204 s to 300k and 4049 s more to 3M; its rate at 300k says 37,800 s), so a seed resumed at a
session's start would be judged not to fit. Past ``--full`` the recent rate alone decides: PoliGen
Hopper seed 1 on the Intel machine of 2026-12-06 took 12,250 s to 1.16M (its rate since the start
says 19,400 s for the rest) and then ran 1000-step episodes at ~520 env-steps/s (~3,600 s).
The seeds are then packed greedily onto ``--workers`` (longest first) and the busiest worker's
total is printed, in whole seconds.
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import math
from pathlib import Path

import pandas as pd

from bench import store
from bench.config import load_config
from bench.errors import BenchError


def _budget(run: Path) -> int | None:
    """The budget a run's status.json records (None when it has none)."""
    if not (run / store.STATUS).exists():
        return None
    try:
        return int(store.read_json(run / store.STATUS)["budget"])
    except (BenchError, ValueError, KeyError, TypeError):
        return None


#: evaluations over which a run's recent rate is measured
RECENT = 10


def seed_eta(run: Path, budget: int, full: float) -> float:
    """Seconds ``run`` still needs to reach ``budget`` env steps (see the module docstring)."""
    if _budget(run) not in (None, budget):  # made at another budget: bench run starts it afresh
        return full
    if (run / store.FINAL).exists():
        return 0.0
    try:
        rows = pd.read_csv(run / store.PROGRESS)
        last = rows.iloc[-1]
    except (OSError, IndexError, pd.errors.EmptyDataError):
        return full
    steps, wall = float(last["env_steps"]), float(last["wall_time"])
    if steps <= 0 or not math.isfinite(wall):
        return full
    per_step = wall / steps
    if len(rows) > RECENT:  # its recent rate, once it has one: episodes lengthen as it learns
        first = rows.iloc[-1 - RECENT]
        d_steps, d_wall = steps - float(first["env_steps"]), wall - float(first["wall_time"])
        if d_steps > 0 and math.isfinite(d_wall) and d_wall > 0:
            per_step = d_wall / d_steps
    at_rate = max(0.0, budget - steps) * per_step
    return min(full - wall if wall < full else full, at_rate)


def cell_eta(etas: list[float], workers: int) -> float:
    """The busiest worker's load when ``etas`` are packed longest first onto ``workers``."""
    loads = [0.0] * workers
    for eta in sorted(etas, reverse=True):
        loads[loads.index(min(loads))] += eta
    return max(loads)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path)
    p.add_argument("env")
    p.add_argument("algo")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--seeds", type=int, help="the first N seeds of benchmark.toml's list")
    which.add_argument("--seed-list", help="these seeds, comma-separated (e.g. 3 or 0,2)")
    p.add_argument("--budget", type=int, help="env steps of a run (default: the env's budget in benchmark.toml)")
    p.add_argument("--full", type=float, required=True, help="wall seconds of a whole run started here")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--speed", type=float, default=1.0,
                   help="this machine's speed relative to the one --full was measured on (scripts/machine_speed.py)")
    args = p.parse_args()
    cfg = load_config()
    if not args.speed > 0:
        p.error("--speed must be > 0")
    budget = args.budget or cfg.env(args.env).budget
    full = args.full / args.speed
    try:
        seeds = cfg.seeds[:args.seeds] if args.seed_list is None else [int(s) for s in args.seed_list.split(",")]
    except ValueError:
        p.error(f"--seed-list: not a comma-separated list of integers: {args.seed_list!r}")
    etas = [seed_eta(store.run_dir(args.runs, args.env, args.algo, s), budget, full) for s in seeds]
    print(math.ceil(cell_eta(etas, args.workers)))


if __name__ == "__main__":
    main()
