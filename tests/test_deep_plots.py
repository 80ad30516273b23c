"""Chapter 6 figures: draw on the given axes, one colour per method (rbmlib.deep.plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.transforms import Bbox

from rbmlib.deep.methods import METHODS
from rbmlib.deep.plots import METHOD_COLOURS, METHOD_LABELS, METHOD_MARKERS, draw_ratio_sweep, draw_ua_ra
from rbmlib.deep.results import collect, summarise
from rbmlib.deep.runner import DEFAULT_METHODS


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(3):
        for method in DEFAULT_METHODS:
            for ratio in (0.1, 0.5, 0.9) if method in ("salun", "rbm") else (None,):
                rows.append(
                    {
                        "dataset": "d",
                        "scenario": "class:3",
                        "method": method,
                        "mask_ratio": ratio,
                        "seed": seed,
                        "ua": rng.uniform(0, 100),
                        "ra": rng.uniform(90, 100),
                        "ta": 95.0,
                        "mia": 50.0,
                        "rte_s": 1.0,
                        "n_forget": 1,
                        "n_retain": 1,
                        "n_test": 1,
                        "split_sha256": "x",
                    }
                )
    return collect(rows)


def test_every_method_has_a_label_and_a_colour():
    assert set(METHODS) == set(METHOD_LABELS) == set(METHOD_COLOURS) == set(METHOD_MARKERS)
    assert len(set(METHOD_COLOURS.values())) == len(METHOD_COLOURS)
    assert len(set(METHOD_MARKERS.values())) == len(METHOD_MARKERS)  # readable without colour


def test_ua_ra_scatter_draws_one_point_per_method_and_the_retrain_crosshair(table):
    fig, ax = plt.subplots()
    summary = summarise(table[table.mask_ratio.isna() | (table.mask_ratio == 0.5)])
    assert draw_ua_ra(ax, summary, scenario="class:3", legend=True) is ax
    points = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    assert len(points) >= len(DEFAULT_METHODS)
    assert sum(line.get_linestyle() == "--" for line in ax.lines) == 2 and ax.get_legend() is not None
    labels = {t.get_text() for t in ax.texts}
    assert {METHOD_LABELS[m] for m in summary["method"]} <= labels  # direct labels beside the points
    plt.close(fig)


def test_ratio_sweep_draws_both_masks_and_the_reference(table):
    fig, ax = plt.subplots()
    masked = table[table.method.isin(["salun", "rbm"])]
    assert draw_ratio_sweep(ax, masked, metric="avg_gap", reference=1.0) is ax
    assert set(ax.get_legend_handles_labels()[1]) == {"SalUn", "RBM", "Retrain"}
    plt.close(fig)


def test_ratio_sweep_draws_a_spread_band_only_where_there_are_two_seeds(table):
    fig, ax = plt.subplots()
    masked = table[table.method.isin(["salun", "rbm"])]
    draw_ratio_sweep(ax, masked, metric="ua")
    assert len(ax.collections) == 2  # one band per method, from three seeds
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_ratio_sweep(ax, masked[masked.seed == 0], metric="ua")
    assert len(ax.collections) == 0 and len(ax.get_lines()) == 2  # one seed: the means only
    plt.close(fig)


def test_direct_labels_cover_no_other_marker_and_no_other_label():
    # Two methods almost on top of each other (SalUn and RL in Fig. 6.1) and a third close by.
    summary = pd.DataFrame(
        {
            "scenario": "s",
            "method": ["retrain", "salun", "rl", "random", "rbm", "ft"],
            "ua_mean": [4.6, 2.0, 2.4, 3.3, 0.8, 0.6],
            "ua_std": [1.7, 1.1, 0.8, 1.1, 0.2, 0.5],
            "ra_mean": [99.96, 98.87, 98.92, 98.38, 99.72, 99.98],
            "ra_std": [0.02, 0.5, 0.5, 0.7, 0.1, 0.02],
        }
    )
    fig, ax = plt.subplots(figsize=(3.6, 3.2), layout="constrained")
    ax.set_title("s", loc="left")
    draw_ua_ra(ax, summary, scenario="s")
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    points = dict(zip(summary["method"], ax.transData.transform(summary[["ua_mean", "ra_mean"]].to_numpy())))
    half = 3.0 * fig.dpi / 72  # a marker of s=46 is about 7 pt wide
    for method, (x, y) in points.items():
        for text, box in boxes.items():
            if text != METHOD_LABELS[method]:
                assert not box.overlaps(Bbox.from_extents(x - half, y - half, x + half, y + half)), (text, method)
    names = list(boxes)
    assert not any(boxes[a].overlaps(boxes[b]) for i, a in enumerate(names) for b in names[i + 1 :])
    assert all(t.get_bbox_patch() is not None and t.get_zorder() > 1 for t in ax.texts)  # above the error bars
    plt.close(fig)


def test_the_retrain_reference_is_drawn_above_the_lines_that_reach_it(table):
    fig, ax = plt.subplots()
    draw_ratio_sweep(ax, table[table.method.isin(["salun", "rbm"])], metric="ua", reference=100.0)
    ref = next(line for line in ax.get_lines() if line.get_label() == "Retrain")
    assert all(ref.get_zorder() > line.get_zorder() for line in ax.get_lines() if line is not ref)
    plt.close(fig)
