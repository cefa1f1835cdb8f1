"""Closed sessions are destroyed without stalling the others (issue 10, point 3).

Bokeh destroys every expired session in one go and runs a full ``gc.collect()`` for each: with 30
sessions closing, the event loop stopped for seconds. The server now destroys them one at a time with
the event loop free in between, empties each destroyed document's models so reference counting frees
them, and lets Bokeh's per-document collection look at the youngest generation only. The figure (the
longest frame gap of the sessions that stay) comes from ``bench/close_storm.py``; these tests check
the mechanism, not the clock.
"""

from __future__ import annotations

import gc
import threading
import urllib.request
import weakref

import pytest
from waiting import wait_until

from courseware.server.runner import BackgroundServer, ServeOptions

SESSIONS = 6


@pytest.fixture
def running():
    options = ServeOptions(port=0, unused_session_lifetime_ms=60_000, check_unused_sessions_ms=100)
    background = BackgroundServer(options)
    with background as server:
        yield background, server


def expire_all(server) -> None:
    """Make every session due for destruction at once (Bokeh's hook for tests)."""
    for context in server.tornado._applications.values():
        for session in context.sessions:
            session.request_expiration()


def open_pages(server, count: int) -> None:
    for index in range(count):
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/playground?seed=0.{index + 1}", timeout=30):
            pass


def test_sessions_are_destroyed_one_at_a_time_with_the_event_loop_free_between(running) -> None:
    background, server = running
    turns = {"count": 0, "on": True}
    seen: list[int] = []

    def spin() -> None:  # one increment per event-loop iteration
        turns["count"] += 1
        if turns["on"]:
            server.io_loop.add_callback(spin)

    release = server.state.release

    def recorded(session_id: str) -> None:
        seen.append(turns["count"])
        release(session_id)

    background.call(lambda: setattr(server.state, "release", recorded))
    open_pages(server, SESSIONS)
    background.call(lambda: server.io_loop.add_callback(spin))
    background.call(lambda: expire_all(server))  # a class closing its tabs: all due in the same pass
    assert wait_until(lambda: server.state.destroyed == SESSIONS, timeout=60)
    turns["on"] = False
    assert len(seen) == SESSIONS
    assert all(b > a for a, b in zip(seen, seen[1:])), f"no event-loop turn between destructions: {seen}"


def test_a_destroyed_session_is_freed_without_a_full_collection(running, monkeypatch) -> None:
    background, server = running
    collections: list[int] = []
    real_collect = gc.collect
    lock = threading.Lock()

    def counting_collect(generation: int = 2) -> int:
        with lock:
            collections.append(generation)
        return real_collect(generation)

    monkeypatch.setattr(gc, "collect", counting_collect)
    open_pages(server, 1)
    refs = background.call(
        lambda: [weakref.ref(m) for s in server.state.live.values() for m in (s.doc, *s.doc.roots)]
        + [weakref.ref(s) for s in server.state.live.values()]
    )
    assert len(refs) > 2
    gc.disable()  # whatever is freed now is freed by reference counting alone
    try:
        background.call(lambda: expire_all(server))
        assert wait_until(lambda: server.state.destroyed == 1, timeout=60)
        assert background.call(lambda: [r for r in refs if r() is not None]) == []
    finally:
        gc.enable()
    assert all(generation < 2 for generation in collections), f"full collections: {collections}"
