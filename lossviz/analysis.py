r"""Curvature and the theory of step sizes: Hessians, eigenvalues, stability limits, rates, lr range test.

Near a minimum every smooth loss looks like the quadratic :math:`\tfrac12 (x-x^*)^\top H (x-x^*)`, and on
a quadratic the first-order methods are linear iterations whose fate is decided by :math:`\mathrm{lr}
\cdot \lambda` for each Hessian eigenvalue :math:`\lambda`. This module measures :math:`H` (analytic
where the objective has ``hessian``, otherwise central differences of the gradient), its extreme
eigenvalues (dense, power iteration or Lanczos on Hessian-vector products), and turns them into the
numbers a page draws on top of measured runs:

==========================  ===========================================================================
method (torch ``SGD``)      stable iff (on eigenvalue :math:`\lambda > 0`, :math:`a = \mathrm{lr}\,\lambda`)
==========================  ===========================================================================
gradient descent            :math:`a < 2`
heavy ball (momentum β)     :math:`a < 2(1+\beta)`
Nesterov (momentum β)       :math:`a < 2(1+\beta)/(1+2\beta)`
==========================  ===========================================================================

All three are the linear iteration :math:`z_{t+1} = M z_t` on one eigen-direction, whose characteristic
polynomial is :math:`z^2 - T z + D` with

- heavy ball (torch: :math:`b_t = \beta b_{t-1} + g_t,\ x_{t+1} = x_t - \mathrm{lr}\, b_t`):
  :math:`T = 1 + \beta - a,\ D = \beta`;
- Nesterov (torch: :math:`b_t = \beta b_{t-1} + g_t,\ x_{t+1} = x_t - \mathrm{lr}(g_t + \beta b_t)`):
  with :math:`u_t = \mathrm{lr}\, b_t`, :math:`u_t = \beta u_{t-1} + a x_t` and
  :math:`x_{t+1} = (1 - a(1+\beta)) x_t - \beta^2 u_{t-1}`, so
  :math:`T = (1+\beta)(1-a),\ D = \beta(1-a)`;
- gradient descent is :math:`\beta = 0` (roots :math:`0` and :math:`1 - a`).

The Jury conditions for both roots inside the unit circle are :math:`1 - T + D > 0` (:math:`a > 0`),
:math:`|D| < 1` and :math:`1 + T + D > 0`; the last one gives :math:`2(1+\beta) - a > 0` for heavy ball
and :math:`2(1+\beta) - a(1+2\beta) > 0` for Nesterov, the limits above. The spectral radius (the larger
root modulus) is the asymptotic rate: the error shrinks like :math:`\rho^t`. Dampening is taken as 0
(torch's default; Nesterov requires it) and weight decay belongs in the objective.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from lossviz._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_objective,
    check_scalar,
    check_start,
)
from lossviz.run import Trajectory, run

__all__ = [
    "ADAPTIVE_OPTIMIZERS",
    "Curvature",
    "LRRangeTest",
    "OptimalTuning",
    "adaptive_preconditioners",
    "adaptive_stability_threshold",
    "condition_number",
    "eigenvalues",
    "explain_divergence",
    "explain_stability",
    "find_local_minimum",
    "hessian",
    "hvp",
    "lr_range_test",
    "max_stable_lr",
    "measured_rate",
    "momentum_rate",
    "optimal_hyperparameters",
    "power_iteration",
    "preconditioned_sharpness",
    "reference_curvature",
    "sample_steps",
    "sharpness",
    "stability_threshold",
    "steps_to_reduce",
    "top_eigenvalues",
]

# Central differences of the gradient balance truncation (h^2) against round-off (eps / h) at h ~ eps^(1/3).
_FD_STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)
# Below this many parameters a dense finite-difference Hessian (2d gradients) costs no more than Lanczos.
_DENSE_MAX_DIM = 64
_MAX_DIM_DENSE_HESSIAN = 2000
_FD_BLOCK_VALUES = 2**22
# Points x samples x d per gradient call when a data objective is differentiated at many points at once.
_DATA_EVAL_BUDGET = 2**24


# --------------------------------------------------------------------------------------------- helpers


def _check_point(params: object, dim: int, name: str = "params", single: bool = False) -> np.ndarray:
    point = check_array(params, name)
    if point.ndim == 0 or point.shape[-1] != dim or (single and point.ndim != 1):
        shape = f"({dim},)" if single else f"(..., {dim})"
        raise ValueError(
            f"{name} must have shape {shape} for an objective with dim={dim}, got shape {point.shape}"
        )
    return point


def _grad_rows(objective: Any, points: np.ndarray) -> np.ndarray:
    """``objective.grad`` at points ``(N, d)``, sliced so a data objective never sees too many at once."""
    n_points, dim = points.shape
    n_samples = getattr(objective, "n_samples", None)
    rows = n_points if n_samples is None else max(1, _DATA_EVAL_BUDGET // (int(n_samples) * dim))
    if rows >= n_points:
        return np.asarray(objective.grad(points), dtype=np.float64)
    return np.concatenate(
        [np.asarray(objective.grad(points[i : i + rows]), dtype=np.float64) for i in range(0, n_points, rows)]
    )


def _analytic_hessian(objective: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    candidate = getattr(objective, "hessian", None)
    return candidate if callable(candidate) else None


# --------------------------------------------------------------------------------------------- Hessian
def hessian(objective: Any, params: object, *, method: str = "auto") -> np.ndarray:
    r"""Hessian :math:`\nabla^2 f` at ``params``.

    Parameters
    ----------
    objective : objective
        Anything with ``f``, ``grad`` and ``dim``; an analytic ``hessian(params)`` is used when present.
    params : array_like, shape (..., d)
    method : {"auto", "analytic", "finite_difference"}
        ``"auto"`` uses the analytic Hessian when the objective has one, else finite differences.
        Finite differences are central differences of the gradient,
        :math:`H_{:, j} \approx (\nabla f(x + h_j e_j) - \nabla f(x - h_j e_j)) / (2 h_j)` with
        :math:`h_j = \epsilon^{1/3} \max(1, |x_j|)`, then symmetrized :math:`(H + H^\top)/2`.

    Returns
    -------
    ndarray, shape (..., d, d)
    """
    dim = check_objective(objective)
    check_choice(method, "method", ["auto", "analytic", "finite_difference"])
    point = _check_point(params, dim)
    analytic = _analytic_hessian(objective)
    if method == "analytic" and analytic is None:
        raise ValueError(
            f"method 'analytic' needs an objective with a hessian; {type(objective).__name__} has none "
            "(use method='finite_difference')"
        )
    if analytic is not None and method != "finite_difference":
        return np.asarray(analytic(point), dtype=np.float64)
    if dim > _MAX_DIM_DENSE_HESSIAN:
        raise ValueError(
            f"a dense Hessian needs dim <= {_MAX_DIM_DENSE_HESSIAN}, got dim={dim}; use top_eigenvalues "
            "or hvp, which never form it"
        )
    lead = point.shape[:-1]
    flat = point.reshape(-1, dim)
    steps = _FD_STEP * np.maximum(1.0, np.abs(flat))  # (N, d)
    # Row j of the (N, d, d) result is d grad / d x_j. Coordinates are differentiated in blocks so the
    # shifted points never hold more than about _FD_BLOCK_VALUES numbers.
    columns = np.empty((flat.shape[0], dim, dim))
    block = max(1, _FD_BLOCK_VALUES // (2 * dim * dim))
    with np.errstate(over="ignore", invalid="ignore"):
        if block >= flat.shape[0]:
            columns[:] = _difference_columns(objective, flat, steps, 0, dim)
        else:
            width = max(1, _FD_BLOCK_VALUES // (2 * dim))
            for n in range(flat.shape[0]):
                for j in range(0, dim, width):
                    stop = min(j + width, dim)
                    part = _difference_columns(objective, flat[n : n + 1], steps[n : n + 1], j, stop)
                    columns[n, j:stop] = part[0]
    symmetric = 0.5 * (columns + columns.swapaxes(-1, -2))
    return symmetric.reshape(lead + (dim, dim))


def _difference_columns(
    objective: Any, flat: np.ndarray, steps: np.ndarray, first: int, stop: int
) -> np.ndarray:
    """Central differences of the gradient along coordinates ``first..stop-1``: shape (N, stop-first, d)."""
    n_points, dim = flat.shape
    count = stop - first
    offsets = np.zeros((n_points, count, dim))
    offsets[:, np.arange(count), np.arange(first, stop)] = steps[:, first:stop]
    shifted = np.concatenate([flat[:, None, :] + offsets, flat[:, None, :] - offsets], axis=1)
    grads = _grad_rows(objective, shifted.reshape(-1, dim)).reshape(n_points, 2, count, dim)
    return (grads[:, 0] - grads[:, 1]) / (2.0 * steps[:, first:stop, None])


def hvp(objective: Any, params: object, vector: object) -> np.ndarray:
    r"""Hessian-vector product :math:`\nabla^2 f(x)\, v` without forming the Hessian.

    Exact when the objective provides ``hvp(params, vector)`` or an analytic ``hessian``; otherwise the
    central difference of the gradient along :math:`v`,
    :math:`(\nabla f(x + h v) - \nabla f(x - h v)) / (2h)` with
    :math:`h = \epsilon^{1/3} \max(1, \lVert x \rVert) / \lVert v \rVert`.

    Parameters
    ----------
    params : array_like, shape (d,)
    vector : array_like, shape (..., d)
        One or many directions.

    Returns
    -------
    ndarray, shape (..., d)
    """
    dim = check_objective(objective)
    point = _check_point(params, dim, single=True)
    direction = _check_point(vector, dim, "vector")
    return _hvp(objective, point, direction)


def _hvp(objective: Any, point: np.ndarray, direction: np.ndarray) -> np.ndarray:
    exact = getattr(objective, "hvp", None)
    if callable(exact):
        return np.asarray(exact(point, direction), dtype=np.float64)
    analytic = _analytic_hessian(objective)
    if analytic is not None:
        return np.einsum("ij,...j->...i", np.asarray(analytic(point), dtype=np.float64), direction)
    dim = point.shape[-1]
    flat = direction.reshape(-1, dim)
    norms = np.linalg.norm(flat, axis=-1)
    scale = _FD_STEP * max(1.0, float(np.linalg.norm(point)))
    h = np.where(norms > 0, scale / np.where(norms > 0, norms, 1.0), 0.0)[:, None]
    shifted = np.concatenate([point + h * flat, point - h * flat])
    with np.errstate(over="ignore", invalid="ignore"):
        grads = _grad_rows(objective, shifted)
    n = flat.shape[0]
    products = np.where(h > 0, (grads[:n] - grads[n:]) / np.where(h > 0, 2.0 * h, 1.0), 0.0)
    return products.reshape(direction.shape)


# ----------------------------------------------------------------------------------------- eigenvalues
def eigenvalues(objective: Any, params: object) -> np.ndarray:
    """All Hessian eigenvalues at ``params``, ascending, from the dense Hessian (:func:`hessian`).

    Parameters
    ----------
    params : array_like, shape (..., d)

    Returns
    -------
    ndarray, shape (..., d)
    """
    return np.linalg.eigvalsh(hessian(objective, params))


def power_iteration(
    objective: Any, params: object, *, max_iter: int = 1000, tol: float = 1e-10, seed: int = 0
) -> tuple[float, np.ndarray]:
    r"""Dominant Hessian eigenpair (largest :math:`|\lambda|`) by power iteration on :func:`hvp`.

    :math:`v \leftarrow Hv / \lVert Hv \rVert`, stopping when the Rayleigh quotient :math:`v^\top H v`
    changes by less than ``tol`` relative. Converges like :math:`|\lambda_2 / \lambda_1|^t`, so a close
    second eigenvalue needs many iterations (:func:`top_eigenvalues` uses Lanczos instead).

    Parameters
    ----------
    params : array_like, shape (d,)
    max_iter : int in [1, 100000]
    tol : float > 0
    seed : int >= 0
        Seed of the random start vector.

    Returns
    -------
    eigenvalue : float
        Signed: negative when the dominant curvature is negative.
    eigenvector : ndarray, shape (d,)
        Unit norm.
    """
    dim = check_objective(objective)
    point = _check_point(params, dim, single=True)
    max_iter = check_int(max_iter, "max_iter", low=1, high=100_000)
    tol = check_scalar(tol, "tol", low=0.0, include_low=False)
    seed = check_int(seed, "seed", low=0)
    vector = np.random.default_rng(seed).normal(size=dim)
    vector /= np.linalg.norm(vector)
    estimate = 0.0
    for _ in range(max_iter):
        product = _hvp(objective, point, vector)
        rayleigh = float(vector @ product)
        size = float(np.linalg.norm(product))
        if size == 0.0:
            return 0.0, vector
        vector = product / size
        if abs(rayleigh - estimate) <= tol * abs(rayleigh):
            estimate = rayleigh
            break
        estimate = rayleigh
    return estimate, vector


def _hessian_products(objective: Any, points: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``V (S, d) -> (S, d)``: row i is the Hessian at ``points[i]`` (S, d) times ``V[i]``.

    An objective with ``hessian_operator`` (an MLP) prepares its products once for all the points; any
    other goes through :func:`hvp` point by point.
    """
    operator = getattr(objective, "hessian_operator", None)
    if callable(operator):
        return operator(points)
    return lambda V: np.stack([_hvp(objective, point, v) for point, v in zip(points, V)])


