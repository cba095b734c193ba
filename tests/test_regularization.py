"""lossviz.lessons.regularization against scikit-learn, closed forms, hand-derived knots, SciPy, the
optimizers and torch."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import lsq_linear
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from lossviz import datasets, models, optimizers, regularizers
from lossviz.lessons import regularization as regpath
from lossviz.run import run
from tests.pagetest import HOSTILE_NAMES, code_shape, run_script

SKLEARN = {"Lasso": Lasso, "Ridge": Ridge, "ElasticNet": ElasticNet}


def _data(seed, m=40, p=2, correlation=0.6):
    """Correlated features and a noisy linear target, as a 2-weight problem on real data looks."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, correlation], [correlation, 1.0]]) if p == 2 else np.eye(p)
    X = rng.multivariate_normal(np.zeros(p), cov, size=m) + rng.normal(size=p)
    y = X @ rng.normal(size=p) + 0.5 * rng.standard_normal(m) + rng.normal()
    return X, y


class _LeastSquares:
    """Mean squared error of a linear model without intercept, nothing else (no validation overhead)."""

    def __init__(self, X, y):
        self.X, self.y, self.dim = X, y, X.shape[1]

    def f(self, params):
        residual = np.asarray(params) @ self.X.T - self.y
        return np.mean(residual**2, axis=-1)

    def grad(self, params):
        return 2 * (np.asarray(params) @ self.X.T - self.y) @ self.X / len(self.y)


def _sklearn(penalty, strength, X, y, fit_intercept, l1_ratio=0.5):
    name, params = regpath.sklearn_equivalent(penalty, strength, len(y), l1_ratio=l1_ratio)
    extra = {} if name == "Ridge" else {"tol": 1e-14, "max_iter": 1_000_000}
    est = SKLEARN[name](fit_intercept=fit_intercept, **params, **extra).fit(X, y)
    return est.coef_, float(est.intercept_)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), strength=st.floats(1e-3, 4.0), fit_intercept=st.booleans(),
       penalty=st.sampled_from(regpath.PENALTIES), l1_ratio=st.floats(0.05, 0.95))
def test_minimizer_matches_sklearn_with_the_alpha_convention(seed, strength, fit_intercept, penalty,
                                                             l1_ratio):
    X, y = _data(seed)
    w, b = regpath.regularized_minimizer(X, y, penalty, strength, l1_ratio=l1_ratio,
                                         fit_intercept=fit_intercept)
    coef, intercept = _sklearn(penalty, strength, X, y, fit_intercept, l1_ratio)
    np.testing.assert_allclose(w, coef, atol=1e-9)
    assert b == pytest.approx(intercept, abs=1e-9)
    # L1's zeros are exact zeros, where scikit-learn's coordinate descent has them too.
    if penalty != "l2":
        clearly_zero = coef == 0.0
        assert np.all(w[clearly_zero] == 0.0)


def test_ridge_path_is_the_closed_form_and_shrinks_without_ever_reaching_zero():
    X, y = _data(3)
    strengths = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 40)])
    path = regpath.regularization_path(X, y, "l2", strengths)
    A, c = X.T @ X / len(y), X.T @ y / len(y)
    for lam, w in zip(strengths, path.weights):
        # d/dw [w'Aw - 2c'w + lam/2 |w|^2] = 0  =>  (2A + lam I) w = 2c
        np.testing.assert_allclose(w, np.linalg.solve(2 * A + lam * np.eye(2), 2 * c), rtol=1e-10, atol=1e-14)
    assert np.all(path.weights != 0.0)
    assert np.all(np.isinf(path.zero_from))
    norms = np.linalg.norm(path.weights, axis=1)
    assert np.all(np.diff(norms) < 0)


def test_ridge_with_intercept_centres_the_data():
    X, y = _data(5)
    w, b = regpath.regularized_minimizer(X, y, "l2", 0.7, fit_intercept=True)
    Z = np.column_stack([X, np.ones(len(y))])
    # The normal equations of mean((Zv - y)^2) + 0.35 |w|^2 with the intercept unpenalized.
    penalty = np.diag([0.7, 0.7, 0.0]) * len(y) / 2
    expected = np.linalg.solve(Z.T @ Z + penalty, Z.T @ y)
    np.testing.assert_allclose(np.append(w, b), expected, rtol=1e-10)


