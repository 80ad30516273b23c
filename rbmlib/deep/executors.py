"""Who runs a plan's work: this process, a Ray cluster, or SLURM through submitit (Chapter 6).

An executor receives the pending cells of a :class:`~rbmlib.deep.planning.Plan` and runs the
DAG *split -> original per seed -> cells*. It only schedules: every unit of work is one of the
idempotent, locked functions of :mod:`rbmlib.deep.tasks`, which read and write the shared output
folder, so the runner's per-cell files stay the source of truth (finished cells are skipped,
interrupted work is redone, a unit started twice is computed once). Results are identical
whichever executor runs them (timings aside), because each worker re-plans from the same
resolved configuration (recipe and thread count fixed by the driver) and uses the same named
random streams.

* :class:`LocalExecutor` -- in this process, one cell after the other (data and the original of
  the current seed stay loaded between cells).
* :class:`RayExecutor` -- one Ray task per original model and per cell; a cell's task depends on
  its seed's original, so Retrain cells start at once. A task that holds a GPU is started with
  ``max_calls=1``, so its worker process exits afterwards and returns the GPU memory (reused GPU
  workers leak); CPU workers are reused. A running cluster is joined with ``address``; otherwise
  a local one is started with ``workers`` CPUs (and the visible GPUs when the device is CUDA).
* :class:`SlurmExecutor` -- two submitit job arrays (originals, then cells) through
  :class:`submitit.AutoExecutor`; each job is a :class:`submitit.helpers.Checkpointable`, so a
  preempted or timed-out job is requeued and resumes (its finished artifacts are kept).
  ``cluster="local"`` runs the same arrays as local processes (for tests and laptops).

Multi-machine runs need an output folder that every node sees (a shared file system with POSIX
``fcntl`` locks, as NFSv4 and Lustre provide).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from tqdm import tqdm

from rbmlib.deep.batches import TensorSet
from rbmlib.deep.planning import Cell, ExperimentConfig, Plan, check_device, make_plan
from rbmlib.deep.tasks import build_fresh, ensure_cell, ensure_original, ensure_split, split_sets

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "SlurmExecutor", "Task", "run_task"]

#: Names accepted by ``--executor``.
EXECUTORS: tuple[str, ...] = ("local", "ray", "slurm")


class Executor(Protocol):
    """Runs the pending cells of a plan into an output folder."""

    def run(self, plan: Plan, out: Path, pending: list[Cell], *, progress: bool) -> None:
        """Create the artifacts of ``pending`` (and the originals they need) under ``out``."""


@dataclass(frozen=True)
class Task:
    """One unit of remote work: ``kind`` ``"original"`` (the original model that the cells of
    ``(scenario, seed)`` start from) or ``"cell"`` (``index`` into :attr:`Plan.cells`)."""

    kind: str
    seed: int
    index: int = -1
    scenario: str = ""


def _pending_originals(plan: Plan, out: Path, pending: list[Cell]) -> dict[Path, Task]:
    # One task per distinct original model (scenarios of a seed may share one: same key, same path).
    tasks: dict[Path, Task] = {}
    for c in pending:
        if c.uses_original:
            path = plan.original_path(out, c.seed, c.scenario)
            if path not in tasks and not path.exists():
                tasks[path] = Task("original", c.seed, scenario=c.scenario)
    return tasks


@dataclass(frozen=True)
class LocalExecutor:
    """Run every pending cell in this process, in plan order."""

    def run(self, plan: Plan, out: Path, pending: list[Cell], *, progress: bool) -> None:
        device = check_device(plan.cfg.device)
        bars = progress and sys.stderr.isatty()
        original: tuple[Path, nn.Module] | None = None
        loaded: tuple[tuple[str, int], dict[str, TensorSet]] | None = None
        for i, cell in enumerate(tqdm(pending, desc=f"unlearn {plan.data.name}", disable=not bars)):
            key = (cell.scenario, cell.seed)
            if loaded is None or loaded[0] != key:  # cells come by seed, then scenario
                loaded = (key, split_sets(plan, ensure_split(plan, out, *key), device))
            if cell.uses_original:
                path = plan.original_path(out, cell.seed, cell.scenario)
                if original is None or original[0] != path:
                    original = (path, ensure_original(plan, out, cell.seed, cell.scenario, device))
                model0 = original[1]
            else:
                model0 = build_fresh(plan, cell.seed, cell.scenario, device)
            ensure_cell(plan, out, cell, model0=model0, sets=loaded[1], device=device)
            if progress and not bars:  # a log file gets one plain line per cell, no escape codes
                print(
                    f"cell {i + 1}/{len(pending)} done: {cell.label} {cell.scenario} seed {cell.seed}",
                    file=sys.stderr,
                    flush=True,
                )


@functools.lru_cache(maxsize=2)
def _worker_plan(cfg: ExperimentConfig) -> Plan:
    # A reused worker (Ray CPU tasks) loads the dataset once per configuration.
    return make_plan(cfg)


def run_task(cfg: ExperimentConfig, out: str, task: Task, *, gpu_assigned: bool = False) -> int:
    """Entry point of a remote worker: re-plan from ``cfg`` and create one artifact.

    Parameters
    ----------
    cfg : ExperimentConfig
        The driver's resolved configuration (recipe and threads set), so the plan, and every key,
        equal the driver's.
    out : str
        The shared output folder.
    task : Task
        What to create.
    gpu_assigned : bool
        The scheduler has set ``CUDA_VISIBLE_DEVICES`` to this task's GPU(s): use ``"cuda"``
        (its first visible device) whatever index the configuration names.

    Returns
    -------
    int
        The task's seed (for progress reporting).
    """
    plan = _worker_plan(cfg)
    device = (
        torch.device("cuda") if gpu_assigned and plan.cfg.device.startswith("cuda") else check_device(plan.cfg.device)
    )
    before = torch.get_num_threads()
    torch.set_num_threads(plan.threads)
    try:
        root = Path(out)
        if task.kind == "original":
            ensure_original(plan, root, task.seed, task.scenario, device)
            return task.seed
        cell = plan.cells[task.index]
        sets = split_sets(plan, ensure_split(plan, root, cell.scenario, cell.seed), device)
        model0 = (
            ensure_original(plan, root, cell.seed, cell.scenario, device)
            if cell.uses_original
            else build_fresh(plan, cell.seed, cell.scenario, device)
        )
        ensure_cell(plan, root, cell, model0=model0, sets=sets, device=device)
        return task.seed
    finally:
        torch.set_num_threads(before)


def _cell_tasks(plan: Plan, pending: list[Cell]) -> list[Task]:
    index = {id(c): i for i, c in enumerate(plan.cells)}
    return [Task("cell", c.seed, index[id(c)]) for c in pending]


def _unwrap_ray(err: BaseException) -> BaseException:
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, (ValueError, OSError)) else err


@dataclass(frozen=True)
class RayExecutor:
    """Run originals and cells as Ray tasks.

    Attributes
    ----------
    address : str, optional
        Address of a running cluster (``ray start --head`` prints it; ``"auto"`` finds the local
        one). ``None`` starts a local cluster for this run and stops it afterwards.
    workers : int, optional
        CPUs of the local cluster, i.e. how many CPU tasks run at once (default: the cores).
    gpus_per_task : float, optional
        GPUs each task holds (fractions share a GPU); default 1 on a CUDA device, 0 on CPU.
    """

    address: str | None = None
    workers: int | None = None
    gpus_per_task: float | None = None

    def run(self, plan: Plan, out: Path, pending: list[Cell], *, progress: bool) -> None:
        import ray

        cuda = plan.cfg.device.startswith("cuda")
        gpus = self.gpus_per_task if self.gpus_per_task is not None else (1.0 if cuda else 0.0)
        if cuda and gpus <= 0:
            raise ValueError(f"device {plan.cfg.device!r} with the Ray executor needs gpus_per_task > 0, got {gpus}")
        started = not ray.is_initialized()
        waiting: list[Any] = []
        if started:
            if self.address is None:
                ray.init(
                    num_cpus=self.workers or os.cpu_count(),
                    num_gpus=torch.cuda.device_count() if cuda else 0,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                    object_store_memory=128 * 1024**2,
                )
            else:
                ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR)
        try:
            # max_calls=1 frees the GPU memory of a finished task; CPU workers may be reused.
            remote = ray.remote(num_cpus=1, num_gpus=gpus, max_calls=1 if gpus > 0 else 0)(_ray_task)
            cfg = ray.put(plan.cfg)
            root = str(out)
            originals = {
                path: remote.remote(cfg, root, task, gpus > 0, None)
                for path, task in _pending_originals(plan, out, pending).items()
            }
            refs = []
            for t in _cell_tasks(plan, pending):
                c = plan.cells[t.index]
                after = originals.get(plan.original_path(out, c.seed, c.scenario)) if c.uses_original else None
                refs.append(remote.remote(cfg, root, t, gpus > 0, after))
            waiting = refs + list(originals.values())
            cells, count = set(refs), 0
            with tqdm(
                total=len(refs), desc=f"unlearn {plan.data.name} (ray)", disable=not (progress and sys.stderr.isatty())
            ) as bar:
                while waiting:
                    done, waiting = ray.wait(waiting, num_returns=1)
                    try:
                        ray.get(done)
                    except Exception as err:  # a task's ValueError/OSError is the user's error
                        raise _unwrap_ray(err) from None
                    finished = sum(1 for d in done if d in cells)
                    count += finished
                    bar.update(finished)
                    if finished and progress and not sys.stderr.isatty():
                        print(f"cells done: {count}/{len(refs)} (ray)", file=sys.stderr, flush=True)
        except BaseException:
            for ref in waiting:
                ray.cancel(ref, force=True)
            raise
        finally:
            if started:
                ray.shutdown()


def _ray_task(cfg: ExperimentConfig, out: str, task: Task, gpu: bool, after: Any) -> int:
    # ``after`` is the original's result: passing its ObjectRef makes Ray start this task only
    # once the original exists.
    return run_task(cfg, out, task, gpu_assigned=gpu)


try:
    from submitit.helpers import Checkpointable as _Checkpointable
except ImportError:  # the cluster extra is optional
    _Checkpointable = object  # type: ignore[assignment,misc]


class SubmititJob(_Checkpointable):
    """A submitit job running one :class:`Task`; requeued with the same arguments on preemption
    or timeout (submitit's default :meth:`checkpoint`), which is safe because tasks are idempotent."""

    def __call__(self, cfg: ExperimentConfig, out: str, task: Task) -> int:
        gpu = bool(os.environ.get("CUDA_VISIBLE_DEVICES")) and cfg.device.startswith("cuda")
        return run_task(cfg, out, task, gpu_assigned=gpu)


@dataclass(frozen=True)
class SlurmExecutor:
    """Run originals and cells as submitit job arrays (SLURM, or local processes for tests).

    Attributes
    ----------
    folder : str, optional
        submitit's folder for job scripts and logs (default ``<out>/.submitit``).
    partition : str, optional
        SLURM partition.
    time_min : int
        Time limit of one job, in minutes (a longer cell is requeued and resumes).
    gpus_per_node : int, optional
        GPUs per job; default 1 on a CUDA device, 0 on CPU.
    cpus_per_task : int, optional
        CPUs per job; default the plan's thread count.
    array_parallelism : int
        Jobs of one array running at once.
    cluster : str, optional
        submitit cluster: ``None`` detects SLURM; ``"local"`` runs the jobs as local processes.
        (submitit's ``"debug"`` runs them in this process but opens a debugger on a failure.)
    """

    folder: str | None = None
    partition: str | None = None
    time_min: int = 60
    gpus_per_node: int | None = None
    cpus_per_task: int | None = None
    array_parallelism: int = 64
    cluster: str | None = None

    def _executor(self, plan: Plan, out: Path):
        import submitit

        ex = submitit.AutoExecutor(folder=self.folder or str(out / ".submitit"), cluster=self.cluster)
        cuda = plan.cfg.device.startswith("cuda")
        params: dict[str, Any] = {
            "timeout_min": self.time_min,
            "gpus_per_node": self.gpus_per_node if self.gpus_per_node is not None else int(cuda),
            "cpus_per_task": self.cpus_per_task or plan.threads,
            "slurm_array_parallelism": self.array_parallelism,
        }
        if self.partition:
            params["slurm_partition"] = self.partition
        ex.update_parameters(name=f"rbmlib-{plan.data.name}", **params)
        return ex

    def run(self, plan: Plan, out: Path, pending: list[Cell], *, progress: bool) -> None:
        from submitit.core.utils import FailedJobError

        ex = self._executor(plan, out)
        job = SubmititJob()
        stages = [list(_pending_originals(plan, out, pending).values()), _cell_tasks(plan, pending)]
        jobs = []
        try:
            for tasks in stages:
                if not tasks:
                    continue
                jobs = ex.map_array(job, [plan.cfg] * len(tasks), [str(out)] * len(tasks), tasks)
                for n, j in enumerate(
                    tqdm(jobs, desc=f"{tasks[0].kind}s (submitit)", disable=not (progress and sys.stderr.isatty())),
                    start=1,
                ):
                    try:
                        j.result()
                    except FailedJobError as err:
                        raise RuntimeError(
                            f"submitit job {j.job_id} failed; its log is in {j.paths.stderr}:\n{err}"
                        ) from None
                    if progress and not sys.stderr.isatty():
                        print(f"{tasks[0].kind}s done: {n}/{len(jobs)} (submitit)", file=sys.stderr, flush=True)
        except BaseException:
            for j in jobs:
                if not j.done():
                    j.cancel(check=False)
            raise
