"""The Regularization page in a real browser: move the strength, switch the penalty, read the figures,
download the path table."""
import csv
import io

from tests.e2e.conftest import save_screenshot, wait_for_app

MINIMIZER = "minimizer at this λ"


def _marker(page, index, name_part):
    return page.evaluate(
        "([i, part]) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];"
        " const t = gd._fullData.find(t => t.name && t.name.includes(part));"
        " return t ? [t.x[0], t.y[0]] : null; }",
        [index, name_part],
    )


def _wait_marker(page, index, name_part, predicate_js):
    page.wait_for_function(
        "([i, part]) => { const gd = document.querySelectorAll('.js-plotly-plot')[i];"
        " const t = gd && gd._fullData.find(t => t.name && t.name.includes(part));"
        f" if (!t) return false; const [x, y] = [t.x[0], t.y[0]]; return {predicate_js}; }}",
        arg=[index, name_part], timeout=30_000,
    )


def test_strength_and_penalty_move_the_minimizer(app_url, page):
    page.goto(f"{app_url}/Regularization")
    # The first visit solves the paths and runs the optimizers: wait for all five figures.
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 5", timeout=90_000)
    wait_for_app(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() == 5
    save_screenshot(page, "regularization")

    # Default: lasso at λ = 0.8 has bp exactly 0 and bmi positive.
    x, y = _marker(page, 0, MINIMIZER)
    assert x > 0 and y == 0

    # Strength to its maximum: the lasso switches both weights off.
    thumb = page.locator('input[type="range"][aria-label="strength λ"]')
    thumb.focus()
    page.keyboard.press("End")
    _wait_marker(page, 0, MINIMIZER, "x === 0 && y === 0")
    wait_for_app(page)

    # Ridge at the same strength shrinks both weights but zeros neither.
    page.get_by_text("L2 (ridge)", exact=True).first.click()
    _wait_marker(page, 0, MINIMIZER, "x !== 0 && y !== 0")
    wait_for_app(page)
    x, y = _marker(page, 0, MINIMIZER)
    assert 0 < x < 0.3 and 0 < y < 0.2
    save_screenshot(page, "regularization_ridge_large")

    # The decay race: SGD and Adam + L2 on the ridge point, AdamW elsewhere.
    names = page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[3]._fullData.map(t => t.name)")
    assert any("AdamW" in n for n in names) and any(n.startswith("box") for n in names)

    with page.expect_download() as download:
        page.get_by_role("button", name="Regularization paths (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert {"penalty", "strength", "w_bmi", "w_bp"} <= set(rows[0])
    assert {r["penalty"] for r in rows} == {"l1", "l2", "elastic_net"}
