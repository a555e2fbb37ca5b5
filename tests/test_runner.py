"""Runner and run store: complete run directories, determinism, resume, refusal of mixed configs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from bench import store
from bench.config import load_config
from bench.errors import BenchError
from bench.runner import Cell, run_cell, run_cells
from tests.conftest import PROJECT, kill_midway_then_resume, run_cli, strip_wall

IP = "InvertedPendulum-v2"


def rows_of(runs: Path, algo: str = "ars", env: str = IP, seed: int = 0) -> list[dict]:
    return store.read_rows(store.run_dir(runs, env, algo, seed) / store.PROGRESS)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "x.json"
    store.write_json(target, {"a": 1})

    class Boom:
        def __iter__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        store.write_json(target, {"a": Boom()})  # serialisation fails before anything is written
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_truncated_progress_is_detected(tmp_path):
    path = tmp_path / "progress.csv"
    store.write_rows(path, [{"eval_index": 0, "env_steps": 0, "eval_return_mean": 1.0}])
    path.write_text(path.read_text()[:-3])
    with pytest.raises(BenchError, match="truncated"):
        store.read_rows(path)


def test_complete_run_directory(tmp_path):
    cfg = load_config()
    assert run_cell(Cell(IP, "ars", 0), cfg, tmp_path, budget=3000) == "done"
    d = store.run_dir(tmp_path, IP, "ars", 0)
    for name in ("config.json", "meta.json", "progress.csv", "final.json", "status.json", "model.pt"):
        assert (d / name).exists(), name
    assert not (d / "checkpoint.pt").exists()  # a complete run keeps its model, not its resume state
    meta = store.read_json(d / "meta.json")
    assert meta["gym_id"] == "InvertedPendulum-v4" and meta["env_id"] == IP and "torch" in meta["versions"]
    assert meta["cpu"]["model"] and meta["cpu"]["torch_capability"] == torch.backends.cpu.get_cpu_capability()
    rows = rows_of(tmp_path)
    assert rows[0]["env_steps"] == 0 and rows[-1]["env_steps"] >= 3000
    assert [r["eval_step"] for r in rows] == [0, 1000, 2000, 3000]
    assert all(r["env_steps"] >= r["eval_step"] for r in rows)
    final = store.read_json(d / "final.json")
    window = rows[1:]  # fewer points than final_window: all but the untrained one
    assert final["final_return"] == pytest.approx(sum(r["eval_return_mean"] for r in window) / len(window))
    assert final["short_window"] and final["final_window"] == 3
    assert final["env_steps"] == rows[-1]["env_steps"]
    # a second run skips the finished cell and touches nothing
    before = (d / "final.json").read_bytes(), (d / "progress.csv").read_bytes()
    assert run_cell(Cell(IP, "ars", 0), cfg, tmp_path, budget=3000) == "skipped"
    assert before == ((d / "final.json").read_bytes(), (d / "progress.csv").read_bytes())


def test_same_seed_same_curve(tmp_path):
    cfg = load_config()
    for sub in ("a", "b"):
        run_cell(Cell(IP, "ars", 1), cfg, tmp_path / sub, budget=4000)
    a, b = rows_of(tmp_path / "a", seed=1), rows_of(tmp_path / "b", seed=1)
    assert strip_wall(a) == strip_wall(b)
    run_cell(Cell(IP, "ars", 2), cfg, tmp_path / "a", budget=4000)
    assert strip_wall(rows_of(tmp_path / "a", seed=2)) != strip_wall(a)


def test_config_mismatch_is_refused_unless_fresh(tmp_path):
    cfg = load_config()
    cell = Cell(IP, "ars", 0)
    run_cells([cell], cfg, tmp_path, budget=2000)
    d = store.run_dir(tmp_path, IP, "ars", 0)
    before = (d / "progress.csv").read_bytes()
    with pytest.raises(BenchError, match="different configuration.*protocol.budget"):
        run_cells([cell], cfg, tmp_path, budget=3000)
    assert (d / "progress.csv").read_bytes() == before
    run_cells([cell], cfg, tmp_path, budget=3000, fresh=True)
    assert store.read_json(d / "config.json")["protocol"]["budget"] == 3000


def test_progress_counts_no_steps_of_runs_fresh_discards(tmp_path):
    """--fresh over a run made with another budget: the progress line starts at 0 steps, not
    at the discarded run's, and counts the kept run's."""
    from bench.progress import ProgressDisplay
    from bench.runner import discarded_by_fresh

    cfg = load_config()
    old, kept = Cell(IP, "ars", 0), Cell(IP, "ars", 1)
    run_cells([old], cfg, tmp_path, budget=2000)
    run_cells([kept], cfg, tmp_path, budget=3000)
    restarts = discarded_by_fresh([old, kept], cfg, tmp_path, budget=3000)
    assert restarts == {old}
    display = ProgressDisplay([old, kept], tmp_path, {old: 3000, kept: 3000}, enabled=False, restarts=restarts)
    assert "env steps 3,000/6,000" in display.render()
    status = store.run_dir(tmp_path, IP, "ars", 0) / store.STATUS
    display.outcomes = {old: "running"}  # started, but its stored status not yet replaced
    assert "env steps 3,000/6,000" in display.render()
    os.utime(status, (display.start + 1, display.start + 1))  # the new run's status
    old_steps = store.read_json(store.run_dir(tmp_path, IP, "ars", 0) / store.STATUS)["env_steps"]
    assert f"env steps {3000 + old_steps:,}/6,000" in display.render()


def test_failing_cell_is_marked_and_others_continue(tmp_path, monkeypatch):
    import algorithms.ars as ars_mod

    cfg = load_config()
    original = ars_mod.ARS._iteration

    def broken(self):
        if self.seed == 1:
            raise RuntimeError("diverged")
        return original(self)

    monkeypatch.setattr(ars_mod.ARS, "_iteration", broken)
    out = run_cells([Cell(IP, "ars", 0), Cell(IP, "ars", 1)], cfg, tmp_path, budget=2000)
    assert out[Cell(IP, "ars", 0)] == "done" and out[Cell(IP, "ars", 1)] == "failed"
    status = store.read_json(store.run_dir(tmp_path, IP, "ars", 1) / "status.json")
    assert status["state"] == "failed" and "diverged" in status["error"]


def test_resume_after_sigkill_matches_uninterrupted(tmp_path):
    """Kill a real `bench run` mid-way with SIGKILL, run it again: same rows as an uninterrupted run."""
    config = tmp_path / "bench.toml"  # checkpoint at every evaluation, so the kill lands between checkpoints
    config.write_text((PROJECT / "benchmark.toml").read_text().replace("checkpoint_seconds = 30.0", "checkpoint_seconds = 0.0"))
    args = ["--algo", "ars", "--env", IP, "--seed-list", "3", "--budget", "15000", "--workers", "1", "--no-progress",
            "--config", str(config)]
    killed = tmp_path / "killed"
    progress = store.run_dir(killed, IP, "ars", 3) / "progress.csv"
    kill_midway_then_resume(args, killed, progress, rows_before_kill=5, timeout=120)
    assert run_cli("run", *args, "--runs-dir", str(tmp_path / "clean")).returncode == 0
    resumed, clean = rows_of(killed, seed=3), rows_of(tmp_path / "clean", seed=3)
    assert len(resumed) > 8
    assert strip_wall(resumed) == strip_wall(clean)
    assert store.read_json(progress.parent / "meta.json").get("resumed_at")


def test_threads_are_recorded_and_a_resumed_run_keeps_its_own(tmp_path, monkeypatch):
    """--threads sets torch's thread count of a run that starts; a run resumed under another
    count keeps the one it started with (results are deterministic per count)."""
    import torch

    from algorithms import ars as ars_mod

    cfg = load_config()
    learn, seen = ars_mod.ARS.learn, []

    def crashing(self, until):
        seen.append(torch.get_num_threads())
        if len(seen) == 2:
            raise RuntimeError("simulated crash")
        learn(self, until)

    monkeypatch.setattr(ars_mod.ARS, "learn", crashing)
    cell, before = Cell(IP, "ars", 0), torch.get_num_threads()
    try:
        assert run_cell(cell, cfg.with_threads(2), tmp_path, budget=3000) == "failed"
        monkeypatch.setattr(ars_mod.ARS, "learn", lambda self, until: (seen.append(torch.get_num_threads()),
                                                                         learn(self, until)))
        assert run_cell(cell, cfg, tmp_path, budget=3000) == "done"  # cfg.threads == 1
    finally:
        torch.set_num_threads(before)
    assert set(seen) == {2}
    d = store.run_dir(tmp_path, IP, "ars", 0)
    assert store.read_json(d / store.META)["torch_threads"] == 2
    assert run_cell(Cell(IP, "ars", 1), cfg, tmp_path, budget=2000) == "done"
    assert store.read_json(store.run_dir(tmp_path, IP, "ars", 1) / store.META)["torch_threads"] == 1
    with pytest.raises(BenchError, match="threads"):
        cfg.with_threads(0)


def test_progress_lines_while_waiting_for_cells_elsewhere(tmp_path, capsys):
    """Without a terminal, the progress display prints a line every 30 s and one when every
    cell has settled, not one per poll while `--wait` waits for other processes' cells."""
    from bench.progress import ProgressDisplay

    a, b = Cell(IP, "ars", 0), Cell(IP, "ars", 1)
    display = ProgressDisplay([a, b], tmp_path, {a: 1000, b: 1000}, enabled=False)
    for _ in range(50):  # --wait polls
        display.update({a: "done", b: "elsewhere"})
    assert len(capsys.readouterr().err.splitlines()) == 1
    display.update({a: "done", b: "running"})
    display.update({a: "done", b: "done"})
    assert len(capsys.readouterr().err.splitlines()) == 1
