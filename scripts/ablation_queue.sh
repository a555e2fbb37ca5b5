#!/usr/bin/env bash
# Issue 11's long runs, after the paper queue (scripts/paper_queue.sh): the paper's ARS grid
# on InvertedPendulum-v2 at the paper's budget (63 configurations x 5 seeds, ~7 CPU-h), and
# Figures 7-8 (PoliGen and its ablation variants, 5 seeds) at reduced budgets: Swimmer-v3
# at 300k steps (~8 CPU-min per run: 300 episodes of 1000 steps), Hopper-v3 at 50k (early
# Hopper episodes are short and PoliGen pays ~1.2 s of updates per episode, however short:
# ~15-30 CPU-min per run). Figures first (25 + 25 runs), then the grid (315 runs).
# Resumable like the paper queue; one cell at a time at the lowest priority.
#
#   nohup bash scripts/ablation_queue.sh > ~/ablation-runs/queue.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-$HOME/ablation-runs}
mkdir -p "$RUNS"
step() {
    echo "$(date -u +%FT%TZ) start: $*"
    nice -n 19 .venv/bin/bench "$@" --runs-dir "$RUNS" --workers 1 --no-progress
    echo "$(date -u +%FT%TZ) end ($?): $*"
}
ABLATIONS=poligen,poligen_noweight,poligen_noscale,poligen_noweight_noscale,poligen_drive0
step run --algo $ABLATIONS --env Swimmer-v3 --seeds 5 --budget 300000
step run --algo $ABLATIONS --env Hopper-v3 --seeds 5 --budget 50000
step tune --algo ars --env InvertedPendulum-v2 --seeds 5
