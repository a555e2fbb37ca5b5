"""``bench report``: stored runs -> one folder of tables, figures and an ``index.html``.

What goes in: every complete run under ``runs_dir`` (filtered by env / algo) whose
final.json agrees with its progress.csv. What is left out (failed, incomplete, unreadable,
inconsistent, mismatched settings) and which (env, algo) cells have no complete run are
listed on the page and printed.

What it used: ``manifest.json`` lists every run file read (path relative to the runs
directory, SHA-256 of the bytes parsed, whether its run entered the statistics), the
configuration file, the bootstrap settings, the package versions and the SHA-256 of each
table written; ``inputs.sha256`` is the same file list in ``sha256sum -c`` form (run it in
the runs directory to check that a results directory is the one a report was made from).
``index.html`` shows the digest of both. inputs.sha256 depends only on the files read;
manifest.json also records where they were (runs directory, configuration file) and the
package versions, never the time, so the same command on the same inputs writes the
same manifest.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

import bench
from analysis import bootstrap, figures, goals, stats, tables
from analysis.load import RunSet, load_runs
from bench import store
from bench.config import BenchConfig
from bench.errors import BenchError


@dataclass
class Report:
    """What :func:`build_report` wrote."""

    out_dir: Path
    runs: int
    excluded: int
    missing_cells: list[tuple[str, str]]
    excluded_runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    #: Table 1 rows with notes (short final window, seeds from different code)
    flagged: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Table 1 as built (display strings and numbers, :func:`analysis.tables.table1`)
    table1: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the goal section's numbers (an empty table when no run records a success rate)
    goal_results: goals.GoalResults | None = None
    #: SHA-256 of manifest.json and of inputs.sha256 (the run files read)
    manifest_sha256: str = ""
    inputs_sha256: str = ""

    @property
    def index(self) -> Path:
        return self.out_dir / "index.html"


def _rel(paths: list[Path], out_dir: Path) -> list[str]:
    return [p.relative_to(out_dir).as_posix() for p in paths]


def _img(paths: list[Path], out_dir: Path, caption: str) -> str:
    png, pdf = _rel(paths, out_dir)
    return (f'<figure><a href="{png}"><img src="{png}" alt="{html.escape(caption)}"></a>'
            f'<figcaption>{html.escape(caption)} (<a href="{pdf}">PDF</a>)</figcaption></figure>')


def _provenance(rs: RunSet, config: BenchConfig) -> str:
    f = rs.finals
    counts = f.groupby(["env_id", "algo"]).size().unstack(fill_value=0)
    budgets = f.groupby("env_id")["budget"].agg(lambda s: ", ".join(str(int(b)) for b in sorted(set(s))))
    gym_ids = f.groupby("env_id")["gym_id"].agg(lambda s: ", ".join(sorted(set(map(str, s)))))
    items = [f"<li>runs directory: <code>{html.escape(str(rs.runs_dir))}</code>; configuration: "
             f"<code>{html.escape(str(config.path))}</code></li>",
             f"<li>{len(f)} complete runs in {len(rs.cells)} (env, algo) cells; {len(rs.excluded)} runs left out</li>"]
    for env_id in counts.index:
        items.append(f"<li><b>{html.escape(env_id)}</b> (ran as {html.escape(gym_ids[env_id])}): budget "
                     f"{html.escape(budgets[env_id])} env steps; seeds per algorithm: "
                     + ", ".join(f"{html.escape(a)} {n}" for a, n in counts.loc[env_id].items() if n) + "</li>")
    versions = Counter(f["versions"])
    for v, n in versions.most_common():
        try:
            pretty = ", ".join(f"{k} {val}" for k, val in json.loads(v).items())
        except (ValueError, AttributeError):
            pretty = v
        items.append(f"<li>versions ({n} runs): {html.escape(pretty or 'not recorded')}</li>")
    commits = Counter(map(str, f["git_commit"]))
    items.append("<li>git commits: " + ", ".join(f"<code>{html.escape(c)}</code> ({n} runs)"
                                                 for c, n in commits.most_common()) + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


_CSS = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1em;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f3f3f3}figure{display:inline-block;margin:0.5em;vertical-align:top}
img{max-width:100%;border:1px solid #eee}figcaption{font-size:0.85em;color:#555}code{background:#f6f6f6}
.warn{color:#a33}td.better{background:#e2f2e2}td.worse{background:#f6e0e0}"""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _versions() -> dict[str, str]:
    """Versions of what computes the numbers (the same inputs and versions give the same bytes)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"bench": bench.__version__, "python": platform.python_version()}
    for name in ("numpy", "pandas", "scipy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(rs: RunSet, out_dir: Path, config: BenchConfig, *, envs: list[str] | None,
                   algos: list[str] | None, reps: int, band_reps: int, seed: int,
                   extra_files: list[dict], outputs: list[Path]) -> tuple[Path, str, str]:
    """Write ``manifest.json`` and ``inputs.sha256``; return (manifest path, its SHA-256,
    SHA-256 of inputs.sha256)."""
    files = pd.concat([rs.files, pd.DataFrame(extra_files, columns=rs.files.columns)], ignore_index=True) \
        if extra_files else rs.files
    files = files.sort_values("path", ignore_index=True)
    listing = "".join(f"{r.sha256}  {r.path}\n" for r in files.itertuples())
    (out_dir / "inputs.sha256").write_text(listing, encoding="utf-8")
    inputs_sha = _sha256(listing.encode("utf-8"))
    cfg_path = Path(config.path) if getattr(config, "path", None) else None
    cfg = {"path": str(cfg_path) if cfg_path else None,
           "sha256": _sha256(cfg_path.read_bytes()) if cfg_path and cfg_path.is_file() else None}
    manifest = {
        "format": 1,
        "made_by": "bench report",
        "runs_dir": Path(rs.runs_dir).as_posix(),
        "filters": {"env": envs, "algo": algos},
        "config": cfg,
        "bootstrap": {"seed": seed, "reps": reps, "band_reps": band_reps, "confidence": bootstrap.CONFIDENCE,
                      "generator": "numpy PCG64 per interval, seeded from SHA-256 of [seed, purpose, identity] "
                                   "(analysis/bootstrap.py)"},
        "versions": _versions(),
        "runs": {"used": int(len(rs.finals)), "left_out": int(len(rs.excluded))},
        "inputs_sha256": inputs_sha,
        "files": [{"path": r.path, "sha256": r.sha256, "bytes": int(r.bytes), "used": bool(r.used)}
                  for r in files.itertuples()],
        "outputs": {p.relative_to(out_dir).as_posix(): _sha256(p.read_bytes()) for p in sorted(outputs)},
    }
    data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8")
    path = out_dir / "manifest.json"
    path.write_bytes(data)
    return path, _sha256(data), inputs_sha


def build_report(runs_dir: Path, out_dir: Path, config: BenchConfig, envs: list[str] | None = None,
                 algos: list[str] | None = None, *, reps: int = bootstrap.REPS,
                 band_reps: int = bootstrap.BAND_REPS, seed: int = bootstrap.SEED) -> Report:
    """Write the report folder and return what was written.

    :param runs_dir: where the runs are (``runs/``)
    :param out_dir: the report folder (created; files in it are overwritten)
    :param config: the benchmark configuration (reference scores, paper values, return ranges)
    :param envs: only these env ids (None: all found)
    :param algos: only these algorithms (None: all found)
    :param reps: bootstrap resamples of each printed interval (Table 1, aggregates,
        probability of improvement)
    :param band_reps: bootstrap resamples of each drawn band (learning curves, performance
        profiles)
    :param seed: base seed of the bootstrap; each interval draws from its own generator
        seeded from it and the interval's identity (:mod:`analysis.bootstrap`), so the
        same runs give the same numbers whatever else the report covers
    :raises BenchError: no runs directory, or no complete run matches the filters
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    rs = load_runs(runs_dir, envs, algos)
    if rs.finals.empty:
        what = f" for envs {envs}" if envs else ""
        what += f" for algos {algos}" if algos else ""
        extra = f" ({len(rs.excluded)} runs found but none complete)" if len(rs.excluded) else ""
        raise BenchError(f"{runs_dir}: no complete runs{what}{extra}")
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir = out_dir / "figures"
    files: list[Path] = []
    notes: list[str] = []

    env_list = envs or sorted(set(rs.envs) | set(rs.excluded["env_id"]))
    algo_list = algos or sorted(set(rs.algos) | set(rs.excluded["algo"]))
    have = set(rs.cells)
    missing = [(e, a) for e in env_list for a in algo_list if (e, a) not in have]

    # statistics
    final_stats = stats.final_return_stats(rs.finals, reps=reps, seed=seed)
    bands = stats.curve_bands(rs.evals, reps=band_reps, seed=seed)
    paper = {e: config.env(e).paper for e in rs.envs}
    references = {e: config.env(e).reference for e in rs.envs if config.env(e).reference}
    return_ranges = {e: config.env(e).return_range for e in rs.envs}
    scores, agg_envs, agg_notes = stats.normalized_scores(rs.finals, references)
    notes += agg_notes

    # tables
    t1 = tables.table1(final_stats, paper, {e: config.env(e).budget for e in rs.envs})
    files += tables.write_table1(t1, out_dir)
    bands.to_csv(out_dir / "curves.csv", index=False)
    rs.finals.drop(columns=["versions"]).to_csv(out_dir / "runs.csv", index=False)
    rs.excluded.to_csv(out_dir / "excluded.csv", index=False)
    files += [out_dir / "curves.csv", out_dir / "runs.csv", out_dir / "excluded.csv"]

    colors = figures.palette(rs.algos)
    sections: list[str] = []

    # Table 1
    sections.append("<h2>Table 1: final return</h2><p>Final return of a run = mean of its last "
                    f"<i>final_window</i> evaluations; mean ± std (ddof=1) over seeds, 95% percentile bootstrap "
                    f"CI (rliable's stratified bootstrap, {reps:,} resamples per cell, each cell drawn from its own "
                    f"generator seeded from base seed {seed} and the cell's env, algorithm and seeds, so a cell's "
                    "numbers do not depend on the rest of the report) of the mean and of the IQM, bounds rounded to "
                    "a step of 1, 2 or 5 × 10<sup>k</sup> of at most 1.96 bootstrap standard errors (about half the "
                    "CI; never finer than the mean): their Monte Carlo error is about 2% of a step at most, so another "
                    "resampling seed prints the same bounds (exact values in table1.csv); the paper's Table 1 "
                    "value where benchmark.toml has one, and the verdict of Welch's t-test of our seeds against "
                    f"the paper's mean ± std over {tables.PAPER_SEEDS} seeds at 95% (<i>consistent</i>, <i>above "
                    "paper</i>, <i>below paper</i>; <i>partial</i>: run with less than the paper's budget). "
                    "CPU-h per run: mean CPU time of one run (training, evaluations, sweeps). Notes: <i>short window</i> = the budget allows no "
                    "more evaluation points than the window, so the score averages all but the untrained one; "
                    "<i>mixed code</i> = the cell's seeds were made by different versions of the algorithm's "
                    "code (meta.json records each run's code hash); <i>N torch threads per run</i> = runs trained "
                    "on more than one thread (meta.json <code>torch_threads</code>), whose CPU-h count every thread; <i>mixed CPUs</i> = the cell's runs trained on more "
                    "than one processor model (meta.json <code>cpu_history</code>): the same seed gives another curve "
                    "on another CPU, so such a cell cannot be rerun curve for curve on one machine; <i>CPU unrecorded "
                    "for N of M runs</i> = one processor model recorded, but N runs predate the record and may have "
                    "trained on another; <i>N of M runs read off longer runs</i> = N runs are the first evaluations "
                    "of a complete longer run of the same configuration and seed (meta.json <code>derived_from</code>; "
                    "the same computation as training to this budget, with CPU time estimated pro rata).</p>"
                    + tables.to_html(t1, tables.display_columns(t1))
                    + '<p>Files: <a href="table1.md">Markdown</a>, <a href="table1.tex">LaTeX</a>, '
                    '<a href="table1.csv">CSV</a>, per-run <a href="runs.csv">runs.csv</a>, '
                    'curves <a href="curves.csv">curves.csv</a>.</p>')

    # Figure 2 / 6
    figs = []
    if len(rs.envs) > 1:
        p = figures.learning_curves_grid(bands, colors, fig_dir)
        files += p
        figs.append(_img(p, out_dir, "all environments"))
    for env_id in rs.envs:
        p = figures.learning_curves(bands, env_id, colors, fig_dir, paper=paper.get(env_id))
        files += p
        figs.append(_img(p, out_dir, f"{env_id}: mean evaluation return at the nominal evaluation points, 95% "
                                      "bootstrap band, both where every run of the cell has the point (legend: runs); "
                                      "dashed: fewer runs, their count marked; dotted: paper's final value"))
    sections.append("<h2>Figure 2 / 6: learning curves</h2>" + "".join(figs))

    # goal environments: success rate and distance with CIs, curves, P(X > Y), goal sweeps
    goal_results = goals.goal_results(rs.finals, t1, reps=reps, seed=seed)
    body, written = goals.section(rs, goal_results, colors, out_dir, fig_dir, reps=reps, band_reps=band_reps,
                                  seed=seed, img=_img)
    if body:
        sections.append(body)
        files += written

    # Figure 4
    if not rs.sweeps.empty:
        conf = stats.sweep_conformance(rs.sweeps, return_ranges)
        conf.to_csv(out_dir / "conformance.csv", index=False)
        p = figures.command_sweeps(rs.sweeps, conf, colors, fig_dir)
        files += p + [out_dir / "conformance.csv"]
        sections.append("<h2>Figure 4: achieved vs commanded return</h2><p>Mean over runs of the achieved return "
                        "per command (band: ± std over runs); dashed: identity. ρ = Spearman rank correlation of "
                        "command and achieved return, nMAE = mean |achieved − command| / width of the env's "
                        "return range; both averaged over runs.</p>" + _img(p, out_dir, "command sweeps")
                        + tables.to_html(conf))

    # Figure 3: probing-action map of the policy space (one run per env: the lowest seed)
    probing_figs = []
    extra_files: list[dict] = []
    for (env_id, algo), g in rs.finals.groupby(["env_id", "algo"], sort=True):
        seed_ = int(g["seed"].min())
        npz = store.run_dir(rs.runs_dir, env_id, algo, seed_) / "probing.npz"
        if not npz.exists():
            continue
        try:
            data = npz.read_bytes()
            extra_files.append({"path": npz.relative_to(rs.runs_dir).as_posix(), "sha256": _sha256(data),
                                "bytes": len(data), "env_id": env_id, "algo": algo, "seed": seed_, "used": True})
            with np.load(io.BytesIO(data)) as z:
                snap = {k: z[k] for k in z.files}
            p = figures.probing_pca(snap, f"{env_id}: {algo}, seed {seed_}",
                                    f"figure3_probing_{figures.slug(env_id)}_{algo}", fig_dir)
        except (OSError, ValueError, KeyError) as exc:
            notes.append(f"{npz}: unreadable probing snapshot ({type(exc).__name__}); Figure 3 left out")
            continue
        files += p
        probing_figs.append(_img(p, out_dir, f"{env_id}: {algo}"))
    if probing_figs:
        sections.append("<h2>Figure 3: policy space seen through the probing states</h2><p>PCA of the "
                        "evaluator's probing actions at the end of one run per environment: dots are the replay "
                        "buffer's (noisy) training policies coloured by their return, stars the generator's "
                        "policies for the sweep commands on the same axes, coloured by command.</p>"
                        + "".join(probing_figs))

    # aggregates
    poi = None
    if scores:
        agg = stats.aggregate_metrics(scores, reps=reps, seed=seed)
        prof = stats.performance_profiles(scores, reps=band_reps, seed=seed)
        poi = stats.probability_of_improvement(scores, reps=reps, seed=seed) if len(scores) > 1 else None
        agg.to_csv(out_dir / "aggregates.csv", index=False)
        refs = ", ".join(f"{e} [{references[e][0]:g}, {references[e][1]:g}]" for e in agg_envs)
        body = (f"<h2>Aggregates across environments</h2><p>Scores normalised as (return − random) / "
                f"(reference − random) with the fixed references of benchmark.toml: {html.escape(refs)}. "
                f"IQM, mean, median and optimality gap with 95% stratified-bootstrap CIs ({reps:,} resamples per "
                "algorithm, each from its own generator seeded from the base seed, the algorithm, the envs and its "
                "seeds; bounds rounded as in Table 1, exact values and standard errors in "
                f"<a href=\"aggregates.csv\">aggregates.csv</a>). Performance profiles: {band_reps:,} resamples.</p>"
                + tables.to_html(tables.aggregates_display(agg))
                + _img(figures.aggregate_intervals(agg, colors, fig_dir), out_dir, "aggregate metrics")
                + _img(figures.performance_profiles(prof, colors, fig_dir), out_dir, "performance profiles"))
        files += [out_dir / "aggregates.csv"]
        if poi is not None:
            poi.to_csv(out_dir / "probability_of_improvement.csv", index=False)
            body += _img(figures.probability_of_improvement(poi, fig_dir), out_dir, "probability of improvement")
            body += tables.to_html(tables.poi_display(poi[poi["x"] < poi["y"]]))
            files.append(out_dir / "probability_of_improvement.csv")
        sections.append(body)
    else:
        notes.append("no aggregates: no environment has both a reference score and runs of every algorithm")

    # pairwise: probability of improvement of every pair on each environment (bench compare's numbers)
    poi_env = stats.probability_of_improvement_by_env(rs.finals, reps=reps, seed=seed)
    if len(poi_env):
        poi_env.to_csv(out_dir / "probability_of_improvement_by_env.csv", index=False)
        files.append(out_dir / "probability_of_improvement_by_env.csv")
        body = ("<h2>Pairwise comparisons: probability of improvement</h2><p>Cell (row X, column Y): P(X &gt; Y), the "
                "probability that a run of X ends with a higher final return than a run of Y (ties count half; "
                f"rliable's probability of improvement), with its 95% bootstrap CI ({reps:,} resamples, the runs of "
                "each algorithm resampled independently, each pair from its own generator). Green: the CI lies above "
                "0.5 (row better), red: below. <code>bench compare --algo X --vs Y</code> prints the same numbers with "
                "the difference of means, Welch's and Mann-Whitney's tests and the seeds needed for 80% power. "
                "Exact values: <a href=\"probability_of_improvement_by_env.csv\">probability_of_improvement_by_env.csv"
                "</a>.</p>")
        for env_id, g in poi_env.groupby("env_id", sort=True):
            n = dict(zip(g["x"], g["n_x"]))
            body += (f"<h3>{html.escape(env_id)}</h3><p>seeds: "
                     + ", ".join(f"{html.escape(a)} {n[a]}" for a in sorted(n)) + "</p>" + tables.poi_matrix_html(g))
        if poi is not None and len(agg_envs) > 1:
            body += (f"<h3>Aggregate ({html.escape(', '.join(agg_envs))}; normalised scores, P averaged over the "
                     "environments)</h3>" + tables.poi_matrix_html(poi))
        sections.append(body)

    # ablations: variants beside their base (Figures 7-8)
    from analysis import ablations

    body, written = ablations.section(rs.finals, final_stats, bands, out_dir, fig_dir, reps=reps,
                                      seed=seed, img=_img)
    if body:
        sections.append(body)
        files += written

    # what is missing
    miss = ["<h2>Missing and excluded runs</h2>"]
    if missing:
        miss.append("<p class='warn'>(env, algo) cells without any complete run: "
                    + ", ".join(f"{html.escape(e)} / {html.escape(a)}" for e, a in missing) + "</p>")
    if len(rs.excluded):
        miss.append("<p>Runs left out of every statistic:</p>" + tables.to_html(rs.excluded))
    if not missing and not len(rs.excluded):
        miss.append("<p>None: every run found is complete.</p>")
    if notes:
        miss.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    sections.append("".join(miss))

    outputs = [p for p in files if p.suffix in (".csv", ".md", ".tex")]
    manifest, manifest_sha, inputs_sha = write_manifest(
        rs, out_dir, config, envs=envs, algos=algos, reps=reps, band_reps=band_reps, seed=seed,
        extra_files=extra_files, outputs=outputs)
    files += [manifest, out_dir / "inputs.sha256"]
    n_files = len(rs.files) + len(extra_files)
    inputs = (f"<h2>Inputs</h2><p>{n_files} run files read ({len(rs.finals)} runs used, {len(rs.excluded)} left "
              f"out); SHA-256 of their list <a href=\"inputs.sha256\">inputs.sha256</a>: <code>{inputs_sha}</code> "
              "(check a results directory with <code>sha256sum -c inputs.sha256</code> run inside it). "
              f"<a href=\"manifest.json\">manifest.json</a> (files, configuration, bootstrap: seed {seed}, "
              f"{reps:,} resamples per printed interval, {band_reps:,} per drawn band; versions; SHA-256 of "
              f"each table written): <code>{manifest_sha}</code>.</p>")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>bench report</title><style>{_CSS}</style>"
            f"</head><body><h1>bench report</h1><p>Generated {stamp}.</p><h2>Provenance</h2>{_provenance(rs, config)}"
            + inputs + "".join(sections) + "</body></html>")
    (out_dir / "index.html").write_text(page, encoding="utf-8")
    files.append(out_dir / "index.html")
    return Report(out_dir=out_dir, runs=len(rs.finals), excluded=len(rs.excluded), missing_cells=missing,
                  excluded_runs=rs.excluded, files=files, seconds=time.perf_counter() - t0,
                  flagged=t1[t1["notes"] != ""][["env", "algo", "notes"]], table1=t1, goal_results=goal_results,
                  manifest_sha256=manifest_sha, inputs_sha256=inputs_sha)


