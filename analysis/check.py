"""``bench check``: the regression gate on final returns.

The smoke benchmark is defined in one file, ``analysis/smoke.toml`` (cells = algo x env
with a small budget, fixed seeds, and the tolerance). ``bench check`` trains it fresh
through :func:`bench.runner.run_cells` and compares each cell with the committed baseline
(``analysis/baseline.json``). The rule, per (env, algo) cell:

- FAIL if any of its runs failed or did not complete;
- FAIL if ``new mean final return < baseline CI low - tolerance * progress``, where the CI
  is the baseline seeds' 95% stratified-bootstrap CI of the mean (rliable, fixed seed) and
  ``progress = baseline mean - random-policy return`` (benchmark.toml ``reference``; the
  env's ``return_range`` if it has no reference; ``|baseline mean|`` if neither), at least
  10% of ``reference max - random``: the cell may lose at most ``tolerance`` of what the
  baseline learned, beyond the baseline's CI;
- FAIL if the cell has no baseline entry or its protocol changed since the baseline
  (the comparison would be meaningless: run ``bench check --update``);
- otherwise pass (marked "improved" above ``CI high + tolerance * progress``).

A cell marked ``rule = "completes"`` in the smoke file (an algorithm that learns nothing
measurable at a budget CI can afford) only fails when one of its runs fails. A cell with
``metric = "success_rate"`` (goal-conditioned methods) applies the same rule to the mean
final success rate, with random = 0 and reference span 1.

Algorithms in the smoke file that are not registered are skipped with a message.
``bench check --update`` rewrites the baseline from the new runs and prints what changed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from analysis import stats
from analysis.load import RunSet, load_runs
from bench.config import BenchConfig, EnvSettings, build_algo_config
from bench.errors import BenchError

HERE = Path(__file__).resolve().parent
SMOKE_PATH = HERE / "smoke.toml"
BASELINE_PATH = HERE / "baseline.json"
CHECK_SUBDIR = "_check"
BASELINE_FORMAT = 1
#: what a cell's rule may compare: per-run final value columns of analysis.load's finals
METRICS = ("final_return", "success_rate")
#: protocol keys a smoke env table may set (the cell sets the budget)
_PROTOCOL_INTS = ("eval_interval", "eval_episodes", "final_window", "checkpoint_every", "sweep_episodes",
                  "sweep_points")


@dataclass(frozen=True)
class SmokeCell:
    """One smoke cell: an algorithm on an env with its budget and hyperparameter overrides."""

    algo: str
    env_id: str
    budget: int
    seeds: tuple[int, ...]
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    #: "returns": the statistical rule; "completes": only fail when a run fails (for an
    #: algorithm that learns nothing measurable at a budget CI can afford)
    rule: str = "returns"
    #: what the rule compares: "final_return" or "success_rate" (goal environments)
    metric: str = "final_return"

    @property
    def key(self) -> str:
        return f"{self.env_id}/{self.algo}"


@dataclass(frozen=True)
class Smoke:
    """The smoke benchmark (``analysis/smoke.toml``)."""

    path: Path
    seeds: list[int]
    tolerance: float
    env_protocol: dict[str, dict[str, Any]]
    cells: list[SmokeCell]


def load_smoke(path: Path | str | None = None) -> Smoke:
    """Read and validate the smoke definition.

    :raises BenchError: missing file, bad TOML, or a bad key/value (one line naming it)
    """
    path = Path(path) if path is not None else SMOKE_PATH
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise BenchError(f"{path}: smoke definition not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{path}: not valid TOML: {exc}") from None
    for key in raw:
        if key not in ("seeds", "tolerance", "env", "cell"):
            raise BenchError(f"{path}: {key}: unknown key; allowed: seeds, tolerance, env, cell")
    seeds = raw.get("seeds", [0, 1, 2])
    if (not isinstance(seeds, list) or not seeds or len(set(seeds)) != len(seeds)
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise BenchError(f"{path}: seeds: expected a list of distinct non-negative integers, got {seeds!r}")
    tol = raw.get("tolerance", 0.05)
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
        raise BenchError(f"{path}: tolerance: expected a non-negative number, got {tol!r}")
    env_protocol: dict[str, dict[str, Any]] = {}
    for env_id, table in raw.get("env", {}).items():
        if not isinstance(table, dict):
            raise BenchError(f'{path}: env."{env_id}": expected a table')
        for k, v in table.items():
            if k not in _PROTOCOL_INTS:
                raise BenchError(f'{path}: env."{env_id}".{k}: not a smoke protocol key; allowed: '
                                 f'{", ".join(_PROTOCOL_INTS)} (the cell sets the budget)')
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise BenchError(f'{path}: env."{env_id}".{k}: expected a positive integer, got {v!r}')
        env_protocol[env_id] = dict(table)
    cells = []
    for i, c in enumerate(raw.get("cell", [])):
        where = f"{path}: cell[{i}]"
        if not isinstance(c, dict) or not isinstance(c.get("algo"), str) or not isinstance(c.get("env"), str):
            raise BenchError(f"{where}: expected algo = \"...\" and env = \"...\"")
        extra = set(c) - {"algo", "env", "budget", "seeds", "hyperparameters", "rule", "metric"}
        if extra:
            raise BenchError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        budget = c.get("budget")
        if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
            raise BenchError(f"{where}: budget: expected a positive integer, got {budget!r}")
        hp = c.get("hyperparameters", {})
        if not isinstance(hp, dict):
            raise BenchError(f"{where}: hyperparameters: expected a table")
        cell_seeds = c.get("seeds", seeds)
        if (not isinstance(cell_seeds, list) or not cell_seeds or len(set(cell_seeds)) != len(cell_seeds)
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in cell_seeds)):
            raise BenchError(f"{where}: seeds: expected a list of distinct non-negative integers, got {cell_seeds!r}")
        rule = c.get("rule", "returns")
        if rule not in ("returns", "completes"):
            raise BenchError(f'{where}: rule: expected "returns" or "completes", got {rule!r}')
        metric = c.get("metric", "final_return")
        if metric not in METRICS:
            raise BenchError(f'{where}: metric: expected one of {", ".join(METRICS)}, got {metric!r}')
        cells.append(SmokeCell(c["algo"], c["env"], budget, tuple(cell_seeds), dict(hp), rule, metric))
    keys = [c.key for c in cells]
    if len(set(keys)) != len(keys):
        raise BenchError(f"{path}: a (env, algo) cell is listed twice")
    return Smoke(path=path, seeds=list(seeds), tolerance=float(tol), env_protocol=env_protocol, cells=cells)


def registered_cells(smoke: Smoke) -> tuple[list[SmokeCell], list[str]]:
    """The cells whose algorithm is registered, and a message for each one skipped."""
    from algorithms import algorithm_names

    keep, skipped = [], []
    for c in smoke.cells:
        if c.algo in algorithm_names():
            keep.append(c)
        else:
            skipped.append(f"skipped {c.key}: algorithm {c.algo!r} is not registered in algorithms.REGISTRY")
    return keep, skipped


def smoke_config(config: BenchConfig, smoke: Smoke, cells: list[SmokeCell]) -> BenchConfig:
    """``config`` with the smoke protocol per env and the cells' hyperparameter overrides."""
    envs = dict(config.envs)
    for env_id in {c.env_id for c in cells}:
        base = config.env(env_id)
        values = {**base.__dict__, **smoke.env_protocol.get(env_id, {})}
        envs[env_id] = EnvSettings(**values)
    overrides = {a: {e: dict(t) for e, t in per.items()} for a, per in config.algo_env_overrides.items()}
    for c in cells:
        per_env = overrides.setdefault(c.algo, {})
        per_env[c.env_id] = {**per_env.get(c.env_id, {}), **c.hyperparameters}
    cfg = dataclasses.replace(config, seeds=list(smoke.seeds), envs=envs, algo_env_overrides=overrides)
    for c in cells:
        build_algo_config(cfg.algorithm(c.algo).Config, cfg.hyperparameters(c.algo, c.env_id),
                          path=smoke.path, where=f"cell {c.key}")
    return cfg


