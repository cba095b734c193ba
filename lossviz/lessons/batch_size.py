r"""Mini-batch gradients and the noise they leave: the gradient cloud and the noise ball.

A mini-batch gradient is the mean of ``B`` per-sample gradients :math:`g_i(w)`, so it scatters around
the full gradient :math:`\bar g(w) = \frac1n \sum_i g_i(w)` with covariance

.. math::

    \operatorname{Cov}[g_B] = \frac{\Sigma(w)}{B} \ \text{(independent draws, with replacement)},
    \qquad
    \operatorname{Cov}[g_B] = \frac{n - B}{n - 1} \frac{\Sigma(w)}{B}
        \ \text{(a batch of a reshuffled epoch)},

where :math:`\Sigma(w) = \frac1n \sum_i (g_i - \bar g)(g_i - \bar g)^\top` is the covariance of the
per-sample gradients (the second is sampling without replacement: the full batch ``B = n`` has none).

Near a minimum :math:`w^*`, SGD with learning rate :math:`\eta` never settles: the batch noise keeps
kicking it, and it wanders in a *noise ball*. For least squares with independent batches the error
:math:`e_t = w_t - w^*` obeys :math:`e_{t+1} = (I - \eta H_{B_t}) e_t - \eta g_{B_t}(w^*)` exactly, with
per-sample Hessians :math:`H_i` and batch means :math:`H_B`, :math:`g_B`. Its stationary second moment
:math:`S = E[e e^\top]` solves the linear equation

.. math::

    H S + S H - \eta\Big(\tfrac1B \overline{H_i S H_i} + (1 - \tfrac1B) H S H\Big)
        = \frac{\eta}{B}\,\Sigma(w^*),

(:func:`stationary_covariance`); to first order in :math:`\eta`, :math:`HS + SH = \eta \Sigma / B`, so the
ball's covariance scales like :math:`\eta / B` and the mean excess loss :math:`\tfrac12 \operatorname{tr}(HS)`
with it. For other losses the same formula is the linearization around :math:`w^*`.

With reshuffled epochs (``torch.utils.data.DataLoader(shuffle=True)``, :func:`lossviz.run.run`'s
batches) the noise of one epoch sums to zero, so when an epoch is shorter than the relaxation time
:math:`1/(\eta \lambda_{\min}(H))` the ball is smaller than the independent-batch theory.

Runs go through :func:`lossviz.run.run`: ``sampling="reshuffle"`` uses its batches,
``sampling="independent"`` wraps the objective in :class:`IndependentBatches`, which draws a fresh batch
of ``B`` indices with replacement for every gradient (``RandomSampler(replacement=True)`` in torch).
"""
from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import analysis, datasets, landscape, models, optimizers
from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar
from lossviz.run import Trajectory, minibatch_indices, run
from lossviz.torch_export import comment, literal

__all__ = [
    "SAMPLINGS", "SAMPLING_TITLES", "PROBLEMS", "Problem", "GradientCloud", "NoiseBall", "IndependentBatches",
    "Scenario", "SCENARIOS", "build_problem", "Solved", "solve", "minimizer", "per_sample_gradients",
    "batch_gradient_covariance",
    "draw_batches", "gradient_cloud", "sgd_run", "stationary_covariance", "noise_balls", "noise_ball_sweep",
    "torch_script", "balls_frame", "clouds_frame", "BatchSweep", "sgd_sweep", "noise_ball_grid",
    "gradient_clouds",
    "DEFAULT_SCENARIO", "BATCH_OPTIONS", "MAX_BATCH_SIZES", "LR_FACTORS", "BALL_STEPS", "BALL_BURN_IN",
    "CLOUD_BATCHES", "label", "work_seconds", "paths_caption", "cloud_caption", "balls_caption", "square_box",
    "PathsView", "paths_view", "paths_grid", "BallsView", "balls_view", "paths_table", "clouds_table",
    "CLOUD_HEADERS",
]

SAMPLINGS = ("reshuffle", "independent")
SAMPLING_TITLES = {"independent": "independent draws (with replacement)",
                   "reshuffle": "reshuffled epochs (DataLoader shuffle=True)"}
MAX_CLOUD_BATCHES = 5000
# Newton's method to the minimum: gradient norm to reach, relative to the one at the start.
_NEWTON_TOL = 1e-13
_NEWTON_MAX_STEPS = 100


@dataclass(frozen=True)
class Problem:
    """A named two-parameter model on data: one feature plus an intercept, so (slope, intercept)."""

    title: str
    dataset: str
    dataset_params: dict
    feature: str
    model: str  # "linear" (least squares) or "logistic"
    description: str
    start: tuple[float, float] = (-1.0, 1.5)
    lr: float = 0.05

    @property
    def settings(self) -> dict:
        """The page's link values that come with the problem: its start and learning rate."""
        return {"x0": self.start[0], "y0": self.start[1], "lr": self.lr}


PROBLEMS: dict[str, Problem] = {
    "diabetes_bmi": Problem(
        "Diabetes progression vs BMI (linear regression)", "diabetes", {}, "bmi", "linear",
        "442 patients; disease progression after a year (standardized) against body-mass index. Least "
        "squares: the theory of the noise ball is exact here.",
    ),
    "synthetic_line": Problem(
        "Noisy line, 200 points (linear regression)", "linear", {"n_samples": 200, "noise": 1.0, "seed": 0},
        "x", "linear",
        "y = 2x + 1 plus Gaussian noise of standard deviation 1: every sample disagrees a little with the "
        "best line, which is what makes mini-batch gradients disagree.",
        start=(-1.0, -1.5),
    ),
    "breast_cancer_radius": Problem(
        "Benign vs mean radius (logistic regression)", "breast_cancer", {}, "mean radius", "logistic",
        "569 tumours, benign (1) or malignant (0), against the mean radius of the cell nuclei. Cross-"
        "entropy is not quadratic: the noise-ball theory is its linearization at the minimum.",
        start=(0.5, 2.5), lr=2.0,
    ),
}


