"""The Surface Explorer's figures: the race on the contour map and in 3-D, its curves, the step inspector.

Race entries in (:func:`lossviz.lessons.explorer.race`), figure specs out (plain dicts, drawn by live
charts); plotly only through :mod:`lossviz.viz.landscape`, never streamlit.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossviz.lessons.explorer import LR_MULTIPLIERS, Minima, RaceEntry
from lossviz.surfaces import Surface
from lossviz.viz import inspector
from lossviz.viz.landscape import (
    PALETTE, Arrow, Path, clip_segment, contour_spec, curves_spec, scrubber, surface_spec,
)

__all__ = ["colors", "paths", "evaluation_marks", "step_arrows", "contour", "with_lr_scrubber", "surface3d",
           "tuning_curves", "loss_curves", "distance_curves",
           "inspector_latex"]


def colors(entries: Sequence[RaceEntry]) -> dict[str, str]:
    """One palette colour per racer, by label."""
    return {e.label: PALETTE[i % len(PALETTE)] for i, e in enumerate(entries)}


# An optimizer's second sequence of points, in words (Optimizer.paths; L-BFGS's evaluations are markers).
PATH_WORDS = {"ax": "averaged iterate", "x": "x, where the loss is evaluated", "z": "z, the base sequence",
              "perturbed": "where SAM takes its gradient"}


def paths(entries: Sequence[RaceEntry], extra: bool = False) -> list[Path]:
    """Each racer's path with its verdict as the note a divergence cross shows; with ``extra``, also each
    optimizer's second sequence (ASGD's average, schedule-free's x and z, SAM's perturbed points), dashed."""
    color = colors(entries)
    out = []
    for e in entries:
        traj = e.trajectory
        out.append(Path(e.label, color[e.label], traj.params, traj.loss, int(traj.diverged_at), e.verdict))
        for name, points in (traj.paths or {}).items() if extra else ():
            if name in PATH_WORDS and points.ndim == 2:
                out.append(Path(f"{e.label}: {PATH_WORDS[name]}", color[e.label], points,
                                (traj.path_loss or {}).get(name, traj.loss), dash="dot"))
    return out


def evaluation_marks(entries: Sequence[RaceEntry]) -> list[dict]:
    """L-BFGS's function evaluations (its line search's trial points) as small markers, the outer steps'
    ends outlined."""
    color = colors(entries)
    traces = []
    for e in entries:
        if "evaluations" not in (e.trajectory.paths or {}):
            continue
        found = e.trajectory.evaluations(0) if e.trajectory.batched else e.trajectory.evaluations()
        traces.append({"type": "scatter", "x": found.points[:, 0], "y": found.points[:, 1], "mode": "markers",
                       "name": f"{e.label}: function evaluations", "legendgroup": e.label,
                       "marker": {"size": 5, "color": color[e.label], "symbol": "circle-open"},
                       "hovertemplate": "evaluation at (%{x:.4g}, %{y:.4g})<extra></extra>"})
    return traces


def step_arrows(entries: Sequence[RaceEntry], step: int, width: float,
                box: tuple[tuple[float, float], tuple[float, float]] | None = None) -> list[Arrow]:
    """At ``step``: the negative gradient (dark grey, scaled to a sixth of the view's ``width``) and the
    update each optimizer made (its colour), for every racer that took that step. With the view's ``box``,
    an arrow stops at its edge (an annotation is not clipped: a diverging step's ran over the map's Play
    button and sliders), and a step taken from outside the view has none."""
    color = colors(entries)
    arrows = []
    for e in entries:
        traj = e.trajectory
        if step >= traj.n_steps or not np.all(np.isfinite(traj.params[step:step + 2])):
            continue
        before, after, grad = traj.params[step], traj.params[step + 1], traj.grads[step]
        if box is not None and not _inside(before, box):
            continue
        scale = 0.15 * width / max(float(np.linalg.norm(grad)), 1e-12)
        for end, shade in ((before - scale * grad, "#444"), (after, color[e.label])):
            end = end if box is None else clip_segment(before, end, box)
            arrows.append(Arrow(tuple(before), tuple(float(v) for v in end), shade))
    return arrows


def _inside(point: np.ndarray, box: tuple[tuple[float, float], tuple[float, float]]) -> bool:
    return all(lo <= v <= hi for v, (lo, hi) in zip(point, box, strict=True))


def contour(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, surface: Surface, entries: Sequence[RaceEntry],
            minima: Minima, start: tuple[float, float], step: int, view_key: str) -> dict:
    """The contour map with every path, the minima, the start and the inspected step's arrows."""
    spec = contour_spec(xs, ys, Z, paths=paths(entries, extra=True), minima=minima.points,
                        log_scale=surface.log_scale, min_value=minima.value, start=start, view_key=view_key,
                        minimum_label=minima.words,
                        arrows=step_arrows(entries, step, float(xs[-1] - xs[0]),
                                           ((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])))))
    spec["data"] += evaluation_marks(entries)
    return spec


