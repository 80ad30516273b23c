"""Weight saliency and masks in the linear model: retention-based (RBM) versus forgetting-based (FBM).

Chapter 4 derives everything here. In short:

* the gradient of either loss vanishes at an interpolating original model, so saliency is read
  from quantities that do not: the diagonal of the Fisher (Gauss–Newton) matrix
  :math:`h_j(D) = \\frac1n\\sum_i x_{ij}^2`, or the gradient at initialisation
  :math:`|\\nabla \\mathcal L(0; D)|_j = |\\frac2n X^\\top y|_j`;
* a mask is a boolean vector of **kept** (frozen) coordinates; its complement is the **freed**
  coordinates, the ones the method changes (reset, or moved by the masked update). ``ratio``
  follows the field's convention (SalUn's, and Chapter 6's): it is the fraction of the ``d``
  coordinates **freed**, exactly ``round(ratio * d)`` of them (at least one), ties broken by
  coordinate index (the lower index wins). Ratio 1 frees every weight: reset-then-FT becomes
  the golden retrain and the masked update the unmasked objective (the analogue of RL).
  ``ratio=None`` means "free what the saliency says", i.e. read the support: RBM frees the
  coordinates that are *not* retain-salient, FBM the forget-salient ones;
* two ways to use a mask: *reset, then fine-tune* (zero what is not kept, then
  :math:`\\mathrm{fit}(\\cdot, X_r, y_r)`) and *masked update* (only the coordinates that are not
  kept move, to fit :math:`D_r` and the relabelled forgetting set :math:`(X_f, 0)`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from rbmlib.linear_model import BlockSizes, LinearInstance, interpolate
from rbmlib.validators import finite_array, fraction

__all__ = [
    "SALIENCY_KINDS",
    "gradient",
    "saliency",
    "n_freed",
    "free_fraction",
    "rbm_keep_mask",
    "fbm_keep_mask",
    "reset_then_finetune",
    "masked_system",
    "masked_update",
    "fbm_masked_update_is_exact",
    "masked_updates_coincide",
    "masked_regime",
    "MASK_METHODS",
    "masked_weights",
]

#: Saliency statistics that are informative at an interpolating model.
SALIENCY_KINDS: tuple[str, ...] = ("fisher", "init_gradient")


def gradient(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Gradient :math:`\\nabla \\mathcal L(w; D) = \\frac2n X^\\top (Xw - y)`, shape ``(..., d)``."""
    w, X, y = (np.asarray(a, dtype=float) for a in (w, X, y))
    residual = np.einsum("...nd,...d->...n", X, w) - y
    return 2.0 / X.shape[-2] * np.einsum("...nd,...n->...d", X, residual)


