"""Figures of the book: one style, one colour per model, functions that draw on a given ``ax``.

Plotting functions never compute results: they take precomputed arrays or tidy tables, draw
on the ``matplotlib`` axes they are given and return those axes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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
    "draw_theory_vs_mc",
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


def new_figure(ncols: int = 1, *, width: float = 3.4, height: float = 2.8) -> tuple["matplotlib.figure.Figure", np.ndarray]:
    """A figure with ``ncols`` panels of the book's default panel size; returns ``(fig, axes)``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False, layout="constrained")
    return fig, axes[0]


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
    """
    colour = MODEL_COLOURS[model]
    if (x_theory is None) != (theory is None):
        raise ValueError("give both x_theory and theory, or neither")
    if x_theory is not None:
        ax.plot(x_theory, theory, color=colour, linestyle=linestyle, linewidth=1.4, zorder=1)
    marker = MODEL_MARKERS[model]
    hollow = marker in "sov^"  # filled markers are drawn hollow so that coinciding points stay visible
    ax.errorbar(
        x_mc, mean, yerr=ci95, fmt=marker, color=colour, markersize=5.5 if hollow else 6,
        markerfacecolor="white" if hollow else colour, capsize=2.5, elinewidth=1, linestyle="none",
        label=MODEL_LABELS[model] if label is None else label, zorder=2,
    )
    return ax
