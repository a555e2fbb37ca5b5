"""The Ray executor: the same cells give the same run directories as the local executor
(and finished cells are skipped), and a missing Ray is one error line."""

from __future__ import annotations

import sys

import pytest

from bench import store
from bench.config import load_config
from bench.errors import BenchError
from bench.runner import Cell, run_cells
from tests.conftest import run_cli, strip_wall

IP, MC = "InvertedPendulum-v2", "MountainCarContinuous-v0"


def test_ray_and_local_executors_give_identical_runs(tmp_path):
    pytest.importorskip("ray")
    cfg = load_config()
    cells = [Cell(IP, "ars", 0), Cell(IP, "ars", 1), Cell(MC, "ars", 0)]
    local = run_cells(cells, cfg, tmp_path / "local", workers=1, budget=2000)
    seen: list[dict] = []
    on_ray = run_cells(cells, cfg, tmp_path / "ray", workers=2, budget=2000, executor="ray",
                       on_update=lambda o: seen.append(dict(o)))
    assert set(local.values()) == set(on_ray.values()) == {"done"} and seen
    for c in cells:
        a = store.read_rows(store.run_dir(tmp_path / "local", c.env_id, c.algo, c.seed) / store.PROGRESS)
        b = store.read_rows(store.run_dir(tmp_path / "ray", c.env_id, c.algo, c.seed) / store.PROGRESS)
        assert strip_wall(a) == strip_wall(b)
        assert (store.run_dir(tmp_path / "ray", c.env_id, c.algo, c.seed) / store.FINAL).exists()
    # a second call skips the finished cells without starting Ray
    again = run_cells(cells, cfg, tmp_path / "ray", workers=2, budget=2000, executor="ray")
    assert set(again.values()) == {"skipped"}


def test_missing_ray_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BenchError, match=r"--executor ray needs Ray"):
        run_cells([Cell(IP, "ars", 0)], load_config(), tmp_path, budget=1000, executor="ray")


def test_cli_rejects_an_unknown_executor(tmp_path):
    r = run_cli("run", "--algo", "ars", "--env", IP, "--executor", "slurm", "--runs-dir", str(tmp_path))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "slurm" in r.stderr
