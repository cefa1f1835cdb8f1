"""Bokeh's Tornado application, hardened: screened websockets, bounded requests, gentle session cleanup.

:class:`CoursewareTornado` is ``bokeh.server.tornado.BokehTornado`` with these changes:

* every websocket uses :class:`~courseware.server.wire.FrameWSHandler`, a
  :class:`~courseware.server.guard.GuardedWSHandler`, which screens what the browser sends against
  the page (see ``guard.py``) and accepts messages of at most ``MAX_MESSAGE_BYTES`` (a page's own
  messages are a few hundred bytes), and writes each message to the socket in one go (``wire.py``);
* a request whose URL is longer than ``MAX_URL_CHARS``, or has more parameters than Tornado parses
  (``MAX_QUERY_FIELDS``), gets a short page saying the link is too long (status 414) instead of
  Tornado's empty 400 or a page built from it; :data:`HTTP_LIMITS` lets Tornado read URLs up to the
  longest a browser sends, so such a link is answered rather than dropped;
* closed sessions are destroyed one at a time, with the event loop free in between, and each
  destroyed document's models are emptied (:func:`release_models`) so that reference counting frees
  them at once;
* Bokeh runs a full ``gc.collect()`` after destroying each document. With a few hundred thousand
  objects alive that is a quarter of a second each, all on the event loop: a class of 30 closing
  their tabs froze every other session for 8 s. :func:`young_collections_only` makes that collect
  look at the youngest generation only; the emptied models need no cycle collector, and Python's own
  collector still runs as usual for whatever is left;
* each connection is a :class:`~courseware.server.wire.FrameConnection`: the document changes of one
  locked callback (a training frame, a click) travel as one message, built and written cheaply;
* websocket messages are compressed (permessage-deflate at level ``WEBSOCKET_COMPRESSION_LEVEL``)
  for every browser that offers it, as all current browsers do. A playing page's map travels as
  100×100 shade indices that change little from frame to frame; deflate keeps the previous frame in
  its window, so a frame costs about a tenth of its size on the wire, for about 50 µs of CPU.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from bokeh.model import Model
from bokeh.protocol import Protocol
from bokeh.server.connection import ServerConnection
from bokeh.server.contexts import ApplicationContext
from bokeh.server.session import ServerSession
from bokeh.server.tornado import BokehTornado
from bokeh.server.views.ws import WSHandler
from tornado.httputil import HTTPConnection, HTTPHeaders, HTTPMessageDelegate, RequestStartLine
from tornado.web import RequestHandler

from courseware.server.html import Html
from courseware.server.wire import FrameConnection, FrameWSHandler

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20  # a websocket message from a browser (its own are a few hundred bytes)
MAX_URL_CHARS = 8192  # a courseware link is under 1,000 characters; longer ones get LinkTooLongHandler
MAX_QUERY_FIELDS = 1000  # Tornado refuses a query with more (tornado.httputil's urlencoded limit)
TOO_LONG_PATH = "/link-too-long"
# Tornado's limits for the HTTP server: headers up to 4 MiB, so that any URL a browser can send
# (Chromium's limit is 2 MiB) is read and answered; no route takes a request body.
HTTP_LIMITS = {"max_header_size": 4 << 20, "max_body_size": 1 << 20}
DESTROY_SPACING_S = 0.005  # between two session destructions, the event loop serves the others
WEBSOCKET_COMPRESSION_LEVEL = 1  # zlib's fastest: nearly all of the gain for shade maps (see above)


class CoursewareTornado(BokehTornado):
    """``BokehTornado`` with the changes listed in the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("websocket_max_message_size_bytes", MAX_MESSAGE_BYTES)
        kwargs.setdefault("websocket_compression_level", WEBSOCKET_COMPRESSION_LEVEL)
        super().__init__(*args, **kwargs)
        for rule in self.wildcard_router.rules:
            if rule.target is WSHandler:
                rule.target = FrameWSHandler
        self.wildcard_router.add_rules([(TOO_LONG_PATH, LinkTooLongHandler)])
        young_collections_only()

    def new_connection(self, protocol: Protocol, socket: WSHandler, application_context: ApplicationContext,
                       session: ServerSession) -> ServerConnection:  # fmt: skip
        connection = FrameConnection(protocol, socket, application_context, session)
        self._clients.add(connection)
        return connection

    def start_request(self, server_conn: object, request_conn: HTTPConnection) -> HTTPMessageDelegate:
        return _BoundedRequest(super().start_request(server_conn, request_conn))

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


class _BoundedRequest(HTTPMessageDelegate):
    """Sends a request whose URL is too long to :class:`LinkTooLongHandler` before Tornado parses it."""

    def __init__(self, inner: HTTPMessageDelegate) -> None:
        self.inner = inner

    def headers_received(self, start_line: Any, headers: HTTPHeaders) -> Any:
        if isinstance(start_line, RequestStartLine):
            uri = start_line.path
            if len(uri) > MAX_URL_CHARS or uri.count("&") >= MAX_QUERY_FIELDS:
                path = f"{TOO_LONG_PATH}?{urlencode({'length': len(uri), 'fields': uri.count('&') + 1})}"
                start_line = RequestStartLine(start_line.method, path, start_line.version)
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()


class LinkTooLongHandler(RequestHandler):
    """A request whose URL is too long (see ``_BoundedRequest``): a short page instead of an error."""

    def prepare(self) -> None:
        self.set_status(414)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        if self.request.method == "HEAD":
            self.finish()
            return
        length = _count(self.get_query_argument("length", "0"))
        fields = _count(self.get_query_argument("fields", "0"))
        reason = (
            Html("{:,} parameters; a courseware link has far fewer").format(fields)
            if fields > MAX_QUERY_FIELDS
            else Html("{:,} characters; a courseware link has at most {:,}").format(length, MAX_URL_CHARS)
        )
        self.finish(TOO_LONG_HTML.format(reason=reason))


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0


TOO_LONG_HTML = Html("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Link too long · courseware</title></head>
<body style="font-family: Helvetica, Arial, sans-serif; margin: 40px; color: #333;">
<h2>This link is too long</h2>
<p>It has {reason}. It was probably pasted twice or made by hand.</p>
<p><a href="/">Go to the index</a> and open the playground or a lesson from there.</p>
</body></html>
""")
