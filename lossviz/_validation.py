"""Argument validation shared by the whole core.

Every check raises ``ValueError`` or ``TypeError`` whose message names the parameter, the value it got
and what is allowed, in the spirit of scikit-learn's ``check_scalar``. The UI shows these messages as
they are, so they are written for a person.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "check_scalar",
    "check_choice",
    "check_array",
    "check_int",
    "check_bool",
    "check_per_run",
    "check_objective",
    "check_start",
    "format_range",
]


def format_range(low: float | None, high: float | None, include_low: bool = True,
                 include_high: bool = True) -> str:
    """The interval as messages print it: ``[0, 1)``, ``(0, inf)``; an unbounded end is always open.

    >>> format_range(0, None)
    '[0, inf)'
    >>> format_range(None, 1, include_high=False)
    '(-inf, 1)'
    """
    left = "[" if include_low and low is not None else "("
    right = "]" if include_high and high is not None else ")"
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return f"{left}{lo}, {hi}{right}"


def check_scalar(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> float:
    """Return ``value`` as a finite float after checking it lies in the given interval.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (booleans are refused too).
    ValueError
        If ``value`` is NaN, infinite or outside the interval; the message names ``name``, the value and
        the allowed range.
    """
    # A plain float or int (not a bool) is the common case: checked without the ABC machinery, which was
    # a tenth of a Learning rate rerun (176 schedules built, each checking its settings).
    if type(value) is not float and type(value) is not int and (
            isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        interval = format_range(low, high, include_low, include_high)
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    bad_low = low is not None and (v < low or (v == low and not include_low))
    bad_high = high is not None and (v > high or (v == high and not include_high))
    if bad_low or bad_high:
        interval = format_range(low, high, include_low, include_high)
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return v


def check_int(value: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int after checking ``low <= value <= high`` (either bound optional)."""
    if type(value) is not int and (
            isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an integer in {format_range(low, high)}, got {v!r}")
    return v


def check_bool(value: object, name: str) -> bool:
    """Return ``value`` as a bool; anything but ``True``/``False`` (NumPy's included) is refused.

    >>> check_bool(True, "nesterov")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} of type {type(value).__name__}")
    return bool(value)


def check_per_run(
    value: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> float | np.ndarray:
    """A hyperparameter shared by all runs (returned as a float) or one value per run, shape ``(R,)``.

    An array is copied and made read-only, so the caller reusing its array cannot change a built
    optimizer or schedule. Every element must lie in the interval; the message names the first that
    does not and its index.

    >>> check_per_run(0.1, "lr", low=0)
    0.1
    >>> check_per_run([0.1, 0.2], "lr", low=0)
    array([0.1, 0.2])
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (numbers.Real, bool, np.bool_)):
        return check_scalar(value, name, low=low, high=high, include_low=include_low,
                            include_high=include_high)
    if isinstance(value, str):
        raise TypeError(f"{name} must be a real number or an array of shape (R,), got {value!r}")
    arr = check_array(value, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a scalar or a non-empty array of shape (R,) (one value per run), "
            f"got shape {arr.shape}"
        )
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= (arr < low) if include_low else (arr <= low)
    if high is not None:
        bad |= (arr > high) if include_high else (arr >= high)
    if bad.any():
        index = int(np.argmax(bad))
        interval = format_range(low, high, include_low, include_high)
        raise ValueError(f"{name} must be in {interval} for every run, "
                         f"got {float(arr[index])!r} at index {index}")
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise the message lists the valid names."""
    options: Sequence[str] = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {name} {value!r}; valid names: {', '.join(options)}")
    return value


def check_array(
    x: object,
    name: str,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    last_dim: int | None = None,
    finite: bool = True,
    dtype: type = np.float64,
) -> np.ndarray:
    """Convert ``x`` to an array of ``dtype`` and check its shape and (optionally) finiteness.

    Parameters
    ----------
    x : array_like
    name : str
        Parameter name used in error messages.
    ndim, min_ndim : int, optional
        Exact or minimum number of dimensions.
    last_dim : int, optional
        Required size of the last axis (for example 2 for points of a 2-D surface).
    finite : bool
        Refuse NaN and infinity.
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if last_dim is not None and (arr.ndim == 0 or arr.shape[-1] != last_dim):
        raise ValueError(f"{name} must have shape (..., {last_dim}), got shape {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def check_objective(objective: object) -> int:
    """Return the objective's dimension d after checking it has callable ``f``, ``grad`` and an int ``dim``.

    Every function that takes "an objective" (run, analysis, sweeps) checks it here, so a wrong argument
    gets the same message wherever it is passed.
    """
    if not (callable(getattr(objective, "f", None)) and callable(getattr(objective, "grad", None))):
        raise TypeError(f"objective must have f(params) and grad(params), got {type(objective).__name__}")
    dim = getattr(objective, "dim", None)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) or dim < 1:
        raise TypeError(f"objective must have an integer attribute dim >= 1, got dim={dim!r}")
    return int(dim)


def check_start(x0: object, dim: int, name: str = "x0") -> np.ndarray:
    """``x0`` as a finite float array of shape ``(dim,)``."""
    start = check_array(x0, name)
    if start.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},) for an objective with dim={dim}, "
                         f"got shape {start.shape}")
    return start
