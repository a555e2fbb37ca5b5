"""bench compare: "is X better than Y?" on synthetic runs whose truth is known.

- a clearly better method is declared better (P near 1, difference CI above 0, significant);
- two draws of the same distribution are "not yet distinguishable", with a large seed count
  for 80% power;
- cells with other budgets, evaluation protocols or seed lists are refused in one line, and
  compared under --allow-mismatch, which every output states;
- fewer than 5 seeds warns, incomplete runs are left out and said so;
- every format parses, the same command gives the same bytes, and the numbers are those of
  Table 1 and of the report's pairwise matrices;
- the CLI's error paths are one line and exit status 2.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import compare, stats, synthetic
from analysis.load import load_runs
from bench.cli import main as cli_main
from bench.config import load_config
from bench.errors import BenchError

ENVS = ["InvertedPendulum-v2", "Swimmer-v3"]
REPS = 1000
#: (algorithm, fraction of the best return reached, seeds)
METHODS = [("good", 0.9, 5), ("bad", 0.5, 5), ("twin_a", 0.6, 10), ("twin_b", 0.6, 10)]


def _write(runs: Path, env_id: str, algo: str, seeds, *, skill: float = 0.6, n_evals: int = 12,
           eval_interval: int = 1000, state: str = "done") -> None:
    for s in seeds:
        synthetic.write_run(runs / env_id / algo / f"seed_{s}", env_id, algo, s, n_evals=n_evals,
                            eval_interval=eval_interval, final_window=4, skill=skill, state=state)


@pytest.fixture(scope="module")
def config():
    return load_config(check_algorithms=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("compare") / "runs"
    for env_id in ENVS:
        for algo, skill, n in METHODS:
            _write(root, env_id, algo, range(n), skill=skill)
    # an unfinished and a failed seed of "good": left out, said so (complete seeds still 0-4 = bad's)
    _write(root, ENVS[0], "good", [5], skill=0.9, state="running")
    _write(root, ENVS[0], "good", [6], skill=0.9, state="failed")
    return root


def _rows(c: compare.Comparison) -> dict[str, dict]:
    return {r["scope"]: r for r in c.rows.to_dict("records")}


def test_a_clearly_better_method_is_declared_better(runs, config):
    c = compare.compare(runs, config, "good", "bad", reps=REPS)
    rows = _rows(c)
    assert list(rows) == ENVS + ["aggregate"]
    for scope, r in rows.items():
        assert r["verdict"] == "better" and r["significant"], scope
        assert r["poi"] > 0.95 and r["poi_lo"] > 0.5, scope
        assert r["diff"] > 0 and r["diff_lo"] > 0, scope
        assert r["welch_p"] < 0.05 and r["mwu_p"] < 0.05, scope
        assert r["lo_x"] <= r["mean_x"] <= r["hi_x"] and r["lo_y"] <= r["mean_y"] <= r["hi_y"]
        assert r["seeds_for_power"] is not None and r["seeds_for_power"] <= 5
    assert rows[ENVS[0]]["sentence"].startswith(f"good beats bad on {ENVS[0]} (P(good > bad) = 1.00")
    assert "significant at 5% with 5 seeds each" in rows[ENVS[0]]["sentence"]
    assert rows["aggregate"]["kind"] == "normalised score" and rows["aggregate"]["envs"] == ",".join(ENVS)
    # and the other way round
    back = _rows(compare.compare(runs, config, "bad", "good", reps=REPS))
    assert all(r["verdict"] == "worse" and r["poi"] < 0.05 and r["diff_hi"] < 0 for r in back.values())
    assert back[ENVS[1]]["sentence"].startswith("bad is worse than good on Swimmer-v3")


def test_two_draws_of_one_distribution_are_not_distinguishable(runs, config):
    c = compare.compare(runs, config, "twin_a", "twin_b", reps=REPS)
    for scope, r in _rows(c).items():
        assert r["verdict"] == "not distinguishable" and not r["significant"], scope
        assert 0.25 < r["poi"] < 0.75 and r["poi_lo"] < 0.5 < r["poi_hi"], scope
        assert r["diff_lo"] < 0 < r["diff_hi"], scope
        # the observed effect is small: far more seeds than the 10 run would be needed
        assert r["seeds_for_power"] is None or r["seeds_for_power"] > 50, scope
        assert "not yet distinguishable" in r["sentence"] and "80% power" in r["sentence"]
    assert not c.mismatches and not c.warnings
    rows = json.loads(compare.to_json(c))["rows"]
    assert all(r["seeds_for_power"] is None or isinstance(r["seeds_for_power"], int) for r in rows)


def test_power_analysis_matches_the_textbook_and_statsmodels():
    # equal variances, equal n: Welch's test is the pooled t-test; Cohen's classic sample sizes
    assert compare.seeds_for_power(0.5, 1.0, 1.0) == 64
    assert compare.seeds_for_power(0.8, 1.0, 1.0) == 26
    assert compare.seeds_for_power(0.2, 1.0, 1.0) == 394
    from statsmodels.stats.power import TTestIndPower

    for d, n in ((0.5, 10), (1.0, 5), (0.3, 100)):
        assert compare.welch_power(d, 1.0, 1.0, n) == pytest.approx(TTestIndPower().power(d, n, 0.05), abs=1e-9)
    # unequal variances: the Welch-Satterthwaite degrees of freedom make it need more seeds
    assert compare.seeds_for_power(1.0, 0.2, 1.4) > compare.seeds_for_power(1.0, 1.0, 1.0)
    # no effect, an effect of about zero, no spread at all
    assert compare.seeds_for_power(0.0, 1.0, 1.0) is None
    assert compare.seeds_for_power(0.01, 1.0, 1.0) is None  # more than 1000
    assert compare.seeds_for_power(1.0, 0.0, 0.0) == 2
    # scipy's noncentral t is NaN far in its tail; the integral takes over
    p = compare.welch_power(0.78, 0.003, 0.0315, 4)
    assert math.isfinite(p) and p > 0.99
    assert compare.power_text(None) == "more than 1000"


@pytest.mark.parametrize("case, fragment", [
    ("budget", "budget differs (good 11,000, bad 17,000)"),
    ("eval_interval", "eval_interval differs (good 1,000, bad 2,000)"),
    ("seeds", "seed lists differ (good: 0-4; bad: 0-5)"),
])
def test_mismatched_cells_are_refused_and_compared_on_request(tmp_path, config, case, fragment):
    runs = tmp_path / "runs"
    _write(runs, ENVS[0], "good", range(5), skill=0.9, n_evals=13 if case == "eval_interval" else 12)
    if case == "budget":
        _write(runs, ENVS[0], "bad", range(5), skill=0.5, n_evals=18)
    elif case == "eval_interval":  # the same budget (12k), evaluated half as often
        _write(runs, ENVS[0], "bad", range(5), skill=0.5, n_evals=7, eval_interval=2000)
    else:
        _write(runs, ENVS[0], "bad", range(6), skill=0.5)
    with pytest.raises(BenchError) as err:
        compare.compare(runs, config, "good", "bad", reps=REPS)
    msg = str(err.value)
    assert "\n" not in msg and fragment in msg and "--allow-mismatch" in msg
    c = compare.compare(runs, config, "good", "bad", reps=REPS, allow_mismatch=True)
    assert c.mismatches == [f"{ENVS[0]}: {fragment}"]
    assert fragment in c.rows.iloc[0]["mismatch"]
    assert "MISMATCH, compared anyway (--allow-mismatch)" in compare.to_text(c)
    assert "Mismatch, compared anyway" in compare.to_markdown(c)
    assert json.loads(compare.to_json(c))["mismatches"] == c.mismatches
    assert fragment in pd.read_csv(io.StringIO(compare.to_csv(c)))["mismatch"].iloc[0]


def test_incomplete_runs_are_left_out_and_said(runs, config):
    c = compare.compare(runs, config, "good", "bad", [ENVS[0]], reps=REPS)
    assert c.rows.iloc[0]["n_x"] == 5 and not c.mismatches
    note = next(n for n in c.notes if n.startswith(f"{ENVS[0]}/good"))
    assert "2 run(s) left out" in note and "seed 5 (incomplete" in note and "seed 6 (failed" in note


def test_fewer_than_five_seeds_warn_in_one_line(tmp_path, capsys):
    runs = tmp_path / "runs"
    _write(runs, ENVS[0], "good", range(3), skill=0.9)
    _write(runs, ENVS[0], "bad", range(3), skill=0.5)
    assert cli_main(["compare", "--algo", "good", "--vs", "bad", "--runs-dir", str(runs), "--reps", "200"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: fewer than 5 complete seeds")
    assert f"{ENVS[0]}/good 3" in err[0] and f"{ENVS[0]}/bad 3" in err[0]


def test_one_seed_is_untested_not_a_crash(tmp_path, config):
    runs = tmp_path / "runs"
    _write(runs, ENVS[0], "good", [0], skill=0.9)
    _write(runs, ENVS[0], "bad", range(5), skill=0.5)
    c = compare.compare(runs, config, "good", "bad", reps=200, allow_mismatch=True)
    r = c.rows.iloc[0]
    assert r["verdict"] == "untested" and not r["significant"] and "good has 1 complete seed" in r["sentence"]
    assert math.isnan(r["welch_p"]) and r["poi"] == 1.0
    for fmt in compare.FORMATS:
        compare.RENDER[fmt](c)


def _cli(capsys, *args) -> tuple[int, str, str]:
    rc = cli_main(["compare", *args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("fmt", compare.FORMATS)
def test_each_format_parses_and_the_same_command_gives_the_same_bytes(runs, capsys, fmt):
    args = ["--algo", "good", "--vs", "bad", "--runs-dir", str(runs), "--reps", "300", "--format", fmt]
    rc, out, err = _cli(capsys, *args)
    assert rc == 0 and err == ""
    assert _cli(capsys, *args)[1] == out  # seeded bootstrap: identical output
    if fmt == "json":
        doc = json.loads(out)
        assert doc["x"] == "good" and doc["y"] == "bad" and doc["reps"] == 300
        assert [r["scope"] for r in doc["rows"]] == ENVS + ["aggregate"]
        assert set(compare.COLUMNS) <= set(doc["rows"][0])
        assert all(isinstance(r["seeds_for_power"], int) for r in doc["rows"])
    elif fmt == "csv":
        df = pd.read_csv(io.StringIO(out))
        assert list(df.columns) == compare.COLUMNS and len(df) == 3
        assert (df["verdict"] == "better").all()
    elif fmt == "md":
        assert "| scope | good [95% CI] | bad [95% CI] | difference [95% CI] | P(good > bad) [95% CI] |" in out
        assert "- good beats bad on InvertedPendulum-v2" in out
    else:
        assert "difference good - bad" in out and "=> good beats bad on Swimmer-v3" in out
        assert "Notes:" in out and "left out" in out


def test_numbers_are_table1s_and_the_report_matrix(runs, config):
    c = compare.compare(runs, config, "twin_a", "twin_b", reps=REPS, seed=3)
    rs = load_runs(runs, algos=["twin_a", "twin_b"])
    t1 = stats.final_return_stats(rs.finals, reps=REPS, seed=3).set_index(["env_id", "algo"])
    matrix = stats.probability_of_improvement_by_env(rs.finals, reps=REPS, seed=3)
    for r in c.rows.to_dict("records")[:2]:
        cell = t1.loc[(r["scope"], "twin_a")]
        assert (r["lo_x"], r["hi_x"], r["mean_x"]) == (cell["mean_lo"], cell["mean_hi"], cell["mean"])
        m = matrix[(matrix["env_id"] == r["scope"]) & (matrix["x"] == "twin_a") & (matrix["y"] == "twin_b")].iloc[0]
        assert (r["poi"], r["poi_lo"], r["poi_hi"]) == (m["probability"], m["lo"], m["hi"])
        # Mann-Whitney's U / (n_x n_y) is the point estimate of P(X > Y)
        assert r["mwu_u"] / (r["n_x"] * r["n_y"]) == pytest.approx(r["poi"])
    agg = stats.aggregate_metrics(_scores(rs, config), reps=REPS, seed=3).set_index(["algo", "metric"])
    r = c.rows.iloc[-1]
    assert (r["lo_x"], r["hi_x"]) == (agg.loc[("twin_a", "Mean"), "lo"], agg.loc[("twin_a", "Mean"), "hi"])


def _scores(rs, config):
    refs = {e: config.env(e).reference for e in ENVS}
    return stats.normalized_scores(rs.finals, refs)[0]


@pytest.mark.parametrize("args, fragment", [
    (["--algo", "nope", "--vs", "bad"], "no runs of algorithm 'nope'"),
    (["--algo", "good", "--vs", "bad", "--env", "Hopper-v3"], "no environment 'Hopper-v3'"),
    (["--algo", "good", "--vs", "good"], "name the same algorithm"),
    (["--algo", "good", "--vs", "only_running"], "no environment with complete runs of both in "),
    (["--algo", "good", "--vs", "only_running"],
     ": no complete runs of only_running on InvertedPendulum-v2 (3 incomplete)"),
    (["--algo", "good", "--vs", "only_running", "--env", ENVS[0]],
     "error: no complete runs of only_running on InvertedPendulum-v2 in "),
    (["--algo", "good", "--vs", "other_seeds"], "seed lists differ"),
    (["--algo", "good"], "the following arguments are required: --vs"),
    (["--algo", "good", "--vs", "bad", "--format", "xml"], "invalid choice: 'xml'"),
])
def test_cli_errors_are_one_line_and_exit_2(tmp_path, capsys, args, fragment):
    runs = tmp_path / "runs"
    _write(runs, ENVS[0], "good", range(5), skill=0.9)
    _write(runs, ENVS[0], "bad", range(5), skill=0.5)
    _write(runs, ENVS[0], "only_running", range(3), state="running")
    _write(runs, ENVS[0], "other_seeds", range(2, 7))
    rc, out, err = _cli(capsys, *args, "--runs-dir", str(runs), "--reps", "100")
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err
    assert "Traceback" not in err


def test_missing_runs_dir_is_one_line(tmp_path, capsys):
    rc, _, err = _cli(capsys, "--algo", "a", "--vs", "b", "--runs-dir", str(tmp_path / "none"))
    assert rc == 2 and err.strip() == f"error: {tmp_path / 'none'}: runs directory not found"


def test_envs_without_both_methods_are_named_not_compared(tmp_path, config):
    runs = tmp_path / "runs"
    for env_id in ENVS:
        _write(runs, env_id, "good", range(5), skill=0.9)
    _write(runs, ENVS[0], "bad", range(5), skill=0.5)
    c = compare.compare(runs, config, "good", "bad", reps=200)
    assert list(c.rows["scope"]) == [ENVS[0]]  # one env: no aggregate
    assert f"{ENVS[1]}: not compared (no complete runs of bad)" in c.notes
    assert np.isfinite(c.rows.iloc[0]["welch_t"])
