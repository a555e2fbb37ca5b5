"""``bench compare``: is method X better than method Y, and how sure are we?

For two algorithms and each environment where both have complete runs (and, over two or
more environments with reference scores, for their normalised aggregate):

- each method's mean final return with its 95% bootstrap CI: the same draws as Table 1
  (:func:`analysis.stats.final_mean_distribution`, generator ``("final", env, algo,
  seeds)``), so the interval is Table 1's;
- the difference of the means X - Y with a 95% bootstrap CI: the two sides' bootstrap
  distributions (independent generators) subtracted replication by replication;
- rliable's probability of improvement P(X > Y) with its 95% CI (runs of each side
  resampled independently): :func:`analysis.stats.probability_of_improvement`, the
  numbers of the report's pairwise matrices;
- Welch's t-test (unequal variances) and the Mann-Whitney U test, two-sided, at 5%
  (scipy). The verdict follows Welch's test; Mann-Whitney's U / (n_x n_y) is the point
  estimate of P(X > Y), printed as a check that does not assume normality;
- the seeds per method that would give 80% power at alpha = 0.05 for the observed effect
  (:func:`seeds_for_power`: Welch's test, exact, from scipy's noncentral t; Colas et al.
  2018, "How many random seeds?").

Aggregate: scores normalised by the fixed references of benchmark.toml
((return - random) / (reference - random), :func:`analysis.stats.normalized_scores`: the
envs compared that have a reference, each method's seeds present on all of them). Means
and their CIs are the report's "Mean" aggregate (stratified bootstrap over envs), P(X > Y)
is rliable's (averaged over envs), and the tests and power analysis use each run's mean
normalised score over the envs.

Refusals (one :class:`BenchError` line): unknown algorithm or environment, a cell with no
complete run, X = Y, and cells whose budget, evaluation protocol (``eval_interval``,
``eval_episodes``, ``final_window``) or seed lists differ (``allow_mismatch`` compares them
anyway and every output states the mismatch). Runs that are not complete are left out and
listed in the notes. Every interval draws from a generator seeded by the base seed and the
interval's identity (:mod:`analysis.bootstrap`): the same command gives the same output.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis import bootstrap, stats, tables
from analysis.load import RunSet, load_runs
from bench import store
from bench.config import BenchConfig
from bench.errors import BenchError

ALPHA = 0.05
POWER = 0.80
#: below this many complete seeds per cell, ``bench compare`` warns
MIN_SEEDS = 5
#: the power search stops here ("more than 1000 seeds")
MAX_SEEDS = 1000
#: the protocol fields two compared cells must share (besides the seed list)
PROTOCOL_KEYS = ("budget", "eval_interval", "eval_episodes", "final_window")
FORMATS = ("text", "md", "csv", "json")
AGGREGATE = "aggregate"

COLUMNS = ["scope", "kind", "envs", "x", "y", "n_x", "n_y", "seeds_x", "seeds_y",
           "mean_x", "lo_x", "hi_x", "se_x", "mean_y", "lo_y", "hi_y", "se_y",
           "diff", "diff_lo", "diff_hi", "diff_se", "poi", "poi_lo", "poi_hi", "poi_se",
           "welch_t", "welch_df", "welch_p", "mwu_u", "mwu_p", "effect_d", "seeds_for_power",
           "significant", "verdict", "sentence", "mismatch"]


# --------------------------------------------------------------------- statistics

def welch_power(diff: float, sd_x: float, sd_y: float, n: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided Welch t-test with ``n`` seeds per method when the true
    difference of means is ``diff`` and the true standard deviations are ``sd_x``, ``sd_y``.

    Exact under normality: the statistic follows a noncentral t with the
    Welch-Satterthwaite degrees of freedom ``(n - 1)(vx + vy)^2 / (vx^2 + vy^2)`` and
    noncentrality ``|diff| / sqrt((vx + vy) / n)``. With equal variances this is the
    pooled two-sample t-test's power (equal n gives the same statistic and degrees of
    freedom), e.g. statsmodels' ``TTestIndPower``.
    """
    vx, vy = sd_x ** 2, sd_y ** 2
    if n < 2:
        return math.nan
    if vx + vy == 0:
        return 1.0 if diff != 0 else alpha
    df = (n - 1) * (vx + vy) ** 2 / (vx ** 2 + vy ** 2)
    nc = abs(diff) / math.sqrt((vx + vy) / n)
    crit = float(sps.t.ppf(1 - alpha / 2, df))
    power = float(sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc))
    if not math.isfinite(power):  # scipy's noncentral t gives NaN far in its tails (large nc)
        power = _power_by_integration(crit, df, nc)
    return min(max(power, 0.0), 1.0)


