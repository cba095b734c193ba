"""Neural-network landscapes: slices against the loss they slice, filter normalization, an analytic quadratic,
PCA against an independent eigen-decomposition, sharpness against dense Hessians (torch and finite
differences), the stability line against simulation, and every validation message."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import analysis, datasets, landscape, models, optimizers
from lossviz.lessons import neural_net as nl
from lossviz.settings import OptimizerSetting

SETTINGS = settings(max_examples=30, deadline=None)
# float32 forward passes against the float64 loss: the relative error measured over the architectures
# below is about 1e-7; the pinned bound leaves two orders of magnitude.
FLOAT32_RTOL = 1e-5

RNG = np.random.default_rng(7)
MOONS = datasets.get("moons", n_samples=120, noise=0.2, seed=3)
SPIRALS3 = datasets.get("spirals", n_samples=90, noise=0.05, seed=1, n_classes=3)


def small_mlp(hidden=(6, 5), activation="tanh", data=MOONS, **kwargs) -> models.MLP:
    return models.mlp(data.X, data.y, hidden=hidden, activation=activation, **kwargs)


# -- the fast evaluator is the loss -----------------------------------------------------------------
ARCHITECTURES = [
    ((32, 32), "tanh", MOONS, {}),
    ((7,), "relu", MOONS, {}),
    ((5, 4, 3), "sigmoid", MOONS, {}),
    ((6, 6), "tanh", SPIRALS3, {}),  # softmax head over 3 classes
    ((6,), "tanh", MOONS, {"loss": "binary_cross_entropy_with_logits"}),  # one output unit
    ((6,), "relu", MOONS, {"loss": "hinge"}),  # generic head through lossviz.losses
    ((4, 4), "tanh", SPIRALS3, {"loss": "cross_entropy_from_probabilities"}),  # softmax link
]


@pytest.mark.parametrize("hidden, activation, data, extra", ARCHITECTURES)
def test_plane_losses_equal_model_f_in_float64_and_within_a_pinned_tolerance_in_float32(
        hidden, activation, data, extra):
    model = small_mlp(hidden, activation, data, **extra)
    theta = model.init_params(seed=2)
    directions = RNG.standard_normal((2, model.dim)) * 0.3
    coords = RNG.uniform(-1.5, 1.5, (300, 2))
    reference = model.f(theta + coords @ directions)
    exact = landscape.plane_losses(model, theta, directions, coords, dtype=np.float64)
    np.testing.assert_allclose(exact, reference, rtol=1e-12)
    fast = landscape.plane_losses(model, theta, directions, coords)
    np.testing.assert_allclose(fast, reference, rtol=FLOAT32_RTOL)


@SETTINGS
@given(width=st.integers(1, 40), depth=st.integers(1, 3),
       activation=st.sampled_from(["tanh", "relu", "sigmoid"]), n_directions=st.integers(1, 3),
       seed=st.integers(0, 10**6))
def test_plane_losses_match_model_f_for_drawn_networks(width, depth, activation, n_directions, seed):
    rng = np.random.default_rng(seed)
    model = small_mlp((width,) * depth, activation)
    theta = model.init_params(seed=seed % 1000)
    directions = rng.standard_normal((n_directions, model.dim)) * 0.2
    coords = rng.uniform(-2, 2, (37, n_directions))
    reference = model.f(theta + coords @ directions)
    exact = landscape.plane_losses(model, theta, directions, coords, dtype=np.float64)
    np.testing.assert_allclose(exact, reference, rtol=1e-11)
    fast = landscape.plane_losses(model, theta, directions, coords)
    np.testing.assert_allclose(fast, reference, rtol=FLOAT32_RTOL)


def test_plane_losses_match_an_independent_torch_forward_pass():
    model = small_mlp((9, 8), "tanh")
    theta = model.init_params(seed=4)
    directions = RNG.standard_normal((2, model.dim)) * 0.2
    coords = RNG.uniform(-1, 1, (20, 2))
    X, y = torch.tensor(model.X), torch.tensor(model.y, dtype=torch.long)
    expected = []
    for point in theta + coords @ directions:
        h = X
        for index, (W, b) in enumerate(model.unflatten(point)):
            h = h @ torch.tensor(W) + torch.tensor(b)
            if index < 2:
                h = torch.tanh(h)
        expected.append(float(torch.nn.functional.cross_entropy(h, y)))
    exact = landscape.plane_losses(model, theta, directions, coords, dtype=np.float64)
    np.testing.assert_allclose(exact, expected, rtol=1e-12)


def test_plane_losses_uses_many_chunks_and_two_threads_without_changing_values():
    data = datasets.get("moons", n_samples=600, noise=0.2, seed=0)
    model = small_mlp((32, 32), "tanh", data)
    theta = model.init_params(seed=0)
    directions = landscape.filter_normalized_directions(model, theta, 2, seed=5)
    coords = RNG.uniform(-1, 1, (2000, 2))  # above the threading threshold: several chunks on two threads
    seen = []
    values = landscape.plane_losses(model, theta, directions, coords, progress=seen.append)
    np.testing.assert_allclose(values, model.f(theta + coords @ directions), rtol=FLOAT32_RTOL)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5


def test_plane_losses_reports_progress_from_the_calling_thread_and_groups_change_no_value():
    # Streamlit widgets work only from the script thread, while the model's chunks run on worker threads.
    import threading

    model = small_mlp((8, 8), "tanh")
    theta = model.init_params(seed=1)
    directions = landscape.filter_normalized_directions(model, theta, 2, seed=2)
    coords = RNG.uniform(-1, 1, (1500, 2))
    callers = []
    grouped = landscape.plane_losses(model, theta, directions, coords,
                              progress=lambda _: callers.append(threading.get_ident()))
    assert len(callers) > 5 and set(callers) == {threading.get_ident()}
    np.testing.assert_array_equal(grouped, landscape.plane_losses(model, theta, directions, coords))
    np.testing.assert_array_equal(model.f_affine(theta, directions, coords, dtype=np.float32), grouped)
    assert landscape.plane_losses(model, theta, directions, np.zeros((0, 2))).shape == (0,)


def test_plane_losses_on_a_non_mlp_objective_and_a_network_without_hidden_layers():
    linear = models.linear_regression(MOONS.X, MOONS.X @ [1.0, -2.0] + 0.5)
    coords = RNG.uniform(-1, 1, (40, 1))
    origin, direction = np.array([0.3, 0.1, -0.2]), np.array([[1.0, 0.5, 0.0]])
    np.testing.assert_allclose(landscape.plane_losses(linear, origin, direction, coords),
                               linear.f(origin + coords * direction), rtol=1e-12)
    flat = small_mlp(())
    theta = flat.init_params(seed=1)
    np.testing.assert_allclose(landscape.plane_losses(flat, theta, np.ones((1, flat.dim)), coords),
                               flat.f(theta + coords * np.ones(flat.dim)), rtol=1e-12)


def test_overflowing_points_give_non_finite_values_and_no_warning():
    model = small_mlp((4,), "relu")
    theta = model.init_params(seed=0)
    direction = np.random.default_rng(0).standard_normal((1, model.dim))
    coords = np.array([[0.0], [1e30], [1e300]])
    with np.errstate(all="ignore"):
        expected = model.f(theta + coords * direction)
    for dtype in (np.float32, np.float64):  # warnings would be errors here (pyproject filterwarnings)
        values = landscape.plane_losses(model, theta, direction, coords, dtype=dtype)
        assert values[0] == pytest.approx(expected[0], rel=FLOAT32_RTOL)
        assert not np.all(np.isfinite(values[1:]))


# -- slices ------------------------------------------------------------------------------------------
def test_slice_at_the_origin_equals_the_trained_loss_and_follows_the_grid_convention():
    model = small_mlp((32, 32))
    trained = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 60)[0].trajectory.params[-1]
    directions = landscape.filter_normalized_directions(model, trained, 2, seed=3)
    xs, ys = np.linspace(-1, 1, 7), np.linspace(-0.5, 0.5, 5)  # non-square, 0 at the centre of both
    for dtype, rtol in ((np.float64, 1e-13), (np.float32, FLOAT32_RTOL)):
        Z = landscape.loss_slice(model, trained, directions, xs, ys, dtype=dtype)
        assert Z.shape == (5, 7)
        np.testing.assert_allclose(Z[2, 3], model.f(trained), rtol=rtol)
    Z = landscape.loss_slice(model, trained, directions, xs, ys, dtype=np.float64)
    corner = trained + xs[1] * directions[0] + ys[4] * directions[1]
    np.testing.assert_allclose(Z[4, 1], model.f(corner), rtol=1e-13)


def test_slice_of_a_loss_quadratic_in_the_weights_equals_the_analytic_value():
    # Linear regression with squared error: L(w) = |A w - y|^2 / n with A = [X, 1] is exactly quadratic.
    X, y = MOONS.X, MOONS.X @ np.array([0.7, -1.2]) + 0.3 + 0.5 * RNG.standard_normal(MOONS.n_samples)
    model = models.linear_regression(X, y)
    A = np.column_stack([X, np.ones(len(y))])
    theta, d1, d2 = RNG.standard_normal((3, 3))
    xs, ys = np.linspace(-2, 2, 9), np.linspace(-1, 3, 5)
    Z = landscape.loss_slice(model, theta, np.stack([d1, d2]), xs, ys)
    r0, r1, r2 = A @ theta - y, A @ d1, A @ d2
    a, b = np.meshgrid(xs, ys)
    n = len(y)
    analytic = (r0 @ r0 + 2 * a * (r0 @ r1) + 2 * b * (r0 @ r2) + a**2 * (r1 @ r1) + 2 * a * b * (r1 @ r2)
                + b**2 * (r2 @ r2)) / n
    np.testing.assert_allclose(Z, analytic, rtol=1e-12)


def test_slice_of_an_mlp_along_its_last_layer_is_the_analytic_quadratic():
    # Moving only the output layer of a regression MLP leaves the hidden features H fixed, so the mse is
    # quadratic in the plane coordinates: mean((s0 + a s1 + b s2 - y)^2) with s = [H, 1] w.
    X, y = MOONS.X, np.sin(MOONS.X[:, 0]) + MOONS.X[:, 1]
    model = models.mlp(X, y, hidden=(8, 6), task="regression")
    theta = model.init_params(seed=1)
    last = [s for s in model.layer_slices if s.layer == 2]
    directions = np.zeros((2, model.dim))
    for s in last:
        directions[:, s.slice] = RNG.standard_normal((2, s.slice.stop - s.slice.start))
    (W1, b1), (W2, b2), _ = model.unflatten(theta)
    H = np.column_stack([np.tanh(np.tanh(X @ W1 + b1) @ W2 + b2), np.ones(len(y))])
    w0, u, v = (np.concatenate([p[last[0].slice], p[last[1].slice]]) for p in (theta, *directions))
    xs, ys = np.linspace(-1, 1, 5), np.linspace(-2, 2, 7)
    a, b = np.meshgrid(xs, ys)
    residual = (H @ w0 - y)[None, None] + a[..., None] * (H @ u) + b[..., None] * (H @ v)
    analytic = (residual**2).mean(axis=-1)
    exact = landscape.loss_slice(model, theta, directions, xs, ys, dtype=np.float64)
    np.testing.assert_allclose(exact, analytic, rtol=1e-12)
    fast = landscape.loss_slice(model, theta, directions, xs, ys)
    np.testing.assert_allclose(fast, analytic, rtol=FLOAT32_RTOL)


def test_slice_axes_are_symmetric_and_contain_zero():
    xs, ys = landscape.slice_axes(0.8, 11)
    np.testing.assert_allclose(xs, np.linspace(-0.8, 0.8, 11))
    assert xs[5] == 0.0 and np.array_equal(xs, ys)


def test_interpolation_passes_through_both_endpoints():
    model = small_mlp()
    start, end = model.init_params(seed=0), model.init_params(seed=1)
    values = landscape.interpolation(model, start, end, [0.0, 0.5, 1.0, 1.5])
    points = np.stack([start + a * (end - start) for a in (0.0, 0.5, 1.0, 1.5)])
    np.testing.assert_allclose(values, model.f(points), rtol=1e-12)


def test_interpolation_rise_is_zero_for_a_monotone_descent_and_the_climb_otherwise():
    alphas = np.linspace(-0.5, 1.5, 9)  # points outside [0, 1] do not count
    assert landscape.interpolation_rise(alphas, [9.0, 0.1, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 7.0]) == 0.0
    climbing = [0.0, 0.0, 5.0, 3.0, 4.5, 2.0, 2.5, 1.0, 0.0]
    assert landscape.interpolation_rise(alphas, climbing) == pytest.approx(1.5)
    assert landscape.interpolation_rise([0.0], [1.0]) == 0.0


# -- filter normalization ----------------------------------------------------------------------------
@SETTINGS
@given(hidden=st.lists(st.integers(1, 12), min_size=0, max_size=3), seed=st.integers(0, 10**6),
       biases=st.sampled_from(landscape.BIAS_MODES))
def test_filter_normalized_directions_have_the_weights_filter_norms(hidden, seed, biases):
    model = small_mlp(tuple(hidden))
    theta = np.random.default_rng(seed).standard_normal(model.dim)
    directions = landscape.filter_normalized_directions(model, theta, 2, seed=seed, biases=biases)
    for direction in directions:
        # Computed here from the layer layout, independently of landscape.filter_norms.
        for s in model.layer_slices:
            if s.kind != "weight":
                continue
            W_dir, W_theta = direction[s.slice].reshape(s.shape), theta[s.slice].reshape(s.shape)
            bias = next(b for b in model.layer_slices if b.kind == "bias" and b.layer == s.layer)
            if biases == "filter":
                W_dir = np.vstack([W_dir, direction[bias.slice]])
                W_theta = np.vstack([W_theta, theta[bias.slice]])
            else:
                assert np.all(direction[bias.slice] == 0)
            np.testing.assert_allclose(np.linalg.norm(W_dir, axis=0), np.linalg.norm(W_theta, axis=0),
                                       rtol=1e-12)
        np.testing.assert_allclose(landscape.filter_norms(model, direction, biases),
                                   landscape.filter_norms(model, theta, biases), rtol=1e-12)


def test_filter_normalization_keeps_the_random_orientation_and_zeroes_dead_units():
    model = small_mlp((4,))
    theta = model.init_params(seed=0)
    W1 = model.layer_slices[0]
    dead = np.array([1.0, 0.0, 1.0, 1.0])  # unit 1 has no incoming weights
    theta[W1.slice] = (theta[W1.slice].reshape(W1.shape) * dead).ravel()
    direction = landscape.filter_normalized_directions(model, theta, 1, seed=9)[0]
    raw = np.random.default_rng(9).standard_normal(model.dim)
    block, raw_block = direction[W1.slice].reshape(W1.shape), raw[W1.slice].reshape(W1.shape)
    assert np.all(block[:, 1] == 0)
    for j in (0, 2, 3):  # each filter is the raw draw rescaled, pointing the same way
        cosine = block[:, j] @ raw_block[:, j] / np.linalg.norm(block[:, j]) / np.linalg.norm(raw_block[:, j])
        assert cosine == pytest.approx(1.0)
    again = landscape.filter_normalized_directions(model, theta, 1, seed=9)
    assert np.array_equal(again[0], direction)
    assert not np.allclose(landscape.filter_normalized_directions(model, theta, 1, seed=10)[0], direction)


# -- PCA of trajectories -----------------------------------------------------------------------------
def test_a_trajectory_in_a_plane_projects_with_zero_error():
    d = 40
    origin = RNG.standard_normal(d)
    basis = np.linalg.qr(RNG.standard_normal((d, 2)))[0].T
    coords = np.column_stack([np.linspace(-3, 0, 30) ** 2, np.sin(np.linspace(0, 4, 30))])
    coords -= coords[-1]  # the path ends at the origin, like training ends at the trained weights
    path = origin + coords @ basis
    plane = landscape.trajectory_pca(path)
    np.testing.assert_allclose(plane.origin, origin)
    projected, distance = landscape.project(plane, path)
    assert np.max(distance) < 1e-12 * np.max(np.abs(path))
    np.testing.assert_allclose(origin + projected @ plane.directions, path, atol=1e-12)
    np.testing.assert_allclose(plane.explained_variance_ratio.sum(), 1.0)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    assert np.all(projected[0] <= 1e-12)  # the sign convention: the start is at negative coordinates


def test_pca_matches_an_eigen_decomposition_of_the_offsets_gram_matrix():
    scales = [3, 2, 1, 1, 0.5, 0.5, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1]
    paths = [np.cumsum(RNG.standard_normal((25, 12)) * scales, axis=0) for _ in range(2)]
    paths[1][-3:] = np.nan  # a diverged run: its non-finite rows are left out
    origin = paths[0][-1]
    plane = landscape.trajectory_pca(paths)
    offsets = np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in paths]) - origin
    eigenvalues, eigenvectors = np.linalg.eigh(offsets.T @ offsets)
    np.testing.assert_allclose(plane.explained_variance_ratio, eigenvalues[::-1][:2] / eigenvalues.sum(),
                               rtol=1e-10)
    for k in range(2):
        assert abs(plane.directions[k] @ eigenvectors[:, -1 - k]) == pytest.approx(1.0, abs=1e-10)
    assert plane.n_points == 25 + 22


def test_projection_check_compares_the_true_loss_with_the_plane_loss():
    model = small_mlp((8, 8))
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam", {"lr": 0.02})], 40)
    plane = landscape.trajectory_pca([r.trajectory.params for r in runs])
    for r in runs:
        check = landscape.projection_check(model, plane, r.trajectory.params, true_loss=r.trajectory.loss)
        on_plane = plane.origin + check.coords @ plane.directions
        np.testing.assert_allclose(check.plane_loss, model.f(on_plane), rtol=FLOAT32_RTOL)
        np.testing.assert_allclose(check.true_loss, model.f(r.trajectory.params), rtol=1e-12)
        np.testing.assert_allclose(check.distance, np.linalg.norm(r.trajectory.params - on_plane, axis=1),
                                   atol=1e-12)
        assert np.all(check.relative_distance <= 1.0 + 1e-12)
    first = landscape.projection_check(model, plane, runs[0].trajectory.params)
    assert first.distance[-1] == pytest.approx(0.0, abs=1e-12)  # the plane passes through run 1's weights
    np.testing.assert_allclose(first.true_loss, runs[0].trajectory.loss, rtol=1e-12)


def test_plane_axes_cover_the_points_with_square_cells():
    points = [np.array([[0.0, 0.0], [4.0, 1.0]]), np.array([[-1.0, 0.5]])]
    xs, ys = landscape.plane_axes(points, resolution=41)
    assert xs.size == 41 and ys.size < 41
    np.testing.assert_allclose(np.diff(xs).mean(), np.diff(ys).mean())
    assert xs[0] < -1 and xs[-1] > 4 and ys[0] < 0 and ys[-1] > 1


# -- sharpness and the stability line -----------------------------------------------------------------
def torch_dense_hessian(model: models.MLP, theta: np.ndarray) -> np.ndarray:
    X, y = torch.tensor(model.X), torch.tensor(model.y, dtype=torch.long)
    shapes = [(s.slice, s.shape) for s in model.layer_slices]

    def loss(flat: torch.Tensor) -> torch.Tensor:
        h = X
        for layer in range(len(shapes) // 2):
            (w_slice, w_shape), (b_slice, _) = shapes[2 * layer], shapes[2 * layer + 1]
            h = h @ flat[w_slice].reshape(w_shape) + flat[b_slice]
            if layer < len(shapes) // 2 - 1:
                h = torch.tanh(h)
        return torch.nn.functional.cross_entropy(h, y)

    return torch.autograd.functional.hessian(loss, torch.tensor(theta)).numpy()


def test_sharpness_equals_the_top_eigenvalue_of_a_dense_torch_hessian_on_a_tiny_network():
    model = small_mlp((3,))  # d = 17
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 1.0})], 30)
    params = runs[0].trajectory.params
    steps = np.array([0, 10, 30])
    values = analysis.sharpness(model, params, steps)
    expected = [np.linalg.eigvalsh(torch_dense_hessian(model, params[t]))[-1] for t in steps]
    np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_twenty_lanczos_steps_find_the_top_eigenvalue_of_a_larger_network():
    model = small_mlp((10, 8))  # d = 136: the default 20 iterations are far fewer than d
    theta = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5})], 50)[0].trajectory.params[-1]
    dense = np.linalg.eigvalsh(analysis.hessian(model, theta))[-1]
    np.testing.assert_allclose(analysis.sharpness(model, theta[None], np.array([0])), [dense], rtol=1e-5)


def test_sharpness_is_nan_after_a_divergence_and_reports_progress():
    model = small_mlp((3,))
    params = np.vstack([model.init_params(seed=0), np.full(model.dim, np.nan)])
    seen = []
    values = analysis.sharpness(model, params, np.array([0, 1]), progress=seen.append)
    assert np.isfinite(values[0]) and np.isnan(values[1]) and seen == [0.5, 1.0]


def test_sample_steps():
    assert analysis.sample_steps(100, 5).tolist() == [0, 25, 50, 75, 100]
    assert analysis.sample_steps(3, 10).tolist() == [0, 1, 2, 3]


class Parabola:
    """f(x) = curvature / 2 * x^2 in one dimension."""

    dim = 1

    def __init__(self, curvature: float) -> None:
        self.curvature = curvature

    def f(self, params):
        return 0.5 * self.curvature * np.asarray(params)[..., 0] ** 2

    def grad(self, params):
        return self.curvature * np.asarray(params)


@pytest.mark.parametrize("hyper", [{"lr": 0.1}, {"lr": 0.1, "momentum": 0.9},
                                   {"lr": 0.05, "momentum": 0.5, "nesterov": True},
                                   {"lr": 0.1, "momentum": 0.8, "dampening": 0.5},
                                   {"lr": 0.1, "weight_decay": 0.3}])
def test_stability_threshold_separates_converging_from_diverging_sgd(hyper):
    from lossviz.run import run

    optimizer = optimizers.get("sgd", **hyper)
    limit = float(analysis.stability_threshold(optimizer, hyper["lr"]))
    for factor, stable in ((0.97, True), (1.03, False)):
        traj = run(Parabola(factor * limit), optimizer, np.array([1.0]), 3000)
        final = abs(traj.params[-1, 0])
        assert (final < 1e-3) == stable, (factor, final)


def test_stability_threshold_is_two_over_lr_for_gd_per_step_and_none_for_adaptive_methods():
    lr = np.array([0.5, 0.25, 0.1])
    np.testing.assert_allclose(analysis.stability_threshold(optimizers.get("sgd", lr=0.5), lr), 2 / lr)
    assert analysis.stability_threshold(optimizers.get("adam"), lr) is None


# -- decision boundary, accuracy, training -----------------------------------------------------------
def test_decision_grid_gives_probabilities_whose_argmax_is_the_predicted_label():
    for model in (small_mlp((5,)), small_mlp((5,), data=SPIRALS3),
                  small_mlp((5,), loss="binary_cross_entropy_with_logits")):
        theta = model.init_params(seed=3)
        xs, ys = np.linspace(-2, 2, 6), np.linspace(-1, 1, 4)
        probs = nl.decision_grid(model, theta, xs, ys)
        assert probs.shape == (4, 6, model.n_classes)
        np.testing.assert_allclose(probs.sum(axis=-1), 1.0)
        points = np.array([[x, y] for y in ys for x in xs])
        np.testing.assert_array_equal(probs.argmax(axis=-1).ravel(), model.predict_labels(theta, points))


def test_accuracy_counts_correct_labels_and_gives_nan_for_diverged_rows():
    model = small_mlp((5,))
    params = np.vstack([model.init_params(seed=s) for s in range(20)] + [np.full(model.dim, np.inf)])
    values = nl.accuracy(model, params)
    expected = [(model.predict_labels(p) == model.y).mean() for p in params[:-1]]
    np.testing.assert_allclose(values[:-1], expected)
    assert np.isnan(values[-1])


def test_train_starts_every_optimizer_from_the_same_weights():
    model = small_mlp((6,))
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.3}), OptimizerSetting("adam", {"lr": 0.01})], 25,
                    init_seed=4, batch_sizes=[0, 16])
    assert [r.batch_size for r in runs] == [None, 16]
    for r in runs:
        np.testing.assert_array_equal(r.trajectory.params[0], model.init_params(seed=4))
        assert r.trajectory.params.shape == (26, model.dim) and r.accuracy.shape == (26,)
    assert runs[0].trajectory.loss[-1] < runs[0].trajectory.loss[0]
    assert runs[0].label == "1. SGD" and runs[1].label == "2. Adam"


def test_input_axes_cover_the_data_with_a_margin():
    xs, ys = nl.input_axes(np.array([[0.0, -1.0], [2.0, 3.0]]), 5, margin=0.5)
    np.testing.assert_allclose(xs, np.linspace(-0.5, 2.5, 5))
    np.testing.assert_allclose(ys, np.linspace(-1.5, 3.5, 5))


def test_run_and_check_summaries():
    model = small_mlp((4,), "relu", init_scale=5.0)
    (run,) = nl.train(model, [OptimizerSetting("sgd", {"lr": 100.0})], 10)
    assert run.trajectory.diverged_at > 0 and run.last_finite_step == run.trajectory.diverged_at
    check = landscape.ProjectionCheck(np.zeros((3, 2)), np.array([1.0, 2.0, np.nan]),
                                      np.array([1.5, 0.5, np.nan]), np.zeros(3), np.array([0.2, 0.7, np.nan]))
    assert check.max_gap == 1.5 and check.max_relative_distance == 0.7


def test_build_model_uses_two_features_for_every_dataset():
    for name in nl.DATASETS:
        model, data = nl.build_model(name, n_samples=60, hidden=(4,))
        assert model.n_features == 2 and data.n_features == 2
    model, data = nl.build_model("iris")
    assert data.feature_names == ("petal length (cm)", "petal width (cm)") and model.n_classes == 3
    assert "petal length and width" in data.description and "sepal" not in data.description


def test_torch_model_code_builds_the_same_network(tmp_path):
    import subprocess
    import sys

    model = small_mlp((5, 4), "relu")
    theta = model.init_params(seed=2)
    np.savez(tmp_path / "net.npz", X=model.X, y=model.y,
             **{f"W{i}": W for i, (W, _) in enumerate(model.unflatten(theta))},
             **{f"b{i}": b for i, (_, b) in enumerate(model.unflatten(theta))})
    # The generated text runs in its own interpreter (as the torch_export tests do), then loads our weights.
    script = nl.torch_model_code(model) + (
        "import numpy as np\n"
        f"data = np.load({str(tmp_path / 'net.npz')!r})\n"
        "layers = [m for m in model if isinstance(m, nn.Linear)]\n"
        "with torch.no_grad():\n"
        "    for i, layer in enumerate(layers):\n"
        "        layer.weight.copy_(torch.tensor(data[f'W{i}'].T))\n"
        "        layer.bias.copy_(torch.tensor(data[f'b{i}']))\n"
        "    print(repr(float(loss_fn(model(torch.tensor(data['X'])), torch.tensor(data['y']).long()))))\n")
    path = tmp_path / "net.py"
    path.write_text(script)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == pytest.approx(float(model.f(theta)), rel=1e-12)


# -- scenarios: what each one says happens -------------------------------------------------------------
def scenario_runs(name: str, **changes):
    sc = nl.get_scenario(name)
    spec = {"dataset": sc.dataset, "n_samples": sc.n_samples, "noise": sc.noise, "hidden": sc.hidden,
            "activation": sc.activation, "init": sc.init, "init_scale": sc.init_scale} | changes
    model, _ = nl.build_model(spec.pop("dataset"), **spec)
    return model, nl.train(model, sc.optimizers, sc.steps, batch_sizes=sc.batch_sizes)


def final_sharpness(model, run) -> float:
    return float(analysis.sharpness(model, run.trajectory.params, np.array([run.trajectory.n_steps]))[0])


def slice_width(model, run) -> float:
    """Share of a +-1 filter-normalized slice (seed 0) where the loss is within twice the centre's."""
    theta = run.trajectory.params[-1]
    xs, ys = landscape.slice_axes(1.0, 21)
    directions = landscape.filter_normalized_directions(model, theta, 2, seed=0)
    Z = landscape.loss_slice(model, theta, directions, xs, ys)
    return float(np.mean(Z < 2 * Z[10, 10]))


