"""benchmark.toml validation: every problem is one BenchError naming file, key, expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from algorithms.ars import ARSConfig
from bench.config import PROJECT_CONFIG, build_algo_config, load_config
from bench.errors import BenchError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "b.toml"
    p.write_text(text)
    return p


def test_project_config_loads_and_resolves_overrides():
    cfg = load_config(PROJECT_CONFIG)
    assert cfg.seeds == list(range(20))
    ip = cfg.env("InvertedPendulum-v2")
    assert (ip.budget, ip.eval_interval, ip.eval_episodes, ip.final_window) == (100_000, 1_000, 10, 20)
    assert cfg.env("Hopper-v3").survival_bonus == 1.0
    assert cfg.env("Swimmer-v3").return_range == (-100.0, 365.0)
    hp = cfg.hyperparameters("ars", "InvertedPendulum-v2")
    assert (hp["step_size"], hp["n_directions"], hp["top_directions"], hp["noise"]) == (0.001, 1, 1, 0.025)
    assert cfg.hyperparameters("ars", "Swimmer-v3")["n_directions"] == 8
    # an id without a table gets the defaults
    other = cfg.env("Pendulum-v1")
    assert other.budget == cfg.defaults["budget"] and other.return_range is None


@pytest.mark.parametrize("text, fragment", [
    ("[defaults]\nbudget = -5\n", "defaults.budget: expected a positive value"),
    ("[defaults]\nbudget = 'many'\n", "defaults.budget: expected an integer"),
    ("[defaults]\nbugdet = 5\n", "defaults.bugdet: unknown key"),
    ("seeds = [0, -1]\n", "seeds: expected non-negative integers"),
    ("seeds = [1, 1]\n", "seeds: seeds must be distinct"),
    ("colour = 1\n", "colour: unknown top-level key"),
    ('[envs."Swimmer-v3"]\nreturn_range = [5, 1]\n', "return_range: expected [low, high]"),
    ("[algos.ars]\nstep_sise = 0.1\n", "algos.ars.step_sise: unknown hyperparameter"),
    ("[algos.ars]\nstep_size = 'big'\n", "algos.ars.step_size: expected float"),
    ("[algos.ars]\nn_directions = 2\ntop_directions = 4\n", "top_directions"),
    ("[algos.nope]\nx = 1\n", "algos.nope: unknown algorithm"),
    ("seeds = [0\n", "not valid TOML"),
])
def test_invalid_configs_name_file_and_key(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(BenchError) as err:
        load_config(path)
    assert str(path) in str(err.value) and fragment in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(BenchError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_build_algo_config_converts_types():
    cfg = build_algo_config(ARSConfig, {"step_size": 1, "hidden_sizes": [64, 64], "policy": "linear"})
    assert cfg.step_size == 1.0 and isinstance(cfg.step_size, float)
    assert cfg.hidden_sizes == (64, 64)
    with pytest.raises(BenchError, match="policy"):
        build_algo_config(ARSConfig, {"policy": "cnn"})
