"""The Momentum page in a real browser: the momentum scrubber replays every β in the browser, a click on a
phase-map cell shows that run (rerunning the phase map's part only), the mini-map's Play sits below its
axis title, the start's legend entry is visible, and every download holds the page's numbers."""
import re

import numpy as np
import pandas as pd

from bench.browser import INIT_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app
from tests.e2e.live import keyed_frame, received

RAVINE = "() => window.__lvPlots().find(gd => gd.ownerDocument.querySelector('#scrub label').textContent"\
         " === 'momentum β')"
PHASE = "() => window.__lvPlots().find(gd => gd._fullData[0].type === 'heatmap')"
CELL = ("() => window.__lvPlots().find(gd => gd._fullData[0].type === 'contour'"
        " && gd._fullLayout.sliders.length)")


def _open(page, app_url, query=""):
    page.add_init_script(INIT_SCRIPT)
    page.goto(f"{app_url}/Momentum{query}")
    page.wait_for_function("() => window.__lvPlots().length === 4", timeout=90_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def _paths(page, finder=RAVINE):
    page.wait_for_function(f"() => Boolean(({finder})())", timeout=30_000)
    return page.evaluate(f"() => Object.fromEntries(({finder})()._fullData"
                         ".filter(t => (t.mode || '').includes('lines'))"
                         ".map(t => [t.name, [Array.from(t.x), Array.from(t.y)]]))")


def test_the_momentum_scrubber_replays_every_beta_in_the_browser(app_url, page):
    _open(page, app_url)
    before, url, sent = _paths(page), page.url, page.evaluate("() => window.__lv.sent.length")
    assert set(before) == {"no momentum (GD)", "heavy ball", "Nesterov"}
    page.evaluate(f"() => {{ const input = ({RAVINE})().ownerDocument.querySelector('#scrub-input');"
                  " input.value = '15'; input.dispatchEvent(new Event('input')); }")
    page.wait_for_function(f"() => ({RAVINE})().dataset.scrub === '15'", timeout=10_000)
    label = page.evaluate(f"() => ({RAVINE})().ownerDocument.querySelector('#scrub output').textContent")
    assert label == "β = 0.3", label
    # The scrubbed panels' titles count the runs they now show (the unit tests check the words).
    page.wait_for_function(
        f"() => ({RAVINE})().layout.annotations[1].text.startsWith('heavy ball (β = 0.3)')", timeout=10_000)
    titles = page.evaluate(f"() => ({RAVINE})().layout.annotations.map(a => a.text.split('<br>')[0])")
    assert titles == ["no momentum (GD)", "heavy ball (β = 0.3)", "Nesterov (β = 0.3)"]
    after = _paths(page)
    assert after["no momentum (GD)"] == before["no momentum (GD)"]  # gradient descent has no momentum
    assert after["heavy ball"] != before["heavy ball"] and after["Nesterov"] != before["Nesterov"]
    # At beta 0.3 Nesterov is still unstable at this lr; the exact run's marks are hidden while scrubbed.
    assert page.url == url and page.evaluate("() => window.__lv.sent.length") == sent
    save_screenshot(page, "momentum_page_after_scrubber")


def test_a_click_on_a_cell_shows_its_run_and_reruns_only_the_phase_map(app_url, page):
    _open(page, app_url)

    def pick_scenario():
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name=re.compile("^Too much momentum")).click()

    full = received(page, pick_scenario)  # a full rerun that changes no figure
    target = page.evaluate(
        f"""() => {{ const gd = ({PHASE})(); const heat = gd._fullData[0];
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const frame = [...document.querySelectorAll('iframe')]
            .find(f => f.contentDocument === gd.ownerDocument);
          frame.scrollIntoView({{block: 'center'}});
          const box = frame.getBoundingClientRect();
          return {{x: box.x + xa._offset + xa.d2p(heat.x[12]), y: box.y + ya._offset + ya.d2p(heat.y[20]),
                   lr: heat.x[12], beta: heat.y[20]}}; }}""")

    def click():
        page.mouse.click(target["x"], target["y"])
        page.wait_for_function("() => document.body.innerText.includes('Clicked cell')", timeout=30_000)

    fragment = received(page, click)
    assert "cell_row=20" in page.url and "cell_col=12" in page.url
    assert fragment < full / 2, (fragment, full)
    caption = page.get_by_text(re.compile("^Clicked cell")).inner_text()
    assert f"lr {target['lr']:.4g}, β {target['beta']:.3f}" in caption
    run = page.evaluate(f"() => ({CELL})()._fullData.find(t => t.mode === 'lines').name")
    assert run.split(",")[0] in caption
    selected = page.evaluate(f"() => ({PHASE})()._fullData.find(t => t.name === 'selected run').x[0]")
    assert abs(selected - target["lr"]) < 1e-9 * target["lr"]
    save_screenshot(page, "momentum_page_cell_clicked")


def _box(page, finder, selector):
    return page.evaluate(f"(sel) => {{ const el = ({finder})().querySelector(sel); if (!el) return null;"
                         " const b = el.getBoundingClientRect();"
                         " return [b.left, b.top, b.right, b.bottom]; }",
                         selector)