def protocol_of(cfg: BenchConfig, cell: SmokeCell) -> dict[str, Any]:
    settings = cfg.env(cell.env_id)
    return EnvSettings(**{**settings.__dict__, "budget": cell.budget}).protocol()


def run_smoke(smoke: Smoke, cells: list[SmokeCell], cfg: BenchConfig, runs_dir: Path, workers: int,
              echo: Callable[[str], None] = print) -> None:
    """Train every (cell, seed) fresh into ``runs_dir`` (one runner call per budget)."""
    from bench.runner import Cell, run_cells, stop_requested

    by_budget: dict[int, list[Cell]] = {}
    for c in cells:
        by_budget.setdefault(c.budget, []).extend(Cell(c.env_id, c.algo, s) for s in c.seeds)
    for budget, group in sorted(by_budget.items()):
        t0 = time.perf_counter()
        echo(f"check: training {len(group)} runs at {budget:,} env steps "
             f"({', '.join(sorted({f'{c.algo}/{c.env_id}' for c in group}))})")
        outcomes = run_cells(group, cfg, runs_dir, workers=min(workers, len(group)), budget=budget, fresh=True)
        if stop_requested():  # SIGTERM/SIGINT: the cells are checkpointed; compare nothing
            raise KeyboardInterrupt
        failed = sum(v == "failed" for v in outcomes.values())
        echo(f"check:   {len(group) - failed} done, {failed} failed ({time.perf_counter() - t0:.0f} s)")


