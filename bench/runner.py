"""The runner: owns budgets, evaluation, seeding, checkpoints and the run store.

For each (algo, env, seed) cell it seeds every RNG, builds the algorithm and a separate
set of evaluation environments, then alternates ``algo.learn(next evaluation point)``
with a deterministic evaluation, appending a row to ``progress.csv`` and checkpointing.
A killed run resumes from its last checkpoint and produces the same rows as an
uninterrupted one; a finished run is skipped; a run whose stored configuration differs
from the requested one is refused unless ``fresh=True``.

Safe at scale:

- a cell is trained under its lease (:mod:`bench.lease`): a cell leased by a live process
  (here, in another ``bench run``, on another host) is left to it (outcome ``elsewhere``),
  one whose holder died is taken over and resumed;
- SIGTERM or SIGINT (:func:`stop_on_signals` in the command, :func:`_worker_init` in every
  worker) asks each running cell to stop: it checkpoints at its next safe point, records
  ``interrupted`` in status.json, releases its lease and returns ``interrupted``. Safe points
  come at least every :data:`LEARN_CHUNK` training steps, since the runner calls ``learn``
  in chunks of at most that many steps between evaluation points (``learn(a); learn(b)``
  trains exactly as ``learn(b)``: checked for every registered algorithm), so a stop takes
  one chunk (one iteration of an episodic method) plus one checkpoint.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from algorithms import Algorithm, EnvInfo
from bench import lease as leases
from bench import store
from bench.config import BenchConfig, EnvSettings, build_algo_config
from bench.errors import BenchError
from bench.provenance import algorithm_code, code_hashes, cpu_history, cpu_key
from bench.evaluation import eval_points, evaluate, final_window
from bench.sweeps import run_sweep
from envs import make_env, resolve_id

PROJECT_DIR = Path(__file__).resolve().parent.parent
#: the most training steps between two checks for a stop request (see the module docstring)
LEARN_CHUNK = 500
#: seconds between two looks at the leases of cells running elsewhere (``wait=True``)
WAIT_POLL_SECONDS = 2.0

_stop = threading.Event()
_stop_signal = [0]
_training = threading.Event()  # set while this process trains a cell


def request_stop(signum: int = signal.SIGTERM) -> None:
    """Ask every cell this process trains to checkpoint and stop at its next safe point."""
    if not _stop.is_set():
        _stop_signal[0] = int(signum)
    _stop.set()


def stop_requested() -> int:
    """The signal number of a pending stop request (0: none)."""
    return _stop_signal[0] if _stop.is_set() else 0


_force_on_repeat = [False]


def _on_signal(signum: int, frame: Any) -> None:
    if _stop.is_set() and _force_on_repeat[0]:
        raise KeyboardInterrupt  # a second signal: stop at once (the last checkpoints stand)
    request_stop(signum)


class stop_on_signals:
    """Context manager: SIGTERM and SIGINT request a graceful stop (:func:`request_stop`)
    instead of ending the process; the previous handlers come back on exit. A no-op outside
    the main thread (only it may set handlers).

    :param force_on_repeat: a second signal raises ``KeyboardInterrupt`` (the ``bench run``
        process: Ctrl-C twice stops at once); workers leave it False, as they may get both
        the terminal's SIGINT and the one their parent forwards
    """

    def __init__(self, force_on_repeat: bool = False):
        self.force_on_repeat = force_on_repeat

    def __enter__(self) -> "stop_on_signals":
        self.previous: dict[int, Any] = {}
        _stop.clear()
        _stop_signal[0] = 0
        self._force = _force_on_repeat[0]
        _force_on_repeat[0] = self.force_on_repeat
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.previous[sig] = signal.signal(sig, _on_signal)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        _force_on_repeat[0] = self._force


@dataclass(frozen=True, order=True)
class Cell:
    """One (environment, algorithm, seed) run."""

    env_id: str
    algo: str
    seed: int

    def __str__(self) -> str:
        return f"{self.algo}/{self.env_id}/seed_{self.seed}"


def env_settings(config: BenchConfig, env_id: str, budget: int | None = None) -> EnvSettings:
    """The env's protocol, with an optional budget override."""
    settings = config.env(env_id)
    if budget is not None:
        settings = EnvSettings(**{**settings.__dict__, "budget": budget})
    return settings


