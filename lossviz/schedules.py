r"""Learning-rate schedules, named, parameterized and valued like ``torch.optim.lr_scheduler``.

A :class:`Schedule` is a pure function of the step: ``sched(t)`` is the learning rate USED by the t-th
optimizer step (``t = 0`` is the first update), exactly what ``optimizer.param_groups[0]["lr"]`` holds
when a torch loop calls ``optimizer.step()`` for the t-th time, having called ``scheduler.step()`` after
each earlier ``optimizer.step()``. Every schedule is a closed form (torch's ``_get_closed_form_lr`` where
torch has one, derived from torch's recursion otherwise), so a whole array of steps is one vectorized
expression. torch's stepping schedulers update the rate recursively, so they agree with the closed forms
up to floating-point round-off (relative differences of order 1e-13 over thousands of steps; the tests
pin the tolerance against the real stepping torch schedulers).

==========================  ==================================  =========================================
name                        torch                               parameters (torch defaults)
==========================  ==================================  =========================================
``constant``                no scheduler                        --
``step``                    ``StepLR``                          step_size, gamma=0.1
``multistep``               ``MultiStepLR``                     milestones, gamma=0.1
``exponential``             ``ExponentialLR``                   gamma
``inverse_time``            ``LambdaLR(lambda t: 1/(1+d t))``   decay
``polynomial``              ``PolynomialLR``                    total_iters=5, power=1.0
``cosine``                  ``CosineAnnealingLR``               T_max, eta_min=0.0
``cosine_warm_restarts``    ``CosineAnnealingWarmRestarts``     T_0, T_mult=1, eta_min=0.0
``linear``                  ``LinearLR``                        start_factor=1/3, end_factor=1.0,
                                                                total_iters=5
``cyclic``                  ``CyclicLR``                        base_lr, max_lr, step_size_up=2000,
                                                                step_size_down=None, mode="triangular",
                                                                gamma=1.0
``onecycle``                ``OneCycleLR``                      max_lr, total_steps, pct_start=0.3,
                                                                anneal_strategy="cos", div_factor=25.0,
                                                                final_div_factor=1e4, three_phase=False
``constant_factor``         ``ConstantLR``                      factor=1/3, total_iters=5
``reduce_on_plateau``       ``ReduceLROnPlateau``               mode="min", factor=0.1, patience=10,
                                                                threshold=1e-4, threshold_mode="rel",
                                                                cooldown=0, min_lr=0.0, eps=1e-8
``wsd``                     ``LambdaLR`` (warmup-stable-decay,  num_warmup_steps=0, num_stable_steps,
                            as transformers'                    num_decay_steps, warmup_type="linear",
                            ``get_wsd_schedule``)               decay_type="cosine", min_lr_ratio=0.0
``chain``                   ``ChainedScheduler``                schedules: (name, params) pairs or
                                                                Schedules of the multiplicative kinds
==========================  ==================================  =========================================

``reduce_on_plateau`` reads the loss, so it has no value for a step alone: :func:`lossviz.run.run` feeds
it ``f(params[t])`` after step t (as a torch loop calls ``scheduler.step(loss)``), and
:meth:`Schedule.replay` gives its rates for a sequence of losses. ``chain`` multiplies its members'
rates, which is what torch's ``ChainedScheduler`` does for schedulers that multiply the current rate each
step (:data:`CHAINABLE`); the others (cosine, cyclic, ...) set the rate instead and are refused.
:func:`spec` publishes every parameter's label, kind, range and default as data.

Every schedule but ``reduce_on_plateau`` and ``chain`` also takes ``warmup_steps`` (default 0) and
``warmup_start_factor`` (default 1/3, torch ``LinearLR``'s default): a linear warm-up from
``warmup_start_factor * base_lr`` towards ``base_lr`` over
the first ``warmup_steps`` steps, then the schedule itself restarted at its own step 0. That is exactly
torch's ``SequentialLR([LinearLR(opt, start_factor, 1.0, warmup_steps), main], milestones=[warmup_steps])``:
the warm-up never reaches ``base_lr`` itself (its last value is
``base_lr * (f0 + (1 - f0)(W - 1)/W)``), and step ``warmup_steps`` uses the main schedule's step-0 value.

``base_lr`` is the optimizer's ``lr`` in torch (``initial_lr``). ``cyclic`` takes ``base_lr`` and
``max_lr`` like ``CyclicLR``. ``onecycle`` takes ``max_lr`` and no ``base_lr``: like ``OneCycleLR`` its
first rate is ``max_lr / div_factor`` (available as ``Schedule.base_lr``). Only the learning rate is
scheduled: torch's ``CyclicLR`` and ``OneCycleLR`` also cycle the momentum by default
(``cycle_momentum=True``); the equivalent torch code sets ``cycle_momentum=False``.

``base_lr`` (and ``max_lr`` for ``cyclic`` / ``onecycle``) may be an array of shape ``(R,)``, one value
per run; ``sched(t)`` then has shape ``np.shape(t) + (R,)``.

    >>> from lossviz import schedules
    >>> sched = schedules.get("step", base_lr=0.1, step_size=2, gamma=0.5)
    >>> sched([0, 1, 2, 3, 4]).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025]
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from lossviz._validation import check_choice, check_per_run
from lossviz.optimizers._core import HyperSpec, spec_row

__all__ = ["CHAINABLE", "REQUIRED", "PlateauState", "Schedule", "get", "names", "parameters", "spec"]


class _Required:
    """Marker for a parameter without a default (torch requires it too)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()

