"""The claims registry: the abstract's claims C1–C7, the book's own C2+ and C8, and each one's verdict.

Every verdict is *computed*: a seeded check that calls the same library functions as the chapter
that examines the claim, and a sentence built from its numbers. The introduction renders
:func:`claims_markdown` of :func:`all_verdicts`, Chapters 1–6 render their own rows with
:func:`verdicts_markdown`, and ``python -m rbmlib claims [--json]`` prints the same table, so the
three can never disagree.

A verdict is one of the five words of :data:`VERDICTS`, each defined once in
:data:`VERDICT_DEFINITIONS`. Its ``conditions`` say exactly when it holds; its ``evidence``
gives the numbers (every "±" there is a standard error unless it says otherwise). Numbers at
the running example come from the one shared batch of :mod:`rbmlib.running_example`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rbmlib.linear_model import BlockSizes
from rbmlib.presentation import format_number, mean_pm, scenario_label
from rbmlib.running_example import DRAWS, FULL_OVERLAP_SIZES, SIZES, example_core_samples, example_samples

if TYPE_CHECKING:
    import pandas as pd

    from rbmlib.experiments import PhaseGrid

__all__ = [
    "VERDICTS",
    "VERDICT_DEFINITIONS",
    "NOT_COMPUTED",
    "Verdict",
    "verdict_c1",
    "verdict_c2",
    "verdict_c3",
    "verdict_c4",
    "verdict_c5",
    "verdict_c6",
    "verdict_c7",
    "verdict_c2_in_practice",
    "verdict_c8",
    "all_verdicts",
    "claims_markdown",
    "verdicts_markdown",
    "definitions_markdown",
]

#: The five verdicts a claim can get, each defined once (the introduction renders these definitions).
VERDICT_DEFINITIONS: dict[str, str] = {
    "holds": "the evidence supports the claim as stated, in every setting the book examines",
    "holds under stated conditions": (
        "the claim is true exactly under the conditions given beside it, and not outside them"
    ),
    "trade-off": "the method wins on some metrics and loses on others; the numbers of both sides are given",
    "inconclusive": "the evidence cannot decide: the differences lie within their confidence intervals, "
    "or the experiment cannot tell the compared methods from a control",
    "fails": "the evidence contradicts the claim: a confidence interval excludes it",
}

#: The verdict words, in order; a claim whose evidence has not been computed is "not computed".
VERDICTS: tuple[str, ...] = tuple(VERDICT_DEFINITIONS)

#: The status of a claim whose evidence was not computed in this run (never a verdict).
NOT_COMPUTED = "not computed"

#: Chapter labels of the book and their display names (MyST references in the book, plain text in JSON).
CHAPTERS: dict[str, str] = {
    "ch-linear-model": "Ch. 1",
    "ch-distinct": "Ch. 2",
    "ch-overlap": "Ch. 3",
    "ch-masking": "Ch. 4",
    "ch-synthetic": "Ch. 5",
    "ch-deep": "Ch. 6",
    "ch-beyond": "Ch. 7",
    "ch-audit": "Ch. 8",
}

#: A loss below this fraction of the golden forgetting loss counts as zero: round-off, not fit error.
ZERO_LOSS = 1e-20

#: Half-width multiplier of the normal 95 % intervals quoted in the evidence.
Z95 = 1.96

#: Relative finite-size bias a deterministic equivalent may show at the book's sizes before the
#: simulation is said to disagree with it (Chapter 5 measures at most a few per cent there).
THEORY_TOLERANCE = 0.05


def _agrees(theory: float, values: np.ndarray) -> bool:
    """Whether a formula and a simulated mean agree: within the 95 % interval or the finite-size tolerance."""
    mean, se = float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(values.size))
    return abs(mean - theory) <= max(Z95 * se, THEORY_TOLERANCE * abs(theory))


@dataclass(frozen=True)
class Verdict:
    """One row of the claims table.

    Attributes
    ----------
    id : str
        Identifier, ``"C1"`` … ``"C7"``.
    claim : str
        The claim, paraphrased from the abstract.
    verdict : str
        One of :data:`VERDICTS`, or :data:`NOT_COMPUTED`.
    conditions : str
        When the verdict holds (assumptions, regimes, which variant of a method).
    evidence : str
        The numbers behind the verdict (MyST math allowed).
    chapters : tuple of str
        Labels of the chapters that examine the claim (keys of :data:`CHAPTERS`).
    """

    id: str
    claim: str
    verdict: str
    conditions: str
    evidence: str
    chapters: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.verdict not in (*VERDICTS, NOT_COMPUTED):
            raise ValueError(f"verdict must be one of {VERDICTS} or {NOT_COMPUTED!r}, got {self.verdict!r}")
        unknown = [c for c in self.chapters if c not in CHAPTERS]
        if unknown:
            raise ValueError(f"unknown chapter labels {unknown}; known: {sorted(CHAPTERS)}")

    @property
    def chapter(self) -> str:
        """The chapters as plain text, e.g. ``"Ch. 4, Ch. 5"``."""
        return ", ".join(CHAPTERS[c] for c in self.chapters)

    @property
    def chapter_refs(self) -> str:
        """The chapters as MyST references (links in the book)."""
        return ", ".join(f"{{ref}}`{CHAPTERS[c]} <{c}>`" for c in self.chapters)

    def to_json(self) -> dict[str, str]:
        """``{"id", "claim", "verdict", "conditions", "evidence", "chapter"}`` (``claims --json``)."""
        return {
            "id": self.id,
            "claim": self.claim,
            "verdict": self.verdict,
            "conditions": self.conditions,
            "evidence": self.evidence,
            "chapter": self.chapter,
        }


def _shape(sizes: BlockSizes) -> str:
    # The numbers are text, not math: a line can wrap between them on a phone, where one inline
    # formula cannot wrap and would scroll.
    return "$(d_f, d_o, d_r, n_f, n_r)$ = (" + ", ".join(str(v) for v in asdict(sizes).values()) + ")"


def _mean_se(values: np.ndarray) -> str:
    """``"mean ± s.e."``, with as many decimals as the standard error's first significant digit needs."""
    return mean_pm(float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(values.size)), digits=None)


