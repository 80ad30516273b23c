"""Cost of the membership audit per shadow, and the stability of its AUC across seeds against K.

Runs the grid once (no audit), then ``--audit ulira`` and ``--audit rmia`` with K = 2, 4, ...
shadows in increasing order into one folder. Shadows are nested (shadow k does not depend on K,
:mod:`rbmlib.deep.shadows`), so each step only adds the new shadows and its wall time is their
cost: one shadow original (shared by every seed and method), one shadow retrain per seed, and one
shadow unlearning per seed and audited method. Prints one JSON object:

* ``grid_s`` -- the grid without audit;
* ``seconds_per_shadow`` -- per step, the added wall time of U-LiRA divided by the added shadows
  (all seeds and methods together), and per (seed, method) too;
* ``auc`` -- per attack, K and method: mean and SD over seeds of the AUC, the number the book's
  choice of K rests on (Chapter 8 uses the smallest K whose SD is no larger than the seed-to-seed
  spread of the method itself).

Usage::

    python benchmarks/bench_audit.py [--dataset mnist5k] [--scenario class:3] \\
        [--methods retrain,salun,rbm] [--seeds 0 1 2] [--shadows 2 4 6] [--threads 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from rbmlib.deep.runner import ExperimentConfig, run_experiment
from rbmlib.deep.shadows import AuditConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist5k")
    parser.add_argument("--scenario", default="class:3")
    parser.add_argument("--methods", default="retrain,salun,rbm")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--shadows", nargs="+", type=int, default=[2, 4, 6])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--out", default=None, help="keep results here (default: a temporary folder)")
    args = parser.parse_args()
    ks = sorted(set(args.shadows))
    if ks[0] < 2 or len(args.seeds) < 2:
        print("error: --shadows must all be >= 2 and --seeds needs at least 2 seeds", file=sys.stderr)
        raise SystemExit(2)
    methods = tuple(m.strip() for m in args.methods.split(","))
    audited = [m for m in methods if m != "retrain"]
    cfg = ExperimentConfig(
        dataset=args.dataset, scenarios=(args.scenario,), methods=methods, seeds=tuple(args.seeds), threads=args.threads
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "bench"
        start = time.perf_counter()
        run_experiment(cfg, out, progress=False)
        grid_s = time.perf_counter() - start
        steps, auc_rows, previous = [], [], 0
        for k in ks:
            timings = {}
            for kind in ("ulira", "rmia"):
                start = time.perf_counter()
                table = run_experiment(cfg, out, progress=False, audit=AuditConfig(kind, shadows=k))
                timings[kind] = time.perf_counter() - start
                for method, rows in table[table.method != "retrain"].groupby("method"):
                    values = rows[f"{kind}_auc"]
                    auc_rows.append(
                        {
                            "attack": kind,
                            "K": k,
                            "method": method,
                            "mean": round(values.mean(), 4),
                            "sd": round(values.std(ddof=1), 4),
                            "mia_mean": round(rows["mia"].mean(), 2),
                        }
                    )
            added = k - previous
            steps.append(
                {
                    "K": k,
                    "added_shadows": added,
                    "ulira_s": round(timings["ulira"], 2),
                    "rmia_s": round(timings["rmia"], 2),
                    "seconds_per_shadow": round(timings["ulira"] / added, 2),
                    "seconds_per_shadow_per_seed_and_method": round(
                        timings["ulira"] / (added * len(args.seeds) * len(audited)), 2
                    ),
                }
            )
            previous = k
    print(pd.DataFrame(auc_rows).to_string(index=False), file=sys.stderr)
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "scenario": args.scenario,
                "methods": methods,
                "seeds": args.seeds,
                "threads": args.threads,
                "grid_s": round(grid_s, 2),
                "steps": steps,
                "auc": auc_rows,
            }
        )
    )


if __name__ == "__main__":
    main()
