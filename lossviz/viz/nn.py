"""Plotly figures of a neural network's loss landscape: interpolation, slices, PCA plane, sharpness, boundary.

Arrays in, figures out (plotly and NumPy only, never streamlit). Grids follow the project convention
``Z.shape == (len(ys), len(xs))``. Loss maps use :func:`lossviz.viz.landscape.color_scale_values` with a
log scale, because a slice spans decades of loss and a linear colour scale would paint the basin one colour.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.viz.landscape import PALETTE, Path, color_scale_values, contour_figure, surface_figure

__all__ = [
    "training_figure", "interpolation_figure", "slice_surface_figure", "slice_contours_figure",
    "plane_figure", "honesty_figure", "sharpness_figure", "decision_figure", "CLASS_COLORS",
]

CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
_LAYOUT = {"template": "none", "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive or non-finite values become gaps, not clipped numbers."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def training_figure(series: Sequence[tuple[str, str, np.ndarray, np.ndarray]], *, height: int = 320) -> go.Figure:
    """Training loss (log) and accuracy per step, side by side; ``series`` items are
    ``(label, color, loss (T+1,), accuracy (T+1,))``."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("training loss", "training accuracy"))
    for label, color, loss, acc in series:
        steps = np.arange(len(loss))
        fig.add_trace(go.Scatter(x=steps, y=_positive(loss), name=label, mode="lines", legendgroup=label,
                                 line={"color": color, "width": 2}), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=np.asarray(acc, dtype=float) * 100, name=label, mode="lines",
                                 legendgroup=label, showlegend=False, line={"color": color, "width": 2}),
                      row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="loss (cross-entropy)", type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(title_text="accuracy (%)", range=[0, 101], row=1, col=2)
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, **_LAYOUT)
    return fig


def interpolation_figure(alphas: np.ndarray, series: Sequence[tuple[str, str, np.ndarray]], *,
                         height: int = 340) -> go.Figure:
    """Loss along :math:`(1-\\alpha)\\theta_0 + \\alpha\\theta_1` per run, with the two ends marked."""
    fig = go.Figure()
    for label, color, values in series:
        fig.add_trace(go.Scatter(x=alphas, y=_positive(values), name=label, mode="lines",
                                 line={"color": color, "width": 2.5},
                                 hovertemplate=f"{label}<br>α = %{{x:.2f}}<br>loss %{{y:.4g}}<extra></extra>"))
    for alpha, text in ((0.0, "initial weights θ₀"), (1.0, "trained weights θ₁")):
        fig.add_vline(x=alpha, line={"dash": "dot", "color": "#555"}, annotation_text=text,
                      annotation_position="top")
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50},
                      xaxis={"title": {"text": "α (0 = initial weights, 1 = trained weights)"}},
                      yaxis={"title": {"text": "loss (log scale)"}, "type": "log", "exponentformat": "power"},
                      **_LAYOUT)
    return fig


def _slice_axes_titles(fig: go.Figure) -> None:
    fig.update_layout(xaxis={"title": {"text": "α along direction δ (filter-normalized)"}},
                      yaxis={"title": {"text": "β along direction η (filter-normalized)"}})


def _centre_marker(label: str = "trained weights") -> go.Scatter:
    return go.Scatter(x=[0.0], y=[0.0], mode="markers", name=label, showlegend=True,
                      marker={"symbol": "star", "size": 16, "color": "white", "line": {"color": "#111", "width": 1.5}},
                      hovertemplate=f"{label} (α = 0, β = 0)<extra></extra>")


def slice_surface_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, *, title: str, height: int = 480) -> go.Figure:
    """3-D view of one slice (height: log10(1 + loss - min)), axes named after the directions."""
    fig = surface_figure(xs, ys, Z, log_scale=True, min_value=float(np.nanmin(Z)), height=height)
    fig.update_layout(title={"text": title, "font": {"size": 14}}, margin={"l": 0, "r": 0, "t": 40, "b": 0},
                      scene={"xaxis": {"title": {"text": "α (along δ)"}}, "yaxis": {"title": {"text": "β (along η)"}},
                             "zaxis": {"title": {"text": "log₁₀(1 + loss − min)"}}})
    return fig


