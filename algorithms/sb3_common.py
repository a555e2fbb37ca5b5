"""Helpers shared by the stable-baselines3-based algorithms: exact snapshots of an SB3
off-policy model (weights, optimisers, replay buffer, counters, RNGs) and of a training
environment with an episode in progress.

Environment snapshots (:func:`env_snapshot` / :func:`env_restore`):

- environments exposing ``get_state()`` / ``set_state()`` (our ``envs.nav``) are
  snapshotted exactly;
- MuJoCo-based ones (gymnasium MuJoCo, gymnasium-robotics PointMaze and Fetch) store
  ``qpos, qvel, act, ctrl, time, qacc_warmstart`` and the mocap pose, plus the goal
  (``goal`` attribute) where there is one, followed by ``mj_forward``;
- every wrapper's small scalar attributes (``TimeLimit._elapsed_steps``,
  ``OrderEnforcing._has_reset``, SB3 ``Monitor`` episode counters) and the env's
  ``np_random`` state are stored too.

Anything else an environment keeps in Python attributes is not captured (documented
limitation; none of the envs used here keeps more than the above).
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np

_SIMPLE = (bool, int, float, str, np.integer, np.floating, np.bool_)


def _simple(v: Any) -> bool:
    if isinstance(v, _SIMPLE) or v is None:
        return True
    if isinstance(v, np.ndarray):
        return v.dtype != object and v.size <= 10_000
    if isinstance(v, (list, tuple)):
        return len(v) <= 100_000 and all(isinstance(x, _SIMPLE) for x in v)
    return False


def _layers(env: gym.Env) -> list[Any]:
    out, e = [], env
    while True:
        out.append(e)
        if not hasattr(e, "env") or e is getattr(e, "env", None):
            break
        e = e.env
    return out


def _mujoco_data(u: Any) -> tuple[Any, Any] | None:
    for host in (u, getattr(u, "point_env", None), getattr(u, "ant_env", None)):
        if host is not None and hasattr(host, "data") and hasattr(host, "model"):
            return host.model, host.data
    return None


def env_snapshot(env: gym.Env) -> dict[str, Any]:
    """Everything needed to continue ``env``'s current episode exactly (see module doc)."""
    layers = _layers(env)
    wrappers = []
    for w in layers[:-1]:
        wrappers.append({k: copy.deepcopy(v) for k, v in vars(w).items()
                         if k not in ("env", "_action_space", "_observation_space", "_metadata") and _simple(v)})
    u = env.unwrapped
    snap: dict[str, Any] = {"wrappers": wrappers}
    if getattr(u, "_np_random", None) is not None:
        snap["np_random"] = copy.deepcopy(u.np_random.bit_generator.state)
    if hasattr(u, "get_state") and hasattr(u, "set_state") and not hasattr(u, "model"):
        snap["state"] = copy.deepcopy(u.get_state())
        return snap
    md = _mujoco_data(u)
    if md is not None:
        _, data = md
        snap["mujoco"] = {k: np.array(getattr(data, k)).copy() for k in
                          ("qpos", "qvel", "act", "ctrl", "qacc_warmstart", "mocap_pos", "mocap_quat")}
        snap["mujoco"]["time"] = float(data.time)
    for k in ("goal",):
        if hasattr(u, k):
            snap[k] = copy.deepcopy(getattr(u, k))
    return snap


def env_restore(env: gym.Env, snap: dict[str, Any]) -> None:
    """Restore a snapshot from :func:`env_snapshot` into an env of the same id."""
    layers = _layers(env)
    for w, attrs in zip(layers[:-1], snap["wrappers"]):
        for k, v in attrs.items():
            setattr(w, k, copy.deepcopy(v))
    u = env.unwrapped
    if "np_random" in snap:
        _ = u.np_random  # create the generator if the env was never reset
        u.np_random.bit_generator.state = copy.deepcopy(snap["np_random"])
    if "state" in snap:
        u.set_state(copy.deepcopy(snap["state"]))
        return
    if "goal" in snap:
        u.goal = copy.deepcopy(snap["goal"])
    if "mujoco" in snap:
        import mujoco

        model, data = _mujoco_data(u)
        m = snap["mujoco"]
        for k in ("qpos", "qvel", "act", "ctrl", "qacc_warmstart", "mocap_pos", "mocap_quat"):
            getattr(data, k)[...] = m[k]
        data.time = m["time"]
        mujoco.mj_forward(model, data)
        if hasattr(u, "update_target_site_pos"):  # PointMaze: show the restored goal
            u.update_target_site_pos()


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


def sb3_state_dict(model: Any) -> dict[str, Any]:
    """Exact training state of an SB3 off-policy model and of its (single) training env."""
    state: dict[str, Any] = {
        "policy": copy.deepcopy(model.policy.state_dict()),
        "actor_optimizer": copy.deepcopy(model.actor.optimizer.state_dict()),
        "critic_optimizer": copy.deepcopy(model.critic.optimizer.state_dict()),
        "attrs": {k: copy.deepcopy(getattr(model, k, None)) for k in _MODEL_ATTRS},
        "action_noise": copy.deepcopy(model.action_noise),
        "action_space_rng": copy.deepcopy(model.action_space.np_random.bit_generator.state),
        "replay_buffer": _buffer_state(model.replay_buffer),
        "env": env_snapshot(model.get_env().envs[0]),
    }
    if getattr(model, "log_ent_coef", None) is not None:  # SAC's learned temperature
        state["log_ent_coef"] = model.log_ent_coef.detach().clone()
        state["ent_coef_optimizer"] = copy.deepcopy(model.ent_coef_optimizer.state_dict())
    return state


def sb3_load_state_dict(model: Any, state: dict[str, Any]) -> None:
    """Restore :func:`sb3_state_dict` into a freshly built model of the same configuration."""
    model.policy.load_state_dict(state["policy"])
    model.actor.optimizer.load_state_dict(state["actor_optimizer"])
    model.critic.optimizer.load_state_dict(state["critic_optimizer"])
    for k, v in state["attrs"].items():
        setattr(model, k, copy.deepcopy(v))
    model.action_noise = copy.deepcopy(state["action_noise"])
    model.action_space.np_random.bit_generator.state = copy.deepcopy(state["action_space_rng"])
    _load_buffer_state(model.replay_buffer, state["replay_buffer"])
    env_restore(model.get_env().envs[0], state["env"])
    if "log_ent_coef" in state:
        with __import__("torch").no_grad():
            model.log_ent_coef.copy_(state["log_ent_coef"])
        model.ent_coef_optimizer.load_state_dict(state["ent_coef_optimizer"])
