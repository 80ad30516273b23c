"""The shared argument checks: what each admits, and that every refusal names parameter and value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rbmlib import validators
from rbmlib.validators import finite_array, finite_nonnegative, fraction, integer_at_least


@given(st.floats(min_value=0.0, max_value=1e300))
def test_finite_nonnegative_admits_and_converts_every_finite_value_from_zero(x):
    assert finite_nonnegative(x, "noise") == x
    assert type(finite_nonnegative(np.float32(x) if x < 1e30 else x, "noise")) is float


@pytest.mark.parametrize("bad", [-1e-12, -3, math.inf, -math.inf, math.nan])
def test_finite_nonnegative_names_the_parameter_and_the_value(bad):
    with pytest.raises(ValueError) as err:
        finite_nonnegative(bad, "leak")
    assert str(err.value) == f"leak must be finite and >= 0, got {bad}"


@pytest.mark.parametrize("bad", [True, "0.5", b"1", None, [0.5], object()])
def test_a_non_number_is_refused_not_converted(bad):
    with pytest.raises(ValueError, match=r"^lambda must be a real number, got "):
        finite_nonnegative(bad, "lambda")
    with pytest.raises(ValueError, match=r"^ratio must be a real number, got "):
        fraction(bad, "ratio")


def test_numpy_scalars_and_zero_d_arrays_are_numbers():
    assert finite_nonnegative(np.int64(3), "n") == 3.0
    assert finite_nonnegative(np.array(0.25), "noise") == 0.25
    assert fraction(np.float64(1.0), "ratio") == 1.0


@given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True))
def test_fraction_admits_the_half_open_unit_interval(x):
    assert fraction(x, "mask ratio") == x


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.0 + 1e-12, 2, math.nan, math.inf])
def test_fraction_refuses_everything_outside_zero_one(bad):
    with pytest.raises(ValueError) as err:
        fraction(bad, "--mask-ratio")
    assert str(err.value) == f"--mask-ratio must be in (0, 1], got {bad}"


def test_fraction_without_one_is_the_open_interval():
    assert fraction(0.999, "level", include_one=False) == 0.999
    with pytest.raises(ValueError, match=r"^level must be in \(0, 1\), got 1.0$"):
        fraction(1.0, "level", include_one=False)
    with pytest.raises(ValueError, match=r"^level must be in \(0, 1\), got 0$"):
        fraction(0, "level", include_one=False)


@pytest.mark.parametrize(("value", "minimum"), [(0, 0), (5, 1), (np.int32(7), 7)])
def test_integer_at_least_admits_integers_from_the_minimum(value, minimum):
    out = integer_at_least(value, "n_forget", minimum)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "n_forget must be >= 1, got 0"),
        (-4, "n_forget must be >= 1, got -4"),
        (2.0, "n_forget must be an integer, got 2.0"),
        (True, "n_forget must be an integer, got True"),
        ("3", "n_forget must be an integer, got '3'"),
    ],
)
def test_integer_at_least_names_the_parameter_and_the_value(value, message):
    with pytest.raises(ValueError) as err:
        integer_at_least(value, "n_forget", 1)
    assert str(err.value) == message


def test_finite_array_returns_the_array_itself_and_counts_the_bad_entries():
    a = np.ones((2, 3))
    assert finite_array(a, "X") is a
    a[0, 1], a[1, 2] = np.nan, -np.inf
    with pytest.raises(ValueError) as err:
        finite_array(a, "X_r")
    assert str(err.value) == "X_r must be finite, got 2 NaN or infinite entries (shape (2, 3))"


def test_the_library_uses_the_shared_messages():
    # The replaced copies now speak with one voice (spot checks through the public API).
    from rbmlib.experiments import MaskConfig
    from rbmlib.linear_model import BlockSizes
    from rbmlib.regularisation import check_ridge
    from rbmlib.simulation import SimulationConfig

    sizes = BlockSizes(d_f=4, d_o=2, d_r=4, n_f=2, n_r=3)
    with pytest.raises(ValueError, match=r"^noise must be finite and >= 0, got nan$"):
        SimulationConfig(sizes=sizes, draws=10, noise=math.nan)
    with pytest.raises(ValueError, match=r"^mask ratio \(fraction of weights freed\) must be in \(0, 1\], got 0.0$"):
        MaskConfig(ratio=0.0)
    with pytest.raises(ValueError, match=r"^ridge \(weight decay\) lambda must be finite and >= 0, got -1$"):
        check_ridge(-1)


def test_every_check_is_exported():
    assert sorted(validators.__all__) == ["finite_array", "finite_nonnegative", "fraction", "integer_at_least"]
