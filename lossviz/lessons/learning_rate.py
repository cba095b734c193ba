r"""The learning-rate lesson: what the step size does, measured, with the theory drawn on top.

On a quadratic :math:`f(x) = f^* + \tfrac12 (x - x^*)^\top H (x - x^*)` gradient descent multiplies the
error along each Hessian eigenvector :math:`v_i` by :math:`1 - \mathrm{lr}\,\lambda_i` per step, so after
:math:`T` steps

.. math::
    f(x_T) - f^* = \tfrac12 \sum_i \lambda_i c_i^2 (1 - \mathrm{lr}\,\lambda_i)^{2T},
    \qquad c_i = v_i^\top (x_0 - x^*).

It converges iff :math:`\mathrm{lr} < 2/\lambda_{\max}`, and the rate-optimal constant step is
:math:`2/(\lambda_{\max} + \lambda_{\min})`. On any other smooth surface the same holds near a minimum,
with :math:`H` the Hessian there (:func:`reference_curvature`). This module computes what the "Learning
rate & decay" page draws, each view from one vectorized :func:`lossviz.run.run` call:

- :func:`compare_learning_rates`: trajectories for several learning rates at once, and in the same run
  call the same runs at every multiple of their rates a scrubber offers (:func:`scrub_factors`);
- :func:`learning_rate_sweep`: the final loss for hundreds of learning rates, next to the closed form;
- :func:`compare_schedules`: every decay schedule (optionally after a warm-up) from the same start, and
  in the same run call the same at every multiple of the peak rate;
- :func:`range_test`: the learning-rate range test, with its lr span set by the curvature.

A run call records every point of every run (about 80 bytes each at its peak), so work larger than
:data:`MAX_RECORDED_POINTS` points (runs x (steps + 1)) is run in blocks of runs, one call per block.

    >>> import numpy as np
    >>> from lossviz import surfaces
    >>> from lossviz.lessons.learning_rate import learning_rate_sweep
    >>> sweep = learning_rate_sweep(surfaces.get("quadratic"), np.array([-2.0, 1.5]), 100, n_lrs=200)
    >>> sweep.lrs.shape, round(sweep.curvature.max_stable_lr, 6)
    ((200,), 2.0)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lossviz import analysis, optimizers, schedules
from lossviz.analysis import Curvature, reference_curvature
from lossviz.settings import LessonScenario
from lossviz._validation import (
    check_array, check_choice, check_int, check_objective, check_scalar, check_start,
)
from lossviz.run import Trajectory, run

__all__ = [
    "gd_quadratic_loss",
    "LR_CHOICES",
    "DECAY_STEPS",
    "warmup_too_long",
    "choice_lr",
    "choice_label",
    "LearningRateComparison",
    "compare_learning_rates",
    "LearningRateSweep",
    "learning_rate_sweep",
    "SCHEDULE_ORDER",
    "lesson_schedule",
    "ScheduleComparison",
    "compare_schedules",
    "range_test",
    "LR_SCENARIOS",
    "MAX_SWEEP_LRS",
    "MAX_RECORDED_POINTS",
    "FRAME_POINTS",
    "scrub_factors",
    "RateFrames",
    "ScheduleFrames",
    "curvature_summary",
    "sweep_summary",
    "schedule_summary",
    "range_test_summary",
]

MAX_SWEEP_LRS = 5000
MAX_STEPS = 10_000
# Points (runs x (steps + 1)) one run call may record: about 120 MB at its peak, within a page's 300 MB.
MAX_RECORDED_POINTS = 1_500_000
# Path points a scrubber's frames may send to the browser with one figure (about 2.4 MB as JSON).
FRAME_POINTS = 150_000
# Relative difference between two Hessians below which the surface counts as one quadratic, so the
# closed-form final loss is exact rather than a local model.
_QUADRATIC_RTOL = 1e-9


def gd_quadratic_loss(hessian: object, offset: object, lrs: object, steps: int) -> np.ndarray:
    r"""Loss above the minimum after ``steps`` steps of gradient descent on a quadratic, in closed form.

    .. math:: \tfrac12 \sum_i \lambda_i c_i^2 (1 - \mathrm{lr}\,\lambda_i)^{2T},\quad c = V^\top (x_0 - x^*)

    with :math:`H = V \operatorname{diag}(\lambda) V^\top`.

    Parameters
    ----------
    hessian : array_like, shape (d, d)
        Symmetric.
    offset : array_like, shape (d,)
        :math:`x_0 - x^*`.
    lrs : array_like, shape (R,)
    steps : int >= 0

    Returns
    -------
    ndarray, shape (R,)
        ``inf`` where the value overflows (far above the stability limit).
    """
    matrix = check_array(hessian, "hessian", ndim=2)
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"hessian must be square, got shape {matrix.shape}")
    shift = check_array(offset, "offset", ndim=1)
    if shift.shape[0] != matrix.shape[0]:
        raise ValueError(f"offset must have shape ({matrix.shape[0]},), got shape {shift.shape}")
    rates = check_array(lrs, "lrs", ndim=1)
    steps = check_int(steps, "steps", low=0)
    eigenvalues, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    energy = 0.5 * eigenvalues * (vectors.T @ shift) ** 2  # (d,)
    with np.errstate(over="ignore", invalid="ignore"):
        factors = (1.0 - rates[:, None] * eigenvalues[None, :]) ** (2 * steps)
        total = np.where(energy[None, :] == 0.0, 0.0, energy[None, :] * factors).sum(axis=1)
    return np.where(np.isnan(total), np.inf, total)


def _is_quadratic(objective: Any, points: Sequence[np.ndarray], reference: np.ndarray) -> bool:
    """Whether the Hessian is the same at every point given (a quadratic, as far as the runs can tell)."""
    with np.errstate(all="ignore"):
        others = np.asarray(analysis.hessian(objective, np.stack(points)), dtype=np.float64)
    scale = max(float(np.abs(reference).max()), 1e-300)
    return bool(np.all(np.isfinite(others)) and np.abs(others - reference).max() <= _QUADRATIC_RTOL * scale)


def _loss_floor(objective: Any) -> float:
    value = getattr(objective, "min_value", None)
    return 0.0 if value is None else float(value)


# ------------------------------------------------------------------------------------- scrubber frames
def scrub_factors(runs: int, steps: int, most: int = 25, least: int = 5) -> np.ndarray:
    """Multipliers of a scrubbed learning rate: from 0.5 to 1.5, evenly spaced, with 1 in the middle.

    As many as keep ``runs`` paths of ``steps`` steps at every multiple within :data:`FRAME_POINTS` points
    (an odd number in ``[least, most]``), so a long run sends fewer positions rather than a bigger figure.

    Parameters
    ----------
    runs : int >= 1
        Paths drawn at each position.
    steps : int >= 0
    most, least : int, odd, 3 <= least <= most

    Returns
    -------
    ndarray, shape (M,)
        Ascending; ``M // 2`` is the position of the exact rate (factor 1).

    >>> scrub_factors(4, 80)[[0, 12, 24]].tolist()
    [0.5, 1.0, 1.5]
    >>> scrub_factors(6, 2000).size
    11
    """
    runs = check_int(runs, "runs", low=1)
    steps = check_int(steps, "steps", low=0)
    least = check_int(least, "least", low=3)
    most = check_int(most, "most", low=least)
    count = int(np.clip(FRAME_POINTS // (runs * (steps + 1)), least, most))
    half = (count - 1) // 2
    return np.concatenate([np.linspace(0.5, 1.0, half + 1), np.linspace(1.0, 1.5, half + 1)[1:]])


def _factors(factors: object) -> tuple[np.ndarray, int]:
    """``factors`` checked (1 to 101 positive values, one of them exactly 1), and where the 1 is."""
    values = check_array(factors, "factors", ndim=1)
    if not 1 <= values.size <= 101 or np.any(values <= 0) or not np.any(values == 1.0):
        raise ValueError(f"factors must hold 1 to 101 positive values, one of them 1 (the exact rate), got "
                         f"{values.size} values")
    return values, int(np.flatnonzero(values == 1.0)[0])


def _rows(trajectory: Trajectory, rows: np.ndarray) -> Trajectory:
    """The runs ``rows`` of a batched trajectory, as a trajectory of their own (read-only arrays)."""
    def pick(array: np.ndarray | None) -> np.ndarray | None:
        if array is None:
            return None
        picked = np.asarray(array)[rows]
        picked.flags.writeable = False
        return picked

    return replace(trajectory, params=pick(trajectory.params), loss=pick(trajectory.loss),
                   grad_norm=pick(trajectory.grad_norm), lr=pick(trajectory.lr),
                   diverged_at=pick(trajectory.diverged_at), converged_at=pick(trajectory.converged_at),
                   grads=pick(trajectory.grads), states=None)


@dataclass(frozen=True, eq=False)
class RateFrames:
    """Gradient-descent paths at every multiple of several learning rates: a scrubber's positions.

    Attributes
    ----------
    factors : ndarray, shape (M,)
    lrs : ndarray, shape (R, M)
        ``lrs[r, m]``: rate r times ``factors[m]``.
    params : ndarray, shape (R, M, T+1, d)
        NaN after a run diverged.
    diverged_at : ndarray of int, shape (R, M)
    loss : ndarray, shape (R, M, T+1)
    """

    factors: np.ndarray
    lrs: np.ndarray
    params: np.ndarray
    diverged_at: np.ndarray
    loss: np.ndarray


@dataclass(frozen=True, eq=False)
class ScheduleFrames:
    """Paths under several schedules at every multiple of their peak rate: a scrubber's positions.

    Attributes
    ----------
    factors : ndarray, shape (M,)
    base_lrs : ndarray, shape (M,)
        The peak rate at each position.
    lr : ndarray, shape (k, M, T)
        The rate of every step.
    params : ndarray, shape (k, M, T+1, d)
        NaN after a run diverged.
    loss : ndarray, shape (k, M, T+1)
    """

    factors: np.ndarray
    base_lrs: np.ndarray
    lr: np.ndarray
    params: np.ndarray
    loss: np.ndarray



# ------------------------------------------------------------------------------- several learning rates
# Learning rates the page offers, as fractions of 2/lambda_max ("optimal" is 2/(lambda_max + lambda_min)).
LR_CHOICES = ("0.1", "0.25", "0.5", "0.75", "0.9", "optimal", "0.99", "1.01", "1.05", "1.25")


def choice_lr(curvature: Curvature, choice: str) -> float:
    """The learning rate a choice of :data:`LR_CHOICES` names, for this curvature."""
    check_choice(choice, "learning-rate choice", LR_CHOICES)
    if choice == "optimal":
        if not np.isfinite(curvature.optimal_lr):
            raise ValueError(f"the optimal rate needs λ_min > 0, but λ_min = {curvature.lambda_min:.3g} at "
                             f"{curvature.where}")
        return curvature.optimal_lr
    return float(choice) * curvature.max_stable_lr


def choice_label(choice: str) -> str:
    """``"0.5 × 2/λ_max"`` or ``"optimal 2/(λ_max+λ_min)"``."""
    check_choice(choice, "learning-rate choice", LR_CHOICES)
    return "optimal 2/(λ_max+λ_min)" if choice == "optimal" else f"{choice} × 2/λ_max"


@dataclass(frozen=True, eq=False)
class LearningRateComparison:
    """Plain gradient descent from one start with several learning rates.

    Attributes
    ----------
    lrs : ndarray, shape (R,)
    labels : tuple of str
        ``"lr 0.99 (0.5 × 2/λ_max)"``.
    trajectory : Trajectory
        Batched: params (R, T+1, d).
    curvature : Curvature
    frames : RateFrames or None
        The same runs at every multiple of their rates a scrubber offers, when asked for.
    """

    lrs: np.ndarray
    labels: tuple[str, ...]
    trajectory: Trajectory
    curvature: Curvature
    frames: RateFrames | None = None

    def runs(self) -> list[tuple[str, optimizers.Optimizer, None]]:
        """``(label, optimizer, None)`` of every run (for its PyTorch code)."""
        return [(label, optimizers.get("sgd", lr=float(lr)), None)
                for label, lr in zip(self.labels, self.lrs, strict=True)]

    def to_frame(self) -> pd.DataFrame:
        """One row per (learning rate, step): ``lr, label, step, <params>, loss, grad_norm``."""
        frame = self.trajectory.to_frame().drop(columns="lr")
        runs = frame.pop("run").to_numpy()
        frame.insert(0, "label", np.asarray(self.labels, dtype=object)[runs])
        frame.insert(0, "lr", self.lrs[runs])
        return frame


def compare_learning_rates(
    objective: Any, x0: object, choices: Sequence[str], steps: int, curvature: Curvature | None = None,
    factors: object | None = None,
) -> LearningRateComparison:
    """Gradient descent with each learning rate of ``choices`` (see :data:`LR_CHOICES`), one run call.

    With ``factors`` the same call also runs every rate times each factor, for a scrubber
    (``frames``); the comparison's own runs are the factor-1 ones.

    Parameters
    ----------
    objective : objective
    x0 : array_like, shape (d,)
    choices : sequence of str, 1 to 10 distinct items of :data:`LR_CHOICES`
    steps : int in [1, 10000]
    curvature : Curvature, optional
        Default :func:`reference_curvature` ``(objective, x0)``.
    factors : array_like, shape (M,), optional
        Positive multipliers, one of them exactly 1 (:func:`scrub_factors`).

    >>> from lossviz import surfaces
    >>> race = compare_learning_rates(surfaces.get("quadratic"), [-2.0, 1.5], ["0.5", "1.01"], 10,
    ...                               factors=[0.5, 1.0, 1.5])
    >>> race.trajectory.params.shape, race.frames.params.shape, race.frames.lrs[0].tolist()
    ((2, 11, 2), (2, 3, 11, 2), [0.5, 1.0, 1.5])
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    chosen = list(choices)
    if not 1 <= len(chosen) <= len(LR_CHOICES) or len(set(chosen)) != len(chosen):
        raise ValueError(f"choices must hold 1 to {len(LR_CHOICES)} distinct learning rates, got {chosen!r}")
    curvature = reference_curvature(objective, start) if curvature is None else curvature
    lrs = np.array([choice_lr(curvature, c) for c in chosen])
    labels = tuple(f"lr {lr:.4g} ({choice_label(c)})" for lr, c in zip(lrs, chosen, strict=True))
    if factors is None:
        trajectory = run(objective, optimizers.get("sgd", lr=lrs), start, steps)
        return LearningRateComparison(lrs, labels, trajectory, curvature)
    scale, exact = _factors(factors)
    grid = lrs[:, None] * scale[None, :]
    full = run(objective, optimizers.get("sgd", lr=grid.ravel()), start, steps)
    frames = RateFrames(scale, grid, full.params.reshape(*grid.shape, steps + 1, dim),
                        np.asarray(full.diverged_at).reshape(grid.shape),
                        np.asarray(full.loss).reshape(*grid.shape, steps + 1))
    exact_rows = np.arange(lrs.size) * scale.size + exact
    return LearningRateComparison(lrs, labels, _rows(full, exact_rows), curvature, frames)


