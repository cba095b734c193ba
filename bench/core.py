"""The speed benchmark: how long the figures the pages draw take to compute, against their targets.

Run ``python -m bench`` (or ``make bench``): it times every registered :class:`Case`, prints a
table and writes ``docs/BENCHMARKS.md`` with the date, the machine and, per figure, the median of the
repeats, the target and whether it is met (with the measured reason where it is not).

A case is a small recipe: ``prepare()`` builds the inputs outside the timer and returns a
:class:`Trial`, the timed ``work()`` and the ``check(result)`` that proves the work was real (shapes,
finite values, a value compared with an independent evaluation) and summarizes it for the table. Later
code adds rows with :func:`register`::

    >>> import numpy as np
    >>> import bench
    >>> def prepare():
    ...     values = np.arange(10**6, dtype=float)
    ...     return bench.Trial(work=lambda: values.sum(),
    ...                        check=lambda total: bench.Work(f"sum = {total:g}", {"sum": total}))
    >>> bench.register_figure(bench.Figure("z", "Example"))  # doctest: +SKIP
    >>> bench.register(bench.Case("sum of 10^6 floats", figure="z", prepare=prepare))  # doctest: +SKIP

Figures (and so table sections) are registered with :func:`register_figure`. Only this benchmark's
section of ``docs/BENCHMARKS.md`` is rewritten (:mod:`bench.report`), so the browser and load benchmarks
keep their own sections in the same file.

Timings are wall-clock (``time.perf_counter``) with the garbage collector paused, after warm-up runs;
the CPU time of the same repeats is reported next to them, because on a shared machine a wall time well
above the CPU time of single-threaded code means the process was waiting for a core, not working.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from bench import report
from lossviz import landscape, optimizers, surfaces
from lossviz.run import run

__all__ = [
    "Figure", "Case", "Trial", "Work", "Measurement", "CaseUnavailable", "BenchmarkError",
    "register", "register_figure", "cases", "figures", "measure", "benchmark", "machine_info",
    "render_markdown", "render_table", "write_report", "main",
    "DEFAULT_OUTPUT", "BEGIN_MARKER", "END_MARKER", "TABLE_HEADER",
]

DEFAULT_OUTPUT = Path("docs") / "BENCHMARKS.md"
SECTION = "bench-core"
BEGIN_MARKER, END_MARKER = report.markers(SECTION)
DEFAULT_REPEATS = 15
DEFAULT_WARMUP = 1
# A slow row gets fewer timed calls: as many as fit in this many seconds (judged by its warm-up), but at
# least MIN_REPEATS, so the full suite stays a few minutes on two cores.
TIME_BUDGET_SECONDS = 20.0
MIN_REPEATS = 7


class CaseUnavailable(Exception):
    """Raised by ``prepare()`` when a case cannot run here (e.g. a module it needs is missing)."""


class BenchmarkError(AssertionError):
    """Raised by ``check(result)`` when a case's result shows the timed work was not the work claimed."""


class Work(NamedTuple):
    """What one timed call did: a one-line ``summary`` for the table and ``facts`` for tests."""

    summary: str
    facts: dict[str, Any]


class Trial(NamedTuple):
    """What ``Case.prepare()`` returns: the ``work`` to time and the ``check`` of its result."""

    work: Callable[[], Any]
    check: Callable[[Any], Work]


@dataclass(frozen=True)
class Figure:
    """A section of the report: one figure a page draws, measured by one or more cases.

    Attributes
    ----------
    key : str
        Short id used by :attr:`Case.figure`, e.g. ``"a"``.
    title : str
    description : str
        What is computed, in a sentence or two.
    """

    key: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Case:
    """One row of the benchmark.

    Attributes
    ----------
    name : str
        Row label, unique.
    figure : str
        Key of the :class:`Figure` it belongs to.
    prepare : callable () -> Trial
        Builds the inputs (not timed) and returns the work to time with the check of its result, which
        raises :class:`BenchmarkError` if the result is not the claimed work and otherwise summarizes it.
        May raise :class:`CaseUnavailable`.
    target_seconds : float or None
        The median must be at most this; None for a row reported without a target.
    why_missed : str
        The measured reason the target is out of reach, printed only when the target is missed.
    threads : int
        How many threads the work spreads over (the models use two), so the report can tell a miss
        caused by waiting for cores (CPU time / threads within the target) from one caused by work.
    """

    name: str
    figure: str
    prepare: Callable[[], Trial]
    target_seconds: float | None = None
    why_missed: str = ""
    threads: int = 1


