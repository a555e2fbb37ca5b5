"""``bench tune``: grids, validation, ranking, and resuming like any run (issue 11)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib

import pandas as pd
import pytest

from bench.config import load_config
from bench.errors import BenchError
from bench.tune import grid_configurations, order, parse_grid, variant_name
from tests.conftest import PROJECT, run_cli
from tests.test_cli import assert_one_clean_error

IP = "InvertedPendulum-v2"
ARGS = ["--algo", "ars", "--env", IP, "--grid", "step_size=0.01,0.001", "--seeds", "2", "--budget", "3000",
        "--no-progress", "--workers", "1"]


def test_grid_parsing_and_configurations():
    grid = parse_grid(["step_size=0.01,1e-3", "n_directions+top_directions=8+4,32+16", "policy=linear"])
    assert grid == {"step_size": [0.01, 0.001], "n_directions+top_directions": [[8, 4], [32, 16]],
                    "policy": ["linear"]}
    configs = grid_configurations(load_config(), "ars", grid)
    assert len(configs) == 4 and configs[1] == {"step_size": 0.01, "n_directions": 32, "top_directions": 16,
                                                "policy": "linear"}
    assert variant_name("ars", configs[1]) == "ars~step_size=0.01~n_directions=32~top_directions=16~policy=linear"
    shipped = load_config().tune
    assert len(grid_configurations(load_config(), "ars", shipped["ars"])) == 63  # the paper's B.3 grid
    assert len(grid_configurations(load_config(), "udrl", shipped["udrl"])) == 18


@pytest.mark.parametrize("items, fragment", [
    (["step_size"], "expected name=value1,value2"),
    (["n_directions+top_directions=8"], "needs 2 parts joined by '+'"),
    (["stepsize=0.1"], "stepsize: unknown hyperparameter"),
    (["step_size=big"], "step_size: expected float"),
    (["n_directions+top_directions=4+8"], "top_directions"),  # b <= N, from ARS's own Config check
])
def test_bad_grid_is_one_error(items, fragment):
    with pytest.raises(BenchError) as info:
        grid_configurations(load_config(), "ars", parse_grid(items))
    assert fragment in str(info.value)


def test_cli_errors_are_one_line(tmp_path):
    assert_one_clean_error(run_cli("tune", "--algo", "nope", "--env", IP, "--grid", "a=1",
                                   "--runs-dir", str(tmp_path)), "unknown algorithm 'nope'")
    assert_one_clean_error(run_cli("tune", "--algo", "ddpg", "--env", IP, "--runs-dir", str(tmp_path)),
                           "declare [tune.ddpg]")
    assert_one_clean_error(run_cli("tune", "--algo", "ars", "--env", IP, "--grid", "noise=0.1,x",
                                   "--runs-dir", str(tmp_path)), "noise: expected float")


def test_tune_ranks_writes_skips_and_resumes(tmp_path):
    whole = tmp_path / "whole"
    out = run_cli("tune", *ARGS, "--runs-dir", str(whole))
    assert out.returncode == 0, out.stderr
    ranking = pd.read_csv(whole / "_tune" / IP / "ars" / "ranking.csv")
    assert list(ranking["rank"]) == [1, 2] and sorted(ranking["step_size"]) == [0.001, 0.01]
    assert ranking["mean"].is_monotonic_decreasing and (ranking["seeds"] == 2).all()
    best = tomllib.loads((whole / "_tune" / IP / "ars" / "best.toml").read_text())
    assert best["algos"]["ars"]["env"][IP]["step_size"] == ranking["step_size"][0]
    assert "| 1 | step_size=" in out.stdout and f'[algos.ars.env."{IP}"]' in out.stdout
    for v in ranking["variant"]:
        assert sorted(p.name for p in (whole / IP / v).iterdir()) == ["seed_0", "seed_1"]

    again = run_cli("tune", *ARGS, "--runs-dir", str(whole))
    assert again.returncode == 0 and "0 runs trained, 4 already complete" in again.stderr
    assert again.stdout == out.stdout

    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "tune", *ARGS, "--runs-dir", str(killed)],
                            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = killed / IP / ranking["variant"].min() / "seed_1" / "progress.csv"
    deadline = time.time() + 300
    while time.time() < deadline and not (first.exists() and first.read_text().count("\n") > 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "_tune").exists(), "tune finished before it could be killed"
    resumed = run_cli("tune", *ARGS, "--runs-dir", str(killed))
    assert resumed.returncode == 0, resumed.stderr
    cols = ["configuration", "mean", "lo", "hi", "seeds"]
    pd.testing.assert_frame_equal(pd.read_csv(killed / "_tune" / IP / "ars" / "ranking.csv")[cols], ranking[cols])


def test_ties_at_the_ceiling_go_to_the_faster_learner():
    """Several ARS configurations end at InvertedPendulum's 1000 on every seed: the one with
    the higher mean return over its curve ranks first; configurations without runs last."""
    nan = float("nan")
    ranked = order(pd.DataFrame({"configuration": ["a", "b", "c", "d", "e"],
                                 "mean": [1000.0, 1000.0, 990.0, nan, 1000.0],
                                 "curve_mean": [700.0, 850.0, 900.0, nan, 850.0]}))
    assert list(ranked["configuration"]) == ["b", "e", "a", "c", "d"]
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5]


def test_sampled_search_runs_its_trials_only_and_replays_them(tmp_path):
    """--trials: Optuna's TPE picks configurations of the grid one after another; the ranking
    covers those it tried, and the same command again replays the suggestions without training."""
    args = ["--algo", "ars", "--env", IP, "--grid", "step_size=0.02,0.01,0.001", "--grid", "noise=0.05,0.025",
            "--seeds", "1", "--budget", "1000", "--no-progress", "--workers", "1", "--runs-dir", str(tmp_path),
            "--trials", "3"]
    out = run_cli("tune", *args)
    assert out.returncode == 0, out.stderr
    trial_lines = [ln for ln in out.stderr.splitlines() if " trial " in ln]
    assert len(trial_lines) == 3 and trial_lines[0].startswith(f"bench tune: {IP} trial 1/3: ars~step_size=")
    ranking = pd.read_csv(tmp_path / "_tune" / IP / "ars" / "ranking.csv")
    tried = {ln.split(": ")[2] for ln in trial_lines}
    assert set(ranking["variant"]) == tried and 1 <= len(tried) <= 3
    assert ranking["mean"].is_monotonic_decreasing and (ranking["seeds"] == 1).all()
    made = sorted(p.name for p in (tmp_path / IP).iterdir())
    assert made == sorted(tried)  # nothing of the 6-configuration grid beyond the trials ran

    again = run_cli("tune", *args)
    assert again.returncode == 0, again.stderr
    assert f"0 runs trained, {len(tried)} already complete" in again.stderr
    assert [ln for ln in again.stderr.splitlines() if " trial " in ln] == trial_lines
    assert again.stdout == out.stdout
