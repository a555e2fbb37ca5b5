"""The report's goal section: how often and how close goal-conditioned methods reach their goals.

For every environment whose runs record ``success_rate`` (goal environments), per (env,
algo): the seeds, the budget, the final success rate and the final normalised distance
(distance to the goal at the end / at the start), each the mean over seeds with its 95%
bootstrap CI, and the CPU time of one run. These are Table 1's goal columns
(:func:`analysis.tables.table1`, from :func:`analysis.stats.final_return_stats`), so the two
tables always agree. Besides them: the success-rate and distance curves with bootstrap
bands (:func:`analysis.stats.curve_bands`, as the return curves), the matrix of
probabilities of improvement P(X > Y) on the final success rate per environment
(:func:`analysis.stats.probability_of_improvement_by_env`), and the goal-sweep maps.

Writes ``goals.md`` (the table and the matrices, the same Markdown as the README's goal
block, :mod:`analysis.readme`), ``goals.csv`` (exact values), ``goals_poi.csv``,
``goal_curves.csv`` and ``goal_sweeps.csv``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from analysis import figures, stats, tables
from analysis.load import RunSet

#: the progress.csv columns drawn as curves, with their axis labels
CURVES = {"success_rate": "success rate", "norm_distance_mean": "final distance / initial distance"}
#: the goal table as printed (columns of Table 1's frame)
DISPLAY = ["env", "algo", "seeds", "budget", *tables.GOAL_METRICS.values(), "CPU-h per run", "notes"]
#: goals.csv: exact values (columns of Table 1's frame)
CSV_COLUMNS = ["env", "algo", "seeds", "budget_steps", "success_rate", "success_rate_lo", "success_rate_hi",
               "norm_distance", "norm_distance_lo", "norm_distance_hi", "cpu_hours", "notes"]


@dataclass
class GoalResults:
    """The goal section's numbers: Table 1's rows of the goal environments, and P(X > Y) on
    the final success rate (rows ``env_id, x, y, probability, lo, hi, se, n_x, n_y``)."""

    table: pd.DataFrame
    poi: pd.DataFrame

    @property
    def envs(self) -> list[str]:
        return sorted(self.table["env"].unique())


def goal_envs(finals: pd.DataFrame) -> list[str]:
    """Environments with a complete run that records a final success rate."""
    if "success_rate" not in finals:
        return []
    return sorted(finals.loc[finals["success_rate"].notna(), "env_id"].unique())


def goal_results(finals: pd.DataFrame, t1: pd.DataFrame, *, reps: int, seed: int) -> GoalResults:
    """The goal table (Table 1 frame ``t1``'s rows of :func:`goal_envs`) and the
    probabilities of improvement on the final success rate of each goal environment."""
    envs = goal_envs(finals)
    table = t1[t1["env"].isin(envs)].reset_index(drop=True)
    poi = stats.probability_of_improvement_by_env(finals[finals["env_id"].isin(envs)], column="success_rate",
                                                  reps=reps, seed=seed)
    return GoalResults(table=table, poi=poi)


def markdown(results: GoalResults) -> str:
    """The goal table and, per environment with two or more methods, the matrix of
    P(row > column) on the final success rate (Markdown)."""
    out = [tables.to_markdown(results.table, DISPLAY)]
    for env_id, g in results.poi.groupby("env_id", sort=True):
        out.append(f"\nP(row > column) on the final success rate, {env_id} (95% CI; bold: above 0.5, "
                   "italics: below):\n\n" + tables.poi_matrix_markdown(g))
    return "".join(out)


def _curves(evals: pd.DataFrame, envs: list[str], *, reps: int, seed: int) -> pd.DataFrame:
    """Bootstrap bands of the goal curves of ``envs`` (a ``metric`` column per row)."""
    frames = []
    for col in CURVES:
        if col not in evals:
            continue
        sub = evals[evals["env_id"].isin(envs) & evals[col].notna()]
        if not sub.empty:
            frames.append(stats.curve_bands(sub, column=col, reps=reps, seed=seed).assign(metric=col))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=stats.CURVE_COLUMNS + ["metric"])


def section(rs: RunSet, results: GoalResults, colors: dict, out_dir: Path, fig_dir: Path, *, reps: int, band_reps: int,
            seed: int, img: Callable[[list[Path], Path, str], str]) -> tuple[str, list[Path]]:
    """The report's goal section (HTML) and the files it wrote; ("", []) without goal runs
    or goal sweeps.

    :param rs: the loaded runs
    :param img: the report's figure-to-HTML helper
    """
    sweep_envs = sorted(rs.goal_sweeps["env_id"].unique()) if not rs.goal_sweeps.empty else []
    envs = sorted(set(results.envs) | set(sweep_envs))
    if not envs:
        return "", []
    files: list[Path] = []
    if not results.table.empty:
        (out_dir / "goals.md").write_text("# Goal environments: final success rate and normalised distance\n\n"
                                          + markdown(results), encoding="utf-8")
        results.table[CSV_COLUMNS].to_csv(out_dir / "goals.csv", index=False)
        results.poi.to_csv(out_dir / "goals_poi.csv", index=False)
        files += [out_dir / "goals.md", out_dir / "goals.csv", out_dir / "goals_poi.csv"]
    curves = _curves(rs.evals, results.envs, reps=band_reps, seed=seed)
    if not curves.empty:
        curves.to_csv(out_dir / "goal_curves.csv", index=False)
        files.append(out_dir / "goal_curves.csv")
    sweeps = stats.goal_sweep_summary(rs.goal_sweeps) if sweep_envs else None
    if sweeps is not None:
        sweeps.to_csv(out_dir / "goal_sweeps.csv", index=False)
        files.append(out_dir / "goal_sweeps.csv")

    body = ("<h2>Goal environments: success rate and distance to the goal</h2><p>Every environment whose runs "
            "record a success rate. A run's final success rate and final normalised distance (distance to the goal "
            "at the end of an episode / at its start; 0 = on the goal, 1 = no closer than at the start) are their "
            "means over the run's final evaluation window, as its final return; per (env, algorithm) the mean over "
            f"seeds with its 95% percentile bootstrap CI ({reps:,} resamples, each cell and metric from its own "
            "generator; bounds rounded as in Table 1, exact values in <a href=\"goals.csv\">goals.csv</a>). CPU-h "
            "per run as in Table 1. Curves: mean over runs at the nominal evaluation points with a 95% bootstrap "
            f"band ({band_reps:,} resamples). Matrix: P(X &gt; Y), the probability that a run of the row's method "
            "ends with a higher success rate than a run of the column's (ties count half), with its 95% CI; green: "
            "CI above 0.5, red: below (<a href=\"goals_poi.csv\">goals_poi.csv</a>). Goal sweeps: each goal of the "
            "environment's fixed grid run once with the deterministic policy after training; success and "
            "normalised distance averaged over the goals, then mean ± std over runs. Markdown: "
            "<a href=\"goals.md\">goals.md</a>.</p>")
    if not results.table.empty:
        body += tables.to_html(results.table, DISPLAY)
    for env_id in envs:
        body += f"<h3>{html.escape(env_id)}</h3>"
        for col, label in CURVES.items():
            g = curves[(curves["metric"] == col) & (curves["env_id"] == env_id)]
            if g.empty:
                continue
            p = figures.learning_curves(g, env_id, colors, fig_dir, ylabel=label, stem=f"{col}_{figures.slug(env_id)}")
            files += p
            body += img(p, out_dir, f"{env_id}: {label} at the evaluation points, mean and 95% bootstrap band")
        poi = results.poi[results.poi["env_id"] == env_id]
        if len(poi):
            body += ("<p>P(row &gt; column) on the final success rate; seeds: "
                     + ", ".join(f"{html.escape(a)} {n}" for a, n in sorted(dict(zip(poi["x"], poi["n_x"])).items()))
                     + "</p>" + tables.poi_matrix_html(poi))
        if env_id in sweep_envs:
            p = figures.goal_sweeps(rs.goal_sweeps, env_id, fig_dir)
            files += p
            body += (img(p, out_dir, f"{env_id}: goal sweep, success rate over runs per goal")
                     + tables.to_html(sweeps[sweeps["env_id"] == env_id]))
    return body, files


__all__ = ["CURVES", "GoalResults", "goal_envs", "goal_results", "markdown", "section"]
