"""Figures of a neural network's loss landscape: training curves, interpolation, slices, PCA plane,
sharpness, decision boundary.

Arrays in, figures out (plotly and NumPy only, never streamlit). Each ``*_spec`` builder returns a figure
as plain dicts (:func:`lossviz.viz.landscape.as_figure` makes a ``go.Figure`` of it without re-checking;
the ``*_figure`` functions do that), which a live chart draws without plotly's per-property checks;
``tests/test_neural_net_figures.py`` runs every variant through those checks. Grids follow the project
convention ``Z.shape == (len(ys), len(xs))``. Loss maps are coloured by log10(loss) with ticks labelled in
loss units, because a slice spans decades of loss and a linear colour scale would paint the whole basin one
colour; cross-entropy is positive, so its logarithm needs no offset.

Labels (legend entries, titles) are drawn as given: a page passes them through
:func:`lossviz.ui.text.plotly_label`. Hover texts name a trace through ``%{fullData.name}``, never by
pasting its label into the template.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from lossviz.viz.landscape import PALETTE, Path, as_figure, scrubber

__all__ = [
    "training_spec", "interpolation_spec", "slice_surface_spec", "slice_contours_spec", "plane_spec",
    "honesty_spec", "sharpness_spec", "decision_spec", "training_figure", "interpolation_figure",
    "slice_surface_figure", "slice_contours_figure", "plane_figure", "honesty_figure", "sharpness_figure",
    "decision_figure", "CLASS_COLORS", "LogScale", "log_loss_scale", "run_colors", "scrub_positions",
    "training", "interpolation", "slice_surface", "slice_contours", "sharpness", "plane", "honesty",
    "decision",
]

CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
_TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
_BOTTOM_LEGEND = {"orientation": "h", "y": -0.15, "yanchor": "top", "x": 0}
_TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
_WHITE_STAR = {"symbol": "star", "size": 16, "color": "white", "line": {"color": "#111", "width": 1.5}}
_LOG_AXIS = {"type": "log", "exponentformat": "power", "dtick": "D2"}
# The most positions a client-side step scrubber holds (every step of a shorter run).
MAX_SCRUB_POSITIONS = 201


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive or non-finite values become gaps, not clipped numbers."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


class LogScale(NamedTuple):
    """Colour values log10(loss) and colour-bar ticks at 1-2-5 loss values inside their range."""

    values: np.ndarray
    low: float
    high: float
    tickvals: list[float]
    ticktext: list[str]


def log_loss_scale(*grids: np.ndarray) -> LogScale:
    """One log colour scale shared by every grid (so two slices side by side compare colour for colour).

    ``values`` is the concatenation of the grids' log10 values (flattened); NaN where a loss is not
    positive and finite.
    """
    stacked = np.concatenate([np.ravel(g) for g in grids])
    finite = stacked[np.isfinite(stacked) & (stacked > 0)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (1e-3, 1.0)
    high = max(high, low * 1.001)
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5) if low <= m * 10.0**k <= high]
    if len(ticks) < 3:
        ticks = sorted({low, *ticks, high})
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.log10(np.where(np.isfinite(stacked) & (stacked > 0), stacked, np.nan))
    return LogScale(values, float(np.log10(low)), float(np.log10(high)),
                    [float(np.log10(t)) for t in ticks], [f"{t:.3g}" for t in ticks])


def _split(scale: LogScale, grids: Sequence[np.ndarray]) -> list[np.ndarray]:
    out, start = [], 0
    for g in grids:
        out.append(scale.values[start: start + np.size(g)].reshape(np.shape(g)))
        start += np.size(g)
    return out


def _loss_contour(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, colors: np.ndarray, scale: LogScale, *,
                  showscale: bool, name: str = "loss", xaxis: str = "x") -> dict:
    return {
        "type": "contour", "x": np.asarray(xs, float), "y": np.asarray(ys, float), "z": colors,
        "zmin": scale.low, "zmax": scale.high, "colorscale": "Viridis", "ncontours": 25,
        "contours": {"coloring": "heatmap", "showlines": True},
        "line": {"width": 0.5, "color": "rgba(255,255,255,0.35)"}, "showscale": showscale, "name": name,
        "customdata": np.asarray(Z, float), "xaxis": xaxis, "yaxis": "y", "showlegend": False,
        "colorbar": {"title": {"text": "loss (log scale)", "side": "right"}, "tickvals": scale.tickvals,
                     "ticktext": scale.ticktext, "thickness": 14, "len": 0.9},
        "hovertemplate": "(%{x:.3g}, %{y:.3g})<br>loss %{customdata:.4g}<extra></extra>"}


def _line(x: np.ndarray, y: np.ndarray, name: str, color: str, *, dash: str | None = None,
          showlegend: bool = True, width: float = 2.0, **extra: object) -> dict:
    line = {"color": color, "width": width} | ({"dash": dash} if dash else {})
    return {"type": "scatter", "x": np.asarray(x), "y": np.asarray(y, float), "name": name, "mode": "lines",
            "line": line, "showlegend": showlegend, **extra}


def _layout(height: int, legend: dict | None = None, **extra: object) -> dict:
    return {"height": height, "margin": {"l": 70, "r": 20, "t": 60, "b": 50}, "template": "none",
            **({"legend": legend} if legend is not None else {"showlegend": False}), **extra}


def _title(text: str) -> dict:
    return {"title": {"text": text}}


def _columns(count: int, gap: float = 0.06) -> list[list[float]]:
    """Domains of ``count`` side-by-side axes."""
    width = (1.0 - gap * (count - 1)) / count
    return [[i * (width + gap), i * (width + gap) + width] for i in range(count)]


def _panel_title(text: str, domain: Sequence[float]) -> dict:
    return {"text": text, "x": (domain[0] + domain[1]) / 2, "xref": "paper", "y": 1.0, "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 13}}


# ------------------------------------------------------------------------------------------- training
def training_spec(series: Sequence[tuple[str, str, np.ndarray, np.ndarray]], *, height: int = 320) -> dict:
    """Training loss (log) and accuracy per step, side by side; ``series`` items are
    ``(label, color, loss (T+1,), accuracy (T+1,))``."""
    data = []
    for label, color, loss, acc in series:
        steps = np.arange(len(loss))
        data.append(_line(steps, _positive(loss), label, color, legendgroup=label,
                          hovertemplate="%{fullData.name}<br>step %{x}: loss %{y:.4g}<extra></extra>"))
        data.append(_line(steps, np.asarray(acc, dtype=float) * 100, label, color, showlegend=False,
                          legendgroup=label, xaxis="x2", yaxis="y2",
                          hovertemplate="%{fullData.name}<br>step %{x}: %{y:.1f}%<extra></extra>"))
    left, right = _columns(2, 0.1)
    layout = _layout(height, _TOP_LEGEND,
                     xaxis={**_title("step"), "domain": left, "anchor": "y"},
                     yaxis={**_title("training loss (log scale)"), **_LOG_AXIS, "anchor": "x"},
                     xaxis2={**_title("step"), "domain": right, "anchor": "y2"},
                     yaxis2={**_title("training accuracy (%)"), "range": [0, 101], "anchor": "x2"})
    return {"data": data, "layout": layout}


def interpolation_spec(alphas: np.ndarray, series: Sequence[tuple[str, str, np.ndarray]], *,
                       height: int = 340) -> dict:
    """Loss along :math:`(1-\\alpha)\\theta_0 + \\alpha\\theta_1` per run, with the two ends marked."""
    data = [_line(alphas, _positive(values), label, color, width=2.5,
                  hovertemplate="%{fullData.name}<br>α = %{x:.2f}<br>loss %{y:.4g}<extra></extra>")
            for label, color, values in series]
    ends = ((0.0, "initial weights θ₀"), (1.0, "trained weights θ₁"))
    layout = _layout(
        height, _TOP_LEGEND, xaxis=_title("α (0 = initial weights, 1 = trained weights)"),
        yaxis={**_title("loss (log scale)"), **_LOG_AXIS},
        shapes=[{"type": "line", "x0": a, "x1": a, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
                 "line": {"dash": "dot", "color": "#555"}} for a, _ in ends],
        annotations=[{"x": a, "xref": "x", "y": 0, "yref": "y domain", "text": text, "showarrow": False,
                      "xanchor": "left", "yanchor": "bottom"} for a, text in ends])
    return {"data": data, "layout": layout}


# ------------------------------------------------------------------------------------------- slices
def slice_surface_spec(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, *, title: str, height: int = 480,
                       view_key: str | None = None) -> dict:
    """3-D view of one slice: height is the loss on a log axis, colour log10(loss).

    ``view_key`` names what the slice shows; the camera the reader turned to is kept while it stays the
    same (``layout.uirevision``), through a finer redraw of the same slice too.
    """
    scale = log_loss_scale(Z)
    centre = float(Z[np.argmin(np.abs(ys)), np.argmin(np.abs(xs))])
    data = [
        {"type": "surface", "x": np.asarray(xs, float), "y": np.asarray(ys, float), "z": _positive(Z),
         "surfacecolor": scale.values.reshape(np.shape(Z)), "cmin": scale.low, "cmax": scale.high,
         "colorscale": "Viridis", "showscale": False, "name": "loss",
         "hovertemplate": "α %{x:.2f}, β %{y:.2f}<br>loss %{z:.4g}<extra></extra>"},
        {"type": "scatter3d", "x": [0.0], "y": [0.0], "z": [centre], "mode": "markers",
         "name": "trained weights",
         "marker": {"symbol": "diamond", "size": 6, "color": "white", "line": {"color": "#111", "width": 2}}},
    ]
    zaxis = {**_title("loss (log)"), "type": "log", "tickvals": [10**t for t in scale.tickvals],
             "ticktext": scale.ticktext}
    layout = _layout(height, None, title={"text": title, "font": {"size": 14}},
                     margin={"l": 10, "r": 10, "t": 40, "b": 10},
                     scene={"xaxis": _title("α (along δ)"), "yaxis": _title("β (along η)"), "zaxis": zaxis,
                            "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.7},
                            "camera": {"eye": {"x": 1.9, "y": -1.9, "z": 1.3}}},  # whole at 1366 wide
                     **({"uirevision": view_key} if view_key is not None else {}))
    return {"data": data, "layout": layout}


def slice_contours_spec(xs: np.ndarray, ys: np.ndarray, slices: Sequence[np.ndarray], labels: Sequence[str],
                        *, height: int = 420) -> dict:
    """One contour map per run, side by side on one shared log colour scale, each centred on its own
    trained weights (the white star)."""
    count = len(slices)
    scale = log_loss_scale(*slices)
    domains = _columns(count, 0.07)
    data, layout = [], _layout(height, None, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                               yaxis={**_title("β along η"), "anchor": "x"})
    for index, (Z, colors, label, domain) in enumerate(zip(slices, _split(scale, slices), labels, domains)):
        axis = "x" if index == 0 else f"x{index + 1}"
        data.append(_loss_contour(xs, ys, Z, colors, scale, showscale=index == count - 1, name=label,
                                  xaxis=axis))
        data.append({"type": "scatter", "x": [0.0], "y": [0.0], "mode": "markers", "name": "trained weights",
                     "showlegend": False, "marker": _WHITE_STAR, "xaxis": axis, "yaxis": "y",
                     "hovertemplate": "trained weights (0, 0)<extra></extra>"})
        layout["xaxis" if index == 0 else f"xaxis{index + 1}"] = {
            **_title("α along δ"), "domain": domain, "anchor": "y", "constrain": "domain"}
    layout["annotations"] = [_panel_title(f"around {label}", d) for label, d in zip(labels, domains)]
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------------------- PCA plane
def scrub_positions(n_steps: int, step: int, most: int = MAX_SCRUB_POSITIONS) -> np.ndarray:
    """The steps a client-side step scrubber holds: evenly spaced in ``[0, n_steps]``, ``step`` included."""
    spaced = np.linspace(0, n_steps, min(most, n_steps + 1)).round().astype(np.int64)
    return np.union1d(spaced, [min(max(int(step), 0), n_steps)])


def plane_spec(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path], *,
               explained: Sequence[float], origin_label: str, step: int | None = None, height: int = 500,
               scrub: bool = False) -> dict:
    """The loss on the PCA plane with every projected path, their shared start and, at ``step``, each
    run's position.

    ``scrub``: a client-side slider under the map that moves every run's marker to any of
    :func:`scrub_positions` steps in the browser (the figure itself shows ``step``).
    """
    scale = log_loss_scale(Z)
    data = [_loss_contour(xs, ys, Z, scale.values.reshape(np.shape(Z)), scale, showscale=True)]
    for path in paths:
        data.append(_line(path.xy[:, 0], path.xy[:, 1], path.label, path.color, width=2.5,
                          legendgroup=path.label, customdata=np.arange(len(path.xy)),
                          hovertemplate="%{fullData.name}<br>step %{customdata}<extra></extra>"))
    start = paths[0].xy[0] if paths else np.zeros(2)
    data.append({"type": "scatter", "x": [float(start[0])], "y": [float(start[1])], "mode": "markers",
                 "name": "shared initial weights",
                 "marker": {"symbol": "circle", "size": 12, "color": "white",
                            "line": {"color": "#111", "width": 2}}})
    data.append({"type": "scatter", "x": [0.0], "y": [0.0], "mode": "markers", "marker": _WHITE_STAR,
                 "name": f"origin: trained weights of {origin_label}"})
    markers = []
    if step is not None:
        for path in paths:
            k = min(step, path.last_finite)
            markers.append(len(data))
            data.append({"type": "scatter", "x": [float(path.xy[k, 0])], "y": [float(path.xy[k, 1])],
                         "mode": "markers", "showlegend": False, "legendgroup": path.label,
                         "name": path.label,
                         "hovertemplate": "%{fullData.name}<extra></extra>",
                         "marker": {"size": 13, "color": path.color, "line": {"color": "white", "width": 2}}})
    layout = _layout(
        height, _BOTTOM_LEGEND, margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis={**_title(f"PC1 ({100 * explained[0]:.1f}% of the paths' squared distance)"),
               "range": [float(xs[0]), float(xs[-1])], "constrain": "domain"},
        yaxis={**_title(f"PC2 ({100 * explained[1]:.1f}%)"), "range": [float(ys[0]), float(ys[-1])],
               "scaleanchor": "x", "constrain": "domain"})
    spec = {"data": data, "layout": layout}
    if scrub and step is not None and paths:
        positions = scrub_positions(max(len(p.xy) for p in paths) - 1, step)
        at = [[p.xy[min(int(k), p.last_finite)] for p in paths] for k in positions]
        frames = [[{"x": [float(xy[0])], "y": [float(xy[1])]} for xy in points] for points in at]
        active = int(np.searchsorted(positions, step))
        spec["lossviz_scrub"] = scrubber("step", [f"step {k}" for k in positions], active,
                                         markers, frames)
    return spec


def honesty_spec(series: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]], *,
                 height: int = 500) -> dict:
    """Per run: the true loss along the path against the plane's loss under the drawn path (top), and the
    path's distance from the plane as a share of its size (bottom). Items: ``(label, color, true_loss,
    plane_loss, relative_distance)``.

    The plane's loss may be known at some steps only (a coarse pass): its line joins those points.
    """
    data = []
    for label, color, true_loss, plane_loss, distance in series:
        steps = np.arange(len(true_loss))
        data.append(_line(steps, _positive(true_loss), f"{label}: true loss", color, width=2.5,
                          legendgroup=label))
        data.append(_line(steps, _positive(plane_loss), f"{label}: loss on the plane", color, dash="dash",
                          legendgroup=label, connectgaps=True))
        data.append(_line(steps, 100 * np.asarray(distance, float), label, color, showlegend=False,
                          legendgroup=label, xaxis="x2", yaxis="y2"))
    # The legend above the top panel: under the plot it shared the bottom with the step axis's title, and
    # where its four long entries took two rows (a 1366-pixel screen) plotly made room for them by
    # shrinking the plot, which brought the legend up onto that title.
    layout = _layout(height, _TOP_LEGEND, margin={"l": 70, "r": 20, "t": 30, "b": 50},
                     xaxis={"anchor": "y", "matches": "x2", "showticklabels": False},
                     yaxis={**_title("loss (log scale)"), **_LOG_AXIS, "domain": [0.44, 1.0], "anchor": "x"},
                     xaxis2={**_title("step"), "anchor": "y2"},
                     yaxis2={**_title("off the plane (% of path size)"), "rangemode": "tozero",
                             "domain": [0.0, 0.36], "anchor": "x2"})
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------------------- sharpness
def sharpness_spec(steps: np.ndarray, series: Sequence[tuple[str, str, np.ndarray, np.ndarray | None]], *,
                   preconditioned: Sequence[tuple[str, str, np.ndarray, np.ndarray]] = (),
                   height: int = 380) -> dict:
    """Top Hessian eigenvalue at the sampled steps, with each run's stability limit (2/lr for gradient
    descent) as a dotted line of the same colour; beside it, on its own axis, the preconditioned
    sharpness of Adam-family runs against their limit :math:`(2 + 2\\beta_1)/((1 - \\beta_1)\\,lr)`.

    Items: ``(label, color, sharpness (S,), limit (S,) or None)``; ``preconditioned`` items
    ``(label, color, preconditioned sharpness (S,), limit (S,))``.
    """
    data = []
    for label, color, values, limit in series:
        data.append(_line(steps, _positive(values), f"{label}: λ<sub>max</sub>", color, width=2.5,
                          legendgroup=label, mode="lines+markers", marker={"size": 6}))
        if limit is not None:
            data.append(_line(steps, _positive(limit), f"{label}: stability limit", color, dash="dot",
                              legendgroup=label))
    for label, color, values, limit in preconditioned:
        data.append(_line(steps, _positive(values), f"{label}: λ<sub>max</sub>(P<sup>-1</sup>H)", color,
                          width=2.5, dash="dash", legendgroup=label, mode="lines+markers",
                          marker={"size": 6, "symbol": "diamond"}, xaxis="x2", yaxis="y2"))
        data.append(_line(steps, _positive(limit), f"{label}: adaptive limit (2+2β₁)/((1−β₁)lr)", color,
                          dash="dot", legendgroup=label, xaxis="x2", yaxis="y2"))
    layout = _layout(height, _TOP_LEGEND,
                     xaxis=_title("step"),
                     yaxis={**_title("top Hessian eigenvalue λ<sub>max</sub> (log)"), **_LOG_AXIS})
    if preconditioned:
        left, right = _columns(2, 0.12)
        layout["xaxis"] |= {"domain": left, "anchor": "y"}
        layout["xaxis2"] = {**_title("step"), "domain": right, "anchor": "y2"}
        layout["yaxis2"] = {**_title("preconditioned λ<sub>max</sub>(P<sup>-1</sup>H) (log)"), **_LOG_AXIS,
                            "anchor": "x2"}
        layout["annotations"] = [_panel_title("Hessian: limit 2/lr for gradient descent", left),
                                 _panel_title("Adam's P⁻¹H: limit 38/lr at β₁ = 0.9", right)]
        layout["legend"] = {**_BOTTOM_LEGEND, "y": -0.22}
        layout["margin"] = {"l": 70, "r": 20, "t": 40, "b": 110}
        layout["height"] = height + 60
    return {"data": data, "layout": layout}


# ----------------------------------------------------------------------------------- decision boundary
def decision_spec(xs: np.ndarray, ys: np.ndarray, probs: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                  class_names: Sequence[str], feature_names: Sequence[str], title: str,
                  height: int = 420) -> dict:
    """The network's predicted class over its input plane (shade = confidence) with the training points.

    ``probs`` is (ny, nx, C) from :func:`lossviz.lessons.neural_net.decision_grid`.
    """
    n_classes = probs.shape[-1]
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    data: list[dict] = []
    if n_classes == 2:
        data.append({"type": "heatmap", "x": xs, "y": ys, "z": probs[..., 1], "zmin": 0, "zmax": 1,
                     "colorscale": "RdBu_r", "opacity": 0.75,
                     "colorbar": {"title": {"text": f"P(class {class_names[1]})", "side": "right"},
                                  "thickness": 12},
                     "hovertemplate": "(%{x:.2f}, %{y:.2f})<br>P = %{z:.3f}<extra></extra>"})
        data.append({"type": "contour", "x": xs, "y": ys, "z": probs[..., 1], "showscale": False,
                     "hoverinfo": "skip", "name": "boundary", "showlegend": False,
                     "contours": {"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
                     "line": {"color": "#111", "width": 2}})
    else:
        colors = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(n_classes)]
        data.append({"type": "heatmap", "x": xs, "y": ys, "z": probs.argmax(axis=-1).astype(float), "zmin": 0,
                     "zmax": n_classes - 1, "opacity": 0.35, "showscale": False,
                     "colorscale": [[i / max(n_classes - 1, 1), colors[i]] for i in range(n_classes)],
                     "customdata": probs.max(axis=-1),
                     "hovertemplate": "(%{x:.2f}, %{y:.2f})<br>class %{z}, "
                                      "P = %{customdata:.3f}<extra></extra>"})
    for c in range(n_classes):
        chosen = np.asarray(y) == c
        data.append({"type": "scatter", "x": np.asarray(X)[chosen, 0], "y": np.asarray(X)[chosen, 1],
                     "mode": "markers", "name": str(class_names[c]),
                     "marker": {"size": 5, "color": CLASS_COLORS[c % len(CLASS_COLORS)],
                                "line": {"color": "white", "width": 0.6}}})
    layout = _layout(
        height, {"title": {"text": "class "}, "orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
        title={"text": title, "font": {"size": 14}}, margin={"l": 60, "r": 20, "t": 60, "b": 80},
        xaxis={**_title(f"{feature_names[0]} (standardized)"), "range": [xs[0], xs[-1]],
               "constrain": "domain"},
        yaxis={**_title(f"{feature_names[1]} (standardized)"), "range": [ys[0], ys[-1]], "scaleanchor": "x",
               "constrain": "domain"})
    return {"data": data, "layout": layout}


def run_colors(count: int) -> list[str]:
    """Colours of the runs, in order (the project palette)."""
    return [PALETTE[i % len(PALETTE)] for i in range(count)]


# ------------------------------------------------------------------------- the same as plotly Figures
def _as_figure(builder):
    def figure(*args, **kwargs) -> go.Figure:
        spec = builder(*args, **kwargs)
        return as_figure({"data": spec["data"], "layout": spec["layout"]})

    figure.__name__ = builder.__name__.replace("_spec", "_figure")
    figure.__doc__ = f":func:`{builder.__name__}` as a plotly Figure (without a client-side scrubber)."
    return figure


training_figure = _as_figure(training_spec)
interpolation_figure = _as_figure(interpolation_spec)
slice_surface_figure = _as_figure(slice_surface_spec)
slice_contours_figure = _as_figure(slice_contours_spec)
plane_figure = _as_figure(plane_spec)
honesty_figure = _as_figure(honesty_spec)
sharpness_figure = _as_figure(sharpness_spec)
decision_figure = _as_figure(decision_spec)


# ---------------------------------------------------------------- the page's figures, from its views
# The views of lossviz.lessons.neural_net drawn as the Neural net page draws them: every run in its
# palette colour under ``labels`` (as a page passes them: escaped for plotly).
def training(runs: Sequence, labels: Sequence[str]) -> dict:
    """:func:`training_spec` of trained runs (``TrainedRun``)."""
    return training_spec([(lb, c, r.trajectory.loss, r.accuracy)
                          for lb, c, r in zip(labels, run_colors(len(labels)), runs)])


def interpolation(view, labels: Sequence[str]) -> dict:
    """:func:`interpolation_spec` of an ``InterpolationView``."""
    return interpolation_spec(view.alphas, list(zip(labels, run_colors(len(labels)), view.values)))


def slice_surface(view, labels: Sequence[str], focus: int, view_key: str) -> dict:
    """:func:`slice_surface_spec` of run ``focus``'s slice in a ``SliceView``."""
    return slice_surface_spec(view.xs, view.ys, view.slices[focus], title=f"around {labels[focus]}",
                              view_key=view_key)


