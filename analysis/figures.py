"""The report's figures (seaborn style, matplotlib Agg backend), each saved as PNG and PDF.

Every function takes frames from :mod:`analysis.stats` and returns the paths it wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from analysis import tables  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
DPI = 110


def slug(name: str) -> str:
    """A file-name-safe form of an env id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def palette(algos: list[str]) -> dict[str, tuple]:
    """One fixed colour per algorithm (sorted names), the same in every figure."""
    algos = sorted(algos)
    return dict(zip(algos, sns.color_palette("colorblind", max(len(algos), 3))))


# colorblind-palette entries that stay apart when few series share a panel (orange, index 1,
# and brown, 5, come late: beside vermilion, 3, they are hard to tell apart)
_DISTINCT = (0, 3, 2, 4, 7, 8, 9, 5, 6, 1)


def distinct_palette(names: list[str]) -> dict[str, tuple]:
    """Colours for one figure's few series, in the given order (e.g. a base, then its
    variants), chosen to be easy to tell apart rather than fixed per name across figures."""
    cb = sns.color_palette("colorblind", 10)
    return {name: cb[_DISTINCT[i % len(_DISTINCT)]] for i, name in enumerate(names)}


def _save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=DPI, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})  # same inputs, same bytes
    plt.close(fig)
    return paths


def steps_label(x: float, _pos: object = None) -> str:
    """An env-step tick as the tables write budgets (0, 500, 50k, 1.5M)."""
    return tables._steps(x)


def _steps_axis(ax: plt.Axes) -> None:
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(steps_label))


def _curve(ax: plt.Axes, c: pd.DataFrame, color: tuple, algo: str, *, lw: float = 1.6, fontsize: int = 8) -> None:
    """One algorithm's learning curve: mean and band where every run of the cell reached the
    point (``n == n_cell``); where fewer did (runs of unequal length), a dashed mean of those
    runs, no band, labelled with how many; the legend gives the cell's run count."""
    c = c.sort_values("env_steps")
    x, m = c["env_steps"].to_numpy(float), c["mean"].to_numpy(float)
    n = c["n"].to_numpy(int)
    n_cell = int(c["n_cell"].max()) if "n_cell" in c else int(n.max())
    full = n == n_cell
    partial = ~full & (n > 0)
    label = f"{algo} (n={n_cell})" + ("; dashed: fewer runs" if partial.any() else "")
    ax.plot(x, np.where(full, m, np.nan), color=color, label=label, lw=lw)
    ax.fill_between(x, c["lo"].to_numpy(float), c["hi"].to_numpy(float), where=full, color=color, alpha=0.2, lw=0)
    if partial.any():
        # join the dashed part to its full neighbours, and say at each change how many runs it holds
        near = partial | np.r_[partial[1:], False] | np.r_[False, partial[:-1]]
        ax.plot(x, np.where(near, m, np.nan), color=color, lw=lw * 0.8, ls="--")
        for i in np.flatnonzero(partial):
            if i == 0 or n[i] != n[i - 1]:
                ax.annotate(f"n={n[i]}", (x[i], m[i]), textcoords="offset points", xytext=(2, 4), fontsize=fontsize - 1,
                            color=color)


def learning_curves(bands: pd.DataFrame, env_id: str, colors: dict[str, tuple], out_dir: Path, *,
                    ylabel: str = "evaluation return", stem: str | None = None,
                    paper: dict[str, tuple[float, float]] | None = None) -> list[Path]:
    """Figure 2/6 for one env: mean return vs nominal env steps per algorithm with its 95% band
    (drawn where all of the cell's runs have the point; see :func:`_curve`)."""
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    g = bands[bands["env_id"] == env_id]
    for algo, c in g.groupby("algo", sort=True):
        _curve(ax, c, colors[algo], algo)
    shown = [m for algo, (m, _) in (paper or {}).items() if algo in set(g["algo"])]
    for algo, (m, _) in (paper or {}).items():
        if algo in set(g["algo"]):
            ax.axhline(m, color=colors[algo], ls=":", lw=1.0)
    if shown:  # keep the paper's lines inside the axes
        lo = min(np.nanmin(g["lo"].fillna(g["mean"])), *shown)
        hi = max(np.nanmax(g["hi"].fillna(g["mean"])), *shown)
        pad = 0.05 * max(hi - lo, 1e-9)
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_title(env_id)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(ylabel)
    _steps_axis(ax)
    ax.legend(fontsize=8, loc="best")
    return _save(fig, out_dir, stem or f"curves_{slug(env_id)}")


def _env_grid(n: int, height: float):
    """A figure with one panel per environment, at most 4 per row: (fig, axes, rows)."""
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.0 * ncol, height * nrow), squeeze=False)
    return fig, axes, nrow


