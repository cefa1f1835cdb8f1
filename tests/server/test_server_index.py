"""The index and the lesson page read lesson files off the event loop, once per change (issue 10, point 4).

Lesson discovery used to run on every ``GET /`` on the event loop, and read any file in the folder
whole (2.4 s for a 50 MB file, during which playing sessions got no frames). Now each file is read
once per change of its modification time or size, in a worker thread, and a file over the size limit
is refused from its size alone.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from server_pages import base, fetch

from courseware.plugins import get_registry
from courseware.lessons import catalog
from courseware.lessons.errors import LessonErrors
from courseware.server.runner import BackgroundServer, ServeOptions

SHIPPED = Path(__file__).resolve().parents[2] / "lessons"
LESSONS = ("01-tour.yaml", "07-learning-rate.yaml")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in LESSONS:
        shutil.copy(SHIPPED / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def reads(monkeypatch) -> list[tuple[str, str]]:
    """Every lesson file read (its name, and the thread that read it)."""
    seen: list[tuple[str, str]] = []
    load_lesson, load = catalog.load_lesson, catalog.load

    def spying_load_lesson(path, registry=None):
        seen.append((Path(path).name, threading.current_thread().name))
        return load_lesson(path, registry)

    def spying_load(text, *args, **kwargs):
        seen.append(("(metadata)", threading.current_thread().name))
        return load(text, *args, **kwargs)

    monkeypatch.setattr(catalog, "load_lesson", spying_load_lesson)
    monkeypatch.setattr(catalog, "load", spying_load)
    return seen


def big_file(folder: Path, megabytes: int = 50) -> Path:
    path = folder / "00-huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(megabytes << 20)  # sparse: no 50 MB written to disk
    return path


def test_an_oversized_lesson_file_is_refused_from_its_size_without_being_read(folder: Path, reads) -> None:
    big = big_file(folder)
    entries = {Path(e.path).name: e for e in catalog.discover([folder], get_registry(), packs=False)}
    assert entries["00-huge.yaml"].error is not None
    assert "50.0 MB" in entries["00-huge.yaml"].error and "at most 1.0 MB" in entries["00-huge.yaml"].error
    assert all(entries[name].ok for name in LESSONS)
    assert [name for name, _ in reads] == list(LESSONS)  # the big one was never opened
    with pytest.raises(LessonErrors, match="at most 1.0 MB"):
        catalog.find_lesson(str(big), [], get_registry())


def test_a_lesson_file_is_read_again_only_when_it_changes(folder: Path, reads) -> None:
    first = catalog.discover([folder], get_registry(), packs=False)
    assert sorted(name for name, _ in reads) == sorted(LESSONS)
    reads.clear()
    again = catalog.discover([folder], get_registry(), packs=False)
    assert reads == [] and [e.lesson for e in again] == [e.lesson for e in first]
    changed = folder / LESSONS[0]
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # edited a second later
    catalog.discover([folder], get_registry(), packs=False)
    assert [name for name, _ in reads] == [LESSONS[0]]


def test_the_index_and_the_lesson_page_read_files_off_the_event_loop(folder: Path, reads) -> None:
    big_file(folder)
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[folder], dev=True))  # dev: problems listed
    with background as server:
        loop_thread = background.call(lambda: threading.current_thread().name)
        status, body = fetch(base(server) + "/")
        assert status == 200 and "Learning rate" in body and "at most 1.0 MB" in body
        assert reads and all(thread != loop_thread for _, thread in reads), reads
        os.utime(folder / LESSONS[1])  # edited while the server runs: read again, still off the loop
        status, _ = fetch(base(server) + "/lesson?lesson=learning-rate")
        assert status == 200
        panels = background.call(
            lambda: [s.doc.select_one({"name": "lesson-panel"}) for s in server.state.live.values()]
        )
        assert panels and panels[0] is not None
    assert all(thread != loop_thread for _, thread in reads), reads
