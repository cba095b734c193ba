r"""The exact regularization path of linear regression, and what Adam + L2 and AdamW converge to.

The problem is least squares with the penalties of :mod:`lossviz.regularizers`, same conventions
(``m`` = number of samples, :math:`\lambda` = ``strength``, :math:`\rho` = ``l1_ratio``):

.. math::

    \min_{w, b}\ \frac{1}{m}\sum_{i=1}^{m} (x_i^\top w + b - y_i)^2
        + \lambda \Big(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\Big)

with L1 the case :math:`\rho = 1` and L2 the case :math:`\rho = 0`; the intercept ``b`` (when fitted)
is never penalized. It is solved by cyclic coordinate descent (soft-thresholding, so a weight the
penalty switches off is exactly ``0.0``) to convergence, then *polished*: on the support and signs that
coordinate descent found, the optimality conditions are a linear system, solved directly, and the
subgradient conditions of the zero weights are checked. The result is the minimizer to rounding error,
with exact zeros.

scikit-learn's estimators minimize the same thing up to a constant factor, so their ``alpha`` is
(see :func:`sklearn_equivalent`): ``Lasso(alpha = strength / 2)``,
``ElasticNet(alpha = strength / 2, l1_ratio = rho)`` and ``Ridge(alpha = m * strength / 2)``.

Decoupled weight decay (AdamW) is not the gradient of any penalty. On this problem, Adam with L2
(``torch.optim.Adam(weight_decay=lam)``) and SGD with weight decay converge to the ridge minimizer
(their fixed point is where the regularized gradient vanishes), while AdamW with a small learning rate
converges to the least-squares minimizer inside the box :math:`|w_j| \le 1/\lambda` (Xie & Li, *Implicit
bias of AdamW: l-infinity norm constrained optimization*, ICML 2024): at its fixed point
:math:`\lambda w = -\hat m / (\sqrt{\hat v} + \epsilon)`, a vector of entries in (-1, 1).

    >>> import numpy as np
    >>> from lossviz.lessons import regularization
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]); y = np.array([2.0, 0.5, -2.0, -0.5])
    >>> regularization.regularized_minimizer(X, y, "l1", 1.0)[0].tolist()
    [1.0, 0.0]
"""
from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import datasets, landscape, models, optimizers, regularizers
from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar
from lossviz.run import Trajectory, run
from lossviz.torch_export import comment, literal

__all__ = [
    "PENALTIES", "PENALTY_TITLES", "RegularizationPath", "DecayComparison", "regularized_minimizer",
    "regularization_path", "all_zero_strength", "sklearn_equivalent", "sklearn_objective_ratio",
    "sklearn_call", "sklearn_caption", "box_constrained_minimizer", "weight_decay_comparison",
    "decay_seconds", "decay_landscape", "DECAY_LABELS", "minimizer_caption", "knots_caption", "decay_caption",
    "paths_table",
    "DATASET", "DEFAULT_FEATURES", "second_feature", "load_data", "torch_script", "sklearn_script",
    "Scenario", "SCENARIOS", "DEFAULT_SCENARIO",
    "RegularizationView", "regularization_view", "Landscape", "landscape_of", "at_strength", "PATH_STRENGTHS",
    "SCRUB_STRENGTHS", "scrub_strengths", "StrengthFrames", "strength_frames", "penalty_curve", "data_curve",
    "unit_level_sets", "CURVE_POINTS",
]

PENALTIES = ("l1", "l2", "elastic_net")
# Relative change of the weights below which coordinate descent counts as converged (then polished).
_CD_TOL = 1e-13
_CD_MAX_SWEEPS = 200_000
# Bisection steps locating the strength where a weight becomes zero: 2**-60 of the bracket.
_BISECTION_STEPS = 60


class RegularizationPath(NamedTuple):
    """Minimizers of the regularized least-squares problem along a grid of strengths.

    Attributes
    ----------
    penalty : {"l1", "l2", "elastic_net"}
    l1_ratio : float
        :math:`\\rho` (1 for L1, 0 for L2).
    strengths : ndarray, shape (K,)
        Increasing, >= 0.
    weights : ndarray, shape (K, p)
        ``weights[k]`` minimizes the problem at ``strengths[k]``; switched-off weights are exactly 0.
    intercepts : ndarray, shape (K,)
        Zeros when no intercept is fitted.
    data_loss : ndarray, shape (K,)
        Mean squared error at each minimizer.
    penalty_value : ndarray, shape (K,)
        :math:`R(w)` at each minimizer.
    zero_from : ndarray, shape (p,)
        For each weight, the strength from which it is exactly zero for the rest of the grid, located
        by bisection to ~1e-15 relative; ``inf`` when it is still non-zero at the largest strength
        (always, for L2), and ``strengths[0]`` when it is zero along the whole grid.
    """

    penalty: str
    l1_ratio: float
    strengths: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    data_loss: np.ndarray
    penalty_value: np.ndarray
    zero_from: np.ndarray

    def to_frame(self, feature_names: tuple[str, ...] | None = None) -> pd.DataFrame:
        """One row per strength: ``penalty, l1_ratio, strength, <weight names>, intercept, data_loss,
        penalty_value``."""
        p = self.weights.shape[1]
        names = tuple(f"w{j + 1}" for j in range(p)) if feature_names is None else tuple(feature_names)
        if len(names) != p:
            raise ValueError(f"feature_names must have one name per weight ({p}), got {len(names)}")
        frame = pd.DataFrame({"penalty": self.penalty, "l1_ratio": self.l1_ratio, "strength": self.strengths})
        for j, name in enumerate(names):
            frame[f"w_{name}"] = self.weights[:, j]
        frame["intercept"] = self.intercepts
        frame["data_loss"] = self.data_loss
        frame["penalty_value"] = self.penalty_value
        return frame


class _Quadratic(NamedTuple):
    """The data loss as :math:`w^\\top A w - 2 c^\\top w + \\text{const}` on centered data."""

    A: np.ndarray  # (p, p) = Xc^T Xc / m
    c: np.ndarray  # (p,) = Xc^T yc / m
    x_mean: np.ndarray  # (p,)
    y_mean: float
    X: np.ndarray
    y: np.ndarray


def _check_data(X: object, y: object, fit_intercept: object) -> _Quadratic:
    Xa = check_array(X, "X", ndim=2)
    if Xa.shape[0] < 1 or Xa.shape[1] < 1:
        raise ValueError(f"X must have at least 1 row and 1 column, got shape {Xa.shape}")
    ya = check_array(y, "y", ndim=1)
    if ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"y must have one entry per row of X: X has {Xa.shape[0]} rows, y has {ya.shape[0]}")
    check_bool(fit_intercept, "fit_intercept")
    # The unpenalized intercept is optimal at b = mean(y) - mean(x) . w, which leaves least squares on
    # centered data: the same reduction scikit-learn makes.
    x_mean = Xa.mean(axis=0) if fit_intercept else np.zeros(Xa.shape[1])
    y_mean = float(ya.mean()) if fit_intercept else 0.0
    Xc, yc = Xa - x_mean, ya - y_mean
    m = Xa.shape[0]
    return _Quadratic(Xc.T @ Xc / m, Xc.T @ yc / m, x_mean, y_mean, Xa, ya)


def _penalty_parts(penalty: str, l1_ratio: object) -> float:
    check_choice(penalty, "penalty", PENALTIES)
    if penalty == "l1":
        return 1.0
    if penalty == "l2":
        return 0.0
    return check_scalar(l1_ratio, "l1_ratio", low=0.0, high=1.0)


