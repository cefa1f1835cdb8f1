"""Throwaway distributions for entry-point tests: a ``*.dist-info`` folder and modules in a directory.

``importlib.metadata`` finds a distribution through any ``*.dist-info`` folder on ``sys.path``, so
putting the directory on the path (``monkeypatch.syspath_prepend``, or ``PYTHONPATH`` for a
subprocess) installs it for the test alone: nothing is pip-installed into the developer's environment.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path


def make_distribution(root: Path, name: str, plugins: Mapping[str, str], version: str = "1.0") -> Path:
    """Write distribution ``name`` into ``root``: for each plugin name, a module of that source,
    registered as a ``courseware`` entry point of the same name. Returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[courseware]"]
    for plugin, source in plugins.items():
        module = f"{name.replace('-', '_')}_{plugin.replace('-', '_')}"
        (root / f"{module}.py").write_text(textwrap.dedent(source))
        lines.append(f"{plugin} = {module}")
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return root


def environment(*paths: Path, **variables: str) -> dict[str, str]:
    """The test process's environment with ``paths`` on ``PYTHONPATH`` and entry points enabled
    (the suite's conftest turns them off for itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSEWARE_LOAD_PLUGINS", "COURSEWARE_TRACE_PLUGINS")}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in paths), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(variables)
    return env


def courseware(*args: str, env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "courseware", *args], capture_output=True, text=True,
                          env=dict(env), timeout=timeout, check=False)  # fmt: skip


class Running:
    """A ``courseware`` subprocess whose stdout and stderr lines are read as they come."""

    def __init__(self, *args: str, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "courseware", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=dict(env))  # fmt: skip
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        self.readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("out", self.process.stdout), ("err", self.process.stderr))
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            self.lines.put((name, line.rstrip("\n")))

    def wait_for(self, predicate: Callable[[str, str], bool], timeout: float = 60) -> str:
        """The first line (``stream``, ``text``) that satisfies ``predicate``; fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no such line within {timeout} s; saw {self.seen}")
            try:
                stream, text = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append((stream, text))
            if predicate(stream, text):
                return text

    def stop(self, signal_number: int | None = None, timeout: float = 30) -> int:
        if self.process.poll() is None:
            if signal_number is None:
                self.process.terminate()
            else:
                self.process.send_signal(signal_number)
        return self.process.wait(timeout)

    def rest(self) -> list[tuple[str, str]]:
        """Every line of both streams, once the process has ended (call :meth:`stop` first)."""
        for reader in self.readers:
            reader.join(10)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        return self.seen
