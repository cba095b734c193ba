"""Figures of loss functions: per-sample curves beside their gradients, and the worked example's terms.

Tables in (from :mod:`lossviz.lessons.loss_functions`), figure specs out (plain dicts, drawn by live charts);
never streamlit. ``tests/test_loss_functions.py`` runs every spec through plotly's validation.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lossviz.lessons.loss_functions import INFO, Curves
from lossviz.viz.landscape import PALETTE, scrubber

__all__ = ["LOSS_COLORS", "AXIS_TITLES", "curves_spec", "with_delta_scrubber", "example_spec"]

# One colour per loss across every figure of the page (Okabe-Ito, plus black for the 0-1 step).
LOSS_COLORS = {
    "mse": PALETTE[0], "rmse": PALETTE[5], "mae": PALETTE[1], "huber": PALETTE[2], "log_cosh": PALETTE[3],
    "zero_one": "#111111", "hinge": PALETTE[1], "squared_hinge": PALETTE[4], "logistic": PALETTE[0],
    "cross_entropy": PALETTE[2],
}
AXIS_TITLES = {"residual": "residual r = ŷ − y", "margin": "margin m = y·s (y = ±1, s = score)"}
_DASH = {"cross_entropy": "dash", "rmse": "dot"}
DELTA_LINES = "±δ"


def _padded(values: np.ndarray, low: float | None = None) -> list[float]:
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    lo = lo if low is None else min(lo, low)
    pad = 0.05 * max(hi - lo, 1e-9)
    return [lo - pad, hi + pad]


def _delta_lines(delta: float, y_range: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Two vertical segments at -delta and +delta across ``y_range`` (NaN between them: a gap)."""
    lo, hi = y_range
    return np.array([-delta, -delta, np.nan, delta, delta]), np.array([lo, hi, np.nan, lo, hi])


