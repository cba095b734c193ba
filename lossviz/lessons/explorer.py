"""The Surface Explorer's lesson: an optimizer race on a 2-D surface, and its classroom scenarios.

:func:`race` builds the optimizers and schedules from plain settings, runs each with its state recorded
(for the step inspector), and says in words how each run ended: reached a minimum, still on its way,
left the view, or diverged and why. A :class:`Scenario` is every setting at once and the lesson it
shows, plain data that the page, the link and the tests read the same way; the tests run each one and
check that what its text claims really happens.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lossviz import analysis, optimizers, schedules, tuning
from lossviz._validation import check_array, check_choice, check_int
from lossviz.run import Trajectory, run
from lossviz.settings import OptimizerSetting, build_optimizer, build_schedule
from lossviz.surfaces import Surface

__all__ = [
    "RaceEntry", "race", "MAX_RACERS", "Minima", "find_minima", "default_lr", "default_hyperparameters",
    "tune", "lr_frames", "LR_MULTIPLIERS", "Scenario", "SCENARIOS", "SPARE_RACERS",
    "get", "names",
]

MAX_RACERS = 6
MAX_STEPS = 10_000
# How far outside the view a path may go before it counts as having left it (a fraction of the view).
VIEW_MARGIN = 0.5


@dataclass(frozen=True, eq=False)
class RaceEntry:
    """One optimizer's result.

    trajectory : Trajectory with params (T+1, 2), loss, grad_norm, lr, grads and states recorded.
    distance : (T+1,) distance to the nearest known global minimum, or None when there is none.
    left_view_at : first step outside the view (grown by half its size on each side) after being in
        it, -1 if never.
    verdict : one or two sentences on how the run ended; ok : whether that ending is a good one (reached
        a minimum, or still on its way inside the view), for the colour it is shown in.
    """

    label: str
    setting: OptimizerSetting
    optimizer: optimizers.Optimizer
    schedule: schedules.Schedule | None
    trajectory: Trajectory
    distance: np.ndarray | None
    left_view_at: int
    verdict: str
    ok: bool = True


def _outside(xy: np.ndarray, domain: tuple[tuple[float, float], tuple[float, float]],
             margin: float) -> np.ndarray:
    box = np.asarray(domain, dtype=float)
    pad = margin * (box[:, 1] - box[:, 0])
    with np.errstate(invalid="ignore"):
        return (np.any((xy < box[:, 0] - pad) | (xy > box[:, 1] + pad), axis=1)
                & np.all(np.isfinite(xy), axis=1))


def _left_view(xy: np.ndarray, domain: tuple[tuple[float, float], tuple[float, float]]) -> int:
    """The first step at which a path that was in the view (grown by VIEW_MARGIN) is outside it, or -1."""
    outside = _outside(xy, domain, VIEW_MARGIN)
    inside = np.flatnonzero(~outside & np.all(np.isfinite(xy), axis=1))
    if not inside.size:
        return -1
    hits = np.flatnonzero(outside[inside[0]:])
    return int(hits[0] + inside[0]) if hits.size else -1


@dataclass(frozen=True)
class Minima:
    """The minima a race is measured against: the surface's known global minimizers, or for a typed
    formula the lowest local minima found in the view (``found`` = True).

    points : (m, 2); value : their loss, or None when there is none in the view.
    """

    points: np.ndarray
    value: float | None
    found: bool = False

    @property
    def words(self) -> str:
        return "lowest minimum found in the view" if self.found else "global minimum"


def find_minima(surface: Surface, starts_per_side: int = 5) -> Minima:
    """The surface's known minima, or the lowest local minima a multi-start Newton search finds in the view.

    A typed formula states no minimum; :func:`lossviz.analysis.find_local_minimum` is run from a
    ``starts_per_side`` x ``starts_per_side`` lattice over the view, and the minimizers inside the view
    whose value is within 1e-9 (relative) of the lowest one found are kept.

    >>> from lossviz import expr
    >>> m = find_minima(expr.parse("x^2 + 10*y^2"))
    >>> m.points.round(6).tolist(), m.found
    ([[0.0, 0.0]], True)
    """
    if len(surface.minima):
        return Minima(surface.minima, surface.min_value)
    (x_lo, x_hi), (y_lo, y_hi) = surface.domain
    found: list[np.ndarray] = []
    for x in np.linspace(x_lo, x_hi, starts_per_side + 2)[1:-1]:
        for y in np.linspace(y_lo, y_hi, starts_per_side + 2)[1:-1]:
            try:
                point = analysis.find_local_minimum(surface, [x, y], max_iter=200)
            except ValueError:
                continue
            if not _outside(point[None], surface.domain, 0.0)[0]:
                found.append(point)
    if not found:
        return Minima(np.zeros((0, 2)), None, found=True)
    points = np.array(found)
    values = np.asarray(surface.f(points), dtype=float)
    best = float(np.nanmin(values))
    keep = points[values <= best + 1e-9 * max(1.0, abs(best))]
    width = max(x_hi - x_lo, y_hi - y_lo)
    distinct: list[np.ndarray] = []
    for point in keep:
        if all(np.linalg.norm(point - other) > 1e-6 * width for other in distinct):
            distinct.append(point)
    return Minima(np.array(distinct), best, found=True)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _verdict(surface: Surface, entry_optimizer: optimizers.Optimizer, traj: Trajectory,
             distance: np.ndarray | None, left_view_at: int, minima: Minima) -> tuple[str, bool]:
    """The run's ending in words, and whether it ended well (reached, or on its way inside the view)."""
    if traj.diverged_at >= 0:
        return analysis.explain_divergence(surface, entry_optimizer, traj), False
    final_loss = float(traj.loss[-1])
    tolerance = 1e-3 * max(1.0, max(b - a for a, b in surface.domain) / 10)
    if distance is not None and minima.value is not None and distance[-1] < tolerance:
        reached = int(np.argmax(distance < tolerance))
        return (f"Reached the {minima.words} (within {tolerance:.2g}) at step {reached}; "
                f"final loss {final_loss:.4g}."), True
    ends_outside = bool(_outside(traj.params[-1:], surface.domain, VIEW_MARGIN)[0])
    if left_view_at >= 0 and ends_outside:
        text = f"Left the view at step {left_view_at} (final loss {final_loss:.3g})."
        k = max(left_view_at - 1, 0)
        curvature = np.linalg.eigvalsh(surface.hessian(traj.params[k]))
        momentum = float(entry_optimizer.hyperparameters.get("momentum", 0.0))
        nesterov = bool(entry_optimizer.hyperparameters.get("nesterov", False))
        stable_limit = analysis.max_stable_lr(max(curvature[-1], 1e-300), momentum, nesterov)
        if entry_optimizer.name == "sgd" and traj.lr[k] > stable_limit:
            text += " " + analysis.explain_stability(float(traj.lr[k]), float(curvature[-1]), momentum,
                                                     nesterov)
        elif curvature[0] < 0:
            # Not an instability: the surface curves downward here and the path follows it.
            text += (f" The surface curves downward there (λ_min = {curvature[0]:.3g} < 0): the path slides "
                     "down a direction with no bottom, as it should.")
        return text, False
    outside_note = ""
    if bool(_outside(traj.params[:1], surface.domain, VIEW_MARGIN)[0]):
        outside_note = " It started outside the view" + (" and ends outside it." if ends_outside else ".")
    if distance is not None and minima.value is not None:
        gap = final_loss - minima.value
        return (f"Still {distance[-1]:.3g} from the nearest {minima.words} after {_steps(traj.n_steps)} "
                f"(loss {final_loss:.4g}: {gap:.3g} above the minimum's {minima.value:.4g})."
                f"{outside_note}"), not ends_outside
    what = "no minimum was found in the view" if minima.found else "this surface has no minimum to reach"
    text = f"Final loss {final_loss:.4g} after {_steps(traj.n_steps)}; {what}.{outside_note}"
    return text, not ends_outside


