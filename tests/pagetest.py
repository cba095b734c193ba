"""What AppTest page tests share: the figures a page sent, decoded as the browser would see them."""
from __future__ import annotations

import ast
import base64
import html
import json
import re
import time
import tracemalloc

import numpy as np
import streamlit as st
from streamlit.testing.v1 import AppTest

from lossviz.ui.export import CODE_KEY
from lossviz.ui.live_plotly import COMPONENT_NAME, expand


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 120,
              code: bool = True) -> AppTest:
    """Run a page file, opened through a link carrying ``query``; with ``code``, its code blocks opened as
    a reader opens them (lossviz.ui.export.code_block draws its code only while open: a second run)."""
    at = AppTest.from_file(page, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    closed = [key for key in at.session_state.keys()
              if str(key).startswith(CODE_KEY) and not at.session_state[key]]
    if code and closed and not at.exception:
        for key in closed:
            at.session_state[key] = True
        at.run()
    return at


def notices(at: AppTest, kind: str | None = None) -> list[str]:
    """The literal notices on the page (lossviz.ui.text.notice), as the text a reader sees."""
    found = []
    for element in at.get("html"):
        body = element.proto.body
        match = re.search(r'data-lv-notice="(\w+)"', body)
        if match and (kind is None or match.group(1) == kind):
            inner = re.sub(r"<span[^>]*>.*?</span>", "", body, count=1)
            found.append(html.unescape(re.sub(r"<[^>]+>", "", inner)).strip())
    return found


def errors(at: AppTest) -> list[str]:
    """Every refusal on the page: literal error notices and any st.error."""
    return [e.value for e in at.error] + notices(at, "error")


def warnings(at: AppTest) -> list[str]:
    """Every warning on the page: literal warning notices and any st.warning."""
    return [w.value for w in at.warning] + notices(at, "warning")


def assert_clean(at: AppTest, errors: bool = False) -> None:
    """No traceback on the page (and, with ``errors``, no refusal shown either)."""
    assert not at.exception, [e.value for e in at.exception]
    if errors:
        shown = globals()["errors"](at)
        assert not shown, shown


def decode(array) -> np.ndarray:
    """A figure array as plotly.js reads it: a list, or plotly's base64 ``{"dtype", "bdata", "shape"}``."""
    if isinstance(array, dict) and "bdata" in array:
        data = np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
        shape = array.get("shape")
        return data.reshape([int(s) for s in str(shape).split(",")]) if shape else data
    return np.asarray(array, dtype=float)


def figures(at: AppTest) -> list[dict]:
    """Every figure on the page: ``st.plotly_chart`` specs, then live charts (lossviz.ui.live_plotly)."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    for element in at.get("component_instance"):
        if element.proto.component_name.endswith(COMPONENT_NAME):
            specs.append(expand(json.loads(json.loads(element.proto.json_args)["spec"])))
    return specs


def figure_of_type(at: AppTest, trace_type: str, nth: int = 0) -> dict:
    """The ``nth`` figure whose first trace is ``trace_type`` ("contour", "surface", "scatter"...)."""
    found = [spec for spec in figures(at) if spec.get("data") and spec["data"][0]["type"] == trace_type]
    assert len(found) > nth, f"no figure number {nth} of type {trace_type} on the page"
    return found[nth]


def chart(at: AppTest, key: str) -> dict:
    """The figure of the live chart ``key`` (lossviz.ui.live_plotly), with ``"stale"``: drawn greyed out."""
    for element in at.get("component_instance"):
        if element.proto.component_name.endswith(COMPONENT_NAME) and getattr(element, "key", None) == key:
            args = json.loads(element.proto.json_args)
            return expand(json.loads(args["spec"])) | {"stale": bool(args.get("stale"))}
    raise AssertionError(f"no live chart {key!r} on the page")


def charts(at: AppTest) -> list[str]:
    """The keys of the live charts on the page, in page order."""
    return [element.key for element in at.get("component_instance")
            if element.proto.component_name.endswith(COMPONENT_NAME)]


# A 277-character formula of eleven sin*cos terms: the heavy formula of the pages' work-budget tests.
_TERMS = [(1.1, 0.9), (1.3, 1.7), (0.7, 2.1), (1.9, 0.3), (2.3, 1.1), (0.5, 1.5), (1.7, 2.9), (2.7, 0.7),
          (3.1, 1.3), (0.9, 2.3), (1.2, 0.4)]
HEAVY_FORMULA = " + ".join(f"sin({a}*x)*cos({b}*y)" for a, b in _TERMS) + " + 0.1*(x^2+y^2)"


def cold_cost(page: str, query: dict[str, str]) -> tuple[AppTest, float, int]:
    """Open ``page`` through a link on cold caches: the AppTest, the CPU seconds that run took, and the peak
    memory it allocated (bytes, traced on a second cold open, since tracing slows a run down).

    The page is opened once first, so imports and its default picture are not counted as the link's cost.
    """
    open_page(page, code=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    before = time.process_time()
    at = open_page(page, query, code=False)  # a visit as a reader opens it: code blocks closed
    seconds = time.process_time() - before
    st.cache_resource.clear()
    st.cache_data.clear()
    tracemalloc.start()
    try:
        open_page(page, query, code=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return at, seconds, peak


def lowered(refusal: str, knob: str) -> str | None:
    """The value a budget refusal advises for setting ``knob`` ("Lower steps from 2000 to 137"), or None."""
    match = re.search(rf"{re.escape(knob)} from [\d.]+ to (\d+(?:\.\d+)?)", refusal)
    return match.group(1) if match else None


def statements(code: str) -> str:
    """A generated script's statements with every constant and the loss expression blanked: its shape
    alone, to compare the code built from hostile text with the code built from plain text."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "loss" for t in node.targets):
            node.value = ast.Name(id="LOSS")
        if isinstance(node, ast.Constant):
            node.value = None
    return ast.dump(tree)
# Text a stranger could put where a page shows or exports a name: Markdown and HTML that would act if
# interpreted, line breaks (and Python's other line ends) that would end a comment, quotes that would end
# a string literal, a formula prefix for spreadsheets.
HOSTILE_NAMES = (
    "[log in](http://evil.example/login) ![t](http://evil.example/p.png)",
    "<a href='http://evil.example'>x</a><img src=x onerror=alert(1)>",
    "t\nimport os; open('owned.txt','w').write('pwned')  #",
    "a\rb\x0bc\x0cd\x1ce\x85f\u2028g\u2029h",
    "'\"\"\"; raise SystemExit  # \\",
    "=HYPERLINK(\"http://evil.example\")",
)


def code_shape(code: str) -> str:
    """A script's statements with every constant blanked: equal for two scripts that do the same things
    and differ only in the text and numbers they hold (``ast``; a SyntaxError if it does not parse)."""
    import ast

    class Blank(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.Constant:
            return ast.Constant(value=type(node.value).__name__)

    return ast.dump(Blank().visit(ast.parse(code)))


def run_script(code: str, folder, name: str = "script.py") -> list:
    """Run generated code as a user would (its own process, no lossviz on the path); its JSON lines."""
    import json
    import os
    import subprocess
    import sys

    path = folder / name
    path.write_text(code)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=folder, env={**os.environ, "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.strip().splitlines()]


def open_measured(page: str, query: dict[str, str], timeout: float = 240) -> tuple[AppTest, float, int]:
    """Open a page cold (every cache cleared) through a link: the app, its CPU seconds and peak new bytes.

    As :func:`cold_cost` measures (but with the code blocks opened as a reader opens them): the page is
    opened once first, so imports and its default picture are not counted as the link's cost, and the
    memory is traced on a second cold open. Traced, the run itself took 6.2 s of CPU on this machine's
    slower CPU where it takes 0.9 s: tracemalloc's hook on every allocation, not the page's work.
    """
    import time
    import tracemalloc

    import streamlit as st

    open_page(page, code=False, timeout=timeout)
    st.cache_data.clear()
    st.cache_resource.clear()
    cpu = time.process_time()
    at = open_page(page, query, timeout)
    cpu = time.process_time() - cpu
    st.cache_data.clear()
    st.cache_resource.clear()
    tracemalloc.start()
    try:
        open_page(page, query, timeout)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return at, cpu, peak


def assert_literal_notices(at: AppTest, value: str, count: int) -> None:
    """``count`` warning notices, none Markdown, and nothing on the page renders ``value`` as markup."""
    assert len(notices(at, "warning")) == count and not at.warning
    bodies = [element.proto.body for element in at.get("html")]
    assert not any("<a " in b or "<img" in b for b in bodies)
    assert not any(value[:12] in m.value for m in [*at.markdown, *at.caption])


def assert_notice_names_the_label(at: AppTest, key: str, label: str, words: str) -> None:
    """A refused link value's notice says ``words`` about the setting by its ``label``, never its ``key``."""
    shown = warnings(at)
    assert any(f"“{label}”" in w and words in w for w in shown), shown
    assert not any(f"{key}=" in w or f"“{key}”" in w for w in shown if key != label), shown
