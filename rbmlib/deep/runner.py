"""The experiment grid: resumable, atomic, with splits and original models written once (Chapter 6).

:func:`run_experiment` runs every (scenario, method, seed) cell of an :class:`ExperimentConfig`
into an output folder::

    <out>/splits/<dataset>/<scenario>/seed<k>.npz|.json     index arrays + SHA-256 (written once)
    <out>/originals/<dataset>/seed<k>.pt|.json              original model of seed k
    <out>/cells/<dataset>/<scenario>/<method>/seed<k>.json  one finished cell (metrics + config)
    <out>/results.csv                                       tidy table of every cell in <out>
    <out>/results.json                                      config, environment, split hashes

Everything is validated before the folder is created. Each file is written atomically, so an
interrupted run loses at most the cell in progress; rerunning the same command skips finished
cells and reuses the stored splits and original models. Every artifact records the configuration
that produced it, and a rerun whose configuration differs stops with an error instead of mixing
stale results in (one of the traps of the field's code).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from rbmlib.deep.artifacts import (
    atomic_write_bytes,
    atomic_write_json,
    environment_info,
    stream_seed,
    torch_generator,
)
from rbmlib.deep.batches import TensorSet, take
from rbmlib.deep.datasets import ImageData, load_dataset
from rbmlib.deep.methods import MASKED_METHODS, METHODS
from rbmlib.deep.metrics import evaluate
from rbmlib.deep.models import build_model
from rbmlib.deep.recipes import Recipe, default_recipe
from rbmlib.deep.results import COLUMNS, collect, read_cells
from rbmlib.deep.splits import Split, SplitConfig, load_split, make_split, parse_scenario, save_split
from rbmlib.deep.training import fit

__all__ = ["DEFAULT_METHODS", "ExperimentConfig", "parse_method", "run_experiment"]

#: The seven methods of the field's comparison, in reporting order.
DEFAULT_METHODS: tuple[str, ...] = ("retrain", "ft", "ga", "rl", "l1", "salun", "rbm")


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
        Hyper-parameters; ``None`` takes :func:`rbmlib.deep.recipes.default_recipe`.
    split : SplitConfig
        Partition seed and fractions, and whether the forgotten class stays in the test set.
    data_root : str, optional
        Folder of file-based datasets (CIFAR, SVHN, TinyImageNet).
    download : bool
        Let torchvision download missing files into ``data_root``.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``.
    threads : int, optional
        PyTorch intra-op CPU threads while the grid runs (restored afterwards); ``None`` keeps
        torch's default (one per core). One thread avoids oversubscription when other processes
        share the cores (e.g. two notebooks executed in parallel on two cores); it does not
        change any result.
    """

    dataset: str
    scenarios: tuple[str, ...] = ("random:0.1",)
    methods: tuple[str, ...] = DEFAULT_METHODS
    seeds: tuple[int, ...] = (0,)
    recipe: Recipe | None = None
    split: SplitConfig = field(default_factory=SplitConfig)
    data_root: str | None = None
    download: bool = True
    device: str = "cpu"
    threads: int | None = None


def parse_method(text: str) -> tuple[str, float | None]:
    """``"salun:0.3"`` -> ``("salun", 0.3)``; ``"ft"`` -> ``("ft", None)``."""
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
    if not 0.0 < value <= 1.0:
        raise ValueError(f"method {text!r}: mask ratio must be in (0, 1], got {value}")
    return name, value


@dataclass(frozen=True)
class _Cell:
    scenario: str
    method: str
    seed: int
    cfg: Any
    mask_ratio: float | None

    def path(self, out: Path, dataset: str) -> Path:
        label = self.method if self.mask_ratio is None else f"{self.method}-r{self.mask_ratio:g}"
        return out / "cells" / dataset / self.scenario.replace(":", "-") / label / f"seed{self.seed}.json"


@dataclass(frozen=True, eq=False)
class _Plan:
    cfg: ExperimentConfig
    recipe: Recipe
    data: ImageData
    splits: dict[tuple[str, int], Split]
    cells: list[_Cell]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(asdict(obj) if hasattr(obj, "__dataclass_fields__") else obj))


def _check_device(device: str) -> torch.device:
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:<i>'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but torch.cuda.is_available() is False")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {device!r}; expected 'cpu' or 'cuda'")
    return dev


