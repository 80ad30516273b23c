"""Weight decay and finite budgets: gradient descent on least squares in closed form, from any start (Chapter 7).

The linear chapters take gradient descent to convergence with no explicit regularisation. This
module drops both assumptions. The loss is the book's mean loss
:math:`\\mathcal L(w; D) = \\frac1n\\|Xw - y\\|^2`, and weight decay follows PyTorch's convention:
``weight_decay=λ`` adds :math:`\\lambda w` to the gradient of the mean loss, so the update is

.. math::

    w_{k+1} = w_k - \\eta\\,(\\nabla\\mathcal L(w_k) + \\lambda w_k)
            = (I - \\eta H_\\lambda)\\,w_k + \\eta b,
    \\qquad H_\\lambda = A + \\lambda I,\\; A = \\tfrac2n X^\\top X,\\; b = \\tfrac2n X^\\top y,

the descent of :math:`J_\\lambda(w) = \\mathcal L(w) + \\frac\\lambda2\\|w\\|^2`. With the eigen-pairs
:math:`(a_j, v_j)` of :math:`A` (:math:`a_j > 0` on the row space of :math:`X`) and
:math:`w_\\lambda = \\arg\\min J_\\lambda` (the min-norm interpolator when :math:`\\lambda = 0`),

.. math::

    w_k = w_\\lambda + \\sum_j (1 - \\eta(a_j + \\lambda))^k\\, v_j v_j^\\top (w_0 - w_\\lambda)
          + (1 - \\eta\\lambda)^k\\,(I - P)(w_0 - w_\\lambda),

where :math:`P` projects on the row space. Everything below evaluates this formula; the iterative
descent (:func:`iterate_weight_decay`) is kept as its oracle.

Internally a problem is written in *whitened* form :math:`\\|Zw - r\\|^2` (:math:`Z = X/\\sqrt n`,
:math:`r = y/\\sqrt n` for a mean loss), so that the masked objective of Chapter 4, a sum of two
mean losses, goes through the same code.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from rbmlib import validators
from rbmlib.simulation import single_threaded_blas
from rbmlib.validators import finite_nonnegative

__all__ = [
    "SALUN_FT_RECIPE",
    "single_threaded",
    "check_ridge",
    "check_steps",
    "check_lr",
    "curvature_max",
    "default_lr",
    "ridge_fit",
    "ridge_finetune",
    "Spectrum",
    "spectrum",
    "descend",
    "iterate_weight_decay",
    "null_space_decay",
    "heavy_ball_null_decay",
    "steps_for_decay",
    "steps_to_fraction",
    "budget_grid",
    "budget_plane",
    "simulate_budget_plane",
    "early_stopping_curve",
    "steps_per_epoch",
    "common_lr",
    "finetune_forgetting",
    "null_fraction",
    "budget_planes",
    "early_stopping_curves",
    "finetune_null_fractions",
]

#: SalUn's fine-tuning recipe for CIFAR-10 (see ``unlearning-reference.md``): 10 epochs, lr 0.01,
#: batch 256, SGD with momentum 0.9 and weight decay 5e-4, on the 45,000 remaining images of a 10%
#: random forgetting split.
SALUN_FT_RECIPE: dict[str, float] = {
    "lr": 0.01,
    "weight_decay": 5e-4,
    "momentum": 0.9,
    "epochs": 10,
    "batch": 256,
    "n_retain": 45_000,
}


def single_threaded(fn):
    """Run ``fn`` with one BLAS thread (:func:`rbmlib.simulation.single_threaded_blas`, the one way
    the linear side limits BLAS): the matrices here are small, and threaded BLAS on many small
    products is slower, much slower on a busy machine."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_threaded_blas():
            return fn(*args, **kwargs)

    return wrapper


# Singular values below this fraction of the largest are treated as zero (round-off, not signal).
_RANK_TOL = 1e-7


def check_ridge(lam: float) -> float:
    """Validate a weight-decay strength: finite and :math:`\\ge 0`."""
    return finite_nonnegative(lam, "ridge (weight decay) lambda")


def check_steps(steps: object) -> int:
    """Validate a step budget: a non-negative integer (an integer-valued string is accepted)."""
    if isinstance(steps, bool):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if isinstance(steps, str):
        text = steps.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        steps = int(text)
    if not isinstance(steps, Integral):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps}")
    return int(steps)