def verdict_c1() -> Verdict:
    """C1: FT reaches zero remaining loss (Proposition 1.2), checked on the shared batch."""
    samples = example_core_samples()
    scale = float(np.mean(samples["golden"]["forgetting_loss"]))
    zero = int(np.sum(samples["ft"]["remaining_loss"] < ZERO_LOSS * scale))
    return Verdict(
        id="C1",
        claim="Fine-tuning on the remaining data reaches zero remaining loss.",
        verdict="holds" if zero == DRAWS else "fails",
        conditions="over-parameterised remaining data ($n_r \\le d_o + d_r$) and fine-tuning run to convergence; "
        "true with or without label noise",
        evidence=f"proved ($w_t = w_o$ interpolates $D_r$); zero to round-off on {zero}/{DRAWS} simulated instances "
        f"at {_shape(SIZES)}",
        chapters=("ch-linear-model", "ch-distinct", "ch-overlap"),
    )


#: Training budgets of the original model in C2's early-stopping check: points of Chapter 1's curve,
#: on the same instance (:func:`rbmlib.running_example.early_stopping_instance`).
EARLY_STOPPING_STEPS: tuple[int, ...] = (0, 5, 20, 120)


def verdict_c2() -> Verdict:
    """C2: FT fails to forget — it keeps the original's zero forgetting loss; the golden one is positive.

    Checked on the shared batch at the running example and at full overlap, beside the closed form
    (Chapter 3, Theorem 3.2), and on one instance trained for a few early-stopping budgets
    (:func:`rbmlib.descent.early_stopping_curve`), which bounds the claim's scope.
    """
    from rbmlib.descent import early_stopping_curve
    from rbmlib.running_example import early_stopping_instance
    from rbmlib.theory import expected_losses

    parts, holds = [], True
    for sizes in (SIZES, FULL_OVERLAP_SIZES):
        samples = example_core_samples(sizes)
        ft, golden = samples["ft"]["forgetting_loss"], samples["golden"]["forgetting_loss"]
        theory = expected_losses(sizes)["golden"]["forgetting_loss"]
        holds = holds and float(np.mean(golden)) > 0 and bool(np.all(ft < ZERO_LOSS * np.mean(golden)))
        parts.append(f"{_mean_se(golden)} (closed form {theory:.1f}) at {_shape(sizes)}")
    curve = early_stopping_curve(early_stopping_instance(), steps=EARLY_STOPPING_STEPS)
    ratios = curve["ft_forgetting_loss"].to_numpy() / curve["ft_forgetting_loss"].iloc[0]
    early = ", ".join(f"{format_number(r, 2)} after {k}" for k, r in zip(EARLY_STOPPING_STEPS, ratios))
    return Verdict(
        id="C2",
        claim="Fine-tuning still fails to forget: the pretrained model keeps the forgetting data's influence.",
        verdict="holds under stated conditions" if holds else "fails",
        conditions="gradient descent's implicit bias with no explicit regularisation, the original and FT both "
        "trained to convergence; an early-stopped original leaves FT part of the golden forgetting loss, and "
        "weight decay makes FT converge to the regularised retrain",
        evidence=(
            f"proved for distinct and overlapping features; FT keeps the original's forgetting loss 0 (to round-off) "
            f"while the golden model's is {parts[0]} and, at full overlap, {parts[1]}; on the instance of "
            f"Chapter 1's early-stopping curve, FT's forgetting loss as a fraction of the golden one is {early} "
            "training steps of the original"
        ),
        chapters=("ch-linear-model", "ch-distinct", "ch-overlap"),
    )


