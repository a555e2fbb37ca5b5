"""Training-only wrappers."""

from __future__ import annotations

import gymnasium as gym


class SurvivalBonusRemoval(gym.RewardWrapper):
    """Subtract the per-step survival bonus from the reward (training only).

    ARS and PoliGen train Hopper on ``r - 1`` because with the bonus, parameter-space
    search finds the local optimum of standing still. Evaluation always uses the
    unmodified environment, so reported returns are comparable with every other method.

    :param env: the environment to wrap
    :param bonus: the bonus to subtract from every step's reward
    """

    def __init__(self, env: gym.Env, bonus: float):
        super().__init__(env)
        self.bonus = float(bonus)

    def reward(self, reward: float) -> float:
        return float(reward) - self.bonus
