"""Flood: one client sends thousands of changes in a fraction of a second; another student keeps playing.

    python bench/flood.py [--kind activation|layers] [--changes 2000] [--within 0.2]

Starts ``courseware serve`` with one process and opens two sessions the way a browser does (the raw
Bokeh-protocol client of ``serve_load.py``). Session A presses play. Session B does not play: it
sends ``--changes`` changes within ``--within`` seconds, as a forged client can (a browser's own
controls cannot go that fast):

* ``activation``: ``ModelChanged`` of the activation select's ``value``, cycling through four
  activations (each one a new network in the Playground's rules);
* ``layers``: clicks on the add-layer and remove-layer buttons, alternately.

Then B asks for the server's info (``SERVER-INFO-REQ``): the reply comes once the server has handled
every message B sent before it. The script prints how long the server was busy with B's flood (first
change sent to that reply) and A's frames per second before and during it.

Traffic goes to 127.0.0.1 only; the run is bounded in time and stops the server it started.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from close_storm import stamp_frames  # noqa: E402
from serve_load import BokehClient, _find_model, open_session, start_server, stop_server  # noqa: E402

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


class FloodClient(BokehClient):
    """A session that records when its ``SERVER-INFO-REPLY`` arrives and counts ``ERROR`` replies."""

    info_at: float | None = None
    error_replies = 0

    def _message(self, msgtype: str, content: bytes) -> None:
        if msgtype == "SERVER-INFO-REPLY":
            self.info_at = time.perf_counter()
        elif msgtype == "ERROR":
            self.error_replies += 1
        super()._message(msgtype, content)


def change(kind: str, index: int, ids: dict[str, str]) -> dict:
    if kind == "activation":
        event = {"kind": "ModelChanged", "model": {"id": ids["activation"]}, "attr": "value",
                 "new": ACTIVATIONS[index % len(ACTIVATIONS)]}  # fmt: skip
    else:
        button = ids["add-layer"] if index % 2 == 0 else ids["remove-layer"]
        event = {"kind": "MessageSent", "msg_type": "bokeh_event",
                 "msg_data": {"type": "event", "name": "button_click",
                              "values": {"type": "map", "entries": [["model", {"id": button}]]}}}  # fmt: skip
    return {"events": [event]}


def frames_between(times: list[float], start: float, end: float) -> float:
    return len([t for t in times if start <= t < end]) / max(end - start, 1e-9)


async def flood(port: int, kind: str, changes: int, within: float, timeout: float) -> int:
    clients: list[BokehClient] = []
    player = await open_session(0, port, clients)
    flooder = await open_session(1, port, clients, play=False, client_class=FloodClient)
    if player.error or flooder.error:
        print(f"a session failed to open: {player.error or flooder.error}")
        return 1
    a, b = clients
    assert isinstance(b, FloodClient)
    ids = {name: _find_model(b.document, name) for name in ("activation", "add-layer", "remove-layer")}
    frames = stamp_frames(a)
    await asyncio.sleep(5.0)  # A plays
    start = time.perf_counter()
    batch = max(1, changes // 20)
    for index in range(changes):
        b.send_message("PATCH-DOC", change(kind, index, ids))
        if index % batch == batch - 1:
            await asyncio.sleep(within / 20)
    sent = time.perf_counter()
    b.send_message("SERVER-INFO-REQ", {})
    while b.info_at is None and time.perf_counter() - start < timeout:
        await asyncio.sleep(0.01)
    end = b.info_at or time.perf_counter()
    await asyncio.sleep(0.5)
    for client in clients:
        client.close()
    print(f"{changes} {kind} changes sent in {sent - start:.2f} s by one session; another session plays")
    if b.info_at is None:
        print(f"  the server had not handled them after {timeout:.0f} s")
        return 1
    print(f"  server busy with the flood: {end - start:.2f} s "
          "(first change to the reply of a request sent after the last)")  # fmt: skip
    print(f"  the playing session: {frames_between(frames, start - 3.0, start):.1f} frames/s before, "
          f"{frames_between(frames, start, max(end, start + 0.5)):.1f} during")  # fmt: skip
    print(f"  error replies to the flooding session: {b.error_replies}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("activation", "layers"), default="activation")
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--within", type=float, default=0.2, help="seconds over which the changes are sent")
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    process, port = start_server(1)
    try:
        return asyncio.run(flood(port, args.kind, args.changes, args.within, args.timeout))
    finally:
        stop_server(process)


if __name__ == "__main__":
    raise SystemExit(main())
