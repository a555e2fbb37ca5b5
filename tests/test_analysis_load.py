"""analysis.load: tidy frames from run directories; incomplete, failed and corrupt runs are
listed and left out, never averaged in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import synthetic
from analysis.load import load_runs
from bench.errors import BenchError

ENVS = ["InvertedPendulum-v2", "Swimmer-v3"]
ALGOS = ["ars", "poligen"]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    synthetic.write_benchmark(tmp_path, ENVS, ALGOS, 5, n_evals=12, final_window=5)
    return tmp_path


def test_complete_runs_give_tidy_frames(runs):
    rs = load_runs(runs)
    assert len(rs.finals) == 2 * 2 * 5 and rs.excluded.empty
    assert len(rs.evals) == 2 * 2 * 5 * 12
    assert rs.cells == [(e, a) for e in sorted(ENVS) for a in sorted(ALGOS)]
    assert {"env_id", "algo", "seed", "eval_index", "env_steps", "eval_return_mean"} <= set(rs.evals.columns)
    # sweeps only for the return-conditioned algorithm
    assert set(rs.sweeps["algo"]) == {"poligen"} and len(rs.sweeps) == 2 * 5 * 11


def test_filters(runs):
    rs = load_runs(runs, envs=["Swimmer-v3"], algos=["ars"])
    assert rs.cells == [("Swimmer-v3", "ars")] and len(rs.finals) == 5


def test_failed_and_incomplete_runs_are_listed_not_averaged(runs):
    d = runs / "Swimmer-v3" / "ars"
    synthetic.write_run(d / "seed_7", "Swimmer-v3", "ars", 7, n_evals=12, final_window=5, state="failed")
    synthetic.write_run(d / "seed_8", "Swimmer-v3", "ars", 8, n_evals=12, final_window=5, state="running")
    rs = load_runs(runs)
    assert set(rs.finals.loc[rs.finals["algo"] == "ars", "seed"]) == set(range(5))
    ex = rs.excluded.set_index("seed")
    assert ex.loc[7, "state"] == "failed" and "synthetic failure" in ex.loc[7, "reason"]
    assert ex.loc[8, "state"] == "incomplete" and "running" in ex.loc[8, "reason"]
    assert not ((rs.evals["seed"] == 8) | (rs.evals["seed"] == 7)).any()


@pytest.mark.parametrize("damage, words", [
    (lambda d: (d / "final.json").write_text("{not json"), "final.json: not valid JSON"),
    (lambda d: (d / "progress.csv").write_text((d / "progress.csv").read_text()[:-7]), "truncated"),
    (lambda d: (d / "progress.csv").write_text("a,b\n1,2\n"), "missing column"),
    (lambda d: (d / "final.json").write_text(json.dumps({"final_return": "high"})), "final_return"),
    (lambda d: (d / "config.json").write_text(json.dumps({"algo": "ddpg"})), "directory says"),
])
def test_corrupt_run_is_listed_or_one_clear_error(runs, damage, words):
    d = runs / "InvertedPendulum-v2" / "ars" / "seed_2"
    damage(d)
    rs = load_runs(runs)
    row = rs.excluded.iloc[0]
    assert len(rs.excluded) == 1 and row["state"] == "unreadable" and words in row["reason"]
    assert 2 not in set(rs.finals.loc[(rs.finals["algo"] == "ars") & (rs.finals["env_id"] == "InvertedPendulum-v2"), "seed"])
    with pytest.raises(BenchError) as err:
        load_runs(runs, strict=True)
    msg = str(err.value)
    assert "\n" not in msg and str(d) in msg and words in msg


def test_seeds_with_other_settings_are_excluded(runs):
    d = runs / "Swimmer-v3" / "ars" / "seed_4"
    cfg = json.loads((d / "config.json").read_text())
    cfg["protocol"]["budget"] = 123
    (d / "config.json").write_text(json.dumps(cfg))
    rs = load_runs(runs)
    assert list(rs.excluded["state"]) == ["mismatched"] and list(rs.excluded["seed"]) == [4]


def test_missing_dir_and_check_store_ignored(tmp_path, runs):
    with pytest.raises(BenchError, match="not found"):
        load_runs(tmp_path / "nope")
    synthetic.write_run(runs / "_check" / "Swimmer-v3" / "ars" / "seed_0", "Swimmer-v3", "ars", 0)
    assert len(load_runs(runs).finals) == 20


def test_goal_columns_kept(tmp_path):
    synthetic.write_run(tmp_path / "Nav2D-v0" / "her" / "seed_0", "Nav2D-v0", "her", 0, n_evals=6,
                        final_window=3, goal=True)
    rs = load_runs(tmp_path)
    assert "success_rate" in rs.evals and rs.finals["success_rate"].notna().all()
    assert rs.sweeps.empty and len(rs.goal_sweeps) == 25 and {"goal_0", "success"} <= set(rs.goal_sweeps.columns)
