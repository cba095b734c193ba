"""The momentum lesson's core: stability boundaries against measured divergence (single runs and the whole
phase map), the optimal tunings against a brute-force search, and each scenario's text against what
happens."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossviz import analysis, optimizers, surfaces
from lossviz.analysis import reference_curvature
from lossviz.lessons import momentum as phase_map
from lossviz.lessons.momentum import MOMENTUM_SCENARIOS
from lossviz.run import run

START = np.array([-2.5, 2.0])


def _quadratic(kappa=10.0, rotation=30.0):
    return surfaces.get("quadratic", condition_number=kappa, rotation=rotation)


def _sgd(lr, momentum, nesterov):
    return optimizers.get("sgd", lr=lr, momentum=momentum, nesterov=nesterov)


# ------------------------------------------------------------------------------------------ boundary
def test_boundary_is_the_textbook_formula():
    betas = np.linspace(0.0, 0.99, 12)
    np.testing.assert_allclose(phase_map.stability_boundary(4.0, betas, "heavy_ball"), 2 * (1 + betas) / 4.0)
    np.testing.assert_allclose(phase_map.stability_boundary(4.0, betas, "nesterov"),
                               2 * (1 + betas) / ((1 + 2 * betas) * 4.0))


@settings(max_examples=40, deadline=None)
@given(
    kappa=st.floats(1.0, 50.0),
    rotation=st.floats(-180.0, 180.0),
    beta=st.floats(0.05, 0.9),
    nesterov=st.booleans(),
    margin=st.floats(0.02, 0.06),
)
def test_momentum_diverges_just_above_the_boundary_and_converges_just_below(kappa, rotation, beta, nesterov,
                                                                            margin):
    surface = _quadratic(kappa, rotation)
    start = 2.0 * np.array([math.cos(math.radians(rotation + 70)), math.sin(math.radians(rotation + 70))])
    method = "nesterov" if nesterov else "heavy_ball"
    limit = float(phase_map.stability_boundary(1.0, np.array([beta]), method)[0])
    below, above = limit * (1 - margin), limit * (1 + margin)
    spectrum = surface.constants["eigenvalues"]
    # Steps enough for the growth above to pass the 1e12 threshold and the decay below to reach 1e-3;
    # the spectral radius only sizes the runs, the assertions are on what the runs do.
    rate_below = analysis.momentum_rate(below, beta, spectrum, nesterov)
    rate_above = analysis.momentum_rate(above, beta, spectrum, nesterov)
    steps = int(min(20_000, math.ceil(max(math.log(1e16) / math.log(rate_above) / 2,
                                          math.log(1e-4) / math.log(rate_below)))))
    diverging = run(surface, _sgd(above, beta, nesterov), start, steps)
    converging = run(surface, _sgd(below, beta, nesterov), start, steps)
    assert diverging.diverged_at >= 0
    assert converging.diverged_at == -1 and converging.loss[-1] < 1e-3 * converging.loss[0]


def test_the_phase_maps_measured_stable_region_is_the_theorys():
    surface = _quadratic(10.0)
    for method in phase_map.METHODS:
        pm = phase_map.phase_map(surface, START, 1500, method=method, n_lr=24, n_momentum=24,
                                 momentum_max=0.95)
        measured_unstable = pm.diverged | pm.grew
        ratio = pm.lrs[None, :] / pm.boundary()[:, None]
        clear = (ratio < 0.95) | (ratio > 1.05)  # cells not on the boundary itself
        assert clear.sum() > 0.8 * clear.size
        np.testing.assert_array_equal(measured_unstable[clear], pm.theory_unstable[clear])
        assert pm.diverged[ratio > 1.05].all()
        # Far enough inside, every run got within the tolerance and stayed there.
        rate = pm.predicted_rate()
        assert pm.converged[rate < 0.97].all()


def test_the_phase_map_is_one_run_call_of_every_cell(monkeypatch):
    calls = []
    real_run = phase_map.run
    monkeypatch.setattr(phase_map, "run",
                        lambda *a, **k: calls.append(a[1].hyperparameters) or real_run(*a, **k))
    pm = phase_map.phase_map(_quadratic(), START, 40, n_lr=64, n_momentum=64)
    assert len(calls) == 1
    lrs, momenta = calls[0]["lr"], calls[0]["momentum"]
    assert lrs.shape == momenta.shape == (64 * 64,)
    # Row i, column j of the map is the run with momenta[i] and lrs[j].
    np.testing.assert_array_equal(lrs.reshape(64, 64)[5], pm.lrs)
    np.testing.assert_array_equal(momenta.reshape(64, 64)[:, 7], pm.momenta)
    assert pm.steps_to_tol.shape == pm.final_loss.shape == pm.diverged_at.shape == (64, 64)


def test_axes_span_the_boundary_and_nesterov_starts_above_zero_momentum():
    surface = _quadratic()
    heavy = phase_map.phase_map(surface, START, 10, n_lr=16, n_momentum=16)
    nesterov = phase_map.phase_map(surface, START, 10, method="nesterov", n_lr=16, n_momentum=16)
    assert heavy.momenta[0] == 0.0 and nesterov.momenta[0] == phase_map.NESTEROV_MIN_MOMENTUM
    for pm in (heavy, nesterov):
        assert pm.lrs[0] == pytest.approx(0.01 * 2.0)
        assert pm.lrs[-1] == pytest.approx(1.15 * pm.boundary().max())
        np.testing.assert_allclose(np.diff(np.log(pm.lrs)), np.log(pm.lrs[1] / pm.lrs[0]))


# ------------------------------------------------------------------------------------------- optimum
def test_heavy_ball_optimum_is_polyaks_and_the_measured_fastest_cell_sits_on_it():
    surface = _quadratic(100.0)
    pm = phase_map.phase_map(surface, START, 300, n_lr=64, n_momentum=64)
    polyak = analysis.optimal_hyperparameters(0.01, 1.0, "heavy_ball")
    np.testing.assert_allclose(pm.optimal, polyak, rtol=1e-12)
    row, col = pm.nearest_cell(pm.optimal.lr, pm.optimal.momentum)
    best = np.nanmin(pm.steps_to_tol)
    assert pm.steps_to_tol[row, col] <= 1.1 * best
    best_row, best_col = pm.best_cell()
    assert abs(best_row - row) <= 2 and abs(best_col - col) <= 2
    # The best plain-GD cell (momentum 0) needs several times as many steps, or never gets there.
    gd_row = pm.steps_to_tol[0]
    assert not np.isfinite(gd_row).any() or np.nanmin(gd_row) > 3 * best


@pytest.mark.parametrize("kappa", [2.0, 10.0, 100.0, 1000.0])
def test_nesterov_optimum_minimizes_the_spectral_radius(kappa):
    curvature = reference_curvature(_quadratic(kappa), START)
    tuning = phase_map.optimal_tuning(curvature, "nesterov")
    spectrum = [1 / kappa, 1.0]
    # At the optimum the roots are double, where the radius is only sqrt(eps)-accurate numerically.
    rate = analysis.momentum_rate(tuning.lr, tuning.momentum, spectrum, True)
    assert rate == pytest.approx(tuning.rate, rel=1e-7)
    lrs = np.linspace(0.5, 1.5, 401)[:, None]
    betas = np.linspace(0.0, 0.99, 400)[None, :]
    brute = analysis.momentum_rate(lrs, betas, spectrum, True)
    assert brute.min() >= tuning.rate - 1e-12
    i, j = np.unravel_index(brute.argmin(), brute.shape)
    assert abs(lrs[i, 0] - tuning.lr) < 0.01 and abs(betas[0, j] - tuning.momentum) < 0.01


def test_optimal_tuning_needs_positive_lambda_min():
    curvature = reference_curvature(surfaces.get("saddle"), np.array([0.5, 0.2]))
    with pytest.raises(ValueError, match="optimal tuning needs λ_min > 0"):
        phase_map.optimal_tuning(curvature)


# ------------------------------------------------------------------------------ cells and their runs
def test_steps_to_tolerance_is_where_the_error_stays_below():
    error = np.array([[5.0, 0.5, 2.0, 0.5, 0.1],   # dips, rises again, settles at 3
                      [5.0, 4.0, 3.0, 2.0, 1.5],   # never below 1
                      [5.0, 0.5, 0.4, 0.3, 0.2],   # settles at 1
                      [5.0, 0.5, np.nan, np.nan, np.nan]])  # diverged: NaN counts as above
    np.testing.assert_array_equal(phase_map._settled_at(error, 1.0), [3, -1, 1, -1])


@pytest.mark.parametrize("dim", [2, 12])
def test_distance_is_the_euclidean_norm_and_nan_where_a_point_is_not(dim):
    rng = np.random.default_rng(dim)
    points, center = rng.normal(size=(5, 7, dim)), rng.normal(size=dim)
    points[1, 3, 0] = np.nan
    expected = np.linalg.norm(points - center, axis=-1)
    np.testing.assert_allclose(phase_map._distance(points, center), expected, rtol=1e-12)
    assert np.isnan(phase_map._distance(points, center)[1, 3])


def test_a_replayed_cell_is_the_same_run_as_in_the_map():
    surface = _quadratic(30.0)
    pm = phase_map.phase_map(surface, START, 120, n_lr=16, n_momentum=16)
    for row, col in ((3, 4), (10, 12), (15, 15), (0, 0)):
        replay = phase_map.cell_trajectory(surface, pm, row, col)
        if pm.diverged[row, col]:
            assert replay.diverged_at == pm.diverged_at[row, col]
        else:
            assert replay.loss[-1] == pytest.approx(pm.final_loss[row, col], rel=1e-9, abs=1e-300)
            error = np.linalg.norm(replay.params, axis=1)
            settled = phase_map._settled_at(error[None], pm.rel_tol * error[0])[0]
            assert settled == (pm.steps_to_tol[row, col] if pm.converged[row, col] else -1)


def test_nearest_cell_and_settings_are_inverse():
    pm = phase_map.phase_map(_quadratic(), START, 10, n_lr=16, n_momentum=16)
    for row, col in ((0, 0), (7, 3), (15, 15)):
        assert pm.nearest_cell(*pm.settings(row, col)) == (row, col)
    with pytest.raises(ValueError, match=r"row must be an integer in \[0, 15\]"):
        pm.settings(16, 0)
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\), got"):
        pm.nearest_cell(0.0, 0.5)
    frame = pm.to_frame()
    assert len(frame) == 256 and {"lr", "momentum", "steps_to_tol", "boundary_lr"} <= set(frame.columns)


def test_without_a_minimum_the_tolerance_is_on_the_gradient():
    class Bowl:
        dim = 2

        def f(self, p):
            return 0.5 * np.sum(np.asarray(p) ** 2, axis=-1)

        def grad(self, p):
            return np.asarray(p, dtype=float)

    pm = phase_map.phase_map(Bowl(), np.array([1.0, 1.0]), 200, n_lr=8, n_momentum=8)
    assert pm.tolerance_on == "gradient" and pm.converged.any()


# --------------------------------------------------------------------------------- methods compared
def test_compare_momentum_at_zero_momentum_is_gradient_descent_three_times():
    comparison = phase_map.compare_momentum(_quadratic(), START, 1.0, 0.0, 30)
    gd = run(_quadratic(), optimizers.get("sgd", lr=1.0), START, 30)
    for trajectory in comparison.trajectories:
        np.testing.assert_array_equal(trajectory.params, gd.params)
    np.testing.assert_allclose(comparison.theory_rates, 0.9)


def test_measured_rates_match_the_theory_on_a_quadratic():
    for lr, beta in ((1.0, 0.9), (0.5, 0.5), (1.6, 0.6)):
        comparison = phase_map.compare_momentum(_quadratic(50.0), START, lr, beta, 400)
        spectrum = [1 / 50, 1.0]
        expected = [analysis.momentum_rate(lr, 0.0, spectrum), analysis.momentum_rate(lr, beta, spectrum),
                    analysis.momentum_rate(lr, beta, spectrum, True)]
        np.testing.assert_allclose(comparison.theory_rates, expected)
        np.testing.assert_allclose(comparison.measured_rates, expected, rtol=0.01)
    frame = comparison.to_frame()
    assert set(frame["method"]) == set(comparison.labels) and len(frame) == 3 * 401


def test_momentum_frames_are_the_runs_for_each_momentum():
    surface = _quadratic(20.0)
    momenta = phase_map.frame_momenta(0.73, count=11)
    assert 0.73 in momenta and np.all(np.diff(momenta) > 0) and momenta[0] == 0.0
    frames = phase_map.momentum_frames(surface, START, 1.2, 50, momenta)
    assert frames.heavy_ball.shape == frames.nesterov.shape == (momenta.size, 51, 2)
    for k in (1, 5, momenta.size - 1):
        heavy = run(surface, _sgd(1.2, float(momenta[k]), False), START, 50)
        nesterov = run(surface, _sgd(1.2, float(momenta[k]), True), START, 50)
        np.testing.assert_allclose(frames.heavy_ball[k], heavy.params, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(frames.nesterov[k], nesterov.params, rtol=1e-12, atol=1e-300)
    gd = run(surface, optimizers.get("sgd", lr=1.2), START, 50)
    np.testing.assert_array_equal(frames.nesterov[0], gd.params)


# ----------------------------------------------------------------------------------------- scenarios
def _scenario(name):
    s = MOMENTUM_SCENARIOS[name].settings
    surface = _quadratic(s["kappa"], s["rotation"])
    start = np.array([s["x0"], s["y0"]])
    lr = s["lr"] * reference_curvature(surface, start).max_stable_lr
    return s, surface, phase_map.compare_momentum(surface, start, lr, s["momentum"], s["steps"])


def _final_distance(comparison):
    return [float(np.linalg.norm(t.params[-1])) for t in comparison.trajectories]


def test_ravine_scenario_momentum_ends_hundreds_of_times_closer():
    _, _, comparison = _scenario("ravine")
    gd, heavy, nesterov = _final_distance(comparison)
    assert heavy < gd / 100 and nesterov < gd / 100
    assert comparison.theory_rates[1] == pytest.approx(math.sqrt(0.9))


def test_optimal_scenario_reaches_the_root_kappa_rate_where_gd_and_nesterov_diverge():
    s, _, comparison = _scenario("optimal")
    root = math.sqrt(s["kappa"])
    # Polyak's tuning puts double roots on both extreme eigenvalues, so the error decays like t * rho^t: a
    # fitted slope over steps 75..150 reads about 1 % above rho.
    assert comparison.measured_rates[1] == pytest.approx((root - 1) / (root + 1), rel=0.02)
    assert comparison.trajectories[0].diverged_at >= 0 and comparison.trajectories[2].diverged_at >= 0
    tuning = analysis.optimal_hyperparameters(1 / s["kappa"], 1.0, "heavy_ball")
    assert abs(2 * s["lr"] - tuning.lr) < 0.01 and abs(s["momentum"] - tuning.momentum) < 0.01


def test_nesterov_edge_scenario_heavy_ball_converges_and_nesterov_diverges():
    s, _, comparison = _scenario("nesterov_edge")
    assert comparison.lr == pytest.approx(1.6)
    assert comparison.trajectories[1].diverged_at == -1 and comparison.trajectories[2].diverged_at >= 0
    assert phase_map.stability_boundary(1.0, np.array([0.9]), "nesterov")[0] == pytest.approx(3.8 / 2.8)


def test_too_much_momentum_scenario_is_slower_than_gradient_descent():
    _, _, comparison = _scenario("too_much_momentum")
    gd, heavy, _ = _final_distance(comparison)
    assert heavy > 1000 * gd
    assert comparison.measured_rates[1] >= math.sqrt(0.99) - 1e-3


# ---------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: phase_map.phase_map(_quadratic(), START, 10, method="adam"),
         "unknown method 'adam'; valid names"),
        (lambda: phase_map.phase_map(_quadratic(), START, 10, n_lr=4),
         r"n_lr must be an integer in \[8, 128\]"),
        (lambda: phase_map.phase_map(_quadratic(), START, 10, n_momentum=200),
         r"n_momentum must be an integer in \[8, 128\]"),
        (lambda: phase_map.phase_map(_quadratic(), START, 10, rel_tol=1.0), r"rel_tol must be in \(0, 1\)"),
        (lambda: phase_map.phase_map(_quadratic(), START, 10, momentum_max=1.0),
         r"momentum_max must be in \(0.01, 0.999\]"),
        (lambda: phase_map.phase_map(_quadratic(), START, 0), r"steps must be an integer in \[1, 10000\]"),
        (lambda: phase_map.phase_map(_quadratic(), [0.0, 0.0], 10), "x0 is already at the global minimum"),
        (lambda: phase_map.phase_map(_quadratic(), [1.0], 10), r"x0 must have shape \(2,\)"),
        (lambda: phase_map.stability_boundary(0.0, [0.5]), r"lambda_max must be in \(0, inf\), got 0.0"),
        (lambda: phase_map.stability_boundary(1.0, [1.0]), r"momentum must be in \[0, 1\)"),
        (lambda: phase_map.compare_momentum(_quadratic(), START, 1.0, 1.0, 10),
         r"momentum must be in \[0, 1\)"),
        (lambda: phase_map.compare_momentum(_quadratic(), START, -1.0, 0.5, 10),
         r"lr must be in \(0, inf\), got"),
        (lambda: phase_map.momentum_frames(_quadratic(), START, 1.0, 10, [0.5, 1.2]),
         "momenta must hold 1 to 201 values in"),
        (lambda: phase_map.frame_momenta(1.0), r"selected must be in \[0, 1\)"),
        (lambda: phase_map.cell_trajectory(_quadratic(), "map", 0, 0), "phase must be a PhaseMap"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ------------------------------------------------------------------------- turns across the valley
def test_valley_reversals_count_the_visible_turns_along_the_sharp_direction():
    bowl = _quadratic(10.0, 0.0)  # rotation 0: the sharp direction is y
    curvature = reference_curvature(bowl, START)
    across = np.array([1.0, -0.5, 0.25, -0.1, -0.05, 0.001, -0.001])
    path = np.column_stack([np.linspace(-2, 0, across.size), across])
    # Steps across: -1.5, +0.75, -0.35, +0.05, +0.051, -0.002: turns at the 2nd, 3rd and 4th step; the last
    # step is too short to see.
    assert phase_map.valley_reversals(path, curvature, 0.01) == 3
    assert phase_map.valley_reversals(path, curvature, 0.0) == 4
    assert phase_map.valley_reversals(path[:, ::-1], curvature, 0.01) == 0  # all steps along the floor
    with_nan = np.vstack([path, [np.nan, np.nan]])
    assert phase_map.valley_reversals(with_nan, curvature, 0.01) == 3


def test_walls_scenario_the_default_picture_shows_what_its_text_says():
    """GD bounces between the walls more often than heavy ball, which ends far closer to the minimum;
    Nesterov's limit 2(1+beta)/((1+2 beta) lambda_max) is below this lr, so it diverges."""
    s, surface, comparison = _scenario("walls")
    gd, heavy, nesterov = comparison.trajectories
    visible = 0.005 * 6.0  # the view is 6 wide
    turns = [phase_map.valley_reversals(t.params, comparison.curvature, visible) for t in (gd, heavy)]
    assert turns[0] >= 2 * turns[1] >= 2
    assert np.linalg.norm(heavy.params[-1]) < np.linalg.norm(gd.params[-1]) / 50
    assert gd.diverged_at == heavy.diverged_at == -1 and nesterov.diverged_at >= 0
    limit = phase_map.stability_boundary(1.0, np.array([s["momentum"]]), "nesterov")[0]
    assert comparison.lr > limit and comparison.lr / 2 == pytest.approx(s["lr"])
    assert comparison.theory_rates[0] == pytest.approx(1 - comparison.lr / s["kappa"])