def saliency(X: np.ndarray, y: np.ndarray, *, kind: str = "fisher") -> np.ndarray:
    """Per-coordinate saliency of a data set, shape ``(..., d)``.

    Parameters
    ----------
    X : ndarray, shape (..., n, d)
        Inputs of the data set the map is built from (``X_r`` for RBM, ``X_f`` for FBM/SalUn).
    y : ndarray, shape (..., n)
        Its labels.
    kind : {"fisher", "init_gradient"}
        ``"fisher"``: :math:`h_j = \\frac1n \\sum_i x_{ij}^2`, the diagonal of the Hessian
        :math:`\\frac12\\nabla^2\\mathcal L`, which does not depend on the weights;
        ``"init_gradient"``: :math:`|\\frac2n X^\\top y|_j`, the gradient magnitude at :math:`w = 0`.

    Notes
    -----
    Both vanish exactly on the coordinates no input of the data set uses, so in the block model
    (no leak) their supports are :math:`S_o \\cup S_r` for :math:`D_r` and :math:`S_f \\cup S_o`
    for :math:`D_f` (Chapter 4, Proposition 4.1).
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim < 2 or y.shape != X.shape[:-1]:
        raise ValueError(f"X must be (..., n, d) and y (..., n): got X {X.shape}, y {y.shape}")
    _check_finite("X", X), _check_finite("y", y)
    if kind == "fisher":
        return np.mean(X**2, axis=-2)
    if kind == "init_gradient":
        return np.abs(gradient(np.zeros(X.shape[:-2] + X.shape[-1:]), X, y))
    raise ValueError(f"saliency kind must be one of {SALIENCY_KINDS}, got {kind!r}")


def _check_ratio(ratio: float) -> float:
    return fraction(ratio, "mask ratio (fraction of weights freed)")


def n_freed(d: int, ratio: float) -> int:
    """Number of freed coordinates, :math:`\\max(1, \\mathrm{round}(\\text{ratio}\\cdot d))`, for ``ratio`` in (0,
    1]."""
    return max(1, int(round(_check_ratio(ratio) * d)))


def _check_finite(name: str, a: np.ndarray) -> np.ndarray:
    return finite_array(a, name)


def free_fraction(scores: np.ndarray, ratio: float, *, free: Literal["most", "least"]) -> np.ndarray:
    """Boolean mask of the **freed** coordinates: exactly :func:`n_freed` of each score vector.

    Parameters
    ----------
    scores : ndarray, shape (..., d)
        Saliency scores.
    ratio : float
        Fraction of coordinates freed, in :math:`(0, 1]` (the field's mask ratio).
    free : {"most", "least"}
        Free the most salient coordinates (FBM/SalUn: the forget-salient weights change) or the
        least salient ones (RBM: the retain-salient weights are kept, the rest change).

    Returns
    -------
    ndarray of bool, shape (..., d)
        ``True`` for freed coordinates. Ties are broken by coordinate index, lower first, so the
        mask is a deterministic function of the scores.
    """
    scores = _check_finite("saliency scores", np.asarray(scores, dtype=float))
    if free not in ("most", "least"):
        raise ValueError(f"free must be 'most' or 'least', got {free!r}")
    k = n_freed(scores.shape[-1], ratio)
    order = np.argsort(-scores if free == "most" else scores, axis=-1, kind="stable")
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order[..., :k], True, axis=-1)
    return mask


def rbm_keep_mask(instance: LinearInstance, *, ratio: float | None = None, kind: str = "fisher") -> np.ndarray:
    """Retention-based mask :math:`m_r`: the coordinates salient for the **remaining** data.

    ``ratio=None`` keeps the support of the retain saliency (:math:`S_o \\cup S_r` without a leak);
    a ratio frees that fraction of the coordinates, the least retain-salient ones, and keeps the rest.
    """
    scores = saliency(instance.X_r, instance.y_r, kind=kind)
    return scores > 0 if ratio is None else ~free_fraction(scores, ratio, free="least")


def fbm_keep_mask(instance: LinearInstance, *, ratio: float | None = None, kind: str = "fisher") -> np.ndarray:
    """Forgetting-based mask: keep what is **not** salient for the forgetting data, :math:`1 - m_f`.

    ``ratio=None`` frees the support of the forget saliency (:math:`S_f \\cup S_o` without a
    leak); a ratio frees that fraction of the coordinates, the most forget-salient ones.
    """
    scores = saliency(instance.X_f, instance.y_f, kind=kind)
    return scores == 0 if ratio is None else ~free_fraction(scores, ratio, free="most")


def _check_mask(mask: np.ndarray, w: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"a mask must be boolean, got dtype {mask.dtype}")
    if mask.shape != w.shape:
        raise ValueError(f"mask shape {mask.shape} does not match weight shape {w.shape}")
    return mask


def reset_then_finetune(w_o: np.ndarray, keep: np.ndarray, instance: LinearInstance) -> tuple[np.ndarray, np.ndarray]:
    """Zero the coordinates outside ``keep``, then fine-tune on :math:`D_r` to convergence.

    Returns
    -------
    (w_reset, w_tuned) : tuple of ndarray, shape (..., d)
        :math:`w_0 = m \\odot w_o` and :math:`\\mathrm{fit}(w_0, X_r, y_r)` (Chapter 4,
        Propositions 4.2–4.3).
    """
    w_o = np.asarray(w_o, dtype=float)
    w_reset = np.where(_check_mask(keep, w_o), w_o, 0.0)
    return w_reset, interpolate(w_reset, instance.X_r, instance.y_r)


def masked_system(w_o: np.ndarray, keep: np.ndarray, instance: LinearInstance) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares system :func:`masked_update` solves: :math:`Z` and :math:`r` with
    :math:`\\delta = Z^+ r`.

    :math:`Z = W [X_r; X_f]` with the columns in ``keep`` set to zero, :math:`r = W [y_r - X_r w_o;
    \\, -X_f w_o]`, :math:`W = \\mathrm{diag}(n_r^{-1/2} I, n_f^{-1/2} I)` (Chapter 4, Proposition 4.4).

    Returns
    -------
    Z : ndarray, shape (..., n_r + n_f, d)
    r : ndarray, shape (..., n_r + n_f)
    """
    w_o = _check_finite("w_o", np.asarray(w_o, dtype=float))
    for name in ("X_r", "y_r", "X_f", "y_f"):
        _check_finite(name, np.asarray(getattr(instance, name)))
    free = ~_check_mask(keep, w_o)
    n_r, n_f = instance.X_r.shape[-2], instance.X_f.shape[-2]
    weights = np.concatenate([np.full(n_r, n_r**-0.5), np.full(n_f, n_f**-0.5)])
    X = np.concatenate([instance.X_r, instance.X_f], axis=-2)
    target = np.concatenate([instance.y_r, np.zeros(instance.y_f.shape)], axis=-1)
    residual = weights * (target - np.einsum("...nd,...d->...n", X, w_o))
    Z = weights[:, None] * X * free[..., None, :]  # frozen columns are zero, so delta is zero there
    return Z, residual


def masked_update(w_o: np.ndarray, keep: np.ndarray, instance: LinearInstance) -> np.ndarray:
    """Move only the coordinates outside ``keep`` to fit :math:`D_r` and the relabelled :math:`D_f`.

    The unlearning objective is
    :math:`\\mathcal L(w; D_r) + \\mathcal L(w; (X_f, 0))`: the forgetting labels are replaced by
    the uninformative label 0 (the label mean), the regression analogue of random labelling. Its
    gradient-descent limit from :math:`w_o` with the update confined to the free coordinates
    :math:`U` is :math:`w_o + \\delta`, :math:`\\delta = Z^+ r`, with :math:`Z` and :math:`r` of
    :func:`masked_system` (Chapter 4, Proposition 4.4). ``Z^+`` is the pseudo-inverse, so the
    formula also covers objectives that cannot be fitted exactly.

    Returns
    -------
    ndarray, shape (..., d)
        The updated weights; coordinates in ``keep`` are bit-identical to ``w_o``.
    """
    Z, residual = masked_system(w_o, keep, instance)
    # Z^+ = Z^T (Z Z^T)^+: an (n, n) symmetric pseudo-inverse instead of an SVD of the (n, d) Z.
    gram = Z @ np.swapaxes(Z, -1, -2)
    coef = np.einsum("...nk,...k->...n", np.linalg.pinv(gram, hermitian=True), residual)
    delta = np.einsum("...nd,...n->...d", Z, coef)
    w_o = np.asarray(w_o, dtype=float)
    return np.where(~np.asarray(keep, dtype=bool), w_o + delta, w_o)


def fbm_masked_update_is_exact(sizes: BlockSizes) -> bool:
    """Whether FBM's masked update fits :math:`D_r` and the relabelled :math:`D_f` exactly (a.s.).

    Chapter 4, Proposition 4.4: iff :math:`n_f + \\min(n_r, d_o) \\le d_f + d_o`; the condition
    is stated once, in :func:`rbmlib.theory.fbm_masked_consistent`.
    """
    from rbmlib.theory import fbm_masked_consistent

    return fbm_masked_consistent(d_f=sizes.d_f, d_o=sizes.d_o, n_f=sizes.n_f, n_r=sizes.n_r)


def masked_updates_coincide(sizes: BlockSizes) -> bool:
    """Whether RBM's and FBM's masked updates are the same weights (a.s.), Proposition 4.4.

    Iff :math:`d_o = 0` (both free :math:`S_f`), or :math:`n_r \\ge d_o` and :math:`n_f \\le d_f`;
    stated once, in :func:`rbmlib.theory.masked_updates_coincide`.
    """
    from rbmlib.theory import masked_updates_coincide as coincide

    return coincide(d_f=sizes.d_f, d_o=sizes.d_o, n_f=sizes.n_f, n_r=sizes.n_r)


def masked_regime(sizes: BlockSizes, *, rng: np.random.Generator, rtol: float = 1e-9) -> dict[str, object]:
    """Measure which branch of Proposition 4.4 one instance of ``sizes`` falls in, beside the prediction.

    Returns
    -------
    dict
        ``sizes`` (text), ``FBM exact`` (measured: FBM's masked update fits :math:`D_r` and zeroes the
        forgetting predictions to ``rtol`` of the label scale), ``FBM exact (Prop. 4.4)``
        (:func:`fbm_masked_update_is_exact`), ``identical`` (measured: the two updates agree to
        ``rtol``), ``identical (Prop. 4.4)`` (:func:`masked_updates_coincide`), and the remaining loss
        of FBM's update and the fresh-loss difference FBM − RBM on the instance (as text, round-off
        shown as ``"0"``).
    """
    from rbmlib.linear_model import fit_models, fresh_remaining_loss, remaining_loss, sample_instance

    inst = sample_instance(sizes, rng=rng)
    w_o = fit_models(inst).w_o
    rbm = masked_update(w_o, rbm_keep_mask(inst), inst)
    fbm = masked_update(w_o, fbm_keep_mask(inst), inst)
    scale = 1.0 + float(np.mean(inst.y_f**2) + np.mean(inst.y_r**2))
    fbm_remaining = float(remaining_loss(fbm, inst))
    fbm_exact = fbm_remaining < rtol * scale and float(np.max(np.abs(inst.X_f @ fbm))) < np.sqrt(rtol * scale)
    return {
        "sizes": ", ".join(str(v) for v in (sizes.d_f, sizes.d_o, sizes.d_r, sizes.n_f, sizes.n_r)),
        "FBM exact": bool(fbm_exact),
        "FBM exact (Prop. 4.4)": fbm_masked_update_is_exact(sizes),
        "identical": bool(np.max(np.abs(rbm - fbm)) < np.sqrt(rtol * scale)),
        "identical (Prop. 4.4)": masked_updates_coincide(sizes),
        "FBM remaining loss": _rounded(fbm_remaining, rtol * scale),
        "fresh loss FBM − RBM": _rounded(
            float(fresh_remaining_loss(fbm, inst) - fresh_remaining_loss(rbm, inst)), rtol * scale
        ),
    }


def _rounded(value: float, zero: float) -> str:
    """Three significant digits, and "0" for round-off (which differs between machines)."""
    return "0" if abs(value) < zero else f"{value:.3g}"


#: Linear unlearning methods of Chapters 4–5, in table order (beside ``original``, ``golden``, ``ft``).
MASK_METHODS: tuple[str, ...] = ("rbm", "fbm", "rbm_masked", "fbm_masked")


def masked_weights(
    instance: LinearInstance,
    w_o: np.ndarray,
    *,
    ratio: float | None = None,
    kind: str = "fisher",
    masked: bool = True,
) -> dict[str, np.ndarray]:
    """Weights of every masking method of :data:`MASK_METHODS`, plus the two reset points.

    Returns
    -------
    dict
        ``rbm`` / ``fbm``: reset, then fine-tune (RBM keeps :func:`rbm_keep_mask`, FBM keeps
        :func:`fbm_keep_mask`); ``rbm_reset`` / ``fbm_reset``: the same before fine-tuning;
        ``rbm_masked`` / ``fbm_masked``: :func:`masked_update` with the same masks (RBM moves
        the weights that are not retain-salient, FBM — SalUn's choice — the forget-salient ones),
        only when ``masked`` is true (they cost one pseudo-inverse per draw).
    """
    keep = {
        "rbm": rbm_keep_mask(instance, ratio=ratio, kind=kind),
        "fbm": fbm_keep_mask(instance, ratio=ratio, kind=kind),
    }
    out: dict[str, np.ndarray] = {}
    for name, mask in keep.items():
        out[f"{name}_reset"], out[name] = reset_then_finetune(w_o, mask, instance)
    if masked:
        for name, mask in keep.items():
            out[f"{name}_masked"] = masked_update(w_o, mask, instance)
    return out
