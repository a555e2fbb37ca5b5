"""scripts/filler_queue.sh: which run the tail of a session goes to (PoliGen Hopper first, then ablations,
cheapest setting first)."""

from __future__ import annotations

import os
import subprocess

from conftest import PROJECT


def filler(tmp_path) -> str:
    """Run the filler with a fake `bench` that records its arguments; return them ('' if none ran)."""
    root = tmp_path / "root"
    (root / ".venv" / "bin").mkdir(parents=True, exist_ok=True)
    fake = root / ".venv" / "bin" / "bench"
    fake.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/called"\n')
    fake.chmod(0o755)
    (tmp_path / "called").unlink(missing_ok=True)
    env = {**os.environ, "BENCH_ROOT": str(root), "PAPER_RUNS": str(tmp_path / "paper"),
           "ABLATION_RUNS": str(tmp_path / "ablation")}
    out = subprocess.run(["bash", str(PROJECT / "scripts" / "filler_queue.sh")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    called = tmp_path / "called"
    return called.read_text() if called.exists() else ""


def done(run, budget: int) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / "final.json").write_text("{}")
    (run / "status.json").write_text(f'{{"state": "done", "budget": {budget}, "env_steps": {budget}}}')


def started(run, budget: int, steps: int) -> None:
    run.mkdir(parents=True)
    (run / "status.json").write_text(f'{{"budget": {budget}, "env_steps": {steps}, "state": "interrupted"}}')


def test_poligen_hopper_seeds_first_then_ablations_cheapest_first(tmp_path):
    assert "--algo poligen --env Hopper-v3 --seeds 2" in filler(tmp_path)  # seed 1 missing
    done(tmp_path / "paper" / "Hopper-v3" / "poligen" / "seed_1", 3_000_000)
    assert "--algo poligen --env Hopper-v3 --seeds 3" in filler(tmp_path)  # then seed 2
    done(tmp_path / "paper" / "Hopper-v3" / "poligen" / "seed_2", 3_000_000)
    called = filler(tmp_path)  # Table 1's seeds complete: the first Hopper ablation run
    assert "--algo poligen --env Hopper-v3 --seed-list 0 --budget 200000" in called
    done(tmp_path / "ablation" / "Hopper-v3" / "poligen" / "seed_0", 50_000)  # another budget: not done
    assert "--algo poligen --env Hopper-v3 --seed-list 0 --budget 200000" in filler(tmp_path)
    (tmp_path / "ablation" / "Hopper-v3" / "poligen" / "seed_0" / "status.json").write_text(
        '{"state": "done", "budget": 200000, "env_steps": 200000}')
    assert "--algo poligen --env Hopper-v3 --seed-list 1 " in filler(tmp_path)  # the cheap settings first
    for seed in range(1, 5):
        done(tmp_path / "ablation" / "Hopper-v3" / "poligen" / f"seed_{seed}", 200_000)
    assert "--algo poligen_drive0 --env Hopper-v3 --seed-list 0 " in filler(tmp_path)
    # cheapest setting first: a dearer setting's run under way waits; within a setting it resumes first
    started(tmp_path / "ablation" / "Hopper-v3" / "poligen_noscale" / "seed_0", 200_000, 7_003)
    assert "--algo poligen_drive0 --env Hopper-v3 --seed-list 0 " in filler(tmp_path)
    started(tmp_path / "ablation" / "Hopper-v3" / "poligen_drive0" / "seed_3", 200_000, 1_000)
    assert "--algo poligen_drive0 --env Hopper-v3 --seed-list 3 " in filler(tmp_path)
    (tmp_path / "ablation" / "Hopper-v3" / "poligen_drive0" / "seed_3" / "status.json").write_text(
        '{"budget": 50000, "env_steps": 1000, "state": "interrupted"}')  # another budget: not under way
    assert "--algo poligen_drive0 --env Hopper-v3 --seed-list 0 " in filler(tmp_path)
    for seed in range(5):
        done(tmp_path / "ablation" / "Hopper-v3" / "poligen_drive0" / f"seed_{seed}", 200_000)
    started(tmp_path / "ablation" / "Hopper-v3" / "poligen_noweight" / "seed_2", 200_000, 29_004)
    assert "--algo poligen_noweight --env Hopper-v3 --seed-list 2 " in filler(tmp_path)
    for seed in range(5):
        done(tmp_path / "ablation" / "Hopper-v3" / "poligen_noweight" / f"seed_{seed}", 200_000)
    assert "--algo poligen_noscale --env Hopper-v3 --seed-list 0 " in filler(tmp_path)  # then the dearer one
    for seed in range(5):
        for algo in ("poligen", "poligen_noweight", "poligen_noscale", "poligen_noweight_noscale", "poligen_drive0"):
            done(tmp_path / "ablation" / "Hopper-v3" / algo / f"seed_{seed}", 200_000)
    assert filler(tmp_path) == ""  # nothing left