def _reference(config: BenchConfig, env_id: str, metric: str = "final_return") -> tuple[float, float] | None:
    """(random, best) of the metric: the env's reference returns, or (0, 1) for success rates."""
    if metric == "success_rate":
        return (0.0, 1.0)
    s = config.env(env_id)
    return s.reference or s.return_range


def _random_return(config: BenchConfig, env_id: str, metric: str = "final_return") -> float | None:
    ref = _reference(config, env_id, metric)
    return float(ref[0]) if ref else None


#: the progress used in the margin is at least this fraction of (reference max - random)
PROGRESS_FLOOR = 0.1


def progress_scale(config: BenchConfig, env_id: str, mean: float, metric: str = "final_return") -> float:
    """What the baseline learned: its mean minus the random policy's, but at least
    ``PROGRESS_FLOOR`` of the reference span (so a cell that barely learns at smoke
    budgets is not failed by seed noise), and, for returns, at least 1."""
    ref = _reference(config, env_id, metric)
    if ref is None:
        return max(abs(mean), 1.0)
    return max(mean - ref[0], PROGRESS_FLOOR * (ref[1] - ref[0]), 1.0 if metric == "final_return" else 0.0)


def summarize(rs: RunSet, smoke: Smoke, cells: list[SmokeCell], cfg: BenchConfig, *,
              reps: int = stats.DEFAULT_REPS, seed: int = stats.DEFAULT_SEED) -> dict[str, dict[str, Any]]:
    """Per cell: the complete runs' final returns, their mean and bootstrap CI, and what
    is missing (failed / incomplete / absent seeds, with reasons)."""
    out: dict[str, dict[str, Any]] = {}
    for c in cells:
        f = rs.finals[(rs.finals["env_id"] == c.env_id) & (rs.finals["algo"] == c.algo)
                      & rs.finals["seed"].isin(c.seeds)].sort_values("seed")
        x = f[c.metric].to_numpy(dtype=float) if c.metric in f else np.full(len(f), np.nan)
        problems = [f"seed {s}: no {c.metric} (not a goal environment?)" for s, v in zip(f["seed"], x) if v != v]
        f, x = f[x == x], x[x == x]
        ex = rs.excluded[(rs.excluded["env_id"] == c.env_id) & (rs.excluded["algo"] == c.algo)]
        for r in ex.itertuples():
            if r.seed in c.seeds:
                problems.append(f"seed {r.seed}: {r.reason}")
        seen = set(f["seed"]) | set(ex["seed"])
        problems += [f"seed {s}: no run" for s in c.seeds if s not in seen]
        entry: dict[str, Any] = {
            "env_id": c.env_id, "algo": c.algo, "seeds": [int(s) for s in f["seed"]],
            "final_returns": [float(v) for v in x], "protocol": protocol_of(cfg, c),
            "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v)
                                for k, v in cfg.hyperparameters(c.algo, c.env_id).items()},
            "problems": problems, "rule": c.rule, "metric": c.metric,
        }
        if len(x):
            entry["mean"] = float(x.mean())
            if len(x) > 1:
                _, ci = stats.interval(x[:, None], lambda s: np.array([s.mean()]), reps=reps, seed=seed,
                                       key=("check", c.env_id, c.algo))
                entry["ci"] = [float(ci[0, 0]), float(ci[1, 0])]
            else:
                entry["ci"] = [float(x[0]), float(x[0])]
            entry["random_return"] = _random_return(cfg, c.env_id, c.metric)
            entry["scale"] = progress_scale(cfg, c.env_id, float(x.mean()), c.metric)
        out[c.key] = entry
    return out


