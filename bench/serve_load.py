"""Load benchmark: N playing sessions over real websockets against ``courseware serve``.

Starts ``courseware serve --port 0 [--num-procs P]`` as a subprocess, then for each N opens N sessions
the way a browser does (GET the page, open the Bokeh websocket with the page's token, pull the
document) and presses each session's play button with a real Bokeh ``button_click`` event. It then
counts, per session, the training frames that arrive (each frame carries one epoch-counter update)
and reads the server's CPU time from /proc. It prints, for each N:

* frames/s per session (min / median / mean) sustained over the measuring window;
* bytes per second each session receives (median / worst, websocket frames as sent on the wire), per
  frame, and Bokeh messages per frame;
* server CPU (percent of one core, all worker processes together);
* the CPU used by every other process on the machine during the level (the benchmark shares the
  machine; a figure taken while something else ran is marked by it);
* how long a session took to become usable (page GET to document received, while the sessions
  already open keep playing), how long a click took to show its effect (play pressed to the button
  turning to pause on the wire), median and worst, and the median time from play to the first frame.

Sessions arrive at ``--rate`` per second (a class opening the page), not all in the same instant.

The client is deliberately thin (an asyncio protocol that parses websocket frame headers and only
looks inside the small messages), so that most of the machine's CPU is left to the server. Like a
browser it offers permessage-deflate (``--no-compression``: it does not), so the bytes counted are
what a browser would receive.

Usage: ``python bench/serve_load.py [--sessions 10,20,40,80] [--num-procs 2] [--seconds 8]``
Traffic goes to 127.0.0.1 only; every run is bounded in time and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import signal
import zlib
import statistics
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
EPOCH_MARK = b"cw-epoch-value"
EPOCH_RE = re.compile(rb"cw-epoch-value\\?\">(\d{3}),(\d{3})<")
# Every frame updates the network diagram's values (weights, biases): the message that does is a frame,
# whatever else it sends (the epoch counter and loss text are redrawn at most 5 times/s). The values'
# data source is found by its name; servers before it had one sent them with the "width" column.
FRAME_RE = re.compile(rb'"cols":\[([^\]]*)\]')
NETWORK_VALUES = "network-values"
COMPRESSION = True  # offer permessage-deflate, as browsers do (--no-compression)



# -- a minimal websocket client speaking the Bokeh protocol ------------------------------------------


@dataclass
class SessionStats:
    index: int
    started: float = 0.0
    page: float | None = None  # the page's HTML received
    acked: float | None = None  # the websocket opened and the server acknowledged it
    ready: float | None = None  # document received
    clicked: float | None = None
    answered: float | None = None  # the click's effect arrived (the play button turned to pause)
    first_frame: float | None = None
    frames: int = 0
    received: int = 0  # bytes on the wire from the server (websocket frames, after the handshake)
    messages: int = 0  # Bokeh messages received
    last_epoch: int = -1
    error: str | None = None


class BokehClient(asyncio.Protocol):
    """One browser-like session: handshake, PULL-DOC, press play, count frames."""

    def __init__(self, stats: SessionStats, path: str, port: int, token: str, done: asyncio.Future) -> None:
        self.stats = stats
        self.path = path
        self.port = port
        self.token = token
        self.done = done
        self.buffer = bytearray()
        self.handshaken = False
        self.transport: asyncio.Transport | None = None
        self.fragments: list[bytes] = []  # the current Bokeh message's frames
        self.expect = 0  # frames still to come for the current message
        self.play_id: str | None = None
        self.values_mark: bytes | None = None  # b'"id":"<network values source>"'
        self.document = b""  # the PULL-DOC-REPLY content, for clients that need more model ids
        self.inflater: zlib._Decompress | None = None  # when the server compresses (permessage-deflate)

    # transport -------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.path}/ws HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: bokeh, {self.token}\r\nOrigin: http://{HOST}:{self.port}\r\n"
            + ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if COMPRESSION else "")
            + "\r\n"
        )
        transport.write(request.encode())  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.stats.received += len(data)
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                self.stats.error = head.split(b"\r\n", 1)[0].decode(errors="replace")
                self.transport.close()  # type: ignore[union-attr]
                return
            self.handshaken = True
            if b"permessage-deflate" in head.lower():
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._frames()

    def _frames(self) -> None:
        buf = self.buffer
        pos = 0
        n = len(buf)
        while n - pos >= 2:
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = struct.unpack_from(">H", buf, pos + 2)[0]
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = struct.unpack_from(">Q", buf, pos + 2)[0]
                head = 10
            if n - pos < head + length:
                break
            opcode = buf[pos] & 0x0F
            compressed = bool(buf[pos] & 0x40)
            if compressed:  # every compressed message is inflated, in order: the window carries over
                assert self.inflater is not None
                payload = self.inflater.decompress(bytes(buf[pos + head : pos + head + length]) + b"\x00\x00\xff\xff")
            else:
                payload = bytes(buf[pos + head : pos + head + length]) if opcode in (1, 9) else b""
            pos += head + length
            if opcode == 1:
                self._text(payload)
            elif opcode == 2:
                self._binary()
            elif opcode == 9:
                self._send(payload, opcode=10)  # pong
            elif opcode == 8:
                self.transport.close()  # type: ignore[union-attr]
        del buf[:pos]

    def _send(self, payload: bytes, opcode: int = 1) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack(">BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(header + mask + masked)  # type: ignore[union-attr]

    # Bokeh messages --------------------------------------------------------------------------------

    def _text(self, payload: bytes) -> None:
        if self.expect == 0:  # a message header
            header = json.loads(payload)
            self.fragments = [payload]
            self.expect = 2 + 2 * int(header.get("num_buffers", 0))
            self.msgtype = header.get("msgtype")
            return
        self.fragments.append(payload)
        self._advance()

    def _binary(self) -> None:
        self.fragments.append(b"")
        self._advance()

    def _advance(self) -> None:
        self.expect -= 1
        if self.expect == 0:
            self._message(self.msgtype, self.fragments[2] if len(self.fragments) > 2 else b"")

    def send_message(self, msgtype: str, content: dict) -> None:
        header = {"msgid": uuid.uuid4().hex[:12], "msgtype": msgtype}
        for part in (header, {}, content):
            self._send(json.dumps(part).encode())

    def _message(self, msgtype: str, content: bytes) -> None:
        now = time.perf_counter()
        self.stats.messages += 1
        if msgtype == "ACK":
            self.stats.acked = now
            self.send_message("PULL-DOC-REQ", {})
        elif msgtype == "PULL-DOC-REPLY":
            self.stats.ready = now
            self.document = content
            self.play_id = _find_model(content, "play")
            values = _find_model(content, NETWORK_VALUES)
            self.values_mark = f'"id":"{values}"'.encode() if values else None
            if self.play_id is None:
                self.stats.error = "no play button in the document"
                return
        elif msgtype == "PATCH-DOC":
            if self.stats.answered is None and self.stats.clicked is not None and b'"attr":"label"' in content:
                self.stats.answered = now
            if self.values_mark is not None:
                frame = self.values_mark in content
            else:
                cols = FRAME_RE.search(content)
                frame = bool(cols and b'"v"' in cols.group(1) and b'"width"' in cols.group(1))
            if frame:
                self.stats.frames += 1
                if self.stats.first_frame is None and self.stats.clicked is not None:
                    self.stats.first_frame = now
            elif EPOCH_MARK in content:
                match = EPOCH_RE.search(content)
                if match:
                    self.stats.last_epoch = int(match.group(1) + match.group(2))

    def press_play(self) -> None:
        assert self.play_id is not None
        event = {
            "type": "event",
            "name": "button_click",
            "values": {"type": "map", "entries": [["model", {"id": self.play_id}]]},
        }
        self.stats.clicked = time.perf_counter()
        self.send_message("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]})

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            try:
                self._send(struct.pack(">H", 1000), opcode=8)
            finally:
                self.transport.close()


def _find_model(content: bytes, name: str) -> str | None:
    """The id of the model called ``name`` in a PULL-DOC-REPLY."""
    found: list[str] = []

    def walk(node: object) -> None:
        if found:
            return
        if isinstance(node, dict):
            attrs = node.get("attributes")
            if isinstance(attrs, dict) and attrs.get("name") == name and "id" in node:
                found.append(node["id"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(content))
    return found[0] if found else None


async def http_get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"GET {path}: {head.splitlines()[0]!r}")
    if b"Transfer-Encoding: chunked" in head:
        body = _dechunk(body)
    return body


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


async def open_session(
    index: int, port: int, clients: list[BokehClient], play: bool = True, client_class: type = BokehClient
) -> SessionStats:
    """Open one session as a browser tab does; press play in it unless ``play`` is False."""
    stats = SessionStats(index, started=time.perf_counter())
    try:
        page = await http_get(port, f"/playground?seed=0.{index:05d}")
        stats.page = time.perf_counter()
        token = re.search(rb'"token":"([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        _, client = await loop.create_connection(
            lambda: client_class(stats, "/playground", port, token, done), HOST, port
        )
        clients.append(client)  # type: ignore[arg-type]
        for _ in range(1200):
            if client.play_id is not None or stats.error:
                break
            await asyncio.sleep(0.025)
        if stats.error:
            return stats
        if client.play_id is None:
            stats.error = "the document did not arrive within 30 s"
            return stats
        if play:
            client.press_play()
    except Exception as exc:
        stats.error = f"{type(exc).__name__}: {exc}"
    return stats


# -- the server under test ----------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def machine_cpu_seconds() -> float:
    """CPU time used by every process since boot (/proc/stat: user, nice, system, irq, softirq, steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def server_pids(root: int) -> list[int]:
    """The server process and its workers."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                pids.append(int(entry.name))
    return pids


def start_server(num_procs: int, log: list[str] | None = None) -> tuple[subprocess.Popen, int]:
    """Start ``courseware serve --port 0``; returns it and its port. ``log`` collects its output."""
    command = [sys.executable, "-c", "from courseware.cli import main; main()", "serve", "--port", "0", "--num-procs", str(num_procs),
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    assert process.stdout is not None
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"serving at http://[^:]+:(\d+)/", line)
        if match:
            port = int(match.group(1))
            # drain the rest of the output in the background so the server never blocks on it
            import threading

            sink = log if log is not None else []
            threading.Thread(target=lambda: [sink.append(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
            time.sleep(1.0 if num_procs > 1 else 0.3)
            return process, port
    process.kill()
    raise RuntimeError("the server did not print its URL")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C would; kill only if it has not stopped within 20 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


async def run_level(port: int, root_pid: int, sessions: int, warmup: float, seconds: float, rate: float) -> dict:
    """Open ``sessions`` at ``rate`` per second (0: all at once), then measure for ``seconds``."""
    clients: list[BokehClient] = []
    level_pids = server_pids(root_pid)
    machine0, ours0, bench0, t_level = machine_cpu_seconds(), cpu_seconds(level_pids), time.process_time(), time.perf_counter()

    async def arrive(index: int) -> SessionStats:
        if rate > 0:
            await asyncio.sleep(index / rate)
        return await open_session(index, port, clients)

    opened = await asyncio.gather(*(arrive(i) for i in range(sessions)))
    errors = [s.error for s in opened if s.error]
    await asyncio.sleep(warmup)
    pids = server_pids(root_pid)
    counts0 = [s.frames for s in opened]
    bytes0 = [s.received for s in opened]
    messages0 = [s.messages for s in opened]
    cpu0, t0, own0 = cpu_seconds(pids), time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    counts1 = [s.frames for s in opened]
    bytes1 = [s.received for s in opened]
    messages1 = [s.messages for s in opened]
    cpu1, t1, own1 = cpu_seconds(pids), time.perf_counter(), time.process_time()
    others = (machine_cpu_seconds() - machine0) - (cpu_seconds(pids) - ours0) - (time.process_time() - bench0)
    for client in clients:
        client.close()
    elapsed = t1 - t0
    rates = [(b - a) / elapsed for a, b in zip(counts0, counts1)]
    kbps = [(b - a) / elapsed / 1000 for a, b in zip(bytes0, bytes1)]
    per_frame = [(b1 - b0) / (f1 - f0) / 1000 for b0, b1, f0, f1 in zip(bytes0, bytes1, counts0, counts1) if f1 > f0]
    msgs = [(b - a) / elapsed for a, b in zip(messages0, messages1)]
    ready = [s.ready - s.started for s in opened if s.ready is not None]
    click = [s.answered - s.clicked for s in opened if s.answered is not None and s.clicked is not None]
    first = [s.first_frame - s.clicked for s in opened if s.first_frame is not None and s.clicked is not None]
    return {
        "sessions": sessions,
        "errors": errors,
        "fps_min": min(rates) if rates else 0.0,
        "fps_median": statistics.median(rates) if rates else 0.0,
        "fps_mean": statistics.fmean(rates) if rates else 0.0,
        "kbps_median": statistics.median(kbps) if kbps else 0.0,
        "kbps_max": max(kbps) if kbps else 0.0,
        "kb_per_frame": statistics.median(per_frame) if per_frame else float("nan"),
        "messages_per_frame": statistics.median(m / r for m, r in zip(msgs, rates) if r > 0) if any(rates) else float("nan"),
        "cpu_percent": 100 * (cpu1 - cpu0) / elapsed,
        "client_cpu_percent": 100 * (own1 - own0) / elapsed,
        "workers": len(pids) - (1 if len(pids) > 1 else 0),
        "others_percent": max(0.0, 100 * others / (time.perf_counter() - t_level)),
        "ready_median": statistics.median(ready) if ready else float("nan"),
        "ready_max": max(ready) if ready else float("nan"),
        "click_median": statistics.median(click) if click else float("nan"),
        "click_max": max(click) if click else float("nan"),
        "first_median": statistics.median(first) if first else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="10,20,40,80", help="comma-separated session counts")
    parser.add_argument("--num-procs", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring window per level")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=4.0,
                        help="sessions opened per second, as students arriving (0: all at once)")
    parser.add_argument("--settle", type=float, default=7.0, help="pause between levels (sessions expire)")
    parser.add_argument("--port", type=int, default=0, help="use a server already running on this port")
    parser.add_argument("--pid", type=int, default=0, help="with --port: that server's pid (for CPU)")
    parser.add_argument("--no-compression", action="store_true",
                        help="do not offer permessage-deflate (count the bytes an old client would get)")
    args = parser.parse_args()
    global COMPRESSION
    COMPRESSION = not args.no_compression
    levels = [int(n) for n in args.sessions.split(",") if n.strip()]
    if args.port:
        return _run_levels(args, levels, None, args.port, args.pid or os.getpid())
    process, port = start_server(args.num_procs)
    try:
        return _run_levels(args, levels, process, port, process.pid)
    finally:
        stop_server(process)


def _run_levels(args: argparse.Namespace, levels: list[int], process, port: int, pid: int) -> int:
    print(f"server: courseware serve --num-procs {args.num_procs} on port {port} (pid {pid}); "
          f"{os.cpu_count()} CPUs; sessions arrive {args.rate:g}/s; window {args.seconds:.0f} s after "
          f"{args.warmup:.0f} s warm-up")  # fmt: skip
    print(f"{'sessions':>8} {'fps/session min':>15} {'median':>7} {'mean':>6} {'server CPU':>10} "
          f"{'client CPU':>10} {'ready med/max s':>16} {'click med/max ms':>17} {'1st frame ms':>12} "
          f"{'KB/s med/max':>13} {'KB/frame':>8} {'msg/frame':>9} {'other CPU':>9}  errors")  # fmt: skip
    for index, n in enumerate(levels):
        if index:
            time.sleep(args.settle)
        result = asyncio.run(run_level(port, pid, n, args.warmup, args.seconds, args.rate))
        print(
            f"{n:>8} {result['fps_min']:>15.1f} {result['fps_median']:>7.1f} {result['fps_mean']:>6.1f} "
            f"{result['cpu_percent']:>9.0f}% {result['client_cpu_percent']:>9.0f}% "
            f"{result['ready_median']:>7.2f}/{result['ready_max']:<7.2f} "
            f"{1000 * result['click_median']:>8.0f}/{1000 * result['click_max']:<7.0f} "
            f"{1000 * result['first_median']:>12.0f} "
            f"{result['kbps_median']:>6.0f}/{result['kbps_max']:<6.0f} {result['kb_per_frame']:>8.1f} "
            f"{result['messages_per_frame']:>9.1f} {result['others_percent']:>8.0f}%  "
            f"{len(result['errors'])}{' ' + result['errors'][0] if result['errors'] else ''}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
