"""Models on data in a real browser: the loss switch redraws the landscape (the 3-D view in its closed tab
once the tab opens), the step slider and a click near a path move the fit on the data, the learning-rate
scrubber replays other rates with no request, every download holds the page's numbers, scenarios load, an
uploaded CSV is used, refused, or shown literally when its names are hostile, and twenty uploads from
closed tabs do not pile up in the server's memory."""
import html
import io
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser import INIT_SCRIPT
from lossviz.lessons import models_on_data as dl
from tests.e2e.conftest import (CHROMIUM, CHROMIUM_FLAGS, PLOT, ROOT, _free_port, _wait_healthy, chart_frame,
                                chart_traces, downloaded, mark_charts, save_screenshot, save_screenshots,
                                still_mounted, wait_for_app)
from tests.pagetest import decode

FIT = "1. SGD (lr 0.1), step "


def _ready(page):
    wait_for_app(page)
    for key in ("data_contour", "data_view", "data_loss"):
        chart_frame(page, key)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0


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


# The 3-D view's loss grid as drawn (a few rows: enough to tell two losses apart).
SURFACE_Z = f"() => {PLOT}._fullData[0].z.slice(0, 3).map(row => Array.from(row))"


def _fit(page):
    return next(v | {"name": k} for k, v in chart_traces(page, "data_view").items() if k.startswith("1. "))


def _upload(page, name, content):
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content})


