"""Figures of Chapter 6: they draw precomputed tables on a given ``ax`` and return it.

Names, colours and markers come from the book's one registry (:data:`rbmlib.presentation.SERIES`):
Retrain takes the golden model's colour, SalUn the forgetting-based mask's (FBM), RBM and FT their
own; the methods that exist only on the deep side get further colour-blind-safe colours. Every
method has its own marker, so the figures read without colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.presentation import FAMILIES, SERIES, label, series

if TYPE_CHECKING:
    import matplotlib.axes
    import matplotlib.text
    import matplotlib.transforms
    import pandas as pd

__all__ = ["METHOD_COLOURS", "METHOD_LABELS", "METHOD_MARKERS", "draw_ratio_sweep", "draw_ua_ra", "place_labels"]

#: Display name, marker and colour of every unlearning method: views of the one registry.
METHOD_LABELS: Mapping[str, str] = {k: SERIES[k].label for k in FAMILIES["deep"]}
METHOD_MARKERS: Mapping[str, str] = {k: SERIES[k].marker for k in FAMILIES["deep"]}
METHOD_COLOURS: Mapping[str, str] = {k: SERIES[k].colour for k in FAMILIES["deep"]}


#: Where a direct label may go, in order of preference: ``(dx, dy)`` offset in points from its
#: point, horizontal and vertical alignment. Right of the point first, then left, then diagonals.
_LABEL_SPOTS: tuple[tuple[float, float, str, str], ...] = (
    (6, 0, "left", "center"),
    (-6, 0, "right", "center"),
    (4, 6, "left", "bottom"),
    (-4, 6, "right", "bottom"),
    (4, -6, "left", "top"),
    (-4, -6, "right", "top"),
    (0, 8, "center", "bottom"),
    (0, -8, "center", "top"),
)
#: Half the width of a marker's keep-out box, in points (a marker of ``s=46`` is about 7 pt wide).
_MARKER_HALF = 4.5


def _overlap(a: matplotlib.transforms.Bbox, b: matplotlib.transforms.Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def place_labels(
    ax: matplotlib.axes.Axes, points: np.ndarray, texts: Sequence[str], *, fontsize: float | None = None
) -> list[matplotlib.text.Annotation]:
    """Direct labels beside ``points`` (data coordinates), each where it covers no marker, no label
    placed before it and nothing outside the axes, if such a spot exists (otherwise the spot of
    least overlap).

    Spots are tried in the order of :data:`_LABEL_SPOTS`: right of the point, then left (so a label
    never sits on a neighbour's marker to its right), then diagonally. Sizes are measured on the
    laid-out figure, so call this after the axes' titles and labels are set. Labels get a white,
    slightly transparent background and sit above error bars, which therefore never cross a label.
    """
    from matplotlib.transforms import Bbox

    fig = ax.get_figure(root=True)
    assert fig is not None
    fig.draw_without_rendering()  # the final geometry (constrained layout) before measuring
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    scale = fig.dpi / 72.0
    pixels = ax.transData.transform(np.asarray(points, dtype=float))
    half = _MARKER_HALF * scale
    markers = [Bbox.from_extents(x - half, y - half, x + half, y + half) for x, y in pixels]
    frame = ax.get_window_extent(renderer)
    taken: list[matplotlib.transforms.Bbox] = []
    out = []
    for (x, y), text in zip(np.asarray(points, dtype=float), texts):
        best: tuple[float, matplotlib.text.Annotation, matplotlib.transforms.Bbox] | None = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            ann = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                zorder=4,
                bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
            box = ann.get_window_extent(renderer).padded(1.5 * scale)
            inside = Bbox.intersection(box, frame)
            outside = box.width * box.height - (inside.width * inside.height if inside is not None else 0.0)
            cost = sum(_overlap(box, m) for m in markers) + sum(_overlap(box, t) for t in taken) + outside
            cost = cost if cost > 0.5 else 0.0  # under a square pixel: round-off at a touching edge
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box)
            else:
                ann.remove()
            if cost == 0:
                break
        assert best is not None
        taken.append(best[2])
        out.append(best[1])
    return out


def draw_ua_ra(
    ax: matplotlib.axes.Axes, summary: pd.DataFrame, *, scenario: str, legend: bool = False
) -> matplotlib.axes.Axes:
    """UA against RA of every method (mean ± std over seeds), with Retrain as cross-hairs.

    Each method has its own marker and a direct text label beside its point, so the figure reads
    without colour (and without the legend). Labels are placed last (:func:`place_labels`): where
    they cover no marker and no other label, on a white background above the error bars. Set the
    axes' title before calling this, since the labels are placed on the laid-out figure.

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
    ref = rows[rows["method"] == "retrain"]
    if not ref.empty:
        colour = series("retrain").colour
        ax.axvline(float(ref["ua_mean"].iloc[0]), color=colour, linestyle="--", linewidth=0.8, zorder=0.5)
        ax.axhline(float(ref["ra_mean"].iloc[0]), color=colour, linestyle="--", linewidth=0.8, zorder=0.5)
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_xlabel("UA (%)")
    ax.set_ylabel("RA (%)")
    order = rows.sort_values("ra_mean")
    place_labels(ax, order[["ua_mean", "ra_mean"]].to_numpy(float), [label(m) for m in order["method"]])
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
        Retrain's value, drawn as a dashed line on top of the methods' lines (a method that
        reaches Retrain runs along it, and the reference must stay visible there).
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
            reference,
            color=series("retrain").colour,
            linestyle=(0, (3, 2)),
            linewidth=1.3,
            label=label("retrain"),
            zorder=2.5,
        )  # above the lines (zorder 2) that run along it, so it stays visible there
    ax.set_xlabel("mask ratio $r$ (fraction of weights updated)")
    return ax
