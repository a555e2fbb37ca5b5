#!/usr/bin/env bash
# Issue 13's goal track at real scale, one cell at a time at low priority (the second core;
# scripts/paper_queue.sh holds the first). Resumable like the paper queue: run it again and
# finished cells are skipped, unfinished ones resume from their checkpoints. Edit it only by
# writing a new file and renaming it over this one.
#
#   nohup bash scripts/goal_queue.sh >> ~/goal-runs/queue.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-$HOME/goal-runs}
mkdir -p "$RUNS"
run() {
    echo "$(date -u +%FT%TZ) start: $*"
    nice -n 10 .venv/bin/bench run --runs-dir "$RUNS" --workers 1 --no-progress "$@"
    local rc=$?  # before the $(date) below, which would reset $?
    echo "$(date -u +%FT%TZ) end ($rc): $*"
}
run --algo her --env FetchReach-v4 --seeds 5
run --algo her,gpim,ddpg_goal --env Nav2D-v0 --seeds 5
# PointMaze: seeds 0-2 of every method first, so a stopped queue leaves comparable cells
run --algo her,gpim,ddpg_goal --env PointMaze_UMaze-v3 --seeds 3
run --algo her,gpim,ddpg_goal --env PointMaze_UMaze-v3 --seeds 5
# poligen_goal last: its code may still change this session (--fresh redoes older seeds)
run --algo poligen_goal --env Nav2D-v0 --seeds 5 --fresh
run --algo poligen_goal --env PointMaze_UMaze-v3 --seeds 5 --fresh
