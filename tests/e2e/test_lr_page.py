"""The Learning rate page in a real browser: every figure drawn, a slider moves the sweep, CSV downloads."""
import csv
import io
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser import PLOTS_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app

SWEEP = 2  # live charts in page order (window.__lvPlots): race map, race curves, sweep, schedules, range test


def _trace(page, index, name):
    return page.evaluate(
        "([i, name]) => { const gd = window.__lvPlots()[i];"
        " const t = gd._fullData.find(t => t.name === name);"
        " return t ? {x: Array.from(t.x || []), y: Array.from(t.y || [])} : null; }",
        [index, name],
    )


def test_lr_page_figures_slider_scenario_and_csv(app_url, page):
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/Learning_Rate")
    page.wait_for_function("() => window.__lvPlots().length === 5", timeout=60_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.evaluate("() => window.__lvPlots().length") == 5
    save_screenshot(page, "lr_page")

    measured = "measured final loss − minimum"
    before = _trace(page, SWEEP, measured)
    assert len(before["x"]) == 300
    limit_line = _trace(page, SWEEP, "2/λ_max = 2")
    assert limit_line and limit_line["x"][0] == 2.0

    # The steps slider: more steps, lower final losses below the line (read from the browser's figure).
    thumb = page.locator('input[type="range"][aria-label="steps"]')
    thumb.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(args) => { const gd = window.__lvPlots()[args[0]];"
        " const t = gd && gd._fullData.find(t => t.name === args[1]);"
        " return t && t.y[10] !== args[2]; }",
        arg=[SWEEP, measured, before["y"][10]], timeout=30_000,
    )
    wait_for_app(page)
    after = _trace(page, SWEEP, measured)
    assert after["y"][100] < before["y"][100]

    # A classroom scenario sets the surface and the rates, and its lesson is shown.
    option = page.get_by_role("option", name=re.compile("^Rosenbrock: the limit at the minimum"))
    for _ in range(3):  # on a loaded machine the first click can land before the select is ready
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    option.click()
    page.get_by_role("button", name="Load scenario").click()
    page.wait_for_function("() => document.body.innerText.includes('survive the sharpest place')", timeout=30_000)
    wait_for_app(page)
    assert "surface=rosenbrock" in page.url
    save_screenshot(page, "lr_page_rosenbrock")

    with page.expect_download() as download:
        page.get_by_role("button", name="Sweep (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert len(rows) == 300 and {"lr", "final_loss", "diverged_at"} <= set(rows[0])
