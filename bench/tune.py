"""``bench tune``: the paper's tuning protocol as a command (PoliGen paper, appendix C.2).

Every configuration of a grid runs over the same seeds and budget; the best is the one with
the highest mean final return (ties, as at a task's ceiling, go to the higher mean return
over the whole learning curve: the configuration that learns faster). Each configuration is a variant of the algorithm
(:class:`bench.config.Variant`, named ``<algo>~key=value~...``), run by the common runner:
stored under ``runs/<env>/<variant>/``, resumable, skipped when finished, on the local pool
or Ray. The ranking (configuration, mean final return with its 95% bootstrap CI, seeds) and
the best configuration as a ready-to-paste ``[algos.<algo>.env."<id>"]`` block are written to
``<runs-dir>/_tune/<env>/<algo>/`` (ranking.csv, ranking.md, best.toml) and printed.

A grid maps hyperparameters to values. Parameters tuned jointly (ARS's number of directions
and elite directions) share one key ``"n_directions+top_directions"`` whose values are lists,
one element per parameter. On the command line: ``--grid step_size=0.01,0.001`` and
``--grid n_directions+top_directions=8+4,32+16``; each value is read as a TOML literal
(``0.01``, ``true``, ``[64, 64]``), else as a string (``relu``).

Sampled search (``trials``): where a grid is too large to run whole, Optuna's TPE sampler
(seeded) picks ``trials`` configurations of the same grid one after another, each run over
all the seeds, its objective the mean final return. The ranking then covers the
configurations it tried. It needs no study storage to resume: same seeds and code give the
same final returns, so the same command replays the same suggestions, finished
configurations are skipped by the runner, and the search continues where it stopped.
"""

from __future__ import annotations

import itertools
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from bench.config import BenchConfig, Variant, build_algo_config
from bench.errors import BenchError

SEP = "~"


