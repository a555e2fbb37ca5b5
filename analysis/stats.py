"""rliable statistics over the frames of :mod:`analysis.load`.

Every confidence interval is a 95% percentile interval of rliable's stratified bootstrap
(each replication resamples, per task, the runs with replacement), computed by
:mod:`analysis.bootstrap` vectorised over the replications. Each interval draws from its
own generator, seeded from the base seed, a purpose tag and the interval's identity:

- a Table 1 cell: ``("final", env, algo, sorted seeds)``; a goal metric of a cell (final
  success rate, normalised distance): ``("final", column, env, algo, sorted seeds)``;
- a learning-curve point set (the points of one cell reached by the same runs):
  ``("curve", column, env, algo, those seeds)``;
- an aggregate / a performance profile of one algorithm: ``("aggregate" | "profile",
  algo, envs, seeds)``;
- a probability of improvement: ``("poi", x, y, envs, seeds of x, seeds of y)``, one
  generator per side; on final success rates ``("poi", "success_rate", x, ...)``.

So a number depends only on its own runs, the base seed and the resample count, never on
which other cells a report loads, and it is the same on any machine (numpy keeps the
``RandomState`` streams fixed across versions and platforms).

Point metrics use fast numpy forms that equal rliable's ``metrics.aggregate_*``
(mean; median; IQM = 25% trimmed mean over all runs x tasks; optimality gap at 1).
"""

from __future__ import annotations

import itertools
import warnings
from typing import Callable

import numpy as np
import pandas as pd
from rliable import library as rly
from scipy import stats as sps

from analysis import bootstrap
from analysis.bootstrap import CONFIDENCE, seeded  # noqa: F401  (re-exported)

#: bench check's bootstrap (analysis/check.py, recorded in analysis/baseline.json); the
#: report's resample counts and base seed are :mod:`analysis.bootstrap`'s
DEFAULT_REPS = 2000
DEFAULT_SEED = bootstrap.SEED


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean over all entries (= ``rliable.metrics.aggregate_iqm``)."""
    v = np.sort(np.asarray(scores, dtype=float).ravel())
    cut = int(0.25 * v.size)
    return float(v[cut:v.size - cut].mean())


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """Mean shortfall below ``gamma`` (= ``rliable.metrics.aggregate_optimality_gap``)."""
    return float(gamma - np.mean(np.minimum(scores, gamma)))


def _aggregate_metrics(scores: np.ndarray) -> np.ndarray:
    return np.array([iqm(scores), float(np.mean(scores)), float(np.median(np.mean(scores, axis=0))),
                     optimality_gap(scores)])


AGGREGATE_NAMES = ["IQM", "Mean", "Median", "Optimality gap"]


def interval(scores: np.ndarray, func: Callable[[np.ndarray], np.ndarray], *, reps: int = DEFAULT_REPS,
             seed: int = DEFAULT_SEED, key: tuple = ("interval",)) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate and (2, ...) percentile CI of ``func`` (one replication at a time)
    over a (runs x tasks) matrix: rliable's own call, its draws from
    :func:`analysis.bootstrap.seeded` ``(seed, *key)`` (key: purpose tag, then identity)."""
    with seeded(seed, *key), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch: random_state deprecation notice
        point, ci = rly.get_interval_estimates({"x": scores}, func, reps=reps, confidence_interval_size=CONFIDENCE)
    return np.asarray(point["x"]), np.asarray(ci["x"])


# --- vectorised statistics of bootstrap replications (block, runs, tasks) -> (block, m) ---

def _cell_metrics(s: np.ndarray) -> np.ndarray:
    """Mean, median and IQM of the replications of one cell (``(block, runs, 1)``)."""
    v = np.sort(s[:, :, 0], axis=1)
    n = v.shape[1]
    cut = int(0.25 * n)
    return np.stack([v.mean(axis=1), np.median(v, axis=1), v[:, cut:n - cut].mean(axis=1)], axis=1)


