"""Cost and accuracy of the closed forms of :mod:`rbmlib.theory` (run by hand:
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_theory.py [--draws N] [--accuracy-draws M]``).

Prints, with the goals of issue 9:

1. **Cost.** Evaluating every closed form (``theory_table``: all 7 rows x 3 metrics) over the
   whole default phase grid (6 overlaps x 5 remaining ratios, Chapter 5) against simulating the
   same grid with ``phase_grid`` (golden, FT, RBM, FBM at ``--draws`` per cell, as Chapter 5
   does). Goal: the theory costs < 1 % of the simulation, measured in the same run.
2. **Accuracy of the deterministic equivalents** (the original's fresh loss, shared by FT, RBM
   and RBM's masked update, RBM's forgetting loss, and FBM's forgetting and fresh losses, which
   are derived without label noise only): relative error against a Monte Carlo of
   ``--accuracy-draws`` draws per cell (seeded child streams), with its standard error, on the
   phase grid, at the running example, and where the equivalent is expected to break: small
   sizes (the grid divided by 5), near-square designs (n_r / (d_o + d_r), n_f / (d_f + d_o) or
   (n_f + n_r) / d about 0.95) and heavy label
   noise (sigma = 3).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rbmlib.experiments import PhaseGrid, phase_grid, simulate_methods
from rbmlib.linear_model import BlockSizes
from rbmlib.simulation import SimulationConfig
from rbmlib.theory import compressed_law, projector_equivalent, theory_table

RUNNING = BlockSizes(d_f=160, d_o=40, d_r=200, n_f=40, n_r=80)


def _cost(grid: PhaseGrid, draws: int) -> None:
    cells = [grid.sizes(o, r) for o in grid.overlaps for r in grid.retain_ratios]
    repeats = 20
    t0 = time.perf_counter()
    for _ in range(repeats):
        projector_equivalent.cache_clear()  # time the cold evaluation, not the cache
        compressed_law.cache_clear()
        for sizes in cells:
            theory_table(sizes)
    theory_s = (time.perf_counter() - t0) / repeats
    t0 = time.perf_counter()
    phase_grid(grid, draws=draws, seed=0)
    sim_s = time.perf_counter() - t0
    print(
        f"[cost] theory_table on {len(cells)} cells: {1e3 * theory_s:.2f} ms (mean of {repeats}); "
        f"phase_grid at {draws} draws/cell: {sim_s:.2f} s; ratio {100 * theory_s / sim_s:.3f} % (goal < 1 %)"
    )


def _errors(sizes: BlockSizes, draws: int, seed: int, noise: float = 0.0) -> dict[str, tuple[float, float, float]]:
    """(theory, MC mean, MC se) of each deterministic-equivalent cell at one size."""
    table = theory_table(sizes, noise=noise)
    samples = simulate_methods(
        SimulationConfig(sizes, draws=draws, seed=seed, noise=noise), methods=("original", "rbm", "fbm")
    )
    out = {}
    for model, metric in (
        ("original", "fresh_remaining_loss"),
        ("rbm", "forgetting_loss"),
        ("fbm", "forgetting_loss"),
        ("fbm", "fresh_remaining_loss"),
    ):
        value, kind, _ = table[model][metric]
        if kind != "deterministic equivalent":
            continue
        v = samples[model][metric]
        out[f"{model}.{metric}"] = (value, float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)))
    return out


def _report(label: str, sizes_list: list[BlockSizes], draws: int, noise: float = 0.0) -> None:
    worst: dict[str, tuple] = {}
    zs: dict[str, list[float]] = {}
    for k, sizes in enumerate(sizes_list):
        for key, (th, mean, se) in _errors(sizes, draws, seed=100 + k, noise=noise).items():
            rel, rel_se = (th - mean) / mean, se / mean
            zs.setdefault(key, []).append(rel / rel_se)
            if key not in worst or abs(rel) > abs(worst[key][0]):
                worst[key] = (rel, rel_se, sizes)
    for key, (rel, rel_se, s) in worst.items():
        shape = (s.d_f, s.d_o, s.d_r, s.n_f, s.n_r)
        z = np.abs(zs[key])
        print(
            f"[accuracy] {label:<34} {key:<34} worst rel. error {100 * rel:+6.2f} % "
            f"(MC rel. se {100 * rel_se:.2f} %) at {shape}, sigma = {noise:g}; "
            f"{len(z)} sizes, max |z| {z.max():.1f}, mean |z| {z.mean():.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=40, help="draws per cell of the timed phase grid (Chapter 5: 40)")
    parser.add_argument("--accuracy-draws", type=int, default=300, help="draws per size of the accuracy check")
    args = parser.parse_args()
    grid = PhaseGrid()
    _cost(grid, args.draws)
    overlapping = [grid.sizes(o, r) for o in grid.overlaps if o > 0 for r in grid.retain_ratios]
    _report("phase grid (d_f + d_o = 100, d_r = 100)", overlapping, args.accuracy_draws)
    _report("running example", [RUNNING], args.accuracy_draws)
    small = PhaseGrid(forget_block=20, d_r=20, n_f=4)
    _report(
        "small: grid / 5",
        [small.sizes(o, r) for o in small.overlaps if o > 0 for r in small.retain_ratios],
        args.accuracy_draws,
    )
    near_square = [BlockSizes(60, 40, 100, 20, 133), BlockSizes(60, 40, 100, 95, 40), BlockSizes(60, 40, 100, 90, 100)]
    _report("near-square (n_r/m, n_f/(d_f+d_o), n/d ~ 0.95)", near_square, args.accuracy_draws)
    _report("heavy noise", [grid.sizes(0.4, r) for r in grid.retain_ratios], args.accuracy_draws, noise=3.0)
    # noise near a square remaining design: the equivalent's n_r/(m - n_r) against the finite-size
    # n_r/(m - n_r - 1) of the inverse-Wishart mean
    _report(
        "heavy noise, near-square n_r",
        [BlockSizes(60, 40, 100, 20, n) for n in (120, 126, 130)],
        args.accuracy_draws,
        noise=3.0,
    )


if __name__ == "__main__":
    main()
