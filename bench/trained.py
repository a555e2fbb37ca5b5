"""Load the trained model of a complete run, to act with it or look inside it.

Everything comes from the run directory: ``config.json`` names the algorithm (a variant's
base, a plugin's class path) and its resolved hyperparameters, ``model.pt`` holds
``Algorithm.final_state``. benchmark.toml is not read, so a run loads as it was trained even
after the configuration changed.

    from bench.trained import load_trained
    algo, make = load_trained("results/paper/Swimmer-v3/ars/seed_0")   # model.pt must be there
    policy = algo.policy(algo.eval_command())
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import gymnasium as gym

from algorithms import Algorithm, get_algorithm, load_algorithm
from bench import store
from bench.config import EnvSettings, build_algo_config
from bench.errors import BenchError
from bench.runner import env_info_for
from envs import make_env


def load_trained(run_dir: Path | str) -> tuple[Algorithm, Callable[[], gym.Env]]:
    """The algorithm of a complete run with its trained model loaded, and a factory of its
    (evaluation) environment.

    :raises BenchError: no config.json or model.pt (published runs keep no models), or a
        config.json this code cannot rebuild
    """
    d = Path(run_dir)
    for name in (store.CONFIG, store.MODEL):
        if not (d / name).is_file():
            raise BenchError(f"{d}: no {name} (a complete run of `bench run` keeps both)")
    cfg = store.read_json(d / store.CONFIG)
    try:
        name, env_id, seed = cfg["algo"], cfg["env_id"], int(cfg["seed"])
        protocol, params = cfg["protocol"], cfg["hyperparameters"]
    except (KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"{d / store.CONFIG}: not a run's configuration ({exc})") from None
    base = (cfg.get("variant") or {}).get("base", name)
    cls = load_algorithm(base, cfg["class"]) if "class" in cfg else get_algorithm(base)
    algo_cfg = build_algo_config(cls.Config, params, path=d / store.CONFIG, where="hyperparameters")
    return_range = protocol.get("return_range")
    settings = EnvSettings(env_id=env_id, survival_bonus=protocol.get("survival_bonus", 0.0),
                           return_range=tuple(return_range) if return_range else None)

    def factory(*, remove_survival_bonus: bool = False) -> gym.Env:
        return make_env(env_id, survival_bonus=settings.survival_bonus,
                        remove_survival_bonus=remove_survival_bonus)

    probe = make_env(env_id)
    info = env_info_for(env_id, settings, probe)
    probe.close()
    algo = cls(factory, seed, algo_cfg, info)
    algo.load_final_state(store.load_checkpoint(d / store.MODEL)["algo"])
    return algo, lambda: make_env(env_id)
