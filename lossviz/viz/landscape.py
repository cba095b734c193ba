"""Plotly figures of a 2-D loss surface with optimizer paths: contour, 3-D surface, curves.

Arrays in, figures out: this module imports plotly and NumPy only, never streamlit. Grids follow the
project convention ``Z.shape == (len(ys), len(xs))``.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import math
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "PALETTE",
    "HALO",
    "translucent",
    "Path",
    "Arrow",
    "Exit",
    "view_exit",
    "color_scale_values",
    "contour_figure",
    "surface_figure",
    "curves_figure",
    "contour_spec",
    "surface_spec",
    "curves_spec",
    "as_figure",
    "scrubber",
    "clip_segment",
    "annotation_index",
    "panel_axes",
    "panel_title",
    "panel_map",
    "panel_end_mark",
    "small_multiples_spec",
    "play_below_axis_title",
    "start_ring",
    "equal_axes",
]

# Okabe-Ito: distinguishable for the common colour-vision deficiencies and on a washed-out projector.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
# A white halo around a label (textfont.shadow): it reads on lines of its own colour and over dashed marks.
HALO = "1px 1px 1px white, -1px -1px 1px white, 1px -1px 1px white, -1px 1px 1px white"


def translucent(color: str, alpha: float) -> str:
    """``color`` (``#rrggbb``) at ``alpha`` as ``rgba(...)``, for markers drawn in their hundreds.

    A marker's ``opacity`` is written on every point as a CSS opacity, and each such point is a layer of
    its own for the browser's compositor: Batch size's 4,500 translucent points made every frame of the
    page cost about 100 ms there. A colour's alpha is a fill opacity, which costs nothing; a marker
    without an outline looks the same either way.

    >>> translucent("#0072B2", 0.45)
    'rgba(0, 114, 178, 0.45)'
    """
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
        raise ValueError(f"color must be written #rrggbb, got {color!r}")
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha:g})"


MINIMUM_COLOR = "#111111"
MAX_FRAMES = 60


@dataclass(frozen=True)
class Path:
    """One optimizer's path on the plane.

    xy : (T+1, 2) positions, NaN after the run stopped diverging; z : (T+1,) loss at each position.
    """

    label: str
    color: str
    xy: np.ndarray
    z: np.ndarray
    diverged_at: int = -1
    note: str = ""
    dash: str = "solid"  # an optimizer's second sequence (ASGD's average) is drawn dashed

    @functools.cached_property
    def last_finite(self) -> int:
        """The last step whose position is finite (0 when none is); computed once, asked per frame."""
        finite = np.flatnonzero(np.all(np.isfinite(self.xy), axis=1))
        return int(finite[-1]) if finite.size else 0


@dataclass(frozen=True)
class Arrow:
    """An arrow drawn on the contour in data coordinates, from ``start`` to ``end``."""

    start: tuple[float, float]
    end: tuple[float, float]
    color: str
    label: str = ""
    dash: bool = False


@dataclass(frozen=True)
class ColorScale:
    values: np.ndarray
    title: str
    tickvals: list[float] = field(default_factory=list)
    ticktext: list[str] = field(default_factory=list)


def color_scale_values(Z: np.ndarray, log_scale: bool, floor: float | None = None) -> ColorScale:
    """Values to colour by: ``Z`` itself, or ``log10(1 + Z - floor)`` when the surface spans decades.

    The log map keeps the ordering and shows Rosenbrock's valley, which a linear scale paints one colour;
    the colour bar is labelled in loss units so the reader never has to undo the transform.
    """
    if not log_scale:
        return ColorScale(Z, "loss")
    base = np.nanmin(Z) if floor is None or not np.isfinite(floor) else min(floor, np.nanmin(Z))
    with np.errstate(invalid="ignore"):
        values = np.log10(1.0 + (Z - base))
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    exponents = np.arange(0, int(np.ceil(top)) + 1)
    # A tick at colour value k sits where the loss is base + 10**k - 1: label it with that loss.
    ticktext = [f"{base + 10.0**k - 1.0:.3g}" for k in exponents]
    return ColorScale(values, "loss (log scale)", exponents.astype(float).tolist(), ticktext)


# Plotly's Viridis, the maps' colour scale.
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
           "#fde725")
RASTER_SIDE = 400  # the background image's longer side, in pixels
_RASTERS: dict = {}  # data URI by the grid's content: a rerun that keeps the surface sends the same image
_STOPS = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in VIRIDIS], dtype=float)  # (10, 3) RGB


def _png(rgba: np.ndarray) -> bytes:
    """A minimal PNG (8-bit RGBA, no filter) of ``rgba`` (h, w, 4) uint8. zlib level 5: on a map's
    smooth colours, 5 % more bytes than level 6 in half the time (about 5 ms instead of 9 for 400 px)."""
    h, w, _ = rgba.shape
    raw = np.empty((h, 4 * w + 1), dtype=np.uint8)
    raw[:, 0] = 0  # each row's filter byte: none
    raw[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 5))
            + chunk(b"IEND", b""))


def raster(values: np.ndarray, levels: int = 30, lines: bool = True) -> str:
    """The map's colour field as a PNG data URI: ``values`` (ny, nx) through Viridis, smoothed to about
    :data:`RASTER_SIDE` pixels, with ``levels`` thin light iso-lines; NaN is transparent (a gap).

    Drawn as the plot's background image, a map redraws in about half the time of a Plotly contour trace
    (every path change, every scrubber step), and looks the same: heatmap colouring, 30 lines.
    """
    values = np.asarray(values, dtype=float)
    key = (hashlib.blake2b(values.tobytes(), digest_size=16).hexdigest(), values.shape, levels, lines)
    if key in _RASTERS:
        return _RASTERS[key]
    ny, nx = values.shape
    scale = RASTER_SIDE / max(nx, ny)
    w, h = max(int(nx * scale), 2), max(int(ny * scale), 2)
    # Bilinear resampling at pixel centres (cell corners are the grid points, as Plotly draws them).
    gx, gy = np.linspace(0, nx - 1, w), np.linspace(0, ny - 1, h)
    x0, y0 = np.clip(gx.astype(int), 0, nx - 2), np.clip(gy.astype(int), 0, ny - 2)
    fx, fy = (gx - x0)[None, :], (gy - y0)[:, None]
    with np.errstate(invalid="ignore"):
        # Along x on every grid row, then along y between rows: the same products and sums as the 2-D
        # formula (v00 (1 - fx) + v01 fx) (1 - fy) + (v10 (1 - fx) + v11 fx) fy, on (ny, w) values first.
        rows = values[:, x0] * (1 - fx) + values[:, x0 + 1] * fx
        field_ = rows[y0] * (1 - fy) + rows[y0 + 1] * fy
    finite = np.isfinite(field_)
    low, high = (float(field_[finite].min()), float(field_[finite].max())) if finite.any() else (0.0, 1.0)
    unit = np.where(finite, (field_ - low) / (high - low if high > low else 1.0), 0.0)
    position = unit * (len(_STOPS) - 1)
    index = np.clip(position.astype(int), 0, len(_STOPS) - 2)
    frac = position - index
    rgb = np.empty((h, w, 3))
    for channel in range(3):  # one channel at a time: gathers from a 1-D table, no (h, w, 3) temporaries
        stop = _STOPS[:, channel]
        rgb[..., channel] = stop[index] * (1 - frac) + stop[index + 1] * frac
    if lines:
        band = np.floor(unit * levels)
        edge = np.zeros(band.shape, dtype=bool)
        edge[:, 1:] |= band[:, 1:] != band[:, :-1]
        edge[1:, :] |= band[1:, :] != band[:-1, :]
        rgb[edge] = rgb[edge] * 0.75 + 255 * 0.25
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = np.round(rgb, out=rgb)
    rgba[..., 3] = np.where(finite, 255, 0)
    uri = "data:image/png;base64," + base64.b64encode(_png(rgba[::-1])).decode()
    if len(_RASTERS) >= 64:
        _RASTERS.pop(next(iter(_RASTERS)))
    _RASTERS[key] = uri
    return uri


def background(xs: np.ndarray, ys: np.ndarray, scale: ColorScale, *, axes: tuple[str, str] = ("x", "y"),
               colorbar: bool = True, levels: int = 30, lines: bool = True) -> tuple[list[dict], dict]:
    """A map's colour field: the traces (the grid as an undrawn contour trace, which keeps its data and
    name, and a two-value heatmap for the colour bar) and the layout image that paints it."""
    x, y = axes
    finite = scale.values[np.isfinite(scale.values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    # One colour-bar dict for both traces: a builder that retitles data[0]["colorbar"] retitles the bar drawn.
    bar = _colorbar(scale) if colorbar else None
    traces = [
        {"type": "contour", "x": xs, "y": ys, "z": scale.values, "visible": False, "name": "loss",
         "showlegend": False, "xaxis": x, "yaxis": y, "colorscale": "Viridis",
         **({"colorbar": bar} if bar else {})},
        {"type": "heatmap", "x": [float(xs[0]), float(xs[-1])], "y": [float(ys[0]), float(ys[-1])],
         "z": [[low, high], [low, high]], "zmin": low, "zmax": high, "colorscale": "Viridis", "opacity": 0.0,
         "hoverinfo": "skip", "showscale": colorbar, "name": "loss scale", "showlegend": False,
         "xaxis": x, "yaxis": y, **({"colorbar": bar} if bar else {})},
    ]
    return traces, field_image(xs, ys, raster(scale.values, levels, lines), axes)


def field_image(xs: np.ndarray, ys: np.ndarray, source: str, axes: tuple[str, str] = ("x", "y")) -> dict:
    """The layout image that paints ``source`` (a :func:`raster`) over the grid's box on ``axes``, under
    the traces."""
    return {"source": source, "xref": axes[0], "yref": axes[1], "x": float(xs[0]), "y": float(ys[-1]),
            "sizex": float(xs[-1] - xs[0]), "sizey": float(ys[-1] - ys[0]), "sizing": "stretch",
            "xanchor": "left", "yanchor": "top", "layer": "below"}


def _colorbar(scale: ColorScale) -> dict:
    bar: dict = {"title": {"text": scale.title, "side": "right"}, "thickness": 14, "len": 0.9}
    if scale.tickvals:
        bar.update(tickvals=scale.tickvals, ticktext=scale.ticktext)
    return bar


def _spec(data: list[dict], layout: dict, frames: list[dict] | None = None) -> dict:
    """A figure as plain dicts (NumPy arrays left as they are), not checked property by property.

    Plotly validates every property of a figure built from ``go.*`` objects: for the contour map with its
    animation that was about 30 ms per figure, most of a slider step's server time. The builders here
    write only properties they know; ``tests/test_landscape_figures.py`` runs each through plotly's
    validation, so a misspelt property fails a test instead of being silently dropped. A live chart
    (:mod:`lossviz.ui.live_plotly`) serializes the dicts directly; :func:`as_figure` makes a Figure.
    """
    spec = {"data": data, "layout": layout}
    if frames:
        spec["frames"] = frames
    return spec


def as_figure(spec: dict) -> go.Figure:
    """A figure spec (``*_spec``) as a plotly Figure, without re-validating it; frames stay plain dicts."""
    base = {"data": spec["data"], "layout": spec["layout"]}
    return _RawFramesFigure(base, spec["frames"]) if spec.get("frames") else go.Figure(base, _validate=False)


class _RawFramesFigure(go.Figure):
    """A Figure whose animation frames are plain dicts, added only when it is serialized."""

    def __init__(self, figure: go.Figure | dict, frames: list[dict]):
        super().__init__(figure, _validate=False)
        self._raw_frames = frames

    def to_dict(self) -> dict:
        spec = super().to_dict()
        spec["frames"] = self._raw_frames
        return spec

    def to_plotly_json(self) -> dict:
        return self.to_dict()


@dataclass(frozen=True)
class Exit:
    """Where a path first leaves the view: the crossing point on the box's edge and the step after it;
    ``back``, the step from which it stays in the view to its end (-1 if it does not come back)."""

    x: float
    y: float
    step: int
    back: int = -1

    @property
    def words(self) -> str:
        """"left the view at step 1", and ", back from step 12" for a path that ends inside it again."""
        return f"left the view at step {self.step}" + (f", back from step {self.back}" if self.back >= 0
                                                       else "")


def view_exit(xy: np.ndarray, box: tuple[tuple[float, float], tuple[float, float]]) -> Exit | None:
    """The first point where the path ``xy`` (T+1, 2) crosses out of ``box``, or None if it stays in.

    A path that starts outside the box has no exit (it is drawn from where it enters, if it does).

    >>> view_exit(np.array([[0.0, 0.0], [2.0, 0.0]]), ((-1.0, 1.0), (-1.0, 1.0)))
    Exit(x=1.0, y=0.0, step=1, back=-1)
    >>> box = ((-1.0, 1.0), (-1.0, 1.0))
    >>> view_exit(np.array([[0.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.5, 0.0]]), box).words
    'left the view at step 1, back from step 3'
    """
    (x_lo, x_hi), (y_lo, y_hi) = box
    with np.errstate(invalid="ignore"):
        inside = (xy[:, 0] >= x_lo) & (xy[:, 0] <= x_hi) & (xy[:, 1] >= y_lo) & (xy[:, 1] <= y_hi)
    if not inside.size or not inside[0]:
        return None
    out = np.flatnonzero(~inside)
    if not out.size:
        return None
    k = int(out[0])
    a, b = xy[k - 1], xy[k]
    if not np.all(np.isfinite(b)):
        return None  # the run stopped (diverged): the cross at its last finite point says so
    point = clip_segment(a, b, box)
    back = int(np.flatnonzero(~inside)[-1]) + 1 if inside[-1] else -1
    return Exit(float(point[0]), float(point[1]), k, back)


def clip_segment(a: np.ndarray, b: np.ndarray,
                 box: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """Where the segment from ``a`` (inside ``box``) towards ``b`` leaves the box; ``b`` if it stays in.

    >>> clip_segment(np.array([0.0, 0.0]), np.array([4.0, 1.0]), ((-1.0, 1.0), (-1.0, 1.0))).tolist()
    [1.0, 0.25]
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    fraction = 1.0  # the largest fraction of a -> b that stays in the box
    for axis, (lo, hi) in enumerate(box):
        delta = b[axis] - a[axis]
        if delta > 0 and b[axis] > hi:
            fraction = min(fraction, (hi - a[axis]) / delta)
        elif delta < 0 and b[axis] < lo:
            fraction = min(fraction, (lo - a[axis]) / delta)
    return a + fraction * (b - a)