def race(
    surface: Surface,
    settings: Sequence[OptimizerSetting],
    start: Sequence[float],
    steps: int,
    minima: Minima | None = None,
) -> list[RaceEntry]:
    """Run each optimizer setting from ``start`` for ``steps`` steps on ``surface``.

    Parameters
    ----------
    surface : Surface
    settings : 1 to 6 OptimizerSetting
    start : (2,) start point (finite)
    steps : int in [1, 10000]
    minima : the minima to measure against (default :func:`find_minima` of the surface)

    Raises
    ------
    ValueError, TypeError
        A bad setting (the message names the optimizer slot, the parameter, its value and the range).
    """
    if not 1 <= len(settings) <= MAX_RACERS:
        raise ValueError(f"settings must hold 1 to {MAX_RACERS} optimizers, got {len(settings)}")
    steps = check_int(steps, "steps", low=1, high=MAX_STEPS)
    x0 = check_array(start, "start", ndim=1, last_dim=2)
    minima = find_minima(surface) if minima is None else minima
    entries = []
    for index, setting in enumerate(settings):
        label = setting.label or f"{index + 1}. {setting.name}"
        try:
            optimizer = build_optimizer(setting)
            schedule = build_schedule(setting, optimizer, steps)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"optimizer {index + 1} ({setting.name}): {exc}") from None
        traj = run(surface, optimizer, x0, steps, schedule, record_grads=True, record_state=True)
        distance = None
        if len(minima.points):
            with np.errstate(invalid="ignore"):
                distance = np.min(np.linalg.norm(traj.params[:, None, :] - minima.points[None], axis=-1),
                                  axis=1)
            distance.flags.writeable = False
        left = _left_view(traj.params, surface.domain)
        verdict, ok = _verdict(surface, optimizer, traj, distance, left, minima)
        entries.append(RaceEntry(label, setting, optimizer, schedule, traj, distance, left, verdict, ok))
    return entries


