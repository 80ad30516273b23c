"""Tests of rbmlib.claims: the computed claims table of the introduction."""

from __future__ import annotations

import pytest

from rbmlib.claims import CLAIM_CHECKS, VERDICTS, Verdict, all_verdicts, claims_markdown, verdict_c1, verdict_c2


def test_every_claim_appears_once_in_order():
    assert [v.claim for v in all_verdicts()] == [f"C{i}" for i in range(1, 8)]
    assert len(CLAIM_CHECKS) == 7


def test_c1_and_c2_hold_in_the_linear_model():
    assert verdict_c1(draws=20).verdict == "holds"
    assert verdict_c2(draws=20).verdict == "holds"


def test_evidence_is_computed_from_the_draws():
    assert "20/20" in verdict_c1(draws=20).evidence
    assert verdict_c2(draws=20, seed=1).evidence != verdict_c2(draws=20, seed=2).evidence


def test_markdown_table_has_a_row_per_claim():
    table = claims_markdown(all_verdicts()).splitlines()
    assert table[0].startswith("| id | claim | verdict")
    assert len(table) == 2 + 7
    assert all(line.count("|") == 6 for line in table)


def test_unknown_verdict_is_rejected():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("C9", "x", "probably", "none", "nowhere")
    assert "planned" in VERDICTS


def test_c2_sets_the_simulated_golden_loss_beside_its_closed_form_at_full_overlap():
    evidence = verdict_c2(draws=20).evidence
    assert "closed form 186.7" in evidence and "closed form 160.0" in evidence
    assert "(0, 200, 200, 40, 80)" in evidence
