"""lossviz.lessons.batch_size: gradient clouds against exact enumeration, the noise ball against brute-force
expectations and simulation, and the PyTorch script against torch itself."""
import itertools
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from lossviz import analysis, models, optimizers, surfaces
from lossviz.lessons import batch_size as minibatch
from lossviz.run import run
from tests.pagetest import HOSTILE_NAMES, code_shape


class _Lean:
    """Least squares with the intercept column included, implementing the data-objective protocol and
    nothing else, so long simulations stay quick."""

    def __init__(self, Z, y):
        self.Z, self.y = np.asarray(Z, float), np.asarray(y, float)
        self.dim, self.n_samples = self.Z.shape[1], self.Z.shape[0]
        self.param_names = tuple(f"p{j}" for j in range(self.dim))

    def _rows(self, batch):
        return (self.Z, self.y) if batch is None else (self.Z[batch], self.y[batch])

    def f(self, params, batch=None):
        Z, y = self._rows(batch)
        residual = np.asarray(params) @ Z.T - y
        return np.mean(residual**2, axis=-1)

    def grad(self, params, batch=None):
        Z, y = self._rows(batch)
        return 2 * (np.asarray(params) @ Z.T - y) @ Z / len(y)


def _line(n, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.7, 1.7, n)
    y = 2 * x + 1 + noise * rng.standard_normal(n)
    return np.column_stack([x, np.ones(n)]), y


def _lean(n=200, seed=0):
    Z, y = _line(n, seed)
    return _Lean(Z, y), np.linalg.lstsq(Z, y, rcond=None)[0]


# ------------------------------------------------------------------------------------------- problems
@pytest.mark.parametrize("name", list(minibatch.PROBLEMS))
def test_every_problem_builds_a_two_parameter_model_with_a_finite_minimum(name):
    objective, data = minibatch.build_problem(name)
    assert objective.dim == 2 and data.n_features == 1
    assert data.feature_names == (minibatch.PROBLEMS[name].feature,)
    w = minibatch.minimizer(objective)
    assert np.linalg.norm(objective.grad(w)) < 1e-10


def test_minimizer_is_least_squares_and_logistic_regression_without_penalty():
    objective, data = minibatch.build_problem("diabetes_bmi")
    Z = np.column_stack([data.X, np.ones(data.n_samples)])
    expected = np.linalg.lstsq(Z, data.y, rcond=None)[0]
    np.testing.assert_allclose(minibatch.minimizer(objective), expected, atol=1e-12)
    objective, data = minibatch.build_problem("breast_cancer_radius")
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(data.X, data.y)
    np.testing.assert_allclose(minibatch.minimizer(objective), [sk.coef_[0, 0], sk.intercept_[0]], atol=1e-5)


def test_minimizer_refuses_separable_classes():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    with pytest.raises(ValueError, match="no finite minimizer"):
        minibatch.minimizer(models.logistic_regression(X, np.array([0, 0, 1, 1])))


# ------------------------------------------------------------------------------ per-sample and clouds
@settings(max_examples=25, deadline=None)
@given(slope=st.floats(-3, 3), intercept=st.floats(-3, 3))
def test_per_sample_gradients_are_the_hand_formula_and_average_to_the_full_gradient(slope, intercept):
    objective, data = minibatch.build_problem("synthetic_line")
    w = np.array([slope, intercept])
    x, y = data.X[:, 0], data.y
    expected = 2 * (slope * x + intercept - y)[:, None] * np.column_stack([x, np.ones_like(x)])
    rows = minibatch.per_sample_gradients(objective, w)
    np.testing.assert_allclose(rows, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rows.mean(axis=0), objective.grad(w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5])
def test_batch_covariance_equals_exact_enumeration_of_every_batch(batch_size):
    objective = _Lean(*_line(6, seed=4))
    w = np.array([0.3, -0.2])
    g = minibatch.per_sample_gradients(objective, w)
    n = 6
    # Without replacement: every subset equally likely; with replacement: every ordered tuple.
    for sampling, batches in (("reshuffle", itertools.combinations(range(n), batch_size)),
                              ("independent", itertools.product(range(n), repeat=batch_size))):
        means = np.array([g[list(b)].mean(axis=0) for b in batches])
        centered = means - means.mean(axis=0)
        exact = centered.T @ centered / len(means)
        covariance = minibatch.batch_gradient_covariance(objective, w, batch_size, sampling)
        np.testing.assert_allclose(covariance, exact, rtol=1e-10, atol=1e-14)


def test_full_batch_of_a_reshuffled_epoch_has_no_noise():
    objective, _ = minibatch.build_problem("synthetic_line")
    assert np.all(minibatch.batch_gradient_covariance(objective, [0.0, 0.0], objective.n_samples) == 0.0)


