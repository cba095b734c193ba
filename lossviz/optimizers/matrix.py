"""Optimizers that treat weight matrices as matrices: Muon and Adafactor.

Both need the parameter layout (``Optimizer.needs`` has ``"layout"``): :func:`lossviz.run.run` passes the
objective's weight matrices and bias vectors (:func:`lossviz.optimizers.parameter_layout`). A lossviz
model stores a layer's weights as ``(fan_in, fan_out)``; torch's ``nn.Linear`` stores the same matrix as
``(fan_out, fan_in)``, and these optimizers see it that way, so they equal torch on the equivalent
``nn.Linear`` model (Muon's learning-rate adjustment depends on the orientation). Without a layout (a
2-D surface, a custom objective) the whole parameter vector is one tensor: a vector for Adafactor, a
``1 x d`` matrix for Muon (torch refuses vectors; a point written as a row is what it would be given).

References: ``torch.optim.Adafactor`` (float64-exact) and ``torch.optim.Muon``, which runs its
Newton-Schulz iteration in bfloat16; lossviz runs it in float64 (see :func:`muon` for the tolerance).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Block,
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
    powers,
    spec_row,
    weight_decay_row,
)

# torch.optim.Muon's constants (Keller Jordan's quintic Newton-Schulz iteration).
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def _blocks(layout: tuple[Block, ...] | None, dim: int, vector: bool) -> tuple[Block, ...]:
    """The layout, or the whole vector as one tensor: ``(dim,)``, or ``(1, dim)`` when ``vector`` is False."""
    if layout is not None:
        return layout
    return (Block("params", 0, dim, (dim,) if vector else (1, dim)),)


def _as_torch_matrix(values: np.ndarray, block: Block) -> np.ndarray:
    """A weight block (R, n) as torch's (R, fan_out, fan_in); a (1, d) row stays a row."""
    if block.name == "params":
        return values.reshape((values.shape[0],) + block.shape)
    fan_in, fan_out = block.shape
    return values.reshape(values.shape[0], fan_in, fan_out).swapaxes(1, 2)


def _from_torch_matrix(matrix: np.ndarray, block: Block) -> np.ndarray:
    if block.name == "params":
        return matrix.reshape(matrix.shape[0], -1)
    return matrix.swapaxes(1, 2).reshape(matrix.shape[0], -1)


def newton_schulz(matrix: np.ndarray, coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
                  steps: int = 5, eps: float = 1e-7) -> np.ndarray:
    r"""torch.optim.Muon's orthogonalization of a stack of matrices, in float64.

    Normalizes each matrix to Frobenius norm 1 and applies ``steps`` quintic iterations
    :math:`X \leftarrow aX + (b\,XX^\top + c\,(XX^\top)^2) X`, on the wide orientation (a tall matrix is
    transposed first). The result is close to :math:`UV^\top` of the SVD :math:`U S V^\top`: every
    singular value is pushed towards 1 (to roughly 0.7 .. 1.2, not exactly 1), so the update keeps the
    directions of the momentum but not their sizes. For a single row (a point on a 2-D surface), that is
    the row's direction times a fixed length: ``newton_schulz(v) = c * v / |v|`` with ``c`` about 0.70 for
    the default 5 steps.

    Parameters
    ----------
    matrix : ndarray, shape (R, A, B)
    coefficients : (a, b, c)
    steps : int
    eps : float
        The norm is clamped below at eps before dividing.

    Returns
    -------
    ndarray, shape (R, A, B)

    Examples
    --------
    >>> import numpy as np
    >>> out = newton_schulz(np.array([[[3.0, 4.0]]]))
    >>> np.round(out / np.array([0.6, 0.8]), 4)    # the row's direction, scaled by one constant
    array([[[0.6964, 0.6964]]])
    """
    a, b, c = coefficients
    tall = matrix.shape[1] > matrix.shape[2]
    x = matrix.swapaxes(1, 2) if tall else matrix
    norm = np.sqrt(np.einsum("rij,rij->r", x, x))[:, None, None]
    x = x / np.maximum(norm, eps)
    for _ in range(steps):
        gram = x @ x.swapaxes(1, 2)
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.swapaxes(1, 2) if tall else x


class MuonState(NamedTuple):
    """``momentum_buffer`` (R, d): Muon's momentum on the matrix coordinates (0 elsewhere);
    ``exp_avg`` and ``exp_avg_sq`` (R, d): AdamW's moments on the coordinates that are not in a matrix
    (biases), ``None`` when every parameter is in a matrix."""

    step: int
    momentum_buffer: np.ndarray
    exp_avg: np.ndarray | None
    exp_avg_sq: np.ndarray | None


