"""rbmlib: the library behind the RBM companion book.

Each module holds one concept of the book and mirrors a chapter:

* :mod:`rbmlib.linear_model` — the block feature model, interpolating fits and losses (Chapter 1).
* :mod:`rbmlib.descent` — gradient descent in numpy and torch, the oracle of the closed forms (Chapter 1).
* :mod:`rbmlib.simulation` — the batched closed-form Monte Carlo engine (Chapters 1–3).
* :mod:`rbmlib.theory` — closed-form expectations (Chapters 2–4).
* :mod:`rbmlib.masks` — saliency, masks, reset-then-fine-tune and the masked update (Chapter 4).
* :mod:`rbmlib.disparity` — gaps to the golden model (Chapters 4–5).
* :mod:`rbmlib.experiments` — the synthetic suite: phase grid and mask-ratio sweep (Chapter 5).
* :mod:`rbmlib.regularisation` — weight decay and finite budgets in closed form (Chapter 7).
* :mod:`rbmlib.regularised_models` — every linear model under weight decay or a step budget (Chapter 7, CLI).
* :mod:`rbmlib.random_features` — a random-features network trained in its last layer (Chapter 7).
* :mod:`rbmlib.running_example` — the running example's sizes and its one shared, seeded batch.
* :mod:`rbmlib.claims` — the claims registry: the computed verdict on each claim (introduction, ``claims`` CLI).
* :mod:`rbmlib.presentation` — the one registry of names, colours and markers, the one table
  renderer, the glue helpers and the matplotlib style (every chapter and both command lines).
* :mod:`rbmlib.plotting`, :mod:`rbmlib.reporting` — figures and tables of the book.
* :mod:`rbmlib.validators` — the shared checks of arguments, each error naming the parameter and the value.
* :mod:`rbmlib.membership`, :mod:`rbmlib.roc` — the residual membership test of the block model and
  the ROC primitives it shares with the deep audits (Chapter 8).
* :mod:`rbmlib.deep` — the deep-unlearning engine (Chapter 6); not imported here because it needs torch.

The names most chapters use are re-exported below.
"""

from rbmlib.disparity import gap_summary, gaps, recovered_fraction
from rbmlib.experiments import LINEAR_METHODS, MaskConfig, PhaseGrid, phase_grid, ratio_sweep, simulate_methods
from rbmlib.linear_model import (
    BlockBatch,
    BlockSizes,
    LinearInstance,
    fit_models,
    forgetting_loss,
    fresh_remaining_loss,
    interpolate,
    remaining_loss,
    row_space_projector,
    sample_block_batch,
    sample_instance,
    sample_instances,
)
from rbmlib.masks import (
    fbm_keep_mask,
    fbm_masked_update_is_exact,
    free_fraction,
    masked_update,
    masked_updates_coincide,
    masked_weights,
    rbm_keep_mask,
    reset_then_finetune,
    saliency,
)
from rbmlib.random_features import RF_METHODS, RFData, rf_losses, width_sweep
from rbmlib.regularisation import budget_plane, descend, ridge_finetune, ridge_fit, spectrum, steps_to_fraction
from rbmlib.regularised_models import BudgetConfig, simulate_regularised
from rbmlib.simulation import METRIC_ANALOGUES, SimulationConfig, cell_seeds, simulate, summarise
from rbmlib.theory import expected_losses, expected_masked_losses

__all__ = [
    "METRIC_ANALOGUES",
    "masked_updates_coincide",
    "free_fraction",
    "fbm_masked_update_is_exact",
    "recovered_fraction",
    "BlockBatch",
    "BlockSizes",
    "BudgetConfig",
    "LINEAR_METHODS",
    "LinearInstance",
    "MaskConfig",
    "PhaseGrid",
    "RFData",
    "RF_METHODS",
    "SimulationConfig",
    "budget_plane",
    "cell_seeds",
    "descend",
    "expected_losses",
    "expected_masked_losses",
    "fbm_keep_mask",
    "fit_models",
    "forgetting_loss",
    "fresh_remaining_loss",
    "gap_summary",
    "gaps",
    "interpolate",
    "masked_update",
    "masked_weights",
    "phase_grid",
    "ratio_sweep",
    "rbm_keep_mask",
    "remaining_loss",
    "reset_then_finetune",
    "rf_losses",
    "ridge_finetune",
    "ridge_fit",
    "row_space_projector",
    "saliency",
    "sample_block_batch",
    "sample_instance",
    "sample_instances",
    "simulate",
    "simulate_methods",
    "simulate_regularised",
    "spectrum",
    "steps_to_fraction",
    "summarise",
    "width_sweep",
]
