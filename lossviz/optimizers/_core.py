"""The :class:`Optimizer` type, hyperparameter specs as data, and the helpers every family shares.

Nothing here knows a particular algorithm: the families (``sgd.py``, ``adam.py``, ...) build
optimizers with :func:`make_optimizer` and declare their hyperparameters with :func:`hyperparameters`,
which both validates the values a factory receives and publishes them as :class:`HyperSpec` rows, so a
user interface and the constructor read the same bounds.
"""
from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from lossviz._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_per_run,
    format_range,
)

# A hyperparameter after validation: a float shared by all runs, or one value per run, shape (R,).
Hyper = float | np.ndarray
HyperLike = float | np.ndarray | list[float]
LearningRate = float | np.ndarray | None

# What an optimizer may ask the step loop for, besides (grad, state, params, lr); see Optimizer.needs.
NEEDS = frozenset({"objective", "layout"})
KINDS = ("float", "fraction", "eps", "flag", "int", "choice", "ints", "list")


# ------------------------------------------------------------------------------------------ the layout
class Block(NamedTuple):
    """One parameter tensor inside the flat parameter vector: ``params[..., start:stop]`` reshaped to
    ``shape`` (a weight matrix ``(fan_in, fan_out)``, a bias ``(fan_out,)``)."""

    name: str
    start: int
    stop: int
    shape: tuple[int, ...]


def parameter_layout(objective: Any) -> tuple[Block, ...] | None:
    """The parameter tensors of ``objective`` in flat order, or None when it has no layout.

    A model on data lists its weight matrices and bias vectors in ``layer_slices``
    (:class:`lossviz.models.LayerSlice`); a surface or a custom objective has none, and each optimizer
    that cares then treats the whole vector as one tensor (Muon as a ``1 x d`` matrix, as torch would see
    a point written as a row).

    >>> from lossviz import surfaces
    >>> parameter_layout(surfaces.get("rosenbrock")) is None
    True
    """
    slices = getattr(objective, "layer_slices", None)
    if not slices:
        return None
    return tuple(Block(str(s.name), int(s.slice.start), int(s.slice.stop), tuple(int(n) for n in s.shape))
                 for s in slices)


def check_layout(layout: object, dim: int) -> tuple[Block, ...] | None:
    """``layout`` as a tuple of :class:`Block` tiling ``0..dim`` in order (None stays None)."""
    if layout is None:
        return None
    blocks = tuple(Block(*b) for b in layout)  # type: ignore[misc]
    position = 0
    for b in blocks:
        if b.start != position or b.stop - b.start != int(np.prod(b.shape)) or not b.shape:
            raise ValueError(f"layout must tile the {dim} parameters in order with block sizes matching "
                             f"their shapes; block {b.name!r} ({b.start}:{b.stop}, shape {b.shape}) does not")
        position = b.stop
    if position != dim:
        raise ValueError(f"layout covers {position} parameters but params have {dim}")
    return blocks


