"""scripts/tune_metric_ranking.py: a tune grid ranked by the mean policy and by the training rollouts."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT


def fake_run(env_dir, config: str, seed: int, evals: list[float], train: list[float], done: bool = True):
    run = env_dir / f"ars~{config}" / f"seed_{seed}"
    run.mkdir(parents=True)
    lines = ["eval_index,eval_return_mean,train_last_return"]
    lines += [f"{i},{e},{t}" for i, (e, t) in enumerate(zip(evals, train))]
    (run / "progress.csv").write_text("\n".join(lines) + "\n")
    if done:
        (run / "final.json").write_text("{}")


def rank(env_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "scripts" / "tune_metric_ranking.py"), str(env_dir),
                           "--algo", "ars", "--window", "2", "--reps", "50", *args],
                          capture_output=True, text=True, cwd=PROJECT, timeout=120)


def test_the_two_metrics_rank_differently_and_ties_go_to_the_faster_learner(tmp_path):
    env = tmp_path / "InvertedPendulum-v2"
    for seed in range(3):
        # both end at the ceiling; "fast" gets there sooner, "calm" explores with better policies
        fake_run(env, "step_size=0.01", seed, [500, 1000, 1000, 1000], [100, 300, 300, 300])
        fake_run(env, "step_size=0.001", seed, [10, 20, 1000, 1000], [100, 600, 800, 800 + 2 * seed])
        fake_run(env, "step_size=0.0001", seed, [10, 10, 10, 10], [10, 10, 10, 10])
    fake_run(env, "step_size=0.1", 0, [1000] * 4, [1000] * 4, done=False)  # unfinished: ignored

    out = rank(env, "--show", "step_size=0.0001", "--top", "1")
    assert out.returncode == 0, out.stderr
    final, train = out.stdout.split("## ranked by training return")
    assert "| 1 | step_size=0.01 | 1000 ± 0 | 1.00 |" in final
    assert "| 3 | step_size=0.0001 | 10 ± 0 | 0.00 |" in final
    assert "| 1 | step_size=0.001 | 801 ± 1 | 1.00 |" in train
    assert "step_size=0.1" not in out.stdout


def test_an_unknown_configuration_or_an_empty_grid_is_one_error_line(tmp_path):
    env = tmp_path / "InvertedPendulum-v2"
    out = rank(env)
    assert out.returncode != 0 and out.stderr.strip().startswith("error: no complete ars tune runs")
    fake_run(env, "step_size=0.01", 0, [1, 2], [1, 2])
    out = rank(env, "--show", "step_size=9")
    assert out.returncode == 2 and out.stderr.strip() == "error: not in the grid: step_size=9"
