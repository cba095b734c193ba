"""One-call figures of runs, races and landscapes, as ``plotly.graph_objects.Figure``; and files of them.

``lv.plot`` is loaded the first time it is used (``import lossviz`` alone never imports plotly). Each
figure is drawn by the builder the app's pages use (:mod:`lossviz.viz.landscape`,
:mod:`lossviz.viz.neural_net`), so a notebook shows the picture the app shows; it is a validated plotly
Figure, to show, restyle or save.

=====================================  =======================================================================
:func:`contour`, :func:`surface3d`     a 2-D objective with paths on it (Play moves a dot along each)
:func:`curves`                         loss, gradient norm, learning rate or distance to the minimum per step
:func:`animation`                      the race for slides: paths grow over the map, a step counter, Play
:func:`landscape`                      a model's loss on a plane through its weights (``lv.model_landscape``)
:func:`save_image`, :func:`to_image`   PNG (1920 x 1080 by default), SVG, JPEG, WebP, PDF
:func:`save_animation`                 GIF or MP4 of a figure's frames
=====================================  =======================================================================

``trajectories`` may be a :class:`~lossviz.run.Trajectory` (every run of a sweep is a path), a mapping of
label to Trajectory, a list of them, or a :class:`~lossviz.Race`.

    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("himmelblau"), ["sgd", "adam"], steps=100)
    >>> fig = lv.plot.contour(race.surface, race)
    >>> type(fig).__name__, [t.name for t in fig.data if t.type == "scatter" and t.mode == "lines"]
    ('Figure', ['sgd', 'adam'])
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import plotly.graph_objects as go
except ModuleNotFoundError as exc:  # the core installs without plotly
    raise ModuleNotFoundError("lv.plot needs plotly: pip install 'lossviz[plot]'") from exc

from lossviz import landscape as _landscape
from lossviz.api import ModelLandscape, Race, _box_axes, _named_paths
from lossviz.lessons.explorer import Minima, RaceEntry
from lossviz.viz.plot._render import (
    ANIMATION_FORMATS, IMAGE_FORMATS, render_animation, render_frames, save_animation, save_image, to_image,
)
from lossviz.viz import explorer as _explorer_figures
from lossviz.viz import neural_net as _net_figures
from lossviz.viz.landscape import PALETTE, Path, contour_spec, curves_spec, surface_spec

__all__ = [
    "contour", "surface3d", "curves", "animation", "landscape", "to_image", "save_image", "save_animation",
    "render_animation", "render_frames", "IMAGE_FORMATS", "ANIMATION_FORMATS", "QUANTITIES",
]

QUANTITIES = ("loss", "grad_norm", "lr", "distance")
DEFAULT_RESOLUTION = 81  # the Surface Explorer's grid


@dataclass(frozen=True)
class _Racer:
    """One path as every figure here reads it: arrays of one run, its colour and its note."""

    label: str
    color: str
    params: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    diverged_at: int
    note: str = ""
    distance: np.ndarray | None = None

    def path(self) -> Path:
        return Path(self.label, self.color, self.params, self.loss, self.diverged_at, self.note)


def _racers(trajectories: Any) -> tuple[list[_Racer], Minima | None]:
    """The paths of ``trajectories`` and, for a race, the minima it was measured against."""
    entries: Sequence[RaceEntry] | None = None
    minima = None
    if isinstance(trajectories, Race):
        entries, minima = trajectories.entries, trajectories.minima
    elif (isinstance(trajectories, Sequence) and trajectories
          and all(isinstance(e, RaceEntry) for e in trajectories)):
        entries = trajectories
    if entries is not None:
        color = _explorer_figures.colors(entries)
        return [_Racer(e.label, color[e.label], e.trajectory.params, e.trajectory.loss,
                       e.trajectory.grad_norm, e.trajectory.lr, int(e.trajectory.diverged_at), e.verdict,
                       e.distance) for e in entries], minima
    racers = []
    for index, (label, traj, run) in enumerate(_named_paths(trajectories)):
        pick = (lambda a: a) if run is None else (lambda a, r=run: a[r])
        racers.append(_Racer(label, PALETTE[index % len(PALETTE)], pick(traj.params), pick(traj.loss),
                             pick(traj.grad_norm), pick(traj.lr), int(pick(np.asarray(traj.diverged_at)))))
    return racers, minima


def _planar(racers: Sequence[_Racer], figure: str) -> None:
    for racer in racers:
        if racer.params.shape[-1] != 2:
            raise ValueError(f"{figure} draws paths on a plane; {racer.label!r} has "
                             f"d={racer.params.shape[-1]} parameters: use "
                             "lv.plot.landscape(lv.model_landscape(model, trajectories=...))")


Box = tuple[tuple[float, float], tuple[float, float]]


def _domain(objective: Any, racers: Sequence[_Racer], domain: Any) -> Box:
    if domain is not None:
        (x0, x1), (y0, y1) = domain
        return (float(x0), float(x1)), (float(y0), float(y1))
    if getattr(objective, "domain", None) is not None:
        return objective.domain
    if racers:
        xs, ys = _box_axes(np.concatenate([r.params for r in racers]), 2)
        return (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    return (-1.0, 1.0), (-1.0, 1.0)


def _grid(objective: Any, racers: Sequence[_Racer], domain: Any, resolution: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if getattr(objective, "dim", 2) != 2:
        raise ValueError(f"this figure maps a 2-D objective; this one has d={objective.dim}: use "
                         "lv.plot.landscape(lv.model_landscape(model, ...))")
    xs, ys = _landscape.axes_for_domain(_domain(objective, racers, domain), resolution)
    with np.errstate(all="ignore"):
        Z = np.asarray(_landscape.grid(objective, xs, ys), dtype=float)
    return xs, ys, np.where(np.isfinite(Z), Z, np.nan)


def _spans_decades(Z: np.ndarray) -> bool:
    """Whether a linear colour scale would paint most of the map one colour (the median in the bottom 1%)."""
    finite = Z[np.isfinite(Z)]
    if finite.size < 2:
        return False
    low, middle, high = np.percentile(finite, [0, 50, 100])
    return bool(high - low > 100 * (middle - low))


def _minima(objective: Any, race_minima: Minima | None, minima: Any
            ) -> tuple[np.ndarray | None, float | None, str]:
    """``(points (m, 2), value, legend words)``: given, else the race's, else the surface's own."""
    if isinstance(minima, Minima):
        return minima.points, minima.value, minima.words
    if minima is not None:
        points = np.asarray(minima, dtype=float).reshape(-1, 2)
        values = np.asarray(objective.f(points), dtype=float) if len(points) else np.zeros(0)
        return points, (float(values.min()) if values.size else None), "minimum"
    if race_minima is not None:
        return race_minima.points, race_minima.value, race_minima.words
    points = getattr(objective, "minima", None)
    return points, getattr(objective, "min_value", None), "global minimum"


def _figure(spec: dict, title: str | None) -> go.Figure:
    """A validated Figure from a builder's spec (plotly checks every property here)."""
    layout = dict(spec["layout"])
    if title:
        layout["title"] = {"text": title, "x": 0.01, "xanchor": "left"}
        layout["margin"] = {**layout.get("margin", {}), "t": max(layout.get("margin", {}).get("t", 0), 80)}
    return go.Figure(data=spec["data"], layout=layout, frames=spec.get("frames"))