def compare(baseline: dict[str, Any] | None, current: dict[str, dict[str, Any]], tolerance: float,
            skipped_algos: set[str] = frozenset()) -> pd.DataFrame:
    """Apply the rule; one row per cell with the numbers and a verdict (``ok`` column)."""
    base_cells = (baseline or {}).get("cells", {})
    rows = []
    for key, cur in current.items():
        row = {"cell": key, "metric": _METRIC_LABEL[cur.get("metric", "final_return")], "runs": f"{len(cur['final_returns'])}/{len(cur['final_returns']) + len(cur['problems'])}",
               "new mean": cur.get("mean", math.nan), "baseline mean": math.nan, "baseline CI": "",
               "threshold": math.nan}
        b = base_cells.get(key)
        if b is not None:
            lo, hi = b["ci"]
            margin = tolerance * b["scale"]
            d = 2 if cur.get("metric") == "success_rate" else 1
            row.update({"baseline mean": b["mean"], "baseline CI": f"[{lo:.{d}f}, {hi:.{d}f}]",
                        "threshold": lo - margin})
        if cur["problems"]:
            row.update(ok=False, verdict="FAIL: " + "; ".join(cur["problems"]))
        elif cur.get("rule") == "completes":
            row.update(ok=True, verdict="pass (rule: runs complete; returns not compared)", threshold=math.nan)
        elif b is None:
            row.update(ok=False, verdict="FAIL: no baseline for this cell (run `bench check --update`)")
        elif b.get("metric", "final_return") != cur.get("metric", "final_return"):
            row.update(ok=False, verdict=f"FAIL: metric changed since the baseline ({b.get('metric', 'final_return')} "
                                         f"-> {cur.get('metric')}); run `bench check --update` if intended")
        elif b.get("protocol") != cur["protocol"]:
            changed = sorted(k for k in set(b.get("protocol", {})) | set(cur["protocol"])
                             if b.get("protocol", {}).get(k) != cur["protocol"].get(k))
            row.update(ok=False, verdict=f"FAIL: smoke protocol changed since the baseline ({', '.join(changed)}); "
                                         "run `bench check --update` if intended")
        elif cur["mean"] < row["threshold"]:
            row.update(ok=False, verdict="FAIL: regressed (new mean below threshold)")
        else:
            improved = cur["mean"] > b["ci"][1] + tolerance * b["scale"]
            row.update(ok=True, verdict="pass (improved: consider `bench check --update`)" if improved else "pass")
        if b is not None and b.get("hyperparameters") != cur["hyperparameters"]:
            diff = [f"{k} {b.get('hyperparameters', {}).get(k)!r}->{cur['hyperparameters'].get(k)!r}"
                    for k in sorted(set(b.get("hyperparameters", {})) | set(cur["hyperparameters"]))
                    if b.get("hyperparameters", {}).get(k) != cur["hyperparameters"].get(k)]
            row["verdict"] += f" [hyperparameters changed: {', '.join(diff)}]"
        rows.append(row)
    for key, b in base_cells.items():
        if key not in current:
            why = "algorithm not registered" if b.get("algo") in skipped_algos else "not in the smoke definition"
            rows.append({"cell": key, "metric": _METRIC_LABEL[b.get("metric", "final_return")], "runs": "-", "new mean": math.nan, "baseline mean": b["mean"],
                         "baseline CI": f"[{b['ci'][0]:.1f}, {b['ci'][1]:.1f}]", "threshold": math.nan,
                         "ok": True, "verdict": f"skipped ({why})"})
    return pd.DataFrame(rows, columns=["cell", "metric", "runs", "new mean", "baseline mean", "baseline CI",
                                       "threshold", "ok", "verdict"])