def _lanczos_ritz_values(
    matvec: Callable[[np.ndarray], np.ndarray], dim: int, n_iter: int, seed: int, n_runs: int = 1
) -> np.ndarray:
    """Ritz values (ascending), shape (n_runs, n_iter), of ``n_runs`` Lanczos processes run in lockstep.

    ``matvec`` maps (n_runs, d) to (n_runs, d), one operator per row; every process starts from the same
    ``np.random.default_rng(seed)`` draw and keeps full re-orthogonalization. When a Krylov space closes
    early (an invariant subspace), a fresh random direction orthogonal to it continues that process, so
    repeated eigenvalues are still found.
    """
    generators = [np.random.default_rng(seed) for _ in range(n_runs)]
    basis = np.zeros((n_runs, n_iter + 1, dim))
    alpha = np.zeros((n_runs, n_iter))
    beta = np.zeros((n_runs, n_iter))
    for process, rng in enumerate(generators):
        start = rng.normal(size=dim)
        basis[process, 0] = start / np.linalg.norm(start)

    def orthogonalize(w: np.ndarray, j: int, rows: Any = slice(None)) -> None:
        # One Gram-Schmidt pass loses orthogonality in floating point; a second restores it (Kahan).
        for _ in range(2):
            done = basis[rows, : j + 1]
            w -= np.einsum("sjd,sj->sd", done, np.einsum("sjd,sd->sj", done, w))

    for j in range(n_iter):
        w = np.array(matvec(basis[:, j]), dtype=np.float64)
        alpha[:, j] = np.einsum("sd,sd->s", w, basis[:, j])
        w -= alpha[:, j, None] * basis[:, j]
        if j > 0:
            w -= beta[:, j - 1, None] * basis[:, j - 1]
        orthogonalize(w, j)
        beta[:, j] = np.linalg.norm(w, axis=1)
        if j + 1 == n_iter:
            break
        scale = np.abs(alpha[:, : j + 1]).max(axis=1) + (beta[:, j - 1] if j > 0 else 0.0)
        for process in np.flatnonzero((beta[:, j] <= 1e-10 * scale) | (scale == 0.0)):
            beta[process, j] = 0.0
            fresh = generators[process].normal(size=dim)[None]
            orthogonalize(fresh, j, slice(process, process + 1))
            w[process] = fresh[0]
        basis[:, j + 1] = w / np.linalg.norm(w, axis=1, keepdims=True)
    tridiagonal = np.zeros((n_runs, n_iter, n_iter))
    index = np.arange(n_iter)
    tridiagonal[:, index, index] = alpha
    tridiagonal[:, index[:-1], index[1:]] = beta[:, :-1]
    tridiagonal[:, index[1:], index[:-1]] = beta[:, :-1]
    return np.linalg.eigvalsh(tridiagonal)


