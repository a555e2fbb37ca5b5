"""bench check: the statistical regression rule, baseline update, and a weakened
configuration that fails while the normal one passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis import check, synthetic
from bench.config import load_config
from bench.errors import BenchError

IP = "InvertedPendulum-v2"
SMOKE = f"""
seeds = [0, 1, 2, 3]
tolerance = 0.05
[env."{IP}"]
eval_interval = 1000
final_window = 5
[[cell]]
algo = "ars"
env = "{IP}"
budget = 11000
[[cell]]
algo = "poligen"
env = "{IP}"
budget = 11000
[[cell]]
algo = "not_an_algo"
env = "{IP}"
budget = 1000
"""


@pytest.fixture
def setup(tmp_path: Path):
    smoke = tmp_path / "smoke.toml"
    smoke.write_text(SMOKE)
    return tmp_path / "runs", smoke, tmp_path / "baseline.json"


def write_runs(runs: Path, skill: dict[str, float], seeds=range(4), failed: tuple = ()) -> None:
    shutil.rmtree(runs / check.CHECK_SUBDIR, ignore_errors=True)
    for algo, sk in skill.items():
        for s in seeds:
            synthetic.write_run(runs / check.CHECK_SUBDIR / IP / algo / f"seed_{s}", IP, algo, s + 100 * sk,
                                n_evals=12, final_window=5, skill=sk,
                                state="failed" if (algo, s) in failed else "done")
            cfg_path = runs / check.CHECK_SUBDIR / IP / algo / f"seed_{s}" / "config.json"
            cfg = json.loads(cfg_path.read_text())
            cfg["seed"] = s
            cfg_path.write_text(json.dumps(cfg))


def run_check(setup, capsys, **kw) -> tuple[int, str]:
    runs, smoke, baseline = setup
    rc = check.main(runs, load_config(), smoke_path=smoke, baseline_path=baseline, train=False, **kw)
    return rc, capsys.readouterr().out


def test_normal_passes_weakened_fails(setup, capsys):
    runs, _, baseline = setup
    write_runs(runs, {"ars": 0.85, "poligen": 0.9})
    rc, out = run_check(setup, capsys, update=True)
    assert rc == 0 and "added" in out and baseline.exists()
    assert "skipped" in out and "not_an_algo" in out  # unregistered algorithm: a message, no failure
    data = json.loads(baseline.read_text())
    assert set(data["cells"]) == {f"{IP}/ars", f"{IP}/poligen"}
    lo, hi = data["cells"][f"{IP}/ars"]["ci"]
    assert lo <= data["cells"][f"{IP}/ars"]["mean"] <= hi

    rc, out = run_check(setup, capsys)  # the same runs pass
    assert rc == 0 and "passed" in out

    write_runs(runs, {"ars": 0.84, "poligen": 0.88})  # other noise, same skill: still passes
    rc, out = run_check(setup, capsys)
    assert rc == 0, out

    write_runs(runs, {"ars": 0.3, "poligen": 0.9})  # weakened ARS
    rc, out = run_check(setup, capsys)
    assert rc == 1 and "FAILED" in out
    line = next(l for l in out.splitlines() if l.startswith(f"{IP}/ars"))
    assert "regressed" in line
    assert "pass" in next(l for l in out.splitlines() if l.startswith(f"{IP}/poligen"))


def test_failed_run_fails(setup, capsys):
    runs, _, _ = setup
    write_runs(runs, {"ars": 0.85, "poligen": 0.9})
    assert run_check(setup, capsys, update=True)[0] == 0
    write_runs(runs, {"ars": 0.85, "poligen": 0.9}, failed=(("poligen", 2),))
    rc, out = run_check(setup, capsys)
    assert rc == 1 and "seed 2: failed" in out
    # and no baseline is written from failed runs
    rc, out = run_check(setup, capsys, update=True)
    assert rc == 1 and "refusing" in out


def test_missing_baseline_and_protocol_change_fail(setup, capsys):
    runs, smoke, baseline = setup
    write_runs(runs, {"ars": 0.85, "poligen": 0.9})
    rc, out = run_check(setup, capsys)
    assert rc == 1 and "no baseline" in out
    assert run_check(setup, capsys, update=True)[0] == 0
    smoke.write_text(SMOKE.replace("final_window = 5", "final_window = 4"))
    rc, out = run_check(setup, capsys)
    assert rc == 1 and "protocol changed" in out and "final_window" in out


NAV = "Nav2D-v0"
GOAL_SMOKE = f"""
seeds = [0, 1, 2, 3]
tolerance = 0.2
[env."{NAV}"]
eval_interval = 1000
final_window = 3
[[cell]]
algo = "her"
env = "{NAV}"
budget = 11000
metric = "success_rate"
"""


def test_success_rate_cells_are_gated_on_success(tmp_path, capsys):
    runs, smoke, baseline = tmp_path / "runs", tmp_path / "smoke.toml", tmp_path / "baseline.json"
    smoke.write_text(GOAL_SMOKE)

    def write(skill: float, goal: bool = True) -> None:
        shutil.rmtree(runs / check.CHECK_SUBDIR, ignore_errors=True)
        for s in range(4):
            d = runs / check.CHECK_SUBDIR / NAV / "her" / f"seed_{s}"
            # the same return curve whatever the success rate: only success may decide
            synthetic.write_run(d, NAV, "her", 7, n_evals=12, final_window=3, skill=skill, goal=goal)
            cfg = json.loads((d / "config.json").read_text())
            cfg["seed"] = s
            (d / "config.json").write_text(json.dumps(cfg))

    def run(**kw):
        rc = check.main(runs, load_config(), smoke_path=smoke, baseline_path=baseline, train=False, **kw)
        return rc, capsys.readouterr().out

    write(0.95)
    assert run(update=True)[0] == 0
    cell = json.loads(baseline.read_text())["cells"][f"{NAV}/her"]
    assert cell["metric"] == "success_rate" and 0.9 <= cell["mean"] <= 1.0 and cell["random_return"] == 0.0
    rc, out = run()
    assert rc == 0 and "success" in out
    write(0.4)
    rc, out = run()
    assert rc == 1 and "regressed" in out
    write(0.95, goal=False)  # runs without a success rate cannot pass a success gate
    rc, out = run()
    assert rc == 1 and "no success_rate" in out
    smoke.write_text(GOAL_SMOKE.replace('metric = "success_rate"', 'metric = "final_return"'))
    write(0.95)
    rc, out = run()
    assert rc == 1 and "metric changed" in out
    smoke.write_text(GOAL_SMOKE.replace('"success_rate"', '"accuracy"'))
    with pytest.raises(BenchError, match="metric"):
        check.load_smoke(smoke)


def test_rule_thresholds():
    base = {"cells": {"E/a": {"mean": 100.0, "ci": [90.0, 110.0], "scale": 200.0, "protocol": {}, "algo": "a",
                              "hyperparameters": {"x": 1}},
                      "E/gone": {"mean": 1.0, "ci": [0.0, 2.0], "scale": 1.0, "algo": "gone"}}}

    def cur(mean):
        return {"E/a": {"final_returns": [mean] * 3, "problems": [], "mean": mean, "protocol": {},
                        "hyperparameters": {"x": 1}}}

    # threshold = 90 - 0.05 * 200 = 80
    assert check.compare(base, cur(80.5), 0.05, {"gone"}).set_index("cell").loc["E/a", "ok"]
    t = check.compare(base, cur(79.5), 0.05, {"gone"}).set_index("cell")
    assert not t.loc["E/a", "ok"] and t.loc["E/a", "threshold"] == 80.0
    assert t.loc["E/gone", "ok"] and "not registered" in t.loc["E/gone", "verdict"]
    assert "improved" in check.compare(base, cur(125.0), 0.05).iloc[0]["verdict"]
    live = cur(1.0)
    live["E/a"]["rule"] = "completes"
    assert check.compare(base, live, 0.05).iloc[0]["ok"]
    live["E/a"]["problems"] = ["seed 1: failed"]
    assert not check.compare(base, live, 0.05).iloc[0]["ok"]
    text = check.format_table(t.reset_index())
    assert "FAIL" in text and "threshold" in text


def test_bad_files_are_one_line_errors(setup, tmp_path):
    runs, smoke, baseline = setup
    baseline.write_text("{broken")
    with pytest.raises(BenchError, match="not a valid baseline"):
        check.read_baseline(baseline)
    smoke.write_text(SMOKE + "\n[[cell]]\nalgo = 'ars'\nenv = 'X'\nbudget = -1\n")
    with pytest.raises(BenchError, match="budget"):
        check.load_smoke(smoke)


def test_project_smoke_definition_is_valid():
    smoke = check.load_smoke()
    cells, skipped = check.registered_cells(smoke)
    assert cells and {c.algo for c in smoke.cells} >= {"ars", "ddpg"}
    # every algorithm of the paper's table is gated on learning, not just on completing
    assert {c.algo for c in smoke.cells if c.rule == "returns"} >= {"ars", "ddpg", "poligen", "udrl", "her"}
    check.smoke_config(load_config(), smoke, cells)  # hyperparameter overrides validate
    base = check.read_baseline(check.BASELINE_PATH)
    if base is not None:
        assert set(base["cells"]) <= {c.key for c in smoke.cells}


REAL_SMOKE = f"""
seeds = [0, 1]
tolerance = 0.2
[env."{IP}"]
eval_interval = 1000
eval_episodes = 3
final_window = 2
[[cell]]
algo = "ars"
env = "{IP}"
budget = 3000
"""


def test_real_training_weakened_ars_fails(tmp_path, capsys):
    """End to end through the runner: ARS trained for 3k steps passes against its own
    baseline; the same cell with step_size = 0 (no learning) fails the check."""
    smoke, baseline, runs = tmp_path / "smoke.toml", tmp_path / "baseline.json", tmp_path / "runs"
    smoke.write_text(REAL_SMOKE)
    cfg = load_config()
    kw = dict(smoke_path=smoke, baseline_path=baseline, workers=1)
    assert check.main(runs, cfg, update=True, **kw) == 0
    assert check.main(runs, cfg, **kw) == 0
    out = capsys.readouterr().out
    assert "passed" in out
    smoke.write_text(REAL_SMOKE + "hyperparameters = { step_size = 0.0 }\n")
    assert check.main(runs, cfg, **kw) == 1
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith(f"{IP}/ars"))
    assert "regressed" in line and "step_size" in line


@pytest.mark.slow
@pytest.mark.parametrize("algo, broken", [("poligen", {"lr_generator": 1e-12, "lr_evaluator": 1e-12}),
                                          ("udrl", {"learning_rate": 1e-9})])
def test_committed_gate_fails_when_learning_is_broken(tmp_path, capsys, algo, broken):
    """The project's smoke cell of PoliGen / UDRL with its learning switched off fails against
    the committed baseline (one seed of the cell, to keep the test affordable)."""
    smoke = check.load_smoke()
    cell = next(c for c in smoke.cells if c.algo == algo)
    proto = "\n".join(f"{k} = {v}" for k, v in smoke.env_protocol[cell.env_id].items())
    hp = ", ".join(f"{k} = {v!r}" for k, v in {**cell.hyperparameters, **broken}.items())
    path = tmp_path / "smoke.toml"
    path.write_text(f'seeds = [{cell.seeds[0]}]\ntolerance = {smoke.tolerance}\n[env."{cell.env_id}"]\n{proto}\n'
                    f'[[cell]]\nalgo = "{algo}"\nenv = "{cell.env_id}"\nbudget = {cell.budget}\n'
                    f'hyperparameters = {{ {hp} }}\n')
    assert check.main(tmp_path / "runs", load_config(), smoke_path=path, baseline_path=check.BASELINE_PATH,
                      workers=1) == 1
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith(cell.key))
    assert "regressed" in line
