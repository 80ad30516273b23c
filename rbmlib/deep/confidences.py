r"""Per-example statistics of a network that the membership audits read (Chapter 8).

:func:`model_statistics` evaluates a network once, in evaluation mode and float64, and returns for
every example the true-class probability $p_y = \mathrm{softmax}(z)_y$ (RMIA's statistic) and its
logit scaling $\phi = \log\frac{p_y}{1-p_y} = z_y - \log\sum_{j\ne y} e^{z_j}$ (U-LiRA's, computed
from the logits by :func:`rbmlib.deep.audit.logit_confidence`, so it stays finite where $p_y$
rounds to 1).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rbmlib.deep.audit import logit_confidence
from rbmlib.deep.batches import TensorSet, iterate_batches

__all__ = ["model_statistics"]


@torch.no_grad()
def model_statistics(model: nn.Module, data: TensorSet, *, batch_size: int) -> dict[str, np.ndarray]:
    """``{"phi": (n,), "p": (n,)}`` of every example of ``data`` (module docstring), float64.

    The model's training/evaluation mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    logits, labels = [], []
    try:
        for x, y in iterate_batches(data, batch_size, generator=None):
            logits.append(model(x).double().cpu())
            labels.append(y.cpu())
    finally:
        model.train(was_training)
    if not logits:
        return {"phi": np.zeros(0), "p": np.zeros(0)}
    z, y = torch.cat(logits).numpy(), torch.cat(labels).numpy()
    p = torch.softmax(torch.from_numpy(z), 1).numpy()[np.arange(len(y)), y]
    return {"phi": logit_confidence(z, y), "p": p}