@hyperparameters(
    lr_row(),
    weight_decay_row(),
    spec_row("momentum", "momentum (μ)", "float", low=0.0, soft=(0.0, 0.99)),
    spec_row("nesterov", "Nesterov", "flag"),
    spec_row("eps", "ε (norm clamp)", "eps", low=0.0, soft=(1e-12, 1e-3), advanced=True, shared=True),
    spec_row("ns_steps", "Newton-Schulz steps", "int", low=0, high=99, soft=(1, 10), advanced=True),
    spec_row("adjust_lr_fn", "lr adjustment for the matrix shape", "choice",
             choices=(None, "original", "match_rms_adamw"), advanced=True),
    spec_row("adamw_lr", "AdamW lr for biases (None: lr)", "float", low=0.0, optional=True, soft=(1e-5, 1.0),
             advanced=True),
    spec_row("adamw_betas[0]", "AdamW β₁ for biases", "fraction", low=0.0, high=1.0, include_high=False,
             advanced=True),
    spec_row("adamw_betas[1]", "AdamW β₂ for biases", "fraction", low=0.0, high=1.0, include_high=False,
             advanced=True),
    eps_row("adamw_eps", "AdamW ε for biases"),
    spec_row("adamw_weight_decay", "AdamW weight decay for biases", "float", low=0.0, soft=(0.0, 1.0),
             advanced=True),
)
def muon(
    lr: HyperLike = 1e-3,
    weight_decay: HyperLike = 0.1,
    momentum: HyperLike = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: HyperLike = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
    adamw_lr: HyperLike | None = None,
    adamw_betas: tuple[HyperLike, HyperLike] = (0.9, 0.999),
    adamw_eps: HyperLike = 1e-8,
    adamw_weight_decay: HyperLike = 1e-2,
) -> Optimizer:
    r"""Muon (momentum orthogonalized by Newton-Schulz), as ``torch.optim.Muon`` on weight matrices.

    For each weight matrix :math:`\Theta` (as torch's ``nn.Linear`` holds it, ``(fan_out, fan_in)``):

    .. math::
        B_t = \mu B_{t-1} + (1 - \mu) G_t, \quad
        \tilde B_t = G_t + \mu (B_t - G_t) \text{ (nesterov) else } B_t, \quad
        O_t = \mathrm{NS}_k(\tilde B_t), \quad
        \Theta_t = \Theta_{t-1}(1 - \gamma\lambda) - \gamma\, a(A, B)\, O_t

    with :math:`a = \sqrt{\max(1, A/B)}` (``adjust_lr_fn`` None / ``"original"``) or
    :math:`0.2\sqrt{\max(A, B)}` (``"match_rms_adamw"``). :math:`\mathrm{NS}_k` (:func:`newton_schulz`)
    pushes every singular value of the momentum towards 1: the update keeps the momentum's directions and
    forgets their sizes. On a vector (a 2-D surface's point as a ``1 x d`` matrix) there is one singular
    value, so Muon moves along the momentum's direction by a fixed length, about ``0.70 * lr``, every step:
    normalized momentum SGD.

    torch's Muon refuses parameters that are not matrices and its docs pair it with AdamW for the rest;
    lossviz does the same for a model's biases, with ``adamw_*`` settings (``adamw_lr=None`` uses the
    step's lr, schedule included; a number is a fixed rate).

    **Tolerance.** torch runs Newton-Schulz in bfloat16 (8 significant bits); lossviz in float64. With the
    iteration done in float64 on both sides the trajectories agree to 1e-10. Against torch's bfloat16
    iteration each step's update, taken from the same state, agrees to a few percent of its length
    (every Gram product of the five iterations is rounded to 8 bits: measured up to 5e-2 on a small
    MLP's matrices, 1e-3 on a surface's 1 x 2 row; the tests allow 1e-1 and require the same direction),
    so whole trajectories drift apart by that much per step and are compared step by step.

    ``effective_lr`` is ``lr * a`` on matrices; the direction is :math:`O_t`.

    Parameters
    ----------
    lr, weight_decay, momentum, eps : float or ndarray (R,), >= 0
    nesterov : bool
    ns_coefficients : (a, b, c), floats
    ns_steps : int in [0, 99]
    adjust_lr_fn : {None, "original", "match_rms_adamw"}
    adamw_lr : float or ndarray (R,) >= 0, or None
    adamw_betas : pair in [0, 1); adamw_eps, adamw_weight_decay : >= 0

    Examples
    --------
    >>> import numpy as np
    >>> opt = muon(lr=0.1, weight_decay=0.0)
    >>> p = np.array([[3.0, 4.0]])
    >>> p2, _ = opt.update(np.array([[3.0, 4.0]]), opt.init(p), p)
    >>> round(float(np.linalg.norm(p - p2)), 4)     # about 0.70 * lr, whatever the gradient's size
    0.0696
    """
    coefficients = tuple(float(c) for c in ns_coefficients)
    if len(coefficients) != 3:
        raise ValueError(f"ns_coefficients must be three numbers (a, b, c), got {ns_coefficients!r}")
    lr_, weight_decay_, momentum_ = lr, weight_decay, momentum
    eps_value = float(eps)
    weight = col(1.0 - np.asarray(momentum_)) if isinstance(momentum_, np.ndarray) else 1.0 - momentum_
    mu = col(momentum_)
    wd = col(weight_decay_)
    beta1, beta2 = adamw_betas
    a_b2 = elementwise(beta2)
    one_minus_b1, one_minus_b2 = elementwise(1 - np.asarray(beta1)), elementwise(1 - np.asarray(beta2))
    b1_power, b2_power = powers(col(beta1)), powers(col(beta2))
    a_eps, a_wd = elementwise(adamw_eps), col(adamw_weight_decay)
    fixed_aux_lr = None if adamw_lr is None else col(adamw_lr)

    def ratio(shape: tuple[int, ...]) -> float:
        rows, cols = shape
        if adjust_lr_fn in (None, "original"):
            return math.sqrt(max(1, rows / cols))
        return 0.2 * math.sqrt(max(rows, cols))

    def init(params: np.ndarray, layout: tuple[Block, ...] | None = None) -> MuonState:
        blocks = _blocks(layout, params.shape[1], vector=False)
        has_aux = any(len(b.shape) != 2 for b in blocks)
        zeros = np.zeros_like(params)
        return MuonState(0, zeros, zeros.copy() if has_aux else None, zeros.copy() if has_aux else None)

    def update(grad: np.ndarray, state: MuonState, params: np.ndarray, lr: Hyper, layout=None):
        blocks = _blocks(layout, params.shape[1], vector=False)
        step = state.step + 1
        new_params = params.copy()
        buf_all = state.momentum_buffer.copy()
        exp_avg = None if state.exp_avg is None else state.exp_avg.copy()
        exp_avg_sq = None if state.exp_avg_sq is None else state.exp_avg_sq.copy()
        for block in blocks:
            sl = slice(block.start, block.stop)
            g, p = grad[:, sl], params[:, sl]
            if len(block.shape) == 2:
                buf = lerp(state.momentum_buffer[:, sl], g, weight)
                buf_all[:, sl] = buf
                step_dir = lerp(g, buf, mu) if nesterov else buf
                matrix = _as_torch_matrix(step_dir, block)
                ortho = _from_torch_matrix(newton_schulz(matrix, coefficients, ns_steps, eps_value), block)
                adjusted = lr * ratio(matrix.shape[1:])
                new_params[:, sl] = p * (1 - lr * wd) + (-adjusted) * ortho
            else:  # torch.optim.AdamW on what is not a matrix
                aux_lr = lr if fixed_aux_lr is None else fixed_aux_lr
                p = p * (1 - aux_lr * a_wd)
                m = exp_avg[:, sl] + one_minus_b1 * (g - exp_avg[:, sl])
                v = exp_avg_sq[:, sl] * a_b2 + one_minus_b2 * g * g
                exp_avg[:, sl], exp_avg_sq[:, sl] = m, v
                denom = np.sqrt(v) / (1 - b2_power(step)) ** 0.5 + a_eps
                new_params[:, sl] = p - (aux_lr / (1 - b1_power(step))) * m / denom
        return new_params, MuonState(step, buf_all, exp_avg, exp_avg_sq)

    def effective_lr(state: MuonState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    lines = [
        GRAD_LINE,
        r"B_t &\leftarrow \mu B_{t-1} + (1 - \mu)\, g_t",
        (r"\tilde B_t &\leftarrow g_t + \mu (B_t - g_t)" if nesterov else r"\tilde B_t &\leftarrow B_t"),
        rf"O_t &\leftarrow \mathrm{{NS}}_k(\tilde B_t) \quad (k = {ns_steps} \text{{ iterations}})",
    ]
    if any_nonzero(weight_decay_):
        lines.append(r"\theta_{t-1} &\leftarrow \theta_{t-1} - \gamma \lambda\, \theta_{t-1}")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, a\, O_t")
    hyper = {"lr": lr_, "weight_decay": weight_decay_, "momentum": momentum_, "nesterov": nesterov,
             "ns_coefficients": coefficients, "eps": eps, "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn,
             "adamw_lr": adamw_lr, "adamw_betas": (beta1, beta2), "adamw_eps": adamw_eps,
             "adamw_weight_decay": adamw_weight_decay}
    return make_optimizer("muon", "Muon", "Muon", lines, hyper, init, update, effective_lr, needs={"layout"})


class AdafactorState(NamedTuple):
    """torch's ``variance`` (R, d) for vector tensors; on a matrix's coordinates it holds the factored
    estimate ``R C / mean(R)`` the update divided by, so ``variance`` is the second-moment estimate of
    every coordinate. ``row_var`` / ``col_var``: one (R, fan_out, 1) / (R, 1, fan_in) factor per weight
    matrix. ``step_size`` (R, d): the factor ``alpha_t / max(1, RMS(U_t) / d)`` the last step applied,
    repeated over each tensor's coordinates."""

    step: int
    variance: np.ndarray
    row_var: tuple[np.ndarray, ...]
    col_var: tuple[np.ndarray, ...]
    step_size: np.ndarray


@hyperparameters(
    lr_row(),
    spec_row("beta2_decay", "β₂ decay (τ)", "float", high=0.0, soft=(-1.0, 0.0)),
    spec_row("eps[0]", "ε₁ (None: machine epsilon)", "eps", low=0.0, optional=True, soft=(1e-30, 1e-3),
             advanced=True),
    spec_row("eps[1]", "ε₂ (smallest parameter scale)", "eps", low=0.0, soft=(1e-6, 1.0), advanced=True),
    spec_row("d", "clipping threshold d", "float", low=1.0, soft=(1.0, 10.0)),
    weight_decay_row(),
)
def adafactor(
    lr: HyperLike = 1e-2,
    beta2_decay: HyperLike = -0.8,
    eps: tuple[HyperLike | None, HyperLike] = (None, 1e-3),
    d: HyperLike = 1.0,
    weight_decay: HyperLike = 0.0,
) -> Optimizer:
    r"""Adafactor (Shazeer and Stern 2018), as ``torch.optim.Adafactor``.

    .. math::
        \hat\beta_{2,t} = 1 - t^{\tau}, \quad \rho_t = \min(\gamma, 1/\sqrt t), \quad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\, \rho_t, \quad
        \hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1 - \hat\beta_{2,t})\, G_t^2, \quad
        U_t = \frac{G_t}{\max(\sqrt{\hat V_t}, \epsilon_1)}, \quad
        \theta_t = \theta_{t-1}(1 - \gamma\lambda) - \frac{\alpha_t\, U_t}{\max(1, \mathrm{RMS}(U_t)/d)}

    For a weight matrix the second moment is factored into row and column averages,
    :math:`\hat V_t = R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)`. RMS and the clipping are per tensor.
    The step size is relative to the parameters' scale; ``lr`` only caps :math:`\rho_t` and scales the
    decay. ``effective_lr`` is ``step_size / max(sqrt(variance), eps1)``; the direction is the gradient.

    Parameters
    ----------
    lr, weight_decay : float or ndarray (R,), >= 0
    beta2_decay : float or ndarray (R,), <= 0
    eps : pair (eps1 >= 0 or None for machine epsilon, eps2 >= 0)
    d : float or ndarray (R,), >= 1

    Examples
    --------
    >>> import numpy as np
    >>> opt = adafactor()
    >>> p = np.array([[3.0, 4.0]])
    >>> p, _ = opt.update(np.array([[1.0, -1.0]]), opt.init(p), p)
    >>> p    # a step of lr * RMS(theta) = 0.01 * 3.54 per coordinate
    array([[2.96464466, 4.03535534]])
    """
    lr_, beta2_decay_, (eps1_, eps2_), d_, weight_decay_ = lr, beta2_decay, eps, d, weight_decay
    eps1 = float(np.finfo(np.float64).eps) if eps1_ is None else eps1_
    eps1_c, eps2_c, d_c = col(eps1), col(eps2_), col(d_)
    tau = col(beta2_decay_)
    decays = any_nonzero(weight_decay_)
    wd = col(weight_decay_)

    def init(params: np.ndarray, layout: tuple[Block, ...] | None = None) -> AdafactorState:
        blocks = _blocks(layout, params.shape[1], vector=True)
        n_runs = params.shape[0]
        rows = tuple(np.zeros((n_runs, b.shape[1], 1)) for b in blocks if len(b.shape) == 2)
        cols = tuple(np.zeros((n_runs, 1, b.shape[0])) for b in blocks if len(b.shape) == 2)
        return AdafactorState(0, np.zeros_like(params), rows, cols, np.zeros_like(params))

    def update(grad: np.ndarray, state: AdafactorState, params: np.ndarray, lr: Hyper, layout=None):
        blocks = _blocks(layout, params.shape[1], vector=True)
        step = state.step + 1
        one_minus_beta2 = float(step) ** tau
        rho = np.minimum(lr, 1 / (float(step) ** 0.5))
        new_params = np.empty_like(params)
        variance = state.variance.copy()
        step_size = np.empty_like(params)
        rows, cols = list(state.row_var), list(state.col_var)
        matrix = 0
        for block in blocks:
            sl = slice(block.start, block.stop)
            g, p = grad[:, sl], params[:, sl]
            size = block.stop - block.start
            alpha = np.maximum(eps2_c, np.sqrt(np.einsum("rj,rj->r", p, p))[:, None] / size**0.5) * rho
            if decays:
                p = p * (1 - lr * wd)
            if len(block.shape) == 2:
                gm = _as_torch_matrix(g, block)  # (R, A, B)
                n_rows, n_cols = gm.shape[1:]
                factor = one_minus_beta2[:, :, None] if isinstance(one_minus_beta2, np.ndarray) \
                    else one_minus_beta2
                row_mean = np.sqrt(np.einsum("rab,rab->ra", gm, gm))[:, :, None] ** 2 / n_cols
                col_mean = np.sqrt(np.einsum("rab,rab->rb", gm, gm))[:, None, :] ** 2 / n_rows
                rows[matrix] = lerp(rows[matrix], row_mean, factor)
                cols[matrix] = lerp(cols[matrix], col_mean, factor)
                eps1_m = eps1_c[:, :, None] if isinstance(eps1_c, np.ndarray) else eps1_c
                estimate = rows[matrix] @ cols[matrix]
                estimate = estimate / np.maximum(rows[matrix].mean(axis=1, keepdims=True), eps1_m)
                estimate = _from_torch_matrix(estimate, block)
                matrix += 1
            else:
                estimate = lerp(variance[:, sl], g * g, one_minus_beta2)
            variance[:, sl] = estimate
            u = (1 / np.sqrt(np.maximum(estimate, eps1_c * eps1_c))) * g
            denom = np.maximum(1.0, np.sqrt(np.einsum("rj,rj->r", u, u))[:, None] / (size**0.5 * d_c))
            scale = alpha / denom
            step_size[:, sl] = scale
            new_params[:, sl] = p + (-scale) * u
        return new_params, AdafactorState(step, variance, tuple(rows), tuple(cols), step_size)

    def effective_lr(state: AdafactorState, lr: Hyper) -> np.ndarray:
        return state.step_size / np.sqrt(np.maximum(state.variance, eps1_c * eps1_c))

    lines = [
        GRAD_LINE,
        (r"\rho_t &\leftarrow \min(\gamma, 1/\sqrt{t}), \quad "
         r"\alpha_t \leftarrow \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\, \rho_t"),
        (r"\hat V_t &\leftarrow (1 - t^{\tau})\, \hat V_{t-1} + t^{\tau}\, g_t^2 "
         r"\quad (\text{factored } R_t C_t / \bar R_t \text{ for a matrix})"),
        r"U_t &\leftarrow g_t / \max(\sqrt{\hat V_t}, \epsilon_1)",
    ]
    if decays:
        lines.append(r"\theta_{t-1} &\leftarrow \theta_{t-1} - \gamma \lambda\, \theta_{t-1}")
    lines.append(r"\theta_t &\leftarrow \theta_{t-1} - \frac{\alpha_t}{\max(1, \mathrm{RMS}(U_t)/d)}\, U_t")
    hyper = {"lr": lr_, "beta2_decay": beta2_decay_, "eps": (eps1_, eps2_), "d": d_,
             "weight_decay": weight_decay_}
    return make_optimizer("adafactor", "Adafactor", "Adafactor", lines, hyper, init, update, effective_lr,
                          needs={"layout"})
