"""The experiment grid: content-addressed, locked, resumable, and traceable row by row (Chapter 6).

:func:`run_experiment` plans every (scenario, method, seed) cell of an :class:`ExperimentConfig`
(:mod:`rbmlib.deep.planning`), lets an executor create the missing artifacts
(:mod:`rbmlib.deep.executors`: this process, Ray, or SLURM through submitit) and writes the
tables. The output folder::

    <out>/splits/<dataset>/<scenario>-seed<k>-<key>/      split.npz, split.json, artifact.json
    <out>/originals/<dataset>/seed<k>-<key>/              model.pt, artifact.json
    <out>/cells/<dataset>/<scenario>/<method>/seed<k>-<key>.json    one finished cell
    <out>/runs/<run key>/                                 results.csv + results.json of one grid
    <out>/shadows/, <out>/audits/                          with --audit: shadow models, per-example
                                                          scores (:mod:`rbmlib.deep.shadows`)
    <out>/results.csv, results.json                       every run's rows, with provenance
    <out>/.locks/                                         one lock file per artifact

``<key>`` is the start of the SHA-256 of everything that determines the artifact (configuration,
split hash, dataset fingerprint, thread count and device type; :mod:`rbmlib.deep.planning`), so
two configurations share one folder without touching each other's files, and a changed setting
gets new artifacts instead of stale ones. Each artifact is created once under its lock
(:mod:`filelock`), committed atomically (a model and its metadata as one folder) and verified on
every load; a damaged artifact (a truncated ``model.pt``, an edited split) is an error naming the
folder to delete, never silently used or silently replaced.

Every row of ``results.csv`` carries its ``split_sha256``, its cell key ``config_sha256`` and its
``run_sha256``; ``results.json`` lists, for every row in the same order, the cell file, the
hashes, and the environment (package versions, git revision, device, threads, host) of the
process that computed it, and for every run its configuration. A ``results.csv`` that the runner
did not write (its SHA-256 is not recorded in ``results.json``) is never overwritten.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from rbmlib.deep.artifacts import (
    artifact_lock,
    atomic_write_bytes,
    atomic_write_json,
    commit_artifact,
    config_key,
    environment_info,
    file_sha256,
    verify_artifact,
)
from rbmlib.deep.executors import EXECUTORS, Executor, LocalExecutor, RayExecutor, SlurmExecutor
from rbmlib.deep.methods import METHODS
from rbmlib.deep.planning import (
    DEFAULT_METHODS,
    Cell,
    ExperimentConfig,
    Plan,
    make_plan,
    parse_method,
)
from rbmlib.deep.results import COLUMNS, KEYS, collect
from rbmlib.deep.tasks import ensure_split, read_cell

if TYPE_CHECKING:
    from rbmlib.deep.shadows import AuditConfig

__all__ = ["DEFAULT_METHODS", "PROVENANCE_COLUMNS", "ExperimentConfig", "OutputError", "parse_method", "run_experiment"]

#: Columns after :data:`rbmlib.deep.results.COLUMNS` in ``results.csv`` and the returned table.
PROVENANCE_COLUMNS: tuple[str, ...] = ("config_sha256", "recipe_sha256", "run_sha256")

_FORMAT = "rbmlib.deep.results/2"


class OutputError(ValueError):
    """The output folder cannot be used; the message names the path and the fix."""


def _output_folder(out: str | Path) -> Path:
    if str(out).strip() == "":
        raise OutputError("the output folder is empty (''); give a folder name, e.g. --out results/digits")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder; choose another output folder")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(
                    f"output folder {out} cannot be created: {parent} is a file; choose an output folder outside it"
                )
            break
    return out


def _prepare(out: Path) -> None:
    """Create ``out`` and check it is writable (after validation, before any work)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(
            f"output folder {out} is not writable ({err.strerror}: {err.filename or out}); "
            f"choose a folder you can write to"
        ) from None


