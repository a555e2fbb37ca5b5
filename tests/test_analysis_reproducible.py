"""Reported numbers reproduce exactly and cannot silently disagree with their runs.

- a cell's Table 1 row is byte-identical whatever else the report covers, in another
  process, from another copy of the runs directory;
- a progress.csv edited after its run finished makes the report leave the run out and say why;
- the printed aggregate intervals do not depend on the resampling seed;
- the report records the digest of every file it read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import bootstrap, report, stats, synthetic, tables
from analysis.load import load_runs
from bench.config import load_config

ENVS = ["InvertedPendulum-v2", "MountainCarContinuous-v0", "Swimmer-v3"]
ALGOS = ["ars", "poligen"]
REPS, BAND_REPS = 3000, 200


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repro") / "runs"
    synthetic.write_benchmark(root, ENVS, ALGOS, 5, n_evals=12, final_window=4)
    synthetic.write_benchmark(root, ENVS[:1], ["udrl"], [0, 2, 5], n_evals=12, final_window=4)
    return root


def _build(runs: Path, out: Path, envs=None, **kw) -> report.Report:
    kw = {"reps": REPS, "band_reps": BAND_REPS, **kw}
    return report.build_report(runs, out, load_config(check_algorithms=False), envs, **kw)


def _rows(csv: Path) -> dict[tuple[str, str], str]:
    lines = csv.read_text().splitlines()
    return {tuple(line.split(",")[:2]): line for line in lines[1:]} | {("header", ""): lines[0]}


def _md_rows(md: Path) -> dict[tuple[str, str], str]:
    out = {}
    for line in md.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) > 2:
            out[(cells[0], cells[1])] = line
    return out


@pytest.fixture(scope="module")
def reports(runs, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("reports")
    _build(runs, out / "all")
    _build(runs, out / "one", envs=[ENVS[0]])
    _build(runs, out / "again")
    return {"all": out / "all", "one": out / "one", "again": out / "again"}


def test_table1_row_is_the_same_with_one_environment_or_all(reports):
    all_rows, one_rows = _rows(reports["all"] / "table1.csv"), _rows(reports["one"] / "table1.csv")
    assert set(one_rows) == {("header", ""), (ENVS[0], "ars"), (ENVS[0], "poligen"), (ENVS[0], "udrl")}
    for key, line in one_rows.items():
        assert all_rows[key] == line
    all_md, one_md = _md_rows(reports["all"] / "table1.md"), _md_rows(reports["one"] / "table1.md")
    for key, line in one_md.items():
        assert all_md[key] == line


def test_same_command_twice_gives_the_same_bytes(reports):
    for name in ("table1.md", "table1.csv", "table1.tex", "aggregates.csv", "probability_of_improvement.csv",
                 "curves.csv", "manifest.json", "inputs.sha256", "figures/figure2_curves.pdf",
                 "figures/figure2_curves.png"):
        assert (reports["all"] / name).read_bytes() == (reports["again"] / name).read_bytes(), name


def test_another_process_and_another_copy_give_the_same_bytes(runs, reports, tmp_path):
    """What a second machine changes (process, hash seed, numpy's global state, where the
    runs are) changes no number: the report from the CLI on a copy of the runs equals it."""
    copy = tmp_path / "elsewhere" / "runs"
    shutil.copytree(runs, copy)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-m", "bench.cli", "report", "--runs-dir", str(copy), "--out",
                          str(tmp_path / "rep"), "--reps", str(REPS), "--band-reps", str(BAND_REPS)],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    for name in ("table1.md", "table1.csv", "aggregates.csv", "curves.csv", "inputs.sha256"):
        assert (tmp_path / "rep" / name).read_bytes() == (reports["all"] / name).read_bytes(), name
    here = json.loads((reports["all"] / "manifest.json").read_text())
    there = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert here["inputs_sha256"] == there["inputs_sha256"] and here["outputs"] == there["outputs"]
    assert f"inputs sha256 {here['inputs_sha256']}" in out.stdout


def test_manifest_lists_every_file_read_with_its_digest(runs, reports):
    m = json.loads((reports["all"] / "manifest.json").read_text())
    on_disk = sorted(p.relative_to(runs).as_posix() for p in runs.rglob("*") if p.is_file())
    assert [f["path"] for f in m["files"]] == on_disk
    for f in m["files"]:
        data = (runs / f["path"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["bytes"] == len(data) and f["used"]
    assert m["bootstrap"]["reps"] == REPS and m["bootstrap"]["band_reps"] == BAND_REPS and m["bootstrap"]["seed"] == 0
    assert m["versions"]["bench"] and m["versions"]["numpy"] == np.__version__
    assert m["runs"] == {"used": 2 * 3 * 5 + 3, "left_out": 0}
    for name, digest in m["outputs"].items():
        assert hashlib.sha256((reports["all"] / name).read_bytes()).hexdigest() == digest
    listing = (reports["all"] / "inputs.sha256").read_text()
    assert hashlib.sha256(listing.encode()).hexdigest() == m["inputs_sha256"]
    assert listing.splitlines()[0] == f"{m['files'][0]['sha256']}  {m['files'][0]['path']}"
    page = (reports["all"] / "index.html").read_text()
    manifest_sha = hashlib.sha256((reports["all"] / "manifest.json").read_bytes()).hexdigest()
    assert m["inputs_sha256"] in page and manifest_sha in page and 'href="manifest.json"' in page


def test_edited_progress_csv_leaves_the_run_out_and_says_why(runs, tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    run = copy / ENVS[1] / "ars" / "seed_3"
    progress = pd.read_csv(run / "progress.csv")
    progress.loc[progress.index[-1], "eval_return_mean"] = -500.0  # edited after the run finished
    progress.to_csv(run / "progress.csv", index=False)
    rs = load_runs(copy)
    bad = rs.excluded.set_index(["env_id", "algo", "seed"]).loc[(ENVS[1], "ars", 3)]
    assert bad["state"] == "inconsistent"
    assert "final.json disagrees with progress.csv" in bad["reason"] and "final_return" in bad["reason"]
    assert 3 not in set(rs.finals.loc[(rs.finals["env_id"] == ENVS[1]) & (rs.finals["algo"] == "ars"), "seed"])
    rep = _build(copy, tmp_path / "out")
    assert rep.excluded == 1 and rep.runs == 2 * 3 * 5 + 3 - 1
    page = (tmp_path / "out" / "index.html").read_text()
    assert "inconsistent" in page and "final.json disagrees with progress.csv" in page
    assert pd.read_csv(tmp_path / "out" / "table1.csv").set_index(["env", "algo"]).loc[(ENVS[1], "ars"), "seeds"] == 4
    # the manifest still lists the edited file (read, not used), with the digest of its new bytes
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry = next(f for f in m["files"] if f["path"] == f"{ENVS[1]}/ars/seed_3/progress.csv")
    assert not entry["used"] and entry["sha256"] == hashlib.sha256((run / "progress.csv").read_bytes()).hexdigest()


def test_printed_aggregate_intervals_do_not_depend_on_the_resampling_seed(runs):
    """Two resampling seeds at the default resample count print the same aggregate intervals,
    and every bound moves by far less than its printed step."""
    cfg = load_config(check_algorithms=False)
    rs = load_runs(runs, algos=ALGOS)
    refs = {e: cfg.env(e).reference for e in rs.envs}
    scores, envs, _ = stats.normalized_scores(rs.finals, refs)
    assert envs == sorted(ENVS)
    printed, bounds, steps = [], [], []
    for seed in (0, 1):
        agg = stats.aggregate_metrics(scores, seed=seed)
        poi = stats.probability_of_improvement(scores, seed=seed)
        printed.append((tables.aggregates_display(agg).to_string(), tables.poi_display(poi).to_string()))
        both = pd.concat([agg[["lo", "hi", "se"]], poi[["lo", "hi", "se"]]], ignore_index=True)
        bounds.append(both[["lo", "hi"]].to_numpy())
        steps.append(np.array([tables.interval_unit(se, 0.001) for se in both["se"]]))
    assert printed[0] == printed[1]
    assert np.array_equal(steps[0], steps[1])
    # a bound moves by a few percent of its printed step at most, or (few seeds: a discrete
    # bootstrap distribution) by one atom, which is smaller than a step
    assert np.all(np.abs(bounds[0] - bounds[1]) < 0.25 * steps[0][:, None])
    assert bootstrap.REPS >= 50_000


def test_interval_rounding():
    # steps of 1, 2 or 5 x 10^k, at most 1.96 standard errors (half the interval)
    assert tables.fmt_interval(2313.4, 2408.2, 24.2, 1) == "[2320, 2400]"  # 47.4: steps of 20
    assert tables.fmt_interval(2448.0, 2550.0, 26.0, 1) == "[2450, 2550]"  # 51.0: steps of 50
    assert tables.fmt_interval(0.808175, 0.826333, 0.0046, 0.001) == "[0.810, 0.825]"
    assert tables.fmt_interval(93.61, 94.02, 0.1, 0.1) == "[93.6, 94.0]"  # never finer than the mean
    assert tables.fmt_interval(1000.0, 1000.0, 0.0, 1) == "[1000, 1000]"
    assert tables.fmt_interval(-0.004, 0.0, 0.001, 0.001) == "[-0.004, 0.000]"
    assert tables.fmt_interval(float("nan"), 1.0, float("nan"), 1) == "[–, –]"
