"""lossviz.lessons.models_on_data: exact grids against the loss computed point by point, least squares, the
loss switch against its formulas, robust minima against independent solvers, fits, torch, scenarios, the
learning-rate frames, the click-to-step and the work estimate."""
import contextlib
import json
import subprocess
import sys
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz.lessons import models_on_data as dl
from lossviz import csvdata, datasets, optimizers
from lossviz.run import run
from lossviz.settings import OptimizerSetting
from lossviz.viz import models_on_data as figures

LINEAR = dl.load_dataset("linear", ["x"], n_samples=60, noise=0.7, seed=3)
DIABETES_2 = dl.load_dataset("diabetes", ["bmi", "bp"])
BLOBS_1 = dl.load_dataset("blobs", ["x1"], noise=1.5)
BLOBS_2 = dl.load_dataset("blobs", ["x1", "x2"], noise=1.5)
KINDS = {"line": LINEAR, "plane": DIABETES_2, "sigmoid": BLOBS_1, "boundary": BLOBS_2}


def _softplus(z):
    return np.logaddexp(0.0, z)


def reference_loss(data, kind, key, a, b, delta=1.0):
    """The loss of parameters (a, b) computed from its textbook formula, one parameter vector at a time."""
    X, y = np.asarray(data.X), np.asarray(data.y, dtype=float)
    if kind == "line":
        r = a * X[:, 0] + b - y
    elif kind == "plane":
        r = y.mean() + a * X[:, 0] + b * X[:, 1] - y
    else:
        s = a * X[:, 0] + (b if kind == "sigmoid" else b * X[:, 1])
        sign = 2 * y - 1
        per = {
            "cross_entropy": _softplus(-sign * s),
            "sigmoid_mse": (1 / (1 + np.exp(-s)) - y) ** 2,
            "hinge": np.maximum(0, 1 - sign * s),
            "squared_hinge": np.maximum(0, 1 - sign * s) ** 2,
            "zero_one": (sign * s <= 0).astype(float),
        }[key]
        return per.mean()
    per = {
        "mse": r**2, "mae": np.abs(r), "log_cosh": np.log(np.cosh(r)),
        "huber": np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)),
    }
    return np.sqrt(np.mean(r**2)) if key == "rmse" else per[key].mean()


CASES = [(kind, key) for kind, data in KINDS.items() for key in dl.loss_names(data.task)]


@pytest.mark.parametrize("kind, key", CASES)
def test_every_landscape_grid_equals_the_loss_computed_point_by_point(kind, key):
    land = dl.build(KINDS[kind], key, delta=0.7)
    assert land.kind == kind
    xs, ys = np.linspace(-3.0, 2.5, 7), np.linspace(-1.5, 3.5, 5)  # not square: catches a transposed grid
    Z = dl.grid(land, xs, ys)
    assert Z.shape == (5, 7)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            expected = reference_loss(land.dataset, kind, key, x, y, delta=0.7)
            assert Z[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-12), (i, j)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-6, 6), b=st.floats(-6, 6), kind_key=st.sampled_from(CASES))
def test_model_f_at_drawn_points_equals_the_textbook_formula(a, b, kind_key):
    kind, key = kind_key
    land = dl.build(KINDS[kind], key)
    expected = reference_loss(land.dataset, kind, key, a, b)
    assert float(land.model.f([a, b])) == pytest.approx(expected, rel=1e-11, abs=1e-12)


def test_the_grid_is_one_vectorized_call_of_model_f():
    land = dl.build(LINEAR, "mae")
    calls = []
    original = land.model.f

    def counting(params, *args, **kwargs):
        calls.append(np.shape(params))
        return original(params, *args, **kwargs)

    land.model.f = counting
    dl.grid(land, np.linspace(0, 1, 9), np.linspace(0, 1, 4))
    assert calls == [(4, 9, 2)]


def test_linear_mse_minimum_is_the_least_squares_solution():
    land = dl.build(LINEAR, "mse")
    x, y = LINEAR.X[:, 0], LINEAR.y
    slope, intercept = np.polyfit(x, y, 1)  # an independent least-squares solver
    np.testing.assert_allclose(dl.least_squares(land), [slope, intercept], rtol=1e-10)
    best, value = dl.minimize(land, ((-5, 5), (-5, 5)))
    np.testing.assert_allclose(best, [slope, intercept], rtol=1e-10)
    np.testing.assert_allclose(land.model.grad(best), 0.0, atol=1e-12)
    assert value == pytest.approx(np.mean((slope * x + intercept - y) ** 2), rel=1e-12)
    # On a fine grid around it, the lowest grid value is at the grid point nearest the solution.
    xs = np.linspace(slope - 1, slope + 1, 201)
    ys = np.linspace(intercept - 1.3, intercept + 0.7, 181)
    Z = dl.grid(land, xs, ys)
    i, j = np.unravel_index(np.argmin(Z), Z.shape)
    assert j == np.argmin(np.abs(xs - slope)) and i == np.argmin(np.abs(ys - intercept))


def test_two_feature_mse_minimum_is_least_squares_with_the_intercept_at_the_mean():
    land = dl.build(DIABETES_2, "mse")
    X, y = DIABETES_2.X, DIABETES_2.y
    full, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(y))]), y, rcond=None)
    np.testing.assert_allclose(dl.least_squares(land), full[:2], rtol=1e-10, atol=1e-12)
    assert full[2] == pytest.approx(land.offset, abs=1e-12)  # standardized features: b* = mean(y)


