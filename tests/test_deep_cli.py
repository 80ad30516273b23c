"""The ``unlearn`` subcommand: exit code 2 with one error line on bad input, results on success."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rbmlib.deep.cli import add_unlearn_parser

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="rbmlib")
    add_unlearn_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["--dataset", "digits", "--methods", "ft,forget_everything"], "unknown method"),
        (["--dataset", "digits", "--mask-ratio", "0"], "--mask-ratio must be in (0, 1]"),
        (["--dataset", "digits", "--mask-ratio", "1.5"], "--mask-ratio must be in (0, 1]"),
        (["--dataset", "digits", "--scenario", "random:0"], "forget fraction must be in (0, 1)"),
        (["--dataset", "digits", "--scenario", "random:1"], "forget fraction must be in (0, 1)"),
        (["--dataset", "digits", "--scenario", "class:10"], "class id 10 out of range"),
        (["--dataset", "cifar10", "--no-download", "--data-root", "{tmp}/nodata"], "is not available"),
        (["--dataset", "cifar10"], "needs a data root"),
    ],
)
def test_bad_input_exits_2_with_one_error_line_and_writes_nothing(tmp_path, capsys, flags, message):
    out = tmp_path / "out"
    argv = ["unlearn", "--out", str(out), "--no-progress"] + [f.format(tmp=tmp_path) for f in flags]
    assert _main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


def test_argparse_rejects_non_numeric_ratio_with_exit_2(tmp_path):
    with pytest.raises(SystemExit) as exit_:
        _main(["unlearn", "--dataset", "digits", "--out", str(tmp_path), "--mask-ratio", "half"])
    assert exit_.value.code == 2


def test_digits_run_writes_results_and_resumes_without_recomputing(tmp_path, capsys):
    argv = [
        "unlearn",
        "--dataset",
        "digits",
        "--methods",
        "retrain,ft,salun,rbm",
        "--seeds",
        "0",
        "--out",
        str(tmp_path),
        "--no-progress",
    ]
    assert _main(argv) == 0
    table = pd.read_csv(tmp_path / "results.csv")
    assert table.method.tolist() == ["retrain", "ft", "salun", "rbm"]
    assert "rbm" in capsys.readouterr().out
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cells").rglob("*.json")}
    assert _main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cells").rglob("*.json")} == stamps


TINY = ["--methods", "retrain,ft", "--threads", "1", "--no-progress"]


def _one_error_line(capsys, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seeds", "-1"], "--seeds must be non-negative integers, got -1"),
        (["--split-seed", "-3"], "--split-seed must be a non-negative integer, got -3"),
        (["--threads", "0"], "--threads must be >= 1, got 0"),
        (["--executor", "ray", "--workers", "0"], "--workers must be >= 1, got 0"),
    ],
)
def test_bad_numbers_name_their_option(tmp_path, capsys, flags, message):
    assert _main(["unlearn", "--dataset", "digits", "--out", str(tmp_path / "o"), "--no-progress", *flags]) == 2
    _one_error_line(capsys, message)
    assert not (tmp_path / "o").exists()


def test_empty_out_is_an_error_not_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _main(["unlearn", "--dataset", "digits", "--out", "", *TINY]) == 2
    _one_error_line(capsys, "--out is empty")
    assert list(tmp_path.iterdir()) == []


def test_out_under_a_file_names_the_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert _main(["unlearn", "--dataset", "digits", "--out", str(tmp_path / "f" / "sub"), *TINY]) == 2
    _one_error_line(capsys, f"{tmp_path / 'f'} is a file")


def _unwritable_folder(tmp_path):
    # sysfs refuses new entries even to root (a chmod 0555 folder does not stop root).
    if Path("/sys/kernel").is_dir():
        return Path("/sys/kernel")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    return folder


def test_read_only_folder_is_one_error_line(tmp_path, capsys):
    target = _unwritable_folder(tmp_path) / "rbmlib-out"
    assert _main(["unlearn", "--dataset", "digits", "--out", str(target), *TINY]) == 2
    _one_error_line(capsys, str(target), "not writable")


def test_truncated_original_model_is_one_error_line_naming_it(tmp_path, capsys):
    argv = ["unlearn", "--dataset", "digits", "--out", str(tmp_path), *TINY]
    assert _main(argv) == 0
    capsys.readouterr()
    (model,) = tmp_path.glob("originals/digits/seed0-*/model.pt")
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    assert _main(argv[:5] + ["--methods", "ga", "--threads", "1", "--no-progress"]) == 2
    _one_error_line(capsys, str(model.parent), "delete that folder")


def test_foreign_results_csv_is_one_error_line(tmp_path, capsys):
    (tmp_path / "results.csv").write_text("a,b\n")
    assert _main(["unlearn", "--dataset", "digits", "--out", str(tmp_path), *TINY]) == 2
    _one_error_line(capsys, "results.csv was not written by this runner")
    assert (tmp_path / "results.csv").read_text() == "a,b\n"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: (b / "val" / "val_annotations.txt").write_text("val_0.JPEG n01\n"), "no tab-separated"),
        (lambda b: (b / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn99\n"), "'n99'"),
        (lambda b: (b / "train" / "n01" / "images" / "n01_0.JPEG").write_bytes(b"not a jpeg"), "cannot be read"),
        (lambda b: shutil.rmtree(b / "train" / "n01" / "images"), "holds no images"),
        (
            lambda b: (b / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn01\t0\t0\t8\t8\n"),
            "fewer than 2 images of class 'n01'",
        ),
    ],
)
def test_malformed_tinyimagenet_folder_is_one_error_line(tmp_path, capsys, damage, message):
    from PIL import Image

    base = tmp_path / "tiny-imagenet-200"
    rng = np.random.default_rng(0)
    for w in ("n01", "n02"):
        (base / "train" / w / "images").mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(
                base / "train" / w / "images" / f"{w}_{i}.JPEG"
            )
    (base / "val" / "images").mkdir(parents=True)
    lines = []
    for i, w in enumerate(("n01", "n02", "n01", "n02")):  # two per class: one tests, one validates
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(base / "val" / "images" / f"val_{i}.JPEG")
        lines.append(f"val_{i}.JPEG\t{w}\t0\t0\t8\t8\n")
    (base / "val" / "val_annotations.txt").write_text("".join(lines))
    (base / "wnids.txt").write_text("n01\nn02\n")
    damage(base)
    argv = ["unlearn", "--dataset", "tinyimagenet", "--data-root", str(tmp_path), "--out", str(tmp_path / "o"), *TINY]
    assert _main(argv) == 2
    _one_error_line(capsys, message, "re-extract")
    assert not (tmp_path / "o").exists()


def test_interrupt_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    from rbmlib.deep import tasks

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tasks, "evaluate", interrupt)
    assert _main(["unlearn", "--dataset", "digits", "--out", str(tmp_path), *TINY]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("interrupted:")


def test_progress_in_a_log_is_plain_lines_without_escape_codes(tmp_path, capsys):
    argv = ["unlearn", "--dataset", "digits", "--out", str(tmp_path), "--methods", "retrain,ft", "--threads", "1"]
    assert _main(argv) == 0  # capsys: stderr is not a terminal
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err
    assert "cell 1/2 done: retrain random:0.1 seed 0" in err and "cell 2/2 done" in err


def test_scale_out_flags_build_the_documented_executors(tmp_path):
    from rbmlib.deep.cli import _executor
    from rbmlib.deep.executors import LocalExecutor, RayExecutor, SlurmExecutor

    parser = argparse.ArgumentParser(prog="rbmlib")
    add_unlearn_parser(parser.add_subparsers(dest="command", required=True))
    base = ["unlearn", "--dataset", "digits", "--out", str(tmp_path)]
    assert _executor(parser.parse_args(base)) == LocalExecutor()
    ray = parser.parse_args(base + ["--executor", "ray", "--ray-address", "auto", "--gpus-per-task", "0.5"])
    assert _executor(ray) == RayExecutor(address="auto", gpus_per_task=0.5)
    slurm = parser.parse_args(
        base
        + [
            "--executor",
            "slurm",
            "--slurm-partition",
            "gpu",
            "--slurm-time",
            "720",
            "--slurm-gpus",
            "1",
            "--slurm-array-parallelism",
            "16",
        ]
    )
    assert _executor(slurm) == SlurmExecutor(partition="gpu", time_min=720, gpus_per_node=1, array_parallelism=16)
