#!/usr/bin/env bash
# Issue 11's long runs, after the paper queue (scripts/paper_queue.sh): the paper's ARS grid
# on InvertedPendulum-v2 at the paper's budget (63 configurations x 5 seeds), and
# Figures 7-8 (PoliGen and its ablation variants, 5 seeds) at reduced budgets: Swimmer-v3
# at 300k steps (~9 CPU-min per run: 300 episodes of 1000 steps at ~1.5 s of updates each),
# Hopper-v3 at 200k (below: early Hopper episodes are ~35 steps and PoliGen pays ~0.7 s of
# updates per episode on two threads, however short, so ~1-2 h per run, ~25-50 h for the 25).
# Cheapest complete deliverable first: the grid (315 runs; ARS on InvertedPendulum at 100k costs 29 CPU-s a run: ~2.5 CPU-h), then the
# Swimmer figures (25 runs, ~4 CPU-h), then Hopper's. The figures run seed by seed (every
# variant's seed 0, then every variant's seed 1, ...), so that a queue cut off by the end of
# a session leaves all five variants with the same seeds: a comparison, not five lopsided cells.
# Resumable like the paper queue; one cell at a time at the lowest priority.
#
#   nohup bash scripts/ablation_queue.sh > ~/ablation-runs/queue.log 2>&1 &
#   python scripts/publish_runs.py --current-code --env InvertedPendulum-v2 ~/ablation-runs results/tune
#   python scripts/publish_runs.py --current-code --env Swimmer-v3,Hopper-v3 ~/ablation-runs results/ablations
#
# On a fresh machine, first copy the published runs in (`cp -r results/tune/* results/ablations/*
# ~/ablation-runs/`): complete configurations and seeds are then skipped.
set -u
LIB=$(cd "$(dirname "$0")" && pwd)/queue_lib.sh  # beside this script (start_queues.sh copies both)
cd "${BENCH_ROOT:-$(dirname "$0")/..}"  # start_queues.sh runs a copy of this script from elsewhere
RUNS=${RUNS:-$HOME/ablation-runs}
mkdir -p "$RUNS"
step() {
    echo "$(date -u +%FT%TZ) start: $*"
    nice -n 19 .venv/bin/bench "$1" --runs-dir "$RUNS" --workers 1 --no-progress "${@:2}"  # later flags win
    local rc=$?  # before the $(date) below, which would reset $?
    echo "$(date -u +%FT%TZ) end ($rc): $*"
}
. "$(dirname "$LIB")/ablation_settings.sh"  # ABLATIONS, HOPPER_BUDGET
step tune --algo ars --env InvertedPendulum-v2 --seeds 5
for seed in 0 1 2 3 4; do
    step run --algo $ABLATIONS --env Swimmer-v3 --seed-list $seed --budget 300000
done
# Hopper at 200k (decided 2026-12-05; 500k from 2026-12-02 to 12-05, 50k before). Every session
# now starts on a fresh machine, which keeps no checkpoint: a run must finish inside the session it
# starts in. PoliGen pays ~0.7 s of updates per episode on two threads however short the episode,
# so a setting whose episodes stay at ~30 steps (the falling phase every run starts in) makes ~38
# env-steps/s: 0-100k took 2604 s for PoliGen seed 0's 3M run (results/paper/Hopper-v3/poligen/
# seed_0, two threads, a machine up to ~1.4x the reference). At 500k such a run needs ~3.6 h and
# could never finish (the queue would start it, and lose it, every session); the paper says the
# uniform-sampling settings are the ones that stay behind on Hopper. At 200k it needs ~1.5 h there,
# ~2 h on the reference (hopper_full). What 200k shows: seed 0 of the base scores 11-67 on
# 30-49-step episodes up to 90k, then 155-486 (one hop and a fall, 77-130-step episodes) from 100k;
# its jump to 1000-2800 comes at 380k. So the figures compare how soon each setting leaves the
# falling phase, where the recency weighting is meant to act, not the gait reached later.
# Evaluation every 10k as in the paper; final return = mean of the last 10 evaluations (110k-200k);
# two threads per run; seed by seed, so that stopping after seed k leaves every setting with seeds
# 0..k. --fresh replaces the single 50k run of 2026-12-02. HOPPER_BUDGET: scripts/ablation_settings.sh.
# One run at a time, each started only if it can finish before QUEUE_DEADLINE (scripts/queue_lib.sh).
# The settings' whole-run times differ by ~4x (hopper_full, scripts/ablation_settings.sh): the
# uniform-sampling and unscaled settings (~3 h and ~9 h here) never fit a session's clock, so the
# queue takes the base and poligen_drive0, which can finish inside a session, and the filler
# (scripts/filler_queue.sh) the others, which finish only if the machine comes back.
. "$LIB"  # fits, eta, SPEED
for seed in 0 1 2 3 4; do
    for algo in ${ABLATIONS//,/ }; do
        fits "$(eta Hopper-v3 "$algo" --seed-list $seed --budget $HOPPER_BUDGET --full "$(hopper_full "$algo")")" \
            "$algo" Hopper seed $seed || continue
        step run --algo "$algo" --env Hopper-v3 --seed-list $seed --budget $HOPPER_BUDGET --final-window 10 \
            --threads 2 --fresh --wait
    done
done
