r"""The momentum lesson: heavy ball and Nesterov against plain gradient descent, and where each is stable.

torch's ``SGD`` with momentum :math:`\beta` is, on one Hessian eigen-direction with
:math:`a = \mathrm{lr}\,\lambda`, a linear iteration whose spectral radius :math:`\rho` is the rate
(:func:`lossviz.analysis.momentum_rate`). It is stable iff

.. math::
    \mathrm{lr} < \frac{2(1+\beta)}{\lambda_{\max}} \ \text{(heavy ball)},\qquad
    \mathrm{lr} < \frac{2(1+\beta)}{(1+2\beta)\,\lambda_{\max}} \ \text{(Nesterov)},

and on a quadratic with eigenvalues in :math:`[\mu, L]`, :math:`\kappa = L/\mu`, the rate-optimal
constants are Polyak's :math:`\mathrm{lr} = 4/(\sqrt L + \sqrt\mu)^2`,
:math:`\beta = ((\sqrt\kappa - 1)/(\sqrt\kappa + 1))^2` for heavy ball (rate
:math:`(\sqrt\kappa-1)/(\sqrt\kappa+1)`) and, for Nesterov, :math:`\mathrm{lr} = 4/(3L + \mu)`,
:math:`\beta = (\sqrt{3\kappa+1} - 2)/(\sqrt{3\kappa+1} + 2)` with rate :math:`1 - 2/\sqrt{3\kappa+1}`
(Lessard, Recht & Packard 2016, section 3.2).

This module computes what the "Momentum" page draws:

- :func:`phase_map`: steps to tolerance and final loss over an (lr, momentum) grid, all cells in one
  :func:`lossviz.run.run` call with per-run ``lr`` and ``momentum`` arrays, with the boundary and the
  optimum above; :func:`cell_trajectory` replays one cell;
- :func:`compare_momentum`: none vs heavy ball vs Nesterov from one start, with the theoretical rates,
  and :func:`valley_reversals`, how often a path turns back across the valley;
- :func:`momentum_frames`: the paths for a range of momenta, precomputed for a slider in the browser.

A run call records every point of every run (about 80 bytes each at its peak): a phase map larger than
:data:`MAX_RECORDED_POINTS` points (cells x (steps + 1)) is run in blocks of momentum rows.

    >>> import numpy as np
    >>> from lossviz import surfaces
    >>> from lossviz.lessons.momentum import phase_map
    >>> pm = phase_map(surfaces.get("quadratic"), np.array([-2.0, 1.5]), 100, n_lr=16, n_momentum=16)
    >>> pm.steps_to_tol.shape
    (16, 16)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lossviz import analysis, optimizers
from lossviz._validation import (
    check_array, check_choice, check_int, check_objective, check_scalar, check_start,
)
from lossviz.analysis import Curvature, reference_curvature
from lossviz.settings import LessonScenario
from lossviz.run import Trajectory, run

__all__ = [
    "METHODS",
    "stability_boundary",
    "optimal_tuning",
    "PhaseMap",
    "phase_map",
    "cell_trajectory",
    "MomentumComparison",
    "compare_momentum",
    "MomentumFrames",
    "momentum_frames",
    "frame_momenta",
    "valley_reversals",
    "setting_summary",
    "rates_summary",
    "phase_summary",
    "cell_summary",
    "default_cell",
    "MOMENTUM_SCENARIOS",
    "MAX_RECORDED_POINTS",
]

METHODS = ("heavy_ball", "nesterov")
METHOD_TITLES = {"heavy_ball": "heavy ball", "nesterov": "Nesterov"}
MAX_STEPS = 10_000
MAX_SIDE = 128
# Points (runs x (steps + 1)) one run call may record: about 120 MB at its peak, within a page's 300 MB.
MAX_RECORDED_POINTS = 1_500_000
# torch refuses nesterov=True with momentum 0, so a Nesterov map's momentum axis starts just above it.
NESTEROV_MIN_MOMENTUM = 0.01
# The lr axis spans from this fraction of 2/lambda_max to this factor above the largest boundary value.
LR_AXIS_LOW = 0.01
LR_AXIS_HEADROOM = 1.15


def _check_method(method: str) -> bool:
    """True for Nesterov."""
    return check_choice(method, "method", METHODS) == "nesterov"


def stability_boundary(lambda_max: float, momenta: object, method: str = "heavy_ball") -> np.ndarray:
    r"""The largest stable lr for each momentum: :math:`2(1+\beta)/\lambda_{\max}` (heavy ball) or
    :math:`2(1+\beta)/((1+2\beta)\lambda_{\max})` (Nesterov), from :func:`lossviz.analysis.max_stable_lr`.

    Parameters
    ----------
    lambda_max : float > 0
    momenta : array_like, shape (m,), values in [0, 1)
    method : {"heavy_ball", "nesterov"}

    Returns
    -------
    ndarray, shape (m,)
    """
    lambda_max = check_scalar(lambda_max, "lambda_max", low=0.0, include_low=False)
    betas = check_array(momenta, "momenta", ndim=1)
    return np.asarray(analysis.max_stable_lr(lambda_max, betas, _check_method(method)), dtype=np.float64)


def optimal_tuning(curvature: Curvature, method: str = "heavy_ball") -> analysis.OptimalTuning:
    """The rate-optimal constant (lr, momentum) on eigenvalues in [lambda_min, lambda_max] (module docstring).

    Raises
    ------
    ValueError
        When ``lambda_min <= 0`` (no linear rate to optimize).
    """
    nesterov = _check_method(method)
    mu, top = curvature.lambda_min, curvature.lambda_max
    if mu <= 0:
        raise ValueError(f"the optimal tuning needs λ_min > 0, but λ_min = {mu:.3g} at {curvature.where}")
    if not nesterov:
        return analysis.optimal_hyperparameters(mu, top, "heavy_ball")
    root = math.sqrt(3.0 * top / mu + 1.0)
    return analysis.OptimalTuning(lr=4.0 / (3.0 * top + mu), momentum=(root - 2.0) / (root + 2.0),
                                  rate=1.0 - 2.0 / root)


def _sgd(lr: Any, momentum: Any, nesterov: bool) -> optimizers.Optimizer:
    if nesterov and np.all(np.asarray(momentum) > 0):
        return optimizers.get("sgd", lr=lr, momentum=momentum, nesterov=True)
    # Nesterov with momentum 0 is plain gradient descent; torch only refuses the flag, not the method.
    return optimizers.get("sgd", lr=lr, momentum=momentum)


# ------------------------------------------------------------------------------------------ phase map
@dataclass(frozen=True, eq=False)
class PhaseMap:
    """Every cell of an (lr, momentum) grid run from one start.

    Grids follow the project convention: rows follow momentum (y), columns follow lr (x), so
    ``steps_to_tol[i, j]`` is the run with ``momenta[i]`` and ``lrs[j]``.

    Attributes
    ----------
    lrs : ndarray, shape (n_lr,)
        Ascending, log-spaced.
    momenta : ndarray, shape (n_momentum,)
        Ascending.
    method : {"heavy_ball", "nesterov"}
    steps : int
    rel_tol : float
        Relative tolerance (see :func:`phase_map`).
    tolerance_on : {"distance", "gradient"}
        What ``rel_tol`` applies to: the distance to the reference minimum, or the gradient norm when no
        minimum is known.
    steps_to_tol : ndarray, shape (n_momentum, n_lr)
        The first step from which the distance (gradient norm) stays below ``rel_tol`` times its value at
        ``x0`` for the rest of the run; NaN where that never happens within ``steps`` (or it diverged).
    final_loss : ndarray, shape (n_momentum, n_lr)
        Loss after ``steps`` steps; NaN if the run diverged.
    diverged_at : ndarray of int, shape (n_momentum, n_lr)
    start_loss : float
    x0 : ndarray, shape (d,)
    curvature : Curvature
    optimal : OptimalTuning
        The theoretical optimum; NaN fields when lambda_min <= 0.
    """

    lrs: np.ndarray
    momenta: np.ndarray
    method: str
    steps: int
    rel_tol: float
    tolerance_on: str
    steps_to_tol: np.ndarray
    final_loss: np.ndarray
    diverged_at: np.ndarray
    start_loss: float
    x0: np.ndarray
    curvature: Curvature
    optimal: analysis.OptimalTuning

    @property
    def nesterov(self) -> bool:
        return self.method == "nesterov"

    @property
    def converged(self) -> np.ndarray:
        return np.isfinite(self.steps_to_tol)

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def grew(self) -> np.ndarray:
        """Cells that did not diverge but ended above their start loss."""
        with np.errstate(invalid="ignore"):
            return ~self.diverged & (self.final_loss > self.start_loss)

    def boundary(self, momenta: object | None = None) -> np.ndarray:
        """The theoretical largest stable lr at each momentum (default: this map's momentum axis)."""
        betas = self.momenta if momenta is None else momenta
        return stability_boundary(self.curvature.lambda_max, betas, self.method)

    @property
    def theory_unstable(self) -> np.ndarray:
        """Cells beyond the boundary, shape (n_momentum, n_lr)."""
        return self.lrs[None, :] > self.boundary()[:, None]

    def predicted_rate(self) -> np.ndarray:
        """Theoretical spectral radius of every cell at the reference curvature, shape (n_momentum, n_lr)."""
        return np.asarray(analysis.momentum_rate(self.lrs[None, :], self.momenta[:, None],
                                                 self.curvature.eigenvalues, self.nesterov))

    def settings(self, row: int, column: int) -> tuple[float, float]:
        """(lr, momentum) of cell ``[row, column]``."""
        row = check_int(row, "row", low=0, high=self.momenta.size - 1)
        column = check_int(column, "column", low=0, high=self.lrs.size - 1)
        return float(self.lrs[column]), float(self.momenta[row])

    def cell_optimizer(self, row: int, column: int) -> optimizers.Optimizer:
        """The torch SGD of cell ``[row, column]`` (for its run or its PyTorch code)."""
        lr, momentum = self.settings(row, column)
        return _sgd(lr, momentum, self.nesterov)

    def nearest_cell(self, lr: float, momentum: float) -> tuple[int, int]:
        """(row, column) of the cell closest to (lr, momentum): lr compared on the log scale it is laid on."""
        lr = check_scalar(lr, "lr", low=0.0, include_low=False)
        momentum = check_scalar(momentum, "momentum")
        column = int(np.argmin(np.abs(np.log(self.lrs) - math.log(lr))))
        return int(np.argmin(np.abs(self.momenta - momentum))), column

    def best_cell(self) -> tuple[int, int]:
        """The measured best cell: fewest steps to tolerance, else the lowest final loss."""
        values = self.steps_to_tol if self.converged.any() else self.final_loss
        if np.all(np.isnan(values)):
            raise ValueError("every cell of the phase map diverged: there is no best cell")
        row, column = np.unravel_index(int(np.nanargmin(values)), values.shape)
        return int(row), int(column)

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``lr, momentum, steps_to_tol, final_loss, diverged_at, boundary_lr``."""
        lr, momentum = np.meshgrid(self.lrs, self.momenta)
        return pd.DataFrame({
            "lr": lr.ravel(), "momentum": momentum.ravel(), "steps_to_tol": self.steps_to_tol.ravel(),
            "final_loss": self.final_loss.ravel(), "diverged_at": self.diverged_at.ravel(),
            "boundary_lr": np.repeat(self.boundary(), self.lrs.size),
        })


def _momentum_axis(n: int, momentum_max: float, nesterov: bool) -> np.ndarray:
    return np.linspace(NESTEROV_MIN_MOMENTUM if nesterov else 0.0, momentum_max, n)


def _distance(points: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Euclidean distance of ``points`` (..., d) to ``center`` (d,), NaN where a point is not finite.

    Column by column for small d: numpy's reduction over a length-2 last axis took a sixth of a
    64 x 64 x 300-step phase map's time.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        if points.shape[-1] > 8:
            offset = points - center
            return np.sqrt(np.einsum("...d,...d->...", offset, offset))
        squared = (points[..., 0] - center[0]) ** 2
        for j in range(1, points.shape[-1]):
            squared += (points[..., j] - center[j]) ** 2
        return np.sqrt(squared)


def _settled_at(error: np.ndarray, tol: float) -> np.ndarray:
    """Per run, the first index from which ``error < tol`` to the end; -1 if not even at the end.

    ``error`` has shape (R, T+1); NaN (a diverged run) counts as above the tolerance.
    """
    above = ~(error < tol)
    n_points = error.shape[1]
    # Index of the last point above the tolerance, from the right: argmax of the reversed mask.
    last_above = n_points - 1 - np.argmax(above[:, ::-1], axis=1)
    settled = np.where(above.any(axis=1), last_above + 1, 0)
    return np.where(settled < n_points, settled, -1)


def phase_map(
    objective: Any,
    x0: object,
    steps: int,
    *,
    method: str = "heavy_ball",
    n_lr: int = 64,
    n_momentum: int = 64,
    rel_tol: float = 1e-6,
    momentum_max: float = 0.99,
    curvature: Curvature | None = None,
) -> PhaseMap:
    r"""Run torch SGD with every (lr, momentum) of a grid from ``x0``: one run call of
    ``n_lr * n_momentum`` runs with per-run ``lr`` and ``momentum`` arrays (one per block of momentum rows
    when the cells times ``steps + 1`` exceed :data:`MAX_RECORDED_POINTS`).

    The lr axis is log-spaced from ``0.01 * 2/lambda_max`` to 1.15 times the largest boundary value on
    the momentum axis, so the boundary always crosses the map; the momentum axis is linear from 0
    (0.01 for Nesterov, which torch refuses at 0) to ``momentum_max``.

    "Steps to tolerance" is the step from which the distance to the reference minimum
    :math:`\lVert x_t - x^*\rVert` *stays* below ``rel_tol`` times its start value (the gradient norm
    when no minimum is known). Two measured reasons for that choice:

    - *stays*, not *first falls*: with momentum the error spirals and passes close to zero mid-spiral, so
      a first crossing rewards lucky timing (on the kappa-100 quadratic a Nesterov cell's gradient crossed
      a 1e-6 tolerance at step 23 and rose above it again until step 70). So no run stops early.
    - the distance, not the gradient: the gradient weighs each eigen-direction by its curvature, so on
      the kappa-100 quadratic the flat direction starts 100 times below the tolerance's scale and the
      fastest cells were those that damp the sharp direction, far from the rate-optimal point the theory
      gives (Nesterov: best cell (0.92, 0.83) in 78 steps, 161 steps at the optimum). Measured on the
      distance, the best cells sit at the theoretical optimum.

    Parameters
    ----------
    objective : objective
    x0 : array_like, shape (d,)
    steps : int in [1, 10000]
    method : {"heavy_ball", "nesterov"}
    n_lr, n_momentum : int in [8, 128]
    rel_tol : float in (0, 1)
        Tolerance relative to the start's distance to the minimum (gradient norm without a minimum).
    momentum_max : float in (0.01, 0.999]
    curvature : Curvature, optional
        Default :func:`lossviz.lessons.learning_rate.reference_curvature` ``(objective, x0)``.
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    nesterov = _check_method(method)
    n_lr = check_int(n_lr, "n_lr", low=8, high=MAX_SIDE)
    n_momentum = check_int(n_momentum, "n_momentum", low=8, high=MAX_SIDE)
    rel_tol = check_scalar(rel_tol, "rel_tol", low=0.0, high=1.0, include_low=False, include_high=False)
    momentum_max = check_scalar(momentum_max, "momentum_max", low=NESTEROV_MIN_MOMENTUM, high=0.999,
                                include_low=False)
    curvature = reference_curvature(objective, start) if curvature is None else curvature
    momenta = _momentum_axis(n_momentum, momentum_max, nesterov)
    top = float(stability_boundary(curvature.lambda_max, momenta, method).max())
    lrs = np.geomspace(LR_AXIS_LOW * curvature.max_stable_lr, LR_AXIS_HEADROOM * top, n_lr)
    lr_grid, momentum_grid = np.meshgrid(lrs, momenta)
    shape = (n_momentum, n_lr)
    tolerance_on = "distance" if curvature.is_minimum else "gradient"
    converged_at, diverged_at, final = np.empty(shape, dtype=int), np.empty(shape, dtype=int), np.empty(shape)
    rows = max(1, MAX_RECORDED_POINTS // (n_lr * (steps + 1)))
    for first in range(0, n_momentum, rows):  # only each cell's summary is kept: memory stays one block's
        part = slice(first, first + rows)
        optimizer = _sgd(lr_grid[part].ravel(), momentum_grid[part].ravel(), nesterov)
        trajectory = run(objective, optimizer, start, steps)
        error = (_distance(trajectory.params, curvature.point) if curvature.is_minimum
                 else trajectory.grad_norm)
        if not (np.isfinite(error[0, 0]) and error[0, 0] > 0):
            where = curvature.where if curvature.is_minimum else "a stationary point"
            raise ValueError(f"x0 is already at {where}: there is nothing to converge; move the start")
        block = lr_grid[part].shape
        converged_at[part] = _settled_at(error, rel_tol * float(error[0, 0])).reshape(block)
        diverged_at[part] = trajectory.diverged_at.reshape(block)
        final[part] = trajectory.loss[:, -1].reshape(block)
        start_loss = float(trajectory.loss[0, 0])
    final[diverged_at >= 0] = np.nan
    try:
        optimum = optimal_tuning(curvature, method)
    except ValueError:
        optimum = analysis.OptimalTuning(math.nan, math.nan, math.nan)
    steps_to_tol = np.where(converged_at >= 0, converged_at, np.nan).astype(np.float64)
    return PhaseMap(lrs, momenta, method, steps, rel_tol, tolerance_on, steps_to_tol, final, diverged_at,
                    start_loss, start.copy(), curvature, optimum)


def cell_trajectory(objective: Any, phase: PhaseMap, row: int, column: int) -> Trajectory:
    """Replay cell ``[row, column]`` of ``phase`` alone (same optimizer, start and steps): its path."""
    if not isinstance(phase, PhaseMap):
        raise TypeError(f"phase must be a PhaseMap from phase_map, got {type(phase).__name__}")
    return run(objective, phase.cell_optimizer(row, column), phase.x0, phase.steps)


# --------------------------------------------------------------------------------- comparing methods
def _measured_rate(params: np.ndarray, minimum: np.ndarray) -> float:
    """Contraction per step of the distance to ``minimum``: ``exp(slope)`` of a least-squares line through
    ``log(distance)`` over the second half of the decay.

    A fit rather than the ratio of two points, because with momentum the distance oscillates (a spiral),
    and a two-point ratio depends on where in the swing the points fall.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        errors = np.linalg.norm(params - minimum, axis=-1)
    usable = np.isfinite(errors) & (errors > 1e-10 * max(float(errors[0]), 1e-300))
    last = int(np.argmin(usable)) - 1 if not usable.all() else errors.size - 1
    if last < 8 or not usable[: last + 1].all():
        return math.nan
    window = np.arange(last // 2, last + 1)
    slope = np.polyfit(window.astype(float), np.log(errors[window]), 1)[0]
    return float(math.exp(slope))


@dataclass(frozen=True, eq=False)
class MomentumComparison:
    """Plain GD, heavy ball and Nesterov with the same lr and momentum from one start.

    Attributes
    ----------
    labels : tuple of 3 str
    optimizers : tuple of 3 Optimizer
    trajectories : tuple of 3 Trajectory
        Unbatched: params (T+1, d).
    theory_rates : ndarray, shape (3,)
        Spectral radius at the reference curvature (:func:`lossviz.analysis.momentum_rate`).
    measured_rates : ndarray, shape (3,)
        Contraction per step of the distance to the reference point, fitted over the second half of the
        run (NaN when the run diverged or reached round-off too soon to measure).
    lr, momentum : float
    curvature : Curvature
    """

    labels: tuple[str, ...]
    optimizers: tuple[optimizers.Optimizer, ...]
    trajectories: tuple[Trajectory, ...]
    theory_rates: np.ndarray
    measured_rates: np.ndarray
    lr: float
    momentum: float
    curvature: Curvature

    def runs(self) -> list[tuple[str, optimizers.Optimizer, None]]:
        """``(label, optimizer, None)`` of each method (for its PyTorch code)."""
        return [(label, optimizer, None)
                for label, optimizer in zip(self.labels, self.optimizers, strict=True)]

    def distances(self) -> list[np.ndarray]:
        """Each method's distance to the reference point at every step, shape (T+1,) (NaN once diverged)."""
        return [_distance(t.params, self.curvature.point) for t in self.trajectories]

    def to_frame(self) -> pd.DataFrame:
        """One row per (method, step): ``method, step, <params>, loss, grad_norm, lr``."""
        frames = []
        for label, trajectory in zip(self.labels, self.trajectories, strict=True):
            frame = trajectory.to_frame().drop(columns="run", errors="ignore")
            frame.insert(0, "method", label)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def compare_momentum(
    objective: Any, x0: object, lr: float, momentum: float, steps: int, curvature: Curvature | None = None
) -> MomentumComparison:
    """None vs heavy ball vs Nesterov (torch SGD) with the same ``lr`` and ``momentum``.

    Parameters
    ----------
    lr : float > 0
    momentum : float in [0, 1)
        At 0 all three are plain gradient descent.
    steps : int in [1, 10000]
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    lr = check_scalar(lr, "lr", low=0.0, include_low=False)
    momentum = check_scalar(momentum, "momentum", low=0.0, high=1.0, include_high=False)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    curvature = reference_curvature(objective, start) if curvature is None else curvature
    built = (_sgd(lr, 0.0, False), _sgd(lr, momentum, False), _sgd(lr, momentum, True))
    labels = ("no momentum (GD)", f"heavy ball β={momentum:g}", f"Nesterov β={momentum:g}")
    trajectories = tuple(run(objective, opt, start, steps) for opt in built)
    theory = np.array([analysis.momentum_rate(lr, beta, curvature.eigenvalues, nesterov)
                       for beta, nesterov in ((0.0, False), (momentum, False), (momentum, True))])
    measured = np.array([_measured_rate(t.params, curvature.point) for t in trajectories])
    return MomentumComparison(labels, built, trajectories, theory, measured, lr, momentum, curvature)


def valley_reversals(params: object, curvature: Curvature, visible: float) -> int:
    """How often a path turns back across the valley: the sign changes of its steps' components along
    the sharpest direction (the Hessian's eigenvector of λ_max), counting only steps longer than
    ``visible`` there, so a bounce too small to see is not counted.

    Parameters
    ----------
    params : array_like, shape (T+1, d)
        A path (NaN rows after a divergence are left out).
    curvature : Curvature
    visible : float >= 0
        Length along the sharp direction below which a step is not counted.

    Returns
    -------
    int

    >>> from lossviz import surfaces
    >>> from lossviz.analysis import reference_curvature
    >>> bowl = surfaces.get("quadratic", condition_number=10.0, rotation=0.0)
    >>> zigzag = np.array([[0.0, 1.0], [0.0, -0.5], [0.0, 0.25], [0.0, 0.2]])
    >>> valley_reversals(zigzag, reference_curvature(bowl, [1.0, 1.0]), 0.01)
    2
    """
    path = check_array(params, "params", ndim=2, last_dim=curvature.point.size, finite=False)
    visible = check_scalar(visible, "visible", low=0.0)
    sharp = np.linalg.eigh(curvature.hessian)[1][:, -1]
    path = path[np.all(np.isfinite(path), axis=1)]
    across = np.diff(path, axis=0) @ sharp
    signs = np.sign(across[np.abs(across) > visible])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


@dataclass(frozen=True, eq=False)
class MomentumFrames:
    """Heavy-ball and Nesterov paths for each momentum of a slider, precomputed.

    Attributes
    ----------
    momenta : ndarray, shape (K,)
    heavy_ball, nesterov : ndarray, shape (K, T+1, d)
        NaN after a run diverged.
    heavy_ball_loss, nesterov_loss : ndarray, shape (K, T+1)
    lr : float
    """

    momenta: np.ndarray
    heavy_ball: np.ndarray
    nesterov: np.ndarray
    heavy_ball_loss: np.ndarray
    nesterov_loss: np.ndarray
    lr: float


def frame_momenta(selected: float, count: int = 50, top: float = 0.98) -> np.ndarray:
    """``count`` momenta evenly spaced in [0, top], plus ``selected`` so the slider can start on it."""
    selected = check_scalar(selected, "selected", low=0.0, high=1.0, include_high=False)
    count = check_int(count, "count", low=2, high=200)
    top = check_scalar(top, "top", low=0.0, high=1.0, include_low=False, include_high=False)
    return np.unique(np.append(np.linspace(0.0, top, count), selected))


def momentum_frames(objective: Any, x0: object, lr: float, steps: int, momenta: object) -> MomentumFrames:
    """Paths of heavy ball and Nesterov for every momentum in ``momenta``: two run calls (Nesterov is a
    flag, not a per-run value), each with a per-run momentum array.

    Parameters
    ----------
    lr : float > 0
    steps : int in [1, 10000]
    momenta : array_like, shape (K,), K in [1, 201], values in [0, 1)
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    lr = check_scalar(lr, "lr", low=0.0, include_low=False)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    betas = check_array(momenta, "momenta", ndim=1)
    if not 1 <= betas.size <= 201 or np.any(betas < 0) or np.any(betas >= 1):
        span = f"[{betas.min():g}, {betas.max():g}]" if betas.size else "none"
        raise ValueError(f"momenta must hold 1 to 201 values in [0, 1), got {betas.size} values in {span}")
    heavy = run(objective, optimizers.get("sgd", lr=np.full(betas.size, lr), momentum=betas), start, steps)
    positive = betas > 0
    nesterov_params = heavy.params.copy()
    nesterov_loss = heavy.loss.copy()
    if positive.any():
        # Nesterov at momentum 0 is gradient descent, which the heavy-ball row at 0 already is.
        nesterov = optimizers.get("sgd", lr=np.full(int(positive.sum()), lr), momentum=betas[positive],
                                  nesterov=True)
        nest = run(objective, nesterov, start, steps)
        nesterov_params[positive] = nest.params
        nesterov_loss[positive] = nest.loss
    return MomentumFrames(betas.copy(), heavy.params, nesterov_params, heavy.loss, nesterov_loss, lr)


# ------------------------------------------------------------------------------------------- in words
def setting_summary(title: str, curvature: Curvature, fraction: float, momentum: float) -> str:
    """The curvature and the page's lr (``fraction`` x 2/λ_max) and β in one sentence (Markdown; ``title``
    is the surface's trusted title).

    >>> from lossviz import surfaces
    >>> bowl = surfaces.get("quadratic")
    >>> curvature = reference_curvature(bowl, [1.0, 1.0])
    >>> "lr = 0.5 × 2/λ_max = **1**" in setting_summary(bowl.title, curvature, 0.5, 0.9)
    True
    """
    return (f"**{title}.** At {curvature.where}: λ_max = {curvature.lambda_max:.4g}, λ_min = "
            f"{curvature.lambda_min:.4g} (κ = {curvature.condition_number:.4g}). lr = {fraction:g} × "
            f"2/λ_max = **{fraction * curvature.max_stable_lr:.4g}**, β = **{momentum:g}**.")


def rates_summary(comparison: MomentumComparison) -> str:
    """Each method's theoretical and measured contraction per step (Markdown).

    >>> from lossviz import surfaces
    >>> comparison = compare_momentum(surfaces.get("quadratic"), [-2.0, 1.5], 1.0, 0.5, 100)
    >>> "**heavy ball β=0.5**: theory ρ = 0.7071" in rates_summary(comparison)  # √β
    True
    """
    rows = []
    for label, rho, m, t in zip(comparison.labels, comparison.theory_rates, comparison.measured_rates,
                                comparison.trajectories, strict=True):
        if int(t.diverged_at) >= 0:  # no second half to measure: the run blew up
            rows.append(f"**{label}**: theory ρ = {rho:.4g}, the run diverged at step {int(t.diverged_at)}")
        elif np.isfinite(m):
            rows.append(f"**{label}**: theory ρ = {rho:.4g}, measured {m:.4g}")
        else:
            rows.append(f"**{label}**: theory ρ = {rho:.4g}" + (" > 1: diverges" if rho > 1 else ""))
    return ("Contraction of the distance per step (second half of the run): " + "; ".join(rows) + ". The "
            "slider under the map replays heavy ball and Nesterov for every β at this lr, precomputed.")


def phase_summary(result: PhaseMap, metric: str) -> str:
    """What the phase map shows against the theory (Markdown); ``metric`` is "steps" or "final".

    >>> from lossviz import surfaces
    >>> pm = phase_map(surfaces.get("quadratic"), [-2.0, 1.5], 50, n_lr=16, n_momentum=16)
    >>> phase_summary(pm, "steps").startswith("16×16 = 256 runs of 50 steps")
    True
    """
    n_rows, n_cols = result.steps_to_tol.shape
    mismatch = (result.diverged | result.grew) != result.theory_unstable
    if result.diverged.all():
        fastest = "every cell diverged from this start"
    else:
        row, col = result.best_cell()
        fastest = f"the fastest cell is lr {result.lrs[col]:.4g}, β {result.momenta[row]:.3f}"
    formula = "2(1+β)/((1+2β)λ_max)" if result.nesterov else "2(1+β)/λ_max"
    grey = (f" Grey cells did not get within the tolerance in {result.steps} steps." if metric == "steps"
            else "")
    best = result.optimal
    return (f"{n_rows}×{n_cols} = {n_rows * n_cols:,} runs of {result.steps} steps in one vectorized run. "
            f"Theory: stable left of the dashed line, lr < {formula}; the star is the rate-optimal tuning "
            f"lr = {best.lr:.4g}, β = {best.momentum:.3g} (ρ = {best.rate:.4g}). Measured: "
            f"{int(mismatch.sum())} of {mismatch.size:,} cells disagree with the line about stability; "
            f"{fastest}.{grey}")


def cell_summary(result: PhaseMap, row: int, column: int, clicked: bool) -> str:
    """How the run of cell ``[row, column]`` ended, for the clicked (or, before a click, the default) cell.

    >>> from lossviz import surfaces
    >>> pm = phase_map(surfaces.get("quadratic"), [-2.0, 1.5], 50, n_lr=16, n_momentum=16)
    >>> cell_summary(pm, 0, 15, True).endswith("β 0.000 diverged.")  # past the boundary at β = 0
    True
    """
    lr, momentum = result.settings(row, column)
    ending = (f"reaches the tolerance at step {result.steps_to_tol[row, column]:.0f}"
              if result.converged[row, column] else "diverged" if result.diverged[row, column]
              else f"does not reach the tolerance in {result.steps} steps")
    return (("Clicked cell" if clicked else "No cell clicked yet; showing the one nearest the theoretical "
             "optimum") + f": lr {lr:.4g}, β {momentum:.3f} {ending}.")


def default_cell(result: PhaseMap, row: int, column: int) -> tuple[int, int, bool]:
    """``(row, column, clicked)``: the cell asked for when it is on the map, else the one nearest the
    theoretical optimum (the first cell when there is none).

    Parameters
    ----------
    result : PhaseMap
    row, column : int
        The cell a link or a click asked for; -1 (or any index off this map) for none.

    >>> from lossviz import surfaces
    >>> pm = phase_map(surfaces.get("quadratic"), [-2.0, 1.5], 50, n_lr=16, n_momentum=16)
    >>> default_cell(pm, 3, 4), default_cell(pm, -1, -1)[2]
    ((3, 4, True), False)
    """
    n_rows, n_cols = result.steps_to_tol.shape
    if 0 <= row < n_rows and 0 <= column < n_cols:
        return row, column, True
    if np.isfinite(result.optimal.lr):
        return (*result.nearest_cell(result.optimal.lr, result.optimal.momentum), False)
    return 0, 0, False


# ------------------------------------------------------------------------------------------- scenarios
MOMENTUM_SCENARIOS: dict[str, LessonScenario] = {
    "walls": LessonScenario(
        "Ravine: gradient descent bounces, momentum's bounces cancel",
        {"surface": "quadratic", "kappa": 100.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 150,
         "lr": 0.9, "momentum": 0.6, "method": "heavy_ball"},
        "The valley floor is 100 times flatter than its walls, and lr = 0.9 × 2/λ_max is close to the "
        "limit. Gradient descent overshoots the floor on every step, bouncing from wall to wall about twice "
        "as often as heavy ball, and creeps along the floor at 1 − lr·λ_min ≈ 0.98 per step. With momentum "
        "0.6, heavy ball's pushes across the valley alternate and cancel while those along the floor add "
        "up: it ends about a hundred times closer. Nesterov's look-ahead lowers its limit to "
        "2(1+β)/((1+2β)λ_max) ≈ 0.73 × 2/λ_max, so at this lr it flies off.",
    ),
    "ravine": LessonScenario(
        "Ravine: momentum glides where gradient descent crawls",
        {"surface": "quadratic", "kappa": 100.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 150,
         "lr": 0.5, "momentum": 0.9, "method": "heavy_ball"},
        "The valley floor is 100 times flatter than its walls. Gradient descent at lr = 1 drops straight to "
        "the floor and creeps along it, shrinking the error by 1 − lr·λ_min = 0.99 per step. With momentum "
        "0.9 the steps along the floor add up: heavy ball and Nesterov contract by about √0.9 ≈ 0.95 per "
        "step and end hundreds of times closer to the minimum, though heavy ball swings across the valley "
        "on the way, carried past the floor by its own speed.",
    ),
    "optimal": LessonScenario(
        "Polyak's tuning: √κ instead of κ",
        {"surface": "quadratic", "kappa": 100.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 150,
         "lr": 1.65, "momentum": 0.67, "method": "heavy_ball"},
        "lr = 4/(√λ_max + √λ_min)² ≈ 3.3 and β = ((√κ − 1)/(√κ + 1))² ≈ 0.67 give heavy ball the rate "
        "(√κ − 1)/(√κ + 1) ≈ 0.82 per step, where the best plain gradient descent manages (κ − 1)/(κ + 1) ≈ "
        "0.98. Look at the lr: 1.65 × 2/λ_max. Plain gradient descent (and Nesterov, whose limit is lower) "
        "diverges there; heavy-ball momentum moves the limit to 2(1+β)/λ_max. The white star on the phase "
        "map marks this point.",
    ),
    "nesterov_edge": LessonScenario(
        "Nesterov's limit is lower than heavy ball's",
        {"surface": "quadratic", "kappa": 10.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 100,
         "lr": 0.8, "momentum": 0.9, "method": "nesterov"},
        "At β = 0.9 heavy ball is stable up to lr = 2(1+β)/λ_max = 3.8, but Nesterov only up to "
        "2(1+β)/((1+2β)λ_max) ≈ 1.36, because its look-ahead gradient adds a second push along the sharp "
        "direction. At lr = 1.6 heavy ball converges and Nesterov flies off: see the phase map's boundary "
        "bend left as β grows.",
    ),
    "too_much_momentum": LessonScenario(
        "Too much momentum: a slow spiral",
        {"surface": "quadratic", "kappa": 10.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 150,
         "lr": 0.5, "momentum": 0.99, "method": "heavy_ball"},
        "With β = 0.99 the ball hardly loses speed: it circles the minimum many times, and the error can "
        "shrink no faster than √β ≈ 0.995 per step, whatever the lr. Gradient descent with the same lr is "
        "done long before. Drag the momentum slider under the map to watch the spiral tighten as β falls.",
    ),
}