# The scrubber's learning-rate multipliers: 25 log-spaced from a tenth to ten times, 1 among them.
LR_MULTIPLIERS = np.round(np.logspace(-1.0, 1.0, 25), 6)


def lr_frames(surface: Surface, settings: Sequence[OptimizerSetting], start: Sequence[float], steps: int,
              multipliers: Sequence[float] = tuple(LR_MULTIPLIERS)) -> np.ndarray:
    """Every racer's path at every multiple of its learning rate: shape (racers, M, steps + 1, 2).

    One :func:`lossviz.run.run` call per racer, its lr (and the schedule's base rate) a per-run array of
    M values, so a page can replay any of them in the browser. A run that diverges is NaN from there.

    >>> from lossviz import surfaces
    >>> frames = lr_frames(surfaces.get("quadratic"), [OptimizerSetting("sgd", {"lr": 0.5})], (1.0, 1.0), 10)
    >>> frames.shape
    (1, 25, 11, 2)
    """
    factors = np.asarray(multipliers, dtype=float)
    x0 = np.tile(check_array(start, "start", ndim=1, last_dim=2), (factors.size, 1))
    out = np.full((len(settings), factors.size, steps + 1, 2), np.nan)
    for index, setting in enumerate(settings):
        lr = float(setting.hyperparameters.get("lr", optimizers.get(setting.name).hyperparameters["lr"]))
        scaled = replace(setting, hyperparameters={**setting.hyperparameters, "lr": lr * factors})
        optimizer = build_optimizer(scaled)
        with np.errstate(all="ignore"):
            traj = run(surface, optimizer, x0, steps, build_schedule(scaled, optimizer, steps))
        out[index] = traj.params
    out.flags.writeable = False
    return out


