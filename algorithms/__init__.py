"""Algorithm registry: name -> "module:Class", imported lazily.

Adding an algorithm = one new module in this package + one line here. Algorithms can
also live outside the package: an installed distribution declares them in the entry-point
group ``bench.algorithms`` (``name = "module:Class"``), and a benchmark.toml names one with
``[algos.<name>] class = "module:Class"`` (resolved by :class:`bench.config.BenchConfig`).
:func:`load_algorithm` turns every way an entry can be broken (module does not import,
no such class, not an :class:`Algorithm`, no ``Config`` dataclass, abstract methods left
unimplemented) into one :class:`AlgorithmError` naming the entry.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import os
import sys
from importlib import metadata

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
    "poligen_goal": "algorithms.poligen_goal:PoliGenGoal",
}

#: entry-point group through which installed packages register algorithms
ENTRY_POINT_GROUP = "bench.algorithms"

_CONDITIONING = (None, "return", "goal")


class AlgorithmError(BenchError):
    """A registry entry that cannot be used; ``reason`` says why (the message adds the entry)."""

    def __init__(self, name: str, entry: object, reason: str):
        super().__init__(f"algorithm {name!r} ({entry}): {reason}")
        self.name, self.entry, self.reason = name, entry, reason


def installed_plugins() -> dict[str, str]:
    """Algorithms declared by installed packages: name -> "module:Class" (entry-point group
    ``bench.algorithms``). A built-in name cannot be taken over by a plugin."""
    return {ep.name: ep.value for ep in metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name not in REGISTRY}


def algorithm_names() -> list[str]:
    """Built-in and installed algorithms (benchmark.toml may add more: ``BenchConfig.algo_names``)."""
    return sorted({*REGISTRY, *installed_plugins()})


def registry_entry(name: str) -> str:
    """The "module:Class" of a built-in or installed algorithm.

    :raises BenchError: unknown name
    """
    if name in REGISTRY:
        return REGISTRY[name]
    plugins = installed_plugins()
    if name in plugins:
        return plugins[name]
    raise BenchError(f"unknown algorithm {name!r}; known: {', '.join(algorithm_names())}")


@functools.lru_cache(maxsize=None)
def plugin_package(entry: str) -> dict[str, str | None]:
    """The installed distribution that provides an entry's module: ``{"package", "version"}``
    (both None for a module that is not part of an installed distribution). Cached: the
    runner asks several times per cell, and scanning the installed distributions is slow."""
    top = entry.split(":")[0].split(".")[0]
    dists = metadata.packages_distributions().get(top, [])
    if not dists:
        return {"package": None, "version": None}
    try:
        return {"package": dists[0], "version": metadata.version(dists[0])}
    except metadata.PackageNotFoundError:
        return {"package": dists[0], "version": None}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def get_algorithm(name: str) -> type[Algorithm]:
    """Return the built-in or installed algorithm class registered under ``name``.

    :raises BenchError: unknown name
    :raises AlgorithmError: the entry is broken (one line naming it and the reason)
    """
    return load_algorithm(name, registry_entry(name))


def load_algorithm(name: str, entry: object) -> type[Algorithm]:
    """Import and check the class of an entry ``"package.module:ClassName"``.

    The working directory is importable (as for ``python -m``), so a benchmark.toml can name a
    module that sits beside it.

    :raises AlgorithmError: the entry is broken (one line naming it and the reason)
    """

    def broken(reason: str) -> AlgorithmError:
        return AlgorithmError(name, entry, reason)

    parts = entry.split(":") if isinstance(entry, str) else []
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise broken("malformed class path; expected 'package.module:ClassName'")
    module_name, cls_name = (p.strip() for p in parts)
    if not all(p.isidentifier() for p in module_name.split(".")) or not cls_name.isidentifier():
        raise broken("malformed class path; expected 'package.module:ClassName'")
    return _load(name, module_name, cls_name)


def _load(name: str, module_name: str, cls_name: str) -> type[Algorithm]:
    entry = f"{module_name}:{cls_name}"

    def broken(reason: str) -> AlgorithmError:
        return AlgorithmError(name, entry, reason)

    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
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


__all__ = ["Algorithm", "AlgorithmError", "ENTRY_POINT_GROUP", "EnvInfo", "REGISTRY", "algorithm_names",
           "get_algorithm", "installed_plugins", "load_algorithm", "plugin_package", "registry_entry"]
