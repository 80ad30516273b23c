"""The experiment grid as a plan: configuration, cells, and the key of every artifact (Chapter 6).

:func:`make_plan` validates an :class:`ExperimentConfig` and turns it into a :class:`Plan`, a
small DAG of three kinds of work::

    split (dataset, scenario, seed)  ->  original model (seed)  ->  cell (scenario, method, seed)
                                    \\-------------------------->  Retrain cell (no original)

Each scenario has its own recipe (:func:`rbmlib.deep.recipes.default_recipe` of the dataset and
the scenario, unless the configuration gives one): the values tuned for its kind. Scenarios of a
seed whose original training is the same (same training set and labels, model and recipe) share
one original model, because its key, and so its path, is the same; a ``noisy`` scenario (other
labels, a wider network) gets its own.

Every node's artifact lives at a path that ends in the first 16 hex digits of its key, the
SHA-256 of everything that determines it (:func:`rbmlib.deep.artifacts.config_key`):

============  =====================================================================================
artifact      its key covers
============  =====================================================================================
split         dataset fingerprint, scenario, run seed, :class:`~rbmlib.deep.splits.SplitConfig`
original      dataset fingerprint, run seed, the training set's hash, model, training recipe,
              compute mode
cell          dataset fingerprint, scenario, run seed, method and its configuration, mask ratio,
              model, the split's hash, the original model's key, evaluation batch size, compute mode
============  =====================================================================================

The *compute mode* is the device type and the number of torch CPU threads. Both change results
(floating-point reduction order; an audit saw MIA-efficacy move by up to 14.8 points between one
and two threads), so results made with different thread counts are keyed apart and never mixed; the
thread count is resolved when the plan is made (``threads=None`` means torch's default on the
planning machine) and is the same in every worker of an executor. :data:`FORMAT` is part of every
key: it is increased whenever a code change alters results, so artifacts of older code are not
reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rbmlib.deep.artifacts import config_key, stream_seed
from rbmlib.deep.datasets import ImageData, load_dataset
from rbmlib.deep.methods import MASKED_METHODS, METHODS, MethodConfig
from rbmlib.deep.recipes import Recipe, default_recipe
from rbmlib.deep.splits import Split, SplitConfig, make_split, parse_scenario
from rbmlib.validators import fraction

__all__ = ["DEFAULT_METHODS", "FORMAT", "Cell", "ExperimentConfig", "Plan", "make_plan", "parse_method"]

#: The pre-registered grid: the seven methods of the field's comparison, in reporting order. An
#: explicit choice, not derived from :data:`rbmlib.deep.methods.REGISTRY`: the control, the RBM
#: variants and the untouched original are run on request (``--methods``), not by default.
DEFAULT_METHODS: tuple[str, ...] = ("retrain", "ft", "ga", "rl", "l1", "salun", "rbm")

#: Version of the code's results; part of every artifact key.
FORMAT = 2


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment grid.

    Attributes
    ----------
    dataset : str
        Dataset name (:data:`rbmlib.deep.datasets.DATASETS`).
    scenarios : tuple of str
        Forgetting scenarios, e.g. ``("random:0.1", "class:3")``.
    methods : tuple of str
        Method names (:data:`rbmlib.deep.methods.METHODS`); a masked method may carry its own
        ratio, ``"salun:0.3"``, otherwise it uses the recipe's.
    seeds : tuple of int
        Run seeds; each seeds the forget set, the initialisations and the batch orders through
        named streams (:func:`rbmlib.deep.artifacts.stream_seed`).
    recipe : Recipe, optional
        Hyper-parameters of every scenario not listed in ``recipes``; ``None``: each scenario
        takes :func:`rbmlib.deep.recipes.default_recipe` ``(dataset, scenario)``, the values
        tuned for its kind.
    recipes : tuple of (str, Recipe)
        Per-scenario hyper-parameters, ``((scenario, recipe), ...)``; they take precedence over
        ``recipe``. The resolved configuration of a plan lists every scenario here (what workers
        re-plan from).
    split : SplitConfig
        Partition seed and fractions, and whether the forgotten class stays in the test set.
    data_root : str, optional
        Folder of file-based datasets (CIFAR, SVHN, TinyImageNet).
    download : bool
        Let torchvision download missing files into ``data_root``.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.
    threads : int, optional
        PyTorch intra-op CPU threads while the grid runs (restored afterwards); ``None`` takes
        torch's default on the machine that plans the run (one per core). The thread count
        changes results (floating-point reduction order), so it is part of every model's and
        cell's key: runs with different counts never share or mix artifacts.
    """

    dataset: str
    scenarios: tuple[str, ...] = ("random:0.1",)
    methods: tuple[str, ...] = DEFAULT_METHODS
    seeds: tuple[int, ...] = (0,)
    recipe: Recipe | None = None
    recipes: tuple[tuple[str, Recipe], ...] = ()
    split: SplitConfig = field(default_factory=SplitConfig)
    data_root: str | None = None
    download: bool = True
    device: str = "cpu"
    threads: int | None = None