def test_scenario_large_lr_ends_at_the_edge_of_stability_yet_its_slice_looks_narrower():
    model, (small, large) = scenario_runs("large_lr")
    sharp_small, sharp_large = final_sharpness(model, small), final_sharpness(model, large)
    assert sharp_large < 0.5 * sharp_small
    assert sharp_large == pytest.approx(2 / 2.0, rel=0.3)  # hovering at 2/lr
    assert sharp_small < 0.2 * (2 / 0.05)
    norms = [np.linalg.norm(r.trajectory.params[-1]) for r in (small, large)]
    assert norms[1] > 1.6 * norms[0]  # "about twice the norm"
    assert slice_width(model, large) < slice_width(model, small)
    # The page's own numbers: the small rate's sharpness keeps rising over the second half, the large
    # rate's stays within 30% of 2/lr = 1 from a quarter of the way on, and each run's line is 2/lr.
    view = nl.sharpness_view(model, [small, large])
    half = view.steps >= view.steps[-1] // 2
    assert np.all(np.diff(view.sharpness[0, half]) > 0)
    later = view.steps >= view.steps[-1] // 4
    assert np.all(np.abs(view.sharpness[1, later] - 1.0) < 0.3)
    np.testing.assert_allclose(view.thresholds[0], 2 / 0.05)
    np.testing.assert_allclose(view.thresholds[1], 2 / 2.0)


def test_scenario_wide_vs_narrow_small_batches_end_flatter_at_equal_accuracy():
    model, (full, mini) = scenario_runs("wide_vs_narrow")
    assert final_sharpness(model, mini) < 0.5 * final_sharpness(model, full)
    assert abs(full.accuracy[-1] - mini.accuracy[-1]) < 0.02
    assert min(full.accuracy[-1], mini.accuracy[-1]) > 0.95
    assert slice_width(model, mini) > 1.3 * slice_width(model, full)
    # The page's slices, on one scale: the mini-batch minimum's valley is the wider.
    view = nl.slices_view(model, [full, mini], resolution=21)
    widths = [float(np.mean(Z < 2 * Z[10, 10])) for Z in view.slices]
    assert widths[1] > 1.3 * widths[0]


def test_scenario_init_scale_stalls_on_a_linear_plateau_that_scale_one_avoids():
    from sklearn.linear_model import LogisticRegression

    model, (tiny,) = scenario_runs("init_scale")
    loss = tiny.trajectory.loss
    assert abs(loss[100] - loss[-1]) < 0.01 and tiny.accuracy[-1] < 0.9
    assert tiny.accuracy[-1] == pytest.approx(0.87, abs=0.02)  # "about 87% of the moons"
    labels = model.predict_labels(tiny.trajectory.params[-1])
    # A straight boundary: a linear classifier reproduces the network's labels.
    assert LogisticRegression(C=1e4).fit(model.X, labels).score(model.X, labels) > 0.99
    _, (normal,) = scenario_runs("init_scale", init_scale=1.0)
    assert normal.accuracy[-1] > 0.95


def test_scenario_adam_vs_sgd_reach_equal_accuracy_off_a_single_plane():
    model, runs = scenario_runs("adam_vs_sgd")
    assert all(r.accuracy[-1] > 0.95 for r in runs)
    plane = landscape.trajectory_pca([r.trajectory.params for r in runs])
    assert plane.explained_variance_ratio.sum() < 0.99
    adam_path = runs[1].trajectory
    check = landscape.projection_check(model, plane, adam_path.params, true_loss=adam_path.loss)
    assert np.nanmax(np.abs(check.true_loss - check.plane_loss)) > 0.1
    assert analysis.stability_threshold(runs[1].optimizer, 0.01) is None
    # Adam's own limit is on the preconditioned sharpness, 38/lr: it climbs toward it, to about half.
    view = nl.sharpness_view(model, runs)
    assert view.thresholds[1] is None and view.adaptive_thresholds[0] is None
    np.testing.assert_allclose(view.adaptive_thresholds[1], 38 / 0.01)
    adam = view.preconditioned[1]
    assert np.all(np.isnan(view.preconditioned[0]))
    assert 0.35 < adam[-1] / (38 / 0.01) < 0.65
    assert adam[-1] > 1.5 * adam[np.argmin(np.abs(view.steps - 100))]


def test_every_scenario_explanation_names_numbers_its_test_checks():
    # The numbers the texts state, which the tests above check; a changed text must change its test.
    texts = {name: nl.get_scenario(name).explanation for name in nl.scenario_names()}
    assert "2/lr = 1" in texts["large_lr"] and "2/lr = 40" in texts["large_lr"]
    assert "87%" in texts["init_scale"]
    assert "38/lr" in texts["adam_vs_sgd"] and "half" in texts["adam_vs_sgd"]
    assert "8 samples" in texts["wide_vs_narrow"]


# -- validation ----------------------------------------------------------------------------------------
def test_validation_messages_name_the_parameter_and_value():
    model = small_mlp((4,))
    theta = model.init_params(seed=0)
    two = np.ones((2, model.dim))
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; valid names: moons"):
        nl.build_model("mnist")
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[10, 5000\], got 5"):
        nl.build_model("moons", n_samples=5)
    with pytest.raises(ValueError, match=r"noise must be in \[0, 5\], got -1"):
        nl.build_model("moons", noise=-1)
    with pytest.raises(ValueError, match=r"params must have shape \(22,\) for a model with d = 22, "
                                         r"got \(3,\)"):
        landscape.filter_normalized_directions(model, np.ones(3))
    with pytest.raises(ValueError, match=r"n_directions must be an integer in \[1, 8\], got 0"):
        landscape.filter_normalized_directions(model, theta, 0)
    with pytest.raises(ValueError, match="unknown biases 'keep'; valid names: zero, filter"):
        landscape.filter_normalized_directions(model, theta, biases="keep")
    with pytest.raises(TypeError, match="model must have layer_slices"):
        landscape.filter_normalized_directions(Parabola(1.0), [0.0])
    with pytest.raises(TypeError, match="model must be an objective with f"):
        landscape.plane_losses(object(), theta, two, np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"directions must have shape \(m, 22\)"):
        landscape.plane_losses(model, theta, np.ones((2, 3)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"coords must have shape \(K, 2\) for 2 direction\(s\), "
                                         r"got \(4, 3\)"):
        landscape.plane_losses(model, theta, two, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="dtype must be np.float64 or np.float32, got 'int8'"):
        landscape.plane_losses(model, theta, two, np.zeros((1, 2)), dtype="int8")
    with pytest.raises(ValueError, match=r"directions must have shape \(2, 22\) for a 2-D slice, "
                                         r"got \(3, 22\)"):
        landscape.loss_slice(model, theta, np.ones((3, model.dim)), [0.0], [0.0])
    with pytest.raises(ValueError, match=r"span must be in \(0, 100\], got 0"):
        landscape.slice_axes(0.0)
    with pytest.raises(ValueError, match=r"resolution must be an integer in \[3, 201\], got 500"):
        landscape.slice_axes(1.0, 500)
    with pytest.raises(ValueError, match="paths have no finite point"):
        landscape.trajectory_pca(np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="every path must have the same number of columns"):
        landscape.trajectory_pca([np.zeros((3, 4)), np.zeros((3, 5))])
    with pytest.raises(TypeError, match="steps must be a 1-D array of integer step indices"):
        analysis.sharpness(model, theta[None], np.array([0.5]))
    with pytest.raises(ValueError, match=r"steps must be in \[0, 0\], got 3"):
        analysis.sharpness(model, theta[None], np.array([3]))
    with pytest.raises(ValueError, match=r"n_iter must be an integer in \[2, 200\], got 1"):
        analysis.sharpness(model, theta[None], np.array([0]), n_iter=1)
    iris = datasets.get("iris")
    four_features = models.mlp(iris.X, iris.y, hidden=(3,))
    with pytest.raises(ValueError, match="decision_grid needs a model on 2 input features, got 4"):
        nl.decision_grid(four_features, four_features.init_params(), [0.0], [0.0])
    with pytest.raises(ValueError, match="settings must hold 1 to 4 optimizers, got 0"):
        nl.train(model, [], 10)
    with pytest.raises(ValueError, match=r"steps must be an integer in \[1, 5000\], got 0"):
        nl.train(model, [OptimizerSetting("sgd")], 0)
    with pytest.raises(ValueError, match=r"batch_sizes must have one entry per optimizer \(1\), got 2"):
        nl.train(model, [OptimizerSetting("sgd")], 5, batch_sizes=[0, 1])
    wide = small_mlp((128, 128, 128, 128))
    with pytest.raises(ValueError, match=r"training would record optimizers x \(steps \+ 1\) x d = "
                                         r"3 x 3001 x 50,178 = 451,752,534 weights, more than 25,000,000"):
        nl.train(wide, [OptimizerSetting("sgd")] * 3, 3000)
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        nl.get_scenario("nope")
    with pytest.raises(TypeError, match="model must be a lossviz MLP"):
        nl.torch_model_code(Parabola(1.0))
    with pytest.raises(ValueError, match=r"true_loss must have one value per row of params \(2\), got 3"):
        landscape.projection_check(model, landscape.trajectory_pca(np.stack([theta, theta + 1])),
                                   np.stack([theta, theta]), true_loss=np.zeros(3))


# -- training: runs together, loss and accuracy from the gradient's pass ---------------------------------
def test_runs_trained_together_equal_runs_trained_alone():
    model = small_mlp((6,))
    settings_ = [OptimizerSetting("sgd", {"lr": 0.3}), OptimizerSetting("sgd", {"lr": 0.1, "momentum": 0.5}),
                 OptimizerSetting("sgd", {"lr": 0.2}), OptimizerSetting("adam", {"lr": 0.01})]
    together = nl.train(model, settings_, 30, init_seed=2, batch_sizes=[0, 0, 16, 0], seed=4)
    for setting, batch, run in zip(settings_, [0, 0, 16, 0], together):
        (alone,) = nl.train(model, [setting], 30, init_seed=2, batch_sizes=[batch], seed=4)
        np.testing.assert_array_equal(run.trajectory.params, alone.trajectory.params)
        np.testing.assert_array_equal(run.trajectory.loss, alone.trajectory.loss)
        np.testing.assert_array_equal(run.accuracy, alone.accuracy)
        assert run.seed == 4 and run.batch_size == (batch or None)
    assert [r.adaptive for r in together] == [False, False, False, True]
    assert together[3].grads.shape == (31, model.dim)


def test_training_loss_and_accuracy_are_the_models_own_at_every_step():
    model = small_mlp((5, 4), data=SPIRALS3)
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam", {"lr": 0.02})], 25,
                    batch_sizes=[0, 12])
    for r in runs:  # full batch (from the gradient's pass) and mini-batch (scored after the loop)
        params = r.trajectory.params
        np.testing.assert_allclose(r.trajectory.loss, model.f(params), rtol=1e-12)
        expected = [(model.predict_labels(p) == model.y).mean() for p in params]
        np.testing.assert_array_equal(r.accuracy, expected)
        np.testing.assert_array_equal(r.accuracy, nl.accuracy(model, params))


def test_a_diverged_run_has_nan_loss_and_accuracy_after_it_diverged():
    model = small_mlp((4,), "relu", init_scale=5.0)
    (run,) = nl.train(model, [OptimizerSetting("sgd", {"lr": 100.0})], 10)
    after = run.trajectory.diverged_at + 1
    assert np.all(np.isnan(run.accuracy[after:])) and np.all(np.isfinite(run.accuracy[:after]))


# -- the views, one call each, coarse and refined -------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    model = small_mlp((8, 6))
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}), OptimizerSetting("adam", {"lr": 0.02})], 40)
    return model, runs


def test_views_are_the_parts_of_landscape_views(trained):
    model, runs = trained
    every = nl.landscape_views(model, runs, focus=1, resolution=9, sharpness_points=5)
    line = nl.interpolation_view(model, runs)
    np.testing.assert_array_equal(line.values, every.interpolation)
    cut = nl.slices_view(model, runs, resolution=9)
    np.testing.assert_array_equal(cut.slices, every.slices)
    plane = nl.plane_view(model, runs, focus=1, resolution=9)
    np.testing.assert_array_equal(plane.Z, every.plane_Z)
    sharp = nl.sharpness_view(model, runs, points=5)
    np.testing.assert_array_equal(sharp.sharpness, every.sharpness)
    np.testing.assert_array_equal(sharp.preconditioned, every.preconditioned)
    frames = nl.export_frames(runs, every)
    table = frames["trajectories"]
    adam = table[table.run == runs[1].label].dropna(subset=["preconditioned_sharpness"])
    np.testing.assert_allclose(adam.adaptive_stability_limit, 38 / 0.02)
    np.testing.assert_allclose(adam.preconditioned_sharpness, sharp.preconditioned[1])


