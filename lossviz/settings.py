"""Settings several lessons share: an optimizer as plain data, and a named classroom scenario.

An :class:`OptimizerSetting` is what a page's optimizer controls produce and what a lesson builds an
optimizer and its schedule from (:func:`build_optimizer`, :func:`build_schedule`). It is plain data and
hashable, so it can key a cache directly.

    >>> from lossviz.settings import OptimizerSetting, build_optimizer
    >>> setting = OptimizerSetting("sgd", {"lr": 0.1, "momentum": 0.9}, label="heavy ball")
    >>> build_optimizer(setting).hyperparameters["momentum"]
    0.9
    >>> hash(setting) == hash(OptimizerSetting("sgd", {"momentum": 0.9, "lr": 0.1}, label="heavy ball"))
    True
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lossviz import optimizers, schedules

__all__ = ["OptimizerSetting", "build_optimizer", "build_schedule", "LessonScenario"]


def _frozen(mapping: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in mapping.items()))


@dataclass(frozen=True)
class OptimizerSetting:
    """One optimizer: registry name, torch-named hyperparameters, optional schedule, legend label.

    Equal settings hash equal (the mappings are compared by content, in any order), so a setting keys
    a cache as it is. ``schedule_params`` may hold ``warmup_steps`` for a linear warm-up.
    """

    name: str
    hyperparameters: dict = field(default_factory=dict)
    schedule: str = "constant"
    schedule_params: dict = field(default_factory=dict)
    label: str = ""

    def _key(self) -> tuple:
        return (self.name, _frozen(self.hyperparameters), self.schedule, _frozen(self.schedule_params),
                self.label)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OptimizerSetting) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def build_optimizer(setting: OptimizerSetting) -> optimizers.Optimizer:
    """The optimizer a setting names (ValueError/TypeError naming a bad hyperparameter)."""
    return optimizers.get(setting.name, **setting.hyperparameters)


def build_schedule(setting: OptimizerSetting, optimizer: optimizers.Optimizer,
                   steps: int) -> schedules.Schedule | None:
    """The setting's schedule with the optimizer's lr as base_lr, or None for a constant rate."""
    params = dict(setting.schedule_params)
    if setting.schedule == "constant" and not params.get("warmup_steps"):
        return None
    if setting.schedule == "onecycle":
        params.setdefault("total_steps", max(steps, 1))
        params.setdefault("max_lr", optimizer.hyperparameters["lr"])
        return schedules.get("onecycle", **params)
    return schedules.get(setting.schedule, base_lr=optimizer.hyperparameters["lr"], **params)


@dataclass(frozen=True)
class LessonScenario:
    """A named set of page settings and the lesson they show (plain data: the page, the URL and the tests
    read the same thing). ``settings`` keys are the page's setting names."""

    title: str
    settings: dict
    explanation: str
