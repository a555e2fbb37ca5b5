"""scripts/cell_eta.py: the wall time a cell still needs, as the background queue tests it."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT

SW = "Swimmer-v3"


def eta(runs, *args: str) -> int:
    out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "cell_eta.py"), str(runs), SW, "ddpg", *args],
                         capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout)


def progress(run, steps: int, wall: float) -> None:
    run.mkdir(parents=True)
    (run / "progress.csv").write_text(f"eval_index,env_steps,wall_time\n0,0,0.1\n1,{steps},{wall}\n")


def test_complete_resumed_and_new_runs_packed_on_workers(tmp_path):
    assert eta(tmp_path, "--seeds", "2", "--budget", "1000", "--full", "100", "--workers", "2") == 100
    assert eta(tmp_path, "--seeds", "2", "--budget", "1000", "--full", "100") == 200  # one worker: in turn
    progress(tmp_path / SW / "ddpg" / "seed_0", 800, 40.0)  # 200 steps left at 0.05 s a step
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100") == 10
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "5") == 5  # at most a whole run
    (tmp_path / SW / "ddpg" / "seed_0" / "final.json").write_text("{}")
    assert eta(tmp_path, "--seeds", "3", "--budget", "1000", "--full", "100", "--workers", "2") == 100


def test_a_slower_machine_needs_more_than_a_whole_reference_run(tmp_path):
    """--full is the reference machine's: divided by --speed; a run in progress keeps its own rate."""
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100", "--speed", "0.5") == 200
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100", "--speed", "2") == 50
    progress(tmp_path / SW / "ddpg" / "seed_0", 500, 200.0)  # 500 steps left at 0.4 s a step
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100", "--speed", "0.25") == 200
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100", "--speed", "1") == 100  # capped


def test_machine_speed_measures_a_positive_rate():
    out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "machine_speed.py"), "--seconds", "0.2"],
                         capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) > 0


def test_seed_list_names_the_seeds(tmp_path):
    """--seed-list picks seeds by value (the ablation queue gates one seed at a time), not the first N."""
    progress(tmp_path / SW / "ddpg" / "seed_3", 900, 90.0)  # 100 steps left at 0.1 s a step
    assert eta(tmp_path, "--seed-list", "3", "--budget", "1000", "--full", "100") == 10
    assert eta(tmp_path, "--seed-list", "0,3", "--budget", "1000", "--full", "100") == 110
    out = subprocess.run([sys.executable, str(PROJECT / "scripts" / "cell_eta.py"), str(tmp_path), SW, "ddpg",
                          "--seed-list", "a", "--full", "1"], capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert out.returncode == 2 and "--seed-list" in out.stderr


def test_a_run_in_progress_needs_at_most_a_whole_run_less_what_it_has_had(tmp_path):
    """PoliGen's early steps are its slow ones: a run at 10% after 40% of a whole run's time needs <= 60%."""
    progress(tmp_path / SW / "ddpg" / "seed_0", 100, 40.0)  # 900 steps left at 0.4 s a step: 360 s
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100") == 60
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100", "--speed", "0.5") == 160


def test_a_run_made_at_another_budget_needs_a_whole_run(tmp_path):
    """bench run starts afresh a run whose budget differs (the 50k Hopper ablation run before the 200k one)."""
    run = tmp_path / SW / "ddpg" / "seed_0"
    progress(run, 500, 20.0)
    (run / "final.json").write_text("{}")
    (run / "status.json").write_text('{"state": "done", "budget": 500}')
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100") == 100
    assert eta(tmp_path, "--seeds", "1", "--budget", "500", "--full", "100") == 0
    (run / "final.json").unlink()
    (run / "status.json").write_text('{"state": "running", "budget": 2000}')  # 1500 steps left at 0.04 s
    assert eta(tmp_path, "--seeds", "1", "--budget", "1000", "--full", "100") == 100
    assert eta(tmp_path, "--seeds", "1", "--budget", "2000", "--full", "100") == 60


def test_a_run_past_a_whole_runs_time_needs_the_rest_at_its_recent_rate(tmp_path):
    """PoliGen Hopper seed 1: slow for 1M steps on short episodes, then fast on long ones."""
    run = tmp_path / SW / "ddpg" / "seed_0"
    run.mkdir(parents=True)
    rows = [(i, i * 100, 10.0 * i) for i in range(11)]            # 0-1000 steps: 0.1 s a step
    rows += [(11 + i, 1100 + i * 100, 101.0 + i) for i in range(10)]  # then 0.01 s a step
    (run / "progress.csv").write_text("eval_index,env_steps,wall_time\n"
                                      + "".join(f"{i},{s},{w}\n" for i, s, w in rows))
    # at 2000 steps after 110 s, a whole run's 100 s is spent: 1000 steps left at the recent 0.01 s
    assert eta(tmp_path, "--seeds", "1", "--budget", "3000", "--full", "100") == 10
