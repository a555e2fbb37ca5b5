"""Every registered algorithm honours the runner's interface (algorithms/conformance.py):
learn / env_steps, determinism, exact resume, actions in the action space, final state.

A new algorithm is checked with its default ``Config()``; the table below only makes
the checks fast (small networks, early updates so that the resume point follows real
gradient steps, few episodes per iteration).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from algorithms import REGISTRY, get_algorithm
from algorithms.ars import ARS
from algorithms.conformance import check_conformance

BOX_ENV = "Pendulum-v1"  # 200-step episodes: episodic methods finish a few within the budget
GOAL_ENV = "Nav2D-v0"  # 50-step episodes
#: Pendulum's returns lie in about [-1700, 0]; return-conditioned methods are asked for commands in it
BOX_RETURN_RANGE = (-1600.0, 0.0)

_SB3_GOAL = {"hidden_sizes": [32, 32], "buffer_size": 5_000, "batch_size": 32, "learning_starts": 100}

#: the one table of per-algorithm speed overrides (Config fields); absent = Config() defaults
SPEED: dict[str, dict[str, Any]] = {
    "ars": {"n_directions": 1, "top_directions": 1, "hidden_sizes": (32, 32)},
    "poligen": {"hidden_sizes": (16, 16), "hypernet_hidden_sizes": (32, 32), "n_probing_states": 8,
                "evaluator_hidden_sizes": (32, 32), "evaluator_updates": 2, "generator_updates": 2},
    "ddpg": {"hidden_sizes": (32, 32), "batch_size": 32, "buffer_size": 5_000, "random_steps": 100,
             "learning_starts": 100, "train_freq": 50, "gradient_steps": 5},
    "udrl": {"hidden_size": 32, "n_warm_up_episodes": 1, "n_episodes_per_iter": 2, "n_updates_per_iter": 5,
             "batch_size": 64},
    "her": _SB3_GOAL,
    "ddpg_goal": _SB3_GOAL,
    "poligen_goal": {"hidden_sizes": (16,), "hypernet_hidden_sizes": (16,), "n_probing_states": 8,
                     "evaluator_hidden_sizes": (16,), "evaluator_updates": 2, "generator_updates": 2},
    "gpim": {"hidden_sizes": [32, 32], "buffer_size": 5_000, "batch_size": 32, "learning_starts": 100,
             "update_every": 2},
}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_algorithm_conforms(name):
    cls = get_algorithm(name)
    config = cls.Config(**SPEED.get(name, {}))
    if cls.conditioning == "goal":
        report = check_conformance(cls, GOAL_ENV, config)
    else:
        report = check_conformance(cls, BOX_ENV, config, return_range=BOX_RETURN_RANGE)
    assert report.env_steps[0] >= 310 and report.env_steps[1] > report.env_steps[0]


class _ForgetsWeights(ARS):
    """Broken: load_state_dict keeps the freshly initialised policy."""

    def load_state_dict(self, state):
        theta = self.theta.copy()
        super().load_state_dict(state)
        self.theta = theta


class _ForgetsGenerator(ARS):
    """Broken: load_state_dict does not restore the random generator (a resumed run draws
    other directions than the uninterrupted one)."""

    def load_state_dict(self, state):
        super().load_state_dict({**state, "rng": np.random.default_rng(self.seed + 1).bit_generator.state})


class _CountsHalfTheSteps(ARS):
    """Broken: env_steps counts the steps of the positive perturbations only."""

    def learn(self, until_env_steps):
        while self.env_steps < until_env_steps:
            steps = self.env_steps
            self._iteration()
            self.env_steps = steps + (self.env_steps - steps) // 2


class _ActionsOutOfBounds(ARS):
    """Broken: actions twice the action bound."""

    def policy(self, command=None):
        inner = super().policy(command)
        return lambda obs: 2.0 * inner(obs) + 2.0 * self.env_info.action_space.high


@pytest.mark.parametrize("broken, message", [
    (_ForgetsWeights, "resumed from the checkpoint"),
    (_ForgetsGenerator, "resumed at env step"),
    (_CountsHalfTheSteps, "training environments took"),
    (_ActionsOutOfBounds, "outside the action space"),
])
def test_a_broken_algorithm_fails(broken, message):
    with pytest.raises(AssertionError, match=message):
        check_conformance(broken, BOX_ENV, broken.Config(**SPEED["ars"]))


def test_default_config_is_checked_as_is():
    """A new algorithm needs no entry in SPEED: its Config() defaults are checked."""
    report = check_conformance(ARS, BOX_ENV)
    assert report.env_steps == (3200, 6400)  # one 16-episode iteration per learn call


def test_late_learner_trains_on_until_it_updates_or_fails():
    ddpg = get_algorithm("ddpg")
    late = {**SPEED["ddpg"], "random_steps": 600, "learning_starts": 600}
    report = check_conformance(ddpg, BOX_ENV, ddpg.Config(**late))
    assert report.learn_targets[:3] == [310, 620, 1240]  # no update before step 650: on to 1240
    with pytest.raises(AssertionError, match="did not change before the resume point .* would be vacuous"):
        check_conformance(ddpg, BOX_ENV, ddpg.Config(**{**late, "learning_starts": 5_000}), max_steps=1_000)
