"""Figures of Chapter 6: they draw precomputed tables on a given ``ax`` and return it.

Names, colours and markers come from the book's one registry (:data:`rbmlib.presentation.SERIES`):
Retrain takes the golden model's colour, SalUn the forgetting-based mask's (FBM), RBM and FT their
own; the methods that exist only on the deep side get further colour-blind-safe colours. Every
method has its own marker, so the figures read without colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.presentation import FAMILIES, SERIES, label, series

if TYPE_CHECKING:
    import matplotlib.axes
    import pandas as pd

__all__ = ["METHOD_COLOURS", "METHOD_LABELS", "METHOD_MARKERS", "draw_ratio_sweep", "draw_ua_ra"]

#: Display name, marker and colour of every unlearning method: views of the one registry.
METHOD_LABELS: Mapping[str, str] = {k: SERIES[k].label for k in FAMILIES["deep"]}
METHOD_MARKERS: Mapping[str, str] = {k: SERIES[k].marker for k in FAMILIES["deep"]}
METHOD_COLOURS: Mapping[str, str] = {k: SERIES[k].colour for k in FAMILIES["deep"]}


def draw_ua_ra(
    ax: matplotlib.axes.Axes, summary: pd.DataFrame, *, scenario: str, legend: bool = False
) -> matplotlib.axes.Axes:
    """UA against RA of every method (mean ± std over seeds), with Retrain as cross-hairs.

    Each method has its own marker and a direct text label beside its point, so the figure reads
    without colour (and without the legend). Labels of points that lie close together are
    pushed apart vertically, in order of RA, so they do not print over each other.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    summary : pandas.DataFrame
        Output of :func:`rbmlib.deep.results.summarise`.
    scenario : str
        Which scenario's rows to draw.
    legend : bool
        Add a legend of the methods as well.
    """
    from matplotlib.lines import Line2D

    rows = summary[summary["scenario"] == scenario]
    ax.errorbar(
        rows["ua_mean"],
        rows["ra_mean"],
        xerr=rows["ua_std"].fillna(0),
        yerr=rows["ra_std"].fillna(0),
        fmt="none",
        ecolor="0.6",
        elinewidth=0.8,
        zorder=1,
    )
    for r in rows.itertuples(index=False):
        s = SERIES.get(r.method)
        marker, colour = (s.marker, s.colour) if s else ("o", "0.3")
        filled = marker in Line2D.filled_markers
        ax.scatter(
            [r.ua_mean],
            [r.ra_mean],
            marker=marker,
            s=46,
            color=colour,
            edgecolor="black" if filled else None,
            linewidth=0.5 if filled else 1.6,
            zorder=3,
            label=label(r.method),
        )
    # Direct labels: offsets in points, spread apart where points crowd (within 6 % of the axes).
    order = rows.sort_values("ra_mean").reset_index(drop=True)
    span_x = float(np.ptp(order["ua_mean"])) or 1.0
    span_y = float(np.ptp(order["ra_mean"])) or 1.0
    placed: list[tuple[float, float, float]] = []
    for r in order.itertuples(index=False):
        dy = 3.0
        for px, py, pdy in placed:
            if abs(r.ua_mean - px) < 0.12 * span_x and abs(r.ra_mean - py) < 0.06 * span_y:
                dy = max(dy, pdy + 9.0)
        placed.append((r.ua_mean, r.ra_mean, dy))
        ax.annotate(
            label(r.method),
            (r.ua_mean, r.ra_mean),
            xytext=(5, dy - 3),
            textcoords="offset points",
            fontsize=8,
            zorder=4,
        )
    ref = rows[rows["method"] == "retrain"]
    if not ref.empty:
        colour = series("retrain").colour
        ax.axvline(float(ref["ua_mean"].iloc[0]), color=colour, linestyle="--", linewidth=0.8)
        ax.axhline(float(ref["ra_mean"].iloc[0]), color=colour, linestyle="--", linewidth=0.8)
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    ax.set_xlabel("UA (%)")
    ax.set_ylabel("RA (%)")
    return ax


def draw_ratio_sweep(
    ax: matplotlib.axes.Axes, table: pd.DataFrame, *, metric: str, reference: float | None = None
) -> matplotlib.axes.Axes:
    """One metric of the masked methods against the mask ratio: mean over seeds with a band of
    ± one standard deviation (drawn only where there are two seeds or more), one marker and line
    style per method.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : pandas.DataFrame
        Tidy rows (:data:`rbmlib.deep.results.COLUMNS`) of the masked methods of one scenario.
    metric : str
        Column to draw (``"ua"``, ``"ra"``, ``"ta"``, ``"mia"`` or ``"avg_gap"``).
    reference : float, optional
        Retrain's value, drawn as a dashed line.
    """
    for method, rows in table.groupby("method", sort=False):
        s = series(method)
        stats = rows.groupby("mask_ratio")[metric].agg(["mean", "std", "count"])
        ax.plot(
            stats.index,
            stats["mean"],
            marker=s.marker,
            markersize=5,
            linewidth=1.4,
            color=s.colour,
            linestyle=s.linestyle,
            label=s.label,
        )
        spread = stats["std"].where(stats["count"] >= 2)
        if spread.notna().any():
            ax.fill_between(
                stats.index, stats["mean"] - spread, stats["mean"] + spread, color=s.colour, alpha=0.15, linewidth=0
            )
    if reference is not None and np.isfinite(reference):
        ax.axhline(
            reference, color=series("retrain").colour, linestyle="--", linewidth=0.8, label=label("retrain"), zorder=0
        )  # behind the methods that reach it
    ax.set_xlabel("mask ratio $r$ (fraction of weights updated)")
    return ax