LrFn = Callable[[np.ndarray, np.ndarray, Mapping[str, object]], np.ndarray]


@dataclass(frozen=True, eq=False)
class Schedule:
    r"""A learning-rate schedule: ``sched(t)`` is the lr used by the t-th optimizer step.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"cosine"``.
    title : str
        Human-readable name, e.g. ``"Cosine annealing"``.
    params : dict
        Every parameter with its resolved value (defaults filled in), including ``base_lr`` (except for
        ``onecycle``, whose first rate is derived), ``warmup_steps`` and ``warmup_start_factor``, so
        ``get(sched.name, **sched.params)`` rebuilds it.
    latex : str
        The formula, KaTeX-renderable. :math:`\eta_0` is ``base_lr``, :math:`t` the step.
    torch_name : str or None
        The ``torch.optim.lr_scheduler`` class (``None`` for ``constant``: no scheduler). With
        ``warmup_steps > 0`` torch wraps it in ``SequentialLR`` after a ``LinearLR``.
    base_lr : float or ndarray, shape (R,)
        The rate the schedule starts from (torch's ``initial_lr``): ``max_lr / div_factor`` for
        ``onecycle``.
    last_step : int or None
        The last step the schedule is defined for (``total_steps + warmup_steps`` for ``onecycle``,
        where torch raises beyond it); ``None`` when unbounded.
    """

    name: str
    title: str
    params: dict
    latex: str
    torch_name: str | None
    base_lr: float | np.ndarray
    last_step: int | None
    _lr: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    _lr_shape: tuple[int, ...] = field(repr=False)
    reads_loss: bool = False

    def __call__(self, t: object) -> np.ndarray:
        """Learning rate used by optimizer step(s) ``t``.

        Parameters
        ----------
        t : int or array_like of int, shape (...)
            Step indices, ``t >= 0`` (and ``t <= last_step`` when the schedule is bounded).

        Returns
        -------
        ndarray, shape ``np.shape(t) + (R,)``, or ``np.shape(t)`` when every rate is a scalar
            float64 learning rates; ``R`` is the length of ``base_lr`` (or ``max_lr``) when it holds one
            value per run. A 0-d array for a scalar ``t`` and scalar rates.
        """
        steps = _check_steps(t, self.last_step, self.name)
        expanded = steps.reshape(steps.shape + (1,) * len(self._lr_shape))
        lr = self._lr(expanded)
        return np.array(np.broadcast_to(lr, steps.shape + self._lr_shape), dtype=np.float64)


    # ----------------------------------------------------------------- schedules that read the loss
    def _plateau_only(self) -> None:
        if not self.reads_loss:
            raise TypeError(f"schedule {self.name!r} does not read the loss; call it with the step instead")

    def start(self, n_runs: int = 1) -> PlateauState:
        """The state of a loss-reading schedule (``reduce_on_plateau``) before any loss, for ``n_runs`` runs.

        ``state.lr`` (R,) is the rate of the first step: ``base_lr``.
        """
        self._plateau_only()
        n_runs = int(n_runs)
        if np.ndim(self.base_lr) and np.shape(self.base_lr)[0] != n_runs:
            raise ValueError(f"base_lr has {np.shape(self.base_lr)[0]} values but there are {n_runs} runs")
        lr = np.array(np.broadcast_to(np.asarray(self.base_lr, dtype=np.float64), (n_runs,)))
        worse = np.inf if self.params["mode"] == "min" else -np.inf
        zeros = np.zeros(n_runs, dtype=np.int64)
        return PlateauState(lr, np.full(n_runs, worse), zeros, zeros.copy(), 0)

    def advance(self, state: PlateauState, loss: object) -> PlateauState:
        """``ReduceLROnPlateau.step(loss)`` for every run at once: the state after seeing ``loss`` (R,), the
        loss of the step just taken; ``state.lr`` is then the rate of the next step."""
        self._plateau_only()
        p = self.params
        current = np.asarray(loss, dtype=np.float64).reshape(state.lr.shape)
        threshold = float(p["threshold"])  # type: ignore[arg-type]
        with np.errstate(invalid="ignore"):
            if p["mode"] == "min":
                better = (current < state.best * (1.0 - threshold) if p["threshold_mode"] == "rel"
                          else current < state.best - threshold)
            else:
                better = (current > state.best * (threshold + 1.0) if p["threshold_mode"] == "rel"
                          else current > state.best + threshold)
        best = np.where(better, current, state.best)
        bad = np.where(better, 0, state.num_bad_epochs + 1)
        cooling = state.cooldown_counter > 0
        cooldown = np.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
        bad = np.where(cooling, 0, bad)
        reduce = bad > int(p["patience"])  # type: ignore[call-overload]
        reduced = np.maximum(state.lr * float(p["factor"]), float(p["min_lr"]))  # type: ignore[arg-type]
        applied = reduce & (state.lr - reduced > float(p["eps"]))  # type: ignore[arg-type]
        lr = np.where(applied, reduced, state.lr)
        cooldown = np.where(reduce, int(p["cooldown"]), cooldown)  # type: ignore[call-overload]
        bad = np.where(reduce, 0, bad)
        return PlateauState(lr, best, bad, cooldown, state.last_epoch + 1)

    def replay(self, losses: object) -> np.ndarray:
        """The rates a loss-reading schedule gives when ``losses[t]`` is fed after step t.

        Parameters
        ----------
        losses : array_like, shape (T,) or (T, R)

        Returns
        -------
        ndarray, shape (T,) or (T, R)
            ``out[t]`` is the rate step t used (``out[0]`` is ``base_lr``).

        >>> sched = get("reduce_on_plateau", base_lr=1.0, patience=1)
        >>> sched.replay([3.0, 2.0, 2.0, 2.0, 2.0, 2.0]).tolist()
        [1.0, 1.0, 1.0, 1.0, 0.1, 0.1]
        """
        self._plateau_only()
        values = np.asarray(losses, dtype=np.float64)
        table = values if values.ndim == 2 else values[:, None]
        state = self.start(table.shape[1])
        out = np.empty_like(table)
        for t, row in enumerate(table):
            out[t] = state.lr
            state = self.advance(state, row)
        return out if values.ndim == 2 else out[:, 0]


