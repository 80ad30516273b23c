r"""Weight-saliency masks: SalUn's (from the forgetting set) and RBM's (from the remaining set).

Both masks come from the same statistic, SalUn's, computed on a chosen data set $S$ over one
pass in stored order, with the model in evaluation mode:

.. math::

    s_j(S) = \Bigl|\sum_{b} \frac{\partial}{\partial\theta_j}\,
             \overline{\mathrm{CE}}(f_\theta(x_b), y_b)\Bigr| ,

the absolute value of the sum over mini-batches $b$ of the batch-mean gradient (the sign of the
loss is irrelevant after the absolute value, so SalUn's $-\mathrm{CE}$ gives the same scores).
Every parameter tensor is scored (convolutions, BatchNorm weights and biases, the linear head)
and ranked **globally**. Ties are broken by position in ``model.named_parameters()`` order (the
earlier weight ranks higher), so a mask is a deterministic function of the scores.

Ratio semantics, shared by both masks: ``ratio`` $r \in (0, 1]$ is the fraction of weights that
are **updated**; exactly $k = \mathrm{round}(rN)$ of the $N$ weights are.

* SalUn (:func:`forget_saliency_mask`): update the $k$ weights most salient for the forgetting
  loss, $s(D_f)$.
* RBM (:func:`retain_saliency_mask`), this book's reconstruction of "a weight saliency map based on
  the remaining dataset": the $N - k$ weights most salient for the remaining loss, $s(D_r)$, are
  *retain-salient* and frozen; the other $k$ are updated.

At $r = 1$ both masks update every weight, and SalUn and RBM both reduce to random labelling (RL).
Chapter 6 derives the recipe and compares the two.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from rbmlib.deep.batches import TensorSet, iterate_batches

__all__ = [
    "Mask",
    "forget_saliency_mask",
    "n_updated",
    "retain_saliency_mask",
    "saliency_scores",
    "top_k_mask",
    "updated_fraction",
]

#: Parameter name -> ``bool`` tensor of the parameter's shape; ``True`` = the weight is updated.
Mask = dict[str, torch.Tensor]


def saliency_scores(model: nn.Module, data: TensorSet, *, batch_size: int) -> dict[str, torch.Tensor]:
    """SalUn's saliency $s_j(S)$ of every weight on the set ``data`` (module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        The model to score; not modified (a copy is put in evaluation mode).
    data : TensorSet
        The set $S$ (``D_f`` for SalUn, ``D_r`` for RBM), passed once in stored order without
        augmentation.
    batch_size : int
        Mini-batch size of the pass.

    Returns
    -------
    dict of str to torch.Tensor
        Non-negative scores, one tensor per named parameter, same shapes.
    """
    if len(data) == 0:
        raise ValueError("saliency needs a non-empty data set")
    net = copy.deepcopy(model).eval()
    names = [n for n, _ in net.named_parameters()]
    params = [p for _, p in net.named_parameters()]
    total = [torch.zeros_like(p) for p in params]
    for x, y in iterate_batches(data, batch_size, generator=None):
        grads = torch.autograd.grad(F.cross_entropy(net(x), y), params)
        for acc, g in zip(total, grads):
            acc.add_(g)
    return {n: acc.abs() for n, acc in zip(names, total)}


def n_updated(n_weights: int, ratio: float) -> int:
    """Number of updated weights, $k = \\mathrm{round}(r N)$, for ``ratio`` $r \\in (0, 1]$.

    Raises
    ------
    ValueError
        ``ratio`` outside ``(0, 1]``, or so small that no weight would be updated.
    """
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"mask ratio must be in (0, 1], got {ratio}")
    k = round(ratio * n_weights)
    if k < 1:
        raise ValueError(f"mask ratio {ratio} of {n_weights} weights updates no weight")
    return k


def top_k_mask(scores: dict[str, torch.Tensor], k: int) -> Mask:
    """``True`` on the ``k`` globally highest scores; ties go to the earlier weight.

    Parameters
    ----------
    scores : dict of str to torch.Tensor
        One tensor per parameter, in ``named_parameters()`` order.
    k : int
        How many weights to select, ``0 <= k <= N``.
    """
    flat = torch.cat([s.reshape(-1) for s in scores.values()])
    if not 0 <= k <= flat.numel():
        raise ValueError(f"k must be in [0, {flat.numel()}], got {k}")
    if not torch.isfinite(flat).all():
        raise ValueError("saliency scores contain NaN or infinity")
    # A stable descending sort keeps tied scores in index order: deterministic tie-breaking.
    order = torch.sort(flat, descending=True, stable=True).indices
    chosen = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    chosen[order[:k]] = True
    out, start = {}, 0
    for name, s in scores.items():
        out[name] = chosen[start : start + s.numel()].view(s.shape)
        start += s.numel()
    return out


def updated_fraction(mask: Mask) -> float:
    """Fraction of weights a mask updates."""
    total = sum(m.numel() for m in mask.values())
    return sum(int(m.sum()) for m in mask.values()) / total


def _n_weights(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forget_saliency_mask(model: nn.Module, forget: TensorSet, *, ratio: float, batch_size: int) -> Mask:
    """SalUn's mask: update the ``round(ratio * N)`` weights most salient on $D_f$.

    Notes
    -----
    $m = \\mathrm{top}_k\\, s(D_f)$ (Chapter 6, "Two masks").
    """
    k = n_updated(_n_weights(model), ratio)
    return top_k_mask(saliency_scores(model, forget, batch_size=batch_size), k)


def retain_saliency_mask(model: nn.Module, retain: TensorSet, *, ratio: float, batch_size: int) -> Mask:
    """RBM's mask: freeze the ``N - round(ratio * N)`` weights most salient on $D_r$.

    Notes
    -----
    $m = 1 - \\mathrm{top}_{N-k}\\, s(D_r)$: the retain-salient weights keep their trained values,
    the remaining ``round(ratio * N)`` weights are updated (Chapter 6, "Two masks").
    """
    n = _n_weights(model)
    k = n_updated(n, ratio)
    retain_salient = top_k_mask(saliency_scores(model, retain, batch_size=batch_size), n - k)
    return {name: ~m for name, m in retain_salient.items()}
