"""Real-browser fixtures: the server on a background thread and Debian's Chromium driven by Playwright.

A missing Chromium is a test failure that says how to install it, never a skip. Every page collects its
console errors and uncaught exceptions; a test that leaves any fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Browser:
    context: Any
    server: CoursewareServer
    background: BackgroundServer
    errors: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def open(self, path: str) -> Any:
        """A new tab on ``path``, returned once Bokeh reports the document idle (fully rendered)."""
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
            page.goto(self.base + path)
        return page

    def session(self) -> Any:
        """The server-side session of the most recently opened page."""
        return self.background.call(lambda: list(self.server.state.live.values())[-1])


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    background = BackgroundServer(ServeOptions(port=0))
    with background as server:
        yield background, server


@pytest.fixture(scope="module")
def _context() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is needed at {CHROMIUM} for the browser tests: install Debian's package with "
            "`apt-get install chromium` (the tests drive it with playwright-python; no browser download)."
        )
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="courseware-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )  # fmt: skip
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(_server, _context) -> Iterator[Browser]:
    background, server = _server
    b = Browser(_context, server, background)
    yield b
    for page in list(_context.pages):
        page.close()
    assert b.errors == [], "the page logged errors:\n" + "\n".join(b.errors)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser and must say so (``-m "not browser"`` skips them all)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and item.get_closest_marker("browser") is None:
            raise pytest.UsageError(f"{item.nodeid}: a browser test without the browser marker")