def slice_contours_figure(xs: np.ndarray, ys: np.ndarray, slices: Sequence[np.ndarray], labels: Sequence[str], *,
                          height: int = 420) -> go.Figure:
    """One contour map per run, side by side on one shared log colour scale, each centred on its weights."""
    count = len(slices)
    fig = make_subplots(rows=1, cols=count, subplot_titles=[f"around {label}" for label in labels],
                        horizontal_spacing=0.06)
    floor = float(np.nanmin([np.nanmin(Z) for Z in slices]))
    scale = color_scale_values(np.stack(slices), True, floor)
    for index, values in enumerate(scale.values, start=1):
        fig.add_trace(go.Contour(
            x=xs, y=ys, z=values, colorscale="Viridis", ncontours=25, zmin=float(np.nanmin(scale.values)),
            zmax=float(np.nanmax(scale.values)), contours={"coloring": "heatmap", "showlines": True},
            line={"width": 0.5, "color": "rgba(255,255,255,0.35)"}, showscale=index == count,
            colorbar={"title": {"text": scale.title, "side": "right"}, "tickvals": scale.tickvals,
                      "ticktext": scale.ticktext, "thickness": 14},
            customdata=slices[index - 1], name=labels[index - 1],
            hovertemplate="α %{x:.2f}, β %{y:.2f}<br>loss %{customdata:.4g}<extra></extra>"), row=1, col=index)
        marker = _centre_marker()
        marker.showlegend = index == 1
        fig.add_trace(marker, row=1, col=index)
        fig.update_xaxes(title_text="α along δ", constrain="domain", row=1, col=index)
        fig.update_yaxes(title_text="β along η" if index == 1 else None, scaleanchor=f"x{index if index > 1 else ''}",
                         row=1, col=index)
    fig.update_layout(height=height, margin={"l": 60, "r": 20, "t": 60, "b": 50}, **_LAYOUT)
    return fig


def plane_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path], *,
                 explained: Sequence[float], origin_label: str, step: int | None = None,
                 height: int = 520) -> go.Figure:
    """The loss on the PCA plane with every projected path and, at ``step``, each run's position."""
    fig = contour_figure(xs, ys, Z, paths=paths, log_scale=True, min_value=float(np.nanmin(Z)), animate=False,
                         height=height)
    fig.add_trace(go.Scatter(x=[0.0], y=[0.0], mode="markers", name=f"plane origin: trained weights of {origin_label}",
                             marker={"symbol": "star", "size": 16, "color": "white",
                                     "line": {"color": "#111", "width": 1.5}}))
    fig.update_layout(shapes=[])  # contour_figure's moving heads belong to its animation, which is off here
    if step is not None:
        for path in paths:
            k = min(step, path.last_finite)
            fig.add_trace(go.Scatter(
                x=[path.xy[k, 0]], y=[path.xy[k, 1]], mode="markers", showlegend=False, legendgroup=path.label,
                marker={"size": 13, "color": path.color, "line": {"color": "white", "width": 2}},
                hovertemplate=f"{path.label} at step {k}<extra></extra>"))
    fig.update_layout(xaxis={"title": {"text": f"PC1 ({100 * explained[0]:.1f}% of the path's spread)"},
                             "scaleanchor": "y"},
                      yaxis={"title": {"text": f"PC2 ({100 * explained[1]:.1f}%)"}})
    return fig


