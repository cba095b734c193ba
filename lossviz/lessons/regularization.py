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

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import datasets, landscape, models, optimizers, regularizers
from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar
from lossviz.run import Trajectory, run

__all__ = [
    "PENALTIES", "RegularizationPath", "DecayComparison", "regularized_minimizer", "regularization_path",
    "all_zero_strength", "sklearn_equivalent", "box_constrained_minimizer", "weight_decay_comparison",
    "DATASET", "load_data", "torch_script", "Scenario", "SCENARIOS", "RegularizationView",
    "regularization_view", "PATH_STRENGTHS",
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
    :math:`\\|y - Xw\\|^2 + \\alpha \\|w\\|^2`, ``m/2`` times this module's, so ``alpha = m * strength / 2``.

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


# The strengths of the page's paths: 0 (least squares), then a log grid wide enough for L2 to shrink.
PATH_STRENGTHS = np.concatenate([[0.0], np.geomspace(1e-3, 30.0, 141)])


class RegularizationView(NamedTuple):
    """Everything the Regularization page draws for one (penalty, strength), from one call.

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


def _regularized(model: Any, penalty: str, strength: float, rho: float) -> regularizers.Regularized:
    extra = {"l1_ratio": rho} if penalty == "elastic_net" else {}
    return regularizers.get(penalty, model, strength=strength, **extra)


def regularization_view(X: object, y: object, penalty: str, strength: float, *, l1_ratio: float = 0.5,
                        xs: object, ys: object) -> RegularizationView:
    """The paths, the minimizer and the three landscapes of two-weight least squares on the grid
    ``xs`` x ``ys`` (no intercept: center the data first)."""
    rho = _penalty_parts(penalty, l1_ratio)
    value = check_scalar(strength, "strength", low=0.0)
    Xa = check_array(X, "X", ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"X must have 2 columns (two weights to draw), got shape {Xa.shape}")
    paths = {name: regularization_path(Xa, y, name, PATH_STRENGTHS, l1_ratio=l1_ratio if name == "elastic_net"
                                       else 0.5) for name in PENALTIES}
    minimizer, _ = regularized_minimizer(Xa, y, penalty, value, l1_ratio=rho)
    model = models.linear_regression(Xa, y, fit_intercept=False)
    unit = _regularized(model, penalty, 1.0, rho)
    total = _regularized(model, penalty, value, rho)
    gx, gy = check_array(xs, "xs", ndim=1), check_array(ys, "ys", ndim=1)
    points = np.stack(np.meshgrid(gx, gy), axis=-1)
    return RegularizationView(
        paths, minimizer, paths[penalty].weights[0], gx, gy, landscape.grid(model, gx, gy),
        np.asarray(unit.penalty(points)), landscape.grid(total, gx, gy), float(model.f(minimizer)),
        float(unit.penalty(minimizer)), all_zero_strength(Xa, y, l1_ratio=rho),
        sklearn_equivalent(penalty, value, Xa.shape[0], l1_ratio=rho),
    )


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


def weight_decay_comparison(
    X: object,
    y: object,
    weight_decay: float,
    *,
    lr: float = 0.01,
    sgd_lr: float | None = None,
    steps: int = 1000,
    x0: object = None,
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
    """
    decay = check_scalar(weight_decay, "weight_decay", low=0.0)
    rate = check_scalar(lr, "lr", low=0.0, include_low=False)
    rate_sgd = rate if sgd_lr is None else check_scalar(sgd_lr, "sgd_lr", low=0.0, include_low=False)
    model = models.linear_regression(X, y, fit_intercept=False)
    start = np.zeros(model.dim) if x0 is None else check_array(x0, "x0", ndim=1)
    if start.shape != (model.dim,):
        raise ValueError(f"x0 must have shape ({model.dim},), one entry per weight, got shape {start.shape}")
    built = (
        optimizers.get("sgd", lr=rate_sgd, weight_decay=decay),
        optimizers.get("adam", lr=rate, weight_decay=decay),
        optimizers.get("adamw", lr=rate, weight_decay=decay),
    )
    trajectories = tuple(run(model, opt, start, steps) for opt in built)
    ridge, _ = regularized_minimizer(X, y, "l2", decay)
    ols, _ = regularized_minimizer(X, y, "l2", 0.0)
    box = box_constrained_minimizer(X, y, 1.0 / decay) if decay > 0 else ols
    return DecayComparison(DECAY_LABELS, built, trajectories, ridge, box, ols)


# The real dataset of the lesson: the only regression dataset that ships with scikit-learn here.
DATASET = "diabetes"


def load_data(features: tuple[str, str] | list[str]) -> datasets.Dataset:
    """Two standardized features of the diabetes data and its standardized target (mean 0, so no
    intercept is needed: the least-squares intercept is exactly 0)."""
    items = list(features)
    if len(items) != 2:
        raise ValueError(f"features must name exactly 2 features (two weights), got {len(items)}: {items!r}")
    return datasets.get(DATASET).select(items)


def torch_script(optimizer: Any, features: tuple[str, str] | list[str], *, steps: int, x0: object) -> str:
    """PyTorch code running ``optimizer`` on mean squared error over two diabetes features (no intercept).

    The data comes from ``lossviz.datasets`` (the same standardization), the rest is plain torch; the
    printed final weights equal :func:`lossviz.run.run`'s to float64 round-off.
    """
    from lossviz.torch_export import torch_code

    data = load_data(features)
    code = torch_code(optimizer, steps=steps, x0=x0,
                      objective_expr="((X[:, 0] * x + X[:, 1] * y - t) ** 2).mean()")
    prelude = [
        "from lossviz import datasets  # the same standardized data as the page",
        "",
        f"data = datasets.get({DATASET!r}).select({list(data.feature_names)!r})",
        f"X = torch.tensor(data.X)  # columns {', '.join(data.feature_names)}; x and y are their weights",
        "t = torch.tensor(data.y)",
    ]
    lines = code.split("\n")
    at = lines.index("import torch") + 1
    return "\n".join(lines[:at] + prelude + lines[at:])


@dataclass(frozen=True)
class Scenario:
    """A classroom setting of the Regularization page and what it shows (tests check each claim)."""

    title: str
    explanation: str
    features: tuple[str, str] = ("bmi", "bp")
    penalty: str = "l1"
    strength: float = 0.8
    l1_ratio: float = 0.5
    weight_decay: float = 4.0
    lr: float = 0.01
    steps: int = 1500
    start: tuple[float, float] = (-1.0, 1.0)


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
        "and it ends near (0.24, 0.24), at the corner of the box |w_j| ≤ 1/λ = 0.25 where it converges as "
        "the learning rate goes to 0.",
        penalty="l2", strength=4.0,
    ),
}