def verdict_c3(*, seed: int = 0) -> Verdict:
    """C3: the two saliency maps, read off one instance of the running example (Proposition 4.1)."""
    from rbmlib.linear_model import sample_instance
    from rbmlib.masks import fbm_keep_mask, rbm_keep_mask

    inst = sample_instance(SIZES, rng=np.random.default_rng(seed).spawn(1)[0])  # draw 0 of the shared batch
    kept_by_rbm = rbm_keep_mask(inst)
    freed_by_fbm = ~fbm_keep_mask(inst)
    shared = SIZES.block_mask("shared")
    as_derived = np.array_equal(kept_by_rbm, shared | SIZES.block_mask("retain")) and np.array_equal(
        freed_by_fbm, SIZES.block_mask("forget") | shared
    )
    both = int(np.sum(kept_by_rbm & freed_by_fbm))
    return Verdict(
        id="C3",
        claim=(
            "RBM builds its saliency map from the remaining data; forgetting-based masking (SalUn) "
            "from the forgetting data."
        ),
        verdict="holds" if as_derived else "fails",
        conditions="a definition; in the linear model the saliency must be one that does not vanish at an "
        "interpolating model (the Fisher diagonal), because every gradient is zero there",
        evidence=(
            f"the Fisher saliency of $D_r$ keeps {int(kept_by_rbm.sum())} coordinates ($S_o \\cup S_r$), that of "
            f"$D_f$ frees {int(freed_by_fbm.sum())} ($S_f \\cup S_o$): the maps disagree exactly on the {both} "
            "shared coordinates, which RBM keeps and FBM frees"
        ),
        chapters=("ch-masking",),
    )


def _grid_table(
    grid: PhaseGrid | None, table: pd.DataFrame | None, draws: int, seed: int
) -> tuple[PhaseGrid, pd.DataFrame]:
    from rbmlib.experiments import PhaseGrid, phase_grid

    grid = PhaseGrid() if grid is None else grid
    table = phase_grid(grid, draws=draws, seed=seed) if table is None else table
    return grid, table


