"""Small datasets for models on data: seeded synthetic generators and scikit-learn's offline ones.

Every dataset comes back as a frozen :class:`Dataset` whose feature matrix ``X`` is *standardized*
(zero mean and unit variance per column, population standard deviation), because a loss landscape
over raw features is stretched along whichever feature has the largest scale; that elongation is an
artefact of the units, not a lesson about optimization. The column means and scales are kept
(``X_mean``, ``X_scale``) so figures can label axes in original units.

Use :func:`names` to list the datasets, :func:`parameters` to see what each one takes and :func:`get`
to build one::

    >>> from lossviz import datasets
    >>> d = datasets.get("moons", n_samples=200, noise=0.2, seed=1)
    >>> d.X.shape, d.task, d.n_classes
    ((200, 2), 'classification', 2)
    >>> d.select("x1").X.shape
    (200, 1)

Synthetic generators draw from ``np.random.default_rng(seed)``: the same seed gives the same data,
bit for bit. The real datasets (``iris``, ``wine``, ``breast_cancer``, ``diabetes``) ship inside
scikit-learn, so nothing is downloaded.
"""
from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar

__all__ = ["Dataset", "names", "get", "parameters", "from_arrays", "max_abs_value", "constant_columns",
           "CONSTANT_SPREAD", "TASKS"]

