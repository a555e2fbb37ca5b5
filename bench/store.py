"""The run store: one directory per (env, algo, seed) cell, written atomically.

Layout (``runs/<env_id>/<algo>/seed_<k>/``)::

    config.json     resolved configuration (compared on resume)
    meta.json       provenance: gym id run, package versions, git commit, host, timings
    progress.csv    one row per evaluation
    final.json      final result; exists only when the run is complete
    status.json     running / done / failed (+ env steps, error)
    checkpoint.pt   everything needed to resume (removed once the run is complete)
    model.pt        the trained model of a complete run (``Algorithm.final_state``)
    sweep.csv       command or goal sweep (conditioned algorithms)

Every file is written to a temporary file in the same directory and renamed into
place, so a reader never sees a half-written file and a kill never corrupts a run. Files
get the mode the process umask gives any new file (0644 under umask 022), so a team can
share a runs directory. A write that fails (a full disk: ENOSPC) removes its temporary
file, leaves the previous version of the file in place and raises :class:`WriteError`.

``lease.json`` (:mod:`bench.lease`) marks a cell being trained by some process.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, BinaryIO, Callable

import torch

from bench.errors import BenchError

CONFIG, META, PROGRESS, FINAL, STATUS, CHECKPOINT, SWEEP, MODEL = (
    "config.json", "meta.json", "progress.csv", "final.json", "status.json", "checkpoint.pt", "sweep.csv",
    "model.pt")


def run_dir(runs_dir: Path, env_id: str, algo: str, seed: int) -> Path:
    """Deterministic location of a cell (no timestamps: re-runs find their work)."""
    safe_env = env_id.replace("/", "__")
    return Path(runs_dir) / safe_env / algo / f"seed_{seed}"


def file_mode() -> int:
    """Mode of a new file under the process umask (0o666 & ~umask), as ``open()`` gives."""
    try:  # Linux >= 4.7: read without changing it (os.umask is process-wide, not thread-safe)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


_umask_lock = threading.Lock()


class WriteError(BenchError):
    """A run file could not be written (disk full, quota, I/O error); the previous version
    of the file, if any, is unchanged."""


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, fsync, then rename it into place.

    The file gets the umask's mode (``mkstemp`` alone would give 0600). An ``OSError`` while
    writing becomes a :class:`WriteError` naming the file; the temporary file is removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), file_mode())
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            kept = "; the previous version is kept" if path.exists() else ""
            raise WriteError(f"cannot write {path}: {exc.strerror or exc}{kept}") from exc
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    atomic_write(path, lambda fh: fh.write(data))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(_clean(obj), indent=2, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> Any:
    """Read a JSON file; a corrupt one raises a one-line BenchError."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BenchError(f"{path}: corrupt JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise BenchError(f"{path}: cannot read: {exc.strerror}") from None


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write rows as CSV (columns = union of keys in first-seen order), atomically."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a progress/sweep CSV into rows of floats (ints where integral columns).

    A file whose rows do not match its header (e.g. truncated mid-line) raises BenchError.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise BenchError(f"{path}: cannot read: {exc.strerror}") from None
    if text and not text.endswith("\n"):
        raise BenchError(f"{path}: truncated (last line incomplete)")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise BenchError(f"{path}: empty or missing header")
    rows = []
    for lineno, values in enumerate(reader, start=2):
        if len(values) != len(header):
            raise BenchError(f"{path}: line {lineno} has {len(values)} fields, expected {len(header)}")
        row: dict[str, Any] = {}
        for k, v in zip(header, values):
            try:
                f = float(v) if v != "" else math.nan
            except ValueError:
                raise BenchError(f"{path}: line {lineno}: column {k!r} is not a number: {v!r}") from None
            row[k] = int(f) if k in ("eval_index", "env_steps", "eval_episode_steps", "eval_env_steps") else f
        rows.append(row)
    return rows


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """``torch.save`` streamed into a temporary file, then renamed (no in-memory copy:
    a PoliGen checkpoint can hold 10k policies, 2.7 GB)."""
    atomic_write(path, lambda fh: torch.save(state, fh))


def load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, weights_only=False)
    except Exception as exc:  # torch raises many kinds for a damaged file
        raise BenchError(f"{path}: corrupt checkpoint ({type(exc).__name__})") from None


def ensure_writable(runs_dir: Path) -> None:
    """Fail early with one line if the runs directory cannot be created or written."""
    runs_dir = Path(runs_dir)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=runs_dir, prefix=".write-test.")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise BenchError(f"runs directory {runs_dir} is not writable: {exc.strerror}") from None
