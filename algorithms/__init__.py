"""Algorithm registry: name -> "module:Class", imported lazily.

Adding an algorithm = one new module in this package + one line here.
"""

from __future__ import annotations

import importlib

import bench  # noqa: F401  (sets single-threaded BLAS before numpy loads)

from algorithms.base import Algorithm, EnvInfo

REGISTRY: dict[str, str] = {
    "ars": "algorithms.ars:ARS",
    "poligen": "algorithms.poligen:PoliGen",
    "ddpg": "algorithms.ddpg:DDPG",
    "udrl": "algorithms.udrl:UDRL",
    "her": "algorithms.her:HER",
    "ddpg_goal": "algorithms.her:DDPGGoal",
    "gpim": "algorithms.gpim:GPIM",
}


def algorithm_names() -> list[str]:
    return sorted(REGISTRY)


def get_algorithm(name: str) -> type[Algorithm]:
    """Return the algorithm class registered under ``name``."""
    from bench.errors import BenchError

    if name not in REGISTRY:
        raise BenchError(f"unknown algorithm {name!r}; known: {', '.join(algorithm_names())}")
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)


__all__ = ["Algorithm", "EnvInfo", "REGISTRY", "algorithm_names", "get_algorithm"]
