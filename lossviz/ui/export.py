"""What a page hands out: CSV files, a figure as a stand-alone HTML page, the equivalent PyTorch code.

Every CSV goes through :func:`lossviz.csvdata.to_csv`, which escapes any cell or header a spreadsheet would
run as a formula and writes numbers exactly. Files are built when their button is clicked, not on every
rerun. A figure's HTML embeds plotly.js and the figure's own JSON (the spec the page draws), so it opens
offline and holds exactly the page's data.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import plotly
import streamlit as st

from lossviz import csvdata, torch_export
from lossviz.ui.live_plotly import figure_json

__all__ = ["Table", "csv_text", "csv_button", "figure_html", "html_button", "code_block", "downloads",
           "torch_scripts"]

Table = pd.DataFrame | Mapping[str, pd.DataFrame]


def csv_text(table: Table, label: str = "run", index: bool = False) -> str:
    """CSV of one table, or of named tables stacked under a ``label`` column; escaped (see module)."""
    return csvdata.to_csv(table, label=label, index=index)


def csv_button(title: str, table: Callable[[], Table] | Table, file_name: str, container=None, *,
               label: str = "run", index: bool = False) -> None:
    """A download button for a CSV; ``table`` may be a function, called only when the button is clicked."""
    def build() -> str:
        return csv_text(table() if callable(table) else table, label=label, index=index)

    (container or st).download_button(title, build, file_name, "text/csv", key=f"download::{file_name}")


def figure_html(spec: dict, title: str) -> str:
    """A stand-alone HTML page drawing ``spec`` (a figure spec or Figure dict) with plotly.js inlined."""
    script = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    payload = figure_json(spec).replace("</", "<\\/")  # no "</script>" can close the data block early
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
    """A download button for a figure as HTML; the page is built only when clicked."""
    def build() -> str:
        return figure_html(spec() if callable(spec) else spec, file_name.rsplit(".", 1)[0])

    (container or st).download_button(title, build, file_name, "text/html", key=f"download::{file_name}")


def downloads(buttons: Sequence[tuple[str, Callable[[], object], str, str]]) -> None:
    """Several download buttons side by side: ``(title, build, file name, mime type)``."""
    for column, (title, build, file_name, mime) in zip(st.columns(max(len(buttons), 1)), buttons):
        column.download_button(title, build, file_name, mime, key=f"download::{file_name}")


def code_block(code: str, caption: str | None = None, title: str = "Equivalent PyTorch code") -> None:
    """Generated code in an expander, shown as code (never interpreted)."""
    with st.expander(title):
        st.code(code, language="python")
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