@dataclass(frozen=True)
class Measurement:
    """The timings of one case (seconds per repeat), or why it was not measured.

    ``wall`` and ``cpu`` hold one entry per timed repeat; ``round`` is the round (1-based) they come
    from when the suite ran several times (see :func:`benchmark`).
    """

    case: Case
    wall: tuple[float, ...] = ()
    cpu: tuple[float, ...] = ()
    work: Work | None = None
    skipped: str | None = None
    round: int = 1

    @property
    def median(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def best(self) -> float | None:
        return min(self.wall) if self.wall else None

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None

    @property
    def met(self) -> bool | None:
        """True or False against the target; None without a target or a measurement."""
        if self.case.target_seconds is None or self.median is None:
            return None
        return self.median <= self.case.target_seconds


_FIGURES: dict[str, Figure] = {}
_CASES: dict[str, Case] = {}


def register_figure(figure: Figure) -> Figure:
    """Add (or replace) a report section; sections appear in registration order."""
    _FIGURES[figure.key] = figure
    return figure


def register(case: Case) -> Case:
    """Add a row. Its figure must be registered first; names must be unique.

    Raises
    ------
    ValueError
        For an unknown figure key (the message lists the registered ones) or a duplicate name.
    """
    if case.figure not in _FIGURES:
        raise ValueError(f"figure must be one of {', '.join(_FIGURES)}, got {case.figure!r}; "
                         f"add it with register_figure first")
    if case.name in _CASES:
        raise ValueError(f"a case named {case.name!r} is already registered")
    if case.target_seconds is not None and not case.target_seconds > 0:
        raise ValueError(f"target_seconds must be > 0 or None, got {case.target_seconds!r}")
    _CASES[case.name] = case
    return case


def figures() -> list[Figure]:
    """Registered figures, in report order."""
    return list(_FIGURES.values())


def cases(only: str | None = None) -> list[Case]:
    """Registered cases grouped by figure (report order); ``only`` keeps names containing that text."""
    order = {key: i for i, key in enumerate(_FIGURES)}
    chosen = [c for c in _CASES.values() if only is None or only.lower() in c.name.lower()]
    return sorted(chosen, key=lambda c: order[c.figure])  # sorted is stable: registration order within


# ------------------------------------------------------------------------------------------- measuring
def measure(case: Case, repeats: int = DEFAULT_REPEATS, warmup: int = DEFAULT_WARMUP) -> Measurement:
    """Time ``case``: ``warmup`` untimed calls, then up to ``repeats`` timed ones; check the last result.

    After a warm-up, a row whose call takes long gets ``max(MIN_REPEATS, TIME_BUDGET_SECONDS / t)``
    timed calls instead (never more than ``repeats``).
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    try:
        work, check = case.prepare()
    except CaseUnavailable as exc:
        return Measurement(case, skipped=str(exc))
    warmup_seconds = 0.0
    for _ in range(warmup):
        start = time.perf_counter()
        work()
        warmup_seconds = time.perf_counter() - start
    if warmup and warmup_seconds > 0:
        repeats = min(repeats, max(MIN_REPEATS, int(TIME_BUDGET_SECONDS / warmup_seconds)))
    wall: list[float] = []
    cpu: list[float] = []
    result: Any = None
    for _ in range(repeats):
        result = None  # frees the previous result before the next call allocates its own
        gc.collect()
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            result = work()
            wall_stop, cpu_stop = time.perf_counter(), time.process_time()
        finally:
            if gc_was_enabled:
                gc.enable()
        wall.append(wall_stop - wall_start)
        cpu.append(cpu_stop - cpu_start)
    return Measurement(case, tuple(wall), tuple(cpu), check(result))


def benchmark(
    selected: Sequence[Case] | None = None,
    *,
    repeats: int = DEFAULT_REPEATS,
    warmup: int = DEFAULT_WARMUP,
    rounds: int = 1,
    progress: Callable[[Measurement], None] | None = None,
) -> list[Measurement]:
    """Measure every case (all registered ones by default), ``rounds`` times over.

    With several rounds the whole suite runs again from the start each round, and each row keeps the
    round with the lowest median: on a machine shared with other jobs a busy spell then spoils a row
    only if it hits every round.
    """
    chosen = cases() if selected is None else list(selected)
    best: dict[str, Measurement] = {}
    for round_number in range(1, rounds + 1):
        for case in chosen:
            m = replace(measure(case, repeats, warmup), round=round_number)
            if progress is not None:
                progress(m)
            kept = best.get(case.name)
            if kept is None or (m.median is not None and (kept.median is None or m.median < kept.median)):
                best[case.name] = m
    return [best[c.name] for c in chosen]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown (no /proc/cpuinfo)"


def _blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # show_config's layout is not a stable API; the report just omits the BLAS then
        return "unknown"


def _code_version() -> str:
    """The commit measured, and whether lossviz/ had uncommitted changes (other work in progress)."""
    package = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"commit {commit}" + (" with uncommitted changes under lossviz/" if changed else "")


def machine_info() -> dict[str, str]:
    """What the numbers depend on: cores, CPU model, OS, Python, NumPy and its BLAS, load, code version."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "cpu": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas(),
        "load": "unknown" if load is None else " / ".join(f"{x:.2f}" for x in load),
        "code": _code_version(),
    }


# ----------------------------------------------------------------------------------------------- report
def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def _verdict(m: Measurement) -> str:
    if m.skipped is not None:
        return m.skipped
    return {None: "no target", True: "yes", False: "**no**"}[m.met]


def _ratio(m: Measurement) -> str:
    return f"{m.median / m.case.target_seconds:.1f}x" if m.met is False else ""


TABLE_HEADER = "| Case | Work | n | Median | Best | CPU (median) | Target | Met |"


def render_table(measurements: Sequence[Measurement]) -> str:
    """The Markdown table of some measurements (header :data:`TABLE_HEADER`)."""
    rows = [TABLE_HEADER, "|---|---|---:|---:|---:|---:|---:|---|"]
    for m in measurements:
        target = "-" if m.case.target_seconds is None else f"<= {_ms(m.case.target_seconds)}"
        work = m.work.summary if m.work is not None else "-"
        rows.append(f"| {m.case.name} | {work} | {len(m.wall) or '-'} | {_ms(m.median)} | {_ms(m.best)} "
                    f"| {_ms(m.cpu_median)} | {target} | {_verdict(m)} |")
    return "\n".join(rows)


