"""The ``tune`` and ``report`` subcommands of ``python -m rbmlib`` (Chapter 6).

Examples::

    python -m rbmlib tune --dataset mnist5k --scenario random:0.1 --methods rbm --seeds 10 11 \\
        --threads 1 --out tune/mnist5k
    python -m rbmlib report results/mnist5k --json

:data:`rbmlib.cli.LAZY_COMMANDS` imports this module (``report``) or :mod:`rbmlib.deep.tune`
(``tune``, whose hook calls :func:`add_tune_parser`) only when the subcommand is asked for
(torch is slow to import). Bad input prints one ``error:`` line on stderr and returns 2, before anything is
written.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from rbmlib.validators import fraction

__all__ = ["add_parser", "add_report_parser", "add_tune_parser", "primary_arms", "report", "run_report", "run_tune"]


def add_tune_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    from rbmlib.deep.tune import TUNABLE, TuneConfig

    d = TuneConfig(dataset="mnist5k")
    p = subparsers.add_parser(
        "tune",
        help="equal-budget lr/ratio tuning by the smallest Avg. Gap (Chapter 6)",
        description="Tune each method's learning rate (and mask ratio) on tuning seeds by the "
        "smallest mean Avg. Gap; an optimum on the grid's edge widens the grid.",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument("--scenario", default=d.scenario, help=f"forgetting scenario (default {d.scenario})")
    p.add_argument("--methods", required=True, help=f"comma-separated, from: {', '.join(TUNABLE)}")
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=list(d.seeds),
        help="tuning seeds, disjoint from the reported ones (default 10 11)",
    )
    p.add_argument("--lrs", nargs="+", type=float, default=list(d.lrs), help="initial lr grid")
    p.add_argument(
        "--ratios", nargs="+", type=float, default=list(d.ratios), help="initial mask-ratio grid of masked methods"
    )
    p.add_argument("--max-widen", type=int, default=d.max_widen)
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root", default=None)
    p.add_argument("--no-download", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", required=True, help="folder of the result tune-<dataset>-<method>.json files")
    p.set_defaults(handler=run_tune)


def run_tune(args: argparse.Namespace) -> int:
    """Run ``tune``; prints the chosen values as JSON and writes one file per method."""
    import torch

    from rbmlib.deep.artifacts import atomic_write_json
    from rbmlib.deep.datasets import DatasetUnavailableError
    from rbmlib.deep.tune import TuneConfig, tune

    try:
        cfg = TuneConfig(
            dataset=args.dataset,
            scenario=args.scenario,
            methods=tuple(m.strip() for m in args.methods.split(",") if m.strip()),
            seeds=tuple(args.seeds),
            lrs=tuple(args.lrs),
            ratios=tuple(args.ratios),
            max_widen=args.max_widen,
            device=args.device,
            data_root=args.data_root,
            download=not args.no_download,
        )
        if len(set(cfg.seeds)) != len(cfg.seeds):
            raise ValueError(f"tuning seeds must be distinct, got {list(cfg.seeds)}")
        if args.threads is not None:
            if args.threads < 1:
                raise ValueError(f"--threads must be >= 1, got {args.threads}")
            torch.set_num_threads(args.threads)
        from rbmlib.deep.recipes import default_recipe
        from rbmlib.deep.splits import parse_scenario

        default_recipe(cfg.dataset, cfg.scenario)
        parse_scenario(cfg.scenario)
        result = tune(cfg, log=lambda line: print(line, file=sys.stderr, flush=True))
    except (ValueError, DatasetUnavailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # The canonical command of this run, rebuilt from the parsed arguments (not sys.argv, which
    # is the caller's when main() is called from Python).
    words = [
        "python",
        "-m",
        "rbmlib",
        "tune",
        "--dataset",
        cfg.dataset,
        "--scenario",
        cfg.scenario,
        "--methods",
        ",".join(cfg.methods),
        "--seeds",
        *map(str, cfg.seeds),
        "--lrs",
        *(f"{v:g}" for v in cfg.lrs),
        "--ratios",
        *(f"{v:g}" for v in cfg.ratios),
        "--max-widen",
        str(cfg.max_widen),
        "--device",
        cfg.device,
    ]
    if args.threads is not None:
        words += ["--threads", str(args.threads)]
    result["command"] = " ".join(shlex.quote(w) for w in words + ["--out", args.out])
    out = Path(args.out)
    for method, res in result["methods"].items():
        atomic_write_json(out / f"tune-{cfg.dataset}-{method}.json", {**result, "methods": {method: res}})
    print(
        json.dumps(
            {
                m: {k: r[k] for k in ("lr", "ratio", "avg_gap", "on_edge", "widened")}
                for m, r in result["methods"].items()
            }
        )
    )
    return 0


def add_report_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    p = subparsers.add_parser(
        "report",
        help="mean ± SD table, paired comparisons with bootstrap CIs, C7 verdict",
        description="Read a results folder of `unlearn`; print the mean ± SD table and the "
        "seed-paired differences (95 %% bootstrap intervals) of RBM vs SalUn, SalUn vs "
        "the random mask and each RBM variant vs SalUn, per scenario and metric.",
    )
    p.add_argument("results", help="results folder written by `python -m rbmlib unlearn`")
    p.add_argument("--json", action="store_true", help="one JSON object instead of tables")
    p.add_argument(
        "--ratio",
        type=float,
        default=None,
        help="mask ratio at which the verdict reads a masked method run at several "
        "ratios (default: the ratio of its recipe for the scenario)",
    )
    p.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    p.set_defaults(handler=run_report)


def primary_arms(table, *, ratio: float | None = None) -> dict[str, dict[str, str]]:
    """Scenario -> (method -> the arm the verdict reads).

    A method run at one ratio in a scenario is its own primary arm. A method run at several
    ratios (a sweep beside the main grid) is read at ``ratio`` when given, otherwise at the ratio
    of its pre-registered recipe for that scenario (:func:`rbmlib.deep.recipes.default_recipe`).

    Raises
    ------
    ValueError
        The chosen ratio was not run.
    """
    import numpy as np

    from rbmlib.deep.recipes import default_recipe

    out: dict[str, dict[str, str]] = {}
    for (dataset, scenario), rows in table.groupby(["dataset", "scenario"], sort=False):
        arms = {}
        for method, r in rows.groupby("method", sort=False):
            ratios = sorted(set(r["mask_ratio"].dropna()))
            if len(ratios) <= 1:
                arms[method] = method
                continue
            want = ratio if ratio is not None else default_recipe(dataset, scenario).masked_config(method).ratio
            hit = [x for x in ratios if np.isclose(x, want)]
            if not hit:
                raise ValueError(f"{method} under {scenario} was run at ratios {ratios}, not at {want}; give --ratio")
            arms[method] = f"{method}:{hit[0]:g}"
        out[scenario] = arms
    return out


def report(folder: str | Path, *, ratio: float | None = None, seed: int = 0, n_boot: int = 10_000) -> dict:
    """The report of a results folder as one JSON-ready dict (what ``report --json`` prints).

    Returns
    -------
    dict
        ``{"summary": [...], "comparisons": [...], "verdict": {"claim", "verdict", "conditions",
        "evidence", "rule"}}``.

    Raises
    ------
    ValueError
        Missing table, mixed splits or configurations, fewer than 2 seeds, a ratio outside
        ``(0, 1]`` or absent from the folder.
    """
    from rbmlib.claims import VERDICT_DEFINITIONS
    from rbmlib.deep.results import read_results, summarise
    from rbmlib.deep.stats import c7_verdict, compare

    if ratio is not None:
        fraction(ratio, "--ratio")
    if n_boot < 100:
        raise ValueError(f"--n-boot must be >= 100, got {n_boot}")
    table = read_results(folder)
    seeds = sorted(set(table["seed"]))
    if len(seeds) < 2:
        raise ValueError(f"report needs at least 2 seeds, {folder} holds {len(seeds)} ({seeds})")
    primary = primary_arms(table, ratio=ratio)
    comparisons = compare(table, seed=seed, primary=primary, n_boot=n_boot)
    verdict, conditions, evidence = c7_verdict(comparisons)
    summary = summarise(table)
    audit = _audit_summary(folder)
    return {
        "summary": json.loads(summary.to_json(orient="records")),
        **({"audit": audit} if audit else {}),
        "comparisons": comparisons,
        "verdict": {
            "claim": "C7",
            "verdict": verdict,
            "conditions": conditions,
            "evidence": evidence,
            "definition": VERDICT_DEFINITIONS[verdict],
            "seeds": seeds,
        },
    }


def _audit_summary(folder: str | Path) -> list[dict]:
    """Mean and SD over seeds of MIA-efficacy and every audit column of ``results.csv`` (Chapter 8);
    empty when the folder has no audit."""
    import pandas as pd

    from rbmlib.deep.shadows import AUDIT_COLUMNS

    df = pd.read_csv(Path(folder) / "results.csv")
    cols = [c for cols in AUDIT_COLUMNS.values() for c in cols if c in df]
    if not cols:
        return []
    g = df[df["method"] != "retrain"].groupby(["dataset", "scenario", "method", "mask_ratio"], dropna=False, sort=False)
    values = ["mia", *cols]
    out = pd.concat([g[values].mean().add_suffix("_mean"), g[values].std(ddof=1).add_suffix("_std")], axis=1)
    return json.loads(out.reset_index().to_json(orient="records"))


def _format_report(rep: dict) -> str:
    import pandas as pd

    from rbmlib.deep.display import summary_text
    from rbmlib.deep.stats import format_interval
    from rbmlib.presentation import render_table

    cmp = pd.DataFrame(rep["comparisons"])
    lines = [
        "mean ± SD over seeds",
        summary_text(pd.DataFrame(rep["summary"])),
        "",
        "paired differences (method − baseline), 95 % bootstrap CI over seeds",
    ]
    if not cmp.empty:
        # One string per comparison, so that a bound near 0 keeps the decimals that show its side.
        cmp["diff [CI]"] = [format_interval(*row) for row in zip(cmp["diff"], cmp["ci_low"], cmp["ci_high"])]
        shown = cmp[["scenario", "method", "baseline", "metric", "diff [CI]", "n"]]
        lines.append(render_table(shown, headers={c: c for c in shown.columns}, style="text", labels=False))
    if rep.get("audit"):
        audit = pd.DataFrame(rep["audit"])
        shown = audit[["scenario", "method", "mask_ratio"]].copy()
        for col in [c.removesuffix("_mean") for c in audit if c.endswith("_mean")]:
            d = 1 if col in ("mia",) or col.endswith("_shadows") else 3
            shown[col] = [
                f"{m:.{d}f} ± {0.0 if pd.isna(sd) else sd:.{d}f}" if pd.notna(m) else "n/a"
                for m, sd in zip(audit[f"{col}_mean"], audit[f"{col}_std"])
            ]
        lines += [
            "",
            "membership audits beside MIA-efficacy (AUC, TPR at 1 % / 5 % FPR), mean ± SD over seeds",
            render_table(shown, headers={c: c for c in shown.columns}, style="text", labels=False),
        ]
    v = rep["verdict"]
    lines += ["", f"C7: {v['verdict']} ({v['conditions']})", v["evidence"]]
    return "\n".join(lines)


def run_report(args: argparse.Namespace) -> int:
    """Run ``report``; 0 on success, 2 with one ``error:`` line on bad input."""
    try:
        rep = report(args.results, ratio=args.ratio, seed=args.bootstrap_seed, n_boot=args.n_boot)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(rep) if args.json else _format_report(rep))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report`` (the hook :data:`rbmlib.cli.LAZY_COMMANDS` calls; ``tune``'s hook is
    :func:`rbmlib.deep.tune.add_parser`, since each hook registers exactly one subcommand)."""
    add_report_parser(subparsers)