def top_eigenvalues(
    objective: Any,
    params: object,
    k: int = 1,
    *,
    method: str = "auto",
    n_iter: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    r"""The ``k`` largest (most positive) Hessian eigenvalues at ``params``, descending.

    Parameters
    ----------
    params : array_like, shape (d,)
    k : int in [1, d]
    method : {"auto", "dense", "lanczos"}
        ``"dense"``: ``eigvalsh`` of :func:`hessian`. ``"lanczos"``: Lanczos on :func:`hvp` (never forms
        the Hessian; one Hessian-vector product per iteration), with full re-orthogonalization.
        ``"auto"``: dense when the objective has an analytic Hessian or ``d <= 64``, else Lanczos.
    n_iter : int, optional
        Lanczos iterations, at most d; default ``min(d, max(3k, 60))``. With ``n_iter = d`` the values
        are exact up to the Hessian-vector products' accuracy.
    seed : int >= 0
        Seed of the Lanczos start vector.

    Returns
    -------
    ndarray, shape (k,)
    """
    dim = check_objective(objective)
    point = _check_point(params, dim, single=True)
    k = check_int(k, "k", low=1, high=dim)
    check_choice(method, "method", ["auto", "dense", "lanczos"])
    seed = check_int(seed, "seed", low=0)
    if method == "auto":
        method = "dense" if _analytic_hessian(objective) is not None or dim <= _DENSE_MAX_DIM else "lanczos"
    if method == "dense":
        return eigenvalues(objective, point)[::-1][:k]
    n_iter = min(dim, max(3 * k, 60)) if n_iter is None else check_int(n_iter, "n_iter", low=k, high=dim)
    ritz = _lanczos_ritz_values(_hessian_products(objective, point[None]), dim, n_iter, seed)[0]
    return ritz[::-1][:k]


def condition_number(objective: Any, params: object) -> float:
    r""":math:`\kappa = \lambda_{\max} / \lambda_{\min}` of the Hessian at ``params``.

    Returns ``inf`` when :math:`\lambda_{\min} \le 0` (not locally strongly convex: a saddle, a flat
    direction or a maximum), where gradient descent has no linear rate to speak of. Exact (dense) for an
    analytic Hessian or d <= 64; otherwise from 100 Lanczos steps, whose extreme Ritz values lie inside
    the spectrum, so the estimate can only err low.

    Parameters
    ----------
    params : array_like, shape (d,)
    """
    dim = check_objective(objective)
    point = _check_point(params, dim, single=True)
    if _analytic_hessian(objective) is not None or dim <= _DENSE_MAX_DIM:
        spectrum = eigenvalues(objective, point)
    else:
        spectrum = _lanczos_ritz_values(_hessian_products(objective, point[None]), dim, min(dim, 100), 0)[0]
    smallest, largest = float(spectrum[0]), float(spectrum[-1])
    return largest / smallest if smallest > 0 else math.inf


# ------------------------------------------------------------------------------------- stability, rates
def _momentum_values(momentum: object, name: str = "momentum") -> np.ndarray:
    beta = check_array(momentum, name)
    if np.any(beta < 0) or np.any(beta >= 1):
        raise ValueError(f"{name} must be in [0, 1) (1 or more never converges), got {momentum!r}")
    return beta


def max_stable_lr(lambda_max: object, momentum: object = 0.0, nesterov: bool = False) -> float | np.ndarray:
    r"""Largest stable learning rate of torch ``SGD`` on curvature ``lambda_max`` (see the module table).

    .. math::
        \mathrm{lr}_{\max} = \frac{2(1+\beta)}{\lambda_{\max}} \ \text{(heavy ball; GD at } \beta = 0),
        \qquad \frac{2(1+\beta)}{(1+2\beta)\,\lambda_{\max}} \ \text{(Nesterov)}

    Parameters
    ----------
    lambda_max : float or array_like
        Largest Hessian eigenvalue; where it is <= 0 there is no limit (``inf``).
    momentum : float or array_like in [0, 1)
        Broadcasts against ``lambda_max``.
    nesterov : bool

    Returns
    -------
    float or ndarray
        Shape ``np.broadcast(lambda_max, momentum).shape``; a float for scalar inputs.
    """
    curvature = check_array(lambda_max, "lambda_max")
    beta = _momentum_values(momentum)
    nesterov = check_bool(nesterov, "nesterov")
    numerator = 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) if nesterov else 1.0)
    with np.errstate(divide="ignore", over="ignore"):  # a subnormal curvature: no finite limit, inf
        limit = np.where(curvature > 0, numerator / np.where(curvature > 0, curvature, 1.0), np.inf)
    return float(limit) if limit.ndim == 0 else limit


def momentum_rate(
    lr: object, beta: object, eigenvalues: object, nesterov: bool = False
) -> float | np.ndarray:
    r"""Spectral radius of GD / heavy-ball / Nesterov (torch ``SGD``) on a quadratic with these eigenvalues.

    For each eigenvalue :math:`\lambda`, with :math:`a = \mathrm{lr}\,\lambda`, the larger root modulus of
    :math:`z^2 - Tz + D`, where :math:`T = 1 + \beta - a,\ D = \beta` (heavy ball, GD at
    :math:`\beta = 0`: :math:`|1 - a|`) or :math:`T = (1+\beta)(1-a),\ D = \beta(1-a)` (Nesterov); the
    result is the maximum over the eigenvalues. Below 1 the error shrinks like :math:`\rho^t`; above 1 it
    grows.

    Parameters
    ----------
    lr : float or array_like, >= 0
    beta : float or array_like in [0, 1]
        Broadcasts against ``lr`` (e.g. a (64, 1) column of lrs and a (64,) row of momenta).
    eigenvalues : float or array_like, shape (m,)
        Hessian eigenvalues (any sign).
    nesterov : bool

    Returns
    -------
    float or ndarray
        Shape ``np.broadcast(lr, beta).shape``; a float for scalar ``lr`` and ``beta``.
    """
    step = check_array(lr, "lr")
    momentum = check_array(beta, "beta")
    if np.any(step < 0):
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    if np.any(momentum < 0) or np.any(momentum > 1):
        raise ValueError(f"beta must be in [0, 1], got {beta!r}")
    spectrum = check_array(eigenvalues, "eigenvalues").reshape(-1)
    if spectrum.size == 0:
        raise ValueError("eigenvalues must hold at least one value")
    nesterov = check_bool(nesterov, "nesterov")
    step, momentum = np.broadcast_arrays(step, momentum)
    a = step[..., None] * spectrum
    b = momentum[..., None]
    if nesterov:
        trace, det = (1.0 + b) * (1.0 - a), b * (1.0 - a)
    else:
        trace, det = 1.0 + b - a, np.broadcast_to(b, a.shape)
    root = np.sqrt((trace * trace - 4.0 * det).astype(np.complex128))
    radius = np.maximum(np.abs(trace + root), np.abs(trace - root)).max(axis=-1) / 2.0
    return float(radius) if radius.ndim == 0 else radius


