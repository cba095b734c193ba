"""Loss functions: per-sample loss, mean over samples, and the gradient with respect to the predictions.

A :class:`Loss` compares targets ``y_true`` with predictions ``y_pred``:

- ``value(y_true, y_pred)`` is the mean of the per-sample loss over the sample axis,
- ``grad(y_true, y_pred)`` is ``d value / d y_pred`` (so it includes the ``1/n``), same shape as ``y_pred``,
- ``per_sample(y_true, y_pred)`` is the unreduced loss, shape ``(..., n)`` (not for ``rmse``),
- ``value_and_grad(y_true, y_pred)`` gives both, validating the inputs once.

Shapes and broadcasting
-----------------------
Predictions may carry leading axes, one per parameter vector being evaluated, so thousands of models are
scored in one call without a Python loop:

=================================  ===============================  ================  ===========
loss kind                          ``y_true``                       ``y_pred``        ``value``
=================================  ===============================  ================  ===========
regression, binary                 ``(n,)``                         ``(..., n)``      ``(...)``
multiclass (``cross_entropy*``)    ``(n,)`` indices or ``(n, C)``   ``(..., n, C)``   ``(...)``
=================================  ===============================  ================  ===========

``grad`` has the shape of ``y_pred`` and ``per_sample`` the shape ``(..., n)``. ``value`` is a Python
``float`` when ``y_pred`` has no leading axis, an ndarray of shape ``(...)`` otherwise. A scalar ``y_true``
means "the same target for every sample" (handy to plot one loss curve over many predictions).

Label conventions (validated; anything else is refused with a ``ValueError`` naming ``y_true``)
-----------------------------------------------------------------------------------------------
- regression losses (``mse``, ``rmse``, ``mae``, ``huber``, ``log_cosh``): any finite real targets.
- ``binary_cross_entropy`` and ``binary_cross_entropy_with_logits``: ``y`` in ``{0, 1}``.
- margin losses (``logistic``, ``hinge``, ``squared_hinge``, ``zero_one``): ``y`` in ``{-1, +1}``;
  ``{0, 1}`` is accepted too and 0 is read as -1 (mixing -1 and 0 is refused).
- ``cross_entropy`` and ``cross_entropy_from_probabilities``: integer class indices in
  ``{0, ..., C-1}``, shape ``(n,)``, or target rows of shape ``(n, C)`` (one-hot or class probabilities)
  with entries in ``[0, 1]`` summing to 1 (within 1e-6).

Inputs (the ``input`` attribute: which link function a model applies before the loss)
-------------------------------------------------------------------------------------
=====================  ======================================================================
``"value"``            a real prediction of the target (identity link)
``"probability"``      ``P(y = 1)`` in ``[0, 1]`` (a model applies the sigmoid)
``"logit"``            a real log-odds ``s``; the loss applies the sigmoid itself, stably
``"score"``            a real decision score ``s``; the loss uses the margin ``y s``
``"logits"``           ``C`` real class scores per sample; the loss applies log-softmax, stably
``"probabilities"``    ``C`` class probabilities per sample in ``[0, 1]`` (a model applies softmax)
=====================  ======================================================================

The probability and logit forms are separate names, as in PyTorch: ``binary_cross_entropy`` takes
probabilities (``torch.nn.BCELoss``) and ``binary_cross_entropy_with_logits`` takes logits
(``torch.nn.BCEWithLogitsLoss``); ``cross_entropy`` takes logits (``torch.nn.CrossEntropyLoss``) and
``cross_entropy_from_probabilities`` takes probabilities. One name means one input kind, so a name in a URL
says everything.

Non-smooth points (subgradients)
--------------------------------
- ``mae`` at ``r = 0``: 0 (``np.sign``), as torch's ``l1_loss``.
- ``rmse`` when every residual is 0: 0.
- ``hinge`` at the kink ``y s = 1``: 0, the value of the flat side (``y s >= 1`` gives gradient 0,
  ``y s < 1`` gives ``-y``).
- ``zero_one``: the gradient is 0 everywhere (it is piecewise constant), so it carries no information for
  gradient descent; ``has_useful_gradient`` is False. It is there to be looked at, not descended.

Numerics
--------
Logit and score losses are written in their stable forms (softplus via ``max(x, 0) + log1p(exp(-|x|))``,
log-sum-exp with the row maximum subtracted), so logits of +-1000 give finite values and gradients equal to
their limits. ``binary_cross_entropy`` clamps each log at -100 exactly like ``torch.nn.BCELoss``, so
probabilities 0 and 1 give finite losses; its gradient follows torch's
``(p - y) / max(p (1 - p), eps)`` with torch's ``eps = float32(1e-12)``, so it is exactly torch's at
p = 0 and p = 1 too. ``cross_entropy_from_probabilities`` uses the same clamp and the gradient
``-t / max(p, eps)``.

Precision: float32 ``y_pred`` keeps ``value`` and ``per_sample`` in float32 when the targets are labels
(binary, margin and class-index losses), so a grid of 4e8 logits costs float32 ``exp``/``log1p`` (about a
tenth of float64's); ``value`` is still accumulated and returned in float64, within ~1e-7 relative of the
float64 result for logits of moderate size. Real-valued targets (regression) and target rows stay float64, so
those losses compute in float64 as before. ``grad`` is always float64, and any other input (float64,
integers, lists) gives exactly the float64 results.

Validation is O(size of y_pred) and vectorized: NaN and inf are refused in both arrays, probabilities
outside ``[0, 1]`` are refused, and mismatched shapes are refused with both shapes in the message.

Example::

    >>> from lossviz import losses
    >>> mse = losses.get("mse")
    >>> round(mse.value([1.0, 2.0], [1.5, 2.0]), 6)
    0.125
    >>> mse.grad([1.0, 2.0], [[1.5, 2.0], [1.0, 3.0]]).shape
    (2, 2)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lossviz._validation import check_array, check_choice, check_scalar

__all__ = ["TASKS", "Loss", "get", "names"]

TASKS = ("regression", "classification")

# torch.nn.BCELoss clamps log(p) at -100 and divides its gradient by max(p (1 - p), EPSILON), where
# EPSILON is the float32 literal 1e-12 even in float64; reproducing that rounding makes the gradients at
# p = 0 and p = 1 agree with torch exactly rather than to 4e-9.
_LOG_FLOOR = -100.0
_GRAD_EPS = float(np.float32(1e-12))
_TARGET_ROW_SUM_TOL = 1e-6

Pair = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Loss:
    """A loss function with its mean value, gradient and per-sample values.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"huber"``.
    title : str
        Human-readable name, e.g. ``"Huber"``.
    task : {"regression", "classification"}
    input : {"value", "probability", "logit", "score", "logits", "probabilities"}
        What ``y_pred`` holds; see the module docstring for the link function each implies.
    targets : {"real", "binary", "sign", "classes"}
        Label convention of ``y_true``: any real, ``{0, 1}``, ``{-1, +1}`` (or ``{0, 1}``), class
        indices or ``(n, C)`` target rows.
    latex : str
        The per-sample loss and the reduction, in LaTeX.
    params : dict
        The parameters it was built with (e.g. ``{"delta": 1.0}`` for Huber).
    has_useful_gradient : bool
        False for ``zero_one``, whose gradient is 0 everywhere.
    has_per_sample : bool
        False for ``rmse`` (a square root of a mean is not a mean of per-sample terms).
    """

    name: str
    title: str
    task: str
    input: str
    targets: str
    latex: str
    _per_sample: Pair | None = field(repr=False)
    _per_sample_grad: Pair | None = field(repr=False)
    params: dict = field(default_factory=dict)
    has_useful_gradient: bool = True
    _value: Pair | None = field(default=None, repr=False)
    _grad: Pair | None = field(default=None, repr=False)

    @property
    def multiclass(self) -> bool:
        """True when ``y_pred`` has a trailing class axis, shape ``(..., n, C)``."""
        return self.targets == "classes"

    @property
    def has_per_sample(self) -> bool:
        """False for ``rmse``, whose :meth:`per_sample` raises."""
        return self._per_sample is not None

    def value(self, y_true: object, y_pred: object) -> float | np.ndarray:
        """Mean loss over the samples.

        Parameters
        ----------
        y_true : array_like, shape (n,) (or (n, C) target rows for multiclass)
        y_pred : array_like, shape (..., n) (or (..., n, C) for multiclass)

        Returns
        -------
        float or ndarray, shape (...)
            A Python float when ``y_pred`` has no leading axis.
        """
        return self._checked_value(*self._prepare(y_true, y_pred, keep_float32=True))

    def grad(self, y_true: object, y_pred: object) -> np.ndarray:
        """Gradient of :meth:`value` with respect to ``y_pred`` (includes the ``1/n``), y_pred's shape."""
        return self._checked_grad(*self._prepare(y_true, y_pred))

    def value_and_grad(self, y_true: object, y_pred: object) -> tuple[float | np.ndarray, np.ndarray]:
        """``(value(y_true, y_pred), grad(y_true, y_pred))`` with the inputs validated once."""
        targets, pred = self._prepare(y_true, y_pred, keep_float32=True)
        value = self._checked_value(targets, pred)
        if pred.dtype == np.float32:
            # The gradient stays float64 whatever the input, as before float32 values existed; the
            # targets were already validated, so only the (exact) widening is repeated.
            targets = targets if targets.dtype.kind == "i" else targets.astype(np.float64)
            pred = pred.astype(np.float64)
        return value, self._checked_grad(targets, pred)

    def per_sample(self, y_true: object, y_pred: object) -> np.ndarray:
        """Unreduced loss, shape ``(..., n)``.

        Raises
        ------
        ValueError
            For ``rmse``, which has no per-sample form.
        """
        if self._per_sample is None:
            raise ValueError(
                f"loss {self.name!r} has no per-sample form (it is not a mean of per-sample terms); "
                "use value() or the 'mse' loss for per-sample squared errors"
            )
        targets, pred = self._prepare(y_true, y_pred, keep_float32=True)
        return self._per_sample(targets, pred)

    def _checked_value(self, targets: np.ndarray, pred: np.ndarray) -> float | np.ndarray:
        if self._value is not None:
            out = self._value(targets, pred)
        else:
            per_sample = self._per_sample(targets, pred)
            # float32 per-sample terms are summed in float64: a float32 sum of 10^4 terms would add up
            # to ~1e-6 relative error on top of the terms' own ~1e-7.
            out = per_sample.mean(axis=-1, dtype=np.float64 if per_sample.dtype == np.float32 else None)
        return float(out) if np.ndim(out) == 0 else out

    def _checked_grad(self, targets: np.ndarray, pred: np.ndarray) -> np.ndarray:
        if self._grad is not None:
            return self._grad(targets, pred)
        n_samples = pred.shape[-2] if self.multiclass else pred.shape[-1]
        return self._per_sample_grad(targets, pred) / n_samples

    # -- validation -------------------------------------------------------------------------------------

    def _prepare(
        self, y_true: object, y_pred: object, keep_float32: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validated ``(targets, pred)``; float64 unless ``keep_float32`` and ``y_pred`` is float32.

        With float32 predictions kept, labels (``{0, 1}``, ``{-1, +1}``) become float32 too, which is
        exact, so the whole per-sample computation runs in float32 (float32 ``exp`` and ``log1p`` cost
        about a tenth of float64's). Real-valued targets and target rows stay float64, so the arithmetic
        with them promotes to float64 exactly as before rather than rounding the targets.
        """
        float32 = keep_float32 and getattr(y_pred, "dtype", None) == np.float32
        pred = check_array(y_pred, "y_pred", dtype=np.float32 if float32 else np.float64)
        if self.multiclass:
            if pred.ndim < 2:
                raise ValueError(
                    f"y_pred for {self.name} must have shape (..., n, C), one row of C class "
                    f"{self.input} per sample, got shape {pred.shape}"
                )
            n_samples, n_classes = pred.shape[-2:]
        else:
            if pred.ndim < 1:
                raise ValueError(f"y_pred for {self.name} must have shape (..., n), got shape {pred.shape}")
            n_samples, n_classes = pred.shape[-1], 0
        if n_samples == 0:
            raise ValueError(f"y_pred must hold at least one sample, got shape {pred.shape}")
        if self.input in ("probability", "probabilities") and not np.all((pred >= 0.0) & (pred <= 1.0)):
            raise ValueError(
                f"y_pred for {self.name} must hold probabilities in [0, 1], "
                f"got values from {pred.min():g} to {pred.max():g}"
            )
        truth = check_array(y_true, "y_true")
        if self.multiclass:
            return _class_targets(truth, pred.shape, n_samples, n_classes), pred
        if truth.ndim == 0:
            truth = np.full(n_samples, float(truth))
        elif truth.shape != (n_samples,):
            raise ValueError(
                f"y_true has shape {truth.shape} but y_pred has shape {pred.shape}: "
                f"y_true must have shape (n,) and y_pred shape (..., n)"
            )
        if self.targets == "binary":
            _check_labels(truth, self.name, allowed=(0.0, 1.0), allowed_text="{0, 1}")
        elif self.targets == "sign":
            truth = _sign_labels(truth, self.name)
        if float32 and self.targets in ("binary", "sign"):
            truth = truth.astype(np.float32)
        return truth, pred


def _first_bad(values: np.ndarray, ok: np.ndarray) -> str:
    return f"{values[~ok].flat[0]:g}"


def _check_labels(y: np.ndarray, loss_name: str, *, allowed: tuple[float, ...], allowed_text: str) -> None:
    ok = np.isin(y, allowed)
    if not np.all(ok):
        raise ValueError(
            f"y_true for {loss_name} must hold labels in {allowed_text}, got {_first_bad(y, ok)}"
        )


def _sign_labels(y: np.ndarray, loss_name: str) -> np.ndarray:
    allowed_text = "{-1, +1} (or {0, 1}, with 0 read as -1)"
    _check_labels(y, loss_name, allowed=(-1.0, 0.0, 1.0), allowed_text=allowed_text)
    has_zero = np.any(y == 0.0)
    if has_zero and np.any(y == -1.0):
        raise ValueError(
            f"y_true for {loss_name} mixes the labels -1 and 0; use {{-1, +1}} or {{0, 1}}, not three values"
        )
    return np.where(y == 0.0, -1.0, y) if has_zero else y


def _class_targets(
    truth: np.ndarray, pred_shape: tuple[int, ...], n_samples: int, n_classes: int
) -> np.ndarray:
    """Validate class targets: return class indices as an int array (n,) or target rows as floats (n, C)."""
    if truth.ndim == 0:
        truth = np.full(n_samples, float(truth))
    if truth.ndim == 1:
        if truth.shape != (n_samples,):
            raise ValueError(
                f"y_true has shape {truth.shape} but y_pred has shape {pred_shape}: class indices y_true "
                f"must have shape (n,) for y_pred of shape (..., n, C)"
            )
        ok = (truth >= 0) & (truth < n_classes) & (truth == np.floor(truth))
        if not np.all(ok):
            raise ValueError(
                f"y_true must hold class indices in {{0, ..., {n_classes - 1}}} (y_pred has C = {n_classes} "
                f"columns), got {_first_bad(truth, ok)}"
            )
        return truth.astype(np.intp)
    if truth.shape != (n_samples, n_classes):
        raise ValueError(
            f"y_true has shape {truth.shape} but y_pred has shape {pred_shape}: y_true must be class "
            f"indices of shape (n,) or target rows of shape (n, C) = ({n_samples}, {n_classes})"
        )
    if not np.all((truth >= 0.0) & (truth <= 1.0)):
        raise ValueError(
            f"y_true target rows must hold probabilities in [0, 1], got values from {truth.min():g} to "
            f"{truth.max():g}"
        )
    row_sums = truth.sum(axis=-1)
    if not np.all(np.abs(row_sums - 1.0) <= _TARGET_ROW_SUM_TOL):
        bad = np.argmax(np.abs(row_sums - 1.0))
        raise ValueError(
            f"y_true target rows must sum to 1 (one-hot or class probabilities), row {bad} sums to "
            f"{row_sums[bad]:g}"
        )
    return truth


# -- stable building blocks -------------------------------------------------------------------------------


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp is only taken of non-positive numbers."""
    e = np.exp(-np.abs(x))
    inverse = 1.0 / (1.0 + e)
    return np.where(x >= 0.0, inverse, e * inverse)


def _clamped_log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), _LOG_FLOOR)


