"""A shorter-budget run read off a complete longer one: its first evaluations.

Algorithms never see the budget. The runner calls ``learn(until)`` between evaluation
points, and ``learn(a); learn(b)`` trains exactly as ``learn(b)`` (the contract of
:mod:`algorithms.base`, checked for every algorithm by :mod:`algorithms.conformance`).
So a run with budget ``B`` and the first ``B`` steps of a longer run with the same
configuration and seed are the same computation, and their progress rows up to ``B``
agree. Measured: PoliGen on Hopper-v3, seed 0, a 200k run and the first 200k of the 3M
run agree in every column except wall time. Deriving the shorter run from the longer one
costs no training.

A derived run is complete (it is reported like any other). What a prefix cannot give:

- no ``sweep.csv`` and no ``model.pt``, since the longer run kept only its final ones;
- the CPU time at ``B`` is estimated pro rata by wall time (``cpu_time_estimated`` in
  final.json);
- meta.json keeps the source's provenance (code hash, processor, versions) and adds
  ``derived_from``: the source run directory (as given), its budget, final window and timings.
"""

from __future__ import annotations

import copy
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench import store
from bench.errors import BenchError
from bench.evaluation import eval_points
from bench.runner import final_record


def _complete(src: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(config, meta, final) of a complete run; one-line errors otherwise."""
    for name in (store.CONFIG, store.STATUS, store.PROGRESS):
        if not (src / name).exists():
            raise BenchError(f"{src}: no {name} (not a run directory)")
    if store.read_json(src / store.STATUS).get("state") != "done" or not (src / store.FINAL).exists():
        raise BenchError(f"{src}: not complete (status is not done, or no final.json)")
    meta = store.read_json(src / store.META) if (src / store.META).exists() else {}
    return store.read_json(src / store.CONFIG), meta, store.read_json(src / store.FINAL)


def derive_prefix(src: Path, runs_dir: Path, budget: int, final_window: int | None = None) -> tuple[Path, bool]:
    """Write the ``budget``-step run that ``src`` (a complete longer run) began with.

    It goes to ``runs_dir/<env>/<algo>/seed_<k>/``, with the source's configuration except
    the budget and ``final_window`` (default: the source's). Returns (run directory, whether
    it was written); a run already derived identically there is left alone. Refused with one
    line: a source that is not complete, a budget that is not one of the source's evaluation
    points below its own budget, and a destination holding any other run.
    """
    src = Path(src)
    config, meta, src_final = _complete(src)
    protocol = config.get("protocol") or {}
    src_budget, interval = protocol.get("budget"), protocol.get("eval_interval")
    if not isinstance(src_budget, int) or not isinstance(interval, int):
        raise BenchError(f"{src}/config.json: no budget or eval_interval in its protocol")
    window = protocol.get("final_window") if final_window is None else final_window
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise BenchError(f"final window must be a positive integer, got {window!r}")
    if isinstance(budget, bool) or not isinstance(budget, int) or not 0 < budget < src_budget:
        raise BenchError(f"budget must be an integer between 0 and the source's {src_budget}, got {budget!r}")
    points = eval_points(budget, interval)
    lines = (src / store.PROGRESS).read_text().splitlines(keepends=True)
    src_rows = store.read_rows(src / store.PROGRESS)
    if [r["eval_step"] for r in src_rows[:len(points)]] != points:
        raise BenchError(f"budget {budget} is not an evaluation point of {src} "
                         f"(it evaluated every {interval} steps up to {src_budget})")
    text = "".join(lines[:1 + len(points)])

    want_config = copy.deepcopy(config)
    want_config["protocol"] = {**protocol, "budget": budget, "final_window": window}
    dst = store.run_dir(runs_dir, config["env_id"], config["algo"], config["seed"])
    if dst.exists():
        same = ((dst / store.CONFIG).exists() and store.read_json(dst / store.CONFIG) == want_config
                and (dst / store.PROGRESS).exists() and (dst / store.PROGRESS).read_text() == text
                and (dst / store.FINAL).exists())
        if same:
            return dst, False
        raise BenchError(f"{dst} exists and holds another run; remove it first to derive it from {src}")

    rows = src_rows[:len(points)]
    wall = float(rows[-1]["wall_time"])
    src_wall, src_cpu = src_final.get("wall_time_s"), src_final.get("cpu_time_s")
    cpu = src_cpu * wall / src_wall if src_cpu and src_wall else None
    final = final_record(rows, window, env_steps=int(rows[-1]["env_steps"]), wall_time_s=wall, cpu_time_s=cpu)
    final["cpu_time_estimated"] = True
    derived = {"run": str(src), "budget": src_budget, "final_window": protocol.get("final_window"),
               "wall_time_s": src_wall, "cpu_time_s": src_cpu, "final_return": src_final.get("final_return"),
               "argv": meta.get("argv"), "derived_at": time.time(), "derived_argv": sys.argv}
    meta = {**meta, "derived_from": derived, "wall_time_s": wall, "cpu_time_s": cpu}
    meta.pop("finished_at", None)
    status = {"state": "done", "env_steps": int(rows[-1]["env_steps"]), "budget": budget, "n_evals": len(rows),
              "last_return": rows[-1]["eval_return_mean"], "derived": True, "updated_at": time.time()}

    # build it beside its destination, then rename: a reader never sees half a run
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.derive-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        store.write_json(tmp / store.CONFIG, want_config)
        store.atomic_write_bytes(tmp / store.PROGRESS, text.encode())
        store.write_json(tmp / store.META, meta)
        store.write_json(tmp / store.FINAL, final)
        store.write_json(tmp / store.STATUS, status)
        os.rename(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dst, True
