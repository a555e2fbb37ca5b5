"""The evaluation protocol and code provenance: one evaluation per nominal point, final
windows, code hashes of finished runs, and workers that end with their parent."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from algorithms import REGISTRY
from analysis.report import build_report
from bench import store
from bench.cli import main
from bench.config import load_config
from bench.evaluation import eval_points, final_window
from bench.provenance import algorithm_code, code_identity, source_closure
from bench.runner import Cell, run_cell
from bench.status import status_table
from tests.conftest import PROJECT, strip_wall

PENDULUM = "Pendulum-v1"
TOY_CONFIG = """
seeds = [0, 1, 2]
[envs."Pendulum-v1"]
budget = {budget}
eval_interval = 100
eval_episodes = 2
final_window = 5
checkpoint_seconds = 0.0
"""


def toy_config(tmp_path: Path, budget: int = 1000) -> Path:
    path = tmp_path / f"bench_{budget}.toml"
    path.write_text(TOY_CONFIG.format(budget=budget))
    return path


@pytest.fixture
def jumpy(monkeypatch):
    monkeypatch.setitem(REGISTRY, "jumpy", "tests.toy_algorithms:Jumpy")
    return "jumpy"


def test_eval_points_and_final_window():
    assert eval_points(100_000, 10_000) == list(range(0, 100_001, 10_000))
    assert eval_points(2500, 1000) == [0, 1000, 2000, 2500]
    rows = [{"i": i} for i in range(30)]
    assert final_window(rows, 20) == (rows[10:], False)
    assert final_window(rows[:21], 20) == (rows[1:21], False)
    assert final_window(rows[:20], 20) == (rows[1:20], True)  # would include step 0: left out
    assert final_window(rows[:1], 20) == (rows[:1], True)


def test_an_iteration_crossing_two_points_is_evaluated_at_each(tmp_path, jumpy):
    cfg = load_config(toy_config(tmp_path))
    assert run_cell(Cell(PENDULUM, jumpy, 0), cfg, tmp_path / "runs") == "done"
    d = store.run_dir(tmp_path / "runs", PENDULUM, jumpy, 0)
    rows = store.read_rows(d / store.PROGRESS)
    assert [r["eval_step"] for r in rows] == list(range(0, 1001, 100))
    assert [r["env_steps"] for r in rows] == [0, 200, 200, 400, 400, 600, 600, 800, 800, 1000, 1000]
    # the policy in force after an iteration, evaluated once per point with that point's seeds
    assert rows[1]["eval_return_mean"] != rows[2]["eval_return_mean"]
    final = store.read_json(d / store.FINAL)
    assert final["n_evals"] == 11 and final["final_window"] == 5 and not final["short_window"]
    assert final["final_return"] == pytest.approx(sum(r["eval_return_mean"] for r in rows[-5:]) / 5)


def test_a_budget_with_fewer_points_than_the_window_leaves_out_step_0(tmp_path, jumpy):
    cfg = load_config(toy_config(tmp_path, budget=300))
    run_cell(Cell(PENDULUM, jumpy, 0), cfg, tmp_path / "runs")
    d = store.run_dir(tmp_path / "runs", PENDULUM, jumpy, 0)
    rows = store.read_rows(d / store.PROGRESS)
    final = store.read_json(d / store.FINAL)
    assert len(rows) == 4 and final["short_window"] and final["final_window"] == 3
    assert final["final_return"] == pytest.approx(sum(r["eval_return_mean"] for r in rows[1:]) / 3)
    rep = build_report(tmp_path / "runs", tmp_path / "report", cfg)
    assert "short window (3 evals)" in rep.flagged["notes"].iloc[0]


def test_resume_after_a_crash_between_double_points_is_exact(tmp_path, jumpy, monkeypatch):
    from tests.toy_algorithms import Jumpy

    cfg = load_config(toy_config(tmp_path))
    run_cell(Cell(PENDULUM, jumpy, 1), cfg, tmp_path / "a")
    learn, calls = Jumpy.learn, []

    def crashing(self, until):
        calls.append(until)
        if len(calls) == 4:
            raise RuntimeError("simulated crash")
        learn(self, until)

    monkeypatch.setattr(Jumpy, "learn", crashing)
    assert run_cell(Cell(PENDULUM, jumpy, 1), cfg, tmp_path / "b") == "failed"
    monkeypatch.setattr(Jumpy, "learn", learn)
    assert run_cell(Cell(PENDULUM, jumpy, 1), cfg, tmp_path / "b") == "done"
    rows = [store.read_rows(store.run_dir(tmp_path / s, PENDULUM, jumpy, 1) / store.PROGRESS) for s in "ab"]
    assert strip_wall(rows[0]) == strip_wall(rows[1])


def test_runs_on_other_processors_are_recorded_and_noted_in_table1(tmp_path, jumpy, monkeypatch):
    """meta.json keeps every CPU a run trained on; a cell from more than one CPU model says so."""
    import bench.runner as runner
    from tests.toy_algorithms import Jumpy

    cfg_path = toy_config(tmp_path)
    cfg, runs = load_config(cfg_path), tmp_path / "runs"
    for seed in (0, 1):
        assert run_cell(Cell(PENDULUM, jumpy, seed), cfg, runs) == "done"
    assert "mixed CPUs" not in build_report(runs, tmp_path / "r1", cfg).table1["notes"].iloc[0]
    seed1 = store.run_dir(runs, PENDULUM, jumpy, 1) / store.META  # as a run from before the record
    recorded = store.read_json(seed1)
    store.write_json(seed1, {k: v for k, v in recorded.items() if k not in ("cpu", "cpu_history")})
    notes = build_report(runs, tmp_path / "r0", cfg).table1["notes"].iloc[0]
    assert "CPU unrecorded for 1 of 2 runs" in notes.split("; "), notes
    store.write_json(seed1, recorded)

    learn, calls = Jumpy.learn, []

    def crashing(self, until):
        calls.append(until)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        learn(self, until)

    monkeypatch.setattr(Jumpy, "learn", crashing)
    assert run_cell(Cell(PENDULUM, jumpy, 2), cfg, runs) == "failed"
    monkeypatch.setattr(Jumpy, "learn", learn)
    here = runner._cpu()
    other = {**here, "model": "Other CPU 9000"}
    monkeypatch.setattr(runner, "_cpu", lambda: other)
    assert run_cell(Cell(PENDULUM, jumpy, 2), cfg, runs) == "done"  # resumed on "another machine"
    meta = store.read_json(store.run_dir(runs, PENDULUM, jumpy, 2) / store.META)
    assert meta["cpu_history"] == [here, other] and meta["cpu"] == other
    notes = build_report(runs, tmp_path / "r2", cfg).table1["notes"].iloc[0]
    assert "mixed CPUs (2 models)" in notes.split("; "), notes


def test_code_hash_follows_the_algorithm_module_and_what_it_imports():
    closure = source_closure(["algorithms.poligen"])
    assert {"algorithms.poligen", "algorithms.poligen_nets", "algorithms.common"} <= set(closure)
    assert "algorithms.ars" not in closure and "bench.runner" not in closure
    ars, poligen = algorithm_code("ars"), algorithm_code("poligen")
    assert ars["hash"] != poligen["hash"] and "bench.evaluation" in ars["files"]
    # the registry is orchestration: adding an algorithm's line leaves every hash alone
    assert "algorithms" not in closure and "algorithms" not in ars["files"]


def test_a_running_process_records_the_code_it_loaded(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_toy_module(src)
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.setitem(REGISTRY, "toyedit", "toy_edit:Jumpy")
    sys.modules.pop("toy_edit", None)
    code_identity.cache_clear()
    loaded = algorithm_code("toyedit")["hash"]
    _write_toy_module(src, "\nEDITED_WHILE_A_RUN_IS_UNDER_WAY = True\n")
    assert algorithm_code("toyedit")["hash"] == loaded  # what this process runs
    code_identity.cache_clear()
    assert algorithm_code("toyedit")["hash"] != loaded  # what a new process would run


def test_documentation_edits_keep_the_code_hash(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_toy_module(src)
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.setitem(REGISTRY, "toyedit", "toy_edit:Jumpy")
    code_identity.cache_clear()
    before = algorithm_code("toyedit")["hash"]
    text = (src / "toy_edit.py").read_text()
    documented = text.replace('    """Toy episodic method', '    """Better documented toy episodic method')
    documented = documented.replace("    gain: float = 0.5\n", "    gain: float = 0.5  # a comment\n    \"\"\"doc\"\"\"\n\n")
    assert documented != text
    (src / "toy_edit.py").write_text(documented)
    code_identity.cache_clear()
    assert algorithm_code("toyedit")["hash"] == before
    (src / "toy_edit.py").write_text(documented.replace("gain: float = 0.5", "gain: float = 0.25"))
    code_identity.cache_clear()
    assert algorithm_code("toyedit")["hash"] != before


def _write_toy_module(root: Path, extra: str = "") -> None:
    root.mkdir(exist_ok=True)
    (root / "toy_edit.py").write_text((PROJECT / "tests" / "toy_algorithms.py").read_text() + extra)


def test_an_edited_algorithm_is_reported_kept_and_flagged(tmp_path, monkeypatch, capsys):
    src, runs, cfg_path = tmp_path / "src", tmp_path / "runs", toy_config(tmp_path, budget=400)
    _write_toy_module(src)
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.setitem(REGISTRY, "toyedit", "toy_edit:Jumpy")
    args = ["run", "--algo", "toyedit", "--env", PENDULUM, "--runs-dir", str(runs), "--config", str(cfg_path),
            "--no-progress", "--workers", "1"]
    assert main([*args, "--seed-list", "0"]) == 0
    d0 = store.run_dir(runs, PENDULUM, "toyedit", 0)
    before = (d0 / store.FINAL).read_bytes(), store.read_json(d0 / store.META)["code"]["hash"]

    _write_toy_module(src, "\nAN_EDIT = 'that changes the code, not what it computes'\n")
    # a new process: the edited module is imported and hashed afresh
    sys.modules.pop("toy_edit", None)
    code_identity.cache_clear()
    capsys.readouterr()
    assert main([*args, "--seed-list", "0,1"]) == 0
    err = capsys.readouterr().err
    assert "1 complete cells were made by other code" in err and "toyedit/Pendulum-v1/seed_0" in err
    assert (d0 / store.FINAL).read_bytes() == before[0]  # kept
    d1 = store.run_dir(runs, PENDULUM, "toyedit", 1)
    assert store.read_json(d1 / store.META)["code"]["hash"] != before[1]

    assert "seeds differ" in status_table(runs) and "1 (env, algo) cells hold seeds made by different code" \
        in status_table(runs)
    cfg = load_config(cfg_path)
    rep = build_report(runs, tmp_path / "report", cfg)
    assert rep.flagged["notes"].str.contains("mixed code \\(2 versions\\)").any()
    listed = status_table(runs, cfg)  # against this checkout's code: seed 0 predates the edit
    assert "1 runs were made by other code than this checkout's" in listed
    assert [ln for ln in listed.splitlines() if "other code than this" in ln and " 0  done" in ln]

    assert main([*args, "--seed-list", "0,1", "--fresh"]) == 0  # reruns seed 0 only
    assert store.read_json(d0 / store.META)["code"]["hash"] == store.read_json(d1 / store.META)["code"]["hash"]
    assert "seeds differ" not in status_table(runs)
    assert "other code" not in status_table(runs, cfg)
    rep = build_report(runs, tmp_path / "report", cfg)
    assert not rep.flagged["notes"].str.contains("mixed code").any()


def test_runs_on_more_torch_threads_are_noted_in_table1(tmp_path, monkeypatch):
    """CPU-h per run counts every thread: a cell trained on 2 threads (or mixed) says so."""
    runs, cfg_path = tmp_path / "runs", toy_config(tmp_path, budget=200)
    monkeypatch.setitem(REGISTRY, "jumpy", "tests.toy_algorithms:Jumpy")
    args = ["run", "--algo", "jumpy", "--env", PENDULUM, "--runs-dir", str(runs), "--config", str(cfg_path),
            "--no-progress", "--workers", "1"]
    assert main([*args, "--seed-list", "0,1"]) == 0
    cfg = load_config(cfg_path)
    flagged = build_report(runs, tmp_path / "r1", cfg).flagged
    assert not flagged["notes"].str.contains("threads").any(), flagged  # one thread: nothing to say
    assert main([*args, "--seed-list", "2", "--threads", "2"]) == 0
    notes = build_report(runs, tmp_path / "r2", cfg).table1.set_index("algo").loc["jumpy", "notes"]
    assert "1/2 torch threads per run" in notes.split("; "), notes


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_bench_run_leaves_no_worker_training(tmp_path):
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", "run", "--algo", "ars", "--env", "Swimmer-v3",
                             "--seed-list", "0,1", "--workers", "2", "--budget", "3000000", "--no-progress",
                             "--runs-dir", str(runs)], cwd=PROJECT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    statuses = [store.run_dir(runs, "Swimmer-v3", "ars", s) / store.STATUS for s in (0, 1)]
    deadline = time.time() + 120
    while time.time() < deadline and not all(p.exists() for p in statuses):
        time.sleep(0.2)
    assert all(p.exists() for p in statuses), "workers did not start"
    pids = [store.read_json(p)["pid"] for p in statuses]
    assert proc.pid not in pids and all(_alive(p) for p in pids)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(10)
    alive = [p for p in pids if _alive(p)]
    for p in alive:  # do not leave them behind whatever the outcome
        os.kill(p, signal.SIGKILL)
    assert not alive, f"workers {alive} still running 10 s after kill -9 of bench run"
    shutil.rmtree(runs, ignore_errors=True)
