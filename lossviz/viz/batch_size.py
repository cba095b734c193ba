"""Figures of the Batch size page: paths per batch size, the gradient cloud, the noise ball, its scaling.

Arrays and core results in, Plotly figures out (never streamlit). Covariances are drawn as 2-sigma
ellipses: a Gaussian with that covariance puts about 86% of its mass inside.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lossviz.lessons.batch_size import GradientCloud, NoiseBall
from lossviz.viz.landscape import MINIMUM_COLOR, PALETTE, Path, contour_figure

__all__ = ["ellipse", "view_box", "ball_view", "batch_colors", "paths_figure", "cloud_figure",
           "noise_ball_figure", "scaling_figure", "FULL_BATCH_COLOR"]

Box = tuple[tuple[float, float], tuple[float, float]]

FULL_BATCH_COLOR = "#111111"
MAX_CLOUD_POINTS = 600
MAX_BALL_POINTS = 1500


def ellipse(center: Sequence[float], covariance: np.ndarray, k: float = 2.0, n: int = 120) -> np.ndarray:
    """Points ``(n, 2)`` of the ellipse ``(x - c)^T C^{-1} (x - c) = k^2`` (NaN if C is not finite)."""
    cov = np.asarray(covariance, dtype=float)
    if not np.all(np.isfinite(cov)):
        return np.full((n, 2), np.nan)
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    angles = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.asarray(center, dtype=float) + k * (circle * np.sqrt(np.maximum(values, 0.0))) @ vectors.T


def view_box(points: np.ndarray, margin: float = 0.35, min_half_width: float = 0.5) -> Box:
    """A square view ``((xmin, xmax), (ymin, ymax))`` holding ``points`` (m, 2) with a relative margin,
    so circles look like circles on an equal-aspect map."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    low, high = pts.min(axis=0), pts.max(axis=0)
    center = 0.5 * (low + high)
    half = max(float(np.max(high - low)) * (0.5 + margin), min_half_width)
    return (center[0] - half, center[0] + half), (center[1] - half, center[1] + half)


def ball_view(balls: Sequence[NoiseBall], minimum: np.ndarray) -> Box:
    """A square view around the minimum holding the theory's 3-sigma ellipses (or, where the theory has
    no finite ball, the central 98% of the iterates)."""
    points = [np.asarray(minimum, dtype=float)[None]]
    for ball in balls:
        if np.all(np.isfinite(ball.predicted)):
            points.append(ellipse(minimum, ball.predicted, k=3.0))
        elif np.isfinite(ball.samples).all(axis=1).any():
            finite = ball.samples[np.isfinite(ball.samples).all(axis=1)]
            points.append(np.percentile(finite, [1, 99], axis=0))
    return view_box(np.vstack(points), margin=0.1, min_half_width=1e-3)


def batch_colors(batch_sizes: Sequence[int]) -> dict[int, str]:
    """One palette colour per batch size, in the order given."""
    return {int(b): PALETTE[i % len(PALETTE)] for i, b in enumerate(batch_sizes)}


def _axes(fig: go.Figure, names: Sequence[str], prefix: str = "") -> go.Figure:
    fig.update_layout(
        xaxis={"title": {"text": f"{prefix}{names[0]}"}},
        # Both axes keep their range and give up plot area instead, so a map fills its frame.
        yaxis={"title": {"text": f"{prefix}{names[1]}"}, "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain"},
    )
    return fig


def paths_figure(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path], *, minimum: np.ndarray,
    start: Sequence[float], names: Sequence[str], height: int = 520,
) -> go.Figure:
    """The full loss's contour map with one SGD path per batch size (animated) and the minimum."""
    fig = contour_figure(xs, ys, Z, paths=paths, minima=np.asarray(minimum)[None], start=tuple(start),
                         height=height)
    fig.update_traces(selector={"name": "global minimum"}, name="minimum of the full loss")
    fig.data[0].colorbar.title.text = "full-batch loss"
    return _axes(fig, names)


