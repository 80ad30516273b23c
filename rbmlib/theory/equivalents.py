"""Deterministic equivalents of the block projector :math:`P = X^+ X` (proportional limit).

The design :math:`X = [X_r; X_f]` has a *block variance profile*: row group :math:`F`
(:math:`n_f` rows) has i.i.d. :math:`N(0,1)` entries on :math:`S_f \\cup S_o`, row group :math:`R`
(:math:`n_r` rows) on :math:`S_o \\cup S_r`, zeros elsewhere. For column weights
:math:`s = (s_f, s_o, s_r) > 0` and a ridge :math:`\\lambda \\ge 0` the pair of equations

.. math::

    h_a = \\frac{1}{s_a + \\sum_{I \\ni a} n_I g_I}, \\qquad
    g_I = \\frac{1}{\\lambda + \\sum_{a \\in I} d_a h_a}
    \\qquad (a \\in \\{f, o, r\\},\\ I \\in \\{F, R\\})

(":math:`a \\in I`": group :math:`I` uses block :math:`a`) is the variance-profile fixed point
of Hachem, Loubaton and Najim (2007) for the resolvent, written in the variables that stay
finite as :math:`\\lambda \\to 0`. Its solution gives, in the limit
:math:`d_a, n_I \\to \\infty` at fixed ratios,

* :math:`\\frac1{d_a}\\operatorname{tr} E_a \\lambda (X^\\top X + \\lambda S)^{-1} \\to h_a`, so at
  :math:`s = 1, \\lambda = 0` the null-space projector :math:`K = I - P` has block traces
  :math:`\\operatorname{tr}(E_a K) \\approx d_a e_a`, :math:`e_a = h_a`;
* :math:`\\operatorname{tr}(E_a K E_b K) \\approx F_{ab} = -d_a\\,\\partial h_a / \\partial s_b`
  (from :math:`\\lim_{\\lambda\\to0}\\lambda(X^\\top X + \\lambda S)^{-1} = N (N^\\top S N)^{-1} N^\\top`);
* :math:`\\operatorname{tr}(E_a X^+ X^{+\\top}) \\approx N_a = d_a\\,\\partial h_a / \\partial \\lambda`.

:math:`E_a` is the diagonal indicator of block :math:`a`. The derivatives come from the implicit
function theorem on the two equations in :math:`g`, not from finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import root

__all__ = ["BLOCKS", "GROUPS", "ProjectorEquivalent", "projector_equivalent"]

#: Column blocks and row groups, in the order of the arrays of :class:`ProjectorEquivalent`.
BLOCKS: tuple[str, ...] = ("f", "o", "r")
GROUPS: tuple[str, ...] = ("F", "R")

#: ``_USES[I, a]``: row group ``I`` has non-zero entries on block ``a``.
_USES = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])


@dataclass(frozen=True)
class ProjectorEquivalent:
    """Solution of the fixed point at :math:`s = 1, \\lambda = 0` and its derivatives.

    Attributes
    ----------
    dims : ndarray, shape (3,)
        :math:`(d_f, d_o, d_r)`.
    counts : ndarray, shape (2,)
        :math:`(n_f, n_r)`.
    e : ndarray, shape (3,)
        Null-space fraction :math:`e_a \\approx \\frac1{d_a}\\operatorname{tr} E_a K` of each block
        (``nan`` for an empty block).
    g : ndarray, shape (2,)
        :math:`g_I \\approx` the diagonal of :math:`(X X^\\top)^{-1}` on group :math:`I`.
    F : ndarray, shape (3, 3)
        :math:`F_{ab} \\approx \\operatorname{tr}(E_a K E_b K)` (symmetric; 0 on empty blocks).
    noise_gain : ndarray, shape (3,)
        :math:`N_a \\approx \\operatorname{tr}(E_a X^+ X^{+\\top})`.
    dg_dlam : ndarray, shape (2,)
        :math:`\\partial g_I / \\partial\\lambda` at :math:`\\lambda = 0`.
    dh_dlam : ndarray, shape (3,)
        :math:`\\partial h_a / \\partial\\lambda` at :math:`\\lambda = 0`.
    """

    dims: np.ndarray
    counts: np.ndarray
    e: np.ndarray
    g: np.ndarray
    F: np.ndarray
    noise_gain: np.ndarray
    dg_dlam: np.ndarray
    dh_dlam: np.ndarray


def _h(g: np.ndarray, counts: np.ndarray, s: np.ndarray) -> np.ndarray:
    return 1.0 / (s + (counts * g) @ _USES)


def _residual(log_g: np.ndarray, dims: np.ndarray, counts: np.ndarray) -> np.ndarray:
    g = np.exp(log_g)  # g > 0 by construction
    h = _h(g, counts, np.ones(3))
    return np.log(g) + np.log(_USES @ (dims * h))  # log(g_I * sum_a d_a h_a) = 0


@lru_cache(maxsize=4096)  # a pure function of five integers; its arrays are made read-only
def projector_equivalent(d_f: int, d_o: int, d_r: int, n_f: int, n_r: int) -> ProjectorEquivalent:
    """Solve the block fixed point and differentiate it (see the module docstring).

    Parameters
    ----------
    d_f, d_o, d_r, n_f, n_r : int
        Block sizes; need :math:`n_f \\ge 1`, :math:`n_r \\ge 1`, :math:`n_f < d_f + d_o`,
        :math:`n_r < d_o + d_r` and :math:`n_f + n_r < d` (strict: at equality a row group has no
        null space left and :math:`g_I` is infinite, the square-design edge).

    Returns
    -------
    ProjectorEquivalent

    Raises
    ------
    ValueError
        Outside the strict over-parameterised regime, or if the solver does not converge.
    """
    dims = np.array([d_f, d_o, d_r], dtype=float)
    counts = np.array([n_f, n_r], dtype=float)
    if min(d_f, d_o, d_r) < 0 or min(n_f, n_r) < 1:
        raise ValueError(f"need d_f, d_o, d_r >= 0 and n_f, n_r >= 1, got {(d_f, d_o, d_r, n_f, n_r)}")
    if not (n_f < d_f + d_o and n_r < d_o + d_r and n_f + n_r < d_f + d_o + d_r):
        raise ValueError(
            "the deterministic equivalent needs a strictly over-parameterised design, "
            "n_f < d_f + d_o, n_r < d_o + d_r and n_f + n_r < d; "
            f"got (d_f, d_o, d_r, n_f, n_r) = {(d_f, d_o, d_r, n_f, n_r)}"
        )
    # Start from the decoupled solution (each group alone): g_I = 1 / (d_I - n_I).
    start = np.log(1.0 / (_USES @ dims - counts))
    sol = root(_residual, start, args=(dims, counts), method="hybr", tol=1e-13)
    # Judge convergence by the residual itself: hybr may report "no further improvement" when it
    # is already at round-off.
    if np.max(np.abs(_residual(sol.x, dims, counts))) > 1e-10:
        raise ValueError(f"the block fixed point did not converge at {(d_f, d_o, d_r, n_f, n_r)}: {sol.message}")
    g = np.exp(sol.x)
    h = _h(g, counts, np.ones(3))
    # Implicit derivatives of Phi_I(g; s, lam) = g_I (lam + sum_a d_a u_Ia h_a) - 1 = 0.
    dh_dg = -(h**2)[:, None] * (_USES * counts[:, None]).T  # (3, 2): dH_a / dg_J
    J = np.diag(_USES @ (dims * h)) + g[:, None] * (_USES * dims) @ dh_dg  # (2, 2)
    dPhi_ds = -(g[:, None] * _USES * (dims * h**2))  # (2, 3): dPhi_I / ds_b
    dg_ds = -np.linalg.solve(J, dPhi_ds)  # (2, 3)
    dh_ds = -np.diag(h**2) + dh_dg @ dg_ds  # (3, 3): dh_a / ds_b
    dg_dlam = -np.linalg.solve(J, g)  # dPhi_I / dlam = g_I
    dh_dlam = dh_dg @ dg_dlam
    present = dims > 0
    F = np.where(present[:, None] & present[None, :], -dims[:, None] * dh_ds, 0.0)
    F = 0.5 * (F + F.T)  # symmetric in exact arithmetic; remove round-off asymmetry
    arrays = dict(
        dims=dims,
        counts=counts,
        e=np.where(present, h, np.nan),
        g=g,
        F=F,
        noise_gain=np.where(present, dims * dh_dlam, 0.0),
        dg_dlam=dg_dlam,
        dh_dlam=dh_dlam,
    )
    for array in arrays.values():
        array.setflags(write=False)  # shared by the cache: nobody may change them
    return ProjectorEquivalent(**arrays)