# -------------------------------------------------------------------------------------------- the specs
@dataclass(frozen=True)
class HyperSpec:
    """One user-facing hyperparameter of an optimizer, as data.

    Attributes
    ----------
    name : str
        torch's (or the reference package's) name; a component of a tuple argument is written
        ``"betas[0]"``.
    label : str
        A short human label, e.g. ``"β₁ (first moment)"``.
    kind : {"float", "fraction", "eps", "flag", "int", "choice", "ints", "list"}
        ``fraction``: a decay-like number in a unit interval (the bounds say which ends are allowed);
        ``eps``: a small positive stabilizer, best shown on a log scale; ``ints``: a sequence of integers
        (a schedule's milestones); ``list``: any other sequence (a chain's member schedules), checked by
        ``validator``.
    default
        torch's / the reference's default.
    low, high, include_low, include_high
        The allowed range, exactly what the constructor checks (``None``: unbounded).
    choices : tuple
        For ``choice``: the allowed values (``None`` may be one of them).
    optional : bool
        ``None`` is accepted (it means "derived", e.g. L-BFGS's ``max_eval``).
    soft : (float, float) or None
        The span a slider would show, inside the allowed range (the range itself may be unbounded).
    advanced : bool
        Rarely changed (stabilizers, iteration counts): a UI may tuck it away.
    shared : bool
        A number that must be the same for every run (no per-run array).
    validator : callable or None
        The check of a value no interval describes (``ints``, ``list``); :meth:`check` calls it.
    """

    name: str
    label: str
    kind: str
    default: Any = None
    low: float | None = None
    high: float | None = None
    include_low: bool = True
    include_high: bool = True
    choices: tuple = ()
    optional: bool = False
    soft: tuple[float, float] | None = None
    advanced: bool = False
    shared: bool = False
    validator: Callable[[object], Any] | None = field(default=None, repr=False, compare=False)

    @property
    def argument(self) -> str:
        """The factory argument this spec belongs to (``"betas"`` for ``"betas[0]"``)."""
        return self.name.split("[")[0]

    @property
    def index(self) -> int | None:
        """The component index inside a tuple argument, or None."""
        return int(self.name[self.name.index("[") + 1 : -1]) if "[" in self.name else None

    @property
    def per_run(self) -> bool:
        """Whether one value per run (an array of shape (R,)) is accepted."""
        return self.kind in ("float", "fraction", "eps") and not self.shared

    @property
    def range(self) -> str:
        """The allowed values as messages print them: ``[0, 1)``, ``{True, False}``, ``{'cos', 'linear'}``."""
        if self.kind == "flag":
            return "{True, False}"
        if self.kind == "choice":
            return "{" + ", ".join(repr(c) for c in self.choices) + "}"
        if self.kind == "list":
            return "a sequence"
        if self.kind == "ints":
            return "increasing integers in " + format_range(self.low, self.high)
        return format_range(self.low, self.high, self.include_low, self.include_high)

    def check(self, value: object) -> Any:
        """``value`` validated (a float, an array (R,), an int, a bool or a choice), or the error that names
        this parameter, the value and the allowed range."""
        if value is None and (self.optional or (self.kind == "choice" and None in self.choices)):
            return None
        if self.validator is not None:
            return self.validator(value)
        if self.kind == "flag":
            return check_bool(value, self.name)
        if self.kind == "int":
            low = None if self.low is None else int(self.low)
            high = None if self.high is None else int(self.high)
            return check_int(value, self.name, low=low, high=high)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            return check_choice(value, self.name, [str(c) for c in self.choices])
        if self.shared and not (is_number(value) or (isinstance(value, np.ndarray) and value.ndim == 0)):
            raise TypeError(f"{self.name} must be one number shared by all runs, got {value!r}")
        return check_per_run(value, self.name, low=self.low, high=self.high, include_low=self.include_low,
                             include_high=self.include_high)


