"""Close storm: many playing sessions close at once; the sessions that stay must keep their frames.

    python bench/close_storm.py [--closing 40] [--staying 4] [--watch 15]

Starts ``courseware serve`` with one process, opens ``--staying`` + ``--closing`` sessions the way a
browser does (the raw Bokeh-protocol client of ``serve_load.py``) and presses play in each. Once every
session has played for a while, the ``--closing`` ones close their websockets in the same instant (a
class closing its tabs). The server destroys their sessions a few seconds later
(``unused_session_lifetime``). For ``--watch`` seconds after the close it records every frame the
staying sessions receive and polls ``/status.json`` every 100 ms. It prints:

* the longest gap between two frames of any staying session after the close (the freeze a student
  sees), and the same figure before the close for comparison;
* the slowest ``/status.json`` answer after the close;
* how long the server took to destroy the closed sessions.

Traffic goes to 127.0.0.1 only; the run is bounded in time and stops the server it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serve_load import BokehClient, http_get, open_session, start_server, stop_server  # noqa: E402


def stamp_frames(client: BokehClient) -> list[float]:
    """Record the time of each frame ``client`` receives (wraps its message handler)."""
    times: list[float] = []
    handle = client._message

    def message(msgtype: str, content: bytes) -> None:
        before = client.stats.frames
        handle(msgtype, content)
        if client.stats.frames != before:
            times.append(time.perf_counter())

    client._message = message  # type: ignore[method-assign]
    return times


def longest_gap(times: list[float], start: float, end: float) -> float:
    """The longest time without a frame within [start, end] (the edges count as frames)."""
    inside = [start] + [t for t in times if start < t < end] + [end]
    return max(b - a for a, b in zip(inside, inside[1:]))


async def status(port: int) -> tuple[dict, float]:
    start = time.perf_counter()
    body = await http_get(port, "/status.json")
    return json.loads(body), time.perf_counter() - start


async def storm(port: int, closing: int, staying: int, warmup: float, watch: float, rate: float) -> int:
    clients: list[BokehClient] = []

    async def arrive(index: int):
        await asyncio.sleep(index / rate if rate > 0 else 0)
        return await open_session(index, port, clients)

    opened = await asyncio.gather(*(arrive(i) for i in range(staying + closing)))
    errors = [f"session {s.index}: {s.error}" for s in opened if s.error]
    if errors:
        print("\n".join(errors))
        return 1
    by_index = {c.stats.index: c for c in clients}
    stay = [by_index[i] for i in range(staying)]
    leave = [by_index[i] for i in range(staying, staying + closing)]
    frames = [stamp_frames(c) for c in stay]
    await asyncio.sleep(warmup)
    before_start = time.perf_counter()
    await asyncio.sleep(3.0)
    closed_at = time.perf_counter()
    for client in leave:
        client.close()
    initial, _ = await status(port)
    destroyed_goal = initial["destroyed"] + closing
    slowest = 0.0
    destroyed_at: float | None = None
    deadline = closed_at + watch
    while time.perf_counter() < deadline:
        answer, took = await status(port)
        slowest = max(slowest, took)
        if destroyed_at is None and answer["destroyed"] >= destroyed_goal:
            destroyed_at = time.perf_counter()
        await asyncio.sleep(0.1)
    end = time.perf_counter()
    for client in stay:
        client.close()
    gap_before = max(longest_gap(t, before_start, closed_at) for t in frames)
    gap_after = max(longest_gap(t, closed_at, end) for t in frames)
    rate_after = [len([x for x in t if closed_at < x < end]) / (end - closed_at) for t in frames]
    print(f"{closing} sessions closed at once, {staying} staying (all playing)")
    print(f"  longest frame gap of a staying session: {gap_before:.2f} s before the close, "
          f"{gap_after:.2f} s after it")  # fmt: skip
    print(f"  staying sessions after the close: {min(rate_after):.1f}-{max(rate_after):.1f} frames/s")
    print(f"  slowest /status.json after the close: {slowest:.2f} s")
    if destroyed_at is None:
        print(f"  the closed sessions were not all destroyed within {watch:.0f} s")
        return 1
    print(f"  closed sessions destroyed {destroyed_at - closed_at:.1f} s after the close")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--closing", type=int, default=40)
    parser.add_argument("--staying", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of play before measuring")
    parser.add_argument("--watch", type=float, default=15.0, help="seconds watched after the close")
    parser.add_argument("--rate", type=float, default=8.0, help="sessions opened per second")
    args = parser.parse_args()
    process, port = start_server(1)
    try:
        return asyncio.run(storm(port, args.closing, args.staying, args.warmup, args.watch, args.rate))
    finally:
        stop_server(process)


if __name__ == "__main__":
    raise SystemExit(main())
