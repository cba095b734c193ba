"""The learning-rate lesson's core: theory lines against measured divergence, the closed form against an
explicit loop, schedules against their own definitions, and each scenario's text against what happens."""
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import analysis, optimizers, surfaces
from lossviz.lessons import learning_rate as lr_sweep
from lossviz.lessons.learning_rate import LR_SCENARIOS, SCHEDULE_ORDER
from lossviz.run import run

START = np.array([-2.5, 2.0])


def _quadratic(kappa=10.0, rotation=30.0):
    return surfaces.get("quadratic", condition_number=kappa, rotation=rotation)


def _start_with_sharp_component(rotation, angle, radius=2.0):
    """A start whose component across the valley (the lambda_max direction) is at least sin(20°) of it."""
    theta = math.radians(rotation + angle)
    return radius * np.array([math.cos(theta), math.sin(theta)])




# ------------------------------------------------------------------------------------ the closed form
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lr=st.floats(0.01, 0.6),
    steps=st.integers(0, 60),
)
def test_gd_quadratic_loss_matches_an_explicit_gradient_descent_loop(seed, lr, steps):
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(3, 3))
    hessian = basis @ basis.T + 0.1 * np.eye(3)
    hessian /= np.linalg.eigvalsh(hessian)[-1]  # lambda_max = 1, so lr < 0.6 stays stable
    offset = rng.normal(size=3)
    x = offset.copy()
    for _ in range(steps):
        x = x - lr * hessian @ x
    expected = 0.5 * x @ hessian @ x
    got = lr_sweep.gd_quadratic_loss(hessian, offset, np.array([lr]), steps)
    np.testing.assert_allclose(got, [expected], rtol=1e-9, atol=1e-300)


def test_gd_quadratic_loss_overflows_to_inf_not_nan():
    values = lr_sweep.gd_quadratic_loss(np.diag([1.0, 2.0]), np.array([1.0, 1.0]), np.array([1e200]), 10)
    assert values[0] == np.inf


# ------------------------------------------------------------------- the theory line against measurement
@settings(max_examples=40, deadline=None)
@given(
    kappa=st.floats(1.0, 200.0),
    rotation=st.floats(-180.0, 180.0),
    angle=st.floats(20.0, 160.0),
    margin=st.floats(0.01, 0.05),
)
def test_gd_diverges_just_above_two_over_lambda_max_and_converges_just_below(kappa, rotation, angle, margin):
    surface = _quadratic(kappa, rotation)
    start = _start_with_sharp_component(rotation, angle)
    # Enough steps that (1 + 2 margin)^(2T) clears the 1e12 divergence threshold, and that the flat
    # direction (rate 1 - lr/kappa at worst) has shrunk by 1e3 below the line.
    steps = int(math.ceil(max(math.log(1e16) / (2 * math.log1p(2 * margin)), 4 * kappa)))
    sweep = lr_sweep.learning_rate_sweep(surface, start, steps, n_lrs=2, low=1 - margin, high=1 + margin)
    below, above = sweep.lrs
    limit = 2.0 / np.linalg.eigvalsh(surface.hessian(np.zeros(2)))[-1]
    assert below < limit < above
    assert sweep.diverged.tolist() == [False, True]
    assert sweep.final_loss[0] < 1e-3 * sweep.start_loss


def test_the_sweep_has_its_edge_at_the_line_and_its_curve_on_the_closed_form():
    surface = _quadratic(10.0, 30.0)
    sweep = lr_sweep.learning_rate_sweep(surface, START, 400, n_lrs=300)
    limit = sweep.curvature.max_stable_lr
    ratio = sweep.lrs / limit
    assert sweep.lrs.size == 300 and np.all(np.diff(sweep.lrs) > 0)
    assert not sweep.grew[ratio < 0.99].any()
    assert sweep.grew[ratio > 1.01].all()
    spacing = sweep.lrs[1] / sweep.lrs[0]
    assert limit <= sweep.measured_edge <= limit * spacing
    stable = ~sweep.diverged
    np.testing.assert_allclose(sweep.final_loss[stable], sweep.predicted_gap[stable], rtol=1e-8, atol=1e-300)


