"""analysis.stats: the confidence intervals are rliable's own (same matrix, same seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rliable import library as rly
from rliable import metrics

from analysis import bootstrap, stats

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


class _Replay(rly.StratifiedBootstrap):
    """rliable's stratified bootstrap fed the indices our generator drew, one replication at a time."""

    def __init__(self, scores: np.ndarray, indices: np.ndarray):
        super().__init__(scores)
        self._replay = iter(indices)

    def update_indices(self):
        return (next(self._replay), *self._strata_indices)


def _rliable_ci(scores: np.ndarray, func, reps: int, rng: np.random.Generator) -> np.ndarray:
    n, k = scores.shape
    idx = np.concatenate(list(bootstrap.draw_blocks(rng, n, (k,), reps)))
    return _Replay(scores, idx).conf_int(func, reps=reps, size=stats.CONFIDENCE, method="percentile")


def test_final_return_cis_are_rliables_on_each_cells_own_draws(values):
    fs = stats.final_return_stats(_finals(values), reps=500, seed=11).set_index(["env_id", "algo"])

    def rliable_metrics(s):
        return np.array([metrics.aggregate_mean(s), np.median(s), metrics.aggregate_iqm(s)])

    for (env, algo), x in values.items():
        rng = bootstrap.generator(11, "final", env, algo, list(range(len(x))))
        ci = _rliable_ci(x[:, None], rliable_metrics, 500, rng)
        row = fs.loc[(env, algo)]
        assert row["n"] == len(x) and row["mean"] == pytest.approx(x.mean())
        np.testing.assert_allclose(row[["mean_lo", "median_lo", "iqm_lo"]].to_numpy(float), ci[0], rtol=1e-12)
        np.testing.assert_allclose(row[["mean_hi", "median_hi", "iqm_hi"]].to_numpy(float), ci[1], rtol=1e-12)


def test_a_cells_interval_does_not_depend_on_the_other_cells(values):
    full = stats.final_return_stats(_finals(values), reps=400).set_index(["env_id", "algo"])
    for key, x in values.items():
        alone = stats.final_return_stats(_finals({key: x}), reps=400).set_index(["env_id", "algo"])
        pd.testing.assert_series_equal(full.loc[key], alone.loc[key], check_exact=True)
    np.random.seed(123)  # numpy's global generator plays no part
    again = stats.final_return_stats(_finals(values), reps=400).set_index(["env_id", "algo"])
    pd.testing.assert_frame_equal(full, again, check_exact=True)


def test_generators_are_keyed_by_seed_purpose_and_identity():
    a = bootstrap.generator(0, "final", "E", "a", [0, 1, 2]).integers(0, 10**9, 5)
    assert np.array_equal(a, bootstrap.generator(0, "final", "E", "a", [0, 1, 2]).integers(0, 10**9, 5))
    assert np.array_equal(a, bootstrap.generator(0, "final", "E", "a", [np.int64(0), 1, 2]).integers(0, 10**9, 5))
    for other in [(1, "final", "E", "a", [0, 1, 2]), (0, "curve", "E", "a", [0, 1, 2]),
                  (0, "final", "E", "b", [0, 1, 2]), (0, "final", "E", "a", [0, 1, 3])]:
        assert not np.array_equal(a, bootstrap.generator(*other).integers(0, 10**9, 5))
    # the seeding string is canonical text: the same on any machine
    assert bootstrap.key_text(0, "final", "E", "a", [0, 1]) == '[0,"final","E","a",[0,1]]'
    # blocks of draws are one stream: the block size changes nothing
    whole = np.concatenate(list(bootstrap.draw_blocks(bootstrap.generator(0, "x"), 7, (3,), 1000)))
    small = np.concatenate(list(bootstrap.draw_blocks(bootstrap.generator(0, "x"), 7, (3,), 1000, step=33)))
    assert np.array_equal(whole, small) and whole.shape == (1000, 7, 3)


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
    assert envs == ["E1", "E2"] and scores["a"].shape == (7, 2) and scores.seeds["a"] == list(range(7))
    agg = stats.aggregate_metrics(scores, reps=400, seed=5).set_index(["algo", "metric"])

    def rl(s):
        return np.array([metrics.aggregate_iqm(s), metrics.aggregate_mean(s), metrics.aggregate_median(s),
                         metrics.aggregate_optimality_gap(s)])

    rng = bootstrap.generator(5, "aggregate", "a", ["E1", "E2"], list(range(7)))
    ci = _rliable_ci(scores["a"], rl, 400, rng)
    for i, name in enumerate(stats.AGGREGATE_NAMES):
        assert agg.loc[("a", name), "value"] == pytest.approx(rl(scores["a"])[i])
        np.testing.assert_allclose(agg.loc[("a", name), ["lo", "hi"]].to_numpy(float), ci[:, i], rtol=1e-12)


