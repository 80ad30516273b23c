"""The small-leak theory of the mask-ratio sweep (Chapter 5, Proposition 5.2).

With a feature leak the off-support inputs are :math:`\\varepsilon Z`, :math:`Z` i.i.d.
:math:`N(0, 1)` independent of everything else. Every expected loss is an even function of
:math:`\\varepsilon`, so its first-order term is zero. With Fisher masks the
:math:`\\varepsilon \\to 0` limit is the leak-free expectation of the same ratio at *every*
ratio: where a mask cuts through a block of zero saliency the leak picks the subset (through
:math:`\\varepsilon^2 Z^2`), independently of the rest of the instance, and the coordinates of a
block are exchangeable, so the expectation is that of any fixed subset. A closed form of that
limit exists where the mask frees a union of blocks (:func:`leak_boundary_ratios`): there the
small-leak theory is the leak-free closed form plus :math:`O(\\varepsilon^2)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rbmlib.linear_model import BlockSizes
from rbmlib.masks import n_freed

__all__ = ["leak_boundary_ratios", "small_leak_losses"]

_METHODS = ("rbm", "fbm")


def _freed_blocks(sizes: BlockSizes, method: str) -> dict[int, str]:
    """Freed counts at which ``method``'s Fisher mask is a union of blocks, and the model it then is."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    d_f, d_o = sizes.d_f, sizes.d_o
    # RBM frees the least retain-salient coordinates: S_f (retain saliency O(eps^2)) first, then
    # S_o and S_r mixed (both O(1)). FBM frees the most forget-salient: S_f and S_o mixed, then S_r.
    first = d_f if method == "rbm" else d_f + d_o
    out = {sizes.d: "golden"}
    if 0 < first < sizes.d:
        out[first] = method
    return out


def leak_boundary_ratios(sizes: BlockSizes, method: str) -> tuple[float, ...]:
    """Mask ratios (fraction freed) at which Proposition 5.2 gives the small-leak limit.

    Returns
    -------
    tuple of float
        :math:`d_f/d` for RBM, :math:`(d_f + d_o)/d` for FBM (when that block union is neither empty
        nor everything), and 1 (reset-then-FT from nothing kept: the golden retrain), ascending.
    """
    return tuple(sorted(count / sizes.d for count in _freed_blocks(sizes, method)))


def small_leak_losses(
    sizes: BlockSizes,
    *,
    method: str,
    ratio: float,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
) -> dict[str, float | None]:
    """Leading term of every expected loss of reset-then-FT as the leak :math:`\\varepsilon \\to 0`.

    Parameters
    ----------
    sizes : BlockSizes
    method : {"rbm", "fbm"}
        Whose Fisher saliency ranks the coordinates.
    ratio : float
        Fraction of weights freed, in :math:`(0, 1]`; must free a block union
        (:func:`leak_boundary_ratios`, compared after the rounding of :func:`rbmlib.masks.n_freed`).

    Returns
    -------
    dict
        ``metric -> value``: the leak-free expectation of the support mask's model (RBM, FBM or
        golden from :func:`rbmlib.theory.theory_table`, noiseless), so that
        :math:`\\mathbb E\\,\\mathcal L(\\varepsilon) = \\text{value} + 0\\cdot\\varepsilon + O(\\varepsilon^2)`;
        ``None`` where the table has no formula.

    Raises
    ------
    ValueError
        At any other ratio: the limit is still the leak-free expectation of that ratio
        (Proposition 5.2), but that mask resets part of a block, and the book has no closed form
        for partial-block resets.
    """
    from rbmlib.theory.tables import theory_table

    blocks = _freed_blocks(sizes, method)
    count = n_freed(sizes.d, ratio)
    if count not in blocks:
        edges = ", ".join(f"{c}/{sizes.d}" for c in sorted(blocks))
        raise ValueError(
            f"the small-leak limit needs a ratio that frees a block union of {method}'s saliency "
            f"({edges}); ratio {ratio} frees {count} of {sizes.d} coordinates (a partial-block reset, "
            "which has no closed form)"
        )
    row = theory_table(sizes, teacher_scales=teacher_scales)[blocks[count]]
    return {metric: cell[0] for metric, cell in row.items()}
