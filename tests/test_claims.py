"""Tests of rbmlib.claims: the claims registry behind the introduction, the chapters and `claims`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from rbmlib.claims import (
    CLAIM_CHECKS,
    NOT_COMPUTED,
    VERDICTS,
    Verdict,
    claims_markdown,
    definitions_markdown,
    verdict_c1,
    verdict_c2,
    verdict_c3,
    verdict_c4,
    verdict_c5,
    verdict_c6,
    verdict_c7,
    verdict_c8,
    verdicts_markdown,
)
from rbmlib.cli import main
from rbmlib.experiments import PhaseGrid, phase_grid
from rbmlib.running_example import DRAWS

TINY_GRID = PhaseGrid(forget_block=20, d_r=20, n_f=4, overlaps=(0.0, 0.5, 1.0), retain_ratios=(0.3, 0.7))


@pytest.fixture(scope="module")
def tiny_table():
    return phase_grid(TINY_GRID, draws=30, seed=3)


def test_every_claim_has_one_check_in_order():
    names = [getattr(check, "__name__", "") for check in CLAIM_CHECKS]
    assert names == [*(f"verdict_c{i}" for i in range(1, 8)), "verdict_c2_in_practice", "verdict_c8"]


def test_the_five_verdict_words_are_the_only_verdicts():
    assert VERDICTS == ("holds", "holds under stated conditions", "trade-off", "inconclusive", "fails")
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("C9", "x", "probably", "none", "none", ("ch-masking",))
    with pytest.raises(ValueError, match=r"unknown chapter labels \['ch-9'\]"):
        Verdict("C9", "x", "holds", "none", "none", ("ch-9",))
    assert definitions_markdown().count("\n: ") == 5


def test_table_and_bullets_render_every_field():
    verdicts = [Verdict(f"C{i}", "a claim | with a bar", "holds", "if so", "numbers", ("ch-masking",)) for i in (1, 2)]
    table = claims_markdown(verdicts).splitlines()
    assert table[0] == "| id | claim | verdict | conditions | examined in |"
    assert table[2] == "| C1 | a claim \\| with a bar | **holds** | if so | {ref}`Ch. 4 <ch-masking>` |"
    assert verdicts_markdown(verdicts).splitlines()[1] == "* **C2 — holds** (if so): numbers."


def test_c1_counts_zero_remaining_loss_on_the_shared_batch():
    v = verdict_c1()
    assert v.verdict == "holds" and f"{DRAWS}/{DRAWS}" in v.evidence


def test_c2_carries_its_scope_and_the_closed_forms():
    v = verdict_c2()
    assert v.verdict == "holds under stated conditions"
    assert "no explicit regularisation" in v.conditions
    assert "closed form 186.7" in v.evidence and "closed form 160.0" in v.evidence
    assert "1.0 after 0" in v.evidence  # an original trained for 0 steps makes FT the golden model


def test_c3_holds_by_construction():
    assert verdict_c3().verdict == "holds"


def test_c4_measures_the_recovered_fraction_and_fails_when_rbm_recovers_nothing(tiny_table):
    assert verdict_c4(grid=TINY_GRID, table=tiny_table).verdict == "holds under stated conditions"
    broken = tiny_table.copy()
    rows = (broken["method"] == "rbm") & (broken["metric"] == "recovered_forgetting") & (broken["overlap"] == 0.5)
    broken.loc[rows, "mean"] = 0.0
    assert verdict_c4(grid=TINY_GRID, table=broken).verdict == "fails"


def test_c5_names_the_update_and_the_regime():
    v = verdict_c5()
    assert v.verdict == "holds under stated conditions"
    assert "reset-then-FT" in v.conditions and "$n_r \\ge d_o$ and $n_f \\le d_f$" in v.conditions


def test_c6_is_a_trade_off_and_its_rule_can_say_otherwise(tiny_table):
    assert verdict_c6(grid=TINY_GRID, table=tiny_table).verdict == "trade-off"
    rbm_everywhere = tiny_table.copy()
    pair = rbm_everywhere["method"] == "fbm-rbm"
    rbm_everywhere.loc[pair & rbm_everywhere["metric"].str.startswith("gap_"), "mean"] = 1.0  # FBM further away
    assert verdict_c6(grid=TINY_GRID, table=rbm_everywhere).verdict == "holds"
    mixed = tiny_table.copy()
    cell = (mixed["method"] == "fbm-rbm") & (mixed["overlap"] == 0.5) & (mixed["retain_ratio"] == 0.3)
    mixed.loc[cell & (mixed["metric"] == "gap_forgetting_loss"), "mean"] = 0.0
    assert verdict_c6(grid=TINY_GRID, table=mixed).verdict == "inconclusive"


def test_c6_counts_identities_apart_from_checks_that_could_fail(tiny_table):
    evidence = verdict_c6(grid=TINY_GRID, table=tiny_table).evidence
    assert "interpolation identities" in evidence and "could have failed" in evidence


def test_c7_is_not_computed_without_results():
    assert verdict_c7().verdict == NOT_COMPUTED


def _audit_table(aucs: dict[str, list[float]], *, mia_rbm: float = 100.0) -> pd.DataFrame:
    rows = []
    for scenario, values in aucs.items():
        for seed, a in enumerate(values):
            rows.append({"scenario": scenario, "method": "retrain", "seed": seed, "mia": 100.0, "ulira_auc": np.nan})
            rows.append({"scenario": scenario, "method": "rbm", "seed": seed, "mia": mia_rbm, "ulira_auc": a})
    return pd.DataFrame(rows)


def test_c8_decides_from_t_intervals_over_seeds():
    # Known answers: identical AUCs give a zero-width interval; two seeds at 0.63 and 0.39 (the
    # measured RBM on mnist5k class:3) give t(0.975, 1) * 0.17 / sqrt(2), far wider than 1/2 +- 0.1.
    assert verdict_c7().verdict == NOT_COMPUTED and verdict_c8().verdict == NOT_COMPUTED
    caught = _audit_table({"class:3": [1.0, 1.0, 1.0]})
    assert verdict_c8(caught).verdict == "fails"
    private = _audit_table({"random:0.1": [0.51, 0.49, 0.5], "class:3": [0.52, 0.5, 0.51]})
    assert verdict_c8(private).verdict == "holds"
    mixed = _audit_table({"random:0.1": [0.51, 0.49, 0.5], "class:3": [0.99, 1.0, 0.98]})
    v = verdict_c8(mixed)
    assert v.verdict == "holds under stated conditions" and "random 10\u00a0%" in v.conditions
    assert 'class "3": caught' in v.evidence and "looks private to MIA-efficacy" in v.evidence
    assert verdict_c8(_audit_table({"class:3": [0.63, 0.39]})).verdict == "inconclusive"
    below = _audit_table({"class:3": [0.30, 0.31, 0.29]})  # below 1/2 also tells RBM from Retrain
    assert verdict_c8(below).verdict == "fails"
    with pytest.raises(ValueError, match="ulira_auc"):
        verdict_c8(caught.drop(columns="ulira_auc"))


def test_claims_command_prints_the_registry_as_json(capsys):
    assert main(["claims", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [*(f"C{i}" for i in range(1, 8)), "C2+", "C8"]
    assert all(set(r) == {"id", "claim", "verdict", "conditions", "evidence", "chapter"} for r in rows)
    assert [r["verdict"] for r in rows] == [
        "holds",
        "holds under stated conditions",
        "holds",
        "holds under stated conditions",
        "holds under stated conditions",
        "trade-off",
        NOT_COMPUTED,
        "holds under stated conditions",
        NOT_COMPUTED,
    ]


def test_claims_command_refuses_a_folder_without_results(tmp_path, capsys):
    assert main(["claims", "--deep", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: --deep")


def test_c2_in_practice_is_marked_as_the_books_own_question():
    from rbmlib.claims import verdict_c2_in_practice

    v = verdict_c2_in_practice(draws=5)
    assert v.verdict == "holds under stated conditions" and "not the paper's" in v.claim
    assert "5/5 draws" in v.evidence and "99.1%" in v.evidence


def test_c4_and_c5_rest_on_the_formulas_with_the_simulation_as_the_check(monkeypatch, tiny_table):
    import rbmlib.theory as theory
    from rbmlib.claims import _agrees
    from rbmlib.running_example import SIZES
    from rbmlib.theory import expected_masked_losses

    th = expected_masked_losses(SIZES)
    v4, v5 = verdict_c4(grid=TINY_GRID, table=tiny_table), verdict_c5()
    assert f"{100 * th['rbm']['forgetting_loss'] / 186.6667:.1f}\u00a0% by the formulas" in v4.evidence
    diff = th["fbm"]["fresh_remaining_loss"] - th["rbm"]["fresh_remaining_loss"]
    assert f"a difference of {diff:.1f}" in v5.evidence
    # The check can fail: a formula off by 20 % disagrees with the shared batch, and the verdict says so.
    assert _agrees(100.0, np.full(50, 100.0) + np.linspace(-1, 1, 50))
    assert not _agrees(120.0, np.full(50, 100.0) + np.linspace(-1, 1, 50))

    def off(sizes, **kw):
        out = expected_masked_losses(sizes, **kw)
        return {m: {k: None if v is None else 1.2 * v for k, v in r.items()} for m, r in out.items()}

    monkeypatch.setattr(theory, "expected_masked_losses", off)
    assert verdict_c5().verdict == "fails"
    assert verdict_c4(grid=TINY_GRID, table=tiny_table).verdict == "fails"


def test_claims_deep_reads_c8_only_from_an_audited_folder(tmp_path):
    from rbmlib.claims import _audit_table as read_audit

    assert read_audit(None) is None
    frame = pd.DataFrame({"scenario": ["class:3"], "method": ["rbm"], "seed": [0], "mia": [100.0]})
    frame.to_csv(tmp_path / "results.csv", index=False)
    assert read_audit(tmp_path) is None  # no audit run: C8 stays "not computed"
    frame.assign(ulira_auc=[0.5]).to_csv(tmp_path / "results.csv", index=False)
    table = read_audit(tmp_path)
    assert table is not None and table["ulira_auc"].tolist() == [0.5]
