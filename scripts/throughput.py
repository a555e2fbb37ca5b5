"""Throughput benchmark: training env-steps/s of algorithms against the raw simulator.

For one environment it measures, in the same process and run:

- raw ``env.step`` rate with pre-drawn uniform random actions (the simulator's ceiling);
- each requested algorithm's training rate: ``learn()`` for a fixed number of env steps
  through the same interface the runner uses (evaluation not included);

and prints env-steps/s and the ratio to raw. Usage::

    python scripts/throughput.py --env Swimmer-v3 --algos ars --steps 50000
"""

from __future__ import annotations

import argparse
import time

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)
import gymnasium as gym
import torch

from algorithms import get_algorithm
from bench.config import build_algo_config, load_config
from bench.runner import env_info_for, env_settings
from envs import make_env


def _timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) taken by ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def raw_rate(env_id: str, steps: int, seed: int = 0) -> tuple[float, float]:
    """env.step calls per second (wall, CPU) with pre-drawn random actions, resetting at episode ends."""
    env = make_env(env_id)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)

    def loop() -> None:
        for a in actions:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()

    wall, cpu = _timed(loop)
    return steps / wall, steps / cpu


class _StepClock(gym.Wrapper):
    """Accumulates the CPU time spent inside ``env.step`` (the simulator's share)."""

    total = 0.0

    def step(self, action):
        start = time.process_time()
        out = self.env.step(action)
        _StepClock.total += time.process_time() - start
        return out


def algo_rate(algo: str, env_id: str, steps: int, seed: int = 0,
              clock: bool = False) -> tuple[float, float, int]:
    """Training env-steps per second (wall, CPU) of ``algo`` (construction excluded).

    With ``clock``, training envs are wrapped to measure the CPU time spent in env.step.
    """
    config = load_config(check_algorithms=False)
    settings = env_settings(config, env_id)
    cls = get_algorithm(algo)
    algo_cfg = build_algo_config(cls.Config, config.hyperparameters(algo, env_id))

    def factory(*, remove_survival_bonus: bool = False):
        env = make_env(env_id, survival_bonus=settings.survival_bonus, remove_survival_bonus=remove_survival_bonus)
        return _StepClock(env) if clock else env

    probe = make_env(env_id)
    agent = cls(factory, seed, algo_cfg, env_info_for(env_id, settings, probe))
    wall, cpu = _timed(lambda: agent.learn(steps))
    return agent.env_steps / wall, agent.env_steps / cpu, agent.env_steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Swimmer-v3")
    parser.add_argument("--algos", default="ars", help="comma-separated algorithm names")
    parser.add_argument("--steps", type=int, default=50_000, help="training env steps per algorithm")
    parser.add_argument("--raw-steps", type=int, default=50_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    raw, raw_cpu = raw_rate(args.env, args.raw_steps)
    print(f"{args.env}: raw env.step (pre-drawn random actions): {raw:,.0f} steps/s wall, {raw_cpu:,.0f} per CPU-s")
    for algo in args.algos.split(","):
        rate, rate_cpu, n = algo_rate(algo, args.env, args.steps)
        print(f"{args.env}: {algo:<8} training: {rate:,.0f} env-steps/s wall = {rate / raw:.2f}x raw; "
              f"{rate_cpu:,.0f} per CPU-s = {rate_cpu / raw_cpu:.2f}x raw; over {n:,} steps "
              f"(3M steps: {3e6 / rate / 3600:.2f} h wall)")
        _StepClock.total = 0.0
        cpu_start = time.process_time()
        _, _, n2 = algo_rate(algo, args.env, args.steps, clock=True)
        total = time.process_time() - cpu_start
        sim = _StepClock.total
        print(f"{args.env}: {algo:<8} second run with env.step timed: {100 * sim / total:.0f}% of CPU in env.step "
              f"({1e6 * sim / n2:.1f} us/step with the algorithm's own actions vs {1e6 / raw_cpu:.1f} with random "
              f"ones), {1e6 * (total - sim) / n2:.1f} us/step elsewhere (policy, updates, bookkeeping)")
    raw2, raw2_cpu = raw_rate(args.env, args.raw_steps)
    print(f"{args.env}: raw env.step again: {raw2:,.0f} steps/s wall, {raw2_cpu:,.0f} per CPU-s "
          f"(spread {abs(raw2 - raw) / raw:.0%} wall, {abs(raw2_cpu - raw_cpu) / raw_cpu:.0%} CPU)")


if __name__ == "__main__":
    main()
