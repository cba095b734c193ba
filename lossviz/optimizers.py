"""First-order optimizers with torch.optim's names, defaults and update rules, vectorized over runs.

An :class:`Optimizer` follows optax's shape: ``init(params) -> state`` and
``update(grad, state, params, lr) -> (new_params, new_state)`` are pure functions over arrays with a
leading *run* axis, ``params`` and ``grad`` of shape ``(R, d)``. Nothing is mutated, so a page can keep
every state of a trajectory. The state is a ``NamedTuple`` whose fields carry torch's state names
(``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ...), each an array of shape ``(R, d)`` (``(R,)`` for
NAdam's ``mu_product``), plus ``step``, the number of updates applied so far (an ``int`` shared by all runs).
A field is ``None`` where torch keeps no such state (``momentum_buffer`` when momentum is 0,
``max_exp_avg_sq`` without amsgrad, ``grad_avg`` when RMSprop is not centered).

Every hyperparameter (and the ``lr`` given to ``update``) is either a scalar or an array of shape ``(R,)``,
one value per run, so a 64 x 64 (lr, momentum) sweep is one optimizer advancing R = 4096 runs at once.
For the same settings a trajectory equals torch's (single-tensor code path) to float64 round-off.

Gradient clipping composes with any optimizer (:func:`clip_by_norm`, :func:`clip_by_value`), as in optax's
``chain`` rather than through flags.

>>> import numpy as np
>>> from lossviz import optimizers
>>> opt = optimizers.get("sgd", lr=0.1, momentum=0.9)
>>> params = np.array([[1.0]])
>>> state = opt.init(params)
>>> params, state = opt.update(2 * params, state, params)    # gradient of x**2
>>> params
array([[0.8]])

Diverging runs overflow to inf and NaN as they would in torch; the update does not wrap itself in
``np.errstate`` (that would cost more than some updates), so a loop that expects divergence should.
"""
from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from lossviz._validation import check_array, check_bool, check_choice, check_per_run, check_scalar

__all__ = [
    "Optimizer",
    "names",
    "get",
    "hyperparameter_names",
    "clip_by_norm",
    "clip_by_value",
    "sgd",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "nadam",
    "radam",
    "adamax",
    "SGDState",
    "AdagradState",
    "RMSpropState",
    "AdadeltaState",
    "AdamState",
    "NAdamState",
    "RAdamState",
    "AdamaxState",
]

# A hyperparameter after validation: a float shared by all runs, or one value per run, shape (R,).
Hyper = float | np.ndarray
HyperLike = float | np.ndarray | list[float]
LearningRate = float | np.ndarray | None


# ----------------------------------------------------------------------------------------------- states
class SGDState(NamedTuple):
    """``momentum_buffer`` (R, d) is ``None`` when momentum is 0 (torch keeps none either)."""

    step: int
    momentum_buffer: np.ndarray | None


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


# ------------------------------------------------------------------------------------------- validation
def _betas(betas: object) -> tuple[Hyper, Hyper]:
    try:
        beta1, beta2 = betas  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    return (
        check_per_run(beta1, "betas[0]", low=0.0, high=1.0, include_high=False),
        check_per_run(beta2, "betas[1]", low=0.0, high=1.0, include_high=False),
    )


def _run_count(named: dict[str, Any]) -> int | None:
    """The common R of all per-run hyperparameters (None when every one is a scalar)."""
    sizes = {k: v.shape[0] for k, v in named.items() if isinstance(v, np.ndarray)}
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{k}: {n}" for k, n in sizes.items())
        raise ValueError(f"per-run hyperparameters must all have the same length R, got {listing}")
    return next(iter(sizes.values()), None)


def _col(x: Hyper) -> Hyper:
    """Per-run values as a column (R, 1) so they broadcast against (R, d); scalars stay floats."""
    return x[:, None] if isinstance(x, np.ndarray) else x


def _elementwise(x: Hyper) -> np.ndarray:
    """Like :func:`_col`, but a scalar becomes a 0-d array: NumPy multiplies an array by a 0-d array
    markedly faster than by a Python float, and the update runs thousands of times."""
    return x[:, None] if isinstance(x, np.ndarray) else np.array(x)


