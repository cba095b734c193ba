"""Figures of a model on data: its exact two-parameter landscape, the data with the fit, the loss curves.

The landscape is :func:`lossviz.viz.landscape.contour_spec` with the parameter names on the axes, a disc
at the chosen step of every path, hover targets on the paths (a click near one picks its step, see
:func:`lossviz.lessons.models_on_data.nearest_step`), a scrubber over the learning rate and, with
outliers, where the MSE, MAE and Huber minima sit with and without them. The data view draws what the
parameters at that step mean: a line, a sigmoid, a decision boundary, or predictions against targets.

Column and class names come from the user's file: every label made from them goes through ``label``
(default :func:`escaped`; a page passes :func:`lossviz.ui.text.plotly_label`, which also shortens), so
Plotly shows them as typed instead of obeying its HTML subset. Plotly only, never streamlit.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from lossviz.lessons.models_on_data import Exploration, fit_at
from lossviz.viz.landscape import (PALETTE, Path, contour_spec, curves_spec, scrubber, surface_spec,
                                   translucent)

__all__ = ["STEP_TARGET", "STEP_DISCS", "paths", "landscape_spec", "with_lr_scrubber", "surface3d",
           "data_figure", "loss_curves", "CLASS_COLORS", "MAX_SCRUB_POINTS"]

STEP_TARGET = "pick step"  # name prefix of the invisible hover targets on each path
STEP_DISCS = "chosen step"
CLASS_COLORS = ("#56B4E9", "#E69F00")
ROBUST_SYMBOLS = {"Mean squared error (MSE)": "circle", "Mean absolute error (MAE)": "square",
                  "Huber": "diamond"}
MAX_POINTS_SHOWN = 3000
# A scrubbed path (another learning rate than the run's own) is sent with at most this many points.
MAX_SCRUB_POINTS = 400
REFERENCE_COLORS = ("#000000", "#7F7F7F", "#8E44AD")  # MSE, MAE, Huber fits when outliers were added
Label = Callable[[object], str]
# Tags can no longer start; quotation marks stay (Plotly would show &quot; as it is).
escaped: Label = partial(html.escape, quote=False)


def paths(ex: Exploration) -> list[Path]:
    """Each run's path in a palette colour, its verdict as the note a divergence mark shows."""
    return [Path(r.label, PALETTE[i % len(PALETTE)], r.trajectory.params, r.trajectory.loss,
                 int(r.trajectory.diverged_at), r.verdict) for i, r in enumerate(ex.runs)]


def _log_scale(ex: Exploration) -> bool:
    """Colour by log(loss) only where a regression loss spans decades; classification losses are bounded
    or grow linearly, and their plateaus, not their decades, are the lesson."""
    finite = ex.Z[np.isfinite(ex.Z)]
    if ex.landscape.dataset.task != "regression" or not finite.size:
        return False
    return bool(finite.min() > 0 and finite.max() / finite.min() > 1000)


