"""UDRL: behaviour-function shapes, the command update, trailing-segment targets, the
best-K replay and commands, learning on a cheap task, and exact resume."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from algorithms.base import EnvInfo
from algorithms.udrl import UDRL, BehaviourFunction, UDRLConfig, _numpy_forward, update_command
from bench.evaluation import run_policy
from envs import make_env


class SignMatch(gym.Env):
    """A cheap task: observe x ~ U[-1, 1], reward 1 when the action has x's sign; 20 steps.
    A random policy earns 10 on average, the optimal one 20."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.t, self.x = 0, 0.0

    def _obs(self):
        return np.array([self.x, 1.0], np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.x = 0, float(self.np_random.uniform(-1, 1))
        return self._obs(), {}

    def step(self, action):
        reward = float(np.sign(action[0]) == np.sign(self.x))
        self.t += 1
        self.x = float(self.np_random.uniform(-1, 1))
        return self._obs(), reward, False, self.t >= 20, {}


def make_udrl(env_fn=SignMatch, seed=0, return_range=(0.0, 20.0), max_steps=20, **overrides) -> UDRL:
    env = env_fn()
    info = EnvInfo("t", "t", env.observation_space, env.action_space, 0.0, return_range, max_steps)
    cfg = UDRLConfig(**{"hidden_size": 32, "batch_size": 64, "n_updates_per_iter": 20, "n_episodes_per_iter": 5,
                        "last_few": 5, "replay_size": 50, **overrides})
    return UDRL(lambda **kw: env_fn(), seed, cfg, info)


def test_behaviour_function_shapes_and_numpy_forward():
    net = BehaviourFunction(obs_dim=5, act_dim=3, hidden=16, activation="tanh")
    obs, cmd = torch.randn(7, 5), torch.rand(7, 2)
    mean, log_std = net(obs, cmd)
    assert mean.shape == (7, 3) and log_std.shape == (7, 3)
    assert torch.all(mean.abs() <= 1) and torch.all(log_std >= -5) and torch.all(log_std <= 1)
    algo = make_udrl(activation="tanh")
    o, c = np.random.default_rng(0).standard_normal((4, 2)), np.random.default_rng(1).random((4, 2))
    m_np, s_np = _numpy_forward(algo._numpy_params(), "tanh", o, c)
    m_t, s_t = algo.net(torch.tensor(o, dtype=torch.float32), torch.tensor(c, dtype=torch.float32))
    np.testing.assert_allclose(m_np, m_t.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(s_np, s_t.detach().numpy(), atol=1e-5)


def test_command_update_rule():
    assert update_command(10.0, 5.0, 3.0) == (7.0, 4.0)
    d_r, d_h = update_command(np.array([1.0, 2.0]), np.array([1.0, 3.0]), np.array([2.0, -1.0]))
    np.testing.assert_array_equal(d_r, [-1.0, 3.0])
    np.testing.assert_array_equal(d_h, [1.0, 2.0])  # the horizon never drops below 1


def test_trailing_segment_targets_and_best_k_replay():
    algo = make_udrl(replay_size=3, return_scale=1.0, horizon_scale=1.0)
    rng = np.random.default_rng(0)
    for length, reward in [(4, 1.0), (6, 0.5), (3, 3.0), (5, 0.1)]:
        rewards = np.full(length, reward) * np.arange(1, length + 1)
        algo._add_episode(rng.standard_normal((length, 2)), rng.uniform(-1, 1, (length, 1)), rewards)
    rets = [e["ret"] for e in algo.episodes]
    assert rets == sorted(rets, reverse=True) and len(rets) == 3 and 1.5 not in rets  # worst one dropped
    obs, cmd, act = algo.sample_batch(200)
    for o, (d_r, d_h), a in zip(obs, cmd, act):
        ep = next(e for e in algo.episodes if any(np.array_equal(o, x) for x in e["obs"]))
        t1 = next(t for t, x in enumerate(ep["obs"]) if np.array_equal(o, x))
        assert d_h == len(ep["rewards"]) - t1
        assert d_r == pytest.approx(ep["rewards"][t1:].sum())
        np.testing.assert_array_equal(a, ep["actions"][t1])


def test_exploration_and_evaluation_commands():
    algo = make_udrl(last_few=2)
    for length, ret in [(4, 10.0), (6, 20.0), (8, 5.0)]:
        algo._add_episode(np.zeros((length, 2)), np.zeros((length, 1)), np.full(length, ret / length))
    d_r, d_h = algo.exploration_commands(200)
    assert ((15.0 <= d_r) & (d_r <= 20.0)).all() and (d_h == 5.0).all()  # U[M, M + S] of the 2 best; mean length
    assert d_r.std() > 1.0  # one draw per episode
    assert algo.eval_command() == pytest.approx(15.0)
    assert algo._horizon_for(5.2) == 8.0  # the episode whose return is closest


class Countdown(gym.Env):
    """Reward ``k`` per step for ``length`` steps (each env its own k and length)."""

    def __init__(self, k: float, length: int):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.k, self.length, self.t = k, length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(2, np.float32), self.k, False, self.t >= self.length, {}


def test_evaluation_command_follows_each_episodes_rewards():
    algo = make_udrl()
    policy = algo.policy(30.0)
    seen = []  # (d_r, d_h) rows the behaviour function receives at each step
    scale = policy.scale
    policy.scale = lambda d_r, d_h: (seen.append(np.stack([d_r, d_h], -1)), scale(d_r, d_h))[1]
    envs = [Countdown(k=2.0, length=3), Countdown(k=5.0, length=5)]
    for _ in range(2):  # a second round starts from the command again
        seen.clear()
        run_policy(policy, envs, [0, 1])
        d_h0 = policy.d_h0
        np.testing.assert_allclose(seen[0], [[30, d_h0], [30, d_h0]])
        np.testing.assert_allclose(seen[2], [[26, max(d_h0 - 2, 1)], [20, max(d_h0 - 2, 1)]])
        np.testing.assert_allclose(seen[3], [[15, max(d_h0 - 3, 1)]])  # the first episode has ended
        assert len(seen) == 5
    plain = algo.policy(30.0)(np.zeros((2, 2)))  # called like a plain policy: the command as given
    assert plain.shape == (2, 1)


def test_learns_cheap_task():
    algo = make_udrl(seed=0)
    envs = [SignMatch() for _ in range(10)]
    before = run_policy(algo.policy(), envs, list(range(10))).returns.mean()
    algo.learn(4_000)
    after = run_policy(algo.policy(), envs, list(range(10))).returns.mean()
    assert after >= 16.0 > before + 2  # random policy ~10, optimum 20


def test_policy_on_real_env_and_resume():
    env_id = "InvertedPendulum-v2"
    env = make_env(env_id)
    info = EnvInfo(env_id, env_id, env.observation_space, env.action_space, 0.0, (0.0, 1000.0), 1000)
    cfg = UDRLConfig(hidden_size=32, batch_size=64, n_updates_per_iter=5, n_episodes_per_iter=3, activation="tanh")
    ref = UDRL(lambda **kw: make_env(env_id), 0, cfg, info)
    ref.learn(300)
    buf = io.BytesIO()
    torch.save(ref.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=False)
    ref.learn(600)
    resumed = UDRL(lambda **kw: make_env(env_id), 0, cfg, info)
    resumed.load_state_dict(state)
    resumed.learn(600)
    assert resumed.env_steps == ref.env_steps >= 600
    obs = np.random.default_rng(0).standard_normal((5, 4))
    for command in (None, 0.0, 500.0):
        a, b = ref.policy(command)(obs), resumed.policy(command)(obs)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (5, 1) and np.all(np.abs(a) <= 3.0)
    assert [e["ret"] for e in ref.episodes] == [e["ret"] for e in resumed.episodes]
