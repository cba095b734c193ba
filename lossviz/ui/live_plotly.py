"""A Plotly chart that stays mounted across reruns and is updated in place (``Plotly.react``).

``st.plotly_chart`` gives a chart a new identity whenever its figure changes (the element id hashes the
spec), so the browser throws the plot away and draws a new one. For a 3-D surface that is a new WebGL
context, shader compiles and a first draw: about 1 s per slider step in headless Chromium's software GL,
and the camera the user had turned to snaps back. This component keeps one plot per ``key`` and hands it
each new figure; Plotly.react redraws only what changed (0.15 s for the same 3-D update), and a figure
whose ``layout.uirevision`` stays the same keeps the user's camera.

The front end is a static page (``live_plotly_frontend/index.html``) that loads plotly.js: the small
bundle that draws its figure (2-D: scatter, bar, contour, heatmap, 1.2 MB; 3-D: scatter3d, surface, 1.7 MB;
built next to it from the plotly package's plotly.js release by ``live_plotly_bundles/build.js``, as an
eagerly compiled IIFE that evaluates in half the time of the release's own partial bundles) or the full one
bundled with the installed plotly package. They are copied on first use (so a copy never drifts from
its source) into the app's ``static/`` folder, which Streamlit serves at ``/app/static/``
(``server.enableStaticServing``) with a Last-Modified date and an ETag: the browser then keeps one copy
for every chart and every visit. Served from the component's own folder they had neither, so each
chart's frame fetched its own copy (compressed anew by the server each time).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit.components.v1 as components

__all__ = ["live_plotly_chart", "figure_json", "expand", "FRONTEND", "STATIC", "COMPONENT_NAME"]

FRONTEND = Path(__file__).with_name("live_plotly_frontend")
# The app's static folder: next to app.py, the script `make run` starts (see .streamlit/config.toml).
STATIC = Path(__file__).resolve().parents[2] / "static"
COMPONENT_NAME = "lossviz_live_plotly"


def _bundled_plotly_js() -> Path:
    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


# The bundles a chart's frame may load (index.html's BUNDLES), by file name: the package's full plotly.js
# and the 2d and 3d bundles built next to the front end from the same release (live_plotly_bundles/).
def _bundles() -> dict[str, Path]:
    return {"plotly.min.js": _bundled_plotly_js(),
            **{f"plotly-{kind}.min.js": FRONTEND / f"plotly-{kind}.min.js" for kind in ("2d", "3d")}}


def _install_plotly_js() -> None:
    """Copy the plotly.js bundles into the app's static folder unless the same files are already there.

    Served from there, a bundle has a Last-Modified date and an ETag, so a browser fetches it once for all
    the charts of a page and every later visit; from the component's folder it had neither, and each chart
    frame fetched (and the server compressed anew) its own 1.5 MB: three times on the Explorer's first visit,
    again on every page a student opened. ``copy2`` keeps the source's modification time: it is the
    Last-Modified date the cache works from, the same until the bundle itself changes.
    """
    for name, source in _bundles().items():
        target, stat = STATIC / name, source.stat()
        if target.exists() and (target.stat().st_size, target.stat().st_mtime) == (stat.st_size,
                                                                                   stat.st_mtime):
            continue
        STATIC.mkdir(exist_ok=True)
        # A name of this process's own: two server processes starting together must not share a half copy.
        tmp = target.with_name(f"{name}.{os.getpid()}.tmp")
        shutil.copy2(source, tmp)
        tmp.replace(target)  # atomic: a browser never reads half a file


_install_plotly_js()
_component = components.declare_component(COMPONENT_NAME, path=str(FRONTEND))


# The largest magnitude sent to the browser: beyond it plotly.js's own arithmetic (ranges, squares of
# contour levels) overflows, and a chart can spin for minutes (a formula like (x+y)/(x+y)/.../(x+y)).
MAX_MAGNITUDE = 1e150


def _bounded(array: np.ndarray) -> np.ndarray:
    """Float values as the browser may receive them: infinities as gaps (NaN), magnitudes clipped."""
    # Two reductions and no temporary (a NaN or an infinity fails the comparison): most arrays are small
    # and already in bounds, and a figure can hold hundreds (the Learning rate page's schedules, 800).
    if not array.size or (array.min() >= -MAX_MAGNITUDE and array.max() <= MAX_MAGNITUDE):
        return array
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(array), np.clip(array, -MAX_MAGNITUDE, MAX_MAGNITUDE), np.nan)


def _typed_array(value: object) -> object:
    """NumPy values for json.dumps: arrays as plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``,
    read natively by plotly.js, NaN kept as a gap), scalars as numbers. Infinities become gaps and every
    magnitude is bounded (:data:`MAX_MAGNITUDE`)."""
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind == "f":
            array, dtype = _bounded(value.astype(np.float64, copy=False)), "f8"
        elif kind in "iub" and value.size and np.abs(value).max() < 2**31:
            array, dtype = value.astype(np.int32), "i4"  # plotly.js has no 64-bit integer arrays
        elif kind in "iub":
            array, dtype = value.astype(np.float64), "f8"
        else:
            return value.tolist()
        out = {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode()}  # tobytes: C order
        if array.ndim > 1:
            out["shape"] = ", ".join(map(str, array.shape))
        return out
    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, float) and not (abs(item) <= MAX_MAGNITUDE):
            return None if not np.isfinite(item) else float(np.clip(item, -MAX_MAGNITUDE, MAX_MAGNITUDE))
        return item
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# An array encoded to at least this many characters is sent once per figure, however often the figure
# holds it; smaller ones are not worth the reference.
SHARED_MIN_CHARS = 1024


def _shared_images(layout: object) -> object:
    """``layout`` with each layout image whose ``source`` an earlier image already has replaced by a
    reference to that image (``{"lvsource": i}``, resolved by :func:`expand` and the front end). A copy:
    the spec given (often cached) is not touched."""
    images = layout.get("images") if isinstance(layout, dict) else None
    if not isinstance(images, list):
        return layout
    first: dict[str, int] = {}
    shared, changed = [], False
    for i, image in enumerate(images):
        source = image.get("source") if isinstance(image, dict) else None
        if isinstance(source, str) and len(source) >= SHARED_MIN_CHARS and source in first:
            image = {**{k: v for k, v in image.items() if k != "source"}, "lvsource": first[source]}
            changed = True
        elif isinstance(source, str):
            first.setdefault(source, i)
        shared.append(image)
    return {**layout, "images": shared} if changed else layout


def figure_json(figure: go.Figure | dict, shared: bool = True) -> str:
    """The JSON plotly.js reads for ``figure``: a Figure, or a spec of plain dicts and NumPy arrays (the
    ``*_spec`` builders of :mod:`lossviz.viz.landscape`), encoded directly without plotly's deep copy.

    A spec's repeated content is sent once: an array equal to one before it (the same loss grid under
    every panel of a small-multiples figure) becomes ``{"lvsame": n}`` for the first one's ``"lvid": n``,
    and a repeated layout image ``{"lvsource": i}`` (:func:`_shared_images`). The Learning rate page's
    schedules sent its landscape eleven times: 1.7 MB a rerun, 0.6 MB without the copies. The front end
    and :func:`expand` put them back, so plotly.js and every reader see the figure as it was built.
    ``shared=False``: every array and image written out (for plotly.js on its own: an exported page).
    """
    if not isinstance(figure, dict):
        return pio.to_json(figure, validate=False)
    if shared and "layout" in figure:
        figure = {**figure, "layout": _shared_images(figure["layout"])}
    first: dict[tuple, dict] = {}  # each large array's content -> its encoding, as first written
    ids: dict[tuple, int] = {}  # the contents written more than once -> n
    done: dict[int, object] = {}  # id of an array -> its encoding (one object in several places)

    def encode(value: object) -> object:
        enc = done.get(id(value)) if isinstance(value, np.ndarray) else None
        if enc is None:
            enc = _typed_array(value)
            if isinstance(value, np.ndarray):
                done[id(value)] = enc  # the figure holds it, so its id stays its own meanwhile
        if not shared or not isinstance(enc, dict) or len(enc["bdata"]) < SHARED_MIN_CHARS:
            return enc
        key = (enc["dtype"], enc.get("shape"), enc["bdata"])
        if key not in first:
            first[key] = enc
            return enc
        return {"lvsame": ids.setdefault(key, len(ids))}

    try:
        text = json.dumps(figure, default=encode, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a NaN or infinity outside an array: plotly's encoder writes it as null
        return pio.to_json(json.loads(json.dumps(figure, default=_typed_array)), validate=False)
    # Each repeated array's one written place gets its number (it is written once: found on the text, after
    # one json.dumps; finding the repeats beforehand meant a walk of the whole spec in Python, 1.8 ms of the
    # Explorer map's 2.5 ms). An array as written cannot occur inside a JSON string (its quotes would be
    # escaped there).
    for key, n in ids.items():
        written = json.dumps(first[key], separators=(",", ":"))
        end = text.index(written) + len(written) - 1
        text = f'{text[:end]},"lvid":{n}{text[end:]}'
    return text


def expand(spec: dict) -> dict:
    """A figure as :func:`figure_json` built it, from its JSON (parsed): each shared array and layout image
    written out again where it was (the front end does the same before plotly.js sees the figure)."""
    shared: dict[int, dict] = {}

    def walk(node: object) -> object:
        if isinstance(node, dict):
            if "lvsame" in node and len(node) == 1:
                return dict(shared[node["lvsame"]])
            node = {key: walk(value) for key, value in node.items()}
            if "lvid" in node and "bdata" in node:
                shared[node["lvid"]] = node = {k: v for k, v in node.items() if k != "lvid"}
            return node
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    spec = walk(spec)
    images = spec.get("layout", {}).get("images") if isinstance(spec.get("layout"), dict) else None
    for image in images if isinstance(images, list) else []:
        if isinstance(image, dict) and "lvsource" in image:
            image["source"] = images[image.pop("lvsource")]["source"]
    return spec


def spec_revision(spec: str) -> str:
    """A content hash of a figure's JSON, the same in every process (unlike ``hash()``, salted per run).

    The front end writes it on the plot once drawn (``data-revision``), so a test can tell which figure a
    chart shows.
    """
    return hashlib.blake2b(spec.encode(), digest_size=8).hexdigest()


def live_plotly_chart(figure: go.Figure | dict, *, key: str, container=None, clickable: bool = False,
                      stale: bool = False, main: bool = False) -> dict | None:
    """Draw ``figure`` in the persistent chart ``key`` (created on first use, updated in place after).

    Parameters
    ----------
    figure : a Figure or a spec of plain dicts (see :func:`figure_json`); its ``layout.height`` sets the
        chart's height (default 450 px).
    key : the chart's identity across reruns; a new key mounts a new chart.
    container : where to draw (a column, the sidebar...); default the main area.
    clickable : a click on the axes (not a drag) reruns the page with the click as the chart's value.
    stale : grey the chart out: it shows the last good picture while the settings have an error.
    main : the page's main figure: when a rerun brings several charts new figures, it is drawn and painted
        first, and the others after it.

    Returns
    -------
    The last click, ``{"x": float, "y": float, "id": str}`` in data coordinates (``id`` differs for each
    click, so a second click on the same spot is still news), or None before the first click. It is also
    ``st.session_state[key]``, readable before the widgets a click should change are drawn.
    """
    spec = figure_json(figure)
    revision = spec_revision(spec)
    if container is None:
        return _component(spec=spec, revision=revision, clickable=clickable, stale=stale, main=main, key=key,
                          default=None)
    with container:
        return _component(spec=spec, revision=revision, clickable=clickable, stale=stale, main=main, key=key,
                          default=None)