# --------------------------------------------------------------------------------------------- sweep
@dataclass(frozen=True, eq=False)
class LearningRateSweep:
    """Final loss of gradient descent for many learning rates from one start.

    Attributes
    ----------
    lrs : ndarray, shape (R,)
        Ascending.
    final_loss : ndarray, shape (R,)
        Loss after ``steps`` steps; NaN where the run diverged (see ``diverged_at``).
    diverged_at : ndarray of int, shape (R,)
        Step where the run blew up (:func:`lossviz.run.run`'s rule), -1 if never.
    start_loss : float
    min_value : float
        The surface's minimum value (0 when unknown); ``final_loss - min_value`` is the gap drawn.
    steps : int
    curvature : Curvature
    predicted_gap : ndarray, shape (R,), or None
        :func:`gd_quadratic_loss` when the surface is a quadratic (same Hessian at the start, the
        reference point and between), else None: far from the minimum the closed form says nothing.
    """

    lrs: np.ndarray
    final_loss: np.ndarray
    diverged_at: np.ndarray
    start_loss: float
    min_value: float
    steps: int
    curvature: Curvature
    predicted_gap: np.ndarray | None

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at >= 0

    @property
    def grew(self) -> np.ndarray:
        """Runs that diverged or ended above their start: the measured unstable side."""
        with np.errstate(invalid="ignore"):
            return self.diverged | ~(self.final_loss <= self.start_loss)

    @property
    def best_lr(self) -> float:
        """The swept lr with the lowest final loss (NaN if every run diverged)."""
        if np.all(np.isnan(self.final_loss)):
            return math.nan
        return float(self.lrs[int(np.nanargmin(self.final_loss))])

    @property
    def measured_edge(self) -> float:
        """The smallest swept lr whose run diverged or ended above its start; NaN if none did."""
        grew = self.grew
        return float(self.lrs[int(np.argmax(grew))]) if grew.any() else math.nan

    def to_frame(self) -> pd.DataFrame:
        """``lr, lr_over_limit, final_loss, final_gap, diverged_at[, predicted_gap]``, one row per lr."""
        columns: dict[str, np.ndarray] = {
            "lr": self.lrs,
            "lr_over_limit": self.lrs / self.curvature.max_stable_lr,
            "final_loss": self.final_loss,
            "final_gap": self.final_loss - self.min_value,
            "diverged_at": self.diverged_at,
        }
        if self.predicted_gap is not None:
            columns["predicted_gap"] = self.predicted_gap
        return pd.DataFrame(columns)


