"""Environment registry: aliases, close-match errors, the training-only survival wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from bench.errors import BenchError
from envs import SurvivalBonusRemoval, make_env, resolve_id


def test_paper_ids_map_to_v4():
    assert resolve_id("Swimmer-v3") == "Swimmer-v4"
    assert resolve_id("Hopper-v3") == "Hopper-v4"
    assert resolve_id("InvertedPendulum-v2") == "InvertedPendulum-v4"
    assert resolve_id("MountainCarContinuous-v0") == "MountainCarContinuous-v0"
    assert resolve_id("Pendulum-v1") == "Pendulum-v1"  # any other gymnasium id


def test_unknown_id_lists_close_matches():
    with pytest.raises(BenchError) as err:
        resolve_id("Swimer-v3")
    assert "unknown environment 'Swimer-v3'" in str(err.value) and "Swimmer-v3" in str(err.value)


def test_survival_bonus_removed_only_when_asked():
    plain = make_env("Hopper-v3", survival_bonus=1.0)
    adjusted = make_env("Hopper-v3", survival_bonus=1.0, remove_survival_bonus=True)
    assert not isinstance(plain, SurvivalBonusRemoval) and isinstance(adjusted, SurvivalBonusRemoval)
    plain.reset(seed=3)
    adjusted.reset(seed=3)
    action = np.zeros(plain.action_space.shape)
    for _ in range(5):
        r_plain = plain.step(action)[1]
        r_adj = adjusted.step(action)[1]
        assert r_adj == pytest.approx(r_plain - 1.0)


def test_zero_bonus_means_no_wrapper():
    env = make_env("Swimmer-v3", survival_bonus=0.0, remove_survival_bonus=True)
    assert not isinstance(env, SurvivalBonusRemoval)
