"""A playground built on a bare Bokeh document, with helpers that act on its widgets and glyphs the way
the browser would (a widget value change, a button click event, a tap selection, a hover)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from bokeh.document import Document
from bokeh.events import ButtonClick
from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from courseware.experiment import Experiment
from courseware.registry import Registry
from courseware.server.session import PlaygroundSession

SEED = "0.12345"


@dataclass
class Page:
    doc: Document
    session: PlaygroundSession
    registry: Registry

    def get(self, name: str) -> Any:
        model = self.doc.select_one({"name": name})
        assert model is not None, f"no model named {name!r} on the page"
        return model

    def click(self, name: str) -> None:
        button = self.get(name)
        button._trigger_event(ButtonClick(button))

    def panel(self, name: str) -> Any:
        for instance in self.session.panels:
            if instance.component.name == name:
                return instance.panel
        raise AssertionError(f"no panel {name!r}")

    def tap(self, source: Any, row: int) -> None:
        source.selected.indices = [row]

    def net_rows(self, kind: str) -> np.ndarray:
        data = self.panel("network").net.data
        return np.array([k == kind for k in data["kind"]])

    @property
    def experiment(self) -> Experiment:
        return self.session.experiment

    def epoch_text(self) -> str:
        return self.get("epoch").text

    def loss_text(self) -> str:
        return self.get("losses").text


def arguments(**values: str) -> dict[str, list[bytes]]:
    """Query arguments as Bokeh's request hands them over."""
    return {k: [v.encode()] for k, v in values.items()}


def base(server) -> str:
    return f"http://127.0.0.1:{server.port}"


def fetch(url: str, timeout: float = 30) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class BokehSocket:
    """Just enough of the Bokeh protocol to be a browser tab: pull the document, click a button."""

    def __init__(self, connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, server, query: str, path: str = "/playground") -> BokehSocket:
        _, page = await IOLoop.current().run_in_executor(None, fetch, f"{base(server)}{path}?{query}")
        token = re.search(r'"token":"([^"]+)"', page).group(1)
        request = HTTPRequest(
            f"ws://127.0.0.1:{server.port}{path}/ws",
            headers={"Origin": f"http://127.0.0.1:{server.port}", "Sec-WebSocket-Protocol": f"bokeh, {token}"},
        )
        return cls(await websocket_connect(request))

    async def receive(self) -> tuple[str, dict]:
        header = json.loads(await self.connection.read_message())
        await self.connection.read_message()  # metadata
        content = json.loads(await self.connection.read_message())
        for _ in range(2 * header.get("num_buffers", 0)):
            await self.connection.read_message()
        return header["msgtype"], content

    async def send(self, msgtype: str, content: dict) -> str:
        msgid = str(time.monotonic_ns())
        for part in ({"msgid": msgid, "msgtype": msgtype}, {}, content):
            await self.connection.write_message(json.dumps(part))
        return msgid

    async def request(self, msgtype: str, content: dict) -> Reply:
        """Send a message and read until the server answers it (OK or ERROR)."""
        msgid = await self.send(msgtype, content)
        reply = Reply()
        while True:
            header = json.loads(await self.connection.read_message())
            await self.connection.read_message()  # metadata
            body = json.loads(await self.connection.read_message())
            for _ in range(2 * header.get("num_buffers", 0)):
                await self.connection.read_message()
            if header.get("reqid") == msgid:
                reply.msgtype, reply.content = header["msgtype"], body
                return reply
            if header["msgtype"] == "PATCH-DOC":
                reply.patches.extend(body.get("events", []))

    async def change(self, model: str, attr: str, new: object) -> Reply:
        """A ``ModelChanged`` event, as BokehJS sends when a widget changes in the browser."""
        event = {"kind": "ModelChanged", "model": {"id": model}, "attr": attr, "new": new}
        return await self.request("PATCH-DOC", {"events": [event]})

    async def pull(self) -> dict:
        while (await self.receive())[0] != "ACK":
            pass
        await self.send("PULL-DOC-REQ", {})
        while True:
            msgtype, content = await self.receive()
            if msgtype == "PULL-DOC-REPLY":
                return content

    async def click(self, model_id: str) -> Reply:
        event = {"type": "event", "name": "button_click",
                 "values": {"type": "map", "entries": [["model", {"id": model_id}]]}}  # fmt: skip
        return await self.request(
            "PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}
        )


@dataclass
class Reply:
    """The server's answer to one message, and the document changes it sent before it."""

    msgtype: str = ""
    content: dict = field(default_factory=dict)
    patches: list[dict] = field(default_factory=list)

    def changed(self, model: str, attr: str) -> list[object]:
        return [e["new"] for e in self.patches if e.get("model", {}).get("id") == model and e.get("attr") == attr]


def model_attribute(document: dict, name: str, attribute: str) -> object:
    """The value of ``attribute`` of the model called ``name`` in a pulled document (``"id"``: its id)."""
    found: list[object] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            attributes = node.get("attributes")
            if isinstance(attributes, dict) and attributes.get("name") == name:
                found.append(node.get("id") if attribute == "id" else attributes.get(attribute))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found[0]


def model_id(document: dict, name: str) -> str:
    """The id of the model called ``name`` in a pulled document."""
    return str(model_attribute(document, name, "id"))


def run(coroutine_fn, timeout: float = 60):
    """Run a client coroutine to its end on a loop of its own (the server runs on another thread's)."""
    return IOLoop(make_current=False).run_sync(coroutine_fn, timeout=timeout)


def session_of(background, server, seed: str):
    """The live session whose experiment has ``seed``, read on the server's thread."""
    return background.call(
        lambda: next(s for s in server.state.live.values() if s.experiment.config.seed == seed)
    )
