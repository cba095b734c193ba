"""The Learning rate page's figures: the race as small multiples, the sweep and the range test with their
theory lines, the schedules beside the paths they produce; the race and the schedules with a scrubber.

Arrays in, figure specs out (plain dicts, drawn by live charts; see :func:`lossviz.viz.landscape._spec`):
plotly's property checks cost more than the data on every rerun, and ``tests/test_learning_rate.py``
runs every spec through them instead. Grids follow ``Z.shape == (len(ys), len(xs))``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossviz.analysis import Curvature, LRRangeTest
from lossviz.lessons.learning_rate import LearningRateComparison, LearningRateSweep, ScheduleComparison
from lossviz.viz.landscape import (
    PALETTE, Path, annotation_index, color_scale_values, curves_spec, panel_axes, panel_map, panel_title,
    scrubber, small_multiples_spec,
)

__all__ = ["VLine", "THEORY_COLOR", "theory_lines", "race", "race_curves", "sweep", "schedules", "range_test",
           "sweep_figure", "range_test_figure", "race_grid", "with_race_scrubber", "schedule_grid",
           "with_schedule_scrubber"]

THEORY_COLOR = "#111111"
DIVERGED_COLOR = "#8B0000"
_BASE_LAYOUT = {"template": "none", "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}


@dataclass(frozen=True)
class VLine:
    """A vertical theory line at ``x`` (data units), labelled in the legend."""

    x: float
    label: str
    color: str = THEORY_COLOR
    dash: str = "dash"


def _vlines(lines: Sequence[VLine], y_low: float, y_high: float) -> list[dict]:
    # Traces, not layout shapes: each line gets a legend entry, in data units on log axes as well.
    return [{"type": "scatter", "x": [line.x, line.x], "y": [y_low, y_high], "mode": "lines",
             "name": line.label, "line": {"color": line.color, "dash": line.dash, "width": 2},
             "hovertemplate": f"{line.label}<extra></extra>"} for line in lines if np.isfinite(line.x)]


def _positive_span(*arrays: object) -> tuple[float, float]:
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    return (float(values.min()), float(values.max())) if values.size else (1e-12, 1.0)


def sweep_figure(lrs: np.ndarray, final_gap: np.ndarray, diverged: np.ndarray, *,
                 predicted_gap: np.ndarray | None = None, start_gap: float | None = None,
                 lines: Sequence[VLine] = (), steps: int | None = None, log_x: bool = False,
                 height: int = 430) -> dict:
    """Final loss (above the minimum, log scale) against the learning rate, with theory on top.

    Parameters
    ----------
    lrs : (R,) ascending; final_gap : (R,) loss above the minimum after the run (NaN where diverged);
    diverged : (R,) bool, drawn as crosses along the top edge.
    predicted_gap : (R,) the closed form, a dotted curve; start_gap : the start's loss above the minimum,
        a dotted horizontal line (runs ending above it lost); lines : vertical theory lines.
    log_x : a log lr axis (every decade alike) instead of a linear one (which shows the edge sharpest).
    """
    lrs = np.asarray(lrs, dtype=float)
    gap = np.where(np.asarray(final_gap, dtype=float) > 0, final_gap, np.nan)
    low, high = _positive_span(gap, [start_gap or np.nan])
    top = high * 30.0
    data = [{"type": "scatter", "x": lrs, "y": gap, "mode": "lines+markers",
             "name": "measured final loss − minimum", "line": {"color": PALETTE[0], "width": 2},
             "marker": {"size": 4},
             "hovertemplate": "lr %{x:.4g}<br>final loss − min %{y:.3g}<extra></extra>"}]
    if predicted_gap is not None:
        # The closed form grows without bound past the limit: clipped to the plotted span.
        with np.errstate(invalid="ignore"):
            shown = np.where((predicted_gap > 0) & (predicted_gap <= top), predicted_gap, np.nan)
        data.append({"type": "scatter", "x": lrs, "y": shown, "mode": "lines",
                     "name": "theory ½Σλᵢcᵢ²(1 − lr·λᵢ)^2T",
                     "line": {"color": THEORY_COLOR, "dash": "dot", "width": 2},
                     "hovertemplate": "lr %{x:.4g}<br>theory %{y:.3g}<extra></extra>"})
    blown = np.asarray(diverged, dtype=bool)
    if blown.any():
        data.append({"type": "scatter", "x": lrs[blown], "y": np.full(int(blown.sum()), top),
                     "mode": "markers", "name": "diverged (blew up)",
                     "marker": {"symbol": "x-thin", "size": 8, "line": {"width": 2, "color": DIVERGED_COLOR}},
                     "hovertemplate": "lr %{x:.4g}: diverged<extra></extra>"})
    if start_gap is not None and start_gap > 0:
        data.append({"type": "scatter", "x": [lrs[0], lrs[-1]], "y": [start_gap, start_gap], "mode": "lines",
                     "name": "loss at the start", "line": {"color": "#777", "dash": "dot", "width": 1.5},
                     "hoverinfo": "skip"})
    data += _vlines(lines, low / 3.0, top)
    title = "learning rate" + (" (log scale)" if log_x else "")
    title += f"; final loss after {steps} steps" if steps else ""
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 70, "r": 20, "t": 60, "b": 50}, **_BASE_LAYOUT,
        "xaxis": {"title": {"text": title}, "type": "log" if log_x else "linear", "exponentformat": "power"},
        "yaxis": {"title": {"text": "final loss − minimum (log scale)"}, "type": "log",
                  "exponentformat": "power"}}}


def range_test_figure(lrs: np.ndarray, losses: np.ndarray, *, suggestion: float, min_loss_lr: float,
                      lines: Sequence[VLine] = (), loss_floor: float = 0.0, height: int = 380) -> dict:
    """The learning-rate range test: loss (above ``loss_floor``) after each step of the lr ramp."""
    lrs = np.asarray(lrs, dtype=float)
    gap = np.asarray(losses, dtype=float) - loss_floor
    gap = np.where(gap > 0, gap, np.nan)
    low, high = _positive_span(gap)
    marks = [VLine(suggestion, f"steepest descent: lr {suggestion:.3g}", PALETTE[2], "dot"),
             VLine(min_loss_lr, f"lowest loss: lr {min_loss_lr:.3g}", PALETTE[3], "dot"), *lines]
    data = [{"type": "scatter", "x": lrs, "y": gap, "mode": "lines", "name": "loss − minimum after the step",
             "line": {"color": PALETTE[0], "width": 2},
             "hovertemplate": "lr %{x:.4g}<br>loss − min %{y:.3g}<extra></extra>"},
            *_vlines(marks, low, high)]
    return {"data": data, "layout": {
        "height": height, "margin": {"l": 70, "r": 20, "t": 60, "b": 50}, **_BASE_LAYOUT,
        "xaxis": {"title": {"text": "learning rate of the step (grows exponentially; log scale)"},
                  "type": "log", "exponentformat": "power"},
        "yaxis": {"title": {"text": "loss − minimum (log scale)"}, "type": "log", "exponentformat": "power"}}}


# ----------------------------------------------------------------------------------- small multiples
def _ending(path: Path, floor: float) -> str:
    if path.diverged_at >= 0:
        return f"diverged at step {path.diverged_at}"
    gap, start_gap = float(path.z[-1]) - floor, float(path.z[0]) - floor
    return (f"ended above its start (loss − min {gap:.2g})" if gap > start_gap
            else f"final loss − min {gap:.2g}")


def _final(gap: float) -> str:
    """A schedule's path panel's note: its final loss above the minimum, or that it diverged."""
    return "diverged" if not np.isfinite(gap) else f"final loss − min {gap:.2g}"


def race_grid(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, paths: Sequence[Path], *, floor: float,
              **kwargs) -> dict:
    """One small map per raced rate (:func:`lossviz.viz.landscape.small_multiples_spec`, which takes
    ``kwargs``), titled with the rate and how its run ended (the final loss above ``floor``, above its start,
    or where it diverged), in the path's colour."""
    titles = [f"{path.label}<br>{_ending(path, floor)}" for path in paths]
    return small_multiples_spec(xs, ys, Z, paths, titles, **kwargs)


