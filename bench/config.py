"""Loading and validating ``benchmark.toml``.

Every problem is reported as one :class:`BenchError` naming the file, the key and
what was expected. Algorithm hyperparameters are validated against the fields and
type hints of the algorithm's ``Config`` dataclass.

An algorithm name resolves, in this order, to a named variant (``[variants.<name>]``: a
base algorithm plus hyperparameter overrides, stored and reported under its own name),
a class named by the file (``[algos.<name>] class = "module:Class"``), a built-in
(``algorithms.REGISTRY``) or an installed plugin (entry-point group ``bench.algorithms``).
:meth:`BenchConfig.entry`, :meth:`BenchConfig.algorithm` and
:meth:`BenchConfig.hyperparameters` are the one place that resolution happens.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError

PROJECT_CONFIG = Path(__file__).resolve().parent.parent / "benchmark.toml"

_DEFAULT_KEYS: dict[str, type] = {
    "budget": int,
    "eval_interval": int,
    "eval_episodes": int,
    "final_window": int,
    "checkpoint_every": int,
    "checkpoint_seconds": float,
    "sweep_episodes": int,
    "sweep_points": int,
}
_ENV_KEYS: dict[str, Any] = {
    **_DEFAULT_KEYS,
    "return_range": list,
    "survival_bonus": float,
    "reference": list,
    "paper": dict,
}


@dataclass(frozen=True)
class EnvSettings:
    """The protocol for one environment (resolved from defaults + its table)."""

    env_id: str
    budget: int = 100_000
    eval_interval: int = 10_000
    eval_episodes: int = 10
    final_window: int = 20
    checkpoint_every: int = 1
    checkpoint_seconds: float = 0.0
    sweep_episodes: int = 10
    sweep_points: int = 21
    return_range: tuple[float, float] | None = None
    survival_bonus: float = 0.0
    reference: tuple[float, float] | None = None
    paper: dict[str, tuple[float, float]] = field(default_factory=dict)

    def protocol(self) -> dict[str, Any]:
        """The fields that define a run (stored in config.json, compared on resume)."""
        keys = ["budget", "eval_interval", "eval_episodes", "final_window", "survival_bonus",
                "return_range", "sweep_episodes", "sweep_points"]
        out = {k: getattr(self, k) for k in keys}
        out["return_range"] = list(self.return_range) if self.return_range else None
        return out


@dataclass(frozen=True)
class Variant:
    """A named setting of an algorithm: ``base`` with hyperparameter overrides."""

    base: str
    params: dict[str, Any] = field(default_factory=dict)
    env_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def overrides(self, env_id: str) -> dict[str, Any]:
        """The overrides in force on ``env_id`` (the variant's table + its env table)."""
        return {**self.params, **self.env_params.get(env_id, {})}


@dataclass(frozen=True)
class BenchConfig:
    """A validated benchmark.toml."""

    path: Path
    seeds: list[int]
    defaults: dict[str, Any]
    envs: dict[str, EnvSettings]
    algos: dict[str, dict[str, Any]]
    algo_env_overrides: dict[str, dict[str, dict[str, Any]]]
    classes: dict[str, str] = field(default_factory=dict)
    """algorithms defined by this file: name -> "module:Class" (``[algos.<name>] class``)"""
    variants: dict[str, Variant] = field(default_factory=dict)
    """named variants: ``[variants.<name>]``"""
    tune: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    """default grids of ``bench tune``: algo -> {key (or "k1+k2" for a joint key): values}"""
    threads: int = 1
    """torch intra-op threads of each run that starts (``--threads``; not in benchmark.toml). A
    resumed run keeps the count it started with: results are deterministic for a given count,
    not across counts (matrix products split their sums differently)."""

    def env(self, env_id: str) -> EnvSettings:
        """Settings of ``env_id``: its own table, or the defaults for any other id."""
        if env_id in self.envs:
            return self.envs[env_id]
        return EnvSettings(env_id=env_id, **self.defaults)

    def algo_names(self) -> list[str]:
        """Every algorithm name this configuration can run: built-in, installed, its own, variants."""
        from algorithms import algorithm_names

        return sorted({*algorithm_names(), *self.classes, *self.variants})

    def base(self, algo: str) -> str:
        """The algorithm a name runs: a variant's base, else the name itself."""
        return self.variants[algo].base if algo in self.variants else algo

    def entry(self, algo: str) -> str:
        """The "module:Class" that runs ``algo``.

        :raises BenchError: unknown name (listing the known ones)
        """
        from algorithms import registry_entry

        name = self.base(algo)
        if name in self.classes:
            return self.classes[name]
        try:
            return registry_entry(name)
        except BenchError:
            raise BenchError(f"unknown algorithm {algo!r}; known: {', '.join(self.algo_names())}") from None

    def algorithm(self, algo: str):
        """The class that runs ``algo`` (a variant runs its base's class).

        :raises BenchError: unknown name; :class:`algorithms.AlgorithmError` for a broken class path
        """
        from algorithms import load_algorithm

        return load_algorithm(self.base(algo), self.entry(algo))

    def hyperparameters(self, algo: str, env_id: str) -> dict[str, Any]:
        """The algorithm's hyperparameters for ``env_id``: its table + env override, and for a
        variant its base's, then the variant's overrides."""
        if algo in self.variants:
            variant = self.variants[algo]
            return {**self.hyperparameters(variant.base, env_id), **variant.overrides(env_id)}
        params = dict(self.algos.get(algo, {}))
        params.update(self.algo_env_overrides.get(algo, {}).get(env_id, {}))
        return params

    def identity(self, algo: str, env_id: str) -> dict[str, Any]:
        """What config.json records, beyond hyperparameters, about where ``algo`` comes from:
        ``variant`` (base and overrides) and, for a class outside this package, ``class`` and
        ``plugin`` (its distribution and version). Empty for a built-in algorithm."""
        from algorithms import REGISTRY, plugin_package

        out: dict[str, Any] = {}
        if algo in self.variants:
            variant = self.variants[algo]
            out["variant"] = {"base": variant.base, "overrides": variant.overrides(env_id)}
        if self.base(algo) not in REGISTRY:
            entry = self.entry(algo)
            out["class"] = entry
            out["plugin"] = plugin_package(entry)
        return out

    def with_protocol(self, env_ids: list[str], **changes: int) -> "BenchConfig":
        """This configuration with protocol fields (``eval_interval``, ``final_window``) set on
        ``env_ids``, as the command line's overrides do for a quick or reduced-budget run.
        The runs record the resolved protocol in config.json, so they resume only under the
        same overrides."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        for key, value in changes.items():
            if key not in ("eval_interval", "final_window") or isinstance(value, bool) or not isinstance(value, int) \
                    or value < 1:
                raise BenchError(f"protocol override {key}={value!r}: expected eval_interval or final_window, "
                                 f"a positive integer")
        envs = {**self.envs, **{e: dataclasses.replace(self.env(e), **changes) for e in env_ids}}
        return dataclasses.replace(self, envs=envs)

    def with_threads(self, threads: int | None) -> "BenchConfig":
        """This configuration with runs that start using ``threads`` torch threads (None: unchanged)."""
        if threads is None:
            return self
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise BenchError(f"threads={threads!r}: expected a positive integer")
        return dataclasses.replace(self, threads=threads)

    def with_variants(self, variants: dict[str, Variant]) -> "BenchConfig":
        """This configuration plus ``variants`` (validated like ``[variants.*]`` tables)."""
        merged = {**self.variants, **variants}
        cfg = dataclasses.replace(self, variants=merged)
        for name, variant in variants.items():
            _check_variant(cfg, name, variant)
        return cfg


def default_config_path() -> Path:
    """``benchmark.toml`` in the current directory, else the project's own."""
    local = Path.cwd() / "benchmark.toml"
    return local if local.exists() else PROJECT_CONFIG


def _fail(path: Path, key: str, msg: str) -> BenchError:
    return BenchError(f"{path}: {key}: {msg}")


def _check_number(path: Path, key: str, value: Any, kind: type, positive: bool = False) -> Any:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, key, f"expected an integer, got {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(path, key, f"expected a number, got {value!r}")
        value = float(value)
    if positive and value <= 0:
        raise _fail(path, key, f"expected a positive value, got {value!r}")
    return value


def _pair(path: Path, key: str, value: Any) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise _fail(path, key, f"expected a list of two numbers, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    return lo, hi


def _protocol_table(path: Path, prefix: str, table: Any, allowed: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(path, prefix, f"expected a table, got {table!r}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}.{key}"
        if key not in allowed:
            raise _fail(path, full, f"unknown key; allowed: {', '.join(sorted(allowed))}")
        kind = allowed[key]
        if kind in (int, float):
            non_negative = key in ("survival_bonus", "checkpoint_seconds")
            out[key] = _check_number(path, full, value, kind, positive=not non_negative)
            if non_negative and out[key] < 0:
                raise _fail(path, full, f"expected a non-negative number, got {value!r}")
        elif key in ("return_range", "reference"):
            lo, hi = _pair(path, full, value)
            if hi <= lo:
                raise _fail(path, full, f"expected [low, high] with low < high, got {value!r}")
            out[key] = (lo, hi)
        elif key == "paper":
            if not isinstance(value, dict):
                raise _fail(path, full, f"expected a table of algo = [mean, std], got {value!r}")
            out[key] = {a: _pair(path, f"{full}.{a}", v) for a, v in value.items()}
    return out


def _seed_list(path: Path, value: Any) -> list[int]:
    if not isinstance(value, list) or not value:
        raise _fail(path, "seeds", f"expected a non-empty list of non-negative integers, got {value!r}")
    for s in value:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise _fail(path, "seeds", f"expected non-negative integers, got {s!r}")
    if len(set(value)) != len(value):
        raise _fail(path, "seeds", "seeds must be distinct")
    return list(value)


def load_config(path: Path | str | None = None, *, check_algorithms: bool = True) -> BenchConfig:
    """Read and validate a benchmark.toml.

    :param path: the file (default: :func:`default_config_path`)
    :param check_algorithms: also validate every ``[algos.*]`` table against its Config (tables of
        algorithms whose registry entry is broken are skipped: using one gives its error)
    """
    path = Path(path) if path is not None else default_config_path()
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise BenchError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise BenchError(f"{path}: cannot read: {exc.strerror}") from None

    for key in raw:
        if key not in _TOP_KEYS:
            raise _fail(path, key, f"unknown top-level key; allowed: {', '.join(_TOP_KEYS)}")
    seeds = _seed_list(path, raw.get("seeds", list(range(20))))
    defaults = _protocol_table(path, "defaults", raw.get("defaults", {}), _DEFAULT_KEYS)

    envs_raw = raw.get("envs", {})
    if not isinstance(envs_raw, dict):
        raise _fail(path, "envs", "expected a table of environments")
    envs = {}
    for env_id, table in envs_raw.items():
        values = {**defaults, **_protocol_table(path, f'envs."{env_id}"', table, _ENV_KEYS)}
        envs[env_id] = EnvSettings(env_id=env_id, **values)

    algos_raw = raw.get("algos", {})
    if not isinstance(algos_raw, dict):
        raise _fail(path, "algos", "expected a table of algorithms")
    algos: dict[str, dict[str, Any]] = {}
    overrides: dict[str, dict[str, dict[str, Any]]] = {}
    classes: dict[str, str] = {}
    for name, table in algos_raw.items():
        table, env_tables = _algo_table(path, f"algos.{name}", table)
        if "class" in table:
            classes[name] = _class_path(path, name, table.pop("class"))
        algos[name] = table
        overrides[name] = env_tables

    variants_raw = raw.get("variants", {})
    if not isinstance(variants_raw, dict):
        raise _fail(path, "variants", "expected a table of variants")
    variants: dict[str, Variant] = {}
    for name, table in variants_raw.items():
        table, env_tables = _algo_table(path, f"variants.{name}", table)
        base = table.pop("algo", None)
        if not isinstance(base, str) or not base:
            raise _fail(path, f"variants.{name}.algo", "expected the name of the base algorithm, e.g. algo = \"poligen\"")
        variants[name] = Variant(base=base, params=table, env_params=env_tables)

    tune_raw = raw.get("tune", {})
    if not isinstance(tune_raw, dict) or not all(isinstance(t, dict) for t in tune_raw.values()):
        raise _fail(path, "tune", "expected tables [tune.<algo>] of hyperparameter = [values]")
    tune = {algo: dict(grid) for algo, grid in tune_raw.items()}

    cfg = BenchConfig(path=path, seeds=seeds, defaults=defaults, envs=envs, algos=algos,
                      algo_env_overrides=overrides, classes=classes, variants=variants, tune=tune)
    if check_algorithms:
        for name, variant in variants.items():
            _check_variant(cfg, name, variant)
        for name in algos:
            _check_algo(cfg, name)
        from bench.tune import grid_configurations

        for algo, grid in tune.items():
            grid_configurations(cfg, algo, grid, where=f"tune.{algo}")
    return cfg


_TOP_KEYS = ("seeds", "defaults", "envs", "algos", "variants", "tune")


def _algo_table(path: Path, where: str, table: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """An ``[algos.*]`` or ``[variants.*]`` table split into its own keys and its env tables."""
    if not isinstance(table, dict):
        raise _fail(path, where, f"expected a table, got {table!r}")
    table = dict(table)
    env_tables = table.pop("env", {})
    if not isinstance(env_tables, dict) or not all(isinstance(t, dict) for t in env_tables.values()):
        raise _fail(path, f"{where}.env", f'expected tables [{where}.env."<env id>"]')
    return table, {k: dict(v) for k, v in env_tables.items()}


def _class_path(path: Path, name: str, value: Any) -> str:
    from algorithms import REGISTRY

    if name in REGISTRY:
        raise _fail(path, f"algos.{name}.class", f"{name!r} is a built-in algorithm; give yours another name")
    if not isinstance(value, str) or value.count(":") != 1:
        raise _fail(path, f"algos.{name}.class", f"expected \"module:Class\", got {value!r}")
    return value


def _check_algo(cfg: BenchConfig, name: str) -> None:
    """An ``[algos.<name>]`` table names a known algorithm and valid hyperparameters (a class
    path that does not load errors when the algorithm is used, so `bench list` still works)."""
    from algorithms import AlgorithmError

    if name in cfg.variants:
        raise _fail(cfg.path, f"algos.{name}", f"also defined as [variants.{name}]; use one of them")
    try:
        cls = cfg.algorithm(name)
    except AlgorithmError:
        return
    except BenchError:
        raise _fail(cfg.path, f"algos.{name}", f"unknown algorithm (no class = \"module:Class\"); "
                                               f"known: {', '.join(cfg.algo_names())}") from None
    build_algo_config(cls.Config, cfg.algos[name], path=cfg.path, where=f"algos.{name}")
    for env_id, table in cfg.algo_env_overrides[name].items():
        build_algo_config(cls.Config, {**cfg.algos[name], **table}, path=cfg.path,
                          where=f'algos.{name}.env."{env_id}"')


def _check_variant(cfg: BenchConfig, name: str, variant: Variant) -> None:
    """A variant's base is an algorithm (not a variant) and its overrides are valid hyperparameters."""
    from algorithms import AlgorithmError, algorithm_names

    where = f"variants.{name}"
    if name in algorithm_names() or name in cfg.classes:
        raise _fail(cfg.path, where, f"{name!r} is already an algorithm's name; choose another")
    if variant.base in cfg.variants:
        raise _fail(cfg.path, f"{where}.algo", f"{variant.base!r} is a variant; a variant's base must be an algorithm")
    try:
        cls = cfg.algorithm(name)
    except AlgorithmError:
        return
    except BenchError:
        known = sorted({*algorithm_names(), *cfg.classes})
        raise _fail(cfg.path, f"{where}.algo", f"unknown algorithm {variant.base!r}; known: {', '.join(known)}") from None
    envs = {"", *variant.env_params, *cfg.algo_env_overrides.get(variant.base, {})}
    for env_id in sorted(envs):
        label = f'{where}.env."{env_id}"' if env_id in variant.env_params else where
        build_algo_config(cls.Config, cfg.hyperparameters(name, env_id), path=cfg.path, where=label)


def _matches(hint: Any, value: Any) -> tuple[bool, Any]:
    """Check ``value`` against a type hint; return (ok, converted value)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True, value
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            ok, conv = _matches(arg, value)
            if ok:
                return True, conv
        return False, value
    if origin is typing.Literal:
        return value in typing.get_args(hint), value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False, value
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                return False, value
            pairs = list(zip(args, value))
        else:
            pairs = [(args[0] if args else Any, v) for v in value]
        conv = []
        for a, v in pairs:
            ok, c = _matches(a, v)
            if not ok:
                return False, value
            conv.append(c)
        return True, origin(conv)
    if origin is dict:
        return isinstance(value, dict), value
    return isinstance(value, hint), value


def build_algo_config(config_cls: type, params: dict[str, Any], *, path: Path | str = "benchmark.toml",
                      where: str = "algos") -> Any:
    """Instantiate an algorithm's Config dataclass from a table, validating keys and types."""
    hints = typing.get_type_hints(config_cls)
    names = {f.name for f in dataclasses.fields(config_cls)}
    kwargs = {}
    for key, value in params.items():
        if key not in names:
            raise BenchError(f"{path}: {where}.{key}: unknown hyperparameter; allowed: {', '.join(sorted(names))}")
        ok, conv = _matches(hints[key], value)
        if not ok:
            expected = getattr(hints[key], "__name__", None) or str(hints[key]).replace("typing.", "")
            raise BenchError(f"{path}: {where}.{key}: expected {expected}, got {value!r}")
        kwargs[key] = conv
    try:
        return config_cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise BenchError(f"{path}: {where}: {exc}") from None