def resolved_config(config: BenchConfig, cell: Cell, budget: int | None = None) -> dict[str, Any]:
    """Everything that defines a run; stored as config.json and compared on resume."""
    cls = config.algorithm(cell.algo)
    algo_cfg = build_algo_config(cls.Config, config.hyperparameters(cell.algo, cell.env_id),
                                 path=config.path, where=f"algos.{cell.algo}")
    return {
        "algo": cell.algo,
        **config.identity(cell.algo, cell.env_id),
        "env_id": cell.env_id,
        "seed": cell.seed,
        "protocol": env_settings(config, cell.env_id, budget).protocol(),
        "hyperparameters": store._clean({k: (list(v) if isinstance(v, tuple) else v)
                                         for k, v in algo_cfg.__dict__.items()}),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_DIR), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(PROJECT_DIR), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=5)
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("bench", "torch", "numpy", "gymnasium", "mujoco", "stable-baselines3", "gymnasium-robotics"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _cpu() -> dict[str, str]:
    """The processor a run's arithmetic depends on: the same seed and code can give other
    floating-point results on another CPU (torch and MKL dispatch their kernels by instruction
    set). A VM may show only a generic name ("AMD EPYC"): family/model/stepping and a digest of
    the instruction-set flags tell its generations apart."""
    import hashlib

    import torch

    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    cpu = {"model": info.get("model name") or platform.processor(),
           "torch_capability": torch.backends.cpu.get_cpu_capability(),
           "cores": str(os.cpu_count())}
    if "cpu family" in info:
        cpu["id"] = f"{info.get('vendor_id', '?')} family {info['cpu family']} model {info.get('model', '?')} " \
                    f"stepping {info.get('stepping', '?')}"
    if info.get("flags"):
        cpu["flags_sha256"] = hashlib.sha256(" ".join(sorted(info["flags"].split())).encode()).hexdigest()[:12]
    if os.environ.get("MKL_CBWR"):  # MKL's code-path pinning changes the arithmetic too
        cpu["mkl_cbwr"] = os.environ["MKL_CBWR"]
    return cpu


def env_info_for(env_id: str, settings: EnvSettings, env: gym.Env) -> EnvInfo:
    return EnvInfo(
        env_id=env_id,
        gym_id=resolve_id(env_id),
        observation_space=env.observation_space,
        action_space=env.action_space,
        survival_bonus=settings.survival_bonus,
        return_range=settings.return_range,
        max_episode_steps=int(env.spec.max_episode_steps or 1000) if env.spec else 1000,
    )


def check_compatible(cls: type[Algorithm], algo: str, env_id: str, env: gym.Env) -> None:
    """One clear error if an algorithm cannot run on an environment's spaces."""
    if not isinstance(env.action_space, gym.spaces.Box):
        raise BenchError(f"{algo} needs a continuous (Box) action space; {env_id} has {env.action_space}")
    is_goal_env = isinstance(env.observation_space, gym.spaces.Dict)
    if cls.conditioning == "goal" and not is_goal_env:
        raise BenchError(f"{algo} is goal-conditioned and needs a goal environment (dict observations); "
                         f"{env_id} is not one")
    if cls.conditioning != "goal" and not isinstance(env.observation_space, gym.spaces.Box):
        raise BenchError(f"{algo} needs Box observations; {env_id} has {type(env.observation_space).__name__}")


def preflight(cells: list[Cell], config: BenchConfig, runs_dir: Path, budget: int | None, fresh: bool) -> None:
    """Validate every cell before any training starts (nothing is written on failure)."""
    store.ensure_writable(runs_dir)
    for env_id in sorted({c.env_id for c in cells}):
        env = make_env(env_id)
        for algo in sorted({c.algo for c in cells if c.env_id == env_id}):
            check_compatible(config.algorithm(algo), algo, env_id, env)
        env.close()
    for cell in cells:
        want = resolved_config(config, cell, budget)
        d = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed)
        if (d / store.CONFIG).exists() and not fresh:
            have = store.read_json(d / store.CONFIG)
            if have != want:
                diff = sorted(_diff_keys(have, want))
                raise BenchError(f"{d} holds a run with a different configuration ({', '.join(diff)}); "
                                 f"use another --runs-dir, or --fresh to discard it and start again")


