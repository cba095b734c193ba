"""``ast.parse`` that is safe to call from Streamlit's many script threads at once.

CPython 3.11 (before 3.11.9) keeps the AST constructor's recursion depth in per-interpreter state, not per
call. When a garbage collection inside one thread's parse lets another thread run (a ``gc`` callback, a
finalizer), a second parse moves that shared depth and the first fails with ``SystemError: AST constructor
recursion depth mismatch`` (python/cpython#106905). Under load that reached a student as an exception on
the Momentum page. Every parse in the library goes through :func:`parse`, which lets one thread at a time
build a tree; a parse of a page's short texts takes microseconds, so the lock costs nothing measurable.

>>> parse("x + 1", mode="eval").body.op.__class__.__name__
'Add'
"""
from __future__ import annotations

import ast
import threading

__all__ = ["parse"]

_LOCK = threading.RLock()  # re-entrant: a parse inside a gc callback of a parse must not deadlock


def parse(source: str, mode: str = "exec") -> ast.AST:
    """:func:`ast.parse` of ``source`` in ``mode``, one thread at a time (see the module's docstring)."""
    with _LOCK:
        return ast.parse(source, mode=mode)
