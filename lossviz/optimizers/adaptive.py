"""Per-coordinate step sizes from gradient statistics: Adagrad, RMSprop, Adadelta (torch.optim)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Hyper,
    HyperLike,
    Optimizer,
    any_nonzero,
    col,
    decay_lines,
    elementwise,
    eps_row,
    hyperparameters,
    lr_row,
    make_optimizer,
    spec_row,
    weight_decay_row,
)


class AdagradState(NamedTuple):
    """``sum`` (R, d): running sum of squared gradients, starting at ``initial_accumulator_value``."""

    step: int
    sum: np.ndarray


class RMSpropState(NamedTuple):
    """``square_avg`` (R, d); ``momentum_buffer`` only with momentum, ``grad_avg`` only when centered."""

    step: int
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None
    grad_avg: np.ndarray | None


class AdadeltaState(NamedTuple):
    """``square_avg`` (R, d): average of g^2; ``acc_delta`` (R, d): average of squared updates."""

    step: int
    square_avg: np.ndarray
    acc_delta: np.ndarray



@hyperparameters(
    lr_row(),
    spec_row("lr_decay", "lr decay (η)", "float", low=0.0, soft=(0.0, 1.0)),
    weight_decay_row(),
    spec_row("initial_accumulator_value", "initial accumulator (s₀)", "float", low=0.0, soft=(0.0, 1.0),
             advanced=True),
    eps_row(),
)
def adagrad(
    lr: HyperLike = 1e-2,
    lr_decay: HyperLike = 0.0,
    weight_decay: HyperLike = 0.0,
    initial_accumulator_value: HyperLike = 0.0,
    eps: HyperLike = 1e-10,
) -> Optimizer:
    r"""Adagrad, as ``torch.optim.Adagrad``.

    .. math::
        \tilde\gamma_t = \frac{\gamma}{1 + (t - 1)\eta}, \quad s_t = s_{t-1} + g_t^2, \quad
        \theta_t = \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    with :math:`\eta` = ``lr_decay`` and :math:`s_0` = ``initial_accumulator_value``.

    Parameters
    ----------
    lr, lr_decay, weight_decay, initial_accumulator_value, eps : float or ndarray (R,), all >= 0
    """
    lr_ = lr
    lr_decay_ = lr_decay
    weight_decay_ = weight_decay
    initial_ = initial_accumulator_value
    eps_ = eps
    decays = any_nonzero(weight_decay_)
    wd, s0, eps_c = elementwise(weight_decay_), elementwise(initial_), elementwise(eps_)
    eta = col(lr_decay_)

    def init(params: np.ndarray) -> AdagradState:
        return AdagradState(0, np.zeros_like(params) + s0)

    def update(grad: np.ndarray, state: AdagradState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        if decays:
            grad = grad + wd * params
        clr = lr / (1 + (step - 1) * eta)
        accumulated = state.sum + grad * grad
        std = np.sqrt(accumulated) + eps_c
        return params - clr * grad / std, AdagradState(step, accumulated)

    def effective_lr(state: AdagradState, lr: Hyper) -> np.ndarray:
        clr = lr / (1 + (max(state.step, 1) - 1) * eta)
        return clr / (np.sqrt(state.sum) + eps_c)

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_),
        r"\tilde\gamma_t &\leftarrow \frac{\gamma}{1 + (t - 1)\,\eta}",
        r"s_t &\leftarrow s_{t-1} + g_t^2 \quad (s_0 = \text{initial\_accumulator\_value})",
        r"\theta_t &\leftarrow \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}",
    ]
    hyperparameters = {
        "lr": lr_,
        "lr_decay": lr_decay_,
        "weight_decay": weight_decay_,
        "initial_accumulator_value": initial_,
        "eps": eps_,
    }
    return make_optimizer("adagrad", "Adagrad", "Adagrad", lines, hyperparameters, init, update, effective_lr)


@hyperparameters(
    lr_row(),
    spec_row("alpha", "α (square average decay)", "float", low=0.0, soft=(0.0, 0.999)),
    eps_row(),
    weight_decay_row(),
    spec_row("momentum", "momentum (μ)", "float", low=0.0, soft=(0.0, 0.99)),
    spec_row("centered", "centered", "flag"),
)
def rmsprop(
    lr: HyperLike = 1e-2,
    alpha: HyperLike = 0.99,
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
    momentum: HyperLike = 0.0,
    centered: bool = False,
) -> Optimizer:
    r"""RMSprop, as ``torch.optim.RMSprop`` (eps added outside the square root).

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \quad
        \tilde v_t = v_t - \bar g_t^2 \text{ if centered}, \quad
        b_t = \mu b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}, \quad
        \theta_t = \theta_{t-1} - \gamma b_t

    with :math:`\bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t`; without momentum
    :math:`\theta_t = \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon)`.

    Parameters
    ----------
    lr, alpha, eps, weight_decay, momentum : float or ndarray (R,), all >= 0
    centered : bool
        Normalize by the variance estimate instead of the raw second moment.
    """
    lr_ = lr
    alpha_ = alpha
    eps_ = eps
    weight_decay_ = weight_decay
    momentum_ = momentum
    centered_ = centered
    decays = any_nonzero(weight_decay_)
    uses_momentum = any_nonzero(momentum_)
    a, eps_c, wd, mu = (elementwise(x) for x in (alpha_, eps_, weight_decay_, momentum_))
    one_minus_a = elementwise(1 - alpha_)

    def init(params: np.ndarray) -> RMSpropState:
        zeros = np.zeros_like(params)
        return RMSpropState(
            0, zeros, zeros.copy() if uses_momentum else None, zeros.copy() if centered_ else None
        )

    def update(grad: np.ndarray, state: RMSpropState, params: np.ndarray, lr: Hyper):
        if decays:
            grad = grad + wd * params
        square_avg = state.square_avg * a + one_minus_a * grad * grad
        grad_avg = state.grad_avg
        if centered_:
            grad_avg = grad_avg + one_minus_a * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps_c
        else:
            avg = np.sqrt(square_avg) + eps_c
        buf = state.momentum_buffer
        if uses_momentum:
            buf = buf * mu + grad / avg
            new_params = params - lr * buf
        else:
            new_params = params - lr * grad / avg
        return new_params, RMSpropState(state.step + 1, square_avg, buf, grad_avg)

    def effective_lr(state: RMSpropState, lr: Hyper) -> np.ndarray:
        variance = state.square_avg
        if centered_:
            variance = variance - state.grad_avg * state.grad_avg
        return lr / (np.sqrt(variance) + eps_c)

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_),
        r"v_t &\leftarrow \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2",
    ]
    if centered_:
        lines.append(r"\bar g_t &\leftarrow \alpha\, \bar g_{t-1} + (1 - \alpha)\, g_t")
        lines.append(r"\tilde v_t &\leftarrow v_t - \bar g_t^2")
    else:
        lines.append(r"\tilde v_t &\leftarrow v_t")
    if uses_momentum:
        lines.append(r"b_t &\leftarrow \mu\, b_{t-1} + \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}")
        lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, b_t")
    else:
        lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma \frac{g_t}{\sqrt{\tilde v_t} + \epsilon}")
    hyperparameters = {
        "lr": lr_,
        "alpha": alpha_,
        "eps": eps_,
        "weight_decay": weight_decay_,
        "momentum": momentum_,
        "centered": centered_,
    }
    return make_optimizer("rmsprop", "RMSprop", "RMSprop", lines, hyperparameters, init, update, effective_lr)


@hyperparameters(
    lr_row(),
    spec_row("rho", "ρ (average decay)", "fraction", low=0.0, high=1.0),
    eps_row(),
    weight_decay_row(),
)
def adadelta(
    lr: HyperLike = 1.0,
    rho: HyperLike = 0.9,
    eps: HyperLike = 1e-6,
    weight_decay: HyperLike = 0.0,
) -> Optimizer:
    r"""Adadelta, as ``torch.optim.Adadelta`` (which keeps a learning rate, default 1).

    .. math::
        v_t = \rho v_{t-1} + (1 - \rho) g_t^2, \quad
        \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t, \quad
        u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2, \quad \theta_t = \theta_{t-1} - \gamma \Delta_t

    Parameters
    ----------
    lr, eps, weight_decay : float or ndarray (R,), >= 0
    rho : float or ndarray (R,), in [0, 1]
    """
    lr_ = lr
    rho_ = rho
    eps_ = eps
    weight_decay_ = weight_decay
    decays = any_nonzero(weight_decay_)
    r, eps_c, wd = elementwise(rho_), elementwise(eps_), elementwise(weight_decay_)
    one_minus_r = elementwise(1 - rho_)

    def init(params: np.ndarray) -> AdadeltaState:
        return AdadeltaState(0, np.zeros_like(params), np.zeros_like(params))

    def update(grad: np.ndarray, state: AdadeltaState, params: np.ndarray, lr: Hyper):
        if decays:
            grad = grad + wd * params
        square_avg = state.square_avg * r + one_minus_r * grad * grad
        std = np.sqrt(square_avg + eps_c)
        delta = np.sqrt(state.acc_delta + eps_c) / std * grad
        acc_delta = state.acc_delta * r + one_minus_r * delta * delta
        return params - lr * delta, AdadeltaState(state.step + 1, square_avg, acc_delta)

    def effective_lr(state: AdadeltaState, lr: Hyper) -> np.ndarray:
        return lr * np.sqrt(state.acc_delta + eps_c) / np.sqrt(state.square_avg + eps_c)

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_),
        r"v_t &\leftarrow \rho\, v_{t-1} + (1 - \rho)\, g_t^2",
        r"\Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t",
        r"u_t &\leftarrow \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, \Delta_t",
    ]
    hyperparameters = {"lr": lr_, "rho": rho_, "eps": eps_, "weight_decay": weight_decay_}
    return make_optimizer("adadelta", "Adadelta", "Adadelta", lines, hyperparameters, init, update,
                          effective_lr)


