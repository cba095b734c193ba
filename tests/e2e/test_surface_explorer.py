"""The Surface Explorer in a real browser: load, move a slider, click a start, play, download the CSV.

The Explorer's charts are live charts (lossviz.ui.live_plotly): each sits in a component frame and is
updated in place, so the tests reach them through ``window.__lvPlots`` and the frame they live in.
"""
import csv
import io
import re

from bench.browser import INIT_SCRIPT, PLOTS_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app
from tests.e2e.live import animate_to, heads, keyed_frame, point, received, scrub, scrub_value

CONTOUR = "() => window.__lvPlots().find(gd => gd._fullData[0].type === 'contour')"
# The race's part of the page (a fragment: the start, the steps, the race's charts, inspector and exports)
# against a whole-page rerun, which also rebuilds the sidebar's surface picker and optimizer slots: about
# 45 messages against 74 with one slot's advanced settings open.
PART_OF_FULL = 0.65
START_MOVED = "(old) => document.querySelector('input[aria-label=\"start x\"]').value !== old"


def _first_path_length(page) -> int:
    return page.evaluate(f"() => ({CONTOUR})()._fullData.find(t => (t.name || '').startsWith('1. '))"
                         ".x.length")


def _contour_frame(page):
    for frame in page.frames:
        if frame != page.main_frame and frame.evaluate(
                "() => { const gd = document.querySelector('.js-plotly-plot');"
                " return Boolean(gd && gd._fullData && gd._fullData[0].type === 'contour'); }"):
            return frame
    raise AssertionError("no live contour chart on the page")


def test_explorer_slider_click_play_and_csv(app_url, page):
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    page.wait_for_function("() => window.__lvPlots().length >= 4", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    types = page.evaluate("() => window.__lvPlots().map(gd => gd._fullData[0].type)")
    assert "contour" in types and "surface" in types
    assert page.evaluate("() => window.__lvPlots().find(gd => gd._fullData[0].type === 'surface')"
                         ".querySelector('canvas') !== null")  # the 3-D view drew
    save_screenshot(page, "surface_explorer")

    # Steps slider: keyboard on the focused thumb, then the trajectories get longer. The live chart is
    # updated in place: the same plot element takes the new figure (no new WebGL context per step).
    page.evaluate("() => { window.__lvPlots().forEach(gd => { gd.__marked = true; }); }")
    before = _first_path_length(page)
    thumb = page.locator('input[type="range"][aria-label="steps"]')
    thumb.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # Each key press is a rerun; wait for the last one to reach the figure.
    page.wait_for_function(
        f"(n) => {{ const gd = ({CONTOUR})();"
        " return gd && gd._fullData.some(t => (t.name || '').startsWith('1. ') && t.x.length === n); }",
        arg=before + 5, timeout=20_000,
    )
    wait_for_app(page)
    assert page.evaluate("() => window.__lvPlots().every(gd => gd.__marked === true)")

    # A new surface reaches the map even though the chart hands unchanged arrays over as they are: the
    # grid's sum changes with the condition number.
    # The colour field (the map's background image, viz.landscape.background) is drawn anew.
    z_sum = (f"() => {{ const gd = ({CONTOUR})(); if (!gd) return null;"
             " const src = gd._fullLayout.images[0].source;"
             " return src.length + ':' + src.slice(-64); }")
    z_before = page.evaluate(z_sum)
    kappa = page.locator('.st-key-kappa input[type="range"]')
    kappa.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(old) => {{ const s = ({z_sum})(); return s !== null && s !== old; }}",
                           arg=z_before, timeout=20_000)
    wait_for_app(page)

    # Click on the map: the start moves to the clicked point, in data coordinates.
    start_x = page.get_by_label("start x")
    old = start_x.input_value()
    frame = _contour_frame(page)
    axes = _click_map(page, 0.75, 0.25)
    page.wait_for_function(START_MOVED, arg=old, timeout=20_000)
    wait_for_app(page)
    expected = axes["x0"] + 0.75 * (axes["x1"] - axes["x0"])
    assert abs(float(start_x.input_value()) - expected) < 0.02 * (axes["x1"] - axes["x0"])
    # While the click's rerun runs, the map is stale (not among __lvPlots): wait for it to be current.
    page.wait_for_function(f"(x) => {{ const gd = ({CONTOUR})(); const t = gd && gd._fullData"
                           ".find(t => (t.name || '').startsWith('1. '));"
                           " return Boolean(t) && Math.abs(t.x[0] - x) < 1e-9; }",
                           arg=float(start_x.input_value()), timeout=20_000)

    # Play: the "now" markers move in the browser (no rerun), and the map stays drawn while they do.
    heads = f"() => ({CONTOUR})()._fullLayout.shapes.map(s => s.xanchor)"
    # The colour field is the map's background image (viz.landscape.background).
    contour_drawn = f"() => ({CONTOUR})().querySelectorAll('.imagelayer image').length"
    at_start = page.evaluate(heads)
    assert page.evaluate(contour_drawn) > 0
    frame.get_by_text("▶ Play").first.click()
    page.wait_for_timeout(1500)
    assert page.evaluate(heads) != at_start
    assert page.evaluate(contour_drawn) > 0
    save_screenshot(page, "surface_explorer_after_play")

    with page.expect_download() as download:
        page.get_by_role("button", name="Trajectories (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert rows and {"optimizer", "step", "x", "y", "loss"} <= set(rows[0])


def test_the_steps_rerun_the_race_alone_and_a_schedule_follows_them(app_url, page):
    """Issue 16: the steps, the Explorer's main knob, rerun the race's part of the page (a fragment), not the
    sidebar's optimizer slots: a fraction of a full rerun's messages. A schedule whose length follows the
    run (cosine, T_max 0 = every step) is resolved there for the new number of steps, as a full rerun
    would: the equivalent PyTorch code says so, and the link follows."""
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer?surface=quadratic&steps=40&racers=1&o1_opt=sgd&o1_sched=cosine")
    wait_for_app(page)
    page.wait_for_function("() => window.__lvPlots().length >= 4", timeout=90_000)
    page.get_by_text("Equivalent PyTorch code").click()
    wait_for_app(page)

    def t_max() -> list[str]:
        code = page.locator('[data-testid="stCode"]').last.inner_text()
        return re.findall(r"T_max\W+(\d+)", code)

    assert t_max() == ["40"]

    def more_settings():  # a whole-page rerun: slot 1 shows its advanced settings
        page.locator(".st-key-o1_more label").click()

    full = received(page, more_settings)

    def press():
        slider = page.locator('.st-key-steps input[type="range"]').first
        slider.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => location.search.includes('steps=41')", timeout=30_000)

    part = received(page, press)
    assert part < PART_OF_FULL * full, (part, full)
    assert t_max() == ["41"]
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".st-key-o1_more").count() == 1  # the slot's widgets are still there, once


