"""Figures of the book: functions that draw on a given ``ax``, in the registry's styles.

Plotting functions never compute results: they take precomputed arrays or tidy tables, draw
on the ``matplotlib`` axes they are given and return those axes. Names, colours, markers and line
styles come from :data:`rbmlib.presentation.SERIES`; the style is
:func:`rbmlib.presentation.book_theme` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.presentation import FAMILIES, SERIES, book_theme, line_kwargs, series

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.figure
    import pandas as pd

    from rbmlib.linear_model import BlockSizes

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
    "draw_overview",
]

#: Display name, colour and marker of every model, as views of the one registry
#: (:data:`rbmlib.presentation.SERIES`); kept for the chapters and tests that read them by model.
MODEL_LABELS: Mapping[str, str] = {k: SERIES[k].label for k in FAMILIES["linear"]}
MODEL_COLOURS: Mapping[str, str] = {k: SERIES[k].colour for k in FAMILIES["linear"]}
MODEL_MARKERS: Mapping[str, str] = {k: SERIES[k].marker for k in FAMILIES["linear"]}

#: Colour of each data set in loss-curve and saliency figures (colours no model uses).
DATA_COLOURS: Mapping[str, str] = {k: SERIES[k].colour for k in FAMILIES["data"]}


def new_figure(
    ncols: int = 1, *, nrows: int = 1, width: float = 3.4, height: float = 2.8
) -> tuple[matplotlib.figure.Figure, np.ndarray]:
    """A figure of ``nrows`` × ``ncols`` panels of the given panel size; returns ``(fig, axes)``.

    ``axes`` is flat: one entry per panel, row by row.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained")
    return fig, axes.ravel()


