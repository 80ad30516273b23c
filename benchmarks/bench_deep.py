"""Wall time and peak memory of the full mnist5k grid (Chapter 6's experiment at CLI defaults).

Runs 7 methods x 2 scenarios (``random:0.1``, ``class:3``) x 3 seeds (0, 1, 2) with
``rbmlib.deep.run_experiment`` from scratch (3 original trainings, 6 retrainings, 36 further
cells) into a fresh temporary folder, and prints one JSON object: wall time, peak resident memory
(``resource.getrusage``), torch threads and the mean ± std table. Targets on a 2-core CPU
machine: <= 5 min and <= 3 GB.

Usage::

    python benchmarks/bench_deep.py [--threads N] [--device cpu] [--out DIR]

``--threads`` is left at torch's default unless given; on a machine where other processes compete
for the cores, ``--threads 1`` avoids OpenMP oversubscription.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from rbmlib.deep.display import format_summary
from rbmlib.deep.results import summarise
from rbmlib.deep.runner import DEFAULT_METHODS, ExperimentConfig, run_experiment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="keep results here (default: a temporary folder)")
    args = parser.parse_args()
    cfg = ExperimentConfig(
        dataset="mnist5k",
        scenarios=("random:0.1", "class:3"),
        methods=DEFAULT_METHODS,
        seeds=(0, 1, 2),
        device=args.device,
        threads=args.threads,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out) if args.out else Path(tmp) / "bench"
        start = time.perf_counter()
        table = run_experiment(cfg, out, progress=sys.stderr.isatty())
        wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes
    summary = format_summary(summarise(table))
    print(summary.to_string(index=False), file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "mnist5k grid: 7 methods x 2 scenarios x 3 seeds",
                "cells": len(table),
                "wall_s": round(wall, 1),
                "peak_rss_mb": round(peak_mb),
                "torch_threads": args.threads or torch.get_num_threads(),
                "device": args.device,
                "sum_rte_s": round(float(table.rte_s.sum()), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
