"""A bounded, shared cache for computations that report progress to the page while they run.

``st.cache_data`` and ``st.cache_resource`` record every element a cached function draws and replay it on a
cache hit; a progress bar created outside the function and updated from inside breaks that replay
(``CacheReplayClosureError``). Here the computation runs outside Streamlit's element recording, so it may
update an ``st.progress`` bar, while the results live in one ``st.cache_resource`` store per name, shared
by every session and bounded to ``max_entries`` (least recently used first out).

Identical work requested at once is computed once (single flight): when ten students open the same link
on a cold server, the first computes and the other nine wait for its result instead of each computing
it again on two shared cores.
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
def _store(name: str) -> tuple[OrderedDict, threading.Lock, dict]:
    return OrderedDict(), threading.Lock(), {}


def cached(name: str, key: Hashable, compute: Callable[[], T], max_entries: int = 16) -> T:
    """``compute()``'s result for ``key`` from store ``name``, computing it (outside the lock) on a miss.

    ``key`` must be built from hashable primitives (names, numbers, tuples). A session that misses a key
    another session is computing waits for that result (an exception there is raised here too).
    """
    store, lock, running = _store(name)
    while True:
        with lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
            flight = running.get(key)
            if flight is None:
                flight = running[key] = _Flight()
                break
        flight.done.wait()
        # A failure is this key's answer too; a computing session stopped by its own rerun is not: then
        # the next waiter computes.
        if isinstance(flight.error, Exception):
            raise flight.error
    try:
        value = compute()
    except BaseException as exc:
        flight.error = exc
        with lock:
            running.pop(key, None)
        flight.done.set()
        raise
    with lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > max_entries:
            store.popitem(last=False)
        running.pop(key, None)
    flight.done.set()
    return value


class _Flight:
    """One computation under way: the others wanting its key wait for ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