@pytest.mark.parametrize("sampling", minibatch.SAMPLINGS)
def test_gradient_cloud_scatters_around_the_full_gradient_with_the_predicted_covariance(sampling):
    objective, _ = minibatch.build_problem("synthetic_line")
    point = np.array([0.5, -1.0])
    cloud = minibatch.gradient_cloud(objective, point, 10, n_batches=3000, seed=3, sampling=sampling)
    assert cloud.grads.shape == (3000, 2)
    np.testing.assert_allclose(cloud.full_grad, objective.grad(point))
    standard_error = np.sqrt(np.diag(cloud.predicted_covariance) / 3000)
    assert np.all(np.abs(cloud.grads.mean(axis=0) - cloud.full_grad) < 4 * standard_error)
    # A sample covariance of 3000 draws is within a few percent of the truth.
    np.testing.assert_allclose(cloud.covariance, cloud.predicted_covariance,
                               atol=0.12 * np.max(np.abs(cloud.predicted_covariance)))
    again = minibatch.gradient_cloud(objective, point, 10, n_batches=3000, seed=3, sampling=sampling)
    np.testing.assert_array_equal(again.grads, cloud.grads)
    frame = cloud.to_frame(("slope", "intercept"))
    assert list(frame.columns) == ["batch_size", "batch", "grad_slope", "grad_intercept"]
    assert len(frame) == 3000


def test_draw_batches_without_and_with_replacement():
    subsets = minibatch.draw_batches(10, 10, 50, seed=1, sampling="reshuffle")
    assert all(sorted(row) == list(range(10)) for row in subsets.tolist())
    draws = minibatch.draw_batches(10, 10, 50, seed=1, sampling="independent")
    assert any(len(set(row)) < 10 for row in draws.tolist())
    np.testing.assert_array_equal(draws, minibatch.draw_batches(10, 10, 50, seed=1, sampling="independent"))


# --------------------------------------------------------------------------------------------- runs
def test_sgd_run_samples_batches_as_documented():
    objective, w_star = _lean(50)
    start = np.array([-1.0, 2.0])
    reshuffled = minibatch.sgd_run(objective, 0.05, 8, 40, start, seed=5, sampling="reshuffle")
    direct = run(objective, optimizers.get("sgd", lr=0.05), start, 40, batch_size=8, seed=5)
    np.testing.assert_array_equal(reshuffled.params, direct.params)
    # Independent batches, written out by hand: B indices with replacement per step from one generator.
    rng, w, expected = np.random.default_rng(5), start.copy(), [start.copy()]
    for _ in range(40):
        w = w - 0.05 * objective.grad(w, batch=rng.integers(0, 50, size=8))
        expected.append(w)
    independent = minibatch.sgd_run(objective, 0.05, 8, 40, start, seed=5, sampling="independent")
    np.testing.assert_allclose(independent.params, np.array(expected), rtol=1e-14, atol=1e-15)
    full = minibatch.sgd_run(objective, 0.05, None, 40, start)
    np.testing.assert_allclose(full.params[-1], w_star + np.linalg.matrix_power(
        np.eye(2) - 0.05 * 2 * objective.Z.T @ objective.Z / 50, 40) @ (start - w_star), atol=1e-12)


# -------------------------------------------------------------------------------------------- theory
def _brute_force_second_moment(objective, w_star, lr, batch_size, iterations=20_000):
    """Iterate S <- E[(I - lr H_B) S (I - lr H_B)^T] + lr^2 E[g_B g_B^T] over every ordered batch."""
    n = objective.n_samples
    Z = objective.Z
    H_i = 2 * Z[:, :, None] * Z[:, None, :]
    g_i = minibatch.per_sample_gradients(objective, w_star)
    tuples = list(itertools.product(range(n), repeat=batch_size))
    M = np.array([np.eye(2) - lr * H_i[list(t)].mean(axis=0) for t in tuples])
    G = np.array([g_i[list(t)].mean(axis=0) for t in tuples])
    noise = lr**2 * np.einsum("ti,tj->ij", G, G) / len(tuples)
    S = np.zeros((2, 2))
    for _ in range(iterations):
        S_next = np.einsum("tij,jk,tlk->il", M, S, M) / len(tuples) + noise
        if np.max(np.abs(S_next - S)) < 1e-18:
            break
        S = S_next
    return S_next


