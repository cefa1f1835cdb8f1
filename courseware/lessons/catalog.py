"""Finding lessons: every lesson file in some folders and in plugins' lesson packs.

:func:`discover` is what the server's index page lists. A broken lesson is an entry too, carrying its
errors, so one bad file never hides the others.

The server asks on every page open, so each file's entry is kept until the file's modification time
or size changes (then only that file is read again). A file over ``MAX_LESSON_BYTES`` is refused from
its size alone, before a byte of it is read: a 50 MB file dropped in the folder by mistake costs
nothing (lesson files are a few KB).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from courseware.lessons.errors import LessonError, LessonErrors, Where
from courseware.lessons.lesson import Lesson
from courseware.lessons.loader import load_lesson
from courseware.lessons.yamlsource import YamlProblem, load
from courseware.plugins import PluginHost
from courseware.registry import Registry

LESSON_SUFFIXES = (".yaml", ".yml")
MAX_LESSON_BYTES = 1 << 20  # the shipped lessons are under 10 KB


@dataclass(frozen=True)
class LessonEntry:
    """One lesson file as the index lists it: ``error`` is ``None`` when it loaded cleanly."""

    id: str
    title: str
    summary: str
    path: str
    source: str
    error: str | None = None
    errors: tuple[LessonError, ...] = ()
    lesson: Lesson | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "path": self.path,
            "source": self.source,
            "error": self.error,
            "errors": [e.to_dict() for e in self.errors],
        }


def lesson_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The lesson files directly in ``folder``, sorted by name (``01-tour.yaml`` first)."""
    path = Path(folder)
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix in LESSON_SUFFIXES)


def host_for(dirs: Iterable[str | os.PathLike[str]]) -> PluginHost:
    """A plugin host with the plugins of each lesson folder (``<folder>/plugins/*.py``) loaded."""
    return PluginHost.load(lesson_dirs=[d for d in dirs if Path(d).is_dir()])


def discover(
    dirs: Iterable[str | os.PathLike[str]],
    registry: Registry,
    packs: bool = True,
) -> list[LessonEntry]:
    """Every lesson in ``dirs`` (folders or files), then in plugin lesson packs if ``packs``.

    Lessons are loaded with ``registry`` (build it with :func:`host_for` so that lesson folders'
    plugins are in it). Ids must be unique: a later file reusing an id is listed as broken.
    """
    sources: list[tuple[str, Path]] = []
    for folder in dirs:
        sources += [(str(folder), p) for p in lesson_files(folder)]
    if packs:
        for pack in registry.all("lesson_sources"):
            sources += [(f"pack {pack.name}", p) for p in lesson_files(pack.path)]
    entries: list[LessonEntry] = []
    seen: dict[str, str] = {}
    for source, path in sources:
        entry = _cached_entry(path, source, registry)
        if entry.ok and entry.id in seen:
            message = f"the id {entry.id!r} is already used by {seen[entry.id]}"
            error = LessonError(Where(str(path), field="id"), message)
            entry = LessonEntry(entry.id, entry.title, entry.summary, str(path), source, str(error), (error,))
        elif entry.ok:
            seen[entry.id] = str(path)
        entries.append(entry)
    return entries


# (path, source) -> (stamp, registry, entry); a stamp is (modification time, size). Guarded by a lock
# held only to read or write the dict: the server discovers in a worker thread and on its event loop.
_ENTRIES: dict[tuple[str, str], tuple[tuple[int, int], Registry, LessonEntry]] = {}
_ENTRIES_LOCK = threading.Lock()


def _cached_entry(path: Path, source: str, registry: Registry) -> LessonEntry:
    """``path``'s entry, read again only if the file changed since it was last read."""
    try:
        stat = path.stat()
    except OSError:
        return _entry(path, source, registry)
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = (str(path), source)
    with _ENTRIES_LOCK:
        cached = _ENTRIES.get(key)
    if cached is not None and cached[0] == stamp and cached[1] is registry:
        return cached[2]
    entry = _entry(path, source, registry, stat.st_size)
    with _ENTRIES_LOCK:
        _ENTRIES[key] = (stamp, registry, entry)
    return entry


def too_large(path: Path, size: int | None = None) -> LessonError | None:
    """The error for a file over ``MAX_LESSON_BYTES`` (judged by its size, without reading it)."""
    if size is None:
        try:
            size = path.stat().st_size
        except OSError:
            return None
    if size <= MAX_LESSON_BYTES:
        return None
    return LessonError(
        Where(str(path)),
        f"the file is {_megabytes(size)}; a lesson file may be at most {_megabytes(MAX_LESSON_BYTES)} "
        "(is it a lesson?), so it was not read",
    )


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


def _entry(path: Path, source: str, registry: Registry, size: int | None = None) -> LessonEntry:
    refused = too_large(path, size)
    if refused is not None:
        return LessonEntry(path.stem, path.name, "", str(path), source, str(refused), (refused,))
    try:
        lesson = load_lesson(path, registry)
    except LessonErrors as exc:
        lesson_id, title, summary = _best_effort_metadata(path)
        return LessonEntry(lesson_id, title, summary, str(path), source, str(exc), tuple(exc.errors))
    return LessonEntry(lesson.id, lesson.title, lesson.summary, str(path), source, lesson=lesson)


def _best_effort_metadata(path: Path) -> tuple[str, str, str]:
    """Id, title and summary of a broken file, as far as they can be read (else from the file name)."""
    lesson_id, title, summary = path.stem, path.name, ""
    try:
        raw, _ = load(path.read_text(encoding="utf-8"))
    except (YamlProblem, OSError, UnicodeDecodeError):
        return lesson_id, title, summary
    if isinstance(raw, dict):
        for key, value in (("id", raw.get("id")), ("title", raw.get("title")), ("summary", raw.get("summary"))):
            if isinstance(value, str) and value.strip():
                if key == "id":
                    lesson_id = value.strip()
                elif key == "title":
                    title = value.strip()
                else:
                    summary = value.strip()
    return lesson_id, title, summary


def find_lesson(name: str, dirs: Iterable[str | os.PathLike[str]], registry: Registry) -> Lesson:
    """A lesson by file path, or by id among ``dirs`` and the lesson packs; raises LessonErrors."""
    if Path(name).is_file():
        refused = too_large(Path(name))
        if refused is not None:
            raise LessonErrors([refused])
        return load_lesson(name, registry)
    entries = discover(dirs, registry)
    for entry in entries:
        if entry.id == name:
            if entry.lesson is None:
                raise LessonErrors(entry.errors)
            return entry.lesson
    known = ", ".join(e.id for e in entries) or "(none found)"
    raise LessonErrors([LessonError(Where(name), f"no lesson file or lesson id {name!r}; lessons: {known}")])