def _power_by_integration(crit: float, df: float, nc: float) -> float:
    """P(|T| > crit) for T = (Z + nc) / sqrt(V / df), V ~ chi2(df): the noncentral t's
    two tails, integrated over V (agrees with scipy's ``nct`` to 1e-7 where that is finite)."""
    from scipy import integrate

    def tails(v: float) -> float:
        s = crit * math.sqrt(v / df)
        return float((sps.norm.sf(s - nc) + sps.norm.cdf(-s - nc)) * sps.chi2.pdf(v, df))

    lo, hi = (float(q) for q in sps.chi2.ppf([1e-14, 1 - 1e-14], df))
    points = [df] if lo < df < hi else None
    return float(integrate.quad(tails, lo, hi, limit=200, points=points)[0])


def seeds_for_power(diff: float, sd_x: float, sd_y: float, *, alpha: float = ALPHA, power: float = POWER,
                    max_seeds: int = MAX_SEEDS) -> int | None:
    """The fewest seeds per method (at least 2) at which the two-sided Welch t-test at
    ``alpha`` has ``power`` when the truth is the observed effect (difference ``diff``,
    standard deviations ``sd_x``, ``sd_y``): :func:`welch_power`, which grows with n, by
    bisection. ``None`` when even ``max_seeds`` would not do (an effect of about zero).

    statsmodels (installed with arch) offers only the pooled-variance t-test's power; the
    Welch form is computed here directly with scipy's noncentral t. It plans for the
    observed effect, so it is an estimate: an effect overestimated by few seeds makes it
    optimistic.
    """
    if not (math.isfinite(diff) and math.isfinite(sd_x) and math.isfinite(sd_y)):
        return None
    if diff == 0:
        return None
    if sd_x == 0 and sd_y == 0:
        return 2
    if welch_power(diff, sd_x, sd_y, max_seeds, alpha) < power:
        return None
    if welch_power(diff, sd_x, sd_y, 2, alpha) >= power:
        return 2
    lo, hi = 2, max_seeds  # power(lo) < target <= power(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if welch_power(diff, sd_x, sd_y, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def two_sample_tests(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Welch's t-test and the Mann-Whitney U test (two-sided) of samples ``x``, ``y``;
    NaN where a side has fewer than 2 values. Two samples without any spread are equal
    (t = 0, p = 1) or not (t = +-inf, p = 0)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out = {"welch_t": math.nan, "welch_df": math.nan, "welch_p": math.nan, "mwu_u": math.nan, "mwu_p": math.nan}
    if len(x) < 2 or len(y) < 2:
        return out
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        same = x[0] == y[0]
        out.update(welch_t=0.0 if same else math.copysign(math.inf, x[0] - y[0]), welch_p=1.0 if same else 0.0)
    else:
        with warnings.catch_warnings():  # "precision loss" when one side has (nearly) no spread
            warnings.simplefilter("ignore", RuntimeWarning)
            res = sps.ttest_ind(x, y, equal_var=False)
        out.update(welch_t=float(res.statistic), welch_df=float(res.df), welch_p=float(res.pvalue))
    if np.ptp(np.concatenate([x, y])) == 0:
        out.update(mwu_u=len(x) * len(y) / 2, mwu_p=1.0)
    else:
        res = sps.mannwhitneyu(x, y, alternative="two-sided")
        out.update(mwu_u=float(res.statistic), mwu_p=float(res.pvalue))
    return out


