"""Beyond one process: nginx, configured exactly as ``docs/deploy.md`` says, in front of two servers.

The nginx configuration and the two ``courseware serve`` command lines are read from the page (between
its ``<!-- nginx-config -->`` and ``<!-- backend-commands -->`` markers), so the documentation cannot
drift from what is tested. Only the ports change, to free ones on 127.0.0.1 (and the students'
address, which the servers allow as a websocket origin, becomes nginx's); each replaced text must
appear exactly once in the page. nginx (Debian's package) runs in the foreground from a temporary
prefix, with the page's configuration included verbatim in a minimal ``nginx.conf``.

Browsers are played by clients that keep cookies as a browser does. Each opens the playground
through nginx (and loads some of its scripts), upgrades to the websocket through nginx (offering
compression, as browsers do), presses play, receives frames, and reconnects; the servers' own
``/status.json`` (asked directly) then shows that every browser's session was created once, on the
process that served its page, and plays there, and that the browsers spread over both processes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from server_pages import model_attribute, model_id
from waiting import wait_until
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

pytestmark = pytest.mark.nginx  # runs nginx: deselect with -m "not nginx"

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DOC_HOST = "playground.example.edu"  # the students' address in the page
DOC_LISTEN = "listen 80;"
DOC_BACKENDS = ("127.0.0.1:5006", "127.0.0.1:5007")
COURSEWARE = [sys.executable, "-c", "from courseware.cli import main; main()"]
WRAPPER = """worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/courseware.conf;
}}
"""


def marked_block(text: str, marker: str) -> str:
    """The fenced block between ``<!-- marker -->`` and ``<!-- /marker -->``."""
    match = re.search(rf"<!-- {marker} -->\s*```[\w-]*\n(.*?)```\s*<!-- /{marker} -->", text, re.DOTALL)
    assert match, f"docs/deploy.md has no block marked <!-- {marker} -->"
    return match.group(1)


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the documented text {old!r} must appear exactly once (found {text.count(old)})"
    return text.replace(old, new)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def status(port: int) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /status.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return json.loads(data.partition(b"\r\n\r\n")[2])


@dataclass
class Deployment:
    port: int  # nginx
    backends: list[int]
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    if not Path(NGINX).exists():
        pytest.fail("nginx is needed for this test: install Debian's package with `apt-get install nginx` "
                    "(the README's test command does)")  # fmt: skip
    page = DEPLOY.read_text()
    deployment = Deployment(free_port(), [free_port(), free_port()])
    prefix = Path(tempfile.mkdtemp(prefix="courseware-nginx-"))
    os.chmod(prefix, 0o755)  # nginx's workers may run as another user; they need their temp folders
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir()
        os.chmod(prefix / name, 0o777)
    try:
        # the two servers, as the page starts them
        commands = [line for line in marked_block(page, "backend-commands").splitlines() if line.strip()]
        assert len(commands) == 2, commands
        for line, documented, port in zip(commands, DOC_BACKENDS, deployment.backends):
            line = replace_once(line, f"--port {documented.rsplit(':', 1)[1]}", f"--port {port}")
            line = replace_once(line, DOC_HOST, deployment.origin)
            words = shlex.split(line)
            assert words[0] == "courseware" and words[-1] == "&", line
            process = subprocess.Popen([*COURSEWARE, *words[1:-1], "--log-level", "warning"], cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            deployment.processes.append(process)
        # nginx, with the page's configuration verbatim but for the ports
        config = marked_block(page, "nginx-config")
        config = replace_once(config, DOC_LISTEN, f"listen 127.0.0.1:{deployment.port};")
        for documented, port in zip(DOC_BACKENDS, deployment.backends):
            config = replace_once(config, f"server {documented};", f"server 127.0.0.1:{port};")
        (prefix / "courseware.conf").write_text(config)
        (prefix / "nginx.conf").write_text(WRAPPER.format(prefix=prefix))
        nginx = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
        checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, f"nginx refuses the documented configuration:\n{checked.stderr}"
        deployment.processes.append(subprocess.Popen(nginx, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port, process in zip([*deployment.backends, deployment.port], deployment.processes):
            wait_for_port(port, process)
        yield deployment
    finally:
        for process in deployment.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in deployment.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(prefix, ignore_errors=True)


@dataclass
class Visit:
    """What one browser saw through nginx."""

    set_cookie_first: str
    set_cookie_later: str | None
    extensions: str
    frames: int
    epoch_after_reconnect: str


class Tab:
    """A websocket to the playground through nginx, speaking just enough of Bokeh's protocol."""

    def __init__(self, ws) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, deployment: Deployment, token: str, cookie: str) -> Tab:
        request = HTTPRequest(
            f"ws://127.0.0.1:{deployment.port}/playground/ws",
            headers={"Origin": f"http://127.0.0.1:{deployment.port}", "Sec-WebSocket-Protocol": f"bokeh, {token}",
                     "Cookie": cookie},
        )  # fmt: skip
        return cls(await websocket_connect(request, compression_options={}))

    async def receive(self) -> tuple[dict, dict]:
        header = json.loads(await self.ws.read_message())
        await self.ws.read_message()
        content = json.loads(await self.ws.read_message())
        for _ in range(2 * header.get("num_buffers", 0)):
            await self.ws.read_message()
        return header, content

    async def send(self, msgtype: str, content: dict) -> None:
        for part in ({"msgid": str(time.monotonic_ns()), "msgtype": msgtype}, {}, content):
            await self.ws.write_message(json.dumps(part))

    async def pull(self) -> dict:
        while (await self.receive())[0]["msgtype"] != "ACK":
            pass
        await self.send("PULL-DOC-REQ", {})
        while True:
            header, document = await self.receive()
            if header["msgtype"] == "PULL-DOC-REPLY":
                return document


