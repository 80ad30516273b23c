r"""Per-example membership audits of unlearning: U-LiRA, RMIA, and their ROC summaries (Chapter 8).

Pure functions on arrays (no torch): the deep engine (:mod:`rbmlib.deep.shadows`) feeds them the
confidences of shadow and target models, the linear chapter (:mod:`rbmlib.membership`) feeds them
simulated residuals.

**The game.** A model $\theta$ and an example $x$ of the forget set $D_f$ are given; the attacker
decides whether $\theta$ was *unlearned* ($x$ was trained on, then removed) or *retrained* ($x$ was
never seen). A score $s(x;\theta)$ (higher = "unlearned") is computed for every $x \in D_f$ once on
the unlearned target and once on the retrained target; the ROC of the positives (unlearned)
against the negatives (retrained) gives the AUC and the TPR at a low FPR. An attack that cannot
tell the two apart has AUC $\tfrac12$; a perfect unlearning method leaves every attack there.

**Statistic.** The logit-scaled true-class confidence (Carlini et al. 2022, "Membership inference
attacks from first principles", Sec. IV-B)

.. math::

    \phi(x;\theta) = \log\frac{p_y}{1 - p_y} = z_y - \log\sum_{j \ne y} e^{z_j},

where $z$ are the logits; the right-hand side is exact in floating point where $p_y \to 1$, which
is where a trained network's members sit. LiRA fits Gaussians to $\phi$ because it is close to
normal across training runs, unlike $p_y$.

**U-LiRA** (Hayes et al., arXiv 2403.01218, Sec. 4). $K$ shadow originals are trained, each is
unlearned with the method under audit and each is paired with a retrained model
(:mod:`rbmlib.deep.shadows` repeats the target's own experiment with other random streams). For
every $x$, the *in* distribution is fitted to $\phi(x)$ under the shadow-unlearned models (whose
original saw $x$), the *out* distribution under the shadow-retrained models (which never saw
$x$); the score is the log-likelihood ratio

.. math::

    s(x;\theta) = \log \mathcal N\big(\phi(x;\theta);\, \mu_{\text{in}}(x), \sigma_{\text{in}}^2\big)
                - \log \mathcal N\big(\phi(x;\theta);\, \mu_{\text{out}}(x), \sigma_{\text{out}}^2\big).

This is LiRA's *online* test with "member" replaced by "unlearned". The *offline* test uses the
out Gaussian alone, $s = \log \Phi\big((\phi - \mu_{\text{out}})/\sigma_{\text{out}}\big)$ (LiRA's
one-sided test, Carlini et al. Sec. VI-C): no unlearned shadows are needed, but an unlearned model
that is *less* confident than the retrained one (over-forgetting, the Streisand effect Hayes et al.
describe) scores as retrained. With few shadows the per-example variances are unreliable, so by
default one variance per distribution is pooled over all examples (Carlini et al. Sec. VI-B
recommend a global variance below about 64 shadow models; the book uses $K \le 8$); the means stay
per example, which is what makes the attack per-example.

**RMIA** (Zarifzadeh et al., "Low-cost high-power membership inference attacks", ICML 2024) needs
only reference models, here the $K$ retrained shadows (out for every $x \in D_f$). With
$\Pr(x\mid\theta) = p_y$, the offline approximation of the marginal
$\Pr(x) = \tfrac12\big[(1 + a)\,\overline{\Pr}_{\text{out}}(x) + (1 - a)\big]$ (their Sec. 3 and
App. B.2.2: a linear fit of the absent in-models from the out-models), a population $Z$ of
non-members (the test set) and

.. math::

    \mathrm{LR}_\theta(x, z) = \frac{\Pr(x\mid\theta)/\Pr(x)}{\Pr(z\mid\theta)/\Pr(z)}, \qquad
    s(x;\theta) = \frac{1}{|Z|}\,\#\{z \in Z : \mathrm{LR}_\theta(x, z) \ge \gamma\}.

The paper tunes $a$ on a held-out reference model and uses $\gamma$ near 1; the function's
defaults are the paper's $a = 0.3$ and $\gamma = 1$.

*The floor, and the unlearning variant.* For $a < 1$ the marginal never falls below
$\frac{1-a}{2}$: the linear fit says the absent in-model is confident on $x$, true when "in" means
*trained on $x$*. In the unlearning game "in" means *unlearned*, and a method that forgets a whole
class drives $\Pr(x\mid\theta)$ to $10^{-8}$ or below under the unlearned and the retrained model
alike; both ratios $\Pr(x\mid\theta)/\Pr(x)$ are then about 0, no $z$ is dominated, every score
is 0 and the AUC is exactly $\tfrac12$ whatever the models do. The audit
(:class:`rbmlib.deep.shadows.AuditConfig`) therefore uses $a = 1$: the marginal is the mean over
the retrained references, the distribution the unlearned model should match, and
$\mathrm{LR}_\theta(x, z)$ becomes the pairwise likelihood ratio of target against retrained
references for $x$ and for $z$ alike. The ratios are compared in log space, so that confidences
of $10^{-300}$ still order correctly.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import log_ndtr, logsumexp

# The ROC primitives are shared with the linear model's membership test (rbmlib.membership), so
# they live on the linear side, which needs no torch; they are re-exported here.
from rbmlib.roc import auc, roc, tpr_at_fpr

__all__ = [
    "AuditResult",
    "TPR_LEVELS",
    "audit_summary",
    "auc",
    "gaussian_fit",
    "logit_confidence",
    "logit_scale",
    "placement",
    "pooled_sd",
    "roc",
    "rmia_scores",
    "tpr_at_fpr",
    "ulira_scores",
]

#: FPR levels at which the true-positive rate is reported (1 % and 5 %, the issue's columns).
TPR_LEVELS: tuple[float, ...] = (0.01, 0.05)

#: Smallest standard deviation a Gaussian fit may return: a shadow set whose confidences are all
#: equal (e.g. saturated at the float64 limit) must not give a zero variance and infinite scores.
_MIN_SD = 1e-6

AuditResult = dict[str, float]


def logit_confidence(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    r"""$\phi = \log\frac{p_y}{1-p_y} = z_y - \log\sum_{j\ne y} e^{z_j}$ of every example.

    Parameters
    ----------
    logits : np.ndarray
        ``(n, C)`` logits $z$, $C \ge 2$.
    labels : np.ndarray
        ``(n,)`` true classes $y$.

    Returns
    -------
    np.ndarray
        ``(n,)`` float64 $\phi$; finite for finite logits (no $\log(1 - p)$ round-off).
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if z.ndim != 2 or z.shape[1] < 2 or y.shape != (z.shape[0],):
        raise ValueError(f"need logits (n, C>=2) and labels (n,), got {z.shape} and {y.shape}")
    rows = np.arange(z.shape[0])
    others = z.copy()
    others[rows, y] = -np.inf
    return z[rows, y] - logsumexp(others, axis=1)


