"""Gradient descent on least squares, in numpy and in torch: the oracle for the closed forms (Chapter 1).

The closed-form fits of :mod:`rbmlib.linear_model` are *limits* of gradient descent. This module
runs the descent itself, so that the book (and the tests) can check the limits against an
optimiser that knows nothing about pseudo-inverses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from rbmlib.linear_model import LinearInstance

__all__ = [
    "DescentPath",
    "step_size",
    "gradient_descent",
    "torch_sgd",
    "relative_error",
    "unlearning_trajectories",
    "finetune_paths",
    "early_stopping_curve",
]


@dataclass(frozen=True)
class DescentPath:
    """Iterates of a descent run.

    Attributes
    ----------
    iterates : ndarray, shape (steps + 1, d)
        ``iterates[0]`` is the starting point, ``iterates[-1]`` the final weights.
    """

    iterates: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """Last iterate, shape ``(d,)``."""
        return self.iterates[-1]


def step_size(X: np.ndarray) -> float:
    """Safe constant step :math:`\\eta = 1/\\lambda_{\\max}(\\nabla^2 \\mathcal L)` for
    :math:`\\mathcal L = \\frac1n\\|Xw-y\\|^2`.

    Notes
    -----
    The Hessian is :math:`\\frac2n X^\\top X`; any :math:`\\eta < 2/\\lambda_{\\max}` converges, and
    :math:`1/\\lambda_{\\max}` contracts every non-null direction by at least the factor
    :math:`1 - \\lambda_{\\min}^+/\\lambda_{\\max}` per step.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must be a non-empty (n, d) matrix, got shape {X.shape}")
    lam_max = 2.0 / X.shape[0] * np.linalg.norm(X, ord=2) ** 2
    if lam_max <= 0:
        raise ValueError("X is identically zero: the loss has no curvature to descend")
    return 1.0 / lam_max


def _check_problem(w_init: np.ndarray, X: np.ndarray, y: np.ndarray, steps: int) -> None:
    if X.ndim != 2:
        raise ValueError(f"X must be a (n, d) matrix, got shape {X.shape}")
    if w_init.shape != (X.shape[1],) or y.shape != (X.shape[0],):
        raise ValueError(f"shapes do not match: w_init {w_init.shape}, X {X.shape}, y {y.shape}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    for name, array in (("w_init", w_init), ("X", X), ("y", y)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} has non-finite entries")


def gradient_descent(
    w_init: np.ndarray, X: np.ndarray, y: np.ndarray, *, steps: int, lr: float | None = None
) -> DescentPath:
    """Full-batch gradient descent on :math:`\\mathcal L(w) = \\frac1n\\|Xw - y\\|^2`.

    Parameters
    ----------
    w_init : ndarray, shape (d,)
        Starting point.
    X : ndarray, shape (n, d)
        Design.
    y : ndarray, shape (n,)
        Targets.
    steps : int
        Number of updates :math:`w \\leftarrow w - \\eta\\,\\frac2n X^\\top (Xw - y)`.
    lr : float, optional
        Step size :math:`\\eta`; defaults to :func:`step_size`.

    Returns
    -------
    DescentPath
        All ``steps + 1`` iterates.

    Notes
    -----
    Every update lies in the row space of ``X``, so the iterates never leave
    :math:`w_{init} + \\mathrm{row}(X)`: this is the implicit bias that makes the limit the
    interpolator nearest to :math:`w_{init}`.
    """
    w_init, X, y = (np.asarray(a, dtype=float) for a in (w_init, X, y))
    _check_problem(w_init, X, y, steps)
    eta = step_size(X) if lr is None else float(lr)
    if not eta > 0:
        raise ValueError(f"lr must be > 0, got {eta}")
    scale = 2.0 * eta / X.shape[0]
    iterates = np.empty((steps + 1, X.shape[1]))
    iterates[0] = w_init
    for k in range(steps):
        iterates[k + 1] = iterates[k] - scale * (X.T @ (X @ iterates[k] - y))
    return DescentPath(iterates)


