"""Goal environments: the Nav env's goal API, goal metrics of the evaluation, goal sweep."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from bench.evaluation import evaluate, run_policy
from envs.registry import make_env


def oracle(obs):
    """Head straight for the goal at full speed (reaches any goal well within 50 steps)."""
    d = obs["desired_goal"] - obs["achieved_goal"]
    return np.clip(d / 0.1, -1.0, 1.0)


@pytest.mark.parametrize("env_id", ["Nav2D-v0", "Nav2DDense-v0"])
def test_nav_registered_and_dict_observations(env_id):
    env = make_env(env_id)
    assert env.spec.max_episode_steps == 50
    obs, info = env.reset(seed=0)
    assert set(obs) == {"observation", "achieved_goal", "desired_goal"}
    assert env.observation_space.contains(obs)
    assert np.linalg.norm(obs["desired_goal"] - obs["achieved_goal"]) >= 0.3
    assert "is_success" in info


def test_compute_reward_is_vectorised_and_matches_step():
    sparse, dense = make_env("Nav2D-v0").unwrapped, make_env("Nav2DDense-v0").unwrapped
    rng = np.random.default_rng(0)
    a, g = rng.uniform(-1, 1, (100, 2)), rng.uniform(-1, 1, (100, 2))
    g[:10] = a[:10] + 0.05  # within the 0.1 threshold
    rs, rd = sparse.compute_reward(a, g, None), dense.compute_reward(a, g, [{}] * 100)
    assert rs.shape == rd.shape == (100,)
    d = np.linalg.norm(a - g, axis=-1)
    np.testing.assert_array_equal(rs, np.where(d <= 0.1, 0.0, -1.0))
    np.testing.assert_allclose(rd, -d, rtol=1e-6)
    np.testing.assert_array_equal([sparse.compute_reward(a[i], g[i], None) for i in range(100)], rs)
    # step's reward is compute_reward of the observation's goals
    env = make_env("Nav2D-v0")
    obs, _ = env.reset(seed=3, options={"goal": (0.05, 0.0)})
    obs, r, term, trunc, info = env.step(np.array([0.5, 0.0]))
    assert r == float(env.unwrapped.compute_reward(obs["achieved_goal"], obs["desired_goal"], info)) == 0.0
    assert info["is_success"] == 1.0 and not term


def test_time_limit_goal_option_and_state_roundtrip():
    env = make_env("Nav2D-v0")
    obs, _ = env.reset(seed=1, options={"goal": (0.7, -0.2)})
    np.testing.assert_allclose(obs["desired_goal"], [0.7, -0.2], atol=1e-6)
    for _ in range(20):
        env.step(np.array([0.3, 0.9]))
    state = env.unwrapped.get_state()
    after = [env.step(np.array([1.0, -1.0]))[0]["observation"] for _ in range(5)]
    env.unwrapped.set_state(state)
    again = [env.step(np.array([1.0, -1.0]))[0]["observation"] for _ in range(5)]
    np.testing.assert_array_equal(after, again)
    env.reset(seed=2)
    truncated = [env.step(env.action_space.sample())[3] for _ in range(50)]
    assert truncated[-1] and not any(truncated[:-1])


def test_goal_metrics_of_the_evaluation():
    envs = [make_env("Nav2D-v0") for _ in range(10)]
    good = evaluate(oracle, envs, run_seed=0, eval_index=0)
    assert good["success_rate"] == 1.0 and good["norm_distance_mean"] < 0.1
    still = evaluate(lambda o: np.zeros((len(o["observation"]), 2)), envs, run_seed=0, eval_index=0)
    assert still["success_rate"] == 0.0 and still["norm_distance_mean"] == pytest.approx(1.0)
    # exact normalised distance: move 0.3 towards a goal 0.8 away -> 0.5 / 0.8
    ep = run_policy(lambda o: np.tile([1.0, 0.0], (len(o["observation"]), 1)) * (o["achieved_goal"][:, :1] < 0.3),
                    envs[:1], [0], reset_options=[{"goal": (0.8, 0.0)}])
    assert ep.final_distance[0] / ep.init_distance[0] == pytest.approx(0.5 / 0.8, abs=1e-6)


def test_goal_sweep_grid():
    from bench.goal_sweep import goal_sweep

    class Oracle:
        conditioning = "goal"

        def policy(self, command=None):
            return oracle

        def eval_command(self):
            return None

    df = goal_sweep(Oracle(), lambda: make_env("Nav2D-v0"), seed=0)
    assert len(df) == 80 and df["success"].mean() == 1.0
    assert (df["norm_distance"] < 0.15).all()
    np.testing.assert_allclose(df[["final_0", "final_1"]].to_numpy(), df[["goal_0", "goal_1"]].to_numpy(), atol=0.1)


@pytest.mark.slow
def test_gymnasium_robotics_goal_envs_construct():
    """PointMaze and FetchReach-v4 (mujoco 3.x) construct and step; mazes take a goal cell."""
    from envs.registry import resolve_id

    for env_id in ("PointMaze_UMaze-v3", "FetchReach-v4"):
        env = make_env(env_id)
        assert resolve_id(env_id) == env_id
        obs, _ = env.reset(seed=0)
        assert {"observation", "achieved_goal", "desired_goal"} <= set(obs)
        env.step(env.action_space.sample())
    from bench.goal_sweep import goal_options

    opts = goal_options(make_env("PointMaze_UMaze-v3"))
    assert len(opts) == 7 * 3
    assert isinstance(gym.make("PointMaze_UMaze-v3").observation_space, gym.spaces.Dict)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", ["Nav2D-v0", "PointMaze_UMaze-v3", "FetchReach-v4"])
def test_env_snapshot_continues_episode_exactly(env_id):
    """algorithms.env_state snapshots restore a mid-episode env (MuJoCo ones included) exactly."""
    from algorithms.env_state import env_state, set_env_state

    env = make_env(env_id)
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(37):
        env.step(rng.uniform(-1, 1, env.action_space.shape))
    snap = env_state(env)
    actions = rng.uniform(-1, 1, (13,) + env.action_space.shape)
    first = [env.step(a) for a in actions]
    fresh = make_env(env_id)
    set_env_state(fresh, snap)
    second = [fresh.step(a) for a in actions]
    for (o1, r1, t1, tr1, _), (o2, r2, t2, tr2, _) in zip(first, second):
        for k in o1:
            np.testing.assert_array_equal(o1[k], o2[k])
        assert (r1, t1, tr1) == (r2, t2, tr2)
    if env.spec.max_episode_steps == 50:  # the time-limit counter was restored too (37 + 13 = 50)
        assert second[-1][3]
