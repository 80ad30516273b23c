"""Figures of the book: one style, one colour per model, functions that draw on a given ``ax``.

Plotting functions never compute results: they take precomputed arrays or tidy tables, draw
on the ``matplotlib`` axes they are given and return those axes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rbmlib.linear_model import BlockSizes
    import matplotlib.axes
    import matplotlib.figure
    import pandas as pd

__all__ = [
    "MODEL_LABELS",
    "MODEL_COLOURS",
    "MODEL_MARKERS",
    "DATA_COLOURS",
    "book_theme",
    "new_figure",
    "draw_loss_paths",
    "draw_saliency",
    "draw_finetune_paths",
    "draw_early_stopping",
    "draw_phase",
    "draw_ratio_sweep",
    "draw_theory_vs_mc",
    "draw_sweep",
]

#: Display name of every model of the book.
MODEL_LABELS: Mapping[str, str] = {
    "original": "original",
    "golden": "golden (retrained)",
    "ft": "FT",
    "rbm": "RBM",
    "fbm": "FBM",
}

#: One colour per model, shared by every figure (seaborn's colour-blind palette).
MODEL_COLOURS: Mapping[str, str] = {
    "original": "#949494",
    "golden": "#029e73",
    "ft": "#0173b2",
    "rbm": "#de8f05",
    "fbm": "#cc78bc",
}

#: Marker of every model in Monte Carlo figures: the original and FT often coincide, so their
#: markers differ in shape and fill and both stay visible.
MODEL_MARKERS: Mapping[str, str] = {"original": "s", "golden": "o", "ft": "x", "rbm": "^", "fbm": "v"}

#: Colour of each data set in loss-curve figures.
DATA_COLOURS: Mapping[str, str] = {"remaining": "#0173b2", "forgetting": "#d55e00"}


def book_theme() -> dict:
    """The seaborn theme of the book, as a context dict for ``seaborn.axes_style``-free use.

    Returns the ``rc`` mapping; apply it with ``matplotlib.rc_context(book_theme())`` or
    ``seaborn.set_theme(rc=book_theme())`` in a notebook (never inside a library function).
    """
    return {
        "figure.dpi": 110,
        "savefig.dpi": 110,
        "font.size": 10,
        "axes.titlesize": 10,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def new_figure(
    ncols: int = 1, *, nrows: int = 1, width: float = 3.4, height: float = 2.8
) -> tuple["matplotlib.figure.Figure", np.ndarray]:
    """A figure of ``nrows`` × ``ncols`` panels of the given panel size; returns ``(fig, axes)``.

    ``axes`` is flat: one entry per panel, row by row.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained")
    return fig, axes.ravel()


