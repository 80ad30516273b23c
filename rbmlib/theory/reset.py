"""Deterministic equivalents for FBM (reset, then fine-tune) and a second route to RBM's, Chapter 5.

FBM resets :math:`S_f \\cup S_o` and fine-tunes on :math:`D_r`; with :math:`K_r = I - X_r^+X_r`,

.. math::

    w_{\\text{FBM}} = w_g + K_r E_r w_o = w_{\\text{RBM}} - K_r E_o w_o ,

(the second form because the original interpolates :math:`D_r`), so FBM's losses couple the
projector of the remaining design with the original :math:`w_o = Pw_*` of the *whole* design.
The two are tied by one fact: :math:`\\ker X \\subset \\ker X_r`. Let :math:`N_r` be an orthonormal
basis of :math:`V = \\ker X_r = S_f \\oplus \\ker R` (:math:`R = [R_o \\mid R_r]`,
:math:`k = m - n_r` directions in :math:`S_o \\cup S_r`). Then

.. math::

    K = N_r K_C N_r^\\top, \\qquad C = X_f N_r \\ (n_f \\times (d_f + k)),\\qquad
    K_C = I - C^+C ,

and, *given* :math:`R`, the rows of :math:`C` are :math:`N(0, \\Sigma)` with
:math:`\\Sigma = N_r^\\top(E_f + E_o)N_r = I_{d_f} \\oplus (I - T)`, :math:`T = N_R^\\top E_r N_R`.
Every compression :math:`\\tilde E_a = N_r^\\top E_a N_r` is a function of :math:`T`
(:math:`\\tilde E_f = I \\oplus 0`, :math:`\\tilde E_o = 0 \\oplus (I - T)`,
:math:`\\tilde E_r = 0 \\oplus T`): all of them commute with :math:`\\Sigma`. So each loss is a
trace of :math:`K_C` (or :math:`K_C B K_C`) against functions of :math:`T`, and

* :math:`T`, the compression of a coordinate projector of rank :math:`d_r` to a uniformly
  random :math:`k`-dimensional subspace of :math:`\\mathbb R^m`, has the free-compression
  (Wachter) spectral law (:func:`compression_law`);
* :math:`K_C`, the null-space projector of an anisotropic Gaussian design, has the standard
  equivalent :math:`K_C \\approx \\kappa(\\Sigma + \\kappa)^{-1}`, :math:`\\operatorname{tr}
  \\Sigma(\\Sigma + \\kappa)^{-1} = n_f`, and the second-order one obtained, as in
  :mod:`rbmlib.theory.equivalents`, by differentiating
  :math:`\\lim_{\\lambda\\to0}\\lambda(C^\\top C + \\lambda S)^{-1} \\approx \\kappa_S(\\Sigma + \\kappa_S S)^{-1}`
  in :math:`S = I + tB`:

  .. math::

      \\mathbb E[K_C B K_C] \\approx \\kappa^2 B (\\Sigma + \\kappa)^{-2}
      + \\kappa\\Sigma(\\Sigma + \\kappa)^{-2}\\,
        \\frac{\\operatorname{tr}\\Sigma B(\\Sigma + \\kappa)^{-2}}{\\operatorname{tr}\\Sigma(\\Sigma + \\kappa)^{-2}} .

Label noise: derived for the fresh loss (:func:`fbm_fresh_remaining_loss_de`), not for the
forgetting loss (``ValueError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from rbmlib.theory.golden import (
    _check_noise,
    _check_sizes,
    _teacher_norms,
    expected_golden_forgetting_loss,
    expected_golden_fresh_remaining_loss,
)

__all__ = [
    "CompressedLaw",
    "compression_law",
    "compressed_law",
    "fbm_fresh_remaining_loss_de",
    "fbm_forgetting_loss_de",
    "rbm_forgetting_loss_compressed",
    "original_fresh_remaining_loss_compressed",
]

#: Quadrature nodes for the continuous part of the Wachter law (midpoint rule in the angle,
#: 1024: about 1e-14 even when an edge of the support nearly touches 0 or 1;
#: spectrally accurate because the substitution removes the square-root edges).
QUADRATURE_NODES = 1024


def compression_law(m: int, d_r: int, k: int, *, nodes: int = QUADRATURE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalue counts of :math:`T = N^\\top E_r N` (``N``: uniform :math:`k`-frame in :math:`\\mathbb R^m`).

    Parameters
    ----------
    m, d_r, k : int
        Ambient dimension, rank of the coordinate projector :math:`E_r`, dimension of the
        random subspace (:math:`0 \\le d_r \\le m`, :math:`1 \\le k \\le m`).
    nodes : int
        Quadrature nodes of the continuous part.

    Returns
    -------
    (t, w) : ndarray, ndarray
        Points in :math:`[0, 1]` and weights summing to :math:`k`: the limit of
        :math:`\\sum_j \\varphi(t_j)` over the eigenvalues is :math:`\\sum w\\,\\varphi(t)`. With
        :math:`\\alpha = d_r/m`, :math:`\\beta = k/m`: atoms :math:`\\max(0, k - d_r)` at 0
        (:math:`\\ker R \\cap S_o`) and :math:`\\max(0, d_r + k - m)` at 1
        (:math:`\\ker R \\cap S_r`), and the density
        :math:`m\\sqrt{(\\lambda_+ - t)(t - \\lambda_-)}/(2\\pi t(1 - t))` on
        :math:`[\\lambda_-, \\lambda_+]`,
        :math:`\\lambda_\\pm = (\\sqrt{\\alpha(1-\\beta)} \\pm \\sqrt{\\beta(1-\\alpha)})^2`
        (the free multiplicative convolution of two Bernoulli laws, Wachter 1980).
    """
    if not (0 <= d_r <= m and 1 <= k <= m):
        raise ValueError(f"need 0 <= d_r <= m and 1 <= k <= m, got m = {m}, d_r = {d_r}, k = {k}")
    a, b = d_r / m, k / m
    atoms_t, atoms_w = [0.0, 1.0], [max(0.0, k - d_r), max(0.0, d_r + k - m)]
    lo = (np.sqrt(a * (1 - b)) - np.sqrt(b * (1 - a))) ** 2
    hi = (np.sqrt(a * (1 - b)) + np.sqrt(b * (1 - a))) ** 2
    c, r = (hi + lo) / 2, (hi - lo) / 2
    if r <= 1e-15:  # no continuous part (a projector of rank 0 or m, or k = m)
        t, w = np.array(atoms_t), np.array(atoms_w)
    else:
        theta = (np.arange(nodes) + 0.5) * np.pi / nodes
        x = c + r * np.cos(theta)
        dens = m * r**2 * np.sin(theta) ** 2 / (2 * np.pi * x * (1 - x))
        t = np.concatenate([atoms_t, x])
        w = np.concatenate([atoms_w, dens * np.pi / nodes])
    keep = w > 0
    return t[keep], w[keep]