def test_poi_and_profiles_are_rliables_statistics_on_the_same_draws():
    rng = np.random.default_rng(4)
    x, y = np.round(rng.normal(size=(6, 3)), 1), np.round(rng.normal(size=(5, 3)), 1)  # with ties
    dist = stats.poi_distribution(x, y, 50, bootstrap.generator(0, "px"), bootstrap.generator(0, "py"))
    ix = np.concatenate(list(bootstrap.draw_blocks(bootstrap.generator(0, "px"), 6, (3,), 50)))
    iy = np.concatenate(list(bootstrap.draw_blocks(bootstrap.generator(0, "py"), 5, (3,), 50)))
    cols = np.arange(3)
    want = [metrics.probability_of_improvement(x[a, cols], y[b, cols]) for a, b in zip(ix, iy)]
    np.testing.assert_allclose(dist, want, rtol=0, atol=1e-15)
    taus = np.linspace(-2, 2, 9)
    prof = stats._profile_distribution(x, taus, 50, bootstrap.generator(0, "pp"))
    ip = np.concatenate(list(bootstrap.draw_blocks(bootstrap.generator(0, "pp"), 6, (3,), 50)))
    np.testing.assert_array_equal(prof, [rly.score_distributions(x[a, cols], taus) for a in ip])


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


def test_curve_bands_use_the_runs_that_reached_each_point():
    rows = []
    for seed in range(4):
        n = 5 if seed < 3 else 3  # one shorter run
        for i in range(n):
            rows.append({"env_id": "E", "algo": "a", "seed": seed, "eval_index": i, "eval_step": i * 100,
                         "env_steps": i * 100 + seed, "eval_return_mean": float(i + seed)})
    bands = stats.curve_bands(pd.DataFrame(rows), reps=200)
    assert list(bands["n"]) == [4, 4, 4, 3, 3] and set(bands["n_cell"]) == {4}
    assert list(bands["env_steps"]) == [0, 100, 200, 300, 400]  # the nominal points
    assert bands["mean"].iloc[0] == pytest.approx(1.5) and bands["mean"].iloc[4] == pytest.approx(5.0)
    assert (bands["lo"] <= bands["mean"]).all() and (bands["mean"] <= bands["hi"]).all()
    # the tail's band comes from the three runs that have it, with their own generator
    tail = np.array([[3.0, 4.0], [4.0, 5.0], [5.0, 6.0]])
    rng = bootstrap.generator(0, "curve", "eval_return_mean", "E", "a", [0, 1, 2])
    ci = bootstrap.percentile_interval(bootstrap.resample(tail, lambda s: s.mean(axis=1), 200, rng))
    np.testing.assert_array_equal(bands[["lo", "hi"]].to_numpy()[3:].T, ci)


def test_curve_legend_gives_the_count_and_draws_the_band_only_where_all_runs_are():
    import matplotlib.pyplot as plt

    from analysis import figures

    bands = pd.DataFrame({"env_id": "E", "algo": "a", "eval_index": range(4), "env_steps": [0, 10, 20, 30],
                          "mean": [0.0, 1.0, 2.0, 9.0], "lo": [-1.0, 0.0, 1.0, 8.0], "hi": [1.0, 2.0, 3.0, 10.0],
                          "n": [5, 5, 5, 4], "n_cell": 5})
    fig, ax = plt.subplots()
    figures._curve(ax, bands, (0.1, 0.2, 0.3), "a")
    assert ax.get_legend_handles_labels()[1] == ["a (n=5); dashed: fewer runs"]
    solid, dashed = ax.get_lines()
    assert np.isnan(solid.get_ydata()[3]) and list(solid.get_ydata()[:3]) == [0.0, 1.0, 2.0]
    assert dashed.get_linestyle() == "--" and list(dashed.get_ydata()[2:]) == [2.0, 9.0]
    assert [t.get_text() for t in ax.texts] == ["n=4"]
    plt.close(fig)


def test_step_ticks_read_like_budgets_and_ablation_colours_stay_apart():
    import seaborn as sns

    from analysis import figures

    assert [figures.steps_label(x) for x in (0, 500, 2500, 50_000, 125_000, 1e6, 1.5e6)] == \
        ["0", "500", "2.5k", "50k", "125k", "1M", "1.5M"]
    cb = sns.color_palette("colorblind", 10)
    for n in range(2, 9):  # up to 8 series: orange (1) never beside vermilion (3); no colour twice
        colours = list(figures.distinct_palette([f"s{i}" for i in range(n)]).values())
        assert len(set(colours)) == n and not (cb[1] in colours and cb[3] in colours)



def test_sweep_conformance():
    cmd = np.linspace(0, 100, 6)
    sw = pd.DataFrame({"env_id": "E", "algo": "a", "seed": 0, "command": cmd, "return_mean": cmd})
    sw2 = sw.assign(seed=1, return_mean=cmd[::-1])
    c = stats.sweep_conformance(pd.concat([sw, sw2]), {"E": (0.0, 200.0)}).iloc[0]
    assert c["spearman"] == pytest.approx(0.0) and c["runs"] == 2
    assert c["nmae"] == pytest.approx(np.mean(np.abs(cmd[::-1] - cmd)) / 200 / 2)