def discarded_by_fresh(cells: list[Cell], config: BenchConfig, runs_dir: Path,
                       budget: int | None) -> set[Cell]:
    """Cells whose stored run ``--fresh`` discards (other configuration or other code):
    their stored progress does not count towards what this command still has to train."""
    out = set()
    for cell in cells:
        d = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed)
        stored = stored_run(d, resolved_config(config, cell, budget), cell.algo, config)
        if _discards(stored, fresh=True):
            out.add(cell)
    return out


def _discards(stored: StoredRun, fresh: bool) -> bool:
    """``--fresh`` discards a stored run made with another configuration or by other code."""
    return fresh and stored.exists and (stored.config_differs or stored.code_differs)


def resuming_with_other_code(cells: list[Cell], config: BenchConfig, runs_dir: Path,
                             budget: int | None) -> list[Cell]:
    """Unfinished cells whose checkpoint was made by other code than today's: resuming them
    mixes code within one run (recorded in meta.json's ``code_history``, flagged by
    ``bench status`` and the report; ``--fresh`` restarts them instead)."""
    out = []
    for cell in cells:
        d = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed)
        stored = stored_run(d, resolved_config(config, cell, budget), cell.algo, config)
        if stored.exists and not stored.finished and stored.code_differs and (d / store.CHECKPOINT).exists():
            out.append(cell)
    return out


def _diff_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in set(a) | set(b):
            out += _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [prefix.rstrip(".")] if a != b else []


@dataclass(frozen=True)
class StoredRun:
    """What the run store holds for a cell, compared with what is requested now.

    :param exists: the cell has a run directory with a config.json
    :param config_differs: its configuration differs from the requested one
    :param code_differs: it was made (in whole or in part) by other code than today's
    :param finished: it is complete (final.json)
    """

    exists: bool
    config_differs: bool
    code_differs: bool
    finished: bool


def stored_run(d: Path, want: dict[str, Any], algo: str, config: BenchConfig) -> StoredRun:
    """Compare the run stored in ``d`` with the requested configuration and today's code."""
    if not (d / store.CONFIG).exists():
        return StoredRun(False, False, False, False)
    config_differs = store.read_json(d / store.CONFIG) != want
    meta = store.read_json(d / store.META) if (d / store.META).exists() else {}
    current = algorithm_code(algo, config)["hash"]
    code_differs = any(h != current for h in code_hashes(meta)) or not code_hashes(meta)
    return StoredRun(True, config_differs, code_differs, (d / store.FINAL).exists())