def test_zero_strength_path_is_ordinary_least_squares():
    X, y = _data(11)
    for penalty in regpath.PENALTIES:
        path = regpath.regularization_path(X, y, penalty, [0.0, 1.0])
        np.testing.assert_allclose(path.weights[0], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6), penalty=st.sampled_from(regpath.PENALTIES), strength=st.floats(1e-2, 3.0),
       fit_intercept=st.booleans())
def test_minimizer_beats_every_nearby_point_of_the_regularizers_objective(seed, penalty, strength,
                                                                          fit_intercept):
    """The module's convention is lossviz.regularizers' convention: it minimizes that very objective."""
    X, y = _data(seed)
    w, b = regpath.regularized_minimizer(X, y, penalty, strength, l1_ratio=0.3, fit_intercept=fit_intercept)
    model = models.linear_regression(X, y, fit_intercept=fit_intercept)
    params = {"strength": strength} | ({"l1_ratio": 0.3} if penalty == "elastic_net" else {})
    objective = regularizers.get(penalty, model, **params)
    best = np.append(w, b) if fit_intercept else w
    rng = np.random.default_rng(seed)
    for scale in (1e-6, 1e-3, 1e-1):
        trial = best + scale * rng.standard_normal((200, best.size))
        assert np.all(objective.f(trial) >= objective.f(best) - 1e-13)


def test_subgradient_conditions_hold_along_the_lasso_and_elastic_net_paths():
    X, y = _data(7, correlation=0.9)
    A, c = X.T @ X / len(y), X.T @ y / len(y)
    strengths = np.geomspace(1e-3, 20, 60)
    for penalty, rho in (("l1", 1.0), ("elastic_net", 0.4)):
        path = regpath.regularization_path(X, y, penalty, strengths, l1_ratio=rho)
        for lam, w in zip(strengths, path.weights):
            data_grad = 2 * (A @ w - c)
            on = w != 0
            stationarity = data_grad[on] + lam * rho * np.sign(w[on]) + lam * (1 - rho) * w[on]
            np.testing.assert_allclose(stationarity, 0.0, atol=1e-12)
            assert np.all(np.abs(data_grad[~on]) <= lam * rho + 1e-12)


def test_all_zero_strength_is_where_the_last_weight_dies():
    X, y = _data(2)
    for rho in (1.0, 0.5):
        top = regpath.all_zero_strength(X, y, l1_ratio=rho)
        c = X.T @ y / len(y)
        assert top == pytest.approx(np.max(np.abs(2 * c)) / rho, rel=1e-14)
        penalty = "l1" if rho == 1.0 else "elastic_net"
        w_at, _ = regpath.regularized_minimizer(X, y, penalty, top, l1_ratio=rho)
        w_below, _ = regpath.regularized_minimizer(X, y, penalty, top * (1 - 1e-6), l1_ratio=rho)
        assert np.all(w_at == 0.0) and np.any(w_below != 0.0)
        path = regpath.regularization_path(X, y, penalty, np.geomspace(1e-3, 2 * top, 50), l1_ratio=rho)
        assert np.max(path.zero_from) == pytest.approx(top, rel=1e-12)
    assert regpath.all_zero_strength(X, y, l1_ratio=0.0) == np.inf


def test_first_lasso_knot_matches_the_two_weight_hand_formula():
    """While both weights are active, (2A) w = 2c - lam s is linear in lam; the knot is where it hits 0."""
    d = datasets.get("diabetes").select(["bmi", "bp"])
    X, y = d.X, d.y
    A, c = X.T @ X / len(y), X.T @ y / len(y)
    ols = np.linalg.solve(2 * A, 2 * c)
    signs = np.sign(ols)
    direction = np.linalg.solve(2 * A, signs)
    knots = ols / direction  # w_j(lam) = ols_j - lam * direction_j
    first = int(np.argmin(np.where(knots > 0, knots, np.inf)))
    path = regpath.regularization_path(X, y, "l1", np.concatenate([[0.0], np.geomspace(1e-3, 5.0, 30)]))
    assert path.zero_from[first] == pytest.approx(knots[first], rel=1e-12)
    after = path.strengths > knots[first]
    assert np.all(path.weights[after, first] == 0.0)
    assert np.all(path.weights[~after, first] != 0.0)


