"""bench report --readme: the README's generated blocks (results, goals, compare) are rewritten
only when the report produced them from the runs directory; every other block is left as is."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import readme, report, synthetic
from analysis.readme import end_marker, start_marker
from bench.config import load_config
from bench.errors import BenchError
from tests.conftest import run_cli
from tests.test_analysis_goals import write_goal_runs
from tests.test_cli import assert_one_clean_error

ENVS = ["InvertedPendulum-v2", "MountainCarContinuous-v0"]
REPS = dict(reps=200, band_reps=50)


def block(name: str, body: str, args: str = "") -> str:
    return f"{start_marker(name, args)}\n{body}\n{end_marker(name)}"


def readme_text(results: str = "old results", goals: str = "GOALS FROM ELSEWHERE",
                compare: str = "old comparison") -> str:
    return ("# Project\n\nProse before.\n\n" + block("results", results) + "\n\nProse between.\n\n"
            + block("compare", compare, "ars vs udrl") + "\n\n## Goals\n\n" + block("goals", goals)
            + "\n\nProse after.\n")


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("readme")
    synthetic.write_benchmark(root / "paper", ENVS, ["ars", "udrl"], 3, n_evals=8, final_window=3)
    write_goal_runs(root / "goal", {"her": [1.0, 1.0], "ddpg_goal": [0.0, 0.5]})
    return {"paper": root / "paper", "goal": root / "goal", "root": root}


def run_report(runs: Path, out: Path, readme_path: Path, **kw) -> int:
    return report.main(runs, out, None, None, load_config(check_algorithms=False), readme=readme_path, **REPS, **kw)


def between(text: str, name: str, args: str = "") -> str:
    start = text.index(start_marker(name, args))
    return text[start:text.index(end_marker(name), start)]


def test_return_runs_rewrite_results_and_compare_and_leave_the_goal_block(dirs, tmp_path, capsys):
    path = tmp_path / "README.md"
    path.write_text(readme_text())
    assert run_report(dirs["paper"], tmp_path / "out", path) == 0
    text = path.read_text()
    assert "old results" not in text and f"| {ENVS[0]} | ars |" in between(text, "results")
    # the paper's cells without runs are named, not silently absent
    assert (f"no complete run here yet: Hopper-v3: ars, ddpg, poligen, udrl; {ENVS[0]}: ddpg, poligen; "
            f"{ENVS[1]}: ddpg, poligen; Swimmer-v3: ars, ddpg, poligen, udrl._") in between(text, "results")
    assert "Nav2D" not in text
    assert "old comparison" not in text
    cmp = between(text, "compare", "ars vs udrl")
    assert f"$ bench compare --algo ars --vs udrl --runs-dir {dirs['paper'].as_posix()} --reps 200" in cmp
    assert "P(ars > udrl)" in cmp and cmp.count("```") == 2
    assert block("goals", "GOALS FROM ELSEWHERE") in text  # untouched, byte for byte
    assert text.startswith("# Project\n\nProse before.\n\n") and text.endswith("\n\nProse after.\n")
    assert "\n\nProse between.\n\n" in text and "\n\n## Goals\n\n" in text
    out = capsys.readouterr().out
    assert "results block rewritten" in out and "goals block left as is" in out
    # the same command again: nothing to change
    assert run_report(dirs["paper"], tmp_path / "out", path) == 0
    assert path.read_text() == text
    assert "results block unchanged" in capsys.readouterr().out


def test_compare_block_is_what_bench_compare_prints(dirs, tmp_path):
    path = tmp_path / "README.md"
    path.write_text(readme_text())
    run_report(dirs["paper"], tmp_path / "out", path)
    cmp = between(path.read_text(), "compare", "ars vs udrl")
    command = cmp.split("$ ", 1)[1].split("\n", 1)[0]
    shown = cmp.split(command + "\n", 1)[1].rsplit("```", 1)[0]
    printed = run_cli(*command.split()[1:])
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == shown


def test_goal_runs_rewrite_the_goal_block_and_leave_the_others(dirs, tmp_path, capsys):
    path = tmp_path / "README.md"
    path.write_text(readme_text(results="PAPER TABLE", compare="PAPER COMPARISON"))
    assert run_report(dirs["goal"], tmp_path / "out", path) == 0
    text = path.read_text()
    goals = between(text, "goals")
    assert "GOALS FROM ELSEWHERE" not in goals and "| Nav2D-v0 | her | 2 |" in goals
    assert "1.00 [1.00, 1.00]" in goals and "P(row > column) on the final success rate" in goals
    assert block("results", "PAPER TABLE") in text and block("compare", "PAPER COMPARISON", "ars vs udrl") in text
    assert "compare ars vs udrl block left as is" in capsys.readouterr().out
    # and running the return runs afterwards keeps this goal block
    run_report(dirs["paper"], tmp_path / "out2", path)
    assert between(path.read_text(), "goals") == goals
    # idempotent on the goal runs too
    before = path.read_text()
    run_report(dirs["goal"], tmp_path / "out", path)
    assert path.read_text() == before


def test_no_place_for_what_the_report_made_is_an_error(dirs, tmp_path):
    path = tmp_path / "README.md"
    original = "# x\n\n" + block("results", "PAPER TABLE") + "\n"
    path.write_text(original)
    with pytest.raises(BenchError, match="no goals block"):
        run_report(dirs["goal"], tmp_path / "out", path)
    assert path.read_text() == original


@pytest.mark.parametrize("text, message", [
    (f"{start_marker('results')}\nno end\n", "has no end marker"),
    (f"{end_marker('goals')}\n", "without its start marker"),
    (block("results", "a") + block("results", "b"), "appears 2 times"),
    (block("tables", "a"), "unknown generated block 'tables'"),
    (block("compare", "a", "ars"), "compare block names its methods"),
    (f"{start_marker('results')}\n{start_marker('goals')}\n{end_marker('goals')}\n{end_marker('results')}",
     "starts inside the results block"),
])
def test_malformed_markers_are_one_error_line_before_any_work(tmp_path, text, message):
    path = tmp_path / "README.md"
    path.write_text(text)
    with pytest.raises(BenchError, match=message):
        # no runs directory: the README is checked first
        run_report(tmp_path / "no-runs", tmp_path / "out", path)
    assert not (tmp_path / "out").exists() and path.read_text() == text


def test_refused_comparison_is_an_error_and_leaves_the_file(dirs, tmp_path):
    runs = tmp_path / "runs"
    synthetic.write_benchmark(runs, ENVS[:1], ["ars"], 3, n_evals=8, final_window=3)
    synthetic.write_benchmark(runs, ENVS[:1], ["udrl"], 2, n_evals=8, final_window=3)  # seed lists differ
    path = tmp_path / "README.md"
    path.write_text(readme_text())
    with pytest.raises(BenchError, match="compare ars vs udrl block: cannot compare ars with udrl"):
        run_report(runs, tmp_path / "out", path)
    assert path.read_text() == readme_text()


def test_a_cell_still_running_leaves_its_environment_out_of_the_comparison(tmp_path):
    runs = tmp_path / "runs"
    synthetic.write_benchmark(runs, ENVS, ["ars"], 3, n_evals=8, final_window=3)
    synthetic.write_benchmark(runs, ENVS[:1], ["udrl"], 3, n_evals=8, final_window=3)
    synthetic.write_benchmark(runs, ENVS[1:], ["udrl"], 2, n_evals=8, final_window=3)  # seeds 0-1 of 3 so far
    path = tmp_path / "README.md"
    path.write_text(readme_text())
    assert run_report(runs, tmp_path / "out", path) == 0
    cmp = between(path.read_text(), "compare", "ars vs udrl")
    command = cmp.split("$ ", 1)[1].split("\n", 1)[0]
    assert command.endswith(f"--env {ENVS[0]} --reps 200")  # the block names what it compares
    assert ENVS[1] not in cmp.split(command, 1)[1]
    printed = run_cli(*command.split()[1:])  # and is what that command prints
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == cmp.split(command + "\n", 1)[1].rsplit("```", 1)[0]


def test_cli_error_is_one_line_and_nonzero(dirs, tmp_path):
    path = tmp_path / "README.md"
    path.write_text(f"{start_marker('goals')}\n")
    out = run_cli("report", "--runs-dir", str(dirs["goal"]), "--out", str(tmp_path / "out"), "--readme", str(path))
    assert_one_clean_error(out, "goals block has no end marker")


def test_project_readme_blocks_are_well_formed():
    """The project's README has the three blocks (the compare one for ars vs udrl)."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    keys = [b.key for b in readme.parse_blocks(text, "README.md")]
    assert keys == [("results", ""), ("compare", "ars vs udrl"), ("goals", "")]


def test_mixed_runs_fill_the_blocks_the_file_has(tmp_path, capsys):
    """Goal and return runs in one directory: Table 1's goal rows go to the goal block only;
    a block the file lacks is reported, not an error, when another block was written."""
    runs = tmp_path / "runs"
    synthetic.write_benchmark(runs, ENVS[:1], ["ars"], 2, n_evals=8, final_window=3)
    write_goal_runs(runs, {"her": [1.0, 0.5]})
    path = tmp_path / "README.md"
    path.write_text(block("results", "old") + "\n")
    assert run_report(runs, tmp_path / "out", path) == 0
    text = path.read_text()
    assert f"| {ENVS[0]} | ars |" in text and "Nav2D-v0" not in text
    assert "goals block no place in the file" in capsys.readouterr().out
