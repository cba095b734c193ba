"""Markers drawn in their hundreds are made translucent by their colour's alpha, never by ``opacity``.

Plotly writes a marker's ``opacity`` on every point as a CSS opacity, and the browser's compositor makes
each such point a layer of its own: Batch size's 4,500 translucent iterates cost about 30 ms of every
frame there (Chromium trace, 2026-12-06). Every page's default figures are checked.
"""
from __future__ import annotations

import pytest

from lossviz.ui.catalog import PAGES, ROOT
from tests.pagetest import decode, figures, open_page

MANY = 50  # points in one trace from which per-point layers add up


def _point_count(trace: dict) -> int:
    return max((decode(trace[k]).size for k in ("x", "y") if trace.get(k) is not None), default=0)


@pytest.mark.parametrize("info", [p for p in PAGES if p.exists], ids=lambda p: p.url_path)
def test_no_many_point_trace_sets_a_marker_opacity(info):
    at = open_page(str(ROOT / info.path), timeout=300)
    checked = 0
    for figure in figures(at):
        for trace in figure.get("data", []):
            if trace.get("type", "scatter") != "scatter" or "markers" not in trace.get("mode", "markers"):
                continue
            if _point_count(trace) < MANY:
                continue
            checked += 1
            opacity = (trace.get("marker") or {}).get("opacity", 1.0)
            assert opacity == 1.0, (info.url_path, trace.get("name"), opacity)
    if info.url_path in ("Batch_Size", "Models_on_Data"):
        assert checked, f"{info.url_path}: no many-point marker trace found, so nothing was checked"
