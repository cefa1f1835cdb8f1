"""The running server: routes, sessions created and destroyed, websocket origins, the ``serve`` command.

In-process tests run the server on its own thread (``BackgroundServer``, port 0); the command-line
tests start ``courseware serve`` as a real process and stop it with SIGTERM, checking that no worker
process outlives it.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_pages import BokehSocket, base, fetch, model_id
from waiting import wait_until
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

from courseware.plugins import get_registry
from courseware.cli import main
from courseware.server import apps
from courseware.server import lessons as lesson_list
from courseware.server.runner import BackgroundServer, ServeOptions, default_origins, is_public

pytestmark = pytest.mark.slow  # starts real servers: left out of the fast subset (README)

COMMAND = [sys.executable, "-c", "from courseware.cli import main; main()", "serve"]


@pytest.fixture
def running():
    options = ServeOptions(port=0, unused_session_lifetime_ms=1500, check_unused_sessions_ms=200)
    background = BackgroundServer(options)
    with background as server:
        yield background, server


def test_index_lists_the_playground(running) -> None:
    _, server = running
    status, body = fetch(base(server) + "/")
    assert status == 200
    assert 'href="playground"' in body
    assert "Lessons" in body


def test_playground_page_creates_a_session_that_expires(running) -> None:
    background, server = running
    status, body = fetch(base(server) + "/playground?dataset=xor&seed=0.5")
    assert status == 200 and "bokeh" in body.lower()
    assert server.state.created == 1
    session = background.call(lambda: next(iter(server.state.live.values()), None))
    assert session is not None and session.experiment.config.dataset == "xor"
    # nobody opened its websocket: the session is unused and is destroyed, releasing its state
    assert wait_until(lambda: server.state.destroyed == 1)
    assert server.state.live == {} and session.experiment is None
    status, body = fetch(base(server) + "/status.json")
    assert json.loads(body)["destroyed"] == 1


def test_bad_url_values_give_a_page_not_an_error(running) -> None:
    background, server = running
    status, _body = fetch(base(server) + "/playground?networkShape=1000000&learningRate=x&dataset=%FF&seed=0.1")
    assert status == 200
    session = background.call(lambda: next(iter(server.state.live.values())))
    notice = session.notices.div.text
    assert session.notices.div.visible
    assert "networkShape" in notice and "learningRate" in notice and "dataset" in notice
    assert session.experiment.config.networkShape == (4, 2)


def test_lesson_route_without_a_lesson_id_serves_a_playground_and_a_pointer(running) -> None:
    background, server = running
    status, _body = fetch(base(server) + "/lesson?seed=0.1")
    assert status == 200
    session = background.call(lambda: next(iter(server.state.live.values())))
    assert "No lesson was named" in session.doc.select_one({"name": "lesson-message"}).text
    assert session.doc.select_one({"name": "playground"}) is not None


def test_lesson_route_uses_the_lesson_page(running, monkeypatch) -> None:
    from bokeh.models import Div

    calls = []

    def build_lesson_panel(session, lesson_id, folders, dev=False):
        calls.append((lesson_id, folders))
        if lesson_id != "known":
            raise LookupError(lesson_id)
        session.apply(dataset="spiral")
        return Div(text="LESSON PANEL known", name="the-lesson")

    monkeypatch.setattr(apps, "build_lesson_panel", build_lesson_panel)
    background, server = running
    status, body = fetch(base(server) + "/lesson?lesson=known&seed=0.1")
    assert status == 200
    assert calls == [("known", [])]
    session = background.call(lambda: next(iter(server.state.live.values())))
    assert session.doc.select_one({"name": "the-lesson"}) is not None
    assert session.experiment.config.dataset == "spiral"
    assert "lesson=known" not in session.state.query  # the page's own parameter is not experiment state
    status, _body = fetch(base(server) + "/lesson?lesson=nope&seed=0.2")
    assert status == 200
    sessions = background.call(lambda: list(server.state.live.values()))
    messages = [s.doc.select_one({"name": "lesson-message"}) for s in sessions]
    assert any(m is not None and "There is no lesson" in m.text for m in messages)


GOOD_LESSON = """\
format: 1
id: first-steps
title: "First steps <1>"
summary: What a neuron does.
objectives: [Say what a neuron computes, Read the loss chart]
level: beginner
minutes: 12
steps:
  - title: Hello
    text: Hello.
"""


def test_index_lists_lessons_with_level_length_objectives_and_a_place_for_progress(tmp_path) -> None:
    (tmp_path / "01-first.yaml").write_text(GOOD_LESSON, encoding="utf-8")
    (tmp_path / "02-broken.yaml").write_text(GOOD_LESSON.replace("first-steps", "broken").replace("steps:\n  -",
                                             "steps: 3\n  -"), encoding="utf-8")  # fmt: skip
    with BackgroundServer(ServeOptions(port=0, lesson_dirs=[tmp_path])) as server:
        _status, body = fetch(base(server) + "/")
    assert 'href="lesson?lesson=first-steps"' in body
    assert "First steps &lt;1&gt;" in body and "What a neuron does." in body
    assert "Beginner · about 12 minutes · 1 steps" in body and "Read the loss chart" in body
    assert 'data-lesson="first-steps" data-steps="1"' in body and "Start again" in body
    # a broken lesson: students read that it is unavailable, and nothing of the server's files
    assert "This lesson is unavailable." in body and "lesson=broken" not in body
    assert str(tmp_path) not in body and "02-broken.yaml:" not in body


def test_the_instructor_view_lists_a_broken_lessons_problems_one_per_line(tmp_path, caplog) -> None:
    (tmp_path / "02-broken.yaml").write_text(GOOD_LESSON.replace("level: beginner", "level: expert")
                                             .replace("minutes: 12", "minutes: lots"), encoding="utf-8")  # fmt: skip
    with caplog.at_level("WARNING", logger="courseware.server.lessons"):
        with BackgroundServer(ServeOptions(port=0, lesson_dirs=[tmp_path], dev=True)) as server:
            _status, body = fetch(base(server) + "/")
            fetch(base(server) + "/")  # listed again: logged once
    problems = re.findall(r"<li>(02-broken\.yaml:\d+: [^<]*)</li>", body)
    assert len(problems) == 2, body  # one line each, the file named relative to the lesson folder
    assert any("level" in p for p in problems) and any("minutes" in p for p in problems)
    assert str(tmp_path) not in body and "Instructor view" in body
    logged = [r.getMessage() for r in caplog.records if "unavailable to students" in r.getMessage()]
    assert len(logged) == 1 and all(p.replace("&#x27;", "'") in logged[0] for p in problems)


def test_index_lists_the_lessons_of_the_served_folder(tmp_path) -> None:
    """Whatever the lessons package finds in the folder is listed (here: the shipped lessons' format)."""
    source = Path(__file__).resolve().parents[2] / "lessons"
    lesson_files = sorted(source.glob("*.yaml"))
    assert lesson_files, "the project ships lessons in lessons/"
    from courseware.lessons import discover

    expected = [e for e in discover([source], get_registry()) if e.error is None]
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[source]))
    with background as server:
        status, body = fetch(base(server) + "/")
    assert status == 200
    for entry in expected:
        assert f"lesson={entry.id}" in body


def test_index_survives_a_broken_lesson_listing(running, monkeypatch) -> None:
    def discover(folders, registry):
        raise ValueError("lesson.yaml line 3: bad")

    monkeypatch.setattr(lesson_list, "discover", discover)
    _, server = running
    status, body = fetch(base(server) + "/")
    assert status == 200 and "could not be listed" in body


def _websocket(server, origin: str, url: str | None = None) -> Exception | None:
    """Open the playground's websocket at ``url`` (the server's base URL) with ``origin``; returns the
    error, or None if accepted."""
    url = (url or base(server)).rstrip("/")
    _status, page = fetch(url + "/playground")
    token = re.search(r'"token":"([^"]+)"', page).group(1)
    request = HTTPRequest(
        url.replace("http://", "ws://") + "/playground/ws",
        headers={"Origin": origin, "Sec-WebSocket-Protocol": f"bokeh, {token}"},
    )

    async def connect():
        try:
            connection = await websocket_connect(request)
        except Exception as exc:
            return exc
        connection.close()
        return None

    return IOLoop(make_current=False).run_sync(connect, timeout=30)


def test_websocket_origins_are_restricted(running) -> None:
    _, server = running
    assert _websocket(server, f"http://127.0.0.1:{server.port}") is None
    assert _websocket(server, f"http://localhost:{server.port}") is None
    refused = _websocket(server, "http://evil.example")
    assert isinstance(refused, HTTPClientError) and refused.code == 403


def test_default_origins_and_public_addresses() -> None:
    assert default_origins("127.0.0.1", 5006) == ["localhost:5006", "127.0.0.1:5006"]
    assert default_origins("10.0.0.5", 80) == ["localhost:80", "127.0.0.1:80", "10.0.0.5:80"]
    assert not is_public("127.0.0.1") and not is_public("localhost") and not is_public("::1")
    assert is_public("0.0.0.0") and is_public("10.0.0.5")


# -- the command ----------------------------------------------------------------------------------------