async def browse(deployment: Deployment, seed: str, loads: int) -> Visit:
    """One browser: the playground page and ``loads`` of its scripts, its websocket, play, frames; then
    the tab reconnects, as BokehJS does after a network hiccup. Cookies are kept as a browser does.

    (The varying number of requests before the websocket, and the reconnection, make a proxy that does
    not keep a browser on one process fail here whatever order it hands requests out in.)
    """
    base = f"http://127.0.0.1:{deployment.port}"
    client = AsyncHTTPClient()
    page = await client.fetch(f"{base}/playground?seed={seed}")
    set_cookie = page.headers.get("Set-Cookie", "")
    cookie = "; ".join(f"{k}={v.value}" for k, v in SimpleCookie(set_cookie).items())
    html = page.body.decode()
    token = re.search(r'"token":"([^"]+)"', html).group(1)
    for script in re.findall(r'<script type="text/javascript" src="([^"]+)"', html)[:loads]:
        await client.fetch(base + script, headers={"Cookie": cookie})
    tab = await Tab.open(deployment, token, cookie)
    extensions = tab.ws.headers.get("Sec-WebSocket-Extensions", "")
    document = await tab.pull()
    values = model_id(document, "network-values")
    click = {"type": "event", "name": "button_click",
             "values": {"type": "map", "entries": [["model", {"id": model_id(document, "play")}]]}}  # fmt: skip
    await tab.send("PATCH-DOC", {"events": [{"kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": click}]})
    frames = 0
    while frames < 5:
        header, content = await tab.receive()
        if header["msgtype"] == "PATCH-DOC" and any(e.get("model", {}).get("id") == values for e in content["events"]):
            frames += 1
    tab.ws.close()
    again = await Tab.open(deployment, token, cookie)  # the same session, if it reaches the same process
    epoch = str(model_attribute(await again.pull(), "epoch", "text"))
    later = await client.fetch(f"{base}/", headers={"Cookie": cookie})
    return Visit(set_cookie, later.headers.get("Set-Cookie"), extensions, frames, epoch)


def test_sessions_through_nginx_stay_on_their_process_and_spread(deployment: Deployment) -> None:
    visits: list[Visit] = []
    browsers = 0
    # Browsers keep arriving until both processes have some (each browser's key is random: two or
    # three browsers are usually enough; 40 that all land on one process would be a broken hash).
    while browsers < 40:
        browsers += 1
        seed, loads = f"0.{browsers:05d}", browsers % 3
        visits.append(IOLoop(make_current=False).run_sync(lambda: browse(deployment, seed, loads), timeout=60))
        if browsers >= 4 and all(status(port)["created"] > 0 for port in deployment.backends):
            break
    for visit in visits:
        assert "cw_affinity=" in visit.set_cookie_first  # nginx gave the browser its key
        assert visit.set_cookie_later is None  # and sets it only once
        assert "permessage-deflate" in visit.extensions  # compression negotiated through nginx
        assert visit.frames == 5
        assert "000,000" not in visit.epoch_after_reconnect  # the reconnected tab found its trained session
    backends = [status(port) for port in deployment.backends]
    assert len({b["pid"] for b in backends}) == 2
    # One session per browser: its page, its websocket and its reconnection reached the same process (a
    # websocket on the other process would have created a second session there).
    assert sum(b["created"] for b in backends) == browsers
    assert all(b["created"] > 0 for b in backends), backends  # the browsers spread over both processes
    # and every session is still connected, playing, on its process
    assert wait_until(lambda: sum(status(p)["playing"] for p in deployment.backends) == browsers, timeout=30)


def test_nginx_passes_plain_pages_through(deployment: Deployment) -> None:
    with socket.create_connection(("127.0.0.1", deployment.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: playground.example.edu\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Set-Cookie: cw_affinity=" in head
    assert b"playground" in body
