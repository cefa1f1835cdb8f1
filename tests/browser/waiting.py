"""Waiting for the page to catch up: bounded polling (tests assert on outcomes, never on durations)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float = 60.0) -> bool:
    """Poll ``predicate`` every 50 ms for up to ``timeout`` seconds (generous: CI machines are slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())