def parse_method(text: str) -> tuple[str, float | None]:
    """``"salun:0.3"`` -> ``("salun", 0.3)``; ``"ft"`` -> ``("ft", None)``.

    The names come from :data:`rbmlib.deep.methods.METHODS` (the one registry).
    """
    name, sep, ratio = text.partition(":")
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {', '.join(METHODS)}")
    if not sep:
        return name, None
    if name not in MASKED_METHODS:
        raise ValueError(f"method {name!r} takes no mask ratio (got {text!r})")
    try:
        value = float(ratio)
    except ValueError:
        raise ValueError(f"method {text!r}: mask ratio {ratio!r} is not a number") from None
    fraction(value, f"method {text!r}: mask ratio")
    return name, value


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(asdict(obj) if hasattr(obj, "__dataclass_fields__") else obj))


@dataclass(frozen=True)
class Cell:
    """One (scenario, method, seed) run of the grid.

    Attributes
    ----------
    scenario : str
        Scenario text.
    method : str
        Method name.
    seed : int
        Run seed.
    cfg : MethodConfig, optional
        The method's configuration (``None`` for ``"original"``).
    mask_ratio : float, optional
        The mask ratio of a masked method, ``None`` otherwise.
    """

    scenario: str
    method: str
    seed: int
    cfg: MethodConfig | None
    mask_ratio: float | None

    @property
    def label(self) -> str:
        """Folder name of the method, with its ratio: ``"salun-r0.3"``."""
        return self.method if self.mask_ratio is None else f"{self.method}-r{self.mask_ratio:g}"

    @property
    def uses_original(self) -> bool:
        """Whether the method starts from the original model (all but Retrain)."""
        return self.method != "retrain"


def check_device(device: str) -> torch.device:
    """Parse a device string; raises ``ValueError`` naming the value when it is unusable here."""
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:<i>'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch.cuda.is_available() is False")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}; expected 'cpu' or 'cuda'")
    return dev


