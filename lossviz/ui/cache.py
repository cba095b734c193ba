"""Cached calls into the core. Only hashable primitives go in; objects are rebuilt inside.

Every cache has ``max_entries`` so a classroom of sessions trying settings cannot grow memory without
bound.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from lossviz import expr, landscape, surfaces
from lossviz.lessons import explorer
from lossviz.settings import OptimizerSetting

SurfaceKey = tuple  # (name, ((param, value), ...), formula, domain)


def surface_key(name: str, params: dict, formula: str = "", domain: tuple | None = None) -> SurfaceKey:
    return (name, tuple(sorted(params.items())), formula, domain)


@st.cache_resource(max_entries=64, show_spinner=False)
def build_surface(key: SurfaceKey) -> surfaces.Surface:
    name, params, formula, domain = key
    if name == "custom":
        return expr.parse(formula, domain=domain)
    return surfaces.get(name, **dict(params))


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(key: SurfaceKey, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    surface = build_surface(key)
    xs, ys = landscape.axes_for_domain(surface.domain, resolution)
    return xs, ys, landscape.grid(surface, xs, ys)


def setting_key(setting: OptimizerSetting) -> tuple:
    return (setting.name, tuple(sorted(setting.hyperparameters.items())), setting.schedule,
            tuple(sorted(setting.schedule_params.items())), setting.label)


@st.cache_resource(max_entries=128, show_spinner=False)
def run_race(key: SurfaceKey, settings: tuple, start: tuple[float, float], steps: int) -> list[explorer.RaceEntry]:
    """The race for these settings (entries are read-only, so the cache shares them across sessions)."""
    built = [OptimizerSetting(n, dict(h), s, dict(sp), label) for n, h, s, sp, label in settings]
    return explorer.race(build_surface(key), built, start, steps)
