"""ROC primitives of the membership tests against scikit-learn (rbmlib.roc)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from rbmlib.roc import auc, null_auc_sd, roc, tpr_at_fpr


@pytest.mark.parametrize("ties", [False, True])
def test_roc_and_tpr_at_fpr_agree_with_sklearn(seed, ties):
    rng = np.random.default_rng(seed)
    pos, neg = rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 700)
    if ties:  # coarse scores: many tied thresholds
        pos, neg = np.round(pos, 1), np.round(neg, 1)
    y = np.r_[np.ones(400), np.zeros(700)]
    fpr_ref, tpr_ref, _ = roc_curve(y, np.r_[pos, neg], drop_intermediate=False)
    fpr, tpr = roc(pos, neg)
    np.testing.assert_allclose(fpr, fpr_ref, atol=1e-15)
    np.testing.assert_allclose(tpr, tpr_ref, atol=1e-15)
    assert auc(pos, neg) == pytest.approx(roc_auc_score(y, np.r_[pos, neg]), abs=1e-12)
    for level in (0.0, 0.01, 0.05, 0.5):
        assert tpr_at_fpr(pos, neg, level) == tpr_ref[fpr_ref <= level].max()


def test_bad_input_names_the_condition():
    with pytest.raises(ValueError, match="needs positives and negatives, got 0 and 2"):
        roc(np.array([]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="finite scores"):
        auc(np.array([np.nan]), np.array([0.1]))
    with pytest.raises(ValueError, match="FPR level must be in \\[0, 1\\], got 1.5"):
        tpr_at_fpr(np.array([1.0]), np.array([0.0]), 1.5)


def test_the_deep_audit_reexports_the_same_functions():
    from rbmlib.deep import audit

    assert (audit.roc, audit.auc, audit.tpr_at_fpr) == (roc, auc, tpr_at_fpr)


def test_null_auc_sd_matches_the_spread_of_aucs_on_one_distribution(seed):
    # 2000 AUCs of 333 against 333 draws of one normal: their SD is the formula's within 10 %
    # (the SD of a sample SD of 2000 values is about 1.6 %).
    rng = np.random.default_rng(seed)
    aucs = [auc(rng.normal(size=333), rng.normal(size=333)) for _ in range(2000)]
    assert np.std(aucs, ddof=1) == pytest.approx(null_auc_sd(333, 333), rel=0.1)
    assert null_auc_sd(333, 333) == pytest.approx(np.sqrt(667 / (12 * 333**2)))
    with pytest.raises(ValueError, match="at least one"):
        null_auc_sd(0, 5)
