"""PoliGen: generator shapes and scaling, slice assembly, recency sampling, gradient paths,
checkpoints, determinism, the probing snapshot, and learning on a cheap task."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch

from algorithms.base import EnvInfo
from algorithms.common import MLPLayout, mlp_forward, rollout_batch
from algorithms.poligen import PoliGen, PoliGenConfig, ReplayBuffer
from algorithms.poligen_nets import FingerprintEvaluator, HyperGenerator, policy_forward
from bench import store
from bench.config import load_config
from bench.runner import env_info_for, env_settings
from envs import make_env
from tests.conftest import kill_midway_then_resume, run_cli, strip_wall

#: a small network setting that keeps unit tests fast (the structure is the paper's)
SMALL = dict(hidden_sizes=(32, 32), hypernet_hidden_sizes=(32, 32), n_probing_states=10,
             evaluator_hidden_sizes=(32, 32))


#: the paper's network sizes (the defaults), to undo SMALL
PAPER_NETS = {k: getattr(PoliGenConfig(), k) for k in SMALL}


def make_poligen(env_id: str = "Pendulum-v1", seed: int = 0, **overrides) -> PoliGen:
    settings = env_settings(load_config(), env_id)
    env = make_env(env_id)
    info = env_info_for(env_id, settings, env)
    if info.return_range is None:
        info = EnvInfo(**{**info.__dict__, "return_range": (-1500.0, 0.0)})
    cfg = PoliGenConfig(**{**SMALL, **overrides})
    return PoliGen(lambda **kw: make_env(env_id, survival_bonus=settings.survival_bonus, **kw), seed, cfg, info)


@pytest.mark.parametrize("obs_dim,act_dim,hidden", [(3, 1, (32, 32)), (8, 2, (256, 256)), (11, 3, (16, 48)),
                                                   (17, 6, (64,)), (5, 2, (32, 16, 48))])
def test_generated_shapes(obs_dim, act_dim, hidden):
    layout = MLPLayout(obs_dim, act_dim, hidden)
    gen = HyperGenerator(layout, slice_size=16, emb_dim=8, hyper_hidden=(32, 32))
    theta = gen(torch.tensor([0.0, 0.5, -1.0]))
    assert theta.shape == (3, layout.n_params)
    layers = gen.layers(torch.tensor([0.3]))
    for (w, b), ((fi, fo), (bo,)) in zip(layers, layout.shapes):
        assert w.shape == (1, fi, fo) and b.shape == (1, bo)
    # the flat vector runs as a numpy policy and as the torch probing policy alike
    obs = np.random.default_rng(0).standard_normal((4, obs_dim)).astype(np.float32)
    flat = theta.detach().numpy()
    a_np = mlp_forward(layout.unflatten(flat[1]), obs)
    a_t = policy_forward(layout, theta[1:2].detach(), torch.from_numpy(obs))[0].numpy()
    np.testing.assert_allclose(a_np, a_t, rtol=1e-5, atol=1e-6)
    assert a_np.shape == (4, act_dim)


def test_hidden_sizes_must_be_multiples_of_the_slice():
    with pytest.raises(ValueError):
        HyperGenerator(MLPLayout(3, 1, (24, 32)), slice_size=16)
    with pytest.raises(ValueError):
        PoliGenConfig(hidden_sizes=(100, 100))


def test_output_scaling_is_two_over_sqrt_fan_in():
    layout = MLPLayout(9, 2, (32, 48))
    torch.manual_seed(0)
    g2 = HyperGenerator(layout, hyper_hidden=(16,), output_scale=2.0)
    torch.manual_seed(0)
    g1 = HyperGenerator(layout, hyper_hidden=(16,), output_scale=1.0)
    assert g2.scales == pytest.approx([2 / math.sqrt(9), 2 / math.sqrt(32), 2 / math.sqrt(48)])
    c = torch.tensor([0.1, 0.7])
    torch.testing.assert_close(g2(c), 2 * g1(c))
    torch.manual_seed(0)
    g0 = HyperGenerator(layout, hyper_hidden=(16,), output_scale=None)  # Figure 7's "no scale"
    assert g0.scales == [1.0, 1.0, 1.0]
    torch.testing.assert_close(g2(c)[:, : 9 * 32], 2 / math.sqrt(9) * g0(c)[:, : 9 * 32])


def test_slices_are_assembled_in_place_and_biases_averaged_over_input_slices():
    f = 16
    layout = MLPLayout(5, 2, (32, 48))
    gen = HyperGenerator(layout, slice_size=f, hyper_hidden=(16,))
    c = torch.tensor([0.4])
    with torch.no_grad():
        (w0, b0), (w1, b1), (w2, b2) = gen.layers(c)
        # hidden layer: 32 x 48 = 2 x 3 slices of 16 x 16, embeddings row-major over (in, out) tiles
        w_s, b_s = gen.h_hidden(gen.embeddings[1], c)
        s = gen.scales[1]
        for m in range(2):
            for n in range(3):
                torch.testing.assert_close(w1[0, m * f:(m + 1) * f, n * f:(n + 1) * f], w_s[0, m * 3 + n] * s)
        for n in range(3):
            torch.testing.assert_close(b1[0, n * f:(n + 1) * f], (b_s[0, n] + b_s[0, 3 + n]) / 2 * s)
        # input layer: one row of 1 x 2 slices of obs_dim x 16, bias = the slices' biases (one input tile)
        w_s, b_s = gen.h_in(gen.embeddings[0], c)
        torch.testing.assert_close(w0[0, :, f:], w_s[0, 1] * gen.scales[0])
        torch.testing.assert_close(b0[0, :f], b_s[0, 0] * gen.scales[0])
        # output layer: a column of 3 slices of 16 x act_dim, bias averaged over the 3
        w_s, b_s = gen.h_out(gen.embeddings[2], c)
        torch.testing.assert_close(w2[0, 2 * f:], w_s[0, 2] * gen.scales[2])
        torch.testing.assert_close(b2[0], b_s[0].mean(0) * gen.scales[2])


def test_first_layer_split_equals_linear_on_concatenated_command():
    layout = MLPLayout(4, 1, (16,))
    gen = HyperGenerator(layout, hyper_hidden=(8, 8))
    z, c = gen.embeddings[0], torch.tensor([0.25, -2.0])
    w, _ = gen.h_in(z, c)
    for i in range(2):
        inp = torch.cat([z, c[i].expand(len(z), 1)], dim=1)
        ref = gen.h_in.net_w(inp).reshape(len(z), 4, 16)
        torch.testing.assert_close(w[i], ref)


def test_recency_weighted_sampling_probabilities():
    buf = ReplayBuffer(capacity=5, n_params=3, exponent=1.1)
    for i in range(8):  # wraps around: rows hold episodes 3..7
        buf.add(np.full(3, i, np.float32), float(i))
    p = buf.probabilities()
    expected = np.arange(1, 6) ** -1.1
    np.testing.assert_allclose(p, expected / expected.sum())
    rng = np.random.default_rng(0)
    draws = np.concatenate([buf.returns[buf.sample(rng, 16)] for _ in range(4000)])
    freq = np.array([(draws == ep).mean() for ep in (7, 6, 5, 4, 3)])  # newest (k = 1) first
    np.testing.assert_allclose(freq, p, atol=0.01)
    np.testing.assert_array_equal(buf.ordered()[1], [3, 4, 5, 6, 7])
    small = ReplayBuffer(10, 2, 1.1)
    small.add(np.zeros(2, np.float32), 1.0)
    assert len(small.sample(rng, 16)) == 1  # min(batch, size) draws, as the public code


def test_evaluator_gradients_reach_probing_states():
    layout = MLPLayout(3, 2, (16, 16))
    ev = FingerprintEvaluator(layout, n_probing=7, hidden=(8, 8))
    assert ev.probing_states.shape == (7, 3)
    assert 0 <= ev.probing_states.min() and ev.probing_states.max() < 1
    theta = torch.randn(4, layout.n_params) * 0.3
    loss = ((ev(theta) - torch.arange(4.0)) ** 2).mean()
    loss.backward()
    assert ev.probing_states.grad is not None and ev.probing_states.grad.abs().sum() > 0
    assert all(p.grad is not None for p in ev.net.parameters())


def test_probing_actions_are_in_action_units():
    layout = MLPLayout(3, 1, (16,))
    ev = FingerprintEvaluator(layout, n_probing=5, act_scale=np.array([2.0]), act_centre=np.array([0.0]))
    pa = ev.probing_actions(torch.randn(2, layout.n_params) * 5)
    assert pa.shape == (2, 5) and pa.abs().max() <= 2.0 and pa.abs().max() > 1.0


def test_generator_gradients_flow_through_frozen_evaluator():
    agent = make_poligen(seed=1)
    agent.learn(400)  # two episodes in the buffer
    ev_before = {k: v.clone() for k, v in agent.evaluator.state_dict().items()}
    gen_before = {k: v.clone() for k, v in agent.generator.state_dict().items()}
    agent.opt_v.zero_grad(set_to_none=True)  # grads left by the last evaluator step
    for p in agent.evaluator.parameters():
        p.requires_grad_(False)
    agent.opt_g.zero_grad(set_to_none=True)
    agent._update_generator()
    for p in agent.evaluator.parameters():
        assert p.grad is None
        p.requires_grad_(True)
    grads = [p.grad for p in agent.generator.parameters()]
    assert all(g is not None for g in grads) and all(g.abs().sum() > 0 for g in grads)
    for k, v in agent.evaluator.state_dict().items():
        torch.testing.assert_close(v, ev_before[k])
    changed = [not torch.equal(v, gen_before[k]) for k, v in agent.generator.state_dict().items()]
    assert any(changed)


def test_training_loop_counts_steps_and_uses_paper_commands():
    agent = make_poligen(seed=2)
    assert agent.eval_command() == 1.0
    agent.learn(1)
    assert agent.episodes == 1 and agent.env_steps == 200 and agent.last_command == 1.0
    agent.learn(201)
    assert agent.last_command == pytest.approx(agent.buffer.returns[0] + 20.0)
    assert agent.eval_command() == agent.best_return == agent.buffer.returns[:2].max()
    assert agent.buffer.size == 2
    # the stored theta is the noisy one: not equal to G(c) of the command it was generated for
    assert agent.command_scale == pytest.approx(1 / 1500)


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


def test_checkpoint_round_trip_gives_identical_next_actions():
    a = make_poligen(seed=3)
    a.learn(800)
    b = make_poligen(seed=77)
    b.load_state_dict(_roundtrip(a.state_dict()))
    obs = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_array_equal(a.policy()(obs), b.policy()(obs))
    a.learn(1400)
    b.learn(1400)
    assert a.env_steps == b.env_steps and a.episodes == b.episodes
    np.testing.assert_array_equal(a.buffer.ordered()[0], b.buffer.ordered()[0])
    np.testing.assert_array_equal(a.buffer.ordered()[1], b.buffer.ordered()[1])
    for c in (None, -700.0, -100.0):
        np.testing.assert_array_equal(a.policy(c)(obs), b.policy(c)(obs))


def test_wrapped_buffer_round_trip_samples_identically():
    buf = ReplayBuffer(capacity=5, n_params=3, exponent=1.1)
    for i in range(8):
        buf.add(np.full(3, i, np.float32), float(i))
    state = _roundtrip({"b": buf.state_dict()})["b"]
    old_format = {"thetas": buf.ordered()[0].copy(), "returns": buf.ordered()[1].copy()}  # oldest first, no ptr
    for s in (state, old_format):
        other = ReplayBuffer(capacity=5, n_params=3, exponent=1.1)
        other.load_state_dict(s)
        r1, r2 = np.random.default_rng(1), np.random.default_rng(1)
        for _ in range(3):
            np.testing.assert_array_equal(buf.thetas[buf.sample(r1, 16)], other.thetas[other.sample(r2, 16)])
        other.add(np.full(3, 8, np.float32), 8.0)
        np.testing.assert_array_equal(other.ordered()[1], [4, 5, 6, 7, 8])


def test_final_state_drops_the_policies_and_still_acts():
    a = make_poligen(seed=3)
    a.learn(800)
    final = _roundtrip(a.final_state())
    assert "thetas" not in final["buffer"] and len(final["buffer"]["returns"]) == a.buffer.size
    b = make_poligen(seed=77)
    b.load_state_dict(final)
    obs = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    for c in (None, -700.0):
        np.testing.assert_array_equal(a.policy(c)(obs), b.policy(c)(obs))


def test_same_seed_same_run_and_commands_change_the_policy():
    a, b = make_poligen(seed=5), make_poligen(seed=5)
    a.learn(600)
    b.learn(600)
    np.testing.assert_array_equal(a.buffer.ordered()[1], b.buffer.ordered()[1])
    obs = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(a.policy(-300.0)(obs), b.policy(-300.0)(obs))
    assert not np.array_equal(a.policy(-1500.0)(obs), a.policy(0.0)(obs))
    act = a.policy()(np.random.default_rng(2).normal(0, 50, (20, 3)).astype(np.float32))
    assert act.shape == (20, 1) and np.all(np.abs(act) <= 2.0)


def test_two_threads_same_seed_same_run():
    """`bench run --threads 2`: the paper-size networks' products split over two threads, and
    the same seed still gives the same run (the guarantee the runner's thread record relies on)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        a, b = (make_poligen(seed=3, **PAPER_NETS) for _ in range(2))
        a.learn(400)
        b.learn(400)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(a.buffer.ordered()[0], b.buffer.ordered()[0])
    for pa, pb in zip(a.generator.parameters(), b.generator.parameters()):
        assert torch.equal(pa, pb)


def test_write_artifacts_probing_snapshot(tmp_path):
    agent = make_poligen(seed=6)
    agent.learn(600)
    (tmp_path / "sweep.csv").write_text("command,return_mean,return_std\n-1000,-900,1\n-500,-600,2\n0,-300,3\n")
    agent.write_artifacts(tmp_path)
    snap = np.load(tmp_path / "probing.npz")
    n = agent.buffer.size
    assert snap["buffer_probing_actions"].shape == (n, 10 * 1)
    assert snap["buffer_returns"].shape == (n,) and snap["buffer_predicted"].shape == (n,)
    np.testing.assert_array_equal(snap["commands"], [-1000, -500, 0])
    np.testing.assert_array_equal(snap["generated_achieved_return"], [-900, -600, -300])
    assert snap["generated_probing_actions"].shape == (3, 10)
    assert snap["probing_states"].shape == (10, 3)
    (tmp_path / "sweep.csv").unlink()
    agent.write_artifacts(tmp_path)
    assert np.load(tmp_path / "probing.npz")["commands"].shape == (21,)


def test_hopper_trains_without_survival_bonus():
    agent = make_poligen("Hopper-v3")
    assert type(agent.env).__name__ == "SurvivalBonusRemoval"
    assert agent.command_scale == pytest.approx(1 / 3100)


def test_config_validation():
    for bad in (dict(buffer_size=0), dict(param_noise=-1.0), dict(return_range=(1.0, 0.0)),
                dict(lr_generator=0.0), dict(evaluator_updates=-1)):
        with pytest.raises(ValueError):
            PoliGenConfig(**bad)
    assert PoliGenConfig().evaluator_updates == 5 and PoliGenConfig().generator_updates == 20


@pytest.mark.slow
def test_poligen_learns_mountain_car():
    """Paper configuration on MountainCarContinuous, 10k steps (~15 episodes): the
    goal-reaching policy is found and the evaluation command (best return so far)
    generates it without parameter noise, while the untrained generator's policy fails."""
    agent = make_poligen("MountainCarContinuous-v0", seed=0, **PAPER_NETS)
    envs = [make_env("MountainCarContinuous-v0") for _ in range(5)]

    def evaluate() -> float:
        pol = agent.policy()
        act = lambda o, idx: (pol(o) - agent.act_centre) / agent.act_scale  # noqa: E731
        return float(rollout_batch(envs, act, list(range(5)))[0].mean())

    assert evaluate() < 10
    agent.learn(10_000)
    assert agent.best_return > 80
    assert evaluate() > 80


MC = "MountainCarContinuous-v0"


def _cli_args(budget: int, seed: int) -> list[str]:
    return ["--algo", "poligen", "--env", MC, "--seed-list", str(seed), "--budget", str(budget), "--workers", "1",
            "--no-progress"]


@pytest.mark.slow
def test_resume_after_sigkill_and_same_seed_runs_are_identical(tmp_path):
    """A `bench run` killed with SIGKILL and run again gives the rows (and sweep) of an
    uninterrupted run; a second uninterrupted run with the same seed is identical."""
    budget, seed = 6000, 4
    killed = tmp_path / "killed"
    progress = store.run_dir(killed, MC, "poligen", seed) / "progress.csv"
    kill_midway_then_resume(_cli_args(budget, seed), killed, progress, rows_before_kill=3)
    for runs in (tmp_path / "clean", tmp_path / "clean2"):
        assert run_cli("run", *_cli_args(budget, seed), "--runs-dir", str(runs), timeout=600).returncode == 0
    dirs = [store.run_dir(r, MC, "poligen", seed) for r in (killed, tmp_path / "clean", tmp_path / "clean2")]
    rows = [strip_wall(store.read_rows(d / "progress.csv")) for d in dirs]
    assert len(rows[0]) >= 6 and rows[0] == rows[1] == rows[2]
    sweeps = [(d / "sweep.csv").read_text() for d in dirs]
    assert sweeps[0] == sweeps[1] == sweeps[2]
    snaps = [np.load(d / "probing.npz") for d in dirs]
    np.testing.assert_array_equal(snaps[0]["buffer_probing_actions"], snaps[1]["buffer_probing_actions"])
    assert store.read_json(dirs[0] / "meta.json").get("resumed_at")
