"""A bounded, shared cache for computations that report progress to the page while they run.

``st.cache_data`` and ``st.cache_resource`` record every element a cached function draws and replay it on a
cache hit; a progress bar created outside the function and updated from inside breaks that replay
(``CacheReplayClosureError``). Here the computation runs outside Streamlit's element recording, so it may
update an ``st.progress`` bar, while the results live in one ``st.cache_resource`` store per name, shared
by every session and bounded to ``max_entries`` (least recently used first out).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

__all__ = ["cached"]

T = TypeVar("T")


# One store per page name: a handful, bounded anyway so the cache test can prove it.
@st.cache_resource(max_entries=32, show_spinner=False)
def _store(name: str) -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


def cached(name: str, key: Hashable, compute: Callable[[], T], max_entries: int = 16) -> T:
    """``compute()``'s result for ``key`` from store ``name``, computing it (outside the lock) on a miss.

    ``key`` must be built from hashable primitives (names, numbers, tuples). Two sessions missing the same
    key at once both compute it; the later result replaces the earlier, which is equal.
    """
    store, lock = _store(name)
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    value = compute()
    with lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > max_entries:
            store.popitem(last=False)
    return value
