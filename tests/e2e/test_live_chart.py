"""Live charts in a browser: each chart's frame loads the plotly.js bundle its figure needs, the
cartesian one (a third of the full bundle's size) for 2-D figures and the gl3d one (scatter and the 3-D
traces, 1.75 of the full bundle's 4.8 MB) for 3-D views."""
from bench.browser import PLOTS_SCRIPT
from tests.e2e.conftest import chart_frame, wait_for_app

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


CANVAS = """() => window.__lvPlots().filter(gd => gd._fullLayout.scene).map(gd => {
  const gl = gd._fullLayout.scene._scene.glplot.gl, box = gd._fullLayout.scene._scene.container
    .getBoundingClientRect();
  return {buffer: [gl.drawingBufferWidth, gl.drawingBufferHeight], css: [box.width, box.height],
          ratio: gd.ownerDocument.defaultView.devicePixelRatio};
})"""


def _three_d_canvases(browser, app_url, device_scale_factor):
    context = browser.new_context(viewport={"width": 1600, "height": 1000},
                                  device_scale_factor=device_scale_factor)
    try:
        page = context.new_page()
        page.add_init_script(PLOTS_SCRIPT)
        page.goto(f"{app_url}/Surface_Explorer")
        page.wait_for_function("() => window.__lvPlots().some(gd => gd._fullLayout.scene)", timeout=90_000)
        wait_for_app(page)
        return page.evaluate(CANVAS)
    finally:
        context.close()


def test_a_three_d_view_renders_at_the_screens_resolution(browser, app_url):
    """Not at plotly's default of twice it on every screen (four times the pixels to paint in software)."""
    for scale in (1, 2):
        canvases = _three_d_canvases(browser, app_url, scale)
        assert canvases, "no 3-D view on the Explorer"
        for canvas in canvases:
            assert canvas["ratio"] == scale
            for buffer, css in zip(canvas["buffer"], canvas["css"]):
                assert abs(buffer - scale * css) <= scale + 1, canvas


SHARED = """() => { const gd = document.querySelector('.js-plotly-plot');
  const grids = gd.data.filter(t => t.name === 'loss').map(t => t.z);
  const text = (z) => z && typeof z.bdata === 'string' ? z.bdata.length + ':' + z.bdata.slice(-64)
                                                        : JSON.stringify(z);
  const png = (i) => typeof i.source === 'string' && i.source.startsWith('data:image/png');
  return {grids: grids.map(text),
          images: (gd.layout.images || []).map(i => png(i) ? i.source.length : JSON.stringify(i)),
          drawn: (gd._fullLayout.images || []).length}; }"""


def test_a_figure_sent_with_shared_arrays_and_images_is_drawn_whole(app_url, page):
    """The Learning rate page's schedules hold one landscape under each of eleven panels: the server sends
    its grid and background image once (lossviz.ui.live_plotly.figure_json), and the frame gives every
    panel its own copy before plotly.js draws."""
    page.goto(f"{app_url}/Learning_Rate")
    wait_for_app(page, timeout=90_000)
    frame = chart_frame(page, "schedule_chart")
    held = frame.evaluate(SHARED)
    assert len(held["grids"]) == 11 and len(set(held["grids"])) == 1, held["grids"][:2]
    assert held["grids"][0].split(":")[0].isdigit() and int(held["grids"][0].split(":")[0]) > 1024
    assert len(held["images"]) == 11 and all(isinstance(n, int) for n in held["images"]), held["images"][:2]
    assert len(set(held["images"])) == 1 and held["drawn"] == 11
