"""The ``unlearn`` subcommand of ``python -m rbmlib`` (Chapter 6).

Examples::

    python -m rbmlib unlearn --dataset mnist5k --scenario random:0.1 class:3 \\
        --methods retrain,ft,ga,rl,l1,salun,rbm --seeds 0 1 2 --out results/mnist5k
    # one cell per GPU on a multi-GPU node (a local Ray cluster), or on a running Ray cluster:
    python -m rbmlib unlearn --dataset cifar10 --data-root data --seeds 0 1 2 3 4 \\
        --device cuda --executor ray [--ray-address auto] --out results/cifar10
    # SLURM job arrays through submitit (requeued on preemption):
    python -m rbmlib unlearn --dataset cifar10 --data-root data --device cuda --executor slurm \\
        --slurm-partition gpu --slurm-time 720 --slurm-gpus 1 --out results/cifar10

The entry point (``rbmlib.cli``) calls :func:`add_unlearn_parser` to register the subcommand and
:func:`run_unlearn` to run it. Bad input, an unusable output folder, a damaged stored
artifact or a malformed dataset folder print one ``error:`` line on stderr (naming the path and
the fix) and return 2; an interrupted run prints one line and returns 130.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from rbmlib.deep.datasets import DATASETS, DatasetUnavailableError
from rbmlib.deep.display import summary_text
from rbmlib.deep.executors import EXECUTORS, Executor, LocalExecutor, RayExecutor, SlurmExecutor
from rbmlib.deep.methods import METHODS
from rbmlib.deep.recipes import default_recipe, with_amp, with_mask_ratio
from rbmlib.deep.results import summarise
from rbmlib.deep.runner import DEFAULT_METHODS, ExperimentConfig, run_experiment
from rbmlib.deep.splits import SplitConfig
from rbmlib.validators import fraction

__all__ = ["add_parser", "add_unlearn_parser", "run_unlearn"]


def add_unlearn_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``unlearn`` subcommand to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "unlearn",
        help="run the deep-unlearning grid (Chapter 6)",
        description="Train original models, unlearn with each method, evaluate UA/RA/TA/MIA and "
        "Avg. Gap; resumable (rerun the same command to continue).",
    )
    p.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASETS)}")
    p.add_argument(
        "--scenario",
        nargs="+",
        default=["random:0.1"],
        metavar="SPEC",
        help="forgetting scenarios, e.g. random:0.1 class:3 noisy:0.1 (default: random:0.1); "
        "each runs with the recipe tuned for its kind",
    )
    p.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        help=f"comma-separated, from: {', '.join(METHODS)}; a masked method may carry "
        f"its own ratio, e.g. salun:0.3 (default: {','.join(DEFAULT_METHODS)})",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0], help="run seeds (default: 0)")
    p.add_argument("--out", required=True, help="output folder (created; resumable)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:<i> (default: cpu)")
    p.add_argument(
        "--mask-ratio",
        type=float,
        default=None,
        help="fraction of weights SalUn and RBM update, in (0, 1] (default: the dataset recipe's, 0.5)",
    )
    p.add_argument(
        "--data-root",
        default=None,
        help="folder of CIFAR/SVHN files (downloaded there if missing and online) or of "
        "TinyImageNet; not needed for mnist5k and digits",
    )
    p.add_argument("--no-download", action="store_true", help="never download dataset files")
    p.add_argument(
        "--keep-forgotten-class-in-test",
        action="store_true",
        help="class-wise forgetting: keep the forgotten class in the test set (default: removed, as in the field)",
    )
    p.add_argument(
        "--split-seed",
        type=int,
        default=SplitConfig().seed,
        help="seed of the train/validation/test partition (default: 0)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's, one per core; 1 avoids "
        "oversubscription when other processes share the cores)",
    )
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast in training (GPU speed option)")
    p.add_argument(
        "--audit",
        default=None,
        metavar="ATTACK",
        help="membership audit of every unlearned cell against Retrain: ulira or rmia "
        "(Chapter 8); adds <attack>_auc, _tpr1, _tpr5 to results.csv",
    )
    p.add_argument(
        "--shadows",
        type=int,
        default=None,
        help="shadow originals of --audit, >= 2 (default: 4); reused across methods and reruns",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress output (default: bars on a terminal, one line per cell in a log)",
    )
    g = p.add_argument_group("scale-out (pip install rbmlib[cluster])")
    g.add_argument(
        "--executor",
        default="local",
        choices=EXECUTORS,
        help="who runs the cells: this process (default), Ray tasks, or SLURM job arrays",
    )
    g.add_argument(
        "--workers",
        type=int,
        default=None,
        help="ray: CPUs of the local cluster, i.e. cells at once on CPU (default: the cores)",
    )
    g.add_argument(
        "--ray-address",
        default=None,
        help="ray: join this running cluster ('auto' finds a local one) instead of starting one",
    )
    g.add_argument(
        "--gpus-per-task",
        type=float,
        default=None,
        help="ray: GPUs per cell, fractions share a GPU (default: 1 with --device cuda)",
    )
    g.add_argument("--slurm-partition", default=None, help="slurm: partition")
    g.add_argument("--slurm-time", type=int, default=60, help="slurm: minutes per job (default: 60)")
    g.add_argument(
        "--slurm-gpus", type=int, default=None, help="slurm: GPUs per job (default: 1 with --device cuda, else 0)"
    )
    g.add_argument("--slurm-cpus", type=int, default=None, help="slurm: CPUs per job (default: --threads)")
    g.add_argument(
        "--slurm-array-parallelism", type=int, default=64, help="slurm: jobs of an array running at once (default: 64)"
    )
    g.add_argument("--slurm-folder", default=None, help="slurm: job scripts and logs (default: <out>/.submitit)")
    g.add_argument(
        "--slurm-cluster",
        default=None,
        choices=("slurm", "local"),
        help="slurm: submitit cluster (default: detect SLURM; 'local' runs the same job "
        "arrays as local processes, for a try-out without SLURM)",
    )
    p.set_defaults(handler=run_unlearn)


def _check_options(args: argparse.Namespace) -> None:
    if not args.out.strip():
        raise ValueError("--out is empty; give an output folder, e.g. --out results/digits")
    if any(s < 0 for s in args.seeds):
        raise ValueError(f"--seeds must be non-negative integers, got {' '.join(map(str, args.seeds))}")
    if args.split_seed < 0:
        raise ValueError(f"--split-seed must be a non-negative integer, got {args.split_seed}")
    for name in ("threads", "workers", "slurm_time", "slurm_cpus", "slurm_array_parallelism"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    for name in ("gpus_per_task", "slurm_gpus"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 0, got {value}")


def _executor(args: argparse.Namespace) -> Executor:
    if args.executor == "ray":
        return RayExecutor(address=args.ray_address, workers=args.workers, gpus_per_task=args.gpus_per_task)
    if args.executor == "slurm":
        return SlurmExecutor(
            folder=args.slurm_folder,
            partition=args.slurm_partition,
            time_min=args.slurm_time,
            gpus_per_node=args.slurm_gpus,
            cpus_per_task=args.slurm_cpus,
            array_parallelism=args.slurm_array_parallelism,
            cluster=args.slurm_cluster,
        )
    return LocalExecutor()


def _config(args: argparse.Namespace) -> ExperimentConfig:
    _check_options(args)
    if args.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {args.dataset!r}; expected one of {', '.join(DATASETS)}")
    if args.mask_ratio is not None:
        fraction(args.mask_ratio, "--mask-ratio")
    # Each scenario runs with the recipe tuned for its kind; the options apply to every one.
    recipes = []
    for text in dict.fromkeys(args.scenario):
        recipe = default_recipe(args.dataset, text)
        if args.mask_ratio is not None:
            recipe = with_mask_ratio(recipe, args.mask_ratio)
        if args.amp:
            recipe = with_amp(recipe)
        recipes.append((text, recipe))
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    return ExperimentConfig(
        dataset=args.dataset,
        scenarios=tuple(args.scenario),
        methods=methods,
        seeds=tuple(args.seeds),
        recipes=tuple(recipes),
        split=replace(
            SplitConfig(), seed=args.split_seed, keep_forgotten_class_in_test=args.keep_forgotten_class_in_test
        ),
        data_root=args.data_root,
        download=not args.no_download,
        device=args.device,
        threads=args.threads,
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``unlearn`` with its handler (the hook :data:`rbmlib.cli.LAZY_COMMANDS` calls)."""
    add_unlearn_parser(subparsers)
    subparsers.choices["unlearn"].set_defaults(handler=run_unlearn)


