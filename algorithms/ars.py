"""Augmented Random Search (Mania et al., 2018), V2-t variant, on the paper's MLP policy.

Per iteration:

1. draw ``N`` directions ``delta ~ N(0, I)`` over the flat policy parameters;
2. roll out ``theta + nu * delta`` and ``theta - nu * delta`` (one episode each);
3. keep the top ``b`` directions by ``max(r+, r-)``;
4. ``theta += alpha / (b * sigma_R) * sum_k (r+_k - r-_k) delta_k``, with ``sigma_R``
   the standard deviation of the ``2b`` kept returns.

V2: observations are normalised by a running mean/std filter, updated from the states
of the training rollouts and frozen within an iteration (updated between iterations).
Hopper-style survival bonuses are subtracted during training only
(``remove_survival_bonus``).

The policy is the PoliGen paper's deterministic MLP (2x256, tanh hidden and output,
times the action bound) initialised like PyTorch's default (``init = "zeros"`` starts
from zero weights, as the ARS authors' code does for its linear policy; the paper does not
say which its deep-policy adaptation used); ``policy = "linear"`` gives
the ARS paper's linear policy (zero init, actions clipped to the bounds). All ``2N``
perturbed policies of an iteration run in lockstep on ``2N`` environments: each step
is one batched numpy matmul over the stacked weights, so the simulator dominates.

An iteration is never cut short: ``learn(until)`` may overshoot ``until`` by less than
one iteration (``2N`` episodes); the exact count is in ``env_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.common import MLPLayout, RunningMeanStd, batched_forward, mlp_forward, rollout_batch


@dataclass
class ARSConfig:
    """ARS hyperparameters (defaults: the PoliGen paper's values for Swimmer/Hopper)."""

    step_size: float = 0.01
    """alpha, the step size (grid {1e-2, 1e-3, 1e-4})."""
    n_directions: int = 8
    """N, directions sampled per iteration."""
    top_directions: int = 4
    """b, the best directions used in the update (b <= N)."""
    noise: float = 0.05
    """nu, the standard deviation of the parameter perturbation (grid {0.1, 0.05, 0.025})."""
    policy: Literal["mlp", "linear"] = "mlp"
    """"mlp": the paper's tanh MLP; "linear": the ARS paper's linear policy."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """hidden layer widths of the MLP policy."""
    init: Literal["torch", "zeros"] = "torch"
    """MLP initial weights: "torch" (PyTorch's default uniform init, as PoliGen's policies) or
    "zeros" (the ARS authors' linear-policy init carried over to the MLP). The linear policy
    always starts at zero."""
    normalize_observations: bool = True
    """V2 observation filter (False gives ARS V1)."""
    remove_survival_bonus: bool = True
    """subtract the env's survival bonus from training rewards (Hopper)."""

    def __post_init__(self) -> None:
        if self.n_directions < 1 or not 1 <= self.top_directions <= self.n_directions:
            raise ValueError("need n_directions >= 1 and 1 <= top_directions <= n_directions")
        if self.step_size < 0 or self.noise <= 0:
            raise ValueError("need step_size >= 0 and noise > 0")
        if any(h < 1 for h in self.hidden_sizes):
            raise ValueError("hidden_sizes must be positive")


class ARS(Algorithm):
    """ARS V2-t with batched lockstep rollouts of all perturbed policies."""

    Config = ARSConfig

    def __init__(self, make_env: EnvFactory, seed: int, config: ARSConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        obs_dim = int(np.prod(env_info.observation_space.shape))
        act_dim = int(np.prod(env_info.action_space.shape))
        hidden = () if config.policy == "linear" else tuple(config.hidden_sizes)
        self.layout = MLPLayout(obs_dim, act_dim, hidden)
        self.linear = config.policy == "linear"
        self.rng = np.random.default_rng(seed)
        if self.linear or config.init == "zeros":
            self.theta = np.zeros(self.layout.n_params, np.float32)
        else:
            self.theta = self.layout.init_flat(self.rng)
        self.obs_rms = RunningMeanStd((obs_dim,))
        self.envs = [make_env(remove_survival_bonus=config.remove_survival_bonus)
                     for _ in range(2 * config.n_directions)]
        self.iterations = 0
        self.best_train_return = -np.inf
        self.last_train_return = np.nan

    # ------------------------------------------------------------------ helpers
    def _normalizer(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.config.normalize_observations:
            return np.zeros(self.layout.obs_dim, np.float32), np.ones(self.layout.obs_dim, np.float32)
        return self.obs_rms.affine()

    def _squash(self, out: np.ndarray) -> np.ndarray:
        return np.clip(out, -1.0, 1.0) if self.linear else out

    # ------------------------------------------------------------------ training
    def _antithetic_forward(self, base, pert, x: np.ndarray) -> np.ndarray:
        """Forward the ``2g`` policies ``theta +- nu * delta_k`` of ``g`` directions.

        Rows ``k`` and ``g + k`` of ``x`` belong to ``theta + nu delta_k`` and
        ``theta - nu delta_k``. ``x W`` is one matmul for all rows, and each direction's
        ``delta_k`` is read once for its two rows: half the memory traffic of stacking the
        ``2g`` perturbed weight matrices, which is what bounds this forward's speed.
        """
        nu = self.config.noise
        g = len(x) // 2
        for i, ((w, b), (dw, db)) in enumerate(zip(base, pert)):
            h = x @ w + b
            y = np.matmul(x.reshape(2, g, -1).transpose(1, 0, 2), dw)  # (g, 2, out)
            h[:g] += nu * (y[:, 0] + db)
            h[g:] -= nu * (y[:, 1] + db)
            x = h if (self.linear and i == len(base) - 1) else np.tanh(h)
        return x

    def _rollouts(self, deltas: np.ndarray, envs: list, seeds: list[int]):
        """One episode for each of ``theta + nu delta_k`` and ``theta - nu delta_k`` (rows k and g + k)."""
        g, nu = len(deltas), self.config.noise
        base, pert = self.layout.unflatten(self.theta), self.layout.unflatten(deltas)
        shift, scale = self._normalizer()
        cache: dict[str, Any] = {"idx": None, "layers": None}

        def act(obs: np.ndarray, idx: np.ndarray) -> np.ndarray:
            x = (obs - shift) * scale
            if len(idx) == 2 * g:
                return self._squash(self._antithetic_forward(base, pert, x))
            if cache["idx"] is None or len(cache["idx"]) != len(idx):
                # some episodes ended: stack the weights of the running ones once
                cache["idx"] = idx.copy()
                sign = np.where(idx < g, nu, -nu).astype(np.float32)
                cache["layers"] = self.layout.unflatten(self.theta + sign[:, None] * deltas[idx % g])
            return self._squash(batched_forward(cache["layers"], x, self.linear))

        return rollout_batch(envs, act, seeds, record_obs=self.config.normalize_observations)

    def _iteration(self) -> None:
        cfg = self.config
        n, p = cfg.n_directions, self.layout.n_params
        deltas = self.rng.standard_normal((n, p), dtype=np.float32)
        seeds = [int(s) for s in self.rng.integers(0, 2**31 - 1, size=2 * n)]
        # all 2N rollouts in lockstep (measured fastest: running direction groups one
        # after another saves no cache misses and pays more per-call overhead)
        returns, lengths, visited = self._rollouts(deltas, self.envs, seeds)
        self.env_steps += int(lengths.sum())
        r_plus, r_minus = returns[:n], returns[n:]
        top = np.argsort(-np.maximum(r_plus, r_minus), kind="stable")[: cfg.top_directions]
        sigma = np.std(np.concatenate([r_plus[top], r_minus[top]]))
        if sigma > 0:
            step = (r_plus[top] - r_minus[top]) @ deltas[top] / (cfg.top_directions * sigma)
            self.theta = (self.theta + cfg.step_size * step).astype(np.float32)
        if cfg.normalize_observations:
            self.obs_rms.update(np.concatenate(visited))
        self.iterations += 1
        self.last_train_return = float(returns.mean())
        self.best_train_return = max(self.best_train_return, float(returns.max()))

    def learn(self, until_env_steps: int) -> None:
        while self.env_steps < until_env_steps:
            self._iteration()

    # ------------------------------------------------------------------ evaluation
    def policy(self, command: float | None = None) -> Policy:
        layers = self.layout.unflatten(self.theta.copy())
        shift, scale = self._normalizer()
        low, high = self.env_info.action_space.low, self.env_info.action_space.high
        half, centre = (high - low) / 2.0, (high + low) / 2.0

        def act(obs: np.ndarray) -> np.ndarray:
            x = (np.asarray(obs, np.float32).reshape(len(obs), -1) - shift) * scale
            return self._squash(mlp_forward(layers, x, self.linear)) * half + centre

        return act

    def training_stats(self) -> dict[str, float]:
        if not self.iterations:
            return {}
        return {"iterations": self.iterations, "last_return": self.last_train_return,
                "best_return": self.best_train_return}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {"theta": self.theta.copy(), "obs_rms": self.obs_rms.state_dict(), "rng": self.rng.bit_generator.state,
                "env_steps": self.env_steps, "iterations": self.iterations,
                "best_train_return": self.best_train_return, "last_train_return": self.last_train_return}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.theta = state["theta"].copy()
        self.obs_rms.load_state_dict(state["obs_rms"])
        self.rng.bit_generator.state = state["rng"]
        self.env_steps = state["env_steps"]
        self.iterations = state["iterations"]
        self.best_train_return = state["best_train_return"]
        self.last_train_return = state["last_train_return"]