def tune(surface: Surface, settings: Sequence[OptimizerSetting], start: Sequence[float], steps: int,
         n_rates: int = tuning.DEFAULT_RATES) -> list[tuple[OptimizerSetting, tuning.LrSweep]]:
    """A fair race: each racer at its own best learning rate, found by one vectorized sweep per racer.

    Every other setting (momentum, betas, schedule, clipping) stays; the rate with the lowest final loss
    after ``steps`` steps from ``start`` among ``n_rates`` log-spaced rates (1e-5 to 10) wins, ties to the
    larger; a racer whose every rate diverges keeps its own. Returns ``(tuned setting, sweep)`` per racer.

    >>> from lossviz import surfaces
    >>> ((setting, sweep),) = tune(surfaces.get("rosenbrock"), [OptimizerSetting("adam")], (-1.5, 2.0), 60)
    >>> setting.hyperparameters["lr"] == sweep.best_lr, sweep.lrs.size
    (True, 64)
    """
    rates = tuning.lr_grid(n=n_rates)
    out = []
    for setting in settings:
        others = {k: v for k, v in setting.hyperparameters.items() if k != "lr"}
        schedule = None
        if setting.schedule != "constant" or setting.schedule_params.get("warmup_steps"):
            params = dict(setting.schedule_params)
            if setting.schedule == "onecycle":
                params.setdefault("total_steps", max(steps, 1))
            schedule = (setting.schedule, params)
        with np.errstate(all="ignore"):
            sweep = tuning.tune_lr(surface, setting.name, check_array(start, "start", ndim=1), steps,
                                   hyperparameters=others, lrs=rates, schedule=schedule)
        lr = sweep.best_lr if sweep.best_index >= 0 else setting.hyperparameters.get("lr")
        tuned = replace(setting, hyperparameters={**setting.hyperparameters, "lr": float(lr)},
                        label=(f"{setting.label} → tuned lr {float(lr):.3g}" if setting.label
                               else setting.label))
        out.append((tuned, sweep))
    return out


# How each optimizer's lr is read: a step on the gradient (gd), or a step length the optimizer normalizes
# to (step; sign methods move lr along every coordinate); Adagrad's shrinks like 1/sqrt(t) and Adadelta's
# starts at about sqrt(eps); Newton and L-BFGS scale a step that already has the curvature in it.
_LR_FAMILY = {"sgd": "gd", "radam": "gd", "asgd": "gd", "schedule_free_sgd": "gd", "sam": "sam",
              "adagrad": "adagrad", "adadelta": "adadelta", "newton": "newton", "lbfgs": "lbfgs",
              "lion": "sign", "signsgd": "sign"}
# Besides the rate: Newton that is not drawn into saddles (a plain Newton step goes to the nearest
# stationary point, a maximum or a saddle too), damped; L-BFGS in short outer steps that keep going on a
# nearly flat plateau (torch's tolerances would stop it there at once).
_EXTRA_DEFAULTS = {"newton": {"saddle_free": True, "damping": 0.1},
                   "lbfgs": {"max_iter": 5, "tolerance_change": 1e-15, "tolerance_grad": 1e-15}}


def _curvature_scale(surface: Surface, start: np.ndarray) -> float:
    """The largest |Hessian eigenvalue| over the box a race crosses (start to the nearest minimum), or over
    the whole view for a surface without one."""
    minima = surface.minima
    if len(minima):
        target = minima[int(np.argmin(np.linalg.norm(minima - start, axis=1)))]
        low, high = np.minimum(start, target), np.maximum(start, target)
        pad = 0.25 * (high - low) + 0.1
        low, high = low - pad, high + pad
    else:
        low, high = np.array([a for a, _ in surface.domain]), np.array([b for _, b in surface.domain])
    grid = np.stack(np.meshgrid(np.linspace(low[0], high[0], 21), np.linspace(low[1], high[1], 21)), -1)
    with np.errstate(all="ignore"):
        eigenvalues = np.linalg.eigvalsh(surface.hessian(grid.reshape(-1, 2)))
    largest = float(np.nanmax(np.abs(eigenvalues))) if np.isfinite(eigenvalues).any() else 1.0
    return largest if largest > 0 else 1.0