def test_a_phase_map_too_big_for_one_call_runs_in_row_blocks_with_the_same_result(monkeypatch):
    whole = phase_map.phase_map(_quadratic(), START, 60, n_lr=16, n_momentum=16)
    monkeypatch.setattr(phase_map, "MAX_RECORDED_POINTS", 16 * 61 * 5)  # five rows per call
    calls = []
    real_run = phase_map.run
    monkeypatch.setattr(phase_map, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k))
    blocks = phase_map.phase_map(_quadratic(), START, 60, n_lr=16, n_momentum=16)
    assert len(calls) == 4
    for name in ("steps_to_tol", "final_loss", "diverged_at"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(whole, name))
    assert blocks.start_loss == whole.start_loss


def test_default_cell_is_the_one_asked_for_else_the_one_nearest_the_optimum():
    pm = phase_map.phase_map(_quadratic(), START, 30, n_lr=16, n_momentum=16)
    assert phase_map.default_cell(pm, 3, 4) == (3, 4, True)
    row, col = pm.nearest_cell(pm.optimal.lr, pm.optimal.momentum)
    assert phase_map.default_cell(pm, -1, -1) == (row, col, False)
    assert phase_map.default_cell(pm, 16, 0) == (row, col, False)  # a link's cell from a bigger map
    clicked = phase_map.cell_summary(pm, 3, 4, True)
    assert clicked.startswith(f"Clicked cell: lr {pm.lrs[4]:.4g}, β {pm.momenta[3]:.3f}")
    assert "16×16 = 256 runs of 30 steps" in phase_map.phase_summary(pm, "final")


