"""Tests of rbmlib.claims: the computed claims table of the introduction."""

from __future__ import annotations

import pytest

from rbmlib.claims import (
    CLAIM_CHECKS,
    VERDICTS,
    Verdict,
    claims_markdown,
    verdict_c1,
    verdict_c2,
    verdict_c3,
    verdict_c4,
    verdict_c5,
    verdict_c6,
    verdicts_markdown,
)
from rbmlib.experiments import PhaseGrid

TINY_GRID = PhaseGrid(forget_block=20, d_retain=20, n_forget=4, overlaps=(0.0, 0.5, 1.0), retain_ratios=(0.3, 0.7))


def test_every_claim_has_one_check_in_order():
    assert len(CLAIM_CHECKS) == 8
    names = [getattr(check, "__name__", "") for check in CLAIM_CHECKS]
    assert names[:6] == [f"verdict_c{i}" for i in range(1, 7)]
    assert names[7] == "verdict_c2_in_practice"  # the book's own question (Chapter 7)


def test_masking_claims_hold_in_the_linear_model():
    assert verdict_c3().verdict == "holds"
    assert verdict_c4(draws=10).verdict == "holds under stated conditions"
    assert verdict_c5(draws=10).verdict == "holds under stated conditions"
    c6 = verdict_c6(grid=TINY_GRID, draws=20)
    assert c6.verdict == "holds" and "6 cells" in c6.evidence


def test_c1_and_c2_hold_in_the_linear_model():
    assert verdict_c1(draws=20).verdict == "holds"
    assert verdict_c2(draws=20).verdict == "holds"


def test_c2_in_practice_is_marked_as_the_books_own_question():
    from rbmlib.claims import verdict_c2_in_practice

    v = verdict_c2_in_practice(draws=5)
    assert v.verdict == "holds under stated conditions" and "not the paper's" in v.statement
    assert "5/5 draws" in v.evidence and "99.1%" in v.evidence


def test_evidence_is_computed_from_the_draws():
    assert "20/20" in verdict_c1(draws=20).evidence
    assert verdict_c2(draws=20, seed=1).evidence != verdict_c2(draws=20, seed=2).evidence


def test_markdown_renders_a_row_or_bullet_per_claim():
    verdicts = [Verdict(f"C{i}", "a claim", "holds", "numbers", "{ref}`x`") for i in (1, 2)]
    table = claims_markdown(verdicts).splitlines()
    assert table[0].startswith("| id | claim | verdict")
    assert len(table) == 2 + 2
    assert all(line.count("|") == 6 for line in table)
    assert verdicts_markdown(verdicts).splitlines()[1] == "* **C2 — holds**: numbers."


def test_unknown_verdict_is_rejected():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("C9", "x", "probably", "none", "nowhere")
    assert VERDICTS == ("holds", "holds under stated conditions", "trade-off", "inconclusive", "fails")


def test_c2_sets_the_simulated_golden_loss_beside_its_closed_form_at_full_overlap():
    evidence = verdict_c2(draws=20).evidence
    assert "closed form 186.7" in evidence and "closed form 160.0" in evidence
    assert "(0, 200, 200, 40, 80)" in evidence
