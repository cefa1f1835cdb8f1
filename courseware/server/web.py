"""Bokeh's Tornado application, hardened: screened websockets, bounded requests, gentle session cleanup.

:class:`CoursewareTornado` is ``bokeh.server.tornado.BokehTornado`` with four changes:

* every websocket uses :class:`~courseware.server.guard.GuardedWSHandler`, which screens what the
  browser sends against the page (see ``guard.py``), and accepts messages of at most
  ``MAX_MESSAGE_BYTES`` (a page's own messages are a few hundred bytes);
* a request whose URL is longer than ``MAX_URL_CHARS`` gets a short page saying the link is too long
  (status 414) instead of reaching a page; :data:`HTTP_LIMITS` lets Tornado read URLs up to the
  longest a browser sends, so such a link is answered rather than dropped;
* closed sessions are destroyed one at a time, with the event loop free in between, and each
  destroyed document's models are emptied (:func:`release_models`) so that reference counting frees
  them at once;
* Bokeh runs a full ``gc.collect()`` after destroying each document. With a few hundred thousand
  objects alive that is a quarter of a second each, all on the event loop: a class of 30 closing
  their tabs froze every other session for 8 s. :func:`young_collections_only` makes that collect
  look at the youngest generation only; the emptied models need no cycle collector, and Python's own
  collector still runs as usual for whatever is left.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from bokeh.model import Model
from bokeh.server.contexts import ApplicationContext
from bokeh.server.session import ServerSession
from bokeh.server.tornado import BokehTornado
from bokeh.server.views.ws import WSHandler
from tornado.httputil import HTTPServerRequest
from tornado.web import RequestHandler

from courseware.server.guard import GuardedWSHandler
from courseware.server.html import Html

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20  # a websocket message from a browser (its own are a few hundred bytes)
MAX_URL_CHARS = 8192  # a courseware link is under 1,000 characters; longer ones get LinkTooLongHandler
# Tornado's limits for the HTTP server: headers up to 4 MiB, so that any URL a browser can send
# (Chromium's limit is 2 MiB) is read and answered; no route takes a request body.
HTTP_LIMITS = {"max_header_size": 4 << 20, "max_body_size": 1 << 20}
DESTROY_SPACING_S = 0.005  # between two session destructions, the event loop serves the others


class CoursewareTornado(BokehTornado):
    """``BokehTornado`` with the changes listed in the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("websocket_max_message_size_bytes", MAX_MESSAGE_BYTES)
        super().__init__(*args, **kwargs)
        for rule in self.wildcard_router.rules:
            if rule.target is WSHandler:
                rule.target = GuardedWSHandler
        young_collections_only()

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        if len(request.uri or "") > MAX_URL_CHARS:
            return self.get_handler_delegate(request, LinkTooLongHandler)
        return super().find_handler(request, **kwargs)

    async def _cleanup_sessions(self) -> None:
        """Destroy the sessions unused for longer than their lifetime, one at a time (replaces
        Bokeh's loop, which destroys them all in one go)."""
        lifetime = self._unused_session_lifetime_milliseconds
        for context in self._applications.values():
            for session in [s for s in context.sessions if _expired(s, lifetime)]:
                await destroy_session(context, session, lifetime)
                await asyncio.sleep(DESTROY_SPACING_S)


def _unused(session: ServerSession, lifetime_ms: float) -> bool:
    """No connection for longer than the lifetime (Bokeh's test, which ignores a held document lock)."""
    return session.connection_count == 0 and (
        session.milliseconds_since_last_unsubscribe > lifetime_ms or session.expiration_requested
    )


def _expired(session: ServerSession, lifetime_ms: float) -> bool:
    return _unused(session, lifetime_ms) and not session.expiration_blocked


async def destroy_session(context: ApplicationContext, session: ServerSession, lifetime_ms: float) -> None:
    """Destroy ``session`` as Bokeh does (its ``on_session_destroyed`` hooks included), then empty its
    document's models so that nothing of it waits for the cycle collector."""
    if not _expired(session, lifetime_ms):
        return
    models = list(session.document.models)
    await context._discard_session(session, lambda s: _unused(s, lifetime_ms))
    if session.destroyed:
        release_models(models)


def release_models(models: Iterable[Model]) -> None:
    """Empty each model's property values, defaults and callbacks (a destroyed document's models only).

    Bokeh's models, their property containers and the callbacks that close over the page's controller
    reference each other in cycles, which only a full collection finds. Once the containers are empty
    the cycles are gone and each object is freed as soon as its last reference goes.
    """
    for model in models:
        for value in vars(model).values():
            if isinstance(value, (dict, list, set)):
                value.clear()


_YOUNG = SimpleNamespace(collect=lambda generation=2: gc.collect(0))


def young_collections_only() -> None:
    """Make ``bokeh.document.document``'s per-document ``gc.collect()`` collect the youngest
    generation only (see the module docstring). Idempotent; affects nothing else."""
    import bokeh.document.document as bokeh_document

    bokeh_document.gc = _YOUNG  # type: ignore[attr-defined]


class LinkTooLongHandler(RequestHandler):
    """Any request whose URL is over ``MAX_URL_CHARS``: a short page instead of an error or nothing."""

    def prepare(self) -> None:
        self.set_status(414)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        if self.request.method == "HEAD":
            self.finish()
        else:
            self.finish(TOO_LONG_HTML.format(length=len(self.request.uri or ""), limit=MAX_URL_CHARS))


TOO_LONG_HTML = Html("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Link too long · courseware</title></head>
<body style="font-family: Helvetica, Arial, sans-serif; margin: 40px; color: #333;">
<h2>This link is too long</h2>
<p>It has {length:,} characters; a courseware link has at most {limit:,}. It was probably cut, pasted twice
or made by hand.</p>
<p><a href="/">Go to the index</a> and open the playground or a lesson from there.</p>
</body></html>
""")
