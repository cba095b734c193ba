"""Projector mode on every page: at 1366x768 the main figure, its Play control and its scrubber are on the
first screen, in large type."""
import pytest

from bench.browser import PLOTS_SCRIPT
from lossviz.ui.catalog import PAGES
from tests.e2e.conftest import ARTIFACTS, wait_for_app

EXISTING = [p for p in PAGES if p.exists]
# The axis titles (text.xtitle, text.y2title, ...) drawn over one of their own axis's tick labels.
TITLES_ON_TICKS = """() => window.__lvPlots().flatMap(gd => [...gd.querySelectorAll('text')]
  .filter(t => /^[xy]\\d*title$/.test(t.getAttribute('class') || '') && t.textContent.trim())
  .flatMap(t => {
    const axis = t.getAttribute('class').replace('title', ''), r = t.getBoundingClientRect();
    return [...gd.querySelectorAll(`g.${axis}tick text`)].map(k => k.getBoundingClientRect())
      .filter(k => k.width && k.left < r.right - 1 && r.left + 1 < k.right && k.top < r.bottom - 1
                   && r.top + 1 < k.bottom)
      .map(() => t.textContent);
  }))"""
# Pairs of a chart's large texts that cover each other: its axis titles and its legend (the legend's
# entries, as one box), by text.
TEXTS_OVERLAP = """() => window.__lvPlots().flatMap(gd => {
  const boxes = [...gd.querySelectorAll('text')]
    .filter(t => /^[xy]\\d*title$/.test(t.getAttribute('class') || '') && t.textContent.trim())
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  const legend = gd.querySelector('g.legend .scrollbox');
  if (legend && legend.getBoundingClientRect().width) boxes.push(['legend', legend.getBoundingClientRect()]);
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
                         && b.top < a.bottom - 1;
  return boxes.flatMap(([name, box], i) => boxes.slice(i + 1).filter(([, other]) => meet(box, other))
    .map(([other]) => `${gd.dataset.key}: ${name} / ${other}`));
})"""
ANNOTATIONS_CUT = """() => window.__lvPlots().flatMap(gd => {
  const box = gd.getBoundingClientRect();
  return [...gd.querySelectorAll('g.annotation text')].filter(t => t.textContent.trim())
    .filter(t => t.getBoundingClientRect().top < box.top - 1).map(t => t.textContent);
})"""


@pytest.mark.parametrize("info", EXISTING, ids=lambda p: p.url_path)
def test_projector_mode_puts_the_main_figure_on_the_first_screen(app_url, browser, info):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/{info.url_path}?present=1")
    wait_for_app(page, timeout=90_000)
    main = page.locator(".st-key-main_figure iframe").first
    main.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    box = main.bounding_box()
    assert box and box["y"] >= 0 and box["x"] >= 0, box
    assert box["y"] + box["height"] <= 768 and box["x"] + box["width"] <= 1366, box
    # Large type: the figure's ticks and legend at 18 px or more.
    sizes = page.evaluate("() => { const gd = window.__lvPlots()[0]; const l = gd._fullLayout;"
                          " return [l.font.size, l.legend.font.size]; }")
    assert min(sizes) >= 18, sizes
    # Every axis title of every chart clears its tick labels in the larger type.
    assert page.evaluate(TITLES_ON_TICKS) == [], info.url_path
    # No axis title covers another or the legend (a legend under the plot, an axis title too long for
    # its panel: the Neural net page's plane and its two stacked panels, before).
    assert page.evaluate(TEXTS_OVERLAP) == [], info.url_path
    # And every annotation (the small multiples' panel titles) is inside its chart, none cut off at its top.
    assert page.evaluate(ANNOTATIONS_CUT) == [], info.url_path
    # The sidebar is collapsed: the figure has the width.
    assert page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"projector_{info.url_path}_1366x768.png"))
    page.close()