def _scrub(spec: dict, label: str, values: list[str], active: int, names: Sequence[str],
           frames: list[list[dict]], modes: tuple[str, ...]) -> dict:
    """``spec`` with a scrubber restyling, in order, the traces named ``names`` whose mode is in ``modes``;
    the end marks (crosses, triangles) belong to the exact value and hide elsewhere."""
    data = spec["data"]
    traces = [next(i for i, t in enumerate(data) if t.get("name") == name and t.get("mode") in modes)
              for name in names]
    marks = [i for i, t in enumerate(data) if t.get("mode") == "markers" and t.get("name", "").startswith(
        ("diverged at", "left the view"))]
    return spec | {"lossviz_scrub": scrubber(label, values, active, traces, frames, marks)}


def with_race_scrubber(spec: dict, labels: Sequence[str], lrs: np.ndarray, params: np.ndarray,
                       factors: np.ndarray) -> dict:
    """The race grid with a scrubber over every rate times each factor.

    ``lrs`` (R, M) and ``params`` (R, M, T+1, 2) are :class:`lossviz.lessons.learning_rate.RateFrames`'s;
    each position's label lists the rates it shows, so the exact value is always on screen.
    """
    active = int(np.argmin(np.abs(np.log(factors))))
    values = [f"× {f:.3g}: lr " + ", ".join(f"{lr:.4g}" for lr in lrs[:, m]) for m, f in enumerate(factors)]
    frames = [[{"x": params[r, m, :, 0], "y": params[r, m, :, 1]} for r in range(len(labels))]
              for m in range(factors.size)]
    return _scrub(spec, "learning rates", values, active, labels, frames, ("lines+markers",))


