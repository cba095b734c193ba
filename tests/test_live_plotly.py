"""The live chart: its front end is complete, and a page's figure reaches it intact."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
from streamlit.testing.v1 import AppTest

from lossviz.ui import live_plotly
from lossviz.ui.catalog import ROOT
from tests.pagetest import decode, figures


def test_the_front_end_loads_the_plotly_js_of_the_installed_package_from_the_static_folder():
    page = (live_plotly.FRONTEND / "index.html").read_text()
    # Loaded with the first figure (relative to /component/<name>/index.html): the full bundle for a figure
    # no partial bundle draws.
    assert re.search(r'full: "\.\./\.\./app/static/plotly\.min\.js"', page)
    # The small bundles too, from the static folder: cached, so a page's charts share one download.
    for kind in ("2d", "3d"):
        assert re.search(rf'"{kind}": "\.\./\.\./app/static/plotly-{kind}\.min\.js"', page)
    sources = {"plotly.min.js": live_plotly._bundled_plotly_js(),
               **{f"plotly-{k}.min.js": live_plotly.FRONTEND / f"plotly-{k}.min.js"
                  for k in ("2d", "3d")}}
    for name, source in sources.items():
        copied = live_plotly.STATIC / name
        assert copied.read_bytes() == source.read_bytes(), name
        # The source's date, so the browser's cache (Last-Modified) holds until the bundle changes.
        assert copied.stat().st_mtime == source.stat().st_mtime, name
    assert "Plotly.react" in page and "streamlit:componentReady" in page
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"^enableStaticServing = true$", config, re.M)
    assert live_plotly.STATIC == ROOT / "static"


def test_a_stale_copy_of_plotly_js_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(live_plotly, "STATIC", tmp_path / "static")
    live_plotly._install_plotly_js()  # creates the folder
    (tmp_path / "static" / "plotly.min.js").write_text("old plotly")
    (tmp_path / "static" / "plotly-2d.min.js").write_text("old 2d")
    live_plotly._install_plotly_js()
    assert ((tmp_path / "static" / "plotly.min.js").read_bytes()
            == live_plotly._bundled_plotly_js().read_bytes())
    assert ((tmp_path / "static" / "plotly-2d.min.js").read_bytes()
            == (live_plotly.FRONTEND / "plotly-2d.min.js").read_bytes())
    assert not list((tmp_path / "static").glob("*.tmp"))


def _page():
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    from lossviz.ui.live_plotly import live_plotly_chart

    n = st.slider("n", 2, 50, 5, key="n")
    fig = go.Figure(go.Scatter(x=np.arange(n), y=np.arange(n) ** 2.0, name="squares"))
    fig.update_layout(height=300)
    st.session_state["clicked"] = live_plotly_chart(fig, key="chart", clickable=True)


def test_the_figure_reaches_the_chart_and_a_new_figure_keeps_the_chart():
    at = AppTest.from_function(_page).run()
    assert not at.exception
    (spec,) = figures(at)
    assert spec["layout"]["height"] == 300
    np.testing.assert_array_equal(decode(spec["data"][0]["y"]), np.arange(5) ** 2.0)
    first = at.get("component_instance")[0].proto
    at.slider(key="n").set_value(7).run()
    second = at.get("component_instance")[0].proto
    # Same identity, so the browser updates the mounted plot; a new revision, so it knows the figure is new.
    assert first.id == second.id
    assert decode(figures(at)[0]["data"][0]["y"]).size == 7
    revision = lambda proto: __import__("json").loads(proto.json_args)["revision"]  # noqa: E731
    assert revision(first) != revision(second)


def test_the_last_click_is_the_chart_value():
    at = AppTest.from_function(_page).run()
    assert at.session_state["clicked"] is None
    at.session_state["chart"] = {"x": 1.25, "y": 3.5, "id": "k1"}
    at.run()
    assert at.session_state["clicked"] == {"x": 1.25, "y": 3.5, "id": "k1"}


def test_the_revision_is_the_same_for_the_same_figure_in_any_process():
    """Determinism across a server restart: the revision is a content hash, not Python's salted hash()."""
    code = "from lossviz.ui.live_plotly import spec_revision; print(spec_revision('[1, 2]'))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert len(runs) == 1 and runs != {""}
    assert live_plotly.spec_revision('{"data": [1]}') != live_plotly.spec_revision('{"data": [2]}')


