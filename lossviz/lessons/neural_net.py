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
  by Lanczos on exact Hessian-vector products against the gradient descent stability limit
  :math:`2/\mathrm{lr}` (Cohen et al. 2021, "edge of stability"); for Adam-family runs also the
  preconditioned sharpness :math:`\lambda_{\max}(P_t^{-1} \nabla^2 L)` against :math:`(2 + 2\beta_1) /
  ((1 - \beta_1)\,\mathrm{lr})` (Cohen et al. 2022, :func:`lossviz.analysis.adaptive_preconditioners`).
- **The decision boundary** of the network at any step, on a grid over its two input features.
- **The same training in PyTorch** (:func:`torch_script`), which prints the page's final loss and accuracy.

A page draws in stages. :func:`train` is the only call a training setting waits for; each view is then its
own call, a pure function of the model, the runs and hashable settings (so a page caches each under the
training's key plus its own settings), and the expensive ones take a resolution: call them first with
:data:`COARSE` and again with :data:`REFINED` (the defaults). Measured on this 2-core machine for the
default scenario (``large_lr``: 2 runs of 500 steps of a 2-32-32-2 network on 1,000 samples), training
takes 0.47 s of CPU, the coarse views 0.26 s together and the refined ones 1.0 s (see the note above
:data:`COARSE`).

    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, data = nl.build_model("moons", n_samples=100, hidden=(8,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 50)
    >>> view = nl.sharpness_view(model, runs, **nl.COARSE["sharpness"])
    >>> view.sharpness.shape == (1, view.steps.size)
    True

Speed: :func:`lossviz.landscape.plane_losses` evaluates a whole grid of weight vectors at once through the
model's own float32 grid path (:meth:`lossviz.models.MLP.f_affine`, batched ``np.matmul`` over chunks of
points on two threads), never a forward pass per grid point in a Python loop. The float32 values agree
with :meth:`lossviz.models.MLP.f` in float64 to a relative 1e-5 on well-scaled networks (pinned in the
tests); ``dtype=np.float64`` gives the exact values.
"""
from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz import _ast
from lossviz import csvdata, datasets, models, optimizers, schedules, torch_export
from lossviz._validation import (
    check_array,
    check_choice,
    check_int,
    check_objective,
    check_scalar,
    check_start,
)
from lossviz.analysis import (
    adaptive_preconditioners,
    adaptive_stability_threshold,
    preconditioned_sharpness,
    sample_steps,
    sharpness,
    stability_threshold,
)
from lossviz.landscape import (
    BIAS_MODES,
    MAX_SLICE_RESOLUTION,
    PCAPlane,
    ProjectionCheck,
    filter_normalized_directions,
    interpolation,
    interpolation_rise,
    loss_slice,
    plane_axes,
    plane_losses,
    project,
    projection_check,
    slice_axes,
    trajectory_pca,
)
from lossviz.run import Trajectory, minibatch_indices, run
from lossviz.settings import LessonScenario, OptimizerSetting, build_optimizer, build_schedule

__all__ = [
    "run_label",
    "BIAS_MODES",
    "COARSE",
    "DATASETS",
    "MAX_RECORDED_WEIGHTS",
    "MAX_RESOLUTION",
    "MAX_RUNS",
    "MAX_STEPS",
    "REFINED",
    "SCENARIOS",
    "SHARED_AND_HIDDEN",
    "SHARPNESS_POINTS",
    "STAGES",
    "SPARE_RUNS",
    "DecisionView",
    "InterpolationView",
    "LandscapeViews",
    "NetScenario",
    "PAGE_SCENARIOS",
    "PlaneView",
    "SharpnessView",
    "SliceView",
    "TorchScript",
    "TrainedRun",
    "Work",
    "accuracy",
    "build_model",
    "decision_grid",
    "decision_view",
    "export_frames",
    "get_scenario",
    "input_axes",
    "interpolation_view",
    "landscape_views",
    "plane_view",
    "scenario_names",
    "sharpness_view",
    "slices_view",
    "torch_model_code",
    "torch_script",
    "train",
    "view_settings",
    "weight_count",
    "work",
    "summary",
    "final_words",
    "rose",
    "interpolation_words",
    "slice_words",
    "sharpness_words",
    "plane_words",
]

# Datasets with two input features, so the decision boundary is a picture. Iris uses its petal length
# and width (the two features that separate the species).
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "iris")
MAX_RESOLUTION = MAX_SLICE_RESOLUTION
MAX_RUNS = 4
MAX_STEPS = 5000
MAX_SAMPLES = 5000
# Every step's weights are kept (for the PCA plane, sharpness and the step slider), and for Adam-family
# runs every step's gradient (to rebuild the preconditioner): 25 million float64 values are 190 MB, which
# a page cache holding a few trainings can afford.
MAX_RECORDED_WEIGHTS = 25_000_000

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


def accuracy(model: models.DataModel, params: object) -> np.ndarray:
    """Fraction of training samples classified correctly, shape ``(...)`` for params ``(..., d)``.

    Rows with non-finite parameters give NaN.
    """
    dim = check_objective(model)
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
    dim = check_objective(model)
    theta = check_start(params, dim, "params")
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

    trajectory : Trajectory with params (T+1, d), loss, grad_norm, lr; accuracy : (T+1,) training accuracy;
    seed : the mini-batch order's seed; grads : (T+1, d) the gradients each step used, kept for
    Adam-family runs (their preconditioner is rebuilt from them), else None.
    """

    label: str
    setting: OptimizerSetting
    batch_size: int | None
    optimizer: optimizers.Optimizer
    schedule: schedules.Schedule | None
    trajectory: Trajectory
    accuracy: np.ndarray
    seed: int = 0
    grads: np.ndarray | None = None

    @property
    def last_finite_step(self) -> int:
        """The last step whose weights are finite (the final step unless the run diverged)."""
        rows = np.flatnonzero(np.all(np.isfinite(self.trajectory.params), axis=1))
        return int(rows[-1]) if rows.size else 0

    @property
    def adaptive(self) -> bool:
        """Whether the run has Adam's preconditioner (its gradients are kept)."""
        return self.grads is not None


class _TrainingObjective:
    """The model as :func:`lossviz.run.run` sees it while training.

    ``run`` scores every recorded point with ``f`` after its loop, and the page wants each point's
    accuracy too: both come from forward passes already made. A full-batch gradient at a point comes with
    the loss and the predicted labels of the same pass, kept by the point's bytes; ``f`` then returns them
    and computes (loss and labels in one pass) only points it has not seen, such as every point of a
    mini-batch run. That saves two of the three forward passes per step the page used to make.
    """

    def __init__(self, model: models.DataModel) -> None:
        self.model = model
        self.dim = model.dim
        self.n_samples = model.n_samples
        self.param_names = model.param_names
        self._seen: dict[bytes, tuple[float, float]] = {}
        self._labels = model.y.astype(np.int64)
        # A regression has no accuracy: NaN.
        self._classify = model.task == "classification"

    def _remember(self, points: np.ndarray, values: np.ndarray, labels: np.ndarray | None) -> None:
        if labels is None:
            correct = np.full(len(points), np.nan)
        else:
            correct = (labels == self._labels).mean(axis=-1)
        for point, value, share in zip(points, values, correct):
            self._seen[point.tobytes()] = (float(value), float(share))

    def grad(self, params: np.ndarray, batch: np.ndarray | None = None) -> np.ndarray:
        if batch is not None:
            return self.model.grad(params, batch=batch)
        points = params.reshape(-1, self.dim)
        finite = np.all(np.isfinite(points), axis=1)
        if self._classify:
            values, grads, labels = self.model.value_and_grad(params, labels=True)
            labels = labels.reshape(-1, self.n_samples)[finite]
        else:
            values, grads = self.model.value_and_grad(params)
            labels = None
        self._remember(points[finite], np.reshape(values, -1)[finite], labels)
        return grads

    def f(self, params: np.ndarray) -> np.ndarray:
        points = np.asarray(params, dtype=np.float64).reshape(-1, self.dim)
        missing = [i for i, p in enumerate(points) if p.tobytes() not in self._seen]
        for start in range(0, len(missing), _ACCURACY_SLICE):
            rows = missing[start: start + _ACCURACY_SLICE]
            with np.errstate(all="ignore"):
                if self._classify:
                    values, labels = self.model.value_and_labels(points[rows])
                else:
                    values, labels = self.model.f(points[rows]), None
            self._remember(points[rows], values, labels)
        return np.array([self._seen[p.tobytes()][0] for p in points]).reshape(np.shape(params)[:-1])

    def accuracy(self, params: np.ndarray) -> np.ndarray:
        """Training accuracy at every point ``(..., d)`` that :meth:`f` scored (NaN where not finite)."""
        points = params.reshape(-1, self.dim)
        out = np.array([self._seen.get(p.tobytes(), (math.nan, math.nan))[1] for p in points])
        return out.reshape(params.shape[:-1])


def _is_number(value: object) -> bool:
    numeric = isinstance(value, (int, float, np.floating, np.integer))
    return numeric and not isinstance(value, (bool, np.bool_))


def _group_key(setting: OptimizerSetting, batch: int | None) -> tuple:
    """Settings with equal keys train in one ``run`` call, their numbers as per-run arrays."""
    hyper = setting.hyperparameters
    fixed = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in hyper.items()
                         if not _is_number(v)))
    numbers = tuple(sorted(k for k, v in hyper.items() if _is_number(v)))
    schedule = OptimizerSetting(setting.name, {}, setting.schedule, setting.schedule_params)
    return (schedule, batch, fixed, numbers)