def landscape_spec(ex: Exploration, paths: Sequence[Path], step: int, start: tuple[float, float], *,
                   view_key: str = "", label: Label = escaped, height: int = 560) -> dict:
    """Contour of the exact landscape, the paths, a disc at ``step`` on each, the minimum and the robust
    minima; ``view_key`` names the data and loss (a zoom is kept while it stays the same)."""
    land = ex.landscape
    spec = contour_spec(ex.xs, ex.ys, ex.Z, paths=paths, log_scale=_log_scale(ex), start=start, animate=False,
                        height=height, view_key=view_key)
    data, layout = spec["data"], spec["layout"]
    name = "lowest point in view" if ex.best_on_edge else f"minimum of {land.choice.title}"
    data.append({
        "type": "scatter", "x": [float(ex.best[0])], "y": [float(ex.best[1])], "mode": "markers",
        "name": name,
        "marker": {"symbol": "star", "size": 17, "color": "white", "line": {"color": "#111", "width": 1.5}},
        "cliponaxis": False,  # on the map's edge when the minimum lies beyond it
        "hovertemplate": f"{name}<br>(%{{x:.4g}}, %{{y:.4g}}), loss {ex.best_value:.4g}<extra></extra>",
    })
    for _, row in (ex.robust.iterrows() if ex.robust is not None else ()):
        symbol = ROBUST_SYMBOLS.get(row["loss"], "circle")
        short = row["loss"].split("(")[-1].rstrip(")") if "(" in row["loss"] else row["loss"]
        after, before = row["with outliers"], row["without outliers"]
        # Filled first: the legend draws the first marker, and an open white one would be invisible.
        data.append({
            "type": "scatter", "x": [after[0], before[0]], "y": [after[1], before[1]],
            "mode": "lines+markers", "name": f"{short} minimum",
            "line": {"color": "white", "width": 1.5, "dash": "dot"},
            "marker": {"symbol": [symbol, f"{symbol}-open"], "size": 12, "color": "white",
                       "line": {"color": "#111", "width": 1.5}},
            "customdata": ["with outliers", "without outliers"],
            "hovertemplate": f"{short} minimum %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>",
        })
    labels = {path.label for path in paths}
    for trace in data:  # the path lines would win the hover over the step targets on them
        if trace.get("name") in labels and trace.get("mode") == "lines":
            trace.update(hoverinfo="skip", hovertemplate=None)
    for path in paths:
        data.append({
            "type": "scatter", "x": path.xy[:, 0], "y": path.xy[:, 1], "customdata": np.arange(len(path.xy)),
            "mode": "markers", "name": f"{STEP_TARGET}: {path.label}", "showlegend": False,
            # Invisible targets by a transparent fill, not opacity 0 (a compositor layer per point).
            "marker": {"size": 12, "color": "rgba(0, 0, 0, 0)"}, "hoverlabel": {"bgcolor": path.color},
            "hovertemplate": f"{path.label}<br>step %{{customdata}}: (%{{x:.4g}}, %{{y:.4g}})<br>"
                             "click to show this fit<extra></extra>",
        })
    heads = [path.xy[min(step, path.last_finite)] for path in paths]
    data.append({
        "type": "scatter", "x": [float(h[0]) for h in heads], "y": [float(h[1]) for h in heads],
        "mode": "markers", "name": STEP_DISCS, "showlegend": False, "hoverinfo": "skip",
        "marker": {"size": 16, "color": [p.color for p in paths], "line": {"color": "white", "width": 2}},
    })
    layout.update(shapes=[], clickmode="event", legend={**layout["legend"], "font": {"size": 12}})
    layout["xaxis"]["title"] = {"text": label(land.axis_titles[0])}
    layout["yaxis"].update(title={"text": label(land.axis_titles[1])}, scaleanchor="x", scaleratio=1)
    return spec


