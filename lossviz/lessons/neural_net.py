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
from typing import Any

import numpy as np
import pandas as pd

from lossviz import datasets, models, optimizers, schedules
from lossviz._validation import check_array, check_choice, check_int, check_objective, check_scalar, check_start
from lossviz.analysis import sample_steps, sharpness, stability_threshold
from lossviz.landscape import (
    BIAS_MODES, MAX_SLICE_RESOLUTION, PCAPlane, ProjectionCheck, filter_normalized_directions, interpolation, loss_slice, plane_axes, projection_check, slice_axes, trajectory_pca,
)
from lossviz.run import Trajectory, run
from lossviz.settings import OptimizerSetting, build_optimizer, build_schedule

__all__ = [
    "DATASETS", "BIAS_MODES", "MAX_RESOLUTION", "MAX_RUNS", "MAX_STEPS", "MAX_RECORDED_WEIGHTS",
    "build_model", "accuracy", "input_axes", "decision_grid", "TrainedRun", "train", "LandscapeViews",
    "landscape_views",
    "export_frames",
    "NetScenario", "SCENARIOS",
    "scenario_names", "get_scenario", "torch_model_code",
]

# Datasets with two input features, so the decision boundary is a picture. Iris uses its petal length
# and width (the two features that separate the species).
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "iris")
MAX_RESOLUTION = MAX_SLICE_RESOLUTION
MAX_RUNS = 4
MAX_STEPS = 5000
MAX_SAMPLES = 5000
# Every step's weights are kept (for the PCA plane, sharpness and the step slider): 25 million float64
# values are 190 MB, which a page cache holding a few trainings can afford.
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


