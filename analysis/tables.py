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


def pm(mean: float, std: float) -> str:
    """"mean ± std" with both at the precision the mean's magnitude calls for."""
    d = _digits(mean)
    return f"{_fmt(mean, d)} ± {_fmt(std, d)}"


def _interval(lo: float, hi: float, ref: float) -> str:
    d = _digits(ref)
    return f"[{_fmt(lo, d)}, {_fmt(hi, d)}]"


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
    different code."""
    notes = []
    if getattr(r, "short_window", False):
        notes.append(f"short window ({r.final_window} evals)")
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
        row = {
            "env": r.env_id, "algo": r.algo, "seeds": r.n,
            "final return (mean ± std)": pm(r.mean, r.std),
            "95% CI of mean": _interval(r.mean_lo, r.mean_hi, r.mean),
            "IQM [95% CI]": f"{_fmt(r.iqm, _digits(r.mean))} {_interval(r.iqm_lo, r.iqm_hi, r.mean)}",
            "paper (mean ± std)": pm(p[0], p[1]) if p else "–",
            "vs paper (Welch t)": f"{shown}, t = {t:.2f}" if math.isfinite(t) else shown,
            "budget": _steps(budget) if budget is not None else "–",
            "CPU-h per run": _sig(getattr(r, "cpu_hours", math.nan)),
            "notes": cell_notes(r),
            "mean": r.mean, "std": r.std, "ci_lo": r.mean_lo, "ci_hi": r.mean_hi, "median": r.median,
            "iqm": r.iqm, "iqm_lo": r.iqm_lo, "iqm_hi": r.iqm_hi,
            "paper_mean": p[0] if p else float("nan"), "paper_std": p[1] if p else float("nan"),
            "welch_t": t, "welch_p": pval, "verdict": verdict, "budget_steps": budget,
            "partial": partial, "cpu_hours": getattr(r, "cpu_hours", math.nan),
        }
        for col in ("success_rate", "norm_distance"):
            v = getattr(r, col, float("nan"))
            if isinstance(v, float) and math.isfinite(v):
                row[col.replace("_", " ")] = f"{_fmt(v, 2)} ± {_fmt(getattr(r, col + '_std'), 2)}"
                row[col] = v
        rows.append(row)
    return pd.DataFrame(rows)


def display_columns(t1: pd.DataFrame) -> list[str]:
    cols = ["env", "algo", "final return (mean ± std)", "95% CI of mean", "IQM [95% CI]", "paper (mean ± std)",
            "vs paper (Welch t)"]
    cols += [c for c in ("success rate", "norm distance") if c in t1.columns]
    return cols + ["seeds", "budget", "CPU-h per run", "notes"]


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
            ours.append(_tex(pm(r["mean"], r["std"])) + f" (n={r['seeds']})")
            theirs.append(_interval(r["ci_lo"], r["ci_hi"], r["mean"])
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
    raw = ["env", "algo", "seeds", "mean", "std", "ci_lo", "ci_hi", "median", "iqm", "iqm_lo", "iqm_hi",
           "paper_mean", "paper_std", "welch_t", "welch_p", "verdict", "budget_steps", "partial", "cpu_hours"]
    raw += [c for c in ("success_rate", "norm_distance") if c in t1.columns] + ["notes"]
    t1[raw].to_csv(csv, index=False)
    return [md, tex, csv]