def compare_samples(x: np.ndarray, y: np.ndarray, dist_x: np.ndarray, dist_y: np.ndarray,
                    poi: dict[str, float], *, alpha: float = ALPHA, power: float = POWER) -> dict[str, Any]:
    """The numbers of one comparison row.

    :param x: the values of method X (one per run), ``y`` those of Y
    :param dist_x: bootstrap distribution ``(reps,)`` of X's mean (``dist_y``: Y's, same reps)
    :param poi: ``probability``, ``lo``, ``hi``, ``se`` of P(X > Y)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    row: dict[str, Any] = {"n_x": len(x), "n_y": len(y), "mean_x": float(x.mean()), "mean_y": float(y.mean()),
                           "diff": float(x.mean() - y.mean())}
    for side, d, v in (("x", dist_x, x), ("y", dist_y, y)):
        if len(v) >= 2:
            lo, hi = bootstrap.percentile_interval(d[:, None])[:, 0]
            row.update({f"lo_{side}": float(lo), f"hi_{side}": float(hi), f"se_{side}": float(d.std())})
        else:
            row.update({f"lo_{side}": math.nan, f"hi_{side}": math.nan, f"se_{side}": math.nan})
    testable = len(x) >= 2 and len(y) >= 2
    if testable:
        diff = dist_x - dist_y
        lo, hi = bootstrap.percentile_interval(diff[:, None])[:, 0]
        row.update(diff_lo=float(lo), diff_hi=float(hi), diff_se=float(diff.std()))
    else:
        row.update(diff_lo=math.nan, diff_hi=math.nan, diff_se=math.nan)
    row.update(poi=poi["probability"], poi_lo=poi["lo"], poi_hi=poi["hi"], poi_se=poi["se"])
    row.update(two_sample_tests(x, y))
    sd_x = float(x.std(ddof=1)) if len(x) > 1 else math.nan
    sd_y = float(y.std(ddof=1)) if len(y) > 1 else math.nan
    spread = math.sqrt((sd_x ** 2 + sd_y ** 2) / 2) if testable else math.nan
    row["effect_d"] = (row["diff"] / spread if spread > 0 else
                       (0.0 if row["diff"] == 0 else math.copysign(math.inf, row["diff"]))) if testable else math.nan
    row["seeds_for_power"] = seeds_for_power(row["diff"], sd_x, sd_y, alpha=alpha, power=power) if testable else None
    row["significant"] = bool(testable and row["welch_p"] < alpha)
    if not testable:
        row["verdict"] = "untested"
    elif row["significant"]:
        row["verdict"] = "better" if row["diff"] > 0 else "worse"
    else:
        row["verdict"] = "not distinguishable"
    return row


# --------------------------------------------------------------------- loading and checks

@dataclass
class Comparison:
    """What :func:`compare` found: one row per environment, then the aggregate (if any)."""

    x: str
    y: str
    runs_dir: Path
    rows: pd.DataFrame
    #: one line per environment whose cells differ (budget, protocol, seeds); empty when none
    mismatches: list[str] = field(default_factory=list)
    #: runs left out, environments not compared, aggregate remarks
    notes: list[str] = field(default_factory=list)
    #: fewer than MIN_SEEDS seeds in a cell (printed as one line on stderr)
    warnings: list[str] = field(default_factory=list)
    #: env -> the protocol both cells share (or X's, under a mismatch)
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    references: dict[str, tuple[float, float]] = field(default_factory=dict)
    reps: int = bootstrap.REPS
    seed: int = bootstrap.SEED
    allow_mismatch: bool = False
    #: environments left out because their cells differ (``skip_mismatch``)
    skipped: list[str] = field(default_factory=list)


def seed_text(seeds: list[int]) -> str:
    """``[0, 1, 2, 3, 7]`` -> ``"0-3, 7"``."""
    seeds = sorted(int(s) for s in seeds)
    parts: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if j == i else f"{seeds[i]}-{seeds[j]}" if j > i + 1
                     else f"{seeds[i]}, {seeds[j]}")
        i = j + 1
    return ", ".join(parts) if parts else "none"


def _store_index(runs_dir: Path) -> dict[str, set[str]]:
    """env -> algorithms with a directory in the run store (complete runs or not)."""
    index: dict[str, set[str]] = {}
    for env_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir() and p.name[0] not in "_."):
        index[env_dir.name] = {p.name for p in env_dir.iterdir() if p.is_dir()}
    return index


def _cell_protocol(rs: RunSet, env_id: str, algo: str, seeds: list[int]) -> dict[str, Any]:
    """The protocol of a cell: its first complete seed's config.json (load_runs keeps only
    the seeds of a cell that share protocol and hyperparameters)."""
    path = store.run_dir(rs.runs_dir, env_id, algo, seeds[0]) / "config.json"
    protocol = store.read_json(path).get("protocol") or {}
    return {k: protocol.get(k) for k in PROTOCOL_KEYS}


def _excluded_note(rs: RunSet, env_id: str, algo: str) -> str | None:
    ex = rs.excluded[(rs.excluded["env_id"] == env_id) & (rs.excluded["algo"] == algo)]
    if ex.empty:
        return None
    shown = [f"seed {r.seed} ({r.reason})" for r in ex.head(3).itertuples()]
    more = f", and {len(ex) - 3} more" if len(ex) > 3 else ""
    return f"{env_id}/{algo}: {len(ex)} run(s) left out (not complete): {', '.join(shown)}{more}"


def _no_complete_runs(rs: RunSet, index: dict[str, set[str]], env_id: str, algo: str, *, where: bool = True) -> str:
    """Why a cell has no complete run: no runs at all, or how many are in which state."""
    at = f" in {rs.runs_dir}" if where else ""
    if algo not in index.get(env_id, set()):
        return f"no runs of {algo} on {env_id}{at}"
    ex = rs.excluded[(rs.excluded["env_id"] == env_id) & (rs.excluded["algo"] == algo)]
    states = ", ".join(f"{n} {s}" for s, n in ex["state"].value_counts().sort_index().items())
    return f"no complete runs of {algo} on {env_id}{at} ({states or 'no seed directories'})"


def _fmt_value(v: Any) -> str:
    return "unrecorded" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def compare(runs_dir: Path | str, config: BenchConfig, x: str, y: str, envs: list[str] | None = None, *,
            reps: int = bootstrap.REPS, seed: int = bootstrap.SEED, allow_mismatch: bool = False,
            skip_mismatch: bool = False) -> Comparison:
    """Compare algorithm ``x`` with ``y`` on the runs under ``runs_dir``.

    :param config: the benchmark configuration (reference scores of the aggregate)
    :param envs: these environments (each must have complete runs of both); None: every
        environment where both have complete runs
    :param reps: bootstrap resamples of every interval
    :param seed: base seed of the bootstrap (:mod:`analysis.bootstrap`)
    :param allow_mismatch: compare cells whose budget, protocol or seed lists differ
    :param skip_mismatch: leave such environments out (listed in ``skipped``) instead of
        refusing: the result is the comparison on the others, as ``envs`` would give it (the
        README's generated comparison, while a cell is still running)
    :raises BenchError: see the module docstring
    """
    runs_dir = Path(runs_dir)
    if x == y:
        raise BenchError(f"bench compare: --algo and --vs name the same algorithm ({x})")
    if not runs_dir.is_dir():
        raise BenchError(f"{runs_dir}: runs directory not found")
    index = _store_index(runs_dir)
    known_algos = sorted(set().union(*index.values())) if index else []
    for algo in (x, y):
        if algo not in known_algos:
            raise BenchError(f"no runs of algorithm {algo!r} in {runs_dir} "
                             f"(it has: {', '.join(known_algos) or 'none'})")
    for env_id in envs or []:
        if env_id not in index:
            raise BenchError(f"no environment {env_id!r} in {runs_dir} (it has: {', '.join(sorted(index)) or 'none'})")
    rs = load_runs(runs_dir, envs, [x, y])
    complete = set(rs.cells)
    notes: list[str] = []
    if envs:
        for env_id in envs:
            for algo in (x, y):
                if (env_id, algo) not in complete:
                    raise BenchError(_no_complete_runs(rs, index, env_id, algo))
        env_list = list(dict.fromkeys(envs))
    else:
        env_list = [e for e in sorted(index) if (e, x) in complete and (e, y) in complete]
        why: list[str] = []
        for e in sorted(index):
            if e in env_list or not ({x, y} & index[e]):
                continue
            lacking = [a for a in (x, y) if (e, a) not in complete]
            notes.append(f"{e}: not compared (no complete runs of {' or '.join(lacking)})")
            why += [_no_complete_runs(rs, index, e, a, where=False) for a in lacking]
        if not env_list:
            raise BenchError(f"{x} and {y} have no environment with complete runs of both in {runs_dir}: "
                             + "; ".join(why))

    finals = rs.finals[rs.finals["env_id"].isin(env_list)]
    cell_seeds = {(e, a): [int(s) for s in sorted(finals.loc[(finals["env_id"] == e) & (finals["algo"] == a), "seed"])]
                  for e in env_list for a in (x, y)}

    # same budget, protocol and seeds, or a refusal
    mismatch_of: dict[str, str] = {}
    protocols: dict[str, dict[str, Any]] = {}
    for e in env_list:
        px, py = (_cell_protocol(rs, e, a, cell_seeds[(e, a)]) for a in (x, y))
        protocols[e] = px
        diffs = [f"{k} differs ({x} {_fmt_value(px[k])}, {y} {_fmt_value(py[k])})" for k in PROTOCOL_KEYS
                 if px[k] != py[k]]
        if cell_seeds[(e, x)] != cell_seeds[(e, y)]:
            diffs.append(f"seed lists differ ({x}: {seed_text(cell_seeds[(e, x)])}; "
                         f"{y}: {seed_text(cell_seeds[(e, y)])})")
        if diffs:
            mismatch_of[e] = ", ".join(diffs)
    if mismatch_of and skip_mismatch and not allow_mismatch:
        # exactly what `bench compare --env <the matching ones>` gives, computed once
        rest = [e for e in env_list if e not in mismatch_of]
        if not rest:
            raise BenchError(f"cannot compare {x} with {y}: no environment where their cells match "
                             f"({' | '.join(f'{e}: {m}' for e, m in mismatch_of.items())})")
        return replace(compare(runs_dir, config, x, y, rest, reps=reps, seed=seed),
                                   skipped=list(mismatch_of))
    mismatches = [f"{e}: {m}" for e, m in mismatch_of.items()]
    if mismatches and not allow_mismatch:
        raise BenchError(f"cannot compare {x} with {y}: {' | '.join(mismatches)} "
                         "(complete runs only; --allow-mismatch compares them anyway)")

    few_seeds = [f"{e}/{a} {len(cell_seeds[(e, a)])}" for e in env_list for a in (x, y)
                 if len(cell_seeds[(e, a)]) < MIN_SEEDS]
    for e in env_list:
        for a in (x, y):
            note = _excluded_note(rs, e, a)
            if note:
                notes.append(note)

    # per environment
    poi_env = stats.probability_of_improvement_by_env(finals, reps=reps, seed=seed)
    rows = []
    for e in env_list:
        vals, dists = {}, {}
        for a in (x, y):
            vals[a] = finals[(finals["env_id"] == e) & (finals["algo"] == a)].sort_values("seed")[
                "final_return"].to_numpy(dtype=float)
            dists[a] = stats.final_mean_distribution(vals[a], e, a, cell_seeds[(e, a)], reps=reps, seed=seed)
        p = poi_env[(poi_env["env_id"] == e) & (poi_env["x"] == x) & (poi_env["y"] == y)].iloc[0]
        row = compare_samples(vals[x], vals[y], dists[x], dists[y], p.to_dict())
        row.update(scope=e, kind="return", envs=e, x=x, y=y, seeds_x=seed_text(cell_seeds[(e, x)]),
                   seeds_y=seed_text(cell_seeds[(e, y)]), mismatch=mismatch_of.get(e, ""))
        rows.append(row)

    # aggregate over environments, normalised by the fixed references
    references = {e: config.env(e).reference for e in env_list if config.env(e).reference}
    if len(env_list) >= 2:
        scores, agg_envs, agg_notes = stats.normalized_scores(finals, references)
        notes += [f"aggregate: {n}" for n in agg_notes]
        if len(agg_envs) >= 2 and x in scores and y in scores:
            sub = stats.ScoreSet(agg_envs, {a: scores.seeds[a] for a in (x, y)})
            sub[x], sub[y] = scores[x], scores[y]
            poi = stats.probability_of_improvement(sub, reps=reps, seed=seed)
            p = poi[(poi["x"] == x) & (poi["y"] == y)].iloc[0]
            row = compare_samples(sub[x].mean(axis=1), sub[y].mean(axis=1),
                                  stats.aggregate_mean_distribution(sub, x, reps=reps, seed=seed),
                                  stats.aggregate_mean_distribution(sub, y, reps=reps, seed=seed), p.to_dict())
            agg_mismatch = "; ".join(f"{e}: {m}" for e, m in mismatch_of.items() if e in agg_envs)
            row.update(scope=AGGREGATE, kind="normalised score", envs=",".join(agg_envs), x=x, y=y,
                       seeds_x=seed_text(sub.seeds[x]), seeds_y=seed_text(sub.seeds[y]), mismatch=agg_mismatch)
            rows.append(row)
        else:
            notes.append("aggregate: not computed (needs two or more compared environments with a reference score "
                         "in benchmark.toml)")
    frame = pd.DataFrame(rows)
    # an integer or None ("more than MAX_SEEDS"), not a float column
    frame["seeds_for_power"] = pd.Series([r["seeds_for_power"] for r in rows], dtype=object)
    frame["sentence"] = [_sentence(r) for r in frame.to_dict("records")]
    return Comparison(x=x, y=y, runs_dir=runs_dir, rows=frame[COLUMNS], mismatches=mismatches, notes=notes,
                      warnings=few_seeds, protocols=protocols, references=references, reps=reps, seed=seed,
                      allow_mismatch=allow_mismatch)


# --------------------------------------------------------------------- words and formats

def _unit(row: dict[str, Any]) -> float:
    """Printing step of a row's means: normalised scores to 0.01, returns by magnitude (as Table 1)."""
    if row["kind"] != "return":
        return 0.01
    a = max(abs(row["mean_x"]), abs(row["mean_y"]))
    return 1.0 if a >= 100 else 0.1 if a >= 10 else 0.01


def _est(row: dict[str, Any], key: str, lo: str, hi: str, se: str, unit: float) -> str:
    return tables.estimate_ci(row[key], row[lo], row[hi], row[se], unit)


def formatted(row: dict[str, Any]) -> dict[str, str]:
    """A row's estimates as printed: point and 95% CI, the CI rounded as Table 1's
    (:func:`analysis.tables.fmt_interval`)."""
    u = _unit(row)
    return {"x": _est(row, "mean_x", "lo_x", "hi_x", "se_x", u), "y": _est(row, "mean_y", "lo_y", "hi_y", "se_y", u),
            "diff": _est(row, "diff", "diff_lo", "diff_hi", "diff_se", u),
            "poi": _est(row, "poi", "poi_lo", "poi_hi", "poi_se", 0.01)}


def _pnum(p: float) -> str:
    """A p-value as printed: ``0.042``, ``< 1e-4``, ``–`` (untested)."""
    return "–" if p is None or not math.isfinite(p) else "< 1e-4" if p < 1e-4 else f"{p:.2g}"


def _p(p: float) -> str:
    """``p = 0.042``, ``p < 1e-4``."""
    text = _pnum(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _d(d: float) -> str:
    return f"{d:.2f}" if abs(d) < 10 else f"{d:.0f}"


def _g(v: float) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"


def power_text(n: int | None) -> str:
    return f"more than {MAX_SEEDS}" if n is None else f"about {int(n)}"


def _power_cell(row: dict[str, Any]) -> str:
    return "–" if row["verdict"] == "untested" else power_text(row["seeds_for_power"])


def _seeds_words(row: dict[str, Any]) -> str:
    return f"{row['n_x']} seeds each" if row["n_x"] == row["n_y"] else \
        f"{row['n_x']} seeds of {row['x']} and {row['n_y']} of {row['y']}"


def _sentence(row: dict[str, Any]) -> str:
    """The verdict in plain words."""
    f = formatted(row)
    x, y = row["x"], row["y"]
    where = (f"on {row['scope']}" if row["scope"] != AGGREGATE
             else f"over {len(row['envs'].split(','))} environments, normalised")
    nums = f"P({x} > {y}) = {f['poi']}; difference {f['diff']}"
    if row["verdict"] == "untested":
        few = ", ".join(f"{a} has {n} complete seed" for a, n in ((x, row["n_x"]), (y, row["n_y"])) if n < 2)
        return f"{x} vs {y} {where}: untested ({few}; a test needs at least 2 per method); {nums}"
    tests = f"Welch {_p(row['welch_p'])}, Mann-Whitney {_p(row['mwu_p'])}"
    if row["verdict"] in ("better", "worse"):
        what = "beats" if row["verdict"] == "better" else "is worse than"
        text = f"{x} {what} {y} {where} ({nums}); significant at 5% with {_seeds_words(row)} ({tests})"
        if row["mwu_p"] >= ALPHA:
            text += "; Mann-Whitney does not confirm it at 5%"
        return text
    need = row["seeds_for_power"]
    power = (f"{power_text(need)} seeds per method would give 80% power for the observed effect" if need is not None
             else f"more than {MAX_SEEDS} seeds per method would be needed for 80% power (observed effect about 0)")
    return f"{x} and {y} are not yet distinguishable {where} ({nums}); {tests} with {_seeds_words(row)}; {power}"


def _env_header(c: Comparison, row: dict[str, Any]) -> str:
    if row["scope"] == AGGREGATE:
        refs = ", ".join(f"{e} [{c.references[e][0]:g}, {c.references[e][1]:g}]" for e in row["envs"].split(","))
        return (f"Aggregate over {row['envs'].replace(',', ', ')} (normalised score (return - random) / "
                f"(reference - random), references {refs}; per run: mean over the envs)")
    p = c.protocols.get(row["scope"], {})
    seeds = (f"seeds {row['seeds_x']} for both" if row["seeds_x"] == row["seeds_y"]
             else f"seeds {row['x']} {row['seeds_x']}, {row['y']} {row['seeds_y']}")
    return (f"{row['scope']} (final return = mean of the last {_fmt_value(p.get('final_window'))} evaluations; "
            f"budget {_fmt_value(p.get('budget'))} env steps, evaluated every {_fmt_value(p.get('eval_interval'))} "
            f"steps on {_fmt_value(p.get('eval_episodes'))} episodes; {seeds})")


def to_text(c: Comparison) -> str:
    lines = [f"bench compare: {c.x} vs {c.y} in {c.runs_dir.as_posix()}: 95% bootstrap CIs ({c.reps:,} resamples, "
             f"seed {c.seed}), two-sided tests at 5%, power 80%"]
    if c.mismatches:
        lines.append("MISMATCH, compared anyway (--allow-mismatch): " + " | ".join(c.mismatches))
    w = max(len("difference") + len(c.x) + len(c.y) + 6, 22)
    for row in c.rows.to_dict("records"):
        f = formatted(row)
        col = max(len(f["x"]), len(c.x)) + 3
        lines += ["", _env_header(c, row),
                  f"  {'':<{w}}{c.x:<{col}}{c.y}",
                  f"  {'seeds':<{w}}{row['n_x']:<{col}}{row['n_y']}",
                  f"  {'mean [95% CI]':<{w}}{f['x']:<{col}}{f['y']}",
                  f"  {f'difference {c.x} - {c.y}':<{w}}{f['diff']}",
                  f"  {f'P({c.x} > {c.y})':<{w}}{f['poi']}",
                  f"  {'Welch t-test':<{w}}t = {_g(row['welch_t'])}, df = {_g(row['welch_df'])}, "
                  f"{_p(row['welch_p'])}",
                  f"  {'Mann-Whitney U':<{w}}U = {_g(row['mwu_u'])}, {_p(row['mwu_p'])}",
                  f"  {'seeds for 80% power':<{w}}{_power_cell(row)}"
                  + (f" per method (effect size d = {_d(row['effect_d'])})" if math.isfinite(row["effect_d"]) else ""),
                  f"  => {row['sentence']}"]
    if c.notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in c.notes]
    return "\n".join(lines) + "\n"


def to_markdown(c: Comparison) -> str:
    table = []
    for row in c.rows.to_dict("records"):
        f = formatted(row)
        table.append({"scope": row["scope"] + (" (normalised)" if row["scope"] == AGGREGATE else ""),
                      f"{c.x} [95% CI]": f["x"], f"{c.y} [95% CI]": f["y"], "difference [95% CI]": f["diff"],
                      f"P({c.x} > {c.y}) [95% CI]": f["poi"], "Welch p": _pnum(row["welch_p"]),
                      "Mann-Whitney p": _pnum(row["mwu_p"]), "seeds": f"{row['n_x']} / {row['n_y']}",
                      "seeds for 80% power": _power_cell(row),
                      "verdict": row["verdict"]})
    out = [f"**{c.x} vs {c.y}** ({c.runs_dir.as_posix()}; 95% bootstrap CIs, {c.reps:,} resamples, seed {c.seed}; "
           "two-sided tests at 5%)", ""]
    if c.mismatches:
        out += ["**Mismatch, compared anyway (--allow-mismatch):** " + " | ".join(c.mismatches), ""]
    out.append(tables.to_markdown(pd.DataFrame(table)))
    out += [f"- {r}" for r in c.rows["sentence"]]
    if c.notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in c.notes]
    return "\n".join(out) + "\n"


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def to_records(c: Comparison) -> list[dict[str, Any]]:
    """The rows as plain Python values (NaN -> None)."""
    return [{k: _plain(v) for k, v in r.items()} for r in c.rows.to_dict("records")]


