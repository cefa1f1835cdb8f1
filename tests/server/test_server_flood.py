"""Changes that arrive faster than frames are coalesced: only the last per control costs (issue 10, point 5).

``Coalescer`` is tested with a fake clock and scheduler; the server with a forged client that sends
hundreds of activation changes and layer clicks over a real websocket. The figures (how long the server
stays busy, another session's frame rate) come from ``bench/flood.py``.
"""

from __future__ import annotations

import pytest
from server_pages import BokehSocket, model_id
from waiting import wait_until
from tornado.ioloop import IOLoop

from courseware.server.runner import BackgroundServer, ServeOptions
from courseware.server.session import Coalescer

pytestmark = pytest.mark.slow  # floods real servers: left out of the fast subset (README)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


class FakeLoop:
    """A clock that moves only when told, and callbacks run only when their time has come."""

    def __init__(self) -> None:
        self.now = 0.0
        self.later: list[tuple[float, object]] = []

    def schedule(self, callback, delay_s: float) -> None:
        self.later.append((self.now + delay_s, callback))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        due = [c for t, c in self.later if t <= self.now]
        self.later = [(t, c) for t, c in self.later if t > self.now]
        for callback in due:
            callback()


def test_the_first_change_runs_at_once_and_later_ones_wait_for_the_frame() -> None:
    loop = FakeLoop()
    ran: list[str] = []
    changes = Coalescer(0.03, loop.schedule, clock=lambda: loop.now)
    changes.submit("activation", lambda: ran.append("relu"))
    assert ran == ["relu"]  # a person's click shows at once
    for value in ("tanh", "sigmoid", "linear"):
        changes.submit("activation", lambda v=value: ran.append(v))
    changes.submit("learningRate", lambda: ran.append("rate 0.1"))
    assert ran == ["relu"] and len(loop.later) == 1
    loop.advance(0.03)
    assert ran == ["relu", "linear", "rate 0.1"]  # the last change of each control, in order
    assert changes.runs == 3 and not changes.pending


def test_a_slow_change_makes_the_next_wait_as_long() -> None:
    loop = FakeLoop()
    changes = Coalescer(0.03, loop.schedule, clock=lambda: loop.now)

    def slow() -> None:
        loop.now += 0.5  # a rebuild that took half a second

    changes.submit("networkShape", slow)
    ran: list[int] = []
    changes.submit("networkShape", lambda: ran.append(1))
    loop.advance(0.1)
    assert ran == []  # the session sits out as long as its change took
    loop.advance(0.4)
    assert ran == [1]


def test_without_a_server_every_change_runs_at_once() -> None:
    ran: list[int] = []
    changes = Coalescer(0.03, None)
    for index in range(3):
        changes.submit("activation", lambda i=index: ran.append(i))
    assert ran == [0, 1, 2]


@pytest.fixture(scope="module")
def running():
    # a long frame interval: every forged change arrives within one, however slow the machine
    background = BackgroundServer(ServeOptions(port=0, frame_interval_ms=2000))
    with background as server:
        yield background, server


@pytest.mark.parametrize("kind", ["activation", "layers"])
def test_a_flood_of_changes_costs_a_few_rebuilds_and_the_last_change_wins(running, kind: str) -> None:
    background, server = running
    seed = "0.61616" if kind == "activation" else "0.72727"
    count = 300

    async def flood():
        tab = await BokehSocket.open(server, f"seed={seed}&activation=tanh")
        document = await tab.pull()
        ids = {n: model_id(document, n) for n in ("activation", "add-layer", "remove-layer")}
        for index in range(count):
            if kind == "activation":
                event = {"kind": "ModelChanged", "model": {"id": ids["activation"]}, "attr": "value",
                         "new": ACTIVATIONS[index % 4]}  # fmt: skip
            else:
                button = ids["add-layer" if index % 3 else "remove-layer"]
                event = {"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
                    "type": "event", "name": "button_click",
                    "values": {"type": "map", "entries": [["model", {"id": button}]]}}}  # fmt: skip
            await tab.send("PATCH-DOC", {"events": [event]})
        return await tab.request("SERVER-INFO-REQ", {})  # answered once every change is handled

    assert run_sync(flood).msgtype == "SERVER-INFO-REPLY"
    session = background.call(lambda: next(s for s in server.state.live.values() if s.experiment.config.seed == seed))
    assert wait_until(lambda: background.call(lambda: not session.changes.pending))
    runs = background.call(lambda: session.changes.runs)
    assert runs <= 10, f"{runs} changes ran for {count} sent"
    if kind == "activation":
        assert background.call(lambda: session.experiment.config.activation) == ACTIVATIONS[(count - 1) % 4]


def run_sync(coroutine_fn, timeout: float = 120):
    return IOLoop(make_current=False).run_sync(coroutine_fn, timeout=timeout)
