"""Images and animations drawn by plotly.js in Debian's chromium: sizes, frame counts, and what they show.

Each test that draws opens one browser (a few seconds); the figures are small and the frames few.
"""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import imageio.v3 as iio
import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import lossviz as lv
from lossviz.viz.plot import _render
from lossviz.viz.landscape import PALETTE


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])


def _pixels_of(frame: np.ndarray, color: str, tolerance: int = 12) -> int:
    return int(np.sum(np.all(np.abs(frame.astype(int) - _rgb(color)) <= tolerance, axis=-1)))


@pytest.fixture(scope="module")
def race() -> lv.Race:
    himmelblau = lv.surface("himmelblau")
    return lv.race(himmelblau, {"GD": lv.optimizer("sgd", lr=0.01), "Adam": lv.optimizer("adam", lr=0.2)},
                   [0.0, -4.0], 30)


def test_a_race_animation_has_the_promised_frames_size_and_timing(race, tmp_path):
    fig = lv.plot.animation(race.surface, race, frames=12, resolution=41)
    files = lv.plot.render_animation(fig, ("gif", "mp4"), width=960, height=540, fps=10, hold=1.0)
    gif = iio.imread(files["gif"], index=None)
    assert gif.shape == (12, 540, 960, 3)
    with Image.open(io.BytesIO(files["gif"])) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
        assert image.info.get("loop") == 0
    assert durations == [100] * 11 + [1100]
    # The paths grow: the first frame shows the racers' dots at the start (and the legend), the last their
    # whole paths, in their own colours.
    for color in PALETTE[:2]:
        assert _pixels_of(gif[-1], color) > _pixels_of(gif[0], color) + 400
    (tmp_path / "race.mp4").write_bytes(files["mp4"])
    mp4 = iio.imread(tmp_path / "race.mp4", plugin="FFMPEG", index=None)
    assert mp4.shape == (12 + 10, 540, 960, 3)  # the last frame held one second at 10 frames a second
    assert np.abs(mp4[11].astype(int) - gif[-1].astype(int)).mean() < 8  # H.264 keeps the picture


def test_a_composited_frame_is_the_figure_drawn_whole(race):
    fig = lv.plot.animation(race.surface, race, frames=5, resolution=41)
    frames = lv.plot.render_frames(fig, width=480, height=270)
    assert len(frames) == 5
    middle = fig.frames[2]
    whole = go.Figure(fig)
    for index, update in zip(middle.traces, middle.data):
        whole.data[index].update(x=update.x, y=update.y)
    whole.update_layout(shapes=middle.layout.shapes, annotations=middle.layout.annotations)
    png = lv.plot.to_image(whole, "png", width=480, height=270)
    drawn = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    difference = np.abs(drawn - frames[2].astype(int)).max(axis=-1)
    assert difference.mean() < 1.0
    assert np.mean(difference > 24) < 0.003  # anti-aliased edges at most


def test_a_figure_with_other_play_frames_is_drawn_frame_by_frame():
    """Frames that change a heatmap cannot be composited over a still picture: each is drawn whole."""
    black_to_white = [[0.0, "#000000"], [1.0, "#ffffff"]]
    fig = go.Figure(go.Heatmap(z=np.zeros((4, 4)), zmin=0, zmax=1, showscale=False,
                               colorscale=black_to_white),
                    frames=[go.Frame(name=str(k), data=[go.Heatmap(z=np.eye(4) * k / 2)]) for k in range(3)])
    assert not _render._compositable(*_render._frame_figures(_render._plain(fig), None)[::2])
    frames = lv.plot.render_frames(fig, width=200, height=200)
    assert len(frames) == 3 and frames[0].shape == (200, 200, 3)
    assert np.abs(frames[0].astype(int) - frames[2].astype(int)).max() > 200  # black squares turned white
    explorer_like = lv.plot.contour(lv.surface("booth"), lv.run(lv.surface("booth"), lv.optimizer(
        "sgd", lr=0.05), [-8.0, 8.0], 9), resolution=21)
    assert _render._compositable(*_render._frame_figures(_render._plain(explorer_like), None)[::2])


def test_a_pages_own_play_figure_plays_as_its_browser_shows_it_with_a_step_counter():
    """What another page hands the kit: the contour map whose Play moves a dot along each full path."""
    booth = lv.surface("booth")
    run = lv.run(booth, lv.optimizer("sgd", lr=0.05), [-8.0, 8.0], 12)
    spec = lv.plot.contour(booth, {"GD": run}, resolution=21).to_dict()
    base, frames, updates = _render._frame_figures(_render._plain(spec), max_frames=4)
    assert [f["name"] for f in frames] == ["0", "4", "8", "12"]
    assert [layout["annotations"][-1]["text"] for _, layout in updates] == ["step 0", "step 4", "step 8",
                                                                             "step 12"]
    assert "sliders" not in base["layout"] and "updatemenus" not in base["layout"]
    pictures = lv.plot.render_frames(spec, width=320, height=180, max_frames=4)
    assert len(pictures) == 4
    moved = [np.abs(pictures[k].astype(int) - pictures[0].astype(int)).max(axis=-1) > 60 for k in (1, 3)]
    assert 0 < moved[0].sum() and 0 < moved[1].sum()