def run_cell(cell: Cell, config: BenchConfig, runs_dir: Path, budget: int | None = None,
             fresh: bool = False, owner: str | None = None) -> str:
    """Train and evaluate one cell to completion under its lease; return "done", "skipped",
    "stale" (complete, made by other code, kept), "failed", "elsewhere" (leased by another
    live process, or taken over from this one), "interrupted" (stopped on request,
    checkpointed) or "pending" (a stop was requested before it started).

    Failures are recorded in status.json / error.log and do not raise.

    :param owner: an id shared by the attempts of one task (Ray retries, :func:`bench.lease.acquire`)
    """
    d = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed)
    if stop_requested():
        return "pending"
    lease: leases.Lease | None = None
    try:
        got = leases.acquire(d, owner=owner)
        if isinstance(got, leases.Holder):
            return "elsewhere"
        lease = got
        _training.set()
        return _run_cell(cell, config, d, budget, fresh, lease)
    except leases.LeaseLost:
        return "elsewhere"  # another process judged this one dead and took the cell: write nothing
    except KeyboardInterrupt:  # an interrupt not handled as a stop request: the last checkpoint stands
        try:
            if lease is not None and lease.held():
                status = store.read_json(d / store.STATUS) if (d / store.STATUS).exists() else {}
                store.write_json(d / store.STATUS, {**status, "state": "interrupted", "updated_at": time.time()})
        except Exception:
            pass
        raise
    except Exception as exc:  # a failing cell must not stop the others
        msg = str(exc).splitlines()[0] if str(exc) else ""
        error = f"{type(exc).__name__}: {msg}" if not isinstance(exc, BenchError) else msg
        try:
            if lease is not None and not lease.held():
                return "elsewhere"
            d.mkdir(parents=True, exist_ok=True)
            store.atomic_write_bytes(d / "error.log", traceback.format_exc().encode())
            status = store.read_json(d / store.STATUS) if (d / store.STATUS).exists() else {}
            store.write_json(d / store.STATUS, {**status, "state": "failed", "error": error,
                                                "updated_at": time.time()})
        except Exception as again:  # e.g. the disk is still full: say it where it can be seen
            print(f"bench: {cell} failed: {error} (not recorded in {d}: {again})", file=sys.stderr, flush=True)
        return "failed"
    finally:
        if lease is not None:
            lease.release()
        _training.clear()


