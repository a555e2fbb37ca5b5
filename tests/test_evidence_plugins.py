"""The evidence plugins of results/evidence (UDRL variants kept out of algorithms/) do what
results/paper/NOTES.md says they do."""

from __future__ import annotations

import numpy as np
import torch

from algorithms.base import EnvInfo
from algorithms.udrl import UDRLConfig
from results.evidence.udrl_deterministic import UDRLDeterministic, UDRLDeterministicConfig
from results.evidence.udrl_state_free_std import UDRLStateFreeStd
from tests.test_udrl import SignMatch


def _info(env) -> EnvInfo:
    return EnvInfo("t", "t", env.observation_space, env.action_space, 0.0, (0.0, 20.0), 20)


def _small(**extra) -> dict:
    return {"hidden_size": 32, "batch_size": 64, "n_updates_per_iter": 20, "n_episodes_per_iter": 5,
            "last_few": 5, "replay_size": 50, **extra}


def test_state_free_std_learns_one_std_for_all_states():
    algo = UDRLStateFreeStd(lambda **kw: SignMatch(), 0, UDRLConfig(**_small()), _info(SignMatch()))
    bias0 = algo.net.head.bias.detach().clone()
    algo.learn(400)
    head, k = algo.net.head, algo.act_dim
    assert torch.all(head.weight[k:] == 0)                      # no state dependence...
    assert not torch.equal(head.bias[k:], bias0[k:])            # ...but the std is learned
    obs, cmd = torch.randn(8, 2), torch.rand(8, 2)
    _, log_std = algo.net(obs, cmd)
    assert torch.allclose(log_std, log_std[:1].expand_as(log_std))


def test_deterministic_head_keeps_its_fixed_noise():
    cfg = UDRLDeterministicConfig(**_small(exploration_std=0.3))
    algo = UDRLDeterministic(lambda **kw: SignMatch(), 0, cfg, _info(SignMatch()))
    algo.learn(400)
    _, log_std = algo.net(torch.randn(8, 2), torch.rand(8, 2))
    np.testing.assert_allclose(log_std.exp().detach().numpy(), 0.3, rtol=1e-6)
