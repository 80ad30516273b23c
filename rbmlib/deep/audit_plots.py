"""Figures of Chapter 8: ROC curves of the membership audits, on a given ``ax``; they return it.

Colours, markers and labels come from the book's one mapping (:data:`rbmlib.deep.plots.METHOD_COLOURS`
and :data:`~rbmlib.deep.plots.METHOD_MARKERS` for the deep methods, :data:`rbmlib.plotting.MODEL_COLOURS`
for the linear models, names by :func:`rbmlib.presentation.label`). Curves carry markers along them
and a label in the legend, so the figures read without colour. Text takes the book theme's
sizes (:func:`rbmlib.presentation.book_theme`: 9-pt legends), never a smaller override.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.deep.plots import METHOD_COLOURS, METHOD_MARKERS
from rbmlib.plotting import MODEL_COLOURS, MODEL_MARKERS
from rbmlib.presentation import label

if TYPE_CHECKING:
    import matplotlib.axes

__all__ = ["curves_coincide", "draw_linear_roc", "draw_roc_curves"]

#: Markers along a curve, as fractions of the axes' diagonal: the step between two markers of one
#: curve, and the shift from one curve to the next, so that curves drawn on top of each other still
#: show every method's markers side by side.
_MARK_STEP, _MARK_SHIFT = 0.18, 0.035

#: Inches between the bottom of the axes and the top of a legend under them: the 9-pt tick labels
#: and the 10-pt x label, with their pads.
_LEGEND_DROP = 0.5


def _chance(ax: matplotlib.axes.Axes) -> None:
    ax.plot([0, 1], [0, 1], ls=":", color="0.5", lw=1)
    # Just below the diagonal, where no ROC above chance runs;
    # rotated with the line as drawn, whatever the panel's aspect.
    ax.text(
        0.86,
        0.76,
        "chance",
        color="0.35",
        fontsize=9,
        rotation=45,
        transform_rotates_text=True,
        rotation_mode="anchor",
        ha="center",
        va="top",
    )
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)


def _legend_below(ax: matplotlib.axes.Axes) -> None:
    """The legend under the panel, below its x label: at the theme's 9 pt, inside the axes it would
    cover the curves that run close to the diagonal (FT's ROC on a random forget set, the golden
    model's). Its top sits a fixed distance under the axes (clear of the tick labels and the x
    label at any panel height); a constrained-layout figure makes room for it."""
    from matplotlib.transforms import ScaledTranslation

    below = ax.transAxes + ScaledTranslation(0.0, -_LEGEND_DROP, ax.figure.dpi_scale_trans)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, frameon=False, borderaxespad=0.0)


def draw_roc_curves(
    ax: matplotlib.axes.Axes,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    aucs: Mapping[str, float] | None = None,
) -> matplotlib.axes.Axes:
    """One ROC per deep method: ``curves[method] = (fpr, tpr)``; the label gives its AUC when known
    (``"SalUn (AUC 0.71)"``).

    Each curve's markers are evenly spaced along it and shifted from the previous curve's, so that
    curves that coincide (every method at TPR 1 when the attack catches them all) still show one
    marker of each method; say so in the caption (:func:`curves_coincide`).
    """
    _chance(ax)
    for i, (method, (fpr, tpr)) in enumerate(curves.items()):
        text = label(method)
        if aucs is not None and method in aucs:
            text = f"{text} (AUC {aucs[method]:.2f})"
        ax.plot(
            fpr,
            tpr,
            color=METHOD_COLOURS.get(method, "k"),
            marker=METHOD_MARKERS.get(method, "o"),
            markevery=(0.02 + i * _MARK_SHIFT, _MARK_STEP),
            ms=5,
            lw=1.4,
            label=text,
        )
    _legend_below(ax)
    return ax


def curves_coincide(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]], *, points: int = 201, tol: float = 1e-9
) -> bool:
    """Whether every ROC of ``curves`` (``(fpr, tpr)``, as :func:`draw_roc_curves` takes) is the same
    curve: their TPRs, read on a common FPR grid of ``points``, differ by at most ``tol``.

    A figure whose curves coincide shows only the one drawn last; its caption must say so. Fewer
    than two curves coincide trivially.
    """
    if len(curves) < 2:
        return True
    grid = np.linspace(0.0, 1.0, points)
    tprs = [_upper_envelope(fpr, tpr, grid) for fpr, tpr in curves.values()]
    return all(np.allclose(t, tprs[0], rtol=0.0, atol=tol) for t in tprs[1:])


def _upper_envelope(fpr: np.ndarray, tpr: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The ROC polyline read at ``grid``: the highest TPR at each FPR, linear in between.

    An ROC rises vertically where several points share an FPR (at FPR 0 above all); its top is what
    the eye sees, and a monotone polyline is fixed by it.
    """
    x, y = np.asarray(fpr, dtype=float), np.asarray(tpr, dtype=float)
    xs, top = np.unique(x, return_inverse=True)
    highest = np.full(len(xs), -np.inf)
    np.maximum.at(highest, top, y)
    return np.interp(grid, xs, highest)


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
            label=f"{label(model)}, simulated",
        )
        if model in theory:
            ax.plot(*theory[model], color=colour, lw=1.2)
    _legend_below(ax)
    return ax
