r"""Penalties on the weights: L1, L2 and the elastic net, as wrappers that return a new objective.

A regularizer wraps any objective (a :class:`~lossviz.surfaces.Surface`, a model from
:mod:`lossviz.models`, another regularized objective) and returns one with the same protocol:
``f(params, batch=None)``, ``grad(params, batch=None)`` broadcasting over leading axes, ``dim``, and,
when the wrapped objective has them, its descriptive attributes (``n_samples``, ``predict``,
``param_names``, ``regularization_mask``, ``layer_slices``, ``unflatten``, ``init_params``, ``task``,
``domain``, ... see ``_DELEGATED``) plus ``hessian`` and ``f_affine`` with the penalty added. Anything
about the unregularized optimum (a surface's ``minima``, ``min_value``) is not passed on.
The penalty does not depend on the data, so ``batch`` only reaches the wrapped objective, and the
penalty is added in full whatever the batch size.

Conventions (with ``m`` the 0/1 mask of regularized coordinates and :math:`\lambda` = ``strength``):

.. math::

    \text{L1:}\quad R(w) = \lambda \sum_i m_i |w_i|,
    \qquad \partial R / \partial w_i = \lambda\, m_i\, \operatorname{sign}(w_i)
    \quad(\text{the subgradient } 0 \text{ at } w_i = 0)

    \text{L2:}\quad R(w) = \tfrac{\lambda}{2} \sum_i m_i w_i^2,
    \qquad \partial R / \partial w_i = \lambda\, m_i\, w_i

    \text{elastic net:}\quad R(w) = \lambda \Big( \rho \sum_i m_i |w_i|
        + \tfrac{1 - \rho}{2} \sum_i m_i w_i^2 \Big), \quad \rho = \texttt{l1\_ratio}

The L2 factor 1/2 is chosen so that the gradient ``strength * w`` is exactly what
``torch.optim.SGD(..., weight_decay=strength)`` adds to the gradient before its update: one SGD step on
``l2(objective, s)`` equals one torch SGD step with ``weight_decay=s`` on ``objective`` (when torch's
decay covers the same coordinates; torch decays every parameter it is given, biases included, unless
you use parameter groups, while here biases are left alone by default). For SGD, L2 regularization and
weight decay are then the same thing. For Adam they are not: ``torch.optim.Adam(weight_decay=s)`` adds
``s * w`` to the gradient, which is then divided by :math:`\sqrt{\hat v}` like the rest of it, so
weights with large gradient history are barely decayed; AdamW (Loshchilov & Hutter) *decouples* the
decay, ``w <- w - lr * s * w`` applied outside the adaptive scaling, which is not the gradient of any
penalty added to the loss. Model AdamW with the optimizer's ``decoupled_weight_decay``, not with a
regularizer here. The elastic net follows scikit-learn's ``ElasticNet`` parameterization
(``alpha = strength``, same ``l1_ratio``).

Biases are not regularized by default: the mask defaults to the wrapped objective's
``regularization_mask`` when it has one (models set it False on intercepts and biases), and to all
coordinates otherwise (a surface has no bias).

    >>> from lossviz import surfaces, regularizers
    >>> obj = regularizers.l2(surfaces.get("rosenbrock"), strength=0.1)
    >>> float(obj.penalty([3.0, 4.0]))
    1.25
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lossviz._validation import check_array, check_choice, check_scalar

__all__ = ["Regularized", "l1", "l2", "elastic_net", "get", "names"]

# Attributes of the wrapped objective that stay true once a penalty is added. Anything describing the
# optimum of the unregularized function (a Surface's minima, min_value) is deliberately not passed on.
_DELEGATED = frozenset({
    "n_samples", "n_features", "n_classes", "n_outputs", "X", "y", "task", "loss", "link",
    "predict", "decision_function", "predict_labels", "param_names", "regularization_mask",
    "layer_slices", "unflatten", "flatten", "filter_normalize", "init_params", "widths", "hidden",
    "activation", "domain", "log_scale",
})

# Points of an affine slice formed at once when adding the penalty (bounds memory to 256 x d floats).
_AFFINE_CHUNK = 256

_LATEX = {
    "l1": r"\lambda \sum_i m_i |w_i|",
    "l2": r"\tfrac{\lambda}{2} \sum_i m_i w_i^2",
    "elastic_net": r"\lambda \big(\rho \sum_i m_i |w_i| + \tfrac{1-\rho}{2} \sum_i m_i w_i^2\big)",
}


class Regularized:
    """An objective plus a weight penalty (build it with :func:`l1`, :func:`l2`, :func:`elastic_net`).

    Attributes
    ----------
    base : objective
        The wrapped objective.
    name : {"l1", "l2", "elastic_net"}
    strength : float
        :math:`\\lambda \\ge 0`.
    l1_ratio : float
        :math:`\\rho` in [0, 1]: 1 for L1, 0 for L2.
    mask : ndarray of bool, shape (d,), read-only
        True where a coordinate is penalized.
    dim : int
    latex : str
        The penalty as a formula.
    params : dict
        ``{"strength": ..., "l1_ratio": ...}``.
    """

    def __init__(self, base: Any, name: str, strength: float, l1_ratio: float, mask: object = None) -> None:
        if not (callable(getattr(base, "f", None)) and callable(getattr(base, "grad", None))
                and hasattr(base, "dim")):
            raise TypeError(
                f"objective must have f(params), grad(params) and dim, got {type(base).__name__}"
            )
        self.base = base
        self.name = name
        self.dim = int(base.dim)
        self.strength = check_scalar(strength, "strength", low=0.0)
        self.l1_ratio = check_scalar(l1_ratio, "l1_ratio", low=0.0, high=1.0)
        if mask is None:
            mask = getattr(base, "regularization_mask", None)
        if mask is None:
            mask_arr = np.ones(self.dim, dtype=bool)
        else:
            raw = np.asarray(mask)
            if raw.dtype != bool:
                raise TypeError(f"mask must be an array of booleans, got dtype {raw.dtype}")
            if raw.shape != (self.dim,):
                raise ValueError(f"mask must have shape ({self.dim},) (one flag per parameter), "
                                 f"got shape {raw.shape}")
            mask_arr = raw.copy()
        mask_arr.flags.writeable = False
        self.mask = mask_arr
        self.latex = _LATEX[name]
        self.params = {"strength": self.strength, "l1_ratio": self.l1_ratio}

    def __getattr__(self, attr: str) -> Any:
        # Only reached for attributes not set in __init__; hasattr() stays honest about the base.
        if attr in _DELEGATED:
            return getattr(self.__dict__["base"], attr)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {attr!r}")

    def __repr__(self) -> str:
        return (f"Regularized({self.name}, strength={self.strength:g}, l1_ratio={self.l1_ratio:g}, "
                f"base={type(self.base).__name__})")

    def _params(self, params: object) -> np.ndarray:
        return check_array(params, "params", last_dim=self.dim, finite=False)

    def penalty(self, params: object) -> np.ndarray:
        """Penalty value :math:`R(w)`, shape ``(...)`` for params of shape ``(..., d)``."""
        masked = np.where(self.mask, self._params(params), 0.0)
        # A diverged run reaches huge or infinite weights; inf (or NaN for inf * 0) is the answer there.
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.zeros(masked.shape[:-1])
            if self.l1_ratio > 0.0:
                total = total + self.l1_ratio * np.abs(masked).sum(axis=-1)
            if self.l1_ratio < 1.0:
                total = total + (1.0 - self.l1_ratio) * 0.5 * (masked * masked).sum(axis=-1)
            return self.strength * total

    def penalty_grad(self, params: object) -> np.ndarray:
        """(Sub)gradient of the penalty, shape ``(..., d)``; ``sign(0) = 0`` for the L1 part."""
        masked = np.where(self.mask, self._params(params), 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.zeros(masked.shape)
            if self.l1_ratio > 0.0:
                out = out + self.l1_ratio * np.sign(masked)
            if self.l1_ratio < 1.0:
                out = out + (1.0 - self.l1_ratio) * masked
            return self.strength * out

    def f(self, params: object, batch: object = None, **kwargs: Any) -> np.ndarray:
        """Objective plus penalty, shape ``(...)``; ``batch`` and other keywords go to the base objective."""
        w = self._params(params)
        if batch is not None:
            kwargs["batch"] = batch
        return self.base.f(w, **kwargs) + self.penalty(w)

    def grad(self, params: object, batch: object = None, **kwargs: Any) -> np.ndarray:
        """Gradient of objective plus penalty, shape ``(..., d)``."""
        w = self._params(params)
        if batch is not None:
            kwargs["batch"] = batch
        return self.base.grad(w, **kwargs) + self.penalty_grad(w)

    @property
    def f_affine(self) -> Callable[..., np.ndarray]:
        """``f_affine(origin, directions, coords, batch=None, **kwargs)``: the base objective's affine-slice
        evaluation (see :meth:`lossviz.models.DataModel.f_affine`) plus the penalty at each point.

        Only present when the base objective has ``f_affine``. The points are formed in chunks for the
        penalty too, so the slice is never held in memory at once.
        """
        base_f_affine = getattr(self.base, "f_affine", None)
        if base_f_affine is None:
            raise AttributeError("the wrapped objective has no f_affine")

        def f_affine(origin: object, directions: object, coords: object, batch: object = None,
                     **kwargs: Any) -> np.ndarray:
            values = np.asarray(base_f_affine(origin, directions, coords, batch=batch, **kwargs), dtype=float)
            theta = check_array(origin, "origin", ndim=1, last_dim=self.dim)
            D = check_array(directions, "directions", ndim=2, last_dim=self.dim)
            C = check_array(coords, "coords", last_dim=D.shape[0]).reshape(-1, D.shape[0])
            penalty = np.empty(C.shape[0])
            for start in range(0, C.shape[0], _AFFINE_CHUNK):
                rows = slice(start, start + _AFFINE_CHUNK)
                penalty[rows] = self.penalty(theta + C[rows] @ D)
            return values + penalty.reshape(values.shape)

        return f_affine

    @property
    def hessian(self) -> Callable[[object], np.ndarray]:
        """Hessian ``(..., d, d)``: the base's plus the L2 part's
        :math:`\\lambda (1-\\rho) \\operatorname{diag}(m)`.

        Only present when the base objective has one; the L1 part adds nothing (it is piecewise linear,
        with no second derivative at 0).
        """
        base_hessian = getattr(self.base, "hessian", None)
        if base_hessian is None:
            raise AttributeError("the wrapped objective has no hessian")
        diagonal = np.diag(self.strength * (1.0 - self.l1_ratio) * self.mask)

        def hessian(params: object) -> np.ndarray:
            return base_hessian(self._params(params)) + diagonal

        return hessian


def l1(objective: Any, strength: float, mask: object = None) -> Regularized:
    r"""Add :math:`\lambda \sum_i m_i |w_i|` (lasso): drives weights to exactly zero.

    Parameters
    ----------
    objective : objective
        Anything with ``f``, ``grad`` and ``dim``.
    strength : float, >= 0
    mask : array of bool, shape (d,), optional
        Coordinates to penalize; defaults to ``objective.regularization_mask`` or all.
    """
    return Regularized(objective, "l1", strength, 1.0, mask)


def l2(objective: Any, strength: float, mask: object = None) -> Regularized:
    r"""Add :math:`\tfrac{\lambda}{2} \sum_i m_i w_i^2` (ridge); its gradient :math:`\lambda w` is SGD's
    ``weight_decay`` term.

    Parameters
    ----------
    objective : objective
    strength : float, >= 0
    mask : array of bool, shape (d,), optional
    """
    return Regularized(objective, "l2", strength, 0.0, mask)


def elastic_net(objective: Any, strength: float, l1_ratio: float = 0.5, mask: object = None) -> Regularized:
    r"""Add :math:`\lambda(\rho \|w\|_1 + \tfrac{1-\rho}{2}\|w\|_2^2)` on the masked coordinates.

    Parameters
    ----------
    objective : objective
    strength : float, >= 0
    l1_ratio : float in [0, 1]
        :math:`\rho`; 1 is pure L1, 0 is pure L2 (as scikit-learn's ``ElasticNet``).
    mask : array of bool, shape (d,), optional
    """
    return Regularized(objective, "elastic_net", strength, l1_ratio, mask)


_FACTORIES: dict[str, Callable[..., Regularized]] = {"l1": l1, "l2": l2, "elastic_net": elastic_net}


def names() -> list[str]:
    """Regularizer names accepted by :func:`get`."""
    return list(_FACTORIES)


def get(name: str, objective: Any, **params: Any) -> Regularized:
    """Wrap ``objective`` with the regularizer ``name`` (``"none"`` is not a regularizer: skip the call).

    ``params`` are ``strength``, ``mask`` and, for the elastic net, ``l1_ratio``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an out-of-range parameter.
    TypeError
        For a parameter the regularizer does not take.
    """
    check_choice(name, "regularizer", _FACTORIES)
    try:
        return _FACTORIES[name](objective, **params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc) or "missing" in str(exc):
            raise TypeError(f"regularizer {name!r}: {exc}") from None
        raise
