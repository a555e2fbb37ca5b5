"""DDPG wrapper: exact step accounting, the random-start / learning-start split, and exact
resume (replay, optimisers, noise, RNGs and the training env mid-episode)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from algorithms.base import EnvInfo
from algorithms.ddpg import DDPG, DDPGConfig
from algorithms.env_state import env_state, set_env_state
from envs import make_env

SMALL = dict(random_steps=300, learning_starts=100, batch_size=32, buffer_size=2_000, gradient_steps=5,
             hidden_sizes=(32, 32))


def make_ddpg(env_id: str = "InvertedPendulum-v2", seed: int = 0, **overrides) -> DDPG:
    env = make_env(env_id)
    info = EnvInfo(env_id, env_id, env.observation_space, env.action_space, 0.0, None, env.spec.max_episode_steps)
    return DDPG(lambda **kw: make_env(env_id), seed, DDPGConfig(**{**SMALL, **overrides}), info)


def roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


def test_config_validation():
    with pytest.raises(ValueError):
        DDPGConfig(batch_size=0)
    with pytest.raises(ValueError):
        DDPGConfig(tau=0.0)
    with pytest.raises(ValueError):
        DDPGConfig(action_noise=-0.1)


def test_budget_is_respected_exactly():
    algo = make_ddpg()
    for until in (37, 37, 120, 151, 400):
        algo.learn(until)
        assert algo.env_steps == until == algo.model.num_timesteps
        assert algo.model.replay_buffer.pos == until
    # updates ran after every 50-step boundary past learning_starts (150, 200, ..., 400)
    assert algo.model._n_updates == 6 * SMALL["gradient_steps"]


def test_random_start_steps_are_independent_of_learning_start():
    algo = make_ddpg()
    calls = []
    predict = algo.model.predict
    algo.model.predict = lambda *a, **k: (calls.append(1), predict(*a, **k))[1]
    algo.learn(300)
    assert not calls and algo.model._n_updates > 0  # learned before the random phase ended
    algo.learn(310)
    assert len(calls) == 10


def test_policy_is_batched_and_within_bounds():
    algo = make_ddpg()
    algo.learn(200)
    obs = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32) * 5
    act = algo.policy()(obs)
    assert act.shape == (7, 1)
    assert np.all(act >= -3.0) and np.all(act <= 3.0)


def test_final_state_keeps_the_networks_not_the_replay_buffer():
    algo = make_ddpg()
    algo.learn(200)
    final = algo.final_state()
    assert final["sb3"]["replay_buffer"] is None and algo.state_dict()["sb3"]["replay_buffer"]["_filled"] == 200
    for k, v in algo.model.policy.state_dict().items():
        assert torch.equal(final["sb3"]["policy"][k], v)


@pytest.mark.parametrize("env_id", ["Swimmer-v3", "MountainCarContinuous-v0", "InvertedPendulum-v2"])
def test_resume_continues_identically(env_id):
    obs = np.random.default_rng(0).standard_normal((4, make_env(env_id).observation_space.shape[0]))
    ref = make_ddpg(env_id)
    ref.learn(437)  # mid-episode on Swimmer and MountainCar (1000/999-step episodes)
    state = roundtrip(ref.state_dict())
    np.random.seed(123)  # the caller's use of the global generators must not matter
    torch.rand(3)
    ref.learn(650)
    resumed = make_ddpg(env_id)
    resumed.load_state_dict(state)
    resumed.learn(500)
    resumed.learn(650)
    np.testing.assert_array_equal(ref.policy()(obs.astype(np.float32)), resumed.policy()(obs.astype(np.float32)))
    np.testing.assert_array_equal(ref.model.replay_buffer.observations[:650],
                                  resumed.model.replay_buffer.observations[:650])
    assert ref._env.get_episode_rewards() == resumed._env.get_episode_rewards()


def test_env_state_restores_mujoco_contacts_exactly():
    env = make_env("Hopper-v3")
    env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        env.step(rng.uniform(-1, 1, 3))
    saved = env_state(env)
    actions = rng.uniform(-1, 1, (30, 3))
    first = [env.step(a)[0] for a in actions]
    other = make_env("Hopper-v3")
    other.reset(seed=99)
    set_env_state(other, saved)
    second = [other.step(a)[0] for a in actions]
    np.testing.assert_array_equal(np.array(first), np.array(second))


@pytest.mark.slow
def test_runner_resume_after_sigkill_matches_uninterrupted(tmp_path):
    """A real `bench run` of DDPG killed mid-way (checkpoints fall mid-episode on Swimmer)
    and run again gives the same progress rows as an uninterrupted run."""

    from bench import store
    from tests.conftest import kill_midway_then_resume, run_cli, strip_wall

    cfg = tmp_path / "bench.toml"
    cfg.write_text(
        'seeds = [0]\n[envs."Swimmer-v3"]\nbudget = 2000\neval_interval = 250\neval_episodes = 1\nfinal_window = 2\n'
        "[algos.ddpg]\nhidden_sizes = [32, 32]\nbatch_size = 32\nbuffer_size = 5000\nrandom_steps = 600\n"
        "learning_starts = 200\ngradient_steps = 5\n")
    args = ["--algo", "ddpg", "--env", "Swimmer-v3", "--seeds", "1", "--workers", "1", "--no-progress",
            "--config", str(cfg)]
    killed = tmp_path / "killed"
    progress = store.run_dir(killed, "Swimmer-v3", "ddpg", 0) / "progress.csv"
    kill_midway_then_resume(args, killed, progress, rows_before_kill=3, timeout=300)
    assert run_cli("run", *args, "--runs-dir", str(tmp_path / "clean")).returncode == 0
    resumed = store.read_rows(progress)
    clean = store.read_rows(store.run_dir(tmp_path / "clean", "Swimmer-v3", "ddpg", 0) / "progress.csv")
    assert len(resumed) == 9 and resumed[-1]["env_steps"] == 2000
    assert strip_wall(resumed) == strip_wall(clean)
