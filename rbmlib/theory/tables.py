"""Every row × metric of the ``linear`` table: its value, what kind of result it is, and why not.

:func:`theory_table` is the single source; :func:`expected_losses` and
:func:`expected_masked_losses` (the CLI's ``--theory``) read its values, :func:`theory_kinds`
its labels ("exact", "deterministic equivalent" or "none"), :func:`theory_gaps` the reason of
every ``None``. :func:`rbm_minus_fbm_sign` gives the sign of FBM − RBM per metric from the
formulas, for the phase maps of Chapter 5.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from rbmlib.linear_model import BlockSizes
from rbmlib.theory.deterministic import original_fresh_remaining_loss_de, rbm_forgetting_loss_de
from rbmlib.theory.golden import expected_golden_forgetting_loss, expected_golden_fresh_remaining_loss
from rbmlib.theory.masked import (
    expected_fbm_masked_forgetting_loss,
    expected_rbm_masked_forgetting_loss,
    fbm_masked_consistent,
    masked_updates_coincide,
)
from rbmlib.theory.reset import fbm_forgetting_loss_de, fbm_fresh_remaining_loss_de

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "phase_theory",
    "theory_phase_difference",
    "compare_theory",
    "theory_bias",
    "EXACT",
    "EQUIVALENT",
    "NONE",
    "theory_table",
    "expected_losses",
    "expected_masked_losses",
    "theory_kinds",
    "theory_gaps",
    "rbm_minus_fbm_sign",
]

EXACT, EQUIVALENT, NONE = "exact", "deterministic equivalent", "none"
_BASE, _MASKED = ("original", "golden", "ft"), ("rbm", "fbm", "rbm_masked", "fbm_masked")

#: Why no formula exists for a cell (the lead can quote these verbatim).
REASONS = {
    "fbm": "label noise: FBM's (reset, then FT) forgetting residual -X_f (E_f + K_r E_o) X^+ eps needs a "
    "leave-one-out treatment of the noise that is not derived; its deterministic equivalent "
    "(rbmlib.theory.reset) is for noiseless labels only (the fresh loss has its noise term)",
    "fbm_masked_lsq": "FBM's masked system is inconsistent (n_f + min(n_r, d_o) > d_f + d_o): the update is a "
    "least-squares compromise between D_r and the relabelled D_f whose moments are not derived",
    "fbm_masked_kernel": "n_r < d_o: FBM's masked update moves the shared weights inside ker R_o, correlated "
    "with the original's shared weights; not derived",
    "noise_infinite": "label noise with d_o + d_r <= n_r + 1: the golden expectation is infinite (inverse-Wishart "
    "mean), and the deterministic equivalents are not claimed there",
    "noise_moments": "label noise with d_f + d_o <= n_f + 1: outside the moment condition the noise term of the "
    "deterministic equivalent is stated under",
    "edge": "a square design (n_f = d_f + d_o, n_r = d_o + d_r or n_f + n_r = d) is outside the "
    "deterministic equivalent's strict over-parameterisation",
}


def _edge(sizes: BlockSizes) -> bool:
    s = sizes
    return s.n_f >= s.d_f + s.d_o or s.n_r >= s.d_o + s.d_r or s.n_f + s.n_r >= s.d


Cell = tuple[float | None, str, str]  # value, kind, reason (empty unless the kind is "none")


def _try(fn: Callable[..., float], kind: str, sym: dict, norms: list, noise: float, *, edge_reason: bool) -> Cell:
    try:
        return fn(**sym, teacher_sq_norms=norms, noise=noise), kind, ""
    except ValueError:
        if noise > 0 and sym["d_o"] + sym["d_r"] <= sym["n_r"] + 1:
            return None, NONE, REASONS["noise_infinite"]
        if noise > 0 and sym["d_f"] + sym["d_o"] <= sym["n_f"] + 1:
            return None, NONE, REASONS["noise_moments"]
        if edge_reason:
            return None, NONE, REASONS["edge"]
        raise


def theory_table(
    sizes: BlockSizes,
    *,
    noise: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
    exact_only: bool = False,
) -> dict[str, dict[str, Cell]]:
    """``table[model][metric] = (value, kind, reason)`` for every row of the ``linear`` table.

    Parameters
    ----------
    sizes : BlockSizes
    noise : float
        Label-noise standard deviation :math:`\\sigma`.
    teacher_scales : (float, float, float)
        Block standard deviations :math:`(s_f, s_o, s_r)` of :math:`w_*`.
    exact_only : bool, default False
        Drop the deterministic equivalents (their cells become ``None`` with a reason).

    Notes
    -----
    Exact: interpolation identities (Propositions 1.2, 4.2, 4.3), the golden model (Theorem
    3.2, Propositions 3.3–3.4), every method at :math:`d_o = 0`, RBM at :math:`d_f = 0`, both
    masked updates' forgetting losses (:mod:`rbmlib.theory.masked`). Deterministic equivalents:
    the original's fresh loss, shared by FT, RBM and RBM's masked update (and FBM's where the
    updates coincide), and RBM's forgetting loss (:mod:`rbmlib.theory.deterministic`); FBM's
    fresh loss (with or without label noise) and forgetting loss without label noise
    (:mod:`rbmlib.theory.reset`).
    """
    sym = asdict(sizes)  # the field names are the theorems' keyword arguments
    scales = tuple(float(s) for s in teacher_scales)
    if len(scales) != 3:
        raise ValueError(f"teacher_scales must be (s_f, s_o, s_r), got {len(scales)} values")
    norms = [n * s**2 for n, s in zip((sizes.d_f, sizes.d_o, sizes.d_r), scales)]
    d_f, d_o, n_f, n_r = sizes.d_f, sizes.d_o, sizes.n_f, sizes.n_r
    zero: Cell = (0.0, EXACT, "")
    golden_forget = _try(expected_golden_forgetting_loss, EXACT, sym, norms, noise, edge_reason=False)
    golden_fresh = _try(expected_golden_fresh_remaining_loss, EXACT, sym, norms, noise, edge_reason=False)
    if d_o == 0:
        orig_fresh = golden_fresh  # block-diagonal Gram matrix: the original is golden on S_r
        rbm_forget = golden_forget
    else:
        de = None if not exact_only else (None, NONE, "deterministic equivalent not requested (exact_only)")
        orig_fresh = de or _try(
            original_fresh_remaining_loss_de, EQUIVALENT, sym, norms, noise, edge_reason=_edge(sizes)
        )
        rbm_forget = (
            zero
            if d_f == 0
            else (de or _try(rbm_forgetting_loss_de, EQUIVALENT, sym, norms, noise, edge_reason=_edge(sizes)))
        )
    if d_o == 0:  # FBM resets S_f only: the golden model
        fbm_fresh, fbm_forget = golden_fresh, golden_forget
    elif exact_only:
        fbm_fresh = fbm_forget = (None, NONE, "deterministic equivalent not requested (exact_only)")
    else:
        fbm_fresh = _try(fbm_fresh_remaining_loss_de, EQUIVALENT, sym, norms, noise, edge_reason=_edge(sizes))
        fbm_forget = (
            (None, NONE, REASONS["fbm"])
            if noise > 0
            else _try(fbm_forgetting_loss_de, EQUIVALENT, sym, norms, noise, edge_reason=_edge(sizes))
        )
    rbm_masked_forget: Cell = (
        expected_rbm_masked_forgetting_loss(**sym, teacher_sq_norms=norms, noise=noise),
        EXACT,
        "",
    )
    consistent = fbm_masked_consistent(d_f=d_f, d_o=d_o, n_f=n_f, n_r=n_r)
    if consistent:
        fbm_masked_forget: Cell = (
            expected_fbm_masked_forgetting_loss(**sym, teacher_sq_norms=norms, noise=noise),
            EXACT,
            "",
        )
        fbm_masked_remain: Cell = zero
    else:
        fbm_masked_forget = fbm_masked_remain = (None, NONE, REASONS["fbm_masked_lsq"])
    if masked_updates_coincide(d_f=d_f, d_o=d_o, n_f=n_f, n_r=n_r):
        fbm_masked_fresh = orig_fresh
    else:
        fbm_masked_fresh = (None, NONE, REASONS["fbm_masked_lsq" if not consistent else "fbm_masked_kernel"])
    return {
        "original": {"forgetting_loss": zero, "remaining_loss": zero, "fresh_remaining_loss": orig_fresh},
        "golden": {"forgetting_loss": golden_forget, "remaining_loss": zero, "fresh_remaining_loss": golden_fresh},
        "ft": {"forgetting_loss": zero, "remaining_loss": zero, "fresh_remaining_loss": orig_fresh},
        "rbm": {"forgetting_loss": rbm_forget, "remaining_loss": zero, "fresh_remaining_loss": orig_fresh},
        "fbm": {"forgetting_loss": fbm_forget, "remaining_loss": zero, "fresh_remaining_loss": fbm_fresh},
        "rbm_masked": {
            "forgetting_loss": rbm_masked_forget,
            "remaining_loss": zero,
            "fresh_remaining_loss": orig_fresh,
        },
        "fbm_masked": {
            "forgetting_loss": fbm_masked_forget,
            "remaining_loss": fbm_masked_remain,
            "fresh_remaining_loss": fbm_masked_fresh,
        },
    }


def _pick(table: dict, models: Sequence[str], index: int) -> dict:
    return {m: {k: cell[index] for k, cell in table[m].items()} for m in models}


def expected_losses(
    sizes: BlockSizes,
    *,
    noise: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
    exact_only: bool = False,
) -> dict[str, dict[str, float | None]]:
    """Expected losses of ``original``, ``golden``, ``ft``: ``result[model][metric]``, ``None`` without a formula.

    The original's (and FT's) fresh loss is a deterministic equivalent when :math:`d_o > 0`
    (:func:`rbmlib.theory.deterministic.original_fresh_remaining_loss_de`) unless ``exact_only``;
    everything else is exact. See :func:`theory_table`.
    """
    table = theory_table(sizes, noise=noise, teacher_scales=teacher_scales, exact_only=exact_only)
    return _pick(table, _BASE, 0)


def expected_masked_losses(
    sizes: BlockSizes,
    *,
    noise: float = 0.0,
    teacher_scales: Sequence[float] = (1.0, 1.0, 1.0),
    exact_only: bool = False,
) -> dict[str, dict[str, float | None]]:
    """Expected losses of ``rbm``, ``fbm``, ``rbm_masked``, ``fbm_masked`` (support masks, no leak).

    Proposition 4.4 as corrected: FBM's masked update fits both sets iff
    :math:`n_f + \\min(n_r, d_o) \\le d_f + d_o`, and equals RBM's iff :math:`n_r \\ge d_o` and
    :math:`n_f \\le d_f` (or :math:`d_o = 0`). See :func:`theory_table`.
    """
    table = theory_table(sizes, noise=noise, teacher_scales=teacher_scales, exact_only=exact_only)
    return _pick(table, _MASKED, 0)


def theory_kinds(sizes: BlockSizes, **kw) -> dict[str, dict[str, str]]:
    """``"exact"``, ``"deterministic equivalent"`` or ``"none"`` for every model × metric."""
    return _pick(theory_table(sizes, **kw), _BASE + _MASKED, 1)


def theory_gaps(sizes: BlockSizes, **kw) -> dict[str, dict[str, str]]:
    """The documented reason of every ``None`` cell: ``result[model][metric] -> str`` (only those cells)."""
    table = theory_table(sizes, **kw)
    return {
        m: {k: c[2] for k, c in row.items() if c[0] is None}
        for m, row in table.items()
        if any(c[0] is None for c in row.values())
    }


def rbm_minus_fbm_sign(sizes: BlockSizes, *, update: str = "masked", **kw) -> dict[str, int | None]:
    """Sign of FBM's minus RBM's expected value per metric, from the formulas (``None`` without both).

    Parameters
    ----------
    update : {"masked", "reset"}
        Compare the masked updates (``rbm_masked`` / ``fbm_masked``) or reset-then-FT
        (``rbm`` / ``fbm``).

    Returns
    -------
    dict
        ``metric -> -1, 0, +1`` (positive: FBM's loss is larger) or ``None``. For the masked
        updates: forgetting FBM − RBM :math:`= \\max(0, 1 - d_f/n_f)(\\|w_{*,S_o}\\|^2 + \\sigma^2)`
        where FBM's system is consistent, i.e. :math:`\\ge 0`, zero iff :math:`n_f \\le d_f` or
        :math:`d_o = 0`; fresh 0 where the updates coincide. For reset-then-FT both sides exist
        without label noise (deterministic equivalents off :math:`d_o = 0`; both golden, sign 0,
        at :math:`d_o = 0`).
    """
    if update not in ("masked", "reset"):
        raise ValueError(f"update must be 'masked' or 'reset', got {update!r}")
    table = theory_table(sizes, **kw)
    r, f = ("rbm_masked", "fbm_masked") if update == "masked" else ("rbm", "fbm")
    out: dict[str, int | None] = {}
    for metric in table[r]:
        a, b = table[r][metric][0], table[f][metric][0]
        if a is None or b is None:
            out[metric] = None
        else:
            diff = b - a
            out[metric] = 0 if abs(diff) <= 1e-12 * max(1.0, abs(a), abs(b)) else (1 if diff > 0 else -1)
    return out


_METRICS = ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")


def phase_theory(
    grid,
    *,
    overlaps: Sequence[float] | None = None,
    retain_ratios: Sequence[float] | None = None,
    models: Sequence[str] = ("golden", "ft", "rbm", "fbm"),
) -> pd.DataFrame:
    """Every model's expected losses on a phase grid (noiseless), one row per cell × model × metric.

    Parameters
    ----------
    grid : rbmlib.experiments.PhaseGrid
        Anything with ``sizes(overlap, retain_ratio)``, ``overlaps`` and ``retain_ratios``.
    overlaps, retain_ratios : sequence of float, optional
        Evaluate on these instead of the grid's own (e.g. a finer mesh for curves and boundaries).
    models : sequence of str
        Rows of :func:`theory_table`.

    Returns
    -------
    pandas.DataFrame
        Columns ``overlap, retain_ratio, method, metric, theory, kind`` (``theory`` NaN without a formula).
    """
    import pandas as pd

    records = []
    for overlap in grid.overlaps if overlaps is None else overlaps:
        for ratio in grid.retain_ratios if retain_ratios is None else retain_ratios:
            table = theory_table(grid.sizes(overlap, ratio))
            for model in models:
                for metric in _METRICS:
                    value, kind, _ = table[model][metric]
                    records.append(
                        {
                            "overlap": float(overlap),
                            "retain_ratio": float(ratio),
                            "method": model,
                            "metric": metric,
                            "theory": float("nan") if value is None else value,
                            "kind": kind,
                        }
                    )
    return pd.DataFrame.from_records(records)


def theory_phase_difference(frame: pd.DataFrame, metric: str, *, minus: str = "rbm", of: str = "fbm") -> pd.DataFrame:
    """``of`` minus ``minus`` from :func:`phase_theory`, pivoted to overlap × retain ratio.

    ``metric`` is a loss, ``gap_<loss>`` (the gap of the expectations,
    :math:`|\\mathbb E\\mathcal L - \\mathbb E\\mathcal L_g|`) or ``gap_avg_gap`` (the mean of the
    three such gaps). A gap of expectations is at most the expected per-draw gap that
    :func:`rbmlib.experiments.phase_grid` reports; the two coincide where every draw falls on
    the same side of the golden value.
    """

    def pivot(method: str, loss: str):
        rows = frame[(frame["method"] == method) & (frame["metric"] == loss)]
        return rows.pivot(index="overlap", columns="retain_ratio", values="theory")

    def value(method: str, name: str):
        if name == "gap_avg_gap":
            return sum(value(method, f"gap_{loss}") for loss in _METRICS) / len(_METRICS)
        if name.startswith("gap_"):
            return (pivot(method, name[4:]) - pivot("golden", name[4:])).abs()
        return pivot(method, name)

    if metric not in _METRICS and metric not in {f"gap_{m}" for m in _METRICS} | {"gap_avg_gap"}:
        raise ValueError(f"metric must be a loss, gap_<loss> or gap_avg_gap, got {metric!r}")
    return value(of, metric) - value(minus, metric)


def compare_theory(table: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Monte Carlo means of a phase grid beside :func:`phase_theory`: relative error and z-score.

    Returns
    -------
    pandas.DataFrame
        The rows of ``table`` (method, metric, cell) that have a formula that is not identically
        zero, with ``theory``, ``kind``, ``rel_error`` :math:`= (\\text{theory} - \\text{mean})/\\text{mean}`
        and ``z`` :math:`= (\\text{mean} - \\text{theory})/\\text{se}`.
    """
    keys = ["overlap", "retain_ratio", "method", "metric"]
    merged = table.merge(frame, on=keys, how="inner")
    merged = merged[merged["theory"].notna() & (merged["theory"] != 0)].copy()
    merged["rel_error"] = (merged["theory"] - merged["mean"]) / merged["mean"]
    merged["z"] = (merged["mean"] - merged["theory"]) / merged["se"]
    return merged.reset_index(drop=True)


def theory_bias(errors: pd.DataFrame) -> pd.DataFrame:
    """Per theory line: the pooled relative error over the cells (the bias) and the worst cell.

    Parameters
    ----------
    errors : pandas.DataFrame
        Output of :func:`compare_theory`.

    Returns
    -------
    pandas.DataFrame
        One row per (method, metric): ``cells``; ``bias``, the mean of the cells' relative errors,
        and ``bias_se``, its standard error :math:`\\sqrt{\\sum_c (\\text{se}_c/\\text{mean}_c)^2}/C`
        from the cells' independent Monte Carlo errors — a systematic error of the formula shows
        here even where each cell's own error is of the size of its noise; ``worst``, the largest
        relative error in absolute value, at ``worst_overlap``, ``worst_ratio``, with its ``worst_z``.
    """
    import numpy as np
    import pandas as pd

    rows = []
    for (method, metric), part in errors.groupby(["method", "metric"], sort=True):
        rel_se = part["se"] / part["mean"]
        at = part["rel_error"].abs().idxmax()
        rows.append(
            {
                "method": method,
                "metric": metric,
                "cells": len(part),
                "bias": float(part["rel_error"].mean()),
                "bias_se": float(np.sqrt(np.sum(rel_se**2)) / len(part)),
                "worst": float(part.loc[at, "rel_error"]),
                "worst_overlap": float(part.loc[at, "overlap"]),
                "worst_ratio": float(part.loc[at, "retain_ratio"]),
                "worst_z": float(part.loc[at, "z"]),
            }
        )
    return pd.DataFrame.from_records(rows)