def test_the_grid_zoom_minimizer_finds_least_squares_too():
    # Huber with a delta beyond every residual is MSE / 2: same minimizer, found here by the zooming grids.
    land = dl.build(LINEAR, "huber", delta=1e6)
    best, _ = dl.minimize(land, ((-4, 6), (-6, 4)))
    np.testing.assert_allclose(best, dl.least_squares(land), atol=1e-7)


def test_loss_switch_huber_with_a_large_delta_is_half_the_mse_surface():
    xs, ys = np.linspace(-3, 5, 11), np.linspace(-4, 4, 9)
    Z_mse = dl.grid(dl.build(LINEAR, "mse"), xs, ys)
    Z_huber = dl.grid(dl.build(LINEAR, "huber", delta=1e4), xs, ys)
    np.testing.assert_allclose(Z_huber, Z_mse / 2, rtol=1e-12)


def test_loss_switch_huber_with_a_tiny_delta_is_delta_times_mae():
    xs, ys = np.linspace(-3, 5, 11), np.linspace(-4, 4, 9)
    delta = 1e-4
    Z_mae = dl.grid(dl.build(LINEAR, "mae"), xs, ys)
    Z_huber = dl.grid(dl.build(LINEAR, "huber", delta=delta), xs, ys)
    # delta (|r| - delta/2) beyond delta and r^2/2 within: at most delta^2/2 from delta |r| - delta^2/2.
    assert np.max(np.abs(Z_huber - (delta * Z_mae - delta**2 / 2))) <= delta**2 / 2 + 1e-15


def test_loss_switch_rmse_is_the_root_of_mse_and_log_cosh_lies_between_its_bounds():
    xs, ys = np.linspace(-3, 5, 11), np.linspace(-4, 4, 9)
    Z = {key: dl.grid(dl.build(LINEAR, key), xs, ys) for key in ("mse", "rmse", "mae", "log_cosh")}
    np.testing.assert_allclose(Z["rmse"], np.sqrt(Z["mse"]), rtol=1e-12)
    # |r| - log 2 <= log cosh r <= r^2 / 2, averaged.
    assert np.all(Z["log_cosh"] <= Z["mse"] / 2 + 1e-12)
    assert np.all(Z["log_cosh"] >= Z["mae"] - np.log(2) - 1e-12)


def test_loss_switch_classification_surrogates_bound_the_error_rate():
    xs, ys = np.linspace(-6, 6, 13), np.linspace(-6, 6, 11)
    Z = {key: dl.grid(dl.build(BLOBS_2, key), xs, ys) for key in dl.loss_names("classification")}
    assert np.all(Z["hinge"] >= Z["zero_one"] - 1e-12)
    assert np.all(Z["squared_hinge"] >= Z["zero_one"] - 1e-12)
    assert np.all(Z["cross_entropy"] >= np.log(2) * Z["zero_one"] - 1e-12)
    assert np.all((Z["sigmoid_mse"] >= 0) & (Z["sigmoid_mse"] <= 1))
    values = np.unique(np.round(Z["zero_one"] * BLOBS_2.n_samples, 9))
    assert np.all(values == np.round(values))  # the error rate counts mistakes: k / n


def _second_differences(Z):
    return np.concatenate([(Z[:, 2:] - 2 * Z[:, 1:-1] + Z[:, :-2]).ravel(),
                           (Z[2:, :] - 2 * Z[1:-1, :] + Z[:-2, :]).ravel()])


def test_squared_error_through_a_sigmoid_is_not_convex_and_cross_entropy_is():
    xs = ys = np.linspace(-10, 10, 81)
    assert np.min(_second_differences(dl.grid(dl.build(BLOBS_2, "sigmoid_mse"), xs, ys))) < -1e-4
    assert np.min(_second_differences(dl.grid(dl.build(BLOBS_2, "cross_entropy"), xs, ys))) > -1e-12


def test_the_sigmoid_mse_plateau_has_a_vanishing_gradient_where_cross_entropy_does_not():
    far = np.array([8.0, 0.0])  # confidently wrong for almost every point
    sig, ce = dl.build(BLOBS_2, "sigmoid_mse"), dl.build(BLOBS_2, "cross_entropy")
    assert np.linalg.norm(sig.model.grad(far)) < 0.02 * np.linalg.norm(ce.model.grad(far))
    assert float(sig.model.f(far)) > 0.5  # high loss, yet flat


def test_outliers_move_the_mse_minimum_by_exactly_the_least_squares_formula():
    moved, rows = dl.with_outliers(LINEAR, 3, 5.0, seed=2)
    shift = 5.0 * np.std(LINEAR.y)
    before = dl.least_squares(dl.build(LINEAR, "mse"))
    after = dl.least_squares(dl.build(moved, "mse"))
    n = LINEAR.n_samples
    x = LINEAR.X[:, 0]  # standardized: mean 0, mean of squares 1
    np.testing.assert_allclose(after - before, [shift * x[rows].sum() / n, 3 * shift / n], rtol=1e-10)
    np.testing.assert_allclose(np.flatnonzero(moved.y != LINEAR.y), rows)