def curvature_max(X: np.ndarray) -> float:
    """Largest eigenvalue of :math:`A = \\frac2n X^\\top X` (the Hessian of the mean loss), over a batch.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
    """
    X = np.asarray(X, dtype=float)
    s = np.linalg.norm(X, ord=2, axis=(-2, -1)) if X.ndim > 2 else np.linalg.norm(X, ord=2)
    return float(np.max(2.0 / X.shape[-2] * np.asarray(s) ** 2))


def check_lr(lr: float, a_max: float, lam: float, *, hessian: str = "(2/n) X^T X") -> float:
    """Validate a step size against the stable range :math:`0 < \\eta < 2/(a_{\\max} + \\lambda)`.

    Parameters
    ----------
    lr : float
        :math:`\\eta`.
    a_max : float
        :math:`\\lambda_{\\max}(\\frac2n X^\\top X)` of the design (:func:`curvature_max`).
    lam : float
        Weight decay; :math:`\\lambda_{\\max}(H_\\lambda) = a_{\\max} + \\lambda`.
    hessian : str
        The data part of the Hessian in words, for the error message.

    Notes
    -----
    Every mode of :math:`I - \\eta H_\\lambda` has factor :math:`1 - \\eta(a_j + \\lambda)`; all lie in
    :math:`(-1, 1)` iff :math:`0 < \\eta < 2/\\lambda_{\\max}(H_\\lambda)`.
    """
    lr = float(lr)
    bound = 2.0 / (a_max + lam)
    if not (math.isfinite(lr) and 0 < lr < bound):
        raise ValueError(
            f"lr = {lr} is outside the stable range 0 < lr < 2/lambda_max(H) = {bound:.6g}, "
            f"H = {hessian} + lambda I with lambda_max = {a_max + lam:.6g}"
        )
    return lr


def default_lr(a_max: float, lam: float) -> float:
    """:math:`\\eta = 1/\\lambda_{\\max}(H_\\lambda)`, the default step (as :func:`rbmlib.descent.step_size`)."""
    return 1.0 / (a_max + lam)


def _dual_solve(Z: np.ndarray, r: np.ndarray, lam: float) -> np.ndarray:
    """:math:`\\arg\\min \\|Zw - r\\|^2 + \\frac\\lambda2\\|w\\|^2 = Z^\\top (ZZ^\\top + \\frac\\lambda2 I)^{-1} r`,
    batched.

    With :math:`\\lambda = 0` the pseudo-inverse (min-norm) solution :math:`Z^+ r`.
    """
    gram = Z @ np.swapaxes(Z, -1, -2)
    if lam > 0:
        gram = gram + 0.5 * lam * np.eye(gram.shape[-1])
        coef = np.linalg.solve(gram, r[..., None])[..., 0]
    else:
        coef = np.einsum("...nk,...k->...n", np.linalg.pinv(gram, hermitian=True), r)
    return np.einsum("...nd,...n->...d", Z, coef)