@dataclass(frozen=True)
class Scenario:
    """A classroom setting of the Batch size page and what it shows (tests check each claim)."""

    title: str
    explanation: str
    problem: str = "diabetes_bmi"
    sampling: str = "independent"
    lr: float = 0.05
    batch_sizes: tuple[int, ...] = (1, 8, 64)
    steps: int = 200
    seed: int = 0

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values (the start is the problem's)."""
        start = PROBLEMS[self.problem].start
        return {"problem": self.problem, "sampling": self.sampling, "lr": self.lr,
                "batches": list(self.batch_sizes), "steps": self.steps, "seed": self.seed, "x0": start[0],
                "y0": start[1], "cloud_at": "start"}


SCENARIOS: dict[str, Scenario] = {
    "small_vs_large": Scenario(
        "Small batches wander, large ones follow gradient descent",
        "Same start, same learning rate, same seed. With one sample per step the path zig-zags around the "
        "full-batch path and ends in a wide noise ball; with 64 it hugs gradient descent. Near the minimum "
        "the ball's area shrinks like 1/B.",
    ),
    "linear_scaling": Scenario(
        "4x the batch = 1/4 the learning rate",
        "In the noise-ball chart (bottom right) each point is a measured ball. Points with the same lr/B sit "
        "at the same height: quadrupling the batch quiets SGD exactly as much as quartering the learning "
        "rate (the linear scaling rule), and the theory line goes through them.",
        batch_sizes=(4, 16, 64),
    ),
    "small_batch_unstable": Scenario(
        "Small batches go unstable first",
        "Full-batch gradient descent is stable here up to lr = 1 (2/λ_max), and at lr = 0.7 batches of 16 "
        "and 64 are too: they settle into noise balls of the size the theory predicts. A batch of one is "
        "not: from lr ≈ 0.26 on the theory gives its noise ball no finite size (unstable in mean square), "
        "and here its loss shoots up from where it started until the run diverges, at step 59.",
        lr=0.7, batch_sizes=(1, 16, 64),
    ),
    "reshuffling": Scenario(
        "Reshuffled epochs beat the independent-batch theory",
        "With a DataLoader's reshuffling every sample is used once per epoch, so the noise of an epoch sums "
        "to zero. When an epoch is shorter than the time SGD takes to forget (B = 64: 7 steps per epoch, "
        "against 1/(lr λ) = 50 steps), the measured ball is about 20 times smaller than the theory for "
        "independent batches (B = 16: about 5 times); with B = 1 an epoch lasts 442 steps and the two are "
        "close.",
        sampling="reshuffle", lr=0.01, batch_sizes=(1, 16, 64), steps=300,
    ),
    "logistic": Scenario(
        "Logistic regression: a flat valley",
        "Cross-entropy on breast-cancer data: the valley is 5.5 times flatter along the slope than along the "
        "intercept, so every path travels slowly along it, and the small batches end furthest from the "
        "bottom: the mean excess loss falls with the batch size.",
        problem="breast_cancer_radius", lr=2.0, steps=300,
    ),
}


def build_problem(name: str) -> tuple[models.LinearModel, datasets.Dataset]:
    """The objective (parameters ``(slope, intercept)``) and the one-feature dataset of problem ``name``."""
    check_choice(name, "problem", PROBLEMS)
    spec = PROBLEMS[name]
    data = datasets.get(spec.dataset, **spec.dataset_params).select(spec.feature)
    if spec.model == "linear":
        return models.linear_regression(data.X, data.y), data
    return models.logistic_regression(data.X, data.y), data


class Solved(NamedTuple):
    """A :data:`PROBLEMS` entry built and solved: the objective, its dataset, the full-batch minimizer
    (d,) and the loss there."""

    objective: Any
    data: datasets.Dataset
    minimum: np.ndarray
    min_loss: float


def solve(name: str) -> Solved:
    """:func:`build_problem` and its :func:`minimizer`.

    >>> solved = solve("synthetic_line")
    >>> solved.minimum.shape, bool(solved.min_loss > 0)
    ((2,), True)
    """
    objective, data = build_problem(name)
    minimum = minimizer(objective)
    minimum.flags.writeable = False  # shared between sessions by the page's cache
    return Solved(objective, data, minimum, float(objective.f(minimum)))


def _check_objective(objective: Any) -> tuple[int, int]:
    if not (callable(getattr(objective, "f", None)) and callable(getattr(objective, "grad", None))):
        raise TypeError(f"objective must have f(params) and grad(params), got {type(objective).__name__}")
    n = getattr(objective, "n_samples", None)
    if n is None:
        raise TypeError("objective must be a data objective with n_samples and batch=, got "
                        f"{type(objective).__name__}")
    return int(objective.dim), int(n)


def _point(point: object, dim: int, name: str = "point") -> np.ndarray:
    p = check_array(point, name, ndim=1)
    if p.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), one entry per parameter, got shape {p.shape}")
    return p


def minimizer(objective: Any, start: object = None) -> np.ndarray:
    """The full-batch minimizer, by Newton's method with step halving (one step for least squares).

    Parameters
    ----------
    objective : data objective, convex (linear or logistic regression)
    start : array_like, shape (d,), optional
        Defaults to zeros.

    Returns
    -------
    ndarray, shape (d,)

    Raises
    ------
    ValueError
        If the gradient does not fall below 1e-13 times its starting size (no finite minimum, e.g.
        separable classes).
    """
    dim, _ = _check_objective(objective)
    w = np.zeros(dim) if start is None else _point(start, dim, "start")
    first = max(float(np.linalg.norm(objective.grad(w))), 1e-300)

    def reached(tol: float) -> bool:
        # A small gradient is not enough: on separable classes the loss keeps falling as the weights grow,
        # and far out its gradient underflows (on one CPU Newton stopped at weights of 7.6e7 with a
        # gradient of 6e-13). A minimizer of a convex loss is not beaten by going twice as far out.
        return (float(np.linalg.norm(objective.grad(w))) <= tol * first and bool(np.all(np.isfinite(w)))
                and not float(objective.f(2.0 * w)) < float(objective.f(w)))

    for _ in range(_NEWTON_MAX_STEPS):
        if reached(_NEWTON_TOL):
            return w
        g = objective.grad(w)
        step = np.linalg.lstsq(analysis.hessian(objective, w), g, rcond=None)[0]
        value, scale = float(objective.f(w)), 1.0
        while scale > 1e-10 and not float(objective.f(w - scale * step)) <= value:
            scale *= 0.5
        w = w - scale * step
    if reached(1e-8):
        return w
    raise ValueError("the objective has no finite minimizer that Newton's method could reach "
                     "(are the classes separable?)")


def per_sample_gradients(objective: Any, point: object) -> np.ndarray:
    """Gradient of each sample's loss at ``point``: shape ``(n, d)`` (one batch of one per sample)."""
    dim, n = _check_objective(objective)
    w = _point(point, dim)
    return np.stack([np.asarray(objective.grad(w, batch=np.array([i]))) for i in range(n)])


def _population_covariance(rows: np.ndarray) -> np.ndarray:
    centered = rows - rows.mean(axis=0)
    return centered.T @ centered / rows.shape[0]


def _check_sampling(sampling: object) -> str:
    return check_choice(sampling, "sampling", SAMPLINGS)


def _finite_population(n: int, batch_size: int, sampling: str) -> float:
    if sampling == "independent":
        return 1.0
    return (n - batch_size) / (n - 1) if n > 1 else 0.0