def slice_contours(view, labels: Sequence[str]) -> dict:
    """:func:`slice_contours_spec` of a ``SliceView``."""
    return slice_contours_spec(view.xs, view.ys, list(view.slices), labels)


def sharpness(view, labels: Sequence[str]) -> dict:
    """:func:`sharpness_spec` of a ``SharpnessView``: Adam-family runs' preconditioned sharpness beside."""
    colors = run_colors(len(labels))
    adaptive = [(labels[i], colors[i], view.preconditioned[i], limit)
                for i, limit in enumerate(view.adaptive_thresholds) if limit is not None]
    return sharpness_spec(view.steps, list(zip(labels, colors, view.sharpness, view.thresholds)),
                          preconditioned=adaptive)


def _paths(view, runs: Sequence, labels: Sequence[str]) -> list[Path]:
    return [Path(lb, c, check.coords, check.true_loss, int(r.trajectory.diverged_at))
            for lb, c, check, r in zip(labels, run_colors(len(labels)), view.checks, runs)]


def plane(view, runs: Sequence, labels: Sequence[str], focus: int, step: int) -> dict:
    """:func:`plane_spec` of a ``PlaneView`` with every run's marker at ``step`` and the step scrubber."""
    return plane_spec(view.xs, view.ys, view.Z, _paths(view, runs, labels),
                      explained=view.plane.explained_variance_ratio, origin_label=labels[focus], step=step,
                      scrub=True)


def honesty(view, labels: Sequence[str]) -> dict:
    """:func:`honesty_spec` of a ``PlaneView``."""
    return honesty_spec([(lb, c, check.true_loss, check.plane_loss, check.relative_distance)
                         for lb, c, check in zip(labels, run_colors(len(labels)), view.checks)])


def decision(view, index: int, runs: Sequence, data, labels: Sequence[str]) -> dict:
    """:func:`decision_spec` of run ``index`` in a ``DecisionView``, titled with its step, accuracy and loss
    (``data``: the ``Dataset`` the network was trained on)."""
    r, k = runs[index], int(view.steps[index])
    names = data.class_names or tuple(str(c) for c in range(view.probs.shape[-1]))
    title = (f"{labels[index]}<br>step {k}: accuracy {100 * r.accuracy[k]:.1f}%, "
             f"loss {r.trajectory.loss[k]:.3g}")
    return decision_spec(view.xs, view.ys, view.probs[index], data.X, data.y, class_names=names,
                         feature_names=data.feature_names, title=title)
