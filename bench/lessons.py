"""The lesson pages' own calls as benchmark rows: each times what a page computes for one figure, exactly
as the page calls it, with its inputs built outside the timer."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lossviz import analysis, landscape, surfaces
from lossviz.lessons import learning_rate, momentum, neural_net

__all__ = ["page_cases"]


BENCH_SWEEP_LRS = 300
BENCH_SWEEP_STEPS = 200


def learning_rate_cases() -> list[tuple[str, Callable[[], Any], float | None, str]]:
    """Rows for ``python -m bench``: ``(name, work, target_seconds or None, note)``.

    ``work()`` runs the page's sweep exactly as the page calls it and returns the
    :class:`LearningRateSweep`.
    """
    quadratic = surfaces.get("quadratic", condition_number=100.0, rotation=30.0)
    start = np.array([-2.5, 2.0])
    curvature = analysis.reference_curvature(quadratic, start)

    def sweep() -> learning_rate.LearningRateSweep:
        return learning_rate.learning_rate_sweep(quadratic, start, BENCH_SWEEP_STEPS, n_lrs=BENCH_SWEEP_LRS,
                                   curvature=curvature)

    note = (f"learning_rate_sweep: one run call, {BENCH_SWEEP_LRS} SGD learning rates log-spaced over "
            f"[1e-3, 1.5] x 2/lambda_max on the quadratic (kappa 100), {BENCH_SWEEP_STEPS} steps, plus the "
            "closed-form prediction")
    return [(f"lr sweep: {BENCH_SWEEP_LRS} learning rates x {BENCH_SWEEP_STEPS} steps", sweep, 0.25, note)]


BENCH_SIDE = 64
BENCH_STEPS = 300


def momentum_cases() -> list[tuple[str, Callable[[], Any], float | None, str]]:
    """Rows for ``python -m bench``: ``(name, work, target_seconds or None, note)``.

    ``work()`` computes the page's default phase map and returns the :class:`PhaseMap`.
    """
    quadratic = surfaces.get("quadratic", condition_number=100.0, rotation=30.0)
    start = np.array([-2.5, 2.0])
    curvature = analysis.reference_curvature(quadratic, start)

    def work() -> momentum.PhaseMap:
        return momentum.phase_map(quadratic, start, BENCH_STEPS, n_lr=BENCH_SIDE, n_momentum=BENCH_SIDE,
                         curvature=curvature)

    note = (f"phase_map: one run call of {BENCH_SIDE * BENCH_SIDE:,} heavy-ball SGD runs (per-run lr and "
            f"momentum arrays) on the quadratic (kappa 100), {BENCH_STEPS} steps with a gradient tolerance, "
            "then steps to tolerance, final loss and divergence per cell")
    return [(f"momentum phase map: {BENCH_SIDE}x{BENCH_SIDE} cells x {BENCH_STEPS} steps", work, 0.5, note)]


BENCH_SAMPLES = 1000
BENCH_HIDDEN = (32, 32)


def _bench_slice(resolution: int) -> Callable[[], np.ndarray]:
    model, _ = neural_net.build_model("moons", n_samples=BENCH_SAMPLES, noise=0.1, hidden=BENCH_HIDDEN)
    theta = model.init_params(seed=0)
    directions = landscape.filter_normalized_directions(model, theta, 2, seed=1)
    xs, ys = landscape.slice_axes(1.0, resolution)

    def work() -> np.ndarray:
        return landscape.loss_slice(model, theta, directions, xs, ys)

    return work


def neural_net_cases() -> list[tuple[str, Callable[[], Any], float | None, str]]:
    """Timed cases for ``python -m bench``: ``(name, work, target_seconds or None, note)``.

    The inputs (data, model, directions) are built when this is called, outside any timer; ``work()`` is
    the figure's computation and returns the grid (ny, nx).
    """
    note = (f"MLP 2-32-32-2 (tanh, softmax cross-entropy, d = 1,218) on the {BENCH_SAMPLES:,}-sample moons "
            "data: lossviz.landscape.loss_slice around theta along two filter-normalized directions, "
            "through MLP.f_affine's float32 grid path (batched np.matmul per chunk of grid points, two "
            "threads). About 1.2e10 multiply-adds and 6.5e8 tanh for 101x101: some 0.6 s of CPU here (the "
            "32 x 33 products at OpenBLAS's single-core peak and the tanh at 0.4 ns each), so the 0.5 s "
            "target is met only while both cores are mostly free.")
    return [
        ("nn slice 2-32-32-2, 1,000 samples, 101x101", _bench_slice(101), 0.5, note),
        ("nn slice 2-32-32-2, 1,000 samples, 51x51 (page default)", _bench_slice(51), None, note),
    ]


def page_cases() -> list[tuple[str, list[tuple[str, Callable[[], Any], float | None, str]]]]:
    """``(figure letter, rows)`` for every page whose own call is benchmarked."""
    return [("e", neural_net_cases()), ("g", learning_rate_cases()), ("g", momentum_cases())]
