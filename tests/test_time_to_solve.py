"""scripts/time_to_solve.py: when a run first reaches a return, optionally for K evaluations in a row."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT

HEADER = "eval_index,env_steps,wall_time,eval_return_mean\n"
# a lone spike at 20 (as PoliGen Hopper seed 2's 1003 at 120k), then solved for good from 50
CURVE = [(0, 0.0, 10.0), (10, 1.0, 50.0), (20, 2.0, 1003.0), (30, 3.0, 200.0), (40, 4.0, 210.0),
         (50, 60.0, 1500.0), (60, 120.0, 2100.0), (70, 180.0, 2500.0)]


def solve(runs, *args: str) -> str:
    out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "time_to_solve.py"), str(runs), "Hopper-v3",
                          "poligen", "--threshold", "1000", *args],
                         capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_consecutive_skips_a_lone_spike_and_bounds_unsolved_seeds(tmp_path):
    run = tmp_path / "Hopper-v3" / "poligen"
    (run / "seed_0").mkdir(parents=True)
    (run / "seed_0" / "progress.csv").write_text(HEADER + "".join(f"{i},{s},{w},{r}\n" for i, (s, w, r) in enumerate(CURVE)))
    (run / "seed_1").mkdir()
    (run / "seed_1" / "progress.csv").write_text(HEADER + "0,0,0.0,5.0\n1,10,120.0,1200.0\n2,20,240.0,400.0\n")
    first = solve(tmp_path)
    assert "seed  0:        20 env steps" in first and "2/2 seeds reached it" in first
    held = solve(tmp_path, "--consecutive", "3")
    assert "first of 3 evaluations in a row" in held
    assert "seed  0:        50 env steps       1.0 min" in held
    assert "seed  1: >       20 env steps  >     4.0 min" in held and "1/2 seeds reached it" in held


def test_bad_consecutive_is_one_error_line(tmp_path):
    out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "time_to_solve.py"), str(tmp_path), "Hopper-v3",
                          "poligen", "--threshold", "1", "--consecutive", "0"],
                         capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert out.returncode != 0 and out.stderr.strip() == "error: --consecutive must be >= 1"
