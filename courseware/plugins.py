"""The plugin host: one pluggy manager, the built-ins, third-party plugins and the component registry.

Built-ins are ordinary plugin modules (``courseware_builtins.*``) registered one by one, exactly as an
installed plugin would be, so they can be blocked or overridden. Third-party plugins come from the
``courseware`` entry-point group; ``COURSEWARE_LOAD_PLUGINS=a,b`` restricts which load (empty: none).
``COURSEWARE_BLOCK_PLUGINS=a,b`` blocks plugins by name, built-ins included. A lesson folder may carry
its own plugin modules in ``<folder>/plugins/*.py`` (like pytest's conftest), loaded with the folder.

A plugin that fails (an import error, a misspelt hook, a registration hook that raises or registers
something invalid) is reported by name and skipped; the others still load.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from courseware import hookspecs
from courseware.components import (
    COMPONENT_KINDS,
    Activation,
    Dataset,
    Feature,
    LessonSource,
    Metric,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
)
from courseware.errors import PluginConflictError, UnknownNameError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "courseware"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "courseware_builtins.problems",
    "courseware_builtins.datasets",
    "courseware_builtins.features",
    "courseware_builtins.activations",
    "courseware_builtins.regularizers",
    "courseware_builtins.visualizers",
    "courseware_builtins.metrics",
    "courseware_builtins.steps",
)

# Registration hook name -> the component class it must register.
REGISTRATION_HOOKS: dict[str, type] = {
    "register_problems": Problem,
    "register_datasets": Dataset,
    "register_features": Feature,
    "register_activations": Activation,
    "register_regularizers": Regularizer,
    "register_visualizers": Visualizer,
    "register_metrics": Metric,
    "register_step_kinds": StepKind,
    "register_lessons": LessonSource,
}

_URL_UNSAFE = set("&=,#?% \t\n/")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not load or whose hook raised: reported, then skipped."""

    plugin: str
    hook: str
    error: str
    details: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.error}"


@dataclass(frozen=True)
class Registration:
    component: Any
    plugin: str


@dataclass
class PluginInfo:
    """What ``courseware plugins`` reports for one plugin."""

    name: str
    version: str
    source: str
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)