def test_path_table_and_bookkeeping():
    X, y = _data(1)
    path = regpath.regularization_path(X, y, "elastic_net", [0.0, 0.1, 1.0], l1_ratio=0.5, fit_intercept=True)
    frame = path.to_frame(("a", "b"))
    assert list(frame.columns) == ["penalty", "l1_ratio", "strength", "w_a", "w_b", "intercept", "data_loss",
                                   "penalty_value"]
    residual = X @ path.weights[1] + path.intercepts[1] - y
    assert frame["data_loss"][1] == pytest.approx(np.mean(residual**2), rel=1e-12)
    w = path.weights[2]
    expected = 1.0 * (0.5 * np.abs(w).sum() + 0.25 * (w @ w))
    assert frame["penalty_value"][2] == pytest.approx(expected, rel=1e-12)
    assert list(path.to_frame().columns)[3:5] == ["w_w1", "w_w2"]


def test_sklearn_equivalents():
    assert regpath.sklearn_equivalent("l1", 0.4, 100) == ("Lasso", {"alpha": 0.2})
    assert regpath.sklearn_equivalent("l2", 0.4, 100) == ("Ridge", {"alpha": 20.0})
    assert regpath.sklearn_equivalent("elastic_net", 0.4, 100, l1_ratio=0.3) == (
        "ElasticNet", {"alpha": 0.2, "l1_ratio": 0.3})


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), bound=st.floats(0.05, 3.0))
def test_box_constrained_minimizer_matches_scipy(seed, bound):
    X, y = _data(seed)
    expected = lsq_linear(X, y, bounds=(-bound, bound), method="bvls", tol=1e-14).x
    np.testing.assert_allclose(regpath.box_constrained_minimizer(X, y, bound), expected, atol=1e-9)


def test_adam_with_l2_lands_on_the_ridge_minimizer_and_adamw_in_the_box():
    d = datasets.get("diabetes").select(["bmi", "bp"])
    decay = 4.0
    result = regpath.weight_decay_comparison(d.X, d.y, decay, lr=0.01, steps=1000, x0=[-1.0, 1.0])
    sgd, adam, adamw = result.trajectories
    np.testing.assert_allclose(sgd.params[-1], result.ridge_minimizer, atol=1e-10)
    np.testing.assert_allclose(adam.params[-1], result.ridge_minimizer, atol=1e-8)
    # Adam's weight_decay is exactly the gradient of the L2 penalty: same run as Adam on l2(model).
    penalized = regularizers.l2(models.linear_regression(d.X, d.y, fit_intercept=False), decay)
    np.testing.assert_allclose(run(penalized, optimizers.get("adam", lr=0.01), [-1.0, 1.0], 1000).params,
                               adam.params, atol=1e-12)
    # AdamW ends far from the ridge point, near the corner of the box |w_j| <= 1/decay ...
    assert np.linalg.norm(adamw.params[-1] - result.ridge_minimizer) > 0.05
    np.testing.assert_allclose(result.box_minimizer, [0.25, 0.25], atol=1e-12)
    assert np.max(np.abs(adamw.params[-1])) <= 1 / decay + 1e-3
    # ... and reaches it as the learning rate goes to zero (Xie & Li 2024); a lean objective keeps the
    # 15,000 steps quick.
    adamw = optimizers.get("adamw", lr=1e-3, weight_decay=decay)
    slow = run(_LeastSquares(d.X, d.y), adamw, [-1.0, 1.0], 15_000)
    assert np.linalg.norm(slow.params[-1] - result.box_minimizer) < 1e-3
    assert result.labels == regpath.DECAY_LABELS
    assert [o.name for o in result.optimizers] == ["sgd", "adam", "adamw"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda X, y: regpath.regularized_minimizer(X, y, "l3", 1.0), ValueError,
         "unknown penalty 'l3'.*l1, l2"),
        (lambda X, y: regpath.regularized_minimizer(X, y, "elastic_net", 1.0, l1_ratio=1.5), ValueError,
         r"l1_ratio must be in \[0, 1\], got 1.5"),
        (lambda X, y: regpath.regularized_minimizer(X, y, "l1", -0.1), ValueError,
         "strengths must be >= 0, got -0.1"),
        (lambda X, y: regpath.regularized_minimizer(X, y, "l1", [[1.0]]), ValueError,
         "strengths must be a number"),
        (lambda X, y: regpath.regularization_path(X, y, "l1", [0.0, 1.0, 0.5]), ValueError,
         "strictly increasing"),
        (lambda X, y: regpath.regularized_minimizer(X, y[:-1], "l1", 1.0), ValueError,
         "X has 40 rows, y has 39"),
        (lambda X, y: regpath.regularized_minimizer(X[:, 0], y, "l1", 1.0), ValueError,
         "X must have 2 dimension"),
        (lambda X, y: regpath.regularized_minimizer(X, y, "l1", 1.0, fit_intercept=1), TypeError,
         "fit_intercept must be True or False, got 1"),
        (lambda X, y: regpath.box_constrained_minimizer(X, y, 0.0), ValueError,
         r"bound must be in \(0, inf\)"),
        (lambda X, y: regpath.weight_decay_comparison(X, y, -1.0), ValueError, "weight_decay must be in"),
        (lambda X, y: regpath.weight_decay_comparison(X, y, 1.0, lr=0.0), ValueError,
         r"lr must be in \(0, inf\)"),
        (lambda X, y: regpath.weight_decay_comparison(X, y, 1.0, x0=[1.0]), ValueError,
         r"x0 must have shape \(2,\), one entry per weight, got shape \(1,\)"),
        (lambda X, y: regpath.sklearn_equivalent("l1", 1.0, 0), ValueError,
         "n_samples must be an integer in"),
        (lambda X, y: regpath.sklearn_equivalent("l2", -1.0, 10), ValueError,
         r"strength must be in \[0, inf\)"),
        (lambda X, y: regpath.regularized_minimizer(X[:0], y[:0], "l1", 1.0), ValueError,
         r"X must have at least 1 row and 1 column, got shape \(0, 2\)"),
        (lambda X, y: regpath.regularized_minimizer(X, y[:, None], "l1", 1.0), ValueError,
         "y must have 1 dimension"),
        (lambda X, y: regpath.all_zero_strength(X, y, l1_ratio=2.0), ValueError,
         r"l1_ratio must be in \[0, 1\]"),
        (lambda X, y: regpath.weight_decay_comparison(X, y, 1.0, sgd_lr=0.0), ValueError,
         r"sgd_lr must be in \(0, inf\)"),
        (lambda X, y: regpath.regularization_path(X, y, "l1", [0.0, 1.0]).to_frame(("a",)), ValueError,
         r"feature_names must have one name per weight \(2\), got 1"),
    ],
)
def test_validation_messages_name_the_parameter(call, error, match):
    X, y = _data(0)
    with pytest.raises(error, match=match):
        call(X, y)


def test_view_grids_follow_the_convention_and_add_up():
    d = regpath.load_data(("bmi", "bp"))
    xs, ys = np.linspace(-0.5, 1.0, 7), np.linspace(-0.4, 0.6, 5)  # non-square on purpose
    view = regpath.regularization_view(d.X, d.y, "elastic_net", 0.7, l1_ratio=0.3, xs=xs, ys=ys)
    assert view.data_Z.shape == view.penalty_Z.shape == view.total_Z.shape == (5, 7)
    i, j = 3, 5
    w = np.array([xs[j], ys[i]])
    assert view.data_Z[i, j] == pytest.approx(np.mean((d.X @ w - d.y) ** 2), rel=1e-12)
    assert view.penalty_Z[i, j] == pytest.approx(0.3 * np.abs(w).sum() + 0.35 * (w @ w), rel=1e-12)
    np.testing.assert_allclose(view.total_Z, view.data_Z + 0.7 * view.penalty_Z, rtol=1e-12)
    m = view.minimizer
    assert view.data_level == pytest.approx(np.mean((d.X @ m - d.y) ** 2), rel=1e-12)
    assert view.penalty_level == pytest.approx(0.3 * np.abs(m).sum() + 0.35 * (m @ m), rel=1e-12)
    assert set(view.paths) == set(regpath.PENALTIES) and view.paths["elastic_net"].l1_ratio == 0.3
    np.testing.assert_allclose(view.ols, np.linalg.lstsq(d.X, d.y, rcond=None)[0], rtol=1e-10)
    assert view.sklearn == ("ElasticNet", {"alpha": 0.35, "l1_ratio": 0.3})
    with pytest.raises(ValueError, match=r"X must have 2 columns \(two weights to draw\), got shape"):
        regpath.regularization_view(d.X[:, :1], d.y, "l1", 0.5, xs=xs, ys=ys)
    with pytest.raises(ValueError, match=r"features must name exactly 2 features \(two weights\), got 3"):
        regpath.load_data(("bmi", "bp", "s5"))


