#!/usr/bin/env bash
# Start the long background runs at the start of a session, at the lowest priority: the
# reproduction (scripts/paper_queue.sh, issue 10), then the tuning grid and ablations
# (scripts/ablation_queue.sh, issue 11), then one run that cannot finish this session
# (scripts/filler_queue.sh), one after the other in one chain that uses both cores (two
# workers, or two torch threads for a run too long for one session on one core).
# Unfinished cells resume from their checkpoints, finished ones are skipped. On a fresh
# machine the published runs are copied into the runs directories first (only run
# directories not there at all), so the queues skip what is already published.
#
# QUEUE_DEADLINE (e.g. "17:40", the session's end) makes the paper queue start only runs that
# can finish by then (see scripts/paper_queue.sh).
#
#   QUEUE_DEADLINE=17:40 bash scripts/start_queues.sh   # then: tail -f ~/paper-runs/queue.log ~/ablation-runs/queue.log
#   bash scripts/start_queues.sh ablation # only the ablation queue
set -u
WHICH=${1:-all}
case $WHICH in all|paper|ablation) ;; *) echo "error: usage: start_queues.sh [all|paper|ablation]" >&2; exit 2;; esac
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/bench ]; then  # a machine that came back may have kept $HOME but not the checkout's .venv
    echo "no .venv: installing the project into .venv first (~1 min)"
    { python3 -m venv .venv && .venv/bin/pip install -q -e '.[test,ray]'; } ||
        { echo "error: could not install .venv (python3 -m venv .venv && .venv/bin/pip install -e '.[test,ray]')" >&2; exit 2; }
fi
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
copy_in results/evidence/udrl_tune_swimmer_3m "$HOME/evidence-runs"  # paper_queue.sh's sampled tune
# The queues run from copies: bash reads a script as it goes, so editing scripts/*.sh in the
# checkout while a queue runs would make it resume at a wrong byte offset of the new text.
snap=$(mktemp -d "${TMPDIR:-/tmp}/bench-queues.XXXXXX")
cp scripts/paper_queue.sh scripts/ablation_queue.sh scripts/filler_queue.sh scripts/queue_lib.sh scripts/ablation_settings.sh "$snap/"
export BENCH_ROOT=$PWD
running() { pgrep -f "bash .*/$1" > /dev/null; }
if running paper_queue.sh || running ablation_queue.sh || running filler_queue.sh; then echo "a queue is already running"; exit 0; fi
case $WHICH in
    all) SNAP=$snap nohup bash -c 'bash "$SNAP/paper_queue.sh" >> "$HOME/paper-runs/queue.log" 2>&1;
                        bash "$SNAP/ablation_queue.sh" >> "$HOME/ablation-runs/queue.log" 2>&1;
                        bash "$SNAP/filler_queue.sh" >> "$HOME/paper-runs/queue.log" 2>&1' > /dev/null 2>&1 &
         echo "queues started: paper, ablation, then the filler (logs: ~/paper-runs/queue.log, ~/ablation-runs/queue.log)";;
    paper) nohup bash "$snap/paper_queue.sh" >> "$HOME/paper-runs/queue.log" 2>&1 &
           echo "paper queue started (log: ~/paper-runs/queue.log)";;
    ablation) nohup bash "$snap/ablation_queue.sh" >> "$HOME/ablation-runs/queue.log" 2>&1 &
              echo "ablation queue started (log: ~/ablation-runs/queue.log)";;
esac
