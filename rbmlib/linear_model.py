"""The linear model of unlearning: block features, interpolating fits and losses (Chapter 1).

Coordinates are ordered ``[S_f | S_o | S_r]``: ``d_f`` forget-only, ``d_o`` shared and ``d_r``
retain-only coordinates. Forgetting inputs live on ``S_f ∪ S_o``, remaining inputs on
``S_o ∪ S_r``; entries on the support are i.i.d. :math:`N(0, 1)`, zero elsewhere, and labels are
:math:`y = X w_* + \\varepsilon` with :math:`w_* \\sim N(0, I_d)` and
:math:`\\varepsilon \\sim N(0, \\sigma^2 I)`.

Every function accepts arrays with leading batch dimensions (``(..., n, d)`` for a design,
``(..., d)`` for a weight vector), so a Monte Carlo batch and a single instance go through the
same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rbmlib.validators import finite_array, finite_nonnegative

__all__ = [
    "BlockSizes",
    "LinearInstance",
    "BlockBatch",
    "sample_block_batch",
    "FittedModels",
    "sample_instance",
    "sample_instances",
    "instances_from_generators",
    "interpolate",
    "row_space_projector",
    "fit_models",
    "mse",
    "forgetting_loss",
    "remaining_loss",
    "fresh_remaining_loss",
]

# A Gram matrix whose Cholesky diagonal spans more than this squared ratio is treated as singular:
# at that point the interpolator is dominated by round-off rather than by the data.
_RANK_TOL = 1e-12


@dataclass(frozen=True)
class BlockSizes:
    """Sizes of the block feature model.

    Parameters
    ----------
    d_f : int
        Number of forget-only coordinates, :math:`|S_f|` (``>= 0``).
    d_o : int
        Number of shared ("overlapping") coordinates, :math:`|S_o|` (``>= 0``).
    d_r : int
        Number of retain-only coordinates, :math:`|S_r|` (``>= 0``).
    n_f : int
        Number of forgetting samples (``>= 1``).
    n_r : int
        Number of remaining samples (``>= 1``).

    The field names are the book's symbols (Notation page), so ``theory`` functions take
    ``**dataclasses.asdict(sizes)`` directly.

    Notes
    -----
    The model is over-parameterised when every design can be interpolated:
    :math:`n_f \\le d_f + d_o`, :math:`n_r \\le d_o + d_r` and :math:`n_f + n_r \\le d`.
    With Gaussian entries these conditions make every Gram matrix invertible almost surely.
    """

    d_f: int
    d_o: int
    d_r: int
    n_f: int
    n_r: int

    def __post_init__(self) -> None:
        for name in ("d_f", "d_o", "d_r", "n_f", "n_r"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        for name in ("d_f", "d_o", "d_r"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("n_f", "n_r"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_f > self.d_f + self.d_o:
            raise ValueError(f"not over-parameterised: n_f > d_f + d_o ({self.n_f} > {self.d_f} + {self.d_o})")
        if self.n_r > self.d_o + self.d_r:
            raise ValueError(f"not over-parameterised: n_r > d_o + d_r ({self.n_r} > {self.d_o} + {self.d_r})")
        if self.n_f + self.n_r > self.d:
            raise ValueError(f"not over-parameterised: n_f + n_r > d ({self.n_f} + {self.n_r} > {self.d})")

    @property
    def d(self) -> int:
        """Total dimension :math:`d = d_f + d_o + d_r`."""
        return self.d_f + self.d_o + self.d_r

    @property
    def forget_support(self) -> slice:
        """Coordinates a forgetting input can use, :math:`S_f \\cup S_o`."""
        return slice(0, self.d_f + self.d_o)

    @property
    def retain_support(self) -> slice:
        """Coordinates a remaining input can use, :math:`S_o \\cup S_r`."""
        return slice(self.d_f, self.d)

    def block_mask(self, block: str) -> np.ndarray:
        """Boolean indicator of one block: ``"forget"`` (S_f), ``"shared"`` (S_o), ``"retain"`` (S_r)."""
        bounds = {
            "forget": (0, self.d_f),
            "shared": (self.d_f, self.d_f + self.d_o),
            "retain": (self.d_f + self.d_o, self.d),
        }
        if block not in bounds:
            raise ValueError(f"block must be one of {sorted(bounds)}, got {block!r}")
        mask = np.zeros(self.d, dtype=bool)
        lo, hi = bounds[block]
        mask[lo:hi] = True
        return mask


@dataclass(frozen=True)
class LinearInstance:
    """One draw (or a batch of draws) of the block model.

    Attributes
    ----------
    X_f : ndarray, shape (..., n_f, d)
        Forgetting inputs, zero outside :math:`S_f \\cup S_o`.
    y_f : ndarray, shape (..., n_f)
        Forgetting labels.
    X_r : ndarray, shape (..., n_r, d)
        Remaining inputs, zero outside :math:`S_o \\cup S_r`.
    y_r : ndarray, shape (..., n_r)
        Remaining labels.
    w_star : ndarray, shape (..., d)
        The teacher :math:`w_*`.
    sizes : BlockSizes
        The block sizes the instance was drawn with.
    noise : float
        Label-noise standard deviation :math:`\\sigma`.
    leak : float
        Feature leak :math:`\\varepsilon`: off-support entries are :math:`\\varepsilon\\,N(0, 1)`
        instead of 0 (Chapter 4). With a leak the supports above are only approximate.
    """

    X_f: np.ndarray
    y_f: np.ndarray
    X_r: np.ndarray
    y_r: np.ndarray
    w_star: np.ndarray
    sizes: BlockSizes
    noise: float = 0.0
    leak: float = 0.0

    @property
    def X(self) -> np.ndarray:
        """Full design, remaining rows first: ``(..., n_r + n_f, d)``."""
        return np.concatenate([self.X_r, self.X_f], axis=-2)

    @property
    def y(self) -> np.ndarray:
        """Full labels in the order of :attr:`X`: ``(..., n_r + n_f)``."""
        return np.concatenate([self.y_r, self.y_f], axis=-1)


@dataclass(frozen=True)
class FittedModels:
    """The three models of the unlearning problem, as gradient-descent limits.

    Attributes
    ----------
    w_o : ndarray, shape (..., d)
        Original model, :math:`\\mathrm{fit}(0, X, y)`.
    w_g : ndarray, shape (..., d)
        Golden (retrained) model, :math:`\\mathrm{fit}(0, X_r, y_r)`.
    w_t : ndarray, shape (..., d)
        Fine-tuned model, :math:`\\mathrm{fit}(w_o, X_r, y_r)`.
    """

    w_o: np.ndarray
    w_g: np.ndarray
    w_t: np.ndarray


def _check_finite(name: str, array: np.ndarray) -> None:
    finite_array(array, name)


@dataclass(frozen=True)
class BlockBatch:
    """A batch of draws of the block model, stored by support.

    Attributes
    ----------
    F : ndarray, shape (B, n_f, d_f + d_o)
        Forgetting inputs on their support :math:`S_f \\cup S_o`.
    R : ndarray, shape (B, n_r, d_o + d_r)
        Remaining inputs on their support :math:`S_o \\cup S_r`.
    y_f : ndarray, shape (B, n_f)
    y_r : ndarray, shape (B, n_r)
    w_star : ndarray, shape (B, d)
    sizes : BlockSizes
    noise : float
    leak : float
        Feature leak :math:`\\varepsilon`; with a leak, ``F_leak`` and ``R_leak`` hold the
        off-support entries.
    F_leak : ndarray, shape (B, n_f, d_r), or None
        Entries of the forgetting inputs on :math:`S_r` (``None`` without a leak).
    R_leak : ndarray, shape (B, n_r, d_f), or None
        Entries of the remaining inputs on :math:`S_f` (``None`` without a leak).
    """

    F: np.ndarray
    R: np.ndarray
    y_f: np.ndarray
    y_r: np.ndarray
    w_star: np.ndarray
    sizes: BlockSizes
    noise: float = 0.0
    leak: float = 0.0
    F_leak: np.ndarray | None = None
    R_leak: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of draws ``B``."""
        return int(self.F.shape[0])

    def predict_forget(self, w: np.ndarray) -> np.ndarray:
        """:math:`X_f w`, shape ``(B, n_f)``, for weights ``w`` of shape ``(B, d)``."""
        out = _matvec(self.F, w[:, self.sizes.forget_support])
        if self.F_leak is not None:
            out = out + _matvec(self.F_leak, w[:, self.sizes.d - self.sizes.d_r :])
        return out

    def predict_retain(self, w: np.ndarray) -> np.ndarray:
        """:math:`X_r w`, shape ``(B, n_r)``, for weights ``w`` of shape ``(B, d)``."""
        out = _matvec(self.R, w[:, self.sizes.retain_support])
        if self.R_leak is not None:
            out = out + _matvec(self.R_leak, w[:, : self.sizes.d_f])
        return out

    def to_instance(self) -> LinearInstance:
        """The same draws as a dense :class:`LinearInstance` (structural zeros, or the leak, filled in)."""
        s = self.sizes
        X_f, X_r = np.zeros((self.size, s.n_f, s.d)), np.zeros((self.size, s.n_r, s.d))
        X_f[:, :, s.forget_support] = self.F
        X_r[:, :, s.retain_support] = self.R
        if self.F_leak is not None and self.R_leak is not None:
            X_f[:, :, s.d - s.d_r :] = self.F_leak
            X_r[:, :, : s.d_f] = self.R_leak
        return LinearInstance(X_f, self.y_f, X_r, self.y_r, self.w_star, s, self.noise, self.leak)


