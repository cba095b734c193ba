r"""The loss landscape of a small neural network: slices, the training path on them, sharpness.

A network with ``d`` weights has a ``d``-dimensional loss landscape; every picture of it is a low-dimensional
cut, and this module makes the cuts of the research literature fast enough to be interactive:

- **1-D interpolation** (Goodfellow et al. 2015): :math:`L((1-\alpha)\,\theta_0 + \alpha\,\theta_1)` from the
  initial weights :math:`\theta_0` (:math:`\alpha = 0`) to the trained ones (:math:`\alpha = 1`).
- **2-D slice along filter-normalized random directions** (Li et al. 2018):
  :math:`Z_{ij} = L(\theta^* + x_j\,\delta + y_i\,\eta)`, where each unit's incoming weights in
  :math:`\delta` and :math:`\eta` are rescaled to the norm of that unit's weights in :math:`\theta^*`, so a
  step of 1 changes every unit by as much as its own size and slices of different networks are comparable.
- **The PCA plane of the training path** (Li et al. 2018, section 7): the two principal directions of the
  points visited, the path projected on that plane, and what the projection hides: the path's distance
  from the plane and its true loss against the plane's loss at the projected points.
- **Sharpness along training**: the top Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 L(\theta_t))`
  by Lanczos on Hessian-vector products (:func:`lossviz.analysis.top_eigenvalues`) against the gradient
  descent stability limit :math:`2/\mathrm{lr}` (Cohen et al. 2021, "edge of stability").
- **The decision boundary** of the network at any step, on a grid over its two input features.

Speed: :func:`plane_losses` evaluates a whole grid of weight vectors at once through the model's own
float32 grid path (:meth:`lossviz.models.MLP.f_affine`, batched ``np.matmul`` over chunks of points on two
threads), never a forward pass per grid point in a Python loop. This module once had its own evaluator
that formed the first layer from three precomputed products (on a plane, :math:`X W_1 + b_1 = A_0 + a A_1
+ b A_2`); it saved nothing measurable, since writing that layer's pre-activations costs the same either
way, and the model's path took 0.65 s of CPU for the 101x101 benchmark slice against its 0.78 s. Nearly
all that time is the 32 x 33 products at OpenBLAS's single-core peak and the 6.5e8 float32 tanh. The
float32 values agree with :meth:`lossviz.models.MLP.f` in float64 to a relative 1e-5 on well-scaled
networks (pinned in the tests); ``dtype=np.float64`` gives the exact values.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import analysis, datasets, models, optimizers, schedules
from lossviz._validation import check_array, check_choice, check_int, check_scalar
from lossviz.race import build_optimizer, build_schedule
from lossviz.run import Trajectory, run
from lossviz.scenarios import OptimizerSetting

__all__ = [
    "DATASETS", "BIAS_MODES", "MAX_RESOLUTION", "MAX_RUNS", "MAX_STEPS", "MAX_RECORDED_WEIGHTS",
    "build_model", "filter_normalized_directions", "filter_norms", "plane_losses", "slice_axes",
    "loss_slice", "interpolation", "interpolation_rise", "accuracy", "PCAPlane", "trajectory_pca", "project",
    "ProjectionCheck", "projection_check", "plane_axes", "sample_steps", "sharpness",
    "stability_threshold", "input_axes", "decision_grid", "TrainedRun", "train", "LandscapeViews",
    "landscape_views",
    "export_frames",
    "NetScenario", "SCENARIOS",
    "scenario_names", "get_scenario", "torch_model_code", "benchmark_cases",
]

# Datasets with two input features, so the decision boundary is a picture. Iris uses its petal length
# and width (the two features that separate the species).
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "iris")
BIAS_MODES = ("zero", "filter")
MAX_RESOLUTION = 201
MAX_RUNS = 4
MAX_STEPS = 5000
MAX_SAMPLES = 5000
# Every step's weights are kept (for the PCA plane, sharpness and the step slider): 25 million float64
# values are 190 MB, which a page cache holding a few trainings can afford.
MAX_RECORDED_WEIGHTS = 25_000_000

_PROGRESS_STEPS = 50
# A progress step evaluates at least this many points, so its fixed costs (threads, scratch) stay small.
_PROGRESS_POINTS = 200
_ACCURACY_SLICE = 16


# ------------------------------------------------------------------------------------------- the model
def build_model(
    dataset: str = "moons",
    *,
    n_samples: int = 1000,
    noise: float | None = None,
    data_seed: int = 0,
    hidden: Sequence[int] = (32, 32),
    activation: str = "tanh",
    init: str = "he",
    init_scale: float = 1.0,
) -> tuple[models.MLP, datasets.Dataset]:
    """An MLP classifier (softmax cross-entropy) on a two-feature dataset, and the dataset.

    Parameters
    ----------
    dataset : {"moons", "circles", "spirals", "xor", "blobs", "iris"}
        Synthetic generators take ``n_samples``, ``noise`` (None: the generator's default) and
        ``data_seed``; ``iris`` is Fisher's 150 flowers on petal length and width (3 species).
    n_samples : int in [10, 5000]
    hidden, activation, init, init_scale
        As :func:`lossviz.models.mlp`.
    """
    check_choice(dataset, "dataset", DATASETS)
    if dataset == "iris":
        data = replace(datasets.get("iris").select(["petal length (cm)", "petal width (cm)"]),
                       description="Fisher's iris: 150 flowers, petal length and width (cm), 3 species.")
    else:
        params: dict[str, Any] = {"n_samples": check_int(n_samples, "n_samples", low=10, high=MAX_SAMPLES),
                                  "seed": check_int(data_seed, "data_seed", low=0)}
        if noise is not None:
            params["noise"] = check_scalar(noise, "noise", low=0.0, high=5.0)
        data = datasets.get(dataset, **params)
    model = models.mlp(data.X, data.y, hidden=tuple(hidden), activation=activation, init=init,
                       init_scale=init_scale)
    return model, data


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
    resolution = check_int(resolution, "resolution", low=3, high=MAX_RESOLUTION)
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


def accuracy(model: models.DataModel, params: object) -> np.ndarray:
    """Fraction of training samples classified correctly, shape ``(...)`` for params ``(..., d)``.

    Rows with non-finite parameters give NaN.
    """
    dim = _check_model(model)
    P = check_array(params, "params", last_dim=dim, finite=False)
    flat = P.reshape(-1, dim)
    finite = np.all(np.isfinite(flat), axis=1)
    out = np.full(flat.shape[0], np.nan)
    rows = np.flatnonzero(finite)
    # Slices of a few parameter vectors keep the float64 activations in cache: one call over a 1,000-step
    # path allocated 264 MB per layer and took 1.4 s of CPU, slices of 16 take a tenth of that.
    labels_true = model.y.astype(np.int64)
    with np.errstate(all="ignore"):
        for start in range(0, rows.size, _ACCURACY_SLICE):
            part = rows[start: start + _ACCURACY_SLICE]
            out[part] = (model.predict_labels(flat[part]) == labels_true).mean(axis=-1)
    return out.reshape(P.shape[:-1])


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
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((d, block)))[0]
    previous = np.zeros(k)
    for _ in range(max_iter):
        Q = np.linalg.qr(M.T @ (M @ Q))[0]
        _, singular, wt = np.linalg.svd(M @ Q, full_matrices=False)
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
    offset = P - plane.origin
    with np.errstate(invalid="ignore"):
        coords = offset @ plane.directions.T
        residual = offset - coords @ plane.directions
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
    resolution = check_int(resolution, "resolution", low=3, high=MAX_RESOLUTION)
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
        count = max(3, int(round((b - a) / step)) + 1)
        middle = (a + b) / 2
        axes.append(middle + step * (np.arange(count) - (count - 1) / 2))
    return axes[0], axes[1]


# ---------------------------------------------------------------------------------------- sharpness
def sample_steps(n_steps: int, n_points: int) -> np.ndarray:
    """About ``n_points`` evenly spaced step indices in ``[0, n_steps]``, both ends included, ascending."""
    n_steps = check_int(n_steps, "n_steps", low=0)
    n_points = check_int(n_points, "n_points", low=1, high=1000)
    return np.unique(np.linspace(0, n_steps, min(n_points, n_steps + 1)).round().astype(np.int64))


def sharpness(
    model: Any,
    params: object,
    steps: object,
    *,
    n_iter: int = 20,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    r"""Top Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 L(\theta_t))` at the given steps of a path.

    Lanczos with ``n_iter`` Hessian-vector products (:func:`lossviz.analysis.top_eigenvalues`); the top
    eigenvalue of a network's Hessian is well separated, so 20 iterations give it to many digits.

    Parameters
    ----------
    params : array_like, shape (T+1, d)
    steps : array_like of int, shape (S,)
    n_iter : int in [2, 200]

    Returns
    -------
    ndarray, shape (S,)
        NaN where the path has no finite point (after a divergence).
    """
    dim = _check_model(model)
    P = check_array(params, "params", ndim=2, last_dim=dim, finite=False)
    index = np.asarray(steps)
    if index.dtype.kind not in "iu" or index.ndim != 1:
        raise TypeError(f"steps must be a 1-D array of integer step indices, got {index.dtype} "
                        f"of shape {index.shape}")
    if index.size and (index.min() < 0 or index.max() >= P.shape[0]):
        bad = index[(index < 0) | (index >= P.shape[0])][0]
        raise ValueError(f"steps must be in [0, {P.shape[0] - 1}], got {int(bad)}")
    n_iter = min(check_int(n_iter, "n_iter", low=2, high=200), dim)
    seed = check_int(seed, "seed", low=0)
    out = np.full(index.size, np.nan)
    for i, t in enumerate(index):
        point = P[t]
        if np.all(np.isfinite(point)):
            with np.errstate(over="ignore", invalid="ignore"):
                out[i] = analysis.top_eigenvalues(model, point, 1, method="lanczos", n_iter=max(n_iter, 1),
                                                  seed=seed)[0]
        if progress is not None:
            progress((i + 1) / index.size)
    return out


def stability_threshold(optimizer: optimizers.Optimizer, lr: object) -> np.ndarray | None:
    r"""The sharpness above which the optimizer's step is unstable on a quadratic, per learning rate.

    For SGD (torch) with momentum :math:`\beta`, dampening :math:`\tau` and weight decay :math:`w`,
    a direction of curvature :math:`\lambda` is stable iff
    :math:`\mathrm{lr}(1-\tau)(\lambda + w) < c` with :math:`c = 2` (plain), :math:`2(1+\beta)` (heavy ball)
    or :math:`2(1+\beta)/(1+2\beta)` (Nesterov) (:func:`lossviz.analysis.max_stable_lr`); so the limit is
    :math:`c / (\mathrm{lr}(1-\tau)) - w`, which is :math:`2/\mathrm{lr}` for plain gradient descent.
    Adaptive methods rescale each coordinate, so no single line applies: returns None.

    Parameters
    ----------
    lr : array_like
        Learning rate(s) (e.g. ``Trajectory.lr`` per step).

    Returns
    -------
    ndarray of the shape of ``lr`` or None
    """
    if optimizer.name != "sgd":
        return None
    hyper = optimizer.hyperparameters
    momentum = float(hyper.get("momentum", 0.0))
    dampening = float(hyper.get("dampening", 0.0)) if momentum > 0 else 0.0
    constant = float(analysis.max_stable_lr(1.0, momentum, bool(hyper.get("nesterov", False))))
    rates = check_array(lr, "lr", finite=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return constant / (rates * (1.0 - dampening)) - float(hyper.get("weight_decay", 0.0))


# -------------------------------------------------------------------------------- decision boundary
def input_axes(X: object, resolution: int = 81, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Axes over the two input features of ``X`` (n, 2), each grown by ``margin`` on both sides."""
    points = check_array(X, "X", ndim=2)
    if points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(f"X must have shape (n, 2) with n >= 1, got {points.shape}")
    resolution = check_int(resolution, "resolution", low=3, high=MAX_RESOLUTION)
    margin = check_scalar(margin, "margin", low=0.0)
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    high = np.where(high > low, high, low + 1.0)
    return np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)


def decision_grid(model: models.DataModel, params: object, xs: object, ys: object) -> np.ndarray:
    """Class probabilities of the network over a grid of its two input features.

    Parameters
    ----------
    params : array_like, shape (d,)
    xs, ys : array_like, shapes (nx,), (ny,)
        Standardized feature values (the model's input units).

    Returns
    -------
    ndarray, shape (ny, nx, C)
        Softmax of the logits (a one-output model gives ``[1 - p, p]`` with ``p = sigmoid(s)``);
        ``[i, j]`` is the input ``(xs[j], ys[i])``.
    """
    dim = _check_model(model)
    theta = _check_vector(params, "params", dim)
    if model.n_features != 2:
        raise ValueError(f"decision_grid needs a model on 2 input features, got {model.n_features}")
    x = check_array(xs, "xs", ndim=1)
    y = check_array(ys, "ys", ndim=1)
    grid = np.column_stack([np.tile(x, y.size), np.repeat(y, x.size)])
    with np.errstate(over="ignore", under="ignore"):
        s = np.asarray(model.decision_function(theta, grid))
        if s.ndim == 1:
            p = np.where(s >= 0, 1 / (1 + np.exp(-np.abs(s))), np.exp(-np.abs(s)) / (1 + np.exp(-np.abs(s))))
            probs = np.column_stack([1 - p, p])
        else:
            e = np.exp(s - s.max(axis=-1, keepdims=True))
            probs = e / e.sum(axis=-1, keepdims=True)
    return probs.reshape(y.size, x.size, -1)


# ----------------------------------------------------------------------------------------- training
@dataclass(frozen=True, eq=False)
class TrainedRun:
    """One optimizer trained from the shared initialization.

    trajectory : Trajectory with params (T+1, d), loss, grad_norm, lr; accuracy : (T+1,) training accuracy.
    """

    label: str
    setting: OptimizerSetting
    batch_size: int | None
    optimizer: optimizers.Optimizer
    schedule: schedules.Schedule | None
    trajectory: Trajectory
    accuracy: np.ndarray

    @property
    def last_finite_step(self) -> int:
        """The last step whose weights are finite (the final step unless the run diverged)."""
        rows = np.flatnonzero(np.all(np.isfinite(self.trajectory.params), axis=1))
        return int(rows[-1]) if rows.size else 0


def train(
    model: models.MLP,
    settings: Sequence[OptimizerSetting],
    steps: int,
    *,
    init_seed: int = 0,
    batch_sizes: Sequence[int | None] | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> list[TrainedRun]:
    """Train the network with each optimizer from the same initial weights ``model.init_params(init_seed)``.

    Parameters
    ----------
    settings : sequence of OptimizerSetting (1 to 4)
    steps : int in [1, 5000]
    batch_sizes : one per setting, None (or 0) for full-batch gradient descent
    seed : int
        Seed of the mini-batch order (shared by every run).
    """
    if not 1 <= len(settings) <= MAX_RUNS:
        raise ValueError(f"settings must hold 1 to {MAX_RUNS} optimizers, got {len(settings)}")
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    sizes = list(batch_sizes) if batch_sizes is not None else [None] * len(settings)
    if len(sizes) != len(settings):
        raise ValueError(f"batch_sizes must have one entry per optimizer ({len(settings)}), got {len(sizes)}")
    sizes = [None if not b or b >= model.n_samples else check_int(b, "batch_size", low=1) for b in sizes]
    recorded = len(settings) * (steps + 1) * model.dim
    if recorded > MAX_RECORDED_WEIGHTS:
        raise ValueError(
            f"training would record optimizers x (steps + 1) x d = {len(settings)} x {steps + 1} x "
            f"{model.dim:,} = {recorded:,} weights, more than {MAX_RECORDED_WEIGHTS:,} "
            f"({MAX_RECORDED_WEIGHTS * 8 // 2**20} MB): use fewer steps, fewer optimizers or a smaller "
            "network")
    x0 = model.init_params(seed=check_int(init_seed, "init_seed", low=0))
    out = []
    for i, (setting, batch) in enumerate(zip(settings, sizes)):
        optimizer = build_optimizer(setting)
        schedule = build_schedule(setting, optimizer, steps)
        traj = run(model, optimizer, x0, steps, schedule, batch_size=batch, seed=seed)
        label = setting.label or f"{i + 1}. {optimizer.title}"
        out.append(TrainedRun(label, setting, batch, optimizer, schedule, traj, accuracy(model, traj.params)))
        if progress is not None:
            progress((i + 1) / len(settings))
    return out


# ------------------------------------------------------------------------------------- all the views
@dataclass(frozen=True, eq=False)
class LandscapeViews:
    """Everything the page draws for R trained runs (see :func:`landscape_views`).

    alphas : (A,) and interpolation : (R, A), the 1-D loss from each run's initial to its trained weights;
    slice_xs, slice_ys : slice coordinates; slices : (R, ny, nx), the 2-D slice around each run's trained
    weights along its own filter-normalized directions (same seed for every run); plane : the PCA plane of
    all paths through the focus run's trained weights; plane_xs, plane_ys, plane_Z : the loss on it;
    checks : one ProjectionCheck per run; sharpness_steps : (S,); sharpness : (R, S); thresholds : per run
    (S,) stability limits or None (adaptive methods); centers : (R, d) the weights each slice is centred on.
    """

    alphas: np.ndarray
    interpolation: np.ndarray
    slice_xs: np.ndarray
    slice_ys: np.ndarray
    slices: np.ndarray
    centers: np.ndarray
    plane: PCAPlane
    plane_xs: np.ndarray
    plane_ys: np.ndarray
    plane_Z: np.ndarray
    checks: tuple[ProjectionCheck, ...]
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    thresholds: tuple[np.ndarray | None, ...]


def _last_finite(params: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(np.all(np.isfinite(params), axis=1))
    return params[rows[-1] if rows.size else 0]


def landscape_views(
    model: models.MLP,
    runs: Sequence[TrainedRun],
    *,
    focus: int = 0,
    span: float = 1.0,
    resolution: int = 51,
    direction_seed: int = 0,
    biases: str = "zero",
    sharpness_points: int = 20,
    alphas: object = None,
    progress: Callable[[float], None] | None = None,
) -> LandscapeViews:
    """Compute every view of the page for trained ``runs`` in one call, reporting progress.

    Parameters
    ----------
    focus : int
        Index of the run whose trained weights anchor the PCA plane.
    span, resolution : the slices cover ``[-span, span]^2`` with ``resolution`` points per axis; the PCA
        plane grid has ``resolution`` points along its longer axis.
    direction_seed, biases : as :func:`filter_normalized_directions`.
    sharpness_points : int in [2, 200]
        Steps (evenly spaced, both ends included) where the top Hessian eigenvalue is computed.
    alphas : array_like (A,), optional
        Interpolation coefficients; default 101 points on [-0.25, 1.25].
    """
    if not runs:
        raise ValueError("runs must hold at least one trained run")
    focus = check_int(focus, "focus", low=0, high=len(runs) - 1)
    xs, ys = slice_axes(span, resolution)
    points = check_int(sharpness_points, "sharpness_points", low=2, high=200)
    a = np.linspace(-0.25, 1.25, 101) if alphas is None else check_array(alphas, "alphas", ndim=1)
    n_runs, n_steps = len(runs), runs[0].trajectory.n_steps
    steps = sample_steps(n_steps, points)
    # Progress weights in forward passes: a float32 grid point costs about half a float64 pass, one
    # Lanczos iteration two gradients of about three passes each.
    # Progress weights, in units of about 0.2 ms of CPU here: a float32 grid point is half a unit, the PCA
    # and projections three units per recorded point, one sharpness estimate (20 Lanczos iterations) 200.
    grid = xs.size * ys.size
    weights = np.array([n_runs * grid * 0.5, grid * 0.5 + n_runs * (n_steps + 1) * 3,
                        n_runs * steps.size * 200, n_runs * a.size * 0.5])
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])

    def stage(index: int, part: float = 0.0, of: float = 1.0) -> Callable[[float], None] | None:
        if progress is None:
            return None
        low, high = bounds[index], bounds[index + 1]
        return lambda fraction: progress(float(low + (high - low) * (part + fraction) / of))

    centers = np.stack([_last_finite(r.trajectory.params) for r in runs])
    slices = np.empty((n_runs, ys.size, xs.size))
    for i, center in enumerate(centers):
        directions = filter_normalized_directions(model, center, 2, seed=direction_seed, biases=biases)
        slices[i] = loss_slice(model, center, directions, xs, ys, progress=stage(0, i, n_runs))
    paths = [r.trajectory.params for r in runs]
    plane = trajectory_pca([paths[focus], *paths[:focus], *paths[focus + 1:]])
    report = stage(1)
    if report is not None:
        report(0.3)
    checks = tuple(projection_check(model, plane, r.trajectory.params, true_loss=r.trajectory.loss)
                   for r in runs)
    plane_xs, plane_ys = plane_axes([c.coords for c in checks], resolution)
    plane_Z = loss_slice(model, plane.origin, plane.directions, plane_xs, plane_ys,
                         progress=stage(1, 3.0, 4.0))
    sharp = np.empty((n_runs, steps.size))
    thresholds = []
    for i, r in enumerate(runs):
        sharp[i] = sharpness(model, r.trajectory.params, steps, progress=stage(2, i, n_runs))
        # The limit at step t is that of the rate step t uses; the last point reuses the last step's rate.
        lr = r.trajectory.lr[np.minimum(steps, n_steps - 1)]
        thresholds.append(stability_threshold(r.optimizer, lr))
    interp = np.empty((n_runs, a.size))
    for i, (r, center) in enumerate(zip(runs, centers)):
        with np.errstate(all="ignore"):
            interp[i] = interpolation(model, r.trajectory.params[0], center, a)
    if progress is not None:
        progress(1.0)
    return LandscapeViews(a, interp, xs, ys, slices, centers, plane, plane_xs, plane_ys, plane_Z, checks,
                          steps, sharp, tuple(thresholds))


def export_frames(runs: Sequence[TrainedRun], views: LandscapeViews) -> dict[str, pd.DataFrame]:
    """Tables for CSV export: ``"slices"`` (run, alpha, beta, loss), ``"plane"`` (pc1, pc2, loss) and
    ``"trajectories"`` (run, step, loss, accuracy, lr, grad_norm, pc1, pc2, distance_from_plane,
    loss_on_plane, sharpness, stability_limit; the last two only at the sampled steps, NaN elsewhere).

    The weights themselves (d columns per step) are left out; the PyTorch code reproduces them.
    """
    ny, nx = views.slices.shape[1:]
    slices = pd.concat([pd.DataFrame({"run": r.label, "alpha": np.tile(views.slice_xs, ny),
                                      "beta": np.repeat(views.slice_ys, nx), "loss": Z.ravel()})
                        for r, Z in zip(runs, views.slices)], ignore_index=True)
    plane = pd.DataFrame({"pc1": np.tile(views.plane_xs, views.plane_ys.size),
                          "pc2": np.repeat(views.plane_ys, views.plane_xs.size),
                          "loss": views.plane_Z.ravel()})
    frames = []
    for i, (r, check) in enumerate(zip(runs, views.checks)):
        traj = r.trajectory
        n = traj.n_steps + 1
        sharp, limit = np.full(n, np.nan), np.full(n, np.nan)
        sharp[views.sharpness_steps] = views.sharpness[i]
        if views.thresholds[i] is not None:
            limit[views.sharpness_steps] = views.thresholds[i]
        frames.append(pd.DataFrame({
            "run": r.label, "step": np.arange(n), "loss": traj.loss, "accuracy": r.accuracy,
            "lr": np.append(traj.lr, np.nan), "grad_norm": traj.grad_norm, "pc1": check.coords[:, 0],
            "pc2": check.coords[:, 1], "distance_from_plane": check.distance,
            "loss_on_plane": check.plane_loss,
            "sharpness": sharp, "stability_limit": limit}))
    return {"slices": slices, "plane": plane, "trajectories": pd.concat(frames, ignore_index=True)}


# ---------------------------------------------------------------------------------------- scenarios
@dataclass(frozen=True)
class NetScenario:
    """A classroom setting of the Neural net landscape page and the lesson it shows.

    ``batch_sizes`` holds one entry per optimizer, 0 for full-batch gradient descent.
    """

    title: str
    explanation: str
    optimizers: tuple[OptimizerSetting, ...]
    batch_sizes: tuple[int, ...]
    steps: int = 500
    dataset: str = "moons"
    n_samples: int = 1000
    noise: float = 0.2
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    init: str = "he"
    init_scale: float = 1.0


SCENARIOS: dict[str, NetScenario] = {
    "large_lr": NetScenario(
        title="Large learning rate finds flatter regions",
        explanation=(
            "Two full-batch gradient descents from the same weights, lr 0.05 and lr 2. Gradient descent "
            "cannot stay where the sharpness (top Hessian eigenvalue) exceeds 2/lr, so the large rate is "
            "pushed to a flatter region: its sharpness falls to about 2/lr = 1 and hovers there (the edge of "
            "stability), while the small rate's keeps rising, far below its own 2/lr = 40. Now look at the "
            "slices: around the large-rate weights the valley looks *narrower*. Its weights have grown to "
            "about twice the norm, and a filter-normalized slice measures every unit relative to its own "
            "size, so the same ±1 is a twice larger move. Whether a minimum is flat depends on how distance "
            "in weight space is measured (Dinh et al. 2017), which is why Li et al. normalize at all."),
        optimizers=(OptimizerSetting("sgd", {"lr": 0.05}), OptimizerSetting("sgd", {"lr": 2.0})),
        batch_sizes=(0, 0),
        steps=500,
    ),
    "wide_vs_narrow": NetScenario(
        title="Wide vs narrow minima: small batches settle in wider valleys",
        explanation=(
            "The same learning rate (0.5), once with the full-batch gradient and once with mini-batches of "
            "8 samples. Both classify the moons about equally well, but the mini-batch run ends in a region "
            "several times flatter (its top Hessian eigenvalue), as the gradient noise keeps kicking it out "
            "of narrow valleys (Keskar et al. 2017). The filter-normalized slices agree here: on the same "
            "scale, the mini-batch minimum sits in the wider valley."),
        optimizers=(OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("sgd", {"lr": 0.5})),
        batch_sizes=(0, 8),
        steps=1000,
    ),
    "init_scale": NetScenario(
        title="Initialization scale: a tiny initialization starts on a saddle",
        explanation=(
            "Weights drawn at 0.1 times the He scale: every unit works in the linear part of tanh, so the "
            "network is close to a linear classifier and gradient descent stalls on a plateau with a "
            "straight decision boundary (about 87% of the moons). Move the step slider under the decision "
            "boundary to see it, then set the init scale to 1: the plateau is gone."),
        optimizers=(OptimizerSetting("sgd", {"lr": 0.5}),),
        batch_sizes=(0,),
        steps=400,
        init_scale=0.1,
    ),
    "adam_vs_sgd": NetScenario(
        title="Adam and SGD from one start: what a shared plane hides",
        explanation=(
            "Both runs start from the same weights and reach the same accuracy, along different paths. The "
            "PCA plane is fitted to both paths at once: the paths drawn on it are projections, and the "
            "honesty plot shows where the loss under a drawn path differs from the loss the run really had. "
            "Adam rescales every weight separately, so the 2/lr line of gradient descent does not apply "
            "to it."),
        optimizers=(OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam", {"lr": 0.01})),
        batch_sizes=(0, 0),
        steps=500,
    ),
}


def scenario_names() -> list[str]:
    """Names of the page's classroom scenarios."""
    return list(SCENARIOS)


def get_scenario(name: str) -> NetScenario:
    """The scenario ``name`` (ValueError listing the names for an unknown one)."""
    check_choice(name, "scenario", SCENARIOS)
    return SCENARIOS[name]


# ------------------------------------------------------------------------------------ PyTorch model
_TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid"}


def torch_model_code(model: models.MLP) -> str:
    """PyTorch source of the same network (``nn.Sequential`` of ``nn.Linear`` and the activation).

    ``nn.Linear`` stores ``W`` as ``(out, in)``: lossviz's ``W`` of shape ``(in, out)`` is its transpose, so
    ``params`` maps to torch with ``layer.weight = W.T`` and ``layer.bias = b``.
    """
    if not isinstance(model, models.MLP):
        raise TypeError(f"model must be a lossviz MLP, got {type(model).__name__}")
    lines = ["import torch", "from torch import nn", "", "model = nn.Sequential("]
    widths = model.widths
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        lines.append(f"    nn.Linear({fan_in}, {fan_out}),")
        if i < len(widths) - 2:
            lines.append(f"    nn.{_TORCH_ACTIVATIONS[model.activation]}(),")
    lines.append(").double()")
    loss = {"cross_entropy": "nn.CrossEntropyLoss()", "mse": "nn.MSELoss()",
            "binary_cross_entropy_with_logits": "nn.BCEWithLogitsLoss()"}.get(
        model.loss.name, f"None  # lossviz loss {model.loss.name!r}: write it with torch.nn.functional")
    lines.append(f"loss_fn = {loss}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------- benchmark
BENCH_SAMPLES = 1000
BENCH_HIDDEN = (32, 32)


def _bench_slice(resolution: int) -> Callable[[], np.ndarray]:
    model, _ = build_model("moons", n_samples=BENCH_SAMPLES, noise=0.1, hidden=BENCH_HIDDEN)
    theta = model.init_params(seed=0)
    directions = filter_normalized_directions(model, theta, 2, seed=1)
    xs, ys = slice_axes(1.0, resolution)

    def work() -> np.ndarray:
        return loss_slice(model, theta, directions, xs, ys)

    return work


def benchmark_cases() -> list[tuple[str, Callable[[], Any], float | None, str]]:
    """Timed cases for ``python -m lossviz.bench``: ``(name, work, target_seconds or None, note)``.

    The inputs (data, model, directions) are built when this is called, outside any timer; ``work()`` is
    the figure's computation and returns the grid (ny, nx).
    """
    note = (f"MLP 2-32-32-2 (tanh, softmax cross-entropy, d = 1,218) on the {BENCH_SAMPLES:,}-sample moons "
            "data: lossviz.nn_landscape.loss_slice around theta along two filter-normalized directions, "
            "through MLP.f_affine's float32 grid path (batched np.matmul per chunk of grid points, two "
            "threads). About 1.2e10 multiply-adds and 6.5e8 tanh for 101x101: some 0.6 s of CPU here (the "
            "32 x 33 products at OpenBLAS's single-core peak and the tanh at 0.4 ns each), so the 0.5 s "
            "target is met only while both cores are mostly free.")
    return [
        ("nn slice 2-32-32-2, 1,000 samples, 101x101", _bench_slice(101), 0.5, note),
        ("nn slice 2-32-32-2, 1,000 samples, 51x51 (page default)", _bench_slice(51), None, note),
    ]
