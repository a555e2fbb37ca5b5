"""Loading a complete run's trained model (bench.trained): it acts as it did in the run."""

from __future__ import annotations

import pytest

from bench import store
from bench.config import PROJECT_CONFIG, load_config
from bench.errors import BenchError
from bench.evaluation import evaluate
from bench.runner import Cell, run_cell
from bench.trained import load_trained

IP = "InvertedPendulum-v2"


def test_a_loaded_model_reproduces_the_runs_last_evaluation(tmp_path):
    """A variant (its base class and resolved hyperparameters come from config.json, not from
    benchmark.toml), reloaded, evaluated with the run's own seeds: the same returns exactly."""
    path = tmp_path / "bench.toml"
    path.write_text(PROJECT_CONFIG.read_text() + '\n[variants.ars_big_step]\nalgo = "ars"\nstep_size = 0.05\n')
    assert run_cell(Cell(IP, "ars_big_step", 3), load_config(path), tmp_path / "runs", budget=4000) == "done"
    d = store.run_dir(tmp_path / "runs", IP, "ars_big_step", 3)
    last = store.read_rows(d / store.PROGRESS)[-1]
    algo, make = load_trained(d)
    assert type(algo).__name__ == "ARS" and algo.config.step_size == 0.05
    episodes = store.read_json(d / store.CONFIG)["protocol"]["eval_episodes"]
    again = evaluate(algo.policy(algo.eval_command()), [make() for _ in range(episodes)], 3, last["eval_index"])
    assert again["eval_return_mean"] == pytest.approx(last["eval_return_mean"], rel=1e-12)
    assert again["eval_return_std"] == pytest.approx(last["eval_return_std"], rel=1e-12, abs=1e-12)


def test_a_run_without_a_model_is_one_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BenchError, match="no model.pt"):
        load_trained(tmp_path)
