"""Figures of the Regularization page: the penalty meeting the data, the path, Adam + L2 against AdamW.

Arrays and core results in, Plotly figures out (never streamlit). Weight planes are drawn with equal
axes, so a circle of the L2 penalty looks like a circle and the L1 diamond has square corners.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.lessons.regularization import DecayComparison, RegularizationPath
from lossviz.viz.landscape import MINIMUM_COLOR, PALETTE, Path, contour_figure

__all__ = ["PENALTY_COLORS", "PENALTY_TITLES", "DECAY_COLORS", "geometry_figure", "regularized_figure",
           "path_figure", "decay_figure"]

PENALTY_COLORS = {"l1": "#D55E00", "elastic_net": "#CC79A7", "l2": "#56B4E9"}
PENALTY_TITLES = {"l1": "L1 (lasso)", "elastic_net": "elastic net", "l2": "L2 (ridge)"}
FEATURE_COLORS = (PALETTE[0], PALETTE[4])
DECAY_COLORS = ("#56B4E9", "#E69F00", "#CC79A7")
# The data-loss level set through the minimizer: light on the dark map and still visible in the legend.
TOUCH_COLOR = "#F0E442"


def _weight_axes(fig: go.Figure, names: Sequence[str]) -> go.Figure:
    fig.update_layout(
        xaxis={"title": {"text": f"weight of {names[0]}"}},
        # Both axes keep their range and give up plot area instead, so the map fills the frame.
        yaxis={"title": {"text": f"weight of {names[1]}"}, "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain"},
    )
    return fig


def _translucent(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _legend_below(fig: go.Figure) -> go.Figure:
    """Legend in rows under the map: beside it, it squeezes an equal-aspect plot."""
    fig.update_layout(legend={"orientation": "h", "y": -0.14, "yanchor": "top", "x": 0, "font": {"size": 12}},
                      margin={"l": 60, "r": 20, "t": 20, "b": 40})
    return fig


def _level_line(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, level: float, name: str, color: str,
                width: float = 3.0, dash: str = "solid") -> go.Contour:
    """One contour line of ``Z`` at ``level`` (a contour trace with a single level, lines only)."""
    return go.Contour(
        x=xs, y=ys, z=Z, name=name, showlegend=True, showscale=False, hoverinfo="skip",
        contours={"coloring": "none", "start": level, "end": level, "size": 1.0, "showlabels": False},
        line={"color": color, "width": width, "dash": dash},
    )


def _marker(point: np.ndarray, name: str, symbol: str, color: str, size: int = 14) -> go.Scatter:
    # A white marker gets a dark outline, so it also shows in the legend on a white background.
    outline = MINIMUM_COLOR if color == "white" else "white"
    return go.Scatter(
        x=[point[0]], y=[point[1]], mode="markers", name=name,
        marker={"symbol": symbol, "size": size, "color": color, "line": {"color": outline, "width": 1.5}},
        hovertemplate=f"{name}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
    )


def geometry_figure(
    xs: np.ndarray, ys: np.ndarray, data_Z: np.ndarray, penalty_Z: np.ndarray, *,
    paths: Sequence[RegularizationPath], penalty: str, minimizer: np.ndarray, ols: np.ndarray,
    data_level: float, penalty_level: float, strength: float, names: Sequence[str], height: int = 620,
) -> go.Figure:
    """The data loss (filled contours), the penalty's level sets (dashed), the two level sets that touch
    at the regularized minimizer, and every penalty's path of minimizers from least squares to 0.

    ``penalty_Z`` is the penalty's shape (strength 1) on the grid; ``penalty_level`` its value at the
    minimizer, so the thick curve bounds the region the minimizer may use; ``data_level`` is the data
    loss there. At ``strength`` 0 nothing touches (the minimizer is least squares), so they are left out.
    """
    fig = contour_figure(xs, ys, data_Z, animate=False, height=height)
    fig.data[0].colorbar.title.text = "data loss (MSE)"
    color = PENALTY_COLORS[penalty]
    top = float(np.nanmax(penalty_Z))
    fig.add_trace(go.Contour(
        x=xs, y=ys, z=penalty_Z, name=f"{PENALTY_TITLES[penalty]} penalty, level sets", showscale=False,
        hoverinfo="skip", showlegend=False,
        contours={"coloring": "none", "start": top / 8, "end": top, "size": top / 8},
        line={"color": _translucent(color, 0.55), "width": 1.2},
    ))
    if strength > 0 and penalty_level > 0:
        fig.add_trace(_level_line(xs, ys, penalty_Z, penalty_level, "penalty level set through it", color))
        fig.add_trace(_level_line(xs, ys, data_Z, data_level, "data-loss level set through it", TOUCH_COLOR,
                                  width=2.5))
    for path in paths:
        fig.add_trace(go.Scatter(
            x=path.weights[:, 0], y=path.weights[:, 1], mode="lines",
            name=f"{PENALTY_TITLES[path.penalty]} path",
            line={"color": PENALTY_COLORS[path.penalty], "width": 3.5 if path.penalty == penalty else 2,
                  "dash": "dot"},
            customdata=path.strengths,
            hovertemplate=f"{PENALTY_TITLES[path.penalty]}<br>λ = %{{customdata:.3g}}<br>"
                          "(%{x:.3f}, %{y:.3f})<extra></extra>",
        ))
    fig.add_trace(_marker(ols, "least squares (λ = 0)", "star", "white", 17))
    fig.add_trace(_marker(minimizer, f"{PENALTY_TITLES[penalty]} minimizer at this λ", "circle", color, 15))
    return _legend_below(_weight_axes(fig, names))


def regularized_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, *, minimizer: np.ndarray,
                       penalty: str, names: Sequence[str], height: int = 540) -> go.Figure:
    """Contours of data loss + penalty, whose lowest point is the regularized minimizer."""
    fig = contour_figure(xs, ys, Z, animate=False, height=height)
    fig.data[0].colorbar.title.text = "data loss + penalty"
    fig.add_trace(_marker(minimizer, "minimizer of data loss + penalty", "circle", PENALTY_COLORS[penalty],
                          15))
    return _legend_below(_weight_axes(fig, names))


def path_figure(paths: Sequence[RegularizationPath], *, strength: float, names: Sequence[str],
                height: int = 380) -> go.Figure:
    """Each weight against the strength (log axis), one panel per penalty; a cross where a weight
    becomes exactly zero and a dashed line at the page's current strength."""
    order = {name: i for i, name in enumerate(("l1", "elastic_net", "l2"))}
    paths = sorted(paths, key=lambda p: order[p.penalty])
    titles = [PENALTY_TITLES[p.penalty] + (f" (ρ = {p.l1_ratio:g})" if p.penalty == "elastic_net" else "")
              for p in paths]
    fig = make_subplots(rows=1, cols=len(paths), shared_yaxes=True, subplot_titles=titles,
                        horizontal_spacing=0.04)
    for col, path in enumerate(paths, start=1):
        shown = path.strengths > 0
        for j, name in enumerate(names):
            color = FEATURE_COLORS[j % len(FEATURE_COLORS)]
            fig.add_trace(go.Scatter(
                x=path.strengths[shown], y=path.weights[shown, j], mode="lines", name=f"weight of {name}",
                legendgroup=name, showlegend=col == 1, line={"color": color, "width": 3},
                hovertemplate=f"{name}<br>λ = %{{x:.3g}}<br>w = %{{y:.4g}}<extra></extra>",
            ), row=1, col=col)
            knot = float(path.zero_from[j])
            if np.isfinite(knot) and knot > path.strengths[shown][0]:
                fig.add_trace(go.Scatter(
                    x=[knot], y=[0.0], mode="markers+text", showlegend=False, legendgroup=name,
                    marker={"symbol": "x", "size": 12, "color": color,
                            "line": {"width": 1, "color": "white"}},
                    # Short labels on alternate sides, so the two of one panel never overlap.
                    text=[f"0 from {knot:.3g}"], textposition="bottom right" if j == 0 else "top left",
                    textfont={"color": color, "size": 12}, cliponaxis=False,
                    hovertemplate=f"{name} is exactly 0 for λ ≥ {knot:.4g}<extra></extra>",
                ), row=1, col=col)
        if strength > 0:
            fig.add_vline(x=strength, line={"dash": "dash", "color": "#555"}, row=1, col=col)
        fig.add_hline(y=0.0, line={"color": "#999", "width": 1}, row=1, col=col)
        fig.update_xaxes(type="log", exponentformat="power", title_text="strength λ (log scale)",
                         row=1, col=col)
    fig.update_yaxes(title_text="weight", row=1, col=1)
    fig.update_layout(height=height, template="none", margin={"l": 70, "r": 20, "t": 60, "b": 60},
                      legend={"orientation": "h", "y": 1.12, "yanchor": "bottom", "x": 0})
    return fig


