"""What a trained policy does: episodes of a complete run's ``model.pt``, summarised.

    python scripts/policy_behaviour.py ~/paper-runs/MountainCarContinuous-v0/udrl/seed_0 [--episodes 10] [--noise 0.1]

Loads the run's model with the run's own configuration (``bench.trained.load_trained``),
then runs deterministic evaluation episodes and, with ``--noise``, the same episodes with
Gaussian action noise of that standard deviation (in action units, as DDPG's exploration
noise). Prints per mode: mean return, mean |action|, mean action^2, the mean action per
component and the share of action components at a bound of the action box (a DDPG actor
whose tanh layer saturated shows 1.0), episode length, and for Box observations the maximum
of the first coordinate (MountainCar's position; the flag is at 0.45).
For UDRL it also prints the standard deviation of its Gaussian head along the episodes,
the noise its own sampled (training-time) actions carry, and with ``--sample`` it also runs
the episodes with actions sampled from that head (clipped to the box), as its exploration
episodes act: the return a UDRL scored by sampling, not by the Gaussian mean, would report.
"""

from __future__ import annotations

import bench  # noqa: F401

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from algorithms.base import RewardAwarePolicy
from bench.errors import BenchError
from bench.evaluation import eval_seeds
from bench.trained import load_trained
from envs import make_env


def _batch(obs):
    """One observation as a batch of one (a goal env's dict observation per key)."""
    return {k: np.asarray(v)[None] for k, v in obs.items()} if isinstance(obs, dict) else obs[None]


def episodes(algo, env_id: str, seeds: list[int], noise: float, rng: np.random.Generator,
             sample: bool = False) -> dict[str, float]:
    env = make_env(env_id)
    low, high = env.action_space.low, env.action_space.high
    rets, lens, absa, sqa, maxx, stds, every = [], [], [], [], [], [], []
    for seed in seeds:
        policy = algo.policy()
        obs, _ = env.reset(seed=seed)
        if isinstance(policy, RewardAwarePolicy):
            policy.reset(1)
        ret, n, done, acts, xs = 0.0, 0, False, [], []
        while not done:
            if isinstance(policy, RewardAwarePolicy):
                a = np.asarray(policy.act(_batch(obs), np.arange(1)))[0]
                if hasattr(algo, "_numpy_params"):  # UDRL: the std of its Gaussian head here
                    from algorithms.udrl import _numpy_forward

                    _, log_std = _numpy_forward(algo._numpy_params(), algo.config.activation,
                                                np.asarray(obs, np.float64)[None],
                                                algo._scale(policy.d_r, policy.d_h).astype(np.float64))
                    stds.append(float(np.exp(log_std).mean() * (high - low).mean() / 2))
                    if sample:  # the head's own noise, in normalised units, as in its training episodes
                        u = 2.0 * (a - low) / (high - low) - 1.0
                        u = np.clip(u + np.exp(log_std[0]) * rng.standard_normal(u.shape), -1.0, 1.0)
                        a = low + 0.5 * (u + 1.0) * (high - low)
            else:
                a = np.asarray(policy(_batch(obs)))[0]
            if noise:
                a = np.clip(a + noise * rng.standard_normal(a.shape), low, high)
            obs, r, term, trunc, _ = env.step(a)
            if isinstance(policy, RewardAwarePolicy):
                policy.observe(np.array([r]), np.arange(1))
            ret, n, done = ret + float(r), n + 1, term or trunc
            acts.append(a)
            if not isinstance(obs, dict):
                xs.append(float(np.ravel(obs)[0]))
        acts = np.asarray(acts)
        every.append(acts)
        rets.append(ret), lens.append(n), absa.append(float(np.abs(acts).mean())), sqa.append(float((acts ** 2).mean()))
        if xs:
            maxx.append(max(xs))
    acts = np.concatenate(every)
    span = 1e-3 * (high - low)
    out = {"return": float(np.mean(rets)), "return_std": float(np.std(rets)), "length": float(np.mean(lens)),
           "mean_abs_action": float(np.mean(absa)), "mean_sq_action": float(np.mean(sqa)),
           "mean_action": np.round(acts.mean(0), 3).tolist(),
           "saturated": float(np.mean((acts <= low + span) | (acts >= high - span)))}
    if maxx:
        out["max_obs0"] = float(np.mean(maxx))
    if stds:
        out["gaussian_std"] = float(np.mean(stds))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", type=Path, nargs="+", help="complete run directories (with model.pt)")
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--noise", type=float, default=0.0, help="also run with Gaussian action noise of this std")
    p.add_argument("--sample", action="store_true", help="UDRL: also run with actions sampled from its Gaussian head")
    args = p.parse_args()
    torch.set_num_threads(1)
    for run_dir in args.runs:
        try:
            algo, _ = load_trained(run_dir)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.sample and not hasattr(algo, "_numpy_params"):
            print(f"error: {run_dir}: --sample needs a UDRL run (a Gaussian head)", file=sys.stderr)
            return 2
        env_id = algo.env_info.env_id
        seeds = eval_seeds(algo.seed, 10_000, args.episodes)
        rng = np.random.default_rng(0)
        row = {"run": str(run_dir), "deterministic": episodes(algo, env_id, seeds, 0.0, rng)}
        if args.noise:
            row[f"noise {args.noise:g}"] = episodes(algo, env_id, seeds, args.noise, rng)
        if args.sample:
            row["sampled"] = episodes(algo, env_id, seeds, 0.0, rng, sample=True)
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
