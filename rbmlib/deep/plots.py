"""Figures of Chapter 6: they draw precomputed tables on a given ``ax`` and return it.

Colours follow the book's mapping (:data:`rbmlib.plotting.MODEL_COLOURS`): Retrain takes the
golden model's colour, SalUn the forgetting-based mask's (FBM), RBM and FT their own; the methods
that exist only on the deep side get further colours of the same colour-blind palette.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.plotting import MODEL_COLOURS

if TYPE_CHECKING:
    import matplotlib.axes
    import pandas as pd

__all__ = ["METHOD_COLOURS", "METHOD_LABELS", "METHOD_MARKERS", "draw_ratio_sweep", "draw_ua_ra"]

#: Display name of every unlearning method.
METHOD_LABELS: Mapping[str, str] = {
    "original": "original",
    "retrain": "Retrain",
    "ft": "FT",
    "ga": "GA",
    "rl": "RL",
    "l1": r"$\ell_1$-sparse",
    "salun": "SalUn",
    "random": "random mask",
    "rbm": "RBM",
    "rbm_grad": "RBM-grad",
    "rbm_layer": "RBM-layer",
    "rbm_reset": "RBM-reset",
}

#: One marker per method, so that figures read without colour.
METHOD_MARKERS: Mapping[str, str] = {
    "original": "X", "retrain": "*", "ft": "s", "ga": "v", "rl": "^", "l1": "<",
    "salun": "o", "random": "p", "rbm": "D", "rbm_grad": "d", "rbm_layer": "P", "rbm_reset": "h",
}

#: One colour per method, shared by every figure of the chapter.
METHOD_COLOURS: Mapping[str, str] = {
    "original": MODEL_COLOURS["original"],
    "retrain": MODEL_COLOURS["golden"],
    "ft": MODEL_COLOURS["ft"],
    "ga": "#d55e00",
    "rl": "#56b4e9",
    "l1": "#ca9161",
    "salun": MODEL_COLOURS["fbm"],
    "random": "#000000",
    "rbm": MODEL_COLOURS["rbm"],
    "rbm_grad": "#fbafe4",
    "rbm_layer": "#ece133",
    "rbm_reset": "#8c564b",
}


def draw_ua_ra(ax: "matplotlib.axes.Axes", summary: "pd.DataFrame", *, scenario: str,
               legend: bool = False) -> "matplotlib.axes.Axes":
    """UA against RA of every method (mean ± std over seeds), with Retrain as cross-hairs.

    Each method has its own marker and a direct text label beside its point, so the figure reads
    without colour (and without the legend).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    summary : pandas.DataFrame
        Output of :func:`rbmlib.deep.results.summarize`.
    scenario : str
        Which scenario's rows to draw.
    legend : bool
        Add a legend of the methods as well.
    """
    rows = summary[summary["scenario"] == scenario]
    ax.errorbar(rows["ua_mean"], rows["ra_mean"], xerr=rows["ua_std"].fillna(0),
                yerr=rows["ra_std"].fillna(0), fmt="none", ecolor="0.7", elinewidth=0.8, zorder=1)
    for r in rows.itertuples(index=False):
        ax.scatter([r.ua_mean], [r.ra_mean], marker=METHOD_MARKERS.get(r.method, "o"), s=36,
                   color=METHOD_COLOURS.get(r.method, "0.3"), edgecolor="black", linewidth=0.4,
                   zorder=3, label=METHOD_LABELS.get(r.method, r.method))
        ax.annotate(METHOD_LABELS.get(r.method, r.method), (r.ua_mean, r.ra_mean), xytext=(4, 3),
                    textcoords="offset points", fontsize=6.5, zorder=4)
    ref = rows[rows["method"] == "retrain"]
    if not ref.empty:
        ax.axvline(float(ref["ua_mean"].iloc[0]), color=METHOD_COLOURS["retrain"], linestyle="--", linewidth=0.8)
        ax.axhline(float(ref["ra_mean"].iloc[0]), color=METHOD_COLOURS["retrain"], linestyle="--", linewidth=0.8)
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=7)
    ax.set_xlabel("UA (%)")
    ax.set_ylabel("RA (%)")
    return ax


def draw_ratio_sweep(ax: "matplotlib.axes.Axes", table: "pd.DataFrame", *, metric: str,
                     reference: float | None = None) -> "matplotlib.axes.Axes":
    """One metric of the masked methods against the mask ratio (mean ± std over seeds, one marker
    per method).

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
        stats = rows.groupby("mask_ratio")[metric].agg(["mean", "std"]).fillna(0.0)
        ax.errorbar(stats.index, stats["mean"], yerr=stats["std"], marker=METHOD_MARKERS.get(method, "o"),
                    markersize=4,
                    capsize=2, linewidth=1.4, color=METHOD_COLOURS[method], label=METHOD_LABELS[method])
    if reference is not None and np.isfinite(reference):
        ax.axhline(reference, color=METHOD_COLOURS["retrain"], linestyle="--", linewidth=0.8,
                   label=METHOD_LABELS["retrain"])
    ax.set_xlabel("mask ratio $r$ (fraction of weights updated)")
    return ax
