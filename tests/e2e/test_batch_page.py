"""The Batch size page in a real browser: change the learning rate, scrub the batch size with no server
request, move the gradient cloud (only its section reruns), see the map's controls clear of its axis
title, download each file and read it back."""
import numpy as np
import pytest

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app
from tests.e2e.live import (
    animate_to, boxes, chart_frame, count_renders, download_csv, heads, keyed_frame, overlap, play_controls,
    point, received, renders, scrub, scrub_value, sent_messages, trace,
)

FIVE = "() => window.__lvPlots().length === 5"
GD = "full batch (GD)"
MAP = "B on the slider"  # only the paths map has it (the loss curves also hold GD)


@pytest.fixture
def batch(app_url, page):
    page.add_init_script(INIT_SCRIPT)  # also counts the messages received
    sent = sent_messages(page)
    page.goto(f"{app_url}/Batch_Size")
    # The first visit runs SGD at every batch size and measures the noise balls.
    page.wait_for_function(FIVE, timeout=120_000)
    wait_for_app(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page, sent


def test_learning_rate_and_cloud_point_change_the_figures(batch):
    page, _ = batch
    save_screenshot(page, "batch_size")
    paths = chart_frame(page, MAP)
    before = trace(paths, "B = 1")
    assert len(before["x"]) == 201
    assert {"B = 8", "B = 64"} <= set(paths.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullData.map(t => t.name)"))

    box = page.get_by_role("spinbutton", name="learning rate")
    box.fill("0.02")
    box.press("Enter")
    paths.wait_for_function("(old) => { const gd = document.querySelector('.js-plotly-plot');"
                            " const t = gd._fullData.find(t => t.name === 'B = 1');"
                            " return t && t.x[t.x.length - 1] !== old; }", arg=before["x"][-1],
                            timeout=60_000)
    wait_for_app(page, timeout=60_000)

    # The cloud at the minimum, a fragment: the gradient there is (numerically) zero, and only the cloud's
    # section reruns.
    cloud = chart_frame(page, "full-batch gradient")
    assert abs(trace(cloud, "full-batch gradient")["x"][0]) > 0.1
    count_renders(paths)
    page.get_by_text("minimum", exact=True).first.click()
    cloud.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                            " const t = gd._fullData.find(t => t.name === 'full-batch gradient');"
                            " return Math.abs(t.x[0]) < 1e-9 && Math.abs(t.y[0]) < 1e-9; }", timeout=60_000)
    wait_for_app(page, timeout=60_000)
    assert renders(paths) == 0 and "cloud_at=minimum" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "batch_size_small_lr_cloud_at_minimum")


def test_the_steps_rerun_the_paths_alone(batch):
    """Steps change the paths (their map, losses, file and code), not the gradient cloud or the noise
    balls: a press reruns the paths' part of the page, a fraction of the messages of a full rerun."""
    page, _ = batch

    def pick_scenario():  # a full rerun that changes no figure: the box leaves the default scenario for "—"
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option").nth(0).click()

    full = received(page, pick_scenario)
    paths = keyed_frame(page, "paths")

    def press():
        length = len(trace(paths, "B = 1")["x"])
        thumb = page.locator('input[type="range"][aria-label="steps"]')
        thumb.focus()
        page.keyboard.press("ArrowRight")
        paths.wait_for_function("(n) => { const gd = document.querySelector('.js-plotly-plot');"
                                " return gd._fullData.find(t => t.name === 'B = 1').x.length !== n; }",
                                arg=length, timeout=30_000)

    # The first move leaves the default scenario: the paths' part redraws the lesson above, in its place,
    # as a note that says so (no whole-page rerun).
    first = received(page, press)
    assert first < full / 2, (first, full)
    assert page.get_by_text("loaded, then changed").count() == 1
    fragment = received(page, press)
    assert fragment < full / 2, (fragment, full)
    assert len(trace(paths, "B = 1")["x"]) == 203 and "steps=202" in page.url


