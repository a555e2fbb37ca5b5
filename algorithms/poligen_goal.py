"""Goal-commanded PoliGen: a hypernetwork that generates a deep policy for a desired goal.

**What the sources do.** The PoliGen paper (Faccio et al., "Goal-Conditioned Generators of
Deep Policies") and its public code (IDSIA/GoGePo) command the generator with a desired
*return* only: ``theta = G(c) + noise``, an evaluator ``V(theta)`` is fit to the returns of
the policies run, and ``G`` is trained so that ``V(G(r)) = r`` for returns ``r`` from the
buffer (``algorithms.poligen``). The paper names other commands as future work; neither
source has a goal-commanded generator. Everything below beyond the networks is our design.

**What this module does.** Goal environments (dict observations with ``observation``,
``achieved_goal``, ``desired_goal`` and a vectorised ``compute_reward``):

1. reset the training env; its ``desired_goal`` ``g`` is the command;
2. ``theta = G(g) + param_noise * N(0, I)``; run one episode with the tanh MLP ``theta``
   on the *observation only* (not the goal, see below); store ``theta``, the env's goal
   and the achieved-goal trajectory ``ag_1..ag_T`` in a buffer;
3. ``evaluator_updates`` steps fitting ``V(theta, g')`` to the return ``theta`` had for
   *other* goals ``g'``: ``R(theta, g') = sum_t compute_reward(ag_t, g')``, divided by
   the time limit (values in about [-1, 0] for the sparse 0/-1 reward). This is hindsight
   in parameter space. A batch is ``batch_size`` policies times a shared set of goals:
   for each sampled policy its commanded goal, its final achieved goal and one achieved
   goal drawn along its trajectory, plus ``batch_size`` env goals from the buffer; every
   policy is scored on every goal of the set (the cross product), so one episode gives
   targets for many goals at once;
4. ``generator_updates`` steps maximising ``V(G(g), g)`` (evaluator frozen) for goals
   ``g`` drawn from the buffer: env goals (the task distribution) and, with probability
   ``achieved_goal_fraction``, achieved goals (what is known to be reachable).

``V(theta, g)``: the fingerprint of ``theta`` (its actions on learnable probing states,
PoliGen's evaluator) concatenated with the scaled goal, into a ReLU MLP.

**Why the generated policy does not see the goal** (``goal_in_policy = False``). Then the
goal reaches behaviour only through the generated parameters, which is the question the
issue asks, and the relabelling in step 3 is *exact*: the trajectory of ``theta`` does not
depend on which goal is called desired (for envs whose dynamics and start state do not
depend on the goal, as Nav2D), so ``R(theta, g')`` is the return ``theta`` really has for
``g'``, not an off-policy estimate. With the goal in the input (``goal_in_policy = True``,
the observation then carries ``desired_goal`` too) a single ``theta`` could serve every
goal, and the relabelled targets would be wrong for any ``g'`` other than the commanded
one (the policy would have acted differently); only the commanded goal is then relabelled.

**Generator** (``GoalHyperGenerator``): PoliGen's slice hypernetwork
(``algorithms.poligen_nets.HyperGenerator``: 16x16 slices with learned embeddings, shared
slice MLPs, dedicated input/output heads, bias heads averaged over input slices, output
scaling ``2 / sqrt(fan_in)``) with a vector command: each slice MLP reads
``[z, g_scaled]`` instead of ``[z, c]``. ``poligen_nets``' generator takes scalar commands
only, so the vector version lives here. Goals are scaled to about [-1, 1]: by the bounds
of the ``desired_goal`` box where finite, else by running mean/std of the training goals.

**Generator objective.** PoliGen regresses ``V(G(r))`` onto the command ``r``. A goal says
nothing about the return wanted, and the best achievable return differs between goals,
so we ascend ``V(G(g), g)`` directly (the brief of issue 13: "V(G(g), g) is high").
This is the deterministic policy gradient in parameter space (as in Faccio et al.'s PSSVF);
the fingerprint keeps it from chasing weight changes that do not change behaviour.

**Kept from PoliGen**: one episode per generated + noised policy, Adam, batch 16, a buffer
of (theta, outcome), optional recency-weighted sampling (default off here: relabelled
outcomes never go stale) and optional running observation normalisation (default off here).

**Changed from PoliGen, each a Config field** (single-seed trials on Nav2D, 6k steps):
observation normalisation on -> the statistics of the first, narrow trajectories blew the
inputs up and the generated policies ran away from their goals; probing states initialised
in PoliGen's [0, 1) (one quadrant of the input) -> final distance above the start distance,
[-1, 1) -> about half of it; generator lr 1e-4 -> ``V(G(g), g)`` climbed far above the
returns G's policies really had (the generator exploits the evaluator), 3e-5 less so;
generator goals from achieved goals only (``achieved_goal_fraction = 1``) -> worse.

**Sizes.** Defaults suit small tasks (Nav2D): policy 32x32, hypernet 64x64, evaluator
64x64 over 32 probing states; PoliGen's 256x256 everywhere costs ~1.2 s of updates per
episode on a CPU. All are hyperparameters.

**What limits it.** The evaluator must extrapolate from achieved goals to goals no
policy has reached; with a sparse reward every policy that never comes near ``g'`` has the
same target (-1) and ``V`` gives the generator no direction there. Exploration is only the
parameter noise around ``G(g)``. Relabelling is exact only for goal-independent dynamics.
One policy per episode: Nav2D's 6k-step budget is 120 policies, from which ``V`` must learn
the map from fingerprints to where a policy ends; and the updates, not the env, set the wall time.

Randomness: networks from ``torch.manual_seed(seed)`` in a forked torch RNG; noise, batches
and env reset seeds from one checkpointed ``np.random.Generator(seed)``. Episodes are
never split across ``learn`` calls, so no environment state is saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.common import MLPLayout, RunningMeanStd, batched_forward, mlp_forward
from algorithms.poligen_nets import policy_forward, relu_mlp


@dataclass
class PoliGenGoalConfig:
    """Goal-commanded PoliGen hyperparameters (defaults sized for Nav2D-like tasks)."""

    hidden_sizes: tuple[int, ...] = (32, 32)
    """hidden widths of the generated tanh MLP policy (multiples of slice_size; PoliGen 256x256)."""
    slice_size: int = 16
    """f: generated weight matrices are cut into f x f slices (PoliGen 16)."""
    embedding_dim: int = 8
    """size of each slice's learned embedding z (PoliGen 8)."""
    hypernet_hidden_sizes: tuple[int, ...] = (64, 64)
    """hidden widths of the slice MLPs (ReLU; PoliGen 256x256)."""
    output_scale: float = 2.0
    """generated weights and biases are multiplied by output_scale / sqrt(fan_in) (PoliGen 2)."""
    n_probing_states: int = 32
    """learnable probing states of the fingerprint (PoliGen 200)."""
    probing_init: tuple[float, ...] = (-1.0, 1.0)
    """probing states start uniform in [low, high) of the policy-input space (PoliGen [0, 1), one
    quadrant of a normalised input; [-1, 1) covers Nav2D's whole square)."""
    evaluator_hidden_sizes: tuple[int, ...] = (64, 64)
    """hidden widths of the evaluator MLP over [probing actions, goal] (ReLU; PoliGen 256x256)."""
    param_noise: float = 0.1
    """std of the Gaussian noise added to generated parameters in training (PoliGen 0.1)."""
    buffer_size: int = 10_000
    """buffer of (theta, goal, achieved-goal trajectory): the newest this many episodes."""
    recency_exponent: float = 0.0
    """policy sampling weight (1/k)^exponent, k = 1 the newest (PoliGen 1.1; 0 = uniform)."""
    batch_size: int = 16
    """policies per evaluator batch and goals per generator batch (PoliGen 16)."""
    evaluator_updates: int = 10
    """evaluator Adam steps per episode."""
    generator_updates: int = 10
    """generator Adam steps per episode."""
    lr_generator: float = 3e-5
    """Adam learning rate of the generator (PoliGen 2e-6 for its return command; 1e-4 let the
    generator exploit the evaluator on Nav2D)."""
    lr_evaluator: float = 1e-3
    """Adam learning rate of the evaluator (MLP and probing states; PoliGen 5e-3)."""
    achieved_goal_fraction: float = 0.5
    """share of generator goals drawn from final achieved goals (the rest: env goals)."""
    goal_in_policy: bool = False
    """feed desired_goal to the generated policy too (then only the commanded goal is relabelled)."""
    normalize_observations: bool = False
    """running mean/std normalisation of the policy input from the second episode on (PoliGen: on).
    Off by default: goal-env observations are bounded, and the statistics of the first narrow
    trajectories blow the inputs up (on Nav2DDense the generated policies then ran away)."""

    def __post_init__(self) -> None:
        self.hidden_sizes = tuple(int(h) for h in self.hidden_sizes)
        self.hypernet_hidden_sizes = tuple(int(h) for h in self.hypernet_hidden_sizes)
        self.probing_init = tuple(float(x) for x in self.probing_init)
        if len(self.probing_init) != 2 or not self.probing_init[0] < self.probing_init[1]:
            raise ValueError("probing_init must be (low, high) with low < high")
        self.evaluator_hidden_sizes = tuple(int(h) for h in self.evaluator_hidden_sizes)
        if not self.hidden_sizes:
            raise ValueError("hidden_sizes: the generated policy needs at least one hidden layer")
        if self.slice_size < 1 or any(h < 1 or h % self.slice_size for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes {self.hidden_sizes} must be positive multiples of slice_size {self.slice_size}")
        for name in ("embedding_dim", "n_probing_states", "buffer_size", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("evaluator_updates", "generator_updates"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("param_noise", "recency_exponent", "lr_generator", "lr_evaluator"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not 0.0 <= self.achieved_goal_fraction <= 1.0:
            raise ValueError("achieved_goal_fraction must be in [0, 1]")


# ----------------------------------------------------------------------------- networks
class GoalSliceNet(nn.Module):
    """``[z, g] -> (weight slice, bias slice)`` for many slice embeddings ``z`` and a batch of
    goal commands ``g`` (PoliGen's ``SliceNet`` with a vector command).

    :param emb_dim: size of a slice embedding
    :param cmd_dim: size of the command (goal) vector
    :param hidden: hidden widths of the weight and bias MLPs
    :param w_shape: (rows, cols) of one weight slice
    """

    def __init__(self, emb_dim: int, cmd_dim: int, hidden: list[int], w_shape: tuple[int, int]):
        super().__init__()
        self.emb_dim, self.w_shape = emb_dim, w_shape
        self.net_w = relu_mlp([emb_dim + cmd_dim, *hidden, w_shape[0] * w_shape[1]])
        self.net_b = relu_mlp([emb_dim + cmd_dim, *hidden, w_shape[1]])

    def _run(self, net: nn.Sequential, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        first, d = net[0], self.emb_dim
        # [z, c] W^T + b = z W_z^T + c W_c^T + b: the z part is computed once for the batch
        x = (z @ first.weight[:, :d].T + first.bias)[None] + (c @ first.weight[:, d:].T)[:, None]  # (B, S, h)
        for layer in list(net)[1:]:
            x = layer(x)
        return x

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:param z: (S, emb_dim); :param c: (B, cmd_dim) :return: W (B, S, rows, cols), b (B, S, cols)"""
        w = self._run(self.net_w, z, c).reshape(c.shape[0], z.shape[0], *self.w_shape)
        return w, self._run(self.net_b, z, c)


class GoalHyperGenerator(nn.Module):
    """G_rho: scaled goals (B, goal_dim) -> flat policy parameters (B, n_params), MLPLayout order.

    The slicing of PoliGen's generator: ``1 x out/f`` slices of ``in x f`` for the input
    layer, ``in/f x out/f`` slices of ``f x f`` for hidden layers (one shared slice net),
    ``in/f x 1`` slices of ``f x act`` for the output layer; biases averaged over input slices.
    """

    def __init__(self, layout: MLPLayout, goal_dim: int, slice_size: int = 16, emb_dim: int = 8,
                 hyper_hidden: tuple[int, ...] = (64, 64), output_scale: float = 2.0):
        super().__init__()
        f, sizes, hidden = slice_size, layout.sizes, list(hyper_hidden)
        n = len(sizes) - 1
        self.tilings = []  # per layer: (tiles_in, tiles_out, slice rows, slice cols)
        for j in range(n):
            self.tilings.append((1 if j == 0 else sizes[j] // f, 1 if j == n - 1 else sizes[j + 1] // f,
                                 sizes[j] if j == 0 else f, sizes[j + 1] if j == n - 1 else f))
        self.h_in = GoalSliceNet(emb_dim, goal_dim, hidden, (sizes[0], f))
        self.h_hidden = GoalSliceNet(emb_dim, goal_dim, hidden, (f, f)) if n > 2 else None
        self.h_out = GoalSliceNet(emb_dim, goal_dim, hidden, (f, sizes[-1]))
        self.embeddings = nn.ParameterList([nn.Parameter(torch.randn(ti * to, emb_dim))
                                            for ti, to, _, _ in self.tilings])
        self.scales = [output_scale / math.sqrt(sizes[j]) for j in range(n)]

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        B, n = g.shape[0], len(self.tilings)
        parts = []
        for j, (ti, to, rows, cols) in enumerate(self.tilings):
            net = self.h_in if j == 0 else self.h_out if j == n - 1 else self.h_hidden
            w, b = net(self.embeddings[j], g)
            w = w.reshape(B, ti, to, rows, cols).permute(0, 1, 3, 2, 4).reshape(B, ti * rows, to * cols)
            b = b.reshape(B, ti, to, cols).mean(dim=1).reshape(B, to * cols)
            parts += [w.reshape(B, -1) * self.scales[j], b * self.scales[j]]
        return torch.cat(parts, dim=1)


class GoalEvaluator(nn.Module):
    """V_w(theta, g): the probing actions of theta (PoliGen's fingerprint) and the scaled goal
    -> ReLU MLP -> predicted return for g (divided by the time limit).

    :param layout: the evaluated policy's shapes
    :param goal_dim: size of the goal vector
    :param n_probing: number of learnable probing states (policy-input space)
    :param hidden: hidden widths of the MLP
    :param init: probing states start uniform in [low, high)
    """

    def __init__(self, layout: MLPLayout, goal_dim: int, n_probing: int, hidden: tuple[int, ...],
                 init: tuple[float, float] = (-1.0, 1.0)):
        super().__init__()
        self.layout = layout
        low, high = init
        self.probing_states = nn.Parameter(low + (high - low) * torch.rand(n_probing, layout.obs_dim))
        self.net = relu_mlp([n_probing * layout.act_dim + goal_dim, *hidden, 1])

    def fingerprint(self, theta: torch.Tensor) -> torch.Tensor:
        """(B, n_probing * act_dim) probing actions in [-1, 1]."""
        return policy_forward(self.layout, theta, self.probing_states).reshape(theta.shape[0], -1)

    def head(self, fp: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Values of fingerprints ``fp`` (B, F) for goals ``g`` (B, goal_dim): (B,)."""
        return self.net(torch.cat([fp, g], dim=-1)).squeeze(-1)

    def forward(self, theta: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.head(self.fingerprint(theta), g)


# ----------------------------------------------------------------------------- buffer
class EpisodeBuffer:
    """Ring buffer of episodes: generated parameters, the env's goal, the achieved goals
    after every step (padded with the last one) and the length."""

    def __init__(self, capacity: int, n_params: int, goal_dim: int, horizon: int, recency_exponent: float):
        self.capacity, self.n_params, self.goal_dim, self.horizon = capacity, n_params, goal_dim, horizon
        rows = min(capacity, 64)
        self.thetas = np.zeros((rows, n_params), np.float32)
        self.goals = np.zeros((rows, goal_dim), np.float32)
        self.achieved = np.zeros((rows, horizon, goal_dim), np.float32)
        self.lengths = np.zeros(rows, np.int64)
        self.ptr = 0
        self.size = 0
        self._weights = np.arange(1, capacity + 1, dtype=np.float64) ** -recency_exponent

    def _grow(self) -> None:
        n = min(self.capacity, 2 * len(self.thetas))
        for key in ("thetas", "goals", "achieved", "lengths"):
            old = getattr(self, key)
            new = np.zeros((n, *old.shape[1:]), old.dtype)
            new[: len(old)] = old
            setattr(self, key, new)

    def add(self, theta: np.ndarray, goal: np.ndarray, achieved: np.ndarray) -> None:
        if self.ptr >= len(self.thetas):
            self._grow()
        T = min(len(achieved), self.horizon)
        self.thetas[self.ptr] = theta
        self.goals[self.ptr] = goal
        self.achieved[self.ptr, :T] = achieved[:T]
        self.achieved[self.ptr, T:] = achieved[T - 1]
        self.lengths[self.ptr] = T
        self.ptr = (self.ptr + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Row indices of ``n`` draws with replacement, recency-weighted by age."""
        w = self._weights[: self.size]
        ages = rng.choice(self.size, size=n, p=w / w.sum())  # 0 = newest
        return (self.ptr - 1 - ages) % self.capacity

    def state_dict(self) -> dict[str, Any]:
        s = self.size if self.size < self.capacity else self.capacity
        return {"thetas": self.thetas[:s].copy(), "goals": self.goals[:s].copy(),
                "achieved": self.achieved[:s].copy(), "lengths": self.lengths[:s].copy(), "ptr": self.ptr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = len(state["thetas"])
        rows = max(n, min(self.capacity, 64))
        self.thetas = np.zeros((rows, self.n_params), np.float32)
        self.goals = np.zeros((rows, self.goal_dim), np.float32)
        self.achieved = np.zeros((rows, self.horizon, self.goal_dim), np.float32)
        self.lengths = np.zeros(rows, np.int64)
        for key in ("thetas", "goals", "achieved", "lengths"):
            getattr(self, key)[:n] = np.asarray(state[key])
        self.size, self.ptr = n, int(state["ptr"])


# ----------------------------------------------------------------------------- algorithm
class PoliGenGoal(Algorithm):
    """PoliGen whose generator is commanded by a goal; hindsight relabelling in parameter space."""

    Config = PoliGenGoalConfig
    conditioning = "goal"

    def __init__(self, make_env: EnvFactory, seed: int, config: PoliGenGoalConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        cfg = config
        space = env_info.observation_space
        if not isinstance(space, gym.spaces.Dict) or "desired_goal" not in space.spaces:
            raise ValueError("poligen_goal needs a goal environment (dict observation with desired_goal)")
        self.goal_dim = int(np.prod(space["desired_goal"].shape))
        self.obs_dim = int(np.prod(space["observation"].shape))
        in_dim = self.obs_dim + (self.goal_dim if cfg.goal_in_policy else 0)
        act_dim = int(np.prod(env_info.action_space.shape))
        self.layout = MLPLayout(in_dim, act_dim, tuple(cfg.hidden_sizes))
        low, high = env_info.action_space.low, env_info.action_space.high
        self.act_scale = ((high - low) / 2.0).astype(np.float32)
        self.act_centre = ((high + low) / 2.0).astype(np.float32)
        self.horizon = int(env_info.max_episode_steps)
        g_low = np.asarray(space["desired_goal"].low, np.float64).reshape(-1)
        g_high = np.asarray(space["desired_goal"].high, np.float64).reshape(-1)
        #: goal scaling: box bounds where finite, else running statistics of training goals
        self.box_goals = bool(np.all(np.isfinite(g_low)) and np.all(np.isfinite(g_high)))
        self.goal_box = ((g_high + g_low) / 2.0, np.maximum((g_high - g_low) / 2.0, 1e-8))

        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.generator = GoalHyperGenerator(self.layout, self.goal_dim, cfg.slice_size, cfg.embedding_dim,
                                                cfg.hypernet_hidden_sizes, cfg.output_scale)
            self.evaluator = GoalEvaluator(self.layout, self.goal_dim, cfg.n_probing_states,
                                           cfg.evaluator_hidden_sizes, cfg.probing_init)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr_generator)
        self.opt_v = torch.optim.Adam(self.evaluator.parameters(), lr=cfg.lr_evaluator)

        self.rng = np.random.default_rng(seed)
        self.buffer = EpisodeBuffer(cfg.buffer_size, self.layout.n_params, self.goal_dim, self.horizon,
                                    cfg.recency_exponent)
        self.obs_rms = RunningMeanStd((in_dim,))
        self.goal_rms = RunningMeanStd((self.goal_dim,))
        self.env = make_env()
        self.compute_reward = self.env.unwrapped.compute_reward
        self.episodes = 0
        self.successes: list[float] = []  # training successes (last 20 in stats)
        self.last_return = np.nan
        self.loss_v = np.nan
        self.value_g = np.nan

    # ------------------------------------------------------------------ scaling
    def scale_goals(self, goals: np.ndarray) -> np.ndarray:
        """Goals (n, goal_dim) -> generator / evaluator input, about [-1, 1]."""
        g = np.asarray(goals, np.float64).reshape(-1, self.goal_dim)
        if self.box_goals:
            centre, half = self.goal_box
        elif self.goal_rms.count > 0:
            centre, half = self.goal_rms.mean, self.goal_rms.std
        else:
            centre, half = np.zeros(self.goal_dim), np.ones(self.goal_dim)
        return ((g - centre) / half).astype(np.float32)

    def _normalizer(self) -> tuple[np.ndarray, np.ndarray]:
        """(shift, scale) of the policy-input normalisation in force (identity before episode 2)."""
        if not self.config.normalize_observations or self.episodes == 0:
            d = self.layout.obs_dim
            return np.zeros(d, np.float32), np.ones(d, np.float32)
        return self.obs_rms.affine()

    def _policy_input(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        x = np.asarray(obs["observation"], np.float32).reshape(-1, self.obs_dim)
        if self.config.goal_in_policy:
            x = np.concatenate([x, np.asarray(obs["desired_goal"], np.float32).reshape(-1, self.goal_dim)], 1)
        return x

    @torch.no_grad()
    def generate(self, goals: np.ndarray) -> np.ndarray:
        """Mean parameters G(g) (n, n_params) float32 for raw goals (no noise)."""
        return self.generator(torch.from_numpy(self.scale_goals(goals))).numpy()

    # ------------------------------------------------------------------ relabelled returns
    def relabelled_returns(self, rows: np.ndarray, goals: np.ndarray) -> np.ndarray:
        """Return of buffer episode ``rows[i]`` for goal ``goals[j]`` under ``compute_reward``,
        divided by the time limit: (len(rows), len(goals))."""
        ag = self.buffer.achieved[rows]  # (B, T, d)
        B, T, d = ag.shape
        G = len(goals)
        a = np.broadcast_to(ag[:, None], (B, G, T, d)).reshape(-1, d)
        g = np.broadcast_to(np.asarray(goals, np.float32)[None, :, None], (B, G, T, d)).reshape(-1, d)
        r = np.asarray(self.compute_reward(a, g, None), np.float64).reshape(B, G, T)
        mask = np.arange(T)[None, :] < self.buffer.lengths[rows][:, None]  # (B, T)
        return (r * mask[:, None]).sum(-1) / self.horizon

    # ------------------------------------------------------------------ one episode
    def _run_episode(self, theta: np.ndarray, obs: dict[str, np.ndarray]) -> tuple[float, list, list, float]:
        layers = self.layout.unflatten(theta)
        shift, scale = self._normalizer()
        inputs, achieved, ret, success = [], [], 0.0, 0.0
        while True:
            x = self._policy_input(obs)[0]
            inputs.append(x)
            a = mlp_forward(layers, ((x - shift) * scale)[None])[0] * self.act_scale + self.act_centre
            obs, r, term, trunc, info = self.env.step(a)
            ret += float(r)
            achieved.append(np.asarray(obs["achieved_goal"], np.float32).reshape(-1))
            success = float(info.get("is_success", info.get("success", 0.0)))
            if term or trunc:
                return ret, inputs, achieved, success

    def _update_evaluator(self) -> float:
        cfg = self.config
        B = cfg.batch_size
        rows = self.buffer.sample(self.rng, B)
        if cfg.goal_in_policy:  # only the commanded goal is a valid relabel (the policy saw it)
            goals = self.buffer.goals[rows]
            target = np.diag(self.relabelled_returns(rows, goals))
            theta = torch.from_numpy(self.buffer.thetas[rows])
            g = torch.from_numpy(self.scale_goals(goals))
            pred = self.evaluator(theta, g)
        else:
            lengths = self.buffer.lengths[rows]
            t = (self.rng.random(B) * lengths).astype(np.int64)
            others = self.buffer.sample(self.rng, B)
            goals = np.concatenate([self.buffer.goals[rows],                                  # commanded
                                    self.buffer.achieved[rows, lengths - 1],                  # final achieved
                                    self.buffer.achieved[rows, t],                            # along the way
                                    self.buffer.goals[others]])                               # task goals
            uniq, inv = np.unique(rows, return_inverse=True)
            target = self.relabelled_returns(uniq, goals)[inv.reshape(-1)]  # (B, G)
            fp = self.evaluator.fingerprint(torch.from_numpy(self.buffer.thetas[uniq]))[torch.from_numpy(inv.reshape(-1))]
            G = len(goals)
            g = torch.from_numpy(self.scale_goals(goals))
            pred = self.evaluator.head(fp[:, None].expand(-1, G, -1).reshape(B * G, -1),
                                       g[None].expand(B, -1, -1).reshape(B * G, -1)).reshape(B, G)
        loss = ((pred - torch.as_tensor(target, dtype=torch.float32)) ** 2).mean()
        self.opt_v.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_v.step()
        return float(loss.detach())

    def _generator_goals(self) -> np.ndarray:
        cfg = self.config
        rows = self.buffer.sample(self.rng, cfg.batch_size)
        achieved = self.buffer.achieved[rows, self.buffer.lengths[rows] - 1]
        use_achieved = self.rng.random(cfg.batch_size) < cfg.achieved_goal_fraction
        return np.where(use_achieved[:, None], achieved, self.buffer.goals[rows])

    def _update_generator(self) -> float:
        g = torch.from_numpy(self.scale_goals(self._generator_goals()))
        value = self.evaluator(self.generator(g), g).mean()
        self.opt_g.zero_grad(set_to_none=True)
        (-value).backward()
        self.opt_g.step()
        return float(value.detach())

    def _iteration(self) -> None:
        cfg = self.config
        obs, _ = self.env.reset(seed=int(self.rng.integers(0, 2**31 - 1)))
        goal = np.asarray(obs["desired_goal"], np.float32).reshape(-1)
        theta = self.generate(goal[None])[0]
        if cfg.param_noise > 0:
            theta = theta + cfg.param_noise * self.rng.standard_normal(theta.shape, dtype=np.float32)
        ret, inputs, achieved, success = self._run_episode(theta, obs)
        self.env_steps += len(achieved)
        if cfg.normalize_observations:
            self.obs_rms.update(np.stack(inputs))
        self.goal_rms.update(goal[None])
        self.buffer.add(theta, goal, np.stack(achieved))
        self.episodes += 1
        self.last_return = ret
        self.successes = (self.successes + [success])[-20:]

        for _ in range(cfg.evaluator_updates):
            self.loss_v = self._update_evaluator()
        params = list(self.evaluator.parameters())
        for p in params:  # evaluator frozen: gradients reach the generator only
            p.requires_grad_(False)
        try:
            for _ in range(cfg.generator_updates):
                self.value_g = self._update_generator()
        finally:
            for p in params:
                p.requires_grad_(True)

    def learn(self, until_env_steps: int) -> None:
        while self.env_steps < until_env_steps:
            self._iteration()

    # ------------------------------------------------------------------ evaluation
    def policy(self, command: float | None = None) -> Policy:
        """Generates ``theta = G(g)`` for each observation's desired goal (cached per goal)."""
        shift, scale = self._normalizer()
        cache: dict[bytes, np.ndarray] = {}

        def act(obs: dict[str, np.ndarray]) -> np.ndarray:
            goals = np.asarray(obs["desired_goal"], np.float32).reshape(-1, self.goal_dim)
            keys = [g.tobytes() for g in goals]
            missing = [i for i, k in enumerate(keys) if k not in cache]
            if missing:
                for i, th in zip(missing, self.generate(goals[missing])):
                    cache[keys[i]] = th
            thetas = np.stack([cache[k] for k in keys])
            x = (self._policy_input(obs) - shift) * scale
            return batched_forward(self.layout.unflatten(thetas), x) * self.act_scale + self.act_centre

        return act

    def training_stats(self) -> dict[str, float]:
        rate = float(np.mean(self.successes)) if self.successes else float("nan")
        return {"episodes": self.episodes, "last_return": float(self.last_return),
                "train_success_last20": rate, "loss_evaluator": float(self.loss_v),
                "value_generated": float(self.value_g)}

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(), "evaluator": self.evaluator.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_v": self.opt_v.state_dict(),
            "buffer": self.buffer.state_dict(), "obs_rms": self.obs_rms.state_dict(),
            "goal_rms": self.goal_rms.state_dict(), "rng": self.rng.bit_generator.state,
            "env_steps": self.env_steps, "episodes": self.episodes, "successes": list(self.successes),
            "last_return": self.last_return, "loss_v": self.loss_v, "value_g": self.value_g,
        }

    def final_state(self) -> dict[str, Any]:
        """Networks, normalisers and counters; no buffer."""
        return {k: v for k, v in self.state_dict().items() if k != "buffer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.evaluator.load_state_dict(state["evaluator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_v.load_state_dict(state["opt_v"])
        if "buffer" in state:  # a finished run's model.pt has none: it acts, it does not resume
            self.buffer.load_state_dict(state["buffer"])
        self.obs_rms.load_state_dict(state["obs_rms"])
        self.goal_rms.load_state_dict(state["goal_rms"])
        self.rng.bit_generator.state = state["rng"]
        self.successes = list(state["successes"])
        for key in ("env_steps", "episodes", "last_return", "loss_v", "value_g"):
            setattr(self, key, state[key])