_WAITED = ("The CPU time{spread} is within the target: the rest of the wall time was spent waiting for "
           "{cores} (other jobs were running; see the load average above), not computing.")


def _waited(m: Measurement) -> bool:
    """Whether the work itself fits the target, so a miss came from waiting for cores."""
    return m.cpu_median is not None and m.cpu_median / m.case.threads <= m.case.target_seconds


def _missed_sentences(group: Sequence[Measurement]) -> list[str]:
    """One sentence per distinct reason, listing the rows it explains."""
    reasons: dict[str, list[Measurement]] = {}
    for m in group:
        if m.met is not False:
            continue
        if _waited(m):
            spread = (f" shared by its {m.case.threads} threads ({_ms(m.cpu_median / m.case.threads)} each)"
                      if m.case.threads > 1 else "")
            reason = _WAITED.format(spread=spread, cores="cores" if m.case.threads > 1 else "a core")
            if m.case.why_missed:
                reason += f" Where the CPU time goes: {m.case.why_missed}"
        else:
            reason = m.case.why_missed or "No reason has been measured yet."
        reasons.setdefault(reason, []).append(m)
    sentences = []
    for reason, rows in reasons.items():
        listing = ", ".join(f"{m.case.name} ({_ms(m.median)}, {_ratio(m)} the target)" for m in rows)
        noun = "target is" if len(rows) == 1 else "targets are"
        sentences.append(f"The {noun} missed by {listing}. {reason}")
    return sentences


def _summary(measurements: Sequence[Measurement]) -> list[str]:
    rows = ["| Figure | Rows with a target | Met | Not measured |", "|---|---:|---:|---:|"]
    for figure in figures():
        group = [m for m in measurements if m.case.figure == figure.key]
        if not group:
            continue
        targeted = [m for m in group if m.case.target_seconds is not None]
        met = sum(m.met is True for m in targeted)
        skipped = sum(m.skipped is not None for m in group)
        rows.append(f"| ({figure.key}) {figure.title} | {len(targeted)} | {met} | {skipped} |")
    return rows


def render_markdown(
    measurements: Sequence[Measurement],
    machine: dict[str, str],
    *,
    command: str,
    date: str,
    repeats: int,
    warmup: int,
    rounds: int,
    load_after: str = "",
) -> str:
    """The benchmark section of ``docs/BENCHMARKS.md`` (between the markers)."""
    lines = [
        BEGIN_MARKER,
        "# Benchmarks",
        "",
        f"Measured on **{date}** by `{command}` (regenerates this section; `make bench` runs the default).",
        "",
        f"- Machine: {machine['cores']}; CPU: {machine['cpu']}; {machine['os']}",
        f"- Python {machine['python']}, NumPy {machine['numpy']} (BLAS: {machine['blas']}); "
        f"lossviz at {machine['code']}; memory: freed blocks {machine.get('heap', 'system default')} "
        "(`keep_freed_memory`: the server's heap is warm, so the grids are not timed re-faulting pages)",
        f"- Load average (1 / 5 / 15 min) at the start: {machine['load']}"
        + (f"; at the end: {load_after}" if load_after else ""),
        f"- Method: per row, {warmup} untimed warm-up call(s), then **n** timed calls (at most {repeats}; a "
        f"slow row gets as many as fit in {TIME_BUDGET_SECONDS:g} s, at least {MIN_REPEATS}) with the "
        "garbage collector paused; **Median** is the figure compared with the target, **Best** the fastest "
        "call, **CPU** the median process CPU time (above the wall time when the model uses both cores; "
        "well below it when the process waited for a core)."
        + (f" The whole suite ran {rounds} times and each row keeps the round with the lowest median."
           if rounds > 1 else ""),
        "",
        *_summary(measurements),
        "",
    ]
    by_figure: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_figure.setdefault(m.case.figure, []).append(m)
    for figure in figures():
        group = by_figure.get(figure.key)
        if not group:
            continue
        lines += [f"## ({figure.key}) {figure.title}", ""]
        if figure.description:
            lines += [figure.description, ""]
        lines += [render_table(group), ""]
        targeted = [m for m in group if m.met is not None]
        if targeted:
            met = sum(bool(m.met) for m in targeted)
            lines += [f"{met} of {len(targeted)} target(s) met.", ""]
        for sentence in _missed_sentences(group):
            lines += [sentence, ""]
        for m in group:
            if m.skipped is not None:
                lines += [f"{m.case.name}: {m.skipped}.", ""]
    lines.append(END_MARKER)
    return "\n".join(lines) + "\n"


def write_report(section: str, path: Path | str) -> Path:
    """Write ``section`` (as :func:`render_markdown` returns it, markers included) into ``path``,
    replacing only this benchmark's section (:func:`bench.report.write_section`)."""
    body = section.replace(BEGIN_MARKER, "").replace(END_MARKER, "")
    report.write_section(path, SECTION, body)
    return Path(path)


