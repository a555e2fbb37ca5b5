"""Registry errors at preflight: every way a REGISTRY entry can be broken is one clear
error naming the entry; `bench list` shows the others, `bench run` of the broken one stops
before anything is written, and the configuration of the others still loads."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from algorithms import REGISTRY, AlgorithmError, get_algorithm
from bench.cli import main
from bench.config import load_config
from bench.errors import BenchError

MODULES = {
    "_registry_fx_raises": "raise RuntimeError('boom while importing')\n",
    "_registry_fx_syntax": "def f(:\n",
    "_registry_fx_missing_dep": "import no_such_dependency_anywhere\n",
    "_registry_fx_algos": textwrap.dedent('''
        from dataclasses import dataclass

        from algorithms.base import Algorithm


        @dataclass
        class _Config:
            lr: float = 1e-3


        class NotAnAlgorithm:
            Config = _Config


        class NoConfig(Algorithm):
            def learn(self, until_env_steps): pass
            def policy(self, command=None): return lambda obs: obs
            def state_dict(self): return {}
            def load_state_dict(self, state): pass


        class PlainConfig(NoConfig):
            class Config:
                lr = 1e-3


        class Abstract(Algorithm):
            Config = _Config

            def learn(self, until_env_steps): pass


        class BadConditioning(NoConfig):
            Config = _Config
            conditioning = "reward"


        class Fine(NoConfig):
            """A complete (if useless) algorithm."""
            Config = _Config


        not_a_class = 3
    '''),
}


@pytest.fixture(scope="module")
def fixture_modules(tmp_path_factory):
    """Test-only modules on sys.path (removed afterwards)."""
    root = tmp_path_factory.mktemp("registry_fixtures")
    for name, text in MODULES.items():
        (root / f"{name}.py").write_text(text)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    yield root
    sys.path.remove(str(root))
    for name in MODULES:
        sys.modules.pop(name, None)


BROKEN = [
    ("algorithms.no_such_module:Foo", "cannot import algorithms.no_such_module: ModuleNotFoundError: No module named"),
    ("_registry_fx_raises:Foo", "cannot import _registry_fx_raises: RuntimeError: boom while importing"),
    ("_registry_fx_syntax:Foo", "cannot import _registry_fx_syntax: SyntaxError:"),
    ("_registry_fx_missing_dep:Foo", "ModuleNotFoundError: No module named 'no_such_dependency_anywhere'"),
    ("_registry_fx_algos:Nope", "module _registry_fx_algos has no attribute Nope"),
    ("_registry_fx_algos", "malformed class path"),
    ("_registry_fx_algos:Fine:Extra", "malformed class path"),
    (":Fine", "malformed class path"),
    ("_registry_fx_algos:", "malformed class path"),
    ("no such module:Fine", "malformed class path"),
    ("_registry_fx_algos:NotAnAlgorithm", "NotAnAlgorithm is not a subclass of algorithms.base.Algorithm"),
    ("_registry_fx_algos:not_a_class", "not_a_class is not a subclass of algorithms.base.Algorithm"),
    ("_registry_fx_algos:NoConfig", "NoConfig.Config is not a dataclass"),
    ("_registry_fx_algos:PlainConfig", "PlainConfig.Config is not a dataclass"),
    ("_registry_fx_algos:Abstract",
     "Abstract leaves abstract methods unimplemented: load_state_dict, policy, state_dict"),
    ("_registry_fx_algos:BadConditioning", "BadConditioning.conditioning is 'reward'"),
]


@pytest.mark.parametrize("entry, reason", BROKEN)
def test_broken_entry_is_one_error_naming_it(fixture_modules, monkeypatch, entry, reason):
    monkeypatch.setitem(REGISTRY, "broken", entry)
    with pytest.raises(AlgorithmError) as info:
        get_algorithm("broken")
    message = str(info.value)
    assert isinstance(info.value, BenchError)
    assert message.startswith(f"algorithm 'broken' ({entry}): ") and reason in message, message
    assert "\n" not in message and info.value.reason in message


def test_every_registered_algorithm_loads():
    for name in REGISTRY:
        assert get_algorithm(name).__name__ in REGISTRY[name]


def test_a_complete_fixture_algorithm_loads(fixture_modules, monkeypatch):
    monkeypatch.setitem(REGISTRY, "fine", "_registry_fx_algos:Fine")
    assert get_algorithm("fine").__name__ == "Fine"


def test_unknown_name_is_still_the_unknown_error():
    with pytest.raises(BenchError, match="unknown algorithm 'nope'; known: ars") as info:
        get_algorithm("nope")
    assert not isinstance(info.value, AlgorithmError)


def test_list_marks_the_broken_one_and_shows_the_others(monkeypatch, capsys):
    monkeypatch.setitem(REGISTRY, "broken", "algorithms.no_such_module:Foo")
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    assert "broken: cannot import algorithms.no_such_module: ModuleNotFoundError" in lines["broken"]
    for name in REGISTRY:
        if name != "broken":
            assert lines[name].split()[1] in ("reward", "return-conditioned", "goal-conditioned"), lines[name]


def test_run_of_the_broken_one_fails_before_writing(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(REGISTRY, "broken", "algorithms.no_such_module:Foo")
    runs = tmp_path / "runs"
    code = main(["run", "--algo", "ars,broken", "--env", "Pendulum-v1", "--runs-dir", str(runs),
                 "--budget", "1000", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == ["error: algorithm 'broken' (algorithms.no_such_module:Foo): cannot import "
                      "algorithms.no_such_module: ModuleNotFoundError: No module named 'algorithms.no_such_module'"]
    assert "Traceback" not in err and not runs.exists()


def test_config_loads_with_a_broken_entry_it_does_not_use(monkeypatch, tmp_path):
    """The tables of the algorithms that load are validated; a broken one's table is skipped."""
    project = Path(__file__).resolve().parent.parent / "benchmark.toml"
    monkeypatch.setitem(REGISTRY, "broken", "algorithms.no_such_module:Foo")
    path = tmp_path / "bench.toml"
    path.write_text(project.read_text() + "\n[algos.broken]\nwhatever = 1\n")
    config = load_config(path, check_algorithms=True)
    assert config.algos["broken"] == {"whatever": 1}
    path.write_text(project.read_text().replace("[algos.her]\n", "[algos.her]\nno_such_key = 1\n")
                    + "\n[algos.broken]\nwhatever = 1\n")
    with pytest.raises(BenchError, match=r"algos\.her\.no_such_key: unknown hyperparameter"):
        load_config(path, check_algorithms=True)