@pytest.mark.parametrize(("lr", "batch_size"), [(0.05, 1), (0.2, 1), (0.1, 2), (0.3, 3)])
def test_stationary_covariance_equals_the_brute_force_expectation(lr, batch_size):
    objective = _Lean(*_line(5, seed=2))
    w_star = np.linalg.lstsq(objective.Z, objective.y, rcond=None)[0]
    np.testing.assert_allclose(minibatch.stationary_covariance(objective, w_star, lr, batch_size),
                               _brute_force_second_moment(objective, w_star, lr, batch_size), rtol=1e-6)


def test_first_order_covariance_scales_exactly_like_lr_over_batch_size():
    objective, w_star = _lean(100)
    base = minibatch.stationary_covariance(objective, w_star, 0.01, 2, first_order=True)
    H = 2 * objective.Z.T @ objective.Z / 100
    sigma = np.cov(minibatch.per_sample_gradients(objective, w_star).T, ddof=0)
    np.testing.assert_allclose(H @ base + base @ H, 0.01 / 2 * sigma, rtol=1e-9)
    for lr, batch_size in ((0.02, 4), (0.05, 10), (0.005, 1)):
        scaled = minibatch.stationary_covariance(objective, w_star, lr, batch_size, first_order=True)
        np.testing.assert_allclose(scaled, base * (lr / batch_size) / (0.01 / 2), rtol=1e-10)
    # The exact answer approaches the first-order one as the learning rate goes to zero.
    for lr in (1e-2, 1e-3, 1e-4):
        exact = minibatch.stationary_covariance(objective, w_star, lr, 3)
        first = minibatch.stationary_covariance(objective, w_star, lr, 3, first_order=True)
        assert np.max(np.abs(exact / first - 1)) < 3 * lr


def test_stationary_covariance_is_infinite_when_sgd_is_unstable_in_mean_square():
    objective, w_star = _lean(100)
    lam_max = np.max(np.linalg.eigvalsh(2 * objective.Z.T @ objective.Z / 100))
    assert np.all(np.isinf(minibatch.stationary_covariance(objective, w_star, 2.5 / lam_max, 4)))
    assert np.all(np.isfinite(minibatch.stationary_covariance(objective, w_star, 0.5 / lam_max, 4)))


def test_measured_noise_ball_matches_the_theory_and_the_linear_scaling_rule():
    objective, w_star = _lean(400, seed=1)
    lrs = np.array([0.025, 0.05])
    balls = {b: minibatch.noise_balls(objective, w_star, lrs, b, steps=15_000, burn_in=300, seed=2,
                                      sampling="independent") for b in (2, 4, 8)}
    for per_lr in balls.values():
        for ball in per_lr:
            assert not ball.diverged
            np.testing.assert_allclose(np.diag(ball.second_moment), np.diag(ball.predicted), rtol=0.12)
            assert ball.excess_loss == pytest.approx(ball.predicted_excess_loss, rel=0.12)
    excess = {(b, ball.lr): ball.excess_loss for b, per_lr in balls.items() for ball in per_lr}
    # Doubling both lr and B keeps the ball; doubling B alone halves it, to within sampling error.
    assert excess[(4, 0.05)] / excess[(2, 0.025)] == pytest.approx(1.0, abs=0.15)
    assert excess[(8, 0.05)] / excess[(4, 0.05)] == pytest.approx(0.5, abs=0.08)


def test_reshuffled_epochs_shrink_the_ball_when_an_epoch_is_shorter_than_the_relaxation_time():
    objective, w_star = _lean(400, seed=1)
    short_epochs = minibatch.noise_balls(objective, w_star, [0.01], 50, steps=8000, sampling="reshuffle")[0]
    assert short_epochs.excess_loss < 0.3 * short_epochs.predicted_excess_loss
    long_epochs = minibatch.noise_balls(objective, w_star, [0.1], 1, steps=8000, sampling="reshuffle")[0]
    assert long_epochs.excess_loss == pytest.approx(long_epochs.predicted_excess_loss, rel=0.2)


def test_noise_ball_sweep_table():
    objective, w_star = _lean(100)
    frame = minibatch.noise_ball_sweep(objective, w_star, [0.01, 0.02], [1, 4], steps=200, burn_in=10)
    assert list(frame.columns) == ["batch_size", "lr", "lr_over_batch", "excess_loss",
                                   "predicted_excess_loss", "spread", "predicted_spread", "diverged"]
    assert len(frame) == 4
    np.testing.assert_allclose(frame["lr_over_batch"], frame["lr"] / frame["batch_size"])


def test_a_diverging_lr_is_reported_not_averaged():
    objective, w_star = _lean(100)
    ball = minibatch.noise_balls(objective, w_star, [5.0], 4, steps=100, burn_in=0)[0]
    assert ball.diverged and np.isnan(ball.excess_loss) and np.isinf(ball.predicted_excess_loss)


