"""A random-features network between the linear model and the deep one (Chapter 7).

:math:`f(x) = a^\\top \\phi(x)`, :math:`\\phi(x) = \\sigma(Wx)/\\sqrt p` with a fixed random first layer
:math:`W \\in \\mathbb R^{p\\times d_0}` (:math:`W_{ij} \\sim N(0, 1/d_0)`, ReLU :math:`\\sigma`) and only the
last layer :math:`a` trained. In the last layer this is again a linear model, with design
:math:`\\Phi = \\phi(X)` (``(n, p)``), so gradient descent from :math:`a_0` converges to
:math:`a_0 + \\Phi^+(Y - \\Phi a_0)` — for every width, over- or under-parameterised (Chapter 1's
fit, with the pseudo-inverse). Masks now act on *features*: the Fisher saliency of the last layer
on :math:`D_r` is :math:`h_j = \\frac1{n_r}\\sum_i \\phi_j(x_i)^2`, positive for almost every feature,
so it is no longer a support and a ratio has to be chosen.

Targets may have several outputs (``Y (n, c)``): one-vs-rest least squares on one-hot labels is
``c`` independent regressions on the same features, and the Fisher diagonal is the same for all
of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.masks import free_fraction
from rbmlib.offline_data import mnist5k
from rbmlib.regularisation import single_threaded

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RF_METHODS",
    "RFData",
    "random_first_layer",
    "features",
    "pinv_fit",
    "rf_weights",
    "rf_losses",
    "block_rf_data",
    "mnist_rf_data",
    "width_sweep",
    "relative_forgetting",
]

#: Methods of the random-features bridge, in table order.
RF_METHODS: tuple[str, ...] = ("original", "golden", "ft", "rbm", "fbm")


@dataclass(frozen=True)
class RFData:
    """Inputs and targets of one unlearning problem (before the random features).

    Attributes
    ----------
    X_f, X_r, X_test : ndarray, shapes (n_f, d_0), (n_r, d_0), (n_test, d_0)
        Forgetting, remaining and fresh remaining-distribution inputs.
    Y_f, Y_r, Y_test : ndarray, shapes (n_f, c), (n_r, c), (n_test, c)
        Targets (``c = 1`` for a scalar regression).
    """

    X_f: np.ndarray
    X_r: np.ndarray
    X_test: np.ndarray
    Y_f: np.ndarray
    Y_r: np.ndarray
    Y_test: np.ndarray

    @property
    def n(self) -> int:
        """Training samples :math:`n = n_f + n_r`."""
        return self.X_f.shape[0] + self.X_r.shape[0]


def random_first_layer(d_in: int, width: int, *, rng: np.random.Generator) -> np.ndarray:
    """:math:`W` with i.i.d. :math:`N(0, 1/d_0)` entries, shape ``(width, d_in)``."""
    if d_in < 1 or width < 1:
        raise ValueError(f"d_in and width must be >= 1, got d_in={d_in}, width={width}")
    return rng.standard_normal((width, d_in)) / np.sqrt(d_in)


def features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """:math:`\\Phi = \\mathrm{ReLU}(XW^\\top)/\\sqrt p`, shape ``(n, p)``; the :math:`1/\\sqrt p` keeps the kernel
    width-free."""
    return np.maximum(np.asarray(X, dtype=float) @ W.T, 0.0) / np.sqrt(W.shape[0])


def pinv_fit(a_init: np.ndarray, Phi: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Gradient-descent limit of :math:`\\frac1n\\|\\Phi a - Y\\|^2` from ``a_init``:
    :math:`a_0 + \\Phi^+(Y - \\Phi a_0)`.

    Parameters
    ----------
    a_init : ndarray, shape (p, c)
    Phi : ndarray, shape (n, p)
    Y : ndarray, shape (n, c)

    Notes
    -----
    Descent moves only in the row space of :math:`\\Phi` and converges there to the least-squares
    solution nearest the start; :math:`\\Phi^+` is the min-norm least-squares solve (``lstsq``),
    exact interpolation when :math:`p \\ge n` and rows are independent, the unique least-squares
    solution when :math:`p \\le n` and columns are.
    """
    residual = Y - Phi @ a_init
    return a_init + np.linalg.lstsq(Phi, residual, rcond=None)[0]


def rf_weights(
    Phi_f: np.ndarray, Phi_r: np.ndarray, Y_f: np.ndarray, Y_r: np.ndarray, *, ratio: float
) -> dict[str, np.ndarray]:
    """Last-layer weights ``(p, c)`` of every method of :data:`RF_METHODS`.

    ``original`` fits :math:`D` from 0, ``golden`` :math:`D_r` from 0, ``ft`` fine-tunes the original
    on :math:`D_r`; ``ratio`` is the fraction of features **freed** (reset), the field's convention:
    ``rbm`` resets the least retain-salient features (Fisher on :math:`D_r`) and keeps the rest,
    ``fbm`` resets the most forget-salient ones (Fisher on :math:`D_f`); both then fine-tune on
    :math:`D_r` (Chapter 4's reset-then-FT, on features).
    """
    Phi = np.concatenate([Phi_r, Phi_f])
    Y = np.concatenate([Y_r, Y_f])
    zero = np.zeros((Phi.shape[1], Y.shape[1]))
    w_o = pinv_fit(zero, Phi, Y)
    keep_r = ~free_fraction(np.mean(Phi_r**2, axis=0), ratio, free="least")  # RBM frees the least retain-salient
    keep_f = ~free_fraction(np.mean(Phi_f**2, axis=0), ratio, free="most")  # FBM frees the most forget-salient
    return {
        "original": w_o,
        "golden": pinv_fit(zero, Phi_r, Y_r),
        "ft": pinv_fit(w_o, Phi_r, Y_r),
        "rbm": pinv_fit(w_o * keep_r[:, None], Phi_r, Y_r),
        "fbm": pinv_fit(w_o * keep_f[:, None], Phi_r, Y_r),
    }