def decay_figure(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, comparison: DecayComparison, *,
                 weight_decay: float, names: Sequence[str], height: int = 560) -> go.Figure:
    """The three runs on the data loss, with where theory says each must end: the ridge minimizer (SGD
    and Adam + L2) and the least-squares point inside the box |w_j| <= 1/λ (AdamW as lr -> 0)."""
    paths = [Path(label, color, t.params, t.loss, int(t.diverged_at))
             for label, color, t in zip(comparison.labels, DECAY_COLORS, comparison.trajectories)]
    start = tuple(comparison.trajectories[0].params[0])
    fig = contour_figure(xs, ys, Z, paths=paths, start=start, height=height)
    fig.data[0].colorbar.title.text = "data loss (MSE)"
    if weight_decay > 0:
        b = 1.0 / weight_decay
        # A trace, not a layout shape: the animation frames replace the layout's shapes.
        fig.add_trace(go.Scatter(
            x=[-b, b, b, -b, -b], y=[-b, -b, b, b, -b], mode="lines", name=f"box |w_j| ≤ 1/λ = {b:.3g}",
            line={"color": DECAY_COLORS[2], "width": 2, "dash": "dash"}, hoverinfo="skip",
        ))
    fig.add_trace(_marker(comparison.unregularized_minimizer, "least squares (no decay)", "star", "white",
                          16))
    fig.add_trace(_marker(comparison.ridge_minimizer, "ridge minimizer: SGD and Adam + L2 end here",
                          "diamond", DECAY_COLORS[1], 15))
    fig.add_trace(_marker(comparison.box_minimizer, "AdamW's limit as lr → 0", "square", DECAY_COLORS[2], 14))
    return _weight_axes(fig, names)
