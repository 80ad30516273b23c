"""ROC curves of a score-based membership attack: the points, the area and the low-FPR reading.

Shared by the deep audits (:mod:`rbmlib.deep.audit`) and the block model's residual test
(:mod:`rbmlib.membership`); numpy only. Positives are the members the attack should flag, and a
higher score means "member".
"""

from __future__ import annotations

import numpy as np

__all__ = ["auc", "null_auc_sd", "roc", "tpr_at_fpr"]


def roc(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC of scores: positives (label 1) vs negatives (label 0), higher score = positive.

    Returns
    -------
    fpr, tpr : np.ndarray
        The points at every distinct threshold, from ``(0, 0)`` to ``(1, 1)``; tied scores form
        one point (the same points as :func:`sklearn.metrics.roc_curve` with
        ``drop_intermediate=False``).
    """
    pos, neg = np.asarray(pos, np.float64).ravel(), np.asarray(neg, np.float64).ravel()
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError(f"an ROC needs positives and negatives, got {len(pos)} and {len(neg)}")
    if not (np.isfinite(pos).all() and np.isfinite(neg).all()):
        raise ValueError("an ROC needs finite scores")
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each tie group
    tp = np.cumsum(lab)[last]
    fp = (last + 1) - tp
    return np.r_[0.0, fp / len(neg)], np.r_[0.0, tp / len(pos)]


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    r"""Area under :func:`roc`: $\Pr[s_+ > s_-] + \tfrac12\Pr[s_+ = s_-]$."""
    fpr, tpr = roc(pos, neg)
    return float(np.trapezoid(tpr, fpr))


def tpr_at_fpr(pos: np.ndarray, neg: np.ndarray, level: float) -> float:
    """Largest TPR of an ROC point whose FPR is at most ``level`` (LiRA's low-FPR reading)."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"FPR level must be in [0, 1], got {level}")
    fpr, tpr = roc(pos, neg)
    return float(tpr[fpr <= level + 1e-12].max())


def null_auc_sd(n_pos: int, n_neg: int) -> float:
    r"""Standard deviation of the AUC when every score is an independent draw of one distribution.

    The AUC is the Mann–Whitney statistic $U/(n_+ n_-)$; under the null of one continuous
    distribution for all scores its variance is

    .. math::

        \operatorname{Var}[\mathrm{AUC}] = \frac{n_+ + n_- + 1}{12\, n_+ n_-}.

    It is the noise of an AUC over *independent examples*. An audit's examples are scored by one
    unlearned and one retrained model, so a shift shared by all examples of one model is not in
    it: the spread of the AUC over seeds can be far larger (Chapter 8 shows both).

    Parameters
    ----------
    n_pos, n_neg : int
        Numbers of positive and negative scores, each at least 1.
    """
    if n_pos < 1 or n_neg < 1:
        raise ValueError(f"need at least one positive and one negative, got {n_pos} and {n_neg}")
    return float(np.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg)))
