"""Command-line interface: ``python -m rbmlib linear|claims|unlearn ...``.

Any ``ValueError`` raised by the library (bad sizes, ranks, ratios, datasets) becomes one line on
stderr and exit status 2, with no traceback; Ctrl-C ends with one line and exit status 130.
``--json`` output is strict JSON: a non-finite number is written as ``null``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rbmlib.experiments import MaskConfig, simulate_methods
from rbmlib.linear_model import BlockSizes
from rbmlib.masks import MASK_METHODS
from rbmlib.presentation import render_table, spread_decimals
from rbmlib.simulation import METRIC_ANALOGUES, METRICS, SimulationConfig, simulate, summarise

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "build_parser", "format_table", "to_json"]

#: Draws above which ``linear`` shows a progress bar (on a terminal only).
PROGRESS_DRAWS = 2000

#: Options of ``linear`` renamed to the book's symbols: former spelling -> current one. The former
#: spellings stay accepted (scripts keep working); using one prints one note on stderr.
RENAMED_OPTIONS: dict[str, str] = {
    "--d-forget": "--d-f",
    "--d-shared": "--d-o",
    "--d-retain": "--d-r",
    "--n-forget": "--n-f",
    "--n-retain": "--n-r",
}

#: ``--json`` settings keys renamed: current key -> former key. Both are written, so that readers
#: of the former output keep working.
LEGACY_SETTINGS: dict[str, str] = {
    "d_f": "d_forget",
    "d_o": "d_shared",
    "d_r": "d_retain",
    "n_f": "n_forget",
    "n_r": "n_retain",
    "ratio": "mask_ratio",
}


def to_json(obj: object) -> str:
    """Strict JSON: every non-finite float (``inf``, ``nan``) becomes ``null``."""

    def clean(x: object) -> object:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), allow_nan=False)


def _seed(text: str) -> int:
    """``--seed``: an integer >= 0 (numpy's seeds), with the option named in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def _add_linear_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "linear",
        help="Monte Carlo of the linear block model (Chapters 1-5)",
        description="Draw instances of the block feature model, fit every model in closed form "
        "(original, golden, FT, RBM and FBM by reset-then-FT, and their masked updates) and "
        "report mean ± standard error of each loss.",
    )
    for option, help_line in (
        ("--d-f", "forget-only coordinates d_f"),
        ("--d-o", "shared coordinates d_o"),
        ("--d-r", "retain-only coordinates d_r"),
        ("--n-f", "forgetting samples n_f"),
        ("--n-r", "remaining samples n_r"),
    ):
        old = next(k for k, v in RENAMED_OPTIONS.items() if v == option)
        p.add_argument(option, old, type=int, required=True, help=f"{help_line} ({old} is its former name)")
    p.add_argument("--draws", type=int, default=300, help="independent instances (default 300)")
    p.add_argument("--seed", type=_seed, default=0, help="root seed, an integer >= 0 (default 0)")
    p.add_argument("--noise", type=float, default=0.0, help="label-noise std sigma (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--theory",
        action="store_true",
        help="add the closed-form expectation ('theory', null where the book has none) beside mean and se",
    )
    p.add_argument("--leak", type=float, default=0.0, help="feature leak epsilon >= 0 (default 0, Chapter 4)")
    p.add_argument(
        "--mask-ratio",
        type=float,
        default=None,
        help="fraction of weights the masks FREE (reset, or moved by the masked update), in (0, 1] — the "
        "field's convention, as in `unlearn`; 1 frees every weight (default: the saliency's support)",
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.add_argument(
        "--ridge",
        type=float,
        default=None,
        metavar="LAMBDA",
        help="weight decay lambda >= 0 on every stage, PyTorch's convention (Chapter 7)",
    )
    p.add_argument("--steps", default=None, metavar="K", help="gradient steps per stage (default: to convergence)")
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        metavar="ETA",
        help="step size with --steps, 0 < ETA < 2/lambda_max((2/n) X^T X + lambda I) (default 1/lambda_max)",
    )
    p.set_defaults(handler=_run_linear)


def _progress(args: argparse.Namespace, total: int):
    """A tqdm bar for long runs on a terminal; ``None`` otherwise, so logs stay free of escape codes."""
    if args.no_progress or total < PROGRESS_DRAWS or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="draw", file=sys.stderr, leave=False)


