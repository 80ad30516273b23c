"""Deterministic equivalents for the original model (and so FT and RBM), Chapter 4.

The original :math:`w_o = X^+ y = P w_* + X^+\\varepsilon` mixes the two data sets through the
shared block, and no exact finite-size moment of :math:`P` is derived in this book. In the
proportional limit the block traces of :math:`K = I - P` and :math:`X^+X^{+\\top}` have the
deterministic equivalents of :mod:`rbmlib.theory.equivalents`; the two functions here combine
them. Both are exact when :math:`d_o = 0` or :math:`d_f = 0` in the sense stated in each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rbmlib.theory.equivalents import ProjectorEquivalent, projector_equivalent
from rbmlib.theory.golden import (
    _check_noise,
    _check_sizes,
    _teacher_norms,
    expected_golden_forgetting_loss,
    expected_golden_fresh_remaining_loss,
)

__all__ = ["original_fresh_remaining_loss_de", "rbm_forgetting_loss_de"]


def _check_noise_moments(noise: float, d_f: int, d_o: int, d_r: int, n_f: int, n_r: int) -> None:
    """The moment condition the noise terms are stated under (as for the golden model)."""
    if noise > 0 and (d_o + d_r <= n_r + 1 or d_f + d_o <= n_f + 1):
        raise ValueError(
            "the noise term needs d_o + d_r > n_r + 1 and d_f + d_o > n_f + 1 (finite inverse-Wishart "
            f"means of each group), got d_o + d_r = {d_o + d_r}, n_r = {n_r}, d_f + d_o = {d_f + d_o}, n_f = {n_f}"
        )


def _scales2(norms: Sequence[float], dims: np.ndarray) -> np.ndarray:
    """Per-coordinate teacher variance of each block, :math:`\\|w_{*,a}\\|^2 / d_a` (0 on empty blocks)."""
    return np.array([n / d if d > 0 else 0.0 for n, d in zip(norms, dims)])


def original_fresh_remaining_loss_de(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Fresh remaining loss of the original model (= FT = RBM = RBM's masked update).

    Returns
    -------
    float
        With :math:`D = E_o + E_r`, :math:`s_b^2 = \\|w_{*,b}\\|^2/d_b`,

        .. math::

            \\mathbb E\\,\\|(w_o - w_*)_{S_o\\cup S_r}\\|^2 \\approx
            \\sum_{b} s_b^2 \\,(F_{ob} + F_{rb}) + \\sigma^2 (N_o + N_r),

        with :math:`F, N` of :func:`rbmlib.theory.equivalents.projector_equivalent`. At
        :math:`d_o = 0` the exact value (Proposition 3.3 / 3.4 with :math:`d_o = 0`) is returned.

    Notes
    -----
    :math:`(w_o - w_*) = -Kw_* + X^+\\varepsilon`; the noise is independent with mean zero, so
    :math:`\\mathbb E = \\mathbb E\\,w_*^\\top K D K w_* + \\sigma^2\\mathbb E\\operatorname{tr}(D X^+X^{+\\top})`.
    Rotating the columns of one block leaves the law of the design unchanged, so
    :math:`\\mathbb E[KDK]` is a multiple of the identity on each diagonal block and zero off it:
    the structure is exact and only the block traces :math:`F_{ab}` and :math:`N_a` are
    approximated. Needs the strict inequalities of :func:`projector_equivalent`.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    if d_o == 0:  # Gram matrix block diagonal: the original is the golden model on S_r
        return expected_golden_fresh_remaining_loss(
            d_f=d_f, d_o=d_o, d_r=d_r, n_f=n_f, n_r=n_r, teacher_sq_norms=norms, noise=noise
        )
    _check_noise_moments(noise, d_f, d_o, d_r, n_f, n_r)
    pe = projector_equivalent(d_f, d_o, d_r, n_f, n_r)
    s2 = _scales2(norms, pe.dims)
    return float(s2 @ (pe.F[1] + pe.F[2]) + noise**2 * (pe.noise_gain[1] + pe.noise_gain[2]))


def _rbm_terms(pe: ProjectorEquivalent, s2: np.ndarray) -> tuple[float, float]:
    """Signal and unit-noise parts of RBM's forgetting loss (leave-one-out, leading order)."""
    d, e, F, g = pe.dims, np.nan_to_num(pe.e), pe.F, pe.g
    tau = d[0] * e[0] + d[1] * e[1]  # tr(V_F K), V_F = E_f + E_o
    kappa = d[0] * e[0] / tau
    first = np.array([d[0] - 2 * d[0] * e[0], 0.0, 0.0]) + F[0]  # tr(E_f P E_b P)
    cross = np.array([d[0] * e[0], 0.0, 0.0]) - F[0]  # tr(E_f P E_b K)
    last = F[0] + F[1]  # tr(V_F K E_b K)
    signal = float(s2 @ (first + 2 * kappa * cross + kappa**2 * last))
    u, du, gF, dgF = e[0], pe.dh_dlam[0], g[0], pe.dg_dlam[0]
    noise_unit = d[0] * du - (2 * d[0] ** 2 * u * du * gF + (d[0] * u) ** 2 * dgF)
    return signal, float(noise_unit)


