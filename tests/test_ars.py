"""ARS: the update rule, the observation filter, learning on a cheap task, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.ars import ARS, ARSConfig
from algorithms.common import MLPLayout, RunningMeanStd, batched_forward, mlp_forward
from bench.config import load_config
from bench.runner import Cell, env_info_for, env_settings, run_cell
from bench import store
from envs import make_env

IP = "InvertedPendulum-v2"


def make_ars(env_id: str = IP, seed: int = 0, **overrides) -> ARS:
    settings = env_settings(load_config(), env_id)
    cfg = ARSConfig(**{"step_size": 0.001, "n_directions": 1, "top_directions": 1, "noise": 0.025, **overrides})
    info = env_info_for(env_id, settings, make_env(env_id))
    return ARS(lambda **kw: make_env(env_id, survival_bonus=settings.survival_bonus, **kw), seed, cfg, info)


def test_batched_forward_equals_per_policy_forward():
    rng = np.random.default_rng(0)
    layout = MLPLayout(5, 3, (16, 16))
    thetas = np.stack([layout.init_flat(rng) for _ in range(4)])
    obs = rng.standard_normal((4, 5)).astype(np.float32)
    batched = batched_forward(layout.unflatten(thetas), obs)
    single = np.stack([mlp_forward(layout.unflatten(thetas[i]), obs[i:i + 1])[0] for i in range(4)])
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)
    assert layout.n_params == 5 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(1)
    data = rng.normal(3.0, 2.0, size=(1000, 4))
    rms = RunningMeanStd((4,))
    for chunk in np.array_split(data, 7):
        rms.update(chunk)
    np.testing.assert_allclose(rms.mean, data.mean(0))
    np.testing.assert_allclose(rms.std, data.std(0))


def test_update_follows_top_b_rule(monkeypatch):
    """One iteration on fixed returns gives theta + alpha/(b sigma_R) sum (r+ - r-) delta."""
    agent = make_ars(n_directions=3, top_directions=2, step_size=0.5)
    theta0 = agent.theta.copy()
    rng_copy = np.random.default_rng()
    rng_copy.bit_generator.state = agent.rng.bit_generator.state
    deltas = rng_copy.standard_normal((3, agent.layout.n_params), dtype=np.float32)
    returns = np.array([1.0, 5.0, 2.0, 4.0, 0.0, 3.0])  # r+ = (1, 5, 2), r- = (4, 0, 3)

    import algorithms.ars as ars_mod

    monkeypatch.setattr(ars_mod, "rollout_batch",
                        lambda envs, act, seeds, record_obs: (returns, np.full(6, 10), [np.zeros((6, 4))]))
    agent._iteration()
    top = [1, 0]  # max(r+, r-) = (4, 5, 3): directions 1 and 0
    kept = np.array([5.0, 0.0, 1.0, 4.0])
    expected = theta0 + 0.5 / (2 * kept.std()) * ((5 - 0) * deltas[1] + (1 - 4) * deltas[0])
    np.testing.assert_allclose(agent.theta, expected, rtol=1e-4, atol=1e-6)
    assert agent.env_steps == 60


def test_ars_learns_inverted_pendulum(tmp_path):
    """Paper settings for InvertedPendulum; 20k steps lift the return far above the untrained policy."""
    run_cell(Cell(IP, "ars", 0), load_config(), tmp_path, budget=20_000)
    rows = store.read_rows(store.run_dir(tmp_path, IP, "ars", 0) / "progress.csv")
    assert rows[0]["eval_return_mean"] < 50
    assert max(r["eval_return_mean"] for r in rows[-5:]) > 300


def test_checkpoint_round_trip_continues_identically():
    a = make_ars(seed=4)
    a.learn(3000)
    state = a.state_dict()
    b = make_ars(seed=99)
    b.load_state_dict(state)
    a.learn(6000)
    b.learn(6000)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.env_steps == b.env_steps
    obs = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(a.policy()(obs), b.policy()(obs))


def test_linear_policy_and_action_bounds():
    agent = make_ars(env_id="MountainCarContinuous-v0", policy="linear", n_directions=2, top_directions=1)
    assert agent.layout.hidden_sizes == () and not agent.theta.any()
    agent.learn(2000)
    actions = agent.policy()(np.random.default_rng(0).normal(0, 100, (50, 2)).astype(np.float32))
    assert actions.shape == (50, 1) and np.all(np.abs(actions) <= 1.0)


def test_hopper_trains_without_survival_bonus():
    agent = make_ars(env_id="Hopper-v3", n_directions=1, top_directions=1)
    assert all(type(e).__name__ == "SurvivalBonusRemoval" for e in agent.envs)
    with pytest.raises(ValueError):
        ARSConfig(n_directions=2, top_directions=3)


def test_antithetic_forward_equals_stacked_perturbed_policies():
    agent = make_ars(env_id="Swimmer-v3", n_directions=3, top_directions=2, noise=0.05)
    deltas = agent.rng.standard_normal((3, agent.layout.n_params), dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((6, agent.layout.obs_dim)).astype(np.float32)
    fast = agent._antithetic_forward(agent.layout.unflatten(agent.theta), agent.layout.unflatten(deltas), x)
    thetas = np.concatenate([agent.theta + 0.05 * deltas, agent.theta - 0.05 * deltas])
    np.testing.assert_allclose(fast, batched_forward(agent.layout.unflatten(thetas), x), rtol=1e-4, atol=1e-5)