def _recorded_json(out: Path) -> dict[str, Any]:
    try:
        meta = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("format") == _FORMAT else {}


def _recorded_csv(out: Path) -> set[str]:
    meta = _recorded_json(out)
    return {v for v in (meta.get("csv_sha256"), meta.get("previous_csv_sha256")) if isinstance(v, str)}


def _check_not_foreign(out: Path) -> None:
    csv = out / "results.csv"
    if csv.exists() and file_sha256(csv) not in _recorded_csv(out):
        raise OutputError(
            f"{csv} was not written by this runner (or was edited since); it is never "
            f"overwritten: move it away or choose another output folder"
        )


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _executor(executor: Executor | str | None) -> Executor:
    if executor is None or executor == "local":
        return LocalExecutor()
    if executor == "ray":
        return RayExecutor()
    if executor == "slurm":
        return SlurmExecutor()
    if isinstance(executor, str):
        raise ValueError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    return executor


def run_experiment(
    cfg: ExperimentConfig,
    out: str | Path,
    *,
    progress: bool = True,
    executor: Executor | str | None = None,
    audit: AuditConfig | None = None,
) -> pd.DataFrame:
    """Run (or resume) an experiment grid into ``out``.

    Parameters
    ----------
    cfg : ExperimentConfig
        The grid and its hyper-parameters.
    out : str or Path
        Output folder (created after validation; may hold other runs, which are left alone).
    progress : bool
        Progress bars on stderr when it is a terminal; one plain line per finished cell otherwise
        (no escape codes in log files).
    executor : Executor or {"local", "ray", "slurm"}, optional
        Who runs the cells (:mod:`rbmlib.deep.executors`); default: this process.
    audit : rbmlib.deep.shadows.AuditConfig, optional
        A membership audit of every unlearned cell (U-LiRA or RMIA with its shadow models, made
        in this process after the cells); adds its :data:`~rbmlib.deep.shadows.AUDIT_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        The rows of this grid: columns :data:`rbmlib.deep.results.COLUMNS` then
        :data:`PROVENANCE_COLUMNS`, Avg. Gap against the Retrain of the same grid (hence of the
        same split).

    Raises
    ------
    ValueError
        Any invalid setting, an unusable output folder (:class:`OutputError`), or a damaged
        stored artifact (:class:`rbmlib.deep.artifacts.ArtifactError`); settings and the folder
        are checked before anything is written.
    rbmlib.deep.datasets.DatasetUnavailableError
        The dataset's files are missing, malformed or cannot be downloaded.
    """
    out = _output_folder(out)
    run = _executor(executor)
    plan = make_plan(cfg)
    if audit is not None:
        from rbmlib.deep.shadows import check_audit

        check_audit(plan, audit)
    if out.exists():
        _check_not_foreign(out)
        pending = [c for c in plan.cells if read_cell(plan, out, c) is None]
    else:
        pending = list(plan.cells)
    _prepare(out)
    with _torch_threads(plan.threads):
        try:
            for scenario, seed in plan.splits:
                ensure_split(plan, out, scenario, seed)
            if pending:
                run.run(plan, out, pending, progress=progress)
            audits = None
            if audit is not None:  # after every cell, before any table: a failed shadow writes no table
                from rbmlib.deep.planning import check_device
                from rbmlib.deep.shadows import run_audit

                log = (lambda line: print(line, file=sys.stderr, flush=True)) if progress else None
                audits = run_audit(plan, out, audit, device=check_device(plan.cfg.device), log=log)
            return _write_tables(plan, out, audits=audits, audit=audit)
        except OSError as err:
            raise OutputError(
                f"cannot write under {out} ({err.strerror}: {err.filename}); free space "
                f"or fix permissions there, or choose another output folder"
            ) from None


