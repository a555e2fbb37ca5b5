"""bench report: Table 1, figures and index.html from runs, on partial results too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import report, synthetic
from bench.config import load_config
from bench.errors import BenchError

ENVS = ["InvertedPendulum-v2", "MountainCarContinuous-v0"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, report.Report]:
    root = tmp_path_factory.mktemp("rep")
    runs = root / "runs"
    synthetic.write_benchmark(runs, ENVS, ["ars", "poligen"], 5, n_evals=15, final_window=5)
    synthetic.write_benchmark(runs, ENVS[:1], ["udrl"], 3, n_evals=15, final_window=5)  # udrl: one env only
    synthetic.write_run(runs / ENVS[0] / "ars" / "seed_9", ENVS[0], "ars", 9, n_evals=15, state="failed")
    # PoliGen's probing snapshot (Figure 3): a readable one on the first env, a damaged one on the second
    rng = np.random.default_rng(0)
    np.savez(runs / ENVS[0] / "poligen" / "seed_0" / "probing.npz",
             buffer_probing_actions=rng.standard_normal((40, 20)), buffer_returns=rng.uniform(0, 1000, 40),
             commands=np.linspace(0, 1000, 21), generated_probing_actions=rng.standard_normal((21, 20)))
    (runs / ENVS[1] / "poligen" / "seed_0" / "probing.npz").write_bytes(b"not a zip")
    rep = report.build_report(runs, root / "out", load_config(check_algorithms=False), reps=200)
    return root / "out", rep


def test_report_files(built):
    out, rep = built
    for name in ("index.html", "table1.md", "table1.tex", "table1.csv", "curves.csv", "aggregates.csv",
                 "figures/figure2_curves.png", "figures/figure2_curves.pdf", "figures/figure4_command_sweeps.png",
                 "figures/aggregate_intervals.png", "figures/performance_profiles.pdf",
                 "figures/probability_of_improvement.png", f"figures/curves_{ENVS[0]}.png",
                 f"figures/figure3_probing_{ENVS[0]}_poligen.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert rep.runs == 2 * 2 * 5 + 3 and rep.excluded == 1
    assert rep.missing_cells == [(ENVS[1], "udrl")]


def test_table1_contents(built):
    out, _ = built
    t = pd.read_csv(out / "table1.csv").set_index(["env", "algo"])
    assert t.loc[(ENVS[0], "ars"), "seeds"] == 5 and t.loc[(ENVS[0], "udrl"), "seeds"] == 3
    assert t.loc[(ENVS[0], "poligen"), "paper_mean"] == 980.0  # benchmark.toml's paper table
    assert (t["ci_lo"] <= t["mean"]).all() and (t["mean"] <= t["ci_hi"]).all()
    md = (out / "table1.md").read_text()
    assert "980 ± 40" in md and "| env | algo |" in md
    tex = (out / "table1.tex").read_text()
    assert r"\begin{tabular}" in tex and r"$\pm$" in tex and "InvertedPendulum-v2" in tex


def test_index_lists_everything(built):
    out, _ = built
    page = (out / "index.html").read_text()
    for text in ("Table 1", "figure2_curves.png", "figure4_command_sweeps.png", "performance_profiles.png",
                 "synthetic failure", "MountainCarContinuous-v0 / udrl", "budget", "versions", "Spearman"):
        assert text in page, text
    assert "Figure 3" in page and f"{ENVS[1]}/poligen/seed_0/probing.npz: unreadable probing snapshot" in page
    # aggregates leave out the env where udrl has no runs, and say so
    assert "no complete runs of udrl" in page


def test_no_runs_is_one_clear_error(tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(BenchError, match="no complete runs"):
        report.build_report(tmp_path / "runs", tmp_path / "out", load_config(check_algorithms=False))


def test_goal_metrics_in_table(tmp_path):
    for s in range(3):
        synthetic.write_run(tmp_path / "runs" / "Nav2D-v0" / "her" / f"seed_{s}", "Nav2D-v0", "her", s,
                            n_evals=6, final_window=3, goal=True)
    rep = report.build_report(tmp_path / "runs", tmp_path / "out", load_config(check_algorithms=False), reps=100)
    t = pd.read_csv(rep.out_dir / "table1.csv")
    assert "success_rate" in t and t["success_rate"].notna().all()
    assert (rep.out_dir / "figures" / "success_rate_Nav2D-v0.png").is_file()
    # goal sweep (Figure 4 analogue): summary table and per-goal success figure
    gs = pd.read_csv(rep.out_dir / "goal_sweeps.csv").iloc[0]
    assert gs["runs"] == 3 and gs["goals"] == 25 and 0 <= gs["success"] <= 1
    assert (rep.out_dir / "figures" / "figure4_goal_sweep_Nav2D-v0.png").is_file()
    assert "Goal sweeps" in (rep.out_dir / "index.html").read_text()


def test_table1_has_a_fidelity_verdict_and_marks_partial_budgets(built):
    out, _ = built
    t = pd.read_csv(out / "table1.csv").set_index(["env", "algo"])
    assert set(t["verdict"]) <= {"consistent", "above paper", "below paper"}
    # synthetic runs use 15k steps against the protocol's 100k: every cell with a paper value is partial
    assert t["partial"].all() and t["verdict"].notna().all()
    md = (out / "table1.md").read_text()
    assert "vs paper (Welch t)" in md and "partial: 14k of 100k steps" in md


def test_welch_verdicts_on_the_issue_numbers():
    from analysis.tables import fidelity

    assert fidelity(1000.0, 0.0, 5, 936.0, 42.0)[2] == "above paper"        # ARS, InvertedPendulum
    assert fidelity(137.0, 60.0, 5, 219.0, 299.0)[2] == "consistent"        # UDRL, InvertedPendulum
    assert fidelity(-0.03, 0.03, 5, -3.0, 0.3)[2] == "above paper"          # UDRL, MountainCar
    assert fidelity(80.0, 1.0, 5, 93.0, 1.0)[2] == "below paper"
    t, p, verdict = fidelity(93.0, 1.0, 10, 93.0, 1.0)
    assert t == 0.0 and p == 1.0 and verdict == "consistent"
    assert fidelity(50.0, 0.0, 1, 55.0, 33.0)[2] == "untested (1 seed)"
    assert fidelity(1000.0, 0.0, 3, 1000.0, 0.0)[2] == "consistent"


def test_a_two_seed_verdict_is_tested_again_with_the_papers_spread():
    """DDPG on Hopper: 2 seeds at 818 and 803 read 'below paper' (t = -3.55) only through their std of 11."""
    from analysis.tables import few_seeds_note

    paper = (1634.0, 1036.0)
    assert few_seeds_note(810.5, 2, "below paper", paper) == "2 seeds: consistent, t = -1.07, with the paper's std for ours"
    assert few_seeds_note(10.0, 2, "below paper", (93.0, 1.0)).startswith("2 seeds: below paper")  # survives
    assert few_seeds_note(810.5, 3, "below paper", paper) == ""  # three seeds: the test stands as it is
    assert few_seeds_note(1600.0, 2, "consistent", paper) == ""  # a larger std only makes it more so
    assert few_seeds_note(810.5, 2, "below paper", None) == ""


def test_one_seed_shows_no_spread():
    from analysis.tables import pm

    assert pm(321.7, 0.0, 1) == "322 ± –"
    assert pm(321.7, 4.2, 3) == pm(321.7, 4.2) == "322 ± 4"


def test_readme_results_block_is_generated(built, tmp_path):
    from analysis.readme import END, START, results_block, update_readme

    _, rep = built
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{START}\nold table\n{END}\n\nafter\n")
    produced = {("results", ""): results_block(rep.table1, "runs")}
    assert update_readme(readme, produced) == {"results block": "rewritten"}
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# x\n\nbefore") and text.endswith("after\n")
    assert "| InvertedPendulum-v2 | ars |" in text and "verdict (95%)" in text
    assert update_readme(readme, produced) == {"results block": "unchanged"}  # same input, same file
    assert readme.read_text() == text
    readme.write_text("no markers\n")
    with pytest.raises(BenchError, match="no results block"):
        update_readme(readme, produced)


def test_pairwise_matrix_of_probabilities_of_improvement_per_env(built):
    """index.html shows, per env, P(row > column) for every pair of algorithms with runs
    there; the numbers are bench compare's."""
    from analysis import compare

    out, _ = built
    poi = pd.read_csv(out / "probability_of_improvement_by_env.csv")
    assert sorted(poi.groupby("env_id").size().items()) == [(ENVS[0], 6), (ENVS[1], 2)]  # udrl: first env only
    pair = poi.set_index(["env_id", "x", "y"])
    assert pair.loc[(ENVS[0], "ars", "poligen"), "probability"] == \
        pytest.approx(1 - pair.loc[(ENVS[0], "poligen", "ars"), "probability"])
    page = (out / "index.html").read_text()
    assert "Pairwise comparisons: probability of improvement" in page and "P(row &gt; column)" in page
    assert f"<h3>{ENVS[0]}</h3><p>seeds: ars 5, poligen 5, udrl 3</p><table class='poi'>" in page
    c = compare.compare(out.parent / "runs", load_config(check_algorithms=False), "poligen", "ars", [ENVS[1]], reps=200)
    row = c.rows.iloc[0]
    mine = pair.loc[(ENVS[1], "poligen", "ars")]
    assert (row["poi"], row["poi_lo"], row["poi_hi"]) == (mine["probability"], mine["lo"], mine["hi"])