def test_runs_and_distances_of_a_comparison():
    comparison = phase_map.compare_momentum(_quadratic(), START, 1.0, 0.5, 20)
    assert [label for label, _, _ in comparison.runs()] == list(comparison.labels)
    flags = [opt.hyperparameters.get("nesterov", False) for _, opt, _ in comparison.runs()]
    assert flags == [False, False, True]
    for distance, trajectory in zip(comparison.distances(), comparison.trajectories):
        np.testing.assert_allclose(distance, np.linalg.norm(trajectory.params, axis=1), rtol=1e-12)


# --------------------------------------------------------------------------------------------- figures
def _valid(spec):
    """The spec through plotly's property checks (a misspelt property raises), scrubber aside."""
    import plotly.graph_objects as go

    go.Figure({k: v for k, v in spec.items() if k not in ("frames", "lossviz_scrub")})
    return spec


def test_every_figure_of_the_page_is_a_valid_plotly_figure():
    from lossviz import landscape
    from lossviz.viz import momentum as figures

    surface = _quadratic(100.0)
    xs, ys = landscape.axes_for_domain(surface.domain, 21)
    grid = landscape.grid(surface, xs, ys)
    curvature = reference_curvature(surface, START)
    comparison = phase_map.compare_momentum(surface, START, 1.8, 0.6, 60, curvature)
    frames = phase_map.momentum_frames(surface, START, 1.8, 60, phase_map.frame_momenta(0.6, count=11))
    maps = {"minima": surface.minima, "min_value": 0.0, "log_scale": False, "start": tuple(START),
            "view_key": "q"}
    spec = _valid(figures.ravine(xs, ys, grid, comparison, frames, **maps))
    scrub = spec["lossviz_scrub"]
    assert scrub["values"][scrub["active"]] == "β = 0.6" and len(scrub["frames"]) == frames.momenta.size
    heavy_ball = comparison.trajectories[1].params
    np.testing.assert_array_equal(scrub["frames"][scrub["active"]][0]["x"], heavy_ball[:, 0])
    _valid(figures.rates(comparison))
    pm = phase_map.phase_map(surface, START, 60, n_lr=16, n_momentum=16, curvature=curvature)
    for values, log in ((pm.final_loss, True), (pm.steps_to_tol, False)):
        _valid(figures.phase_map(pm, values, value_label="v", log_color=log, selected=pm.settings(3, 4),
                                 view_key="q"))
    run = phase_map.cell_trajectory(surface, pm, 3, 4)
    _valid(figures.cell_map(xs, ys, grid, pm, 3, 4, run, **maps))


