"""What ARS's training rollouts score, against its mean policy: evidence for results/paper/NOTES.md.

For complete ARS runs (with model.pt): the deterministic mean policy's return (the
benchmark's evaluation, 10 episodes), and the returns of the perturbed policies
``theta +- noise * delta`` that ARS itself runs while training (``--iterations`` batches of
the run's ``n_directions`` antithetic pairs), on the unmodified reward and, where the run
trains with ``remove_survival_bonus``, on the reward ARS trains on.

    python scripts/ars_perturbed_returns.py ~/paper-runs/Hopper-v3/ars/seed_0 [--iterations 4]
"""
from __future__ import annotations

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import json
import sys

import numpy as np

from bench.errors import BenchError
from bench.evaluation import evaluate
from bench.trained import load_trained
from envs import make_env


def perturbed(run_dir: str, iterations: int) -> dict:
    algo, make = load_trained(run_dir)
    env_id, cfg = algo.env_info.env_id, algo.config
    n = cfg.n_directions
    mean = evaluate(algo.policy(), [make() for _ in range(10)], algo.seed, 10_000)["eval_return_mean"]
    rng = np.random.default_rng(12345)
    out = {"run": run_dir, "mean_policy": round(mean, 1)}
    for name, remove in (("perturbed_true_reward", False), ("perturbed_training_reward", True)):
        if remove and not cfg.remove_survival_bonus:
            continue
        envs = algo.envs if remove else [make_env(env_id) for _ in range(2 * n)]  # algo.envs: its training envs
        returns, lengths = [], []
        for _ in range(iterations):
            deltas = rng.standard_normal((n, algo.layout.n_params), dtype=np.float32)
            r, steps, _ = algo._rollouts(deltas, envs, [int(s) for s in rng.integers(0, 2**31 - 1, 2 * n)])
            returns.extend(r), lengths.extend(steps)
        out[name] = round(float(np.mean(returns)), 1)
        out[name.replace("reward", "length")] = round(float(np.mean(lengths)), 1)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", help="complete ARS run directories (with model.pt)")
    p.add_argument("--iterations", type=int, default=4)
    args = p.parse_args()
    try:
        for d in args.runs:
            print(json.dumps(perturbed(d, args.iterations)))
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
