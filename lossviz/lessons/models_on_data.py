r"""Exact two-parameter loss landscapes of linear and logistic regression on data.

A model with exactly two parameters has a loss landscape that is a true 2-D surface, not a slice: every
point of the map is a model, and its height is that model's loss on the whole dataset. Which two:

=================  ==========  ===========================================  ======================
task               features    parameters on the axes                       data view
=================  ==========  ===========================================  ======================
regression         1           slope :math:`w`, intercept :math:`b`         points and the line
regression         2           :math:`w_1, w_2` (intercept fixed at the     predicted against
                               mean of :math:`y`, the least-squares one)     actual
classification     1           weight :math:`w`, bias :math:`b`             labels and the sigmoid
classification     2           :math:`w_1, w_2` (no bias: the boundary      points and the
                               passes through the data's mean)              decision boundary
=================  ==========  ===========================================  ======================

Features are standardized (see :mod:`lossviz.datasets`), so the axes are in "per standard deviation of
the feature" units. The grid is one vectorized call of ``model.f`` on a ``(ny, nx, 2)`` array of
parameter vectors (:func:`lossviz.landscape.grid`), with ``Z[i, j] = L(xs[j], ys[i])``.

The loss is a switch (:data:`LOSS_CHOICES`): the same model and data with MSE, MAE, Huber, log-cosh,
or, for classification, cross-entropy, squared error through a sigmoid, hinge and the 0-1 loss.
:func:`explore` is the one call a page makes: the landscape, its lowest point, optimizer runs on it,
and (with outliers added) where the MSE, MAE and Huber minima go.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from lossviz import datasets, landscape, models, torch_export
from lossviz._validation import check_array, check_choice, check_int, check_scalar
from lossviz.datasets import Dataset
from lossviz.run import Trajectory, run
from lossviz.settings import OptimizerSetting, build_optimizer, build_schedule

__all__ = [
    "LossChoice", "LOSS_CHOICES", "loss_names", "loss_title", "Preset", "PRESETS", "load_dataset",
    "one_vs_rest",
    "with_outliers", "subsample", "DataLandscape", "build", "grid", "least_squares", "minimize", "view_box",
    "Fit", "fit_at", "model_data_frame", "model_data_note", "torch_code", "RunResult", "Exploration",
    "explore", "robust_table",
    "trajectories_frame", "grid_frame", "summary", "nearest_step", "Work", "explore_work", "dataset_settings",
    "DataScenario", "SCENARIOS", "SPARE_RUNS", "LR_MULTIPLIERS", "MAX_LANDSCAPE_ROWS", "MAX_RUNS",
]

# The landscape and the runs use at most this many rows (a seeded sample of a larger upload): every
# rerun then fits the work budget with room for the steps and the learning-rate frames.
MAX_LANDSCAPE_ROWS = 2_000
MAX_RUNS = 3
MAX_STEPS = 5_000
# Multiples of each optimizer's learning rate replayed by the page's scrubber (1 is the rate itself);
# three significant digits, so a label with :g shows each rate exactly.
LR_MULTIPLIERS = tuple(float(f"{m:.3g}") for m in np.logspace(-1.0, 1.0, 25))
# Up to this many numbers, the PyTorch script carries the data itself; beyond, it reads the page's CSV.
MAX_EMBEDDED_NUMBERS = 4_000
DATA_FILE_NAME = "lossviz_model_data.csv"


@dataclass(frozen=True)
class LossChoice:
    """One entry of the loss switch: the :mod:`lossviz.losses` name and the link in front of it."""

    key: str
    title: str
    task: str
    loss: str
    link: str = "auto"


LOSS_CHOICES: dict[str, LossChoice] = {c.key: c for c in (
    LossChoice("mse", "Mean squared error (MSE)", "regression", "mse"),
    LossChoice("rmse", "Root mean squared error (RMSE)", "regression", "rmse"),
    LossChoice("mae", "Mean absolute error (MAE)", "regression", "mae"),
    LossChoice("huber", "Huber", "regression", "huber"),
    LossChoice("log_cosh", "Log-cosh", "regression", "log_cosh"),
    LossChoice("cross_entropy", "Cross-entropy (log loss)", "classification",
               "binary_cross_entropy_with_logits"),
    LossChoice("sigmoid_mse", "Squared error through a sigmoid", "classification", "mse", "sigmoid"),
    LossChoice("hinge", "Hinge", "classification", "hinge"),
    LossChoice("squared_hinge", "Squared hinge", "classification", "squared_hinge"),
    LossChoice("zero_one", "0-1 loss (error rate)", "classification", "zero_one"),
)}


def loss_names(task: str | None = None) -> list[str]:
    """Keys of :data:`LOSS_CHOICES`, optionally only those of ``task``."""
    if task is None:
        return list(LOSS_CHOICES)
    check_choice(task, "task", datasets.TASKS)
    return [k for k, c in LOSS_CHOICES.items() if c.task == task]


def loss_title(key: str) -> str:
    """What the page calls loss ``key``.

    >>> loss_title("sigmoid_mse")
    'Squared error through a sigmoid'
    """
    check_choice(key, "loss", LOSS_CHOICES)
    return LOSS_CHOICES[key].title


@dataclass(frozen=True)
class Preset:
    """How a registered dataset is offered: its default features and, for 3 classes, positive class."""

    name: str
    title: str
    task: str
    features: tuple[str, ...]
    synthetic: bool
    positive: str | None = None


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("linear", "Line with noise (synthetic)", "regression", ("x",), True),
    Preset("diabetes", "Diabetes progression (real)", "regression", ("bmi",), False),
    Preset("blobs", "Two blobs (synthetic)", "classification", ("x1", "x2"), True),
    Preset("moons", "Two moons (synthetic)", "classification", ("x1", "x2"), True),
    Preset("circles", "Circles (synthetic)", "classification", ("x1", "x2"), True),
    Preset("xor", "XOR (synthetic)", "classification", ("x1", "x2"), True),
    Preset("breast_cancer", "Breast cancer (real)", "classification", ("worst radius",), False),
    Preset("iris", "Iris (real)", "classification", ("petal length (cm)", "petal width (cm)"), False,
           "virginica"),
    Preset("wine", "Wine (real)", "classification", ("alcohol", "color_intensity"), False, "class_0"),
)}


def dataset_settings(source: str) -> dict:
    """A page's settings for a freshly chosen preset: its features, its positive class and, for a synthetic
    one, its size, noise and seed (link keys ``nfeat``, ``f1``, ``f2``, ``positive``, ``n``, ``noise``,
    ``seed``).

    >>> dataset_settings("iris")
    {'nfeat': 2, 'f1': 'petal length (cm)', 'f2': 'petal width (cm)', 'positive': 'virginica'}
    """
    check_choice(source, "dataset", PRESETS)
    preset = PRESETS[source]
    values: dict = {"nfeat": len(preset.features), "f1": preset.features[0], "f2": (*preset.features, "")[1],
                    "positive": preset.positive or ""}
    if preset.synthetic:
        params = datasets.parameters(source)
        values |= {"n": params["n_samples"], "noise": params["noise"], "seed": 0}
    return values


def one_vs_rest(dataset: Dataset, positive: str) -> Dataset:
    """Binary labels: 1 for class ``positive``, 0 for every other class (logistic regression's input)."""
    if dataset.task != "classification":
        raise ValueError(f"one_vs_rest needs a classification dataset; {dataset.name!r} is a regression")
    check_choice(positive, "positive class", dataset.class_names)
    k = dataset.class_names.index(positive)
    return replace(dataset, y=(dataset.y == k).astype(np.int64), n_classes=2,
                   class_names=(f"not {positive}", positive), params={**dataset.params, "positive": positive})


def load_dataset(name: str, features: Sequence[str], positive: str | None = None,
                 **params: object) -> Dataset:
    """A registered dataset with only ``features`` (1 or 2), binary when it has more than two classes.

    ``params`` go to :func:`lossviz.datasets.get` (``n_samples``, ``noise``, ``seed`` for synthetic ones).
    ``positive`` picks the class told apart from the others; it defaults to the preset's.
    """
    check_choice(name, "dataset", PRESETS)
    chosen = list(features)
    if not 1 <= len(chosen) <= 2:
        raise ValueError(f"features must name 1 or 2 features, got {len(chosen)}")
    data = datasets.get(name, **params).select(chosen)
    if data.task == "classification" and (data.n_classes or 0) > 2:
        data = one_vs_rest(data, positive or PRESETS[name].positive or data.class_names[-1])
    return data


def with_outliers(dataset: Dataset, count: int, size: float, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """Shift ``count`` randomly chosen targets up by ``size`` standard deviations of ``y``.

    Returns the new dataset and the (sorted) row indices that were moved. All shifts point the same way,
    so they add up: the least-squares fit follows them, a robust loss largely does not.
    """
    if dataset.task != "regression":
        raise ValueError(f"outliers are added to regression targets; {dataset.name!r} is a classification")
    count = check_int(count, "outliers", low=0, high=dataset.n_samples // 2)
    size = check_scalar(size, "outlier size", low=0.0, high=100.0)
    seed = check_int(seed, "seed", low=0)
    rows = np.sort(np.random.default_rng(seed).choice(dataset.n_samples, size=count, replace=False))
    y = dataset.y.copy()
    y[rows] += size * float(np.std(dataset.y))
    return replace(dataset, y=y), rows


def subsample(dataset: Dataset, max_rows: int, seed: int = 0) -> Dataset:
    """At most ``max_rows`` rows, drawn without replacement by ``np.random.default_rng(seed)``."""
    max_rows = check_int(max_rows, "max_rows", low=2)
    if dataset.n_samples <= max_rows:
        return dataset
    rows = np.sort(np.random.default_rng(seed).choice(dataset.n_samples, size=max_rows, replace=False))
    return replace(dataset, X=dataset.X[rows], y=dataset.y[rows])


@dataclass(frozen=True, eq=False)
class DataLandscape:
    r"""A model with exactly two parameters on a dataset, as an objective.

    Attributes
    ----------
    dataset : Dataset
        The data the model sees (standardized features).
    choice : LossChoice
    model : LinearModel
        ``model.f(params (..., 2)) -> (...)``; ``model.param_names`` names the axes.
    kind : {"line", "plane", "sigmoid", "boundary"}
        What the data view draws (see the module table).
    offset : float
        The fixed intercept of the two-feature regression (the mean of ``y``), 0 otherwise: the model
        is :math:`\hat y = \text{offset} + w_1 x_1 + w_2 x_2`.
    axis_titles : (str, str)
        Axis titles with units.
    """

    dataset: Dataset
    choice: LossChoice
    model: models.LinearModel
    kind: str
    offset: float
    axis_titles: tuple[str, str]

    @property
    def param_names(self) -> tuple[str, str]:
        return tuple(self.model.param_names)  # type: ignore[return-value]


def _target_standardized(dataset: Dataset) -> bool:
    return dataset.task == "regression" and (dataset.y_scale != 1.0 or dataset.y_mean != 0.0)


def _target_unit(dataset: Dataset) -> str:
    return f"sd of {dataset.target_name}" if _target_standardized(dataset) else dataset.target_name


def build(dataset: Dataset, loss: str, delta: float = 1.0) -> DataLandscape:
    """The two-parameter model of ``dataset`` (1 or 2 features) with the loss ``loss``.

    Parameters
    ----------
    dataset : Dataset
        Regression, or binary classification (labels 0 and 1).
    loss : str
        A key of :data:`LOSS_CHOICES` of the dataset's task.
    delta : float
        Huber's threshold (used only by ``"huber"``).

    Raises
    ------
    ValueError
        A loss of the other task (the message lists the valid ones), not 1 or 2 features, more than
        two classes, or data that is not finite (a landscape of NaN would show nothing true).
    """
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a lossviz.datasets.Dataset, got {type(dataset).__name__}")
    numbers = (dataset.X, dataset.y, dataset.X_mean, dataset.X_scale, dataset.y_mean, dataset.y_scale)
    if not all(np.all(np.isfinite(v)) for v in numbers):
        raise ValueError(f"dataset {dataset.name!r} holds values that are not finite (NaN or inf) in its "
                         "standardized data or its means and scales; build it with "
                         "lossviz.datasets.from_arrays, which refuses values too large to standardize")
    check_choice(loss, f"loss for {dataset.task}", loss_names(dataset.task))
    choice = LOSS_CHOICES[loss]
    params = {"delta": check_scalar(delta, "delta", low=0.0, include_low=False)} if loss == "huber" else {}
    p = dataset.n_features
    if p not in (1, 2):
        raise ValueError(f"an exact 2-D landscape needs 1 or 2 features, got {p}; use dataset.select(...)")
    names = dataset.feature_names
    if dataset.task == "regression":
        unit = _target_unit(dataset)
        if p == 1:
            model = models.linear_regression(dataset.X, dataset.y, loss=choice.loss, **params)
            titles = (f"slope w ({unit} per sd of {names[0]})", f"intercept b ({unit})")
            return DataLandscape(dataset, choice, model, "line", 0.0, titles)
        offset = float(np.mean(dataset.y))
        model = models.linear_regression(dataset.X, dataset.y - offset, loss=choice.loss, fit_intercept=False,
                                         **params)
        titles = (f"w₁ ({unit} per sd of {names[0]})", f"w₂ ({unit} per sd of {names[1]})")
        return DataLandscape(dataset, choice, model, "plane", offset, titles)
    if dataset.n_classes != 2:
        raise ValueError(f"logistic regression needs 2 classes, {dataset.name!r} has {dataset.n_classes}; "
                         "use one_vs_rest")
    model = models.logistic_regression(dataset.X, dataset.y, loss=choice.loss, link=choice.link,
                                       fit_intercept=p == 1)
    if p == 1:
        return DataLandscape(dataset, choice, model, "sigmoid", 0.0,
                             (f"weight w (score per sd of {names[0]})", "bias b (score)"))
    return DataLandscape(dataset, choice, model, "boundary", 0.0,
                         (f"w₁ (score per sd of {names[0]})", f"w₂ (score per sd of {names[1]})"))


def grid(land: DataLandscape, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The exact landscape, shape (ny, nx): ``Z[i, j]`` = loss of the model with parameters (xs[j], ys[i])."""
    return landscape.grid(land.model, xs, ys)


def least_squares(land: DataLandscape) -> np.ndarray:
    r"""The least-squares parameters (2,): the exact minimizer of the MSE (and RMSE) landscape.

    Solves :math:`\min_\theta \|A\theta - y\|^2` with :math:`A = [x, 1]` (slope and intercept) or
    :math:`A = [x_1, x_2]` against the centred target, whatever loss ``land`` has.
    """
    X = land.dataset.X
    target = land.model.y
    design = np.column_stack([X, np.ones(len(X))]) if land.model.fit_intercept else X
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution


def minimize(land: DataLandscape, box: tuple[tuple[float, float], tuple[float, float]],
             *, clip: bool = False, resolution: int = 13, tol: float = 1e-9) -> tuple[np.ndarray, float]:
    """The lowest point of the landscape, by grids that halve around the best point found so far.

    Exact (least squares) for MSE and RMSE regression. Otherwise each round evaluates a
    ``resolution`` x ``resolution`` grid in one call and recentres a box of half the size on its
    lowest point, until the box is smaller than ``tol`` times its starting size. Convex losses (MAE,
    Huber, log-cosh, cross-entropy, hinge) have no other local minimum, so this finds the minimizer; on
    a non-convex one (squared error through a sigmoid) it refines the lowest cell of the first grid.

    Parameters
    ----------
    box : ((xmin, xmax), (ymin, ymax))
        Where to look first.
    clip : bool
        Keep the centre inside ``box`` (the "lowest point in view" when the minimum is at infinity,
        as for cross-entropy on separable data).

    Returns
    -------
    params : ndarray (2,)
    value : float
    """
    if land.dataset.task == "regression" and land.choice.loss in ("mse", "rmse"):
        best = least_squares(land)
        return best, float(land.model.f(best))
    resolution = check_int(resolution, "resolution", low=5, high=101)
    bounds = check_array(box, "box")
    if bounds.shape != (2, 2) or not np.all(bounds[:, 0] < bounds[:, 1]):
        raise ValueError(f"box must be ((xmin, xmax), (ymin, ymax)) with min < max, got {box!r}")
    centre = bounds.mean(axis=1)
    half = (bounds[:, 1] - bounds[:, 0]) / 2
    start_half = half.copy()
    offsets = np.linspace(-1.0, 1.0, resolution)
    while np.all(half > tol * start_half):
        xs, ys = centre[0] + half[0] * offsets, centre[1] + half[1] * offsets
        Z = grid(land, xs, ys)
        i, j = np.unravel_index(np.nanargmin(Z), Z.shape)
        centre = np.array([xs[j], ys[i]])
        if clip:
            centre = np.clip(centre, bounds[:, 0], bounds[:, 1])
        half = half / 2
    return centre, float(land.model.f(centre))


def view_box(points: np.ndarray, min_half: float = 1.0, margin: float = 1.5
             ) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square box around ``points`` (k, 2): centred on their bounding box, ``margin`` times as wide.

    Square, so a round bowl looks round and an elongated one elongated.
    """
    pts = check_array(points, "points", ndim=2, last_dim=2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    half = max(min_half, 0.5 * margin * float(np.max(hi - lo)))
    return ((centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half))


@dataclass(frozen=True)
class Fit:
    """What the data view draws for one parameter vector, in the data's original units.

    ``line``: ``x`` feature values, ``y`` the fitted line; ``sigmoid``: ``x`` feature values, ``y`` the
    sigmoid of the score, ``threshold`` the feature value where the score is 0; ``boundary``: the two
    ends (``x`` = feature 1, ``y`` = feature 2) of the decision boundary inside the data's box (empty
    when the weights are 0), and ``side``, an arrow ``[[x0, y0], [x1, y1]]`` from the boundary's middle
    towards the side the model calls class 1 (a boundary alone does not say which side that is);
    ``plane``: ``x`` actual and ``y`` predicted targets per sample.
    """

    x: np.ndarray
    y: np.ndarray
    threshold: float | None = None
    side: np.ndarray | None = None


def fit_at(land: DataLandscape, params: object, n_points: int = 120) -> Fit:
    """The fitted line, sigmoid, decision boundary or predictions of the model with ``params`` (2,)."""
    w = check_array(params, "params", ndim=1, last_dim=2, finite=False)
    data = land.dataset
    if not np.all(np.isfinite(w)):
        return Fit(np.array([]), np.array([]))
    if land.kind == "plane":
        predicted = (land.offset + data.X @ w) * data.y_scale + data.y_mean
        return Fit(data.y_original(), predicted)
    if land.kind == "boundary":
        return _boundary(data, w)
    u = np.linspace(data.X[:, 0].min(), data.X[:, 0].max(), n_points)
    x = data.to_original(u[:, None])[:, 0]
    score = w[0] * u + w[1]
    if land.kind == "line":
        return Fit(x, score * data.y_scale + data.y_mean)
    with np.errstate(over="ignore"):
        probability = 1.0 / (1.0 + np.exp(-score))
    threshold = None
    if w[0] != 0:
        threshold = float(data.to_original(np.array([[-w[1] / w[0]]]))[0, 0])
    return Fit(x, probability, threshold)


def _boundary(data: Dataset, w: np.ndarray) -> Fit:
    """The line w1 u1 + w2 u2 = 0 (standardized u) inside the data's box and an arrow to its class-1 side,
    in original units."""
    lo, hi = data.X.min(axis=0), data.X.max(axis=0)
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    none = Fit(np.array([]), np.array([]))
    if np.hypot(w[0], w[1]) == 0:
        return none
    ends = []
    # Intersect the line with the four sides of the box and keep the crossings on the box.
    for axis in (0, 1):
        other = 1 - axis
        if w[other] == 0:
            continue
        for side in (lo[axis], hi[axis]):
            point = np.empty(2)
            point[axis] = side
            with np.errstate(over="ignore"):  # a diverged fit's w can be 1e300 against 1e-10: off the box
                point[other] = -w[axis] * side / w[other]
            if lo[other] - 1e-12 <= point[other] <= hi[other] + 1e-12:
                ends.append(point)
    if len(ends) < 2:
        return none
    ends_arr = np.unique(np.round(np.array(ends), 12), axis=0)
    if len(ends_arr) < 2:
        return none
    # The score grows along w; the arrow is a sixth of the box long in each axis's own scale, so it
    # points to the class-1 side on the plot whatever the two features' units.
    middle = ends_arr[[0, -1]].mean(axis=0)
    step = w / np.max(np.abs(w)) / (hi - lo)  # scaled first: a diverged fit's 1e300 squared overflows
    tip = middle + (hi - lo) * step / np.linalg.norm(step) / 6
    pair = data.to_original(ends_arr[[0, -1]])
    return Fit(pair[:, 0], pair[:, 1], side=data.to_original(np.array([middle, tip])))


def model_data_frame(land: DataLandscape) -> pd.DataFrame:
    """The data exactly as the model sees it: standardized features, then the target, as
    :func:`model_data_note` describes it (standardized only when the dataset standardized it, centred for
    the two-feature regression, 0/1 for classification). The PyTorch script reads this table."""
    frame = pd.DataFrame(np.asarray(land.dataset.X), columns=list(land.dataset.feature_names))
    frame[land.dataset.target_name] = np.asarray(land.model.y)
    return frame


def model_data_note(ex: Exploration) -> str:
    """What :func:`model_data_frame` holds, column by column, in words a page can show (no user text).

    The features are always standardized; the target only when its dataset standardized it (an upload's
    regression target, diabetes), not the synthetic line's, which is generated in its own units.

    >>> ex = explore(load_dataset("linear", ["x"], n_samples=40), "mse", steps=1)
    >>> model_data_note(ex)
    '“Model data (CSV)” holds the data as the model sees it: first the feature, standardized (its mean \
subtracted, divided by its standard deviation); last the target, in its own units (not standardized).'
    """
    land = ex.landscape
    data = land.dataset
    features = "the feature, standardized" if data.n_features == 1 else "the two features, each standardized"
    features += " (its mean subtracted, divided by its standard deviation)"
    if data.task == "classification":
        target = "the target as the classes the model tells apart: 1 for the positive class, 0 for any other"
    else:
        steps = ["standardized too" if _target_standardized(data) else "in its own units (not standardized)"]
        if ex.outlier_rows.size:
            steps.append(f"with {ex.outlier_rows.size} value(s) moved up as outliers")
        if land.kind == "plane":
            steps.append("then centred (its mean, the model's fixed intercept, subtracted)")
        target = "the target, " + ", ".join(steps)
    return f"“Model data (CSV)” holds the data as the model sees it: first {features}; last {target}."


_TORCH_F = "torch.nn.functional."


def _torch_loss(land: DataLandscape, score: str) -> str:
    key = land.choice.key
    sign = "(2 * t - 1)"
    expressions = {
        "mse": f"{_TORCH_F}mse_loss({score}, t)",
        "rmse": f"torch.sqrt({_TORCH_F}mse_loss({score}, t))",
        "mae": f"{_TORCH_F}l1_loss({score}, t)",
        "huber": f"{_TORCH_F}huber_loss({score}, t, delta={land.model.loss.params.get('delta', 1.0)!r})",
        "log_cosh": f"torch.log(torch.cosh({score} - t)).mean()",
        "cross_entropy": f"{_TORCH_F}binary_cross_entropy_with_logits({score}, t)",
        "sigmoid_mse": f"{_TORCH_F}mse_loss(torch.sigmoid({score}), t)",
        "hinge": f"torch.clamp(1 - {sign} * ({score}), min=0).mean()",
        "squared_hinge": f"(torch.clamp(1 - {sign} * ({score}), min=0) ** 2).mean()",
        # 0-1 loss has no gradient; "+ 0 * sum" gives backward() a graph, and a zero gradient, as here.
        "zero_one": f"({sign} * ({score}) <= 0).double().mean() + 0 * ({score}).sum()",
    }
    return expressions[key]


def torch_code(land: DataLandscape, optimizer: object, schedule: object, *, steps: int, x0: object) -> str:
    """A PyTorch script training the same two-parameter model with the same optimizer from ``x0``.

    The data is written into the script when it is small (at most :data:`MAX_EMBEDDED_NUMBERS`
    numbers); otherwise the script reads :data:`DATA_FILE_NAME`, the table of :func:`model_data_frame`
    that the page offers for download. It prints the final parameters, which match
    :func:`lossviz.run.run`'s to float64 round-off.
    """
    a, b = ("w", "b") if land.model.fit_intercept else ("w1", "w2")
    score = {"line": "{a} * X[:, 0] + {b}", "sigmoid": "{a} * X[:, 0] + {b}",
             "plane": "{a} * X[:, 0] + {b} * X[:, 1]", "boundary": "{a} * X[:, 0] + {b} * X[:, 1]"}[land.kind]
    generic = _torch_loss(land, score.format(a="x", b="y"))
    code = torch_export.torch_code(optimizer, schedule, steps=steps, x0=x0, trusted_loss=generic)
    # The loss in the axes' names, wherever the loop shape puts it (a step, a closure, a Newton objective).
    code = code.replace(generic, _torch_loss(land, score.format(a=a, b=b)))
    code = re.sub(r"^(\s*)x, y = (\w+)\.reshape\(-1\)$", rf"\g<1>{a}, {b} = \g<2>[0], \g<2>[1]", code,
                  flags=re.M)
    frame = model_data_frame(land)
    if frame.size <= MAX_EMBEDDED_NUMBERS:
        features = frame.iloc[:, :-1].to_numpy()
        rows = ", ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in features)
        target = ", ".join(repr(float(v)) for v in frame.iloc[:, -1])
        names = ", ".join(land.dataset.feature_names)
        data_lines = [
            torch_export.comment(f"The data as lossviz used it: standardized {names} (X) and "
                                 f"{land.dataset.target_name} (t)."),
            f"X = torch.tensor([{rows}], dtype=torch.float64)",
            f"t = torch.tensor([{target}], dtype=torch.float64)",
        ]
    else:
        data_lines = [
            "import csv",
            "# The page's 'Model data (CSV)' download: standardized feature(s), then the target. Its header",
            "# holds the column names (quoted, maybe over several lines): the reader skips it as one record.",
            f"with open({DATA_FILE_NAME!r}, newline='') as data_file:",
            "    rows = list(csv.reader(data_file))[1:]",
            "data = torch.tensor([[float(v) for v in row] for row in rows], dtype=torch.float64)",
            "X, t = data[:, :-1], data[:, -1]",
        ]
    comment = f"# The two parameters on the map's axes: {', '.join(land.param_names)}."
    preamble = "import torch\n\n" + "\n".join(data_lines) + "\n" + comment + "\n"
    return code.replace("import torch\n", preamble, 1)


@dataclass(frozen=True, eq=False)
class RunResult:
    """One optimizer's descent of the landscape."""

    label: str
    setting: OptimizerSetting
    optimizer: object
    schedule: object
    trajectory: Trajectory
    verdict: str


@dataclass(frozen=True, eq=False)
class Exploration:
    """Everything a page shows for one setting (see :func:`explore`).

    xs (nx,), ys (ny,), Z (ny, nx): the exact landscape over ``domain``; best (2,), best_value: its
    lowest point (``best_on_edge`` when that is on the view's edge: the minimum lies beyond);
    runs: the optimizer descents; outlier_rows: rows moved by the outlier control; robust: for a
    regression with outliers, each robust-or-not loss's minimizer with and without them (a table);
    n_rows: rows of the dataset before sampling (the landscape uses at most MAX_LANDSCAPE_ROWS);
    frames (runs, M, T+1, 2): every run's path at each of the M ``multipliers`` times its learning rate
    (NaN after a divergence), for a scrubber.
    """

    landscape: DataLandscape
    domain: tuple[tuple[float, float], tuple[float, float]]
    xs: np.ndarray
    ys: np.ndarray
    Z: np.ndarray
    best: np.ndarray
    best_value: float
    best_on_edge: bool
    runs: tuple[RunResult, ...]
    outlier_rows: np.ndarray
    robust: pd.DataFrame | None
    n_rows: int
    frames: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 0, 2)))
    multipliers: tuple[float, ...] = ()


def _verdict(land: DataLandscape, traj: Trajectory, best: np.ndarray, best_value: float, on_edge: bool,
             scale: float) -> str:
    if land.choice.key == "zero_one":
        return ("The 0-1 loss is flat between its cliffs, so its gradient is 0 everywhere: the optimizer "
                f"never moved (loss stayed {traj.loss[0]:.3g}).")
    if traj.diverged_at >= 0:
        return (f"Diverged at step {traj.diverged_at}: the learning rate is too large for this landscape's "
                "curvature.")
    final = float(traj.loss[-1])
    distance = np.linalg.norm(traj.params - best, axis=-1)
    if not on_edge and np.nanmin(distance) < 1e-3 * scale:
        reached = int(np.argmax(distance < 1e-3 * scale))
        return f"Reached the minimum (within {1e-3 * scale:.2g}) at step {reached}; final loss {final:.4g}."
    if final < best_value:
        return (f"Final loss {final:.4g} after {traj.n_steps} steps, lower than anywhere on the map: the "
                "path left the view still descending (the minimum is at infinity).")
    where = "the lowest point in view" if on_edge else "the minimum"
    gap = float(traj.loss[0]) - best_value
    text = f"Final loss {final:.4g} after {traj.n_steps} steps, {final - best_value:.3g} above {where}"
    if float(traj.loss[0]) - final <= 0.01 * max(gap, 1e-12):
        # A convex bowl this high above its bottom at this distance has a gradient of at least
        # gap / distance (twice that for a quadratic); far less than that is a plateau, not an overshoot.
        slope = gap / max(float(np.linalg.norm(traj.params[0] - best)), 1e-12)
        if np.nanmax(traj.grad_norm) < 0.5 * slope:
            text += (f"; the loss barely moved from {traj.loss[0]:.4g}: the gradient is nearly 0 here "
                     "(a plateau)")
        else:
            text += (f"; the loss did not go down from {traj.loss[0]:.4g} although the gradient is not "
                     "small: the steps overshoot the valley (try a smaller learning rate)")
    return text + "."


def _robust_table(clean: Dataset, dirty: Dataset, delta: float, box: tuple) -> pd.DataFrame:
    rows = []
    for key in ("mse", "mae", "huber"):
        before, _ = minimize(build(clean, key, delta), box)
        after, _ = minimize(build(dirty, key, delta), box)
        rows.append({"loss": LOSS_CHOICES[key].title, "without outliers": before, "with outliers": after,
                     "shift": float(np.linalg.norm(after - before))})
    return pd.DataFrame(rows)


def robust_table(ex: Exploration) -> pd.DataFrame | None:
    """The outlier comparison as a flat table: per loss, each parameter without and with the outliers, and
    the distance the minimum moved (None without outliers)."""
    if ex.robust is None:
        return None
    names = ex.landscape.param_names
    rows = []
    for _, row in ex.robust.iterrows():
        entry = {"loss": row["loss"]}
        for when in ("without", "with"):
            entry |= {f"{name} {when}": float(row[f"{when} outliers"][i]) for i, name in enumerate(names)}
        rows.append(entry | {"shift": row["shift"]})
    return pd.DataFrame(rows)


def grid_frame(ex: Exploration) -> pd.DataFrame:
    """The landscape as a table, (ny, nx): a row per value of the second parameter (the index), a column
    per value of the first; ``Z[i, j]`` = loss at (xs[j], ys[i]). The index is named after both axes,
    rows then columns (``"intercept \\ slope"``), so the corner of the CSV says what its rows and columns
    are; ``pd.read_csv(path, index_col=0)`` reads it back.

    >>> ex = explore(load_dataset("linear", ["x"], n_samples=40), "mse", steps=1, resolution=3)
    >>> print(grid_frame(ex).index.name)
    intercept \\ slope
    """
    rows, columns = ex.landscape.param_names[1], ex.landscape.param_names[0]
    return pd.DataFrame(ex.Z, index=pd.Index(ex.ys, name=f"{rows} \\ {columns}"), columns=ex.xs)


def trajectories_frame(ex: Exploration) -> pd.DataFrame:
    """Every run's trajectory in one table: ``optimizer, step, <parameter names>, loss, grad_norm, lr``."""
    frames = []
    for result in ex.runs:
        frame = result.trajectory.to_frame().drop(columns="run")
        frame.insert(0, "optimizer", result.label)
        frames.append(frame)
    if not frames:
        names = ex.landscape.param_names
        return pd.DataFrame(columns=["optimizer", "step", *names, "loss", "grad_norm", "lr"])
    return pd.concat(frames, ignore_index=True)


def explore(
    dataset: Dataset,
    loss: str,
    *,
    delta: float = 1.0,
    outliers: int = 0,
    outlier_size: float = 6.0,
    settings: Sequence[OptimizerSetting] = (),
    start: Sequence[float] = (-2.0, -2.0),
    steps: int = 100,
    resolution: int = 61,
    seed: int = 0,
    multipliers: Sequence[float] = (),
) -> Exploration:
    """The exact landscape of ``dataset`` under ``loss``, its minimum, and optimizers descending it.

    Parameters
    ----------
    dataset : Dataset
        1 or 2 features; regression or binary classification. Rows beyond :data:`MAX_LANDSCAPE_ROWS`
        are sampled (seeded) so a large upload stays interactive.
    loss : str
        Key of :data:`LOSS_CHOICES`.
    delta : float
        Huber's threshold.
    outliers, outlier_size : int, float
        Regression only: move that many targets up by ``outlier_size`` standard deviations
        (:func:`with_outliers`); the result then compares the MSE, MAE and Huber minima with and without.
    settings : up to :data:`MAX_RUNS` OptimizerSetting
        Each runs full-batch from ``start`` for ``steps`` steps with :func:`lossviz.run.run`.
    start : (2,)
    steps : int in [1, MAX_STEPS]
    resolution : int
        Grid points per axis.
    seed : int
        Seed of the outlier rows and of the row sample.
    multipliers : sequence of float
        Also run each optimizer at these multiples of its learning rate, all of them in one
        :func:`lossviz.run.run` call (``frames``, for a page's scrubber).

    Raises
    ------
    ValueError, TypeError
        Bad loss for the task, bad optimizer setting (the message names the optimizer), outliers on a
        classification dataset, out-of-range numbers.
    """
    n_rows = dataset.n_samples
    data = subsample(dataset, MAX_LANDSCAPE_ROWS, seed)
    x0 = check_array(start, "start", ndim=1, last_dim=2)
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    if len(settings) > MAX_RUNS:
        raise ValueError(f"settings must hold at most {MAX_RUNS} optimizers, got {len(settings)}")
    rows = np.array([], dtype=np.intp)
    clean = data
    if outliers:
        data, rows = with_outliers(data, outliers, outlier_size, seed)
    land = build(data, loss, delta)
    robust = None
    if data.task == "regression":
        ls = least_squares(land)
        first = view_box(np.vstack([ls, x0]), min_half=max(1.0, 2.0 * float(np.std(land.model.y))))
        best, best_value = minimize(land, first)
        points = [best, x0, ls]
        if outliers:
            robust = _robust_table(clean, data, delta, first)
            points += [p for column in ("without outliers", "with outliers") for p in robust[column]]
        domain = view_box(np.vstack(points))
        on_edge = False
    else:
        half = max(5.0, 1.25 * float(np.max(np.abs(x0))))
        domain = ((-half, half), (-half, half))
        best, best_value = minimize(land, domain, clip=True)
        # On the edge and still falling outwards: the minimum lies beyond the map. A flat edge (0-1 loss,
        # whose value depends only on the direction of w) is a true minimum in view.
        inward = float(land.model.f(best * (1 - 1e-3)))
        on_edge = bool(np.any(np.abs(best) >= half * (1 - 1e-9)) and inward > best_value + 1e-12)
    xs, ys = landscape.axes_for_domain(domain, resolution)
    Z = grid(land, xs, ys)
    scale = domain[0][1] - domain[0][0]
    runs = []
    for index, setting in enumerate(settings):
        label = setting.label or f"{index + 1}. {setting.name}"
        try:
            optimizer = build_optimizer(setting)
            schedule = build_schedule(setting, optimizer, steps)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"optimizer {index + 1} ({setting.name}): {exc}") from None
        traj = run(land.model, optimizer, x0, steps, schedule)
        runs.append(RunResult(label, setting, optimizer, schedule, traj,
                              _verdict(land, traj, best, best_value, on_edge, scale)))
    factors = np.asarray(multipliers, dtype=float)
    frames = np.full((len(runs), factors.size, steps + 1, 2), np.nan)
    for index, result in enumerate(runs if factors.size else ()):
        frames[index] = _scaled_paths(land, result, factors, x0, steps)
    for array in (xs, ys, Z, best, frames):
        array.flags.writeable = False  # shared by every session through the page's cache
    return Exploration(land, domain, xs, ys, Z, best, best_value, on_edge, tuple(runs), rows, robust, n_rows,
                       frames, tuple(factors.tolist()))


def _scaled_paths(land: DataLandscape, result: RunResult, factors: np.ndarray, x0: np.ndarray,
                  steps: int) -> np.ndarray:
    """The run's path at each multiple of its learning rate, (M, T+1, 2): one run call of M runs."""
    setting = result.setting
    lr = float(result.optimizer.hyperparameters["lr"])
    scaled = replace(setting, hyperparameters={**setting.hyperparameters, "lr": lr * factors})
    optimizer = build_optimizer(scaled)
    with np.errstate(all="ignore"):
        traj = run(land.model, optimizer, np.tile(x0, (factors.size, 1)), steps,
                   build_schedule(scaled, optimizer, steps))
    return traj.params


def summary(ex: Exploration) -> str:
    """One plain sentence on where the landscape's lowest point is (and on the row sample, if any).

    >>> ex = explore(load_dataset("linear", ["x"], n_samples=40, noise=0.0), "mse", steps=1)
    >>> summary(ex)
    'The minimum is at slope = 2, intercept = 1, loss 0.'
    """
    land = ex.landscape
    where = "lowest point in view" if ex.best_on_edge else "minimum"
    beyond = " (the minimum lies beyond the map)" if ex.best_on_edge else ""
    # Round-off below 1e-9 of the largest coordinate is shown as 0, not as "8.6e-17".
    best = np.where(np.abs(ex.best) < 1e-9 * max(1.0, float(np.abs(ex.best).max())), 0.0, ex.best)
    value = ex.best_value if abs(ex.best_value) >= 1e-12 else 0.0
    text = (f"The {where}{beyond} is at {land.param_names[0]} = {best[0]:.4g}, {land.param_names[1]} = "
            f"{best[1]:.4g}, loss {value:.4g}.")
    if ex.n_rows > land.dataset.n_samples:
        text += (f" The landscape uses a random sample of {land.dataset.n_samples:,} of the {ex.n_rows:,} "
                 "rows.")
    return text


def nearest_step(ex: Exploration, point: Sequence[float], tolerance: float = 0.04) -> int | None:
    """The step of the path point nearest ``point`` (x, y) on the map, or None when every path is farther
    than ``tolerance`` times the view's size (a click beside the paths picks nothing).

    >>> ex = explore(load_dataset("linear", ["x"], n_samples=40), "mse", steps=20,
    ...              settings=[OptimizerSetting("sgd", {"lr": 0.1})], start=(-2.0, -2.0))
    >>> nearest_step(ex, ex.runs[0].trajectory.params[7] + 0.01), nearest_step(ex, (40.0, 40.0))
    (7, None)
    """
    target = check_array(point, "point", ndim=1, last_dim=2)
    size = np.array([ex.domain[0][1] - ex.domain[0][0], ex.domain[1][1] - ex.domain[1][0]])
    best_distance, best_step = float(tolerance), None
    for result in ex.runs:
        distance = np.linalg.norm((result.trajectory.params - target) / size, axis=1)
        if np.isfinite(distance).any() and np.nanmin(distance) <= best_distance:
            best_step, best_distance = int(np.nanargmin(distance)), float(np.nanmin(distance))
    return best_step


class Work(NamedTuple):
    """The work of one :func:`explore` call, in data rows: ``row_steps`` (a row's loss and gradient in one
    step of one run), ``row_evaluations`` (a row's loss at one grid point) and ``call_steps`` (steps of
    run calls, each with a fixed cost)."""

    row_steps: int
    row_evaluations: int
    call_steps: int


def explore_work(rows: int, *, steps: int, runs: int, multipliers: int = 0, outliers: int = 0,
                 regression: bool = True, resolution: int = 61) -> Work:
    """What :func:`explore` computes for ``rows`` data rows (at most :data:`MAX_LANDSCAPE_ROWS` are used).

    The map (``resolution`` squared points), each minimum search (a grid of 13 x 13 points per halving of
    its box, 30 halvings) and every run step, the learning-rate ``multipliers`` included.

    >>> explore_work(100, steps=10, runs=2, multipliers=25)
    Work(row_steps=52000, row_evaluations=879100, call_steps=40)
    """
    rows = min(check_int(rows, "rows", low=0), MAX_LANDSCAPE_ROWS)
    searches = 1 + (4 if regression and outliers else 0)  # the robust table adds MAE's and Huber's, twice
    search = math.ceil(math.log2(1e9)) * 13**2
    return Work(rows * steps * runs * (1 + multipliers), rows * (resolution**2 + searches * search),
                steps * runs * (2 if multipliers else 1))


@dataclass(frozen=True)
class DataScenario:
    """A classroom setting of the Models on data page: every control at once, and the lesson."""

    title: str
    explanation: str
    dataset: str
    features: tuple[str, ...]
    loss: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[OptimizerSetting, ...]
    dataset_params: dict = field(default_factory=dict)
    outliers: int = 0
    outlier_size: float = 6.0
    delta: float = 1.0
    shown_step: int | None = None

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values; ``optimizers`` holds the runs' settings, and the step
        shown is ``shown_step`` (default: the last)."""
        values = dataset_settings(self.dataset) | {
            "source": self.dataset, "nfeat": len(self.features), "f1": self.features[0],
            "f2": (*self.features, "")[1], "loss": self.loss, "delta": self.delta, "outliers": self.outliers,
            "outlier_size": self.outlier_size, "x0": self.start[0], "y0": self.start[1], "steps": self.steps,
            "racers": len(self.optimizers), "optimizers": self.optimizers,
            "step": self.steps if self.shown_step is None else self.shown_step,
        }
        return values | {("n" if k == "n_samples" else k): v for k, v in self.dataset_params.items()}


# What a page adds when a run is added beyond a scenario's: distinct optimizers, at rates suited to these
# standardized landscapes (curvature about 2 for MSE), in this order.
SPARE_RUNS = (
    OptimizerSetting("sgd", {"lr": 0.1}),
    OptimizerSetting("sgd", {"lr": 0.1, "momentum": 0.9}),
    OptimizerSetting("adam", {"lr": 0.1}),
)

SCENARIOS: dict[str, DataScenario] = {
    "bowl": DataScenario(
        title="Linear regression: the MSE landscape is a bowl",
        explanation=(
            "Every point of the map is one line through the data, its slope and intercept, coloured by its "
            "mean squared error on all the points. For a line that error is an exact quadratic bowl with "
            "one bottom, the star: the least-squares line, drawn dashed on the data. Gradient descent with "
            "lr 0.1 rolls from a poor line (slope −2, intercept −2) down to the bottom. Move the step "
            "slider (or click the path) to watch the line on the data turn into the fit, and drag the "
            "learning-rate slider under the map to see the same descent at other rates."
        ),
        dataset="linear", features=("x",), loss="mse", start=(-2.0, -2.0), steps=100,
        optimizers=(OptimizerSetting("sgd", {"lr": 0.1}, label="GD"),), shown_step=0,
    ),
    "outlier_drags_mse": DataScenario(
        title="An outlier drags MSE",
        explanation=(
            "Four points sit 8 standard deviations above the line. Squared error grows with the square of "
            "a residual, so those few points outweigh the rest: the MSE minimum (and its line) moves up "
            "and tilts. MAE and Huber grow only linearly far out, so their minima barely move; the table "
            "under the map gives the shifts. Switch the loss to MAE or Huber and watch the bottom of the "
            "bowl come back."
        ),
        dataset="linear", features=("x",), loss="mse", start=(3.5, 3.0), steps=60,
        optimizers=(OptimizerSetting("sgd", {"lr": 0.3}, label="GD"),), outliers=4, outlier_size=8.0,
    ),
    "sigmoid_mse_stalls": DataScenario(
        title="Squared error through a sigmoid stalls",
        explanation=(
            "The start gives confident wrong answers: the sigmoid is saturated at 0 or 1 for almost "
            "every point, where its slope is nearly 0. Squared error on the sigmoid's output inherits that "
            "slope, so the landscape is a plateau here and gradient descent hardly moves, although the "
            "loss is high. The surface is not convex: plateaus, a valley and a ridge. Switch the loss to "
            "cross-entropy: its log undoes the sigmoid's flatness and the same start slides straight down."
        ),
        dataset="blobs", features=("x1", "x2"), loss="sigmoid_mse", start=(8.0, 0.0), steps=150,
        optimizers=(OptimizerSetting("sgd", {"lr": 1.0}, label="GD"),),
    ),
    "zero_one_no_gradient": DataScenario(
        title="0-1 loss has no gradient",
        explanation=(
            "The error rate counts mistakes, so it only changes when the boundary crosses a point: the "
            "landscape is flat terraces separated by cliffs (with two weights and no bias only the direction "
            "of w matters, so the terraces are wedges around the origin). The gradient is 0 on every "
            "terrace, and gradient descent does not move at all. This is why classifiers are trained on a "
            "smooth surrogate (cross-entropy, hinge) and only evaluated with the 0-1 loss."
        ),
        dataset="blobs", features=("x1", "x2"), loss="zero_one", start=(3.0, 3.0), steps=50,
        optimizers=(OptimizerSetting("sgd", {"lr": 1.0}, label="GD"),),
    ),
    "mae_needs_decay": DataScenario(
        title="MAE's corners need a decaying learning rate",
        explanation=(
            "The MAE landscape is made of flat facets meeting at creases: its gradient does not shrink "
            "near the minimum. With a constant learning rate, gradient descent keeps stepping the same "
            "distance and rattles around the bottom; with a cosine decay the steps shrink and it settles."
        ),
        dataset="linear", features=("x",), loss="mae", start=(-1.0, -2.0), steps=200,
        optimizers=(OptimizerSetting("sgd", {"lr": 0.5}, label="GD, constant lr"),
                    OptimizerSetting("sgd", {"lr": 0.5}, "cosine", {"T_max": 200}, label="GD, cosine decay")),
    ),
    "cross_entropy_separable": DataScenario(
        title="Cross-entropy on separable data never stops",
        explanation=(
            "When a line separates the classes, making the weights larger always makes every prediction "
            "more confident and the cross-entropy smaller: the minimum is at infinity. The lowest point "
            "in view sits on the edge of the map and the path keeps going. The hinge loss, by contrast, "
            "is exactly 0 once every point is beyond the margin, and gradient descent stops there."
        ),
        dataset="blobs", features=("x1", "x2"), loss="cross_entropy", start=(1.0, 3.0), steps=300,
        dataset_params={"noise": 0.5},
        optimizers=(OptimizerSetting("sgd", {"lr": 1.0}, label="GD"),),
    ),
}
