"""The Surface Explorer in a real browser: load, move a slider, click a start, play, download the CSV."""
import csv
import io

from tests.e2e.conftest import save_screenshot, wait_for_app


def _figure_data(page, index):
    return page.evaluate(
        "(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];"
        " return gd._fullData.map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])})); }",
        index,
    )


def test_explorer_slider_click_play_and_csv(app_url, page):
    page.goto(f"{app_url}/Surface_Explorer")
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "surface_explorer")
    assert page.locator(".js-plotly-plot").count() >= 4

    # Steps slider: keyboard on the focused thumb, then the trajectories get longer.
    before = max(len(t["x"]) for t in _figure_data(page, 1) if t["name"] and t["name"].startswith("1. "))
    thumb = page.locator('input[type="range"][aria-label="steps"]')
    thumb.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    # Each key press is a rerun; wait for the last one to reach the figure.
    page.wait_for_function(
        "(n) => { const gd = document.querySelectorAll('.js-plotly-plot')[1];"
        " return gd && gd._fullData.some(t => t.name && t.name.startsWith('1. ') && t.x.length === n); }",
        arg=before + 5, timeout=20_000,
    )
    wait_for_app(page)

    # Click on the contour: the start moves to the clicked lattice point.
    start_x = page.get_by_label("start x")
    old = start_x.input_value()
    box = page.locator(".js-plotly-plot").nth(1).locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    page.wait_for_function("(old) => document.querySelector('input[aria-label=\"start x\"]').value !== old",
                           arg=old, timeout=20_000)
    wait_for_app(page)
    assert float(start_x.input_value()) > 0  # the click was in the right half of a view centred on 0

    # Play: the "now" markers move in the browser (no rerun), and the map stays drawn while they do.
    heads = "() => document.querySelectorAll('.js-plotly-plot')[1]._fullLayout.shapes.map(s => s.xanchor)"
    contour_drawn = "() => document.querySelectorAll('.js-plotly-plot')[1].querySelectorAll('g.contour').length"
    at_start = page.evaluate(heads)
    assert page.evaluate(contour_drawn) > 0
    page.get_by_text("▶ Play").first.click()
    page.wait_for_timeout(1500)
    assert page.evaluate(heads) != at_start
    assert page.evaluate(contour_drawn) > 0
    save_screenshot(page, "surface_explorer_after_play")

    with page.expect_download() as download:
        page.get_by_role("button", name="Trajectories (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert rows and {"optimizer", "step", "x", "y", "loss"} <= set(rows[0])
