"""scripts/budget_match.py: a cell's final return as if its runs had stopped earlier, against the paper."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT


def fake_cell(root, returns_at: list[float]):
    """10 complete ARS runs on InvertedPendulum-v2 (budget 100k, window 20), one evaluation per 1k steps."""
    for seed in range(10):
        run = root / "InvertedPendulum-v2" / "ars" / f"seed_{seed}"
        run.mkdir(parents=True)
        lines = ["eval_step,eval_return_mean,train_last_return"]
        for i in range(101):
            ret = returns_at[min(i // 10, len(returns_at) - 1)] + seed  # a spread of 3.0 over seeds
            lines.append(f"{i * 1000},{ret},{ret / 2}")
        (run / "progress.csv").write_text("\n".join(lines) + "\n")
        (run / "final.json").write_text("{}")


def match(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "scripts" / "budget_match.py"), *args],
                          capture_output=True, text=True, cwd=PROJECT, timeout=120)


def test_the_window_ends_at_each_fraction_of_the_budget(tmp_path):
    # 100 until 20k steps, 931.5 (+ seed) from 20k on: the paper's 936 is matched from 40k on
    fake_cell(tmp_path, [100, 100, 931.5])
    out = match(str(tmp_path), "InvertedPendulum-v2", "ars")
    assert out.returncode == 0, out.stderr
    rows = {line.split("|")[1].strip(): line for line in out.stdout.splitlines() if line.startswith("| 0.") or
            line.startswith("| 1 ")}
    assert "| 104.5 ± 3 |" in rows["0.1"]             # 10k steps: the window holds only the early returns
    assert "| 0.4 | 40,000 | 936 ± 3 | 0.00 | 1.000 |" in rows["0.4"]
    assert "| 936 ± 3 |" in rows["1"]
    halved = match(str(tmp_path), "InvertedPendulum-v2", "ars", "--column", "train_last_return")
    assert "| 468 ± 1.5 |" in halved.stdout


def test_bad_input_is_one_error_line(tmp_path):
    out = match(str(tmp_path), "InvertedPendulum-v2", "ars")
    assert out.returncode == 2 and out.stderr.startswith("error: fewer than 2 complete runs")
    out = match(str(tmp_path), "InvertedPendulum-v2", "gpim")
    assert out.returncode == 2 and "no paper value for gpim" in out.stderr
    fake_cell(tmp_path, [1.0])
    out = match(str(tmp_path), "InvertedPendulum-v2", "ars", "--column", "nope")
    assert out.returncode == 2 and out.stderr.strip() == "error: progress.csv has no column 'nope'"