def _clear_run_dir(d: Path) -> None:
    """Delete a run directory's contents but its lease (``--fresh`` under the lease)."""
    for p in d.iterdir():
        if p.name.startswith(("lease.", ".lease.")):  # the lease, and others' attempts at it
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _run_cell(cell: Cell, config: BenchConfig, d: Path, budget: int | None, fresh: bool,
              lease: leases.Lease) -> str:
    import torch

    from algorithms.common import global_rng_state, seed_everything, set_global_rng_state

    want = resolved_config(config, cell, budget)
    stored = stored_run(d, want, cell.algo, config)
    if stored.config_differs and not fresh:
        raise BenchError(f"{d}: stored configuration differs from the requested one")
    if _discards(stored, fresh):
        _clear_run_dir(d)
    elif stored.finished:
        return "stale" if stored.code_differs else "skipped"
    d.mkdir(parents=True, exist_ok=True)
    settings = env_settings(config, cell.env_id, budget)
    cls = config.algorithm(cell.algo)
    algo_cfg = build_algo_config(cls.Config, config.hyperparameters(cell.algo, cell.env_id),
                                 path=config.path, where=f"algos.{cell.algo}")

    seed_everything(cell.seed)
    resuming = (d / store.CHECKPOINT).exists()
    meta = store.read_json(d / store.META) if (resuming and (d / store.META).exists()) else {}
    # a resumed run keeps its thread count (runs before the option existed used one thread):
    # the same seed and count give the same curve, another count a slightly different one
    threads = int(meta.get("torch_threads", 1)) if resuming else config.threads
    torch.set_num_threads(threads)
    code = algorithm_code(cell.algo, config)
    history = code_hashes(meta) if resuming else []
    if not history or history[-1] != code["hash"]:
        history.append(code["hash"])  # more than one: resumed after an edit of its code
    cpu = _cpu()
    cpus = cpu_history(meta) if resuming else []
    if not cpus or cpu_key(cpus[-1]) != cpu_key(cpu):
        cpus.append(cpu)  # more than one: resumed on another processor
    meta.update({
        "env_id": cell.env_id,
        "gym_id": resolve_id(cell.env_id),
        "algo": cell.algo,
        "seed": cell.seed,
        "code": code,
        "code_history": history,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_history": cpus,
        "argv": sys.argv,
        "torch_threads": threads,
    })
    meta.setdefault("started_at", time.time())
    if resuming:
        meta.setdefault("resumed_at", []).append(time.time())
    store.write_json(d / store.CONFIG, want)
    store.write_json(d / store.META, meta)

    def factory(*, remove_survival_bonus: bool = False) -> gym.Env:
        return make_env(cell.env_id, survival_bonus=settings.survival_bonus,
                        remove_survival_bonus=remove_survival_bonus)

    probe = make_env(cell.env_id)
    info = env_info_for(cell.env_id, settings, probe)
    probe.close()
    algo = cls(factory, cell.seed, algo_cfg, info)
    eval_envs = [make_env(cell.env_id) for _ in range(settings.eval_episodes)]

    rows: list[dict[str, Any]] = []
    wall_offset = cpu_offset = 0.0
    if resuming:
        ck = store.load_checkpoint(d / store.CHECKPOINT)
        algo.load_state_dict(ck["algo"])
        set_global_rng_state(ck["rng"])
        rows = ck["progress"]
        wall_offset = ck["wall_time"]
        cpu_offset = ck.get("cpu_time", 0.0)
    start = time.time()

    cpu_start = time.process_time()

    def wall() -> float:
        return wall_offset + time.time() - start

    def cpu() -> float:
        """CPU seconds of this run (all segments; training, evaluation and checkpoints)."""
        return cpu_offset + time.process_time() - cpu_start

    def status(state: str) -> None:
        last = rows[-1]["eval_return_mean"] if rows else None
        store.write_json(d / store.STATUS, {"state": state, "env_steps": algo.env_steps, "budget": settings.budget,
                                            "n_evals": len(rows), "last_return": last, "pid": os.getpid(),
                                            "host": socket.gethostname(), "updated_at": time.time()})

    def evaluate_now(point: int) -> None:
        index = len(rows)
        row: dict[str, Any] = {"eval_index": index, "eval_step": point, "env_steps": algo.env_steps,
                               "wall_time": 0.0}
        row.update(evaluate(algo.policy(algo.eval_command()), eval_envs, cell.seed, index))
        row["eval_env_steps"] = row.pop("eval_episode_steps") + (rows[-1]["eval_env_steps"] if rows else 0)
        command = algo.eval_command()
        if command is not None:
            row["eval_command"] = float(command)
        row.update({f"train_{k}": float(v) for k, v in algo.training_stats().items()})
        row["wall_time"] = wall()
        rows.append(row)
        store.write_rows(d / store.PROGRESS, rows)

    # checkpoint at most every checkpoint_seconds, and never spend over ~5% of the wall
    # time writing them (a PoliGen checkpoint grows to GBs)
    last_checkpoint = {"at": time.time(), "took": 0.0, "rows": len(rows), "steps": algo.env_steps}

    def checkpoint() -> None:
        lease.check()  # never write over the work of a process that took the cell over
        t0 = time.time()
        store.save_checkpoint(d / store.CHECKPOINT, {"algo": algo.state_dict(), "rng": global_rng_state(),
                                                     "progress": rows, "wall_time": wall(), "cpu_time": cpu()})
        last_checkpoint.update(at=time.time(), took=time.time() - t0, rows=len(rows), steps=algo.env_steps)

    points = eval_points(settings.budget, settings.eval_interval)
    if resuming:
        store.write_rows(d / store.PROGRESS, rows)  # drop rows written after the checkpoint
    else:
        evaluate_now(points[0])
        checkpoint()
    status("running")
    last_status = time.time()
    while len(rows) < len(points) and not stop_requested():
        # learn in chunks of at most LEARN_CHUNK steps, each a safe point to stop at
        n_rows = len(rows)
        algo.learn(min(points[len(rows)], (algo.env_steps // LEARN_CHUNK + 1) * LEARN_CHUNK))
        if lease.lost:
            lease.check()
        # one evaluation per point passed: an iteration that crosses several points gets the
        # policy in force after it evaluated once for each, with that point's seeds
        while len(rows) < len(points) and points[len(rows)] <= algo.env_steps:
            evaluate_now(points[len(rows)])
        finished = len(rows) == len(points)
        since = time.time() - last_checkpoint["at"]
        due = (len(rows) - last_checkpoint["rows"] >= settings.checkpoint_every
               and since >= max(settings.checkpoint_seconds, 20 * last_checkpoint["took"]))
        if finished or due:
            checkpoint()
        if len(rows) > n_rows or time.time() - last_status > 5:
            status("running")
            last_status = time.time()
    if len(rows) < len(points):  # stopped on request: keep everything done so far
        if (last_checkpoint["rows"], last_checkpoint["steps"]) != (len(rows), algo.env_steps):
            checkpoint()
        status("interrupted")
        for e in eval_envs:
            e.close()
        return "interrupted"

    sweep = run_sweep(algo, lambda: make_env(cell.env_id), settings, cell.seed)
    if sweep:
        store.write_rows(d / store.SWEEP, sweep)
    algo.write_artifacts(d)
    final = final_record(rows, settings.final_window, env_steps=algo.env_steps, wall_time_s=wall(),
                         cpu_time_s=cpu())
    lease.check()
    meta["finished_at"] = time.time()
    meta["wall_time_s"] = final["wall_time_s"]
    meta["cpu_time_s"] = final["cpu_time_s"]
    store.write_json(d / store.META, meta)
    # the run is complete: keep the trained model, then drop the resume state (replay buffers)
    store.save_checkpoint(d / store.MODEL, {"algo": algo.final_state(), "env_steps": algo.env_steps})
    store.write_json(d / store.FINAL, final)
    (d / store.CHECKPOINT).unlink(missing_ok=True)
    status("done")
    for e in eval_envs:
        e.close()
    return "done"


def final_record(rows: list[dict[str, Any]], window_size: int, *, env_steps: int, wall_time_s: float,
                 cpu_time_s: float) -> dict[str, Any]:
    """A complete run's final.json from its progress rows: the mean over the final window
    (:func:`bench.evaluation.final_window`) of the evaluation returns (and of the success
    rate and normalised distance where the rows have them), plus counts and timings."""
    window, short = final_window(rows, window_size)
    final: dict[str, Any] = {
        "final_return": float(np.mean([r["eval_return_mean"] for r in window])),
        "final_window": len(window),
        "short_window": short,
        "n_evals": len(rows),
        "env_steps": env_steps,
        "eval_env_steps": rows[-1]["eval_env_steps"],
        "wall_time_s": wall_time_s,
        "cpu_time_s": cpu_time_s,
        "last_return": rows[-1]["eval_return_mean"],
    }
    for key, name in (("success_rate", "success_rate"), ("norm_distance_mean", "norm_distance")):
        if key in rows[-1]:
            final[name] = float(np.mean([r[key] for r in window]))
    return final


def _worker_init(parent: int | None = None) -> None:
    """Set up a worker process; ``parent``: the pid it must not outlive (Ray manages its own workers).

    In a pool worker (``parent`` given), SIGTERM and SIGINT request a graceful stop of the
    cell it trains (:func:`request_stop`): the parent forwards its own signal to the pool's
    workers, and a Ctrl-C in a terminal reaches the whole process group. (A Ray task sets
    them only while it runs: :func:`stop_on_signals`.)
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    if parent is not None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, _on_signal)
        die_with_parent(parent)


#: seconds an orphaned worker waits for its cell to checkpoint before it exits anyway
ORPHAN_GRACE_SECONDS = 8.0


def die_with_parent(parent: int, poll_seconds: float = 0.5) -> None:
    """End this worker when the ``bench run`` that started it dies (even by ``kill -9``).

    Two mechanisms: on Linux the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG,
    SIGTERM)``), immediate, which requests a graceful stop; everywhere, a daemon watchdog
    thread that polls ``getppid()`` and, when the parent changed (the worker was
    re-parented), requests a stop too, gives the cell up to :data:`ORPHAN_GRACE_SECONDS` to
    checkpoint and release its lease, then exits. The cell resumes on the next ``bench run``.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watchdog() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                request_stop(signal.SIGTERM)
                deadline = time.time() + ORPHAN_GRACE_SECONDS
                while _training.is_set() and time.time() < deadline:
                    time.sleep(0.1)
                os._exit(1)

    threading.Thread(target=watchdog, name="bench-parent-watchdog", daemon=True).start()


def run_cells(cells: list[Cell], config: BenchConfig, runs_dir: Path, *, workers: int = 1,
              budget: int | None = None, fresh: bool = False,
              on_update: Callable[[dict[Cell, str]], None] | None = None,
              executor: str = "local", address: str | None = None, wait: bool = False) -> dict[Cell, str]:
    """Run cells (a process pool when ``workers > 1``); return each cell's outcome
    (see :func:`run_cell`).

    SIGTERM and SIGINT stop it gracefully for the duration: running cells checkpoint and
    return ``interrupted``, cells not started stay ``pending``; :func:`stop_requested` then
    tells the caller which signal came. A second signal raises ``KeyboardInterrupt`` at once.

    :param on_update: called about twice a second with the outcomes so far (for progress display)
    :param executor: ``local`` (this machine) or ``ray`` (:mod:`bench.ray_executor`)
    :param address: the Ray cluster to join (None: a local Ray instance with ``workers`` CPUs)
    :param wait: wait for cells leased by other live processes (``elsewhere``) and take
        over those whose holder dies; without it they are left to their holders
    """
    runs_dir = Path(runs_dir)
    preflight(cells, config, runs_dir, budget, fresh)
    outcomes: dict[Cell, str] = {}
    for cell in cells:  # finished cells are skipped here, without starting a worker
        d = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed)
        stored = stored_run(d, resolved_config(config, cell, budget), cell.algo, config)
        if stored.finished and not stored.config_differs:
            if not stored.code_differs:
                outcomes[cell] = "skipped"
            elif not fresh:
                outcomes[cell] = "stale"  # kept: made by other code; --fresh reruns it
    todo = [c for c in cells if c not in outcomes]
    with stop_on_signals(force_on_repeat=True):
        while todo:
            _run_round(todo, config, runs_dir, outcomes, workers=workers, budget=budget, fresh=fresh,
                       on_update=on_update, executor=executor, address=address)
            elsewhere = [c for c in todo if outcomes.get(c) == "elsewhere"]
            todo = []
            while wait and elsewhere and not stop_requested():  # until a holder finishes or dies
                todo = [c for c in elsewhere if leases.state(store.run_dir(runs_dir, c.env_id, c.algo,
                                                                           c.seed))[0] != "held"]
                if todo:
                    break
                if on_update:
                    on_update(outcomes)
                _stop.wait(WAIT_POLL_SECONDS)
    for cell in cells:
        outcomes.setdefault(cell, "pending")
    return outcomes


