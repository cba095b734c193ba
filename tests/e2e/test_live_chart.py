"""Live charts in a browser: each chart's frame loads the plotly.js bundle its figure needs, the 2d one
(1.2 MB: scatter, bar, contour, heatmap) for 2-D figures and the 3d one (1.7 MB: scatter, scatter3d,
surface) for 3-D views, both built from the release the plotly package bundles (4.8 MB); and the small
bundles draw every figure of the app as that release does, pixel for pixel."""
import json
import re

import numpy as np

from bench.browser import PLOTS_SCRIPT
from lossviz.ui import live_plotly
from lossviz.ui.catalog import PAGES, ROOT
from tests.e2e.conftest import chart_frame, wait_for_app
from tests.pagetest import figures, open_page

BUNDLES = """() => window.__lvPlots().map(gd => ({
  types: gd._fullData.map(t => t.type),
  scripts: [...gd.ownerDocument.querySelectorAll('script[src]')].map(s => s.src.split('/').pop()),
  fetched: gd.ownerDocument.defaultView.performance.getEntriesByType('resource')
    .filter(e => /plotly/.test(e.name)).map(e => [e.name.split('/').pop(), e.initiatorType]),
}))"""


def test_two_d_charts_load_the_2d_bundle_and_three_d_views_the_3d_one(app_url, page):
    page.add_init_script(PLOTS_SCRIPT)
    page.goto(f"{app_url}/Surface_Explorer")
    page.wait_for_function("() => window.__lvPlots().length >= 3", timeout=90_000)
    wait_for_app(page)
    charts = page.evaluate(BUNDLES)
    three_d = [c for c in charts if {"surface", "scatter3d"} & set(c["types"])]
    two_d = [c for c in charts if c not in three_d]
    assert three_d and two_d
    # Every frame fetches the 2d bundle as it opens (a preload), and a 2-D chart's script uses that
    # response: no second request. A 3-D view fetches its own bundle when its figure says so.
    for chart in two_d:
        assert chart["scripts"] == ["plotly-2d.min.js"], chart
        assert chart["fetched"] == [["plotly-2d.min.js", "link"]], chart
    for chart in three_d:
        assert chart["scripts"] == ["plotly-3d.min.js"], chart
        assert chart["fetched"] == [["plotly-2d.min.js", "link"], ["plotly-3d.min.js", "script"]], chart


# Draws each figure at a fixed size and returns its picture as Plotly exports it (a PNG data URL; for a
# 3-D view the scene's WebGL pixels).
PICTURES = """async (figures) => {
  const plot = document.getElementById('plot'), pictures = [];
  for (const figure of figures) {
    await Plotly.newPlot(plot, figure.data, figure.layout, {displayModeBar: false});
    pictures.push(await Plotly.toImage(plot, {format: 'png', width: 720, height: 460}));
    Plotly.purge(plot);
  }
  return pictures;
}"""


def _pictures(page, app_url: str, bundle: str, figures: list[dict]) -> list[str]:
    host = f"{app_url}/lv-bundle-check/{bundle}.html"
    # A page of the app's origin that loads only this bundle from the static folder, as a chart frame does.
    page.route(host, lambda route: route.fulfill(content_type="text/html", body=(
        '<!DOCTYPE html><html><body><div id="plot" style="width:720px;height:460px"></div>'
        f'<script src="../app/static/{bundle}"></script></body></html>')))
    page.goto(host)
    page.wait_for_function("() => window.Plotly && window.Plotly.version")
    return page.evaluate(PICTURES, figures)


def test_the_small_bundles_draw_every_figure_of_the_app_as_the_full_release_does(app_url, page):
    """Every figure the pages draw by default, drawn by the bundle a live chart would load for it and by
    the plotly package's full plotly.js, gives the same picture: the small bundles change how fast a chart
    starts, never what it shows."""
    front = (live_plotly.FRONTEND / "index.html").read_text()
    traces = {kind: set(re.findall(r'"(\w+)"', body))
              for kind, body in re.findall(r'"(2d|3d)": new Set\(\[([^\]]*)\]\)', front)}
    by_bundle: dict[str, list[dict]] = {"2d": [], "3d": []}
    for info in PAGES:
        for figure in figures(open_page(str(ROOT / info.path), code=False)):
            types = {trace.get("type", "scatter") for trace in figure.get("data", [])}
            kind = next((k for k in ("2d", "3d") if types <= traces[k]), None)
            if kind:  # a figure neither draws is drawn by the full bundle itself
                by_bundle[kind].append(json.loads(json.dumps(figure)))
    assert len(by_bundle["2d"]) >= 10 and len(by_bundle["3d"]) >= 2, {k: len(v) for k, v in by_bundle.items()}
    drawn = {t.get("type", "scatter") for figs in by_bundle.values() for f in figs for t in f["data"]}
    assert {"contour", "heatmap", "scatter", "surface", "scatter3d"} <= drawn
    for kind, figs in by_bundle.items():
        small = _pictures(page, app_url, f"plotly-{kind}.min.js", figs)
        full = _pictures(page, app_url, "plotly.min.js", figs)
        assert all(p.startswith("data:image/png;base64,") and len(p) > 5000 for p in small)
        differ = [i for i, (a, b) in enumerate(zip(small, full, strict=True)) if a != b]
        assert not differ, (kind, [[t.get("type") for t in figs[i]["data"]] for i in differ])


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


