"""Goal-commanded PoliGen: generator shapes, exact hindsight relabelling, determinism,
exact resume (in process and through a SIGKILLed `bench run`), and learning on Nav2D."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from algorithms import get_algorithm
from algorithms.base import EnvInfo
from algorithms.common import MLPLayout, run_episodes, seed_everything
from algorithms.poligen_goal import GoalHyperGenerator, PoliGenGoal, PoliGenGoalConfig
from bench import store
from bench.evaluation import evaluate
from envs.registry import make_env
from tests.conftest import PROJECT, kill_midway_then_resume, run_cli, strip_wall

ENV = "Nav2D-v0"
SMALL = dict(hidden_sizes=(16, 16), hypernet_hidden_sizes=(16,), n_probing_states=8, evaluator_hidden_sizes=(16,),
             evaluator_updates=2, generator_updates=2)


def build(seed: int = 0, env_id: str = ENV, **kw) -> PoliGenGoal:
    def factory(*, remove_survival_bonus: bool = False):
        return make_env(env_id)

    env = factory()
    info = EnvInfo(env_id, env_id, env.observation_space, env.action_space, 0.0, None, 50)
    seed_everything(seed)
    return PoliGenGoal(factory, seed, PoliGenGoalConfig(**kw), info)


def test_registry_and_config_validation():
    assert get_algorithm("poligen_goal") is PoliGenGoal and PoliGenGoal.conditioning == "goal"
    for bad in ({"hidden_sizes": (20,)}, {"hidden_sizes": ()}, {"achieved_goal_fraction": 1.5},
                {"lr_generator": -1.0}, {"batch_size": 0}):
        with pytest.raises(ValueError):
            PoliGenGoalConfig(**bad)
    with pytest.raises(ValueError, match="goal environment"):
        env = make_env("Pendulum-v1")
        PoliGenGoal(lambda **kw: make_env("Pendulum-v1"), 0, PoliGenGoalConfig(**SMALL),
                    EnvInfo("Pendulum-v1", "Pendulum-v1", env.observation_space, env.action_space, 0.0, None, 200))


@pytest.mark.parametrize("hidden", [(16,), (32, 32), (16, 48, 32)])
def test_generator_shapes_and_goal_dependence(hidden):
    layout = MLPLayout(4, 3, hidden)
    gen = GoalHyperGenerator(layout, goal_dim=3, slice_size=16, emb_dim=8, hyper_hidden=(16,))
    g = torch.randn(5, 3)
    theta = gen(g)
    assert theta.shape == (5, layout.n_params)
    assert not torch.allclose(theta[0], theta[1])  # different goals, different policies
    torch.testing.assert_close(gen(g[2:3])[0], theta[2])  # rows are independent of the batch


def test_relabelled_returns_equal_the_env_reward_for_any_goal():
    """Hindsight is exact: an episode's relabelled return for goal g equals the return the same
    policy gets when the env is reset with goal g (the policy does not see the goal)."""
    algo = build(**SMALL)
    algo.learn(150)  # three episodes
    theta = algo.buffer.thetas[1]
    goals = np.array([algo.buffer.goals[1], algo.buffer.achieved[1, -1], algo.buffer.achieved[1, 7], [0.9, -0.9]],
                     np.float32)
    predicted = algo.relabelled_returns(np.array([1]), goals)[0] * 50
    layers = algo.layout.unflatten(theta)
    from algorithms.common import mlp_forward

    envs = [make_env(ENV) for _ in goals]
    ep = run_episodes(envs, lambda o, idx: mlp_forward(layers, o["observation"]), [0] * len(goals),
                      reset_options=[{"goal": tuple(map(float, g))} for g in goals])
    np.testing.assert_allclose(predicted, ep.returns, atol=1e-6)
    assert predicted[1] > -50 and predicted[2] > -50  # goals it reached score better than never


def test_policy_generates_per_goal_and_is_cached():
    algo = build(**SMALL)
    pol = algo.policy()
    obs = {"observation": np.zeros((3, 2), np.float32), "achieved_goal": np.zeros((3, 2), np.float32),
           "desired_goal": np.array([[0.5, 0.5], [-0.5, 0.5], [0.5, 0.5]], np.float32)}
    a = pol(obs)
    assert a.shape == (3, 2) and np.all(np.abs(a) <= 1)
    np.testing.assert_array_equal(a[0], a[2])
    assert not np.allclose(a[0], a[1])
    direct = algo.generate(obs["desired_goal"][1:2])[0]
    from algorithms.common import mlp_forward

    np.testing.assert_allclose(a[1], mlp_forward(algo.layout.unflatten(direct), obs["observation"][1:2])[0], atol=1e-6)


def test_same_seed_is_deterministic_and_resume_is_exact():
    a = build(seed=3, **SMALL)
    a.learn(120)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    a.learn(300)
    b = build(seed=3, **SMALL)
    b.learn(300)
    c = build(seed=3, **SMALL)
    c.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=False))
    c.learn(300)
    for other in (b, c):
        for x, y in ((a.generator, other.generator), (a.evaluator, other.evaluator)):
            sx, sy = x.state_dict(), y.state_dict()
            assert all(torch.equal(sx[k], sy[k]) for k in sx)
        assert other.env_steps == a.env_steps == 300 and other.training_stats() == a.training_stats()
    envs = [make_env(ENV) for _ in range(5)]
    assert evaluate(a.policy(), envs, 0, 1) == evaluate(c.policy(), envs, 0, 1)


@pytest.mark.slow
def test_learns_nav_beyond_the_untrained_generator():
    """6000 steps (the benchmark budget) on sparse Nav2D: the trained generator's policies end
    much nearer their goals than those of the same generator with learning rates 0 (random
    generator, noise episodes only)."""
    envs = [make_env(ENV) for _ in range(50)]
    results = {}
    for name, kw in (("trained", {}), ("control", {"lr_generator": 0.0, "lr_evaluator": 0.0})):
        algo = build(seed=0, **kw)
        algo.learn(6000)
        results[name] = evaluate(algo.policy(), envs, run_seed=0, eval_index=1)
    assert results["trained"]["norm_distance_mean"] < 0.7 * results["control"]["norm_distance_mean"]
    assert results["trained"]["success_rate"] >= results["control"]["success_rate"]


# ----------------------------------------------------------------------------- through bench run
_VARIANT = """
[variants.poligen_goal_small]
algo = "poligen_goal"
hidden_sizes = [16, 16]
hypernet_hidden_sizes = [16]
n_probing_states = 8
evaluator_hidden_sizes = [16]
evaluator_updates = 3
generator_updates = 3
"""


@pytest.mark.slow
def test_resume_after_sigkill_and_same_seed_runs_are_identical(tmp_path):
    """A `bench run` killed with SIGKILL and run again gives the rows and goal sweep of an
    uninterrupted run; a second uninterrupted run with the same seed is identical."""
    config = tmp_path / "bench.toml"
    config.write_text((PROJECT / "benchmark.toml").read_text() + _VARIANT)
    algo, seed = "poligen_goal_small", 2
    args = ["--config", str(config), "--algo", algo, "--env", ENV, "--seed-list", str(seed), "--budget", "3000",
            "--workers", "1", "--no-progress"]
    killed = tmp_path / "killed"
    progress = store.run_dir(killed, ENV, algo, seed) / "progress.csv"
    kill_midway_then_resume(args, killed, progress, rows_before_kill=3)
    for runs in (tmp_path / "clean", tmp_path / "clean2"):
        out = run_cli("run", *args, "--runs-dir", str(runs), timeout=600)
        assert out.returncode == 0, out.stderr
    dirs = [store.run_dir(r, ENV, algo, seed) for r in (killed, tmp_path / "clean", tmp_path / "clean2")]
    rows = [strip_wall(store.read_rows(d / "progress.csv")) for d in dirs]
    assert len(rows[0]) == 7 and rows[0] == rows[1] == rows[2]
    assert "success_rate" in rows[0][-1]
    sweeps = [(d / "sweep.csv").read_text() for d in dirs]
    assert sweeps[0] == sweeps[1] == sweeps[2] and len(sweeps[0].splitlines()) == 81  # 80 goals + header
    assert store.read_json(dirs[0] / "meta.json").get("resumed_at")
