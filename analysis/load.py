"""Stored run directories -> tidy pandas frames, with completeness checks.

A run directory is ``<runs_dir>/<env_id>/<algo>/seed_<k>/`` (see ``bench.runner``). Only
*complete* runs (``status.json`` says ``done`` and ``final.json`` exists) enter the
statistics; every other run is listed in :attr:`RunSet.excluded` with the reason, never
averaged in. Within one (env, algo) cell all seeds must share the same protocol and
hyperparameters; seeds run with different settings are excluded and listed.

``final.json`` is not taken on trust: its numbers are recomputed from ``progress.csv`` and
the protocol of ``config.json`` with the runner's own rule (:func:`bench.evaluation.final_window`),
and a run whose files disagree (e.g. a progress.csv edited after the run finished) is
left out as *inconsistent*, with what differs. Every file read is hashed as read
(:attr:`RunSet.files`), so a report can say exactly which bytes it used.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench.evaluation import final_window as final_window_rows
from bench.provenance import code_hashes, cpu_history, cpu_key

REQUIRED_PROGRESS = ("eval_index", "env_steps", "eval_return_mean")
GOAL_COLUMNS = ("success_rate", "norm_distance_mean")
GOAL_SWEEP_REQUIRED = ("goal_index", "norm_distance", "success")
_SEED_DIR = re.compile(r"^seed_(\d+)$")
FILE_COLUMNS = ["path", "sha256", "bytes", "env_id", "algo", "seed", "used"]
#: relative tolerance of the final.json cross-check (its floats went through JSON and CSV)
REL_TOL = 1e-9


@dataclass
class RunSet:
    """Everything loaded from a runs directory.

    :param evals: one row per evaluation of a complete run (``env_id, algo, seed`` +
        the progress.csv columns)
    :param finals: one row per complete run (``env_id, algo, seed, final_return, ...``)
    :param sweeps: one row per command of a command sweep (``env_id, algo, seed, command,
        return_mean, ...``), complete runs only
    :param goal_sweeps: one row per goal episode of a goal sweep (``env_id, algo, seed,
        goal_index, goal_0, ..., norm_distance, success, ...``), complete runs only
    :param excluded: one row per run left out (``env_id, algo, seed, state, reason, path``)
    :param runs_dir: where the runs were read from
    :param files: one row per file read (``path`` relative to ``runs_dir``, ``sha256``,
        ``bytes``, ``env_id, algo, seed``, ``used``: the run entered the statistics), the
        hashes of the bytes actually parsed
    """

    evals: pd.DataFrame
    finals: pd.DataFrame
    sweeps: pd.DataFrame
    goal_sweeps: pd.DataFrame
    excluded: pd.DataFrame
    runs_dir: Path
    files: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FILE_COLUMNS))

    @property
    def cells(self) -> list[tuple[str, str]]:
        """(env_id, algo) pairs with at least one complete run, sorted."""
        return sorted(set(zip(self.finals["env_id"], self.finals["algo"])))

    @property
    def envs(self) -> list[str]:
        return sorted(self.finals["env_id"].unique())

    @property
    def algos(self) -> list[str]:
        return sorted(self.finals["algo"].unique())


class _Unreadable(Exception):
    """A run file exists but cannot be parsed; the message names the file."""

    state = "unreadable"


class _Inconsistent(_Unreadable):
    """The run's files disagree (final.json is not what progress.csv and config.json give)."""

    state = "inconsistent"


class _Files:
    """Reads the files of one run as bytes, keeping the SHA-256 of every file read."""

    def __init__(self) -> None:
        self.read: dict[Path, tuple[str, int]] = {}

    def bytes(self, path: Path) -> bytes:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _Unreadable(f"{path.name}: cannot read ({exc.strerror})") from None
        self.read[path] = (hashlib.sha256(data).hexdigest(), len(data))
        return data

    def text(self, path: Path) -> str:
        data = self.bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unreadable(f"{path.name}: not UTF-8 text") from None


def _read_json(path: Path, files: _Files) -> dict[str, Any]:
    text = files.text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"{path.name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise _Unreadable(f"{path.name}: expected a JSON object")
    return data


def _read_csv(path: Path, required: tuple[str, ...], files: _Files) -> pd.DataFrame:
    text = files.text(path)
    if text and not text.endswith("\n"):
        raise _Unreadable(f"{path.name}: truncated (last line incomplete)")
    try:
        df = pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        raise _Unreadable(f"{path.name}: empty file") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _Unreadable(f"{path.name}: not a valid CSV ({first})") from None
    _require_numeric(df, required, path.name)
    return df