def cloud_figure(clouds: Sequence[GradientCloud], colors: dict[int, str], names: Sequence[str],
                 height: int = 480) -> go.Figure:
    """Mini-batch gradients as points in gradient space, one colour per batch size, with the theory's
    2-sigma ellipse around the full gradient (a star)."""
    fig = go.Figure()
    for cloud in clouds:
        color = colors[cloud.batch_size]
        shown = cloud.grads[:MAX_CLOUD_POINTS]
        label = f"B = {cloud.batch_size}"
        fig.add_trace(go.Scatter(
            x=shown[:, 0], y=shown[:, 1], mode="markers", name=f"{label}: mini-batch gradients",
            legendgroup=label, marker={"color": color, "size": 5, "opacity": 0.45},
            hovertemplate=f"{label}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        ))
        ring = ellipse(cloud.full_grad, cloud.predicted_covariance)
        fig.add_trace(go.Scatter(
            x=ring[:, 0], y=ring[:, 1], mode="lines", name=f"{label}: theory, 2σ", legendgroup=label,
            line={"color": color, "width": 2.5}, hoverinfo="skip",
        ))
    if clouds:
        g = clouds[0].full_grad
        fig.add_trace(go.Scatter(
            x=[g[0]], y=[g[1]], mode="markers", name="full-batch gradient",
            marker={"symbol": "star", "size": 13, "color": "white",
                    "line": {"color": MINIMUM_COLOR, "width": 2}},
            hovertemplate="full gradient (%{x:.3g}, %{y:.3g})<extra></extra>",
        ))
    fig.update_layout(
        height=height, template="none", margin={"l": 70, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return _axes(fig, names, prefix="∂L/∂")


def noise_ball_figure(
    xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, balls: Sequence[NoiseBall], colors: dict[int, str], *,
    minimum: np.ndarray, names: Sequence[str], height: int = 480,
) -> go.Figure:
    """Where SGD wanders after the burn-in, one colour per batch size, on a zoomed contour of the full
    loss, with the theory's 2-sigma ellipse of the stationary second moment (absent when unstable)."""
    fig = contour_figure(xs, ys, Z, minima=np.asarray(minimum)[None], animate=False, height=height)
    fig.update_traces(selector={"name": "global minimum"}, name="minimum of the full loss")
    fig.data[0].colorbar.title.text = "full-batch loss"
    for ball in balls:
        color = colors[ball.batch_size]
        label = f"B = {ball.batch_size}"
        step = max(1, len(ball.samples) // MAX_BALL_POINTS)
        shown = ball.samples[::step]
        fig.add_trace(go.Scatter(
            x=shown[:, 0], y=shown[:, 1], mode="markers", name=f"{label}: iterates", legendgroup=label,
            marker={"color": color, "size": 4, "opacity": 0.5}, hoverinfo="skip",
        ))
        ring = ellipse(minimum, ball.predicted)
        if np.all(np.isfinite(ring)):
            fig.add_trace(go.Scatter(
                x=ring[:, 0], y=ring[:, 1], mode="lines", name=f"{label}: theory, 2σ", legendgroup=label,
                line={"color": color, "width": 3}, hoverinfo="skip",
            ))
    # Keep the star on top of the clouds, small enough not to hide the smallest ball.
    star = next(t for t in fig.data if t.name == "minimum of the full loss")
    star.marker.size = 10
    fig.data = [t for t in fig.data if t is not star] + [star]
    return _axes(fig, names)


def scaling_figure(sweep: pd.DataFrame, colors: dict[int, str], height: int = 480) -> go.Figure:
    """Mean excess loss of the noise ball against lr / B on log-log axes: measured (dots) and theory
    (lines), one colour per batch size; runs that diverged or are unstable are left out."""
    fig = go.Figure()
    for size, rows in sweep.groupby("batch_size", sort=True):
        color = colors.get(int(size), "#555")
        ok = rows[~rows["diverged"]]
        fig.add_trace(go.Scatter(
            x=ok["lr_over_batch"], y=ok["excess_loss"], mode="markers", name=f"B = {size}: measured",
            legendgroup=str(size),
            marker={"color": color, "size": 11, "line": {"color": "white", "width": 1}},
            customdata=ok[["lr"]].to_numpy(),
            hovertemplate=f"B = {size}, lr = %{{customdata[0]:.3g}}<br>lr/B = %{{x:.3g}}<br>"
                          "excess loss %{y:.3g}<extra></extra>",
        ))
        finite = rows[np.isfinite(rows["predicted_excess_loss"])].sort_values("lr_over_batch")
        fig.add_trace(go.Scatter(
            x=finite["lr_over_batch"], y=finite["predicted_excess_loss"], mode="lines",
            name=f"B = {size}: theory", legendgroup=str(size),
            line={"color": color, "width": 2, "dash": "dot"},
            hovertemplate="theory %{y:.3g}<extra></extra>",
        ))
    fig.update_layout(
        height=height, template="none", margin={"l": 80, "r": 20, "t": 30, "b": 60},
        xaxis={"title": {"text": "learning rate / batch size (log scale)"}, "type": "log",
               "exponentformat": "power"},
        yaxis={"title": {"text": "mean loss above the minimum (log scale)"}, "type": "log",
               "exponentformat": "power"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig
