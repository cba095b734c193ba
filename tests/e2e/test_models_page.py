"""Models on data in a real browser: the loss switch redraws the landscape, the step slider and a click on a
path move the fit on the data, a scenario loads, and an uploaded CSV is used or refused."""
import csv
import io

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import save_screenshot, wait_for_app

# Figure order on the page (document order): contour (in the first tab), data view, loss curves; the 3-D
# view is a live chart in a component frame (lossviz.ui.live_plotly), found apart.
CONTOUR, DATA, CURVES = 0, 1, 2


def _traces(page, index):
    return page.evaluate(
        "(i) => document.querySelectorAll('.js-plotly-plot')[i]._fullData.map(t => ({name: t.name,"
        " x: Array.from(t.x || []), y: Array.from(t.y || []),"
        " z: t.z ? Array.from(t.z).map(r => Array.from(r)) : null}))",
        index,
    )


def _ready(page, plots=3):
    """The app has settled and its figures are drawn (they arrive after the computing spinner)."""
    wait_for_app(page)
    page.wait_for_function("(n) => document.querySelectorAll('.js-plotly-plot').length >= n", arg=plots,
                           timeout=60_000)
    wait_for_app(page)


def _contour_z(page):
    return _traces(page, CONTOUR)[0]["z"]


def _fit_line(page):
    return next(t for t in _traces(page, DATA) if t["name"].startswith("1. "))


def _choose(page, label, option, attempts=3):
    """Pick ``option`` in the selectbox ``label``; a rerun still under way may replace the list, so retry."""
    box = page.get_by_role("combobox", name=label, exact=True)
    for attempt in range(attempts):
        wait_for_app(page)
        box.click()
        box.press("ArrowDown")  # a click focuses the selectbox; the arrow key opens its list
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == attempts - 1:
                raise
    page.wait_for_function("([label, option]) => document.querySelector(`input[aria-label='${label}']`)"
                           "?.value === option", arg=[label, option], timeout=30_000)
    page.wait_for_timeout(300)  # let the rerun the choice starts begin before waiting for it to end
    wait_for_app(page)


def test_loss_switch_step_link_and_click(app_url, page):
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "models_default")

    # The 3-D tab: a live chart drawn in its frame at the tab's full width once the tab is shown.
    page.get_by_role("tab", name="Landscape (3-D)").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('iframe')].some(f => {
             const gd = f.contentDocument && f.contentDocument.querySelector('.js-plotly-plot');
             return gd && gd._fullData && gd._fullData[0].type === 'surface' && gd.querySelector('canvas')
               && gd.getBoundingClientRect().width > 300; })""", timeout=60_000)
    page.wait_for_timeout(500)
    save_screenshot(page, "models_surface_tab")
    page.get_by_role("tab", name="Landscape (contour)").click()

    # The loss switch recomputes the surface: MSE -> MAE changes every value of the grid.
    before = _contour_z(page)
    _choose(page, "loss", "Mean absolute error (MAE)")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot')[0]._fullData"
                           ".some(t => t.name === 'minimum of Mean absolute error (MAE)')", timeout=60_000)
    _ready(page)
    after = _contour_z(page)
    assert after != before

    # The step slider moves the fitted line on the data beside the map.
    line_at_0 = _fit_line(page)
    slider = 'input[type="range"][aria-label^="step on the trajectory"]'
    page.locator(slider).focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')[1]._fullData].some(t => t.name"
        " && t.name.startsWith('1. ') && t.name.endsWith('step 5'))", timeout=60_000)
    _ready(page)
    assert _fit_line(page)["y"] != line_at_0["y"]
    save_screenshot(page, "models_mae_step5")

    # A click on the path picks that step: click the path's point at step 30, in pixels of the contour.
    target = page.evaluate(
        """() => { const gd = document.querySelectorAll('.js-plotly-plot')[0];
            const t = gd._fullData.find(d => d.name && d.name.startsWith('pick step'));
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
            return {x: box.left + xa._offset + xa.l2p(t.x[30]),
                    y: box.top + ya._offset + ya.l2p(t.y[30])}; }""")
    page.mouse.move(target["x"], target["y"])
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function(f"() => document.querySelector('{slider}').value !== '5'", timeout=60_000)
    _ready(page)
    picked = int(page.locator(slider).input_value())
    assert abs(picked - 30) <= 3  # neighbouring steps overlap under the pointer
    assert _fit_line(page)["name"].endswith(f"step {picked}")

    with page.expect_download() as download:
        page.get_by_role("button", name="Trajectories (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    assert rows and {"optimizer", "step", "slope", "intercept", "loss"} <= set(rows[0])


def test_scenarios_load_and_show_their_lesson(app_url, page):
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    for title, shot in (("An outlier drags MSE", "models_outlier"),
                        ("Squared error through a sigmoid stalls", "models_sigmoid_mse"),
                        ("0-1 loss has no gradient", "models_zero_one")):
        _choose(page, "scenario", title)
        page.get_by_role("button", name="Load scenario").click()
        page.get_by_text(title + ".", exact=False).first.wait_for(timeout=60_000)
        _ready(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        save_screenshot(page, shot)
    names = [t["name"] for t in _traces(page, DATA)]
    assert any(n.startswith("class:") for n in names)


GOOD_CSV = "hours,score,passed\n" + "".join(
    f"{h},{50 + 4 * h + (7 if h % 3 == 0 else -5)},{'yes' if h > 6 else 'no'}\n" for h in range(1, 16))


def test_upload_a_csv_and_a_bad_one(app_url, page, tmp_path):
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    _choose(page, "dataset", "Your own CSV file")
    assert page.get_by_text("Upload a CSV file in the sidebar").count() == 1

    good = tmp_path / "study.csv"
    good.write_text(GOOD_CSV)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    page.get_by_role("combobox", name="target column", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    _choose(page, "target column", "score")
    _choose(page, "feature", "hours")
    _ready(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    names = [t["name"] for t in _traces(page, DATA)]
    assert "data" in names and any(n.startswith("1. ") for n in names)
    save_screenshot(page, "models_csv_regression")

    _choose(page, "target column", "passed")
    _ready(page)
    names = [t["name"] for t in _traces(page, DATA)]
    assert "class: yes" in names and "class: no" in names
    save_screenshot(page, "models_csv_classification")

    bad = tmp_path / "latin.csv"  # UTF-8 with Latin-1 lines: damaged, not one encoding or the other
    bad.write_bytes("name;value\n".encode() + "café;1\n".encode() * 6 + "café;1\n".encode("latin-1") * 6)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    page.get_by_text("latin.csv was refused: The file is not UTF-8 text").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.locator(".js-plotly-plot").count() == 0  # nothing of the previous file is drawn
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "models_csv_refused")
