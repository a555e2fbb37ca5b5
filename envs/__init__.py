"""Environments: id aliases, construction, training-only wrappers, goal environments."""

from envs.registry import ALIASES, list_env_ids, make_env, resolve_id
from envs.wrappers import SurvivalBonusRemoval

__all__ = ["ALIASES", "SurvivalBonusRemoval", "list_env_ids", "make_env", "resolve_id"]