def test_each_scrubbed_beta_titles_its_panels_with_what_that_run_gave():
    """Away from the exact β the heavy-ball and Nesterov panels show other runs: their titles must count
    that position's own run (turns, distance, divergence), as the server titles an exact run at that β."""
    from lossviz import landscape
    from lossviz.viz import momentum as figures

    surface = _quadratic(100.0)
    xs, ys = landscape.axes_for_domain(surface.domain, 21)
    grid = landscape.grid(surface, xs, ys)
    curvature = reference_curvature(surface, START)
    maps = {"minima": surface.minima, "min_value": 0.0, "log_scale": False, "start": tuple(START),
            "view_key": "q"}
    momenta = phase_map.frame_momenta(0.6, count=9)
    frames = phase_map.momentum_frames(surface, START, 1.8, 60, momenta)
    spec = figures.ravine(xs, ys, grid, phase_map.compare_momentum(surface, START, 1.8, 0.6, 60, curvature),
                          frames, **maps)
    scrub, annotations = spec["lossviz_scrub"], spec["layout"]["annotations"]
    assert sorted(scrub["texts"]) == [1, 2]  # the heavy-ball and Nesterov panels; GD has no β
    endings = set()
    for k, beta in enumerate(frames.momenta):
        exact = figures.ravine(xs, ys, grid, phase_map.compare_momentum(surface, START, 1.8, float(beta), 60,
                                                                         curvature), frames, **maps)
        for index in (1, 2):
            title = exact["layout"]["annotations"][index]["text"]
            assert scrub["texts"][index][k].split("<br>", 1)[1] == title.split("<br>", 1)[1], (k, index)
            assert scrub["texts"][index][k].startswith(title.split(" (β")[0] + f" (β = {beta:.3g})")
            endings.add(title.split("<br>")[1].split(" ")[0])
        if k == scrub["active"]:
            assert [scrub["texts"][i][k] for i in (1, 2)] == [annotations[i]["text"] for i in (1, 2)]
    assert "diverged" in endings and len(endings) > 1  # both kinds of title are checked


def test_the_rates_summary_says_a_run_diverged_instead_of_measuring_a_second_half_it_never_had():
    """lr 2 x 2/λ_max and β 0.99: all three runs blow up (steps 13, 87, 8 of 200)."""
    surface = surfaces.get("quadratic")
    curvature = reference_curvature(surface, [-2.0, 1.5])
    comparison = phase_map.compare_momentum(surface, [-2.0, 1.5], 2 * curvature.max_stable_lr, 0.99, 200,
                                            curvature)
    text = phase_map.rates_summary(comparison)
    steps = [int(t.diverged_at) for t in comparison.trajectories]
    assert all(s >= 0 for s in steps) and "measured" not in text
    for label, step in zip(comparison.labels, steps, strict=True):
        assert f"**{label}**: theory ρ = " in text and f"diverged at step {step}" in text
