"""Methods that use curvature: L-BFGS (curvature from gradient differences) and Newton's method (the
Hessian itself).

Both evaluate the objective during their step (``Optimizer.needs`` has ``"objective"``), so
:func:`lossviz.run.run` hands their update the objective bound to the step's mini-batch.

References: ``torch.optim.LBFGS`` (float64-exact, with and without ``line_search_fn="strong_wolfe"``).
Newton's method has no torch class; it is checked against torch.autograd's Hessian and
``torch.linalg`` in the tests.
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np

from lossviz.optimizers._core import (
    GRAD_LINE,
    Hyper,
    HyperLike,
    Optimizer,
    hyperparameters,
    lr_row,
    make_optimizer,
    per_run_scalars,
    spec_row,
)

# Newton's method forms and decomposes a d x d Hessian per run and step.
NEWTON_MAX_DIM = 50


# ------------------------------------------------------------------------------------------------ L-BFGS
class LBFGSState(NamedTuple):
    """torch's L-BFGS state, per run: ``func_evals`` and ``n_iter`` (R,) counters over all steps; ``d``
    (R, d) the last direction and ``t`` (R,) its step length; the curvature pairs ``old_dirs`` (y) and
    ``old_stps`` (s), (R, history_size, d), of which the first ``history`` (R,) are filled (the rest 0),
    with ``ro``
    (R, history_size) = 1 / (y . s); ``H_diag`` (R,) the initial inverse-Hessian scale;
    ``prev_flat_grad`` (R, d) and ``prev_loss`` (R,). ``evaluations`` (R, E, d) and
    ``evaluation_loss`` (R, E): the points the last step evaluated and their losses, in order, NaN-padded
    (the first is the step's starting point)."""

    step: int
    func_evals: np.ndarray
    n_iter: np.ndarray
    d: np.ndarray
    t: np.ndarray
    old_dirs: np.ndarray
    old_stps: np.ndarray
    ro: np.ndarray
    history: np.ndarray
    H_diag: np.ndarray
    prev_flat_grad: np.ndarray
    prev_loss: np.ndarray
    evaluations: np.ndarray
    evaluation_loss: np.ndarray


Request = Generator[np.ndarray, tuple[float, np.ndarray], Any]


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """torch's ``_cubic_interpolate`` (minimizer of the cubic through two points and slopes, clamped).

    In float64 NumPy scalars, as torch's 0-d tensors: a zero denominator gives inf or NaN (which the
    clamp then passes on as torch's does), not a Python ZeroDivisionError.
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    x1, f1, g1, x2, f2, g2 = (np.float64(v) for v in (x1, f1, g1, x2, f2, g2))
    with np.errstate(all="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1**2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return float(min(max(min_pos, xmin_bound), xmax_bound))
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(x: np.ndarray, t: float, d: np.ndarray, f: float, g: np.ndarray, gtd: float,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25,
                  ) -> Request:
    """torch's ``_strong_wolfe`` line search, line for line, as a generator: it yields each trial point
    ``x + t d`` and is sent back ``(loss, grad)`` there; it returns ``(f_new, g_new, t, evals)``."""
    d_norm = float(np.max(np.abs(d)))
    g = g.copy()
    f_new, g_new = yield x + t * d
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[float] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[float] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = yield x + t * d
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                               bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                nearer_max = abs(t - max(bracket)) < abs(t - min(bracket))
                t = max(bracket) - eps if nearer_max else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = yield x + t * d
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class _RunState:
    """One run's scalars of an :class:`LBFGSState` as torch keeps them (its curvature pairs stay in the
    shared arrays, where the batched two-loop recursion reads them), written back by :meth:`store`."""

    def __init__(self, state: LBFGSState, r: int) -> None:
        self.func_evals = int(state.func_evals[r])
        self.n_iter = int(state.n_iter[r])
        self.d = state.d[r].copy()
        self.t = float(state.t[r])
        self.H_diag = float(state.H_diag[r])
        self.prev_flat_grad = state.prev_flat_grad[r].copy()
        self.prev_loss = float(state.prev_loss[r])

    def store(self, arrays: dict[str, np.ndarray], r: int) -> None:
        arrays["func_evals"][r] = self.func_evals
        arrays["n_iter"][r] = self.n_iter
        arrays["d"][r] = self.d
        arrays["t"][r] = self.t
        arrays["H_diag"][r] = self.H_diag
        arrays["prev_flat_grad"][r] = self.prev_flat_grad
        arrays["prev_loss"][r] = self.prev_loss


def _remember(arrays: dict[str, np.ndarray], r: int, y: np.ndarray, s: np.ndarray, ro: float) -> None:
    """Append a curvature pair to run r's history, dropping the oldest when it is full (torch's pop(0))."""
    count = int(arrays["history"][r])
    if count == arrays["ro"].shape[1]:
        for name in ("old_dirs", "old_stps", "ro"):
            arrays[name][r, :-1] = arrays[name][r, 1:].copy()
        count -= 1
    arrays["old_dirs"][r, count] = y
    arrays["old_stps"][r, count] = s
    arrays["ro"][r, count] = ro
    arrays["history"][r] = count + 1


def _two_loop(arrays: dict[str, np.ndarray], runs: np.ndarray, flat_grad: np.ndarray, h_diag: np.ndarray,
              ) -> np.ndarray:
    """torch's two-loop recursion ``d = -H g`` for several runs at once, shape (k, d).

    Each run goes through its own pairs in torch's order with torch's operations (``np.vecdot`` gives
    the same bits as the per-vector ``dot``). A run with fewer pairs meets zeros in the slots it does not
    have, which leave its vectors exactly as they are (``q + (-0) y = q``), so every run gets the numbers
    it would get alone."""
    counts = arrays["history"][runs]
    deepest = int(counts.max(initial=0))
    ys, ss, ros = arrays["old_dirs"][runs, :deepest], arrays["old_stps"][runs, :deepest], arrays["ro"][runs]
    q = -flat_grad
    al = np.zeros((runs.size, deepest))
    for i in range(deepest - 1, -1, -1):
        a = np.vecdot(ss[:, i], q) * ros[:, i]
        al[:, i] = a
        q = q + (-a)[:, None] * ys[:, i]
    r = q * h_diag[:, None]
    for i in range(deepest):
        be = np.vecdot(ys[:, i], r) * ros[:, i]
        r = r + (al[:, i] - be)[:, None] * ss[:, i]
    return r


def _lbfgs_step(x: np.ndarray, st: _RunState, arrays: dict[str, np.ndarray], run: int, lr: float,
                max_iter: int, max_eval: int, tolerance_grad: float, tolerance_change: float,
                history_size: int, line_search: bool) -> Request:
    """One ``torch.optim.LBFGS.step(closure)`` for one run, line for line, as a generator. It yields
    ``("eval", point)`` for the closure (sent back ``(loss, grad)``) and ``("direction", grad, H_diag)``
    for the two-loop recursion (sent back the direction), which the driver batches across runs; it
    returns the new parameters."""
    orig_loss, flat_grad = yield ("eval", x.copy())
    loss = float(orig_loss)
    current_evals = 1
    st.func_evals += 1
    opt_cond = float(np.max(np.abs(flat_grad))) <= tolerance_grad
    if opt_cond:
        return x
    if not (np.isfinite(loss) and np.all(np.isfinite(flat_grad))):
        # torch would iterate on NaNs to max_iter; the run has diverged here and run() records it so.
        return x
    d, t, H_diag = st.d, st.t, st.H_diag
    prev_flat_grad, prev_loss = st.prev_flat_grad, st.prev_loss
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        st.n_iter += 1
        if st.n_iter == 1:
            d = -flat_grad
            arrays["history"][run] = 0
            for name in ("old_dirs", "old_stps", "ro"):  # empty slots are zeros (see _two_loop)
                arrays[name][run] = 0.0
            H_diag = 1.0
        else:
            y = flat_grad - prev_flat_grad
            s = d * t
            ys = float(y.dot(s))
            if ys > 1e-10:
                _remember(arrays, run, y, s, 1.0 / ys)
                H_diag = ys / float(y.dot(y))
            d = yield ("direction", flat_grad, H_diag)
        prev_flat_grad = flat_grad.copy()
        prev_loss = loss
        t = min(1.0, 1.0 / float(np.sum(np.abs(flat_grad)))) * lr if st.n_iter == 1 else lr
        gtd = float(flat_grad.dot(d))
        if gtd > -tolerance_change:
            break
        ls_func_evals = 0
        if line_search:
            search = _strong_wolfe(x.copy(), t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
            try:
                point = next(search)
                while True:
                    point = search.send((yield ("eval", point)))
            except StopIteration as found:
                loss, flat_grad, t, ls_func_evals = found.value
            loss = float(loss)
            x = x + t * d
            opt_cond = float(np.max(np.abs(flat_grad))) <= tolerance_grad
        else:
            x = x + t * d
            if n_iter != max_iter:
                new_loss, flat_grad = yield ("eval", x.copy())
                loss = float(new_loss)
                opt_cond = float(np.max(np.abs(flat_grad))) <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        st.func_evals += ls_func_evals
        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if float(np.max(np.abs(d * t))) <= tolerance_change:
            break
        if abs(loss - prev_loss) < tolerance_change:
            break
    st.d, st.t, st.H_diag = d, t, H_diag
    st.prev_flat_grad, st.prev_loss = prev_flat_grad, prev_loss
    return x


@hyperparameters(
    lr_row(),
    spec_row("max_iter", "iterations per step", "int", low=1, soft=(1, 100)),
    spec_row("max_eval", "evaluations per step (None: 1.25 max_iter)", "int", low=1, optional=True,
             soft=(1, 125), advanced=True),
    spec_row("tolerance_grad", "gradient tolerance", "eps", low=0.0, soft=(1e-12, 1e-3), advanced=True),
    spec_row("tolerance_change", "change tolerance", "eps", low=0.0, soft=(1e-15, 1e-3), advanced=True),
    spec_row("history_size", "history size (curvature pairs kept)", "int", low=1, soft=(1, 100)),
    spec_row("line_search_fn", "line search", "choice", choices=(None, "strong_wolfe")),
)
def lbfgs(
    lr: HyperLike = 1.0,
    max_iter: int = 20,
    max_eval: int | None = None,
    tolerance_grad: HyperLike = 1e-7,
    tolerance_change: HyperLike = 1e-9,
    history_size: int = 100,
    line_search_fn: str | None = None,
) -> Optimizer:
    r"""L-BFGS, as ``torch.optim.LBFGS``: one lossviz step is one ``optimizer.step(closure)``, with all of
    its inner iterations.

    Each inner iteration builds the direction :math:`d = -H g` with the two-loop recursion over the last
    ``history_size`` curvature pairs :math:`(s_i, y_i)` (steps and gradient changes) and the initial scale
    :math:`H_0 = s^\top y / y^\top y`, then moves :math:`\theta \leftarrow \theta + t d`: with
    :math:`t = \gamma` (the very first iteration :math:`\min(1, 1/\lVert g\rVert_1)\gamma`), or with a
    step satisfying the strong Wolfe conditions when ``line_search_fn="strong_wolfe"``. A step ends after
    ``max_iter`` iterations or ``max_eval`` evaluations, or when the gradient, the step or the loss
    change falls below the tolerances.

    Every function evaluation is recorded: ``Trajectory.paths["evaluations"]`` (and
    :meth:`lossviz.run.Trajectory.evaluations`, which lists them in order and marks where each outer step
    starts). ``effective_lr`` is ``lr``: the inspector shows the whole displacement of the step.

    Parameters
    ----------
    lr, tolerance_grad, tolerance_change : float or ndarray (R,), >= 0
    max_iter : int >= 1
    max_eval : int >= 1, or None for ``max_iter * 5 // 4``
    history_size : int >= 1
    line_search_fn : {None, "strong_wolfe"}

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers, surfaces
    >>> from lossviz.run import run
    >>> opt = optimizers.get("lbfgs", line_search_fn="strong_wolfe")
    >>> traj = run(surfaces.get("rosenbrock"), opt, np.array([-1.2, 1.0]), 3)
    >>> np.round(traj.params[-1], 4), len(traj.evaluations().points) > 3
    (array([1., 1.]), True)
    """
    if max_eval is None:
        max_eval = max_iter * 5 // 4
    line_search = line_search_fn == "strong_wolfe"
    slots = max(max_eval, max_iter) + 2

    def init(params: np.ndarray) -> LBFGSState:
        n_runs, dim = params.shape
        counter = np.zeros(n_runs, dtype=np.int64)
        return LBFGSState(
            0, counter, counter.copy(), np.full((n_runs, dim), np.nan), np.full(n_runs, np.nan),
            np.zeros((n_runs, history_size, dim)), np.zeros((n_runs, history_size, dim)),
            np.zeros((n_runs, history_size)), counter.copy(), np.ones(n_runs),
            np.full((n_runs, dim), np.nan), np.full(n_runs, np.nan), np.full((n_runs, slots, dim), np.nan),
            np.full((n_runs, slots), np.nan),
        )

    def update(grad: np.ndarray, state: LBFGSState, params: np.ndarray, lr: Hyper, objective: Any = None):
        n_runs = params.shape[0]
        rates = per_run_scalars(lr if not isinstance(lr, np.ndarray) else lr[:, 0], n_runs)
        grad_tols = per_run_scalars(tolerance_grad, n_runs)
        change_tols = per_run_scalars(tolerance_change, n_runs)
        arrays = {name: np.array(getattr(state, name)) for name in LBFGSState._fields[1:]}
        arrays["evaluations"][:] = np.nan
        arrays["evaluation_loss"][:] = np.nan
        runs = [_RunState(state, r) for r in range(n_runs)]
        steps = [
            _lbfgs_step(params[r].copy(), runs[r], arrays, r, rates[r], max_iter, max_eval, grad_tols[r],
                        change_tols[r], history_size, line_search)
            for r in range(n_runs)
        ]
        new_params = params.copy()
        counts = np.zeros(n_runs, dtype=np.int64)
        pending = {r: next(step) for r, step in enumerate(steps)}

        def answer(r: int, reply: Any) -> None:
            try:
                pending[r] = steps[r].send(reply)
            except StopIteration as finished:
                new_params[r] = finished.value
                del pending[r]

        while pending:
            # Directions first, all the runs that ask at once; then one objective call for every run.
            asking = np.array([r for r, request in pending.items() if request[0] == "direction"], dtype=int)
            while asking.size:
                grads_ = np.stack([pending[r][1] for r in asking])
                scales = np.array([pending[r][2] for r in asking])
                for r, direction in zip(asking, _two_loop(arrays, asking, grads_, scales), strict=True):
                    answer(int(r), direction)
                asking = np.array([r for r, request in pending.items() if request[0] == "direction"],
                                  dtype=int)
            if not pending:
                break
            points = new_params.copy()
            for r, (_, point) in pending.items():
                points[r] = point
            losses, grads = objective.value_and_grad(points)
            losses = np.asarray(losses, dtype=np.float64).reshape(n_runs)
            for r, (_, point) in list(pending.items()):
                arrays["evaluations"][r, counts[r]] = point
                arrays["evaluation_loss"][r, counts[r]] = losses[r]
                counts[r] += 1
                answer(r, (float(losses[r]), np.array(grads[r], dtype=np.float64)))
        for r, run_state in enumerate(runs):
            run_state.store(arrays, r)
        return new_params, LBFGSState(state.step + 1, **arrays)

    def effective_lr(state: LBFGSState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    def path_points(state: LBFGSState) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {"evaluations": (state.evaluations, state.evaluation_loss)}

    if line_search:
        step_line = r"\theta &\leftarrow \theta + t\, d, \quad t \text{ from a strong Wolfe line search}"
    else:
        step_line = (r"\theta &\leftarrow \theta + \gamma\, d \quad (\text{first: } t = \min(1, 1/\lVert g "
                     r"\rVert_1)\gamma)")
    lines = [
        GRAD_LINE,
        rf"&\text{{repeat up to }} {max_iter} \text{{ times from }} \theta = \theta_{{t-1}}\text{{:}}",
        (r"d &\leftarrow -H g, \quad H \text{ from the last pairs } s_i = \Delta\theta_i,\ "
         r"y_i = \Delta g_i,\ H_0 = \tfrac{s^\top y}{y^\top y}"),
        step_line,
        r"g &\leftarrow \nabla f(\theta)",
        r"\theta_t &\leftarrow \theta",
    ]
    hyper = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
             "tolerance_change": tolerance_change, "history_size": history_size,
             "line_search_fn": line_search_fn}
    title = "L-BFGS" + (" (strong Wolfe)" if line_search else "")
    return make_optimizer("lbfgs", title, "LBFGS", lines, hyper, init, update, effective_lr,
                          needs={"objective"}, paths=("evaluations",), path_points=path_points)


# ------------------------------------------------------------------------------------------------ Newton
class NewtonState(NamedTuple):
    """``direction`` (R, d): the last Newton direction ``(H + damping I)^-1 g`` (with ``|H|`` when
    saddle-free); ``eigenvalues`` (R, d): the Hessian's eigenvalues there, ascending."""

    step: int
    direction: np.ndarray
    eigenvalues: np.ndarray


