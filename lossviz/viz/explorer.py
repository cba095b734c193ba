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
from lossviz.viz.landscape import PALETTE, Arrow, Path, contour_spec, curves_spec, scrubber, surface_spec

__all__ = ["colors", "paths", "step_arrows", "contour", "with_lr_scrubber", "surface3d", "loss_curves", "distance_curves",
           "inspector_latex"]


def colors(entries: Sequence[RaceEntry]) -> dict[str, str]:
    """One palette colour per racer, by label."""
    return {e.label: PALETTE[i % len(PALETTE)] for i, e in enumerate(entries)}


def paths(entries: Sequence[RaceEntry]) -> list[Path]:
    """Each racer's path with its verdict as the note a divergence cross shows."""
    color = colors(entries)
    return [Path(e.label, color[e.label], e.trajectory.params, e.trajectory.loss, int(e.trajectory.diverged_at),
                 e.verdict) for e in entries]


def step_arrows(entries: Sequence[RaceEntry], step: int, width: float) -> list[Arrow]:
    """At ``step``: the negative gradient (dark grey, scaled to a sixth of the view's ``width``) and the
    update each optimizer made (its colour), for every racer that took that step."""
    color = colors(entries)
    arrows = []
    for e in entries:
        traj = e.trajectory
        if step >= traj.n_steps or not np.all(np.isfinite(traj.params[step:step + 2])):
            continue
        detail = e.inspect(step)
        scale = 0.15 * width / max(float(np.linalg.norm(detail.grad)), 1e-12)
        arrows.append(Arrow(tuple(detail.params), tuple(detail.params - scale * detail.grad), "#444"))
        arrows.append(Arrow(tuple(detail.params), tuple(detail.new_params), color[e.label]))
    return arrows


def contour(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, surface: Surface, entries: Sequence[RaceEntry],
            minima: Minima, start: tuple[float, float], step: int, view_key: str) -> dict:
    """The contour map with every path, the minima, the start and the inspected step's arrows."""
    return contour_spec(xs, ys, Z, paths=paths(entries), minima=minima.points, log_scale=surface.log_scale,
                        min_value=minima.value, start=start, view_key=view_key, minimum_label=minima.words,
                        arrows=step_arrows(entries, step, float(xs[-1] - xs[0])))


def with_lr_scrubber(spec: dict, entries: Sequence[RaceEntry], frames: np.ndarray) -> dict:
    """``spec`` (the contour map) with a scrubber over every racer's learning rate times each multiplier.

    ``frames`` is :func:`lossviz.lessons.explorer.lr_frames` (racers, M, T+1, 2). The divergence and exit
    marks belong to the exact rates and are hidden while another multiple is shown.
    """
    labels = [e.label for e in entries]
    lines = [i for i, t in enumerate(spec["data"]) if t.get("mode") == "lines" and t.get("name") in labels]
    marks = [i for i, t in enumerate(spec["data"]) if t.get("mode") == "markers+text" and t.get("legendgroup") in labels]
    positions = [[{"x": frames[r, m, :, 0], "y": frames[r, m, :, 1]} for r in range(len(entries))]
                 for m in range(frames.shape[1])]
    active = int(np.argmin(np.abs(np.log(LR_MULTIPLIERS[: frames.shape[1]]))))
    values = [f"× {factor:.3g} each lr" for factor in LR_MULTIPLIERS[: frames.shape[1]]]
    return spec | {"lossviz_scrub": scrubber("learning rates", values, active, lines, positions, marks)}


def surface3d(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, surface: Surface, entries: Sequence[RaceEntry],
              minima: Minima, view_key: str) -> dict:
    """The same race in 3-D, in the surface's own box."""
    return surface_spec(xs, ys, Z, paths=paths(entries), minima=minima.points, min_value=minima.value,
                        log_scale=surface.log_scale, view_key=view_key)


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
    with this step's numbers; torch's indexing (the update number t = step + 1)."""
    d = entry.inspect(min(step, entry.trajectory.n_steps - 1))
    t = d.step + 1
    lines = [entry.optimizer.latex,
             r"g_{%d} = \nabla f(\theta_{%d}) = " % (t, t - 1) + inspector.vector_latex(d.grad)
             + r",\quad \gamma = " + inspector.number_latex(d.lr)]
    lines += [r"\texttt{%s} = " % name.replace("_", r"\_") + inspector.vector_latex(value)
              for name, value in d.state.items() if name != "step"]
    lines.append(inspector.update_latex(entry.optimizer.name, d.step, d.params, d.new_params, d.effective_lr,
                                        d.direction))
    return r"\begin{gathered}" + r" \\[16pt] ".join(lines) + r"\end{gathered}"