def batch_gradient_covariance(objective: Any, point: object, batch_size: int,
                              sampling: str = "reshuffle") -> np.ndarray:
    r"""Theoretical covariance of a size-``B`` mini-batch gradient at ``point``, shape ``(d, d)``.

    :math:`\Sigma / B` for independent draws, :math:`\frac{n-B}{n-1}\Sigma / B` for a batch of a
    reshuffled epoch (a uniform subset without replacement), :math:`\Sigma` the population covariance of
    the per-sample gradients. Exact for any loss that is a mean over samples.
    """
    dim, n = _check_objective(objective)
    B = check_int(batch_size, "batch_size", low=1, high=n)
    sampling = _check_sampling(sampling)
    sigma = _population_covariance(per_sample_gradients(objective, point))
    return sigma * _finite_population(n, B, sampling) / B


def draw_batches(n_samples: int, batch_size: int, n_batches: int, seed: int = 0,
                 sampling: str = "reshuffle") -> np.ndarray:
    """``n_batches`` independent batches of indices, shape ``(n_batches, batch_size)``.

    ``"reshuffle"``: each a uniform subset without replacement (what one batch of a shuffled epoch is);
    ``"independent"``: ``batch_size`` indices drawn with replacement. Seeded by
    ``np.random.default_rng(seed)``.
    """
    n = check_int(n_samples, "n_samples", low=1)
    B = check_int(batch_size, "batch_size", low=1, high=n)
    K = check_int(n_batches, "n_batches", low=1, high=MAX_CLOUD_BATCHES)
    seed = check_int(seed, "seed", low=0)
    sampling = _check_sampling(sampling)
    rng = np.random.default_rng(seed)
    if sampling == "independent":
        return rng.integers(0, n, size=(K, B))
    return np.argsort(rng.random((K, n)), axis=1)[:, :B]


class GradientCloud(NamedTuple):
    """Mini-batch gradients at one point around the full gradient.

    Attributes
    ----------
    point : ndarray, shape (d,)
    batch_size : int
    sampling : str
    grads : ndarray, shape (K, d)
        One mini-batch gradient per drawn batch.
    full_grad : ndarray, shape (d,)
    covariance : ndarray, shape (d, d)
        Sample covariance of ``grads`` (ddof 1).
    predicted_covariance : ndarray, shape (d, d)
        :func:`batch_gradient_covariance`.
    """

    point: np.ndarray
    batch_size: int
    sampling: str
    grads: np.ndarray
    full_grad: np.ndarray
    covariance: np.ndarray
    predicted_covariance: np.ndarray

    def to_frame(self, param_names: tuple[str, ...]) -> pd.DataFrame:
        """One row per batch: ``batch_size, batch, grad_<name>...``."""
        frame = pd.DataFrame({"batch_size": self.batch_size, "batch": np.arange(self.grads.shape[0])})
        for j, name in enumerate(param_names):
            frame[f"grad_{name}"] = self.grads[:, j]
        return frame


def gradient_cloud(objective: Any, point: object, batch_size: int, *, n_batches: int = 300, seed: int = 0,
                   sampling: str = "reshuffle") -> GradientCloud:
    """The gradients of ``n_batches`` seeded mini-batches at ``point`` and their covariance.

    Parameters
    ----------
    objective : data objective
    point : array_like, shape (d,)
    batch_size : int in [1, n]
    n_batches : int in [2, 5000]
    seed : int >= 0
    sampling : {"reshuffle", "independent"}
        See :func:`draw_batches`.
    """
    return gradient_clouds(objective, point, [batch_size], n_batches=n_batches, seed=seed,
                           sampling=sampling)[0]


def gradient_clouds(objective: Any, point: object, batch_sizes: Sequence[int], *, n_batches: int = 300,
                    seed: int = 0, sampling: str = "reshuffle") -> list[GradientCloud]:
    """:func:`gradient_cloud` for several batch sizes, from one pass over the per-sample gradients.

    A mini-batch gradient of a mean loss is the mean of its samples' gradients, so every batch of every
    size is a mean of rows of :func:`per_sample_gradients` (the same batches as :func:`draw_batches`).

    >>> from lossviz.lessons.batch_size import build_problem, gradient_clouds
    >>> objective, _ = build_problem("synthetic_line")
    >>> [c.grads.shape for c in gradient_clouds(objective, [0.0, 0.0], [1, 8], n_batches=50)]
    [(50, 2), (50, 2)]
    """
    dim, n = _check_objective(objective)
    w = _point(point, dim)
    K = check_int(n_batches, "n_batches", low=2, high=MAX_CLOUD_BATCHES)
    sampling = _check_sampling(sampling)
    sizes = [check_int(b, "batch_size", low=1, high=n) for b in batch_sizes]
    rows = per_sample_gradients(objective, w)
    sigma = _population_covariance(rows)
    full = np.asarray(objective.grad(w))
    clouds = []
    for B in sizes:
        grads = rows[draw_batches(n, B, K, seed, sampling)].mean(axis=1)
        clouds.append(GradientCloud(w, B, sampling, grads, full, np.cov(grads.T, ddof=1).reshape(dim, dim),
                                    sigma * _finite_population(n, B, sampling) / B))
    return clouds


class IndependentBatches:
    """An objective whose gradient is taken on a fresh batch of ``batch_size`` indices drawn with
    replacement at every call (``f`` stays the full objective).

    Stateful by design: build a new one for every run; the same seed gives the same batches.
    """

    def __init__(self, objective: Any, batch_size: int, seed: int = 0) -> None:
        self.dim, n = _check_objective(objective)
        self.base = objective
        self.n_samples = n
        self.batch_size = check_int(batch_size, "batch_size", low=1, high=n)
        self.param_names = getattr(objective, "param_names", None)
        self._rng = np.random.default_rng(check_int(seed, "seed", low=0))

    def f(self, params: object, batch: object = None) -> np.ndarray:
        return self.base.f(params) if batch is None else self.base.f(params, batch=batch)

    def grad(self, params: object, batch: object = None) -> np.ndarray:
        if batch is None:
            batch = self._rng.integers(0, self.n_samples, size=self.batch_size)
        return self.base.grad(params, batch=batch)


def sgd_run(objective: Any, lr: float | np.ndarray, batch_size: int | None, steps: int, x0: object, *,
            seed: int = 0, sampling: str = "reshuffle") -> Trajectory:
    """Plain SGD (torch's, momentum 0) with mini-batches of ``batch_size`` (None = full batch).

    ``lr`` may be an array of shape (R,): R runs sharing one batch sequence.
    """
    _check_objective(objective)
    sampling = _check_sampling(sampling)
    optimizer = optimizers.get("sgd", lr=lr)
    if batch_size is None:
        return run(objective, optimizer, x0, steps)
    if sampling == "reshuffle":
        return run(objective, optimizer, x0, steps, batch_size=batch_size, seed=seed)
    return run(IndependentBatches(objective, batch_size, seed), optimizer, x0, steps)


