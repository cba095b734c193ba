"""The Momentum page in a real browser: the momentum slider redraws the paths in the browser (contour kept),
a click on a phase-map cell shows that run, the phase map downloads."""
import csv
import io
import re

from tests.e2e.conftest import save_screenshot, wait_for_app

RAVINE, PHASE = 0, 2  # plotly charts in page order: ravine, rate curves, phase map, clicked run

HEAVY_BALL = """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const t = gd._fullData.find(t => t.name && t.name.startsWith('heavy ball'));
  return {name: t.name, x: Array.from(t.x)}; }"""
CONTOUR_DRAWN = "(i) => document.querySelectorAll('.js-plotly-plot')[i].querySelectorAll('g.contour').length"


def test_momentum_slider_runs_in_the_browser_and_a_cell_click_shows_its_run(app_url, page):
    page.goto(f"{app_url}/Momentum")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 4", timeout=60_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() == 4
    save_screenshot(page, "momentum_page")

    # Drag the figure's own momentum slider from beta = 0.9 towards 0.3: the paths change, the contour
    # stays drawn, and no rerun happens (the page's settings, which live in the URL, do not move).
    url_before = page.url
    before = page.evaluate(HEAVY_BALL, RAVINE)
    assert before["name"] == "heavy ball β=0.90" and page.evaluate(CONTOUR_DRAWN, RAVINE) > 0
    figure = page.locator(".js-plotly-plot").nth(RAVINE)
    grip = figure.locator(".slider-grip-rect").bounding_box()
    rail = figure.locator(".slider-rail-rect").bounding_box()
    page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    page.mouse.down()
    for fraction in (0.8, 0.6, 0.45, 0.3):
        page.mouse.move(rail["x"] + rail["width"] * fraction, rail["y"] + rail["height"] / 2, steps=4)
        page.wait_for_timeout(150)
    page.mouse.up()
    page.wait_for_function(f"(i) => ({HEAVY_BALL})(i).name !== 'heavy ball β=0.90'", arg=RAVINE, timeout=10_000)
    after = page.evaluate(HEAVY_BALL, RAVINE)
    beta = float(after["name"].split("=")[1])
    assert 0.2 < beta < 0.4 and after["x"] != before["x"]
    assert page.evaluate(CONTOUR_DRAWN, RAVINE) > 0
    assert page.url == url_before
    save_screenshot(page, "momentum_page_after_slider")

    # Click a phase-map cell: the run shown next to the map becomes that cell's.
    page.locator(".js-plotly-plot").nth(PHASE).scroll_into_view_if_needed()
    target = page.evaluate(
        """(i) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];
          const cells = gd._fullData.find(t => t.name === 'cells');
          const k = 20 * 64 + 12;  // row 20, column 12
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
          return {x: box.x + xa._offset + xa.d2p(cells.x[k]), y: box.y + ya._offset + ya.d2p(cells.y[k])}; }""",
        PHASE,
    )
    page.mouse.move(target["x"], target["y"])
    page.wait_for_selector(".hoverlayer .hovertext", timeout=5_000)  # the lattice point is under the mouse
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function("() => document.body.innerText.includes('Clicked cell')", timeout=30_000)
    wait_for_app(page)
    assert "cell_row=20" in page.url and "cell_col=12" in page.url
    caption = page.get_by_text(re.compile("^Clicked cell")).inner_text()
    clicked_run = page.evaluate(
        "() => document.querySelectorAll('.js-plotly-plot')[3]._fullData.find(t => t.mode === 'lines').name")
    assert clicked_run.split(",")[0] in caption
    save_screenshot(page, "momentum_page_cell_clicked")

    with page.expect_download() as download:
        page.get_by_role("button", name="Phase map (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert len(rows) == 64 * 64 and {"lr", "momentum", "steps_to_tol", "boundary_lr"} <= set(rows[0])