@hyperparameters(
    lr_row(),
    spec_row("damping", "damping (added to the curvature)", "float", low=0.0, soft=(0.0, 10.0)),
    spec_row("saddle_free", "saddle-free (absolute eigenvalues)", "flag"),
)
def newton(lr: HyperLike = 1.0, damping: HyperLike = 0.0, saddle_free: bool = False) -> Optimizer:
    r"""Damped Newton's method with the objective's Hessian, and its saddle-free variant.

    .. math::
        H_t = \nabla^2 f(\theta_{t-1}) = Q \Lambda Q^\top, \quad
        \theta_t = \theta_{t-1} - \gamma\, Q (\Lambda + \delta I)^{-1} Q^\top g_t

    with :math:`\delta` = ``damping``; ``saddle_free`` uses :math:`|\Lambda|` (Dauphin et al. 2014).
    With ``lr=1`` and no damping one step lands on the minimum of a quadratic, and on the stationary
    point whatever it is: plain Newton jumps into a saddle just as readily, since it divides by the
    negative curvature too, which reverses the step along that direction. The saddle-free variant
    divides by the absolute curvature, so it always moves downhill and escapes the saddle.

    Surfaces give their analytic Hessian; other objectives (models on data with d <= 50) get central
    differences of the analytic gradient (``StepObjective.hessian``). A singular Hessian gives an
    infinite step (the run diverges) unless damped. ``effective_lr`` is ``lr``; the direction is
    ``direction``.

    Parameters
    ----------
    lr, damping : float or ndarray (R,), >= 0
    saddle_free : bool

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import optimizers, surfaces
    >>> from lossviz.run import run
    >>> bowl = surfaces.get("quadratic", condition_number=50.0, rotation=30.0)
    >>> traj = run(bowl, optimizers.get("newton"), np.array([2.0, -1.0]), 1)
    >>> np.abs(traj.params[1]).max() < 1e-12    # the minimum (0, 0) in one step
    np.True_
    """
    lr_, damping_, saddle_free_ = lr, damping, saddle_free
    shift = damping_[:, None] if isinstance(damping_, np.ndarray) else damping_

    def init(params: np.ndarray) -> NewtonState:
        dim = params.shape[1]
        if dim > NEWTON_MAX_DIM:
            raise ValueError(f"Newton's method forms a d x d Hessian per run; d must be at most "
                             f"{NEWTON_MAX_DIM}, got d={dim}")
        return NewtonState(0, np.zeros_like(params), np.full_like(params, np.nan))

    def update(grad: np.ndarray, state: NewtonState, params: np.ndarray, lr: Hyper, objective: Any = None):
        hessian = np.asarray(objective.hessian(params), dtype=np.float64)
        finite = np.isfinite(hessian).all(axis=(1, 2))
        eigenvalues = np.full(params.shape, np.nan)
        vectors = np.full(hessian.shape, np.nan)
        if finite.any():
            eigenvalues[finite], vectors[finite] = np.linalg.eigh(hessian[finite])
        curvature = (np.abs(eigenvalues) if saddle_free_ else eigenvalues) + shift
        along = np.einsum("rji,rj->ri", vectors, grad) / curvature
        direction = np.einsum("rij,rj->ri", vectors, along)
        return params - lr * direction, NewtonState(state.step + 1, direction, eigenvalues)

    def effective_lr(state: NewtonState, lr: Hyper) -> np.ndarray:
        return np.asarray(lr, dtype=np.float64)

    curvature = r"\lvert\Lambda\rvert" if saddle_free_ else r"\Lambda"
    lines = [
        GRAD_LINE,
        r"Q \Lambda Q^\top &\leftarrow \nabla^2 f(\theta_{t-1})",
        r"\theta_t &\leftarrow \theta_{t-1} - \gamma\, Q (" + curvature + r" + \delta I)^{-1} Q^\top g_t",
    ]
    hyper = {"lr": lr_, "damping": damping_, "saddle_free": saddle_free_}
    title = "Saddle-free Newton" if saddle_free_ else "Newton"
    return make_optimizer("newton", title, "Newton", lines, hyper, init, update, effective_lr, reference="",
                          needs={"objective"})
