"""Metrics: MIA-efficacy matches scikit-learn, accuracies and Avg. Gap (rbmlib.deep.metrics, results)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.svm import SVC

from rbmlib.deep.batches import TensorSet
from rbmlib.deep.display import format_summary, scenario_table
from rbmlib.deep.metrics import Metrics, accuracy, avg_gap, evaluate, mia_efficacy, predict
from rbmlib.deep.results import check_consistent, collect, read_results, summarise

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_mia_efficacy_equals_a_direct_sklearn_computation(rng):
    members = rng.beta(8, 1, 200)  # members: confident
    nonmembers = rng.beta(3, 2, 200)
    forget = np.concatenate([rng.beta(8, 1, 50), rng.beta(3, 2, 50)])
    clf = SVC(C=3, kernel="rbf", gamma="auto").fit(
        np.concatenate([members, nonmembers])[:, None], np.r_[np.ones(200), np.zeros(200)]
    )
    expected = 100.0 * np.mean(clf.predict(forget[:, None]) == 0)
    assert mia_efficacy(members, nonmembers, forget) == pytest.approx(expected, abs=0)
    assert 20.0 < expected < 80.0  # the synthetic sets are separable but the forget set is mixed


def test_mia_efficacy_is_high_for_forgotten_and_low_for_remembered(rng):
    members, nonmembers = rng.beta(20, 1, 300), rng.beta(2, 2, 300)
    assert mia_efficacy(members, nonmembers, rng.beta(2, 2, 100)) > 80
    assert mia_efficacy(members, nonmembers, rng.beta(20, 1, 100)) < 20


def test_mia_requires_non_empty_sets():
    with pytest.raises(ValueError, match="non-empty"):
        mia_efficacy(np.ones(3), np.zeros(0), np.ones(2))


class _Fixed(torch.nn.Module):
    """Logits that depend only on the first pixel: class = pixel % 3, confidence fixed."""

    def forward(self, x):
        cls = (x[:, 0, 0, 0] * 255).round().long() % 3
        return torch.nn.functional.one_hot(cls, 3).double() * 2.0


def test_predict_and_evaluate_on_a_known_model():
    x = torch.zeros(6, 1, 2, 2, dtype=torch.uint8)
    x[:, 0, 0, 0] = torch.tensor([0, 1, 2, 0, 1, 2], dtype=torch.uint8)
    good = TensorSet(x, torch.tensor([0, 1, 2, 0, 1, 2]), 3)
    bad = TensorSet(x, torch.tensor([1, 2, 0, 1, 2, 2]), 3)  # one of six right
    pred, conf = predict(_Fixed(), good, batch_size=4)
    assert pred.tolist() == [0, 1, 2, 0, 1, 2]
    np.testing.assert_allclose(conf, np.exp(2) / (np.exp(2) + 2))
    m = evaluate(_Fixed(), retain=good, forget=bad, test=good, batch_size=4)
    assert (m.ra, m.ta) == (100.0, 100.0) and m.ua == pytest.approx(100 - 100 / 6)


def test_accuracy_and_avg_gap():
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0])) == 50.0
    assert avg_gap(Metrics(10, 90, 80, 20), Metrics(14, 92, 80, 10)) == pytest.approx(4.0)


def _record(method, seed, ua, ratio=None):
    return {
        "dataset": "d",
        "scenario": "random:0.1",
        "method": method,
        "mask_ratio": ratio,
        "seed": seed,
        "ua": ua,
        "ra": 99.0,
        "ta": 95.0,
        "mia": 10.0,
        "rte_s": 1.0,
        "n_forget": 1,
        "n_retain": 2,
        "n_test": 3,
        "split_sha256": "x",
    }


def test_avg_gap_is_against_the_retrain_row_of_the_same_seed():
    df = collect(
        [
            _record("salun", 0, 10.0, 0.5),
            _record("retrain", 0, 6.0),
            _record("retrain", 1, 2.0),
            _record("salun", 1, 10.0, 0.5),
            _record("ft", 2, 1.0),
        ]
    )
    gaps = df.set_index(["method", "seed"])["avg_gap"]
    assert gaps[("salun", 0)] == pytest.approx(1.0) and gaps[("salun", 1)] == pytest.approx(2.0)
    assert gaps[("retrain", 0)] == 0.0 and np.isnan(gaps[("ft", 2)])
    assert df["method"].tolist()[:2] == ["retrain", "retrain"]  # methods in reporting order


def test_summary_gives_mean_and_sample_std_over_seeds():
    df = collect(
        [_record("retrain", s, 0.0) for s in range(3)]
        + [_record("rbm", s, ua, 0.5) for s, ua in enumerate([1.0, 2.0, 6.0])]
    )
    s = summarise(df).set_index("method")
    assert s.loc["rbm", "ua_mean"] == pytest.approx(3.0)
    assert s.loc["rbm", "ua_std"] == pytest.approx(np.std([1, 2, 6], ddof=1))
    assert s.loc["rbm", "n_seeds"] == 3 and s.loc["rbm", "mask_ratio"] == 0.5
    text = format_summary(summarise(df)).set_index("method").loc["rbm", "ua"]
    assert text == "3.0 ± 2.6"


def test_scenario_table_has_display_headers_and_one_row_per_method():
    summary = summarise(collect([_record("retrain", 0, 2.0), _record("rbm", 0, 3.0, 0.5)]))
    t = scenario_table(summary, "random:0.1", labels={"retrain": "Retrain", "rbm": "RBM"})
    assert list(t.columns) == ["UA", "RA", "TA", "MIA", "Avg. Gap", "RTE (s)"]
    assert list(t.index) == ["Retrain", "RBM"] and t.loc["RBM", "UA"] == "3.0 ± 0.0"


def test_avg_gap_pairs_with_the_retrain_of_the_same_split_only():
    other = {**_record("retrain", 0, 6.0), "split_sha256": "y", "scenario": "class:3"}
    df = collect([_record("salun", 0, 10.0, 0.5), other])
    assert np.isnan(df.set_index("method").loc["salun", "avg_gap"])  # a different split: no reference


def test_mixed_splits_are_refused():
    records = [_record("retrain", 0, 6.0), {**_record("salun", 0, 10.0, 0.5), "split_sha256": "z"}]
    with pytest.raises(ValueError, match="mixed splits"):
        collect(records)


def test_mixed_configurations_are_refused():
    with pytest.raises(ValueError, match="mixed configurations"):
        collect([_record("salun", 0, 10.0, 0.5), _record("salun", 0, 11.0, 0.5)])
    import pandas as pd

    rows = [{**_record("salun", s, 1.0, 0.5), "recipe_sha256": c} for s, c in ((0, "a"), (1, "b"))]
    with pytest.raises(ValueError, match="mixed configurations"):
        check_consistent(pd.DataFrame(rows).astype({"mask_ratio": float}))
    # A cell key differs between seeds by construction: it is not a sign of mixed configurations.
    same = [
        {**_record("salun", s, 1.0, 0.5), "recipe_sha256": "a", "config_sha256": c} for s, c in ((0, "a"), (1, "b"))
    ]
    check_consistent(pd.DataFrame(same).astype({"mask_ratio": float}))


def test_read_results_recomputes_avg_gap_from_the_csv(tmp_path):
    df = collect([_record("retrain", 0, 6.0), _record("salun", 0, 10.0, 0.5)]).assign(avg_gap=99.0)
    df.rename(columns={"split_sha256": "split_hash"}).to_csv(tmp_path / "results.csv", index=False)
    back = read_results(tmp_path).set_index("method")
    assert back.loc["salun", "avg_gap"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no results table"):
        read_results(tmp_path / "missing")