def schedule_grid(lr: np.ndarray, paths: np.ndarray, final_gap: np.ndarray, titles: Sequence[str],
                  xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, *, lines: Sequence[VLine] = (),
                  minima: np.ndarray | None = None, log_scale: bool = False, min_value: float | None = None,
                  pairs_per_row: int = 2, row_height: int = 300) -> dict:
    """Small multiples: for each schedule, lr against the step next to the path it produces.

    Parameters
    ----------
    lr : (k, T) rate of each step; paths : (k, T+1, 2); final_gap : (k,) final loss above the minimum;
    titles : k schedule names; lines : horizontal lines on every lr panel (2/λ_max).

    Notes
    -----
    Schedule ``i``'s lr line is named ``"lr: <title>"`` and its path ``"path: <title>"``
    (:func:`with_schedule_scrubber` restyles them).
    """
    k = len(titles)
    rows = math.ceil(k / pairs_per_row)
    height = rows * (row_height + 20) + 60
    layout, panels = panel_axes(rows, [0.27, 0.23] * pairs_per_row, gap_x=0.08, gap_px=110, height=height,
                                top=70, bottom=40)
    scale = color_scale_values(Z, log_scale, min_value)
    steps = np.arange(lr.shape[1])
    box = ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))
    data: list[dict] = []
    annotations, images = [], []
    for i in range(rows * pairs_per_row):
        (lx, ly, lx_dom, ly_dom), (px, py, px_dom, py_dom) = panels[2 * i], panels[2 * i + 1]
        if i >= k:
            for axis in (lx, ly, px, py):
                layout[f"{axis[0]}axis{axis[1:]}"]["visible"] = False
            continue
        color = PALETTE[i % len(PALETTE)]
        data.append({"type": "scatter", "x": steps, "y": lr[i], "mode": "lines", "name": f"lr: {titles[i]}",
                     "xaxis": lx, "yaxis": ly, "line": {"color": color, "width": 2}, "showlegend": False,
                     "hovertemplate": "step %{x}: lr %{y:.4g}<extra></extra>"})
        for line in lines:
            data.append({"type": "scatter", "x": [0, int(steps[-1])], "y": [line.x, line.x], "mode": "lines",
                         "name": line.label, "xaxis": lx, "yaxis": ly, "showlegend": i == 0,
                         "legendgroup": line.label, "hoverinfo": "skip",
                         "line": {"color": line.color, "dash": line.dash, "width": 1.5}})
        traces, image = panel_map(xs, ys, scale, minima, None, (px, py))
        data += traces
        images.append(image)
        data.append({"type": "scatter", "x": paths[i, :, 0], "y": paths[i, :, 1], "mode": "lines+markers",
                     "name": f"path: {titles[i]}", "xaxis": px, "yaxis": py, "showlegend": False,
                     "line": {"color": "white", "width": 1.5}, "marker": {"size": 3, "color": color},
                     "hovertemplate": "(%{x:.3g}, %{y:.3g})<extra></extra>"})
        layout[f"xaxis{lx[1:]}"].update(title={"text": "step"})
        layout[f"yaxis{ly[1:]}"].update(title={"text": "lr"}, rangemode="tozero")
        # No grid or zero line on a map: they would be drawn over its background image.
        layout[f"xaxis{px[1:]}"].update(range=list(box[0]), showticklabels=False, ticks="", showgrid=False,
                                        zeroline=False)
        layout[f"yaxis{py[1:]}"].update(range=list(box[1]), showticklabels=False, ticks="", showgrid=False,
                                        zeroline=False)
        annotations += [panel_title(f"<b>{titles[i]}</b>: lr per step", lx_dom, ly_dom),
                        panel_title(_final(final_gap[i]), px_dom, py_dom)]
    return {"data": data, "layout": {**layout, "height": height, **_BASE_LAYOUT, "annotations": annotations,
                                     "images": images, "margin": {"l": 50, "r": 10, "t": 70, "b": 40}}}