def verdict_c4(
    *, grid: PhaseGrid | None = None, table: pd.DataFrame | None = None, draws: int = 40, seed: int = 0
) -> Verdict:
    """C4: RBM improves UA over FT — measured as the fraction of the golden forgetting loss it recovers.

    FT recovers 0 (Proposition 1.2); RBM recovers :math:`\\mathcal L(w_{RBM}; D_f)/\\mathcal L(w_g; D_f)`
    (:func:`rbmlib.disparity.recovered_fraction`), reported at the running example (shared batch)
    and over the phase grid of Chapter 5 (``table``, if it was already simulated).
    """
    from rbmlib.disparity import recovered_fraction
    from rbmlib.theory import expected_losses, expected_masked_losses

    samples = example_samples()
    rho, se = recovered_fraction(samples["rbm"]["forgetting_loss"], samples["golden"]["forgetting_loss"])
    # The verdict rests on the formulas (Theorem 4.7 for RBM, the exact golden loss); the shared
    # batch checks them.
    golden_th = expected_losses(SIZES)["golden"]["forgetting_loss"]
    rbm_th = expected_masked_losses(SIZES)["rbm"]["forgetting_loss"]
    full_th = expected_masked_losses(FULL_OVERLAP_SIZES)["rbm"]["forgetting_loss"]
    assert golden_th is not None and rbm_th is not None and full_th is not None
    rho_th = rbm_th / golden_th
    checked = _agrees(rbm_th, samples["rbm"]["forgetting_loss"]) and _agrees(
        golden_th, samples["golden"]["forgetting_loss"]
    )
    grid, table = _grid_table(grid, table, draws, seed)
    rec = table[(table["method"] == "rbm") & (table["metric"] == "recovered_forgetting")]
    partial = rec[(rec["overlap"] > 0) & (rec["overlap"] < 1)]
    distinct, full = rec[rec["overlap"] == 0], rec[rec["overlap"] == 1]
    full_samples = example_samples(FULL_OVERLAP_SIZES)
    full_zero = float(np.max(full_samples["rbm"]["forgetting_loss"])) < ZERO_LOSS * float(
        np.mean(full_samples["golden"]["forgetting_loss"])
    )
    improves = (
        rho_th > 0
        and full_th == 0
        and checked
        and rho - Z95 * se > 0
        and bool(np.all(partial["mean"] - Z95 * partial["se"] > 0))
        and full_zero
    )
    lo, hi = partial.loc[partial["mean"].idxmin()], partial.loc[partial["mean"].idxmax()]
    return Verdict(
        id="C4",
        claim="RBM significantly improves unlearning accuracy over FT.",
        verdict="holds under stated conditions" if improves else "fails",
        conditions="whenever the forgetting data have features of their own ($d_f > 0$); the gain shrinks as the "
        "overlap grows and vanishes at full overlap ($d_f = 0$), where RBM is FT",
        evidence=(
            f"FT recovers 0 of the golden forgetting loss; at {_shape(SIZES)} RBM recovers {100 * rho_th:.1f}\u00a0% "
            f"by the formulas (Proposition 4.9 over the exact golden loss) and {100 * rho:.0f}\u00a0% "
            f"± {100 * Z95 * se:.0f}\u00a0% (95 % interval) in simulation; over the phase grid, 100\u00a0% "
            f"with distinct features "
            f"({len(distinct)} cells), between {100 * lo['mean']:.0f}\u00a0% (overlap {lo['overlap']:.1f}, $n_r/m$ = "
            f"{lo['retain_ratio']:.2f}) and {100 * hi['mean']:.0f}\u00a0% (overlap {hi['overlap']:.1f}, $n_r/m$ = "
            f"{hi['retain_ratio']:.2f}) in the {len(partial)} partially overlapping cells, and 0 at full overlap "
            f"({len(full)} cells; the formula gives exactly 0 there)"
        ),
        chapters=("ch-masking", "ch-synthetic"),
    )


#: Sizes with fewer remaining samples than shared coordinates ($n_r < d_o$), where the masked
#: updates of RBM and FBM differ (Proposition 4.4).
MASKED_DIFFER_SIZES = BlockSizes(d_f=100, d_o=100, d_r=200, n_f=40, n_r=60)