def rbm_forgetting_loss_de(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Forgetting loss of RBM (reset, then FT) :math:`\\frac1{n_f}\\|A_f w_{o,f}\\|^2`.

    Returns
    -------
    float
        Leading-order deterministic equivalent. With :math:`\\tau = d_f e_f + d_o e_o`,
        :math:`\\kappa = d_f e_f / \\tau` and :math:`V_F = E_f + E_o`,

        .. math::

            \\mathbb E\\,\\mathcal L \\approx \\sum_b s_b^2\\big[\\operatorname{tr}(E_fPE_bP)
            + 2\\kappa\\operatorname{tr}(E_fPE_bK) + \\kappa^2\\operatorname{tr}(V_FKE_bK)\\big]
            + \\sigma^2 \\frac{\\partial}{\\partial\\lambda}\\Big[d_f u_f - (d_f u_f)^2 g_F\\Big]_{\\lambda=0},

        every trace written through :math:`e_a` and :math:`F_{ab}`. Exact at :math:`d_o = 0`
        (the golden value, Theorem 2.1) and at :math:`d_f = 0` (0).

    Notes
    -----
    :math:`X_f w_o = y_f` makes the residual :math:`-A_f w_{o,f} = -X_f E_f w_o`, and
    :math:`\\|X_f E_f P w_*\\|^2 = \\sum_{i \\in F} \\|\\Sigma^{1/2} P E_f x_i\\|^2` in mean over the
    teacher. Removing row :math:`i`, :math:`P = P_{-i} + kk^\\top/\\|k\\|^2` with
    :math:`k = K_{-i}x_i`, and :math:`x_i` is independent of :math:`P_{-i}`; its quadratic forms
    concentrate on traces, :math:`k^\\top E_f x_i / \\|k\\|^2 \\to \\kappa`. The noise part is
    :math:`\\sigma^2\\|X_f E_f X^+\\|_F^2 = \\sigma^2 \\partial_\\lambda \\sum_{i\\in F} x_i^\\top E_f
    \\lambda(X^\\top X + \\lambda)^{-1} E_f x_i` at :math:`\\lambda = 0`, treated by Sherman–Morrison
    the same way. The neglected terms are :math:`O(1)` against a loss of order :math:`d_f`, so the
    relative error is :math:`O(1/d)` (a few per cent at the book's sizes, see the benchmark).
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    if d_f == 0:
        return 0.0  # nothing is reset: RBM is the original, which interpolates D_f
    if d_o == 0:  # RBM is the golden model (Proposition 4.2 (4))
        return expected_golden_forgetting_loss(
            d_f=d_f, d_o=d_o, d_r=d_r, n_f=n_f, n_r=n_r, teacher_sq_norms=norms, noise=noise
        )
    _check_noise_moments(noise, d_f, d_o, d_r, n_f, n_r)
    pe = projector_equivalent(d_f, d_o, d_r, n_f, n_r)
    signal, noise_unit = _rbm_terms(pe, _scales2(norms, pe.dims))
    return signal + noise**2 * noise_unit
