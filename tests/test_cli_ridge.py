"""Tests of ``python -m rbmlib linear --ridge/--steps/--lr`` (Chapter 7)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rbmlib.cli import main
from rbmlib.experiments import MaskConfig
from rbmlib.linear_model import BlockSizes
from rbmlib.regularised_models import BudgetConfig, simulate_regularised
from rbmlib.simulation import METRICS, SimulationConfig
from tests.test_cli import ARGS

CFG = SimulationConfig(BlockSizes(16, 4, 20, 4, 8), draws=20, seed=3)


def test_ridge_limit_makes_ft_equal_golden_on_every_draw():
    measured, closed, _ = simulate_regularised(CFG, BudgetConfig(ridge=0.1))
    for metric in METRICS:
        for model in ("ft", "rbm", "fbm"):  # reset-then-FT from any start reaches the regularised retrain
            np.testing.assert_allclose(measured[model][metric], measured["golden"][metric], rtol=1e-9, atol=1e-12)
    assert np.all(measured["golden"]["forgetting_loss"] > measured["original"]["forgetting_loss"])


def test_ridge_limit_cli_rows_show_ft_equal_golden(capsys):
    assert main([*ARGS, "--ridge", "0.1", "--json", "--theory"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {row["method"]: row for row in out["rows"]}
    assert out["settings"]["ridge"] == 0.1 and out["settings"]["steps"] is None
    for metric in METRICS:
        assert rows["ft"][metric]["mean"] == pytest.approx(rows["golden"][metric]["mean"], rel=1e-9)
        for row in rows.values():
            assert row[metric]["theory"] == pytest.approx(row[metric]["mean"], rel=1e-8, abs=1e-12)


def test_finite_budget_rows_match_their_closed_forms_per_draw():
    measured, closed, lr = simulate_regularised(CFG, BudgetConfig(ridge=0.05, steps=150), MaskConfig())
    assert lr > 0
    for model in measured:
        for metric in METRICS:
            np.testing.assert_allclose(measured[model][metric], closed[model][metric], rtol=1e-8, atol=1e-10)
    # a finite budget with weight decay leaves FT between the original and the regularised retrain
    ft, golden = measured["ft"]["forgetting_loss"], measured["golden"]["forgetting_loss"]
    assert np.all(ft < golden) and np.all(ft > measured["original"]["forgetting_loss"])


def test_table_output_has_budget_settings(capsys):
    assert main([*ARGS, "--ridge", "0", "--steps", "20", "--lr", "0.05"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "ridge=0.0, steps=20, lr=0.05" in head


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--ridge", "-0.1"], "lambda must be finite and >= 0, got -0.1"),
        (["--ridge", "nan"], "lambda must be finite and >= 0"),
        (["--steps", "2.5"], "steps must be a non-negative integer, got '2.5'"),
        (["--steps", "-3"], "steps must be a non-negative integer, got -3"),
        (["--steps", "ten"], "steps must be a non-negative integer, got 'ten'"),
        (["--steps", "10", "--lr", "5"], "lr = 5.0 is outside the stable range 0 < lr < 2/lambda_max(H)"),
        (["--steps", "10", "--lr", "0"], "outside the stable range"),
        (["--steps", "10", "--lr", "-1"], "outside the stable range"),
        (["--lr", "0.1"], "needs a step budget"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(extra, message):
    result = subprocess.run([sys.executable, "-m", "rbmlib", *ARGS, *extra], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_ridge_zero_limit_is_the_plain_linear_model():
    from rbmlib.experiments import simulate_methods

    measured, closed, _ = simulate_regularised(CFG, BudgetConfig(ridge=0.0))
    plain = simulate_methods(CFG)
    for model in measured:
        for metric in METRICS:
            scale = plain["golden"]["forgetting_loss"].max()  # round-off zeros are compared on the loss scale
            np.testing.assert_allclose(measured[model][metric], plain[model][metric], rtol=1e-7, atol=1e-9 * scale)
            np.testing.assert_allclose(closed[model][metric], plain[model][metric], rtol=1e-7, atol=1e-9 * scale)
