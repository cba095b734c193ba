"""The figure builders of lossviz.viz.landscape write plain dicts without plotly's checks: here every
variant goes through those checks, so a misspelt property fails a test instead of vanishing silently."""
from __future__ import annotations

import itertools
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from lossviz.viz import landscape as lv
from tests.pagetest import decode

XS, YS = np.linspace(-2.0, 2.0, 7), np.linspace(-1.0, 1.0, 5)
Z = np.add.outer(YS**2, 10 * XS**2)  # (len(ys), len(xs)), spans two decades


def _path(label: str, color: str, diverged: int = -1) -> lv.Path:
    xy = np.column_stack([np.linspace(-2, 0, 11), np.linspace(1, 0, 11)])
    if diverged >= 0:
        xy[diverged + 1:] = np.nan
    return lv.Path(label, color, xy, np.linspace(5, 0, 11), diverged_at=diverged, note="lr x lambda_max > 2")


def _validated(fig: go.Figure) -> dict:
    spec = fig.to_dict()
    go.Figure({k: v for k, v in spec.items() if k != "frames"})  # raises ValueError on an unknown property
    for frame in spec.get("frames", []):
        go.Frame(frame)
    return spec


@pytest.mark.parametrize("log_scale, animate, click_grid, diverged, arrows",
                         list(itertools.product([False, True], [False, True], [0, 5], [-1, 4],
                                                [False, True])))
def test_every_contour_variant_is_a_valid_figure(log_scale, animate, click_grid, diverged, arrows):
    paths = [_path("1. SGD", lv.PALETTE[0]), _path("2. Adam", lv.PALETTE[1], diverged)]
    shown = [lv.Arrow((0.0, 0.0), (0.5, 0.5), "#444", label="g")] if arrows else []
    spec = _validated(lv.contour_figure(XS, YS, Z, paths=paths, minima=np.zeros((1, 2)), log_scale=log_scale,
                                        min_value=0.0, start=(-2.0, 1.0), arrows=shown, animate=animate,
                                        click_grid=click_grid))
    names = [t.get("name") for t in spec["data"]]
    assert names[0] == "loss" and "1. SGD" in names and "start" in names
    assert ("click to start here" in names) == bool(click_grid)
    assert len(spec["layout"].get("annotations", [])) == len(shown)
    assert len(spec["layout"]["shapes"]) == 2  # one moving head per path
    assert bool(spec.get("frames")) == animate
    diverged_marks = [t for t in spec["data"] if t.get("mode") == "markers+text"]
    assert len(diverged_marks) == (diverged >= 0)


@pytest.mark.parametrize("log_scale", [False, True])
def test_every_surface_variant_is_a_valid_figure(log_scale):
    spec = _validated(lv.surface_figure(XS, YS, Z, paths=[_path("1. SGD", lv.PALETTE[0])],
                                        minima=np.zeros((1, 2)), min_value=0.0, log_scale=log_scale,
                                        view_key="quadratic(10)"))
    assert [t["type"] for t in spec["data"]] == ["surface", "scatter3d", "scatter3d"]
    assert spec["layout"]["uirevision"] == "quadratic(10)"


