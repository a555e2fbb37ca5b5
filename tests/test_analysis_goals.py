"""The report's goal section: success rate and distance with bootstrap CIs, P(X > Y) on the
success rate, and Table 1's goal columns."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import report, synthetic
from bench.config import load_config

ENV = "Nav2D-v0"
#: final success rate of each seed: her always succeeds, ddpg_goal a known mix
SUCCESS = {"her": [1.0, 1.0, 1.0], "ddpg_goal": [0.0, 0.1, 0.2, 0.3]}


def write_goal_runs(runs: Path, success: dict[str, list[float]], env: str = ENV) -> None:
    for algo, rates in success.items():
        for seed, rate in enumerate(rates):
            synthetic.write_run(runs / env / algo / f"seed_{seed}", env, algo, seed, n_evals=6, final_window=3,
                                goal=True, success=rate)


@pytest.fixture(scope="module")
def goal_report(tmp_path_factory) -> report.Report:
    root = tmp_path_factory.mktemp("goals")
    write_goal_runs(root / "runs", SUCCESS)
    synthetic.write_benchmark(root / "runs", ["InvertedPendulum-v2"], ["ars"], 3, n_evals=6, final_window=3)
    return report.build_report(root / "runs", root / "out", load_config(check_algorithms=False), reps=2000,
                               band_reps=100)


def test_goal_table_has_success_and_distance_with_cis(goal_report):
    out = goal_report.out_dir
    g = pd.read_csv(out / "goals.csv").set_index("algo")
    assert list(g["env"].unique()) == [ENV]  # the return-only env is not a goal env
    her, ddpg = g.loc["her"], g.loc["ddpg_goal"]
    # every seed succeeds: the interval cannot be anything but [1, 1]
    assert (her["success_rate"], her["success_rate_lo"], her["success_rate_hi"]) == (1.0, 1.0, 1.0)
    assert her["norm_distance_lo"] == her["norm_distance_hi"] == pytest.approx(0.1)
    assert her["seeds"] == 3 and ddpg["seeds"] == 4 and her["budget_steps"] == 5000
    assert np.isfinite(her["cpu_hours"])
    # a known mix: 0, 0.1, 0.2, 0.3 -> mean 0.15, a CI strictly inside the seeds' range around it
    assert ddpg["success_rate"] == pytest.approx(0.15)
    assert 0.0 < ddpg["success_rate_lo"] < 0.15 < ddpg["success_rate_hi"] < 0.3
    # ... and it is the percentile bootstrap of the mean over seeds (an independent resampling agrees)
    x = np.array(SUCCESS["ddpg_goal"])
    means = x[np.random.default_rng(1).integers(0, len(x), (40_000, len(x)))].mean(axis=1)
    assert ddpg["success_rate_lo"] == pytest.approx(np.percentile(means, 2.5), abs=0.026)
    assert ddpg["success_rate_hi"] == pytest.approx(np.percentile(means, 97.5), abs=0.026)
    md = (out / "goals.md").read_text()
    assert f"| {ENV} | her | 3 | 5k | 1.00 [1.00, 1.00] | 0.10 [0.10, 0.10] |" in md


def test_table1_success_column_is_mean_with_ci(goal_report):
    t1 = goal_report.table1.set_index("algo")
    shown = r"^\d\.\d\d \[\d\.\d+, \d\.\d+\]$"
    for algo in ("her", "ddpg_goal"):
        assert re.match(shown, t1.loc[algo, "success rate [95% CI]"]), t1.loc[algo, "success rate [95% CI]"]
        assert re.match(shown, t1.loc[algo, "norm distance [95% CI]"])
    assert t1.loc["her", "success rate [95% CI]"] == "1.00 [1.00, 1.00]"
    assert t1.loc["ars", "success rate [95% CI]"] == "–"  # a return task has no success rate
    md = (goal_report.out_dir / "table1.md").read_text()
    assert "success rate [95% CI]" in md and "1.00 [1.00, 1.00]" in md
    assert not re.search(r"\d ± \d\.\d\d \| \d", md.split("success rate")[1])  # no mean ± std in the goal columns
    # Table 1 and the goal table are the same numbers
    goals = pd.read_csv(goal_report.out_dir / "goals.csv").set_index("algo")
    t1csv = pd.read_csv(goal_report.out_dir / "table1.csv").set_index("algo")
    for col in ("success_rate", "success_rate_lo", "success_rate_hi"):
        assert goals.loc["ddpg_goal", col] == pytest.approx(t1csv.loc["ddpg_goal", col])


def test_poi_matrix_on_success_rate(goal_report):
    poi = pd.read_csv(goal_report.out_dir / "goals_poi.csv").set_index(["x", "y"])
    assert poi.loc[("her", "ddpg_goal"), "probability"] == 1.0  # 1.0 beats every ddpg_goal seed
    assert poi.loc[("ddpg_goal", "her"), "probability"] == 0.0
    assert poi.loc[("her", "ddpg_goal"), "n_x"] == 3 and poi.loc[("her", "ddpg_goal"), "n_y"] == 4
    page = (goal_report.out_dir / "index.html").read_text()
    section = page[page.index("<h2>Goal environments"):]
    section = section[:section.index("<h2>", 5)]
    assert "P(row &gt; column) on the final success rate" in section and "<table class='poi'>" in section
    assert "success_rate_Nav2D-v0.png" in section and "figure4_goal_sweep_Nav2D-v0.png" in section
    md = (goal_report.out_dir / "goals.md").read_text()
    assert "| her | **1.00 [1.00, 1.00]** | – |" in md


def test_curves_have_bootstrap_bands(goal_report):
    c = pd.read_csv(goal_report.out_dir / "goal_curves.csv")
    ddpg = c[(c["algo"] == "ddpg_goal") & (c["metric"] == "success_rate") & (c["env_steps"] > 0)]
    assert (ddpg["lo"] < ddpg["mean"]).all() and (ddpg["mean"] < ddpg["hi"]).all()
    assert set(c["metric"]) == {"success_rate", "norm_distance_mean"}


def test_ties_count_half_and_one_method_has_no_matrix(tmp_path):
    write_goal_runs(tmp_path / "runs", {"her": [1.0, 1.0], "gpim": [1.0, 1.0]})
    rep = report.build_report(tmp_path / "runs", tmp_path / "out", load_config(check_algorithms=False), reps=200,
                              band_reps=50)
    poi = rep.goal_results.poi.set_index(["x", "y"])
    assert poi.loc[("gpim", "her"), "probability"] == 0.5
    write_goal_runs(tmp_path / "one", {"her": [1.0, 0.5]})
    rep = report.build_report(tmp_path / "one", tmp_path / "out1", load_config(check_algorithms=False), reps=200,
                              band_reps=50)
    assert rep.goal_results.poi.empty and len(rep.goal_results.table) == 1
    assert "on the final success rate" not in (tmp_path / "out1" / "goals.md").read_text()


def test_goal_sweep_is_a_map_beside_an_env_with_3d_goals(tmp_path, monkeypatch):
    """A 2-D goal env's sweep is drawn as a map even when the sweeps frame also holds a
    3-D goal env's rows (their goal_2 column is NaN for the 2-D env)."""
    import matplotlib.axes

    from analysis import figures

    rows = [{"env_id": ENV, "algo": "her", "seed": 0, "goal_index": i, "goal_0": x, "goal_1": -x,
             "success": float(i % 2)} for i, x in enumerate(np.linspace(-0.8, 0.8, 5))]
    rows += [{"env_id": "FetchReach-v4", "algo": "her", "seed": 0, "goal_index": i, "goal_0": 1.3, "goal_1": 0.7,
              "goal_2": 0.5, "success": 1.0} for i in range(3)]
    drawn: list[str] = []
    for kind in ("scatter", "bar"):
        orig = getattr(matplotlib.axes.Axes, kind)
        monkeypatch.setattr(matplotlib.axes.Axes, kind,
                            lambda self, *a, _k=kind, _o=orig, **kw: (drawn.append(_k), _o(self, *a, **kw))[1])
    figures.goal_sweeps(pd.DataFrame(rows), ENV, tmp_path)
    assert drawn == ["scatter"]
    drawn.clear()
    figures.goal_sweeps(pd.DataFrame(rows), "FetchReach-v4", tmp_path)  # 3-D goals: success per goal index
    assert drawn == ["bar"]
