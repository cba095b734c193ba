"""Cached calls into the core, defined once for every page. Only hashable primitives go in.

Every cache is bounded (``max_entries``), so a classroom trying settings cannot grow memory without end,
and results shared between sessions are read-only. Streamlit's caches compute a key once when several
sessions miss it at the same time (they wait for the first); :func:`lossviz.ui.progress_cache.cached`
does the same for the computations that report progress.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from lossviz import analysis, landscape
from lossviz.lessons import explorer
from lossviz.settings import OptimizerSetting
from lossviz.surfaces import Surface
from lossviz.ui import surface_picker

__all__ = ["build_surface", "surface_grid", "minima", "curvature", "reference_minimum", "run_race",
           "race_frames", "tuned"]


@st.cache_resource(max_entries=64, show_spinner=False)
def build_surface(key: tuple) -> Surface:
    """The surface a :class:`lossviz.ui.surface_picker.SurfaceChoice` key names."""
    return surface_picker.build(key)


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(key: tuple, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The surface on a ``resolution`` x ``resolution`` grid over its view: ``xs, ys, Z``."""
    surface = build_surface(key)
    xs, ys = landscape.axes_for_domain(surface.domain, resolution)
    return xs, ys, landscape.grid(surface, xs, ys)


@st.cache_resource(max_entries=64, show_spinner=False)
def minima(key: tuple) -> explorer.Minima:
    """The surface's minima, found numerically for a typed formula."""
    return explorer.find_minima(build_surface(key))


@st.cache_resource(max_entries=32, show_spinner=False)
def curvature(key: tuple, start: tuple[float, float]) -> analysis.Curvature:
    """The Hessian spectrum at the minimum nearest the start (found numerically for a typed formula)."""
    return analysis.reference_curvature(build_surface(key), np.array(start), find_minimum=True)


def reference_minimum(key: tuple, start: tuple[float, float]) -> tuple[np.ndarray, float]:
    """The minima a page draws, ``(m, 2)``, and the loss its gaps are measured from: the surface's own, or
    for a typed formula (which states none) the local minimum :func:`curvature` found from ``start``."""
    surface, point = build_surface(key), curvature(key, start).point
    if len(surface.minima) and surface.min_value is not None:
        return surface.minima, float(surface.min_value)
    return point[None], float(surface.f(point))


@st.cache_resource(max_entries=128, show_spinner=False)
def run_race(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
             steps: int) -> list[explorer.RaceEntry]:
    """The race for these settings (entries are read-only, so the cache shares them across sessions)."""
    return explorer.race(build_surface(key), list(settings), start, steps, minima(key))


@st.cache_resource(max_entries=32, show_spinner=False)
def race_frames(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
                steps: int) -> np.ndarray:
    """Every racer's path at every learning-rate multiple (the Explorer's scrubber), read-only."""
    return explorer.lr_frames(build_surface(key), list(settings), start, steps)


@st.cache_resource(max_entries=32, show_spinner="Sweeping each racer's learning rate…")
def tuned(key: tuple, settings: tuple[OptimizerSetting, ...], start: tuple[float, float],
          steps: int) -> tuple[tuple[OptimizerSetting, ...], tuple]:
    """Each racer at its best learning rate (the Explorer's fair race): settings and their sweeps."""
    pairs = explorer.tune(build_surface(key), list(settings), start, steps)
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


# Until every page is on the kit: the old key helpers, for the pages not yet rebuilt. Removed with them.
def surface_key(name: str, params: dict, formula: str = "", domain: tuple | None = None) -> tuple:
    return (name, tuple(sorted(params.items())), formula, domain)


def setting_key(setting: OptimizerSetting) -> tuple:
    return (setting.name, tuple(sorted(setting.hyperparameters.items())), setting.schedule,
            tuple(sorted(setting.schedule_params.items())), setting.label)