def test_mae_minimizer_agrees_with_an_independent_linear_program():
    from sklearn.linear_model import QuantileRegressor

    moved, _ = dl.with_outliers(LINEAR, 4, 8.0)
    land = dl.build(moved, "mae")
    best, value = dl.minimize(land, ((-3, 7), (-5, 5)))
    lp = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(moved.X, moved.y)
    reference = np.mean(np.abs(lp.coef_[0] * moved.X[:, 0] + lp.intercept_ - moved.y))
    assert value == pytest.approx(reference, rel=1e-8)
    assert value <= reference + 1e-12 or value == pytest.approx(reference, rel=1e-9)


def test_huber_minimizer_agrees_with_scipy():
    from scipy.optimize import minimize

    moved, _ = dl.with_outliers(LINEAR, 4, 8.0)
    land = dl.build(moved, "huber", delta=0.8)
    best, value = dl.minimize(land, ((-3, 7), (-5, 5)))
    x, y = moved.X[:, 0], moved.y

    def huber(p):
        r = p[0] * x + p[1] - y
        return np.mean(np.where(np.abs(r) <= 0.8, 0.5 * r**2, 0.8 * (np.abs(r) - 0.4)))

    ref = minimize(huber, np.zeros(2), method="BFGS", options={"gtol": 1e-12})
    np.testing.assert_allclose(best, ref.x, atol=1e-6)
    assert value == pytest.approx(ref.fun, rel=1e-10)


def test_outlier_scenario_moves_mse_far_more_than_mae_and_huber():
    sc = dl.SCENARIOS["outlier_drags_mse"]
    data = dl.load_dataset(sc.dataset, sc.features, **sc.dataset_params)
    ex = dl.explore(data, sc.loss, outliers=sc.outliers, outlier_size=sc.outlier_size, start=sc.start,
                    steps=sc.steps, settings=sc.optimizers)
    shifts = dict(zip(ex.robust["loss"], ex.robust["shift"]))
    mse, mae, huber = (shifts[dl.LOSS_CHOICES[k].title] for k in ("mse", "mae", "huber"))
    assert mse > 5 * mae and mse > 5 * huber
    assert len(ex.outlier_rows) == sc.outliers
    for point in [*ex.robust["without outliers"], *ex.robust["with outliers"], ex.best, np.array(sc.start)]:
        assert ex.domain[0][0] < point[0] < ex.domain[0][1] and ex.domain[1][0] < point[1] < ex.domain[1][1]


def _scenario(name, **changes):
    sc = replace(dl.SCENARIOS[name], **changes)
    data = dl.load_dataset(sc.dataset, sc.features, **sc.dataset_params)
    return dl.explore(data, sc.loss, outliers=sc.outliers, outlier_size=sc.outlier_size, start=sc.start,
                      steps=sc.steps, settings=sc.optimizers)


def test_sigmoid_mse_scenario_stalls_and_cross_entropy_from_the_same_start_does_not():
    stalled = _scenario("sigmoid_mse_stalls").runs[0].trajectory
    assert stalled.loss[-1] > 0.97 * stalled.loss[0]
    sliding = _scenario("sigmoid_mse_stalls", loss="cross_entropy").runs[0].trajectory
    assert sliding.loss[-1] < 0.05 * sliding.loss[0]


def test_zero_one_scenario_never_moves():
    ex = _scenario("zero_one_no_gradient")
    traj = ex.runs[0].trajectory
    np.testing.assert_array_equal(traj.params, np.broadcast_to(traj.params[0], traj.params.shape))
    assert np.all(traj.grad_norm == 0)
    assert "never moved" in ex.runs[0].verdict


def test_mae_scenario_a_decaying_rate_settles_closer_than_a_constant_one():
    ex = _scenario("mae_needs_decay")
    constant, decayed = (np.linalg.norm(r.trajectory.params[-1] - ex.best) for r in ex.runs)
    assert constant > 10 * decayed
    assert "Reached the minimum" in ex.runs[1].verdict


def test_cross_entropy_scenario_runs_off_to_infinity():
    ex = _scenario("cross_entropy_separable")
    assert ex.best_on_edge
    norms = np.linalg.norm(ex.runs[0].trajectory.params, axis=1)
    assert np.all(np.diff(norms[10:]) > 0)
    assert "left the view" in ex.runs[0].verdict


def test_every_scenario_uses_a_loss_of_its_dataset_and_runs():
    for name, sc in dl.SCENARIOS.items():
        data = dl.load_dataset(sc.dataset, sc.features, **sc.dataset_params)
        assert sc.loss in dl.loss_names(data.task), name
        assert all(optimizers.get(s.name, **s.hyperparameters) for s in sc.optimizers)


def test_explore_runs_are_lossviz_run_on_the_model_objective():
    setting = OptimizerSetting("adam", {"lr": 0.05}, label="Adam")
    ex = dl.explore(LINEAR, "huber", delta=0.5, settings=[setting], start=(-1.0, 2.0), steps=40)
    model = dl.build(LINEAR, "huber", 0.5).model
    reference = run(model, optimizers.get("adam", lr=0.05), np.array([-1.0, 2.0]), 40)
    np.testing.assert_array_equal(ex.runs[0].trajectory.params, reference.params)
    assert ex.runs[0].trajectory.param_names == ("slope", "intercept")
    assert ex.Z.shape == (len(ex.ys), len(ex.xs))


