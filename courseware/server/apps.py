"""The server's routes: the index page, the free playground and the lesson page.

``/`` is a plain HTML page (no Bokeh session: it costs nothing to look at) listing the lessons and
linking to the playground. ``/playground`` and ``/lesson`` are Bokeh applications: each browser tab
gets its own document, built by :func:`courseware.server.page.build_playground`, and its session is
released in ``on_session_destroyed``. ``/status.json`` reports this process's live sessions.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bokeh.application import Application
from bokeh.application.handlers import FunctionHandler
from bokeh.application.handlers.lifecycle import LifecycleHandler
from bokeh.document import Document
from bokeh.layouts import column
from bokeh.models import Div
from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from courseware.lessons import LessonEntry
from courseware.plugins import PluginHost
from courseware.server import lessons as lesson_list
from courseware.server.html import EMPTY, Html, echo
from courseware.server.lessonpage import build_lesson_panel
from courseware.server.page import build_playground
from courseware.server.session import FRAME_INTERVAL_MS, PlaygroundSession
from courseware.server.state import PROGRESS_KEY

log = logging.getLogger(__name__)

PLAYGROUND_PATH = "/playground"
LESSON_PATH = "/lesson"
LESSON_ARG = "lesson"


@dataclass
class ServerState:
    """What one server process shares between its sessions: the plugins, the lesson folders, counters.

    Nothing here belongs to a session; sessions live in ``live`` only until they are destroyed.
    """

    host: PluginHost
    lesson_dirs: list[Path] = field(default_factory=list)
    frame_interval_ms: int = FRAME_INTERVAL_MS
    dev: bool = False  # the instructor's view: a broken lesson's problems shown on the index and its page
    created: int = 0
    destroyed: int = 0
    live: dict[str, PlaygroundSession] = field(default_factory=dict)

    @property
    def registry(self) -> Any:
        return self.host.registry

    async def read_lessons(self) -> tuple[list[LessonEntry], str | None]:
        """The lesson list (see ``lessons.list_lessons``), read in a worker thread, off the event loop."""
        return await IOLoop.current().run_in_executor(
            None, lesson_list.list_lessons, list(self.lesson_dirs), self.registry
        )

    def release(self, session_id: str) -> None:
        """Free a destroyed session's training state (Bokeh frees its document)."""
        live = self.live.pop(session_id, None)
        if live is None:
            return
        live.destroy()
        self.destroyed += 1
        log.info("a session ended (%d live)", len(self.live))

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "sessions": len(self.live),
            "created": self.created,
            "destroyed": self.destroyed,
            "playing": sum(1 for s in self.live.values() if s.playing),
            "frames": sum(s.frames for s in self.live.values()),
        }


def make_applications(state: ServerState) -> dict[str, Application]:
    return {
        PLAYGROUND_PATH: Application(FunctionHandler(lambda doc: _playground(doc, state)), SessionEnd(state)),
        LESSON_PATH: Application(
            LessonsRead(state), FunctionHandler(lambda doc: _lesson(doc, state)), SessionEnd(state)
        ),
    }


class LessonsRead(LifecycleHandler):
    """Before a lesson page is built, brings the lesson list up to date in a worker thread.

    Reading and checking lesson files is file work and parsing; done on the event loop it would stop
    every session's frames. Here it runs in the executor and the page, built next on the event loop,
    finds every unchanged file already read (``courseware.lessons.catalog`` keeps them by
    modification time).
    """

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self._state = state

    async def on_session_created(self, session_context: Any) -> None:
        await self._state.read_lessons()


class SessionEnd(LifecycleHandler):
    """Releases a session's training state when Bokeh destroys the session.

    An application hook rather than ``doc.on_session_destroyed``: Bokeh follows a document's own
    destroy callbacks with a full ``gc.collect()``, a quarter of a second per session on a busy
    server, all on the event loop (see ``courseware/server/web.py``).
    """

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self._on_session_destroyed = lambda context: state.release(context.id)


def _arguments(doc: Document) -> dict[str, Any]:
    context = doc.session_context
    if context is None or context.request is None:
        return {}
    return dict(context.request.arguments)


def _register(doc: Document, state: ServerState, session: PlaygroundSession) -> None:
    """Count the session among the live ones until ``SessionEnd`` releases it. Its id is never logged:
    an id is all it takes to join a session."""
    session_id = doc.session_context.id if doc.session_context is not None else str(id(doc))
    state.created += 1
    state.live[session_id] = session
    log.info("a session started (%d live)", len(state.live))


def _playground(doc: Document, state: ServerState) -> None:
    try:
        session = build_playground(doc, state.registry, _arguments(doc), frame_interval_ms=state.frame_interval_ms,
                                   dev=state.dev)  # fmt: skip
    except Exception as exc:  # a bug must show on the page and in the log, not as a blank page
        log.exception("building the playground failed")
        doc.add_root(_error_page(exc, state.dev))
        return
    _report_plugin_failures(session, state)
    _register(doc, state, session)


