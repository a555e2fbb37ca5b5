"""The CLI as a new user meets it: bad input gives one error line, no traceback, nothing modified."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import store
from tests.conftest import run_cli, tree_digest

IP = "InvertedPendulum-v2"


@pytest.fixture(scope="module")
def existing_runs(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    out = run_cli("run", "--algo", "ars", "--env", IP, "--seeds", "1", "--budget", "2000",
                  "--runs-dir", str(runs), "--no-progress")
    assert out.returncode == 0, out.stderr
    return runs


def assert_one_clean_error(out, fragment: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and fragment in errors[0], out.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--algo", "nope", "--env", IP], "unknown algorithm 'nope'"),
    (["--algo", "ars", "--env", "Swimer-v3"], "did you mean Swimmer-v3"),
    (["--algo", "ars", "--env", IP, "--seeds", "0"], "expected a positive integer, got '0'"),
    (["--algo", "ars", "--env", IP, "--seeds", "-3"], "expected a positive integer, got '-3'"),
    (["--algo", "ars", "--env", IP, "--seeds", "50"], "lists only 20 seeds"),
    (["--algo", "ars", "--env", IP, "--seed-list", "1,x"], "comma-separated"),
    (["--algo", "ars", "--env", IP, "--budget", "3000"], "different configuration"),
    (["--algo", "ars", "--env", IP, "--budget", "2000", "--eval-interval", "500"], "different configuration"),
    (["--algo", "ars", "--env", IP, "--eval-interval", "0"], "expected a positive integer, got '0'"),
    (["--algo", "ars", "--env", IP, "--final-window", "x"], "expected a positive integer, got 'x'"),
    (["--algo", "ars", "--env", IP, "--threads", "0"], "expected a positive integer, got '0'"),
    (["--algo", "ars", "--env", "CartPole-v1"], "continuous (Box) action space"),
])
def test_bad_run_arguments(existing_runs, args, fragment):
    before = tree_digest(existing_runs)
    out = run_cli("run", *args, "--runs-dir", str(existing_runs), "--no-progress")
    assert_one_clean_error(out, fragment)
    assert tree_digest(existing_runs) == before


def test_malformed_config(existing_runs, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[defaults]\nbudget = -1\n")
    before = tree_digest(existing_runs)
    out = run_cli("run", "--algo", "ars", "--env", IP, "--config", str(bad), "--runs-dir", str(existing_runs))
    assert_one_clean_error(out, "defaults.budget: expected a positive value")
    bad.write_text("seeds = [0,\n")
    out = run_cli("run", "--algo", "ars", "--env", IP, "--config", str(bad), "--runs-dir", str(existing_runs))
    assert_one_clean_error(out, "not valid TOML")
    assert tree_digest(existing_runs) == before


def test_unwritable_runs_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = run_cli("run", "--algo", "ars", "--env", IP, "--runs-dir", str(blocker / "runs"))
    assert_one_clean_error(out, "is not writable")


def test_truncated_progress_file_is_reported(existing_runs):
    d = store.run_dir(existing_runs, IP, "ars", 0)
    progress = d / "progress.csv"
    original = progress.read_bytes()
    try:
        progress.write_bytes(original[:-7])
        out = run_cli("status", "--runs-dir", str(existing_runs))
        assert out.returncode == 0 and "corrupt" in out.stdout and "truncated" in out.stdout
    finally:
        progress.write_bytes(original)


def test_status_and_list(existing_runs):
    out = run_cli("status", "--runs-dir", str(existing_runs))
    assert out.returncode == 0 and "done" in out.stdout and "final" in out.stdout
    out = run_cli("list")
    assert out.returncode == 0 and "ars" in out.stdout and "Swimmer-v3" in out.stdout
    out = run_cli("status", "--runs-dir", "/nonexistent/runs")
    assert_one_clean_error(out, "no run store")


def test_suite_pairs_only_compatible_algorithms_and_envs():
    from bench.cli import _compatible
    from bench.config import load_config

    pairs = _compatible([("InvertedPendulum-v2", "ars"), ("InvertedPendulum-v2", "her"),
                         ("Nav2D-v0", "her"), ("Nav2D-v0", "poligen")], load_config())
    assert pairs == [("InvertedPendulum-v2", "ars"), ("Nav2D-v0", "her")]


def test_protocol_overrides_are_recorded_and_resumed_only_under_the_same_flags(tmp_path):
    """--eval-interval / --final-window: a reduced-budget run evaluated densely. config.json and
    final.json record them; the same command again trains nothing; without them the stored run
    is another configuration (one error line, nothing touched)."""
    args = ["run", "--algo", "ars", "--env", IP, "--seeds", "1", "--budget", "2000", "--eval-interval", "500",
            "--final-window", "2", "--runs-dir", str(tmp_path), "--no-progress"]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    d = store.run_dir(tmp_path, IP, "ars", 0)
    protocol = store.read_json(d / store.CONFIG)["protocol"]
    assert (protocol["budget"], protocol["eval_interval"], protocol["final_window"]) == (2000, 500, 2)
    rows = store.read_rows(d / store.PROGRESS)
    assert [r["eval_step"] for r in rows] == [0, 500, 1000, 1500, 2000]
    final = store.read_json(d / store.FINAL)
    assert final["final_window"] == 2
    assert final["final_return"] == pytest.approx((rows[-1]["eval_return_mean"] + rows[-2]["eval_return_mean"]) / 2)
    before = tree_digest(tmp_path)
    again = run_cli(*args)
    assert again.returncode == 0 and "1 already complete" in again.stderr, again.stderr
    out = run_cli("run", "--algo", "ars", "--env", IP, "--seeds", "1", "--budget", "2000",
                  "--runs-dir", str(tmp_path), "--no-progress")
    assert_one_clean_error(out, "different configuration")
    assert tree_digest(tmp_path) == before


def test_workers_default_to_the_cores_the_threads_leave_and_oversubscription_warns(monkeypatch, capsys):
    import argparse

    from bench import cli

    monkeypatch.setattr(cli.os, "cpu_count", lambda: 4)

    def workers(w, threads, executor="local"):
        return cli._workers(argparse.Namespace(workers=w, executor=executor), threads)

    assert [workers(None, t) for t in (1, 2, 3, 8)] == [4, 2, 1, 1]
    assert workers(None, 2, "ray") == 4  # a local Ray gets every core; its tasks ask for 2 CPUs each
    assert capsys.readouterr().err == ""
    assert workers(2, 2) == 2 and capsys.readouterr().err == ""  # fits: 4 threads on 4 cores
    assert workers(3, 2) == 3  # asked for: kept, with one warning line
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("warning: 3 workers x 2 torch threads > 4 cores")
