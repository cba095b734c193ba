"""Plotly figures of a neural network's loss landscape: interpolation, slices, PCA plane, sharpness, boundary.

Arrays in, figures out (plotly and NumPy only, never streamlit). Grids follow the project convention
``Z.shape == (len(ys), len(xs))``. Loss maps are coloured by log10(loss) with ticks labelled in loss units,
because a slice spans decades of loss and a linear colour scale would paint the whole basin one colour;
cross-entropy is positive, so its logarithm needs no offset.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.viz.landscape import PALETTE, Path

__all__ = [
    "training_figure", "interpolation_figure", "slice_surface_figure", "slice_contours_figure",
    "plane_figure", "honesty_figure", "sharpness_figure", "decision_figure", "CLASS_COLORS", "LogScale",
    "log_loss_scale", "run_colors",
]

CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
_TOP_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
_BOTTOM_LEGEND = {"orientation": "h", "y": -0.15, "yanchor": "top", "x": 0}
_WHITE_STAR = {"symbol": "star", "size": 16, "color": "white", "line": {"color": "#111", "width": 1.5}}


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
                  showscale: bool, name: str = "loss") -> go.Contour:
    return go.Contour(
        x=xs, y=ys, z=colors, zmin=scale.low, zmax=scale.high, colorscale="Viridis", ncontours=25,
        contours={"coloring": "heatmap", "showlines": True},
        line={"width": 0.5, "color": "rgba(255,255,255,0.35)"}, showscale=showscale, name=name, customdata=Z,
        colorbar={"title": {"text": "loss (log scale)", "side": "right"}, "tickvals": scale.tickvals,
                  "ticktext": scale.ticktext, "thickness": 14, "len": 0.9},
        hovertemplate="(%{x:.3g}, %{y:.3g})<br>loss %{customdata:.4g}<extra></extra>")


def _line(x: np.ndarray, y: np.ndarray, name: str, color: str, *, dash: str | None = None,
          showlegend: bool = True, width: float = 2.0) -> go.Scatter:
    line = {"color": color, "width": width} | ({"dash": dash} if dash else {})
    return go.Scatter(x=x, y=y, name=name, mode="lines", line=line, showlegend=showlegend)


def training_figure(series: Sequence[tuple[str, str, np.ndarray, np.ndarray]], *,
                    height: int = 320) -> go.Figure:
    """Training loss (log) and accuracy per step, side by side; ``series`` items are
    ``(label, color, loss (T+1,), accuracy (T+1,))``."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    for label, color, loss, acc in series:
        steps = np.arange(len(loss))
        fig.add_trace(_line(steps, _positive(loss), label, color).update(legendgroup=label), row=1, col=1)
        fig.add_trace(_line(steps, np.asarray(acc, dtype=float) * 100, label, color, showlegend=False)
                      .update(legendgroup=label), row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="training loss (log scale)", type="log", exponentformat="power", dtick="D2",
                     row=1, col=1)
    fig.update_yaxes(title_text="training accuracy (%)", range=[0, 101], row=1, col=2)
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, template="none",
                      legend=_TOP_LEGEND)
    return fig


def interpolation_figure(alphas: np.ndarray, series: Sequence[tuple[str, str, np.ndarray]], *,
                         height: int = 340) -> go.Figure:
    """Loss along :math:`(1-\\alpha)\\theta_0 + \\alpha\\theta_1` per run, with the two ends marked."""
    fig = go.Figure()
    for label, color, values in series:
        fig.add_trace(_line(alphas, _positive(values), label, color, width=2.5).update(
            hovertemplate=f"{label}<br>α = %{{x:.2f}}<br>loss %{{y:.4g}}<extra></extra>"))
    for alpha, text in ((0.0, "initial weights θ₀"), (1.0, "trained weights θ₁")):
        fig.add_vline(x=alpha, line={"dash": "dot", "color": "#555"}, annotation_text=text,
                      annotation_position="bottom right")
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, template="none",
                      legend=_TOP_LEGEND,
                      xaxis={"title": {"text": "α (0 = initial weights, 1 = trained weights)"}},
                      yaxis={"title": {"text": "loss (log scale)"}, "type": "log", "exponentformat": "power",
                             "dtick": "D2"})
    return fig