def to_json(c: Comparison) -> str:
    doc = {"x": c.x, "y": c.y, "runs_dir": c.runs_dir.as_posix(), "reps": c.reps, "seed": c.seed,
           "confidence": bootstrap.CONFIDENCE, "alpha": ALPHA, "power": POWER, "allow_mismatch": c.allow_mismatch,
           "mismatches": c.mismatches, "protocols": c.protocols, "rows": to_records(c), "notes": c.notes,
           "warnings": c.warnings}
    return json.dumps(doc, indent=1) + "\n"


def to_csv(c: Comparison) -> str:
    """One row per scope, the columns :data:`COLUMNS` (exact values; an empty
    ``seeds_for_power`` means more than :data:`MAX_SEEDS`)."""
    buf = io.StringIO()
    c.rows.to_csv(buf, index=False)
    return buf.getvalue()


RENDER = {"text": to_text, "md": to_markdown, "csv": to_csv, "json": to_json}


def warning_line(c: Comparison) -> str | None:
    """One line for stderr when a cell has fewer than :data:`MIN_SEEDS` complete seeds."""
    if not c.warnings:
        return None
    return (f"warning: fewer than {MIN_SEEDS} complete seeds ({', '.join(c.warnings)}): intervals and tests on so "
            "few seeds are unreliable")


def main(runs_dir: Path, config: BenchConfig, x: str, y: str, envs: list[str] | None = None, *,
         fmt: str = "text", reps: int = bootstrap.REPS, seed: int = bootstrap.SEED,
         allow_mismatch: bool = False) -> int:
    """Entry point of ``bench compare``: prints the comparison in ``fmt``, the seed warning
    on stderr; returns the exit status (0)."""
    import sys

    if fmt not in RENDER:
        raise BenchError(f"bench compare: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    c = compare(runs_dir, config, x, y, envs, reps=reps, seed=seed, allow_mismatch=allow_mismatch)
    warn = warning_line(c)
    if warn:
        print(warn, file=sys.stderr)
    sys.stdout.write(RENDER[fmt](c))
    return 0


__all__ = ["ALPHA", "COLUMNS", "Comparison", "FORMATS", "MAX_SEEDS", "MIN_SEEDS", "POWER", "compare",
           "compare_samples", "main", "seed_text", "seeds_for_power", "to_csv", "to_json", "to_markdown", "to_text",
           "two_sample_tests", "welch_power"]