def test_images_are_projector_size_png_and_parsable_svg(tmp_path, race):
    fig = lv.plot.contour(race.surface, race, resolution=41)
    png = lv.plot.save_image(fig, tmp_path / "map.png")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (1920, 1080)
        pixels = np.asarray(image.convert("RGB"))
    assert _pixels_of(pixels, PALETTE[0]) > 500  # the GD path, drawn thick at projector size
    svg = lv.plot.save_image(fig, tmp_path / "map.svg")
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == ("1920", "1080")
    texts = {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")}
    assert {"GD", "Adam", "x", "y"} <= texts


def test_exports_refuse_what_they_cannot_write(tmp_path, race):
    fig = lv.plot.contour(race.surface, race, animate=False)
    with pytest.raises(ValueError, match="format"):
        lv.plot.save_image(fig, tmp_path / "map.bmp")
    with pytest.raises(ValueError, match=".gif or .mp4"):
        lv.plot.save_animation(fig, tmp_path / "race.avi")
    with pytest.raises(ValueError, match="no animation frames"):
        lv.plot.render_animation(fig)
    with pytest.raises(ValueError, match="formats"):
        lv.plot.render_animation(lv.plot.animation(race.surface, race), ("webm",))
    with pytest.raises(ValueError, match="width"):
        lv.plot.to_image(fig, "png", width=3, height=100)
    with pytest.raises(ValueError, match="fps"):
        lv.plot.render_animation(lv.plot.animation(race.surface, race), fps=0)


def test_without_a_browser_the_message_says_how_to_get_one(monkeypatch, race):
    monkeypatch.setenv("BROWSER_PATH", "/nowhere/chromium")
    with pytest.raises(RuntimeError, match="apt-get install chromium"):
        lv.plot.to_image(lv.plot.contour(race.surface, race, animate=False), "png")


def test_a_gif_keeps_every_colour_of_frames_with_few():
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(40, 3), dtype=np.uint8)
    frames = [colours[rng.integers(0, 40, size=(30, 50))] for _ in range(6)]
    decoded = iio.imread(_render.encode_gif(frames, fps=5, hold=0.0), index=None)
    assert decoded.shape == (6, 30, 50, 3)
    np.testing.assert_array_equal(decoded, np.stack(frames))


# --------------------------------------------------------------------------------------------- the kit
_KIT_PAGE = '''
import numpy as np
import plotly.graph_objects as go
import streamlit as st
from lossviz.ui import export

race = st.session_state.get("race", 0)
frames = [go.Frame(name=str(k), data=[go.Scatter(x=[0, k], y=[0, k + race])]) for k in range(4)]
figure = go.Figure(go.Scatter(x=[0], y=[0], mode="lines"), frames=frames,
                   layout={"xaxis": {"range": [0, 4]}, "yaxis": {"range": [0, 8]}})
export.animation_button(figure, "tiny", key=race, width=160, height=120)
export.image_buttons({"Map": figure, "Nothing": None, "Curves": lambda: figure}, "tiny")
'''


def test_the_kits_animation_switch_draws_both_files_and_a_new_race_turns_it_off():
    at = AppTest.from_string(_KIT_PAGE, default_timeout=120).run()
    assert not at.exception
    switch = at.toggle(key="animate::tiny")
    assert switch.label == "Animation for slides (GIF and MP4)" and switch.value is False
    assert at.session_state["_animation::tiny"] is None if "_animation::tiny" in at.session_state else True
    switch.set_value(True).run()
    assert not at.exception and not at.error
    key, files = at.session_state["_animation::tiny"]
    assert key == 0
    assert iio.imread(files["gif"], index=None).shape == (4, 120, 160, 3)
    assert files["mp4"][4:8] == b"ftyp"  # an MP4 file (its frames are read in the test above)
    labels = [b.label for b in at.get("download_button")]
    assert "Download animation (GIF)" in labels and "Download animation (MP4)" in labels
    at.session_state["race"] = 1
    at.run()
    assert at.toggle(key="animate::tiny").value is False
    assert at.session_state["_animation::tiny"] is None


def test_the_kits_image_buttons_offer_a_png_and_an_svg_of_each_figure():
    at = AppTest.from_string(_KIT_PAGE, default_timeout=60).run()
    assert at.get("expander")[0].label == "Images for slides (PNG 1920 × 1080, SVG)"
    # Closed, the expander holds nothing: its buttons are not sent on every rerun.
    assert [b.label for b in at.get("download_button") if b.label in ("PNG", "SVG")] == []
    at.session_state["slides::tiny"] = True  # the reader opens it: the page reruns and draws them
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["PNG", "SVG", "PNG", "SVG"]  # "Nothing" has no figure: no row
    assert at.get("expander")[0].label == "Images for slides (PNG 1920 × 1080, SVG)"