def test_a_spec_encodes_to_the_same_figure_as_plotly_would():
    """The direct encoder and plotly's agree on every value (NaN gaps, 2-D grids, integer steps)."""
    import json as json_

    import plotly.io as pio

    from lossviz.viz import landscape as lv

    xs, ys = np.linspace(-1, 1, 4), np.linspace(0, 2, 3)
    Z = np.add.outer(ys, xs) ** 2
    xy = np.array([[0.0, 0.0], [0.5, 0.5], [np.nan, np.nan]])
    spec = lv.contour_spec(xs, ys, Z,
                           paths=[lv.Path("a", "#000", xy, np.array([1.0, 0.5, np.nan]), diverged_at=1)],
                           start=(0.0, 0.0))
    mine = live_plotly.expand(json_.loads(live_plotly.figure_json(spec)))
    theirs = json_.loads(pio.to_json(lv.as_figure(spec), validate=False))
    assert len(mine["frames"]) == len(theirs["frames"])
    for a, b in zip(mine["data"], theirs["data"], strict=True):
        for key in ("x", "y", "z"):
            if key in a:
                np.testing.assert_array_equal(decode(a[key]), decode(b[key]))
    curves = json_.loads(live_plotly.figure_json(lv.curves_spec([("a", "#000", np.array([3.0, 2.0]))],
                                                                ylabel="l")))
    assert curves["data"][0]["x"]["dtype"] == "i4" and list(decode(curves["data"][0]["x"])) == [0, 1]


def test_a_figure_sends_a_repeated_array_or_image_once_and_reads_back_as_built():
    import json as json_

    rng = np.random.default_rng(3)
    grid, other, xs = rng.normal(size=(40, 40)), rng.normal(size=(40, 40)), np.linspace(0, 1, 40)
    image = "data:image/png;base64," + "QUJD" * 2000
    spec = {"data": [{"type": "contour", "x": xs, "y": xs, "z": grid},        # the grid object twice,
                     {"type": "contour", "x": xs, "y": xs, "z": grid.copy()},  # an equal copy,
                     {"type": "contour", "x": xs, "y": xs, "z": other},        # another grid,
                     {"type": "scatter", "x": np.arange(3.0), "y": np.arange(3.0)}],  # small: inline
            "layout": {"images": [{"source": image, "x": 0}, {"source": image, "x": 1}, {"source": "a.png"}]},
            "lossviz_scrub": {"frames": [[{"z": grid}]]}}
    text, whole = live_plotly.figure_json(spec), live_plotly.figure_json(spec, shared=False)
    sent = json_.loads(text)
    assert text.count(json_.loads(whole)["data"][0]["z"]["bdata"]) == 1
    assert text.count(image) == 1 and whole.count(image) == 2
    assert len(text) < len(whole) - 2 * len(json_.loads(whole)["data"][0]["z"]["bdata"])
    assert sent["data"][1]["z"] == {"lvsame": sent["data"][0]["z"]["lvid"]}
    assert "lvid" not in sent["data"][2]["z"]
    assert sent["lossviz_scrub"]["frames"][0][0]["z"] == sent["data"][1]["z"]
    assert sent["data"][3]["x"]["bdata"] and sent["layout"]["images"][1] == {"x": 1, "lvsource": 0}
    assert live_plotly.expand(sent) == json_.loads(whole)
    assert "lvsource" not in spec["layout"]["images"][1]  # the (cached) spec itself is untouched
    # A NaN outside the arrays (plotly's encoder then writes the figure, NaN as null): still whole.
    odd = {**spec, "layout": {**spec["layout"], "xaxis": {"range": [float("nan"), 1.0]}}}
    back = live_plotly.expand(json_.loads(live_plotly.figure_json(odd)))
    assert back["layout"]["xaxis"]["range"] == [None, 1.0]
    assert back["data"][1]["z"]["bdata"] == json_.loads(whole)["data"][0]["z"]["bdata"]
    assert back["layout"]["images"][1]["source"] == image
    # The front end puts them back the same way before plotly.js sees the figure.
    page = (live_plotly.FRONTEND / "index.html").read_text()
    assert "const figure = parseFigure(args.spec);" in page and "lvsame" in page and "lvsource" in page