def curves_spec(frame: pd.DataFrame, keys: Sequence[str], *, delta: float | None = None,
                y_ranges: tuple[Sequence[float], Sequence[float]] | None = None, height: int = 380) -> dict:
    """Each loss of one sample (left) and its gradient (right) against the residual or the margin.

    Parameters
    ----------
    frame : DataFrame
        From :func:`lossviz.lessons.loss_functions.regression_curves` or ``margin_curves``: first column the
        axis (``residual`` or ``margin``), then ``<key>`` and ``<key>_gradient`` columns.
    keys : losses to draw (columns of ``frame``); a loss and its gradient share a legend entry.
    delta : Huber's threshold, marked at ±δ in both panels when Huber is drawn.
    y_ranges : fixed (loss, gradient) value ranges, so one steep curve does not flatten the others (it
        leaves the plot); default: every drawn value.
    """
    axis = str(frame.columns[0])
    x = frame[axis].to_numpy()
    data: list[dict] = []
    for key in keys:
        info = INFO[key]
        # The 0-1 loss is a step: drawn as one, not as a steep line between two samples.
        line = {"color": LOSS_COLORS[key], "width": 3 if key != "cross_entropy" else 2.5,
                "dash": _DASH.get(key, "solid"), "shape": "hv" if key == "zero_one" else "linear"}
        panels = ((key, info.title, ("x", "y")), (f"{key}_gradient", f"∂{info.title}", ("x2", "y2")))
        for column, name, axes in panels:
            data.append({
                "type": "scatter", "x": x, "y": frame[column].to_numpy(dtype=float), "mode": "lines",
                "name": name, "line": line, "legendgroup": key, "showlegend": column == key,
                "xaxis": axes[0], "yaxis": axes[1],
                "hovertemplate": f"{name}<br>{axis} %{{x:.3g}}<br>%{{y:.4g}}<extra></extra>",
            })
    if y_ranges is None:
        columns = [frame[k].to_numpy(dtype=float) for k in keys] or [np.zeros(1)]
        gradients = [frame[f"{k}_gradient"].to_numpy(dtype=float) for k in keys] or [np.zeros(1)]
        y_ranges = (_padded(np.concatenate(columns), low=0.0), _padded(np.concatenate(gradients)))
    if delta is not None and "huber" in keys:
        for axes, y_range in zip((("x", "y"), ("x2", "y2")), y_ranges):
            lines_x, lines_y = _delta_lines(delta, y_range)
            data.append({"type": "scatter", "x": lines_x, "y": lines_y, "mode": "lines", "name": DELTA_LINES,
                         "line": {"dash": "dot", "color": LOSS_COLORS["huber"], "width": 1.5},
                         "showlegend": False, "hoverinfo": "skip", "xaxis": axes[0], "yaxis": axes[1]})
    symbol = "m" if axis == "margin" else "ŷ"
    x_axis = {"title": {"text": AXIS_TITLES.get(axis, axis)}, "zeroline": True,
              "range": [float(x[0]), float(x[-1])]}
    layout = {
        "height": height, "template": "none", "margin": {"l": 70, "r": 20, "t": 40, "b": 55},
        "xaxis": {**x_axis, "domain": [0.0, 0.45]}, "xaxis2": {**x_axis, "domain": [0.55, 1.0]},
        "yaxis": {"title": {"text": "loss ℓ of one sample"}, "zeroline": True, "range": list(y_ranges[0]),
                  "anchor": "x"},
        "yaxis2": {"title": {"text": f"gradient ∂ℓ/∂{symbol} (one sample)"}, "zeroline": True,
                   "range": list(y_ranges[1]), "anchor": "x2"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "uirevision": axis,
    }
    if axis == "margin":
        layout["shapes"] = [{"type": "line", "xref": ref, "yref": f"{yref} domain", "x0": 0, "x1": 0, "y0": 0,
                             "y1": 1, "line": {"color": "#999", "width": 1}}
                            for ref, yref in (("x", "y"), ("x2", "y2"))]
    return {"data": data, "layout": layout}


def with_delta_scrubber(spec: dict, curves: Curves) -> dict:
    """``spec`` (the regression curves) with a scrubber over Huber's threshold: every position's loss,
    gradient and ±δ marks come precomputed in ``curves`` and are swapped in the browser."""
    names = [t.get("name") for t in spec["data"]]
    if "Huber" not in names:
        return spec
    lines = [i for i, name in enumerate(names) if name == DELTA_LINES]
    ranges = [spec["layout"]["yaxis"]["range"], spec["layout"]["yaxis2"]["range"]]
    frames = []
    for loss, gradient, delta in zip(curves.huber, curves.huber_gradient, curves.deltas):
        marks = [dict(zip("xy", _delta_lines(float(delta), r))) for r in ranges]
        frames.append([{"y": loss}, {"y": gradient}, *marks])
    values = [f"δ = {delta:g}" for delta in curves.deltas]
    traces = [names.index("Huber"), names.index("∂Huber"), *lines]
    return spec | {"lossviz_scrub": scrubber("Huber δ", values, curves.delta_index, traces, frames)}


def example_spec(per_sample: pd.DataFrame, height: int = 340) -> dict:
    """Each sample's share of each loss (%), as grouped bars: where one large error dominates MSE."""
    columns = {"squared": "mse", "absolute": "mae", "huber": "huber", "log_cosh": "log_cosh"}
    # The samples' numbers under an axis titled "sample": the chart stands in a narrow column, where
    # "sample 1", "sample 2", ... turned on their side ran into the title and out of the chart.
    samples = [str(i + 1) for i in range(len(per_sample))]
    data = []
    for column, key in columns.items():
        values = per_sample[column].to_numpy(dtype=float)
        total = values.sum()
        share = 100.0 * values / total if total > 0 else np.zeros_like(values)
        data.append({
            "type": "bar", "x": samples, "y": share, "name": INFO[key].title,
            "marker": {"color": LOSS_COLORS[key]}, "customdata": values,
            "hovertemplate": f"{INFO[key].title}: %{{y:.1f}}% (term %{{customdata:.4g}})"
                             "<extra>sample %{x}</extra>",
        })
    layout = {
        "barmode": "group", "height": height, "template": "none",
        "margin": {"l": 70, "r": 20, "t": 40, "b": 50},
        "yaxis": {"title": {"text": "share of the loss (%)"}, "range": [0, 100]},
        "xaxis": {"title": {"text": "sample"}, "type": "category", "automargin": True},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    }
    return {"data": data, "layout": layout}