def test_distances_measure_every_run_to_either_target():
    d = regpath.load_data(("bmi", "bp"))
    result = regpath.weight_decay_comparison(d.X, d.y, 2.0, lr=0.05, steps=20, x0=[0.0, 0.0])
    for t, distance in zip(result.trajectories, result.distances("box")):
        np.testing.assert_allclose(distance, np.sqrt(((t.params - result.box_minimizer) ** 2).sum(axis=1)))
    with pytest.raises(ValueError, match="unknown target 'ols'; valid names: ridge, box"):
        result.distances("ols")


def test_scenario_claims_hold():
    def minimizer(sc, penalty=None, strength=None):
        d = regpath.load_data(sc.features)
        return regpath.regularized_minimizer(d.X, d.y, penalty or sc.penalty, sc.strength if strength is None
                                             else strength, l1_ratio=sc.l1_ratio)[0]

    def knots(sc, penalty=None):
        d = regpath.load_data(sc.features)
        return regpath.regularization_path(d.X, d.y, penalty or sc.penalty, regpath.PATH_STRENGTHS,
                                           l1_ratio=sc.l1_ratio).zero_from

    sc = regpath.SCENARIOS["lasso_zeros"]
    w = minimizer(sc)
    assert w[1] == 0.0 and round(w[0], 2) == 0.19 and round(knots(sc)[1], 2) == 0.69
    sc = regpath.SCENARIOS["ridge_shrinks"]
    w, ols = minimizer(sc), minimizer(sc, strength=0.0)
    assert np.all(w != 0) and np.allclose(np.round(w / ols, 2), [0.53, 0.68])
    sc = regpath.SCENARIOS["correlated_pair"]
    d = regpath.load_data(sc.features)
    assert round(np.corrcoef(d.X.T)[0, 1], 2) == 0.62
    w = minimizer(sc)
    assert w[0] == 0.0 and w[1] > 0 and round(knots(sc)[0], 2) == 0.42
    assert np.all(np.isinf(knots(sc, "l2")))
    sc = regpath.SCENARIOS["elastic_net"]
    w = minimizer(sc)
    assert w[0] == 0.0 and w[1] > 0 and round(knots(sc)[0], 2) == 1.24
    sc = regpath.SCENARIOS["adamw_box"]
    d = regpath.load_data(sc.features)
    result = regpath.weight_decay_comparison(d.X, d.y, sc.weight_decay, lr=sc.lr, steps=sc.steps, x0=sc.start)
    assert np.allclose(result.ridge_minimizer, [0.18, 0.12], atol=0.005)
    for t in result.trajectories[:2]:
        np.testing.assert_allclose(t.params[-1], result.ridge_minimizer, atol=1e-8)
    # "after 1500 steps it is at (0.23, 0.24), still closing in on (0.25, 0.25)"
    assert np.allclose(result.trajectories[2].params[-1], [0.23, 0.24], atol=0.005)
    to_box = result.distances("box")[2]
    assert np.all(np.diff(to_box[sc.steps // 2:]) < 0) and to_box[-1] > 0.02
    np.testing.assert_allclose(result.box_minimizer, [0.25, 0.25])


def test_torch_script_reproduces_the_three_runs_without_lossviz(tmp_path):
    """One self-contained script (data inline, no lossviz import) prints each run's final weights and loss."""
    features, start, steps = ("bmi", "bp"), [-1.0, 1.0], 60
    d = regpath.load_data(features)
    result = regpath.weight_decay_comparison(d.X, d.y, 3.0, lr=0.05, sgd_lr=0.05, steps=steps, x0=start)
    code = regpath.torch_script(d.X, d.y, features, result, steps=steps)
    assert "lossviz" not in code.replace("# Generated by lossviz", "")
    printed = run_script(code, tmp_path, "decay.py")
    assert [p["optimizer"] for p in printed] == list(result.labels)
    for got, t in zip(printed, result.trajectories):
        np.testing.assert_allclose(list(got["weights"].values()), t.params[-1], rtol=1e-10, atol=1e-13)
        assert list(got["weights"]) == list(features)
        assert got["mse"] == pytest.approx(t.loss[-1], rel=1e-10)


@pytest.mark.parametrize(("penalty", "strength"),
                         [("l1", 0.8), ("l2", 2.0), ("elastic_net", 1.5), ("l1", 0.0)])
def test_sklearn_script_prints_the_minimizer(tmp_path, penalty, strength):
    d = regpath.load_data(("s4", "s5"))
    code = regpath.sklearn_script(d.X, d.y, ("s4", "s5"), penalty, strength, l1_ratio=0.3)
    (printed,) = run_script(code, tmp_path, "minimizer.py")
    expected, _ = regpath.regularized_minimizer(d.X, d.y, penalty, strength, l1_ratio=0.3)
    np.testing.assert_allclose([printed["s4"], printed["s5"]], expected, atol=1e-6)


def _sklearn_objective(name, params, X, y, w):
    """scikit-learn's documented objectives (User Guide, linear models) at weights w."""
    n, residual = len(y), X @ w - y
    if name == "Ridge":
        return residual @ residual + params["alpha"] * (w @ w)
    rho = params.get("l1_ratio", 1.0)
    return (residual @ residual / (2 * n) + params["alpha"] * rho * np.abs(w).sum()
            + params["alpha"] * (1 - rho) / 2 * (w @ w))


@pytest.mark.parametrize("penalty", regpath.PENALTIES)
def test_every_stated_sklearn_conversion_holds(penalty):
    """The call the page prints, fitted as printed, lands on the page's minimizer (1e-6), and the stated
    ratio of the objectives is the ratio at every point (issue 13: Ridge's is n, not n/2)."""
    d = regpath.load_data(("bmi", "bp"))
    X, y, strength = np.asarray(d.X), np.asarray(d.y), 0.8
    caption = regpath.sklearn_caption(penalty, strength, len(y), l1_ratio=0.3)
    call = re.search(r"`((\w+)\((.*)\))`", caption)
    name, args = call.group(2), eval(f"dict({call.group(3)})")  # the printed parameters, as printed
    extra = {} if name == "Ridge" else {"tol": 1e-14, "max_iter": 1_000_000}
    coef = SKLEARN[name](**args, **extra).fit(X, y).coef_
    np.testing.assert_allclose(coef, regpath.regularized_minimizer(X, y, penalty, strength, l1_ratio=0.3)[0],
                               atol=1e-6)
    stated = float(re.search(r"objective is ([\d.]+) × this page's", caption).group(1))
    params = {k: v for k, v in args.items() if k != "fit_intercept"}
    model = models.linear_regression(X, y, fit_intercept=False)
    mix = {"l1_ratio": 0.3} if penalty == "elastic_net" else {}
    ours = regularizers.get(penalty, model, strength=strength, **mix)
    for w in np.random.default_rng(0).normal(size=(5, 2)):
        theirs = _sklearn_objective(name, params, X, y, w)
        assert theirs == pytest.approx(stated * float(ours.f(w)), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(penalty=st.sampled_from(regpath.PENALTIES), level=st.floats(1e-4, 10.0), rho=st.floats(0.0, 1.0))
def test_penalty_curve_is_the_level_set(penalty, level, rho):
    points = regpath.penalty_curve(penalty, level, l1_ratio=rho)
    r = {"l1": 1.0, "l2": 0.0}.get(penalty, rho)
    values = r * np.abs(points).sum(axis=1) + (1 - r) / 2 * (points**2).sum(axis=1)
    np.testing.assert_allclose(values, level, rtol=1e-12)
    np.testing.assert_allclose(points[0], points[-1], atol=1e-12)


def test_the_l1_level_set_has_its_corners_on_the_axes():
    points = regpath.penalty_curve("l1", 0.5)
    quarter = (len(points) - 1) // 4
    corners = [[0.5, 0], [0, 0.5], [-0.5, 0], [0, -0.5], [0.5, 0]]
    np.testing.assert_allclose(points[::quarter], corners, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), excess=st.floats(1e-3, 5.0))
def test_data_curve_is_the_level_set_of_the_mean_squared_error(seed, excess):
    X, y = _data(seed)
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    level = np.mean((X @ ols - y) ** 2) + excess
    points = regpath.data_curve(X, y, level)
    np.testing.assert_allclose(np.mean((points @ X.T - y) ** 2, axis=1), level, rtol=1e-10)


def test_strength_frames_are_the_minimizers_and_their_touching_level_sets():
    d = regpath.load_data(("bmi", "bp"))
    X, y = np.asarray(d.X), np.asarray(d.y)
    grid, active = regpath.scrub_strengths(0.8)
    assert grid[active] == 0.8 and np.all(np.diff(grid) > 0) and grid[0] == 0.0
    for penalty, rho in (("l1", 1.0), ("l2", 0.0), ("elastic_net", 0.4)):
        frames = regpath.strength_frames(X, y, penalty, grid, l1_ratio=rho)
        for k, strength in enumerate(grid):
            expected, _ = regpath.regularized_minimizer(X, y, penalty, strength, l1_ratio=rho)
            np.testing.assert_allclose(frames.minimizers[k], expected, atol=1e-12)
            if strength == 0 or not np.any(expected):
                assert np.all(np.isnan(frames.penalty_curves[k])) and np.all(np.isnan(frames.data_curves[k]))
                continue
            w = frames.minimizers[k]
            unit = rho * np.abs(w).sum() + (1 - rho) / 2 * (w @ w)
            data = frames.data_curves[k]
            # Both curves pass through the minimizer, and the data-loss level set never enters the region
            # the penalty level set bounds: they touch, they do not cross.
            for curve in (frames.penalty_curves[k], data):
                assert np.min(np.linalg.norm(curve - w, axis=1)) < 1e-9
            inside = rho * np.abs(data).sum(axis=1) + (1 - rho) / 2 * (data**2).sum(axis=1)
            assert np.all(inside >= unit * (1 - 1e-3)), (penalty, strength)
            assert frames.penalty_levels[k] == pytest.approx(unit, rel=1e-12)


def _plain_and_hostile_scripts(build):
    plain = code_shape(build(("bmi", "bp")))
    for name in HOSTILE_NAMES:
        assert code_shape(build((name, "bp"))) == plain, name
        assert code_shape(build(("bmi", name))) == plain, name


def test_user_text_enters_the_scripts_only_as_string_literals_and_comments():
    d = regpath.load_data(("bmi", "bp"))
    result = regpath.weight_decay_comparison(d.X, d.y, 1.0, steps=5)
    _plain_and_hostile_scripts(lambda names: regpath.torch_script(d.X, d.y, names, result, steps=5))
    for penalty in regpath.PENALTIES:
        _plain_and_hostile_scripts(lambda names: regpath.sklearn_script(d.X, d.y, names, penalty, 0.5))


def test_scenarios_are_page_settings():
    for sc in regpath.SCENARIOS.values():
        assert sc.settings["f1"], sc.settings["f2"] == sc.features
        assert (sc.settings["strength"], sc.settings["decay"], sc.settings["steps"]) == (
            sc.strength, sc.weight_decay, sc.steps)
    assert regpath.DEFAULT_SCENARIO in regpath.SCENARIOS


def _valid(spec):
    """Plotly's own checks on a spec the page draws (the builders write plain dicts, unchecked)."""
    import plotly.graph_objects as go

    go.Figure({k: v for k, v in spec.items() if k in ("data", "layout")})
    for frame in spec.get("frames", []):
        go.Frame(frame)
    return spec


@pytest.mark.parametrize("penalty", regpath.PENALTIES)
def test_every_figure_of_the_page_is_a_valid_plotly_figure(penalty):
    from lossviz.viz import regularization as figures

    land = regpath.landscape_of(("bmi", "bp"), resolution=9)
    view = regpath.at_strength(land, penalty, 0.8)
    names = ("bmi", "bp")
    geometry = _valid(figures.geometry(view, penalty=penalty, names=names))
    assert len(geometry["lossviz_scrub"]["frames"]) == len(view.frames.strengths)
    _valid(figures.regularized(view, penalty=penalty, names=names))
    _valid(figures.path_chart(list(view.paths.values()), strength=0.8, names=names))
    result = regpath.weight_decay_comparison(land.X, land.y, 2.0, steps=30, x0=[-1.0, 1.0])
    xs, ys, Z = regpath.decay_landscape(land.X, land.y, result, resolution=9)
    _valid(figures.decay_map(xs, ys, Z, result, weight_decay=2.0, names=names))
    _valid(figures.decay_distances(result))


def test_the_decay_caption_says_which_runs_diverged_instead_of_printing_nan():
    """lr 1 and weight decay 20: SGD and AdamW blow up in a few steps. Their last points are NaN, which the
    caption used to print as "ends at (nan, nan)" with nothing saying the runs diverged."""
    from lossviz.lessons import regularization as lesson

    data = lesson.load_data(("bmi", "bp"))
    result = lesson.weight_decay_comparison(data.X, data.y, 20.0, lr=1.0, steps=300, x0=[-1.0, 1.0])
    caption = lesson.decay_caption(result)
    assert "nan" not in caption.lower()
    for label, t in zip(result.labels, result.trajectories, strict=True):
        if int(t.diverged_at) >= 0:
            assert f"**{label}** diverged at step {int(t.diverged_at)}" in caption
        else:
            assert f"**{label}** ends at ({t.params[-1][0]:.4f}, {t.params[-1][1]:.4f})" in caption
    assert any(int(t.diverged_at) >= 0 for t in result.trajectories)
    assert any(int(t.diverged_at) < 0 for t in result.trajectories)


def test_the_strength_line_passes_behind_the_zero_labels_it_crosses():
    """At λ = 0.8 the elastic net's "0 from 1.53" sits on the dashed line at λ: the line is drawn below the
    traces and each label has a white halo, so it does not strike through the numbers."""
    from lossviz.viz import regularization as figures

    land = regpath.landscape_of(("bmi", "bp"), resolution=9)
    spec = figures.path_chart(list(regpath.at_strength(land, "l1", 0.8).paths.values()), strength=0.8,
                              names=("bmi", "bp"))
    dashed = [s for s in spec["layout"]["shapes"] if s["line"].get("dash") == "dash"]
    assert len(dashed) == 3 and all(s["x0"] == 0.8 and s.get("layer") == "below" for s in dashed)
    labels = [t for t in spec["data"] if t.get("mode") == "markers+text"]
    assert labels and all("white" in t["textfont"]["shadow"] for t in labels)


def test_the_second_feature_never_repeats_the_first():
    """Every way the two weights could name one feature gives the second another one: the default pair's
    other member when it can, else the dataset's first other feature; two different features stay."""
    names = regpath.datasets.get(regpath.DATASET).feature_names
    for first in names:
        for second in names:
            other = regpath.second_feature(first, second)
            assert other in names and other != first
            if second != first:
                assert other == second
            elif first in regpath.DEFAULT_FEATURES:
                assert {first, other} == set(regpath.DEFAULT_FEATURES)
            else:
                assert other == regpath.DEFAULT_FEATURES[0]


@pytest.mark.parametrize(("features", "rho"), [
    (("bmi", "bp"), 0.5), (("s4", "s5"), 0.3), (("bmi", "bp"), 0.01), (("bmi", "bp"), 0.0)])
def test_the_knots_caption_reads_one_sentence_per_penalty(features, rho):
    """One sentence per penalty, in the path chart's order, opening with its title: each weight named once,
    with the strength it is exactly 0 from at 3 significant digits (the chart's labels), or said to stay
    non-zero; never a raw inf, a Python list or the old "from λ = bmi: 1.173 (L1 (lasso))"."""
    paths = regpath.landscape_of(features, l1_ratio=rho, resolution=3).paths
    caption = regpath.knots_caption(paths, features)
    assert "inf" not in caption and "nan" not in caption and "[" not in caption
    titles = {"l1": "L1 (lasso)", "elastic_net": f"Elastic net (ρ = {rho:g})", "l2": "L2 (ridge)"}
    starts = [caption.index(f"{titles[p]}: ") for p in ("l1", "elastic_net", "l2")]
    assert starts == sorted(starts) and starts[0] == 0
    ends = [*starts[1:], caption.index("The zeros")]
    for penalty, begin, end in zip(("l1", "elastic_net", "l2"), starts, ends):
        sentence = caption[begin:end].strip()
        assert sentence.endswith(".") and sentence.count(". ") == 0
        path = paths[penalty]
        if path.l1_ratio == 0:
            assert "no weight is ever exactly 0" in sentence
            continue
        for j, name in enumerate(features):
            knot = path.zero_from[j]
            if np.isfinite(knot):
                number = r"(\d+(?:\.\d+)?(?:e[+-]?\d+)?)"
                shown = re.search(rf"\b{name} (?:is exactly 0 )?from λ = {number}", sentence).group(1)
                assert shown == f"{knot:.3g}" and float(shown) == pytest.approx(knot, rel=5e-3)
            else:
                assert re.search(rf"\b{name}\b.* not 0 anywhere on the path \(up to λ = 30\)", sentence)