_METRIC_LABEL = {"final_return": "return", "success_rate": "success"}


def format_table(df: pd.DataFrame) -> str:
    """A fixed-width text table for the terminal / CI log."""
    cols = ["cell", "metric", "runs", "new mean", "baseline mean", "baseline CI", "threshold", "verdict"]

    def fmt(v: Any, metric: str) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.2f}" if metric == "success" else f"{v:.1f}"
        return str(v)

    cells = [[fmt(v, row[1]) for v in row] for row in df[cols].itertuples(index=False)]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths])] + [line(r) for r in cells])


def read_baseline(path: Path) -> dict[str, Any] | None:
    """The baseline file, or None if it does not exist.

    :raises BenchError: the file exists but is not a valid baseline
    """
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BenchError(f"{path}: not a valid baseline file ({exc}); restore it or run `bench check --update`") from None
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT or not isinstance(data.get("cells"), dict):
        raise BenchError(f"{path}: not a baseline file of format {BASELINE_FORMAT}; run `bench check --update`")
    for key, b in data["cells"].items():
        if not isinstance(b, dict) or not all(k in b for k in ("mean", "ci", "scale")):
            raise BenchError(f"{path}: cell {key}: missing mean, ci or scale")
    return data


def write_baseline(path: Path, current: dict[str, dict[str, Any]], smoke: Smoke, rs: RunSet,
                   old: dict[str, Any] | None) -> list[str]:
    """Write the baseline from ``current``; return lines saying what changed."""
    cells = {}
    for key, cur in current.items():
        cells[key] = {k: v for k, v in cur.items() if k != "problems"}
    old_cells = (old or {}).get("cells", {})
    changes = []
    for key in sorted(set(cells) | set(old_cells)):
        new, prev = cells.get(key), old_cells.get(key)
        if prev is None:
            changes.append(f"  added   {key}: mean {new['mean']:.1f} CI [{new['ci'][0]:.1f}, {new['ci'][1]:.1f}]")
        elif new is None:
            cells[key] = prev  # keep cells not run this time (e.g. algorithm not registered here)
            changes.append(f"  kept    {key}: not run this time")
        else:
            what = (f"mean {prev['mean']:.1f} -> {new['mean']:.1f}, CI [{prev['ci'][0]:.1f}, {prev['ci'][1]:.1f}] -> "
                    f"[{new['ci'][0]:.1f}, {new['ci'][1]:.1f}]")
            if prev.get("protocol") != new["protocol"]:
                what += " (protocol changed)"
            if prev.get("hyperparameters") != new["hyperparameters"]:
                what += " (hyperparameters changed)"
            changes.append(f"  {'changed' if prev != new else 'same   '} {key}: {what}")
    versions = json.loads(rs.finals["versions"].iloc[0]) if len(rs.finals) else {}
    commit = str(rs.finals["git_commit"].iloc[0]) if len(rs.finals) else None
    data = {"format": BASELINE_FORMAT,
            "note": "written by `bench check --update` from the smoke benchmark in analysis/smoke.toml",
            "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": commit, "versions": versions,
            "bootstrap": {"reps": stats.DEFAULT_REPS, "seed": stats.DEFAULT_SEED, "confidence": stats.CONFIDENCE},
            "cells": dict(sorted(cells.items()))}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return changes


