"""Tests for lossviz.analysis: curvature, stability limits and rates, checked against simulation.

References are independent of the code under test: analytic Hessians of the surfaces, X^T X for least
squares, np.linalg.eigvalsh / eigvals of explicitly built matrices, the real optimizers stepping
(themselves checked against torch) and torch.optim.SGD itself.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import analysis, expr, models, optimizers, surfaces
from lossviz.optimizers import SGDState
from lossviz.run import run

QUADRATIC = surfaces.get("quadratic", condition_number=10.0, rotation=30.0)  # eigenvalues 0.1 and 1


class DenseQuadratic:
    """f(x) = 1/2 (x - c)^T A (x - c) with a chosen spectrum and no hessian attribute (forces differences)."""

    def __init__(self, spectrum: np.ndarray, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.normal(size=(spectrum.size, spectrum.size)))
        self.A = basis @ np.diag(spectrum) @ basis.T
        self.A = 0.5 * (self.A + self.A.T)
        self.center = rng.normal(size=spectrum.size)
        self.dim = spectrum.size

    def f(self, params: np.ndarray) -> np.ndarray:
        shifted = np.asarray(params) - self.center
        return 0.5 * np.einsum("...i,ij,...j->...", shifted, self.A, shifted)

    def grad(self, params: np.ndarray) -> np.ndarray:
        return (np.asarray(params) - self.center) @ self.A


def iteration_matrix(lr: float, beta: float, curvature: float, nesterov: bool) -> np.ndarray:
    """The linear map (x_t, b_{t-1}) -> (x_{t+1}, b_t) of the real torch-style SGD on 1/2 curvature x^2."""
    optimizer = optimizers.get("sgd", lr=lr, momentum=beta, nesterov=nesterov)
    columns = []
    for x, buffer in ((1.0, 0.0), (0.0, 1.0)):
        params = np.array([[x]])
        state = SGDState(step=1, momentum_buffer=np.array([[buffer]]))  # past torch's first-step copy
        new_params, new_state = optimizer.update(curvature * params, state, params)
        columns.append([new_params[0, 0], new_state.momentum_buffer[0, 0]])
    return np.array(columns).T


def spectral_radius(matrix: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


# ----------------------------------------------------------------------------------------------- Hessian
SURFACE_NAMES = [name for name in surfaces.names() if name not in ("ackley",)]  # ackley: kink at 0


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(SURFACE_NAMES), u=st.floats(0.05, 0.95), v=st.floats(0.05, 0.95))
def test_finite_difference_hessian_matches_the_analytic_one(name: str, u: float, v: float) -> None:
    surface = surfaces.get(name)
    (xmin, xmax), (ymin, ymax) = surface.domain
    point = np.array([xmin + u * (xmax - xmin), ymin + v * (ymax - ymin)])
    exact = surface.hessian(point)
    approx = analysis.hessian(surface, point, method="finite_difference")
    np.testing.assert_allclose(approx, approx.T)
    np.testing.assert_allclose(approx, exact, rtol=1e-5, atol=1e-6 * (1 + np.abs(exact).max()))


def test_auto_uses_the_analytic_hessian_and_broadcasts() -> None:
    surface = surfaces.get("rosenbrock")
    points = np.array([[[0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]], [[0.5, 0.5], [2.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(analysis.hessian(surface, points), surface.hessian(points))
    fd = analysis.hessian(surface, points, method="finite_difference")
    assert fd.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(fd, surface.hessian(points), rtol=1e-6, atol=1e-5)


def test_hessian_of_least_squares_is_two_over_n_xtx() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=40)
    model = models.linear_regression(X, y)  # mean squared error, (w1, w2, w3, b)
    design = np.c_[X, np.ones(40)]
    exact = 2.0 / 40 * design.T @ design
    point = rng.normal(size=4)
    np.testing.assert_allclose(analysis.hessian(model, point), exact, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(analysis.eigenvalues(model, point), np.linalg.eigvalsh(exact), rtol=1e-6)


def test_blockwise_finite_differences_match_the_one_shot_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    objective = DenseQuadratic(np.linspace(-1.0, 4.0, 9), seed=2)
    points = np.random.default_rng(2).normal(size=(3, 9))
    one_shot = analysis.hessian(objective, points)
    monkeypatch.setattr(analysis, "_FD_BLOCK_VALUES", 40)  # 2 columns of 9 at a time, point by point
    blockwise = analysis.hessian(objective, points)
    np.testing.assert_allclose(blockwise, one_shot, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(blockwise, np.broadcast_to(objective.A, (3, 9, 9)), rtol=1e-6, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_hvp_matches_hessian_times_vector(seed: int) -> None:
    rng = np.random.default_rng(seed)
    objective = DenseQuadratic(rng.uniform(-2, 5, size=7), seed=seed)
    point = rng.normal(size=7) * 3
    vectors = rng.normal(size=(4, 7))
    np.testing.assert_allclose(analysis.hvp(objective, point, vectors), vectors @ objective.A,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(analysis.hvp(objective, point, np.zeros(7)), np.zeros(7))
    surface = surfaces.get("himmelblau")
    p, w = rng.normal(size=2), rng.normal(size=2)
    np.testing.assert_allclose(analysis.hvp(surface, p, w), surface.hessian(p) @ w, rtol=1e-12)


def test_hvp_prefers_the_objectives_own() -> None:
    class WithHvp(DenseQuadratic):
        def hvp(self, params: np.ndarray, vector: np.ndarray) -> np.ndarray:
            return np.full_like(vector, 7.0)

    objective = WithHvp(np.ones(3))
    np.testing.assert_array_equal(analysis.hvp(objective, np.zeros(3), np.ones(3)), np.full(3, 7.0))


# ------------------------------------------------------------------------------------------ eigenvalues
def test_quadratic_surface_spectrum_and_condition_number() -> None:
    kappa = 37.0
    surface = surfaces.get("quadratic", condition_number=kappa, rotation=-70.0)
    np.testing.assert_allclose(analysis.eigenvalues(surface, [0.3, 0.1]), [1 / kappa, 1.0], rtol=1e-12)
    assert analysis.condition_number(surface, [0.3, 0.1]) == pytest.approx(kappa, rel=1e-10)
    np.testing.assert_allclose(analysis.top_eigenvalues(surface, [0.0, 0.0], 2), [1.0, 1 / kappa])


def test_condition_number_is_infinite_at_a_saddle() -> None:
    assert analysis.condition_number(surfaces.get("saddle"), [0.0, 0.0]) == math.inf


def test_lanczos_top_eigenvalues_match_the_dense_spectrum() -> None:
    rng = np.random.default_rng(3)
    spectrum = np.concatenate([rng.uniform(-1, 1, size=145), [3.0, 4.0, 6.5, 9.0, 10.0]])
    objective = DenseQuadratic(spectrum, seed=3)
    point = rng.normal(size=150)
    reference = np.sort(np.linalg.eigvalsh(objective.A))[::-1]
    top = analysis.top_eigenvalues(objective, point, k=3)  # auto: d = 150 > 64 -> Lanczos
    np.testing.assert_allclose(top, reference[:3], rtol=1e-6)
    dense = analysis.top_eigenvalues(objective, point, k=3, method="dense")
    np.testing.assert_allclose(dense, reference[:3], rtol=1e-6)
    value, vector = analysis.power_iteration(objective, point, max_iter=5000)
    assert value == pytest.approx(reference[0], rel=1e-6)
    np.testing.assert_allclose(objective.A @ vector, value * vector, atol=1e-3 * value)


def test_lanczos_finds_repeated_eigenvalues() -> None:
    spectrum = np.concatenate([[5.0, 5.0, 5.0], np.ones(77)])
    objective = DenseQuadratic(spectrum, seed=4)
    np.testing.assert_allclose(analysis.top_eigenvalues(objective, np.zeros(80), k=4, method="lanczos"),
                               [5.0, 5.0, 5.0, 1.0], rtol=1e-6)


def test_power_iteration_returns_the_dominant_magnitude_with_its_sign() -> None:
    objective = DenseQuadratic(np.array([-8.0, 1.0, 2.0, 3.0]), seed=5)
    value, _ = analysis.power_iteration(objective, np.zeros(4))
    assert value == pytest.approx(-8.0, rel=1e-8)


def test_lanczos_on_a_network_matches_the_dense_finite_difference_hessian() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 2))
    model = models.mlp(X, (X[:, 0] * X[:, 1] > 0).astype(int), hidden=(6,), activation="tanh")
    point = model.init_params(seed=1)
    reference = np.linalg.eigvalsh(analysis.hessian(model, point))[::-1]
    lanczos = analysis.top_eigenvalues(model, point, k=2, method="lanczos", n_iter=model.dim)
    np.testing.assert_allclose(lanczos, reference[:2], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------- stability and rates
@settings(max_examples=100, deadline=None)
@given(lr=st.floats(0.0, 5.0), beta=st.floats(0.0, 0.99), curvature=st.floats(-1.0, 3.0),
       nesterov=st.booleans())
def test_momentum_rate_is_the_spectral_radius_of_the_real_iteration(
    lr: float, beta: float, curvature: float, nesterov: bool
) -> None:
    beta = max(beta, 1e-3) if nesterov else beta  # torch's Nesterov needs momentum > 0
    if beta == 0.0:
        expected = abs(1.0 - lr * curvature)
    else:
        expected = spectral_radius(iteration_matrix(lr, beta, curvature, nesterov))
    # Near a double root the eigenvalues of a 2x2 move like sqrt(eps).
    rate = analysis.momentum_rate(lr, beta, [curvature], nesterov)
    assert rate == pytest.approx(expected, rel=1e-6, abs=1e-7)


def test_momentum_rate_is_vectorized_and_takes_the_worst_eigenvalue() -> None:
    lrs = np.linspace(0.1, 3.0, 7)[:, None]
    betas = np.linspace(0.0, 0.9, 5)[None, :]
    spectrum = np.array([0.05, 0.4, 1.0])
    rates = analysis.momentum_rate(lrs, betas, spectrum)
    assert rates.shape == (7, 5)
    for i, j in [(0, 0), (3, 2), (6, 4)]:
        single = max(analysis.momentum_rate(float(lrs[i, 0]), float(betas[0, j]), [lam]) for lam in spectrum)
        assert rates[i, j] == pytest.approx(single)


@settings(max_examples=60, deadline=None)
@given(beta=st.floats(0.0, 0.98), curvature=st.floats(0.01, 100.0), nesterov=st.booleans())
def test_max_stable_lr_is_where_the_real_iteration_turns_unstable(
    beta: float, curvature: float, nesterov: bool
) -> None:
    beta = max(beta, 1e-3) if nesterov else beta
    limit = analysis.max_stable_lr(curvature, beta, nesterov)
    expected = 2 * (1 + beta) / ((1 + 2 * beta) if nesterov else 1.0) / curvature
    assert limit == pytest.approx(expected, rel=1e-12)
    if beta > 0:
        below = spectral_radius(iteration_matrix(limit * (1 - 1e-4), beta, curvature, nesterov))
        above = spectral_radius(iteration_matrix(limit * (1 + 1e-4), beta, curvature, nesterov))
    else:
        below, above = abs(1 - limit * (1 - 1e-4) * curvature), abs(1 - limit * (1 + 1e-4) * curvature)
    assert below < 1 < above


def test_max_stable_lr_is_unbounded_without_positive_curvature_and_broadcasts() -> None:
    limits = analysis.max_stable_lr(np.array([-1.0, 0.0, 4.0]), np.array([0.0, 0.5, 0.5]))
    np.testing.assert_array_equal(limits, [np.inf, np.inf, 0.75])


def _distances(trajectory) -> np.ndarray:
    return np.linalg.norm(trajectory.params, axis=-1)


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.5, False), (0.9, False), (0.5, True),
                                                     (0.9, True)])
def test_runs_diverge_just_above_the_limit_and_converge_just_below(momentum: float, nesterov: bool) -> None:
    limit = 2 * (1 + momentum) / ((1 + 2 * momentum) if nesterov else 1.0)  # lambda_max = 1
    x0 = np.array([1.0, -0.5])
    below = optimizers.get("sgd", lr=0.99 * limit, momentum=momentum, nesterov=nesterov)
    above = optimizers.get("sgd", lr=1.01 * limit, momentum=momentum, nesterov=nesterov)
    stable = run(QUADRATIC, below, x0, 3000)
    unstable = run(QUADRATIC, above, x0, 3000)
    assert stable.diverged_at == -1 and _distances(stable)[-1] < 1e-6 * _distances(stable)[0]
    assert unstable.diverged_at > 0
    # The measured rate of the stable run is the predicted spectral radius.
    predicted = analysis.momentum_rate(0.99 * limit, momentum, [0.1, 1.0], nesterov)
    measured = (_distances(stable)[2000] / _distances(stable)[1000]) ** (1 / 1000)
    assert measured == pytest.approx(predicted, rel=1e-2)


def test_torch_nesterov_sgd_turns_unstable_at_the_derived_limit() -> None:
    torch = pytest.importorskip("torch")
    curvature, beta = 3.0, 0.7
    limit = analysis.max_stable_lr(curvature, beta, nesterov=True)
    finals = []
    for factor in (0.98, 1.02):
        x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([x], lr=factor * limit, momentum=beta, nesterov=True)
        for _ in range(600):  # |root| is 0.947 below and 1.052 above: 1e-14 vs 1e13
            optimizer.zero_grad()
            (0.5 * curvature * x * x).sum().backward()
            optimizer.step()
        finals.append(abs(float(x.detach())))
    assert finals[0] < 1e-6 and finals[1] > 1e6


def test_gradient_descent_converges_at_the_theoretical_rate() -> None:
    mu, L = 0.1, 1.0
    kappa = L / mu
    for lr, rate in [(2 / (L + mu), (kappa - 1) / (kappa + 1)), (0.5, 1 - 0.5 * mu), (1.8, 1 - 1.8 * mu)]:
        trajectory = run(QUADRATIC, optimizers.get("sgd", lr=lr), np.array([1.0, 0.3]), 300)
        distance = _distances(trajectory)
        measured = (distance[300] / distance[100]) ** (1 / 200)
        assert measured == pytest.approx(rate, rel=1e-2)
        assert analysis.momentum_rate(lr, 0.0, [mu, L]) == pytest.approx(rate, rel=1e-12)
        assert analysis.measured_rate(distance, 100, 300) == pytest.approx(measured, rel=1e-12)


def test_optimal_heavy_ball_achieves_its_rate() -> None:
    kappa = 100.0
    surface = surfaces.get("quadratic", condition_number=kappa, rotation=10.0)
    tuning = analysis.optimal_hyperparameters(1 / kappa, 1.0, "heavy_ball")
    assert tuning.lr == pytest.approx(4 / (1 + math.sqrt(1 / kappa)) ** 2)
    assert tuning.momentum == pytest.approx(((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2)
    assert tuning.rate == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1))
    optimizer = optimizers.get("sgd", lr=tuning.lr, momentum=tuning.momentum)
    distance = _distances(run(surface, optimizer, np.array([1.0, 1.0]), 400))
    # Double roots make the error decay like t rho^t: over [200, 400] that adds 2^(1/200) ~ 0.35 %.
    assert (distance[400] / distance[200]) ** (1 / 200) == pytest.approx(tuning.rate, rel=1e-2)
    gd = analysis.optimal_hyperparameters(1 / kappa, 1.0, "gd")
    assert gd.rate > tuning.rate  # momentum beats the best plain step: sqrt(kappa) instead of kappa


def test_no_grid_point_beats_the_optimal_tunings() -> None:
    mu, L = 0.05, 2.0
    spectrum = np.linspace(mu, L, 40)
    heavy = analysis.optimal_hyperparameters(mu, L, "heavy_ball")
    worst_at_optimum = max(spectral_radius(np.array([[1 + heavy.momentum - heavy.lr * lam, -heavy.momentum],
                                                     [1.0, 0.0]])) for lam in spectrum)
    assert worst_at_optimum == pytest.approx(heavy.rate, rel=1e-6)
    lrs = np.linspace(0.05, 4.0, 120)[:, None]
    betas = np.linspace(0.0, 0.95, 120)[None, :]
    assert analysis.momentum_rate(lrs, betas, spectrum).min() >= heavy.rate * (1 - 1e-9)
    gd = analysis.optimal_hyperparameters(mu, L, "gd")
    best_gd = min(max(abs(1 - lr * lam) for lam in (mu, L)) for lr in np.linspace(0.01, 1.5, 3000))
    assert best_gd >= gd.rate - 1e-12 and gd.lr == pytest.approx(2 / (L + mu))


def test_steps_to_reduce_counts_whole_steps() -> None:
    assert analysis.steps_to_reduce(0.5, 8.0) == 3
    assert analysis.steps_to_reduce(0.5, 9.0) == 4
    assert analysis.steps_to_reduce(1.0, 10.0) == math.inf
    assert analysis.steps_to_reduce(0.9, 1.0) == 0


# ------------------------------------------------------------------------------------------- explaining
def test_explain_divergence_of_gradient_descent_names_lr_times_lambda() -> None:
    optimizer = optimizers.get("sgd", lr=2.6)
    trajectory = run(QUADRATIC, optimizer, np.array([1.0, 1.0]), 200)
    text = analysis.explain_divergence(QUADRATIC, optimizer, trajectory)
    assert f"diverged at step {trajectory.diverged_at}" in text
    assert "lr × λ_max = 2.6 > 2" in text and "overshoots more" in text
    assert "grows 1.6× per step" in text  # |1 - 2.6|


def test_explain_divergence_of_heavy_ball_and_nesterov_in_a_sweep() -> None:
    optimizer = optimizers.get("sgd", lr=np.array([4.0, 1.0]), momentum=np.array([0.9, 0.9]))
    trajectory = run(QUADRATIC, optimizer, np.array([1.0, 1.0]), 500)
    text = analysis.explain_divergence(QUADRATIC, optimizer, trajectory, 0)
    assert "lr × λ_max = 4 > 2(1+β) = 3.8" in text
    assert "did not diverge" in analysis.explain_divergence(QUADRATIC, optimizer, trajectory, 1)
    nesterov = optimizers.get("sgd", lr=1.5, momentum=0.9, nesterov=True)
    trajectory = run(QUADRATIC, nesterov, np.array([1.0, 1.0]), 500)
    text = analysis.explain_divergence(QUADRATIC, nesterov, trajectory)
    assert "lr × λ_max = 1.5 > 2(1+β)/(1+2β) = 1.36" in text


def test_explain_divergence_on_rosenbrock_finds_the_step_where_it_turned_unstable() -> None:
    surface = surfaces.get("rosenbrock")
    optimizer = optimizers.get("sgd", lr=3e-3)
    trajectory = run(surface, optimizer, np.array([-1.5, 2.0]), 500)
    assert trajectory.diverged_at > 0
    text = analysis.explain_divergence(surface, optimizer, trajectory)
    assert "> 2" in text
    # Independent check: the start is already unstable for this lr (2/lambda_max is below 3e-3 there).
    start_curvature = np.linalg.eigvalsh(surface.hessian(np.array([-1.5, 2.0])))[-1]
    assert 3e-3 * start_curvature > 2 and "At the start" in text


def test_explain_divergence_for_adaptive_optimizers_says_the_limit_does_not_transfer() -> None:
    surface = surfaces.get("rosenbrock")
    optimizer = optimizers.get("adam", lr=50.0)
    trajectory = run(surface, optimizer, np.array([-1.5, 2.0]), 400, divergence_threshold=1e3)
    assert trajectory.diverged_at > 0
    text = analysis.explain_divergence(surface, optimizer, trajectory)
    assert "does not apply directly" in text


def test_explain_divergence_downhill_forever_is_not_called_an_overshoot() -> None:
    surface = surfaces.get("saddle")
    optimizer = optimizers.get("sgd", lr=0.1)
    trajectory = run(surface, optimizer, np.array([0.5, 0.01]), 3000)
    assert trajectory.diverged_at > 0 and trajectory.loss[trajectory.diverged_at - 1] < trajectory.loss[0]
    text = analysis.explain_divergence(surface, optimizer, trajectory)
    assert "fell without bound" in text and "overshoot" in text and "lr × λ_max" not in text


def test_explain_stability_when_stable() -> None:
    text = analysis.explain_stability(0.5, 2.0, momentum=0.0)
    assert text.startswith("lr × λ_max = 1 < 2") and "largest stable lr here is 1" in text


# ----------------------------------------------------------------------------------------- lr range test
def test_lr_range_test_on_a_quadratic_suggests_a_stable_lr() -> None:
    result = analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), np.array([1.0, 1.0]))
    lambda_max = 1.0
    assert 1e-3 / lambda_max < result.suggestion < 2 / lambda_max
    np.testing.assert_allclose(np.diff(np.log(result.lrs)), math.log(1e8) / 99)
    assert result.lrs[0] == pytest.approx(1e-7)
    # Cut right after the blow-up: the last point is more than 4x the best, none before it is.
    assert result.smoothed[-1] > 4 * result.smoothed[:-1].min()
    assert np.all(result.smoothed[:-1] <= 4 * np.minimum.accumulate(result.smoothed[:-1]))
    # losses[t] is the loss after the step taken with lrs[t]: replay the first two steps by hand.
    A = QUADRATIC.hessian(np.zeros(2))
    x = np.array([1.0, 1.0])
    for t in range(2):
        x = x - result.lrs[t] * A @ x
        assert result.losses[t] == pytest.approx(float(QUADRATIC.f(x)))


def test_lr_range_test_whose_loss_overflows_cuts_there_without_a_warning() -> None:
    """A ramp that blows the loss up to infinity is the expected end of the test, not an arithmetic error
    (the hypothesis robustness test found 0 * inf in the smoothing on the learning-rate page)."""
    start = np.array([1e150, 1e150])
    with np.errstate(over="ignore"):  # the ramp's last steps do overflow: the case under test
        assert np.isinf(QUADRATIC.f(start - 1e8 * QUADRATIC.grad(start)))
    result = analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), start, max_lr=1e8)
    assert result.smoothed[-1] > 4 * result.smoothed[:-1].min()  # cut right after the blow-up
    assert np.all(np.isfinite(result.smoothed[:-1]))


def test_lr_range_test_with_minibatches_stays_below_the_stability_limit() -> None:
    rng = np.random.default_rng(8)
    X = rng.normal(size=(200, 3))
    model = models.linear_regression(X, X @ np.array([2.0, -1.0, 0.5]) + 0.1 * rng.normal(size=200))
    lambda_max = np.linalg.eigvalsh(2 / 200 * np.c_[X, np.ones(200)].T @ np.c_[X, np.ones(200)])[-1]
    result = analysis.lr_range_test(model, optimizers.get("sgd"), np.zeros(4), min_lr=1e-5, max_lr=100.0,
                                    steps=300, batch_size=20, seed=2)
    assert 1e-4 / lambda_max < result.suggestion < 2 / lambda_max
    again = analysis.lr_range_test(model, optimizers.get("sgd"), np.zeros(4), min_lr=1e-5, max_lr=100.0,
                                   steps=300, batch_size=20, seed=2)
    np.testing.assert_array_equal(result.losses, again.losses)


# ------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: analysis.hessian(QUADRATIC, [0.0, 0.0], method="exact"), ValueError,
         r"unknown method 'exact'; valid names: auto, analytic, finite_difference"),
        (lambda: analysis.hessian(DenseQuadratic(np.ones(3)), np.zeros(3), method="analytic"), ValueError,
         r"method 'analytic' needs an objective with a hessian"),
        (lambda: analysis.hessian(QUADRATIC, [0.0, 0.0, 0.0]), ValueError,
         r"params must have shape \(\.\.\., 2\) for an objective with dim=2, got shape \(3,\)"),
        (lambda: analysis.hessian(object(), [0.0]), TypeError, r"objective must have f\(params\) and grad"),
        (lambda: analysis.hvp(QUADRATIC, [[0.0, 0.0]], [1.0, 0.0]), ValueError,
         r"params must have shape \(2,\)"),
        (lambda: analysis.hvp(QUADRATIC, [0.0, 0.0], [1.0]), ValueError,
         r"vector must have shape \(\.\.\., 2\)"),
        (lambda: analysis.top_eigenvalues(QUADRATIC, [0.0, 0.0], k=3), ValueError,
         r"k must be an integer in \[1, 2\], got 3"),
        (lambda: analysis.top_eigenvalues(QUADRATIC, [0.0, 0.0], method="arnoldi"), ValueError,
         r"unknown method 'arnoldi'; valid names: auto, dense, lanczos"),
        (lambda: analysis.top_eigenvalues(QUADRATIC, [0.0, 0.0], 2, method="lanczos", n_iter=1), ValueError,
         r"n_iter must be an integer in \[2, 2\], got 1"),
        (lambda: analysis.power_iteration(QUADRATIC, [0.0, 0.0], tol=0.0), ValueError,
         r"tol must be in \(0, inf"),
        (lambda: analysis.power_iteration(QUADRATIC, [0.0, 0.0], max_iter=0), ValueError,
         r"max_iter must be an integer in \[1, 100000\], got 0"),
        (lambda: analysis.max_stable_lr(1.0, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: analysis.max_stable_lr(1.0, nesterov="yes"), TypeError, r"nesterov must be True or False"),
        (lambda: analysis.momentum_rate(-0.1, 0.5, [1.0]), ValueError, r"lr must be >= 0, got -0.1"),
        (lambda: analysis.momentum_rate(0.1, 1.5, [1.0]), ValueError, r"beta must be in \[0, 1\], got 1.5"),
        (lambda: analysis.momentum_rate(0.1, 0.5, []), ValueError,
         r"eigenvalues must hold at least one value"),
        (lambda: analysis.optimal_hyperparameters(0.0, 1.0), ValueError, r"mu must be in \(0, inf"),
        (lambda: analysis.optimal_hyperparameters(2.0, 1.0), ValueError, r"L must be in \[2, inf"),
        (lambda: analysis.optimal_hyperparameters(0.1, 1.0, "adam"), ValueError,
         r"unknown method 'adam'; valid names: gd, heavy_ball"),
        (lambda: analysis.measured_rate([1.0]), ValueError, r"errors must hold at least 2 values, got 1"),
        (lambda: analysis.measured_rate([0.0, 1.0, 2.0], 0, 2), ValueError,
         r"errors\[0\] and errors\[2\] must be"),
        (lambda: analysis.measured_rate([1.0, 0.5, 0.2], 1, 1), ValueError,
         r"stop must be an integer in \[2, 2\]"),
        (lambda: analysis.steps_to_reduce(-0.5, 2.0), ValueError, r"rate must be in \[0, inf"),
        (lambda: analysis.explain_stability(0.1, math.inf), ValueError,
         r"lambda_max must be a finite number"),
        (lambda: analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), [1.0, 1.0], min_lr=1.0, max_lr=0.5),
         ValueError, r"max_lr must be in \(1, inf"),
        (lambda: analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), [1.0, 1.0], steps=1), ValueError,
         r"steps must be an integer in \[2, 100000\], got 1"),
        (lambda: analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), [1.0, 1.0], smoothing=1.0),
         ValueError, r"smoothing must be in \[0, 1\), got 1.0"),
        (lambda: analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), [1.0, 1.0], stop_factor=1.0),
         ValueError, r"stop_factor must be in \(1, inf"),
        (lambda: analysis.lr_range_test(QUADRATIC, optimizers.get("sgd"), [[1.0, 1.0]]), ValueError,
         r"x0 must have shape \(2,\)"),
    ],
)
def test_bad_arguments_are_named_in_the_message(call, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_explain_divergence_validation() -> None:
    optimizer = optimizers.get("sgd", lr=np.array([0.1, 3.0]))
    trajectory = run(QUADRATIC, optimizer, np.array([1.0, 1.0]), 50)
    with pytest.raises(ValueError, match=r"run_index must be given for a trajectory of 2 runs"):
        analysis.explain_divergence(QUADRATIC, optimizer, trajectory)
    with pytest.raises(ValueError, match=r"run_index must be an integer in \[0, 1\], got 2"):
        analysis.explain_divergence(QUADRATIC, optimizer, trajectory, 2)
    with pytest.raises(TypeError, match=r"trajectory must be a Trajectory"):
        analysis.explain_divergence(QUADRATIC, optimizer, {"params": None})
    with pytest.raises(ValueError, match=r"trajectory has dim 2 but the objective has dim=3"):
        analysis.explain_divergence(DenseQuadratic(np.ones(3)), optimizer, trajectory, 0)
    with pytest.raises(ValueError, match=r"max_points must be an integer in \[2, 1000\], got 1"):
        analysis.explain_divergence(QUADRATIC, optimizer, trajectory, 1, max_points=1)


def test_a_dense_hessian_of_a_huge_model_is_refused() -> None:
    class Huge:
        dim = 5000

        def f(self, params: np.ndarray) -> np.ndarray:
            return np.zeros(np.shape(params)[:-1])

        def grad(self, params: np.ndarray) -> np.ndarray:
            return np.zeros(np.shape(params))

    with pytest.raises(ValueError, match=r"a dense Hessian needs dim <= 2000, got dim=5000"):
        analysis.hessian(Huge(), np.zeros(5000))

# -------------------------------------------------------------------- curvature at the nearest minimum
CURVATURE_START = np.array([-2.5, 2.0])


def _rotated_quadratic(kappa=10.0, rotation=30.0):
    return surfaces.get("quadratic", condition_number=kappa, rotation=rotation)


class _Concave:
    dim = 2

    def f(self, p):
        return -np.sum(np.asarray(p) ** 2, axis=-1)

    def grad(self, p):
        return -2.0 * np.asarray(p)


def test_reference_curvature_of_the_quadratic_is_its_stated_spectrum():
    for kappa in (1.0, 10.0, 1000.0):
        surface = _rotated_quadratic(kappa, 40.0)
        curvature = analysis.reference_curvature(surface, CURVATURE_START)
        np.testing.assert_allclose(curvature.eigenvalues, surface.constants["eigenvalues"], rtol=1e-12)
        assert curvature.max_stable_lr == pytest.approx(surface.constants["max_stable_lr"])
        assert curvature.optimal_lr == pytest.approx(2.0 / (1.0 + 1.0 / kappa))
        assert curvature.condition_number == pytest.approx(kappa)
        assert curvature.is_minimum and "global minimum at (0, 0)" in curvature.where


def test_reference_curvature_uses_the_minimum_nearest_the_start():
    himmelblau = surfaces.get("himmelblau")
    for minimum in himmelblau.minima:
        curvature = analysis.reference_curvature(himmelblau, minimum + 0.3)
        np.testing.assert_array_equal(curvature.point, minimum)
        np.testing.assert_allclose(curvature.eigenvalues, np.linalg.eigvalsh(himmelblau.hessian(minimum)))


def test_reference_curvature_falls_back_to_the_start_without_a_minimum():
    saddle = surfaces.get("saddle")
    start = np.array([0.5, 0.2])
    curvature = analysis.reference_curvature(saddle, start)
    assert not curvature.is_minimum and "start" in curvature.where
    np.testing.assert_array_equal(curvature.point, start)
    assert math.isnan(curvature.optimal_lr)  # lambda_min < 0 at a saddle


def test_reference_curvature_refuses_a_surface_without_positive_curvature():
    with pytest.raises(ValueError, match="no stability limit 2/λ_max"):
        analysis.reference_curvature(_Concave(), np.array([1.0, 1.0]))


# ------------------------------------------------------------------ local minimum of a typed formula
@settings(max_examples=15, deadline=None)
@given(
    a=st.floats(0.5, 20.0), c=st.floats(0.5, 20.0), b_fraction=st.floats(-0.9, 0.9),
    cx=st.floats(-2.0, 2.0), cy=st.floats(-2.0, 2.0), offset=st.floats(-5.0, 5.0),
)
def test_found_minimum_of_a_custom_quadratic_is_the_analytic_one(a, c, b_fraction, cx, cy, offset):
    # f = a u^2 + b u v + c v^2 + offset with u = x - cx, v = y - cy: minimum at (cx, cy) when 4ac > b^2,
    # Hessian [[2a, b], [b, 2c]].
    b = b_fraction * 2.0 * math.sqrt(a * c)
    formula = f"{a!r}*(x - {cx!r})^2 + {b!r}*(x - {cx!r})*(y - {cy!r}) + {c!r}*(y - {cy!r})^2 + {offset!r}"
    surface = expr.parse(formula)
    curvature = analysis.reference_curvature(surface, CURVATURE_START, find_minimum=True)
    np.testing.assert_allclose(curvature.point, [cx, cy], atol=1e-7)
    hessian = np.array([[2 * a, b], [b, 2 * c]])
    np.testing.assert_allclose(curvature.eigenvalues, np.linalg.eigvalsh(hessian), rtol=1e-9)
    eigenvalues = np.linalg.eigvalsh(hessian)
    assert curvature.max_stable_lr == pytest.approx(2.0 / eigenvalues[-1])
    assert curvature.optimal_lr == pytest.approx(2.0 / (eigenvalues[0] + eigenvalues[-1]))
    assert curvature.is_minimum and "local minimum found at" in curvature.where


def test_find_local_minimum_reaches_the_catalogued_minima():
    np.testing.assert_allclose(analysis.find_local_minimum(surfaces.get("rosenbrock"), [-1.2, 1.0]), [1, 1],
                               atol=1e-8)
    himmelblau = surfaces.get("himmelblau")
    for minimum in himmelblau.minima:
        found = analysis.find_local_minimum(himmelblau, minimum + 0.2)
        np.testing.assert_allclose(found, minimum, atol=1e-8)


def test_find_local_minimum_refuses_an_unbounded_saddle():
    saddle = expr.parse("x^2 - y^2")
    with pytest.raises(ValueError, match=r"no local minimum found from the start \(-2.5, 2\): f decreases "
                                         r"without bound.*pick another start or formula"):
        analysis.reference_curvature(saddle, CURVATURE_START, find_minimum=True)
    # On the x axis the descent slides straight into the saddle point, whose Hessian is indefinite.
    with pytest.raises(ValueError, match=r"no local minimum found from the start \(1, 0\): the gradient "
                                         r"vanishes at \(0, 0\).*\[-2.0, 2.0\].*saddle"):
        analysis.find_local_minimum(saddle, [1.0, 0.0])


def test_find_local_minimum_refuses_a_nan_region_and_checks_its_arguments():
    with pytest.raises(ValueError, match="no local minimum found from the start.*not finite"):
        analysis.find_local_minimum(expr.parse("sqrt(x) + y^2"), [-1.0, 1.0])
    with pytest.raises(ValueError, match="grad_tol"):
        analysis.find_local_minimum(_rotated_quadratic(), CURVATURE_START, grad_tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        analysis.find_local_minimum(_rotated_quadratic(), CURVATURE_START, max_iter=0)
    with pytest.raises(ValueError, match="after 1 iterations"):
        analysis.find_local_minimum(surfaces.get("rosenbrock"), [-1.2, 1.0], max_iter=1)


# -- sharpness on many points, preconditioned sharpness ---------------------------------------------------
def _small_network(hidden=(5,), n=40, seed=2):
    from lossviz import datasets

    data = datasets.get("moons", n_samples=n, noise=0.2, seed=seed)
    return models.mlp(data.X, data.y, hidden=hidden)


def _dense_hessian(model, theta):
    operator = model.hessian_operator(theta[None])
    return np.stack([operator(e)[0] for e in np.eye(model.dim)], axis=1)


def test_sharpness_of_many_points_in_lockstep_equals_dense_top_eigenvalues():
    model = _small_network()
    rng = np.random.default_rng(0)
    path = model.init_params(seed=1) + 0.3 * rng.standard_normal((11, model.dim))  # more than one batch
    path[7] = np.nan
    steps = np.array([10, 0, 7, 3, 5, 1, 2, 4, 6, 8, 9])
    values = analysis.sharpness(model, path, steps, n_iter=model.dim)
    for value, t in zip(values, steps):
        if t == 7:
            assert np.isnan(value)
            continue
        dense = np.linalg.eigvalsh(analysis.hessian(model, path[t], method="finite_difference"))[-1]
        assert value == pytest.approx(dense, rel=1e-6)
    one_by_one = [analysis.sharpness(model, path, np.array([t]), n_iter=model.dim)[0] for t in steps]
    np.testing.assert_allclose(values, one_by_one, rtol=1e-10)


def test_preconditioned_sharpness_equals_the_top_eigenvalue_of_the_explicit_product():
    model = _small_network(hidden=(4, 3))
    rng = np.random.default_rng(1)
    path = model.init_params(seed=0) + 0.2 * rng.standard_normal((3, model.dim))
    inverse = np.exp(rng.uniform(-3, 3, (3, model.dim)))  # scales of many decades, like Adam's
    values = analysis.preconditioned_sharpness(model, path, np.arange(3), inverse, n_iter=model.dim)
    for t in range(3):
        product = np.diag(inverse[t]) @ _dense_hessian(model, path[t])
        eigenvalues = np.linalg.eigvals(product)
        assert np.abs(eigenvalues.imag).max() < 1e-8 * np.abs(eigenvalues).max()  # similar to symmetric
        assert values[t] == pytest.approx(eigenvalues.real.max(), rel=1e-8)
    # Preconditioning by a scalar c scales the spectrum by c.
    plain = analysis.sharpness(model, path, np.arange(3), n_iter=model.dim)
    scaled = analysis.preconditioned_sharpness(model, path, np.arange(3), np.full((3, model.dim), 7.0),
                                               n_iter=model.dim)
    np.testing.assert_allclose(scaled, 7.0 * plain, rtol=1e-9)


TORCH_ADAPTIVE = {
    "adam": ({"lr": 0.01}, "Adam"),
    "amsgrad": ({"lr": 0.02, "betas": (0.8, 0.99), "amsgrad": True}, "Adam"),
    "adam-l2": ({"lr": 0.01, "weight_decay": 0.1}, "Adam"),
    "adamw": ({"lr": 0.01, "weight_decay": 0.1}, "AdamW"),
    "nadam": ({"lr": 0.01}, "NAdam"),
    "adamax": ({"lr": 0.01, "eps": 1e-6}, "Adamax"),
    "radam": ({"lr": 0.01}, "RAdam"),
}


@pytest.mark.parametrize("case", TORCH_ADAPTIVE)
def test_adaptive_preconditioners_are_adams_state_in_torch(case):
    import torch

    hyper, torch_name = TORCH_ADAPTIVE[case]
    name = {"amsgrad": "adam", "adam-l2": "adam"}.get(case, case)
    optimizer = optimizers.get(name, **hyper)
    model = _small_network()
    traj = run(model, optimizer, model.init_params(seed=3), 12, record_grads=True)
    steps = np.array([0, 3, 4, 6, 12])
    inverse = analysis.adaptive_preconditioners(optimizer, traj.params, traj.grads, traj.lr, steps)
    beta1, beta2 = hyper.get("betas", (0.9, 0.999))
    eps = hyper.get("eps", 1e-8)
    # torch's state after step t + 1 taken from params[t] with grads[t] (the last point: one more step).
    params = torch.tensor(traj.params[0], requires_grad=True)
    reference = getattr(torch.optim, torch_name)([params], **{k: v for k, v in hyper.items()})
    for t in range(13):
        with torch.no_grad():
            params.copy_(torch.tensor(traj.params[t]))
        params.grad = torch.tensor(traj.grads[t])
        if t == 12:
            reference.param_groups[0]["lr"] = float(traj.lr[-1])
        reference.step()
        if t not in steps:
            continue
        state, count = reference.state[params], t + 1
        if torch_name == "Adamax":
            expected = 1.0 / state["exp_inf"].numpy()
        elif torch_name == "RAdam":
            rho_inf = 2 / (1 - beta2) - 1
            rho = rho_inf - 2 * count * beta2**count / (1 - beta2**count)
            if rho > 5:
                rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
                expected = rect * math.sqrt(1 - beta2**count) / (np.sqrt(state["exp_avg_sq"].numpy()) + eps)
            else:
                expected = np.ones(model.dim)
        else:
            second = state["max_exp_avg_sq" if hyper.get("amsgrad") else "exp_avg_sq"].numpy()
            expected = 1.0 / (np.sqrt(second / (1 - beta2**count)) + eps)
        row = int(np.flatnonzero(steps == t)[0])
        np.testing.assert_allclose(inverse[row], expected / (1 - beta1**count), rtol=1e-9)


def _frozen_momentum_is_stable(lr: float, curvature: float, beta1: float) -> bool:
    """m_t = b m_{t-1} + (1 - b) c x_t, x_{t+1} = x_t - lr m_t on one eigendirection of P^-1 H."""
    x, m = 1.0, 0.0
    for _ in range(4000):
        m = beta1 * m + (1 - beta1) * curvature * x
        x -= lr * m
    return abs(x) < 1e-3


@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9])
def test_adaptive_stability_threshold_separates_stable_from_unstable_frozen_adam(beta1):
    lr = 0.01
    optimizer = optimizers.get("adam", lr=lr, betas=(beta1, 0.999))
    limit = float(analysis.adaptive_stability_threshold(optimizer, lr))
    assert _frozen_momentum_is_stable(lr, 0.97 * limit, beta1)
    assert not _frozen_momentum_is_stable(lr, 1.03 * limit, beta1)
    if beta1 == 0.9:
        assert limit == pytest.approx(38 / lr)


def test_adaptive_stability_threshold_and_preconditioners_only_for_adaptive_optimizers():
    lr = np.array([0.1, 0.05])
    for name in analysis.ADAPTIVE_OPTIMIZERS:
        optimizer = optimizers.get(name)
        beta1 = optimizer.hyperparameters["betas"][0]
        np.testing.assert_allclose(analysis.adaptive_stability_threshold(optimizer, lr),
                                   (2 + 2 * beta1) / ((1 - beta1) * lr))
    for name in ("sgd", "rmsprop", "adagrad"):
        optimizer = optimizers.get(name)
        assert analysis.adaptive_stability_threshold(optimizer, lr) is None
        assert analysis.adaptive_preconditioners(optimizer, np.zeros((2, 3)), np.zeros((2, 3)), [0.1],
                                                 np.array([0])) is None


def test_preconditioned_sharpness_validation_names_the_argument():
    model = _small_network()
    path = np.zeros((2, model.dim))
    message = rf"inverse_preconditioner must have shape \(1, {model.dim}\), one row per step, got \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        analysis.preconditioned_sharpness(model, path, np.array([0]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="inverse_preconditioner must be >= 0"):
        analysis.preconditioned_sharpness(model, path, np.array([0]), -np.ones((1, model.dim)))
    with pytest.raises(ValueError, match=r"steps must be in \[0, 1\], got 5"):
        analysis.preconditioned_sharpness(model, path, np.array([5]), np.ones((1, model.dim)))
    adam = optimizers.get("adam")
    with pytest.raises(ValueError, match=r"grads must have the shape of params \(2, 3\), got \(2, 4\)"):
        analysis.adaptive_preconditioners(adam, np.zeros((2, 3)), np.zeros((2, 4)), [0.1], np.array([0]))
    with pytest.raises(ValueError, match=r"lr must have one rate per step \(1\), got 2"):
        analysis.adaptive_preconditioners(adam, np.zeros((2, 3)), np.zeros((2, 3)), [0.1, 0.1], np.array([0]))


def test_stability_thresholds_of_a_vanishing_rate_are_infinite_without_a_warning():
    """Found by the random-typing test: SGD at lr 1.2e-7 under a cosine schedule reaches rates near 1e-310,
    and 2 / lr overflowed with a RuntimeWarning (an error under the test settings) on the Neural net page.
    A rate of 0 or a subnormal one has no finite limit: the threshold is inf."""
    lr = np.array([0.1, 1e-310, 0.0])
    sgd = analysis.stability_threshold(optimizers.get("sgd", lr=0.1, momentum=0.9), lr)
    np.testing.assert_allclose(sgd[0], 2 * 1.9 / 0.1)
    assert np.isposinf(sgd[1:]).all()
    adam = analysis.adaptive_stability_threshold(optimizers.get("adam"), lr)
    assert np.isfinite(adam[0]) and np.isposinf(adam[1:]).all()
    # The same for a curvature that vanishes: 2/λ with λ = 1e-310 has no finite value either.
    assert analysis.max_stable_lr(4.0) == 0.5 and np.isposinf(analysis.max_stable_lr(1e-310))