def _start(racers: Sequence[_Racer], start: Any) -> tuple[float, float] | None:
    if start is not None:
        return float(start[0]), float(start[1])
    if racers and np.all(np.isfinite(racers[0].params[0])):
        return float(racers[0].params[0, 0]), float(racers[0].params[0, 1])
    return None


def _log_scale(objective: Any, Z: np.ndarray) -> bool:
    own = getattr(objective, "log_scale", None)
    return bool(own) if own is not None else _spans_decades(Z)


def contour(surface: Any, trajectories: Any = None, *, domain: Any = None,
            resolution: int = DEFAULT_RESOLUTION, minima: Any = None, start: Any = None, animate: bool = True,
            height: int = 520, title: str | None = None) -> go.Figure:
    """The contour map of a 2-D objective with every path on it, as the Surface Explorer draws it.

    Parameters
    ----------
    surface : Surface, or any objective over params ``(..., 2)``
    trajectories : Trajectory, mapping of label to Trajectory, list of them, or Race, optional
        Paths with params ``(T+1, 2)``; a diverged one ends in a cross.
    domain : ((xmin, xmax), (ymin, ymax)), optional
        The view; default the surface's, or a box around the paths.
    resolution : int
        Grid points per axis (the map is ``Z (resolution, resolution)``).
    minima : (m, 2) points or Minima, optional
        Stars on the map; default the surface's (or the race's) known minima.
    start : (x, y), optional
        The start marker; default the first path's first point.
    animate : bool
        Play and a step slider that move a dot along each path in the browser.
    height : int
        Pixels.
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import lossviz as lv
    >>> bowl = lv.surface("quadratic")
    >>> fig = lv.plot.contour(bowl, lv.run(bowl, lv.optimizer("sgd", lr=0.5), [-2.0, 2.0], 30))
    >>> fig.data[0].type, fig.data[0].z.shape, len(fig.frames)
    ('contour', (81, 81), 31)
    """
    racers, race_minima = _racers(trajectories)
    _planar(racers, "contour")
    xs, ys, Z = _grid(surface, racers, domain, resolution)
    points, value, words = _minima(surface, race_minima, minima)
    spec = contour_spec(xs, ys, Z, paths=[r.path() for r in racers], minima=points,
                        log_scale=_log_scale(surface, Z), min_value=value, start=_start(racers, start),
                        animate=animate, height=height, minimum_label=words)
    return _figure(spec, title)


