"""scripts/policy_behaviour.py: what a complete run's model does, deterministic and sampled."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PROJECT

from bench import store
from bench.config import load_config
from bench.runner import Cell, run_cell

IP = "InvertedPendulum-v2"


def behaviour(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "scripts" / "policy_behaviour.py"), *args],
                          capture_output=True, text=True, cwd=PROJECT, timeout=300)


def test_udrl_sampled_episodes_carry_the_heads_noise(tmp_path):
    """The sampled mode acts with the Gaussian head's own noise: larger actions than its mean."""
    assert run_cell(Cell(IP, "udrl", 0), load_config(), tmp_path, budget=3000) == "done"
    out = behaviour("--episodes", "2", "--sample", str(store.run_dir(tmp_path, IP, "udrl", 0)))
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    det, sampled = row["deterministic"], row["sampled"]
    assert det["gaussian_std"] > 0.05  # an untrained head still explores
    assert sampled["mean_sq_action"] > 2 * det["mean_sq_action"]  # clipped to the box, so not + std**2


def test_sample_on_a_run_without_a_gaussian_head_is_one_error_line(tmp_path):
    assert run_cell(Cell(IP, "ars", 0), load_config(), tmp_path, budget=2000) == "done"
    out = behaviour("--sample", str(store.run_dir(tmp_path, IP, "ars", 0)))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "needs a UDRL run" in out.stderr


def test_a_directory_without_a_model_is_one_error_line(tmp_path):
    out = behaviour(str(tmp_path))
    assert out.returncode == 2 and out.stderr.startswith("error:") and out.stderr.count("\n") == 1
