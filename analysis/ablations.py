"""Ablations: every named variant beside its base algorithm (the paper's Figures 7 and 8).

A run of a variant records its base in config.json (``variant.base``); on each environment
where both the base and a variant have complete runs, the report shows their learning
curves with bootstrap bands, their final returns with 95% CIs, and rliable's probability
that the base improves on the variant, P(base > variant), with its CI (runs resampled
independently per side, each from its own seeded generator).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import bootstrap, figures, stats, tables

COLUMNS = ["env_id", "base", "variant", "base_n", "variant_n", "base_mean", "base_lo", "base_hi",
           "variant_mean", "variant_lo", "variant_hi", "p_base_better", "p_lo", "p_hi", "p_se"]


def ablation_groups(finals: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    """(env, base) -> its variants with complete runs on that env, where the base has runs too."""
    if "variant_of" not in finals or finals["variant_of"].isna().all():
        return {}
    cells = finals.groupby(["env_id", "algo"])["variant_of"].first()
    present = set(cells.index)
    out: dict[tuple[str, str], list[str]] = {}
    for (env_id, algo), base in cells.items():
        if isinstance(base, str) and (env_id, base) in present:
            out.setdefault((env_id, base), []).append(algo)
    return {k: sorted(v) for k, v in sorted(out.items())}


def ablation_table(finals: pd.DataFrame, final_stats: pd.DataFrame, *, reps: int = bootstrap.REPS,
                   seed: int = bootstrap.SEED) -> pd.DataFrame:
    """One row per (env, base, variant): both final returns with CIs and P(base > variant)."""
    fs = final_stats.set_index(["env_id", "algo"])
    rows = []
    for (env_id, base), variants in ablation_groups(finals).items():
        def scores(algo: str) -> np.ndarray:
            g = finals[(finals["env_id"] == env_id) & (finals["algo"] == algo)].sort_values("seed")
            return g["final_return"].to_numpy(dtype=float)[:, None]

        for variant in variants:
            poi = stats.probability_of_improvement({base: scores(base), variant: scores(variant)}, reps=reps,
                                                   seed=seed)
            p = poi[(poi["x"] == base) & (poi["y"] == variant)].iloc[0]
            b, v = fs.loc[(env_id, base)], fs.loc[(env_id, variant)]
            rows.append({"env_id": env_id, "base": base, "variant": variant, "base_n": int(b["n"]),
                         "variant_n": int(v["n"]), "base_mean": b["mean"], "base_lo": b["mean_lo"],
                         "base_hi": b["mean_hi"], "base_se": b["mean_se"], "variant_mean": v["mean"],
                         "variant_lo": v["mean_lo"], "variant_hi": v["mean_hi"], "variant_se": v["mean_se"],
                         "p_base_better": p["probability"], "p_lo": p["lo"], "p_hi": p["hi"], "p_se": p["se"]})
    return pd.DataFrame(rows, columns=COLUMNS + ["base_se", "variant_se"])


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The ablation table as printed (bounds rounded as in Table 1)."""
    def mean_ci(m: float, lo: float, hi: float, se: float) -> str:
        return f"{tables._fmt(m, tables._digits(m))} {tables._interval(lo, hi, se, m)}"

    return pd.DataFrame({
        "env": table["env_id"], "base": table["base"], "variant": table["variant"],
        "seeds (base / variant)": [f"{a} / {b}" for a, b in zip(table["base_n"], table["variant_n"])],
        "base: mean [95% CI]": [mean_ci(*r) for r in zip(table["base_mean"], table["base_lo"], table["base_hi"],
                                                          table["base_se"])],
        "variant: mean [95% CI]": [mean_ci(*r) for r in zip(table["variant_mean"], table["variant_lo"],
                                                             table["variant_hi"], table["variant_se"])],
        "P(base > variant) [95% CI]": [f"{p:.3f} {tables.fmt_interval(lo, hi, se, 0.001)}" for p, lo, hi, se in
                                       zip(table["p_base_better"], table["p_lo"], table["p_hi"], table["p_se"])],
    })


def section(finals: pd.DataFrame, final_stats: pd.DataFrame, bands: pd.DataFrame,
            out_dir: Path, fig_dir: Path, *, reps: int, seed: int, img) -> tuple[str, list[Path]]:
    """The report's ablation section (HTML) and the files it wrote; ("", []) without variants."""
    table = ablation_table(finals, final_stats, reps=reps, seed=seed)
    if table.empty:
        return "", []
    path = out_dir / "ablations.csv"
    table.to_csv(path, index=False)
    files = [path]
    figs = []
    for (env_id, base), variants in ablation_groups(finals).items():
        sub = bands[bands["algo"].isin([base, *variants])]
        p = figures.learning_curves(sub, env_id, figures.distinct_palette([base, *variants]), fig_dir,
                                    stem=f"ablation_{figures.slug(env_id)}_{figures.slug(base)}")
        files += p
        figs.append(img(p, out_dir, f"{env_id}: {base} and its variants ({', '.join(variants)})"))
    body = ("<h2>Ablations: variants beside their base (Figures 7-8)</h2><p>Each named variant "
            "(<code>[variants.&lt;name&gt;]</code> in benchmark.toml; config.json records its base and overrides) "
            "against its base algorithm on the same environment: final return, mean over seeds with its 95% "
            f"bootstrap CI, and P(base &gt; variant), rliable's probability of improvement ({reps:,} resamples, "
            "runs of each side resampled independently). P above 0.5 with a CI above 0.5: the ablated component "
            f"helps. Exact values in <a href=\"ablations.csv\">ablations.csv</a>.</p>"
            + tables.to_html(display(table)) + "".join(figs))
    return body, files
