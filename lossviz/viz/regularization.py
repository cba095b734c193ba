"""Figures of the Regularization page: the penalty meeting the data, the path, Adam + L2 against AdamW.

Lesson results in, figure specs out (plain dicts drawn by live charts; never streamlit). Weight planes are
drawn with equal axes, so a circle of the L2 penalty looks like a circle and the L1 diamond has square
corners. The level sets are drawn as curves (:mod:`lossviz.lessons.regularization` traces them exactly),
so the λ scrubber under the map can move them in the browser. ``names`` (the features) arrive as the
page escaped them for Plotly's labels.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossviz.lessons.regularization import (
    PENALTY_TITLES, DecayComparison, RegularizationPath, RegularizationView,
)
from lossviz.viz.landscape import (
    HALO, MINIMUM_COLOR, PALETTE, Path, contour_spec, curves_spec, equal_axes, play_below_axis_title,
    scrubber, start_ring,
)

__all__ = ["PENALTY_COLORS", "PENALTY_TITLES", "DECAY_COLORS", "geometry", "regularized", "path_chart",
           "decay_map", "decay_distances"]

PENALTY_COLORS = {"l1": "#D55E00", "elastic_net": "#CC79A7", "l2": "#56B4E9"}
FEATURE_COLORS = (PALETTE[0], PALETTE[4])
DECAY_COLORS = ("#56B4E9", "#E69F00", "#CC79A7")
# The data-loss level set through the minimizer: light on the dark map and still visible in the legend.
TOUCH_COLOR = "#F0E442"
ORDER = ("l1", "elastic_net", "l2")


def _weight_axes(spec: dict, names: Sequence[str]) -> dict:
    return equal_axes(spec, f"weight of {names[0]}", f"weight of {names[1]}")


def _legend_above(spec: dict) -> dict:
    """Legend in rows over the map: beside it, it squeezes an equal-aspect plot, and under it, it met the
    x-axis title as soon as the type grew (projector mode)."""
    spec["layout"]["legend"] = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                                "font": {"size": 12}}
    spec["layout"]["margin"] = {"l": 60, "r": 20, "t": 20, "b": 50}
    return spec


def _translucent(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _line(points: np.ndarray, name: str, color: str, width: float, legend: bool = True) -> dict:
    return {"type": "scatter", "x": points[:, 0], "y": points[:, 1], "mode": "lines", "name": name,
            "showlegend": legend, "hoverinfo": "skip", "line": {"color": color, "width": width}}


def _marker(point: np.ndarray, name: str, symbol: str, color: str, size: int = 14) -> dict:
    # A white marker gets a dark outline, so it also shows in the legend on a white background.
    outline = MINIMUM_COLOR if color == "white" else "white"
    return {"type": "scatter", "x": np.asarray(point[:1], dtype=float),
            "y": np.asarray(point[1:2], dtype=float), "mode": "markers", "name": name,
            "marker": {"symbol": symbol, "size": size, "color": color,
                       "line": {"color": outline, "width": 1.5}},
            "hovertemplate": f"{name}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>"}


def _map(view: RegularizationView, Z: np.ndarray, colorbar: str, height: int) -> dict:
    spec = contour_spec(view.xs, view.ys, Z, animate=False, height=height)
    spec["data"][0]["colorbar"]["title"]["text"] = colorbar
    return spec


def geometry(view: RegularizationView, *, penalty: str, names: Sequence[str], height: int = 620) -> dict:
    """The data loss (filled contours), the penalty's level sets (faint), the two level sets that touch at
    the regularized minimizer, every penalty's path of minimizers from least squares to 0, and a scrubber
    replaying the minimizer and its touching level sets over λ (``view.frames``).

    At strength 0 nothing touches (the minimizer is least squares): the two level sets are empty there.
    """
    spec = _map(view, view.data_Z, "data loss (MSE)", height)
    color, title = PENALTY_COLORS[penalty], PENALTY_TITLES[penalty]
    frames, k = view.frames, view.active
    data = spec["data"]
    data.append(_line(view.level_sets, f"{title} penalty, level sets", _translucent(color, 0.55), 1.2, False))
    touching = len(data)
    data.append(_line(frames.penalty_curves[k], "penalty level set through it", color, 3.0))
    data.append(_line(frames.data_curves[k], "data-loss level set through it", TOUCH_COLOR, 2.5))
    for path in sorted(view.paths.values(), key=lambda p: ORDER.index(p.penalty)):
        data.append({
            "type": "scatter", "x": path.weights[:, 0], "y": path.weights[:, 1], "mode": "lines",
            "name": f"{PENALTY_TITLES[path.penalty]} path", "customdata": path.strengths,
            "line": {"color": PENALTY_COLORS[path.penalty], "width": 3.5 if path.penalty == penalty else 2,
                     "dash": "dot"},
            "hovertemplate": f"{PENALTY_TITLES[path.penalty]}<br>λ = %{{customdata:.3g}}<br>"
                             "(%{x:.3f}, %{y:.3f})<extra></extra>",
        })
    data.append(_marker(view.ols, "least squares (λ = 0)", "star", "white", 17))
    data.append(_marker(view.minimizer, f"{title} minimizer at this λ", "circle", color, 15))
    positions = [[{"x": frames.penalty_curves[i, :, 0], "y": frames.penalty_curves[i, :, 1]},
                  {"x": frames.data_curves[i, :, 0], "y": frames.data_curves[i, :, 1]},
                  {"x": frames.minimizers[i, :1], "y": frames.minimizers[i, 1:]}]
                 for i in range(len(frames.strengths))]
    values = [f"λ = {s:.10g}" + (" (sidebar)" if i == k else "") + f": w = ({w[0]:.4f}, {w[1]:.4f})"
              for i, (s, w) in enumerate(zip(frames.strengths, frames.minimizers))]
    traces = [touching, touching + 1, len(data) - 1]
    spec["lossviz_scrub"] = scrubber("strength λ", values, k, traces, positions)
    return _legend_above(_weight_axes(spec, names))


def regularized(view: RegularizationView, *, penalty: str, names: Sequence[str], height: int = 540) -> dict:
    """Contours of data loss + penalty, whose lowest point is the regularized minimizer."""
    spec = _map(view, view.total_Z, "data loss + penalty", height)
    spec["data"].append(_marker(view.minimizer, "minimizer of data loss + penalty", "circle",
                                PENALTY_COLORS[penalty], 15))
    return _legend_above(_weight_axes(spec, names))


def path_chart(paths: Sequence[RegularizationPath], *, strength: float, names: Sequence[str],
               height: int = 380) -> dict:
    """Each weight against the strength (log axis), one panel per penalty; a cross where a weight
    becomes exactly zero and a dashed line at the page's current strength."""
    paths = sorted(paths, key=lambda p: ORDER.index(p.penalty))
    gap = 0.04
    width = (1.0 - gap * (len(paths) - 1)) / len(paths)
    data: list[dict] = []
    shapes: list[dict] = []
    layout: dict = {"height": height, "template": "none", "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
                    "legend": {"orientation": "h", "y": 1.12, "yanchor": "bottom", "x": 0}, "annotations": []}
    for col, path in enumerate(paths):
        suffix = "" if col == 0 else str(col + 1)
        x_axis, y_axis = f"x{suffix}", f"y{suffix}"
        left = col * (width + gap)
        layout[f"xaxis{suffix}"] = {"domain": [left, left + width], "anchor": y_axis, "type": "log",
                                    "exponentformat": "power", "title": {"text": "strength λ (log scale)"}}
        layout[f"yaxis{suffix}"] = {"anchor": x_axis, "domain": [0.0, 1.0],
                                    **({"title": {"text": "weight"}} if col == 0 else
                                       {"matches": "y", "showticklabels": False})}
        title = PENALTY_TITLES[path.penalty]
        if path.penalty == "elastic_net":
            title += f" (ρ = {path.l1_ratio:g})"
        layout["annotations"].append({"text": title, "xref": "paper", "yref": "paper", "x": left + width / 2,
                                      "y": 1.0, "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": 16}})
        shown = path.strengths > 0
        for j, name in enumerate(names):
            color = FEATURE_COLORS[j % len(FEATURE_COLORS)]
            label = name
            data.append({"type": "scatter", "x": path.strengths[shown], "y": path.weights[shown, j],
                         "xaxis": x_axis, "yaxis": y_axis, "mode": "lines", "name": f"weight of {label}",
                         "legendgroup": label, "showlegend": col == 0, "line": {"color": color, "width": 3},
                         "hovertemplate": f"{label}<br>λ = %{{x:.3g}}<br>w = %{{y:.4g}}<extra></extra>"})
            knot = float(path.zero_from[j])
            if np.isfinite(knot) and knot > path.strengths[shown][0]:
                data.append({
                    "type": "scatter", "x": [knot], "y": [0.0], "xaxis": x_axis, "yaxis": y_axis,
                    "mode": "markers+text", "showlegend": False, "legendgroup": label,
                    "marker": {"symbol": "x", "size": 12, "color": color,
                               "line": {"width": 1, "color": "white"}},
                    # Short labels on alternate sides, so the two of one panel never overlap.
                    "text": [f"0 from {knot:.3g}"], "textposition": "bottom right" if j == 0 else "top left",
                    # A white halo: the dashed λ line (drawn below the traces) does not cross the words.
                    "textfont": {"color": color, "size": 12, "shadow": HALO}, "cliponaxis": False,
                    "hovertemplate": f"{label} is exactly 0 for λ ≥ {knot:.4g}<extra></extra>",
                })
        if strength > 0:
            shapes.append({"type": "line", "xref": x_axis, "x0": strength, "x1": strength,
                           "yref": f"{y_axis} domain", "y0": 0, "y1": 1, "layer": "below",
                           "line": {"dash": "dash", "color": "#555"}})
        shapes.append({"type": "line", "xref": f"{x_axis} domain", "x0": 0, "x1": 1, "yref": y_axis, "y0": 0,
                       "y1": 0, "line": {"color": "#999", "width": 1}})
    layout["shapes"] = shapes
    return {"data": data, "layout": layout}


