"""GPIM: discriminator reward, relabelling, no env reward in training, exact resume."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from algorithms import get_algorithm
from algorithms.base import EnvInfo
from algorithms.common import seed_everything
from algorithms.gpim import GPIM, Discriminator, GPIMConfig
from bench.evaluation import evaluate
from envs.registry import make_env

ENV = "Nav2D-v0"
SMALL = dict(hidden_sizes=[32, 32], batch_size=32, learning_starts=60)


class NaNReward(gym.Wrapper):
    """Poisons the environment's reward: training must never read it."""

    def step(self, action):
        obs, _, term, trunc, info = self.env.step(action)
        return obs, float("nan"), term, trunc, info


def build(seed: int = 0, poison: bool = False, **kw):
    def factory(*, remove_survival_bonus: bool = False):
        env = make_env(ENV)
        return NaNReward(env) if poison else env

    env = factory()
    info = EnvInfo(ENV, ENV, env.observation_space, env.action_space, 0.0, None, 50)
    seed_everything(seed)
    return GPIM(factory, seed, GPIMConfig(**kw), info)


def test_registry_and_config_validation():
    assert get_algorithm("gpim") is GPIM and GPIM.conditioning == "goal"
    for bad in ({"latent": "gaussian"}, {"n_skills": 1}, {"reward_min": 1.0}, {"update_every": 0}):
        with pytest.raises(ValueError):
            GPIMConfig(**bad)


def test_discrete_discriminator_reward_sign_and_scale():
    k = 4
    disc = Discriminator(2, GPIMConfig(latent="discrete", n_skills=k, hidden_sizes=[8]))
    last = disc.net[-1]
    s = torch.zeros(3, 2)
    omega = torch.eye(k)[[0, 1, 2]]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        # uninformative discriminator: q = p, reward 0
        np.testing.assert_allclose(disc.log_ratio(s, omega).numpy(), 0.0, atol=1e-6)
        last.bias[0] = 50.0  # certain of skill 0
        r = disc.log_ratio(s, omega).numpy()
    assert r[0] == pytest.approx(np.log(k), abs=1e-5)  # the maximum: log K
    assert r[1] < -40 and r[2] < -40  # wrong skill: very negative


def test_continuous_discriminator_reward_sign_and_scale():
    cfg = GPIMConfig(latent="continuous", latent_dim=2, hidden_sizes=[8], disc_min_std=0.1)
    disc = Discriminator(2, cfg)
    with torch.no_grad():
        disc.net[-1].weight.zero_()
        disc.net[-1].bias.copy_(torch.tensor([0.3, -0.2]))
        disc.log_std.fill_(np.log(0.1))
        s = torch.zeros(4, 2)
        omega = torch.tensor([[0.3, -0.2], [0.4, -0.2], [0.5, -0.2], [-0.7, 0.8]])
        r = disc.log_ratio(s, omega).numpy()
        # log N(mu; mu, 0.1^2 I) - log U([-1,1]^2) = 2 * (log(1/0.1) - 0.5 log 2 pi + log 2)
        peak = 2 * (np.log(10.0) - 0.5 * np.log(2 * np.pi) + np.log(2.0))
        assert r[0] == pytest.approx(peak, rel=1e-5) and r[0] > 0
        assert r[0] > r[1] > r[2] > r[3]
        assert r[1] == pytest.approx(peak - 0.5, rel=1e-5)  # one std away: -1/2
        disc.log_std.fill_(np.log(0.01))  # the std floor applies
        assert disc.log_ratio(s, omega)[0].item() == pytest.approx(peak, rel=1e-5)


def test_relabelling_goal_episode_follows_skill_episode():
    algo = build(learning_starts=10_000, hidden_sizes=[16])
    algo.learn(50)  # one skill episode ends
    assert algo.phase == "goal"
    final = algo.skill_buf.data["next_ag"][49]
    np.testing.assert_array_equal(algo.goal, final)  # f_kappa: final achieved goal
    np.testing.assert_allclose(algo.obs["desired_goal"], final, atol=1e-6)  # Nav gets the goal as reset option
    np.testing.assert_array_equal(algo.obs["observation"], algo.skill_buf.data["obs"][0])  # same start state
    # the finished skill episode is shared with the goal policy, relabelled with its own final goal
    assert len(algo.goal_buf) == 50
    np.testing.assert_array_equal(algo.goal_buf.data["goal"][:50], np.tile(final, (50, 1)))
    np.testing.assert_array_equal(algo.goal_buf.data["omega"][:50], algo.skill_buf.data["omega"][:50])
    algo.learn(100)
    assert algo.phase == "start" and len(algo.goal_buf) == 100
    np.testing.assert_array_equal(algo.goal_buf.data["goal"][50:100], np.tile(final, (50, 1)))
    assert np.allclose(algo.goal_buf.data["omega"][50:100], algo.skill_buf.data["omega"][0])
    no_share = build(learning_starts=10_000, hidden_sizes=[16], share_skill_data=False)
    no_share.learn(100)
    assert len(no_share.goal_buf) == 50


def test_env_reward_is_never_used():
    algo = build(poison=True, **SMALL)
    algo.learn(300)
    for net in (algo.skill, algo.goal_pol, algo.disc):
        assert all(torch.isfinite(p).all() for p in net.parameters())
    assert np.isfinite(list(algo.training_stats().values())).all()


@pytest.mark.parametrize("latent", ["continuous", "discrete"])
def test_resume_mid_episode_is_exact(latent):
    a = build(latent=latent, **SMALL)
    a.learn(87)  # inside the first goal episode
    assert a.env_steps == 87 and a.phase == "goal"
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    a.learn(230)
    b = build(latent=latent, seed=0, **SMALL)
    b.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=False))
    b.learn(230)
    for x, y in ((a.skill, b.skill), (a.goal_pol, b.goal_pol), (a.disc, b.disc)):
        sx, sy = x.state_dict(), y.state_dict()
        assert all(torch.equal(sx[k], sy[k]) for k in sx)
    assert b.env_steps == 230


@pytest.mark.slow
def test_gpim_reaches_unrewarded_goals():
    """After training on intrinsic rewards only, pi_theta beats its untrained self and random actions."""
    envs = [make_env(ENV) for _ in range(50)]
    algo = build(seed=0, hidden_sizes=[128, 128], batch_size=128, update_every=2)
    untrained = evaluate(algo.policy(), envs, run_seed=0, eval_index=1)
    rng = np.random.default_rng(0)
    random = evaluate(lambda o: rng.uniform(-1, 1, (len(o["observation"]), 2)), envs, run_seed=0, eval_index=1)
    algo.learn(20_000)
    trained = evaluate(algo.policy(), envs, run_seed=0, eval_index=1)
    assert trained["norm_distance_mean"] < 0.6 * min(untrained["norm_distance_mean"], random["norm_distance_mean"])
    assert trained["success_rate"] > max(untrained["success_rate"], random["success_rate"]) + 0.1


def test_skill_artifact(tmp_path):
    import pandas as pd

    algo = build(learning_starts=10_000, hidden_sizes=[16])
    algo.write_artifacts(tmp_path)
    df = pd.read_csv(tmp_path / "skills.csv")
    assert len(df) == 25 and {"omega_0", "omega_1", "final_0", "final_1"} <= set(df)
    assert algo.env_steps == 0  # not charged to the budget
