"""Plotly figures of the hyperparameter lessons: sweeps with theory lines, schedules, phase maps, frames.

Arrays in, figures out: plotly and NumPy only, never streamlit. Grids follow the project convention
``Z.shape == (len(ys), len(xs))``; a phase map's rows follow momentum, its columns the learning rate.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lossviz.viz.landscape import MINIMUM_COLOR, PALETTE, color_scale_values

__all__ = [
    "VLine",
    "sweep_figure",
    "range_test_figure",
    "schedule_grid_figure",
    "phase_map_figure",
    "momentum_slider_figure",
    "rate_curves_figure",
    "log_edges",
    "THEORY_COLOR",
]

THEORY_COLOR = "#111111"
DIVERGED_COLOR = "#8B0000"
GREW_COLOR = "#E69F00"
UNREACHED_COLOR = "#D9D9D9"
_BASE_LAYOUT = {"template": "none", "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}


@dataclass(frozen=True)
class VLine:
    """A vertical theory line at ``x`` (data units), labelled in the legend."""

    x: float
    label: str
    color: str = THEORY_COLOR
    dash: str = "dash"


def _vline_traces(lines: Sequence[VLine], y_low: float, y_high: float) -> list[go.Scatter]:
    # Drawn as traces, not layout shapes, so each line has a legend entry and is placed in data units on
    # log axes without converting to log10 by hand.
    return [
        go.Scatter(x=[line.x, line.x], y=[y_low, y_high], mode="lines", name=line.label,
                   line={"color": line.color, "dash": line.dash, "width": 2},
                   hovertemplate=f"{line.label}<extra></extra>")
        for line in lines if np.isfinite(line.x)
    ]


def _positive_span(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return 1e-12, 1.0
    return float(values.min()), float(values.max())


def sweep_figure(
    lrs: np.ndarray,
    final_gap: np.ndarray,
    diverged: np.ndarray,
    *,
    predicted_gap: np.ndarray | None = None,
    start_gap: float | None = None,
    lines: Sequence[VLine] = (),
    steps: int | None = None,
    log_x: bool = False,
    height: int = 430,
) -> go.Figure:
    """Final loss (above the minimum, log scale) against the learning rate, with theory on top.

    Parameters
    ----------
    lrs : (R,) ascending; final_gap : (R,) loss above the minimum after the run (NaN where diverged);
    diverged : (R,) bool, drawn as crosses along the top edge.
    predicted_gap : (R,) the closed-form value, drawn as a dashed curve.
    start_gap : the start's loss above the minimum, a dotted horizontal line: runs that end above it lost.
    lines : vertical theory lines (2/λ_max, the optimal rate, ...).
    log_x : a log lr axis (every decade alike) instead of a linear one (which shows the edge sharpest).
    """
    lrs = np.asarray(lrs, dtype=float)
    gap = np.where(np.asarray(final_gap, dtype=float) > 0, final_gap, np.nan)
    shown_prediction = None
    if predicted_gap is not None:
        shown_prediction = np.where((predicted_gap > 0) & np.isfinite(predicted_gap), predicted_gap, np.nan)
    low, high = _positive_span(gap, [start_gap or np.nan])
    top = high * 30.0
    if shown_prediction is not None:
        # The closed form grows without bound past the limit; clip it to the plotted span.
        shown_prediction = np.where(shown_prediction <= top, shown_prediction, np.nan)
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=lrs, y=gap, mode="lines+markers", name="measured final loss − minimum",
        line={"color": PALETTE[0], "width": 2}, marker={"size": 4},
        hovertemplate="lr %{x:.4g}<br>final loss − min %{y:.3g}<extra></extra>"))
    if shown_prediction is not None:
        fig.add_trace(go.Scatter(
            x=lrs, y=shown_prediction, mode="lines", name="theory ½Σλᵢcᵢ²(1 − lr·λᵢ)^2T",
            line={"color": THEORY_COLOR, "dash": "dot", "width": 2},
            hovertemplate="lr %{x:.4g}<br>theory %{y:.3g}<extra></extra>"))
    blown = np.asarray(diverged, dtype=bool)
    if blown.any():
        fig.add_trace(go.Scatter(
            x=lrs[blown], y=np.full(int(blown.sum()), top), mode="markers", name="diverged (blew up)",
            marker={"symbol": "x-thin", "size": 8, "line": {"width": 2, "color": DIVERGED_COLOR}},
            hovertemplate="lr %{x:.4g}: diverged<extra></extra>"))
    if start_gap is not None and start_gap > 0:
        fig.add_trace(go.Scatter(
            x=[lrs[0], lrs[-1]], y=[start_gap, start_gap], mode="lines", name="loss at the start",
            line={"color": "#777", "dash": "dot", "width": 1.5}, hoverinfo="skip"))
    for trace in _vline_traces(lines, low / 3.0, top):
        fig.add_trace(trace)
    title = "learning rate" + (" (log scale)" if log_x else "")
    title += f"; final loss after {steps} steps" if steps else ""
    fig.update_layout(
        height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, **_BASE_LAYOUT,
        xaxis={"title": {"text": title}, "type": "log" if log_x else "linear", "exponentformat": "power"},
        yaxis={"title": {"text": "final loss − minimum (log scale)"}, "type": "log",
               "exponentformat": "power"},
    )
    return fig


def range_test_figure(
    lrs: np.ndarray,
    losses: np.ndarray,
    *,
    suggestion: float,
    min_loss_lr: float,
    lines: Sequence[VLine] = (),
    loss_floor: float = 0.0,
    height: int = 380,
) -> go.Figure:
    """The learning-rate range test: loss (above ``loss_floor``) after each step of the lr ramp."""
    lrs = np.asarray(lrs, dtype=float)
    gap = np.asarray(losses, dtype=float) - loss_floor
    gap = np.where(gap > 0, gap, np.nan)
    low, high = _positive_span(gap)
    fig = go.Figure(go.Scatter(
        x=lrs, y=gap, mode="lines", name="loss − minimum after the step",
        line={"color": PALETTE[0], "width": 2},
        hovertemplate="lr %{x:.4g}<br>loss − min %{y:.3g}<extra></extra>"))
    marks = [VLine(suggestion, f"steepest descent: lr {suggestion:.3g}", PALETTE[2], "dot"),
             VLine(min_loss_lr, f"lowest loss: lr {min_loss_lr:.3g}", PALETTE[3], "dot"), *lines]
    for trace in _vline_traces(marks, low, high):
        fig.add_trace(trace)
    fig.update_layout(
        height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, **_BASE_LAYOUT,
        xaxis={"title": {"text": "learning rate of the step (grows exponentially; log scale)"}, "type": "log",
               "exponentformat": "power"},
        yaxis={"title": {"text": "loss − minimum (log scale)"}, "type": "log", "exponentformat": "power"},
    )
    return fig


def schedule_grid_figure(
    lr: np.ndarray,
    paths: np.ndarray,
    final_gap: np.ndarray,
    titles: Sequence[str],
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    lines: Sequence[VLine] = (),
    minima: np.ndarray | None = None,
    log_scale: bool = False,
    min_value: float | None = None,
    pairs_per_row: int = 2,
    row_height: int = 300,
) -> go.Figure:
    """Small multiples: for each schedule, lr vs step next to the path it produces on the contour.

    Parameters
    ----------
    lr : (k, T) rate of each step; paths : (k, T+1, 2); final_gap : (k,) final loss above the minimum;
    titles : k schedule names. lines : horizontal lines on every lr panel (e.g. 2/λ_max).
    """
    k = len(titles)
    rows = math.ceil(k / pairs_per_row)
    subplot_titles = []
    for i in range(rows * pairs_per_row):
        if i < k:
            gap = final_gap[i]
            tail = "diverged" if not np.isfinite(gap) else f"final loss − min {gap:.2g}"
            subplot_titles += [f"<b>{titles[i]}</b>: lr per step", tail]
        else:
            subplot_titles += ["", ""]
    height = rows * row_height + 80
    # A fixed gap in pixels between rows, for the row above's axis title and the row below's titles.
    fig = make_subplots(rows=rows, cols=2 * pairs_per_row, subplot_titles=subplot_titles,
                        column_widths=[0.27, 0.23] * pairs_per_row, horizontal_spacing=0.05,
                        vertical_spacing=min(0.3, 90 / height) if rows > 1 else 0.0)
    scale = color_scale_values(Z, log_scale, min_value)
    steps = np.arange(lr.shape[1])
    for i in range(k):
        row, col = i // pairs_per_row + 1, 2 * (i % pairs_per_row) + 1
        color = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=steps, y=lr[i], mode="lines", line={"color": color, "width": 2},
                                 showlegend=False, hovertemplate="step %{x}: lr %{y:.4g}<extra></extra>"),
                      row=row, col=col)
        for line in lines:
            fig.add_trace(go.Scatter(x=[0, steps[-1]], y=[line.x, line.x], mode="lines", name=line.label,
                                     line={"color": line.color, "dash": line.dash, "width": 1.5},
                                     showlegend=i == 0, legendgroup=line.label, hoverinfo="skip"),
                          row=row, col=col)
        fig.add_trace(go.Contour(x=xs, y=ys, z=scale.values, colorscale="Viridis", ncontours=20,
                                 showscale=False,
                                 contours={"coloring": "heatmap", "showlines": False}, hoverinfo="skip"),
                      row=row, col=col + 1)
        if minima is not None and len(minima):
            fig.add_trace(go.Scatter(x=minima[:, 0], y=minima[:, 1], mode="markers", showlegend=False,
                                     marker={"symbol": "star", "size": 10, "color": "white",
                                             "line": {"color": MINIMUM_COLOR, "width": 1}}, hoverinfo="skip"),
                          row=row, col=col + 1)
        fig.add_trace(go.Scatter(x=paths[i, :, 0], y=paths[i, :, 1], mode="lines+markers", showlegend=False,
                                 line={"color": "white", "width": 1.5}, marker={"size": 3, "color": color},
                                 hovertemplate="(%{x:.3g}, %{y:.3g})<extra></extra>"),
                      row=row, col=col + 1)
        fig.update_xaxes(title_text="step", row=row, col=col)
        fig.update_yaxes(title_text="lr", rangemode="tozero", row=row, col=col)
        fig.update_xaxes(range=[xs[0], xs[-1]], showticklabels=False, row=row, col=col + 1)
        fig.update_yaxes(range=[ys[0], ys[-1]], showticklabels=False, row=row, col=col + 1)
    fig.update_annotations(font_size=12)
    fig.update_layout(height=height, margin={"l": 50, "r": 10, "t": 70, "b": 40},
                      **_BASE_LAYOUT)
    return fig


def log_edges(centers: np.ndarray) -> np.ndarray:
    """Cell edges (n+1,) for log-spaced centres (n,): geometric midpoints, ends extended by half a step."""
    logs = np.log(np.asarray(centers, dtype=float))
    step = np.diff(logs)
    middle = 0.5 * (logs[1:] + logs[:-1])
    return np.exp(np.concatenate([[logs[0] - step[0] / 2], middle, [logs[-1] + step[-1] / 2]]))


def _legend_square(name: str, color: str) -> go.Scatter:
    return go.Scatter(x=[None], y=[None], mode="markers", name=name,
                      marker={"symbol": "square", "size": 12, "color": color})


def phase_map_figure(
    lrs: np.ndarray,
    momenta: np.ndarray,
    values: np.ndarray,
    *,
    diverged: np.ndarray,
    grew: np.ndarray,
    value_label: str,
    boundary_lrs: np.ndarray,
    boundary_label: str,
    optimal: tuple[float, float] | None = None,
    optimal_label: str = "theoretical optimum",
    selected: tuple[float, float] | None = None,
    log_color: bool = False,
    reversed_scale: bool = True,
    height: int = 560,
) -> go.Figure:
    """Heat map over (lr, momentum) with the stability boundary, the optimum and click targets.

    Parameters
    ----------
    lrs : (n_lr,) log-spaced; momenta : (n_m,); values : (n_m, n_lr), NaN = not reached (light grey).
    diverged, grew : (n_m, n_lr) bool, painted dark red / orange over the values.
    boundary_lrs : (n_m,) largest stable lr at each momentum, drawn as a line.
    optimal : (lr, momentum) of the theoretical optimum, a white star; selected : the clicked cell.
    log_color : colour by log10 of the values (steps or losses spanning decades).

    Notes
    -----
    Trace 0 is the value heat map; the click lattice (one invisible point per cell centre, carrying the
    hover text) is named "cells": Streamlit's point selection fires on scatter points, not heat-map cells.
    """
    lrs, momenta = np.asarray(lrs, dtype=float), np.asarray(momenta, dtype=float)
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.log10(np.where(values > 0, values, np.nan)) if log_color else values
    finite = colour[np.isfinite(colour)]
    tick = {}
    if log_color and finite.size:
        low_exp, high_exp = math.floor(finite.min()), math.ceil(finite.max())
        exponents = np.arange(low_exp, high_exp + 1, max(1, math.ceil((high_exp - low_exp) / 8)))
        tick = {"tickvals": exponents.tolist(), "ticktext": [f"1e{e}" if abs(e) > 2 else f"{10.0**e:g}"
                                                             for e in exponents]}
    x_edges = log_edges(lrs)
    dy = (momenta[1] - momenta[0]) / 2 if momenta.size > 1 else 0.01
    y_edges = np.concatenate([momenta - dy, [momenta[-1] + dy]])
    # Cell centres, not edges: given n+1 edges on a log axis, Plotly.js drew the bricks between the first
    # and last edge's neighbours and left half a cell of background around the map.
    fig = go.Figure(go.Heatmap(
        x=lrs, y=momenta, z=colour, colorscale="Viridis", reversescale=reversed_scale, hoverinfo="skip",
        colorbar={"title": {"text": value_label, "side": "right"}, "thickness": 14, "len": 0.85, **tick},
        name=value_label))
    overlays = ((diverged, DIVERGED_COLOR, "diverged"), (grew, GREW_COLOR, "ended above its start"))
    for mask, color, name in overlays:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            fig.add_trace(go.Heatmap(x=lrs, y=momenta, z=np.where(mask, 1.0, np.nan), showscale=False,
                                     colorscale=[[0, color], [1, color]], hoverinfo="skip", name=name))
    fig.add_trace(_legend_square("diverged", DIVERGED_COLOR))
    fig.add_trace(_legend_square("ended above its start", GREW_COLOR))
    fig.add_trace(_legend_square("tolerance not reached", UNREACHED_COLOR))
    inside = np.isfinite(boundary_lrs) & (boundary_lrs >= x_edges[0]) & (boundary_lrs <= x_edges[-1])
    # A white dash over a black line stays visible on grey, dark red and every Viridis colour alike.
    for color, width, dash, legend in (("black", 5, "solid", True), ("white", 2, "dash", False)):
        fig.add_trace(go.Scatter(
            x=np.asarray(boundary_lrs)[inside], y=momenta[inside], mode="lines", name=boundary_label,
            line={"color": color, "width": width, "dash": dash}, showlegend=legend, legendgroup="boundary",
            hovertemplate="boundary: lr %{x:.4g} at β %{y:.3f}<extra></extra>"))
    grid_lr, grid_momentum = np.meshgrid(lrs, momenta)
    status = np.where(diverged, "diverged", np.where(grew, "ended above its start", ""))
    shown = np.where(np.isfinite(values), np.char.mod("%.4g", np.nan_to_num(values)), "not reached")
    text = np.where(status != "", status, shown)
    fig.add_trace(go.Scatter(
        x=grid_lr.ravel(), y=grid_momentum.ravel(), mode="markers", name="cells", showlegend=False,
        marker={"size": 9, "opacity": 0.0, "color": "white", "symbol": "square"}, text=text.ravel(),
        hovertemplate=(f"lr %{{x:.4g}}, β %{{y:.3f}}<br>{value_label}: %{{text}}<br>click to see this run"
                       "<extra></extra>")))
    if optimal is not None and all(np.isfinite(optimal)):
        fig.add_trace(go.Scatter(
            x=[optimal[0]], y=[optimal[1]], mode="markers", name=optimal_label,
            marker={"symbol": "star", "size": 18, "color": "white",
                    "line": {"color": MINIMUM_COLOR, "width": 1.5}},
            hovertemplate=f"{optimal_label}: lr %{{x:.4g}}, β %{{y:.3f}}<extra></extra>"))
    if selected is not None:
        fig.add_trace(go.Scatter(
            x=[selected[0]], y=[selected[1]], mode="markers", name="selected run",
            marker={"symbol": "square-open", "size": 14, "color": "#E41A1C", "line": {"width": 3}},
            hovertemplate="selected: lr %{x:.4g}, β %{y:.3f}<extra></extra>"))
    fig.update_layout(
        height=height, margin={"l": 70, "r": 20, "t": 70, "b": 50}, **_BASE_LAYOUT,
        plot_bgcolor=UNREACHED_COLOR,
        xaxis={"title": {"text": "learning rate (log scale)"}, "type": "log", "exponentformat": "power",
               "range": [math.log10(x_edges[0]), math.log10(x_edges[-1])]},
        yaxis={"title": {"text": "momentum β"}, "range": [y_edges[0], y_edges[-1]]},
        # Streamlit turns click selection off when the drag mode is box or lasso select.
        clickmode="event+select", dragmode="pan",
    )
    return fig


def momentum_slider_figure(
    xs: np.ndarray,
    ys: np.ndarray,
    Z: np.ndarray,
    *,
    gd_path: np.ndarray,
    momenta: np.ndarray,
    heavy_ball: np.ndarray,
    nesterov: np.ndarray,
    active: int,
    minima: np.ndarray | None = None,
    log_scale: bool = False,
    min_value: float | None = None,
    start: tuple[float, float] | None = None,
    height: int = 560,
) -> go.Figure:
    """Contour with the GD path and the heavy-ball and Nesterov paths for one momentum, plus a slider
    over ``momenta`` whose positions are precomputed frames: dragging it redraws the two momentum paths
    in the browser, without a server round trip.

    Parameters
    ----------
    gd_path : (T+1, 2); momenta : (K,); heavy_ball, nesterov : (K, T+1, 2); active : index shown first.

    Notes
    -----
    Each frame replaces only the two momentum paths (``traces=[i, j]``) and asks for ``redraw=True``:
    Plotly.js's trace transition without a redraw wipes the contour layer (plotly.js #4491), while a
    redraw repaints every trace from the figure's data, contour included.
    """
    scale = color_scale_values(Z, log_scale, min_value)
    fig = go.Figure(go.Contour(
        x=xs, y=ys, z=scale.values, colorscale="Viridis", ncontours=30, hoverinfo="skip", name="loss",
        contours={"coloring": "heatmap", "showlines": True},
        line={"width": 0.5, "color": "rgba(255,255,255,0.35)"},
        colorbar={"title": {"text": scale.title, "side": "right"}, "thickness": 14, "len": 0.9,
                  **({"tickvals": scale.tickvals, "ticktext": scale.ticktext} if scale.tickvals else {})},
        showlegend=False))
    if minima is not None and len(minima):
        fig.add_trace(go.Scatter(x=minima[:, 0], y=minima[:, 1], mode="markers", name="global minimum",
                                 marker={"symbol": "star", "size": 16, "color": "white",
                                         "line": {"color": MINIMUM_COLOR, "width": 1.5}}))
    if start is not None:
        fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers", name="start",
                                 marker={"symbol": "circle-open", "size": 14, "color": "white",
                                         "line": {"width": 3}}))
    fig.add_trace(go.Scatter(x=gd_path[:, 0], y=gd_path[:, 1], mode="lines", name="no momentum (GD)",
                             line={"color": PALETTE[0], "width": 2.5}))

    def paths(k: int) -> list[go.Scatter]:
        beta = momenta[k]
        return [
            go.Scatter(x=heavy_ball[k, :, 0], y=heavy_ball[k, :, 1], mode="lines",
                       name=f"heavy ball β={beta:.2f}", line={"color": PALETTE[1], "width": 2.5}),
            go.Scatter(x=nesterov[k, :, 0], y=nesterov[k, :, 1], mode="lines", name=f"Nesterov β={beta:.2f}",
                       line={"color": PALETTE[2], "width": 2.5, "dash": "dot"}),
        ]

    first = len(fig.data)
    for trace in paths(active):
        fig.add_trace(trace)
    names = [f"{beta:.3f}" for beta in momenta]
    fig.frames = [go.Frame(name=names[k], data=paths(k), traces=[first, first + 1])
                  for k in range(len(momenta))]
    move = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    fig.update_layout(
        height=height, margin={"l": 60, "r": 20, "t": 40, "b": 120}, **_BASE_LAYOUT,
        xaxis={"title": {"text": "x"}, "range": [xs[0], xs[-1]], "constrain": "domain"},
        yaxis={"title": {"text": "y"}, "range": [ys[0], ys[-1]]},
        sliders=[{
            "active": int(active), "x": 0.0, "len": 1.0, "y": -0.1, "yanchor": "top", "pad": {"t": 10},
            "currentvalue": {"prefix": "momentum β = ", "font": {"size": 14}},
            "steps": [{"label": f"{beta:.2f}", "method": "animate", "args": [[names[k]], move]}
                      for k, beta in enumerate(momenta)],
        }],
    )
    return fig


def rate_curves_figure(
    series: Sequence[tuple[str, str, np.ndarray]],
    rates: Sequence[float],
    *,
    ylabel: str,
    height: int = 360,
) -> go.Figure:
    """Per-step errors (log y) with each method's theoretical rate drawn as a dashed line
    ``values[0] * rate**t``: the measured curve runs parallel to it once the transient is over.

    Parameters
    ----------
    series : (label, color, values (T+1,)); rates : one spectral radius per series (NaN: no line).
    """
    fig = go.Figure()
    for (label, color, values), rate in zip(series, rates, strict=True):
        y = np.asarray(values, dtype=float)
        y = np.where(y > 0, y, np.nan)
        steps = np.arange(y.size)
        fig.add_trace(go.Scatter(x=steps, y=y, mode="lines", name=label, line={"color": color, "width": 2.5}))
        if np.isfinite(rate) and rate > 0 and np.isfinite(y[0]):
            with np.errstate(over="ignore", under="ignore"):
                theory = y[0] * float(rate) ** steps.astype(float)
            drawn = np.isfinite(y).any()
            floor, ceiling = (np.nanmin(y) / 10, np.nanmax(y) * 100) if drawn else (0.0, np.inf)
            theory = np.where((theory >= floor) & (theory <= ceiling), theory, np.nan)
            fig.add_trace(go.Scatter(x=steps, y=theory, mode="lines", name=f"theory ρ = {rate:.4g}",
                                     line={"color": color, "width": 1.5, "dash": "dash"}, hoverinfo="skip"))
    fig.update_layout(
        height=height, margin={"l": 70, "r": 20, "t": 60, "b": 50}, **_BASE_LAYOUT,
        xaxis={"title": {"text": "step"}},
        yaxis={"title": {"text": ylabel}, "type": "log", "exponentformat": "power"},
    )
    return fig
