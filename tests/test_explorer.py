"""The optimizer race and the classroom scenarios: each scenario's text must be what actually happens."""
import numpy as np
import pytest

from lossviz import analysis, expr, optimizers, surfaces
from lossviz.lessons import explorer
from lossviz.settings import OptimizerSetting


def _run(name):
    sc = explorer.get(name)
    surface = surfaces.get(sc.surface, **sc.surface_params)
    racers = ([p[0] for p in explorer.tune(surface, sc.optimizers, sc.start, sc.steps)] if sc.tune
              else sc.optimizers)
    return sc, surface, explorer.race(surface, racers, sc.start, sc.steps)


def test_every_scenario_runs_and_has_a_verdict_per_optimizer():
    for name in explorer.names():
        sc, _, entries = _run(name)
        assert len(entries) == len(sc.optimizers)
        assert all(e.verdict for e in entries)
        assert all(e.trajectory.params.shape == (sc.steps + 1, 2) for e in entries)


def test_ravine_gd_zigzags_and_momentum_ends_far_lower():
    _, _, (gd, momentum) = _run("ravine")
    y = gd.trajectory.params[:20, 1]
    assert np.all(np.sign(y[1:]) == -np.sign(y[:-1]))  # wall to wall every step
    assert momentum.trajectory.loss[-1] < gd.trajectory.loss[-1] / 100


def test_too_large_lr_straddles_two_over_lambda_max():
    sc, surface, (below, above) = _run("too_large_lr")
    lambda_max = np.linalg.eigvalsh(surface.hessian(np.zeros(2)))[-1]
    limit = analysis.max_stable_lr(lambda_max)
    assert below.setting.hyperparameters["lr"] < limit < above.setting.hyperparameters["lr"]
    assert below.trajectory.loss[-1] < below.trajectory.loss[0] / 1000
    assert above.trajectory.loss[-1] > above.trajectory.loss[0] * 100
    assert above.left_view_at > 0 and "> 2" in above.verdict


def test_adam_follows_the_banana_valley_furthest():
    _, _, (gd, momentum, adam) = _run("adam_banana")
    assert adam.distance[-1] < 0.01
    assert adam.distance[-1] < momentum.distance[-1] / 10 and adam.distance[-1] < gd.distance[-1] / 10


def test_saddle_gd_stalls_near_the_origin_and_there_is_no_minimum():
    _, surface, entries = _run("saddle")
    gd = entries[0]
    assert len(surface.minima) == 0 and surface.min_value is None
    assert gd.trajectory.grad_norm.min() < 0.05
    assert np.linalg.norm(gd.trajectory.params[gd.trajectory.grad_norm.argmin()]) < 0.05
    assert "no minimum" in gd.verdict


def test_himmelblau_start_decides_which_minimum():
    _, surface, entries = _run("himmelblau_starts")
    reached = {int(np.argmin(np.linalg.norm(surface.minima - e.trajectory.params[-1], axis=1)))
               for e in entries}
    assert all(e.distance[-1] < 1e-2 for e in entries)
    assert len(reached) == 3


def test_rastrigin_traps_every_optimizer():
    _, surface, entries = _run("rastrigin_trap")
    assert all(e.distance[-1] > 0.5 for e in entries)
    assert all(e.trajectory.loss[-1] > 1.0 for e in entries)


def test_divergence_is_reported_with_the_step_and_the_reason():
    surface = surfaces.get("quadratic", condition_number=10)
    (entry,) = explorer.race(surface, [OptimizerSetting("sgd", {"lr": 3.0})], (2.0, 2.0), 200)
    assert entry.trajectory.diverged_at > 0
    assert f"diverged at step {entry.trajectory.diverged_at}" in entry.verdict
    assert "lr × λ_max = 3 > 2" in entry.verdict


def test_saddle_escape_is_explained_as_negative_curvature_not_instability():
    surface = surfaces.get("saddle")
    (entry,) = explorer.race(surface, [OptimizerSetting("sgd", {"lr": 0.05, "momentum": 0.9})],
                             (-2.0, 1e-4), 60)
    assert entry.left_view_at > 0 and "λ_min" in entry.verdict