def test_a_missing_lesson_folder_is_an_error_before_starting(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(tmp_path / "nope"), "--port", "0"])
    assert result.exit_code == 2
    assert "is not a folder" in result.output


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([*COMMAND, *args, "--log-level", "warning"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines = []
    assert process.stdout is not None
    while True:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"serving at (http://\S+/)", line)
        if match:
            return process, "".join(lines) + _more_lines(process, args)
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(lines))


def _more_lines(process: subprocess.Popen, args: tuple[str, ...]) -> str:
    extra = []
    if "--address" in args or "--num-procs" in args:
        extra.append(process.stdout.readline())  # type: ignore[union-attr]
    return "".join(extra)


def _port(output: str) -> int:
    return int(re.search(r"serving at http://[^:]+:(\d+)/", output).group(1))  # type: ignore[union-attr]


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_prints_the_chosen_port_and_stops_on_sigterm() -> None:
    process, output = _start("--port", "0")
    try:
        port = _port(output)
        assert port != 0
        status, _body = fetch(f"http://127.0.0.1:{port}/playground?seed=0.1")
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert code == 0


def test_num_procs_starts_workers_and_leaves_no_orphans() -> None:
    process, output = _start("--port", "0", "--num-procs", "2")
    try:
        port = _port(output)
        assert wait_until(lambda: len(_children(process.pid)) == 2)
        workers = _children(process.pid)
        pids = set()
        for _ in range(40):  # both workers answer on the one port
            _status, body = fetch(f"http://127.0.0.1:{port}/status.json")
            pids.add(json.loads(body)["pid"])
            if pids == set(workers):
                break
        assert pids <= set(workers) and pids
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    assert code == 0
    assert wait_until(lambda: not any(_alive(pid) for pid in workers))


def test_workers_stop_when_the_parent_is_killed() -> None:
    process, _output = _start("--port", "0", "--num-procs", "2")
    assert wait_until(lambda: len(_children(process.pid)) == 2)
    workers = _children(process.pid)
    process.kill()  # no chance to forward anything: the workers must notice on their own
    process.wait(30)
    assert wait_until(lambda: not any(_alive(pid) for pid in workers))


def test_a_public_address_prints_a_warning_and_a_url_that_works() -> None:
    process, output = _start("--port", "0", "--address", "0.0.0.0")
    try:
        assert "warning: serving on 0.0.0.0, a public address" in output
        url = re.search(r"serving at (http://\S+/)", output).group(1)
        assert "0.0.0.0" not in url
        status, body = fetch(url + "playground?seed=0.1")
        assert status == 200 and "bokeh" in body.lower()
        origin = url.rstrip("/")
        assert _websocket(None, origin, url) is None  # the page at the printed URL may open its websocket
        assert isinstance(_websocket(None, "http://evil.example", url), HTTPClientError)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _serve_fails(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=120)


def test_an_address_of_another_machine_is_a_one_line_error() -> None:
    result = _serve_fails("--address", "192.0.2.77", "--port", "0")  # TEST-NET: never this machine's
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: cannot listen on '192.0.2.77': not an address of this machine"
    ]


def test_a_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve_fails("--port", str(port))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}: the port is in use" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_ctrl_c_stops_cleanly() -> None:
    process, _output = _start("--port", "0", "--num-procs", "2")
    assert wait_until(lambda: len(_children(process.pid)) == 2)
    workers = _children(process.pid)
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert wait_until(lambda: not any(_alive(pid) for pid in workers))


def test_a_closed_tab_stops_training_and_its_session_is_released(running) -> None:
    background, server = running

    async def play_then_close() -> None:
        tab = await BokehSocket.open(server, "seed=0.3")
        document = await tab.pull()
        await tab.click(model_id(document, "play"))
        while True:  # frames arrive: the network's values change
            _, content = await tab.receive()
            if any(e.get("cols") and "v" in e["cols"] for e in content.get("events", [])):
                break
        tab.connection.close()

    IOLoop(make_current=False).run_sync(play_then_close, timeout=60)
    session = background.call(lambda: next(s for s in server.state.live.values() if s.playing))
    served = background.call(lambda: session.doc.session_context.session)  # Bokeh's ServerSession
    assert wait_until(lambda: background.call(lambda: served.connection_count) == 0)
    frames = background.call(lambda: session.frames)
    ticks = background.call(lambda: session.ticks)
    assert wait_until(lambda: background.call(lambda: session.ticks) > ticks + 3)  # the loop still runs...
    assert background.call(lambda: session.frames) == frames  # ...but nobody watches: no frames
    assert wait_until(lambda: session.experiment is None)  # destroyed: its state is released
    assert background.call(lambda: server.server.get_sessions("/playground")) == []
    # and its periodic callback is gone: Bokeh removed every callback of the destroyed session
    assert background.call(lambda: served.destroyed and not hasattr(served, "_callbacks"))
