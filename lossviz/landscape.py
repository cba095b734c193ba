"""Grids of loss values over a plane, the one convention every figure relies on.

``Z.shape == (len(ys), len(xs))`` and ``Z[i, j] = f(xs[j], ys[i])``: rows follow y, columns follow x,
which is what Plotly's contour and surface traces expect.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from lossviz._validation import check_array, check_int

__all__ = ["grid", "axes_for_domain"]

MAX_RESOLUTION = 1001


class Objective2D(Protocol):
    def f(self, params: np.ndarray) -> np.ndarray: ...


def axes_for_domain(
    domain: tuple[tuple[float, float], tuple[float, float]], resolution: int | tuple[int, int] = 101
) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced ``xs`` and ``ys`` covering ``domain`` ``((xmin, xmax), (ymin, ymax))``.

    ``resolution`` is the number of points per axis, or ``(nx, ny)``.
    """
    nx, ny = (resolution, resolution) if np.isscalar(resolution) else resolution
    nx = check_int(nx, "resolution", low=2, high=MAX_RESOLUTION)
    ny = check_int(ny, "resolution", low=2, high=MAX_RESOLUTION)
    box = check_array(domain, "domain")
    if box.shape != (2, 2) or not np.all(box[:, 0] < box[:, 1]):
        raise ValueError(f"domain must be ((xmin, xmax), (ymin, ymax)) with min < max, got {domain!r}")
    return np.linspace(box[0, 0], box[0, 1], nx), np.linspace(box[1, 0], box[1, 1], ny)


def grid(objective: Objective2D, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Evaluate a 2-D objective on the grid ``xs`` x ``ys`` in one vectorized call.

    Parameters
    ----------
    objective : object with ``f(params)`` for params of shape ``(..., 2)``
    xs : ndarray, shape (nx,)
    ys : ndarray, shape (ny,)

    Returns
    -------
    Z : ndarray, shape (ny, nx)
        ``Z[i, j] = f(xs[j], ys[i])``. Non-finite values (where a formula is undefined) are kept as
        NaN so figures show gaps there.
    """
    xs = check_array(xs, "xs", ndim=1)
    ys = check_array(ys, "ys", ndim=1)
    points = np.empty((ys.size, xs.size, 2))
    points[..., 0] = xs[None, :]
    points[..., 1] = ys[:, None]
    with np.errstate(all="ignore"):
        Z = np.asarray(objective.f(points), dtype=np.float64)
    return np.where(np.isfinite(Z), Z, np.nan)
