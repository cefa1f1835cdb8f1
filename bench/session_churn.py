"""Session churn: open and close many sessions; the server's memory must come back.

    python bench/session_churn.py [--sessions 500] [--batch 10]

Starts ``courseware serve`` with one process, then opens sessions the way a browser does (page, Bokeh
websocket, document, a press of play so each session trains a little) and closes them, ``--batch``
at a time, until ``--sessions`` have come and gone. After the first 50 and at the end it waits until
the server has destroyed the closed sessions (``/status.json`` reports none left) and reads its
resident memory. It prints both figures and their difference; a leak shows as growth that scales
with the number of sessions rather than settling.
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
from soak import log_errors, rss_mb  # noqa: E402


async def live_sessions(port: int) -> int:
    status = json.loads(await http_get(port, "/status.json"))
    return int(status["sessions"])


async def settle(port: int, timeout: float = 60.0) -> float:
    """Wait until every closed session is destroyed; returns how long that took."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if await live_sessions(port) == 0:
            return time.perf_counter() - start
        await asyncio.sleep(0.5)
    raise RuntimeError(f"sessions still alive after {timeout:.0f} s")


async def churn(port: int, pid: int, total: int, batch: int, checkpoint: int) -> tuple[list[tuple[int, float]], list[str]]:
    readings: list[tuple[int, float]] = []
    errors: list[str] = []
    done = 0
    while done < total:
        clients: list[BokehClient] = []
        count = min(batch, total - done)
        opened = await asyncio.gather(*(open_session(done + i, port, clients) for i in range(count)))
        errors += [f"session {s.index}: {s.error}" for s in opened if s.error]
        await asyncio.sleep(0.3)  # let each session play a frame or two
        for client in clients:
            client.close()
        done += count
        if done == checkpoint or done == total:
            waited = await settle(port)
            memory = rss_mb([pid])
            readings.append((done, memory))
            print(f"after {done:>4} sessions: {memory:6.1f} MB (closed sessions destroyed within {waited:.1f} s)", flush=True)
    return readings, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10, help="sessions open at the same time")
    parser.add_argument("--checkpoint", type=int, default=50, help="first memory reading after this many")
    args = parser.parse_args()
    log: list[str] = []
    process, port = start_server(1, log)
    try:
        readings, errors = asyncio.run(churn(port, process.pid, args.sessions, args.batch, args.checkpoint))
    finally:
        stop_server(process)
    errors += [f"server log: {line}" for line in log_errors(log)]
    (first_n, first), (last_n, last) = readings[0], readings[-1]
    print(f"memory after {first_n} sessions {first:.1f} MB, after {last_n} sessions {last:.1f} MB: "
          f"{last - first:+.1f} MB ({(last - first) / max(1, last_n - first_n) * 1024:+.1f} KB per session); "
          f"errors: {len(errors)}")  # fmt: skip
    for error in errors[:20]:
        print(f"  {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
