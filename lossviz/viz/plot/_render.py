"""Figures to files: PNG and SVG stills, GIF and MP4 animations, drawn by plotly.js in headless Chromium.

Plotly's own image export (kaleido) starts the browser and loads plotly.js in a page; each picture is then
``Plotly.toImage`` in that page, as kaleido does itself. Kaleido reloads its page after every image (a
third of a second each); an animation instead asks the loaded page for every frame in turn. The browser
stays open between calls (starting it takes seconds) and closes after two idle minutes.

An animation is the figure's frames as a browser plays them: frame k is the figure with frame k's data
and layout applied on top (``Plotly.animate``), its Play buttons and slider replaced by a step counter.
When the frames only move 2-D scatter traces, shapes and annotations (a race's paths and heads), the
still part (the contour map, the colour bar, the legend) is drawn once, and each frame draws only what
moves, on a transparent page laid out exactly like it (margins and axis ranges read from the drawn
figure, then fixed), composited over it. Frames become a GIF (one palette for every frame, no dithering:
flat colours stay flat and the file stays small) or an MP4 (H.264 through imageio-ffmpeg's own ffmpeg),
both with imageio.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import io
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "browser_path", "to_image", "save_image", "render_frames", "encode_gif", "encode_mp4",
    "render_animation", "save_animation", "IMAGE_FORMATS", "ANIMATION_FORMATS",
]

IMAGE_FORMATS = ("png", "svg", "jpeg", "webp", "pdf")
ANIMATION_FORMATS = ("gif", "mp4")
# Every export lays the figure out 960 layout pixels wide and scales it to the size asked for, so text
# keeps its proportion to the picture: 12-point labels read on a projector at 1920 x 1080.
LAYOUT_WIDTH = 960
_BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
_TIMEOUT = 120.0
# Frames sent to plotly.js are small; the still part is sent once.
_OVERLAY_LAYOUT_KEYS = frozenset({"shapes", "annotations", "title", "images"})

Progress = Callable[[float], None]


def browser_path() -> str | None:
    """The Chromium the exports use: ``$BROWSER_PATH`` if set, else Debian's ``/usr/bin/chromium`` (or
    another usual place); None lets kaleido look for one itself."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    return next((path for path in _BROWSERS if Path(path).is_file()), None) or shutil.which("chromium")


# ------------------------------------------------------------------------------------------ figure dicts
def _plain(fig: Any) -> dict:
    """``fig`` (a Figure, or a spec of dicts and NumPy arrays) as JSON-ready dicts plotly.js reads."""
    import plotly.io as pio

    if isinstance(fig, dict):
        fig = {key: fig[key] for key in ("data", "layout", "frames") if key in fig}
        text = pio.to_json(fig, validate=False)
    else:
        text = fig.to_json()
    return json.loads(text)


def _merge(base: dict, update: dict) -> dict:
    """``update`` over ``base`` as ``Plotly.animate`` applies a frame: dicts merge, anything else replaces."""
    out = dict(base)
    for key, value in update.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if nested else value
    return out


def _scale(width: int, height: int) -> tuple[float, int, int]:
    scale = width / LAYOUT_WIDTH
    return scale, LAYOUT_WIDTH, max(1, round(height / scale))


def _check_size(width: object, height: object) -> tuple[int, int]:
    from lossviz._validation import check_int

    return check_int(width, "width", low=16, high=7680), check_int(height, "height", low=16, high=4320)


# ---------------------------------------------------------------------------------------------- browser
class _Page:
    """A headless Chromium tab with plotly.js loaded (kaleido's page), driven by the DevTools protocol."""

    def __init__(self, kaleido_browser: Any, tab: Any) -> None:
        self._kaleido = kaleido_browser
        self._tab = tab

    async def call(self, function: str, *args: Any) -> Any:
        """``function(*args)`` in the page (JSON in, JSON out), awaiting its promise."""
        expression = f"({function})({', '.join(json.dumps(a, allow_nan=False) for a in args)})"
        response = await asyncio.wait_for(self._tab.tab.send_command("Runtime.evaluate", params={
            "expression": expression, "awaitPromise": True, "returnByValue": True}), _TIMEOUT)
        if "error" in response:
            raise RuntimeError(f"the browser refused the figure: {response['error']}")
        result = response["result"]
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            message = details.get("exception", {}).get("description") or details.get("text", "")
            raise RuntimeError(f"plotly.js could not draw the figure: {message}")
        return result["result"].get("value")

    async def image(self, fig: dict, fmt: str, width: int, height: int) -> bytes:
        """One picture of ``fig``, ``width`` x ``height`` pixels (an SVG: its layout, in vectors)."""
        scale, layout_width, layout_height = _scale(width, height)
        url = await self.call(
            "(fig, opts) => Plotly.toImage({data: fig.data, layout: fig.layout, config: {}}, opts)",
            fig, {"format": fmt, "width": layout_width, "height": layout_height, "scale": scale})
        header, _, payload = url.partition(",")
        if header.endswith(";base64"):
            import base64

            return base64.b64decode(payload)
        from urllib.parse import unquote

        return unquote(payload).encode()

    async def geometry(self, fig: dict, width: int, height: int) -> dict:
        """The margins and axis ranges plotly.js computes for ``fig`` at this size (legend, colour bar and
        automatic ranges included), as layout properties that pin them."""
        _, layout_width, layout_height = _scale(width, height)
        measured = await self.call(
            """async (fig, w, h) => {
                const gd = document.createElement('div');
                document.body.appendChild(gd);
                await Plotly.newPlot(gd, fig.data, Object.assign({}, fig.layout, {width: w, height: h}),
                                     {staticPlot: true});
                const full = gd._fullLayout, axes = {};
                for (const key of Object.keys(full)) {
                    if (/^[xy]axis[0-9]*$/.test(key)) {
                        axes[key] = {range: full[key].range, domain: full[key].domain};
                    }
                }
                const size = full._size;
                Plotly.purge(gd);
                gd.remove();
                return {margin: {l: size.l, r: size.r, t: size.t, b: size.b}, axes: axes};
            }""", fig, layout_width, layout_height)
        pinned: dict = {"margin": {**measured["margin"], "autoexpand": False, "pad": 0}}
        for key, axis in measured["axes"].items():
            pinned[key] = {"range": axis["range"], "autorange": False, "domain": axis["domain"]}
        return pinned


def _browser_error(exc: BaseException) -> RuntimeError:
    return RuntimeError(
        "lv.plot draws pictures with Plotly's image export (kaleido), which needs a Chromium browser: "
        "install one (Debian: apt-get install chromium) or point BROWSER_PATH at it. "
        f"({type(exc).__name__}: {exc})")


async def _open() -> tuple[Any, Any]:
    """A headless Chromium (kaleido's, pointed at :func:`browser_path`) and its tab with plotly.js loaded."""
    try:
        import kaleido
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "saving pictures needs kaleido (and Pillow, imageio for animations): pip install 'lossviz[plot]'"
        ) from exc
    options: dict[str, Any] = {"n": 1, "mathjax": False, "timeout": _TIMEOUT}
    path = browser_path()
    if path:
        options["path"] = path
    try:
        browser = kaleido.Kaleido(**options)
        await browser.open()
        return browser, await browser.tabs_ready.get()
    except Exception as exc:  # kaleido's ChromeNotFoundError, a browser that would not start...
        raise _browser_error(exc) from exc


async def _close(browser: Any) -> None:
    # Chromium's goodbye ("{bye}") can arrive with other messages, which choreographer then logs as a JSON
    # error with a traceback: noise, not a failure.
    quiet = logging.getLogger("choreographer")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        await browser.close()
    finally:
        quiet.setLevel(level)


class _Browser:
    """The one browser the exports draw in, kept open between calls and closed after ``IDLE_SECONDS``
    unused (and when Python exits): starting Chromium costs more than drawing a picture.

    It runs in a thread of its own with its own event loop, so it works the same under a running loop
    (Jupyter, Streamlit) as without; callers take turns (one tab), and ``progress`` is reported from the
    caller's thread. A job that fails closes the browser, so the next one starts afresh.
    """

    IDLE_SECONDS = 120.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._tab: Any = None
        self._used = False
        self._path: str | None = None
        self._last = 0.0
        self._timer: threading.Timer | None = None

    def _call(self, coroutine: Any, timeout: float | None = None) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _start(self) -> None:
        self._path = browser_path()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lossviz-browser", daemon=True)
        self._thread.start()
        try:
            self._kaleido, self._tab = self._call(_open())
        except BaseException:
            self._stop()
            raise
        self._used = False

    def _stop(self) -> None:
        loop, thread, browser = self._loop, self._thread, self._kaleido
        self._loop = self._thread = self._kaleido = self._tab = None
        if loop is None:
            return
        if browser is not None:
            try:
                asyncio.run_coroutine_threadsafe(_close(browser), loop).result(15)
            except Exception:  # a browser that is gone already, or will not say goodbye
                pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)

    def run(self, work: Callable[[_Page, Progress], Any], progress: Progress | None) -> Any:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            if self._loop is not None and browser_path() != self._path:  # BROWSER_PATH changed
                self._stop()
            if self._loop is None:
                self._start()
            reports: queue.Queue = queue.Queue()
            tab = self._tab

            async def job() -> Any:
                try:
                    if self._used:  # a fresh page for every job, as kaleido does for every picture
                        await tab.reload()
                    return await work(_Page(self._kaleido, tab), reports.put)
                finally:
                    reports.put(None)

            self._used = True
            future = asyncio.run_coroutine_threadsafe(job(), self._loop)
            while (fraction := reports.get()) is not None:
                if progress is not None:
                    progress(min(max(float(fraction), 0.0), 1.0))
            try:
                return future.result()
            except BaseException:
                self._stop()
                raise
            finally:
                self._last = time.monotonic()
                if self._loop is not None:
                    self._timer = threading.Timer(self.IDLE_SECONDS, self._close_if_idle)
                    self._timer.daemon = True
                    self._timer.start()

    def _close_if_idle(self) -> None:
        with self._lock:
            if time.monotonic() - self._last >= self.IDLE_SECONDS - 1:
                self._stop()

    def close(self) -> None:
        """Close the browser now (the next picture opens a new one)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._stop()


_BROWSER = _Browser()
atexit.register(_BROWSER.close)


def _run(work: Callable[[_Page, Progress], Any], progress: Progress | None) -> Any:
    """Run ``work(page, report)`` in the shared browser, reporting ``progress`` from this thread."""
    return _BROWSER.run(work, progress)


# ---------------------------------------------------------------------------------------------- stills
def _format_of(path: Path, fmt: str | None) -> str:
    name = (fmt or path.suffix.lstrip(".")).lower()
    name = "jpeg" if name == "jpg" else name
    if name not in IMAGE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(IMAGE_FORMATS)} (or the file's extension), got "
                         f"{name!r}")
    return name


def _still(fig: Any) -> dict:
    """A figure as a still: the first picture a browser shows, without Play buttons and sliders."""
    plain = _plain(fig)
    plain.pop("frames", None)
    layout = plain.setdefault("layout", {})
    controls = [layout.pop(key, None) for key in ("updatemenus", "sliders")]
    if any(controls):
        if layout.get("margin", {}).get("b", 0) >= 100:
            layout["margin"]["b"] = 65  # the band the controls sat in
    return plain


def to_image(fig: Any, format: str = "png", *, width: int = 1920, height: int = 1080) -> bytes:
    """The figure as an image file's bytes.

    Parameters
    ----------
    fig : plotly Figure, or a figure dict
    format : {"png", "svg", "jpeg", "webp", "pdf"}
    width, height : int
        Pixels of a raster image. The figure is laid out 960 units wide and scaled to ``width``, so its
        text keeps its size relative to the picture; an SVG is that layout (960 units wide), as vectors.

    Returns
    -------
    bytes

    Examples
    --------
    >>> import lossviz as lv
    >>> png = to_image(lv.plot.contour(lv.surface("booth"), resolution=11), "png", width=320, height=180)
    >>> png[1:4]
    b'PNG'
    """
    fmt = _format_of(Path(), format)
    width, height = _check_size(width, height)
    still = _still(fig)

    async def work(page: _Page, report: Progress) -> bytes:
        return await page.image(still, fmt, width, height)

    return _run(work, None)


def save_image(fig: Any, path: str | os.PathLike, *, width: int = 1920, height: int = 1080,
               format: str | None = None) -> Path:
    """Write the figure to ``path`` (format from its extension: ``.png``, ``.svg``, ``.jpg``, ``.webp``,
    ``.pdf``); ``width`` x ``height`` as :func:`to_image`. Returns the path.

    >>> import pathlib, tempfile
    >>> import lossviz as lv
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> svg = save_image(lv.plot.surface3d(lv.surface("booth"), resolution=11), folder / "booth.svg")
    >>> svg.read_text()[:4]
    '<svg'
    """
    target = Path(path)
    fmt = _format_of(target, format)
    target.write_bytes(to_image(fig, fmt, width=width, height=height))
    return target


# ------------------------------------------------------------------------------------------- animation
def _counter_text(plain: dict, frame: dict) -> str:
    """What the browser's slider would show for ``frame``: its prefix and the step's label."""
    for slider in plain.get("layout", {}).get("sliders", []) or []:
        prefix = (slider.get("currentvalue") or {}).get("prefix", "")
        for step in slider.get("steps", []):
            args = step.get("args") or []
            if args and isinstance(args[0], list) and args[0] == [frame.get("name")]:
                return f"{prefix}{step.get('label', frame.get('name'))}"
    return str(frame.get("name", ""))


def _frame_figures(plain: dict, max_frames: int | None) -> tuple[dict, list[dict], list[tuple[dict, dict]]]:
    """``(base, frames, states)``: the still base, the frames kept and, per frame, the data and layout
    updates it applies (with a step counter added unless the frames draw their own)."""
    frames = list(plain.get("frames") or [])
    if not frames:
        raise ValueError("the figure has no animation frames (use lv.plot.animation, or a figure "
                         "with Play frames)")
    if max_frames is not None and len(frames) > max_frames:
        keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
        frames = [frames[i] for i in keep]
    own_counter = any({"annotations", "title"} & set(f.get("layout") or {}) for f in frames)
    base = _still(plain)
    updates = []
    for frame in frames:
        layout = dict(frame.get("layout") or {})
        if not own_counter:
            counter = {"text": _counter_text(plain, frame), "xref": "paper", "yref": "paper", "x": 1.0,
                       "y": 1.0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                       "font": {"size": 15}, "bgcolor": "rgba(255,255,255,0.85)"}
            layout["annotations"] = [*base["layout"].get("annotations", []), counter]
        traces = frame.get("traces", list(range(len(frame.get("data", [])))))
        data = dict(zip(traces, frame.get("data", []), strict=False))
        updates.append((data, layout))
    return base, frames, updates


def _apply(base: dict, data: dict, layout: dict) -> dict:
    traces = [(_merge(trace, data[i]) if i in data else trace) for i, trace in enumerate(base["data"])]
    return {"data": traces, "layout": _merge(base["layout"], layout)}


def _compositable(base: dict, updates: list[tuple[dict, dict]]) -> bool:
    moving = {i for data, _ in updates for i in data}
    layout_keys = {key for _, layout in updates for key in layout}
    kinds = {base["data"][i].get("type", "scatter") for i in moving if i < len(base["data"])}
    return kinds <= {"scatter"} and layout_keys <= _OVERLAY_LAYOUT_KEYS


def _emptied(trace: dict) -> dict:
    """A moving trace in the still picture: its legend entry, nothing drawn."""
    kept = {k: v for k, v in trace.items() if k not in {"x", "y", "text", "hovertext", "customdata"}}
    return {**kept, "x": [None], "y": [None]}


def _background(base: dict, updates: list[tuple[dict, dict]], pinned: dict) -> dict:
    moving = {i for data, _ in updates for i in data}
    layout = _merge(base["layout"], pinned)
    for key in {k for _, lay in updates for k in lay}:
        layout[key] = {"text": ""} if key == "title" else []
    traces = [(_emptied(t) if i in moving else t) for i, t in enumerate(base["data"])]
    return {"data": traces, "layout": layout}


def _overlay(base: dict, data: dict, layout_update: dict, pinned: dict) -> dict:
    """Only what frame data moves, on a transparent page with the still picture's exact geometry."""
    traces = []
    for i, trace in enumerate(base["data"]):
        if i in data:
            traces.append({**_merge(trace, data[i]), "showlegend": False})
        else:  # a placeholder keeps the trace indices and axes; nothing of it is drawn or sent
            traces.append({"type": trace.get("type", "scatter"), "visible": False,
                           **{k: trace[k] for k in ("xaxis", "yaxis") if k in trace}})
    layout = _merge(base["layout"], pinned)
    for key in list(layout):
        if key.startswith(("xaxis", "yaxis")):
            layout[key] = {**layout[key], "visible": False}
    layout.update(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False,
                  shapes=[], annotations=[], images=[], title={"text": ""})
    layout = _merge(layout, layout_update)
    return {"data": traces, "layout": layout}


