"""Adam and its relatives: Adam, AdamW, NAdam, RAdam, Adamax (torch.optim)."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    ADAM_MOMENT_LINES,
    GRAD_LINE,
    Hyper,
    HyperLike,
    Optimizer,
    any_nonzero,
    beta_rows,
    col,
    decay_lines,
    elementwise,
    eps_row,
    hyperparameters,
    lr_row,
    make_optimizer,
    powers,
    spec_row,
    weight_decay_row,
)


class AdamState(NamedTuple):
    """First and second moments (R, d); ``max_exp_avg_sq`` only with amsgrad."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray | None


class NAdamState(NamedTuple):
    """Moments (R, d) and ``mu_product`` (R,), the product of the momentum schedule mu_1 ... mu_t."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    mu_product: np.ndarray


class RAdamState(NamedTuple):
    """First and second moments (R, d)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class AdamaxState(NamedTuple):
    """First moment ``exp_avg`` and exponentially weighted infinity norm ``exp_inf``, both (R, d)."""

    step: int
    exp_avg: np.ndarray
    exp_inf: np.ndarray



def _adam_family(
    name: str,
    title: str,
    lr: HyperLike,
    betas: tuple[HyperLike, HyperLike],
    eps: HyperLike,
    weight_decay: HyperLike,
    amsgrad: bool,
    decoupled_weight_decay: bool,
) -> Optimizer:
    lr_ = lr
    beta1, beta2 = betas
    eps_ = eps
    weight_decay_ = weight_decay
    amsgrad_ = amsgrad
    decoupled = decoupled_weight_decay
    decays = any_nonzero(weight_decay_)
    b1, b2, wd = col(beta1), col(beta2), col(weight_decay_)
    b2_e, eps_e, wd_e = elementwise(beta2), elementwise(eps_), elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = elementwise(1 - beta1), elementwise(1 - beta2)
    b1_power, b2_power = powers(b1), powers(b2)

    def init(params: np.ndarray) -> AdamState:
        zeros = np.zeros_like(params)
        return AdamState(0, zeros, zeros.copy(), zeros.copy() if amsgrad_ else None)

    def update(grad: np.ndarray, state: AdamState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        if decays:
            if decoupled:
                params = params * (1 - lr * wd)
            else:
                grad = grad + wd_e * params
        exp_avg = state.exp_avg + one_minus_b1 * (grad - state.exp_avg)
        exp_avg_sq = state.exp_avg_sq * b2_e + one_minus_b2 * grad * grad
        step_size = lr / (1 - b1_power(step))
        bias_correction2_sqrt = (1 - b2_power(step)) ** 0.5
        max_exp_avg_sq = state.max_exp_avg_sq
        if amsgrad_:
            max_exp_avg_sq = np.maximum(max_exp_avg_sq, exp_avg_sq)
            denom = np.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps_e
        else:
            denom = np.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps_e
        new_state = AdamState(step, exp_avg, exp_avg_sq, max_exp_avg_sq)
        return params - step_size * exp_avg / denom, new_state

    def effective_lr(state: AdamState, lr: Hyper) -> np.ndarray:
        second = state.max_exp_avg_sq if amsgrad_ else state.exp_avg_sq
        bias_correction2_sqrt = (1 - b2_power(max(state.step, 1))) ** 0.5
        return lr / (np.sqrt(second) / bias_correction2_sqrt + eps_e)

    lines = [GRAD_LINE, *decay_lines(weight_decay_, decoupled), *ADAM_MOMENT_LINES]
    lines.append(r"\hat m_t &\leftarrow m_t / (1 - \beta_1^t)")
    if amsgrad_:
        lines.append(r"v_t^{\max} &\leftarrow \max(v_{t-1}^{\max}, v_t)")
        lines.append(r"\hat v_t &\leftarrow v_t^{\max} / (1 - \beta_2^t)")
    else:
        lines.append(r"\hat v_t &\leftarrow v_t / (1 - \beta_2^t)")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}")
    hyperparameters: dict[str, Any] = {
        "lr": lr_, "betas": (beta1, beta2), "eps": eps_, "weight_decay": weight_decay_, "amsgrad": amsgrad_
    }
    if name == "adam":
        hyperparameters["decoupled_weight_decay"] = decoupled
    torch_name = "AdamW" if name == "adamw" else "Adam"
    return make_optimizer(name, title, torch_name, lines, hyperparameters, init, update, effective_lr)


