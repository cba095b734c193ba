"""The Neural net landscape page in a real browser: coarse views refined in place, the picked step rerunning
its fragment only, the step scrubbed with no request, the camera kept, every download opened and checked
against the page, and the PyTorch script run against the page's numbers.

Each chart is a live chart (lossviz.ui.live_plotly) in a component frame: the tests read it through the
frame of its key (``.st-key-<key> iframe``).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app

PLOT = "document.querySelector('.js-plotly-plot')"
SETTLED = (
    "(n) => { const app = document.querySelector('[data-testid=\"stApp\"]');"
    " const running = !app || app.getAttribute('data-test-script-state') !== 'notRunning';"
    " return !running && !document.querySelector('[data-testid=\"stProgress\"]')"
    " && window.__lvPlots().length >= n; }")


def _settle(page, charts: int = 9) -> None:
    """Wait until the run is over (the refined views drawn, no progress bar) and the page rests."""
    page.wait_for_function(SETTLED, arg=charts, timeout=180_000, polling=200)
    wait_for_app(page, timeout=180_000)


def _open(page, app_url, query: dict | None = None, charts: int = 9) -> None:
    page.set_default_timeout(180_000)
    page.add_init_script(INIT_SCRIPT)
    started = time.perf_counter()
    page.goto(f"{app_url}/Neural_Net_Landscape" + ("?" + urllib.parse.urlencode(query) if query else ""))
    _settle(page, charts)
    print(f"page settled {time.perf_counter() - started:.2f} s after the visit began")
    assert page.locator('[data-testid="stException"]').count() == 0


def _frame(page, key: str):
    element = page.locator(f".st-key-{key} iframe").first
    element.wait_for()
    frame = element.element_handle().content_frame()
    drawn = f"() => {{ const gd = {PLOT}; return gd && gd._fullData && gd._fullData.length; }}"
    frame.wait_for_function(drawn, timeout=60_000)
    return frame


def _traces(page, key: str) -> list[dict]:
    """The traces chart ``key`` draws now: name, type, x, y and customdata (arrays as lists)."""
    return _frame(page, key).evaluate(
        f"() => {PLOT}._fullData.map(t => ({{name: t.name, type: t.type, mode: t.mode,"
        " x: t.x ? Array.from(t.x) : null, y: t.y ? Array.from(t.y) : null,"
        " customdata: t.customdata ? Array.from(t.customdata).map(r => Array.from(r)) : null}))")


def _press(page, label: str, key: str) -> None:
    thumb = page.locator(f'input[type="range"][aria-label="{label}"]')
    thumb.focus()
    page.keyboard.press(key)


def _main_text(page) -> str:
    return page.inner_text('[data-testid="stMainBlockContainer"]')


def _downloaded(page, name: str, folder: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("button", name=name, exact=True).click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def test_every_download_holds_the_pages_numbers_and_the_script_prints_them(app_url, page, tmp_path):
    _open(page, app_url)
    save_screenshot(page, "nn_landscape")
    page.get_by_text("Equivalent PyTorch code").click()
    names = ["Slices (CSV)", "PCA plane grid (CSV)", "Trajectories (CSV)", "PyTorch script (.py)",
             "lossviz_nn_x1.csv", "lossviz_nn_x2.csv", "lossviz_nn_y.csv"]
    files = {name: _downloaded(page, name, tmp_path) for name in names}
    assert [p.name for p in files.values()] == ["lossviz_nn_slices.csv", "lossviz_nn_plane.csv",
                                                 "lossviz_nn_trajectories.csv", "lossviz_nn_train.py",
                                                 "lossviz_nn_x1.csv", "lossviz_nn_x2.csv", "lossviz_nn_y.csv"]
    # Trajectories: each run's loss and accuracy at every step, as the training curves draw them.
    table = pd.read_csv(files["Trajectories (CSV)"])
    curves = _traces(page, "nn_training")
    runs = list(dict.fromkeys(table["run"]))
    assert runs == [t["name"] for t in curves if t["type"] == "scatter"][::2]
    for index, run in enumerate(runs):
        rows = table[table["run"] == run]
        np.testing.assert_allclose(rows["loss"], curves[2 * index]["y"], rtol=1e-12)
        np.testing.assert_allclose(100 * rows["accuracy"], curves[2 * index + 1]["y"], rtol=1e-12)
    # Slices: every run's grid, as the contour maps colour them (their hover shows the loss itself).
    slices = pd.read_csv(files["Slices (CSV)"])
    maps = [t for t in _traces(page, "nn_slices") if t["type"] == "contour"]
    for run, contour in zip(runs, maps):
        grid = slices[slices["run"] == run]
        losses = grid["loss"].to_numpy().reshape(len(contour["y"]), -1)
        np.testing.assert_allclose(losses, contour["customdata"], rtol=1e-12)
        np.testing.assert_allclose(np.unique(grid["alpha"]), contour["x"], rtol=1e-12)
    # The PCA plane's grid, as its map.
    plane = pd.read_csv(files["PCA plane grid (CSV)"])
    contour = next(t for t in _traces(page, "nn_plane") if t["type"] == "contour")
    np.testing.assert_allclose(plane["loss"].to_numpy().reshape(len(contour["y"]), -1), contour["customdata"],
                               rtol=1e-12)
    # The data files: the standardized points the decision boundary shows.
    points = [t for t in _traces(page, "nn_decision_0") if t["type"] == "scatter"]
    x1 = pd.read_csv(files["lossviz_nn_x1.csv"])["x1"].to_numpy()
    labels = pd.read_csv(files["lossviz_nn_y.csv"])["y"].to_numpy()
    for cls, trace in enumerate(points):
        np.testing.assert_array_equal(np.sort(x1[labels == cls]), np.sort(trace["x"]))
    # The script, run beside its data: it prints each run's final loss and accuracy as the page does.
    result = subprocess.run([sys.executable, str(files["PyTorch script (.py)"])], capture_output=True,
                            text=True, timeout=900, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    shown = re.findall(r"(\d\. [^:]+): loss ([\d.]+), accuracy [\d.]+% \(([\d,]+) of ([\d,]+) samples\)",
                       _main_text(page))
    assert [p["run"] for p in printed] == [label for label, *_ in shown] == runs
    for p, (_, loss, right, total) in zip(printed, shown):
        assert abs(p["loss"] - float(loss)) < 1e-6
        assert abs(p["accuracy"] - int(right.replace(",", "")) / int(total.replace(",", ""))) < 1e-6


def test_a_training_change_draws_coarse_views_then_refines_them_in_place(app_url, page):
    _open(page, app_url)
    frame = _frame(page, "nn_slices")
    frame.evaluate(f"() => {{ {PLOT}.__kept = true; }}")  # a remounted chart would lose this
    started = time.perf_counter()
    _press(page, "units per hidden layer", "ArrowLeft")
    sizes = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and 51 not in sizes[1:]:
        size = frame.evaluate(f"() => {PLOT}._fullData[0].x.length")
        if not sizes or size != sizes[-1]:
            sizes.append(size)
            if size == 21:
                print(f"coarse views drawn {time.perf_counter() - started:.2f} s after the key press")
        page.wait_for_timeout(50)
    _settle(page)
    assert sizes[:1] == [51] and 21 in sizes and sizes[-1] == 51, sizes  # refined, coarse, refined
    assert frame.evaluate(f"() => {PLOT}.__kept === true")
    assert "2-31-31-2 tanh network" in _main_text(page)


def test_the_picked_step_reruns_its_part_only_and_the_scrubber_asks_nothing(app_url, page):
    _open(page, app_url)
    plane = _frame(page, "nn_plane")
    markers = (f"() => {PLOT}._fullData.filter(t => t.mode === 'markers' && !t.showlegend)"
               ".map(t => [t.x[0], t.y[0]])")
    at_end = plane.evaluate(markers)
    # The scrubber under the plane: every step is there already, nothing goes to the server.
    sent = page.evaluate("() => window.__lv.sent.length")
    plane.evaluate("() => { const s = document.getElementById('scrub-input'); s.value = '0';"
                   " s.dispatchEvent(new Event('input')); }")
    plane.wait_for_function(f"(end) => JSON.stringify(({markers})()) !== JSON.stringify(end)", arg=at_end)
    assert plane.inner_text("#scrub output") == "step 0"
    paths = [t for t in _traces(page, "nn_plane") if t["mode"] == "lines"]
    assert plane.evaluate(markers) == [[p["x"][0], p["y"][0]] for p in paths]  # each run at its start
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__lv.sent.length") == sent
    # The exact step on the server: only the fragment reruns (few messages), the decision boundaries follow.
    received = page.evaluate("() => window.__lv.recv.length")
    _press(page, "step shown on the plane and the decision boundary", "Home")
    boundary = _frame(page, "nn_decision_0")
    boundary.wait_for_function(f"() => {PLOT}._fullLayout.title.text.includes('step 0:')")
    _settle(page)
    fragment = page.evaluate("() => window.__lv.recv.length") - received
    received = page.evaluate("() => window.__lv.recv.length")
    _press(page, "sharpness: steps measured", "ArrowLeft")  # a full rerun, for comparison
    page.wait_for_timeout(500)
    _settle(page)
    full = page.evaluate("() => window.__lv.recv.length") - received
    assert fragment < full / 2, (fragment, full)
    assert "step=0" in page.url
    save_screenshot(page, "nn_landscape_step0")


def test_the_3d_slice_keeps_the_readers_camera_until_the_slice_itself_changes(app_url, page):
    _open(page, app_url)
    surface = _frame(page, "nn_slice_3d")
    initial = surface.evaluate(f"() => {PLOT}._fullLayout.scene.camera.eye")
    eye = {"x": 0.3, "y": 2.2, "z": 0.6}
    surface.evaluate(f"(eye) => Plotly.relayout({PLOT}, {{'scene.camera': {{eye}}}})", eye)
    _press(page, "grid resolution (points per axis)", "ArrowLeft")  # the same slice, sampled coarser
    page.wait_for_timeout(500)
    _settle(page)
    page.wait_for_timeout(800)  # a 3-D redraw waits for the settings to rest
    kept = surface.evaluate(f"() => {PLOT}._fullLayout.scene.camera.eye")
    assert abs(kept["x"] - 0.3) < 1e-6 and abs(kept["y"] - 2.2) < 1e-6, kept
    assert surface.evaluate(f"() => {PLOT}._fullData[0].x.length") == 49
    box = page.get_by_label("direction seed")
    box.fill("5")
    box.press("Enter")
    page.wait_for_timeout(500)
    _settle(page)
    page.wait_for_timeout(800)
    reset = surface.evaluate(f"() => {PLOT}._fullLayout.scene.camera.eye")
    assert abs(reset["x"] - initial["x"]) < 1e-6 and abs(reset["y"] - initial["y"]) < 1e-6, (reset, initial)


def test_a_shared_link_for_iris_with_adam_draws_its_preconditioned_sharpness(app_url, page):
    query = {"dataset": "iris", "layers": "1", "width": "16", "steps": "300", "runs": "1", "o1_opt": "adam",
             "o1_adam_lr": "0.02", "res": "31", "sharp": "10", "step": "300"}
    _open(page, app_url, query, charts=8)
    assert page.locator('[data-lv-notice="warning"]').count() == 0  # every link value was valid
    boundary = _traces(page, "nn_decision_0")
    assert boundary[0]["type"] == "heatmap"
    species = sorted(t["name"] for t in boundary if t["type"] == "scatter")
    assert species == ["setosa", "versicolor", "virginica"]
    sharp = _frame(page, "nn_sharpness").evaluate(
        f"() => {PLOT}._fullData.filter(t => t.yaxis === 'y2').map(t => [t.name, Array.from(t.y)])")
    limit = next(y for name, y in sharp if "adaptive limit" in name)
    np.testing.assert_allclose(limit, 38 / 0.02)
    assert "adaptive: no 2/lr line" in _main_text(page)
    save_screenshot(page, "nn_landscape_iris_adam")


def test_hostile_link_text_is_shown_as_typed_and_fetches_nothing(app_url, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    hostile = '<img src="http://evil.example/p.png"> [log in](http://evil.example)'
    _open(page, app_url, {"biases": hostile, "act": "**bold**", "steps": "60", "n": "200", "res": "11",
                          "sharp": "5"})
    notices = page.locator('[data-lv-notice="warning"]').all_inner_texts()
    assert any("“biases in the directions”" in n and "<img" in n for n in notices), notices
    assert any("“activation” = “**bold**”" in n for n in notices), notices
    assert page.locator('img[src*="evil.example"], a[href*="evil.example"]').count() == 0
    # The page's own address carries the hostile text in its query; no request may go to that host.
    assert not [u for u in requests if urllib.parse.urlparse(u).hostname == "evil.example"]