def parse_value(text: str) -> Any:
    """A command-line value as a TOML literal (``0.01``, ``true``, ``[64, 64]``), else a string."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["step_size=0.01,0.001", "n_directions+top_directions=8+4,32+16"]`` -> a grid.

    :raises BenchError: malformed item (one line)
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not key or not values.strip():
            raise BenchError(f"--grid {item!r}: expected name=value1,value2,...")
        if key in grid:
            raise BenchError(f"--grid {key}: given twice")
        names = key.split("+")
        parsed = []
        for v in values.split(","):
            parts = v.split("+") if len(names) > 1 else [v]
            if len(parts) != len(names):
                raise BenchError(f"--grid {key}: value {v!r} needs {len(names)} parts joined by '+'")
            parsed.append([parse_value(p) for p in parts] if len(names) > 1 else parse_value(v))
        grid[key] = parsed
    return grid


def grid_configurations(config: BenchConfig, algo: str, grid: dict[str, Any], *,
                        where: str = "--grid") -> list[dict[str, Any]]:
    """Every configuration of ``grid`` (cartesian product, in the grid's order), each
    validated against the algorithm's Config.

    :raises BenchError: unknown algorithm, unknown hyperparameter, bad value (one line)
    """
    cls = config.algorithm(algo)
    if not grid:
        raise BenchError(f"{where}: empty grid")
    axes = []
    for key, values in grid.items():
        names = key.split("+")
        if not isinstance(values, list) or not values:
            raise BenchError(f"{where}.{key}: expected a non-empty list of values, got {values!r}")
        if len(names) > 1 and not all(isinstance(v, list) and len(v) == len(names) for v in values):
            raise BenchError(f"{where}.{key}: expected lists of {len(names)} values, got {values!r}")
        axes.append([dict(zip(names, v)) if len(names) > 1 else {key: v} for v in values])
    configurations = []
    for combo in itertools.product(*axes):
        overrides = {k: v for part in combo for k, v in part.items()}
        build_algo_config(cls.Config, {**config.hyperparameters(algo, ""), **overrides}, path=config.path,
                          where=where)
        configurations.append(overrides)
    return configurations


def variant_name(algo: str, overrides: dict[str, Any]) -> str:
    """``ars~step_size=0.01~noise=0.05``: readable, a valid directory name, no commas."""
    def text(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return "x".join(text(x) for x in v)
        return str(v).lower() if isinstance(v, bool) else str(v)

    return SEP.join([algo, *(f"{k}={text(v)}" for k, v in overrides.items())])


def toml_value(v: Any) -> str:
    """A value as a TOML literal."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise BenchError(f"cannot write {v!r} as TOML")


@dataclass
class TuneResult:
    env_id: str
    algo: str
    ranking: pd.DataFrame
    best_toml: str
    files: list[Path]


def tune(config: BenchConfig, algo: str, envs: list[str], grid: dict[str, Any], seeds: list[int],
         runs_dir: Path, *, budget: int | None = None, workers: int = 1, executor: str = "local",
         address: str | None = None, on_update: Callable | None = None,
         reps: int = 10_000, trials: int | None = None, sampler_seed: int = 0) -> tuple[list[TuneResult], dict]:
    """Run every configuration of ``grid`` on ``envs`` x ``seeds`` and rank them per env.

    :param trials: run only this many configurations, picked by Optuna's TPE (seeded by
        ``sampler_seed``), instead of the whole grid
    :returns: one result per env, and the runner's outcomes per cell
    """
    from bench.runner import Cell, run_cells

    if algo in config.variants:
        raise BenchError(f"bench tune: {algo!r} is a variant; tune its base {config.variants[algo].base!r}")
    configurations = grid_configurations(config, algo, grid)
    if trials is not None:
        return _sampled(config, algo, envs, grid, configurations, seeds, runs_dir, trials, sampler_seed,
                        lambda cells, cfg: run_cells(cells, cfg, runs_dir, workers=min(workers, len(cells)),
                                                     budget=budget, on_update=on_update, executor=executor,
                                                     address=address), reps)
    variants = {variant_name(algo, o): Variant(base=algo, params=o) for o in configurations}
    cfg = config.with_variants(variants)
    cells = [Cell(e, v, s) for e in envs for v in variants for s in seeds]
    outcomes = run_cells(cells, cfg, runs_dir, workers=min(workers, len(cells)), budget=budget,
                         on_update=on_update, executor=executor, address=address)
    results = [_rank(cfg, algo, env_id, variants, configurations, runs_dir, reps) for env_id in envs]
    return results, outcomes


def _sampled(config: BenchConfig, algo: str, envs: list[str], grid: dict[str, Any],
             configurations: list[dict[str, Any]], seeds: list[int], runs_dir: Path, trials: int,
             sampler_seed: int, run: Callable, reps: int) -> tuple[list[TuneResult], dict]:
    """Optuna TPE over the grid's axes, one study per env: ``trials`` suggestions, each run
    over ``seeds`` by ``run(cells, config)``; a repeated suggestion trains nothing."""
    import optuna

    from analysis.load import load_runs
    from bench.runner import Cell, stop_requested

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    keys = list(grid)
    by_index = {tuple(_axis_index(grid, k, o) for k in keys): o for o in configurations}
    results, outcomes = [], {}
    for env_id in envs:
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=sampler_seed))
        tried: dict[str, dict[str, Any]] = {}
        for _ in range(trials):
            trial = study.ask()
            overrides = by_index[tuple(trial.suggest_categorical(k, list(range(len(grid[k])))) for k in keys)]
            name = variant_name(algo, overrides)
            tried[name] = overrides
            cfg = config.with_variants({name: Variant(base=algo, params=overrides)})
            outcomes.update(run([Cell(env_id, name, s) for s in seeds], cfg))
            if stop_requested():
                break
            finals = load_runs(runs_dir, [env_id], [name]).finals
            if len(finals) < len(seeds):  # a seed failed: this configuration has no score
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                score = "failed"
            else:
                study.tell(trial, float(finals["final_return"].mean()))
                score = f"mean final return {finals['final_return'].mean():.4g} over {len(finals)} seeds"
            print(f"bench tune: {env_id} trial {trial.number + 1}/{trials}: {name}: {score}", file=sys.stderr)
        cfg = config.with_variants({n: Variant(base=algo, params=o) for n, o in tried.items()})
        variants = {n: cfg.variants[n] for n in tried}
        results.append(_rank(cfg, algo, env_id, variants, list(tried.values()), runs_dir, reps))
        if stop_requested():
            break
    return results, outcomes


def _axis_index(grid: dict[str, Any], key: str, overrides: dict[str, Any]) -> int:
    """Position on axis ``key`` of a configuration's value(s)."""
    names = key.split("+")
    value = [overrides[n] for n in names] if len(names) > 1 else overrides[key]
    return grid[key].index(value)


