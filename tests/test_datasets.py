"""Datasets: seeded determinism, standardization, shapes, feature selection and every validation rule."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets as skd

from lossviz import datasets

SYNTHETIC = ["linear", "blobs", "moons", "circles", "xor", "spirals"]
REAL = {"iris": skd.load_iris, "wine": skd.load_wine, "breast_cancer": skd.load_breast_cancer}


def test_names_lists_synthetic_and_real() -> None:
    assert datasets.names() == SYNTHETIC + ["iris", "wine", "breast_cancer", "diabetes"]


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_is_deterministic_under_a_seed_and_differs_between_seeds(name: str) -> None:
    a = datasets.get(name, seed=3)
    b = datasets.get(name, seed=3)
    c = datasets.get(name, seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


@pytest.mark.parametrize("name", datasets.names())
def test_every_dataset_is_standardized_with_consistent_shapes(name: str) -> None:
    d = datasets.get(name)
    n, p = d.X.shape
    assert d.X.dtype == np.float64
    assert d.y.shape == (n,)
    assert len(d.feature_names) == p == d.n_features == d.X_mean.shape[0] == d.X_scale.shape[0]
    assert d.n_samples == n
    np.testing.assert_allclose(d.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X.std(axis=0), 1.0, atol=1e-12)
    assert d.description
    if d.task == "classification":
        assert d.y.dtype == np.int64
        assert set(np.unique(d.y)) == set(range(d.n_classes))
        assert len(d.class_names) == d.n_classes
    else:
        assert d.task == "regression" and d.n_classes is None and d.y.dtype == np.float64


@pytest.mark.parametrize("name", SYNTHETIC)
def test_n_samples_is_honoured(name: str) -> None:
    assert datasets.get(name, n_samples=37).X.shape[0] == 37


@pytest.mark.parametrize("name, loader", REAL.items())
def test_real_classification_datasets_match_scikit_learn_in_original_units(name: str, loader) -> None:
    bunch = loader()
    d = datasets.get(name)
    np.testing.assert_allclose(d.to_original(d.X), bunch.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(d.y, bunch.target)
    np.testing.assert_allclose(d.X_mean, bunch.data.mean(axis=0))
    np.testing.assert_allclose(d.X_scale, bunch.data.std(axis=0))
    assert d.class_names == tuple(bunch.target_names)
    assert d.feature_names == tuple(bunch.feature_names)


def test_diabetes_target_is_standardized_by_default_and_recoverable() -> None:
    bunch = skd.load_diabetes(scaled=False)
    d = datasets.get("diabetes")
    assert abs(d.y.mean()) < 1e-12 and abs(d.y.std() - 1.0) < 1e-12
    np.testing.assert_allclose(d.y_original(), bunch.target)
    raw = datasets.get("diabetes", standardize_target=False)
    np.testing.assert_array_equal(raw.y, bunch.target)
    assert raw.y_mean == 0.0 and raw.y_scale == 1.0


def test_linear_dataset_recovers_its_generating_line_on_the_standardized_feature() -> None:
    d = datasets.get("linear", n_samples=5000, noise=0.1, slope=-1.5, intercept=0.7, seed=1)
    design = np.column_stack([d.X[:, 0], np.ones(d.n_samples)])
    slope, intercept = np.linalg.lstsq(design, d.y, rcond=None)[0]
    assert slope == pytest.approx(-1.5, abs=0.01)
    assert intercept == pytest.approx(0.7, abs=0.01)


def test_linear_outliers_shift_exactly_that_many_targets_upwards() -> None:
    clean = datasets.get("linear", seed=2, outliers=0)
    dirty = datasets.get("linear", seed=2, outliers=5, outlier_magnitude=20.0)
    np.testing.assert_array_equal(clean.X, dirty.X)
    shift = dirty.y - clean.y
    assert np.count_nonzero(shift) == 5
    np.testing.assert_allclose(shift[shift != 0], 20.0)


def test_classes_are_balanced_and_shuffled() -> None:
    d = datasets.get("blobs", n_samples=301, n_classes=3)
    assert np.bincount(d.y).tolist() == [101, 100, 100]
    assert len(set(d.y[:20].tolist())) > 1


def test_circles_inner_ring_has_the_given_radius_ratio() -> None:
    d = datasets.get("circles", n_samples=400, noise=0.0, factor=0.3)
    radius = np.linalg.norm(d.to_original(d.X), axis=1)
    np.testing.assert_allclose(radius[d.y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(radius[d.y == 1], 0.3, atol=1e-12)


def test_xor_labels_are_the_exclusive_or_of_the_signs_without_noise() -> None:
    d = datasets.get("xor", noise=0.0)
    original = d.to_original(d.X)
    np.testing.assert_array_equal(d.y, (np.sign(original[:, 0]) != np.sign(original[:, 1])).astype(int))


def test_parameters_reports_defaults() -> None:
    assert datasets.parameters("moons") == {"n_samples": 200, "noise": 0.1, "seed": 0}
    assert datasets.parameters("iris") == {}
    assert datasets.get("moons", noise=0.3).params == {"n_samples": 200, "noise": 0.3, "seed": 0}


def test_dataset_is_frozen_and_its_arrays_read_only() -> None:
    d = datasets.get("moons")
    with pytest.raises(AttributeError):
        d.task = "regression"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        d.X[0, 0] = 1.0


def test_select_by_name_and_index_keeps_rows_and_units() -> None:
    d = datasets.get("iris")
    by_name = d.select(["petal width (cm)", "sepal length (cm)"])
    by_index = d.select([3, 0])
    by_negative = d.select([-1, -4])
    for s in (by_name, by_index, by_negative):
        np.testing.assert_array_equal(s.X, d.X[:, [3, 0]])
        assert s.feature_names == ("petal width (cm)", "sepal length (cm)")
        np.testing.assert_array_equal(s.y, d.y)
        np.testing.assert_allclose(s.to_original(s.X), skd.load_iris().data[:, [3, 0]])
    single = d.select("petal length (cm)")
    assert single.X.shape == (150, 1) and single.feature_names == ("petal length (cm)",)
    assert d.select(2).feature_names == ("petal length (cm)",)


def test_standardize_inverts_to_original() -> None:
    d = datasets.get("wine")
    x = np.array([[13.0] + [1.0] * 12, [12.0] + [2.0] * 12])
    np.testing.assert_allclose(d.to_original(d.standardize(x)), x)


def test_with_classes_makes_a_binary_problem() -> None:
    d = datasets.get("iris")
    b = d.with_classes(["virginica", "setosa"])
    assert b.n_classes == 2 and b.class_names == ("virginica", "setosa")
    assert b.n_samples == 100
    np.testing.assert_array_equal(b.X, d.X[d.y != 1])
    np.testing.assert_array_equal(b.y, (d.y[d.y != 1] == 0).astype(int))
    assert d.with_classes([0, 1]).class_names == ("setosa", "versicolor")


def test_from_arrays_encodes_string_labels_and_standardizes() -> None:
    X = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0]])
    d = datasets.from_arrays(X, ["b", "a", "b", "c"], task="classification", feature_names=["u", "v"])
    np.testing.assert_array_equal(d.y, [1, 0, 1, 2])
    assert d.class_names == ("a", "b", "c") and d.n_classes == 3
    np.testing.assert_allclose(d.X[:, 0], (X[:, 0] - 2.5) / np.sqrt(1.25))
    # A constant column standardizes to zeros, not NaN.
    np.testing.assert_array_equal(d.X[:, 1], 0.0)
    np.testing.assert_allclose(d.to_original(d.X), X)
    r = datasets.from_arrays(X, [1.0, 2.0, 4.0, 9.0], task="regression", standardize_target=True)
    assert r.feature_names == ("x1", "x2")
    np.testing.assert_allclose(r.y_original(), [1.0, 2.0, 4.0, 9.0])


def test_to_frame_has_features_and_target_in_original_units() -> None:
    d = datasets.get("iris")
    frame = d.to_frame()
    assert list(frame.columns) == list(d.feature_names) + ["species"]
    assert frame["species"].iloc[0] == "setosa"
    np.testing.assert_allclose(frame.iloc[:, :4].to_numpy(), skd.load_iris().data)


# -- validation ---------------------------------------------------------------------------------------


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'; valid names: linear, blobs"):
        datasets.get("mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.parameters("mnist")


def test_unknown_parameter_lists_the_accepted_ones() -> None:
    with pytest.raises(TypeError, match=r"dataset 'iris' got unknown parameter\(s\) n_samples; it takes: "
                                        r"no parameters"):
        datasets.get("iris", n_samples=10)
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) factor; it takes: n_samples, noise, seed"):
        datasets.get("moons", factor=0.3)


@pytest.mark.parametrize(
    "name, params, error, message",
    [
        ("moons", {"n_samples": 1}, ValueError, r"n_samples must be an integer in \[2, 100000\], got 1"),
        ("xor", {"n_samples": 3}, ValueError, r"n_samples must be an integer in \[4, 100000\], got 3"),
        ("moons", {"n_samples": 10.5}, TypeError, "n_samples must be an integer"),
        ("moons", {"noise": -0.1}, ValueError, r"noise must be in \[0, inf\), got -0.1"),
        ("moons", {"noise": float("nan")}, ValueError, "noise must be a finite number"),
        ("moons", {"seed": -1}, ValueError, r"seed must be an integer in \[0, inf\), got -1"),
        ("circles", {"factor": 1.0}, ValueError, r"factor must be in \(0, 1\), got 1.0"),
        ("blobs", {"n_classes": 1}, ValueError, r"n_classes must be an integer in \[2, 10\], got 1"),
        ("blobs", {"radius": -1.0}, ValueError, r"radius must be in \[0, inf\)"),
        ("spirals", {"turns": 0.0}, ValueError, r"turns must be in \(0, 10\], got 0.0"),
        ("linear", {"outliers": 101}, ValueError, r"outliers must be an integer in \[0, 100\], got 101"),
        ("linear", {"slope": "steep"}, TypeError, "slope must be a real number, got 'steep'"),
        ("linear", {"intercept": float("inf")}, ValueError, "intercept must be a finite number"),
        ("linear", {"outlier_magnitude": None}, TypeError, "outlier_magnitude must be a real number"),
        ("diabetes", {"standardize_target": "yes"}, TypeError, "standardize_target must be True or False"),
    ],
)
def test_generator_parameter_validation(name: str, params: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        datasets.get(name, **params)


def test_select_errors_name_the_problem() -> None:
    d = datasets.get("moons")
    with pytest.raises(ValueError, match="unknown feature 'x3'; valid names: x1, x2"):
        d.select("x3")
    with pytest.raises(ValueError, match=r"feature index 2 is out of range for 2 feature\(s\): valid indices "
                                         r"are 0..1"):
        d.select([0, 2])
    with pytest.raises(ValueError, match=r"features must not repeat a feature, got \['x1'\]"):
        d.select(["x1", 0])
    with pytest.raises(ValueError, match="features must name at least one feature"):
        d.select([])
    with pytest.raises(TypeError, match=r"features must be names \(str\) or indices \(int\), got 1.5"):
        d.select([1.5])


def test_with_classes_errors() -> None:
    iris = datasets.get("iris")
    with pytest.raises(ValueError, match="with_classes needs a classification dataset; 'linear' is a "
                                         "regression"):
        datasets.get("linear").with_classes([0, 1])
    with pytest.raises(ValueError, match="unknown class 'rose'; valid names: setosa, versicolor, virginica"):
        iris.with_classes(["rose", "setosa"])
    with pytest.raises(ValueError, match=r"class must be an integer in \[0, 2\], got 3"):
        iris.with_classes([0, 3])
    with pytest.raises(ValueError, match="classes must list at least 2 classes"):
        iris.with_classes([0])
    with pytest.raises(ValueError, match="classes must not repeat a class"):
        iris.with_classes([0, "setosa"])
    with pytest.raises(TypeError, match="classes must be class names"):
        iris.with_classes([0.5, 1])


@pytest.mark.parametrize(
    "X, y, kwargs, error, message",
    [
        (np.ones(4), [0, 1, 0, 1], {}, ValueError, r"X must have 2 dimension\(s\), got shape \(4,\)"),
        ([[1.0]], [0.0], {"task": "regression"}, ValueError, r"X must have at least 2 rows and 1 column"),
        ([[1.0], [np.nan]], [0, 1], {}, ValueError, "X must contain only finite numbers"),
        ([[1.0], [2.0]], [0, 1, 1], {}, ValueError,
         "y must have one entry per row of X: X has 2 rows, y has 3"),
        ([[1.0], [2.0]], [[0, 1]], {}, ValueError, r"y must have 1 dimension\(s\), got shape \(1, 2\)"),
        ([[1.0], [2.0]], [0.0, np.inf], {}, ValueError, "y must contain only finite numbers"),
        ([[1.0], [2.0]], [0.5, 1.0], {}, ValueError, "y must hold class labels for classification"),
        ([[1.0], [2.0]], [1, 1], {}, ValueError,
         r"y must contain at least 2 classes for classification, got \[1\]"),
        ([[1.0], [2.0]], [0, 1], {"feature_names": ["a", "b"]}, ValueError,
         r"feature_names must have one name per column of X \(1\), got 2"),
        ([[1.0, 2.0], [2.0, 1.0]], [0, 1], {"feature_names": ["a", "a"]}, ValueError,
         "feature_names must be distinct"),
        ([[1.0], [2.0]], [0, 1], {"task": "ranking"}, ValueError,
         "unknown task 'ranking'; valid names: regression, classification"),
        ([[1.0], [2.0]], [np.nan, 1.0], {"task": "regression"}, ValueError,
         "y must contain only finite numbers"),
    ],
)
def test_from_arrays_validation(X, y, kwargs: dict, error: type, message: str) -> None:
    kwargs = {"task": "classification", **kwargs}
    with pytest.raises(error, match=message):
        datasets.from_arrays(X, y, **kwargs)


def test_to_original_checks_the_feature_count() -> None:
    d = datasets.get("moons")
    with pytest.raises(ValueError, match=r"X must have shape \(\.\.\., 2\), got shape \(3,\)"):
        d.to_original(np.zeros(3))
