"""Plotly figures of loss functions: per-sample curves, their gradients, and the worked example's terms.

Tables in, figures out (from :mod:`lossviz.lessons.loss_functions`); plotly only, never streamlit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lossviz.lessons.loss_functions import INFO
from lossviz.viz.landscape import PALETTE

__all__ = ["LOSS_COLORS", "curves_figure", "example_figure"]

# One colour per loss across every figure of the page (Okabe-Ito, plus black for the 0-1 step).
LOSS_COLORS = {
    "mse": PALETTE[0], "rmse": PALETTE[5], "mae": PALETTE[1], "huber": PALETTE[2], "log_cosh": PALETTE[3],
    "zero_one": "#111111", "hinge": PALETTE[1], "squared_hinge": PALETTE[4], "logistic": PALETTE[0],
    "cross_entropy": PALETTE[2],
}
AXIS_TITLES = {"residual": "residual r = ŷ − y", "margin": "margin m = y·s (y = ±1, s = score)"}
_DASH = {"cross_entropy": "dash", "rmse": "dot"}


def curves_figure(
    frame: pd.DataFrame,
    keys: Sequence[str],
    *,
    gradient: bool = False,
    delta: float | None = None,
    y_range: tuple[float, float] | None = None,
    height: int = 360,
) -> go.Figure:
    """Loss (or gradient) of one sample against the residual or the margin, one line per loss.

    Parameters
    ----------
    frame : DataFrame
        From :func:`lossviz.lessons.loss_functions.regression_curves` or ``margin_curves``: first column the
        axis (``residual`` or ``margin``), then ``<key>`` and ``<key>_gradient`` columns.
    keys : losses to draw (columns of ``frame``)
    gradient : draw ``<key>_gradient`` instead of ``<key>``.
    delta : mark Huber's kinks at ±δ (when Huber is drawn).
    y_range : fixed value range, so one steep curve does not flatten the others (it leaves the plot).
    """
    axis = str(frame.columns[0])
    x = frame[axis].to_numpy()
    fig = go.Figure()
    for key in keys:
        column = f"{key}_gradient" if gradient else key
        info = INFO[key]
        name = f"∂{info.title}" if gradient else info.title
        # The 0-1 loss is a step: drawn as one, not as a steep line between two samples.
        shape = "hv" if key == "zero_one" else "linear"
        fig.add_trace(go.Scatter(
            x=x, y=frame[column].to_numpy(), mode="lines", name=name, line_shape=shape,
            line={"color": LOSS_COLORS[key], "width": 3 if key != "cross_entropy" else 2.5,
                  "dash": _DASH.get(key, "solid")},
            hovertemplate=f"{name}<br>{axis} %{{x:.3g}}<br>%{{y:.4g}}<extra></extra>",
        ))
    if delta is not None and "huber" in keys:
        for side in (-delta, delta):
            fig.add_vline(x=side, line={"dash": "dot", "color": LOSS_COLORS["huber"], "width": 1.5})
        fig.add_annotation(x=delta, y=1.0, yref="paper", text=f"±δ = ±{delta:g}", showarrow=False,
                           xanchor="left", font={"color": LOSS_COLORS["huber"]})
    if axis == "margin":
        fig.add_vline(x=0.0, line={"color": "#999", "width": 1})
    symbol = "m" if axis == "margin" else "ŷ"
    ylabel = f"gradient ∂ℓ/∂{symbol} (one sample)" if gradient else "loss ℓ of one sample"
    fig.update_layout(
        height=height, template="none", margin={"l": 70, "r": 20, "t": 40, "b": 55},
        xaxis={"title": {"text": AXIS_TITLES.get(axis, axis)}, "zeroline": True, "range": [x[0], x[-1]]},
        yaxis={"title": {"text": ylabel}, "zeroline": True, **({"range": list(y_range)} if y_range else {})},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig


def example_figure(per_sample: pd.DataFrame, height: int = 340) -> go.Figure:
    """Each sample's share of each loss (%), as grouped bars: where one large error dominates MSE."""
    columns = {"squared": "mse", "absolute": "mae", "huber": "huber", "log_cosh": "log_cosh"}
    samples = [f"sample {i + 1}" for i in range(len(per_sample))]
    fig = go.Figure()
    for column, key in columns.items():
        values = per_sample[column].to_numpy(dtype=float)
        total = values.sum()
        share = 100.0 * values / total if total > 0 else np.zeros_like(values)
        fig.add_trace(go.Bar(
            x=samples, y=share, name=INFO[key].title, marker_color=LOSS_COLORS[key],
            customdata=values, hovertemplate=f"{INFO[key].title}: %{{y:.1f}}% (term %{{customdata:.4g}})"
                                             "<extra>%{x}</extra>",
        ))
    fig.update_layout(
        barmode="group", height=height, template="none", margin={"l": 70, "r": 20, "t": 40, "b": 50},
        yaxis={"title": {"text": "share of the loss (%)"}, "range": [0, 100]},
        xaxis={"title": {"text": "sample"}},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return fig
