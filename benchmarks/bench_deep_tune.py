"""Wall time of ``python -m rbmlib tune`` on mnist5k for one method (target: <= 5 min on 2 cores).

Runs the tuning protocol of :mod:`rbmlib.deep.tune` (tuning seeds 10 and 11, the default lr and
ratio grids, edge widening) for one method and prints one JSON object: wall time, torch threads,
the number of grid points evaluated and the choice.

Usage::

    python benchmarks/bench_deep_tune.py [--method rbm] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from rbmlib.deep.tune import TuneConfig, tune


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="rbm")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    res = tune(TuneConfig(dataset="mnist5k", methods=(args.method,)))["methods"][args.method]
    wall = time.perf_counter() - start
    print(
        json.dumps(
            {
                "method": args.method,
                "wall_s": round(wall, 1),
                "target_s": 300,
                "threads": torch.get_num_threads(),
                "points": len(res["grid"]),
                "choice": {k: res[k] for k in ("lr", "ratio", "avg_gap", "on_edge", "widened")},
            }
        )
    )


if __name__ == "__main__":
    main()