def honesty_figure(series: Sequence[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]], *,
                   height: int = 460) -> go.Figure:
    """Per run: the true loss along the path against the plane's loss under the drawn path (top), and the
    path's distance from the plane as a share of its size (bottom). Items: ``(label, color, true_loss,
    plane_loss, relative_distance)``."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.62, 0.38],
                        subplot_titles=("loss: true (solid) vs. the plane under the drawn path (dashed)",
                                        "distance of the path from the plane"))
    for label, color, true_loss, plane_loss, distance in series:
        steps = np.arange(len(true_loss))
        fig.add_trace(go.Scatter(x=steps, y=_positive(true_loss), name=f"{label}: true loss", mode="lines",
                                 legendgroup=label, line={"color": color, "width": 2.5}), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=_positive(plane_loss), name=f"{label}: on the plane", mode="lines",
                                 legendgroup=label, line={"color": color, "width": 2, "dash": "dash"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=steps, y=100 * np.asarray(distance), name=label, showlegend=False, mode="lines",
                                 legendgroup=label, line={"color": color, "width": 2}), row=2, col=1)
    fig.update_yaxes(title_text="loss (log)", type="log", exponentformat="power", row=1, col=1)
    fig.update_yaxes(title_text="% of path size", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 80, "b": 50}, **_LAYOUT)
    return fig


def sharpness_figure(steps: np.ndarray, series: Sequence[tuple[str, str, np.ndarray, np.ndarray | None]], *,
                     height: int = 380) -> go.Figure:
    """Top Hessian eigenvalue at the sampled steps, with each run's stability limit (2/lr for gradient
    descent) as a dotted line of the same colour. Items: ``(label, color, sharpness (S,), limit (S,) or None)``."""
    fig = go.Figure()
    for label, color, values, limit in series:
        fig.add_trace(go.Scatter(x=steps, y=_positive(values), name=f"{label}: λ_max", mode="lines+markers",
                                 legendgroup=label, line={"color": color, "width": 2.5}, marker={"size": 6}))
        if limit is not None:
            fig.add_trace(go.Scatter(x=steps, y=_positive(limit), name=f"{label}: stability limit (2/lr)",
                                     mode="lines", legendgroup=label, line={"color": color, "width": 2, "dash": "dot"}))
    fig.update_layout(height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50},
                      xaxis={"title": {"text": "step"}},
                      yaxis={"title": {"text": "top Hessian eigenvalue λ_max (log)"}, "type": "log",
                             "exponentformat": "power"}, **_LAYOUT)
    return fig


def decision_figure(xs: np.ndarray, ys: np.ndarray, probs: np.ndarray, X: np.ndarray, y: np.ndarray, *,
                    class_names: Sequence[str], feature_names: Sequence[str], title: str,
                    height: int = 400) -> go.Figure:
    """The network's predicted class over its input plane (shade = confidence) with the training points.

    ``probs`` is (ny, nx, C) from :func:`lossviz.nn_landscape.decision_grid`.
    """
    n_classes = probs.shape[-1]
    fig = go.Figure()
    if n_classes == 2:
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=probs[..., 1], zmin=0, zmax=1, colorscale="RdBu_r", opacity=0.75,
                                 colorbar={"title": {"text": f"P({class_names[1]})", "side": "right"}, "thickness": 12},
                                 hovertemplate="(%{x:.2f}, %{y:.2f})<br>P = %{z:.3f}<extra></extra>"))
        fig.add_trace(go.Contour(x=xs, y=ys, z=probs[..., 1], showscale=False, contours={
            "start": 0.5, "end": 0.5, "size": 1, "coloring": "none"}, line={"color": "#111", "width": 2},
            hoverinfo="skip", name="boundary"))
    else:
        labels = probs.argmax(axis=-1)
        colors = [CLASS_COLORS[c % len(CLASS_COLORS)] for c in range(n_classes)]
        scale = [[i / max(n_classes - 1, 1), colors[i]] for i in range(n_classes)]
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=labels, zmin=0, zmax=n_classes - 1, colorscale=scale, opacity=0.35,
                                 showscale=False, customdata=probs.max(axis=-1),
                                 hovertemplate="(%{x:.2f}, %{y:.2f})<br>class %{z}, P = %{customdata:.3f}<extra></extra>"))
    for c in range(n_classes):
        chosen = y == c
        fig.add_trace(go.Scatter(x=X[chosen, 0], y=X[chosen, 1], mode="markers", name=str(class_names[c]),
                                 marker={"size": 5, "color": CLASS_COLORS[c % len(CLASS_COLORS)],
                                         "line": {"color": "white", "width": 0.6}}))
    fig.update_layout(height=height, title={"text": title, "font": {"size": 14}},
                      margin={"l": 60, "r": 20, "t": 70, "b": 50},
                      xaxis={"title": {"text": f"{feature_names[0]} (standardized)"}, "range": [xs[0], xs[-1]]},
                      yaxis={"title": {"text": f"{feature_names[1]} (standardized)"}, "range": [ys[0], ys[-1]],
                             "scaleanchor": "x"}, **_LAYOUT)
    fig.update_layout(legend={"y": 1.0, "yanchor": "bottom"})
    return fig


def run_colors(count: int) -> list[str]:
    """Colours of the runs, in order (the project palette)."""
    return [PALETTE[i % len(PALETTE)] for i in range(count)]