def slice_surface_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, *, title: str,
                         height: int = 480) -> go.Figure:
    """3-D view of one slice: height is the loss on a log axis, colour log10(loss)."""
    scale = log_loss_scale(Z)
    fig = go.Figure(go.Surface(
        x=xs, y=ys, z=_positive(Z), surfacecolor=scale.values.reshape(Z.shape), cmin=scale.low,
        cmax=scale.high, colorscale="Viridis", showscale=False, name="loss",
        hovertemplate="α %{x:.2f}, β %{y:.2f}<br>loss %{z:.4g}<extra></extra>"))
    centre = Z[np.argmin(np.abs(ys)), np.argmin(np.abs(xs))]
    fig.add_trace(go.Scatter3d(
        x=[0.0], y=[0.0], z=[centre], mode="markers", name="trained weights",
        marker={"symbol": "diamond", "size": 6, "color": "white", "line": {"color": "#111", "width": 2}}))
    zaxis = {"title": {"text": "loss (log)"}, "type": "log", "tickvals": [10**t for t in scale.tickvals],
             "ticktext": scale.ticktext}
    fig.update_layout(
        height=height, title={"text": title, "font": {"size": 14}}, template="none", showlegend=False,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        scene={"xaxis": {"title": {"text": "α (along δ)"}}, "yaxis": {"title": {"text": "β (along η)"}},
               "zaxis": zaxis, "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.7},
               "camera": {"eye": {"x": 1.6, "y": -1.6, "z": 1.1}}})
    return fig


def slice_contours_figure(xs: np.ndarray, ys: np.ndarray, slices: Sequence[np.ndarray], labels: Sequence[str],
                          *, height: int = 420) -> go.Figure:
    """One contour map per run, side by side on one shared log colour scale, each centred on its own
    trained weights (the white star)."""
    count = len(slices)
    fig = make_subplots(rows=1, cols=count, subplot_titles=[f"around {label}" for label in labels],
                        horizontal_spacing=0.04, shared_yaxes=True)
    scale = log_loss_scale(*slices)
    for index, (Z, colors) in enumerate(zip(slices, _split(scale, slices)), start=1):
        contour = _loss_contour(xs, ys, Z, colors, scale, showscale=index == count, name=labels[index - 1])
        fig.add_trace(contour, row=1, col=index)
        fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name="trained weights", showlegend=False,
                                 marker=_WHITE_STAR, hovertemplate="trained weights (0, 0)<extra></extra>"),
                      row=1, col=index)
        fig.update_xaxes(title_text="α along δ", constrain="domain", row=1, col=index)
    fig.update_yaxes(title_text="β along η", row=1, col=1)
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 50, "b": 50}, showlegend=False,
                      template="none")
    fig.update_annotations(font={"size": 13})
    return fig


def plane_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path], *,
                 explained: Sequence[float], origin_label: str, step: int | None = None,
                 height: int = 540) -> go.Figure:
    """The loss on the PCA plane with every projected path, their shared start and, at ``step``, each
    run's position."""
    scale = log_loss_scale(Z)
    fig = go.Figure(_loss_contour(xs, ys, Z, scale.values.reshape(Z.shape), scale, showscale=True))
    for path in paths:
        fig.add_trace(_line(path.xy[:, 0], path.xy[:, 1], path.label, path.color, width=2.5).update(
            legendgroup=path.label, customdata=np.arange(len(path.xy)),
            hovertemplate=f"{path.label}<br>step %{{customdata}}<extra></extra>"))
    start = paths[0].xy[0] if paths else np.zeros(2)
    fig.add_trace(go.Scatter(
        x=[start[0]], y=[start[1]], mode="markers", name="shared initial weights",
        marker={"symbol": "circle", "size": 12, "color": "white", "line": {"color": "#111", "width": 2}}))
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", marker=_WHITE_STAR,
                             name=f"origin: trained weights of {origin_label}"))
    if step is not None:
        for path in paths:
            k = min(step, path.last_finite)
            fig.add_trace(go.Scatter(
                x=[path.xy[k, 0]], y=[path.xy[k, 1]], mode="markers", showlegend=False,
                legendgroup=path.label, hovertemplate=f"{path.label} at step {k}<extra></extra>",
                marker={"size": 13, "color": path.color, "line": {"color": "white", "width": 2}}))
    fig.update_layout(
        height=height, margin={"l": 60, "r": 20, "t": 30, "b": 50}, template="none", legend=_BOTTOM_LEGEND,
        xaxis={"title": {"text": f"PC1 ({100 * explained[0]:.1f}% of the paths' squared distance)"},
               "range": [xs[0], xs[-1]], "constrain": "domain"},
        yaxis={"title": {"text": f"PC2 ({100 * explained[1]:.1f}%)"}, "range": [ys[0], ys[-1]],
               "scaleanchor": "x", "constrain": "domain"})
    return fig


