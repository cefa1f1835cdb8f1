"""What the server writes to its log (issue 10, point 6): bounded records, no session ids.

Bokeh logs the whole message when it cannot handle one, so a client could grow the log by megabytes a
second; and an id in the log is all it takes to join that session. The unit tests check the filter;
the end-to-end test runs ``courseware serve --log-level info``, sends a large message that fails, and
reads everything the server wrote.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys

from bokeh.util.token import get_session_id
from server_pages import fetch
from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from courseware.server.logs import MAX_LOGGED_CHARS, BoundedRecords

COMMAND = [sys.executable, "-c", "from courseware.cli import main; main()", "serve", "--port", "0",
           "--log-level", "info"]  # fmt: skip


def record(name: str, message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, None)


def test_long_records_are_cut() -> None:
    entry = record("bokeh.server.protocol_handler", "error handling message\n message: %r", "x" * 15_000_000)
    assert BoundedRecords().filter(entry)
    shown = entry.getMessage()
    assert len(shown) < MAX_LOGGED_CHARS + 100 and "15,000,0" in shown


def test_session_ids_in_bokeh_records_are_hidden() -> None:
    session_id = "vErRbbQeKTTBc2Dkl4wxShcqUxDL6l7DeNDfVdzxp6Kg"
    entry = record("bokeh.server.contexts", "Session %r was scheduled to discard but came back to life", session_id)
    BoundedRecords().filter(entry)
    assert session_id not in entry.getMessage() and "<session>" in entry.getMessage()


def test_the_served_log_is_bounded_and_names_no_session() -> None:
    process = subprocess.Popen(COMMAND, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while True:
            line = process.stdout.readline()
            assert line, "the server stopped:\n" + "".join(lines)
            lines.append(line)
            match = re.search(r"serving at http://[^:]+:(\d+)/", line)
            if match:
                port = int(match.group(1))
                break
        _status, page = fetch(f"http://127.0.0.1:{port}/playground?seed=0.1")
        token = re.search(r'"token":"([^"]+)"', page).group(1)
        session_id = get_session_id(token)
        big = "y" * 900_000  # under the websocket limit; a message this size that fails used to be logged whole

        async def send_failing_message() -> str:
            connection = await websocket_connect(HTTPRequest(
                f"ws://127.0.0.1:{port}/playground/ws",
                headers={"Origin": f"http://127.0.0.1:{port}", "Sec-WebSocket-Protocol": f"bokeh, {token}"},
            ))  # fmt: skip
            await connection.read_message()  # ACK header
            await connection.read_message()
            await connection.read_message()
            event = {"type": "event", "name": "no_such_event",
                     "values": {"type": "map", "entries": [["payload", big]]}}  # fmt: skip
            patch = {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": event}]}
            for part in (json.dumps({"msgid": "1", "msgtype": "PATCH-DOC"}), "{}", json.dumps(patch)):
                await connection.write_message(part)
            reply = await connection.read_message()
            connection.close()
            return reply

        reply = IOLoop(make_current=False).run_sync(send_failing_message, timeout=60)
        assert '"ERROR"' in reply
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    log = "".join(lines) + rest
    assert "a change from a client could not be applied" in log
    assert len(log) < 30_000, f"the log grew by {len(log):,} characters"
    assert max(len(line) for line in log.splitlines()) <= MAX_LOGGED_CHARS + 100
    assert session_id not in log
    assert "a session started (1 live)" in log