def _stacked(group: list[OptimizerSetting]) -> OptimizerSetting:
    """One setting whose numeric hyperparameters are arrays of shape (R,) where the runs differ."""
    first = group[0]
    hyper: dict[str, Any] = {}
    for key, value in first.hyperparameters.items():
        values = [s.hyperparameters[key] for s in group]
        differ = _is_number(value) and len(set(values)) > 1
        hyper[key] = np.array(values, dtype=np.float64) if differ else value
    return OptimizerSetting(first.name, hyper, first.schedule, first.schedule_params)


def _one_run(traj: Trajectory, index: int) -> tuple[Trajectory, np.ndarray | None]:
    """Run ``index`` of a batched trajectory, as :func:`lossviz.run.run` returns a single run."""
    grads = traj.grads[index] if traj.grads is not None else None
    single = Trajectory(
        params=traj.params[index], loss=traj.loss[index], grad_norm=traj.grad_norm[index], lr=traj.lr[index],
        diverged_at=int(traj.diverged_at[index]), converged_at=int(traj.converged_at[index]),
        param_names=traj.param_names, batched=False)
    return single, grads


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

    Runs with the same optimizer, schedule and batch size train together in one
    :func:`lossviz.run.run` call (their hyperparameters as per-run arrays), which gives each exactly what
    a call of its own would. The loss and accuracy at every step come from the forward pass of its
    gradient where the step used the full batch.

    Parameters
    ----------
    settings : sequence of OptimizerSetting (1 to 4)
    steps : int in [1, 5000]
    batch_sizes : one per setting, None (or 0) for full-batch gradient descent
    seed : int
        Seed of the mini-batch order (shared by every run).
    progress : callable, optional
        Called with the fraction of runs done.

    Returns
    -------
    list of TrainedRun, in the order of ``settings``
    """
    if not 1 <= len(settings) <= MAX_RUNS:
        raise ValueError(f"settings must hold 1 to {MAX_RUNS} optimizers, got {len(settings)}")
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    sizes = list(batch_sizes) if batch_sizes is not None else [None] * len(settings)
    if len(sizes) != len(settings):
        raise ValueError(f"batch_sizes must have one entry per optimizer ({len(settings)}), got {len(sizes)}")
    sizes = [None if not b or b >= model.n_samples else check_int(b, "batch_size", low=1) for b in sizes]
    seed = check_int(seed, "seed", low=0)
    built = [build_optimizer(s) for s in settings]  # validates each setting, naming its bad value
    adaptive = [adaptive_stability_threshold(o, 1.0) is not None for o in built]
    recorded = sum((2 if a else 1) * (steps + 1) * model.dim for a in adaptive)
    if recorded > MAX_RECORDED_WEIGHTS:
        raise ValueError(
            f"training would record optimizers x (steps + 1) x d = {len(settings)} x {steps + 1} x "
            f"{model.dim:,} = {len(settings) * (steps + 1) * model.dim:,} weights"
            + (" and as many gradients of the Adam-family runs" if any(adaptive) else "")
            + f", more than {MAX_RECORDED_WEIGHTS:,} ({MAX_RECORDED_WEIGHTS * 8 // 2**20} MB): "
            "use fewer steps, fewer optimizers or a smaller network")
    x0 = model.init_params(seed=check_int(init_seed, "init_seed", low=0))
    groups: dict[tuple, list[int]] = {}
    for i, (setting, batch) in enumerate(zip(settings, sizes)):
        groups.setdefault(_group_key(setting, batch), []).append(i)
    objective = _TrainingObjective(model)

    def train_unit(members: list[int]) -> list[TrainedRun]:
        together = _stacked([settings[i] for i in members])
        optimizer = build_optimizer(together)
        schedule = build_schedule(together, optimizer, steps)
        keep_grads = adaptive[members[0]]
        traj = run(objective, optimizer, x0, steps, schedule, batch_size=sizes[members[0]], seed=seed,
                   record_grads=keep_grads)
        trained = []
        for position, i in enumerate(members):
            single, grads = _one_run(traj, position) if traj.batched else (traj, traj.grads)
            setting = settings[i]
            label = setting.label or f"{i + 1}. {built[i].title}"
            schedule_i = build_schedule(setting, built[i], steps)
            trained.append(TrainedRun(label, setting, sizes[i], built[i], schedule_i, single,
                                      objective.accuracy(single.params), seed, grads if keep_grads else None))
        return trained

    out: dict[int, TrainedRun] = {}
    # One thread: two run loops on two threads took more wall time than one after the other on a busy
    # 2-core machine (each step hands the GIL over dozens of times) and 20-40% more CPU time (measured).
    for members in groups.values():
        out.update(zip(members, train_unit(members)))
        if progress is not None:
            progress(len(out) / len(settings))
    return [out[i] for i in range(len(settings))]


# ------------------------------------------------------------------------------------------- the views
# A page draws each view first at COARSE settings, then again at REFINED ones (the functions' defaults).
# CPU time, default scenario (2 runs of 500 steps, 2-32-32-2 on 1,000 samples), best of 3 on the shared
# 2-core machine (load 6): train 0.47 s; coarse interpolation 15 ms, slices 71, plane 72, sharpness 97,
# decision 2 (0.26 s in all); refined 38, 350, 196, 433 and 4 ms (1.0 s).
COARSE: dict[str, dict[str, int]] = {
    "interpolation": {"n_alphas": 31},
    "slices": {"resolution": 21},
    "plane": {"resolution": 21, "path_points": 101},
    "sharpness": {"points": 6, "n_iter": 10},
    "decision": {"resolution": 41},
}
REFINED: dict[str, dict[str, int]] = {
    "interpolation": {"n_alphas": 101},
    "slices": {"resolution": 51},
    "plane": {"resolution": 51, "path_points": None},
    "sharpness": {"points": 20, "n_iter": 16},
    "decision": {"resolution": 81},
}


STAGES = ("coarse", "refined")
# Steps where a page measures sharpness by default: 16 keep the refined views of every scenario within a
# page's work budget (20, the functions' default, took Adam's scenario over it: its preconditioned
# sharpness doubles the Hessian-vector products).
SHARPNESS_POINTS = 16


def view_settings(stage: str, *, resolution: int = 51, sharpness_points: int = 20) -> dict[str, dict]:
    """Keyword arguments of each view at ``stage`` for a page whose reader chose the slices' ``resolution``
    and the number of steps where sharpness is measured.

    The refined stage uses the reader's choices (:data:`REFINED` otherwise); the coarse stage uses
    :data:`COARSE`, never finer than the reader's choices.

    Parameters
    ----------
    stage : {"coarse", "refined"}
    resolution : int in [3, 201]
        Grid points per axis of the slices and along the longer axis of the PCA plane.
    sharpness_points : int in [2, 200]

    Returns
    -------
    dict
        ``{"interpolation": {...}, "slices": {...}, "plane": {...}, "sharpness": {...}, "decision": {...}}``,
        each the keyword arguments of that view function.

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> nl.view_settings("coarse", resolution=15)["slices"], nl.view_settings("refined")["sharpness"]
    ({'resolution': 15}, {'points': 20, 'n_iter': 16})
    """
    check_choice(stage, "stage", STAGES)
    resolution = check_int(resolution, "resolution", low=3, high=MAX_RESOLUTION)
    points = check_int(sharpness_points, "sharpness_points", low=2, high=200)
    if stage == "refined":
        return {"interpolation": dict(REFINED["interpolation"]), "slices": {"resolution": resolution},
                "plane": {"resolution": resolution, "path_points": None},
                "sharpness": {"points": points, "n_iter": REFINED["sharpness"]["n_iter"]},
                "decision": dict(REFINED["decision"])}
    return {"interpolation": dict(COARSE["interpolation"]),
            "slices": {"resolution": min(COARSE["slices"]["resolution"], resolution)},
            "plane": {"resolution": min(COARSE["plane"]["resolution"], resolution),
                      "path_points": COARSE["plane"]["path_points"]},
            "sharpness": {"points": min(COARSE["sharpness"]["points"], points),
                          "n_iter": COARSE["sharpness"]["n_iter"]},
            "decision": dict(COARSE["decision"])}


# The cost of each part, per unit of work, measured (CPU time, one BLAS thread) on this 2-core machine
# over networks from 2-8-2 on 200 samples to 2-128-128-2 on 2,000, and rounded up: a forward and backward
# pass per sample and weight, a float64 forward pass, a float32 grid point (slices, PCA plane), a
# Hessian-vector product, the PCA of the paths (per point and weight: a few dozen block iterations), and
# what a step costs whatever the network's size (the loop, the optimizer, the recording).
_PASS_SECONDS = 0.45e-9
_FORWARD_SECONDS = 0.2e-9
_GRID_SECONDS = 0.05e-9
_HVP_SECONDS = 0.7e-9
_PCA_SECONDS = 6e-8
_STEP_SECONDS = 150e-6
_GRID_POINT_SECONDS = 3e-6
_HVP_POINT_SECONDS = 30e-6


class Work(NamedTuple):
    """Estimated CPU seconds of training, of the coarse views and of the refined views, and the bytes the
    training keeps (the weights of every step, the gradients of Adam-family runs, the PCA's copies)."""

    train: float
    coarse: float
    refined: float
    bytes: float


def _step_cost(optimizer: optimizers.Optimizer, dim: int) -> tuple[float, float]:
    """(seconds of overhead, full passes) per step: L-BFGS evaluates up to ``max_eval`` times, SAM twice,
    Newton differentiates the gradient in every direction and decomposes a d x d Hessian."""
    hyper = optimizer.hyperparameters
    if optimizer.name == "lbfgs":
        evaluations = float(hyper.get("max_eval") or 1.25 * hyper.get("max_iter", 20))
        return 1e-3 * evaluations, evaluations
    if optimizer.name == "newton":
        return 2e-3 + 1e-8 * dim**3, 2.0 * dim + 1
    if optimizer.name == "sam":
        return 2 * _STEP_SECONDS, 2.0
    return _STEP_SECONDS, 1.0


def weight_count(model: models.MLP, hidden: Sequence[int]) -> int:
    """The number of weights of ``model``'s network (same inputs, same outputs) with hidden widths ``hidden``.

    >>> from lossviz.lessons import neural_net as nl
    >>> model, _ = nl.build_model("moons", n_samples=50, hidden=(32, 32))
    >>> nl.weight_count(model, (32, 32)) == model.dim, nl.weight_count(model, (8,))
    (True, 42)
    """
    widths = (model.widths[0], *hidden, model.widths[-1])
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(widths))


