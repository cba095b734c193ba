"""The surface picker shared by the pages that race on a 2-D surface: surface, its knobs, a typed formula
and its view, and the start, each with its field in the link.

Switching the surface puts its own start back (the one the user left there, or the surface's default),
so a start chosen for one function is never carried onto another where it may be off the map; a page
can add what else belongs to a surface (the Explorer's learning rates) through ``on_switch``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from lossviz import expr, surfaces
from lossviz.surfaces import Surface
from lossviz.ui import text, url, widgets
from lossviz.ui.errors import shown_errors
from lossviz.ui.url import Field

__all__ = ["SurfaceChoice", "surface_fields", "surface_picker", "start_inputs", "clicked", "build",
           "START_BOUND", "DEFAULT_FORMULA"]

# One range for a start, in the widget and in the link: far enough to show a run from far away.
START_BOUND = 1e9
DEFAULT_FORMULA = "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
KNOBS = ("kappa", "rotation")
FORMULA_KEYS = ("formula", "xmin", "xmax", "ymin", "ymax")
START_KEYS = ("x0", "y0")


@dataclass(frozen=True)
class SurfaceChoice:
    """What the picker chose. ``key`` is hashable and rebuilds the surface (:func:`build`)."""

    name: str
    params: tuple
    formula: str
    domain: tuple | None
    start: tuple[float, float]

    @property
    def key(self) -> tuple:
        return (self.name, self.params, self.formula, self.domain)

    @property
    def active_keys(self) -> set[str]:
        """The link keys that matter for this choice."""
        keys = {"surface", *START_KEYS}
        if self.name == "quadratic":
            keys |= set(KNOBS)
        if self.name == "custom":
            keys |= set(FORMULA_KEYS)
        return keys

    def describe(self, surface: Surface) -> None:
        """One line on the chosen surface: a typed formula as the user wrote it (literal text, never read as
        Markdown), a named surface's title and lesson."""
        if self.name == "custom":
            text.literal(f"Your formula: f(x, y) = {self.formula}", muted=False)
        else:
            st.caption(f"**{surface.title}.** {surface.lesson}")


def build(key: tuple) -> Surface:
    """The surface a :attr:`SurfaceChoice.key` names (a typed formula is parsed, never evaluated)."""
    name, params, formula, domain = key
    if name == "custom":
        try:
            return expr.parse(formula, domain=domain)
        except ValueError as exc:  # named by the box's label, the formula quoted (long ones cut)
            quoted = formula if len(formula) <= 60 else formula[:59] + "…"
            raise ValueError(f"f(x, y) = “{quoted}”: {exc}") from None
    return surfaces.get(name, **dict(params))


def surface_fields(names: Sequence[str], *, surface: str = "quadratic", kappa: float = 10.0,
                   rotation: float = 30.0, start: tuple[float, float] = (-2.8, 2.0)) -> list[Field]:
    """The picker's link fields, with these defaults (``names`` may include ``"custom"``)."""
    bound = expr.MAX_DOMAIN_BOUND
    return [
        url.choice_field("surface", surface, list(names), "surface"),
        url.float_field("kappa", kappa, 1.0, 1000.0, "condition number κ"),
        url.float_field("rotation", rotation, -180.0, 180.0, "rotation (degrees)"),
        url.text_field("formula", DEFAULT_FORMULA, expr.MAX_LENGTH, "f(x, y)"),
        url.float_field("xmin", -3.0, -bound, bound, "x min"),
        url.float_field("xmax", 3.0, -bound, bound, "x max"),
        url.float_field("ymin", -3.0, -bound, bound, "y min"),
        url.float_field("ymax", 3.0, -bound, bound, "y max"),
        url.float_field("x0", start[0], -START_BOUND, START_BOUND, "start x"),
        url.float_field("y0", start[1], -START_BOUND, START_BOUND, "start y"),
    ]


# The typed formula's view: x min, x max, y min, y max.
_VIEW_FIELDS = [f for f in surface_fields(["custom"]) if f.key in FORMULA_KEYS[1:]]


def clicked(click: dict, axis: str) -> float:
    """The ``axis`` ("x" or "y") of a click on a live chart, checked: a finite number (else ValueError)."""
    from lossviz._validation import check_scalar

    return check_scalar(click.get(axis), f"clicked {axis}", low=-START_BOUND, high=START_BOUND)


def new_click(chart: str, take: bool = True) -> dict | None:
    """The last click on live chart ``chart`` (its value: ``{"x", "y", "id"}``) if the page has not acted
    on it yet, else None. ``take`` marks it acted on: a click is news once, however many reruns follow
    (a widget it moved, a fragment it reran)."""
    click, taken = st.session_state.get(chart), f"_taken_click::{chart}"
    if not isinstance(click, dict) or click.get("id") == st.session_state.get(taken):
        return None
    if take:
        st.session_state[taken] = click.get("id")
    return click


def _title(name: str) -> str:
    return "Custom formula" if name == "custom" else surfaces.get(name).title


def _memory(page: str) -> dict:
    return st.session_state.setdefault(f"_surface_memory::{page}", {})


def _custom_start(bound: Callable[[Field], float]) -> tuple[float, float]:
    """A fifth of a typed formula's view in from its top-left corner (as Surface.default_start), the
    view's bounds given by ``bound(field)`` for x min, x max, y min and y max."""
    x_lo, x_hi, y_lo, y_hi = (float(bound(f)) for f in _VIEW_FIELDS)
    return (x_lo + 0.2 * (x_hi - x_lo), y_hi - 0.2 * (y_hi - y_lo))