class BatchSweep:
    """R runs of one data objective advanced together, run r on mini-batches of its own size
    (``None``: every sample), so every batch size of the page is one :func:`lossviz.run.run` call.

    Each run draws its batches as :func:`sgd_run` would for its size alone: ``"independent"``, ``B``
    indices with replacement per step from its own ``np.random.default_rng(seed)`` (runs of one size
    share their batches); ``"reshuffle"``, the batches of :func:`lossviz.run.minibatch_indices`. Stateful
    (one step per ``grad`` call): build one per run call.

    For a linear model with one output, an intercept and the identity link (the page's linear and
    logistic regressions) the R gradients are one expression over the samples the batches hold: the
    loss's derivative at each one's score, averaged per run. Any other data objective is asked run by
    run, with the run's batch.

    Parameters
    ----------
    objective : data objective
    batch_sizes : sequence of int or None, length R
    steps : int
        The steps the run call takes (the reshuffled batches are drawn for that many).
    seed : int >= 0
    sampling : {"reshuffle", "independent"}

    >>> from lossviz.run import run
    >>> objective, _ = build_problem("synthetic_line")
    >>> sweep = BatchSweep(objective, [1, 64, None], steps=5, seed=2, sampling="independent")
    >>> run(sweep, optimizers.get("sgd", lr=0.05), np.zeros((3, 2)), 5).params.shape
    (3, 6, 2)
    """

    def __init__(self, objective: Any, batch_sizes: Sequence[int | None], *, steps: int, seed: int = 0,
                 sampling: str = "reshuffle") -> None:
        self.dim, n = _check_objective(objective)
        self.base, self.n_samples = objective, n
        self.param_names = getattr(objective, "param_names", None)
        self.sampling = _check_sampling(sampling)
        seed = check_int(seed, "seed", low=0)
        steps = check_int(steps, "steps", low=0)
        self.batch_sizes = tuple(None if b is None else check_int(b, "batch_size", low=1, high=n)
                                 for b in batch_sizes)
        if not self.batch_sizes:
            raise ValueError("batch_sizes must hold at least one batch size (or None for the full batch)")
        self._rngs = [np.random.default_rng(seed) for _ in self.batch_sizes]
        reshuffled = self.sampling == "reshuffle"
        self._epochs = [minibatch_indices(n, b, steps + 1, seed) if b is not None and reshuffled else None
                        for b in self.batch_sizes]
        self._step = 0
        self._linear = (getattr(objective, "link", None) == "identity"
                        and getattr(objective, "n_outputs", 0) == 1
                        and getattr(objective, "fit_intercept", False) is True
                        and getattr(objective, "loss", None) is not None)
        if self._linear:
            self._X, self._y = np.asarray(objective.X, dtype=float), np.asarray(objective.y)

    def _batch(self, run: int, step: int) -> np.ndarray:
        size = self.batch_sizes[run]
        if size is None:
            return np.arange(self.n_samples)
        if self._epochs[run] is not None:
            return self._epochs[run][step]
        return self._rngs[run].integers(0, self.n_samples, size=size)

    def f(self, params: object, batch: object = None) -> np.ndarray:
        """The full objective (as :func:`lossviz.run.run` records the loss)."""
        return self.base.f(params) if batch is None else self.base.f(params, batch=batch)

    def grad(self, params: object) -> np.ndarray:
        """Every run's gradient on its batch of this step, shape ``(R, d)``."""
        P = np.asarray(params, dtype=float)
        R = len(self.batch_sizes)
        if P.shape != (R, self.dim):
            raise ValueError(f"params must have shape ({R}, {self.dim}), one row per batch size, "
                             f"got {P.shape}")
        step, self._step = self._step, self._step + 1
        batches = [self._batch(r, step) for r in range(R)]
        if not self._linear:
            return np.concatenate([
                np.asarray(self.base.grad(P[r:r + 1], batch=None if size is None else batch)).reshape(1, -1)
                for r, (size, batch) in enumerate(zip(self.batch_sizes, batches))])
        rows = np.concatenate(batches)
        sizes = np.array([len(b) for b in batches])
        owner = np.repeat(np.arange(R), sizes)
        X, p = self._X[rows], self.dim - 1
        scores = P[owner, p].copy()
        for j in range(p):
            scores += X[:, j] * P[owner, j]
        derivative = np.full(rows.size, np.nan)  # NaN for a run whose scores overflowed (it diverged)
        finite = np.isfinite(scores)
        if finite.any():
            derivative[finite] = self.base.loss.grad(self._y[rows[finite]], scores[finite]) * finite.sum()
        weight = derivative / sizes[owner]
        out = np.empty((R, self.dim))
        for j in range(p):
            out[:, j] = np.bincount(owner, weights=weight * X[:, j], minlength=R)
        out[:, p] = np.bincount(owner, weights=weight, minlength=R)
        return out


def sgd_sweep(objective: Any, lr: float | np.ndarray, batch_sizes: Sequence[int | None], steps: int,
              x0: object, *, seed: int = 0, sampling: str = "reshuffle") -> Trajectory:
    """Plain SGD at every batch size at once (:class:`BatchSweep`): run r equals
    ``sgd_run(objective, lr, batch_sizes[r], steps, x0, seed=seed, sampling=sampling)`` to rounding.

    Parameters
    ----------
    objective : data objective
    lr : float or ndarray, shape (R,)
    batch_sizes : sequence of int or None, length R
    steps : int
    x0 : array_like, shape (d,) or (R, d)

    Returns
    -------
    Trajectory
        Batched: params (R, steps + 1, d), loss (R, steps + 1).

    >>> from lossviz.lessons.batch_size import build_problem, sgd_sweep
    >>> objective, _ = build_problem("synthetic_line")
    >>> sgd_sweep(objective, 0.05, [1, 8, None], 20, [0.0, 0.0]).params.shape
    (3, 21, 2)
    """
    sweep = BatchSweep(objective, batch_sizes, steps=steps, seed=seed, sampling=sampling)
    start = check_array(x0, "x0")
    R = len(sweep.batch_sizes)
    starts = np.broadcast_to(start, (R, sweep.dim)) if start.ndim == 1 else start
    return run(sweep, optimizers.get("sgd", lr=lr), starts, steps)


def _per_sample_hessians(objective: Any, point: np.ndarray) -> np.ndarray:
    """Central differences of each sample's gradient, shape (n, d, d); exact for least squares up to
    rounding, since its gradient is linear."""
    dim, n = _check_objective(objective)
    h = float(np.finfo(np.float64).eps) ** (1 / 3) * np.maximum(1.0, np.abs(point))
    shifted = np.concatenate([point + np.diag(h), point - np.diag(h)])  # (2d, d)
    out = np.empty((n, dim, dim))
    for i in range(n):
        g = np.asarray(objective.grad(shifted, batch=np.array([i])))
        columns = (g[:dim] - g[dim:]) / (2 * h[:, None])  # row j: d grad / d w_j
        out[i] = 0.5 * (columns + columns.T)
    return out