def _check_strengths(strengths: object) -> np.ndarray:
    values = check_array(strengths, "strengths")
    scalar = values.ndim == 0
    values = np.atleast_1d(values)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"strengths must be a number or a 1-D array of numbers, got shape {values.shape}")
    if np.any(values < 0):
        raise ValueError(f"strengths must be >= 0, got {float(values[values < 0][0])!r}")
    return values[0:1] if scalar else values


def _soft_threshold(z: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)


def _coordinate_descent(q: _Quadratic, l1: np.ndarray, l2: np.ndarray, start: np.ndarray) -> np.ndarray:
    r"""Cyclic coordinate descent for K problems at once (l1, l2: shape (K,), start (K, p)).

    Coordinate j minimizes :math:`A_{jj} w_j^2 - 2 w_j r_j + \ell_1 |w_j| + \tfrac{\ell_2}{2} w_j^2` with
    :math:`r_j = c_j - \sum_{k \ne j} A_{jk} w_k`: :math:`w_j = S(2 r_j, \ell_1) / (2 A_{jj} + \ell_2)`.
    """
    W = start.copy()
    p = W.shape[1]
    diag = np.diag(q.A)
    for _ in range(_CD_MAX_SWEEPS):
        largest_change = 0.0
        for j in range(p):
            residual = q.c[j] - W @ q.A[:, j] + diag[j] * W[:, j]
            denominator = 2.0 * diag[j] + l2
            # A constant column (zero after centering) with no L2 part: its weight does not matter; 0.
            new = np.divide(_soft_threshold(2.0 * residual, l1), denominator,
                            out=np.zeros_like(residual), where=denominator > 0)
            largest_change = max(largest_change, float(np.max(np.abs(new - W[:, j]))))
            W[:, j] = new
        if largest_change <= _CD_TOL * max(1.0, float(np.max(np.abs(W)))):
            break
    return W