def torch_sgd(w_init: np.ndarray, X: np.ndarray, y: np.ndarray, *, steps: int, lr: float | None = None) -> np.ndarray:
    """The same descent run by ``torch.optim.SGD`` on a ``torch.nn.Linear``-free parameter, in float64.

    Full batch, no momentum, no weight decay: the plain optimiser a deep-learning user would reach
    for. Returns the final weights as a numpy array of shape ``(d,)``.
    """
    import torch  # imported here: the linear chapters must not pay torch's import time

    w_init, X, y = (np.asarray(a, dtype=float) for a in (w_init, X, y))
    _check_problem(w_init, X, y, steps)
    eta = step_size(X) if lr is None else float(lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.nn.Parameter(torch.from_numpy(w_init.copy()))
    optimiser = torch.optim.SGD([w], lr=eta)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.mean((Xt @ w - yt) ** 2)
        loss.backward()
        optimiser.step()
    return w.detach().numpy().copy()


def relative_error(w: np.ndarray, w_ref: np.ndarray) -> float:
    """Relative Euclidean error :math:`\\|w - w_{ref}\\| / \\|w_{ref}\\|` (``w_ref`` must be non-zero)."""
    w, w_ref = np.asarray(w, dtype=float), np.asarray(w_ref, dtype=float)
    if w.shape != w_ref.shape:
        raise ValueError(f"shapes differ: w {w.shape}, w_ref {w_ref.shape}")
    norm = np.linalg.norm(w_ref)
    if norm == 0:
        raise ValueError("w_ref is zero: the relative error is undefined")
    return float(np.linalg.norm(w - w_ref) / norm)


def unlearning_trajectories(instance: LinearInstance, *, steps: int) -> pd.DataFrame:
    """Losses along the three gradient-descent runs of Chapter 1, as a tidy table.

    Runs (each ``steps`` updates with the step of :func:`step_size`):

    * ``"original → FT"``: descent from 0 on :math:`D = D_f \\cup D_r` (training), then from its
      end point on :math:`D_r` alone (fine-tuning, steps numbered after the training steps);
    * ``"golden"``: descent from 0 on :math:`D_r` (retraining).

    Returns
    -------
    pandas.DataFrame
        Columns ``run``, ``stage`` (``"train"``/``"fine-tune"``/``"retrain"``), ``step``,
        ``data`` (``"remaining"``/``"forgetting"``) and ``loss``.
    """
    import pandas as pd

    from rbmlib.linear_model import forgetting_loss, remaining_loss

    d = instance.X_f.shape[-1]
    train = gradient_descent(np.zeros(d), instance.X, instance.y, steps=steps)
    tune = gradient_descent(train.final, instance.X_r, instance.y_r, steps=steps)
    retrain = gradient_descent(np.zeros(d), instance.X_r, instance.y_r, steps=steps)
    pieces = [
        ("original → FT", "train", np.arange(steps + 1), train.iterates),
        ("original → FT", "fine-tune", steps + np.arange(steps + 1), tune.iterates),
        ("golden", "retrain", np.arange(steps + 1), retrain.iterates),
    ]
    frames = [
        pd.DataFrame({"run": run, "stage": stage, "step": step, "data": data, "loss": loss_fn(w, instance)})
        for run, stage, step, w in pieces
        for data, loss_fn in (("remaining", remaining_loss), ("forgetting", forgetting_loss))
    ]
    return pd.concat(frames, ignore_index=True)


def finetune_paths(starts: dict[str, np.ndarray], instance: LinearInstance, *, steps: int) -> pd.DataFrame:
    """Losses along gradient descent on :math:`D_r` from several starting points (a finite FT budget).

    Parameters
    ----------
    starts : dict of str to ndarray, shape (d,)
        Named starting weights, e.g. the reset points of RBM and FBM (Chapter 4).
    instance : LinearInstance
        One unbatched instance.
    steps : int
        Fine-tuning steps, each with the step size of :func:`step_size` on :math:`X_r`.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``step``, ``data`` (``"remaining"``/``"forgetting"``), ``loss``.
    """
    import pandas as pd

    from rbmlib.linear_model import forgetting_loss, remaining_loss

    frames = []
    for model, w0 in starts.items():
        path = gradient_descent(w0, instance.X_r, instance.y_r, steps=steps)
        for data, loss_fn in (("remaining", remaining_loss), ("forgetting", forgetting_loss)):
            frames.append(
                pd.DataFrame(
                    {
                        "method": model,
                        "step": np.arange(steps + 1),
                        "data": data,
                        "loss": loss_fn(path.iterates, instance),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def early_stopping_curve(instance: LinearInstance, *, steps: Sequence[int], lr: float | None = None) -> pd.DataFrame:
    """Forgetting loss of FT (to convergence) when the original is trained for only ``k`` steps.

    For each ``k`` in ``steps`` the original is :math:`w_o^{(k)}`, ``k`` gradient-descent steps
    from 0 on :math:`D = D_f \\cup D_r`; fine-tuning runs to convergence,
    :math:`w_t^{(k)} = \\mathrm{fit}(w_o^{(k)}, X_r, y_r) = w_g + (I - P_r)\\,w_o^{(k)}` (Proposition 1.2
    holds for any start). At ``k = 0`` FT *is* the golden model; as ``k`` grows
    :math:`w_o^{(k)} \\to w_o` and FT's forgetting loss falls to 0 (claim C2's limit).

    Parameters
    ----------
    instance : LinearInstance
        One unbatched instance.
    steps : sequence of int
        Training budgets ``k >= 0`` of the original (any order, repeats allowed).
    lr : float, optional
        Step size of the original's training; defaults to :func:`step_size` of :math:`X`.

    Returns
    -------
    pandas.DataFrame
        Columns ``steps``, ``original_forgetting_loss`` (the early-stopped original's own
        forgetting loss) and ``ft_forgetting_loss``; one row per entry of ``steps``.
    """
    import pandas as pd

    from rbmlib.linear_model import forgetting_loss, interpolate

    budget = np.asarray(steps)
    if budget.ndim != 1 or budget.size == 0 or not np.issubdtype(budget.dtype, np.integer) or np.any(budget < 0):
        raise ValueError(f"steps must be a non-empty sequence of integers >= 0, got {list(steps)!r}")
    d = instance.X_f.shape[-1]
    path = gradient_descent(np.zeros(d), instance.X, instance.y, steps=int(budget.max()), lr=lr)
    w_orig = path.iterates[budget]  # (len(steps), d)
    w_ft = np.stack([interpolate(w, instance.X_r, instance.y_r) for w in w_orig])
    return pd.DataFrame(
        {
            "steps": budget,
            "original_forgetting_loss": forgetting_loss(w_orig, instance),
            "ft_forgetting_loss": forgetting_loss(w_ft, instance),
        }
    )