def test_a_path_that_leaves_the_view_is_cut_at_the_edge_and_marked_in_both_views():
    """A diverging path neither rescales the 3-D box nor runs off the map unmarked."""
    xy = np.array([[0.0, 0.0], [0.5, 0.2], [4.0, 1.0], [-50.0, 80.0], [1e4, -1e4]])
    path = lv.Path("1. SGD", lv.PALETTE[0], xy, np.array([0.0, 0.3, 17.0, 9e3, 2e8]))
    exit_ = lv.view_exit(xy, ((float(XS[0]), float(XS[-1])), (float(YS[0]), float(YS[-1]))))
    assert exit_.step == 2 and exit_.x == pytest.approx(float(XS[-1]))
    contour = _validated(lv.contour_figure(XS, YS, Z, paths=[path], animate=False))
    marks = [t for t in contour["data"] if "left the view at step 2" in str(t.get("text"))]
    assert len(marks) == 1 and marks[0]["x"][0] == pytest.approx(exit_.x)
    # In its path's colour, on its path's lines (Momentum's clicked cell): a white halo keeps it legible.
    assert marks[0]["textfont"]["color"] == lv.PALETTE[0] and "white" in marks[0]["textfont"]["shadow"]
    surface = _validated(lv.surface_figure(XS, YS, Z, paths=[path]))
    scene = surface["layout"]["scene"]
    assert scene["xaxis"]["range"] == [float(XS[0]), float(XS[-1])]
    z_low, z_high = scene["zaxis"]["range"]
    assert z_high < 2 * np.nanmax(Z) and z_low <= np.nanmin(Z)
    line = next(t for t in surface["data"] if t.get("mode") == "lines")
    z = decode(line["z"])
    assert np.isfinite(z).tolist() == [True, True, False, False, False]
    # Lifted above the surface it lies on, so the default camera shows it.
    assert np.all(z[:2] > np.array([0.0, 0.3]))
    assert any("left the view at step 2" in str(t.get("text")) for t in surface["data"])


@pytest.mark.parametrize("log_y", [False, True])
def test_every_curves_variant_is_a_valid_figure(log_y):
    spec = _validated(lv.curves_figure([("a", "#000", np.array([1.0, 0.0, -1.0]))], ylabel="loss",
                                       log_y=log_y, hlines=[(0.5, "best")]))
    y = decode(spec["data"][0]["y"])
    # On a log axis, values <= 0 are gaps, not clipped numbers.
    assert np.isnan(y[1:]).all() if log_y else np.array_equal(y, [1.0, 0.0, -1.0])
    assert spec["layout"]["shapes"][0]["y0"] == 0.5 and spec["layout"]["annotations"][0]["text"] == "best"


def test_a_misspelt_property_would_be_caught():
    """The check itself can fail: plotly refuses what the builders must never write."""
    with pytest.raises(ValueError):
        go.Figure({"data": [{"type": "contour", "colorscal": "Viridis"}]})


@pytest.mark.parametrize("height", [320, 420, 560, 900])
def test_play_controls_sit_below_the_axis_title_at_any_height(height):
    spec = lv.play_below_axis_title(lv.contour_spec(XS, YS, Z, paths=[_path("a", "#000")], start=(-2.0, 1.0),
                                                    height=height))
    _validated(lv.as_figure(spec))
    layout = spec["layout"]
    for control in [*layout["updatemenus"], *layout["sliders"]]:
        # Hung from the plot area's bottom edge by a padding in pixels, which no plot height changes.
        assert control["y"] == 0 and control["yanchor"] == "top" and control["pad"]["t"] >= 60
        assert layout["margin"]["b"] >= control["pad"]["t"] + 50
    (buttons,), (slider,) = layout["updatemenus"], layout["sliders"]
    assert slider["pad"]["t"] >= buttons["pad"]["t"] + 40  # a row of its own, under the buttons
    still = lv.play_below_axis_title(lv.contour_spec(XS, YS, Z, animate=False))
    assert still["layout"]["margin"]["b"] == 50 and "updatemenus" not in still["layout"]


def test_the_start_ring_is_wider_than_the_moving_heads_drawn_over_it():
    spec = lv.start_ring(lv.contour_spec(XS, YS, Z, paths=[_path("a", "#000")], start=(-2.0, 1.0)))
    _validated(lv.as_figure(spec))
    (start,) = [t for t in spec["data"] if t.get("name") == "start"]
    head = spec["layout"]["shapes"][0]
    assert start["marker"]["size"] > head["x1"] - head["x0"] + 4
    assert start["marker"]["symbol"] == "circle-open"