def learning_curves_grid(bands: pd.DataFrame, colors: dict[str, tuple], out_dir: Path) -> list[Path]:
    """All envs' learning curves side by side (Figure 2 layout): a legend with the run
    counts in each panel, one shared colour legend below."""
    envs = sorted(bands["env_id"].unique())
    fig, axes, nrow = _env_grid(len(envs), height=3.3)
    for ax, env_id in zip(axes.ravel(), envs):
        g = bands[bands["env_id"] == env_id]
        for algo, c in g.groupby("algo", sort=True):
            _curve(ax, c, colors[algo], algo, lw=1.4, fontsize=7)
        ax.legend(fontsize=7, loc="best")  # run counts per panel
        ax.set_title(env_id, fontsize=10)
        ax.set_xlabel("environment steps", fontsize=9)
        _steps_axis(ax)
    for ax in axes.ravel()[len(envs):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("evaluation return")
    handles = [plt.Line2D([], [], color=colors[a], lw=2) for a in sorted(colors)]
    fig.legend(handles, sorted(colors), loc="lower center", ncol=len(colors), bbox_to_anchor=(0.5, -0.02 - 0.03 / nrow))
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(fig, out_dir, "figure2_curves")


def command_sweeps(sweeps: pd.DataFrame, conformance: pd.DataFrame, colors: dict[str, tuple],
                   out_dir: Path) -> list[Path]:
    """Figure 4: achieved vs commanded return per env, identity line, Spearman and nMAE."""
    envs = sorted(sweeps["env_id"].unique())
    fig, axes, nrow = _env_grid(len(envs), height=3.6)
    for ax, env_id in zip(axes.ravel(), envs):
        g = sweeps[sweeps["env_id"] == env_id]
        lo, hi = float(g["command"].min()), float(g["command"].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1.0, label="identity")
        for algo, s in g.groupby("algo", sort=True):
            per_cmd = s.groupby("command")["return_mean"]
            m, sd = per_cmd.mean(), per_cmd.std(ddof=0).fillna(0.0)
            conf = conformance[(conformance["env_id"] == env_id) & (conformance["algo"] == algo)]
            label = algo
            if not conf.empty:
                r = conf.iloc[0]
                label += f": ρ={r['spearman']:.2f}, nMAE={r['nmae']:.2f} (n={int(r['runs'])})"
            ax.plot(m.index, m.to_numpy(), marker="o", ms=3, color=colors[algo], label=label, lw=1.4)
            ax.fill_between(m.index, (m - sd).to_numpy(), (m + sd).to_numpy(), color=colors[algo], alpha=0.2, lw=0)
        ax.set_title(env_id, fontsize=10)
        ax.set_xlabel("commanded return", fontsize=9)
        ax.set_ylabel("achieved return", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes.ravel()[len(envs):]:
        ax.axis("off")
    fig.tight_layout()
    return _save(fig, out_dir, "figure4_command_sweeps")


def aggregate_intervals(agg: pd.DataFrame, colors: dict[str, tuple], out_dir: Path) -> list[Path]:
    """rliable-style interval plot: IQM, mean, median, optimality gap of normalised scores."""
    metrics = list(dict.fromkeys(agg["metric"]))
    algos = sorted(agg["algo"].unique())
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 0.45 * len(algos) + 1.3), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        g = agg[agg["metric"] == metric].set_index("algo")
        for i, algo in enumerate(algos):
            if algo not in g.index:
                continue
            r = g.loc[algo]
            ax.barh(i, r["hi"] - r["lo"], left=r["lo"], height=0.6, color=colors[algo], alpha=0.75)
            ax.vlines(r["value"], i - 0.3, i + 0.3, color="k", lw=1.5)
        ax.set_yticks(range(len(algos)))
        ax.set_yticklabels(algos if ax is axes[0, 0] else [])
        ax.set_ylim(len(algos) - 0.5, -0.5)  # first algorithm on top
        lo, hi = g["lo"].min(), g["hi"].max()
        pad = 0.08 * max(hi - lo, 0.05)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("normalised score", fontsize=9)
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return _save(fig, out_dir, "aggregate_intervals")


def performance_profiles(profiles: pd.DataFrame, colors: dict[str, tuple], out_dir: Path) -> list[Path]:
    """Score distributions: fraction of runs with normalised score above tau, 95% bands."""
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    for algo, g in profiles.groupby("algo", sort=True):
        ax.plot(g["tau"], g["fraction"], color=colors[algo], label=algo, lw=1.6)
        ax.fill_between(g["tau"], g["lo"], g["hi"], color=colors[algo], alpha=0.2, lw=0)
    ax.set_xlabel(r"normalised score $\tau$")
    ax.set_ylabel(r"fraction of runs with score $> \tau$")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    return _save(fig, out_dir, "performance_profiles")


def probability_of_improvement(poi: pd.DataFrame, out_dir: Path) -> list[Path]:
    """P(X > Y) with 95% CIs for each pair (x before y alphabetically)."""
    g = poi[poi["x"] < poi["y"]].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(5.5, 0.45 * len(g) + 1.2))
    for i, r in g.iterrows():
        ax.barh(i, r["hi"] - r["lo"], left=r["lo"], height=0.6, color="tab:blue", alpha=0.6)
        ax.vlines(r["probability"], i - 0.3, i + 0.3, color="k", lw=1.5)
    ax.axvline(0.5, color="0.4", ls="--", lw=1.0)
    ax.set_yticks(range(len(g)))
    ax.set_yticklabels([f"P({r.x} > {r.y})" for r in g.itertuples()])
    ax.set_ylim(len(g) - 0.5, -0.5)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("probability of improvement")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return _save(fig, out_dir, "probability_of_improvement")


