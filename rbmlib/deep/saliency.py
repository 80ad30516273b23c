r"""Weight-saliency masks: SalUn's (from the forgetting set), RBM's (from the remaining set), and
the random control (Chapter 6).

Two statistics of a data set $S$, both computed over one pass in stored order with the model in
evaluation mode:

.. math::

    g_j(S) = \Bigl|\sum_{b} \frac{\partial}{\partial\theta_j}\,
             \overline{\mathrm{CE}}(f_\theta(x_b), y_b)\Bigr| ,
    \qquad
    F_j(S) = \sum_{i \in S} \Bigl(\frac{\partial}{\partial\theta_j}\,
             \mathrm{CE}(f_\theta(x_i), y_i)\Bigr)^2 .

$g$ is SalUn's statistic (absolute value of the summed batch-mean gradients; the sign of the
loss is irrelevant after the absolute value, so SalUn's $-\mathrm{CE}$ gives the same scores).
$F$ is the diagonal of the empirical Fisher information on $S$, the statistic of the linear
chapters ($\sum_i x_{ij}^2$ for least squares): per-sample gradients do not cancel at a model that
fits $S$, while their sum does (Proposition 4.1), so $F$ stays informative exactly where RBM is
applied — at an original model that fits $D_r$.

Every parameter tensor is scored (convolutions, BatchNorm weights and biases, the linear head).
Ranking is **global** (one ranking over all $N$ weights) unless stated otherwise; ties are broken
by position in ``model.named_parameters()`` order (the earlier weight ranks higher), so a mask is
a deterministic function of the scores.

Ratio semantics, shared by every mask: ``ratio`` $r \in (0, 1]$ is the fraction of weights that
are **updated**; exactly $k = \mathrm{round}(rN)$ of the $N$ weights are (per-layer ranking:
$k_l = \mathrm{round}(r N_l)$ in every tensor $l$).

* SalUn (:func:`forget_saliency_mask`): update the $k$ weights with the largest $g(D_f)$.
* RBM (:func:`retain_saliency_mask`), this book's reading of "a weight saliency map based on the
  remaining dataset": the $N - k$ weights with the largest $F(D_r)$ (pre-registered primary) or
  $g(D_r)$ (variant ``rbm_grad``) are *retain-salient* and frozen; the other $k$ are updated.
* Random control (:func:`random_mask`): $k$ weights drawn uniformly without replacement.

At $r = 1$ every mask updates every weight, and SalUn, RBM and the random mask all reduce to
random labelling (RL).
"""

from __future__ import annotations

import copy
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from rbmlib.deep.batches import TensorSet, iterate_batches
from rbmlib.validators import fraction

__all__ = [
    "Mask",
    "Ranking",
    "Statistic",
    "fisher_scores",
    "forget_saliency_mask",
    "layerwise_top_k_mask",
    "n_updated",
    "random_mask",
    "retain_saliency_mask",
    "saliency_scores",
    "top_k_mask",
    "updated_fraction",
]

#: Parameter name -> ``bool`` tensor of the parameter's shape; ``True`` = the weight is updated.
Mask = dict[str, torch.Tensor]
#: Saliency statistic of RBM's mask: the Fisher diagonal $F$ or SalUn's gradient statistic $g$.
Statistic = Literal["fisher", "grad"]
#: One global ranking over all weights, or one ranking per parameter tensor.
Ranking = Literal["global", "layer"]


def _check_nonempty(data: TensorSet) -> None:
    if len(data) == 0:
        raise ValueError("saliency needs a non-empty data set")


def saliency_scores(model: nn.Module, data: TensorSet, *, batch_size: int) -> dict[str, torch.Tensor]:
    """SalUn's gradient statistic $g_j(S)$ of every weight on the set ``data`` (module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        The model to score; not modified (a copy is put in evaluation mode).
    data : TensorSet
        The set $S$ (``D_f`` for SalUn, ``D_r`` for the ``rbm_grad`` variant), passed once in
        stored order without augmentation.
    batch_size : int
        Mini-batch size of the pass (the statistic sums batch *means*, so it depends on it).

    Returns
    -------
    dict of str to torch.Tensor
        Non-negative scores, one tensor per named parameter, same shapes.
    """
    _check_nonempty(data)
    net = copy.deepcopy(model).eval()
    names = [n for n, _ in net.named_parameters()]
    params = [p for _, p in net.named_parameters()]
    total = [torch.zeros_like(p) for p in params]
    for x, y in iterate_batches(data, batch_size, generator=None):
        grads = torch.autograd.grad(F.cross_entropy(net(x), y), params)
        for acc, g in zip(total, grads):
            acc.add_(g)
    return {n: acc.abs() for n, acc in zip(names, total)}