@dataclass(frozen=True)
class CompressedLaw:
    """The spectral data of :math:`V = \\ker X_r` that every trace reduces to.

    Attributes
    ----------
    w : ndarray
        Weights (counts) of the points: one point of weight :math:`d_f` for :math:`S_f`, then the
        law of :math:`T` (total :math:`k = m - n_r`).
    ef, eo, er : ndarray
        Values of :math:`\\tilde E_f`, :math:`\\tilde E_o = 1 - T`, :math:`\\tilde E_r = T` at each point.
    sigma : ndarray
        :math:`\\Sigma = \\tilde E_f + \\tilde E_o`.
    kappa : float
        Solution of :math:`\\sum w\\,\\Sigma/(\\Sigma + \\kappa) = n_f`.
    """

    w: np.ndarray
    ef: np.ndarray
    eo: np.ndarray
    er: np.ndarray
    sigma: np.ndarray
    kappa: float
    _first: np.ndarray = field(init=False, repr=False, compare=False)
    _second: np.ndarray = field(init=False, repr=False, compare=False)
    _q: np.ndarray = field(init=False, repr=False, compare=False)
    _q_total: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The weights of the two equivalents, computed once: the traces are then dot products
        # (the theory of a whole phase grid must stay a small fraction of simulating it).
        s, k, w = self.sigma, self.kappa, self.w
        q = w * s / (s + k) ** 2
        weights = {"_first": w * k / (s + k), "_second": w * k**2 / (s + k) ** 2, "_q": q}
        for name, array in weights.items():
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "_q_total", float(q.sum()))

    def tr_k(self, a: np.ndarray) -> float:
        """:math:`\\operatorname{tr}(A K_C) \\approx \\sum w\\,A\\,\\kappa/(\\Sigma + \\kappa)`."""
        return float(a @ self._first)

    def tr_kbk(self, a: np.ndarray, b: np.ndarray) -> float:
        """:math:`\\operatorname{tr}(A K_C B K_C)`, the second-order equivalent of the module docstring."""
        return float((a * b) @ self._second + self.kappa * (a @ self._q) * (b @ self._q) / self._q_total)

    def tr(self, a: np.ndarray) -> float:
        """:math:`\\operatorname{tr} A` over :math:`V`."""
        return float(a @ self.w)


