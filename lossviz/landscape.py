"""Grids of loss values over a plane, the one convention every figure relies on.

``Z.shape == (len(ys), len(xs))`` and ``Z[i, j] = f(xs[j], ys[i])``: rows follow y, columns follow x,
which is what Plotly's contour and surface traces expect.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from lossviz import models
from lossviz._validation import check_array, check_choice, check_int, check_scalar
from lossviz.batched import single_thread_matmul

__all__ = [
    "BIAS_MODES",
    "PCAPlane",
    "ProjectionCheck",
    "axes_for_domain",
    "filter_normalized_directions",
    "filter_norms",
    "grid",
    "interpolation",
    "interpolation_rise",
    "loss_slice",
    "plane_axes",
    "plane_losses",
    "project",
    "projection_check",
    "slice_axes",
    "trajectory_pca",
]

MAX_RESOLUTION = 1001
# Slices of a many-weight model evaluate every grid point through the whole network.
MAX_SLICE_RESOLUTION = 201


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


# ------------------------------------------------------------------- slices of a many-weight landscape
BIAS_MODES = ("zero", "filter")


_PROGRESS_STEPS = 50


# A progress step evaluates at least this many points, so its fixed costs (threads, scratch) stay small.
_PROGRESS_POINTS = 200


def _check_model(model: object) -> int:
    dim = getattr(model, "dim", None)
    if not (callable(getattr(model, "f", None)) and isinstance(dim, (int, np.integer)) and dim >= 1):
        raise TypeError(f"model must be an objective with f(params) and an integer dim, got "
                        f"{type(model).__name__}")
    return int(dim)


def _check_vector(value: object, name: str, dim: int) -> np.ndarray:
    vector = check_array(value, name)
    if vector.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},) for a model with d = {dim}, got {vector.shape}")
    return vector


def _check_directions(value: object, dim: int, name: str = "directions") -> np.ndarray:
    directions = check_array(value, name)
    if directions.ndim == 1:
        directions = directions[None]
    if directions.ndim != 2 or directions.shape[1] != dim or directions.shape[0] < 1:
        raise ValueError(f"{name} must have shape (m, {dim}) for a model with d = {dim}, "
                         f"got {directions.shape}")
    return directions


# --------------------------------------------------------------------------------------- directions
def _filters(model: models.DataModel, bias_mode: str) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per weight matrix: flat indices (in, out) of its entries and (out,) of its bias, if filters own it."""
    out = []
    slices = model.layer_slices
    for s in slices:
        if s.kind != "weight":
            continue
        weights = np.arange(s.slice.start, s.slice.stop).reshape(s.shape)
        bias = next((b for b in slices if b.kind == "bias" and b.layer == s.layer), None)
        own_bias = None
        if bias is not None and bias_mode == "filter":
            own_bias = np.arange(bias.slice.start, bias.slice.stop)
        out.append((weights, own_bias))
    return out


def filter_norms(model: models.DataModel, params: object, biases: str = "zero") -> np.ndarray:
    r"""Euclidean norm of every filter (unit) of ``params``, layer after layer.

    A filter of a fully connected layer is one unit's incoming weights, column ``j`` of ``W`` of shape
    ``(in, out)`` (with its bias ``b[j]`` when ``biases="filter"``).

    Returns
    -------
    ndarray, shape (sum of layer widths,)
    """
    dim = _check_model(model)
    theta = _check_vector(params, "params", dim)
    check_choice(biases, "biases", BIAS_MODES)
    norms = []
    for weights, bias in _filters(model, biases):
        block = theta[weights]
        if bias is not None:
            block = np.vstack([block, theta[bias][None]])
        norms.append(np.linalg.norm(block, axis=0))
    return np.concatenate(norms)