def stationary_covariance(objective: Any, minimum: object, lr: float, batch_size: int, *,
                          first_order: bool = False) -> np.ndarray:
    r"""Stationary second moment :math:`E[(w - w^*)(w - w^*)^\top]` of SGD with independent batches.

    Solves :math:`HS + SH - \eta(\tfrac1B \overline{H_i S H_i} + (1 - \tfrac1B) HSH) = \eta\Sigma/B`
    (module docstring) as a :math:`d^2 \times d^2` linear system; exact for least squares, the
    linearization at the minimum otherwise. ``first_order=True`` drops the :math:`\eta` term inside,
    leaving :math:`HS + SH = \eta \Sigma / B`, exactly proportional to :math:`\eta / B`.

    Parameters
    ----------
    objective : data objective
    minimum : array_like, shape (d,)
        The full-batch minimizer (:func:`minimizer`).
    lr : float > 0
    batch_size : int in [1, n]

    Returns
    -------
    ndarray, shape (d, d)
        All ``inf`` when SGD is unstable in mean square at this learning rate (the noise ball has no
        finite size: the iterates blow up).
    """
    dim, n = _check_objective(objective)
    w = _point(minimum, dim, "minimum")
    eta = check_scalar(lr, "lr", low=0.0, include_low=False)
    B = check_int(batch_size, "batch_size", low=1, high=n)
    check_bool(first_order, "first_order")
    return _stationary(_population_covariance(per_sample_gradients(objective, w)),
                       _per_sample_hessians(objective, w), eta, B, bool(first_order))


def _stationary(sigma: np.ndarray, hessians: np.ndarray, eta: float, B: int, first_order: bool) -> np.ndarray:
    n, dim, _ = hessians.shape
    H = hessians.mean(axis=0)
    identity = np.eye(dim)
    # Row-major vec: vec(A S C) = (A kron C^T) vec(S); every matrix here is symmetric.
    operator = np.kron(H, identity) + np.kron(identity, H)
    if not first_order:
        fourth = np.einsum("nij,nkl->ikjl", hessians, hessians).reshape(dim * dim, dim * dim) / n
        operator = operator - eta * (fourth / B + (1.0 - 1.0 / B) * np.kron(H, H))
        # The second moment evolves as S <- S - eta * operator(S) + noise; it settles only if that map
        # contracts.
        if np.max(np.abs(np.linalg.eigvals(np.eye(dim * dim) - eta * operator))) >= 1.0:
            return np.full((dim, dim), np.inf)
    solved = np.linalg.solve(operator, (eta / B) * sigma.reshape(-1)).reshape(dim, dim)
    return 0.5 * (solved + solved.T)


class NoiseBall(NamedTuple):
    """Where SGD wanders near the minimum at one (lr, batch size), measured and predicted.

    Attributes
    ----------
    lr : float
    batch_size : int
    samples : ndarray, shape (T, d)
        The iterates after the burn-in (NaN rows if the run diverged).
    second_moment : ndarray, shape (d, d)
        Their mean of :math:`(w - w^*)(w - w^*)^\\top`.
    predicted : ndarray, shape (d, d)
        :func:`stationary_covariance` (independent-batch theory; ``inf`` when unstable).
    excess_loss : float
        Mean of :math:`f(w_t) - f(w^*)` over the samples.
    predicted_excess_loss : float
        :math:`\\tfrac12 \\operatorname{tr}(H S)`.
    diverged : bool
    """

    lr: float
    batch_size: int
    samples: np.ndarray
    second_moment: np.ndarray
    predicted: np.ndarray
    excess_loss: float
    predicted_excess_loss: float
    diverged: bool


def noise_balls(objective: Any, minimum: object, lrs: object, batch_size: int, *, steps: int = 3000,
                burn_in: int = 500, seed: int = 0, sampling: str = "independent") -> list[NoiseBall]:
    """Run SGD from the minimum at every learning rate in ``lrs`` (one shared batch sequence) and
    compare the spread after ``burn_in`` steps with :func:`stationary_covariance`.

    Parameters
    ----------
    objective : data objective
    minimum : array_like, shape (d,)
    lrs : array_like, shape (R,), each > 0
    batch_size : int in [1, n]
    steps, burn_in : int
        ``steps`` iterates are measured after ``burn_in`` unmeasured ones.
    seed : int
    sampling : {"independent", "reshuffle"}
    """
    return noise_ball_grid(objective, minimum, lrs, [batch_size], steps=steps, burn_in=burn_in, seed=seed,
                           sampling=sampling)


def noise_ball_grid(objective: Any, minimum: object, lrs: object, batch_sizes: Sequence[int], *,
                    steps: int = 3000, burn_in: int = 500, seed: int = 0,
                    sampling: str = "independent") -> list[NoiseBall]:
    """:func:`noise_balls` for every batch size and learning rate, all in one :func:`sgd_sweep` run call.

    Returns
    -------
    list of NoiseBall
        One per (batch size, learning rate), batch size by batch size in the order given; the runs of
        one batch size share their batches.

    >>> from lossviz.lessons.batch_size import build_problem, minimizer, noise_ball_grid
    >>> objective, _ = build_problem("synthetic_line")
    >>> balls = noise_ball_grid(objective, minimizer(objective), [0.01, 0.02], [1, 4], steps=50, burn_in=10)
    >>> [(b.batch_size, b.lr) for b in balls]
    [(1, 0.01), (1, 0.02), (4, 0.01), (4, 0.02)]
    """
    dim, n = _check_objective(objective)
    w_star = _point(minimum, dim, "minimum")
    rates = np.atleast_1d(check_array(lrs, "lrs"))
    if rates.ndim != 1 or np.any(rates <= 0):
        raise ValueError(f"lrs must be a 1-D array of learning rates > 0, got {np.asarray(lrs).tolist()!r}")
    steps = check_int(steps, "steps", low=2, high=100_000)
    burn_in = check_int(burn_in, "burn_in", low=0, high=100_000)
    sizes = [check_int(b, "batch_size", low=1, high=n) for b in batch_sizes]
    runs = [(B, float(rate)) for B in sizes for rate in rates]
    traj = sgd_sweep(objective, np.array([rate for _, rate in runs]), [B for B, _ in runs], burn_in + steps,
                     w_star, seed=seed, sampling=sampling)
    f_star = float(objective.f(w_star))
    sigma = _population_covariance(per_sample_gradients(objective, w_star))
    hessians = _per_sample_hessians(objective, w_star)
    hessian = hessians.mean(axis=0)
    out = []
    for r, (B, rate) in enumerate(runs):
        samples = traj.params[r, burn_in + 1:]
        diverged = bool(traj.diverged_at[r] >= 0)
        errors = samples - w_star
        second = errors.T @ errors / errors.shape[0] if not diverged else np.full((dim, dim), np.nan)
        predicted = _stationary(sigma, hessians, rate, B, False)
        out.append(NoiseBall(
            rate, B, samples, second, predicted,
            float(np.mean(traj.loss[r, burn_in + 1:]) - f_star) if not diverged else float("nan"),
            float(0.5 * np.trace(hessian @ predicted)), diverged,
        ))
    return out