@lru_cache(maxsize=4096)
def compressed_law(d_f: int, d_o: int, d_r: int, n_f: int, n_r: int) -> CompressedLaw:
    """Build :class:`CompressedLaw` and solve for :math:`\\kappa`.

    Raises
    ------
    ValueError
        Outside the strict over-parameterisation :math:`n_r < d_o + d_r`,
        :math:`n_f < d_f + d_o`, :math:`n_f + n_r < d` (then :math:`K_C` or :math:`K_r` is 0 on a
        block and :math:`\\kappa` does not exist).
    """
    m = d_o + d_r
    if not (1 <= n_r < m and 1 <= n_f < d_f + d_o and n_f + n_r < d_f + m):
        raise ValueError(
            "the deterministic equivalent needs a strictly over-parameterised design, "
            "n_f < d_f + d_o, n_r < d_o + d_r and n_f + n_r < d; "
            f"got (d_f, d_o, d_r, n_f, n_r) = {(d_f, d_o, d_r, n_f, n_r)}"
        )
    t, wt = compression_law(m, d_r, m - n_r)
    w = np.concatenate([[float(d_f)], wt]) if d_f > 0 else wt
    ef = np.concatenate([[1.0], np.zeros_like(t)]) if d_f > 0 else np.zeros_like(t)
    tt = np.concatenate([[0.0], t]) if d_f > 0 else t
    eo, er = np.where(ef > 0, 0.0, 1.0 - tt), np.where(ef > 0, 0.0, tt)
    sigma = ef + eo
    # n_f = tr Sigma (Sigma + kappa)^-1 is decreasing in kappa, from rank(Sigma) > n_f at 0 to 0.
    lhs = lambda kap: float(np.sum(w * sigma / (sigma + kap))) - n_f  # noqa: E731
    hi = 1.0
    while lhs(hi) > 0:
        hi *= 4.0
    kappa = brentq(lhs, 1e-14, hi, xtol=1e-15, rtol=1e-13)
    arrays = dict(w=w, ef=ef, eo=eo, er=er, sigma=sigma)
    for array in arrays.values():
        array.setflags(write=False)  # shared by the cache
    return CompressedLaw(**arrays, kappa=float(kappa))


def _omega(law: CompressedLaw, norms: Sequence[float], dims: Sequence[int]) -> np.ndarray:
    """:math:`\\Omega = N_r^\\top \\operatorname{diag}(s^2) N_r
    = s_f^2\\tilde E_f + s_o^2\\tilde E_o + s_r^2\\tilde E_r`."""
    s2 = [n / d if d > 0 else 0.0 for n, d in zip(norms, dims)]
    return s2[0] * law.ef + s2[1] * law.eo + s2[2] * law.er


def _noiseless(noise: float, what: str) -> None:
    if noise > 0:
        raise ValueError(f"the {what} equivalent is derived for noiseless labels only (sigma = 0), got sigma = {noise}")


def original_fresh_remaining_loss_compressed(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
) -> float:
    """The original's noiseless fresh loss by the compressed route:
    :math:`\\operatorname{tr}(\\tilde D K_C \\Omega K_C)`.

    A cross-check of :func:`rbmlib.theory.deterministic.original_fresh_remaining_loss_de`
    (:math:`D(w_o - w_*) = -DN_rK_CN_r^\\top w_*` with :math:`\\tilde D = \\tilde E_o + \\tilde E_r`); the
    two equivalents are the same limit reached by different fixed points.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    law = compressed_law(d_f, d_o, d_r, n_f, n_r)
    return law.tr_kbk(law.eo + law.er, _omega(law, norms, (d_f, d_o, d_r)))


def _forgetting_terms(law: CompressedLaw, omega: np.ndarray, s2: Sequence[float], *, fbm: bool) -> float:
    """Leave-one-out leading order of :math:`\\frac1{n_f}\\|X_f L w_o\\|^2` with :math:`L = E_f (+ K_rE_o)`."""
    sf2, so2 = s2[0], s2[1]
    ef, eo, sig = law.ef, law.eo, law.sigma
    g = eo**3 if fbm else 0 * eo  # tr(G K) with G = E_o K_r E_o K_r E_o -> eo^3 in V
    tau = law.tr_k(sig)
    kap = (law.tr_k(ef) + (law.tr_k(sig * eo) if fbm else 0.0)) / tau
    t2 = law.tr_kbk(sig, omega)
    t3 = sf2 * law.tr_k(ef) - law.tr_kbk(ef, omega)
    t4 = sf2 * law.tr(ef) - 2 * sf2 * law.tr_k(ef) + law.tr_kbk(ef, omega)
    if fbm:
        t3 += so2 * law.tr_k(sig * eo) - law.tr_kbk(sig * eo, omega)
        t4 += so2 * law.tr(eo**2) - 2 * so2 * law.tr_k(g) + law.tr_kbk(g, omega)
    return float(t4 + 2 * kap * t3 + kap**2 * t2)


def rbm_forgetting_loss_compressed(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
) -> float:
    """RBM's noiseless forgetting loss by the compressed route (a cross-check of Proposition 4.9).

    Same leave-one-out expansion as :func:`fbm_forgetting_loss_de` with :math:`L = E_f`.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    if d_f == 0:
        return 0.0
    law = compressed_law(d_f, d_o, d_r, n_f, n_r)
    dims = (d_f, d_o, d_r)
    s2 = [n / d if d > 0 else 0.0 for n, d in zip(norms, dims)]
    return _forgetting_terms(law, _omega(law, norms, dims), s2, fbm=False)


