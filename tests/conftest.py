"""Shared fixtures: a small benchmark config and helpers to run the CLI in a subprocess."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads, as in the CLI)

PROJECT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``bench`` as a user would, in a subprocess."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                          cwd=cwd or PROJECT, timeout=timeout, env=env)


def kill_midway_then_resume(cli_args: list[str], runs_dir: Path, progress: Path, rows_before_kill: int,
                            timeout: float = 600, cwd: Path | None = None) -> None:
    """Start ``bench run <cli_args> --runs-dir runs_dir``, SIGKILL it once ``progress`` holds
    ``rows_before_kill`` evaluation rows, check it had not finished, then run it again to completion."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "bench.cli", "run", *cli_args, "--runs-dir", str(runs_dir)]
    proc = subprocess.Popen(command, cwd=cwd or PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and not (progress.exists() and progress.read_text().count("\n") > rows_before_kill):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (progress.parent / "final.json").exists(), "the run finished before it could be killed"
    out = run_cli("run", *cli_args, "--runs-dir", str(runs_dir), timeout=timeout, cwd=cwd)
    assert out.returncode == 0, out.stderr


def tree_digest(root: Path) -> dict[str, str]:
    """Hash of every file under ``root`` (to show a command modified nothing)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


def strip_wall(rows: list[dict]) -> list[dict]:
    """Rows without the wall-clock column, NaN replaced by None so that rows compare equal."""
    return [{k: (None if v != v else v) for k, v in r.items() if k != "wall_time"} for r in rows]


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    """A benchmark.toml with a cheap InvertedPendulum protocol."""
    path = tmp_path / "bench.toml"
    path.write_text((PROJECT / "benchmark.toml").read_text())
    return path
