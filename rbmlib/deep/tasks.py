"""The three kinds of work of a grid, each creating its artifact once, under a lock (Chapter 6).

:func:`ensure_split`, :func:`ensure_original` and :func:`ensure_cell` are idempotent: each
returns the stored, verified artifact when it exists, and otherwise takes the artifact's lock
(:func:`rbmlib.deep.artifacts.artifact_lock`), looks again (another process may have made it
meanwhile), computes it and commits it atomically. Any executor may therefore run them in any
order that respects the plan's DAG, on any number of processes or machines sharing the output
folder, and rerun them after a crash: finished work is never repeated and nothing half-written or
made for another configuration is ever read.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rbmlib.deep.artifacts import (
    ArtifactError,
    artifact_lock,
    atomic_write_json,
    commit_artifact,
    config_key,
    environment_info,
    torch_generator,
    verify_artifact,
)
from rbmlib.deep.batches import TensorSet, take
from rbmlib.deep.confidences import model_statistics
from rbmlib.deep.methods import METHODS
from rbmlib.deep.metrics import evaluate
from rbmlib.deep.models import build_for_data
from rbmlib.deep.planning import Cell, Plan
from rbmlib.deep.splits import Split, load_split, save_split, split_data
from rbmlib.deep.training import fit

__all__ = ["build_fresh", "cell_done", "ensure_cell", "ensure_original", "ensure_split", "read_cell", "split_sets"]


def ensure_split(plan: Plan, out: Path, scenario: str, seed: int) -> Split:
    """The stored split of ``(scenario, seed)``, written first if missing; verified on load."""
    path, config = plan.split_path(out, scenario, seed), plan.split_config(scenario, seed)
    expected = plan.splits[(scenario, seed)]
    if not verify_artifact(path, kind="split", config=config):
        with artifact_lock(out, config_key(config)):
            if not verify_artifact(path, kind="split", config=config):
                commit_artifact(
                    path,
                    lambda tmp: save_split(expected, tmp / "split", cfg=plan.cfg.split),
                    kind="split",
                    config=config,
                )
    split = load_split(path / "split")
    if split.sha256 != expected.sha256:  # the key covers every input, so only a code change gets here
        raise ArtifactError(
            f"stored split {path} has hash {split.sha256[:12]}, the plan "
            f"{expected.sha256[:12]}; delete that folder and rerun"
        )
    return split


def split_sets(plan: Plan, split: Split, device: torch.device) -> dict[str, TensorSet]:
    """The retain, forget and test examples of a split on ``device`` (with the split's labels)."""
    data = split_data(plan.data, split)
    return {k: take(data, getattr(split, k), device=device) for k in ("retain", "forget", "test")}


def build_fresh(plan: Plan, seed: int, scenario: str, device: torch.device) -> nn.Module:
    """The initialised network of run ``seed`` in ``scenario``'s recipe (stream ``"init"``)."""
    return build_for_data(
        plan.recipe(scenario).model, plan.data, generator=torch_generator(seed, "init"), device=device
    )


def ensure_original(plan: Plan, out: Path, seed: int, scenario: str, device: torch.device) -> nn.Module:
    """The original model the cells of ``(scenario, seed)`` start from (trained on the split's
    $D$, with its labels), trained first if missing.

    The state dict and its configuration are committed together as one folder; a load checks the
    configuration and the file's SHA-256 before ``torch.load`` and loads strictly.
    """
    path, config = plan.original_path(out, seed, scenario), plan.original_config(seed, scenario)
    if not verify_artifact(path, kind="original", config=config):
        with artifact_lock(out, config_key(config)):
            if not verify_artifact(path, kind="original", config=config):
                split = plan.splits[(scenario, seed)]
                train = take(split_data(plan.data, split), split.train, device=device)
                model = fit(
                    build_fresh(plan, seed, scenario, device),
                    train,
                    cfg=plan.recipe(scenario).original,
                    generator=torch_generator(seed, "original"),
                )
                buf = io.BytesIO()
                torch.save(model.state_dict(), buf)

                def write(tmp: Path) -> None:
                    (tmp / "model.pt").write_bytes(buf.getvalue())

                commit_artifact(path, write, kind="original", config=config)
                return model
    model = build_fresh(plan, seed, scenario, device)
    state = torch.load(path / "model.pt", map_location=device, weights_only=True)
    model.load_state_dict(state, strict=True)  # strict: a mismatched checkpoint is an error
    return model.eval()


def read_cell(plan: Plan, out: Path, cell: Cell) -> dict[str, Any] | None:
    """The stored file of a finished cell (``None`` when there is none), checked against the plan.

    Raises
    ------
    ArtifactError
        The file exists but cannot be read, is not valid JSON (truncated), or records another
        configuration.
    """
    path = plan.cell_path(out, cell)
    if not path.exists():
        return None
    try:
        stored = json.loads(path.read_text())
        same = stored["config"] == json.loads(json.dumps(plan.cell_config(cell))) and "record" in stored
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ArtifactError(
            f"stored result {path} cannot be read ({type(err).__name__}); delete that file and rerun to recompute it"
        ) from None
    if not same:
        raise ArtifactError(
            f"stored result {path} records another configuration; delete that file and rerun to recompute it"
        )
    return stored


def cell_done(plan: Plan, out: Path, cell: Cell) -> bool:
    """Whether the cell's verified result is stored."""
    return read_cell(plan, out, cell) is not None


def _compute(
    plan: Plan, cell: Cell, model0: nn.Module, sets: dict[str, TensorSet], device: torch.device
) -> tuple[dict[str, Any], dict[str, list[float | None]]]:
    stream = "retrain" if cell.method == "retrain" else "unlearn"
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    model = METHODS[cell.method](
        model0,
        sets["retain"],
        sets["forget"],
        cfg=cell.cfg,
        generator=torch_generator(cell.seed, stream),
    )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    rte = time.perf_counter() - start
    m = evaluate(
        model,
        retain=sets["retain"],
        forget=sets["forget"],
        test=sets["test"],
        batch_size=plan.recipe(cell.scenario).eval_batch_size,
    )
    split = plan.splits[(cell.scenario, cell.seed)]
    config = plan.cell_config(cell)
    # The membership audits (rbmlib.deep.shadows) score this model on D_f against the test
    # population; the model itself is not stored, so its per-example statistics are (a diverged
    # model's NaN as null: the cell's JSON stays strict, and the audit refuses it by name).
    conf = {
        f"{part}_{k}": [float(x) if np.isfinite(x) else None for x in v]
        for part in ("forget", "test")
        for k, v in model_statistics(model, sets[part], batch_size=plan.recipe(cell.scenario).eval_batch_size).items()
    }
    return {
        "dataset": plan.data.name,
        "scenario": cell.scenario,
        "method": cell.method,
        "mask_ratio": cell.mask_ratio,
        "seed": cell.seed,
        **asdict(m),
        "rte_s": rte,
        "n_forget": len(split.forget),
        "n_retain": len(split.retain),
        "n_test": len(split.test),
        "split_sha256": split.sha256,
        "config_sha256": config_key(config),
        "recipe_sha256": config_key(plan.recipe_config(cell)),
        "original_sha256": config["original_key"],
    }, conf


def ensure_cell(
    plan: Plan,
    out: Path,
    cell: Cell,
    *,
    model0: nn.Module,
    sets: dict[str, TensorSet],
    device: torch.device,
) -> dict[str, Any]:
    """Run one cell from ``model0`` (the original, or a fresh network for Retrain) unless stored.

    The result file holds the record (metrics, run time, sizes, split hash, the cell's key), the
    cell's configuration and the environment of the process that computed it.
    """
    stored = read_cell(plan, out, cell)
    if stored is not None:
        return stored
    config = plan.cell_config(cell)
    with artifact_lock(out, config_key(config)):
        stored = read_cell(plan, out, cell)
        if stored is not None:
            return stored
        record, confidences = _compute(plan, cell, model0, sets, device)
        stored = {
            "record": record,
            "config": config,
            "environment": environment_info(str(device)),
            "confidences": confidences,
        }
        atomic_write_json(plan.cell_path(out, cell), stored)
    return stored
