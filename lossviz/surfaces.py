"""Two-dimensional test functions ("surfaces") with analytic gradients and Hessians.

A :class:`Surface` is an *objective*: ``f(p)`` maps points of shape ``(..., 2)`` to values of shape
``(...)``, ``grad(p)`` to ``(..., 2)`` and ``hessian(p)`` to ``(..., 2, 2)``; all broadcast over the
leading axes, so a whole grid or a batch of runs is one call.

Use :func:`names` to list the registered surfaces and :func:`get` to build one::

    >>> from lossviz import surfaces
    >>> s = surfaces.get("rosenbrock")
    >>> float(s.f([1.0, 1.0]))
    0.0
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lossviz._validation import check_array, check_choice

__all__ = ["Surface", "names", "get", "register"]

ArrayFn = Callable[[np.ndarray], np.ndarray]
Domain = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2-D objective with value, gradient and Hessian.

    Attributes
    ----------
    name : str
        Registry name (or ``"custom"`` for a typed formula).
    title : str
        Human-readable name, e.g. ``"Rosenbrock"``.
    domain : ((xmin, xmax), (ymin, ymax))
        Default view.
    minima : ndarray, shape (m, 2)
        Known global minimizers; shape ``(0, 2)`` when there is none (a saddle).
    min_value : float or None
        Global minimum value, ``None`` when the function is unbounded below.
    lesson : str
        One sentence on what the surface teaches.
    latex : str
        The formula in LaTeX.
    params : dict
        The parameters it was built with (for URLs and reproducibility).
    log_scale : bool
        True when values span decades, so figures should use log-scaled colors.
    """

    name: str
    title: str
    _f: ArrayFn = field(repr=False)
    _grad: ArrayFn = field(repr=False)
    _hessian: ArrayFn = field(repr=False)
    domain: Domain
    minima: np.ndarray
    min_value: float | None
    lesson: str
    latex: str = ""
    params: dict = field(default_factory=dict)
    log_scale: bool = False

    dim = 2

    def _points(self, p: object) -> np.ndarray:
        return check_array(p, "params", last_dim=2, finite=False)

    def f(self, params: object) -> np.ndarray:
        """Value, shape ``(...)`` for ``params`` of shape ``(..., 2)``."""
        return self._f(self._points(params))

    def grad(self, params: object) -> np.ndarray:
        """Gradient, shape ``(..., 2)``."""
        return self._grad(self._points(params))

    def hessian(self, params: object) -> np.ndarray:
        """Hessian, shape ``(..., 2, 2)``."""
        return self._hessian(self._points(params))


_REGISTRY: dict[str, Callable[..., Surface]] = {}


def register(name: str) -> Callable[[Callable[..., Surface]], Callable[..., Surface]]:
    """Decorator adding a surface factory to the registry under ``name``."""

    def deco(factory: Callable[..., Surface]) -> Callable[..., Surface]:
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Registered surface names, in registry order."""
    return list(_REGISTRY)


def get(name: str, **params: object) -> Surface:
    """Build the surface ``name`` with its parameters (see each factory's docstring).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an out-of-range parameter.
    TypeError
        For a parameter the surface does not take.
    """
    check_choice(name, "surface", _REGISTRY)
    factory = _REGISTRY[name]
    try:
        return factory(**params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"surface {name!r} got an unknown parameter: {exc}") from None
        raise
