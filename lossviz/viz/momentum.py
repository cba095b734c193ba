"""The Momentum page's figures: the ravine race with its momentum scrubber, the distances against the
theoretical rates, the (lr, momentum) phase map, and the run of the cell clicked on it.

Results of :mod:`lossviz.lessons.momentum` in, figure specs out (plain dicts, drawn by live charts);
plotly is never imported here. A phase map's rows follow momentum, its columns the learning rate.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lossviz.lessons.momentum import (
    METHOD_TITLES, MomentumComparison, MomentumFrames, PhaseMap, valley_reversals,
)
from lossviz.run import Trajectory
from lossviz.viz.landscape import (
    MINIMUM_COLOR, PALETTE, Path, annotation_index, contour_spec, play_below_axis_title, scrubber,
    small_multiples_spec,
)

__all__ = ["ravine", "rates", "rate_curves", "phase_map", "cell_label", "cell_map", "log_edges",
           "CONTROLS_GAP", "VISIBLE"]

DIVERGED_COLOR = "#8B0000"
GREW_COLOR = "#E69F00"
UNREACHED_COLOR = "#D9D9D9"
# Pixels between a map's plot area and its Play button and step slider: room for the tick labels and the
# x-axis title above them.
CONTROLS_GAP = 80
# A step across the valley shorter than this fraction of the view's width is not counted as a turn.
VISIBLE = 0.005
_LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}


def _paths(comparison: MomentumComparison) -> list[Path]:
    names = ("no momentum (GD)", "heavy ball", "Nesterov")
    return [Path(name, PALETTE[i], t.params, t.loss, int(t.diverged_at))
            for i, (name, t) in enumerate(zip(names, comparison.trajectories, strict=True))]


def _ending(path: Path, comparison: MomentumComparison, visible: float) -> str:
    if path.diverged_at >= 0:
        return f"diverged at step {path.diverged_at}<br> "
    turns = valley_reversals(path.xy, comparison.curvature, visible)
    distance = float(np.linalg.norm(path.xy[-1] - comparison.curvature.point))
    return f"{turns} turns across the valley<br>ends {distance:.2g} from the minimum"


def ravine(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, comparison: MomentumComparison,
           frames: MomentumFrames, *, panel_height: int = 330, **kwargs) -> dict:
    """Gradient descent, heavy ball and Nesterov each on its own map
    (:func:`lossviz.viz.landscape.small_multiples_spec`, which takes ``kwargs``), with a momentum scrubber.

    Each title counts the path's turns across the valley (:func:`lossviz.lessons.momentum.valley_reversals`,
    steps shorter than :data:`VISIBLE` of the view not counted) and its final distance to the minimum. The
    scrubber's positions are ``frames.momenta``; each one restyles the heavy-ball and Nesterov paths in the
    browser (GD has no momentum); the position of ``comparison.momentum`` is the exact run.
    """
    paths = _paths(comparison)
    visible = VISIBLE * float(xs[-1] - xs[0])
    titles = [f"{path.label}" + (f" (β = {comparison.momentum:g})" if i else "")
              + f"<br>{_ending(path, comparison, visible)}" for i, path in enumerate(paths)]
    spec = small_multiples_spec(xs, ys, Z, paths, titles, columns=3, panel_height=panel_height, **kwargs)
    data = spec["data"]
    lines = [next(i for i, t in enumerate(data) if t.get("name") == name and t.get("mode") == "lines+markers")
             for name in ("heavy ball", "Nesterov")]
    ends = ("diverged at", "left the view")
    # The end marks of the two scrubbed panels (not GD's, on axis "x").
    marks = [i for i, t in enumerate(data) if t.get("mode") == "markers"
             and str(t.get("name", "")).startswith(ends) and t.get("xaxis") != "x"]
    active = int(np.argmin(np.abs(frames.momenta - comparison.momentum)))
    both = (frames.heavy_ball, frames.nesterov)
    positions = [[{"x": p[k, :, 0], "y": p[k, :, 1]} for p in both] for k in range(frames.momenta.size)]
    values = [f"β = {beta:.3g}" for beta in frames.momenta]
    # The two scrubbed panels' titles count each position's own path (the exact run's title at its own).
    texts = {}
    losses_of = (frames.heavy_ball_loss, frames.nesterov_loss)
    for i, (path, points, losses) in enumerate(zip(paths[1:], both, losses_of, strict=True), start=1):
        texts[annotation_index(spec, titles[i])] = [titles[i] if k == active else (
            f"{path.label} (β = {beta:.3g})<br>"
            + _ending(Path(path.label, path.color, points[k], losses[k], _diverged_at(points[k])), comparison,
                      visible)) for k, beta in enumerate(frames.momenta)]
    return spec | {"lossviz_scrub": scrubber("momentum β", values, active, lines, positions, marks,
                                             texts=texts)}


def _diverged_at(points: np.ndarray) -> int:
    """The step a precomputed path diverged at (lossviz.run keeps that step's point, NaN after it), or -1."""
    lost = np.flatnonzero(np.isnan(points).any(axis=1))
    return int(lost[0]) - 1 if lost.size else -1


def rates(comparison: MomentumComparison) -> dict:
    """Each method's distance to the minimum by step, with its theoretical rate (:func:`rate_curves`)."""
    pairs = zip(comparison.labels, comparison.distances(), strict=True)
    series = [(label, PALETTE[i], distance) for i, (label, distance) in enumerate(pairs)]
    return rate_curves(series, comparison.theory_rates, ylabel="distance to the minimum")


def rate_curves(series: Sequence[tuple[str, str, np.ndarray]], rates: Sequence[float], *, ylabel: str,
                height: int = 360) -> dict:
    """Per-step errors (log y), each with its method's theoretical rate as a dashed line
    ``values[0] * rate**t``: the measured curve runs parallel to it once the transient is over.

    ``series`` holds (label, colour, values (T+1,)); ``rates`` one spectral radius per series (NaN: none).
    """
    data = []
    for (label, color, values), rate in zip(series, rates, strict=True):
        y = np.asarray(values, dtype=float)
        y = np.where(y > 0, y, np.nan)
        steps = np.arange(y.size)
        data.append({"type": "scatter", "x": steps, "y": y, "mode": "lines", "name": label,
                     "line": {"color": color, "width": 2.5}})
        if np.isfinite(rate) and rate > 0 and np.isfinite(y[0]):
            with np.errstate(over="ignore", under="ignore"):
                theory = y[0] * float(rate) ** steps.astype(float)
            floor, ceiling = (np.nanmin(y) / 10, np.nanmax(y) * 100)
            theory = np.where((theory >= floor) & (theory <= ceiling), theory, np.nan)
            data.append({"type": "scatter", "x": steps, "y": theory, "mode": "lines",
                         "name": f"theory ρ = {rate:.4g}", "hoverinfo": "skip",
                         "line": {"color": color, "width": 1.5, "dash": "dash"}})
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 70, "r": 20, "t": 60, "b": 50}, "template": "none",
        "legend": _LEGEND,
        "xaxis": {"title": {"text": "step"}},
        "yaxis": {"title": {"text": ylabel}, "type": "log", "exponentformat": "power"}}}


