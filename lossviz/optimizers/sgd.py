"""Gradient descent with (Nesterov) momentum: ``torch.optim.SGD``."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Hyper,
    HyperLike,
    Optimizer,
    any_nonzero,
    decay_lines,
    elementwise,
    hyperparameters,
    lr_row,
    make_optimizer,
    spec_row,
    weight_decay_row,
)


class SGDState(NamedTuple):
    """``momentum_buffer`` (R, d) is ``None`` when momentum is 0 (torch keeps none either)."""

    step: int
    momentum_buffer: np.ndarray | None



@hyperparameters(
    lr_row(),
    spec_row("momentum", "momentum (μ)", "float", low=0.0, soft=(0.0, 0.99)),
    spec_row("dampening", "dampening (τ)", "float", soft=(0.0, 0.99), advanced=True),
    weight_decay_row(),
    spec_row("nesterov", "Nesterov", "flag"),
)
def sgd(
    lr: HyperLike = 1e-3,
    momentum: HyperLike = 0.0,
    dampening: HyperLike = 0.0,
    weight_decay: HyperLike = 0.0,
    nesterov: bool = False,
) -> Optimizer:
    r"""Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    .. math::
        g_t \leftarrow \nabla f(\theta_{t-1}) + \lambda \theta_{t-1}, \quad
        b_t \leftarrow \mu b_{t-1} + (1 - \tau) g_t \ (b_1 = g_1), \quad
        \theta_t \leftarrow \theta_{t-1} - \gamma \,(g_t + \mu b_t \text{ if nesterov else } b_t)

    The first step stores the gradient itself as the buffer (no dampening), as torch does.

    Parameters
    ----------
    lr : float or ndarray (R,), >= 0
    momentum : float or ndarray (R,), >= 0
    dampening : float or ndarray (R,)
        Any finite value (torch does not restrict it).
    weight_decay : float or ndarray (R,), >= 0
        L2 penalty added to the gradient.
    nesterov : bool
        Requires momentum > 0 and dampening = 0 in every run.
    """
    lr_ = lr
    momentum_ = momentum
    dampening_ = dampening
    weight_decay_ = weight_decay
    nesterov_ = nesterov
    if nesterov_ and (np.any(np.asarray(momentum_) <= 0) or any_nonzero(dampening_)):
        raise ValueError(
            "nesterov=True requires momentum in (0, inf) and dampening = 0 in every run, "
            f"got momentum={momentum_!r}, dampening={dampening_!r}"
        )
    uses_momentum = any_nonzero(momentum_)
    decays = any_nonzero(weight_decay_)
    mu = elementwise(momentum_)
    wd = elementwise(weight_decay_)
    # torch skips the buffer where momentum is 0; a buffer weight of 1 makes b_t = g_t there exactly.
    weights = np.where(np.asarray(momentum_) == 0, 1.0, 1.0 - np.asarray(dampening_))
    buffer_weight = weights if weights.ndim == 0 else weights[:, None]
    # Without dampening (the default) every weight is 1, and 1 * g is g exactly: skip the multiply.
    dampens = bool(np.any(weights != 1.0))

    def init(params: np.ndarray) -> SGDState:
        return SGDState(0, np.zeros_like(params) if uses_momentum else None)

    def update(grad: np.ndarray, state: SGDState, params: np.ndarray, lr: Hyper):
        if decays:
            grad = grad + wd * params
        buf = state.momentum_buffer
        if uses_momentum:
            if state.step == 0:
                buf = grad.copy()
            else:
                buf = buf * mu + (buffer_weight * grad if dampens else grad)
            grad = grad + mu * buf if nesterov_ else buf
        return params - lr * grad, SGDState(state.step + 1, buf)

    def effective_lr(state: SGDState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    lines = [GRAD_LINE, *decay_lines(weight_decay_)]
    if uses_momentum:
        lines.append(r"b_t &\leftarrow \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (b_1 = g_1)")
        lines.append(r"g_t &\leftarrow g_t + \mu\, b_t" if nesterov_ else r"g_t &\leftarrow b_t")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, g_t")
    hyperparameters = {
        "lr": lr_,
        "momentum": momentum_,
        "dampening": dampening_,
        "weight_decay": weight_decay_,
        "nesterov": nesterov_,
    }
    return make_optimizer("sgd", "SGD", "SGD", lines, hyperparameters, init, update, effective_lr)