def _in_view(xy: np.ndarray, box: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    (x_lo, x_hi), (y_lo, y_hi) = box
    with np.errstate(invalid="ignore"):
        return (xy[:, 0] >= x_lo) & (xy[:, 0] <= x_hi) & (xy[:, 1] >= y_lo) & (xy[:, 1] <= y_hi)


def _inward(exit_: Exit, box: tuple[tuple[float, float], tuple[float, float]] | None) -> str:
    """Where a label on the view's edge goes so that it reads inside the view (plotly clips it at the
    edge): away from the edges the exit is near, "top center" elsewhere."""
    if box is None:
        return "top center"
    (x_lo, x_hi), (y_lo, y_hi) = box
    near_x, near_y = 0.15 * (x_hi - x_lo), 0.1 * (y_hi - y_lo)
    vertical = "bottom" if exit_.y > y_hi - near_y else "top"
    horizontal = "right" if exit_.x < x_lo + near_x else "left" if exit_.x > x_hi - near_x else "center"
    return f"{vertical} {horizontal}"


def _close(a: Exit, b: Exit, box: tuple[tuple[float, float], tuple[float, float]]) -> bool:
    """Two exits whose labels (about a quarter of the view wide, a line high) would overlap."""
    (x_lo, x_hi), (y_lo, y_hi) = box
    return abs(a.x - b.x) < 0.3 * (x_hi - x_lo) and abs(a.y - b.y) < 0.08 * (y_hi - y_lo)


def _exit_marker(path: Path, exit_: Exit, z: float | None = None,
                 box: tuple[tuple[float, float], tuple[float, float]] | None = None) -> dict:
    """A triangle on the edge where ``path`` leaves the view (``box``), labelled with the step inside it."""
    trace = {
        "x": [exit_.x], "y": [exit_.y], "mode": "markers+text", "legendgroup": path.label,
        "text": [exit_.words], "textposition": _inward(exit_, box),
        "textfont": {"color": path.color, "size": 12}, "showlegend": False, "hoverinfo": "text",
        "hovertext": [f"{path.label}: {exit_.words}"],
    }
    if z is None:  # a label on its own path's lines (Momentum's clicked cell): haloed to read
        trace["textfont"]["shadow"] = HALO
        trace.update(type="scatter",
                     marker={"symbol": "triangle-up", "size": 13, "color": path.color,
                             "line": {"width": 1.5, "color": "white"}})
    else:
        trace.update(type="scatter3d", z=[z],
                     marker={"symbol": "diamond-open", "size": 7, "color": path.color})
    return trace


def _frame_steps(n_steps: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, min(max_frames, n_steps + 1)).round().astype(int))


