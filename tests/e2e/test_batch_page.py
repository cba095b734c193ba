"""The Batch size page in a real browser: change the learning rate, move the cloud to the minimum, read the
figures, download the noise-ball table."""
import csv
import io

from tests.e2e.conftest import save_screenshot, wait_for_app

ALL_FIGURES = "() => document.querySelectorAll('.js-plotly-plot').length === 5"


def _trace(page, index, name):
    return page.evaluate(
        "([i, name]) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];"
        " const t = gd._fullData.find(t => t.name === name);"
        " return t ? {x: Array.from(t.x), y: Array.from(t.y)} : null; }",
        [index, name],
    )


def test_learning_rate_and_cloud_point_change_the_figures(app_url, page):
    page.goto(f"{app_url}/Batch_Size")
    # The first visit runs SGD for every batch size and measures the noise balls.
    page.wait_for_function(ALL_FIGURES, timeout=120_000)
    wait_for_app(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "batch_size")

    names = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[0]._fullData.map(t => t.name)")
    assert {"B = 1", "B = 8", "B = 64", "full batch (GD)"} <= set(names)
    before = _trace(page, 0, "B = 1")
    assert len(before["x"]) == 201

    # A smaller learning rate: the B = 1 path ends somewhere else.
    box = page.get_by_role("spinbutton", name="learning rate")
    box.fill("0.02")
    box.press("Enter")
    page.wait_for_function(
        "(old) => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " const t = gd && gd._fullData.find(t => t.name === 'B = 1');"
        " return t && t.x[t.x.length - 1] !== old; }",
        arg=before["x"][-1], timeout=60_000,
    )
    page.wait_for_function(ALL_FIGURES, timeout=120_000)
    wait_for_app(page, timeout=60_000)

    # The cloud at the minimum: the full gradient is (numerically) zero there.
    star = _trace(page, 2, "full-batch gradient")
    assert abs(star["x"][0]) > 0.1
    page.get_by_text("minimum", exact=True).first.click()
    page.wait_for_function(
        "() => { const gd = document.querySelectorAll('.js-plotly-plot')[2];"
        " const t = gd && gd._fullData.find(t => t.name === 'full-batch gradient');"
        " return t && Math.abs(t.x[0]) < 1e-9 && Math.abs(t.y[0]) < 1e-9; }",
        timeout=60_000,
    )
    wait_for_app(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "batch_size_small_lr_cloud_at_minimum")

    with page.expect_download() as download:
        page.get_by_role("button", name="Noise balls (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert {"batch_size", "lr", "excess_loss", "predicted_excess_loss"} <= set(rows[0])
    assert len(rows) == 12  # three batch sizes x four learning rates
