"""Figures of the Batch size page: paths per batch size, the gradient cloud, the noise ball, its scaling.

Lesson results in, figure specs out (plain dicts drawn by live charts; never streamlit). Covariances are
drawn as 2-sigma ellipses: a Gaussian with that covariance puts about 86% of its mass inside. ``names``
(the two parameters) arrive as the page escaped them for Plotly's labels.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lossviz.lessons.batch_size import BATCH_OPTIONS, GradientCloud, NoiseBall, PathsView, label
from lossviz.viz.landscape import (
    MINIMUM_COLOR, PALETTE, Path, contour_spec, curves_spec, equal_axes, play_below_axis_title, scrubber,
    start_ring, translucent,
)

__all__ = ["ellipse", "batch_colors", "paths_map", "loss_curves", "cloud_chart", "ball_map", "scaling_chart",
           "FULL_BATCH_COLOR", "SCRUB_COLOR"]

FULL_BATCH_COLOR = "#111111"
# The scrubbed path: a colour no chosen batch size takes (at most four take PALETTE[0:4]).
SCRUB_COLOR = PALETTE[4]
MAX_CLOUD_POINTS = 600
MAX_BALL_POINTS = 1500
MINIMUM = "minimum of the full loss"


def ellipse(center: Sequence[float], covariance: np.ndarray, k: float = 2.0, n: int = 120) -> np.ndarray:
    """Points ``(n, 2)`` of the ellipse ``(x - c)^T C^{-1} (x - c) = k^2`` (NaN if C is not finite)."""
    cov = np.asarray(covariance, dtype=float)
    if not np.all(np.isfinite(cov)):
        return np.full((n, 2), np.nan)
    values, vectors = np.linalg.eigh(0.5 * (cov + cov.T))
    angles = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.asarray(center, dtype=float) + k * (circle * np.sqrt(np.maximum(values, 0.0))) @ vectors.T


def batch_colors(batch_sizes: Sequence[int]) -> dict[int, str]:
    """One palette colour per batch size, in the order given."""
    return {int(b): PALETTE[i % len(PALETTE)] for i, b in enumerate(batch_sizes)}


def _axes(spec: dict, names: Sequence[str], prefix: str = "") -> dict:
    return equal_axes(spec, f"{prefix}{names[0]}", f"{prefix}{names[1]}")


def _color(size: int | None, colors: dict[int, str]) -> str:
    return FULL_BATCH_COLOR if size is None else colors[size]


def paths_map(view: PathsView, sizes: Sequence[int], colors: dict[int, str], *, minimum: np.ndarray,
              names: Sequence[str], f_star: float, height: int = 520) -> dict:
    """The full loss's contour map with SGD's path at each chosen batch size and gradient descent's
    (Play replays them), and a scrubber over every batch size the page offers: away from "your batch
    sizes" it shows that size's path alone beside gradient descent."""
    chosen = [*sizes, None]
    paths = [Path(label(b), _color(b, colors), t.params, t.loss, int(t.diverged_at))
             for b, t in ((b, view.path(b)) for b in chosen)]
    start = tuple(float(v) for v in view.sweep.params[0, 0])
    spec = contour_spec(view.xs, view.ys, view.Z, paths=paths, minima=np.asarray(minimum)[None], start=start,
                        height=height, minimum_label=MINIMUM)
    spec["data"][0]["colorbar"]["title"]["text"] = "full-batch loss"
    hide = [i for i, t in enumerate(spec["data"]) if t.get("legendgroup") in {label(b) for b in sizes}]
    spec["data"].append({"type": "scatter", "x": np.empty(0), "y": np.empty(0), "mode": "lines",
                         "name": "B on the slider", "line": {"color": SCRUB_COLOR, "width": 2.5},
                         "hovertemplate": "(%{x:.4g}, %{y:.4g})<extra></extra>"})
    steps = view.sweep.params.shape[1] - 1
    params = view.sweep.params
    positions = [[{"x": np.empty(0), "y": np.empty(0)}]] + [
        [{"x": params[r, :, 0], "y": params[r, :, 1]}] for r in range(len(BATCH_OPTIONS))]
    # A diverged run has no last loss to give (NaN); rounding can put a converged one a hair below f_star.
    values = [f"your batch sizes ({', '.join(map(str, sizes))})"] + [
        f"B = {b}: diverged at step {int(view.sweep.diverged_at[r])}" if view.sweep.diverged_at[r] >= 0
        else f"B = {b}: loss − min {max(float(view.sweep.loss[r, -1] - f_star), 0.0):.3g} after {steps} steps"
        for r, b in enumerate(BATCH_OPTIONS)]
    # Play's heads (layout shapes, one per path in order): the chosen sizes' are hidden away from "your
    # batch sizes", where the slider's path has its own (hidden at that position, which has no such path).
    head = {**spec["layout"]["shapes"][0], "fillcolor": SCRUB_COLOR, "visible": False}
    for layout in [spec["layout"], *(frame["layout"] for frame in spec.get("frames", []))]:
        layout["shapes"].append(dict(head))
    spec["lossviz_scrub"] = scrubber("batch size", values, 0, [len(spec["data"]) - 1], positions, hide,
                                     heads=[(len(paths), 0)], hide_shapes=range(len(sizes)))
    return play_below_axis_title(start_ring(_axes(spec, names)))


