"""The Surface Explorer's defects a new user met (issue 13), each checked where it shows: in a browser."""
from __future__ import annotations

import re
import urllib.parse
from html.parser import HTMLParser

from bench.browser import PLOTS_SCRIPT
from tests.e2e.conftest import save_screenshot, wait_for_app

SURFACE = "() => window.__lvPlots().find(gd => gd._fullData[0].type === 'surface')"
CONTOUR = "() => window.__lvPlots().find(gd => gd._fullData[0].type === 'contour')"


def _open(page, app_url, query: dict | None = None, charts: int = 4):
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer" + ("?" + urllib.parse.urlencode(query) if query else ""))
    wait_for_app(page)
    if charts:
        page.wait_for_function(f"() => window.__lvPlots().length >= {charts}", timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def _press(page, label: str, key: str = "ArrowRight", times: int = 1) -> None:
    thumb = page.locator(f'input[type="range"][aria-label="{label}"]')
    thumb.focus()
    for _ in range(times):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    wait_for_app(page)


def test_the_contour_figure_downloads_as_html_holding_the_maps_data(app_url, page, tmp_path):
    _open(page, app_url)
    with page.expect_download() as download:
        page.get_by_role("button", name="Contour figure (HTML)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename == "lossviz_contour.html"

    class Scripts(HTMLParser):
        data = ""

        def handle_starttag(self, tag, attrs):
            self.inside = dict(attrs).get("id") == "figure-data"

        def handle_data(self, data):
            if getattr(self, "inside", False):
                self.data += data

    parser = Scripts()
    parser.feed(text)
    shown = page.evaluate(f"() => ({CONTOUR})()._fullData.filter(t => t.mode === 'lines').map(t => t.name)")
    assert all(name in parser.data for name in shown) and '"type":"contour"' in parser.data
    # The page opens by itself: a browser draws it from the file, offline.
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    page.goto(saved.as_uri())
    page.wait_for_timeout(3000)
    assert not errors, errors
    page.wait_for_function("() => document.querySelector('.js-plotly-plot image') !== null", timeout=20_000)


def test_the_3d_camera_survives_a_rerun_and_resets_with_a_new_surface(app_url, page):
    _open(page, app_url)
    eye = {"x": 0.4, "y": 2.1, "z": 0.7}
    # What a drag does: Plotly.relayout with the new camera, which the chart records as the user's view.
    page.evaluate(f"(eye) => Plotly.relayout(({SURFACE})(), {{'scene.camera': {{eye}}}})"
                  .replace("Plotly.", f"({SURFACE})().ownerDocument.defaultView.Plotly."), eye)
    _press(page, "steps")
    page.wait_for_timeout(800)
    kept = page.evaluate(f"() => ({SURFACE})()._fullLayout.scene.camera.eye")
    assert abs(kept["x"] - 0.4) < 1e-6 and abs(kept["y"] - 2.1) < 1e-6, kept
    page.get_by_label("surface").first.click()
    page.get_by_role("option", name="Rosenbrock").click()
    wait_for_app(page)
    page.wait_for_timeout(800)
    reset = page.evaluate(f"() => ({SURFACE})()._fullLayout.scene.camera.eye")
    assert abs(reset["x"] - 1.5) < 1e-6 and abs(reset["y"] + 1.5) < 1e-6, reset


def test_a_diverged_path_leaves_the_3d_box_as_it_was_and_is_marked(app_url, page):
    _open(page, app_url)
    page.get_by_label("scenario").first.click()
    page.get_by_role("option", name="Too large a learning rate diverges").click()
    page.get_by_role("button", name="Load scenario").click()
    wait_for_app(page)
    page.wait_for_timeout(1000)
    box = page.evaluate(f"() => {{ const s = ({SURFACE})()._fullLayout.scene; return [s.xaxis.range, "
                        "s.yaxis.range, s.zaxis.range]; }")
    (x_lo, x_hi), (y_lo, y_hi), (z_lo, z_hi) = box
    assert (x_lo, x_hi, y_lo, y_hi) == (-3, 3, -3, 3)
    z_max = page.evaluate(f"() => {{ let m = -Infinity; for (const row of ({SURFACE})()._fullData[0].z)"
                          " for (const v of row) if (Number.isFinite(v)) m = Math.max(m, v); return m; }")
    assert z_hi < 1.5 * z_max, (z_hi, z_max)
    marks = page.evaluate(f"() => ({SURFACE})()._fullData.filter(t => String(t.text || '')"
                          ".includes('left the view at step')).length")
    assert marks >= 1
    save_screenshot(page, "surface_explorer_diverged")


def test_a_typed_formula_is_shown_as_typed_and_gets_its_minimum(app_url, page):
    _open(page, app_url, {"surface": "custom", "formula": "x^2+10*y^2", "x0": "-2.0", "y0": "1.0",
                          "racers": "1", "o1_opt": "sgd", "o1_sgd_lr": "0.05", "steps": "200"})
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "f(x, y) = x^2+10*y^2" in body
    assert "no minimum" not in body and "Reached the lowest minimum found in the view" in body
    stars = page.evaluate(f"() => ({CONTOUR})()._fullData.filter(t => t.marker && t.marker.symbol === 'star')"
                          ".map(t => [t.x[0], t.y[0]])")
    assert stars and abs(stars[0][0]) < 1e-6 and abs(stars[0][1]) < 1e-6


def test_an_error_quotes_the_formula_exactly(app_url, page):
    _open(page, app_url, {"surface": "custom", "formula": "__import__('os')"}, charts=0)
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "'__import__'" in body
    assert page.locator('[data-testid="stMainBlockContainer"] strong').filter(has_text="import").count() == 0


def test_a_run_from_far_outside_the_view_that_converges_is_reported_as_reached(app_url, page):
    _open(page, app_url, {"x0": "1e9", "steps": "10000", "racers": "1", "o1_opt": "sgd", "o1_sgd_lr": "1.0"})
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "Left the view at step 0" not in body and "Reached the global minimum" in body
    assert page.get_by_label("start x").input_value() in ("1e+09", "1000000000")


def test_an_out_of_range_number_is_said_in_words_and_the_run_uses_the_limit(app_url, page):
    _open(page, app_url)
    lr = page.get_by_label("learning rate (lr)").first
    lr.fill("1e9")
    lr.press("Enter")
    wait_for_app(page)
    body = page.locator('[data-testid="stSidebar"]').inner_text()
    assert re.search(r"learning rate \(lr\) = 1e\+09 is outside the allowed range \[0, 100\]: "
                     r"using 100", body), body
    assert "o1_sgd_lr=100.0" in page.url


def test_an_invalid_formula_keeps_the_last_picture_greyed_with_the_error_above(app_url, page):
    _open(page, app_url, {"surface": "custom", "formula": "x^2+y^2"})
    box = page.get_by_role("textbox", name="f(x, y)")
    box.fill("x^2+(y")
    box.press("Enter")
    wait_for_app(page)
    page.wait_for_function("() => [...document.querySelectorAll('iframe')].some(f => f.contentDocument && "
                           "f.contentDocument.querySelector('#plot.stale'))", timeout=20_000)
    body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "The last picture that worked" in body
    # The map's scrubber belongs to the greyed picture: greyed with it, as every plot of the stale picture.
    greyed = page.evaluate("""() => [...document.querySelectorAll('iframe')].map(f => f.contentDocument)
      .filter(d => d && d.querySelector('#plot.stale')).map(d => {
        const scrub = d.getElementById('scrub');
        return {shown: scrub.style.display === 'flex',
                opacity: Number(d.defaultView.getComputedStyle(scrub).opacity)};
      })""")
    assert any(g["shown"] for g in greyed), greyed
    assert all(g["opacity"] < 0.5 for g in greyed if g["shown"]), greyed
    save_screenshot(page, "surface_explorer_stale_picture")


def test_the_link_reproduces_the_picture_including_the_inspected_step(app_url, page, browser):
    _open(page, app_url)
    _press(page, "inspect step", times=4)
    assert "inspect_step=4" in page.url
    other = browser.new_page(viewport={"width": 1600, "height": 1000})
    other.add_init_script(PLOTS_SCRIPT)
    other.goto(page.url)
    wait_for_app(other)
    body = other.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "update 5 (step 4)" in body
    other.close()


def test_hostile_link_text_is_never_markup_and_never_fetched(app_url, page):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    hostile = "[Session expired: log in again](http://evil.example/login) ![t](http://evil.example/p.png) " \
              "<img src=http://evil.example/x.png> **bold** :red[red] $x^2$"
    _open(page, app_url, {"kappa": hostile, "steps": hostile, "o1_opt": hostile, "formula": hostile},
          charts=0)
    main = page.locator('[data-testid="stMainBlockContainer"]')
    assert main.locator("a[href*='evil.example'], img[src*='evil.example']").count() == 0
    assert main.locator("strong", has_text="bold").count() == 0
    assert not [u for u in requests if "evil" in (urllib.parse.urlparse(u).hostname or "")]
    assert "[Session expired: log in again](http://evil.example/login)" in main.inner_text()
