"""HER (SB3 HerReplayBuffer) and its no-HER control on the Nav goal env."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from algorithms import get_algorithm
from algorithms.base import EnvInfo
from algorithms.common import global_rng_state, seed_everything, set_global_rng_state
from algorithms.her import HER, DDPGGoal, HERConfig
from bench.evaluation import evaluate
from envs.registry import make_env

ENV = "Nav2D-v0"


def build(cls=HER, seed: int = 0, **kw):
    def factory(*, remove_survival_bonus: bool = False):
        return make_env(ENV)

    env = factory()
    info = EnvInfo(ENV, ENV, env.observation_space, env.action_space, 0.0, None, 50)
    seed_everything(seed)
    return cls(factory, seed, HERConfig(**kw), info)


def test_registry_and_config_validation():
    assert get_algorithm("her") is HER and get_algorithm("ddpg_goal") is DDPGGoal
    assert HER.conditioning == "goal"
    for bad in ({"learner": "ppo"}, {"goal_selection_strategy": "random"}, {"n_sampled_goal": 0}, {"gamma": 1.5}):
        with pytest.raises(ValueError):
            HERConfig(**bad)


def test_learn_stops_exactly_and_policy_is_batched():
    algo = build(learning_starts=50, batch_size=32, hidden_sizes=[32, 32])
    algo.learn(73)
    assert algo.env_steps == 73
    algo.learn(73)
    assert algo.env_steps == 73
    algo.learn(120)
    assert algo.env_steps == 120
    obs = {k: np.zeros((5, 2), np.float32) for k in ("observation", "achieved_goal", "desired_goal")}
    act = algo.policy()(obs)
    assert act.shape == (5, 2) and np.all(np.abs(act) <= 1)


def test_hindsight_relabelling():
    """Sampled goals are the episode's real goal or achieved goals, rewards recomputed."""
    algo = build(learning_starts=10_000)  # random actions only: no update needed
    algo.learn(500)
    buf = algo.model.replay_buffer
    n = buf.pos
    real_goals = buf.observations["desired_goal"][:n, 0]
    achieved = buf.next_observations["achieved_goal"][:n, 0]
    np.random.seed(0)
    batch = buf.sample(2000)
    goals = batch.observations["desired_goal"].numpy()
    is_real = (np.abs(goals[:, None, :] - real_goals[None]).max(-1) < 1e-6).any(1)
    is_achieved = (np.abs(goals[:, None, :] - achieved[None]).max(-1) < 1e-6).any(1)
    assert np.all(is_real | is_achieved)
    # 4 sampled goals: 80 % of the batch is relabelled
    assert 0.75 < np.mean(~is_real) < 0.85
    env = make_env(ENV).unwrapped
    expected = env.compute_reward(batch.next_observations["achieved_goal"].numpy(), goals, None)
    np.testing.assert_array_equal(batch.rewards.numpy()[:, 0], expected)
    # relabelled transitions bring successes that the real (sparse) reward almost never gives
    assert np.mean(expected == 0) > 0.1
    # the control stores real goals only
    control = build(DDPGGoal, learning_starts=10_000)
    control.learn(200)
    assert not control.use_her and type(control.model.replay_buffer).__name__ == "DictReplayBuffer"


@pytest.mark.parametrize("learner", ["ddpg", "sac"])
def test_resume_mid_episode_is_exact(learner):
    kw = dict(learner=learner, learning_starts=60, batch_size=32, hidden_sizes=[32, 32])
    a = build(**kw)
    a.learn(137)  # mid-episode
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    rng = global_rng_state()
    a.learn(260)
    b = build(**kw)
    b.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=False))
    set_global_rng_state(rng)
    b.learn(260)
    pa, pb = a.model.policy.state_dict(), b.model.policy.state_dict()
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert b.env_steps == 260


@pytest.mark.slow
def test_her_learns_nav_and_beats_the_control():
    """3000 steps: HER reaches most goals; the no-HER control reaches few."""
    envs = [make_env(ENV) for _ in range(20)]
    her = build(seed=0)
    her.learn(3000)
    r_her = evaluate(her.policy(), envs, run_seed=0, eval_index=1)
    assert r_her["success_rate"] >= 0.8
    control = build(DDPGGoal, seed=0)
    control.learn(3000)
    r_ctl = evaluate(control.policy(), envs, run_seed=0, eval_index=1)
    assert r_ctl["success_rate"] <= r_her["success_rate"] - 0.3
