"""The abstract's claims C1–C7 and the verdict the book's evidence gives each (introduction).

Every verdict is *computed*: a small, seeded check that calls the same library functions as the
chapter that examines the claim, and a sentence built from its numbers. The introduction renders
:func:`claims_markdown` of :func:`all_verdicts`, so the claims table can never disagree with the
code. Claims whose chapter is not written yet are reported as *planned*, never as settled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig, simulate
from rbmlib.theory import expected_losses

__all__ = ["VERDICTS", "Verdict", "verdict_c1", "verdict_c2", "all_verdicts", "claims_markdown"]

#: The verdicts a claim can get.
VERDICTS: tuple[str, ...] = ("holds", "holds under stated conditions", "is a trade-off", "fails", "planned")

#: Block sizes of the introduction's checks: the running example of the linear chapters.
EXAMPLE_SIZES = BlockSizes(d_forget=160, d_shared=40, d_retain=200, n_forget=40, n_retain=80)

#: The running example with full overlap (every forget-only coordinate made shared).
FULL_OVERLAP_SIZES = BlockSizes(d_forget=0, d_shared=200, d_retain=200, n_forget=40, n_retain=80)

#: A loss below this fraction of the golden forgetting loss counts as zero: round-off, not fit error.
ZERO_LOSS = 1e-20


@dataclass(frozen=True)
class Verdict:
    """One row of the claims table.

    Attributes
    ----------
    claim : str
        Identifier, ``"C1"`` … ``"C7"``.
    statement : str
        The claim, paraphrased from the abstract.
    verdict : str
        One of :data:`VERDICTS`.
    evidence : str
        One sentence with the numbers behind the verdict (MyST allowed).
    where : str
        MyST reference(s) to the chapter(s) that examine the claim.
    """

    claim: str
    statement: str
    verdict: str
    evidence: str
    where: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def _example_losses(draws: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    return simulate(SimulationConfig(EXAMPLE_SIZES, draws=draws, seed=seed))


def verdict_c1(*, draws: int = 200, seed: int = 0) -> Verdict:
    """C1: FT reaches zero remaining loss (Proposition 1.2), checked on ``draws`` instances."""
    samples = _example_losses(draws, seed)
    zero = int(np.sum(samples["ft"]["remaining_loss"] < ZERO_LOSS * np.mean(samples["golden"]["forgetting_loss"])))
    return Verdict(
        claim="C1",
        statement="Fine-tuning on the remaining data reaches zero remaining loss.",
        verdict="holds" if zero == draws else "fails",
        evidence=f"proved ($w_t = w_o$ interpolates $D_r$); zero to round-off in {zero}/{draws} simulated instances",
        where="{ref}`ch-linear-model`, {ref}`ch-distinct`, {ref}`ch-overlap`",
    )


def verdict_c2(*, draws: int = 200, seed: int = 0) -> Verdict:
    """C2: FT fails to forget — its forgetting loss is the original's zero, the golden one is not.

    Checked at the running example and at full overlap (:data:`FULL_OVERLAP_SIZES`), where the
    simulated golden loss is set beside its closed form (Chapter 3, Theorem 3.2).
    """
    parts, holds = [], True
    for sizes in (EXAMPLE_SIZES, FULL_OVERLAP_SIZES):
        samples = simulate(SimulationConfig(sizes, draws=draws, seed=seed))
        ft, golden = samples["ft"]["forgetting_loss"], samples["golden"]["forgetting_loss"]
        mean, se = float(np.mean(golden)), float(np.std(golden, ddof=1) / np.sqrt(draws))
        theory = expected_losses(sizes)["golden"]["forgetting_loss"]
        holds = holds and mean > 0 and bool(np.all(ft < ZERO_LOSS * mean))
        shape = ", ".join(str(v) for v in asdict(sizes).values())
        parts.append(f"{mean:.1f} ± {se:.1f} (closed form {theory:.1f}) at $(d_f, d_o, d_r, n_f, n_r) = ({shape})$")
    return Verdict(
        claim="C2",
        statement="Fine-tuning still fails to forget: the pretrained model keeps the forgetting data's influence.",
        verdict="holds" if holds else "fails",
        evidence=(
            "proved for distinct and overlapping features; FT keeps the original's forgetting loss 0 "
            f"(to round-off), the golden model's is {parts[0]} and, at full overlap, {parts[1]}"
        ),
        where="{ref}`ch-linear-model`, {ref}`ch-distinct`, {ref}`ch-overlap`",
    )


def _planned(claim: str, statement: str, where: str) -> Callable[[], Verdict]:
    def verdict() -> Verdict:
        return Verdict(claim, statement, "planned", "the chapter that examines it is not written yet", where)

    return verdict


#: One function per claim, in order. Chapters replace the planned entries as they are written.
CLAIM_CHECKS: tuple[Callable[[], Verdict], ...] = (
    verdict_c1,
    verdict_c2,
    _planned("C3", "RBM builds its saliency map from the remaining data; forgetting-based masking (SalUn) from the forgetting data.", "Chapter 4 (planned)"),
    _planned("C4", "RBM significantly improves unlearning accuracy over FT.", "Chapters 4–5 (planned)"),
    _planned("C5", "RBM keeps higher retaining accuracy than forgetting-based masking by preserving shared features.", "Chapters 4–5 (planned)"),
    _planned("C6", "Synthetic experiments confirm the theory.", "Chapter 5 (planned)"),
    _planned("C7", "On real data RBM balances UA, RA and disparity better than forgetting-based masking.", "Chapter 6 (planned)"),
)


def all_verdicts() -> list[Verdict]:
    """Run every claim check, in claim order."""
    return [check() for check in CLAIM_CHECKS]


def claims_markdown(verdicts: list[Verdict]) -> str:
    """The claims table as MyST markdown (rendered in the introduction with ``{glue:md}``)."""
    lines = ["| id | claim | verdict | evidence | examined in |", "|---|---|---|---|---|"]
    lines += [f"| {v.claim} | {v.statement} | **{v.verdict}** | {v.evidence} | {v.where} |" for v in verdicts]
    return "\n".join(lines)
