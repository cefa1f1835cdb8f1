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
* an array of at most ``INLINE_BYTES`` travels inside the message's JSON in Bokeh's inline form
  (its bytes in base64, gzip-wrapped when this Bokeh's BokehJS expects it: stored, not compressed,
  since the websocket compresses the message anyway) instead of as a binary buffer of its own, which
  would cost two more websocket frames; a frame's one large array, the big map, stays a buffer;
* the message's websocket frames (three parts and two per buffer) are framed and compressed here and
  handed to the socket in one write, under the connection's write lock; Bokeh writes each through
  Tornado's ``write_message``, one asyncio task and socket write apiece. This uses Tornado's
  ``WebSocketProtocol13`` as it stands (its compressor and stream); any other protocol object gets
  the public ``write_message`` path.

What the browser receives is a ``PATCH-DOC`` as Bokeh builds it, with several events instead of one;
BokehJS applies a message's events in order.

:class:`FrameWSHandler` (the server's websocket handler, see ``web.py``) writes every other message
the same way, in one write: Bokeh awaits each of a message's frames in turn, and each await waits for
the event loop's next turn, which on a busy server comes after every playing session's frame. A new
page's document (``PULL-DOC-REPLY``, some 60 frames) then took up to 3 s to arrive with 80 sessions
playing; in one write it is one turn.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import sys
import zlib
from typing import Any

import numpy as np
from bokeh.core.serialization import Buffer, BytesRep, NDArrayRep, Serializer
from bokeh.document import Document
from bokeh.document.events import DocumentPatchedEvent
from bokeh.model import Model
from bokeh.protocol.messages.patch_doc import PatchJson, patch_doc
from bokeh.server.connection import ServerConnection
from tornado.iostream import StreamClosedError
from tornado.ioloop import IOLoop
from tornado.websocket import WebSocketClosedError, WebSocketHandler, WebSocketProtocol13

from courseware.server.guard import GuardedWSHandler

log = logging.getLogger(__name__)

INLINE_BYTES = 8192  # arrays up to this size go inside the JSON (a 6×8 network's thumbnails: 4,800 B)
INLINE_DTYPES = {np.dtype(name): name for name in ("uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64")}
# BokehJS 3.5+ gunzips inline bytes; Bokeh's Python says so by compressing them (Buffer.to_compressed_bytes)
GZIP_INLINE = hasattr(Buffer, "to_compressed_bytes")
_PLAIN = frozenset({str, float, int, bool, type(None), list, dict, tuple})  # never a model


def inline_bytes(data: bytes) -> str:
    """``data`` as Bokeh's inline ``bytes`` (base64; in a gzip member of stored blocks when BokehJS
    gunzips: valid gzip for almost no CPU)."""
    if GZIP_INLINE:
        wrapper = zlib.compressobj(0, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 1)
        data = wrapper.compress(data) + wrapper.flush()
    return base64.b64encode(data).decode("ascii")


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
        if type(obj) in _PLAIN:
            return None
        ref = super().get_ref(obj)
        if ref is None and isinstance(obj, Model):
            if self._synced is None:
                self._synced = {id(model) for model in self._doc.models.synced_references}
            if id(obj) in self._synced:
                return obj.ref
        return ref

    def _encode_ndarray(self, obj: np.ndarray) -> NDArrayRep:
        dtype = INLINE_DTYPES.get(obj.dtype)
        if dtype is None or obj.nbytes > INLINE_BYTES:
            return super()._encode_ndarray(obj)
        data = BytesRep(type="bytes", data=inline_bytes(np.ascontiguousarray(obj).tobytes()))
        return NDArrayRep(type="ndarray", array=data, shape=list(obj.shape), dtype=dtype, order=sys.byteorder)  # type: ignore[typeddict-item]


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
    """Write every websocket frame of a Bokeh ``message`` under the connection's write lock: in one
    socket write when the protocol is Tornado's own (:func:`websocket_frames`), else frame by frame
    through ``write_message``, awaited together."""
    parts: list[tuple[bytes | str, bool]] = [
        (message.header_json, False), (message.metadata_json, False), (message.content_json, False),
    ]  # fmt: skip
    for buffer in message.buffers:
        parts += [(json.dumps(buffer.ref), False), (buffer.to_bytes(), True)]
    with await handler.write_lock.acquire():  # type: ignore[attr-defined]
        protocol = handler.ws_connection
        if protocol is None or protocol.is_closing():
            raise WebSocketClosedError()
        if _frames_ourselves(protocol):
            try:
                await protocol.stream.write(websocket_frames(parts, protocol._compressor))  # type: ignore[attr-defined]
            except StreamClosedError:
                raise WebSocketClosedError() from None
            return
        writes: list[Any] = []
        try:
            for part, binary in parts:
                writes.append(WebSocketHandler.write_message(handler, part, binary))
        finally:  # a frame that could not be queued: the ones that were are still awaited
            outcomes = await asyncio.gather(*writes, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def _frames_ourselves(protocol: Any) -> bool:
    return (
        type(protocol) is WebSocketProtocol13
        and not protocol.mask_outgoing  # a server's frames are never masked
        and hasattr(protocol, "_compressor")
        and hasattr(protocol, "stream")
    )


def websocket_frames(parts: list[tuple[bytes | str, bool]], compressor: Any) -> bytes:
    """RFC 6455 frames for ``parts`` (text or binary, each a whole message), each compressed with the
    connection's permessage-deflate ``compressor`` (RSV1 set) if there is one: the bytes Tornado's
    ``write_message`` would write for each, in order."""
    chunks: list[bytes] = []
    for part, binary in parts:
        data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        first = 0x80 | (0x2 if binary else 0x1)  # FIN and the opcode
        if compressor is not None:
            data = compressor.compress(data)
            first |= 0x40  # RSV1: this message is compressed
        length = len(data)
        if length < 126:
            chunks.append(struct.pack("!BB", first, length))
        elif length <= 0xFFFF:
            chunks.append(struct.pack("!BBH", first, 126, length))
        else:
            chunks.append(struct.pack("!BBQ", first, 127, length))
        chunks.append(data)
    return b"".join(chunks)


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


class FrameWSHandler(GuardedWSHandler):
    """The guarded websocket handler, writing each message in one go (:func:`send_at_once`)."""

    async def send_message(self, message: Any) -> None:
        try:
            await send_at_once(self, message)
        except WebSocketClosedError:  # on_close() follows, as after Bokeh's own sends
            log.debug("a message was not sent: the connection is closed")