def _powers(base: Hyper) -> Callable[[int], Hyper]:
    """``t -> base**t`` for a bias correction. A per-run base (a column) is raised once per distinct
    value: a sweep grid repeats each beta R / n times, and pow is the costliest operation of its step."""
    if not isinstance(base, np.ndarray):
        return lambda t: base**t
    distinct, index = np.unique(base, return_inverse=True)
    index = index.reshape(base.shape)
    return lambda t: (distinct**t)[index]


def _any_nonzero(x: Hyper) -> bool:
    return bool(np.any(x != 0))


def _learning_rate(lr: object, n_runs: int | None) -> Hyper:
    """The lr given to ``update``: a finite scalar >= 0, or shape (R,) returned as a column (R, 1)."""
    if isinstance(lr, (float, int)) and not isinstance(lr, bool):
        if not 0.0 <= lr < np.inf:
            raise ValueError(f"lr must be in [0, inf), got {lr!r}")
        return lr
    if (  # per-run schedules hand over a float64 row every step: check it without copying
        isinstance(lr, np.ndarray)
        and lr.ndim == 1
        and lr.dtype == np.float64
        and lr.shape[0] == n_runs
        and np.all(lr >= 0.0)
        and np.all(lr < np.inf)
    ):
        return lr[:, None]
    value = check_per_run(lr, "lr", low=0.0)
    if isinstance(value, np.ndarray):
        if n_runs is not None and value.shape[0] != n_runs:
            raise ValueError(f"lr has {value.shape[0]} values (shape (R,)) but there are {n_runs} runs")
        return value[:, None]
    return value


def _checked_learning_rates(lr_table: np.ndarray, n_runs: int) -> np.ndarray | None:
    """A schedule's float64 lrs for every step, shape (T,) or (T, R), checked once as ``update`` checks
    each step's, or None if ``update`` would refuse some step's lr.

    Row t of the result is what :func:`_learning_rate` returns for ``lr_table[t]``: a scalar, or for a
    (T, R) table a column, so the result is (T, R, 1). Spares a step loop the per-step check (see ``run``).
    """
    if lr_table.dtype != np.float64 or lr_table.shape[1:] not in ((), (n_runs,)):
        return None
    if not np.all((lr_table >= 0.0) & (lr_table < np.inf)):
        return None
    return lr_table if lr_table.ndim == 1 else lr_table[:, :, None]


# ----------------------------------------------------------------------------------------- the type
UpdateFn = Callable[[np.ndarray, Any, np.ndarray, Hyper], tuple[np.ndarray, Any]]


@dataclass(frozen=True, eq=False)
class Optimizer:
    """An optimizer: a pair of pure functions plus what a page needs to show it.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"adam"``.
    title : str
        Human-readable name, e.g. ``"Adam"``.
    torch_name : str
        The ``torch.optim`` class it reproduces, e.g. ``"Adam"``.
    latex : str
        The update rule for the chosen settings, KaTeX-compatible (``st.latex``).
    hyperparameters : dict
        The validated settings under torch's names (floats, bools, ``betas`` as a pair, or per-run arrays
        of shape (R,)), plus ``clip_norm`` / ``clip_value`` when clipped. ``get(name, **hyperparameters)``
        rebuilds the same optimizer.
    n_runs : int or None
        R when some hyperparameter is per-run, else None (any R).
    """

    name: str
    title: str
    torch_name: str
    latex: str
    hyperparameters: dict
    n_runs: int | None
    _init: Callable[[np.ndarray], Any] = field(repr=False)
    _update: UpdateFn = field(repr=False)
    _effective_lr: Callable[[Any, Hyper], np.ndarray] = field(repr=False)
    _default_lr: Hyper = field(repr=False)

    def init(self, params: object) -> Any:
        """Initial state for ``params`` of shape ``(R, d)`` (moments at zero, ``step`` = 0)."""
        p = check_array(params, "params", ndim=2)
        if self.n_runs is not None and p.shape[0] != self.n_runs:
            raise ValueError(
                f"params has {p.shape[0]} runs (shape {p.shape}) but the per-run hyperparameters "
                f"have R = {self.n_runs}"
            )
        return self._init(p)

    def update(
        self, grad: np.ndarray, state: Any, params: np.ndarray, lr: LearningRate = None
    ) -> tuple[np.ndarray, Any]:
        """One optimizer step, without mutating anything.

        Parameters
        ----------
        grad, params : ndarray, shape (R, d)
            float64 arrays (not re-validated here: this runs thousands of times per trajectory).
        state : NamedTuple
            From :meth:`init` or a previous :meth:`update`.
        lr : float or ndarray of shape (R,), optional
            Learning rate of this step (from a schedule); defaults to the ``lr`` hyperparameter.

        Returns
        -------
        new_params : ndarray, shape (R, d)
        new_state : NamedTuple, with ``step`` increased by one
        """
        step_lr = self._default_lr if lr is None else _learning_rate(lr, params.shape[0])
        return self._update(grad, state, params, step_lr)

    def effective_lr(self, state: Any, lr: LearningRate = None) -> np.ndarray:
        """Per-coordinate step size implied by ``state``: the factor ``eta`` in ``theta -= eta * u``.

        ``u`` is the optimizer's search direction: the (momentum or Nesterov) gradient for SGD, the
        gradient for Adagrad and RMSprop (into the momentum buffer when momentum > 0), the
        bias-corrected first moment ``m_hat`` for Adam, AdamW, RAdam and Adamax, and NAdam's blend of
        ``m`` and ``g``. Concretely ``lr`` for SGD; ``lr / (sqrt(v_hat) + eps)`` for Adam, AdamW and NAdam
        (``v_hat`` from ``max_exp_avg_sq`` with amsgrad); ``clr / (sqrt(sum) + eps)`` for Adagrad;
        ``lr / (sqrt(square_avg - grad_avg**2) + eps)`` for RMSprop; ``lr * r_t * sqrt(1 - beta2**t) /
        (sqrt(v) + eps)`` for RAdam (``lr`` while rho_t <= 5); ``lr / exp_inf`` for Adamax. For these it is
        exactly the factor the update that produced ``state`` applied. Adadelta's
        ``lr * sqrt(acc_delta + eps) / sqrt(square_avg + eps)`` uses the already-updated ``acc_delta``, so
        it is the ratio the next step starts from. Before the first step the moments are their initial
        values (so Adam gives ``lr / eps``).

        Returns
        -------
        ndarray
            Shape (R, d); for SGD, which keeps no per-coordinate statistics, ``lr`` as given (a scalar or
            shape (R, 1)), which broadcasts against (R, d).
        """
        runs = next((v.shape[0] for v in state[1:] if isinstance(v, np.ndarray)), None)
        step_lr = self._default_lr if lr is None else _learning_rate(lr, runs)
        return self._effective_lr(state, step_lr)


def _optimizer(
    name: str,
    title: str,
    torch_name: str,
    lines: list[str],
    hyperparameters: dict[str, Any],
    init: Callable[[np.ndarray], Any],
    update: UpdateFn,
    effective_lr: Callable[[Any, Hyper], np.ndarray],
) -> Optimizer:
    flat = {k: v for k, v in hyperparameters.items() if k != "betas"}
    if "betas" in hyperparameters:
        flat["betas[0]"], flat["betas[1]"] = hyperparameters["betas"]
    return Optimizer(
        name=name,
        title=title,
        torch_name=torch_name,
        latex=_aligned(lines),
        hyperparameters=hyperparameters,
        n_runs=_run_count(flat),
        _init=init,
        _update=update,
        _effective_lr=effective_lr,
        _default_lr=_col(hyperparameters["lr"]),
    )


# ------------------------------------------------------------------------------------------ LaTeX bits
# Symbols follow torch's algorithm boxes: gamma = lr, lambda = weight_decay, mu = momentum, tau = dampening.
_GRAD_LINE = r"g_t &\leftarrow \nabla f(\theta_{t-1})"


def _aligned(lines: list[str]) -> str:
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def _decay_lines(weight_decay: Hyper, decoupled: bool = False) -> list[str]:
    if not _any_nonzero(weight_decay):
        return []
    if decoupled:
        return [r"\theta_{t-1} &\leftarrow \theta_{t-1} - \gamma \lambda\, \theta_{t-1}"]
    return [r"g_t &\leftarrow g_t + \lambda\, \theta_{t-1}"]


_ADAM_MOMENT_LINES = [
    r"m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
    r"v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2",
]