def verdict_c5() -> Verdict:
    """C5: RBM keeps higher RA than forgetting-based masking by preserving the shared features.

    RA in regression is the loss on :math:`D_r` itself (zero for every method that ends by fitting
    :math:`D_r`), so the shared-feature advantage is read off TA's analogue, the fresh remaining
    loss — for reset-then-FT, and for the masked update only where the two masks' updates differ.
    """
    from rbmlib.experiments import simulate_methods
    from rbmlib.running_example import example_config
    from rbmlib.theory import expected_masked_losses

    # The reset-then-FT part rests on the formulas (Corollary 4.8 and Theorem 5.1), checked by the
    # shared batch. FBM's masked update has no fresh-loss formula when n_r < d_o (Proposition 4.4
    # gives its forgetting loss only), so that part is simulated.
    th = expected_masked_losses(SIZES)
    th_rbm, th_fbm = th["rbm"]["fresh_remaining_loss"], th["fbm"]["fresh_remaining_loss"]
    assert th_rbm is not None and th_fbm is not None
    th_diff = th_fbm - th_rbm
    s = example_samples()
    rbm, fbm = s["rbm"]["fresh_remaining_loss"], s["fbm"]["fresh_remaining_loss"]
    diff = fbm - rbm
    d_mean, d_se = float(np.mean(diff)), float(np.std(diff, ddof=1) / np.sqrt(diff.size))
    scale = float(np.mean(s["golden"]["forgetting_loss"]))
    tied_ra = all(float(np.max(s[m]["remaining_loss"])) < ZERO_LOSS * scale for m in ("rbm", "fbm"))
    fbm_break = s["fbm_reset"]["remaining_loss"]
    masked_same = float(
        np.max(np.abs(s["rbm_masked"]["fresh_remaining_loss"] - s["fbm_masked"]["fresh_remaining_loss"]))
    )
    other = simulate_methods(example_config(MASKED_DIFFER_SIZES), methods=("rbm_masked", "fbm_masked"))
    m_diff = other["fbm_masked"]["fresh_remaining_loss"] - other["rbm_masked"]["fresh_remaining_loss"]
    m_mean, m_se = float(np.mean(m_diff)), float(np.std(m_diff, ddof=1) / np.sqrt(m_diff.size))
    checked = _agrees(th_rbm, rbm) and _agrees(th_fbm, fbm)
    holds = tied_ra and th_diff > 0 and checked and d_mean - Z95 * d_se > 0
    return Verdict(
        id="C5",
        claim="RBM keeps higher retaining accuracy than forgetting-based masking by preserving shared features.",
        verdict="holds under stated conditions" if holds else "fails",
        conditions="RA itself (the loss on $D_r$) is 0 for both after fine-tuning, a tie; the preserved shared "
        "features show on fresh remaining-distribution data (the TA analogue), for reset-then-FT whenever "
        "$d_o > 0$, and before any fine-tuning on RA itself (FBM's reset breaks the fit of $D_r$, RBM's does not); "
        "under the SalUn-style masked update the two coincide when $n_r \\ge d_o$ and $n_f \\le d_f$",
        evidence=(
            f"at {_shape(SIZES)}: remaining loss 0 for both after FT; before FT, FBM's reset has remaining loss "
            f"{_mean_se(fbm_break)} against RBM's 0; fresh remaining loss of RBM {th_rbm:.1f} against FBM's "
            f"{th_fbm:.1f} by the formulas, a difference of {th_diff:.1f} (simulated: {_mean_se(rbm)} against "
            f"{_mean_se(fbm)}, paired difference {d_mean:.1f} ± {Z95 * d_se:.1f}, 95 % interval); the masked updates "
            f"differ by at most {masked_same:.1e} there, and at {_shape(MASKED_DIFFER_SIZES)} ($n_r < d_o$) FBM's "
            f"masked update has fresh loss {m_mean:+.1f} ± {Z95 * m_se:.1f} (95 %, simulated; no formula there) "
            f"relative to RBM's"
        ),
        chapters=("ch-masking", "ch-synthetic"),
    )


def verdict_c6(
    *, grid: PhaseGrid | None = None, table: pd.DataFrame | None = None, draws: int = 40, seed: int = 0
) -> Verdict:
    """C6: the simulated phase grid against the closed forms, and RBM against FBM on it.

    Chapter 5 passes the ``table`` it already simulated on ``grid``; otherwise the default
    :class:`~rbmlib.experiments.PhaseGrid` is simulated with ``draws`` and ``seed``. Closed forms
    that are exactly zero (interpolation identities) are counted apart from the checks that could
    have failed.
    """
    from rbmlib.experiments import paired_wins, with_theory

    grid, table = _grid_table(grid, table, draws, seed)
    checked = with_theory(table, lambda row: grid.sizes(row.overlap, row.retain_ratio))
    live = checked[~checked["structural"]]
    z = np.abs(live["z"].to_numpy())
    identities_ok = bool(np.all(checked.loc[checked["structural"], "z"] == 0))
    rbm_fresher, n = paired_wins(table, "fresh_remaining_loss", winner="rbm")
    fbm_closer, _ = paired_wins(table, "gap_forgetting_loss", winner="fbm")
    fbm_avg, _ = paired_wins(table, "gap_avg_gap", winner="fbm")
    theory_ok = bool(np.all(z < 4)) and identities_ok
    if not theory_ok:
        verdict = "fails"
    elif rbm_fresher == n and fbm_closer == n:
        verdict = "trade-off"
    elif rbm_fresher == n and fbm_closer == 0 and fbm_avg == 0:
        verdict = "holds"
    else:
        verdict = "inconclusive"
    return Verdict(
        id="C6",
        claim="Synthetic experiments confirm the theory, with RBM balancing UA, RA and disparity better than "
        "forgetting-based masking.",
        verdict=verdict,
        conditions="the simulations confirm every closed form; on the balance, RBM wins the TA analogue and FBM "
        "lands closer to the golden model (reset-then-FT, every overlapping cell of the phase grid)",
        evidence=(
            f"{int(np.sum(z < 2))}/{z.size} closed-form expectations that could have failed lie within 2 standard "
            f"errors of the simulation and all within 4, and {int(checked['structural'].sum())} interpolation "
            f"identities (closed form exactly 0) hold to round-off; in the {n} overlapping cells RBM has the lower "
            f"fresh remaining loss in {rbm_fresher}, FBM the smaller gap to the golden forgetting loss in "
            f"{fbm_closer} and the smaller average gap in {fbm_avg} (each a paired difference beyond 2 standard errors)"
        ),
        chapters=("ch-synthetic",),
    )


