"""scripts/queue_lib.sh: the session deadline check that decides whether a long run may start."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

from conftest import PROJECT


def fits(seconds: int, deadline: str) -> subprocess.CompletedProcess:
    """Source queue_lib.sh (speed given, so nothing is measured) and call `fits SECONDS`."""
    script = f'source "{PROJECT}/scripts/queue_lib.sh" >/dev/null; fits {seconds} some run'
    env = {**os.environ, "QUEUE_DEADLINE": deadline, "SPEED": "1", "RUNS": "/nonexistent"}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def clock(hours_from_now: float) -> str:
    return (dt.datetime.now() + dt.timedelta(hours=hours_from_now)).strftime("%H:%M")


def test_deadline_two_hours_ahead_fits_only_runs_that_end_before_it():
    assert fits(3600, clock(2)).returncode == 0
    late = fits(3 * 3600, clock(2))
    assert late.returncode == 1 and "skip (needs 10800s" in late.stdout


def test_deadline_past_midnight_is_tomorrows():
    # "HH:MM" 13 h back is, as a clock time, 11 h ahead: a session that crosses midnight
    assert fits(10 * 3600, clock(-13)).returncode == 0
    assert fits(12 * 3600, clock(-13)).returncode == 1


def test_deadline_just_passed_stays_passed():  # also when "an hour ago" was yesterday
    assert fits(60, clock(-1)).returncode == 1
    assert fits(60, clock(-11)).returncode == 1
