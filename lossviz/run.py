"""The step loop: advance R optimizer runs at once on one objective and record everything.

One Python loop over steps, every operation vectorized over the run axis; the same call serves the
optimizer race (one start per optimizer), the learning-rate sweep and the momentum phase map
(hyperparameter arrays of shape ``(R,)``) and the many-starts view (``x0`` of shape ``(R, d)``).

Recording convention (index ``t`` runs over ``0..steps``): ``params[t]`` is the point *before* the t-th
optimizer step (``params[0] == x0``), ``loss[t]`` and ``grad_norm[t]`` are measured there, and
``lr[t]`` (``t < steps``) is the learning rate the t-th step used to go from ``params[t]`` to
``params[t + 1]``.

Optimizers that need more than the gradient declare it (``Optimizer.needs``): the loop then hands their
update the objective bound to the step's mini-batch (:class:`StepObjective`: L-BFGS's closure, SAM's second
gradient, Newton's Hessian) and/or the parameter layout (weight matrices for Muon and Adafactor). Extra
point sequences an optimizer keeps (``Optimizer.paths``: ASGD's average, schedule-free's ``x``, L-BFGS's
function evaluations) are recorded in ``Trajectory.paths`` with their losses. A schedule that reads the
loss (``reduce_on_plateau``) is fed ``f(params[t])`` after step t, as a torch loop calls
``scheduler.step(loss)``. Optimizers that need none of this run the same loop as before, not a step slower.

    >>> import numpy as np
    >>> from lossviz import optimizers, surfaces
    >>> from lossviz.run import run
    >>> traj = run(surfaces.get("rosenbrock"), optimizers.get("sgd", lr=1e-3), np.array([-1.5, 2.0]), 100)
    >>> traj.params.shape, traj.loss.shape, traj.lr.shape
    ((101, 2), (101,), (100,))
"""
from __future__ import annotations

import html
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from lossviz._validation import check_array, check_bool, check_int, check_objective, check_scalar
from lossviz.optimizers import Optimizer, _checked_learning_rates, parameter_layout
from lossviz.surfaces import Surface

__all__ = ["MAX_RECORDED_VALUES", "MAX_STEPS", "Evaluations", "StepObjective", "Trajectory",
           "minibatch_indices", "run"]

MAX_STEPS = 100_000
# Guards memory: params and grads are both recorded, each R x (steps + 1) x d float64 values.
MAX_RECORDED_VALUES = 50_000_000
DEFAULT_DIVERGENCE_THRESHOLD = 1e12
# How often the loop looks for "every run has stopped"; checking each step would cost more than it saves
# (at one run of two parameters the check costs half a step). Where it stops does not change the result.
_STOP_CHECK_EVERY = 16
# Upper bound on (parameter vectors x samples x d) per call when scoring a data objective after the loop,
# so a long MLP run is evaluated in slices instead of one huge broadcast.
_DATA_EVAL_BUDGET = 4_000_000


class Evaluations(NamedTuple):
    """The function evaluations of a run in order (see :meth:`Trajectory.evaluations`)."""

    points: np.ndarray
    loss: np.ndarray
    step: np.ndarray
    outer: np.ndarray