def _click_map(page, fx: float, fy: float) -> dict:
    """Click the contour map at fractions ``fx``, ``fy`` of its axes (from the left, from the top); return
    the axes (offsets and lengths in px, the x range)."""
    axes = _contour_frame(page).evaluate(
        "() => { const gd = document.querySelector('.js-plotly-plot'); const xa = gd._fullLayout.xaxis;"
        " const ya = gd._fullLayout.yaxis;"
        " return {x: xa._offset, w: xa._length, y: ya._offset, h: ya._length,"
        " x0: xa.range[0], x1: xa.range[1]}; }")
    index = page.evaluate("() => [...document.querySelectorAll('iframe')].findIndex(f => f.contentDocument"
                          " && f.contentDocument.querySelector('.js-plotly-plot')"
                          " && f.contentDocument.querySelector('.js-plotly-plot')._fullData[0].type"
                          " === 'contour')")
    box = page.locator("iframe").nth(index).bounding_box()
    x, y = box["x"] + axes["x"] + fx * axes["w"], box["y"] + axes["y"] + fy * axes["h"]
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    return axes


def test_a_click_on_the_map_reruns_the_race_alone_and_moves_the_start(app_url, page):
    """A click on the map moves the start, whose inputs the race's part of the page draws itself: the
    click reruns that part alone. It used to rerun that part, which then reran the whole page for the
    start's inputs in the sidebar (a full rerun's messages and more, and about 65 ms slower in the
    browser); keys pressed during such a rerun could get charts mounted again. Every chart keeps its plot,
    the start's inputs and the link show the clicked point, and the note says the start changed."""
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    page.wait_for_function("() => window.__lvPlots().length >= 4", timeout=90_000)
    page.evaluate("() => { window.__lvPlots().forEach(gd => { gd.__marked = true; }); }")
    start_x, start_y = page.get_by_label("start x"), page.get_by_label("start y")
    old = (start_x.input_value(), start_y.input_value())

    def click():
        _click_map(page, 0.7, 0.3)
        page.wait_for_function(START_MOVED, arg=old[0], timeout=20_000)

    part = received(page, click)
    new = (start_x.input_value(), start_y.input_value())
    assert new[0] != old[0] and new[1] != old[1], (old, new)
    assert f"x0={float(new[0]):g}" in page.url and f"y0={float(new[1]):g}" in page.url, (new, page.url)
    main = page.locator('[data-testid="stMainBlockContainer"]')
    assert main.get_by_text("loaded, then changed (start x, start y)").count() == 1
    page.wait_for_function(f"(x) => {{ const gd = ({CONTOUR})(); const t = gd && gd._fullData"
                           ".find(t => (t.name || '').startsWith('1. '));"
                           " return Boolean(t) && Math.abs(t.x[0] - x) < 1e-9; }",
                           arg=float(new[0]), timeout=20_000)
    assert page.evaluate("() => window.__lvPlots().every(gd => gd.__marked === true)")
    assert page.locator('[data-testid="stException"]').count() == 0
    full = received(page, lambda: page.locator(".st-key-o1_more label").click())
    assert part < PART_OF_FULL * full, (part, full)


