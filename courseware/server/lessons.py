"""The lessons as the server lists them: for students, the instructor's view and the server log.

The server reads lessons through ``courseware.lessons`` (:func:`~courseware.lessons.discover`, which
keeps each file's :class:`~courseware.lessons.LessonEntry` until the file changes, so an edited lesson
is served as soon as it is saved). A lesson that does not load is one of those entries too, with its
errors. Students see only that it is unavailable; its problems, one per line with the file named
relative to the lesson folder, go to the server log (once per change of the file) and to the
instructor's view (``courseware serve --dev``), never a server path to a student.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from courseware.lessons import LessonEntry, discover

log = logging.getLogger(__name__)

_logged: dict[str, tuple[str, ...]] = {}  # lesson file -> the problems last logged for it
_logged_lock = threading.Lock()  # lessons are listed in worker threads


def list_lessons(folders: Sequence[Path], registry: Any) -> tuple[list[LessonEntry], str | None]:
    """The lessons to list on the index page, and an error message if listing them failed.

    Each broken lesson's problems are logged the first time they are seen (and again if they change).
    """
    try:
        entries = discover(list(folders), registry)
    except Exception as exc:  # a bug in reading lessons must not take the index page down
        log.exception("listing lessons failed")
        return [], f"{type(exc).__name__}: {exc}"
    for entry in entries:
        _log_problems(entry)
    return entries, None


def error_lines(entry: LessonEntry) -> list[str]:
    """Every problem of a broken lesson, one per item, the file named relative to its folder."""
    folder = Path(entry.path).parent
    lines = []
    for error in entry.errors:
        where = error.where
        relative = _relative(where.file, folder)
        lines.append(str(error).replace(where.file, relative, 1) if where.file else str(error))
    if not lines and entry.error:
        lines.append(entry.error.replace(entry.path, _relative(entry.path, folder)))
    return lines


def _relative(path: str, folder: Path) -> str:
    try:
        return os.path.relpath(path, folder)
    except ValueError:  # another drive (Windows): the name is enough
        return Path(path).name


def _log_problems(entry: LessonEntry) -> None:
    if entry.ok:
        with _logged_lock:
            _logged.pop(entry.path, None)
        return
    lines = tuple(error_lines(entry))
    with _logged_lock:
        if _logged.get(entry.path) == lines:
            return
        _logged[entry.path] = lines
    log.warning("the lesson %s in %s is unavailable to students:\n%s", entry.id, Path(entry.path).parent,
                "\n".join(f"  {line}" for line in lines))  # fmt: skip
