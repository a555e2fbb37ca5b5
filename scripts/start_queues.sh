#!/usr/bin/env bash
# Start the long background queues at the start of a session, one per core, at the lowest
# priority: the reproduction (scripts/paper_queue.sh, issue 10) and the tuning grid and
# ablations (scripts/ablation_queue.sh, issue 11). Unfinished cells resume from their
# checkpoints, finished ones are skipped. On a fresh machine the published runs are copied
# into the runs directories first (only run directories not there at all), so the queues skip
# what is already published.
#
#   bash scripts/start_queues.sh          # then: tail -f ~/paper-runs/queue.log ~/ablation-runs/queue.log
#   bash scripts/start_queues.sh paper    # only the reproduction (when it takes both cores itself)
set -u
WHICH=${1:-all}
case $WHICH in all|paper|ablation) ;; *) echo "error: usage: start_queues.sh [all|paper|ablation]" >&2; exit 2;; esac
cd "$(dirname "$0")/.."
[ -x .venv/bin/bench ] || { echo "error: no .venv: python3 -m venv .venv && .venv/bin/pip install -e '.[test,ray]'" >&2; exit 2; }
copy_in() {  # copy_in SRC... DEST: each published run directory DEST does not have at all
    local dest=${!#} src run rel  # (never into one that exists: it may be a run in progress)
    mkdir -p "$dest"
    for src in "${@:1:$#-1}"; do
        [ -d "$src" ] || continue
        for run in "$src"/*/*/seed_*; do
            [ -d "$run" ] || continue
            rel=${run#"$src"/}
            if [ ! -e "$dest/$rel" ]; then mkdir -p "$dest/$(dirname "$rel")" && cp -r "$run" "$dest/$rel"; fi
        done
    done
}
copy_in results/paper "$HOME/paper-runs"
copy_in results/tune results/ablations "$HOME/ablation-runs"
running() { pgrep -f "bash scripts/$1" > /dev/null; }
if [ "$WHICH" = ablation ]; then :; elif running paper_queue.sh; then echo "paper queue already running"; else
    nohup bash scripts/paper_queue.sh >> "$HOME/paper-runs/queue.log" 2>&1 &
    echo "paper queue started (log: ~/paper-runs/queue.log)"
fi
if [ "$WHICH" = paper ]; then :; elif running ablation_queue.sh; then echo "ablation queue already running"; else
    nohup bash scripts/ablation_queue.sh >> "$HOME/ablation-runs/queue.log" 2>&1 &
    echo "ablation queue started (log: ~/ablation-runs/queue.log)"
fi