def loss_curves(view: PathsView, sizes: Sequence[int], colors: dict[int, str], *, f_star: float,
                height: int = 520) -> dict:
    """Loss above the minimum against the step, one line per chosen batch size and gradient descent."""
    return curves_spec([(label(b), _color(b, colors), view.path(b).loss - f_star) for b in [*sizes, None]],
                       ylabel="loss − minimum", height=height)


def cloud_chart(clouds: Sequence[GradientCloud], colors: dict[int, str], names: Sequence[str],
                height: int = 480) -> dict:
    """Mini-batch gradients as points in gradient space, one colour per batch size, with the theory's
    2-sigma ellipse around the full gradient (a star)."""
    data: list[dict] = []
    for cloud in clouds:
        color, name = colors[cloud.batch_size], label(cloud.batch_size)
        shown = cloud.grads[:MAX_CLOUD_POINTS]
        ring = ellipse(cloud.full_grad, cloud.predicted_covariance)
        data += [
            {"type": "scatter", "x": shown[:, 0], "y": shown[:, 1], "mode": "markers",
             "name": f"{name}: mini-batch gradients", "legendgroup": name,
             "marker": {"color": translucent(color, 0.45), "size": 5},
             "hovertemplate": f"{name}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>"},
            {"type": "scatter", "x": ring[:, 0], "y": ring[:, 1], "mode": "lines",
             "name": f"{name}: theory, 2σ", "legendgroup": name, "line": {"color": color, "width": 2.5},
             "hoverinfo": "skip"},
        ]
    if clouds:
        g = clouds[0].full_grad
        data.append({"type": "scatter", "x": g[:1], "y": g[1:2], "mode": "markers",
                     "name": "full-batch gradient",
                     "marker": {"symbol": "star", "size": 13, "color": "white",
                                "line": {"color": MINIMUM_COLOR, "width": 2}},
                     "hovertemplate": "full gradient (%{x:.3g}, %{y:.3g})<extra></extra>"})
    layout = {"height": height, "template": "none", "margin": {"l": 70, "r": 20, "t": 30, "b": 50},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}}
    return _axes({"data": data, "layout": layout}, names, prefix="∂L/∂")