def test_the_batch_size_scrubber_replays_every_size_in_the_browser_only(batch):
    page, sent = batch
    frame = chart_frame(page, MAP)
    assert frame.evaluate("() => document.querySelector('#scrub label').textContent") == "batch size"
    assert scrub_value(frame) == "your batch sizes (1, 8, 64)"
    chosen = trace(frame, "B = 64")
    before = len(sent)
    scrub(frame, 7)  # B = 64: the same path as the chosen B = 64, alone beside gradient descent
    assert scrub_value(frame).startswith("B = 64: loss − min")
    shown = trace(frame, "B on the slider")
    np.testing.assert_array_equal(shown["x"], chosen["x"])
    assert trace(frame, "B = 64")["visible"] is False and trace(frame, GD)["visible"] is True
    # Play's heads: the chosen sizes' hide with their paths; the slider's path has its own, on its point.
    step = animate_to(frame, 20)
    drawn = heads(frame)
    assert [h["shown"] for h in drawn] == [False, False, False, True, True]
    assert (drawn[3]["x"], drawn[3]["y"]) == point(frame, GD, step)
    assert (drawn[4]["x"], drawn[4]["y"]) == point(frame, "B on the slider", step)
    scrub(frame, 8)
    assert scrub_value(frame).startswith("B = 128:") and len(trace(frame, "B on the slider")["x"]) == 201
    scrub(frame, 0)
    assert trace(frame, "B = 1")["visible"] is True and trace(frame, "B on the slider")["x"] == []
    drawn = heads(frame)
    assert [h["shown"] for h in drawn] == [True, True, True, True, False]
    assert (drawn[2]["x"], drawn[2]["y"]) == point(frame, "B = 64", step)
    page.wait_for_timeout(300)
    assert len(sent) == before  # every position was in the figure already


@pytest.mark.parametrize("width, height", [(1600, 1000), (1366, 768)])
def test_the_maps_play_controls_clear_its_axis_title(batch, width, height):
    page, _ = batch
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(1500)
    frame = chart_frame(page, MAP)
    (title,) = boxes(frame, ".g-xtitle text")
    controls = play_controls(frame)
    assert len(controls) >= 3
    for box in controls:
        assert not overlap(box, title) and box["top"] >= title["bottom"], (box, title)
    (slider,) = boxes(frame, ".slider-container")
    assert not any(overlap(button, slider) for button in boxes(frame, ".updatemenu-button"))


def test_every_download_holds_the_pages_numbers(batch):
    page, _ = batch
    paths, name = download_csv(page, "Paths (CSV)")
    assert name == "lossviz_batch_paths.csv"
    assert sorted(set(paths["batch_size"].astype(str))) == ["1", "64", "8", "full"]
    frame = chart_frame(page, MAP)
    for size, label in (("1", "B = 1"), ("full", GD)):
        rows = paths[paths["batch_size"].astype(str) == size]
        drawn = trace(frame, label)
        np.testing.assert_array_equal(rows["slope"], drawn["x"])
        np.testing.assert_array_equal(rows["intercept"], drawn["y"])

    clouds, name = download_csv(page, "Gradient clouds (CSV)")
    assert name == "lossviz_gradient_clouds.csv" and len(clouds) == 3 * 300
    drawn = trace(chart_frame(page, "full-batch gradient"), "B = 8: mini-batch gradients")
    rows = clouds[clouds["batch_size"] == 8]
    np.testing.assert_array_equal(rows["grad_slope"], drawn["x"])
    np.testing.assert_array_equal(rows["grad_intercept"], drawn["y"])

    balls, name = download_csv(page, "Noise balls (CSV)")
    assert name == "lossviz_noise_balls.csv" and len(balls) == 12  # three batch sizes x four learning rates
    drawn = trace(chart_frame(page, "B = 8: measured"), "B = 8: measured")
    rows = balls[(balls["batch_size"] == 8) & ~balls["diverged"]]
    np.testing.assert_array_equal(rows["lr_over_batch"], drawn["x"])
    np.testing.assert_array_equal(rows["excess_loss"], drawn["y"])
