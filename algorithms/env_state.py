"""Exact save / restore of a gymnasium environment in the middle of an episode.

Off-policy methods (DDPG, HER) and GPIM are checkpointed at arbitrary steps, usually with
an episode in progress. Pickling a gymnasium MuJoCo environment does not keep its
physics state, so :func:`env_state` captures, layer by layer:

- every wrapper's plain-data attributes (TimeLimit's ``_elapsed_steps``, SB3 Monitor's
  episode reward lists and counters, OrderEnforcing's ``_has_reset``, ...);
- the ``np_random`` generator state of the base environment and of a nested MuJoCo
  environment (gymnasium-robotics keeps one under ``point_env`` / ``ant_env``);
- then, for the base environment, the first that applies:

  - environments exposing ``get_state()`` / ``set_state()`` (our ``envs.nav``): that state;
  - MuJoCo environments (gymnasium MuJoCo, gymnasium-robotics PointMaze and Fetch, the
    model/data possibly nested under ``point_env`` / ``ant_env``): the full integration
    state from ``mujoco.mj_getState`` (time, qpos, qvel, actuator activations, controls,
    warm-start accelerations, applied forces, ...) plus the mocap pose, and the ``goal``
    attribute where there is one. :func:`set_env_state` restores them with
    ``mj_setState``, calls PointMaze's ``update_target_site_pos`` so the target site
    follows the restored goal, and ends with ``mj_forward`` so derived quantities match;
  - any other environment (classic control): the base environment's plain-data
    attributes (e.g. ``MountainCarContinuous``'s ``state``).

An environment whose dynamics live somewhere else (an external simulator, hidden
Python objects) is not covered; :func:`env_state` then restores only what it sees.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np

_PLAIN = (bool, int, float, str, list, tuple, dict, np.ndarray, np.generic, type(None))
# attributes that are configuration or gymnasium plumbing, never episode state
_SKIP = {"env", "_saved_kwargs", "_action_space", "_observation_space", "_metadata", "_cached_spec",
         "spec", "metadata", "action_space", "observation_space", "_ezpickle_args", "_ezpickle_kwargs",
         "_np_random", "results_writer", "reset_keywords", "info_keywords", "_previous_data"}
_NESTED = ("point_env", "ant_env")  # gymnasium-robotics maze envs keep the MuJoCo env here


def _plain_attrs(obj: Any) -> dict[str, Any]:
    out = {}
    for key, value in vars(obj).items():
        if key in _SKIP or not isinstance(value, _PLAIN):
            continue
        try:
            out[key] = copy.deepcopy(value)
        except Exception:  # pragma: no cover - unpicklable leftovers are not episode state
            continue
    return out


def _layers(env: gym.Env) -> list[Any]:
    layers = [env]
    while hasattr(layers[-1], "env") and layers[-1].env is not layers[-1]:
        layers.append(layers[-1].env)
    return layers


def _rng_hosts(base: Any) -> list[Any]:
    """The base env and its nested MuJoCo env, each of which may own an ``np_random``."""
    return [base] + [getattr(base, k) for k in _NESTED if getattr(base, k, None) is not None]


def _mujoco_host(base: Any) -> Any | None:
    """The object holding the MuJoCo ``model`` / ``data`` (the env itself or a nested one)."""
    for host in _rng_hosts(base):
        data = getattr(host, "data", None)
        if hasattr(host, "model") and type(data).__module__.startswith("mujoco"):
            return host
    return None


def _has_get_state(base: Any) -> bool:
    return hasattr(base, "get_state") and hasattr(base, "set_state") and not hasattr(base, "model")


def _mujoco_spec(mujoco: Any) -> int:
    """Integration state plus mocap pose (already part of it in recent MuJoCo; OR-ing is a no-op then)."""
    spec = int(mujoco.mjtState.mjSTATE_INTEGRATION)
    for name in ("mjSTATE_MOCAP_POS", "mjSTATE_MOCAP_QUAT"):
        spec |= int(getattr(mujoco.mjtState, name))
    return spec


def _rng_state(host: Any) -> dict[str, Any] | None:
    rng = host.__dict__.get("_np_random")
    return copy.deepcopy(rng.bit_generator.state) if rng is not None else None


def _set_rng_state(host: Any, saved: dict[str, Any] | None) -> None:
    if saved is None:
        return
    rng = host.__dict__.get("_np_random")
    if rng is not None and type(rng.bit_generator).__name__ == saved["bit_generator"]:
        rng.bit_generator.state = copy.deepcopy(saved)  # in place: other holders see it too
    else:
        bitgen = getattr(np.random, saved["bit_generator"])()
        bitgen.state = copy.deepcopy(saved)
        host._np_random = np.random.Generator(bitgen)


def env_state(env: gym.Env) -> dict[str, Any]:
    """Capture ``env`` (wrappers included) so that :func:`set_env_state` continues it exactly."""
    layers = _layers(env)
    base = layers[-1]
    state: dict[str, Any] = {"wrappers": [_plain_attrs(w) for w in layers[:-1]],
                             "np_random": [_rng_state(h) for h in _rng_hosts(base)]}
    if _has_get_state(base):
        state["state"] = copy.deepcopy(base.get_state())
    elif (host := _mujoco_host(base)) is not None:
        import mujoco

        spec = _mujoco_spec(mujoco)
        buf = np.empty(mujoco.mj_stateSize(host.model, spec), np.float64)
        mujoco.mj_getState(host.model, host.data, buf, spec)
        state["mujoco"] = buf
        if hasattr(base, "goal"):
            state["goal"] = copy.deepcopy(base.goal)
    else:
        state["base"] = _plain_attrs(base)
    return state


def set_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Restore a state captured by :func:`env_state` into an env built the same way."""
    layers = _layers(env)
    base = layers[-1]
    if len(layers) - 1 != len(state["wrappers"]):
        raise ValueError("environment wrapper stack differs from the saved one")
    for layer, attrs in zip(layers[:-1], state["wrappers"]):
        for key, value in attrs.items():
            setattr(layer, key, copy.deepcopy(value))
    for host, saved in zip(_rng_hosts(base), state["np_random"]):
        _set_rng_state(host, saved)
    if "state" in state:
        base.set_state(copy.deepcopy(state["state"]))
    if "mujoco" in state:
        import mujoco

        host = _mujoco_host(base)
        if "goal" in state:
            base.goal = copy.deepcopy(state["goal"])
            if hasattr(base, "update_target_site_pos"):  # PointMaze: move the target site to the goal
                base.update_target_site_pos()
        mujoco.mj_setState(host.model, host.data, np.asarray(state["mujoco"], np.float64), _mujoco_spec(mujoco))
        mujoco.mj_forward(host.model, host.data)
    for key, value in state.get("base", {}).items():
        setattr(base, key, copy.deepcopy(value))
