"""Run cells on a Ray cluster (``bench run --executor ray``): one task per cell, one CPU each.

The cells, run directories and results are exactly those of the local executor: each
task calls :func:`bench.runner.run_cell`, which writes the run directory itself, so the
runs directory must be on storage every node sees (a shared filesystem) and every node
needs the project installed (``pip install -e ".[ray]"``). Without ``address`` a local
Ray instance with ``workers`` CPUs is started for the call and shut down after it;
``address="auto"`` (or ``RAY_ADDRESS``) joins a running cluster, whose size then decides
the parallelism.

A task lost with its worker process or node is retried up to :data:`MAX_RETRIES` times by
Ray; the retry takes over the cell's lease at once (all attempts of a task share one lease
``owner`` id, and Ray retries only once the attempt is dead) and resumes from the cell's
last checkpoint, so the final run equals an uninterrupted one. Exceptions raised by
``run_cell`` are not retried (it records its own failures). A cell whose retries are spent
is ``failed``; ``bench run`` again resumes it. On SIGTERM/SIGINT the driver asks running
tasks to stop (``ray.cancel`` without force, which Ray delivers to the task's main thread
as SIGINT: the worker's handler requests a graceful stop, so the cell checkpoints and
records ``interrupted``), waits for them, and leaves queued tasks unstarted.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any, Callable

from bench.errors import BenchError


#: retries of a task whose worker or node died (each resumes from the cell's checkpoint)
MAX_RETRIES = 3
#: seconds the driver waits for stopping tasks to checkpoint before it gives up on them
STOP_GRACE_SECONDS = 120.0


def _run_cell_task(cell: Any, config: Any, runs_dir: str, budget: int | None, fresh: bool,
                   owner: str | None = None) -> str:
    from bench.runner import _worker_init, run_cell, stop_on_signals

    _worker_init()
    with stop_on_signals():  # ray.cancel (no force) reaches the task as SIGINT: a graceful stop
        return run_cell(cell, config, Path(runs_dir), budget, fresh, owner=owner)


def run_on_ray(cells: list[Any], config: Any, runs_dir: Path, *, budget: int | None, fresh: bool,
               outcomes: dict[Any, str], workers: int, address: str | None = None,
               on_update: Callable[[dict[Any, str]], None] | None = None) -> dict[Any, str]:
    """Run ``cells`` as Ray tasks; fill and return ``outcomes`` (those of :func:`bench.runner.run_cell`)."""
    from bench.runner import stop_requested

    try:
        import ray
    except ImportError:
        raise BenchError('--executor ray needs Ray: pip install -e ".[ray]"') from None
    address = address or os.environ.get("RAY_ADDRESS") or None
    started_here = not ray.is_initialized()
    graceful = _graceful_signals()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
        if address is None:
            kwargs["num_cpus"] = workers
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BenchError(f"cannot start or reach Ray (address {address or 'local'}): {exc}") from None
        _reclaim_signals(graceful)
    try:
        task = ray.remote(num_cpus=config.threads, max_retries=MAX_RETRIES, retry_exceptions=False)(_run_cell_task)
        root = str(Path(runs_dir).resolve())
        run_id = secrets.token_hex(8)
        refs = {task.remote(cell, config, root, budget, fresh, f"ray-{run_id}-{i}"): cell
                for i, cell in enumerate(cells)}
        pending = list(refs)
        stopping_since = None
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
            for ref in done:
                try:
                    outcomes[refs[ref]] = ray.get(ref)
                except Exception:  # retries spent (worker or node lost), or cancelled by a stop
                    outcomes[refs[ref]] = _stopped(refs[ref], runs_dir) if stopping_since else "failed"
            if stop_requested() and stopping_since is None:
                stopping_since = time.time()
                for ref in pending:
                    ray.cancel(ref, force=False, recursive=False)
            if stopping_since and time.time() - stopping_since > STOP_GRACE_SECONDS:
                for ref in pending:
                    outcomes[refs[ref]] = _stopped(refs[ref], runs_dir)
                break
            if on_update:
                on_update(outcomes)
    finally:
        if started_here:
            ray.shutdown()
    return outcomes


def _stopped(cell: Any, runs_dir: Path) -> str:
    """Outcome of a cell whose task was cancelled by a stop: ``interrupted`` if it had
    started (its status.json says so), else ``pending``."""
    from bench import store

    path = store.run_dir(runs_dir, cell.env_id, cell.algo, cell.seed) / store.STATUS
    try:
        return "interrupted" if store.read_json(path).get("state") in ("interrupted", "running") else "pending"
    except (BenchError, OSError):
        return "pending"


def _graceful_signals() -> list[int]:
    """The signals whose handler is :func:`bench.runner.stop_on_signals`'s now."""
    import signal

    from bench.runner import _on_signal

    return [sig for sig in (signal.SIGTERM, signal.SIGINT) if signal.getsignal(sig) is _on_signal]


def _reclaim_signals(sigs: list[int]) -> None:
    """``ray.init`` sets its own SIGTERM handler in the driver (exit at once): set the
    graceful-stop handler of :func:`bench.runner.stop_on_signals` again for ``sigs``."""
    import signal

    from bench.runner import _on_signal

    for sig in sigs:
        signal.signal(sig, _on_signal)
