"""Live progress of a ``bench run``: cells done / running / failed, env steps, ETA.

The display reads each cell's ``status.json`` (written by the worker at every
evaluation), so it needs no channel between processes and shows resumed work too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from bench import store
from bench.errors import BenchError


class ProgressDisplay:
    """Context manager that renders a live summary while cells run.

    :param cells: the cells being run
    :param runs_dir: where their run directories are
    :param budgets: training budget of each cell (env steps)
    :param restarts: cells whose stored run will be discarded (``--fresh``): a status
        written before this display started counts as no steps
    """

    def __init__(self, cells: list, runs_dir: Path, budgets: dict, enabled: bool = True,
                 restarts: set | frozenset = frozenset()):
        self.cells, self.runs_dir, self.budgets = cells, Path(runs_dir), budgets
        self.restarts = set(restarts)
        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self.start = time.time()
        self.outcomes: dict = {}
        self.live: Live | None = None
        self._steps0: int | None = None
        self._last_print = 0.0
        self._printed: dict = {}

    def _steps(self, cell) -> int:
        path = store.run_dir(self.runs_dir, cell.env_id, cell.algo, cell.seed) / store.STATUS
        if not path.exists():
            return 0
        if cell in self.restarts and path.stat().st_mtime < self.start:  # the run --fresh discards
            return 0
        try:
            return int(store.read_json(path).get("env_steps", 0))
        except (BenchError, ValueError, TypeError):
            return 0

    def render(self) -> str:
        states = [self.outcomes.get(c, "pending") for c in self.cells]
        done = sum(s in ("done", "skipped", "stale") for s in states)
        failed = states.count("failed")
        running = states.count("running")
        elsewhere = states.count("elsewhere")
        steps = sum(min(self._steps(c), self.budgets[c]) for c in self.cells)
        total = sum(self.budgets.values())
        if self._steps0 is None:
            self._steps0 = steps
        elapsed = time.time() - self.start
        rate = (steps - self._steps0) / elapsed if elapsed > 1 else 0.0
        eta = (total - steps) / rate if rate > 0 else float("nan")
        return (f"cells {done}/{len(self.cells)} done, {running} running, {failed} failed"
                f"{f', {elsewhere} elsewhere' if elsewhere else ''} | "
                f"env steps {steps:,}/{total:,} ({100 * steps / max(total, 1):.1f}%) | "
                f"{rate:,.0f} steps/s | ETA {_fmt(eta)} | elapsed {_fmt(elapsed)}")

    def __rich__(self) -> Text:
        return Text(self.render())

    def update(self, outcomes: dict) -> None:
        self.outcomes = dict(outcomes)
        if self.live is not None:
            self.live.refresh()
        else:  # a line every 30 s, and one when every cell has settled (not again while --wait polls)
            settled = all(c in outcomes and outcomes[c] != "running" for c in self.cells)
            if time.time() - self._last_print > 30 or (settled and self.outcomes != self._printed):
                self._last_print, self._printed = time.time(), dict(self.outcomes)
                print(self.render(), file=sys.stderr, flush=True)

    def __enter__(self) -> "ProgressDisplay":
        if self.enabled:
            self.live = Live(self, console=self.console, refresh_per_second=2)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.__exit__(*exc)


def _fmt(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "--"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()