def _mask_key(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def _references(plan: Plan, out: Path) -> list[tuple[Cell, dict[str, Any]]]:
    """Stored Retrain cells this grid's Avg. Gap can use although it does not list Retrain.

    Only the Retrain cell of the same plan (same split hash, recipe, compute mode; its key) is
    a valid reference; any other Retrain in the folder is ignored.
    """
    have = {(c.scenario, c.seed) for c in plan.cells if c.method == "retrain"}
    refs = []
    for scenario, seed in plan.splits:
        if (scenario, seed) not in have:
            cell = Cell(scenario, "retrain", seed, plan.recipe(scenario).method_config("retrain"), None)
            stored = read_cell(plan, out, cell)
            if stored is not None:
                refs.append((cell, stored))
    return refs


def _run_table(plan: Plan, out: Path) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    maybe = [read_cell(plan, out, c) for c in plan.cells]
    missing = [plan.cell_path(out, c) for c, s in zip(plan.cells, maybe) if s is None]
    if missing:  # an executor returned without creating every cell
        raise RuntimeError(f"{len(missing)} cells were not computed, e.g. {missing[0]}")
    stored = [s for s in maybe if s is not None]
    refs = _references(plan, out)
    mine = {(c.scenario, c.method, c.mask_ratio, c.seed): (c, s) for c, s in zip(plan.cells, stored)}
    table = collect([s["record"] for s in stored] + [s["record"] for _, s in refs])
    keys = [(r.scenario, r.method, _mask_key(r.mask_ratio), r.seed) for r in table.itertuples(index=False)]
    table = table[[k in mine for k in keys]].reset_index(drop=True)  # references are not rows
    order = [mine[k] for k in keys if k in mine]
    table["config_sha256"] = [s["record"]["config_sha256"] for _, s in order]
    table["recipe_sha256"] = [s["record"]["recipe_sha256"] for _, s in order]
    rows = [
        {
            "cell": plan.cell_path(out, c).relative_to(out).as_posix(),
            "config_sha256": s["record"]["config_sha256"],
            "split_sha256": s["record"]["split_sha256"],
            "original_sha256": s["record"]["original_sha256"],
            "environment": s["environment"],
        }
        for c, s in order
    ]
    return table, rows, [s["record"]["config_sha256"] for _, s in refs]


def _run_summary(plan: Plan) -> dict[str, Any]:
    return {
        "config": json.loads(json.dumps(asdict(plan.cfg))),
        "splits": {f"{sc}/seed{s}": {"sha256": sp.sha256, "sizes": sp.sizes()} for (sc, s), sp in plan.splits.items()},
        "data_sha256": plan.data_sha256,
    }


def _write_run(
    plan: Plan,
    out: Path,
    table: pd.DataFrame,
    rows: list[dict[str, Any]],
    references: list[str],
    audit: AuditConfig | None = None,
) -> pd.DataFrame:
    """The run's own table, written once as an artifact keyed by its cells and Retrain references
    (same cells and references, same table). Returns the table with its ``run_sha256``."""
    config: dict[str, Any] = {
        "kind": "run",
        "format": _FORMAT,
        "cells": sorted(r["config_sha256"] for r in rows),
        "references": sorted(references),
    }
    if audit is not None:  # an audited run has its own table (a run without audit keeps its key)
        config["audit"] = asdict(audit)
    key = config_key(config)
    path = out / "runs" / key[:16]
    table = table.assign(run_sha256=key)
    if verify_artifact(path, kind="run", config=config):
        return table
    csv = table.to_csv(index=False).encode()

    def write(tmp: Path) -> None:
        (tmp / "results.csv").write_bytes(csv)
        meta = {
            "format": _FORMAT,
            "run_sha256": key,
            "rows": rows,
            "references": references,
            "environment": environment_info(plan.cfg.device),
            **_run_summary(plan),
        }
        (tmp / "results.json").write_text(json.dumps(meta, indent=2, sort_keys=True, allow_nan=False) + "\n")

    with artifact_lock(out, key):
        if not verify_artifact(path, kind="run", config=config):
            commit_artifact(path, write, kind="run", config=config)
    return table


def _read_runs(out: Path) -> list[tuple[pd.DataFrame, dict[str, Any]]]:
    """Every complete run folder under ``out/runs`` (anything else there is ignored)."""
    runs = []
    for folder in sorted((out / "runs").glob("*")):
        try:
            manifest = json.loads((folder / "artifact.json").read_text())
            meta = json.loads((folder / "results.json").read_text())
            ok = (
                manifest.get("kind") == "run"
                and meta.get("format") == _FORMAT
                and manifest["files"]["results.csv"] == file_sha256(folder / "results.csv")
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if ok:
            runs.append((pd.read_csv(folder / "results.csv"), meta))
    return runs


def _write_tables(
    plan: Plan, out: Path, *, audits: dict[str, dict[str, float]] | None = None, audit: AuditConfig | None = None
) -> pd.DataFrame:
    from rbmlib.deep.shadows import AUDIT_COLUMNS, merge_audit_columns

    table, rows, references = _run_table(plan, out)
    if audits is not None:
        assert audit is not None, "audit columns come with their audit"
        for col in AUDIT_COLUMNS[audit.kind]:
            table[col] = [audits.get(key, {}).get(col, np.nan) for key in table["config_sha256"]]
    table = _write_run(plan, out, table, rows, references, audit)
    with artifact_lock(out, "tables-of-this-folder"):
        _check_not_foreign(out)
        frames, provenance, runs = [], [], {}
        for df, meta in _read_runs(out):
            frames.append(df.assign(_row=range(len(df))))
            provenance.append(meta["rows"])
            runs[meta["run_sha256"]] = {k: meta[k] for k in ("config", "splits", "data_sha256", "environment")}
        every = pd.concat(frames, ignore_index=True)
        every["_run"] = [i for i, df in enumerate(frames) for _ in range(len(df))]
        audit_columns = [c for cols in AUDIT_COLUMNS.values() for c in cols if c in every]
        columns = list(COLUMNS) + audit_columns + list(PROVENANCE_COLUMNS)
        every = merge_audit_columns(every)
        every = every.drop_duplicates(subset=[c for c in columns if c != "run_sha256" and c not in audit_columns])
        # A row without Avg. Gap is superseded by the same cell's row of a run that had its Retrain.
        paired = set(every.loc[every["avg_gap"].notna(), "config_sha256"])
        every = every[every["avg_gap"].notna() | ~every["config_sha256"].isin(paired)]
        order = {m: i for i, m in enumerate(METHODS)}
        every = every.sort_values(
            list(KEYS) + ["config_sha256", "run_sha256"],
            key=lambda s: s.map(order) if s.name == "method" else s,
            kind="stable",
        )
        prov = [
            {"row": i, "run_sha256": rs, **provenance[r][j]}
            for i, (r, j, rs) in enumerate(zip(every["_run"], every["_row"], every["run_sha256"]))
        ]
        csv = every[columns].to_csv(index=False).encode()
        digest = sha256(csv).hexdigest()
        current = file_sha256(out / "results.csv") if (out / "results.csv").exists() else None
        recorded = _recorded_json(out)
        # results.json first: it names the new table and the old one, so a kill between the two
        # writes leaves a results.csv that is still recognised as the runner's own. Files that
        # are already up to date are not rewritten, so a rerun of a finished grid writes nothing.
        if recorded.get("csv_sha256") != digest:
            atomic_write_json(
                out / "results.json",
                {
                    "format": _FORMAT,
                    "csv_sha256": digest,
                    "previous_csv_sha256": current,
                    "columns": columns,
                    "rows": prov,
                    "runs": runs,
                    "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )
        if current != digest:
            atomic_write_bytes(out / "results.csv", csv)
    return table[[c for c in columns if c in table]].reset_index(drop=True)