def _loss(Phi: np.ndarray, a: np.ndarray, Y: np.ndarray) -> float:
    """Per-sample squared error summed over outputs, :math:`\\frac1n\\|\\Phi a - Y\\|_F^2`."""
    return float(np.mean(np.sum((Phi @ a - Y) ** 2, axis=-1)))


def rf_losses(data: RFData, W: np.ndarray, *, ratio: float) -> dict[str, dict[str, float]]:
    """``losses[method][metric]`` for one first layer ``W``: forgetting, remaining and fresh (test) loss, and
    accuracies.

    ``*_accuracy`` is the argmax agreement with the target's argmax (only meaningful for one-hot
    targets, ``c > 1``).
    """
    Phi_f, Phi_r, Phi_t = (features(X, W) for X in (data.X_f, data.X_r, data.X_test))
    weights = rf_weights(Phi_f, Phi_r, data.Y_f, data.Y_r, ratio=ratio)
    out = {}
    for name, a in weights.items():
        row = {
            "forgetting_loss": _loss(Phi_f, a, data.Y_f),
            "remaining_loss": _loss(Phi_r, a, data.Y_r),
            "fresh_remaining_loss": _loss(Phi_t, a, data.Y_test),
        }
        if data.Y_f.shape[1] > 1:
            for key, P, Y in (("forget", Phi_f, data.Y_f), ("test", Phi_t, data.Y_test)):
                row[f"{key}_accuracy"] = float(np.mean(np.argmax(P @ a, -1) == np.argmax(Y, -1)))
        out[name] = row
    return out


def block_rf_data(sizes, n_test: int, *, rng: np.random.Generator) -> RFData:
    """Block-model data (Chapter 1) as random-features inputs; fresh inputs from the remaining distribution.

    ``sizes`` is a :class:`~rbmlib.linear_model.BlockSizes`; labels are the noiseless
    :math:`x^\\top w_*`, so the target is linear in :math:`x` but the network is not.
    """
    from rbmlib.linear_model import sample_instance

    inst = sample_instance(sizes, rng=rng)
    X_test = np.zeros((n_test, sizes.d))
    rs = sizes.retain_support
    X_test[:, rs] = rng.standard_normal((n_test, rs.stop - rs.start))
    return RFData(inst.X_f, inst.X_r, X_test, inst.y_f[:, None], inst.y_r[:, None], (X_test @ inst.w_star)[:, None])


def mnist_rf_data(n_train: int, n_forget: int, n_test: int, *, rng: np.random.Generator) -> RFData:
    """A random-forgetting split of ``mnist5k`` (:func:`rbmlib.offline_data.mnist5k`, offline) with one-vs-rest targets.

    Pixels are scaled to :math:`[0, 1]`; targets are one-hot labels minus :math:`1/10` (centred, so
    that the zero model predicts the class mean). ``n_forget`` of the ``n_train`` training digits,
    chosen at random, form :math:`D_f`; ``n_test`` further digits are the fresh data.
    """
    X, y = mnist5k()  # (5000, 784) in 0..255, sorted by class
    if not 0 < n_forget < n_train or n_train + n_test > len(y):
        raise ValueError(
            f"need 0 < n_forget < n_train and n_train + n_test <= {len(y)}, got {n_forget}, {n_train}, {n_test}"
        )
    order = rng.permutation(len(y))
    X, Y = X[order] / 255.0, np.eye(10)[y[order]] - 0.1
    f, r, t = slice(0, n_forget), slice(n_forget, n_train), slice(n_train, n_train + n_test)
    return RFData(X[f], X[r], X[t], Y[f], Y[r], Y[t])


@single_threaded
def width_sweep(
    data_for: Sequence[RFData] | RFData,
    widths: Sequence[int],
    *,
    ratio: float,
    generators: Sequence[np.random.Generator],
) -> pd.DataFrame:
    """Every method's losses over widths, one trial per generator (a fresh first layer, and data if a list is given).

    Parameters
    ----------
    data_for : RFData or sequence of RFData
        One data set for every trial, or one per trial.
    widths : sequence of int
        Widths :math:`p`.
    ratio : float
        Mask ratio (fraction of features kept).
    generators : sequence of numpy.random.Generator
        One per trial; trial ``i`` draws the first layer of every width from ``generators[i]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``trial``, ``width``, ``method``, ``metric``, ``value``.
    """
    import pandas as pd

    datasets = [data_for] * len(generators) if isinstance(data_for, RFData) else list(data_for)
    if len(datasets) != len(generators):
        raise ValueError(f"{len(datasets)} data sets for {len(generators)} trials")
    records = []
    for trial, (data, g) in enumerate(zip(datasets, generators)):
        for p in widths:
            W = random_first_layer(data.X_r.shape[1], int(p), rng=g)
            for method, metrics in rf_losses(data, W, ratio=ratio).items():
                records += [
                    {"trial": trial, "width": int(p), "method": method, "metric": m, "value": v}
                    for m, v in metrics.items()
                ]
    return pd.DataFrame.from_records(records)


def relative_forgetting(table: pd.DataFrame) -> pd.DataFrame:
    """Each method's forgetting loss divided by the golden model's, per trial and width.

    ``table`` is a :func:`width_sweep` result; returns a frame indexed by ``(trial, width)`` with one
    column per method (1: forgets as much as retraining, 0: forgets nothing).
    """
    f = table[table["metric"] == "forgetting_loss"].pivot_table(
        index=["trial", "width"], columns="method", values="value"
    )
    return f.div(f["golden"], axis=0)
