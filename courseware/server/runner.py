"""Starting and stopping the Bokeh server, in one process or several.

The server is Bokeh's embedded one, assembled from its parts (``BokehTornado`` + ``HTTPServer`` +
``bokeh.server.server.BaseServer``, which ``bokeh.server.server.Server`` wraps). Binding the socket
ourselves first gives two things ``Server`` cannot: the real port when asked for port 0 *before* the
websocket origins are fixed (so the default origins name it), and workers that we fork ourselves, so
SIGTERM or Ctrl-C to the parent stops every worker (tornado's own ``fork_processes`` would restart a
worker killed by a signal, and a killed parent would leave them orphaned). Workers also ask Linux to
stop them if the parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import inspect
import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bokeh.server.server import BaseServer
from bokeh.server.util import bind_sockets, create_hosts_allowlist
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

from courseware.errors import CoursewareError
from courseware.plugins import PluginHost, get_host
from courseware.server.apps import IndexHandler, ServerState, StatusHandler, make_applications
from courseware.server.defaults import DEFAULT_ADDRESS, DEFAULT_PORT
from courseware.server.session import FRAME_INTERVAL_MS
from courseware.server.web import HTTP_LIMITS, CoursewareTornado

log = logging.getLogger(__name__)


@dataclass
class ServeOptions:
    """Everything ``courseware serve`` can be told (see ``docs/deploy.md``)."""

    lesson_dirs: list[Path] = field(default_factory=list)
    port: int = DEFAULT_PORT
    address: str = DEFAULT_ADDRESS
    allow_websocket_origin: Sequence[str] = ()
    num_procs: int = 1
    show: bool = False
    dev: bool = False  # the instructor's view: broken lessons' problems on the index and their pages
    frame_interval_ms: int = FRAME_INTERVAL_MS
    unused_session_lifetime_ms: int = 5000  # a closed tab's session is released this long after
    check_unused_sessions_ms: int = 1000
    keep_alive_ms: int = 10000


WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")  # every interface


class ListenError(CoursewareError):
    """The server cannot listen where it was told; ``option`` is the command-line option to change."""

    def __init__(self, message: str, option: str) -> None:
        super().__init__(message)
        self.option = option


def shown_host(address: str) -> str:
    """The host name or address the printed URL uses: the machine's name when serving on every
    interface (if the name resolves; else ``localhost``), the address itself otherwise."""
    if address not in WILDCARD_ADDRESSES:
        return address
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        return "localhost"
    return name


def url_host(host: str) -> str:
    """``host`` as it appears in a URL or an Origin header (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def default_origins(address: str, port: int) -> list[str]:
    """The page's own address, as both ``localhost`` and ``127.0.0.1``, and as the printed URL names
    it: the address if other, and when serving on every interface the machine's name and its
    addresses, so that the URL ``serve`` prints opens a working page."""
    origins = [f"localhost:{port}", f"127.0.0.1:{port}"]
    hosts: list[str] = []
    if address in WILDCARD_ADDRESSES:
        hosts.append(shown_host(address))
        try:
            hosts += sorted({str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)})
        except OSError:
            pass
    elif address not in ("127.0.0.1", "localhost"):
        hosts.append(address)
    for host in hosts:
        origin = f"{url_host(host)}:{port}"
        if origin not in origins:
            origins.append(origin)
    return origins


def origin_allowlist(origins: Sequence[str], port: int) -> list[str]:
    """Bokeh's allowlist of ``origins`` (Bokeh cannot parse IPv6 literals: they are kept as written)."""
    literal = [o for o in origins if o.startswith("[")]
    return create_hosts_allowlist([o for o in origins if not o.startswith("[")], port) + literal


def is_public(address: str) -> bool:
    """True unless ``address`` is a loopback address or ``localhost``."""
    if address in ("localhost",):
        return False
    try:
        return not ipaddress.ip_address(address or "0.0.0.0").is_loopback
    except ValueError:
        try:
            return not ipaddress.ip_address(socket.gethostbyname(address)).is_loopback
        except OSError:
            return True