def _lesson(doc: Document, state: ServerState) -> None:
    arguments = _arguments(doc)
    raw = arguments.get(LESSON_ARG, [b""])
    lesson_id = (raw[-1].decode("utf-8", "replace") if isinstance(raw[-1], bytes) else str(raw[-1])).strip()

    def side_panel(session: PlaygroundSession) -> Any:
        if not lesson_id:
            return _message(Html('No lesson was named: pick one on the <a href="./">index page</a>.'))
        try:
            return build_lesson_panel(session, lesson_id, list(state.lesson_dirs), dev=state.dev)
        except LookupError:
            missing = Html('There is no lesson “{}”: see the <a href="./">index page</a>.')
            return _message(missing.format(echo(lesson_id)))

    try:
        session = build_playground(
            doc, state.registry, arguments, frame_interval_ms=state.frame_interval_ms,
            side_panel=side_panel, keep_query=LESSON_ARG, compact=True, dev=state.dev,
        )  # fmt: skip
    except Exception as exc:
        log.exception("building the lesson page failed")
        doc.add_root(_error_page(exc, state.dev))
        return
    _report_plugin_failures(session, state)
    _register(doc, state, session)


def _report_plugin_failures(session: PlaygroundSession, state: ServerState) -> None:
    """Plugins that failed to load, on the instructor's view of each page (``--dev``); students simply
    do not get what those plugins would have added (the log said why when the server started)."""
    if not state.dev:
        return
    for failure in state.host.failures:
        session.notices.set(f"plugin:load:{failure.plugin}", f"{failure} (the plugin is not loaded)")


def _message(html: Html) -> Div:
    return Div(text=Html('<div class="cw-notice">{}</div>').format(html), width=300, name="lesson-message",
               styles={"padding": "12px"})  # fmt: skip


def _error_page(exc: BaseException, dev: bool) -> Any:
    """What a page shows when building it raised: the exception on the instructor's view (``--dev``),
    only that it failed to a student (the log has the traceback either way)."""
    details = Html("<p>{}: {}</p>").format(type(exc).__name__, echo(exc, 300)) if dev else EMPTY
    return column(
        Div(text=Html("<h2>The page could not be built</h2>{}"
                      "<p>The server keeps running; the details are in its log.</p>").format(details)),  # fmt: skip
        name="error",
    )


# -- plain HTTP pages -----------------------------------------------------------------------------------


class IndexHandler(RequestHandler):
    """The index: each lesson with its level, length, objectives and the student's progress (kept in
    their own browser), and the free playground. Broken lessons are "unavailable" to students; with
    ``--dev`` their problems are listed, one per line."""

    def initialize(self, state: ServerState) -> None:
        self.state = state

    async def get(self) -> None:
        entries, error = await self.state.read_lessons()
        items = EMPTY.join(self._item(e) for e in entries)
        if error:
            why = Html(": {}").format(error) if self.state.dev else Html(" (the server's log says why)")
            lessons = Html('<p class="warn">The lessons could not be listed{}.</p>').format(why)
        elif items:
            lessons = Html('<ul class="lessons">{}</ul>').format(items)
        else:
            lessons = Html("<p>No lessons are installed or served here yet.</p>")
        failures = EMPTY.join(Html("<li>{}</li>").format(f) for f in self.state.host.failures)
        warn = Html('<ul class="warn">{}</ul>').format(failures) if failures and self.state.dev else EMPTY
        mode = Html('<p class="dev">Instructor view (--dev): problems in lesson files are listed here; '
                    "students see only that a lesson is unavailable.</p>") if self.state.dev else EMPTY  # fmt: skip
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(INDEX_HTML.format(lessons=lessons, warnings=warn, mode=mode, script=INDEX_SCRIPT,
                                     playground=PLAYGROUND_PATH.lstrip("/"), prefix=PROGRESS_KEY))  # fmt: skip

    def _item(self, entry: LessonEntry) -> Html:
        lesson = entry.lesson
        if lesson is None:
            problems = EMPTY
            if self.state.dev:
                problems = Html('<ul class="problems">{}</ul>').format(
                    EMPTY.join(Html("<li>{}</li>").format(line) for line in lesson_list.error_lines(entry))
                )
            return Html('<li class="broken"><span class="title">{}</span>'
                        '<p class="unavailable">This lesson is unavailable.</p>{}</li>').format(entry.title, problems)  # fmt: skip
        steps = len(lesson.steps)
        meta = [lesson.level.capitalize(), f"{steps} steps"]
        if lesson.minutes:
            meta.insert(1, f"about {lesson.minutes} minutes")
        objectives = EMPTY.join(Html("<li>{}</li>").format(o) for o in lesson.objectives)
        href = Html("{}?{}").format(LESSON_PATH.lstrip("/"), urlencode({LESSON_ARG: lesson.id}))
        return Html(
            '<li class="lesson" data-lesson="{id}" data-steps="{steps}">'
            '<div class="head"><a class="open" href="{href}">{title}</a><span class="meta">{meta}</span></div>'
            '<p class="summary">{summary}</p>'
            '<div class="objectives">You will learn to:<ul>{objectives}</ul></div>'
            '<div class="progress" hidden><span class="progress-state"></span> '
            '<a class="resume" href="{href}">Resume</a> '
            '<a class="restart" href="{href}">Start again</a></div></li>'
        ).format(id=lesson.id, steps=steps, href=href, title=lesson.title, meta=" · ".join(meta),
                 summary=lesson.summary, objectives=objectives)  # fmt: skip


