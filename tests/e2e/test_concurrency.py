"""Three students at once on one server: each sees its own figures, nothing leaks between sessions.

The short version of ``python -m bench.load`` (20 sessions x 60 s, see the README): three Playwright
contexts open the Surface Explorer with three different start points, then keep pressing the steps
slider for 10 s each (and at least three times each, however loaded the machine). Every redraw must
show the session's own start and its own number of steps; the server log must stay free of tracebacks
(checked by the ``app_url`` fixture).
"""
from __future__ import annotations

import asyncio
import threading

from bench.load import run_sessions, session_start

SESSIONS, SECONDS, THINK, MIN_REDRAWS = 3, 10.0, 0.2, 3


def _run_in_thread(app_url: str) -> list:
    # Playwright's async API gets its own event loop, away from any sync Playwright of other tests.
    box: dict = {}

    def target() -> None:
        try:
            box["results"] = asyncio.run(run_sessions(app_url, SESSIONS, SECONDS, THINK,
                                                      min_redraws=MIN_REDRAWS))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=600)
    assert not thread.is_alive(), "the sessions did not finish within 10 minutes"
    if "error" in box:
        raise box["error"]
    return box["results"]


def test_concurrent_sessions_each_see_their_own_figures(app_url):
    starts = [session_start(i) for i in range(SESSIONS)]
    assert len(set(starts)) == SESSIONS  # otherwise a leak could not be told from a session's own figure

    results = _run_in_thread(app_url)

    assert [r.start_x for r in results] == starts
    for r in results:
        assert r.errors == [], f"session {r.index}: {r.errors}"
        assert r.leaks == [], f"session {r.index}: {r.leaks}"
        assert r.wrong == [], f"session {r.index}: {r.wrong}"
        assert r.checked >= MIN_REDRAWS and len(r.latencies_ms) == r.checked