def _switch(page: str, old: str, extra: Callable[[str, str], dict] | None) -> None:
    """Remember the start (and the page's extras) the user had on ``old``; restore the new surface's."""
    new = st.session_state["surface"]
    memory = _memory(page)
    keys = [*START_KEYS, *(extra(old, new).keys() if extra else ())]
    memory[old] = {k: url.current(k) for k in keys}
    if new in memory:
        values = memory[new]
    else:
        start = _custom_start(lambda f: url.current(f.key, f.default)) if new == "custom" \
            else surfaces.get(new).default_start
        values = {"x0": float(start[0]), "y0": float(start[1]), **(extra(old, new) if extra else {})}
    url.apply_values(values)


def surface_picker(page: str, names: Sequence[str], container=None, *, draw_start: bool = True,
                   on_switch: Callable[[str, str], dict] | None = None) -> SurfaceChoice:
    """Draw the surface controls; return the choice.

    ``on_switch(old, new)`` returns the page's own link values for surface ``new`` (default learning
    rates); they are restored per surface like the start.

    ``draw_start=False`` leaves the start to the page, which draws it with :func:`start_inputs` (into a
    container made under the picker) from the fragment that also takes a click on its map: a click then
    reruns that part alone. The choice's start is then the one the page had before this run.
    """
    where = container or st.sidebar
    fields = {f.key: f for f in surface_fields(names)}
    where.header("Surface")
    current = st.session_state.get("surface")
    name = widgets.select(fields["surface"], where, format_func=_title, on_change=_switch,
                          args=(page, current, on_switch))
    params: tuple = ()
    formula, domain = "", None
    if name == "quadratic":
        params = (("condition_number", float(widgets.slider(fields["kappa"], where))),
                  ("rotation", float(widgets.slider(fields["rotation"], where))))
    if name == "custom":
        formula = widgets.text_input(fields["formula"], where,
                                     help="Operators + - * / ^, functions sin cos tan exp log sqrt abs "
                                          "tanh and more, constants pi and e; x and y are the variables.")
        c1, c2 = where.columns(2)
        box = {key: float(widgets.number(fields[key], column, notes=where))
               for key, column in (("xmin", c1), ("xmax", c2), ("ymin", c1), ("ymax", c2))}
        domain = ((box["xmin"], box["xmax"]), (box["ymin"], box["ymax"]))
    if not draw_start:
        start = tuple(float(url.current(k, fields[k].default)) for k in START_KEYS)
        return SurfaceChoice(name, params, formula, domain, start)
    return SurfaceChoice(name, params, formula, domain, start_inputs(where, names))


def start_inputs(where, names: Sequence[str], clicks: str | None = None) -> tuple[float, float]:
    """Draw the start's two inputs under a "Start" header in ``where``; return the start.

    ``clicks``: a live chart whose click moves the start (once per click), taken before the inputs are
    drawn. Draw them in the fragment that holds that chart: the click then reruns that part alone (a
    whole-page rerun from inside it was slower, and keys pressed meanwhile could get charts remounted).
    """
    if clicks and (click := new_click(clicks)):
        with shown_errors():
            url.apply_values({key: round(clicked(click, axis), 3) for key, axis in zip(START_KEYS, "xy")})
    fields = {f.key: f for f in surface_fields(names) if f.key in START_KEYS}
    where.header("Start")
    c1, c2 = where.columns(2)
    return (float(widgets.number(fields["x0"], c1, notes=where)),
            float(widgets.number(fields["y0"], c2, notes=where)))


# -------------------------------------------------------------------------------- racers' defaults
def racer_defaults(name: str, surface: str, kappa: float, rotation: float) -> dict:
    """Optimizer ``name``'s settings on a catalogued ``surface`` from its default start (a rate suited to
    it: :func:`lossviz.lessons.explorer.default_hyperparameters`); a typed formula gets a cautious rate.

    Asked a dozen times a rerun (the scenario note compares the slots with the scenario's racers), so it
    is computed once per argument set; each caller gets its own copy.
    """
    return dict(_racer_defaults(str(name), str(surface), float(kappa), float(rotation)))


@functools.lru_cache(maxsize=512)
def _racer_defaults(name: str, surface: str, kappa: float, rotation: float) -> dict:
    from lossviz.lessons import explorer
    from lossviz.ui import cache

    if surface == "custom":
        return {"lr": 0.05}
    params = (("condition_number", kappa), ("rotation", rotation)) if surface == "quadratic" else ()
    built = cache.build_surface((surface, params, "", None))
    return explorer.default_hyperparameters(built, name, built.default_start)


def link_defaults(defaults: dict, query: dict, names: Sequence[str],
                  defaults_for: Callable[[str, str], dict]) -> dict:
    """A link naming another surface than the default scenario's: its start and racers' rates from that
    surface's defaults (the rest of the scenario stays). A typed formula gets the rates switching to it
    in the sidebar gives (a cautious one) and its start, a fifth of the link's view in from the
    view's top-left corner. Before, a link to a formula raced at the scenario's rates (1.8 for the
    ravine's SGD), where most formulas diverge at once, from the scenario's start, outside a view the
    link had narrowed."""
    from lossviz.ui import controls

    name = query.get("surface")
    if name not in names or name == defaults["surface"]:
        return defaults
    lrs = {k: defaults_for(o, name)["lr"] for k in defaults if (o := controls.lr_key_optimizer(k))}
    if name == "custom":
        # The start switching to the formula gives, in the link's own view (a value the link gets wrong
        # is replaced by its default, as the page will); a start the link gives wins over it.
        view, _ = url.parse_query(query, _VIEW_FIELDS, defaults)
        start = _custom_start(lambda f: view[f.key])
        return defaults | {"x0": start[0], "y0": start[1]} | lrs
    start = surfaces.get(name).default_start
    return defaults | {"x0": start[0], "y0": start[1]} | lrs