def main(runs_dir: Path, out_dir: Path, envs: list[str] | None, algos: list[str] | None, config: BenchConfig,
         *, reps: int = bootstrap.REPS, band_reps: int = bootstrap.BAND_REPS, seed: int = bootstrap.SEED,
         readme: Path | None = None) -> int:
    """Entry point for ``bench report``; prints a summary, returns the exit status.

    :param readme: a Markdown file whose generated blocks this report produced (results,
        goals, compare) are rewritten, the others left as they are (:mod:`analysis.readme`)
    :raises BenchError: see :func:`build_report` and :func:`analysis.readme.update_readme`
        (the CLI prints it as one line)
    """
    from analysis import readme as readme_blocks

    if readme is not None:
        if not Path(readme).is_file():
            raise BenchError(f"{readme}: no such file")
        _, blocks = readme_blocks.read_blocks(Path(readme))  # malformed markers: fail before the work
    rep = build_report(runs_dir, out_dir, config, envs, algos, reps=reps, band_reps=band_reps, seed=seed)
    print(f"report: {rep.runs} complete runs -> {rep.index} ({rep.seconds:.1f} s)")
    print(f"  inputs sha256 {rep.inputs_sha256}, manifest sha256 {rep.manifest_sha256}")
    if readme is not None:
        produced = readme_blocks.produce(blocks, rep.table1, rep.goal_results, Path(runs_dir), config, envs=envs,
                                         reps=reps, seed=seed)
        states = readme_blocks.update_readme(Path(readme), produced)
        print(f"  {readme}: " + "; ".join(f"{label} {state}" for label, state in states.items()))
    if len(rep.excluded_runs):
        print(f"  {len(rep.excluded_runs)} runs left out (listed in index.html and {Path(out_dir) / 'excluded.csv'}):")
        for r in rep.excluded_runs.head(10).itertuples():
            print(f"    {r.env_id}/{r.algo}/seed_{r.seed}: {r.reason}")
        if len(rep.excluded_runs) > 10:
            print(f"    ... and {len(rep.excluded_runs) - 10} more")
    for r in rep.flagged.itertuples():
        print(f"  {r.env}/{r.algo}: {r.notes}")
    if rep.missing_cells:
        print("  no complete runs for: " + ", ".join(f"{e}/{a}" for e, a in rep.missing_cells))
    return 0


__all__ = ["Report", "build_report", "main"]
