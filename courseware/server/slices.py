"""Long work of a lesson page done in short slices, so the server keeps answering meanwhile.

A Bokeh server runs every session's callbacks on one event loop: training a compare step's variants
for 300 epochs, or replaying a step's history after a reload, in one callback would hold up every other
student's frames and clicks for as long. :class:`Slices` runs such work as an iterator, one
``next()`` being one small unit (an epoch), for at most ``SLICE_S`` per callback; the next slice is a
new next-tick callback, and between two slices the loop serves everyone else. Short work finishes in
the first slice, at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

SLICE_S = 0.02  # the most time one slice holds the event loop


class Slices:
    """One piece of sliced work at a time for a document (starting another cancels the first)."""

    def __init__(self, doc: Any, slice_s: float = SLICE_S, clock: Callable[[], float] = time.perf_counter) -> None:
        self.doc = doc
        self.slice_s = slice_s
        self.clock = clock  # the session's; with a clock that stands still, slice_s=0 makes each unit its own slice
        self._work: Iterator[Any] | None = None
        self._done: Callable[[], None] | None = None
        self._callback: Any = None

    @property
    def busy(self) -> bool:
        return self._work is not None

    def start(self, work: Iterator[Any], done: Callable[[], None] | None = None) -> None:
        """Run ``work`` to its end, then call ``done``; the first slice runs now."""
        self.cancel()
        self._work = work
        self._done = done
        self._slice()

    def cancel(self) -> None:
        if self._callback is not None:
            try:
                self.doc.remove_next_tick_callback(self._callback)
            except ValueError:  # already run, or the session is gone
                pass
            self._callback = None
        self._work = None
        self._done = None

    def _slice(self) -> None:
        self._callback = None
        work = self._work
        if work is None:
            return
        deadline = self.clock() + self.slice_s
        for _ in work:
            if work is not self._work:  # a unit of work started other work: this one is over
                return
            if self.clock() >= deadline:
                self._callback = self.doc.add_next_tick_callback(self._slice)
                return
        if work is not self._work:
            return
        done = self._done
        self._work = None
        self._done = None
        if done is not None:
            done()
