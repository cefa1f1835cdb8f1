"""Soak: N sessions playing for M minutes over real websockets; nothing may fail or grow.

    python bench/soak.py [--sessions 40] [--minutes 5] [--num-procs 2]

Starts ``courseware serve``, opens N sessions the way a browser does (the raw Bokeh-protocol client of
``serve_load.py``), presses play in each, and keeps them playing. Every ``--interval`` seconds it
prints frames/s per session (min / median) over the interval and the server's memory (resident set of
the server and its workers); at the end, the totals and every error: a session that failed to open or
lost its connection, and any ERROR or traceback in the server's log. It exits 1 if there was an error.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serve_load import BokehClient, open_session, server_pids, start_server, stop_server  # noqa: E402


def rss_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` together, in MB (from /proc)."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def log_errors(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines if "ERROR" in line or "Traceback" in line]


async def soak(port: int, root: int, sessions: int, minutes: float, interval: float, rate: float) -> int:
    clients: list[BokehClient] = []

    async def arrive(index: int):
        await asyncio.sleep(index / rate if rate > 0 else 0)
        return await open_session(index, port, clients)

    opened = await asyncio.gather(*(arrive(i) for i in range(sessions)))
    errors = [f"session {s.index}: {s.error}" for s in opened if s.error]
    await asyncio.sleep(3)  # warm-up: every session has started playing
    pids = server_pids(root)
    start_memory = rss_mb(pids)
    print(f"{sessions} sessions playing; server memory at start {start_memory:.0f} MB ({len(pids)} processes)")
    print(f"{'minute':>6} {'fps/session min':>15} {'median':>7} {'memory MB':>10}")
    deadline = time.perf_counter() + 60 * minutes
    all_rates: list[float] = []
    while time.perf_counter() < deadline:
        before, t0 = [s.frames for s in opened], time.perf_counter()
        await asyncio.sleep(min(interval, max(0.0, deadline - t0)))
        elapsed = time.perf_counter() - t0
        rates = [(s.frames - b) / elapsed for s, b in zip(opened, before, strict=True) if not s.error]
        all_rates += rates
        minute = (60 * minutes - (deadline - time.perf_counter())) / 60
        print(f"{minute:>6.1f} {min(rates, default=0):>15.1f} {statistics.median(rates) if rates else 0:>7.1f} "
              f"{rss_mb(server_pids(root)):>10.0f}", flush=True)  # fmt: skip
    end_memory = rss_mb(server_pids(root))
    dropped = [c for c in clients if c.done.done()]
    errors += [f"session {c.stats.index}: connection lost" for c in dropped]
    for client in clients:
        client.close()
    return start_memory, end_memory, all_rates, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--num-procs", type=int, default=2)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between printed rows")
    parser.add_argument("--rate", type=float, default=4.0, help="sessions opened per second")
    args = parser.parse_args()
    log: list[str] = []
    process, port = start_server(args.num_procs, log)
    try:
        start, end, rates, errors = asyncio.run(
            soak(port, process.pid, args.sessions, args.minutes, args.interval, args.rate)
        )
    finally:
        stop_server(process)
    errors += [f"server log: {line}" for line in log_errors(log)]
    print(f"over {args.minutes:g} min: frames/s per session min {min(rates, default=0):.1f}, "
          f"median {statistics.median(rates) if rates else 0:.1f}; server memory {start:.0f} MB at start, "
          f"{end:.0f} MB at end; errors: {len(errors)}")  # fmt: skip
    for error in errors[:20]:
        print(f"  {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