def _matvec(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(B, n, p) @ (B, p) -> (B, n)``: one BLAS product per draw, whatever ``B`` is."""
    return np.matmul(A, x[..., None])[..., 0]


def _check_noise(noise: float) -> float:
    return finite_nonnegative(noise, "noise")


def _check_leak(leak: float) -> float:
    return finite_nonnegative(leak, "leak")


def _check_scales(teacher_scales: Sequence[float]) -> tuple[float, float, float]:
    scales = tuple(float(s) for s in teacher_scales)
    if len(scales) != 3 or not all(np.isfinite(s) and s >= 0 for s in scales):
        raise ValueError(f"teacher_scales must be three finite values >= 0 (s_f, s_o, s_r), got {scales}")
    return scales  # a 3-tuple: mypy narrows the length from the check above


def sample_block_batch(
    sizes: BlockSizes,
    generators: Sequence[np.random.Generator],
    *,
    noise: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
    leak: float = 0.0,
) -> BlockBatch:
    """Draw one instance of the block model per generator: the one sampler of the book.

    Parameters
    ----------
    sizes : BlockSizes
        Block sizes.
    generators : sequence of numpy.random.Generator
        One generator per draw; draw ``i`` uses only ``generators[i]``, so a draw does not depend
        on the batch it is drawn in.
    noise : float, default 0
        Label-noise standard deviation :math:`\\sigma \\ge 0`.
    teacher_scales : (float, float, float), default (1, 1, 1)
        Standard deviations :math:`(s_f, s_o, s_r)` of the teacher on :math:`S_f, S_o, S_r`:
        :math:`w_* \\sim N(0, \\mathrm{diag}(s_f^2 I, s_o^2 I, s_r^2 I))` (Chapter 3).
    leak : float, default 0
        Feature leak :math:`\\varepsilon \\ge 0`: forgetting inputs get :math:`\\varepsilon N(0,1)`
        entries on :math:`S_r` and remaining inputs on :math:`S_f` (Chapter 4).

    Returns
    -------
    BlockBatch
        ``B = len(generators)`` draws, stored by support.

    Notes
    -----
    Each generator is consumed in a fixed order: the teacher (``d`` normals), the forgetting
    inputs on their support, the remaining inputs on theirs, the two noise vectors (only when
    :math:`\\sigma > 0`) and the two leak blocks (only when :math:`\\varepsilon > 0`). So a
    noiseless, leak-free draw consumes exactly what a noisy or leaky one consumes first, and the
    teacher scales change no stream. Labels are :math:`y = X w_* + \\sigma \\xi`.
    """
    if len(generators) < 1:
        raise ValueError("need at least one generator")
    noise, leak, scales = _check_noise(noise), _check_leak(leak), _check_scales(teacher_scales)
    batch, d, n_f, n_r = len(generators), sizes.d, sizes.n_f, sizes.n_r
    fs, rs = sizes.forget_support, sizes.retain_support
    w_star = np.empty((batch, d))
    F = np.empty((batch, n_f, fs.stop - fs.start))
    R = np.empty((batch, n_r, rs.stop - rs.start))
    eps_f, eps_r = np.zeros((batch, n_f)), np.zeros((batch, n_r))
    F_leak = np.empty((batch, n_f, sizes.d_r)) if leak > 0 else None
    R_leak = np.empty((batch, n_r, sizes.d_f)) if leak > 0 else None
    for i, g in enumerate(generators):
        g.standard_normal(out=w_star[i])
        g.standard_normal(out=F[i])
        g.standard_normal(out=R[i])
        if noise > 0:
            g.standard_normal(out=eps_f[i])
            g.standard_normal(out=eps_r[i])
        if F_leak is not None and R_leak is not None:
            g.standard_normal(out=F_leak[i])
            g.standard_normal(out=R_leak[i])
    if F_leak is not None and R_leak is not None:
        F_leak *= leak
        R_leak *= leak
    if scales != (1.0, 1.0, 1.0):
        w_star *= np.concatenate([np.full(n, s) for n, s in zip((sizes.d_f, sizes.d_o, sizes.d_r), scales)])
    out = BlockBatch(F, R, eps_f, eps_r, w_star, sizes, noise, leak, F_leak, R_leak)
    # y = X w_* + sigma * xi, assembled from the supports (the structural zeros are never multiplied)
    y_f = out.predict_forget(w_star) + noise * eps_f
    y_r = out.predict_retain(w_star) + noise * eps_r
    return BlockBatch(F, R, y_f, y_r, w_star, sizes, noise, leak, F_leak, R_leak)


def _unbatched(instance: LinearInstance) -> LinearInstance:
    return LinearInstance(
        instance.X_f[0],
        instance.y_f[0],
        instance.X_r[0],
        instance.y_r[0],
        instance.w_star[0],
        instance.sizes,
        instance.noise,
        instance.leak,
    )


def sample_instance(
    sizes: BlockSizes,
    *,
    rng: np.random.Generator,
    noise: float = 0.0,
    leak: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
) -> LinearInstance:
    """Draw one instance of the block model (:func:`sample_block_batch` with one generator, dense).

    Parameters
    ----------
    sizes : BlockSizes
        Block sizes (validated on construction).
    rng : numpy.random.Generator
        Source of all randomness.
    noise, leak, teacher_scales
        As in :func:`sample_block_batch`.

    Returns
    -------
    LinearInstance
        Unbatched arrays: ``X_f (n_f, d)``, ``X_r (n_r, d)``, ``w_star (d,)``.
    """
    batch = sample_block_batch(sizes, [rng], noise=noise, leak=leak, teacher_scales=teacher_scales)
    return _unbatched(batch.to_instance())


def sample_instances(
    sizes: BlockSizes,
    draws: int,
    *,
    rng: np.random.Generator,
    noise: float = 0.0,
    leak: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
) -> LinearInstance:
    """Draw a batch of independent instances, one child generator per draw.

    Draw ``i`` comes from ``rng.spawn(draws)[i]``, so it is the same whatever the batch size a
    caller later splits the draws into (see :func:`instances_from_generators`).

    Returns
    -------
    LinearInstance
        Batched arrays with a leading axis of length ``draws``.
    """
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    return instances_from_generators(sizes, rng.spawn(draws), noise=noise, leak=leak, teacher_scales=teacher_scales)


def instances_from_generators(
    sizes: BlockSizes,
    generators: Sequence[np.random.Generator],
    *,
    noise: float = 0.0,
    leak: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
) -> LinearInstance:
    """One instance per generator, stacked along a leading batch axis: :func:`sample_block_batch`, dense."""
    return sample_block_batch(sizes, generators, noise=noise, leak=leak, teacher_scales=teacher_scales).to_instance()


def _cholesky_gram(X: np.ndarray) -> np.ndarray:
    """Cholesky factor of :math:`X X^\\top`, refusing (numerically) rank-deficient designs."""
    gram = X @ np.swapaxes(X, -1, -2)
    try:
        L = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        L = None
    if L is not None:
        diag = np.diagonal(L, axis1=-2, axis2=-1)
        ratio = (diag.min(axis=-1) / diag.max(axis=-1)) ** 2
        if np.all(ratio > _RANK_TOL):
            return L
    ranks = np.atleast_1d(np.linalg.matrix_rank(X))
    n = X.shape[-2]
    raise ValueError(
        f"Gram matrix X X^T is rank-deficient: rank {int(ranks.min())} < n = {n} "
        f"(design shape {X.shape}); the interpolating fit needs linearly independent rows"
    )


def _solve_chol(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve :math:`L L^\\top z = b` for a batch of right-hand sides ``b (..., n)``."""
    z = np.linalg.solve(L, b[..., None])
    return np.linalg.solve(np.swapaxes(L, -1, -2), z)[..., 0]


def _check_design(w_init: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., n, d), got {X.shape}")
    n, d = X.shape[-2:]
    if w_init.shape[-1] != d:
        raise ValueError(f"w_init has last dimension {w_init.shape[-1]}, X has d = {d}")
    if y.shape[-1] != n:
        raise ValueError(f"y has length {y.shape[-1]}, X has n = {n} rows")
    if n > d:
        raise ValueError(f"cannot interpolate: n = {n} rows > d = {d} columns (X shape {X.shape})")
    for name, array in (("w_init", w_init), ("X", X), ("y", y)):
        _check_finite(name, array)


def interpolate(w_init: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The gradient-descent limit of least squares started at ``w_init``.

    Parameters
    ----------
    w_init : ndarray, shape (..., d)
        Starting point.
    X : ndarray, shape (..., n, d)
        Design with linearly independent rows (``n <= d``).
    y : ndarray, shape (..., n)
        Targets.

    Returns
    -------
    ndarray, shape (..., d)
        :math:`\\mathrm{fit}(w_{init}, X, y) = w_{init} + X^+ (y - X w_{init})`, the interpolator
        closest to ``w_init`` in Euclidean norm (Chapter 1, implicit-bias lemma).

    Notes
    -----
    :math:`X^+ r = X^\\top (X X^\\top)^{-1} r`, computed with one Cholesky factor of the Gram matrix.
    """
    w_init, X, y = (np.asarray(a, dtype=float) for a in (w_init, X, y))
    _check_design(w_init, X, y)
    L = _cholesky_gram(X)
    residual = y - np.einsum("...nd,...d->...n", X, w_init)
    return w_init + np.einsum("...nd,...n->...d", X, _solve_chol(L, residual))


def row_space_projector(X: np.ndarray) -> np.ndarray:
    """Orthogonal projector onto the row space of ``X``.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
        Design with linearly independent rows.

    Returns
    -------
    ndarray, shape (..., d, d)
        :math:`P = X^+ X = X^\\top (X X^\\top)^{-1} X`.
    """
    X = np.asarray(X, dtype=float)
    _check_design(np.zeros(X.shape[:-2] + X.shape[-1:]), X, np.zeros(X.shape[:-1]))
    L = _cholesky_gram(X)
    Z = np.linalg.solve(L, X)  # (..., n, d): L^{-1} X, so P = Z^T Z
    return np.swapaxes(Z, -1, -2) @ Z


def fit_models(instance: LinearInstance) -> FittedModels:
    """Original, golden and fine-tuned models of an instance, in closed form.

    One Cholesky factor of the full Gram matrix serves all three fits: with the remaining rows
    first, its leading ``n_r x n_r`` block is the Cholesky factor of :math:`X_r X_r^\\top`.

    Returns
    -------
    FittedModels
        :math:`w_o = X^+ y`, :math:`w_g = X_r^+ y_r` and
        :math:`w_t = w_o + X_r^+ (y_r - X_r w_o)`.
    """
    X, y, X_r, y_r = instance.X, instance.y, instance.X_r, instance.y_r
    _check_design(np.zeros(X.shape[:-2] + X.shape[-1:]), X, y)
    n_r = X_r.shape[-2]
    L = _cholesky_gram(X)
    L_r = L[..., :n_r, :n_r]
    w_o = np.einsum("...nd,...n->...d", X, _solve_chol(L, y))
    w_g = np.einsum("...nd,...n->...d", X_r, _solve_chol(L_r, y_r))
    residual = y_r - np.einsum("...nd,...d->...n", X_r, w_o)
    w_t = w_o + np.einsum("...nd,...n->...d", X_r, _solve_chol(L_r, residual))
    return FittedModels(w_o=w_o, w_g=w_g, w_t=w_t)


def mse(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error :math:`\\frac1n \\sum_i (x_i^\\top w - y_i)^2`, batched over leading axes."""
    w, X, y = (np.asarray(a, dtype=float) for a in (w, X, y))
    if X.shape[-1] != w.shape[-1] or X.shape[-2] != y.shape[-1]:
        raise ValueError(f"shapes do not match: w {w.shape}, X {X.shape}, y {y.shape}")
    residual = np.einsum("...nd,...d->...n", X, w) - y
    return np.mean(residual**2, axis=-1)


def forgetting_loss(w: np.ndarray, instance: LinearInstance) -> np.ndarray:
    """Forgetting loss :math:`\\mathcal L(w, D_f) = \\frac1{n_f}\\|X_f w - y_f\\|^2`."""
    return mse(w, instance.X_f, instance.y_f)


def remaining_loss(w: np.ndarray, instance: LinearInstance) -> np.ndarray:
    """Remaining loss :math:`\\mathcal L(w, D_r) = \\frac1{n_r}\\|X_r w - y_r\\|^2`."""
    return mse(w, instance.X_r, instance.y_r)


def fresh_remaining_loss(w: np.ndarray, instance: LinearInstance) -> np.ndarray:
    """Excess loss on a fresh remaining-distribution sample.

    Returns
    -------
    ndarray, shape (...)
        :math:`\\mathbb E_x[(x^\\top w - x^\\top w_*)^2] = \\|(w - w_*)_{S_o \\cup S_r}\\|^2` for
        :math:`x` with i.i.d. :math:`N(0,1)` entries on :math:`S_o \\cup S_r`. With label noise the
        population loss is this plus :math:`\\sigma^2` for every model, so the excess is reported.
        With a feature leak :math:`\\varepsilon` the fresh input also has
        :math:`\\varepsilon N(0,1)` entries on :math:`S_f`, which adds
        :math:`\\varepsilon^2 \\|(w - w_*)_{S_f}\\|^2`.
    """
    diff = np.asarray(w, dtype=float) - instance.w_star
    sizes = instance.sizes
    loss = np.sum(diff[..., sizes.retain_support] ** 2, axis=-1)
    if instance.leak > 0:
        loss = loss + instance.leak**2 * np.sum(diff[..., : sizes.d_f] ** 2, axis=-1)
    return loss