def with_schedule_scrubber(spec: dict, titles: Sequence[str], base_lrs: np.ndarray, limit: float,
                           lr: np.ndarray, params: np.ndarray, factors: np.ndarray) -> dict:
    """The schedule grid with a scrubber over the peak rate times each factor.

    ``base_lrs`` (M,), ``lr`` (k, M, T) and ``params`` (k, M, T+1, 2) are
    :class:`lossviz.lessons.learning_rate.ScheduleFrames`'s; ``limit`` is 2/λ_max, for the labels.
    """
    active = int(np.argmin(np.abs(np.log(factors))))
    values = [f"peak lr {b:.4g} ({b / limit:.3g} × 2/λ_max)" for b in base_lrs]
    names = [f"lr: {t}" for t in titles] + [f"path: {t}" for t in titles]
    frames = [[{"y": lr[i, m]} for i in range(len(titles))]
              + [{"x": params[i, m, :, 0], "y": params[i, m, :, 1]} for i in range(len(titles))]
              for m in range(factors.size)]
    return _scrub(spec, "peak learning rate", values, active, names, frames, ("lines", "lines+markers"))


# ---------------------------------------------------------------------------- the page's figures, whole
def theory_lines(curvature: Curvature) -> list[VLine]:
    """The stability limit 2/λ_max and the optimal constant rate 2/(λ_max + λ_min), as vertical lines."""
    limit, best = curvature.max_stable_lr, curvature.optimal_lr
    return [VLine(limit, f"2/λ_max = {limit:.4g}", "#D55E00"),
            VLine(best, f"optimal 2/(λ_max+λ_min) = {best:.4g}", "#009E73", "dot")]