# -- registry ---------------------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[..., Loss]] = {}
_MEAN = r"L = \frac{1}{n}\sum_{i=1}^{n} \ell(y_i, \hat y_i)"


def _register(name: str) -> Callable[[Callable[..., Loss]], Callable[..., Loss]]:
    def deco(factory: Callable[..., Loss]) -> Callable[..., Loss]:
        _REGISTRY[name] = factory
        return factory

    return deco


def names(task: str | None = None) -> list[str]:
    """Registered loss names in registry order, optionally only those of ``task``."""
    if task is None:
        return list(_REGISTRY)
    check_choice(task, "task", TASKS)
    return [name for name, factory in _REGISTRY.items() if factory().task == task]


def get(name: str, **params: object) -> Loss:
    """Build the loss ``name`` with its parameters (only ``huber`` takes one: ``delta``).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an out-of-range parameter.
    TypeError
        For a parameter the loss does not take.
    """
    check_choice(name, "loss", _REGISTRY)
    try:
        return _REGISTRY[name](**params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise TypeError(f"loss {name!r} got an unknown parameter: {exc}") from None
        raise


# -- regression -------------------------------------------------------------------------------------------


@_register("mse")
def _mse() -> Loss:
    """Mean squared error, ``torch.nn.MSELoss``."""
    return Loss(
        name="mse",
        title="Mean squared error",
        task="regression",
        input="value",
        targets="real",
        latex=r"\ell(y, \hat y) = (\hat y - y)^2, \quad " + _MEAN,
        _per_sample=lambda y, p: (p - y) ** 2,
        _per_sample_grad=lambda y, p: 2.0 * (p - y),
    )


def _rmse_value(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.sqrt(((p - y) ** 2).mean(axis=-1))


def _rmse_grad(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    residual = p - y
    root = _rmse_value(y, p)[..., None]
    # At a perfect fit the root is 0 and the gradient is undefined; 0 is a valid subgradient there.
    safe_root = np.where(root > 0.0, root, 1.0)
    return np.where(root > 0.0, residual / (residual.shape[-1] * safe_root), 0.0)


@_register("rmse")
def _rmse() -> Loss:
    """Root mean squared error; gradient ``r / (n RMSE)``, 0 at a perfect fit."""
    return Loss(
        name="rmse",
        title="Root mean squared error",
        task="regression",
        input="value",
        targets="real",
        latex=r"L = \sqrt{\frac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2}",
        _per_sample=None,
        _per_sample_grad=None,
        _value=_rmse_value,
        _grad=_rmse_grad,
    )


@_register("mae")
def _mae() -> Loss:
    """Mean absolute error, ``torch.nn.L1Loss``; subgradient 0 at ``r = 0``."""
    return Loss(
        name="mae",
        title="Mean absolute error",
        task="regression",
        input="value",
        targets="real",
        latex=r"\ell(y, \hat y) = |\hat y - y|, \quad " + _MEAN,
        _per_sample=lambda y, p: np.abs(p - y),
        _per_sample_grad=lambda y, p: np.sign(p - y),
    )


@_register("huber")
def _huber(delta: float = 1.0) -> Loss:
    """Huber loss, ``torch.nn.HuberLoss(delta=delta)``: quadratic for ``|r| <= delta``, linear beyond.

    Parameters
    ----------
    delta : float, > 0
        Where the quadratic part meets the linear part.
    """
    delta = check_scalar(delta, "delta", low=0.0, include_low=False, include_high=False)

    def per_sample(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        abs_r = np.abs(p - y)
        # With c = min(|r|, delta), c (|r| - c/2) is r^2/2 inside and delta (|r| - delta/2) outside,
        # in one pass instead of computing both branches for np.where.
        capped = np.minimum(abs_r, delta)
        return capped * (abs_r - 0.5 * capped)

    return Loss(
        name="huber",
        title="Huber",
        task="regression",
        input="value",
        targets="real",
        latex=(
            r"\ell(y, \hat y) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
            r"\delta\,(|r| - \tfrac12 \delta) & |r| > \delta \end{cases},\ r = \hat y - y,\ "
            rf"\delta = {delta:g}, \quad " + _MEAN
        ),
        _per_sample=per_sample,
        _per_sample_grad=lambda y, p: np.clip(p - y, -delta, delta),
        params={"delta": delta},
    )


@_register("log_cosh")
def _log_cosh() -> Loss:
    """Log-cosh, written as ``|r| + log1p(exp(-2|r|)) - log 2`` so cosh never overflows."""

    def per_sample(y: np.ndarray, p: np.ndarray) -> np.ndarray:
        abs_r = np.abs(p - y)
        return abs_r + np.log1p(np.exp(-2.0 * abs_r)) - np.log(2.0)

    return Loss(
        name="log_cosh",
        title="Log-cosh",
        task="regression",
        input="value",
        targets="real",
        latex=r"\ell(y, \hat y) = \log\cosh(\hat y - y), \quad " + _MEAN,
        _per_sample=per_sample,
        _per_sample_grad=lambda y, p: np.tanh(p - y),
    )


# -- binary classification --------------------------------------------------------------------------------


def _bce_per_sample(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    # Written as in torch (log clamped at -100) so that p = 0 and p = 1 stay finite.
    return -(y * _clamped_log(p) + (1.0 - y) * _clamped_log(1.0 - p))


@_register("binary_cross_entropy")
def _binary_cross_entropy() -> Loss:
    """Binary cross-entropy from probabilities, ``torch.nn.BCELoss``; ``y`` in {0, 1}."""
    return Loss(
        name="binary_cross_entropy",
        title="Binary cross-entropy (probabilities)",
        task="classification",
        input="probability",
        targets="binary",
        latex=r"\ell(y, p) = -\big[y \log p + (1 - y)\log(1 - p)\big],\ y \in \{0, 1\}, \quad " + _MEAN,
        _per_sample=_bce_per_sample,
        _per_sample_grad=lambda y, p: (p - y) / np.maximum(p * (1.0 - p), _GRAD_EPS),
    )


@_register("binary_cross_entropy_with_logits")
def _binary_cross_entropy_with_logits() -> Loss:
    """Binary cross-entropy from logits, ``torch.nn.BCEWithLogitsLoss``; ``y`` in {0, 1}."""
    return Loss(
        name="binary_cross_entropy_with_logits",
        title="Binary cross-entropy (logits)",
        task="classification",
        input="logit",
        targets="binary",
        latex=(
            r"\ell(y, s) = -\big[y \log\sigma(s) + (1 - y)\log(1 - \sigma(s))\big] "
            r"= \log(1 + e^{s}) - y s,\ y \in \{0, 1\}, \quad " + _MEAN
        ),
        _per_sample=lambda y, s: _softplus(s) - y * s,
        _per_sample_grad=lambda y, s: _sigmoid(s) - y,
    )


def _pick(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``a[..., i, labels[i]]`` for every sample i: shape (..., n, C) -> (..., n)."""
    return a[..., np.arange(labels.shape[0]), labels]


def _row_max(z: np.ndarray) -> np.ndarray:
    """Max over the class axis, shape (..., n, C) -> (..., n, 1)."""
    n_classes = z.shape[-1]
    if n_classes > 32:
        return z.max(axis=-1, keepdims=True)
    # numpy reduces a short last axis slowly; C elementwise maxima over strided columns run ~2.5x faster.
    row_max = z[..., 0].copy()
    for c in range(1, n_classes):
        np.maximum(row_max, z[..., c], out=row_max)
    return row_max[..., None]


def _row_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the class axis, (..., n, C) -> (..., n); einsum is ~4x faster than sum on a short axis."""
    return np.einsum("...c->...", a)


def _cross_entropy_per_sample(t: np.ndarray, z: np.ndarray) -> np.ndarray:
    shifted = z - _row_max(z)
    log_total = np.log(_row_sum(np.exp(shifted)))
    if t.ndim == 1:
        # Class indices: gather one logit per sample instead of multiplying by a one-hot matrix.
        return log_total - _pick(shifted, t)
    return -_row_sum(t * (shifted - log_total[..., None]))


def _cross_entropy_grad(t: np.ndarray, z: np.ndarray) -> np.ndarray:
    exp_shifted = np.exp(z - _row_max(z))
    softmax = exp_shifted / _row_sum(exp_shifted)[..., None]
    if t.ndim == 1:
        softmax[..., np.arange(t.shape[0]), t] -= 1.0
        return softmax
    # d/dz of sum_c t_c (lse - z_c) = softmax(z) * sum_c t_c - t; the rows sum to 1 up to rounding.
    return softmax * t.sum(axis=-1, keepdims=True) - t


@_register("cross_entropy")
def _cross_entropy() -> Loss:
    """Multiclass cross-entropy from logits, ``torch.nn.CrossEntropyLoss``, via log-sum-exp."""
    return Loss(
        name="cross_entropy",
        title="Cross-entropy (logits)",
        task="classification",
        input="logits",
        targets="classes",
        latex=(
            r"\ell(t, z) = -\sum_{c=1}^{C} t_c \log\frac{e^{z_c}}{\sum_k e^{z_k}}"
            r" = \sum_c t_c \Big(\log\sum_k e^{z_k} - z_c\Big), \quad " + _MEAN
        ),
        _per_sample=_cross_entropy_per_sample,
        _per_sample_grad=_cross_entropy_grad,
    )


def _cross_entropy_probabilities_per_sample(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    if t.ndim == 1:
        return -_clamped_log(_pick(p, t))
    return -_row_sum(t * _clamped_log(p))


def _cross_entropy_probabilities_grad(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    if t.ndim == 1:
        grad = np.zeros_like(p)
        grad[..., np.arange(t.shape[0]), t] = -1.0 / np.maximum(_pick(p, t), _GRAD_EPS)
        return grad
    return -t / np.maximum(p, _GRAD_EPS)


@_register("cross_entropy_from_probabilities")
def _cross_entropy_from_probabilities() -> Loss:
    """Multiclass cross-entropy from class probabilities (log clamped at -100 as in ``BCELoss``).

    The rows of ``y_pred`` are expected to sum to 1 (a softmax output) but this is not checked: the loss
    and its gradient treat every entry ``p_c`` as an independent input.
    """
    return Loss(
        name="cross_entropy_from_probabilities",
        title="Cross-entropy (probabilities)",
        task="classification",
        input="probabilities",
        targets="classes",
        latex=r"\ell(t, p) = -\sum_{c=1}^{C} t_c \log p_c, \quad " + _MEAN,
        _per_sample=_cross_entropy_probabilities_per_sample,
        _per_sample_grad=_cross_entropy_probabilities_grad,
    )


# -- margin losses (y in {-1, +1}, score s, margin m = y s) -----------------------------------------------


@_register("logistic")
def _logistic() -> Loss:
    """Logistic loss ``log(1 + exp(-y s))``, ``torch.nn.SoftMarginLoss``; stable for any score."""
    return Loss(
        name="logistic",
        title="Logistic",
        task="classification",
        input="score",
        targets="sign",
        latex=r"\ell(y, s) = \log\big(1 + e^{-y s}\big),\ y \in \{-1, +1\}, \quad " + _MEAN,
        _per_sample=lambda y, s: _softplus(-y * s),
        _per_sample_grad=lambda y, s: -y * _sigmoid(-y * s),
    )


@_register("hinge")
def _hinge() -> Loss:
    """Hinge loss ``max(0, 1 - y s)``; at the kink ``y s = 1`` the gradient is 0 (the flat side)."""
    return Loss(
        name="hinge",
        title="Hinge",
        task="classification",
        input="score",
        targets="sign",
        latex=r"\ell(y, s) = \max(0,\, 1 - y s),\ y \in \{-1, +1\}, \quad " + _MEAN,
        _per_sample=lambda y, s: np.maximum(0.0, 1.0 - y * s),
        _per_sample_grad=lambda y, s: np.where(y * s < 1.0, -y, 0.0),
    )


@_register("squared_hinge")
def _squared_hinge() -> Loss:
    """Squared hinge ``max(0, 1 - y s)^2``; differentiable everywhere."""
    return Loss(
        name="squared_hinge",
        title="Squared hinge",
        task="classification",
        input="score",
        targets="sign",
        latex=r"\ell(y, s) = \max(0,\, 1 - y s)^2,\ y \in \{-1, +1\}, \quad " + _MEAN,
        _per_sample=lambda y, s: np.maximum(0.0, 1.0 - y * s) ** 2,
        _per_sample_grad=lambda y, s: -2.0 * y * np.maximum(0.0, 1.0 - y * s),
    )


@_register("zero_one")
def _zero_one() -> Loss:
    """Zero-one loss ``1[y s <= 0]`` (the error rate). Its gradient is 0 everywhere: no descent direction."""
    return Loss(
        name="zero_one",
        title="Zero-one (error rate)",
        task="classification",
        input="score",
        targets="sign",
        latex=r"\ell(y, s) = \mathbb{1}[y s \le 0],\ y \in \{-1, +1\}, \quad " + _MEAN,
        _per_sample=lambda y, s: (y * s <= 0.0).astype(np.float64),
        _per_sample_grad=lambda y, s: np.zeros(np.broadcast_shapes(np.shape(y), np.shape(s))),
        has_useful_gradient=False,
    )