# ------------------------------------------------------------------------------------------- sweeps
@pytest.mark.parametrize("problem", list(minibatch.PROBLEMS))
@pytest.mark.parametrize("sampling", minibatch.SAMPLINGS)
def test_a_sweep_runs_every_batch_size_as_its_own_sgd_run(problem, sampling):
    """Same batches, same arithmetic up to rounding: the scrubber's frames are the page's exact paths."""
    objective, _ = minibatch.build_problem(problem)
    sizes = [*minibatch.BATCH_OPTIONS, None]
    lr = minibatch.PROBLEMS[problem].lr
    sweep = minibatch.sgd_sweep(objective, lr, sizes, 150, [-1.0, 1.5], seed=4, sampling=sampling)
    for r, size in enumerate(sizes):
        alone = minibatch.sgd_run(objective, lr, size, 150, [-1.0, 1.5], seed=4, sampling=sampling)
        np.testing.assert_allclose(sweep.params[r], alone.params, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(sweep.loss[r], alone.loss, rtol=1e-12)


def test_a_sweep_asks_any_other_data_objective_run_by_run():
    objective, _ = _lean(60)
    sweep = minibatch.sgd_sweep(objective, np.array([0.05, 0.1, 0.05]), [4, 4, None], 30, [0.5, -1.0], seed=2,
                                sampling="independent")
    for r, (lr, size) in enumerate(((0.05, 4), (0.1, 4), (0.05, None))):
        alone = minibatch.sgd_run(objective, lr, size, 30, [0.5, -1.0], seed=2, sampling="independent")
        np.testing.assert_array_equal(sweep.params[r], alone.params)


def test_a_diverging_run_of_a_sweep_stops_alone():
    objective, _ = minibatch.build_problem("diabetes_bmi")
    sweep = minibatch.sgd_sweep(objective, np.array([0.05, 3.0]), [8, 8], 300, [-1.0, 1.5])
    assert sweep.diverged_at[0] == -1 and sweep.diverged_at[1] > 0
    assert np.all(np.isfinite(sweep.params[0]))


def test_gradient_clouds_are_means_of_the_batches_gradients():
    objective, _ = minibatch.build_problem("breast_cancer_radius")
    point = np.array([0.5, 2.5])
    for sampling in minibatch.SAMPLINGS:
        clouds = minibatch.gradient_clouds(objective, point, [1, 16], n_batches=40, seed=6, sampling=sampling)
        for cloud, size in zip(clouds, (1, 16)):
            batches = minibatch.draw_batches(objective.n_samples, size, 40, 6, sampling)
            direct = np.array([objective.grad(point, batch=b) for b in batches])
            np.testing.assert_allclose(cloud.grads, direct, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(cloud.predicted_covariance,
                                       minibatch.batch_gradient_covariance(objective, point, size, sampling),
                                       rtol=1e-12)


def test_a_noise_ball_grid_is_the_noise_balls_of_each_batch_size():
    objective, w_star = _lean(80)
    grid = minibatch.noise_ball_grid(objective, w_star, [0.01, 0.03], [2, 8], steps=200, burn_in=20, seed=1)
    assert [(b.batch_size, b.lr) for b in grid] == [(2, 0.01), (2, 0.03), (8, 0.01), (8, 0.03)]
    for size in (2, 8):
        alone = minibatch.noise_balls(objective, w_star, [0.01, 0.03], size, steps=200, burn_in=20, seed=1)
        for a, b in zip(alone, [b for b in grid if b.batch_size == size]):
            np.testing.assert_array_equal(a.samples, b.samples)
            assert a.excess_loss == b.excess_loss


def test_the_work_estimate_grows_with_the_settings_and_errs_high():
    assert minibatch.work_seconds("diabetes_bmi", 2000, 4) > minibatch.work_seconds("diabetes_bmi", 200, 4)
    heavy, light = (minibatch.work_seconds("breast_cancer_radius", 200, n) for n in (4, 1))
    assert heavy > light
    objective, _ = minibatch.build_problem("synthetic_line")
    cpu = time.process_time()
    minibatch.sgd_sweep(objective, 0.05, [*minibatch.BATCH_OPTIONS, None], 400, [0.0, 0.0])
    minibatch.noise_ball_grid(objective, minibatch.minimizer(objective), [0.01, 0.02, 0.05, 0.1], [1],
                              steps=minibatch.BALL_STEPS, burn_in=minibatch.BALL_BURN_IN)
    measured = time.process_time() - cpu
    assert minibatch.work_seconds("synthetic_line", 400, 1) > 0.5 * measured  # an estimate, with headroom


# ------------------------------------------------------------------------------------------- torch
def test_torch_script_lands_on_every_batch_sizes_final_parameters(tmp_path):
    """One self-contained script (no lossviz import) per page, every batch size, the very same batches."""
    cases = [("synthetic_line", (8, 1, None), "reshuffle"), ("breast_cancer_radius", (4, 64), "independent"),
             ("diabetes_bmi", (None, 128, 2), "independent")]
    for index, (problem, sizes, sampling) in enumerate(cases):
        objective, _ = minibatch.build_problem(problem)
        lr = 0.5 if problem == "breast_cancer_radius" else 0.05
        script = minibatch.torch_script(problem, lr, sizes, steps=30, x0=[-1.0, 2.0], seed=3,
                                        sampling=sampling)
        assert "lossviz" not in script.replace("# Generated by lossviz", "")
        path = tmp_path / f"minibatch_{index}.py"
        path.write_text(script)
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                              cwd=tmp_path, env={**os.environ, "PYTHONPATH": ""})
        assert done.returncode == 0, done.stderr[-3000:]
        printed = [json.loads(line) for line in done.stdout.strip().splitlines()]
        assert [p["batch_size"] for p in printed] == list(sizes)
        expected = minibatch.sgd_sweep(objective, lr, sizes, 30, [-1.0, 2.0], seed=3, sampling=sampling)
        for got, params, loss in zip(printed, expected.params, expected.loss):
            assert list(got["params"]) == list(objective.param_names)
            np.testing.assert_allclose(list(got["params"].values()), params[-1], rtol=1e-10, atol=1e-12)
            assert got["loss"] == pytest.approx(loss[-1], rel=1e-10)
        assert "torch.optim.SGD" in script


def test_user_text_enters_the_script_only_as_string_literals_and_comments():
    for sampling in minibatch.SAMPLINGS:
        def build(names):
            return minibatch.torch_script("diabetes_bmi", 0.05, [1, None], steps=5, x0=[0.0, 0.0],
                                          sampling=sampling, names=names)

        plain = code_shape(build(("slope", "intercept")))
        for name in HOSTILE_NAMES:
            assert code_shape(build((name, "intercept"))) == plain, name


def test_scenarios_are_page_settings():
    for sc in minibatch.SCENARIOS.values():
        assert sc.settings["batches"] == list(sc.batch_sizes) and sc.settings["lr"] == sc.lr
        assert (sc.settings["x0"], sc.settings["y0"]) == minibatch.PROBLEMS[sc.problem].start
        assert set(sc.batch_sizes) <= set(minibatch.BATCH_OPTIONS)
        assert len(sc.batch_sizes) <= minibatch.MAX_BATCH_SIZES
    assert minibatch.DEFAULT_SCENARIO in minibatch.SCENARIOS


# --------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda o, w: minibatch.build_problem("mnist"), ValueError,
         "unknown problem 'mnist'; valid names: diabetes"),
        (lambda o, w: minibatch.gradient_cloud(o, w, 0), ValueError,
         r"batch_size must be an integer in \[1, 100\]"),
        (lambda o, w: minibatch.gradient_cloud(o, w, 4, n_batches=1), ValueError,
         r"n_batches must be an integer in \[2"),
        (lambda o, w: minibatch.gradient_cloud(o, w, 4, sampling="poisson"), ValueError,
         "unknown sampling 'poisson'; valid names: reshuffle, independent"),
        (lambda o, w: minibatch.gradient_cloud(o, [1.0, 2.0, 3.0], 4), ValueError,
         r"point must have shape \(2,\), one entry per parameter, got shape \(3,\)"),
        (lambda o, w: minibatch.per_sample_gradients(object(), w), TypeError, "objective must have f"),
        (lambda o, w: minibatch.per_sample_gradients(surfaces.get("rosenbrock"), w), TypeError,
         "objective must be a data objective with n_samples and batch=, got Surface"),
        (lambda o, w: minibatch.stationary_covariance(o, w, 0.0, 4), ValueError, r"lr must be in \(0, inf\)"),
        (lambda o, w: minibatch.stationary_covariance(o, w, 0.1, 4, first_order="yes"), TypeError,
         "first_order must be True or False"),
        (lambda o, w: minibatch.noise_balls(o, w, [0.1, -0.1], 4), ValueError,
         r"lrs must be a 1-D array of learning rates > 0, got \[0.1, -0.1\]"),
        (lambda o, w: minibatch.noise_ball_sweep(o, w, [0.1], [1.5]), TypeError,
         "batch_sizes must be a 1-D array of integers"),
        (lambda o, w: minibatch.torch_script("synthetic_line", 0.1, [10_000], steps=5, x0=w),
         ValueError, r"batch_size must be an integer in \[1, 200\]"),
        (lambda o, w: minibatch.IndependentBatches(o, 4, seed=-1), ValueError,
         r"seed must be an integer in \[0, inf\)"),
        (lambda o, w: minibatch.minimizer(o, start=[1.0]), ValueError,
         r"start must have shape \(2,\), one entry per parameter, got shape \(1,\)"),
        (lambda o, w: minibatch.draw_batches(10, 2, 5, seed=-3), ValueError,
         r"seed must be an integer in \[0, inf\)"),
        (lambda o, w: minibatch.draw_batches(10, 11, 5), ValueError,
         r"batch_size must be an integer in \[1, 10\]"),
        (lambda o, w: minibatch.stationary_covariance(o, w, 0.1, 0), ValueError,
         r"batch_size must be an integer in \[1, 100\]"),
        (lambda o, w: minibatch.noise_balls(o, w, [0.1], 4, steps=1), ValueError,
         r"steps must be an integer in \[2, 100000\]"),
        (lambda o, w: minibatch.noise_balls(o, w, [0.1], 4, burn_in=-1), ValueError,
         r"burn_in must be an integer in \[0, 100000\]"),
        (lambda o, w: minibatch.torch_script("synthetic_line", 0.1, [None], steps=-1, x0=w), ValueError,
         r"steps must be an integer in \[0, inf\)"),
        (lambda o, w: minibatch.torch_script("synthetic_line", 0.1, [1], steps=5, x0=w, sampling="bootstrap"),
         ValueError, "unknown sampling 'bootstrap'"),
        (lambda o, w: minibatch.BatchSweep(o, [], steps=5), ValueError, "batch_sizes must hold at least one"),
        (lambda o, w: minibatch.BatchSweep(o, [0], steps=5), ValueError,
         r"batch_size must be an integer in \[1, 100\]"),
        (lambda o, w: minibatch.BatchSweep(o, [1, 2], steps=5).grad(np.zeros((3, 2))), ValueError,
         r"params must have shape \(2, 2\), one row per batch size"),
        (lambda o, w: minibatch.gradient_clouds(o, w, [1, 101]), ValueError,
         r"batch_size must be an integer in \[1, 100\]"),
    ],
)
def test_validation_messages_name_the_parameter(call, error, match):
    objective, w_star = _lean(100)
    with pytest.raises(error, match=match):
        call(objective, w_star)