def _decode(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def _box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The rows and columns spanning the True pixels of ``mask`` (h, w), or None when there are none."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1)


def _over(overlay: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``overlay`` (RGBA) composited over ``background`` (RGB), in integers, where it draws anything."""
    out = background.copy()
    box = _box(overlay[..., 3] > 0)
    if box is None:
        return out
    drawn = overlay[box]
    alpha = drawn[..., 3:4].astype(np.uint16)
    mixed = drawn[..., :3].astype(np.uint16) * alpha + background[box].astype(np.uint16) * (255 - alpha)
    out[box] = ((mixed + 127) // 255).astype(np.uint8)
    return out


def render_frames(fig: Any, *, width: int = 1280, height: int = 720, max_frames: int | None = None,
                  progress: Progress | None = None) -> list[np.ndarray]:
    """Every animation frame of ``fig`` as a picture, in one browser session.

    Parameters
    ----------
    fig : plotly Figure or figure dict with frames
    width, height : int
        Pixels of each frame.
    max_frames : int, optional
        Keep at most this many frames, evenly spaced, the last one included.
    progress : callable, optional
        Called with the fraction done (0 to 1), from the calling thread.

    Returns
    -------
    list of ndarray, shape (height, width, 3), uint8

    Examples
    --------
    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("booth"), ["sgd", "adam"], steps=20)
    >>> frames = render_frames(lv.plot.animation(race.surface, race, frames=5), width=320, height=180)
    >>> len(frames), frames[0].shape, frames[0].dtype.name
    (5, (180, 320, 3), 'uint8')
    """
    width, height = _check_size(width, height)
    base, _, updates = _frame_figures(_plain(fig), max_frames)
    composite = _compositable(base, updates)

    async def work(page: _Page, report: Progress) -> list[np.ndarray]:
        loop = asyncio.get_running_loop()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="lossviz-frames")
        try:
            if composite:
                pinned = await page.geometry(base, width, height)
                still = await page.image(_background(base, updates, pinned), "png", width, height)
                background = _decode(still)[..., :3]
                work_of = lambda png: _over(_decode(png), background)  # noqa: E731
            else:
                pinned = {}
                work_of = lambda png: _decode(png)[..., :3]  # noqa: E731
            report(0.05)
            pending = []
            for index, (data, layout) in enumerate(updates):
                figure = _overlay(base, data, layout, pinned) if composite else _apply(base, data, layout)
                png = await page.image(figure, "png", width, height)
                # Decoding and compositing run beside the browser drawing the next frame.
                pending.append(loop.run_in_executor(pool, work_of, png))
                report(0.05 + 0.9 * (index + 1) / len(updates))
            return list(await asyncio.gather(*pending))
        finally:
            pool.shutdown(wait=False)

    frames = _run(work, progress)
    return [f if f.shape[:2] == (height, width) else _resized(f, width, height) for f in frames]


def _resized(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize((width, height)))


def _durations(count: int, fps: float, hold: float) -> list[int]:
    step = 1000.0 / fps
    return [round(step)] * (count - 1) + [round(step + 1000.0 * hold)]


def _changed(frame: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Where ``frame`` differs from ``base`` (h, w); channel by channel, as NumPy's reduction over a last axis
    of 3 is ten times slower."""
    changed = frame[..., 0] != base[..., 0]
    changed |= frame[..., 1] != base[..., 1]
    changed |= frame[..., 2] != base[..., 2]
    return changed


def _palette(frames: Sequence[np.ndarray], base: np.ndarray) -> list[int]:
    """256 colours: most for what stays still (the first frame), a quarter for what moves (the pixels that
    differ from it in up to nine frames spread over the animation, the last among them), so a thin path
    keeps its own colour instead of the map's nearest one."""
    from PIL import Image

    picked = sorted({*range(1, len(frames), max(1, len(frames) // 8)), len(frames) - 1} - {0})
    moving = np.concatenate([frames[k][_changed(frames[k], base)] for k in picked] or [np.zeros((0, 3))])
    moving = moving[:: max(1, len(moving) // 500_000)].astype(np.uint8)
    share = 64 if moving.size else 0
    still = Image.fromarray(base).quantize(256 - share, method=Image.Quantize.MEDIANCUT)
    colours = still.getpalette()[: 3 * (256 - share)]
    if share:
        drawn = Image.fromarray(np.ascontiguousarray(moving[None]))
        drawn = drawn.quantize(share, method=Image.Quantize.MEDIANCUT)
        colours += drawn.getpalette()[: 3 * share]
    return colours + [0] * (768 - len(colours))


def encode_gif(frames: Sequence[np.ndarray], *, fps: float = 12.0, hold: float = 1.5) -> bytes:
    """An animated GIF (looping) of RGB frames ``(h, w, 3)``; the last frame stays ``hold`` seconds.

    One 256-colour palette serves every frame, without dithering, so what stays still is the same in every
    frame; only the pixels that differ from the first frame are mapped to it anew. (Pillow writes the
    file, as imageio would, minus imageio's re-mapping of every frame to the palette, which took longer
    than all the rest; like any GIF writer it merges a frame identical to the one before into it.)

    >>> import numpy as np
    >>> import imageio.v3 as iio
    >>> frames = [np.full((4, 6, 3), k * 40, dtype=np.uint8) for k in range(3)]
    >>> iio.imread(encode_gif(frames), index=None).shape
    (3, 4, 6, 3)
    """
    from PIL import Image

    frames = [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]
    base = frames[0]
    palette = _palette(frames, base)
    reference = Image.new("P", (1, 1))
    reference.putpalette(palette)

    def indexed(pixels: np.ndarray) -> np.ndarray:
        image = Image.fromarray(np.ascontiguousarray(pixels))
        return np.asarray(image.quantize(palette=reference, dither=Image.Dither.NONE))

    first = indexed(base)
    pictures = []
    for frame in frames:
        indices = first.copy()
        changed = _changed(frame, base)
        if changed.any():
            indices[changed] = indexed(frame[changed][None])[0]
        picture = Image.fromarray(indices, mode="P")
        picture.putpalette(palette)
        pictures.append(picture)
    out = io.BytesIO()
    pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:], loop=0, optimize=False,
                     duration=_durations(len(frames), fps, hold))
    return out.getvalue()


def encode_mp4(frames: Sequence[np.ndarray], *, fps: float = 12.0, hold: float = 1.5) -> bytes:
    """An H.264 MP4 (yuv420p, plays everywhere) of RGB frames ``(h, w, 3)``, the last held ``hold`` s.

    >>> import numpy as np
    >>> mp4 = encode_mp4([np.zeros((16, 16, 3), dtype=np.uint8)] * 3, fps=10, hold=0.0)
    >>> mp4[4:8]
    b'ftyp'
    """
    import imageio.v3 as iio

    extra = [frames[-1]] * int(round(hold * fps))
    with tempfile.TemporaryDirectory(prefix="lossviz-") as folder:
        target = Path(folder) / "animation.mp4"
        iio.imwrite(target, np.stack([*frames, *extra]), plugin="FFMPEG", fps=fps, codec="libx264",
                    quality=8, macro_block_size=2, output_params=["-movflags", "+faststart"])
        return target.read_bytes()


_ENCODERS = {"gif": encode_gif, "mp4": encode_mp4}


def render_animation(fig: Any, formats: Sequence[str] = ANIMATION_FORMATS, *, fps: float = 12.0,
                     width: int = 1280, height: int = 720, max_frames: int | None = None, hold: float = 1.5,
                     progress: Progress | None = None) -> dict[str, bytes]:
    """The figure's animation in each of ``formats`` ("gif", "mp4"), its frames drawn once for all.

    ``progress`` gets the fraction done; drawing the frames is most of it. See :func:`render_frames`.

    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("booth"), ["sgd"], steps=10)
    >>> files = render_animation(lv.plot.animation(race.surface, race, frames=4), width=160, height=90)
    >>> sorted(files), files["gif"][:6]
    (['gif', 'mp4'], b'GIF89a')
    """
    unknown = [f for f in formats if f not in _ENCODERS]
    if unknown or not formats:
        raise ValueError(f"formats must be some of {', '.join(ANIMATION_FORMATS)}, got {list(formats)}")
    from lossviz._validation import check_scalar

    fps = check_scalar(fps, "fps", low=0.0, high=60.0, include_low=False)
    hold = check_scalar(hold, "hold", low=0.0, high=60.0)
    share = 0.85

    def drawing(fraction: float) -> None:
        if progress is not None:
            progress(share * fraction)

    frames = render_frames(fig, width=width, height=height, max_frames=max_frames, progress=drawing)
    # The formats encode side by side (ffmpeg is a process of its own); progress is reported from here.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(formats)) as pool:
        jobs = {pool.submit(_ENCODERS[fmt], frames, fps=fps, hold=hold): fmt for fmt in formats}
        out = {}
        for done, job in enumerate(concurrent.futures.as_completed(jobs), start=1):
            out[jobs[job]] = job.result()
            if progress is not None:
                progress(share + (1 - share) * done / len(formats))
    return {fmt: out[fmt] for fmt in formats}


def save_animation(fig: Any, path: str | os.PathLike, *, fps: float = 12.0, width: int = 1280,
                   height: int = 720, max_frames: int | None = None, hold: float = 1.5,
                   progress: Progress | None = None) -> Path:
    """Write the figure's animation to ``path``: ``.gif`` or ``.mp4``, ``width`` x ``height`` pixels, ``fps``
    frames a second, the last frame held ``hold`` seconds. Returns the path.

    The frames are the figure's own (:func:`lossviz.viz.plot.animation` gives a race's); ``max_frames`` keeps
    at most that many, evenly spaced. ``progress`` is called with the fraction done.

    >>> import pathlib, tempfile
    >>> import imageio.v3 as iio
    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("booth"), ["sgd", "adam"], steps=30)
    >>> gif = save_animation(lv.plot.animation(race.surface, race, frames=6),
    ...                      pathlib.Path(tempfile.mkdtemp()) / "race.gif", width=320, height=180)
    >>> iio.imread(gif, index=None).shape
    (6, 180, 320, 3)
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in ANIMATION_FORMATS:
        raise ValueError(f"an animation is saved as .gif or .mp4, got {target.name!r}")
    files = render_animation(fig, (fmt,), fps=fps, width=width, height=height, max_frames=max_frames,
                             hold=hold, progress=progress)
    target.write_bytes(files[fmt])
    return target
