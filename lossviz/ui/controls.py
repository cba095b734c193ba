"""Sidebar controls shared by pages: one optimizer slot (hyperparameters, schedule, warmup, clipping).

Each control's widget key is also its URL key (``o{slot}_{name}``), so :mod:`lossviz.ui.url` can seed
and write it. The optimizer defaults are torch's, read from the registry, never copied here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import streamlit as st

from lossviz import optimizers, schedules
from lossviz.settings import OptimizerSetting
from lossviz.ui import widgets
from lossviz.ui.url import Field, bool_field, choice_field, float_field, int_field, lazy, restore

__all__ = ["slot_fields", "optimizer_slot", "scenario_values", "expand", "slot_lr_keys", "active_keys", "LR_MAX"]

LR_MAX = 100.0


@dataclass(frozen=True)
class Knob:
    """A hyperparameter's widget: 'number', 'fraction' (slider in [0, 0.999]), 'flag' or 'eps'."""

    name: str
    label: str
    kind: str
    high: float = 1e3


KNOBS = {
    "lr": Knob("lr", "learning rate (lr)", "number", LR_MAX),
    "momentum": Knob("momentum", "momentum", "fraction"),
    "dampening": Knob("dampening", "dampening", "fraction"),
    "nesterov": Knob("nesterov", "Nesterov", "flag"),
    "weight_decay": Knob("weight_decay", "weight decay", "number", 10.0),
    "beta1": Knob("beta1", "β₁ (first moment)", "fraction"),
    "beta2": Knob("beta2", "β₂ (second moment)", "fraction"),
    "eps": Knob("eps", "ε", "eps", 1.0),
    "amsgrad": Knob("amsgrad", "AMSGrad", "flag"),
    "alpha": Knob("alpha", "α (square average decay)", "fraction"),
    "centered": Knob("centered", "centered", "flag"),
    "rho": Knob("rho", "ρ (average decay)", "fraction"),
    "lr_decay": Knob("lr_decay", "lr decay", "number", 10.0),
    "momentum_decay": Knob("momentum_decay", "momentum decay", "number", 1.0),
}
SHOWN = {
    "sgd": ("lr", "momentum", "dampening", "nesterov", "weight_decay"),
    "adagrad": ("lr", "lr_decay", "eps", "weight_decay"),
    "rmsprop": ("lr", "alpha", "momentum", "centered", "eps", "weight_decay"),
    "adadelta": ("lr", "rho", "eps", "weight_decay"),
    "adam": ("lr", "beta1", "beta2", "eps", "amsgrad", "weight_decay"),
    "adamw": ("lr", "beta1", "beta2", "eps", "amsgrad", "weight_decay"),
    "nadam": ("lr", "beta1", "beta2", "eps", "momentum_decay", "weight_decay"),
    "radam": ("lr", "beta1", "beta2", "eps", "weight_decay"),
    "adamax": ("lr", "beta1", "beta2", "eps", "weight_decay"),
}
# Schedule parameters shown per schedule: (name, label, kind, default). A default of 0 for a length means
# "the number of steps of the run", so the schedule follows the steps slider.
SCHEDULE_KNOBS = {
    "constant": (),
    "step": (("step_size", "step size", "int", 0), ("gamma", "γ (factor)", "float", 0.5)),
    "exponential": (("gamma", "γ (factor per step)", "float", 0.99),),
    "inverse_time": (("decay", "decay", "float", 0.01),),
    "polynomial": (("total_iters", "total iters (0 = all steps)", "int", 0), ("power", "power", "float", 1.0)),
    "cosine": (("T_max", "T_max (0 = all steps)", "int", 0), ("eta_min", "η_min", "float", 0.0)),
    "cosine_warm_restarts": (("T_0", "T₀ (0 = a quarter of the steps)", "int", 0), ("T_mult", "T_mult", "int", 1)),
    "linear": (("start_factor", "start factor", "float", 1 / 3), ("end_factor", "end factor", "float", 1.0),
               ("total_iters", "total iters (0 = all steps)", "int", 0)),
    "cyclic": (("max_lr", "max lr", "float", 0.1), ("step_size_up", "step size up (0 = a quarter)", "int", 0)),
    "onecycle": (("pct_start", "pct start", "float", 0.3),),
}
SCHEDULES = tuple(name for name in schedules.names() if name in SCHEDULE_KNOBS)


def _torch_default(name: str, knob: str) -> object:
    defaults = optimizers.get(name).hyperparameters
    if knob in ("beta1", "beta2"):
        return defaults["betas"][0 if knob == "beta1" else 1]
    return defaults[knob]


def _key(slot: int, name: str) -> str:
    return f"o{slot}_{name}"