# ---------------------------------------------------------------------------------------- scenarios
def test_scenario_claims_hold():
    objective, _ = minibatch.build_problem("diabetes_bmi")
    w_star = minibatch.minimizer(objective)
    start = minibatch.PROBLEMS["diabetes_bmi"].start

    sc = minibatch.SCENARIOS["small_vs_large"]
    gd = minibatch.sgd_run(objective, sc.lr, None, sc.steps, start)
    spread = {b: np.max(np.linalg.norm(minibatch.sgd_run(objective, sc.lr, b, sc.steps, start, seed=sc.seed,
                                                          sampling=sc.sampling).params - gd.params, axis=1))
              for b in (1, 64)}
    assert spread[64] < spread[1] / 3
    areas = {b: np.sqrt(np.linalg.det(minibatch.stationary_covariance(objective, w_star, sc.lr, b)))
             for b in (1, 64)}
    assert areas[1] / areas[64] == pytest.approx(64, rel=0.15)

    sc = minibatch.SCENARIOS["linear_scaling"]
    # The page's measurement: four learning rates per batch size, 1,500 steps after 300.
    rates = np.array([0.25, 0.5, 1.0, 2.0]) * sc.lr
    frame = minibatch.noise_ball_sweep(objective, w_star, rates, sc.batch_sizes, steps=1500, burn_in=300,
                                       seed=sc.seed, sampling=sc.sampling)
    excess = frame.set_index(["batch_size", "lr"])["excess_loss"]
    assert excess[(16, sc.lr)] / excess[(4, sc.lr / 4)] == pytest.approx(1.0, abs=0.3)
    assert excess[(64, sc.lr)] / excess[(16, sc.lr / 4)] == pytest.approx(1.0, abs=0.3)

    sc = minibatch.SCENARIOS["small_batch_unstable"]
    words = sc.explanation
    lam_max = np.max(np.linalg.eigvalsh(analysis.hessian(objective, w_star)))
    assert 2 / lam_max == pytest.approx(1.0, rel=1e-6) and "up to lr = 1 (2/λ_max)" in words
    # "at lr = 0.7 batches of 16 and 64 are too: they settle into noise balls of the size the theory
    # predicts": finite theory, runs that end near the minimum, balls measured within 15% of it.
    small, *large = sc.batch_sizes
    assert f"at lr = {sc.lr:g} batches of {large[0]} and {large[1]} are too" in words and small == 1
    runs = {b: minibatch.sgd_run(objective, sc.lr, b, sc.steps, start, seed=sc.seed, sampling=sc.sampling)
            for b in [*sc.batch_sizes, None]}
    balls = {ball.batch_size: ball for ball in minibatch.noise_ball_grid(
        objective, w_star, [sc.lr], sc.batch_sizes, steps=minibatch.BALL_STEPS,
        burn_in=minibatch.BALL_BURN_IN, seed=sc.seed, sampling=sc.sampling)}
    f_star = float(objective.f(w_star))
    for b in [*large, None]:
        assert runs[b].diverged_at < 0 and runs[b].loss[-1] - f_star < 0.05 * (runs[b].loss[0] - f_star)
    for b in large:
        assert np.all(np.isfinite(minibatch.stationary_covariance(objective, w_star, sc.lr, b)))
        assert balls[b].excess_loss == pytest.approx(balls[b].predicted_excess_loss, rel=0.15)
    # "from lr ≈ 0.26 on the theory gives its noise ball no finite size": where the theory's second moment
    # stops being finite for B = 1, located by bisection.
    low, high = 1e-3, sc.lr
    assert np.all(np.isinf(minibatch.stationary_covariance(objective, w_star, high, small)))
    for _ in range(40):
        middle = 0.5 * (low + high)
        finite = np.all(np.isfinite(minibatch.stationary_covariance(objective, w_star, middle, small)))
        low, high = (middle, high) if finite else (low, middle)
    assert f"from lr ≈ {high:.2f} on" in words
    # "its loss shoots up from where it started until the run diverges, at step 59"
    diverged = runs[small].diverged_at
    assert diverged >= 0 and f"until the run diverges, at step {diverged}." in words and balls[small].diverged
    assert np.nanmax(runs[small].loss) > 1e6 * runs[small].loss[0]

    sc = minibatch.SCENARIOS["reshuffling"]
    ratio = {b: (lambda ball: ball.excess_loss / ball.predicted_excess_loss)(minibatch.noise_balls(
        objective, w_star, [sc.lr], b, steps=1500, burn_in=300, seed=sc.seed, sampling=sc.sampling)[0])
        for b in sc.batch_sizes}
    assert ratio[64] < 0.1 and 0.1 < ratio[16] < 0.35 and ratio[1] > 0.45

    sc = minibatch.SCENARIOS["logistic"]
    objective, _ = minibatch.build_problem(sc.problem)
    w_star = minibatch.minimizer(objective)
    values, vectors = np.linalg.eigh(analysis.hessian(objective, w_star))
    assert round(values[1] / values[0], 1) == 5.5 and abs(vectors[0, 0]) > 0.99  # flat along the slope
    start = minibatch.PROBLEMS[sc.problem].start
    final = [minibatch.sgd_run(objective, sc.lr, b, sc.steps, start, seed=sc.seed,
                               sampling=sc.sampling).loss[-1] for b in sc.batch_sizes]
    assert final[0] > final[1] > final[2]


@pytest.mark.parametrize("sampling", minibatch.SAMPLINGS)
def test_every_figure_of_the_page_is_a_valid_plotly_figure(sampling):
    import plotly.graph_objects as go

    from lossviz.viz import batch_size as figures

    def valid(spec):
        go.Figure({k: v for k, v in spec.items() if k in ("data", "layout")})
        for frame in spec.get("frames", []):
            go.Frame(frame)
        return spec

    solved = minibatch.solve("breast_cancer_radius")
    sizes, names = (1, 64), ("w1", "b")
    colors = figures.batch_colors(sizes)
    view = minibatch.paths_view(solved.objective, solved.minimum, 2.0, 20, [0.5, 2.5], sampling=sampling,
                                resolution=9)
    paths = valid(figures.paths_map(view, sizes, colors, minimum=solved.minimum, names=names,
                                    f_star=solved.min_loss))
    assert len(paths["lossviz_scrub"]["frames"]) == len(minibatch.BATCH_OPTIONS) + 1
    valid(figures.loss_curves(view, sizes, colors, f_star=solved.min_loss))
    clouds = minibatch.gradient_clouds(solved.objective, [0.5, 2.5], sizes, n_batches=20, sampling=sampling)
    valid(figures.cloud_chart(clouds, colors, names))
    w_star = solved.minimum
    balls = minibatch.balls_view(solved.objective, w_star, 2.0, sizes, sampling=sampling, resolution=9)
    valid(figures.ball_map(balls.xs, balls.ys, balls.Z, balls.at_lr, colors, minimum=w_star, names=names))
    valid(figures.scaling_chart(minibatch.balls_frame(balls.balls), colors))