def test_a_linear_sweep_resolves_the_edge_to_one_step():
    sweep = lr_sweep.learning_rate_sweep(_quadratic(), START, 400, n_lrs=301, low=0.005, high=1.5,
                                         spacing="linear")
    step = (1.5 - 0.005) / 300 * 2.0
    np.testing.assert_allclose(np.diff(sweep.lrs), step)
    assert 2.0 <= sweep.measured_edge <= 2.0 + step


def test_a_non_quadratic_surface_gets_no_closed_form():
    sweep = lr_sweep.learning_rate_sweep(surfaces.get("rosenbrock"), np.array([-1.5, 2.0]), 50, n_lrs=200)
    assert sweep.predicted_gap is None
    assert sweep.min_value == 0.0


def test_the_optimal_rate_contracts_the_distance_by_the_theoretical_factor_every_step():
    kappa = 25.0
    surface = _quadratic(kappa, 15.0)
    comparison = lr_sweep.compare_learning_rates(surface, START, ["optimal"], 40)
    distance = np.linalg.norm(comparison.trajectory.params[0], axis=1)
    # At lr = 2/(L+mu) both eigen-directions are multiplied by +-(kappa-1)/(kappa+1): the norm exactly so.
    np.testing.assert_allclose(distance[1:] / distance[:-1], (kappa - 1) / (kappa + 1), rtol=1e-10)
    assert comparison.lrs[0] == pytest.approx(analysis.optimal_hyperparameters(1 / kappa, 1.0).lr)


def test_compare_learning_rates_runs_each_choice_as_plain_sgd():
    surface = _quadratic()
    choices = ["0.25", "optimal", "1.05"]
    comparison = lr_sweep.compare_learning_rates(surface, START, choices, 30)
    assert comparison.trajectory.params.shape == (3, 31, 2)
    for i, choice in enumerate(choices):
        alone = run(surface, optimizers.get("sgd", lr=float(comparison.lrs[i])), START, 30)
        np.testing.assert_allclose(comparison.trajectory.params[i], alone.params, rtol=1e-12, atol=1e-300)
        assert lr_sweep.choice_label(choice) in comparison.labels[i]
    assert comparison.lrs[0] == pytest.approx(0.5) and comparison.lrs[2] == pytest.approx(2.1)
    frame = comparison.to_frame()
    assert list(frame.columns[:4]) == ["lr", "label", "step", "x"] and len(frame) == 3 * 31


# --------------------------------------------------------------------------------------- schedules
@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(SCHEDULE_ORDER), steps=st.integers(8, 400), warmup_fraction=st.floats(0, 0.5),
       base=st.floats(1e-4, 10.0))
def test_every_lesson_schedule_is_positive_and_peaks_at_most_at_base_lr(name, steps, warmup_fraction, base):
    warmup = int(warmup_fraction * (steps - 8))
    schedule = lr_sweep.lesson_schedule(name, base, steps, warmup)
    rates = schedule(np.arange(steps))
    assert np.all(np.isfinite(rates)) and np.all(rates >= 0)
    assert rates.max() <= base * (1 + 1e-12)
    if warmup:
        # torch LinearLR: the warm-up starts at a third of the main schedule's first rate and rises.
        assert rates[0] == pytest.approx(schedule.base_lr / 3)
        assert np.all(np.diff(rates[:warmup]) > 0)