def test_equal_axes_keep_a_circle_round_and_make_room_for_their_titles():
    spec = lv.equal_axes(lv.contour_spec(XS, YS, Z), "weight of a", "weight of b")
    _validated(lv.as_figure(spec))
    x, y = spec["layout"]["xaxis"], spec["layout"]["yaxis"]
    assert (x["title"]["text"], y["title"]["text"]) == ("weight of a", "weight of b")
    assert y["scaleanchor"] == "x" and y["scaleratio"] == 1 and x["automargin"] and y["automargin"]
    assert x["range"] == [float(XS[0]), float(XS[-1])]  # the ranges stay the map's


@pytest.mark.parametrize("builder", ["small_multiples", "schedule_grid"])
def test_small_multiples_paint_each_map_as_an_image_under_its_own_axes(builder):
    """A scrubber step restyles the paths, which redraws the whole figure: a heatmap trace per panel was
    repainted pixel by pixel each time (two thirds of a step on the Learning rate page). Each panel's colours
    are a background image on its own axes, with no grid drawn over it; the grid stays as an undrawn trace."""
    from lossviz.viz import learning_rate as lrv

    paths = [_path("1. SGD", lv.PALETTE[0]), _path("2. Adam", lv.PALETTE[1], 4), _path("3. x", lv.PALETTE[2])]
    if builder == "small_multiples":
        spec = lv.small_multiples_spec(XS, YS, Z, paths, ["a", "b", "c"], minima=np.zeros((1, 2)),
                                       start=(-2.0, 1.0))
    else:
        spec = lrv.schedule_grid(np.ones((3, 10)), np.stack([p.xy[:11] for p in paths]), np.ones(3),
                                 ["a", "b", "c"], XS, YS, Z, minima=np.zeros((1, 2)))
    go.Figure(spec)  # plotly's checks
    assert not [t for t in spec["data"] if t["type"] == "heatmap"]
    grids = [t for t in spec["data"] if t["type"] == "contour"]
    images = spec["layout"]["images"]
    assert len(grids) == len(images) == 3 and all(t["visible"] is False for t in grids)
    for grid, image in zip(grids, images):
        assert (image["xref"], image["yref"]) == (grid["xaxis"], grid["yaxis"])
        assert image["source"] == lv.raster(lv.color_scale_values(Z, False, None).values, lines=False)
        assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (XS[0], YS[-1], 4.0, 2.0)
        for axis in (f"xaxis{grid['xaxis'][1:]}", f"yaxis{grid['yaxis'][1:]}"):
            assert spec["layout"][axis]["showgrid"] is False and spec["layout"][axis]["zeroline"] is False


def _reference_pixels(values: np.ndarray, levels: int, lines: bool) -> np.ndarray:
    """What a map's background image shows, written out as the documented formula: each pixel centre
    bilinear between the four grid points around it, through Viridis (linear between its ten stops), a
    quarter of the way to white where the ``levels`` bands change, transparent where the loss is NaN."""
    ny, nx = values.shape
    scale = lv.RASTER_SIDE / max(nx, ny)
    w, h = max(int(nx * scale), 2), max(int(ny * scale), 2)
    gx, gy = np.linspace(0, nx - 1, w), np.linspace(0, ny - 1, h)
    x0, y0 = np.clip(gx.astype(int), 0, nx - 2), np.clip(gy.astype(int), 0, ny - 2)
    fx, fy = (gx - x0)[None, :], (gy - y0)[:, None]
    v00, v01 = values[np.ix_(y0, x0)], values[np.ix_(y0, x0 + 1)]
    v10, v11 = values[np.ix_(y0 + 1, x0)], values[np.ix_(y0 + 1, x0 + 1)]
    with np.errstate(invalid="ignore"):
        field = (v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy
    finite = np.isfinite(field)
    low, high = (field[finite].min(), field[finite].max()) if finite.any() else (0.0, 1.0)
    unit = np.where(finite, (field - low) / (high - low if high > low else 1.0), 0.0)
    stops = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in lv.VIRIDIS], dtype=float)
    position = unit * (len(stops) - 1)
    index = np.clip(position.astype(int), 0, len(stops) - 2)
    frac = (position - index)[..., None]
    rgb = stops[index] * (1 - frac) + stops[index + 1] * frac
    if lines:
        band = np.floor(unit * levels)
        edge = np.zeros(band.shape, dtype=bool)
        edge[:, 1:] |= band[:, 1:] != band[:, :-1]
        edge[1:, :] |= band[1:, :] != band[:-1, :]
        rgb = np.where(edge[..., None], rgb * 0.75 + 255 * 0.25, rgb)
    alpha = np.where(finite, 255, 0)[..., None]
    return np.concatenate([np.round(rgb), alpha], axis=-1).astype(np.uint8)[::-1]  # row 0 at the top