def learning_rate_sweep(
    objective: Any,
    x0: object,
    steps: int,
    *,
    n_lrs: int = 300,
    low: float | None = None,
    high: float = 1.5,
    spacing: str = "log",
    curvature: Curvature | None = None,
) -> LearningRateSweep:
    r"""Run gradient descent for ``n_lrs`` learning rates at once (one :func:`~lossviz.run.run` call, or
    one per block of :data:`MAX_RECORDED_POINTS` points when ``n_lrs * (steps + 1)`` is larger).

    The rates span ``[low, high] * 2/lambda_max``, log-spaced (every decade alike) or linearly spaced
    (every step alike, which resolves the edge at 2/lambda_max to ``(high - low) / (n_lrs - 1)``).

    Parameters
    ----------
    objective : objective
    x0 : array_like, shape (d,)
    steps : int in [1, 10000]
    n_lrs : int in [2, 5000]
    low, high : float, 0 < low < high <= 100
        Span of the sweep as fractions of :math:`2/\lambda_{\max}`; ``low`` defaults to 0.001 for a log
        sweep and 0.005 for a linear one.
    spacing : {"log", "linear"}
    curvature : Curvature, optional
        Default :func:`reference_curvature` ``(objective, x0)``.
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    n_lrs = check_int(n_lrs, "n_lrs", low=2, high=MAX_SWEEP_LRS)
    check_choice(spacing, "spacing", ["log", "linear"])
    low = (1e-3 if spacing == "log" else 0.005) if low is None else low
    low = check_scalar(low, "low", low=0.0, high=100.0, include_low=False)
    high = check_scalar(high, "high", low=low, high=100.0, include_low=False)
    curvature = reference_curvature(objective, start) if curvature is None else curvature
    fractions = np.geomspace(low, high, n_lrs) if spacing == "log" else np.linspace(low, high, n_lrs)
    lrs = fractions * curvature.max_stable_lr
    final, diverged_at = np.empty(n_lrs), np.empty(n_lrs, dtype=int)
    block = max(1, MAX_RECORDED_POINTS // (steps + 1))
    for first in range(0, n_lrs, block):  # only the final losses are kept: memory stays one block's
        part = slice(first, first + block)
        trajectory = run(objective, optimizers.get("sgd", lr=lrs[part]), start, steps)
        final[part], diverged_at[part] = trajectory.loss[:, -1], trajectory.diverged_at
        start_loss = float(trajectory.loss[0, 0])
    final[diverged_at >= 0] = np.nan
    floor = _loss_floor(objective)
    predicted = None
    middle = 0.5 * (start + curvature.point)
    if _is_quadratic(objective, [start, middle], curvature.hessian):
        predicted = gd_quadratic_loss(curvature.hessian, start - curvature.point, lrs, steps)
    return LearningRateSweep(lrs, final, diverged_at, start_loss, floor, steps, curvature, predicted)


# ------------------------------------------------------------------------------------------ schedules
SCHEDULE_ORDER = ("constant", "step", "multistep", "exponential", "inverse_time", "polynomial", "cosine",
                  "cosine_warm_restarts", "linear", "cyclic", "onecycle")


# The steps a schedule keeps after its linear warm-up, at least: a warm-up may take the rest of the run.
DECAY_STEPS = 8


def warmup_too_long(warmup: int, steps: int, label: str = "warmup_steps") -> str | None:
    """Why a warm-up of ``warmup`` steps (named ``label``) does not fit a run of ``steps``; None if it does.

    >>> warmup_too_long(500, 80, "linear warm-up steps")[:58]
    'linear warm-up steps: 500 is too many for a run of 80 step'
    >>> warmup_too_long(72, 80) is None
    True
    """
    if warmup <= steps - DECAY_STEPS:
        return None
    return (f"{label}: {warmup} is too many for a run of {steps} steps: allowed 0 to {steps - DECAY_STEPS} "
            f"(a schedule keeps {DECAY_STEPS} steps after its warm-up). Lower it, or raise steps.")


def lesson_schedule(name: str, base_lr: float, steps: int, warmup_steps: int = 0) -> schedules.Schedule:
    """Schedule ``name`` with lesson settings scaled to a run of ``steps`` steps.

    The main schedule fills the ``steps - warmup_steps`` steps after the warm-up:

    ==========================  ================================================================
    ``step``                    halve every quarter (``step_size = n/4, gamma = 0.5``)
    ``multistep``               x0.1 at half and at three quarters
    ``exponential``             ``gamma = 0.01**(1/n)``: 1 % of ``base_lr`` at the end
    ``inverse_time``            ``decay = 10/n``: ``base_lr / 11`` at the end
    ``polynomial``              linear to 0 (``power = 1, total_iters = n``)
    ``cosine``                  ``T_max = n``, to 0
    ``cosine_warm_restarts``    ``T_0 = n/4``: four cycles
    ``linear``                  ``LinearLR`` from 1 to 0.1 over n
    ``cyclic``                  triangular between ``base_lr/10`` and ``base_lr``, period n/4
    ``onecycle``                ``max_lr = base_lr``, ``total_steps = n`` (torch defaults otherwise)
    ==========================  ================================================================

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULE_ORDER`.
    base_lr : float > 0
        The schedule's peak (the optimizer's lr).
    steps : int in [8, 10000]
    warmup_steps : int in [0, steps - DECAY_STEPS]
        Linear warm-up from ``base_lr / 3`` (torch ``LinearLR``'s default start) before the schedule.
    """
    check_choice(name, "schedule", SCHEDULE_ORDER)
    base_lr = check_scalar(base_lr, "base_lr", low=0.0, include_low=False)
    steps = check_int(steps, "steps", low=8, high=MAX_STEPS)
    warmup_steps = check_int(warmup_steps, "warmup_steps", low=0, high=steps - DECAY_STEPS)
    n = steps - warmup_steps
    quarter = max(1, n // 4)
    warm = {"warmup_steps": warmup_steps}
    presets: dict[str, tuple[float | None, dict[str, Any]]] = {
        "constant": (base_lr, {}),
        "step": (base_lr, {"step_size": quarter, "gamma": 0.5}),
        "multistep": (base_lr, {"milestones": sorted({max(1, n // 2), max(2, 3 * n // 4)}), "gamma": 0.1}),
        "exponential": (base_lr, {"gamma": 0.01 ** (1.0 / n)}),
        "inverse_time": (base_lr, {"decay": 10.0 / n}),
        "polynomial": (base_lr, {"total_iters": n, "power": 1.0}),
        "cosine": (base_lr, {"T_max": n}),
        "cosine_warm_restarts": (base_lr, {"T_0": quarter}),
        "linear": (base_lr, {"start_factor": 1.0, "end_factor": 0.1, "total_iters": n}),
        "cyclic": (base_lr / 10.0, {"max_lr": base_lr, "step_size_up": max(1, n // 8)}),
        "onecycle": (None, {"max_lr": base_lr, "total_steps": n}),
    }
    start, params = presets[name]
    return schedules.get(name, base_lr=start, **params, **warm)


@dataclass(frozen=True, eq=False)
class ScheduleComparison:
    """Gradient descent under several schedules from one start.

    Attributes
    ----------
    names : tuple of str
    schedules : tuple of Schedule
    lr : ndarray, shape (k, T)
        ``lr[i, t]``: the rate schedule i gives step t.
    trajectory : Trajectory
        Batched: params (k, T+1, d).
    frames : ScheduleFrames or None
        The same schedules at every multiple of the peak a scrubber offers, when asked for.
    """

    names: tuple[str, ...]
    schedules: tuple[schedules.Schedule, ...]
    lr: np.ndarray
    trajectory: Trajectory
    frames: ScheduleFrames | None = None

    def runs(self) -> list[tuple[str, optimizers.Optimizer, schedules.Schedule]]:
        """``(label, optimizer, schedule)`` of every run, for its PyTorch code (the schedule sets each lr)."""
        return [(f"schedule: {s.title}", optimizers.get("sgd", lr=float(np.nanmax(rates))), s)
                for s, rates in zip(self.schedules, self.lr)]

    def to_frame(self) -> pd.DataFrame:
        """One row per (schedule, step): ``schedule, step, <params>, loss, grad_norm, lr``."""
        frame = self.trajectory.to_frame()
        frame.insert(0, "schedule", np.asarray(self.names, dtype=object)[frame.pop("run").to_numpy()])
        return frame


def compare_schedules(
    objective: Any, x0: object, names: Sequence[str], base_lr: float, steps: int, warmup_steps: int = 0,
    factors: object | None = None,
) -> ScheduleComparison:
    """Gradient descent under each schedule of ``names`` (:func:`lesson_schedule`), in one run call.

    The schedules are stacked into one per-run schedule of shape (T, k), so all k runs advance together;
    with ``factors`` the same call also runs each schedule at every peak ``base_lr * factors[m]``, for a
    scrubber (``frames``).

    Parameters
    ----------
    names : sequence of 1 to 11 distinct names of :data:`SCHEDULE_ORDER`
    base_lr, steps, warmup_steps
        As in :func:`lesson_schedule`.
    factors : array_like, shape (M,), optional
        Positive multipliers, one of them exactly 1 (:func:`scrub_factors`).

    >>> from lossviz import surfaces
    >>> runs = compare_schedules(surfaces.get("quadratic"), [-2.0, 1.5], ["constant", "cosine"], 1.0, 20,
    ...                          factors=[0.5, 1.0])
    >>> runs.frames.params.shape, runs.frames.lr[0, :, 0].tolist()
    ((2, 2, 21, 2), [0.5, 1.0])
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    chosen = list(names)
    if not 1 <= len(chosen) <= len(SCHEDULE_ORDER) or len(set(chosen)) != len(chosen):
        raise ValueError(f"names must hold 1 to {len(SCHEDULE_ORDER)} distinct schedules, got {chosen!r}")
    built = tuple(lesson_schedule(name, base_lr, steps, warmup_steps) for name in chosen)
    scale, exact = _factors([1.0] if factors is None else factors)
    t = np.arange(steps)
    rates = np.stack([[lesson_schedule(name, base_lr * f, steps, warmup_steps)(t) for f in scale]
                      for name in chosen])  # (k, M, T)
    table = rates.reshape(-1, steps).T.copy()  # (T, k * M): run k * M + m is schedule k at factor m

    def stacked(step: np.ndarray) -> np.ndarray:
        return table[np.asarray(step)]

    full = run(objective, optimizers.get("sgd", lr=base_lr), np.tile(start, (table.shape[1], 1)), steps,
               stacked)
    if factors is None:
        return ScheduleComparison(tuple(chosen), built, rates[:, 0].copy(), full)
    params = full.params.reshape(len(built), scale.size, steps + 1, dim)
    frames = ScheduleFrames(scale, base_lr * scale, rates, params,
                            full.loss.reshape(len(built), scale.size, steps + 1))
    return ScheduleComparison(tuple(chosen), built, rates[:, exact].copy(),
                              _rows(full, np.arange(len(built)) * scale.size + exact), frames)


# ------------------------------------------------------------------------------------------- range test
def range_test(
    objective: Any, x0: object, steps: int, curvature: Curvature | None = None
) -> analysis.LRRangeTest:
    r"""The learning-rate range test (:func:`lossviz.analysis.lr_range_test`) with plain SGD.

    The lr ramps exponentially from :math:`10^{-4}` to :math:`10` times :math:`2/\lambda_{\max}`, so
    whatever the surface's scale the ramp crosses the stability limit at the same fraction of the run.

    Parameters
    ----------
    steps : int in [2, 10000]
    """
    dim = check_objective(objective)
    start = check_start(x0, dim)
    steps = check_int(steps, "steps", low=2, high=MAX_STEPS)
    curvature = reference_curvature(objective, start) if curvature is None else curvature
    limit = curvature.max_stable_lr
    return analysis.lr_range_test(objective, optimizers.get("sgd", lr=limit), start, min_lr=1e-4 * limit,
                                  max_lr=10.0 * limit, steps=steps)


def curvature_summary(title: str, curvature: Curvature) -> str:
    """The curvature the theory lines come from, and the rates it gives, in one sentence (Markdown).

    ``title`` is the surface's (trusted) title.

    >>> from lossviz import surfaces
    >>> bowl = surfaces.get("quadratic")
    >>> "lr < 2/λ_max = **2**" in curvature_summary(bowl.title, reference_curvature(bowl, [1.0, 1.0]))
    True
    """
    lam_max, lam_min, limit = curvature.lambda_max, curvature.lambda_min, curvature.max_stable_lr
    head = f"**{title}.** Curvature at {curvature.where}: λ_max = {lam_max:.4g}, λ_min = {lam_min:.4g}"
    if not np.isfinite(curvature.optimal_lr):
        return (f"{head}, so gradient descent is stable along the sharpest direction for lr < 2/λ_max = "
                f"**{limit:.4g}**; along a direction with λ ≤ 0 no rate brings a run closer: it stays or "
                "drifts away.")
    kappa, best = curvature.condition_number, curvature.optimal_lr
    stable = f"{head} (κ = {kappa:.4g}), so gradient descent is stable for lr < 2/λ_max = **{limit:.4g}**. "
    if kappa - 1 < 1e-9:
        return stable + f"At lr = 1/λ = **{best:.4g}** one step lands on the minimum."
    return (stable + f"At 2/(λ_max+λ_min) = **{best:.4g}** every direction's distance is multiplied by at "
            f"most (κ−1)/(κ+1) = {(kappa - 1) / (kappa + 1):.4g} a step, the best guarantee of any fixed "
            "rate; the steep direction then bounces instead of settling, so a short run can end lower at a "
            "smaller rate.")


def schedule_summary(base: float, limit: float, warmup_steps: int) -> str:
    """What the schedules' picture shows, for a peak of ``base`` x ``limit`` (2/λ_max) after a warm-up.

    Parameters
    ----------
    base : float
        The peak as a fraction of 2/λ_max.
    limit : float
        2/λ_max.
    warmup_steps : int >= 0

    >>> schedule_summary(0.5, 2.0, 10).startswith("Peak lr 1 (0.5 × 2/λ_max), after 10 warm-up steps")
    True
    """
    warm = f", after {warmup_steps} warm-up steps from a third of it" if warmup_steps else ""
    return (f"Peak lr {base * limit:.4g} ({base:g} × 2/λ_max){warm}. Whenever a schedule's lr sits above the "
            "dashed 2/λ_max line, its path bounces further out; once the lr falls below, the bouncing dies "
            "away. The slider under the maps scales every peak at once.")


def sweep_summary(sweep: LearningRateSweep) -> str:
    """What a sweep measured, beside the theory, in two sentences (Markdown, numbers only).

    >>> from lossviz import surfaces
    >>> sweep = learning_rate_sweep(surfaces.get("quadratic"), [-2.0, 1.5], 100, n_lrs=200)
    >>> sweep_summary(sweep).startswith("200 learning rates, one vectorized run of 100 steps.")
    True
    """
    limit, best = sweep.curvature.max_stable_lr, sweep.curvature.optimal_lr
    edge = sweep.measured_edge
    edge_text = (f"the smallest swept rate that diverged or ended above its start is **{edge:.4g}** "
                 f"({edge / limit:.3f} × 2/λ_max)") if np.isfinite(edge) else "no swept rate diverged"
    best_text = (f"the best final loss is at lr **{sweep.best_lr:.4g}**" if np.isfinite(sweep.best_lr)
                 else "every swept rate diverged from this start")
    theory = ("The dotted curve is the closed form ½Σλᵢcᵢ²(1 − lr·λᵢ)^2T, exact on a quadratic; it lies on "
              "the measurement." if sweep.predicted_gap is not None else "This surface is not a quadratic, "
              "so the lines hold only near the minimum: the run must first get there.")
    return (f"{len(sweep.lrs)} learning rates, one vectorized run of {sweep.steps} steps. Measured: "
            f"{best_text}; {edge_text}. Theory: 2/λ_max = {limit:.4g}"
            + (f", optimal {best:.4g}. " if np.isfinite(best) else " (λ_min ≤ 0: no optimal rate). ")
            + theory)


def range_test_summary(test: analysis.LRRangeTest, limit: float) -> str:
    """What the range test found, against the stability limit ``limit`` (2/λ_max), in words (Markdown).

    >>> from lossviz import surfaces
    >>> test = range_test(surfaces.get("quadratic"), [-2.0, 1.5], 100)
    >>> f"steepest fall at lr **{test.suggestion:.3g}**" in range_test_summary(test, 2.0).lower()
    True
    """
    peak = test.min_loss_lr / limit
    # The rates to three digits, as the figure's legend writes them.
    return (f"One run whose lr grows exponentially from 10⁻⁴ × 2/λ_max = {1e-4 * limit:.3g} to 10 × "
            f"2/λ_max = {10 * limit:.3g} ({len(test.lrs)} steps before the loss blew up; Smith 2017, "
            "fastai's lr_find). "
            f"Steepest fall at lr **{test.suggestion:.3g}**, lowest loss at **{test.min_loss_lr:.3g}** = "
            f"{peak:.3g} × 2/λ_max. "
            + ("The ramp outruns the instability: past 2/λ_max the error along the sharp direction is tiny "
               "and needs several steps to grow back, so the loss keeps falling beyond the line. That is why "
               "the rule of thumb backs off about 10× from the lowest-loss rate." if peak > 1 else
               "The loss turns up at or before the line: the line is drawn for the curvature at the minimum, "
               "while the ramp meets the curvature wherever the run is."))


LR_SCENARIOS: dict[str, LessonScenario] = {
    "four_rates": LessonScenario(
        "Four rates on one bowl",
        {"surface": "quadratic", "kappa": 10.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 80,
         "lrs": ("0.25", "0.75", "optimal", "1.05")},
        "The bowl's sharpest direction has λ_max = 1, so the limit is lr = 2/λ_max = 2. At 0.25 × 2/λ_max "
        "the path creeps along the floor; at 0.75 it gets much closer; the optimal rate 2/(λ_max+λ_min) "
        "ends lowest of the four. At 1.05 × 2/λ_max every step overshoots the floor by more than the last: "
        "the bounce between the walls grows and the run ends above where it started.",
    ),
    "edge": LessonScenario(
        "Just below and just above 2/λ_max",
        {"surface": "quadratic", "kappa": 10.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 80,
         "lrs": ("0.5", "0.99", "1.01")},
        "The sharpest direction of the bowl has curvature λ_max = 1, so the limit is lr = 2. At 0.99 × 2 "
        "each step overshoots the valley floor by a little less than it started and the path settles; at "
        "1.01 × 2 it overshoots by a little more, and the bounce grows without end. A 2 % change in lr "
        "separates converging from diverging.",
    ),
    "ill_conditioned": LessonScenario(
        "Ill-conditioning: even the best rate crawls",
        {"surface": "quadratic", "kappa": 100.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 100,
         "lrs": ("0.25", "0.5", "optimal")},
        "With condition number 100 the floor of the valley is 100 times flatter than its walls, and the lr "
        "is capped by the walls (2/λ_max). At 0.25 and 0.5 × 2/λ_max the path drops to the floor in a few "
        "steps, "
        "then creeps along it. The optimal rate 2/(λ_max+λ_min) creeps fastest along the floor, but pays by "
        "bouncing between the walls, bounces that also shrink only by (κ−1)/(κ+1) ≈ 0.98 per step. After 100 "
        "steps all three are still far from the minimum: the condition number, not the choice of lr, sets "
        "the pace.",
    ),
    "rosenbrock": LessonScenario(
        "Rosenbrock: the limit at the minimum is not the limit on the way",
        {"surface": "rosenbrock", "x0": -1.9, "y0": 2.9, "steps": 400, "lrs": ("0.25", "0.5", "0.75")},
        "At the minimum (1, 1) λ_max ≈ 1002, so the line sits at 2/λ_max ≈ 0.002. This start is on a much "
        "steeper wall (λ_max ≈ 3400 there), and the sweep already blows up at about 0.7 × that line: the "
        "run at 0.75 × 2/λ_max diverges within a few steps. The stability limit is local, and a run must "
        "survive the sharpest place it passes through.",
    ),
    "decay": LessonScenario(
        "Decay settles what a large rate shakes",
        {"surface": "quadratic", "kappa": 20.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 100,
         "base": 0.98, "warmup": 0, "schedules": ("constant", "step", "cosine", "onecycle")},
        "At 0.98 × 2/λ_max the constant rate bounces from wall to wall for a long time. Every decay schedule "
        "brings the rate down, and the bouncing across the valley dies out within a few steps of the lr "
        "falling well below 2/λ_max.",
    ),
    "warmup": LessonScenario(
        "Warm-up: a peak above the limit, survived",
        {"surface": "quadratic", "kappa": 10.0, "rotation": 30.0, "x0": -2.5, "y0": 2.0, "steps": 100,
         "base": 1.5, "warmup": 10, "schedules": ("constant", "step", "cosine", "linear")},
        "The peak lr is 1.5 × 2/λ_max. Constant, it diverges. The decaying schedules start at that peak "
        "without a warm-up and diverge too (set the warm-up to 0 to see it). With 10 warm-up steps from a "
        "third of the peak, the sharp direction is settled while the lr is still small; the instability then "
        "has to grow from almost nothing, and the decay brings the lr back under the line before it has. "
        "The same race against growth is why the range test's loss keeps falling past 2/λ_max.",
    ),
}


