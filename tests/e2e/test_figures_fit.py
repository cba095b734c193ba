"""Every chart's text inside its chart and clear of the rest, in normal type, at the projector's 1600 width
and a laptop's 1366x768: no axis title cut at the chart's edge, over its own tick labels, or over another
title or the legend, and no annotation (a panel's title) cut at the chart's top. Projector mode has its
own test (test_projector.py)."""
import pytest

from bench.browser import PLOTS_SCRIPT
from lossviz.ui.catalog import PAGES
from tests.e2e.conftest import wait_for_app
from tests.e2e.test_projector import ANNOTATIONS_CUT, TEXTS_OVERLAP, TITLES_ON_TICKS

# Axis and figure titles that stand out of their chart (cut off by its edge).
TITLES_CUT = """() => window.__lvPlots().flatMap(gd => {
  const box = gd.getBoundingClientRect();
  return [...gd.querySelectorAll('text')]
    .filter(t => /^([xy]\\d*|g)title$/.test(t.getAttribute('class') || '') && t.textContent.trim())
    .filter(t => { const r = t.getBoundingClientRect();
                   return r.top < box.top - 1 || r.bottom > box.bottom + 1 || r.left < box.left - 1
                          || r.right > box.right + 1; })
    .map(t => `${gd.dataset.key}: ${t.textContent}`);
})"""
# Every page as it opens, and the pages whose titles change with a setting: the Explorer on a typed
# formula (its distance chart then measures to "the lowest minimum found in the view").
LINKS = [p.url_path for p in PAGES if p.exists] + [
    "Surface_Explorer?surface=custom&formula=x%5E2%2B3*y%5E2", "Learning_Rate?surface=custom"]


@pytest.mark.parametrize("link", LINKS)
def test_every_charts_titles_fit_it_at_both_widths(app_url, browser, link):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/{link}")
    wait_for_app(page, timeout=90_000)
    page.wait_for_function("() => window.__lvPlots().length >= 1", timeout=90_000)
    for width, height in ((1600, 1000), (1366, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(1500)  # the charts follow their frames' new width
        found = {check: page.evaluate(script) for check, script in
                 (("cut", TITLES_CUT), ("on ticks", TITLES_ON_TICKS), ("overlap", TEXTS_OVERLAP),
                  ("annotation cut", ANNOTATIONS_CUT))}
        assert found == {"cut": [], "on ticks": [], "overlap": [], "annotation cut": []}, (link, width)
    page.close()