def test_fit_at_draws_the_line_in_original_units():
    data = datasets.get("linear", n_samples=50, noise=0.0, slope=2.0, intercept=1.0)
    land = dl.build(data, "mse")
    fit = dl.fit_at(land, [2.0, 1.0])
    x_std = (fit.x - data.X_mean[0]) / data.X_scale[0]
    np.testing.assert_allclose(fit.y, 2.0 * x_std + 1.0, rtol=1e-12)
    # noise 0: the fit at the generating parameters passes through the data's end points
    ends = np.argmin(data.X[:, 0]), np.argmax(data.X[:, 0])
    np.testing.assert_allclose(fit.y[[0, -1]], data.y_original()[list(ends)], rtol=1e-12)


def test_fit_at_sigmoid_threshold_is_where_the_score_is_zero():
    land = dl.build(BLOBS_1, "cross_entropy")
    fit = dl.fit_at(land, [1.5, -0.6])
    threshold_std = (fit.threshold - BLOBS_1.X_mean[0]) / BLOBS_1.X_scale[0]
    assert 1.5 * threshold_std - 0.6 == pytest.approx(0.0, abs=1e-12)
    assert np.all((fit.y >= 0) & (fit.y <= 1)) and np.all(np.diff(fit.y) > 0)


def test_fit_at_boundary_ends_lie_on_the_boundary_and_in_the_box():
    land = dl.build(BLOBS_2, "hinge")
    w = np.array([0.8, -1.7])
    fit = dl.fit_at(land, w)
    assert fit.x.size == 2
    ends = BLOBS_2.standardize(np.column_stack([fit.x, fit.y]))
    np.testing.assert_allclose(ends @ w, 0.0, atol=1e-10)
    assert dl.fit_at(land, [0.0, 0.0]).x.size == 0
    # A diverged fit's weights, one huge and one tiny: the line runs along an axis, no overflow warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for w in ([1e300, 1e-10], [1e-10, 1e300], [-1e308, 5e-324]):
            fit = dl.fit_at(land, w)
            assert np.all(np.isfinite(fit.x)) and np.all(np.isfinite(fit.y))


def test_fit_at_plane_predicts_offset_plus_weights_in_original_units():
    land = dl.build(DIABETES_2, "mae")
    fit = dl.fit_at(land, [0.3, 0.2])
    expected = (DIABETES_2.y.mean() + DIABETES_2.X @ [0.3, 0.2]) * DIABETES_2.y_scale + DIABETES_2.y_mean
    np.testing.assert_allclose(fit.y, expected, rtol=1e-12)
    np.testing.assert_allclose(fit.x, DIABETES_2.y_original(), rtol=1e-12)


def test_one_vs_rest_and_subsample():
    iris = dl.load_dataset("iris", ["petal length (cm)"], positive="versicolor")
    full = datasets.get("iris")
    np.testing.assert_array_equal(iris.y, (full.y == 1).astype(int))
    assert iris.class_names == ("not versicolor", "versicolor")
    small = dl.subsample(full, 40, seed=1)
    assert small.n_samples == 40 and dl.subsample(full, 40, seed=1).X.tobytes() == small.X.tobytes()
    assert dl.subsample(full, 1000) is full


def test_a_large_dataset_is_sampled_for_the_landscape(monkeypatch):
    monkeypatch.setattr(dl, "MAX_LANDSCAPE_ROWS", 50)
    ex = dl.explore(LINEAR, "mse", steps=5)
    assert ex.n_rows == 60 and ex.landscape.dataset.n_samples == 50


TORCH_RUNNER = """
import json, runpy, sys, io, contextlib, os
results = []
for path in sys.argv[1:]:
    os.chdir(os.path.dirname(path))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(path)
    results.append(json.loads(out.getvalue().strip().splitlines()[-1]))
print(json.dumps(results))
"""


def test_torch_code_trains_the_same_model_to_the_same_parameters(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    cases = [(kind, key) for kind, key in CASES if key != "rmse"]  # torch's sqrt backward at 0 aside, same
    cases.append(("line", "rmse"))
    scripts, expected = [], []
    for index, (kind, key) in enumerate(cases):
        data = dl.subsample(KINDS[kind], 30, seed=index)
        land = dl.build(data, key, delta=0.6)
        optimizer = optimizers.get("sgd", lr=0.2, momentum=0.5)
        x0 = (0.4, -0.3)
        code = dl.torch_code(land, optimizer, None, steps=25, x0=x0)
        assert ("X = torch.tensor" in code) and "loss.backward()" in code
        path = tmp_path / f"case_{index}.py"
        path.write_text(code)
        scripts.append(str(path))
        expected.append(run(land.model, optimizer, np.array(x0), 25).params[-1])
    # A dataset too large to embed: the script reads the page's CSV instead.
    monkeypatch.setattr(dl, "MAX_EMBEDDED_NUMBERS", 10)
    land = dl.build(LINEAR, "log_cosh")
    big = tmp_path / "big"
    big.mkdir()
    dl.model_data_frame(land).to_csv(big / dl.DATA_FILE_NAME, index=False)
    code = dl.torch_code(land, optimizers.get("adam", lr=0.1), None, steps=30, x0=(1.0, 1.0))
    assert dl.DATA_FILE_NAME in code
    (big / "script.py").write_text(code)
    scripts.append(str(big / "script.py"))
    expected.append(run(land.model, optimizers.get("adam", lr=0.1), np.array([1.0, 1.0]), 30).params[-1])
    out = subprocess.run([sys.executable, "-c", TORCH_RUNNER, *scripts], capture_output=True, text=True,
                         timeout=300, check=True)
    for case, got, want in zip([*cases, "csv"], json.loads(out.stdout), expected):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-10, err_msg=str(case))


