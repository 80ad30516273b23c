r"""Unlearning metrics as the field defines them: UA, RA, TA, MIA-efficacy and Avg. Gap (Chapter 6).

* $\mathrm{UA} = 100 - \mathrm{acc}(D_f)$, $\mathrm{RA} = \mathrm{acc}(D_r)$,
  $\mathrm{TA} = \mathrm{acc}(D_{\text{test}})$ (without the forgotten class in class-wise
  forgetting), in percent, model in evaluation mode, no augmentation.
* MIA-efficacy: each example's feature is the softmax confidence of its true class. An
  ``sklearn.svm.SVC(C=3, kernel="rbf", gamma="auto")`` is fitted with members = the first
  $|D_{\text{test}}|$ examples of $D_r$ (label 1) and non-members = $D_{\text{test}}$ (label 0);
  MIA-efficacy is the percentage of $D_f$ it predicts to be non-members (higher = more forgotten).
* $\text{Avg. Gap} = \frac14 \sum_{M \in \{\mathrm{UA},\mathrm{RA},\mathrm{TA},\mathrm{MIA}\}}
  |M - M_{\text{Retrain}}|$, against the stored Retrain result of the same dataset, scenario and
  seed.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np
import torch
from torch import nn

from rbmlib.deep.batches import TensorSet, iterate_batches

__all__ = ["METRIC_NAMES", "Metrics", "accuracy", "avg_gap", "evaluate", "mia_efficacy", "predict"]


@dataclass(frozen=True)
class Metrics:
    """The four accuracy-type metrics of one model, in percent.

    Attributes
    ----------
    ua : float
        Unlearning accuracy, $100 - \\mathrm{acc}(D_f)$.
    ra : float
        Remaining accuracy, $\\mathrm{acc}(D_r)$.
    ta : float
        Test accuracy.
    mia : float
        MIA-efficacy: percentage of $D_f$ predicted "non-member".
    """

    ua: float
    ra: float
    ta: float
    mia: float


@torch.no_grad()
def predict(model: nn.Module, data: TensorSet, *, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class and true-class softmax confidence of every example, in evaluation mode.

    Returns
    -------
    pred : np.ndarray
        ``(n,)`` arg-max classes.
    confidence : np.ndarray
        ``(n,)`` $\\mathrm{softmax}(f(x))_y$, computed in float64 so that confidences close to 1
        stay distinct.
    """
    was_training = model.training
    model.eval()
    preds, confs = [], []
    try:
        for x, y in iterate_batches(data, batch_size, generator=None):
            logits = model(x).double()
            preds.append(logits.argmax(1).cpu())
            confs.append(torch.softmax(logits, 1).gather(1, y[:, None]).squeeze(1).cpu())
    finally:
        model.train(was_training)
    if not preds:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return torch.cat(preds).numpy(), torch.cat(confs).numpy()


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    """Percentage of ``pred == y``."""
    if len(y) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return 100.0 * float(np.mean(np.asarray(pred) == np.asarray(y)))


def mia_efficacy(conf_members: np.ndarray, conf_nonmembers: np.ndarray, conf_forget: np.ndarray) -> float:
    """The field's MIA-efficacy from true-class confidences.

    Parameters
    ----------
    conf_members : np.ndarray
        ``(n_m,)`` confidences of training members (the first $|D_{\\text{test}}|$ of $D_r$).
    conf_nonmembers : np.ndarray
        ``(n_n,)`` confidences of non-members ($D_{\\text{test}}$).
    conf_forget : np.ndarray
        ``(n_f,)`` confidences of $D_f$.

    Returns
    -------
    float
        Percentage of ``conf_forget`` that ``SVC(C=3, kernel="rbf", gamma="auto")``, fitted on
        members (1) vs non-members (0), predicts to be non-members.
    """
    if min(len(conf_members), len(conf_nonmembers), len(conf_forget)) == 0:
        raise ValueError("MIA needs non-empty member, non-member and forget sets")
    features = np.concatenate([conf_members, conf_nonmembers]).reshape(-1, 1)
    labels = np.concatenate([np.ones(len(conf_members)), np.zeros(len(conf_nonmembers))])
    from sklearn.svm import SVC  # imported here: 0.6 s that processes which never fit it should not pay

    clf = SVC(C=3, kernel="rbf", gamma="auto").fit(features, labels)
    return 100.0 * float(np.mean(clf.predict(np.reshape(conf_forget, (-1, 1))) == 0))


def evaluate(model: nn.Module, *, retain: TensorSet, forget: TensorSet, test: TensorSet, batch_size: int) -> Metrics:
    """UA, RA, TA and MIA-efficacy of ``model`` (module docstring; Chapter 6, "Metrics").

    The MIA's members are the first ``min(|test|, |retain|)`` examples of ``retain`` (stored in a
    random order by :func:`rbmlib.deep.splits.make_split`, so they are a uniform sample).
    """
    pred_r, conf_r = predict(model, retain, batch_size=batch_size)
    pred_f, conf_f = predict(model, forget, batch_size=batch_size)
    pred_t, conf_t = predict(model, test, batch_size=batch_size)
    return Metrics(
        ua=100.0 - accuracy(pred_f, forget.y.cpu().numpy()),
        ra=accuracy(pred_r, retain.y.cpu().numpy()),
        ta=accuracy(pred_t, test.y.cpu().numpy()),
        mia=mia_efficacy(conf_r[: len(test)], conf_t, conf_f),
    )


def avg_gap(metrics: Metrics, reference: Metrics) -> float:
    """Mean absolute difference of UA, RA, TA and MIA to the Retrain ``reference``."""
    return float(np.mean(np.abs(np.subtract(astuple(metrics), astuple(reference)))))


#: Metric names in column order.
METRIC_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Metrics))