def _race_paths(comparison: LearningRateComparison) -> list[Path]:
    t = comparison.trajectory
    return [Path(label, PALETTE[i % len(PALETTE)], t.params[i], t.loss[i], int(t.diverged_at[i]))
            for i, label in enumerate(comparison.labels)]


def race(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, comparison: LearningRateComparison, **kwargs) -> dict:
    """The race as small multiples (:func:`race_grid`, which takes ``kwargs``), with the rates' scrubber
    when the comparison has frames."""
    paths = _race_paths(comparison)
    grid = race_grid(xs, ys, Z, paths, **kwargs)
    frames = comparison.frames
    if frames is None:
        return grid
    spec = with_race_scrubber(grid, comparison.labels, frames.lrs, frames.params, frames.factors)
    # Each panel's title names its position's rate and how that run ended (the exact run's at its own).
    scrub, texts = spec["lossviz_scrub"], {}
    for r, path in enumerate(paths):
        title = f"{path.label}<br>{_ending(path, kwargs['floor'])}"
        texts[annotation_index(spec, title)] = [title if m == scrub["active"] else (
            f"lr {frames.lrs[r, m]:.4g} ({factor:.3g} × {path.label.split(' (')[0]})<br>"
            + _ending(Path(path.label, path.color, frames.params[r, m], frames.loss[r, m],
                           int(frames.diverged_at[r, m])), kwargs["floor"]))
            for m, factor in enumerate(frames.factors)]
    scrub["texts"] = texts
    return spec


def race_curves(comparison: LearningRateComparison, floor: float) -> dict:
    """Each raced rate's loss above ``floor`` against the step (log scale)."""
    return curves_spec([(p.label, p.color, p.z - floor) for p in _race_paths(comparison)],
                       ylabel="loss − minimum")


def sweep(result: LearningRateSweep, floor: float, lines: Sequence[VLine], log_x: bool) -> dict:
    """:func:`sweep_figure` of a sweep, its losses above ``floor``."""
    return sweep_figure(result.lrs, result.final_loss - floor, result.diverged, lines=lines, log_x=log_x,
                        predicted_gap=result.predicted_gap, start_gap=result.start_loss - floor,
                        steps=result.steps)


def schedules(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, comparison: ScheduleComparison, *, limit: float,
              floor: float, **kwargs) -> dict:
    """The schedules beside their paths (:func:`schedule_grid`, which takes ``kwargs``), with the peak's
    scrubber when the comparison has frames; ``limit`` (2/λ_max) is drawn on every lr panel."""
    titles = [s.title for s in comparison.schedules]
    trajectory = comparison.trajectory
    grid = schedule_grid(comparison.lr, trajectory.params, trajectory.loss[:, -1] - floor, titles, xs, ys, Z,
                         lines=[VLine(limit, f"2/λ_max = {limit:.4g}", "#D55E00")], min_value=floor, **kwargs)
    frames = comparison.frames
    if frames is None:
        return grid
    spec = with_schedule_scrubber(grid, titles, frames.base_lrs, limit, frames.lr, frames.params,
                                  frames.factors)
    # Each path panel's note says how its position's run ended (the exact run's at its own).
    scrub, texts = spec["lossviz_scrub"], {}
    for i in range(len(titles)):
        note = _final(trajectory.loss[i, -1] - floor)
        # schedule_grid's annotations: each schedule's lr panel title, then its path panel's note.
        texts[2 * i + 1] = [note if m == scrub["active"] else _final(frames.loss[i, m, -1] - floor)
                        for m in range(frames.factors.size)]
    scrub["texts"] = texts
    return spec


def range_test(test: LRRangeTest, floor: float, lines: Sequence[VLine]) -> dict:
    """:func:`range_test_figure` of a range test, its losses above ``floor``."""
    return range_test_figure(test.lrs, test.losses, suggestion=test.suggestion, min_loss_lr=test.min_loss_lr,
                             lines=lines, loss_floor=floor)