def default_lr(surface: Surface, optimizer: str, start: Sequence[float] | None = None) -> float:
    """A learning rate with which ``optimizer`` heads for a minimum from ``start`` without blowing up.

    Gradient-step methods get 1/λ where λ is the largest curvature on the way (half the stability limit
    2/λ; a tenth of 1/λ on a surface without a minimum, where the slope only steepens); methods whose
    step length is about the learning rate (Adam, RMSprop, sign methods) get a twentieth of the distance
    to the nearest minimum. Tested on every surface with every optimizer (tests/test_explorer.py).

    >>> from lossviz import surfaces
    >>> round(default_lr(surfaces.get("quadratic", condition_number=10.0), "sgd"), 6)
    1.0
    """
    point = np.asarray(surface.default_start if start is None else start, dtype=float)
    minima = surface.minima
    if len(minima):
        distance = float(np.min(np.linalg.norm(minima - point, axis=1)))
    else:
        distance = 0.25 * min(b - a for a, b in surface.domain)
    distance = max(distance, 1e-3 * max(b - a for a, b in surface.domain))
    family = _LR_FAMILY.get(optimizer, "step")
    if family in ("gd", "sam"):
        rate = ((1.0 if len(minima) else 0.1) / _curvature_scale(surface, point)
                / (2.0 if family == "sam" else 1.0))
    else:
        rate = {"adagrad": 0.3 * distance, "adadelta": 10.0 * distance, "newton": 0.5, "lbfgs": 0.05,
                "sign": 0.02 * distance}.get(family, 0.05 * distance)
    return float(f"{rate:.2g}")  # a number a teacher can read out


def default_hyperparameters(surface: Surface, optimizer: str, start: Sequence[float] | None = None) -> dict:
    """What the Explorer sets for ``optimizer`` on ``surface`` from ``start``: :func:`default_lr` and, for
    Newton and L-BFGS, the settings that keep them heading for a minimum (else the reference's defaults).

    >>> from lossviz import surfaces
    >>> default_hyperparameters(surfaces.get("rosenbrock"), "newton")
    {'lr': 0.5, 'saddle_free': True, 'damping': 0.1}
    """
    return {"lr": default_lr(surface, optimizer, start), **_EXTRA_DEFAULTS.get(optimizer, {})}


@dataclass(frozen=True)
class Scenario:
    title: str
    surface: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[OptimizerSetting, ...]
    explanation: str
    surface_params: dict = field(default_factory=dict)
    tune: bool = False

    @property
    def settings(self) -> dict:
        """The scenario as the page's link values; ``optimizers`` holds the racers' settings."""
        return {"surface": self.surface, "x0": self.start[0], "y0": self.start[1], "steps": self.steps,
                "racers": len(self.optimizers), "optimizers": self.optimizers, "tune": self.tune,
                "kappa": self.surface_params.get("condition_number", 10.0),
                "rotation": self.surface_params.get("rotation", 30.0)}


# What a race adds when a racer is added beyond a scenario's: distinct, useful optimizers, in this order.
SPARE_RACERS = (
    OptimizerSetting("sgd"),
    OptimizerSetting("sgd", {"momentum": 0.9}),
    OptimizerSetting("adam"),
    OptimizerSetting("rmsprop"),
    OptimizerSetting("sgd", {"momentum": 0.9, "nesterov": True}),
    OptimizerSetting("adagrad"),
)