def draw_loss_paths(ax: "matplotlib.axes.Axes", paths: "pd.DataFrame", *, floor: float = 1e-30) -> "matplotlib.axes.Axes":
    """Remaining and forgetting loss against the descent step, one line per (stage, data).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    paths : pandas.DataFrame
        Rows of :func:`rbmlib.descent.unlearning_trajectories` for one ``run``.
    floor : float
        Losses are drawn as ``max(loss, floor)`` on a log axis, so exact zeros stay visible.
    """
    import seaborn as sns

    shown = paths.assign(loss=np.maximum(paths["loss"].to_numpy(), floor))
    sns.lineplot(
        data=shown, x="step", y="loss", hue="data", style="stage", palette=dict(DATA_COLOURS),
        ax=ax, linewidth=1.6, estimator=None, units=None,
    )
    tune_steps = paths.loc[paths["stage"] == "fine-tune", "step"]
    if not tune_steps.empty:  # mark where fine-tuning starts from the original model
        ax.axvline(tune_steps.min(), color="0.5", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper right", frameon=False, fontsize=8, title_fontsize=8)
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel(r"loss $\mathcal{L}(w, D)$")
    return ax


def draw_theory_vs_mc(
    ax: "matplotlib.axes.Axes",
    *,
    model: str,
    x_mc: np.ndarray,
    mean: np.ndarray,
    ci95: np.ndarray,
    x_theory: np.ndarray | None = None,
    theory: np.ndarray | None = None,
    label: str | None = None,
    linestyle: str = "-",
    marker: str | None = None,
) -> "matplotlib.axes.Axes":
    """One model's closed form as a line and its Monte Carlo means as points with 95% intervals.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    model : str
        Key of :data:`MODEL_COLOURS` and :data:`MODEL_MARKERS`.
    x_mc, mean, ci95 : ndarray, shape (k,)
        Abscissae, Monte Carlo means and half-widths of their 95% intervals.
    x_theory, theory : ndarray, shape (j,), optional
        The closed form on a (usually finer) grid; omitted where there is none.
    label : str, optional
        Legend entry of the points; defaults to :data:`MODEL_LABELS` ``[model]``.
    linestyle : str, default "-"
        Style of the theory line.
    marker : str, optional
        Marker of the points; defaults to :data:`MODEL_MARKERS` ``[model]``.
    """
    colour = MODEL_COLOURS[model]
    if (x_theory is None) != (theory is None):
        raise ValueError("give both x_theory and theory, or neither")
    if x_theory is not None:
        ax.plot(x_theory, theory, color=colour, linestyle=linestyle, linewidth=1.4, zorder=1)
    marker = MODEL_MARKERS[model] if marker is None else marker
    hollow = marker in "sov^D"  # filled markers are drawn hollow so that coinciding points stay visible
    ax.errorbar(
        x_mc, mean, yerr=ci95, fmt=marker, color=colour, markersize=5.5 if hollow else 6,
        markerfacecolor="white" if hollow else colour, capsize=2.5, elinewidth=1, linestyle="none",
        label=MODEL_LABELS[model] if label is None else label, zorder=2,
    )
    return ax


def draw_sweep(
    ax: "matplotlib.axes.Axes",
    table: "pd.DataFrame",
    *,
    x: str,
    metric: str,
    models: tuple[str, ...] = ("golden", "original", "ft"),
    curves: "pd.DataFrame | None" = None,
    label: str | None = None,
    linestyle: str = "-",
    marker: str | None = None,
) -> "matplotlib.axes.Axes":
    """Monte Carlo points and closed forms of one metric of a sweep, one series per model.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : pandas.DataFrame
        Output of :func:`rbmlib.simulation.sweep` (columns ``x``, ``model``, ``metric``, ``mean``,
        ``ci95``, ``theory``).
    x : str
        Column of ``table`` on the horizontal axis.
    metric : str
        Which metric to draw.
    models : tuple of str
        Models to draw, in legend order.
    curves : pandas.DataFrame, optional
        The closed forms on a finer grid: column ``x`` and one column per model (a model without a
        column, or with only ``NaN``, gets no line). Without it the ``theory`` column of ``table``
        is drawn through the Monte Carlo abscissae.
    label, linestyle, marker
        Passed to :func:`draw_theory_vs_mc` (``label`` only when one model is drawn).
    """
    if label is not None and len(models) != 1:
        raise ValueError("a custom label needs exactly one model")
    rows = table[table["metric"] == metric]
    for model in models:
        t = rows[rows["model"] == model].sort_values(x)
        line_x, line_y = (t[x], t["theory"]) if curves is None else (curves[x], curves.get(model))
        if line_y is None or np.all(np.isnan(np.asarray(line_y, dtype=float))):
            line_x = line_y = None
        draw_theory_vs_mc(
            ax, model=model, x_mc=t[x], mean=t["mean"], ci95=t["ci95"], x_theory=line_x, theory=line_y,
            label=label, linestyle=linestyle, marker=marker,
        )
    return ax


def draw_saliency(
    ax: "matplotlib.axes.Axes", scores: np.ndarray, sizes: "BlockSizes", *, data: str
) -> "matplotlib.axes.Axes":
    """Saliency of one data set against the coordinate index, the shared block shaded.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    scores : ndarray, shape (d,)
        Saliency per coordinate (:func:`rbmlib.masks.saliency`).
    sizes : BlockSizes
        Block sizes, for the shading of :math:`S_o`.
    data : {"remaining", "forgetting"}
        Which data set the scores belong to (colour and legend).
    """
    ax.axvspan(sizes.d_forget - 0.5, sizes.d_forget + sizes.d_shared - 0.5, color="0.92", zorder=0)
    shown = np.where(scores > 0, scores, np.nan)  # exact zeros have no place on a log axis
    ax.plot(np.arange(scores.size), shown, marker="o", markersize=2.5, linewidth=0.8,
            color=DATA_COLOURS[data], label=f"$h(D_{{{data[0]}}})$")
    ax.set_yscale("log")
    ax.set_xlabel(r"coordinate $j$  ($S_f \mid S_o \mid S_r$)")
    ax.set_ylabel(r"saliency $h_j(D)$")
    ax.legend(frameon=False, loc="lower right")
    return ax


def draw_finetune_paths(
    ax: "matplotlib.axes.Axes", paths: "pd.DataFrame", *, log: bool = True, floor: float = 1e-30
) -> "matplotlib.axes.Axes":
    """One loss against the fine-tuning step, one line per model (:func:`rbmlib.descent.finetune_paths`).

    With ``log`` the losses are drawn as ``max(loss, floor)`` on a log axis, so exact zeros show.
    """
    for model, rows in paths.groupby("model", sort=False):
        loss = rows["loss"].to_numpy()
        ax.plot(rows["step"], np.maximum(loss, floor) if log else loss, color=MODEL_COLOURS[model],
                label=MODEL_LABELS[model], linewidth=1.6)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("fine-tuning step on $D_r$")
    ax.legend(frameon=False)
    return ax


def draw_early_stopping(
    ax: "matplotlib.axes.Axes", curve: "pd.DataFrame", *, golden: float
) -> "matplotlib.axes.Axes":
    """FT's forgetting loss against the original's training budget (:func:`rbmlib.descent.early_stopping_curve`).

    The golden model's forgetting loss is drawn as a dashed reference line; the budget axis is
    logarithmic with ``k = 0`` drawn at ``k = 0.5``.
    """
    k = np.maximum(curve["steps"].to_numpy(dtype=float), 0.5)
    ax.plot(k, curve["ft_forgetting_loss"], color=MODEL_COLOURS["ft"], marker=MODEL_MARKERS["ft"],
            label="FT to convergence", linewidth=1.6)
    ax.plot(k, curve["original_forgetting_loss"], color=MODEL_COLOURS["original"], marker=MODEL_MARKERS["original"],
            markerfacecolor="none", linestyle=":", label="original (early-stopped)", linewidth=1.2)
    ax.axhline(golden, color=MODEL_COLOURS["golden"], linestyle="--", linewidth=1.2, label="golden (retrained)")
    ax.set_xscale("log")
    ax.set_xlabel("training steps $k$ of the original (0 drawn at 0.5)")
    ax.set_ylabel(r"forgetting loss $\mathcal{L}(w, D_f)$")
    ax.legend(frameon=False)
    return ax


def draw_phase(
    ax: "matplotlib.axes.Axes", values: "pd.DataFrame", *, label: str, vmax: float | None = None
) -> "matplotlib.axes.Axes":
    """A diverging heatmap of a difference between two methods over the phase grid (Chapter 5).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    values : pandas.DataFrame
        Rows: overlap fractions; columns: remaining-sample ratios (a pivot of
        :func:`rbmlib.experiments.phase_grid`). Positive cells favour RBM by convention of the caller.
    label : str
        Colour-bar label.
    vmax : float, optional
        Symmetric colour limit; defaults to the largest absolute value.
    """
    import seaborn as sns

    limit = float(np.nanmax(np.abs(values.to_numpy()))) if vmax is None else vmax
    shown = values.sort_index(ascending=False)  # overlap grows upwards
    sns.heatmap(shown, ax=ax, cmap="PuOr", center=0, vmin=-limit, vmax=limit, annot=True, fmt=".0f",
                annot_kws={"fontsize": 7}, cbar_kws={"label": label, "shrink": 0.85},
                xticklabels=[f"{c:.2f}" for c in shown.columns], yticklabels=[f"{i:.1f}" for i in shown.index])
    ax.set_xlabel(r"$n_r / (d_o + d_r)$")
    ax.set_ylabel(r"overlap $d_o / (d_f + d_o)$")
    return ax


def draw_ratio_sweep(
    ax: "matplotlib.axes.Axes", sweep: "pd.DataFrame", *, metric: str, models: tuple[str, ...] = ("rbm", "fbm"),
    references: "Mapping[str, float] | None" = None,
) -> "matplotlib.axes.Axes":
    """One metric against the mask ratio: a line per (model, leak), references as horizontal lines.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`rbmlib.experiments.ratio_sweep`.
    metric : str
        Metric to draw.
    models : tuple of str
        Masked models to draw.
    references : mapping of str to float, optional
        Horizontal reference lines keyed by model (e.g. the golden closed form).
    """
    styles = ["-", "--", ":", "-."]
    rows = sweep[sweep["metric"] == metric]
    for model in models:
        for style, (leak, part) in zip(styles, rows[rows["method"] == model].groupby("leak")):
            ax.errorbar(part["mask_ratio"], part["mean"], yerr=1.96 * part["se"], color=MODEL_COLOURS[model],
                        linestyle=style, marker=MODEL_MARKERS[model], markersize=4, capsize=2, linewidth=1.3,
                        markerfacecolor="white", label=f"{MODEL_LABELS[model]}, $\\varepsilon$ = {leak:g}")
    for model, value in (references or {}).items():
        ax.axhline(value, color=MODEL_COLOURS[model], linewidth=1, linestyle=(0, (4, 2)), label=f"{MODEL_LABELS[model]} (theory)")
    ax.set_xlabel("mask ratio (fraction of weights freed)")
    return ax


def _cell_coordinate(values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Heatmap coordinate of ``values`` on an axis whose cell ``j`` (centre ``j + 0.5``) holds ``centres[j]``.

    The grid axes of Chapter 5 are uniform, so the map is affine (and extends past the outer cells).
    """
    step = (centres[-1] - centres[0]) / (len(centres) - 1)
    return (np.asarray(values, dtype=float) - centres[0]) / step + 0.5


def draw_phase_theory(
    ax: "matplotlib.axes.Axes", cells: "pd.DataFrame", fine: "pd.DataFrame", *, tie_below: float = 0.0,
) -> "matplotlib.axes.Axes":
    """Overlay the theory on a :func:`draw_phase` heatmap: each cell's value and the analytic boundary.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        An axes already holding :func:`draw_phase` of the same grid (overlap growing upwards).
    cells : pandas.DataFrame
        The theory on the grid's cells (overlap × retain ratio, as the heatmap): written in
        small type under each simulated value, in parentheses.
    fine : pandas.DataFrame
        The theory on a finer mesh; its zero level (where FBM and RBM trade places) is drawn as
        a solid black line. Rows with overlap ``<= tie_below`` are left out of the contour: there
        the difference is identically 0 (a tie by Propositions 4.2–4.3), and the row is outlined
        with a dotted frame instead.
    """
    rows = np.sort(cells.index.to_numpy())[::-1]  # as drawn: overlap decreasing downwards
    cols = np.sort(cells.columns.to_numpy())
    # the heatmap's own annotations switch to white on dark cells; the theory follows them
    colours = {tuple(np.round(t.get_position(), 3)): t.get_color() for t in ax.texts}
    for i, overlap in enumerate(rows):
        for j, ratio in enumerate(cols):
            value = cells.loc[overlap, ratio]
            if np.isfinite(value):
                ax.text(j + 0.5, i + 0.82, f"({value:.0f})", ha="center", va="center", fontsize=5.5, style="italic",
                        color=colours.get((round(j + 0.5, 3), round(i + 0.5, 3)), "black"))
    live = fine[fine.index > tie_below]
    y = _cell_coordinate(live.index.to_numpy(), rows)
    x = _cell_coordinate(live.columns.to_numpy(), cols)
    z = live.to_numpy(dtype=float)
    if np.nanmin(z) < 0 < np.nanmax(z):
        ax.contour(x, y, z, levels=[0.0], colors="black", linewidths=1.6)
    from matplotlib.patches import Rectangle

    for i in np.flatnonzero(rows <= tie_below):
        ax.add_patch(Rectangle((0, i), len(cols), 1, fill=False, edgecolor="black", linestyle=":", linewidth=1.2))
    return ax


def draw_sweep_theory(
    ax: "matplotlib.axes.Axes", points: "Mapping[str, list[tuple[float, float]]]",
) -> "matplotlib.axes.Axes":
    """Theory points of the mask-ratio sweep: stars at the ratios where Proposition 5.2 gives a value.

    Parameters
    ----------
    points : mapping of str to sequence of (ratio, value)
        Per model (a key of :data:`MODEL_COLOURS`), the small-leak limits to mark.
    """
    for model, pairs in points.items():
        if not pairs:
            continue
        xs, ys = zip(*pairs)
        ax.plot(xs, ys, linestyle="none", marker="*", markersize=11, color=MODEL_COLOURS[model],
                markeredgecolor="black", markeredgewidth=0.6, zorder=3, label=f"{MODEL_LABELS[model]} (theory, $\\varepsilon \\to 0$)")
    return ax