_BALL_COLUMNS = ["batch_size", "lr", "lr_over_batch", "excess_loss", "predicted_excess_loss", "spread",
                 "predicted_spread", "diverged"]


def balls_frame(balls: list[NoiseBall]) -> pd.DataFrame:
    """One row per ball: ``batch_size, lr, lr_over_batch, excess_loss, predicted_excess_loss, spread``
    (root of the trace of the measured second moment), ``predicted_spread, diverged``."""
    return pd.DataFrame([{
        "batch_size": ball.batch_size, "lr": ball.lr, "lr_over_batch": ball.lr / ball.batch_size,
        "excess_loss": ball.excess_loss, "predicted_excess_loss": ball.predicted_excess_loss,
        "spread": float(np.sqrt(np.trace(ball.second_moment))),
        "predicted_spread": float(np.sqrt(np.trace(ball.predicted))), "diverged": ball.diverged,
    } for ball in balls], columns=_BALL_COLUMNS)


def noise_ball_sweep(objective: Any, minimum: object, lrs: object, batch_sizes: object, *, steps: int = 3000,
                     burn_in: int = 500, seed: int = 0, sampling: str = "independent") -> pd.DataFrame:
    """:func:`noise_balls` over a grid of batch sizes and learning rates, as :func:`balls_frame`."""
    sizes = np.atleast_1d(np.asarray(batch_sizes))
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu":
        raise TypeError("batch_sizes must be a 1-D array of integers, got "
                        f"{np.asarray(batch_sizes).tolist()!r}")
    return balls_frame(noise_ball_grid(objective, minimum, lrs, [int(b) for b in sizes], steps=steps,
                                       burn_in=burn_in, seed=seed, sampling=sampling))


# clouds_frame's columns as a table on the page heads them (short, so four fit a third of a laptop screen).
CLOUD_HEADERS = {"batch_size": "B", "measured_std": "σ measured", "predicted_std": "σ theory",
                 "full_gradient_norm": "‖full gradient‖"}


def clouds_frame(clouds: list[GradientCloud]) -> pd.DataFrame:
    """One row per cloud: ``batch_size``, the measured and predicted total standard deviation of the
    mini-batch gradient (root of the covariance's trace), and the full gradient's norm."""
    return pd.DataFrame([{
        "batch_size": c.batch_size, "measured_std": float(np.sqrt(np.trace(c.covariance))),
        "predicted_std": float(np.sqrt(np.trace(c.predicted_covariance))),
        "full_gradient_norm": float(np.linalg.norm(c.full_grad)),
    } for c in clouds], columns=["batch_size", "measured_std", "predicted_std", "full_gradient_norm"])


_LOSS_LINES = {
    "linear": "    return ((x[batch] * slope + intercept - t[batch]) ** 2).mean()",
    "logistic": "    return torch.nn.functional.binary_cross_entropy_with_logits(\n"
                "        x[batch] * slope + intercept, t[batch])",
}
_BATCH_LINES = {
    "independent": [
        "    # Independent batches drawn with replacement, like RandomSampler(replacement=True).",
        "    return [torch.from_numpy(rng.integers(0, len(t), size=size)) for _ in range(steps)]",
    ],
    "reshuffle": [
        "    # A fresh permutation per epoch cut into batches, like DataLoader(shuffle=True).",
        "    batches = []",
        "    while len(batches) < steps:",
        "        order = torch.from_numpy(rng.permutation(len(t)))",
        "        batches += [order[i:i + size] for i in range(0, len(t), size)]",
        "    return batches[:steps]",
    ],
}


def torch_script(problem: str, lr: float, batch_sizes: Sequence[int | None], *, steps: int, x0: object,
                 seed: int = 0, sampling: str = "reshuffle", names: Sequence[str] | None = None) -> str:
    """A self-contained PyTorch script (data inline, numpy for the batch order) running :func:`sgd_run` at
    every batch size of ``batch_sizes`` (None: the full batch) on a :data:`PROBLEMS` entry, with the very
    same batches. It prints one JSON line per batch size: its final parameters and full loss, equal to
    :func:`sgd_sweep`'s to float64 round-off.

    ``names`` label the two parameters (default: the model's); user text reaches the script only through
    ``repr`` and comments.

    Parameters
    ----------
    problem : str
        A :data:`PROBLEMS` key.
    lr : float > 0
    batch_sizes : sequence of int or None
    steps : int >= 0
    x0 : array_like, shape (2,)
    seed : int >= 0
    sampling : {"reshuffle", "independent"}
    names : sequence of 2 str, optional

    >>> code = torch_script("synthetic_line", 0.05, [8, None], steps=10, x0=[0, 0], sampling="independent")
    >>> "torch.optim.SGD([params], lr=0.05" in code and "rng.integers(0, len(t), size=size)" in code
    True
    """
    check_choice(problem, "problem", PROBLEMS)
    sampling = _check_sampling(sampling)
    spec = PROBLEMS[problem]
    objective, data = build_problem(problem)
    steps = check_int(steps, "steps", low=0)
    seed = check_int(seed, "seed", low=0)
    sizes = [None if b is None else check_int(b, "batch_size", low=1, high=data.n_samples)
             for b in batch_sizes]
    labels = [str(n) for n in (objective.param_names if names is None else names)]
    start = [float(v) for v in check_array(x0, "x0", ndim=1)]
    sgd = optimizers.get("sgd", lr=lr)
    arguments = ", ".join(f"{k}={literal(v)}" for k, v in sgd.hyperparameters.items())

    def array(values: np.ndarray) -> list[str]:
        source = literal(np.asarray(values, dtype=float).tolist())
        return [textwrap.fill(source, 110, subsequent_indent="    ", break_long_words=False,
                              break_on_hyphens=False)]

    lines = [
        "# Generated by lossviz: plain SGD (torch.optim.SGD) at every batch size of the page, with the very",
        f"# same batches, in float64. {spec.title}.",
        "import json",
        "",
        "import numpy as np",
        "import torch",
        "",
        comment(f"The page's data: the standardized feature {data.feature_names[0]} (x) and the target (t)."),
        "x = torch.tensor(", *array(data.X[:, 0]), ", dtype=torch.float64)",
        "t = torch.tensor(", *array(data.y), ", dtype=torch.float64)",
        f"names = {literal(labels)}",
        "",
        "",
        "def loss_fn(slope, intercept, batch):",
        _LOSS_LINES[spec.model],
        "",
        "",
        "def batches(size, steps, seed):",
        "    # The batch of each step, from the page's seed; None is the full batch.",
        "    rng = np.random.default_rng(seed)",
        "    if size is None:",
        "        return [slice(None)] * steps",
        *_BATCH_LINES[sampling],
        "",
        "",
        f"for size in {literal(sizes)}:",
        f"    params = torch.tensor({literal(start)}, dtype=torch.float64, requires_grad=True)",
        f"    optimizer = torch.optim.SGD([params], {arguments})",
        f"    for batch in batches(size, {steps}, {seed}):",
        "        optimizer.zero_grad()",
        "        loss = loss_fn(params[0], params[1], batch)",
        "        loss.backward()",
        "        optimizer.step()",
        "    with torch.no_grad():",
        "        full = float(loss_fn(params[0], params[1], slice(None)))",
        "    final = dict(zip(names, params.tolist()))",
        "    print(json.dumps({'batch_size': size, 'params': final, 'loss': full}))",
        "",
    ]
    return "\n".join(lines)