def logit_scale(p: np.ndarray, *, eps: float = 1e-12) -> np.ndarray:
    r"""$\log\frac{p}{1-p}$ of probabilities, clipped to $[\varepsilon, 1-\varepsilon]$.

    For confidences given as probabilities (the linear model's, or stored ones); prefer
    :func:`logit_confidence` when logits exist.
    """
    q = np.clip(np.asarray(p, dtype=np.float64), eps, 1.0 - eps)
    return np.log(q) - np.log1p(-q)


def gaussian_fit(
    phi: np.ndarray, mask: np.ndarray | None = None, *, pooled: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r"""Per-example means and standard deviations of shadow statistics.

    Parameters
    ----------
    phi : np.ndarray
        ``(K, n)`` statistic of example $j$ under shadow model $k$.
    mask : np.ndarray, optional
        ``(K, n)`` bool, which entries belong to the distribution (e.g. "shadow $k$'s original saw
        $x_j$"); ``None``: all. Every example needs at least one entry, two when not pooled.
    pooled : bool
        One standard deviation for all examples: $\hat\sigma^2 = \sum_{k,j} m_{kj}(\phi_{kj} -
        \mu_j)^2 / (\sum m - n)$ (residuals about each example's own mean), LiRA's global variance
        for few shadows. ``False``: each example's own sample SD (``ddof=1``).

    Returns
    -------
    mu, sd : np.ndarray
        ``(n,)`` each; ``sd`` at least 1e-6.
    """
    phi = np.asarray(phi, dtype=np.float64)
    m = np.ones(phi.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if phi.ndim != 2 or m.shape != phi.shape:
        raise ValueError(f"need phi (K, n) and a mask of the same shape, got {phi.shape} and {m.shape}")
    count = m.sum(axis=0)
    need = 1 if pooled else 2
    if (count < need).any():
        j = int(np.argmin(count))
        raise ValueError(
            f"example {j} has {int(count[j])} shadow values; a Gaussian fit needs at least {need} per example"
        )
    mu = np.where(m, phi, 0.0).sum(axis=0) / count
    sq = np.where(m, (phi - mu) ** 2, 0.0)
    if pooled:
        dof = int(count.sum()) - phi.shape[1]
        var = np.full(phi.shape[1], sq.sum() / dof if dof > 0 else 0.0)
    else:
        var = sq.sum(axis=0) / (count - 1)
    return mu, np.maximum(np.sqrt(var), _MIN_SD)


def pooled_sd(*groups: tuple[np.ndarray, np.ndarray | None]) -> float:
    r"""One standard deviation shared by several Gaussian fits: residuals about each fit's means.

    Parameters
    ----------
    *groups : (phi, mask) pairs
        Each as in :func:`gaussian_fit`: ``phi`` ``(K_g, n)`` and a bool mask of the same shape
        (``None``: all entries); each group's per-example means are its masked column means.

    Returns
    -------
    float
        $\hat\sigma = \big(\sum_g \sum_{k,j} m^g_{kj}(\phi^g_{kj} - \mu^g_j)^2 /
        (\sum_g \sum m^g - G n)\big)^{1/2}$, at least 1e-6. One value per example and group leaves
        no residual, which is why the audit needs $K \ge 2$ shadows per hypothesis.

    Raises
    ------
    ValueError
        No degree of freedom left (every example has one value in every group).
    """
    total, dof = 0.0, 0
    for phi, mask in groups:
        phi = np.asarray(phi, dtype=np.float64)
        m = np.ones(phi.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        mu, _ = gaussian_fit(phi, m, pooled=True)  # refuses an example without a value
        total += float(np.where(m, (phi - mu) ** 2, 0.0).sum())
        dof += int(m.sum()) - phi.shape[1]
    if dof <= 0:
        raise ValueError("pooled_sd: no residual degrees of freedom (one value per example and group)")
    return max(float(np.sqrt(total / dof)), _MIN_SD)


def _log_normal(x: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return -0.5 * ((x - mu) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)


def ulira_scores(
    phi_target: np.ndarray,
    *,
    mu_out: np.ndarray,
    sd_out: np.ndarray,
    mu_in: np.ndarray | None = None,
    sd_in: np.ndarray | None = None,
    variant: Literal["online", "offline"] = "online",
) -> np.ndarray:
    r"""U-LiRA scores $s(x;\theta)$ of the target model's statistics (module docstring).

    Parameters
    ----------
    phi_target : np.ndarray
        ``(n,)`` $\phi(x_j;\theta)$ of the target model.
    mu_out, sd_out : np.ndarray
        ``(n,)`` the "retrained" Gaussian of every example.
    mu_in, sd_in : np.ndarray, optional
        ``(n,)`` the "unlearned" Gaussian; required for ``"online"``.
    variant : {"online", "offline"}
        ``"online"``: the two-Gaussian log-likelihood ratio; ``"offline"``:
        $\log\Phi((\phi - \mu_{\text{out}})/\sigma_{\text{out}})$.

    Returns
    -------
    np.ndarray
        ``(n,)`` scores, higher = more likely unlearned (still remembering).
    """
    phi = np.asarray(phi_target, dtype=np.float64)
    if variant == "offline":
        return log_ndtr((phi - mu_out) / sd_out)
    if variant != "online":
        raise ValueError(f"unknown U-LiRA variant {variant!r}; expected 'online' or 'offline'")
    if mu_in is None or sd_in is None:
        raise ValueError("the online U-LiRA test needs the 'unlearned' Gaussian (mu_in, sd_in)")
    return _log_normal(phi, mu_in, sd_in) - _log_normal(phi, mu_out, sd_out)


def rmia_scores(
    p_target_x: np.ndarray,
    p_ref_x: np.ndarray,
    p_target_z: np.ndarray,
    p_ref_z: np.ndarray,
    *,
    a: float = 0.3,
    gamma: float = 1.0,
    ref_mask_x: np.ndarray | None = None,
) -> np.ndarray:
    r"""Offline RMIA scores (module docstring; Zarifzadeh et al. 2024, Eq. 3 and App. B.2.2).

    Parameters
    ----------
    p_target_x : np.ndarray
        ``(n,)`` true-class probability $\Pr(x\mid\theta)$ of the audited examples.
    p_ref_x : np.ndarray
        ``(R, n)`` the same under $R \ge 1$ reference (out) models.
    p_target_z, p_ref_z : np.ndarray
        ``(m,)`` and ``(R, m)``: the population $Z$ under the target and the references.
    a : float
        Offline scaling in $[0, 1]$: $\Pr(x) = \frac12[(1+a)\overline{\Pr}_{\text{out}}(x) + 1 - a]$.
    gamma : float
        Likelihood-ratio threshold $\gamma > 0$.
    ref_mask_x : np.ndarray, optional
        ``(R, n)`` bool: which references are *out* for each $x$ (the mean runs over those only);
        ``None``: all. Every example needs at least one.

    Returns
    -------
    np.ndarray
        ``(n,)`` fraction of $Z$ that $x$ dominates, in $[0, 1]$.
    """
    px, rx = np.asarray(p_target_x, np.float64), np.atleast_2d(np.asarray(p_ref_x, np.float64))
    pz, rz = np.asarray(p_target_z, np.float64), np.atleast_2d(np.asarray(p_ref_z, np.float64))
    if rx.shape[1] != px.shape[0] or rz.shape[1] != pz.shape[0] or rx.shape[0] != rz.shape[0]:
        raise ValueError(
            f"shapes disagree: target x {px.shape}, references x {rx.shape}, target z "
            f"{pz.shape}, references z {rz.shape}"
        )
    if not 0.0 <= a <= 1.0 or gamma <= 0:
        raise ValueError(f"need 0 <= a <= 1 and gamma > 0, got a={a}, gamma={gamma}")
    mx = np.ones(rx.shape, dtype=bool) if ref_mask_x is None else np.asarray(ref_mask_x, dtype=bool)
    if mx.shape != rx.shape or (mx.sum(axis=0) == 0).any():
        raise ValueError(f"ref_mask_x must have shape {rx.shape} and at least one reference per example")
    # (1 - a) is added as one term: "+ 1 - a" would round a mean below 1e-16 to 0 when a = 1.
    marg_x = 0.5 * ((1 + a) * np.where(mx, rx, 0.0).sum(axis=0) / mx.sum(axis=0) + (1 - a))
    marg_z = 0.5 * ((1 + a) * rz.mean(axis=0) + (1 - a))
    # Log ratios: with a = 1 both sides of a ratio can be far below 1e-300 for a forgotten class,
    # where the plain quotient would be 0/0. A probability of exactly 0 gives -inf (never dominates).
    with np.errstate(divide="ignore"):
        log_x = np.log(px) - np.log(marg_x)  # (n,)
        log_z = np.log(pz) - np.log(marg_z)  # (m,)
    if np.isnan(log_x).any() or np.isnan(log_z).any():
        raise ValueError("rmia_scores: a reference marginal is 0 where the target's probability is 0 too")
    # LR(x, z) >= gamma  <=>  log ratio_x >= log gamma + log ratio_z: count through a sorted population.
    threshold = np.sort(np.log(gamma) + log_z)
    return np.searchsorted(threshold, log_x, side="right") / len(threshold)


def audit_summary(pos: np.ndarray, neg: np.ndarray) -> AuditResult:
    """``{"auc", "tpr1", "tpr5"}`` of an attack: AUC and TPR at 1 % and 5 % FPR (fractions)."""
    out = {"auc": auc(pos, neg)}
    for level in TPR_LEVELS:
        out[f"tpr{round(100 * level)}"] = tpr_at_fpr(pos, neg, level)
    return out


def placement(target: float, shadows: np.ndarray) -> tuple[float, float]:
    r"""Is a target model a plausible draw of its shadows' process? Prediction $t$ and its p-value.

    With $K$ shadow values $s_1, \dots, s_K$ of a model-level statistic (the mean $\phi$ over
    $D_f$, say), mean $\bar s$ and sample SD $\hat\sigma$, a new draw $s_0$ of the same Gaussian
    process satisfies

    .. math::

        t = \frac{s_0 - \bar s}{\hat\sigma\sqrt{1 + 1/K}} \sim t_{K-1},

    so the two-sided p-value $2\,\Pr[t_{K-1} > |t|]$ tests the audit's premise that the shadows
    model the target. The $t$ tails are heavy at small $K$ ($|t| > 5.8$ has probability 1 % at
    $K = 4$): one target a few shadow SDs away is not yet evidence of a mismatch.

    Parameters
    ----------
    target : float
        The audited model's statistic $s_0$.
    shadows : np.ndarray
        ``(K,)`` the shadows' statistics, $K \ge 2$, not all equal.

    Returns
    -------
    t, p : float
    """
    from scipy.stats import t as student_t

    s = np.asarray(shadows, dtype=np.float64).ravel()
    if s.size < 2 or not np.isfinite(s).all() or not np.isfinite(target):
        raise ValueError(f"placement needs a finite target and at least 2 finite shadow values, got {s.size}")
    sd = float(s.std(ddof=1))
    if sd == 0.0:
        raise ValueError("placement: every shadow value is equal; there is no spread to place the target in")
    t = (float(target) - float(s.mean())) / (sd * np.sqrt(1.0 + 1.0 / s.size))
    return t, float(2.0 * student_t.sf(abs(t), s.size - 1))