def _aggregate_block(s: np.ndarray) -> np.ndarray:
    """IQM, mean, median (of task means) and optimality gap of the replications of a
    (runs x tasks) score matrix (``(block, runs, tasks)``)."""
    flat = np.sort(s.reshape(s.shape[0], -1), axis=1)
    size = flat.shape[1]
    cut = int(0.25 * size)
    return np.stack([flat[:, cut:size - cut].mean(axis=1), flat.mean(axis=1), np.median(s.mean(axis=1), axis=1),
                     1.0 - np.minimum(flat, 1.0).mean(axis=1)], axis=1)


def _mean_distribution(data: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap distribution ``(reps, points)`` of the mean of each column (runs resampled
    per column)."""
    return bootstrap.resample(data, lambda s: s.mean(axis=1), reps, rng)


def _cell_seeds(g: pd.DataFrame) -> list[int]:
    return [int(s) for s in sorted(g["seed"])]


def final_return_stats(finals: pd.DataFrame, *, reps: int = bootstrap.REPS,
                       seed: int = bootstrap.SEED) -> pd.DataFrame:
    """Per (env, algo): seeds, mean, std (ddof=1), median, IQM of final returns, and the
    95% bootstrap CI (``*_lo``, ``*_hi``) and bootstrap standard error (``*_se``) of mean /
    median / IQM; goal metrics when present.

    Each cell is bootstrapped on its own runs (in seed order) with its own generator,
    ``("final", env, algo, sorted seeds)``: its CI does not depend on the other cells.
    """
    rows = []
    for (env_id, algo), g in finals.groupby(["env_id", "algo"], sort=True):
        g = g.sort_values("seed")
        x = g["final_return"].to_numpy(dtype=float)
        seeds = _cell_seeds(g)
        n = len(x)
        if n >= 2:
            rng = bootstrap.generator(seed, "final", env_id, algo, seeds)
            dist = bootstrap.resample(x[:, None], _cell_metrics, reps, rng)
            ci, se = bootstrap.percentile_interval(dist), dist.std(axis=0)
        else:
            ci, se = np.full((2, 3), np.nan), np.full(3, np.nan)
        row = {"env_id": env_id, "algo": algo, "n": n, "seeds": ",".join(map(str, seeds)),
               "mean": float(x.mean()), "std": float(x.std(ddof=1)) if n > 1 else 0.0,
               "median": float(np.median(x)), "iqm": iqm(x), "min": float(x.min()), "max": float(x.max())}
        if "budget" in g:
            row["budget"] = int(g["budget"].min())
        if "cpu_time_s" in g:  # CPU-hours per run (wall-clock where CPU time was not recorded)
            cpu = g["cpu_time_s"].astype(float).fillna(g["wall_time_s"].astype(float))
            row["cpu_hours"] = float(cpu.mean() / 3600)
        if "torch_threads" in g:  # torch threads per run: CPU-h counts every thread's time
            row["threads"] = sorted({int(t) for t in g["torch_threads"].dropna()})
        if "cpus" in g:  # distinct processors behind the cell's runs (floats differ across CPUs)
            known = {c for run in g["cpus"].dropna() for c in str(run).split("|") if c}
            row["cpu_models"] = len(known)
            row["cpu_unrecorded"] = int((g["cpus"].fillna("") == "").sum())
        if "code_hash" in g:  # how many code versions made this cell's seeds (1 = all the same code)
            row["code_versions"] = int(g["code_hash"].nunique()) + int(g["code_mixed"].any())
        if "derived" in g:  # runs read off a longer run's first evaluations (bench.prefix)
            row["derived"] = int(g["derived"].fillna(False).astype(bool).sum())
        if "short_window" in g:
            row["short_window"] = bool(g["short_window"].any())
            row["final_window"] = int(g["final_window"].min())
        for i, name in enumerate(["mean", "median", "iqm"]):
            row[f"{name}_lo"], row[f"{name}_hi"] = float(ci[0, i]), float(ci[1, i])
            row[f"{name}_se"] = float(se[i])  # bootstrap standard error
        for col in GOAL_FINALS:
            if col in g and g[col].notna().any():
                row.update(_goal_metric_stats(g, col, env_id, algo, reps=reps, seed=seed))
        rows.append(row)
    return pd.DataFrame(rows)


def final_mean_distribution(values: np.ndarray, env_id: str, algo: str, seeds: list[int], *,
                            column: str = "final_return", reps: int = bootstrap.REPS,
                            seed: int = bootstrap.SEED) -> np.ndarray:
    """Bootstrap distribution ``(reps,)`` of a cell's mean final value, from the cell's own
    generator: ``("final", env, algo, sorted seeds)`` for the final return (its percentile
    interval is Table 1's CI of the mean, :func:`final_return_stats`, the same draws),
    ``("final", column, env, algo, sorted seeds)`` for another column of the finals
    (``success_rate``, ``norm_distance``).

    :param values: the cell's final values in seed order (``seeds``)
    """
    metric = [] if column == "final_return" else [column]
    rng = bootstrap.generator(seed, "final", *metric, env_id, algo, [int(s) for s in seeds])
    return bootstrap.resample(np.asarray(values, dtype=float)[:, None], _cell_metrics, reps, rng)[:, 0]


#: goal metrics of a run's final.json (mean over its final window), as columns of the finals
GOAL_FINALS = ("success_rate", "norm_distance")


def _goal_metric_stats(g: pd.DataFrame, column: str, env_id: str, algo: str, *, reps: int,
                       seed: int) -> dict[str, float]:
    """Mean, std (ddof=1), 95% bootstrap CI (``_lo``, ``_hi``) and bootstrap standard error
    (``_se``) over seeds of one goal metric of a cell (the seeds that record it), from
    :func:`final_mean_distribution`'s generator for that column."""
    g = g[g[column].notna()].sort_values("seed")
    x = g[column].to_numpy(dtype=float)
    out = {column: float(x.mean()), f"{column}_std": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
           f"{column}_lo": np.nan, f"{column}_hi": np.nan, f"{column}_se": np.nan}
    if len(x) >= 2:
        dist = final_mean_distribution(x, env_id, algo, _cell_seeds(g), column=column, reps=reps, seed=seed)
        lo, hi = bootstrap.percentile_interval(dist[:, None])[:, 0]
        out.update({f"{column}_lo": float(lo), f"{column}_hi": float(hi), f"{column}_se": float(dist.std())})
    return out


CURVE_COLUMNS = ["env_id", "algo", "eval_index", "env_steps", "mean", "lo", "hi", "n", "n_cell"]


def curve_bands(evals: pd.DataFrame, *, column: str = "eval_return_mean", reps: int = bootstrap.BAND_REPS,
                seed: int = bootstrap.SEED) -> pd.DataFrame:
    """Learning-curve mean and 95% bootstrap band per (env, algo, evaluation point).

    Runs are aligned on the nominal evaluation point ``eval_step`` (the same for every run
    of a cell; runs recorded before nominal points, whose ``eval_step`` is filled from
    their actual ``env_steps`` by :mod:`analysis.load`, are aligned on ``eval_index`` and
    placed at the median of their env steps). Each point uses the runs that reached it:
    ``n`` says how many, ``n_cell`` how many runs the cell has; a figure draws mean and
    band only where ``n == n_cell``. The points of a cell reached by the same runs form
    one point set, bootstrapped together (each point resampled on its own, as rliable
    does per task) with the generator ``("curve", column, env, algo, those seeds)``.
    """
    frames = []
    for (env_id, algo), g in evals.groupby(["env_id", "algo"], sort=True):
        nominal = ("eval_step" in g and g["eval_step"].notna().all()
                   and ("eval_step_recorded" not in g or bool(g["eval_step_recorded"].all()))
                   and not g.duplicated(["seed", "eval_step"]).any())
        if nominal:
            wide = g.pivot(index="seed", columns="eval_step", values=column).sort_index(axis=1)
            steps = wide.columns.to_numpy(dtype=float)
            index = g.groupby("eval_step")["eval_index"].min().reindex(wide.columns).to_numpy()
        else:
            wide = g.pivot(index="seed", columns="eval_index", values=column).sort_index(axis=1)
            x = "eval_step" if "eval_step" in g and g["eval_step"].notna().all() else "env_steps"
            steps = g.groupby("eval_index")[x].median().reindex(wide.columns).to_numpy(dtype=float)
            index = wide.columns.to_numpy()
        wide = wide.sort_index(axis=0)
        values = wide.to_numpy(dtype=float)
        present = np.isfinite(values)
        counts = present.sum(axis=0)
        lo = np.full(values.shape[1], np.nan)
        hi = np.full(values.shape[1], np.nan)
        # point sets: the points reached by the same runs
        sets: dict[tuple[int, ...], list[int]] = {}
        for j in range(values.shape[1]):
            sets.setdefault(tuple(int(s) for s in wide.index[present[:, j]]), []).append(j)
        for seeds, cols in sets.items():
            if len(seeds) < 2:
                continue
            rows = np.flatnonzero(np.isin(wide.index.to_numpy(), seeds))
            rng = bootstrap.generator(seed, "curve", column, env_id, algo, list(seeds))
            ci = bootstrap.percentile_interval(_mean_distribution(values[np.ix_(rows, cols)], reps, rng))
            lo[cols], hi[cols] = ci[0], ci[1]
        mean = np.where(counts > 0, np.nansum(np.where(present, values, 0.0), axis=0) / np.maximum(counts, 1), np.nan)
        frames.append(pd.DataFrame({"env_id": env_id, "algo": algo, "eval_index": index, "env_steps": steps,
                                    "mean": mean, "lo": lo, "hi": hi, "n": counts, "n_cell": len(wide.index)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS)


class ScoreSet(dict):
    """``{algo: (runs x envs) normalised scores}``, with the envs (the columns, in order)
    and each algorithm's seeds (the rows, in order): the identity of its aggregates."""

    def __init__(self, envs: list[str] | None = None, seeds: dict[str, list[int]] | None = None):
        super().__init__()
        self.envs = list(envs or [])
        self.seeds = dict(seeds or {})


def _identity(scores: dict[str, np.ndarray], algo: str) -> list:
    """What an algorithm's aggregate is of: its envs and seeds (a :class:`ScoreSet`), else
    the matrix's shape."""
    if isinstance(scores, ScoreSet) and algo in scores.seeds:
        return [algo, scores.envs, scores.seeds[algo]]
    return [algo, list(np.shape(scores[algo]))]


def normalized_scores(finals: pd.DataFrame, references: dict[str, tuple[float, float]]
                      ) -> tuple[ScoreSet, list[str], list[str]]:
    """Score matrices ``{algo: (runs, envs)}`` normalised as (x - random) / (reference - random).

    Only envs with a reference score and a run of every algorithm are used, and per algo
    the seeds present on all those envs (rliable needs a full matrix).

    :returns: (score dict, envs used, notes on what was left out)
    """
    notes: list[str] = []
    algos = sorted(finals["algo"].unique())
    envs = []
    for env_id in sorted(finals["env_id"].unique()):
        if env_id not in references:
            notes.append(f"{env_id}: no reference score in benchmark.toml; left out of the aggregates")
            continue
        missing = set(algos) - set(finals.loc[finals["env_id"] == env_id, "algo"])
        if missing:
            notes.append(f"{env_id}: no complete runs of {', '.join(sorted(missing))}; left out of the aggregates")
            continue
        envs.append(env_id)
    scores = ScoreSet(envs)
    if not envs:
        return scores, envs, notes
    for algo in algos:
        g = finals[(finals["algo"] == algo) & finals["env_id"].isin(envs)]
        wide = g.pivot(index="seed", columns="env_id", values="final_return")[envs].sort_index()
        full = wide.dropna()
        if len(full) < len(wide):
            notes.append(f"{algo}: seeds {', '.join(map(str, sorted(set(wide.index) - set(full.index))))} "
                         "lack some envs; left out of the aggregates")
        if len(full) == 0:
            continue
        lo = np.array([references[e][0] for e in envs])
        hi = np.array([references[e][1] for e in envs])
        scores[algo] = (full.to_numpy(dtype=float) - lo) / (hi - lo)
        scores.seeds[algo] = [int(s) for s in full.index]
    return scores, envs, notes


def aggregate_metrics(scores: dict[str, np.ndarray], *, reps: int = bootstrap.REPS,
                      seed: int = bootstrap.SEED) -> pd.DataFrame:
    """IQM, mean, median and optimality gap of normalised scores, with 95% CIs and bootstrap
    standard errors (``se``), per algo (generator ``("aggregate", algo, envs, seeds)``)."""
    rows = []
    for algo, m in scores.items():
        point = _aggregate_metrics(m)
        rng = bootstrap.generator(seed, "aggregate", *_identity(scores, algo))
        dist = bootstrap.resample(m, _aggregate_block, reps, rng)
        ci, se = bootstrap.percentile_interval(dist), dist.std(axis=0)
        for i, name in enumerate(AGGREGATE_NAMES):
            rows.append({"algo": algo, "metric": name, "value": float(point[i]), "lo": float(ci[0, i]),
                         "hi": float(ci[1, i]), "se": float(se[i]), "runs": m.shape[0], "envs": m.shape[1]})
    return pd.DataFrame(rows, columns=["algo", "metric", "value", "lo", "hi", "se", "runs", "envs"])


def aggregate_mean_distribution(scores: ScoreSet, algo: str, *, reps: int = bootstrap.REPS,
                                seed: int = bootstrap.SEED) -> np.ndarray:
    """Bootstrap distribution ``(reps,)`` of an algorithm's mean normalised score, from its
    aggregate generator ``("aggregate", algo, envs, seeds)``: the same draws as the "Mean"
    row of :func:`aggregate_metrics`."""
    rng = bootstrap.generator(seed, "aggregate", *_identity(scores, algo))
    return bootstrap.resample(np.asarray(scores[algo], dtype=float), _aggregate_block, reps, rng)[:, 1]


def _score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    # = rliable's default score distribution (fraction of all runs x tasks above tau), vectorised
    return (np.asarray(scores).reshape(-1, 1) > np.asarray(taus)[None, :]).mean(axis=0)


def _profile_distribution(m: np.ndarray, taus: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap distribution ``(reps, taus)`` of the score distribution: per replication,
    how often each run of each task is drawn times whether it exceeds tau (integer sums,
    exact whatever the summation order)."""
    n, k = m.shape
    above = (m.ravel()[:, None] > taus[None, :]).astype(float)
    return np.concatenate([bootstrap.counts(idx).reshape(idx.shape[0], n * k).astype(float) @ above / (n * k)
                           for idx in bootstrap.draw_blocks(rng, n, (k,), reps)])


def performance_profiles(scores: dict[str, np.ndarray], taus: np.ndarray | None = None, *,
                         reps: int = bootstrap.BAND_REPS, seed: int = bootstrap.SEED) -> pd.DataFrame:
    """Score distributions (fraction of runs with normalised score > tau) with 95% CIs
    (generator ``("profile", algo, envs, seeds)``)."""
    if taus is None:
        top = max([1.0] + [float(np.max(m)) for m in scores.values()])
        taus = np.linspace(0.0, min(top, 2.0) * 1.05, 81)
    taus = np.asarray(taus, dtype=float)
    rows = []
    for algo, m in scores.items():
        rng = bootstrap.generator(seed, "profile", *_identity(scores, algo))
        ci = bootstrap.percentile_interval(_profile_distribution(np.asarray(m, dtype=float), taus, reps, rng))
        rows.append(pd.DataFrame({"algo": algo, "tau": taus, "fraction": _score_distribution(m, taus),
                                  "lo": ci[0], "hi": ci[1]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["algo", "tau", "fraction", "lo", "hi"])


def poi(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y)/2 averaged over tasks (= ``rliable.metrics.probability_of_improvement``,
    which loops over Mann-Whitney U statistics; this is the same count, vectorised)."""
    x, y = np.asarray(scores_x, dtype=float), np.asarray(scores_y, dtype=float)
    gt = (x[:, None, :] > y[None, :, :]).mean(axis=(0, 1))
    eq = (x[:, None, :] == y[None, :, :]).mean(axis=(0, 1))
    return float(np.mean(gt + 0.5 * eq))


def poi_distribution(x: np.ndarray, y: np.ndarray, reps: int, rng_x: np.random.Generator,
                     rng_y: np.random.Generator) -> np.ndarray:
    """Bootstrap distribution ``(reps,)`` of :func:`poi`: the runs of ``x`` and of ``y``
    resampled independently per task (rliable's ``StratifiedIndependentBootstrap``), each
    side from its own generator. Exact: per replication, twice the count of (x, y) pairs
    with x > y plus the ties is an integer, divided once."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    nx, k = x.shape
    ny = y.shape[0]
    # twice[t, i, j] = 2 [x_it > y_jt] + [x_it == y_jt]
    # integers below 2**24 are exact in float32 (twice as fast here)
    dtype = np.float32 if 2 * nx * ny * k < 2**24 else np.float64
    twice = (2.0 * (x.T[:, :, None] > y.T[:, None, :]) + (x.T[:, :, None] == y.T[:, None, :])).astype(dtype)
    step = max(1, 2_000_000 // (max(nx, ny) * k))
    out = []
    for ix, iy in zip(bootstrap.draw_blocks(rng_x, nx, (k,), reps, step=step),
                      bootstrap.draw_blocks(rng_y, ny, (k,), reps, step=step)):
        cx = bootstrap.counts(ix).transpose(2, 0, 1).astype(dtype)  # (k, block, nx)
        per_y = cx @ twice  # (k, block, ny): for each y run, twice the x draws above it plus ties
        total = np.take_along_axis(per_y, iy.transpose(2, 0, 1), axis=2).sum(axis=(0, 2), dtype=np.float64)
        out.append(total / (2.0 * nx * ny * k))
    return np.concatenate(out)


def probability_of_improvement(scores: dict[str, np.ndarray], *, reps: int = bootstrap.REPS,
                               seed: int = bootstrap.SEED, purpose: tuple[str, ...] = ("poi",)) -> pd.DataFrame:
    """P(X > Y) for every pair of algorithms, with 95% CIs and bootstrap standard errors
    (runs resampled per algo; generators ``(*purpose, identity of x, identity of y, side)``).

    Computed for x < y alphabetically; the reverse pair is 1 - P with the mirrored CI.
    """
    rows = []
    for x, y in itertools.combinations(sorted(scores), 2):
        ident = [*purpose, *_identity(scores, x), *_identity(scores, y)]
        dist = poi_distribution(scores[x], scores[y], reps, bootstrap.generator(seed, *ident, "x"),
                                bootstrap.generator(seed, *ident, "y"))
        lo, hi = bootstrap.percentile_interval(dist[:, None])[:, 0]
        p, se = poi(scores[x], scores[y]), float(dist.std())
        rows.append({"x": x, "y": y, "probability": p, "lo": float(lo), "hi": float(hi), "se": se})
        rows.append({"x": y, "y": x, "probability": 1.0 - p, "lo": 1.0 - float(hi), "hi": 1.0 - float(lo), "se": se})
    return pd.DataFrame(rows, columns=["x", "y", "probability", "lo", "hi", "se"])


POI_BY_ENV_COLUMNS = ["env_id", "x", "y", "probability", "lo", "hi", "se", "n_x", "n_y"]


def probability_of_improvement_by_env(finals: pd.DataFrame, *, column: str = "final_return",
                                      reps: int = bootstrap.REPS, seed: int = bootstrap.SEED) -> pd.DataFrame:
    """P(X > Y) on each environment for every pair of algorithms with complete runs there,
    with 95% CIs: :func:`probability_of_improvement` on the env alone (one task column of
    final returns, each algorithm's seeds of that env; generators ``("poi", x, [env],
    seeds of x, y, [env], seeds of y, side)``). Raw returns, not normalised: the
    probability only compares runs, so it is the same under any increasing normalisation,
    and envs without a reference score are included. ``bench compare`` prints the same numbers.

    :param column: the finals column compared (default the final return; ``success_rate``
        for the goal section: runs without it are left out, generators ``("poi", column, ...)``)
    """
    frames = []
    purpose = ("poi",) if column == "final_return" else ("poi", column)
    for env_id, g in finals[finals[column].notna()].groupby("env_id", sort=True):
        algos = sorted(g["algo"].unique())
        if len(algos) < 2:
            continue
        scores = ScoreSet([env_id])
        for algo in algos:
            cell = g[g["algo"] == algo].sort_values("seed")
            scores[algo] = cell[column].to_numpy(dtype=float)[:, None]
            scores.seeds[algo] = _cell_seeds(cell)
        poi_frame = probability_of_improvement(scores, reps=reps, seed=seed, purpose=purpose)
        poi_frame.insert(0, "env_id", env_id)
        poi_frame["n_x"] = [len(scores.seeds[a]) for a in poi_frame["x"]]
        poi_frame["n_y"] = [len(scores.seeds[a]) for a in poi_frame["y"]]
        frames.append(poi_frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=POI_BY_ENV_COLUMNS)


def sweep_conformance(sweeps: pd.DataFrame, return_ranges: dict[str, tuple[float, float] | None]) -> pd.DataFrame:
    """How well achieved returns follow commanded ones, per (env, algo).

    Per run: Spearman rank correlation between command and achieved mean return, and the
    mean absolute error |achieved - command| divided by the width of the env's return
    range (the range of commands swept when the env has none). Reported as mean and std
    over the runs.
    """
    rows = []
    for (env_id, algo), g in sweeps.groupby(["env_id", "algo"], sort=True):
        rr = return_ranges.get(env_id)
        width = (rr[1] - rr[0]) if rr else float(g["command"].max() - g["command"].min()) or 1.0
        rhos, maes = [], []
        for _, r in g.groupby("seed"):
            c, a = r["command"].to_numpy(dtype=float), r["return_mean"].to_numpy(dtype=float)
            if len(c) >= 3 and np.ptp(c) > 0 and np.ptp(a) > 0:
                rhos.append(float(sps.spearmanr(c, a).statistic))
            else:
                rhos.append(np.nan)
            maes.append(float(np.mean(np.abs(a - c)) / width))
        rows.append({"env_id": env_id, "algo": algo, "runs": len(maes), "spearman": float(np.nanmean(rhos))
                     if np.isfinite(rhos).any() else np.nan, "spearman_std": float(np.nanstd(rhos)),
                     "nmae": float(np.mean(maes)), "nmae_std": float(np.std(maes))})
    return pd.DataFrame(rows, columns=["env_id", "algo", "runs", "spearman", "spearman_std", "nmae", "nmae_std"])


def goal_sweep_summary(goal_sweeps: pd.DataFrame) -> pd.DataFrame:
    """Per (env, algo): success rate and normalised final distance over the sweep's goals,
    as mean and std over runs (each run's value is its mean over goals)."""
    rows = []
    for (env_id, algo), g in goal_sweeps.groupby(["env_id", "algo"], sort=True):
        per_run = g.groupby("seed")[["success", "norm_distance"]].mean()
        rows.append({"env_id": env_id, "algo": algo, "runs": len(per_run), "goals": int(g["goal_index"].nunique()),
                     "success": float(per_run["success"].mean()), "success_std": float(per_run["success"].std(ddof=0)),
                     "norm_distance": float(per_run["norm_distance"].mean()),
                     "norm_distance_std": float(per_run["norm_distance"].std(ddof=0))})
    return pd.DataFrame(rows, columns=["env_id", "algo", "runs", "goals", "success", "success_std", "norm_distance",
                                       "norm_distance_std"])