#: Draws of C2+'s weight-decay check (its own seeded batch, independent of Chapter 7's draws).
C2_PRACTICE_DRAWS = 40


def verdict_c2_in_practice(*, draws: int = C2_PRACTICE_DRAWS, seed: int = 0, ridge: float = 0.1) -> Verdict:
    """The book's own question (not a claim of the paper): does C2 survive weight decay and finite budgets? (Chapter 7)

    Two computed facts decide it. (1) Run to convergence with weight decay ``ridge`` > 0, FT equals
    the regularised retrain on every draw of the running example (Proposition 7.1): C2 fails there.
    (2) With SalUn's CIFAR-10 FT recipe (:data:`rbmlib.regularisation.SALUN_FT_RECIPE`) the fraction
    of the original's weights outside the remaining data's row space that survives,
    :math:`(1-\\eta\\lambda)^k` (plain SGD) and its heavy-ball value (momentum), stays above one half:
    C2 holds for the budgets people use. Both true gives "holds under stated conditions".
    """
    from rbmlib.regularisation import SALUN_FT_RECIPE as R
    from rbmlib.regularisation import heavy_ball_null_decay, null_space_decay, steps_for_decay, steps_per_epoch
    from rbmlib.regularised_models import BudgetConfig, simulate_regularised
    from rbmlib.simulation import SimulationConfig

    measured, _, _ = simulate_regularised(
        SimulationConfig(SIZES, draws=draws, seed=seed), BudgetConfig(ridge=ridge), methods=("original", "golden", "ft")
    )
    ft, golden = measured["ft"]["forgetting_loss"], measured["golden"]["forgetting_loss"]
    equal = int(np.sum(np.abs(ft - golden) <= 1e-8 * np.abs(golden)))
    per_epoch = steps_per_epoch(int(R["n_retain"]), int(R["batch"]))
    steps = int(R["epochs"]) * per_epoch
    left = float(null_space_decay(R["lr"], R["weight_decay"], steps))
    left_momentum = heavy_ball_null_decay(R["lr"], R["weight_decay"], R["momentum"], steps)
    halving_epochs = steps_for_decay(R["lr"], R["weight_decay"], 0.5) / per_epoch
    limit_forgets = equal == draws
    budget_keeps = min(left, left_momentum) > 0.5
    verdict = (
        "holds under stated conditions"
        if limit_forgets and budget_keeps
        else ("fails" if limit_forgets else "inconclusive")
    )
    return Verdict(
        id="C2+",
        claim="The book's own question, not the paper's: does C2 survive weight decay and finite training budgets?",
        verdict=verdict,
        conditions="for the finite budgets people use ($\\eta\\lambda k \\ll 1$, as in SalUn's recipes); run to "
        "convergence with weight decay, FT does forget: it equals the regularised retrain",
        evidence=(
            f"with weight decay run to convergence FT equals the regularised retrain on "
            f"{equal}/{draws} draws (forgetting loss {_mean_se(golden)} against the original's "
            f"{_mean_se(measured['original']['forgetting_loss'])}), so C2 fails there; after SalUn's 10 FT "
            f"epochs ({steps} steps of lr {R['lr']:g}, weight decay {R['weight_decay']:g}) {100 * left:.1f}% of "
            f"the original's weight outside the remaining data's row space is left ({100 * left_momentum:.1f}% "
            f"with momentum {R['momentum']:g}); halving it takes {halving_epochs:.0f} epochs without momentum"
        ),
        chapters=("ch-beyond",),
    )


C7_CLAIM = "On real data RBM balances UA, RA and disparity better than forgetting-based masking."


