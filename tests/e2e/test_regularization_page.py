"""The Regularization page in a real browser: move the strength, switch the penalty, scrub λ with no server
request, rerun only the decay race, see the mini-map's controls clear of its axis title and its start,
download each file and read it back."""
import re

import numpy as np
import pytest

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app
from tests.e2e.live import (
    boxes, chart_frame, count_renders, download_csv, frame_offset, overlap, pixel, play_controls, received,
    renders,
    scrub, scrub_value, sent_messages, trace,
)

MINIMIZER = "minimizer at this λ"
MINI_MAP = "AdamW's limit as lr → 0"  # only the decay race's mini-map has it
FIVE = "() => window.__lvPlots().length === 5"


@pytest.fixture
def regularization(app_url, page):
    page.add_init_script(INIT_SCRIPT)  # also counts messages
    sent = sent_messages(page)
    page.goto(f"{app_url}/Regularization")
    page.wait_for_function(FIVE, timeout=90_000)
    wait_for_app(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page, sent


def _minimizer(page):
    t = trace(chart_frame(page, MINIMIZER), MINIMIZER)
    return t["x"][0], t["y"][0]


def _wait_minimizer(page, predicate_js):
    frame = chart_frame(page, MINIMIZER)
    frame.wait_for_function(
        "(name) => { const gd = document.querySelector('.js-plotly-plot');"
        " const t = gd && gd._fullData.find(t => (t.name || '').includes(name));"
        f" if (!t) return false; const [x, y] = [t.x[0], t.y[0]]; return {predicate_js}; }}",
        arg=MINIMIZER, timeout=30_000)


def test_strength_and_penalty_move_the_minimizer(regularization):
    page, _ = regularization
    save_screenshot(page, "regularization")
    x, y = _minimizer(page)
    assert x > 0 and y == 0  # the lasso's exact zero, as drawn

    thumb = page.locator('input[type="range"][aria-label="strength λ"]')
    thumb.focus()
    page.keyboard.press("End")
    _wait_minimizer(page, "x === 0 && y === 0")
    wait_for_app(page)

    page.get_by_text("L2 (ridge)", exact=True).first.click()
    _wait_minimizer(page, "x !== 0 && y !== 0")
    wait_for_app(page)
    x, y = _minimizer(page)
    assert 0 < x < 0.3 and 0 < y < 0.2
    save_screenshot(page, "regularization_ridge_large")


def test_the_strength_scrubber_moves_the_touch_in_the_browser_only(regularization):
    page, sent = regularization
    frame = chart_frame(page, MINIMIZER)
    assert frame.evaluate("() => document.querySelector('#scrub label').textContent") == "strength λ"
    assert scrub_value(frame).startswith("λ = 0.8 (sidebar): w = (0.1865, 0.0000)")
    before = len(sent)
    scrub(frame, 0)  # λ = 0: least squares, nothing touches
    assert scrub_value(frame).startswith("λ = 0:")
    star = trace(frame, "least squares")
    assert tuple(np.round(_minimizer(page), 12)) == tuple(np.round((star["x"][0], star["y"][0]), 12))
    scrub(frame, frame.evaluate("() => Number(document.getElementById('scrub-input').max)"))  # λ = 5
    assert scrub_value(frame).startswith("λ = 5: w = (0.0000, 0.0000)") and _minimizer(page) == (0, 0)
    page.wait_for_timeout(300)
    assert len(sent) == before  # every position was in the figure already: nothing asked of the server


def test_the_decay_race_reruns_alone(regularization):
    page, _ = regularization
    geometry, decay = chart_frame(page, MINIMIZER), chart_frame(page, MINI_MAP)
    count_renders(geometry)
    count_renders(decay)
    length = len(trace(decay, "SGD, weight_decay")["x"])
    thumb = page.locator('input[type="range"][aria-label="steps"]')
    thumb.focus()
    page.keyboard.press("Home")  # 10 steps
    decay.wait_for_function("(n) => { const gd = document.querySelector('.js-plotly-plot'); return"
                            " gd._fullData.find(t => t.name === 'SGD, weight_decay').x.length !== n; }",
                            arg=length, timeout=30_000)
    wait_for_app(page)
    assert len(trace(decay, "SGD, weight_decay")["x"]) == 11
    assert renders(decay) >= 1 and renders(geometry) == 0  # a fragment: the maps above were not resent
    assert "steps=10" in page.url


def test_the_strength_reruns_its_part_alone(regularization):
    """λ moves the touch, the regularized loss and the path's marker, not the weight-decay race below: a
    press reruns the penalty's part of the page (a fragment), a fraction of the messages of a full rerun."""
    page, _ = regularization

    def pick_scenario():  # a full rerun that changes no figure: the box leaves the default scenario for "—"
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option").nth(0).click()

    full = received(page, pick_scenario)

    def press():
        x = _minimizer(page)[0]
        thumb = page.locator('input[type="range"][aria-label="strength λ"]')
        thumb.focus()
        page.keyboard.press("ArrowRight")
        _wait_minimizer(page, f"x !== {x!r}")
        return x

    # The first move leaves the default scenario: the penalty's part redraws the lesson above, in its place,
    # as a note that says so (no whole-page rerun).
    first = received(page, press)
    assert first < full / 2, (first, full)
    assert page.get_by_text(re.compile("loaded, then changed")).count() == 1
    x = _minimizer(page)[0]
    fragment = received(page, press)  # λ 0.81 -> 0.82
    assert fragment < full / 2, (fragment, full)
    assert _minimizer(page)[0] < x  # a stronger L1 penalty pulls the weight further in
    assert "strength=0.82" in page.url


@pytest.mark.parametrize("width, height", [(1600, 1000), (1366, 768)])
def test_the_mini_maps_play_controls_clear_its_axis_title_and_its_start_shows(regularization, width, height):
    """Issue 13: Play/Pause overlapped the x-axis title of the mini-map; the "start" legend entry named a
    marker the paths' moving heads covered."""
    page, _ = regularization
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(1500)
    frame = chart_frame(page, MINI_MAP)
    (title,) = boxes(frame, ".g-xtitle text")
    controls = play_controls(frame)
    assert len(controls) >= 3
    for box in controls:
        assert not overlap(box, title) and box["top"] >= title["bottom"], (box, title)
    (slider,) = boxes(frame, ".slider-container")
    assert not any(overlap(button, slider) for button in boxes(frame, ".updatemenu-button"))
    legend = frame.evaluate("() => [...document.querySelectorAll('.legend .traces')]"
                            ".filter(t => t.textContent.trim() === 'start')"
                            ".map(t => t.querySelector('.legendpoints path').getBoundingClientRect().width)")
    assert legend and legend[0] > 5  # the legend entry draws its marker
    start = frame.evaluate("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " const l = gd._fullLayout, t = gd._fullData.find(t => t.name === 'start');"
                           " return [l.xaxis._offset + l.xaxis.l2p(t.x[0]),"
                           " l.yaxis._offset + l.yaxis.l2p(t.y[0])]; }")
    offset = frame_offset(page, frame)
    page.mouse.move(0, 0)
    ring = [pixel(page, offset["x"] + start[0] + dx, offset["y"] + start[1] + dy)
            for dx, dy in ((11, 0), (-11, 0), (0, 11), (0, -11))]
    assert any(max(abs(c - 17) for c in rgb) < 40 for rgb in ring), ring  # the dark ring around the heads


def test_every_download_holds_the_pages_numbers(regularization):
    page, _ = regularization
    table, name = download_csv(page, "Regularization paths (CSV)")
    assert name == "lossviz_regularization_paths.csv"
    assert {"penalty", "strength", "w_bmi", "w_bp", "data_loss"} <= set(table.columns)
    assert set(table["penalty"]) == {"l1", "l2", "elastic_net"}
    paths = chart_frame(page, "weight of bmi")
    drawn = trace(paths, "weight of bmi")  # the L1 panel comes first
    lasso = table[(table["penalty"] == "l1") & (table["strength"] > 0)]
    np.testing.assert_allclose(lasso["strength"], drawn["x"], rtol=1e-15)
    np.testing.assert_allclose(lasso["w_bmi"], drawn["y"], rtol=1e-15, atol=0)

    runs, name = download_csv(page, "SGD / Adam / AdamW runs (CSV)")
    assert name == "lossviz_weight_decay_runs.csv"
    decay = chart_frame(page, MINI_MAP)
    for label in ("SGD, weight_decay", "Adam + L2 (weight_decay)", "AdamW (decoupled)"):
        rows = runs[runs["optimizer"] == label]
        drawn = trace(decay, label)
        np.testing.assert_allclose(rows["w_bmi"], drawn["x"], rtol=1e-15)
        np.testing.assert_allclose(rows["w_bp"], drawn["y"], rtol=1e-15)
