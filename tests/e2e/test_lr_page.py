"""The Learning rate page in a real browser: every figure drawn, a slider moves the sweep, the rate and peak
scrubbers replay in the browser without asking the server, a sweep control reruns only its own part, and
every download is the file it names, holding the page's numbers."""
import re

import numpy as np
import pandas as pd
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app

CHARTS = 5
# A live chart by what it shows: the race (its scrubber says "learning rates"), the schedules ("peak
# learning rate"), the sweep (its measured curve).
BY_SCRUB = ("(label) => window.__lvPlots().find(gd =>"
            " gd.ownerDocument.querySelector('#scrub label').textContent === label)")
SWEEP = ("() => window.__lvPlots().find(gd =>"
         " gd._fullData.some(t => t.name === 'measured final loss − minimum'))")
TITLES = f"(label) => ({BY_SCRUB})(label).layout.annotations.map(a => a.text)"
MEASURED = (f"() => {{ const gd = ({SWEEP})();"
            " return gd && gd._fullData.find(t => t.name.startsWith('measured')); }")


def _open(page, app_url, query=""):
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Learning_Rate{query}")
    page.wait_for_function(f"() => window.__lvPlots().length === {CHARTS}", timeout=90_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _traces(page, finder, arg, mode="lines+markers"):
    """name -> [x, y] of the traces of ``mode`` in the chart ``finder`` picks (once drawn and current)."""
    page.wait_for_function(f"(arg) => Boolean(({finder})(arg))", arg=arg, timeout=30_000)
    return page.evaluate(
        f"([arg, mode]) => Object.fromEntries(({finder})(arg)._fullData.filter(t => t.mode === mode)"
        ".map(t => [t.name, [Array.from(t.x), Array.from(t.y)]]))", [arg, mode])


def _measured(page):
    """The sweep's measured final losses as the browser draws them (once the chart is current)."""
    return page.evaluate(f"async () => {{ let t = ({MEASURED})();"
                         f" while (!t) {{ await new Promise(r => setTimeout(r, 100)); t = ({MEASURED})(); }}"
                         " return Array.from(t.y); }")


def _scrub(page, label, position):
    """Move the scrubber under chart ``label`` to ``position`` as a drag does (an input event); return the
    last position and the label the scrubber then shows."""
    last = page.evaluate(
        f"([label, i]) => {{ const doc = ({BY_SCRUB})(label).ownerDocument;"
        " const input = doc.querySelector('#scrub-input'); input.value = String(i);"
        " input.dispatchEvent(new Event('input')); return Number(input.max); }", [label, position])
    page.wait_for_function(f"([label, i]) => ({BY_SCRUB})(label).dataset.scrub === String(i)",
                           arg=[label, position], timeout=10_000)
    return last, page.evaluate(f"(label) => ({BY_SCRUB})(label).ownerDocument.querySelector('#scrub output')"
                               ".textContent", label)


def test_figures_slider_scenario_and_screenshots(app_url, page):
    _open(page, app_url)
    before = _measured(page)
    assert len(before) == 300
    assert page.evaluate(f"() => ({SWEEP})()._fullData.find(t => t.name === '2/λ_max = 2').x[0]") == 2.0

    # The steps slider: more steps, lower final losses below the line (read from the browser's figure).
    thumb = page.locator('input[type="range"][aria-label="steps"]')
    thumb.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(old) => {{ const t = ({MEASURED})(); return t && t.y[10] !== old; }}",
                           arg=before[10], timeout=30_000)
    wait_for_app(page)
    after = _measured(page)
    assert after[100] < before[100]

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
    page.wait_for_function("() => document.body.innerText.includes('survive the sharpest place')",
                           timeout=30_000)
    wait_for_app(page)
    assert "surface=rosenbrock" in page.url
    save_screenshot(page, "lr_page_rosenbrock")