def _number(value: float) -> str:
    return f"{value:.3g}"


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What :func:`run` recorded.

    Shapes use ``R`` runs, ``T`` steps and ``d`` parameters. When :func:`run` got a 1-D ``x0`` and no
    per-run hyperparameter, the run axis is dropped (``batched`` is False): ``params`` is ``(T+1, d)``,
    ``diverged_at`` a plain int, and so on.

    Attributes
    ----------
    params : ndarray, shape (R, T+1, d)
        ``params[r, t]`` is run r's point before step t. After a run diverged the rows are NaN; after it
        converged its last point is repeated.
    loss : ndarray, shape (R, T+1)
        Objective at ``params`` (the full objective, also when steps used mini-batches).
    grad_norm : ndarray, shape (R, T+1)
        Euclidean norm of the gradient step t used (the mini-batch gradient when ``batch_size`` is set).
    lr : ndarray, shape (R, T)
        Learning rate of step t; NaN for steps a stopped run did not take.
    diverged_at : ndarray of int, shape (R,)
        First index t where run r's params, loss or gradient were non-finite or the loss exceeded the
        divergence threshold; -1 if never.
    converged_at : ndarray of int, shape (R,)
        First index t where the gradient norm fell below ``grad_tol`` ("steps to tolerance"); -1 if never
        or no tolerance was given.
    param_names : tuple of str
        Column names of the parameters in :meth:`to_frame`.
    batched : bool
        Whether the arrays carry the run axis.
    grads : ndarray, shape (R, T+1, d), or None
        The gradients themselves, when ``record_grads=True``.
    states : dict of str to ndarray (R, T+1, ...), or None
        Every optimizer-state field before each step, when ``record_state=True`` (float64; shared
        scalar fields such as a step count are repeated per run).
    paths : dict of str to ndarray, or None
        The optimizer's extra point sequences (``Optimizer.paths``), aligned with ``params``:
        ``paths[name][r, t]`` is the path's point after t steps, shape (R, T+1, d) (ASGD's ``"ax"``,
        schedule-free's ``"x"`` and ``"z"``, SAM's ``"perturbed"``), or (R, T+1, E, d) for
        ``"evaluations"``: the points L-BFGS evaluated during step t - 1, NaN-padded to E
        (see :meth:`evaluations`). None when the optimizer keeps none.
    path_loss : dict of str to ndarray, or None
        The objective along each path, shape (R, T+1) (or (R, T+1, E)).
    """

    params: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    diverged_at: np.ndarray | int
    converged_at: np.ndarray | int
    param_names: tuple[str, ...]
    batched: bool
    grads: np.ndarray | None = None
    states: dict[str, np.ndarray] | None = None
    paths: dict[str, np.ndarray] | None = None
    path_loss: dict[str, np.ndarray] | None = None

    @property
    def n_runs(self) -> int:
        """R (1 when not batched)."""
        return int(self.params.shape[0]) if self.batched else 1

    @property
    def n_steps(self) -> int:
        """T, the number of steps requested (the arrays are always this long, even after an early stop)."""
        return int(self.loss.shape[-1]) - 1

    @property
    def dim(self) -> int:
        """d, the number of parameters."""
        return int(self.params.shape[-1])

    def _summary(self) -> dict[str, str]:
        """The numbers the repr shows, as text: runs, steps, d, start and final loss, converged, diverged."""
        loss = np.atleast_2d(self.loss)
        diverged = np.atleast_1d(self.diverged_at)
        converged = np.atleast_1d(self.converged_at)
        # A stopped run's final loss is its loss where it stopped (after that the record is padding).
        stop = np.where(diverged >= 0, diverged, np.where(converged >= 0, converged, self.n_steps))
        final = loss[np.arange(loss.shape[0]), stop]
        start = loss[:, 0]
        if self.n_runs == 1:
            return {
                "runs": "1 run", "steps": f"{self.n_steps} steps", "d": str(self.dim),
                "loss": f"{_number(start[0])} -> {_number(final[0])}",
                "converged": f"at step {converged[0]}" if converged[0] >= 0 else "no",
                "diverged": f"at step {diverged[0]}" if diverged[0] >= 0 else "no",
            }
        kept = final[(diverged < 0) & np.isfinite(final)]
        spread = (f"{_number(kept.min())} to {_number(kept.max())} (median {_number(np.median(kept))})"
                  if kept.size else "none (every run diverged)")
        return {
            "runs": f"{self.n_runs} runs", "steps": f"{self.n_steps} steps", "d": str(self.dim),
            "loss": spread,
            "converged": f"{int((converged >= 0).sum())} of {self.n_runs}",
            "diverged": f"{int((diverged >= 0).sum())} of {self.n_runs}",
        }

    def __repr__(self) -> str:
        """One line: runs x steps, d, the loss from start to end, and whether runs converged or diverged.

        >>> import numpy as np
        >>> from lossviz import optimizers, surfaces
        >>> bowl = surfaces.get("quadratic", condition_number=1.0, rotation=0.0)
        >>> run(bowl, optimizers.get("sgd", lr=0.1), np.array([1.0, 1.0]), 50)
        Trajectory(1 run x 50 steps, d=2, loss 1 -> 2.66e-05, converged no, diverged no)
        >>> run(bowl, optimizers.get("sgd", lr=3.0), np.array([1.0, 1.0]), 50)
        Trajectory(1 run x 50 steps, d=2, loss 1 -> 1.1e+12, converged no, diverged at step 20)

        With R runs the final losses of the runs that did not diverge are summarized:

        >>> lrs = np.array([0.1, 0.5, 0.9, 2.5])
        >>> run(bowl, optimizers.get("sgd", lr=lrs), np.array([1.0, 1.0]), 50, grad_tol=1e-6)
        Trajectory(4 runs x 50 steps, d=2, final loss 1e-14 to 2.66e-05 (median 2.27e-13), converged 2 of 4, \
diverged 1 of 4)
        """
        s = self._summary()
        loss = f"loss {s['loss']}" if self.n_runs == 1 else f"final loss {s['loss']}"
        return (f"Trajectory({s['runs']} x {s['steps']}, d={s['d']}, {loss}, "
                f"converged {s['converged']}, diverged {s['diverged']})")

    def _repr_html_(self) -> str:
        """A small summary table for notebooks.

        >>> import numpy as np
        >>> from lossviz import optimizers, surfaces
        >>> traj = run(surfaces.get("rosenbrock"), optimizers.get("adam", lr=0.01), np.zeros(2), 10)
        >>> print(traj._repr_html_())  # doctest: +NORMALIZE_WHITESPACE
        <table><caption>Trajectory</caption>
        <tr><th>runs</th><td>1 run</td></tr>
        <tr><th>steps</th><td>10 steps</td></tr>
        <tr><th>parameters (d)</th><td>2</td></tr>
        <tr><th>loss</th><td>1 -&gt; 0.812</td></tr>
        <tr><th>converged</th><td>no</td></tr>
        <tr><th>diverged</th><td>no</td></tr>
        </table>
        """
        s = self._summary()
        rows = [("runs", s["runs"]), ("steps", s["steps"]), ("parameters (d)", s["d"]), ("loss", s["loss"]),
                ("converged", s["converged"]), ("diverged", s["diverged"])]
        if self.paths:
            rows.append(("extra paths", ", ".join(self.paths)))
        body = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>Trajectory</caption>\n{body}\n</table>"

    def evaluations(self, run: int = 0) -> Evaluations:
        """Every function evaluation of an optimizer that records them (L-BFGS), in order, for run ``run``.

        Returns
        -------
        Evaluations
            ``points`` (E, d) and ``loss`` (E,) in the order they were evaluated, ``step`` (E,) the outer
            step during which each was evaluated (the step from ``params[t]`` to ``params[t + 1]``), and
            ``outer`` (E,) True at the first evaluation of each outer step (which is ``params[t]`` itself):
            the marks of the outer steps on the evaluation path.

        Raises
        ------
        ValueError
            When the optimizer records no evaluations.
        """
        if not self.paths or "evaluations" not in self.paths:
            raise ValueError("this trajectory has no recorded evaluations (only L-BFGS records them)")
        points = self.paths["evaluations"] if not self.batched else self.paths["evaluations"][run]
        loss = self.path_loss["evaluations"] if not self.batched else self.path_loss["evaluations"][run]
        # Row t + 1 holds step t's evaluations, NaN-padded; a run that stopped repeats or NaNs its rows.
        rows = points[1:]
        taken = np.isfinite(rows).all(axis=-1)
        last_step = self.n_steps
        stop = self.diverged_at if not self.batched else self.diverged_at[run]
        converged = self.converged_at if not self.batched else self.converged_at[run]
        for candidate in (stop, converged):
            if candidate >= 0:
                last_step = min(last_step, int(candidate))
        taken[last_step:] = False
        step_index, slot = np.nonzero(taken)
        outer = np.zeros(step_index.size, dtype=bool)
        outer[np.flatnonzero(slot == 0)] = True
        return Evaluations(rows[step_index, slot], loss[1:][step_index, slot], step_index, outer)

    def to_frame(self) -> pd.DataFrame:
        """One row per (run, step): columns ``run, step, <param names>, loss, grad_norm, lr``.

        ``lr`` on row t is the learning rate of the step leaving ``params[t]`` (NaN on the last row and
        for steps a stopped run did not take). Ready for ``DataFrame.to_csv``.
        """
        params = self.params if self.batched else self.params[None]
        loss = self.loss if self.batched else self.loss[None]
        grad_norm = self.grad_norm if self.batched else self.grad_norm[None]
        lr = self.lr if self.batched else self.lr[None]
        n_runs, n_points, dim = params.shape
        lr_per_point = np.full((n_runs, n_points), np.nan)
        lr_per_point[:, : n_points - 1] = lr
        columns: dict[str, np.ndarray] = {
            "run": np.repeat(np.arange(n_runs), n_points),
            "step": np.tile(np.arange(n_points), n_runs),
        }
        flat_params = params.reshape(n_runs * n_points, dim)
        for j, name in enumerate(self.param_names):
            columns[name] = flat_params[:, j]
        columns["loss"] = loss.reshape(-1)
        columns["grad_norm"] = grad_norm.reshape(-1)
        columns["lr"] = lr_per_point.reshape(-1)
        return pd.DataFrame(columns)


def minibatch_indices(n_samples: int, batch_size: int, n_batches: int, seed: int = 0) -> list[np.ndarray]:
    """The first ``n_batches`` index batches of a shuffled pass over the data, epoch after epoch.

    Like ``torch.utils.data.DataLoader(shuffle=True, drop_last=False)``: each epoch draws a fresh
    permutation of ``0..n_samples-1`` from ``np.random.default_rng(seed)`` and cuts it into consecutive
    batches of ``batch_size`` (the last one of an epoch smaller when ``batch_size`` does not divide
    ``n_samples``), so every sample appears exactly once per epoch. Same seed, same batches.

    Returns
    -------
    list of ndarray of int
        ``n_batches`` index arrays.
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1, high=n_samples)
    n_batches = check_int(n_batches, "n_batches", low=0)
    seed = check_int(seed, "seed", low=0)
    rng = np.random.default_rng(seed)
    batches: list[np.ndarray] = []
    while len(batches) < n_batches:
        order = rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            batches.append(order[start : start + batch_size])
    return batches[:n_batches]