def display_url(address: str, port: int) -> str:
    return f"http://{url_host(shown_host(address))}:{port}/"


def listen(address: str, port: int) -> tuple[list[socket.socket], int]:
    """Bind the server's sockets; the real port (for port 0). Raises :class:`ListenError` with a
    message for the person who typed the command."""
    where = f"{url_host(address or '0.0.0.0')}:{port}"
    try:
        return bind_sockets(address, port)
    except socket.gaierror:
        raise ListenError(f"cannot listen on {address!r}: not a name or address of this machine "
                          "(try 127.0.0.1, or 0.0.0.0 for every interface)", "--address") from None  # fmt: skip
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"cannot listen on {where}: the port is in use (is a server already running there?); "
                "choose another with --port, or --port 0 for a free one",
                "--port",
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(f"cannot listen on {address!r}: not an address of this machine", "--address") from None
        if exc.errno == errno.EACCES:
            raise ListenError(f"cannot listen on {where}: permission denied (ports below 1024 need "
                              "administrator rights; try --port 5006)", "--port") from None  # fmt: skip
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}", "--address") from None


class CoursewareServer:
    """One process's Bokeh server on already-bound sockets, on the calling thread's IOLoop."""

    def __init__(self, options: ServeOptions, sockets: list[socket.socket], port: int, host: PluginHost) -> None:
        self.options = options
        self.port = port
        self.state = ServerState(
            host=host, lesson_dirs=list(options.lesson_dirs), frame_interval_ms=options.frame_interval_ms,
            dev=options.dev,
        )
        origins = list(options.allow_websocket_origin) or default_origins(options.address, port)
        self.origins = origin_allowlist(origins, port)
        self.url = display_url(options.address, port)
        self.tornado = CoursewareTornado(
            make_applications(self.state),
            extra_websocket_origins=self.origins,
            absolute_url=self.url.rstrip("/"),
            use_index=False,
            redirect_root=False,
            extra_patterns=[
                (r"/", IndexHandler, {"state": self.state}),
                (r"/status.json", StatusHandler, {"state": self.state}),
            ],
            check_unused_sessions_milliseconds=options.check_unused_sessions_ms,
            unused_session_lifetime_milliseconds=options.unused_session_lifetime_ms,
            keep_alive_milliseconds=options.keep_alive_ms,
        )
        self.http = HTTPServer(self.tornado, xheaders=False, **HTTP_LIMITS)
        self.http.add_sockets(sockets)
        self.server = BaseServer(IOLoop.current(), self.tornado, self.http)
        self._stopped = False

    @property
    def io_loop(self) -> IOLoop:
        return self.server.io_loop

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        """Stop serving and release every session's training state."""
        if self._stopped:
            return
        self._stopped = True
        for session in list(self.state.live.values()):
            session.destroy()
        self.state.live.clear()
        self.server.stop(wait=False)
        self.io_loop.add_callback(self.http.close_all_connections)


def serve(options: ServeOptions, host: PluginHost | None = None, out=None) -> int:
    """Run until Ctrl-C or SIGTERM; returns the exit code. Prints the URL (the real port for port 0)."""
    out = out or sys.stdout
    host = host or get_host()
    sockets, port = listen(options.address, options.port)
    url = display_url(options.address, port)
    origins = list(options.allow_websocket_origin) or default_origins(options.address, port)
    print(f"courseware: serving at {url}  (playground: {url}playground)", file=out, flush=True)
    if is_public(options.address):
        print(
            f"warning: serving on {options.address or 'all interfaces'}, a public address: anyone who can "
            f"reach this machine can use the server. Websocket origins allowed: {', '.join(origins)}",
            file=out,
            flush=True,
        )
    for failure in host.failures:
        print(f"warning: {failure}", file=out, flush=True)
    if options.num_procs <= 1:
        return _run_worker(options, sockets, port, host, show=options.show)
    print(f"courseware: {options.num_procs} worker processes (Ctrl-C to stop)", file=out, flush=True)
    return _supervise(options, sockets, port, host)


def _run_worker(options: ServeOptions, sockets: list[socket.socket], port: int, host: PluginHost, show: bool) -> int:
    from courseware.engine import warm_up  # the exact engine's compiled code, loaded before a page needs it

    threading.Thread(target=warm_up, args=(host.registry,), name="warm-up", daemon=True).start()
    asyncio.set_event_loop(asyncio.new_event_loop())
    server = CoursewareServer(options, sockets, port, host)
    server.start()
    loop = asyncio.get_event_loop()

    def shutdown() -> None:
        log.info("stopping (pid %d)", os.getpid())
        try:
            server.stop()
        except Exception:  # stopping must never leave the process running
            log.exception("error while stopping")
        finally:
            server.io_loop.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shutdown)
    if show:
        server.io_loop.add_callback(server.server.show, "/")
    try:
        server.io_loop.start()
    finally:
        try:
            server.stop()
        finally:
            for sock in sockets:
                sock.close()
    return 0


def _supervise(options: ServeOptions, sockets: list[socket.socket], port: int, host: PluginHost) -> int:
    """Fork the workers, forward Ctrl-C/SIGTERM to them, and wait until every one has exited."""
    children: dict[int, int] = {}
    stopping = threading.Event()
    for index in range(options.num_procs):
        pid = os.fork()
        if pid == 0:  # worker
            code = 1
            try:
                _die_with_parent()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = _run_worker(options, sockets, port, host, show=options.show and index == 0)
            except BaseException:
                log.exception("worker %d failed", index)
            finally:
                os._exit(code)
        children[pid] = index
    for sock in sockets:
        sock.close()

    def forward(signum: int, _frame: object) -> None:
        stopping.set()
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        exit_code = os.waitstatus_to_exitcode(status)
        if exit_code != 0 and not stopping.is_set():
            print(f"courseware: worker {index} (pid {pid}) exited with {exit_code}; stopping", file=sys.stderr)
            code = 1
            forward(signal.SIGTERM, None)
    return code


def _die_with_parent() -> None:
    """Linux: deliver SIGTERM to this worker if the parent process dies (no orphaned workers)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class BackgroundServer:
    """A server on its own thread and IOLoop, for tests and benchmarks: ``with BackgroundServer() as s``."""

    def __init__(self, options: ServeOptions | None = None, host: PluginHost | None = None) -> None:
        self.options = options or ServeOptions(port=0)
        self.host = host or get_host()
        self.server: CoursewareServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="courseware-server", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.set_event_loop(asyncio.new_event_loop())
            sockets, port = listen(self.options.address, self.options.port)
            self.server = CoursewareServer(self.options, sockets, port, self.host)
            self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self.server.io_loop.start()

    def __enter__(self) -> CoursewareServer:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        assert self.server is not None
        return self.server

    def call(self, fn, timeout: float = 10.0):
        """Run ``fn()`` on the server's IOLoop thread and return its result (awaited, if awaitable)."""
        assert self.server is not None
        done = threading.Event()
        box: dict[str, object] = {}

        async def run() -> None:
            try:
                value = fn()
                box["value"] = (await value) if inspect.isawaitable(value) else value
            except BaseException as exc:  # pragma: no cover - re-raised below
                box["error"] = exc
            done.set()

        self.server.io_loop.add_callback(run)
        if not done.wait(timeout):
            raise TimeoutError("the server's IOLoop did not run the call")
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box.get("value")

    def call_locked(self, doc: Any, fn, timeout: float = 10.0):
        """Run ``fn()`` with ``doc``'s session locked, as Bokeh runs a session's callbacks (a change to
        a served document outside its lock is an error)."""
        return self.call(lambda: doc.session_context.with_locked_document(lambda _doc: fn()), timeout)

    def __exit__(self, *exc: object) -> None:
        if self.server is None:
            return
        server = self.server

        def stop() -> None:
            server.stop()
            server.io_loop.stop()

        server.io_loop.add_callback(stop)
        self._thread.join(10)