def order(ranking: pd.DataFrame) -> pd.DataFrame:
    """Rank configurations: the highest mean final return first (the paper's protocol); ties,
    common where several configurations reach a task's ceiling, by the higher mean return
    over the whole learning curve, then by name. Adds the ``rank`` column."""
    ranking = ranking.sort_values(["mean", "curve_mean", "configuration"], ascending=[False, False, True],
                                  na_position="last", ignore_index=True)
    ranking.insert(0, "rank", range(1, len(ranking) + 1))
    return ranking


def _rank(cfg: BenchConfig, algo: str, env_id: str, variants: dict[str, Variant],
          configurations: list[dict[str, Any]], runs_dir: Path, reps: int) -> TuneResult:
    from analysis import stats, tables
    from analysis.load import load_runs

    rs = load_runs(runs_dir, [env_id], list(variants))
    fs = stats.final_return_stats(rs.finals, reps=reps) if not rs.finals.empty else pd.DataFrame()
    fs = fs.set_index("algo") if not fs.empty else fs
    # the tie-breaker: each run's mean return over all its evaluations, averaged over seeds
    curve = (rs.evals.groupby(["algo", "seed"])["eval_return_mean"].mean().groupby("algo").mean()
             if not rs.evals.empty else pd.Series(dtype=float))
    rows = []
    for name, overrides in zip(variants, configurations):
        have = name in fs.index if not fs.empty else False
        r = fs.loc[name] if have else None
        rows.append({"configuration": " ".join(f"{k}={v}" for k, v in overrides.items()), **overrides,
                     "variant": name, "seeds": int(r["n"]) if have else 0,
                     "mean": float(r["mean"]) if have else math.nan, "std": float(r["std"]) if have else math.nan,
                     "lo": float(r["mean_lo"]) if have else math.nan, "hi": float(r["mean_hi"]) if have else math.nan,
                     "se": float(r["mean_se"]) if have else math.nan,
                     "curve_mean": float(curve.get(name, math.nan)) if have else math.nan})
    ranking = order(pd.DataFrame(rows))
    out = Path(runs_dir) / "_tune" / env_id / algo  # "_": not an env directory of the run store
    out.mkdir(parents=True, exist_ok=True)
    ranking.to_csv(out / "ranking.csv", index=False)
    shown = pd.DataFrame({
        "rank": ranking["rank"], "configuration": ranking["configuration"],
        "mean final return [95% CI]": [f"{tables._fmt(m, tables._digits(m))} {tables._interval(lo, hi, se, m)}"
                                       if m == m else "no complete run" for m, lo, hi, se in
                                       zip(ranking["mean"], ranking["lo"], ranking["hi"], ranking["se"])],
        "mean return over the curve": [tables._fmt(c, tables._digits(c)) if c == c else "" for c in
                                       ranking["curve_mean"]],
        "seeds": ranking["seeds"]})
    tied = int((ranking["mean"] == ranking["mean"].iloc[0]).sum())
    note = (f"\n{tied} configurations tie at the best mean final return; among them, the higher mean "
            f"return over the whole learning curve (faster learning) ranks first.\n" if tied > 1 else "")
    (out / "ranking.md").write_text(tables.to_markdown(shown) + "\n" + note)
    best = ranking.iloc[0]
    if best["seeds"] == 0:
        best_toml = "# no configuration has a complete run yet\n"
    else:
        # the env's table as it should read: its other overrides kept, the tuned values set
        params = {**cfg.algo_env_overrides.get(algo, {}).get(env_id, {}), **variants[best["variant"]].params}
        tie = f"; {tied} tie there, this one learns fastest (mean over the curve)" if tied > 1 else ""
        best_toml = (f"# bench tune: best of {len(ranking)} configurations by mean final return over "
                     f"{best['seeds']} seeds ({best['mean']:.4g}{tie}); paste into benchmark.toml\n"
                     f'[algos.{algo}.env."{env_id}"]\n'
                     + "".join(f"{k} = {toml_value(v)}\n" for k, v in params.items()))
    (out / "best.toml").write_text(best_toml)
    return TuneResult(env_id, algo, ranking, best_toml, [out / "ranking.csv", out / "ranking.md", out / "best.toml"])
