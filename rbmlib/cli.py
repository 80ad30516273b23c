"""Command-line interface: ``python -m rbmlib linear ...`` and ``python -m rbmlib unlearn ...``.

Any ``ValueError`` raised by the library (bad sizes, ranks, ratios, datasets) becomes one line on
stderr and exit status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import METRICS, SimulationConfig, simulate, summarise
from rbmlib.experiments import MaskConfig, simulate_methods
from rbmlib.masks import MASK_METHODS
from rbmlib.theory import expected_losses, expected_masked_losses

__all__ = ["main", "build_parser", "format_table"]


def _add_linear_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "linear",
        help="Monte Carlo of the linear block model (Chapters 1-5)",
        description="Draw instances of the block feature model, fit every model in closed form "
        "(original, golden, FT, RBM and FBM by reset-then-FT, and their masked updates) and "
        "report mean ± standard error of each loss.",
    )
    p.add_argument("--d-forget", type=int, required=True, help="forget-only coordinates d_f")
    p.add_argument("--d-shared", type=int, required=True, help="shared coordinates d_o")
    p.add_argument("--d-retain", type=int, required=True, help="retain-only coordinates d_r")
    p.add_argument("--n-forget", type=int, required=True, help="forgetting samples n_f")
    p.add_argument("--n-retain", type=int, required=True, help="remaining samples n_r")
    p.add_argument("--draws", type=int, default=300, help="independent instances (default 300)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--noise", type=float, default=0.0, help="label-noise std sigma (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--theory", action="store_true",
        help="add the closed-form expectation ('theory', null where the book has none) beside mean and se",
    )
    p.add_argument("--leak", type=float, default=0.0, help="feature leak epsilon >= 0 (default 0, Chapter 4)")
    p.add_argument(
        "--mask-ratio", type=float, default=None,
        help="fraction of weights the masks keep, in (0, 1] (default: the saliency's support)",
    )
    p.set_defaults(handler=_run_linear)


def _run_linear(args: argparse.Namespace) -> int:
    sizes = BlockSizes(args.d_forget, args.d_shared, args.d_retain, args.n_forget, args.n_retain)
    cfg = SimulationConfig(sizes=sizes, draws=args.draws, seed=args.seed, noise=args.noise)
    masks = MaskConfig(leak=args.leak, mask_ratio=args.mask_ratio)
    if masks.leak == 0:
        # The block-sparse engine gives the first three rows fast; the masks need dense designs.
        samples = {**simulate(cfg), **simulate_methods(cfg, masks, methods=MASK_METHODS)}
    else:
        samples = simulate_methods(cfg, masks)  # a leak changes every model's data
    rows = summarise(samples)
    if args.theory:
        rows = _with_theory(rows, _closed_forms(sizes, noise=args.noise, masks=masks))
    settings = {**cfg.to_dict(), "leak": masks.leak, "mask_ratio": masks.mask_ratio}
    if args.json:
        print(json.dumps({"settings": settings, "rows": rows}))
    else:
        print(format_table(rows, settings=settings))
    return 0


def _closed_forms(sizes: BlockSizes, *, noise: float, masks: MaskConfig) -> dict[str, dict[str, float | None]]:
    """Closed forms of every row; they assume exact supports, so a leak or a ratio voids them."""
    theory = {**expected_losses(sizes, noise=noise), **expected_masked_losses(sizes, noise=noise)}
    if masks.leak > 0:
        return {model: dict.fromkeys(METRICS) for model in theory}
    if masks.mask_ratio is not None:
        theory.update({model: dict.fromkeys(METRICS) for model in MASK_METHODS})
    return theory


def _with_theory(rows: list[dict], theory: dict[str, dict[str, float | None]]) -> list[dict]:
    """Copies of ``rows`` with ``"theory"`` added to every metric dict (``None`` without a closed form)."""
    return [
        {"model": row["model"], **{m: {**row[m], "theory": theory[row["model"]][m]} for m in METRICS}}
        for row in rows
    ]


def _theory_cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def format_table(rows: list[dict], *, settings: dict) -> str:
    """A fixed-width table of ``mean ± se`` per model (rows) and metric (columns).

    When the rows carry a ``"theory"`` value (``--theory``), each metric column is followed by a
    ``theory`` column (``—`` where there is no closed form).
    """
    head = ", ".join(f"{k}={v}" for k, v in settings.items())
    with_theory = any("theory" in row[m] for row in rows for m in METRICS)
    cells = []
    for row in rows:
        cell = [row["model"]]
        for m in METRICS:
            cell.append(f"{row[m]['mean']:.4g} ± {row[m]['se']:.2g}")
            if with_theory:
                cell.append(_theory_cell(row[m].get("theory")))
        cells.append(cell)
    header = ["model", *(h for m in METRICS for h in ((m, "theory") if with_theory else (m,)))]
    widths = [max(len(str(r[i])) for r in [header, *cells]) for i in range(len(header))]
    lines = [head, "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


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
    for name, (module, help_line) in LAZY_COMMANDS.items():
        if name in argv:
            importlib.import_module(module).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
