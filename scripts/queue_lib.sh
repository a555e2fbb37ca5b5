# Shared by scripts/paper_queue.sh and scripts/ablation_queue.sh (sourced, not run): start a run
# only if it can finish before the session ends. A fresh machine keeps no checkpoint, so a run
# cut off by the session's end is lost; a skipped one only leaves its time to the next step.
#
# Needs RUNS (the runs directory) and, optionally, QUEUE_DEADLINE (a `date -d` string, e.g.
# "17:40": the session's end, taken at its occurrence nearest to now, so past midnight too;
# unset, everything fits) and SPEED (this machine's speed relative to
# the reference machine of scripts/machine_speed.py; measured once when this file is sourced,
# before any run starts, and capped at 1, unless given).

deadline_epoch() {  # QUEUE_DEADLINE as epoch seconds: a clock time's occurrence nearest to now
    local now t      # (a session started at 22:34 ends at "01:34": tomorrow's, not this morning's)
    now=$(date +%s); t=$(date -d "$QUEUE_DEADLINE" +%s) || return 1
    if [ "$t" -lt $(( now - 43200 )) ]; then t=$(( t + 86400 )); fi
    if [ "$t" -gt $(( now + 43200 )) ]; then t=$(( t - 86400 )); fi
    echo "$t"
}

fits() {  # fits SECONDS WHAT...: true if a run of that wall time ends before QUEUE_DEADLINE
    [ -z "${QUEUE_DEADLINE:-}" ] && return 0
    local left=$(( $(deadline_epoch) - $(date +%s) ))
    if [ "$left" -ge "$1" ]; then return 0; fi
    echo "$(date -u +%FT%TZ) skip (needs ${1}s, ${left}s left before $QUEUE_DEADLINE): ${*:2}"; return 1
}

eta() {  # eta ENV ALGO (--seeds N | --seed-list L) --full S ...: seconds the cell still needs here
    .venv/bin/python scripts/cell_eta.py "$RUNS" "$@" --speed "$SPEED" || echo 999999
}

# Capped at 1: the benchmark overstates some machines. On 2026-12-05 it measured 1.37 (278-300
# iterations/s against the reference's 220) on a machine where DDPG Swimmer ran at ~140 env-steps/s
# per run, two side by side, as on the reference itself (a 1M run: ~7100 s, not 7200 / 1.37). A run
# judged too fast is lost at the session's end; one judged too slow only yields its time.
if [ -z "${SPEED:-}" ]; then
    measured=$(.venv/bin/python scripts/machine_speed.py || echo 1)
    SPEED=$(awk -v s="$measured" 'BEGIN { print (s < 1 ? s : 1) }')
    echo "$(date -u +%FT%TZ) machine speed: $measured x the reference (scripts/machine_speed.py), used: $SPEED"
else
    echo "$(date -u +%FT%TZ) machine speed: $SPEED x the reference (given)"
fi