def work(model: models.MLP | tuple[int, int], settings: Sequence[OptimizerSetting], steps: int,
         batch_sizes: Sequence[int | None] | None = None, *, resolution: int = 51,
         sharpness_points: int = 20) -> Work:
    """What :func:`train` and the views at both stages (:func:`view_settings`) would cost, before any of it
    runs: a page refuses settings above its budget instead of computing them.

    Deliberately simple (linear in steps, runs, samples and weights; quadratic in the resolution) and on
    the high side of the cost measured on a quiet machine. A mini-batch step costs its batch's gradient
    and a forward pass over every sample (the page's loss and accuracy at that step).

    Parameters
    ----------
    model : MLP, or (samples, weights)
        The network, or only its size (:func:`weight_count`): what a setting would cost, unbuilt.
    settings : sequence of OptimizerSetting
        Validated here, as :func:`train` would (a ValueError names a bad hyperparameter).
    steps : int
    batch_sizes : one per setting, or None
    resolution, sharpness_points
        As :func:`view_settings`.

    Returns
    -------
    Work

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=1000, hidden=(32, 32))
    >>> cost = nl.work(model, [OptimizerSetting("sgd", {"lr": 0.05})] * 2, 500)
    >>> 0.3 < cost.train < 1.5 and cost.coarse < cost.refined < 1.5
    True
    """
    built = [build_optimizer(s) for s in settings]
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    n, dim = (model.n_samples, model.dim) if isinstance(model, models.DataModel) else map(int, model)
    runs = len(built)
    batches = list(batch_sizes) if batch_sizes is not None else [None] * runs
    adaptive = sum(adaptive_stability_threshold(o, 1.0) is not None for o in built)
    train_seconds = 0.0
    for optimizer, batch in zip(built, batches):
        overhead, passes = _step_cost(optimizer, dim)
        samples = batch if batch and batch < n else n
        scoring = n * dim * _FORWARD_SECONDS if samples < n else 0.0
        train_seconds += steps * (overhead + passes * samples * dim * _PASS_SECONDS + scoring)
    grid_point = n * dim * _GRID_SECONDS + _GRID_POINT_SECONDS
    points = runs * (steps + 1)
    pca = _PCA_SECONDS * points * dim

    def views(stage: str) -> float:
        kw = view_settings(stage, resolution=resolution, sharpness_points=sharpness_points)
        path = kw["plane"]["path_points"] or steps + 1
        sharp = kw["sharpness"]["points"] * kw["sharpness"]["n_iter"] * (runs + adaptive)
        return (kw["interpolation"]["n_alphas"] * runs * (n * dim * _FORWARD_SECONDS + 20e-6)
                + kw["slices"]["resolution"] ** 2 * runs * grid_point
                + (kw["plane"]["resolution"] ** 2 + path * runs) * grid_point + pca
                + sharp * (n * dim * _HVP_SECONDS + _HVP_POINT_SECONDS)
                + kw["decision"]["resolution"] ** 2 * runs * dim * 2e-9)

    kept = 8.0 * (steps + 1) * dim * (3 * runs + adaptive)
    return Work(train_seconds, views("coarse"), views("refined"), kept)


def _check_runs(runs: Sequence[TrainedRun]) -> None:
    if not runs:
        raise ValueError("runs must hold at least one trained run")


