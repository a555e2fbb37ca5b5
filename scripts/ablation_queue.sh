#!/usr/bin/env bash
# Issue 11's long runs, after the paper queue (scripts/paper_queue.sh): the paper's ARS grid
# on InvertedPendulum-v2 at the paper's budget (63 configurations x 5 seeds), and
# Figures 7-8 (PoliGen and its ablation variants, 5 seeds) at reduced budgets: Swimmer-v3
# at 300k steps (~9 CPU-min per run: 300 episodes of 1000 steps at ~1.5 s of updates each),
# Hopper-v3 at 500k (below: early Hopper episodes are ~35 steps and PoliGen pays ~0.7 s of
# updates per episode on two threads, however short, so ~1.35-4 h per run, ~35-70 h for the
# 25). Cheapest complete deliverable first: the grid
# (315 runs; ARS on InvertedPendulum at 100k costs 29 CPU-s a run: ~2.5 CPU-h), then the
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
ABLATIONS=poligen,poligen_noweight,poligen_noscale,poligen_noweight_noscale,poligen_drive0
step tune --algo ars --env InvertedPendulum-v2 --seeds 5
for seed in 0 1 2 3 4; do
    step run --algo $ABLATIONS --env Swimmer-v3 --seed-list $seed --budget 300000
done
# Hopper at 500k (decided 2026-12-02; the first plan, 50k, was paused after one run: at 50k
# PoliGen has not begun to learn Hopper, results/ablations/NOTES.md). The 3M paper run of seed 0
# (two threads) scores 11-67 up to 90k, 200-300 from 150k to 370k on 100-130-step episodes, then
# jumps: 1110 at 380k, 2811 at 390k, 1776 on average over 410k-500k (episodes of 400-1000 steps).
# It reached 500k in 4865 s of wall time, most of it before 150k (0-50k: 1444 s, 50-100k: 1160 s;
# ~100 s per 50k once episodes are long). So 500k shows the base method learn Hopper, and the
# recency weighting (which exists for Hopper's short failing episodes) can show there. Evaluation
# every 10k as in the paper (the base variant's rows are then comparable to the paper run's);
# final return over the last 10 evaluations (410k-500k). Cost: ~1.35 h a run on two threads for
# a variant that learns like the base; one whose episodes stay ~35 steps pays ~0.7 s of updates
# each, 35 env-steps/s, up to ~4 h. So 35-70 h for the 25; seed by seed, so that stopping after
# seed k leaves every setting with seeds 0..k. --fresh replaces the single 50k run of 2026-12-02.
HOPPER_BUDGET=500000
# One run at a time, each started only if it can finish before QUEUE_DEADLINE (scripts/queue_lib.sh):
# a fresh machine keeps no checkpoint. HOPPER_FULL, the wall time of a 500k run on two threads on the
# reference machine of scripts/machine_speed.py: PoliGen seed 0's 3M run reached 500k after 4865 s
# (results/paper/Hopper-v3/poligen/seed_0, a machine up to ~1.4x the reference) -> ~6800 s. A setting
# that stays on ~30-step episodes (0-100k took 2604 s of those 4865) would need up to ~2.7x that, and
# cannot finish inside one session at this budget.
HOPPER_FULL=${HOPPER_FULL:-6800}
. "$LIB"  # fits, eta, SPEED
for seed in 0 1 2 3 4; do
    for algo in ${ABLATIONS//,/ }; do
        fits "$(eta Hopper-v3 "$algo" --seed-list $seed --budget $HOPPER_BUDGET --full "$HOPPER_FULL")" \
            "$algo" Hopper seed $seed || continue
        step run --algo "$algo" --env Hopper-v3 --seed-list $seed --budget $HOPPER_BUDGET --final-window 10 \
            --threads 2 --fresh --wait
    done
done
