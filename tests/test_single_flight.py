"""Identical work requested at once is computed once (issue 14: ten students opening the same link on a
cold server each trained the same network, and each tab took two minutes)."""
from __future__ import annotations

import threading
import time

import pytest

from lossviz.ui import progress_cache


def _race(name: str, key, compute, n: int = 10) -> tuple[list, list[float]]:
    results, waits = [None] * n, [0.0] * n
    barrier = threading.Barrier(n)

    def student(i: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            results[i] = progress_cache.cached(name, key, compute)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each student got
            results[i] = exc
        waits[i] = time.perf_counter() - started

    threads = [threading.Thread(target=student, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, waits


def test_ten_sessions_missing_the_same_key_compute_it_once_and_share_it():
    calls = []

    def train():
        calls.append(1)
        time.sleep(0.3)
        return object()

    results, waits = _race("single_flight_test", ("moons", 1000), train)
    assert len(calls) == 1
    assert all(r is results[0] for r in results)
    # The tenth waits for the first one's work, not for ten times it.
    assert max(waits) < 0.3 + 1.0


def test_a_failure_is_everyone_s_answer_and_the_key_is_not_kept():
    calls = []

    def broken():
        calls.append(1)
        time.sleep(0.1)
        raise ValueError("no such dataset")

    results, _ = _race("single_flight_failure", "bad", broken)
    assert len(calls) == 1 and all(isinstance(r, ValueError) for r in results)
    with pytest.raises(ValueError):
        progress_cache.cached("single_flight_failure", "bad", broken)
    assert len(calls) == 2  # not cached: tried again on the next request


def test_different_keys_are_computed_side_by_side():
    calls = []

    def work(key):
        calls.append(key)
        time.sleep(0.05)
        return key

    assert [progress_cache.cached("single_flight_keys", k, lambda k=k: work(k))
            for k in range(3)] == [0, 1, 2]
    assert calls == [0, 1, 2]