DEFAULT_SCENARIO = "small_vs_large"
# What the page offers: the batch sizes (every one of them replayed by the scrubber), at most
# MAX_BATCH_SIZES drawn at once, and the noise-ball measurement (learning-rate multiples, steps kept
# after a burn-in, batches per gradient cloud).
BATCH_OPTIONS = (1, 2, 4, 8, 16, 32, 64, 128)
MAX_BATCH_SIZES = 4
LR_FACTORS = (0.25, 0.5, 1.0, 2.0)
BALL_STEPS, BALL_BURN_IN = 1500, 300
CLOUD_BATCHES = 300
# CPU seconds of a sweep step, and of one (run, sample) pair in it (the gradient and the loss recorded
# after the loop), measured on the 2-core machine the app is sized for and rounded up; see work_seconds.
# The step's own cost was 60 us there; on the same machine's slower hours (2026-12-07: an AMD EPYC without
# AVX-512) a noise-ball step took 190-224 us, so it is 150 us: the page's defaults stay within the budget.
_STEP_SECONDS = 150e-6
_RUN_SAMPLE_SECONDS = {"linear": 20e-9, "logistic": 45e-9}
_GRAD_CALL_SECONDS = 100e-6


def label(batch_size: int | None) -> str:
    """A path's name: ``"B = 8"``, or ``"full batch (GD)"`` for None.

    >>> label(8), label(None)
    ('B = 8', 'full batch (GD)')
    """
    return "full batch (GD)" if batch_size is None else f"B = {batch_size}"


def work_seconds(problem: str, steps: int, n_sizes: int) -> float:
    """Estimated CPU seconds of the page's computations (errs high): the sweep over every batch size
    option for ``steps`` steps, the noise balls of ``n_sizes`` batch sizes, the per-sample gradients.

    >>> work_seconds("diabetes_bmi", 200, 3) < work_seconds("diabetes_bmi", 2000, 3) < 1.5
    True
    """
    spec = PROBLEMS[check_choice(problem, "problem", PROBLEMS)]
    n = {"diabetes": 442, "breast_cancer": 569}.get(spec.dataset, spec.dataset_params.get("n_samples", 1000))
    per_pair = _RUN_SAMPLE_SECONDS[spec.model]
    sweep = (check_int(steps, "steps", low=0) + 1) * (_STEP_SECONDS + (len(BATCH_OPTIONS) + 1) * n * per_pair)
    balls = (BALL_STEPS + BALL_BURN_IN + 1) * (_STEP_SECONDS + len(LR_FACTORS) * n_sizes * n * per_pair)
    return sweep + balls + 4 * n * _GRAD_CALL_SECONDS


def paths_caption(runs: dict[str, Trajectory], f_star: float) -> str:
    """Each path's loss above the minimum at its last step.

    Parameters
    ----------
    runs : dict of str to Trajectory
        Unbatched runs by the name the page gives them.
    f_star : float
        The loss at the minimum.

    >>> solved = solve("synthetic_line")
    >>> run = sgd_run(solved.objective, 0.05, None, 300, [0.0, 0.0])
    >>> paths_caption({"GD": run}, solved.min_loss)[:48]
    'Loss above the minimum after the last step, GD: '
    """
    # A run that diverged has no final loss to give; rounding can put a converged one a hair below f_star.
    finals = [f"{name}: diverged at step {int(t.diverged_at)}" if int(t.diverged_at) >= 0
              else f"{name}: {max(float(t.loss[-1] - f_star), 0.0):.3g}" for name, t in runs.items()]
    return ("Loss above the minimum after the last step, " + "; ".join(finals) + ". The full-batch path is "
            "deterministic; the mini-batch paths share the seed, so they differ only by the batch size.")


def cloud_caption(where: str, point: Sequence[float], sampling: str) -> str:
    """What the gradient cloud shows (Markdown): ``where`` is "start" or "minimum", ``point`` (2,).

    >>> cloud_caption("start", (-1.0, 1.5), "independent")[:60]
    '300 mini-batch gradients per batch size at the **start** (-1'
    """
    theory = ("(independent draws)" if sampling == "independent"
              else "× (n − B)/(n − 1) (a batch of a reshuffled epoch)")
    return (f"{CLOUD_BATCHES} mini-batch gradients per batch size at the **{where}** ({point[0]:.3g}, "
            f"{point[1]:.3g}). The ellipses are the theory, Σ/B {theory}, drawn at 2σ.")


def balls_caption(balls: Sequence[NoiseBall], lr: float, sampling: str) -> str:
    """The measured noise balls at ``lr`` (one per batch size) against the theory.

    >>> objective, _ = build_problem("synthetic_line")
    >>> ball = noise_balls(objective, minimizer(objective), [0.05], 4, steps=100, burn_in=10)
    >>> balls_caption(ball, 0.05, "independent")[:48]
    'SGD started at the minimum, 300 steps discarded,'
    """
    def measured(ball: NoiseBall) -> str:
        if ball.diverged or not np.isfinite(ball.excess_loss):
            return "diverged"
        return f"{ball.excess_loss:.3g}"

    def theory(ball: NoiseBall) -> str:
        if np.isfinite(ball.predicted_excess_loss):
            return f"theory {ball.predicted_excess_loss:.3g}"
        return "no finite theory value: unstable in mean square"

    described = [f"B = {ball.batch_size}: {measured(ball)} ({theory(ball)})" for ball in balls]
    return (f"SGD started at the minimum, {BALL_BURN_IN} steps discarded, the next {BALL_STEPS:,} kept. "
            f"Mean loss above the minimum at lr = {lr:g}: " + "; ".join(described)
            + ". Right: the same at lr × " + ", ".join(f"{f:g}" for f in LR_FACTORS)
            + ". The theory is exact for least squares with independent batches, and has no finite value "
            "where SGD is unstable in mean square (the expected spread of its iterates grows without bound); "
            "for cross-entropy it is the linearization at the minimum"
            + ("; reshuffled epochs cancel their noise within each epoch and can end well below it."
               if sampling == "reshuffle" else "."))


