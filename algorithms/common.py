"""Parts shared by several algorithms: the numpy MLP policy, observation normalisation,
episode rollouts of many policies in lockstep, and RNG state capture.

The deterministic tanh MLP used by ARS and PoliGen runs in numpy float32 without
autograd: one forward per environment step costs a few microseconds, and ``P`` stacked
policies share one batched matmul per step (``batched_forward``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import torch


# ----------------------------------------------------------------------------- MLP layout
@dataclass(frozen=True)
class MLPLayout:
    """Shapes of a deterministic MLP policy ``obs -> hidden... -> act`` with biases.

    Hidden layers use tanh; the output uses tanh times ``action_scale`` (the paper's
    policy for ARS and PoliGen). ``hidden_sizes=()`` gives a linear policy (the ARS
    paper's), whose output is clipped to the action bounds instead of squashed.

    Flat parameter vectors are laid out layer by layer as ``W (in, out)`` then ``b (out,)``.
    """

    obs_dim: int
    act_dim: int
    hidden_sizes: tuple[int, ...] = (256, 256)

    @property
    def sizes(self) -> list[int]:
        return [self.obs_dim, *self.hidden_sizes, self.act_dim]

    @property
    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        s = self.sizes
        return [((s[i], s[i + 1]), (s[i + 1],)) for i in range(len(s) - 1)]

    @property
    def n_params(self) -> int:
        return sum(w[0] * w[1] + b[0] for w, b in self.shapes)

    def unflatten(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Views of ``flat`` (shape ``(..., n_params)``) as ``[(W, b), ...]`` per layer."""
        layers, i = [], 0
        lead = flat.shape[:-1]
        for (fi, fo), _ in self.shapes:
            w = flat[..., i:i + fi * fo].reshape(*lead, fi, fo)
            i += fi * fo
            b = flat[..., i:i + fo]
            i += fo
            layers.append((w, b))
        return layers

    def init_flat(self, rng: np.random.Generator) -> np.ndarray:
        """PyTorch-default init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b."""
        parts = []
        for (fi, fo), _ in self.shapes:
            bound = 1.0 / np.sqrt(fi)
            parts.append(rng.uniform(-bound, bound, size=fi * fo))
            parts.append(rng.uniform(-bound, bound, size=fo))
        return np.concatenate(parts).astype(np.float32)


def mlp_forward(layers: list[tuple[np.ndarray, np.ndarray]], obs: np.ndarray, linear: bool = False) -> np.ndarray:
    """Forward one policy on a batch ``(n, obs_dim)``; output in [-1, 1] (tanh) or raw (linear)."""
    x = obs
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i < len(layers) - 1 or not linear:
            x = np.tanh(x)
    return x


def batched_forward(layers: list[tuple[np.ndarray, np.ndarray]], obs: np.ndarray, linear: bool = False) -> np.ndarray:
    """Forward ``P`` stacked policies on one observation each: W ``(P, in, out)``, obs ``(P, in)``."""
    x = obs[:, None, :]
    for i, (w, b) in enumerate(layers):
        x = np.matmul(x, w) + b[:, None, :]
        if i < len(layers) - 1 or not linear:
            x = np.tanh(x)
    return x[:, 0, :]


# ----------------------------------------------------------------------------- normaliser
class RunningMeanStd:
    """Running mean / variance of observations (Chan et al. parallel update).

    ``normalize`` uses the statistics as they stand; ``update`` merges a batch. ARS V2
    freezes the statistics within an iteration by calling ``update`` only between
    iterations.
    """

    def __init__(self, shape: tuple[int, ...], eps: float = 1e-8):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 0.0
        self.eps = eps

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, np.float64).reshape(-1, *self.mean.shape)
        n = batch.shape[0]
        if n == 0:
            return
        b_mean, b_var = batch.mean(0), batch.var(0)
        if self.count == 0:
            self.mean, self.var, self.count = b_mean, b_var, float(n)
            return
        tot = self.count + n
        delta = b_mean - self.mean
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / tot
        self.mean = self.mean + delta * n / tot
        self.var = m2 / tot
        self.count = tot

    @property
    def std(self) -> np.ndarray:
        """Standard deviation; dimensions that never varied get std 1 (as in ARS)."""
        std = np.sqrt(self.var)
        return np.where(std < 1e-8, 1.0, std)

    def normalize(self, obs: np.ndarray) -> np.ndarray:
        return ((obs - self.mean) / self.std).astype(np.float32)

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(shift, scale) in float32 so that ``normalize(x) == (x - shift) * scale``."""
        return self.mean.astype(np.float32), (1.0 / self.std).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean, self.var, self.count = state["mean"].copy(), state["var"].copy(), float(state["count"])


# ----------------------------------------------------------------------------- rollouts
@dataclass
class Episodes:
    """Results of a batch of episodes run in lockstep.

    ``init_distance`` / ``final_distance`` / ``success`` are filled for goal environments
    (dict observations with ``achieved_goal`` and ``desired_goal``), else None.
    ``final_achieved`` holds the achieved goal at the end of each episode (goal envs).
    """

    returns: np.ndarray
    lengths: np.ndarray
    visited: list[np.ndarray]
    init_distance: np.ndarray | None = None
    final_distance: np.ndarray | None = None
    success: np.ndarray | None = None
    final_achieved: np.ndarray | None = None


def _stack(obs_list: list[Any]) -> Any:
    if isinstance(obs_list[0], dict):
        return {k: np.stack([o[k] for o in obs_list]).astype(np.float32) for k in obs_list[0]}
    return np.stack(obs_list).astype(np.float32)


def _take(obs: Any, idx: np.ndarray) -> Any:
    if isinstance(obs, dict):
        return {k: v[idx] for k, v in obs.items()}
    return obs[idx]


def _put(obs: Any, i: int, value: Any) -> None:
    if isinstance(obs, dict):
        for k, v in value.items():
            obs[k][i] = v
    else:
        obs[i] = value


def run_episodes(envs: list[gym.Env], act_fn, seeds: list[int | None], max_steps: int | None = None,
                 record_obs: bool = False, reset_options: list[dict | None] | None = None,
                 observe: Callable[[np.ndarray, np.ndarray], None] | None = None) -> Episodes:
    """Run one episode in each env in lockstep, with one batched policy call per step.

    :param envs: one environment per episode
    :param act_fn: ``act_fn(obs_batch, idx) -> actions (n, act_dim)`` in the env's units;
        ``obs_batch`` holds the observations of the envs ``idx`` still running
        (an array, or a dict of arrays for dict observations)
    :param seeds: reset seed per env (None = continue the env's own RNG stream)
    :param max_steps: stop every episode after this many steps (None = the env's time limit)
    :param record_obs: also return the observations visited (Box observations only)
    :param reset_options: per-env ``options`` passed to ``reset`` (e.g. a fixed goal)
    :param observe: called after every step with the rewards of the envs ``idx`` that acted,
        ``observe(rewards, idx)``
    """
    n = len(envs)
    options = reset_options or [None] * n
    obs = _stack([e.reset(seed=s, options=o)[0] for e, s, o in zip(envs, seeds, options)])
    goal = isinstance(obs, dict) and "achieved_goal" in obs and "desired_goal" in obs
    returns = np.zeros(n)
    lengths = np.zeros(n, np.int64)
    success = np.zeros(n) if goal else None
    init_distance = np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"], axis=-1) if goal else None
    alive = np.arange(n)
    visited: list[np.ndarray] = []
    t = 0
    while alive.size and (max_steps is None or t < max_steps):
        current = obs if alive.size == n else _take(obs, alive)
        if record_obs:
            visited.append(np.array(current, copy=True))
        actions = act_fn(current, alive)
        still = []
        step_rewards = np.zeros(alive.size)
        for j, i in enumerate(alive):
            o, r, term, trunc, info = envs[i].step(actions[j])
            step_rewards[j] = r
            returns[i] += r
            lengths[i] += 1
            _put(obs, i, o)
            if goal:
                # gymnasium-robotics mazes report "success", Fetch and our Nav "is_success"
                success[i] = float(info.get("is_success", info.get("success", 0.0)))
            if not (term or trunc):
                still.append(i)
        if observe is not None:
            observe(step_rewards, alive)
        alive = np.asarray(still, dtype=np.int64)
        t += 1
    result = Episodes(returns, lengths, visited)
    if goal:
        result.init_distance = init_distance
        result.final_distance = np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"], axis=-1)
        result.success = success
        result.final_achieved = obs["achieved_goal"].copy()
    return result


def rollout_batch(envs: list[gym.Env], act_fn, seeds: list[int | None], max_steps: int | None = None,
                  record_obs: bool = False) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Training rollouts of squashed policies: like :func:`run_episodes`, but ``act_fn``
    returns actions in [-1, 1], rescaled here to the action bounds.

    :return: (returns (n,), lengths (n,), list of visited-observation arrays)
    """
    low, high = envs[0].action_space.low, envs[0].action_space.high
    scale, centre = (high - low) / 2.0, (high + low) / 2.0
    ep = run_episodes(envs, lambda o, idx: act_fn(o, idx) * scale + centre, seeds, max_steps, record_obs)
    return ep.returns, ep.lengths, ep.visited


# ----------------------------------------------------------------------------- RNG state
def global_rng_state() -> dict[str, Any]:
    """States of python's, numpy's global and torch's RNGs (stored in checkpoints)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_global_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def seed_everything(seed: int) -> None:
    """Seed python, numpy's global and torch's RNGs."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
