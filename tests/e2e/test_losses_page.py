"""Loss functions in a real browser: the curves draw, Huber's δ moves its kink from the server and from the
scrubber (with no request to the server), the worked example follows an edit and shows bad or hostile text
literally, a scenario loads, every download holds the page's numbers, projector mode fits a laptop."""
import io

import numpy as np
import pandas as pd

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import (PLOT, chart_frame, chart_traces, downloaded, mark_charts, save_screenshot,
                                save_screenshots, still_mounted, wait_for_app)

HUBER_MAX = f"() => Math.max(...{PLOT}._fullData.find(t => t.name === '∂Huber').y)"


def _open(page, app_url, query=""):
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Loss_Functions{query}")
    wait_for_app(page)
    for key in ("reg_chart", "cls_chart", "example_chart"):
        chart_frame(page, key)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _metric(page, label):
    metric = page.locator(f'[data-testid="stMetric"]:has-text("{label}") [data-testid="stMetricValue"]')
    return metric.first.inner_text()


def test_curves_scrubber_worked_example_and_scenario(app_url, page):
    _open(page, app_url)
    save_screenshots(page, "losses_default")
    regression = chart_traces(page, "reg_chart")
    assert {"MSE", "RMSE", "MAE", "Huber", "log-cosh", "∂MSE", "∂Huber"} <= set(regression)
    classification = chart_traces(page, "cls_chart")
    assert {"0-1", "hinge", "squared hinge", "logistic", "cross-entropy"} <= set(classification)
    assert set(classification["∂0-1"]["y"]) == {0.0}
    reg = chart_frame(page, "reg_chart")
    assert reg.evaluate(HUBER_MAX) == 1.0

    # The scrubber under the regression curves: every δ is in the browser already; moving it asks nothing
    # of the server, and shows which δ each position is.
    assert reg.locator("#scrub output").inner_text() == "δ = 1"
    sent = page.evaluate("() => window.__lv.sent.length")
    reg.evaluate("() => { const s = document.getElementById('scrub-input'); s.value = '0';"
                 " s.dispatchEvent(new Event('input')); }")
    reg.wait_for_function(f"() => Math.abs(({HUBER_MAX})() - 0.05) < 1e-12", timeout=10_000)
    assert reg.locator("#scrub output").inner_text() == "δ = 0.05"
    page.wait_for_timeout(800)
    assert page.evaluate("() => window.__lv.sent.length") == sent  # no rerun requested
    marks = reg.evaluate("() => document.querySelector('.js-plotly-plot')._fullData"
                         ".filter(t => t.name === '±δ').map(t => [t.x[0], t.x[4]])")
    assert marks == [[-0.05, 0.05], [-0.05, 0.05]]

    # The server-side slider keeps exact values: four steps of 0.05 from δ = 1.
    thumb = page.locator('input[type="range"][aria-label="Huber δ"]')
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    reg.wait_for_function(f"() => Math.abs(({HUBER_MAX})() - 1.2) < 1e-9", timeout=60_000)
    wait_for_app(page)
    assert reg.locator("#scrub output").inner_text() == "δ = 1.2"

    # The worked example recomputes when a prediction is edited: one far-off prediction inflates the MSE.
    assert _metric(page, "MSE") == "0.068"
    box = page.get_by_label("predictions ŷ")
    box.fill("0.8, 1.9, 2.8, 3.7, 9.6")
    box.press("Enter")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
                           ".some(e => e.innerText === '4.268')", timeout=60_000)
    wait_for_app(page)
    assert _metric(page, "MAE") == "1.08"
    save_screenshot(page, "losses_outlier_example")

    # Every download holds the page's numbers.
    curves = pd.read_csv(io.StringIO(downloaded(page, "Regression curves (CSV)")))
    regression = chart_traces(page, "reg_chart")
    np.testing.assert_allclose(curves["residual"], regression["MSE"]["x"], rtol=1e-15)
    for column, trace in (("mse", "MSE"), ("huber_gradient", "∂Huber"), ("log_cosh", "log-cosh")):
        np.testing.assert_allclose(curves[column], regression[trace]["y"], rtol=1e-15)
    assert curves["huber_gradient"].max() == 1.2
    margins = pd.read_csv(io.StringIO(downloaded(page, "Classification curves (CSV)")))
    classification = chart_traces(page, "cls_chart")
    for column, trace in (("hinge", "hinge"), ("logistic_gradient", "∂logistic")):
        np.testing.assert_allclose(margins[column], classification[trace]["y"], rtol=1e-15)
    example = pd.read_csv(io.StringIO(downloaded(page, "Worked example (CSV)")))
    assert example["y_pred"].tolist() == [0.8, 1.9, 2.8, 3.7, 9.6]
    assert f"{example['squared'].mean():.4g}" == _metric(page, "MSE")
    assert f"{example['absolute'].mean():.4g}" == _metric(page, "MAE")

    # A bad number is a message, and the example's chart keeps its last picture, greyed out: the same chart,
    # not a new one (no chart of the page is ever mounted again by a rerun).
    charts = ["reg_chart", "cls_chart", "example_chart"]
    mark_charts(page, charts)
    box.fill("1, two, 3")
    box.press("Enter")
    page.get_by_text("item 2 (“two”) is not a number").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    chart_frame(page, "example_chart").wait_for_selector("#plot.stale", timeout=10_000)
    assert still_mounted(page, charts) == charts

    # The 0-1 scenario: only the chosen curves are drawn, and its lesson is shown.
    combo = page.get_by_role("combobox", name="scenario", exact=True)
    combo.click()
    combo.press("ArrowDown")
    page.get_by_role("option", name="0-1 loss has no gradient", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Load scenario").click()
    page.get_by_text("0-1 loss has no gradient.").first.wait_for(timeout=60_000)
    wait_for_app(page)
    chart_frame(page, "cls_chart").wait_for_function(
        "() => document.querySelector('.js-plotly-plot')._fullData.filter(t => t.showlegend)"
        ".map(t => t.name).join() === '0-1,hinge,logistic'", timeout=60_000)
    assert still_mounted(page, charts) == charts  # the scenario's note above them moved nothing
    save_screenshots(page, "losses_zero_one")


def test_a_huber_press_reruns_what_delta_moves_and_nothing_else(app_url, page):
    """Huber's δ moves the regression curves, the formulas' code and the worked example; not the
    classification curves nor the sidebar. Its press reruns that part of the page (a fragment): far fewer
    messages than a full rerun, the same pictures and numbers, every chart kept mounted."""
    _open(page, app_url)
    charts = ["reg_chart", "cls_chart", "example_chart"]
    mark_charts(page, charts)
    reg = chart_frame(page, "reg_chart")
    thumb = page.locator('input[type="range"][aria-label="Huber δ"]')

    def press(slider, key: str) -> int:
        received = page.evaluate("() => window.__lv.recv.length")
        slider.focus()
        page.keyboard.press(key)
        page.wait_for_timeout(300)
        wait_for_app(page)
        return page.evaluate("() => window.__lv.recv.length") - received

    press(thumb, "ArrowRight")  # δ 1.05: the first move away from the scenario reruns the page (its note)
    reg.wait_for_function(f"() => Math.abs(({HUBER_MAX})() - 1.05) < 1e-9", timeout=60_000)
    fragment = press(thumb, "ArrowRight")  # δ 1.1: this part only
    reg.wait_for_function(f"() => Math.abs(({HUBER_MAX})() - 1.1) < 1e-9", timeout=60_000)
    code = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "F.huber_loss(y_pred, y, delta=1.1)" in code, code
    assert page.get_by_text("Huber (δ = 1.1)").count() == 1  # the worked example's metric
    assert "delta=1.1" in page.url
    full = press(page.locator('input[type="range"][aria-label="range of r and m (±)"]'), "ArrowLeft")
    assert fragment < 0.75 * full, (fragment, full)
    assert still_mounted(page, charts) == charts


def test_hostile_example_text_stays_text_and_fetches_nothing(app_url, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    _open(page, app_url)
    typed = "[login](http://evil.example/login),![t](http://evil.example/p.png),<img/src=http://evil.example/x>"
    box = page.get_by_label("targets y")
    box.fill(typed)
    box.press("Enter")
    page.locator('[data-lv-notice="error"]').first.wait_for(timeout=60_000)
    wait_for_app(page)
    shown = page.locator('[data-lv-notice="error"]').first.inner_text()
    assert "item 1 (“[login](http://evil…”)" in shown  # the characters, not a link
    assert page.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
    assert not [url for url in requests if "evil.example" in url]
    save_screenshot(page, "losses_hostile_example")


def test_projector_mode_puts_the_main_figure_and_its_scrubber_on_the_first_screen(app_url, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    _open(page, app_url, "?present=1")
    page.wait_for_timeout(500)
    save_screenshot(page, "losses_projector_1366")
    box = page.locator(".st-key-reg_chart iframe").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    scrub = chart_frame(page, "reg_chart").locator("#scrub")
    assert scrub.is_visible()
