"""Chapter 8's figures and the per-example statistics the audits read (rbmlib.deep.audit_plots,
rbmlib.deep.confidences)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from rbmlib.deep.audit_plots import draw_linear_roc, draw_roc_curves
from rbmlib.deep.batches import TensorSet
from rbmlib.deep.confidences import model_statistics
from rbmlib.deep.plots import METHOD_LABELS
from rbmlib.plotting import MODEL_LABELS


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
    assert labels == [f"{METHOD_LABELS['salun']} (0.71)", METHOD_LABELS["rbm"]]
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_linear_roc(ax, {"ft": (fpr, np.ones_like(fpr)), "fbm": (fpr, fpr)}, {"ft": (fpr, np.ones_like(fpr))})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"{MODEL_LABELS['ft']} (simulated)",
        f"{MODEL_LABELS['fbm']} (simulated)",
    ]
    assert len(ax.lines) == 1 + 2 + 1  # chance, two simulated point sets, one theory line
    plt.close(fig)