def filter_normalized_directions(
    model: models.DataModel, params: object, n_directions: int = 2, *, seed: int = 0, biases: str = "zero"
) -> np.ndarray:
    r"""Random directions rescaled filter by filter to the weights' norms (Li et al. 2018, eq. 1).

    Each direction :math:`\delta` is drawn :math:`\mathcal N(0, I)`, then every filter (one unit's
    incoming weights, column ``j`` of each ``W``) is rescaled:
    :math:`\delta_{l,j} \leftarrow \delta_{l,j}\, \lVert \theta_{l,j} \rVert / \lVert \delta_{l,j} \rVert`.
    A unit whose weights are all zero gets a zero direction.

    Parameters
    ----------
    model : DataModel
        Needs ``layer_slices`` (an MLP, or a linear model as the one-layer case).
    params : array_like, shape (d,)
        The weights the directions are normalized to (the trained weights).
    n_directions : int in [1, 8]
    seed : int >= 0
        Seed of ``np.random.default_rng``; direction ``k`` is the ``k``-th draw.
    biases : {"zero", "filter"}
        ``"zero"`` (the paper's ``--xignore biasbn``): biases stay fixed, the direction is 0 there.
        ``"filter"``: a unit's bias belongs to its filter, and ``[W[:, j]; b[j]]`` is normalized together.

    Returns
    -------
    ndarray, shape (n_directions, d)
    """
    dim = _check_model(model)
    theta = _check_vector(params, "params", dim)
    n_directions = check_int(n_directions, "n_directions", low=1, high=8)
    seed = check_int(seed, "seed", low=0)
    check_choice(biases, "biases", BIAS_MODES)
    if not getattr(model, "layer_slices", None):
        raise TypeError(f"model must have layer_slices (an MLP or a linear model), "
                        f"got {type(model).__name__}")
    rng = np.random.default_rng(seed)
    out = np.zeros((n_directions, dim))
    for k in range(n_directions):
        draw = rng.standard_normal(dim)
        for weights, bias in _filters(model, biases):
            index = weights if bias is None else np.vstack([weights, bias[None]])
            direction, reference = draw[index], theta[index]
            size = np.linalg.norm(direction, axis=0)
            scale = np.divide(np.linalg.norm(reference, axis=0), size, out=np.zeros_like(size),
                              where=size > 0)
            out[k, index] = direction * scale
    return out


# ----------------------------------------------------------------------------- losses on a plane, fast
def _check_dtype(dtype: object) -> type:
    try:
        precision = np.dtype(dtype).type  # type: ignore[call-overload]
    except TypeError:
        precision = None
    if precision not in (np.float64, np.float32):
        raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    return precision


