"""Training throughput of DDPG and UDRL (env-steps/s), with the time split between
environment interaction (simulation + action selection + buffer writes) and updates.

    python scripts/bench_ddpg_udrl_speed.py --env Swimmer-v3 --steps 20000

Runs single-threaded (torch.set_num_threads(1)) with the hyperparameters of benchmark.toml.
DDPG's steady-state rate (after its 1000 no-learning steps) is also extrapolated from the
measured per-step and per-gradient-step costs, so a short run suffices.
"""

from __future__ import annotations

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import json
import time

import torch

from algorithms import get_algorithm
from bench.config import build_algo_config, load_config
from bench.runner import env_info_for, env_settings
from envs import make_env


def build(algo: str, env_id: str, seed: int = 0):
    config = load_config()
    settings = env_settings(config, env_id)
    cls = get_algorithm(algo)
    cfg = build_algo_config(cls.Config, config.hyperparameters(algo, env_id))
    info = env_info_for(env_id, settings, make_env(env_id))
    return cls(lambda **kw: make_env(env_id, survival_bonus=settings.survival_bonus, **kw), seed, cfg, info)


def measure_ddpg(env_id: str, steps: int) -> dict:
    algo = build("ddpg", env_id)
    t0 = time.perf_counter()
    algo.learn(steps)
    wall = time.perf_counter() - t0
    cfg = algo.config
    grad_steps = algo.model._n_updates
    sim_per_step = algo._time_sim / steps
    train_per_grad = algo._time_train / max(grad_steps, 1)
    steady = 1.0 / (sim_per_step + train_per_grad * cfg.gradient_steps / cfg.train_freq)
    return {
        "algo": "ddpg", "env": env_id, "env_steps": algo.env_steps, "wall_s": round(wall, 2),
        "env_steps_per_s": round(algo.env_steps / wall, 1),
        "time_interaction_s": round(algo._time_sim, 2), "time_updates_s": round(algo._time_train, 2),
        "gradient_steps": grad_steps,
        "us_per_env_step": round(1e6 * sim_per_step, 1), "ms_per_gradient_step": round(1e3 * train_per_grad, 3),
        "steady_state_env_steps_per_s": round(steady, 1),
        "steady_state_update_share": round(train_per_grad / (sim_per_step + train_per_grad), 3),
    }


def measure_udrl(env_id: str, steps: int) -> dict:
    algo = build("udrl", env_id)
    timing = {"train": 0.0}
    train = algo._train

    def timed_train():
        t = time.perf_counter()
        train()
        timing["train"] += time.perf_counter() - t

    algo._train = timed_train
    t0 = time.perf_counter()
    algo.learn(steps)
    wall = time.perf_counter() - t0
    return {
        "algo": "udrl", "env": env_id, "env_steps": algo.env_steps, "wall_s": round(wall, 2),
        "env_steps_per_s": round(algo.env_steps / wall, 1), "episodes": algo.episodes_done,
        "time_updates_s": round(timing["train"], 2), "time_interaction_s": round(wall - timing["train"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Swimmer-v3")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--ddpg-steps", type=int, default=None, help="DDPG steps (default: --steps)")
    parser.add_argument("--algos", default="ddpg,udrl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.algos.split(","):
        if name == "ddpg":
            print(json.dumps(measure_ddpg(args.env, args.ddpg_steps or args.steps)), flush=True)
        elif name == "udrl":
            print(json.dumps(measure_udrl(args.env, args.steps)), flush=True)


if __name__ == "__main__":
    main()