def test_loss_switch_step_click_scrubber_and_downloads(app_url, page):
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    save_screenshots(page, "models_default")

    # The 3-D tab: a live chart drawn in its frame at the tab's full width once the tab is shown, and not
    # before (its bundle and first draw were a second of the cold page that the charts shown waited for).
    assert page.evaluate("() => { const plot = document.querySelector('.st-key-data_surface iframe')"
                         ".contentDocument.getElementById('plot');"
                         " return [plot.dataset.unseen, Boolean(plot._fullLayout)]; }") == ["1", False]
    page.get_by_role("tab", name="Landscape (3-D)").click()
    chart_frame(page, "data_surface").wait_for_function(
        f"() => {PLOT}._fullData[0].type === 'surface' && {PLOT}.querySelector('canvas')"
        f" && {PLOT}.getBoundingClientRect().width > 300", timeout=60_000)
    page.wait_for_timeout(500)
    save_screenshot(page, "models_surface_tab")
    surface_mse = chart_frame(page, "data_surface").evaluate(SURFACE_Z)
    page.get_by_role("tab", name="Landscape (contour)").click()

    # The loss switch recomputes the surface: MSE -> MAE changes every value of the grid.
    before = chart_traces(page, "data_contour")["loss"]["z"]
    _choose(page, "loss", "Mean absolute error (MAE)")
    contour = chart_frame(page, "data_contour")
    star = "minimum of Mean absolute error (MAE)"
    contour.wait_for_function(f"() => {PLOT}._fullData.some(t => t.name === '{star}')", timeout=60_000)
    _ready(page)
    assert chart_traces(page, "data_contour")["loss"]["z"] != before

    # The 3-D view's tab is closed: its new figure waits undrawn, and opening the tab draws that one.
    surface = chart_frame(page, "data_surface")
    assert surface.evaluate(f"() => [{PLOT}.dataset.unseen, {PLOT}.dataset.draws]") == ["1", "1"]
    page.get_by_role("tab", name="Landscape (3-D)").click()
    surface.wait_for_function(f"() => !{PLOT}.dataset.unseen && Number({PLOT}.dataset.draws) >= 2",
                              timeout=60_000)
    assert surface.evaluate(SURFACE_Z) != surface_mse
    page.get_by_role("tab", name="Landscape (contour)").click()

    # The step slider moves the fitted line on the data beside the map.
    line_at_0 = _fit(page)
    assert line_at_0["name"] == FIT + "0"
    slider = 'input[type="range"][aria-label^="step on the trajectory"]'
    page.locator(slider).focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    chart_frame(page, "data_view").wait_for_function(
        f"() => {PLOT}._fullData.some(t => t.name === '{FIT}5')", timeout=60_000)
    _ready(page)
    assert _fit(page)["y"] != line_at_0["y"]
    save_screenshot(page, "models_mae_step5")

    # A click near the path picks that step: the path's point at step 30, in the page's pixels.
    contour = chart_frame(page, "data_contour")
    inside = contour.evaluate(
        f"""() => {{ const gd = {PLOT}; const t = gd._fullData.find(d => d.name.startsWith('pick step'));
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            return {{x: xa._offset + xa.l2p(t.x[30]), y: ya._offset + ya.l2p(t.y[30])}}; }}""")
    frame_box = page.locator(".st-key-data_contour iframe").bounding_box()
    x, y = frame_box["x"] + inside["x"], frame_box["y"] + inside["y"]
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_function(f"() => document.querySelector('{slider}').value !== '5'", timeout=60_000)
    _ready(page)
    picked = int(page.locator(slider).input_value())
    assert abs(picked - 30) <= 3  # neighbouring steps overlap under the pointer
    assert _fit(page)["name"] == FIT + str(picked)

    # The learning-rate scrubber under the map: every rate's path is in the browser; no request is sent.
    contour = chart_frame(page, "data_contour")
    assert contour.locator("#scrub output").inner_text() == "lr = 0.1 (× 1)"
    exact = chart_traces(page, "data_contour")["1. SGD (lr 0.1)"]
    sent = page.evaluate("() => window.__lv.sent.length")
    contour.evaluate("() => { const s = document.getElementById('scrub-input'); s.value = '0';"
                     " s.dispatchEvent(new Event('input')); }")
    contour.wait_for_function(f"() => {PLOT}._fullData.find(t => t.name === '1. SGD (lr 0.1)').x[5]"
                              f" !== {exact['x'][5]}", timeout=10_000)
    assert contour.locator("#scrub output").inner_text() == "lr = 0.01 (× 0.1)"
    assert contour.evaluate(f"() => {PLOT}._fullData.find(t => t.name === 'chosen step').visible") is False
    page.wait_for_timeout(800)
    assert page.evaluate("() => window.__lv.sent.length") == sent
    save_screenshot(page, "models_scrubbed_lr")

    # Every download holds the page's numbers.
    data = dl.load_dataset("linear", ["x"], n_samples=100, noise=0.5, seed=0)
    land = dl.build(data, "mae")
    trajectories = pd.read_csv(io.StringIO(downloaded(page, "Trajectories (CSV)")))
    np.testing.assert_allclose(trajectories["slope"], exact["x"], rtol=1e-15)  # the path at the exact rate
    np.testing.assert_allclose(trajectories["intercept"], exact["y"], rtol=1e-15)
    losses = land.model.f(trajectories[["slope", "intercept"]].to_numpy())
    np.testing.assert_allclose(trajectories["loss"], losses, rtol=1e-12)
    grid = pd.read_csv(io.StringIO(downloaded(page, "Landscape grid (CSV)")), index_col=0)
    assert grid.index.name == "intercept \\ slope"  # the corner names the rows' axis, then the columns'
    xs, ys = grid.columns.astype(float).to_numpy(), grid.index.to_numpy()
    np.testing.assert_allclose(grid.to_numpy(), dl.grid(land, xs, ys), rtol=1e-12)
    np.testing.assert_allclose(xs, chart_traces(page, "data_contour")["loss"]["x"], rtol=1e-15)
    model_data = pd.read_csv(io.StringIO(downloaded(page, "Model data (CSV)")))
    pd.testing.assert_frame_equal(model_data, dl.model_data_frame(land), check_exact=True)
    page_html = downloaded(page, "Landscape figure (HTML)")
    figure = json.loads(html.unescape(re.search(r'id="figure-data">(.*?)</script>', page_html, re.S).group(1))
                        .replace("<\\/", "</"))
    np.testing.assert_allclose(decode(figure["data"][0]["x"]), xs, rtol=1e-15)
    assert any(t.get("name", "").startswith("minimum of Mean absolute error") for t in figure["data"])
    assert figure["layout"]["xaxis"]["title"]["text"].startswith("slope w")