def test_lesson_schedules_do_what_their_table_says():
    base, n = 2.0, 100
    step = lr_sweep.lesson_schedule("step", base, n)(np.array([0, 24, 25, 50, 99]))
    np.testing.assert_allclose(step, [2.0, 2.0, 1.0, 0.5, 0.25])
    assert lr_sweep.lesson_schedule("exponential", base, n)(np.array([n])) == pytest.approx(0.01 * base)
    assert lr_sweep.lesson_schedule("inverse_time", base, n)(np.array([n])) == pytest.approx(base / 11)
    multistep = lr_sweep.lesson_schedule("multistep", base, n)(np.array([49, 50, 74, 75]))
    np.testing.assert_allclose(multistep, [2.0, 0.2, 0.2, 0.02])
    cyclic = lr_sweep.lesson_schedule("cyclic", base, n)(np.array([0, 12]))
    np.testing.assert_allclose(cyclic, [0.2, 2.0])
    onecycle = lr_sweep.lesson_schedule("onecycle", base, n)
    assert onecycle(np.arange(n)).max() == pytest.approx(base, rel=1e-3)
    warm = lr_sweep.lesson_schedule("cosine", base, n, warmup_steps=10)
    # After the warm-up the cosine starts at the top and ends near zero over the remaining 90 steps.
    assert warm(np.array([10])) == pytest.approx(base) and warm(np.array([99])) < 0.01 * base


