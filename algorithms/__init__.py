"""Algorithm registry: name -> "module:Class", imported lazily.

Adding an algorithm = one new module in this package + one line here.
:func:`get_algorithm` turns every way an entry can be broken (module does not import,
no such class, not an :class:`Algorithm`, no ``Config`` dataclass, abstract methods left
unimplemented) into one :class:`AlgorithmError` naming the entry.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import bench  # noqa: F401  (sets single-threaded BLAS before numpy loads)

from algorithms.base import Algorithm, EnvInfo
from bench.errors import BenchError

REGISTRY: dict[str, str] = {
    "ars": "algorithms.ars:ARS",
    "poligen": "algorithms.poligen:PoliGen",
    "ddpg": "algorithms.ddpg:DDPG",
    "udrl": "algorithms.udrl:UDRL",
    "her": "algorithms.her:HER",
    "ddpg_goal": "algorithms.her:DDPGGoal",
    "gpim": "algorithms.gpim:GPIM",
}

_CONDITIONING = (None, "return", "goal")


class AlgorithmError(BenchError):
    """A registry entry that cannot be used; ``reason`` says why (the message adds the entry)."""

    def __init__(self, name: str, entry: object, reason: str):
        super().__init__(f"algorithm {name!r} ({entry}): {reason}")
        self.name, self.entry, self.reason = name, entry, reason


def algorithm_names() -> list[str]:
    return sorted(REGISTRY)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def get_algorithm(name: str) -> type[Algorithm]:
    """Return the algorithm class registered under ``name``.

    :raises BenchError: unknown name
    :raises AlgorithmError: the entry is broken (one line naming it and the reason)
    """
    if name not in REGISTRY:
        raise BenchError(f"unknown algorithm {name!r}; known: {', '.join(algorithm_names())}")
    entry = REGISTRY[name]

    def broken(reason: str) -> AlgorithmError:
        return AlgorithmError(name, entry, reason)

    parts = entry.split(":") if isinstance(entry, str) else []
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise broken("malformed registry entry; expected 'package.module:ClassName'")
    module_name, cls_name = (p.strip() for p in parts)
    if not all(p.isidentifier() for p in module_name.split(".")) or not cls_name.isidentifier():
        raise broken("malformed registry entry; expected 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # whatever the module raises while importing
        raise broken(f"cannot import {module_name}: {_first_line(exc)}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise broken(f"module {module_name} has no attribute {cls_name}")
    if not inspect.isclass(cls) or not issubclass(cls, Algorithm):
        raise broken(f"{cls_name} is not a subclass of algorithms.base.Algorithm")
    config = getattr(cls, "Config", None)
    if not (inspect.isclass(config) and dataclasses.is_dataclass(config)):
        raise broken(f"{cls_name}.Config is not a dataclass of hyperparameters")
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        raise broken(f"{cls_name} leaves abstract methods unimplemented: {missing}")
    if cls.conditioning not in _CONDITIONING:
        raise broken(f"{cls_name}.conditioning is {cls.conditioning!r}; expected None, 'return' or 'goal'")
    return cls


__all__ = ["Algorithm", "AlgorithmError", "EnvInfo", "REGISTRY", "algorithm_names", "get_algorithm"]
