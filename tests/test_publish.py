"""scripts/publish_runs.py: what is published from a runs directory, and what is not."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PROJECT, run_cli

IP = "InvertedPendulum-v2"


def publish(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "scripts" / "publish_runs.py"), *args],
                          capture_output=True, text=True, cwd=PROJECT, timeout=300)


def test_publishes_small_files_of_complete_runs_filtered_and_by_todays_code(tmp_path):
    runs, dest = tmp_path / "runs", tmp_path / "published"
    out = run_cli("run", "--algo", "ars", "--env", IP, "--seed-list", "0,1", "--budget", "1000", "--runs-dir",
                  str(runs), "--no-progress", "--workers", "1")
    assert out.returncode == 0, out.stderr

    assert publish(str(runs), str(dest), "--algo", "udrl").stdout == ""  # filtered out: nothing
    assert not dest.exists()

    # seed 1 looks as if an older version of the code had made it
    meta_file = runs / IP / "ars" / "seed_1" / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["code"]["hash"] = "0" * 64
    meta.pop("code_history", None)
    meta_file.write_text(json.dumps(meta))

    out = publish(str(runs), str(dest), "--env", IP, "--algo", "ars", "--current-code")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(dest / IP / "ars" / "seed_0")]
    names = {p.name for p in (dest / IP / "ars" / "seed_0").iterdir()}
    assert {"config.json", "meta.json", "progress.csv", "final.json", "status.json"} <= names
    assert not names & {"checkpoint.pt", "model.pt", "lease.json"}

    out = publish(str(runs), str(dest))  # without --current-code the older run is published too
    assert out.stdout.split() == [str(dest / IP / "ars" / "seed_1")]
    assert publish(str(runs), str(dest)).stdout == ""  # identical files: nothing rewritten


def test_tune_configurations_are_checked_against_todays_code_of_their_base(tmp_path):
    """A `bench tune` configuration is no name of benchmark.toml: its code is its base's,
    read from the run's config.json (publish --current-code and bench status both)."""
    runs, dest = tmp_path / "runs", tmp_path / "published"
    out = run_cli("tune", "--algo", "ars", "--env", IP, "--grid", "step_size=0.01,0.001", "--seeds", "1",
                  "--budget", "1000", "--runs-dir", str(runs), "--no-progress", "--workers", "1")
    assert out.returncode == 0, out.stderr
    made = sorted((runs / IP).glob("ars~*/seed_0"))
    assert len(made) == 2
    meta_file = made[1] / "meta.json"  # as if older code had made this configuration
    meta = json.loads(meta_file.read_text())
    meta["code"]["hash"] = "0" * 64
    meta.pop("code_history", None)
    meta_file.write_text(json.dumps(meta))

    out = publish(str(runs), str(dest), "--current-code")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    ranking = dest / "_tune" / IP / "ars"  # the tune's ranking and best TOML travel with its runs
    assert out.stdout.split() == [str(dest / made[0].relative_to(runs)), str(ranking)]
    assert {p.name for p in ranking.iterdir()} == {"ranking.csv", "ranking.md", "best.toml"}
    assert (ranking / "best.toml").read_text() == (runs / "_tune" / IP / "ars" / "best.toml").read_text()
    assert publish(str(runs), str(dest), "--current-code").stdout == ""  # nothing changed: nothing written
    assert publish(str(runs), str(tmp_path / "other"), "--algo", "udrl").stdout == ""  # another base: filtered

    status = run_cli("status", "--runs-dir", str(runs))
    assert status.returncode == 0, status.stderr
    flagged = [line for line in status.stdout.splitlines()
               if line.startswith(IP) and "other code than this checkout's" in line]
    assert len(flagged) == 1 and made[1].parent.name in flagged[0], status.stdout
    assert "1 runs were made by other code" in status.stdout, status.stdout


def test_unfinished_runs_are_published_only_when_asked(tmp_path):
    """--unfinished (snapshots for results/evidence) copies the runs in progress only; the default
    the complete ones only."""
    runs, dest = tmp_path / "runs", tmp_path / "published"
    out = run_cli("run", "--algo", "ars", "--env", IP, "--seed-list", "0,1", "--budget", "1000", "--runs-dir",
                  str(runs), "--no-progress", "--workers", "1")
    assert out.returncode == 0, out.stderr
    run = runs / IP / "ars" / "seed_0"  # seed 1 stays complete: the default publishes it, --unfinished not
    (run / "final.json").unlink()  # as if it were still training
    status = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**status, "state": "interrupted"}))

    out = publish(str(runs), str(dest / "complete"), "--current-code")
    assert out.stdout.split() == [str(dest / "complete" / IP / "ars" / "seed_1")]
    out = publish(str(runs), str(dest), "--current-code", "--unfinished")
    assert out.returncode == 0, out.stderr
    target = dest / IP / "ars" / "seed_0"
    assert out.stdout.split() == [str(target)]
    assert (target / "progress.csv").read_bytes() == (run / "progress.csv").read_bytes()
    assert not (target / "final.json").exists() and not (target / "checkpoint.pt").exists()
