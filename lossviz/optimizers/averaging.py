"""Optimizers that keep a second sequence of points: ASGD's running average, schedule-free's ``x``, ``y``
and ``z``.

Each names its extra sequences in ``Optimizer.paths``; :func:`lossviz.run.run` records them in
``Trajectory.paths`` so a page can draw them beside the main path.

References: ``torch.optim.ASGD``; ``schedulefree.SGDScheduleFree`` and ``schedulefree.AdamWScheduleFree``
(schedulefree 1.4.1). Each trajectory equals its reference's in float64.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Hyper,
    HyperLike,
    Optimizer,
    any_nonzero,
    col,
    elementwise,
    eps_row,
    hyperparameters,
    lerp,
    lr_row,
    make_optimizer,
    spec_row,
    weight_decay_row,
)


class ASGDState(NamedTuple):
    """``eta`` (R,): the step size of the next step; ``mu`` (R,): the averaging weight; ``ax`` (R, d): the
    averaged iterate."""

    step: int
    eta: np.ndarray
    mu: np.ndarray
    ax: np.ndarray


class ScheduleFreeState(NamedTuple):
    """``z`` (R, d): the base (SGD / Adam) sequence; ``x`` (R, d): the evaluation sequence, the average of
    the z's; ``exp_avg_sq`` (R, d) for AdamW (None for SGD); ``lr_max`` and ``weight_sum`` (R,): the
    running maximum lr and the sum of averaging weights. ``params`` is ``y``, where gradients are taken."""

    step: int
    z: np.ndarray
    x: np.ndarray
    exp_avg_sq: np.ndarray | None
    lr_max: np.ndarray
    weight_sum: np.ndarray


@hyperparameters(
    lr_row(),
    spec_row("lambd", "λ (decay term)", "float", low=0.0, soft=(0.0, 1e-2), advanced=True),
    spec_row("alpha", "α (power for the eta update)", "float", low=0.0, soft=(0.0, 1.0)),
    spec_row("t0", "t₀ (step averaging starts)", "float", low=0.0, soft=(0.0, 1e4)),
    weight_decay_row(),
)
def asgd(
    lr: HyperLike = 1e-2,
    lambd: HyperLike = 1e-4,
    alpha: HyperLike = 0.75,
    t0: HyperLike = 1e6,
    weight_decay: HyperLike = 0.0,
) -> Optimizer:
    r"""Averaged stochastic gradient descent, as ``torch.optim.ASGD``.

    .. math::
        \theta_t = \theta_{t-1}(1 - \lambda \eta_t) - \eta_t g_t, \quad
        \bar\theta_t = \bar\theta_{t-1} + \mu_t (\theta_t - \bar\theta_{t-1}), \quad
        \eta_{t+1} = \frac{\gamma}{(1 + \lambda \gamma t)^{\alpha}}, \quad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}

    with :math:`\eta_1 = \gamma`. The averaged iterate ``ax`` (:math:`\bar\theta`) is the point ASGD
    recommends; it equals the iterate until step ``t0`` (1e6 by default, so set ``t0`` small to see an
    average) and is exposed as the extra path ``"ax"``. ``effective_lr`` is ``eta``; the direction is
    the gradient (with the decay term folded in).

    Parameters
    ----------
    lr, lambd, alpha, t0, weight_decay : float or ndarray (R,), each >= 0

    Examples
    --------
    >>> import numpy as np
    >>> opt = asgd(lr=0.1, t0=0.0, lambd=0.0)
    >>> p = np.array([[1.0]])
    >>> s = opt.init(p)
    >>> for _ in range(3):
    ...     p, s = opt.update(2 * p, s, p)
    >>> p, s.ax   # the iterate shrinks by 0.8 a step; ax averages it from step t0 + 2 on
    (array([[0.512]]), array([[0.576]]))
    """
    lr_, lambd_, alpha_, t0_, weight_decay_ = lr, lambd, alpha, t0, weight_decay
    decays = any_nonzero(weight_decay_)
    wd = elementwise(weight_decay_)
    lam = np.asarray(lambd_, dtype=np.float64)
    power = np.asarray(alpha_, dtype=np.float64)
    start = np.asarray(t0_, dtype=np.float64)

    def init(params: np.ndarray) -> ASGDState:
        n_runs = params.shape[0]
        eta = np.broadcast_to(np.asarray(lr_, dtype=np.float64), (n_runs,)).copy()
        # torch starts ax at zeros, but its first step copies the iterate (mu_1 = 1) whatever ax was, so the
        # start itself is the average before any step.
        return ASGDState(0, eta, np.ones(n_runs), params.copy())

    def update(grad: np.ndarray, state: ASGDState, params: np.ndarray, lr: Hyper):
        step = state.step + 1
        lr_row_ = np.broadcast_to(np.asarray(lr, dtype=np.float64).reshape(-1), (params.shape[0],))
        # torch sets eta to the group's lr when the first step() runs.
        eta = lr_row_.copy() if state.step == 0 else state.eta
        if decays:
            grad = grad + wd * params
        eta_c = eta[:, None]
        params = params * (1 - lam[..., None] * eta_c) if lam.ndim else params * (1 - lam * eta_c)
        params = params + (-eta_c) * grad
        mu = state.mu[:, None]
        ax = np.where(mu != 1, state.ax + (params - state.ax) * mu, params)
        # Python's pow, as torch computes eta in Python floats (NumPy's vectorized pow can differ by an ulp).
        bases = np.broadcast_to(1 + lam * lr_row_ * step, lr_row_.shape)
        powers_ = np.broadcast_to(power, lr_row_.shape)
        new_eta = lr_row_ / np.array([math.pow(b, p) for b, p in zip(bases.tolist(), powers_.tolist())])
        new_mu = 1 / np.maximum(1.0, step - start) * np.ones(params.shape[0])
        return params, ASGDState(step, new_eta, new_mu, ax)

    def effective_lr(state: ASGDState, lr: Hyper) -> np.ndarray:
        return state.eta[:, None]

    def path_points(state: ASGDState) -> dict[str, tuple[np.ndarray, None]]:
        return {"ax": (state.ax, None)}

    lines = [GRAD_LINE]
    if decays:
        lines.append(r"g_t &\leftarrow g_t + \lambda_{wd}\, \theta_{t-1}")
    lines += [
        r"\theta_t &\leftarrow \theta_{t-1}(1 - \lambda \eta_t) - \eta_t\, g_t \quad (\eta_1 = \gamma)",
        r"\bar\theta_t &\leftarrow \bar\theta_{t-1} + \mu_t (\theta_t - \bar\theta_{t-1}) \quad (\mu_1 = 1)",
        (r"\eta_{t+1} &\leftarrow \gamma / (1 + \lambda \gamma t)^{\alpha}, \quad "
         r"\mu_{t+1} \leftarrow 1 / \max(1, t - t_0)"),
    ]
    hyper = {"lr": lr_, "lambd": lambd_, "alpha": alpha_, "t0": t0_, "weight_decay": weight_decay_}
    return make_optimizer("asgd", "ASGD", "ASGD", lines, hyper, init, update, effective_lr, paths=("ax",),
                          path_points=path_points)


def _schedule_free(
    name: str,
    title: str,
    torch_name: str,
    lr_: Hyper,
    beta1: Hyper,
    beta2: Hyper | None,
    eps_: Hyper,
    weight_decay_: Hyper,
    warmup: int,
    r_: Hyper,
    power_: Hyper,
    lines: list[str],
    hyper: dict,
) -> Optimizer:
    adam_like = beta2 is not None
    decays = any_nonzero(weight_decay_)
    b1 = col(beta1)
    wd = elementwise(weight_decay_)
    eps_e = elementwise(eps_)
    b2_e = elementwise(beta2) if adam_like else None
    one_minus_b2 = elementwise(1 - np.asarray(beta2)) if adam_like else None
    r_row = np.asarray(r_, dtype=np.float64)
    power_row = np.asarray(power_, dtype=np.float64)
    to_eval = col(1 - 1 / np.asarray(beta1)) if isinstance(beta1, np.ndarray) else 1 - 1 / beta1

    def init(params: np.ndarray) -> ScheduleFreeState:
        n_runs = params.shape[0]
        # The package's lr_max starts at -1 and its weight sum at 0.
        second_moment = np.zeros_like(params) if adam_like else None
        return ScheduleFreeState(0, params.copy(), params.copy(), second_moment, np.full(n_runs, -1.0),
                                 np.zeros(n_runs))

    def update(grad: np.ndarray, state: ScheduleFreeState, params: np.ndarray, lr: Hyper):
        k = state.step
        n_runs = params.shape[0]
        sched = (k + 1) / warmup if k < warmup else 1.0
        lr_now = np.broadcast_to(np.asarray(lr, dtype=np.float64).reshape(-1), (n_runs,)) * sched
        lr_max = np.maximum(lr_now, state.lr_max)
        weight = ((k + 1) ** r_row) * (lr_max**power_row)
        weight_sum = state.weight_sum + weight
        with np.errstate(divide="ignore", invalid="ignore"):
            ckp1 = np.where(weight_sum != 0, weight / weight_sum, 0.0)[:, None]
        lr_c = lr_now[:, None]
        exp_avg_sq = state.exp_avg_sq
        if adam_like:
            bias_correction2 = 1 - beta2_power(k + 1)
            exp_avg_sq = exp_avg_sq * b2_e + one_minus_b2 * grad * grad
            grad = grad / (np.sqrt(exp_avg_sq / bias_correction2) + eps_e)
        if decays:
            grad = grad + wd * params
        y = lerp(params, state.z, ckp1)
        y = y + lr_c * (b1 * (1 - ckp1) - 1) * grad
        z = state.z - lr_c * grad
        x = lerp(y, z, to_eval)
        return y, ScheduleFreeState(k + 1, z, x, exp_avg_sq, lr_max, weight_sum)

    if adam_like:
        b2_col = col(beta2)

        def beta2_power(t: int) -> Hyper:
            return b2_col**t

    def effective_lr(state: ScheduleFreeState, lr: Hyper) -> np.ndarray:
        if not adam_like:
            return np.asarray(lr, dtype=np.float64)
        bias_correction2 = 1 - beta2_power(max(state.step, 1))
        return lr / (np.sqrt(state.exp_avg_sq / bias_correction2) + eps_e)

    def path_points(state: ScheduleFreeState) -> dict[str, tuple[np.ndarray, None]]:
        return {"x": (state.x, None), "z": (state.z, None)}

    return make_optimizer(name, title, torch_name, lines, hyper, init, update, effective_lr,
                          reference=f"schedulefree.{torch_name}", paths=("x", "z"), path_points=path_points)


_SCHEDULE_FREE_ROWS = (
    spec_row("warmup_steps", "warm-up steps", "int", low=0, soft=(0, 1000)),
    spec_row("r", "r (polynomial weighting power)", "float", low=0.0, soft=(0.0, 2.0), advanced=True),
    spec_row("weight_lr_power", "weight lr power", "float", low=0.0, soft=(0.0, 4.0), advanced=True),
)


def _average_lines(momentum_symbol: str, step_symbol: str) -> list[str]:
    return [
        r"c_t &\leftarrow \frac{w_t}{\sum_{i \le t} w_i}, \quad w_t = t^r\, \gamma_{\max,t}^{p}",
        r"y_t &\leftarrow (1 - c_t)\, y_{t-1} + c_t z_{t-1} + \gamma (" + momentum_symbol
        + r"(1 - c_t) - 1)\, " + step_symbol,
        r"z_t &\leftarrow z_{t-1} - \gamma\, " + step_symbol,
        r"x_t &\leftarrow y_t + (1 - 1/" + momentum_symbol + r")(z_t - y_t)",
    ]


@hyperparameters(
    lr_row(),
    spec_row("momentum", "momentum (β, interpolation)", "fraction", low=0.0, high=1.0, include_low=False,
             include_high=False),
    weight_decay_row(),
    *_SCHEDULE_FREE_ROWS,
)
def schedule_free_sgd(
    lr: HyperLike = 1.0,
    momentum: HyperLike = 0.9,
    weight_decay: HyperLike = 0.0,
    warmup_steps: int = 0,
    r: HyperLike = 0.0,
    weight_lr_power: HyperLike = 2.0,
) -> Optimizer:
    r"""Schedule-free SGD (Defazio et al. 2024), as ``schedulefree.SGDScheduleFree``.

    Three sequences: ``z`` takes plain SGD steps, ``x`` is a weighted average of the ``z``'s (the point to
    evaluate and deploy), and ``y``, where gradients are taken, interpolates between them:

    .. math::
        y_t = (1 - c_t)\, y_{t-1} + c_t z_{t-1} + \gamma(\beta(1 - c_t) - 1)\, g_t, \quad
        z_t = z_{t-1} - \gamma g_t, \quad x_t = y_t + (1 - 1/\beta)(z_t - y_t)

    with :math:`c_t = w_t / \sum_{i \le t} w_i`, :math:`w_t = t^r \gamma_{\max,t}^{p}` (``p`` =
    ``weight_lr_power``) and ``g_t`` the gradient at ``y_{t-1}``. ``params`` is ``y``; ``x`` and ``z`` are
    the extra paths ``"x"`` and ``"z"`` (the package's ``eval()`` turns ``y`` into ``x`` exactly this way).
    ``warmup_steps`` ramps the lr linearly, inside the optimizer, as the package does. ``effective_lr`` is
    ``lr``.

    Parameters
    ----------
    lr, weight_decay, r, weight_lr_power : float or ndarray (R,), >= 0
    momentum : float or ndarray (R,), in (0, 1)
    warmup_steps : int >= 0

    Examples
    --------
    >>> import numpy as np
    >>> opt = schedule_free_sgd(lr=0.1)
    >>> p = np.array([[1.0]])
    >>> s = opt.init(p)
    >>> p, s = opt.update(2 * p, s, p)
    >>> p, s.z, s.x    # after one step all three coincide: y, the SGD sequence z, the average x
    (array([[0.8]]), array([[0.8]]), array([[0.8]]))
    >>> p, s = opt.update(2 * p, s, p)
    >>> p, s.z, s.x    # then x, the average of the z's, lags z; y = 0.9 x + 0.1 z sits between
    (array([[0.712]]), array([[0.64]]), array([[0.72]]))
    """
    lines = [GRAD_LINE]
    if any_nonzero(weight_decay):
        lines.append(r"g_t &\leftarrow g_t + \lambda\, y_{t-1}")
    lines += _average_lines(r"\beta", "g_t")
    hyper = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "warmup_steps": warmup_steps,
             "r": r, "weight_lr_power": weight_lr_power}
    return _schedule_free("schedule_free_sgd", "Schedule-free SGD", "SGDScheduleFree", lr, momentum, None,
                          0.0, weight_decay, warmup_steps, r, weight_lr_power, lines, hyper)


@hyperparameters(
    lr_row(),
    spec_row("betas[0]", "β₁ (interpolation)", "fraction", low=0.0, high=1.0, include_low=False,
             include_high=False),
    spec_row("betas[1]", "β₂ (second moment)", "fraction", low=0.0, high=1.0, include_high=False),
    eps_row(),
    weight_decay_row(),
    *_SCHEDULE_FREE_ROWS,
)
def schedule_free_adamw(
    lr: HyperLike = 0.0025,
    betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    eps: HyperLike = 1e-8,
    weight_decay: HyperLike = 0.0,
    warmup_steps: int = 0,
    r: HyperLike = 0.0,
    weight_lr_power: HyperLike = 2.0,
) -> Optimizer:
    r"""Schedule-free AdamW (Defazio et al. 2024), as ``schedulefree.AdamWScheduleFree``.

    As :func:`schedule_free_sgd`, with the gradient normalized by Adam's second moment first:

    .. math::
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
        \hat g_t = \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda y_{t-1}

    and :math:`\hat g_t` in place of ``g_t`` in the ``y`` and ``z`` updates. ``params`` is ``y``; ``x`` and
    ``z`` are the extra paths. ``effective_lr`` is ``lr / (sqrt(v_hat) + eps)``.

    Parameters
    ----------
    lr, eps, weight_decay, r, weight_lr_power : float or ndarray (R,), >= 0
    betas : pair: beta1 in (0, 1) (x is recovered through 1 / beta1), beta2 in [0, 1)
    warmup_steps : int >= 0

    Examples
    --------
    >>> import numpy as np
    >>> opt = schedule_free_adamw(lr=0.1)
    >>> p = np.array([[1.0, -2.0]])
    >>> s = opt.init(p)
    >>> p, s = opt.update(2 * p, s, p)
    >>> np.round(s.z, 6)    # Adam's first step: lr times the sign
    array([[ 0.9, -1.9]])
    """
    beta1, beta2 = betas
    lines = [
        GRAD_LINE,
        r"v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2",
        r"\hat g_t &\leftarrow \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}"
        + (r" + \lambda\, y_{t-1}" if any_nonzero(weight_decay) else ""),
        *_average_lines(r"\beta_1", r"\hat g_t"),
    ]
    hyper = {"lr": lr, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay,
             "warmup_steps": warmup_steps, "r": r, "weight_lr_power": weight_lr_power}
    return _schedule_free("schedule_free_adamw", "Schedule-free AdamW", "AdamWScheduleFree", lr, beta1, beta2,
                          eps, weight_decay, warmup_steps, r, weight_lr_power, lines, hyper)
