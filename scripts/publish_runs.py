"""Copy the small files of every complete run from a runs directory into a published one.

    python scripts/publish_runs.py ~/paper-runs results/paper [--env E1,E2] [--algo A1,A2] [--current-code]
    python scripts/publish_runs.py --unfinished --algo poligen --env Hopper-v3 ~/paper-runs results/evidence/NAME

A run is complete when its status.json says done and its final.json exists. Only the
files a report needs are copied (never checkpoints or models); a run already published
with identical files is left alone, and files are written atomically. Prints what changed.
``--env``/``--algo`` publish only those cells; ``--current-code`` only runs made entirely
by today's code (the runs ``bench run --fresh`` would keep), so a run kept from older code
is never published over or beside today's. ``--unfinished`` copies the runs still in progress
instead (their progress so far, no final.json): for a dated snapshot under ``results/evidence/``,
never for ``results/paper/``, whose cells must be complete. The ranking files ``bench tune``
writes (``_tune/<env>/<algo>/``: ranking.csv, ranking.md, best.toml) are published with the runs,
under the same ``--env``/``--algo`` filters (the algorithm is the tuned base).
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import sys
from pathlib import Path

from bench import store
from bench.config import BenchConfig, load_config
from bench.errors import BenchError
from bench.provenance import code_hashes, run_code_today

SMALL_FILES = ("config.json", "meta.json", "progress.csv", "final.json", "sweep.csv", "status.json", "skills.csv")
TUNE_FILES = ("ranking.csv", "ranking.md", "best.toml")


def made_by_current_code(run: Path, config: BenchConfig) -> bool:
    """Every code hash the run's meta.json records is today's code of its algorithm."""
    hashes = code_hashes(store.read_json(run / store.META))
    return bool(hashes) and set(hashes) == {run_code_today(run, config)}


def _state(run: Path) -> str | None:
    try:
        return store.read_json(run / store.STATUS).get("state")
    except Exception:
        return None


def publish(src: Path, dest: Path, envs: set[str] | None = None, algos: set[str] | None = None,
            current_code: BenchConfig | None = None, unfinished: bool = False) -> list[Path]:
    """Copy complete runs' small files from ``src`` to ``dest``; return the run dirs updated.

    :param current_code: if given, only runs made by today's code of the algorithms it resolves
    :param unfinished: copy the runs that are not complete (with a progress.csv) instead
    """
    updated = []
    for run in sorted(src.glob("*/*/seed_*")):
        if envs and run.parent.parent.name not in envs or algos and run.parent.name not in algos:
            continue
        complete = (run / store.FINAL).exists() and _state(run) == "done"
        if complete == unfinished or not (run / "progress.csv").exists():
            continue
        if current_code is not None and not ((run / store.META).exists() and made_by_current_code(run, current_code)):
            continue
        if _copy_changed(run, dest / run.relative_to(src), SMALL_FILES):
            updated.append(dest / run.relative_to(src))
    if not unfinished:  # a ranking is a finished tune's result; a snapshot of runs in progress has none
        for ranking in sorted(src.glob("_tune/*/*")):
            if envs and ranking.parent.name not in envs or algos and ranking.name not in algos:
                continue
            if _copy_changed(ranking, dest / ranking.relative_to(src), TUNE_FILES):
                updated.append(dest / ranking.relative_to(src))
    return updated


def _copy_changed(src_dir: Path, target: Path, names: tuple[str, ...]) -> bool:
    """Copy the files ``names`` that exist in ``src_dir`` to ``target`` atomically; True if any changed."""
    changed = False
    for name in names:
        f = src_dir / name
        if not f.exists():
            continue
        data = f.read_bytes()
        if (target / name).exists() and (target / name).read_bytes() == data:
            continue
        store.atomic_write_bytes(target / name, data)
        changed = True
    return changed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    p.add_argument("--env", help="comma-separated env ids (default: all)")
    p.add_argument("--algo", help="comma-separated algorithms or variants (default: all)")
    p.add_argument("--current-code", action="store_true", help="only runs made by today's code")
    p.add_argument("--unfinished", action="store_true",
                   help="only runs still in progress (a snapshot for results/evidence, never results/paper)")
    args = p.parse_args()
    if not args.src.is_dir():
        print(f"error: {args.src}: not a directory", file=sys.stderr)
        return 2
    envs = set(args.env.split(",")) if args.env else None
    algos = set(args.algo.split(",")) if args.algo else None
    try:
        for d in publish(args.src, args.dest, envs, algos, load_config() if args.current_code else None,
                         args.unfinished):
            print(d)
    except BenchError as exc:  # e.g. an unreadable meta.json: one line, and what was copied stays
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
