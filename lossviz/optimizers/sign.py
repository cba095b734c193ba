"""Steps that use only the sign of a gradient (or of a momentum): Rprop, Lion, sign descent / signum.

A sign step moves every coordinate by the same amount whatever the gradient's size, so on a 2-D surface
Lion and sign descent move along a diagonal (a step of length ``lr * sqrt(2)``) every step: they ignore
how steep the surface is and feel only which way is down. Rprop instead adapts one step size per
coordinate from whether the gradient's sign flipped.

References: ``torch.optim.Rprop``; ``lion_pytorch.Lion`` (lion-pytorch 0.2.5); ``pytorch_optimizer.SignSGD``
(pytorch-optimizer 4.1.0). Each trajectory equals its reference's in float64.
"""
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
    hyperparameters,
    lerp,
    lr_row,
    make_optimizer,
    spec_row,
    weight_decay_row,
)


class RpropState(NamedTuple):
    """``prev`` (R, d): the previous gradient (zeroed where its sign flipped); ``step_size`` (R, d): the
    per-coordinate step, set to the lr of the first step and adapted after that."""

    step: int
    prev: np.ndarray
    step_size: np.ndarray


class LionState(NamedTuple):
    """``exp_avg`` (R, d): the momentum, an average of gradients with weight beta2."""

    step: int
    exp_avg: np.ndarray


class SignSGDState(NamedTuple):
    """``momentum_buffer`` (R, d), ``None`` when momentum is 0 (plain sign descent)."""

    step: int
    momentum_buffer: np.ndarray | None


@hyperparameters(
    lr_row(),
    spec_row("etas[0]", "η₋ (shrink on a sign flip)", "fraction", low=0.0, high=1.0, include_low=False,
             include_high=False),
    spec_row("etas[1]", "η₊ (growth while the sign holds)", "float", low=1.0, include_low=False,
             soft=(1.0, 3.0)),
    spec_row("step_sizes[0]", "smallest step", "float", low=0.0, soft=(0.0, 1e-3), advanced=True),
    spec_row("step_sizes[1]", "largest step", "float", low=0.0, soft=(1e-3, 100.0), advanced=True),
)
def rprop(
    lr: HyperLike = 1e-2,
    etas: tuple[HyperLike, HyperLike] = (0.5, 1.2),
    step_sizes: tuple[HyperLike, HyperLike] = (1e-6, 50.0),
) -> Optimizer:
    r"""Resilient backpropagation, as ``torch.optim.Rprop``.

    .. math::
        \eta_t^i = \begin{cases} \min(\eta_{t-1}^i \eta_+, \Gamma_{\max}) & g_{t-1}^i g_t^i > 0 \\
        \max(\eta_{t-1}^i \eta_-, \Gamma_{\min}),\ g_t^i \leftarrow 0 & g_{t-1}^i g_t^i < 0 \\
        \eta_{t-1}^i & \text{otherwise} \end{cases}, \quad
        \theta_t = \theta_{t-1} - \eta_t \odot \operatorname{sign}(g_t)

    with :math:`\eta_0 = \gamma`: the learning rate is only the first step size (as in torch, the lr of
    the first step; a schedule changes nothing after it). ``effective_lr`` is ``step_size`` and the
    direction ``sign(g_t)`` (0 where the sign just flipped).

    Parameters
    ----------
    lr : float or ndarray (R,), >= 0
    etas : pair (etaminus in (0, 1), etaplus in (1, inf)), floats or arrays (R,)
    step_sizes : pair (min, max), each >= 0 with min <= max, floats or arrays (R,)

    Examples
    --------
    >>> import numpy as np
    >>> opt = rprop(lr=0.1)
    >>> p = np.array([[1.0, -1.0]])
    >>> s = opt.init(p)
    >>> p, s = opt.update(2 * p, s, p)   # first step: lr times the sign
    >>> p, s = opt.update(2 * p, s, p)   # same signs: the step grows by etaplus
    >>> p
    array([[ 0.78, -0.78]])
    """
    lr_, (eta_minus, eta_plus), (smallest, largest) = lr, etas, step_sizes
    if np.any(np.asarray(smallest) > np.asarray(largest)):
        raise ValueError(f"step_sizes must be (min, max) with min <= max in every run, got {step_sizes!r}")
    minus, plus = col(eta_minus), col(eta_plus)
    low, high = col(smallest), col(largest)

    def init(params: np.ndarray) -> RpropState:
        return RpropState(0, np.zeros_like(params), np.zeros_like(params) + col(lr_))

    def update(grad: np.ndarray, state: RpropState, params: np.ndarray, lr: Hyper):
        # torch fills step_size with the group's lr when the first step() runs.
        step_size = np.zeros_like(params) + lr if state.step == 0 else state.step_size
        sign = np.sign(grad * state.prev)
        factor = np.where(sign > 0, plus, np.where(sign < 0, minus, 1.0))
        step_size = np.clip(step_size * factor, low, high)
        grad = np.where(factor == minus, 0.0, grad)
        return params - np.sign(grad) * step_size, RpropState(state.step + 1, grad, step_size)

    def effective_lr(state: RpropState, lr: Hyper) -> np.ndarray:
        return state.step_size

    lines = [
        GRAD_LINE,
        (r"\eta_t &\leftarrow \begin{cases} \min(\eta_{t-1}\eta_+, \Gamma_{\max}) & g_{t-1} g_t > 0 \\ "
         r"\max(\eta_{t-1}\eta_-, \Gamma_{\min}),\ g_t \leftarrow 0 & g_{t-1} g_t < 0 \\ "
         r"\eta_{t-1} & \text{otherwise} \end{cases} \quad (\eta_0 = \gamma)"),
        r"\theta_t &\leftarrow \theta_{t-1} - \eta_t \odot \operatorname{sign}(g_t)",
    ]
    hyper = {"lr": lr_, "etas": (eta_minus, eta_plus), "step_sizes": (smallest, largest)}
    return make_optimizer("rprop", "Rprop", "Rprop", lines, hyper, init, update, effective_lr)