def test_the_page_keeps_the_map_under_the_paths_while_the_steps_rate_and_seed_change(monkeypatch):
    """cache.batch_paths computes the map once per problem and start: moving the steps (a press of the
    page's main slider), the rate or the seed runs SGD again and no more; the answer is the lesson's own."""
    from lossviz.ui import cache

    calls = []
    grid = minibatch.paths_grid
    monkeypatch.setattr(minibatch, "paths_grid", lambda *a, **k: calls.append(a[2]) or grid(*a, **k))
    cache.batch_paths.clear()
    cache._batch_paths_grid.clear()
    views = [cache.batch_paths("diabetes_bmi", "independent", lr, steps, seed, (-1.0, 1.5))
             for lr, steps, seed in [(0.05, 200, 0), (0.05, 210, 0), (0.02, 220, 0), (0.05, 200, 3)]]
    assert calls == [(-1.0, 1.5)]
    cache.batch_paths("diabetes_bmi", "independent", 0.05, 200, 0, (0.0, 1.5))
    assert calls == [(-1.0, 1.5), (0.0, 1.5)]
    solved = minibatch.solve("diabetes_bmi")
    direct = minibatch.paths_view(solved.objective, solved.minimum, 0.02, 220, [-1.0, 1.5])
    for got, want in zip(views[2], direct):
        if isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(views[2].sweep.params, direct.sweep.params)
    assert views[1].sweep.params.shape[1] == 211


