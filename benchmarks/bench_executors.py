"""The digits grid with ``--executor ray`` (2 workers) against ``--executor local``, side by side.

Runs 7 methods x 2 scenarios (``random:0.1``, ``class:3``) x 3 seeds of the ``digits`` recipe,
one torch thread per worker, first locally (one process) and then on a local 2-CPU Ray cluster,
each into a fresh folder, in child processes so that each run's peak memory (the child and every
process it starts: Ray's raylet, GCS, agents and workers, sampled every 0.5 s with psutil) is
measured on its own, twice: the sum of resident set sizes (RSS, which counts the pages of shared
libraries such as libtorch once per process) and the sum of proportional set sizes (PSS, which
splits shared pages among the processes that map them: the memory the run really occupies).
Prints one JSON object: wall times, their ratio (goal <= 0.7 on two cores), whether the metrics
are identical (timings aside), the peak memory of both runs (goal for Ray: <= 2 GB), and the
machine's own two-process speed-up on the same work (one seed's grid alone against two seeds'
grids as two independent processes at once), whose inverse bounds the ratio any 2-worker
executor can reach here.

Usage::

    python benchmarks/bench_executors.py [--workers 2] [--dataset digits|mnist5k]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

_CHILD = r"""
import sys
from rbmlib.deep.executors import LocalExecutor, RayExecutor
from rbmlib.deep.runner import DEFAULT_METHODS, ExperimentConfig, run_experiment
out, executor, workers, dataset = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
seeds = tuple(int(s) for s in sys.argv[5].split(","))
cfg = ExperimentConfig(dataset=dataset, scenarios=("random:0.1", "class:3"), methods=DEFAULT_METHODS,
                       seeds=seeds, threads=1)
run_experiment(cfg, out, progress=False,
               executor=RayExecutor(workers=workers) if executor == "ray" else LocalExecutor())
"""


def _memory(tree: list[psutil.Process]) -> tuple[int, int]:
    rss = pss = 0
    for p in tree:
        try:
            info = p.memory_full_info()
        except psutil.Error:  # the process ended while being read
            continue
        rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
    return rss, pss


def _run(out: Path, executor: str, workers: int, dataset: str, seeds: str = "0,1,2") -> tuple[float, float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(out), executor, str(workers), dataset, seeds])
    parent, peak_rss, peak_pss = psutil.Process(proc.pid), 0, 0
    while proc.poll() is None:
        try:
            rss, pss = _memory([parent, *parent.children(recursive=True)])
        except psutil.Error:
            rss = pss = 0
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"error: the {executor} run failed with exit code {proc.returncode}")
    return time.perf_counter() - start, peak_rss / 2**20, peak_pss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument(
        "--dataset",
        default="digits",
        choices=("digits", "mnist5k"),
        help="digits (the issue's grid; Ray's fixed start-up cost is most of it) or "
        "mnist5k (the same grid where the cells' compute dominates)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        local_s, local_rss, local_pss = _run(Path(tmp) / "local", "local", args.workers, args.dataset)
        ray_s, ray_rss, ray_pss = _run(Path(tmp) / "ray", "ray", args.workers, args.dataset)
        a, b = (pd.read_csv(Path(tmp) / name / "results.csv").drop(columns="rte_s") for name in ("local", "ray"))
        identical = a.equals(b)
        # The machine's own parallel speed-up, on the same work without any executor: one seed's
        # grid alone, then two seeds' grids as two independent processes at once. A 2-worker
        # executor cannot beat wall_ratio_bound = 1 / speed-up on the compute.
        one_s = _run(Path(tmp) / "one", "local", 1, args.dataset, "0")[0]
        start = time.perf_counter()
        pair = [
            subprocess.Popen([sys.executable, "-c", _CHILD, str(Path(tmp) / f"pair{s}"), "local", "1", args.dataset, s])
            for s in ("1", "2")
        ]
        if any(p.wait() != 0 for p in pair):
            raise SystemExit("error: a calibration run failed")
        pair_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "benchmark": f"{args.dataset} grid: 7 methods x 2 scenarios x 3 seeds, 1 thread per worker",
                "cells": len(a),
                "local_wall_s": round(local_s, 1),
                "ray_wall_s": round(ray_s, 1),
                "ray_workers": args.workers,
                "wall_ratio_ray_over_local": round(ray_s / local_s, 2),
                "metrics_identical": bool(identical),
                "one_seed_alone_s": round(one_s, 1),
                "two_seeds_as_two_processes_at_once_s": round(pair_s, 1),
                "two_process_speedup": round(2 * one_s / pair_s, 2),
                "wall_ratio_bound": round(pair_s / (2 * one_s), 2),
                "local_peak_rss_mb": round(local_rss),
                "local_peak_pss_mb": round(local_pss),
                "ray_peak_rss_mb": round(ray_rss),
                "ray_peak_pss_mb": round(ray_pss),
                "load_average_1min_at_end": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