def draw_loss_paths(
    ax: matplotlib.axes.Axes, paths: pd.DataFrame, *, floor: float = 1e-12, legend: bool = True
) -> matplotlib.axes.Axes:
    """Remaining and forgetting loss against the descent step, one line per data set.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    paths : pandas.DataFrame
        Rows of :func:`rbmlib.descent.unlearning_trajectories` for one ``run``.
    floor : float
        Losses below ``floor`` are round-off (float64 reaches about :math:`10^{-30}` on these
        sizes) and are drawn *at* ``floor``, labelled just under it near the bottom of the log axis:
        a zero loss is a flat line instead of a line wandering through thirty decades of noise.
    legend : bool
        Add the legend of the data sets.

    Notes
    -----
    Each data set has its registry colour, line style and marker
    (:data:`rbmlib.presentation.SERIES` ``"remaining"``, ``"forgetting"``), so the two lines differ
    in greyscale too; a dotted vertical line marks where fine-tuning starts from the original.
    """
    shown = paths.assign(shown=np.maximum(paths["loss"].to_numpy(dtype=float), floor)).sort_values("step")
    for data, rows in shown.groupby("data", sort=False):
        s = series(data)
        ax.plot(
            rows["step"],
            rows["shown"],
            color=s.colour,
            linestyle=s.linestyle,
            marker=s.marker,
            markevery=max(len(rows) // 8, 1),
            markersize=4.5,
            markerfacecolor="white",
            label=s.label,
        )
    tune_steps = paths.loc[paths["stage"] == "fine-tune", "step"]
    if not tune_steps.empty:  # mark where fine-tuning starts from the original model
        start = tune_steps.min()
        ax.axvline(start, color="0.5", linestyle=":", linewidth=1)
        ax.text(
            start,
            0.5,
            " fine-tune on $D_r$ →",
            transform=ax.get_xaxis_transform(),
            fontsize=8.5,
            ha="left",
            va="center",
            color="0.3",
        )
    ax.set_yscale("log")
    # Three decades of room under the floor hold the label, so a line sitting on the floor never
    # runs through it.
    ax.set_ylim(floor / 1e3, float(shown["shown"].max()) * 30)
    ax.text(
        0.99,
        floor / 2,
        f"below {floor:.0e}: round-off",
        transform=ax.get_yaxis_transform(),
        ha="right",
        va="top",
        fontsize=8,
        color="0.35",
    )
    if legend:
        ax.legend(loc="center right")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel(r"loss $\mathcal{L}(w, D)$")
    return ax


def draw_theory_vs_mc(
    ax: matplotlib.axes.Axes,
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
) -> matplotlib.axes.Axes:
    """One model's closed form as a line and its Monte Carlo means as points with 95% intervals.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    model : str
        Key of :data:`rbmlib.presentation.SERIES` (colour, marker and legend entry).
    x_mc, mean, ci95 : ndarray, shape (k,)
        Abscissae, Monte Carlo means and half-widths of their 95% intervals.
    x_theory, theory : ndarray, shape (j,), optional
        The closed form on a (usually finer) grid; omitted where there is none.
    label : str, optional
        Legend entry of the points; defaults to the registry label of ``model``.
    linestyle : str, default "-"
        Style of the theory line.
    marker : str, optional
        Marker of the points; defaults to the registry marker of ``model``.

    Notes
    -----
    Hollow series (the original, the golden model) are drawn with larger, unfilled markers, so a
    model drawn on top at the same value (FT's cross over the original's square) leaves them
    visible.
    """
    s = series(model)
    if (x_theory is None) != (theory is None):
        raise ValueError("give both x_theory and theory, or neither")
    if x_theory is not None and theory is not None:
        ax.plot(x_theory, theory, color=s.colour, linestyle=linestyle, linewidth=1.4, zorder=1)
    marker = s.marker if marker is None else marker
    hollow = s.hollow or marker in "sov^D"
    ax.errorbar(
        x_mc,
        mean,
        yerr=ci95,
        fmt=marker,
        color=s.colour,
        markersize=7.5 if hollow else 5.5,
        markerfacecolor="none" if hollow else s.colour,
        markeredgewidth=1.3,
        capsize=2.5,
        elinewidth=1,
        linestyle="none",
        label=s.label if label is None else label,
        zorder=2 if hollow else 3,
    )
    return ax


def draw_sweep(
    ax: matplotlib.axes.Axes,
    table: pd.DataFrame,
    *,
    x: str,
    metric: str,
    methods: tuple[str, ...] = ("golden", "original", "ft"),
    curves: pd.DataFrame | None = None,
    label: str | None = None,
    linestyle: str = "-",
    marker: str | None = None,
) -> matplotlib.axes.Axes:
    """Monte Carlo points and closed forms of one metric of a sweep, one series per model.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : pandas.DataFrame
        Output of :func:`rbmlib.simulation.sweep` (columns ``x``, ``method``, ``metric``, ``mean``,
        ``ci95``, ``theory``).
    x : str
        Column of ``table`` on the horizontal axis.
    metric : str
        Which metric to draw.
    methods : tuple of str
        Models to draw, in legend order.
    curves : pandas.DataFrame, optional
        The closed forms on a finer grid: column ``x`` and one column per model (a model without a
        column, or with only ``NaN``, gets no line). Without it the ``theory`` column of ``table``
        is drawn through the Monte Carlo abscissae.
    label, linestyle, marker
        Passed to :func:`draw_theory_vs_mc` (``label`` only when one model is drawn).
    """
    if label is not None and len(methods) != 1:
        raise ValueError("a custom label needs exactly one model")
    rows = table[table["metric"] == metric]
    for model in methods:
        t = rows[rows["method"] == model].sort_values(x)
        line_x, line_y = (t[x], t["theory"]) if curves is None else (curves[x], curves.get(model))
        if line_y is None or np.all(np.isnan(np.asarray(line_y, dtype=float))):
            line_x = line_y = None
        draw_theory_vs_mc(
            ax,
            model=model,
            x_mc=t[x],
            mean=t["mean"],
            ci95=t["ci95"],
            x_theory=line_x,
            theory=line_y,
            label=label,
            linestyle=linestyle,
            marker=marker,
        )
    return ax


def draw_overview(ax: matplotlib.axes.Axes, sizes: BlockSizes) -> matplotlib.axes.Axes:
    r"""The book's argument in one picture: the coordinate blocks, the data sets' supports, the three
    models and the two masks, drawn to scale on the coordinates of ``sizes``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw (a wide, short panel; the axes are switched off).
    sizes : BlockSizes
        Block sizes :math:`(d_f, d_o, d_r)`; the widths of the blocks are proportional to them.

    Notes
    -----
    Rows, top to bottom: the blocks :math:`S_f \mid S_o \mid S_r`; the supports of :math:`D_f`
    (:math:`S_f \cup S_o`) and :math:`D_r` (:math:`S_o \cup S_r`); the original
    :math:`w_o = \operatorname{fit}(0, D)`, the golden :math:`w_g = \operatorname{fit}(0, D_r)`
    (zero on :math:`S_f`) and FT, :math:`w_t = w_o` (Proposition 1.2); RBM's mask
    :math:`m_r = \mathbb 1[S_o \cup S_r]` (resets :math:`S_f`) and FBM's, which resets
    :math:`S_f \cup S_o` (Propositions 4.2 and 4.3). Hatched cells are reset weights. The
    picture is drawn from the definitions, not from simulated numbers.
    """
    from matplotlib.patches import Rectangle

    d_f, d_o, d_r = sizes.d_f, sizes.d_o, sizes.d_r
    edges = {"f": (0, d_f), "o": (d_f, d_o), "r": (d_f + d_o, d_r)}
    d = d_f + d_o + d_r
    h = 0.62  # bar height; rows are one unit apart

    def cell(y, blocks, colour, *, text="", hatch=None, face=None, text_colour="white"):
        lo = edges[blocks[0]][0]
        hi = edges[blocks[-1]][0] + edges[blocks[-1]][1]
        ax.add_patch(
            Rectangle(
                (lo, y - h / 2), hi - lo, h, facecolor=face or colour, edgecolor=colour, hatch=hatch, linewidth=1.2
            )
        )
        if text:
            ax.text((lo + hi) / 2, y, text, ha="center", va="center", fontsize=9, color=text_colour)

    rows = [
        (
            "coordinates",
            lambda y: [
                cell(y, b, "0.55", face=shade, text=name, text_colour="black")
                for b, name, shade in (("f", "$S_f$", "0.85"), ("o", "$S_o$", "0.72"), ("r", "$S_r$", "0.85"))
            ],
        ),
        ("$D_f$ uses", lambda y: cell(y, "fo", series("forgetting").colour, text="forgetting inputs")),
        ("$D_r$ uses", lambda y: cell(y, "or", series("remaining").colour, text="remaining inputs")),
        ("original $w_o$", lambda y: cell(y, "for", series("original").colour, text="fit on $D_f \\cup D_r$")),
        (
            "golden $w_g$",
            lambda y: (
                cell(y, "f", series("golden").colour, face="white", text="0", text_colour="black"),
                cell(y, "or", series("golden").colour, text="fit on $D_r$ only"),
            ),
        ),
        ("FT $w_t$", lambda y: cell(y, "for", series("ft").colour, text="$= w_o$: nothing moves")),
        (
            "RBM",
            lambda y: (
                cell(y, "f", series("rbm").colour, face="white", hatch="///"),
                cell(y, "or", series("rbm").colour, text="kept: what $D_r$ uses"),
            ),
        ),
        (
            "FBM",
            lambda y: (
                cell(y, "fo", series("fbm").colour, face="white", hatch="///"),
                cell(y, "r", series("fbm").colour, text="kept"),
            ),
        ),
    ]
    for i, (name, draw) in enumerate(rows):
        y = len(rows) - 1 - i
        draw(y)
        ax.text(-0.02 * d, y, name, ha="right", va="center", fontsize=9)
    for x in (d_f, d_f + d_o):  # block boundaries through every row
        ax.axvline(x, color="0.3", linewidth=0.6, linestyle=":", zorder=0)
    notes = {
        "original $w_o$": "learned $S_o$ from both sets",
        "golden $w_g$": "the target of unlearning",
        "FT $w_t$": "forgets nothing (Ch. 1–3)",
        "RBM": "resets $S_f$ only (Ch. 4)",
        "FBM": "resets $S_f \\cup S_o$, refits (Ch. 4)",
    }
    for i, (name, _) in enumerate(rows):
        if name in notes:
            ax.text(1.02 * d, len(rows) - 1 - i, notes[name], ha="left", va="center", fontsize=8.5, color="0.2")
    ax.set_xlim(-0.3 * d, 1.42 * d)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_axis_off()
    return ax


def draw_saliency(
    ax: matplotlib.axes.Axes, scores: np.ndarray, sizes: BlockSizes, *, data: str, legend: bool = True
) -> matplotlib.axes.Axes:
    """Saliency of one data set against the coordinate index, the shared block shaded.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    scores : ndarray, shape (d,)
        Saliency per coordinate (:func:`rbmlib.masks.saliency`).
    sizes : BlockSizes
        Block sizes, for the shading of :math:`S_o` and the block names on top.
    data : {"remaining", "forgetting"}
        Which data set the scores belong to (colour, marker and legend).
    legend : bool
        Add a legend inside the panel.

    Notes
    -----
    Exact zeros have no place on a log axis; they are drawn as markers on the bottom edge of the
    panel (``clip_on=False``), so the coordinates a data set never touches stay visible.
    """
    import matplotlib.ticker as mticker
    import matplotlib.transforms as mtransforms

    s = series(data)
    ax.axvspan(sizes.d_f - 0.5, sizes.d_f + sizes.d_o - 0.5, color="0.92", zorder=0)
    j = np.arange(scores.size)
    positive = scores > 0
    ax.plot(
        j,
        np.where(positive, scores, np.nan),
        marker=s.marker,
        markersize=2.8,
        linewidth=0.8,
        color=s.colour,
        linestyle=s.linestyle,
        label=f"$h(D_{{{data[0]}}})$",
    )
    edge = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)  # x in data, y in axes
    if not positive.all():  # an empty unclipped line would still claim the origin in the layout
        ax.plot(
            j[~positive],
            np.zeros((~positive).sum()),
            transform=edge,
            marker=s.marker,
            markersize=2.8,
            linestyle="none",
            color=s.colour,
            markerfacecolor="none",
            clip_on=False,
            scalex=False,
            scaley=False,
        )  # axes-fraction y: must not enter the data limits
    ax.set_yscale("log")
    if positive.any():  # whole decades, so a narrow range still gets labelled decade ticks (10^-1, 10^0)
        lo, hi = np.log10(scores[positive].min()), np.log10(scores[positive].max())
        ax.set_ylim(10.0 ** np.floor(lo), 10.0 ** max(np.ceil(hi), np.floor(lo) + 1))
        ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    for name, lo, width in (
        ("$S_f$", 0, sizes.d_f),
        ("$S_o$", sizes.d_f, sizes.d_o),
        ("$S_r$", sizes.d_f + sizes.d_o, sizes.d_r),
    ):
        ax.text(lo + width / 2 - 0.5, 1.0, name, transform=edge, ha="center", va="bottom", fontsize=9)
    ax.set_xlabel(r"coordinate $j$" + ("" if positive.all() else r" (on the axis: $h_j = 0$)"))
    ax.set_ylabel(r"saliency $h_j(D)$")
    if legend:  # a two-panel figure rather calls fig.legend(..., loc="outside lower center") once
        ax.legend(loc="best")
    return ax