def log_edges(centers: np.ndarray) -> np.ndarray:
    """Cell edges (n+1,) for log-spaced centres (n,): geometric midpoints, ends extended by half a step.

    >>> log_edges(np.array([1.0, 10.0, 100.0])).round(6).tolist()
    [0.316228, 3.162278, 31.622777, 316.227766]
    """
    logs = np.log(np.asarray(centers, dtype=float))
    step = np.diff(logs)
    middle = 0.5 * (logs[1:] + logs[:-1])
    return np.exp(np.concatenate([[logs[0] - step[0] / 2], middle, [logs[-1] + step[-1] / 2]]))


def _legend_square(name: str, color: str) -> dict:
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": name,
            "marker": {"symbol": "square", "size": 12, "color": color}}


def phase_map(result: PhaseMap, values: np.ndarray, *, value_label: str, log_color: bool,
              selected: tuple[float, float], view_key: str, height: int = 560) -> dict:
    """Heat map of ``values`` (n_m, n_lr) over (lr, momentum), NaN = not reached (light grey), with the
    diverged and grown cells painted over, the theory's stability boundary, its optimum and the selected cell.

    A click anywhere on the map (a clickable live chart) picks the nearest cell; hovering a cell shows its
    lr, β and value.
    """
    lrs, momenta = result.lrs, result.momenta
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.log10(np.where(values > 0, values, np.nan)) if log_color else values
    finite = colour[np.isfinite(colour)]
    bar = {"title": {"text": value_label, "side": "right"}, "thickness": 14, "len": 0.85}
    if log_color and finite.size:
        low_exp, high_exp = math.floor(finite.min()), math.ceil(finite.max())
        exponents = np.arange(low_exp, high_exp + 1, max(1, math.ceil((high_exp - low_exp) / 8)))
        bar |= {"tickvals": exponents.tolist(),
                "ticktext": [f"1e{e}" if abs(e) > 2 else f"{10.0**e:g}" for e in exponents]}
    status = np.where(result.diverged, "diverged", np.where(result.grew, "ended above its start", ""))
    shown = np.where(np.isfinite(values), np.char.mod("%.4g", np.nan_to_num(values)), "not reached")
    hover = f"lr %{{x:.4g}}, β %{{y:.3f}}<br>{value_label}: %{{text}}<br>click to see this run<extra></extra>"
    # Cell centres, not edges: given n+1 edges on a log axis, plotly.js left half a cell of background.
    data = [{"type": "heatmap", "x": lrs, "y": momenta, "z": colour, "colorscale": "Viridis",
             "reversescale": True, "colorbar": bar, "name": value_label,
             "text": np.where(status != "", status, shown), "hovertemplate": hover}]
    for mask, color, name in ((result.diverged, DIVERGED_COLOR, "diverged"),
                              (result.grew, GREW_COLOR, "ended above its start")):
        if mask.any():
            data.append({"type": "heatmap", "x": lrs, "y": momenta, "z": np.where(mask, 1.0, np.nan),
                         "showscale": False, "colorscale": [[0, color], [1, color]], "hoverinfo": "skip",
                         "name": name})
    data += [_legend_square("diverged", DIVERGED_COLOR), _legend_square("ended above its start", GREW_COLOR),
             _legend_square("tolerance not reached", UNREACHED_COLOR)]
    boundary = result.boundary()
    x_edges = log_edges(lrs)
    dy = (momenta[1] - momenta[0]) / 2 if momenta.size > 1 else 0.01
    inside = np.isfinite(boundary) & (boundary >= x_edges[0]) & (boundary <= x_edges[-1])
    name = f"theory: stability boundary ({METHOD_TITLES[result.method]})"
    # A white dash over a black line stays visible on grey, dark red and every Viridis colour alike.
    for color, width, dash, legend in (("black", 5, "solid", True), ("white", 2, "dash", False)):
        data.append({"type": "scatter", "x": boundary[inside], "y": momenta[inside], "mode": "lines",
                     "name": name, "line": {"color": color, "width": width, "dash": dash},
                     "showlegend": legend, "legendgroup": "boundary",
                     "hovertemplate": "boundary: lr %{x:.4g} at β %{y:.3f}<extra></extra>"})
    optimal = (result.optimal.lr, result.optimal.momentum)
    if all(np.isfinite(optimal)):
        data.append({"type": "scatter", "x": [optimal[0]], "y": [optimal[1]], "mode": "markers",
                     "name": "theoretical optimum",
                     "hovertemplate": "theoretical optimum: lr %{x:.4g}, β %{y:.3f}<extra></extra>",
                     "marker": {"symbol": "star", "size": 18, "color": "white",
                                "line": {"color": MINIMUM_COLOR, "width": 1.5}}})
    data.append({"type": "scatter", "x": [selected[0]], "y": [selected[1]], "mode": "markers",
                 "name": "selected run", "hovertemplate": "selected: lr %{x:.4g}, β %{y:.3f}<extra></extra>",
                 "marker": {"symbol": "square-open", "size": 14, "color": "#E41A1C", "line": {"width": 3}}})
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 70, "r": 20, "t": 70, "b": 50}, "template": "none",
        "legend": _LEGEND, "plot_bgcolor": UNREACHED_COLOR, "uirevision": view_key, "dragmode": "pan",
        "xaxis": {"title": {"text": "learning rate (log scale)"}, "type": "log", "exponentformat": "power",
                  "range": [math.log10(x_edges[0]), math.log10(x_edges[-1])]},
        "yaxis": {"title": {"text": "momentum β"},
                  "range": [float(momenta[0] - dy), float(momenta[-1] + dy)]}}}