def _plan(cfg: ExperimentConfig) -> _Plan:
    """Validate everything and build the grid in memory; writes nothing."""
    if not cfg.scenarios or not cfg.methods or not cfg.seeds:
        raise ValueError("need at least one scenario, one method and one seed")
    if len(set(cfg.seeds)) != len(cfg.seeds) or any(int(s) < 0 for s in cfg.seeds):
        raise ValueError(f"seeds must be distinct non-negative integers, got {list(cfg.seeds)}")
    scenarios = [parse_scenario(s) for s in cfg.scenarios]
    methods = [parse_method(m) for m in cfg.methods]
    _check_device(cfg.device)
    if cfg.threads is not None and cfg.threads < 1:
        raise ValueError(f"threads must be >= 1, got {cfg.threads}")
    recipe = cfg.recipe if cfg.recipe is not None else default_recipe(cfg.dataset)
    data = load_dataset(cfg.dataset, root=cfg.data_root, download=cfg.download)
    labels = data.y.numpy()
    splits = {(str(sc), s): make_split(labels, data.n_pool, sc, dataset=data.name, cfg=cfg.split,
                                       rng=np.random.default_rng(stream_seed(s, "forget")))
              for s in cfg.seeds for sc in scenarios}
    cells = []
    for s in cfg.seeds:
        for sc in scenarios:
            for name, ratio in methods:
                mcfg = recipe.method_config(name)
                if name in MASKED_METHODS:
                    mcfg = replace(mcfg, ratio=mcfg.ratio if ratio is None else ratio)
                cells.append(_Cell(str(sc), name, int(s), mcfg,
                                   mcfg.ratio if name in MASKED_METHODS else None))
    return _Plan(cfg, recipe, data, splits, cells)


def _split_stem(out: Path, dataset: str, scenario: str, seed: int) -> Path:
    return out / "splits" / dataset / scenario.replace(":", "-") / f"seed{seed}"


def _original_stem(out: Path, dataset: str, seed: int) -> Path:
    return out / "originals" / dataset / f"seed{seed}"


def _original_meta(plan: _Plan, seed: int) -> dict:
    train_sha = {sp.train_sha256 for (_, s), sp in plan.splits.items() if s == seed}
    assert len(train_sha) == 1, "all scenarios of a seed share one training set"
    return _jsonable({"dataset": plan.data.name, "seed": seed, "model": asdict(plan.recipe.model),
                      "original": asdict(plan.recipe.original), "train_sha256": train_sha.pop()})


def _cell_config(plan: _Plan, cell: _Cell) -> dict:
    split = plan.splits[(cell.scenario, cell.seed)]
    uses_original = cell.method != "retrain"
    return _jsonable({
        "method_config": None if cell.cfg is None else asdict(cell.cfg),
        "model": asdict(plan.recipe.model),
        "original": asdict(plan.recipe.original) if uses_original else None,
        "split_sha256": split.sha256,
    })


def _conflict(path: Path, what: str) -> ValueError:
    return ValueError(f"{path} holds a {what} made with a different configuration; use another "
                      f"output folder (or delete that file) instead of mixing results")


def _pending_cells(plan: _Plan, out: Path) -> list[_Cell]:
    """Cells not yet finished in ``out``; raises if any stored artifact conflicts with the plan."""
    name = plan.data.name
    for (scenario, seed), split in plan.splits.items():
        stem = _split_stem(out, name, scenario, seed)
        if stem.with_suffix(".json").exists() and load_split(stem).sha256 != split.sha256:
            raise _conflict(stem.with_suffix(".npz"), "split")
    for seed in plan.cfg.seeds:
        meta = _original_stem(out, name, seed).with_suffix(".json")
        if meta.exists() and json.loads(meta.read_text())["config"] != _original_meta(plan, seed):
            raise _conflict(meta, "original model")
    pending = []
    for cell in plan.cells:
        path = cell.path(out, name)
        if not path.exists():
            pending.append(cell)
        elif json.loads(path.read_text())["config"] != _cell_config(plan, cell):
            raise _conflict(path, "result")
    return pending


def _build(plan: _Plan, seed: int, device: torch.device) -> nn.Module:
    d = plan.data
    return build_model(plan.recipe.model, in_channels=d.x.shape[1], image_size=d.x.shape[2],
                       num_classes=d.num_classes, mean=d.mean, std=d.std,
                       generator=torch_generator(seed, "init"), device=device)


def _original(plan: _Plan, out: Path, seed: int, device: torch.device, progress: bool) -> nn.Module:
    stem = _original_stem(out, plan.data.name, seed)
    model = _build(plan, seed, device)
    if stem.with_suffix(".pt").exists():
        state = torch.load(stem.with_suffix(".pt"), map_location=device, weights_only=True)
        model.load_state_dict(state, strict=True)  # strict: a mismatched checkpoint is an error
        return model.eval()
    split = next(sp for (_, s), sp in plan.splits.items() if s == seed)
    train = take(plan.data, split.train, device=device)
    model = fit(model, train, cfg=plan.recipe.original, generator=torch_generator(seed, "original"),
                desc=f"original seed {seed}" if progress else None)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(stem.with_suffix(".pt"), buf.getvalue())
    atomic_write_json(stem.with_suffix(".json"), {"config": _original_meta(plan, seed)})
    return model