class Registry:
    """Every registered component by kind and name, remembering which plugin registered it.

    Lookups of unknown names raise :class:`UnknownNameError` listing the known names.
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registration]] = {k: {} for k in COMPONENT_KINDS.values()}
        self._codes: dict[Any, tuple[str, str, str]] | None = None

    def add(self, component: Any, plugin: str, replace: bool = False) -> None:
        kind = COMPONENT_KINDS[type(component)]
        table = self._items[kind]
        existing = table.get(component.name)
        if existing is not None and not replace:
            raise PluginConflictError(
                f"{kind[:-1].replace('_', ' ')} name {component.name!r} is registered by two plugins: "
                f"{existing.plugin!r} and {plugin!r}; block one (COURSEWARE_BLOCK_PLUGINS) or have the "
                "newer one pass replace=True"
            )
        table[component.name] = Registration(component, plugin)
        self._codes = None

    def _get(self, kind: str, name: str, label: str) -> Any:
        try:
            return self._items[kind][name].component
        except (KeyError, TypeError):
            raise UnknownNameError(label, name, self._items[kind]) from None

    def all(self, kind: str) -> list[Any]:
        """The components of one kind, in registration order."""
        return [r.component for r in self._items[kind].values()]

    def names(self, kind: str) -> list[str]:
        return list(self._items[kind])

    def plugin_of(self, kind: str, name: str) -> str:
        return self._items[kind][name].plugin

    def registrations(self) -> Iterator[tuple[str, Registration]]:
        for kind, table in self._items.items():
            for reg in table.values():
                yield kind, reg

    def problem(self, name: str) -> Problem:
        return self._get("problems", name, "problem")

    def dataset(self, name: str) -> Dataset:
        return self._get("datasets", name, "dataset")

    def feature(self, name: str) -> Feature:
        return self._get("features", name, "feature")

    def activation(self, name: str) -> Activation:
        return self._get("activations", name, "activation")

    def regularizer(self, name: str) -> Regularizer:
        return self._get("regularizers", name, "regularizer")

    def visualizer(self, name: str) -> Visualizer:
        return self._get("visualizers", name, "visualizer")

    def metric(self, name: str) -> Metric:
        return self._get("metrics", name, "metric")

    def step_kind(self, name: str) -> StepKind:
        return self._get("step_kinds", name, "step kind")

    def owner_of(self, error: BaseException) -> tuple[str, str, str] | None:
        """(kind, name, plugin) of the registered component whose code raised ``error``, if any.

        Walks the traceback from the innermost frame outwards and matches each frame's code object
        against the functions components were registered with.
        """
        codes = self._component_codes()
        tb = error.__traceback__
        frames = []
        while tb is not None:
            frames.append(tb.tb_frame.f_code)
            tb = tb.tb_next
        for code in reversed(frames):
            if code in codes:
                return codes[code]
        return None

    def _component_codes(self) -> dict[Any, tuple[str, str, str]]:
        if self._codes is not None:
            return self._codes
        codes: dict[Any, tuple[str, str, str]] = {}
        for kind, reg in self.registrations():
            if kind == "visualizers":  # a failing panel is reported by the page that runs it
                continue
            for value in vars(reg.component).values():
                code = getattr(value, "__code__", None)
                if code is not None:
                    codes.setdefault(code, (kind[:-1].replace("_", " "), reg.component.name, reg.plugin))
        self._codes = codes
        return codes

    def datasets_for(self, problem: str) -> list[Dataset]:
        return [d for d in self.all("datasets") if d.problem == problem]

    def default_problem(self) -> Problem:
        problems = self.all("problems")
        if not problems:
            raise UnknownNameError("problem", "(default)", [])
        return next((p for p in problems if p.default), problems[0])

    def default_activation(self) -> Activation:
        acts = self.all("activations")
        if not acts:
            raise UnknownNameError("activation", "(default)", [])
        return next((a for a in acts if a.default), acts[0])


class PluginHost:
    """A pluggy manager with the built-ins, entry-point plugins and optional lesson-folder plugins.

    Build one with :meth:`load`; the process-wide default comes from :func:`get_host`.
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("courseware")
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.sources: dict[str, tuple[str, str]] = {}  # plugin name -> (version, where from)
        self.registry = Registry()

    @classmethod
    def load(
        cls,
        lesson_dirs: Iterable[str | os.PathLike[str]] = (),
        *,
        entry_points: bool = True,
        extra: Iterable[tuple[object, str]] = (),
        blocked: Iterable[str] | None = None,
    ) -> PluginHost:
        """Register built-ins, installed plugins, lesson-folder plugins and ``extra`` (object, name)."""
        host = cls()
        block = set(blocked) if blocked is not None else _env_list("COURSEWARE_BLOCK_PLUGINS") or set()
        for name in block:
            host.pm.set_blocked(name)
        version = _own_version()
        for module_name in DEFAULT_PLUGINS:
            host._register_module(module_name, version, "built-in")
        if entry_points:
            host._load_entry_points()
        for folder in lesson_dirs:
            host.load_folder(folder)
        for plugin, name in extra:
            host._register(plugin, name, ("", "test"))
        host._check_pending()
        host._build_registry()
        return host

    # -- loading ------------------------------------------------------------------------------------

    def _register(self, plugin: object, name: str, source: tuple[str, str]) -> None:
        if self.pm.is_blocked(name):
            return
        try:
            self.pm.register(plugin, name=name)
            self.sources[name] = source
        except Exception as exc:  # pluggy validation errors, duplicate registration
            self._fail(name, "register", exc)

    def _register_module(self, module_name: str, version: str, where: str) -> None:
        if self.pm.is_blocked(module_name):
            return
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            self._fail(module_name, "import", exc)
            return
        self._register(module, module_name, (version, where))

    def _load_entry_points(self) -> None:
        allowed = _env_list("COURSEWARE_LOAD_PLUGINS")
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            if self.pm.is_blocked(ep.name) or self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, "import", exc)
                continue
            dist = ep.dist
            version = dist.version if dist is not None else ""
            where = f"{dist.metadata['Name']} (entry point)" if dist is not None else "entry point"
            self._register(plugin, ep.name, (version, where))

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        """Load ``<folder>/plugins/*.py`` as plugins named ``<folder name>/<module>``."""
        plugin_dir = Path(folder) / "plugins"
        if not plugin_dir.is_dir():
            return
        for path in sorted(plugin_dir.glob("*.py")):
            name = f"{Path(folder).resolve().name}/{path.stem}"
            module_name = f"courseware_folder_plugins.{_safe_ident(name)}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception as exc:
                sys.modules.pop(module_name, None)
                self._fail(name, "import", exc)
                continue
            self._register(module, name, ("", str(path)))

    def _check_pending(self) -> None:
        """A hook implementation with no matching spec (a misspelt hook) disables its plugin."""
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                self._fail(name, "check_pending", exc)
                self.pm.unregister(exc.plugin)

    def _fail(self, plugin: str, hook: str, exc: BaseException) -> None:
        failure = PluginFailure(
            plugin=plugin,
            hook=hook,
            error=f"{type(exc).__name__}: {exc}",
            details="".join(traceback.format_exception(exc)),
        )
        self.failures.append(failure)
        log.error("%s", failure)

    # -- registry -----------------------------------------------------------------------------------

    def _build_registry(self) -> None:
        """Call each registration hook plugin by plugin, so each registration knows its plugin.

        Implementations run in registration order (built-ins first), so built-in features keep the
        Playground's input order. A hook that raises or registers something invalid loses all it
        registered in that call, and is reported; a name clash between two plugins is an error.
        """
        for hook_name, expected in REGISTRATION_HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                staged: list[tuple[Any, bool]] = []

                def register(component: Any, replace: bool = False, _staged=staged,
                             _expected=expected, _hook=hook_name) -> None:  # fmt: skip
                    _validate_component(component, _expected, _hook)
                    _staged.append((component, replace))

                try:
                    impl.function(register)
                except Exception as exc:
                    self._fail(impl.plugin_name, hook_name, exc)
                    continue
                for component, replace in staged:
                    self.registry.add(component, impl.plugin_name, replace=replace)

    def call_command_hooks(self, cli: Any) -> None:
        """Let plugins add click commands; one that raises is reported and skipped."""
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli)
            except Exception as exc:
                self._fail(impl.plugin_name, "register_commands", exc)

    def plugin_infos(self) -> list[PluginInfo]:
        infos: dict[str, PluginInfo] = {}
        for name, plugin in self.pm.list_name_plugin():
            version, source = self.sources.get(name, ("", ""))
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            infos[name] = PluginInfo(name=name, version=version, source=source, hooks=hooks)
        for kind, reg in self.registry.registrations():
            info = infos.get(reg.plugin)
            if info is not None:
                info.components.setdefault(kind, []).append(reg.component.name)
        return list(infos.values())


def _validate_component(component: Any, expected: type, hook_name: str) -> None:
    if not isinstance(component, expected):
        raise TypeError(
            f"{hook_name} must register {expected.__name__} objects, got {type(component).__name__}"
        )
    name = component.name
    if not isinstance(name, str) or not name or _URL_UNSAFE & set(name):
        raise ValueError(
            f"{expected.__name__} name {name!r} must be a non-empty string without spaces or any of "
            "& = , # ? % /"
        )


def _env_list(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _safe_ident(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _own_version() -> str:
    from courseware import __version__

    return __version__


_default_host: PluginHost | None = None
_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded once on first use (built-ins plus installed plugins)."""
    global _default_host
    with _lock:
        if _default_host is None:
            _default_host = PluginHost.load()
        return _default_host


def set_host(host: PluginHost | None) -> None:
    """Install ``host`` as the process-wide default (``courseware serve DIR`` adds folder plugins)."""
    global _default_host
    with _lock:
        _default_host = host


def get_registry() -> Registry:
    return get_host().registry
