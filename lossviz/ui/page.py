"""Opening a page: configuration, navigation, the link's settings and notices, the lesson, the scenarios.

Every page starts with one call::

    page = open_page("momentum", FIELDS, scenarios=momentum.SCENARIOS, default="ravine")

which sets the page up (title, wide layout, the sidebar's navigation, projector mode), reads the link
into the widgets' state (filling what the link leaves out from the page's default scenario) and shows
any refused link value as a literal notice. The returned :class:`Page` then draws the shared pieces in
the page's order: :meth:`Page.lesson` (the paragraph, folded into one line in projector mode),
:meth:`Page.scenario_picker` (sidebar), :meth:`Page.scenario_note` ("loaded" or "loaded, then changed")
and :meth:`Page.write_link` (the address bar is always a share link).

A scenario is plain data: a title, the lesson in words, and ``settings``, a mapping from link keys to
values (:class:`lossviz.settings.LessonScenario`). An ``"optimizers"`` entry holds a tuple of
:class:`lossviz.settings.OptimizerSetting`, expanded into the optimizer slots' keys by the page's
``expand`` function (:func:`lossviz.ui.controls.scenario_values`).
"""
from __future__ import annotations

import math

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from lossviz.settings import LessonScenario
from lossviz.ui import budget, catalog, nav, text, url
from lossviz.ui.errors import shown_errors
from lossviz.ui.live_plotly import live_plotly_chart
from lossviz.ui.url import Field

__all__ = ["Page", "open_page", "PRESENT", "fitted", "projector"]

PRESENT = url.bool_field("present", False, "projector mode")


