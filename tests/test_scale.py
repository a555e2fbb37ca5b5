"""Safe at scale: one trainer per cell (leases), graceful stop on SIGTERM, Ray retries,
umask-following file modes and full disks. Real `bench run` processes throughout."""

from __future__ import annotations

import errno
import multiprocessing as mp
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import lease as leases
from bench import store
from bench.config import load_config
from bench.runner import Cell, run_cell, run_cells
from bench.status import cell_state, status_table
from tests.conftest import PROJECT, run_cli, strip_wall

IP, MC = "InvertedPendulum-v2", "MountainCarContinuous-v0"
ENV = {**os.environ, "PYTHONWARNINGS": "ignore"}


def start_run(*args: str, runs: Path, umask: int | None = None) -> subprocess.Popen:
    """Start `bench run ... --runs-dir runs` in the background (stderr captured)."""
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.Popen([sys.executable, "-m", "bench.cli", "run", *args, "--runs-dir", str(runs)], cwd=PROJECT,
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=pre)


def wait_rows(progress: Path, n: int, proc: subprocess.Popen | None = None, timeout: float = 180) -> None:
    """Wait until ``progress`` holds at least ``n`` evaluation rows."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if progress.exists() and progress.read_text().count("\n") > n:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"bench run ended early: {proc.stderr.read() if proc.stderr else ''}")
        time.sleep(0.05)
    raise AssertionError(f"{progress}: fewer than {n} rows after {timeout} s")


def rows(runs: Path, cell: Cell) -> list[dict]:
    return strip_wall(store.read_rows(store.run_dir(runs, cell.env_id, cell.algo, cell.seed) / store.PROGRESS))


def clean_rows(tmp_path: Path, cell: Cell, config: Path | None, budget: int) -> list[dict]:
    """Rows of an uninterrupted run of ``cell``."""
    cfg = load_config(config)
    assert run_cell(cell, cfg, tmp_path / "clean", budget=budget) == "done"
    return rows(tmp_path / "clean", cell)


# ------------------------------------------------------------------------ leases


def _try_acquire(d: str, owner: str | None, queue) -> None:
    got = leases.acquire(Path(d), owner=owner, heartbeat=False)
    queue.put(isinstance(got, leases.Lease))
    time.sleep(2)  # hold it (without releasing) while the others try


def _race(d: Path, n: int = 6) -> list[bool]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_try_acquire, args=(str(d), None, queue)) for _ in range(n)]
    for p in procs:
        p.start()
    won = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join()
    return won


def test_lease_is_exclusive_and_stale_leases_are_taken_over_once(tmp_path):
    d = tmp_path / "cell"
    assert sum(_race(d)) == 1  # a fresh lease: one winner among concurrent processes
    # the winner is gone now (exited without releasing): its lease is stale, and again
    # exactly one of the processes racing to take it over wins
    h = leases.read_holder(d)
    assert h is not None and h.here and h.stale()
    assert sum(_race(d)) == 1
    assert not list(d.glob(".lease.json.*")) and not (d / leases.BREAK).exists()


def test_lease_of_another_host_is_left_until_its_heartbeat_is_old(tmp_path, monkeypatch):
    d = tmp_path / "cell"
    d.mkdir()
    (d / leases.LEASE).write_text('{"host": "node-17", "pid": 4242, "token": "t", "owner": null, '
                                  '"acquired_at": 0}\n')
    monkeypatch.setenv("BENCH_LEASE_TIMEOUT", "300")
    got = leases.acquire(d)
    assert isinstance(got, leases.Holder) and got.host == "node-17"  # heartbeat is recent: alive
    assert cell_state(d)[0] == "running"
    old = time.time() - 301
    os.utime(d / leases.LEASE, (old, old))  # no heartbeat for 5 minutes: that host is gone
    got = leases.acquire(d)
    assert isinstance(got, leases.Lease) and got.took_over.host == "node-17"
    assert leases.read_holder(d).pid == os.getpid()
    got.release()
    assert not (d / leases.LEASE).exists()


def test_a_holder_whose_lease_was_taken_over_notices(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_LEASE_TIMEOUT", "2")
    d = tmp_path / "cell"
    mine = leases.acquire(d, heartbeat=False)
    assert isinstance(mine, leases.Lease)
    (d / leases.LEASE).unlink()  # as a taker that judged this process dead would
    other = leases.acquire(d, heartbeat=False)
    assert isinstance(other, leases.Lease)
    with pytest.raises(leases.LeaseLost):
        mine.check()
    mine.release()  # leaves the other's lease alone
    assert leases.read_holder(d).token == other.token
    other.release()


def test_a_retry_of_the_same_task_takes_over_at_once(tmp_path):
    """Ray retries a task only once its worker died, even on a host this one cannot check:
    a lease with the caller's owner id is taken over whatever its heartbeat."""
    d = tmp_path / "cell"
    first = leases.acquire(d, owner="ray-run-7", heartbeat=False)
    assert isinstance(leases.acquire(d, owner="ray-run-8", heartbeat=False), leases.Holder)
    retry = leases.acquire(d, owner="ray-run-7", heartbeat=False)
    assert isinstance(retry, leases.Lease) and retry.took_over.token == first.token
    assert not first.held() and retry.held()
    retry.release()