def decay_map(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, comparison: DecayComparison, *,
              weight_decay: float, names: Sequence[str], height: int = 660) -> dict:
    """The three runs on the data loss (Play replays them), with where theory says each must end: the
    ridge minimizer (SGD and Adam + L2) and the least-squares point inside the box |w_j| <= 1/λ (AdamW
    as lr -> 0)."""
    paths = [Path(label, color, t.params, t.loss, int(t.diverged_at))
             for label, color, t in zip(comparison.labels, DECAY_COLORS, comparison.trajectories)]
    start = tuple(float(v) for v in comparison.trajectories[0].params[0])
    spec = contour_spec(xs, ys, Z, paths=paths, start=start, height=height)
    spec["data"][0]["colorbar"]["title"]["text"] = "data loss (MSE)"
    if weight_decay > 0:
        b = 1.0 / weight_decay
        spec["data"].append({"type": "scatter", "x": [-b, b, b, -b, -b], "y": [-b, -b, b, b, -b],
                             "mode": "lines", "name": f"box |w_j| ≤ 1/λ = {b:.3g}", "hoverinfo": "skip",
                             "line": {"color": DECAY_COLORS[2], "width": 2, "dash": "dash"}})
    spec["data"] += [
        _marker(comparison.unregularized_minimizer, "least squares (no decay)", "star", "white", 16),
        _marker(comparison.ridge_minimizer, "ridge minimizer: SGD and Adam + L2 end here", "diamond",
                DECAY_COLORS[1], 15),
        _marker(comparison.box_minimizer, "AdamW's limit as lr → 0", "square", DECAY_COLORS[2], 14),
    ]
    return play_below_axis_title(start_ring(_weight_axes(spec, names)))


def decay_distances(comparison: DecayComparison, height: int = 600) -> dict:
    """Each run's distance to the ridge minimizer against the step (log axis)."""
    series = list(zip(comparison.labels, DECAY_COLORS, comparison.distances("ridge")))
    return curves_spec(series, ylabel="distance to the ridge minimizer", height=height)