# ------------------------------------------------------------------------------------------- the cases
GRID_RESOLUTION = 500
ROSENBROCK_START = np.array([-1.5, 2.0])
RACE_STEPS = 1000
# Hyperparameters that make each optimizer descend Rosenbrock from (-1.5, 2) without diverging in 1000
# steps, so the race times the steps a page really shows, not a run that stopped early on NaN.
RACE_SETTINGS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 1e-3, "momentum": 0.9},
    "adagrad": {"lr": 1.0},
    "rmsprop": {"lr": 1e-2},
    "adadelta": {"lr": 1.0},
    "adam": {"lr": 0.05},
    "adamw": {"lr": 0.05},
    "nadam": {"lr": 0.05},
    "radam": {"lr": 0.01},
    "adamax": {"lr": 0.1},
    "rprop": {"lr": 0.01},
    "asgd": {"lr": 1e-3},
    "adafactor": {"lr": 0.05},
    "lbfgs": {"lr": 1.0, "line_search_fn": "strong_wolfe"},
    "muon": {"lr": 0.02},
    "lion": {"lr": 0.01},
    "signsgd": {"lr": 0.01},
    "sam": {"lr": 1e-3},
    "schedule_free_sgd": {"lr": 1e-3},
    "schedule_free_adamw": {"lr": 0.05},
    "newton": {"lr": 0.5, "saddle_free": True, "damping": 0.1},
}
# The nine torch.optim classics the 50 ms race target was set for; the others are timed beside them.
CLASSIC = ("sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "radam", "adamax")
SWEEP_SIDE = 64
SWEEP_STEPS = 500
LOGISTIC_SAMPLES = 10_000
LOGISTIC_GRID = 200
LOGISTIC_TRUE_WEIGHTS = np.array([1.5, -2.0])
MLP_SAMPLES = 1000
MLP_HIDDEN = (32, 32)
LR_SWEEP_SIZE = 200
LR_SWEEP_STEPS = 500
LR_SWEEP_CONDITION = 100.0
LR_SWEEP_START = np.array([2.5, 2.0])

# Why a target is out of reach, as measured with process CPU time on this 2-core machine (NumPy 2.4,
# Python 3.11) while writing the benchmark; printed only when a target is missed. Costs of single NumPy
# operations on the 500x500 grid: a multiply 0.05-0.1 ms, exp 0.5 ms, sin or cos 2.2 ms (about 9 ns per
# float64 value), x**3 or x**4 0.6 ms for positive x but 14 ms when about half the x are negative (so
# surfaces writes powers as products), a sum over the length-2 last axis 3.7 ms.
_SURFACE_CAUSE_DEFAULT = "Its formula takes more than 5 ms of whole-grid NumPy operations."
_SINES = "`np.sin`/`np.cos` cost about 2.2 ms per 250,000 float64 values here (about 9 ns each)"
_SURFACE_CAUSES: dict[str, str] = {
    "rastrigin": (f"{_SINES}, and `rastrigin` takes one per coordinate, two per point (4.3 ms), before its "
                  "squares and sums: at the edge of 5 ms in float64 NumPy, whatever the code's shape."),
    "ackley": (f"{_SINES}, and `ackley` needs two per point (4.3 ms) plus a square root and two `expm1`: "
               "out of reach in float64 NumPy, whatever the code's shape."),
    "levi": (f"{_SINES}, and `levi` needs two per point (4.3 ms) plus its polynomial terms: at the edge of "
             "5 ms in float64 NumPy, whatever the code's shape."),
}
_PER_STEP_CAUSE = (
    "A step's cost here is the number of NumPy calls, not R: per step `run` calls Rosenbrock's gradient "
    "formula (about 4.4 us: a dozen NumPy operations at 0.3-0.4 us each on a 2-element array), the "
    "optimizer's update rule (1.6 us for SGD to 7.5 us for NAdam) and records both (about 1.5 us), 7-13 us "
    "a step, so the 9,000 steps take about 95 ms of CPU. The target leaves 5.6 us per step for all three, "
    "less than any update but SGD's plus the gradient: out of reach for a step loop in NumPy. The same "
    "loop advances 4,096 runs per step for little more (figure c)."
)
_SWEEP_CAUSE = (
    "Measured: about 100 ms of CPU, split between the 500-step loop (Rosenbrock's gradient and the SGD "
    "update with per-run lr and momentum, each a few passes over 8,192 values per step) and `run`'s "
    "`_finish` (scoring the 2 million recorded points, gradient norms, the divergence search and the NaN "
    "padding after divergence)."
)
_LOGISTIC_TRANSCENDENTALS = (
    "It is 40,000 x 10,000 = 4e8 logits, and in float64 each needs an `np.exp` and an `np.log1p` in "
    "`losses._softplus`, together 5-10 ns per value on this machine (about ten times their float32 cost); "
    "the whole call measured 2.2 s of CPU at best (5.5 ns per logit), over 1 s even on two free cores."
)
_LOGISTIC_CAUSES = {
    "float64": _LOGISTIC_TRANSCENDENTALS,
    "float32": (
        "The model forms the logits in float32, but `losses.Loss._prepare` converts `y_pred` back to "
        "float64 (`check_array(y_pred, \"y_pred\")`, whose default dtype is float64), so the loss, nearly "
        "all of the time, still runs float64 `exp` and `log1p` on all 4e8 logits (float32 ones measured "
        "about 0.6 ns each, against 5-10 ns for the pair in float64) and this row pays the conversions on "
        "top: it measured no faster than the float64 row."
    ),
}
_MLP_CAUSE = (
    "The forward pass is 10,201 x 1,000 x 1,218 = 1.2e10 multiply-adds and 6.5e8 tanh evaluations: "
    "the products at about 95 GFLOP/s (OpenBLAS's float32 peak here) take 0.23 s and the tanh 0.26 s of "
    "CPU, so the call needs about 0.65 s of CPU and meets 0.5 s only with both cores free of other work "
    "(0.35 s measured on a quiet machine, 0.6-0.7 s with one core taken). The loss is a float32 softplus "
    "of the logit difference, summed in float64."
)


def _surface_case(name: str) -> Case:
    def prepare() -> Trial:
        surface = surfaces.get(name)
        xs, ys = landscape.axes_for_domain(surface.domain, GRID_RESOLUTION)

        def check(Z: np.ndarray) -> Work:
            if Z.shape != (ys.size, xs.size):
                raise BenchmarkError(f"grid has shape {Z.shape}, expected {(ys.size, xs.size)}")
            # Single-point evaluations at corners and an off-diagonal point: rows follow y, columns x.
            for i, j in ((0, 0), (ys.size - 1, 0), (0, xs.size - 1), (ys.size // 3, xs.size // 7)):
                expected = float(surface.f(np.array([xs[j], ys[i]])))
                if not np.isclose(Z[i, j], expected, rtol=1e-12, atol=1e-12, equal_nan=True):
                    raise BenchmarkError(f"Z[{i}, {j}] = {Z[i, j]} but f(xs[{j}], ys[{i}]) = {expected}")
            finite = int(np.isfinite(Z).sum())
            return Work(f"{ys.size}x{xs.size} points, {finite:,} finite",
                        {"shape": Z.shape, "finite": finite})

        return Trial(lambda: landscape.grid(surface, xs, ys), check)

    return Case(name=f"grid {name}", figure="a", prepare=prepare, target_seconds=5e-3,
                why_missed=_SURFACE_CAUSES.get(name, _SURFACE_CAUSE_DEFAULT))


def _race_run(name: str, rosenbrock: surfaces.Surface) -> Callable[[], Any]:
    optimizer = optimizers.get(name, **RACE_SETTINGS[name])
    return lambda: run(rosenbrock, optimizer, ROSENBROCK_START, RACE_STEPS)


def _check_race_trajectory(name: str, traj: Any, surface: surfaces.Surface) -> None:
    if traj.loss.shape != (RACE_STEPS + 1,):
        raise BenchmarkError(f"{name}: loss has shape {traj.loss.shape}, expected ({RACE_STEPS + 1},)")
    if traj.diverged_at != -1:
        raise BenchmarkError(f"{name} diverged at step {traj.diverged_at}; use a smaller lr in RACE_SETTINGS")
    if not traj.loss[-1] < traj.loss[0]:
        raise BenchmarkError(f"{name} did not descend: loss {traj.loss[0]} -> {traj.loss[-1]}")
    if not np.isclose(traj.loss[-1], float(surface.f(traj.params[-1])), rtol=1e-12):
        raise BenchmarkError(f"{name}: recorded final loss does not match f at the final point")


def _race_case(name: str) -> Case:
    def prepare() -> Trial:
        rosenbrock = surfaces.get("rosenbrock")

        def check(traj: Any) -> Work:
            _check_race_trajectory(name, traj, rosenbrock)
            settings = ", ".join(f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}"
                                 for k, v in RACE_SETTINGS[name].items())
            return Work(f"{settings}: {traj.n_steps:,} steps, loss {traj.loss[0]:.3g} -> {traj.loss[-1]:.3g}",
                        {"steps": traj.n_steps, "runs": traj.n_runs, "final_loss": float(traj.loss[-1])})

        return Trial(_race_run(name, rosenbrock), check)

    return Case(name=f"race {name}", figure="b", prepare=prepare)


def _race_all_case(names: Sequence[str] = tuple(RACE_SETTINGS), target: float | None = None) -> Case:

    def prepare() -> Trial:
        rosenbrock = surfaces.get("rosenbrock")
        runs = [_race_run(name, rosenbrock) for name in names]

        def check(trajectories: list[Any]) -> Work:
            for name, traj in zip(names, trajectories, strict=True):
                _check_race_trajectory(name, traj, rosenbrock)
            steps = sum(t.n_steps for t in trajectories)
            return Work(f"{len(names)} optimizers x {RACE_STEPS:,} steps = {steps:,} steps",
                        {"optimizers": len(trajectories), "steps": steps})

        return Trial(lambda: [work() for work in runs], check)

    title = f"race: all {len(names)} optimizers" if len(names) == len(RACE_SETTINGS) else \
        f"race: the {len(names)} torch.optim classics"
    return Case(name=title, figure="b", prepare=prepare, target_seconds=target,
                why_missed=_PER_STEP_CAUSE if target else "")


TUNED_RATES, TUNED_STEPS = 64, 60


def _tuned_race_case() -> Case:
    """The Explorer's fair race: six racers, each swept over 64 rates in one run call, 60 steps."""
    def prepare() -> Trial:
        from lossviz.lessons import explorer

        scenario = explorer.get("tuned_race")
        surface = surfaces.get(scenario.surface)

        def check(pairs: list) -> Work:
            if len(pairs) != len(scenario.optimizers) or any(s.lrs.size != TUNED_RATES for _, s in pairs):
                raise BenchmarkError("the tuned race did not sweep 64 rates for every racer")
            return Work(f"{len(pairs)} optimizers x {TUNED_RATES} rates x {TUNED_STEPS} steps, one run call "
                        "each",
                        {"optimizers": len(pairs), "rates": TUNED_RATES, "steps": TUNED_STEPS})

        return Trial(lambda: explorer.tune(surface, scenario.optimizers, scenario.start, TUNED_STEPS,
                                           TUNED_RATES), check)

    return Case(name=f"tuned race: 6 optimizers x {TUNED_RATES} rates x {TUNED_STEPS} steps", figure="b",
                prepare=prepare, target_seconds=150e-3,
                why_missed="The target is the issue's: the tuned race may add at most 150 ms of server CPU.")


def _momentum_sweep_case() -> Case:
    def prepare() -> Trial:
        rosenbrock = surfaces.get("rosenbrock")
        lr_axis = np.geomspace(1e-5, 3e-3, SWEEP_SIDE)
        momentum_axis = np.linspace(0.0, 0.99, SWEEP_SIDE)
        lr, momentum = (a.ravel() for a in np.meshgrid(lr_axis, momentum_axis, indexing="ij"))
        optimizer = optimizers.get("sgd", lr=lr, momentum=momentum)
        n = SWEEP_SIDE * SWEEP_SIDE

        def check(traj: Any) -> Work:
            if traj.params.shape != (n, SWEEP_STEPS + 1, 2):
                expected = (n, SWEEP_STEPS + 1, 2)
                raise BenchmarkError(f"params have shape {traj.params.shape}, expected {expected}")
            if not np.array_equal(traj.lr[:, 0], lr):
                raise BenchmarkError("the sweep's runs did not use the requested learning rates")
            diverged = int((traj.diverged_at >= 0).sum())
            return Work(f"{traj.n_runs:,} runs x {traj.n_steps} steps, {diverged:,} diverged",
                        {"runs": traj.n_runs, "steps": traj.n_steps, "diverged": diverged})

        return Trial(lambda: run(rosenbrock, optimizer, ROSENBROCK_START, SWEEP_STEPS), check)

    return Case(name=f"sgd {SWEEP_SIDE}x{SWEEP_SIDE} (lr, momentum) on rosenbrock", figure="c",
                prepare=prepare, target_seconds=300e-3, why_missed=_SWEEP_CAUSE)


def _lr_sweep_case() -> Case:
    def prepare() -> Trial:
        quadratic = surfaces.get("quadratic", condition_number=LR_SWEEP_CONDITION)
        learning_rates = np.geomspace(1e-3, 2.5, LR_SWEEP_SIZE)
        optimizer = optimizers.get("sgd", lr=learning_rates)

        def check(traj: Any) -> Work:
            if traj.params.shape != (LR_SWEEP_SIZE, LR_SWEEP_STEPS + 1, 2):
                raise BenchmarkError(f"params have shape {traj.params.shape}")
            diverged = traj.diverged_at >= 0
            # Gradient descent on a quadratic whose largest Hessian eigenvalue is 1 is stable iff lr < 2.
            if np.any(diverged & (learning_rates < 1.9)) or not np.all(diverged[learning_rates > 2.1]):
                raise BenchmarkError("divergence does not follow the stability limit lr < 2 / lambda_max = 2")
            return Work(f"{traj.n_runs} runs x {traj.n_steps} steps, {int(diverged.sum())} diverged (lr > 2)",
                        {"runs": traj.n_runs, "steps": traj.n_steps, "diverged": int(diverged.sum())})

        return Trial(lambda: run(quadratic, optimizer, LR_SWEEP_START, LR_SWEEP_STEPS), check)

    return Case(name=f"sgd {LR_SWEEP_SIZE} learning rates on quadratic (kappa {LR_SWEEP_CONDITION:g})",
                figure="f", prepare=prepare)


# lossviz.models spreads a large evaluation over two threads when there are two cores.
_MODEL_THREADS = min(2, os.cpu_count() or 1)


def _models() -> Any:
    try:
        from lossviz import models
    except ImportError as exc:
        raise CaseUnavailable(f"not measured: models missing ({exc})") from None
    for needed in ("logistic_regression", "mlp"):
        if not hasattr(models, needed):
            raise CaseUnavailable(f"not measured: models missing (lossviz.models has no {needed})")
    return models


def _logistic_case(dtype: type) -> Case:
    precision = np.dtype(dtype).name

    def prepare() -> Trial:
        models = _models()
        rng = np.random.default_rng(0)
        X = rng.standard_normal((LOGISTIC_SAMPLES, 2))
        y = (rng.random(LOGISTIC_SAMPLES) < 1 / (1 + np.exp(-X @ LOGISTIC_TRUE_WEIGHTS))).astype(float)
        model = models.logistic_regression(X, y, fit_intercept=False)
        axis = np.linspace(-4.0, 4.0, LOGISTIC_GRID)
        w1, w2 = np.meshgrid(axis, axis)
        params = np.stack([w1.ravel(), w2.ravel()], axis=-1)
        n = params.shape[0]
        tolerance = 1e-9 if dtype == np.float64 else 1e-5

        def check(values: np.ndarray) -> Work:
            if values.shape != (n,) or not np.all(np.isfinite(values)):
                raise BenchmarkError(f"expected {n} finite losses, got shape {values.shape}")
            # Independent reference: mean binary cross-entropy with logits, log(1 + e^s) - y s.
            for index in (0, n // 2 + 17, n - 1):
                s = X @ params[index]
                reference = float(np.mean(np.logaddexp(0.0, s) - y * s))
                if not np.isclose(values[index], reference, rtol=tolerance):
                    raise BenchmarkError(f"loss at {params[index]} is {values[index]}, reference {reference}")
            best = params[np.argmin(values)]
            return Work(f"{n:,} weight pairs x {model.n_samples:,} samples, {precision}, minimum at "
                        f"({best[0]:.2f}, {best[1]:.2f})",
                        {"values": values.size, "samples": model.n_samples, "argmin": tuple(best)})

        return Trial(lambda: model.f(params, dtype=dtype), check)

    return Case(name=f"logistic regression {LOGISTIC_GRID}x{LOGISTIC_GRID}, {precision}", figure="d",
                prepare=prepare, target_seconds=500e-3, why_missed=_LOGISTIC_CAUSES[precision],
                threads=_MODEL_THREADS)


def _mlp_case(resolution: int, target: float | None) -> Case:
    def prepare() -> Trial:
        models = _models()
        from lossviz import datasets

        data = datasets.get("moons", n_samples=MLP_SAMPLES, noise=0.1, seed=0)
        model = models.mlp(data.X, data.y, hidden=MLP_HIDDEN)
        theta = model.init_params(seed=0)
        rng = np.random.default_rng(1)
        # Scaled to theta's norm, so a, b in [-1, 1] move by up to one |theta| along each direction.
        directions = rng.standard_normal((2, model.dim))
        directions *= np.linalg.norm(theta) / np.linalg.norm(directions, axis=1, keepdims=True)
        alphas = np.linspace(-1.0, 1.0, resolution)
        a, b = (g.ravel()[:, None] for g in np.meshgrid(alphas, alphas))
        n = resolution * resolution

        def work() -> np.ndarray:
            params = theta + a * directions[0] + b * directions[1]
            return model.f(params, dtype=np.float32)

        def check(values: np.ndarray) -> Work:
            if values.shape != (n,) or not np.all(np.isfinite(values)):
                raise BenchmarkError(f"expected {n} finite losses, got shape {values.shape}")
            center = float(model.f(theta))  # float64: the float32 grid must agree to about 1e-6
            if not np.isclose(values[n // 2], center, rtol=1e-4):
                raise BenchmarkError(f"grid centre {values[n // 2]} differs from f(theta) = {center}")
            widths = "-".join(str(w) for w in model.widths)
            return Work(f"{widths} (d = {model.dim:,}): {n:,} parameter vectors x {model.n_samples:,} "
                        f"samples, float32", {"values": n, "dim": model.dim, "samples": model.n_samples})

        return Trial(work, check)

    return Case(name=f"mlp 2-32-32-2 slice {resolution}x{resolution}", figure="e", prepare=prepare,
                target_seconds=target, why_missed=_MLP_CAUSE, threads=_MODEL_THREADS)


def _page_case(figure: str, name: str, work: Callable[[], Any], target: float | None, note: str) -> Case:
    """A row timing a page's own computation, as the module that owns it declares in ``benchmark_cases()``.

    The page modules build their inputs when asked (outside the timer) and return the figure's result;
    the check here only proves the call did real work: a finite grid for the slice, the runs for a sweep.
    """

    def prepare() -> Trial:
        def check(result: Any) -> Work:
            grid = getattr(result, "final_loss", None)
            values = np.asarray(result if grid is None else grid, dtype=float)
            if values.size == 0 or not np.isfinite(values).any():
                raise BenchmarkError(f"{name}: the result holds no finite value")
            return Work(f"{note.split(':')[0]}; result shape {values.shape}", {"values": values.size})

        return Trial(work, check)

    return Case(name=name, figure=figure, prepare=prepare, target_seconds=target,
                why_missed=note if target is not None else "", threads=_MODEL_THREADS)


def _register_page_cases() -> None:
    from bench.lessons import page_cases

    for figure, rows in page_cases():
        for name, work, target, note in rows:
            register(_page_case(figure, f"page: {name}", work, target, note))


def _register_builtin() -> None:
    register_figure(Figure(
        "a", f"Surface grids, {GRID_RESOLUTION}x{GRID_RESOLUTION}",
        f"`lossviz.landscape.grid(surface, xs, ys)` over each registered surface's default domain "
        f"({GRID_RESOLUTION * GRID_RESOLUTION:,} points, one vectorized call); the axes are built outside "
        f"the timer. Target: <= 5 ms per surface."))
    register_figure(Figure(
        "b", f"Optimizer race, {RACE_STEPS:,} steps from one start",
        "`lossviz.run.run` on Rosenbrock from (-1.5, 2), one call per optimizer with the settings shown "
        "(R = 1 run each). Target: <= 50 ms for all optimizers together (the `race: all` row)."))
    register_figure(Figure(
        "c", f"Momentum phase map: {SWEEP_SIDE}x{SWEEP_SIDE} (lr, momentum) sweep, {SWEEP_STEPS} steps",
        f"One `run` call advancing {SWEEP_SIDE * SWEEP_SIDE:,} SGD runs on Rosenbrock from (-1.5, 2), "
        f"lr log-spaced in [1e-5, 3e-3] and momentum in [0, 0.99] as arrays of shape "
        f"({SWEEP_SIDE * SWEEP_SIDE},); includes recording and scoring every point. Target: <= 300 ms."))
    register_figure(Figure(
        "d", "Logistic regression landscape",
        f"`lossviz.models.logistic_regression` (two weights, no intercept, binary cross-entropy with "
        f"logits) on {LOGISTIC_SAMPLES:,} samples; `f` on params of shape "
        f"({LOGISTIC_GRID * LOGISTIC_GRID}, 2) in one call: the float64 default and the model's float32 path "
        f"(`f(params, dtype=np.float32)`, checked against a float64 reference to 1e-5). Target: <= 500 ms."))
    register_figure(Figure(
        "e", "MLP loss slice",
        f"`lossviz.models.mlp` 2-32-32-2 (tanh, cross-entropy) on the {MLP_SAMPLES:,}-sample moons data, "
        f"evaluated on theta + a d1 + b d2 (random directions scaled to |theta|, a, b in [-1, 1]); the timer "
        f"covers building the parameter vectors and one `f(params, dtype=np.float32)` call: the model's "
        f"float32 forward pass, which its docstring pins to about 1e-6 relative error (the loss itself is "
        f"reduced in float64). Target: <= 0.5 s for 101x101; 51x51 has none."))
    register_figure(Figure(
        "f", "Learning-rate sweep",
        f"One `run` call: {LR_SWEEP_SIZE} SGD learning rates log-spaced in [1e-3, 2.5] on the "
        f"ill-conditioned quadratic (condition number {LR_SWEEP_CONDITION:g}), {LR_SWEEP_STEPS} steps; "
        f"for the \"Learning rate & decay\" page. No target."))
    for name in surfaces.names():
        register(_surface_case(name))
    for name in RACE_SETTINGS:
        register(_race_case(name))
    register(_race_all_case(CLASSIC, 50e-3))
    register(_race_all_case())
    register(_tuned_race_case())
    register(_momentum_sweep_case())
    register(_logistic_case(np.float64))
    register(_logistic_case(np.float32))
    register(_mlp_case(101, 0.5))
    register(_mlp_case(51, None))
    register(_lr_sweep_case())
    register_figure(Figure(
        "g", "The lesson pages' own calls",
        "Each row times the computation a page makes for one figure, exactly as the page calls it "
        "(`bench/lessons.py`); inputs are built outside the "
        "timer. The neural-net page's slice is row (e)'s `page:` rows."))
    _register_page_cases()


_register_builtin()


# ------------------------------------------------------------------------------------------------ CLI
def _print_row(m: Measurement) -> None:
    target = "" if m.case.target_seconds is None else f"<= {_ms(m.case.target_seconds)}"
    print(f"  [{m.round}] {m.case.name:<52} {_ms(m.median):>10} {_ms(m.best):>10} {_ms(m.cpu_median):>10} "
          f"{target:>12}  {_verdict(m)}", flush=True)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks up to 32 MB in the heap instead of returning them to the system.

    By default a freed multi-megabyte array goes back to the OS and the next call page-faults it in again:
    about 4 ms per 500x500 grid, more than the grid's arithmetic. The app is a long-running server whose
    heap stays warm, so the benchmark measures that state. Returns False where glibc is not available.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(libc.mallopt(m_trim_threshold, 256 << 20))


def main(argv: Sequence[str] | None = None) -> list[Measurement]:
    """Command line: ``python -m bench [--quick] [--output PATH] [--no-write] ...``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one timed call per case, no warm-up (checks the cases run; rough numbers)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"most timed calls per case (default {DEFAULT_REPEATS})")
    parser.add_argument("--warmup", type=int, default=None,
                        help=f"untimed calls first (default {DEFAULT_WARMUP})")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the suite this many times, keep each row's best median (shared machines)")
    parser.add_argument("--only", default=None, help="only cases whose name contains this text")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT),
                        help=f"report path (default {DEFAULT_OUTPUT})")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else DEFAULT_REPEATS)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else DEFAULT_WARMUP)
    if repeats < 1 or warmup < 0 or args.rounds < 1:
        parser.error(f"--repeats and --rounds must be >= 1 and --warmup >= 0, got repeats={repeats}, "
                     f"warmup={warmup}, rounds={args.rounds}")
    selected = cases(args.only)
    if not selected:
        parser.error(f"--only {args.only!r} matches no case; cases: {', '.join(c.name for c in cases())}")

    warm_heap = keep_freed_memory()
    machine = machine_info()
    machine["heap"] = "kept warm (glibc mallopt)" if warm_heap else "system default"
    print(f"lossviz benchmark: {machine['cores']}, {machine['cpu']}, Python {machine['python']}, "
          f"NumPy {machine['numpy']}, load {machine['load']}")
    print(f"  {'round / case':<56} {'median':>10} {'best':>10} {'CPU':>10} {'target':>12}  met", flush=True)
    measurements = benchmark(selected, repeats=repeats, warmup=warmup, rounds=args.rounds,
                             progress=_print_row)
    load_after = machine_info()["load"]
    if args.rounds > 1:
        print("Kept (best median per row):")
        for m in measurements:
            _print_row(m)
    if not args.no_write:
        command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
        section = render_markdown(measurements, machine, command=command,
                                  date=datetime.date.today().isoformat(), repeats=repeats, warmup=warmup,
                                  rounds=args.rounds, load_after=load_after)
        path = write_report(section, args.output)
        print(f"wrote {path}")
    return measurements


if __name__ == "__main__":
    main()
