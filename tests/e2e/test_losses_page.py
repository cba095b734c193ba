"""Loss functions in a real browser: the curves draw, Huber's δ moves its kink, the worked example follows
an edit, a scenario loads and the CSV downloads."""
import csv
import io

from tests.e2e.conftest import save_screenshot, wait_for_app

# Figure order: regression losses, their gradients, classification losses, their gradients, example bars.
REG, REG_GRAD, CLS, CLS_GRAD, EXAMPLE = range(5)


def _ready(page):
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 5", timeout=60_000)
    wait_for_app(page)


def _trace(page, figure, name):
    return page.evaluate(
        "([i, name]) => { const t = document.querySelectorAll('.js-plotly-plot')[i]._fullData"
        ".find(d => d.name === name); return t ? {x: Array.from(t.x), y: Array.from(t.y)} : null; }",
        [figure, name],
    )


def _metric(page, label):
    metric = page.locator(f'[data-testid="stMetric"]:has-text("{label}") [data-testid="stMetricValue"]')
    return metric.first.inner_text()


def test_curves_delta_worked_example_and_scenario(app_url, page):
    page.goto(f"{app_url}/Loss_Functions")
    _ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "losses_default")

    for name in ("MSE", "RMSE", "MAE", "Huber", "log-cosh"):
        assert _trace(page, REG, name) is not None, name
    for name in ("0-1", "hinge", "squared hinge", "logistic", "cross-entropy"):
        assert _trace(page, CLS, name) is not None, name
    assert _trace(page, CLS_GRAD, "∂0-1")["y"] == [0.0] * len(_trace(page, CLS_GRAD, "∂0-1")["y"])

    # Huber's gradient is the residual clipped to ±δ: moving δ up raises the clip level.
    assert max(_trace(page, REG_GRAD, "∂Huber")["y"]) == 1.0
    thumb = page.locator('input[type="range"][aria-label="Huber δ"]')
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => { const t = document.querySelectorAll('.js-plotly-plot')[1]._fullData"
        ".find(d => d.name === '∂Huber'); return t && Math.abs(Math.max(...t.y) - 1.2) < 1e-9; }",
        timeout=60_000)
    _ready(page)

    # The worked example recomputes when a prediction is edited: one far-off prediction inflates the MSE.
    assert _metric(page, "MSE") == "0.068"
    box = page.get_by_label("predictions ŷ")
    box.fill("0.8, 1.9, 2.8, 3.7, 9.6")
    box.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some(e => e.innerText === '4.268')",
        timeout=60_000)
    _ready(page)
    assert _metric(page, "MAE") == "1.08"
    save_screenshot(page, "losses_outlier_example")

    with page.expect_download() as download:
        page.get_by_role("button", name="Worked example (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert [float(r["y_pred"]) for r in rows] == [0.8, 1.9, 2.8, 3.7, 9.6]

    # A bad number is a message, not a traceback.
    box.fill("1, two, 3")
    box.press("Enter")
    page.get_by_text("item 2 ('two') is not a number").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0

    # The 0-1 scenario: only the chosen curves are drawn, and its lesson is shown.
    combo = page.get_by_role("combobox", name="scenario", exact=True)
    combo.click()
    combo.press("ArrowDown")
    page.get_by_role("option", name="0-1 loss has no gradient", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Load scenario").click()
    page.get_by_text("0-1 loss has no gradient.").first.wait_for(timeout=60_000)
    _ready(page)
    names = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[2]._fullData.map(t => t.name)")
    assert names == ["0-1", "hinge", "logistic"]
    save_screenshot(page, "losses_zero_one")
