"""GPIM: goal-conditioned policy with intrinsic motivation (Liu, Wang, Tian, Chen; AAAI 2022).

No public code exists; this follows the slides (``reference/004``) and the paper's text.
Two policies and one discriminator are trained together, with no environment reward:

1. **Skills.** A latent-conditioned policy ``pi_mu(a | s, omega)``, ``omega ~ p(omega)``,
   runs one episode per latent. A discriminator ``q_phi(omega | s)`` learns to recover
   the latent from the states visited; the skill reward is
   ``r_t = log q_phi(omega | s_{t+1}) - log p(omega)`` (DIAYN).
2. **Relabelling.** ``f_kappa`` turns the state the skill reached into a goal
   ``g = f_kappa(s_T)``.
3. **Goal-conditioned policy.** ``pi_theta(a | s, g)`` then runs one episode from the
   same start state (same reset seed) with goal ``g`` and is rewarded with the *same*
   discriminator reward for the omega that produced g,
   ``r_t = log q_phi(omega | s~_{t+1}) - log p(omega)``: it learns to go where skill
   omega goes, i.e. to g. The environment's goal reward is never used in training
   (``env.step``'s reward is discarded).

Evaluation runs ``pi_theta`` deterministically on the environment's own goals.

Design choices the source leaves open (each is a Config field where it makes sense):

- **Latent.** Default continuous ``omega ~ U[-1, 1]^latent_dim`` with a Gaussian
  discriminator ``q_phi(omega | s) = N(mu_phi(s), diag(sigma^2))`` (state-dependent mean,
  learned state-independent sigma, floored at ``disc_min_std``): the reward then peaks
  where ``mu_phi(s) = omega``, which makes goal reaching precise. ``latent = "discrete"``
  gives DIAYN's categorical skills (``n_skills``, uniform prior, softmax discriminator);
  there the reward is flat inside a skill's region, so goals are reached only as
  precisely as the regions are small.
- **Discriminator input.** The achieved goal of the next state (the goal-space
  projection the env provides; DIAYN's "x-y prior"). It is trained on the skill
  policy's transitions only (maximum likelihood of omega).
- **Relabelling f_kappa.** The achieved goal at the last step of the skill episode.
- **Start state of the goal episode.** The skill episode's reset seed is reused, so
  both episodes start from the same state; our Nav env additionally receives
  ``options={"goal": g}`` so its observation carries g (other envs: g replaces the
  observation's ``desired_goal`` in the policy input).
- **Off-policy learner.** A compact SAC (this module; twin Q, target networks,
  learned temperature) for both policies: SB3's learners do not accept rewards that
  are recomputed from a changing discriminator at sampling time. Rewards are
  recomputed with the current discriminator for every sampled batch and clipped
  below at ``reward_min``.
- **Skill data for the goal policy** (``share_skill_data``, default true): every
  finished skill episode is also stored in the goal policy's replay buffer, with its
  own final achieved goal as g and the same omega. This is off-policy data of exactly
  the goal-reaching task and needs no extra environment steps; it is our addition
  (set false for the paper's scheme of learning only from pi_theta's own episodes).
- **Schedule.** Skill and goal episodes alternate (one each per latent); after
  ``learning_starts`` steps of uniform random actions, every ``update_every``
  environment steps do ``updates_per_step`` updates of the discriminator and of each policy.
- **Budget.** Environment steps of both policies count.
- **Sizes.** Defaults are 256x256 and one update round per step; ``benchmark.toml``
  uses 128x128, batch 128 and ``update_every = 2`` to fit small CPU budgets.

What limits it: pi_theta can only be as precise as the skills and the discriminator
(reward peaks where ``mu_phi(s) = omega``, with width ``sigma >= disc_min_std`` in
latent space), and it only sees goals the skills reach; goals in regions the skills
never cover are reached by extrapolation alone.

Step accounting is exact per step: ``learn(n)`` stops at n steps, possibly mid-episode;
``state_dict`` stores the episode in progress (environment snapshot, phase, latent, goal).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from algorithms.base import Algorithm, EnvFactory, EnvInfo, Policy
from algorithms.env_state import env_state, set_env_state


@dataclass
class GPIMConfig:
    latent: str = "continuous"
    """Latent type: "continuous" (U[-1,1]^latent_dim, Gaussian discriminator) or "discrete" (DIAYN skills)."""
    latent_dim: int = 2
    """Dimension of the continuous latent omega."""
    n_skills: int = 16
    """Number of discrete skills (latent = "discrete")."""
    hidden_sizes: list[int] = field(default_factory=lambda: [256, 256])
    """Hidden layers (ReLU) of actors, critics and discriminator."""
    learning_rate: float = 3e-4
    """Adam step size of actors, critics and temperature (SAC default)."""
    disc_learning_rate: float = 3e-4
    """Adam step size of the discriminator."""
    batch_size: int = 256
    """Minibatch size of every update."""
    buffer_size: int = 1_000_000
    """Capacity of each replay buffer (skills, goals)."""
    gamma: float = 0.99
    """Discount."""
    tau: float = 0.005
    """Target-network soft-update rate."""
    init_temperature: float = 0.1
    """Initial SAC entropy temperature (learned; target entropy = -act_dim)."""
    learning_starts: int = 1000
    """Uniform random actions and no updates before this many environment steps."""
    updates_per_step: int = 1
    """Gradient updates of the discriminator and of each policy per update round."""
    update_every: int = 1
    """Environment steps between update rounds (2 halves the compute; CPU-friendly)."""
    disc_min_std: float = 0.1
    """Floor of the Gaussian discriminator's std (continuous latent)."""
    reward_min: float = -10.0
    """Intrinsic rewards are clipped below at this value."""
    share_skill_data: bool = True
    """Also train pi_theta on skill episodes relabelled with their own final goal (see module doc)."""

    def __post_init__(self) -> None:
        if self.latent not in ("continuous", "discrete"):
            raise ValueError(f"latent must be 'continuous' or 'discrete', got {self.latent!r}")
        if self.latent_dim < 1 or self.n_skills < 2:
            raise ValueError("latent_dim must be >= 1 and n_skills >= 2")
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ValueError("hidden_sizes must be positive integers")
        for name in ("learning_rate", "disc_learning_rate", "gamma", "tau", "init_temperature", "disc_min_std"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if not 0 < self.gamma <= 1 or not 0 < self.tau <= 1:
            raise ValueError("gamma and tau must be in (0, 1]")
        if self.batch_size < 1 or self.buffer_size < self.batch_size:
            raise ValueError("need 1 <= batch_size <= buffer_size")
        if self.learning_starts < 0 or self.updates_per_step < 0 or self.update_every < 1:
            raise ValueError("learning_starts and updates_per_step must be >= 0")
        if self.reward_min >= 0:
            raise ValueError("reward_min must be negative")


# ----------------------------------------------------------------------------- networks
def mlp(inp: int, out: int, hidden: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(inp, h), nn.ReLU()]
        inp = h
    layers.append(nn.Linear(inp, out))
    return nn.Sequential(*layers)


class Discriminator(nn.Module):
    """q_phi(omega | s) on achieved goals; ``log_ratio`` is the intrinsic reward."""

    def __init__(self, goal_dim: int, cfg: GPIMConfig):
        super().__init__()
        self.discrete = cfg.latent == "discrete"
        self.k = cfg.n_skills if self.discrete else cfg.latent_dim
        self.net = mlp(goal_dim, self.k, cfg.hidden_sizes)
        self.log_std = nn.Parameter(torch.zeros(self.k))
        self.min_log_std = float(np.log(cfg.disc_min_std))
        # log p(omega): uniform over n_skills, or uniform density on [-1, 1]^d
        self.log_prior = -float(np.log(cfg.n_skills)) if self.discrete else -cfg.latent_dim * float(np.log(2.0))

    def log_q(self, goal: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
        """log q_phi(omega | s) per row; omega is one-hot (discrete) or a vector (continuous)."""
        out = self.net(goal)
        if self.discrete:
            return (F.log_softmax(out, -1) * omega).sum(-1)
        log_std = self.log_std.clamp(min=self.min_log_std, max=1.0)
        z = (omega - out) / log_std.exp()
        return (-0.5 * z.pow(2) - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)

    def log_ratio(self, goal: torch.Tensor, omega: torch.Tensor) -> torch.Tensor:
        """The intrinsic reward log q_phi(omega | s') - log p(omega)."""
        return self.log_q(goal, omega) - self.log_prior


class SAC(nn.Module):
    """Compact SAC (twin Q, target critics, learned temperature) on flat inputs."""

    def __init__(self, obs_dim: int, act_dim: int, cfg: GPIMConfig):
        super().__init__()
        h = cfg.hidden_sizes
        self.actor = mlp(obs_dim, 2 * act_dim, h)
        self.q1, self.q2 = mlp(obs_dim + act_dim, 1, h), mlp(obs_dim + act_dim, 1, h)
        self.q1_t, self.q2_t = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        for p in (*self.q1_t.parameters(), *self.q2_t.parameters()):
            p.requires_grad_(False)
        self.log_alpha = nn.Parameter(torch.tensor(float(np.log(cfg.init_temperature))))
        self.target_entropy = -float(act_dim)
        self.gamma, self.tau = cfg.gamma, cfg.tau
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=cfg.learning_rate)
        self.critic_opt = torch.optim.Adam([*self.q1.parameters(), *self.q2.parameters()], lr=cfg.learning_rate)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=cfg.learning_rate)

    def dist(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.actor(obs).chunk(2, -1)
        return mean, log_std.clamp(-5.0, 2.0)

    def sample(self, obs: torch.Tensor, gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A tanh-squashed sample in [-1, 1] and its log-probability."""
        mean, log_std = self.dist(obs)
        std = log_std.exp()
        u = mean + std * torch.randn(mean.shape, generator=gen)
        a = torch.tanh(u)
        logp = (-0.5 * ((u - mean) / std).pow(2) - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
        logp = logp - (2 * (np.log(2.0) - u - F.softplus(-2 * u))).sum(-1)
        return a, logp

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dist(obs)[0])

    def update(self, obs, act, rew, next_obs, done, gen: torch.Generator) -> dict[str, float]:
        alpha = self.log_alpha.exp().detach()
        with torch.no_grad():
            a2, logp2 = self.sample(next_obs, gen)
            x2 = torch.cat([next_obs, a2], -1)
            q_t = torch.min(self.q1_t(x2), self.q2_t(x2)).squeeze(-1) - alpha * logp2
            target = rew + self.gamma * (1.0 - done) * q_t
        x = torch.cat([obs, act], -1)
        critic_loss = F.mse_loss(self.q1(x).squeeze(-1), target) + F.mse_loss(self.q2(x).squeeze(-1), target)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()

        a, logp = self.sample(obs, gen)
        xa = torch.cat([obs, a], -1)
        actor_loss = (alpha * logp - torch.min(self.q1(xa), self.q2(xa)).squeeze(-1)).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()

        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()
        with torch.no_grad():
            for net, tgt in ((self.q1, self.q1_t), (self.q2, self.q2_t)):
                for p, pt in zip(net.parameters(), tgt.parameters()):
                    pt.mul_(1 - self.tau).add_(self.tau * p)
        return {"critic_loss": float(critic_loss.detach()), "alpha": float(alpha)}

    def optim_state(self) -> dict[str, Any]:
        return {k: copy.deepcopy(getattr(self, k).state_dict()) for k in ("actor_opt", "critic_opt", "alpha_opt")}

    def load_optim_state(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            getattr(self, k).load_state_dict(v)


class Buffer:
    """Circular replay of named float32 fields."""

    def __init__(self, size: int, shapes: dict[str, int]):
        self.size, self.pos, self.full = size, 0, False
        self.data = {k: np.zeros((size, d), np.float32) for k, d in shapes.items()}

    def __len__(self) -> int:
        return self.size if self.full else self.pos

    def add(self, **row: np.ndarray) -> int:
        i = self.pos
        for k, v in row.items():
            self.data[k][i] = v
        self.pos = (self.pos + 1) % self.size
        self.full = self.full or self.pos == 0
        return i

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        idx = rng.integers(0, len(self), size=n)
        return {k: torch.as_tensor(v[idx]) for k, v in self.data.items()}

    def state_dict(self) -> dict[str, Any]:
        n = len(self)
        return {"pos": self.pos, "full": self.full, "data": {k: v[:n].copy() for k, v in self.data.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pos, self.full = int(state["pos"]), bool(state["full"])
        for k, v in state["data"].items():
            self.data[k][: len(v)] = v


# ----------------------------------------------------------------------------- algorithm
class GPIM(Algorithm):
    """Skills + relabelled goals + discriminator-rewarded goal-conditioned policy."""

    Config: ClassVar[type] = GPIMConfig
    conditioning: ClassVar[str] = "goal"

    def __init__(self, make_env: EnvFactory, seed: int, config: GPIMConfig, env_info: EnvInfo):
        super().__init__(make_env, seed, config, env_info)
        c = config
        self.rng = np.random.default_rng(seed)
        self.tgen = torch.Generator().manual_seed(int(self.rng.integers(2**31 - 1)))
        self.env = make_env()
        space = self.env.observation_space
        self.obs_dim = space["observation"].shape[0]
        self.goal_dim = space["desired_goal"].shape[0]
        self.act_dim = self.env.action_space.shape[0]
        low, high = self.env.action_space.low, self.env.action_space.high
        self.act_scale, self.act_centre = (high - low) / 2.0, (high + low) / 2.0
        self.lat_dim = c.n_skills if c.latent == "discrete" else c.latent_dim
        self.disc = Discriminator(self.goal_dim, c)
        self.disc_opt = torch.optim.Adam(self.disc.parameters(), lr=c.disc_learning_rate)
        self.skill = SAC(self.obs_dim + self.lat_dim, self.act_dim, c)
        self.goal_pol = SAC(self.obs_dim + self.goal_dim, self.act_dim, c)
        row = {"obs": self.obs_dim, "act": self.act_dim, "next_obs": self.obs_dim, "next_ag": self.goal_dim,
               "omega": self.lat_dim, "done": 1}
        self.skill_buf = Buffer(c.buffer_size, row)
        self.goal_buf = Buffer(c.buffer_size, {**row, "goal": self.goal_dim})
        self._nav_goal_option = hasattr(self.env.unwrapped, "sweep_goals")
        # the episode in progress
        self.phase = "start"  # "start" | "skill" | "goal"
        self.obs: dict[str, np.ndarray] | None = None
        self.omega = np.zeros(self.lat_dim, np.float32)
        self.goal = np.zeros(self.goal_dim, np.float32)
        self.reset_seed = 0
        self.skill_ep_start = 0
        self.stats: dict[str, float] = {}

    # ------------------------------------------------------------------ helpers
    def _sample_omega(self) -> np.ndarray:
        if self.config.latent == "discrete":
            w = np.zeros(self.lat_dim, np.float32)
            w[self.rng.integers(self.lat_dim)] = 1.0
            return w
        return self.rng.uniform(-1.0, 1.0, self.lat_dim).astype(np.float32)

    def _act(self, sac: SAC, x: np.ndarray) -> np.ndarray:
        if self.env_steps < self.config.learning_starts:
            return self.rng.uniform(-1.0, 1.0, self.act_dim).astype(np.float32)
        with torch.no_grad():
            a, _ = sac.sample(torch.as_tensor(x[None], dtype=torch.float32), self.tgen)
        return a[0].numpy()

    def _begin(self, phase: str) -> None:
        if phase == "skill":
            self.reset_seed = int(self.rng.integers(2**31 - 1))
            self.omega = self._sample_omega()
            self.obs, _ = self.env.reset(seed=self.reset_seed)
            self.skill_ep_start = self.skill_buf.pos
        else:
            options = {"goal": self.goal.astype(np.float64)} if self._nav_goal_option else None
            self.obs, _ = self.env.reset(seed=self.reset_seed, options=options)
        self.phase = phase

    def _share_skill_episode(self) -> None:
        """Copy the finished skill episode into the goal buffer, relabelled with its own final goal."""
        n = (self.skill_buf.pos - self.skill_ep_start) % self.skill_buf.size
        idx = (self.skill_ep_start + np.arange(n)) % self.skill_buf.size
        d = self.skill_buf.data
        for i in idx:
            self.goal_buf.add(obs=d["obs"][i], act=d["act"][i], next_obs=d["next_obs"][i], next_ag=d["next_ag"][i],
                              omega=d["omega"][i], done=d["done"][i], goal=self.goal)

    def _update(self) -> None:
        c = self.config
        # discriminator: maximum likelihood of the skill's latent from the reached state
        b = self.skill_buf.sample(self.rng, c.batch_size)
        disc_loss = -self.disc.log_q(b["next_ag"], b["omega"]).mean()
        self.disc_opt.zero_grad()
        disc_loss.backward()
        self.disc_opt.step()
        with torch.no_grad():
            r = self.disc.log_ratio(b["next_ag"], b["omega"]).clamp(min=c.reward_min)
        self.skill.update(torch.cat([b["obs"], b["omega"]], -1), b["act"], r,
                          torch.cat([b["next_obs"], b["omega"]], -1), b["done"][:, 0], self.tgen)
        self.stats["disc_log_q"] = -float(disc_loss.detach())
        self.stats["skill_reward"] = float(r.mean())
        if len(self.goal_buf) >= c.batch_size:
            g = self.goal_buf.sample(self.rng, c.batch_size)
            with torch.no_grad():
                rg = self.disc.log_ratio(g["next_ag"], g["omega"]).clamp(min=c.reward_min)
            self.goal_pol.update(torch.cat([g["obs"], g["goal"]], -1), g["act"], rg,
                                 torch.cat([g["next_obs"], g["goal"]], -1), g["done"][:, 0], self.tgen)
            self.stats["goal_reward"] = float(rg.mean())

    # ------------------------------------------------------------------ training
    def learn(self, until_env_steps: int) -> None:
        c = self.config
        while self.env_steps < until_env_steps:
            if self.phase == "start":
                self._begin("skill")
            o = self.obs
            if self.phase == "skill":
                x = np.concatenate([o["observation"], self.omega]).astype(np.float32)
                a = self._act(self.skill, x)
            else:
                x = np.concatenate([o["observation"], self.goal]).astype(np.float32)
                a = self._act(self.goal_pol, x)
            o2, _env_reward, term, trunc, _ = self.env.step(a * self.act_scale + self.act_centre)  # reward unused
            self.env_steps += 1
            row = dict(obs=o["observation"], act=a, next_obs=o2["observation"], next_ag=o2["achieved_goal"],
                       omega=self.omega, done=np.array([float(term)], np.float32))
            if self.phase == "skill":
                self.skill_buf.add(**row)
            else:
                self.goal_buf.add(**row, goal=self.goal)
            self.obs = o2
            if term or trunc:
                if self.phase == "skill":
                    self.goal = np.asarray(o2["achieved_goal"], np.float32).copy()  # f_kappa: final achieved goal
                    if c.share_skill_data:
                        self._share_skill_episode()
                    self._begin("goal")
                else:
                    self.phase = "start"
            if (self.env_steps >= c.learning_starts and len(self.skill_buf) >= c.batch_size
                    and self.env_steps % c.update_every == 0):
                for _ in range(c.updates_per_step):
                    self._update()

    # ------------------------------------------------------------------ evaluation
    def policy(self, command: float | None = None) -> Policy:
        sac, scale, centre = self.goal_pol, self.act_scale, self.act_centre

        def act(obs: dict[str, np.ndarray]) -> np.ndarray:
            x = np.concatenate([np.asarray(obs["observation"]), np.asarray(obs["desired_goal"])], -1)
            with torch.no_grad():
                a = sac.deterministic(torch.as_tensor(x, dtype=torch.float32)).numpy()
            return a * scale + centre

        return act

    def skill_policy(self, omega: np.ndarray) -> Policy:
        """Deterministic skill policy for a fixed latent (analysis)."""
        sac, scale, centre = self.skill, self.act_scale, self.act_centre
        w = np.asarray(omega, np.float32)

        def act(obs: dict[str, np.ndarray]) -> np.ndarray:
            o = np.asarray(obs["observation"], np.float32)
            x = np.concatenate([o, np.broadcast_to(w, (len(o), w.size))], -1)
            with torch.no_grad():
                a = sac.deterministic(torch.as_tensor(x)).numpy()
            return a * scale + centre

        return act

    def training_stats(self) -> dict[str, float]:
        return dict(self.stats)

    def write_artifacts(self, run_dir) -> None:
        """``skills.csv``: where each skill goes (deterministic skill policy from a fixed reset),
        a 5x5 grid of continuous latents or every discrete skill. Not charged to the budget."""
        import pandas as pd

        from algorithms.common import run_episodes

        if self.config.latent == "discrete":
            omegas = np.eye(self.lat_dim, dtype=np.float32)
        else:
            axes = [np.linspace(-1.0, 1.0, 5)] * self.lat_dim if self.lat_dim <= 2 else [np.linspace(-1, 1, 3)] * self.lat_dim
            omegas = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, self.lat_dim).astype(np.float32)
        envs = [self.make_env() for _ in range(len(omegas))]
        skill, scale, centre = self.skill, self.act_scale, self.act_centre

        def act(obs: dict[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
            x = np.concatenate([np.asarray(obs["observation"], np.float32), omegas[idx]], -1)
            with torch.no_grad():
                return skill.deterministic(torch.as_tensor(x)).numpy() * scale + centre

        ep = run_episodes(envs, act, [12345] * len(envs))
        rows = []
        for i, w in enumerate(omegas):
            row = {f"omega_{j}": float(v) for j, v in enumerate(w)}
            row.update({f"final_{j}": float(v) for j, v in enumerate(ep.final_achieved[i])})
            rows.append(row)
        pd.DataFrame(rows).to_csv(f"{run_dir}/skills.csv", index=False)
        for e in envs:
            e.close()

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "nets": {"disc": copy.deepcopy(self.disc.state_dict()), "skill": copy.deepcopy(self.skill.state_dict()),
                     "goal": copy.deepcopy(self.goal_pol.state_dict())},
            "optim": {"disc": copy.deepcopy(self.disc_opt.state_dict()), "skill": self.skill.optim_state(),
                      "goal": self.goal_pol.optim_state()},
            "buffers": {"skill": self.skill_buf.state_dict(), "goal": self.goal_buf.state_dict()},
            "rng": copy.deepcopy(self.rng.bit_generator.state), "tgen": self.tgen.get_state(),
            "episode": {"phase": self.phase, "obs": copy.deepcopy(self.obs), "omega": self.omega.copy(),
                        "goal": self.goal.copy(), "reset_seed": self.reset_seed, "skill_ep_start": self.skill_ep_start},
            "env": env_state(self.env) if self.phase != "start" else None,
            "env_steps": self.env_steps, "stats": dict(self.stats),
        }

    def final_state(self) -> dict[str, Any]:
        """Networks and optimisers, without the replay buffers."""
        state = self.state_dict()
        del state["buffers"]
        return state

    def load_final_state(self, state: dict[str, Any]) -> None:
        """Read :meth:`final_state` (``model.pt``): everything but the replay buffers, which are emptied."""
        empty = {"pos": 0, "full": False, "data": {}}
        self.load_state_dict({**state, "buffers": {"skill": empty, "goal": empty}})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.disc.load_state_dict(state["nets"]["disc"])
        self.skill.load_state_dict(state["nets"]["skill"])
        self.goal_pol.load_state_dict(state["nets"]["goal"])
        self.disc_opt.load_state_dict(state["optim"]["disc"])
        self.skill.load_optim_state(state["optim"]["skill"])
        self.goal_pol.load_optim_state(state["optim"]["goal"])
        self.skill_buf.load_state_dict(state["buffers"]["skill"])
        self.goal_buf.load_state_dict(state["buffers"]["goal"])
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.tgen.set_state(state["tgen"])
        ep = state["episode"]
        self.phase, self.obs = ep["phase"], copy.deepcopy(ep["obs"])
        self.omega, self.goal = ep["omega"].copy(), ep["goal"].copy()
        self.reset_seed, self.skill_ep_start = int(ep["reset_seed"]), int(ep["skill_ep_start"])
        if state["env"] is not None:
            set_env_state(self.env, state["env"])
        self.env_steps = int(state["env_steps"])
        self.stats = dict(state["stats"])