@hyperparameters(
    lr_row(include_low=False),
    spec_row("betas[0]", "β₁ (interpolation)", "fraction", low=0.0, high=1.0),
    spec_row("betas[1]", "β₂ (momentum)", "fraction", low=0.0, high=1.0),
    weight_decay_row(),
    spec_row("decoupled_weight_decay", "decay scaled by lr / initial lr", "flag", advanced=True),
)
def lion(
    lr: HyperLike = 1e-4,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.99),
    weight_decay: HyperLike = 0.0,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    r"""Lion (evolved sign momentum, Chen et al. 2023), as ``lion_pytorch.Lion``.

    .. math::
        c_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        \theta_t = \theta_{t-1}(1 - \gamma\lambda) - \gamma \operatorname{sign}(c_t), \quad
        m_t = \beta_2 m_{t-1} + (1 - \beta_2) g_t

    Every coordinate moves by exactly ``lr`` every step (plus the decay): the sign throws the gradient's
    size away. With ``decoupled_weight_decay`` the decay is ``lr * weight_decay / lr_0`` per step, with
    ``lr_0`` this optimizer's ``lr`` (lion-pytorch's initial lr; build the optimizer with the schedule's
    base_lr when a schedule sets the rate). ``effective_lr`` is ``lr``, the direction ``sign(c_t)``.

    Parameters
    ----------
    lr : float or ndarray (R,), > 0 (lion-pytorch asserts it)
    betas : pair of float or ndarray (R,), each in [0, 1]
    weight_decay : float or ndarray (R,), >= 0
    decoupled_weight_decay : bool

    Examples
    --------
    >>> import numpy as np
    >>> opt = lion(lr=0.1)
    >>> p = np.array([[3.0, -0.01]])
    >>> p, _ = opt.update(2 * p, opt.init(p), p)   # both coordinates move by lr, whatever the slope
    >>> p
    array([[2.9 , 0.09]])
    """
    lr_, (beta1, beta2), weight_decay_, decoupled = lr, betas, weight_decay, decoupled_weight_decay
    b1, b2 = elementwise(beta1), elementwise(beta2)
    one_minus_b1, one_minus_b2 = elementwise(1 - np.asarray(beta1)), elementwise(1 - np.asarray(beta2))
    wd = col(weight_decay_) if not decoupled else col(np.asarray(weight_decay_) / np.asarray(lr_))
    if decoupled and not isinstance(wd, np.ndarray):
        wd = float(wd)

    def init(params: np.ndarray) -> LionState:
        return LionState(0, np.zeros_like(params))

    def update(grad: np.ndarray, state: LionState, params: np.ndarray, lr: Hyper):
        params = params * (1.0 - lr * wd)
        direction = np.sign(state.exp_avg * b1 + one_minus_b1 * grad)
        exp_avg = state.exp_avg * b2 + one_minus_b2 * grad
        return params - lr * direction, LionState(state.step + 1, exp_avg)

    def effective_lr(state: LionState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    lines = [GRAD_LINE]
    if any_nonzero(weight_decay_):
        factor = r"\frac{\lambda}{\gamma_0}" if decoupled else r"\lambda"
        lines.append(r"\theta_{t-1} &\leftarrow \theta_{t-1} - \gamma " + factor + r"\, \theta_{t-1}")
    lines += [
        r"c_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma \operatorname{sign}(c_t)",
        r"m_t &\leftarrow \beta_2 m_{t-1} + (1 - \beta_2)\, g_t",
    ]
    hyper = {"lr": lr_, "betas": (beta1, beta2), "weight_decay": weight_decay_,
             "decoupled_weight_decay": decoupled}
    return make_optimizer("lion", "Lion", "Lion", lines, hyper, init, update, effective_lr,
                          reference="lion_pytorch.Lion")


@hyperparameters(
    lr_row(),
    spec_row("momentum", "momentum (μ; 0 = sign descent)", "fraction", low=0.0, high=1.0,
             include_high=False),
    weight_decay_row(),
    spec_row("weight_decouple", "decoupled weight decay", "flag", advanced=True),
)
def signsgd(
    lr: HyperLike = 1e-3,
    momentum: HyperLike = 0.9,
    weight_decay: HyperLike = 0.0,
    weight_decouple: bool = True,
) -> Optimizer:
    r"""Sign descent, and with momentum signum (Bernstein et al. 2018), as ``pytorch_optimizer.SignSGD``.

    .. math::
        b_t = \mu b_{t-1} + (1 - \mu) g_t \ (b_0 = 0), \quad
        \theta_t = \theta_{t-1} - \gamma \operatorname{sign}(b_t)

    (``b_t = g_t`` when momentum is 0). The reference's default momentum is 0.9, so the default is
    signum; ``momentum=0`` gives plain sign descent. Weight decay is decoupled
    (``theta *= 1 - weight_decay * lr``) unless ``weight_decouple=False`` adds it to the gradient.
    ``effective_lr`` is ``lr``, the direction ``sign(b_t)``.

    Parameters
    ----------
    lr : float or ndarray (R,), >= 0
    momentum : float or ndarray (R,), in [0, 1)
    weight_decay : float or ndarray (R,), >= 0
    weight_decouple : bool

    Examples
    --------
    >>> import numpy as np
    >>> opt = signsgd(lr=0.1, momentum=0.0)
    >>> p = np.array([[3.0, -0.01]])
    >>> p, _ = opt.update(2 * p, opt.init(p), p)
    >>> p
    array([[2.9 , 0.09]])
    """
    lr_, momentum_, weight_decay_, decouple = lr, momentum, weight_decay, weight_decouple
    uses_momentum = any_nonzero(momentum_)
    decays = any_nonzero(weight_decay_)
    # pytorch-optimizer lerps the buffer towards the gradient with weight 1 - momentum.
    weight = col(1.0 - np.asarray(momentum_)) if isinstance(momentum_, np.ndarray) else 1.0 - momentum_
    wd = col(weight_decay_)

    def init(params: np.ndarray) -> SignSGDState:
        return SignSGDState(0, np.zeros_like(params) if uses_momentum else None)

    def update(grad: np.ndarray, state: SignSGDState, params: np.ndarray, lr: Hyper):
        if decays:
            if decouple:
                params = params * (1.0 - wd * lr)
            else:
                grad = grad + wd * params
        buf = state.momentum_buffer
        if uses_momentum:
            buf = lerp(buf, grad, weight)
            direction = np.sign(buf)
        else:
            direction = np.sign(grad)
        return params - lr * direction, SignSGDState(state.step + 1, buf)

    def effective_lr(state: SignSGDState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    lines = [GRAD_LINE, *decay_lines(weight_decay_, decouple)]
    if uses_momentum:
        lines.append(r"b_t &\leftarrow \mu\, b_{t-1} + (1 - \mu)\, g_t")
        lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma \operatorname{sign}(b_t)")
    else:
        lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma \operatorname{sign}(g_t)")
    hyper = {"lr": lr_, "momentum": momentum_, "weight_decay": weight_decay_, "weight_decouple": decouple}
    title = "Signum" if uses_momentum else "Sign descent"
    return make_optimizer("signsgd", title, "SignSGD", lines, hyper, init, update, effective_lr,
                          reference="pytorch_optimizer.SignSGD")