def _run_round(cells: list[Cell], config: BenchConfig, runs_dir: Path, outcomes: dict[Cell, str], *,
               workers: int, budget: int | None, fresh: bool,
               on_update: Callable[[dict[Cell, str]], None] | None, executor: str,
               address: str | None) -> None:
    """Run ``cells`` once on the chosen executor, filling ``outcomes``."""
    if executor == "ray":
        from bench.ray_executor import run_on_ray

        run_on_ray(cells, config, runs_dir, budget=budget, fresh=fresh, outcomes=outcomes,
                   workers=workers, address=address, on_update=on_update)
        return
    if workers <= 1 or len(cells) <= 1:
        for cell in cells:
            if stop_requested():
                break
            outcomes[cell] = "running"
            if on_update:
                on_update(outcomes)
            outcomes[cell] = run_cell(cell, config, runs_dir, budget, fresh)
            if on_update:
                on_update(outcomes)
        return
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(workers, len(cells)), mp_context=ctx,
                                initializer=_worker_init, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_cell, c, config, runs_dir, budget, fresh): c for c in cells}
        pending = set(futures)
        forwarded = False
        while pending:
            done, pending = cf.wait(pending, timeout=0.5)
            for f in done:
                if f.cancelled():
                    outcomes[futures[f]] = "pending"
                    continue
                try:
                    outcomes[futures[f]] = f.result()
                except Exception:  # worker crashed (e.g. killed)
                    outcomes[futures[f]] = "failed"
            if stop_requested() and not forwarded:  # stop the workers' cells, start no more
                forwarded = True
                for f in pending:
                    f.cancel()
                for pid in list(getattr(pool, "_processes", None) or {}):
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
            if on_update:
                on_update(outcomes)
