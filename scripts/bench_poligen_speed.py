"""PoliGen training speed on one core, against the raw simulator (and ARS, optionally).

Measured in one process, wall clock *and* process CPU time (the CPU time is the number
to trust on a shared machine):

- raw ``env.step`` with pre-drawn random actions;
- PoliGen ``learn()`` end to end over ``--steps`` training steps, after a warm-up of
  ``--warmup`` steps so that the buffer holds enough episodes for full batches of 16
  (the steady state of a long run);
- its split into rollouts and the 5 + 20 network updates per episode;
- optionally ARS ``learn()`` over the same number of steps (``--ars``).

It prints env-steps/s, the ratio to raw, and the projected time of a 3M-step run.
Usage::

    python scripts/bench_poligen_speed.py --env Swimmer-v3 --warmup 30000 --steps 20000 --ars
    python scripts/bench_poligen_speed.py --env Hopper-v3 --warmup 3000 --steps 2000 --threads 2   # bench run --threads 2

With ``--threads N`` the CPU rate counts every thread's time; the wall rate is the one that
says whether a run fits a session.
"""

from __future__ import annotations

import bench  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import time

import numpy as np
import torch

from algorithms import get_algorithm
from bench.config import build_algo_config, load_config
from bench.runner import env_info_for, env_settings
from envs import make_env


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def raw_rate(env_id: str, steps: int, seed: int = 0) -> tuple[float, float]:
    """(wall, cpu) env.step calls per second with pre-drawn random actions."""
    env = make_env(env_id)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=seed)
    w, c = clocks()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    w2, c2 = clocks()
    return steps / (w2 - w), steps / (c2 - c)


def build(algo: str, env_id: str, seed: int = 0):
    config = load_config(check_algorithms=False)
    settings = env_settings(config, env_id)
    cls = get_algorithm(algo)
    algo_cfg = build_algo_config(cls.Config, config.hyperparameters(algo, env_id))

    def factory(*, remove_survival_bonus: bool = False):
        return make_env(env_id, survival_bonus=settings.survival_bonus, remove_survival_bonus=remove_survival_bonus)

    return cls(factory, seed, algo_cfg, env_info_for(env_id, settings, make_env(env_id)))


def poligen_split(agent, steps: int) -> dict[str, float]:
    """learn() for ``steps`` more steps, timing rollouts and updates separately (CPU time)."""
    timers = {"rollout": 0.0, "updates": 0.0, "generate": 0.0}
    run_episode, update_v, update_g, generate = (agent._run_episode, agent._update_evaluator,
                                                 agent._update_generator, agent.generate)

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                timers[name] += time.process_time() - t
        return wrapper

    agent._run_episode = timed("rollout", run_episode)
    agent._update_evaluator = timed("updates", update_v)
    agent._update_generator = timed("updates", update_g)
    agent.generate = timed("generate", generate)
    start_steps, start_eps = agent.env_steps, agent.episodes
    w, c = clocks()
    agent.learn(agent.env_steps + steps)
    w2, c2 = clocks()
    n, eps = agent.env_steps - start_steps, agent.episodes - start_eps
    return {"steps": n, "episodes": eps, "wall_rate": n / (w2 - w), "cpu_rate": n / (c2 - c),
            "rollout_cpu_per_step_us": timers["rollout"] / n * 1e6,
            "updates_cpu_per_episode_s": timers["updates"] / eps,
            "generate_cpu_per_episode_ms": timers["generate"] / eps * 1e3,
            "cpu_per_episode_s": (c2 - c) / eps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Swimmer-v3")
    parser.add_argument("--warmup", type=int, default=30_000, help="steps before measuring (fills the buffer)")
    parser.add_argument("--steps", type=int, default=20_000, help="measured training steps")
    parser.add_argument("--raw-steps", type=int, default=20_000)
    parser.add_argument("--ars", action="store_true", help="also measure ARS over --steps")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (bench run --threads)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    raw_w, raw_c = raw_rate(args.env, args.raw_steps)
    print(f"{args.env}: raw env.step: {raw_w:,.0f} steps/s wall, {raw_c:,.0f} steps/s CPU")
    agent = build("poligen", args.env)
    agent.learn(args.warmup)
    s = poligen_split(agent, args.steps)
    print(f"{args.env}: poligen learn() after {args.warmup:,} warm-up steps: {s['steps']:,} steps / "
          f"{s['episodes']} episodes: {s['wall_rate']:,.0f} steps/s wall, {s['cpu_rate']:,.0f} steps/s CPU "
          f"= {s['cpu_rate'] / raw_c:.2f}x raw (CPU)")
    print(f"  per episode (CPU): {s['cpu_per_episode_s']:.3f} s total, {s['updates_cpu_per_episode_s']:.3f} s "
          f"in the 5+20 updates, {s['generate_cpu_per_episode_ms']:.1f} ms generating theta; "
          f"rollout {s['rollout_cpu_per_step_us']:.1f} us/step (raw step {1e6 / raw_c:.1f} us)")
    print(f"  projected 3M steps at this CPU rate: {3e6 / s['cpu_rate'] / 3600:.2f} h")
    if args.ars:
        ars = build("ars", args.env)
        w, c = clocks()
        ars.learn(args.steps)
        w2, c2 = clocks()
        rate = ars.env_steps / (c2 - c)
        print(f"{args.env}: ars learn(): {ars.env_steps:,} steps: {ars.env_steps / (w2 - w):,.0f} steps/s wall, "
              f"{rate:,.0f} steps/s CPU = {rate / raw_c:.2f}x raw (CPU)")
    raw_w2, raw_c2 = raw_rate(args.env, args.raw_steps)
    print(f"{args.env}: raw env.step again: {raw_c2:,.0f} steps/s CPU (spread {abs(raw_c2 - raw_c) / raw_c:.0%})")


if __name__ == "__main__":
    main()