class OptimalTuning(NamedTuple):
    """Best constant hyperparameters on a quadratic with eigenvalues in [mu, L], and the rate they give."""

    lr: float
    momentum: float
    rate: float


def optimal_hyperparameters(mu: float, L: float, method: str = "gd") -> OptimalTuning:
    r"""The classical optimal tuning on a quadratic with Hessian eigenvalues in :math:`[\mu, L]`.

    With :math:`\kappa = L / \mu`:

    - ``"gd"``: :math:`\mathrm{lr} = 2/(L+\mu)`, rate :math:`(\kappa-1)/(\kappa+1)`;
    - ``"heavy_ball"`` (Polyak): :math:`\mathrm{lr} = 4/(\sqrt L + \sqrt\mu)^2`,
      :math:`\beta = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2`, rate
      :math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)` (both extreme eigenvalues get a double root of modulus
      :math:`\sqrt\beta`, so the error decays like :math:`t\,\rho^t`).

    Parameters
    ----------
    mu : float > 0
        Smallest eigenvalue.
    L : float >= mu
        Largest eigenvalue.
    method : {"gd", "heavy_ball"}
    """
    mu = check_scalar(mu, "mu", low=0.0, include_low=False)
    L = check_scalar(L, "L", low=mu)
    check_choice(method, "method", ["gd", "heavy_ball"])
    kappa = L / mu
    if method == "gd":
        return OptimalTuning(lr=2.0 / (L + mu), momentum=0.0, rate=(kappa - 1.0) / (kappa + 1.0))
    root_kappa = math.sqrt(kappa)
    rate = (root_kappa - 1.0) / (root_kappa + 1.0)
    return OptimalTuning(lr=4.0 / (math.sqrt(L) + math.sqrt(mu)) ** 2, momentum=rate**2, rate=rate)


def measured_rate(errors: object, start: int | None = None, stop: int | None = None) -> float:
    r"""Average contraction per step of a decaying sequence: :math:`(e_{stop} / e_{start})^{1/(stop-start)}`.

    Parameters
    ----------
    errors : array_like, shape (T,)
        For example distances to the minimizer or loss gaps, one per step.
    start, stop : int, optional
        Indices (default: the middle and the last), so the transient at the start is skipped.

    Returns
    -------
    float
        Comparable with :func:`momentum_rate` (for loss gaps, its square).
    """
    values = check_array(errors, "errors", ndim=1, finite=False)
    if values.size < 2:
        raise ValueError(f"errors must hold at least 2 values, got {values.size}")
    last = values.size - 1
    start = last // 2 if start is None else check_int(start, "start", low=0, high=last - 1)
    stop = last if stop is None else check_int(stop, "stop", low=start + 1, high=last)
    first, final = abs(float(values[start])), abs(float(values[stop]))
    if not (np.isfinite(first) and np.isfinite(final)) or first == 0.0:
        raise ValueError(
            f"errors[{start}] and errors[{stop}] must be finite with errors[{start}] != 0, "
            f"got {first!r}, {final!r}"
        )
    return (final / first) ** (1.0 / (stop - start))


def steps_to_reduce(rate: float, factor: float) -> float:
    r"""Steps for an error shrinking like :math:`\rho^t` to fall by ``factor`` :math:`f`.

    That is :math:`\lceil \ln f / \ln(1/\rho) \rceil`; ``inf`` when ``rate >= 1``, 0 when ``factor <= 1``.
    """
    rate = check_scalar(rate, "rate", low=0.0)
    factor = check_scalar(factor, "factor", low=0.0, include_low=False)
    if factor <= 1.0:
        return 0.0
    if rate >= 1.0:
        return math.inf
    if rate == 0.0:
        return 1.0
    return float(math.ceil(math.log(factor) / -math.log(rate) - 1e-12))


# ------------------------------------------------------------------------------------------ explaining
def _method_words(momentum: float, nesterov: bool) -> tuple[str, str]:
    """(name, the limit on lr x lambda_max in words) for torch SGD with these settings."""
    if momentum == 0.0:
        return "gradient descent", "2"
    if nesterov:
        limit = 2 * (1 + momentum) / (1 + 2 * momentum)
        return f"Nesterov momentum (β = {momentum:.3g})", f"2(1+β)/(1+2β) = {limit:.3g}"
    return f"heavy-ball momentum (β = {momentum:.3g})", f"2(1+β) = {2 * (1 + momentum):.3g}"


def explain_stability(lr: float, lambda_max: float, momentum: float = 0.0, nesterov: bool = False) -> str:
    """One or two sentences on whether torch ``SGD`` with this lr is stable on curvature ``lambda_max``.

    For example ``"lr × λ_max = 2.6 > 2: gradient descent overshoots the minimum along the sharpest
    direction by more than it started, so each step overshoots more (the error there grows 1.6× per
    step)."``
    """
    lr = check_scalar(lr, "lr", low=0.0)
    lambda_max = check_scalar(lambda_max, "lambda_max")
    momentum = float(_momentum_values(momentum))
    nesterov = check_bool(nesterov, "nesterov")
    method, limit_words = _method_words(momentum, nesterov)
    if lambda_max <= 0:
        return (
            f"λ_max = {lambda_max:.3g} ≤ 0: the surface curves down or is flat in every direction here, so "
            f"no learning rate is too large for {method} on curvature alone; the run slides downhill."
        )
    product = lr * lambda_max
    limit = lambda_max * float(max_stable_lr(lambda_max, momentum, nesterov))
    rate = float(momentum_rate(lr, momentum, [lambda_max], nesterov))
    largest = float(max_stable_lr(lambda_max, momentum, nesterov))
    if product > limit:
        if momentum == 0.0:
            return (
                f"lr × λ_max = {product:.3g} > 2: gradient descent jumps past the minimum along the sharpest "
                f"direction and lands farther away than it started, so each step overshoots more (the error "
                f"there grows {rate:.3g}× per step). Stable needs lr < 2/λ_max = {largest:.3g}."
            )
        return (
            f"lr × λ_max = {product:.3g} > {limit_words}: with {method} the sharpest direction oscillates "
            f"with growing amplitude (the error there is multiplied by {rate:.3g} each step). Stable needs "
            f"lr < {largest:.3g}."
        )
    if product == limit:
        return (
            f"lr × λ_max = {product:.3g} = {limit_words}: exactly on the stability edge of {method}; the "
            "sharpest direction neither grows nor shrinks."
        )
    return (
        f"lr × λ_max = {product:.3g} < {limit_words}: {method} is stable along the sharpest direction (the "
        f"error there is multiplied by {rate:.3g} each step); the largest stable lr here is {largest:.3g}."
    )


def _per_run(value: Any, run_index: int) -> Any:
    return value[run_index] if isinstance(value, np.ndarray) and value.ndim == 1 else value


