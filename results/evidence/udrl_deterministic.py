"""Evidence for results/paper/NOTES.md: UDRL with a deterministic action head (squared error).

The benchmark's UDRL (algorithms/udrl.py) has a Gaussian head trained by negative
log-likelihood, whose learned standard deviation is also its exploration. The other common
continuous-action UDRL fits the action mean by squared error and explores with fixed
Gaussian noise. This plugin is that variant, kept out of algorithms/ so that the
benchmark's UDRL code, and the provenance hash of its published runs, stay as they are:

- the log-std half of the head is frozen at ``log(exploration_std)`` (zero weights, constant
  bias, no gradient), so exploration samples ``mean + exploration_std * N(0, 1)``;
- training minimises ``|a - mean(s, c)|^2``; evaluation uses the mean, as before.

Named in ``results/evidence/udrl_deterministic.toml`` as
``class = "results.evidence.udrl_deterministic:UDRLDeterministic"`` (run from the project root).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from algorithms.udrl import UDRL, UDRLConfig


@dataclass
class UDRLDeterministicConfig(UDRLConfig):
    exploration_std: float = 0.1
    """Fixed exploration noise in normalised action units ([-1, 1])."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.exploration_std > 0:
            raise ValueError(f"exploration_std must be positive, got {self.exploration_std}")


class UDRLDeterministic(UDRL):
    """UDRL whose head is fitted by squared error and explores with fixed noise."""

    Config = UDRLDeterministicConfig

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        head, k = self.net.head, self.act_dim
        with torch.no_grad():
            head.weight[k:].zero_()
            head.bias[k:].fill_(math.log(self.config.exploration_std))
        head.weight.register_hook(lambda g: torch.cat([g[:k], torch.zeros_like(g[k:])]))
        head.bias.register_hook(lambda g: torch.cat([g[:k], torch.zeros_like(g[k:])]))

    def _train(self) -> None:
        self.net.train()
        for _ in range(self.config.n_updates_per_iter):
            obs, cmd, act = self.sample_batch(self.config.batch_size)
            mean, _ = self.net(torch.from_numpy(obs), torch.from_numpy(cmd))
            loss = ((torch.from_numpy(act) - mean) ** 2).sum(-1).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.last_loss = float(loss.detach())
