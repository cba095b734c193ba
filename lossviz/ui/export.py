"""What a page hands out: CSV files, a figure as a stand-alone HTML page or an image, an animation, the code.

Every CSV goes through :func:`lossviz.csvdata.to_csv`, which escapes any cell or header a spreadsheet would
run as a formula and writes numbers exactly. Files are built when their button is clicked, not on every
rerun. A figure's HTML embeds plotly.js and the figure's own JSON (the spec the page draws), so it opens
offline and holds exactly the page's data. Images (PNG at projector size, SVG) and animations (GIF and MP4
of a figure's Play frames) are drawn on the server by ``lv.plot`` (:mod:`lossviz.viz.plot`: plotly's image
export in headless Chromium).
"""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import plotly
import streamlit as st

from lossviz import csvdata, torch_export
from lossviz.ui import text
from lossviz.ui.live_plotly import figure_json

__all__ = ["Table", "csv_text", "csv_button", "figure_html", "html_button", "CODE_KEY", "code_block",
           "downloads", "torch_scripts", "image_buttons", "animation_button"]

Table = pd.DataFrame | Mapping[str, pd.DataFrame]


def csv_text(table: Table, label: str = "run", index: bool = False) -> str:
    """CSV of one table, or of named tables stacked under a ``label`` column; escaped (see module)."""
    return csvdata.to_csv(table, label=label, index=index)


def csv_button(title: str, table: Callable[[], Table] | Table, file_name: str, container=None, *,
               label: str = "run", index: bool = False, on_click: str = "ignore") -> None:
    """A download button for a CSV; ``table`` may be a function, called only when the button is clicked.

    The click does not rerun the page (``on_click="ignore"``): a rerun would grey the page for nothing
    and could replace the file being built while the browser asks for it. ``"rerun"`` restores
    Streamlit's default.
    """
    def build() -> str:
        return csv_text(table() if callable(table) else table, label=label, index=index)

    (container or st).download_button(title, build, file_name, "text/csv", key=f"download::{file_name}",
                                      on_click=on_click)


def figure_html(spec: dict, title: str) -> str:
    """A stand-alone HTML page drawing ``spec`` (a figure spec or Figure dict) with plotly.js inlined."""
    script = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    # Every array written out (plotly.js alone reads it); no "</script>" can close the data block early.
    payload = figure_json(spec, shared=False).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><script>{script}</script></head>"
        '<body style="margin:0"><div id="figure" style="width:100vw;height:100vh"></div>'
        f'<script type="application/json" id="figure-data">{payload}</script>'
        "<script>const fig = JSON.parse(document.getElementById('figure-data').textContent);"
        "fig.layout = Object.assign({}, fig.layout, {height: undefined, autosize: true});"
        "Plotly.newPlot('figure', fig.data, fig.layout, {responsive: true});</script></body></html>\n"
    )


def html_button(title: str, spec: Callable[[], dict] | dict, file_name: str, container=None) -> None:
    """A download button for a figure as HTML; the page is built only when clicked (no rerun)."""
    def build() -> str:
        return figure_html(spec() if callable(spec) else spec, file_name.rsplit(".", 1)[0])

    (container or st).download_button(title, build, file_name, "text/html", key=f"download::{file_name}",
                                      on_click="ignore")


def downloads(buttons: Sequence[tuple[str, Callable[[], object], str, str]], *,
              on_click: str = "ignore") -> None:
    """Several download buttons side by side: ``(title, build, file name, mime type)``; ``on_click`` as
    in :func:`csv_button`."""
    for column, (title, build, file_name, mime) in zip(st.columns(max(len(buttons), 1)), buttons):
        column.download_button(title, build, file_name, mime, key=f"download::{file_name}", on_click=on_click)


CODE_KEY = "code::"  # the session-state key of a code block's expander: this prefix and its title's slug


def code_block(code: str | Callable[[], str], caption: str | None = None,
               title: str = "Equivalent PyTorch code") -> None:
    """Generated code in an expander, shown as code (never interpreted); ``code`` may be a function, called
    only while the expander is open.

    The code is drawn only while its expander is open (its state is ``st.session_state`` under
    :data:`CODE_KEY` + the title's slug): closed, nothing is highlighted, which cost the browser 0.25-0.4 s
    of a page's first render and tens of milliseconds of every rerun that changed the code.
    """
    box = st.expander(title, key=CODE_KEY + _slug(title), on_change="rerun")
    if not box.open:
        return
    with box:
        st.code(code() if callable(code) else code, language="python")
        if caption:
            st.caption(caption)


def torch_scripts(runs: Sequence[tuple[str, object, object]], *, steps: int, x0: Sequence[float],
                  objective_expr: str | None = None) -> str:
    """One PyTorch script per run, one after the other: ``runs`` holds ``(label, optimizer, schedule or
    None)``. Each part starts with its label as a comment and prints it (a string literal) before the
    final parameters, so running the whole prints every run's numbers in the page's order.

    User text reaches the code only through :func:`lossviz.torch_export.comment` and
    :func:`lossviz.torch_export.literal`.
    """
    return "\n".join(f"{torch_export.comment(label)}\nprint({torch_export.literal(str(label))})\n"
                     + torch_export.torch_code(optimizer, schedule, steps=steps, x0=x0,
                                               objective_expr=objective_expr)
                     for label, optimizer, schedule in runs)


def _slug(title: str) -> str:
    return "_".join("".join(c if c.isalnum() else " " for c in title.lower()).split()) or "figure"


def image_buttons(figures: Mapping[str, object], file_stem: str, container=None, *, width: int = 1920,
                  height: int = 1080) -> None:
    """Each figure as a PNG (``width`` x ``height``: projector size) and an SVG, in an expander.

    ``figures`` maps a title to a figure (a spec, a Figure, or a function returning one; a row whose
    figure is None or empty is left out). An image is drawn only when its button is clicked, on the
    server (:func:`lossviz.viz.plot.to_image`), in the figure's still state: no Play buttons or sliders.

    The buttons are drawn only while the expander is open (its state is ``st.session_state`` under
    ``"slides::" + file_stem``): closed, it is one element on the page instead of seven a figure, which
    every rerun would send and the browser redraw.
    """
    from lossviz import plot

    def build(figure: object, fmt: str) -> Callable[[], bytes]:
        return lambda: plot.to_image(figure() if callable(figure) else figure, fmt, width=width,
                                     height=height)

    box = (container or st).expander(f"Images for slides (PNG {width} × {height}, SVG)",
                                     key=f"slides::{file_stem}", on_change="rerun")
    if not box.open:
        return
    with box:
        for title, figure in figures.items():
            if not figure:
                continue
            name, png, svg = st.columns([3, 1, 1], vertical_alignment="center")
            name.write(title)
            stem = f"{file_stem}_{_slug(title)}"
            png.download_button("PNG", build(figure, "png"), f"{stem}.png", "image/png",
                                key=f"download::{stem}.png", on_click="ignore")
            svg.download_button("SVG", build(figure, "svg"), f"{stem}.svg", "image/svg+xml",
                                key=f"download::{stem}.svg", on_click="ignore")


def animation_button(build: Callable[[], object] | object, file_stem: str, key: object, container=None, *,
                     label: str = "Animation for slides", width: int = 1280, height: int = 720,
                     fps: float = 12.0) -> None:
    """A figure's Play frames as a GIF and an MP4, drawn on the server while a progress bar counts them.

    Parameters
    ----------
    build : figure, or a function returning one
        A figure with Play frames (a spec or a Figure; :func:`lossviz.viz.plot.animation` for a race), built
        only when the animation is asked for.
    file_stem : str
        File name without extension; also names the control's state.
    key : object, or a function returning one
        What the figure shows, compared with ``==`` (a cached race's entries, its settings): the files
        made for it are offered until it changes. A function is asked each time this part reruns.
    container : where to draw (default the main area).
    label, width, height, fps : the switch's text; the frames' pixels and rate.

    Switching it on draws the frames and encodes both files, then two download buttons hand them out.
    A switch rather than a button: a page's first ``st.button`` is its scenario's Load button, for the
    page tests too. Only this part of the page reruns meanwhile (a fragment); a new race switches it off.
    """
    from lossviz import plot

    state_key, switch_key = f"_animation::{file_stem}", f"animate::{file_stem}"

    @st.fragment
    def animation() -> None:
        made, shows = st.session_state.get(state_key), key() if callable(key) else key
        if made is not None and made[0] != shows:
            made = st.session_state[state_key] = None
            st.session_state[switch_key] = False
        if not st.toggle(f"{label} (GIF and MP4)", key=switch_key,
                         help="Draws every frame on the server (a few seconds), then offers a GIF and an "
                              "MP4 of it."):
            return
        if made is None:
            bar = st.progress(0.0, text="Drawing the animation's frames…")
            try:
                figure = build() if callable(build) else build
                files = plot.render_animation(figure, ("gif", "mp4"), width=width, height=height, fps=fps,
                                              progress=lambda done: bar.progress(done, text=f"Drawing the "
                                                                                 f"animation: {done:.0%}"))
            except (RuntimeError, ModuleNotFoundError, ValueError) as exc:
                bar.empty()
                text.notice(f"The animation could not be drawn: {exc}", "error")
                return
            bar.empty()
            made = st.session_state[state_key] = (shows, files)
        gif, mp4 = st.columns(2)
        gif.download_button("Download animation (GIF)", made[1]["gif"], f"{file_stem}.gif", "image/gif",
                            key=f"download::{file_stem}.gif", on_click="ignore")
        mp4.download_button("Download animation (MP4)", made[1]["mp4"], f"{file_stem}.mp4", "video/mp4",
                            key=f"download::{file_stem}.mp4", on_click="ignore")

    if container is None:
        animation()
    else:
        with container:
            animation()