def _position_at(path: Path, step: int) -> tuple[float, float]:
    k = min(step, path.last_finite)
    return float(path.xy[k, 0]), float(path.xy[k, 1])


def _head(path: Path, step: int) -> dict:
    """A 14-pixel disc at the path's position at ``step`` (its last finite point once it stopped)."""
    x, y = _position_at(path, step)
    return {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "xanchor": x, "yanchor": y, "x0": -7, "x1": 7, "y0": -7, "y1": 7,
            "fillcolor": path.color, "line": {"color": "white", "width": 2}}


def contour_spec(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    paths: Sequence[Path] = (),
    minima: np.ndarray | None = None,
    log_scale: bool = False,
    min_value: float | None = None,
    start: tuple[float, float] | None = None,
    arrows: Sequence[Arrow] = (),
    animate: bool = True,
    click_grid: int = 0,
    height: int = 520,
    view_key: str | None = None,
    minimum_label: str = "global minimum",
) -> dict:
    """Contour map with paths, minima, divergence marks, an optional animation and click targets.

    Parameters
    ----------
    xs, ys : (nx,), (ny,) grid axes; Z : (ny, nx) loss values (NaN = gap).
    paths : optimizer paths; each gets a line, a moving head marker (animation frames) and, where it
        diverged, a cross at its last finite point whose hover text says why.
    minima : (m, 2) known global minimizers, drawn as stars.
    animate : add Plotly frames with a play button and a step slider, so playback and scrubbing run in
        the browser without a server round trip.
    click_grid : when > 0, an invisible ``click_grid`` x ``click_grid`` lattice of points that a click can
        select (Plotly selection events fire on scatter points, not on contour cells).
    view_key : names what the map shows (the surface): a zoom or pan the user made is kept while it stays
        the same (``layout.uirevision``).
    minimum_label : the stars' legend entry ("lowest minimum found" for a typed formula).
    """
    scale = color_scale_values(Z, log_scale, min_value)
    data, image = background(xs, ys, scale)
    if click_grid:
        gx, gy = np.meshgrid(np.linspace(xs[0], xs[-1], click_grid), np.linspace(ys[0], ys[-1], click_grid))
        data.append({
            "type": "scatter", "x": gx.ravel(), "y": gy.ravel(), "mode": "markers",
            "name": "click to start here",
            "marker": {"size": 10, "color": "rgba(255, 255, 255, 0)"}, "showlegend": False,
            "hovertemplate": "click: start at (%{x:.2f}, %{y:.2f})<extra></extra>",
        })
    if minima is not None and len(minima):
        data.append({
            "type": "scatter", "x": minima[:, 0], "y": minima[:, 1], "mode": "markers", "name": minimum_label,
            "marker": {"symbol": "star", "size": 16, "color": "white",
                       "line": {"color": MINIMUM_COLOR, "width": 1.5}},
            "hovertemplate": minimum_label + " (%{x:.4g}, %{y:.4g})<extra></extra>",
        })
    if start is not None:
        data.append({
            "type": "scatter", "x": [float(start[0])], "y": [float(start[1])], "mode": "markers",
            "name": "start",
            "marker": {"symbol": "circle", "size": 13, "color": "white",
                       "line": {"width": 2.5, "color": MINIMUM_COLOR}},
            "hovertemplate": "start (%{x:.4g}, %{y:.4g})<extra></extra>",
        })
    labelled: list[Exit] = []  # exits whose label is written: another one close by keeps its hover text only
    for path in paths:
        data.append({
            "type": "scatter", "x": path.xy[:, 0], "y": path.xy[:, 1], "mode": "lines", "name": path.label,
            "line": {"color": path.color, "width": 2.5 if path.dash == "solid" else 1.8, "dash": path.dash},
            "legendgroup": path.label,
            "hovertemplate": f"{path.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        })
        box = ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))
        exit_ = view_exit(path.xy, box)
        if exit_ is not None:
            data.append(_exit_marker(path, exit_, box=box))
            if any(_close(exit_, other, box) for other in labelled):
                data[-1]["mode"] = "markers"  # two labels on one spot could be read as neither
            else:
                labelled.append(exit_)
        if path.diverged_at >= 0:
            k = path.last_finite
            data.append({
                "type": "scatter", "x": [float(path.xy[k, 0])], "y": [float(path.xy[k, 1])],
                "mode": "markers+text",
                "legendgroup": path.label,
                "marker": {"symbol": "x", "size": 14, "color": path.color,
                           "line": {"width": 2, "color": "white"}},
                "text": [f"diverged at step {path.diverged_at}"], "textposition": "top center",
                "textfont": {"color": path.color, "size": 13}, "showlegend": False,
                "hovertext": [path.note or f"diverged at step {path.diverged_at}"], "hoverinfo": "text",
            })
    layout: dict = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        # No grid or zero line: they would be drawn over the background image.
        "xaxis": {"title": {"text": "x"}, "range": [float(xs[0]), float(xs[-1])], "constrain": "domain",
                  "showgrid": False, "zeroline": False},
        "yaxis": {"title": {"text": "y"}, "range": [float(ys[0]), float(ys[-1])], "showgrid": False,
                  "zeroline": False},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                   "bgcolor": "rgba(255,255,255,0.7)"},
        "template": "none",
        "images": [image],
        **({"uirevision": view_key} if view_key is not None else {}),
        # Streamlit turns click-selection off when the drag mode is box or lasso select: pan keeps a click
        # on a click_grid lattice point a selection event (how a st.plotly_chart page takes a click).
        "clickmode": "event+select",
        "dragmode": "pan",
        # The moving "now" markers are layout shapes, not traces: frames that only change the layout leave
        # the contour alone, while Plotly.js's trace animation wipes contour and heatmap layers (plotly.js
        # #4491, plotly.py #2151) -- the map vanished on Play.
        "shapes": [_head(path, 0) for path in paths],
        "annotations": [
            {"x": arrow.end[0], "y": arrow.end[1], "ax": arrow.start[0], "ay": arrow.start[1],
             "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "showarrow": True, "arrowhead": 3,
             "arrowsize": 1.3, "arrowwidth": 2.5, "arrowcolor": arrow.color, "text": arrow.label,
             "font": {"color": arrow.color, "size": 13}, "bgcolor": "rgba(255,255,255,0.8)"}
            for arrow in arrows
        ],
    }
    frames = None
    if animate and paths:
        n_steps = max(len(p.xy) for p in paths) - 1
        steps = _frame_steps(n_steps)
        frames = [{"name": str(step), "layout": {"shapes": [_head(p, step) for p in paths]}}
                  for step in steps]
        play = {"frame": {"duration": 60, "redraw": False}, "transition": {"duration": 0},
                "fromcurrent": True}
        layout["updatemenus"] = [
            {
                "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left",
                "yanchor": "top",
                "pad": {"r": 8, "t": 0}, "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate",
                     "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]},
                ],
            }
        ]
        layout["sliders"] = [
            {
                "active": 0, "x": 0.16, "len": 0.84, "y": -0.12, "yanchor": "top", "pad": {"t": 0},
                "currentvalue": {"prefix": "step ", "font": {"size": 13}},
                "steps": [
                    {"label": str(s), "method": "animate",
                     "args": [[str(s)], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}]}
                    for s in steps
                ],
            }
        ]
        layout["margin"]["b"] = 110
    spec = _spec(data, layout, frames)
    if frames:  # the controls hang lower (in pixels): the figure grows by as much, the map keeps its size
        spec = play_below_axis_title(spec)
        layout["height"] = height + layout["margin"]["b"] - 110
    return spec