def _apart(a, b):
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def test_the_mini_maps_play_controls_clear_its_axis_title_and_the_start_shows_in_the_legend(app_url, page):
    """Issue 13: Play/Pause overlapped the mini-map's x-axis label; the "start" legend entry had no marker."""
    _open(page, app_url)
    title, buttons = _box(page, CELL, ".g-xtitle"), _box(page, CELL, ".updatemenu-container")
    slider, ticks = _box(page, CELL, ".slider-container"), _box(page, CELL, ".xaxislayer-above")
    assert title and buttons and slider and ticks
    assert _apart(title, buttons) and _apart(title, slider)
    assert _apart(buttons, slider) and _apart(ticks, buttons)
    assert buttons[1] >= title[3]  # below the title
    stroke = page.evaluate(
        f"() => {{ const gd = ({CELL})(); const item = [...gd.querySelectorAll('.legend .traces')]"
        ".find(t => t.textContent.trim() === 'start');"
        " const point = item.querySelector('.legendpoints path');"
        " const style = getComputedStyle(point); return [style.stroke, style.fill, point.getBBox().width]; }")
    assert stroke[0] not in ("rgb(255, 255, 255)", "none", "") and stroke[2] > 5, stroke
    save_screenshot(page, "momentum_page")


def _download(page, button):
    with page.expect_download() as download:
        page.get_by_role("button", name=button, exact=True).click()
    return download.value


def test_every_download_holds_the_pages_numbers(app_url, page):
    _open(page, app_url, "?lr=0.5&momentum=0.9")
    paths = _paths(page)
    file = _download(page, "Trajectories (CSV)")
    assert file.suggested_filename == "lossviz_momentum_trajectories.csv"
    table = pd.read_csv(file.path())
    for method, name in (("no momentum (GD)", "no momentum (GD)"), ("heavy ball β=0.9", "heavy ball"),
                         ("Nesterov β=0.9", "Nesterov")):
        rows = table[table["method"] == method].sort_values("step")
        np.testing.assert_allclose(rows["x"], paths[name][0], rtol=1e-12)
        np.testing.assert_allclose(rows["y"], paths[name][1], rtol=1e-12)

    file = _download(page, "Phase map (CSV)")
    assert file.suggested_filename == "lossviz_phase_map.csv"
    cells = pd.read_csv(file.path())
    heat = page.evaluate(f"() => {{ const t = ({PHASE})()._fullData[0];"
                         " return [Array.from(t.x), Array.from(t.y), t.z.map(r => Array.from(r))]; }")
    lrs, momenta = np.array(heat[0]), np.array(heat[1])
    z = np.array([[np.nan if v is None else v for v in row] for row in heat[2]], dtype=float)
    assert len(cells) == lrs.size * momenta.size == 64 * 64
    np.testing.assert_allclose(np.sort(cells["lr"].unique()), lrs, rtol=1e-12)
    np.testing.assert_allclose(np.sort(cells["momentum"].unique()), momenta, rtol=1e-12)
    # The map colours log10(final loss - minimum) (the minimum is 0 here): the same numbers as the file's.
    final = cells["final_loss"].to_numpy().reshape(momenta.size, lrs.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.log10(np.where(final > 0, final, np.nan))
    shown = np.isfinite(z)
    assert shown.sum() > 1000
    np.testing.assert_allclose(z[shown], expected[shown], rtol=1e-9)


def test_a_rerun_redraws_only_the_charts_whose_figure_changed(app_url, page):
    """The momentum β moves the three runs and their rates, not the phase map: its figure (its own
    cached sweep) reaches the browser unchanged and is not drawn again, which would cost a press tens of
    milliseconds of the browser's main thread."""
    _open(page, app_url)
    draws = ("(finder) => { const gd = eval(finder)(); return Number(gd.dataset.draws || 0); }")
    before = {name: page.evaluate(draws, f) for name, f in (("ravine", RAVINE), ("phase", PHASE))}
    slider = page.locator('.st-key-momentum input[type="range"], .st-key-momentum [role="slider"]').first
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {{ const gd = ({RAVINE})(); "
                           f"return gd && Number(gd.dataset.draws || 0) > {before['ravine']}; }}",
                           timeout=30_000)
    wait_for_app(page)
    assert page.evaluate(draws, PHASE) == before["phase"]


def test_the_momentum_slider_reruns_the_three_runs_alone(app_url, page):
    """β sets the three runs, not the phase map (which covers every β): a press reruns the runs' part of
    the page (a fragment), a fraction of the messages of a full rerun, and the link follows."""
    _open(page, app_url)

    def pick_scenario():  # a full rerun that changes no figure
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name=re.compile("^Too much momentum")).click()

    full = received(page, pick_scenario)
    ravine = keyed_frame(page, "ravine_chart")

    def press():
        revision = ravine.evaluate("() => document.getElementById('plot').dataset.revision")
        slider = page.locator('.st-key-momentum input[type="range"], .st-key-momentum [role="slider"]').first
        slider.focus()
        page.keyboard.press("ArrowRight")
        ravine.wait_for_function("(r) => document.getElementById('plot').dataset.revision !== r",
                                 arg=revision, timeout=30_000)

    # The first move leaves the default scenario: the runs' part redraws the lesson above, in its place, as
    # a note that says so (no whole-page rerun).
    first = received(page, press)
    assert first < full / 2, (first, full)
    assert page.get_by_text(re.compile("loaded, then changed")).count() == 1
    before = _paths(page)
    fragment = received(page, press)  # β 0.61 -> 0.62
    assert fragment < full / 2, (fragment, full)
    assert "momentum=0.62" in page.url
    after = _paths(page)
    assert after["heavy ball"] != before["heavy ball"] and after["Nesterov"] != before["Nesterov"]
    assert after["no momentum (GD)"] == before["no momentum (GD)"]  # plain GD has no β