def _check_steps(t: object, last_step: int | None, name: str) -> np.ndarray:
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"step t must be an integer or an integer array, got {t!r}")
    steps = np.asarray(t)
    if steps.dtype.kind not in "iu":
        raise TypeError(f"step t must be an integer or an integer array, got dtype {steps.dtype}")
    steps = steps.astype(np.int64)
    if steps.size and steps.min() < 0:
        raise ValueError(f"step t must be >= 0 (t = 0 is the first optimizer step), got {steps.min()}")
    if last_step is not None and steps.size and steps.max() > last_step:
        raise ValueError(
            f"schedule {name!r} is defined for steps t in [0, {last_step}] (torch raises beyond it), "
            f"got t = {steps.max()}; raise total_steps"
        )
    return steps


# --------------------------------------------------------------------------------------------------------
# Parameter checks


def _check_lr(value: object, name: str) -> float | np.ndarray:
    """A positive learning rate: a scalar, or one per run (shape (R,))."""
    return check_per_run(value, name, low=0.0, include_low=False)


def _check_milestones(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        raise TypeError(f"milestones must be a sequence of integers, got {value!r}")
    items = list(value)  # type: ignore[call-overload]
    if not items:
        raise ValueError("milestones must hold at least one step, got an empty sequence")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(f"milestones must be integers, got {item!r} in {items!r}")
    steps = tuple(int(item) for item in items)
    if min(steps) < 0:
        raise ValueError(f"milestones must be steps >= 0, got {list(steps)}")
    if any(b <= a for a, b in itertools.pairwise(steps)):
        raise ValueError(f"milestones must be strictly increasing, got {list(steps)}")
    return steps


# --------------------------------------------------------------------------------------------------------
# Closed forms. Each takes integer steps k (already shaped to broadcast against the per-run lr arrays),
# the starting rate base (torch's initial_lr) and the resolved parameters. Operation order follows
# torch's own formulas so the values agree to the last few bits.


def _constant(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    return base * np.ones(k.shape)


def _step(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    with np.errstate(over="ignore"):
        return base * float(p["gamma"]) ** (k // int(p["step_size"])).astype(np.float64)


def _multistep(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    passed = np.searchsorted(np.asarray(p["milestones"], dtype=np.int64), k, side="right")
    with np.errstate(over="ignore"):
        return base * float(p["gamma"]) ** passed.astype(np.float64)


def _exponential(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    # gamma > 1 (an lr range test) overflows to inf after enough steps; that is the schedule's value.
    with np.errstate(over="ignore"):
        return base * float(p["gamma"]) ** k.astype(np.float64)


def _inverse_time(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    return base * (1.0 / (1.0 + float(p["decay"]) * k))


def _polynomial(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    total = int(p["total_iters"])
    return base * (1.0 - np.minimum(total, k) / total) ** float(p["power"])


def _cosine_factor(numerator: np.ndarray, period: np.ndarray | int) -> np.ndarray:
    return 1 + np.cos(math.pi * numerator / period)


def _cosine(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    eta_min = float(p["eta_min"])
    return eta_min + (base - eta_min) * _cosine_factor(k, int(p["T_max"])) / 2


def _cosine_warm_restarts(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    period0, mult, eta_min = int(p["T_0"]), int(p["T_mult"]), float(p["eta_min"])
    if mult == 1:
        since_restart, period = k % period0, np.full(k.shape, period0, dtype=np.int64)
    else:
        # torch's stepping scheduler counts T_cur in exact integers; its float log() closed form can land
        # on the wrong side of a restart, so the restart steps are found with integer arithmetic instead.
        highest = int(k.max()) if k.size else 0
        restarts, lengths = [0], [period0]
        while restarts[-1] <= highest:
            restarts.append(restarts[-1] + lengths[-1])
            lengths.append(lengths[-1] * mult)
        cycle = np.searchsorted(np.asarray(restarts[:-1], dtype=np.int64), k, side="right") - 1
        since_restart = k - np.asarray(restarts[:-1], dtype=np.int64)[cycle]
        period = np.asarray(lengths[:-1], dtype=np.int64)[cycle]
    return eta_min + (base - eta_min) * _cosine_factor(since_restart, period) / 2


def _linear(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    start, end, total = float(p["start_factor"]), float(p["end_factor"]), int(p["total_iters"])
    return base * (start + (end - start) * np.minimum(total, k) / total)


def _cyclic(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    up = float(p["step_size_up"])
    down = up if p["step_size_down"] is None else float(p["step_size_down"])
    total = up + down
    ratio = up / total
    cycle = np.floor(1 + k / total)
    x = 1.0 + k / total - cycle
    scale = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
    mode = p["mode"]
    if mode == "triangular":
        amplitude = np.ones(k.shape)
    elif mode == "triangular2":
        amplitude = 1 / (2.0 ** (cycle - 1))
    else:
        amplitude = float(p["gamma"]) ** k.astype(np.float64)
    max_lr = np.asarray(p["max_lr"], dtype=np.float64)
    return base + (max_lr - base) * scale * amplitude


def _onecycle_phases(p: Mapping[str, object]) -> list[tuple[float, str, str]]:
    """torch's phases as (end_step, start_rate, end_rate), rates named initial / max / min."""
    total, pct = int(p["total_steps"]), float(p["pct_start"])
    if p["three_phase"]:
        return [
            (float(pct * total) - 1, "initial", "max"),
            (float(2 * pct * total) - 2, "max", "initial"),
            (total - 1, "initial", "min"),
        ]
    return [(float(pct * total) - 1, "initial", "max"), (total - 1, "max", "min")]


def _onecycle_fraction(k: np.ndarray, p: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selected phase index, its start and its end for each step, chosen exactly as torch does."""
    phases = _onecycle_phases(p)
    phase = np.full(k.shape, len(phases) - 1)
    for i in reversed(range(len(phases) - 1)):
        phase = np.where(k <= phases[i][0], i, phase)
    ends = np.array([end for end, _, _ in phases], dtype=np.float64)
    starts = np.concatenate([[0.0], ends[:-1]])
    return phase, starts[phase], ends[phase]


def _onecycle(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    max_lr = np.asarray(p["max_lr"], dtype=np.float64)
    rates = {"initial": base, "max": max_lr, "min": base / float(p["final_div_factor"])}
    phase, start_step, end_step = _onecycle_fraction(k, p)
    pct = (k - start_step) / (end_step - start_step)
    lr = np.zeros(np.broadcast_shapes(k.shape, np.shape(base), np.shape(max_lr)))
    for i, (_, start_name, end_name) in enumerate(_onecycle_phases(p)):
        start, end = rates[start_name], rates[end_name]
        if p["anneal_strategy"] == "cos":
            value = end + (start - end) / 2.0 * (np.cos(math.pi * pct) + 1)
        else:
            value = (end - start) * pct + start
        lr = np.where(phase == i, value, lr)
    return lr


def _validate_onecycle(p: dict) -> None:
    total = int(p["total_steps"])
    # The selected phase only changes at phase ends, so the steps next to each end (and 0, total_steps)
    # meet every phase that any step meets, without an array as long as total_steps.
    ends = np.array([end for end, _, _ in _onecycle_phases(p)])
    nearby = np.concatenate([[0, total], np.floor(ends), np.floor(ends) + 1]).astype(np.int64)
    steps = np.unique(np.clip(nearby, 0, total))
    _, start_step, end_step = _onecycle_fraction(steps, p)
    if np.any(end_step == start_step):
        raise ValueError(
            f"pct_start={p['pct_start']!r} with total_steps={p['total_steps']!r} and "
            f"three_phase={p['three_phase']!r} gives a phase of zero length (torch divides by zero "
            "there); choose another pct_start"
        )


# --------------------------------------------------------------------------------------------------------
# Closed forms added with issue 17


def _constant_factor(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    factor = float(p["factor"])  # type: ignore[arg-type]
    return base * (factor + (k >= int(p["total_iters"])) * (1 - factor))  # type: ignore[call-overload]


def _wsd_shape(kind: object, progress: np.ndarray, rising: bool) -> np.ndarray:
    if kind == "linear":
        return progress if rising else 1.0 - progress
    if kind == "cosine":
        cosine = np.cos(math.pi * progress)
        return 0.5 * (1.0 - cosine) if rising else 0.5 * (1.0 + cosine)
    return 1.0 - np.sqrt(1.0 - progress) if rising else 1.0 - np.sqrt(progress)


def _wsd(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    warm = int(p["num_warmup_steps"])  # type: ignore[call-overload]
    stable = int(p["num_stable_steps"])  # type: ignore[call-overload]
    decay = int(p["num_decay_steps"])  # type: ignore[call-overload]
    ratio = float(p["min_lr_ratio"])  # type: ignore[arg-type]
    # Each branch sees its progress clipped to [0, 1]: outside its own steps the value is not used.
    rising = _wsd_shape(p["warmup_type"], np.clip(k / max(1, warm), 0.0, 1.0), True)
    falling = _wsd_shape(p["decay_type"], np.clip((k - warm - stable) / max(1, decay), 0.0, 1.0), False)
    decayed = np.maximum(0.0, falling * (1.0 - ratio) + ratio)
    during_decay = np.where(k < warm + stable + decay, decayed, ratio)
    factor = np.where(k < warm, np.maximum(0.0, rising * (1.0 - ratio) + ratio),
                      np.where(k < warm + stable, 1.0, during_decay))
    return base * factor


def _chain(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    lr = base * np.ones(k.shape)
    for name, params in p["schedules"]:  # type: ignore[attr-defined]
        lr = lr * _SPECS[name].lr(k, np.asarray(1.0), {**params})
    return lr


def _needs_the_loss(k: np.ndarray, base: np.ndarray, p: Mapping[str, object]) -> np.ndarray:
    raise TypeError(
        "schedule 'reduce_on_plateau' reads the loss, so it has no value for a step alone: lossviz.run.run "
        "feeds it, or replay(losses) gives the rates for a sequence of losses"
    )


class PlateauState(NamedTuple):
    """``ReduceLROnPlateau``'s state per run: ``lr`` (R,) the rate of the next step, ``best`` (R,),
    ``num_bad_epochs`` and ``cooldown_counter`` (R,) ints, ``last_epoch`` the number of losses seen."""

    lr: np.ndarray
    best: np.ndarray
    num_bad_epochs: np.ndarray
    cooldown_counter: np.ndarray
    last_epoch: int


# --------------------------------------------------------------------------------------------------------
# Parameter rows: each parameter's default, allowed values and label as data (see spec()); get() checks
# values with the same rows, so a control built from them cannot offer a value get() refuses.


def _row(name: str, label: str, kind: str, default: object, **bounds: object) -> tuple[object, HyperSpec]:
    return default, replace(spec_row(name, label, kind, **bounds), default=default)


def _positive_row(name: str, label: str, default: object = REQUIRED) -> tuple[object, HyperSpec]:
    return _row(name, label, "float", default, low=0.0, include_low=False, shared=True)


def _length_row(name: str, label: str, default: object = REQUIRED, low: int = 1) -> tuple[object, HyperSpec]:
    return _row(name, label, "int", default, low=low)


def _chain_members(value: object) -> tuple[tuple[str, dict], ...]:
    """``schedules`` of ``chain``: Schedules or (name, params) pairs of multiplicative schedules."""
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        raise TypeError(f"schedules must be a sequence of schedules or (name, params) pairs, got {value!r}")
    members = []
    for item in value:  # type: ignore[union-attr]
        if isinstance(item, Schedule):
            name, params = item.name, {k: v for k, v in item.params.items() if k != "base_lr"}
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping):
            name, params = item[0], dict(item[1])
        else:
            raise TypeError(f"schedules must hold Schedules or (name, params) pairs, got {item!r}")
        if name not in CHAINABLE:
            raise ValueError(
                f"chain multiplies schedules whose torch scheduler multiplies the rate each step "
                f"({', '.join(CHAINABLE)}); {name!r} is not one of them"
            )
        if params.get("warmup_steps", 0):
            raise ValueError("a chained schedule takes no warmup_steps; chain a 'linear' schedule instead")
        params.pop("warmup_steps", None)
        params.pop("warmup_start_factor", None)
        member = get(name, base_lr=1.0, **params)
        members.append((name, {k: v for k, v in member.params.items()
                               if k not in ("base_lr", "warmup_steps", "warmup_start_factor")}))
    if not members:
        raise ValueError("schedules must hold at least one schedule to chain, got an empty sequence")
    return tuple(members)


@dataclass(frozen=True)
class _Spec:
    title: str
    torch_name: str | None
    checks: dict[str, tuple[object, HyperSpec]]
    lr: LrFn
    latex: str
    takes_base_lr: bool = True
    extra_check: Callable[[dict], None] | None = None
    warmup: bool = True  # takes the generic warmup_steps / warmup_start_factor
    reads_loss: bool = False


_DECAY_SHAPES = ("linear", "cosine", "1-sqrt")

_SPECS: dict[str, _Spec] = {
    "constant": _Spec("Constant", None, {}, _constant, r"\eta_t = \eta_0"),
    "step": _Spec(
        "Step decay",
        "StepLR",
        {"step_size": _length_row("step_size", "step size"),
         "gamma": _positive_row("gamma", "γ (factor)", 0.1)},
        _step,
        r"\eta_t = \eta_0\,\gamma^{\lfloor t / \mathrm{step\_size} \rfloor}",
    ),
    "multistep": _Spec(
        "Multi-step decay",
        "MultiStepLR",
        {"milestones": _row("milestones", "milestones", "ints", REQUIRED, low=0, validator=_check_milestones),
         "gamma": _positive_row("gamma", "γ (factor)", 0.1)},
        _multistep,
        r"\eta_t = \eta_0\,\gamma^{\#\{m \in \mathrm{milestones}\,:\, m \le t\}}",
    ),
    "exponential": _Spec(
        "Exponential decay",
        "ExponentialLR",
        {"gamma": _positive_row("gamma", "γ (factor per step)")},
        _exponential,
        r"\eta_t = \eta_0\,\gamma^{t}",
    ),
    "inverse_time": _Spec(
        "Inverse-time decay",
        "LambdaLR",
        {"decay": _row("decay", "decay", "float", REQUIRED, low=0.0, shared=True)},
        _inverse_time,
        r"\eta_t = \frac{\eta_0}{1 + \mathrm{decay}\cdot t}",
    ),
    "polynomial": _Spec(
        "Polynomial decay",
        "PolynomialLR",
        {"total_iters": _length_row("total_iters", "total iters", 5),
         "power": _positive_row("power", "power", 1.0)},
        _polynomial,
        r"\eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p},\quad T = \mathrm{total\_iters},"
        r"\ p = \mathrm{power}",
    ),
    "cosine": _Spec(
        "Cosine annealing",
        "CosineAnnealingLR",
        {"T_max": _length_row("T_max", "T_max (half period)"),
         "eta_min": _row("eta_min", "η_min", "float", 0.0, low=0.0, shared=True)},
        _cosine,
        r"\eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})"
        r"\left(1 + \cos\frac{\pi t}{T_{\max}}\right)",
    ),
    "cosine_warm_restarts": _Spec(
        "Cosine annealing with warm restarts",
        "CosineAnnealingWarmRestarts",
        {
            "T_0": _length_row("T_0", "T₀ (first period)"),
            "T_mult": _length_row("T_mult", "T_mult (period growth)", 1),
            "eta_min": _row("eta_min", "η_min", "float", 0.0, low=0.0, shared=True),
        },
        _cosine_warm_restarts,
        r"\eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})"
        r"\left(1 + \cos\frac{\pi T_{cur}}{T_i}\right),\quad T_i = T_0 T_{mult}^{\,i}"
        r"\text{ in restart } i,\ T_{cur} = \text{steps since the last restart}",
    ),
    "linear": _Spec(
        "Linear",
        "LinearLR",
        {
            "start_factor": _row("start_factor", "start factor", "fraction", 1.0 / 3, low=0.0, high=1.0,
                                 include_low=False, shared=True),
            "end_factor": _row("end_factor", "end factor", "fraction", 1.0, low=0.0, high=1.0, shared=True),
            "total_iters": _length_row("total_iters", "total iters", 5),
        },
        _linear,
        r"\eta_t = \eta_0\left(f_s + (f_e - f_s)\,\frac{\min(t, T)}{T}\right),\quad"
        r" f_s = \mathrm{start\_factor},\ f_e = \mathrm{end\_factor},\ T = \mathrm{total\_iters}",
    ),
    "cyclic": _Spec(
        "Cyclic (CLR)",
        "CyclicLR",
        {
            "max_lr": _row("max_lr", "max lr", "float", REQUIRED, low=0.0, include_low=False),
            "step_size_up": _length_row("step_size_up", "steps up", 2000),
            "step_size_down": _row("step_size_down", "steps down (None: = up)", "int", None, low=1,
                                   optional=True),
            "mode": _row("mode", "mode", "choice", "triangular",
                         choices=("triangular", "triangular2", "exp_range")),
            "gamma": _row("gamma", "γ (exp_range decay)", "fraction", 1.0, low=0.0, high=1.0,
                          include_low=False, shared=True),
        },
        _cyclic,
        r"\eta_t = \eta_0 + (\eta_{\max} - \eta_0)\,\mathrm{tri}(t)\,s(t),\quad"
        r"\mathrm{tri}\text{ rises over step\_size\_up steps and falls over step\_size\_down},\ "
        r"s = 1 \text{ (triangular)},\ 2^{1-c} \text{ (triangular2, cycle } c\text{)},\ "
        r"\gamma^{t} \text{ (exp\_range)}",
    ),
    "onecycle": _Spec(
        "One-cycle",
        "OneCycleLR",
        {
            "max_lr": _row("max_lr", "max lr", "float", REQUIRED, low=0.0, include_low=False),
            "total_steps": _length_row("total_steps", "total steps"),
            "pct_start": _row("pct_start", "fraction of steps rising", "fraction", 0.3, low=0.0, high=1.0,
                              shared=True),
            "anneal_strategy": _row("anneal_strategy", "anneal strategy", "choice", "cos",
                                    choices=("cos", "linear")),
            "div_factor": _positive_row("div_factor", "div factor (max / first)", 25.0),
            "final_div_factor": _positive_row("final_div_factor", "final div factor (first / last)", 1e4),
            "three_phase": _row("three_phase", "three phases", "flag", False),
        },
        _onecycle,
        r"\eta_0 = \frac{\eta_{\max}}{\mathrm{div\_factor}} \nearrow \eta_{\max} \text{ over the first }"
        r"\mathrm{pct\_start}\cdot T \text{ steps, then } \searrow \frac{\eta_0}{\mathrm{final\_div\_factor}}"
        r"\text{ at } t = T - 1 \text{ (cosine or linear)},\ T = \mathrm{total\_steps}",
        takes_base_lr=False,
        extra_check=_validate_onecycle,
    ),
    "constant_factor": _Spec(
        "Constant factor",
        "ConstantLR",
        {"factor": _row("factor", "factor (before total_iters)", "fraction", 1.0 / 3, low=0.0, high=1.0,
                        include_low=False, shared=True),
         "total_iters": _length_row("total_iters", "total iters", 5)},
        _constant_factor,
        r"\eta_t = \begin{cases} f\,\eta_0 & t < T \\ \eta_0 & t \ge T \end{cases},\quad f = \mathrm{factor},"
        r"\ T = \mathrm{total\_iters}",
    ),
    "reduce_on_plateau": _Spec(
        "Reduce on plateau",
        "ReduceLROnPlateau",
        {
            "mode": _row("mode", "mode (the loss is minimized)", "choice", "min", choices=("min", "max")),
            "factor": _row("factor", "factor per reduction", "fraction", 0.1, low=0.0, high=1.0,
                           include_high=False, shared=True),
            "patience": _length_row("patience", "patience (steps without improvement)", 10, low=0),
            "threshold": _row("threshold", "threshold (what counts as improvement)", "float", 1e-4, low=0.0,
                              shared=True),
            "threshold_mode": _row("threshold_mode", "threshold mode", "choice", "rel",
                                   choices=("rel", "abs")),
            "cooldown": _length_row("cooldown", "cooldown (steps after a reduction)", 0, low=0),
            "min_lr": _row("min_lr", "smallest lr", "float", 0.0, low=0.0, shared=True),
            "eps": _row("eps", "ε (smallest change applied)", "eps", 1e-8, low=0.0, shared=True),
        },
        _needs_the_loss,
        r"\eta_{t+1} = \begin{cases} \max(f \eta_t, \eta_{\min}) & \text{the loss has not improved on its "
        r"best by the threshold for more than } p \text{ steps} \\ \eta_t & \text{otherwise} \end{cases}",
        warmup=False,
        reads_loss=True,
    ),
    "wsd": _Spec(
        "Warmup-stable-decay",
        "LambdaLR",
        {
            "num_warmup_steps": _length_row("num_warmup_steps", "warm-up steps", 0, low=0),
            "num_stable_steps": _length_row("num_stable_steps", "stable steps", low=0),
            "num_decay_steps": _length_row("num_decay_steps", "decay steps", low=0),
            "warmup_type": _row("warmup_type", "warm-up shape", "choice", "linear", choices=_DECAY_SHAPES),
            "decay_type": _row("decay_type", "decay shape", "choice", "cosine", choices=_DECAY_SHAPES),
            "min_lr_ratio": _row("min_lr_ratio", "final lr / base lr", "fraction", 0.0, low=0.0, high=1.0,
                                 shared=True),
        },
        _wsd,
        r"\eta_t = \eta_0 \begin{cases} r + (1 - r)\, w(t / W) & t < W \\ 1 & t < W + S \\ "
        r"r + (1 - r)\, d\big((t - W - S) / D\big) & t < W + S + D \\ r & \text{after} \end{cases},\quad "
        r"d(p) = 1 - p,\ \tfrac12(1 + \cos \pi p) \text{ or } 1 - \sqrt{p}",
    ),
    "chain": _Spec(
        "Chained",
        "ChainedScheduler",
        {"schedules": _row("schedules", "schedules to multiply", "list", REQUIRED, validator=_chain_members)},
        _chain,
        r"\eta_t = \eta_0 \prod_i \frac{\eta^{(i)}_t}{\eta_0}",
        warmup=False,
    ),
}

# The schedules whose torch scheduler multiplies the current rate by a factor each step, so that torch's
# ChainedScheduler gives the product of their closed forms.
CHAINABLE = ("constant", "step", "multistep", "exponential", "polynomial", "linear", "constant_factor")

_WARMUP_CHECKS: dict[str, tuple[object, HyperSpec]] = {
    "warmup_steps": _length_row("warmup_steps", "warm-up steps (linear, before the schedule)", 0, low=0),
    "warmup_start_factor": _row("warmup_start_factor", "warm-up start factor", "fraction", 1.0 / 3, low=0.0,
                                high=1.0, include_low=False, shared=True),
}


def names() -> list[str]:
    """Registered schedule names, in registry order."""
    return list(_SPECS)


def _all_checks(spec: _Spec) -> dict[str, tuple[object, HyperSpec]]:
    return {**spec.checks, **(_WARMUP_CHECKS if spec.warmup else {})}


def parameters(name: str) -> dict[str, object]:
    """Parameters of schedule ``name`` with torch's defaults; :data:`REQUIRED` marks those without one.

    ``base_lr`` is listed first for every schedule except ``onecycle``; the warm-up parameters last (not
    for ``reduce_on_plateau`` and ``chain``, which take none).
    """
    spec_ = _SPECS[check_choice(name, "schedule", _SPECS)]
    out: dict[str, object] = {"base_lr": REQUIRED} if spec_.takes_base_lr else {}
    out.update({key: default for key, (default, _) in _all_checks(spec_).items()})
    return out


def spec(name: str) -> dict[str, HyperSpec]:
    """The parameters of schedule ``name`` as data, like :func:`lossviz.optimizers.spec`: name, label,
    kind, allowed range and default (``REQUIRED`` when torch has none), the rows :func:`get` checks with.
    ``base_lr`` (one value or one per run, > 0) is not listed.

    >>> row = spec("step")["gamma"]
    >>> row.kind, row.range, row.default
    ('float', '(0, inf)', 0.1)
    """
    spec_ = _SPECS[check_choice(name, "schedule", _SPECS)]
    return {key: row for key, (_, row) in _all_checks(spec_).items()}


def _warmup_latex(main: str, steps: int) -> str:
    return (
        r"\eta_t = \begin{cases} \eta_0\left(f_w + (1 - f_w)\frac{t}{W}\right) & t < W \\"
        r" \text{the schedule below at step } t - W & t \ge W \end{cases},\quad W = "
        + str(steps)
        + r",\ f_w = \mathrm{warmup\_start\_factor};\qquad "
        + main
    )


def get(name: str, base_lr: object = None, **params: object) -> Schedule:
    r"""Build the schedule ``name``.

    Parameters
    ----------
    name : str
        One of :func:`names`.
    base_lr : float or array_like, shape (R,)
        Starting learning rate :math:`\eta_0` (the optimizer's ``lr`` in torch), > 0; one per run when
        an array. Required, except for ``onecycle``, which refuses it: its first rate is
        ``max_lr / div_factor``.
    **params
        The schedule's parameters with torch's names (see :func:`parameters` and :func:`spec`), plus
        ``warmup_steps`` (int >= 0, default 0) and ``warmup_start_factor`` (in (0, 1], default 1/3) for
        every schedule but ``reduce_on_plateau`` and ``chain``.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        Unknown schedule name (the message lists the valid names), a missing required parameter, or a
        value out of range (the message names the parameter, the value and the range).
    TypeError
        A parameter the schedule does not take (the message lists the valid ones) or of the wrong type.
    """
    spec_ = _SPECS[check_choice(name, "schedule", _SPECS)]
    checks = _all_checks(spec_)
    unknown = sorted(set(params) - set(checks))
    if unknown:
        valid = (["base_lr"] if spec_.takes_base_lr else []) + list(checks)
        hint = ""
        if not spec_.warmup and set(unknown) & set(_WARMUP_CHECKS):
            instead = "; chain a 'linear' schedule instead" if name == "chain" else ""
            hint = f" ({name} takes no warm-up{instead})"
        raise TypeError(
            f"schedule {name!r} got unknown parameter(s) {', '.join(unknown)}; valid parameters: "
            f"{', '.join(valid)}{hint}"
        )
    resolved: dict[str, object] = {}
    for key, (default, row) in checks.items():
        value = params.get(key, default)
        if value is REQUIRED:
            raise ValueError(f"schedule {name!r} needs the parameter {key} (it has no default, as in torch)")
        resolved[key] = row.check(value)
    if spec_.extra_check is not None:
        spec_.extra_check(resolved)

    if spec_.takes_base_lr:
        if base_lr is None:
            raise ValueError(f"schedule {name!r} needs base_lr, the starting learning rate (> 0)")
        start = _check_lr(base_lr, "base_lr")
        resolved = {"base_lr": start, **resolved}
    else:
        if base_lr is not None:
            raise ValueError(
                f"schedule {name!r} takes max_lr, not base_lr (got base_lr={base_lr!r}): its first rate "
                "is max_lr / div_factor, as in torch's OneCycleLR"
            )
        start = resolved["max_lr"] / resolved["div_factor"]  # type: ignore[operator]

    lr_shape = np.broadcast_shapes(np.shape(start), np.shape(resolved.get("max_lr", 1.0)))
    base = np.asarray(start, dtype=np.float64)
    warmup = int(resolved.get("warmup_steps", 0))  # type: ignore[call-overload]
    warmup_start = float(resolved.get("warmup_start_factor", 1.0 / 3))  # type: ignore[arg-type]
    main_lr = spec_.lr

    def lr(steps: np.ndarray) -> np.ndarray:
        if warmup == 0:
            return main_lr(steps, base, resolved)
        in_warmup = steps < warmup
        # torch LinearLR's closed form with end_factor=1.0 and total_iters=warmup.
        ramp = base * (warmup_start + (1.0 - warmup_start) * np.minimum(warmup, steps) / warmup)
        main = main_lr(np.where(in_warmup, 0, steps - warmup), base, resolved)
        return np.where(in_warmup, ramp, main)

    last_step = None
    if name == "onecycle":
        last_step = int(resolved["total_steps"]) + warmup  # type: ignore[call-overload]
    latex = spec_.latex if warmup == 0 else _warmup_latex(spec_.latex, warmup)
    title = spec_.title if warmup == 0 else f"{spec_.title} after {warmup} warm-up steps"
    if name == "chain":
        members: tuple = resolved["schedules"]  # type: ignore[assignment]
        title = "Chained: " + " × ".join(_SPECS[m].title.lower() for m, _ in members)
    return Schedule(
        name=name,
        title=title,
        params=dict(resolved),
        latex=latex,
        torch_name=spec_.torch_name,
        base_lr=start,
        last_step=last_step,
        _lr=lr,
        _lr_shape=lr_shape,
        reads_loss=spec_.reads_loss,
    )