def surface_spec(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    paths: Sequence[Path] = (),
    minima: np.ndarray | None = None,
    min_value: float | None = None,
    log_scale: bool = False,
    height: int = 520,
    view_key: str = "surface",
) -> dict:
    """3-D surface (height = loss, or log10(1 + loss - floor) when ``log_scale``) with the same paths.

    The box is the surface's own (x, y over the grid, height over its values): a path is drawn while it
    is in the view, lifted a hair above the surface so it is not hidden under it, and marked where it
    leaves. ``view_key`` names the surface: the camera the user turned to is kept while it stays the same.
    """
    scale = color_scale_values(Z, log_scale, min_value)
    finite = Z[np.isfinite(Z)]
    base = (float(finite.min()) if finite.size else 0.0) if min_value is None else min(
        min_value, float(finite.min()) if finite.size else min_value)

    def height_of(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if not log_scale:
            return z
        with np.errstate(invalid="ignore"):
            return np.log10(1.0 + (z - base))

    heights = np.asarray(scale.values, dtype=float)
    shown = heights[np.isfinite(heights)]
    low, high = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    lift = 0.01 * (high - low)
    box = ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))
    data: list[dict] = [{
        "type": "surface", "x": xs, "y": ys, "z": scale.values, "colorscale": "Viridis", "showscale": False,
        "hoverinfo": "skip", "opacity": 0.95, "name": "loss",
        "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": False}, "width": 1}},
    }]
    if minima is not None and len(minima) and min_value is not None:
        data.append({
            "type": "scatter3d", "x": minima[:, 0], "y": minima[:, 1],
            "z": height_of(np.full(len(minima), min_value)) + lift,
            "mode": "markers", "name": "global minimum",
            "marker": {"symbol": "diamond", "size": 6, "color": "white",
                       "line": {"color": MINIMUM_COLOR, "width": 2}},
        })
    for path in paths:
        inside = _in_view(path.xy, box)
        z = np.clip(height_of(path.z), low, high) + lift
        data.append({
            "type": "scatter3d", "x": np.where(inside, path.xy[:, 0], np.nan),
            "y": np.where(inside, path.xy[:, 1], np.nan), "z": np.where(inside, z, np.nan), "mode": "lines",
            "name": path.label, "line": {"color": path.color, "width": 6}, "showlegend": False,
        })
        exit_ = view_exit(path.xy, box)
        if exit_ is not None:
            k = exit_.step - 1
            data.append(_exit_marker(path, exit_, float(z[k]) if np.isfinite(z[k]) else high))
    zlabel = "log₁₀(1 + loss − min)" if log_scale else "loss"
    pad = 0.02 * (high - low)
    return _spec(data, {
        "height": height, "margin": {"l": 0, "r": 0, "t": 30, "b": 0}, "template": "none",
        "showlegend": False,
        # Updated in place (lossviz.ui.live_plotly), the view keeps the camera the user turned it to until
        # the surface itself changes.
        "uirevision": view_key,
        "scene": {
            "xaxis": {"title": {"text": "x"}, "range": list(box[0])},
            "yaxis": {"title": {"text": "y"}, "range": list(box[1])},
            "zaxis": {"title": {"text": zlabel}, "range": [low - pad, high + 4 * pad]},
            "aspectmode": "manual",
            "aspectratio": {"x": 1, "y": 1, "z": 0.6}, "camera": {"eye": {"x": 1.5, "y": -1.5, "z": 1.0}},
        },
    })