def surface3d(surface: Any, trajectories: Any = None, *, domain: Any = None,
              resolution: int = DEFAULT_RESOLUTION, minima: Any = None, height: int = 520,
              title: str | None = None) -> go.Figure:
    """The objective in 3-D with the paths lifted onto it (drag to turn it).

    Parameters are those of :func:`contour`. Returns a ``plotly.graph_objects.Figure`` whose first trace is
    the surface, ``z`` of shape ``(resolution, resolution)`` (``log10(1 + loss - min)`` on a surface that
    spans decades).

    Examples
    --------
    >>> import lossviz as lv
    >>> fig = lv.plot.surface3d(lv.surface("himmelblau"), resolution=21)
    >>> fig.data[0].type, fig.data[0].z.shape
    ('surface', (21, 21))
    """
    racers, race_minima = _racers(trajectories)
    _planar(racers, "surface3d")
    xs, ys, Z = _grid(surface, racers, domain, resolution)
    points, value, _ = _minima(surface, race_minima, minima)
    spec = surface_spec(xs, ys, Z, paths=[r.path() for r in racers], minima=points, min_value=value,
                        log_scale=_log_scale(surface, Z), height=height)
    return _figure(spec, title)


def curves(trajectories: Any, quantity: str = "loss", *, minimum: float | None = None,
           log_y: bool | None = None, height: int = 320, title: str | None = None) -> go.Figure:
    """One line per path against the step: ``loss``, ``grad_norm``, ``lr`` or ``distance``.

    Parameters
    ----------
    trajectories : Trajectory, mapping of label to Trajectory, list of them, or Race
        Any dimension d; every run of a sweep is a line (labelled by its learning rate when the runs'
        rates differ).
    quantity : {"loss", "grad_norm", "lr", "distance"}
        ``distance`` (to the nearest minimum) needs a Race.
    minimum : float, optional
        For ``loss``: plot ``loss - minimum`` (a race subtracts its surface's minimum by itself).
    log_y : bool, optional
        Default: log for loss (when every value is positive), gradient norm and distance.
    height : int
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        ``x`` is the step (``0..T``; ``0..T-1`` for ``lr``).

    Examples
    --------
    >>> import numpy as np
    >>> import lossviz as lv
    >>> bowl = lv.surface("quadratic")
    >>> sweep = lv.run(bowl, lv.optimizer("sgd", lr=np.array([0.1, 0.5, 1.0])), [-2.0, 2.0], 50)
    >>> [t.name for t in lv.plot.curves(sweep).data]
    ['lr 0.1', 'lr 0.5', 'lr 1']
    """
    from lossviz._validation import check_choice

    check_choice(quantity, "quantity", QUANTITIES)
    racers, race_minima = _racers(trajectories)
    if minimum is None and race_minima is not None and quantity == "loss":
        minimum = race_minima.value
    if quantity == "distance":
        if any(r.distance is None for r in racers):
            raise ValueError("quantity='distance' needs a race on a surface with a known minimum (lv.race)")
        series = [(r.label, r.color, r.distance) for r in racers]
        ylabel = "distance to the nearest minimum"
    elif quantity == "loss":
        series = [(r.label, r.color, r.loss - (minimum or 0.0)) for r in racers]
        ylabel = "loss − minimum" if minimum is not None else "loss"
    else:
        series = [(r.label, r.color, getattr(r, quantity)) for r in racers]
        ylabel = {"grad_norm": "gradient norm", "lr": "learning rate"}[quantity]
    if log_y is None:
        values = np.concatenate([np.ravel(v) for _, _, v in series]) if series else np.ones(1)
        finite = values[np.isfinite(values)]
        log_y = quantity != "lr" and bool(finite.size) and bool(np.all(finite > 0))
    return _figure(curves_spec(series, ylabel=ylabel, log_y=bool(log_y), height=height), title)


