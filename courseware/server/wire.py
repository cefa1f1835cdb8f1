"""What goes on the wire to a browser: one ``PATCH-DOC`` message per document update, written at once.

Bokeh sends one ``PATCH-DOC`` message per changed model property (a frame that updates the big map,
the network's values and the loss text is three messages), and each message costs more than its
content:

* building it makes a ``Serializer`` that first takes a reference to *every* model of the document
  (about 200 on the playground page) in case a value refers to one;
* sending it writes its three parts and two frames per binary buffer one after the other, each
  awaited through its own asyncio task and event-loop turn.

Under a class's load those two costs were most of a frame's CPU. :class:`FrameConnection` (the
server's connection class, see ``web.py``) changes only how document changes are sent:

* every change made while a session's document is locked (one frame, one click and what it causes)
  goes out as **one** ``PATCH-DOC`` with all the events, in the order they happened; the message is
  written when the locked callback is done (the lock is held until then, as Bokeh does, so nothing
  else can slip in between);
* the serializer looks a model's reference up only when a value actually contains a model (a frame's
  values are numbers, text and arrays: never), with exactly Bokeh's rule (a model the browser already
  has travels as a reference, a new one in full);
* an array of at most ``INLINE_BYTES`` travels inside the message's JSON (base64, as Bokeh encodes
  arrays when it does not defer them) instead of as a binary buffer of its own, which would cost two
  more websocket frames (Bokeh's inline form: gzip, then base64); a frame's one large array, the big
  map, stays a buffer;
* the message's websocket frames are written in one go under the connection's write lock, and
  awaited together.

What the browser receives is a ``PATCH-DOC`` as Bokeh builds it, with several events instead of one;
BokehJS applies a message's events in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from bokeh.core.serialization import Buffer, BytesRep, Serializer
from bokeh.document import Document
from bokeh.document.events import DocumentPatchedEvent
from bokeh.model import Model
from bokeh.protocol.messages.patch_doc import PatchJson, patch_doc
from bokeh.server.connection import ServerConnection
from bokeh.util.serialization import make_id
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler

log = logging.getLogger(__name__)

INLINE_BYTES = 4096  # arrays up to this size go inside the JSON (a 6×8 network's thumbnails: 4,800 B)


class DocumentReferences(Serializer):
    """Bokeh's ``Serializer`` for a ``PATCH-DOC`` of ``doc``, with the references looked up on demand
    and small arrays inline.

    Bokeh's own (``patch_doc.create``) starts from ``doc.models.synced_references``, a set of every
    model the browser already has, and a reference for each; here that set is built only the first
    time a value being encoded is a model. The outcome is the same message.
    """

    def __init__(self, doc: Document) -> None:
        super().__init__()
        self._doc = doc
        self._synced: set[int] | None = None

    def get_ref(self, obj: Any) -> Any:
        ref = super().get_ref(obj)
        if ref is None and isinstance(obj, Model):
            if self._synced is None:
                self._synced = {id(model) for model in self._doc.models.synced_references}
            if id(obj) in self._synced:
                return obj.ref
        return ref

    def _encode_bytes(self, obj: bytes | memoryview) -> BytesRep:
        if memoryview(obj).nbytes <= INLINE_BYTES:  # Bokeh's own inline form (its BokehJS decodes it)
            return BytesRep(type="bytes", data=Buffer(make_id(), obj).to_base64())
        return super()._encode_bytes(obj)


def patch_message(events: list[DocumentPatchedEvent]) -> patch_doc:
    """One ``PATCH-DOC`` message carrying ``events`` (of one document), as ``patch_doc.create`` builds
    it but with :class:`DocumentReferences`."""
    if not events:
        raise ValueError("a PATCH-DOC needs at least one event")
    doc = events[0].document
    if any(event.document is not doc for event in events):
        raise ValueError("a PATCH-DOC carries the events of one document")
    serializer = DocumentReferences(doc)
    content = PatchJson(events=serializer.encode(events))
    doc.models.flush_synced(lambda model: not serializer.has_ref(model))
    message = patch_doc(patch_doc.create_header(), {}, content)
    message.add_buffers(*serializer.buffers)
    return message


async def send_at_once(handler: WebSocketHandler, message: Any) -> None:
    """Write every websocket frame of a Bokeh ``message`` in one go under the connection's write lock
    (Bokeh awaits each frame in turn), then wait until all are written."""
    parts: list[tuple[bytes | str, bool]] = [
        (message.header_json, False), (message.metadata_json, False), (message.content_json, False),
    ]  # fmt: skip
    for buffer in message.buffers:
        parts += [(json.dumps(buffer.ref), False), (buffer.to_bytes(), True)]
    writes: list[Any] = []
    with await handler.write_lock.acquire():  # type: ignore[attr-defined]
        try:
            for part, binary in parts:
                writes.append(WebSocketHandler.write_message(handler, part, binary))
        finally:  # a frame that could not be queued: the ones that were are still awaited
            outcomes = await asyncio.gather(*writes, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class FrameConnection(ServerConnection):
    """Bokeh's server connection, sending each locked callback's document changes as one message
    (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._events: list[DocumentPatchedEvent] = []
        self._written: asyncio.Future[None] | None = None
        self.messages = 0  # PATCH-DOC messages sent (for tests)

    def send_patch_document(self, event: DocumentPatchedEvent) -> asyncio.Future[None]:
        """Queue ``event``; the first one of a batch schedules the message. The returned future is
        done when the message is written (the session awaits it before releasing the document)."""
        self._events.append(event)
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
            IOLoop.current().add_callback(self._flush)
        return self._written

    async def _flush(self) -> None:
        events, written = self._events, self._written
        self._events, self._written = [], None
        assert written is not None
        try:
            message = patch_message(events)
            self.messages += 1
            await send_at_once(self._socket, message)
        except WebSocketClosedError:  # the tab is gone; on_close() follows, as after Bokeh's own sends
            log.debug("a document update was not sent: the connection is closed")
        except Exception as exc:
            if not written.done():
                written.set_exception(exc)
            return
        if not written.done():
            written.set_result(None)