def _fbm_fresh_noise_unit(law: CompressedLaw, d_r: int, m: int, n_r: int) -> float:
    """FBM's fresh-loss noise term per unit :math:`\\sigma^2` (see :func:`fbm_fresh_remaining_loss_de`)."""
    t, s, k, w = law.er, law.sigma, law.kappa, law.w
    # c-bar has no component on ker R inside S_r (t = 1) nor on S_f: phi = t / (1 - t) elsewhere
    inside = (law.ef == 0) & (t < 1.0 - 1e-12)
    phi = np.where(inside, t / np.where(inside, 1.0 - t, 1.0), 0.0)
    q = s / (s + k) ** 2
    q_total = float(w @ q)
    # (1 - e_r K)^2 pointwise: the pole of phi at t -> 1 cancels against (1 - t)^2
    kept = (
        float(w @ (phi * (1.0 - t * k / (s + k)) ** 2))
        + float(w @ (phi * s * k / (s + k) ** 2)) * float(w @ (t**2 * q)) / q_total
    )
    spread = float(w @ (t**2 * q)) / (k * q_total)  # tr(E_r~^2 (C^T C)^+)
    gamma = 1.0 / (m - n_r - 1)  # E tr (R R^T)^-1 / n_r, exact
    return n_r * gamma + gamma * kept + (1.0 + gamma * max(0, n_r - d_r)) * spread