def test_a_press_on_the_scenarios_picture_reruns_the_race_alone_and_the_note_follows(app_url, page):
    """The default visit shows the ravine scenario and its lesson. The steps' first press used to rerun the
    whole page so that the note above could say "then changed": twice the messages of a later press, and a
    press that came during that rerun could make the browser drop the charts below and mount them again
    (seen in CI, on a loaded machine). The race's part now redraws the note in its place: the first press
    reruns that part alone, the note says what moved and takes the lesson back when the setting returns,
    and every chart keeps its plot."""
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    page.wait_for_function("() => window.__lvPlots().length >= 4", timeout=90_000)
    main = page.locator('[data-testid="stMainBlockContainer"]')
    title = "Ravine: plain GD zig-zags, momentum glides"
    changed = main.get_by_text(f"Scenario “{title}” loaded, then changed (steps)")
    lesson = main.locator('[data-testid="stAlert"]').filter(has_text=title)
    assert lesson.count() == 1 and changed.count() == 0
    page.evaluate("() => { window.__lvPlots().forEach(gd => { gd.__marked = true; }); }")

    def press(key: str, steps: int):
        def action():
            slider = page.locator('.st-key-steps input[type="range"]').first
            slider.focus()
            page.keyboard.press(key)
            page.wait_for_function(f"() => location.search.includes('steps={steps}&')", timeout=30_000)
        return action

    first = received(page, press("ArrowRight", 61))
    assert changed.count() == 1 and lesson.count() == 0
    back = received(page, press("ArrowLeft", 60))
    assert lesson.count() == 1 and changed.count() == 0
    assert page.evaluate("() => window.__lvPlots().every(gd => gd.__marked === true)")
    assert page.locator('[data-testid="stException"]').count() == 0

    full = received(page, lambda: page.locator(".st-key-o1_more label").click())
    assert first < PART_OF_FULL * full and back < PART_OF_FULL * full, (first, back, full)
    assert lesson.count() == 1 and changed.count() == 0  # a whole-page rerun draws the same note, once


def test_the_rate_scrubber_carries_plays_heads_and_hides_the_exact_rates_arrows(app_url, page):
    """The helper's report: at x 0.1 the paths were the scaled rates' while Play's heads and the inspected
    step's update arrows stayed the exact rates'. Either order, scrub then step or step then scrub, the heads
    sit on the paths shown; back at the exact rates everything is the exact run's again."""
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    frame = keyed_frame(page, "contour_chart")
    racers = frame.evaluate("() => document.getElementById('plot')._fullData"
                            ".filter(t => t.mode === 'lines' && /^[12]\\. /.test(t.name)).map(t => t.name)")
    assert len(racers) == 2
    arrows = "() => document.getElementById('plot').layout.annotations.map(a => a.visible !== false)"
    exact = heads(frame)
    sent = page.evaluate("() => window.__lv.sent.length")

    scrub(frame, 0)  # x 0.1 each lr
    assert scrub_value(frame) == "× 0.1 each lr"
    frame.wait_for_function(f"() => !({arrows})().some(Boolean)")
    step = animate_to(frame, 29)
    drawn = heads(frame)
    for head, name in zip(drawn, racers, strict=True):
        assert head["shown"] and (head["x"], head["y"]) == point(frame, name, step)
    assert [(h["x"], h["y"]) for h in drawn] != [(h["x"], h["y"]) for h in exact]

    scrub(frame, 12)  # x 1: the exact rates, at the step Play shows
    frame.wait_for_function(f"() => ({arrows})().every(Boolean)")
    for head, name in zip(heads(frame), racers, strict=True):
        assert (head["x"], head["y"]) == point(frame, name, step)
    animate_to(frame, 0)
    assert heads(frame) == exact

    step = animate_to(frame, 40)  # the other order: a step first, then the scrubber
    scrub(frame, 24)  # x 10 each lr: these runs diverge
    for head, name in zip(heads(frame), racers, strict=True):
        assert (head["x"], head["y"]) == point(frame, name, step)
    assert page.evaluate("() => window.__lv.sent.length") == sent  # all of it in the browser
    save_screenshot(page, "explorer_scrubbed_heads")