_EVENT_STEP = re.compile(r"step (\d+)")


def _frame_steps(n_steps: int, frames: int) -> np.ndarray:
    return np.unique(np.linspace(0, n_steps, min(frames, n_steps + 1)).round().astype(int))


def _head(racer: _Racer, step: int) -> dict:
    finite = np.flatnonzero(np.all(np.isfinite(racer.params), axis=1))
    k = min(step, int(finite[-1]) if finite.size else 0)
    x, y = float(racer.params[k, 0]), float(racer.params[k, 1])
    return {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "xanchor": x, "yanchor": y, "x0": -7, "x1": 7, "y0": -7, "y1": 7, "fillcolor": racer.color,
            "line": {"color": "white", "width": 2}}


def _counter(step: int, n_steps: int) -> dict:
    return {"text": f"step {step} / {n_steps}", "xref": "paper", "yref": "paper", "x": 0.99, "y": 0.98,
            "xanchor": "right", "yanchor": "top", "showarrow": False, "font": {"size": 16, "color": "#111"},
            "bgcolor": "rgba(255,255,255,0.85)", "borderpad": 4}


def animation(surface: Any, trajectories: Any, *, frames: int = 60, domain: Any = None,
              resolution: int = DEFAULT_RESOLUTION, minima: Any = None, start: Any = None, height: int = 560,
              frame_duration: int = 80, title: str | None = None) -> go.Figure:
    """The race for a slide: each path grows over the contour map, a dot at its head, a step counter.

    Play and the step slider run it in the browser; :func:`save_animation` writes it as a GIF or MP4
    (the frames are this figure's own).

    Parameters
    ----------
    surface, trajectories, domain, resolution, minima, start, height, title
        As :func:`contour`.
    frames : int
        How many frames (evenly spaced steps from 0 to T, both included; at most T + 1).
    frame_duration : int
        Milliseconds per frame when played in the browser.

    Returns
    -------
    plotly.graph_objects.Figure
        With ``frames`` named by their step; the figure itself shows step 0.

    Examples
    --------
    >>> import lossviz as lv
    >>> race = lv.race(lv.surface("rosenbrock"), ["adam", "sgd"], steps=200)
    >>> fig = lv.plot.animation(race.surface, race, frames=40)
    >>> len(fig.frames), fig.frames[-1].name, fig.layout.annotations[0].text
    (40, '200', 'step 0 / 200')
    """
    from lossviz._validation import check_int

    frames = check_int(frames, "frames", low=2, high=1000)
    racers, race_minima = _racers(trajectories)
    if not racers:
        raise ValueError("an animation needs at least one trajectory")
    _planar(racers, "animation")
    xs, ys, Z = _grid(surface, racers, domain, resolution)
    points, value, words = _minima(surface, race_minima, minima)
    spec = contour_spec(xs, ys, Z, paths=[r.path() for r in racers], minima=points,
                        log_scale=_log_scale(surface, Z), min_value=value, start=_start(racers, start),
                        animate=False, height=height, minimum_label=words)
    labels = {r.label: r for r in racers}
    lines = {i: labels[t["name"]] for i, t in enumerate(spec["data"])
             if t.get("mode") == "lines" and t.get("name") in labels}
    # A path's divergence cross and view-exit mark appear when the path gets there.
    events = {}
    for i, trace in enumerate(spec["data"]):
        if trace.get("mode") != "markers+text" or trace.get("legendgroup") not in labels:
            continue
        found = _EVENT_STEP.search(str((trace.get("text") or [""])[0]))
        if found:
            events[i] = (int(found.group(1)), trace)
    n_steps = max(len(r.params) for r in racers) - 1
    steps = _frame_steps(n_steps, frames)
    moving = [*lines, *events]

    def state(step: int) -> tuple[list[dict], dict]:
        data = [{"x": lines[i].params[: step + 1, 0], "y": lines[i].params[: step + 1, 1]} for i in lines]
        data += [({"x": trace["x"], "y": trace["y"]} if step >= at else {"x": [None], "y": [None]})
                 for at, trace in events.values()]
        return data, {"shapes": [_head(r, step) for r in racers], "annotations": [_counter(step, n_steps)]}

    first_data, first_layout = state(0)
    for i, update in zip(moving, first_data):
        spec["data"][i] = {**spec["data"][i], **update}
    layout = {**spec["layout"], **first_layout}
    play = {"frame": {"duration": frame_duration, "redraw": True}, "transition": {"duration": 0},
            "fromcurrent": True}
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    layout["updatemenus"] = [{
        "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left", "yanchor": "top",
        "pad": {"r": 8, "t": 0}, "showactive": False,
        "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]}],
    }]
    layout["sliders"] = [{
        "active": 0, "x": 0.16, "len": 0.84, "y": -0.12, "yanchor": "top", "pad": {"t": 0},
        "currentvalue": {"prefix": "step ", "font": {"size": 13}},
        "steps": [{"label": str(s), "method": "animate", "args": [[str(s)], still]} for s in steps],
    }]
    layout["margin"] = {**layout["margin"], "b": 110}
    spec["layout"] = layout
    spec["frames"] = []
    for s in steps:
        data, frame_layout = state(int(s))
        spec["frames"].append({"name": str(int(s)), "traces": moving, "data": data, "layout": frame_layout})
    return _figure(spec, title)


