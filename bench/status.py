"""``bench status``: every cell in a run store with its state and last evaluation.

States: ``pending``, ``running`` (its lease, :mod:`bench.lease`, is held by a live process,
here or on another host: the note names it), ``interrupted`` (stopped by a signal and
checkpointed, or its process died: the next ``bench run`` resumes it), ``done``,
``failed``, ``corrupt``.

With a configuration, each run's recorded code (meta.json ``code``) is also compared with
this checkout's code of its algorithm: a run made by other code is noted ("other code"),
so a published store whose cells all predate an edit does not pass for current.
"""

from __future__ import annotations

import socket
from pathlib import Path

from bench import lease as leases
from bench import store
from bench.config import BenchConfig
from bench.errors import BenchError
from bench.provenance import code_hashes, run_code_today


def cell_state(d: Path) -> tuple[str, dict]:
    """(state, status dict) of a run directory; "interrupted" for a dead running process."""
    if not (d / store.STATUS).exists():
        held, holder = leases.state(d)
        if held == "held" and holder is not None:
            return "running", {"note": f"starting: {_where(holder)}"}
        return ("pending" if not (d / store.CONFIG).exists() else "interrupted"), {}
    try:
        status = store.read_json(d / store.STATUS)
    except BenchError:
        return "corrupt", {}
    state = status.get("state", "unknown")
    if state == "done" and not (d / store.FINAL).exists():
        state = "corrupt"
    if (d / store.PROGRESS).exists():
        try:
            store.read_rows(d / store.PROGRESS)
        except BenchError as exc:
            return "corrupt", {**status, "error": str(exc).split(": ", 1)[-1]}
    if state == "running":
        held, holder = leases.state(d)
        if held == "held" and holder is not None:
            status = {**status, "note": _where(holder)}
        elif held == "stale":
            state = "interrupted"
            status = {**status, "note": f"its process ({holder.describe() if holder else '?'}) is gone; "
                                        f"the next bench run takes it over"}
        elif status.get("host") == socket.gethostname() and not leases.process_alive(int(status.get("pid", 0))):
            state = "interrupted"  # no lease: a run by a bench version without leases, or a crash
    return state, status


def _where(holder: leases.Holder) -> str:
    return f"pid {holder.pid}" if holder.host == socket.gethostname() else f"on {holder.host}, pid {holder.pid}"


def status_table(runs_dir: Path, config: BenchConfig | None = None) -> str:
    """A text table of all cells under ``runs_dir``; with ``config``, runs made by other code
    than this checkout's are noted and counted."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise BenchError(f"no run store at {runs_dir}")
    lines = [f"{'env':<28} {'algo':<8} {'seed':>4}  {'state':<11} {'env steps':>21}  {'last return':>11}  note"]
    counts: dict[str, int] = {}
    dirs = sorted(runs_dir.glob("*/*/seed_*"), key=lambda p: (p.parent.parent.name, p.parent.name,
                                                              int(p.name[5:]) if p.name[5:].isdigit() else 0))
    code = {d: _code_of(d) for d in dirs}
    versions: dict[Path, set[str]] = {}
    for d in dirs:
        versions.setdefault(d.parent, set()).update(code[d] or ["unknown"])
    today = {d: run_code_today(d, config) for d in dirs} if config else {}
    n_other = 0
    for d in dirs:
        state, status = cell_state(d)
        counts[state] = counts.get(state, 0) + 1
        steps = f"{status.get('env_steps', 0):,}/{status.get('budget', 0):,}" if "budget" in status else "-"
        last = status.get("last_return")
        note = status.get("error", "") if state in ("failed", "corrupt") else status.get("note", "")
        if state == "done" and not note:
            try:
                note = f"final {store.read_json(d / store.FINAL)['final_return']:.1f}"
            except (BenchError, KeyError):
                state, note = "corrupt", "final.json unreadable"
        if len(set(code[d])) > 1:
            note += f"{'; ' if note else ''}mixed code: resumed after an edit ({len(set(code[d]))} versions)"
        elif len(versions[d.parent]) > 1:
            note += f"{'; ' if note else ''}code {(code[d] or ['unknown'])[-1][:8]} (seeds differ)"
        current = today.get(d)
        if current is not None and (d / store.CONFIG).exists() and (code[d] or [None])[-1] != current:
            n_other += 1
            note += f"{'; ' if note else ''}other code than this checkout's"
        lines.append(f"{d.parent.parent.name.replace('__', '/'):<28} {d.parent.name:<8} {d.name[5:]:>4}  {state:<11} "
                     f"{steps:>21}  {'' if last is None else f'{last:.1f}':>11}  {note}")
    if len(lines) == 1:
        return f"no runs in {runs_dir}"
    lines.append(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    mixed_cells = sum(len(v) > 1 for v in versions.values())
    if mixed_cells:
        lines.append(f"{mixed_cells} (env, algo) cells hold seeds made by different code (meta.json 'code')")
    if n_other:
        lines.append(f"{n_other} runs were made by other code than this checkout's "
                     f"(bench run --fresh redoes them)")
    return "\n".join(lines)


def _code_of(d: Path) -> list[str]:
    """Code hashes a run was trained with (empty: not recorded or unreadable)."""
    try:
        return code_hashes(store.read_json(d / store.META)) if (d / store.META).exists() else []
    except BenchError:
        return []