def explain_divergence(
    objective: Any,
    optimizer: Any,
    trajectory: Trajectory,
    run_index: int | None = None,
    *,
    max_points: int = 50,
) -> str:
    """Explain in words why run ``run_index`` of ``trajectory`` diverged, from the local curvature.

    For torch ``SGD`` (plain, heavy ball or Nesterov) it looks along the run, up to the step where it
    diverged, for the first point where ``lr × λ_max`` (:math:`\\lambda_{\\max}` of the Hessian there,
    the lr of that step) crossed the stability limit, and explains that step with
    :func:`explain_stability`. Adaptive optimizers get the curvature and the reason the fixed-step limit
    does not transfer to them.

    Parameters
    ----------
    objective, optimizer
        What the trajectory was run with.
    trajectory : Trajectory
        From :func:`lossviz.run.run`.
    run_index : int, optional
        Which run; required when the trajectory holds several.
    max_points : int in [2, 1000]
        Points checked along the run (evenly spaced, always including the start and the last point
        before the divergence); at most 10 when the objective has no analytic Hessian.
    """
    dim = check_objective(objective)
    if not isinstance(trajectory, Trajectory):
        raise TypeError(
            f"trajectory must be a Trajectory from lossviz.run.run, got {type(trajectory).__name__}"
        )
    if trajectory.dim != dim:
        raise ValueError(f"trajectory has dim {trajectory.dim} but the objective has dim={dim}")
    hyperparameters = getattr(optimizer, "hyperparameters", None)
    if not isinstance(hyperparameters, dict):
        raise TypeError(
            f"optimizer must have a dict attribute hyperparameters, got {type(optimizer).__name__}"
        )
    max_points = check_int(max_points, "max_points", low=2, high=1000)
    if trajectory.batched:
        if run_index is None:
            raise ValueError(f"run_index must be given for a trajectory of {trajectory.n_runs} runs")
        run_index = check_int(run_index, "run_index", low=0, high=trajectory.n_runs - 1)
        params, lrs = trajectory.params[run_index], trajectory.lr[run_index]
        loss = trajectory.loss[run_index]
        diverged_at = int(trajectory.diverged_at[run_index])
    else:
        run_index = 0
        params, lrs, loss = trajectory.params, trajectory.lr, trajectory.loss
        diverged_at = int(trajectory.diverged_at)
    label = f"Run {run_index}" if trajectory.batched else "The run"
    if diverged_at < 0:
        final = loss[np.isfinite(loss)][-1] if np.isfinite(loss).any() else float("nan")
        return f"{label} did not diverge (final loss {final:.4g})."
    if diverged_at == 0:
        return f"{label} diverged at its start: the loss, gradient or parameters were not finite there."

    name = getattr(optimizer, "name", type(optimizer).__name__)
    momentum = float(_per_run(hyperparameters.get("momentum", 0.0), run_index))
    nesterov = bool(hyperparameters.get("nesterov", False))
    has_hessian = _analytic_hessian(objective) is not None
    count = min(diverged_at, max_points if has_hessian else min(max_points, 10))
    steps = np.unique(np.round(np.linspace(0, diverged_at - 1, count)).astype(int))
    points = params[steps]
    with np.errstate(over="ignore", invalid="ignore"):
        if has_hessian:
            curvature = np.linalg.eigvalsh(hessian(objective, points))[:, -1]
        else:
            curvature = np.array([top_eigenvalues(objective, p, 1)[0] for p in points])
    step_lrs = lrs[steps]
    header = f"{label} diverged at step {diverged_at} (loss {loss[diverged_at]:.3g})."

    final, previous, first = loss[diverged_at], loss[diverged_at - 1], loss[0]
    if final == -np.inf or (np.isfinite(previous) and previous < first and not final > first):
        return (
            f"{header} The loss fell without bound: the surface has no bottom in the direction the run took, "
            "so it ran off to infinity downhill rather than overshooting (no learning rate fixes that)."
        )
    if name != "sgd":
        title = getattr(optimizer, "title", name)
        start_limit = float(max_stable_lr(curvature[0])) if np.isfinite(curvature[0]) else math.nan
        return (
            f"{header} {title} scales its steps by running gradient statistics, so the fixed-step limit "
            f"lr < 2/λ_max does not apply directly; for reference λ_max = {curvature[0]:.3g} at the start "
            f"(lr = {step_lrs[0]:.3g}, so 2/λ_max = {start_limit:.3g})."
        )
    limits = np.asarray(max_stable_lr(np.where(np.isfinite(curvature), curvature, 0.0), momentum, nesterov))
    unstable = np.isfinite(curvature) & (step_lrs > limits)
    if unstable.any():
        first = int(np.argmax(unstable))
        where = "At the start" if steps[first] == 0 else f"At step {steps[first]}"
        return f"{header} {where}, " + explain_stability(
            float(step_lrs[first]), float(curvature[first]), momentum, nesterov
        )
    finite = np.isfinite(curvature)
    worst = int(np.argmax(np.where(finite, step_lrs * curvature, -np.inf)))
    method, limit_words = _method_words(momentum, nesterov)
    return (
        f"{header} Yet lr × λ_max stayed below the {method} limit {limit_words} at the {steps.size} points "
        f"checked (largest {step_lrs[worst] * curvature[worst]:.3g} at step {steps[worst]}): the local "
        "quadratic picture says stable, so the blow-up came from the curvature changing faster than one "
        "step can follow (a steepening wall), or from between the points checked."
    )


