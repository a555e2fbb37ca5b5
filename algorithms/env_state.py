"""Exact save / restore of a gymnasium environment in the middle of an episode.

Per-step off-policy methods (DDPG) are checkpointed at arbitrary steps, usually with an
episode in progress. Pickling a gymnasium MuJoCo environment does not keep its physics
state, so this module captures, layer by layer:

- every wrapper's plain-data attributes (TimeLimit's ``_elapsed_steps``, Monitor's
  episode reward list, OrderEnforcing's ``_has_reset``, ...);
- the base environment's ``np_random`` generator state;
- for MuJoCo environments, the full integration state from ``mujoco.mj_getState``
  (time, qpos, qvel, actuator activations, controls, warm-start accelerations, ...),
  restored with ``mj_setState`` followed by ``mj_forward`` so derived quantities match;
- for any other environment (classic control), the base environment's plain-data
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
    while hasattr(layers[-1], "env"):
        layers.append(layers[-1].env)
    return layers


def _is_mujoco(base: Any) -> bool:
    return hasattr(base, "model") and hasattr(base, "data") and type(base.data).__module__.startswith("mujoco")


def env_state(env: gym.Env) -> dict[str, Any]:
    """Capture ``env`` (wrappers included) so that :func:`set_env_state` continues it exactly."""
    layers = _layers(env)
    base = layers[-1]
    state: dict[str, Any] = {"wrappers": [_plain_attrs(w) for w in layers[:-1]]}
    rng = base.__dict__.get("_np_random")
    state["np_random"] = copy.deepcopy(rng.bit_generator.state) if rng is not None else None
    if _is_mujoco(base):
        import mujoco

        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        buf = np.empty(mujoco.mj_stateSize(base.model, spec), np.float64)
        mujoco.mj_getState(base.model, base.data, buf, spec)
        state["mujoco"] = buf
        state["base"] = {}
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
    if state["np_random"] is not None:
        bitgen = getattr(np.random, state["np_random"]["bit_generator"])()
        bitgen.state = copy.deepcopy(state["np_random"])
        base._np_random = np.random.Generator(bitgen)
    if "mujoco" in state:
        import mujoco

        mujoco.mj_setState(base.model, base.data, np.asarray(state["mujoco"], np.float64),
                           mujoco.mjtState.mjSTATE_INTEGRATION)
        mujoco.mj_forward(base.model, base.data)
    for key, value in state["base"].items():
        setattr(base, key, copy.deepcopy(value))
