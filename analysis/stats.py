"""rliable statistics over the frames of :mod:`analysis.load`.

Every confidence interval is a 95% percentile interval of rliable's stratified bootstrap
(``rliable.library.get_interval_estimates``). rliable draws its resampling indices from
numpy's *global* generator, so each call here runs under :func:`seeded`, which seeds it
from a fixed base seed and the cell's name and restores the previous state: a report is
reproducible and a cell's numbers do not depend on which other cells were loaded.

Point metrics use fast numpy forms that equal rliable's ``metrics.aggregate_*``
(mean; median; IQM = 25% trimmed mean over all runs x tasks; optimality gap at 1).
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
import zlib
from typing import Callable, Iterator

import numpy as np
import pandas as pd
from rliable import library as rly
from scipy import stats as sps

DEFAULT_REPS = 2000
DEFAULT_SEED = 0
CONFIDENCE = 0.95


@contextlib.contextmanager
def seeded(seed: int, *key: object) -> Iterator[np.random.RandomState]:
    """Seed numpy's global generator from ``seed`` and ``key``; restore it afterwards."""
    state = np.random.get_state()
    s = (zlib.crc32("|".join(map(str, key)).encode()) + seed) % 2**32
    np.random.seed(s)
    try:
        yield np.random.RandomState(s)
    finally:
        np.random.set_state(state)


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
             seed: int = DEFAULT_SEED, key: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate and (2, ...) percentile CI of ``func`` over a (runs x tasks) matrix."""
    with seeded(seed, *key) as rs, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arch: random_state deprecation notice
        point, ci = rly.get_interval_estimates({"x": scores}, func, reps=reps,
                                               confidence_interval_size=CONFIDENCE, random_state=rs)
    return np.asarray(point["x"]), np.asarray(ci["x"])


def _column_metrics(scores: np.ndarray) -> np.ndarray:
    """Mean, median and IQM of each column of a (runs x cells) matrix, flattened (3 * cells,)."""
    v = np.sort(np.asarray(scores, dtype=float), axis=0)
    cut = int(0.25 * v.shape[0])
    return np.concatenate([v.mean(axis=0), np.median(v, axis=0), v[cut:v.shape[0] - cut].mean(axis=0)])


def _by_run_count(groups: dict[tuple[str, str], np.ndarray]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for key, arr in groups.items():
        out.setdefault(arr.shape[0], []).append(key)
    return out


def final_return_stats(finals: pd.DataFrame, *, reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Per (env, algo): seeds, mean, std (ddof=1), median, IQM of final returns, and the
    95% stratified-bootstrap CI of mean / median / IQM; goal metrics when present.

    Cells with the same number of runs are bootstrapped in one rliable call on the
    (runs x cells) matrix: rliable's stratified bootstrap resamples the runs of each
    column independently, so each column's CI is that cell's own bootstrap CI (and one
    call instead of one per cell keeps a 16-cell report fast).
    """
    groups = {key: g["final_return"].to_numpy(dtype=float)
              for key, g in finals.groupby(["env_id", "algo"], sort=True)}
    cis: dict[tuple[str, str], np.ndarray] = {}
    for n, keys in sorted(_by_run_count(groups).items()):
        if n < 2:
            for k in keys:
                cis[k] = np.full((2, 3), np.nan)
            continue
        matrix = np.column_stack([groups[k] for k in keys])
        _, ci = interval(matrix, _column_metrics, reps=reps, seed=seed, key=("final", n))
        ci = ci.reshape(2, 3, len(keys))
        for j, k in enumerate(keys):
            cis[k] = ci[:, :, j]
    rows = []
    for (env_id, algo), g in finals.groupby(["env_id", "algo"], sort=True):
        x = groups[(env_id, algo)]
        n = len(x)
        row = {"env_id": env_id, "algo": algo, "n": n, "seeds": ",".join(map(str, sorted(g["seed"]))),
               "mean": float(x.mean()), "std": float(x.std(ddof=1)) if n > 1 else 0.0,
               "median": float(np.median(x)), "iqm": iqm(x), "min": float(x.min()), "max": float(x.max())}
        if "budget" in g:
            row["budget"] = int(g["budget"].min())
        if "cpu_time_s" in g:  # CPU-hours per run (wall-clock where CPU time was not recorded)
            cpu = g["cpu_time_s"].astype(float).fillna(g["wall_time_s"].astype(float))
            row["cpu_hours"] = float(cpu.mean() / 3600)
        if "code_hash" in g:  # how many code versions made this cell's seeds (1 = all the same code)
            row["code_versions"] = int(g["code_hash"].nunique()) + int(g["code_mixed"].any())
        if "short_window" in g:
            row["short_window"] = bool(g["short_window"].any())
            row["final_window"] = int(g["final_window"].min())
        ci = cis[(env_id, algo)]
        for i, name in enumerate(["mean", "median", "iqm"]):
            row[f"{name}_lo"], row[f"{name}_hi"] = float(ci[0, i]), float(ci[1, i])
        for col in ("success_rate", "norm_distance"):
            if col in g and g[col].notna().any():
                row[col] = float(g[col].mean())
                row[f"{col}_std"] = float(g[col].std(ddof=1)) if n > 1 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def curve_bands(evals: pd.DataFrame, *, column: str = "eval_return_mean", reps: int = DEFAULT_REPS,
                seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Learning-curve mean and 95% bootstrap band per (env, algo, evaluation point).

    Runs are aligned by ``eval_index``; ``env_steps`` is the nominal evaluation point
    (``eval_step``, the same for every run; the median of the actual env steps for runs
    recorded before nominal points). A point reached by fewer runs than others (runs of unequal length) uses the
    runs that reached it; ``n`` says how many. All (cell, point) columns with the same
    run count are bootstrapped in one rliable call (each column resampled on its own).
    """
    blocks: dict[int, list[tuple[int, np.ndarray]]] = {}
    frames = []
    for (env_id, algo), g in evals.groupby(["env_id", "algo"], sort=True):
        wide = g.pivot(index="seed", columns="eval_index", values=column)
        # x: the nominal evaluation point (the actual env_steps of episodic methods overshoot it)
        x = "eval_step" if "eval_step" in g and g["eval_step"].notna().all() else "env_steps"
        steps = g.groupby("eval_index")[x].median()
        counts = wide.notna().sum(axis=0)
        frame = pd.DataFrame({"env_id": env_id, "algo": algo, "eval_index": wide.columns,
                              "env_steps": steps.reindex(wide.columns).to_numpy(),
                              "mean": wide.mean(axis=0).to_numpy(), "lo": np.nan, "hi": np.nan,
                              "n": counts.to_numpy()})
        fi = len(frames)
        frames.append(frame)
        values = wide.to_numpy(dtype=float)
        for j in range(values.shape[1]):
            col = values[:, j]
            col = col[np.isfinite(col)]
            if len(col) >= 2:
                blocks.setdefault(len(col), []).append((fi * 1_000_000 + j, col))
    for n, cols in sorted(blocks.items()):
        matrix = np.column_stack([c for _, c in cols])
        _, ci = interval(matrix, lambda s: s.mean(axis=0), reps=reps, seed=seed, key=("curve", column, n))
        for k, (code, _) in enumerate(cols):
            fi, j = divmod(code, 1_000_000)
            frames[fi].iloc[j, frames[fi].columns.get_loc("lo")] = ci[0, k]
            frames[fi].iloc[j, frames[fi].columns.get_loc("hi")] = ci[1, k]
    cols = ["env_id", "algo", "eval_index", "env_steps", "mean", "lo", "hi", "n"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def normalized_scores(finals: pd.DataFrame, references: dict[str, tuple[float, float]]
                      ) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
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
    scores = {}
    if not envs:
        return scores, envs, notes
    for algo in algos:
        g = finals[(finals["algo"] == algo) & finals["env_id"].isin(envs)]
        wide = g.pivot(index="seed", columns="env_id", values="final_return")[envs]
        full = wide.dropna()
        if len(full) < len(wide):
            notes.append(f"{algo}: seeds {', '.join(map(str, sorted(set(wide.index) - set(full.index))))} "
                         "lack some envs; left out of the aggregates")
        if len(full) == 0:
            continue
        lo = np.array([references[e][0] for e in envs])
        hi = np.array([references[e][1] for e in envs])
        scores[algo] = (full.to_numpy(dtype=float) - lo) / (hi - lo)
    return scores, envs, notes


def aggregate_metrics(scores: dict[str, np.ndarray], *, reps: int = DEFAULT_REPS,
                      seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """IQM, mean, median and optimality gap of normalised scores, with 95% CIs, per algo."""
    rows = []
    for algo, m in scores.items():
        point, ci = interval(m, _aggregate_metrics, reps=reps, seed=seed, key=("aggregate", algo))
        for i, name in enumerate(AGGREGATE_NAMES):
            rows.append({"algo": algo, "metric": name, "value": float(point[i]), "lo": float(ci[0, i]),
                         "hi": float(ci[1, i]), "runs": m.shape[0], "envs": m.shape[1]})
    return pd.DataFrame(rows, columns=["algo", "metric", "value", "lo", "hi", "runs", "envs"])


def _score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    # = rliable's default score distribution (fraction of all runs x tasks above tau), vectorised
    return (np.asarray(scores).reshape(-1, 1) > np.asarray(taus)[None, :]).mean(axis=0)


def performance_profiles(scores: dict[str, np.ndarray], taus: np.ndarray | None = None, *,
                         reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Score distributions (fraction of runs with normalised score > tau) with 95% CIs."""
    if taus is None:
        top = max([1.0] + [float(np.max(m)) for m in scores.values()])
        taus = np.linspace(0.0, min(top, 2.0) * 1.05, 81)
    rows = []
    for algo, m in scores.items():
        with seeded(seed, "profile", algo):
            prof, ci = rly.create_performance_profile({algo: m}, taus, custom_profile_func=_score_distribution,
                                                      reps=reps, confidence_interval_size=CONFIDENCE)
        rows.append(pd.DataFrame({"algo": algo, "tau": taus, "fraction": prof[algo],
                                  "lo": ci[algo][0], "hi": ci[algo][1]}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["algo", "tau", "fraction", "lo", "hi"])


def poi(scores_x: np.ndarray, scores_y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y)/2 averaged over tasks (= ``rliable.metrics.probability_of_improvement``,
    which loops over Mann-Whitney U statistics; this is the same count, vectorised)."""
    x, y = np.asarray(scores_x, dtype=float), np.asarray(scores_y, dtype=float)
    gt = (x[:, None, :] > y[None, :, :]).mean(axis=(0, 1))
    eq = (x[:, None, :] == y[None, :, :]).mean(axis=(0, 1))
    return float(np.mean(gt + 0.5 * eq))


def probability_of_improvement(scores: dict[str, np.ndarray], *, reps: int = DEFAULT_REPS,
                               seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """P(X > Y) for every pair of algorithms, with 95% CIs (runs resampled per algo).

    Computed for x < y alphabetically; the reverse pair is 1 - P with the mirrored CI.
    """
    rows = []
    for x, y in itertools.combinations(sorted(scores), 2):
        with seeded(seed, "poi", x, y) as rs, warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            point, ci = rly.get_interval_estimates({"p": [scores[x], scores[y]]},
                                                   poi, reps=reps,
                                                   confidence_interval_size=CONFIDENCE, random_state=rs)
        lo, hi = np.ravel(ci["p"])
        p = float(np.ravel(point["p"])[0])
        rows.append({"x": x, "y": y, "probability": p, "lo": float(lo), "hi": float(hi)})
        rows.append({"x": y, "y": x, "probability": 1.0 - p, "lo": 1.0 - float(hi), "hi": 1.0 - float(lo)})
    return pd.DataFrame(rows, columns=["x", "y", "probability", "lo", "hi"])


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
