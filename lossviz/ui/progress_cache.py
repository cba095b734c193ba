"""A bounded, shared cache for computations that report progress to the page while they run.

``st.cache_data`` and ``st.cache_resource`` record every element a cached function draws and replay it on a
cache hit; a progress bar created outside the function and updated from inside breaks that replay
(``CacheReplayClosureError``). Here the computation runs outside Streamlit's element recording, so it may
update an ``st.progress`` bar, while the results live in one ``st.cache_resource`` store per name, shared
by every session and bounded to ``max_entries`` (least recently used first out).

Identical work requested at once is computed once (single flight): when ten students open the same link
on a cold server, the first computes and the other nine wait for its result instead of each computing
it again on two shared cores. :func:`in_background` computes into the same stores from a thread of its
own (a page's default visit, warmed when the server starts), so a visitor who asks for the same key
meanwhile waits for that computation instead of starting another; :func:`peek` reads a store without
computing (a page that draws a coarse picture first asks whether the fine one is there already).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import streamlit as st

__all__ = ["cached", "peek", "in_background"]

T = TypeVar("T")


# One store per page name: a handful, bounded anyway so the cache test can prove it.
@st.cache_resource(max_entries=32, show_spinner=False)
def _store(name: str) -> tuple[OrderedDict, threading.Lock, dict]:
    return OrderedDict(), threading.Lock(), {}


# A background thread's stores, looked up by the script run that started it (a thread of its own has no
# Streamlit context, and st.cache_resource would warn about that on every call).
_THREAD_STORES = threading.local()


def _stores(name: str) -> tuple[OrderedDict, threading.Lock, dict]:
    resolved = getattr(_THREAD_STORES, "stores", None)
    return resolved[name] if resolved is not None and name in resolved else _store(name)


def cached(name: str, key: Hashable, compute: Callable[[], T], max_entries: int = 16) -> T:
    """``compute()``'s result for ``key`` from store ``name``, computing it (outside the lock) on a miss.

    ``key`` must be built from hashable primitives (names, numbers, tuples). A session that misses a key
    another session is computing waits for that result (an exception there is raised here too).
    """
    store, lock, running = _stores(name)
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


def peek(name: str, key: Hashable, default: object = None) -> object:
    """The result stored for ``key`` in store ``name``, or ``default``; never computes nor waits."""
    store, lock, _ = _stores(name)
    with lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    return default


_STARTED: set[str] = set()
_STARTED_LOCK = threading.Lock()


def in_background(job_name: str, job: Callable[[], object], stores: Sequence[str]) -> threading.Thread | None:
    """Run ``job`` once per process in a daemon thread, its :func:`cached` calls going to ``stores``.

    The stores are looked up here (call it from a script run), so the thread needs no Streamlit context.
    A failure ends the job quietly: whoever asks for the same keys later computes them and sees the error.
    Returns the thread, or None when a job of this name was started before.
    """
    with _STARTED_LOCK:
        if job_name in _STARTED:
            return None
        _STARTED.add(job_name)
    resolved = {name: _store(name) for name in stores}

    def run() -> None:
        _THREAD_STORES.stores = resolved
        try:
            job()
        except Exception:  # noqa: BLE001 -- a warm-up that fails leaves the work to the first visitor
            pass

    thread = threading.Thread(target=run, name=f"lossviz-warm-{job_name}", daemon=True)
    thread.start()
    return thread


class _Flight:
    """One computation under way: the others wanting its key wait for ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
