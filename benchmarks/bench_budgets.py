"""Speed of Chapter 7's closed forms (run by hand: ``.venv/bin/python benchmarks/bench_budgets.py [--skip-notebook]``).

Prints, with the goals of issue 15:

1. The forgetting loss over a (k_o, k_t) plane of budgets — original trained k_o steps from 0 on D,
   FT k_t steps on D_r — by the closed form (:func:`rbmlib.regularisation.budget_plane`) and by
   iterating gradient descent (:func:`rbmlib.regularisation.simulate_budget_plane`) on the same
   instance of the chapter's plane design, in one run: the two planes must agree to a relative 1e-8 and
   the closed form must be >= 100x faster. One BLAS thread; each time is the fastest of a few runs.
2. Execution time of Chapter 7 (goal <= 60 s), as in the book build: one kernel, nbclient.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from rbmlib.linear_model import BlockSizes, sample_instance
from rbmlib.regularisation import budget_grid, budget_plane, curvature_max, default_lr, simulate_budget_plane
from rbmlib.simulation import single_threaded_blas

#: Chapter 7's budget plane: PLANE_SIZES, PLANE_POINTS budgets per axis up to K_MAX.
SIZES = BlockSizes(d_f=40, d_o=20, d_r=60, n_f=50, n_r=58)
ROOT = Path(__file__).resolve().parents[1]


def _timed(fn, *args, repeat: int = 1, **kwargs):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return out, best


def bench_plane(points: int, k_max: int) -> None:
    inst = sample_instance(SIZES, rng=np.random.default_rng(0))
    lr = default_lr(max(curvature_max(inst.X), curvature_max(inst.X_r)), 0.0)
    ks = budget_grid(points, k_max)
    args = (inst.X, inst.y, inst.X_r, inst.y_r, inst.X_f, inst.y_f, ks, ks)
    with single_threaded_blas():
        closed, t_closed = _timed(budget_plane, *args, lr=lr, repeat=20)
        simulated, t_sim = _timed(simulate_budget_plane, *args, lr=lr, repeat=3)
    err = float(np.max(np.abs(closed - simulated) / np.maximum(np.abs(simulated), 1e-12 * np.abs(simulated).max())))
    ratio = t_sim / t_closed
    print(
        f"(k_o, k_t) plane {len(ks)} x {len(ks)}, k up to {k_max}: closed form {t_closed * 1e3:.1f} ms, "
        f"iterated GD {t_sim:.2f} s, ratio {ratio:.0f}x (goal >= 100x), max relative difference {err:.1e}",
        flush=True,
    )
    if err > 1e-8 or ratio < 100:
        raise SystemExit("FAILED: the closed form disagrees with the simulation or is not 100x faster")


def bench_notebook() -> None:
    import jupytext
    from nbclient import NotebookClient

    path = ROOT / "notebooks" / "07_beyond_the_linear_model.md"
    nb = jupytext.read(path)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    elapsed = time.perf_counter() - start
    print(f"Chapter 7 executed in {elapsed:.1f} s (goal <= 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=40, help="budgets per axis (default 40, as in Chapter 7)")
    parser.add_argument(
        "--k-max", type=int, default=10000, help="largest budget per stage (default 10000, as in Chapter 7)"
    )
    parser.add_argument("--skip-notebook", action="store_true")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    bench_plane(args.points, args.k_max)
    if not args.skip_notebook:
        bench_notebook()


if __name__ == "__main__":
    main()