def curves_spec(
    series: Sequence[tuple[str, str, np.ndarray]],
    *,
    ylabel: str,
    log_y: bool = True,
    height: int = 320,
    hlines: Sequence[tuple[float, str]] = (),
) -> dict:
    """Line chart of per-step values; ``series`` items are ``(label, color, values (T+1,))``.

    On a log axis, values <= 0 cannot be drawn; they are gaps rather than silently clipped numbers.
    """
    data = []
    for label, color, values in series:
        y = np.asarray(values, dtype=float)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        data.append({"type": "scatter", "x": np.arange(y.size), "y": y, "mode": "lines", "name": label,
                     "line": {"color": color, "width": 2}})
    layout = {
        "height": height, "margin": {"l": 70, "r": 20, "t": 30, "b": 50}, "template": "none",
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": ylabel}, "type": "log" if log_y else "linear", "exponentformat": "power"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        # A dotted line across the whole width at each value, labelled at its right end.
        "shapes": [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": value,
                    "y1": value, "line": {"dash": "dot", "color": "#555"}} for value, _ in hlines],
        "annotations": [{"xref": "x domain", "x": 1, "yref": "y", "y": value, "text": text,
                         "showarrow": False, "xanchor": "right", "yanchor": "bottom"}
                        for value, text in hlines],
    }
    return _spec(data, layout)


