"""Copy the small files of every complete run from a runs directory into a published one.

    python scripts/publish_runs.py ~/paper-runs results/paper

A run is complete when its status.json says done and its final.json exists. Only the
files a report needs are copied (never checkpoints or models); a run already published
with identical files is left alone, and files are written atomically. Prints what changed.
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import sys
from pathlib import Path

from bench import store

SMALL_FILES = ("config.json", "meta.json", "progress.csv", "final.json", "sweep.csv", "status.json", "skills.csv")


def publish(src: Path, dest: Path) -> list[Path]:
    """Copy complete runs' small files from ``src`` to ``dest``; return the run dirs updated."""
    updated = []
    for run in sorted(src.glob("*/*/seed_*")):
        if not (run / store.FINAL).exists():
            continue
        try:
            if store.read_json(run / store.STATUS).get("state") != "done":
                continue
        except Exception:
            continue
        target = dest / run.relative_to(src)
        changed = False
        for name in SMALL_FILES:
            f = run / name
            if not f.exists():
                continue
            data = f.read_bytes()
            if (target / name).exists() and (target / name).read_bytes() == data:
                continue
            store.atomic_write_bytes(target / name, data)
            changed = True
        if changed:
            updated.append(target)
    return updated


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    args = p.parse_args()
    if not args.src.is_dir():
        print(f"error: {args.src}: not a directory", file=sys.stderr)
        return 2
    for d in publish(args.src, args.dest):
        print(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
