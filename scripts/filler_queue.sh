#!/usr/bin/env bash
# What is left of a session after the paper queue and the ablation queue have run every run that
# fits (scripts/start_queues.sh runs this last): one run that cannot finish before the session
# ends, trained until it does. Machines often come back (2026-12-05 and 12-06 found ~/paper-runs
# and its checkpoints intact); then the run resumes next session (the queues' fit tests take a run
# in progress at a whole run less the wall time it has had). On a fresh machine only otherwise idle
# time is lost. Checkpoints are written at most every few minutes (bench/runner.py), so a run cut
# off by the session's end loses at most that.
#
# It runs after the ablation queue's runs that fit, not before them (moved here 2026-12-06): a
# run that finishes is kept whatever machine the next session gets, while the filler's progress
# survives only if the machine comes back, and then the order changes nothing (the same work, in
# another order). That session, PoliGen Hopper seed 1 had made 86k steps after 3370 s of wall
# time (seed 0: 2110 s to 80k), a run that could not finish in the session; the ablation run that
# replaced it could.
#
# First choice: the next PoliGen Hopper seed (issue 10: Table 1 needs seeds 0-2 at 3M, ~2.5-3.5 h a
# seed on two threads, which a fresh session can finish only if it starts at once and the seed
# learns early); then, with those complete, the next Hopper ablation run (issue 11), cheapest first.
#
#   nohup bash scripts/filler_queue.sh >> ~/paper-runs/queue.log 2>&1 &
set -u
. "$(cd "$(dirname "$0")" && pwd)/ablation_settings.sh"  # ABLATIONS, HOPPER_BUDGET (beside this script)
cd "${BENCH_ROOT:-$(dirname "$0")/..}"  # start_queues.sh runs a copy of this script from elsewhere
PAPER=${PAPER_RUNS:-$HOME/paper-runs}
ABLATION=${ABLATION_RUNS:-$HOME/ablation-runs}
run() {  # run RUNS_DIR BENCH_RUN_ARGS...
    echo "$(date -u +%FT%TZ) filler: $* (until the session ends; resumes if this machine comes back)"
    nice -n 19 .venv/bin/bench run --runs-dir "$1" --workers 1 --no-progress "${@:2}"
    local rc=$?  # before the $(date) below, which would reset $?
    echo "$(date -u +%FT%TZ) end ($rc): $*"
}
for n in 2 3; do
    [ -f "$PAPER/Hopper-v3/poligen/seed_$((n - 1))/final.json" ] && continue
    run "$PAPER" --algo poligen --env Hopper-v3 --seeds $n --fresh --threads 2 --wait
    exit
done
# Hopper ablation runs, cheapest setting first (HOPPER_ORDER; the queue has already run those that
# fit). Within a setting, a run already under way at this budget resumes first (a machine that
# came back), else the setting's next seed starts. Setting by setting rather than resume-first
# (changed 2026-12-07): a setting's seeds complete a figure's column, while a long run under way
# of a dearer setting (poligen_noscale, ~9 h) would hold the filler for many sessions and keep the
# cheaper settings' seeds (Figure 8, the recency ablation) waiting. Its checkpoint waits too.
done_at_budget() {  # done at this budget (seed 0's 50k run of 2026-12-02 is not)
    [ -f "$1/final.json" ] && grep -q "\"budget\": $HOPPER_BUDGET," "$1/status.json"
}
started_at_budget() { [ ! -f "$1/final.json" ] && grep -q "\"budget\": $HOPPER_BUDGET," "$1/status.json" 2>/dev/null; }
for algo in $HOPPER_ORDER; do
    for pass in started any; do
        for seed in 0 1 2 3 4; do
            d=$ABLATION/Hopper-v3/$algo/seed_$seed
            done_at_budget "$d" && continue
            [ $pass = started ] && ! started_at_budget "$d" && continue
            run "$ABLATION" --algo "$algo" --env Hopper-v3 --seed-list $seed --budget $HOPPER_BUDGET --final-window 10 \
                --threads 2 --fresh --wait
            exit
        done
    done
done
echo "$(date -u +%FT%TZ) filler: nothing left to run"
