"""Table 1 and the other report tables: frames in, Markdown / LaTeX / CSV / HTML text out.

No statistics here: the numbers come from :mod:`analysis.stats`.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd


def _fmt(x: float, digits: int | None = None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2
    return f"{x:.{digits}f}"


def _digits(x: float) -> int:
    a = abs(x) if x is not None and math.isfinite(x) else 0.0
    return 0 if a >= 100 else 1 if a >= 10 else 2


def pm(mean: float, std: float, n: int | None = None) -> str:
    """"mean ± std" with both at the precision the mean's magnitude calls for; with ``n < 2``
    seeds there is no spread to show, so "mean ± –"."""
    d = _digits(mean)
    return f"{_fmt(mean, d)} ± " + ("–" if n is not None and n < 2 else _fmt(std, d))


def interval_unit(se: float, point_unit: float) -> float:
    """The rounding step of a printed bootstrap interval: the largest of 1, 2 or 5 x 10^k
    that is at most 1.96 bootstrap standard errors (about half a 95% interval's width, so
    the interval spans some 2 to 5 steps), and never finer than the digits of the point
    estimate beside it (``point_unit``).

    A percentile bound from B resamples has a Monte Carlo standard error of about
    2.7 se / sqrt(B) (normal-shaped distribution), at most 3.4 / sqrt(B) steps: 1.5% of a
    step at B = 50,000 (measured over 10 seeds on the 320 synthetic runs of
    scripts/bench_report_speed.py: median 0.8%, largest 2.1% of 108 bounds). A report
    regenerated with another seed prints the same bounds, unless a bound lies within that
    error of a rounding boundary (then it moves by one step). The step comes
    from the standard error rather than the width because the width of a discrete
    bootstrap distribution (few seeds) jumps by whole atoms from seed to seed; the
    standard error barely moves (about 0.3% at B = 50,000).
    """
    half = 1.96 * se
    if not (math.isfinite(half) and half > 0):
        return point_unit
    power = 10.0 ** math.floor(math.log10(half))
    lead = half / power
    step = 5 * power if lead >= 5 else 2 * power if lead >= 2 else power
    return max(point_unit, step)


def _decimals(unit: float) -> int:
    return max(0, -math.floor(math.log10(unit) + 1e-9))  # 2, 5 x 10^k: the decimals of 10^k


def fmt_interval(lo: float, hi: float, se: float, point_unit: float) -> str:
    """``[lo, hi]`` rounded to :func:`interval_unit`."""
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "[–, –]"
    unit = interval_unit(se, point_unit)
    d = _decimals(unit)
    return f"[{round(lo / unit) * unit + 0.0:.{d}f}, {round(hi / unit) * unit + 0.0:.{d}f}]"


def estimate_ci(value: float, lo: float, hi: float, se: float, unit: float = 0.01) -> str:
    """``value [lo, hi]``: the point at ``unit`` (default 2 decimals: success rates,
    normalised distances), the interval rounded by :func:`fmt_interval`; "–" without a value."""
    if value is None or not math.isfinite(value):
        return "–"
    d = _decimals(unit)
    return f"{round(value / unit) * unit + 0.0:.{d}f} {fmt_interval(lo, hi, se, unit)}"


def _interval(lo: float, hi: float, se: float, ref: float) -> str:
    return fmt_interval(lo, hi, se, 10.0 ** -_digits(ref))


def _sig(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` significant digits (CPU-hours range from 0.004 to 40)."""
    return "–" if x is None or not math.isfinite(x) else f"{x:#.{digits}g}".rstrip(".")