def _last_finite(params: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(np.all(np.isfinite(params), axis=1))
    return params[rows[-1] if rows.size else 0]


class InterpolationView(NamedTuple):
    """alphas : (A,); values : (R, A), the loss from each run's initial (0) to its trained weights (1)."""

    alphas: np.ndarray
    values: np.ndarray


def interpolation_view(model: models.MLP, runs: Sequence[TrainedRun], *, n_alphas: int = 101,
                       alphas: object = None) -> InterpolationView:
    """The loss on the straight line from each run's initial weights to its last finite weights.

    Parameters
    ----------
    n_alphas : int in [3, 1001]
        Points on :math:`\\alpha \\in [-0.25, 1.25]` (float64 forward passes, one per point and run).
    alphas : array_like (A,), optional
        The coefficients themselves, instead of ``n_alphas``.

    Returns
    -------
    InterpolationView

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> view = nl.interpolation_view(model, runs, n_alphas=5)
    >>> view.alphas.tolist(), view.values.shape
    ([-0.25, 0.125, 0.5, 0.875, 1.25], (1, 5))
    """
    _check_runs(runs)
    if alphas is None:
        a = np.linspace(-0.25, 1.25, check_int(n_alphas, "n_alphas", low=3, high=1001))
    else:
        a = check_array(alphas, "alphas", ndim=1)
    values = np.empty((len(runs), a.size))
    for i, r in enumerate(runs):
        with np.errstate(all="ignore"):
            values[i] = interpolation(model, r.trajectory.params[0], _last_finite(r.trajectory.params), a)
    return InterpolationView(a, values)


class SliceView(NamedTuple):
    """xs : (nx,), ys : (ny,); slices : (R, ny, nx), each around its run's trained weights ``centers`` (R, d)
    along its own filter-normalized directions (the same seed for every run)."""

    xs: np.ndarray
    ys: np.ndarray
    slices: np.ndarray
    centers: np.ndarray


def slices_view(model: models.MLP, runs: Sequence[TrainedRun], *, span: float = 1.0, resolution: int = 51,
                direction_seed: int = 0, biases: str = "zero",
                progress: Callable[[float], None] | None = None) -> SliceView:
    """The 2-D filter-normalized slice around every run's last finite weights (float32 grid path).

    Parameters
    ----------
    span, resolution
        The slices cover ``[-span, span]^2`` with ``resolution`` points per axis (cost grows with its
        square: 21 is a sixth of 51).
    direction_seed, biases
        As :func:`lossviz.landscape.filter_normalized_directions`.

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> nl.slices_view(model, runs, resolution=5).slices.shape
    (1, 5, 5)
    """
    _check_runs(runs)
    xs, ys = slice_axes(span, resolution)
    centers = np.stack([_last_finite(r.trajectory.params) for r in runs])
    slices = np.empty((len(runs), ys.size, xs.size))
    for i, center in enumerate(centers):
        directions = filter_normalized_directions(model, center, 2, seed=direction_seed, biases=biases)
        part = None if progress is None else (lambda f, i=i: progress((i + f) / len(runs)))
        slices[i] = loss_slice(model, center, directions, xs, ys, progress=part)
    return SliceView(xs, ys, slices, centers)


class PlaneView(NamedTuple):
    """plane : the PCA plane of all paths through the focus run's trained weights; xs, ys, Z : the loss on
    it (Z of shape (ny, nx)); checks : one ProjectionCheck per run (its path, projected, and its loss)."""

    plane: PCAPlane
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray
    checks: tuple[ProjectionCheck, ...]


def _sampled_check(model: models.MLP, plane: PCAPlane, r: TrainedRun, points: int) -> ProjectionCheck:
    """A ProjectionCheck whose loss on the plane is evaluated at ``points`` evenly spaced steps only."""
    params = r.trajectory.params
    coords, distance = project(plane, params)
    on_plane = np.full(params.shape[0], np.nan)
    steps = sample_steps(params.shape[0] - 1, points)
    steps = steps[np.all(np.isfinite(coords[steps]), axis=1)]
    if steps.size:
        on_plane[steps] = plane_losses(model, plane.origin, plane.directions, coords[steps])
    with np.errstate(invalid="ignore"):
        extent = float(np.nanmax(np.linalg.norm(params - plane.origin, axis=1), initial=0.0))
    relative = distance / extent if extent > 0 else np.zeros_like(distance)
    return ProjectionCheck(coords, r.trajectory.loss, on_plane, distance, relative)


def plane_view(model: models.MLP, runs: Sequence[TrainedRun], *, focus: int = 0, resolution: int = 51,
               path_points: int | None = None, progress: Callable[[float], None] | None = None) -> PlaneView:
    """The PCA plane of every path, the paths projected on it, and the loss over it.

    Parameters
    ----------
    focus : int
        Index of the run whose trained weights anchor the plane.
    resolution : int in [3, 201]
        Grid points along the plane's longer axis (square cells).
    path_points : int in [2, 1000], optional
        Evaluate the loss on the plane under each path at this many evenly spaced steps only (NaN at the
        others; the coarse pass), instead of at every step. The projected path itself is always complete.

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> view = nl.plane_view(model, runs, resolution=7)
    >>> max(view.Z.shape), view.checks[0].coords.shape
    (7, (21, 2))
    """
    _check_runs(runs)
    focus = check_int(focus, "focus", low=0, high=len(runs) - 1)
    paths = [r.trajectory.params for r in runs]
    plane = trajectory_pca([paths[focus], *paths[:focus], *paths[focus + 1:]])
    if path_points is None:
        checks = tuple(projection_check(model, plane, r.trajectory.params, true_loss=r.trajectory.loss)
                       for r in runs)
    else:
        points = check_int(path_points, "path_points", low=2, high=1000)
        checks = tuple(_sampled_check(model, plane, r, points) for r in runs)
    if progress is not None:
        progress(0.25)
    xs, ys = plane_axes([c.coords for c in checks], resolution)
    part = None if progress is None else (lambda f: progress(0.25 + 0.75 * f))
    Z = loss_slice(model, plane.origin, plane.directions, xs, ys, progress=part)
    return PlaneView(plane, xs, ys, Z, checks)


class SharpnessView(NamedTuple):
    """The curvature along training at the sampled ``steps`` (S,).

    sharpness : (R, S), the top Hessian eigenvalue; thresholds : per run (S,) its stability limit
    (:func:`lossviz.analysis.stability_threshold`, 2/lr for gradient descent) or None (adaptive methods);
    preconditioned : (R, S), the top eigenvalue of :math:`P^{-1} H` with Adam's preconditioner, NaN for a
    run that has none; adaptive_thresholds : per run (S,) its limit :math:`(2 + 2\\beta_1) / ((1 -
    \\beta_1)\\,\\mathrm{lr})` or None.
    """

    steps: np.ndarray
    sharpness: np.ndarray
    thresholds: tuple[np.ndarray | None, ...]
    preconditioned: np.ndarray
    adaptive_thresholds: tuple[np.ndarray | None, ...]


def sharpness_view(model: models.MLP, runs: Sequence[TrainedRun], *, points: int = 20, n_iter: int = 16,
                   seed: int = 0, progress: Callable[[float], None] | None = None) -> SharpnessView:
    """Sharpness (and Adam's preconditioned sharpness) at ``points`` evenly spaced steps of every run.

    Parameters
    ----------
    points : int in [2, 200]
        Steps measured, both ends included. Cost is about linear in ``points * n_iter``.
    n_iter : int in [2, 200]
        Lanczos iterations. Measured on the four scenarios (against 80 iterations): 10 give the top
        eigenvalue to 3e-3 relative (2e-5 on three of them; the coarse pass), 16 to 4e-8.
    seed : int
        Lanczos start vector.

    Returns
    -------
    SharpnessView
        The limit at step t is that of the rate step t uses; the last point reuses the last step's rate.

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam")], 20)
    >>> view = nl.sharpness_view(model, runs, points=3, n_iter=10)
    >>> view.steps.tolist(), [t is None for t in view.thresholds]
    ([0, 10, 20], [False, True])
    >>> [t is None for t in view.adaptive_thresholds]
    [True, False]
    """
    _check_runs(runs)
    points = check_int(points, "points", low=2, high=200)
    n_steps = runs[0].trajectory.n_steps
    steps = sample_steps(n_steps, points)
    rates = [r.trajectory.lr[np.minimum(steps, n_steps - 1)] for r in runs]
    # Every run's points in one call, so their Lanczos processes share batches of products.
    stacked = np.concatenate([r.trajectory.params[steps] for r in runs])
    index = np.arange(stacked.shape[0])
    adaptive = [i for i, r in enumerate(runs) if r.grads is not None]
    share = len(runs) / (len(runs) + len(adaptive))
    part = None if progress is None else (lambda f: progress(share * f))
    values = sharpness(model, stacked, index, n_iter=n_iter, seed=seed, progress=part).reshape(len(runs), -1)
    preconditioned = np.full(values.shape, np.nan)
    adaptive_limits: list[np.ndarray | None] = [None] * len(runs)
    for count, i in enumerate(adaptive):
        r = runs[i]
        inverse = adaptive_preconditioners(r.optimizer, r.trajectory.params, r.grads, r.trajectory.lr, steps)
        part = None if progress is None else (
            lambda f, count=count: progress(share + (1 - share) * (count + f) / len(adaptive)))
        preconditioned[i] = preconditioned_sharpness(model, r.trajectory.params, steps, inverse,
                                                     n_iter=n_iter, seed=seed, progress=part)
        adaptive_limits[i] = adaptive_stability_threshold(r.optimizer, rates[i])
    thresholds = tuple(stability_threshold(r.optimizer, lr) for r, lr in zip(runs, rates))
    return SharpnessView(steps, values, thresholds, preconditioned, tuple(adaptive_limits))


class DecisionView(NamedTuple):
    """xs : (nx,), ys : (ny,) over the input features; probs : (R, ny, nx, C) the class probabilities of each
    run at ``steps`` (R,), the requested step or the run's last finite one before it."""

    xs: np.ndarray
    ys: np.ndarray
    probs: np.ndarray
    steps: np.ndarray


def decision_view(model: models.MLP, runs: Sequence[TrainedRun], step: int, *,
                  resolution: int = 81) -> DecisionView:
    """What each run's network predicts over its two input features at ``step``.

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> nl.decision_view(model, runs, 20, resolution=9).probs.shape
    (1, 9, 9, 2)
    """
    _check_runs(runs)
    step = check_int(step, "step", low=0, high=runs[0].trajectory.n_steps)
    xs, ys = input_axes(model.X, resolution)
    chosen = np.array([min(step, r.last_finite_step) for r in runs])
    probs = np.stack([decision_grid(model, r.trajectory.params[k], xs, ys) for r, k in zip(runs, chosen)])
    return DecisionView(xs, ys, probs, chosen)


# ------------------------------------------------------------------------------------- all the views
@dataclass(frozen=True, eq=False)
class LandscapeViews:
    """Everything the page draws for R trained runs (see :func:`landscape_views`).

    alphas : (A,) and interpolation : (R, A), the 1-D loss from each run's initial to its trained weights;
    slice_xs, slice_ys : slice coordinates; slices : (R, ny, nx), the 2-D slice around each run's trained
    weights along its own filter-normalized directions (same seed for every run); plane : the PCA plane of
    all paths through the focus run's trained weights; plane_xs, plane_ys, plane_Z : the loss on it;
    checks : one ProjectionCheck per run; sharpness_steps : (S,); sharpness : (R, S); thresholds : per run
    (S,) stability limits or None (adaptive methods); centers : (R, d) the weights each slice is centred on;
    preconditioned : (R, S) Adam's preconditioned sharpness (NaN rows for other runs) and
    adaptive_thresholds : per run (S,) its limit or None.
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
    preconditioned: np.ndarray | None = None
    adaptive_thresholds: tuple[np.ndarray | None, ...] = ()

    @classmethod
    def of(cls, line: InterpolationView, cut: SliceView, plane: PlaneView,
           sharp: SharpnessView) -> LandscapeViews:
        """The views computed one by one (a page's stages), together."""
        return cls(line.alphas, line.values, cut.xs, cut.ys, cut.slices, cut.centers, plane.plane, plane.xs,
                   plane.ys, plane.Z, plane.checks, sharp.steps, sharp.sharpness, sharp.thresholds,
                   sharp.preconditioned, sharp.adaptive_thresholds)


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
    """Every view of the page in one call (:func:`interpolation_view`, :func:`slices_view`,
    :func:`plane_view` and :func:`sharpness_view`), reporting progress.

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
    _check_runs(runs)
    focus = check_int(focus, "focus", low=0, high=len(runs) - 1)
    check_int(sharpness_points, "sharpness_points", low=2, high=200)
    # Progress shares: about the CPU time of each part at the defaults.
    shares = np.array([0.25, 0.25, 0.45, 0.05])
    bounds = np.concatenate([[0.0], np.cumsum(shares)])

    def stage(index: int) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda f: progress(float(bounds[index] + shares[index] * f))

    slices = slices_view(model, runs, span=span, resolution=resolution, direction_seed=direction_seed,
                         biases=biases, progress=stage(0))
    plane = plane_view(model, runs, focus=focus, resolution=resolution, progress=stage(1))
    sharp = sharpness_view(model, runs, points=sharpness_points, progress=stage(2))
    line = interpolation_view(model, runs, alphas=np.linspace(-0.25, 1.25, 101) if alphas is None else alphas)
    if progress is not None:
        progress(1.0)
    return LandscapeViews.of(line, slices, plane, sharp)


def export_frames(runs: Sequence[TrainedRun], views: LandscapeViews) -> dict[str, pd.DataFrame]:
    """Tables for CSV export: ``"slices"`` (run, alpha, beta, loss), ``"plane"`` (pc1, pc2, loss) and
    ``"trajectories"`` (run, step, loss, accuracy, lr, grad_norm, pc1, pc2, distance_from_plane,
    loss_on_plane, sharpness, stability_limit, preconditioned_sharpness, adaptive_stability_limit; the last
    four only at the sampled steps, NaN elsewhere).

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
        names = ("sharpness", "stability_limit", "preconditioned_sharpness", "adaptive_stability_limit")
        columns = {name: np.full(n, np.nan) for name in names}
        columns["sharpness"][views.sharpness_steps] = views.sharpness[i]
        if views.thresholds[i] is not None:
            columns["stability_limit"][views.sharpness_steps] = views.thresholds[i]
        if views.preconditioned is not None:
            columns["preconditioned_sharpness"][views.sharpness_steps] = views.preconditioned[i]
        if i < len(views.adaptive_thresholds) and views.adaptive_thresholds[i] is not None:
            columns["adaptive_stability_limit"][views.sharpness_steps] = views.adaptive_thresholds[i]
        frames.append(pd.DataFrame({
            "run": r.label, "step": np.arange(n), "loss": traj.loss, "accuracy": r.accuracy,
            "lr": np.append(traj.lr, np.nan), "grad_norm": traj.grad_norm, "pc1": check.coords[:, 0],
            "pc2": check.coords[:, 1], "distance_from_plane": check.distance,
            "loss_on_plane": check.plane_loss, **columns}))
    return {"slices": slices, "plane": plane, "trajectories": pd.concat(frames, ignore_index=True)}


# ------------------------------------------------------------------------------------------------ words
# What a page says beside the figures, in plain text: labels appear as they are, never as markup.
def run_label(label: str, batch: int) -> str:
    """A run's name with its batch size when it trains on mini-batches (``batch`` 0: the full batch), so two
    runs of one optimizer and rate that differ only in their batches read apart.

    >>> run_label("2. SGD (lr 0.5)", 8), run_label("1. SGD (lr 0.5)", 0)
    ('2. SGD (lr 0.5), batches of 8', '1. SGD (lr 0.5)')
    """
    return f"{label}, batches of {int(batch)}" if int(batch) > 0 else label


def summary(model: models.MLP, data: datasets.Dataset) -> str:
    """One line on the network and the data it is trained on.

    >>> from lossviz.lessons import neural_net as nl
    >>> model, data = nl.build_model("moons", n_samples=100, hidden=(8,))
    >>> nl.summary(model, data)[:42]
    '2-8-2 tanh network, d = 42 weights, softma'
    """
    loss = {"cross_entropy": "softmax cross-entropy"}.get(model.loss.name, model.loss.name.replace("_", " "))
    network = f"{'-'.join(map(str, model.widths))} {model.activation} network, d = {model.dim:,} weights"
    return (f"{network}, {loss} on {model.n_samples:,} samples of {data.name} "
            f"({data.description.rstrip('.')}). Every optimizer starts from the same initial weights.")


def final_words(model: models.MLP, runs: Sequence[TrainedRun]) -> str:
    """Each run's loss and training accuracy after the last step: the numbers :func:`torch_script` prints.

    The loss is written to 1e-7 and the accuracy as a count of samples, so the script's output can be
    checked against it to 1e-6.

    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=40, hidden=(3,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}, label="GD")], 10)
    >>> nl.final_words(model, runs).startswith("After 10 steps: GD: loss 0.")
    True
    """
    _check_runs(runs)
    parts = []
    for r in runs:
        if not np.isfinite(r.trajectory.loss[-1]):
            parts.append(f"{r.label}: diverged at step {r.trajectory.diverged_at} (its views use its last "
                         "finite weights)")
            continue
        correct = int(round(float(r.accuracy[-1]) * model.n_samples))
        parts.append(f"{r.label}: loss {r.trajectory.loss[-1]:.7f}, accuracy {100 * r.accuracy[-1]:.2f}% "
                     f"({correct:,} of {model.n_samples:,} samples)")
        if rose(r):
            parts[-1] += (f", above its loss at the start ({r.trajectory.loss[0]:.4g}): its steps are too "
                          "large to descend")
    return f"After {runs[0].trajectory.n_steps} steps: " + "; ".join(parts) + "."


def rose(run: TrainedRun) -> bool:
    """Whether a run that did not diverge still ended with a higher loss than it started with."""
    loss = run.trajectory.loss
    return bool(np.isfinite(loss[-1]) and loss[-1] > loss[0])


def interpolation_words(labels: Sequence[str], view: InterpolationView) -> str:
    """Whether the loss falls all the way along each run's line or climbs back on the way.

    >>> import numpy as np
    >>> from lossviz.lessons import neural_net as nl
    >>> view = nl.InterpolationView(np.linspace(0, 1, 3), np.array([[3.0, 2.0, 1.0], [3.0, 4.0, 1.0]]))
    >>> nl.interpolation_words(["a", "b"], view).split(". ")[1]
    'a: falls all the way; b: climbs back by 1 on the way.'
    """
    rises = [interpolation_rise(view.alphas, values) for values in view.values]
    return ("The straight line between the two weight vectors, not the path training took. " + "; ".join(
        f"{label}: {'falls all the way' if rise == 0 else f'climbs back by {rise:.3g} on the way'}"
        for label, rise in zip(labels, rises)) + ".")


def slice_words(view: SliceView, span: float, direction_seed: int) -> str:
    """What the slices are: the grid, the directions, what a slice can and cannot show.

    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> nl.slice_words(nl.slices_view(model, runs, resolution=5), 1.0, 0)[:40]
    'L(θ* + α δ + β η) on a 5×5 grid, α and β'
    """
    return (f"L(θ* + α δ + β η) on a {view.xs.size}×{view.ys.size} grid, α and β in ±{span:g}; ★ marks θ*. "
            f"δ and η are random (seed {direction_seed}), rescaled so every unit's incoming weights have "
            "the size of that unit's weights in θ*; each run gets its own slice, centred on its own weights, "
            f"on one colour scale. A slice shows 2 of the {view.centers.shape[1]:,} dimensions: a valley "
            "that looks wide here may be narrow along directions not drawn.")


def sharpness_words(labels: Sequence[str], view: SharpnessView) -> str:
    """Each run's sharpness at the last measured step against its limit (Adam's preconditioned one too).

    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam")], 20)
    >>> words = nl.sharpness_words(["GD", "Adam"], nl.sharpness_view(model, runs, points=3, n_iter=10))
    >>> "against a limit of 4" in words, "adaptive: no 2/lr line" in words
    (True, True)
    """
    parts = []
    for i, label in enumerate(labels):
        last, limit = view.sharpness[i, -1], view.thresholds[i]
        words = f"{label}: λ_max {last:.3g}"
        if limit is not None:
            words += f" against a limit of {limit[-1]:.3g}"
        elif view.adaptive_thresholds[i] is not None:
            words += (f" (adaptive: no 2/lr line); preconditioned λ_max(P⁻¹H) "
                      f"{view.preconditioned[i, -1]:.3g} against its limit (2 + 2β₁)/((1 − β₁) lr) = "
                      f"{view.adaptive_thresholds[i][-1]:.3g}")
        else:
            words += " (no stability line for this optimizer)"
        parts.append(words)
    return (f"At step {int(view.steps[-1])}: " + "; ".join(parts) + ". Top Hessian eigenvalues by Lanczos "
            "on Hessian-vector products. Gradient descent cannot settle where λ_max exceeds 2/lr (2(1+β)/lr "
            "with momentum β): with a large rate the sharpness rises to the dotted line and hovers there, "
            "the edge of stability. Adam rescales each weight by its preconditioner P, so its limit is on "
            "the top eigenvalue of P⁻¹H: (2 + 2β₁)/((1 − β₁) lr), 38/lr at β₁ = 0.9 (Cohen et al. 2022).")


def plane_words(labels: Sequence[str], view: PlaneView, focus: int) -> str:
    """How much of the paths the shared PCA plane keeps, and how far each path and its loss are off it.

    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=60, hidden=(4,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 20)
    >>> nl.plane_words(["GD"], nl.plane_view(model, runs, resolution=5), 0)[:40]
    'One shared plane for all runs, through G'
    """
    evr = view.plane.explained_variance_ratio
    gaps = "; ".join(f"{label}: up to {check.max_gap:.3g} apart, up to "
                     f"{100 * check.max_relative_distance:.0f}% of its size off the plane"
                     for label, check in zip(labels, view.checks))
    return (f"One shared plane for all runs, through {labels[focus]}'s trained weights and fitted to every "
            f"path: it keeps {100 * evr.sum():.1f}% of the paths' squared distance from that point (PC1 "
            f"{100 * evr[0]:.1f}%, PC2 {100 * evr[1]:.1f}%). The map is the loss on the plane: a run's real "
            f"loss is the solid line on the right, the dashed line what the map shows under its drawn path. "
            f"{gaps}.")


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

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values (``optimizers`` holds the runs' settings, ``bs1``... their
        batch sizes): the data and network, the training, and the views at their defaults, so that
        loading it shows exactly the picture its text describes."""
        return {"dataset": self.dataset, "n": self.n_samples, "noise": self.noise, "dseed": 0,
                "layers": len(self.hidden), "width": self.hidden[0], "act": self.activation,
                "init": self.init,
                "iscale": self.init_scale, "iseed": 0, "steps": self.steps, "runs": len(self.optimizers),
                "optimizers": self.optimizers, **{f"bs{i}": b for i, b in enumerate(self.batch_sizes, 1)},
                "span": 1.0, "res": REFINED["slices"]["resolution"], "dirseed": 0, "biases": "zero",
                "sharp": SHARPNESS_POINTS, "focus": 1, "step": self.steps}


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
            "to it: its limit is on the *preconditioned* sharpness, the top eigenvalue of P⁻¹H with Adam's "
            "per-weight scaling P, at 38/lr (Cohen et al. 2022). Here it climbs toward that line and "
            "reaches about half of it by the last step."),
        optimizers=(OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam", {"lr": 0.01})),
        batch_sizes=(0, 0),
        steps=500,
    ),
}


# What the page's pictures share and what they hide (its closing note).
SHARED_AND_HIDDEN = (
    "What is shared and what is hidden: (a) and (b) are per run, each centred on that run's own weights. (d) "
    "is one shared plane for all runs: distances and angles on it are true only within the plane, and the "
    "loss under a drawn path is not the loss the run had (compare the dashed lines with the solid ones). (c) "
    "and (e) use the real weights, with nothing projected.")
# The page's scenarios as plain link values (the page kit's form).
PAGE_SCENARIOS: dict[str, LessonScenario] = {
    name: LessonScenario(sc.title, sc.settings, sc.explanation) for name, sc in SCENARIOS.items()}
# What a page adds when the reader asks for more optimizers than a scenario trains: distinct ones.
SPARE_RUNS = (
    OptimizerSetting("sgd", {"lr": 0.5}),
    OptimizerSetting("sgd", {"lr": 0.1, "momentum": 0.9}),
    OptimizerSetting("adam", {"lr": 0.01}),
    OptimizerSetting("rmsprop", {"lr": 0.01}),
)


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
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        lines.append(f"    nn.Linear({fan_in}, {fan_out}),")
        if i < len(widths) - 2:
            lines.append(f"    nn.{_TORCH_ACTIVATIONS[model.activation]}(),")
    lines.append(").double()")
    loss = {"cross_entropy": "nn.CrossEntropyLoss()", "mse": "nn.MSELoss()",
            "binary_cross_entropy_with_logits": "nn.BCEWithLogitsLoss()"}.get(
        model.loss.name, f"None  # lossviz loss {model.loss.name!r}: write it with torch.nn.functional")
    lines.append(f"loss_fn = {loss}")
    return "\n".join(lines) + "\n"




# ------------------------------------------------------------------------------- the run in PyTorch
# Arrays up to this many numbers are written into the script; larger ones go to a CSV file beside it.
INLINE_NUMBERS = 2000
_TORCH_LOSSES = {"cross_entropy": "nn.CrossEntropyLoss()", "mse": "nn.MSELoss()",
                 "binary_cross_entropy_with_logits": "nn.BCEWithLogitsLoss()"}
_TRAINING_STATEMENTS = ("optimizer", "warmup_scheduler", "main_scheduler", "scheduler")


@dataclass(frozen=True)
class TorchScript:
    """A runnable PyTorch script and the files it reads.

    code : the script's source; files : file name -> text of each CSV file the script reads from its own
    directory (empty when everything is inline), written by :func:`lossviz.csvdata.to_csv` from ``tables``
    (file name -> its one-column table). Write them beside the script and run it with
    ``python <script>``: it prints one JSON line per run, ``{"run": label, "loss": ..., "accuracy": ...}``.
    """

    code: str
    files: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, compare=False)


class _Retarget(ast.NodeTransformer):
    """``[params]`` (the flat tensor of :func:`lossviz.torch_export.torch_code`) -> ``model.parameters()``."""

    def visit_List(self, node: ast.List) -> ast.AST:
        if len(node.elts) == 1 and isinstance(node.elts[0], ast.Name) and node.elts[0].id == "params":
            return _ast.parse("model.parameters()", mode="eval").body
        return self.generic_visit(node)


def _optimizer_statements(r: TrainedRun, steps: int) -> tuple[list[str], list[str], bool]:
    """The run's optimizer and scheduler construction, its clipping calls, and whether it has a scheduler.

    Taken from :func:`lossviz.torch_export.torch_code` (which knows every optimizer and schedule's torch
    arguments) and retargeted from its flat parameter tensor to the network's parameters.
    """
    tree = _ast.parse(torch_export.torch_code(r.optimizer, r.schedule, steps=steps, x0=[0.0]))
    setup, clips = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in _TRAINING_STATEMENTS
                                                for t in node.targets):
            setup.append(ast.unparse(_Retarget().visit(node)))
        elif isinstance(node, ast.Expr) and "clip_grad" in ast.unparse(node):
            clips.append(ast.unparse(_Retarget().visit(node)))
    has_scheduler = any(line.startswith("scheduler =") for line in setup)
    return setup, clips, has_scheduler


def _numbers(values: Sequence[float] | np.ndarray, per_line: int = 6, indent: str = "    ") -> str:
    """A Python list literal of exact floats (repr) or ints, a few per line."""
    items = [torch_export.literal(v.item() if hasattr(v, "item") else v) for v in np.ravel(values)]
    lines = [indent + ", ".join(items[i: i + per_line]) + "," for i in range(0, len(items), per_line)]
    return "[\n" + "\n".join(lines) + "\n]"


def _table(name: str, values: np.ndarray) -> pd.DataFrame:
    """One column of a CSV file the script reads (numbers written exactly by :func:`csvdata.to_csv`)."""
    return pd.DataFrame({name: np.ravel(values)})


def _read_column(file_name: str, kind: str) -> str:
    return f"_column({torch_export.literal(file_name)}, {kind})"


def torch_script(model: models.MLP, runs: TrainedRun | Sequence[TrainedRun], *,
                 inline_numbers: int = INLINE_NUMBERS) -> TorchScript:
    """A PyTorch script that trains the page's network exactly as the page did and prints the result.

    It holds the standardized data the page trained on, the ``nn.Sequential`` network with the page's
    initial weights (float64, loaded exactly: every number is written with ``repr``), the loss, and for each
    run the ``torch.optim`` optimizer and scheduler with the run's settings (from
    :func:`lossviz.torch_export.torch_code`), its mini-batches in lossviz's order
    (:func:`lossviz.run.minibatch_indices`: the shuffled sample order of every epoch is written out, so
    neither NumPy nor a generator's version is involved), the page's number of steps, and a print of the
    final loss and training accuracy, which equal the page's (``trajectory.loss[-1]`` and
    ``accuracy[-1]``) to float64 round-off for a run that stays stable. A run at the edge of stability
    amplifies the round-off differences of two libraries (their sums run in different orders) step by
    step: the lr-0.5 run of the ``adam_vs_sgd`` scenario agrees to 1e-16 for 425 steps, then
    drifts to 4e-4 by step 500 (measured), while its sharpness sits at 2/lr. Labels reach the code only
    through :func:`lossviz.torch_export.literal` and :func:`lossviz.torch_export.comment`.

    Parameters
    ----------
    model : MLP
        The page's network (softmax cross-entropy, binary cross-entropy with logits or mean squared error).
    runs : TrainedRun or sequence of TrainedRun
        Trained from ``model.init_params(...)``: the first run's initial weights are the script's.
    inline_numbers : int
        Arrays with more numbers go to CSV files beside the script (``TorchScript.files``).

    Returns
    -------
    TorchScript

    Examples
    --------
    >>> from lossviz.lessons import neural_net as nl
    >>> from lossviz.settings import OptimizerSetting
    >>> model, _ = nl.build_model("moons", n_samples=40, hidden=(3,))
    >>> runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5, "momentum": 0.9})], 10)
    >>> script = nl.torch_script(model, runs)
    >>> "torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9" in script.code, script.files
    (True, {})
    """
    if not isinstance(model, models.MLP):
        raise TypeError(f"model must be a lossviz MLP, got {type(model).__name__}")
    chosen = [runs] if isinstance(runs, TrainedRun) else list(runs)
    _check_runs(chosen)
    if model.loss.name not in _TORCH_LOSSES:
        raise ValueError(f"torch_script writes {', '.join(_TORCH_LOSSES)}; the model's loss is "
                         f"{model.loss.name!r}")
    inline_numbers = check_int(inline_numbers, "inline_numbers", low=0)
    steps = chosen[0].trajectory.n_steps
    initial = chosen[0].trajectory.params[0]
    tables: dict[str, pd.DataFrame] = {}
    classify = model.task == "classification"
    one_output = model.n_outputs == 1
    lines = [
        "# Generated by lossviz: the Neural net landscape page's training, in PyTorch (float64).",
        torch_export.comment(f"{'-'.join(map(str, model.widths))} {model.activation} network, "
                             f"{model.loss.name} on {model.n_samples} standardized samples, {steps} steps."),
        "# Prints one JSON line per run with its final loss and training accuracy, as the page shows them.",
        "# (A run at the edge of stability amplifies float64 round-off, so its numbers drift apart slowly.)",
        "import csv",
        "import json",
        "from pathlib import Path",
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        "def _column(name, kind):",
        "    with open(Path(__file__).resolve().parent / name, newline='') as file:",
        "        return [kind(row[0]) for row in list(csv.reader(file))[1:]]",
        "",
        "",
    ]
    # The data: the standardized features and the targets, exactly as the page trained on them.
    target_kind = "int" if classify else "float"
    # Real targets are read as float64 (torch.tensor of Python floats would round them to float32).
    target_type = "" if classify else ", dtype=torch.float64"
    if model.X.size + model.y.size <= inline_numbers:
        shape = f"({model.n_samples}, {model.n_features})"
        lines += [f"X = torch.tensor({_numbers(model.X)}, dtype=torch.float64).reshape{shape}"]
        targets = model.y.astype(np.int64) if classify else model.y
        lines += [f"y = torch.tensor({_numbers(targets)}{target_type})"]
    else:
        for j in range(model.n_features):
            tables[f"lossviz_nn_x{j + 1}.csv"] = _table(f"x{j + 1}", model.X[:, j])
        tables["lossviz_nn_y.csv"] = _table("y", model.y.astype(np.int64) if classify else model.y)
        columns = ", ".join(_read_column(f"lossviz_nn_x{j + 1}.csv", "float")
                            for j in range(model.n_features))
        lines += [f"X = torch.tensor([{columns}], dtype=torch.float64).T.contiguous()",
                  f"y = torch.tensor({_read_column('lossviz_nn_y.csv', target_kind)}{target_type})"]
    if classify:
        lines.append("y = y.long()" if not one_output else "y = y.double()")
    else:
        lines.append("y = y.double()")
    # The initial weights in lossviz's flat layout: per layer W (in, out) row-major, then b.
    if initial.size <= inline_numbers:
        lines += ["", f"INITIAL = {_numbers(initial, per_line=4)}"]
    else:
        tables["lossviz_nn_initial_weights.csv"] = _table("weight", initial)
        lines += ["", f"INITIAL = {_read_column('lossviz_nn_initial_weights.csv', 'float')}"]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(model.widths[:-1], model.widths[1:])):
        layers.append(f"        nn.Linear({fan_in}, {fan_out}),")
        if i < len(model.widths) - 2:
            layers.append(f"        nn.{_TORCH_ACTIVATIONS[model.activation]}(),")
    lines += [
        "",
        "",
        "def network():",
        "    # lossviz stores W as (in, out); nn.Linear's weight is its transpose, (out, in).",
        "    model = nn.Sequential(",
        *layers,
        "    ).double()",
        "    flat = torch.tensor(INITIAL, dtype=torch.float64)",
        "    offset = 0",
        "    with torch.no_grad():",
        "        for layer in (m for m in model if isinstance(m, nn.Linear)):",
        "            size = layer.in_features * layer.out_features",
        "            weight = flat[offset: offset + size].reshape(layer.in_features, layer.out_features)",
        "            layer.weight.copy_(weight.T)",
        "            layer.bias.copy_(flat[offset + size: offset + size + layer.out_features])",
        "            offset += size + layer.out_features",
        "    return model",
        "",
        "",
        f"loss_fn = {_TORCH_LOSSES[model.loss.name]}",
        "",
        "",
        "def scores(model, inputs):",
        "    return model(inputs).squeeze(1)" if one_output else "    return model(inputs)",
        "",
        "",
        "def report(label, model):",
        "    with torch.no_grad():",
        "        s = scores(model, X)",
        "        loss = loss_fn(s, y).item()",
    ]
    if classify:
        rule = "(s > 0).long() == y.long()" if one_output else "s.argmax(dim=1) == y"
        lines.append(f"        accuracy = ({rule}).double().mean().item()")
    else:
        lines.append("        accuracy = None")
    lines += [
        "    print(json.dumps({'run': label, 'loss': loss, 'accuracy': accuracy}))",
        "",
        "",
        "def minibatches(order, n_samples, batch_size, steps):",
        "    # lossviz.run.minibatch_indices: each epoch's shuffled order cut into consecutive batches.",
        "    batches = []",
        "    for start in range(0, len(order), n_samples):",
        "        epoch = order[start: start + n_samples]",
        "        starts = range(0, n_samples, batch_size)",
        "        batches += [torch.tensor(epoch[i: i + batch_size]) for i in starts]",
        "    return batches[:steps]",
        "",
    ]
    orders: dict[tuple[int, int], str] = {}
    for index, r in enumerate(chosen):
        if r.trajectory.n_steps != steps:
            raise ValueError(f"every run must have the same steps ({steps}), run {index} has "
                             f"{r.trajectory.n_steps}")
        setup, clips, has_scheduler = _optimizer_statements(r, steps)
        batch_words = f"mini-batches of {r.batch_size}" if r.batch_size else "full batch"
        lines += ["", torch_export.comment(f"Run {index + 1}: {r.label}, {batch_words}.")]
        if r.batch_size and (r.batch_size, r.seed) not in orders:
            name = f"ORDER_{r.batch_size}_{r.seed}"
            per_epoch = -(-model.n_samples // r.batch_size)
            epochs = -(-steps // per_epoch)
            order = np.concatenate(minibatch_indices(model.n_samples, r.batch_size, epochs * per_epoch,
                                                     r.seed))
            orders[(r.batch_size, r.seed)] = name
            lines.append(f"# The shuffled sample order of each epoch: np.random.default_rng({r.seed})"
                         f".permutation({model.n_samples}), {epochs} times.")
            if order.size <= inline_numbers:
                lines.append(f"{name} = {_numbers(order, per_line=16, indent='    ')}")
            else:
                file_name = f"lossviz_nn_order_{r.batch_size}_{r.seed}.csv"
                tables[file_name] = _table("index", order)
                lines.append(f"{name} = {_read_column(file_name, 'int')}")
        lines += ["model = network()", *setup]
        if r.batch_size:
            lines.append(f"batches = minibatches({orders[(r.batch_size, r.seed)]}, {model.n_samples}, "
                         f"{r.batch_size}, {steps})")
        lines += [f"for step in range({steps}):", "    optimizer.zero_grad()"]
        if r.batch_size:
            lines += ["    batch = batches[step]", "    loss = loss_fn(scores(model, X[batch]), y[batch])"]
        else:
            lines.append("    loss = loss_fn(scores(model, X), y)")
        lines += ["    loss.backward()", *(f"    {clip}" for clip in clips), "    optimizer.step()"]
        if has_scheduler:
            lines.append("    scheduler.step()")
        lines.append(f"report({torch_export.literal(r.label)}, model)")
    files = {name: csvdata.to_csv(table) for name, table in tables.items()}
    return TorchScript("\n".join(lines) + "\n", files, tables)