_GX, _GY = np.meshgrid(np.linspace(-3, 3, 81), np.linspace(-2, 2, 81))


@pytest.mark.parametrize(("values", "levels", "lines"), [
    (np.sin(_GX) + _GY**2, 30, True),  # a smooth map, the pages' 81 x 81
    (np.random.default_rng(1).normal(size=(81, 81)), 30, True),  # rough: an iso-line at most pixels
    (np.where(_GX**2 + _GY**2 < 2, np.nan, np.log1p(_GX**2 + 3 * _GY**2)), 30, True),  # a gap
    (np.random.default_rng(2).normal(size=(51, 121)).cumsum(axis=1), 12, False),  # wide, no lines
    (Z, 30, True),  # a small grid stretched to the image
    (np.full((9, 9), 4.0), 30, True),  # flat: one colour
    (np.full((5, 5), np.nan), 30, True),  # nothing finite: all transparent
])
def test_a_maps_background_image_shows_every_pixel_as_the_formula_says(values, levels, lines):
    """The background image painted under a map, decoded as the browser decodes it, equals the colour
    formula pixel for pixel: the fast resampling and colouring change no pixel of any map."""
    import base64
    import io

    from PIL import Image

    uri = lv.raster(values, levels, lines)
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.removeprefix("data:image/png;base64,"))))
    assert image.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(image), _reference_pixels(values, levels, lines))


def test_projector_type_moves_the_panels_apart_by_what_their_titles_grew():
    """Projector mode sets the panel titles in 18 px type; the gaps above the panels were sized for 13 px.
    Each gap (the top row's in the top margin) grows by what its two-line titles grew, in a figure of the
    same height (the main figure must stay on the first screen): the panels give up the room, in one
    proportion, and no title is cut at the top or drawn over the panel above."""
    from lossviz.ui.page import projector

    paths = [_path(f"{k}. p", lv.PALETTE[k]) for k in range(4)]
    spec = lv.small_multiples_spec(XS, YS, Z, paths, ["a<br>b"] * 4, columns=2)
    before, after = spec["layout"], projector(spec)["layout"]
    grown = math.ceil(1.3 * (18 - 13) * 2)  # two lines, 1.3 em apart
    assert after["margin"]["t"] == before["margin"]["t"] + grown
    assert after["height"] == before["height"]

    def rows(layout: dict) -> list[tuple[float, float]]:
        """Each row's (top, bottom) in pixels from the figure's top."""
        plot = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
        return [(layout["margin"]["t"] + (1 - layout[a]["domain"][1]) * plot,
                 layout["margin"]["t"] + (1 - layout[a]["domain"][0]) * plot) for a in ("yaxis", "yaxis3")]

    (top0, bottom0), (top1, bottom1) = rows(before)
    (new_top0, new_bottom0), (new_top1, new_bottom1) = rows(after)
    plot = before["height"] - before["margin"]["t"] - before["margin"]["b"]
    scale = (plot - 2 * grown) / plot  # what the panels and the old gap give up
    assert new_top0 - top0 == pytest.approx(grown)  # the top row starts lower by its titles' growth
    assert new_bottom0 - new_top0 == pytest.approx((bottom0 - top0) * scale)
    assert new_bottom1 - new_top1 == pytest.approx((bottom1 - top1) * scale)
    assert new_top1 - new_bottom0 == pytest.approx((top1 - bottom0) * scale + grown)
    assert new_bottom1 == pytest.approx(bottom1)  # the bottom stays where it was
    for title in after["annotations"]:  # each title still stands on its panel's top edge
        assert any(abs(title["y"] - after[a]["domain"][1]) < 1e-9 for a in ("yaxis", "yaxis3")), title
        assert title["font"]["size"] == 18


