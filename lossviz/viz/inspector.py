"""The step inspector's formulas: an optimizer's update with the numbers of one step filled in."""
from __future__ import annotations

import numpy as np

__all__ = ["number_latex", "vector_latex", "update_latex", "DIRECTION_SYMBOL"]

# The search direction u in "theta_{t+1} = theta_t - eta_eff * u_t", per optimizer (see
# Optimizer.effective_lr for what eta_eff is for each).
DIRECTION_SYMBOL = {
    "sgd": r"b_t",
    "adagrad": r"g_t",
    "rmsprop": r"g_t",
    "adadelta": r"g_t",
    "adam": r"\hat m_t",
    "adamw": r"\hat m_t",
    "nadam": r"\tilde m_t",
    "radam": r"\hat m_t",
    "adamax": r"\hat m_t",
}
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
}


def number_latex(value: float) -> str:
    if not np.isfinite(value):
        return r"\text{nan}"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def vector_latex(values: np.ndarray) -> str:
    """A column vector in LaTeX, numbers to 4 significant digits."""
    return r"\begin{pmatrix}" + r"\\".join(number_latex(float(v)) for v in np.ravel(values)) + r"\end{pmatrix}"


def update_latex(optimizer_name: str, step: int, params: np.ndarray, new_params: np.ndarray,
                 effective_lr: np.ndarray, direction: np.ndarray) -> str:
    """``theta_{t+1} = theta_t - gamma_eff ⊙ u_t`` with this step's numbers (γ is torch's lr symbol)."""
    u = DIRECTION_SYMBOL.get(optimizer_name, "u_t")
    t = step + 1
    return (
        rf"\theta_{{{t}}} = \theta_{{{step}}} - \gamma_{{\text{{eff}}}} \odot {u} = "
        + vector_latex(params) + "-" + vector_latex(effective_lr) + r"\odot" + vector_latex(direction)
        + "=" + vector_latex(new_params)
    )
