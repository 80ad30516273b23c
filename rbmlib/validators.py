"""The argument checks every module repeats, in one place.

Each check returns the value it accepted (converted: a ``float``, an ``int`` or an ``ndarray``)
and otherwise raises one :class:`ValueError` whose message names the parameter and the offending
value, ``"<name> must be <condition>, got <value>"``; the command lines turn it into their one
``error:`` line. ``name`` is the parameter as the caller's user knows it (``"noise"``,
``"--mask-ratio"``, ``"mask ratio (fraction of weights freed)"``).

NaN fails every check: each condition is written so that a comparison with NaN is false.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

__all__ = [
    "finite_array",
    "finite_nonnegative",
    "fraction",
    "integer_at_least",
]


def _real(value: object, name: str) -> float:
    # A bool is an int (True would pass as 1) and float("0.5") parses a string: both are refused.
    # Anything else float() accepts is a number: Python and numpy scalars, 0-d arrays.
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None


def finite_nonnegative(value: object, name: str) -> float:
    """Accept a finite real number :math:`x \\in [0, \\infty)`.

    Parameters
    ----------
    value : real
        The argument to check (a noise level, a squared norm, a weight-decay strength, ...).
    name : str
        How the error message names it.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    ValueError
        ``"<name> must be finite and >= 0, got <value>"`` for a negative, infinite or NaN value, and
        ``"<name> must be a real number, got <value>"`` for anything that is not a real number.
    """
    x = _real(value, name)
    if not (math.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return x


def fraction(value: object, name: str, *, include_one: bool = True) -> float:
    """Accept a fraction :math:`x \\in (0, 1]`, or :math:`x \\in (0, 1)` with ``include_one=False``.

    A mask ratio (the fraction of weights freed) may be 1, freeing every weight; a forget fraction
    or a confidence level may not.

    Parameters
    ----------
    value : real
        The argument to check.
    name : str
        How the error message names it.
    include_one : bool, default True
        Whether :math:`x = 1` is admitted.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    ValueError
        ``"<name> must be in (0, 1], got <value>"`` (or ``(0, 1)``), or ``"... must be a real number ..."``.
    """
    x = _real(value, name)
    if not (0.0 < x <= 1.0 if include_one else 0.0 < x < 1.0):
        raise ValueError(f"{name} must be in (0, 1{']' if include_one else ')'}, got {value}")
    return x


def integer_at_least(value: object, name: str, minimum: int) -> int:
    """Accept an integer :math:`k \\ge` ``minimum`` (a size, a count, a number of steps).

    Parameters
    ----------
    value : int or numpy integer
        The argument to check; a float such as ``3.0`` or a bool is refused, not converted.
    name : str
        How the error message names it.
    minimum : int
        The smallest admitted value.

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    ValueError
        ``"<name> must be an integer, got <value>"`` or ``"<name> must be >= <minimum>, got <value>"``.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def finite_array(array: object, name: str) -> np.ndarray:
    """Accept an array whose every entry is finite (no NaN, no :math:`\\pm\\infty`).

    Parameters
    ----------
    array : array_like
        The argument to check.
    name : str
        How the error message names it.

    Returns
    -------
    ndarray
        ``np.asarray(array)`` (no copy when ``array`` already is an ndarray).

    Raises
    ------
    ValueError
        ``"<name> must be finite, got <k> NaN or infinite entries (shape <shape>)"``.
    """
    a = np.asarray(array)
    finite = np.isfinite(a)
    if not finite.all():
        bad = int(a.size - np.count_nonzero(finite))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries (shape {a.shape})")
    return a
