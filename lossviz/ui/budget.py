"""Every rerun has a work budget: above it the page says which setting to lower, and computes nothing.

A link is text anyone can write: ``steps=10000`` with six optimizers on a long formula once cost 44 s
of server CPU for one page open, during which every other session of the process waited. Before a page
computes, it estimates the work (:class:`Estimate`: CPU seconds and bytes, from the settings and the
cost of the formula) with the constants below, measured on the 2-core machine the app is sized for, and
:func:`affordable` refuses an estimate above :data:`SECONDS` or :data:`BYTES` with a message that names
the setting to lower and a value that fits.

The estimate is deliberately simple (linear in steps, runs and formula operations) and errs high; the
budget is half the hard limit of 3 s of CPU and 300 MB per page open, so a twice-too-low estimate still
keeps within it (the page tests open every page at its maximal settings and measure).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from lossviz.surfaces import Surface
from lossviz.ui import text

__all__ = ["Estimate", "Knob", "SECONDS", "BYTES", "run_seconds", "grid_seconds", "formula_cost",
           "affordable", "data_seconds", "data_estimate", "runs"]

SECONDS = 1.5
BYTES = 150 * 2**20

# Measured 2026-12-06 on this machine (python, 2 cores; see tests/test_budget.py for the check that the
# estimates are not below the measured cost): one step of one run call on a built-in surface (the
# gradient, the update, the recording), and what a typed formula adds per step and per NumPy operation.
CALL_SECONDS = 25e-6
FORMULA_CALL_SECONDS = 40e-6
FORMULA_CALL_OP_SECONDS = 9e-6
# One step of one point in a vectorized run (R runs advanced together).
POINT_SECONDS = 200e-9
FORMULA_POINT_SECONDS = 80e-9
FORMULA_POINT_OP_SECONDS = 10e-9
# One value of a grid (landscape.grid).
GRID_OP_SECONDS = 7e-9
BUILTIN_GRID_SECONDS = 60e-9
# A model on data (lossviz.lessons.models_on_data), per data row: its loss and gradient in one step of one
# run (measured 15-46 ns over the ten losses, 2,000 rows, 26 runs), and its loss at one grid point (3-12
# ns, 32 ns for squared error through a sigmoid).
ROW_STEP_SECONDS = 50e-9
ROW_EVAL_SECONDS = 15e-9


@dataclass(frozen=True)
class Knob:
    """A setting the work grows with: its label, its value, and the smallest value it can take.

    ``share`` is the part of the estimate's seconds proportional to it (1: all of it); lowering it leaves
    the rest, so the value advised is the one that brings that part within what the rest leaves.
    """

    label: str
    value: float
    lowest: float = 1
    share: float = 1.0


@dataclass(frozen=True)
class Estimate:
    """Work a rerun would do: CPU ``seconds`` and extra ``bytes``, and the ``knobs`` it is proportional to
    (most effective first)."""

    seconds: float
    bytes: float = 0.0
    knobs: tuple[Knob, ...] = ()

    def __add__(self, other: Estimate) -> Estimate:
        knobs = self.knobs + tuple(k for k in other.knobs if k.label not in {j.label for j in self.knobs})
        return Estimate(self.seconds + other.seconds, self.bytes + other.bytes, knobs)

    @property
    def factor(self) -> float:
        """How many times over the budget (<= 1 fits)."""
        return max(self.seconds / SECONDS, self.bytes / BYTES)


def formula_cost(surface: Surface) -> int:
    """NumPy operations per evaluation of a typed formula (0 for a built-in surface)."""
    return int(surface.constants.get("cost", 0)) if surface.name == "custom" else 0


def run_seconds(surface: Surface, steps: int, calls: int = 1, points: int = 0) -> float:
    """CPU seconds of ``calls`` run calls of ``steps`` steps, advancing ``points`` runs in total."""
    cost = formula_cost(surface)
    per_call = CALL_SECONDS + (FORMULA_CALL_SECONDS + FORMULA_CALL_OP_SECONDS * cost if cost else 0.0)
    per_point = POINT_SECONDS if not cost else FORMULA_POINT_SECONDS + FORMULA_POINT_OP_SECONDS * cost
    return steps * (calls * per_call + max(points, calls) * per_point)


def grid_seconds(surface: Surface, points: int) -> float:
    """CPU seconds of evaluating the surface on ``points`` grid points."""
    cost = formula_cost(surface)
    return points * (GRID_OP_SECONDS * cost if cost else BUILTIN_GRID_SECONDS)


def data_seconds(row_steps: float, row_evaluations: float = 0, call_steps: float = 0) -> float:
    """CPU seconds of a model on data: ``row_steps`` data rows through a run step, ``row_evaluations``
    through a grid point, and ``call_steps`` steps of run calls (see
    :func:`lossviz.lessons.models_on_data.explore_work`)."""
    return row_steps * ROW_STEP_SECONDS + row_evaluations * ROW_EVAL_SECONDS + call_steps * CALL_SECONDS


def data_estimate(row_steps: float, row_evaluations: float = 0, call_steps: float = 0, *,
                  run_knobs: Sequence[Knob] = (), data_knobs: Sequence[Knob] = ()) -> Estimate:
    """The :class:`Estimate` of :func:`data_seconds`: ``run_knobs`` (steps, optimizers) scale the runs
    only, the grids stay; ``data_knobs`` (the rows) scale everything."""
    seconds = data_seconds(row_steps, row_evaluations, call_steps)
    share = data_seconds(row_steps, 0, call_steps) / seconds if seconds > 0 else 1.0
    return Estimate(seconds, knobs=(*(replace(k, share=share) for k in run_knobs), *data_knobs))


def _knob_factor(knob: Knob, estimate: Estimate) -> float:
    """How many times ``knob`` must shrink for the estimate to fit, the rest of the work staying."""
    room = SECONDS - (1.0 - knob.share) * estimate.seconds
    seconds = knob.share * estimate.seconds / room if room > 0 else math.inf
    return max(seconds, estimate.bytes / BYTES)


def runs(surface: Surface, steps: int, points: int, *knobs: tuple, calls: int = 1,
         grid_points: int = 0) -> Estimate:
    """The estimate of ``calls`` run calls advancing ``points`` runs in total for ``steps`` steps, plus a
    grid of ``grid_points`` values; proportional to ``knobs``, each ``(label, value[, lowest])``.

    >>> from lossviz import surfaces
    >>> work = runs(surfaces.get("quadratic"), 100, 300, ("steps", 100, 8), ("rates", 300))
    >>> [k.label for k in work.knobs], work.seconds == run_seconds(surfaces.get("quadratic"), 100, 1, 300)
    (['steps', 'rates'], True)
    """
    seconds = run_seconds(surface, steps, calls=calls, points=points) + grid_seconds(surface, grid_points)
    return Estimate(seconds, knobs=tuple(Knob(*knob) for knob in knobs))


def _lower_to(knob: Knob, factor: float) -> float:
    target = max(knob.lowest, knob.value / factor)
    return math.floor(target) if float(knob.value).is_integer() else float(f"{target:.2g}")


def _largest_fitting(knob: Knob, fits: Callable[[Knob, float], bool]) -> float | None:
    """The largest whole value of ``knob`` in [lowest, value) that ``fits``, by bisection; None if none."""
    low, high = int(math.ceil(knob.lowest)), int(knob.value) - 1
    if high < low or not fits(knob, low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(knob, middle) else (low, middle - 1)
    return low


def affordable(estimate: Estimate | Sequence[Estimate], container=None, *, jointly: bool = False,
               fits: Callable[[Knob, float], bool] | None = None) -> bool:
    """True if the work fits the budget; otherwise show what to lower (by how much) and return False.

    ``jointly``: when no setting alone can be lowered enough, name the first knobs to lower together
    (work that multiplies several settings, such as steps x network size) rather than only pointing to
    the sidebar. ``fits(knob, value)``: whether the whole work fits with that one whole-numbered knob
    lowered to ``value`` (the page's own estimate, re-evaluated); when given, the value advised is the
    largest that fits, instead of the value scaled down in proportion.
    """
    if not isinstance(estimate, Estimate):
        total = Estimate(0.0)
        for part in estimate:
            total = total + part
        estimate = total
    factor = estimate.factor
    if factor <= 1.0:
        return True
    if fits is None:  # each knob lowered by what its share of the work needs (Knob.share)
        shrink = {k.label: _knob_factor(k, estimate) for k in estimate.knobs}
        ways = [f"{k.label} from {k.value:g} to {_lower_to(k, shrink[k.label]):g}" for k in estimate.knobs
                if k.value / shrink[k.label] >= k.lowest]
    else:
        lowered = [(k, _largest_fitting(k, fits)) for k in estimate.knobs]
        ways = [f"{k.label} from {k.value:g} to {v:g}" for k, v in lowered if v is not None]
    what = (f"about {estimate.seconds:.3g} s of the server's time"
            if estimate.seconds / SECONDS >= estimate.bytes / BYTES
            else f"about {estimate.bytes / 2**20:,.0f} MB of memory")
    advice = ("Lower " + ways[0] + (" (or " + "; or ".join(ways[1:3]) + ")" if len(ways) > 1 else "") + "."
              if ways else "Lower the settings listed in the sidebar.")
    if not ways and jointly and estimate.knobs:
        names = [k.label for k in estimate.knobs[:3]]
        advice = (f"Lower {', '.join(names[:-1])} and {names[-1]} together: no one of them alone is enough."
                  if len(names) > 1 else f"Lower {names[0]}.")
    text.notice(f"This picture would take {what}, {factor:.1f} times what one page may use, so it was not "
                f"computed. {advice}", "error", container)
    return False