def test_torch_code_names_the_parameters_of_the_axes():
    code = dl.torch_code(dl.build(BLOBS_2, "hinge"), optimizers.get("sgd", lr=0.1), None, steps=3, x0=(0, 0))
    assert "w1, w2 = params[0], params[1]" in code and "w1 * X[:, 0] + w2 * X[:, 1]" in code


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: dl.build(LINEAR, "hinge"), ValueError,
         r"unknown loss for regression 'hinge'; valid names: mse"),
        (lambda: dl.build(BLOBS_2, "mae"), ValueError,
         r"unknown loss for classification 'mae'; valid names: cross_entropy"),
        (lambda: dl.build(LINEAR, "huber", delta=0.0), ValueError, r"delta must be in \(0, inf\)"),
        (lambda: dl.build(datasets.get("iris"), "hinge"), ValueError, r"needs 1 or 2 features, got 4"),
        (lambda: dl.build(datasets.get("iris").select([0]), "hinge"), ValueError,
         r"needs 2 classes, 'iris' has 3"),
        (lambda: dl.build("linear", "mse"), TypeError, r"dataset must be a lossviz.datasets.Dataset"),
        (lambda: dl.with_outliers(BLOBS_2, 1, 1.0), ValueError, r"outliers are added to regression targets"),
        (lambda: dl.with_outliers(LINEAR, 31, 1.0), ValueError, r"outliers must be an integer in \[0, 30\]"),
        (lambda: dl.with_outliers(LINEAR, 1, -1.0), ValueError, r"outlier size must be in \[0, 100\]"),
        (lambda: dl.one_vs_rest(LINEAR, "a"), ValueError, r"one_vs_rest needs a classification dataset"),
        (lambda: dl.one_vs_rest(datasets.get("iris"), "rose"), ValueError, r"unknown positive class 'rose'"),
        (lambda: dl.load_dataset("mnist", ["x"]), ValueError, r"unknown dataset 'mnist'; valid names: lin"),
        (lambda: dl.load_dataset("linear", []), ValueError, r"features must name 1 or 2 features, got 0"),
        (lambda: dl.loss_names("ranking"), ValueError, r"unknown task 'ranking'"),
        (lambda: dl.minimize(dl.build(LINEAR, "mae"), ((1, 0), (0, 1))), ValueError,
         r"box must be \(\(xmin, xmax\)"),
        (lambda: dl.view_box(np.zeros((3, 3))), ValueError, r"points must have shape \(\.\.\., 2\)"),
        (lambda: dl.explore(LINEAR, "mse", steps=0), ValueError, r"steps must be an integer in \[1, 5000\]"),
        (lambda: dl.explore(LINEAR, "mse", start=(1.0,)), ValueError, r"start must have shape \(\.\.\., 2\)"),
        (lambda: dl.explore(LINEAR, "mse", settings=[OptimizerSetting("sgd", {"lr": 0.1})] * 4), ValueError,
         r"at most 3 optimizers, got 4"),
        (lambda: dl.explore(LINEAR, "mse", settings=[OptimizerSetting("sgd", {"lr": -1.0})]), ValueError,
         r"optimizer 1 \(sgd\): .*lr"),
        (lambda: dl.fit_at(dl.build(LINEAR, "mse"), [1.0, 2.0, 3.0]), ValueError,
         r"params must have shape \(\.\.\., 2\)"),
    ],
)
def test_validation_messages_name_the_parameter(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_verdicts_tell_a_plateau_from_an_overshoot():
    stalled = _scenario("sigmoid_mse_stalls").runs[0].verdict
    assert "plateau" in stalled
    # MSE on one standardized feature has curvature 2 in both directions: lr = 1 = 2 / 2 bounces forever.
    bounce = dl.explore(LINEAR, "mse", settings=[OptimizerSetting("sgd", {"lr": 1.0})], start=(3.0, -2.0),
                        steps=50)
    assert "overshoot" in bounce.runs[0].verdict and "plateau" not in bounce.runs[0].verdict


def test_robust_and_trajectory_tables_are_flat_and_named_by_the_axes():
    ex = dl.explore(LINEAR, "huber", outliers=2, outlier_size=5.0, steps=10,
                    settings=[OptimizerSetting("sgd", {"lr": 0.1}, label="A"),
                              OptimizerSetting("adam", {"lr": 0.1}, label="B")])
    table = dl.robust_table(ex)
    assert list(table.columns) == ["loss", "slope without", "intercept without", "slope with",
                                   "intercept with", "shift"]
    np.testing.assert_allclose(np.hypot(table["slope with"] - table["slope without"],
                                        table["intercept with"] - table["intercept without"]), table["shift"])
    frame = dl.trajectories_frame(ex)
    assert list(frame["optimizer"].unique()) == ["A", "B"] and len(frame) == 22
    assert {"slope", "intercept", "loss"} <= set(frame.columns)
    assert dl.robust_table(dl.explore(LINEAR, "mse", steps=3)) is None


def test_the_boundary_arrow_points_to_the_class_1_side():
    land = dl.build(BLOBS_2, "cross_entropy")
    for w in ([0.8, -1.7], [-3.0, 0.2], [0.0, 1.0]):
        side = dl.fit_at(land, w).side
        start, tip = BLOBS_2.standardize(side)
        assert start @ w == pytest.approx(0.0, abs=1e-10) and tip @ w > 0


def test_a_flat_edge_is_a_minimum_in_view_and_a_falling_one_is_not():
    zero_one = dl.explore(BLOBS_2, "zero_one", steps=2)
    assert not zero_one.best_on_edge  # the error rate depends only on the direction of w
    separable = dl.explore(dl.load_dataset("blobs", ["x1", "x2"], noise=0.5), "cross_entropy", steps=2)
    assert separable.best_on_edge


def test_the_learning_rate_frames_are_each_rate_run_on_its_own():
    settings = [OptimizerSetting("sgd", {"lr": 0.2, "momentum": 0.5}), OptimizerSetting("adam", {"lr": 0.05})]
    multipliers = (0.5, 1.0, 3.0)
    ex = dl.explore(LINEAR, "huber", settings=settings, start=(1.0, -1.0), steps=30, multipliers=multipliers)
    assert ex.frames.shape == (2, 3, 31, 2) and not ex.frames.flags.writeable
    assert ex.multipliers == multipliers
    for r, setting in enumerate(settings):
        for m, factor in enumerate(multipliers):
            lr = setting.hyperparameters["lr"] * factor
            optimizer = optimizers.get(setting.name, **{**setting.hyperparameters, "lr": lr})
            alone = run(ex.landscape.model, optimizer, np.array([1.0, -1.0]), 30).params
            np.testing.assert_allclose(ex.frames[r, m], alone, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(ex.frames[r, 1], ex.runs[r].trajectory.params)
    assert dl.explore(LINEAR, "mse", steps=3).frames.shape[1] == 0  # none asked, none computed
    assert all(float(f"{m:.3g}") == m for m in dl.LR_MULTIPLIERS) and 1.0 in dl.LR_MULTIPLIERS


def test_nearest_step_picks_the_closest_point_of_any_path_or_nothing():
    settings = [OptimizerSetting("sgd", {"lr": 0.05}), OptimizerSetting("adam", {"lr": 0.3})]
    ex = dl.explore(LINEAR, "mae", settings=settings, start=(3.0, -2.0), steps=40)
    width = ex.domain[0][1] - ex.domain[0][0]
    for run_index, step in ((0, 5), (1, 12), (1, 33)):
        point = ex.runs[run_index].trajectory.params[step] + [0.005 * width, 0.0]
        # The nearest point over both paths, found here by brute force.
        distances = [(np.linalg.norm(r.trajectory.params[k] - point), k) for r in ex.runs for k in range(41)]
        assert dl.nearest_step(ex, point) == min(distances)[1]
    assert dl.nearest_step(ex, (ex.domain[0][1] + width, 0.0)) is None
    with pytest.raises(ValueError, match="point must have shape"):
        dl.nearest_step(ex, (1.0, 2.0, 3.0))


def test_the_work_estimate_counts_at_least_every_evaluation_made(monkeypatch):
    counted = {"points": 0}
    original = dl.grid

    def counting(land, xs, ys):
        counted["points"] += len(xs) * len(ys)
        return original(land, xs, ys)

    monkeypatch.setattr(dl, "grid", counting)
    data = dl.load_dataset("linear", ["x"], n_samples=300)
    settings = [OptimizerSetting("sgd", {"lr": 0.1}), OptimizerSetting("adam", {"lr": 0.1})]
    dl.explore(data, "huber", outliers=5, settings=settings, steps=20, multipliers=dl.LR_MULTIPLIERS)
    work = dl.explore_work(300, steps=20, runs=2, multipliers=len(dl.LR_MULTIPLIERS), outliers=5)
    assert counted["points"] * 300 <= work.row_evaluations
    assert work.row_steps == 300 * 20 * 2 * (1 + len(dl.LR_MULTIPLIERS))
    big = dl.explore_work(10**6, steps=1, runs=1)
    assert big.row_evaluations == dl.explore_work(dl.MAX_LANDSCAPE_ROWS, steps=1, runs=1).row_evaluations


def test_the_summary_names_the_lowest_point_and_the_row_sample(monkeypatch):
    monkeypatch.setattr(dl, "MAX_LANDSCAPE_ROWS", 50)
    ex = dl.explore(LINEAR, "mae", steps=2)
    text = dl.summary(ex)
    assert text.startswith("The minimum is at slope = ") and "random sample of 50 of the 60 rows" in text
    separable = dl.explore(dl.load_dataset("blobs", ["x1", "x2"], noise=0.5), "cross_entropy", steps=2)
    assert "lowest point in view (the minimum lies beyond the map)" in dl.summary(separable)


@pytest.mark.parametrize("name", list(dl.SCENARIOS))
def test_every_scenario_is_plain_link_values(name):
    sc = dl.SCENARIOS[name]
    values = sc.settings
    assert (values["source"], values["loss"], values["f1"]) == (sc.dataset, sc.loss, sc.features[0])
    assert values["racers"] == len(sc.optimizers) and values["optimizers"] == sc.optimizers
    assert values["step"] == (sc.steps if sc.shown_step is None else sc.shown_step)
    keys = {"source", "n", "noise", "seed", "nfeat", "f1", "f2", "positive", "loss", "delta", "outliers",
            "outlier_size", "x0", "y0", "steps", "racers", "step", "optimizers"}
    assert set(values) <= keys


def test_dataset_settings_give_each_preset_its_own_features():
    for name, preset in dl.PRESETS.items():
        values = dl.dataset_settings(name)
        assert values["f1"] == preset.features[0] and values["nfeat"] == len(preset.features)
        assert ({"n", "noise", "seed"} <= set(values)) == preset.synthetic
    with pytest.raises(ValueError, match="unknown dataset 'csv'"):
        dl.dataset_settings("csv")


@pytest.mark.parametrize(("kind", "scenario"), [("line", None), ("plane", None), ("sigmoid", None),
                                                ("boundary", None), ("line", "outlier_drags_mse")])
def test_the_data_figure_passes_plotlys_checks_with_nothing_dropped(kind, scenario):
    """The data view is written as plain dicts, not plotly objects (about 10 ms a rerun): plotly's checks
    accept every property, keep every one, and the fits, the threshold line and the boundary's arrow sit
    where the model puts them."""
    import plotly.graph_objects as go

    from lossviz.viz import models_on_data as figures
    from lossviz.viz.landscape import Path

    if scenario:
        ex = _scenario(scenario)
    else:
        ex = dl.explore(KINDS[kind], "mse" if kind in ("line", "plane") else "cross_entropy", steps=20)
    xy = np.array(ex.best) + np.linspace(-1.0, 0.0, 21)[:, None]
    step = 5
    spec = figures.data_figure(ex, [Path("1. SGD", "#1f77b4", xy, np.linspace(1, 0, 21))], step)
    checked = go.Figure(spec).to_dict()  # raises ValueError on a property plotly does not know
    assert [set(t) for t in checked["data"]] == [set(t) for t in spec["data"]]
    for part in ("shapes", "annotations"):
        drawn = spec["layout"].get(part, [])
        assert [set(s) for s in checked["layout"].get(part, [])] == [set(s) for s in drawn]
    fitted = next(t for t in spec["data"] if t["name"] == f"1. SGD, step {step}")
    fit = dl.fit_at(ex.landscape, xy[step])
    if kind == "plane":
        np.testing.assert_array_equal(fitted["y"], fit.y[figures._shown_rows(ex.landscape.dataset.n_samples)])
    else:
        np.testing.assert_array_equal(fitted["y"], fit.y)
    if fit.threshold is not None:
        assert fit.threshold in [s["x0"] for s in spec["layout"]["shapes"] if s["x0"] == s["x1"]]
    if fit.side is not None:
        arrow = spec["layout"]["annotations"][0]
        assert (arrow["x"], arrow["y"], arrow["ax"], arrow["ay"]) == (*fit.side[1], *fit.side[0])
    if scenario:
        assert any(t["name"] == "moved outliers" for t in spec["data"])


# ---- data the page's arithmetic cannot take (issue: a CSV of 1e300 was drawn from NaN, "loss 0")


@contextlib.contextmanager
def _no_runtime_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("name, values", [("X", lambda n, big: np.c_[np.linspace(0, big, n)]),
                                          ("y", lambda n, big: np.linspace(-big, 0, n))])
@pytest.mark.parametrize("n", [2, 30, 10_000])
def test_from_arrays_refuses_values_whose_variance_overflows_and_takes_those_at_the_limit(name, values, n):
    limit = datasets.max_abs_value(n)
    largest = float(np.finfo(np.float64).max)  # n squared deviations of twice the limit fit, of 20 times not
    assert n * (2 * limit / 1e100) ** 2 < largest / 1e200 < n * (20 * limit / 1e100) ** 2
    ordinary = {"X": np.c_[np.arange(n, dtype=float)], "y": np.arange(n, dtype=float)}
    for standardize_target in (True, False):
        words = rf"{name} must hold values of at most {limit:g}".replace("+", r"\+")
        with pytest.raises(ValueError, match=words):
            datasets.from_arrays(**(ordinary | {name: values(n, 10 * limit)}), task="regression",
                                 standardize_target=standardize_target)
        with _no_runtime_warning():
            d = datasets.from_arrays(**(ordinary | {name: values(n, limit)}), task="regression",
                                     standardize_target=standardize_target)
        assert all(np.all(np.isfinite(v)) for v in (d.X, d.y, d.X_mean, d.X_scale, d.y_mean, d.y_scale))


def test_a_dataset_that_is_not_finite_is_refused_before_anything_is_drawn():
    broken = replace(LINEAR, X_scale=np.array([np.inf]), X=np.full_like(LINEAR.X, np.nan))
    with pytest.raises(ValueError, match=r"dataset 'linear' holds values that are not finite"):
        dl.build(broken, "mse")


def _every_view(data, task):
    """explore with every loss of the task (outliers on a regression), the numbers each figure draws."""
    for loss in dl.loss_names(task):
        ex = dl.explore(data, loss, settings=[OptimizerSetting("sgd", {"lr": 0.1})], steps=10, resolution=9,
                        outliers=2 if task == "regression" else 0, multipliers=(0.5, 1.0))
        paths = figures.paths(ex)
        figures.data_figure(ex, paths, 5)
        figures.landscape_spec(ex, paths, 5, (-2.0, -2.0), view_key="k")
        assert np.all(np.isfinite(ex.Z)) and np.all(np.isfinite(ex.best)) and np.isfinite(ex.best_value)
        fit = dl.fit_at(ex.landscape, ex.best)
        assert np.all(np.isfinite(fit.x)) and np.all(np.isfinite(fit.y))


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_a_table_of_the_most_rows_at_the_allowed_magnitude_is_drawn_finite_without_a_warning(task):
    rows, limit = csvdata.MAX_ROWS, csvdata.MAX_ABS_VALUE
    sign = np.where(np.arange(rows) % 2 == 0, 1.0, -1.0)
    frame = pd.DataFrame({"x": limit * sign * np.linspace(0.1, 1.0, rows), "y": -limit * sign,
                          "label": np.where(np.arange(rows) % 3 == 0, "a", "b")})
    frame.loc[0, "y"] = limit  # the worst variance: one value twice the limit away from the others' mean
    with _no_runtime_warning():
        data = csvdata.to_dataset(frame, "y" if task == "regression" else "label", ["x"], task)
        _every_view(data, task)


@settings(max_examples=40, deadline=None)
@given(x=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=12, max_size=24),
       seed=st.integers(0, 2**32 - 1), task=st.sampled_from(["regression", "classification"]))
def test_any_uploaded_finite_column_is_refused_or_drawn_finite_without_a_warning(x, seed, task):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": x, "y": np.array(x)[rng.permutation(len(x))],
                          "label": np.resize(["a", "b"], len(x))})
    with _no_runtime_warning():
        try:
            data = csvdata.to_dataset(frame, "y" if task == "regression" else "label", ["x"], task)
        except ValueError as exc:
            assert str(exc).startswith(("Column 'x' (feature) ", "Column 'y' (target) ")), str(exc)
            return
        _every_view(data, task)


# ---- the exports say what they hold (issue: the caption called the linear preset's target, mean 0.96 and
# sd 2.05, standardized; the grid's corner named only the rows' parameter)

_UPLOAD = pd.DataFrame({"hours": np.arange(1.0, 41.0), "sleep": np.cos(np.arange(40.0)) * 3 + 7,
                        "score": 50 + 4 * np.arange(40.0) + 9 * np.sin(np.arange(40.0)),
                        "grade": np.resize(["A", "B", "C"], 40)})
NOTE_CASES = {
    "linear": (lambda: dl.load_dataset("linear", ["x"], n_samples=80), "mse", 0),
    "linear_outliers": (lambda: dl.load_dataset("linear", ["x"], n_samples=80), "huber", 3),
    "diabetes_1": (lambda: dl.load_dataset("diabetes", ["bmi"]), "mae", 0),
    "diabetes_2_outliers": (lambda: dl.load_dataset("diabetes", ["bmi", "bp"]), "mse", 5),
    "upload_1": (lambda: csvdata.to_dataset(_UPLOAD, "score", ["hours"], "regression"), "mse", 0),
    "upload_2_outliers": (lambda: csvdata.to_dataset(_UPLOAD, "score", ["hours", "sleep"], "regression"),
                          "mse", 2),
    "blobs": (lambda: dl.load_dataset("blobs", ["x1", "x2"]), "cross_entropy", 0),
    "iris_one_vs_rest": (lambda: dl.load_dataset("iris", ["petal width (cm)"]), "hinge", 0),
    "upload_classes": (lambda: csvdata.to_dataset(_UPLOAD, "grade", ["hours"], "classification", "B"),
                       "cross_entropy", 0),
}


