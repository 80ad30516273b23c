"""Chapter 8's figures and the per-example statistics the audits read (rbmlib.deep.audit_plots,
rbmlib.deep.confidences)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from rbmlib.deep.audit_plots import curves_coincide, draw_linear_roc, draw_roc_curves
from rbmlib.deep.batches import TensorSet
from rbmlib.deep.confidences import model_statistics
from rbmlib.presentation import label


def test_model_statistics_are_the_true_class_softmax_and_its_logit_and_keep_the_mode():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    net.train()
    x = torch.randint(0, 256, (5, 1, 2, 2), dtype=torch.uint8)
    y = torch.tensor([0, 1, 2, 1, 0])
    stats = model_statistics(net, TensorSet(x, y, 3), batch_size=2)
    assert net.training  # restored
    with torch.no_grad():
        p = torch.softmax(net(x.float() / 255).double(), 1)[torch.arange(5), y].numpy()
    np.testing.assert_allclose(stats["p"], p, rtol=1e-6)
    np.testing.assert_allclose(stats["phi"], np.log(p / (1 - p)), rtol=1e-5)


def test_roc_figures_draw_one_labelled_curve_per_method_and_return_the_axes():
    fpr, tpr = np.linspace(0, 1, 20), np.linspace(0, 1, 20) ** 0.5
    fig, ax = plt.subplots()
    assert draw_roc_curves(ax, {"salun": (fpr, tpr), "rbm": (fpr, fpr)}, aucs={"salun": 0.71}) is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"{label('salun')} (AUC 0.71)", label("rbm")]
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_linear_roc(ax, {"ft": (fpr, np.ones_like(fpr)), "fbm": (fpr, fpr)}, {"ft": (fpr, np.ones_like(fpr))})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"{label('ft')}, simulated",
        f"{label('fbm')}, simulated",
    ]
    assert len(ax.lines) == 1 + 2 + 1  # chance, two simulated point sets, one theory line
    plt.close(fig)


def test_roc_text_is_never_below_nine_points_and_chance_sits_under_the_diagonal():
    fpr = np.linspace(0, 1, 20)
    with plt.rc_context({"legend.fontsize": 9}):  # the book theme's legend size
        for draw in (
            lambda ax: draw_roc_curves(ax, {"ft": (fpr, fpr**0.5)}, aucs={"ft": 0.7}),
            lambda ax: draw_linear_roc(ax, {"golden": (fpr, fpr)}, {"golden": (fpr, fpr)}),
        ):
            fig, ax = plt.subplots()
            draw(ax)
            texts = [*ax.texts, *ax.get_legend().get_texts()]
            assert min(t.get_fontsize() for t in texts) >= 9
            (chance,) = ax.texts
            x, y = chance.get_position()
            assert chance.get_text() == "chance" and y < x  # below the diagonal: off every curve above chance
            fig.canvas.draw()
            legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
            assert legend.y1 < axes.y0  # under the panel, where no curve runs
            plt.close(fig)


def test_coinciding_curves_are_detected_and_still_show_each_methods_markers():
    top = (np.array([0.0, 0.0, 0.0, 0.5, 1.0]), np.array([0.0, 0.4, 1.0, 1.0, 1.0]))
    same = (np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]))  # the same polyline, fewer vertices
    lower = (np.array([0.0, 0.0, 0.5, 1.0]), np.array([0.0, 0.9, 1.0, 1.0]))
    assert curves_coincide({"ft": top, "rbm": same})
    assert not curves_coincide({"ft": top, "rbm": lower})
    assert curves_coincide({"ft": top})
    fig, ax = plt.subplots()
    draw_roc_curves(ax, {"ft": top, "salun": same, "rbm": same})
    starts = [line.get_markevery()[0] for line in ax.lines[1:]]  # after the chance line
    assert len(set(starts)) == 3  # shifted from curve to curve: no marker hides another
    plt.close(fig)
