"""Named variants: validated like algorithms, run, stored, resumed, listed and reported under
their own name, with an ablation section beside their base (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.config import PROJECT_CONFIG, load_config
from bench.errors import BenchError
from tests.conftest import run_cli
from tests.test_cli import assert_one_clean_error

IP = "InvertedPendulum-v2"
VARIANT = '''
[variants.ars_big_step]
algo = "ars"
step_size = 0.02
[variants.ars_big_step.env."MountainCarContinuous-v0"]
noise = 0.1
'''


def _config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "bench.toml"
    path.write_text(PROJECT_CONFIG.read_text() + extra)
    return path


def test_variant_hyperparameters_layer_over_the_base(tmp_path):
    cfg = load_config(_config(tmp_path, VARIANT))
    base = cfg.hyperparameters("ars", IP)
    assert base["step_size"] == 0.001  # ars's own InvertedPendulum setting
    assert cfg.hyperparameters("ars_big_step", IP) == {**base, "step_size": 0.02}
    assert cfg.hyperparameters("ars_big_step", "MountainCarContinuous-v0")["noise"] == 0.1
    assert cfg.algorithm("ars_big_step") is cfg.algorithm("ars")
    assert cfg.identity("ars_big_step", IP) == {"variant": {"base": "ars", "overrides": {"step_size": 0.02}}}
    assert cfg.identity("ars", IP) == {}  # built-ins: config.json unchanged


def test_shipped_ablation_variants_are_valid():
    cfg = load_config()
    assert {"poligen_noweight", "poligen_noscale", "poligen_noweight_noscale", "poligen_drive0"} <= set(cfg.variants)
    assert cfg.hyperparameters("poligen_noweight", "Hopper-v3")["recency_exponent"] == 0.0
    assert cfg.hyperparameters("poligen_noscale", "Swimmer-v3")["scale_output"] is False
    assert cfg.hyperparameters("poligen_drive0", "Swimmer-v3")["command_drive"] == 0.0


@pytest.mark.parametrize("extra, fragment", [
    ('[variants.v]\nalgo = "nope"\n', "variants.v.algo: unknown algorithm 'nope'"),
    ('[variants.v]\nstep_size = 0.1\n', "variants.v.algo: expected the name of the base algorithm"),
    ('[variants.v]\nalgo = "ars"\nstepsize = 0.1\n', "variants.v.stepsize: unknown hyperparameter"),
    ('[variants.v]\nalgo = "ars"\nstep_size = "big"\n', "variants.v.step_size: expected float"),
    ('[variants.v]\nalgo = "ars"\n[variants.v.env."Hopper-v3"]\nnoise = true\n',
     'variants.v.env."Hopper-v3".noise: expected float'),
    ('[variants.ddpg]\nalgo = "ars"\n', "'ddpg' is already an algorithm's name"),
    ('[variants.v]\nalgo = "ars"\n[variants.w]\nalgo = "v"\n', "a variant's base must be an algorithm"),
])
def test_bad_variant_is_one_error_line(tmp_path, extra, fragment):
    path = _config(tmp_path, extra)
    with pytest.raises(BenchError) as info:
        load_config(path)
    assert fragment in str(info.value)
    out = run_cli("run", "--config", str(path), "--algo", "ars", "--env", IP, "--runs-dir", str(tmp_path / "r"))
    assert_one_clean_error(out, fragment)


def test_variant_runs_are_stored_resumed_listed_and_reported_beside_the_base(tmp_path):
    from analysis.report import build_report

    path = _config(tmp_path, VARIANT)
    runs = tmp_path / "runs"
    args = ["run", "--config", str(path), "--algo", "ars,ars_big_step", "--env", IP, "--seeds", "2",
            "--budget", "3000", "--runs-dir", str(runs), "--no-progress", "--workers", "2"]
    out = run_cli(*args)
    assert out.returncode == 0, out.stderr
    config = json.loads((runs / IP / "ars_big_step" / "seed_1" / "config.json").read_text())
    assert config["algo"] == "ars_big_step"
    assert config["variant"] == {"base": "ars", "overrides": {"step_size": 0.02}}
    assert config["hyperparameters"]["step_size"] == 0.02
    assert "variant" not in json.loads((runs / IP / "ars" / "seed_1" / "config.json").read_text())
    out = run_cli(*args)  # the same command again trains nothing
    assert out.returncode == 0 and "0 done, 4 already complete" in out.stderr

    out = run_cli("list", "--config", str(path))
    assert "ars_big_step" in out.stdout and "ars: step_size=0.02" in out.stdout

    rep = build_report(runs, tmp_path / "report", load_config(path), reps=500, band_reps=100)
    assert set(rep.table1["algo"]) == {"ars", "ars_big_step"}
    table = pd.read_csv(tmp_path / "report" / "ablations.csv")
    assert list(zip(table["env_id"], table["base"], table["variant"])) == [(IP, "ars", "ars_big_step")]
    assert 0.0 <= table["p_base_better"][0] <= 1.0 and table["p_lo"][0] <= table["p_base_better"][0] <= table["p_hi"][0]
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Ablations" in page and "P(base &gt; variant)" in page
    assert (tmp_path / "report" / "figures" / "ablation_InvertedPendulum-v2_ars.png").exists()
