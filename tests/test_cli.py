"""Tests of the command line: ``python -m rbmlib linear``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rbmlib.cli import main

MODELS = ["original", "golden", "ft", "rbm", "fbm", "rbm_masked", "fbm_masked"]
# The small instance every command-line test starts from (test_cli_ridge.py reuses it).
ARGS = "linear --d-f 16 --d-o 4 --d-r 20 --n-f 4 --n-r 8 --draws 20 --seed 3".split()


def test_json_output_has_the_documented_shape(capsys):
    assert main([*ARGS, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["settings"] == {
        "d_f": 16,
        "d_o": 4,
        "d_r": 20,
        "n_f": 4,
        "n_r": 8,
        "draws": 20,
        "seed": 3,
        "noise": 0.0,
        "teacher_scales": [1.0, 1.0, 1.0],
        "leak": 0.0,
        "ratio": None,
        # the former keys, still written for readers of the former output
        "d_forget": 16,
        "d_shared": 4,
        "d_retain": 20,
        "n_forget": 4,
        "n_retain": 8,
        "mask_ratio": None,
    }
    assert [row["method"] for row in out["rows"]] == MODELS
    assert [row["model"] for row in out["rows"]] == MODELS  # the former key, still written
    for row in out["rows"]:
        for metric in ("forgetting_loss", "remaining_loss", "fresh_remaining_loss"):
            assert set(row[metric]) == {"mean", "se"}
    golden = out["rows"][1]
    assert golden["forgetting_loss"]["mean"] > 0 and out["rows"][2]["forgetting_loss"]["mean"] < 1e-20


def test_table_output_lists_every_model(capsys):
    assert main(ARGS) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("d_f=16, d_o=4, d_r=20, n_f=4, n_r=8")
    assert lines[1].split()[0] == "method"
    assert [line.split()[0] for line in lines[3:]] == MODELS
    assert "±" in lines[3]


def test_theory_flag_adds_the_closed_form_beside_every_mean(capsys):
    assert main([*ARGS, "--json", "--theory"]) == 0
    rows = {row["method"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    for row in rows.values():
        assert row["model"] == row["method"]
        for metric in ("forgetting_loss", "remaining_loss", "fresh_remaining_loss"):
            assert set(row[metric]) == {"mean", "se", "theory", "theory_kind", "theory_reason"}
            assert (row[metric]["theory"] is None) == (row[metric]["theory_reason"] is not None)
    assert rows["golden"]["forgetting_loss"]["theory"] == pytest.approx(16 + 4 * 16 / 24)
    assert rows["golden"]["fresh_remaining_loss"]["theory"] == pytest.approx(24 - 8)
    assert rows["ft"]["forgetting_loss"]["theory"] == 0.0
    assert rows["original"]["fresh_remaining_loss"]["theory"] > 0  # a deterministic equivalent with overlap
    assert main([*ARGS, "--theory"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "method",
        "forgetting_loss",
        "theory",
        "remaining_loss",
        "theory",
        "fresh_remaining_loss",
        "theory",
    ]
    assert lines[3].split()[-1] != "—" and lines[4].split()[-1] == "16.0"  # original: deterministic equivalent


def test_without_theory_flag_there_is_no_theory(capsys):
    main([*ARGS, "--json"])
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert all(
        "theory" not in row[metric]
        for row in rows
        for metric in ("forgetting_loss", "remaining_loss", "fresh_remaining_loss")
    )


def test_same_seed_gives_identical_json(capsys):
    main([*ARGS, "--json"])
    first = capsys.readouterr().out
    main([*ARGS, "--json"])
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (["--n-r", "30"], "error: not over-parameterised: n_r > d_o + d_r (30 > 4 + 20)"),
        (["--noise", "-1"], "error: noise must be finite and >= 0, got -1.0"),
        (["--draws", "1"], "error: draws must be >= 2 to estimate a standard error, got 1"),
        (["--mask-ratio", "0"], "error: mask ratio (fraction of weights freed) must be in (0, 1], got 0.0"),
        (["--leak", "-0.5"], "error: leak must be finite and >= 0, got -0.5"),
        (["--noise", "nan", "--theory"], "error: noise must be finite and >= 0, got nan"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(override, message):
    proc = subprocess.run(
        [sys.executable, "-m", "rbmlib", *ARGS, *override], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert proc.stdout == ""


def test_mask_rows_follow_propositions_4_2_to_4_4(capsys):
    assert main([*ARGS, "--json", "--theory"]) == 0
    rows = {row["method"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["rbm"]["fresh_remaining_loss"]["mean"] == pytest.approx(
        rows["original"]["fresh_remaining_loss"]["mean"]
    )
    assert 0 < rows["rbm"]["forgetting_loss"]["mean"] < rows["golden"]["forgetting_loss"]["mean"]
    assert rows["fbm"]["remaining_loss"]["mean"] < 1e-20
    assert rows["rbm_masked"]["forgetting_loss"]["theory"] == pytest.approx(16 + 4)  # E||y_f||^2 / n_f
    fbm = rows["fbm"]["forgetting_loss"]  # a deterministic equivalent (Chapter 5) without label noise
    assert fbm["theory"] > rows["rbm"]["forgetting_loss"]["theory"] > 0


def test_leak_and_mask_ratio_change_the_masks_and_void_the_closed_forms(capsys):
    main([*ARGS, "--json", "--theory"])
    plain = {row["method"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    main([*ARGS, "--json", "--theory", "--mask-ratio", "0.3"])
    ratio = json.loads(capsys.readouterr().out)
    rows = {row["method"]: row for row in ratio["rows"]}
    assert ratio["settings"]["ratio"] == ratio["settings"]["mask_ratio"] == 0.3
    assert rows["rbm"]["forgetting_loss"]["mean"] != plain["rbm"]["forgetting_loss"]["mean"]
    assert rows["golden"]["forgetting_loss"] == plain["golden"]["forgetting_loss"]
    assert rows["rbm_masked"]["forgetting_loss"]["theory"] is None
    main([*ARGS, "--json", "--theory", "--leak", "0.2"])
    leaky = {row["method"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert leaky["golden"]["forgetting_loss"]["mean"] != plain["golden"]["forgetting_loss"]["mean"]
    assert all(leaky[m][k]["theory"] is None for m in MODELS for k in ("forgetting_loss", "fresh_remaining_loss"))


def test_negative_seed_is_refused_naming_the_option():
    proc = subprocess.run(
        [sys.executable, "-m", "rbmlib", *ARGS[:-2], "--seed", "-3"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[-1].endswith("error: argument --seed: must be an integer >= 0, got -3")


def test_non_finite_numbers_become_null_in_strict_json():
    from rbmlib.cli import to_json

    assert json.loads(to_json({"a": [float("inf"), 1.0, float("nan")], "b": {"c": -float("inf")}})) == {
        "a": [None, 1.0, None],
        "b": {"c": None},
    }


def test_json_names_the_ratio_convention_and_the_metric_analogues(capsys):
    assert main([*ARGS, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mask_ratio_meaning"] == "fraction of weights freed"
    assert out["metric_analogues"] == {"forgetting_loss": "UA", "remaining_loss": "RA", "fresh_remaining_loss": "TA"}


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    import rbmlib.cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "simulate", interrupted)
    assert main(ARGS) == 130
    assert capsys.readouterr().err == "interrupted: nothing was written\n"


def test_progress_is_shown_only_on_a_terminal(monkeypatch):
    import argparse

    import rbmlib.cli as cli

    args = argparse.Namespace(no_progress=False)
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: False, raising=False)
    assert cli._progress(args, 10**6) is None
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True, raising=False)
    bar = cli._progress(args, 10**6)
    assert bar is not None
    bar.close()
    assert cli._progress(args, 10) is None
    assert cli._progress(argparse.Namespace(no_progress=True), 10**6) is None


def test_former_option_names_still_work_with_one_note_naming_the_new_ones():
    former = "linear --d-forget 16 --d-shared 4 --d-retain 20 --n-forget 4 --n-retain 8 --draws 20 --seed 3".split()
    new = subprocess.run([sys.executable, "-m", "rbmlib", *ARGS, "--json"], capture_output=True, text=True, check=True)
    old = subprocess.run(
        [sys.executable, "-m", "rbmlib", *former, "--json"], capture_output=True, text=True, check=True
    )
    assert old.stdout == new.stdout and new.stderr == ""
    assert old.stderr.splitlines() == [
        "note: renamed options (--d-forget is now --d-f, --d-shared is now --d-o, --d-retain is now --d-r, "
        "--n-forget is now --n-f, --n-retain is now --n-r); the former names still work"
    ]


def test_the_text_table_gives_each_mean_the_decimals_of_its_standard_error():
    from rbmlib.cli import format_table

    rows = [
        {
            "method": "golden",
            "forgetting_loss": {"mean": 15.9996, "se": 1.31, "theory": 16.0},
            "remaining_loss": {"mean": 0.024591, "se": 0.00381},
            "fresh_remaining_loss": {"mean": 1.134e-30, "se": 2.3e-31},
        }
    ]
    line = format_table(rows, settings={"draws": 20}).splitlines()[-1]
    assert line.split()[1:5] == ["16.0", "±", "1.3", "16.0"]  # two digits of the s.e., the closed form alike
    assert "0.0246 ± 0.0038" in line
    assert "1.134e-30 ± 2.3e-31" in line  # round-off: significant digits, not 31 decimals
