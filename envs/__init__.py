"""Environments: id aliases, construction, training-only wrappers, goal environments."""

import bench  # noqa: F401  (sets single-threaded BLAS before numpy loads)

from envs.registry import ALIASES, list_env_ids, make_env, resolve_id
from envs.wrappers import SurvivalBonusRemoval
import envs.nav  # noqa: F401,E402  registers the goal envs (Nav2D-v0, Nav2DDense-v0)

__all__ = ["ALIASES", "SurvivalBonusRemoval", "list_env_ids", "make_env", "resolve_id"]