def spec_row(name: str, label: str, kind: str, **bounds: Any) -> HyperSpec:
    """A :class:`HyperSpec` without its default (filled from the factory's signature)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return HyperSpec(name, label, kind, **bounds)


# How a tuple argument's components are called in the message for a value that is not such a tuple.
PAIR_NAMES = {"betas": "beta1, beta2", "etas": "etaminus, etaplus", "step_sizes": "min, max",
              "eps": "eps1, eps2"}


def hyperparameters(*rows: HyperSpec) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate an optimizer factory: validate its arguments with ``rows`` and publish them.

    Every argument that has rows is checked before the factory body runs (a tuple argument such as
    ``betas`` has one row per component, ``"betas[0]"``, ``"betas[1]"``); the body receives the validated
    values. Defaults come from the factory's own signature, so the published default is the one used.
    Arguments without a row (hidden ones, such as Muon's ``ns_coefficients``) reach the body unchecked.
    The result carries ``specs``: a dict from row name to :class:`HyperSpec`, in signature order.
    """

    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(factory)
        by_argument: dict[str, list[HyperSpec]] = {}
        for row in rows:
            if row.argument not in signature.parameters:
                raise TypeError(f"{factory.__name__} has no argument {row.argument!r}")
            default = signature.parameters[row.argument].default
            if row.index is not None:
                default = default[row.index]
            by_argument.setdefault(row.argument, []).append(replace(row, default=default))
        specs = {row.name: row for name in signature.parameters for row in by_argument.get(name, [])}

        @functools.wraps(factory)
        def build(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            for argument, parts in by_argument.items():
                value = values[argument]
                if parts[0].index is None:
                    values[argument] = parts[0].check(value)
                    continue
                try:
                    components = tuple(value)  # type: ignore[call-overload]
                except TypeError:
                    components = ()
                if isinstance(value, (str, np.ndarray)) or len(components) != len(parts):
                    names = PAIR_NAMES.get(argument, ", ".join(p.name for p in parts))
                    raise ValueError(f"{argument} must be a pair ({names}), got {value!r}")
                values[argument] = tuple(part.check(c) for part, c in zip(parts, components))
            extra = {}
            for name, parameter in signature.parameters.items():
                if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                    extra = values.pop(name, {})
            return factory(**values, **extra)

        build.specs = specs  # type: ignore[attr-defined]
        return build

    return decorate


# ------------------------------------------------------------------------------------- per-run helpers
def run_count(hyperparameters: dict[str, Any]) -> int | None:
    """The common R of all per-run hyperparameters (None when every one is a scalar)."""
    sizes: dict[str, int] = {}
    for key, value in hyperparameters.items():
        parts = value if isinstance(value, tuple) else (value,)
        for i, part in enumerate(parts):
            if isinstance(part, np.ndarray) and part.ndim == 1:
                sizes[f"{key}[{i}]" if isinstance(value, tuple) else key] = part.shape[0]
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{k}: {n}" for k, n in sizes.items())
        raise ValueError(f"per-run hyperparameters must all have the same length R, got {listing}")
    return next(iter(sizes.values()), None)


def col(x: Hyper) -> Hyper:
    """Per-run values as a column (R, 1) so they broadcast against (R, d); scalars stay floats."""
    return x[:, None] if isinstance(x, np.ndarray) else x


def elementwise(x: Hyper) -> np.ndarray:
    """Like :func:`col`, but a scalar becomes a 0-d array: NumPy multiplies an array by a 0-d array
    markedly faster than by a Python float, and the update runs thousands of times."""
    return x[:, None] if isinstance(x, np.ndarray) else np.array(x)


def powers(base: Hyper) -> Callable[[int], Hyper]:
    """``t -> base**t`` for a bias correction. A per-run base (a column) is raised once per distinct
    value: a sweep grid repeats each beta R / n times, and pow is the costliest operation of its step."""
    if not isinstance(base, np.ndarray):
        return lambda t: base**t
    distinct, index = np.unique(base, return_inverse=True)
    index = index.reshape(base.shape)
    return lambda t: (distinct**t)[index]


def any_nonzero(x: Hyper) -> bool:
    return bool(np.any(x != 0))


def lerp(start: np.ndarray, end: np.ndarray, weight: Hyper) -> np.ndarray:
    """torch's ``start.lerp(end, weight)``: ``start + w (end - start)`` for ``|w| < 0.5``, else
    ``end - (end - start)(1 - w)`` (the form torch picks so that ``w = 1`` gives ``end`` exactly)."""
    diff = end - start
    if isinstance(weight, np.ndarray):
        return np.where(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))
    return start + weight * diff if abs(weight) < 0.5 else end - diff * (1 - weight)


def learning_rate(lr: object, n_runs: int | None) -> Hyper:
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


def checked_learning_rates(lr_table: np.ndarray, n_runs: int) -> np.ndarray | None:
    """A schedule's float64 lrs for every step, shape (T,) or (T, R), checked once as ``update`` checks
    each step's, or None if ``update`` would refuse some step's lr.

    Row t of the result is what :func:`learning_rate` returns for ``lr_table[t]``: a scalar, or for a
    (T, R) table a column, so the result is (T, R, 1). Spares a step loop the per-step check (see ``run``).
    """
    if lr_table.dtype != np.float64 or lr_table.shape[1:] not in ((), (n_runs,)):
        return None
    if not np.all((lr_table >= 0.0) & (lr_table < np.inf)):
        return None
    return lr_table if lr_table.ndim == 1 else lr_table[:, :, None]


def per_run_scalars(x: Hyper, n_runs: int) -> list[float]:
    """A hyperparameter as one Python float per run (for the per-run loops of L-BFGS)."""
    return [float(v) for v in np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (n_runs,))] \
        if isinstance(x, np.ndarray) else [float(x)] * n_runs