def verdict_c7(results: str | Path | None = None) -> Verdict:
    """C7: from a results folder of ``python -m rbmlib unlearn`` (Chapter 6's protocol), if given.

    Without a folder the claim is listed as :data:`NOT_COMPUTED`: the deep experiment takes minutes
    of training, so the introduction points to Chapter 6, which computes it live.
    """
    if results is None:
        return Verdict(
            id="C7",
            claim=C7_CLAIM,
            verdict=NOT_COMPUTED,
            conditions="decided by paired, seed-matched confidence intervals in scenarios where a saliency mask "
            "beats a random mask of the same ratio",
            evidence="computed live in Chapter 6 (or by `python -m rbmlib claims --deep RESULTS_DIR`)",
            chapters=("ch-deep",),
        )
    from rbmlib.deep.commands import report

    found = report(Path(results))["verdict"]  # paired bootstrap intervals, the rule of rbmlib.deep.stats.c7_verdict
    return Verdict(
        id="C7",
        claim=C7_CLAIM,
        verdict=found["verdict"],
        conditions=found["conditions"],
        evidence=found["evidence"],
        chapters=("ch-deep",),
    )


C8_CLAIM = (
    "The book's own question, not the paper's: is RBM's forgetting private against a per-example "
    "membership attack (U-LiRA), as MIA-efficacy suggests?"
)

#: Half-width of the band around an AUC of 1/2 inside which a whole interval counts as "private"
#: (Chapter 8 calls an AUC of 0.6 or more "caught").
C8_MARGIN = 0.1