def _thinned(path: np.ndarray, limit: int = MAX_SCRUB_POINTS) -> dict:
    """A path's points for the browser: every k-th one (and the last) when it has more than ``limit``."""
    if len(path) > limit:
        path = path[np.unique(np.append(np.arange(0, len(path), -(-len(path) // limit)), len(path) - 1))]
    return {"x": path[:, 0], "y": path[:, 1]}


def with_lr_scrubber(spec: dict, ex: Exploration, paths: Sequence[Path]) -> dict:
    """``spec`` (the landscape) with a scrubber over each run's learning rate times each multiplier.

    The paths of every multiple come precomputed in ``ex.frames``; the marks that belong to the exact rate
    (the chosen step, divergence and exit marks, the hover targets) are hidden away from it.
    """
    factors = ex.multipliers
    if not factors or not paths or 1.0 not in factors:
        return spec
    labels = [p.label for p in paths]
    data = spec["data"]
    lines = [i for i, t in enumerate(data) if t.get("mode") == "lines" and t.get("name") in labels]
    hide = [i for i, t in enumerate(data)
            if (t.get("mode") == "markers+text" and t.get("legendgroup") in labels)
            or t.get("name") == STEP_DISCS or str(t.get("name", "")).startswith(STEP_TARGET)]
    active = factors.index(1.0)
    frames = [[_thinned(ex.frames[r, m]) if m != active else {"x": p.xy[:, 0], "y": p.xy[:, 1]}
               for r, p in enumerate(paths)] for m in range(len(factors))]
    rates = [float(r.optimizer.hyperparameters["lr"]) for r in ex.runs]
    if len(rates) == 1:
        values = [f"lr = {rates[0] * m:.4g} (× {m:g})" for m in factors]
    else:
        values = [f"× {m:g}: lr " + ", ".join(f"{rate * m:.4g}" for rate in rates) for m in factors]
    return spec | {"lossviz_scrub": scrubber("learning rate", values, active, lines, frames, hide)}


def surface3d(ex: Exploration, paths: Sequence[Path], view_key: str = "", height: int = 560) -> dict:
    """The same landscape in 3-D, with the parameter names on the axes."""
    land = ex.landscape
    spec = surface_spec(ex.xs, ex.ys, ex.Z, paths=paths, log_scale=_log_scale(ex), height=height,
                        view_key=view_key or "surface")
    spec["layout"]["scene"]["xaxis"]["title"] = {"text": land.param_names[0]}
    spec["layout"]["scene"]["yaxis"]["title"] = {"text": land.param_names[1]}
    return spec


def loss_curves(ex: Exploration, paths: Sequence[Path]) -> dict:
    """Every run's loss against the step, with the landscape's lowest value as a dotted line."""
    where = "lowest point in view" if ex.best_on_edge else "minimum"
    return curves_spec([(p.label, p.color, p.z) for p in paths], log_y=False,
                       ylabel=ex.landscape.choice.title, hlines=[(ex.best_value, where)])


def _shown_rows(n: int, limit: int = MAX_POINTS_SHOWN) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def data_figure(ex: Exploration, paths: Sequence[Path], step: int, *, label: Label = escaped,
                height: int = 560) -> dict:
    """The data in original units with the model of every path at ``step`` drawn over it, as a spec of
    plain dicts like every other figure here (projector mode restyles specs), not checked property by
    property by plotly (about 10 ms a rerun; ``tests/test_models_on_data.py`` runs it through the checks).

    Each path's fit is solid in its colour; the fit at the landscape's lowest point is dashed black; with
    outliers, the MSE, MAE and Huber minima are dotted and the moved points marked. At most
    :data:`MAX_POINTS_SHOWN` points are drawn (a seeded sample of a large upload). Column and class
    names are shown through ``label``.
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
    traces: list[dict] = []
    shapes: list[dict] = []
    annotations: list[dict] = []
    names = [label(n) for n in data.feature_names]
    target = label(data.target_name)
    if land.kind in ("line", "plane"):
        moved = np.isin(rows, outlier_rows if outlier_rows is not None else [])
        x_points = X[:, 0] if land.kind == "line" else y
        if land.kind == "line":
            traces.append({"type": "scatter", "x": x_points[~moved], "y": y[~moved], "mode": "markers",
                           "name": "data", "marker": {"color": translucent("#8A8A8A", 0.75), "size": 7}})
            if moved.any():
                traces.append({"type": "scatter", "x": x_points[moved], "y": y[moved], "mode": "markers",
                               "name": "moved outliers",
                               "marker": {"color": "#D00000", "size": 11, "symbol": "x"}})
        xlabel, ylabel = ((names[0], target) if land.kind == "line"
                          else (f"actual {target}", f"predicted {target}"))
    else:
        for value in (0, 1):
            mask = data.y[rows] == value
            if land.kind == "sigmoid":
                jitter = 0.04 * np.sin(np.arange(mask.sum()) * 2.39996)  # deterministic, no overlap
                coordinates = (X[mask, 0], value + jitter)
            else:
                coordinates = (X[mask, 0], X[mask, 1])
            traces.append({
                "type": "scatter", "x": coordinates[0], "y": coordinates[1], "mode": "markers",
                "name": f"class: {label(data.class_names[value])}",
                "marker": {"color": translucent(CLASS_COLORS[value], 0.8), "size": 7,
                           "line": {"color": "rgba(255, 255, 255, 0.8)", "width": 0.5}},
            })
        xlabel = names[0]
        ylabel = f"P({label(data.class_names[1])}) = σ(score)" if land.kind == "sigmoid" else names[1]
    drawn = [(name, color, fit, "solid", 3) for name, color, fit in fits]
    drawn += [(name, color, fit, "dot", 2) for name, color, fit in reference]
    drawn.append(("lowest point of the landscape", "#111111", best, "dash", 2))
    if land.kind == "plane":
        low, high = float(np.min(y)), float(np.max(y))
        traces.append({"type": "scatter", "x": [low, high], "y": [low, high], "mode": "lines",
                       "name": "perfect prediction", "line": {"color": "#888", "dash": "dash", "width": 1.5}})
    for name, color, fit, dash, width in drawn:
        if land.kind == "plane":
            traces.append({"type": "scatter", "x": fit.x[rows], "y": fit.y[rows], "mode": "markers",
                           "name": name, "marker": {"color": translucent(color, 0.7), "size": 6}})
            continue
        traces.append({"type": "scatter", "x": fit.x, "y": fit.y, "mode": "lines", "name": name,
                       "line": {"color": color, "dash": dash, "width": width}})
        if fit.side is not None:
            annotations.append({"x": fit.side[1, 0], "y": fit.side[1, 1], "ax": fit.side[0, 0],
                                "ay": fit.side[0, 1], "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
                                "showarrow": True, "arrowhead": 2, "arrowwidth": 2, "arrowcolor": color,
                                "text": ""})
        if fit.threshold is not None and X[:, 0].min() <= fit.threshold <= X[:, 0].max():
            shapes.append({"type": "line", "x0": fit.threshold, "x1": fit.threshold, "xref": "x",
                           "y0": 0, "y1": 1, "yref": "y domain",
                           "line": {"color": color, "dash": "dot", "width": 1.5}})
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
    if shapes:
        layout["shapes"] = shapes
    if annotations:
        layout["annotations"] = annotations
    return {"data": traces, "layout": layout}