# ----------------------------------------------------------------------------------------- the type
UpdateFn = Callable[..., tuple[np.ndarray, Any]]


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
        The class it reproduces, e.g. ``"Adam"`` (``torch.optim.Adam``) or ``"Lion"``.
    latex : str
        The update rule for the chosen settings, KaTeX-compatible (``st.latex``), with torch's indexing:
        step ``t`` counts from 1 and ``g_t`` is the gradient at ``theta_{t-1}``.
    hyperparameters : dict
        The validated settings under torch's names (floats, bools, tuples such as ``betas``, or per-run
        arrays of shape (R,)), plus ``clip_norm`` / ``clip_value`` when clipped.
        ``get(name, **hyperparameters)`` rebuilds the same optimizer.
    n_runs : int or None
        R when some hyperparameter is per-run, else None (any R).
    reference : str
        The dotted class the trajectories equal, e.g. ``"torch.optim.Adam"`` or ``"lion_pytorch.Lion"``;
        ``""`` when there is no reference implementation (Newton's method).
    needs : frozenset of {"objective", "layout"}
        What the optimizer needs besides ``(grad, state, params, lr)``. With ``"objective"``,
        :meth:`update` takes ``objective=``: an object with ``f(points)``, ``grad(points)``,
        ``value_and_grad(points)`` (and ``hessian(points)`` where the objective has one) for points of
        shape (R, d), bound to the step's mini-batch (L-BFGS's closure, SAM's second gradient, Newton's
        Hessian). With ``"layout"``, :meth:`init` and :meth:`update` take ``layout=``, the parameter
        tensors from :func:`parameter_layout` (Muon, Adafactor and SAM treat matrices as matrices).
        :func:`lossviz.run.run` passes exactly what is declared.
    paths : tuple of str
        Names of extra point sequences the optimizer keeps besides ``params`` (ASGD's average ``ax``,
        schedule-free's evaluation sequence ``x``, L-BFGS's ``evaluations``); :meth:`path_points`
        reads them from a state and ``run`` records them in ``Trajectory.paths``.
    """

    name: str
    title: str
    torch_name: str
    latex: str = field(repr=False)
    hyperparameters: dict
    n_runs: int | None
    _init: Callable[..., Any] = field(repr=False)
    _update: UpdateFn = field(repr=False)
    _effective_lr: Callable[[Any, Hyper], np.ndarray] = field(repr=False)
    _default_lr: Hyper = field(repr=False)
    reference: str = ""
    needs: frozenset = frozenset()
    paths: tuple[str, ...] = ()
    _path_points: Callable[[Any], dict[str, tuple[np.ndarray, np.ndarray | None]]] | None = field(
        default=None, repr=False)

    def init(self, params: object, *, layout: Sequence[Block] | None = None) -> Any:
        """Initial state for ``params`` of shape ``(R, d)`` (moments at zero, ``step`` = 0).

        ``layout`` (see :attr:`needs`) is used by optimizers that declare ``"layout"`` and ignored by
        the others.
        """
        p = check_array(params, "params", ndim=2)
        if self.n_runs is not None and p.shape[0] != self.n_runs:
            raise ValueError(
                f"params has {p.shape[0]} runs (shape {p.shape}) but the per-run hyperparameters "
                f"have R = {self.n_runs}"
            )
        if "layout" in self.needs:
            return self._init(p, layout=check_layout(layout, p.shape[1]))
        return self._init(p)

    def update(
        self, grad: np.ndarray, state: Any, params: np.ndarray, lr: LearningRate = None, *,
        objective: Any = None, layout: Sequence[Block] | None = None,
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
        objective, layout : optional
            What :attr:`needs` declares (ignored otherwise); ``objective`` is required when declared.

        Returns
        -------
        new_params : ndarray, shape (R, d)
        new_state : NamedTuple, with ``step`` increased by one
        """
        step_lr = self._default_lr if lr is None else learning_rate(lr, params.shape[0])
        if not self.needs:
            return self._update(grad, state, params, step_lr)
        return self._update(grad, state, params, step_lr, **self.context(objective, layout))

    def context(self, objective: Any, layout: Sequence[Block] | None) -> dict[str, Any]:
        """The keyword arguments :meth:`update` hands the update rule, as :attr:`needs` declares."""
        context: dict[str, Any] = {}
        if "objective" in self.needs:
            if objective is None:
                raise ValueError(f"{self.title} evaluates the objective during its step; pass objective= "
                                 "(lossviz.run.run does)")
            context["objective"] = objective
        if "layout" in self.needs:
            context["layout"] = None if layout is None else tuple(Block(*b) for b in layout)
        return context

    def effective_lr(self, state: Any, lr: LearningRate = None) -> np.ndarray:
        """Per-coordinate step size implied by ``state``: the factor ``eta`` in ``theta -= eta * u``.

        ``u`` is the optimizer's search direction (see :data:`lossviz.viz.inspector.DIRECTION_WORDS`):
        the (momentum or Nesterov) gradient for SGD, the bias-corrected first moment for Adam, the sign
        of the interpolated momentum for Lion, and so on. Concretely ``lr`` for SGD;
        ``lr / (sqrt(v_hat) + eps)`` for Adam, AdamW and NAdam (``v_hat`` from ``max_exp_avg_sq`` with
        amsgrad); ``clr / (sqrt(sum) + eps)`` for Adagrad; ``lr / (sqrt(square_avg - grad_avg**2) + eps)``
        for RMSprop; ``lr * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)`` for RAdam (``lr`` while
        rho_t <= 5); ``lr / exp_inf`` for Adamax; each new optimizer's docstring says its own. For most it
        is exactly the factor the update that produced ``state`` applied. Adadelta's
        ``lr * sqrt(acc_delta + eps) / sqrt(square_avg + eps)`` uses the already-updated ``acc_delta``, so
        it is the ratio the next step starts from. Before the first step the moments are their initial
        values (so Adam gives ``lr / eps``).

        Returns
        -------
        ndarray
            Shape (R, d), or a scalar / shape (R, 1) for optimizers whose step size is the same for every
            coordinate (SGD, Lion, sign descent), which broadcasts against (R, d).
        """
        runs = next((v.shape[0] for v in state[1:] if isinstance(v, np.ndarray)), None)
        step_lr = self._default_lr if lr is None else learning_rate(lr, runs)
        return self._effective_lr(state, step_lr)

    def path_points(self, state: Any) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """The extra paths' current points, name -> ``(points, loss)``; ``points`` has shape (R, d), or
        (R, E, d) for several points per step (L-BFGS's evaluations, NaN-padded), and ``loss`` is their
        objective values when the optimizer computed them, else None. Empty without :attr:`paths`."""
        return {} if self._path_points is None else self._path_points(state)