def plane_losses(
    model: Any,
    origin: object,
    directions: object,
    coords: object,
    *,
    dtype: type = np.float32,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    r"""Mean loss at many points of an affine subspace: :math:`L(o + \sum_k c_{ik} \delta_k)`.

    Parameters
    ----------
    model : MLP (fast path) or any objective with ``f(params)`` over ``(..., d)``
    origin : array_like, shape (d,)
    directions : array_like, shape (m, d)
    coords : array_like, shape (K, m)
        Row ``i`` holds the coordinates :math:`c_{i1}, \dots, c_{im}` of point ``i``.
    dtype : {np.float32, np.float64}
        Precision of the MLP forward pass; the mean over samples is always accumulated in float64.
    progress : callable, optional
        Called from the calling thread with the fraction done, about 50 times for a large call.

    Returns
    -------
    ndarray, shape (K,)
        float64. Points where the loss overflows give inf or NaN, never a warning.
    """
    dim = _check_model(model)
    center = _check_vector(origin, "origin", dim)
    basis_directions = _check_directions(directions, dim)
    m = basis_directions.shape[0]
    points = check_array(coords, "coords")
    if points.ndim == 1 and m == 1:
        points = points[:, None]
    if points.ndim != 2 or points.shape[1] != m:
        raise ValueError(f"coords must have shape (K, {m}) for {m} direction(s), got {points.shape}")
    precision = _check_dtype(dtype)
    K = points.shape[0]
    out = np.empty(K)
    coefficients = np.concatenate([np.ones((K, 1)), points], axis=1)
    basis = np.vstack([center, basis_directions])
    if not isinstance(model, models.MLP) or not model.hidden:
        with np.errstate(all="ignore"):
            for start in range(0, K, 256):
                out[start: start + 256] = model.f(coefficients[start: start + 256] @ basis)
                if progress is not None:
                    progress(min(1.0, (start + 256) / max(K, 1)))
        return out
    # The model's own affine evaluator builds each chunk of points just before using it; in float32 it
    # is the fast grid path (lossviz.models.MLP._values, two threads). Groups only pace the progress
    # reports, which must come from this thread (Streamlit's widgets live in the script thread).
    if K == 0:
        return out
    n_groups = 1 if progress is None else int(max(1, min(_PROGRESS_STEPS, K // _PROGRESS_POINTS)))
    for index in range(n_groups):
        part = slice(index * K // n_groups, (index + 1) * K // n_groups)
        out[part] = model.f_affine(center, basis_directions, points[part], dtype=precision)
        if progress is not None:
            progress((index + 1) / n_groups)
    return out


# ------------------------------------------------------------------------------------------- slices
def slice_axes(span: float = 1.0, resolution: int = 51) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``linspace(-span, span, resolution)`` for both axes of a slice (0 is on the grid when
    ``resolution`` is odd)."""
    span = check_scalar(span, "span", low=0.0, high=100.0, include_low=False)
    resolution = check_int(resolution, "resolution", low=3, high=MAX_SLICE_RESOLUTION)
    axis = np.linspace(-span, span, resolution)
    return axis, axis.copy()


def loss_slice(
    model: Any,
    center: object,
    directions: object,
    xs: object,
    ys: object,
    *,
    dtype: type = np.float32,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    r"""The loss on a 2-D slice: ``Z[i, j] = L(center + xs[j] * directions[0] + ys[i] * directions[1])``.

    Parameters
    ----------
    center : array_like, shape (d,)
    directions : array_like, shape (2, d)
    xs : array_like, shape (nx,); ys : array_like, shape (ny,)

    Returns
    -------
    Z : ndarray, shape (ny, nx)
        The project's grid convention; non-finite values (overflowing losses) are NaN.
    """
    dim = _check_model(model)
    pair = _check_directions(directions, dim)
    if pair.shape[0] != 2:
        raise ValueError(f"directions must have shape (2, {dim}) for a 2-D slice, got {pair.shape}")
    x = check_array(xs, "xs", ndim=1)
    y = check_array(ys, "ys", ndim=1)
    coords = np.empty((y.size, x.size, 2))
    coords[..., 0] = x[None, :]
    coords[..., 1] = y[:, None]
    Z = plane_losses(model, center, pair, coords.reshape(-1, 2), dtype=dtype, progress=progress)
    Z = Z.reshape(y.size, x.size)
    return np.where(np.isfinite(Z), Z, np.nan)


def interpolation(model: Any, start: object, end: object, alphas: object) -> np.ndarray:
    r"""Loss along the line :math:`L((1-\alpha)\,\theta_0 + \alpha\,\theta_1)`, in float64.

    Parameters
    ----------
    start, end : array_like, shape (d,)
        :math:`\theta_0` (:math:`\alpha = 0`) and :math:`\theta_1` (:math:`\alpha = 1`).
    alphas : array_like, shape (A,)

    Returns
    -------
    ndarray, shape (A,)
    """
    dim = _check_model(model)
    theta0 = _check_vector(start, "start", dim)
    theta1 = _check_vector(end, "end", dim)
    a = check_array(alphas, "alphas", ndim=1)
    return plane_losses(model, theta0, (theta1 - theta0)[None], a[:, None], dtype=np.float64)


def interpolation_rise(alphas: object, values: object) -> float:
    r"""How far the loss climbs back on the way from :math:`\alpha = 0` to :math:`\alpha = 1`:
    :math:`\max_{\alpha \le 1} \big(L(\alpha) - \min_{0 \le \alpha' \le \alpha} L(\alpha')\big)`,
    0 when the loss never increases along the line (Goodfellow et al.'s "monotonic" case).

    Parameters
    ----------
    alphas : array_like, shape (A,), ascending
    values : array_like, shape (A,)
    """
    a = check_array(alphas, "alphas", ndim=1)
    v = check_array(values, "values", ndim=1, finite=False)
    if a.shape != v.shape:
        raise ValueError(f"values must have one entry per alpha ({a.size}), got {v.size}")
    inside = v[(a >= 0) & (a <= 1)]
    inside = inside[np.isfinite(inside)]
    if inside.size < 2:
        return 0.0
    return float(np.max(inside - np.minimum.accumulate(inside)))


# -------------------------------------------------------------------------------------------- PCA
class PCAPlane(NamedTuple):
    r"""A plane through ``origin`` spanned by the top principal directions of some trajectories.

    origin : (d,); directions : (2, d), orthonormal rows; explained_variance_ratio : (2,), the share of
    :math:`\sum_t \lVert \theta_t - o \rVert^2` along each direction; n_points : points used.
    """

    origin: np.ndarray
    directions: np.ndarray
    explained_variance_ratio: np.ndarray
    n_points: int


def _stack_paths(paths: object) -> list[np.ndarray]:
    if isinstance(paths, np.ndarray) or not isinstance(paths, (list, tuple)):
        arrays = [check_array(paths, "paths", finite=False)]
    else:
        arrays = [check_array(p, "paths", finite=False) for p in paths]
    if not arrays or any(a.ndim != 2 or a.shape[0] < 1 for a in arrays):
        raise ValueError(f"paths must be an array (T, d) or a list of such arrays, got shapes "
                         f"{[a.shape for a in arrays]}")
    if any(a.shape[1] != arrays[0].shape[1] for a in arrays):
        raise ValueError(f"every path must have the same number of columns d, "
                         f"got {[a.shape[1] for a in arrays]}")
    return arrays


def _orthonormal_columns(Y: np.ndarray) -> np.ndarray:
    """An orthonormal basis (d, b) of the columns of Y (d, b), by Gram-Schmidt with re-orthogonalization.

    Used instead of LAPACK's QR, which for a 1,218 x 8 matrix took 14 ms of CPU on a busy 2-core machine
    (its OpenBLAS threads spinning) against well under one here. A column that is (numerically) in the span
    of the previous ones is replaced by a unit vector orthogonal to them.
    """
    d, b = Y.shape
    Q = np.zeros((d, b))
    scale = max(float(np.abs(Y).max(initial=0.0)), 1e-300)
    for j in range(b):
        v = Y[:, j].copy()
        for _ in range(2):
            v -= Q[:, :j] @ (Q[:, :j].T @ v)
        size = float(np.linalg.norm(v))
        if size <= 1e-13 * scale * np.sqrt(d):
            v = np.eye(d)[j % d].copy()
            for _ in range(2):
                v -= Q[:, :j] @ (Q[:, :j].T @ v)
            size = float(np.linalg.norm(v))
        Q[:, j] = v / size
    return Q


def _top_right_singular_vectors(M: np.ndarray, k: int, block: int = 8, tol: float = 1e-13,
                                max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` right singular vectors (k, d) and singular values (k,) of M (N, d).

    Block subspace iteration on :math:`M^\top M` with a Rayleigh-Ritz step (an SVD of the small N x b
    matrix :math:`MQ`), run until the top ``k`` singular values settle to ``tol``. A full SVD of a
    3,000 x 1,218 path matrix took 4 s of CPU here; this takes milliseconds, and it is exact when M has
    rank at most ``block`` (a path in a plane).
    """
    N, d = M.shape
    if min(N, d) <= block:
        _, singular, vt = np.linalg.svd(M, full_matrices=False)
        return vt[:k], singular[:k]
    Q = _orthonormal_columns(np.random.default_rng(0).standard_normal((d, block)))
    previous = np.zeros(k)
    for _ in range(max_iter):
        Q = _orthonormal_columns(single_thread_matmul(M.T, single_thread_matmul(M, Q)))
        _, singular, wt = np.linalg.svd(single_thread_matmul(M, Q), full_matrices=False)
        if np.all(np.abs(singular[:k] - previous) <= tol * max(singular[0], 1e-300)):
            break
        previous = singular[:k]
    return (Q @ wt.T).T[:k], singular[:k]


def trajectory_pca(paths: object, origin: object = None) -> PCAPlane:
    r"""The plane through ``origin`` that best fits the points of one or more paths (Li et al. 2018, sec. 7).

    With :math:`M` the rows :math:`\theta_t - o` of every path (rows of diverged runs that are not finite
    are left out) and :math:`M = U S V^\top` its SVD, the plane is :math:`o + \mathrm{span}(v_1, v_2)`:
    of all planes through :math:`o` it has the least total squared distance to the points, and
    :math:`s_k^2 / \sum_i s_i^2` is the share of :math:`\sum_t \lVert\theta_t - o\rVert^2` it keeps
    along :math:`v_k`. The rows are not mean-centred (unlike ``sklearn.decomposition.PCA``), because the
    plane has to pass through :math:`o`, the trained weights whose neighbourhood the picture is about. A path
    lying in a plane through :math:`o` lies exactly in this plane.

    Parameters
    ----------
    paths : array_like (T, d) or list of them
    origin : array_like, shape (d,), optional
        Default: the last finite point of the first path (its trained weights).

    Returns
    -------
    PCAPlane
        Each direction's sign makes the first path's start project to coordinates <= 0.
    """
    arrays = _stack_paths(paths)
    points = np.concatenate(arrays)
    dim = points.shape[1]
    finite = points[np.all(np.isfinite(points), axis=1)]
    if finite.shape[0] == 0:
        raise ValueError("paths have no finite point: every run diverged at its start")
    if origin is None:
        first = arrays[0][np.all(np.isfinite(arrays[0]), axis=1)]
        anchor = first[-1] if len(first) else finite[-1]
    else:
        anchor = _check_vector(origin, "origin", dim)
    offsets = finite - anchor
    vt, singular = _top_right_singular_vectors(offsets, 2)
    directions = np.zeros((2, dim))
    k = min(2, vt.shape[0], dim)
    directions[:k] = vt[:k]
    if k < 2 and dim >= 2:
        # Fewer than two points: complete the pair with a unit vector orthogonal to the first direction.
        spare = np.eye(dim)[np.argmin(np.abs(directions[0]))]
        spare = spare - (spare @ directions[0]) * directions[0]
        directions[1] = spare / np.linalg.norm(spare)
    start = arrays[0][0] - anchor if np.all(np.isfinite(arrays[0][0])) else offsets[0]
    for row in directions:
        if row @ start > 0:
            row *= -1
    total = float(np.sum(offsets ** 2))  # the sum of all squared singular values
    ratio = np.zeros(2)
    if total > 0:
        ratio[:k] = np.minimum(singular[:k] ** 2 / total, 1.0)
    return PCAPlane(anchor.copy(), directions, ratio, int(finite.shape[0]))


def project(plane: PCAPlane, params: object) -> tuple[np.ndarray, np.ndarray]:
    r"""Coordinates on the plane and distance from it: :math:`c = V(\theta - o)`,
    :math:`r = \lVert \theta - o - V^\top c \rVert`.

    Returns
    -------
    coords : ndarray, shape (..., 2); distance : ndarray, shape (...)
        NaN for non-finite rows.
    """
    P = check_array(params, "params", last_dim=plane.origin.shape[0], finite=False)
    offset = (P - plane.origin).reshape(-1, plane.origin.shape[0])
    with np.errstate(invalid="ignore"):
        coords = single_thread_matmul(offset, plane.directions.T)
        residual = offset - single_thread_matmul(coords, plane.directions)
    coords = coords.reshape(P.shape[:-1] + (2,))
    residual = residual.reshape(P.shape)
    return coords, np.linalg.norm(residual, axis=-1)


class ProjectionCheck(NamedTuple):
    """How honest the PCA picture of one path is.

    coords : (T+1, 2) projected path; true_loss : (T+1,) loss at the real weights; plane_loss : (T+1,)
    loss at the projected weights (what the surface shows under the drawn path); distance : (T+1,)
    distance of each point from the plane; relative_distance : distance divided by the path's largest
    distance from the plane's origin (its size in the picture).
    """

    coords: np.ndarray
    true_loss: np.ndarray
    plane_loss: np.ndarray
    distance: np.ndarray
    relative_distance: np.ndarray

    @property
    def max_gap(self) -> float:
        """Largest |true loss - loss on the plane| along the path (NaN rows ignored)."""
        with np.errstate(invalid="ignore"):
            gaps = np.abs(self.true_loss - self.plane_loss)
        return float(np.nanmax(gaps)) if np.isfinite(gaps).any() else float("nan")

    @property
    def max_relative_distance(self) -> float:
        """Largest distance from the plane as a share of the path's size."""
        finite = self.relative_distance[np.isfinite(self.relative_distance)]
        return float(finite.max()) if finite.size else float("nan")


def projection_check(model: Any, plane: PCAPlane, params: object, *, true_loss: object = None,
                     dtype: type = np.float32) -> ProjectionCheck:
    """Project a path onto ``plane`` and compare its true loss with the plane's loss under it.

    Parameters
    ----------
    params : array_like, shape (T+1, d)
    true_loss : array_like, shape (T+1,), optional
        The recorded loss (``Trajectory.loss``); computed with ``model.f`` when omitted.
    """
    dim = _check_model(model)
    P = check_array(params, "params", ndim=2, last_dim=dim, finite=False)
    coords, distance = project(plane, P)
    finite = np.all(np.isfinite(coords), axis=1)
    if true_loss is None:
        loss = np.full(P.shape[0], np.nan)
        if finite.any():
            with np.errstate(all="ignore"):
                loss[finite] = model.f(P[finite])
    else:
        loss = check_array(true_loss, "true_loss", ndim=1, finite=False)
        if loss.shape[0] != P.shape[0]:
            raise ValueError(f"true_loss must have one value per row of params ({P.shape[0]}), "
                             f"got {loss.shape[0]}")
    on_plane = np.full(P.shape[0], np.nan)
    if finite.any():
        on_plane[finite] = plane_losses(model, plane.origin, plane.directions, coords[finite], dtype=dtype)
    with np.errstate(invalid="ignore"):
        extent = float(np.nanmax(np.linalg.norm(P - plane.origin, axis=1), initial=0.0))
    relative = distance / extent if extent > 0 else np.zeros_like(distance)
    return ProjectionCheck(coords, loss, on_plane, distance, relative)


def plane_axes(coords: Sequence[np.ndarray], resolution: int = 51,
               margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Square-cell axes covering every finite projected point, grown by ``margin`` of the range per side.

    Returns ``xs`` (nx,) and ``ys`` (ny,) with ``max(nx, ny) == resolution`` and equal spacing on both
    axes, so distances on the picture are true distances in weight space.
    """
    resolution = check_int(resolution, "resolution", low=3, high=MAX_SLICE_RESOLUTION)
    margin = check_scalar(margin, "margin", low=0.0, high=10.0)
    points = np.concatenate([np.asarray(c, dtype=float).reshape(-1, 2) for c in coords])
    points = points[np.all(np.isfinite(points), axis=1)]
    if points.size == 0:
        points = np.zeros((1, 2))
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float(np.max(high - low))
    extent = extent if extent > 0 else 1.0
    low, high = low - margin * extent, high + margin * extent
    step = float(np.max(high - low)) / (resolution - 1)
    axes = []
    for a, b in zip(low, high):
        count = max(3, round((b - a) / step) + 1)
        middle = (a + b) / 2
        axes.append(middle + step * (np.arange(count) - (count - 1) / 2))
    return axes[0], axes[1]