def _polish(q: _Quadratic, l1: np.ndarray, l2: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Solve the optimality conditions exactly on the support and signs coordinate descent found.

    On the support S with signs s they read :math:`(2 A_{SS} + \\ell_2 I) w_S = 2 c_S - \\ell_1 s_S`;
    the solution is kept when its signs agree and every zero weight satisfies
    :math:`|2 (A w - c)_j| \\le \\ell_1` (otherwise the coordinate-descent answer stays).
    """
    out = W.copy()
    p = W.shape[1]
    for k in range(W.shape[0]):
        support = W[k] != 0.0
        if not support.any():
            continue
        signs = np.sign(W[k, support])
        system = 2.0 * q.A[np.ix_(support, support)] + l2[k] * np.eye(int(support.sum()))
        rhs = 2.0 * q.c[support] - l1[k] * signs
        try:
            solved = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            continue
        if not np.all(np.isfinite(solved)) or np.any(np.sign(solved) != signs):
            continue
        candidate = np.zeros(p)
        candidate[support] = solved
        slack = np.abs(2.0 * (q.A @ candidate - q.c))[~support]
        scale = max(1.0, float(np.max(np.abs(2.0 * q.c))))
        if np.all(slack <= l1[k] + 1e-10 * scale):
            out[k] = candidate
    return out


def _solve(q: _Quadratic, strengths: np.ndarray, rho: float, start: np.ndarray | None = None) -> np.ndarray:
    l1, l2 = strengths * rho, strengths * (1.0 - rho)
    if start is None:
        start = np.zeros((strengths.size, q.A.shape[0]))
    return _polish(q, l1, l2, _coordinate_descent(q, l1, l2, start))


def regularized_minimizer(
    X: object,
    y: object,
    penalty: str,
    strength: float | np.ndarray,
    *,
    l1_ratio: float = 0.5,
    fit_intercept: bool = False,
) -> tuple[np.ndarray, np.ndarray | float]:
    r"""The minimizer of mean squared error plus the penalty (see the module docstring).

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    penalty : {"l1", "l2", "elastic_net"}
    strength : float or array_like of shape (K,), >= 0
        :math:`\lambda`, as in :mod:`lossviz.regularizers`.
    l1_ratio : float in [0, 1]
        :math:`\rho`, used by ``"elastic_net"`` only.
    fit_intercept : bool
        Fit an unpenalized intercept.

    Returns
    -------
    weights : ndarray, shape (p,) (or (K, p) for an array of strengths)
        Exactly 0.0 where the L1 part switches a weight off.
    intercept : float (or ndarray (K,))
        0.0 without ``fit_intercept``.
    """
    rho = _penalty_parts(penalty, l1_ratio)
    values = _check_strengths(strength)
    q = _check_data(X, y, fit_intercept)
    W = _solve(q, values, rho)
    intercepts = q.y_mean - W @ q.x_mean
    if np.ndim(strength) == 0:
        return W[0], float(intercepts[0])
    return W, intercepts


def all_zero_strength(X: object, y: object, *, l1_ratio: float = 1.0, fit_intercept: bool = False) -> float:
    r"""The smallest strength at which every weight is exactly zero: :math:`\max_j |2 c_j| / \rho`.

    At :math:`w = 0` the data gradient is :math:`-2c` with :math:`c = X^\top y / m` (centered), and
    zero is optimal exactly when no coordinate of it exceeds the L1 part :math:`\lambda\rho`. ``inf``
    for pure L2 (:math:`\rho = 0`), which never reaches zero.
    """
    rho = check_scalar(l1_ratio, "l1_ratio", low=0.0, high=1.0)
    q = _check_data(X, y, fit_intercept)
    top = float(np.max(np.abs(2.0 * q.c)))
    if rho == 0.0:
        return 0.0 if top == 0.0 else float("inf")
    return top / rho


def _zero_from(q: _Quadratic, strengths: np.ndarray, W: np.ndarray, rho: float) -> np.ndarray:
    p = W.shape[1]
    out = np.full(p, np.inf)
    for j in range(p):
        nonzero = np.flatnonzero(W[:, j] != 0.0)
        if nonzero.size == 0:
            out[j] = strengths[0]
            continue
        last = int(nonzero[-1])
        if last == strengths.size - 1:
            continue
        low, high = float(strengths[last]), float(strengths[last + 1])
        for _ in range(_BISECTION_STEPS):
            middle = 0.5 * (low + high)
            if middle in (low, high):
                break
            if _solve(q, np.array([middle]), rho, W[last:last + 1])[0, j] == 0.0:
                high = middle
            else:
                low = middle
        out[j] = high
    return out


def regularization_path(
    X: object,
    y: object,
    penalty: str,
    strengths: object,
    *,
    l1_ratio: float = 0.5,
    fit_intercept: bool = False,
) -> RegularizationPath:
    """Minimizers for every strength of an increasing grid (from 0 to large), with the exact zeros.

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    penalty : {"l1", "l2", "elastic_net"}
    strengths : array_like, shape (K,)
        Strictly increasing, >= 0 (include 0 for the unregularized fit).
    l1_ratio : float in [0, 1]
        For ``"elastic_net"``.
    fit_intercept : bool

    Returns
    -------
    RegularizationPath
    """
    rho = _penalty_parts(penalty, l1_ratio)
    values = _check_strengths(strengths)
    if np.any(np.diff(values) <= 0):
        raise ValueError("strengths must be strictly increasing (from 0 towards large)")
    q = _check_data(X, y, fit_intercept)
    W = _solve(q, values, rho)
    intercepts = q.y_mean - W @ q.x_mean
    residual = q.X @ W.T + intercepts[None, :] - q.y[:, None]  # (m, K)
    data_loss = np.mean(residual * residual, axis=0)
    penalty_value = values * (rho * np.abs(W).sum(axis=1) + 0.5 * (1.0 - rho) * (W * W).sum(axis=1))
    return RegularizationPath(penalty, rho, values, W, intercepts, data_loss, penalty_value,
                              _zero_from(q, values, W, rho))


def sklearn_equivalent(penalty: str, strength: float, n_samples: int, *,
                       l1_ratio: float = 0.5) -> tuple[str, dict]:
    """The scikit-learn estimator and parameters with the same minimizer.

    scikit-learn's ``Lasso`` and ``ElasticNet`` minimize :math:`\\frac{1}{2m}\\|y - Xw\\|^2 + \\alpha(...)`,
    half of this module's objective, so ``alpha = strength / 2``; ``Ridge`` minimizes
    :math:`\\|y - Xw\\|^2 + \\alpha \\|w\\|^2`, ``m`` times this module's, so ``alpha = m * strength / 2``
    (:func:`sklearn_objective_ratio`).

    Returns
    -------
    (class_name, params) : e.g. ``("Lasso", {"alpha": 0.05})``.
    """
    rho = _penalty_parts(penalty, l1_ratio)
    value = check_scalar(strength, "strength", low=0.0)
    m = check_int(n_samples, "n_samples", low=1)
    if penalty == "l1":
        return "Lasso", {"alpha": value / 2.0}
    if penalty == "l2":
        return "Ridge", {"alpha": m * value / 2.0}
    return "ElasticNet", {"alpha": value / 2.0, "l1_ratio": rho}


def box_constrained_minimizer(X: object, y: object, bound: float) -> np.ndarray:
    r"""Least squares inside the box :math:`|w_j| \le` ``bound`` (no intercept): AdamW's small-lr limit.

    Projected coordinate descent, :math:`w_j \leftarrow \operatorname{clip}(r_j / A_{jj}, -B, B)`, to
    convergence, then polished like the penalized problem: the free weights solve
    :math:`A_{FF} w_F = c_F - A_{F,\text{fixed}} w_\text{fixed}` exactly, and a weight at the bound is
    kept there when the data gradient pushes it outwards.

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    bound : float > 0

    Returns
    -------
    ndarray, shape (p,)
    """
    limit = check_scalar(bound, "bound", low=0.0, include_low=False)
    q = _check_data(X, y, False)
    p = q.A.shape[0]
    w = np.zeros(p)
    diag = np.diag(q.A)
    for _ in range(_CD_MAX_SWEEPS):
        largest_change = 0.0
        for j in range(p):
            residual = q.c[j] - q.A[j] @ w + diag[j] * w[j]
            new = float(np.clip(residual / diag[j], -limit, limit)) if diag[j] > 0 else 0.0
            largest_change = max(largest_change, abs(new - w[j]))
            w[j] = new
        if largest_change <= _CD_TOL * max(1.0, limit):
            break
    at_bound = np.abs(w) >= limit * (1.0 - 1e-12)
    free = ~at_bound
    if free.any():
        fixed = np.where(at_bound, np.sign(w) * limit, 0.0)
        try:
            rhs = q.c[free] - q.A[np.ix_(free, at_bound)] @ fixed[at_bound]
            solved = np.linalg.solve(q.A[np.ix_(free, free)], rhs)
        except np.linalg.LinAlgError:
            return w
        candidate = fixed.copy()
        candidate[free] = solved
        outward = -np.sign(candidate[at_bound]) * (q.A @ candidate - q.c)[at_bound] >= -1e-12
        if np.all(np.abs(solved) <= limit) and np.all(outward):
            return candidate
    else:
        w = np.sign(w) * limit
    return w


def sklearn_objective_ratio(penalty: str, n_samples: int) -> float:
    """scikit-learn's objective divided by this module's, with :func:`sklearn_equivalent`'s parameters.

    ``Lasso`` and ``ElasticNet`` take half the mean squared error, :math:`\\frac{1}{2m}\\|y - Xw\\|^2`: the
    ratio is 1/2. ``Ridge`` takes the sum, :math:`\\|y - Xw\\|^2`: the ratio is ``m``. A constant ratio
    leaves the minimizer where it is.

    >>> sklearn_objective_ratio("l1", 442), sklearn_objective_ratio("l2", 442)
    (0.5, 442.0)
    """
    check_choice(penalty, "penalty", PENALTIES)
    m = check_int(n_samples, "n_samples", low=1)
    return float(m) if penalty == "l2" else 0.5


def sklearn_call(penalty: str, strength: float, n_samples: int, *, l1_ratio: float = 0.5) -> str:
    """The scikit-learn estimator with the same minimizer, as code (every number exact, by ``repr``).

    >>> sklearn_call("l2", 0.8, 442)
    'Ridge(alpha=176.8, fit_intercept=False)'
    """
    name, params = sklearn_equivalent(penalty, strength, n_samples, l1_ratio=l1_ratio)
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())}, fit_intercept=False)"


def sklearn_caption(penalty: str, strength: float, n_samples: int, *, l1_ratio: float = 0.5) -> str:
    """One sentence: the scikit-learn call with the same minimizer, and how its objective relates to ours.

    >>> sklearn_caption("l2", 0.8, 442)[:74]
    'Same minimizer in scikit-learn: `Ridge(alpha=176.8, fit_intercept=False)`;'
    """
    ratio = sklearn_objective_ratio(penalty, n_samples)
    why = (f"n = {n_samples} samples: Ridge sums the squared errors where this page averages them"
           if penalty == "l2" else "it takes half the mean squared error, 1/(2n) Σ residual²")
    call = sklearn_call(penalty, strength, n_samples, l1_ratio=l1_ratio)
    return (f"Same minimizer in scikit-learn: `{call}`; scikit-learn's objective is {ratio:g} × this page's "
            f"({why}).")


# The strengths of the page's paths: 0 (least squares), then a log grid wide enough for L2 to shrink.
PATH_STRENGTHS = np.concatenate([[0.0], np.geomspace(1e-3, 30.0, 141)])
# The strengths the page's λ scrubber replays (with the page's own λ added): 0, then round numbers spaced
# about evenly on a log scale up to the strength slider's end, so each position's label is its exact λ.
SCRUB_STRENGTHS = np.array([0.0] + [float(f"{m * 10.0**e:.3g}") for e in (-2, -1, 0)
                                    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8) if m * 10.0**e <= 5.0])
PENALTY_TITLES = {"l1": "L1 (lasso)", "elastic_net": "elastic net", "l2": "L2 (ridge)"}
# Points of a drawn level set: 4k + 1 angles, so the L1 diamond's corners (multiples of pi/2) are on it.
CURVE_POINTS = 241


def _directions(n: int) -> np.ndarray:
    theta = np.linspace(0.0, 2.0 * np.pi, n)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _directions_through(angles: np.ndarray, n: int) -> np.ndarray:
    """Unit directions (K, n + 1, 2): the ``n`` of :func:`_directions` and ``angles[k]`` in its place, so
    a curve drawn from them passes exactly through the point at that angle."""
    theta = np.sort(np.concatenate([np.broadcast_to(np.linspace(0.0, 2.0 * np.pi, n), (len(angles), n)),
                                    np.mod(angles, 2.0 * np.pi)[:, None]], axis=1), axis=1)
    return np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def _penalty_radii(rho: float, levels: np.ndarray, directions: np.ndarray) -> np.ndarray:
    # Along a unit direction u the unit penalty is rho s r + (1 - rho) r^2 / 2 with s = |u_1| + |u_2|; the
    # root of "= level" in the form that stays exact for rho = 1 (the diamond) and for rho = 0 (the circle).
    s = rho * np.abs(directions).sum(axis=-1)
    c = np.asarray(levels, dtype=float)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = 2.0 * c / (s + np.sqrt(s * s + 2.0 * (1.0 - rho) * c))
    return np.where(c > 0, r, 0.0)


def penalty_curve(penalty: str, level: float, *, l1_ratio: float = 0.5, n: int = CURVE_POINTS) -> np.ndarray:
    r"""The level set :math:`R(w) =` ``level`` of the penalty at strength 1: ``n`` points of a closed curve.

    :math:`R(w) = \rho \|w\|_1 + \frac{1 - \rho}{2}\|w\|_2^2` (L1: :math:`\rho = 1`, a diamond; L2:
    :math:`\rho = 0`, a circle; elastic net in between, a diamond with rounded sides).

    Parameters
    ----------
    penalty : {"l1", "l2", "elastic_net"}
    level : float >= 0
    l1_ratio : float in [0, 1]
        :math:`\rho`, for ``"elastic_net"``.
    n : int >= 5

    Returns
    -------
    ndarray, shape (n, 2)
        From angle 0 round to 2 pi (first point = last point); all zeros for level 0.

    >>> np.round(penalty_curve("l1", 1.0, n=5), 12).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0], [1.0, -0.0]]
    """
    rho = _penalty_parts(penalty, l1_ratio)
    value = check_scalar(level, "level", low=0.0)
    directions = _directions(check_int(n, "n", low=5))
    return directions * _penalty_radii(rho, np.array(value), directions)[:, None]


class _Ellipse(NamedTuple):
    """Data loss (MSE, no intercept) of two weights as (w - ols)^T A (w - ols) + floor, with
    A = V diag(a) V^T: the level set at floor + e is ols + sqrt(e) (u / sqrt(a)) V^T for unit vectors u."""

    ols: np.ndarray
    floor: float
    values: np.ndarray
    vectors: np.ndarray

    def points(self, excess: np.ndarray, directions: np.ndarray) -> np.ndarray:
        shapes = (directions / np.sqrt(self.values)) @ self.vectors.T
        return self.ols + np.sqrt(excess)[..., None, None] * shapes

    def angle(self, w: np.ndarray) -> np.ndarray:
        """The angle of u at which the level set through ``w`` (K, 2) passes through it."""
        u = ((w - self.ols) @ self.vectors) * np.sqrt(self.values)
        return np.arctan2(u[..., 1], u[..., 0])


def _ellipse(X: np.ndarray, y: np.ndarray) -> _Ellipse:
    q = _check_data(X, y, False)
    ols = np.linalg.lstsq(q.X, q.y, rcond=None)[0]
    values, vectors = np.linalg.eigh(q.A)
    if values[0] <= 1e-12 * max(values[-1], 1e-300):
        raise ValueError("X must have linearly independent columns: the data loss has no bounded level sets")
    return _Ellipse(ols, float(np.mean((q.X @ ols - q.y) ** 2)), values, vectors)


def data_curve(X: object, y: object, level: float, *, n: int = CURVE_POINTS) -> np.ndarray:
    """The level set "mean squared error = ``level``" of two-weight least squares (no intercept): an ellipse
    around the least-squares weights.

    Parameters
    ----------
    X : array_like, shape (m, 2)
    y : array_like, shape (m,)
    level : float
        Below the least-squares error the level set is that single point.
    n : int >= 5

    Returns
    -------
    ndarray, shape (n, 2)

    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]); y = np.zeros(4)
    >>> np.round(data_curve(X, y, 0.5, n=5), 12).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0], [1.0, -0.0]]
    """
    Xa = _two_columns(X)
    ellipse = _ellipse(Xa, y)
    excess = max(check_scalar(level, "level") - ellipse.floor, 0.0)
    return ellipse.points(np.array(excess), _directions(check_int(n, "n", low=5)))


def _two_columns(X: object) -> np.ndarray:
    Xa = check_array(X, "X", ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (two weights to draw), got shape {Xa.shape}")
    return Xa


class StrengthFrames(NamedTuple):
    """The minimizer and the two level sets that touch there, at many strengths (the page's λ scrubber).

    Attributes
    ----------
    strengths : ndarray, shape (K,)
    minimizers : ndarray, shape (K, 2)
    data_levels, penalty_levels : ndarray, shape (K,)
        Data loss and unit penalty at each minimizer.
    penalty_curves, data_curves : ndarray, shape (K, n + 1, 2)
        The two level sets through each minimizer (which is one of their points); NaN where nothing
        touches (strength 0, or every weight zero).
    """

    strengths: np.ndarray
    minimizers: np.ndarray
    data_levels: np.ndarray
    penalty_levels: np.ndarray
    penalty_curves: np.ndarray
    data_curves: np.ndarray


def strength_frames(X: object, y: object, penalty: str, strengths: object, *, l1_ratio: float = 0.5,
                    n: int = CURVE_POINTS) -> StrengthFrames:
    """Minimizers at every strength in one vectorized solve, with the level sets that touch at each.

    Parameters
    ----------
    X : array_like, shape (m, 2)
    y : array_like, shape (m,)
    penalty : {"l1", "l2", "elastic_net"}
    strengths : array_like, shape (K,), >= 0
    l1_ratio : float in [0, 1]
    n : int
        Points per level set.

    Returns
    -------
    StrengthFrames

    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]); y = np.array([2.0, 0.5, -2.0, -0.5])
    >>> strength_frames(X, y, "l1", [0.0, 1.0]).minimizers.tolist()
    [[2.0, 0.5], [1.0, 0.0]]
    """
    rho = _penalty_parts(penalty, l1_ratio)
    values = _check_strengths(strengths)
    Xa = _two_columns(X)
    n = check_int(n, "n", low=5)
    ellipse = _ellipse(Xa, y)
    W, _ = regularized_minimizer(Xa, y, penalty, values, l1_ratio=rho)
    residual = W @ Xa.T - np.asarray(y, dtype=float)
    data_levels = np.mean(residual * residual, axis=1)
    penalty_levels = rho * np.abs(W).sum(axis=1) + 0.5 * (1.0 - rho) * (W * W).sum(axis=1)
    touching = (values > 0) & (penalty_levels > 0)
    # Each curve is drawn through its minimizer exactly (its angle added to the samples), so the two
    # visibly touch there at any zoom.
    directions = _directions_through(np.arctan2(W[:, 1], W[:, 0]), n)
    penalty_curves = directions * _penalty_radii(rho, penalty_levels, directions)[..., None]
    excess = np.maximum(data_levels - ellipse.floor, 0.0)
    data_curves = ellipse.points(excess, _directions_through(ellipse.angle(W), n))
    penalty_curves[~touching] = np.nan
    data_curves[~touching] = np.nan
    return StrengthFrames(values, W, data_levels, penalty_levels, penalty_curves, data_curves)


def scrub_strengths(strength: float) -> tuple[np.ndarray, int]:
    """:data:`SCRUB_STRENGTHS` with ``strength`` added (once): the grid and the position of ``strength``.

    >>> grid, at = scrub_strengths(0.75)
    >>> float(grid[at]), len(grid) == len(SCRUB_STRENGTHS) + 1, len(scrub_strengths(0.8)[0]) == len(grid) - 1
    (0.75, True, True)
    """
    value = check_scalar(strength, "strength", low=0.0)
    grid = np.union1d(SCRUB_STRENGTHS, [value])
    return grid, int(np.searchsorted(grid, value))


def unit_level_sets(penalty: str, xs: object, ys: object, *, l1_ratio: float = 0.5, count: int = 8,
                    n: int = CURVE_POINTS) -> np.ndarray:
    """``count`` evenly spaced level sets of the unit penalty, up to its value at the view's farthest
    corner, as one polyline with NaN rows between the curves.

    Parameters
    ----------
    penalty : {"l1", "l2", "elastic_net"}
    xs, ys : array_like, shape (nx,), (ny,)
        The view's axes.
    l1_ratio : float in [0, 1]
    count, n : int
        Level sets, and points on each.

    Returns
    -------
    ndarray, shape (count * (n + 1), 2)

    >>> unit_level_sets("l1", np.linspace(-1, 1, 3), np.linspace(-1, 1, 3), count=2, n=5).shape
    (12, 2)
    """
    rho = _penalty_parts(penalty, l1_ratio)
    gx, gy = check_array(xs, "xs", ndim=1), check_array(ys, "ys", ndim=1)
    corners = np.array([[x, y] for x in (gx[0], gx[-1]) for y in (gy[0], gy[-1])])
    top = float(np.max(rho * np.abs(corners).sum(axis=1) + 0.5 * (1.0 - rho) * (corners**2).sum(axis=1)))
    directions = _directions(n)
    levels = top * np.arange(1, count + 1) / count
    curves = directions * _penalty_radii(rho, levels, directions)[..., None]  # (count, n, 2)
    gaps = np.full((count, 1, 2), np.nan)
    return np.concatenate([curves, gaps], axis=1).reshape(-1, 2)


class RegularizationView(NamedTuple):
    """Everything the Regularization page draws for one (penalty, strength).

    Attributes
    ----------
    paths : dict of penalty name to RegularizationPath
        All three penalties on :data:`PATH_STRENGTHS` (the elastic net with the given ``l1_ratio``).
    minimizer : ndarray, shape (2,)
        The regularized minimizer at ``strength``.
    ols : ndarray, shape (2,)
        Least squares (strength 0).
    xs, ys : ndarray
        Grid axes.
    data_Z, penalty_Z, total_Z : ndarray, shape (len(ys), len(xs))
        Data loss (MSE), the penalty's shape at strength 1, and data loss + penalty at ``strength``.
    data_level, penalty_level : float
        Data loss and unit penalty at the minimizer: the two level sets that touch there.
    all_zero : float
        Strength from which every weight is 0 (``inf`` for L2).
    sklearn : tuple of (str, dict)
        :func:`sklearn_equivalent`.
    frames : StrengthFrames
        The minimizer and its touching level sets at :func:`scrub_strengths` (``strength`` included).
    active : int
        The position of ``strength`` in ``frames``.
    level_sets : ndarray, shape (N, 2)
        :func:`unit_level_sets` of the penalty over the view.
    """

    paths: dict
    minimizer: np.ndarray
    ols: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    data_Z: np.ndarray
    penalty_Z: np.ndarray
    total_Z: np.ndarray
    data_level: float
    penalty_level: float
    all_zero: float
    sklearn: tuple
    frames: StrengthFrames
    active: int
    level_sets: np.ndarray


class Landscape(NamedTuple):
    """What the page draws that depends on the data (and the elastic net's mix) only, whatever λ.

    ``X`` (m, 2), ``y`` (m,): the two standardized features and the target; ``names``: the features;
    ``paths``: every penalty's :class:`RegularizationPath`; ``xs``, ``ys``: a square view holding least
    squares and the origin; ``data_Z`` (len(ys), len(xs)): the data loss there.
    """

    X: np.ndarray
    y: np.ndarray
    names: tuple[str, str]
    l1_ratio: float
    paths: dict
    xs: np.ndarray
    ys: np.ndarray
    data_Z: np.ndarray


def _square_axes(points: np.ndarray, margin: float, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Axes of a square view (at least 1 wide) around ``points`` (k, 2) with a relative ``margin``, so a
    circle looks like a circle on an equal-aspect map."""
    n = check_int(resolution, "resolution", low=2)
    low, high = points.min(axis=0), points.max(axis=0)
    half = max(float(np.max(high - low)) * (0.5 + margin), 0.5)
    return tuple(np.linspace(c - half, c + half, n) for c in 0.5 * (low + high))


def _paths(X: np.ndarray, y: object, l1_ratio: float) -> dict:
    return {name: regularization_path(X, y, name, PATH_STRENGTHS, l1_ratio=l1_ratio if name == "elastic_net"
                                      else 0.5) for name in PENALTIES}


def landscape_of(features: tuple[str, str] | list[str], *, l1_ratio: float = 0.5,
                 resolution: int = 121) -> Landscape:
    """The paths and the data loss of two diabetes features on a square view around least squares and 0.

    >>> land = landscape_of(("bmi", "bp"), resolution=5)
    >>> land.data_Z.shape, sorted(land.paths)
    ((5, 5), ['elastic_net', 'l1', 'l2'])
    """
    rho = check_scalar(l1_ratio, "l1_ratio", low=0.0, high=1.0)
    data = load_data(features)
    X, y = np.asarray(data.X), np.asarray(data.y)
    paths = _paths(X, y, rho)
    xs, ys = _square_axes(np.array([paths["l2"].weights[0], [0.0, 0.0]]), 0.45, resolution)
    model = models.linear_regression(X, y, fit_intercept=False)
    return Landscape(X, y, tuple(data.feature_names), rho, paths, xs, ys, landscape.grid(model, xs, ys))


def _regularized(model: Any, penalty: str, strength: float, rho: float) -> regularizers.Regularized:
    extra = {"l1_ratio": rho} if penalty == "elastic_net" else {}
    return regularizers.get(penalty, model, strength=strength, **extra)


def at_strength(land: Landscape, penalty: str, strength: float) -> RegularizationView:
    """The view of :class:`Landscape` ``land`` at one penalty and strength (the elastic net with the
    landscape's mix): the minimizer, the touching level sets, the regularized loss, the scrubber frames.

    Parameters
    ----------
    land : Landscape
    penalty : {"l1", "l2", "elastic_net"}
    strength : float >= 0

    Returns
    -------
    RegularizationView

    >>> view = at_strength(landscape_of(("bmi", "bp"), resolution=5), "l1", 0.8)
    >>> float(view.minimizer[1]), view.total_Z.shape, float(view.frames.strengths[view.active])
    (0.0, (5, 5), 0.8)
    """
    rho = _penalty_parts(penalty, land.l1_ratio)
    value = check_scalar(strength, "strength", low=0.0)
    model = models.linear_regression(land.X, land.y, fit_intercept=False)
    unit = _regularized(model, penalty, 1.0, rho)
    points = np.stack(np.meshgrid(land.xs, land.ys), axis=-1)
    penalty_Z = np.asarray(unit.penalty(points))
    minimizer, _ = regularized_minimizer(land.X, land.y, penalty, value, l1_ratio=rho)
    grid, active = scrub_strengths(value)
    frames = strength_frames(land.X, land.y, penalty, grid, l1_ratio=rho)
    return RegularizationView(
        land.paths, minimizer, land.paths["l2"].weights[0], land.xs, land.ys, land.data_Z, penalty_Z,
        land.data_Z + value * penalty_Z, float(model.f(minimizer)), float(unit.penalty(minimizer)),
        all_zero_strength(land.X, land.y, l1_ratio=rho), sklearn_equivalent(penalty, value, len(land.y),
                                                                             l1_ratio=rho),
        frames, active, unit_level_sets(penalty, land.xs, land.ys, l1_ratio=rho),
    )


def regularization_view(X: object, y: object, penalty: str, strength: float, *, l1_ratio: float = 0.5,
                        xs: object, ys: object) -> RegularizationView:
    """The paths, the minimizer and the three landscapes of two-weight least squares on the grid
    ``xs`` x ``ys`` (no intercept: center the data first)."""
    rho = _penalty_parts(penalty, l1_ratio)
    Xa = _two_columns(X)
    ya = check_array(y, "y", ndim=1)
    gx, gy = check_array(xs, "xs", ndim=1), check_array(ys, "ys", ndim=1)
    model = models.linear_regression(Xa, ya, fit_intercept=False)
    land = Landscape(Xa, ya, ("w1", "w2"), rho, _paths(Xa, ya, rho), gx, gy, landscape.grid(model, gx, gy))
    return at_strength(land, penalty, strength)


class DecayComparison(NamedTuple):
    """SGD with weight decay, Adam with L2 and AdamW from one start on one least-squares problem.

    Attributes
    ----------
    labels : tuple of str
        ``("SGD, weight_decay", "Adam + L2 (weight_decay)", "AdamW (decoupled)")``.
    optimizers : tuple of Optimizer
        In the same order, built by :func:`lossviz.optimizers.get` (torch's names and defaults).
    trajectories : tuple of Trajectory
        params (T+1, p) each.
    ridge_minimizer : ndarray, shape (p,)
        Minimizer of MSE + :math:`\\tfrac{\\lambda}{2}\\|w\\|^2`: where SGD and Adam with L2 converge.
    box_minimizer : ndarray, shape (p,)
        Least squares in :math:`|w_j| \\le 1/\\lambda`: where AdamW converges as lr -> 0.
    unregularized_minimizer : ndarray, shape (p,)
    """

    labels: tuple[str, ...]
    optimizers: tuple[Any, ...]
    trajectories: tuple[Trajectory, ...]
    ridge_minimizer: np.ndarray
    box_minimizer: np.ndarray
    unregularized_minimizer: np.ndarray

    def distances(self, target: str = "ridge") -> tuple[np.ndarray, ...]:
        """Distance of every run's iterates to the ``"ridge"`` or ``"box"`` minimizer, shape (T+1,) each."""
        check_choice(target, "target", ("ridge", "box"))
        point = self.ridge_minimizer if target == "ridge" else self.box_minimizer
        return tuple(np.linalg.norm(t.params - point, axis=-1) for t in self.trajectories)


DECAY_LABELS = ("SGD, weight_decay", "Adam + L2 (weight_decay)", "AdamW (decoupled)")
# CPU seconds of one step of the three decay runs together (measured on the 2-core machine the app is
# sized for, 442 samples, and rounded up); see decay_seconds.
_DECAY_STEP_SECONDS = 100e-6


class _LeastSquares:
    """Mean squared error of a linear model without intercept: ``f`` and ``grad`` over leading axes.

    The same function as ``models.linear_regression(X, y, fit_intercept=False)``, without that model's
    checks on every call, which were most of the runs' time.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, param_names: tuple[str, ...]) -> None:
        self.X, self.y, self.dim, self.param_names = X, y, X.shape[1], param_names

    def f(self, params: object) -> np.ndarray:
        residual = np.asarray(params) @ self.X.T - self.y
        return np.mean(residual * residual, axis=-1)

    def grad(self, params: object) -> np.ndarray:
        return 2.0 * ((np.asarray(params) @ self.X.T - self.y) @ self.X) / self.y.shape[0]


def decay_seconds(steps: int) -> float:
    """Estimated CPU seconds of :func:`weight_decay_comparison` for ``steps`` steps (errs high).

    >>> decay_seconds(1000) < decay_seconds(2000)
    True
    """
    return 0.01 + check_int(steps, "steps", low=0) * _DECAY_STEP_SECONDS


def weight_decay_comparison(
    X: object,
    y: object,
    weight_decay: float,
    *,
    lr: float = 0.01,
    sgd_lr: float | None = None,
    steps: int = 1000,
    x0: object = None,
    param_names: tuple[str, ...] | None = None,
) -> DecayComparison:
    r"""Run SGD(weight_decay), Adam(weight_decay) and AdamW(weight_decay) on linear regression, no intercept.

    Every parameter is a weight, so torch's ``weight_decay`` (which decays all parameters it is given)
    covers exactly the coordinates the L2 penalty :math:`\tfrac{\lambda}{2}\|w\|^2` covers.

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    weight_decay : float >= 0
        :math:`\lambda`, the same for all three.
    lr : float > 0
        Learning rate of Adam and AdamW.
    sgd_lr : float > 0, optional
        Learning rate of SGD; defaults to ``lr``.
    steps : int
    x0 : array_like, shape (p,), optional
        Start; defaults to zeros.
    param_names : tuple of str, optional
        The trajectories' column names (default ``w1, w2, ...``).
    """
    decay = check_scalar(weight_decay, "weight_decay", low=0.0)
    rate = check_scalar(lr, "lr", low=0.0, include_low=False)
    rate_sgd = rate if sgd_lr is None else check_scalar(sgd_lr, "sgd_lr", low=0.0, include_low=False)
    q = _check_data(X, y, False)
    p = q.X.shape[1]
    names = tuple(f"w{j + 1}" for j in range(p)) if param_names is None else tuple(map(str, param_names))
    if len(names) != p:
        raise ValueError(f"param_names must have one name per weight ({p}), got {len(names)}")
    objective = _LeastSquares(q.X, q.y, names)
    start = np.zeros(p) if x0 is None else check_array(x0, "x0", ndim=1)
    if start.shape != (p,):
        raise ValueError(f"x0 must have shape ({p},), one entry per weight, got shape {start.shape}")
    built = (
        optimizers.get("sgd", lr=rate_sgd, weight_decay=decay),
        optimizers.get("adam", lr=rate, weight_decay=decay),
        optimizers.get("adamw", lr=rate, weight_decay=decay),
    )
    trajectories = tuple(run(objective, opt, start, steps) for opt in built)
    ridge, _ = regularized_minimizer(q.X, q.y, "l2", decay)
    ols, _ = regularized_minimizer(q.X, q.y, "l2", 0.0)
    box = box_constrained_minimizer(q.X, q.y, 1.0 / decay) if decay > 0 else ols
    return DecayComparison(DECAY_LABELS, built, trajectories, ridge, box, ols)


def decay_landscape(X: object, y: object, comparison: DecayComparison, *,
                    resolution: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data loss (MSE, no intercept) on a square view holding the runs' start, least squares and the
    origin.

    Parameters
    ----------
    X : array_like, shape (m, 2)
    y : array_like, shape (m,)
    comparison : DecayComparison
    resolution : int
        n, points per axis.

    Returns
    -------
    xs, ys : ndarray, shape (n,), read-only
    Z : ndarray, shape (n, n), read-only

    >>> d = load_data(("bmi", "bp"))
    >>> result = weight_decay_comparison(d.X, d.y, 1.0, steps=3, x0=[-1.0, 1.0])
    >>> [a.shape for a in decay_landscape(d.X, d.y, result, resolution=4)]
    [(4,), (4,), (4, 4)]
    """
    model = models.linear_regression(X, y, fit_intercept=False)
    points = np.array([comparison.unregularized_minimizer, [0.0, 0.0], comparison.trajectories[0].params[0]])
    xs, ys = _square_axes(points, 0.3, resolution)
    out = (xs, ys, landscape.grid(model, xs, ys))
    for array in out:
        array.flags.writeable = False  # shared between sessions by the page's cache
    return out


def minimizer_caption(view: RegularizationView, names: Sequence[str], penalty: str, strength: float) -> str:
    """What the two maps show, in numbers (Markdown; ``names`` are the dataset's own feature names).

    >>> view = at_strength(landscape_of(("bmi", "bp"), resolution=3), "l1", 0.8)
    >>> minimizer_caption(view, ("bmi", "bp"), "l1", 0.8)[:55]
    'At λ = 0.8 the L1 (lasso) minimizer is (0.1865, 0.0000)'
    """
    title = PENALTY_TITLES[check_choice(penalty, "penalty", PENALTIES)]
    w, ols = view.minimizer, view.ols
    zeros = [n for n, v in zip(names, w) if v == 0.0]
    return (f"At λ = {strength:g} the {title} minimizer is ({w[0]:.4f}, {w[1]:.4f}), against least squares "
            f"({ols[0]:.4f}, {ols[1]:.4f}); "
            + (f"**{' and '.join(zeros)} exactly 0**. " if zeros else "no weight is exactly 0. ")
            + (f"Every weight is 0 from λ = {view.all_zero:.4g}. " if np.isfinite(view.all_zero)
               else "L2 never makes a weight exactly 0. "))


def knots_caption(paths: dict, names: Sequence[str]) -> str:
    """Where each weight becomes exactly zero along each path (Markdown): one sentence per penalty, in the
    path chart's order, each strength to 3 significant digits as the chart labels it.

    >>> knots_caption(landscape_of(("bmi", "bp"), resolution=3).paths, ("bmi", "bp"))[:63]
    'L1 (lasso): bmi is exactly 0 from λ = 1.17, bp from λ = 0.693. '
    """
    def group(found: list[str], words: str) -> list[str]:
        return [f"{' and '.join(found)} {'is' if len(found) == 1 else 'are'} {words}"] if found else []

    sentences = []
    for penalty in (p for p in PENALTY_TITLES if p in paths):
        path, title = paths[penalty], PENALTY_TITLES[penalty]
        if penalty == "elastic_net":
            title += f" (ρ = {path.l1_ratio:g})"
        if path.l1_ratio == 0.0:
            parts = ["no weight is ever exactly 0, however large λ: they only shrink towards it"]
        else:
            knots = [(name, float(knot)) for name, knot in zip(names, path.zero_from)]
            finite = [(name, knot) for name, knot in knots if path.strengths[0] < knot < np.inf]
            ranges = ", ".join(f"{name} {'from' if i else 'is exactly 0 from'} λ = {knot:.3g}"
                               for i, (name, knot) in enumerate(finite))
            parts = ([ranges] if ranges else []) + [
                *group([n for n, k in knots if k <= path.strengths[0]], "exactly 0 at every λ"),
                *group([n for n, k in knots if k == np.inf],
                       f"not 0 anywhere on the path (up to λ = {path.strengths[-1]:g})")]
        sentences.append(f"{title[:1].upper()}{title[1:]}: " + "; ".join(parts) + ".")
    return (" ".join(sentences) + " The zeros are exact, not rounded: coordinate descent's soft-thresholding "
            "sets them to 0.0, and the optimality conditions are checked.")


def decay_caption(result: DecayComparison) -> str:
    """Where each run ended against where theory says it must (Markdown).

    >>> d = load_data(("bmi", "bp"))
    >>> decay_caption(weight_decay_comparison(d.X, d.y, 4.0, steps=1500, x0=[-1.0, 1.0]))[:50]
    '**SGD, weight_decay** ends at (0.1792, 0.1235); **'
    """
    ends = [f"**{label}** diverged at step {int(t.diverged_at)} (a smaller learning rate or weight decay "
            "keeps it stable)" if int(t.diverged_at) >= 0
            else f"**{label}** ends at ({t.params[-1][0]:.4f}, {t.params[-1][1]:.4f})"
            for label, t in zip(result.labels, result.trajectories)]
    ridge, box = result.ridge_minimizer, result.box_minimizer
    return ("; ".join(ends) + f". Ridge minimizer ({ridge[0]:.4f}, {ridge[1]:.4f}); AdamW's small-lr limit "
            f"({box[0]:.4f}, {box[1]:.4f}).")


def paths_table(paths: dict, names: Sequence[str]) -> pd.DataFrame:
    """Every path as :meth:`RegularizationPath.to_frame` rows, one penalty after the other.

    >>> list(paths_table(landscape_of(("bmi", "bp"), resolution=3).paths, ("bmi", "bp")).columns)[:5]
    ['penalty', 'l1_ratio', 'strength', 'w_bmi', 'w_bp']
    """
    return pd.concat([path.to_frame(tuple(names)) for path in paths.values()], ignore_index=True)


# The real dataset of the lesson: the only regression dataset that ships with scikit-learn here.
DATASET = "diabetes"
# The page's two features when nothing else is chosen.
DEFAULT_FEATURES = ("bmi", "bp")


def second_feature(first: str, second: str) -> str:
    """The feature of the second weight: ``second``, unless it repeats ``first`` (two weights need two
    features); then the first of :data:`DEFAULT_FEATURES`, and then of the dataset's, that differs.

    >>> second_feature("bmi", "s5"), second_feature("bmi", "bmi"), second_feature("bp", "bp")
    ('s5', 'bp', 'bmi')
    """
    if second != first:
        return second
    return next(f for f in (*DEFAULT_FEATURES, *datasets.get(DATASET).feature_names) if f != first)


def load_data(features: tuple[str, str] | list[str]) -> datasets.Dataset:
    """Two standardized features of the diabetes data and its standardized target (mean 0, so no
    intercept is needed: the least-squares intercept is exactly 0)."""
    items = list(features)
    if len(items) != 2:
        raise ValueError(f"features must name exactly 2 features (two weights), got {len(items)}: {items!r}")
    return datasets.get(DATASET).select(items)


@functools.lru_cache(maxsize=16)
def _array_text(data: bytes, shape: tuple[int, ...]) -> str:
    """The data's literal, wrapped: the same for every rerun that keeps the data (only λ changes)."""
    values = np.frombuffer(data, dtype=float).reshape(shape)
    return textwrap.fill(literal(values.tolist()), 110, subsequent_indent="    ", break_long_words=False,
                         break_on_hyphens=False)


def _data_source(X: object, y: object, names: tuple[str, ...], module: str, close: str = ")") -> list[str]:
    """Lines defining ``X`` and ``t``, every number exact (``repr``), wrapped inside the brackets."""
    def array(values: np.ndarray) -> str:
        values = np.ascontiguousarray(values, dtype=float)
        return _array_text(values.tobytes(), values.shape)

    return [comment(f"The page's data: the standardized features {', '.join(map(str, names))} (the columns "
                    "of X, one weight each) and the standardized target t."),
            f"X = {module}(", array(X), close, f"t = {module}(", array(y), close]


def torch_script(X: object, y: object, names: tuple[str, ...], comparison: DecayComparison, *,
                 steps: int) -> str:
    """A self-contained PyTorch script (data inline) running the three optimizers of ``comparison`` with
    the same settings and start; it prints one JSON line per run (its label, final weights and mean
    squared error), equal to the page's to float64 round-off.

    ``names`` label the weights: user text reaches the script only through ``repr`` and comments.

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    names : tuple of str, length p
    comparison : DecayComparison
        Its optimizers and start are written; its runs are what the script reproduces.
    steps : int >= 0

    >>> d = load_data(("bmi", "bp"))
    >>> code = torch_script(d.X, d.y, ("bmi", "bp"), weight_decay_comparison(d.X, d.y, 1.0, steps=2), steps=2)
    >>> "torch.optim.AdamW([params], lr=0.01" in code and "import lossviz" not in code
    True
    """
    steps = check_int(steps, "steps", low=0)
    Xa, ya = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    start = [float(v) for v in comparison.trajectories[0].params[0]]
    makers = [f"    {literal(label)}: lambda params: torch.optim.{opt.torch_name}(["
              f"params], {', '.join(f'{k}={literal(v)}' for k, v in opt.hyperparameters.items())}),"
              for label, opt in zip(comparison.labels, comparison.optimizers)]
    lines = [
        "# Generated by lossviz: SGD with weight decay, Adam + L2 and AdamW on the page's least squares, in",
        "# float64. Each run prints its final weights and mean squared error.",
        "import json",
        "",
        "import torch",
        "",
        *_data_source(Xa, ya, names, "torch.tensor", ", dtype=torch.float64)"),
        f"names = {literal([str(n) for n in names])}",
        "optimizers = {",
        *makers,
        "}",
        "for label, make in optimizers.items():",
        f"    params = torch.tensor({literal(start)}, dtype=torch.float64, requires_grad=True)",
        "    optimizer = make(params)",
        f"    for step in range({steps}):",
        "        optimizer.zero_grad()",
        "        loss = ((X @ params - t) ** 2).mean()",
        "        loss.backward()",
        "        optimizer.step()",
        "    with torch.no_grad():",
        "        mse = float(((X @ params - t) ** 2).mean())",
        "    weights = dict(zip(names, params.tolist()))",
        "    print(json.dumps({'optimizer': label, 'weights': weights, 'mse': mse}))",
        "",
    ]
    return "\n".join(lines)


def sklearn_script(X: object, y: object, names: tuple[str, ...], penalty: str, strength: float, *,
                   l1_ratio: float = 0.5) -> str:
    """A self-contained scikit-learn script (data inline) fitting :func:`sklearn_call`'s estimator; it
    prints the minimizer as JSON (weight name to value), equal to the page's to the solver's tolerance.

    Parameters
    ----------
    X : array_like, shape (m, p)
    y : array_like, shape (m,)
    names : tuple of str, length p
        Only ever a string literal in the script.
    penalty : {"l1", "l2", "elastic_net"}
    strength : float >= 0
    l1_ratio : float in [0, 1]

    >>> d = load_data(("bmi", "bp"))
    >>> code = sklearn_script(d.X, d.y, ("bmi", "bp"), "l2", 0.8)
    >>> "model = Ridge(alpha=176.8, fit_intercept=False).fit(X, t)" in code
    True
    """
    Xa, ya = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    call = sklearn_call(penalty, strength, len(ya), l1_ratio=l1_ratio)
    estimator = call.split("(")[0]
    solver = "" if estimator == "Ridge" else ", tol=1e-12, max_iter=1_000_000"
    lines = [
        "# Generated by lossviz: the page's regularized minimizer with scikit-learn. " + estimator
        + "'s objective is",
        f"# {sklearn_objective_ratio(penalty, len(ya)):g} x the page's (a constant factor: same minimizer).",
        "import json",
        "",
        "import numpy as np",
        f"from sklearn.linear_model import {estimator}",
        "",
        *_data_source(Xa, ya, names, "np.array"),
        f"names = {literal([str(n) for n in names])}",
        f"model = {call[:-1]}{solver}).fit(X, t)",
        "print(json.dumps(dict(zip(names, model.coef_.tolist()))))",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Scenario:
    """A classroom setting of the Regularization page and what it shows (tests check each claim)."""

    title: str
    explanation: str
    features: tuple[str, str] = DEFAULT_FEATURES
    penalty: str = "l1"
    strength: float = 0.8
    l1_ratio: float = 0.5
    weight_decay: float = 4.0
    lr: float = 0.01
    steps: int = 1500
    start: tuple[float, float] = (-1.0, 1.0)

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values."""
        return {"f1": self.features[0], "f2": self.features[1], "penalty": self.penalty,
                "strength": self.strength, "l1_ratio": self.l1_ratio, "decay": self.weight_decay,
                "lr": self.lr, "steps": self.steps, "w0x": self.start[0], "w0y": self.start[1]}


SCENARIOS: dict[str, Scenario] = {
    "lasso_zeros": Scenario(
        "L1 switches a feature off",
        "At λ = 0.8 the smallest diamond that reaches the data's ellipses touches them at a corner, on the "
        "bmi axis: the weight of blood pressure (bp) is exactly 0 (from λ ≈ 0.69 on), while bmi keeps 0.19. "
        "That is feature selection: the lasso's answer has fewer features, not just smaller weights.",
    ),
    "ridge_shrinks": Scenario(
        "L2 shrinks, never zeros",
        "Same data, L2 at λ = 2: the circle touches the ellipses where its boundary is smooth, so both "
        "weights shrink (bmi to 53% of least squares, bp to 68%) but neither becomes 0, however large λ "
        "gets.",
        penalty="l2", strength=2.0,
    ),
    "correlated_pair": Scenario(
        "Correlated features: the lasso keeps one",
        "s4 and s5 (two blood serum measurements) are correlated (r = 0.62). At λ = 0.5 the lasso drops "
        "s4 entirely (exactly 0 from λ ≈ 0.42) and keeps s5; the ridge path keeps both all the way.",
        features=("s4", "s5"), strength=0.5,
    ),
    "elastic_net": Scenario(
        "Elastic net: rounded corners",
        "Half L1, half L2 (ρ = 0.5): the penalty's level sets are diamonds with rounded sides. s4 still "
        "becomes exactly 0 (from λ ≈ 1.24, later than the lasso because only half the penalty is L1), "
        "and s5 is shrunk like ridge.",
        features=("s4", "s5"), penalty="elastic_net", strength=1.5,
    ),
    "adamw_box": Scenario(
        "AdamW is not Adam + L2",
        "Same λ = 4 for all three. SGD with weight decay and Adam with L2 both end at the ridge minimizer "
        "(0.18, 0.12): their decay is the gradient of (λ/2)||w||². AdamW's decay bypasses Adam's scaling, "
        "and it heads elsewhere: after 1500 steps it is at (0.23, 0.24), still closing in on (0.25, 0.25), "
        "the corner of the box |w_j| ≤ 1/λ = 0.25 where it converges as the learning rate goes to 0.",
        penalty="l2", strength=4.0,
    ),
}

DEFAULT_SCENARIO = "lasso_zeros"
