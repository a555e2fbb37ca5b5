"""analysis.load: tidy frames from run directories; incomplete, failed and corrupt runs are
listed and left out, never averaged in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
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


def test_progress_edited_after_the_run_finished_is_left_out_with_the_reason(runs):
    d = runs / "Swimmer-v3" / "ars" / "seed_3"
    text = (d / "progress.csv").read_text().splitlines()
    cells = text[-1].split(",")
    cells[text[0].split(",").index("eval_return_mean")] = "-500.0"
    (d / "progress.csv").write_text("\n".join(text[:-1] + [",".join(cells)]) + "\n")
    rs = load_runs(runs)
    row = rs.excluded.iloc[0]
    assert len(rs.excluded) == 1 and row["seed"] == 3 and row["state"] == "inconsistent"
    assert "final.json disagrees with progress.csv" in row["reason"] and "final_return" in row["reason"]
    assert "last_return" in row["reason"]
    with pytest.raises(BenchError, match="disagrees"):
        load_runs(runs, strict=True)
    # every file read is listed with the SHA-256 of its bytes; the edited run's as not used
    f = rs.files.set_index("path")
    assert not f.loc["Swimmer-v3/ars/seed_3/progress.csv", "used"] and f.loc["Swimmer-v3/ars/seed_2/final.json", "used"]
    assert f.loc["Swimmer-v3/ars/seed_3/progress.csv", "sha256"] == hashlib.sha256(
        (d / "progress.csv").read_bytes()).hexdigest()


@pytest.mark.parametrize("edit, words", [
    (lambda f, p: {**f, "final_window": 2}, "final_window is 2"),
    (lambda f, p: {**f, "short_window": True}, "short_window"),
    (lambda f, p: {**f, "last_return": 1.0}, "last_return"),
    (lambda f, p: {**f, "env_steps": f["env_steps"] + 1}, "env_steps"),
])
def test_final_json_fields_are_checked(tmp_path, edit, words):
    run = tmp_path / "InvertedPendulum-v2" / "ars" / "seed_0"
    synthetic.write_run(run, "InvertedPendulum-v2", "ars", 0, n_evals=8, final_window=3)
    final = json.loads((run / "final.json").read_text())
    (run / "final.json").write_text(json.dumps(edit(final, run)))
    row = load_runs(tmp_path).excluded.iloc[0]
    assert row["state"] == "inconsistent" and words in row["reason"]


def test_runs_from_before_the_short_window_rule_are_accepted_under_either_rule(tmp_path):
    """final.json without short_window: written by the runner's older rows[-final_window:]
    (which kept the step-0 evaluation when the run had no more points than the window)."""
    for env, n_evals in (("InvertedPendulum-v2", 4), ("Swimmer-v3", 9)):  # 4 evaluations: a short window; 9: a full one
        run = tmp_path / env / "ars" / "seed_0"
        synthetic.write_run(run, env, "ars", 0, n_evals=n_evals, final_window=5)
        progress = pd.read_csv(run / "progress.csv")
        final = json.loads((run / "final.json").read_text())
        del final["short_window"]
        old = progress["eval_return_mean"].to_numpy()[-5:]
        final.update(final_return=float(np.mean(old)), final_window=len(old))
        (run / "final.json").write_text(json.dumps(final))
    rs = load_runs(tmp_path)
    assert rs.excluded.empty and len(rs.finals) == 2
    # with short_window recorded, only today's rule is accepted
    run = tmp_path / "InvertedPendulum-v2" / "ars" / "seed_0"
    final = json.loads((run / "final.json").read_text())
    (run / "final.json").write_text(json.dumps({**final, "short_window": True}))
    ex = load_runs(tmp_path).excluded
    assert list(ex["env_id"]) == ["InvertedPendulum-v2"] and ex["state"].iloc[0] == "inconsistent"
