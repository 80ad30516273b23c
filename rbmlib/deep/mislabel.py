r"""Mislabelled forget sets: corrupt labels before original training, then forget them (Chapter 6).

The scenario ``noisy:<fraction>`` forgets a uniformly random ``fraction`` of the training set whose
labels were replaced, **before** the original model was trained, by a uniformly drawn *wrong*
class. A network wide enough to memorise fits those wrong labels, Retrain (which never sees them)
does not, so the forget set is far from the remaining data in the model's eyes: the regime where a
forget-saliency mask measurably beats a random one on mnist5k (Chapter 6, "A scenario with
power"). The forget indices are those of ``random:<fraction>`` with the same seed; only the labels
of $D_f$ change, never $D_r$, the validation or the test set.

:func:`mislabel` is the pure building block; :func:`noisy_fraction` parses the scenario text.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["NOISY_KIND", "mislabel", "noisy_fraction"]

#: Scenario kind of a mislabelled forget set.
NOISY_KIND = "noisy"


def noisy_fraction(scenario: str) -> float | None:
    """The forget fraction of ``"noisy:<f>"``, or ``None`` for any other scenario.

    Raises
    ------
    ValueError
        ``"noisy:"`` followed by something that is not a number in ``(0, 1)``.
    """
    kind, sep, value = scenario.partition(":")
    if kind != NOISY_KIND:
        return None
    try:
        fraction = float(value)
    except ValueError:
        raise ValueError(f"scenario {scenario!r}: forget fraction {value!r} is not a number") from None
    if not sep or not 0.0 < fraction < 1.0:
        raise ValueError(f"scenario {scenario!r}: forget fraction must be in (0, 1), got {value!r}")
    return fraction


def mislabel(y: torch.Tensor, indices: np.ndarray, num_classes: int, *, rng: np.random.Generator) -> torch.Tensor:
    """A copy of the labels ``y`` with every label at ``indices`` replaced by a different class.

    Parameters
    ----------
    y : torch.Tensor, shape (n,)
        Integer labels in ``[0, num_classes)``; not modified.
    indices : numpy.ndarray
        Distinct positions to corrupt ($D_f$).
    num_classes : int
        $K \\ge 2$.
    rng : numpy.random.Generator
        Source of the wrong labels.

    Returns
    -------
    torch.Tensor
        Labels with $\\tilde y_i = (y_i + u_i) \\bmod K$, $u_i$ uniform on $\\{1, \\dots, K-1\\}$, at
        ``indices`` (so $\\tilde y_i$ is uniform over the $K - 1$ wrong classes) and $y$ elsewhere.
    """
    if num_classes < 2:
        raise ValueError(f"mislabelling needs at least 2 classes, got {num_classes}")
    idx = np.asarray(indices, dtype=np.int64)
    if len(np.unique(idx)) != len(idx):
        raise ValueError("indices to mislabel must be distinct")
    out = y.clone()
    shift = torch.from_numpy(rng.integers(1, num_classes, size=len(idx)))
    t = torch.from_numpy(idx)
    out[t] = (y[t] + shift.to(y.dtype)) % num_classes
    return out