def goal_sweeps(goal_sweeps: pd.DataFrame, env_id: str, out_dir: Path) -> list[Path]:
    """Figure 4 for goal-conditioned methods: each sweep goal (2-D goals) coloured by the
    success rate over runs, one panel per algorithm; other goal sizes: success per goal index."""
    # columns of other envs' goals (FetchReach's goal_2 beside Nav2D's) are all-NaN here
    g = goal_sweeps[goal_sweeps["env_id"] == env_id].dropna(axis=1, how="all")
    algos = sorted(g["algo"].unique())
    two_d = "goal_0" in g and "goal_1" in g and "goal_2" not in g
    fig, axes = plt.subplots(1, len(algos), figsize=(3.8 * len(algos) + 1.0, 3.8), squeeze=False,
                             layout="constrained")
    for ax, algo in zip(axes[0], algos):
        a = g[g["algo"] == algo]
        per_goal = a.groupby("goal_index").agg(success=("success", "mean"), x=("goal_0", "mean"),
                                               y=("goal_1", "mean")) if two_d else \
            a.groupby("goal_index").agg(success=("success", "mean"))
        n_runs = a["seed"].nunique()
        if two_d:
            sc = ax.scatter(per_goal["x"], per_goal["y"], c=per_goal["success"], cmap="viridis", vmin=0, vmax=1,
                            s=40, edgecolors="k", linewidths=0.3)
            ax.set_xlabel("goal x")
            ax.set_ylabel("goal y" if ax is axes[0, 0] else "")
            ax.set_aspect("equal", adjustable="datalim")
        else:
            ax.bar(per_goal.index, per_goal["success"], color="tab:blue")
            ax.set_xlabel("goal index")
            ax.set_ylabel("success rate")
            ax.set_ylim(0, 1)
        ax.set_title(f"{algo}: success {a.groupby('seed')['success'].mean().mean():.2f} (n={n_runs})", fontsize=10)
    if two_d:
        fig.colorbar(sc, ax=axes[0].tolist(), label="success rate over runs", shrink=0.85)
    fig.suptitle(env_id, fontsize=11)
    return _save(fig, out_dir, f"figure4_goal_sweep_{slug(env_id)}")


def probing_pca(snapshot: dict[str, np.ndarray], title: str, stem: str, out_dir: Path) -> list[Path]:
    """Figure 3-style map of policy space: PCA of the probing actions of the replay-buffer
    policies (dots, coloured by their training return) with the generated policies for the
    sweep commands projected on the same two components (stars, coloured by command,
    joined in command order). The paper fills Delaunay cells; a scatter shows the same map.

    :param snapshot: a run's ``probing.npz`` (:meth:`algorithms.poligen.PoliGen.probing_snapshot`)
    """
    buf = np.asarray(snapshot["buffer_probing_actions"], np.float64)
    gen = np.asarray(snapshot["generated_probing_actions"], np.float64)
    returns, commands = np.asarray(snapshot["buffer_returns"]), np.asarray(snapshot["commands"])
    mean = buf.mean(0)
    _, sv, vt = np.linalg.svd(buf - mean, full_matrices=False)
    share = sv[:2] ** 2 / max(float((sv ** 2).sum()), 1e-12)
    xb, xg = (buf - mean) @ vt[:2].T, (gen - mean) @ vt[:2].T
    values = np.concatenate([returns, commands])
    norm = plt.Normalize(float(values.min()), float(values.max()))
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    order = np.argsort(returns)  # best policies drawn on top
    sc = ax.scatter(xb[order, 0], xb[order, 1], c=returns[order], cmap="viridis", norm=norm, s=8, alpha=0.7,
                    linewidths=0, label=f"buffer policies (n={len(buf)})")
    ax.plot(xg[:, 0], xg[:, 1], color="0.3", lw=0.8, zorder=2)
    ax.scatter(xg[:, 0], xg[:, 1], c=commands, cmap="viridis", norm=norm, marker="*", s=120, edgecolors="k",
               linewidths=0.6, zorder=3, label=f"generated, {len(commands)} commands")
    for i in (0, len(commands) - 1):
        ax.annotate(f"c={commands[i]:g}", xg[i], textcoords="offset points", xytext=(5, 5), fontsize=8)
    fig.colorbar(sc, ax=ax, label="return (dots) / command (stars)")
    ax.set_xlabel(f"PC 1 ({share[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 ({share[1]:.0%})" if len(share) > 1 else "PC 2")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _save(fig, out_dir, stem)
