"""Deep-network unlearning engine behind Chapter 6 (needs torch).

Modules, one concept each:

* :mod:`~rbmlib.deep.datasets` -- load mnist5k, digits, CIFAR-10/100, SVHN, TinyImageNet.
* :mod:`~rbmlib.deep.splits` -- scenarios and hashed train/val/test/forget/retain splits.
* :mod:`~rbmlib.deep.batches` -- in-memory example sets, mini-batches, augmentation.
* :mod:`~rbmlib.deep.models` -- the small CNN and the CIFAR-stem ResNet-18.
* :mod:`~rbmlib.deep.saliency` -- SalUn's forget-saliency mask and RBM's retain-based mask.
* :mod:`~rbmlib.deep.training` -- the one masked-SGD engine (hard or leaky masks).
* :mod:`~rbmlib.deep.methods` -- Retrain, FT, GA, RL, l1-sparse, SalUn, RBM (one signature).
* :mod:`~rbmlib.deep.recipes` -- default hyper-parameters per dataset.
* :mod:`~rbmlib.deep.metrics` -- UA, RA, TA, MIA-efficacy, Avg. Gap.
* :mod:`~rbmlib.deep.results` -- tidy tables and mean ± std summaries.
* :mod:`~rbmlib.deep.runner` -- the resumable experiment grid; :mod:`~rbmlib.deep.cli` its CLI.
* :mod:`~rbmlib.deep.plots` -- the chapter's figures.
"""

from rbmlib.deep.datasets import DATASETS, DatasetUnavailableError, ImageData, load_dataset
from rbmlib.deep.methods import (
    METHODS,
    L1Config,
    MaskedRLConfig,
    RLConfig,
    finetune,
    gradient_ascent,
    l1_sparse,
    random_label,
    rbm,
    retrain,
    salun,
)
from rbmlib.deep.metrics import Metrics, avg_gap, evaluate, mia_efficacy
from rbmlib.deep.recipes import Recipe, default_recipe, with_mask_ratio
from rbmlib.deep.results import format_summary, summarize
from rbmlib.deep.runner import DEFAULT_METHODS, ExperimentConfig, run_experiment
from rbmlib.deep.saliency import forget_saliency_mask, retain_saliency_mask, saliency_scores
from rbmlib.deep.splits import Scenario, Split, SplitConfig, make_split, parse_scenario
from rbmlib.deep.training import SGDConfig, masked_sgd

__all__ = [
    "DATASETS",
    "DEFAULT_METHODS",
    "METHODS",
    "DatasetUnavailableError",
    "ExperimentConfig",
    "ImageData",
    "L1Config",
    "MaskedRLConfig",
    "Metrics",
    "RLConfig",
    "Recipe",
    "SGDConfig",
    "Scenario",
    "Split",
    "SplitConfig",
    "avg_gap",
    "default_recipe",
    "evaluate",
    "finetune",
    "forget_saliency_mask",
    "format_summary",
    "gradient_ascent",
    "l1_sparse",
    "load_dataset",
    "make_split",
    "masked_sgd",
    "mia_efficacy",
    "parse_scenario",
    "random_label",
    "rbm",
    "retain_saliency_mask",
    "retrain",
    "run_experiment",
    "saliency_scores",
    "salun",
    "summarize",
    "with_mask_ratio",
]
