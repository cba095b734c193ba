"""Plotly figures of a model on data: its exact two-parameter landscape and the data with the fit.

The landscape is :func:`lossviz.viz.landscape.contour_figure` with the parameter names on the axes, the
chosen step of every path marked, click targets on the paths (a click picks the step) and, with
outliers, where the MSE, MAE and Huber minima sit with and without them. The data view draws what the
parameters at that step mean: a line, a sigmoid, a decision boundary, or predictions against targets.
Plotly only, never streamlit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from lossviz.lessons.models_on_data import Exploration, fit_at
from lossviz.viz.landscape import Path, contour_figure, surface_figure

__all__ = ["STEP_TARGET", "landscape_figure", "landscape_surface", "data_figure", "CLASS_COLORS"]

STEP_TARGET = "pick step"  # name prefix of the invisible click targets on each path
CLASS_COLORS = ("#56B4E9", "#E69F00")
ROBUST_SYMBOLS = {"Mean squared error (MSE)": "circle", "Mean absolute error (MAE)": "square",
                  "Huber": "diamond"}
MAX_POINTS_SHOWN = 3000
REFERENCE_COLORS = ("#000000", "#7F7F7F", "#8E44AD")  # MSE, MAE, Huber fits when outliers were added


def _disc(x: float, y: float, color: str) -> dict:
    return {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "xanchor": x, "yanchor": y, "x0": -8, "x1": 8, "y0": -8, "y1": 8, "fillcolor": color,
            "line": {"color": "white", "width": 2}}


def _log_scale(ex: Exploration) -> bool:
    """Colour by log(loss) only where a regression loss spans decades; classification losses are bounded
    or grow linearly, and their plateaus, not their decades, are the lesson."""
    finite = ex.Z[np.isfinite(ex.Z)]
    if ex.landscape.dataset.task != "regression" or not finite.size:
        return False
    return bool(finite.min() > 0 and finite.max() / finite.min() > 1000)


def landscape_figure(ex: Exploration, paths: Sequence[Path], step: int, start: tuple[float, float],
                     height: int = 560) -> go.Figure:
    """Contour of the exact landscape, the paths, a disc at ``step`` on each, the minimum and targets.

    A click on a path selects a point of its ``STEP_TARGET`` trace whose ``customdata`` is the step.
    """
    land = ex.landscape
    log_scale = _log_scale(ex)
    fig = contour_figure(ex.xs, ex.ys, ex.Z, paths=paths, log_scale=log_scale, start=start, animate=False,
                         height=height)
    label = "lowest point in view" if ex.best_on_edge else f"minimum of {land.choice.title}"
    fig.add_trace(go.Scatter(
        x=[ex.best[0]], y=[ex.best[1]], mode="markers", name=label,
        marker={"symbol": "star", "size": 17, "color": "white", "line": {"color": "#111", "width": 1.5}},
        cliponaxis=False,  # on the map's edge when the minimum lies beyond it
        hovertemplate=f"{label}<br>(%{{x:.4g}}, %{{y:.4g}}), loss {ex.best_value:.4g}<extra></extra>",
    ))
    if ex.robust is not None:
        for _, row in ex.robust.iterrows():
            symbol = ROBUST_SYMBOLS.get(row["loss"], "circle")
            short = row["loss"].split("(")[-1].rstrip(")") if "(" in row["loss"] else row["loss"]
            before, after = row["without outliers"], row["with outliers"]
            # Filled first: the legend draws the first marker, and an open white one would be invisible.
            fig.add_trace(go.Scatter(
                x=[after[0], before[0]], y=[after[1], before[1]], mode="lines+markers",
                name=f"{short} minimum", line={"color": "white", "width": 1.5, "dash": "dot"},
                marker={"symbol": [symbol, f"{symbol}-open"], "size": 12, "color": "white",
                        "line": {"color": "#111", "width": 1.5}},
                customdata=["with outliers", "without outliers"],
                hovertemplate=f"{short} minimum %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
            ))
    labels = {path.label for path in paths}
    # The path lines would win the hover (and so the click) over the invisible step targets on them.
    fig.update_traces(hoverinfo="skip", hovertemplate=None,
                      selector=lambda t: t.name in labels and t.mode == "lines")
    for path in paths:
        steps = np.arange(len(path.xy))
        fig.add_trace(go.Scatter(
            x=path.xy[:, 0], y=path.xy[:, 1], customdata=steps, mode="markers",
            name=f"{STEP_TARGET}: {path.label}", showlegend=False,
            marker={"size": 12, "opacity": 0.0, "color": path.color},
            hovertemplate=f"{path.label}<br>step %{{customdata}}: (%{{x:.4g}}, %{{y:.4g}})<br>"
                          "click to show this fit<extra></extra>",
        ))
    shapes = []
    for path in paths:
        k = min(step, path.last_finite)
        shapes.append(_disc(float(path.xy[k, 0]), float(path.xy[k, 1]), path.color))
    fig.update_layout(
        shapes=shapes,
        xaxis={"title": {"text": land.axis_titles[0]}},
        yaxis={"title": {"text": land.axis_titles[1]}, "scaleanchor": "x", "scaleratio": 1},
        legend={"font": {"size": 12}},
    )
    return fig


def landscape_surface(ex: Exploration, paths: Sequence[Path], height: int = 560) -> go.Figure:
    """The same landscape in 3-D, with the parameter names on the axes."""
    land = ex.landscape
    fig = surface_figure(ex.xs, ex.ys, ex.Z, paths=paths, log_scale=_log_scale(ex), height=height)
    fig.update_layout(scene={"xaxis": {"title": {"text": land.param_names[0]}},
                             "yaxis": {"title": {"text": land.param_names[1]}}})
    return fig


def _shown_rows(n: int, limit: int = MAX_POINTS_SHOWN) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def data_figure(ex: Exploration, paths: Sequence[Path], step: int, height: int = 560) -> go.Figure:
    """The data in original units with the model of every path at ``step`` drawn over it.

    Each path's fit is solid in its colour; the fit at the landscape's lowest point is dashed black; with
    outliers, the MSE, MAE and Huber minima are dotted and the moved points marked. At most
    :data:`MAX_POINTS_SHOWN` points are drawn (a seeded sample of a large upload).
    """
    land = ex.landscape
    fits = []
    for path in paths:
        k = min(step, path.last_finite)
        fits.append((f"{path.label}, step {k}", path.color, fit_at(land, path.xy[k])))
    reference = []
    if ex.robust is not None:
        reference = [(f"{row['loss']} fit", color, fit_at(land, row["with outliers"]))
                     for color, (_, row) in zip(REFERENCE_COLORS, ex.robust.iterrows())]
    best = fit_at(land, ex.best)
    outlier_rows = ex.outlier_rows
    data = land.dataset
    rows = _shown_rows(data.n_samples)
    X = data.to_original(data.X)[rows]
    y = data.y_original()[rows]
    fig = go.Figure()
    names = data.feature_names
    if land.kind in ("line", "plane"):
        moved = np.isin(rows, outlier_rows if outlier_rows is not None else [])
        x_points = X[:, 0] if land.kind == "line" else y
        if land.kind == "line":
            fig.add_trace(go.Scatter(x=x_points[~moved], y=y[~moved], mode="markers", name="data",
                                     marker={"color": "#8A8A8A", "size": 7, "opacity": 0.75}))
            if moved.any():
                fig.add_trace(go.Scatter(x=x_points[moved], y=y[moved], mode="markers", name="moved outliers",
                                         marker={"color": "#D00000", "size": 11, "symbol": "x"}))
        xlabel, ylabel = (names[0], data.target_name) if land.kind == "line" else \
            (f"actual {data.target_name}", f"predicted {data.target_name}")
    else:
        for label in (0, 1):
            mask = data.y[rows] == label
            if land.kind == "sigmoid":
                jitter = 0.04 * np.sin(np.arange(mask.sum()) * 2.39996)  # deterministic, no overlap
                coordinates = (X[mask, 0], label + jitter)
            else:
                coordinates = (X[mask, 0], X[mask, 1])
            fig.add_trace(go.Scatter(
                x=coordinates[0], y=coordinates[1], mode="markers", name=f"class: {data.class_names[label]}",
                marker={"color": CLASS_COLORS[label], "size": 7, "opacity": 0.8,
                        "line": {"color": "white", "width": 0.5}},
            ))
        xlabel = names[0]
        ylabel = f"P({data.class_names[1]}) = σ(score)" if land.kind == "sigmoid" else names[1]
    drawn = [(label, color, fit, "solid", 3) for label, color, fit in fits]
    drawn += [(label, color, fit, "dot", 2) for label, color, fit in reference]
    drawn.append(("lowest point of the landscape", "#111111", best, "dash", 2))
    if land.kind == "plane":
        low, high = float(np.min(y)), float(np.max(y))
        fig.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect prediction",
                                 line={"color": "#888", "dash": "dash", "width": 1.5}))
    for label, color, fit, dash, width in drawn:
        if land.kind == "plane":
            fig.add_trace(go.Scatter(x=fit.x[rows], y=fit.y[rows], mode="markers", name=label,
                                     marker={"color": color, "size": 6, "opacity": 0.7}))
            continue
        fig.add_trace(go.Scatter(x=fit.x, y=fit.y, mode="lines", name=label,
                                 line={"color": color, "dash": dash, "width": width}))
        if fit.side is not None:
            fig.add_annotation(x=fit.side[1, 0], y=fit.side[1, 1], ax=fit.side[0, 0], ay=fit.side[0, 1],
                               xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2,
                               arrowwidth=2, arrowcolor=color, text="")
        if fit.threshold is not None and X[:, 0].min() <= fit.threshold <= X[:, 0].max():
            fig.add_vline(x=fit.threshold, line={"color": color, "dash": "dot", "width": 1.5})
    layout: dict = {
        "height": height, "template": "none", "margin": {"l": 70, "r": 20, "t": 30, "b": 60},
        "xaxis": {"title": {"text": xlabel}}, "yaxis": {"title": {"text": ylabel}},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 12}},
    }
    if land.kind == "sigmoid":
        layout["yaxis"]["range"] = [-0.1, 1.1]
    if land.kind == "boundary":
        pad = 0.05 * (X.max(axis=0) - X.min(axis=0))
        layout["xaxis"]["range"] = [X[:, 0].min() - pad[0], X[:, 0].max() + pad[0]]
        layout["yaxis"]["range"] = [X[:, 1].min() - pad[1], X[:, 1].max() + pad[1]]
    fig.update_layout(**layout)
    return fig
