"""Code provenance: which source files made a run, as one hash.

A run's numbers depend on its algorithm's module, on the project modules that module
imports (shared networks, rollouts, environment snapshots) and on the evaluation
protocol (evaluation, sweeps, environments). :func:`code_identity` hashes exactly those
files: the transitive closure of project imports, found statically by parsing each file
(no import side effects, the same answer in every process), starting from the
algorithm's module and the protocol modules. Each file is hashed without its docstrings,
comments and blank lines (:func:`code_text`), so documentation edits keep stored runs current. Editing ``poligen.py`` changes PoliGen's
hash and leaves ARS's alone; editing ``bench/evaluation.py`` changes every hash.

Orchestration (runner, run store, CLI) is not hashed: it does not change what a run
computes, and a change to it would otherwise mark every stored run stale. The algorithm
registry (``algorithms/__init__.py``, which every algorithm module's import passes through)
is orchestration too: which class a name runs is recorded in config.json, and adding an
algorithm's registry line must not mark every other algorithm's runs stale. ``meta.json``
also records the package version and the git commit (``-dirty`` when the checkout has
uncommitted or untracked changes).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import io
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import BenchError

if TYPE_CHECKING:
    from bench.config import BenchConfig

#: top-level packages of this project whose modules are followed
PROJECT_PACKAGES = ("algorithms", "envs", "bench", "analysis")
#: orchestration modules that algorithm imports pass through: neither hashed nor followed
NOT_HASHED = frozenset({"algorithms"})
#: modules that define the evaluation protocol, hashed into every algorithm's identity
PROTOCOL_MODULES = ("bench.evaluation", "bench.sweeps", "bench.goal_sweep", "envs")


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imports(path: Path, module: str) -> set[str]:
    """Module names imported by a source file (absolute, including ``from pkg import sub``)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    # importing a.b.c runs a/__init__.py and a/b/__init__.py too
    return {p for name in out for p in _parents(name)}


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for type hints only)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in ast.walk(child))
            continue
        yield node
        yield from _runtime_nodes(node)


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def source_closure(roots: list[str], packages: tuple[str, ...] = PROJECT_PACKAGES) -> dict[str, Path]:
    """Module name -> file for ``roots`` and every module of ``packages`` they import."""
    follow = set(packages) | {r.split(".")[0] for r in roots}
    todo = [p for r in roots for p in _parents(r)]
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in seen or name in NOT_HASHED or name.split(".")[0] not in follow:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        todo.extend(_imports(path, name) - seen.keys())
    return seen


def code_text(source: str) -> str:
    """The part of a module's source that can change what it computes: the text without
    docstrings, comments and blank lines (trailing spaces stripped). Editing documentation
    leaves a run's code hash alone; editing a statement changes it."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            drop.update(range(body[0].lineno, body[0].end_lineno + 1))
        # attribute docstrings: a bare string right after an assignment (dataclass fields)
        if body and isinstance(body, list):
            for prev, cur in zip(body, body[1:]):
                if (isinstance(prev, (ast.Assign, ast.AnnAssign)) and isinstance(cur, ast.Expr)
                        and isinstance(cur.value, ast.Constant) and isinstance(cur.value.value, str)):
                    drop.update(range(cur.lineno, cur.end_lineno + 1))
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.start[1]
    out = []
    for i, line in enumerate(lines, start=1):
        if i in drop:
            continue
        if i in comments:
            line = line[: comments[i]]
        line = line.rstrip()
        if line:
            out.append(line)
    return "\n".join(out) + "\n"


def _digest(path: Path) -> str:
    return hashlib.sha256(code_text(path.read_text(encoding="utf-8")).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=None)
def code_identity(entry: str) -> dict[str, Any]:
    """The code that defines runs of a registry entry ``"module:Class"``.

    Computed once per process, at the first call (the runner calls it when it resolves the
    algorithm, next to the import): a process that keeps running while its source files are
    edited keeps executing, and recording, the code it loaded.

    :returns: ``{"hash": <sha256 of the files below>, "files": {module: sha256}, "version": <bench version>}``
    :raises BenchError: a module of the closure cannot be parsed
    """
    from bench import __version__

    module = entry.split(":")[0]
    try:
        files = source_closure([module, *PROTOCOL_MODULES])
        digests = {name: _digest(path) for name, path in sorted(files.items())}
    except (OSError, SyntaxError) as exc:
        raise BenchError(f"cannot hash the source of {entry}: {exc}") from None
    whole = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in digests.items()).encode()).hexdigest()
    return {"hash": whole, "files": digests, "version": __version__}


def algorithm_code(algo: str, config: BenchConfig | None = None) -> dict[str, Any]:
    """:func:`code_identity` of an algorithm: built-in or installed, or any name ``config``
    resolves (a variant has its base's code; the overrides are in config.json)."""
    from algorithms import registry_entry

    return code_identity(config.entry(algo) if config is not None else registry_entry(algo))


def run_code_today(run_dir: Path, config: BenchConfig | None = None) -> str | None:
    """This checkout's code hash for the algorithm a stored run names: the configuration's
    entry for the run's name, else what the run's config.json records (the base of a variant,
    as for a `bench tune` configuration, or a plugin's class path). None when neither
    resolves (an algorithm this checkout does not have)."""
    from bench import store

    name = Path(run_dir).parent.name
    try:
        return algorithm_code(name, config)["hash"]
    except (BenchError, KeyError, ImportError):
        pass
    try:
        recorded = store.read_json(Path(run_dir) / store.CONFIG)
        base = (recorded.get("variant") or {}).get("base")
        if isinstance(recorded.get("class"), str):
            return code_identity(recorded["class"])["hash"]
        return algorithm_code(base, config)["hash"] if isinstance(base, str) else None
    except (BenchError, KeyError, ImportError, OSError, AttributeError):
        return None


def stored_code_hash(meta: dict[str, Any]) -> str | None:
    """The code hash a run's meta.json records (None for runs made before provenance)."""
    code = meta.get("code")
    return code.get("hash") if isinstance(code, dict) else None


def code_hashes(meta: dict[str, Any]) -> list[str]:
    """Every code hash a run was trained with, in order (several if it was resumed after
    an edit)."""
    history = meta.get("code_history")
    if isinstance(history, list) and history:
        return [str(h) for h in history]
    h = stored_code_hash(meta)
    return [h] if h else []


def cpu_key(cpu: dict) -> str:
    """What identifies a processor for floating-point results: its model (name, and family/model/
    stepping and instruction-set flags where recorded) and torch's kernel set."""
    ident = f", {cpu['id']}" if cpu.get("id") else ""
    flags = f", flags {cpu['flags_sha256']}" if cpu.get("flags_sha256") else ""
    cbwr = f", MKL_CBWR={cpu['mkl_cbwr']}" if cpu.get("mkl_cbwr") else ""
    return f"{cpu.get('model', '?')} [{cpu.get('torch_capability', '?')}{ident}{flags}{cbwr}]"


def cpu_history(meta: dict) -> list[dict]:
    """The processors a run trained on, in order (meta.json; [] for runs from before it was recorded)."""
    if meta.get("cpu_history"):
        return list(meta["cpu_history"])
    return [meta["cpu"]] if meta.get("cpu") else []
