"""attack_agreement: each attack's conclusion per audited method, from a results table with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from rbmlib.deep.audit_table import agreement_markdown, attack_agreement, attacks_catch


def _table() -> pd.DataFrame:
    rows = []
    # (method, MIA-efficacy per seed, U-LiRA AUC per seed): Retrain's MIA is 50 on average
    spec = {
        "retrain": ([49.0, 51.0], [float("nan")] * 2),
        "rbm": ([52.0, 54.0], [0.70, 0.80]),  # within 5 points of Retrain, caught: disagree
        "ft": ([90.0, 92.0], [0.95, 0.99]),  # set apart and caught: agree
        "salun": ([10.0, 12.0], [0.50, 0.52]),  # set apart, not caught: disagree the other way
        "random": ([50.0, 50.0], [0.55, 0.57]),  # private to both: agree
    }
    for method, (mia, auc) in spec.items():
        for seed, (m, a) in enumerate(zip(mia, auc)):
            rows.append({"scenario": "class:3", "method": method, "seed": seed, "mia": m, "ulira_auc": a})
    table = pd.DataFrame(rows)
    return table.assign(rmia_auc=table["ulira_auc"])


def test_each_method_gets_both_conclusions_and_their_disagreement():
    agree = attack_agreement(_table(), mia_close=5.0, caught_auc=0.6)
    got = agree.droplevel("scenario")
    assert list(got.index) == ["rbm", "ft", "salun", "random"]  # audited methods only, in the table's order
    assert got.loc["rbm", ["mia", "retrain_mia", "ulira_auc"]].tolist() == pytest.approx([53.0, 50.0, 0.75])
    assert got["looks_private"].to_dict() == {"rbm": True, "ft": False, "salun": False, "random": True}
    assert got["caught"].to_dict() == {"rbm": True, "ft": True, "salun": False, "random": False}
    assert got["disagree"].to_dict() == {"rbm": True, "ft": False, "salun": True, "random": False}
    assert (got["n_seeds"] == 2).all()


def test_the_thresholds_are_inclusive():
    agree = attack_agreement(_table(), mia_close=3.0, caught_auc=0.75).droplevel("scenario")
    assert agree.loc["rbm", "looks_private"] and agree.loc["rbm", "caught"]  # |53 - 50| = 3, AUC 0.75


def test_markdown_names_every_row_and_is_empty_for_none():
    agree = attack_agreement(_table(), mia_close=5.0, caught_auc=0.6)
    text = agreement_markdown(agree[agree.disagree], dataset="digits")
    assert text.count("\n* ") == 1 and "**RBM**" in text and "U-LiRA AUC 0.75" in text and "Retrain 50.0 %" in text
    assert '(class "3", `digits`)' in text and "class:3" not in text  # the scenario by name, not its identifier
    assert "U-LiRA AUC 0.750, RMIA AUC 0.750." in agreement_markdown(agree[agree.disagree], dataset="digits", digits=3)
    assert agreement_markdown(agree[agree.caught & ~agree.caught], dataset="digits") == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="ulira_auc"), "needs the columns"),
        (lambda t: t[t.method != "retrain"], "no retrain rows"),
        (lambda t: t.assign(ulira_auc=float("nan")), "no U-LiRA AUC"),
    ],
)
def test_incomplete_tables_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        attack_agreement(change(_table()), mia_close=5.0, caught_auc=0.6)


def test_thresholds_out_of_range_are_refused():
    with pytest.raises(ValueError, match="caught_auc in"):
        attack_agreement(_table(), mia_close=5.0, caught_auc=1.5)


def _aucs(ulira: list[float], rmia: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"ulira_auc": ulira, "rmia_auc": rmia}, index=["ft", "salun", "random", "rbm"][: len(ulira)])


ATTACKS = {"ulira_auc": "U-LiRA", "rmia_auc": "RMIA"}


def test_attacks_catch_names_what_each_attack_catches():
    text = attacks_catch(_aucs([1.0, 1.0, 0.98, 0.626], [0.98, 0.975, 0.914, 0.596]), ATTACKS, caught_auc=0.6)
    assert text == (
        "both attacks catch FT, SalUn and random mask (AUC at least 0.6); "
        "only U-LiRA catches RBM (AUC 0.626, RMIA 0.596)"
    )
    both = attacks_catch(_aucs([1.0, 0.7], [0.9, 0.6]), ATTACKS, caught_auc=0.6)  # the threshold is inclusive
    assert both == "both attacks catch every method (FT and SalUn: AUC at least 0.6)"
    mixed = attacks_catch(_aucs([0.5, 0.55, 0.7], [0.5, 0.65, 0.7]), ATTACKS, caught_auc=0.6)
    assert mixed == (
        "both attacks catch random mask (AUC at least 0.6); only RMIA catches SalUn (AUC 0.650, U-LiRA 0.550); "
        "neither catches FT (AUC below 0.6)"
    )


def test_attacks_catch_refuses_other_than_two_attacks_or_missing_columns():
    with pytest.raises(ValueError, match="two attacks"):
        attacks_catch(_aucs([1.0], [1.0]), {"ulira_auc": "U-LiRA"}, caught_auc=0.6)
    with pytest.raises(ValueError, match="no AUC column"):
        attacks_catch(_aucs([1.0], [1.0]), {"ulira_auc": "U-LiRA", "x_auc": "X"}, caught_auc=0.6)