def honesty_figure(series: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]], *,
                   height: int = 540) -> go.Figure:
    """Per run: the true loss along the path against the plane's loss under the drawn path (top), and the
    path's distance from the plane as a share of its size (bottom). Items: ``(label, color, true_loss,
    plane_loss, relative_distance)``."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4])
    for label, color, true_loss, plane_loss, distance in series:
        steps = np.arange(len(true_loss))
        fig.add_trace(_line(steps, _positive(true_loss), f"{label}: true loss", color, width=2.5)
                      .update(legendgroup=label), row=1, col=1)
        fig.add_trace(_line(steps, _positive(plane_loss), f"{label}: loss on the plane", color, dash="dash")
                      .update(legendgroup=label), row=1, col=1)
        fig.add_trace(_line(steps, 100 * np.asarray(distance), label, color, showlegend=False)
                      .update(legendgroup=label), row=2, col=1)
    fig.update_yaxes(title_text="loss (log scale)", type="log", exponentformat="power", dtick="D2",
                     row=1, col=1)
    fig.update_yaxes(title_text="off the plane (% of path size)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 30, "b": 50}, template="none",
                      legend=_BOTTOM_LEGEND)
    return fig


def sharpness_figure(steps: np.ndarray, series: Sequence[tuple[str, str, np.ndarray, np.ndarray | None]], *,
                     height: int = 380) -> go.Figure:
    """Top Hessian eigenvalue at the sampled steps, with each run's stability limit (2/lr for gradient
    descent) as a dotted line of the same colour.

    Items: ``(label, color, sharpness (S,), limit (S,) or None)``.
    """
    fig = go.Figure()
    for label, color, values, limit in series:
        fig.add_trace(_line(steps, _positive(values), f"{label}: λ<sub>max</sub>", color, width=2.5)
                      .update(legendgroup=label, mode="lines+markers", marker={"size": 6}))
        if limit is not None:
            fig.add_trace(_line(steps, _positive(limit), f"{label}: stability limit", color, dash="dot")
                          .update(legendgroup=label))
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, template="none",
                      legend=_TOP_LEGEND, xaxis={"title": {"text": "step"}},
                      yaxis={"title": {"text": "top Hessian eigenvalue λ<sub>max</sub> (log)"},
                             "type": "log", "exponentformat": "power", "dtick": "D2"})
    return fig


def decision_figure(xs: np.ndarray, ys: np.ndarray, probs: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                    class_names: Sequence[str], feature_names: Sequence[str], title: str,
                    height: int = 420) -> go.Figure:
    """The network's predicted class over its input plane (shade = confidence) with the training points.

    ``probs`` is (ny, nx, C) from :func:`lossviz.lessons.neural_net.decision_grid`.
    """
    n_classes = probs.shape[-1]
    fig = go.Figure()
    if n_classes == 2:
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=probs[..., 1], zmin=0, zmax=1, colorscale="RdBu_r", opacity=0.75,
            colorbar={"title": {"text": f"P(class {class_names[1]})", "side": "right"}, "thickness": 12},
            hovertemplate="(%{x:.2f}, %{y:.2f})<br>P = %{z:.3f}<extra></extra>"))
        fig.add_trace(go.Contour(
            x=xs, y=ys, z=probs[..., 1], showscale=False, hoverinfo="skip", name="boundary", showlegend=False,
            contours={"start": 0.5, "end": 0.5, "size": 1, "coloring": "none"},
            line={"color": "#111", "width": 2}))
    else:
        colors = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(n_classes)]
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=probs.argmax(axis=-1), zmin=0, zmax=n_classes - 1, opacity=0.35, showscale=False,
            colorscale=[[i / max(n_classes - 1, 1), colors[i]] for i in range(n_classes)],
            customdata=probs.max(axis=-1),
            hovertemplate="(%{x:.2f}, %{y:.2f})<br>class %{z}, P = %{customdata:.3f}<extra></extra>"))
    for c in range(n_classes):
        chosen = y == c
        fig.add_trace(go.Scatter(x=X[chosen, 0], y=X[chosen, 1], mode="markers", name=str(class_names[c]),
                                 marker={"size": 5, "color": CLASS_COLORS[c % len(CLASS_COLORS)],
                                         "line": {"color": "white", "width": 0.6}}))
    fig.update_layout(
        height=height, title={"text": title, "font": {"size": 14}}, template="none",
        margin={"l": 60, "r": 20, "t": 60, "b": 80},
        legend={"title": {"text": "class "}, "orientation": "h", "y": -0.2, "yanchor": "top", "x": 0},
        xaxis={"title": {"text": f"{feature_names[0]} (standardized)"}, "range": [xs[0], xs[-1]],
               "constrain": "domain"},
        yaxis={"title": {"text": f"{feature_names[1]} (standardized)"}, "range": [ys[0], ys[-1]],
               "scaleanchor": "x", "constrain": "domain"})
    return fig


def run_colors(count: int) -> list[str]:
    """Colours of the runs, in order (the project palette)."""
    return [PALETTE[i % len(PALETTE)] for i in range(count)]