@pytest.mark.parametrize("case", list(NOTE_CASES))
def test_the_model_data_note_says_what_each_exported_column_holds(case):
    build_data, loss, outliers = NOTE_CASES[case]
    data = build_data()
    ex = dl.explore(data, loss, outliers=outliers, outlier_size=6.0, steps=1, resolution=5)
    note, frame = dl.model_data_note(ex), dl.model_data_frame(ex.landscape)
    original = data.to_frame()  # the data in its own units, standardized below by the test itself
    assert list(frame.columns) == list(original.columns)
    features = original.iloc[:, :-1].to_numpy()
    assert "first the feature, standardized" in note or "first the two features, each standardized" in note
    standardized_features = (features - features.mean(0)) / features.std(0)
    np.testing.assert_allclose(frame.iloc[:, :-1], standardized_features, atol=1e-12)
    target = frame.iloc[:, -1].to_numpy()
    if data.task == "classification":
        assert note.endswith("1 for the positive class, 0 for any other.")
        positive = data.class_names[1]
        np.testing.assert_array_equal(target, (original.iloc[:, -1] == positive).astype(float))
        return
    y = original.iloc[:, -1].to_numpy()
    standardized, own_units = "the target, standardized too" in note, "the target, in its own units" in note
    assert standardized != own_units, note
    expected = (y - y.mean()) / y.std() if standardized else y.copy()
    assert (f"with {outliers} value(s) moved up as outliers" in note) == bool(outliers)
    expected[ex.outlier_rows] += 6.0 * expected.std()
    assert ("then centred" in note) == (data.n_features == 2)
    if data.n_features == 2:
        expected -= expected.mean()
    np.testing.assert_allclose(target, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_grid_export_names_its_rows_and_columns_in_the_corner_and_reads_back(kind):
    import io

    from lossviz.ui import export

    ex = dl.explore(KINDS[kind], dl.loss_names(KINDS[kind].task)[0], steps=1, resolution=7)
    rows, columns = ex.landscape.param_names[1], ex.landscape.param_names[0]
    text = export.csv_text(dl.grid_frame(ex), index=True)
    assert text.splitlines()[0].split(",")[0] == f"{rows} \\ {columns}"
    back = pd.read_csv(io.StringIO(text), index_col=0)
    assert back.index.name == f"{rows} \\ {columns}"
    np.testing.assert_array_equal(back.columns.astype(float), ex.xs)
    np.testing.assert_array_equal(back.index, ex.ys)
    np.testing.assert_array_equal(back.to_numpy(), ex.Z)