def ball_map(xs: np.ndarray, ys: np.ndarray, Z: np.ndarray, balls: Sequence[NoiseBall],
             colors: dict[int, str], *, minimum: np.ndarray, names: Sequence[str], height: int = 480) -> dict:
    """Where SGD wanders after the burn-in, one colour per batch size, on a zoomed contour of the full
    loss, with the theory's 2-sigma ellipse of the stationary second moment (absent when unstable)."""
    spec = contour_spec(xs, ys, Z, animate=False, height=height)
    spec["data"][0]["colorbar"]["title"]["text"] = "full-batch loss"
    for ball in balls:
        color, name = colors[ball.batch_size], label(ball.batch_size)
        shown = ball.samples[::max(1, len(ball.samples) // MAX_BALL_POINTS)]
        spec["data"].append({"type": "scatter", "x": shown[:, 0], "y": shown[:, 1], "mode": "markers",
                             "name": f"{name}: iterates", "legendgroup": name, "hoverinfo": "skip",
                             "marker": {"color": translucent(color, 0.5), "size": 4}})
        ring = ellipse(minimum, ball.predicted)
        if np.all(np.isfinite(ring)):
            spec["data"].append({"type": "scatter", "x": ring[:, 0], "y": ring[:, 1], "mode": "lines",
                                 "name": f"{name}: theory, 2σ", "legendgroup": name, "hoverinfo": "skip",
                                 "line": {"color": color, "width": 3}})
    # The star on top of the clouds, small enough not to hide the smallest ball.
    point = np.asarray(minimum, dtype=float)
    spec["data"].append({"type": "scatter", "x": point[:1], "y": point[1:2], "mode": "markers",
                         "name": MINIMUM,
                         "marker": {"symbol": "star", "size": 10, "color": "white",
                                    "line": {"color": MINIMUM_COLOR, "width": 1.5}},
                         "hovertemplate": MINIMUM + " (%{x:.4g}, %{y:.4g})<extra></extra>"})
    if not any(np.all(np.isfinite(ball.samples), axis=1).any() for ball in balls if len(ball.samples)):
        _say(spec, "Every run diverged at this learning rate: no iterates to show.<br>"
                   "Lower the learning rate.")
    return _axes(spec, names)


def _say(spec: dict, words: str) -> None:
    """A note in the middle of an empty chart, saying why it is empty."""
    spec["layout"].setdefault("annotations", []).append(
        {"text": words, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
         "font": {"size": 14, "color": "#333"}, "bgcolor": "rgba(255,255,255,0.85)"})


def scaling_chart(sweep: pd.DataFrame, colors: dict[int, str], height: int = 480) -> dict:
    """Mean excess loss of the noise ball against lr / B on log-log axes: measured (dots) and theory
    (lines), one colour per batch size; runs that diverged or are unstable are left out."""
    data: list[dict] = []
    for size, rows in sweep.groupby("batch_size", sort=True):
        color, name = colors.get(int(size), "#555"), label(int(size))
        ok = rows[~rows["diverged"]]
        finite = rows[np.isfinite(rows["predicted_excess_loss"])].sort_values("lr_over_batch")
        data += [
            {"type": "scatter", "x": ok["lr_over_batch"].to_numpy(), "y": ok["excess_loss"].to_numpy(),
             "mode": "markers", "name": f"{name}: measured", "legendgroup": str(size),
             "marker": {"color": color, "size": 11, "line": {"color": "white", "width": 1}},
             "customdata": ok[["lr"]].to_numpy(),
             "hovertemplate": f"{name}, lr = %{{customdata[0]:.3g}}<br>lr/B = %{{x:.3g}}<br>"
                              "excess loss %{y:.3g}<extra></extra>"},
            {"type": "scatter", "x": finite["lr_over_batch"].to_numpy(),
             "y": finite["predicted_excess_loss"].to_numpy(), "mode": "lines", "name": f"{name}: theory",
             "legendgroup": str(size), "line": {"color": color, "width": 2, "dash": "dot"},
             "hovertemplate": "theory %{y:.3g}<extra></extra>"},
        ]
    layout = {
        "height": height, "template": "none", "margin": {"l": 80, "r": 20, "t": 30, "b": 60},
        "xaxis": {"title": {"text": "learning rate / batch size (log scale)"}, "type": "log",
                  "exponentformat": "power"},
        "yaxis": {"title": {"text": "mean loss above the minimum (log scale)"}, "type": "log",
                  "exponentformat": "power"},
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    }
    spec = {"data": data, "layout": layout}
    if sweep.empty or bool(sweep["diverged"].all()):
        _say(spec, "Every run of the sweep diverged: no noise ball to measure.")
    return spec