def scrubber(label: str, values: list[str], active: int, traces: list[int], frames: list[list[dict]],
             hide: list[int] = (), *, heads: Sequence[tuple[int, int]] = (), hide_shapes: Sequence[int] = (),
             hide_annotations: Sequence[int] = (), texts: dict[int, Sequence[str]] | None = None) -> dict:
    """A client-side slider for a figure spec (``spec["lossviz_scrub"] = scrubber(...)``).

    ``frames[i][k]`` holds the arrays (``{"x": ..., "y": ..., "z": ...}``) trace ``traces[k]`` shows at
    position ``i``, whose label is ``values[i]``; ``active`` is the position the figure itself shows.
    Traces ``hide`` (markers that belong to the exact value only) are hidden away from ``active``.
    Moving the slider restyles those traces in the browser: no request reaches the server.

    The layout goes with the position too. ``heads``: pairs ``(shape, k)``, a layout shape (an animation's
    moving head, :func:`_head`) that follows trace ``traces[k]``'s path away from ``active``, in the layout
    and in every animation frame (its point at the frame's step, or its last finite one before).
    ``hide_shapes`` and ``hide_annotations`` (an inspected step's arrows, a head of a path the scrubber does
    not move) belong to the exact value and are hidden away from it; ``texts[a][i]`` is annotation
    ``a``'s text at position ``i`` (a panel's note that names the value and what it gave).
    """
    if not (len(values) == len(frames) and 0 <= active < len(values)):
        raise ValueError(f"a scrubber needs one frame per value and 0 <= active < {len(values)}, got "
                         f"{len(frames)} frames and active = {active}")
    texts = {int(a): [str(t) for t in column] for a, column in (texts or {}).items()}
    if any(len(column) != len(values) for column in texts.values()):
        raise ValueError(f"a scrubber's annotation texts need one text per value ({len(values)})")
    if any(not 0 <= k < len(traces) for _, k in heads):
        raise ValueError(f"a scrubber's head follows one of its {len(traces)} traces")
    return {"label": label, "values": list(values), "active": int(active), "traces": list(traces),
            "frames": frames, "hide": list(hide), "heads": [[int(s), int(k)] for s, k in heads],
            "hide_shapes": [int(s) for s in hide_shapes],
            "hide_annotations": [int(a) for a in hide_annotations], "texts": texts}


def annotation_index(spec: dict, text: str) -> int:
    """The index of ``spec``'s layout annotation that reads ``text`` (for a scrubber's ``texts``)."""
    return next(i for i, a in enumerate(spec["layout"].get("annotations") or []) if a.get("text") == text)


