"""The layers hold: what may import what (``docs/architecture.md``).

``courseware.lessons`` (the lesson model, loader and checker) and the panel contract
(``courseware.panel``) import neither Bokeh nor the server, so ``courseware check`` and a plugin's
tests run without them, and the server is free to change. Each check runs in a fresh interpreter
where importing Bokeh or ``courseware.server`` raises.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = """
import importlib.abc, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        for blocked in BLOCKED:
            if name == blocked or name.startswith(blocked + "."):
                raise ImportError(f"{name} may not be imported here")
        return None

sys.meta_path.insert(0, Refuse())
"""


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    program = f"BLOCKED = {blocked!r}\n" + BLOCKER + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)


def test_the_lessons_package_imports_neither_bokeh_nor_the_server() -> None:
    result = run_without(["bokeh", "courseware.server"], """
        import importlib, pkgutil
        import courseware.lessons
        for module in pkgutil.iter_modules(courseware.lessons.__path__):
            importlib.import_module("courseware.lessons." + module.name)
        import courseware.panel, courseware_builtins.steps, courseware_builtins.metrics
        from courseware.lessons import discover, check_lesson, Walk
        from courseware.plugins import get_registry
        print("ok", len(discover(["lessons"], get_registry())))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_the_lesson_commands_run_without_bokeh() -> None:
    """(The CLI names ``serve``, whose module is light: Bokeh loads only when the server starts.)"""
    result = run_without(["bokeh", "tornado"], """
        import sys
        from courseware.cli import main
        sys.argv = ["courseware", "run", "--help"]
        try:
            main()
        except SystemExit as exit:
            assert exit.code == 0, exit.code
        print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("ok")