def test_the_paths_caption_says_a_run_diverged_and_never_prints_a_negative_gap():
    """A diverged run's last loss is NaN ("B = 1: nan" in the caption); a converged run's can round a hair
    below the minimum ("-1.11e-16")."""
    from lossviz.lessons import batch_size as lesson

    solved = lesson.solve("synthetic_line")
    blown = lesson.sgd_run(solved.objective, 50.0, None, 100, [0.0, 0.0])
    settled = lesson.sgd_run(solved.objective, 0.05, None, 3000, [0.0, 0.0])
    assert int(blown.diverged_at) >= 0
    caption = lesson.paths_caption({"GD": blown, "slow": settled}, solved.min_loss + 1.0)
    assert f"GD: diverged at step {int(blown.diverged_at)}" in caption and "nan" not in caption
    assert "slow: 0." in caption  # its loss is 1 below this (made-up) minimum: no negative gap


def test_the_words_never_print_a_raw_inf_or_nan():
    """At lr 0.6 on the diabetes data B = 1 diverges and B = 4 is unstable in mean square (finite for the
    1,500 steps measured): the noise-ball caption said "(theory inf)"; at 0.7 the batch-size scrubber labelled
    B = 1 "loss − min nan". Each now says what it means."""
    from lossviz.viz import batch_size as figures

    raw = re.compile(r"\b(inf|nan)\b", re.IGNORECASE)
    solved = minibatch.solve("diabetes_bmi")
    balls = minibatch.balls_view(solved.objective, solved.minimum, 0.6, [1, 4, 64], resolution=5).at_lr
    caption = minibatch.balls_caption(balls, 0.6, "independent")
    assert not raw.search(caption), caption
    unstable = [b for b in balls if not np.isfinite(b.predicted_excess_loss)]
    assert [b.batch_size for b in unstable] == [1, 4] and balls[0].diverged and not balls[1].diverged
    assert "B = 1: diverged (no finite theory value: unstable in mean square)" in caption
    assert f"B = 4: {balls[1].excess_loss:.3g} (no finite theory value: unstable in mean square)" in caption
    assert f"B = 64: {balls[2].excess_loss:.3g} (theory {balls[2].predicted_excess_loss:.3g})" in caption

    view = minibatch.paths_view(solved.objective, solved.minimum, 0.7, 200, [-1.0, 1.5], resolution=5)
    spec = figures.paths_map(view, (1, 64), figures.batch_colors((1, 64)), minimum=solved.minimum,
                             names=("slope", "intercept"), f_star=solved.min_loss)
    values = spec["lossviz_scrub"]["values"]
    assert not any(raw.search(v) for v in values), values
    for value, size in zip(values[1:], minibatch.BATCH_OPTIONS):
        run = view.path(size)
        if run.diverged_at >= 0:
            assert value == f"B = {size}: diverged at step {run.diverged_at}"
        else:
            gap = max(run.loss[-1] - solved.min_loss, 0.0)
            assert value == f"B = {size}: loss − min {gap:.3g} after 200 steps"
    assert values[1].startswith("B = 1: diverged at step")
