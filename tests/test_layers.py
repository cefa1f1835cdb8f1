"""The layers hold: what may import what (``docs/architecture.md``).

``courseware.lessons`` (the lesson model, loader and checker) and the panel contract
(``courseware.panel``) import neither Bokeh nor the server, so ``courseware check`` and a plugin's
tests run without them, and the server is free to change. Each check runs in a fresh interpreter
where importing Bokeh or ``courseware.server`` raises.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

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


# -- the import graph ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"courseware": ROOT / "courseware", "courseware_builtins": ROOT / "plugins"}

# The layers, lowest first (docs/architecture.md, "What may import what"): a module may import its own
# layer and those below. The contract kit sits with what it checks: its core part in the core, its
# lessons part with the lessons, its panels part with the server; ``courseware.testing`` gathers them.
LAYERS = (
    ("the core", ("courseware", "courseware.testing.components")),
    ("the panel contract", ("courseware.panel", "courseware.shades")),
    ("the lessons", ("courseware.lessons", "courseware.testing.lessons")),
    ("the built-in plugins", ("courseware_builtins",)),
    ("the server", ("courseware.server", "courseware.testing.panels")),
    ("the command line and the kit", ("courseware.cli", "courseware.__main__", "courseware.testing")),
)
UPWARD_ALLOWED = 1  # at most this many imports from a lower layer up to a higher one


def module_files() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of ours: line}, every import statement counted: at the top, inside a
    function (imported when it runs) and under ``if TYPE_CHECKING:`` (a circle for the type checker)."""
    modules = module_files()

    def ours(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = ours(name)
                if target is not None and target != module:
                    edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def layer_of(module: str) -> int:
    best, level = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    return level


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_circle() -> None:
    graph = import_graph()
    assert len(graph) > 80, "the graph should cover every module of courseware/ and plugins/"
    circles = cycles(graph)
    described = [
        " <-> ".join(component) + ": " + "; ".join(
            f"{a}:{line} imports {b}" for a in component for b, line in graph[a].items() if b in component
        )
        for component in circles
    ]  # fmt: skip
    assert not circles, "modules that import each other (function-local imports count):\n" + "\n".join(described)


def test_imports_run_down_the_layers() -> None:
    graph = import_graph()
    unplaced = sorted(m for m in graph if layer_of(m) < 0)
    assert not unplaced, f"modules in no layer: {unplaced}"
    upward = [
        f"{module}:{line} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, edges in sorted(graph.items())
        for target, line in edges.items()
        if layer_of(target) > layer_of(module)
    ]
    assert len(upward) <= UPWARD_ALLOWED, "imports from a lower layer up to a higher one:\n" + "\n".join(upward)


def test_the_graph_sees_function_local_and_type_checking_imports() -> None:
    """The graph is only as good as what it reads: both kinds of hidden import are edges."""
    graph = import_graph()
    assert "courseware.kernel" in graph["courseware.engine"]  # imported inside Engine.__init__
    assert "courseware.testing.panels" in graph["courseware.testing"]  # inside _checks()
    assert "courseware.rng" in graph["courseware.components"]  # under if TYPE_CHECKING:
