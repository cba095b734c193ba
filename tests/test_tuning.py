"""lossviz.tuning: the one-call learning-rate sweep against a brute-force loop of separate runs."""

from __future__ import annotations

import numpy as np
import pytest

from lossviz import models, optimizers, surfaces
from lossviz.run import run
from lossviz.tuning import lr_grid, tune_lr, tune_race

ROSENBROCK = surfaces.get("rosenbrock")
START = np.array([-1.5, 2.0])
RACERS = [
    ("sgd", {"momentum": 0.9}),
    ("adam", {}),
    ("rmsprop", {}),
    ("lion", {}),
    ("rprop", {}),
    ("schedule_free_adamw", {}),
]


def brute_force(objective, name, settings, x0, steps, rates, schedule=None):
    """Final losses of one separate run per rate (inf where it diverged), and the chosen index."""
    finals = []
    for lr in rates:
        traj = run(objective, optimizers.get(name, **settings, lr=float(lr)), x0, steps, schedule)
        finals.append(np.inf if traj.diverged_at >= 0 or not np.isfinite(traj.loss[-1]) else traj.loss[-1])
    finals = np.array(finals)
    best = min(finals)
    chosen = max(i for i, value in enumerate(finals) if value == best) if np.isfinite(best) else -1
    return finals, chosen


@pytest.mark.parametrize(
    ("name", "settings"),
    RACERS + [("lbfgs", {"max_iter": 5}), ("newton", {"damping": 1.0}), ("sam", {"rho": 0.05})],
)
def test_one_sweep_equals_a_loop_of_separate_runs(name, settings):
    rates = lr_grid(1e-4, 3.0, 64)
    sweep = tune_lr(ROSENBROCK, name, START, 60, hyperparameters=settings, lrs=rates)
    finals, chosen = brute_force(ROSENBROCK, name, settings, START, 60, rates)
    np.testing.assert_allclose(sweep.final_loss, finals, rtol=1e-12)
    assert sweep.best_index == chosen and sweep.best_lr == rates[chosen]
    finite = sweep.final_loss[np.isfinite(sweep.final_loss)]
    assert finite.size and np.ptp(finite) > 1e-3, "the rates must matter for the comparison to mean anything"


def test_a_sweep_on_a_model_on_data_with_a_schedule_equals_separate_runs():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    model = models.logistic_regression(X, (X[:, 0] - X[:, 1] > 0).astype(float))
    rates = lr_grid(1e-3, 100.0, 64)
    sweep = tune_lr(model, "adam", np.zeros(3), 40, lrs=rates, schedule=("cosine", {"T_max": 40}))
    finals = []
    for lr in rates:
        from lossviz import schedules

        traj = run(
            model, optimizers.get("adam"), np.zeros(3), 40, schedules.get("cosine", base_lr=lr, T_max=40)
        )
        finals.append(traj.loss[-1])
    np.testing.assert_allclose(sweep.final_loss, finals, rtol=1e-12)
    assert sweep.best_index == int(np.flatnonzero(np.array(finals) == min(finals))[-1])


class Staircase:
    """A bowl whose value is rounded down to steps of 0.1: many rates end on the same stair (a tie)."""

    dim = 2

    def f(self, p):
        return np.floor(np.sum(np.asarray(p) ** 2, axis=-1) * 10) / 10

    def grad(self, p):
        return 2 * np.asarray(p)


def test_ties_go_to_the_larger_rate():
    rates = lr_grid(1e-3, 0.9, 64)
    sweep = tune_lr(Staircase(), "sgd", np.array([1.0, 1.0]), 20, lrs=rates)
    best = sweep.final_loss.min()
    tied = np.flatnonzero(sweep.final_loss == best)
    assert tied.size > 5  # the staircase does make ties
    assert sweep.best_index == tied[-1] and sweep.best_lr == rates[tied[-1]]


def test_every_rate_diverging_has_no_best_rate():
    sweep = tune_lr(ROSENBROCK, "sgd", START, 200, lrs=[1.0, 2.0, 5.0])
    assert sweep.best_index == -1 and np.isnan(sweep.best_lr) and np.isinf(sweep.best_loss)
    assert sweep.diverged.all()
    with pytest.raises(ValueError, match="every learning rate diverged for sgd"):
        sweep.settings()


def test_tune_race_sweeps_every_racer_on_the_same_grid_and_races_at_the_chosen_rates():
    sweeps = tune_race(ROSENBROCK, RACERS, START, 60)
    assert [s.optimizer for s in sweeps] == [name for name, _ in RACERS]
    for sweep in sweeps:
        assert sweep.lrs.shape == (64,) and np.all(np.diff(sweep.lrs) > 0)
        assert sweep.lrs[0] == pytest.approx(1e-5) and sweep.lrs[-1] == pytest.approx(10.0)
        raced = run(ROSENBROCK, optimizers.get(sweep.optimizer, **sweep.settings()), START, 60)
        assert raced.loss[-1] == pytest.approx(sweep.best_loss, rel=1e-12)
        assert sweep.best_loss <= np.nanmin(sweep.final_loss)


def test_keep_trajectory_returns_the_sweeps_runs():
    sweep = tune_lr(ROSENBROCK, "adam", START, 10, lrs=[0.01, 0.1], keep_trajectory=True)
    assert sweep.trajectory.params.shape == (2, 11, 2)
    assert tune_lr(ROSENBROCK, "adam", START, 10, lrs=[0.01, 0.1]).trajectory is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"hyperparameters": {"lr": 0.1}}, ValueError, "hyperparameters must not contain lr"),
        ({"hyperparameters": {"momentum": np.array([0.1, 0.9])}}, ValueError, "must be shared by every rate"),
        ({"lrs": [0.1, -1.0]}, ValueError, "lrs must be a non-empty array of learning rates > 0"),
        ({"lrs": []}, ValueError, "lrs must be a non-empty array"),
        ({"lrs": [[0.1]]}, ValueError, r"lrs must have 1 dimension\(s\)"),
    ],
)
def test_tune_lr_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        tune_lr(ROSENBROCK, "sgd", START, 10, **kwargs)
    with pytest.raises(ValueError, match="unknown optimizer 'sgdd'"):
        tune_lr(ROSENBROCK, "sgdd", START, 10)


def test_lr_grid_is_log_spaced_and_checked():
    grid = lr_grid(1e-4, 1.0, 5)
    np.testing.assert_allclose(grid, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    with pytest.raises(ValueError, match=r"low must be in \(0, inf\), got 0"):
        lr_grid(0.0, 1.0)
    with pytest.raises(ValueError, match=r"high must be in \[0.1, inf\), got 0.01"):
        lr_grid(0.1, 0.01)