class StatusHandler(RequestHandler):
    """``/status.json``: this process's sessions (for operators, tests and the load benchmark)."""

    def initialize(self, state: ServerState) -> None:
        self.state = state

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self.state.status()))


INDEX_HTML = Html("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>courseware</title>
<style>
body {{ margin: 0; background: #f7f7f7; font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; color: #333; }}
header {{ background: #183d4e; color: rgba(255,255,255,.8); padding: 28px 40px; font-size: 26px; font-weight: 300; }}
header b {{ color: #fff; font-weight: 400; }}
main {{ max-width: 860px; padding: 20px 40px; }}
a {{ color: #0877bd; }}
.play {{ display: inline-block; background: #183d4e; color: #fff; padding: 10px 18px; border-radius: 3px;
         text-decoration: none; margin: 8px 0 20px 0; }}
ul.lessons {{ list-style: none; padding: 0; }}
ul.lessons > li {{ background: #fff; border: 1px solid #e3e3e3; padding: 10px 16px; margin: 8px 0; }}
ul.lessons > li a.open {{ font-size: 17px; text-decoration: none; }}
ul.lessons > li p {{ margin: 4px 0 0 0; color: #666; font-size: 14px; }}
ul.lessons .head {{ display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }}
ul.lessons .meta {{ font-size: 13px; color: #888; }}
ul.lessons .objectives {{ font-size: 13px; color: #555; margin-top: 6px; }}
ul.lessons .objectives ul {{ margin: 2px 0 0 0; padding-left: 20px; }}
ul.lessons .objectives li {{ margin: 1px 0; }}
ul.lessons .progress {{ margin-top: 8px; font-size: 14px; }}
ul.lessons .progress-state {{ color: #2e7d32; font-weight: 500; margin-right: 8px; }}
ul.lessons .progress a {{ margin-right: 10px; font-size: 14px; }}
ul.lessons li.broken .title {{ font-size: 17px; color: #777; }}
ul.lessons .unavailable {{ color: #8a1f11; }}
ul.problems {{ font-family: monospace; font-size: 12px; color: #5f2120; padding-left: 18px; }}
ul.problems li {{ padding: 1px 0; white-space: pre-wrap; }}
.warn {{ color: #8a1f11; }}
.dev {{ background: #fff4e5; border-left: 4px solid #f59322; padding: 6px 10px; font-size: 14px; }}
</style></head>
<body><header>Neural-network <b>courseware</b>: a playground and lessons</header>
<main>
{mode}
<p><a class="play" href="{playground}">Open the free playground</a></p>
<h2>Lessons</h2>
{lessons}
{warnings}
</main>
<script>const PROGRESS_PREFIX = "{prefix}";</script>
{script}
</body></html>
""")

# The student's progress, from their own browser's localStorage (the lesson page writes it; see
# courseware.server.state.progress_store_js). Text is set with textContent; a stored address is used
# only if it is a lesson page's.
INDEX_SCRIPT = Html("""<script>
document.querySelectorAll("li[data-lesson]").forEach(function (item) {
  var key = PROGRESS_PREFIX + item.getAttribute("data-lesson");
  var record = null;
  try { record = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (error) { record = null; }
  if (!record || typeof record !== "object") { return; }
  var total = Number(item.getAttribute("data-steps"));
  var done = Math.max(0, Math.min(total, Number(record.done) || 0));
  item.querySelector(".progress").hidden = false;
  item.querySelector(".progress-state").textContent = record.finished ? "done ✓" : done + " of " + total + " steps";
  var resume = item.querySelector(".resume");
  if (typeof record.url === "string" && /^lesson[?]/.test(record.url)) {
    resume.setAttribute("href", record.url);
    item.querySelector(".open").setAttribute("href", record.url);
    if (record.finished) { resume.textContent = "Open again"; }
  } else {
    resume.hidden = true;
  }
  item.querySelector(".restart").addEventListener("click", function () {
    try { window.localStorage.removeItem(key); } catch (error) { /* nothing kept */ }
  });
});
</script>""")
