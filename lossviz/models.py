r"""Models on data as objectives over one flat float64 parameter vector.

Every model here is an *objective*: ``f(params, batch=None)`` and ``grad(params, batch=None)`` broadcast
over leading axes (params ``(..., d)`` -> loss ``(...)``, gradient ``(..., d)``), so a 101 x 101 grid of
parameter vectors, or R optimizer runs, is one call with no Python loop over them. ``batch`` is an int
index array of samples: the loss (and gradient) is then the mean over those samples only.

A model turns parameters into raw scores :math:`s` (one per sample, or ``C`` per sample), a *link*
turns scores into what the loss takes, and the loss from :mod:`lossviz.losses` compares that with the
targets:

======================  ==================  =========================================================
loss input              link                example
======================  ==================  =========================================================
``value``               identity            linear regression with ``mse``, ``huber``, ...
``value`` (binary)      sigmoid (default)   "squared error through a sigmoid": ``mse`` on
                                            :math:`\sigma(s)` against labels 0/1
``probability``         sigmoid             ``binary_cross_entropy`` on :math:`\sigma(s)`
``logit``, ``score``    identity            ``binary_cross_entropy_with_logits``, ``hinge``
``logits``              identity            ``cross_entropy`` on ``C`` scores
``probabilities``       softmax             ``cross_entropy_from_probabilities``
======================  ==================  =========================================================

Models:

- :func:`linear_regression` -- :math:`\hat y = X w + b`; one feature with an intercept gives the
  exact two-parameter (slope, intercept) landscape.
- :func:`logistic_regression` -- binary, :math:`s = X w + b`.
- :func:`softmax_regression` -- multiclass, :math:`S = X W + b`, ``W`` of shape ``(p, C)``.
- :func:`mlp` -- a fully connected network, gradient by backpropagation over ``K`` parameter vectors at
  once (batched ``np.matmul``), chunked over ``K`` to bound memory and spread over two threads.

Parameter layout (``unflatten`` undoes it): layer by layer, the weight matrix ``W`` of shape
``(in, out)`` row-major, then its bias ``b`` of shape ``(out,)``; a linear model is the one-layer case
(``w_1 .. w_p``, then ``b``; for softmax ``W[0, 0], W[0, 1], ...``). ``regularization_mask`` is True on
weights and False on biases, so :mod:`lossviz.regularizers` leaves biases alone by default.

    >>> import numpy as np
    >>> from lossviz import models
    >>> X = np.array([[-1.0], [0.0], [1.0]]); y = np.array([1.0, 2.0, 3.0])
    >>> m = models.linear_regression(X, y)
    >>> m.param_names, float(m.f([1.0, 2.0]))
    (('slope', 'intercept'), 0.0)
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from lossviz import batched
from lossviz import losses as _losses
from lossviz._validation import check_array, check_bool, check_choice, check_int, check_scalar

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "LINKS",
    "MLP",
    "DataModel",
    "LayerSlice",
    "LinearModel",
    "linear_regression",
    "logistic_regression",
    "mlp",
    "softmax_regression",
    "suitable_losses",
]

ACTIVATIONS = ("tanh", "relu", "sigmoid")
INITS = ("he", "xavier", "lecun", "normal")
LINKS = ("auto", "identity", "sigmoid", "softmax")

# Bytes of intermediate arrays one chunk of parameter vectors may hold while computing a gradient, and
# while computing values only. Values need no stored activations; a chunk that fits in the CPU cache is
# faster than one big pass (measured: the elementwise activations are memory bound).
_GRAD_CHUNK_BYTES = 32 * 2**20
_VALUE_CHUNK_BYTES = 8 * 2**20
# Up to this many features, a one-output linear model forms X w by multiply-adds instead of a product.
_FEW_FEATURES = 4


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp is only ever taken of non-positive numbers, so large |x| cannot overflow.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# Losses on probabilities clamp each log at this value (as torch's BCELoss); the composed heads below clamp
# the log-probability itself, so their value is the loss of the link's output and their gradient its
# derivative, also where a probability is too small for the loss's own 1e-12 gradient floor.
_LOG_FLOOR = -100.0
# Central differences balance truncation (h^2) against round-off (eps / h) at h ~ eps^(1/3).
_FD_STEP = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)


class _Head:
    """Link plus loss: raw scores ``s`` of shape (k, m, n_outputs) -> mean loss (k,) and d loss / d s.

    The targets ``y`` a model passes in were validated when it was built, so the head hands them to the
    loss's own arithmetic without validating them (or the link's outputs) again on every call. Two pairs
    are composed in log space, because their value through the probabilities loses the gradient:
    softmax into ``cross_entropy_from_probabilities`` is :math:`\\min(-\\log \\mathrm{softmax}(s)_t, 100)`
    with the log-softmax taken stably, and sigmoid into ``binary_cross_entropy`` is
    :math:`\\min(\\mathrm{softplus}(\\mp s), 100)`. Their values equal the loss on the link's output (up to
    its rounding: through the probabilities, :math:`1 - \\sigma(s)` rounds to 0 beyond s = 37 and the loss
    jumps to its clamp, 100); their gradients are the derivatives of those values, where the loss's
    gradient floor ``-t / max(p, 1e-12)`` would shrink a badly classified sample's gradient by p / 1e-12.
    """

    def __init__(self, loss: _losses.Loss, link: str, n_outputs: int) -> None:
        self.loss = loss
        self.link = link
        self.n_outputs = n_outputs
        # For two classes, softmax cross-entropy on logits (z0, z1) is exactly the binary cross-entropy
        # with logits of the margin z1 - z0. That form has no reduction over a length-2 class axis, which
        # in NumPy costs ~20x more than the arithmetic (measured on the 101x101 MLP benchmark grid).
        self._two_class_margin = loss.name == "cross_entropy" and n_outputs == 2
        if self._two_class_margin:
            self._margin_loss = _losses.get("binary_cross_entropy_with_logits")
        self._log_softmax = loss.name == "cross_entropy_from_probabilities" and link == "softmax"
        self._log_sigmoid = loss.name == "binary_cross_entropy" and link == "sigmoid"

    def prediction(self, s: np.ndarray) -> np.ndarray:
        """What the loss receives: ``link(s)``, shape (..., m) for one output, (..., m, C) otherwise."""
        z = s[..., 0] if self.n_outputs == 1 else s
        if self.link == "sigmoid":
            return _sigmoid(z)
        if self.link == "softmax":
            return _softmax(z)
        return z

    def targets(self, y: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """The loss's form of validated labels ``y`` (m,): class indices, {0, 1}, {-1, +1} or values."""
        kind = self.loss.targets
        if kind == "classes":
            return y.astype(np.intp)
        if kind == "sign":
            y = np.where(y == 0.0, -1.0, y)
        if kind in ("binary", "sign") and dtype == np.float32:
            return y.astype(np.float32)
        return y

    def value(self, y: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Mean loss per parameter row, shape (k,); NaN for a row whose scores overflowed."""
        return self._finite_rows(s, lambda rows: self._value(y, rows), ())

    def grad_scores(self, y: np.ndarray, s: np.ndarray) -> np.ndarray:
        """d (mean loss) / d s, shape of ``s``; NaN for a row whose scores overflowed."""
        return self._finite_rows(s, lambda rows: self._grad_scores(y, rows), s.shape[1:])

    def hvp_scores(self, y: np.ndarray, s: np.ndarray, r: np.ndarray) -> np.ndarray:
        """:math:`\\nabla^2_s L \\, r`, the curvature of the mean loss in the scores applied to ``r``.

        Closed forms for the cross-entropies (on logits, the composed ones, the two-class margin) and mean
        squared error on values; any other head by a central difference of :meth:`grad_scores` along
        ``r`` (the head only: a pass over k x m x C numbers, not through the network).
        """
        m = s.shape[1]
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if self._two_class_margin or (self.loss.name == "binary_cross_entropy_with_logits"
                                          and self.link == "identity") or self._log_sigmoid:
                z, rz = (s[..., 1] - s[..., 0], r[..., 1] - r[..., 0]) if self.n_outputs == 2 \
                    else (s[..., 0], r[..., 0])
                p = _sigmoid(z)
                curvature = p * (1.0 - p) / m
                if self._log_sigmoid:
                    sign = np.where(y > 0.5, -1.0, 1.0)
                    curvature = curvature * (_softplus(sign * z) < -_LOG_FLOOR)
                out = curvature * rz
                return np.stack([-out, out], axis=-1) if self.n_outputs == 2 else out[..., None]
            if (self.loss.name == "cross_entropy" and self.link == "identity") or self._log_softmax:
                p = _softmax(s)
                out = p * (r - np.einsum("...c,...c->...", p, r)[..., None]) / m
                if self._log_softmax:
                    log_p = _log_softmax_at(s, y.astype(np.intp))
                    out *= (log_p > _LOG_FLOOR)[..., None]
                return out
            if self.loss.name == "mse" and self.link == "identity":
                return 2.0 * r / m
        size = np.abs(r).max(axis=tuple(range(1, r.ndim)), keepdims=True)
        scale = np.maximum(1.0, np.abs(s).max(axis=tuple(range(1, s.ndim)), keepdims=True))
        h = np.where(size > 0, _FD_STEP * scale / np.where(size > 0, size, 1.0), 0.0)
        ahead, behind = self.grad_scores(y, s + h * r), self.grad_scores(y, s - h * r)
        return np.where(h > 0, (ahead - behind) / np.where(h > 0, 2.0 * h, 1.0), 0.0)

    @staticmethod
    def _finite_rows(s: np.ndarray, fn: Any, tail: tuple[int, ...]) -> np.ndarray:
        # A diverged run or a far corner of a landscape can overflow the scores. The honest value there is
        # "undefined": NaN for those rows only.
        finite = np.isfinite(s).all(axis=tuple(range(1, s.ndim)))
        # Overflow inside the loss (exp, squares of huge scores) gives inf, which is the answer.
        with np.errstate(over="ignore", under="ignore"):
            if finite.all():
                return fn(s)
            out = np.full((s.shape[0], *tail), np.nan)
            if finite.any():
                out[finite] = fn(s[finite])
            return out

    def _value(self, y: np.ndarray, s: np.ndarray) -> np.ndarray:
        if self._two_class_margin:
            margin = s[..., 1] - s[..., 0]
            return np.asarray(self._margin_loss._checked_value(self.targets(y, margin.dtype), margin))
        if self._log_sigmoid:
            sign = np.where(y > 0.5, -1.0, 1.0).astype(s.dtype)
            per_sample = np.minimum(_softplus(sign * s[..., 0]), -_LOG_FLOOR)
            return per_sample.mean(axis=-1, dtype=np.float64)
        if self._log_softmax:
            per_sample = np.minimum(-_log_softmax_at(s, y.astype(np.intp)), -_LOG_FLOOR)
            return per_sample.mean(axis=-1, dtype=np.float64)
        pred = self.prediction(s)
        return np.asarray(self.loss._checked_value(self.targets(y, pred.dtype), pred))

    def _grad_scores(self, y: np.ndarray, s: np.ndarray) -> np.ndarray:
        m = s.shape[1]
        if self._two_class_margin:
            margin = s[..., 1] - s[..., 0]
            g = self._margin_loss._checked_grad(self.targets(y), margin)
            return np.stack([-g, g], axis=-1)
        if self._log_sigmoid:
            sign = np.where(y > 0.5, -1.0, 1.0)
            u = sign * s[..., 0]
            g = np.where(_softplus(u) < -_LOG_FLOOR, sign * _sigmoid(u), 0.0) / m
            return g[..., None]
        if self._log_softmax:
            labels = y.astype(np.intp)
            g = _softmax(s)
            g[..., np.arange(m), labels] -= 1.0
            active = _log_softmax_at(s, labels) > _LOG_FLOOR
            return g * active[..., None] / m
        pred = self.prediction(s)
        g = self.loss._checked_grad(self.targets(y), pred)
        if self.link == "sigmoid":
            g = g * pred * (1.0 - pred)
        elif self.link == "softmax":
            g = pred * (g - (g * pred).sum(axis=-1, keepdims=True))
        return g[..., None] if self.n_outputs == 1 else g


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _log_softmax_at(s: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """log softmax(s)[..., i, labels[i]] for s (..., m, C), by log-sum-exp: (..., m)."""
    shifted = s - s.max(axis=-1, keepdims=True)
    return shifted[..., np.arange(labels.shape[0]), labels] - np.log(np.exp(shifted).sum(axis=-1))


def _loss_kind_ok(loss: _losses.Loss, task: str, n_classes: int | None, link: str) -> str | None:
    """None if ``loss`` (with ``link``) suits the task, else the reason it does not."""
    if task == "regression":
        if loss.input != "value":
            return "a regression model needs a loss on real values"
        if link not in ("auto", "identity"):
            return f"a regression model predicts values directly (link 'identity'), not through {link!r}"
        return None
    if loss.input == "logits" and link not in ("auto", "identity"):
        return f"loss {loss.name!r} takes raw class logits (link 'identity'), not {link!r}"
    if loss.input == "probabilities" and link not in ("auto", "softmax"):
        return f"loss {loss.name!r} takes class probabilities, which need the link 'softmax', not {link!r}"
    if loss.multiclass:
        return None
    if n_classes != 2:
        return f"loss {loss.name!r} is a binary loss but there are {n_classes} classes"
    if loss.input == "probability" and link not in ("auto", "sigmoid"):
        return f"loss {loss.name!r} takes probabilities, which need the link 'sigmoid', not {link!r}"
    if loss.input in ("logit", "score") and link not in ("auto", "identity"):
        return f"loss {loss.name!r} takes raw {loss.input}s (link 'identity'), not {link!r}"
    if loss.input == "value" and link == "softmax":
        return f"loss {loss.name!r} compares one value per sample, which the link 'softmax' cannot give"
    return None


def suitable_losses(task: str, n_classes: int | None = None, link: str = "auto",
                    multiclass_head: bool | None = None) -> list[str]:
    """Names of the losses a model of ``task`` (with ``n_classes`` and ``link``) accepts.

    ``multiclass_head`` restricts classification to losses on ``C`` scores (True, softmax regression) or
    on one score (False, logistic regression); ``None`` allows both (an MLP).
    """
    out = []
    for name in _losses.names():
        loss = _losses.get(name)
        if _loss_kind_ok(loss, task, n_classes, link) is not None:
            continue
        if task == "classification" and multiclass_head is not None and loss.multiclass != multiclass_head:
            continue
        out.append(name)
    return out


def _resolve_link(loss: _losses.Loss, link: str, task: str) -> str:
    if link != "auto":
        return link
    if loss.input in ("probability",) or (loss.input == "value" and task == "classification"):
        return "sigmoid"
    if loss.input == "probabilities":
        return "softmax"
    return "identity"


def _build_loss(
    loss: object, loss_params: dict, task: str, n_classes: int | None, link: str,
    multiclass_head: bool | None,
    model: str,
) -> tuple[_losses.Loss, str]:
    check_choice(link, "link", LINKS)
    if isinstance(loss, _losses.Loss):
        if loss_params:
            raise TypeError("loss parameters can only be given with a loss name, not with a Loss object")
        loss_obj = loss
    else:
        loss_obj = _losses.get(loss, **loss_params)  # type: ignore[arg-type]
    reason = _loss_kind_ok(loss_obj, task, n_classes, link)
    if reason is None and task == "classification" and multiclass_head is not None \
            and loss_obj.multiclass != multiclass_head:
        reason = ("it takes one row of C class scores per sample" if loss_obj.multiclass
                  else "it takes one score per sample, not C class scores")
    if reason is not None:
        ok = suitable_losses(task, n_classes, link, multiclass_head)
        raise ValueError(
            f"loss {loss_obj.name!r} does not suit {model}: {reason}; suitable losses: {', '.join(ok)}"
        )
    return loss_obj, _resolve_link(loss_obj, link, task)


def _check_X(X: object) -> np.ndarray:
    arr = check_array(X, "X", ndim=2)
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"X must have at least 1 row and 1 column, got shape {arr.shape}")
    return arr


def _check_y(y: object, n: int, task: str, binary: bool = False) -> tuple[np.ndarray, int | None]:
    """Targets as float64 (regression, binary 0/1) and the class count (classification)."""
    raw = np.asarray(y)
    if raw.ndim != 1:
        raise ValueError(f"y must have 1 dimension(s), got shape {raw.shape}")
    if raw.shape[0] != n:
        raise ValueError(f"y must have one entry per row of X: X has {n} rows, y has {raw.shape[0]}")
    arr = check_array(raw, "y", ndim=1)
    if task == "regression":
        return arr, None
    if not np.all((arr == np.round(arr)) & (arr >= 0)):
        bad = arr[~((arr == np.round(arr)) & (arr >= 0))][0]
        raise ValueError(f"y must hold class labels 0, 1, ..., C-1 for classification, got {bad:g}")
    if binary and not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"y must hold binary labels 0 and 1 for logistic regression, got labels "
                         f"{np.unique(arr).astype(int).tolist()}; use softmax_regression for more classes")
    n_classes = int(arr.max()) + 1 if arr.size else 0
    return arr, max(n_classes, 2)


def _check_precision(dtype: object) -> type:
    try:
        precision = np.dtype(dtype).type  # type: ignore[call-overload]
    except TypeError:
        precision = None
    if precision not in (np.float64, np.float32):
        raise ValueError(f"dtype must be np.float64 or np.float32, got {dtype!r}")
    return precision  # type: ignore[return-value]


def _flatten_params(params: object, dim: int) -> tuple[np.ndarray, tuple[int, ...]]:
    w = check_array(params, "params", last_dim=dim, finite=False)
    return w.reshape(-1, dim), w.shape[:-1]


def _shape_out(values: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    out = values.reshape(lead + values.shape[1:])
    return out[()] if out.ndim == 0 else out


class _LinearData(NamedTuple):
    X: np.ndarray  # (m, p)
    XT: np.ndarray  # (p, m), contiguous rows: one feature across samples


class _MLPData(NamedTuple):
    XT: np.ndarray  # (blocks, p + 1, rows): samples transposed, zero-padded, with a row of ones
    m: int  # real samples (the rest of the last block is padding)


class LayerSlice(NamedTuple):
    """Where one weight matrix or bias vector sits in the flat parameter vector.

    ``params[..., slice].reshape(params.shape[:-1] + shape)`` is the array. For a weight matrix of shape
    ``(in, out)``, column ``j`` holds the incoming weights of unit ``j`` (the "filter" that filter
    normalization rescales).
    """

    name: str  # "W1", "b1", "W2", ...
    layer: int  # 0-based layer index
    kind: str  # "weight" or "bias"
    slice: slice
    shape: tuple[int, ...]


class DataModel:
    """Common machinery of a model on data: validation, batching, chunking and the loss head.

    Attributes
    ----------
    name : str
        ``"linear_regression"``, ``"logistic_regression"``, ``"softmax_regression"`` or ``"mlp"``.
    X : ndarray, shape (n, p), read-only
    y : ndarray, shape (n,), read-only
        float64 targets (class labels are stored as float64 integers).
    task : {"regression", "classification"}
    n_classes : int or None
    loss : lossviz.losses.Loss
    link : {"identity", "sigmoid", "softmax"}
        Applied to the raw scores before the loss.
    dim : int
        Number of parameters ``d``.
    n_samples : int
    n_outputs : int
        Raw scores per sample (1, or ``C`` for a multiclass head).
    param_names : tuple of str, length d
    regularization_mask : ndarray of bool, shape (d,)
        False on intercepts and biases.
    layer_slices : tuple of LayerSlice
    """

    name: str = "model"

    def __init__(self, X: np.ndarray, y: np.ndarray, task: str, n_classes: int | None,
                 loss: _losses.Loss, link: str, n_outputs: int) -> None:
        X = X.copy()
        X.flags.writeable = False
        y = y.copy()
        y.flags.writeable = False
        self.X = X
        self.y = y
        self.task = task
        self.n_classes = n_classes
        self.loss = loss
        self.link = link
        self.n_outputs = n_outputs
        self._head = _Head(loss, link, n_outputs)
        self.layer_slices: tuple[LayerSlice, ...] = ()
        self.dim = 0
        self.param_names: tuple[str, ...] = ()
        self.regularization_mask = np.zeros(0, dtype=bool)

    def _set_layout(self, slices: list[LayerSlice], names: list[str]) -> None:
        self.layer_slices = tuple(slices)
        self.dim = slices[-1].slice.stop
        self.param_names = tuple(names)
        mask = np.zeros(self.dim, dtype=bool)
        for s in slices:
            if s.kind == "weight":
                mask[s.slice] = True
        mask.flags.writeable = False
        self.regularization_mask = mask

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name}, loss={self.loss.name!r}, link={self.link!r}, "
                f"d={self.dim}, n={self.n_samples})")

    # -- provided by subclasses ---------------------------------------------------------------------
    # A call prepares the data once (`_prepare`), then each worker thread allocates its scratch arrays
    # once (`_workspace`) and reuses them for all its chunks: a fresh multi-megabyte array per chunk
    # costs page faults that took longer than the arithmetic (measured).

    def _prepare(self, X: np.ndarray, dtype: type) -> Any:
        """Per-call form of the samples X (m, p) used by `_scores` and `_scores_and_grad`."""
        return X.astype(dtype, copy=False)

    def _workspace(self, k: int, data: Any, for_grad: bool) -> Any:
        """Scratch arrays for chunks of at most k parameter vectors (None if not needed)."""
        return None

    def _scores(self, P: np.ndarray, data: Any, workspace: Any = None) -> np.ndarray:
        """Raw scores, shape (k, m, n_outputs), for parameter rows P (k, d)."""
        raise NotImplementedError

    def _scores_and_grad(self, P: np.ndarray, data: Any, y: np.ndarray,
                         workspace: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean loss (k,), its gradient (k, d) and the scores (k, m, n_outputs) they came from."""
        raise NotImplementedError

    def _work_per_row(self, m: int) -> int:
        """Floats of intermediate storage one parameter vector needs for m samples (for chunking)."""
        raise NotImplementedError

    def _max_chunk_rows(self, m: int) -> int:
        """Most parameter vectors per chunk regardless of memory (see LinearModel)."""
        return 2**62

    # -- shared --------------------------------------------------------------------------------------

    def _batch(self, batch: object) -> tuple[np.ndarray, np.ndarray]:
        if batch is None:
            return self.X, self.y
        idx = np.asarray(batch)
        if idx.dtype.kind not in "iu" or idx.ndim != 1:
            raise TypeError(f"batch must be a 1-D array of integer sample indices, got {idx.dtype} array of "
                            f"shape {idx.shape}")
        n = self.n_samples
        if idx.size == 0:
            raise ValueError("batch must select at least one sample, got an empty index array")
        if idx.min() < 0 or idx.max() >= n:
            bad = idx[(idx < 0) | (idx >= n)][0]
            raise ValueError(f"batch indices must be in [0, {n - 1}] (n_samples = {n}), got {int(bad)}")
        return self.X[idx], self.y[idx]

    def _run_chunks(self, k: int, m: int, itemsize: int, budget: int, data: Any, for_grad: bool,
                    compute: Any) -> None:
        """Call compute(chunk, workspace) over slices of the k parameter rows, on up to two threads."""
        per_row = max(1, self._work_per_row(m)) * itemsize
        size = int(max(1, min(k, budget // per_row, self._max_chunk_rows(m))))
        batched.run_in_chunks(k, size, k * self._work_per_row(m),
                              lambda: self._workspace(size, data, for_grad), compute)

    def f(self, params: object, batch: object = None, dtype: type = np.float64) -> np.ndarray:
        """Mean loss over the samples (or over ``batch``), shape ``(...)`` for params ``(..., d)``.

        Parameters
        ----------
        params : array_like, shape (..., d)
        batch : int array, shape (b,), optional
            Sample indices; the loss is then the mean over those samples.
        dtype : {np.float64, np.float32}
            Precision of the forward pass. ``np.float32`` is the fast path for evaluating a whole grid of
            losses: the scores are formed in float32 and, for losses on labels (binary and class
            targets, e.g. logistic regression's cross-entropy with logits), the per-sample loss too, so
            its ``exp``/``log1p`` run at float32 speed (about a tenth of float64's); the mean over the
            samples is accumulated in float64. The relative error stays around 1e-6 for well-scaled
            models (1e-7 on the logistic benchmark grid). Regression losses compare with the float64
            targets in float64. Gradients are always float64.
        """
        precision = _check_precision(dtype)
        P, lead = _flatten_params(params, self.dim)
        values = self._values(lambda rows: P[rows].astype(precision, copy=False), P.shape[0], batch,
                              precision)
        return _shape_out(values, lead)

    def f_affine(self, origin: object, directions: object, coords: object, batch: object = None,
                 dtype: type = np.float64) -> np.ndarray:
        r"""Loss on an affine slice, :math:`f(\theta + \sum_r c_r \delta_r)`, without building every point.

        Equal to ``f(origin + coords @ directions)``, but each chunk of points is formed just before it
        is evaluated, so a 101 x 101 slice of a 1,218-parameter network never holds the 100 MB array of
        all its parameter vectors (building it took about as long as the float32 forward pass).

        Parameters
        ----------
        origin : array_like, shape (d,)
            :math:`\theta`, the centre of the slice.
        directions : array_like, shape (r, d)
            :math:`\delta_1 .. \delta_r` (two for a plane, one for a line).
        coords : array_like, shape (..., r)
            Coordinates of each point along the directions, e.g. ``np.stack([A, B], axis=-1)`` from a
            meshgrid, giving values of shape ``A.shape`` (with the grid convention of the caller).
        batch, dtype
            As in :meth:`f`.

        Returns
        -------
        ndarray, shape (...)
        """
        precision = _check_precision(dtype)
        theta = check_array(origin, "origin", ndim=1, last_dim=self.dim)
        D = check_array(directions, "directions", ndim=2, last_dim=self.dim)
        C = check_array(coords, "coords", last_dim=D.shape[0])
        flat = C.reshape(-1, D.shape[0])
        values = self._values(lambda rows: (theta + flat[rows] @ D).astype(precision, copy=False),
                              flat.shape[0], batch, precision)
        return _shape_out(values, C.shape[:-1])

    def _values(self, rows_of: Any, k: int, batch: object, precision: type) -> np.ndarray:
        """Mean losses (k,) of the parameter rows that ``rows_of(slice)`` returns, chunk by chunk."""
        X, y = self._batch(batch)
        data = self._prepare(X, precision)
        out = np.empty(k)

        def compute(chunk: slice, workspace: Any) -> None:
            out[chunk] = self._head.value(y, self._scores(rows_of(chunk), data, workspace))

        itemsize = np.dtype(precision).itemsize
        self._run_chunks(k, X.shape[0], itemsize, _VALUE_CHUNK_BYTES, data, False, compute)
        return out

    def value_and_grad(self, params: object, batch: object = None, *,
                       labels: bool = False) -> tuple[np.ndarray, ...]:
        """Mean loss ``(...)`` and its gradient ``(..., d)`` from one forward pass (float64).

        With ``labels=True`` also the labels the model predicts for the samples (or ``batch``) from that
        same pass, shape ``(..., m)`` (see :meth:`predict_labels`; classification only).
        """
        P, lead = _flatten_params(params, self.dim)
        X, y = self._batch(batch)
        data = self._prepare(X, np.float64)
        k, m = P.shape[0], X.shape[0]
        values = np.empty(k)
        grads = np.empty((k, self.dim))
        predicted = np.empty((k, m), dtype=np.int64) if labels else None
        if labels and self.task != "classification":
            raise ValueError(f"labels need a classification model; this {self.name} is a regression")

        def compute(chunk: slice, workspace: Any) -> None:
            values[chunk], grads[chunk], s = self._scores_and_grad(P[chunk], data, y, workspace)
            if predicted is not None:
                predicted[chunk] = self._labels_from_scores(s)

        self._run_chunks(k, m, 8, _GRAD_CHUNK_BYTES, data, True, compute)
        if predicted is None:
            return _shape_out(values, lead), _shape_out(grads, lead)
        return _shape_out(values, lead), _shape_out(grads, lead), _shape_out(predicted, lead)

    def value_and_labels(self, params: object) -> tuple[np.ndarray, np.ndarray]:
        """Mean loss ``(...)`` over all samples and the predicted labels ``(..., n)``, one float64 pass.

        Examples
        --------
        >>> import numpy as np
        >>> from lossviz import models
        >>> m = models.logistic_regression(np.array([[-1.0], [1.0]]), np.array([0, 1]))
        >>> value, labels = m.value_and_labels([2.0, 0.0])
        >>> labels.tolist(), bool(np.isclose(value, np.log1p(np.exp(-2.0))))
        ([0, 1], True)
        """
        if self.task != "classification":
            raise ValueError(f"labels need a classification model; this {self.name} is a regression")
        P, lead = _flatten_params(params, self.dim)
        data = self._prepare(self.X, np.float64)
        values = np.empty(P.shape[0])
        predicted = np.empty((P.shape[0], self.n_samples), dtype=np.int64)

        def compute(chunk: slice, workspace: Any) -> None:
            s = self._scores(P[chunk], data, workspace)
            values[chunk] = self._head.value(self.y, s)
            predicted[chunk] = self._labels_from_scores(s)

        self._run_chunks(P.shape[0], self.n_samples, 8, _VALUE_CHUNK_BYTES, data, False, compute)
        return _shape_out(values, lead), _shape_out(predicted, lead)

    def _labels_from_scores(self, s: np.ndarray) -> np.ndarray:
        """Labels (k, m) from scores (k, m, n_outputs), as :meth:`predict_labels`."""
        with np.errstate(invalid="ignore"):
            if self.n_outputs > 1:
                return s.argmax(axis=-1)
            threshold = 0.5 if (self.link == "identity" and self.loss.input == "value") else 0.0
            return (s[..., 0] > threshold).astype(np.int64)

    def grad(self, params: object, batch: object = None) -> np.ndarray:
        """Gradient of :meth:`f` with respect to the parameters, shape ``(..., d)`` (float64)."""
        return self.value_and_grad(params, batch)[1]

    def _predict_X(self, X: object) -> np.ndarray:
        if X is None:
            return self.X
        arr = check_array(X, "X", ndim=2)
        if arr.shape[1] != self.n_features:
            raise ValueError(f"X must have {self.n_features} feature column(s) like the training data, "
                             f"got shape {arr.shape}")
        return arr

    def decision_function(self, params: object, X: object = None) -> np.ndarray:
        """Raw scores before the link: shape ``(..., m)`` for one output, ``(..., m, C)`` otherwise.

        ``X`` (standardized features, shape (m, p)) defaults to the training data.
        """
        P, lead = _flatten_params(params, self.dim)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            s = self._scores(P, self._prepare(self._predict_X(X), np.float64))
        if self.n_outputs == 1:
            s = s[..., 0]
        return _shape_out(s, lead)

    def predict(self, params: object, X: object = None) -> np.ndarray:
        """The model's outputs as the loss receives them: values, probabilities or scores.

        Regression: values ``(..., m)``; logistic regression: :math:`\\sigma(s)` for probability and
        value losses, the logit/score :math:`s` otherwise; multiclass: logits ``(..., m, C)`` for
        ``cross_entropy``, softmax probabilities for ``cross_entropy_from_probabilities``.
        """
        P, lead = _flatten_params(params, self.dim)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            pred = self._head.prediction(self._scores(P, self._prepare(self._predict_X(X), np.float64)))
        return _shape_out(pred, lead)

    def predict_labels(self, params: object, X: object = None) -> np.ndarray:
        """Predicted class labels ``(..., m)`` (int): argmax of the class scores, or a score threshold.

        The binary threshold is :math:`s > 0` (:math:`\\sigma(s) > 1/2`), except for a value loss with
        the identity link (least squares on 0/1 labels), where it is :math:`s > 1/2`.
        """
        if self.task != "classification":
            raise ValueError(f"predict_labels needs a classification model; this {self.name} is a regression")
        s = np.asarray(self.decision_function(params, X))
        return self._labels_from_scores(s if self.n_outputs > 1 else s[..., None])

    def unflatten(self, params: object) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Per layer ``(W, b)``: ``W`` of shape ``(..., in, out)``, ``b`` ``(..., out)`` (or None)."""
        w = check_array(params, "params", last_dim=self.dim, finite=False)
        layers: dict[int, list[np.ndarray | None]] = {}
        for s in self.layer_slices:
            arr = w[..., s.slice].reshape(w.shape[:-1] + s.shape)
            layers.setdefault(s.layer, [None, None])[0 if s.kind == "weight" else 1] = arr
        return [(pair[0], pair[1]) for _, pair in sorted(layers.items())]  # type: ignore[misc]

    def filter_normalize(self, direction: object, params: object, biases: str = "zero") -> np.ndarray:
        r"""Filter-normalize a direction in parameter space (Li et al., 2018, "Visualizing the loss
        landscape of neural nets").

        Each filter of each weight matrix -- column ``j`` of ``W`` of shape ``(in, out)``, the incoming
        weights of unit ``j`` -- is rescaled to the norm of the same filter in ``params``:
        :math:`d_j \leftarrow d_j / (\lVert d_j \rVert + 10^{-10}) \, \lVert \theta_j \rVert`,
        so a step along the direction moves every unit by the same relative amount, whatever its scale.

        Parameters
        ----------
        direction : array_like, shape (..., d)
            One or several directions (e.g. two random Gaussian vectors, shape (2, d)).
        params : array_like, shape (d,)
            The point :math:`\theta` the slice is centred on.
        biases : {"zero", "weights"}
            What the direction does on biases: ``"zero"`` leaves them out of the slice (Li et al.'s
            ``ignore='biasbn'``), ``"weights"`` sets the direction to :math:`\theta`'s biases (their
            code's default for one-dimensional parameters).

        Returns
        -------
        ndarray, shape (..., d)
        """
        check_choice(biases, "biases", ("zero", "weights"))
        d = check_array(direction, "direction", last_dim=self.dim).copy()
        theta = check_array(params, "params", ndim=1, last_dim=self.dim)
        for s in self.layer_slices:
            if s.kind == "bias":
                d[..., s.slice] = 0.0 if biases == "zero" else theta[s.slice]
                continue
            shape = d.shape[:-1] + s.shape
            filters = d[..., s.slice].reshape(shape)
            theta_norms = np.linalg.norm(theta[s.slice].reshape(s.shape), axis=-2)
            norms = np.linalg.norm(filters, axis=-2, keepdims=True)
            d[..., s.slice] = (filters / (norms + 1e-10) * theta_norms).reshape(d.shape[:-1] + (-1,))
        return d

    def flatten(self, layers: Sequence[tuple[np.ndarray, np.ndarray | None]]) -> np.ndarray:
        """Inverse of :meth:`unflatten` for one parameter vector: list of (W, b) -> (d,)."""
        parts = []
        for s in self.layer_slices:
            W, b = layers[s.layer]
            arr = np.asarray(W if s.kind == "weight" else b, dtype=np.float64)
            if arr.shape != s.shape:
                raise ValueError(f"{s.name} must have shape {s.shape}, got {arr.shape}")
            parts.append(arr.ravel())
        return np.concatenate(parts)


class LinearModel(DataModel):
    """Scores ``S = X W + b`` with ``W`` of shape ``(p, n_outputs)``: linear, logistic, softmax regression."""

    def __init__(self, name: str, X: np.ndarray, y: np.ndarray, task: str, n_classes: int | None,
                 loss: _losses.Loss, link: str, n_outputs: int, fit_intercept: bool) -> None:
        super().__init__(X, y, task, n_classes, loss, link, n_outputs)
        self.name = name
        self.fit_intercept = fit_intercept
        p, o = self.n_features, n_outputs
        slices = [LayerSlice("W1", 0, "weight", slice(0, p * o), (p, o))]
        if o == 1:
            names = ["slope"] if (p == 1 and task == "regression") else [f"w{j + 1}" for j in range(p)]
        else:
            names = [f"w{j + 1}_c{c}" for j in range(p) for c in range(o)]
        if fit_intercept:
            slices.append(LayerSlice("b1", 0, "bias", slice(p * o, p * o + o), (o,)))
            if o == 1:
                names.append("intercept" if (p == 1 and task == "regression") else "b")
            else:
                names += [f"b_c{c}" for c in range(o)]
        self._set_layout(slices, names)

    def _work_per_row(self, m: int) -> int:
        return 4 * m * self.n_outputs

    def _max_chunk_rows(self, m: int) -> int:
        if self.n_outputs == 1 and self.n_features <= _FEW_FEATURES:
            return 2**62  # no matrix product (see _scores)
        # Keep each chunk's product (k, p) @ (p, m) on one OpenBLAS thread
        # (see batched.SINGLE_THREAD_PRODUCT).
        return max(1, batched.SINGLE_THREAD_PRODUCT // (m * self.n_features * self.n_outputs))

    def _prepare(self, X: np.ndarray, dtype: type) -> _LinearData:
        X = X.astype(dtype, copy=False)
        return _LinearData(X, np.ascontiguousarray(X.T))

    def _split(self, P: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        p, o = self.n_features, self.n_outputs
        W = P[:, : p * o].reshape(-1, p, o)
        b = P[:, p * o: p * o + o] if self.fit_intercept else None
        return W, b

    def _scores(self, P: np.ndarray, data: _LinearData, workspace: Any = None) -> np.ndarray:
        W, b = self._split(P)
        if self.n_outputs > 1:
            s = np.matmul(data.X, W)  # k products (m, p) @ (p, C), each small
            return s if b is None else s + b[:, None, :]
        if self.n_features <= _FEW_FEATURES:
            # With one or two features (the 2-D landscapes) a product with inner size p is slower than
            # p multiply-adds, and it lets OpenBLAS start its threads for no gain.
            s = np.multiply.outer(W[:, 0, 0], data.XT[0])
            for j in range(1, self.n_features):
                s += np.multiply.outer(W[:, j, 0], data.XT[j])
        else:
            s = W[..., 0] @ data.XT  # one product (k, p) @ (p, m) instead of k small ones
        if b is not None:
            s += b
        return s[..., None]

    def _scores_and_grad(self, P: np.ndarray, data: _LinearData, y: np.ndarray,
                         workspace: Any = None) -> tuple[np.ndarray, np.ndarray]:
        s = self._scores(P, data)
        value = self._head.value(y, s)
        g = self._head.grad_scores(y, s)  # (k, m, o)
        p, o = self.n_features, self.n_outputs
        grad = np.empty(P.shape)
        if o > 1:
            grad[:, : p * o] = np.matmul(data.XT, g).reshape(-1, p * o)
        elif p <= _FEW_FEATURES:
            for j in range(p):
                grad[:, j] = (g[..., 0] * data.XT[j]).sum(axis=1)
        else:
            grad[:, :p] = g[..., 0] @ data.X
        if self.fit_intercept:
            grad[:, p * o:] = g.sum(axis=1)
        return value, grad, s


def linear_regression(X: object, y: object, loss: str | _losses.Loss = "mse", fit_intercept: bool = True,
                      **loss_params: Any) -> LinearModel:
    r"""Linear regression :math:`\hat y = X w + b` with a regression loss.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Features (standardized ones from :mod:`lossviz.datasets` keep the landscape round).
    y : array_like, shape (n,)
        Real targets.
    loss : str or Loss
        ``"mse"`` (default), ``"rmse"``, ``"mae"``, ``"huber"`` (``delta=``), ``"log_cosh"``.
    fit_intercept : bool
        Add the bias ``b`` (last parameter). With one feature the parameters are ``(slope, intercept)``
        and the landscape is exactly two-dimensional.
    **loss_params
        Passed to :func:`lossviz.losses.get` (e.g. ``delta`` for Huber).

    Returns
    -------
    LinearModel
        ``dim = p + fit_intercept``; ``predict`` gives :math:`\hat y`, shape (..., m).
    """
    Xa = _check_X(X)
    ya, _ = _check_y(y, Xa.shape[0], "regression")
    fit = check_bool(fit_intercept, "fit_intercept")
    loss_obj, link = _build_loss(loss, loss_params, "regression", None, "auto", None, "linear regression")
    return LinearModel("linear_regression", Xa, ya, "regression", None, loss_obj, link, 1, fit)


def logistic_regression(X: object, y: object, loss: str | _losses.Loss = "binary_cross_entropy_with_logits",
                        fit_intercept: bool = True, link: str = "auto", **loss_params: Any) -> LinearModel:
    r"""Binary classifier with logit :math:`s = X w + b`, labels ``y`` in {0, 1}.

    What the loss sees depends on the loss (``link="auto"``): losses on probabilities
    (``binary_cross_entropy``) get :math:`\sigma(s)`; losses on logits or scores
    (``binary_cross_entropy_with_logits``, ``logistic``, ``hinge``, ``squared_hinge``, ``zero_one``)
    get :math:`s`; regression losses (``mse``, ``mae``, ...) get :math:`\sigma(s)`, which is how
    "squared error through a sigmoid" (non-convex, flat where the sigmoid saturates) is built.
    ``link="identity"`` with a regression loss fits the 0/1 labels by least squares directly.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,)
        Labels 0 and 1.
    loss : str or Loss
    fit_intercept : bool
    link : {"auto", "identity", "sigmoid"}
    **loss_params
        Passed to :func:`lossviz.losses.get`.
    """
    Xa = _check_X(X)
    ya, _ = _check_y(y, Xa.shape[0], "classification", binary=True)
    fit = check_bool(fit_intercept, "fit_intercept")
    loss_obj, resolved = _build_loss(loss, loss_params, "classification", 2, link, False,
                                     "logistic regression")
    return LinearModel("logistic_regression", Xa, ya, "classification", 2, loss_obj, resolved, 1, fit)


def softmax_regression(X: object, y: object, loss: str | _losses.Loss = "cross_entropy",
                       fit_intercept: bool = True, n_classes: int | None = None,
                       **loss_params: Any) -> LinearModel:
    r"""Multiclass linear classifier: logits :math:`S = X W + b`, ``W`` of shape ``(p, C)``.

    ``cross_entropy`` takes the logits (log-softmax inside the loss); ``cross_entropy_from_probabilities``
    gets :math:`\operatorname{softmax}(S)`. The model is over-parameterized (adding the same vector to
    every column of ``W`` leaves the loss unchanged), so its landscape has flat directions.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,)
        Class labels ``0 .. C-1``.
    loss : str or Loss
    fit_intercept : bool
    n_classes : int, optional
        ``C``; defaults to ``max(y) + 1``.
    """
    Xa = _check_X(X)
    ya, inferred = _check_y(y, Xa.shape[0], "classification")
    C = inferred if n_classes is None else check_int(n_classes, "n_classes", low=max(2, int(inferred or 2)))
    fit = check_bool(fit_intercept, "fit_intercept")
    loss_obj, link = _build_loss(loss, loss_params, "classification", C, "auto", True, "softmax regression")
    return LinearModel("softmax_regression", Xa, ya, "classification", C, loss_obj, link, C, fit)


class MLP(DataModel):
    r"""A fully connected network :math:`h_0 = x,\ h_l = \phi(h_{l-1} W_l + b_l),\ s = h_{L-1} W_L + b_L`.

    Attributes (besides :class:`DataModel`'s)
    ------------------------------------------
    hidden : tuple of int
        Width of each hidden layer.
    activation : {"tanh", "relu", "sigmoid"}
    init, init_scale
        Scheme and multiplier used by :meth:`init_params`.
    widths : tuple of int
        ``(p, *hidden, n_outputs)``.
    """

    name = "mlp"

    def __init__(self, X: np.ndarray, y: np.ndarray, task: str, n_classes: int | None, loss: _losses.Loss,
                 link: str, n_outputs: int, hidden: tuple[int, ...], activation: str, init: str,
                 init_scale: float) -> None:
        super().__init__(X, y, task, n_classes, loss, link, n_outputs)
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.init_scale = init_scale
        self.widths = (self.n_features, *hidden, n_outputs)
        # Two-class cross-entropy on logits (z0, z1) is softplus(-(2y - 1)(z1 - z0)), and binary
        # cross-entropy with logits is the same of the one output: the float32 value path then forms the
        # margin with one output unit and its loss in six in-place ufunc passes (see _values).
        self._margin_head = link == "identity" and (
            (loss.name == "cross_entropy" and n_outputs == 2)
            or (loss.name == "binary_cross_entropy_with_logits" and n_outputs == 1))
        slices, names, start = [], [], 0
        for layer, (fan_in, fan_out) in enumerate(zip(self.widths[:-1], self.widths[1:])):
            stop = start + fan_in * fan_out
            slices.append(LayerSlice(f"W{layer + 1}", layer, "weight", slice(start, stop), (fan_in, fan_out)))
            names += [f"W{layer + 1}[{i},{j}]" for i in range(fan_in) for j in range(fan_out)]
            start, stop = stop, stop + fan_out
            slices.append(LayerSlice(f"b{layer + 1}", layer, "bias", slice(start, stop), (fan_out,)))
            names += [f"b{layer + 1}[{j}]" for j in range(fan_out)]
            start = stop
        self._set_layout(slices, names)

    def __repr__(self) -> str:
        widths = "-".join(str(w) for w in self.widths)
        return f"MLP({widths}, {self.activation}, loss={self.loss.name!r}, d={self.dim}, n={self.n_samples})"

    def _work_per_row(self, m: int) -> int:
        # Stored activations of every layer (with the ones row), the scores, and per hidden layer the
        # back-propagated gradient and one temporary.
        hidden = self.widths[1:-1]
        return m * (sum(3 * w + 1 for w in hidden) + 2 * self.n_outputs)

    # The forward pass works on transposed, "augmented" activations: for each block of samples a
    # (width + 1, rows) matrix whose last row is all ones. With the flat layout (W of shape (in, out)
    # row-major, then b), the parameters of a layer are exactly the augmented matrix [W; b] of shape
    # (in + 1, out), a free view, so the bias is added by the matrix product itself, and the bias
    # gradient comes out of the same product as the weight gradient. Sample blocks keep each product
    # small enough that OpenBLAS runs it on one thread: its own threads,
    # spinning on a busy 2-core machine, made a 101x101 grid 20-50x slower (measured); two Python
    # threads over chunks of parameter vectors use the cores instead.

    def _prepare(self, X: np.ndarray, dtype: type) -> _MLPData:
        m, p = X.shape
        largest_layer = max(fan_out * (fan_in + 1)
                            for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:]))
        block_rows = max(16, batched.SINGLE_THREAD_PRODUCT // largest_layer)
        n_blocks = -(-m // block_rows)
        rows = -(-m // n_blocks)
        padded = np.zeros((n_blocks * rows, p), dtype=dtype)
        padded[:m] = X
        XT = np.empty((n_blocks, p + 1, rows), dtype=dtype)
        XT[:, :p, :] = padded.reshape(n_blocks, rows, p).swapaxes(1, 2)
        XT[:, p, :] = 1.0
        return _MLPData(XT, m)

    def _workspace(self, k: int, data: _MLPData, for_grad: bool) -> _MLPWorkspace:
        # Reused across calls of one thread: a training run asks for the same shapes at every step, and
        # fresh arrays of a few hundred kB cost page faults that took longer than the arithmetic
        # (measured: two parameter vectors per call went from 1.6 ms to 0.7 ms).
        n_blocks, _, rows = data.XT.shape
        key = (k, n_blocks, rows, self.widths, data.XT.dtype.str, for_grad)
        cached = getattr(_WORKSPACES, "entry", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        workspace = _mlp_workspace(self.widths, k, n_blocks, rows, data.XT.dtype, for_grad)
        if workspace.nbytes <= _CACHED_WORKSPACE_BYTES:
            _WORKSPACES.entry = (key, workspace)
        return workspace

    def _augmented(self, P: np.ndarray) -> list[np.ndarray]:
        """Per layer [W; b], shape (k, in + 1, out), as views of P."""
        k = P.shape[0]
        out = []
        for W_slice, b_slice in zip(self.layer_slices[::2], self.layer_slices[1::2]):
            fan_in, fan_out = W_slice.shape
            out.append(P[:, W_slice.slice.start: b_slice.slice.stop].reshape(k, fan_in + 1, fan_out))
        return out

    def _activate(self, a: np.ndarray) -> None:
        """Apply the activation in place."""
        if self.activation == "tanh":
            np.tanh(a, out=a)
        elif self.activation == "relu":
            np.maximum(a, 0, out=a)
        else:
            np.negative(a, out=a)
            with np.errstate(over="ignore"):  # exp(-a) = inf gives sigmoid 0, the right limit
                np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)

    def _derivative_from_output(self, h: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """phi'(a) written through h = phi(a), so pre-activations need not be stored."""
        if out is None:
            out = np.empty_like(h)
        if self.activation == "tanh":
            np.multiply(h, h, out=out)
            return np.subtract(1.0, out, out=out)
        if self.activation == "relu":
            return np.greater(h, 0, out=out, casting="unsafe")  # phi'(0) = 0, as torch's relu backward
        np.subtract(1.0, h, out=out)
        return np.multiply(out, h, out=out)

    def _second_derivative_from_output(self, h: np.ndarray) -> np.ndarray | None:
        """phi''(a) through h = phi(a); None for relu (0 away from the kink, as torch's double backward)."""
        if self.activation == "tanh":
            return -2.0 * h * (1.0 - h * h)
        if self.activation == "sigmoid":
            return h * (1.0 - h) * (1.0 - 2.0 * h)
        return None

    def _forward(self, P: np.ndarray, data: _MLPData, workspace: _MLPWorkspace | None) -> list[np.ndarray]:
        """Augmented hidden activations (k, blocks, width + 1, rows) and the scores (k, blocks, out, rows)."""
        k = P.shape[0]
        if workspace is None:
            n_blocks, _, rows = data.XT.shape
            workspace = _mlp_workspace(self.widths, k, n_blocks, rows, data.XT.dtype, False)
        layers = self._augmented(P)
        acts = []
        h: np.ndarray = data.XT
        for index, W_aug in enumerate(layers):
            W_t = W_aug.swapaxes(1, 2)[:, None]  # (k, 1, out, in + 1)
            if index == len(layers) - 1:
                scores = workspace.scores[:k]
                np.matmul(W_t, h, out=scores)
                acts.append(scores)
                break
            buffer = workspace.hidden[index][:k]
            np.matmul(W_t, h, out=buffer[:, :, : W_aug.shape[2], :])
            self._activate(buffer[:, :, : W_aug.shape[2], :])
            acts.append(buffer)
            h = buffer
        return acts

    @staticmethod
    def _sample_major(s_t: np.ndarray, m: int) -> np.ndarray:
        """(k, blocks, out, rows) -> (k, m, out): a view on (k, out, samples) memory, which keeps the
        loss's reductions over the short class axis fast."""
        k, n_blocks, out, rows = s_t.shape
        return s_t.transpose(0, 2, 1, 3).reshape(k, out, n_blocks * rows)[:, :, :m].swapaxes(1, 2)

    @staticmethod
    def _blocked(values: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Sample-major (k, m, o) into the blocked layout ``out`` (k, blocks, o, rows), padding with 0."""
        k, n_blocks, width, rows = out.shape
        m = values.shape[1]
        flat = np.zeros((k, width, n_blocks * rows))
        flat[:, :, :m] = values.swapaxes(1, 2)
        out[...] = flat.reshape(k, width, n_blocks, rows).swapaxes(1, 2)
        return out

    def _scores(self, P: np.ndarray, data: _MLPData, workspace: Any = None) -> np.ndarray:
        return self._sample_major(self._forward(P, data, workspace)[-1], data.m)

    def _scores_and_grad(self, P: np.ndarray, data: _MLPData, y: np.ndarray,
                         workspace: _MLPWorkspace | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = P.shape[0]
        if workspace is None:
            n_blocks, _, rows = data.XT.shape
            workspace = _mlp_workspace(self.widths, k, n_blocks, rows, data.XT.dtype, True)
        acts = self._forward(P, data, workspace)
        s = self._sample_major(acts[-1], data.m)
        value = self._head.value(y, s)
        # d loss / d scores in the blocked layout; padded samples get 0 and stay 0 going back.
        g = self._blocked(self._head.grad_scores(y, s), workspace.back[-1][:k])
        layers = self._augmented(P)
        grad = np.empty(P.shape)
        for index in range(len(layers) - 1, -1, -1):
            W_slice, b_slice = self.layer_slices[2 * index], self.layer_slices[2 * index + 1]
            h_prev = data.XT if index == 0 else acts[index - 1]
            # [dW; db] = sum over blocks and samples of h_prev (augmented) times g.
            d_aug = np.matmul(h_prev, g.swapaxes(-1, -2)).sum(axis=1)
            grad[:, W_slice.slice.start: b_slice.slice.stop] = d_aug.reshape(k, -1)
            if index > 0:
                fan_in = W_slice.shape[0]
                below = workspace.back[index - 1][:k]
                np.matmul(layers[index][:, None, :fan_in, :], g, out=below)
                below *= self._derivative_from_output(h_prev[:, :, :fan_in, :],
                                                      workspace.scratch[:k, :, :fan_in])
                g = below
        return value, grad, s

    def hessian_operator(self, params: object) -> Callable[[np.ndarray], np.ndarray]:
        r"""Exact Hessian-vector products at fixed parameter vectors, for many products at each.

        Forward- and back-propagates once at ``params`` and keeps what every product needs (activations,
        :math:`\phi'`, :math:`\phi''` and the back-propagated gradients); each product is then one
        R-forward and one R-backward pass (Pearlmutter 1994, "Fast exact multiplication by the Hessian"),
        about the cost of one gradient and none of its ``tanh``. The curvature of the loss in the scores
        is the head's (:meth:`_Head.hvp_scores`); ReLU's second derivative is 0, as in torch.

        Parameters
        ----------
        params : array_like, shape (k, d)
            k points (finite).

        Returns
        -------
        callable
            ``op(vectors)`` for vectors of shape (k, d) (one per point) or (d,) (every point), giving
            :math:`\nabla^2 L(\theta_i)\, v_i`, shape (k, d). Full-batch loss.

        Examples
        --------
        >>> import numpy as np
        >>> from lossviz import models
        >>> net = models.mlp(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1]), hidden=(3,))
        >>> theta = net.init_params(seed=0)
        >>> op = net.hessian_operator(theta[None])
        >>> H = np.stack([op(e)[0] for e in np.eye(net.dim)])
        >>> bool(np.allclose(H, H.T))
        True
        """
        P = check_array(params, "params", ndim=2, last_dim=self.dim)
        return _CurvatureOperator(self, P)

    def hvp(self, params: object, vector: object) -> np.ndarray:
        r"""Hessian-vector product :math:`\nabla^2 L(\theta)\, v`, exact (see :meth:`hessian_operator`).

        Parameters
        ----------
        params : array_like, shape (d,) or (k, d)
        vector : array_like, shape (d,), (n, d) with one point, or (k, d) with k points

        Returns
        -------
        ndarray, shape of ``vector`` (or (k, d))

        Examples
        --------
        >>> import numpy as np
        >>> from lossviz import models
        >>> net = models.mlp(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]), hidden=(2,))
        >>> theta, v = net.init_params(seed=1), np.ones(net.dim)
        >>> h = 1e-5  # a central difference of the gradient along v agrees
        >>> difference = (net.grad(theta + h * v) - net.grad(theta - h * v)) / (2 * h)
        >>> bool(np.allclose(net.hvp(theta, v), difference, atol=1e-8))
        True
        """
        P = check_array(params, "params", last_dim=self.dim)
        V = check_array(vector, "vector", last_dim=self.dim)
        op = _CurvatureOperator(self, P.reshape(-1, self.dim))
        return op(V.reshape(-1, self.dim)).reshape(np.broadcast_shapes(P.shape, V.shape))

    def _values(self, rows_of: Any, k: int, batch: object, precision: type) -> np.ndarray:
        if precision is not np.float32:
            return super()._values(rows_of, k, batch, precision)
        X, y = self._batch(batch)
        return batched.mlp_float32_values(self, rows_of, k, X, y)

    def init_params(self, seed: int = 0, n: int | None = None) -> np.ndarray:
        r"""Random initial parameters: biases 0, weights :math:`\mathcal N(0, \sigma^2)` with

        ``he``: :math:`\sigma = \sqrt{2 / \text{fan\_in}}` (Kaiming normal, for ReLU);
        ``xavier``: :math:`\sigma = \sqrt{2 / (\text{fan\_in} + \text{fan\_out})}` (Glorot normal);
        ``lecun``: :math:`\sigma = \sqrt{1 / \text{fan\_in}}`; ``normal``: :math:`\sigma = 1`;
        every :math:`\sigma` multiplied by ``init_scale``.

        Parameters
        ----------
        seed : int
            Seed of ``np.random.default_rng``.
        n : int, optional
            Number of independent draws; returns shape ``(n, d)`` instead of ``(d,)``.
        """
        seed = check_int(seed, "seed", low=0)
        rows = 1 if n is None else check_int(n, "n", low=1)
        rng = np.random.default_rng(seed)
        out = np.zeros((rows, self.dim))
        for s in self.layer_slices:
            if s.kind != "weight":
                continue
            fan_in, fan_out = s.shape
            std = {"he": np.sqrt(2.0 / fan_in), "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
                   "lecun": np.sqrt(1.0 / fan_in), "normal": 1.0}[self.init]
            out[:, s.slice] = self.init_scale * std * rng.standard_normal((rows, fan_in * fan_out))
        return out[0] if n is None else out



class _MLPWorkspace(NamedTuple):
    """Scratch of one thread for chunks of at most k parameter vectors (see MLP._workspace)."""

    hidden: list[np.ndarray]  # per hidden layer (k, blocks, width + 1, rows), the last row all ones
    scores: np.ndarray  # (k, blocks, outputs, rows)
    back: list[np.ndarray]  # per layer (k, blocks, width, rows): the gradient in its pre-activations
    scratch: np.ndarray  # (k, blocks, widest hidden layer, rows)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (*self.hidden, self.scores, *self.back, self.scratch))


# One workspace per thread is kept between calls, if it is at most this big: a training step of one or two
# runs of the page's network (1.6 MB each), so a server thread never holds more than this.
_CACHED_WORKSPACE_BYTES = 4 * 2**20
_WORKSPACES = threading.local()


def _mlp_workspace(widths: tuple[int, ...], k: int, n_blocks: int, rows: int, dtype: Any,
                   for_grad: bool) -> _MLPWorkspace:
    hidden = []
    for width in widths[1:-1]:
        buffer = np.empty((k, n_blocks, width + 1, rows), dtype=dtype)
        buffer[:, :, width, :] = 1.0
        hidden.append(buffer)
    scores = np.empty((k, n_blocks, widths[-1], rows), dtype=dtype)
    widest = max(widths[1:-1], default=0)
    if not for_grad:
        return _MLPWorkspace(hidden, scores, [], np.empty((0, 0, 0, 0), dtype=dtype))
    back = [np.empty((k, n_blocks, width, rows), dtype=dtype) for width in widths[1:]]
    return _MLPWorkspace(hidden, scores, back, np.empty((k, n_blocks, widest, rows), dtype=dtype))


class _CurvatureOperator:
    r"""Hessian-vector products of an MLP's full-batch loss at k fixed points (Pearlmutter's R-operator).

    With :math:`a_l = h_{l-1} W_l + b_l`, :math:`h_l = \phi(a_l)` and a direction :math:`V = (\dot W_l,
    \dot b_l)`, the R-forward pass is :math:`\dot a_l = \dot h_{l-1} W_l + h_{l-1} \dot W_l + \dot b_l`,
    :math:`\dot h_l = \phi'(a_l) \dot a_l`; the R-backward pass, from :math:`\dot g_s = \nabla^2_s L\,
    \dot s` at the scores, is :math:`\dot{(\partial W_l)} = \dot h_{l-1}^\top g_l + h_{l-1}^\top \dot g_l`
    and :math:`\dot g_{l-1} = (\dot g_l W_l^\top + g_l \dot W_l^\top)\,\phi'(a_{l-1}) + (g_l W_l^\top)\,
    \phi''(a_{l-1})\, \dot a_{l-1}`, where :math:`g_l` is the gradient in :math:`a_l`.
    """

    def __init__(self, model: MLP, P: np.ndarray) -> None:
        self.model = model
        self.P = P
        k = P.shape[0]
        data = model._prepare(model.X, np.float64)
        self.data = data
        n_blocks, _, rows = data.XT.shape
        work = _mlp_workspace(model.widths, k, n_blocks, rows, np.float64, True)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            acts = model._forward(P, data, work)
            self.scores = model._sample_major(acts[-1], data.m)
            self.layers = model._augmented(P)
            # Contiguous copies of each W^T without its bias row, (k, 1, out, in): a transposed, sliced view
            # made every product of the R-forward pass copy it first (3x slower, measured).
            self.forward_weights = [np.ascontiguousarray(W.swapaxes(1, 2)[:, :, :-1])[:, None]
                                    for W in self.layers]
            self.backward_weights = [np.ascontiguousarray(W[:, :-1, :])[:, None] for W in self.layers]
            self.hidden = [a for a in acts[:-1]]
            y = model.y
            g = model._blocked(model._head.grad_scores(y, self.scores), work.back[-1])
            # Per hidden layer: phi', the gradient g_l (in a_l) and (g_{l+1} W^T) phi'' for the products.
            self.first, self.curvature_term, self.grads = [], [], [g]
            for index in range(len(self.layers) - 1, 0, -1):
                fan_in = self.layers[index].shape[1] - 1
                h = self.hidden[index - 1][:, :, :fan_in, :]
                upstream = np.matmul(self.layers[index][:, None, :fan_in, :], g)
                first = model._derivative_from_output(h)
                second = model._second_derivative_from_output(h)
                self.first.insert(0, first)
                self.curvature_term.insert(0, None if second is None else upstream * second)
                g = upstream * first
                self.grads.insert(0, g)

    def _buffers(self, k: int) -> dict[str, Any]:
        # Kept between products: fresh arrays of a few MB each cost page faults that took longer than the
        # arithmetic (measured: 11 ms against 6 ms for eight points of the page's network).
        if getattr(self, "_scratch", None) is None or self._scratch["k"] != k:
            n_blocks, _, rows = self.data.XT.shape
            widths = self.model.widths
            self._scratch = {
                "k": k,
                "a": [np.empty((k, n_blocks, w, rows)) for w in widths[1:]],
                "h": [np.empty((k, n_blocks, w, rows)) for w in widths[1:-1]],
                "up": [np.empty((k, n_blocks, w, rows)) for w in widths[1:-1]],
                "g": [np.empty((k, n_blocks, w, rows)) for w in widths[1:]],
                "t": [np.empty((k, n_blocks, w, rows)) for w in widths[1:]],
            }
        return self._scratch

    def __call__(self, vectors: object) -> np.ndarray:
        model, data = self.model, self.data
        V = np.asarray(vectors, dtype=np.float64)
        if V.ndim == 1:
            V = np.broadcast_to(V, self.P.shape)
        directions = model._augmented(np.ascontiguousarray(V))
        directions_t = [np.ascontiguousarray(D.swapaxes(1, 2))[:, None] for D in directions]
        k = max(V.shape[0], self.P.shape[0])
        n_hidden = len(self.hidden)
        scratch = self._buffers(k)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            dot_a, dot_h = scratch["a"], scratch["h"]
            for index, (W_aug, V_aug) in enumerate(zip(self.layers, directions)):
                h_prev = data.XT if index == 0 else self.hidden[index - 1]
                a = dot_a[index]
                np.matmul(directions_t[index], h_prev, out=a)
                if index > 0:
                    a += np.matmul(self.forward_weights[index], dot_h[index - 1], out=scratch["t"][index])
                if index < n_hidden:
                    np.multiply(a, self.first[index], out=dot_h[index])
            dot_scores = model._sample_major(dot_a[-1], data.m)
            head = model._head.hvp_scores(model.y, np.broadcast_to(self.scores, dot_scores.shape), dot_scores)
            dot_g = model._blocked(head, scratch["g"][-1])
            out = np.empty((k, model.dim))
            for index in range(len(self.layers) - 1, -1, -1):
                W_slice, b_slice = model.layer_slices[2 * index], model.layer_slices[2 * index + 1]
                g = self.grads[index]
                h_prev = data.XT if index == 0 else self.hidden[index - 1]
                d_aug = np.matmul(h_prev, dot_g.swapaxes(-1, -2)).sum(axis=1)
                if index > 0:
                    fan_in = W_slice.shape[0]
                    d_aug[:, :fan_in] += np.matmul(dot_h[index - 1], g.swapaxes(-1, -2)).sum(axis=1)
                out[:, W_slice.slice.start: b_slice.slice.stop] = np.broadcast_to(
                    d_aug, (k,) + d_aug.shape[1:]).reshape(k, -1)
                if index > 0:
                    below, upstream = scratch["g"][index - 1], scratch["up"][index - 1]
                    np.matmul(self.backward_weights[index], dot_g, out=upstream)
                    upstream += np.matmul(directions[index][:, None, :fan_in, :], g, out=below)
                    np.multiply(upstream, self.first[index - 1], out=below)
                    if self.curvature_term[index - 1] is not None:
                        np.multiply(self.curvature_term[index - 1], dot_a[index - 1], out=upstream)
                        below += upstream
                    dot_g = below
        return out


def mlp(X: object, y: object, hidden: Sequence[int] = (32, 32), activation: str = "tanh", init: str = "he",
        init_scale: float = 1.0, loss: str | _losses.Loss | None = None, task: str = "classification",
        link: str = "auto", n_classes: int | None = None, **loss_params: Any) -> MLP:
    r"""A multilayer perceptron on data, as an objective over its flat parameter vector.

    Parameters
    ----------
    X : array_like, shape (n, p)
    y : array_like, shape (n,)
        Class labels ``0 .. C-1`` (classification) or real targets (regression).
    hidden : sequence of int
        Hidden layer widths (each 1..1024, at most 8 layers; ``()`` gives a linear model).
    activation : {"tanh", "relu", "sigmoid"}
    init : {"he", "xavier", "lecun", "normal"}
        Scheme of :meth:`MLP.init_params`.
    init_scale : float, > 0
        Multiplies the init standard deviation.
    loss : str or Loss, optional
        Default ``"cross_entropy"`` (softmax on ``C`` outputs) for classification and ``"mse"`` for
        regression. Binary losses (``binary_cross_entropy_with_logits``, ``hinge``, ...) use one output
        unit, as in :func:`logistic_regression`.
    task : {"classification", "regression"}
    link : {"auto", "identity", "sigmoid", "softmax"}
    n_classes : int, optional
        Defaults to ``max(y) + 1``.
    **loss_params
        Passed to :func:`lossviz.losses.get`.

    Returns
    -------
    MLP
        ``f``/``grad`` over ``d = sum_l (in_l + 1) out_l`` parameters; ``unflatten``, ``layer_slices`` and
        ``init_params(seed)``.
    """
    check_choice(task, "task", ("classification", "regression"))
    check_choice(activation, "activation", ACTIVATIONS)
    check_choice(init, "init", INITS)
    scale = check_scalar(init_scale, "init_scale", low=0.0, include_low=False)
    if isinstance(hidden, (int, np.integer)) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths such as (32, 32), got {hidden!r}")
    if len(hidden) > 8:
        raise ValueError(f"hidden must have at most 8 layers, got {len(hidden)}")
    widths = tuple(check_int(h, "hidden layer width", low=1, high=1024) for h in hidden)
    Xa = _check_X(X)
    if task == "regression":
        ya, C = _check_y(y, Xa.shape[0], "regression")
        loss_obj, resolved = _build_loss("mse" if loss is None else loss, loss_params, "regression", None,
                                         link, None, "an MLP regression")
        n_outputs = 1
    else:
        ya, C = _check_y(y, Xa.shape[0], "classification")
        if n_classes is not None:
            C = check_int(n_classes, "n_classes", low=max(2, int(C or 2)))
        loss_obj, resolved = _build_loss("cross_entropy" if loss is None else loss, loss_params,
                                         "classification", C, link, None, "an MLP classifier")
        n_outputs = C if loss_obj.multiclass else 1
    return MLP(Xa, ya, task, C, loss_obj, resolved, n_outputs, widths, activation, init, scale)