def test_scenarios_load_and_show_their_lesson(app_url, page):
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    charts = ["data_contour", "data_view", "data_loss"]
    mark_charts(page, charts)
    for title, shot in (("An outlier drags MSE", "models_outlier"),
                        ("Squared error through a sigmoid stalls", "models_sigmoid_mse"),
                        ("0-1 loss has no gradient", "models_zero_one")):
        _choose(page, "scenario", title)
        page.get_by_role("button", name="Load scenario").click()
        page.get_by_text(title + ".", exact=False).first.wait_for(timeout=60_000)
        _ready(page)
        save_screenshots(page, shot)
    assert any(n.startswith("class:") for n in chart_traces(page, "data_view"))
    # Three scenarios, a robust table and verdicts coming and going above and between them: the same charts.
    assert still_mounted(page, charts) == charts


GOOD_CSV = "hours,score,passed\n" + "".join(
    f"{h},{50 + 4 * h + (7 if h % 3 == 0 else -5)},{'yes' if h > 6 else 'no'}\n" for h in range(1, 16))
HOSTILE = ['<a href="http://evil.example/login">log in</a>', "[log in](http://evil.example/x)",
           '=HYPERLINK("http://evil.example")']


def test_upload_a_csv_a_hostile_one_and_a_bad_one(app_url, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{app_url}/Models_on_Data")
    _ready(page)
    _choose(page, "dataset", "Your own CSV file")
    assert page.get_by_text("Upload a CSV file in the sidebar").count() == 1

    _upload(page, "study.csv", GOOD_CSV.encode())
    page.get_by_role("combobox", name="target column", exact=True).wait_for(timeout=60_000)
    _ready(page)
    assert page.get_by_text("Target chosen for you: 'passed' is the last column").count() == 1
    _choose(page, "target column", "score")
    _choose(page, "feature", "hours")
    _ready(page)
    names = list(chart_traces(page, "data_view"))
    assert "data" in names and any(n.startswith("1. ") for n in names)
    save_screenshots(page, "models_csv_regression")

    # Column names and a file name that are markup and formulas: shown as typed, obeyed nowhere.
    header = ",".join('"' + n.replace('"', '""') + '"' for n in HOSTILE)
    rows = "".join(f"{i},{2 * i + (i % 3)},{'ab'[i % 2]}\n" for i in range(20))
    _upload(page, "<img src=x onerror=alert(1)>.csv", (header + "\n" + rows).encode())
    page.get_by_role("combobox", name="target column", exact=True).wait_for(timeout=60_000)
    _ready(page)
    _choose(page, "target column", HOSTILE[1])
    _ready(page)
    view = chart_frame(page, "data_view")
    assert HOSTILE[0] in view.locator(".xtitle").text_content()  # the characters of the link, as a title
    for frame in page.frames:
        assert frame.locator('a[href*="evil.example"], img[src*="evil.example"]').count() == 0
    assert page.get_by_text("“<img src=x onerror=alert(1)>.csv”", exact=False).count() >= 1
    assert page.locator("img[onerror]").count() == 0
    model_data = downloaded(page, "Model data (CSV)").splitlines()[0]
    assert "'=HYPERLINK" in model_data or "=HYPERLINK" not in model_data
    assert not [url for url in requests if "evil.example" in url]
    save_screenshots(page, "models_csv_hostile")

    bad = "name;value\n".encode() + "café;1\n".encode() * 6 + "café;1\n".encode("latin-1") * 6
    _upload(page, "latin.csv", bad)
    page.get_by_text("“latin.csv” was refused: The file is not UTF-8 text").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.locator(".st-key-data_contour iframe").count() == 0  # nothing of the last file is drawn
    assert page.locator('[data-testid="stException"]').count() == 0
    save_screenshot(page, "models_csv_refused")


def test_projector_mode_puts_the_map_and_its_scrubber_on_the_first_screen(app_url, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{app_url}/Models_on_Data?present=1")
    _ready(page)
    page.wait_for_timeout(500)
    save_screenshot(page, "models_projector_1366")
    box = page.locator(".st-key-data_contour iframe").bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    assert chart_frame(page, "data_contour").locator("#scrub").is_visible()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _large_csv(seed: int, rows: int = 100_000) -> bytes:
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=rows), rng.normal(size=rows)
    y = 2 * x + rng.normal(size=rows)
    label = np.where(y > 0, "yes", "no")
    return ("x,z,label,y\n" + "".join(f"{a:.6f},{b:.6f},{c},{d:.6f}\n" for a, b, c, d in zip(x, z, label, y))
            ).encode()


@pytest.fixture(scope="module")
def own_server():
    """A server of its own, so its memory is this test's alone (the project's settings: a closed tab's
    session is kept 30 s for reconnecting). It collects garbage after every script run, as Streamlit does by
    default: the app turns that off for speed (.streamlit/config.toml), which leaves freeing to Python's
    generational collector, whose full passes come every few cycles here and make readings swing by 60-90 MB
    (a sawtooth: it failed the trend below on a run whose last readings sat at a peak). glibc's malloc adds
    its own sawtooth: after a large block is freed it raises the size above which blocks are mapped (and
    unmapped when freed), so the next files' arrays land in the heap, which shrinks only when its top is
    free; a fixed threshold (128 KiB, glibc's starting value) returns every large block when it is freed.
    What is judged is what stays reachable after a tab closes, not when the collector or the allocator gets
    round to the rest."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false", "--runner.postScriptGC", "true"],
                            cwd=ROOT, env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_twenty_uploads_from_closed_tabs_do_not_pile_up_in_memory(own_server, playwright):
    """Issue 14 hole 7: each cycle opens a tab, uploads a different 3 MB file, waits for the figures and
    closes the tab. What the page computed from the file lives in caches of the session, and the file's
    bytes are released when it disconnects, so memory stays level after the first few cycles instead of
    growing by the file (and its parsed table) every time."""
    url, pid = own_server
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    rss = []
    try:
        for cycle in range(20):
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            page = context.new_page()
            page.goto(f"{url}/Models_on_Data?source=csv")
            # The uploader takes a file as soon as it is on the screen (its value reruns the page whatever
            # the first run is doing); waiting for the whole page to settle first cost ~1.5 s a cycle.
            page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached",
                                   timeout=60_000)
            _upload(page, f"large_{cycle}.csv", _large_csv(cycle))
            chart_frame(page, "data_view", timeout=120_000)
            wait_for_app(page)
            context.close()
            time.sleep(0.5)
            rss.append(_rss_mb(pid))
    finally:
        browser.close()
    size = len(_large_csv(0)) / 2**20
    print("server RSS (MB) after each cycle:", [round(r) for r in rss], f"file {size:.1f} MB")
    # Kept, each closed tab would add its file and its parsed table (about 6 MB a cycle here, measured
    # before the fix); released, memory levels off after the first few cycles. With the server above,
    # single readings swing by a few MB (2026-12-06: 227-237 MB over twenty cycles; without the fixed
    # threshold and the collection, 270-420 MB in a sawtooth), and the trend over the last fifteen cycles is
    # what is judged: it must stay under what the raw file alone would add per cycle.
    slope = np.polyfit(np.arange(5, len(rss)), rss[5:], 1)[0]
    assert slope < size, (slope, rss)