def main(runs_dir: Path, config: BenchConfig, update: bool = False, workers: int = 1, *,
         smoke_path: Path | None = None, baseline_path: Path | None = None, train: bool = True,
         echo: Callable[[str], None] = print) -> int:
    """Entry point for ``bench check``; returns 0 on pass, 1 on a regression or failed run.

    :param runs_dir: the run store; smoke runs go to ``<runs_dir>/_check/`` (trained fresh)
    :param config: benchmark.toml (hyperparameters, reference scores)
    :param update: rewrite the baseline from this run and print what changed
    :param workers: parallel training runs
    :param smoke_path: the smoke definition (default ``analysis/smoke.toml``)
    :param baseline_path: the baseline (default ``analysis/baseline.json``)
    :param train: False: compare the runs already in ``<runs_dir>/_check/`` without training
    :raises BenchError: bad smoke file or baseline file (the CLI prints one line)
    """
    t0 = time.perf_counter()
    smoke = load_smoke(smoke_path)
    baseline_path = Path(baseline_path) if baseline_path is not None else BASELINE_PATH
    baseline = read_baseline(baseline_path)
    cells, skipped = registered_cells(smoke)
    for msg in skipped:
        echo(f"check: {msg}")
    if not cells:
        raise BenchError(f"{smoke.path}: no smoke cell has a registered algorithm")
    cfg = smoke_config(config, smoke, cells)
    check_dir = Path(runs_dir) / CHECK_SUBDIR
    if train:
        run_smoke(smoke, cells, cfg, check_dir, workers, echo)
    if not check_dir.is_dir():
        raise BenchError(f"{check_dir}: no smoke runs to check (run without --no-train)")
    rs = load_runs(check_dir, sorted({c.env_id for c in cells}), sorted({c.algo for c in cells}))
    current = summarize(rs, smoke, cells, cfg)
    skipped_algos = {c.algo for c in smoke.cells} - {c.algo for c in cells}
    if update:
        broken = {k: v["problems"] for k, v in current.items() if v["problems"] or "mean" not in v}
        if broken:
            echo("check --update: refusing to write a baseline from failed or incomplete runs:")
            for k, p in broken.items():
                echo(f"  {k}: {'; '.join(p) or 'no complete runs'}")
            return 1
        changes = write_baseline(baseline_path, current, smoke, rs, baseline)
        echo(f"check --update: wrote {baseline_path} ({len(current)} cells):")
        for line in changes:
            echo(line)
        return 0
    table = compare(baseline, current, smoke.tolerance, skipped_algos)
    if baseline is None:
        echo(f"check: no baseline file {baseline_path}; create it with `bench check --update`")
    echo(f"check: rule: FAIL if a run failed, or new mean < threshold = baseline 95% bootstrap CI low - "
         f"{smoke.tolerance:g} x max(baseline mean - random return, {PROGRESS_FLOOR:g} x (reference max - random))")
    echo(format_table(table))
    bad = table[~table["ok"].astype(bool)]
    secs = time.perf_counter() - t0
    if len(bad):
        echo(f"check: FAILED: {len(bad)} of {len(table)} cells ({secs:.0f} s)")
        return 1
    echo(f"check: passed: {int(table['verdict'].str.startswith('pass').sum())} cells ({secs:.0f} s)")
    return 0