def square_box(points: np.ndarray, margin: float = 0.35,
               min_half_width: float = 0.5) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square view ``((xmin, xmax), (ymin, ymax))`` holding the finite ``points`` (m, 2) with a relative
    margin, so circles look like circles on an equal-aspect map.

    >>> square_box(np.array([[0.0, 0.0], [2.0, 1.0]]), margin=0.5)
    ((-1.0, 3.0), (-1.5, 2.5))
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    low, high = pts.min(axis=0), pts.max(axis=0)
    center = 0.5 * (low + high)
    half = max(float(np.max(high - low)) * (0.5 + margin), min_half_width)
    cx, cy = float(center[0]), float(center[1])
    return (cx - half, cx + half), (cy - half, cy + half)


def _grid(objective: Any, box: tuple, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = landscape.axes_for_domain(box, resolution)
    return xs, ys, landscape.grid(objective, xs, ys)


class PathsView(NamedTuple):
    """The page's paths: ``sweep``, SGD at every :data:`BATCH_OPTIONS` size and then the full batch (one
    run call, R = 9), and the full loss on a square view around the start and the minimum (``xs`` (n,),
    ``ys`` (n,), ``Z`` (n, n))."""

    sweep: Trajectory
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray

    def path(self, batch_size: int | None) -> Trajectory:
        """One batch size's run (None: the full batch) as its own unbatched Trajectory."""
        r = len(BATCH_OPTIONS) if batch_size is None else BATCH_OPTIONS.index(batch_size)
        t = self.sweep
        return Trajectory(t.params[r], t.loss[r], t.grad_norm[r], t.lr[r], int(t.diverged_at[r]),
                          int(t.converged_at[r]), t.param_names, False)


def paths_grid(objective: Any, minimum: object, x0: object, resolution: int = 101) -> tuple:
    """The full loss under the paths (``xs``, ``ys``, ``Z``): a square view around the start and the
    minimum. It does not depend on the steps, the rate or the batches, so a page can keep it while those
    change.

    >>> objective, _ = build_problem("synthetic_line")
    >>> [a.shape for a in paths_grid(objective, minimizer(objective), [0.0, 0.0], resolution=5)]
    [(5,), (5,), (5, 5)]
    """
    box = square_box(np.array([np.asarray(minimum, dtype=float), check_array(x0, "x0", ndim=1)]))
    return _grid(objective, box, resolution)


def paths_view(objective: Any, minimum: object, lr: float, steps: int, x0: object, *, seed: int = 0,
               sampling: str = "independent", resolution: int = 101, grid: tuple | None = None) -> PathsView:
    """SGD from ``x0`` at every batch size the page offers (:func:`sgd_sweep`) and the map under it
    (:func:`paths_grid`, or ``grid`` when given: that function's answer for the same objective, minimum
    and start).

    >>> objective, _ = build_problem("synthetic_line")
    >>> view = paths_view(objective, minimizer(objective), 0.05, 10, [0.0, 0.0], resolution=5)
    >>> view.sweep.params.shape, view.path(8).params.shape, view.Z.shape
    ((9, 11, 2), (11, 2), (5, 5))
    """
    sweep = sgd_sweep(objective, lr, [*BATCH_OPTIONS, None], steps, x0, seed=seed, sampling=sampling)
    return PathsView(sweep, *(grid if grid is not None else paths_grid(objective, minimum, x0, resolution)))


class BallsView(NamedTuple):
    """The page's noise balls: ``balls`` at every (batch size, lr × :data:`LR_FACTORS`), ``at_lr`` those at
    the page's lr, and the full loss on a view around the minimum holding their 3-sigma ellipses."""

    balls: list
    at_lr: list
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray


def balls_view(objective: Any, minimum: object, lr: float, batch_sizes: Sequence[int], *, seed: int = 0,
               sampling: str = "independent", resolution: int = 81) -> BallsView:
    """:func:`noise_ball_grid` at the page's learning-rate multiples, and the map around the minimum.

    Parameters
    ----------
    objective : data objective
    minimum : array_like, shape (d,)
    lr : float > 0
        The page's rate; the balls are measured at ``lr`` times each of :data:`LR_FACTORS`.
    batch_sizes : sequence of int
    seed : int
    sampling : {"independent", "reshuffle"}
    resolution : int
        Points per axis of the map.

    Returns
    -------
    BallsView

    >>> solved = solve("synthetic_line")
    >>> view = balls_view(solved.objective, solved.minimum, 0.05, [1, 8], resolution=5)
    >>> len(view.balls), [ball.batch_size for ball in view.at_lr], view.Z.shape
    (8, [1, 8], (5, 5))
    """
    w_star = np.asarray(minimum, dtype=float)
    balls = noise_ball_grid(objective, w_star, np.array(LR_FACTORS) * lr, batch_sizes, steps=BALL_STEPS,
                            burn_in=BALL_BURN_IN, seed=seed, sampling=sampling)
    at_lr = [ball for ball in balls if ball.lr == lr]
    points = [w_star[None]]
    for ball in at_lr:
        if np.all(np.isfinite(ball.predicted)):
            reach = 3.0 * np.sqrt(np.maximum(np.diag(ball.predicted), 0.0))
            points.append(np.array([w_star - reach, w_star + reach]))
        elif np.isfinite(ball.samples).all(axis=1).any():
            finite = ball.samples[np.isfinite(ball.samples).all(axis=1)]
            points.append(np.percentile(finite, [1, 99], axis=0))
    box = square_box(np.vstack(points), margin=0.1, min_half_width=1e-3)
    return BallsView(balls, at_lr, *_grid(objective, box, resolution))


def paths_table(view: PathsView, batch_sizes: Sequence[int]) -> pd.DataFrame:
    """The chosen batch sizes' runs and gradient descent's, one row per step: ``batch_size`` ("full" for
    gradient descent), ``step``, the parameters, ``loss``, ``grad_norm``, ``lr``.

    >>> solved = solve("synthetic_line")
    >>> view = paths_view(solved.objective, solved.minimum, 0.05, 3, [0.0, 0.0], resolution=3)
    >>> table = paths_table(view, [8])
    >>> table["batch_size"].tolist(), list(table.columns)[:4]
    (['8', '8', '8', '8', 'full', 'full', 'full', 'full'], ['batch_size', 'step', 'slope', 'intercept'])
    """
    frames = []
    for size in [*batch_sizes, None]:
        frame = view.path(size).to_frame().drop(columns="run")
        frame.insert(0, "batch_size", "full" if size is None else str(size))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def clouds_table(clouds: Sequence[GradientCloud], param_names: Sequence[str]) -> pd.DataFrame:
    """Every cloud's gradients, one row per batch (:meth:`GradientCloud.to_frame`).

    >>> objective, _ = build_problem("synthetic_line")
    >>> clouds = gradient_clouds(objective, [0.0, 0.0], [1, 8], n_batches=5)
    >>> table = clouds_table(clouds, objective.param_names)
    >>> len(table), list(table.columns)
    (10, ['batch_size', 'batch', 'grad_slope', 'grad_intercept'])
    """
    return pd.concat([cloud.to_frame(tuple(param_names)) for cloud in clouds], ignore_index=True)
