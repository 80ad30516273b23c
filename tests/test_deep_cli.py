"""The ``unlearn`` subcommand: exit code 2 with one error line on bad input, results on success."""

from __future__ import annotations

import argparse

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
    argv = ["unlearn", "--dataset", "digits", "--methods", "retrain,ft,salun,rbm", "--seeds", "0",
            "--out", str(tmp_path), "--no-progress"]
    assert _main(argv) == 0
    table = pd.read_csv(tmp_path / "results.csv")
    assert table.method.tolist() == ["retrain", "ft", "salun", "rbm"]
    assert "rbm" in capsys.readouterr().out
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "cells").rglob("*.json")}
    assert _main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "cells").rglob("*.json")} == stamps