def _require_numeric(df: pd.DataFrame, required: tuple[str, ...], fname: str) -> None:
    """The columns ``required`` exist in ``df`` and are numeric."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise _Unreadable(f"{fname}: missing column(s) {', '.join(missing)}")
    for col in required:
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise _Unreadable(f"{fname}: column {col} is not numeric")


def _number(d: dict[str, Any], key: str, fname: str) -> float:
    v = d.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _Unreadable(f"{fname}: {key} missing or not a finite number ({v!r})")
    return float(v)


def _settings_key(config: dict[str, Any]) -> str:
    return json.dumps({"protocol": config.get("protocol"), "hyperparameters": config.get("hyperparameters")},
                      sort_keys=True, default=str)


def _same(a: Any, b: Any) -> bool:
    """Equal as the runner wrote them: integers exactly, floats to :data:`REL_TOL`, NaN = null."""
    if a is None or b is None:
        return (a is None or (isinstance(a, float) and math.isnan(a))) and \
            (b is None or (isinstance(b, float) and math.isnan(b)))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and isinstance(a, bool) == isinstance(b, bool)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    return a == b


def _expected_final(rows: list[dict[str, Any]], window: list[dict[str, Any]], short: bool | None) -> dict[str, Any]:
    """What final.json must say for these progress rows and this final window (the runner's
    computation, ``bench.runner``)."""
    last = rows[-1]
    out: dict[str, Any] = {
        "final_return": float(np.mean([r["eval_return_mean"] for r in window])),
        "final_window": len(window),
        "n_evals": len(rows),
        "env_steps": int(last["env_steps"]),
        "last_return": float(last["eval_return_mean"]),
    }
    if short is not None:
        out["short_window"] = short
    if "eval_env_steps" in last and last["eval_env_steps"] == last["eval_env_steps"]:
        out["eval_env_steps"] = int(last["eval_env_steps"])
    for key, name in (("success_rate", "success_rate"), ("norm_distance_mean", "norm_distance")):
        if key in last:
            out[name] = float(np.mean([r[key] for r in window]))
    return out


def _check_final(final: dict[str, Any], progress: pd.DataFrame, protocol: dict[str, Any]) -> None:
    """Recompute final.json from progress.csv and the protocol; raise :class:`_Inconsistent`
    naming what differs.

    The window is :func:`bench.evaluation.final_window` of the protocol's ``final_window``.
    A final.json without ``short_window`` was written before that rule (by the runner's
    earlier ``rows[-final_window:]``), so either rule is accepted for it: the two differ
    only when a run has no more evaluations than the window. Keys final.json lacks (older
    runners wrote fewer) are not checked; timings are not recomputable and not checked.
    """
    window = protocol.get("final_window", final.get("final_window"))
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise _Inconsistent("final.json cannot be checked: no final_window in config.json's protocol")
    rows = progress.to_dict("records")
    used, short = final_window_rows(rows, window)
    candidates = [_expected_final(rows, used, short)]
    if "short_window" not in final:  # written before the short-window rule
        candidates = [_expected_final(rows, used, None), _expected_final(rows, rows[-window:], None)]
    problems: list[str] = []
    for expected in candidates:
        problems = [k for k, v in expected.items() if k in final and not _same(final[k], v)]
        if not problems:
            return
    expected = candidates[0]
    what = "; ".join(f"{k} is {final[k]!r}, progress.csv gives {_show(expected[k])}" for k in problems)
    raise _Inconsistent(f"final.json disagrees with progress.csv (edited after the run finished?): {what}")


def _show(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else repr(v)


def _load_one(run_dir: Path, env_id: str, algo: str, seed: int, files: _Files) -> dict[str, Any]:
    """Read one run; returns a dict with ``state`` and either data or ``reason``."""
    status_path = run_dir / "status.json"
    if not status_path.exists():
        return {"state": "missing", "reason": "no status.json (never started, or not a run directory)"}
    status = _read_json(status_path, files)
    state = status.get("state")
    if not (run_dir / "config.json").exists():
        raise _Unreadable("config.json: missing")
    config = _read_json(run_dir / "config.json", files)
    for key, want in (("algo", algo), ("env_id", env_id), ("seed", seed)):
        if key in config and config[key] != want:
            raise _Unreadable(f"config.json: {key} is {config[key]!r} but the directory says {want!r}")
    if state == "failed":
        err = str(status.get("error", "")).strip().splitlines()
        return {"state": "failed", "reason": "failed" + (f": {err[-1]}" if err else "")}
    if state != "done":
        steps, budget = status.get("env_steps"), status.get("budget")
        where = f" at {steps}/{budget} env steps" if steps is not None and budget is not None else ""
        return {"state": "incomplete", "reason": f"incomplete (state {state!r}{where})"}
    if not (run_dir / "final.json").exists():
        return {"state": "incomplete", "reason": "incomplete: status says done but final.json is missing"}
    final = _read_json(run_dir / "final.json", files)
    final_return = _number(final, "final_return", "final.json")
    progress = _read_csv(run_dir / "progress.csv", REQUIRED_PROGRESS, files)
    if len(progress) == 0:
        raise _Unreadable("progress.csv: no evaluations")
    idx = progress["eval_index"].to_numpy()
    if not np.array_equal(idx, np.arange(len(progress))):
        raise _Unreadable("progress.csv: eval_index is not 0, 1, 2, ... (rows missing or duplicated)")
    if np.any(np.diff(progress["env_steps"].to_numpy()) < 0):
        raise _Unreadable("progress.csv: env_steps decreases")
    if not np.all(np.isfinite(progress["eval_return_mean"].to_numpy(dtype=float))):
        raise _Unreadable("progress.csv: eval_return_mean has missing or non-finite values")
    n_evals = final.get("n_evals")
    if isinstance(n_evals, int) and n_evals != len(progress):
        raise _Inconsistent(f"final.json says {n_evals} evaluations but progress.csv has {len(progress)}")
    protocol = config.get("protocol") or {}
    _check_final(final, progress, protocol)
    sweep = goal_sweep = None
    if (run_dir / "sweep.csv").exists():
        sweep = _read_csv(run_dir / "sweep.csv", (), files)
        required = GOAL_SWEEP_REQUIRED if "goal_index" in sweep.columns else ("command", "return_mean")
        _require_numeric(sweep, required, "sweep.csv")
        if "goal_index" in sweep.columns:  # goal-conditioned: one row per goal episode
            goal_sweep, sweep = sweep, None
    meta = _read_json(run_dir / "meta.json", files) if (run_dir / "meta.json").exists() else {}
    window = final.get("final_window", protocol.get("final_window"))
    hashes = code_hashes(meta)
    row = {
        "final_return": final_return,
        "final_window": window,
        # fewer evaluation points than the protocol's window (the step-0 one left out)
        "short_window": bool(final.get("short_window", isinstance(window, int)
                                       and window < (protocol.get("final_window") or 0))),
        "code_hash": hashes[-1] if hashes else "unknown",
        "code_mixed": len(set(hashes)) > 1,  # resumed after an edit of its code
        # read off a longer run's first evaluations (bench.prefix), not trained to this budget
        "derived": bool(meta.get("derived_from")),
        "n_evals": len(progress),
        "env_steps": final.get("env_steps", int(progress["env_steps"].iloc[-1])),
        "budget": protocol.get("budget", status.get("budget")),
        "wall_time_s": final.get("wall_time_s", np.nan),
        "cpu_time_s": final.get("cpu_time_s", np.nan),
        # torch threads of the run's training (meta.json; runs from before `--threads` used 1)
        "torch_threads": int(meta.get("torch_threads") or 1),
        # the processors it trained on ("|"-joined, in order; "" for runs from before meta.json recorded them)
        "cpus": "|".join(cpu_key(c) for c in cpu_history(meta)),
        "success_rate": final.get("success_rate", np.nan),
        "norm_distance": final.get("norm_distance", np.nan),
        "gym_id": meta.get("gym_id", env_id),
        "git_commit": meta.get("git_commit"),
        "versions": json.dumps(meta.get("versions", {}), sort_keys=True),
        # a named variant's base algorithm (config.json "variant"), None for an algorithm
        "variant_of": (config.get("variant") or {}).get("base") if isinstance(config.get("variant"), dict) else None,
    }
    return {"state": "done", "row": row, "progress": progress, "sweep": sweep, "goal_sweep": goal_sweep,
            "settings": _settings_key(config)}


def _run_dirs(runs_dir: Path, envs: list[str] | None, algos: list[str] | None):
    # names starting with "_" or "." are not env ids (e.g. bench check's "_check" store)
    for env_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir() and p.name[0] not in "_."):
        if envs is not None and env_dir.name not in envs:
            continue
        for algo_dir in sorted(p for p in env_dir.iterdir() if p.is_dir()):
            if algos is not None and algo_dir.name not in algos:
                continue
            seeds = []
            for seed_dir in algo_dir.iterdir():
                m = _SEED_DIR.match(seed_dir.name)
                if m and seed_dir.is_dir():
                    seeds.append((int(m.group(1)), seed_dir))
            for seed, seed_dir in sorted(seeds):
                yield env_dir.name, algo_dir.name, seed, seed_dir


def load_runs(runs_dir: Path | str, envs: list[str] | None = None, algos: list[str] | None = None,
              *, strict: bool = False) -> RunSet:
    """Read every run under ``runs_dir`` into a :class:`RunSet`.

    :param runs_dir: the runs directory (``runs/`` by default in the CLI)
    :param envs: keep only these env ids (None: all)
    :param algos: keep only these algorithms (None: all)
    :param strict: raise :class:`BenchError` on the first unreadable or inconsistent run
        instead of listing the run as left out
    :raises BenchError: the directory does not exist, or (strict) a run file is corrupt
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise BenchError(f"{runs_dir}: runs directory not found")
    evals, finals, sweeps, goal_sweeps, excluded = [], [], [], [], []
    files_read: list[dict[str, Any]] = []
    loaded: dict[tuple[str, str], list[tuple[int, Path, dict[str, Any]]]] = {}
    for env_id, algo, seed, run_dir in _run_dirs(runs_dir, envs, algos):
        files = _Files()
        try:
            res = _load_one(run_dir, env_id, algo, seed, files)
        except _Unreadable as exc:
            if strict:
                raise BenchError(f"{run_dir}: {exc}") from None
            res = {"state": exc.state, "reason": f"{exc.state}: {exc}"}
        for path, (digest, size) in files.read.items():
            files_read.append({"path": path.relative_to(runs_dir).as_posix(), "sha256": digest, "bytes": size,
                               "env_id": env_id, "algo": algo, "seed": seed, "used": False})
        if res["state"] != "done":
            excluded.append({"env_id": env_id, "algo": algo, "seed": seed, "state": res["state"],
                             "reason": res["reason"], "path": str(run_dir)})
            continue
        loaded.setdefault((env_id, algo), []).append((seed, run_dir, res))

    for (env_id, algo), runs in loaded.items():
        # all seeds of a cell must share protocol and hyperparameters: keep the majority
        counts = Counter(r["settings"] for _, _, r in runs)
        keep = max(counts, key=lambda k: (counts[k], -min(s for s, _, r in runs if r["settings"] == k)))
        for seed, run_dir, res in runs:
            if res["settings"] != keep:
                excluded.append({"env_id": env_id, "algo": algo, "seed": seed, "state": "mismatched",
                                 "reason": "protocol or hyperparameters differ from the other seeds of this cell",
                                 "path": str(run_dir)})
                continue
            ident = {"env_id": env_id, "algo": algo, "seed": seed}
            finals.append({**ident, **res["row"]})
            prog = res["progress"]
            # runs made before nominal evaluation points: eval_step = the actual env steps
            recorded = "eval_step" in prog.columns
            if not recorded:
                prog = prog.assign(eval_step=prog["env_steps"])
            evals.append(prog.assign(**ident, eval_step_recorded=recorded))
            if res["sweep"] is not None:
                sweeps.append(res["sweep"].assign(**ident))
            if res["goal_sweep"] is not None:
                goal_sweeps.append(res["goal_sweep"].assign(**ident))

    id_cols = ["env_id", "algo", "seed"]
    finals_df = pd.DataFrame(finals, columns=id_cols + ["final_return", "final_window", "short_window",
                                                        "code_hash", "code_mixed", "derived", "n_evals", "env_steps",
                                                        "budget", "wall_time_s", "cpu_time_s", "torch_threads", "cpus", "success_rate",
                                                        "norm_distance",
                                                        "gym_id", "git_commit", "versions", "variant_of"])
    finals_df = finals_df.sort_values(id_cols, ignore_index=True)
    evals_df = (pd.concat(evals, ignore_index=True) if evals
                else pd.DataFrame(columns=id_cols + list(REQUIRED_PROGRESS)))
    evals_df = evals_df[id_cols + [c for c in evals_df.columns if c not in id_cols]]
    sweeps_df = (pd.concat(sweeps, ignore_index=True) if sweeps
                 else pd.DataFrame(columns=id_cols + ["command", "return_mean"]))
    goal_sweeps_df = (pd.concat(goal_sweeps, ignore_index=True) if goal_sweeps
                      else pd.DataFrame(columns=id_cols + list(GOAL_SWEEP_REQUIRED)))
    excluded_df = pd.DataFrame(excluded, columns=id_cols + ["state", "reason", "path"]).sort_values(
        id_cols, ignore_index=True)
    files_df = pd.DataFrame(files_read, columns=FILE_COLUMNS).sort_values("path", ignore_index=True)
    used = set(zip(finals_df["env_id"], finals_df["algo"], finals_df["seed"]))
    files_df["used"] = [k in used for k in zip(files_df["env_id"], files_df["algo"], files_df["seed"])]
    return RunSet(evals=evals_df, finals=finals_df, sweeps=sweeps_df, goal_sweeps=goal_sweeps_df,
                  excluded=excluded_df, runs_dir=runs_dir, files=files_df)