def _audit(args: argparse.Namespace):
    """The ``--audit``/``--shadows`` options as an :class:`~rbmlib.deep.shadows.AuditConfig` (or ``None``)."""
    if args.audit is None:
        if args.shadows is not None:
            raise ValueError(f"--shadows {args.shadows} needs --audit ulira or --audit rmia")
        return None
    from rbmlib.deep.shadows import AuditConfig

    return AuditConfig(kind=args.audit, shadows=4 if args.shadows is None else args.shadows)


def run_unlearn(args: argparse.Namespace) -> int:
    """Run the ``unlearn`` subcommand; returns the process exit code.

    0 on success (the summary table is printed on stdout); 2 on bad input, a missing or
    malformed dataset, an unusable output folder or a damaged stored artifact (one ``error:``
    line on stderr; settings are checked before anything is written); 130 when interrupted (one
    line; finished cells are kept, rerun to resume).
    """
    try:
        cfg = _config(args)
        audit = _audit(args)
        table = run_experiment(cfg, args.out, progress=not args.no_progress, executor=_executor(args), audit=audit)
    except (ValueError, DatasetUnavailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:  # ray or submitit missing
        print(f"error: --executor {args.executor} needs {err.name}: pip install 'rbmlib[cluster]'", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"error: file-system error at {err.filename}: {err.strerror}; fix that path or choose another --out",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: finished cells are kept in {args.out}; rerun the same command to resume", file=sys.stderr)
        return 130
    print(summary_text(summarise(table)))
    if audit is not None:
        from rbmlib.deep.shadows import audit_means
        from rbmlib.presentation import render_table

        means = audit_means(table)
        print(render_table(means, headers={c: c for c in means.columns}, style="text", labels=False))
    print(f"results: {args.out}/results.csv", file=sys.stderr)
    return 0