def _data_sha256(data: ImageData) -> str:
    h = hashlib.sha256(f"{data.name}|{tuple(data.x.shape)}|{data.n_pool}|".encode())
    h.update(np.ascontiguousarray(data.x.numpy()).tobytes())
    h.update(np.ascontiguousarray(data.y.numpy(), dtype="<i8").tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Plan:
    """A validated grid: data, splits, cells, and the configuration of every artifact.

    Attributes
    ----------
    cfg : ExperimentConfig
        The configuration, with ``recipes`` (every scenario's) and ``threads`` resolved (what
        workers re-plan from).
    data : ImageData
        The dataset in memory.
    data_sha256 : str
        Fingerprint of the images and labels.
    splits : dict
        ``(scenario, seed) -> Split``, computed in memory (the stored files must agree).
    cells : list of Cell
        In run order: by seed, then scenario, then method.
    """

    cfg: ExperimentConfig
    data: ImageData
    data_sha256: str
    splits: dict[tuple[str, int], Split]
    cells: list[Cell]

    def recipe(self, scenario: str) -> Recipe:
        """The resolved recipe of ``scenario``."""
        return dict(self.cfg.recipes)[scenario]

    @property
    def threads(self) -> int:
        """The resolved torch thread count."""
        assert self.cfg.threads is not None
        return self.cfg.threads

    @property
    def compute(self) -> dict[str, Any]:
        """The settings besides the configuration that change results (device type, threads)."""
        return {"device": torch.device(self.cfg.device).type, "threads": self.threads}

    def split_config(self, scenario: str, seed: int) -> dict[str, Any]:
        """What determines the split of ``(scenario, seed)``."""
        return {
            "kind": "split",
            "format": FORMAT,
            "data_sha256": self.data_sha256,
            "dataset": self.data.name,
            "scenario": scenario,
            "seed": seed,
            "split": _jsonable(self.cfg.split),
        }

    def original_config(self, seed: int, scenario: str) -> dict[str, Any]:
        """What determines the original model that the cells of ``(scenario, seed)`` start from.

        Scenarios with the same training set, labels, model and training recipe give the same
        configuration, hence the same key and one shared model.
        """
        recipe = self.recipe(scenario)
        return {
            "kind": "original",
            "format": FORMAT,
            "data_sha256": self.data_sha256,
            "dataset": self.data.name,
            "seed": seed,
            "train_sha256": self.splits[(scenario, seed)].train_sha256,
            "model": _jsonable(recipe.model),
            "original": _jsonable(recipe.original),
            "compute": self.compute,
        }

    def cell_config(self, cell: Cell) -> dict[str, Any]:
        """What determines a cell's result (its key; :func:`config_key` of it)."""
        return {
            "kind": "cell",
            "format": FORMAT,
            "data_sha256": self.data_sha256,
            "dataset": self.data.name,
            "scenario": cell.scenario,
            "seed": cell.seed,
            "method": cell.method,
            "mask_ratio": cell.mask_ratio,
            "method_config": None if cell.cfg is None else _jsonable(cell.cfg),
            "model": _jsonable(self.recipe(cell.scenario).model),
            "split_sha256": self.splits[(cell.scenario, cell.seed)].sha256,
            "original_key": (
                config_key(self.original_config(cell.seed, cell.scenario)) if cell.uses_original else None
            ),
            "eval_batch_size": self.recipe(cell.scenario).eval_batch_size,
            "compute": self.compute,
        }

    def recipe_config(self, cell: Cell) -> dict[str, Any]:
        """What a cell shares with the same cell of every other seed: its configuration without the seed.

        Its hash (``recipe_sha256`` in ``results.csv``) tells whether the seeds of one (scenario,
        method, ratio) were run with the same settings, so that ``report`` can refuse a folder
        that mixes configurations across seeds.
        """
        recipe = self.recipe(cell.scenario)
        return {
            "kind": "recipe",
            "format": FORMAT,
            "data_sha256": self.data_sha256,
            "dataset": self.data.name,
            "scenario": cell.scenario,
            "method": cell.method,
            "mask_ratio": cell.mask_ratio,
            "method_config": None if cell.cfg is None else _jsonable(cell.cfg),
            "model": _jsonable(recipe.model),
            "original": _jsonable(recipe.original),
            "split": _jsonable(self.cfg.split),
            "eval_batch_size": recipe.eval_batch_size,
            "compute": self.compute,
        }

    def split_path(self, out: Path, scenario: str, seed: int) -> Path:
        """Folder of the split artifact of ``(scenario, seed)``."""
        key = config_key(self.split_config(scenario, seed))
        return out / "splits" / self.data.name / f"{scenario.replace(':', '-')}-seed{seed}-{key[:16]}"

    def original_path(self, out: Path, seed: int, scenario: str) -> Path:
        """Folder of the original model that the cells of ``(scenario, seed)`` start from."""
        key = config_key(self.original_config(seed, scenario))
        return out / "originals" / self.data.name / f"seed{seed}-{key[:16]}"

    def cell_path(self, out: Path, cell: Cell) -> Path:
        """File of a cell's result."""
        key = config_key(self.cell_config(cell))
        return (
            out
            / "cells"
            / self.data.name
            / cell.scenario.replace(":", "-")
            / cell.label
            / f"seed{cell.seed}-{key[:16]}.json"
        )


def make_plan(cfg: ExperimentConfig) -> Plan:
    """Validate ``cfg`` and build its grid in memory; loads the dataset, writes nothing.

    Raises
    ------
    ValueError
        Empty or duplicated scenarios, methods or seeds, negative seeds, an unknown method or
        device, a thread count below 1, or a scenario the dataset cannot have.
    rbmlib.deep.datasets.DatasetUnavailableError
        The dataset's files are missing or malformed.
    """
    if not cfg.scenarios or not cfg.methods or not cfg.seeds:
        raise ValueError("need at least one scenario, one method and one seed")
    if len(set(cfg.seeds)) != len(cfg.seeds) or any(int(s) < 0 for s in cfg.seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, got {list(cfg.seeds)}")
    if cfg.split.seed < 0:
        raise ValueError(f"split seed must be a non-negative integer, got {cfg.split.seed}")
    scenarios = [parse_scenario(s) for s in cfg.scenarios]
    if len({str(s) for s in scenarios}) != len(scenarios):
        raise ValueError(f"scenarios must be distinct, got {list(cfg.scenarios)}")
    methods = [parse_method(m) for m in cfg.methods]
    check_device(cfg.device)
    if cfg.threads is not None and cfg.threads < 1:
        raise ValueError(f"threads must be >= 1, got {cfg.threads}")
    names = [str(sc) for sc in scenarios]
    given = {str(parse_scenario(text)): r for text, r in cfg.recipes}
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"recipes given for scenarios {unknown} that the grid does not run ({', '.join(names)})")
    recipes = {
        sc: given[sc] if sc in given else cfg.recipe if cfg.recipe is not None else default_recipe(cfg.dataset, sc)
        for sc in names
    }
    data = load_dataset(cfg.dataset, root=cfg.data_root, download=cfg.download)
    labels = data.y.numpy()
    splits = {
        (str(sc), int(s)): make_split(
            labels,
            data.n_pool,
            sc,
            dataset=data.name,
            cfg=cfg.split,
            n_official_val=data.n_official_val,
            rng=np.random.default_rng(stream_seed(s, "forget")),
        )
        for s in cfg.seeds
        for sc in scenarios
    }
    cells = []
    for s in cfg.seeds:
        for sc in scenarios:
            for name, ratio in methods:
                recipe = recipes[str(sc)]
                if name in MASKED_METHODS:
                    masked = recipe.masked_config(name)
                    masked = replace(masked, ratio=masked.ratio if ratio is None else ratio)
                    cells.append(Cell(str(sc), name, int(s), masked, masked.ratio))
                else:
                    cells.append(Cell(str(sc), name, int(s), recipe.method_config(name), None))
    labels_seen = [(c.scenario, c.label, c.seed) for c in cells]
    if len(set(labels_seen)) != len(labels_seen):
        raise ValueError(f"methods must be distinct, got {list(cfg.methods)}")
    threads = cfg.threads if cfg.threads is not None else torch.get_num_threads()
    resolved = replace(
        cfg, recipes=tuple(recipes.items()), threads=int(threads), seeds=tuple(int(s) for s in cfg.seeds)
    )
    return Plan(resolved, data, _data_sha256(data), splits, cells)
