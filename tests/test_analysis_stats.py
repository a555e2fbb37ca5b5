"""analysis.stats: the confidence intervals are rliable's own (same matrix, same seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rliable import library as rly
from rliable import metrics

from analysis import stats

# direct rliable calls pass random_state, which arch marks as deprecated
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _finals(values: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    rows = [{"env_id": e, "algo": a, "seed": i, "final_return": float(v), "success_rate": np.nan,
             "norm_distance": np.nan}
            for (e, a), vs in values.items() for i, v in enumerate(vs)]
    return pd.DataFrame(rows)


@pytest.fixture
def values() -> dict[tuple[str, str], np.ndarray]:
    rng = np.random.default_rng(3)
    return {("E1", "a"): rng.normal(100, 20, 10), ("E1", "b"): rng.normal(80, 5, 10),
            ("E2", "a"): rng.normal(5, 1, 10), ("E2", "b"): rng.normal(7, 2, 7)}


def test_final_return_cis_agree_with_direct_rliable_call(values):
    fs = stats.final_return_stats(_finals(values), reps=500, seed=11).set_index(["env_id", "algo"])
    # cells with 10 runs are bootstrapped together as one (runs x cells) matrix: the same
    # matrix given to rliable directly, under the same seed, with rliable's own metrics
    keys = [("E1", "a"), ("E1", "b"), ("E2", "a")]
    matrix = np.column_stack([values[k] for k in keys])

    def rliable_metrics(s):
        # rliable's aggregate_median is the median over tasks of per-task means; for the
        # runs of one cell the median of the runs is np.median
        cols = [s[:, [j]] for j in range(s.shape[1])]
        return np.concatenate([[metrics.aggregate_mean(c) for c in cols], [np.median(c) for c in cols],
                               [metrics.aggregate_iqm(c) for c in cols]])

    with stats.seeded(11, "final", 10) as rs:
        point, ci = rly.get_interval_estimates({"m": matrix}, rliable_metrics, reps=500, random_state=rs)
    ci = ci["m"].reshape(2, 3, 3)
    for j, k in enumerate(keys):
        row = fs.loc[k]
        assert row["mean"] == pytest.approx(point["m"][j])
        np.testing.assert_allclose([row["mean_lo"], row["mean_hi"]], ci[:, 0, j], rtol=1e-12)
        np.testing.assert_allclose([row["median_lo"], row["median_hi"]], ci[:, 1, j], rtol=1e-12)
        np.testing.assert_allclose([row["iqm_lo"], row["iqm_hi"]], ci[:, 2, j], rtol=1e-12)
    # the 7-run cell alone: a (7 x 1) matrix, as a per-cell rliable user would call it
    with stats.seeded(11, "final", 7) as rs:
        _, ci7 = rly.get_interval_estimates({"b": values[("E2", "b")][:, None]}, metrics.aggregate_mean, reps=500,
                                            random_state=rs)
    np.testing.assert_allclose(fs.loc[("E2", "b"), ["mean_lo", "mean_hi"]].to_numpy(float), np.ravel(ci7["b"]))
    assert fs.loc[("E2", "b"), "n"] == 7


def test_cis_are_reproducible_and_sensible(values):
    a = stats.final_return_stats(_finals(values), reps=300)
    b = stats.final_return_stats(_finals(values), reps=300)
    pd.testing.assert_frame_equal(a, b)
    assert (a["mean_lo"] <= a["mean"]).all() and (a["mean"] <= a["mean_hi"]).all()
    assert np.allclose(a["std"], [np.std(values[(r.env_id, r.algo)], ddof=1) for r in a.itertuples()])


def test_aggregates_agree_with_rliable(values):
    refs = {"E1": (0.0, 100.0), "E2": (0.0, 10.0)}
    finals = _finals({k: v[:7] for k, v in values.items()})
    scores, envs, notes = stats.normalized_scores(finals, refs)
    assert envs == ["E1", "E2"] and scores["a"].shape == (7, 2)
    agg = stats.aggregate_metrics(scores, reps=400, seed=5).set_index(["algo", "metric"])

    def rl(s):
        return np.array([metrics.aggregate_iqm(s), metrics.aggregate_mean(s), metrics.aggregate_median(s),
                         metrics.aggregate_optimality_gap(s)])

    with stats.seeded(5, "aggregate", "a") as rs:
        point, ci = rly.get_interval_estimates({"a": scores["a"]}, rl, reps=400, random_state=rs)
    for i, name in enumerate(stats.AGGREGATE_NAMES):
        assert agg.loc[("a", name), "value"] == pytest.approx(point["a"][i])
        np.testing.assert_allclose(agg.loc[("a", name), ["lo", "hi"]].to_numpy(float), ci["a"][:, i], rtol=1e-12)


def test_missing_reference_or_algo_leaves_env_out(values):
    scores, envs, notes = stats.normalized_scores(_finals(values), {"E1": (0.0, 100.0)})
    assert envs == ["E1"] and any("E2" in n for n in notes)


def test_point_metrics_equal_rliable():
    rng = np.random.default_rng(0)
    x, y = np.round(rng.normal(size=(9, 3)), 1), np.round(rng.normal(size=(6, 3)), 1)
    assert stats.iqm(x) == pytest.approx(metrics.aggregate_iqm(x))
    assert stats.optimality_gap(x) == pytest.approx(metrics.aggregate_optimality_gap(x))
    assert stats.poi(x, y) == pytest.approx(metrics.probability_of_improvement(x, y))
    taus = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(stats._score_distribution(x, taus), rly.score_distributions(x, taus))


def test_poi_pairs_are_complementary(values):
    scores = {"a": np.random.default_rng(0).normal(1, 1, (8, 2)), "b": np.random.default_rng(1).normal(0, 1, (6, 2))}
    poi = stats.probability_of_improvement(scores, reps=200).set_index(["x", "y"])
    assert poi.loc[("a", "b"), "probability"] + poi.loc[("b", "a"), "probability"] == pytest.approx(1.0)
    assert poi.loc[("a", "b"), "probability"] > 0.5


def test_curve_bands_align_by_eval_index():
    rows = []
    for seed in range(4):
        n = 5 if seed < 3 else 3  # one shorter run
        for i in range(n):
            rows.append({"env_id": "E", "algo": "a", "seed": seed, "eval_index": i, "env_steps": i * 100,
                         "eval_return_mean": float(i + seed)})
    bands = stats.curve_bands(pd.DataFrame(rows), reps=200)
    assert list(bands["n"]) == [4, 4, 4, 3, 3]
    assert list(bands["env_steps"]) == [0, 100, 200, 300, 400]
    assert bands["mean"].iloc[0] == pytest.approx(1.5)
    assert (bands["lo"] <= bands["mean"]).all() and (bands["mean"] <= bands["hi"]).all()


def test_sweep_conformance():
    cmd = np.linspace(0, 100, 6)
    sw = pd.DataFrame({"env_id": "E", "algo": "a", "seed": 0, "command": cmd, "return_mean": cmd})
    sw2 = sw.assign(seed=1, return_mean=cmd[::-1])
    c = stats.sweep_conformance(pd.concat([sw, sw2]), {"E": (0.0, 200.0)}).iloc[0]
    assert c["spearman"] == pytest.approx(0.0) and c["runs"] == 2
    assert c["nmae"] == pytest.approx(np.mean(np.abs(cmd[::-1] - cmd)) / 200 / 2)