def make_optimizer(
    name: str,
    title: str,
    torch_name: str,
    lines: list[str],
    hyperparameters: dict[str, Any],
    init: Callable[..., Any],
    update: UpdateFn,
    effective_lr: Callable[[Any, Hyper], np.ndarray],
    *,
    reference: str | None = None,
    needs: frozenset | set = frozenset(),
    paths: tuple[str, ...] = (),
    path_points: Callable[[Any], dict[str, tuple[np.ndarray, np.ndarray | None]]] | None = None,
) -> Optimizer:
    """An :class:`Optimizer` from a family's pieces (``lines``: the rule, one aligned line each)."""
    unknown = set(needs) - NEEDS
    if unknown:
        raise ValueError(f"needs must be a subset of {sorted(NEEDS)}, got {sorted(unknown)}")
    return Optimizer(
        name=name,
        title=title,
        torch_name=torch_name,
        latex=aligned(lines),
        hyperparameters=hyperparameters,
        n_runs=run_count(hyperparameters),
        _init=init,
        _update=update,
        _effective_lr=effective_lr,
        _default_lr=col(hyperparameters["lr"]),
        reference=f"torch.optim.{torch_name}" if reference is None else reference,
        needs=frozenset(needs),
        paths=paths,
        _path_points=path_points,
    )


# ------------------------------------------------------------------------------------------ LaTeX bits
# Symbols follow torch's algorithm boxes: gamma = lr, lambda = weight_decay, mu = momentum, tau = dampening.
GRAD_LINE = r"g_t &\leftarrow \nabla f(\theta_{t-1})"


def aligned(lines: list[str]) -> str:
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


def decay_lines(weight_decay: Hyper, decoupled: bool = False) -> list[str]:
    if not any_nonzero(weight_decay):
        return []
    if decoupled:
        return [r"\theta_{t-1} &\leftarrow \theta_{t-1} - \gamma \lambda\, \theta_{t-1}"]
    return [r"g_t &\leftarrow g_t + \lambda\, \theta_{t-1}"]


ADAM_MOMENT_LINES = [
    r"m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t",
    r"v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2",
]


# ------------------------------------------------------------------------------------- common spec rows
def lr_row(**bounds: Any) -> HyperSpec:
    return spec_row("lr", "learning rate (lr)", "float", low=0.0, soft=(1e-5, 10.0), **bounds)


def weight_decay_row(label: str = "weight decay") -> HyperSpec:
    return spec_row("weight_decay", label, "float", low=0.0, soft=(0.0, 1.0))


def eps_row(name: str = "eps", label: str = "ε (stabilizer)") -> HyperSpec:
    return spec_row(name, label, "eps", low=0.0, soft=(1e-12, 1.0), advanced=True)


def beta_rows() -> tuple[HyperSpec, HyperSpec]:
    return (
        spec_row("betas[0]", "β₁ (first moment)", "fraction", low=0.0, high=1.0, include_high=False),
        spec_row("betas[1]", "β₂ (second moment)", "fraction", low=0.0, high=1.0, include_high=False),
    )


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