def test_each_view_against_an_independent_computation(trained):
    model, runs = trained
    line = nl.interpolation_view(model, runs, n_alphas=5)
    for r, values in zip(runs, line.values):
        theta0, theta1 = r.trajectory.params[0], r.trajectory.params[-1]
        np.testing.assert_allclose(values, [model.f(theta0 + a * (theta1 - theta0)) for a in line.alphas],
                                   rtol=1e-12)
    cut = nl.slices_view(model, runs, **nl.COARSE["slices"])
    middle = cut.xs.size // 2
    for r, Z in zip(runs, cut.slices):
        assert Z[middle, middle] == pytest.approx(model.f(r.trajectory.params[-1]), rel=FLOAT32_RTOL)
    sharp = nl.sharpness_view(model, runs, **nl.COARSE["sharpness"])
    for r, values, limit in zip(runs, sharp.sharpness, sharp.thresholds):
        expected = [np.linalg.eigvalsh(analysis.hessian(model, r.trajectory.params[t]))[-1]
                    for t in sharp.steps]
        np.testing.assert_allclose(values, expected, rtol=1e-4)  # 10 Lanczos iterations
    np.testing.assert_allclose(sharp.thresholds[0], 2 / 0.5)
    assert sharp.thresholds[1] is None
    # Adam's preconditioned sharpness: the top eigenvalue of diag(P^-1) H formed explicitly.
    adam = runs[1]
    inverse = analysis.adaptive_preconditioners(adam.optimizer, adam.trajectory.params, adam.grads,
                                                adam.trajectory.lr, sharp.steps)
    for row, t in enumerate(sharp.steps[1:], start=1):
        H = analysis.hessian(model, adam.trajectory.params[t])
        top = np.linalg.eigvals(np.diag(inverse[row]) @ H).real.max()
        assert sharp.preconditioned[1, row] == pytest.approx(top, rel=1e-3)
    assert np.all(np.isnan(sharp.preconditioned[0]))
    decision = nl.decision_view(model, runs, 25, **nl.COARSE["decision"])
    for r, probs in zip(runs, decision.probs):
        np.testing.assert_array_equal(probs, nl.decision_grid(model, r.trajectory.params[25], decision.xs,
                                                              decision.ys))


def test_the_coarse_plane_evaluates_fewer_path_points_and_agrees_where_it_does(trained):
    model, runs = trained
    coarse = nl.plane_view(model, runs, focus=0, **nl.COARSE["plane"] | {"path_points": 5})
    refined = nl.plane_view(model, runs, focus=0, **nl.REFINED["plane"])
    assert max(coarse.Z.shape) == nl.COARSE["plane"]["resolution"] < max(refined.Z.shape)
    for fast, full in zip(coarse.checks, refined.checks):
        sampled = np.flatnonzero(np.isfinite(fast.plane_loss))
        np.testing.assert_array_equal(sampled, analysis.sample_steps(40, 5))
        np.testing.assert_allclose(fast.plane_loss[sampled], full.plane_loss[sampled], rtol=1e-12)
        np.testing.assert_allclose(fast.coords, full.coords, rtol=1e-12)
        np.testing.assert_allclose(fast.relative_distance, full.relative_distance, rtol=1e-12)


def test_decision_view_stops_at_a_diverged_runs_last_finite_step():
    model = small_mlp((4,), "relu", init_scale=5.0)
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 100.0}), OptimizerSetting("sgd", {"lr": 0.1})], 10)
    view = nl.decision_view(model, runs, 10, resolution=5)
    assert view.steps.tolist() == [runs[0].last_finite_step, 10]
    assert np.all(np.isfinite(view.probs))