def _knob_key(slot: int, optimizer: str, knob: str) -> str:
    # Keyed by optimizer too: switching Adam -> Adagrad in a slot gives Adagrad's torch defaults (its eps
    # is 1e-10, Adam's 1e-8), not values left over from another algorithm.
    return f"o{slot}_{optimizer}_{knob}"


@lru_cache(maxsize=None)
def slot_fields(slot: int, default_name: str = "sgd") -> tuple[Field, ...]:
    """Every URL field a slot can have; a shared link carries only the active ones (:func:`active_keys`).

    Cached: it builds every optimizer once to read torch's defaults, and pages ask on every rerun. The
    fields are lazy (:func:`lossviz.ui.url.lazy`): a slot's widgets put them back as they are drawn.
    Labels name the slot and the knob as the sidebar shows them ("optimizer 2: learning rate (lr)").
    """
    head = f"optimizer {slot}: "
    fields: list[Field] = [choice_field(_key(slot, "opt"), default_name, optimizers.names(), f"optimizer {slot}")]
    for name, shown in SHOWN.items():
        for knob_name in shown:
            knob, key, default = KNOBS[knob_name], _knob_key(slot, name, knob_name), _torch_default(name, knob_name)
            label = head + knob.label
            if knob.kind == "flag":
                fields.append(bool_field(key, bool(default), label))
            elif knob.kind == "fraction":
                fields.append(float_field(key, float(default), 0.0, 0.999, label))
            else:
                fields.append(float_field(key, float(default), 0.0, knob.high, label))
    fields.append(choice_field(_key(slot, "sched"), "constant", SCHEDULES, head + "learning-rate schedule"))
    for params in SCHEDULE_KNOBS.values():
        for name, label, kind, default in params:
            key = _key(slot, f"s_{name}")
            if all(f.key != key for f in fields):
                fields.append(int_field(key, default, 0, 100_000, head + label) if kind == "int"
                              else float_field(key, default, 0.0, 1e3, head + label))
    fields.append(int_field(_key(slot, "warmup"), 0, 0, 10_000, head + "linear warmup steps"))
    fields.append(float_field(_key(slot, "clip"), 0.0, 0.0, 1e6, head + "clip gradient norm"))
    return tuple(lazy(f) for f in fields)


def _field(key: str) -> Field:
    slot = int(key[1:key.index("_")])
    return next(f for f in slot_fields(slot) if f.key == key)


def active_keys(slot: int) -> set[str]:
    """Keys that matter for the slot's current choices (only these go into the URL)."""
    name = st.session_state.get(_key(slot, "opt"), "sgd")
    sched = st.session_state.get(_key(slot, "sched"), "constant")
    keys = {_key(slot, "opt"), _key(slot, "sched"), _key(slot, "warmup"), _key(slot, "clip")}
    keys |= {_knob_key(slot, name, k) for k in SHOWN.get(name, ())}
    keys |= {_key(slot, f"s_{p[0]}") for p in SCHEDULE_KNOBS.get(sched, ())}
    return keys


def _knob_widget(slot: int, optimizer: str, knob: Knob, container) -> object:
    field = _field(_knob_key(slot, optimizer, knob.name))
    if knob.kind == "flag":
        return widgets.checkbox(field, container, label=knob.label)
    if knob.kind == "fraction":
        return widgets.slider(field, container, step=0.001, format="%.3f", label=knob.label)
    if knob.kind == "eps":
        return widgets.number(field, container, step=1e-8, format="%.1e", label=knob.label)
    return widgets.number(field, container, step=0.001, format="%.4g", label=knob.label)


def _resolve_length(value: int, steps: int, fraction: float = 1.0) -> int:
    return value if value > 0 else max(int(steps * fraction), 1)


