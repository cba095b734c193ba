"""A fair race: every optimizer at its own best learning rate, found by one vectorized sweep.

Comparing optimizers at one hand-picked rate favours whichever that rate suits. :func:`tune_lr` sweeps
the learning rate over a log-spaced grid in a single :func:`lossviz.run.run` call (lr as a per-run array,
so 64 rates cost about what 64 parameters of one run would), scores each rate by its final loss (a run
that diverged scores ``inf``) and picks the rate with the lowest; ties go to the larger rate, the one
that gets there faster. :func:`tune_race` does it for several optimizers.

>>> import numpy as np
>>> from lossviz import surfaces
>>> from lossviz.tuning import tune_lr
>>> sweep = tune_lr(surfaces.get("rosenbrock"), "adam", np.array([-1.5, 2.0]), 60)
>>> sweep.lrs.shape, bool(np.isfinite(sweep.best_lr))
((64,), True)
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossviz import optimizers, schedules
from lossviz._validation import check_array, check_choice, check_int, check_scalar
from lossviz.run import DEFAULT_DIVERGENCE_THRESHOLD, Trajectory, run

__all__ = ["DEFAULT_HIGH", "DEFAULT_LOW", "DEFAULT_RATES", "LrSweep", "lr_grid", "tune_lr", "tune_race"]

DEFAULT_LOW = 1e-5
DEFAULT_HIGH = 10.0
DEFAULT_RATES = 64


@dataclass(frozen=True, eq=False)
class LrSweep:
    """One optimizer's learning-rate sweep.

    Attributes
    ----------
    optimizer : str
        The registry name.
    hyperparameters : dict
        The settings every rate shared (without ``lr``).
    lrs : ndarray, shape (N,)
        The rates tried, ascending.
    final_loss : ndarray, shape (N,)
        The loss after the last step for each rate; ``inf`` where the run diverged (or ended non-finite).
    best_index : int
        Index of the chosen rate in ``lrs``: the lowest final loss, ties to the larger rate; -1 when every
        rate diverged.
    trajectory : Trajectory or None
        The sweep's runs (R = N), when kept.
    """

    optimizer: str
    hyperparameters: dict
    lrs: np.ndarray
    final_loss: np.ndarray
    best_index: int
    trajectory: Trajectory | None = field(default=None, repr=False)

    @property
    def best_lr(self) -> float:
        """The chosen rate (NaN when every rate diverged)."""
        return float(self.lrs[self.best_index]) if self.best_index >= 0 else float("nan")

    @property
    def best_loss(self) -> float:
        """The chosen rate's final loss (inf when every rate diverged)."""
        return float(self.final_loss[self.best_index]) if self.best_index >= 0 else float("inf")

    @property
    def diverged(self) -> np.ndarray:
        """Whether each rate's run diverged, shape (N,)."""
        return ~np.isfinite(self.final_loss)

    def settings(self) -> dict:
        """``hyperparameters`` with the chosen ``lr``: ``optimizers.get(sweep.optimizer, **sweep.settings())``
        builds the tuned optimizer."""
        if self.best_index < 0:
            raise ValueError(f"every learning rate diverged for {self.optimizer}: there is no best rate")
        return {**self.hyperparameters, "lr": self.best_lr}


def lr_grid(low: float = DEFAULT_LOW, high: float = DEFAULT_HIGH, n: int = DEFAULT_RATES) -> np.ndarray:
    """``n`` log-spaced learning rates from ``low`` to ``high`` (both included), ascending.

    >>> lr_grid(1e-3, 1e-1, 3)
    array([0.001, 0.01 , 0.1  ])
    """
    low = check_scalar(low, "low", low=0.0, include_low=False)
    high = check_scalar(high, "high", low=low)
    n = check_int(n, "n", low=1, high=100_000)
    return np.geomspace(low, high, n)


def _chosen(final_loss: np.ndarray) -> int:
    """Index of the lowest final loss, the last (largest rate) among equals; -1 if none is finite."""
    finite = np.isfinite(final_loss)
    if not finite.any():
        return -1
    best = final_loss[finite].min()
    return int(np.flatnonzero(final_loss == best)[-1])


def tune_lr(
    objective: Any,
    optimizer: str,
    x0: object,
    steps: int,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    lrs: object = None,
    schedule: tuple[str, Mapping[str, Any]] | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    divergence_threshold: float = DEFAULT_DIVERGENCE_THRESHOLD,
    keep_trajectory: bool = False,
) -> LrSweep:
    """Sweep optimizer ``optimizer``'s learning rate in one vectorized :func:`lossviz.run.run` call.

    Parameters
    ----------
    objective : objective
        A surface or a model on data (anything :func:`lossviz.run.run` takes).
    optimizer : str
        A name from :func:`lossviz.optimizers.names`.
    x0 : array_like, shape (d,)
        The start every rate shares.
    steps : int
        Steps per run.
    hyperparameters : mapping, optional
        The optimizer's other settings (torch's names; scalars, shared by every rate); ``lr`` is refused.
    lrs : array_like, shape (N,), optional
        The rates to try (> 0); default :func:`lr_grid` (64 rates from 1e-5 to 10). Sorted ascending.
    schedule : (name, params), optional
        A schedule from :mod:`lossviz.schedules` built with each swept rate as its ``base_lr``
        (``onecycle`` sweeps ``max_lr``).
    batch_size, seed, divergence_threshold
        As in :func:`lossviz.run.run`.
    keep_trajectory : bool
        Keep the sweep's :class:`~lossviz.run.Trajectory` (R = N runs) in the result.

    Returns
    -------
    LrSweep
        ``lrs`` (N,), ``final_loss`` (N,) with ``inf`` for diverged runs, and the chosen rate
        (``best_lr``, ``best_index``): the lowest final loss, ties to the larger rate.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import surfaces
    >>> bowl = surfaces.get("quadratic", condition_number=10.0, rotation=0.0)
    >>> sweep = tune_lr(bowl, "sgd", np.array([1.0, 1.0]), 60, lrs=[0.1, 1.0, 2.5])
    >>> sweep.best_lr, int(sweep.diverged.sum())    # lambda_max = 1: above 2 / lambda_max it diverges
    (1.0, 1)
    """
    check_choice(optimizer, "optimizer", optimizers.names())
    settings = dict(hyperparameters or {})
    if "lr" in settings:
        raise ValueError("hyperparameters must not contain lr: tune_lr sweeps it (pass lrs= to choose the "
                         "rates)")
    for key, value in settings.items():
        if isinstance(value, np.ndarray) and value.ndim:
            raise ValueError(f"hyperparameters must be shared by every rate; {key} is an array of shape "
                             f"{value.shape}")
    rates = lr_grid() if lrs is None else np.sort(check_array(lrs, "lrs", ndim=1))
    if rates.size == 0 or np.any(rates <= 0):
        raise ValueError(f"lrs must be a non-empty array of learning rates > 0, got {rates!r}")
    start = check_array(x0, "x0", ndim=1)
    if schedule is None:
        built = optimizers.get(optimizer, **settings, lr=rates)
        sweep_schedule = None
    else:
        name, params = schedule
        built = optimizers.get(optimizer, **settings)
        if name == "onecycle":
            sweep_schedule = schedules.get(name, **{**params, "max_lr": rates})
        else:
            sweep_schedule = schedules.get(name, base_lr=rates, **params)
    traj = run(objective, built, start, steps, sweep_schedule, batch_size=batch_size, seed=seed,
               divergence_threshold=divergence_threshold)
    final = np.array(traj.loss[:, -1] if traj.batched else traj.loss[-1:], dtype=np.float64)
    diverged = np.atleast_1d(traj.diverged_at) >= 0
    final = np.where(diverged | ~np.isfinite(final), np.inf, final)
    return LrSweep(optimizer, settings, rates, final, _chosen(final), traj if keep_trajectory else None)


def tune_race(
    objective: Any,
    racers: Sequence[tuple[str, Mapping[str, Any]]],
    x0: object,
    steps: int,
    *,
    lrs: object = None,
    **options: Any,
) -> list[LrSweep]:
    """:func:`tune_lr` for each racer: one vectorized run per optimizer, every one on the same rates.

    Parameters
    ----------
    racers : sequence of (name, hyperparameters)
        Each optimizer with its other settings (without ``lr``).
    lrs : array_like, optional
        The rates every racer tries (default :func:`lr_grid`).
    **options
        Passed to :func:`tune_lr` (``schedule``, ``batch_size``, ...).

    Returns
    -------
    list of LrSweep
        In the racers' order; race them at ``sweep.settings()``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossviz import surfaces
    >>> sweeps = tune_race(surfaces.get("rosenbrock"), [("sgd", {"momentum": 0.9}), ("adam", {})],
    ...                    np.array([-1.5, 2.0]), 60)
    >>> [s.optimizer for s in sweeps], all(s.best_index >= 0 for s in sweeps)
    (['sgd', 'adam'], True)
    """
    rates = lr_grid() if lrs is None else lrs
    return [tune_lr(objective, name, x0, steps, hyperparameters=settings, lrs=rates, **options)
            for name, settings in racers]