# ------------------------------------------------------------------------------------------ optimizers
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
    lr_ = check_per_run(lr, "lr", low=0.0)
    momentum_ = check_per_run(momentum, "momentum", low=0.0)
    dampening_ = check_per_run(dampening, "dampening")
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    nesterov_ = check_bool(nesterov, "nesterov")
    if nesterov_ and (np.any(np.asarray(momentum_) <= 0) or _any_nonzero(dampening_)):
        raise ValueError(
            "nesterov=True requires momentum in (0, inf) and dampening = 0 in every run, "
            f"got momentum={momentum_!r}, dampening={dampening_!r}"
        )
    uses_momentum = _any_nonzero(momentum_)
    decays = _any_nonzero(weight_decay_)
    mu = _elementwise(momentum_)
    wd = _elementwise(weight_decay_)
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

    lines = [_GRAD_LINE, *_decay_lines(weight_decay_)]
    if uses_momentum:
        lines.append(r"b_t &\leftarrow \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (b_1 = g_1)")
        lines.append(r"g_t &\leftarrow g_t + \mu\, b_t" if nesterov_ else r"g_t &\leftarrow b_t")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, g_t")
    hyperparameters = dict(
        lr=lr_, momentum=momentum_, dampening=dampening_, weight_decay=weight_decay_, nesterov=nesterov_
    )
    return _optimizer("sgd", "SGD", "SGD", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    lr_decay_ = check_per_run(lr_decay, "lr_decay", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    initial_ = check_per_run(initial_accumulator_value, "initial_accumulator_value", low=0.0)
    eps_ = check_per_run(eps, "eps", low=0.0)
    decays = _any_nonzero(weight_decay_)
    wd, s0, eps_c = _elementwise(weight_decay_), _elementwise(initial_), _elementwise(eps_)
    eta = _col(lr_decay_)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_),
        r"\tilde\gamma_t &\leftarrow \frac{\gamma}{1 + (t - 1)\,\eta}",
        r"s_t &\leftarrow s_{t-1} + g_t^2 \quad (s_0 = \text{initial\_accumulator\_value})",
        r"\theta_t &\leftarrow \theta_{t-1} - \tilde\gamma_t \frac{g_t}{\sqrt{s_t} + \epsilon}",
    ]
    hyperparameters = dict(
        lr=lr_, lr_decay=lr_decay_, weight_decay=weight_decay_, initial_accumulator_value=initial_, eps=eps_
    )
    return _optimizer("adagrad", "Adagrad", "Adagrad", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    alpha_ = check_per_run(alpha, "alpha", low=0.0)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    momentum_ = check_per_run(momentum, "momentum", low=0.0)
    centered_ = check_bool(centered, "centered")
    decays = _any_nonzero(weight_decay_)
    uses_momentum = _any_nonzero(momentum_)
    a, eps_c, wd, mu = (_elementwise(x) for x in (alpha_, eps_, weight_decay_, momentum_))
    one_minus_a = _elementwise(1 - alpha_)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_),
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
    hyperparameters = dict(
        lr=lr_, alpha=alpha_, eps=eps_, weight_decay=weight_decay_, momentum=momentum_, centered=centered_
    )
    return _optimizer("rmsprop", "RMSprop", "RMSprop", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    rho_ = check_per_run(rho, "rho", low=0.0, high=1.0)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    decays = _any_nonzero(weight_decay_)
    r, eps_c, wd = _elementwise(rho_), _elementwise(eps_), _elementwise(weight_decay_)
    one_minus_r = _elementwise(1 - rho_)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_),
        r"v_t &\leftarrow \rho\, v_{t-1} + (1 - \rho)\, g_t^2",
        r"\Delta_t &\leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t",
        r"u_t &\leftarrow \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, \Delta_t",
    ]
    hyperparameters = dict(lr=lr_, rho=rho_, eps=eps_, weight_decay=weight_decay_)
    return _optimizer("adadelta", "Adadelta", "Adadelta", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    beta1, beta2 = _betas(betas)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    amsgrad_ = check_bool(amsgrad, "amsgrad")
    decoupled = check_bool(decoupled_weight_decay, "decoupled_weight_decay")
    decays = _any_nonzero(weight_decay_)
    b1, b2, wd = _col(beta1), _col(beta2), _col(weight_decay_)
    b2_e, eps_e, wd_e = _elementwise(beta2), _elementwise(eps_), _elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = _elementwise(1 - beta1), _elementwise(1 - beta2)
    b1_power, b2_power = _powers(b1), _powers(b2)

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

    lines = [_GRAD_LINE, *_decay_lines(weight_decay_, decoupled), *_ADAM_MOMENT_LINES]
    lines.append(r"\hat m_t &\leftarrow m_t / (1 - \beta_1^t)")
    if amsgrad_:
        lines.append(r"v_t^{\max} &\leftarrow \max(v_{t-1}^{\max}, v_t)")
        lines.append(r"\hat v_t &\leftarrow v_t^{\max} / (1 - \beta_2^t)")
    else:
        lines.append(r"\hat v_t &\leftarrow v_t / (1 - \beta_2^t)")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}")
    hyperparameters: dict[str, Any] = dict(
        lr=lr_, betas=(beta1, beta2), eps=eps_, weight_decay=weight_decay_, amsgrad=amsgrad_
    )
    if name == "adam":
        hyperparameters["decoupled_weight_decay"] = decoupled
    torch_name = "AdamW" if name == "adamw" else "Adam"
    return _optimizer(name, title, torch_name, lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    beta1, beta2 = _betas(betas)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    momentum_decay_ = check_per_run(momentum_decay, "momentum_decay", low=0.0)
    decoupled = check_bool(decoupled_weight_decay, "decoupled_weight_decay")
    decays = _any_nonzero(weight_decay_)
    b1, b2, wd, psi = (_col(x) for x in (beta1, beta2, weight_decay_, momentum_decay_))
    b2_e, eps_e, wd_e = _elementwise(beta2), _elementwise(eps_), _elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = _elementwise(1 - beta1), _elementwise(1 - beta2)
    # With beta1 and momentum_decay shared by all runs, so is mu_product: its scalar math stays in floats.
    shared_schedule = not isinstance(b1, np.ndarray) and not isinstance(psi, np.ndarray)
    b2_power = _powers(b2)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_, decoupled),
        r"\mu_t &\leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{t \psi}\right), \quad "
        r"\mu_{t+1} \leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{(t+1) \psi}\right)",
        *_ADAM_MOMENT_LINES,
        r"\hat m_t &\leftarrow \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i} "
        r"+ \frac{(1 - \mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i}",
        r"\hat v_t &\leftarrow v_t / (1 - \beta_2^t)",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
    ]
    hyperparameters = dict(
        lr=lr_,
        betas=(beta1, beta2),
        eps=eps_,
        weight_decay=weight_decay_,
        momentum_decay=momentum_decay_,
        decoupled_weight_decay=decoupled,
    )
    return _optimizer("nadam", "NAdam", "NAdam", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    beta1, beta2 = _betas(betas)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    decoupled = check_bool(decoupled_weight_decay, "decoupled_weight_decay")
    decays = _any_nonzero(weight_decay_)
    b1, b2, wd = _col(beta1), _col(beta2), _col(weight_decay_)
    b2_e, eps_e, wd_e = _elementwise(beta2), _elementwise(eps_), _elementwise(weight_decay_)
    one_minus_b1, one_minus_b2 = _elementwise(1 - beta1), _elementwise(1 - beta2)
    rho_inf = 2 / (1 - b2) - 1
    b1_power, b2_power = _powers(b1), _powers(b2)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_, decoupled),
        *_ADAM_MOMENT_LINES,
        r"\hat m_t &\leftarrow m_t / (1 - \beta_1^t)",
        r"\rho_\infty &\leftarrow \frac{2}{1 - \beta_2} - 1, \quad "
        r"\rho_t \leftarrow \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}",
        r"r_t &\leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}"
        r"{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}",
        r"\theta_t &\leftarrow \begin{cases} \theta_{t-1} - \gamma\, \hat m_t\, r_t "
        r"\frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} & \text{if } \rho_t > 5 \\ "
        r"\theta_{t-1} - \gamma\, \hat m_t & \text{otherwise} \end{cases}",
    ]
    hyperparameters = dict(
        lr=lr_, betas=(beta1, beta2), eps=eps_, weight_decay=weight_decay_, decoupled_weight_decay=decoupled
    )
    return _optimizer("radam", "RAdam", "RAdam", lines, hyperparameters, init, update, effective_lr)


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
    lr_ = check_per_run(lr, "lr", low=0.0)
    beta1, beta2 = _betas(betas)
    eps_ = check_per_run(eps, "eps", low=0.0)
    weight_decay_ = check_per_run(weight_decay, "weight_decay", low=0.0)
    decays = _any_nonzero(weight_decay_)
    b1 = _col(beta1)
    b2, eps_c, wd = _elementwise(beta2), _elementwise(eps_), _elementwise(weight_decay_)
    one_minus_b1 = _elementwise(1 - beta1)
    b1_power = _powers(b1)

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
        _GRAD_LINE,
        *_decay_lines(weight_decay_),
        r"m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
        r"u_t &\leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon)",
        r"\theta_t &\leftarrow \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}",
    ]
    hyperparameters = dict(lr=lr_, betas=(beta1, beta2), eps=eps_, weight_decay=weight_decay_)
    return _optimizer("adamax", "Adamax", "Adamax", lines, hyperparameters, init, update, effective_lr)


