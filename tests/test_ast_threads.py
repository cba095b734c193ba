"""Parsing from many threads at once: Streamlit runs each session's script in its own thread.

CPython 3.11.7 (this project's interpreter) keeps the AST constructor's recursion depth in shared state, so
a parse paused in a garbage collection while another thread parses fails with "SystemError: AST
constructor recursion depth mismatch" (python/cpython#106905); under load a student saw it on the Momentum
page. ``interleaved`` forces that interleaving every time: a gc callback inside thread A's parse starts
thread B's parse and waits for it (at most half a second, so a lock that makes B wait does not hang A).
"""
from __future__ import annotations

import ast
import gc
import sys
import threading

from lossviz import _ast, expr, optimizers, torch_export

_LONG = "+".join(f"f(x{i}, [y{i}, {{'a': {i}}}])" for i in range(200))
_FORMULA = "+".join(f"sin({i}*x)*y" for i in range(25))  # under the 300-character limit


def interleaved(parse_a, parse_b) -> list[BaseException]:
    """Errors raised by ``parse_a`` (thread A) and ``parse_b`` (thread B, run inside a collection of A's)."""
    errors: list[BaseException] = []
    b_done, armed = threading.Event(), [True]

    def guarded(parse):
        try:
            parse()
        except Exception as error:  # noqa: BLE001 (every error is the finding)
            errors.append(error)

    thread_a = threading.Thread(target=guarded, args=(parse_a,))

    def callback(phase, info):
        # Only a collection inside ast.parse itself (its compile() building the tree) is the moment.
        inside_parse = sys._getframe(1).f_code is ast.parse.__code__
        if phase == "start" and armed[0] and inside_parse and threading.current_thread() is thread_a:
            armed[0] = False
            threading.Thread(target=lambda: (guarded(parse_b), b_done.set())).start()
            b_done.wait(0.5)

    old = gc.get_threshold()
    gc.set_threshold(10)
    gc.callbacks.append(callback)
    try:
        thread_a.start()
        thread_a.join(30)
        assert b_done.wait(30), "thread B never finished"
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*old)
    assert not armed[0], "no collection ran inside thread A's parse: the harness tested nothing"
    return errors


def test_the_harness_reproduces_the_interpreter_bug():
    errors = interleaved(lambda: ast.parse(_LONG, mode="eval"), lambda: ast.parse(_LONG, mode="eval"))
    if sys.version_info[:3] <= (3, 11, 7):  # the project's interpreter; fixed upstream later
        assert any("recursion depth mismatch" in str(e) for e in errors), errors


def test_parse_is_safe_across_threads():
    assert interleaved(lambda: _ast.parse(_LONG, mode="eval"), lambda: _ast.parse(_LONG, mode="eval")) == []


def test_formula_and_code_export_are_safe_across_threads():
    code = lambda: torch_export.torch_code(  # noqa: E731
        optimizers.get("sgd", lr=0.01, momentum=0.9), steps=5, x0=[1.0, 2.0],
        objective_expr=" + ".join(f"(x - {i})**2 * (y + {i})**2" for i in range(40)))
    formula = lambda: expr.parse(_FORMULA)  # noqa: E731
    assert interleaved(formula, code) == []
    assert interleaved(code, formula) == []



def test_streamlit_parses_no_page_and_no_page_needs_magic():
    """Streamlit's "magic" parses each page with ast.parse (outside the lock) on its first run in a
    process; it is off, and no page has a bare expression magic would have shown."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
    scripts = [root / "app.py", *sorted((root / "pages").glob("*.py"))]
    assert len(scripts) >= 9
    for script in scripts:
        tree = ast.parse(script.read_text())
        docstrings = {id(n.body[0]) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr)}
        shown = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Expr) and id(n) not in docstrings
                 and not isinstance(n.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom))]
        assert shown == [], (script.name, shown)