# Each marker's position, as plotly computes it for the point's data (the transform it would write), and
# as the live chart placed it: the shift between plotly's own path (lvRel) and the path drawn.
PLACEMENT = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const first = (d) => d.match(/^[Mm]\\s*([-+\\d.eE]+)[\\s,]+([-+\\d.eE]+)/).slice(1).map(Number);
  const shown = [...gd.querySelectorAll('.scatterlayer path.point')].filter(p => p.style.display !== 'none');
  return shown.map(p => {
    const [x0, y0] = first(p.dataset.lvRel || 'M0,0'), [x1, y1] = first(p.getAttribute('d'));
    return {transform: p.getAttribute('transform'), want: [xa.c2p(p.__data__.x), ya.c2p(p.__data__.y)],
            placed: [x1 - x0, y1 - y0]};
  });
}"""

# The plot as plotly drew it: a copy whose points get back their transforms and plotly's own paths, shown
# in the plot's place (the copy is outside the plot, which the live chart's observer watches).
AS_PLOTLY_DREW_IT = """() => {
  const plot = document.getElementById('plot'), copy = plot.cloneNode(true);
  copy.id = 'as-drawn';
  let restored = 0;
  for (const p of copy.querySelectorAll('.scatterlayer path.point')) {
    if (p.dataset.lvRel === undefined) continue;
    p.setAttribute('d', p.dataset.lvRel);
    p.setAttribute('transform', `translate(${p.dataset.lvX},${p.dataset.lvY})`);
    restored += 1;
  }
  plot.parentNode.insertBefore(copy, plot);
  plot.style.display = 'none';
  return restored;
}"""
BACK = ("() => { document.getElementById('as-drawn').remove();"
        " document.getElementById('plot').style.display = ''; }")


def _pixels(png: bytes):
    import io

    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def _assert_placed_as_plotly_draws(frame, points: int) -> None:
    placement = frame.evaluate(PLACEMENT)
    assert len(placement) >= points, len(placement)
    assert not [p for p in placement if p["transform"] is not None]
    wrong = [p for p in placement if max(abs(a - b) for a, b in zip(p["want"], p["placed"])) > 1e-6]
    assert not wrong, wrong[:3]
    placed = _pixels(frame.locator("#plot").screenshot())
    assert frame.evaluate(AS_PLOTLY_DREW_IT) >= points
    drawn = _pixels(frame.locator("#as-drawn").screenshot())
    frame.evaluate(BACK)
    assert placed.shape == drawn.shape
    # The same picture, to the rounding of a marker's edge: the position added in float64 to the path,
    # against skia adding it in float32, shades a few antialiased edge pixels differently (measured: 76 of
    # 270,000 pixels, by at most 5 of 255 levels). A point one pixel off would change thousands of pixels
    # by far more.
    differ = np.abs(placed - drawn).max(axis=-1)
    assert differ.max() <= 12 and (differ > 0).mean() < 1e-3, (differ.max(), (differ > 0).sum())


def test_markers_are_placed_without_transforms_where_plotly_draws_them(app_url, page):
    """The noise ball's 4,500 markers have no SVG transform each (every one is a node the compositor walks
    on each frame of the page): the position is in the path. Each point sits where plotly computes it for
    its data, the picture is plotly's own, and so after an update that moves every point."""
    page.goto(f"{app_url}/Batch_Size")
    ball = chart_frame(page, "ball", timeout=120_000)
    wait_for_app(page, timeout=60_000)
    _assert_placed_as_plotly_draws(ball, 4000)
    before = ball.evaluate("() => document.querySelector('.scatterlayer path.point').getAttribute('d')")
    box = page.get_by_role("spinbutton", name="learning rate")
    box.fill("0.02")
    box.press("Enter")
    ball.wait_for_function("(old) => document.querySelector('.scatterlayer path.point').getAttribute('d')"
                           " !== old", arg=before, timeout=60_000)
    wait_for_app(page, timeout=60_000)
    _assert_placed_as_plotly_draws(ball, 4000)
