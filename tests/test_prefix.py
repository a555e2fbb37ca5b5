"""A run derived from a longer run's first evaluations equals a run trained with that budget."""

from __future__ import annotations

import pytest

from analysis.load import load_runs
from analysis.stats import final_return_stats
from analysis.tables import cell_notes
from bench import store
from bench.config import load_config
from bench.errors import BenchError
from bench.prefix import derive_prefix
from bench.runner import Cell, run_cell
from tests.conftest import strip_wall

IP = "InvertedPendulum-v2"


@pytest.mark.parametrize("algo", ["ars", pytest.param("ddpg", marks=pytest.mark.slow)])
def test_prefix_of_a_longer_run_is_the_shorter_run(tmp_path, algo):
    cfg = load_config().with_protocol([IP], final_window=2)
    cell = Cell(IP, algo, 0)
    assert run_cell(cell, cfg, tmp_path / "long", budget=4000) == "done"
    assert run_cell(cell, cfg, tmp_path / "short", budget=2000) == "done"
    src = store.run_dir(tmp_path / "long", IP, algo, 0)
    d, written = derive_prefix(src, tmp_path / "derived", 2000)
    assert written and d == store.run_dir(tmp_path / "derived", IP, algo, 0)
    trained = store.run_dir(tmp_path / "short", IP, algo, 0)
    assert strip_wall(store.read_rows(d / store.PROGRESS)) == strip_wall(store.read_rows(trained / store.PROGRESS))
    assert store.read_json(d / store.CONFIG) == store.read_json(trained / store.CONFIG)
    final, want = store.read_json(d / store.FINAL), store.read_json(trained / store.FINAL)
    for key in ("final_return", "final_window", "short_window", "n_evals", "env_steps", "eval_env_steps",
                "last_return"):
        assert final[key] == want[key], key
    assert final["cpu_time_estimated"] and 0 < final["wall_time_s"] < store.read_json(src / store.FINAL)["wall_time_s"]
    meta = store.read_json(d / store.META)
    assert meta["derived_from"]["run"] == str(src) and meta["derived_from"]["budget"] == 4000
    assert meta["code"] == store.read_json(src / store.META)["code"]
    # the runner finds it complete and trains nothing; the loader reads it like a trained run
    before = (d / store.PROGRESS).read_bytes()
    assert run_cell(cell, cfg, tmp_path / "derived", budget=2000) == "skipped"
    assert (d / store.PROGRESS).read_bytes() == before
    finals = load_runs(tmp_path / "derived").finals
    assert finals["final_return"].tolist() == [want["final_return"]] and finals["derived"].tolist() == [True]
    # and the report says so beside the cell
    stats_row = next(final_return_stats(finals, reps=100).itertuples())
    assert "1 of 1 runs read off longer runs" in cell_notes(stats_row)
    assert "read off" not in cell_notes(next(final_return_stats(load_runs(tmp_path / "short").finals,
                                                                   reps=100).itertuples()))
    # deriving it again changes nothing
    assert derive_prefix(src, tmp_path / "derived", 2000) == (d, False)


def test_prefix_refusals(tmp_path):
    cfg = load_config().with_protocol([IP], final_window=2)
    cell = Cell(IP, "ars", 0)
    assert run_cell(cell, cfg, tmp_path / "long", budget=3000) == "done"
    src = store.run_dir(tmp_path / "long", IP, "ars", 0)
    with pytest.raises(BenchError, match="not an evaluation point"):
        derive_prefix(src, tmp_path / "d", 1500)
    for budget in (0, 3000, 5000):
        with pytest.raises(BenchError, match="budget must be"):
            derive_prefix(src, tmp_path / "d", budget)
    with pytest.raises(BenchError, match="not a run directory"):
        derive_prefix(tmp_path, tmp_path / "d", 1000)
    # a destination holding another run (here: a trained one with another final window) is left alone
    assert run_cell(cell, load_config().with_protocol([IP], final_window=1), tmp_path / "d", budget=2000) == "done"
    d = store.run_dir(tmp_path / "d", IP, "ars", 0)
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    with pytest.raises(BenchError, match="exists and holds another run"):
        derive_prefix(src, tmp_path / "d", 2000)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    # an unfinished source is refused
    store.write_json(src / store.STATUS, {"state": "running"})
    with pytest.raises(BenchError, match="not complete"):
        derive_prefix(src, tmp_path / "e", 1000)
    assert not (tmp_path / "e").exists() or not any((tmp_path / "e").rglob("*.json"))
