r"""Where the population attack and the per-example attack disagree (Chapter 8).

MIA-efficacy (the field's population attack) and U-LiRA (the per-example attack) ask different
questions of an unlearned model, so they can reach opposite conclusions. :func:`attack_agreement`
reads an audited ``results.csv`` (``unlearn --audit ulira``, and optionally ``--audit rmia``) and,
for every audited (scenario, method), says what each attack concludes:

* *looks private to the population attack*: the method's mean MIA-efficacy over seeds is within
  ``mia_close`` points of Retrain's, :math:`|\overline{M}_m - \overline{M}_{\mathrm{retrain}}| \le \delta`
  (:math:`\overline{M}`: mean MIA-efficacy);
* *caught by the per-example attack*: its mean U-LiRA AUC is at least ``caught_auc``.

A method that looks private and is caught is the case the per-example attack exists for; one that
the population attack sets apart while U-LiRA does not catch it is the reverse. Both thresholds
are the caller's, stated beside every use (a single AUC is one noisy draw: the verdict of
:func:`rbmlib.claims.verdict_c8` rests on intervals over seeds instead).

The chapter's reader-facing text comes from here too: :func:`attacks_catch` (which methods each
of two attacks catches, as a sentence computed from the table rather than typed); scenarios are
named by :func:`rbmlib.presentation.scenario_label`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from rbmlib.presentation import join_words, label, scenario_label

__all__ = ["agreement_markdown", "attack_agreement", "attacks_catch"]


def attack_agreement(table: pd.DataFrame, *, mia_close: float, caught_auc: float) -> pd.DataFrame:
    """What the population and the per-example attack conclude about every audited method.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy results of an audited grid: columns ``scenario``, ``method``, ``mia``, ``ulira_auc``
        (``rmia_auc`` is carried along when present), one row per seed; each scenario needs its
        ``retrain`` rows (the population attack's reference).
    mia_close : float
        Half-width, in MIA-efficacy points, of "looks private": :math:`\\delta \\ge 0`.
    caught_auc : float
        U-LiRA AUC at or above which a method is caught, in :math:`[0, 1]`.

    Returns
    -------
    pandas.DataFrame
        One row per audited (scenario, method) in the table's order, indexed by both: ``mia``,
        ``retrain_mia``, ``ulira_auc`` (and ``rmia_auc``) averaged over seeds, ``n_seeds``, and the
        booleans ``looks_private``, ``caught`` and ``disagree`` (:math:`\\text{looks\\_private} =
        \\text{caught}`: the attacks conclude opposite things).

    Raises
    ------
    ValueError
        If a column is missing, a scenario has no Retrain rows, an audited method has no U-LiRA
        AUC, or a threshold is out of range.
    """
    need = {"scenario", "method", "mia", "ulira_auc"}
    if not need <= set(table.columns):
        raise ValueError(f"attack agreement needs the columns {sorted(need)}, got {sorted(table.columns)}")
    if not mia_close >= 0 or not 0 <= caught_auc <= 1:
        raise ValueError(f"need mia_close >= 0 and caught_auc in [0, 1], got {mia_close} and {caught_auc}")
    values = [c for c in ("mia", "ulira_auc", "rmia_auc") if c in table.columns]
    groups = table.groupby(["scenario", "method"], sort=False)
    means = groups[values].mean()
    means["n_seeds"] = groups.size()
    retrain = table[table.method == "retrain"].groupby("scenario", sort=False)["mia"].mean()
    missing = sorted(set(table.scenario) - set(retrain.index))
    if missing:
        raise ValueError(f"no retrain rows, the population attack's reference, in {missing}")
    out = means[means.index.get_level_values("method") != "retrain"].copy()
    if out["ulira_auc"].isna().any():
        raise ValueError(f"no U-LiRA AUC for {list(out.index[out['ulira_auc'].isna()])}: run `unlearn --audit ulira`")
    out.insert(1, "retrain_mia", retrain.reindex(out.index.get_level_values("scenario")).to_numpy())
    out["looks_private"] = (out["mia"] - out["retrain_mia"]).abs() <= mia_close
    out["caught"] = out["ulira_auc"] >= caught_auc
    out["disagree"] = out["looks_private"] == out["caught"]
    return out


def agreement_markdown(agree: pd.DataFrame, *, dataset: str, digits: int = 2) -> str:
    """One Markdown bullet per row of :func:`attack_agreement`: both attacks' numbers beside Retrain's.

    Parameters
    ----------
    agree : pandas.DataFrame
        Rows of :func:`attack_agreement` (often a selection, e.g. ``agree[agree.disagree]``).
    dataset : str
        The data set's name, shown in every bullet beside the scenario's (:func:`rbmlib.presentation.scenario_label`).
    digits : int
        Decimals of the AUCs (those of the table the bullets sit beside).

    Returns
    -------
    str
        The bullets, ``""`` when ``agree`` is empty (the caller says what an empty list means).
    """
    rmia = "rmia_auc" in agree.columns
    return "\n".join(
        f"* **{label(method)}** ({scenario_label(scenario)}, `{dataset}`): MIA-efficacy "
        f"{row['mia']:.1f} % (Retrain {row['retrain_mia']:.1f} %), U-LiRA AUC {row['ulira_auc']:.{digits}f}"
        + (f", RMIA AUC {row['rmia_auc']:.{digits}f}." if rmia else ".")
        for (scenario, method), row in agree.iterrows()
    )


def attacks_catch(aucs: pd.DataFrame, attacks: Mapping[str, str], *, caught_auc: float, digits: int = 3) -> str:
    """Which methods each of two attacks catches, as one clause of prose computed from the table.

    Parameters
    ----------
    aucs : pandas.DataFrame
        One row per audited method, indexed by its key (``"rbm"``), with the two attacks' AUC
        columns.
    attacks : mapping of str to str
        Exactly two entries, AUC column -> the attack's name in prose, e.g.
        ``{"ulira_auc": "U-LiRA", "rmia_auc": "RMIA"}``.
    caught_auc : float
        An attack catches a method when its AUC is at least this.
    digits : int
        Decimals of the AUCs quoted for a method that only one attack catches.

    Returns
    -------
    str
        Lower-case clauses joined by ``"; "``, no final full stop: ``"both attacks catch FT and
        SalUn (AUC at least 0.6); only U-LiRA catches RBM (AUC 0.626, RMIA 0.596)"``. Methods by
        their display names, in the table's order.
    """
    if len(attacks) != 2:
        raise ValueError(f"attacks_catch compares two attacks, got {list(attacks)}")
    (col_a, name_a), (col_b, name_b) = attacks.items()
    missing = sorted({col_a, col_b} - set(aucs.columns))
    if missing:
        raise ValueError(f"no AUC column {missing} in {sorted(aucs.columns)}")
    a, b = aucs[col_a] >= caught_auc, aucs[col_b] >= caught_auc
    parts = []

    def names(mask: pd.Series) -> list[str]:
        return [label(m) for m in aucs.index[mask]]

    if a.all() and b.all():
        return f"both attacks catch every method ({join_words(names(a))}: AUC at least {caught_auc:g})"
    if (a & b).any():
        parts.append(f"both attacks catch {join_words(names(a & b))} (AUC at least {caught_auc:g})")
    for only, (col, name), (other_col, other) in (
        (a & ~b, (col_a, name_a), (col_b, name_b)),
        (b & ~a, (col_b, name_b), (col_a, name_a)),
    ):
        for method in aucs.index[only]:
            parts.append(
                f"only {name} catches {label(method)} (AUC {aucs.loc[method, col]:.{digits}f}, "
                f"{other} {aucs.loc[method, other_col]:.{digits}f})"
            )
    if (~a & ~b).any():
        parts.append(f"neither catches {join_words(names(~a & ~b))} (AUC below {caught_auc:g})")
    return "; ".join(parts)