def test_view_validation_names_the_parameter(trained):
    model, runs = trained
    with pytest.raises(ValueError, match="runs must hold at least one trained run"):
        nl.sharpness_view(model, [])
    with pytest.raises(ValueError, match=r"points must be an integer in \[2, 200\], got 1"):
        nl.sharpness_view(model, runs, points=1)
    with pytest.raises(ValueError, match=r"n_alphas must be an integer in \[3, 1001\], got 2"):
        nl.interpolation_view(model, runs, n_alphas=2)
    with pytest.raises(ValueError, match=r"path_points must be an integer in \[2, 1000\], got 1"):
        nl.plane_view(model, runs, path_points=1)
    with pytest.raises(ValueError, match=r"step must be an integer in \[0, 40\], got 41"):
        nl.decision_view(model, runs, 41)
    with pytest.raises(ValueError, match=r"focus must be an integer in \[0, 1\], got 2"):
        nl.plane_view(model, runs, focus=2)


# -- the same training in PyTorch --------------------------------------------------------------------------
def run_script(script: nl.TorchScript, folder) -> list[dict]:
    import json
    import subprocess
    import sys

    path = folder / "train_in_torch.py"
    path.write_text(script.code)
    for name, text in script.files.items():
        (folder / name).write_text(text)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600,
                            cwd=str(folder.parent), env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


TORCH_RUNS = [
    (OptimizerSetting("sgd", {"lr": 0.3}, label="plain"), 0),
    (OptimizerSetting("sgd", {"lr": 0.1, "momentum": 0.9}, label="momentum, mini-batches"), 16),
    (OptimizerSetting("adam", {"lr": 0.01}, "step", {"step_size": 30, "gamma": 0.5, "warmup_steps": 5},
                      label="adam, warm-up then step"), 0),
    (OptimizerSetting("adam", {"lr": 0.01, "betas": (0.8, 0.99)}, label="adam, mini-batches"), 20),
]
MORE_TORCH_RUNS = [
    (OptimizerSetting("sgd", {"lr": 0.2, "momentum": 0.5, "nesterov": True}, "exponential", {"gamma": 0.99},
                      label="nesterov, exponential"), 0),
    (OptimizerSetting("adamw", {"lr": 0.02, "weight_decay": 0.05}, "cosine", {"T_max": 60},
                      label="adamw, cosine, mini-batches"), 13),
]


def test_torch_script_reproduces_every_run_to_1e_6(tmp_path):
    model = small_mlp((6,), data=datasets.get("moons", n_samples=60, noise=0.2, seed=5))
    first = nl.train(model, [s for s, _ in TORCH_RUNS], 60, init_seed=3,
                     batch_sizes=[b for _, b in TORCH_RUNS])
    second = nl.train(model, [s for s, _ in MORE_TORCH_RUNS], 60, init_seed=3,
                      batch_sizes=[b for _, b in MORE_TORCH_RUNS], seed=7)
    runs = first + second
    for inline, folder in ((nl.INLINE_NUMBERS, tmp_path / "inline"), (0, tmp_path / "files")):
        folder.mkdir()
        script = nl.torch_script(model, runs, inline_numbers=inline)
        assert bool(script.files) == (inline == 0)
        if inline == 0:
            assert {"lossviz_nn_x1.csv", "lossviz_nn_y.csv", "lossviz_nn_initial_weights.csv",
                    "lossviz_nn_order_16_0.csv", "lossviz_nn_order_13_7.csv"} <= set(script.files)
        printed = run_script(script, folder)
        assert [p["run"] for p in printed] == [r.label for r in runs]
        for p, r in zip(printed, runs):
            assert p["loss"] == pytest.approx(r.trajectory.loss[-1], abs=1e-6, rel=1e-6), r.label
            assert p["accuracy"] == pytest.approx(r.accuracy[-1], abs=1e-6), r.label
            assert r.trajectory.loss[-1] < 0.8 * r.trajectory.loss[0]  # they trained


def test_torch_script_of_a_one_output_network_and_a_regression(tmp_path):
    data = datasets.get("moons", n_samples=30, noise=0.2, seed=1)
    binary = models.mlp(data.X, data.y, hidden=(4,), loss="binary_cross_entropy_with_logits")
    regression = models.mlp(data.X, data.X[:, 0] ** 2, hidden=(4,), task="regression")
    for index, model in enumerate((binary, regression)):
        runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.2})], 40)
        folder = tmp_path / str(index)
        folder.mkdir()
        (printed,) = run_script(nl.torch_script(model, runs), folder)
        assert printed["loss"] == pytest.approx(runs[0].trajectory.loss[-1], rel=1e-9)
        if model.task == "classification":
            assert printed["accuracy"] == pytest.approx(runs[0].accuracy[-1])
        else:
            assert printed["accuracy"] is None


HOSTILE_LABELS = [
    "x\nimport os; os.system('echo pwned')  #",
    "a\u2028import os\u2029b", "c\x85import os", "d\x0bimport os", "e\x0cimport os", "f\x1cimport os",
    "g\rimport os", "'''\"\"\"", "\\", "tab\tend",
]


def _statements(code: str) -> str:
    """The script's syntax tree with every string constant blanked: what runs, not what it prints."""
    import ast

    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("label", HOSTILE_LABELS, ids=range(len(HOSTILE_LABELS)))
def test_hostile_labels_reach_the_script_only_as_data(label):
    model = small_mlp((3,))
    plain = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.1}, label="plain")], 3)
    hostile = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.1}, label=label)], 3)
    code = nl.torch_script(model, hostile).code
    assert _statements(code) == _statements(nl.torch_script(model, plain).code)
    running = [line for line in code.splitlines()
               if not line.lstrip().startswith("#") and "report(" not in line]
    assert "import os" not in "\n".join(running)
    import ast

    printed = [n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call)
               and getattr(n.func, "id", "") == "report"]
    assert printed[0].args[0].value == label  # the label itself, exactly, as a string literal


def test_torch_script_validation():
    model = small_mlp((3,))
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.1})], 3)
    with pytest.raises(TypeError, match="model must be a lossviz MLP"):
        nl.torch_script(Parabola(1.0), runs)
    with pytest.raises(ValueError, match="runs must hold at least one trained run"):
        nl.torch_script(model, [])
    hinge = small_mlp((3,), loss="hinge")
    with pytest.raises(ValueError, match="the model's loss is 'hinge'"):
        nl.torch_script(hinge, nl.train(hinge, [OptimizerSetting("sgd", {"lr": 0.1})], 3))
    longer = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.1})], 4)
    with pytest.raises(ValueError, match=r"every run must have the same steps \(3\), run 1 has 4"):
        nl.torch_script(model, runs + longer)
