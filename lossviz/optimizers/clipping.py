"""Gradient clipping that composes with any optimizer, as optax chains it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from lossviz._validation import check_per_run
from lossviz.optimizers._core import GRAD_LINE, Hyper, HyperLike, Optimizer, col


class ClippedObjective:
    """An objective whose gradients pass through ``clip`` first: what an optimizer that evaluates the
    objective during its step (L-BFGS, SAM) sees when it is clipped, so every gradient it uses is clipped,
    as torch's closure would clip after each ``backward()``. Values and Hessians are left alone."""

    def __init__(self, objective: Any, clip: Callable[[np.ndarray], np.ndarray]) -> None:
        self._objective = objective
        self._clip = clip

    def grad(self, points: np.ndarray) -> np.ndarray:
        return self._clip(self._objective.grad(points))

    def value_and_grad(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, gradient = self._objective.value_and_grad(points)
        return value, self._clip(gradient)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._objective, name)


def _clipped(
    optimizer: Optimizer,
    key: str,
    bound: Hyper,
    line: str,
    title: str,
    clip: Callable[[np.ndarray], np.ndarray],
) -> Optimizer:
    """``optimizer`` with ``clip`` applied to the raw gradient first; ``bound`` recorded under ``key``."""
    if key in optimizer.hyperparameters:
        raise ValueError(f"the optimizer is already clipped ({key}={optimizer.hyperparameters[key]!r})")
    inner_update = optimizer._update

    if "objective" in optimizer.needs:
        def update(grad: np.ndarray, state: Any, params: np.ndarray, lr: Hyper, **context: Any):
            context["objective"] = ClippedObjective(context["objective"], clip)
            return inner_update(clip(grad), state, params, lr, **context)
    else:
        def update(grad: np.ndarray, state: Any, params: np.ndarray, lr: Hyper, **context: Any):
            return inner_update(clip(grad), state, params, lr, **context)

    bound_runs = bound.shape[0] if isinstance(bound, np.ndarray) else None
    if None not in (bound_runs, optimizer.n_runs) and bound_runs != optimizer.n_runs:
        raise ValueError(
            f"{key} has {bound_runs} values but the optimizer's per-run hyperparameters have "
            f"R = {optimizer.n_runs}"
        )
    return replace(
        optimizer,
        title=f"{optimizer.title} + {title}",
        latex=optimizer.latex.replace(GRAD_LINE, GRAD_LINE + r" \\ " + line, 1),
        hyperparameters={**optimizer.hyperparameters, key: bound},
        n_runs=optimizer.n_runs if optimizer.n_runs is not None else bound_runs,
        _update=update,
    )


def clip_by_norm(optimizer: Optimizer, max_norm: HyperLike) -> Optimizer:
    r"""Scale each run's gradient to norm at most ``max_norm`` before ``optimizer``'s step.

    As ``torch.nn.utils.clip_grad_norm_`` over all of a run's parameters (the raw gradient, before weight
    decay):

    .. math::
        g \leftarrow g \cdot \min\left(1, \frac{c}{\lVert g \rVert_2 + 10^{-6}}\right)

    Parameters
    ----------
    optimizer : Optimizer
    max_norm : float or ndarray (R,), > 0
        (torch accepts any value; a norm bound <= 0 would flip or erase the gradient, so it is refused.)

    Returns
    -------
    Optimizer
        Same name, state and interface; ``hyperparameters["clip_norm"] = max_norm``.
    """
    bound = check_per_run(max_norm, "max_norm", low=0.0, include_low=False)
    bound_col = col(bound)

    def clip(grad: np.ndarray) -> np.ndarray:
        norm = np.sqrt(np.einsum("ij,ij->i", grad, grad))[:, None]
        return grad * np.minimum(bound_col / (norm + 1e-6), 1.0)

    line = r"g_t &\leftarrow g_t \cdot \min\left(1, \frac{c}{\lVert g_t \rVert_2 + 10^{-6}}\right)"
    return _clipped(optimizer, "clip_norm", bound, line, "norm clipping", clip)


def clip_by_value(optimizer: Optimizer, clip_value: HyperLike) -> Optimizer:
    r"""Clamp every gradient coordinate to ``[-clip_value, clip_value]`` before ``optimizer``'s step.

    As ``torch.nn.utils.clip_grad_value_``:

    .. math::
        g \leftarrow \min(\max(g, -c), c)

    Parameters
    ----------
    optimizer : Optimizer
    clip_value : float or ndarray (R,), > 0

    Returns
    -------
    Optimizer
        Same name, state and interface; ``hyperparameters["clip_value"] = clip_value``.
    """
    bound = check_per_run(clip_value, "clip_value", low=0.0, include_low=False)
    bound_col = col(bound)
    negative_bound = -bound_col

    def clip(grad: np.ndarray) -> np.ndarray:
        return np.clip(grad, negative_bound, bound_col)

    line = r"g_t &\leftarrow \min(\max(g_t, -c), c)"
    return _clipped(optimizer, "clip_value", bound, line, "value clipping", clip)


