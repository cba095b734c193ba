"""lv.plot's figures (lossviz.viz.plot): Figures that pass plotly's validation and show what was run."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import lossviz as lv
from lossviz.viz.landscape import PALETTE


def _valid(fig: go.Figure) -> go.Figure:
    """``fig``, once its JSON has gone through plotly's validating constructor (a misspelt property, a value
    out of its range or a frame plotly cannot read raises here)."""
    assert type(fig) is go.Figure
    go.Figure(fig.to_dict(), skip_invalid=False)
    return fig


def _lines(fig: go.Figure) -> dict[str, go.Scatter]:
    return {t.name: t for t in fig.data if t.type == "scatter" and t.mode == "lines"}


@pytest.fixture(scope="module")
def ravine_race() -> lv.Race:
    bowl = lv.surface("quadratic", condition_number=10.0, rotation=30.0)
    return lv.race(bowl, {"GD": lv.optimizer("sgd", lr=1.0), "too fast": lv.optimizer("sgd", lr=3.0)},
                   [-2.5, 2.0], 40)


def test_contour_maps_the_surface_and_draws_each_path(ravine_race):
    surface = ravine_race.surface
    fig = _valid(lv.plot.contour(surface, ravine_race, resolution=31))
    grid = fig.data[0]
    assert grid.type == "contour" and np.shape(grid.z) == (31, 31)
    xs, ys = np.asarray(grid.x), np.asarray(grid.y)
    assert (xs[0], xs[-1]) == surface.domain[0] and (ys[0], ys[-1]) == surface.domain[1]
    assert grid.z[7][19] == pytest.approx(float(surface.f([xs[19], ys[7]])))  # no log scale on this bowl
    lines = _lines(fig)
    assert list(lines) == ["GD", "too fast"]
    np.testing.assert_array_equal(lines["GD"].x, ravine_race["GD"].params[:, 0])
    assert lines["GD"].line.color == PALETTE[0] and lines["too fast"].line.color == PALETTE[1]
    fast = ravine_race["too fast"]
    assert fast.diverged_at > 0
    marks = {t.text[0]: t for t in fig.data[1:]
             if getattr(t, "mode", None) == "markers+text" and t.legendgroup == "too fast"}
    assert set(marks) == {f"diverged at step {fast.diverged_at}", "left the view at step 1"}
    cross = marks[f"diverged at step {fast.diverged_at}"]
    last = fast.params[fast.diverged_at]
    assert (cross.x[0], cross.y[0]) == (last[0], last[1])
    star = next(t for t in fig.data if t.name == "global minimum")
    assert (star.x[0], star.y[0]) == (0.0, 0.0)
    assert len(fig.frames) == 41 and fig.layout.updatemenus[0].buttons[0].label == "▶ Play"


def test_contour_of_any_two_parameter_objective_frames_its_paths():
    line = lv.model("linear_regression", lv.dataset("linear", n_samples=40).select(0))
    fit = lv.run(line, lv.optimizer("sgd", lr=0.2), [3.0, -2.0], 25)
    fig = _valid(lv.plot.contour(line, {"GD": fit}, resolution=21, animate=False, title="A line"))
    xs, ys = np.asarray(fig.data[0].x), np.asarray(fig.data[0].y)
    assert xs[0] < fit.params[:, 0].min() and xs[-1] > fit.params[:, 0].max()
    assert ys[0] < fit.params[:, 1].min() and ys[-1] > fit.params[:, 1].max()
    assert fig.layout.title.text == "A line" and not fig.frames
    boxed = _valid(lv.plot.contour(line, fit, domain=((0, 2), (-1, 3)), resolution=5, animate=False))
    np.testing.assert_allclose(boxed.data[0].y, [-1, 0, 1, 2, 3])


def test_a_sweep_is_one_path_per_run_labelled_by_its_rate():
    bowl = lv.surface("quadratic")
    sweep = lv.run(bowl, lv.optimizer("sgd", lr=np.array([0.05, 0.5])), [-2.0, 2.0], 30)
    lines = _lines(_valid(lv.plot.contour(bowl, sweep, resolution=11, animate=False)))
    assert list(lines) == ["lr 0.05", "lr 0.5"]
    np.testing.assert_array_equal(lines["lr 0.5"].y, sweep.params[1, :, 1])
    same_rate = lv.run(bowl, lv.optimizer("sgd", lr=0.1), np.array([[1.0, 1.0], [-1.0, 2.0]]), 5)
    assert list(_lines(lv.plot.contour(bowl, {"from": same_rate}, animate=False))) == ["from 0", "from 1"]


def test_surface3d_lifts_the_paths_onto_the_surface(ravine_race):
    fig = _valid(lv.plot.surface3d(ravine_race.surface, ravine_race, resolution=25, height=400))
    assert fig.data[0].type == "surface" and np.shape(fig.data[0].z) == (25, 25)
    paths = [t for t in fig.data if t.type == "scatter3d" and t.mode == "lines"]
    assert [t.name for t in paths] == ["GD", "too fast"]
    gd = ravine_race["GD"]
    np.testing.assert_array_equal(paths[0].x, gd.params[:, 0])
    assert np.all(np.asarray(paths[0].z) >= np.asarray(gd.loss) - 1e-12)  # drawn on top, not under it
    assert fig.layout.height == 400


def test_curves_show_the_chosen_quantity_per_step(ravine_race):
    loss = _valid(lv.plot.curves(ravine_race))
    assert [t.name for t in loss.data] == ["GD", "too fast"]
    minimum = ravine_race.minima.value
    gd = ravine_race["GD"]
    np.testing.assert_allclose(np.asarray(loss.data[0].y, dtype=float), np.where(gd.loss - minimum > 0,
                                                                                 gd.loss - minimum, np.nan))
    assert loss.layout.yaxis.type == "log" and loss.layout.yaxis.title.text == "loss − minimum"
    distance = _valid(lv.plot.curves(ravine_race, "distance"))
    np.testing.assert_allclose(distance.data[0].y, np.linalg.norm(gd.params, axis=1))
    rates = _valid(lv.plot.curves(ravine_race, "lr", log_y=False))
    assert rates.layout.yaxis.type == "linear" and len(rates.data[0].y) == 40
    norms = lv.plot.curves({"GD": gd}, "grad_norm")
    np.testing.assert_array_equal(norms.data[0].y, gd.grad_norm)


def test_curves_on_a_negative_loss_stay_linear():
    tang = lv.surface("styblinski_tang")
    traj = lv.run(tang, lv.optimizer("adam", lr=0.1), [0.5, 0.5], 50)
    fig = lv.plot.curves(traj)
    assert traj.loss.min() < 0 and fig.layout.yaxis.type == "linear"
    np.testing.assert_array_equal(fig.data[0].y, traj.loss)


def test_curves_refuse_what_they_cannot_draw():
    traj = lv.run(lv.surface("booth"), lv.optimizer("sgd", lr=0.05), [0.0, 0.0], 5)
    with pytest.raises(ValueError, match="quantity"):
        lv.plot.curves(traj, "speed")
    with pytest.raises(ValueError, match="needs a race"):
        lv.plot.curves(traj, "distance")


def test_the_animation_grows_each_path_step_by_step(ravine_race):
    fig = _valid(lv.plot.animation(ravine_race.surface, ravine_race, frames=11, resolution=21))
    steps = [int(f.name) for f in fig.frames]
    assert steps == list(range(0, 41, 4))
    fast = ravine_race["too fast"]
    gd_index = next(i for i, t in enumerate(fig.data) if t.name == "GD")
    marks = {t.text[0]: i for i, t in enumerate(fig.data)
             if t.type == "scatter" and t.mode == "markers+text" and t.legendgroup == "too fast"}
    cross, exit_ = marks[f"diverged at step {fast.diverged_at}"], marks["left the view at step 1"]
    for frame in fig.frames:
        step = int(frame.name)
        updates = dict(zip(frame.traces, frame.data))
        np.testing.assert_array_equal(updates[gd_index].x, ravine_race["GD"].params[: step + 1, 0])
        assert (updates[cross].x != (None,)) == (step >= fast.diverged_at)
        assert (updates[exit_].x != (None,)) == (step >= 1)
        assert frame.layout.annotations[0].text == f"step {step} / 40"
        heads = frame.layout.shapes
        assert len(heads) == 2 and heads[0].xanchor == ravine_race["GD"].params[step, 0]
    assert fig.data[gd_index].x == (ravine_race["GD"].params[0, 0],)  # the figure itself is step 0
    slider = fig.layout.sliders[0]
    assert [s.label for s in slider.steps] == [str(s) for s in steps]


def test_the_animation_has_one_frame_per_step_at_most():
    bowl = lv.surface("booth")
    fig = lv.plot.animation(bowl, lv.run(bowl, lv.optimizer("sgd", lr=0.05), [1.0, 1.0], 7), frames=60)
    assert [f.name for f in fig.frames] == [str(s) for s in range(8)]


def test_figures_refuse_paths_off_the_plane():
    net = lv.model("mlp", lv.dataset("moons", n_samples=30), hidden=(3,))
    fit = lv.run(net, lv.optimizer("sgd", lr=0.1), net.init_params(), 3)
    for draw in (lv.plot.contour, lv.plot.surface3d, lv.plot.animation):
        with pytest.raises(ValueError, match="landscape"):
            draw(lv.surface("booth"), fit)
    with pytest.raises(ValueError, match="d=17"):
        lv.plot.contour(net)
    with pytest.raises(ValueError, match="at least one"):
        lv.plot.animation(lv.surface("booth"), {})


def test_the_landscape_of_a_two_parameter_model_is_drawn_like_the_models_page():
    line = lv.model("linear_regression", lv.dataset("linear", n_samples=40).select(0))
    fit = lv.run(line, lv.optimizer("sgd", lr=0.2), [3.0, -2.0], 25)
    land = lv.model_landscape(line, trajectories={"GD": fit}, resolution=13)
    fig = _valid(lv.plot.landscape(land))
    assert fig.data[0].type == "contour"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("slope", "intercept")
    np.testing.assert_array_equal(_lines(fig)["GD"].x, fit.params[:, 0])
    relief = _valid(lv.plot.landscape(land, kind="surface"))
    assert relief.data[0].type == "surface" and relief.layout.scene.xaxis.title.text == "slope"


def test_a_networks_landscape_is_drawn_like_the_neural_net_page():
    net = lv.model("mlp", lv.dataset("moons", n_samples=60), hidden=(4,))
    fit = lv.run(net, lv.optimizer("adam", lr=0.05), net.init_params(seed=0), 20)
    plane = lv.model_landscape(net, trajectories={"Adam": fit}, resolution=9)
    fig = _valid(lv.plot.landscape(plane, title="PCA plane"))
    np.testing.assert_allclose(_lines(fig)["Adam"].x, plane.paths[0][1][:, 0])
    assert fig.layout.xaxis.title.text.startswith("PC1") and fig.layout.title.text == "PCA plane"
    colours = np.asarray(fig.data[0].z, dtype=float)
    np.testing.assert_allclose(colours, np.log10(plane.Z))  # a log colour scale, in loss units on the bar
    random = _valid(lv.plot.landscape(lv.model_landscape(net, span=0.5, resolution=5)))
    assert random.data[0].type == "contour" and not random.layout.showlegend
    relief = _valid(lv.plot.landscape(plane, kind="surface"))
    assert relief.data[0].type == "surface"
    with pytest.raises(ValueError, match="kind"):
        lv.plot.landscape(plane, kind="bars")
    with pytest.raises(TypeError, match="ModelLandscape"):
        lv.plot.landscape(fit)