def test_two_concurrent_runs_train_each_cell_once(tmp_path):
    """Two `bench run` on the same cells at once: every cell trained by one of them, both
    exit 0, and the runs equal uninterrupted ones."""
    cells = [Cell(IP, "ars", s) for s in (0, 1)]
    args = ["--algo", "ars", "--env", IP, "--seed-list", "0,1", "--budget", "10000", "--workers", "1",
            "--no-progress"]
    runs = tmp_path / "runs"
    procs = [start_run(*args, runs=runs) for _ in range(2)]
    errs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    done = [int(re.search(r"bench run: (\d+) done", e).group(1)) for e in errs]
    assert sum(done) == len(cells), errs  # without leases both would train both: 4
    assert any("running elsewhere" in e or "already complete" in e for e in errs)
    print("\n".join(e.strip().splitlines()[-1] for e in errs))
    for cell in cells:
        d = store.run_dir(runs, cell.env_id, cell.algo, cell.seed)
        assert store.read_json(d / store.STATUS)["state"] == "done"
        assert "resumed_at" not in store.read_json(d / store.META)  # trained in one go
        assert not (d / leases.LEASE).exists()
        assert rows(runs, cell) == clean_rows(tmp_path, cell, None, 10000)


def test_wait_waits_for_the_holder_then_trains(tmp_path):
    cell = Cell(IP, "ars", 0)
    d = store.run_dir(tmp_path / "runs", IP, "ars", 0)
    held = leases.acquire(d)  # a live process (this one) trains the cell
    args = ["--algo", "ars", "--env", IP, "--seed-list", "0", "--budget", "2000", "--workers", "1", "--no-progress"]
    r = run_cli("run", *args, "--runs-dir", str(tmp_path / "runs"))
    assert r.returncode == 0 and "1 cells running elsewhere" in r.stderr
    assert not (d / store.PROGRESS).exists()
    assert "running" in status_table(tmp_path / "runs") and f"pid {os.getpid()}" in status_table(tmp_path / "runs")
    proc = start_run(*args, "--wait", runs=tmp_path / "runs")
    time.sleep(8)
    assert proc.poll() is None and not (d / store.PROGRESS).exists()  # waiting
    held.release()
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert "1 done" in proc.stderr.read()
    assert store.read_json(d / store.STATUS)["state"] == "done"


