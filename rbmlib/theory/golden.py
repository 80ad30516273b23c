"""Exact closed forms of the golden model: the losses of Chapters 2 and 3.

All expectations are over the Gaussian block model of :mod:`rbmlib.linear_model`: inputs with
i.i.d. :math:`N(0, 1)` entries on their support, label noise :math:`N(0, \\sigma^2)`. Losses are
per-sample means, :math:`\\mathcal L(w, D) = \\frac1n \\|Xw - y\\|^2`.

* :func:`distinct_golden_forgetting_loss` — the per-instance identity of Chapter 2
  (:math:`d_o = 0`).
* :func:`uniform_projection_moments` — the two moments of a uniformly random projection that
  Chapter 3 needs.
* :func:`expected_golden_forgetting_loss`, :func:`expected_golden_fresh_remaining_loss` — exact
  expectations for any overlap, as functions of the block sizes and the block norms of
  :math:`w_*` (Chapter 3, Theorem 3.2 and Proposition 3.4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rbmlib.validators import finite_nonnegative, integer_at_least

__all__ = [
    "distinct_golden_forgetting_loss",
    "uniform_projection_moments",
    "expected_golden_forgetting_loss",
    "expected_golden_fresh_remaining_loss",
]


def _check_int(name: str, value: object, minimum: int) -> int:
    return integer_at_least(value, name, minimum)


def _check_sizes(d_f: int, d_o: int, d_r: int, n_f: int, n_r: int) -> None:
    """The assumptions of Theorem 3.2: block sizes of an interpolating remaining and forgetting design."""
    for name, value in (("d_f", d_f), ("d_o", d_o), ("d_r", d_r)):
        _check_int(name, value, 0)
    for name, value in (("n_f", n_f), ("n_r", n_r)):
        _check_int(name, value, 1)
    if n_r > d_o + d_r:
        raise ValueError(f"the theorem needs n_r <= d_o + d_r (X_r interpolates), got n_r = {n_r} > {d_o} + {d_r}")
    if n_f > d_f + d_o:
        raise ValueError(f"the theorem needs n_f <= d_f + d_o (X_f interpolates), got n_f = {n_f} > {d_f} + {d_o}")


def _check_noise(noise: float) -> float:
    return finite_nonnegative(noise, "noise standard deviation sigma")


def _teacher_norms(
    teacher_sq_norms: Sequence[float] | None, d_f: int, d_o: int, d_r: int
) -> tuple[float, float, float]:
    """Squared block norms of :math:`w_*`; ``None`` means their expectation under :math:`N(0, I_d)`."""
    if teacher_sq_norms is None:
        return float(d_f), float(d_o), float(d_r)
    norms = tuple(float(x) for x in teacher_sq_norms)
    if len(norms) != 3:
        raise ValueError(f"teacher_sq_norms must be (|w_S_f|^2, |w_S_o|^2, |w_S_r|^2), got {len(norms)} values")
    for block, size, value in zip(("S_f", "S_o", "S_r"), (d_f, d_o, d_r), norms):
        finite_nonnegative(value, f"squared norm of w_* on {block}")
        if size == 0 and value != 0:
            raise ValueError(f"block {block} is empty, so |w_*|^2 on it must be 0, got {value}")
    return norms  # a 3-tuple: mypy narrows the length from the check above


def _noise_gain(m: int, n_r: int) -> float:
    """:math:`\\mathbb E\\,\\mathrm{tr}(R R^\\top)^{-1} = n_r/(m - n_r - 1)` for an :math:`n_r \\times m` Gaussian
    ``R``."""
    if m <= n_r + 1:
        raise ValueError(
            "the noise term needs d_o + d_r > n_r + 1 (the inverse-Wishart mean E[(R R^T)^-1] = I/(m - n_r - 1) "
            f"is finite only then), got d_o + d_r = {m}, n_r = {n_r}"
        )
    return n_r / (m - n_r - 1)


def distinct_golden_forgetting_loss(y_f: np.ndarray) -> np.ndarray:
    """Golden forgetting loss of one instance (or a batch) with distinct features, :math:`d_o = 0`.

    Parameters
    ----------
    y_f : ndarray, shape (..., n_f)
        Forgetting labels.

    Returns
    -------
    ndarray, shape (...)
        :math:`\\mathcal L(w_g, D_f) = \\|y_f\\|^2 / n_f`.

    Notes
    -----
    Chapter 2, Theorem 2.1: with :math:`d_o = 0` the golden model lives on :math:`S_r` and every
    forgetting input on :math:`S_f`, so :math:`X_f w_g = 0` exactly, with or without label noise.
    """
    y_f = np.asarray(y_f, dtype=float)
    if y_f.ndim < 1 or y_f.shape[-1] < 1:
        raise ValueError(f"y_f must have shape (..., n_f) with n_f >= 1, got {y_f.shape}")
    return np.mean(y_f**2, axis=-1)


def uniform_projection_moments(m: int, k: int) -> tuple[float, float]:
    """The constants of :math:`\\mathbb E[QMQ] = c_1 M + c_2\\,\\mathrm{tr}(M)\\, I_m`.

    Parameters
    ----------
    m : int
        Ambient dimension (``>= 1``).
    k : int
        Rank of the projection, ``0 <= k <= m``.

    Returns
    -------
    (c1, c2) : tuple of float
        For a uniformly distributed rank-``k`` orthogonal projection :math:`Q` of :math:`\\mathbb R^m`
        and any symmetric :math:`M`,
        :math:`c_2 = \\frac{k(m-k)}{m(m-1)(m+2)}`, :math:`c_1 = \\frac{k(k+2)}{m(m+2)} - c_2`.

    Notes
    -----
    Chapter 3, Lemma 3.1. They follow from :math:`\\mathbb E[Q] = \\frac km I` and
    :math:`\\mathbb E[(u^\\top Q u)^2] = \\frac{k(k+2)}{m(m+2)}` for a unit :math:`u`. When
    :math:`k(m-k) = 0` the projection is deterministic (:math:`0` or :math:`I`) and
    :math:`c_2 = 0`; this also covers :math:`m = 1`, where :math:`m - 1 = 0`.
    """
    m = _check_int("m", m, 1)
    k = _check_int("k", k, 0)
    if k > m:
        raise ValueError(f"the rank k of a projection of R^m needs k <= m, got k = {k} > m = {m}")
    mu2 = k * (k + 2) / (m * (m + 2))  # E[(u^T Q u)^2], u a unit vector
    c2 = 0.0 if k * (m - k) == 0 else k * (m - k) / (m * (m - 1) * (m + 2))
    return mu2 - c2, c2


def expected_golden_forgetting_loss(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Expected forgetting loss of the golden (retrained) model, any overlap.

    Parameters
    ----------
    d_f, d_o, d_r : int
        Sizes of :math:`S_f, S_o, S_r` (``>= 0``).
    n_f, n_r : int
        Sample sizes, ``1 <= n_f <= d_f + d_o`` and ``1 <= n_r <= d_o + d_r``.
    teacher_sq_norms : (float, float, float), optional
        :math:`(\\|w_{*,S_f}\\|^2, \\|w_{*,S_o}\\|^2, \\|w_{*,S_r}\\|^2)` of a fixed teacher. Omitted:
        the expectation under :math:`w_* \\sim N(0, I_d)`, i.e. the block sizes (the loss is linear
        in the squared norms).
    noise : float, default 0
        Label-noise standard deviation :math:`\\sigma`; :math:`\\sigma > 0` with :math:`d_o > 0`
        needs :math:`m > n_r + 1`.

    Returns
    -------
    float
        With :math:`m = d_o + d_r`, :math:`k = m - n_r` and :math:`(c_1, c_2)` of
        :func:`uniform_projection_moments`,

        .. math::

            \\mathbb E\\,\\mathcal L(w_g, D_f) = \\|w_{*,S_f}\\|^2 + c_1 \\|w_{*,S_o}\\|^2
            + c_2\\, d_o \\big(\\|w_{*,S_o}\\|^2 + \\|w_{*,S_r}\\|^2\\big)
            + \\sigma^2 \\Big(1 + \\frac{d_o\\, n_r}{m (m - n_r - 1)}\\Big).

    Notes
    -----
    Chapter 3, Theorem 3.2 and Proposition 3.4. Under :math:`w_* \\sim N(0, I)` the noiseless part is
    :math:`d_f + d_o (m - n_r)/m`; with :math:`d_o = 0` it is Chapter 2's :math:`\\|w_{*,S_f}\\|^2`.
    ``n_f`` does not enter (the loss is a per-sample mean) but must be a valid sample size.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    a2, o2, r2 = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    m = d_o + d_r
    c1, c2 = uniform_projection_moments(m, m - n_r)
    loss = a2 + c1 * o2 + c2 * d_o * (o2 + r2)
    if noise > 0:
        shared_gain = d_o * _noise_gain(m, n_r) / m if d_o > 0 else 0.0
        loss += noise**2 * (1.0 + shared_gain)
    return float(loss)


def expected_golden_fresh_remaining_loss(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Expected excess loss of the golden model on fresh remaining-distribution data.

    Parameters are those of :func:`expected_golden_forgetting_loss`; :math:`\\sigma > 0` needs
    :math:`m > n_r + 1`.

    Returns
    -------
    float
        .. math::

            \\mathbb E\\,\\|(w_g - w_*)_{S_o \\cup S_r}\\|^2 = \\frac{m - n_r}{m}
            \\big(\\|w_{*,S_o}\\|^2 + \\|w_{*,S_r}\\|^2\\big) + \\sigma^2 \\frac{n_r}{m - n_r - 1},

        which is :math:`m - n_r + \\sigma^2 n_r/(m - n_r - 1)` under :math:`w_* \\sim N(0, I)`.

    Notes
    -----
    Chapter 3, Proposition 3.3 and Proposition 3.4.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    _, o2, r2 = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    m = d_o + d_r
    loss = (m - n_r) / m * (o2 + r2)
    if noise > 0:
        loss += noise**2 * _noise_gain(m, n_r)
    return float(loss)
