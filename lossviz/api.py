"""The top-level API, ``import lossviz as lv``: build things by name, run them, race them, map a model.

Every constructor is the registry's own ``get`` under a short name, with the registry's names, defaults
and messages (``lv.optimizer("adam", lr=0.01)`` is ``lossviz.optimizers.get("adam", lr=0.01)``);
:func:`names` lists what each registry holds. What this module adds is what a notebook needs on top:
:func:`race` (several optimizers from one start, a :class:`Race` that prints as a table) and
:func:`model_landscape` (the loss of any model on a plane through its weights, a :class:`ModelLandscape`
that :func:`lossviz.viz.plot.landscape` draws).

    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("himmelblau"), {"GD": "sgd", "Adam": lv.optimizer("adam", lr=0.1)},
    ...                steps=200)
    >>> race
    Race on Himmelblau from (-0.5, 0.5) for 200 steps:
      GD    loss 158 -> 7.89e-31, reached the global minimum at step 26
      Adam  loss 158 -> 2.06e-07, reached the global minimum at step 148
    >>> race["Adam"].params.shape
    (201, 2)
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lossviz import datasets, landscape, losses, models, optimizers, regularizers, schedules, surfaces
from lossviz._validation import check_array, check_choice, check_int, check_scalar
from lossviz.lessons import explorer
from lossviz.run import Trajectory
from lossviz.settings import OptimizerSetting

__all__ = [
    "surface", "optimizer", "schedule", "dataset", "model", "loss", "regularizer", "names", "MODELS",
    "race", "Race", "model_landscape", "ModelLandscape",
]

MODELS = {
    "linear_regression": models.linear_regression,
    "logistic_regression": models.logistic_regression,
    "softmax_regression": models.softmax_regression,
    "mlp": models.mlp,
}

_REGISTRIES = {
    "surface": surfaces.names,
    "optimizer": optimizers.names,
    "schedule": schedules.names,
    "dataset": datasets.names,
    "model": lambda: list(MODELS),
    "loss": losses.names,
    "regularizer": regularizers.names,
}


# ------------------------------------------------------------------------------------------ constructors
def surface(name: str, **params: Any) -> surfaces.Surface:
    """A 2-D test function by name: an objective over params ``(..., 2)`` with ``f``, ``grad``, ``hessian``.

    Parameters
    ----------
    name : str
        One of ``names("surface")``.
    **params
        The surface's own parameters (``condition_number`` and ``rotation`` for ``"quadratic"``, ``a``
        and ``b`` for ``"rosenbrock"``...).

    Returns
    -------
    Surface
        ``f(params (..., 2)) -> (...)``, ``grad -> (..., 2)``, ``hessian -> (..., 2, 2)``, its
        ``domain``, ``minima (m, 2)`` and ``default_start``.

    Examples
    --------
    >>> import lossviz as lv
    >>> banana = lv.surface("rosenbrock")
    >>> float(banana.f([1.0, 1.0])), banana.grad([[1.0, 1.0], [0.0, 0.0]]).shape
    (0.0, (2, 2))
    """
    return surfaces.get(name, **params)


def optimizer(name: str, **hyperparameters: Any) -> optimizers.Optimizer:
    """An optimizer by name, with torch.optim's hyperparameter names and defaults.

    Parameters
    ----------
    name : str
        One of ``names("optimizer")``.
    **hyperparameters
        torch's names (``lr``, ``momentum``, ``betas``, ``weight_decay``...), each a scalar or an array of
        shape ``(R,)`` (one value per run, for a sweep in one :func:`lossviz.run` call); ``clip_norm`` or
        ``clip_value`` clip the gradient first.

    Returns
    -------
    Optimizer
        ``init(params (R, d)) -> state`` and ``update(grad (R, d), state, params (R, d), lr)``.

    Examples
    --------
    >>> import lossviz as lv
    >>> opt = lv.optimizer("sgd", lr=0.1, momentum=0.9)
    >>> opt.name, opt.hyperparameters["momentum"], opt.hyperparameters["nesterov"]
    ('sgd', 0.9, False)
    """
    return optimizers.get(name, **hyperparameters)


def schedule(name: str, base_lr: object = None, **params: Any) -> schedules.Schedule:
    """A learning-rate schedule by name (torch.optim.lr_scheduler's), a function of the step.

    Parameters
    ----------
    name : str
        One of ``names("schedule")``.
    base_lr : float or array_like, shape (R,)
        The starting rate (one per run when an array); ``"onecycle"`` takes ``max_lr`` instead.
    **params
        The schedule's parameters with torch's names, plus ``warmup_steps``.

    Returns
    -------
    Schedule
        ``schedule(t)`` for steps ``t`` of shape ``(T,)`` gives rates of shape ``(T,)`` (or ``(T, R)``).

    Examples
    --------
    >>> import numpy as np
    >>> import lossviz as lv
    >>> lv.schedule("step", base_lr=0.1, step_size=2, gamma=0.5)(np.arange(5)).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """
    return schedules.get(name, base_lr=base_lr, **params)


def dataset(name: str, **params: Any) -> datasets.Dataset:
    """A dataset by name, features standardized.

    Parameters
    ----------
    name : str
        One of ``names("dataset")``: synthetic (``n_samples``, ``noise``, ``seed``) or real.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, p)``, ``y`` of shape ``(n,)``, ``task``; ``select(features)`` keeps some
        columns.

    Examples
    --------
    >>> import lossviz as lv
    >>> data = lv.dataset("moons", n_samples=100)
    >>> data.X.shape, data.y.shape, data.task
    ((100, 2), (100,), 'classification')
    """
    return datasets.get(name, **params)


def _arrays(data: object) -> tuple[np.ndarray, np.ndarray, str | None]:
    if isinstance(data, datasets.Dataset):
        return np.asarray(data.X), np.asarray(data.y), data.task
    if isinstance(data, tuple) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1]), None
    raise TypeError(f"data must be a Dataset (lv.dataset) or a pair (X, y), got {type(data).__name__}")


def model(name: str, data: object, **params: Any) -> models.DataModel:
    """A model on data, as an objective over its flat parameter vector.

    Parameters
    ----------
    name : str
        One of ``names("model")``: ``"linear_regression"``, ``"logistic_regression"``,
        ``"softmax_regression"``, ``"mlp"``.
    data : Dataset or (X, y)
        ``X`` of shape ``(n, p)``, ``y`` of shape ``(n,)``. An MLP on a Dataset takes its task from it.
    **params
        The model's own (``loss``, ``fit_intercept``, ``hidden``, ``activation``...; see
        :mod:`lossviz.models`).

    Returns
    -------
    DataModel
        ``f(params (..., d)) -> (...)``, ``grad -> (..., d)``, ``dim`` = d and ``param_names``.

    Examples
    --------
    >>> import lossviz as lv
    >>> line = lv.model("linear_regression", lv.dataset("linear").select(0))
    >>> line.dim, line.param_names
    (2, ('slope', 'intercept'))
    """
    factory = MODELS[check_choice(name, "model", MODELS)]
    X, y, task = _arrays(data)
    if name == "mlp" and task is not None:
        params.setdefault("task", task)
    return factory(X, y, **params)


def loss(name: str, **params: Any) -> losses.Loss:
    """A loss function by name: ``value(y_true, y_pred)`` and ``grad`` with respect to the predictions.

    Examples
    --------
    >>> import numpy as np
    >>> import lossviz as lv
    >>> lv.loss("mse").value(np.array([0.0, 1.0]), np.array([[0.0, 0.0], [1.0, 1.0]])).tolist()
    [0.5, 0.5]
    """
    return losses.get(name, **params)


def regularizer(name: str, objective: Any, **params: Any) -> regularizers.Regularized:
    """``objective`` plus a penalty by name (``"l1"``, ``"l2"``, ``"elastic_net"``; ``strength=``).

    Returns
    -------
    Regularized
        An objective over the same params ``(..., d)``.

    Examples
    --------
    >>> import lossviz as lv
    >>> bowl = lv.surface("quadratic", condition_number=1.0, rotation=0.0)
    >>> float(lv.regularizer("l2", bowl, strength=1.0).f([1.0, 0.0])) > float(bowl.f([1.0, 0.0]))
    True
    """
    return regularizers.get(name, objective, **params)


def names(registry: str | None = None) -> list[str] | dict[str, list[str]]:
    """What each registry holds, by the names the constructors take.

    Parameters
    ----------
    registry : {"surface", "optimizer", "schedule", "dataset", "model", "loss", "regularizer"}, optional
        One registry (the plural works too); all of them, as a dict, when omitted.

    Examples
    --------
    >>> import lossviz as lv
    >>> "rosenbrock" in lv.names("surfaces"), sorted(lv.names())[:3]
    (True, ['dataset', 'loss', 'model'])
    """
    if registry is None:
        return {key: listing() for key, listing in _REGISTRIES.items()}
    key = registry[:-1] if isinstance(registry, str) and registry.endswith("s") else registry
    return _REGISTRIES[check_choice(key, "registry", _REGISTRIES)]()


# ------------------------------------------------------------------------------------------------ race
def _setting(label: str, spec: object, surface: surfaces.Surface, start: np.ndarray,
             scheduled: schedules.Schedule | None) -> OptimizerSetting:
    """A racer as the plain setting the Explorer lesson runs (so the notebook race is the page's race)."""
    if isinstance(spec, OptimizerSetting):
        setting = spec
    elif isinstance(spec, str):
        lr = explorer.default_lr(surface, spec, start)
        setting = OptimizerSetting(spec, {"lr": lr} if "lr" in optimizers.hyperparameter_names(spec) else {})
    elif isinstance(spec, optimizers.Optimizer):
        if spec.n_runs is not None:
            raise ValueError(f"racer {label!r} has per-run hyperparameter arrays; a race runs one optimizer "
                             "per label (use lv.run for a sweep)")
        setting = OptimizerSetting(spec.name, dict(spec.hyperparameters))
    else:
        raise TypeError(f"racer {label!r} must be an optimizer (lv.optimizer), an optimizer name or an "
                        f"OptimizerSetting, got {type(spec).__name__}")
    if scheduled is not None:
        if np.ndim(scheduled.base_lr) != 0:
            raise ValueError("a race's schedule must have one base_lr, not one per run")
        params = {k: v for k, v in scheduled.params.items() if k != "base_lr"}
        # run() takes the rate from the schedule, so the optimizer's own lr is the schedule's start.
        setting = OptimizerSetting(setting.name, {**setting.hyperparameters, "lr": float(scheduled.base_lr)},
                                   scheduled.name, params)
    return OptimizerSetting(setting.name, setting.hyperparameters, setting.schedule, setting.schedule_params,
                            label)


def race(
    surface: surfaces.Surface,
    racers: Mapping[str, object] | Sequence[str],
    x0: Sequence[float] | None = None,
    steps: int = 500,
    *,
    schedule: schedules.Schedule | Mapping[str, schedules.Schedule] | None = None,
) -> Race:
    """Several optimizers from one start on a 2-D surface: the Surface Explorer's race, in one call.

    Parameters
    ----------
    surface : Surface
        From :func:`surface` (or :func:`lossviz.expr.parse` for a formula).
    racers : mapping of label to optimizer, or sequence of optimizer names
        1 to 6 racers. A value is an :class:`~lossviz.optimizers.Optimizer` (:func:`optimizer`) or a
        registry name, which races at the rate the Explorer page gives it on this surface from ``x0``.
    x0 : (2,) start, optional
        Default ``surface.default_start``.
    steps : int in [1, 10000]
    schedule : Schedule, or mapping of label to Schedule, optional
        A learning-rate schedule for every racer, or per label; it sets each racer's rate.

    Returns
    -------
    Race
        A mapping of label to :class:`~lossviz.run.Trajectory` (params ``(steps + 1, 2)``) with a verdict
        per racer; ``to_frame()`` and ``summary()`` give tables, and a notebook shows the summary.

    Examples
    --------
    >>> import lossviz as lv
    >>> r = lv.race(lv.surface("quadratic"), ["sgd", "adam"], steps=50)
    >>> list(r), r["sgd"].loss.shape, r.summary().columns[:3].tolist()
    (['sgd', 'adam'], (51,), ['optimizer', 'final loss', 'best loss'])
    """
    start = check_array(surface.default_start if x0 is None else x0, "x0", ndim=1, last_dim=2)
    steps = check_int(steps, "steps", low=1, high=explorer.MAX_STEPS)
    items = list(racers.items()) if isinstance(racers, Mapping) else [(str(n), n) for n in racers]
    if isinstance(racers, str) or not items:
        raise ValueError("racers must name 1 to 6 optimizers: a mapping {label: optimizer} or a list of "
                         "names")
    labels = [str(label) for label, _ in items]
    if len(set(labels)) != len(labels):
        raise ValueError(f"racers must have distinct labels, got {labels}")
    per_label = schedule if isinstance(schedule, Mapping) else {label: schedule for label in labels}
    unknown = sorted(set(per_label) - set(labels))
    if unknown:
        raise ValueError(f"schedule names racers that are not in the race: {', '.join(map(repr, unknown))}")
    settings = [_setting(label, spec, surface, start, per_label.get(label)) for label, spec in items]
    minima = explorer.find_minima(surface)
    entries = explorer.race(surface, settings, start, steps, minima)
    return Race(surface, (float(start[0]), float(start[1])), steps, tuple(entries), minima)


def _number(value: float) -> str:
    return f"{value:.3g}"


@dataclass(frozen=True, eq=False)
class Race(Mapping[str, Trajectory]):
    """What :func:`race` ran: a mapping of label to Trajectory, in race order.

    Attributes
    ----------
    surface : Surface
    x0 : (float, float)
        The shared start.
    steps : int
    entries : tuple of RaceEntry
        Per racer: ``label``, ``optimizer``, ``schedule``, ``trajectory`` (params ``(steps + 1, 2)``),
        ``distance`` to the nearest minimum ``(steps + 1,)`` or None, and ``verdict`` (words).
    minima : Minima
        The minima the race is measured against (``points (m, 2)``, ``value``).

    Examples
    --------
    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("booth"), ["sgd", "adam"], steps=40)
    >>> len(race), race["adam"].params.shape, race.to_frame().shape
    (2, (41, 2), (82, 7))
    >>> race.summary()["diverged at"].tolist()
    [-1, -1]
    """

    surface: surfaces.Surface
    x0: tuple[float, float]
    steps: int
    entries: tuple[explorer.RaceEntry, ...]
    minima: explorer.Minima

    def __getitem__(self, label: str) -> Trajectory:
        for entry in self.entries:
            if entry.label == label:
                return entry.trajectory
        raise KeyError(label)

    def __iter__(self) -> Iterator[str]:
        return (entry.label for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def _reached(self, entry: explorer.RaceEntry) -> int:
        """For a racer that ends within the Explorer's tolerance of a minimum, the first step it was
        within it; -1 for one that ends elsewhere."""
        if entry.distance is None or self.minima.value is None:
            return -1
        tolerance = 1e-3 * max(1.0, max(b - a for a, b in self.surface.domain) / 10)
        close = entry.distance < tolerance
        return int(np.argmax(close)) if close[-1] else -1

    def _status(self, entry: explorer.RaceEntry) -> str:
        traj = entry.trajectory
        if traj.diverged_at >= 0:
            return f"diverged at step {traj.diverged_at}"
        reached = self._reached(entry)
        if reached >= 0:
            return f"reached the {self.minima.words} at step {reached}"
        if entry.left_view_at >= 0 and not entry.ok:
            return f"left the view at step {entry.left_view_at}"
        return "still on its way"

    def summary(self) -> pd.DataFrame:
        """One row per racer: optimizer, final and best loss, distance to the nearest minimum, the step it
        reached it (-1: never), the step it diverged (-1: never) and the verdict the Explorer shows."""
        rows = []
        for entry in self.entries:
            traj = entry.trajectory
            finite = traj.loss[np.isfinite(traj.loss)]
            last = traj.diverged_at if traj.diverged_at >= 0 else traj.n_steps
            rows.append({
                "optimizer": entry.optimizer.title,
                "final loss": float(traj.loss[last]),
                "best loss": float(finite.min()) if finite.size else math.nan,
                "distance to minimum": math.nan if entry.distance is None else float(entry.distance[last]),
                "reached at": self._reached(entry),
                "diverged at": int(traj.diverged_at),
                "verdict": entry.verdict,
            })
        return pd.DataFrame(rows, index=pd.Index([e.label for e in self.entries], name="racer"))

    def to_frame(self) -> pd.DataFrame:
        """Every racer's trajectory stacked: columns ``racer, step, x, y, loss, grad_norm, lr``."""
        frames = [entry.trajectory.to_frame().drop(columns="run").assign(racer=entry.label)
                  for entry in self.entries]
        table = pd.concat(frames, ignore_index=True)
        return table[["racer", *[c for c in table.columns if c != "racer"]]]

    def __repr__(self) -> str:
        width = max(len(label) for label in self)
        lines = [f"Race on {self.surface.title} from ({_number(self.x0[0])}, {_number(self.x0[1])}) "
                 f"for {self.steps} steps:"]
        for entry in self.entries:
            traj = entry.trajectory
            last = traj.diverged_at if traj.diverged_at >= 0 else traj.n_steps
            lines.append(f"  {entry.label:<{width}}  loss {_number(traj.loss[0])} -> "
                         f"{_number(traj.loss[last])}, {self._status(entry)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        caption = (f"Race on {self.surface.title} from ({_number(self.x0[0])}, {_number(self.x0[1])}) for "
                   f"{self.steps} steps")
        table = self.summary().to_html(float_format=_number, escape=True, border=0)
        return f"<div><p><b>{html.escape(caption)}</b></p>{table}</div>"


# --------------------------------------------------------------------------------------- model landscape
@dataclass(frozen=True, eq=False)
class ModelLandscape:
    """The loss of a model on a plane through its parameter space, with paths drawn on it.

    The point at plane coordinates ``(a, b)`` is the weight vector ``center + a * directions[0] +
    b * directions[1]``.

    Attributes
    ----------
    xs : ndarray, shape (nx,)
    ys : ndarray, shape (ny,)
    Z : ndarray, shape (ny, nx)
        ``Z[i, j]`` = loss at plane coordinates ``(xs[j], ys[i])`` (NaN where it overflows).
    center : ndarray, shape (d,)
    directions : ndarray, shape (2, d)
    kind : {"exact", "pca", "random"}
        The model's own two parameters; the plane of the paths' principal directions (Li et al. 2018,
        sec. 7); or filter-normalized random directions around ``center`` (Li et al. 2018, eq. 1).
    axis_titles : (str, str)
    paths : tuple of (label, coords (T+1, 2), loss (T+1,))
        Each trajectory projected on the plane, with its true loss.
    explained : ndarray, shape (2,), or None
        For ``"pca"``: the share of the paths' squared distance from ``center`` along each direction.

    Examples
    --------
    >>> import lossviz as lv
    >>> net = lv.model("mlp", lv.dataset("moons", n_samples=50), hidden=(3,))
    >>> land = lv.model_landscape(net, span=0.5, resolution=5)
    >>> land.kind, land.Z.shape, land.directions.shape
    ('random', (5, 5), (2, 17))
    """

    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray
    center: np.ndarray
    directions: np.ndarray
    kind: str
    axis_titles: tuple[str, str]
    paths: tuple[tuple[str, np.ndarray, np.ndarray], ...]
    explained: np.ndarray | None = None

    def __repr__(self) -> str:
        finite = self.Z[np.isfinite(self.Z)]
        span = f"loss {_number(finite.min())} to {_number(finite.max())}" if finite.size else "no finite loss"
        paths = f"{len(self.paths)} path{'s' if len(self.paths) != 1 else ''}"
        return (f"ModelLandscape({self.kind}, {self.Z.shape[1]} x {self.Z.shape[0]} grid, "
                f"d={self.center.size}, {span}, {paths})")


def _run_labels(label: str, traj: Trajectory) -> list[str]:
    """One label per run of a batched trajectory: by its learning rate when the runs differ in it."""
    first = np.asarray(traj.lr)[:, 0] if traj.lr.ndim == 2 and traj.lr.shape[1] else np.zeros(traj.n_runs)
    if np.unique(first).size == traj.n_runs:
        return [f"{label + ': ' if label != 'run' else ''}lr {_number(lr)}" for lr in first]
    return [f"{label} {r}" for r in range(traj.n_runs)]


def _named_paths(trajectories: object) -> list[tuple[str, Trajectory, int | None]]:
    """``(label, trajectory, run)`` for every run of a Trajectory, a mapping of them or a sequence of them
    (``run`` indexes a batched trajectory, None for a single one)."""
    if trajectories is None:
        return []
    if isinstance(trajectories, Trajectory):
        items: list[tuple[str, object]] = [("run", trajectories)]
    elif isinstance(trajectories, Mapping):
        items = [(str(k), v) for k, v in trajectories.items()]
    elif isinstance(trajectories, Sequence) and not isinstance(trajectories, str):
        items = [(f"run {i}", t) for i, t in enumerate(trajectories)]
    else:
        raise TypeError(f"trajectories must be a Trajectory, a mapping of label to Trajectory or a list of "
                        f"them, got {type(trajectories).__name__}")
    out: list[tuple[str, Trajectory, int | None]] = []
    for label, traj in items:
        if not isinstance(traj, Trajectory):
            raise TypeError(f"trajectories[{label!r}] must be a Trajectory (from lv.run), got "
                            f"{type(traj).__name__}")
        if traj.batched:
            out += [(name, traj, r) for r, name in enumerate(_run_labels(label, traj))]
        else:
            out.append((label, traj, None))
    return out


def _run_arrays(traj: Trajectory, run: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``params (T+1, d)`` and ``loss (T+1,)`` of one run."""
    if run is None:
        return traj.params, traj.loss
    return traj.params[run], traj.loss[run]


def _last_finite(points: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(np.all(np.isfinite(points), axis=1))
    return points[rows[-1] if rows.size else 0]


def _box_axes(points: np.ndarray, resolution: int, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Axes around ``points`` (k, 2), grown by ``margin`` of the larger extent on every side."""
    finite = points[np.all(np.isfinite(points), axis=1)]
    low, high = finite.min(axis=0), finite.max(axis=0)
    pad = margin * max(float(np.max(high - low)), 1e-3)
    return (np.linspace(low[0] - pad, high[0] + pad, resolution),
            np.linspace(low[1] - pad, high[1] + pad, resolution))


def model_landscape(
    model: Any,
    center: object = None,
    trajectories: object = None,
    *,
    directions: str | object = "auto",
    span: float = 1.0,
    resolution: int = 51,
    seed: int = 0,
) -> ModelLandscape:
    """The loss of ``model`` on a plane through its weights, and the paths of ``trajectories`` on it.

    Parameters
    ----------
    model : objective
        A model from :func:`model` (or any objective over params ``(..., d)`` with ``dim``).
    center : array_like, shape (d,), optional
        Where the plane is anchored: default the last finite point of the first trajectory (the trained
        weights), else zeros (``"exact"``) or ``model.init_params(seed)``.
    trajectories : Trajectory, mapping of label to Trajectory, or list, optional
        Runs on ``model`` (params ``(T+1, d)``), projected on the plane.
    directions : {"auto", "exact", "pca", "random"} or array_like (2, d)
        ``"auto"``: the parameters themselves when d = 2, the paths' principal plane when there are
        paths, filter-normalized random directions otherwise.
    span : float > 0
        Half-width of the view in plane coordinates for ``"random"`` (and for ``"exact"`` without paths).
    resolution : int in [3, 201]
        Grid points per axis.
    seed : int >= 0
        Seed of the random directions (and of the default ``center`` of an MLP).

    Returns
    -------
    ModelLandscape
        ``xs (nx,)``, ``ys (ny,)``, ``Z (ny, nx)``, the plane and the projected paths.

    Examples
    --------
    >>> import lossviz as lv
    >>> data = lv.dataset("linear", n_samples=50).select(0)
    >>> line = lv.model("linear_regression", data)
    >>> fit = lv.run(line, lv.optimizer("sgd", lr=0.1), [-2.0, 2.0], 40)
    >>> land = lv.model_landscape(line, trajectories={"GD": fit}, resolution=21)
    >>> land.kind, land.Z.shape, land.axis_titles
    ('exact', (21, 21), ('slope', 'intercept'))
    """
    dim = int(model.dim)
    resolution = check_int(resolution, "resolution", low=3, high=landscape.MAX_SLICE_RESOLUTION)
    span = check_scalar(span, "span", low=0.0, include_low=False)
    named = [(label, *_run_arrays(traj, run)) for label, traj, run in _named_paths(trajectories)]
    for label, params, _ in named:
        if params.shape[-1] != dim:
            raise ValueError(f"trajectory {label!r} has d={params.shape[-1]} parameters, the model has {dim}")
    if isinstance(directions, str):
        check_choice(directions, "directions", ("auto", "exact", "pca", "random"))
        kind = directions
        if kind == "auto":
            kind = "exact" if dim == 2 else ("pca" if named else "random")
        if kind == "exact" and dim != 2:
            raise ValueError(f"directions='exact' needs a model with 2 parameters, this one has {dim}")
        if kind == "pca" and not named:
            raise ValueError("directions='pca' needs trajectories: the plane is that of their paths")
    else:
        kind = "random"
    if center is not None:
        origin = check_array(center, "center", ndim=1, last_dim=dim)
    elif named:
        origin = _last_finite(named[0][1])
    elif kind == "exact":
        origin = np.zeros(dim)
    elif hasattr(model, "init_params"):
        origin = np.asarray(model.init_params(seed=seed), dtype=float)
    else:
        raise ValueError("center is needed: the model has no init_params and no trajectory was given")

    explained = None
    names = tuple(getattr(model, "param_names", ()) or ())
    if kind == "exact":
        plane, titles = np.eye(2), (names if len(names) == 2 else ("p0", "p1"))
        if named:
            xs, ys = _box_axes(np.concatenate([p for _, p, _ in named]), resolution)
        else:
            xs = np.linspace(origin[0] - span, origin[0] + span, resolution)
            ys = np.linspace(origin[1] - span, origin[1] + span, resolution)
        with np.errstate(all="ignore"):
            Z = landscape.grid(model, xs, ys)
        Z = np.where(np.isfinite(Z), Z, np.nan)
        coords = [p for _, p, _ in named]
        origin = np.zeros(2)
    elif kind == "pca":
        pca = landscape.trajectory_pca([p for _, p, _ in named], origin=origin)
        plane, explained = pca.directions, pca.explained_variance_ratio
        coords = [landscape.project(pca, p)[0] for _, p, _ in named]
        xs, ys = landscape.plane_axes(coords, resolution)
        Z = landscape.loss_slice(model, origin, plane, xs, ys)
        titles = (f"PC1 ({100 * explained[0]:.1f}%)", f"PC2 ({100 * explained[1]:.1f}%)")
    else:
        if isinstance(directions, str):
            plane = landscape.filter_normalized_directions(model, origin, 2, seed=seed)
        else:
            plane = check_array(directions, "directions", ndim=2)
            if plane.shape != (2, dim):
                raise ValueError(f"directions must have shape (2, {dim}), got {plane.shape}")
        xs, ys = landscape.slice_axes(span, resolution)
        Z = landscape.loss_slice(model, origin, plane, xs, ys)
        # Least-squares coordinates: random directions are not orthogonal.
        solve = np.linalg.pinv(plane.T)
        coords = [(p - origin) @ solve.T for _, p, _ in named]
        titles = ("α (along δ)", "β (along η)")
    paths = tuple((label, np.asarray(c, dtype=float), np.asarray(loss, dtype=float))
                  for (label, _, loss), c in zip(named, coords))
    return ModelLandscape(xs, ys, Z, origin, np.asarray(plane, dtype=float), kind, tuple(titles), paths,
                          explained)