def cell_label(result: PhaseMap, row: int, column: int) -> str:
    """``"lr 0.123, β 0.456"``: the settings of cell ``[row, column]``."""
    return "lr {:.4g}, β {:.3f}".format(*result.settings(row, column))


def cell_map(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, result: PhaseMap, row: int, column: int,
             run: Trajectory, *, minima: np.ndarray, min_value: float | None, log_scale: bool,
             start: tuple[float, float], view_key: str, minimum_label: str = "global minimum",
             height: int = 480) -> dict:
    """The run of cell ``[row, column]`` on the contour map, with Play and a step slider placed below the
    x-axis title (:data:`CONTROLS_GAP` pixels under the plot area, whatever the height)."""
    path = Path(cell_label(result, row, column), PALETTE[1], run.params, run.loss, int(run.diverged_at))
    spec = contour_spec(xs, ys, Z, paths=[path], minima=minima, log_scale=log_scale, min_value=min_value,
                        start=start, height=height, view_key=view_key, minimum_label=minimum_label)
    layout = spec["layout"]
    if layout.get("updatemenus"):  # lower than contour_spec hangs them: a narrow map's title wraps
        before = layout["margin"]["b"]
        spec = play_below_axis_title(spec, title_px=CONTROLS_GAP)
        layout["height"] += layout["margin"]["b"] - before  # the plot area keeps its size
    return spec
