"""Deep-network unlearning engine behind Chapter 6 (needs torch).

Modules, one concept each:

* :mod:`~rbmlib.deep.datasets` -- load mnist5k, digits, CIFAR-10/100, SVHN, TinyImageNet.
* :mod:`~rbmlib.deep.splits` -- scenarios and hashed train/val/test/forget/retain splits.
* :mod:`~rbmlib.deep.batches` -- in-memory example sets, mini-batches, augmentation.
* :mod:`~rbmlib.deep.models` -- the small CNN and the CIFAR-stem ResNet-18.
* :mod:`~rbmlib.deep.saliency` -- SalUn's forget-saliency mask, RBM's retain-based (Fisher) mask,
  the random control.
* :mod:`~rbmlib.deep.training` -- the one masked-SGD engine (hard or leaky masks).
* :mod:`~rbmlib.deep.methods` -- Retrain, FT, GA, RL, l1-sparse, SalUn, random mask, RBM and its
  variants (one signature, one configuration type each, registered once).
* :mod:`~rbmlib.deep.recipes` -- default hyper-parameters per dataset, with their provenance.
* :mod:`~rbmlib.deep.tune` -- the equal-budget tuning protocol (``tune`` subcommand).
* :mod:`~rbmlib.deep.metrics` -- UA, RA, TA, MIA-efficacy, Avg. Gap.
* :mod:`~rbmlib.deep.results` -- tidy tables paired on the split hash, mean and std summaries;
  :mod:`~rbmlib.deep.display` their ``mean ± std`` display strings.
* :mod:`~rbmlib.deep.stats` -- paired bootstrap comparisons and the C7 verdict rule.
* :mod:`~rbmlib.deep.commands` -- the ``report`` subcommand (and ``tune``'s parser).
* :mod:`~rbmlib.deep.planning` -- the experiment config and its plan (split -> original per seed -> cells).
* :mod:`~rbmlib.deep.tasks` -- one function per piece of work: content-addressed, verified, locked artifacts.
* :mod:`~rbmlib.deep.executors` -- run the plan locally, on Ray or on SLURM through submitit.
* :mod:`~rbmlib.deep.runner` -- the resumable experiment grid; :mod:`~rbmlib.deep.cli` its CLI.
* :mod:`~rbmlib.deep.plots` -- the chapter's figures.
* :mod:`~rbmlib.deep.audit` -- membership attacks on arrays: U-LiRA, RMIA, ROC, AUC, TPR at low FPR
  (Chapter 8); :mod:`~rbmlib.deep.confidences` the per-example statistics they read;
  :mod:`~rbmlib.deep.shadows` the shadow models and ``unlearn --audit``;
  :mod:`~rbmlib.deep.audit_plots` their figures; :mod:`~rbmlib.deep.audit_table` where the
  population and the per-example attack disagree.
"""

from rbmlib.deep.datasets import DATASETS, DatasetUnavailableError, ImageData, load_dataset
from rbmlib.deep.display import format_summary
from rbmlib.deep.methods import (
    MASKED_METHODS,
    METHODS,
    RBM_VARIANTS,
    REGISTRY,
    FinetuneConfig,
    GradientAscentConfig,
    L1Config,
    MaskedRLConfig,
    MethodConfig,
    MethodSpec,
    ResetFTConfig,
    RetrainConfig,
    RLConfig,
    UnlearningMethod,
    finetune,
    gradient_ascent,
    l1_sparse,
    random_label,
    random_mask_rl,
    rbm,
    rbm_grad,
    rbm_layer,
    rbm_reset,
    retrain,
    salun,
)
from rbmlib.deep.metrics import Metrics, avg_gap, evaluate, mia_efficacy
from rbmlib.deep.recipes import Recipe, default_recipe, with_mask_ratio
from rbmlib.deep.results import summarise
from rbmlib.deep.runner import DEFAULT_METHODS, ExperimentConfig, run_experiment
from rbmlib.deep.saliency import (
    fisher_scores,
    forget_saliency_mask,
    random_mask,
    retain_saliency_mask,
    saliency_scores,
)
from rbmlib.deep.splits import Scenario, Split, SplitConfig, make_split, parse_scenario
from rbmlib.deep.stats import c7_verdict, compare, paired_bootstrap_ci
from rbmlib.deep.training import SGDConfig, masked_sgd

__all__ = [
    "DATASETS",
    "DEFAULT_METHODS",
    "MASKED_METHODS",
    "METHODS",
    "RBM_VARIANTS",
    "REGISTRY",
    "DatasetUnavailableError",
    "ExperimentConfig",
    "FinetuneConfig",
    "GradientAscentConfig",
    "ImageData",
    "L1Config",
    "MaskedRLConfig",
    "MethodConfig",
    "MethodSpec",
    "Metrics",
    "RLConfig",
    "ResetFTConfig",
    "RetrainConfig",
    "Recipe",
    "SGDConfig",
    "Scenario",
    "Split",
    "SplitConfig",
    "UnlearningMethod",
    "avg_gap",
    "c7_verdict",
    "compare",
    "default_recipe",
    "evaluate",
    "finetune",
    "fisher_scores",
    "forget_saliency_mask",
    "format_summary",
    "gradient_ascent",
    "l1_sparse",
    "load_dataset",
    "make_split",
    "masked_sgd",
    "mia_efficacy",
    "paired_bootstrap_ci",
    "parse_scenario",
    "random_label",
    "random_mask",
    "random_mask_rl",
    "rbm",
    "rbm_grad",
    "rbm_layer",
    "rbm_reset",
    "retain_saliency_mask",
    "retrain",
    "run_experiment",
    "saliency_scores",
    "salun",
    "summarise",
    "with_mask_ratio",
]
