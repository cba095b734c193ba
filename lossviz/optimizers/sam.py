"""Sharpness-aware minimization around any base optimizer, as ``pytorch_optimizer.SAM`` (4.1.0).

SAM takes the gradient not where it stands but at the worst nearby point, a step of length ``rho`` up the
gradient, and hands that gradient to the base optimizer: it prefers minima whose neighbourhood is low
too (flat minima). It needs the objective during its step (``Optimizer.needs`` has ``"objective"``) and
the parameter layout (the reference normalizes with per-tensor norms).
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Block,
    Hyper,
    Optimizer,
    hyperparameters,
    make_optimizer,
    spec_row,
)

# Base optimizers SAM can wrap: those whose step uses only (grad, state, params, lr) and maybe the layout.
_UNWRAPPABLE = {"sam": "SAM itself", "lbfgs": "L-BFGS (it evaluates the objective itself)",
                "newton": "Newton's method (it uses the Hessian at the point, not a perturbed gradient)"}


class SAMState(NamedTuple):
    """``base``: the base optimizer's state; ``perturbed`` (R, d): the point the last step took its
    gradient at (NaN before the first step)."""

    step: int
    base: Any
    perturbed: np.ndarray


def _global_norm(grad: np.ndarray, blocks: tuple[Block, ...] | None) -> np.ndarray:
    """pytorch-optimizer's global gradient norm, per run: each tensor's float64 norm, then squared and
    summed in float32 (its ``get_global_gradient_norm`` returns a float32 tensor), shape (R,) float32."""
    if blocks is None:
        norms = np.sqrt(np.einsum("rj,rj->r", grad, grad))[:, None]
    else:
        norms = np.stack([np.sqrt(np.einsum("rj,rj->r", grad[:, b.start:b.stop], grad[:, b.start:b.stop]))
                          for b in blocks], axis=1)
    squared = norms.astype(np.float32)
    squared = squared * squared
    total = squared[:, 0].copy()
    for j in range(1, squared.shape[1]):  # torch sums the few per-tensor norms in order
        total = total + squared[:, j]
    return total


def build_sam(base: Optimizer, rho: Hyper, adaptive: bool, perturb_eps: float,
              hyperparameters_: dict[str, Any]) -> Optimizer:
    """SAM around an already built ``base`` optimizer (see :func:`sam`)."""
    if base.name in _UNWRAPPABLE:
        raise ValueError(f"SAM cannot wrap {_UNWRAPPABLE[base.name]}; choose another base_optimizer")
    with np.errstate(over="ignore"):  # beyond float32's range the reference's radius is inf too
        rho32 = np.asarray(rho, dtype=np.float32)
        eps32 = np.float32(perturb_eps)
    rho32 = rho32[:, None] if rho32.ndim else rho32
    base_needs_layout = "layout" in base.needs

    def init(params: np.ndarray, layout: tuple[Block, ...] | None = None) -> SAMState:
        state = base._init(params, layout=layout) if base_needs_layout else base._init(params)
        return SAMState(0, state, np.full_like(params, np.nan))

    def update(grad: np.ndarray, state: SAMState, params: np.ndarray, lr: Hyper, objective: Any = None,
               layout: tuple[Block, ...] | None = None):
        weighted = grad * np.abs(params) if adaptive else grad
        grad_norm = np.sqrt(_global_norm(weighted, layout)) + eps32
        # torch computes rho / norm as norm.reciprocal() * rho, in float32.
        scale = ((np.float32(1.0) / grad_norm)[:, None] * rho32).astype(np.float64)
        e_w = (params * params if adaptive else 1.0) * grad * scale
        perturbed = params + e_w
        second = objective.grad(perturbed)
        context = {"layout": layout} if base_needs_layout else {}
        new_params, base_state = base._update(second, state.base, params, lr, **context)
        return new_params, SAMState(state.step + 1, base_state, perturbed)

    def effective_lr(state: SAMState, lr: Hyper) -> np.ndarray:
        return base._effective_lr(state.base, lr)

    def path_points(state: SAMState) -> dict[str, tuple[np.ndarray, None]]:
        return {"perturbed": (state.perturbed, None)}

    weights = r"\theta_{t-1}^2 \odot " if adaptive else ""
    norm_arg = r"\lvert\theta_{t-1}\rvert \odot g_t" if adaptive else "g_t"
    sam_lines = [
        GRAD_LINE,
        r"\epsilon_t &\leftarrow \rho\, " + weights + r"g_t / (\lVert " + norm_arg + r" \rVert + \delta)",
        r"g_t &\leftarrow \nabla f(\theta_{t-1} + \epsilon_t)",
    ]
    base_lines = base.latex.removeprefix(r"\begin{aligned} ").removesuffix(r" \end{aligned}").split(r" \\ ")
    if base_lines and base_lines[0] == GRAD_LINE:
        base_lines = base_lines[1:]
    built = make_optimizer(
        "sam", f"SAM ({base.title})", "SAM", [*sam_lines, *base_lines], hyperparameters_, init, update,
        effective_lr, reference="pytorch_optimizer.SAM", needs={"objective", "layout"}, paths=("perturbed",),
        path_points=path_points,
    )
    return built


@hyperparameters(
    spec_row("base_optimizer", "base optimizer", "choice",
             choices=("sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam", "adamax",
                      "rprop", "asgd", "lion", "signsgd", "schedule_free_sgd", "schedule_free_adamw",
                      "adafactor", "muon")),
    spec_row("rho", "ρ (neighbourhood radius)", "float", low=0.0, soft=(0.0, 1.0)),
    spec_row("adaptive", "adaptive (ASAM)", "flag"),
    spec_row("perturb_eps", "δ (norm stabilizer)", "eps", low=0.0, soft=(1e-16, 1e-6), advanced=True,
             shared=True),
)
def sam(
    base_optimizer: str = "sgd",
    rho: float | np.ndarray = 0.05,
    adaptive: bool = False,
    perturb_eps: float = 1e-12,
    **base_hyperparameters: Any,
) -> Optimizer:
    r"""Sharpness-aware minimization (Foret et al. 2021) around ``base_optimizer``, as
    ``pytorch_optimizer.SAM``.

    .. math::
        \epsilon_t = \rho\, \frac{g_t}{\lVert g_t \rVert + \delta}, \quad
        \tilde g_t = \nabla f(\theta_{t-1} + \epsilon_t), \quad
        \theta_t = \text{base step from } \theta_{t-1} \text{ with } \tilde g_t

    With ``adaptive`` (ASAM, Kwon et al. 2021) :math:`\epsilon_t = \rho\, \theta^2 \odot g_t /
    (\lVert |\theta| \odot g_t \rVert + \delta)`. The norm is over all parameter tensors, computed in
    float32 as the reference does (so trajectories still equal it in float64). The perturbed point is
    the extra path ``"perturbed"`` (``paths["perturbed"][t]`` is where step t - 1 took its gradient).
    Both gradients come from the same mini-batch. ``effective_lr`` and the state are the base
    optimizer's (its state under ``base``).

    Parameters
    ----------
    base_optimizer : str
        A registered optimizer name (not ``sam``, ``lbfgs`` or ``newton``).
    rho : float or ndarray (R,), >= 0
    adaptive : bool
    perturb_eps : float >= 0
    **base_hyperparameters
        The base optimizer's own (``lr``, ``momentum``, ...), validated by it.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers, surfaces
    >>> from lossviz.run import run
    >>> opt = optimizers.get("sam", base_optimizer="sgd", rho=0.05, lr=1e-3, momentum=0.9)
    >>> traj = run(surfaces.get("rosenbrock"), opt, np.array([-1.0, 1.5]), 100)
    >>> bool(traj.loss[-1] < traj.loss[0]), sorted(traj.paths)
    (True, ['perturbed'])
    """
    from lossviz import optimizers

    base = optimizers.get(base_optimizer, **base_hyperparameters)
    hyper = {"base_optimizer": base_optimizer, "rho": rho, "adaptive": adaptive, "perturb_eps": perturb_eps,
             **base.hyperparameters}
    return build_sam(base, rho, adaptive, float(perturb_eps), hyper)

