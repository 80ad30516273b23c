"""Train/validation/test partitions and forgetting scenarios, written once and reused (Chapter 6).

A :class:`Split` holds five index arrays into one dataset (:class:`~rbmlib.deep.datasets.ImageData`):
``train`` ($D = D_f \\cup D_r$, what the original model sees), ``val``, ``test``, ``forget``
($D_f$) and ``retain`` ($D_r$), with $D_f \\cap D_r = \\emptyset$ and $D_f \\cup D_r = D$. Its
SHA-256 hash identifies it; the runner writes it to disk once and the original model, every
unlearning method and the retrained model all read the same file. (SalUn's code can train the
original and the unlearned models on different train/validation splits, so some "forgotten"
images were never seen; a shared, hashed split rules that out.)

Three scenarios, written as text:

* ``random:<fraction>`` -- a uniformly random ``round(fraction * |D|)`` training examples.
* ``class:<c>`` -- every training example of class ``c``; the class is also removed from the test
  set unless ``keep_forgotten_class_in_test`` is set.
* ``noisy:<fraction>`` -- the examples of ``random:<fraction>`` (same generator, same indices),
  whose labels were replaced by a uniformly drawn wrong class *before* original training
  (:mod:`rbmlib.deep.mislabel`); the split stores those labels (``forget_labels``), so the
  original model, every method and Retrain read the same corrupted $D_f$ and a correct $D_r$.

The train/validation/test partition depends only on the dataset and :attr:`SplitConfig.seed`, so
every scenario and run seed share the same $D$ (and hence the same original model); the forget set
depends on the scenario and the run's own generator.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from rbmlib.deep.artifacts import atomic_write_bytes, atomic_write_json
from rbmlib.deep.datasets import ImageData
from rbmlib.deep.mislabel import NOISY_KIND, mislabel, noisy_fraction

__all__ = [
    "Scenario",
    "Split",
    "SplitConfig",
    "load_split",
    "make_split",
    "parse_scenario",
    "save_split",
    "split_data",
]

_ARRAYS = ("train", "val", "test", "forget", "retain")


@dataclass(frozen=True)
class Scenario:
    """A forgetting request.

    Attributes
    ----------
    kind : {"random", "class", "noisy"}
        ``"random"``: forget a uniformly random fraction of the training set; ``"class"``: forget
        every training example of one class; ``"noisy"``: forget a uniformly random fraction
        whose labels were corrupted before original training.
    value : float or int
        The fraction in ``(0, 1)`` for ``"random"`` and ``"noisy"``, the class id for ``"class"``.
    """

    kind: Literal["random", "class", "noisy"]
    value: float | int

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.kind == "class" else f"{self.kind}:{self.value:g}"


def parse_scenario(text: str) -> Scenario:
    """Parse ``"random:0.1"``, ``"class:3"`` or ``"noisy:0.1"`` into a :class:`Scenario`.

    Raises
    ------
    ValueError
        Unknown kind, a value that is not a number, a fraction outside ``(0, 1)`` or a negative
        class id. (Whether the class exists is checked by :func:`make_split`.)
    """
    kind, sep, value = text.partition(":")
    if not sep or kind not in ("random", "class", "noisy"):
        raise ValueError(f"scenario {text!r} must look like 'random:<fraction>', 'class:<id>' or 'noisy:<fraction>'")
    if kind == NOISY_KIND:
        fraction = noisy_fraction(text)
        assert fraction is not None
        return Scenario("noisy", fraction)
    if kind == "random":
        try:
            fraction = float(value)
        except ValueError:
            raise ValueError(f"scenario {text!r}: forget fraction {value!r} is not a number") from None
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"scenario {text!r}: forget fraction must be in (0, 1), got {fraction}")
        return Scenario("random", fraction)
    if not value.lstrip("-").isdigit():
        raise ValueError(f"scenario {text!r}: class id {value!r} is not an integer")
    if int(value) < 0:
        raise ValueError(f"scenario {text!r}: class id must be >= 0, got {int(value)}")
    return Scenario("class", int(value))


@dataclass(frozen=True)
class SplitConfig:
    """How a dataset is partitioned.

    Attributes
    ----------
    seed : int
        Seed of the train/validation/test partition; fixed across run seeds so that all runs share
        one training set (the field's practice: one fixed split, several training seeds).
    val_fraction : float
        Fraction of the training pool held out for validation: SalUn's CIFAR-10 default
        (5,000 of 50,000 = 0.1).
    test_fraction : float
        Fraction of the pool used as test set when the dataset has no official one
        (``mnist5k``, ``digits``): 0.2, i.e. 1,000 of mnist5k's 5,000 images, so that the
        MIA's non-member set (the test set) is as large as the usual 10,000/50,000 ratio allows.
    keep_forgotten_class_in_test : bool
        In class-wise forgetting, keep the forgotten class in the test set. Default ``False``: the
        field removes it, so that TA measures the remaining classes only.
    """

    seed: int = 0
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    keep_forgotten_class_in_test: bool = False

    def __post_init__(self) -> None:
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"SplitConfig.{name} must be in [0, 1), got {value}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError(
                f"val_fraction + test_fraction must be < 1, got {self.val_fraction} + {self.test_fraction}"
            )


@dataclass(frozen=True, eq=False)
class Split:
    """Index arrays of one (dataset, scenario, seed) experiment.

    Attributes
    ----------
    dataset : str
        Dataset name.
    scenario : str
        Scenario text, e.g. ``"random:0.1"``.
    train, val, test, forget, retain : np.ndarray
        ``int64`` indices into the dataset. ``forget`` and ``retain`` partition ``train``; all
        arrays are in a random order (so "the first ``|test|`` retain samples", the MIA's member
        set, is a uniform random subset even when the dataset is sorted by class).
    forget_labels : np.ndarray, optional
        ``noisy`` scenarios only: the (wrong) labels the examples ``forget`` carry in this
        experiment, aligned with ``forget``; ``None`` keeps the dataset's labels.
    """

    dataset: str
    scenario: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    forget: np.ndarray
    retain: np.ndarray
    forget_labels: np.ndarray | None = None

    def _arrays(self) -> dict[str, np.ndarray]:
        out = {name: getattr(self, name) for name in _ARRAYS}
        if self.forget_labels is not None:
            out["forget_labels"] = self.forget_labels
        return out

    @property
    def sha256(self) -> str:
        """SHA-256 of the dataset name, the scenario and the arrays (order-sensitive)."""
        h = hashlib.sha256(f"{self.dataset}|{self.scenario}".encode())
        for name, values in self._arrays().items():
            arr = np.ascontiguousarray(values, dtype="<i8")
            h.update(f"|{name}:{arr.size}|".encode())
            h.update(arr.tobytes())
        return h.hexdigest()

    @property
    def train_sha256(self) -> str:
        """SHA-256 of what the original model was trained on: ``train``, and corrupted labels if any.

        Scenarios of one seed with the same value (``random`` and ``class``) share the original
        model; a ``noisy`` scenario's original is trained on other labels, so it has its own.
        """
        h = hashlib.sha256(np.ascontiguousarray(self.train, dtype="<i8").tobytes())
        if self.forget_labels is not None:
            h.update(b"|forget_labels|")
            h.update(np.ascontiguousarray(self.forget, dtype="<i8").tobytes())
            h.update(np.ascontiguousarray(self.forget_labels, dtype="<i8").tobytes())
        return h.hexdigest()

    def sizes(self) -> dict[str, int]:
        """Number of indices in each array."""
        return {name: int(getattr(self, name).size) for name in _ARRAYS}


def _partition(
    n_pool: int, n_total: int, cfg: SplitConfig, n_official_val: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(cfg.seed).permutation(n_pool)
    if n_official_val:  # the whole pool trains; the held-out set gives validation, then test
        val = np.arange(n_pool, n_pool + n_official_val, dtype=np.int64)
        test = np.arange(n_pool + n_official_val, n_total, dtype=np.int64)
        return order.astype(np.int64), val, test
    n_val = round(cfg.val_fraction * n_pool)
    if n_total > n_pool:  # official test set
        test = np.arange(n_pool, n_total, dtype=np.int64)
        n_test = 0
    else:
        n_test = round(cfg.test_fraction * n_pool)
        test = order[:n_test]
        if n_test == 0:
            raise ValueError(f"test_fraction {cfg.test_fraction} leaves no test set in {n_pool} images")
    val = order[n_test : n_test + n_val]
    train = order[n_test + n_val :]
    return train.astype(np.int64), val.astype(np.int64), test.astype(np.int64)


def make_split(
    labels: np.ndarray,
    n_pool: int,
    scenario: Scenario,
    *,
    dataset: str,
    cfg: SplitConfig,
    rng: np.random.Generator,
    n_official_val: int = 0,
) -> Split:
    """Partition a dataset and pick its forgetting set.

    Parameters
    ----------
    labels : np.ndarray
        ``(N,)`` integer labels of the whole dataset (pool first, then the official test set).
    n_pool : int
        Size of the training pool (``N`` when there is no official test set).
    scenario : Scenario
        What to forget.
    dataset : str
        Dataset name (part of the hash).
    cfg : SplitConfig
        Partition seed and fractions.
    rng : np.random.Generator
        Draws the random forgetting set, then (``noisy``) its wrong labels; unused, but required,
        for class-wise forgetting, so the call looks the same for every kind.
    n_official_val : int
        :attr:`~rbmlib.deep.datasets.ImageData.n_official_val`: when positive, the whole pool is
        the training set and ``cfg.val_fraction`` is not used (TinyImageNet, SalUn's protocol).

    Returns
    -------
    Split
        With $D_f \\cup D_r = D$, $D_f \\cap D_r = \\emptyset$, and train, val, test disjoint.

    Raises
    ------
    ValueError
        A class id outside ``0 .. K-1`` or absent from the training set, or a forget fraction that
        rounds to 0 or to the whole training set.
    """
    labels = np.asarray(labels)
    train, val, test = _partition(n_pool, len(labels), cfg, n_official_val)
    num_classes = int(labels.max()) + 1
    if scenario.kind in ("random", NOISY_KIND):
        n_forget = round(float(scenario.value) * train.size)
        if not 0 < n_forget < train.size:
            raise ValueError(
                f"forget fraction {scenario.value} of {train.size} training images gives "
                f"{n_forget} images to forget; need between 1 and {train.size - 1}"
            )
        is_forget = np.zeros(train.size, dtype=bool)
        is_forget[rng.permutation(train.size)[:n_forget]] = True
    else:
        c = int(scenario.value)
        if not 0 <= c < num_classes:
            raise ValueError(f"class id {c} out of range for {dataset}: classes are 0..{num_classes - 1}")
        is_forget = labels[train] == c
        if not is_forget.any():
            raise ValueError(f"class {c} has no training images in {dataset}")
        if not cfg.keep_forgotten_class_in_test:
            test = test[labels[test] != c]
    forget = train[is_forget]
    forget_labels = None
    if scenario.kind == NOISY_KIND:
        wrong = mislabel(
            torch.as_tensor(labels[forget], dtype=torch.int64), np.arange(forget.size), num_classes, rng=rng
        )
        forget_labels = wrong.numpy().astype(np.int64)
    return Split(
        dataset=dataset,
        scenario=str(scenario),
        train=train,
        val=val,
        test=test,
        forget=forget,
        retain=train[~is_forget],
        forget_labels=forget_labels,
    )


def split_data(data: ImageData, split: Split) -> ImageData:
    """``data`` with the labels of the split's experiment: the dataset's, or (``noisy``) the
    corrupted labels of $D_f$ (a copy; ``data`` is not modified)."""
    if split.forget_labels is None:
        return data
    y = data.y.clone()
    y[torch.as_tensor(split.forget)] = torch.as_tensor(split.forget_labels, dtype=y.dtype)
    return replace(data, y=y)


def save_split(split: Split, path_stem: Path, *, cfg: SplitConfig) -> None:
    """Write ``<stem>.npz`` (the arrays) and ``<stem>.json`` (sizes, config, SHA-256), atomically."""
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **split._arrays())
    atomic_write_bytes(path_stem.with_suffix(".npz"), buf.getvalue())
    atomic_write_json(
        path_stem.with_suffix(".json"),
        {
            "dataset": split.dataset,
            "scenario": split.scenario,
            "sha256": split.sha256,
            "train_sha256": split.train_sha256,
            "sizes": split.sizes(),
            "split_config": asdict(cfg),
        },
    )


def load_split(path_stem: Path) -> Split:
    """Read a split written by :func:`save_split` and check its hash.

    Raises
    ------
    ValueError
        The arrays do not match the recorded SHA-256 (a corrupt or hand-edited file).
    """
    meta = json.loads(path_stem.with_suffix(".json").read_text())
    with np.load(path_stem.with_suffix(".npz")) as arrays:
        labels = arrays["forget_labels"].astype(np.int64) if "forget_labels" in arrays.files else None
        split = Split(
            dataset=meta["dataset"],
            scenario=meta["scenario"],
            **{name: arrays[name].astype(np.int64) for name in _ARRAYS},
            forget_labels=labels,
        )
    if split.sha256 != meta["sha256"]:
        raise ValueError(
            f"split file {path_stem}.npz does not match its recorded hash: {split.sha256[:12]} != {meta['sha256'][:12]}"
        )
    return split