# ----------------------------------------------------------------------------------- small multiples
def panel_axes(rows: int, widths: Sequence[float], *, gap_x: float, gap_px: float, height: int, top: int,
            bottom: int) -> tuple[dict, list[tuple[str, str, tuple, tuple]]]:
    """Axes for a grid of panels (row-major): the layout's axis entries and, per panel, its axis names
    (``"x3"``, ``"y3"``) with its x and y domains. ``widths`` are relative column widths."""
    plot = height - top - bottom
    gap = gap_px / plot
    row_h = (1.0 - gap * (rows - 1)) / rows
    total = sum(widths) + gap_x * (len(widths) - 1)
    lefts = np.cumsum([0.0, *(w / total + gap_x / total for w in widths[:-1])])
    layout, panels = {}, []
    for r in range(rows):
        for c, width in enumerate(widths):
            n = r * len(widths) + c + 1
            x_dom = (float(lefts[c]), float(min(1.0, lefts[c] + width / total)))
            y_dom = (float(max(0.0, 1 - (r + 1) * row_h - r * gap)), float(1 - r * (row_h + gap)))
            suffix = "" if n == 1 else str(n)
            layout[f"xaxis{suffix}"] = {"domain": list(x_dom), "anchor": f"y{suffix}"}
            layout[f"yaxis{suffix}"] = {"domain": list(y_dom), "anchor": f"x{suffix}"}
            panels.append((f"x{suffix}", f"y{suffix}", x_dom, y_dom))
    return layout, panels