def test_lease_of_a_killed_run_is_taken_over(tmp_path):
    """SIGKILL leaves the lease behind; the next run sees a dead holder, takes the cell over
    and resumes it to the rows of an uninterrupted run."""
    config = tmp_path / "bench.toml"
    config.write_text((PROJECT / "benchmark.toml").read_text().replace("checkpoint_seconds = 30.0",
                                                                       "checkpoint_seconds = 0.0"))
    cell = Cell(IP, "ars", 3)
    args = ["--algo", "ars", "--env", IP, "--seed-list", "3", "--budget", "20000", "--workers", "1", "--no-progress",
            "--config", str(config)]
    runs = tmp_path / "runs"
    d = store.run_dir(runs, IP, "ars", 3)
    proc = start_run(*args, runs=runs)
    wait_rows(d / store.PROGRESS, 5, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    holder = leases.read_holder(d)
    assert holder is not None and holder.pid == proc.pid and holder.stale()
    assert cell_state(d)[0] == "interrupted" and "is gone" in status_table(runs)
    r = run_cli("run", *args, "--runs-dir", str(runs))
    assert r.returncode == 0 and "1 done" in r.stderr, r.stderr
    assert store.read_json(d / store.META).get("resumed_at") and not (d / leases.LEASE).exists()
    assert rows(runs, cell) == clean_rows(tmp_path, cell, config, 20000)


# ------------------------------------------------------------------------ graceful stop

SMALL_DDPG = ('seeds = [0]\n[envs."Swimmer-v3"]\nbudget = 2000\neval_interval = 250\neval_episodes = 1\n'
              "final_window = 2\n[algos.ddpg]\nhidden_sizes = [32, 32]\nbatch_size = 32\nbuffer_size = 5000\n"
              "random_steps = 600\nlearning_starts = 200\ngradient_steps = 5\n")
SIGTERM_CASES = {  # algo: (env, seeds, budget, rows before the signal, config text or None)
    "ars": (IP, (0, 1), 15000, 3, None),  # ~3 s left after the signal: a fast machine must not finish first
    "poligen": (MC, (4,), 6000, 2, None),
    "ddpg": ("Swimmer-v3", (0,), 2000, 2, SMALL_DDPG),
}


@pytest.mark.parametrize("algo", [pytest.param("ars"), pytest.param("poligen", marks=pytest.mark.slow),
                                  pytest.param("ddpg", marks=pytest.mark.slow)])
def test_sigterm_checkpoints_marks_interrupted_and_resumes_exactly(tmp_path, algo):
    """SIGTERM to `bench run` (ARS: two cells in the worker pool) stops every running cell at
    its next safe point with a fresh checkpoint and status "interrupted"; the command exits
    143 with one line; running it again gives the rows of an uninterrupted run."""
    env, seeds, budget, n_rows, text = SIGTERM_CASES[algo]
    config = None
    if text:
        config = tmp_path / "bench.toml"
        config.write_text(text)
    cells = [Cell(env, algo, s) for s in seeds]
    args = ["--algo", algo, "--env", env, "--seed-list", ",".join(map(str, seeds)), "--budget", str(budget),
            "--workers", str(len(seeds)), "--no-progress", *(["--config", str(config)] if config else [])]
    runs = tmp_path / "runs"
    dirs = [store.run_dir(runs, c.env_id, c.algo, c.seed) for c in cells]
    proc = start_run(*args, runs=runs)
    for d in dirs:
        wait_rows(d / store.PROGRESS, n_rows, proc)
    sent = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    took = time.time() - sent
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith(
        f"error: stopped by SIGTERM: {len(cells)} cells checkpointed (interrupted)"), err
    for d in dirs:
        status = store.read_json(d / store.STATUS)
        assert status["state"] == "interrupted" and cell_state(d)[0] == "interrupted"
        assert (d / store.CHECKPOINT).stat().st_mtime >= sent - 0.5  # written on the way out
        ck = store.load_checkpoint(d / store.CHECKPOINT)
        assert len(ck["progress"]) == len(store.read_rows(d / store.PROGRESS)) == status["n_evals"]
        assert ck["algo"]["env_steps"] == status["env_steps"] < budget
        assert not (d / leases.LEASE).exists() and not (d / store.FINAL).exists()
    assert "interrupted" in status_table(runs)
    print(f"{algo}: stopped {took:.1f} s after SIGTERM")
    r = run_cli("run", *args, "--runs-dir", str(runs))
    assert r.returncode == 0, r.stderr
    for c in cells:
        assert rows(runs, c) == clean_rows(tmp_path, c, config, budget)


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    config = tmp_path / "bench.toml"
    # after the evaluation at 500 steps, one learn chunk of 10 x 300 updates (~3-7 s here): the
    # graceful stop the first Ctrl-C asks for waits for the chunk's end, the second must not
    config.write_text(SMALL_DDPG.replace("budget = 2000", "budget = 1000").replace("eval_interval = 250",
                      "eval_interval = 500").replace("random_steps = 600", "random_steps = 300").replace(
                      "learning_starts = 200", "learning_starts = 450").replace("gradient_steps = 5",
                                                                                "gradient_steps = 300"))
    d = store.run_dir(tmp_path / "runs", "Swimmer-v3", "ddpg", 0)
    proc = start_run("--algo", "ddpg", "--env", "Swimmer-v3", "--seed-list", "0", "--workers", "1", "--no-progress",
                     "--config", str(config), runs=tmp_path / "runs")
    wait_rows(d / store.PROGRESS, 2, proc)  # the evaluation at 500 steps is written
    time.sleep(0.3)  # inside the next chunk
    proc.send_signal(signal.SIGINT)
    # 0.3 s, not 50 ms: two SIGINTs that both arrive while the interpreter is inside one C call
    # reach Python as one. (CI once saw a plain graceful stop here: the chunk was then 250 steps
    # with 25 updates, a fraction of a second, and could end between the two signals.)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().splitlines()[-1].startswith("error: interrupted"), err
    assert store.read_json(d / store.STATUS)["state"] == "interrupted" and not (d / leases.LEASE).exists()


# ------------------------------------------------------------------------ Ray


@pytest.mark.slow
def test_ray_worker_killed_mid_cell_is_retried_and_resumes(tmp_path):
    pytest.importorskip("ray")
    config = tmp_path / "bench.toml"
    config.write_text((PROJECT / "benchmark.toml").read_text().replace("checkpoint_seconds = 30.0",
                                                                       "checkpoint_seconds = 0.0"))
    cell = Cell(IP, "ars", 2)
    runs = tmp_path / "runs"
    d = store.run_dir(runs, IP, "ars", 2)
    proc = start_run("--algo", "ars", "--env", IP, "--seed-list", "2", "--budget", "30000", "--workers", "1",
                     "--no-progress", "--config", str(config), "--executor", "ray", runs=runs)
    wait_rows(d / store.PROGRESS, 6, proc, timeout=300)
    worker = store.read_json(d / store.STATUS)["pid"]
    assert worker != proc.pid
    os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "1 done" in err, err
    meta = store.read_json(d / store.META)
    assert meta.get("resumed_at"), "the cell was not resumed by a retry"
    assert store.read_json(d / store.STATUS)["pid"] != worker
    assert rows(runs, cell) == clean_rows(tmp_path, cell, config, 30000)


# ------------------------------------------------------------------------ files


def test_run_files_follow_the_umask(tmp_path):
    runs = tmp_path / "runs"
    proc = start_run("--algo", "ars", "--env", IP, "--seed-list", "0", "--budget", "2000", "--workers", "1",
                     "--no-progress", runs=runs, umask=0o022)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    files = [p for p in runs.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"config.json", "meta.json", "progress.csv", "final.json", "status.json",
                                       "model.pt"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o644" for p in files}
    old = os.umask(0o077)
    try:
        store.write_json(tmp_path / "private.json", {})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_a_full_disk_keeps_the_previous_checkpoint_and_fails_clearly(tmp_path, monkeypatch):
    """A checkpoint write that fails with ENOSPC (the OS simulated by a torch.save that fills
    part of the file, then fails) leaves the previous checkpoint as it was, no temporary
    file, and the cell failed with one clear error; once there is room it resumes exactly."""
    import torch

    config = tmp_path / "bench.toml"
    config.write_text((PROJECT / "benchmark.toml").read_text().replace("checkpoint_seconds = 30.0",
                                                                       "checkpoint_seconds = 0.0"))
    cfg = load_config(config)
    cell = Cell(IP, "ars", 1)
    d = store.run_dir(tmp_path / "runs", IP, "ars", 1)
    real_save, calls, before = torch.save, [], []

    def save(obj, fh, *a, **k):
        calls.append(1)
        if len(calls) == 4:
            before.append((d / store.CHECKPOINT).read_bytes())
            fh.write(b"partial checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, fh, *a, **k)

    monkeypatch.setattr(torch, "save", save)
    assert run_cell(cell, cfg, tmp_path / "runs", budget=6000) == "failed"
    monkeypatch.setattr(torch, "save", real_save)
    status = store.read_json(d / store.STATUS)
    assert status["state"] == "failed"
    assert status["error"] == f"cannot write {d / store.CHECKPOINT}: No space left on device; the previous " \
                              f"version is kept"
    assert (d / store.CHECKPOINT).read_bytes() == before[0]  # intact: the previous one
    assert len(store.load_checkpoint(d / store.CHECKPOINT)["progress"]) >= 2
    assert sorted(p.name for p in d.iterdir() if p.name.startswith(".")) == []
    assert not (d / leases.LEASE).exists()
    assert "No space left on device" in status_table(tmp_path / "runs")
    assert run_cell(cell, cfg, tmp_path / "runs", budget=6000) == "done"
    assert rows(tmp_path / "runs", cell) == clean_rows(tmp_path, cell, config, 6000)


def test_run_cells_leaves_cells_leased_elsewhere(tmp_path):
    cfg = load_config()
    cells = [Cell(IP, "ars", 0), Cell(IP, "ars", 1)]
    held = leases.acquire(store.run_dir(tmp_path, IP, "ars", 1))
    try:
        out = run_cells(cells, cfg, tmp_path, budget=1000)
    finally:
        held.release()
    assert out == {cells[0]: "done", cells[1]: "elsewhere"}


@pytest.mark.slow
def test_sigterm_to_a_ray_run_stops_its_tasks_gracefully(tmp_path):
    pytest.importorskip("ray")
    cell = Cell(IP, "ars", 5)
    args = ["--algo", "ars", "--env", IP, "--seed-list", "5", "--budget", "40000", "--workers", "1",
            "--no-progress", "--executor", "ray"]
    runs = tmp_path / "runs"
    d = store.run_dir(runs, IP, "ars", 5)
    proc = start_run(*args, runs=runs)
    wait_rows(d / store.PROGRESS, 4, proc, timeout=300)
    sent = time.time()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1].startswith("error: stopped by SIGTERM: 1 cells checkpointed"), err
    status = store.read_json(d / store.STATUS)
    assert status["state"] == "interrupted" and (d / store.CHECKPOINT).stat().st_mtime >= sent - 0.5
    assert not (d / leases.LEASE).exists()
    r = run_cli("run", *args, "--runs-dir", str(runs))
    assert r.returncode == 0, r.stderr
    assert rows(runs, cell) == clean_rows(tmp_path, cell, None, 40000)