def optimizer_slot(slot: int, steps: int, container=st.sidebar) -> OptimizerSetting:
    """Draw slot ``slot``'s widgets (in an expander) and return its setting; nothing is validated here
    beyond widget ranges: :func:`lossviz.lessons.explorer.race` raises a message naming any bad combination."""
    with container.expander(f"Optimizer {slot}", expanded=slot == 1):
        restore(_key(slot, "opt"))
        name = st.selectbox("optimizer", optimizers.names(), key=_key(slot, "opt"),
                            format_func=lambda n: optimizers.get(n).title)
        values = {k: _knob_widget(slot, name, KNOBS[k], st) for k in SHOWN[name]}
        hyper: dict = {k: v for k, v in values.items() if k not in ("beta1", "beta2")}
        if "beta1" in values:
            hyper["betas"] = (float(values["beta1"]), float(values["beta2"]))
        restore(_key(slot, "sched"))
        sched = st.selectbox("learning-rate schedule", SCHEDULES, key=_key(slot, "sched"),
                             format_func=lambda n: n.replace("_", " "))
        sched_params: dict = {}
        for pname, label, kind, _ in SCHEDULE_KNOBS[sched]:
            field = _field(_key(slot, f"s_{pname}"))
            if kind == "int":
                raw = widgets.number(field, st, label=label)
                fraction = 0.25 if pname in ("T_0", "step_size_up", "step_size") else 1.0
                sched_params[pname] = _resolve_length(int(raw), steps, fraction)
            else:
                sched_params[pname] = float(widgets.number(field, st, step=0.01, format="%.4g", label=label))
        warmup = int(widgets.number(_field(_key(slot, "warmup")), st, label="linear warmup steps"))
        if warmup:
            sched_params["warmup_steps"] = warmup
        clip = float(widgets.number(_field(_key(slot, "clip")), st, step=0.1, format="%.4g",
                                    label="clip gradient norm (0 = off)"))
        if clip > 0:
            hyper["clip_norm"] = clip
    return OptimizerSetting(name, hyper, sched, sched_params, label=slot_label(slot, name, hyper, sched))


def slot_label(slot: int, name: str, hyper: dict, schedule: str) -> str:
    """'2. SGD (lr 1.8, momentum 0.5)': the settings that differ from torch's defaults, so two SGDs in
    one race can be told apart in the legend."""
    defaults = optimizers.get(name).hyperparameters
    shown = [f"lr {hyper['lr']:g}"] if "lr" in hyper else []
    for key, value in hyper.items():
        if key in ("lr",) or defaults.get(key) == value:
            continue
        if key == "betas":
            shown.append(f"β {value[0]:g}/{value[1]:g}")
        elif isinstance(value, bool):
            shown.append(key)
        else:
            shown.append(f"{key.replace('_', ' ')} {value:g}")
    if schedule != "constant":
        shown.append(schedule.replace("_", " "))
    return f"{slot}. {optimizers.get(name).title} ({', '.join(shown)})"


def scenario_values(slot: int, setting: OptimizerSetting) -> dict:
    """Widget values that reproduce a scenario's optimizer in slot ``slot`` (torch defaults elsewhere)."""
    values: dict = {f.key: f.default for f in slot_fields(slot, setting.name)}
    values[_key(slot, "opt")] = setting.name
    for k, v in setting.hyperparameters.items():
        if k == "betas":
            values[_knob_key(slot, setting.name, "beta1")], values[_knob_key(slot, setting.name, "beta2")] = v
        elif k == "clip_norm":
            values[_key(slot, "clip")] = v
        else:
            values[_knob_key(slot, setting.name, k)] = v
    values[_key(slot, "sched")] = setting.schedule
    for k, v in setting.schedule_params.items():
        values[_key(slot, "warmup" if k == "warmup_steps" else f"s_{k}")] = v
    return values


def expand(settings: dict, spare: Sequence[OptimizerSetting] = (), slots: int = 0,
           lr_for: Callable[[str], float] | None = None) -> dict:
    """A scenario's link values with its ``optimizers`` entry spread over the slots' keys.

    Slots past the scenario's racers (up to ``slots``) get ``spare`` settings, so raising the number of
    racers adds distinct optimizers rather than copies; ``lr_for(name)`` gives those spares (and any
    racer without an lr) a learning rate suited to the surface.
    """
    values = {k: v for k, v in settings.items() if k != "optimizers"}
    racers = tuple(settings.get("optimizers", ()))
    for slot in range(1, max(slots, len(racers)) + 1):
        setting = racers[slot - 1] if slot <= len(racers) else spare[(slot - 1) % len(spare)]
        if "lr" not in setting.hyperparameters and lr_for is not None:
            setting = replace(setting, hyperparameters={**setting.hyperparameters, "lr": lr_for(setting.name)})
        values |= scenario_values(slot, setting)
    return values


def slot_lr_keys(slots: int) -> dict[int, str]:
    """Each slot's current optimizer's lr key (the lr a surface switch resets)."""
    from lossviz.ui.url import current

    keys = {}
    for slot in range(1, slots + 1):
        name = current(_key(slot, "opt"), "sgd")
        if "lr" in SHOWN.get(name, ()):
            keys[slot] = _knob_key(slot, name, "lr")
    return keys


def lr_key_optimizer(key: str) -> str | None:
    """The optimizer whose learning rate ``key`` is (``"o2_adam_lr"`` -> ``"adam"``), or None."""
    if not (key.startswith("o") and key.endswith("_lr")):
        return None
    _, _, rest = key.partition("_")
    name = rest[: -len("_lr")]
    return name if name in SHOWN else None