def panel_title(text: str, x_dom: tuple, y_dom: tuple, color: str = "#222") -> dict:
    """A panel's title: an annotation centred over its x domain, standing on its top edge."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": (x_dom[0] + x_dom[1]) / 2, "y": y_dom[1],
            "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 13, "color": color}}


def panel_map(xs: np.ndarray, ys: np.ndarray, scale: ColorScale, minima: np.ndarray | None,
              start: tuple[float, float] | None, axes: tuple[str, str],
              legend: bool = False) -> tuple[list[dict], dict]:
    """A panel's colour field (``scale``: :func:`color_scale_values`) with the minima (stars) and the start,
    on the axes named ``axes`` (``("x2", "y2")``); ``legend``: the stars and the start have legend entries
    (give them to one panel of a figure). Returns the traces and the layout image that paints the field
    (add it to the layout's ``images``).

    The grid is an undrawn contour trace (its data and name, for tests and readers); the colours are a
    smooth background image (:func:`raster` without lines: the same bilinear Viridis as a heatmap with
    ``zsmooth="best"``). A heatmap trace was repainted pixel by pixel on every redraw, and a scrubber step
    restyles the paths, which redraws the figure: four panels' heatmaps were two thirds of a Learning rate
    scrubber step (about 80 of 120 ms, profiled in Chromium 2026-12-06), an image costs nothing to keep.
    """
    x, y = axes
    outline = {"color": MINIMUM_COLOR, "width": 1.5}
    traces = [{"type": "contour", "x": xs, "y": ys, "z": scale.values, "visible": False, "name": "loss",
               "xaxis": x, "yaxis": y, "showlegend": False}]
    image = field_image(xs, ys, raster(scale.values, lines=False), axes)
    if minima is not None and len(minima):
        traces.append({"type": "scatter", "x": minima[:, 0], "y": minima[:, 1], "mode": "markers",
                       "showlegend": legend, "name": "minimum", "xaxis": x, "yaxis": y,
                       "hovertemplate": "minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
                       "marker": {"symbol": "star", "size": 11, "color": "white", "line": outline}})
    if start is not None:
        traces.append({"type": "scatter", "x": [float(start[0])], "y": [float(start[1])], "mode": "markers",
                       "showlegend": legend, "name": "start", "xaxis": x, "yaxis": y, "hoverinfo": "skip",
                       "marker": {"symbol": "circle", "size": 9, "color": "white", "line": outline}})
    return traces, image


def panel_end_mark(path: Path, box: tuple, axes: tuple[str, str]) -> dict | None:
    """A cross where ``path`` diverged, or a triangle where it left the view (None if neither)."""
    exit_ = view_exit(path.xy, box)
    if path.diverged_at < 0 and exit_ is None:
        return None
    if exit_ is not None:
        x, y, words, symbol = exit_.x, exit_.y, exit_.words, "triangle-up"
    else:
        k = path.last_finite
        x, y, words, symbol = path.xy[k, 0], path.xy[k, 1], f"diverged at step {path.diverged_at}", "x"
    return {"type": "scatter", "x": [float(x)], "y": [float(y)], "mode": "markers", "showlegend": False,
            "name": words, "xaxis": axes[0], "yaxis": axes[1], "hovertemplate": f"{words}<extra></extra>",
            "marker": {"symbol": symbol, "size": 12, "color": path.color,
                       "line": {"width": 1.5, "color": "white"}}}



def small_multiples_spec(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path],
                         titles: Sequence[str], *, minima: np.ndarray | None = None,
                         min_value: float | None = None, log_scale: bool = False,
                         start: tuple[float, float] | None = None, view_key: str | None = None,
                         columns: int = 2, panel_height: int = 250) -> dict:
    """One small contour map per path, each path alone on its own map, so no path hides another.

    Parameters
    ----------
    xs, ys : (nx,), (ny,) grid axes; Z : (ny, nx) loss values.
    paths : the paths, one per panel (row-major, ``columns`` per row); titles : one per panel, drawn over
        it in its path's colour (Plotly's HTML subset: escape user text first).
    minima : (m, 2) stars on every map; view_key : what the maps show, so a zoom survives reruns.

    Notes
    -----
    Path ``k`` is the trace named ``paths[k].label`` with mode ``lines+markers`` (a white line with dots in
    the path's colour); where it diverged or left the view a marker named "diverged at step ..." or "left
    the view at step ..." (mode ``markers``) says so. A scrubber restyles the former and hides the latter.
    """
    columns = max(1, min(columns, len(paths)))
    rows = math.ceil(len(paths) / columns)
    title = 8 + 17 * (1 + max((t.count("<br>") for t in titles), default=0))  # the titles' lines, in pixels
    height = rows * (panel_height + title) + 34
    layout, panels = panel_axes(rows, [1.0] * columns, gap_x=0.06, gap_px=title, height=height, top=title,
                                bottom=34)
    scale = color_scale_values(Z, log_scale, min_value)
    box = ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))
    data: list[dict] = []
    annotations, images = [], []
    for k, (x_name, y_name, x_dom, y_dom) in enumerate(panels):
        suffix = x_name[1:]
        for axis, span in ((f"xaxis{suffix}", box[0]), (f"yaxis{suffix}", box[1])):
            # No grid or zero line: they would be drawn over the background image.
            layout[axis].update(range=list(span), showticklabels=False, ticks="", visible=k < len(paths),
                                showgrid=False, zeroline=False)
        if k >= len(paths):
            continue
        path = paths[k]
        traces, image = panel_map(xs, ys, scale, minima, start, (x_name, y_name), legend=k == 0)
        data += traces
        images.append(image)
        data.append({"type": "scatter", "x": path.xy[:, 0], "y": path.xy[:, 1], "mode": "lines+markers",
                     "name": path.label, "xaxis": x_name, "yaxis": y_name, "showlegend": False,
                     "line": {"color": "white", "width": 1.5}, "marker": {"size": 4, "color": path.color},
                     "hovertemplate": f"{path.label}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"})
        mark = panel_end_mark(path, box, (x_name, y_name))
        if mark is not None:
            data.append(mark)
        annotations.append(panel_title(titles[k], x_dom, y_dom, path.color))
    # The legend (the stars and the start) under the maps, where the titles leave room.
    legend = {"orientation": "h", "x": 0, "y": 0, "yanchor": "top", "bgcolor": "rgba(255,255,255,0)"}
    return _spec(data, {**layout, "height": height, "template": "none", "showlegend": True, "legend": legend,
                        "margin": {"l": 10, "r": 10, "t": title, "b": 34}, "annotations": annotations,
                        "images": images, "dragmode": "pan",
                        **({"uirevision": view_key} if view_key is not None else {})})


def play_below_axis_title(spec: dict, title_px: int = 64, buttons_px: int = 44, slider_px: int = 70) -> dict:
    """An animated map (:func:`contour_spec`) with its Play/Pause buttons below the x-axis title and its
    step slider below the buttons, whatever the plot area's height and the type size.

    The controls were placed at a fixed fraction of the plot area's height below it: on a short map, or
    one whose legend grows the top margin, that fraction put them on the axis title; and the slider,
    beside the buttons, ran under them once the type grew (projector mode). Here they hang from the plot
    area's bottom edge by paddings in pixels (Plotly's ``pad`` is in pixels): the buttons ``title_px``
    below it, the slider, as wide as the plot, ``buttons_px`` further; the bottom margin holds them all.
    """
    layout = spec["layout"]
    if not layout.get("updatemenus"):
        return spec
    layout["margin"] = {**layout.get("margin", {}), "b": title_px + buttons_px + slider_px}
    layout["updatemenus"] = [{**menu, "y": 0, "yanchor": "top", "pad": {**menu.get("pad", {}), "t": title_px}}
                             for menu in layout["updatemenus"]]
    layout["sliders"] = [{**slider, "x": 0, "len": 1.0, "y": 0, "yanchor": "top",
                          "pad": {**slider.get("pad", {}), "t": title_px + buttons_px}}
                         for slider in layout.get("sliders", [])]
    return spec


def equal_axes(spec: dict, xtitle: str, ytitle: str) -> dict:
    """A map's axes titled, at equal scale (a circle looks like a circle), and with the margins their ticks
    and titles need at any type size (projector mode). The axes keep their ranges and give up plot area
    instead, so the map fills its frame. Titles arrive escaped (user text through ``ui.text.plotly_label``).
    """
    layout = spec["layout"]
    layout["xaxis"] = {**layout.get("xaxis", {}), "title": {"text": xtitle}, "automargin": True}
    layout["yaxis"] = {**layout.get("yaxis", {}), "title": {"text": ytitle}, "scaleanchor": "x",
                       "scaleratio": 1, "constrain": "domain", "automargin": True}
    return spec


def start_ring(spec: dict, size: int = 24) -> dict:
    """The map's "start" marker as a dark ring wider than the paths' moving heads (14 px discs, drawn on
    top of every trace), so the start stays visible on the map where its legend entry says it is."""
    for trace in spec["data"]:
        if trace.get("name") == "start":
            trace["marker"] = {"symbol": "circle-open", "size": size, "color": MINIMUM_COLOR,
                               "line": {"width": 3, "color": MINIMUM_COLOR}}
    return spec


def contour_figure(*args, **kwargs) -> go.Figure:
    """:func:`contour_spec` as a plotly Figure."""
    return as_figure(contour_spec(*args, **kwargs))


def surface_figure(*args, **kwargs) -> go.Figure:
    """:func:`surface_spec` as a plotly Figure."""
    return as_figure(surface_spec(*args, **kwargs))


def curves_figure(*args, **kwargs) -> go.Figure:
    """:func:`curves_spec` as a plotly Figure."""
    return as_figure(curves_spec(*args, **kwargs))