def _run_linear(args: argparse.Namespace) -> int:
    sizes = BlockSizes(args.d_f, args.d_o, args.d_r, args.n_f, args.n_r)
    cfg = SimulationConfig(sizes=sizes, draws=args.draws, seed=args.seed, noise=args.noise, leak=args.leak)
    masks = MaskConfig(ratio=args.mask_ratio)
    settings = {**cfg.to_dict(), "ratio": masks.ratio}
    if args.ridge is not None or args.steps is not None or args.lr is not None:  # Chapter 7
        from rbmlib.regularised_models import regularised_rows

        summary, budget = regularised_rows(
            cfg, masks, ridge=args.ridge, steps=args.steps, lr=args.lr, theory=args.theory
        )
        return _print_rows(args, _rows(summary), {**settings, **budget})
    # Without a leak the block-sparse engine gives the first three rows; a leak changes every model's data.
    passes = 2 if cfg.leak == 0 else 1
    bar = _progress(args, passes * cfg.draws)
    tick = None if bar is None else bar.update
    try:
        if cfg.leak == 0:
            samples = {
                **simulate(cfg, on_batch=tick),
                **simulate_methods(cfg, masks, methods=MASK_METHODS, on_batch=tick),
            }
        else:
            samples = simulate_methods(cfg, masks, on_batch=tick)
    finally:
        if bar is not None:
            bar.close()
    rows = _rows(summarise(samples))
    if args.theory:
        rows = _with_theory(rows, _closed_forms(cfg, masks=masks))
    return _print_rows(args, rows, settings)


def _rows(summary: pd.DataFrame) -> list[dict]:
    """The ``--json`` rows of a :func:`~rbmlib.simulation.summarise` frame:
    ``{"method", "model", metric: {"mean", "se"[, "theory"]}}``.

    ``"model"`` repeats ``"method"``: it is the key the rows had before the library settled on
    ``method``, kept so that readers of the former output keep working.
    """
    rows = []
    for record in summary.to_dict("records"):
        row: dict = {"method": record["method"], "model": record["method"]}
        for m in METRICS:
            row[m] = {"mean": record[f"{m}_mean"], "se": record[f"{m}_se"]}
            if f"{m}_theory" in record:
                row[m]["theory"] = record[f"{m}_theory"]
        rows.append(row)
    return rows


def _json_settings(settings: dict) -> dict:
    """``settings`` with every renamed key also under its former name (:data:`LEGACY_SETTINGS`)."""
    return {**settings, **{old: settings[new] for new, old in LEGACY_SETTINGS.items() if new in settings}}


def _print_rows(args: argparse.Namespace, rows: list[dict], settings: dict) -> int:
    if args.json:
        print(
            to_json(
                {
                    "settings": _json_settings(settings),
                    "rows": rows,
                    "mask_ratio_meaning": "fraction of weights freed",
                    "metric_analogues": METRIC_ANALOGUES,
                }
            )
        )
    else:
        print(format_table(rows, settings=settings))
    return 0


def _add_claims_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "claims",
        help="the claims table: the verdict of every claim (C1-C8)",
        description="Compute the verdicts of the linear claims on the spot (about ten seconds), and those of "
        "C7 and C8 from an `unlearn` results folder when one is given (C8 needs its U-LiRA columns, "
        "`--audit ulira`).",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print a JSON list of {"id", "claim", "verdict", "conditions", "evidence", "chapter"}',
    )
    p.add_argument(
        "--deep",
        metavar="RESULTS_DIR",
        default=None,
        help="results folder of `python -m rbmlib unlearn` for C7 and C8 (default: both are 'not computed')",
    )
    p.set_defaults(handler=_run_claims)