def _run_cell(plan: _Plan, cell: _Cell, model0: nn.Module, sets: dict[str, TensorSet],
              device: torch.device, progress: bool) -> dict:
    stream = "retrain" if cell.method == "retrain" else "unlearn"
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    model = METHODS[cell.method](model0, sets["retain"], sets["forget"], cfg=cell.cfg,
                                 generator=torch_generator(cell.seed, stream),
                                 desc=f"{cell.method} seed {cell.seed}" if progress else None)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    rte = time.perf_counter() - start
    m = evaluate(model, retain=sets["retain"], forget=sets["forget"], test=sets["test"],
                 batch_size=plan.recipe.eval_batch_size)
    split = plan.splits[(cell.scenario, cell.seed)]
    return {"dataset": plan.data.name, "scenario": cell.scenario, "method": cell.method,
            "mask_ratio": cell.mask_ratio, "seed": cell.seed, **asdict(m), "rte_s": rte,
            "n_forget": len(split.forget), "n_retain": len(split.retain), "n_test": len(split.test),
            "split_sha256": split.sha256}


def _write_tables(plan: _Plan, out: Path, env: dict) -> pd.DataFrame:
    table = collect(read_cells(out / "cells"))
    atomic_write_bytes(out / "results.csv", table.to_csv(index=False).encode())
    atomic_write_json(out / "results.json", {
        "config": _jsonable(replace(plan.cfg, recipe=plan.recipe)),
        "environment": env,
        "splits": {f"{sc}/seed{s}": {"sha256": sp.sha256, "sizes": sp.sizes()}
                   for (sc, s), sp in plan.splits.items()},
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    return table


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_experiment(cfg: ExperimentConfig, out: str | Path, *, progress: bool = True) -> pd.DataFrame:
    """Run (or resume) an experiment grid into ``out``.

    Parameters
    ----------
    cfg : ExperimentConfig
        The grid and its hyper-parameters.
    out : str or Path
        Output folder (created after validation; may hold an earlier run of compatible cells).
    progress : bool
        Show tqdm progress bars on stderr.

    Returns
    -------
    pandas.DataFrame
        The rows of this grid (columns :data:`rbmlib.deep.results.COLUMNS`), Avg. Gap computed
        against the stored Retrain of the same dataset, scenario and seed.

    Raises
    ------
    ValueError
        Any invalid setting, or stored artifacts in ``out`` made with a different configuration;
        raised before anything is written.
    rbmlib.deep.datasets.DatasetUnavailableError
        The dataset's files are missing and cannot be downloaded.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output path {out} exists and is not a folder")
    plan = _plan(cfg)
    with _torch_threads(cfg.threads):
        return _run(plan, out, progress)


def _run(plan: _Plan, out: Path, progress: bool) -> pd.DataFrame:
    cfg = plan.cfg
    pending = _pending_cells(plan, out) if out.exists() else list(plan.cells)
    device = _check_device(cfg.device)
    env = environment_info(str(device))
    out.mkdir(parents=True, exist_ok=True)
    for (scenario, seed), split in plan.splits.items():
        stem = _split_stem(out, plan.data.name, scenario, seed)
        if not stem.with_suffix(".json").exists():
            save_split(split, stem, cfg=cfg.split)
    originals: dict[int, nn.Module] = {}
    loaded: tuple[tuple[str, int], dict[str, TensorSet]] | None = None
    for cell in tqdm(pending, desc=f"unlearn {plan.data.name}", disable=not progress):
        key = (cell.scenario, cell.seed)
        if loaded is None or loaded[0] != key:  # cells are ordered by seed, then scenario
            split = load_split(_split_stem(out, plan.data.name, *key))  # the written file is the truth
            loaded = (key, {k: take(plan.data, getattr(split, k), device=device)
                            for k in ("retain", "forget", "test")})
        if cell.method == "retrain":
            model0 = _build(plan, cell.seed, device)
        else:
            if cell.seed not in originals:
                originals = {cell.seed: _original(plan, out, cell.seed, device, progress)}
            model0 = originals[cell.seed]
        record = _run_cell(plan, cell, model0, loaded[1], device, progress)
        atomic_write_json(cell.path(out, plan.data.name),
                          {"record": record, "config": _cell_config(plan, cell), "environment": env})
    table = _write_tables(plan, out, env)
    keys = {(c.scenario, c.method, c.mask_ratio, c.seed) for c in plan.cells}
    mine = [r.dataset == plan.data.name and (r.scenario, r.method,
            None if np.isnan(r.mask_ratio) else r.mask_ratio, r.seed) in keys
            for r in table.itertuples(index=False)]
    return table[mine].reset_index(drop=True)[list(COLUMNS)]
