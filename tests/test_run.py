"""Tests for lossviz.run: the vectorized step loop and the Trajectory it returns."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import models, optimizers, schedules, surfaces
from lossviz.run import MAX_STEPS, StepObjective, Trajectory, minibatch_indices, run

ROSENBROCK = surfaces.get("rosenbrock")
QUADRATIC = surfaces.get("quadratic", condition_number=10.0, rotation=30.0)


class LeastSquares:
    """A tiny data objective, mean of (x_i . w - y_i)^2 / 2, that remembers the batches it was given."""

    def __init__(self, n_samples: int = 10, dim: int = 3, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(n_samples, dim))
        self.y = rng.normal(size=n_samples)
        self.n_samples = n_samples
        self.dim = dim
        self.grad_batches: list[np.ndarray | None] = []

    def _rows(self, batch: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return (self.X, self.y) if batch is None else (self.X[batch], self.y[batch])

    def f(self, params: np.ndarray, batch: np.ndarray | None = None) -> np.ndarray:
        X, y = self._rows(batch)
        residual = np.asarray(params) @ X.T - y
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(self, params: np.ndarray, batch: np.ndarray | None = None) -> np.ndarray:
        self.grad_batches.append(None if batch is None else np.array(batch))
        X, y = self._rows(batch)
        residual = np.asarray(params) @ X.T - y
        return residual @ X / len(y)


# ----------------------------------------------------------------------------------------- shapes, frame
def test_single_start_drops_the_run_axis() -> None:
    traj = run(ROSENBROCK, optimizers.get("adam", lr=0.01), np.array([-1.5, 2.0]), 50)
    assert isinstance(traj, Trajectory) and not traj.batched
    assert traj.params.shape == (51, 2)
    assert traj.loss.shape == traj.grad_norm.shape == (51,)
    assert traj.lr.shape == (50,)
    assert traj.diverged_at == -1 and traj.converged_at == -1
    assert isinstance(traj.diverged_at, int)
    assert (traj.n_runs, traj.n_steps, traj.dim) == (1, 50, 2)
    np.testing.assert_array_equal(traj.params[0], [-1.5, 2.0])


def test_recorded_loss_and_grad_norm_are_measured_at_the_recorded_params() -> None:
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [2.0, 2.0]])
    traj = run(ROSENBROCK, optimizers.get("sgd", lr=1e-4, momentum=0.5), starts, 30)
    np.testing.assert_allclose(traj.loss, ROSENBROCK.f(traj.params), rtol=1e-14)
    expected_norms = np.linalg.norm(ROSENBROCK.grad(traj.params), axis=-1)
    np.testing.assert_allclose(traj.grad_norm, expected_norms, rtol=1e-13)


def test_plain_gradient_descent_follows_the_hand_recursion() -> None:
    lr = 0.3
    traj = run(QUADRATIC, optimizers.get("sgd", lr=lr), np.array([1.0, -2.0]), 25)
    A = QUADRATIC.hessian(np.zeros(2))
    x = np.array([1.0, -2.0])
    for t in range(26):
        np.testing.assert_allclose(traj.params[t], x, rtol=1e-13, atol=1e-15)
        x = x - lr * A @ x
    np.testing.assert_array_equal(traj.lr, np.full(25, lr))


def test_to_frame_is_long_and_ready_for_csv() -> None:
    starts = np.array([[-1.5, 2.0], [0.5, -0.5]])
    traj = run(ROSENBROCK, optimizers.get("sgd", lr=1e-4), starts, 10)
    frame = traj.to_frame()
    assert list(frame.columns) == ["run", "step", "x", "y", "loss", "grad_norm", "lr"]
    assert frame.shape == (2 * 11, 7)
    second = frame[frame["run"] == 1]
    np.testing.assert_array_equal(second["step"], np.arange(11))
    np.testing.assert_array_equal(second[["x", "y"]].to_numpy(), traj.params[1])
    np.testing.assert_array_equal(second["loss"], traj.loss[1])
    np.testing.assert_array_equal(second["lr"].to_numpy()[:10], traj.lr[1])
    assert np.isnan(second["lr"].to_numpy()[10])
    roundtrip = pd.read_csv(pd.io.common.StringIO(frame.to_csv(index=False)))
    np.testing.assert_allclose(roundtrip["loss"], frame["loss"])


def test_to_frame_names_parameters_p0_onwards_or_from_the_objective() -> None:
    data = LeastSquares(dim=3)
    frame = run(data, optimizers.get("sgd", lr=0.1), np.zeros(3), 4).to_frame()
    assert list(frame.columns) == ["run", "step", "p0", "p1", "p2", "loss", "grad_norm", "lr"]
    assert (frame["run"] == 0).all() and len(frame) == 5
    data.param_names = ("bias", "w1", "w2")
    frame = run(data, optimizers.get("sgd", lr=0.1), np.zeros(3), 4).to_frame()
    assert list(frame.columns)[2:5] == ["bias", "w1", "w2"]


def test_zero_steps_records_the_start() -> None:
    traj = run(QUADRATIC, optimizers.get("sgd", lr=0.1), np.array([1.0, 1.0]), 0)
    assert traj.params.shape == (1, 2) and traj.lr.shape == (0,)
    assert traj.loss[0] == pytest.approx(float(QUADRATIC.f([1.0, 1.0])))


# ------------------------------------------------------------------------------------- runs at once
@settings(max_examples=25, deadline=None)
@given(
    starts=st.lists(
        st.tuples(st.floats(-2, 2), st.floats(-1, 3)), min_size=1, max_size=5
    ),
    name=st.sampled_from(optimizers.names()),
)
def test_runs_at_once_equal_separate_runs(starts: list[tuple[float, float]], name: str) -> None:
    optimizer = optimizers.get(name, lr=1e-3)
    x0 = np.array(starts)
    together = run(ROSENBROCK, optimizer, x0, 40)
    assert together.params.shape == (len(starts), 41, 2)
    for r, start in enumerate(x0):
        alone = run(ROSENBROCK, optimizer, start, 40)
        np.testing.assert_allclose(together.params[r], alone.params, rtol=1e-13, atol=1e-300)
        np.testing.assert_allclose(together.loss[r], alone.loss, rtol=1e-13, atol=1e-300)
        assert together.diverged_at[r] == alone.diverged_at


def test_per_run_hyperparameters_broadcast_a_single_start() -> None:
    lrs = np.array([1e-4, 5e-4, 1e-3])
    momenta = np.array([0.0, 0.5, 0.9])
    x0 = np.array([-1.5, 2.0])
    sweep = run(ROSENBROCK, optimizers.get("sgd", lr=lrs, momentum=momenta), x0, 60)
    assert sweep.batched and sweep.params.shape == (3, 61, 2)
    assert sweep.diverged_at.shape == (3,) and sweep.converged_at.shape == (3,)
    for r in range(3):
        alone = run(ROSENBROCK, optimizers.get("sgd", lr=lrs[r], momentum=momenta[r]), x0, 60)
        np.testing.assert_allclose(sweep.params[r], alone.params, rtol=1e-13)
        np.testing.assert_array_equal(sweep.lr[r], np.full(60, lrs[r]))


def test_per_run_arrays_must_agree_on_the_number_of_runs() -> None:
    optimizer = optimizers.get("sgd", lr=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"same length R.*lr: 3.*x0: 2"):
        run(QUADRATIC, optimizer, np.zeros((2, 2)), 5)
    schedule = schedules.get("step", base_lr=np.array([0.1, 0.2]), step_size=2)
    with pytest.raises(ValueError, match=r"same length R.*lr: 3.*schedule base_lr: 2"):
        run(QUADRATIC, optimizer, np.zeros(2), 5, schedule)


def test_a_diverging_run_does_not_disturb_the_others() -> None:
    lrs = np.array([0.5, 2.5, 1.0])  # lambda_max = 1: lr 2.5 overshoots more every step
    x0 = np.array([1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep = run(QUADRATIC, optimizers.get("sgd", lr=lrs), x0, 400)
    assert sweep.diverged_at[0] == -1 and sweep.diverged_at[2] == -1
    k = sweep.diverged_at[1]
    assert k > 0
    for r in (0, 2):
        alone = run(QUADRATIC, optimizers.get("sgd", lr=lrs[r]), x0, 400)
        np.testing.assert_array_equal(sweep.params[r], alone.params)
    # The divergence step is the first where the loss passed 1e12 x its start.
    threshold = 1e12 * max(1.0, sweep.loss[1, 0])
    assert sweep.loss[1, k] > threshold and np.all(sweep.loss[1, :k] <= threshold)
    assert np.all(np.isnan(sweep.params[1, k + 1 :])) and np.all(np.isnan(sweep.loss[1, k + 1 :]))
    assert np.all(np.isfinite(sweep.params[1, : k + 1]))
    assert np.all(np.isnan(sweep.lr[1, k:])) and np.all(sweep.lr[1, :k] == 2.5)


def test_divergence_to_inf_and_nan_is_caught_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = run(ROSENBROCK, optimizers.get("sgd", lr=0.1), np.array([-1.5, 2.0]), 200,
                   divergence_threshold=1e300)
    assert traj.diverged_at > 0
    assert not np.isfinite(traj.loss[traj.diverged_at]) or not np.isfinite(traj.grad_norm[traj.diverged_at])
    assert np.all(np.isnan(traj.params[traj.diverged_at + 1 :]))
    assert traj.params.shape == (201, 2)


def test_divergence_threshold_is_relative_to_the_starting_loss() -> None:
    lr = 2.2  # |1 - lr * lambda_max| = 1.2: the loss grows 1.44x per step
    traj = run(QUADRATIC, optimizers.get("sgd", lr=lr), np.array([1.0, 1.0]), 200, divergence_threshold=100.0)
    start = traj.loss[0]
    k = traj.diverged_at
    assert traj.loss[k] > 100 * max(1.0, start) >= traj.loss[k - 1]


def test_every_run_stopping_ends_the_loop_early_but_keeps_full_length() -> None:
    objective = LeastSquares(dim=3)
    traj = run(objective, optimizers.get("sgd", lr=np.array([50.0, 80.0])), np.zeros(3), 5000)
    assert np.all(traj.diverged_at > 0)
    assert len(objective.grad_batches) < 1000  # stopped long before 5001 gradient evaluations
    assert traj.params.shape == (2, 5001, 3)
    for r in range(2):
        assert np.all(np.isnan(traj.params[r, traj.diverged_at[r] + 1 :]))


# ----------------------------------------------------------------------------------------- grad_tol
def test_grad_tol_marks_convergence_and_freezes_the_run() -> None:
    lrs = np.array([0.1, 0.5, 1.0])
    tol = 1e-6
    traj = run(QUADRATIC, optimizers.get("sgd", lr=lrs), np.array([1.0, -1.0]), 2000, grad_tol=tol)
    A = QUADRATIC.hessian(np.zeros(2))
    for r, lr in enumerate(lrs):
        # Independent count: iterate until ||A x|| < tol.
        x = np.array([1.0, -1.0])
        steps_needed = 0
        while np.linalg.norm(A @ x) >= tol:
            x = x - lr * A @ x
            steps_needed += 1
        c = traj.converged_at[r]
        assert c == steps_needed
        assert traj.grad_norm[r, c] < tol <= traj.grad_norm[r, c - 1]
        np.testing.assert_array_equal(traj.params[r, c:], np.broadcast_to(traj.params[r, c], (2001 - c, 2)))
        assert np.all(np.isnan(traj.lr[r, c:])) and np.all(traj.lr[r, :c] == lr)
    assert np.all(traj.diverged_at == -1)


def test_every_run_converging_ends_the_loop_early() -> None:
    objective = LeastSquares(n_samples=12, dim=3)
    optimizer = optimizers.get("sgd", lr=np.array([0.3, 0.5]))
    traj = run(objective, optimizer, np.zeros((2, 3)), 20_000, grad_tol=1e-9)
    assert np.all(traj.converged_at > 0) and np.all(traj.diverged_at == -1)
    assert len(objective.grad_batches) < 2000
    assert traj.params.shape == (2, 20_001, 3)
    for r in range(2):
        c = traj.converged_at[r]
        np.testing.assert_array_equal(traj.params[r, -1], traj.params[r, c])
        assert traj.grad_norm[r, -1] == traj.grad_norm[r, c] < 1e-9


def test_recorded_grads_and_state_of_a_diverged_run_end_with_it() -> None:
    optimizer = optimizers.get("sgd", lr=np.array([0.5, 4.0]), momentum=0.5)  # limit 2(1+0.5) = 3
    traj = run(QUADRATIC, optimizer, np.array([1.0, 1.0]), 300, record_grads=True, record_state=True)
    k = traj.diverged_at[1]
    assert k > 0 and traj.diverged_at[0] == -1
    assert np.all(np.isnan(traj.grads[1, k + 1 :])) and np.all(np.isfinite(traj.grads[1, : k + 1]))
    assert np.all(np.isnan(traj.states["momentum_buffer"][1, k + 1 :]))
    np.testing.assert_allclose(traj.grads[0], QUADRATIC.grad(traj.params[0]), rtol=1e-13, atol=1e-300)


def test_grad_tol_at_the_start_takes_no_step() -> None:
    traj = run(QUADRATIC, optimizers.get("sgd", lr=0.1), np.zeros(2), 10, grad_tol=1e-8)
    assert traj.converged_at == 0
    np.testing.assert_array_equal(traj.params, np.zeros((11, 2)))


# ----------------------------------------------------------------------------------------- schedules
def test_the_schedule_sets_the_lr_of_step_t() -> None:
    schedule = schedules.get("step", base_lr=0.4, step_size=3, gamma=0.5)
    traj = run(QUADRATIC, optimizers.get("sgd", lr=123.0), np.array([1.0, -2.0]), 12, schedule)
    expected = schedule(np.arange(12))
    np.testing.assert_array_equal(traj.lr, expected)
    A = QUADRATIC.hessian(np.zeros(2))
    x = np.array([1.0, -2.0])
    for t in range(12):
        x = x - float(schedule(t)) * A @ x
        np.testing.assert_allclose(traj.params[t + 1], x, rtol=1e-13, atol=1e-15)


def test_a_per_run_schedule_gives_per_run_lrs() -> None:
    base = np.array([0.1, 0.3])
    schedule = schedules.get("exponential", base_lr=base, gamma=0.9)
    traj = run(QUADRATIC, optimizers.get("sgd"), np.array([1.0, 1.0]), 8, schedule)
    assert traj.batched and traj.params.shape == (2, 9, 2)
    np.testing.assert_allclose(traj.lr, schedule(np.arange(8)).T)
    for r in range(2):
        alone = run(QUADRATIC, optimizers.get("sgd"), np.array([1.0, 1.0]), 8,
                    schedules.get("exponential", base_lr=float(base[r]), gamma=0.9))
        np.testing.assert_allclose(traj.params[r], alone.params, rtol=1e-14)


@pytest.mark.parametrize("name", optimizers.names())
@pytest.mark.parametrize("lr_source", ["hyperparameter", "shared schedule", "per-run schedule"])
def test_the_loop_takes_bit_for_bit_the_steps_of_the_public_calls(name: str, lr_source: str) -> None:
    # run skips re-checking points and learning rates on every step; that must not change a single bit.
    starts = np.array([[-1.5, 2.0], [0.5, -0.5], [2.0, 2.0]])
    optimizer = optimizers.get(name, lr=np.array([1e-3, 3e-3, 1e-2]), clip_norm=50.0)
    schedule = {
        "hyperparameter": None,
        "shared schedule": schedules.get("cosine", base_lr=0.01, T_max=20),
        "per-run schedule": schedules.get("step", base_lr=np.array([1e-3, 3e-3, 1e-2]), step_size=7),
    }[lr_source]
    traj = run(ROSENBROCK, optimizer, starts, 30, schedule, record_grads=True)
    x, state = starts, optimizer.init(starts)
    recorded = (traj.diverged_at < 0)[:, None] | (np.arange(31)[None, :] <= traj.diverged_at[:, None])
    assert recorded[:, 1].all()  # after a run diverged its record is NaN by design
    for t in range(30):
        np.testing.assert_array_equal(traj.params[recorded[:, t], t], x[recorded[:, t]])
        g = ROSENBROCK.grad(x)
        np.testing.assert_array_equal(traj.grads[recorded[:, t], t], g[recorded[:, t]])
        # What the optimizer declares it needs (L-BFGS, SAM, Newton: the objective), passed publicly.
        x, state = optimizer.update(g, state, x, None if schedule is None else schedule(t),
                                    objective=StepObjective(ROSENBROCK))
    np.testing.assert_array_equal(traj.params[recorded[:, 30], 30], x[recorded[:, 30]])


def test_subclasses_overriding_grad_and_update_are_called() -> None:
    # run's shortcut past Surface.grad and Optimizer.update must not skip a subclass's own methods.
    calls = {"grad": 0, "update": 0}

    @dataclasses.dataclass(frozen=True, eq=False)
    class CountingSurface(surfaces.Surface):
        def grad(self, params: object) -> np.ndarray:
            calls["grad"] += 1
            return super().grad(params)

    @dataclasses.dataclass(frozen=True, eq=False)
    class CountingOptimizer(optimizers.Optimizer):
        def update(
            self, grad: np.ndarray, state: object, params: np.ndarray, lr: object = None
        ) -> tuple[np.ndarray, object]:
            calls["update"] += 1
            return super().update(grad, state, params, lr)

    def copy(instance: object, cls: type) -> object:
        return cls(**{f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)})

    surface = copy(ROSENBROCK, CountingSurface)
    optimizer = copy(optimizers.get("adam", lr=0.01), CountingOptimizer)
    traj = run(surface, optimizer, np.array([-1.5, 2.0]), 5)
    assert calls == {"grad": 6, "update": 5}
    np.testing.assert_array_equal(
        traj.params, run(ROSENBROCK, optimizers.get("adam", lr=0.01), np.array([-1.5, 2.0]), 5).params
    )


@pytest.mark.parametrize("base_lr", [0.1, np.array([0.1, 0.2])])
def test_a_negative_lr_from_a_schedule_is_refused_at_its_step(base_lr: float | np.ndarray) -> None:
    def schedule(t: np.ndarray) -> np.ndarray:
        lrs = np.multiply.outer(np.ones(np.shape(t)), base_lr)
        lrs[np.asarray(t) == 20] *= -1
        return lrs

    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\)"):
        run(QUADRATIC, optimizers.get("sgd"), np.zeros(2), 30, schedule)
    # Runs that all stopped (diverged) before step 20 never take that step, so nothing is refused.
    exploding = run(QUADRATIC, optimizers.get("sgd"), np.ones(2), 30, lambda t: 1e50 * schedule(t))
    assert np.all(np.asarray(exploding.diverged_at) < 20)


# ------------------------------------------------------------------------------------- mini-batches
@settings(max_examples=50, deadline=None)
@given(n_samples=st.integers(1, 40), batch_size=st.integers(1, 40), epochs=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_batches_cover_every_sample_once_per_epoch(
    n_samples: int, batch_size: int, epochs: int, seed: int
) -> None:
    batch_size = min(batch_size, n_samples)
    per_epoch = -(-n_samples // batch_size)
    batches = minibatch_indices(n_samples, batch_size, per_epoch * epochs, seed)
    assert len(batches) == per_epoch * epochs
    for e in range(epochs):
        epoch = batches[e * per_epoch : (e + 1) * per_epoch]
        assert [len(b) for b in epoch[:-1]] == [batch_size] * (per_epoch - 1)
        assert len(epoch[-1]) == n_samples - batch_size * (per_epoch - 1)  # drop_last=False
        np.testing.assert_array_equal(np.sort(np.concatenate(epoch)), np.arange(n_samples))


def test_minibatch_order_is_seeded() -> None:
    a = np.concatenate(minibatch_indices(50, 7, 30, seed=3))
    b = np.concatenate(minibatch_indices(50, 7, 30, seed=3))
    c = np.concatenate(minibatch_indices(50, 7, 30, seed=4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_run_uses_the_seeded_batches_and_shares_them_across_runs() -> None:
    objective = LeastSquares(n_samples=10, dim=3)
    starts = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
    traj = run(objective, optimizers.get("sgd", lr=0.05), starts, 7, batch_size=4, seed=11)
    expected = minibatch_indices(10, 4, 8, seed=11)
    assert len(objective.grad_batches) == 8
    for used, want in zip(objective.grad_batches, expected, strict=True):
        np.testing.assert_array_equal(used, want)
    # Step t used batch t: replay by hand for the second run.
    x = starts[1].copy()
    for t in range(7):
        x = x - 0.05 * objective.grad(x, batch=expected[t])
        np.testing.assert_allclose(traj.params[1, t + 1], x, rtol=1e-13)
    # The recorded loss is the full-data loss at the recorded point; grad_norm the mini-batch gradient's.
    np.testing.assert_allclose(traj.loss, objective.f(traj.params), rtol=1e-13)
    norms = [np.linalg.norm(objective.grad(traj.params[1, t], batch=expected[t])) for t in range(8)]
    np.testing.assert_allclose(traj.grad_norm[1], norms, rtol=1e-13)


def test_same_seed_same_result_and_another_seed_differs() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    objective = models.linear_regression(X, X @ np.array([1.5, -0.5]) + 0.2 * rng.normal(size=30))
    optimizer = optimizers.get("adam", lr=0.05)
    first = run(objective, optimizer, np.zeros(3), 40, batch_size=8, seed=5)
    again = run(objective, optimizer, np.zeros(3), 40, batch_size=8, seed=5)
    other = run(objective, optimizer, np.zeros(3), 40, batch_size=8, seed=6)
    np.testing.assert_array_equal(first.params, again.params)
    assert not np.allclose(first.params, other.params)


def test_full_batch_passes_no_batch() -> None:
    objective = LeastSquares()
    run(objective, optimizers.get("sgd", lr=0.1), np.zeros(3), 3)
    assert objective.grad_batches == [None] * 4


# ----------------------------------------------------------------------------------------- state
def test_record_state_keeps_every_field_at_every_step() -> None:
    momentum, lr = 0.9, 0.1
    x0 = np.array([1.0, -2.0])
    traj = run(QUADRATIC, optimizers.get("sgd", lr=lr, momentum=momentum), x0, 6, record_state=True,
               record_grads=True)
    assert set(traj.states) == {"step", "momentum_buffer"}
    np.testing.assert_array_equal(traj.states["step"], np.arange(7))
    A = QUADRATIC.hessian(np.zeros(2))
    x, buffer = x0.copy(), np.zeros(2)
    for t in range(6):
        np.testing.assert_allclose(traj.states["momentum_buffer"][t], buffer, rtol=1e-13, atol=1e-15)
        g = A @ x
        np.testing.assert_allclose(traj.grads[t], g, rtol=1e-13, atol=1e-15)
        buffer = g if t == 0 else momentum * buffer + g  # torch: the first buffer is the gradient itself
        x = x - lr * buffer
    np.testing.assert_allclose(traj.states["momentum_buffer"][6], buffer, rtol=1e-13)


def test_recorded_state_of_a_sweep_is_run_major_and_padded() -> None:
    traj = run(QUADRATIC, optimizers.get("adam", lr=np.array([0.01, 0.1])), np.array([1.0, 1.0]), 5,
               record_state=True)
    assert traj.states["exp_avg"].shape == (2, 6, 2)
    assert traj.states["step"].shape == (2, 6)
    assert traj.grads is None


# ----------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": -1}, ValueError, r"steps must be an integer in \[0, 100000\], got -1"),
        ({"steps": MAX_STEPS + 1}, ValueError, r"steps must be an integer in \[0, 100000\]"),
        ({"steps": 2.5}, TypeError, r"steps must be an integer"),
        ({"x0": np.zeros(3)}, ValueError, r"x0 must have shape \(2,\) or \(R, 2\).*dim=2.*got shape \(3,\)"),
        ({"x0": np.zeros((2, 2, 2))}, ValueError, r"x0 must have shape"),
        ({"x0": np.array([np.nan, 0.0])}, ValueError, r"x0 must contain only finite numbers"),
        ({"grad_tol": 0.0}, ValueError, r"grad_tol must be in \(0, inf\), got 0.0"),
        ({"divergence_threshold": -1.0}, ValueError, r"divergence_threshold must be in \(0, inf\), got -1.0"),
        ({"seed": -3}, ValueError, r"seed must be an integer in \[0, inf\), got -3"),
        ({"batch_size": 4}, ValueError, r"batch_size needs a data objective.*no n_samples"),
        ({"schedule": 0.1}, TypeError, r"schedule must be callable"),
        ({"record_state": "yes"}, TypeError, r"record_state must be True or False"),
    ],
)
def test_bad_arguments_are_named_in_the_message(kwargs: dict, error: type, message: str) -> None:
    arguments = {"x0": np.zeros(2), "steps": 5} | kwargs
    x0 = arguments.pop("x0")
    steps = arguments.pop("steps")
    with pytest.raises(error, match=message):
        run(QUADRATIC, optimizers.get("sgd", lr=0.1), x0, steps, **arguments)


def test_batch_size_must_fit_the_data() -> None:
    objective = LeastSquares(n_samples=10)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\], got 11"):
        run(objective, optimizers.get("sgd", lr=0.1), np.zeros(3), 5, batch_size=11)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\], got 0"):
        run(objective, optimizers.get("sgd", lr=0.1), np.zeros(3), 5, batch_size=0)


def test_objective_and_optimizer_must_fit_the_protocols() -> None:
    with pytest.raises(TypeError, match=r"objective must have f\(params\) and grad\(params\)"):
        run(object(), optimizers.get("sgd"), np.zeros(2), 5)
    with pytest.raises(TypeError, match=r"optimizer must have init\(params\) and update"):
        run(QUADRATIC, object(), np.zeros(2), 5)


def test_a_schedule_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"schedule\(t\) for t of shape \(5,\) must give shape"):
        run(QUADRATIC, optimizers.get("sgd"), np.zeros(2), 5, lambda t: np.ones((3,)))
    with pytest.raises(ValueError, match=r"learning rates must be finite"):
        run(QUADRATIC, optimizers.get("sgd"), np.zeros(2), 5, lambda t: np.full(np.shape(t), np.nan))


def test_too_many_recorded_values_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match=r"runs x \(steps \+ 1\) x dim must be at most 50,000,000"):
        run(QUADRATIC, optimizers.get("sgd"), np.zeros((1000, 2)), 100_000)
