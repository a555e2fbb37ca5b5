#!/usr/bin/env bash
# One command from a fresh clone: create .venv, install bench with pinned dependencies,
# run a small real benchmark end to end (ARS on MountainCarContinuous-v0, 3 seeds,
# 20k steps each), show its status and write the report.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test,ray]"
bench run --algo ars --env MountainCarContinuous-v0 --seeds 3 --budget 20000 --runs-dir runs/quickstart
bench status --runs-dir runs/quickstart
bench report --runs-dir runs/quickstart --out report/quickstart
