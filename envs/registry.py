"""Environment ids, aliases and construction.

The paper's ids (Swimmer-v3, Hopper-v3, InvertedPendulum-v2) need the dead mujoco-py;
they are mapped to the v4 ids, which run the same models on the maintained ``mujoco``
bindings. The user's id stays the id shown everywhere; the id actually run is recorded
in each run's metadata. Any other registered gymnasium id works as is.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import warnings

import gymnasium as gym

from envs.wrappers import SurvivalBonusRemoval

#: paper id -> gymnasium id actually run
ALIASES: dict[str, str] = {
    "Swimmer-v3": "Swimmer-v4",
    "Hopper-v3": "Hopper-v4",
    "InvertedPendulum-v2": "InvertedPendulum-v4",
    "Walker2d-v3": "Walker2d-v4",
    "HalfCheetah-v3": "HalfCheetah-v4",
    "Ant-v3": "Ant-v4",
    "InvertedDoublePendulum-v2": "InvertedDoublePendulum-v4",
}

_robotics_registered = False


def _register_extras() -> None:
    """Register our own goal environments and gymnasium-robotics' (lazily: slow import)."""
    global _robotics_registered
    import envs  # noqa: F401  (registers our own ids on import)

    if not _robotics_registered:
        _robotics_registered = True
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                import gymnasium_robotics

                gym.register_envs(gymnasium_robotics)
        except Exception:  # pragma: no cover - optional dependency missing or broken
            pass


def resolve_id(env_id: str) -> str:
    """Map a user id to the gymnasium id to run; unknown ids raise with close matches."""
    from bench.errors import BenchError

    gym_id = ALIASES.get(env_id, env_id)
    if gym_id not in gym.registry:
        _register_extras()
    if gym_id not in gym.registry:
        known = sorted(set(gym.registry) | set(ALIASES))
        close = difflib.get_close_matches(env_id, known, n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise BenchError(f"unknown environment {env_id!r}{hint}")
    return gym_id


def make_env(env_id: str, *, survival_bonus: float = 0.0, remove_survival_bonus: bool = False) -> gym.Env:
    """Create an environment from a user id.

    :param env_id: user id (aliases allowed)
    :param survival_bonus: the environment's per-step survival bonus
    :param remove_survival_bonus: subtract ``survival_bonus`` from every reward (training only)
    """
    gym_id = resolve_id(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v4 deprecation notices
        env = gym.make(gym_id, disable_env_checker=True)
    if remove_survival_bonus and survival_bonus:
        env = SurvivalBonusRemoval(env, survival_bonus)
    return env


def list_env_ids() -> list[str]:
    """Aliases and registered continuous-control ids, for ``bench list``."""
    _register_extras()
    return sorted(set(ALIASES) | set(gym.registry))