@pytest.mark.parametrize(
    "settings, steps, match",
    [
        ([], 10, "settings must hold 1 to 6"),
        ([OptimizerSetting("sgd", {"lr": 0.1})] * 7, 10, "settings must hold 1 to 6"),
        ([OptimizerSetting("sgd", {"lr": -1.0})], 10, r"optimizer 1 \(sgd\): lr"),
        ([OptimizerSetting("sgd", {"lr": 0.1}), OptimizerSetting("adam", {"betas": (1.5, 0.9)})], 10,
         r"optimizer 2 \(adam\)"),
        ([OptimizerSetting("nosuch", {})], 10, "valid names"),
        ([OptimizerSetting("sgd", {"lr": 0.1}, schedule="step", schedule_params={"step_size": 0})], 10,
         "step_size"),
        ([OptimizerSetting("sgd", {"lr": 0.1})], 0, "steps"),
        ([OptimizerSetting("sgd", {"lr": 0.1})], 10_001, "steps"),
    ],
)
def test_race_refuses_bad_settings_with_a_named_message(settings, steps, match):
    with pytest.raises((ValueError, TypeError), match=match):
        explorer.race(surfaces.get("booth"), settings, (0.0, 0.0), steps)


def test_schedules_and_warmup_reach_the_run():
    setting = OptimizerSetting("sgd", {"lr": 0.1}, schedule="step",
                               schedule_params={"step_size": 5, "gamma": 0.5})
    (entry,) = explorer.race(surfaces.get("booth"), [setting], (0.0, 0.0), 12)
    assert np.allclose(entry.trajectory.lr, 0.1 * 0.5 ** (np.arange(12) // 5))
    onecycle = OptimizerSetting("adam", {"lr": 0.5}, schedule="onecycle")
    (entry,) = explorer.race(surfaces.get("booth"), [onecycle], (0.0, 0.0), 50)
    assert entry.trajectory.lr.max() == pytest.approx(0.5, rel=1e-3)


# -------------------------------------------------------------------------- defaults that go somewhere
@pytest.mark.parametrize("surface_name", surfaces.names())
def test_every_optimizer_at_its_default_rate_heads_for_a_minimum_from_the_default_start(surface_name):
    """Switching surfaces keeps nobody's lr: each surface x optimizer at its defaults stays finite for the
    default 60 steps and ends closer to a minimum (lower, on a surface without one)."""
    surface = surfaces.get(surface_name)
    start = np.array(surface.default_start)
    for name in optimizers.names():
        setting = OptimizerSetting(name, explorer.default_hyperparameters(surface, name, start))
        (entry,) = explorer.race(surface, [setting], start, 60)
        traj = entry.trajectory
        assert traj.diverged_at < 0 and np.all(np.isfinite(traj.params)), (surface_name, name)
        assert traj.loss[-1] < traj.loss[0], (surface_name, name)
        if len(surface.minima):
            assert entry.distance[-1] < entry.distance[0], (surface_name, name, entry.distance[[0, -1]])


def test_a_typed_formula_gets_its_minimum_found_for_the_star_distance_and_verdict():
    surface = expr.parse("x^2 + 10*y^2")
    minima = explorer.find_minima(surface)
    assert minima.found and minima.value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(minima.points, [[0.0, 0.0]], atol=1e-9)
    fast, too_fast = explorer.race(surface, [OptimizerSetting("sgd", {"lr": 0.05}),
                                             OptimizerSetting("sgd", {"lr": 0.099})], (-2.0, 1.5), 300)
    assert fast.distance is not None and fast.distance[-1] < 1e-3
    assert "Reached the lowest minimum found in the view" in fast.verdict and fast.ok
    assert "no minimum" not in too_fast.verdict
    # Several equally low minima are all kept; a formula without one in the view says so.
    both = explorer.find_minima(expr.parse("(x^2 - 1)^2 + y^2"))
    np.testing.assert_allclose(sorted(both.points[:, 0]), [-1.0, 1.0], atol=1e-8)
    (entry,) = explorer.race(expr.parse("x + y"), [OptimizerSetting("sgd", {"lr": 0.01})], (0.0, 0.0), 10)
    assert "no minimum was found in the view" in entry.verdict


def test_a_start_outside_the_view_that_converges_is_reported_as_reached():
    surface = surfaces.get("quadratic", condition_number=10.0, rotation=30.0)
    (entry,) = explorer.race(surface, [OptimizerSetting("sgd", {"lr": 1.0})], (1e9, 0.0), 10_000)
    assert entry.trajectory.loss[-1] < 1e-30
    assert entry.ok and entry.left_view_at == -1 and "Reached the global minimum" in entry.verdict
    (slow,) = explorer.race(surface, [OptimizerSetting("sgd", {"lr": 1e-6})], (1e3, 0.0), 5)
    assert "started outside the view and ends outside it" in slow.verdict and not slow.ok


# ----------------------------------------------------------------- the scenarios of the new optimizers
def test_newton_reaches_the_bottom_of_a_bowl_in_one_step_and_gd_does_not_in_twenty():
    _, _, (gd, newton) = _run("newton_bowl")
    assert newton.distance[1] < 1e-12 and newton.distance[0] > 1
    assert gd.distance[-1] > 0.5


def test_plain_newton_lands_on_the_saddle_and_saddle_free_newton_goes_down():
    _, surface, (newton, free, gd) = _run("newton_saddle")
    np.testing.assert_allclose(newton.trajectory.params[1:], 0.0, atol=1e-12)  # on the saddle, and stays
    assert np.all(np.abs(surface.grad(newton.trajectory.params[1:])) < 1e-12)
    y = np.abs(free.trajectory.params[:5, 1])
    assert np.all(np.diff(y) > 0) and free.trajectory.loss[4] < free.trajectory.loss[0] - 1
    assert gd.trajectory.loss[-1] < gd.trajectory.loss[0]


def test_lion_and_sign_descent_move_exactly_lr_root_two_every_step():
    sc, _, entries = _run("sign_steps")
    for setting, entry in zip(sc.optimizers, entries):
        lengths = np.linalg.norm(np.diff(entry.trajectory.params, axis=0), axis=1)
        np.testing.assert_allclose(lengths, setting.hyperparameters["lr"] * np.sqrt(2), rtol=1e-12)


def test_lbfgs_reaches_the_rosenbrock_minimum_in_five_steps_and_the_others_do_not_in_twenty():
    _, _, (lbfgs, adam, momentum) = _run("lbfgs_rosenbrock")
    assert lbfgs.distance[5] < 1e-4 and "Reached" in lbfgs.verdict
    assert adam.distance[-1] > 1 and momentum.distance[-1] > 1
    evaluations = lbfgs.trajectory.evaluations()
    assert len(evaluations.points) > 2 * lbfgs.trajectory.n_steps  # several function evaluations per step


def test_the_tuned_race_picks_the_rate_a_brute_force_loop_picks_and_gd_ends_lowest():
    sc, surface, entries = _run("tuned_race")
    pairs = explorer.tune(surface, sc.optimizers, sc.start, sc.steps)
    for (tuned, sweep), setting in zip(pairs, sc.optimizers):
        finals = []
        for lr in sweep.lrs:  # one run per rate, the slow way
            (entry,) = explorer.race(surface, [OptimizerSetting(setting.name, {**setting.hyperparameters,
                                                                               "lr": float(lr)})],
                                     sc.start, sc.steps)
            finals.append(np.inf if entry.trajectory.diverged_at >= 0 else float(entry.trajectory.loss[-1]))
        finals = np.array(finals)
        best = np.flatnonzero(finals == finals.min())[-1]  # ties to the larger rate
        assert tuned.hyperparameters["lr"] == pytest.approx(sweep.lrs[best], rel=1e-12)
    assert entries[0].trajectory.loss[-1] == min(e.trajectory.loss[-1] for e in entries)  # plain GD
    assert entries[4].trajectory.loss[-1] == max(e.trajectory.loss[-1] for e in entries)  # Lion


def test_the_verdict_counts_one_step_and_names_what_the_gap_is_above():
    """A walk read "after 1 steps" and "0.000963 above its value" (whose value?)."""
    surface = surfaces.get("quadratic")
    entries = explorer.race(surface, [explorer.OptimizerSetting("sgd", {"lr": 0.1})], [1.0, 1.0], 1)
    words = entries[0].verdict
    assert "after 1 step " in words and "1 steps" not in words
    assert "above the minimum's 0" in words, words
