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

__all__ = ["MODEL_LABELS", "MODEL_COLOURS", "DATA_COLOURS", "book_theme", "new_figure", "draw_loss_paths"]

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
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel(r"loss $\mathcal{L}(w, D)$")
    return ax
