"""Run cells on a Ray cluster (``bench run --executor ray``): one task per cell, one CPU each.

The cells, run directories and results are exactly those of the local executor: each
task calls :func:`bench.runner.run_cell`, which writes the run directory itself, so the
runs directory must be on storage every node sees (a shared filesystem) and every node
needs the project installed (``pip install -e ".[ray]"``). Without ``address`` a local
Ray instance with ``workers`` CPUs is started for the call and shut down after it;
``address="auto"`` (or ``RAY_ADDRESS``) joins a running cluster, whose size then decides
the parallelism. A task that dies (a node lost) marks its cell failed; ``bench run``
again resumes it from its last checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from bench.errors import BenchError


def _run_cell_task(cell: Any, config: Any, runs_dir: str, budget: int | None, fresh: bool) -> str:
    from bench.runner import _worker_init, run_cell

    _worker_init()
    return run_cell(cell, config, Path(runs_dir), budget, fresh)


def run_on_ray(cells: list[Any], config: Any, runs_dir: Path, *, budget: int | None, fresh: bool,
               outcomes: dict[Any, str], workers: int, address: str | None = None,
               on_update: Callable[[dict[Any, str]], None] | None = None) -> dict[Any, str]:
    """Run ``cells`` as Ray tasks; fill and return ``outcomes`` (``done`` / ``failed``)."""
    try:
        import ray
    except ImportError:
        raise BenchError('--executor ray needs Ray: pip install -e ".[ray]"') from None
    address = address or os.environ.get("RAY_ADDRESS") or None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
        if address is None:
            kwargs["num_cpus"] = workers
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise BenchError(f"cannot start or reach Ray (address {address or 'local'}): {exc}") from None
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(_run_cell_task)
        root = str(Path(runs_dir).resolve())
        refs = {task.remote(cell, config, root, budget, fresh): cell for cell in cells}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
            for ref in done:
                try:
                    outcomes[refs[ref]] = ray.get(ref)
                except Exception:  # the task died (worker or node lost); run_cell marks its own errors
                    outcomes[refs[ref]] = "failed"
            if on_update:
                on_update(outcomes)
    finally:
        if started_here:
            ray.shutdown()
    return outcomes
