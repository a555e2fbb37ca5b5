"""Evidence for results/paper/NOTES.md: UDRL with a learned, state-independent std.

The benchmark's UDRL (algorithms/udrl.py) has a Gaussian head whose log-std is a linear
function of the last hidden layer, so it depends on state and command. The common
alternative in continuous-control policy-gradient code (a learned log-std vector, one value
per action dimension) is this plugin, kept out of algorithms/ so that the benchmark's UDRL
code, and the provenance hash of its published runs, stay as they are:

- the log-std rows of the head's weight are zero and get no gradient, so the log-std is the
  head's bias alone, learned by the same negative log-likelihood as before;
- everything else (mean head, training, exploration, evaluation by the mean) is unchanged.

Named in ``results/evidence/udrl_state_free_std.toml`` as
``class = "results.evidence.udrl_state_free_std:UDRLStateFreeStd"`` (run from the project root).
"""

from __future__ import annotations

import torch

from algorithms.udrl import UDRL


class UDRLStateFreeStd(UDRL):
    """UDRL whose exploration std is a learned vector, independent of state and command."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        head, k = self.net.head, self.act_dim
        with torch.no_grad():
            head.weight[k:].zero_()
        head.weight.register_hook(lambda g: torch.cat([g[:k], torch.zeros_like(g[k:])]))