def test_the_small_bundles_are_built_from_the_same_plotly_js_release_as_the_full_one():
    """2-D live charts load the 2d bundle, 3-D ones the 3d bundle, others the plotly package's full bundle:
    all must be one plotly.js release, or a page would draw its 2-D and 3-D figures with different versions.
    After upgrading the plotly package, set its plotly.js version in live_plotly_bundles/package.json and
    rebuild (`npm ci && node build.js` there)."""
    import json
    from pathlib import Path

    import plotly

    def version(path: Path) -> str:
        head = path.read_text()[:300]
        return re.search(r"plotly\.js (?:\([^)]*\) )?v(\S+)", head).group(1)

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    for kind in ("2d", "3d"):
        assert version(live_plotly.FRONTEND / f"plotly-{kind}.min.js") == version(full), kind
    build = live_plotly.FRONTEND.with_name("live_plotly_bundles")
    pinned = json.loads((build / "package.json").read_text())["dependencies"]["plotly.js"]
    locked = json.loads((build / "package-lock.json").read_text())["packages"]["node_modules/plotly.js"]
    assert pinned == locked["version"] == version(full)


def test_each_figure_goes_to_a_bundle_that_registers_every_trace_type_it_holds():
    """The front end picks a bundle by the trace types it lists for it: each list must be exactly what that
    bundle registers (read from the bundle itself) and what its build script asks for, or a figure would
    meet a bundle that draws nothing for one of its traces; and every trace type the app's figures use is in
    one of them."""
    page = (live_plotly.FRONTEND / "index.html").read_text()
    lists = {kind: set(re.findall(r'"(\w+)"', body))
             for kind, body in re.findall(r'"(2d|3d)": new Set\(\[([^\]]*)\]\)', page)}
    assert set(lists) == {"2d", "3d"}
    script = (live_plotly.FRONTEND.with_name("live_plotly_bundles") / "build.js").read_text()
    built = {kind: set(re.findall(r'"(\w+)"', body)) | {"scatter"}
             for kind, body in re.findall(r'"(2d|3d)": \[([^\]]*)\]', script)}
    assert built == lists
    for kind, listed in lists.items():
        bundle = (live_plotly.FRONTEND / f"plotly-{kind}.min.js").read_text()
        registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
        assert listed == registered, (kind, listed ^ registered)
        # The bundle's header names what it holds.
        assert ", ".join(sorted(listed - {"scatter"})) in bundle[:300], kind
    used = set()
    for path in (ROOT / "lossviz").rglob("*.py"):
        used |= set(re.findall(r'"type": "(\w+)"', path.read_text()))
    used -= {"buttons", "dropdown", "linear", "log", "category", "date", "rect", "line", "circle", "path"}
    assert {"surface", "scatter3d", "contour", "heatmap", "scatter"} <= used
    assert used <= lists["2d"] | lists["3d"], used - lists["2d"] - lists["3d"]


def test_the_built_bundles_compile_no_code_from_strings():
    """The plotly.js bundles the live charts load (built by live_plotly_bundles/build.js) never turn a
    string into code: no eval, and the one Function constructor is the bundler's constant global lookup
    (``new Function("return this")``). What the hook's eval/exec search finds in them is RegExp's exec
    (pattern matching). User text reaches them only as figure data, from JSON.parse. A rebuild that
    brought string evaluation in fails here."""
    for kind in ("2d", "3d"):
        source = (live_plotly.FRONTEND / f"plotly-{kind}.min.js").read_text()
        assert not re.search(r"(?<![\w$.])eval\s*\(", source), kind
        assert re.findall(r"new Function\([^)]*\)", source) in ([], ['new Function("return this")']), kind
        assert not re.search(r"\bset(Timeout|Interval)\(\s*['\"`]", source), kind  # a string as code
