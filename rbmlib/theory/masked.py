"""Exact closed forms of the masked (SalUn-style) updates of Chapter 4, Proposition 4.4.

The masked update moves only the free coordinates :math:`U` of :math:`w_o` to the minimum-norm
least-squares solution of
:math:`\\begin{bmatrix} W_r X_{r,U} \\\\ W_f X_{f,U} \\end{bmatrix}\\delta_U
= \\begin{bmatrix} 0 \\\\ -W_f y_f \\end{bmatrix}`
(:func:`rbmlib.masks.masked_update`). RBM frees :math:`U = S_f`, FBM frees :math:`U = S_f \\cup S_o`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rbmlib.theory.golden import _check_noise, _check_sizes, _teacher_norms

__all__ = [
    "fbm_masked_consistent",
    "masked_updates_coincide",
    "expected_rbm_masked_forgetting_loss",
    "expected_fbm_masked_forgetting_loss",
]


def fbm_masked_consistent(*, d_f: int, d_o: int, n_f: int, n_r: int) -> bool:
    """Whether FBM's masked system is exactly solvable (almost surely).

    The system is :math:`R_o\\delta_o = 0`, :math:`A_f\\delta_f + B_f\\delta_o = -y_f`. The first
    block row has a zero right-hand side, so it only confines :math:`\\delta_o` to
    :math:`\\ker R_o`, of dimension :math:`d_o - \\min(n_r, d_o)`; the second is then solvable for
    every :math:`y_f` iff :math:`[A_f \\mid B_f N]` (:math:`N` a basis of :math:`\\ker R_o`) has full
    row rank, i.e. iff :math:`n_f + \\min(n_r, d_o) \\le d_f + d_o` (Gaussian blocks are in general
    position). Not :math:`n_r + n_f \\le d_f + d_o`, as the first edition of Proposition 4.4 said.
    """
    return n_f + min(n_r, d_o) <= d_f + d_o


def masked_updates_coincide(*, d_f: int, d_o: int, n_f: int, n_r: int) -> bool:
    """Whether RBM's and FBM's masked updates are the same vector (almost surely).

    If :math:`n_r \\ge d_o`, :math:`R_o` has full column rank, so an *exact* solution has
    :math:`\\delta_o = 0` and FBM's minimum-norm solution is RBM's; an exact solution exists iff
    moreover :math:`n_f \\le d_f`. If :math:`n_f > d_f` the FBM system is inconsistent and least
    squares trades some remaining fit (:math:`R_o\\delta_o \\ne 0`) for forgetting fit, while RBM
    cannot touch :math:`S_o`; if :math:`n_r < d_o`, FBM's minimum-norm solution uses
    :math:`\\ker R_o`. At :math:`d_o = 0` both free :math:`S_f` and coincide trivially.
    """
    return d_o == 0 or (n_r >= d_o and n_f <= d_f)


def expected_rbm_masked_forgetting_loss(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Exact expected forgetting loss of RBM's masked update, every size.

    Returns
    -------
    float
        .. math::

            \\mathbb E\\,\\mathcal L = \\|w_{*,S_f}\\|^2 + \\min\\!\\Big(1, \\frac{d_f}{n_f}\\Big)
            \\big(\\|w_{*,S_o}\\|^2 + \\sigma^2\\big).

    Notes
    -----
    :math:`\\delta_f = -A_f^+ y_f`, so :math:`X_f(w_o + \\delta) = (I - \\Pi) y_f` with :math:`\\Pi`
    the projector onto the column space of :math:`A_f`, and the loss against the true labels is
    :math:`\\frac1{n_f}\\|\\Pi y_f\\|^2`. With :math:`y_f = A_f a + (B_f b + \\varepsilon_f)`,
    :math:`\\Pi A_f a = A_f a` and :math:`B_f b + \\varepsilon_f \\sim N(0, (\\|b\\|^2 + \\sigma^2) I)`
    independent of :math:`A_f`, whence :math:`\\mathbb E = \\|a\\|^2 + \\frac{\\operatorname{rank}
    A_f}{n_f}(\\|b\\|^2 + \\sigma^2)` with :math:`\\operatorname{rank} A_f = \\min(n_f, d_f)`.
    For :math:`n_f \\le d_f` this is the label energy :math:`\\frac1{n_f}\\mathbb E\\|y_f\\|^2`;
    for :math:`d_f = 0` nothing moves and the loss is the original's 0.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    a2, o2, _ = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    return float(a2 + min(1.0, d_f / n_f) * (o2 + noise**2))


def expected_fbm_masked_forgetting_loss(
    *,
    d_f: int,
    d_o: int,
    d_r: int,
    n_f: int,
    n_r: int,
    teacher_sq_norms: Sequence[float] | None = None,
    noise: float = 0.0,
) -> float:
    """Exact expected forgetting loss of FBM's masked update where its system is consistent.

    Returns
    -------
    float
        :math:`\\|w_{*,S_f}\\|^2 + \\|w_{*,S_o}\\|^2 + \\sigma^2`, the label energy: the update sets
        every forgetting prediction to 0 exactly.

    Raises
    ------
    ValueError
        If :math:`n_f + \\min(n_r, d_o) > d_f + d_o` (:func:`fbm_masked_consistent`): then the
        update is a least-squares compromise between the two sets and this form does not apply.
    """
    _check_sizes(d_f, d_o, d_r, n_f, n_r)
    noise = _check_noise(noise)
    if not fbm_masked_consistent(d_f=d_f, d_o=d_o, n_f=n_f, n_r=n_r):
        raise ValueError(
            "FBM's masked system is inconsistent: it needs n_f + min(n_r, d_o) <= d_f + d_o, "
            f"got {n_f} + min({n_r}, {d_o}) > {d_f} + {d_o}"
        )
    a2, o2, _ = _teacher_norms(teacher_sq_norms, d_f, d_o, d_r)
    return float(a2 + o2 + noise**2)
