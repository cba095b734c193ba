"""Every cache the app keeps is bounded, so thirty students trying settings cannot grow the server's memory.

Read from the source (the pages cannot be imported outside a script run): every ``st.cache_data`` /
``st.cache_resource`` must say ``max_entries`` or ``ttl``, and every ``functools`` cache a ``maxsize``,
unless its arguments come from a finite set named below with the reason.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lossviz.ui.catalog import ROOT

STREAMLIT_CACHES = {"cache_data", "cache_resource"}
FUNCTOOLS_CACHES = {"lru_cache", "cache"}
# (file, function): why an unbounded functools cache is bounded anyway.
FINITE_DOMAIN = {
    ("lossviz/ui/controls.py", "slot_fields"): "slot is 1..6 and default_name an optimizer name",
    ("lossviz/ui/controls.py", "knobs"): "name is an optimizer name",
}


def _sources() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
             *sorted((ROOT / "lossviz").rglob("*.py"))]
    return [f for f in files if f.is_file()]


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _keywords(node: ast.expr) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in node.keywords if k.arg} if isinstance(node, ast.Call) else {}


def _is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _functools_unbounded(decorator: ast.expr) -> bool:
    if not isinstance(decorator, ast.Call):
        return _name(decorator) == "cache"  # a bare @lru_cache keeps 128 entries; @cache keeps all
    if decorator.args:
        return _is_none(decorator.args[0])
    return _is_none(_keywords(decorator).get("maxsize", ast.Constant(128)))


def cache_uses(path: Path) -> list[tuple[str, str, int, ast.expr]]:
    """(kind, function name, line, decorator or call) of every cache decorator or wrapper call."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    seen_calls = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                kind = _name(decorator)
                if kind in STREAMLIT_CACHES | FUNCTOOLS_CACHES:
                    found.append((kind, node.name, decorator.lineno, decorator))
                    seen_calls.add(id(decorator))
    for node in ast.walk(tree):
        # st.cache_data(max_entries=...)(function) or lru_cache(...)(function) outside a decorator.
        if isinstance(node, ast.Call) and id(node) not in seen_calls and _name(node) in STREAMLIT_CACHES:
            found.append((_name(node), "<call>", node.lineno, node))
    return found


def _unbounded(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    problems = []
    for kind, function, line, node in cache_uses(path):
        where = f"{relative}:{line} {function}"
        if kind in STREAMLIT_CACHES:
            keywords = _keywords(node)
            if _is_none(keywords.get("max_entries")) and _is_none(keywords.get("ttl")):
                problems.append(f"{where}: st.{kind} without max_entries or ttl")
        elif _functools_unbounded(node):
            if (relative, function) not in FINITE_DOMAIN:
                problems.append(f"{where}: functools.{kind} without maxsize")
    return problems


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_cache_is_bounded(path):
    assert _unbounded(path) == []


def test_the_app_has_caches_to_check_and_every_one_is_the_kits():
    # Guards the scan itself (the shared cache module's caches are found), and the architecture: cached
    # calls are the kit's, defined once for every page (lossviz/ui/cache.py); no page keeps one of its own.
    uses = {p.relative_to(ROOT).as_posix(): cache_uses(p) for p in _sources()}
    assert len(uses["lossviz/ui/cache.py"]) >= 3
    assert [p for p in uses if p.startswith("pages/") and uses[p]] == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("import streamlit as st\n@st.cache_data\ndef f(x):\n    return x\n", "without max_entries or ttl"),
        ("import streamlit as st\n@st.cache_resource(show_spinner=False)\ndef f(x):\n    return x\n",
         "without max_entries or ttl"),
        ("import streamlit as st\n@st.cache_data(max_entries=None)\ndef f(x):\n    return x\n",
         "without max_entries or ttl"),
        ("import streamlit as st\ng = st.cache_data(show_spinner=False)(len)\n",
         "without max_entries or ttl"),
        ("from functools import lru_cache\n@lru_cache(maxsize=None)\ndef f(x):\n    return x\n",
         "without maxsize"),
        ("import functools\n@functools.cache\ndef f(x):\n    return x\n", "without maxsize"),
        ("from functools import lru_cache\n@lru_cache(None)\ndef f(x):\n    return x\n", "without maxsize"),
    ],
)
def test_the_scan_finds_unbounded_caches(tmp_path, monkeypatch, source, problem):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    path = tmp_path / "page.py"
    path.write_text(source)
    problems = _unbounded(path)
    assert len(problems) == 1 and problem in problems[0]


@pytest.mark.parametrize(
    "source",
    [
        "import streamlit as st\n@st.cache_data(max_entries=8)\ndef f(x):\n    return x\n",
        "import streamlit as st\n@st.cache_resource(ttl=600)\ndef f(x):\n    return x\n",
        "from functools import lru_cache\n@lru_cache(maxsize=64)\ndef f(x):\n    return x\n",
        "from functools import lru_cache\n@lru_cache\ndef f(x):\n    return x\n",
    ],
)
def test_the_scan_accepts_bounded_caches(tmp_path, monkeypatch, source):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    path = tmp_path / "page.py"
    path.write_text(source)
    assert _unbounded(path) == []
