"""Algorithms from outside the package: a class named in benchmark.toml and an installed
entry point, run, resumed, listed, stored and reported like built-in ones (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.store import read_rows
from tests.conftest import PROJECT, kill_midway_then_resume, run_cli, strip_wall
from tests.test_cli import assert_one_clean_error

EXAMPLE = PROJECT / "examples" / "random_search"
IP = "InvertedPendulum-v2"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A user's directory: their module beside their benchmark.toml."""
    d = tmp_path / "scratch"
    d.mkdir()
    shutil.copy(EXAMPLE / "bench_random_search.py", d)
    shutil.copy(EXAMPLE / "benchmark.toml", d)
    return d


def _final(runs: Path, algo: str, seed: int) -> float:
    return json.loads((runs / IP / algo / f"seed_{seed}" / "final.json").read_text())["final_return"]


def test_class_named_in_benchmark_toml_runs_resumes_lists_and_reports(scratch, tmp_path):
    args = ["--algo", "my_rs", "--env", IP, "--seeds", "2", "--budget", "12000", "--workers", "1", "--no-progress"]
    whole = tmp_path / "whole"
    out = run_cli("run", *args, "--runs-dir", str(whole), cwd=scratch)
    assert out.returncode == 0, out.stderr
    config = json.loads((whole / IP / "my_rs" / "seed_0" / "config.json").read_text())
    assert config["class"] == "bench_random_search:RandomSearch"
    assert config["plugin"] == {"package": None, "version": None}  # a module, not an installed package
    assert config["hyperparameters"] == {"step_size": 0.2, "noise": 0.2, "n_directions": 4}
    assert all(_final(whole, "my_rs", s) > 50 for s in (0, 1))  # learns: random play scores 5.6

    killed = tmp_path / "killed"
    progress = killed / IP / "my_rs" / "seed_0" / "progress.csv"
    kill_midway_then_resume(args, killed, progress, rows_before_kill=4, cwd=scratch)
    for seed in (0, 1):
        rows = [read_rows(r / IP / "my_rs" / f"seed_{seed}" / "progress.csv") for r in (whole, killed)]
        assert strip_wall(rows[0]) == strip_wall(rows[1])

    out = run_cli("list", cwd=scratch)
    assert out.returncode == 0 and "my_rs" in out.stdout and "bench_random_search:RandomSearch" in out.stdout
    report = tmp_path / "report"
    out = run_cli("report", "--runs-dir", str(whole), "--out", str(report), "--reps", "200", "--band-reps", "100",
                  cwd=scratch)
    assert out.returncode == 0, out.stderr
    assert "my_rs" in (report / "table1.md").read_text()
    assert any("my_rs" in p.read_text() for p in report.glob("*.csv"))


@pytest.mark.parametrize("class_path, fragment", [
    ("no_such_module:Thing", "cannot import no_such_module"),
    ("bench_random_search:Nope", "has no attribute Nope"),
    ("bench_random_search:RandomSearchConfig", "not a subclass of algorithms.base.Algorithm"),
    ("not a path", 'expected "module:Class"'),
])
def test_broken_class_path_is_one_error_line(scratch, tmp_path, class_path, fragment):
    toml = scratch / "benchmark.toml"
    toml.write_text(toml.read_text().replace('"bench_random_search:RandomSearch"', json.dumps(class_path)))
    out = run_cli("run", "--algo", "my_rs", "--env", IP, "--runs-dir", str(tmp_path / "r"), cwd=scratch)
    assert_one_clean_error(out, fragment)
    assert not (tmp_path / "r" / IP).exists()


def test_class_cannot_take_a_built_in_name(scratch, tmp_path):
    toml = scratch / "benchmark.toml"
    toml.write_text(toml.read_text() + '\n[algos.ddpg]\nclass = "bench_random_search:RandomSearch"\n')
    out = run_cli("run", "--algo", "ddpg", "--env", IP, "--runs-dir", str(tmp_path / "r"), cwd=scratch)
    assert_one_clean_error(out, "'ddpg' is a built-in algorithm")


def test_installed_entry_point_is_found_and_its_version_recorded(tmp_path, monkeypatch):
    """An installed distribution (a real .dist-info on the path, as pip writes it) that
    declares the entry point ``bench.algorithms``: no benchmark.toml entry needed."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(EXAMPLE / "bench_random_search.py", site)
    info = site / "bench_random_search-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-random-search\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[bench.algorithms]\nrandom_search = bench_random_search:RandomSearch\n")
    (info / "top_level.txt").write_text("bench_random_search\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    out = run_cli("list")
    assert out.returncode == 0 and "random_search" in out.stdout
    runs = tmp_path / "runs"
    out = run_cli("run", "--algo", "random_search", "--env", IP, "--budget", "2000", "--no-progress",
                  "--runs-dir", str(runs))
    assert out.returncode == 0, out.stderr
    config = json.loads((runs / IP / "random_search" / "seed_0" / "config.json").read_text())
    assert config["plugin"] == {"package": "bench-random-search", "version": "0.1.0"}
    assert config["class"] == "bench_random_search:RandomSearch"


def test_the_example_plugin_passes_the_conformance_suite(monkeypatch):
    from algorithms.conformance import check_conformance

    monkeypatch.syspath_prepend(str(EXAMPLE))
    from bench_random_search import RandomSearch

    check_conformance(RandomSearch, "Pendulum-v1")