def _check_optimizer(optimizer: object) -> dict[str, Any]:
    for method in ("init", "update"):
        if not callable(getattr(optimizer, method, None)):
            raise TypeError(
                f"optimizer must have init(params) and update(grad, state, params, lr) (use "
                f"lossviz.optimizers.get), got {type(optimizer).__name__} without {method}()"
            )
    hyperparameters = getattr(optimizer, "hyperparameters", None)
    if not isinstance(hyperparameters, dict):
        raise TypeError(f"optimizer must have a dict attribute hyperparameters, got {hyperparameters!r}")
    return hyperparameters


def _run_axis_sizes(hyperparameters: dict[str, Any]) -> dict[str, int]:
    """Hyperparameters given as one value per run (1-D arrays, also inside tuples such as ``betas``)."""
    sizes: dict[str, int] = {}
    for name, value in hyperparameters.items():
        parts = value if isinstance(value, tuple | list) else (value,)
        for part in parts:
            if isinstance(part, np.ndarray) and part.ndim == 1:
                sizes[name] = part.shape[0]
    return sizes


def _flatten_state(state: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every array of a (nested) state with a dotted name; a plain tuple's items are named by index
    (Adafactor keeps one row factor per weight matrix: ``row_var.0``, ``row_var.1``)."""
    if state is None:
        return
    fields = getattr(state, "_fields", None)
    if fields is not None:
        for field in fields:
            yield from _flatten_state(getattr(state, field), f"{prefix}.{field}" if prefix else field)
    elif isinstance(state, tuple | list):
        for i, item in enumerate(state):
            yield from _flatten_state(item, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield prefix or "state", state


class StepObjective:
    """The objective as an optimizer's update sees it during one step (``Optimizer.needs`` has
    ``"objective"``): values and gradients at points of shape (R, d) (or (..., d)), on the step's
    mini-batch when the run uses mini-batches.

    Attributes
    ----------
    has_hessian : bool
        Whether :meth:`hessian` is the objective's analytic Hessian (surfaces); otherwise it is central
        differences of the gradient.

    >>> import numpy as np
    >>> from lossviz import surfaces
    >>> step = StepObjective(surfaces.get("rosenbrock"))
    >>> step.value_and_grad(np.array([[1.0, 1.0]]))
    (array([0.]), array([[-0.,  0.]]))
    """

    def __init__(self, objective: Any, batch: np.ndarray | None = None) -> None:
        self.objective = objective
        self.batch = batch
        self.dim = objective.dim
        surface = type(objective) is Surface
        # A Surface's formulas themselves: the loop has already silenced floating-point warnings.
        self._f = objective._f if surface else objective.f
        self._grad = objective._grad if surface else objective.grad
        hessian = objective._hessian if surface else getattr(objective, "hessian", None)
        self._hessian = hessian if callable(hessian) and batch is None else None
        self._value_and_grad = getattr(objective, "value_and_grad", None) if not surface else None
        self.has_hessian = self._hessian is not None

    def f(self, points: np.ndarray) -> np.ndarray:
        """Loss at ``points`` (..., d) -> (...)."""
        return self._f(points) if self.batch is None else self._f(points, batch=self.batch)

    def grad(self, points: np.ndarray) -> np.ndarray:
        """Gradient at ``points`` (..., d) -> (..., d)."""
        return self._grad(points) if self.batch is None else self._grad(points, batch=self.batch)

    def value_and_grad(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss and gradient together (one pass for a model on data)."""
        if self._value_and_grad is not None:
            if self.batch is None:
                return self._value_and_grad(points)
            return self._value_and_grad(points, batch=self.batch)
        return self.f(points), self.grad(points)

    def hessian(self, points: np.ndarray) -> np.ndarray:
        """Hessian at ``points`` (R, d) -> (R, d, d): the objective's analytic one when it has one
        (``has_hessian``), else central differences of the gradient on this step's batch,
        :math:`H_{:,j} = (\\nabla f(x + h_j e_j) - \\nabla f(x - h_j e_j)) / 2h_j` with
        :math:`h_j = \\epsilon^{1/3} \\max(1, |x_j|)`, symmetrized."""
        if self._hessian is not None:
            return self._hessian(points)
        n_points, dim = points.shape
        steps = np.finfo(np.float64).eps ** (1 / 3) * np.maximum(1.0, np.abs(points))  # (R, d)
        offsets = np.einsum("rj,jk->rjk", steps, np.eye(dim))
        shifted = np.concatenate([points[:, None, :] + offsets, points[:, None, :] - offsets], axis=1)
        grads = np.asarray(self.grad(shifted.reshape(-1, dim))).reshape(n_points, 2, dim, dim)
        columns = (grads[:, 0] - grads[:, 1]) / (2.0 * steps[:, :, None])
        return 0.5 * (columns + columns.swapaxes(1, 2))


def _default_param_names(objective: object, dim: int) -> tuple[str, ...]:
    names = getattr(objective, "param_names", None)
    if names is not None:
        names = tuple(str(n) for n in names)
        if len(names) == dim and len(set(names)) == dim:
            return names
    if dim == 2:
        return ("x", "y")
    return tuple(f"p{j}" for j in range(dim))


def _evaluate_loss(objective: Any, points: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """``objective.f`` at points ``(N, d)``, NaN where a point is not finite.

    A data objective sees only the finite points, in slices (each point costs a pass over the data); a
    cheap elementwise objective sees them all, since gathering would cost more than the wasted NaNs.
    """
    n_points, dim = points.shape
    n_samples = getattr(objective, "n_samples", None)
    if n_samples is None:
        loss = np.asarray(objective.f(points), dtype=np.float64).reshape(n_points)
        if not finite.all():
            loss[~finite] = np.nan
        return loss
    loss = np.full(n_points, np.nan)
    rows = np.flatnonzero(finite)
    rows_per_call = max(1, _DATA_EVAL_BUDGET // (int(n_samples) * dim))
    for start in range(0, rows.size, rows_per_call):
        chunk = rows[start : start + rows_per_call]
        loss[chunk] = np.asarray(objective.f(points[chunk]), dtype=np.float64).reshape(chunk.size)
    return loss


def _sum_last_axis(values: np.ndarray, squared: bool = False) -> np.ndarray:
    """Sum (of squares) over the last axis; column by column for small d, where numpy's reduction is slow."""
    if values.shape[-1] > 8:
        return np.einsum("...d,...d->...", values, values) if squared else values @ np.ones(values.shape[-1])
    total = values[..., 0] * values[..., 0] if squared else values[..., 0].copy()
    for j in range(1, values.shape[-1]):
        column = values[..., j]
        total += column * column if squared else column
    return total


def _update_defaults_lr(update: Callable[..., Any]) -> bool:
    try:
        parameter = inspect.signature(update).parameters.get("lr")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is None


def _step_rule(
    optimizer: Any, lr_table: np.ndarray | None, n_runs: int, hyperparameters: dict[str, Any]
) -> tuple[Callable[..., Any], Any, np.ndarray | None]:
    """``(update, constant_lr, lr_steps)``: the loop calls ``update(g, state, x, lr)`` with ``lr_steps[t]``,
    or ``constant_lr`` when ``lr_steps`` is None.

    For a lossviz Optimizer (exactly that type, so a subclass's own ``update`` is respected), ``update`` is
    its update rule itself, given learning rates checked and shaped once for the whole run: the public
    ``update`` re-checks its lr on every call, which at one run of two parameters costs a good part of a
    step. Both give the same bits. A table holding an lr ``update`` would refuse keeps the public path, so
    the error comes at the step it always did.
    """
    if type(optimizer) is Optimizer:
        if lr_table is None:
            return optimizer._update, optimizer._default_lr, None
        checked = _checked_learning_rates(lr_table, n_runs)
        if checked is not None:
            return optimizer._update, None, checked
    # Without a schedule, an optimizer whose update defaults lr to its own (pre-shaped) hyperparameter gets
    # None: re-validating a per-run lr array on every step would dominate a sweep's step time.
    constant_lr = None if _update_defaults_lr(optimizer.update) else hyperparameters.get("lr")
    return optimizer.update, constant_lr, lr_table


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True along axis 0, -1 where there is none."""
    first = np.argmax(mask, axis=0)
    return np.where(mask[first, np.arange(mask.shape[1])], first, -1)


def run(
    objective: Any,
    optimizer: Any,
    x0: object,
    steps: int,
    schedule: Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    grad_tol: float | None = None,
    divergence_threshold: float = DEFAULT_DIVERGENCE_THRESHOLD,
    record_grads: bool = False,
    record_state: bool = False,
) -> Trajectory:
    r"""Run ``optimizer`` on ``objective`` for ``steps`` steps from ``x0``, R runs at once.

    Each step t computes :math:`g_t = \nabla f(x_t)` (on mini-batch t when ``batch_size`` is set) and
    ``x_{t+1}, state = optimizer.update(g_t, state, x_t, lr_t)`` with :math:`lr_t` = ``schedule(t)`` if a
    schedule is given, else ``optimizer.hyperparameters["lr"]``.

    Parameters
    ----------
    objective : objective
        ``f(params)``, ``grad(params)`` over params ``(..., d)`` and ``dim``; for mini-batches also
        ``n_samples`` and the ``batch=`` keyword.
    optimizer : Optimizer
        From :func:`lossviz.optimizers.get`. Hyperparameters may be scalars or arrays of shape ``(R,)``.
    x0 : array_like, shape (d,) or (R, d)
        Start(s). **Run-count rule:** R is ``x0.shape[0]`` for a 2-D ``x0``; a 1-D ``x0`` is shared by
        every run, and R is then the length of the per-run hyperparameter arrays (or of the schedule's
        base_lr array), or 1 without any, in which case the run axis is dropped from the result. All
        per-run arrays must have the same length R.
    steps : int in [0, 100000]
        Number of optimizer steps T.
    schedule : callable, optional
        ``schedule(t)`` for an int array t of shape (T,) gives shape (T,) or (T, R) learning rates (a
        :mod:`lossviz.schedules` Schedule); it overrides the optimizer's ``lr``.
    batch_size : int in [1, n_samples], optional
        Mini-batch size for data objectives; None means full-batch gradients. Batches follow
        :func:`minibatch_indices` (a torch ``DataLoader(shuffle=True, drop_last=False)``: a fresh
        permutation each epoch from ``np.random.default_rng(seed)``). **All runs share the same batch
        sequence**, so runs differ only by their start and hyperparameters.
    seed : int >= 0
        Seed of the batch order (unused for full-batch runs).
    grad_tol : float > 0, optional
        A run whose gradient norm falls below it at index t is converged: ``converged_at = t``, it takes
        no more steps and its last point is repeated to the end of the arrays.
    divergence_threshold : float > 0
        A run diverges at the first index t where its params, loss or gradient are non-finite, or where
        ``loss[t] > divergence_threshold * max(1, |loss[0]|)`` (relative to the start, so it works on
        every loss scale; a gradient norm beyond about 1e154 overflows and counts as non-finite). It
        takes no more steps; its params, loss and grad_norm after t are NaN (so plots end there) and the
        values at t are kept as found. Other runs are not affected.
    record_grads : bool
        Keep the gradients in ``Trajectory.grads``.
    record_state : bool
        Keep every optimizer-state field at every step in ``Trajectory.states`` (for a step inspector).

    Returns
    -------
    Trajectory
        Arrays of full length T + 1 even if every run stopped early (padded as described above).

    Notes
    -----
    Runs never interact, so the loop can leave a stopped run's arithmetic going and fix its record up
    afterwards; losses are evaluated after the loop in one vectorized call (sliced for data
    objectives). The loop ends early once every run has a non-finite gradient or params or has met
    ``grad_tol``. Overflow inside a diverging run is expected and silenced (``np.errstate``).
    """
    dim = check_objective(objective)
    hyperparameters = _check_optimizer(optimizer)
    steps = check_int(steps, "steps", low=0, high=MAX_STEPS)
    start = check_array(x0, "x0")
    if start.ndim not in (1, 2) or start.shape[-1] != dim:
        raise ValueError(
            f"x0 must have shape ({dim},) or (R, {dim}) for this objective with dim={dim}, "
            f"got shape {start.shape}"
        )
    if start.ndim == 2 and start.shape[0] == 0:
        raise ValueError("x0 must hold at least one start, got shape (0, ...)")
    if grad_tol is not None:
        grad_tol = check_scalar(grad_tol, "grad_tol", low=0.0, include_low=False)
    divergence_threshold = check_scalar(
        divergence_threshold, "divergence_threshold", low=0.0, include_low=False
    )
    seed = check_int(seed, "seed", low=0)
    check_bool(record_grads, "record_grads")
    check_bool(record_state, "record_state")

    run_sizes = _run_axis_sizes(hyperparameters)
    if start.ndim == 2:
        run_sizes["x0"] = start.shape[0]

    reads_loss = bool(getattr(schedule, "reads_loss", False))
    if reads_loss:
        if np.ndim(schedule.base_lr) == 1:  # type: ignore[union-attr]
            run_sizes["schedule base_lr"] = int(np.shape(schedule.base_lr)[0])  # type: ignore[union-attr]
    elif schedule is not None:
        if not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(t), got {type(schedule).__name__}")
        # A one-step probe reveals a per-run base_lr before the memory check; the full table comes after.
        probe = np.shape(schedule(np.arange(min(steps, 1))))
        if len(probe) == 2:
            run_sizes["schedule base_lr"] = probe[1]
    elif "lr" not in hyperparameters:
        raise ValueError("optimizer has no 'lr' hyperparameter; pass a schedule to give the learning rate")

    distinct_sizes = set(run_sizes.values())
    if len(distinct_sizes) > 1:
        listing = ", ".join(f"{name}: {size}" for name, size in run_sizes.items())
        raise ValueError(f"per-run arrays must all have the same length R, got {listing}")
    n_runs = distinct_sizes.pop() if distinct_sizes else 1
    batched = bool(run_sizes)
    if n_runs * (steps + 1) * dim > MAX_RECORDED_VALUES:
        raise ValueError(
            f"runs x (steps + 1) x dim must be at most {MAX_RECORDED_VALUES:,} values, got "
            f"{n_runs} x {steps + 1} x {dim} = {n_runs * (steps + 1) * dim:,}; use fewer runs or steps"
        )

    if reads_loss:
        lr_table = None
        lr_record = np.full((n_runs, steps), np.nan)  # filled step by step, as the losses come in
    elif schedule is None:
        lr_table = None
        lr_value = np.asarray(hyperparameters["lr"], dtype=np.float64)
        lr_record = np.broadcast_to(lr_value[..., None], (n_runs, steps))
    else:
        lr_table = np.asarray(schedule(np.arange(steps)), dtype=np.float64)
        if lr_table.shape not in ((steps,), (steps, n_runs)):
            expected = f"({steps},) or ({steps}, {n_runs})" if batched else f"({steps},) or ({steps}, R)"
            raise ValueError(f"schedule(t) for t of shape ({steps},) must give shape {expected}, "
                             f"got shape {lr_table.shape}")
        # Shared schedules hand the optimizer a scalar per step, per-run ones a row of shape (R,).
        lr_record = np.broadcast_to(lr_table.T if lr_table.ndim == 2 else lr_table, (n_runs, steps))
    if not reads_loss and not np.all(np.isfinite(lr_record)):
        raise ValueError("learning rates must be finite; the schedule or lr gave NaN or inf")
    lr_record = lr_record.copy()

    n_samples = getattr(objective, "n_samples", None)
    batches: list[np.ndarray] | None = None
    if batch_size is not None:
        if n_samples is None:
            raise ValueError(
                f"batch_size needs a data objective (one with n_samples and a batch= keyword); "
                f"{type(objective).__name__} has no n_samples"
            )
        batch_size = check_int(batch_size, "batch_size", low=1, high=int(n_samples))
        batches = minibatch_indices(int(n_samples), batch_size, steps + 1, seed)

    x = np.array(np.broadcast_to(start, (n_runs, dim)), dtype=np.float64)
    needs = frozenset(getattr(optimizer, "needs", ()))
    layout = parameter_layout(objective) if "layout" in needs else None
    state = optimizer.init(x, layout=layout) if "layout" in needs else optimizer.init(x)
    has_paths = bool(getattr(optimizer, "paths", ()))
    if has_paths:
        per_step = sum(points.size for points, _ in optimizer.path_points(state).values())
        if per_step * (steps + 1) > MAX_RECORDED_VALUES:
            raise ValueError(
                f"the optimizer's extra paths would record {per_step * (steps + 1):,} values, more than "
                f"{MAX_RECORDED_VALUES:,}; use fewer runs or steps"
            )
    # Time-major buffers: each step writes one contiguous block; the Trajectory exposes run-major views.
    params = np.empty((steps + 1, n_runs, dim))
    grads = np.empty((steps + 1, n_runs, dim))

    state_buffers: dict[str, np.ndarray] = {}

    def store_state(index: int, state: Any = None) -> None:
        for name, value in _flatten_state(state):
            value = np.asarray(value, dtype=np.float64)
            if value.ndim == 0 or value.shape[0] != n_runs:
                value = np.broadcast_to(value, (n_runs,) + value.shape)
            if name not in state_buffers:
                # NaN, not empty: a field that first appears later has no value before that.
                state_buffers[name] = np.full((steps + 1,) + value.shape, np.nan)
            state_buffers[name][index] = value

    path_buffers: dict[str, np.ndarray] = {}
    path_loss_buffers: dict[str, np.ndarray] = {}

    def store_paths(index: int, state: Any) -> None:
        for name, (points, values) in optimizer.path_points(state).items():
            if name not in path_buffers:
                path_buffers[name] = np.full((steps + 1,) + points.shape, np.nan)
                if values is not None:
                    path_loss_buffers[name] = np.full((steps + 1,) + values.shape, np.nan)
            path_buffers[name][index] = points
            if values is not None:
                path_loss_buffers[name][index] = values

    # A Surface's formula itself, without re-checking the points the loop made (Surface.grad's only other
    # work is silencing floating-point warnings, which the loop does already): same bits, a third less time.
    gradient = objective._grad if type(objective) is Surface else objective.grad
    update, constant_lr, lr_steps = _step_rule(optimizer, lr_table, n_runs, hyperparameters)
    stopped = np.zeros(n_runs, dtype=bool)
    last_index = steps
    if needs or has_paths or reads_loss:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            last_index = _general_loop(
                objective, optimizer, schedule if reads_loss else None, x, state, steps, batches,
                gradient, update, constant_lr, lr_steps, lr_record, params, grads,
                store_state if record_state else None, store_paths if has_paths else None, layout, grad_tol,
            )
            return _finish(
                objective, params, grads, lr_record, state_buffers, last_index, grad_tol,
                divergence_threshold, _default_param_names(objective, dim), batched, record_grads,
                record_state, path_buffers, path_loss_buffers,
            )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for t in range(steps + 1):
            g = gradient(x) if batches is None else gradient(x, batch=batches[t])
            grads[t] = g
            params[t] = x
            if record_state:
                store_state(t, state)
            if t == steps:
                break
            if t % _STOP_CHECK_EVERY == _STOP_CHECK_EVERY - 1:
                stopped |= ~(np.isfinite(g) & np.isfinite(x)).all(axis=-1)
                if grad_tol is not None:
                    recent = grads[t - _STOP_CHECK_EVERY + 1 : t + 1]
                    stopped |= (np.einsum("trd,trd->tr", recent, recent) < grad_tol**2).any(axis=0)
                if stopped.all():
                    last_index = t
                    break
            x, state = update(g, state, x, constant_lr if lr_steps is None else lr_steps[t])

        return _finish(
            objective, params, grads, lr_record, state_buffers, last_index, grad_tol, divergence_threshold,
            _default_param_names(objective, dim), batched, record_grads, record_state,
        )


def _general_loop(
    objective: Any,
    optimizer: Any,
    loss_schedule: Any,
    x: np.ndarray,
    state: Any,
    steps: int,
    batches: list[np.ndarray] | None,
    gradient: Callable[..., np.ndarray],
    update: Callable[..., Any],
    constant_lr: Any,
    lr_steps: np.ndarray | None,
    lr_record: np.ndarray,
    params: np.ndarray,
    grads: np.ndarray,
    store_state: Callable[[int, Any], None] | None,
    store_paths: Callable[[int, Any], None] | None,
    layout: Any,
    grad_tol: float | None,
) -> int:
    """The step loop for optimizers that need the objective or the layout, keep extra paths, or run under a
    schedule that reads the loss. Fills ``params``, ``grads`` (and ``lr_record`` for a loss-reading
    schedule) in place and returns the last index it recorded, like the plain loop in :func:`run`."""
    needs = frozenset(getattr(optimizer, "needs", ()))
    n_runs = x.shape[0]
    internal = update is not getattr(optimizer, "update", None)  # the rule itself: lr pre-shaped
    full_loss = objective._f if type(objective) is Surface else objective.f
    plateau = None if loss_schedule is None else loss_schedule.start(n_runs)
    stopped = np.zeros(n_runs, dtype=bool)
    for t in range(steps + 1):
        batch = None if batches is None else batches[t]
        g = gradient(x) if batch is None else gradient(x, batch=batch)
        grads[t] = g
        params[t] = x
        if store_state is not None:
            store_state(t, state)
        if store_paths is not None:
            store_paths(t, state)
        if t == steps:
            return steps
        if t % _STOP_CHECK_EVERY == _STOP_CHECK_EVERY - 1:
            stopped |= ~(np.isfinite(g) & np.isfinite(x)).all(axis=-1)
            if grad_tol is not None:
                recent = grads[t - _STOP_CHECK_EVERY + 1 : t + 1]
                stopped |= (np.einsum("trd,trd->tr", recent, recent) < grad_tol**2).any(axis=0)
            if stopped.all():
                return t
        if plateau is not None:
            step_lr = plateau.lr
            lr_record[:, t] = step_lr
            lr = step_lr[:, None] if internal else step_lr
            # torch: loss = closure(); ...; optimizer.step(); scheduler.step(loss) with the loss at x_t.
            current = np.asarray(full_loss(x), dtype=np.float64).reshape(n_runs)
        else:
            lr = constant_lr if lr_steps is None else lr_steps[t]
        context: dict[str, Any] = {}
        if "objective" in needs:
            context["objective"] = StepObjective(objective, batch)
        if "layout" in needs:
            context["layout"] = layout
        x, state = update(g, state, x, lr, **context)
        if plateau is not None:
            plateau = loss_schedule.advance(plateau, current)
    return steps


def _finish(
    objective: Any,
    params: np.ndarray,
    grads: np.ndarray,
    lr_record: np.ndarray,
    state_buffers: dict[str, np.ndarray],
    last_index: int,
    grad_tol: float | None,
    divergence_threshold: float,
    param_names: tuple[str, ...],
    batched: bool,
    record_grads: bool,
    record_state: bool,
    path_buffers: dict[str, np.ndarray] | None = None,
    path_loss_buffers: dict[str, np.ndarray] | None = None,
) -> Trajectory:
    """Score the recorded points, find where each run diverged or converged, pad, and wrap up.

    Works on the time-major buffers ``(T+1, R, ...)`` in place.
    """
    n_points, n_runs, dim = params.shape
    valid = last_index + 1
    # A sum over d is non-finite when any coordinate is (or when it overflows, which is divergence too).
    finite_point = np.isfinite(_sum_last_axis(params[:valid]))
    loss = np.full((n_points, n_runs), np.nan)
    scored = _evaluate_loss(objective, params[:valid].reshape(-1, dim), finite_point.reshape(-1))
    loss[:valid] = scored.reshape(valid, n_runs)
    path_buffers = path_buffers or {}
    path_loss_buffers = dict(path_loss_buffers or {})
    for name, points in path_buffers.items():
        if name not in path_loss_buffers:
            flat = points[:valid].reshape(-1, dim)
            values = np.full(points.shape[:-1], np.nan)
            values[:valid] = _evaluate_loss(objective, flat, np.isfinite(_sum_last_axis(flat))).reshape(
                points[:valid].shape[:-1])
            path_loss_buffers[name] = values
    grad_norm = np.full((n_points, n_runs), np.nan)
    grad_norm[:valid] = np.sqrt(_sum_last_axis(grads[:valid], squared=True))

    threshold = divergence_threshold * np.maximum(1.0, np.abs(loss[0]))
    blown_up = ~(finite_point & np.isfinite(grad_norm[:valid]) & (loss[:valid] <= threshold))
    diverged_at = _first_true(blown_up)
    if grad_tol is not None:
        converged_at = _first_true(grad_norm[:valid] < grad_tol)
        converged_first = (converged_at >= 0) & ((diverged_at < 0) | (converged_at < diverged_at))
        converged_at = np.where(converged_first, converged_at, -1)
        diverged_at = np.where(converged_first, -1, diverged_at)
    else:
        converged_at = np.full(n_runs, -1)

    stop_at = np.where(converged_at >= 0, converged_at, diverged_at)
    if valid < n_points or (stop_at >= 0).any():
        last_kept = np.where(stop_at >= 0, stop_at, valid - 1)
        after_stop = np.arange(n_points)[:, None] > last_kept[None, :]
        runs = np.arange(n_runs)
        diverged = diverged_at >= 0

        def pad(values: np.ndarray) -> None:
            # After its stop index a run repeats its last point (converged) or is NaN (diverged).
            fill = values[last_kept, runs]
            fill[diverged] = np.nan
            per_run = fill[0].size
            # A flat 2-D mask copies far faster than one broadcast over trailing axes.
            where = np.repeat(after_stop, per_run, axis=1) if per_run > 1 else after_stop
            np.copyto(values.reshape(n_points, -1), fill.reshape(1, -1), where=where)

        for values in (params, loss, grad_norm, *state_buffers.values(), *path_buffers.values(),
                       *path_loss_buffers.values()):
            pad(values)
        if record_grads:
            pad(grads)
        # A stopped run takes no step from its stop index on.
        lr_record = np.where(np.arange(n_points - 1)[None, :] >= last_kept[:, None], np.nan, lr_record)

    if not batched:
        return Trajectory(
            params=params[:, 0], loss=loss[:, 0], grad_norm=grad_norm[:, 0], lr=lr_record[0],
            diverged_at=int(diverged_at[0]), converged_at=int(converged_at[0]), param_names=param_names,
            batched=False, grads=grads[:, 0] if record_grads else None,
            states={name: buffer[:, 0] for name, buffer in state_buffers.items()} if record_state else None,
            paths={name: buffer[:, 0] for name, buffer in path_buffers.items()} or None,
            path_loss={name: buffer[:, 0] for name, buffer in path_loss_buffers.items()} or None,
        )
    return Trajectory(
        params=params.swapaxes(0, 1), loss=loss.T, grad_norm=grad_norm.T, lr=lr_record,
        diverged_at=diverged_at, converged_at=converged_at, param_names=param_names, batched=True,
        grads=grads.swapaxes(0, 1) if record_grads else None,
        states={k: buffer.swapaxes(0, 1) for k, buffer in state_buffers.items()} if record_state else None,
        paths={k: buffer.swapaxes(0, 1) for k, buffer in path_buffers.items()} or None,
        path_loss={k: buffer.swapaxes(0, 1) for k, buffer in path_loss_buffers.items()} or None,
    )