def _steps(n: float | None) -> str:
    """A budget for people: 3M, 100k, 2500."""
    if n is None or not math.isfinite(n):
        return "–"
    n = int(n)
    for div, unit in ((1_000_000, "M"), (1_000, "k")):
        if n >= div and n % (div // 10) == 0:
            return f"{n / div:g}{unit}"
    return str(n)


def cell_notes(r) -> str:
    """Flags a reader must see beside a cell's number: a short final window, seeds from
    different code, runs on more than one torch thread (their CPU-h count every thread),
    runs trained on different processors (the same seed gives another curve on another CPU),
    a cell whose processors are only partly recorded (it may be mixed), or runs read off a
    longer run's first evaluations (:mod:`bench.prefix`: the same computation, no training)."""
    notes = []
    if getattr(r, "short_window", False):
        notes.append(f"short window ({r.final_window} evals)")
    threads = getattr(r, "threads", None)
    if isinstance(threads, list) and threads and threads != [1]:
        notes.append(f"{'/'.join(map(str, threads))} torch threads per run")
    cpus = getattr(r, "cpu_models", 0)
    unrecorded = getattr(r, "cpu_unrecorded", 0)
    unrecorded = int(unrecorded) if isinstance(unrecorded, (int, float)) and math.isfinite(unrecorded) else 0
    if isinstance(cpus, (int, float)) and math.isfinite(cpus) and cpus > 1:
        extra = f", {unrecorded} runs unrecorded" if unrecorded else ""
        notes.append(f"mixed CPUs ({int(cpus)} models{extra})")
    elif cpus == 1 and unrecorded:  # one model seen, but a run from before the record may be another
        notes.append(f"CPU unrecorded for {unrecorded} of {int(r.n)} runs")
    derived = getattr(r, "derived", 0)
    if isinstance(derived, (int, float)) and math.isfinite(derived) and derived > 0:
        notes.append(f"{int(derived)} of {int(r.n)} runs read off longer runs")
    versions = getattr(r, "code_versions", 1)
    if isinstance(versions, (int, float)) and math.isfinite(versions) and versions > 1:
        notes.append(f"mixed code ({int(versions)} versions)")
    return "; ".join(notes)


#: seeds behind each of the paper's Table 1 values
PAPER_SEEDS = 20


def fidelity(mean: float, std: float, n: int, paper_mean: float, paper_std: float,
             paper_n: int = PAPER_SEEDS, alpha: float = 0.05) -> tuple[float, float, str]:
    """Welch's t-test of our cell against the paper's summary statistics.

    :returns: (t, two-sided p, verdict): ``consistent`` when p >= alpha, else ``above paper``
        or ``below paper``; ``untested (1 seed)`` with fewer than 2 seeds
    """
    from scipy.stats import ttest_ind_from_stats

    if n < 2:
        return math.nan, math.nan, "untested (1 seed)"
    if std == 0 and paper_std == 0:  # no spread on either side: equal or not
        t, pval = (0.0, 1.0) if mean == paper_mean else (math.copysign(math.inf, mean - paper_mean), 0.0)
    else:
        t, pval = ttest_ind_from_stats(mean, std, n, paper_mean, paper_std, paper_n, equal_var=False)
        t, pval = float(t), float(pval)
    if pval >= alpha:
        return t, pval, "consistent"
    return t, pval, "above paper" if mean > paper_mean else "below paper"


def few_seeds_note(mean: float, n: int, verdict: str, paper: tuple[float, float] | None) -> str:
    """For a 2-seed cell that differs from the paper: the test again with the paper's std for ours.

    Two seeds that happen to agree give a small std, and Welch's t then measures the paper's mean
    against its own standard error alone (DDPG on Hopper: ours 811 ± 11 on 2 seeds against
    1634 ± 1036). Where the verdict survives the paper's spread, it is not an artefact of that.
    """
    if n != 2 or paper is None or verdict not in ("above paper", "below paper"):
        return ""
    t, _, again = fidelity(mean, paper[1], n, paper[0], paper[1])
    return f"2 seeds: {again}, t = {t:.2f}, with the paper's std for ours"


def table1(final_stats: pd.DataFrame, paper: dict[str, dict[str, tuple[float, float]]] | None = None,
           budgets: dict[str, int] | None = None) -> pd.DataFrame:
    """Table 1 as a frame: one row per (env, algo) with display strings and raw numbers.

    :param final_stats: :func:`analysis.stats.final_return_stats`
    :param paper: env -> algo -> (mean, std) from benchmark.toml's ``paper`` tables
    :param budgets: env -> the protocol's budget (the paper's); a cell run with less is
        marked partial
    """
    paper, budgets = paper or {}, budgets or {}
    rows = []
    for r in final_stats.itertuples(index=False):
        p = paper.get(r.env_id, {}).get(r.algo)
        t, pval, verdict = fidelity(r.mean, r.std, r.n, p[0], p[1]) if p else (math.nan, math.nan, "–")
        budget = getattr(r, "budget", None)
        full = budgets.get(r.env_id)
        partial = budget is not None and full is not None and budget < full
        shown = verdict + (f" (partial: {_steps(budget)} of {_steps(full)} steps)" if partial and p else "")
        notes = [x for x in (cell_notes(r), few_seeds_note(r.mean, r.n, verdict, p)) if x]
        row = {
            "env": r.env_id, "algo": r.algo, "seeds": r.n,
            "final return (mean ± std)": pm(r.mean, r.std, r.n),
            "95% CI of mean": _interval(r.mean_lo, r.mean_hi, r.mean_se, r.mean),
            "IQM [95% CI]": f"{_fmt(r.iqm, _digits(r.mean))} {_interval(r.iqm_lo, r.iqm_hi, r.iqm_se, r.mean)}",
            "paper (mean ± std)": pm(p[0], p[1]) if p else "–",
            "vs paper (Welch t)": f"{shown}, t = {t:.2f}" if math.isfinite(t) else shown,
            "budget": _steps(budget) if budget is not None else "–",
            "CPU-h per run": _sig(getattr(r, "cpu_hours", math.nan)),
            "notes": "; ".join(notes),
            "mean": r.mean, "std": r.std, "ci_lo": r.mean_lo, "ci_hi": r.mean_hi, "mean_se": r.mean_se,
            "median": r.median, "iqm": r.iqm, "iqm_lo": r.iqm_lo, "iqm_hi": r.iqm_hi, "iqm_se": r.iqm_se,
            "paper_mean": p[0] if p else float("nan"), "paper_std": p[1] if p else float("nan"),
            "welch_t": t, "welch_p": pval, "verdict": verdict, "budget_steps": budget,
            "partial": partial, "cpu_hours": getattr(r, "cpu_hours", math.nan),
        }
        for col in GOAL_METRICS:
            v, lo, hi, se = (getattr(r, col + k, math.nan) for k in ("", "_lo", "_hi", "_se"))
            row[GOAL_METRICS[col]] = estimate_ci(v, lo, hi, se)
            row[col], row[col + "_lo"], row[col + "_hi"] = v, lo, hi
        rows.append(row)
    return pd.DataFrame(rows)


#: goal metrics of the finals (:data:`analysis.stats.GOAL_FINALS`) -> their printed column:
#: mean over seeds with its 95% bootstrap CI
GOAL_METRICS = {"success_rate": "success rate [95% CI]", "norm_distance": "norm distance [95% CI]"}


def display_columns(t1: pd.DataFrame) -> list[str]:
    """The columns of the Markdown / HTML Table 1: the same whatever cells a report covers
    (goal columns show "–" for return-only cells), so a cell's row does not depend on them."""
    return ["env", "algo", "final return (mean ± std)", "95% CI of mean", "IQM [95% CI]", "paper (mean ± std)",
            "vs paper (Welch t)", *GOAL_METRICS.values(), "seeds", "budget", "CPU-h per run", "notes"]


#: the columns of table1.csv, fixed (a cell's row is the same whatever else a report covers)
CSV_COLUMNS = ["env", "algo", "seeds", "mean", "std", "ci_lo", "ci_hi", "mean_se", "median", "iqm", "iqm_lo", "iqm_hi",
               "iqm_se",
               "paper_mean", "paper_std", "welch_t", "welch_p", "verdict", "budget_steps", "partial", "cpu_hours",
               "success_rate", "norm_distance", "notes", "success_rate_lo", "success_rate_hi", "norm_distance_lo",
               "norm_distance_hi"]


def aggregates_display(agg: pd.DataFrame) -> pd.DataFrame:
    """The aggregates table as printed: estimate to 3 decimals, CI rounded to
    :func:`interval_unit`."""
    return pd.DataFrame({
        "algo": agg["algo"], "metric": agg["metric"],
        "estimate [95% CI]": [f"{_fmt(v, 3)} {fmt_interval(lo, hi, se, 0.001)}"
                              for v, lo, hi, se in zip(agg["value"], agg["lo"], agg["hi"], agg["se"])],
        "runs": agg["runs"], "envs": agg["envs"]})


def poi_display(poi: pd.DataFrame) -> pd.DataFrame:
    """Probabilities of improvement as printed (see :func:`aggregates_display`)."""
    return pd.DataFrame({
        "pair": [f"P({x} > {y})" for x, y in zip(poi["x"], poi["y"])],
        "probability [95% CI]": [f"{_fmt(p, 3)} {fmt_interval(lo, hi, se, 0.001)}"
                                 for p, lo, hi, se in zip(poi["probability"], poi["lo"], poi["hi"], poi["se"])]})


def poi_matrix_html(poi: pd.DataFrame, algos: list[str] | None = None) -> str:
    """A matrix of probabilities of improvement as an HTML table: the cell in row X,
    column Y is P(X > Y) [95% CI] (2 decimals, CI rounded by :func:`fmt_interval`), class
    ``better`` when the CI lies above 0.5 and ``worse`` when below; "–" where the pair has
    no number (the diagonal, an algorithm without runs).

    :param poi: rows ``x, y, probability, lo, hi, se`` (both directions of each pair, as
        :func:`analysis.stats.probability_of_improvement` gives them)
    :param algos: rows and columns in this order (default: every algorithm in ``poi``, sorted)
    """
    algos, cells = _poi_cells(poi, algos)
    head = "<th>P(row &gt; column)</th>" + "".join(f"<th>{html.escape(a)}</th>" for a in algos)
    body = []
    for x, row in zip(algos, cells):
        tds = [f"<th>{html.escape(x)}</th>"]
        for text, verdict in row:
            cls = f" class='{verdict}'" if verdict else ""
            tds.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table class='poi'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def poi_matrix_markdown(poi: pd.DataFrame, algos: list[str] | None = None) -> str:
    """The matrix of :func:`poi_matrix_html` as a Markdown table; a CI above 0.5 in bold,
    one below 0.5 in italics (the HTML's green and red)."""
    algos, cells = _poi_cells(poi, algos)
    marks = {"better": "**", "worse": "_", "": ""}
    rows = [{"P(row > column)": x, **{y: f"{marks[v]}{text}{marks[v]}" for y, (text, v) in zip(algos, row)}}
            for x, row in zip(algos, cells)]
    return to_markdown(pd.DataFrame(rows, columns=["P(row > column)", *algos]))


def _poi_cells(poi: pd.DataFrame, algos: list[str] | None) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """(algorithms, rows of (text, verdict)): the matrix of P(row > column) [95% CI] with
    verdict ``better`` / ``worse`` / ``""`` (CI above, below or across 0.5)."""
    algos = algos or sorted(set(poi["x"]) | set(poi["y"]))
    by_pair = {(r.x, r.y): r for r in poi.itertuples(index=False)}
    cells = []
    for x in algos:
        row = []
        for y in algos:
            r = by_pair.get((x, y))
            if r is None:
                row.append(("–", ""))
                continue
            verdict = "better" if r.lo > 0.5 else "worse" if r.hi < 0.5 else ""
            row.append((f"{_fmt(r.probability, 2)} {fmt_interval(r.lo, r.hi, r.se, 0.01)}", verdict))
        cells.append(row)
    return algos, cells


def to_markdown(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""
    columns = columns or list(df.columns)
    cells = [[str(v) if not (isinstance(v, float) and math.isnan(v)) else "–" for v in row]
             for row in df[columns].itertuples(index=False)]
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    return "\n".join([head, rule] + ["| " + " | ".join(c) + " |" for c in cells]) + "\n"


_LATEX_ESCAPES = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def _tex(s: object) -> str:
    out = "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(s))
    return out.replace("±", r"$\pm$").replace("–", "--")


def table1_latex(t1: pd.DataFrame) -> str:
    """Table 1 as a booktabs LaTeX tabular: one row per env, one column per algorithm."""
    algos = sorted(t1["algo"].unique())
    envs = list(dict.fromkeys(t1["env"]))
    lines = [r"\begin{tabular}{l" + "c" * len(algos) + "}", r"\toprule",
             "Environment & " + " & ".join(_tex(a) for a in algos) + r" \\", r"\midrule"]
    for env in envs:
        ours, theirs = [], []
        for a in algos:
            r = t1[(t1["env"] == env) & (t1["algo"] == a)]
            if r.empty:
                ours.append("--")
                theirs.append("")
                continue
            r = r.iloc[0]
            ours.append(_tex(pm(r["mean"], r["std"], r["seeds"])) + f" (n={r['seeds']})")
            theirs.append(_interval(r["ci_lo"], r["ci_hi"], r["mean_se"], r["mean"])
                          + ("; paper " + _tex(pm(r["paper_mean"], r["paper_std"])) + ", " + _tex(r["verdict"])
                             + (" (partial)" if r["partial"] else "")
                             if math.isfinite(r["paper_mean"]) else ""))
        lines.append(_tex(env) + " & " + " & ".join(ours) + r" \\")
        lines.append(" & " + " & ".join(r"{\footnotesize " + t + "}" if t else "" for t in theirs) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def to_html(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    columns = columns or list(df.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in df[columns].itertuples(index=False):
        tds = []
        for v in row:
            if isinstance(v, float):
                v = "–" if math.isnan(v) else _fmt(v, 3 if abs(v) < 10 else None)
            tds.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_table1(t1: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``table1.md``, ``table1.tex`` and ``table1.csv`` (raw numbers) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "table1.md"
    md.write_text("# Table 1: final return (mean of the last evaluations), over seeds\n\n"
                  + to_markdown(t1, display_columns(t1)))
    tex = out_dir / "table1.tex"
    tex.write_text(table1_latex(t1))
    csv = out_dir / "table1.csv"
    t1[CSV_COLUMNS].to_csv(csv, index=False)
    return [md, tex, csv]