TASKS = ("regression", "classification")
# A column whose standard deviation is at most this fraction of max(1, |mean|) carries no information
# float64 can resolve: it is treated as constant (scale 1, so it standardizes to zeros instead of noise).
CONSTANT_SPREAD = 1e-12


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # a private copy, so freezing it never freezes the caller's array
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """A standardized feature matrix with its target.

    Attributes
    ----------
    name : str
        Registry name, or the name given to :func:`from_arrays`.
    X : ndarray, shape (n, p), float64, read-only
        Standardized features: ``X = (X_original - X_mean) / X_scale`` column by column.
    y : ndarray, shape (n,), read-only
        float64 for regression; int64 class labels ``0 .. n_classes - 1`` for classification.
    feature_names : tuple of str, length p
    target_name : str
    task : {"regression", "classification"}
    n_classes : int or None
        Number of classes for classification, ``None`` for regression.
    class_names : tuple of str
        Name of each class label (empty for regression).
    description : str
        One or two sentences on what the data is.
    X_mean, X_scale : ndarray, shape (p,)
        Column means and (population) standard deviations of the original features; a constant column
        gets scale 1 so it standardizes to zeros instead of NaN.
    y_mean, y_scale : float
        When the regression target was standardized too, ``y = (y_original - y_mean) / y_scale``;
        otherwise 0 and 1.
    params : dict
        The parameters the dataset was built with (for URLs and reproducibility).
    """

    name: str
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    feature_names: tuple[str, ...]
    target_name: str
    task: str
    n_classes: int | None
    description: str = ""
    class_names: tuple[str, ...] = ()
    X_mean: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    X_scale: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    y_mean: float = 0.0
    y_scale: float = 1.0
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.X.shape[1]
        mean = np.zeros(p) if self.X_mean is None else self.X_mean
        scale = np.ones(p) if self.X_scale is None else self.X_scale
        object.__setattr__(self, "X", _readonly(self.X))
        object.__setattr__(self, "y", _readonly(self.y))
        object.__setattr__(self, "X_mean", _readonly(np.asarray(mean, dtype=np.float64)))
        object.__setattr__(self, "X_scale", _readonly(np.asarray(scale, dtype=np.float64)))

    @property
    def n_samples(self) -> int:
        """Number of rows ``n``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns ``p``."""
        return int(self.X.shape[1])

    def _feature_index(self, feature: object) -> int:
        if isinstance(feature, str):
            check_choice(feature, "feature", self.feature_names)
            return self.feature_names.index(feature)
        if isinstance(feature, numbers.Integral) and not isinstance(feature, (bool, np.bool_)):
            p = self.n_features
            if not -p <= int(feature) < p:
                raise ValueError(
                    f"feature index {int(feature)} is out of range for {p} feature(s): "
                    f"valid indices are 0..{p - 1} (or negative from -{p})"
                )
            return int(feature) % p
        raise TypeError(f"features must be names (str) or indices (int), got {feature!r}")

    def select(self, features: str | int | Sequence[str | int]) -> Dataset:
        """Keep only some feature columns, in the order given (by name or index).

        Typically one feature (a 1-D regression line, a 2-parameter landscape with the intercept) or two
        (a 2-D scatter with a decision boundary).

        Parameters
        ----------
        features : str, int or sequence of them
            Names from ``feature_names`` or indices into it (negative indices count from the end).

        Returns
        -------
        Dataset
            Same rows and target, ``X`` of shape ``(n, len(features))``, with the matching means, scales
            and names.

        Raises
        ------
        ValueError
            For an unknown name (the message lists the valid ones), an index out of range, a feature
            listed twice or an empty selection.
        TypeError
            For anything that is neither a name nor an index.
        """
        items = [features] if isinstance(features, (str, numbers.Integral)) else list(features)
        if not items:
            raise ValueError("features must name at least one feature, got an empty selection")
        idx = [self._feature_index(item) for item in items]
        if len(set(idx)) != len(idx):
            dup = sorted({self.feature_names[i] for i in idx if idx.count(i) > 1})
            raise ValueError(f"features must not repeat a feature, got {dup} more than once")
        return replace(
            self,
            X=self.X[:, idx],
            feature_names=tuple(self.feature_names[i] for i in idx),
            X_mean=self.X_mean[idx],
            X_scale=self.X_scale[idx],
            params={**self.params, "features": tuple(self.feature_names[i] for i in idx)},
        )

    def with_classes(self, classes: Sequence[int | str]) -> Dataset:
        """Keep only the samples of some classes and relabel them ``0 .. len(classes) - 1`` in that order.

        Useful to turn a three-class dataset (iris) into the binary problem logistic regression needs.
        The features keep the standardization of the full dataset (so axes stay comparable).

        Raises
        ------
        ValueError
            On a regression dataset, for an unknown class, a repeated class or fewer than two classes.
        """
        if self.task != "classification":
            raise ValueError(f"with_classes needs a classification dataset; {self.name!r} is a regression")
        items = list(classes)
        labels = []
        for c in items:
            if isinstance(c, str):
                check_choice(c, "class", self.class_names)
                labels.append(self.class_names.index(c))
            elif isinstance(c, numbers.Integral) and not isinstance(c, (bool, np.bool_)):
                labels.append(check_int(c, "class", low=0, high=int(self.n_classes) - 1))
            else:
                raise TypeError(f"classes must be class names (str) or labels (int), got {c!r}")
        if len(labels) < 2:
            raise ValueError(f"classes must list at least 2 classes, got {items!r}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"classes must not repeat a class, got {items!r}")
        keep = np.isin(self.y, labels)
        relabel = np.zeros(int(self.n_classes), dtype=np.int64)
        relabel[labels] = np.arange(len(labels))
        return replace(
            self,
            X=self.X[keep],
            y=relabel[self.y[keep]],
            n_classes=len(labels),
            class_names=tuple(self.class_names[i] for i in labels),
            params={**self.params, "classes": tuple(self.class_names[i] for i in labels)},
        )

    def to_original(self, X: object) -> np.ndarray:
        """Standardized features ``(..., p)`` back in original units: ``X * X_scale + X_mean``."""
        arr = check_array(X, "X", last_dim=self.n_features, finite=False)
        return arr * self.X_scale + self.X_mean

    def standardize(self, X_original: object) -> np.ndarray:
        """Map features in original units, shape ``(..., p)``, to the standardized scale of ``X``."""
        arr = check_array(X_original, "X_original", last_dim=self.n_features, finite=False)
        return (arr - self.X_mean) / self.X_scale

    def y_original(self) -> np.ndarray:
        """The target in original units, ``y * y_scale + y_mean`` (labels unchanged for classification)."""
        if self.task == "classification":
            return self.y.copy()
        return self.y * self.y_scale + self.y_mean

    def to_frame(self, original_units: bool = True) -> pd.DataFrame:
        """The data as a table: one column per feature and a last column for the target.

        Class labels are shown by name; ``original_units=False`` gives the standardized values.
        """
        X = self.to_original(self.X) if original_units else self.X
        frame = pd.DataFrame(X, columns=list(self.feature_names))
        if self.task == "classification":
            frame[self.target_name] = np.asarray(self.class_names, dtype=object)[self.y]
        else:
            frame[self.target_name] = self.y_original() if original_units else self.y
        return frame


def max_abs_value(n_rows: int) -> float:
    """The largest magnitude a column of ``n_rows`` numbers may hold to be standardized in float64.

    The variance sums ``n_rows`` squared deviations of up to twice the largest magnitude; beyond this
    bound (a power of ten, so a message can state it) that sum, or a squared residual of a loss on the
    column, overflows to infinity and everything computed from it is NaN.

    >>> max_abs_value(1_000_000), max_abs_value(30)
    (1e+150, 1e+153)
    """
    n = check_int(n_rows, "n_rows", low=1)
    exponent = math.floor(math.log10(math.sqrt(float(np.finfo(np.float64).max) / (4 * n))))
    return float(f"1e{exponent}")


def constant_columns(X: object) -> np.ndarray:
    """Which columns of ``X`` (n, p) the standardization treats as constant, shape (p,) of bool: their
    (population) standard deviation is at most ``CONSTANT_SPREAD`` times ``max(1, |mean|)``.

    >>> constant_columns(np.array([[1.0, 5.0], [2.0, 5.0 + 1e-15]]))
    array([False,  True])
    """
    arr = check_array(X, "X", ndim=2)
    return ~_informative(arr.mean(axis=0), arr.std(axis=0))


def _informative(mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return scale > CONSTANT_SPREAD * np.maximum(1.0, np.abs(mean))


def _standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    # A constant column carries no information; scale 1 keeps it at zero instead of 0/0 = NaN.
    scale = np.where(_informative(mean, scale), scale, 1.0)
    return (X - mean) / scale, mean, scale


def _check_magnitude(values: np.ndarray, name: str) -> None:
    """Refuse values too large to standardize (see :func:`max_abs_value`), naming where the first is."""
    limit = max_abs_value(values.shape[0])
    too_large = np.abs(values) > limit
    if too_large.any():
        position = np.unravel_index(int(np.argmax(too_large)), values.shape)
        where = f"row {position[0]}" + (f", column {position[1]}" if values.ndim == 2 else "")
        raise ValueError(f"{name} must hold values of at most {limit:g} in absolute value (beyond it the "
                         f"variance of {values.shape[0]} values can overflow float64), got "
                         f"{values[position]:g} at {where}")


def from_arrays(
    X: object,
    y: object,
    *,
    task: str,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    name: str = "custom",
    description: str = "",
    standardize_target: bool = False,
) -> Dataset:
    """Build a :class:`Dataset` from your own arrays (for example a CSV the user uploaded).

    Parameters
    ----------
    X : array_like, shape (n, p)
        Features in original units; they are standardized here.
    y : array_like, shape (n,)
        Regression targets (numbers) or class labels of any kind (numbers or strings); labels are encoded
        ``0 .. C-1`` in sorted order and the originals kept in ``class_names``.
    task : {"regression", "classification"}
    feature_names : sequence of str, optional
        Defaults to ``x1 .. xp``.
    target_name, name, description : str
    standardize_target : bool
        Regression only: also standardize ``y`` (kept in ``y_mean`` / ``y_scale``).

    Raises
    ------
    ValueError
        X not 2-D, y not 1-D, different lengths, non-finite values, values too large to standardize
        (beyond :func:`max_abs_value`, in X or a regression y), fewer than 2 rows, wrong number of
        feature names, repeated names, an unknown task, or a classification target with a single class.
    """
    check_choice(task, "task", TASKS)
    X_arr = check_array(X, "X", ndim=2)
    n, p = X_arr.shape
    if n < 2 or p < 1:
        raise ValueError(f"X must have at least 2 rows and 1 column, got shape {X_arr.shape}")
    if task == "regression":
        y_arr = check_array(y, "y", ndim=1)
    else:
        y_raw = np.asarray(y)
        if y_raw.ndim != 1:
            raise ValueError(f"y must have 1 dimension(s), got shape {y_raw.shape}")
        if y_raw.dtype.kind in "fc" and not np.all(np.isfinite(y_raw)):
            raise ValueError("y must contain only finite numbers (no NaN or inf)")
        if y_raw.dtype.kind == "f" and not np.all(y_raw == np.round(y_raw)):
            raise ValueError("y must hold class labels for classification (integers or strings), "
                             "got non-integer numbers; use task='regression' for a continuous target")
        y_arr = y_raw
    if y_arr.shape[0] != n:
        raise ValueError(f"y must have one entry per row of X: X has {n} rows, y has {y_arr.shape[0]}")
    _check_magnitude(X_arr, "X")
    if task == "regression":
        _check_magnitude(y_arr, "y")
    if feature_names is None:
        feature_names = tuple(f"x{j + 1}" for j in range(p))
    feature_names = tuple(str(s) for s in feature_names)
    if len(feature_names) != p:
        raise ValueError(f"feature_names must have one name per column of X ({p}), got {len(feature_names)}")
    if len(set(feature_names)) != p:
        raise ValueError(f"feature_names must be distinct, got {list(feature_names)}")

    X_std, mean, scale = _standardize(X_arr)
    if task == "classification":
        classes, labels = np.unique(y_arr, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"y must contain at least 2 classes for classification, got {classes.tolist()}")
        return Dataset(
            name=name, X=X_std, y=labels.astype(np.int64), feature_names=feature_names,
            target_name=str(target_name), task=task, n_classes=int(classes.size), description=description,
            class_names=tuple(str(c) for c in classes.tolist()), X_mean=mean, X_scale=scale,
        )
    y_mean, y_scale = 0.0, 1.0
    if standardize_target:
        _, m, s = _standardize(y_arr[:, None])
        y_mean, y_scale = float(m[0]), float(s[0])
    return Dataset(
        name=name, X=X_std, y=(y_arr - y_mean) / y_scale, feature_names=feature_names,
        target_name=str(target_name), task=task, n_classes=None, description=description,
        X_mean=mean, X_scale=scale, y_mean=y_mean, y_scale=y_scale,
    )


# ---------------------------------------------------------------------------------------------------
# Registry

_REGISTRY: dict[str, Callable[..., Dataset]] = {}


def _register(name: str) -> Callable[[Callable[..., Dataset]], Callable[..., Dataset]]:
    def deco(factory: Callable[..., Dataset]) -> Callable[..., Dataset]:
        _REGISTRY[name] = factory
        return factory

    return deco


def names() -> list[str]:
    """Registered dataset names: the synthetic generators first, then the real datasets."""
    return list(_REGISTRY)


def parameters(name: str) -> dict[str, object]:
    """The keyword parameters dataset ``name`` accepts, with their defaults (real datasets take few)."""
    check_choice(name, "dataset", _REGISTRY)
    sig = inspect.signature(_REGISTRY[name])
    return {k: p.default for k, p in sig.parameters.items()}


def get(name: str, **params: object) -> Dataset:
    """Build dataset ``name`` with its parameters.

    Synthetic datasets take ``n_samples``, ``noise`` and ``seed`` (plus their own, see
    :func:`parameters`); real ones take none of those.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an out-of-range parameter.
    TypeError
        For a parameter the dataset does not take (the message lists the ones it does).
    """
    check_choice(name, "dataset", _REGISTRY)
    allowed = parameters(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(
            f"dataset {name!r} got unknown parameter(s) {', '.join(unknown)}; "
            f"it takes: {', '.join(allowed) or 'no parameters'}"
        )
    dataset = _REGISTRY[name](**params)
    return replace(dataset, params={**{k: v for k, v in allowed.items()}, **params})


def _finish(name: str, X: np.ndarray, y: np.ndarray, rng: np.random.Generator, **kwargs: object) -> Dataset:
    # Generators build the classes one after another; shuffling makes the first rows (and any batch
    # sliced by position) a fair sample instead of a single class.
    order = rng.permutation(X.shape[0])
    return from_arrays(X[order], y[order], name=name, **kwargs)  # type: ignore[arg-type]


def _common(n_samples: object, noise: object, seed: object, min_samples: int) -> tuple[int, float, int]:
    n = check_int(n_samples, "n_samples", low=min_samples, high=100_000)
    s = check_scalar(noise, "noise", low=0.0)
    sd = check_int(seed, "seed", low=0)
    return n, s, sd


def _class_sizes(n: int, n_classes: int) -> np.ndarray:
    sizes = np.full(n_classes, n // n_classes)
    sizes[: n % n_classes] += 1
    return sizes


@_register("linear")
def _linear(
    n_samples: int = 100,
    noise: float = 0.5,
    seed: int = 0,
    slope: float = 2.0,
    intercept: float = 1.0,
    outliers: int = 0,
    outlier_magnitude: float = 10.0,
) -> Dataset:
    """One feature, ``y = slope * x + intercept + noise * N(0, 1)``.

    x is drawn uniformly and then standardized, and y is generated from the *standardized* x, so the
    generating ``(slope, intercept)`` is where the least-squares landscape of the page sits (up to the
    noise). ``outliers`` randomly chosen points get ``+outlier_magnitude`` added to y, all upwards, so
    they drag the MSE fit visibly while MAE and Huber resist.
    """
    n, s, sd = _common(n_samples, noise, seed, 2)
    a = check_scalar(slope, "slope")
    b = check_scalar(intercept, "intercept")
    k = check_int(outliers, "outliers", low=0, high=n)
    m = check_scalar(outlier_magnitude, "outlier_magnitude")
    rng = np.random.default_rng(sd)
    x_raw = rng.uniform(-3.0, 3.0, size=n)
    x = (x_raw - x_raw.mean()) / x_raw.std()
    y = a * x + b + s * rng.standard_normal(n)
    if k:
        y[rng.choice(n, size=k, replace=False)] += m
    return from_arrays(
        x_raw[:, None], y, task="regression", feature_names=("x",), target_name="y", name="linear",
        description=f"y = {a:g} x + {b:g} + noise (sd {s:g}) on standardized x"
        + (f", with {k} outlier(s) shifted up by {m:g}." if k else "."),
    )


@_register("blobs")
def _blobs(n_samples: int = 200, noise: float = 1.0, seed: int = 0, n_classes: int = 2,
           radius: float = 2.5) -> Dataset:
    """Gaussian clusters (standard deviation ``noise``) centred evenly on a circle of ``radius``."""
    c = check_int(n_classes, "n_classes", low=2, high=10)
    n, s, sd = _common(n_samples, noise, seed, c)
    r = check_scalar(radius, "radius", low=0.0)
    rng = np.random.default_rng(sd)
    sizes = _class_sizes(n, c)
    angles = 2 * np.pi * np.arange(c) / c
    centers = r * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = np.repeat(np.arange(c), sizes)
    X = centers[y] + s * rng.standard_normal((n, 2))
    return _finish("blobs", X, y, rng, task="classification", feature_names=("x1", "x2"),
                   target_name="cluster",
                   description=f"{c} Gaussian blobs (sd {s:g}) on a circle of radius {r:g}.")


@_register("moons")
def _moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (as scikit-learn's ``make_moons``) plus Gaussian noise."""
    n, s, sd = _common(n_samples, noise, seed, 2)
    rng = np.random.default_rng(sd)
    n_out, n_in = _class_sizes(n, 2)
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
    ])
    X = X + s * rng.standard_normal(X.shape)
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish("moons", X, y, rng, task="classification", feature_names=("x1", "x2"),
                   target_name="moon", description=f"Two interleaving half moons, noise sd {s:g}.")


@_register("circles")
def _circles(n_samples: int = 200, noise: float = 0.05, seed: int = 0, factor: float = 0.5) -> Dataset:
    """A circle inside another (radius ``factor`` inside radius 1) plus noise: not linearly separable."""
    n, s, sd = _common(n_samples, noise, seed, 2)
    fac = check_scalar(factor, "factor", low=0.0, high=1.0, include_low=False, include_high=False)
    rng = np.random.default_rng(sd)
    n_out, n_in = _class_sizes(n, 2)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        fac * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    X = X + s * rng.standard_normal(X.shape)
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish("circles", X, y, rng, task="classification", feature_names=("x1", "x2"),
                   target_name="ring",
                   description=f"Two concentric circles (radius ratio {fac:g}), noise sd {s:g}.")


@_register("xor")
def _xor(n_samples: int = 200, noise: float = 0.3, seed: int = 0) -> Dataset:
    """Four Gaussian clusters at (±1, ±1); class 1 where the two signs differ (exclusive or)."""
    n, s, sd = _common(n_samples, noise, seed, 4)
    rng = np.random.default_rng(sd)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    which = np.repeat(np.arange(4), _class_sizes(n, 4))
    X = corners[which] + s * rng.standard_normal((n, 2))
    y = (which >= 2).astype(np.int64)
    return _finish("xor", X, y, rng, task="classification", feature_names=("x1", "x2"), target_name="xor",
                   description=f"Exclusive or: four clusters at (±1, ±1), noise sd {s:g}.")


@_register("spirals")
def _spirals(n_samples: int = 200, noise: float = 0.05, seed: int = 0, n_classes: int = 2,
             turns: float = 1.0) -> Dataset:
    """``n_classes`` interleaved spiral arms, radius growing from 0 to 1 over ``turns`` turns."""
    c = check_int(n_classes, "n_classes", low=2, high=10)
    n, s, sd = _common(n_samples, noise, seed, c)
    tn = check_scalar(turns, "turns", low=0.0, high=10.0, include_low=False)
    rng = np.random.default_rng(sd)
    y = np.repeat(np.arange(c), _class_sizes(n, c))
    radius = np.concatenate([np.linspace(0.05, 1.0, m) for m in _class_sizes(n, c)])
    theta = 2 * np.pi * (tn * radius + y / c)
    X = radius[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    X = X + s * rng.standard_normal(X.shape)
    return _finish("spirals", X, y, rng, task="classification", feature_names=("x1", "x2"),
                   target_name="arm",
                   description=f"{c} interleaved spirals of {tn:g} turn(s), noise sd {s:g}.")


def _sklearn_classification(name: str, loader_name: str, target_name: str, description: str) -> Dataset:
    from sklearn import datasets as skd  # scikit-learn is allowed only here, and only when needed

    bunch = getattr(skd, loader_name)()
    d = from_arrays(
        bunch.data, bunch.target, task="classification",
        feature_names=tuple(str(f) for f in bunch.feature_names), target_name=target_name, name=name,
        description=description,
    )
    # scikit-learn's labels are already 0..C-1, so np.unique kept their order; name them properly.
    return replace(d, class_names=tuple(str(t) for t in bunch.target_names))


@_register("iris")
def _iris() -> Dataset:
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species."""
    return _sklearn_classification(
        "iris", "load_iris", "species",
        "Fisher's iris: 150 flowers, sepal and petal length and width (cm), 3 species.")


@_register("wine")
def _wine() -> Dataset:
    """UCI wine: 178 wines, 13 chemical measurements, 3 cultivars."""
    return _sklearn_classification(
        "wine", "load_wine", "cultivar",
        "UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars.")


@_register("breast_cancer")
def _breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 tumours, 30 cell-nucleus features, malignant or benign."""
    return _sklearn_classification(
        "breast_cancer", "load_breast_cancer", "diagnosis",
        "Wisconsin diagnostic breast cancer: 569 tumours, 30 cell-nucleus features, malignant/benign.")


@_register("diabetes")
def _diabetes(standardize_target: bool = True) -> Dataset:
    """Efron et al.'s diabetes: 442 patients, 10 baseline variables, disease progression after a year.

    The target (25 to 346) is standardized by default so the intercept sits near 0 and the landscape is
    not dominated by one direction; ``standardize_target=False`` keeps the original units.
    """
    from sklearn.datasets import load_diabetes

    check_bool(standardize_target, "standardize_target")
    bunch = load_diabetes(scaled=False)
    return from_arrays(
        bunch.data, bunch.target, task="regression",
        feature_names=tuple(str(f) for f in bunch.feature_names), target_name="progression",
        name="diabetes", standardize_target=bool(standardize_target),
        description="Diabetes (Efron et al. 2004): 442 patients, 10 baseline variables, disease "
        "progression one year later.",
    )