# ------------------------------------------------------------------------------------------- clipping
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

    def update(grad: np.ndarray, state: Any, params: np.ndarray, lr: Hyper):
        return inner_update(clip(grad), state, params, lr)

    bound_runs = bound.shape[0] if isinstance(bound, np.ndarray) else None
    if None not in (bound_runs, optimizer.n_runs) and bound_runs != optimizer.n_runs:
        raise ValueError(
            f"{key} has {bound_runs} values but the optimizer's per-run hyperparameters have "
            f"R = {optimizer.n_runs}"
        )
    return Optimizer(
        name=optimizer.name,
        title=f"{optimizer.title} + {title}",
        torch_name=optimizer.torch_name,
        latex=optimizer.latex.replace(_GRAD_LINE, _GRAD_LINE + r" \\ " + line, 1),
        hyperparameters={**optimizer.hyperparameters, key: bound},
        n_runs=optimizer.n_runs if optimizer.n_runs is not None else bound_runs,
        _init=optimizer._init,
        _update=update,
        _effective_lr=optimizer._effective_lr,
        _default_lr=optimizer._default_lr,
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
    bound_col = _col(bound)

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
    bound_col = _col(bound)
    negative_bound = -bound_col

    def clip(grad: np.ndarray) -> np.ndarray:
        return np.clip(grad, negative_bound, bound_col)

    line = r"g_t &\leftarrow \min(\max(g_t, -c), c)"
    return _clipped(optimizer, "clip_value", bound, line, "value clipping", clip)


# ------------------------------------------------------------------------------------------- registry
_FACTORIES: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adadelta": adadelta,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "radam": radam,
    "adamax": adamax,
}