@dataclass
class Page:
    """An open page: its id, its link fields and the scenarios it offers."""

    id: str
    fields: list[Field]
    scenarios: Mapping[str, LessonScenario] = field(default_factory=dict)
    expand: Callable[[Mapping[str, Any]], dict] = dict
    notices: list[str] = field(default_factory=list)
    top: Any = None  # in projector mode, where the main figure goes: right under the title
    drawn: dict[str, dict] = field(default_factory=dict)  # this run's charts, by key, for :meth:`slides`
    note_slot: Any = None  # where :meth:`scenario_note` draws; a fragment redraws it (:meth:`part_link`)
    note_args: tuple = (None, ())  # the keys :meth:`scenario_note` was given: ``active``, ``ignore``

    @property
    def present(self) -> bool:
        """Projector mode: the sidebar collapsed, prose folded, large type."""
        return bool(st.session_state.get(PRESENT.key, False))

    @property
    def _note_key(self) -> str:
        return f"_scenario_note::{self.id}"

    @property
    def _pick_key(self) -> str:  # the scenario box's: it shows the scenario a fresh visit opens on
        return f"{self.id}_scenario_pick"

    def lesson(self, markdown: str) -> None:
        """The page's paragraph (trusted text); in projector mode one line that opens to it."""
        if self.present:
            with st.expander(markdown.split(". ")[0].replace("**", "") + ". (more)"):
                st.markdown(markdown)
        else:
            st.markdown(markdown)

    def values_of(self, name: str) -> dict:
        """The link values scenario ``name`` sets (a list field's value as a list, as its widget holds it)."""
        lists = {f.key for f in self.fields if f.max_items is not None}
        return {k: list(v) if k in lists and isinstance(v, tuple) else v
                for k, v in self.expand(self.scenarios[name].settings).items()}

    def load(self, name: str) -> None:
        """Apply scenario ``name`` to the widgets (before they are drawn) and note it."""
        url.apply_values(self.values_of(name))
        st.session_state[self._note_key] = name

    def scenario_picker(self, container=None) -> None:
        """The sidebar's scenario select box and its "Load scenario" button."""
        if not self.scenarios:
            return
        where = container or st.sidebar
        where.header("Classroom scenarios")
        names = ["—", *self.scenarios]
        choice = where.selectbox("scenario", names, key=self._pick_key,
                                 format_func=lambda n: n if n == "—" else self.scenarios[n].title)
        if where.button("Load scenario", disabled=choice == "—", width="stretch", key=f"{self.id}_load"):
            self.load(choice)
            st.rerun()

    def scenario_note(self, active: Sequence[str] | None = None, ignore: Sequence[str] = ()) -> str | None:
        """The loaded scenario's lesson, or, once a setting it fixes has moved, a note saying so.

        ``active``: the keys that matter for the picture now (default: every field); ``ignore``: keys a
        scenario sets that do not change its lesson (a picked step). Returns the scenario's name while its
        text still describes the picture.

        The note is one element whatever it shows (nothing, the lesson, or "then changed"), so what comes
        after it keeps its place and its charts their frames. A fragment of the page redraws it there
        (:meth:`part_link`) after its own controls moved.
        """
        self.note_slot, self.note_args = st.empty(), (active, ignore)
        return self._draw_note()

    def _draw_note(self) -> str | None:
        active, ignore = self.note_args
        name = st.session_state.get(self._note_key)
        if name not in self.scenarios:
            self.note_slot.empty()
            return None
        scenario = self.scenarios[name]
        changed = self._changed(name, active, ignore)
        if changed:
            labels = url.labels_of(changed, self.fields)
            listed = ", ".join(labels[:4]) + (", …" if len(labels) > 4 else "")
            self.note_slot.caption(f"Scenario “{scenario.title}” loaded, then changed ({listed}): its text "
                                   "no longer describes this picture. Load it again to return.")
            return None
        self.note_slot.info(f"**{scenario.title}.** {scenario.explanation}")
        return name

    def _changed(self, name: str, active: Sequence[str] | None, ignore: Sequence[str]) -> list[str]:
        keys = set(active) if active is not None else {f.key for f in self.fields}
        return [k for k, v in self.values_of(name).items()
                if k in keys and k not in ignore and url.current(k) != _comparable(v)]

    def part_link(self, active: Sequence[str] | None = None) -> None:
        """In a fragment, after its controls: write the link (:meth:`write_link`) and redraw the scenario
        note above (:meth:`scenario_note`), in its place, for the settings as they are now.

        A fragment (``st.fragment``) reruns only its own part of the page, so a control inside it that moves
        a setting the loaded scenario fixes would leave the lesson above describing what is no longer drawn.
        The note is redrawn by every run of the fragment (the element is then the fragment's: a run that
        left it out would remove it), never by a whole-page rerun: that cost a press on a scenario's
        picture a full rerun, and a press that came during it could make the browser drop and mount again
        the charts below.
        """
        self.write_link(active)
        if self.note_slot is not None:
            self._draw_note()

    @property
    def _picture_key(self) -> str:
        return f"_last_picture::{self.id}"

    def chart(self, spec: dict, key: str, container=None, clickable: bool = False,
              main: bool = False, placed: bool = False) -> dict | None:
        """Draw a live chart and remember it as part of the page's last good picture.

        ``main``: the page's main figure, which projector mode puts right under the title (with its Play
        control and scrubber) so it is on the first screen of a 1366x768 projector, and which a rerun
        paints before the page's other charts. ``placed``: the page already draws it under the title in
        projector mode (inside a part of the page it puts there whole, with the main figure's own tabs
        or columns), so it is painted first but not moved.
        """
        self.drawn[key] = spec
        spec = projector(spec, grow=not main) if self.present else fitted(spec)
        if self.present and main and not placed and self.top is not None:
            container = self.top
        st.session_state.setdefault(self._picture_key, {})[key] = spec
        return live_plotly_chart(spec, key=key, container=container, clickable=clickable, main=main)

    def stale_picture(self) -> None:
        """Redraw the last good picture greyed out (after an error notice), and stop the run."""
        remembered = st.session_state.get(self._picture_key, {})
        if remembered:
            st.caption("The last picture that worked, greyed out until the settings above are fixed:")
            columns = st.columns(2)
            for index, (key, spec) in enumerate(remembered.items()):
                live_plotly_chart(spec, key=key, container=columns[index % 2], stale=True)
        st.stop()

    def computed(self, compute: Callable[[], Any], work: Any = None) -> Any:
        """What ``compute()`` returns, or else the last good picture greyed out and the run stopped
        (:meth:`stale_picture`): when ``work`` (a :class:`lossviz.ui.budget.Estimate`, or several) is over
        the budget (the notice says which setting to lower, :func:`lossviz.ui.budget.affordable`), when
        ``compute`` refuses a setting (its ValueError or TypeError shown as a literal notice,
        :func:`lossviz.ui.errors.shown_errors`), or when it returns None (it has shown why)."""
        value = None
        with shown_errors():
            if work is None or budget.affordable(work):
                value = compute()
        if value is None:
            self.stale_picture()
        return value

    def stale_chart(self, key: str, container=None) -> bool:
        """Chart ``key``'s last good picture greyed out, while the part of the page that draws it has an
        error (the rest of the page goes on); False when there is no picture to show."""
        spec = st.session_state.get(self._picture_key, {}).get(key)
        if spec is not None:
            live_plotly_chart(spec, key=key, container=container, stale=True)
        return spec is not None

    def slides(self, file_stem: str, container=None, *, titles: Mapping[str, str] | None = None) -> None:
        """Files for slides of what this run drew: the first animated chart (one with Play frames) as a GIF
        and an MP4, and every chart as a PNG at projector size and an SVG.

        Call it last. Each file is drawn from the chart as it is when asked for, so a chart a fragment
        redrew since is drawn as shown; the animation made is offered until the link changes. ``titles``
        names charts by key (default: the key in words, "ravine_chart" -> "Ravine", without the page's own
        prefix: "nn_training" of ``lossviz_nn`` -> "Training").
        """
        from lossviz.ui import export

        shown = st.session_state.setdefault(self._picture_key, {})  # chart() keeps it current

        def title(key: str) -> str:  # "nn_slice_3d" of lossviz_nn: "Slice 3-D" (not "Nn slice 3d")
            words = key.removesuffix("_chart").removeprefix(file_stem.removeprefix("lossviz_") + "_")
            return (titles or {}).get(key) or words.replace("_3d", "_3-D").replace("_", " ").capitalize()

        animated = next((key for key, spec in self.drawn.items() if spec.get("frames")), None)
        if animated is not None:
            export.animation_button(lambda: shown[animated], f"{file_stem}_animation",
                                    lambda: tuple(sorted(st.query_params.to_dict().items())), container)
        export.image_buttons({title(k): (lambda k=k: shown[k]) for k in self.drawn}, file_stem, container)

    def write_link(self, active: Sequence[str] | None = None) -> None:
        """Write the settings that matter now (``active`` keys; default all) and projector mode to the URL."""
        keys = set(active) if active is not None else {f.key for f in self.fields}
        chosen = [f for f in self.fields if f.key in keys]
        if self.present:
            chosen.append(PRESENT)
        url.write(chosen)


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def open_page(page_id: str, fields: Sequence[Field], *, scenarios: Mapping[str, LessonScenario] | None = None,
              default: str | None = None, expand: Callable[[Mapping[str, Any]], dict] | None = None,
              adapt: Callable[[dict, Mapping[str, str]], dict] | None = None) -> Page:
    """Set the page up and read the link; return the :class:`Page` that draws the shared pieces.

    ``default`` names the scenario whose settings fill what a link leaves out; a visit without any
    setting in the link shows it with its lesson. ``adapt(defaults, query)`` may change those defaults
    to suit what the link does set (the Explorer's start and rates for the link's surface).
    """
    nav.through_entry_point()
    info = catalog.get(page_id)
    present = st.query_params.get(PRESENT.key) == "1" or bool(st.session_state.get(PRESENT.key))
    st.set_page_config(page_title=f"{info.title} · lossviz", layout="wide",
                       initial_sidebar_state="collapsed" if present else "auto")
    page = Page(page_id, list(fields), dict(scenarios or {}), expand or dict)
    defaults = page.values_of(default) if default else {}
    if adapt is not None and default:
        defaults = adapt(defaults, st.query_params.to_dict())
    fresh = f"_url_seeded::{page_id}" not in st.session_state
    page.notices = url.seed_from_url(page_id, [*page.fields, PRESENT], defaults)
    if fresh and default and not any(f.key in st.query_params for f in page.fields):
        st.session_state[page._note_key] = st.session_state[page._pick_key] = default
    nav.sidebar(page)
    if page.present:
        _projector_style()
    st.title(info.title)
    for notice in page.notices:
        text.notice(notice, "warning")
    if page.present:
        page.top = st.container(key="main_figure")
    return page


_LINE_EM = 1.3  # plotly.js's line spacing in multi-line text
_PLOTLY_FONT_PX = 12  # plotly.js's default font size


def _make_room_for_titles(layout: dict, before: list[dict]) -> None:
    """Room for titles standing on a panel's top edge (the small multiples' panel titles: paper
    coordinates, ``yanchor="bottom"``), whose type grew from ``before`` to ``layout["annotations"]``.

    The gaps above the panels were sized for the titles' normal type: each grows by what its titles' lines
    grew (plotly spaces lines 1.3 em apart), the top row's in the top margin. The figure keeps its height
    (projector mode puts the main figure on the first screen), so the panels give up the room, all in the
    same proportion. Everything placed in paper coordinates along y (axis domains, annotations, shapes,
    images) keeps its place relative to the panels."""
    growth: dict[float, float] = {}
    for old, new in zip(before, layout["annotations"]):
        if old.get("yref") == "paper" and old.get("yanchor") == "bottom":
            lines = 1 + str(old.get("text", "")).count("<br>")
            larger = new["font"]["size"] - old.get("font", {}).get("size", _PLOTLY_FONT_PX)
            grown = _LINE_EM * larger * lines
            top = round(float(old.get("y", 0.5)), 9)
            growth[top] = max(growth.get(top, 0.0), grown)
    growth = {top: math.ceil(px) for top, px in growth.items() if px > 0}
    if not growth:
        return
    margin = dict(layout.get("margin", {}))
    height = layout.get("height", 450)
    plot = height - margin.get("t", 100) - margin.get("b", 80)
    inside = {top: px for top, px in growth.items() if top < 1}  # gaps between rows
    added, top_row = sum(inside.values()), growth.get(1.0, 0)
    new_plot = plot - top_row
    if new_plot - added < plot / 2:  # no room to give: leave the figure as it was
        return
    scale = (new_plot - added) / plot

    def moved(y: float) -> float:
        """Paper y of a point ``y`` once the gaps above the rows' tops at or above it have grown."""
        below_top = (1 - y) * plot * scale + sum(px for top, px in inside.items() if top >= y - 1e-9)
        return 1 - below_top / new_plot

    if added or top_row:
        for name, axis in list(layout.items()):
            if name.startswith("yaxis") and isinstance(axis, dict) and "domain" in axis:
                layout[name] = {**axis, "domain": [moved(axis["domain"][0]), moved(axis["domain"][1])]}
        layout["annotations"] = [{**a, "y": moved(a["y"])} if a.get("yref") == "paper" and "y" in a else a
                                 for a in layout["annotations"]]
        for key, ends in (("shapes", ("y0", "y1")), ("images", ("y",))):
            layout[key] = [{**item, **{e: moved(item[e]) for e in ends if e in item}}
                           if item.get("yref") == "paper" else item for item in layout.get(key, [])]
    margin["t"] = margin.get("t", 100) + top_row
    layout["margin"] = margin


_CHAR_EM = 0.55  # the width of an average character of plotly's sans-serif type, in ems (a generous guess)
_TITLE_PX = 24  # projector mode's axis and figure titles


def _longest_line_px(title: str, size: int = _TITLE_PX) -> float:
    return max(len(line) for line in title.split("<br>")) * _CHAR_EM * size


def _wrapped(title: str, room_px: float, size: int = _TITLE_PX, lines: int = 3) -> str:
    """``title`` broken at spaces into the fewest lines (at most ``lines``) that each fit ``room_px`` at
    ``size`` px; as it was when none do, or broken into ``lines`` lines when ``room_px`` is 0. A title
    with its own line breaks is left as it is."""
    words = title.split(" ")
    if "<br>" in title or len(title) * _CHAR_EM * size <= room_px:
        return title
    for count in range(2, lines + 1):
        per_line = math.ceil(len(title) / count)
        lines_, line = [], ""
        for word in words:
            if line and len(line) + 1 + len(word) > per_line and len(lines_) < count - 1:
                lines_.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines_.append(line)
        if max(len(one) for one in lines_) * _CHAR_EM * size <= room_px or (room_px == 0 and count == lines):
            return "<br>".join(lines_)
    return title


def _clear_of_the_axes(layout: dict, grow: bool) -> None:
    """Room for the larger type where a figure's layout, made for normal type, no longer has it.

    - A legend under the plot (``y < 0``) with an x axis title under the plot too: the title grows
      into the legend (the Neural net page's PCA plane). The legend goes above the plot instead.
    - A y axis title longer than its panel is tall (two panels stacked, a short figure) runs into the
      next panel's title or the legend: it is broken into lines that fit and, where that is not enough
      and the figure may ``grow`` (not the main figure, which must stay on the first screen), the
      figure grows until two lines do (the Neural net page's two panels beside the plane).
    """
    legend = layout.get("legend", {})
    x_titles = any(name.startswith("xaxis") and isinstance(axis, dict) and
                   (axis.get("title") or {}).get("text") for name, axis in layout.items())
    share = 0.9
    if legend.get("y", 1) < 0 and x_titles:
        layout["legend"] = {**legend, "y": 1.02, "yanchor": "bottom"}
        share = 0.8  # the legend's rows now come off the plot's height too
    titled = [(name, axis) for name, axis in layout.items() if name.startswith("yaxis")
              and isinstance(axis, dict) and (axis.get("title") or {}).get("text")]
    margin = layout.get("margin", {})
    plot_px = layout.get("height", 450) - margin.get("t", 100) - margin.get("b", 80)
    if grow:
        needed = max((_longest_line_px(_wrapped(str(axis["title"]["text"]), 0.0, lines=2))
                      / (share * (axis.get("domain", [0, 1])[1] - axis.get("domain", [0, 1])[0]))
                      for _, axis in titled), default=0.0)
        if needed > plot_px:
            layout["height"] = layout.get("height", 450) + math.ceil(needed - plot_px)
            plot_px = math.ceil(needed)
    for name, axis in titled:
        low, high = axis.get("domain", [0, 1])
        wrapped = _wrapped(str(axis["title"]["text"]), share * (high - low) * plot_px)
        layout[name] = {**axis, "title": {**axis["title"], "text": wrapped}}


