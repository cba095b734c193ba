"""Optimizers with torch.optim's (or the reference package's) names, defaults and update rules, vectorized
over runs.

An :class:`Optimizer` follows optax's shape: ``init(params) -> state`` and
``update(grad, state, params, lr) -> (new_params, new_state)`` are pure functions over arrays with a
leading *run* axis, ``params`` and ``grad`` of shape ``(R, d)``. Nothing is mutated, so a page can keep
every state of a trajectory. The state is a ``NamedTuple`` whose fields carry the reference's state names
(``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ...), each an array of shape ``(R, d)`` (``(R,)`` for
per-run scalars such as NAdam's ``mu_product``), plus ``step``, the number of updates applied so far (an
``int`` shared by all runs). A field is ``None`` where the reference keeps no such state.

Every hyperparameter (and the ``lr`` given to ``update``) is either a scalar or an array of shape ``(R,)``,
one value per run, so a 64 x 64 (lr, momentum) sweep is one optimizer advancing R = 4096 runs at once.
For the same settings a trajectory equals the reference's (torch's single-tensor code path) to float64
round-off; each family's docstring states its reference and, where it is not float64-exact, the tolerance.

Some optimizers need more than ``(grad, state, params, lr)``: L-BFGS re-evaluates the objective, SAM takes
a second gradient, Newton's method the Hessian, Muon and Adafactor see weight matrices as matrices. They
declare it in :attr:`Optimizer.needs`, and :func:`lossviz.run.run` passes exactly that (``objective=``,
``layout=``). Optimizers that keep a second sequence of points (ASGD's average, schedule-free's
evaluation sequence, L-BFGS's function evaluations) name it in :attr:`Optimizer.paths`.

Every factory's hyperparameters are published as data (:func:`spec`): name, label, kind, allowed range
and default, the same rows the constructor validates with.

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

Modules, one per family: ``sgd`` (SGD), ``adaptive`` (Adagrad, RMSprop, Adadelta), ``adam`` (Adam, AdamW,
NAdam, RAdam, Adamax), ``sign`` (Rprop, Lion, sign descent), ``averaging`` (ASGD, schedule-free SGD and
AdamW), ``matrix`` (Muon, Adafactor), ``second_order`` (L-BFGS, Newton), ``sam``, ``clipping``; the shared
type, the spec rows and the helpers live in ``_core``.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from lossviz._validation import check_choice, check_per_run
from lossviz.optimizers._core import (
    Block,
    HyperLike,
    HyperSpec,
    Optimizer,
    checked_learning_rates,
    parameter_layout,
)
from lossviz.optimizers.adam import (
    AdamaxState,
    AdamState,
    NAdamState,
    RAdamState,
    adam,
    adamax,
    adamw,
    nadam,
    radam,
)
from lossviz.optimizers.adaptive import (
    AdadeltaState,
    AdagradState,
    RMSpropState,
    adadelta,
    adagrad,
    rmsprop,
)
from lossviz.optimizers.averaging import (
    ASGDState,
    ScheduleFreeState,
    asgd,
    schedule_free_adamw,
    schedule_free_sgd,
)
from lossviz.optimizers.clipping import clip_by_norm, clip_by_value
from lossviz.optimizers.matrix import AdafactorState, MuonState, adafactor, muon, newton_schulz
from lossviz.optimizers.sam import SAMState, sam
from lossviz.optimizers.second_order import LBFGSState, NewtonState, lbfgs, newton
from lossviz.optimizers.sgd import SGDState, sgd
from lossviz.optimizers.sign import LionState, RpropState, SignSGDState, lion, rprop, signsgd

__all__ = [
    "ASGDState",
    "AdadeltaState",
    "AdafactorState",
    "AdagradState",
    "AdamState",
    "AdamaxState",
    "Block",
    "HyperSpec",
    "LBFGSState",
    "LionState",
    "MuonState",
    "NAdamState",
    "NewtonState",
    "Optimizer",
    "RAdamState",
    "RMSpropState",
    "RpropState",
    "SAMState",
    "SGDState",
    "ScheduleFreeState",
    "SignSGDState",
    "adadelta",
    "adafactor",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "asgd",
    "clip_by_norm",
    "clip_by_value",
    "get",
    "hyperparameter_names",
    "lbfgs",
    "lion",
    "muon",
    "nadam",
    "names",
    "newton",
    "newton_schulz",
    "parameter_layout",
    "radam",
    "rmsprop",
    "rprop",
    "sam",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "sgd",
    "signsgd",
    "spec",
]

# run.py reads this name.
_checked_learning_rates = checked_learning_rates

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
    "rprop": rprop,
    "asgd": asgd,
    "adafactor": adafactor,
    "lbfgs": lbfgs,
    "muon": muon,
    "lion": lion,
    "signsgd": signsgd,
    "sam": sam,
    "schedule_free_sgd": schedule_free_sgd,
    "schedule_free_adamw": schedule_free_adamw,
    "newton": newton,
}


def names() -> list[str]:
    """Registered optimizer names, in the order pages list them."""
    return list(_FACTORIES)


def hyperparameter_names(name: str, base_optimizer: str | None = None) -> list[str]:
    """The names ``get(name, ...)`` accepts for optimizer ``name`` (clipping options excluded).

    For ``"sam"`` these are SAM's own followed by its base optimizer's (``base_optimizer``, default
    ``"sgd"``).
    """
    factory = _FACTORIES[check_choice(name, "optimizer", names())]
    own = [p for p in inspect.signature(factory).parameters if p != "base_hyperparameters"]
    if name != "sam":
        return own
    return own + hyperparameter_names(check_choice(base_optimizer or "sgd", "base_optimizer", names()))


def spec(name: str, base_optimizer: str | None = None) -> dict[str, HyperSpec]:
    """The user-facing hyperparameters of optimizer ``name`` as data, in signature order.

    Each :class:`HyperSpec` gives torch's (or the reference's) name, a short label, a kind, the allowed
    range (the very rows the constructor validates with, so a UI built from them cannot offer a value
    the constructor refuses) and the default. A tuple argument is split into its components
    (``"betas[0]"``, ``"betas[1]"``). For ``"sam"``: SAM's rows, then those of ``base_optimizer``
    (default ``"sgd"``).

    >>> from lossviz import optimizers
    >>> row = optimizers.spec("adam")["betas[1]"]
    >>> row.label, row.kind, row.range, row.default
    ('β₂ (second moment)', 'fraction', '[0, 1)', 0.999)
    """
    factory = _FACTORIES[check_choice(name, "optimizer", names())]
    rows = dict(factory.specs)  # type: ignore[attr-defined]
    if name == "sam":
        rows.update(spec(check_choice(base_optimizer or "sgd", "base_optimizer", names())))
    return rows


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
    valid = hyperparameter_names(name, hyperparameters.get("base_optimizer") if name == "sam" else None)
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
