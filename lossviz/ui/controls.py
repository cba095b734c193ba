"""Sidebar controls shared by pages: one optimizer slot (hyperparameters, schedule, warmup, clipping).

The knobs come from the optimizers' own declarations (:func:`lossviz.optimizers.spec`): label, kind,
allowed range and torch's (or the reference's) default, the very rows the constructor validates with, so a
slot can never offer a value the optimizer refuses. Each control's widget key is also its URL key
(``o{slot}_{optimizer}_{knob}``, ``o{slot}_opt``, ``o{slot}_sched``, ...), declared once as a link field.
A tuple argument is two knobs (``betas`` -> ``beta1``, ``beta2``); rarely changed ones (stabilizers,
iteration counts) sit behind the slot's "more settings" switch.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import streamlit as st

from lossviz import optimizers, schedules
from lossviz.settings import OptimizerSetting
from lossviz.ui import url, widgets
from lossviz.ui.url import Field, bool_field, choice_field, float_field, int_field, lazy

__all__ = ["slot_fields", "optimizer_slot", "scenario_values", "expand", "slot_lr_keys", "active_keys",
           "lr_key_optimizer", "slot_label", "LR_MAX"]

LR_MAX = 100.0
# The largest value a knob without an upper bound takes in the sidebar and in a link.
UNBOUNDED_MAX = 1e3
NONE = "none"  # a choice of None (L-BFGS without a line search), as the link writes it


@dataclass(frozen=True)
class Knob:
    """One sidebar control of an optimizer: the argument it fills (``betas`` and its index for a pair)."""

    key: str  # within the slot: "lr", "beta1", "line_search_fn"
    argument: str  # the optimizer's argument: "lr", "betas", "line_search_fn"
    index: int | None  # which component of a tuple argument
    row: optimizers.HyperSpec


def _knob_name(row_name: str) -> tuple[str, str, int | None]:
    match = re.fullmatch(r"(\w+)\[(\d)\]", row_name)
    if not match:
        return row_name, row_name, None
    argument, index = match.group(1), int(match.group(2))
    stem = argument if argument == "eps" else argument.removesuffix("s")
    return f"{stem}{index + 1}", argument, index


@lru_cache(maxsize=None)
def knobs(name: str) -> tuple[Knob, ...]:
    """The sidebar knobs of optimizer ``name`` (SAM's with SGD as its base)."""
    out = []
    for row in optimizers.spec(name).values():
        # Sequences have no one-box widget; a value derived from others when left unset (L-BFGS's max_eval,
        # Muon's AdamW rate) stays the optimizer's own derivation.
        if (row.kind in ("ints", "list") or row.name == "base_optimizer"
                or (row.default is None and row.kind != "choice")):
            continue
        key, argument, index = _knob_name(row.name)
        out.append(Knob(key, argument, index, row))
    return tuple(out)


def _slides(knob: Knob) -> bool:
    """A decay-like number (momentum, dampening): a slider over the span the spec suggests."""
    row = knob.row
    return row.kind == "fraction" or (row.kind == "float" and row.soft is not None and 0 <= row.soft[0]
                                      and row.soft[1] <= 1.0 and knob.key not in ("lr", "weight_decay"))


def _bounds(knob: Knob) -> tuple[float, float]:
    row = knob.row
    if row.kind == "float" and _slides(knob):
        return float(row.soft[0]), float(row.soft[1])
    low = row.low if row.low is not None else -UNBOUNDED_MAX
    high = row.high if row.high is not None else (LR_MAX if knob.key == "lr" else UNBOUNDED_MAX)
    if not row.include_high and row.high is not None:
        high = row.high - (1e-3 if row.kind == "fraction" else 1e-9 * max(abs(row.high), 1.0))
    if row.kind == "int":
        return int(low), int(high if row.high is not None else max(UNBOUNDED_MAX, (row.soft or (0, 0))[1]))
    return float(low), float(high)


def _default(knob: Knob) -> Any:
    default = knob.row.default
    if knob.row.kind == "choice":
        return NONE if default is None else default
    return default


def _key(slot: int, name: str) -> str:
    return f"o{slot}_{name}"


def _knob_key(slot: int, optimizer: str, knob: str) -> str:
    # Keyed by optimizer too: switching Adam -> Adagrad in a slot gives Adagrad's torch defaults (its eps
    # is 1e-10, Adam's 1e-8), not values left over from another algorithm.
    return f"o{slot}_{optimizer}_{knob}"


def _knob_field(slot: int, optimizer: str, knob: Knob) -> Field:
    key, label, row = _knob_key(slot, optimizer, knob.key), f"optimizer {slot}: {knob.row.label}", knob.row
    if row.kind == "flag":
        return bool_field(key, bool(row.default), label)
    if row.kind == "choice":
        return choice_field(key, _default(knob), tuple(NONE if c is None else str(c) for c in row.choices),
                            label)
    low, high = _bounds(knob)
    if row.kind == "int":
        return int_field(key, int(_default(knob)), low, high, label)
    return float_field(key, float(_default(knob)), low, high, label)


# Schedule parameters shown per schedule: (name, label, kind, default). A default of 0 for a length means
# "the number of steps of the run" (a fraction of it where noted), so the schedule follows the steps slider.
SCHEDULE_KNOBS = {
    "constant": (),
    "step": (("step_size", "step size (0 = a quarter of the steps)", "int", 0),
             ("gamma", "γ (factor)", "float", 0.5)),
    "exponential": (("gamma", "γ (factor per step)", "float", 0.99),),
    "inverse_time": (("decay", "decay", "float", 0.01),),
    "polynomial": (("total_iters", "total iters (0 = all steps)", "int", 0),
                   ("power", "power", "float", 1.0)),
    "cosine": (("T_max", "T_max (0 = all steps)", "int", 0), ("eta_min", "η_min", "float", 0.0)),
    "cosine_warm_restarts": (("T_0", "T₀ (0 = a quarter of the steps)", "int", 0),
                             ("T_mult", "T_mult", "int", 1)),
    "linear": (("start_factor", "start factor", "float", 1 / 3), ("end_factor", "end factor", "float", 1.0),
               ("total_iters", "total iters (0 = all steps)", "int", 0)),
    "cyclic": (("max_lr", "max lr", "float", 0.1),
               ("step_size_up", "step size up (0 = a quarter)", "int", 0)),
    "onecycle": (("pct_start", "pct start", "float", 0.3),),
    "constant_factor": (("factor", "factor", "float", 1 / 3),
                        ("total_iters", "total iters (0 = a quarter)", "int", 0)),
    "reduce_on_plateau": (("factor", "factor", "float", 0.1), ("patience", "patience (steps)", "int", 10)),
    "wsd": (("num_stable_steps", "stable steps (0 = half the steps)", "int", 0),
            ("num_decay_steps", "decay steps (0 = the rest)", "int", 0)),
}
SCHEDULES = tuple(name for name in schedules.names() if name in SCHEDULE_KNOBS)
_QUARTER = ("T_0", "step_size_up", "step_size")


@lru_cache(maxsize=None)
def slot_fields(slot: int, default_name: str = "sgd") -> tuple[Field, ...]:
    """Every URL field a slot can have; a shared link carries only the active ones (:func:`active_keys`).

    The fields are lazy (:func:`lossviz.ui.url.lazy`): a slot's widgets put them back as they are drawn.
    Labels name the slot and the knob as the sidebar shows them ("optimizer 2: learning rate (lr)").
    """
    head = f"optimizer {slot}: "
    fields: list[Field] = [
        choice_field(_key(slot, "opt"), default_name, optimizers.names(), f"optimizer {slot}"),
        choice_field(_key(slot, "base"), "sgd", optimizers.spec("sam")["base_optimizer"].choices,
                     head + "base optimizer (SAM)"),
        bool_field(_key(slot, "more"), False, head + "more settings"),
    ]
    for name in optimizers.names():
        fields += [_knob_field(slot, name, knob) for knob in knobs(name)]
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
    name = url.current(_key(slot, "opt"), "sgd")
    sched = url.current(_key(slot, "sched"), "constant")
    keys = {_key(slot, "opt"), _key(slot, "sched"), _key(slot, "warmup"), _key(slot, "clip")}
    keys |= {_knob_key(slot, name, k.key) for k in knobs(name)}
    if name == "sam":
        base = url.current(_key(slot, "base"), "sgd")
        keys |= {_key(slot, "base")} | {_knob_key(slot, base, k.key) for k in knobs(base)}
    keys |= {_key(slot, f"s_{p[0]}") for p in SCHEDULE_KNOBS.get(sched, ())}
    return keys


def _knob_widget(slot: int, optimizer: str, knob: Knob, container) -> Any:
    field, row, label = _field(_knob_key(slot, optimizer, knob.key)), knob.row, knob.row.label
    if row.kind == "flag":
        return widgets.checkbox(field, container, label=label)
    if row.kind == "choice":
        return widgets.select(field, container, label=label)
    if _slides(knob):
        return widgets.slider(field, container, step=0.001, format="%.3f", label=label)
    if row.kind == "eps":
        return widgets.number(field, container, step=1e-8, format="%.1e", label=label)
    if row.kind == "int":
        return widgets.number(field, container, label=label)
    return widgets.number(field, container, step=0.001, format="%.4g", label=label)


def _arguments(values: dict[Knob, Any]) -> dict:
    """Widget values as the optimizer's keyword arguments (pairs put back together, "none" as None)."""
    hyper: dict = {}
    for knob, value in values.items():
        if knob.row.kind == "choice":
            value = None if value == NONE else value
        elif knob.row.kind == "int":
            value = int(value)
        elif knob.row.kind != "flag":
            value = float(value)
        if knob.index is None:
            hyper[knob.argument] = value
        else:
            pair = list(hyper.get(knob.argument, (None, None)))
            pair[knob.index] = value
            hyper[knob.argument] = tuple(pair)
    return hyper


def _resolve_length(value: int, steps: int, fraction: float = 1.0) -> int:
    return value if value > 0 else max(int(steps * fraction), 1)


def _schedule_lengths(sched: str, raw: dict[str, Any], steps: int) -> dict:
    """Schedule ``sched``'s parameters from the slot's values (``raw``, by parameter name) for a run of
    ``steps``: a length left at 0 means "from the run's length" (all of it, or a quarter)."""
    params: dict = {}
    for pname, _label, kind, _ in SCHEDULE_KNOBS[sched]:
        if kind == "int":
            value = int(raw[pname])
            fraction = 0.25 if pname in _QUARTER or sched == "constant_factor" else 1.0
            if sched == "wsd":
                stable = value if pname == "num_stable_steps" else params.get("num_stable_steps", steps // 2)
                value = value or (steps // 2 if pname == "num_stable_steps" else max(steps - stable, 1))
            params[pname] = _resolve_length(value, steps, fraction)
        else:
            params[pname] = float(raw[pname])
    return params


def _schedule_params(slot: int, sched: str, steps: int) -> dict:
    raw = {pname: widgets.number(_field(_key(slot, f"s_{pname}")), st, label=label) if kind == "int" else
           widgets.number(_field(_key(slot, f"s_{pname}")), st, step=0.01, format="%.4g", label=label)
           for pname, label, kind, _ in SCHEDULE_KNOBS[sched]}
    return _schedule_lengths(sched, raw, steps)


def for_steps(slot: int, setting: OptimizerSetting, steps: int) -> OptimizerSetting:
    """Slot ``slot``'s setting (drawn by :func:`optimizer_slot` for another run length) with its schedule's
    lengths resolved for ``steps``, from the slot's widget values: for a part of the page (a fragment)
    that reruns with a new number of steps while the slot's widgets stay as they were."""
    raw = {pname: url.current(_key(slot, f"s_{pname}")) for pname, *_ in SCHEDULE_KNOBS[setting.schedule]}
    params = _schedule_lengths(setting.schedule, raw, steps)
    if "warmup_steps" in setting.schedule_params:
        params["warmup_steps"] = setting.schedule_params["warmup_steps"]
    return replace(setting, schedule_params=params)


@lru_cache(maxsize=64)
def optimizer_title(name: str) -> str:
    """The optimizer's title as the slot's list shows it ("Adam", "SGD with momentum"...): built once per
    name, not once per option on every rerun (about 12 ms of an Explorer rerun)."""
    return optimizers.get(name).title


def optimizer_slot(slot: int, steps: int, container=st.sidebar,
                   defaults_for: Callable[[str], dict] | None = None) -> OptimizerSetting:
    """Draw slot ``slot``'s widgets (in an expander) and return its setting; nothing is validated here
    beyond widget ranges: building the optimizer raises a message naming any bad combination.

    ``defaults_for(name)``: the page's settings for an optimizer chosen in the slot (its rate on the
    current surface), applied when the choice changes.
    """
    with container.expander(f"Optimizer {slot}", expanded=slot == 1):
        name = widgets.select(_field(_key(slot, "opt")), st, format_func=optimizer_title,
                              label="optimizer", on_change=_switched if defaults_for else None,
                              args=(slot, defaults_for) if defaults_for else ())
        shown = list(knobs(name))
        hyper: dict = {}
        if name == "sam":
            base = widgets.select(_field(_key(slot, "base")), st,
                                  format_func=optimizer_title, label="base optimizer")
            hyper["base_optimizer"] = base
            shown += [k for k in knobs(base) if k.key not in {s.key for s in shown}]
        more = widgets.checkbox(_field(_key(slot, "more")), st, label="more settings")
        values = {k: _knob_widget(slot, name if k in knobs(name) else hyper["base_optimizer"], k, st)
                  for k in shown if more or not k.row.advanced}
        hyper |= _arguments(values)
        sched = widgets.select(_field(_key(slot, "sched")), st, format_func=lambda n: n.replace("_", " "),
                               label="learning-rate schedule")
        sched_params = _schedule_params(slot, sched, steps)
        warmup = int(widgets.number(_field(_key(slot, "warmup")), st, label="linear warmup steps"))
        if warmup:
            sched_params["warmup_steps"] = warmup
        clip = float(widgets.number(_field(_key(slot, "clip")), st, step=0.1, format="%.4g",
                                    label="clip gradient norm (0 = off)"))
        if clip > 0:
            hyper["clip_norm"] = clip
    return OptimizerSetting(name, hyper, sched, sched_params, label=slot_label(slot, name, hyper, sched))


def slot_label(slot: int, name: str, hyper: dict, schedule: str) -> str:
    """'2. SGD (lr 1.8, momentum 0.5)': the settings that differ from the defaults, so two SGDs in one
    race can be told apart in the legend."""
    defaults = optimizers.get(name, **({"base_optimizer": hyper["base_optimizer"]}
                                       if "base_optimizer" in hyper else {})).hyperparameters
    shown = [f"lr {hyper['lr']:g}"] if "lr" in hyper else []
    for key, value in hyper.items():
        if key in ("lr", "base_optimizer") or defaults.get(key) == value:
            continue
        if isinstance(value, tuple):
            shown.append(f"{key.removesuffix('s')} {'/'.join(f'{v:g}' for v in value if v is not None)}")
        elif isinstance(value, bool):
            shown.append(key.replace("_", " ") if value else f"no {key.replace('_', ' ')}")
        elif isinstance(value, str) or value is None:  # "line search strong wolfe", the sidebar's words
            label = next((k.row.label for k in knobs(name) if k.argument == key and len(k.row.label) < 20),
                         key.replace("_", " "))
            shown.append(f"{label} {str(value).replace('_', ' ')}")
        else:
            shown.append(f"{key.replace('_', ' ')} {value:g}")
    if schedule != "constant":
        shown.append(schedule.replace("_", " "))
    title = optimizers.get(name, **({"base_optimizer": hyper["base_optimizer"]} if "base_optimizer" in hyper
                                     else {})).title
    return f"{slot}. {title} ({', '.join(shown)})"


def scenario_values(slot: int, setting: OptimizerSetting) -> dict:
    """Widget values that reproduce a setting's optimizer in slot ``slot`` (defaults elsewhere)."""
    values: dict = {f.key: f.default for f in slot_fields(slot, setting.name)}
    values[_key(slot, "opt")] = setting.name
    name = setting.name
    hyper = dict(setting.hyperparameters)
    if name == "sam":
        values[_key(slot, "base")] = hyper.pop("base_optimizer", "sgd")
    by_argument = {}
    for knob in (*knobs(name), *(knobs(values[_key(slot, "base")]) if name == "sam" else ())):
        by_argument.setdefault(knob.argument, []).append(knob)
    for argument, value in hyper.items():
        if argument == "clip_norm":
            values[_key(slot, "clip")] = value
            continue
        for knob in by_argument.get(argument, ()):
            owner = name if knob in knobs(name) else values[_key(slot, "base")]
            part = value if knob.index is None else value[knob.index]
            if knob.row.kind == "choice":
                part = NONE if part is None else part
            values[_knob_key(slot, owner, knob.key)] = part
    values[_key(slot, "sched")] = setting.schedule
    for k, v in setting.schedule_params.items():
        values[_key(slot, "warmup" if k == "warmup_steps" else f"s_{k}")] = v
    return values


def expand(settings: dict, spare: Sequence[OptimizerSetting] = (), slots: int = 0,
           defaults_for: Callable[[str], dict] | None = None) -> dict:
    """A scenario's link values with its ``optimizers`` entry spread over the slots' keys.

    Slots past the scenario's racers (up to ``slots``) get ``spare`` settings, so raising the number of
    racers adds distinct optimizers rather than copies; ``defaults_for(name)`` fills what a spare racer
    leaves unset (a learning rate suited to the surface, the Explorer's damped saddle-free Newton). A
    scenario's own racer is the optimizer its lesson ran and its tests check: what it leaves unset is the
    reference's default (plain Newton, torch's L-BFGS), but for a learning rate suited to the surface.
    """
    values = {k: v for k, v in settings.items() if k != "optimizers"}
    racers = tuple(settings.get("optimizers", ()))
    for slot in range(1, max(slots, len(racers)) + 1):
        setting = racers[slot - 1] if slot <= len(racers) else spare[(slot - 1) % len(spare)]
        if defaults_for is not None:
            filled = {**defaults_for(setting.name), **setting.hyperparameters}
            if slot <= len(racers):  # the reference's defaults (its SAM's base optimizer's too) but the rate
                own = {**({"lr": filled["lr"]} if "lr" in filled else {}), **setting.hyperparameters}
                filled = dict(optimizers.get(setting.name, **own).hyperparameters)
            setting = replace(setting, hyperparameters=filled)
        values |= scenario_values(slot, setting)
    return values


def _switched(slot: int, defaults_for: Callable[[str], dict]) -> None:
    """A slot's optimizer changed: give it the page's defaults for that optimizer (a rate suited to the
    surface), unless the user already set them in this slot."""
    name = st.session_state[_key(slot, "opt")]
    defaults = {f.key: f.default for f in slot_fields(slot)}
    values = {k: v for k, v in scenario_values(slot, OptimizerSetting(name, defaults_for(name))).items()
              if k.startswith(_knob_key(slot, name, ""))
              and url.current(k, defaults.get(k)) == defaults.get(k)}
    url.apply_values(values)


def slot_lr_keys(slots: int) -> dict[int, str]:
    """Each slot's current optimizer's lr key (the lr a surface switch resets)."""
    keys = {}
    for slot in range(1, slots + 1):
        name = url.current(_key(slot, "opt"), "sgd")
        if any(k.key == "lr" for k in knobs(name)):
            keys[slot] = _knob_key(slot, name, "lr")
    return keys


def lr_key_optimizer(key: str) -> str | None:
    """The optimizer whose learning rate ``key`` is (``"o2_adam_lr"`` -> ``"adam"``), or None."""
    if not (key.startswith("o") and key.endswith("_lr")):
        return None
    _, _, rest = key.partition("_")
    name = rest[: -len("_lr")]
    return name if name in optimizers.names() else None