def test_the_scrubbers_replay_every_rate_in_the_browser(app_url, page):
    """Issue 16: the page's main knob, the learning rate, scrubbed client-side from frames of one run call;
    each position shows the exact rates it draws, and no message reaches the server."""
    _open(page, app_url)
    exact = _traces(page, BY_SCRUB, "learning rates")
    titles = page.evaluate(TITLES, "learning rates")
    sent = page.evaluate("() => window.__lv.sent.length")
    last, label = _scrub(page, "learning rates", 0)
    assert label.startswith("× 0.5: lr 0.25, 0.75, 0.9091, 1.05")
    # Each panel's title names the rate it now shows and how that run ended (the unit tests check the
    # words against exact runs): the 1.05 x run, which ended above its start, converges at half its rate.
    page.wait_for_function(f"(label) => ({TITLES})(label)[0].startsWith('lr 0.25 ')", arg="learning rates")
    halved = page.evaluate(TITLES, "learning rates")
    assert [t.split("<br>")[0] for t in halved] == [
        "lr 0.25 (0.5 × lr 0.5)", "lr 0.75 (0.5 × lr 1.5)", "lr 0.9091 (0.5 × lr 1.818)",
        "lr 1.05 (0.5 × lr 2.1)"]
    assert "ended above its start" in titles[3] and halved[3].split("<br>")[1].startswith("final loss − min")
    page.wait_for_timeout(300)
    scaled = _traces(page, BY_SCRUB, "learning rates")
    assert scaled.keys() == exact.keys()
    for name in exact:
        assert scaled[name][0] != exact[name][0]
    # At half the rate, 1.05 x 2/lambda_max is 0.525 x: its path no longer leaves the view.
    over = next(name for name in scaled if "1.05 ×" in name)
    assert np.nanmax(np.abs(np.array(scaled[over][0], dtype=float))) < 3.0
    assert np.nanmax(np.abs(np.array(exact[over][0], dtype=float))) > 3.0
    _, label = _scrub(page, "learning rates", last // 2)
    assert label.startswith("× 1: lr 0.5, 1.5, 1.818, 2.1")
    page.wait_for_timeout(300)
    assert _traces(page, BY_SCRUB, "learning rates") == exact
    assert page.evaluate(TITLES, "learning rates") == titles
    # The peak of every schedule, likewise.
    paths = _traces(page, BY_SCRUB, "peak learning rate")
    rates = _traces(page, BY_SCRUB, "peak learning rate", "lines")
    _, label = _scrub(page, "peak learning rate", 0)
    assert label == "peak lr 0.95 (0.475 × 2/λ_max)"
    page.wait_for_timeout(300)
    assert _traces(page, BY_SCRUB, "peak learning rate") != paths
    halved = _traces(page, BY_SCRUB, "peak learning rate", "lines")
    for name, (steps, lr) in rates.items():
        if name.startswith("lr: "):  # each schedule's rate per step, now at half its peak
            assert halved[name][0] == steps and np.allclose(halved[name][1], np.array(lr) / 2)
    assert page.evaluate("() => window.__lv.sent.length") == sent
    save_screenshot(page, "lr_page_scrubbed")


def test_a_sweep_control_reruns_only_the_sweep(app_url, page):
    """Issue 16: a control that affects one part reruns that part. A full rerun (a scenario picked in the
    box, nothing drawn changes) receives every element again; the sweep's spacing, only its own section's."""
    _open(page, app_url)

    def received(action):
        before = page.evaluate("() => window.__lv.recv.length")
        action()
        page.wait_for_timeout(500)
        wait_for_app(page)
        return page.evaluate("() => window.__lv.recv.length") - before

    def pick_scenario():
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name=re.compile("^Decay settles")).click()

    def log_spacing():
        page.get_by_test_id("stRadioGroup").get_by_text("log").first.click()
        page.wait_for_function(
            f"() => {{ const gd = ({SWEEP})(); return gd && gd._fullLayout.xaxis.type === 'log'; }}",
            timeout=30_000)

    full = received(pick_scenario)
    fragment = received(log_spacing)
    assert fragment < full / 2, (fragment, full)
    assert "axis=log" in page.url  # the fragment writes the link too