# ------------------------------------------------------------------------------------ lr range test
class LRRangeTest(NamedTuple):
    """Result of :func:`lr_range_test` (arrays of equal length, cut where the loss blew up)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    min_loss_lr: float


def lr_range_test(
    objective: Any,
    optimizer: Any,
    x0: object,
    *,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    smoothing: float | None = None,
    stop_factor: float = 4.0,
    batch_size: int | None = None,
    seed: int = 0,
) -> LRRangeTest:
    r"""Learning-rate range test (Smith 2017; fastai's ``lr_find``).

    One run whose lr grows exponentially, :math:`\mathrm{lr}_t = \mathrm{min\_lr}\,
    (\mathrm{max\_lr}/\mathrm{min\_lr})^{t/(n-1)}` for :math:`t = 0..n-1`; ``losses[t]`` is the loss after
    the step taken with ``lrs[t]`` (the full objective, also with mini-batches). The smoothed curve is
    fastai's debiased exponential average :math:`s_t = \bar\ell_t / (1 - \beta^{t+1})`,
    :math:`\bar\ell_t = \beta \bar\ell_{t-1} + (1-\beta)\ell_t`. The arrays stop at the first step where
    :math:`s_t` exceeds ``stop_factor`` times its minimum so far, or the loss is not finite (that step is
    kept, the rest dropped).

    Parameters
    ----------
    objective, optimizer
        The optimizer's own lr is replaced by the ramp.
    x0 : array_like, shape (d,)
    min_lr, max_lr : float, 0 < min_lr < max_lr
    steps : int in [2, 100000]
    smoothing : float in [0, 1), optional
        :math:`\beta`; default 0.98 (fastai's) with mini-batches, whose losses are noisy, and 0 (no
        smoothing) for full-batch runs, where an average would only make the curve lag behind the lr.
    stop_factor : float > 1
    batch_size, seed
        As in :func:`lossviz.run.run`.

    Returns
    -------
    LRRangeTest
        ``suggestion`` is the lr where the smoothed loss falls fastest per unit of :math:`\ln \mathrm{lr}`
        (steepest negative slope, before the blow-up); ``min_loss_lr`` the lr at the smoothed minimum
        (Smith suggests staying about 10x below it). NaN when fewer than 2 points remain.
    """
    dim = check_objective(objective)
    start = _check_point(x0, dim, "x0", single=True)
    min_lr = check_scalar(min_lr, "min_lr", low=0.0, include_low=False)
    max_lr = check_scalar(max_lr, "max_lr", low=min_lr, include_low=False)
    steps = check_int(steps, "steps", low=2, high=100_000)
    if smoothing is None:
        smoothing = 0.0 if batch_size is None else 0.98
    smoothing = check_scalar(smoothing, "smoothing", low=0.0, high=1.0, include_high=False)
    stop_factor = check_scalar(stop_factor, "stop_factor", low=1.0, include_low=False)
    lrs = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))

    def ramp(t: np.ndarray) -> np.ndarray:
        return lrs[np.asarray(t)]

    trajectory = run(objective, optimizer, start, steps, ramp, batch_size=batch_size, seed=seed)
    if trajectory.batched:
        raise ValueError(
            "lr_range_test runs one learning-rate ramp; give the optimizer scalar hyperparameters"
        )
    losses = trajectory.loss[1:]

    smoothed = np.empty(steps)
    average = 0.0
    # A loss that overflowed to inf (the ramp's expected end) makes 0 * inf = NaN here: cut below.
    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(steps):
            average = smoothing * average + (1.0 - smoothing) * losses[t]
            smoothed[t] = average / (1.0 - smoothing ** (t + 1))
    with np.errstate(invalid="ignore"):
        best_so_far = np.minimum.accumulate(np.where(np.isfinite(smoothed), smoothed, np.inf))
        blown = ~np.isfinite(smoothed) | (smoothed > stop_factor * best_so_far)
    end = int(np.argmax(blown)) + 1 if blown.any() else steps
    lrs, losses, smoothed = lrs[:end], losses[:end], smoothed[:end]
    usable = end - 1 if blown.any() else end
    if usable < 2:
        return LRRangeTest(lrs, losses, smoothed, math.nan, math.nan)
    slope = np.gradient(smoothed[:usable], np.log(lrs[:usable]))
    return LRRangeTest(
        lrs=lrs,
        losses=losses,
        smoothed=smoothed,
        suggestion=float(lrs[int(np.argmin(slope))]),
        min_loss_lr=float(lrs[int(np.argmin(smoothed[:usable]))]),
    )


# ------------------------------------------------------------------------------------------- curvature
# ------------------------------------------------------------------------------------------- curvature
@dataclass(frozen=True, eq=False)
class Curvature:
    """The Hessian spectrum at the point the theory lines are drawn for.

    Attributes
    ----------
    point : ndarray, shape (d,)
    eigenvalues : ndarray, shape (d,)
        Ascending.
    hessian : ndarray, shape (d, d)
    where : str
        Words for the point, e.g. ``"the global minimum at (1, 1)"``.
    is_minimum : bool
        Whether ``point`` is a known global minimizer (else it is the start).
    """

    point: np.ndarray
    eigenvalues: np.ndarray
    hessian: np.ndarray
    where: str
    is_minimum: bool = True

    @property
    def lambda_max(self) -> float:
        return float(self.eigenvalues[-1])

    @property
    def lambda_min(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def max_stable_lr(self) -> float:
        r""":math:`2 / \lambda_{\max}`: gradient descent diverges above it."""
        return float(max_stable_lr(self.lambda_max))

    @property
    def optimal_lr(self) -> float:
        r""":math:`2 / (\lambda_{\max} + \lambda_{\min})`, or NaN when :math:`\lambda_{\min} \le 0`."""
        if self.lambda_min <= 0:
            return math.nan
        return optimal_hyperparameters(self.lambda_min, self.lambda_max, "gd").lr

    @property
    def condition_number(self) -> float:
        return self.lambda_max / self.lambda_min if self.lambda_min > 0 else math.inf


def _point_words(point: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")"


def reference_curvature(objective: Any, x0: object, *, find_minimum: bool = False) -> Curvature:
    """Hessian spectrum at the known global minimum nearest ``x0`` (at ``x0`` if none is known).

    The stability limit of a run that settles into a minimum is set by the curvature there, so that is
    where the theory lines are drawn.

    Parameters
    ----------
    objective : objective
        ``f``, ``grad``, ``dim``; ``minima`` (m, d) is used when present and non-empty.
    x0 : array_like, shape (d,)
    find_minimum : bool
        When the objective lists no minima (e.g. a typed formula), use the local minimum found from
        ``x0`` by :func:`find_local_minimum` instead of ``x0`` itself.

    Raises
    ------
    ValueError
        When the largest eigenvalue there is not finite and positive: then no ``2 / lambda_max`` exists;
        with ``find_minimum``, also when no local minimum is found from ``x0``.
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    minima = np.asarray(getattr(objective, "minima", np.empty((0, dim))), dtype=np.float64)
    known = bool(minima.ndim == 2 and minima.shape[0] and minima.shape[1] == dim)
    if known:
        point = minima[int(np.argmin(np.linalg.norm(minima - start, axis=1)))]
        where = f"the global minimum at {_point_words(point)}"
    elif find_minimum:
        point = find_local_minimum(objective, start)
        where = f"the local minimum found at {_point_words(point)}"
    else:
        point, where = start, f"the start {_point_words(start)}"
    with np.errstate(all="ignore"):
        matrix = np.asarray(hessian(objective, point), dtype=np.float64)
        eigenvalues = np.linalg.eigvalsh(matrix) if np.all(np.isfinite(matrix)) else np.full(dim, np.nan)
    if not (np.all(np.isfinite(eigenvalues)) and eigenvalues[-1] > 0):
        raise ValueError(
            f"the Hessian at {where} has eigenvalues {np.round(eigenvalues, 6).tolist()}: without a finite "
            "positive λ_max there is no stability limit 2/λ_max to draw; choose a surface with a minimum"
        )
    return Curvature(point.copy(), eigenvalues, matrix, where, known or find_minimum)


# Beyond this distance from the origin the search counts the function as decreasing without bound.
_SEARCH_RADIUS = 1e8


_ARMIJO = 1e-4


_MAX_HALVINGS = 60


def find_local_minimum(
    objective: Any, x0: object, *, grad_tol: float = 1e-9, max_iter: int = 500
) -> np.ndarray:
    r"""The local minimum reached by descending from ``x0``: damped Newton, gradient steps as fallback.

    Each iteration takes the Newton direction :math:`p = -H^{-1} \nabla f` where the Hessian :math:`H` is
    positive definite, else :math:`p = -\nabla f`, and halves the step :math:`t` from 1 until the Armijo
    condition :math:`f(x + t p) \le f(x) + 10^{-4}\, t\, \nabla f^\top p` holds. It stops once
    :math:`\lVert \nabla f \rVert \le` ``grad_tol`` and accepts the point only if :math:`H` is positive
    definite there (a strict local minimum, so the curvature lines exist). The analytic ``hessian`` is
    used when the objective has one, else finite differences (:func:`lossviz.analysis.hessian`).

    Parameters
    ----------
    objective : objective
        ``f``, ``grad``, ``dim`` (optionally ``hessian``).
    x0 : array_like, shape (d,)
    grad_tol : float
        Gradient-norm tolerance, in (0, 1).
    max_iter : int
        Iterations allowed, 1 to 10,000.

    Returns
    -------
    ndarray, shape (d,)

    Raises
    ------
    ValueError
        ``"no local minimum found from the start (x, y): <reason>; pick another start or formula"`` when
        the search meets a non-finite value, leaves every bound (the function decreases without bound),
        stops at a point whose Hessian is not positive definite (a saddle or a flat minimum), or runs out
        of iterations.
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    grad_tol = check_scalar(grad_tol, "grad_tol", low=0.0, high=1.0, include_low=False, include_high=False)
    max_iter = check_int(max_iter, "max_iter", low=1, high=10_000)

    def refuse(reason: str) -> ValueError:
        return ValueError(f"no local minimum found from the start {_point_words(start)}: {reason}; "
                          "pick another start or formula")

    point = start.copy()
    with np.errstate(all="ignore"):
        value = float(objective.f(point))
        for _ in range(max_iter):
            gradient = np.asarray(objective.grad(point), dtype=np.float64)
            if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
                raise refuse(f"f or its gradient is not finite at {_point_words(point)}")
            matrix = np.asarray(hessian(objective, point), dtype=np.float64)
            finite_hessian = bool(np.all(np.isfinite(matrix)))
            eigenvalues = np.linalg.eigvalsh(matrix) if finite_hessian else np.full(dim, np.nan)
            if np.linalg.norm(gradient) <= grad_tol:
                if finite_hessian and eigenvalues[0] > 0:
                    return point
                raise refuse(f"the gradient vanishes at {_point_words(point)} but the Hessian there has "
                             f"eigenvalues {np.round(eigenvalues, 6).tolist()}, so it is a saddle or a flat "
                             "point, not a strict minimum")
            direction, newton_step = -gradient, False
            if finite_hessian and eigenvalues[0] > 0:
                newton = -np.linalg.solve(matrix, gradient)
                if np.all(np.isfinite(newton)):
                    direction, newton_step = newton, True
            slope = float(gradient @ direction)
            step = 1.0
            for _ in range(_MAX_HALVINGS):
                trial = point + step * direction
                trial_value = float(objective.f(trial))
                if np.isfinite(trial_value) and trial_value <= value + _ARMIJO * step * slope:
                    break
                step *= 0.5
            else:
                # Rounding in f hides any further decrease: a Newton step this small means we are there.
                if newton_step and np.linalg.norm(direction) <= 1e-8 * (1.0 + np.linalg.norm(point)):
                    return point
                raise refuse(f"no step downhill from {_point_words(point)} (the gradient there has norm "
                             f"{np.linalg.norm(gradient):.3g})")
            point, value = trial, trial_value
            if np.linalg.norm(point) > _SEARCH_RADIUS:
                raise refuse(f"f decreases without bound (the descent passed {_point_words(point)} "
                             f"with f = {value:.4g})")
    raise refuse(f"the gradient norm is still {np.linalg.norm(gradient):.3g} after {max_iter} iterations")


# ------------------------------------------------------------------------------------------- sharpness
# ---------------------------------------------------------------------------------------- sharpness
def sample_steps(n_steps: int, n_points: int) -> np.ndarray:
    """About ``n_points`` evenly spaced step indices in ``[0, n_steps]``, both ends included, ascending."""
    n_steps = check_int(n_steps, "n_steps", low=0)
    n_points = check_int(n_points, "n_points", low=1, high=1000)
    return np.unique(np.linspace(0, n_steps, min(n_points, n_steps + 1)).round().astype(np.int64))


# Points whose Lanczos processes share one batch of Hessian-vector products. On the page's network a product
# cost 0.47 ms per point one at a time, 0.44-0.46 in batches of 2 or 4 and 0.70 in batches of 8, whose
# arrays (2 MB each) no longer fit in a core's cache (measured, CPU time, one BLAS thread).
_LANCZOS_BATCH = 4


def _check_steps(steps: object, n_points: int) -> np.ndarray:
    index = np.asarray(steps)
    if index.dtype.kind not in "iu" or index.ndim != 1:
        raise TypeError(f"steps must be a 1-D array of integer step indices, got {index.dtype} "
                        f"of shape {index.shape}")
    if index.size and (index.min() < 0 or index.max() >= n_points):
        bad = index[(index < 0) | (index >= n_points)][0]
        raise ValueError(f"steps must be in [0, {n_points - 1}], got {int(bad)}")
    return index


def _top_eigenvalue_at(
    model: Any, points: np.ndarray, scales: np.ndarray | None, n_iter: int, seed: int,
    progress: Callable[[float], None] | None,
) -> np.ndarray:
    """Largest eigenvalue of S_i H(points_i) S_i (S_i = diag(scales_i), identity when None), shape (N,).

    NaN for a point (or scale) that is not finite. Lanczos processes run in lockstep, a batch of points at
    a time, so each iteration is one call for the whole batch.
    """
    n_points, dim = points.shape
    out = np.full(n_points, np.nan)
    usable = np.all(np.isfinite(points), axis=1)
    if scales is not None:
        usable &= np.all(np.isfinite(scales), axis=1)
    rows = np.flatnonzero(usable)

    def top(batch: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            products = _hessian_products(model, points[batch])
            if scales is None:
                matvec = products
            else:
                scale = scales[batch]

                def matvec(V: np.ndarray) -> np.ndarray:
                    return scale * products(scale * V)

            return _lanczos_ritz_values(matvec, dim, n_iter, seed, n_runs=batch.size)[:, -1]

    done = 0
    # One thread: two threads over the batches took more wall time than one on a busy 2-core machine (the
    # products are too small to keep the GIL released for long), and more CPU time.
    for start in range(0, rows.size, _LANCZOS_BATCH):
        batch = rows[start: start + _LANCZOS_BATCH]
        out[batch] = top(batch)
        done += batch.size
        if progress is not None:
            progress(done / n_points)
    if progress is not None and done < n_points:
        progress(1.0)
    return out


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

    Lanczos with ``n_iter`` Hessian-vector products (as :func:`lossviz.analysis.top_eigenvalues`), the
    processes of up to eight steps in lockstep; exact products when the model has
    ``hessian_operator`` (an MLP). The top eigenvalue of a network's Hessian is well separated: on the
    page's default network 10 iterations give it to 2e-5 relative and 20 to round-off.

    Parameters
    ----------
    params : array_like, shape (T+1, d)
    steps : array_like of int, shape (S,)
    n_iter : int in [2, 200]

    Returns
    -------
    ndarray, shape (S,)
        NaN where the path has no finite point (after a divergence).

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import models
    >>> net = models.linear_regression(np.array([[1.0], [-1.0], [2.0]]), np.array([0.0, 1.0, 2.0]))
    >>> path = np.zeros((3, 2))  # mse of a line: the Hessian is 2 A^T A / n everywhere
    >>> A = np.array([[1.0, 1.0], [-1.0, 1.0], [2.0, 1.0]])
    >>> bool(np.allclose(sharpness(net, path, np.array([0, 2])), np.linalg.eigvalsh(2 * A.T @ A / 3)[-1]))
    True
    """
    dim = check_objective(model)
    P = check_array(params, "params", ndim=2, last_dim=dim, finite=False)
    index = _check_steps(steps, P.shape[0])
    n_iter = min(check_int(n_iter, "n_iter", low=2, high=200), dim)
    seed = check_int(seed, "seed", low=0)
    return _top_eigenvalue_at(model, P[index], None, n_iter, seed, progress)


def preconditioned_sharpness(
    model: Any,
    params: object,
    steps: object,
    inverse_preconditioner: object,
    *,
    n_iter: int = 20,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    r"""Top eigenvalue of :math:`P_t^{-1} \nabla^2 L(\theta_t)` for diagonal preconditioners :math:`P_t`.

    :math:`P^{-1} H` is similar to the symmetric :math:`P^{-1/2} H P^{-1/2}` (a diagonal :math:`P > 0`),
    whose largest eigenvalue Lanczos finds from products :math:`p \odot H (p \odot v)` with
    :math:`p = \mathrm{diag}(P^{-1})^{1/2}`, never forming either matrix.

    Parameters
    ----------
    params : array_like, shape (T+1, d)
    steps : array_like of int, shape (S,)
    inverse_preconditioner : array_like, shape (S, d)
        :math:`\mathrm{diag}(P_t^{-1}) \ge 0` at each step (:func:`adaptive_preconditioners`).
    n_iter : int in [2, 200]

    Returns
    -------
    ndarray, shape (S,)
        NaN where the point or its preconditioner is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import models
    >>> net = models.linear_regression(np.array([[1.0], [-1.0], [2.0]]), np.array([0.0, 1.0, 2.0]))
    >>> A = np.array([[1.0, 1.0], [-1.0, 1.0], [2.0, 1.0]])
    >>> p_inv = np.array([[4.0, 0.5]])
    >>> value = preconditioned_sharpness(net, np.zeros((1, 2)), np.array([0]), p_inv)
    >>> bool(np.allclose(value, np.linalg.eigvals(np.diag(p_inv[0]) @ (2 * A.T @ A / 3)).real.max()))
    True
    """
    dim = check_objective(model)
    P = check_array(params, "params", ndim=2, last_dim=dim, finite=False)
    index = _check_steps(steps, P.shape[0])
    inverse = check_array(inverse_preconditioner, "inverse_preconditioner", ndim=2, finite=False)
    if inverse.shape != (index.size, dim):
        raise ValueError(f"inverse_preconditioner must have shape ({index.size}, {dim}), one row per step, "
                         f"got {inverse.shape}")
    if np.any(inverse < 0):
        raise ValueError("inverse_preconditioner must be >= 0 (a diagonal P^-1 of positive entries)")
    n_iter = min(check_int(n_iter, "n_iter", low=2, high=200), dim)
    seed = check_int(seed, "seed", low=0)
    return _top_eigenvalue_at(model, P[index], np.sqrt(inverse), n_iter, seed, progress)


ADAPTIVE_OPTIMIZERS = ("adam", "adamw", "nadam", "radam", "adamax")


def _is_adaptive(optimizer: Any) -> bool:
    if getattr(optimizer, "name", None) in ADAPTIVE_OPTIMIZERS:
        return True
    try:
        state = optimizer.init(np.zeros((1, 1)))
    except (TypeError, ValueError):
        return False
    return "exp_avg_sq" in getattr(state, "_fields", ())


def _beta1(optimizer: Any) -> float:
    betas = optimizer.hyperparameters.get("betas", (0.9, 0.999))
    return float(np.asarray(betas[0]).reshape(-1)[0])


def adaptive_preconditioners(
    optimizer: Any, params: object, grads: object, lr: object, steps: object
) -> np.ndarray | None:
    r"""Adam's preconditioner :math:`\mathrm{diag}(P^{-1})` at the given steps of a recorded run.

    Adam (torch) is the preconditioned momentum method :math:`\theta_{t} = \theta_{t-1} - \eta\,
    P_t^{-1} m_t` with :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t` and

    .. math:: P_t = (1 - \beta_1^t)\,\big[\mathrm{diag}(\sqrt{\hat v_t}) + \epsilon I\big],
              \qquad \hat v_t = v_t / (1 - \beta_2^t),

    as in Cohen et al., "Adaptive gradient methods at the edge of stability" (2022, sec. 2 and
    appendix), whose stability threshold for this form is :func:`adaptive_stability_threshold`. At a
    recorded point :math:`\theta_t` (``params[t]``) the preconditioner is that of the step leaving it, the
    state after the update with ``grads[t]`` (torch's step count ``t + 1``); at the last point, from which
    no step leaves, the update is taken with the last step's rate all the same. Every optimizer in the
    Adam family is written through its own per-coordinate step size ``optimizer.effective_lr`` with
    :math:`\eta = 1`, so :math:`P^{-1} = \mathrm{effective\_lr} / (1 - \beta_1^t)`: amsgrad uses
    :math:`\max v`, Adamax its infinity norm, RAdam its rectified rate (and :math:`P = (1-\beta_1^t) I`
    while it is not rectified), NAdam Adam's :math:`P` (for its Nesterov momentum the threshold is an
    approximation).

    Parameters
    ----------
    optimizer : Optimizer
        The run's optimizer, with scalar hyperparameters (one run).
    params, grads : array_like, shape (T+1, d)
        ``Trajectory.params`` and ``Trajectory.grads`` (``run(..., record_grads=True)``): the state is
        rebuilt by replaying the optimizer on the gradients it used, mini-batch ones included.
    lr : array_like, shape (T,)
        ``Trajectory.lr``, the rate of each step (it changes only the parameters, not the moments).
    steps : array_like of int, shape (S,)

    Returns
    -------
    ndarray, shape (S, d), or None
        NaN rows where the run had diverged; None for an optimizer that is not adaptive (no
        ``exp_avg_sq`` in its state and not Adamax).

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers
    >>> adam = optimizers.get("adam", lr=0.1)
    >>> grads = np.array([[0.5, -2.0], [0.5, -2.0]])
    >>> p_inv = adaptive_preconditioners(adam, np.zeros((2, 2)), grads, [0.1], np.array([0]))
    >>> np.round(p_inv * (1 - 0.9) * (np.abs(grads[0]) + 1e-8), 6)  # (1 - beta1) (sqrt(v_hat) + eps) P^-1
    array([[1., 1.]])
    """
    if not _is_adaptive(optimizer):
        return None
    P = check_array(params, "params", ndim=2, finite=False)
    G = check_array(grads, "grads", ndim=2, finite=False)
    if G.shape != P.shape:
        raise ValueError(f"grads must have the shape of params {P.shape}, got {G.shape}")
    rates = check_array(lr, "lr", ndim=1, finite=False)
    if rates.shape[0] != P.shape[0] - 1:
        raise ValueError(f"lr must have one rate per step ({P.shape[0] - 1}), got {rates.shape[0]}")
    index = _check_steps(steps, P.shape[0])
    beta1 = _beta1(optimizer)
    wanted = {int(t): i for i, t in enumerate(index)}
    out = np.full((index.size, P.shape[1]), np.nan)
    state = optimizer.init(P[:1])
    with np.errstate(all="ignore"):
        for t in range(min(P.shape[0], max(wanted, default=-1) + 1)):
            if not (np.all(np.isfinite(P[t])) and np.all(np.isfinite(G[t]))):
                break
            rate = rates[min(t, rates.size - 1)] if rates.size else 1.0
            if not np.isfinite(rate):
                break
            _, new_state = optimizer.update(G[t][None], state, P[t][None], rate)
            if t in wanted:
                step_size = np.asarray(optimizer.effective_lr(new_state, 1.0), dtype=np.float64)
                bias_correction = 1 - beta1**new_state.step
                out[wanted[t]] = np.broadcast_to(step_size, (1, P.shape[1]))[0] / bias_correction
            state = new_state
    return out


def adaptive_stability_threshold(optimizer: Any, lr: object) -> np.ndarray | None:
    r"""The preconditioned sharpness above which Adam's step is unstable: :math:`(2 + 2\beta_1) /
    ((1 - \beta_1)\,\eta)`, 38/lr at :math:`\beta_1 = 0.9` (Cohen et al. 2022).

    On a quadratic with Hessian :math:`H` and a frozen preconditioner :math:`P`, momentum
    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`, :math:`\theta_t = \theta_{t-1} - \eta P^{-1} m_t` is
    stable along an eigenvector of :math:`P^{-1} H` with eigenvalue :math:`\lambda` iff
    :math:`\eta \lambda < (2 + 2\beta_1)/(1 - \beta_1)` (the heavy-ball limit of
    :func:`max_stable_lr` with the EMA's factor :math:`1 - \beta_1`).

    Parameters
    ----------
    lr : array_like
        Learning rate(s), e.g. ``Trajectory.lr`` per step.

    Returns
    -------
    ndarray of the shape of ``lr``, or None for an optimizer that is not adaptive

    Examples
    --------
    >>> from lossviz import optimizers
    >>> round(float(adaptive_stability_threshold(optimizers.get("adam", lr=0.01), 0.01)), 6)
    3800.0
    """
    if not _is_adaptive(optimizer):
        return None
    beta1 = _beta1(optimizer)
    rates = check_array(lr, "lr", finite=False)
    # A rate of 0 or a subnormal one (a schedule's last steps) has no finite limit: inf, not a warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return (2.0 + 2.0 * beta1) / ((1.0 - beta1) * rates)


def stability_threshold(optimizer: Any, lr: object) -> np.ndarray | None:
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
    constant = float(max_stable_lr(1.0, momentum, bool(hyper.get("nesterov", False))))
    rates = check_array(lr, "lr", finite=False)
    # A rate of 0 or a subnormal one (a cosine schedule ends near 1e-310 from a small peak) has no finite
    # limit: inf, not a warning.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return constant / (rates * (1.0 - dampening)) - float(hyper.get("weight_decay", 0.0))