def fisher_scores(model: nn.Module, data: TensorSet, *, batch_size: int) -> dict[str, torch.Tensor]:
    """Diagonal empirical Fisher $F_j(S) = \\sum_i (\\partial_{\\theta_j} \\mathrm{CE}_i)^2$ on ``data``.

    Per-sample gradients come from :mod:`torch.func` (``vmap`` of ``grad`` of a
    ``functional_call``), ``batch_size`` samples at a time; the batch size changes only memory use
    and the order of the floating-point sum, never the statistic.

    Parameters
    ----------
    model : torch.nn.Module
        The model to score; not modified (a copy is put in evaluation mode, so BatchNorm uses its
        running statistics and every sample's gradient is independent of the others).
    data : TensorSet
        The set $S$ ($D_r$ for RBM), passed once in stored order without augmentation.
    batch_size : int
        Samples per vectorised chunk.

    Returns
    -------
    dict of str to torch.Tensor
        Non-negative scores, one tensor per named parameter, same shapes.

    Notes
    -----
    Chapter 6, "The pre-registered RBM": $F$ is the deep counterpart of the linear chapters'
    $\\sum_i x_{ij}^2$ (Chapter 4); unlike $g$ it does not vanish at a model that fits $S$.
    """
    from torch.func import functional_call, grad, vmap

    _check_nonempty(data)
    net = copy.deepcopy(model).eval()
    params = {n: p.detach() for n, p in net.named_parameters()}
    buffers = {n: b.detach() for n, b in net.named_buffers()}

    def loss(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = functional_call(net, (p, buffers), (x.unsqueeze(0),))  # (1, classes)
        return F.cross_entropy(logits, y.unsqueeze(0))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
    total = {n: torch.zeros_like(p) for n, p in params.items()}
    for x, y in iterate_batches(data, batch_size, generator=None):
        grads = per_sample(params, x, y)  # name -> (B, *shape)
        for n, g in grads.items():
            total[n].add_(g.square().sum(0))
    return total


def n_updated(n_weights: int, ratio: float) -> int:
    """Number of updated weights, $k = \\mathrm{round}(r N)$, for ``ratio`` $r \\in (0, 1]$.

    Raises
    ------
    ValueError
        ``ratio`` outside ``(0, 1]``, or so small that no weight would be updated.
    """
    fraction(ratio, "mask ratio")
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


def layerwise_top_k_mask(scores: dict[str, torch.Tensor], ratio: float) -> Mask:
    """Per-tensor ranking: in every tensor $l$, ``True`` on its $N_l - \\mathrm{round}(r N_l)$
    highest scores (the retain-salient weights of RBM's per-layer variant).

    Parameters
    ----------
    scores : dict of str to torch.Tensor
        One tensor per parameter.
    ratio : float
        Fraction of each tensor's weights that is **not** selected (updated), in ``(0, 1]``.
    """
    fraction(ratio, "mask ratio")
    return {name: top_k_mask({name: s}, s.numel() - round(ratio * s.numel()))[name] for name, s in scores.items()}


def updated_fraction(mask: Mask) -> float:
    """Fraction of weights a mask updates."""
    total = sum(m.numel() for m in mask.values())
    return sum(int(m.sum()) for m in mask.values()) / total


def _n_weights(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forget_saliency_mask(model: nn.Module, forget: TensorSet, *, ratio: float, batch_size: int) -> Mask:
    """SalUn's mask: update the ``round(ratio * N)`` weights with the largest $g(D_f)$.

    Notes
    -----
    $m = \\mathrm{top}_k\\, g(D_f)$ (Chapter 6, "Masks and controls").
    """
    k = n_updated(_n_weights(model), ratio)
    return top_k_mask(saliency_scores(model, forget, batch_size=batch_size), k)


def retain_saliency_mask(
    model: nn.Module,
    retain: TensorSet,
    *,
    ratio: float,
    batch_size: int,
    statistic: Statistic = "fisher",
    ranking: Ranking = "global",
) -> Mask:
    """RBM's mask: freeze the retain-salient weights, update the other ``ratio`` fraction.

    Parameters
    ----------
    model : torch.nn.Module
        The original model (not modified).
    retain : TensorSet
        $D_r$.
    ratio : float
        Fraction of weights updated, in ``(0, 1]``.
    batch_size : int
        Mini-batch size of the saliency pass.
    statistic : {"fisher", "grad"}
        $F(D_r)$ (the pre-registered primary RBM) or $g(D_r)$ (variant ``rbm_grad``).
    ranking : {"global", "layer"}
        One ranking over all weights (primary) or one per parameter tensor (variant
        ``rbm_layer``).

    Notes
    -----
    $m = 1 - \\mathrm{top}_{N-k}\\, F(D_r)$: the retain-salient weights keep their trained values,
    the remaining $k = \\mathrm{round}(rN)$ weights are updated (Chapter 6, "Masks and controls").
    """
    if statistic not in ("fisher", "grad"):
        raise ValueError(f"RBM statistic must be 'fisher' or 'grad', got {statistic!r}")
    if ranking not in ("global", "layer"):
        raise ValueError(f"RBM ranking must be 'global' or 'layer', got {ranking!r}")
    n = _n_weights(model)
    k = n_updated(n, ratio)
    score = fisher_scores if statistic == "fisher" else saliency_scores
    scores = score(model, retain, batch_size=batch_size)
    retain_salient = top_k_mask(scores, n - k) if ranking == "global" else layerwise_top_k_mask(scores, ratio)
    return {name: ~m for name, m in retain_salient.items()}


def random_mask(model: nn.Module, *, ratio: float, generator: torch.Generator) -> Mask:
    """The control: ``round(ratio * N)`` weights chosen uniformly at random, without replacement.

    Parameters
    ----------
    model : torch.nn.Module
        Gives the parameter names and shapes only.
    ratio : float
        Fraction of weights updated, in ``(0, 1]``.
    generator : torch.Generator
        CPU generator of the draw (the only source of randomness).
    """
    shapes = {n: p.shape for n, p in model.named_parameters()}
    n = sum(s.numel() for s in shapes.values())
    k = n_updated(n, ratio)
    chosen = torch.zeros(n, dtype=torch.bool)
    chosen[torch.randperm(n, generator=generator)[:k]] = True
    device = next(model.parameters()).device
    out, start = {}, 0
    for name, shape in shapes.items():
        size = shape.numel()
        out[name] = chosen[start : start + size].view(shape).to(device)
        start += size
    return out