def names() -> list[str]:
    """Registered optimizer names, in the order pages list them."""
    return list(_FACTORIES)


def hyperparameter_names(name: str) -> list[str]:
    """The torch names ``get(name, ...)`` accepts for optimizer ``name`` (clipping options excluded)."""
    factory = _FACTORIES[check_choice(name, "optimizer", names())]
    return list(inspect.signature(factory).parameters)


def get(
    name: str,
    *,
    clip_norm: HyperLike | None = None,
    clip_value: HyperLike | None = None,
    **hyperparameters: Any,
) -> Optimizer:
    """Build optimizer ``name`` with torch's defaults for every hyperparameter not given.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    clip_norm, clip_value : float or ndarray (R,), optional
        Shorthand for :func:`clip_by_norm` / :func:`clip_by_value` around the optimizer (at most one).
    **hyperparameters
        torch.optim's names for ``name`` (see :func:`hyperparameter_names`); scalars or arrays (R,).

    Raises
    ------
    ValueError
        Unknown name or hyperparameter (the message lists the valid ones), or a value out of range.
    """
    valid = hyperparameter_names(name)
    unknown = [k for k in hyperparameters if k not in valid]
    if unknown:
        raise ValueError(
            f"unknown hyperparameter {unknown[0]!r} for optimizer {name!r}; "
            f"valid names: {', '.join([*valid, 'clip_norm', 'clip_value'])}"
        )
    if clip_norm is not None and clip_value is not None:
        raise ValueError(
            "give at most one of clip_norm and clip_value; to use both, compose "
            "clip_by_value(clip_by_norm(optimizer, max_norm), clip_value) in the order you want"
        )
    # Checked under the names the caller used before clip_by_* re-checks them under torch's names.
    if clip_norm is not None:
        check_per_run(clip_norm, "clip_norm", low=0.0, include_low=False)
    if clip_value is not None:
        check_per_run(clip_value, "clip_value", low=0.0, include_low=False)
    optimizer = _FACTORIES[name](**hyperparameters)
    if clip_norm is not None:
        optimizer = clip_by_norm(optimizer, clip_norm)
    if clip_value is not None:
        optimizer = clip_by_value(optimizer, clip_value)
    return optimizer
