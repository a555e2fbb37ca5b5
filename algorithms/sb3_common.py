"""Helpers shared by the stable-baselines3-based algorithms (DDPG, HER): an exact snapshot
of an SB3 off-policy model's training state, :func:`sb3_state_dict` /
:func:`sb3_load_state_dict`: policy weights, actor/critic optimisers (and SAC's entropy
temperature), step/update/episode counters, last observation, the action-noise object
(with any generator it owns), the action space's generator, the replay buffer up to its
fill point (HER's dict buffers included) and the single training env mid-episode, via
:mod:`algorithms.env_state`.

Global generators (python, numpy, torch) are not included; callers that need them use
:func:`algorithms.common.global_rng_state`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from algorithms.env_state import env_state, set_env_state


# ----------------------------------------------------------------------------- SB3 models
def _buffer_state(buf: Any) -> dict[str, Any]:
    """Replay buffer contents up to the fill point (not the preallocated tail)."""
    state = buf.__getstate__() if hasattr(buf, "__getstate__") and buf.__getstate__() is not None else dict(vars(buf))
    state = dict(state)
    state.pop("env", None)
    n = buf.buffer_size if buf.full else buf.pos
    out: dict[str, Any] = {"_filled": n}
    for k, v in state.items():
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == buf.buffer_size:
            out[k] = v[:n].copy()
        elif isinstance(v, dict) and all(isinstance(x, np.ndarray) and x.shape[0] == buf.buffer_size for x in v.values()):
            out[k] = {kk: x[:n].copy() for kk, x in v.items()}
        elif k in ("observation_space", "action_space", "device"):
            continue
        else:
            out[k] = copy.deepcopy(v)
    return out


def _load_buffer_state(buf: Any, state: dict[str, Any]) -> None:
    n = state["_filled"]
    for k, v in state.items():
        if k == "_filled":
            continue
        cur = getattr(buf, k, None)
        if isinstance(cur, np.ndarray) and cur.ndim >= 1 and cur.shape[0] == buf.buffer_size and isinstance(v, np.ndarray):
            cur[:n] = v
        elif isinstance(cur, dict) and isinstance(v, dict) and all(isinstance(x, np.ndarray) for x in cur.values()):
            for kk, x in v.items():
                cur[kk][:n] = x
        else:
            setattr(buf, k, copy.deepcopy(v))


_MODEL_ATTRS = ("num_timesteps", "_n_updates", "_episode_num", "_last_obs", "_last_original_obs",
                "_last_episode_starts", "_current_progress_remaining", "_total_timesteps", "_num_timesteps_at_start")


def sb3_state_dict(model: Any, include_buffer: bool = True) -> dict[str, Any]:
    """Exact training state of an SB3 off-policy model and of its (single) training env
    (``include_buffer=False``: without the replay buffer, for a finished run's model)."""
    state: dict[str, Any] = {
        "policy": copy.deepcopy(model.policy.state_dict()),
        "actor_optimizer": copy.deepcopy(model.actor.optimizer.state_dict()),
        "critic_optimizer": copy.deepcopy(model.critic.optimizer.state_dict()),
        "attrs": {k: copy.deepcopy(getattr(model, k, None)) for k in _MODEL_ATTRS},
        "action_noise": copy.deepcopy(model.action_noise),
        "action_space_rng": copy.deepcopy(model.action_space.np_random.bit_generator.state),
        "replay_buffer": _buffer_state(model.replay_buffer) if include_buffer else None,
        "env": env_state(model.get_env().envs[0]),
    }
    if getattr(model, "log_ent_coef", None) is not None:  # SAC's learned temperature
        state["log_ent_coef"] = model.log_ent_coef.detach().clone()
        state["ent_coef_optimizer"] = copy.deepcopy(model.ent_coef_optimizer.state_dict())
    return state


def sb3_load_state_dict(model: Any, state: dict[str, Any]) -> None:
    """Restore :func:`sb3_state_dict` into a freshly built model of the same configuration
    (a state saved without its replay buffer leaves the model's buffer as it is)."""
    model.policy.load_state_dict(state["policy"])
    model.actor.optimizer.load_state_dict(state["actor_optimizer"])
    model.critic.optimizer.load_state_dict(state["critic_optimizer"])
    for k, v in state["attrs"].items():
        setattr(model, k, copy.deepcopy(v))
    model.action_noise = copy.deepcopy(state["action_noise"])
    model.action_space.np_random.bit_generator.state = copy.deepcopy(state["action_space_rng"])
    if state["replay_buffer"] is not None:  # None: a finished run's model (``include_buffer=False``)
        _load_buffer_state(model.replay_buffer, state["replay_buffer"])
    set_env_state(model.get_env().envs[0], state["env"])
    if "log_ent_coef" in state:
        with __import__("torch").no_grad():
            model.log_ent_coef.copy_(state["log_ent_coef"])
        model.ent_coef_optimizer.load_state_dict(state["ent_coef_optimizer"])