def test_projector_type_lifts_a_legend_off_the_x_title_and_fits_long_y_titles_to_their_panels():
    """The Neural net page's plane and its two stacked panels in projector type: a legend under the plot
    met the grown x title, and a y title longer than its panel ran into the other's. The legend goes above
    the plot (only where an x title is under it); a y title is broken into lines that fit its panel
    (24 px type, an average character 0.55 em), and a figure that may grow (not the main one) grows until
    two lines do. Titles that fit stay as they were."""
    from lossviz.ui.page import projector

    spec = {"data": [], "layout": {
        "height": 500, "margin": {"t": 30, "b": 50},
        "legend": {"orientation": "h", "y": -0.15, "yanchor": "top"},
        "xaxis2": {"title": {"text": "step"}, "anchor": "y2"},
        "yaxis": {"title": {"text": "loss (log scale)"}, "domain": [0.44, 1.0]},
        "yaxis2": {"title": {"text": "off the plane (% of path size)"}, "domain": [0.0, 0.36]}}}
    fixed, grown = projector(spec)["layout"], projector(spec, grow=True)["layout"]
    for layout in (fixed, grown):
        assert (layout["legend"]["y"], layout["legend"]["yanchor"]) == (1.02, "bottom")
    assert fixed["height"] == 500  # the main figure keeps its height
    # At 500 px the upper panel's title fits on two lines; the lower one's on none of up to three (121 px
    # of room, the legend's rows taken off the plot): left whole rather than cut into four.
    assert fixed["yaxis"]["title"]["text"] == "loss<br>(log scale)"
    assert fixed["yaxis2"]["title"]["text"] == "off the plane (% of path size)"
    assert grown["yaxis2"]["title"]["text"] == "off the plane<br>(% of path size)"
    plot = grown["height"] - 80
    assert 0.8 * 0.36 * plot >= len("(% of path size)") * 0.55 * 24 > 0.8 * 0.36 * (plot - 2)
    assert grown["yaxis"]["title"]["text"] == "loss (log scale)"  # it fits its taller panel on one line
    # A legend under a plot with no x title (the small multiples') stays where it was.
    bare = {"data": [], "layout": {"legend": {"y": -0.1, "yanchor": "top"}, "xaxis": {}}}
    assert projector(bare)["layout"]["legend"]["y"] == -0.1


def test_normal_type_breaks_a_y_title_longer_than_its_panel_and_leaves_the_others():
    """Outside projector mode too, a y title longer than its panel is tall stood out of the figure, cut at
    both ends (the Explorer's distance chart on a typed formula). It is broken into lines that fit, read at
    plotly's axis title size (1.2 x the figure's type) or its own, and its axis makes room for them."""
    from lossviz.ui.page import fitted

    long = "distance to the nearest lowest minimum found in the view"
    spec = {"data": [], "layout": {"height": 330, "margin": {"t": 40, "b": 50},
                                   "yaxis": {"title": {"text": long}},
                                   "yaxis2": {"title": {"text": "loss"}, "domain": [0.0, 0.5]}}}
    layout = fitted(spec)["layout"]
    lines = layout["yaxis"]["title"]["text"].split("<br>")
    assert len(lines) in (2, 3) and " ".join(lines) == long and layout["yaxis"]["automargin"] is True
    assert max(map(len, lines)) * 0.55 * 14 <= 0.9 * (330 - 90)  # each line fits the panel at 14 px
    assert layout["yaxis2"] == spec["layout"]["yaxis2"]  # a short title stays as it was
    assert spec["layout"]["yaxis"]["title"]["text"] == long  # the spec given is not touched
    roomy = {**spec, "layout": {**spec["layout"], "height": 900}}
    assert fitted(roomy) is roomy  # nothing too long: the same spec back
    # Its own size counts: at 30 px even a tall panel needs lines.
    big = {**roomy, "layout": {**roomy["layout"], "yaxis": {"title": {"text": long, "font": {"size": 30}}}}}
    assert "<br>" in fitted(big)["layout"]["yaxis"]["title"]["text"]
    # The Explorer's distance chart as its builder makes it (curves_spec's own height and margins).
    chart = lv.curves_spec([("a", "#000", np.array([3.0, 2.0]))], ylabel=long)
    assert "<br>" in fitted(chart)["layout"]["yaxis"]["title"]["text"]


