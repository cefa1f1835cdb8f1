"""The seam between the server and the lessons package (``courseware.lessons``).

The server owns the routes; the lessons package owns what a lesson is. Two functions of
``courseware.lessons`` are looked up here, each only if that package provides it, so the index and the
playground work before (and without) lessons:

``discover(folders: Sequence[Path], registry: Registry) -> Iterable[entry]``
    Every lesson in the served folders and in installed plugins' lesson packs. Each entry has ``id``
    (used in ``/lesson?lesson=<id>``), ``title`` and ``summary`` attributes, and ``error`` (None, or
    why the file could not be loaded: the index lists a broken lesson with its error).

``build_lesson_panel(session: PlaygroundSession, lesson_id: str, folders: Sequence[Path]) -> LayoutDOM``
    The lesson's side panel for one browser session, placed left of a full playground. ``session`` is
    the page's :class:`~courseware.server.session.PlaygroundSession`: the panel may read its experiment,
    ``apply(...)`` settings, ``play()``/``pause()``, follow ``on_frame``/``on_config``. Raise
    ``LookupError`` for an unknown lesson id.

Only ``ImportError`` is taken to mean "no such function yet"; any other error inside the lessons
package is a real failure and is reported as such.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LessonEntry:
    id: str
    title: str
    summary: str
    error: str | None = None


def list_lessons(folders: Sequence[Path], registry: Any) -> tuple[list[LessonEntry], str | None]:
    """The lessons to list on the index page, and an error message if listing them failed."""
    try:
        from courseware.lessons import discover
    except ImportError:  # the lessons package is not there (yet): the index lists none
        return [], None
    try:
        entries = [
            LessonEntry(
                str(e.id),
                str(getattr(e, "title", e.id)),
                str(getattr(e, "summary", "") or ""),
                None if getattr(e, "error", None) is None else str(e.error),
            )
            for e in discover(list(folders), registry)
        ]
    except Exception as exc:  # a broken lesson must not take the index page down
        log.exception("listing lessons failed")
        return [], f"{type(exc).__name__}: {exc}"
    return entries, None


def lesson_panel_builder() -> Any | None:
    """``courseware.lessons.build_lesson_panel`` if the lessons package provides it, else None."""
    try:
        from courseware.lessons import build_lesson_panel
    except ImportError:
        return None
    return build_lesson_panel
