"""The same link gives the same figure data: every page, two fresh sessions, caches cleared in between.

A page writes its settings into the URL; a second session opened on that URL must draw exactly the same
traces (same numbers, bit for bit), so a teacher's shared link shows every student the same picture.
The caches are cleared between sessions so the second one recomputes instead of reading the first's
result. Across a real server restart (a fresh process, a new hash seed): tests/e2e/test_determinism.py.
"""
from __future__ import annotations


import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lossviz.ui.catalog import PAGES, ROOT
from tests.pagetest import figures

EXISTING = [page for page in PAGES if page.exists]


def _session(page, query: dict[str, str] | None = None) -> AppTest:
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / page.path), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def figure_data(at: AppTest) -> list[dict]:
    """Every chart's traces and animation frames (live charts included), as the browser would receive them."""
    return [{"data": spec.get("data", []), "frames": spec.get("frames", [])} for spec in figures(at)]


def _link(at: AppTest) -> dict[str, str]:
    return {key: at.query_params[key] if isinstance(at.query_params[key], str) else at.query_params[key][-1]
            for key in at.query_params}


def _nudge_first_slider(at: AppTest) -> str | None:
    """Move the first slider that the link carries off its default, so the link is not the default one."""
    linked = _link(at)
    for slider in at.slider:
        movable = slider.key in linked and not slider.proto.disabled and slider.max > slider.min
        if movable and not isinstance(slider.value, tuple | list):
            step = (slider.step or (slider.max - slider.min) / 10) * 3
            target = slider.value + step if slider.value + step <= slider.max else slider.value - step
            slider.set_value(type(slider.value)(target)).run()
            return slider.key
    return None


@pytest.mark.parametrize("page", EXISTING, ids=lambda p: p.url_path)
def test_a_shared_link_reproduces_every_figure(page):
    first = _session(page)
    assert not first.exception, [e.value for e in first.exception]
    moved = _nudge_first_slider(first)
    assert not first.exception, [e.value for e in first.exception]
    link = _link(first)
    if moved is not None:
        assert moved in link, f"{moved} moved but is not in the link {link}"
    expected = figure_data(first)
    assert expected, f"{page.title} draws no figure"

    for _ in range(2):
        second = _session(page, link)
        assert not second.exception, [e.value for e in second.exception]
        assert not second.warning or all("Link setting" not in w.value for w in second.warning), \
            [w.value for w in second.warning]
        assert figure_data(second) == expected