def with_lr_scrubber(spec: dict, entries: Sequence[RaceEntry], frames: np.ndarray) -> dict:
    """``spec`` (the contour map) with a scrubber over every racer's learning rate times each multiplier.

    ``frames`` is :func:`lossviz.lessons.explorer.lr_frames` (racers, M, T+1, 2). The divergence and exit
    marks belong to the exact rates and are hidden while another multiple is shown, with the inspected
    step's arrows and the heads of second sequences; each racer's head (Play) follows its scrubbed path.
    """
    labels = [e.label for e in entries]
    lines = [i for i, t in enumerate(spec["data"]) if t.get("mode") == "lines" and t.get("name") in labels]
    # The layout's shapes are the heads of the drawn paths, in their order (landscape.contour_spec).
    line_of = {spec["data"][i]["name"]: k for k, i in enumerate(lines)}
    drawn = [p.label for p in paths(entries, extra=True)]
    heads = [(j, line_of[label]) for j, label in enumerate(drawn) if label in line_of]
    others = [j for j, label in enumerate(drawn) if label not in line_of]
    # Marks and second sequences belong to the exact rates: hidden while another multiple is shown.
    marks = [i for i, t in enumerate(spec["data"]) if i not in lines and (
        t.get("legendgroup") in labels or str(t.get("name", "")).split(": ")[0] in labels)]
    positions = [[{"x": frames[r, m, :, 0], "y": frames[r, m, :, 1]} for r in range(len(entries))]
                 for m in range(frames.shape[1])]
    active = int(np.argmin(np.abs(np.log(LR_MULTIPLIERS[: frames.shape[1]]))))
    values = [f"× {factor:.3g} each lr" for factor in LR_MULTIPLIERS[: frames.shape[1]]]
    arrows = range(len(spec["layout"].get("annotations") or []))
    return spec | {"lossviz_scrub": scrubber("learning rates", values, active, lines, positions, marks,
                                             heads=heads, hide_shapes=others, hide_annotations=arrows)}


def surface3d(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, surface: Surface, entries: Sequence[RaceEntry],
              minima: Minima, view_key: str) -> dict:
    """The same race in 3-D, in the surface's own box."""
    return surface_spec(xs, ys, Z, paths=paths(entries), minima=minima.points, min_value=minima.value,
                        log_scale=surface.log_scale, view_key=view_key)


def tuning_curves(sweeps: Sequence, entries: Sequence[RaceEntry], minima: Minima) -> dict:
    """Final loss (above the minimum) against the learning rate for each racer's sweep, the chosen rate
    marked: how sensitive each optimizer is to its rate."""
    color = colors(entries)
    floor = minima.value or 0.0
    data = []
    for sweep, e in zip(sweeps, entries):
        gap = np.where(np.isfinite(sweep.final_loss), sweep.final_loss - floor, np.nan)
        gap = np.where(gap > 0, gap, np.nan) if minima.value is not None else gap
        data.append({"type": "scatter", "x": sweep.lrs, "y": gap, "mode": "lines", "name": e.label,
                     "line": {"color": color[e.label], "width": 2}, "legendgroup": e.label})
        if sweep.best_index >= 0:
            data.append({"type": "scatter", "x": [float(sweep.best_lr)], "y": [float(gap[sweep.best_index])],
                         "mode": "markers", "showlegend": False, "legendgroup": e.label,
                         "marker": {"color": color[e.label], "size": 11, "symbol": "star"},
                         "hovertemplate": f"{e.label}: best lr %{{x:.3g}}<extra></extra>"})
    ylabel = "final loss − minimum" if minima.value is not None else "final loss"
    return {"data": data, "layout": {
        "height": 320, "margin": {"l": 70, "r": 20, "t": 30, "b": 50}, "template": "none",
        "xaxis": {"title": {"text": "learning rate (each point one run; gaps: diverged)"}, "type": "log",
                  "exponentformat": "power"},
        "yaxis": {"title": {"text": ylabel}, "type": "log" if minima.value is not None else "linear",
                  "exponentformat": "power"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}}


def loss_curves(entries: Sequence[RaceEntry], minima: Minima) -> dict:
    """Loss (above the minimum, on a log axis, when there is one) against the step."""
    color = colors(entries)
    floor = minima.value
    return curves_spec([(e.label, color[e.label], e.trajectory.loss - (floor or 0.0)) for e in entries],
                       ylabel="loss − minimum" if floor is not None else "loss", log_y=floor is not None)


def distance_curves(entries: Sequence[RaceEntry], minima: Minima) -> dict:
    """Distance to the nearest minimum against the step."""
    color = colors(entries)
    return curves_spec([(e.label, color[e.label], e.distance) for e in entries if e.distance is not None],
                       ylabel=f"distance to the nearest {minima.words}")


def inspector_latex(entry: RaceEntry, step: int) -> str:
    """One KaTeX block for ``entry`` at ``step`` (0-based): the rule, the gradient, the state, the update
    with this step's numbers, in torch's indexing (the update number t = step + 1)."""
    t = min(step, entry.trajectory.n_steps - 1) + 1
    return inspector.step_latex(entry.optimizer, t,
                                **inspector.inspect_step(entry.trajectory, entry.optimizer, t))