def test_compare_schedules_is_one_run_of_each_schedule(monkeypatch):
    surface = _quadratic()
    calls = []
    real_run = lr_sweep.run
    monkeypatch.setattr(lr_sweep, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    names = list(SCHEDULE_ORDER)
    comparison = lr_sweep.compare_schedules(surface, START, names, 1.5, 60, warmup_steps=6)
    assert len(calls) == 1
    assert comparison.lr.shape == (len(names), 60)
    assert comparison.trajectory.params.shape == (len(names), 61, 2)
    for i, name in enumerate(names):
        schedule = lr_sweep.lesson_schedule(name, 1.5, 60, 6)
        np.testing.assert_array_equal(comparison.lr[i], schedule(np.arange(60)))
        alone = real_run(surface, optimizers.get("sgd", lr=1.5), START, 60, schedule)
        np.testing.assert_allclose(comparison.trajectory.params[i], alone.params, rtol=1e-12, atol=1e-300)
    frame = comparison.to_frame()
    assert set(frame["schedule"]) == set(names) and "lr" in frame


def test_decay_ends_the_bouncing_that_a_constant_rate_keeps():
    surface = _quadratic(20.0)
    comparison = lr_sweep.compare_schedules(surface, START, ["constant", "cosine", "step"], 1.96, 100)
    final = comparison.trajectory.loss[:, -1]
    assert final[1] < final[0] / 100 and final[2] < final[0] / 100


# ---------------------------------------------------------------------------------------- range test
def test_range_test_ramps_from_1e_minus_4_to_10_times_the_limit():
    surface = _quadratic()
    result = lr_sweep.range_test(surface, START, 100)
    assert result.lrs[0] == pytest.approx(1e-4 * 2.0)
    np.testing.assert_allclose(np.diff(np.log(result.lrs)), np.log(1e5) / 99, rtol=1e-9)
    assert result.lrs[0] < result.suggestion < result.lrs[-1]
    assert result.losses.size < 100  # the ramp blew up before its end, and the arrays were cut there


# ----------------------------------------------------------------------------------------- scenarios
def _scenario_surface(settings_):
    if settings_["surface"] == "quadratic":
        return _quadratic(settings_["kappa"], settings_["rotation"])
    return surfaces.get(settings_["surface"])


def test_edge_scenario_converges_at_099_and_diverges_at_101():
    s = LR_SCENARIOS["edge"].settings
    start = [s["x0"], s["y0"]]
    comparison = lr_sweep.compare_learning_rates(_scenario_surface(s), start, s["lrs"], s["steps"])
    loss = comparison.trajectory.loss
    assert loss[1, -1] < loss[1, 0] and loss[2, -1] > loss[2, 0]


def test_ill_conditioned_scenario_leaves_even_the_optimal_rate_far_away():
    s = LR_SCENARIOS["ill_conditioned"].settings
    start = [s["x0"], s["y0"]]
    comparison = lr_sweep.compare_learning_rates(_scenario_surface(s), start, s["lrs"], s["steps"])
    final = comparison.trajectory.params[:, -1]
    floor = np.array([math.cos(math.radians(s["rotation"])), math.sin(math.radians(s["rotation"]))])
    along, across = np.abs(final @ floor), np.abs(final @ np.array([-floor[1], floor[0]]))
    assert np.all(np.linalg.norm(final, axis=1) > 0.1)  # after 100 steps, all still far from the minimum
    assert along[0] > along[1] > along[2]  # the larger the rate, the faster along the floor
    assert across[2] > 100 * max(across[0], across[1])  # the optimal rate still bounces between the walls


def test_rosenbrock_scenario_diverges_below_the_line_drawn_at_the_minimum():
    s = LR_SCENARIOS["rosenbrock"].settings
    surface, start = _scenario_surface(s), np.array([s["x0"], s["y0"]])
    comparison = lr_sweep.compare_learning_rates(surface, start, s["lrs"], s["steps"])
    diverged_at = comparison.trajectory.diverged_at
    assert diverged_at.tolist()[:2] == [-1, -1] and diverged_at[2] >= 0
    sweep = lr_sweep.learning_rate_sweep(surface, start, s["steps"], n_lrs=200)
    assert sweep.measured_edge < 0.8 * sweep.curvature.max_stable_lr
    assert np.linalg.eigvalsh(surface.hessian(start))[-1] > 3 * sweep.curvature.lambda_max


def test_decay_scenario_schedules_end_far_below_the_constant_rate():
    s = LR_SCENARIOS["decay"].settings
    surface = _scenario_surface(s)
    limit = lr_sweep.reference_curvature(surface, [s["x0"], s["y0"]]).max_stable_lr
    comparison = lr_sweep.compare_schedules(surface, [s["x0"], s["y0"]], s["schedules"], s["base"] * limit,
                                            s["steps"], s["warmup"])
    final = comparison.trajectory.loss[:, -1]
    assert np.all(final[1:] < final[0] / 100)


def test_warmup_scenario_survives_a_peak_that_kills_the_same_schedules_without_it():
    s = LR_SCENARIOS["warmup"].settings
    surface, start = _scenario_surface(s), [s["x0"], s["y0"]]
    peak = s["base"] * lr_sweep.reference_curvature(surface, start).max_stable_lr
    warm = lr_sweep.compare_schedules(surface, start, s["schedules"], peak, s["steps"], s["warmup"])
    cold = lr_sweep.compare_schedules(surface, start, s["schedules"], peak, s["steps"], 0)
    assert s["schedules"][0] == "constant" and warm.trajectory.diverged_at[0] >= 0
    assert np.all(warm.trajectory.diverged_at[1:] == -1) and np.all(warm.trajectory.loss[1:, -1] < 1e-6)
    assert np.all(cold.trajectory.diverged_at[1:] >= 0)
    assert np.all(warm.lr.max(axis=1) > 1.4 * 2.0)  # every schedule really went above the line


# ---------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), START, 10, n_lrs=1),
         r"n_lrs must be an integer in \[2, 5000\]"),
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), START, 10, low=0.0),
         r"low must be in \(0, 100\]"),
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), START, 10, low=0.5, high=0.5),
         r"high must be in \(0.5, 100\]"),
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), START, 0),
         r"steps must be an integer in \[1, 10000\]"),
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), START, 10, spacing="cubic"),
         "unknown spacing 'cubic'; valid names: log, linear"),
        (lambda: lr_sweep.learning_rate_sweep(_quadratic(), [1.0, 2.0, 3.0], 10),
         r"x0 must have shape \(2,\)"),
        (lambda: lr_sweep.learning_rate_sweep(object(), START, 10), "objective must have f"),
        (lambda: lr_sweep.compare_learning_rates(_quadratic(), START, ["2.0"], 10),
         "unknown learning-rate choice '2.0'"),
        (lambda: lr_sweep.compare_learning_rates(_quadratic(), START, ["0.5", "0.5"], 10),
         "distinct learning rates"),
        (lambda: lr_sweep.compare_learning_rates(_quadratic(), START, [], 10), "1 to 10 distinct"),
        (lambda: lr_sweep.choice_lr(lr_sweep.reference_curvature(surfaces.get("saddle"), [0.5, 0.2]),
         "optimal"),
         "optimal rate needs λ_min > 0"),
        (lambda: lr_sweep.lesson_schedule("warmup", 1.0, 50),
         "unknown schedule 'warmup'; valid names: constant"),
        (lambda: lr_sweep.lesson_schedule("cosine", 0.0, 50), r"base_lr must be in \(0, inf\), got 0.0"),
        (lambda: lr_sweep.lesson_schedule("cosine", 1.0, 5), r"steps must be an integer in \[8, 10000\]"),
        (lambda: lr_sweep.lesson_schedule("cosine", 1.0, 50, 43),
         r"warmup_steps must be an integer in \[0, 42\]"),
        (lambda: lr_sweep.compare_schedules(_quadratic(), START, [], 1.0, 50), "1 to 11 distinct schedules"),
        (lambda: lr_sweep.range_test(_quadratic(), START, 1), r"steps must be an integer in \[2, 10000\]"),
        (lambda: lr_sweep.gd_quadratic_loss(np.ones((2, 3)), [1.0, 1.0], [0.1], 3), "hessian must be square"),
        (lambda: lr_sweep.gd_quadratic_loss(np.eye(2), [1.0], [0.1], 3), r"offset must have shape \(2,\)"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_sweep_frame_has_one_row_per_rate_with_the_prediction():
    sweep = lr_sweep.learning_rate_sweep(_quadratic(), START, 20, n_lrs=200)
    frame = sweep.to_frame()
    assert len(frame) == 200
    assert list(frame.columns) == ["lr", "lr_over_limit", "final_loss", "final_gap", "diverged_at",
                                   "predicted_gap"]
    np.testing.assert_allclose(frame["lr_over_limit"], sweep.lrs / 2.0)


# ------------------------------------------------------------------------------------ scrubber frames
@pytest.mark.parametrize("runs, steps", [(1, 8), (4, 80), (6, 2000), (11, 2000), (1, 10_000)])
def test_scrub_factors_put_the_exact_rate_in_the_middle_and_fit_the_frame_budget(runs, steps):
    factors = lr_sweep.scrub_factors(runs, steps)
    assert factors.size % 2 == 1 and 5 <= factors.size <= 25
    assert factors[factors.size // 2] == 1.0 and factors[0] == 0.5 and factors[-1] == 1.5
    assert np.all(np.diff(factors) > 0)
    assert factors.size == 5 or runs * (steps + 1) * factors.size <= lr_sweep.FRAME_POINTS


def _counting_run(monkeypatch):
    calls = []
    real_run = lr_sweep.run
    monkeypatch.setattr(lr_sweep, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    return calls


def test_a_race_with_factors_is_one_run_call_and_its_exact_runs_are_the_plain_race(monkeypatch):
    surface, factors = _quadratic(), lr_sweep.scrub_factors(3, 30)
    plain = lr_sweep.compare_learning_rates(surface, START, ["0.25", "optimal", "1.05"], 30)
    calls = _counting_run(monkeypatch)
    race = lr_sweep.compare_learning_rates(surface, START, ["0.25", "optimal", "1.05"], 30, factors=factors)
    assert len(calls) == 1
    np.testing.assert_array_equal(race.trajectory.params, plain.trajectory.params)
    np.testing.assert_array_equal(race.trajectory.diverged_at, plain.trajectory.diverged_at)
    frames = race.frames
    assert frames.params.shape == (3, factors.size, 31, 2) and not race.trajectory.params.flags.writeable
    for r, m in ((0, 0), (1, 3), (2, factors.size - 1)):
        alone = run(surface, optimizers.get("sgd", lr=float(plain.lrs[r] * factors[m])), START, 30)
        assert frames.lrs[r, m] == pytest.approx(plain.lrs[r] * factors[m])
        np.testing.assert_allclose(frames.params[r, m], alone.params, rtol=1e-12, atol=1e-300)


def test_schedules_with_factors_are_one_run_call_at_every_peak(monkeypatch):
    surface, names, factors = _quadratic(), ["constant", "cosine", "onecycle"], np.array([0.5, 1.0, 1.5])
    plain = lr_sweep.compare_schedules(surface, START, names, 1.5, 40, 4)
    calls = _counting_run(monkeypatch)
    scaled = lr_sweep.compare_schedules(surface, START, names, 1.5, 40, 4, factors=factors)
    assert len(calls) == 1
    np.testing.assert_array_equal(scaled.lr, plain.lr)
    np.testing.assert_array_equal(scaled.trajectory.params, plain.trajectory.params)
    np.testing.assert_allclose(scaled.frames.base_lrs, 1.5 * factors)
    for k, name in enumerate(names):
        for m, factor in enumerate(factors):
            schedule = lr_sweep.lesson_schedule(name, 1.5 * factor, 40, 4)
            np.testing.assert_array_equal(scaled.frames.lr[k, m], schedule(np.arange(40)))
            alone = run(surface, optimizers.get("sgd", lr=1.5), START, 40, schedule)
            np.testing.assert_allclose(scaled.frames.params[k, m], alone.params, rtol=1e-12, atol=1e-300)


def test_factors_without_the_exact_rate_are_refused():
    with pytest.raises(ValueError, match="one of them 1"):
        lr_sweep.compare_learning_rates(_quadratic(), START, ["0.5"], 10, factors=[0.5, 1.5])


def test_a_sweep_too_big_for_one_call_runs_in_blocks_with_the_same_result(monkeypatch):
    whole = lr_sweep.learning_rate_sweep(_quadratic(), START, 99, n_lrs=250)
    monkeypatch.setattr(lr_sweep, "MAX_RECORDED_POINTS", 100 * 60)  # 60 rates of 100 points per call
    calls = _counting_run(monkeypatch)
    blocks = lr_sweep.learning_rate_sweep(_quadratic(), START, 99, n_lrs=250)
    assert len(calls) == 5
    np.testing.assert_array_equal(blocks.final_loss, whole.final_loss)
    np.testing.assert_array_equal(blocks.diverged_at, whole.diverged_at)
    assert blocks.start_loss == whole.start_loss


def test_every_run_has_its_pytorch_settings():
    race = lr_sweep.compare_learning_rates(_quadratic(), START, ["0.5", "optimal"], 20)
    assert [(label, opt.hyperparameters["lr"], s) for label, opt, s in race.runs()] == [
        (race.labels[0], race.lrs[0], None), (race.labels[1], race.lrs[1], None)]
    schedules_ = lr_sweep.compare_schedules(_quadratic(), START, ["step", "onecycle"], 1.2, 20)
    runs = schedules_.runs()
    assert [s for _, _, s in runs] == list(schedules_.schedules)
    assert runs[0][0] == f"schedule: {schedules_.schedules[0].title}"


# -------------------------------------------------------------------------- the default picture's claim
def test_four_rates_scenario_shows_what_its_text_says():
    """The page's default: the optimal rate ends lowest, 0.75 below 0.25, and at 1.05 x 2/lambda_max every
    step overshoots the floor by more than the last and the run ends above its start."""
    s = LR_SCENARIOS["four_rates"].settings
    race = lr_sweep.compare_learning_rates(_scenario_surface(s), [s["x0"], s["y0"]], s["lrs"], s["steps"])
    final, start_loss = race.trajectory.loss[:, -1], race.trajectory.loss[0, 0]
    slow, fast, optimal, over = (s["lrs"].index(c) for c in ("0.25", "0.75", "optimal", "1.05"))
    assert final[optimal] < final[fast] < final[slow] < start_loss < final[over]
    sharp = np.linalg.eigh(race.curvature.hessian)[1][:, -1]
    across = (race.trajectory.params[over] - race.curvature.point) @ sharp
    assert np.all(np.abs(across[1:]) > np.abs(across[:-1]))
    assert np.all(np.sign(across[1:]) != np.sign(across[:-1]))


def test_summaries_quote_the_measurement():
    sweep = lr_sweep.learning_rate_sweep(_quadratic(), START, 80, n_lrs=300, low=0.005, spacing="linear")
    text = lr_sweep.sweep_summary(sweep)
    assert f"**{sweep.best_lr:.4g}**" in text and f"**{sweep.measured_edge:.4g}**" in text
    assert "closed form" in text
    assert "after 5 warm-up steps" in lr_sweep.schedule_summary(0.5, 2.0, 5)
    test = lr_sweep.range_test(_quadratic(), START, 100)
    words = lr_sweep.range_test_summary(test, 2.0)
    assert f"**{test.suggestion:.3g}**" in words
    # The ramp's ends are named as rates, so a suggestion below 10⁻⁴ (a steep start) is not a contradiction.
    assert "from 10⁻⁴ × 2/λ_max = 0.0002 to 10 × 2/λ_max = 20 " in words


# --------------------------------------------------------------------------------------------- figures
def _valid(spec):
    """The spec through plotly's property checks (a misspelt property raises), scrubber aside."""
    import plotly.graph_objects as go

    go.Figure({k: v for k, v in spec.items() if k not in ("frames", "lossviz_scrub")})
    return spec


def test_every_figure_of_the_page_is_a_valid_plotly_figure_and_its_scrubbers_fit_their_traces():
    from lossviz import landscape
    from lossviz.viz import learning_rate as figures

    surface = _quadratic()
    xs, ys = landscape.axes_for_domain(surface.domain, 21)
    grid = landscape.grid(surface, xs, ys)
    curvature = lr_sweep.reference_curvature(surface, START)
    factors = lr_sweep.scrub_factors(3, 40)
    choices = ["0.25", "optimal", "1.05"]
    race = lr_sweep.compare_learning_rates(surface, START, choices, 40, curvature, factors)
    spec = _valid(figures.race(xs, ys, grid, race, floor=0.0, minima=surface.minima, min_value=0.0,
                               log_scale=False, start=tuple(START), view_key="q"))
    scrub = spec["lossviz_scrub"]
    assert [spec["data"][i]["name"] for i in scrub["traces"]] == list(race.labels)
    assert len(scrub["frames"]) == len(scrub["values"]) == factors.size
    assert scrub["active"] == factors.size // 2
    np.testing.assert_array_equal(scrub["frames"][scrub["active"]][2]["x"], race.trajectory.params[2, :, 0])
    _valid(figures.race_curves(race, 0.0))
    sweep = lr_sweep.learning_rate_sweep(surface, START, 40, n_lrs=200, curvature=curvature)
    _valid(figures.sweep(sweep, 0.0, figures.theory_lines(curvature), log_x=True))
    runs = lr_sweep.compare_schedules(surface, START, SCHEDULE_ORDER, 1.5, 40, 0, factors=[0.5, 1.0, 1.5])
    spec = _valid(figures.schedules(xs, ys, grid, runs, limit=2.0, floor=0.0, minima=surface.minima,
                                    log_scale=False))
    names = [spec["data"][i]["name"] for i in spec["lossviz_scrub"]["traces"]]
    assert names == [f"lr: {s.title}" for s in runs.schedules] + [f"path: {s.title}" for s in runs.schedules]
    _valid(figures.range_test(lr_sweep.range_test(surface, START, 60, curvature), 0.0,
                              figures.theory_lines(curvature)[:1]))


def test_each_scrubbed_position_titles_its_panels_with_what_that_rate_gave():
    """A scrubber position shows other rates' paths: each panel's title (the race) and note (the schedules)
    must say what a run at that position's own rate gave, as the server titles an exact run, not the exact
    rate's outcome above another path."""
    from lossviz import landscape
    from lossviz.viz import learning_rate as figures
    from lossviz.viz.landscape import Path

    surface = _quadratic()
    xs, ys = landscape.axes_for_domain(surface.domain, 21)
    grid = landscape.grid(surface, xs, ys)
    curvature = lr_sweep.reference_curvature(surface, START)
    maps = {"minima": surface.minima, "min_value": 0.0, "log_scale": False}
    race = lr_sweep.compare_learning_rates(surface, START, ["0.25", "optimal", "1.05"], 40, curvature,
                                           [0.5, 0.9, 1.0, 1.2])
    spec = figures.race(xs, ys, grid, race, floor=0.0, start=tuple(START), view_key="q", **maps)
    scrub, annotations = spec["lossviz_scrub"], spec["layout"]["annotations"]
    assert len(scrub["texts"]) == len(race.labels)
    endings = set()
    for r, (index, texts) in enumerate(sorted(scrub["texts"].items())):
        assert texts[scrub["active"]] == annotations[index]["text"]
        for m, lr in enumerate(race.frames.lrs[r]):
            exact = run(surface, optimizers.get("sgd", lr=float(lr)), START, 40)
            ending = figures._ending(Path("", "", exact.params, exact.loss, int(exact.diverged_at)), 0.0)
            assert texts[m].split("<br>")[1] == ending, (r, m)
            assert texts[m].startswith(f"lr {lr:.4g}")
            endings.add(ending.split(" ")[0])
    assert {"final", "diverged"} <= endings  # both kinds of title are checked

    peaks = [0.5, 1.0, 2.5]
    runs = lr_sweep.compare_schedules(surface, START, SCHEDULE_ORDER, 1.0, 40, 0, factors=peaks)
    spec = figures.schedules(xs, ys, grid, runs, limit=2.0, floor=0.0, minima=surface.minima, log_scale=False)
    scrub, annotations = spec["lossviz_scrub"], spec["layout"]["annotations"]
    notes = set()
    for m, peak in enumerate(runs.frames.base_lrs):
        exact = lr_sweep.compare_schedules(surface, START, SCHEDULE_ORDER, float(peak), 40, 0)
        for i in range(len(SCHEDULE_ORDER)):
            note = figures._final(exact.trajectory.loss[i, -1])
            assert scrub["texts"][2 * i + 1][m] == note, (m, i)
            notes.add(note.split(" ")[0])
            if m == scrub["active"]:
                assert annotations[2 * i + 1]["text"] == note
    assert {"final", "diverged"} <= notes


def test_the_curvature_summary_does_not_call_the_optimal_rate_fastest_where_a_smaller_rate_ends_lower():
    """At κ = 1000 the rate 2/(λ_max+λ_min) has the best worst case, yet its run ends above a run at half
    of it (the steep walls hold the loss): the words say so instead of "fastest"."""
    bowl = surfaces.get("quadratic", condition_number=1000.0, rotation=30.0)
    start = np.array([-2.5, 2.0])
    curvature = analysis.reference_curvature(bowl, start)
    words = lr_sweep.curvature_summary(bowl.title, curvature)
    assert "fastest" not in words and "(κ−1)/(κ+1) = 0.998" in words
    assert "a short run can end lower at a smaller rate" in words
    ends = [run(bowl, optimizers.get("sgd", lr=lr), start, 100).loss[-1]
            for lr in (curvature.optimal_lr, curvature.optimal_lr / 2)]
    assert ends[1] < ends[0]


@pytest.mark.parametrize("eigenvalues", [(-1.0, 2.0), (0.0, 2.0), (1.0, 1.0)])
def test_the_curvature_summary_reads_without_nan_or_inf_on_saddles_flat_and_round_bowls(eigenvalues):
    values = np.array(eigenvalues)
    curvature = analysis.Curvature(np.zeros(2), values, np.diag(values), "the start (0, 0)", False)
    words = lr_sweep.curvature_summary("A surface", curvature)
    assert "nan" not in words.lower() and "inf" not in words.lower()
    assert f"lr < 2/λ_max = **{2 / eigenvalues[1]:g}**" in words
    if eigenvalues[0] <= 0:
        assert "no rate brings a run closer" in words
    if eigenvalues == (1.0, 1.0):
        assert "one step lands on the minimum" in words and "**1**" in words


def test_the_sweep_summary_names_no_optimal_rate_where_the_curvature_has_none():
    sweep = lr_sweep.learning_rate_sweep(surfaces.get("quadratic"), [-2.0, 1.5], 50, n_lrs=20)
    flat = analysis.Curvature(np.zeros(2), np.array([0.0, 1.0]), np.diag([0.0, 1.0]), "the start", False)
    words = lr_sweep.sweep_summary(dataclasses.replace(sweep, curvature=flat))
    assert "nan" not in words and "no optimal rate" in words
