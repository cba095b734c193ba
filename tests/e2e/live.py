"""Browser-test helpers for pages drawn with live charts (lossviz.ui.live_plotly): each chart sits in its own
same-origin component frame, holds its scrubber, and is updated in place."""
from __future__ import annotations

import io

import pandas as pd
from PIL import Image

FIND_TRACE = "(name) => (gd => gd && gd._fullData.find(t => (t.name || '').includes(name)))" \
             "(document.querySelector('.js-plotly-plot'))"


def chart_frame(page, trace_name: str):
    """The frame of the live chart holding a trace whose name contains ``trace_name``. Exactly one chart
    may hold such a trace: the frames' order is the order they loaded in, which changes from run to run, so
    a name two charts share would pick either one (name a trace only the wanted chart has)."""
    found = [frame for frame in page.frames if frame != page.main_frame
             and frame.evaluate(f"({FIND_TRACE})({trace_name!r}) !== undefined")]
    if not found:
        raise AssertionError(f"no live chart with a trace named like {trace_name!r}")
    if len(found) > 1:
        raise AssertionError(f"{len(found)} live charts hold a trace named like {trace_name!r}: name one "
                             "only the wanted chart has")
    return found[0]


def keyed_frame(page, key: str):
    """The frame of the live chart ``key`` (the frame's plot carries its chart's key)."""
    found = [frame for frame in page.frames if frame != page.main_frame and frame.evaluate(
        "(key) => { const plot = document.getElementById('plot'); return Boolean(plot)"
        " && plot.dataset.key === key; }", key)]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} live charts with the key {key!r}")
    return found[0]


def trace(frame, name: str) -> dict:
    """A drawn trace's name, points and visibility."""
    return frame.evaluate(f"(name) => {{ const t = ({FIND_TRACE})(name); return t && {{name: t.name, "
                          "x: Array.from(t.x || []), y: Array.from(t.y || []), visible: t.visible}; }", name)


def count_renders(frame) -> None:
    """Count the figures Streamlit hands this chart from now on (``renders(frame)``)."""
    frame.evaluate("() => { window.__renders = 0; window.addEventListener('message', e => {"
                   " if (e.data && e.data.type === 'streamlit:render') window.__renders++; }); }")


def renders(frame) -> int:
    return frame.evaluate("() => window.__renders")


def scrub(frame, position: int) -> None:
    """Move the chart's scrubber to ``position`` as a user's drag does, and wait for the restyle."""
    frame.evaluate("(i) => { const input = document.getElementById('scrub-input'); input.value = String(i);"
                   " input.dispatchEvent(new Event('input')); }", position)
    frame.wait_for_function("(i) => document.getElementById('plot').dataset.scrub === String(i)",
                            arg=position)
    frame.wait_for_function("() => Boolean(document.getElementById('plot').dataset.scrubbed)")


def scrub_value(frame) -> str:
    return frame.evaluate("() => document.querySelector('#scrub output').textContent")


def received(page, action) -> int:
    """The WebSocket messages the page receives while ``action`` runs and the page then settles (the page
    was opened with bench.browser's INIT_SCRIPT, which counts them)."""
    from tests.e2e.conftest import wait_for_app

    before = page.evaluate("() => window.__lv.recv.length")
    action()
    page.wait_for_timeout(500)
    wait_for_app(page)
    return page.evaluate("() => window.__lv.recv.length") - before


def sent_messages(page) -> list:
    """Every WebSocket message the page sends to the server from now on (install before ``goto``)."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def boxes(frame, selector: str) -> list[dict]:
    """The client rectangles of every element matching ``selector`` in the chart's frame."""
    return frame.evaluate("(s) => [...document.querySelectorAll(s)].map(e => { const r ="
                          " e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,"
                          " bottom: r.bottom}; }).filter(r => r.right > r.left && r.bottom > r.top)",
                          selector)


def overlap(a: dict, b: dict) -> bool:
    across = a["left"] < b["right"] and b["left"] < a["right"]
    return across and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def pixel(page, x: float, y: float) -> tuple[int, int, int]:
    """The colour the page shows at (x, y) in its viewport."""
    shot = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    return Image.open(io.BytesIO(shot)).convert("RGB").getpixel((0, 0))


def frame_offset(page, frame) -> dict:
    """Where the chart's frame sits in the page's viewport, once scrolled into view."""
    element = frame.frame_element()
    element.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    return element.bounding_box()


def download_csv(page, button: str) -> tuple[pd.DataFrame, str]:
    """Click a download button, read the file it gives with pandas; the frame and the file's name."""
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    return pd.read_csv(download.value.path()), download.value.suggested_filename


def play_controls(frame) -> list[dict]:
    """The boxes of an animated map's Play/Pause buttons and step slider, once drawn (a resize redraws
    them)."""
    frame.wait_for_function("() => document.querySelectorAll('.updatemenu-button').length >= 2"
                            " && document.querySelector('.slider-container') !== null", timeout=60_000)
    return boxes(frame, ".updatemenu-button") + boxes(frame, ".slider-container")


def animate_to(frame, index: int) -> int:
    """Show the chart's Play animation at its frame ``index`` as its step slider does; return that frame's
    step."""
    return frame.evaluate(
        "(k) => { const gd = document.getElementById('plot');"
        " const name = gd._transitionData._frames[k].name;"
        " return Plotly.animate(gd, [name], {frame: {duration: 0, redraw: false},"
        " transition: {duration: 0}, mode: 'immediate'}).then(() => Number(name)); }", index)


def heads(frame) -> list[dict]:
    """The chart's layout shapes as drawn (Play's moving heads): centre, colour and whether each shows."""
    return frame.evaluate(
        "() => (document.getElementById('plot').layout.shapes || []).map(s => ({x: Number(s.xanchor),"
        " y: Number(s.yanchor), color: s.fillcolor, shown: s.visible !== false}))")


def point(frame, name: str, step: int) -> tuple[float, float]:
    """The drawn point ``step`` of the trace named ``name`` (its last finite one before, once it stopped)."""
    t = trace(frame, name)
    k = min(step, len(t["x"]) - 1)
    while k > 0 and not all(isinstance(v, (int, float)) and v == v for v in (t["x"][k], t["y"][k])):
        k -= 1
    return float(t["x"][k]), float(t["y"][k])
