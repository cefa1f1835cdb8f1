"""Time in the tests: one bounded poll for outcomes, and a clock that only moves when told.

Tests assert on outcomes, never on durations. :func:`wait_until` polls a condition on something that
runs by itself (a server thread, a browser); :class:`ManualClock` replaces the session's clock where
the test drives the frames itself, so a slow machine can never make a frame run "over budget" and
change what the session does next.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` every ``interval`` s for up to ``timeout`` s (generous: CI machines are slow);
    return whether it came true. Tests assert on the result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class ManualClock:
    """A clock for a session (``build_playground(..., clock=ManualClock())``): it stands still until
    :meth:`advance`, so no frame ever takes time and throttled redraws happen exactly when advanced.
    With ``tick``, every reading moves it on by that much (a frame then "takes" a known time)."""

    def __init__(self, start: float = 1000.0, tick: float = 0.0) -> None:
        self.now = start
        self.tick = tick

    def __call__(self) -> float:
        now = self.now
        self.now += self.tick
        return now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds
