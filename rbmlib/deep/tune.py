r"""Equal-budget tuning of unlearning hyper-parameters by the smallest Avg. Gap (Chapter 6).

The protocol, the same for every method:

1. **Tuning seeds** disjoint from the reported seeds (default 10 and 11; the chapter reports
   0-4). Each seed gets the runner's split, original model and Retrain reference (the same named
   random streams as :func:`rbmlib.deep.runner.run_experiment`, so a tuning seed is exactly a
   runner cell).
2. **Equal budget**: every method keeps its recipe's epochs and batch size; only the learning
   rate (and, for masked methods, the mask ratio) is searched, on one geometric lr grid shared by
   all methods.
3. **Choice**: the grid point with the smallest mean Avg. Gap over the tuning seeds.
4. **Edges**: when the chosen lr is the smallest or largest of the grid, the grid is widened by
   one geometric step in that direction and the search repeated, at most ``max_widen`` times; a
   ratio on the edge of its grid is widened by one grid step inside ``(0, 1]``. The result says
   whether the optimum is still on an edge.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from rbmlib.deep.artifacts import stream_seed, torch_generator
from rbmlib.deep.batches import take
from rbmlib.deep.datasets import load_dataset
from rbmlib.deep.methods import MASKED_METHODS, METHODS, MethodConfig
from rbmlib.deep.metrics import avg_gap, evaluate
from rbmlib.deep.models import build_for_data
from rbmlib.deep.recipes import Recipe, default_recipe
from rbmlib.deep.splits import SplitConfig, make_split, parse_scenario, split_data
from rbmlib.deep.training import fit

__all__ = ["TuneConfig", "TUNABLE", "add_parser", "with_point", "tune"]

#: Methods ``tune`` can tune (Retrain and the untouched original have nothing to tune).
TUNABLE: tuple[str, ...] = tuple(m for m in METHODS if m not in ("original", "retrain"))


@dataclass(frozen=True)
class TuneConfig:
    """One tuning run.

    Attributes
    ----------
    dataset, scenario : str
        Where to tune (the field tunes on random forgetting, ``"random:0.1"``); besides the
        runner's scenarios, ``"noisy:<f>"`` (a mislabelled forget set, :mod:`rbmlib.deep.mislabel`).
    methods : tuple of str
        Methods to tune, from :data:`TUNABLE`.
    seeds : tuple of int
        Tuning seeds, disjoint from the reported ones.
    lrs : tuple of float
        Initial geometric lr grid (increasing, at least 2 points).
    ratios : tuple of float
        Initial mask-ratio grid of masked methods, in ``(0, 1]``.
    max_widen : int
        How many times an edge optimum may widen the grid.
    device : str
        Torch device.
    data_root : str, optional
        Folder of file-based datasets.
    download : bool
        Let torchvision download missing files into ``data_root``.
    """

    dataset: str
    scenario: str = "random:0.1"
    methods: tuple[str, ...] = ("salun",)
    seeds: tuple[int, ...] = (10, 11)
    lrs: tuple[float, ...] = (0.002, 0.005, 0.01, 0.02)
    ratios: tuple[float, ...] = (0.3, 0.5, 0.7)
    max_widen: int = 2
    device: str = "cpu"
    data_root: str | None = None
    download: bool = True

    def __post_init__(self) -> None:
        for m in self.methods:
            if m not in TUNABLE:
                raise ValueError(f"cannot tune method {m!r}; expected one of {', '.join(TUNABLE)}")
        if not self.methods or not self.seeds:
            raise ValueError("need at least one method and one tuning seed")
        lrs = np.asarray(self.lrs, float)
        if lrs.size < 2 or (lrs <= 0).any() or (np.diff(lrs) <= 0).any():
            raise ValueError(f"lr grid must be >= 2 increasing positive values, got {list(self.lrs)}")
        if not self.ratios or any(not 0.0 < r <= 1.0 for r in self.ratios):
            raise ValueError(f"mask ratios must be in (0, 1], got {list(self.ratios)}")
        if self.max_widen < 0:
            raise ValueError(f"max_widen must be >= 0, got {self.max_widen}")


def with_point(recipe: Recipe, method: str, lr: float, ratio: float | None) -> MethodConfig:
    """``recipe``'s configuration of ``method`` with learning rate ``lr`` (and mask ``ratio``).

    Raises
    ------
    ValueError
        ``method`` is not tunable, or a ``ratio`` is given for a method that takes none.
    """
    if method not in TUNABLE:
        raise ValueError(f"cannot tune method {method!r}; expected one of {', '.join(TUNABLE)}")
    if ratio is not None:
        masked = recipe.masked_config(method)
        return replace(masked, sgd=replace(masked.sgd, lr=lr), ratio=ratio)
    cfg = recipe.method_config(method)
    assert cfg is not None, "every tunable method has a configuration"
    return replace(cfg, sgd=replace(cfg.sgd, lr=lr))


def _widen_lr(lrs: list[float], best: float) -> list[float]:
    step = lrs[1] / lrs[0] if best == lrs[0] else lrs[-1] / lrs[-2]
    return [best / step] + lrs if best == lrs[0] else lrs + [best * step]


def _widen_ratio(ratios: list[float], best: float) -> list[float]:
    if len(ratios) < 2 or best not in (ratios[0], ratios[-1]):
        return ratios
    step = ratios[1] - ratios[0] if best == ratios[0] else ratios[-1] - ratios[-2]
    new = round(best - step, 6) if best == ratios[0] else round(best + step, 6)
    if not 0.0 < new <= 1.0:
        return ratios
    return sorted(set(ratios) | {new})


def _reference(cfg: TuneConfig, recipe: Recipe, data, seed: int) -> dict:
    # The split of the scenario, as the runner makes it (a noisy:<f> split carries the corrupted
    # labels of D_f, and the original trains on them).
    split = make_split(
        data.y.numpy(),
        data.n_pool,
        parse_scenario(cfg.scenario),
        dataset=data.name,
        cfg=SplitConfig(),
        rng=np.random.default_rng(stream_seed(seed, "forget")),
        n_official_val=data.n_official_val,
    )
    data = split_data(data, split)
    sets = {k: take(data, getattr(split, k), device=cfg.device) for k in ("train", "retain", "forget", "test")}
    model = build_for_data(recipe.model, data, generator=torch_generator(seed, "init"), device=cfg.device)
    original = fit(model, sets["train"], cfg=recipe.original, generator=torch_generator(seed, "original"))
    gold = METHODS["retrain"](
        model, sets["retain"], sets["forget"], cfg=recipe.retrain, generator=torch_generator(seed, "retrain")
    )
    ref = evaluate(
        gold, retain=sets["retain"], forget=sets["forget"], test=sets["test"], batch_size=recipe.eval_batch_size
    )
    return {"sets": sets, "original": original, "ref": ref}


def tune(cfg: TuneConfig, *, recipe: Recipe | None = None, log=None) -> dict[str, Any]:
    """Run the tuning protocol (module docstring) for every method of ``cfg``.

    Returns
    -------
    dict
        ``{"config": ..., "methods": {method: {"lr", "ratio", "avg_gap", "on_edge", "widened",
        "grid": [{"lr", "ratio", "avg_gap", "gaps"}, ...]}}, "wall_s"}``.
    """
    start = time.perf_counter()
    recipe = default_recipe(cfg.dataset, cfg.scenario) if recipe is None else recipe
    data = load_dataset(cfg.dataset, root=cfg.data_root, download=cfg.download)
    refs = [_reference(cfg, recipe, data, s) for s in cfg.seeds]
    done: dict[tuple[str, float, float | None], list[float]] = {}

    def gap(method: str, lr: float, ratio: float | None) -> float:
        key = (method, lr, ratio)
        if key not in done:
            mcfg = with_point(recipe, method, lr, ratio)
            gaps = []
            for seed, r in zip(cfg.seeds, refs):
                s = r["sets"]
                out = METHODS[method](
                    r["original"], s["retain"], s["forget"], cfg=mcfg, generator=torch_generator(seed, "unlearn")
                )
                m = evaluate(
                    out, retain=s["retain"], forget=s["forget"], test=s["test"], batch_size=recipe.eval_batch_size
                )
                gaps.append(avg_gap(m, r["ref"]))
            done[key] = gaps
            if log is not None:
                log(f"{method} lr={lr:g} ratio={ratio} avg_gap={np.mean(gaps):.3f}")
        return float(np.mean(done[key]))

    results = {}
    for method in cfg.methods:
        lrs, masked = list(cfg.lrs), method in MASKED_METHODS
        ratios: list[float] = list(cfg.ratios) if masked else []  # no ratio: one grid column
        widened = 0
        while True:
            columns: list[float | None] = [*ratios] if ratios else [None]
            grid = [(lr, r) for lr in lrs for r in columns]
            best_lr, best_r = min(grid, key=lambda p: gap(method, *p))
            lr_edge = best_lr in (lrs[0], lrs[-1])
            new_ratios = _widen_ratio(ratios, best_r) if best_r is not None else ratios
            if widened >= cfg.max_widen or (not lr_edge and new_ratios == ratios):
                break
            lrs = _widen_lr(lrs, best_lr) if lr_edge else lrs
            ratios, widened = new_ratios, widened + 1
        on_edge = best_lr in (lrs[0], lrs[-1]) or (best_r is not None and _widen_ratio(ratios, best_r) != ratios)
        results[method] = {
            "lr": best_lr,
            "ratio": best_r,
            "avg_gap": gap(method, best_lr, best_r),
            "on_edge": bool(on_edge),
            "widened": widened,
            "grid": [
                {"lr": lr, "ratio": r, "avg_gap": float(np.mean(g)), "gaps": g}
                for (m, lr, r), g in done.items()
                if m == method
            ],
        }
    return {
        "config": json.loads(json.dumps(cfg.__dict__, default=list)),
        "methods": results,
        "wall_s": round(time.perf_counter() - start, 1),
        "torch_threads": torch.get_num_threads(),
    }


def add_parser(subparsers) -> None:
    """Register the ``tune`` subcommand (the hook :data:`rbmlib.cli.LAZY_COMMANDS` calls)."""
    from rbmlib.deep.commands import add_tune_parser

    add_tune_parser(subparsers)