def draw_finetune_paths(
    ax: matplotlib.axes.Axes,
    paths: pd.DataFrame,
    *,
    log: bool = True,
    floor: float = 1e-12,
    golden: float | None = None,
    legend: bool = True,
) -> matplotlib.axes.Axes:
    """One loss against the fine-tuning step, one line per model (:func:`rbmlib.descent.finetune_paths`).

    With ``log`` the losses are drawn as ``max(loss, floor)`` on a log axis whose bottom is
    ``floor``, so exact zeros (round-off) lie on the axis. ``golden`` draws the golden model's
    value as the dashed reference every method aims at.
    """
    for model, rows in paths.groupby("method", sort=False):
        loss = rows["loss"].to_numpy(dtype=float)
        ax.plot(
            rows["step"],
            np.maximum(loss, floor) if log else loss,
            **line_kwargs(model, with_marker=False) | {"linestyle": "-"},
        )
    if golden is not None:
        ax.axhline(max(golden, floor) if log else golden, **line_kwargs("golden", with_marker=False), linewidth=1.2)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 2)
    ax.set_xlabel("fine-tuning step on $D_r$")
    if legend:
        ax.legend(loc="center right")
    return ax


def draw_early_stopping(ax: matplotlib.axes.Axes, curve: pd.DataFrame, *, golden: float) -> matplotlib.axes.Axes:
    """FT's forgetting loss against the original's training budget (:func:`rbmlib.descent.early_stopping_curve`).

    The golden model's forgetting loss is drawn as a dashed reference line; the budget axis is
    logarithmic with ``k = 0`` drawn at ``k = 0.5``.
    """
    k = np.maximum(curve["steps"].to_numpy(dtype=float), 0.5)
    # The original first, hollow and larger, so that FT's crosses stay visible where the two meet.
    ax.plot(
        k,
        curve["original_forgetting_loss"],
        **line_kwargs("original") | {"label": "original (early-stopped)"},
        linewidth=1.2,
        markersize=8,
    )
    ax.plot(k, curve["ft_forgetting_loss"], **line_kwargs("ft") | {"label": "FT to convergence"}, zorder=3)
    ax.axhline(golden, **line_kwargs("golden", with_marker=False), linewidth=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("training steps $k$ of the original (0 drawn at 0.5)")
    ax.set_ylabel(r"forgetting loss $\mathcal{L}(w, D_f)$")
    ax.legend()
    return ax


def draw_phase(
    ax: matplotlib.axes.Axes,
    values: pd.DataFrame,
    *,
    label: str,
    vmax: float | None = None,
    title: str | None = None,
) -> matplotlib.axes.Axes:
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
    title : str, optional
        Panel title (which difference the panel shows), so a panel reads on its own.

    Notes
    -----
    Cells are annotated rounded to integers; a value that rounds to zero prints as ``0``, never
    ``-0``.
    """
    import seaborn as sns

    limit = float(np.nanmax(np.abs(values.to_numpy()))) if vmax is None else vmax
    shown = values.sort_index(ascending=False)  # overlap grows upwards
    annot = np.vectorize(lambda v: f"{np.round(v) + 0.0:.0f}")(shown.to_numpy(dtype=float))
    sns.heatmap(
        shown,
        ax=ax,
        cmap="PuOr",
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=annot,
        fmt="",
        annot_kws={"fontsize": 8},
        cbar_kws={"label": label, "shrink": 0.85},
        xticklabels=[f"{c:.2f}" for c in shown.columns],
        yticklabels=[f"{i:.1f}" for i in shown.index],
    )
    if title is not None:
        ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(r"$n_r / (d_o + d_r)$")
    ax.set_ylabel(r"overlap $d_o / (d_f + d_o)$")
    return ax


def draw_ratio_sweep(
    ax: matplotlib.axes.Axes,
    sweep: pd.DataFrame,
    *,
    metric: str,
    methods: tuple[str, ...] = ("rbm", "fbm"),
    references: Mapping[str, float] | None = None,
) -> matplotlib.axes.Axes:
    """One metric against the mask ratio: a line per (model, leak), references as horizontal lines.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`rbmlib.experiments.ratio_sweep`.
    metric : str
        Metric to draw.
    methods : tuple of str
        Masked models to draw (one model per panel reads best: the leaks are then the only
        series and differ by line style and marker fill).
    references : mapping of str to float, optional
        Horizontal reference lines keyed by model (e.g. the golden closed form).
    """
    styles = ["-", "--", ":", "-."]
    fills = ["full", "none", "left", "bottom"]
    rows = sweep[sweep["metric"] == metric]
    for model in methods:
        s = series(model)
        for style, fill, (leak, part) in zip(styles, fills, rows[rows["method"] == model].groupby("leak")):
            ax.errorbar(
                part["ratio"],
                part["mean"],
                yerr=1.96 * part["se"],
                color=s.colour,
                linestyle=style,
                marker=s.marker,
                markersize=5.5,
                capsize=2,
                linewidth=1.4,
                fillstyle=fill,
                label=f"{s.label}, $\\varepsilon$ = {leak:g}",
            )
    for model, value in (references or {}).items():
        ax.axhline(
            value,
            **line_kwargs(model, with_marker=False) | {"label": f"{series(model).label}, closed form"},
            linewidth=1.2,
        )
    ax.set_xlabel("mask ratio (fraction of weights freed)")
    return ax


def _cell_coordinate(values: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Heatmap coordinate of ``values`` on an axis whose cell ``j`` (centre ``j + 0.5``) holds ``centres[j]``.

    The grid axes of Chapter 5 are uniform, so the map is affine (and extends past the outer cells).
    """
    step = (centres[-1] - centres[0]) / (len(centres) - 1)
    return (np.asarray(values, dtype=float) - centres[0]) / step + 0.5


def draw_phase_theory(
    ax: matplotlib.axes.Axes,
    cells: pd.DataFrame,
    fine: pd.DataFrame,
    *,
    tie_below: float = 0.0,
) -> matplotlib.axes.Axes:
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
                ax.text(
                    j + 0.5,
                    i + 0.82,
                    f"({value:.0f})",
                    ha="center",
                    va="center",
                    fontsize=5.5,
                    style="italic",
                    color=colours.get((round(j + 0.5, 3), round(i + 0.5, 3)), "black"),
                )
    live = fine[fine.index > tie_below]
    y = _cell_coordinate(live.index.to_numpy(), rows)
    x = _cell_coordinate(live.columns.to_numpy(), cols)
    z = live.to_numpy(dtype=float)
    if np.nanmin(z) < 0 < np.nanmax(z):
        ax.contour(x, y, z, levels=[0.0], colors="black", linewidths=1.6)
    from matplotlib.patches import Rectangle

    for i in np.flatnonzero(rows <= tie_below).tolist():
        ax.add_patch(Rectangle((0, i), len(cols), 1, fill=False, edgecolor="black", linestyle=":", linewidth=1.2))
    return ax


def draw_sweep_theory(
    ax: matplotlib.axes.Axes,
    points: Mapping[str, list[tuple[float, float]]],
) -> matplotlib.axes.Axes:
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
        ax.plot(
            xs,
            ys,
            linestyle="none",
            marker="*",
            markersize=11,
            color=MODEL_COLOURS[model],
            markeredgecolor="black",
            markeredgewidth=0.6,
            zorder=3,
            label=f"{MODEL_LABELS[model]} (theory, $\\varepsilon \\to 0$)",
        )
    return ax
