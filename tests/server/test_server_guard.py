"""What a client sends is checked on the server (issue 10, points 2, 6 and 10).

A forged client speaks the Bokeh protocol over a real websocket (``BokehSocket``) and sends what a page's
BokehJS never would: changes to locked and hidden controls, to ``disabled`` and ``visible``, new roots,
models of its own, a whole document. The server must refuse each, keep the experiment as it was, send
the widget's real state back, and answer without a traceback.
"""

from __future__ import annotations

import struct

import pytest
from server_pages import BokehSocket, model_id, run, session_of
from waiting import wait_until

from courseware.server.web import MAX_MESSAGE_BYTES

BIG_TEXT = "A" * 200_000


def config_of(background, session):
    return background.call(lambda: session.experiment.config)


def test_locked_and_hidden_controls_refuse_every_property_and_are_put_back(running) -> None:
    background, server = running
    seed = "0.10101"

    async def forge():
        tab = await BokehSocket.open(server, f"seed={seed}&noise_hide=true&activation=tanh&learningRate=0.03")
        document = await tab.pull()
        session = session_of(background, server, seed)
        background.call_locked(session.doc, lambda: session.lock({"activation", "learningRate", "playButton"}))
        ids = {name: model_id(document, name) for name in ("activation", "learningRate", "noise", "play")}
        replies = {
            "value": await tab.change(ids["activation"], "value", "sigmoid"),
            "rate": await tab.change(ids["learningRate"], "value", "3"),
            "disabled": await tab.change(ids["activation"], "disabled", False),
            "hidden": await tab.change(ids["noise"], "value", 45),
            "visible": await tab.change(ids["noise"], "visible", True),
            "play": await tab.click(ids["play"]),
        }
        return session, ids, replies

    session, ids, replies = run(forge)
    config = config_of(background, session)
    assert config.activation == "tanh" and config.learningRate == 0.03 and config.noise == 0
    assert not background.call(lambda: session.playing)
    assert all(r.msgtype == "OK" for r in replies.values()), {k: r.content for k, r in replies.items()}
    # the browser is told the server's state, so the widget shows it again
    assert replies["value"].changed(ids["activation"], "value") == ["tanh"]
    assert replies["rate"].changed(ids["learningRate"], "value") == ["0.03"]
    assert replies["disabled"].changed(ids["activation"], "disabled") == [True]
    assert replies["hidden"].changed(ids["noise"], "value") == [0]
    assert replies["visible"].changed(ids["noise"], "visible") == [False]
    widgets = background.call(lambda: {n: session.doc.get_model_by_id(i) for n, i in ids.items()})
    assert widgets["activation"].disabled and widgets["activation"].value == "tanh"
    assert not widgets["noise"].visible


def test_an_unlocked_control_still_works(running) -> None:
    background, server = running
    seed = "0.20202"

    async def change():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        return await tab.change(model_id(document, "activation"), "value", "relu")

    reply = run(change)
    assert reply.msgtype == "OK"
    assert wait_until(lambda: config_of(background, session_of(background, server, seed)).activation == "relu")


