r"""The step inspector's formulas: an optimizer's update with the numbers of one step filled in.

One indexing convention throughout, torch's: step ``t`` counts from 1, ``g_t`` is the gradient at
``theta_{t-1}`` and the step produces ``theta_t``. So the first update reads
:math:`g_1 = \nabla f(\theta_0)` and :math:`\theta_1 = \theta_0 - \dots`, the rules
(``Optimizer.latex``) say :math:`g_t \leftarrow \nabla f(\theta_{t-1})`, and the state after step ``t``
carries index ``t`` (:math:`m_t`, :math:`v_t`, :math:`b_t`). Every optimizer's filled-in update uses its
own symbols: plain SGD without momentum is :math:`\theta_t = \theta_{t-1} - \gamma g_t`, with momentum
:math:`\theta_t = \theta_{t-1} - \gamma b_t`, Adam :math:`\theta_t = \theta_{t-1} - \gamma_{\text{eff}}
\odot \hat m_t`.

:func:`step_latex` returns the whole block (rule, gradient line, state lines, filled update) so a page
shows it with one ``st.latex`` call.

>>> import numpy as np
>>> from lossviz import optimizers
>>> sgd = optimizers.get("sgd", lr=0.1)
>>> block = step_latex(sgd, 1, params=np.array([1.0, 2.0]), new_params=np.array([0.8, 1.6]),
...                    grad=np.array([2.0, 4.0]), lr=0.1, state={}, effective_lr=0.1,
...                    direction=np.array([2.0, 4.0]))
>>> r"g_{1} = \nabla f(\theta_{0})" in block, r"\theta_{1} = \theta_{0} - \gamma\, g_{1}" in block
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "DIRECTION_SYMBOL",
    "DIRECTION_WORDS",
    "STATE_SYMBOLS",
    "direction_symbol",
    "inspect_step",
    "number_latex",
    "step_latex",
    "update_latex",
    "vector_latex",
]

# The search direction u in "theta_t = theta_{t-1} - gamma_eff * u_t" with the default settings, per
# optimizer (see Optimizer.effective_lr for what gamma_eff is); direction_symbol() follows the settings.
DIRECTION_SYMBOL = {
    "sgd": r"g_t",
    "adagrad": r"g_t",
    "rmsprop": r"g_t",
    "adadelta": r"g_t",
    "adam": r"\hat m_t",
    "adamw": r"\hat m_t",
    "nadam": r"\tilde m_t",
    "radam": r"\hat m_t",
    "adamax": r"\hat m_t",
    "rprop": r"\operatorname{sign}(g_t)",
    "asgd": r"\tilde g_t",
    "adafactor": r"g_t",
    "lbfgs": r"\Delta_t",
    "muon": r"O_t",
    "lion": r"\operatorname{sign}(c_t)",
    "signsgd": r"\operatorname{sign}(b_t)",
    "sam": r"u_t",
    "schedule_free_sgd": r"u_t",
    "schedule_free_adamw": r"u_t",
    "newton": r"H_t^{-1} g_t",
}


def _newton_schulz_length(steps: int = 5) -> float:
    """What torch's quintic Newton-Schulz iteration leaves of a vector's single (unit) singular value."""
    from lossviz.optimizers.matrix import NS_COEFFICIENTS

    a, b, c = NS_COEFFICIENTS
    s = 1.0
    for _ in range(steps):
        s = a * s + b * s**3 + c * s**5
    return s


_NS_LENGTH = f"{_newton_schulz_length():.2f}"

DIRECTION_WORDS = {
    "sgd": "the momentum buffer (the gradient itself without momentum; g + μb with Nesterov)",
    "adagrad": "the gradient",
    "rmsprop": "the gradient (the momentum buffer when momentum > 0)",
    "adadelta": "the gradient",
    "adam": "the bias-corrected first moment",
    "adamw": "the bias-corrected first moment (decay applied separately)",
    "nadam": "NAdam's blend of the first moment and the gradient",
    "radam": "the bias-corrected first moment",
    "adamax": "the bias-corrected first moment",
    "rprop": "the sign of the gradient (0 where it just flipped), each coordinate with its own step size",
    "asgd": "the gradient with the decay term λθ folded in; the averaged point θ̄ is a second path",
    "adafactor": "the gradient, scaled per coordinate by the factored second moment and the parameters' RMS",
    "lbfgs": "the whole move of one outer step: the sum of its inner steps t·d, each along the "
    "quasi-Newton direction d = −Hg built from the last curvature pairs",
    "muon": (
        f"the momentum orthogonalized by Newton-Schulz, which pushes every singular value of the momentum "
        f"matrix towards 1: the update keeps the momentum's directions and forgets their sizes. A point "
        f"on a surface is a single row with one singular value, so orthogonalizing it keeps its direction "
        f"and sets its length to about {_NS_LENGTH}: every step moves γ × {_NS_LENGTH} along the "
        f"momentum, however steep the surface"
    ),
    "lion": "the sign of a blend of the momentum and the gradient: every coordinate moves by exactly γ",
    "signsgd": "the sign of the momentum (of the gradient without it): every coordinate moves by exactly γ",
    "sam": "the base optimizer's direction, computed from the gradient at the perturbed point θ + ε "
    "(the worst point nearby) instead of at θ",
    "schedule_free_sgd": "y's combined move: pulled towards z (the SGD sequence) and along the gradient",
    "schedule_free_adamw": "y's combined move: pulled towards z (the Adam sequence) and along the normalized "
    "gradient",
    "newton": "the Newton direction: the gradient divided by the curvature along each eigenvector of the "
    "Hessian (by its absolute value in the saddle-free variant)",
}

# The symbol of each recorded state field after step t ("{t}" is filled in), per optimizer. Fields not
# listed (step counters, L-BFGS's history, Adafactor's row / column factors) are not shown.
STATE_SYMBOLS: dict[str, dict[str, str]] = {
    "sgd": {"momentum_buffer": "b_{{{t}}}"},
    "adagrad": {"sum": "s_{{{t}}}"},
    "rmsprop": {"square_avg": "v_{{{t}}}", "grad_avg": r"\bar g_{{{t}}}", "momentum_buffer": "b_{{{t}}}"},
    "adadelta": {"square_avg": "v_{{{t}}}", "acc_delta": "u_{{{t}}}"},
    "adam": {"exp_avg": "m_{{{t}}}", "exp_avg_sq": "v_{{{t}}}", "max_exp_avg_sq": r"v^{{\max}}_{{{t}}}"},
    "nadam": {
        "exp_avg": "m_{{{t}}}",
        "exp_avg_sq": "v_{{{t}}}",
        "mu_product": r"\textstyle\prod_{{i \le {t}}} \mu_i",
    },
    "radam": {"exp_avg": "m_{{{t}}}", "exp_avg_sq": "v_{{{t}}}"},
    "adamax": {"exp_avg": "m_{{{t}}}", "exp_inf": "u_{{{t}}}"},
    "rprop": {"step_size": r"\eta_{{{t}}}", "prev": r"g_{{{t}}} \text{{ (kept)}}"},
    "asgd": {"ax": r"\bar\theta_{{{t}}}", "eta": r"\eta_{{{next}}}", "mu": r"\mu_{{{next}}}"},
    "adafactor": {
        "variance": r"\hat V_{{{t}}}",
        "step_size": r"\alpha_{{{t}}} / \max(1, \mathrm{{RMS}}(U_{{{t}}})/d)",
    },
    "lbfgs": {
        "d": r"d",
        "t": r"t",
        "H_diag": r"H_0",
        "n_iter": r"\text{{iterations so far}}",
        "func_evals": r"\text{{evaluations so far}}",
    },
    "muon": {
        "momentum_buffer": "B_{{{t}}}",
        "exp_avg": r"m_{{{t}}} \text{{ (biases)}}",
        "exp_avg_sq": r"v_{{{t}}} \text{{ (biases)}}",
    },
    "lion": {"exp_avg": "m_{{{t}}}"},
    "signsgd": {"momentum_buffer": "b_{{{t}}}"},
    "sam": {"perturbed": r"\theta_{{{previous}}} + \epsilon_{{{t}}}"},
    "schedule_free_sgd": {"z": "z_{{{t}}}", "x": "x_{{{t}}}"},
    "schedule_free_adamw": {"z": "z_{{{t}}}", "x": "x_{{{t}}}", "exp_avg_sq": "v_{{{t}}}"},
    "newton": {"eigenvalues": r"\lambda(H_{{{t}}})", "direction": r"(\Lambda + \delta I)^{{-1}} g_{{{t}}}"},
}
STATE_SYMBOLS["adamw"] = STATE_SYMBOLS["adam"]


def number_latex(value: float) -> str:
    """A number to 4 significant digits in LaTeX (``1.5\\times 10^{-7}``; ``\\text{nan}`` when not finite)."""
    if not np.isfinite(value):
        return r"\text{nan}"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def vector_latex(values: np.ndarray) -> str:
    """A column vector in LaTeX, numbers to 4 significant digits."""
    return (
        r"\begin{pmatrix}" + r"\\".join(number_latex(float(v)) for v in np.ravel(values)) + r"\end{pmatrix}"
    )


def _value_latex(value: object) -> str:
    array = np.asarray(value, dtype=np.float64)
    return number_latex(float(array)) if array.size == 1 else vector_latex(array)


def direction_symbol(optimizer: Any) -> str:
    """The direction's symbol ``u_t`` for ``optimizer``'s own settings (``b_t`` only with momentum, ...)."""
    name = optimizer.name
    settings = optimizer.hyperparameters
    if name == "sgd":
        if not np.any(np.asarray(settings.get("momentum", 0.0)) != 0):
            return "g_t"
        return r"(g_t + \mu b_t)" if settings.get("nesterov") else "b_t"
    if name == "rmsprop" and np.any(np.asarray(settings.get("momentum", 0.0)) != 0):
        return "b_t"
    if name == "signsgd" and not np.any(np.asarray(settings.get("momentum", 0.0)) != 0):
        return r"\operatorname{sign}(g_t)"
    if name == "newton" and settings.get("saddle_free"):
        return r"\lvert H_t\rvert^{-1} g_t"
    if name == "sam":
        from lossviz import optimizers

        base = optimizers.get(str(settings["base_optimizer"]))
        return direction_symbol(base).replace("g_t", r"\tilde g_t")
    return DIRECTION_SYMBOL.get(name, "u_t")


def _at(symbol: str, t: int) -> str:
    """``symbol`` with its ``_t`` index set to step ``t`` (``_t`` -> ``_{t}``, ``_{t-1}`` -> ``_{t-1}``)."""
    return symbol.replace("_{t-1}", f"_{{{t - 1}}}").replace("_t", f"_{{{t}}}")


def _uniform(effective_lr: object, lr: float) -> bool:
    """Whether the step size is one number, the lr itself (SGD, Lion, sign descent, Muon's scale aside)."""
    values = np.ravel(np.asarray(effective_lr, dtype=np.float64))
    return bool(values.size and np.all(values == values[0]) and values[0] == lr)


def step_latex(
    optimizer: Any,
    t: int,
    params: np.ndarray,
    new_params: np.ndarray,
    grad: np.ndarray,
    lr: float,
    state: Mapping[str, object],
    effective_lr: object,
    direction: np.ndarray,
) -> str:
    r"""The step inspector's whole KaTeX block for step ``t`` of ``optimizer``, for one ``st.latex`` call.

    Lines, in order: the update rule (``optimizer.latex``); :math:`g_t = \nabla f(\theta_{t-1})` with the
    gradient's numbers and :math:`\gamma`; each recorded state field after the step under the optimizer's
    own symbol (:data:`STATE_SYMBOLS`); the filled-in update :math:`\theta_t = \theta_{t-1} - \gamma\, u_t`
    (``\gamma_{\text{eff}} \odot u_t`` when the step size differs by coordinate or from ``lr``), with
    :math:`u_t` the optimizer's direction (:func:`direction_symbol`).

    Parameters
    ----------
    optimizer : Optimizer
    t : int >= 1
        The step, counted from 1 as torch does: it takes ``params`` (:math:`\theta_{t-1}`) to
        ``new_params`` (:math:`\theta_t`).
    params, new_params, grad : ndarray, shape (d,)
    lr : float
        The step's learning rate.
    state : mapping of str to array
        State fields after the step (as ``Trajectory.states`` records them for one run).
    effective_lr : float or ndarray (d,)
        ``Optimizer.effective_lr`` of the state after the step.
    direction : ndarray, shape (d,)
        The direction that step applied, ``(params - new_params) / effective_lr``.

    Returns
    -------
    str
        ``\begin{gathered} ... \end{gathered}``, KaTeX-renderable.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers
    >>> adam = optimizers.get("adam", lr=0.1)
    >>> block = step_latex(adam, 3, np.array([1.0, 1.0]), np.array([0.9, 0.9]), np.array([2.0, 2.0]), 0.1,
    ...                    {"exp_avg": np.array([0.5, 0.5]), "step": 3.0}, np.array([0.2, 0.2]),
    ...                    np.array([0.5, 0.5]))
    >>> "m_{3} =" in block, r"\theta_{3} = \theta_{2} - \gamma_{\text{eff}} \odot \hat m_{3}" in block
    (True, True)
    """
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
        raise ValueError(f"t must be the step counted from 1 (torch's convention), got {t!r}")
    t = int(t)
    symbols = STATE_SYMBOLS.get(optimizer.name, {})
    if optimizer.name == "sam":
        base = str(optimizer.hyperparameters["base_optimizer"])
        symbols = {**{f"base.{k}": v for k, v in STATE_SYMBOLS.get(base, {}).items()}, **symbols}
    lines = [
        optimizer.latex,
        rf"g_{{{t}}} = \nabla f(\theta_{{{t - 1}}}) = "
        + vector_latex(grad)
        + r",\quad \gamma = "
        + number_latex(float(lr)),
    ]
    for name, value in state.items():
        if name in symbols:
            symbol = symbols[name].format(t=t, previous=t - 1, next=t + 1)
            lines.append(symbol + " = " + _value_latex(value))
    u = _at(direction_symbol(optimizer), t)
    if optimizer.name == "lbfgs":
        lines.append(
            rf"\theta_{{{t}}} = \theta_{{{t - 1}}} + \Delta_{{{t}}} = "
            + vector_latex(params)
            + " + "
            + vector_latex(np.asarray(new_params) - np.asarray(params))
            + " = "
            + vector_latex(new_params)
        )
    elif _uniform(effective_lr, float(lr)):
        lines.append(
            rf"\theta_{{{t}}} = \theta_{{{t - 1}}} - \gamma\, {u} = "
            + vector_latex(params)
            + " - "
            + number_latex(float(lr))
            + vector_latex(direction)
            + " = "
            + vector_latex(new_params)
        )
    else:
        effective = np.broadcast_to(np.asarray(effective_lr, dtype=np.float64), np.shape(params))
        lines.append(
            rf"\theta_{{{t}}} = \theta_{{{t - 1}}} - \gamma_{{\text{{eff}}}} \odot {u} = "
            + vector_latex(params)
            + " - "
            + vector_latex(effective)
            + r" \odot "
            + vector_latex(direction)
            + " = "
            + vector_latex(new_params)
        )
    return r"\begin{gathered} " + r" \\[12pt] ".join(lines) + r" \end{gathered}"


def update_latex(
    optimizer_name: str,
    step: int,
    params: np.ndarray,
    new_params: np.ndarray,
    effective_lr: np.ndarray,
    direction: np.ndarray,
) -> str:
    """``theta_{t} = theta_{t-1} - gamma_eff ⊙ u_t`` with this step's numbers, ``step`` counted from 0
    (so ``t = step + 1``). Kept for pages that build the block themselves; :func:`step_latex` writes it
    all with each optimizer's own symbols."""
    u = _at(DIRECTION_SYMBOL.get(optimizer_name, "u_t"), step + 1)
    t = step + 1
    return (
        rf"\theta_{{{t}}} = \theta_{{{step}}} - \gamma_{{\text{{eff}}}} \odot {u} = "
        + vector_latex(params)
        + "-"
        + vector_latex(effective_lr)
        + r"\odot"
        + vector_latex(direction)
        + "="
        + vector_latex(new_params)
    )


def _rebuild(
    template: Any, recorded: Mapping[str, np.ndarray], index: int, run: int | None, prefix: str = ""
) -> Any:
    """``template`` (an optimizer state) with every array leaf replaced by its recorded value at ``index``
    (``recorded`` time-major, (T+1, R, ...)): the inverse of how :func:`lossviz.run.run` flattens states into
    ``Trajectory.states``."""
    fields = getattr(template, "_fields", None)
    if fields is not None:
        return type(template)(
            *(
                _rebuild(getattr(template, f), recorded, index, run, f"{prefix}.{f}" if prefix else f)
                for f in fields
            )
        )
    if isinstance(template, tuple):
        return tuple(
            _rebuild(item, recorded, index, run, f"{prefix}.{i}" if prefix else str(i))
            for i, item in enumerate(template)
        )
    if template is None or prefix not in recorded:
        return template
    value = recorded[prefix][index]
    if isinstance(template, (int, np.integer)) and not isinstance(template, bool):
        return int(np.ravel(value)[0])
    return np.asarray(value).reshape(np.shape(template)).astype(np.asarray(template).dtype)


def inspect_step(
    trajectory: Any, optimizer: Any, t: int, run: int | None = None, layout: Any = None
) -> dict[str, Any]:
    r"""The numbers :func:`step_latex` needs for step ``t`` (counted from 1) of a recorded trajectory.

    Parameters
    ----------
    trajectory : Trajectory
        From :func:`lossviz.run.run` with ``record_grads=True`` and ``record_state=True``.
    optimizer : Optimizer
        The optimizer of that run.
    t : int in [1, T]
    run : int, optional
        Which run, for a batched trajectory.
    layout : optional
        The objective's parameter layout, for optimizers that need it (``Optimizer.needs``).

    Returns
    -------
    dict
        ``params``, ``new_params``, ``grad`` (d,), ``lr``, ``state`` (field -> value after the step),
        ``effective_lr`` and ``direction``: ``step_latex(optimizer, t, **inspect_step(...))``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers, surfaces
    >>> from lossviz.run import run
    >>> opt = optimizers.get("adam", lr=0.01)
    >>> traj = run(surfaces.get("rosenbrock"), opt, np.array([-1.0, 1.0]), 5, record_grads=True,
    ...            record_state=True)
    >>> block = step_latex(opt, 2, **inspect_step(traj, opt, 2))
    >>> r"g_{2} = \nabla f(\theta_{1})" in block
    True
    """
    if trajectory.states is None or trajectory.grads is None:
        raise ValueError("the trajectory must be recorded with record_grads=True and record_state=True")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= trajectory.n_steps:
        raise ValueError(f"t must be a step in [1, {trajectory.n_steps}] (counted from 1), got {t!r}")
    pick = (lambda a: a[run]) if trajectory.batched else (lambda a: a)
    params, new_params = pick(trajectory.params)[t - 1], pick(trajectory.params)[t]
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(new_params))):
        raise ValueError(f"step {t} was not taken: the run stopped before it")
    lr = float(pick(trajectory.lr)[t - 1])
    # The state of every run after step t, rebuilt from the record (per-run hyperparameters need them all).
    starts = trajectory.params[:, t - 1] if trajectory.batched else params[None]
    starts = np.where(np.isfinite(starts), starts, 0.0)
    template = (
        optimizer.init(starts, layout=layout) if "layout" in optimizer.needs else optimizer.init(starts)
    )
    recorded = {
        k: (v.swapaxes(0, 1) if trajectory.batched else v[:, None]) for k, v in trajectory.states.items()
    }
    state = _rebuild(template, recorded, t, None)
    rates = trajectory.lr[:, t - 1] if trajectory.batched else np.array([lr])
    effective = np.asarray(
        optimizer.effective_lr(state, np.where(np.isfinite(rates), rates, 0.0)), dtype=np.float64
    )
    effective = np.broadcast_to(effective, starts.shape)[run if trajectory.batched else 0].copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a subnormal rate: inf, shown
        direction = np.where(effective != 0, (params - new_params) / effective, 0.0)
    fields = {
        name: np.asarray(pick(values)[t]) for name, values in trajectory.states.items() if name != "step"
    }
    return {
        "params": params,
        "new_params": new_params,
        "grad": pick(trajectory.grads)[t - 1],
        "lr": lr,
        "state": fields,
        "effective_lr": effective,
        "direction": direction,
    }