def fitted(spec: dict) -> dict:
    """``spec`` with every y axis title that is longer than its panel is tall broken into lines that fit (a
    copy when one is; the spec itself otherwise): such a title stands out of the figure, cut at both ends
    (the Explorer's distance chart on a typed formula: "distance to the nearest lowest minimum found in the
    view"). Titles are read at their own size, else plotly's for an axis title (1.2 x the figure's type);
    a wrapped title's axis makes room for it (``automargin``). Projector mode does this at its own type
    (:func:`projector`)."""
    layout = spec.get("layout") or {}
    font = (layout.get("font") or {}).get("size") or 12
    margin = layout.get("margin") or {}
    plot_px = layout.get("height", 450) - margin.get("t", 100) - margin.get("b", 80)
    changed = {}
    for name, axis in layout.items():
        title = axis.get("title") if name.startswith("yaxis") and isinstance(axis, dict) else None
        title = {"text": title} if isinstance(title, str) else title
        if not isinstance(title, dict) or not title.get("text"):
            continue
        low, high = axis.get("domain", [0, 1])
        size = (title.get("font") or {}).get("size") or round(1.2 * font)
        text = str(title["text"])
        wrapped = _wrapped(text, 0.9 * (high - low) * plot_px, size)
        if wrapped != text:
            changed[name] = {**axis, "title": {**title, "text": wrapped}, "automargin": True}
    return {**spec, "layout": {**layout, **changed}} if changed else spec


def projector(spec: dict, grow: bool = False) -> dict:
    """A figure spec in projector type: ticks and legends at 18 px, titles at 24 px (a copy). Every axis
    makes room for its larger ticks and title (``automargin``): the figures' margins are sized for normal
    type, and at 1366 px the Models map's x title sat on its tick labels. Legends and y titles that the
    larger type would run into are moved or broken into lines (:func:`_clear_of_the_axes`); with
    ``grow``, a figure may grow taller for them."""
    layout = dict(spec.get("layout", {}))
    layout["font"] = {**layout.get("font", {}), "size": 18}
    layout["legend"] = {**layout.get("legend", {}), "font": {"size": 18}}
    if "title" in layout:
        title = layout["title"] if isinstance(layout["title"], dict) else {"text": layout["title"]}
        layout["title"] = {**title, "font": {"size": 24}}
    for name, axis in list(layout.items()):
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            title = axis.get("title", {})
            title = title if isinstance(title, dict) else {"text": title}
            layout[name] = {**axis, "tickfont": {"size": 18}, "title": {**title, "font": {"size": _TITLE_PX}},
                            "automargin": True}
    _clear_of_the_axes(layout, grow)
    if layout.get("annotations"):
        layout["annotations"] = [
            {**a, "font": {**a.get("font", {}), "size": max(18, a.get("font", {}).get("size", 0))}}
            for a in layout["annotations"]]
        _make_room_for_titles(layout, spec["layout"]["annotations"])
    if layout.get("sliders") or layout.get("updatemenus"):
        # The Play buttons and the step slider hang below the x axis by pixel paddings
        # (viz.landscape.play_below_axis_title): 24 px more for the larger axis title, and room for it.
        margin = dict(layout.get("margin", {}))
        margin["b"] = margin.get("b", 80) + 48
        layout["margin"] = margin
        layout["height"] = layout.get("height", 450) + 48
        layout["updatemenus"] = [{**m, "pad": {**m.get("pad", {}), "t": m.get("pad", {}).get("t", 0) + 24}}
                                 for m in layout.get("updatemenus", [])]
        layout["sliders"] = [{**s, "pad": {**s.get("pad", {}), "t": s.get("pad", {}).get("t", 0) + 24}}
                             for s in layout.get("sliders", [])]
    return {**spec, "layout": layout}


def _projector_style() -> None:
    """Large type for a projector, and a tight top so the main figure fits the first screen."""
    st.html("""<style>
      [data-testid="stMainBlockContainer"] { padding-top: 3.25rem; max-width: 100%; }
      [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.25rem; }
      h1 { font-size: 1.9rem !important; padding: 0 0 0.25rem 0 !important; }
    </style>""")
