"""Closed forms of the linear block model (Chapters 2–5), one module per concept.

* :mod:`rbmlib.theory.golden` — exact golden-model losses (Lemma 3.1, Theorem 3.2, Propositions 3.3–3.4).
* :mod:`rbmlib.theory.masked` — exact losses of the masked updates (Proposition 4.4, corrected).
* :mod:`rbmlib.theory.equivalents` — the block fixed point of the projector :math:`X^+X`.
* :mod:`rbmlib.theory.deterministic` — deterministic equivalents for the original, FT and RBM.
* :mod:`rbmlib.theory.reset` — deterministic equivalents for FBM (reset, then FT), through ``ker X_r``.
* :mod:`rbmlib.theory.leak` — the small-leak limit of the mask-ratio sweep (Proposition 5.2).
* :mod:`rbmlib.theory.tables` — every row × metric of the ``linear`` table (the CLI's ``--theory``).
"""

from rbmlib.theory.deterministic import original_fresh_remaining_loss_de, rbm_forgetting_loss_de
from rbmlib.theory.equivalents import ProjectorEquivalent, projector_equivalent
from rbmlib.theory.golden import (
    distinct_golden_forgetting_loss,
    expected_golden_forgetting_loss,
    expected_golden_fresh_remaining_loss,
    uniform_projection_moments,
)
from rbmlib.theory.leak import leak_boundary_ratios, small_leak_losses
from rbmlib.theory.masked import (
    expected_fbm_masked_forgetting_loss,
    expected_rbm_masked_forgetting_loss,
    fbm_masked_consistent,
    masked_updates_coincide,
)
from rbmlib.theory.reset import (
    compressed_law,
    compression_law,
    fbm_forgetting_loss_de,
    fbm_fresh_remaining_loss_de,
    original_fresh_remaining_loss_compressed,
    rbm_forgetting_loss_compressed,
)
from rbmlib.theory.tables import (
    compare_theory,
    expected_losses,
    expected_masked_losses,
    phase_theory,
    rbm_minus_fbm_sign,
    theory_bias,
    theory_gaps,
    theory_kinds,
    theory_phase_difference,
    theory_table,
)

__all__ = [
    "distinct_golden_forgetting_loss",
    "uniform_projection_moments",
    "expected_golden_forgetting_loss",
    "expected_golden_fresh_remaining_loss",
    "expected_rbm_masked_forgetting_loss",
    "expected_fbm_masked_forgetting_loss",
    "fbm_masked_consistent",
    "masked_updates_coincide",
    "ProjectorEquivalent",
    "projector_equivalent",
    "original_fresh_remaining_loss_de",
    "rbm_forgetting_loss_de",
    "compression_law",
    "compressed_law",
    "fbm_forgetting_loss_de",
    "fbm_fresh_remaining_loss_de",
    "original_fresh_remaining_loss_compressed",
    "rbm_forgetting_loss_compressed",
    "leak_boundary_ratios",
    "small_leak_losses",
    "phase_theory",
    "theory_phase_difference",
    "compare_theory",
    "theory_bias",
    "theory_table",
    "expected_losses",
    "expected_masked_losses",
    "theory_kinds",
    "theory_gaps",
    "rbm_minus_fbm_sign",
]
