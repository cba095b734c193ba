"""The Neural net page's figures (lossviz.viz.neural_net): every spec is a valid plotly figure, and each
draws the numbers of the view it is given."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz import datasets, models
from lossviz.lessons import neural_net as nl
from lossviz.settings import OptimizerSetting
from lossviz.viz import neural_net as figures

MOONS = datasets.get("moons", n_samples=80, noise=0.2, seed=1)
IRIS = nl.build_model("iris", hidden=(5,))


@pytest.fixture(scope="module")
def trained():
    model = models.mlp(MOONS.X, MOONS.y, hidden=(6,))
    runs = nl.train(model, [OptimizerSetting("sgd", {"lr": 0.5}, label="GD"),
                            OptimizerSetting("adam", {"lr": 0.02}, label="Adam")], 30)
    views = {name: getattr(nl, f"{name}_view")(model, runs, **kw)
             for name, kw in nl.view_settings("coarse", resolution=9, sharpness_points=4).items()
             if name != "decision"}
    return model, runs, views


def _valid(spec: dict) -> go.Figure:
    """The spec through plotly's checks (an unknown property raises)."""
    return go.Figure({"data": spec["data"], "layout": spec["layout"]})


def test_every_figure_is_a_valid_plotly_figure(trained):
    model, runs, views = trained
    labels = [r.label for r in runs]
    decision = nl.decision_view(model, runs, 30, resolution=7)
    specs = [figures.training(runs, labels), figures.interpolation(views["interpolation"], labels),
             figures.slice_surface(views["slices"], labels, 1, "key"),
             figures.slice_contours(views["slices"], labels), figures.sharpness(views["sharpness"], labels),
             figures.plane(views["plane"], runs, labels, 0, 12), figures.honesty(views["plane"], labels),
             figures.decision(decision, 1, runs, MOONS, labels)]
    for spec in specs:
        _valid(spec)
    iris_model, iris = IRIS
    (run,) = nl.train(iris_model, [OptimizerSetting("sgd", {"lr": 0.3})], 5)
    view = nl.decision_view(iris_model, [run], 5, resolution=5)
    three = _valid(figures.decision(view, 0, [run], iris, ["GD"]))
    assert three.data[0].type == "heatmap" and [t.name for t in three.data[1:]] == list(iris.class_names)


def test_the_figure_functions_return_the_same_figure_as_a_plotly_figure(trained):
    _, runs, views = trained
    cut = views["slices"]
    figure = figures.slice_contours_figure(cut.xs, cut.ys, list(cut.slices), ["GD", "Adam"])
    assert isinstance(figure, go.Figure) and figure.data[0].type == "contour"
    np.testing.assert_allclose(np.asarray(figure.data[0].customdata), cut.slices[0])


def test_adam_family_runs_get_a_second_panel_with_their_preconditioned_sharpness(trained):
    _, runs, views = trained
    sharp = views["sharpness"]
    spec = figures.sharpness(sharp, ["GD", "Adam"])
    on_second = [t for t in spec["data"] if t.get("yaxis") == "y2"]
    assert [t["name"] for t in on_second] == ["Adam: λ<sub>max</sub>(P<sup>-1</sup>H)",
                                              "Adam: adaptive limit (2+2β₁)/((1−β₁)lr)"]
    np.testing.assert_allclose(on_second[0]["y"], sharp.preconditioned[1])
    np.testing.assert_allclose(on_second[1]["y"], 38 / 0.02)
    gd_limit = next(t for t in spec["data"] if t["name"] == "GD: stability limit")
    np.testing.assert_allclose(gd_limit["y"], 2 / 0.5)
    only_gd = figures.sharpness_spec(sharp.steps, [("GD", "#000", sharp.sharpness[0], sharp.thresholds[0])])
    assert "yaxis2" not in only_gd["layout"] and all(t.get("yaxis") is None for t in only_gd["data"])


def test_the_coarse_honesty_plot_joins_the_sampled_plane_losses(trained):
    model, runs, _ = trained
    spec = figures.honesty(nl.plane_view(model, runs, resolution=5, path_points=4), ["GD", "Adam"])
    dashed = [t for t in spec["data"] if "loss on the plane" in t["name"]]
    assert all(t["connectgaps"] for t in dashed)
    sampled = dashed[0]["y"]
    assert np.isnan(sampled).any() and np.isfinite(sampled).sum() >= 2  # a coarse pass: gaps to join


@pytest.mark.parametrize("step", [0, 13, 30])
def test_the_step_scrubber_holds_every_step_and_starts_at_the_figures_own(trained, step):
    _, runs, views = trained
    spec = figures.plane(views["plane"], runs, ["GD", "Adam"], 0, step)
    scrub = spec["lossviz_scrub"]
    assert scrub["values"] == [f"step {k}" for k in range(31)]
    assert scrub["values"][scrub["active"]] == f"step {step}"
    for index, check in zip(scrub["traces"], views["plane"].checks):
        marker = spec["data"][index]
        assert (marker["x"][0], marker["y"][0]) == tuple(check.coords[step])
        position = scrub["traces"].index(index)
        assert [frame[position]["x"][0] for frame in scrub["frames"]] == list(check.coords[:, 0])


def test_a_long_run_is_scrubbed_at_evenly_spaced_steps_and_the_picked_one():
    positions = figures.scrub_positions(3000, 1234)
    assert positions[0] == 0 and positions[-1] == 3000 and 1234 in positions
    assert len(positions) <= figures.MAX_SCRUB_POSITIONS + 1


def test_labels_reach_legends_as_given_and_hover_texts_never_hold_them(trained):
    _, runs, views = trained
    escaped = ["&lt;b&gt;%{x}", "two"]  # what lossviz.ui.text.plotly_label makes of "<b>%{x}"
    for spec in (figures.training(runs, escaped), figures.interpolation(views["interpolation"], escaped),
                 figures.plane(views["plane"], runs, escaped, 0, 3)):
        assert any(t.get("name", "").startswith("&lt;b&gt;") for t in spec["data"])
        assert not any("&lt;b&gt;" in t.get("hovertemplate", "") for t in spec["data"])