def _download(page, button):
    with page.expect_download() as download:
        page.get_by_role("button", name=button, exact=True).click()
    return download.value


def test_every_download_holds_the_pages_numbers(app_url, page):
    _open(page, app_url)
    race = _traces(page, BY_SCRUB, "learning rates")
    file = _download(page, "Trajectories (CSV)")
    assert file.suggested_filename == "lossviz_lr_trajectories.csv"
    table = pd.read_csv(file.path())
    assert set(table["label"]) == set(race)
    for label, (x, y) in race.items():
        rows = table[table["label"] == label].sort_values("step")
        np.testing.assert_allclose(rows["x"], x, rtol=1e-12)
        np.testing.assert_allclose(rows["y"], y, rtol=1e-12)

    file = _download(page, "Sweep (CSV)")
    assert file.suggested_filename == "lossviz_lr_sweep.csv"
    sweep = pd.read_csv(file.path())
    page.wait_for_function(MEASURED, timeout=30_000)
    drawn = page.evaluate(f"() => {{ const t = ({MEASURED})(); return [Array.from(t.x), Array.from(t.y)]; }}")
    np.testing.assert_allclose(sweep["lr"], drawn[0], rtol=1e-12)
    shown = np.array([np.nan if v is None else v for v in drawn[1]], dtype=float)
    gap = sweep["final_gap"].to_numpy()
    both = np.isfinite(shown)
    np.testing.assert_allclose(gap[both], shown[both], rtol=1e-12)

    schedules = _traces(page, BY_SCRUB, "peak learning rate")
    file = _download(page, "Schedule trajectories (CSV)")
    assert file.suggested_filename == "lossviz_lr_schedules.csv"
    table = pd.read_csv(file.path())
    names = list(dict.fromkeys(table["schedule"]))  # in the page's order, as the maps are
    assert len(names) == len(schedules) == 11
    for name, (x, y) in zip(names, schedules.values()):
        rows = table[table["schedule"] == name].sort_values("step")
        np.testing.assert_allclose(rows["x"], x, rtol=1e-12)
        np.testing.assert_allclose(rows["y"], y, rtol=1e-12)
    save_screenshot(page, "lr_page")


# Each chart's Plotly.react timed (absolute ms), and the page's painted frames.
DRAWS = """() => { window.__draws = []; window.__paints = [];
  const now = () => performance.timeOrigin + performance.now();
  const paint = () => { window.__paints.push(now()); requestAnimationFrame(paint); };
  requestAnimationFrame(paint);
  for (const f of document.querySelectorAll('iframe')) {
    const w = f.contentWindow, plot = w && w.document.getElementById('plot');
    if (!plot || !w.Plotly || w.__timed) continue;
    w.__timed = true;
    const react = w.Plotly.react;
    w.Plotly.react = function (...args) {
      const start = now();
      return react.apply(this, args).then((gd) => {
        window.__draws.push([plot.dataset.key, start, now()]); return gd; });
    };
  } }"""


def test_the_race_map_is_painted_before_the_other_charts_redraw(app_url, page):
    """Issue 16: a step press redraws all five charts; the race map (the page's main figure) reaches the
    screen first. Before, the browser drew the race map, then the curves, the sweep and the schedules in
    the tasks that followed, and painted once at the end: the race map waited for all of them."""
    _open(page, app_url)
    page.evaluate(DRAWS)
    page.locator('.st-key-steps input[type="range"]').first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new Set(window.__draws.map(d => d[0])).size === 5", timeout=60_000)
    draws, paints = page.evaluate("() => [window.__draws, window.__paints]")
    race = next(d for d in draws if d[0] == "race_map")
    others = [d for d in draws if d[0] != "race_map"]
    painted = min(t for t in paints if t >= race[2])  # the first frame after the race map was drawn
    assert all(start >= painted for _, start, _ in others), (race, painted, others)