SCENARIOS: dict[str, Scenario] = {
    "ravine": Scenario(
        title="Ravine: plain GD zig-zags, momentum glides",
        surface="quadratic",
        surface_params={"condition_number": 50.0, "rotation": 0.0},
        start=(-2.8, 2.0),
        steps=60,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 1.8}, label="GD"),
            OptimizerSetting("sgd", {"lr": 1.8, "momentum": 0.5}, label="GD + momentum 0.5"),
        ),
        explanation=(
            "The bowl is 50 times steeper across the ravine than along it. With a learning rate near "
            "the stability limit across (2/λ_max = 2), plain gradient descent bounces from wall to wall "
            "while it crawls along the floor. Momentum averages the bounces away and keeps the speed "
            "along the floor: after 60 steps its loss is hundreds of times lower."
        ),
    ),
    "too_large_lr": Scenario(
        title="Too large a learning rate diverges",
        surface="quadratic",
        surface_params={"condition_number": 10.0, "rotation": 30.0},
        start=(-2.5, 2.0),
        steps=40,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 1.9}, label="lr 1.9 (below 2/λ_max = 2)"),
            OptimizerSetting("sgd", {"lr": 2.1}, label="lr 2.1 (above 2/λ_max = 2)"),
        ),
        explanation=(
            "Gradient descent on a quadratic is stable only while lr × λ_max < 2; here λ_max = 1, so "
            "lr < 2. Just below, each step overshoots the valley less than the last; just above, each "
            "step overshoots more, and the path flies off."
        ),
    ),
    "adam_banana": Scenario(
        title="Adam in Rosenbrock's banana valley",
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=1000,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.001}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.0005, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.1}, label="Adam"),
        ),
        explanation=(
            "The valley floor is easy to find and hard to follow: its curvature across is hundreds of "
            "times its curvature along. Gradient descent must use a tiny step and creeps; Adam divides "
            "each coordinate by its own gradient scale and follows the curve to (1, 1)."
        ),
    ),
    "saddle": Scenario(
        title="Saddle point: GD stalls",
        surface="saddle",
        start=(-2.0, 1e-4),
        steps=60,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.05}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.05, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.05}, label="Adam"),
        ),
        explanation=(
            "Started almost exactly on the ridge, gradient descent slides into the saddle at the origin "
            "where the gradient vanishes, and waits there for the tiny y component to grow. The surface "
            "has no minimum at all: every path eventually leaves down the y direction."
        ),
    ),
    "himmelblau_starts": Scenario(
        title="Many minima: the start decides (Himmelblau)",
        surface="himmelblau",
        start=(0.0, -3.0),
        steps=200,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.01}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.005, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.1}, label="Adam"),
        ),
        explanation=(
            "Himmelblau's function has four equally deep minima. From this start, three optimizers "
            "settle in three different ones: momentum and Adam's step sizes carry them over ridges that "
            "plain GD follows. Click elsewhere on the contour to move the start and watch the basins change."
        ),
    ),
    "rastrigin_trap": Scenario(
        title="Rastrigin: local minima trap every optimizer",
        surface="rastrigin",
        start=(3.2, -2.3),
        steps=300,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.002}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.002, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.05}, label="Adam"),
            OptimizerSetting("rmsprop", {"lr": 0.01}, label="RMSprop"),
        ),
        explanation=(
            "A bowl covered in ripples: a local minimum near every integer point. Local methods follow "
            "the nearest ripple down, and none of them reaches the global minimum at the origin."
        ),
    ),
    "newton_bowl": Scenario(
        title="Newton in one step on a bowl",
        surface="quadratic",
        surface_params={"condition_number": 50.0, "rotation": 30.0},
        start=(-2.5, 2.0),
        steps=20,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 1.0}, label="GD"),
            OptimizerSetting("newton", {"lr": 1.0}, label="Newton"),
        ),
        explanation=(
            "Newton's method divides the gradient by the curvature, direction by direction: on a quadratic "
            "bowl that is the exact way to the bottom, and it gets there in one step whatever the "
            "condition number. Gradient descent has one step size for both directions and must keep it "
            "below 2/λ_max, so along the flat floor it crawls: after 20 steps it is still far away."
        ),
    ),
    "newton_saddle": Scenario(
        title="Plain Newton walks into the saddle",
        surface="saddle",
        start=(-1.5, 0.5),
        steps=30,
        optimizers=(
            OptimizerSetting("newton", {"lr": 1.0}, label="Newton"),
            OptimizerSetting("newton", {"lr": 1.0, "saddle_free": True}, label="saddle-free Newton"),
            OptimizerSetting("sgd", {"lr": 0.05}, label="GD"),
        ),
        explanation=(
            "Newton's step goes to the point where the local quadratic model is flat, and that is any "
            "stationary point: here the saddle. Plain Newton lands exactly on it in one step and stays, "
            "gradient zero. Saddle-free Newton divides by the curvature's size instead of its sign, so "
            "along the downhill direction it keeps going down, as gradient descent does, only faster."
        ),
    ),
    "sign_steps": Scenario(
        title="Lion and sign descent move the same distance every step",
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=200,
        optimizers=(
            OptimizerSetting("lion", {"lr": 0.02}, label="Lion"),
            OptimizerSetting("signsgd", {"lr": 0.02}, label="sign descent with momentum (signum)"),
        ),
        explanation=(
            "Both keep only the sign of each coordinate of their (momentum-averaged) gradient, so every "
            "step moves each coordinate by exactly lr: a step of length lr·√2 here, steep wall or flat "
            "valley alike. Far from the minimum that is a fast, steady march; near it they cannot make "
            "smaller steps and rattle around it, at a distance set by lr."
        ),
    ),
    "lbfgs_rosenbrock": Scenario(
        title="L-BFGS: a handful of steps on Rosenbrock",
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=20,
        optimizers=(
            OptimizerSetting("lbfgs", {"lr": 1.0, "line_search_fn": "strong_wolfe"}, label="L-BFGS"),
            OptimizerSetting("adam", {"lr": 0.05}, label="Adam"),
            OptimizerSetting("sgd", {"lr": 0.0005, "momentum": 0.9}, label="GD + momentum"),
        ),
        explanation=(
            "L-BFGS builds a picture of the curvature from its last gradients and searches along its "
            "direction for a good step (strong Wolfe line search), evaluating the function several times "
            "per step: the small circles are those evaluations. Within five steps it is at (1, 1); Adam and "
            "momentum, one gradient per step, are still in the valley after twenty."
        ),
    ),
    "tuned_race": Scenario(
        title="Tuned race: who wins when everyone gets their best rate",
        surface="rosenbrock",
        start=(-1.5, 2.0),
        steps=60,
        optimizers=(
            OptimizerSetting("sgd", {"lr": 0.001}, label="GD"),
            OptimizerSetting("sgd", {"lr": 0.001, "momentum": 0.9}, label="GD + momentum"),
            OptimizerSetting("adam", {"lr": 0.001}, label="Adam"),
            OptimizerSetting("rmsprop", {"lr": 0.001}, label="RMSprop"),
            OptimizerSetting("lion", {"lr": 0.001}, label="Lion"),
            OptimizerSetting("adagrad", {"lr": 0.001}, label="Adagrad"),
        ),
        tune=True,
        explanation=(
            "Each racer first sweeps its own learning rate over 64 values (one vectorized run each) and "
            "races at the one with the lowest loss after 60 steps. With that, plain gradient descent ends "
            "lowest here, and Lion, whose steps have a fixed length, highest: a comparison at one shared, "
            "hand-picked rate says more about the rate than about the optimizers. The small chart shows "
            "how sharply each one's result depends on its rate."
        ),
    ),
}


def names() -> list[str]:
    return list(SCENARIOS)


def get(name: str) -> Scenario:
    return SCENARIOS[check_choice(name, "scenario", SCENARIOS)]
