"""Live charts in a browser: each chart's frame loads the plotly.js bundle its figure needs, the
cartesian one (a third of the full bundle's size) for 2-D figures and the gl3d one (scatter and the 3-D
traces, 1.75 of the full bundle's 4.8 MB) for 3-D views."""
from bench.browser import PLOTS_SCRIPT
from tests.e2e.conftest import wait_for_app

BUNDLES = """() => window.__lvPlots().map(gd => ({
  types: gd._fullData.map(t => t.type),
  scripts: [...gd.ownerDocument.querySelectorAll('script[src]')].map(s => s.src.split('/').pop()),
}))"""


def test_two_d_charts_load_the_cartesian_bundle_and_three_d_views_the_gl3d_one(app_url, page):
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    page.wait_for_function("() => window.__lvPlots().length >= 3", timeout=90_000)
    wait_for_app(page)
    charts = page.evaluate(BUNDLES)
    three_d = [c for c in charts if {"surface", "scatter3d"} & set(c["types"])]
    two_d = [c for c in charts if c not in three_d]
    assert three_d and two_d
    for chart in two_d:
        assert chart["scripts"] == ["plotly-cartesian.min.js"], chart
    for chart in three_d:
        assert chart["scripts"] == ["plotly-gl3d.min.js"], chart
