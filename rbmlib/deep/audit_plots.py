"""Figures of Chapter 8: ROC curves of the membership audits, on a given ``ax``; they return it.

Colours, markers and labels come from the book's one mapping (:data:`rbmlib.deep.plots.METHOD_COLOURS`,
:data:`~rbmlib.deep.plots.METHOD_MARKERS`, :data:`~rbmlib.deep.plots.METHOD_LABELS` for the deep
methods; :data:`rbmlib.plotting.MODEL_COLOURS` for the linear models). Curves carry a marker every
few points and a direct label, so the figures read without colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.deep.plots import METHOD_COLOURS, METHOD_LABELS, METHOD_MARKERS
from rbmlib.plotting import MODEL_COLOURS, MODEL_LABELS, MODEL_MARKERS

if TYPE_CHECKING:
    import matplotlib.axes

__all__ = ["draw_linear_roc", "draw_roc_curves"]


def _chance(ax: matplotlib.axes.Axes) -> None:
    ax.plot([0, 1], [0, 1], ls=":", color="0.5", lw=1)
    ax.text(0.62, 0.55, "chance", color="0.4", fontsize=7, rotation=38)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)


def draw_roc_curves(
    ax: matplotlib.axes.Axes,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    aucs: Mapping[str, float] | None = None,
) -> matplotlib.axes.Axes:
    """One ROC per deep method: ``curves[method] = (fpr, tpr)``; the label gives its AUC when known."""
    _chance(ax)
    for method, (fpr, tpr) in curves.items():
        every = max(1, len(fpr) // 6)
        label = METHOD_LABELS.get(method, method)
        if aucs is not None and method in aucs:
            label = f"{label} ({aucs[method]:.2f})"
        ax.plot(
            fpr,
            tpr,
            color=METHOD_COLOURS.get(method, "k"),
            marker=METHOD_MARKERS.get(method, "o"),
            markevery=every,
            ms=4,
            lw=1.4,
            label=label,
        )
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return ax


def draw_linear_roc(
    ax: matplotlib.axes.Axes,
    simulated: Mapping[str, tuple[np.ndarray, np.ndarray]],
    theory: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> matplotlib.axes.Axes:
    """Linear-model ROCs: simulated curves (markers) with their closed-form curves (lines) where one exists.

    ``simulated[model]`` and ``theory[model]`` are ``(fpr, tpr)``; models are those of
    :data:`rbmlib.membership.MEMBERSHIP_MODELS`.
    """
    _chance(ax)
    for model, (fpr, tpr) in simulated.items():
        colour = MODEL_COLOURS[model]
        grid = np.linspace(0, 1, 11)
        ax.plot(
            grid,
            np.interp(grid, fpr, tpr),
            ls="none",
            marker=MODEL_MARKERS[model],
            color=colour,
            ms=5,
            label=f"{MODEL_LABELS[model]} (simulated)",
        )
        if model in theory:
            ax.plot(*theory[model], color=colour, lw=1.2)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return ax
