r"""Membership inference in the block model: does the unlearned model still remember $x$? (Chapter 8)

The game of :mod:`rbmlib.deep.audit`, in closed form. A forgetting example $(x, y) \in D_f$ and a
model $w$ are given; the attacker decides between

* $H_1$: $w$ was **trained on** $x$ **and then unlearned** (FT, RBM or FBM of Chapters 1–4), and
* $H_0$: $w$ **never saw** $x$ (the golden model, retrained on $D_r$).

**Statistic.** The residual $r = x^\top w - y$. Under $H_0$, $x$ is independent of $w_g$, so
$r \mid w_g \sim \mathcal N(0, \lVert (w_g - w_*)_{S_f \cup S_o}\rVert^2)$: a zero-mean Gaussian
whose variance, averaged over draws, is the golden forgetting loss
$\sigma_0^2 = \mathbb E\,\mathcal L(w_g, D_f)$ (Chapters 2–3). Under $H_1$ the residual has
variance $\sigma_1^2 = \mathbb E\,\mathcal L(w, D_f)$, the method's forgetting loss (Chapter 4).

**The likelihood-ratio test** between $\mathcal N(0, \sigma_1^2)$ and $\mathcal N(0, \sigma_0^2)$
thresholds $|r|$ (Neyman–Pearson): with $\sigma_1 < \sigma_0$ it says "unlearned" when
$|r| \le t$, so with $\kappa = \sigma_0/\sigma_1$

.. math::

    \mathrm{FPR}(t) = 2\Phi(t/\sigma_0) - 1, \qquad
    \mathrm{TPR} = 2\Phi\!\big(\kappa\,\Phi^{-1}(\tfrac{1 + \mathrm{FPR}}{2})\big) - 1, \qquad
    \mathrm{AUC} = \Pr\big[|r_1| < |r_0|\big] = \tfrac{2}{\pi}\arctan\kappa,

and symmetrically ($|r| \ge t$, $\kappa = \sigma_1/\sigma_0$) when the method over-forgets.

* **FT** leaves every forgetting residual at exactly zero ($w_t = w_o$ interpolates $D$,
  Chapter 1): $\sigma_1 = 0$, $\kappa = \infty$, TPR 1 at FPR 0, AUC 1. A perfect membership signal.
* **Golden** against itself: $\kappa = 1$, AUC $\tfrac12$.
* **RBM, FBM with distinct features** ($d_o = 0$): both *are* the golden model (Chapter 2), so
  AUC $\tfrac12$ exactly.
* **RBM with overlap**: $\sigma_1^2$ is the deterministic equivalent of Chapter 4, so the curve is
  a theory curve under the Gaussian approximation (the residual of an example the model was
  trained on is only approximately Gaussian); **FBM with overlap** likewise, with the
  deterministic equivalent of Chapter 5 (Theorem 5.1), which exists without label noise only.

The test thresholds $|r|$ the same way for every example: in the block model all forgetting
examples are exchangeable, so the per-example test of U-LiRA reduces to this population test.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from rbmlib.linear_model import BlockSizes, LinearInstance, fit_models
from rbmlib.masks import fbm_keep_mask, rbm_keep_mask, reset_then_finetune
from rbmlib.roc import auc, roc, tpr_at_fpr
from rbmlib.theory.tables import expected_losses, expected_masked_losses

__all__ = [
    "MEMBERSHIP_MODELS",
    "forget_residuals",
    "gaussian_scale_auc",
    "gaussian_scale_roc",
    "membership_scores",
    "residual_scales",
    "simulated_membership",
    "simulated_roc",
]

#: The models of the membership game, in reporting order ("golden" is the null against itself).
MEMBERSHIP_MODELS: tuple[str, ...] = ("golden", "ft", "rbm", "fbm")


def forget_residuals(instance: LinearInstance) -> dict[str, np.ndarray]:
    r"""Residuals $r_i = x_i^\top w - y_i$ on $D_f$ of every model of :data:`MEMBERSHIP_MODELS`.

    RBM and FBM are reset-then-fine-tune with the support masks (:func:`rbmlib.masks.rbm_keep_mask`,
    :func:`rbmlib.masks.fbm_keep_mask`; Chapter 4).

    Returns
    -------
    dict
        ``model -> (..., n_f)`` residuals.
    """
    fits = fit_models(instance)
    _, w_rbm = reset_then_finetune(fits.w_o, rbm_keep_mask(instance), instance)
    _, w_fbm = reset_then_finetune(fits.w_o, fbm_keep_mask(instance), instance)
    weights = {"golden": fits.w_g, "ft": fits.w_t, "rbm": w_rbm, "fbm": w_fbm}
    return {m: np.einsum("...nd,...d->...n", instance.X_f, w) - instance.y_f for m, w in weights.items()}


def residual_scales(sizes: BlockSizes, *, noise: float = 0.0) -> dict[str, float | None]:
    r"""$\sigma = \sqrt{\mathbb E\,\mathcal L(w, D_f)}$ of every model from the chapters' formulas.

    ``None`` where the book has no formula (FBM's forgetting loss under label noise).
    """
    base = expected_losses(sizes, noise=noise)
    masked = expected_masked_losses(sizes, noise=noise)
    losses = {
        "golden": base["golden"]["forgetting_loss"],
        "ft": base["ft"]["forgetting_loss"],
        "rbm": masked["rbm"]["forgetting_loss"],
        "fbm": masked["fbm"]["forgetting_loss"],
    }
    return {m: None if v is None else float(np.sqrt(max(v, 0.0))) for m, v in losses.items()}


def gaussian_scale_auc(sigma_method: float, sigma_golden: float) -> float:
    r"""$\tfrac2\pi\arctan\kappa$, $\kappa = \max(\sigma_0/\sigma_1, \sigma_1/\sigma_0)$; 1 when one scale is 0."""
    lo, hi = sorted((float(sigma_method), float(sigma_golden)))
    if hi <= 0:
        return 0.5  # both residuals identically zero: nothing to tell apart
    return 1.0 if lo == 0 else float(2 / np.pi * np.arctan(hi / lo))


def gaussian_scale_roc(fpr: np.ndarray, sigma_method: float, sigma_golden: float) -> np.ndarray:
    r"""TPR of the likelihood-ratio test at each FPR (module docstring), zero-mean Gaussian residuals."""
    fpr = np.clip(np.asarray(fpr, dtype=np.float64), 0.0, 1.0)
    lo, hi = sorted((float(sigma_method), float(sigma_golden)))
    if lo == 0:
        return np.ones_like(fpr) if hi > 0 else fpr
    kappa = hi / lo
    if sigma_method <= sigma_golden:  # "unlearned" when |r| is small
        return 2 * ndtr(kappa * ndtri((1 + fpr) / 2)) - 1
    return 2 - 2 * ndtr(ndtri(1 - fpr / 2) / kappa)  # over-forgetting: "unlearned" when |r| is large


def membership_scores(
    r_method: np.ndarray, r_golden: np.ndarray, *, method_smaller: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The test's scores (higher = "unlearned") of the method's and the golden model's residuals.

    ``method_smaller``: the method's residuals have the smaller scale (it fits $D_f$ better than
    the golden model), so the score is $-|r|$; otherwise $+|r|$.
    """
    sign = -1.0 if method_smaller else 1.0
    return sign * np.abs(np.ravel(r_method)), sign * np.abs(np.ravel(r_golden))


def simulated_membership(instance: LinearInstance, *, groups: int = 10) -> dict[str, dict[str, float]]:
    """AUC, TPR at 1 % / 5 % FPR and residual scale of every model against the golden one.

    Parameters
    ----------
    instance : LinearInstance
        A batch of draws (leading axis); pairs are (method, golden) residuals of the same example.
    groups : int
        The draws are split into this many groups for the standard error of the AUC (batch means:
        examples of one draw share a model, so they are not independent).

    Returns
    -------
    dict
        ``model -> {"auc", "auc_se", "tpr1", "tpr5", "sigma"}``; ``sigma`` the RMS residual.
    """
    res = forget_residuals(instance)
    draws = res["golden"].shape[0] if res["golden"].ndim > 1 else 1
    if draws < groups:
        raise ValueError(f"need at least groups={groups} draws for the batch-means SE, got {draws}")
    r0 = np.reshape(res["golden"], (draws, -1))
    sigma0 = float(np.sqrt(np.mean(r0**2)))
    out = {}
    for model in MEMBERSHIP_MODELS:
        r1 = np.reshape(res[model], (draws, -1))
        sigma1 = float(np.sqrt(np.mean(r1**2)))
        smaller = sigma1 <= sigma0
        pos, neg = membership_scores(r1, r0, method_smaller=smaller)
        parts = [
            auc(*membership_scores(a, b, method_smaller=smaller))
            for a, b in zip(np.array_split(r1, groups), np.array_split(r0, groups))
        ]
        out[model] = {
            "auc": auc(pos, neg),
            "auc_se": float(np.std(parts, ddof=1) / np.sqrt(groups)),
            "tpr1": tpr_at_fpr(pos, neg, 0.01),
            "tpr5": tpr_at_fpr(pos, neg, 0.05),
            "sigma": sigma1,
        }
    return out


def simulated_roc(instance: LinearInstance, model: str) -> tuple[np.ndarray, np.ndarray]:
    """Empirical ROC (FPR, TPR) of the test for ``model`` against the golden model."""
    res = forget_residuals(instance)
    r1, r0 = res[model], res["golden"]
    smaller = np.mean(r1**2) <= np.mean(r0**2)
    return roc(*membership_scores(r1, r0, method_smaller=bool(smaller)))