def landscape(land: ModelLandscape, *, kind: str = "contour", height: int = 520, title: str | None = None
              ) -> go.Figure:
    """A model's loss landscape (:func:`lossviz.model_landscape`) with its paths, as the app draws it.

    Parameters
    ----------
    land : ModelLandscape
        ``"exact"`` (a two-parameter model) is drawn like the Models-on-data page, ``"pca"`` and
        ``"random"`` planes like the Neural-net page (loss on a log colour scale).
    kind : {"contour", "surface"}
    height : int
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> import lossviz as lv
    >>> data = lv.dataset("moons", n_samples=100)
    >>> net = lv.model("mlp", data, hidden=(4,))
    >>> fit = lv.run(net, lv.optimizer("adam", lr=0.05), net.init_params(seed=0), 30)
    >>> fig = lv.plot.landscape(lv.model_landscape(net, trajectories={"Adam": fit}, resolution=11))
    >>> fig.data[0].type, [t.name for t in fig.data][1]
    ('contour', 'Adam')
    """
    from lossviz._validation import check_choice

    if not isinstance(land, ModelLandscape):
        raise TypeError(f"land must be a ModelLandscape (lv.model_landscape), got {type(land).__name__}")
    check_choice(kind, "kind", ("contour", "surface"))
    paths = [Path(label, PALETTE[i % len(PALETTE)], coords, loss)
             for i, (label, coords, loss) in enumerate(land.paths)]
    if land.kind == "exact":
        log_scale = _spans_decades(land.Z)
        if kind == "contour":
            start = tuple(paths[0].xy[0]) if paths and np.all(np.isfinite(paths[0].xy[0])) else None
            spec = contour_spec(land.xs, land.ys, land.Z, paths=paths, log_scale=log_scale, start=start,
                                animate=False, height=height)
            spec["layout"]["xaxis"]["title"] = {"text": land.axis_titles[0]}
            spec["layout"]["yaxis"]["title"] = {"text": land.axis_titles[1]}
        else:
            spec = surface_spec(land.xs, land.ys, land.Z, paths=paths, log_scale=log_scale, height=height)
            spec["layout"]["scene"]["xaxis"]["title"] = {"text": land.axis_titles[0]}
            spec["layout"]["scene"]["yaxis"]["title"] = {"text": land.axis_titles[1]}
        return _figure(spec, title)
    if kind == "surface":
        fig = _net_figures.slice_surface_figure(land.xs, land.ys, land.Z, title=title or "", height=height)
    elif land.kind == "pca":
        fig = _net_figures.plane_figure(land.xs, land.ys, land.Z, paths, explained=land.explained,
                                        origin_label=paths[0].label if paths else "the center", height=height)
    else:
        fig = _net_figures.slice_contours_figure(land.xs, land.ys, [land.Z], ["the center"], height=height)
        for path in paths:
            fig.add_trace(go.Scatter(x=path.xy[:, 0], y=path.xy[:, 1], mode="lines", name=path.label,
                                     line={"color": path.color, "width": 2.5}))
        fig.update_layout(showlegend=bool(paths))
    if title and kind != "surface":
        fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left"})
    return go.Figure(fig)