@pytest.mark.parametrize(
    "event",
    [
        {"kind": "RootAdded", "model": {"type": "object", "name": "Div", "id": "forged-1",
                                        "attributes": {"text": BIG_TEXT}}},
        {"kind": "RootRemoved", "model": {"id": "<playground>"}},
        {"kind": "TitleChanged", "title": "forged"},
        {"kind": "ModelChanged", "model": {"id": "<activation>"}, "attr": "value",
         "new": {"type": "object", "name": "Div", "id": "forged-2", "attributes": {"text": BIG_TEXT}}},
        {"kind": "ModelChanged", "model": {"id": "<playground>"}, "attr": "children",
         "new": [{"type": "object", "name": "Div", "id": "forged-3", "attributes": {"text": BIG_TEXT}}]},
        {"kind": "ModelChanged", "model": {"id": "<playground>"}, "attr": "children", "new": [{"id": "<play>"}]},
        {"kind": "ModelChanged", "model": {"id": "no-such-model"}, "attr": "value", "new": "relu"},
        {"kind": "ModelChanged", "model": {"id": "<activation>"}, "attr": "no_such_property", "new": 1},
        {"kind": "ColumnDataChanged", "model": {"id": "<play>"}, "attr": "data", "data": {}},
        {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {"type": "event", "name": "button_click",
         "values": {"type": "map", "entries": [["model", {"type": "object", "name": "Button", "id": "forged-4",
                                                          "attributes": {}}]]}}},
    ],
    ids=["RootAdded", "RootRemoved", "TitleChanged", "a new model as a value", "new children", "moved children",
         "an unknown model", "an unknown property", "column data", "a click on a model of its own"],
)  # fmt: skip
def test_models_the_client_was_not_given_are_refused(running, event: dict) -> None:
    background, server = running
    seed = "0.30303"

    async def forge():
        tab = await BokehSocket.open(server, f"seed={seed}")
        document = await tab.pull()
        ids = {f"<{n}>": model_id(document, n) for n in ("activation", "playground", "play")}
        forged = _substitute(event, ids)
        reply = await tab.request("PATCH-DOC", {"events": [forged]})
        return reply

    reply = run(forge)
    session = session_of(background, server, seed)
    assert reply.msgtype == "ERROR" and reply.content["text"].startswith("refused")
    assert reply.content.get("traceback") is None
    roots = background.call(lambda: [type(r).__name__ for r in session.doc.roots])
    assert roots == ["Column", "PageState"], roots
    assert background.call(lambda: [m for m in session.doc.models if str(m.id).startswith("forged")]) == []
    assert config_of(background, session).activation == "tanh"


def test_a_client_cannot_push_a_whole_document(running) -> None:
    background, server = running
    seed = "0.40404"

    async def forge():
        tab = await BokehSocket.open(server, f"seed={seed}")
        await tab.pull()
        return await tab.request("PUSH-DOC", {"doc": {"roots": [], "title": "forged", "version": "3.9.2"}})

    reply = run(forge)
    assert reply.msgtype == "ERROR" and "refused" in reply.content["text"]
    session = session_of(background, server, seed)
    assert background.call(lambda: len(session.doc.roots)) == 2


def test_error_replies_carry_no_traceback_and_no_server_path(running) -> None:
    background, server = running
    seed = "0.50505"

    async def unknown_event():
        tab = await BokehSocket.open(server, f"seed={seed}")
        await tab.pull()
        event = {"type": "event", "name": "no_such_event", "values": {"type": "map", "entries": []}}
        return await tab.request(
            "PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}
        )

    reply = run(unknown_event)
    assert reply.msgtype == "ERROR"
    assert reply.content["traceback"] is None
    assert "Traceback" not in reply.content["text"] and "/" not in reply.content["text"]


def _substitute(node: object, ids: dict[str, str]) -> object:
    if isinstance(node, dict):
        return {k: _substitute(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, ids) for v in node]
    return ids.get(node, node) if isinstance(node, str) else node


def test_a_message_over_the_size_limit_closes_only_its_connection(running) -> None:
    background, server = running
    seed = "0.60606"

    async def oversized():
        tab = await BokehSocket.open(server, f"seed={seed}")
        await tab.pull()
        # A websocket frame that announces one byte more than the limit: the server decides on the
        # announced length, before reading the payload. Only the header is sent, so that the server
        # closes a connection with nothing left unread: had the client sent the whole megabyte, the
        # server's close would find unread bytes, the kernel would answer with a reset, and the reset
        # may overtake the close frame ("message too big") on its way to the client.
        header = struct.pack("!BBQ", 0x81, 0x80 | 127, MAX_MESSAGE_BYTES + 1)  # final text frame, masked
        await tab.connection.protocol.stream.write(header)
        while True:
            if await tab.connection.read_message() is None:  # the server closed this connection
                return tab.connection.close_code

    assert run(oversized) == 1009  # "message too big"
    assert background.call(lambda: any(s.experiment.config.seed == seed for s in server.state.live.values()))

    async def other_tab():
        tab = await BokehSocket.open(server, "seed=0.70707")
        return await tab.pull()

    assert run(other_tab)  # the server serves on
