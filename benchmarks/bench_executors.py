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
executor can reach here. Last, Ray's fixed costs on their own (``ray_fixed_s``: the driver's
imports, ``ray.init``, one worker per CPU started and importing a cell's modules, shutdown; no
cell) give the floor of a Ray run on this grid, ``ray_wall_floor_s`` = fixed costs + the local
run's compute (its wall time less ``start_and_imports_s``) divided by the speed-up, and
``wall_ratio_floor_with_ray`` = that floor over the local wall time: when it exceeds the goal,
no scheduling can meet it on this machine.

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


# Ray's fixed costs on their own: the driver's imports, ray.init as RayExecutor calls it, one
# worker per CPU started and importing what a cell needs, and shutdown. No cell is run.
_RAY_FIXED = r"""
import json, logging, sys, time
t0 = time.perf_counter()
import ray
import rbmlib.deep.runner
t1 = time.perf_counter()
workers = int(sys.argv[1])
ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
         object_store_memory=128 * 1024**2)
t2 = time.perf_counter()
@ray.remote(num_cpus=1)
def warm():
    import rbmlib.deep.tasks
    return 0
ray.get([warm.remote() for _ in range(workers)])
t3 = time.perf_counter()
ray.shutdown()
t4 = time.perf_counter()
print(json.dumps({"driver_import_s": t1 - t0, "init_s": t2 - t1, "workers_start_s": t3 - t2, "shutdown_s": t4 - t3}))
"""
_IMPORT_ONLY = "import rbmlib.deep.runner"


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
        # What a 2-worker Ray run could at best take here: its fixed costs, plus the local run's
        # compute (its wall time less interpreter start and imports) shared at the machine's speed-up.
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", _IMPORT_ONLY], check=True)
        import_s = time.perf_counter() - start
        start = time.perf_counter()
        fixed = json.loads(
            subprocess.run(
                [sys.executable, "-c", _RAY_FIXED, str(args.workers)], check=True, capture_output=True, text=True
            ).stdout
        )
        ray_fixed_s = time.perf_counter() - start
    speedup = 2 * one_s / pair_s
    ray_floor_s = ray_fixed_s + (local_s - import_s) / speedup
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
                "two_process_speedup": round(speedup, 2),
                "wall_ratio_bound": round(1 / speedup, 2),
                "start_and_imports_s": round(import_s, 1),
                "ray_fixed_s": round(ray_fixed_s, 1),
                "ray_fixed_parts_s": {k: round(v, 1) for k, v in fixed.items()},
                "ray_wall_floor_s": round(ray_floor_s, 1),
                "wall_ratio_floor_with_ray": round(ray_floor_s / local_s, 2),
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