def _t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval over seeds (width 0 when every seed agrees exactly)."""
    from scipy.stats import t

    n = values.size
    mean = float(values.mean())
    if n < 2:
        return mean, -np.inf, np.inf
    half = float(t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def c8_scenario_outcome(aucs: np.ndarray, *, margin: float = C8_MARGIN) -> tuple[str, tuple[float, float, float]]:
    r"""One scenario's outcome for C8 from RBM's U-LiRA AUCs, one per seed.

    Each seed's AUC is already paired: the same split's unlearned model against its own Retrain.
    Over the $n$ seeds the 95 % Student-$t$ interval of the mean AUC,
    $ar a \pm t_{0.975, n-1}\, s/\sqrt n$, decides: **caught** if it excludes $	frac12$ (either
    side: an AUC below one half also tells the model from Retrain), **private** if it lies inside
    $[	frac12 - m, 	frac12 + m]$, **undecided** otherwise. The $t$ interval, not a bootstrap,
    because the book runs two or three seeds, where a percentile bootstrap over seeds is the range
    of the seeds and far too narrow.

    Returns
    -------
    outcome, (mean, low, high)
    """
    mean, lo, hi = _t_interval(np.asarray(aucs, dtype=np.float64))
    if lo > 0.5 or hi < 0.5:
        return "caught", (mean, lo, hi)
    if 0.5 - margin <= lo and hi <= 0.5 + margin:
        return "private", (mean, lo, hi)
    return "undecided", (mean, lo, hi)


def verdict_c8(table: pd.DataFrame | None = None, *, mia_close: float = 5.0, margin: float = C8_MARGIN) -> Verdict:
    """C8, the book's own question (Chapter 8): does the per-example attack tell RBM from Retrain?

    Parameters
    ----------
    table : pandas.DataFrame, optional
        ``results.csv`` of an ``unlearn --audit ulira`` grid with ``retrain`` and ``rbm`` (columns
        ``scenario``, ``method``, ``seed``, ``mia``, ``ulira_auc``); ``None``: not computed (the
        audit trains shadow models; Chapter 8 runs it live).
    mia_close : float
        RBM "looks private to MIA-efficacy" when its mean MIA-efficacy is within this many points
        of Retrain's.
    margin : float
        Half-width of the "private" band around 1/2 (:func:`c8_scenario_outcome`).

    Returns
    -------
    Verdict
        *holds* if RBM is private in every scenario; *holds under stated conditions* if it is
        private in some and caught or undecided in the others; *fails* if it is caught somewhere
        and private nowhere (as C7's rule: an interval excludes the claim and none supports it);
        *inconclusive* if every scenario is undecided.
    """
    if table is None:
        return Verdict(
            id="C8",
            claim=C8_CLAIM,
            verdict=NOT_COMPUTED,
            conditions="decided by Student-t intervals over seeds of RBM's U-LiRA AUC (each seed's unlearned "
            "model against its own Retrain)",
            evidence="computed live in Chapter 8 (or by `python -m rbmlib claims --deep DIR` on an audited grid)",
            chapters=("ch-audit",),
        )
    need = {"scenario", "method", "seed", "mia", "ulira_auc"}
    if not need <= set(table.columns):
        raise ValueError(f"C8 needs the columns {sorted(need)} of an `unlearn --audit ulira` grid")
    outcomes, parts = {}, []
    for scenario, rows in table.groupby("scenario", sort=False):
        rbm = rows[rows.method == "rbm"].sort_values("seed")
        ret = rows[rows.method == "retrain"]
        if rbm.empty or ret.empty or rbm["ulira_auc"].isna().any():
            raise ValueError(f"C8 needs audited rbm and retrain rows in {scenario}")
        outcome, (mean, lo, hi) = c8_scenario_outcome(rbm["ulira_auc"].to_numpy(), margin=margin)
        outcomes[scenario] = outcome
        mia, mia_ret = float(rbm["mia"].mean()), float(ret["mia"].mean())
        looks = "looks private to MIA-efficacy" if abs(mia - mia_ret) <= mia_close else "MIA-efficacy differs"
        parts.append(
            f"{scenario_label(scenario)}: {outcome}, U-LiRA AUC {mean:.2f} [{lo:.2f}, {hi:.2f}] over {len(rbm)} seeds; "
            f"MIA-efficacy {mia:.1f} against Retrain's {mia_ret:.1f} ({looks})"
        )
    found = set(outcomes.values())
    if found == {"private"}:
        verdict = "holds"
    elif "private" in found:
        verdict = "holds under stated conditions"
    elif "caught" in found:
        verdict = "fails"
    else:
        verdict = "inconclusive"
    private = [s for s, o in outcomes.items() if o == "private"]
    conditions = (
        f"private (95 % interval within ½ ± {margin:g}) in {', '.join(map(scenario_label, private))}; caught means "
        "the interval excludes ½"
        if private
        else f"95 % Student-t intervals over seeds; private means within ½ ± {margin:g}, caught means excluding ½"
    )
    return Verdict(
        id="C8",
        claim=C8_CLAIM,
        verdict=verdict,
        conditions=conditions,
        evidence="; ".join(parts),
        chapters=("ch-audit",),
    )


#: One function per claim, in order.
CLAIM_CHECKS: tuple[Callable[[], Verdict], ...] = (
    verdict_c1,
    verdict_c2,
    verdict_c3,
    verdict_c4,
    verdict_c5,
    verdict_c6,
    verdict_c7,
    verdict_c2_in_practice,  # the book's own questions, after the abstract's seven claims
    verdict_c8,
)


def _audit_table(results: str | Path | None) -> pd.DataFrame | None:
    """The ``results.csv`` of a folder when it holds U-LiRA columns (C8's input); else ``None``."""
    if results is None:
        return None
    import pandas as pd

    table = pd.read_csv(Path(results) / "results.csv")
    return table if "ulira_auc" in table.columns else None


def all_verdicts(*, deep_results: str | Path | None = None) -> list[Verdict]:
    """Run every claim check, in claim order; C7 from ``deep_results`` when given.

    C4 and C6 share one simulation of the default phase grid.
    """
    _, table = _grid_table(None, None, 40, 0)
    out = []
    for check in CLAIM_CHECKS:
        if check in (verdict_c4, verdict_c6):
            out.append(check(table=table))
        elif check is verdict_c7:
            out.append(verdict_c7(deep_results))
        elif check is verdict_c8:
            out.append(verdict_c8(_audit_table(deep_results)))
        else:
            out.append(check())
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def claims_markdown(verdicts: list[Verdict]) -> str:
    """The claims table as MyST markdown (the introduction renders it with ``{glue:md}``)."""
    lines = ["| id | claim | verdict | conditions | examined in |", "|---|---|---|---|---|"]
    lines += [
        f"| {v.id} | {_cell(v.claim)} | **{v.verdict}** | {_cell(v.conditions)} | {v.chapter_refs} |" for v in verdicts
    ]
    return "\n".join(lines)


def verdicts_markdown(verdicts: list[Verdict]) -> str:
    """A bullet list ``**Cn — verdict** (conditions): evidence`` (a chapter renders it with ``{glue:md}``)."""
    return "\n".join(f"* **{v.id} — {v.verdict}** ({v.conditions}): {v.evidence}." for v in verdicts)


def definitions_markdown() -> str:
    """The five verdict words and their definitions, as a MyST definition list."""
    return "\n\n".join(f"*{word}*\n: {text}." for word, text in VERDICT_DEFINITIONS.items())