def test_an_exit_label_reads_inside_the_view_and_two_on_one_spot_keep_one_label():
    """A walk's screenshots: "left the view at step 1" at the map's left edge read "e view at step 1"
    (plotly clips text at the plot's edge), and two runs leaving at one corner wrote two labels over each
    other. A label now points into the view; a second one close by is a marker with its hover text."""
    (x_lo, x_hi), (y_lo, y_hi) = (float(XS[0]), float(XS[-1])), (float(YS[0]), float(YS[-1]))

    def leaving(label, end):
        xy = np.array([[0.0, 0.0], [0.1, 0.1], end])
        return lv.Path(label, lv.PALETTE[0], xy, np.zeros(3))

    ends = {"left": [x_lo - 5, 0.0], "top": [0.2, y_hi + 5], "corner": [x_hi + 5, y_lo - 2.5],
            "corner too": [x_hi + 6, y_lo - 3]}
    spec = _validated(lv.contour_figure(XS, YS, Z, paths=[leaving(k, v) for k, v in ends.items()],
                                        animate=False))
    marks = {t["legendgroup"]: t for t in spec["data"] if "left the view" in str(t.get("hovertext"))}
    assert marks["left"]["textposition"].endswith("right")  # away from the left edge
    assert marks["top"]["textposition"].startswith("bottom")  # below the top edge
    assert marks["corner"]["textposition"] == "top left"
    assert marks["corner"]["mode"] == "markers+text" and marks["corner too"]["mode"] == "markers"
    assert marks["corner too"]["hovertext"] == ["corner too: left the view at step 2"]


def test_a_path_that_leaves_the_view_and_comes_back_says_when_it_came_back():
    """Momentum's clicked cell read "left the view at step 1" for a run its caption said reaches the
    tolerance at step 45: it came back. The mark says from which step it stays in the view."""
    box = ((float(XS[0]), float(XS[-1])), (float(YS[0]), float(YS[-1])))
    far = float(XS[-1]) + 5.0
    xy = np.array([[0.0, 0.0], [far, 0.0], [-far, 0.0], [0.5, 0.1], [0.2, 0.0], [0.1, 0.0]])
    exit_ = lv.view_exit(xy, box)
    assert (exit_.step, exit_.back) == (1, 3)
    path = lv.Path("1. SGD", lv.PALETTE[0], xy, np.arange(6.0)[::-1])
    contour = _validated(lv.contour_figure(XS, YS, Z, paths=[path], animate=False))
    (mark,) = [t for t in contour["data"] if "left the view" in str(t.get("text"))]
    assert mark["text"] == ["left the view at step 1, back from step 3"]
    assert mark["hovertext"] == ["1. SGD: left the view at step 1, back from step 3"]
    gone = lv.view_exit(np.array([[0.0, 0.0], [0.5, 0.0], [far, 0.0]]), box)
    assert (gone.back, gone.words) == (-1, "left the view at step 2")