@hyperparameters(
    lr_row(),
    *beta_rows(),
    eps_row(),
    weight_decay_row(),
    spec_row("amsgrad", "AMSGrad", "flag"),
    spec_row("decoupled_weight_decay", "decoupled weight decay (AdamW)", "flag"),
)
def adam(
    lr: HyperLike = 1e-3,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
    amsgrad: bool = False,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    r"""Adam, as ``torch.optim.Adam`` (eps added to the bias-corrected root, as torch does).

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
        \theta_t = \theta_{t-1} - \gamma \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}

    Parameters
    ----------
    lr, eps, weight_decay : float or ndarray (R,), >= 0
    betas : pair of float or ndarray (R,), each in [0, 1)
    amsgrad : bool
        Normalize by the running maximum of ``v_t``.
    decoupled_weight_decay : bool
        Shrink the parameters by ``1 - lr * weight_decay`` instead of adding the L2 gradient (= AdamW).
    """
    return _adam_family("adam", "Adam", lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay)


@hyperparameters(
    lr_row(),
    *beta_rows(),
    eps_row(),
    weight_decay_row(),
    spec_row("amsgrad", "AMSGrad", "flag"),
)
def adamw(
    lr: HyperLike = 1e-3,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 1e-2,
    amsgrad: bool = False,
) -> Optimizer:
    r"""AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay, default 1e-2.

    .. math::
        \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda), \text{ then the Adam step}

    Parameters are those of :func:`adam` (without the flag: decay is always decoupled).
    """
    return _adam_family("adamw", "AdamW", lr, betas, eps, weight_decay, amsgrad, True)


@hyperparameters(
    lr_row(),
    *beta_rows(),
    eps_row(),
    weight_decay_row(),
    spec_row("momentum_decay", "momentum decay (ψ)", "float", low=0.0, soft=(0.0, 0.1)),
    spec_row("decoupled_weight_decay", "decoupled weight decay", "flag"),
)
def nadam(
    lr: HyperLike = 2e-3,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
    momentum_decay: HyperLike = 4e-3,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    r"""NAdam (Adam with Nesterov momentum and Dozat's momentum schedule), as ``torch.optim.NAdam``.

    .. math::
        \mu_t = \beta_1 \left(1 - \tfrac12 \, 0.96^{t\psi}\right), \quad
        \theta_t = \theta_{t-1} - \gamma \frac{\frac{\mu_{t+1} m_t}{1 - \prod_{i=1}^{t+1}\mu_i}
        + \frac{(1 - \mu_t) g_t}{1 - \prod_{i=1}^{t}\mu_i}}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}

    with :math:`\psi` = ``momentum_decay`` and ``m_t``, ``v_t`` as in Adam.

    Parameters
    ----------
    lr, eps, weight_decay, momentum_decay : float or ndarray (R,), >= 0
    betas : pair of float or ndarray (R,), each in [0, 1)
    decoupled_weight_decay : bool
        AdamW-style decay (torch's NAdamW).
    """
    lr_ = lr
    beta1, beta2 = betas
    eps_ = eps
    weight_decay_ = weight_decay
    momentum_decay_ = momentum_decay
    decoupled = decoupled_weight_decay
    decays = any_nonzero(weight_decay_)
    b1, b2, wd, psi = (col(x) for x in (beta1, beta2, weight_decay_, momentum_decay_))
    b2_e, eps_e, wd_e = elementwise(beta2), elementwise(eps_), elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = elementwise(1 - beta1), elementwise(1 - beta2)
    # With beta1 and momentum_decay shared by all runs, so is mu_product: its scalar math stays in floats.
    shared_schedule = not isinstance(b1, np.ndarray) and not isinstance(psi, np.ndarray)
    b2_power = powers(b2)

    def init(params: np.ndarray) -> NAdamState:
        zeros = np.zeros_like(params)
        return NAdamState(0, zeros, zeros.copy(), np.ones(params.shape[0]))

    def update(grad: np.ndarray, state: NAdamState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        bias_correction2 = 1 - b2_power(step)
        if decays:
            if decoupled:
                params = params * (1 - lr * wd)
            else:
                grad = grad + wd_e * params
        mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        if shared_schedule:
            mu_product = state.mu_product * mu
            product = float(state.mu_product[0]) * mu
        else:
            mu_product = state.mu_product * mu[:, 0]
            product = mu_product[:, None]
        exp_avg = state.exp_avg + one_minus_b1 * (grad - state.exp_avg)
        exp_avg_sq = state.exp_avg_sq * b2_e + one_minus_b2 * grad * grad
        denom = np.sqrt(exp_avg_sq / bias_correction2) + eps_e
        grad_weight = -lr * (1.0 - mu) / (1.0 - product)
        avg_weight = -lr * mu_next / (1.0 - product * mu_next)
        new_params = params + grad_weight * grad / denom + avg_weight * exp_avg / denom
        return new_params, NAdamState(step, exp_avg, exp_avg_sq, mu_product)

    def effective_lr(state: NAdamState, lr: Hyper) -> np.ndarray:
        return lr / (np.sqrt(state.exp_avg_sq / (1 - b2_power(max(state.step, 1)))) + eps_e)

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_, decoupled),
        (r"\mu_t &\leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{t \psi}\right), \quad "
        r"\mu_{t+1} \leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{(t+1) \psi}\right)"),
        *ADAM_MOMENT_LINES,
        (r"\hat m_t &\leftarrow \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i} "
        r"+ \frac{(1 - \mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i}"),
        r"\hat v_t &\leftarrow v_t / (1 - \beta_2^t)",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
    ]
    hyperparameters = {
        "lr": lr_,
        "betas": (beta1, beta2),
        "eps": eps_,
        "weight_decay": weight_decay_,
        "momentum_decay": momentum_decay_,
        "decoupled_weight_decay": decoupled,
    }
    return make_optimizer("nadam", "NAdam", "NAdam", lines, hyperparameters, init, update, effective_lr)


@hyperparameters(
    lr_row(),
    *beta_rows(),
    eps_row(),
    weight_decay_row(),
    spec_row("decoupled_weight_decay", "decoupled weight decay", "flag"),
)
def radam(
    lr: HyperLike = 1e-3,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    r"""RAdam (rectified Adam), as ``torch.optim.RAdam``.

    .. math::
        \rho_\infty = \frac{2}{1 - \beta_2} - 1, \quad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \quad
        \theta_t = \theta_{t-1} - \gamma \hat m_t \cdot
        \begin{cases} r_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5 \\
        1 & \text{otherwise} \end{cases}

    with the rectification
    :math:`r_t = \sqrt{(\rho_t - 4)(\rho_t - 2)\rho_\infty / ((\rho_\infty - 4)(\rho_\infty - 2)\rho_t)}`:
    plain momentum SGD until the variance estimate is trustworthy (rho_t > 5; step 6 with default betas).

    Parameters
    ----------
    lr, eps, weight_decay : float or ndarray (R,), >= 0
    betas : pair of float or ndarray (R,), each in [0, 1)
    decoupled_weight_decay : bool
        AdamW-style decay (torch's RAdamW).
    """
    lr_ = lr
    beta1, beta2 = betas
    eps_ = eps
    weight_decay_ = weight_decay
    decoupled = decoupled_weight_decay
    decays = any_nonzero(weight_decay_)
    b1, b2, wd = col(beta1), col(beta2), col(weight_decay_)
    b2_e, eps_e, wd_e = elementwise(beta2), elementwise(eps_), elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = elementwise(1 - beta1), elementwise(1 - beta2)
    rho_inf = 2 / (1 - b2) - 1
    b1_power, b2_power = powers(b1), powers(b2)

    def rectification(step: int, b2_t: Hyper) -> tuple[Hyper, Hyper]:
        """rho_t and the factor r_t (only meaningful where rho_t > 5), given b2_t = beta2**step."""
        rho_t = rho_inf - 2 * step * b2_t / (1 - b2_t)
        if isinstance(rho_t, np.ndarray):
            # rho_t > 5 implies rho_inf > rho_t > 5, so the placeholder 6 only feeds runs not rectified.
            rectified = rho_t > 5.0
            rho_s, rho_inf_s = np.where(rectified, rho_t, 6.0), np.where(rectified, rho_inf, 6.0)
        elif rho_t > 5.0:
            rho_s, rho_inf_s = rho_t, rho_inf
        else:
            return rho_t, 1.0
        rect = ((rho_s - 4) * (rho_s - 2) * rho_inf_s / ((rho_inf_s - 4) * (rho_inf_s - 2) * rho_s)) ** 0.5
        return rho_t, rect

    def init(params: np.ndarray) -> RAdamState:
        zeros = np.zeros_like(params)
        return RAdamState(0, zeros, zeros.copy())

    def update(grad: np.ndarray, state: RAdamState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        if decays:
            if decoupled:
                params = params * (1 - lr * wd)
            else:
                grad = grad + wd_e * params
        exp_avg = state.exp_avg + one_minus_b1 * (grad - state.exp_avg)
        exp_avg_sq = state.exp_avg_sq * b2_e + one_minus_b2 * grad * grad
        bias_corrected_exp_avg = exp_avg / (1 - b1_power(step))
        b2_t = b2_power(step)
        rho_t, rect = rectification(step, b2_t)
        if isinstance(rho_t, np.ndarray):
            adaptive = (1 - b2_t) ** 0.5 / (np.sqrt(exp_avg_sq) + eps_e)
            factor = np.where(rho_t > 5.0, adaptive * rect, 1.0)
            new_params = params - bias_corrected_exp_avg * lr * factor
        elif rho_t > 5.0:
            adaptive = (1 - b2_t) ** 0.5 / (np.sqrt(exp_avg_sq) + eps_e)
            new_params = params - bias_corrected_exp_avg * lr * adaptive * rect
        else:
            new_params = params - bias_corrected_exp_avg * lr
        return new_params, RAdamState(step, exp_avg, exp_avg_sq)

    def effective_lr(state: RAdamState, lr: Hyper) -> np.ndarray:
        step = max(state.step, 1)
        b2_t = b2_power(step)
        rho_t, rect = rectification(step, b2_t)
        adaptive = (1 - b2_t) ** 0.5 / (np.sqrt(state.exp_avg_sq) + eps_e)
        return lr * np.where(rho_t > 5.0, adaptive * rect, 1.0)

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_, decoupled),
        *ADAM_MOMENT_LINES,
        r"\hat m_t &\leftarrow m_t / (1 - \beta_1^t)",
        (r"\rho_\infty &\leftarrow \frac{2}{1 - \beta_2} - 1, \quad "
        r"\rho_t \leftarrow \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}"),
        (r"r_t &\leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}"
        r"{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}"),
        (r"\theta_t &\leftarrow \begin{cases} \theta_{t-1} - \gamma\, \hat m_t\, r_t "
        r"\frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} & \text{if } \rho_t > 5 \\ "
        r"\theta_{t-1} - \gamma\, \hat m_t & \text{otherwise} \end{cases}"),
    ]
    hyperparameters = {
        "lr": lr_,
        "betas": (beta1, beta2),
        "eps": eps_,
        "weight_decay": weight_decay_,
        "decoupled_weight_decay": decoupled,
    }
    return make_optimizer("radam", "RAdam", "RAdam", lines, hyperparameters, init, update, effective_lr)


@hyperparameters(
    lr_row(),
    *beta_rows(),
    eps_row(),
    weight_decay_row(),
)
def adamax(
    lr: HyperLike = 2e-3,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
) -> Optimizer:
    r"""Adamax (Adam with an infinity norm), as ``torch.optim.Adamax``.

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    Parameters
    ----------
    lr, eps, weight_decay : float or ndarray (R,), >= 0
    betas : pair of float or ndarray (R,), each in [0, 1)
    """
    lr_ = lr
    beta1, beta2 = betas
    eps_ = eps
    weight_decay_ = weight_decay
    decays = any_nonzero(weight_decay_)
    b1 = col(beta1)
    b2, eps_c, wd = elementwise(beta2), elementwise(eps_), elementwise(weight_decay_)
    one_minus_b1 = elementwise(1 - beta1)
    b1_power = powers(b1)

    def init(params: np.ndarray) -> AdamaxState:
        zeros = np.zeros_like(params)
        return AdamaxState(0, zeros, zeros.copy())

    def update(grad: np.ndarray, state: AdamaxState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        if decays:
            grad = grad + wd * params
        exp_avg = state.exp_avg + one_minus_b1 * (grad - state.exp_avg)
        exp_inf = np.maximum(state.exp_inf * b2, np.abs(grad) + eps_c)
        clr = lr / (1 - b1_power(step))
        return params - clr * exp_avg / exp_inf, AdamaxState(step, exp_avg, exp_inf)

    def effective_lr(state: AdamaxState, lr: Hyper) -> np.ndarray:
        return lr / state.exp_inf

    lines = [
        GRAD_LINE,
        *decay_lines(weight_decay_),
        r"m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
        r"u_t &\leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon)",
        r"\theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}",
    ]
    hyperparameters = {"lr": lr_, "betas": (beta1, beta2), "eps": eps_, "weight_decay": weight_decay_}
    return make_optimizer("adamax", "Adamax", "Adamax", lines, hyperparameters, init, update, effective_lr)