def fbm_fresh_remaining_loss_de(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Fresh remaining loss of FBM (reset :math:`S_f \\cup S_o`, then fine-tune).

    Returns
    -------
    float
        With :math:`u = N_R^\\top E_o w_*`, :math:`x = N_r^\\top w_*` and the compressed
        operators of the module docstring, the signal part is
        :math:`\\|u + \\tilde E_r K_C x\\|^2`, whose mean is

        .. math::

            s_o^2\\operatorname{tr}\\tilde E_o + 2 s_o^2\\operatorname{tr}(\\tilde E_o\\tilde E_r K_C)
            + \\operatorname{tr}(\\tilde E_r^2 K_C\\,\\Omega\\,K_C),

        every trace by its deterministic equivalent; the noise part is :math:`\\sigma^2` times

        .. math::

            \\frac{n_r}{m - n_r - 1} + \\gamma\\,\\mathbb E\\|(I - \\tilde E_rK_C)\\bar c\\|^2_{\\Gamma = \\varphi(T)}
            + \\big(1 + \\gamma\\max(0, n_r - d_r)\\big)\\operatorname{tr}\\big(\\tilde E_r^2 (C^\\top C)^+\\big),

        :math:`\\gamma = 1/(m - n_r - 1)`, :math:`\\varphi(t) = t/(1 - t)` off the atom at 1,
        :math:`\\operatorname{tr}(A(C^\\top C)^+) \\approx \\int A\\Sigma(\\Sigma + \\kappa)^{-2}d\\mu
        / (\\kappa\\int\\Sigma(\\Sigma + \\kappa)^{-2}d\\mu)`. Exact (golden) at :math:`d_o = 0`.

    Notes
    -----
    :math:`w_{\\text{FBM}} - w_* = -K_r(E_f + E_o)w_* - K_rE_rKw_* + K_rE_rX^+\\varepsilon + X_r^+\\varepsilon_r`
    and :math:`DK_rE_f = 0`; :math:`K_r y = N_rN_r^\\top y` keeps norms of :math:`N_r^\\top y`.
    :math:`w_*` is independent of the design,
    :math:`\\operatorname{Cov}(u) = \\operatorname{Cov}(u, x) = s_o^2\\tilde E_o`
    and :math:`\\operatorname{Cov}(x) = \\Omega`. Noise: the cross term vanishes
    (:math:`K_rX_r^+ = 0`), :math:`\\|X_r^+\\varepsilon_r\\|^2` has the exact inverse-Wishart mean,
    and with :math:`g = X_r^+\\varepsilon_r`, :math:`\\bar c = N_{R,o}^+ g_o` and
    :math:`\\xi = B_f(I - \\Pi)g_o` (independent of :math:`C` given :math:`R, g`),
    :math:`N_r^\\top E_r X^+\\varepsilon = -(I - \\tilde E_rK_C)\\bar c + \\tilde E_rC^+(\\varepsilon_f - \\xi)`.
    The right singular vectors of :math:`R` are independent of its singular values, so
    :math:`\\mathbb E[(R^\\top R)^+ \\mid \\ker R] = \\gamma(I - N_RN_R^\\top)`, which makes
    :math:`\\operatorname{Cov}(\\bar c) = \\gamma\\varphi(T)` and
    :math:`\\mathbb E\\|(I - \\Pi)g_o\\|^2 = \\gamma\\max(0, n_r - d_r)` exactly.

    Raises
    ------
    ValueError
        Outside the strict over-parameterisation, or with label noise unless
        :math:`m > n_r + 1` and :math:`d_f + d_o > n_f + 1` (finite inverse-Wishart means).
    """
    from rbmlib.theory.deterministic import _check_noise_moments

    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    if d_o == 0:  # FBM resets S_f only: the golden model
        return expected_golden_fresh_remaining_loss(
            d_f=d_f, d_o=d_o, d_r=d_r, n_f=n_f, n_r=n_r, teacher_sq_norms=norms, noise=noise
        )
    _check_noise_moments(noise, d_f, d_o, d_r, n_f, n_r)
    law = compressed_law(d_f, d_o, d_r, n_f, n_r)
    so2 = norms[1] / d_o
    omega = _omega(law, norms, (d_f, d_o, d_r))
    signal = so2 * law.tr(law.eo) + 2 * so2 * law.tr_k(law.eo * law.er) + law.tr_kbk(law.er**2, omega)
    if noise == 0:
        return float(signal)
    return float(signal + noise**2 * _fbm_fresh_noise_unit(law, d_r, d_o + d_r, n_r))


def fbm_forgetting_loss_de(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Forgetting loss of FBM (reset, then fine-tune), noiseless, leading order.

    Returns
    -------
    float
        With :math:`L = E_f + K_rE_o`, the residual on :math:`D_f` is :math:`-X_fLw_o`. Removing
        forgetting row :math:`i` as in Proposition 4.9 (:math:`x_i \\sim N(0, V_F)` is independent
        of :math:`K_{-i}` and of :math:`L`, a function of :math:`X_r` alone),

        .. math::

            \\mathbb E\\,\\mathcal L \\approx \\operatorname{tr}(L^\\top V_F L\\,PSP)
            + 2\\kappa_L\\operatorname{tr}(V_F L P S K) + \\kappa_L^2\\operatorname{tr}(V_F K S K),
            \\qquad \\kappa_L = \\frac{\\operatorname{tr}(V_F K L^\\top)}{\\operatorname{tr}(V_F K)},

        :math:`S = \\operatorname{diag}(s^2)`, :math:`L^\\top V_F L = E_f + E_oK_rE_oK_rE_o`. In
        :math:`V` every term is a trace of :math:`K_C` or :math:`K_C\\Omega K_C` against
        :math:`\\tilde E_f`, :math:`\\Sigma\\tilde E_o` and :math:`\\tilde E_o^3` (the module docstring).
        Exact (golden) at :math:`d_o = 0`.

    Raises
    ------
    ValueError
        For label noise (not derived) or outside the strict over-parameterisation.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    norms = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    if d_o == 0:
        return expected_golden_forgetting_loss(
            d_f=d_f, d_o=d_o, d_r=d_r, n_f=n_f, n_r=n_r, teacher_sq_norms=norms, noise=noise
        )
    _noiseless(noise, "FBM forgetting-loss")
    law = compressed_law(d_f, d_o, d_r, n_f, n_r)
    dims = (d_f, d_o, d_r)
    s2 = [n / d if d > 0 else 0.0 for n, d in zip(norms, dims)]
    return _forgetting_terms(law, _omega(law, norms, dims), s2, fbm=True)
