"""The Neural net landscape page in a real browser: load, move the step and resolution sliders, get a CSV."""
import csv
import io

from tests.e2e.conftest import save_screenshot, wait_for_app

FIGURES = "document.querySelectorAll('.js-plotly-plot')"


def _traces(page, index):
    return page.evaluate(
        f"(i) => {FIGURES}[i]._fullData.map(t => ({{name: t.name, type: t.type, "
        "x: Array.from(t.x || []), y: Array.from(t.y || [])}))",
        index,
    )


def _figure_index(page, needle):
    """Index of the first figure whose layout text (titles, axis labels) contains ``needle``."""
    return page.evaluate(
        f"(s) => Array.from({FIGURES}).findIndex(gd => JSON.stringify(gd.layout).includes(s))", needle)


def _wait_long(page):
    # Training and the views take seconds on a busy 2-core machine, while a progress bar whose text stays
    # the same for a while shows; wait_for_app alone could take that for the end of the run.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stException\"]') || (!document.querySelector("
        "'[data-testid=\"stProgress\"]') && !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& document.querySelectorAll('.js-plotly-plot').length >= 8)",
        timeout=180_000, polling=200)
    wait_for_app(page, timeout=180_000)


def test_nn_page_sliders_and_csv(app_url, page):
    page.set_default_timeout(180_000)
    page.goto(f"{app_url}/Neural_Net_Landscape")
    _wait_long(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot").count() >= 8
    save_screenshot(page, "nn_landscape")

    # The step slider moves each run's marker on the PCA plane (a rerun without recomputing anything).
    plane = _figure_index(page, "PC1")
    assert plane >= 0
    def markers():
        return [t["x"] for t in _traces(page, plane) if t["type"] == "scatter" and len(t["x"]) == 1]

    before = markers()
    label = "step shown on the plane and the decision boundary"
    thumb = page.locator(f'input[type="range"][aria-label="{label}"]')
    thumb.focus()
    page.keyboard.press("Home")
    page.wait_for_function(
        f"() => Array.from({FIGURES}).some(gd => JSON.stringify(gd.layout.title || '').includes('step 0:'))")
    _wait_long(page)
    assert markers() != before
    boundary = _figure_index(page, "step 0:")
    assert boundary >= 0

    # A coarser grid: the slice contours get fewer points.
    contours = _figure_index(page, "α along δ")
    n_before = len(_traces(page, contours)[0]["x"])
    res = page.locator('input[type="range"][aria-label="grid resolution (points per axis)"]')
    res.focus()
    page.keyboard.press("Home")  # 11 points per axis
    page.wait_for_function(
        f"(n) => Array.from({FIGURES}).some(gd => gd._fullData && gd._fullData.some("
        "t => t.type === 'contour' && t.x && t.x.length === n))", arg=11)
    _wait_long(page)
    assert len(_traces(page, _figure_index(page, "α along δ"))[0]["x"]) == 11 != n_before
    save_screenshot(page, "nn_landscape_coarse_step0")

    with page.expect_download() as download:
        page.get_by_role("button", name="Trajectories (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    columns = {"run", "step", "loss", "accuracy", "pc1", "pc2", "sharpness", "loss_on_plane"}
    assert rows and columns <= set(rows[0])


def test_nn_page_shared_link_for_iris_with_adam(app_url, page):
    page.set_default_timeout(180_000)
    query = ("dataset=iris&layers=1&width=16&steps=300&runs=1&o1_opt=adam&o1_adam_lr=0.02&res=31&sharp=10"
             "&step=300")
    page.goto(f"{app_url}/Neural_Net_Landscape?{query}")
    _wait_long(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentWarning"]').count() == 0  # every link value was valid
    boundary = _figure_index(page, "petal width")
    traces = _traces(page, boundary)
    assert traces[0]["type"] == "heatmap"
    species = sorted(t["name"] for t in traces if t["type"] == "scatter")
    assert species == ["setosa", "versicolor", "virginica"]
    assert "adaptive: no 2/lr line" in page.inner_text('[data-testid="stMainBlockContainer"]')
    save_screenshot(page, "nn_landscape_iris_adam")
