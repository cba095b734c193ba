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

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import analysis, datasets, models, optimizers
from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar
from lossviz.run import Trajectory, run

__all__ = [
    "SAMPLINGS", "PROBLEMS", "Problem", "GradientCloud", "NoiseBall", "IndependentBatches", "Scenario",
    "SCENARIOS", "build_problem", "minimizer", "per_sample_gradients", "batch_gradient_covariance",
    "draw_batches", "gradient_cloud", "sgd_run", "stationary_covariance", "noise_balls", "noise_ball_sweep",
    "torch_script", "balls_frame", "clouds_frame",
]

SAMPLINGS = ("reshuffle", "independent")
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
        "Full-batch gradient descent is stable here up to lr = 1 (2/λ_max), yet at lr = 0.3 a batch of one "
        "is not: the theory gives its noise ball no finite size (unstable in mean square), and the loss "
        "spikes far above where it started, while batches of 4 and 64 settle.",
        lr=0.3, batch_sizes=(1, 4, 64),
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
    for _ in range(_NEWTON_MAX_STEPS):
        g = objective.grad(w)
        if np.linalg.norm(g) <= _NEWTON_TOL * first:
            return w
        step = np.linalg.lstsq(analysis.hessian(objective, w), g, rcond=None)[0]
        value, scale = float(objective.f(w)), 1.0
        while scale > 1e-10 and not float(objective.f(w - scale * step)) <= value:
            scale *= 0.5
        w = w - scale * step
    if np.linalg.norm(objective.grad(w)) <= 1e-8 * first:
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
    dim, n = _check_objective(objective)
    w = _point(point, dim)
    K = check_int(n_batches, "n_batches", low=2, high=MAX_CLOUD_BATCHES)
    batches = draw_batches(n, batch_size, K, seed, sampling)
    grads = np.stack([np.asarray(objective.grad(w, batch=idx)) for idx in batches])
    return GradientCloud(w, int(batch_size), sampling, grads, np.asarray(objective.grad(w)),
                         np.cov(grads.T, ddof=1).reshape(dim, dim),
                         batch_gradient_covariance(objective, w, batch_size, sampling))


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
    dim, n = _check_objective(objective)
    w_star = _point(minimum, dim, "minimum")
    rates = np.atleast_1d(check_array(lrs, "lrs"))
    if rates.ndim != 1 or np.any(rates <= 0):
        raise ValueError(f"lrs must be a 1-D array of learning rates > 0, got {np.asarray(lrs).tolist()!r}")
    steps = check_int(steps, "steps", low=2, high=100_000)
    burn_in = check_int(burn_in, "burn_in", low=0, high=100_000)
    traj = sgd_run(objective, rates, batch_size, burn_in + steps, w_star, seed=seed, sampling=sampling)
    f_star = float(objective.f(w_star))
    sigma = _population_covariance(per_sample_gradients(objective, w_star))
    hessians = _per_sample_hessians(objective, w_star)
    hessian = hessians.mean(axis=0)
    B = check_int(batch_size, "batch_size", low=1, high=n)
    out = []
    for r, rate in enumerate(rates):
        samples = traj.params[r, burn_in + 1:]
        diverged = bool(traj.diverged_at[r] >= 0)
        errors = samples - w_star
        second = errors.T @ errors / errors.shape[0] if not diverged else np.full((dim, dim), np.nan)
        predicted = _stationary(sigma, hessians, float(rate), B, False)
        out.append(NoiseBall(
            float(rate), int(batch_size), samples, second, predicted,
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
    balls = [ball for size in sizes for ball in noise_balls(objective, minimum, lrs, int(size), steps=steps,
                                                             burn_in=burn_in, seed=seed, sampling=sampling)]
    return balls_frame(balls)


def clouds_frame(clouds: list[GradientCloud]) -> pd.DataFrame:
    """One row per cloud: ``batch_size``, the measured and predicted total standard deviation of the
    mini-batch gradient (root of the covariance's trace), and the full gradient's norm."""
    return pd.DataFrame([{
        "batch_size": c.batch_size, "measured_std": float(np.sqrt(np.trace(c.covariance))),
        "predicted_std": float(np.sqrt(np.trace(c.predicted_covariance))),
        "full_gradient_norm": float(np.linalg.norm(c.full_grad)),
    } for c in clouds], columns=["batch_size", "measured_std", "predicted_std", "full_gradient_norm"])


_LOSS_LINES = {
    "linear": "    return ((X[batch, 0] * slope + intercept - t[batch]) ** 2).mean()",
    "logistic": "    return torch.nn.functional.binary_cross_entropy_with_logits(\n"
                "        X[batch, 0] * slope + intercept, t[batch])",
}


def torch_script(problem: str, lr: float, *, steps: int, x0: object, batch_size: int | None = None,
                 seed: int = 0, sampling: str = "reshuffle") -> str:
    """PyTorch code for :func:`sgd_run` on a :data:`PROBLEMS` entry, with the very same batches.

    The data and the batch indices come from lossviz (``lossviz.datasets`` and the batch order of
    :func:`lossviz.run.minibatch_indices` or :class:`IndependentBatches`), so the script's final
    parameters equal :func:`sgd_run`'s to float64 round-off; the optimizer and the loop are plain torch.
    """
    from lossviz.torch_export import torch_code

    check_choice(problem, "problem", PROBLEMS)
    sampling = _check_sampling(sampling)
    spec = PROBLEMS[problem]
    _, data = build_problem(problem)
    steps = check_int(steps, "steps", low=0)
    seed = check_int(seed, "seed", low=0)
    code = torch_code(optimizers.get("sgd", lr=lr), steps=steps, x0=x0,
                      objective_expr="loss_fn(x, y, slice(None))" if batch_size is None
                      else "loss_fn(x, y, batches[step])")
    prelude = [
        "from lossviz import datasets  # the same standardized data as the page",
        "",
        f"data = datasets.get({spec.dataset!r}"
        + "".join(f", {k}={v!r}" for k, v in spec.dataset_params.items()) + f").select({spec.feature!r})",
        "X = torch.tensor(data.X)",
        "t = torch.tensor(data.y, dtype=torch.float64)",
    ]
    if batch_size is not None:
        B = check_int(batch_size, "batch_size", low=1, high=data.n_samples)
        if sampling == "reshuffle":
            prelude += [
                "# A fresh permutation per epoch cut into batches, like DataLoader(shuffle=True),",
                "# in lossviz's random order so the numbers match.",
                "from lossviz.run import minibatch_indices",
                "",
                f"batches = minibatch_indices(data.n_samples, {B}, {steps}, seed={seed})",
            ]
        else:
            prelude += [
                "# Independent batches drawn with replacement, like RandomSampler(replacement=True).",
                "import numpy as np",
                "",
                f"rng = np.random.default_rng({seed})",
                f"batches = [torch.from_numpy(rng.integers(0, data.n_samples, size={B}))",
                f"           for _ in range({steps})]",
            ]
    prelude += ["", "", "def loss_fn(slope, intercept, batch):", _LOSS_LINES[spec.model], ""]
    lines = code.split("\n")
    at = lines.index("import torch") + 1
    return "\n".join(lines[:at] + prelude + lines[at:])