def _run_claims(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rbmlib.claims import all_verdicts

    if args.deep is not None and not (Path(args.deep) / "results.csv").is_file():
        raise ValueError(f"--deep {args.deep!r} is not a results folder of `unlearn` (it has no results.csv)")
    verdicts = all_verdicts(deep_results=args.deep)
    if args.json:
        print(to_json([v.to_json() for v in verdicts]))
        return 0
    for v in verdicts:
        print(
            f"{v.id}  {v.verdict}  [{v.chapter}]\n    claim: {v.claim}\n    conditions: {v.conditions}\n"
            f"    evidence: {v.evidence}"
        )
    return 0


def _closed_forms(cfg: SimulationConfig, *, masks: MaskConfig) -> dict[str, dict[str, tuple]]:
    """``(value, kind, reason)`` of every row (:func:`rbmlib.theory.theory_table`).

    The formulas assume masks read off exact supports, so a leak voids every row and a ratio voids
    the masking rows; the reason says so.
    """
    from rbmlib.theory import theory_table

    table = theory_table(cfg.sizes, noise=cfg.noise)
    if cfg.leak > 0:
        return {
            m: dict.fromkeys(METRICS, (None, "none", "a feature leak blurs the supports the formulas read"))
            for m in table
        }
    if masks.ratio is not None:
        table.update(
            {
                m: dict.fromkeys(METRICS, (None, "none", "the formulas assume the support masks, not a mask ratio"))
                for m in MASK_METHODS
            }
        )
    return table


def _with_theory(rows: list[dict], theory: dict[str, dict[str, tuple]]) -> list[dict]:
    """Copies of ``rows`` with ``theory`` (``None`` without a formula), ``theory_kind`` ("exact",
    "deterministic equivalent" or "none") and ``theory_reason`` (why there is none) in every metric."""
    out = []
    for row in rows:
        cells = {}
        for m in METRICS:
            value, kind, reason = theory[row["method"]][m]
            cells[m] = {**row[m], "theory": value, "theory_kind": kind, "theory_reason": reason or None}
        out.append({"method": row["method"], "model": row["model"], **cells})
    return out


def format_table(rows: list[dict], *, settings: dict) -> str:
    """A fixed-width table of ``mean ± se`` per method (rows) and metric (columns).

    When the rows carry a ``"theory"`` value (``--theory``), each metric column is followed by a
    ``theory`` column (``—`` where there is no closed form). Rendered by
    :func:`rbmlib.presentation.render_table`; the first column keeps the JSON's ``method`` keys, so
    the table and ``--json`` name the rows alike.
    """
    head = ", ".join(f"{k}={v}" for k, v in settings.items())
    with_theory = any("theory" in row[m] for row in rows for m in METRICS)
    records = []
    for row in rows:
        record: dict[str, object] = {"method": row["method"]}
        for m in METRICS:
            mean, se = row[m]["mean"], row[m]["se"]
            # Two significant digits of the standard error, and the mean and the closed form to the
            # same decimal: "16.0 ± 1.3" beside "15.5 ± 1.3", "0.0246 ± 0.0038". No spread, or
            # round-off (1.1e-30 ± 2.3e-31): significant digits instead of 31 decimals.
            decimals = spread_decimals(se, minimum=0, maximum=7, significant=2)
            fixed = se > 0 and decimals <= 6
            record[m] = f"{mean:.{decimals}f} ± {se:.{decimals}f}" if fixed else f"{mean:.4g} ± {se:.2g}"
            if with_theory:
                theory = row[m].get("theory")
                record[f"{m} theory"] = (
                    "—" if theory is None else f"{theory:.{decimals}f}" if fixed else f"{theory:.4g}"
                )
        records.append(record)
    # The --json keys as headers, so a table and its JSON read alike.
    headers = {m: m for m in METRICS} | {f"{m} theory": "theory" for m in METRICS}
    return head + "\n" + render_table(records, headers=headers, style="text", labels=False)


#: Subcommands that live outside this module, imported only when asked for (the deep ones need
#: torch, which would make ``linear`` slow): name -> (module, help line). Each module provides
#: ``add_parser(subparsers)`` that registers the subcommand with a ``handler`` default.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "unlearn": ("rbmlib.deep.cli", "deep-unlearning experiments on real data (Chapter 6)"),
    "tune": ("rbmlib.deep.tune", "equal-budget lr/ratio tuning by the smallest Avg. Gap (Chapter 6)"),
    "report": ("rbmlib.deep.commands", "mean ± SD table, paired bootstrap comparisons and the C7 verdict"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The top-level parser; a lazy subcommand's module is imported only when it is requested."""
    import importlib

    parser = argparse.ArgumentParser(prog="python -m rbmlib", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_linear_parser(subparsers)
    _add_claims_parser(subparsers)
    for name, (module, help_line) in LAZY_COMMANDS.items():
        if name in argv:
            importlib.import_module(module).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


#: Top-level modules that only ``pip install 'rbmlib[deep]'`` (or ``[cluster]``) provides.
EXTRA_MODULES = frozenset({"torch", "torchvision", "sklearn", "filelock", "ray", "submitit"})


def _missing_extra(err: ModuleNotFoundError) -> str:
    """The ``error:`` line for a deep command run without the extra; re-raise anything else."""
    if (err.name or "").split(".")[0] not in EXTRA_MODULES:
        raise err
    return f"error: this command needs the deep extra, pip install 'rbmlib[deep]' (missing module: {err.name})"


def _note_renamed_options(argv: Sequence[str]) -> None:
    """One stderr line naming the current spelling of every former option name in ``argv``."""
    used = [(old, new) for old, new in RENAMED_OPTIONS.items() if any(a.split("=")[0] == old for a in argv)]
    if used:
        renames = ", ".join(f"{old} is now {new}" for old, new in used)
        print(f"note: renamed options ({renames}); the former names still work", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(argv).parse_args(argv)
        if args.command == "linear":
            _note_renamed_options(argv)
        return args.handler(args)
    except ModuleNotFoundError as err:
        print(_missing_extra(err), file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
