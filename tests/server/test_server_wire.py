"""What a playing session sends: one message per frame, compressed when the client offers it, and
nothing at all while the browser says the tab is hidden.

A client speaks Bokeh's protocol over a real websocket (``BokehSocket``), as in the guard's tests.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib

import numpy as np
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Div, Plot, Title
from server_pages import BokehSocket, base, fetch, model_id, run, session_of
from waiting import wait_until
from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from courseware.server import wire
from courseware.server.state import PAGE_STATE_NAME


def click_event(model: str) -> dict:
    """A button click as BokehJS sends it (``BokehSocket.click`` also reads up to the reply)."""
    event = {"type": "event", "name": "button_click", "values": {"type": "map", "entries": [["model", {"id": model}]]}}
    return {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}


async def read_message(tab: BokehSocket) -> tuple[dict, dict, int]:
    """One Bokeh message: header, content and how many binary buffers followed."""
    header = json.loads(await tab.connection.read_message())
    await tab.connection.read_message()
    content = json.loads(await tab.connection.read_message())
    for _ in range(2 * header.get("num_buffers", 0)):
        await tab.connection.read_message()
    return header, content, header.get("num_buffers", 0)


def test_each_frame_is_one_message(running) -> None:
    background, server = running
    seed = "0.31313"

    async def play_and_count():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        session = session_of(background, server, seed)
        net = model_id(document, "network-values")
        await tab.send("PATCH-DOC", click_event(model_id(document, "play")))
        patches = []
        while len(patches) < 40:
            header, content, _ = await read_message(tab)
            if header["msgtype"] == "PATCH-DOC":
                patches.append(content["events"])
        frames = background.call(lambda: session.frames)
        background.call_locked(session.doc, session.pause)
        return patches, frames, net

    patches, frames, net = run(play_and_count)
    assert frames >= 40  # every message read is at least one frame's
    # Every frame changes the weights, so every message carries the network's values, each in one
    # event: no frame was split over several messages.
    values = [[e for e in events if e.get("model", {}).get("id") == net] for events in patches]
    assert all(len(v) == 1 for v in values[1:]), [len(v) for v in values]
    assert any(len(events) > 1 for events in patches)  # and messages carry several events


def test_small_arrays_travel_inline_and_the_map_as_one_buffer(running) -> None:
    background, server = running
    seed = "0.32323"

    async def step():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        await tab.send("PATCH-DOC", click_event(model_id(document, "step")))
        while True:
            header, content, buffers = await read_message(tab)
            if header["msgtype"] == "PATCH-DOC" and any(
                e.get("model", {}).get("id") == model_id(document, "output-map-image") for e in content["events"]
            ):
                return content, buffers

    content, buffers = run(step)
    assert buffers == 1  # the 100×100 map (uint8 indices); the thumbnails and link values are inline
    text = json.dumps(content)
    assert '"dtype": "uint8"' in text and '"shape": [100, 100]' in text


def test_websocket_messages_are_compressed_when_the_client_offers_it(running) -> None:
    _, server = running

    async def negotiate():
        _, page = await IOLoop.current().run_in_executor(None, fetch, f"{base(server)}/playground?seed=0.33333")
        token = re.search(r'"token":"([^"]+)"', page).group(1)
        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}/playground/ws",
            headers={"Origin": f"http://127.0.0.1:{server.port}", "Sec-WebSocket-Protocol": f"bokeh, {token}"},
        )
        connection = await websocket_connect(request, compression_options={})
        extensions = connection.headers.get("Sec-WebSocket-Extensions", "")
        connection.close()
        return extensions

    assert "permessage-deflate" in run(negotiate)


def test_a_hidden_tab_gets_no_frames_and_resumes_when_shown(running) -> None:
    background, server = running
    seed = "0.34343"

    async def hide_and_show():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        session = session_of(background, server, seed)
        state = model_id(document, PAGE_STATE_NAME)
        await tab.click(model_id(document, "play"))
        assert wait_until(lambda: background.call(lambda: session.frames) > 5)
        reply = await tab.change(state, "hidden", True)
        assert reply.msgtype == "OK"
        assert wait_until(lambda: background.call(lambda: session.hidden))
        hidden_at = background.call(lambda: (session.frames, session.experiment.epoch, session._callback))
        # nothing is trained or sent while hidden: the next message the tab gets answers its own request
        later = await tab.request("PULL-DOC-REQ", {})
        frames_while_hidden = [e for e in later.patches if e.get("attr") == "data"]
        still = background.call(lambda: (session.frames, session.experiment.epoch, session.playing))
        reply = await tab.change(state, "hidden", False)
        assert wait_until(lambda: background.call(lambda: session.frames) > still[0] + 3)
        background.call_locked(session.doc, session.pause)
        return hidden_at, frames_while_hidden, still

    hidden_at, frames_while_hidden, still = run(hide_and_show)
    frames, epoch, callback = hidden_at
    assert callback is None  # the periodic callback is gone: a hidden tab costs nothing
    assert frames_while_hidden == []
    assert still == (frames, epoch, True)  # the player stays on; training waits, as in the original


def test_the_browser_may_write_only_hidden_and_hovered_on_the_page_state(running) -> None:
    background, server = running
    seed = "0.35353"

    async def forge():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        state = model_id(document, PAGE_STATE_NAME)
        replies = await tab.change(state, "query", "seed=1"), await tab.change(state, "hidden", "yes")
        return state, replies

    state, (query, not_a_bool) = run(forge)
    session = session_of(background, server, seed)
    real_query = background.call(lambda: session.state.query)
    assert query.msgtype == "OK" and query.changed(state, "query") == [real_query]  # put back, not applied
    assert "seed=0.35353" in real_query
    assert not_a_bool.msgtype == "ERROR"  # Bokeh refuses a value of the wrong type
    assert not background.call(lambda: session.hidden)


# -- the serializer -----------------------------------------------------------------------------------


def events_of(doc: Document, change) -> list:
    captured: list = []
    doc.on_change(captured.append)
    change()
    doc.callbacks._change_callbacks.pop(captured.append, None)
    return captured


def test_a_patch_refers_to_known_models_and_defines_new_ones() -> None:
    doc = Document()
    plot = Plot()
    source = ColumnDataSource({"v": np.zeros(3, np.float32)})
    doc.add_root(plot)
    doc.add_root(Div(text="a"))
    doc.add_root(source)
    doc.models.flush_synced()  # as after the page was sent
    div = doc.roots[1]
    events = events_of(doc, lambda: (setattr(div, "text", "b"), setattr(plot, "title", Title(text="new")),
                                     setattr(plot, "x_range", plot.y_range), source.data.update(v=np.ones(3, np.float32))))  # fmt: skip
    message = wire.patch_message(events)
    content = message.content["events"]
    assert [e["kind"] for e in content] == ["ModelChanged", "ModelChanged", "ModelChanged", "ColumnDataChanged"]
    assert content[0]["new"] == "b"
    assert content[1]["new"]["type"] == "object" and content[1]["new"]["name"] == "Title"  # new: in full
    assert content[2]["new"] == {"id": plot.y_range.id}  # known: a reference
    inline = content[3]["data"]["entries"][0][1]
    assert inline["dtype"] == "float32" and inline["array"]["type"] == "bytes"  # a small array: inline
    raw = base64.b64decode(inline["array"]["data"])
    np.testing.assert_array_equal(np.frombuffer(gzip.decompress(raw) if wire.GZIP_INLINE else raw, np.float32), 1)
    assert message.buffers == []
    assert plot.title not in doc.models._new_models  # the browser has it now


def test_frames_written_at_once_are_what_tornado_would_write() -> None:
    """The frames ``send_at_once`` hands to the socket in one write decode, in order, to the parts,
    compressed with the connection's own compressor (a browser's inflater keeps its window across them)."""
    from tornado.websocket import _PerMessageDeflateCompressor

    parts = [('{"msgtype":"PATCH-DOC"}', False), ("{}", False), ("x" * 300, False), (bytes(range(256)) * 300, True)]
    for compressor in (None, _PerMessageDeflateCompressor(True, zlib.MAX_WBITS, {"compression_level": 1})):
        data = wire.websocket_frames(parts, compressor)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        decoded, pos = [], 0
        while pos < len(data):
            first, second = data[pos], data[pos + 1]
            length, pos = second & 0x7F, pos + 2
            if length == 126:
                length, pos = int.from_bytes(data[pos : pos + 2], "big"), pos + 2
            elif length == 127:
                length, pos = int.from_bytes(data[pos : pos + 8], "big"), pos + 8
            payload, pos = data[pos : pos + length], pos + length
            assert first & 0x80 and bool(first & 0x40) == (compressor is not None)
            if compressor is not None:
                payload = inflater.decompress(payload + b"\x00\x00\xff\xff")
            decoded.append((payload if first & 0x0F == 2 else payload.decode(), first & 0x0F == 2))
        assert decoded == parts