def ridge_fit(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The weight-decay limit from any start:
    :math:`w_\\lambda = \\arg\\min \\frac1n\\|Xw-y\\|^2 + \\frac\\lambda2\\|w\\|^2`.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
    y : ndarray, shape (..., n)
    lam : float
        :math:`\\lambda \\ge 0` (PyTorch's ``weight_decay``).

    Returns
    -------
    ndarray, shape (..., d)
        :math:`X^\\top (XX^\\top + \\frac{n\\lambda}2 I)^{-1} y`; at :math:`\\lambda = 0` the min-norm
        solution :math:`X^+ y` (the limit from 0 only).
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    lam = check_ridge(lam)
    n = X.shape[-2]
    return _dual_solve(X / math.sqrt(n), y / math.sqrt(n), lam)


def _newton_from(w_init: np.ndarray, Z: np.ndarray, r: np.ndarray, lam: float) -> np.ndarray:
    """The limit of weight-decay GD on :math:`\\|Zw - r\\|^2` from ``w_init``: one exact Newton step.

    :math:`J` is quadratic, so :math:`w_\\infty = w_0 - H^{-1}\\nabla J(w_0)` with
    :math:`H = 2Z^\\top Z + \\lambda I` (Woodbury:
    :math:`H^{-1} = \\frac1\\lambda[I - Z^\\top(ZZ^\\top + \\frac\\lambda2 I)^{-1}Z]`). At
    :math:`\\lambda = 0` the step is restricted to the row space, where descent moves:
    :math:`w_0 + Z^+(r - Zw_0)`.
    """
    residual = r - np.einsum("...nd,...d->...n", Z, w_init)
    if lam == 0:
        return w_init + _dual_solve(Z, residual, 0.0)
    grad = -2.0 * np.einsum("...nd,...n->...d", Z, residual) + lam * w_init
    Zg = np.einsum("...nd,...d->...n", Z, grad)
    return w_init - (grad - _dual_solve(Z, Zg, lam)) / lam


def ridge_finetune(w_init: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Fine-tuning with weight decay run to convergence from ``w_init`` (Chapter 7, Proposition 7.1).

    Computed from the start (one exact Newton step of :math:`J_\\lambda` from ``w_init``), not by
    calling :func:`ridge_fit`: that the result equals :func:`ridge_fit` for every start when
    :math:`\\lambda > 0` is the proposition, and the book checks it per draw.

    Parameters
    ----------
    w_init : ndarray, shape (..., d)
    X : ndarray, shape (..., n, d)
    y : ndarray, shape (..., n)
    lam : float

    Returns
    -------
    ndarray, shape (..., d)
        At :math:`\\lambda = 0`, Chapter 1's :math:`\\mathrm{fit}(w_{init}, X, y)`.
    """
    w_init, X, y = (np.asarray(a, dtype=float) for a in (w_init, X, y))
    lam = check_ridge(lam)
    n = X.shape[-2]
    return _newton_from(w_init, X / math.sqrt(n), y / math.sqrt(n), lam)


@dataclass(frozen=True)
class Spectrum:
    """Eigen-decomposition of a least-squares problem :math:`\\|Zw - r\\|^2` on its row space.

    Attributes
    ----------
    V : ndarray, shape (d, q)
        Orthonormal eigenvectors of :math:`A = 2Z^\\top Z` with non-zero eigenvalue (:math:`q` = rank).
    a : ndarray, shape (q,)
        Those eigenvalues :math:`a_j > 0`.
    b : ndarray, shape (q,)
        :math:`V^\\top b` with :math:`b = 2Z^\\top r`.
    """

    V: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @property
    def a_max(self) -> float:
        """:math:`\\lambda_{\\max}(A)`."""
        return float(self.a.max()) if self.a.size else 0.0

    def minimiser(self, lam: float) -> np.ndarray:
        """:math:`w_\\lambda = V\\,\\mathrm{diag}(1/(a_j + \\lambda))\\,V^\\top b`, shape ``(d,)`` (min norm at 0)."""
        return self.V @ (self.b / (self.a + lam))


def spectrum(X: np.ndarray, y: np.ndarray, *, whitened: bool = False) -> Spectrum:
    """The :class:`Spectrum` of the mean loss :math:`\\frac1n\\|Xw - y\\|^2` (or of :math:`\\|Xw-y\\|^2` if
    ``whitened``).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != X.shape[:1]:
        raise ValueError(f"X must be (n, d) and y (n,): got X {X.shape}, y {y.shape}")
    scale = 1.0 if whitened else 1.0 / math.sqrt(X.shape[0])
    Z, r = X * scale, y * scale
    # Eigen-decomposition of the smaller Gram matrix (n x n or d x d) instead of an SVD of Z: a
    # few times faster, and exact enough here (the designs are far from singular; near-null
    # directions are dropped by the tolerance, which is on s^2).
    if Z.shape[0] <= Z.shape[1]:
        s2, U = np.linalg.eigh(Z @ Z.T)
        keep = (s2 > _RANK_TOL**2 * s2.max(initial=0.0)) & (s2 > 0)
        U, s = U[:, keep], np.sqrt(s2[keep])
        Vt = (Z.T @ U / s).T
    else:
        s2, V = np.linalg.eigh(Z.T @ Z)
        keep = (s2 > _RANK_TOL**2 * s2.max(initial=0.0)) & (s2 > 0)
        V, s = V[:, keep], np.sqrt(s2[keep])
        U, Vt = Z @ V / s, V.T
    return Spectrum(V=Vt.T, a=2.0 * s**2, b=2.0 * s * (U.T @ r))


def descend(spec: Spectrum, w_init: np.ndarray, steps, *, lam: float, lr: float) -> np.ndarray:
    """Gradient descent with weight decay after ``steps`` updates, in closed form.

    Parameters
    ----------
    spec : Spectrum
        The problem (:func:`spectrum`).
    w_init : ndarray, shape (m, d) or (d,)
        One or several starting points.
    steps : int, array of int, or None
        Step counts :math:`k` (``None``: the limit :math:`k \\to \\infty`).
    lam, lr : float
        :math:`\\lambda \\ge 0` and a step size in the stable range (:func:`check_lr`).

    Returns
    -------
    ndarray, shape (m, K, d) (or (K, d) for one start; the K axis is dropped for a scalar ``steps``)
        :math:`w_k = w_\\lambda + V\\,\\mathrm{diag}(\\rho_j^k)\\,V^\\top\\delta + q^k (I - VV^\\top)\\delta`
        with :math:`\\rho_j = 1 - \\eta(a_j + \\lambda)`, :math:`q = 1 - \\eta\\lambda`,
        :math:`\\delta = w_0 - w_\\lambda` (Chapter 7, Proposition 7.2).
    """
    lam = check_ridge(lam)
    w0 = np.asarray(w_init, dtype=float)
    single = w0.ndim == 1
    w0 = np.atleast_2d(w0)
    scalar = steps is None or np.ndim(steps) == 0
    ks = np.atleast_1d(np.asarray([-1] if steps is None else steps))
    w_lam = spec.minimiser(lam)
    delta = w0 - w_lam  # (m, d)
    c = delta @ spec.V  # (m, q): row-space coordinates
    null = delta - c @ spec.V.T  # (m, d)
    rho, q = 1.0 - lr * (spec.a + lam), 1.0 - lr * lam
    if steps is None:
        row_f, null_f = np.zeros((1, spec.a.size)), np.array([1.0 if lam == 0 else 0.0])
    else:
        ks = ks.astype(float)
        row_f, null_f = rho[None, :] ** ks[:, None], q**ks  # (K, q), (K,)
    out = w_lam + (c[:, None, :] * row_f[None]) @ spec.V.T + null_f[None, :, None] * null[:, None, :]  # (m, K, d)
    if scalar:
        out = out[:, 0]
    return out[0] if single else out


def iterate_weight_decay(
    w_init: np.ndarray, X: np.ndarray, y: np.ndarray, *, lam: float, lr: float, record, whitened: bool = False
) -> np.ndarray:
    """The oracle: iterate :math:`w \\leftarrow w - \\eta(\\frac2n X^\\top(Xw - y) + \\lambda w)` and record some
    iterates.

    Parameters
    ----------
    w_init : ndarray, shape (m, d) or (d,)
        Starting points, all iterated together.
    X, y : ndarray, shapes (n, d), (n,)
    lam, lr : float
    record : sequence of int
        Steps at which to keep the iterate (sorted or not; each ``>= 0``).
    whitened : bool
        Use :math:`\\|Xw - y\\|^2` instead of the mean loss.

    Returns
    -------
    ndarray, shape (m, len(record), d) (or (len(record), d) for one start)
    """
    lam = check_ridge(lam)
    W = np.atleast_2d(np.asarray(w_init, dtype=float)).copy()
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    record = [check_steps(int(k)) for k in np.atleast_1d(record)]
    scale = 2.0 * lr * (1.0 if whitened else 1.0 / X.shape[0])
    out = np.empty((W.shape[0], len(record), W.shape[1]))
    wanted: dict[int, list[int]] = {}
    for i, k in enumerate(record):
        wanted.setdefault(k, []).append(i)
    for k in range(max(record) + 1):
        for i in wanted.get(k, ()):
            out[:, i] = W
        if k < max(record):
            W = (1.0 - lr * lam) * W - scale * ((W @ X.T - y) @ X)
    return out[0] if np.ndim(w_init) == 1 else out


def null_space_decay(lr: float, lam: float, steps) -> np.ndarray:
    """Fraction :math:`(1 - \\eta\\lambda)^k` of the start's component outside the row space left after ``k`` steps."""
    return (1.0 - float(lr) * check_ridge(lam)) ** np.asarray(steps, dtype=float)


def heavy_ball_null_decay(lr: float, lam: float, momentum: float, steps: int) -> float:
    """The same fraction under PyTorch's SGD with momentum :math:`\\beta` (``dampening=0``), exactly.

    Outside the row space the gradient is :math:`\\lambda w`, so ``torch.optim.SGD`` runs
    :math:`u_k = \\beta u_{k-1} + \\lambda w_k`, :math:`w_{k+1} = w_k - \\eta u_k` with
    :math:`u_{-1} = 0`: a linear recursion on :math:`(w_k, u_{k-1})`, iterated here as a
    :math:`2\\times 2` matrix power. For small :math:`\\eta\\lambda` the factor per step is about
    :math:`1 - \\eta\\lambda/(1-\\beta)`.
    """
    lam, steps = check_ridge(lam), check_steps(steps)
    beta = float(momentum)
    if not 0 <= beta < 1:
        raise ValueError(f"momentum must be in [0, 1), got {beta}")
    # (w_{k+1}, u_k) = M (w_k, u_{k-1}) with u_k = beta u_{k-1} + lam w_k.
    M = np.array([[1.0 - lr * lam, -lr * beta], [lam, beta]])
    return float((np.linalg.matrix_power(M, steps) @ np.array([1.0, 0.0]))[0])


def steps_for_decay(lr: float, lam: float, fraction: float) -> int:
    """Smallest :math:`k` with :math:`(1 - \\eta\\lambda)^k \\le` ``fraction``:
    :math:`\\lceil \\log f / \\log(1-\\eta\\lambda)\\rceil`."""
    lam, fraction = check_ridge(lam), float(fraction)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    q = 1.0 - lr * lam
    if not 0 <= q < 1:
        raise ValueError(f"need 0 < lr * lambda <= 1 for a decay, got lr * lambda = {lr * lam}")
    return 0 if q == 0 else math.ceil(math.log(fraction) / math.log(q) - 1e-12)


@single_threaded
def steps_to_fraction(
    w_init: np.ndarray,
    X_r: np.ndarray,
    y_r: np.ndarray,
    X_f: np.ndarray,
    y_f: np.ndarray,
    *,
    lam: float,
    lr: float,
    fraction: float,
    max_steps: int = 10**9,
) -> int:
    """Fine-tuning steps until the forgetting loss reaches ``fraction`` of its limit (the regularised golden model's).

    Target: :math:`\\mathcal L(w_k; D_f) \\ge f\\,\\mathcal L(w_\\lambda; D_f)` with
    :math:`w_\\lambda` = :func:`ridge_fit` of :math:`D_r`. The closed form :func:`descend` is
    evaluated on a doubling bracket, then bisected: the result is the exact first crossing when the
    loss rises monotonically along the path (as it does from an interpolating original), a
    crossing otherwise. Returns ``max_steps + 1`` if the target is not reached by ``max_steps``.
    """
    validators.fraction(fraction, "fraction")
    spec = spectrum(X_r, y_r)
    X_f, y_f = np.asarray(X_f, dtype=float), np.asarray(y_f, dtype=float)

    def loss(k):
        w = descend(spec, w_init, k, lam=lam, lr=lr)
        return float(np.mean((X_f @ w - y_f) ** 2))

    target = fraction * loss(None)
    if loss(0) >= target:
        return 0
    hi = 1
    while loss(hi) < target:
        if hi > max_steps:
            return max_steps + 1
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if loss(mid) < target else (lo, mid)
    return hi


def budget_grid(points: int, k_max: int) -> np.ndarray:
    """``points`` distinct step budgets from 0 to ``k_max``, log-spaced after 0 (the axes of the budget plane)."""
    if points < 2 or k_max < points:
        raise ValueError(f"need 2 <= points <= k_max, got points={points}, k_max={k_max}")
    if points == 2:
        return np.array([0, k_max])
    m = points - 1
    while True:  # rounding merges small budgets: ask for more points until points - 1 distinct ones remain
        ks = np.unique(np.round(np.geomspace(1, k_max, m)).astype(int))
        if len(ks) >= points - 1:
            return np.concatenate([[0], ks[np.linspace(0, len(ks) - 1, points - 1).round().astype(int)]])
        m += 1


@single_threaded
def budget_plane(
    X: np.ndarray,
    y: np.ndarray,
    X_r: np.ndarray,
    y_r: np.ndarray,
    X_f: np.ndarray,
    y_f: np.ndarray,
    k_o,
    k_t,
    *,
    lr: float,
    lam: float = 0.0,
) -> np.ndarray:
    """Forgetting loss over the plane of budgets: original trained ``k_o`` steps from 0 on :math:`D`, then FT
    ``k_t`` steps on :math:`D_r`.

    Parameters
    ----------
    X, y : the full data set; X_r, y_r : remaining; X_f, y_f : forgetting
    k_o, k_t : arrays of int
        Budgets (``None`` in ``k_t`` is not allowed here; see :func:`early_stopping_curve`).
    lr, lam : float
        One step size and weight decay for both stages.

    Returns
    -------
    ndarray, shape (len(k_o), len(k_t))
        :math:`\\mathcal L(w(k_o, k_t); D_f)` with
        :math:`w(k_o, \\cdot) = ` :func:`descend` on :math:`D_r` from :func:`descend` on :math:`D`
        from 0 (Chapter 7, Proposition 7.3).
    """
    X_f, y_f = np.asarray(X_f, dtype=float), np.asarray(y_f, dtype=float)
    w_o = descend(spectrum(X, y), np.zeros(X.shape[1]), np.asarray(k_o), lam=lam, lr=lr)  # (K_o, d)
    # FT's iterates are never formed: the forgetting residual is evaluated in the eigenbasis of D_r,
    # e(k_o, k_t) = e_lam + (X_f V)(rho^k_t * c(k_o)) + q^k_t X_f (I - VV^T) delta(k_o).
    spec = spectrum(X_r, y_r)
    delta = w_o - spec.minimiser(lam)  # (K_o, d)
    c = delta @ spec.V  # (K_o, q)
    null_res = (delta - c @ spec.V.T) @ X_f.T  # (K_o, n_f)
    kt = np.asarray(k_t, dtype=float)
    rho, q = (1.0 - lr * (spec.a + lam))[None, :] ** kt[:, None], (1.0 - lr * lam) ** kt  # (K_t, q), (K_t,)
    K_o, K_t = c.shape[0], kt.size
    row = ((c[:, None, :] * rho[None]).reshape(K_o * K_t, -1) @ (X_f @ spec.V).T).reshape(K_o, K_t, -1)  # one GEMM
    e = row + (X_f @ spec.minimiser(lam) - y_f) + q[None, :, None] * null_res[:, None, :]
    return np.einsum("abn,abn->ab", e, e) / e.shape[-1]


@single_threaded
def simulate_budget_plane(
    X: np.ndarray,
    y: np.ndarray,
    X_r: np.ndarray,
    y_r: np.ndarray,
    X_f: np.ndarray,
    y_f: np.ndarray,
    k_o,
    k_t,
    *,
    lr: float,
    lam: float = 0.0,
) -> np.ndarray:
    """The same plane by iterating gradient descent (:func:`iterate_weight_decay`): the oracle and the benchmark's
    baseline."""
    w_o = iterate_weight_decay(np.zeros(X.shape[1]), X, y, lam=lam, lr=lr, record=k_o)  # (K_o, d)
    W = iterate_weight_decay(w_o, X_r, y_r, lam=lam, lr=lr, record=k_t)  # (K_o, K_t, d)
    return np.mean((W @ np.asarray(X_f, dtype=float).T - y_f) ** 2, axis=-1)


@single_threaded
def early_stopping_curve(
    X: np.ndarray,
    y: np.ndarray,
    X_r: np.ndarray,
    y_r: np.ndarray,
    X_f: np.ndarray,
    y_f: np.ndarray,
    k_o,
    *,
    lr: float,
) -> np.ndarray:
    """Forgetting loss of FT *run to convergence* (no weight decay) from the original stopped after ``k_o`` steps.

    Returns
    -------
    ndarray, shape (len(k_o),)
        :math:`\\mathcal L(\\mathrm{fit}(w_o(k_o), X_r, y_r); D_f)`; at :math:`k_o \\to \\infty` it is
        0 (Chapter 1), at :math:`k_o = 0` it is the golden model's.
    """
    w_o = descend(spectrum(X, y), np.zeros(X.shape[1]), np.asarray(k_o), lam=0.0, lr=lr)
    W = descend(spectrum(X_r, y_r), w_o, None, lam=0.0, lr=lr)  # (K_o, d)
    return np.mean((W @ np.asarray(X_f, dtype=float).T - y_f) ** 2, axis=-1)


def steps_per_epoch(n: int, batch: int) -> int:
    """Optimiser steps in one epoch, :math:`\\lceil n / B\\rceil` (PyTorch ``DataLoader``, ``drop_last=False``)."""
    if n < 1 or batch < 1:
        raise ValueError(f"n and batch must be >= 1, got n={n}, batch={batch}")
    return -(-int(n) // int(batch))


def _unbatch(batch, i: int) -> tuple[np.ndarray, ...]:
    return batch.X[i], batch.y[i], batch.X_r[i], batch.y_r[i], batch.X_f[i], batch.y_f[i]


def common_lr(batch, lam: float = 0.0) -> float:
    """One step size for every draw and both stages: :math:`1/\\max(\\lambda_{\\max}(H_\\lambda))` over :math:`X`
    and :math:`X_r` of all draws."""
    return default_lr(max(curvature_max(batch.X), curvature_max(batch.X_r)), check_ridge(lam))


@single_threaded
def finetune_forgetting(batch, w_init: np.ndarray, ks, *, lam: float, lr: float, iterate: bool = False) -> np.ndarray:
    """Forgetting loss of FT with weight decay after each budget in ``ks``, per draw.

    Parameters
    ----------
    batch : LinearInstance
        Batched draws (leading axis ``B``).
    w_init : ndarray, shape (B, d)
        Starts (e.g. Chapter 1's original :math:`w_o`).
    ks : sequence of int
    lam, lr : float
    iterate : bool
        ``False``: the closed form :func:`descend`; ``True``: the iterated updates (the oracle).

    Returns
    -------
    ndarray, shape (B, len(ks))
    """
    out = []
    for i in range(batch.X.shape[0]):
        _, _, X_r, y_r, X_f, y_f = _unbatch(batch, i)
        if iterate:
            W = iterate_weight_decay(w_init[i], X_r, y_r, lam=lam, lr=lr, record=ks)
        else:
            W = descend(spectrum(X_r, y_r), w_init[i], np.asarray(ks), lam=lam, lr=lr)
        out.append(np.mean((W @ X_f.T - y_f) ** 2, axis=-1))
    return np.array(out)


def null_fraction(w_k: np.ndarray, w_init: np.ndarray, X_r: np.ndarray, y_r: np.ndarray, lam: float) -> np.ndarray:
    """Measured :math:`\\|(I-P_r)(w_k - w_\\lambda)\\| / \\|(I-P_r)(w_0 - w_\\lambda)\\|` (Proposition 7.2 says
    :math:`(1-\\eta\\lambda)^k`).

    ``w_k (..., K, d)`` are iterates from ``w_init (..., d)``; ``X_r (..., n_r, d)``.
    """
    from rbmlib.linear_model import row_space_projector

    P = row_space_projector(X_r)  # (..., d, d)
    w_lam = ridge_fit(X_r, y_r, lam)

    def null(v):  # (I - P_r) v for v (..., K, d)
        return v - np.einsum("...de,...ke->...kd", P, v)

    top = np.linalg.norm(null(w_k - w_lam[..., None, :]), axis=-1)
    return top / np.linalg.norm(null((w_init - w_lam)[..., None, :]), axis=-1)


@single_threaded
def budget_planes(batch, k_o, k_t, *, lr: float, lam: float = 0.0, iterate: bool = False) -> np.ndarray:
    """:func:`budget_plane` (or, with ``iterate``, :func:`simulate_budget_plane`) for every draw: shape ``(B,
    len(k_o), len(k_t))``."""
    fn = simulate_budget_plane if iterate else budget_plane
    return np.array([fn(*_unbatch(batch, i), k_o, k_t, lr=lr, lam=lam) for i in range(batch.X.shape[0])])


@single_threaded
def early_stopping_curves(batch, k_o, *, lr: float) -> np.ndarray:
    """:func:`early_stopping_curve` for every draw of a batch: shape ``(B, len(k_o))``."""
    return np.array([early_stopping_curve(*_unbatch(batch, i), k_o, lr=lr) for i in range(batch.X.shape[0])])


@single_threaded
def finetune_null_fractions(batch, w_init: np.ndarray, ks, *, lam: float, lr: float) -> np.ndarray:
    """:func:`null_fraction` measured on the *iterated* FT descent of every draw: shape ``(B, len(ks))``."""
    return np.array(
        [
            null_fraction(
                iterate_weight_decay(w_init[i], batch.X_r[i], batch.y_r[i], lam=lam, lr=lr, record=ks),
                w_init[i],
                batch.X_r[i],
                batch.y_r[i],
                lam,
            )
            for i in range(batch.X.shape[0])
        ]
    )
