"""The plugin host: one pluggy manager, the built-ins, third-party plugins and the component registry.

Built-ins are ordinary plugin modules (``courseware_builtins.*``) registered one by one, exactly as an
installed plugin would be, so they can be blocked or overridden. Third-party plugins come from the
``courseware`` entry-point group; ``COURSEWARE_LOAD_PLUGINS=a,b`` restricts which load (empty: none).
``COURSEWARE_BLOCK_PLUGINS=a,b`` blocks plugins by name, built-ins included. A lesson folder may carry
its own plugin modules in ``<folder>/plugins/*.py`` (like pytest's conftest), loaded with the folder.

Loading plugins is never fatal. Whatever a plugin does wrong while it loads is recorded as a
:class:`PluginFailure` naming the plugin and the hook, and the plugin is skipped whole (none of its
components are registered): an import that raises anything, ``SystemExit`` and ``KeyboardInterrupt``
included; a misspelt hook; a hook wrapper; a registration hook that raises or registers something
invalid; a name another plugin registered first; an activation whose ``out=`` form disagrees with its
plain call. Only a real Ctrl-C from the user stops loading.

Plugin code runs under a watchdog: an import or hook that takes longer than ``SLOW_PLUGIN_SECONDS``
gets a line on stderr naming the plugin, so that a hang is attributable. There is no timeout: Python
code cannot be stopped safely from inside its process (a thread cannot be killed, and an import left
half-way holds its module's import lock), so the user presses Ctrl-C and blocks the plugin.
``COURSEWARE_TRACE_PLUGINS=1`` prints every step of loading, and who registered what, to stderr.

Registration hooks are called by the host one plugin at a time, with a ``register`` callback of their
own, so each registration knows its plugin. Call order: implementations marked ``tryfirst``, then the
unmarked ones, then ``trylast``; within each group, load order (built-ins, installed plugins,
lesson-folder plugins). pluggy calls ordinary hooks last-registered-first; for registration hooks the
call order is the order of every list the student sees and of the network's inputs, and load order
keeps the Playground's built-ins first. Name clashes are decided by load order alone: a plugin loaded
later must pass ``replace=True`` to take a name over.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from courseware import hookspecs
from courseware.components import (
    COMPONENT_KINDS,
    VISUALIZER_AREAS,
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    LessonSource,
    Loss,
    Metric,
    Optimizer,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
    check_writers,
)
from courseware.datafiles import register_data_files
from courseware.errors import CoursewareError
from courseware.registry import Registry, kind_label

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "courseware"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "courseware_builtins.problems",
    "courseware_builtins.datasets",
    "courseware_builtins.features",
    "courseware_builtins.activations",
    "courseware_builtins.regularizers",
    "courseware_builtins.heads",
    "courseware_builtins.optimizers",
    "courseware_builtins.multiclass",
    "courseware_builtins.csvdata",
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
    "register_heads": Head,
    "register_losses": Loss,
    "register_optimizers": Optimizer,
    "register_data_formats": DataFormat,
    "register_visualizers": Visualizer,
    "register_metrics": Metric,
    "register_step_kinds": StepKind,
    "register_lessons": LessonSource,
}
COMMAND_HOOK = "register_commands"

# The fields of each component class that the host calls.
_CALLABLES: dict[type, tuple[str, ...]] = {
    Dataset: ("generate",),
    Feature: ("fn",),
    Activation: ("output", "derivative"),
    Regularizer: ("penalty", "derivative"),
    Loss: ("value", "derivative"),
    Optimizer: ("step",),
    DataFormat: ("read",),
    Visualizer: ("create",),
    Metric: ("compute",),
    StepKind: ("parse",),
}

# Seconds a single import or hook may run before the watchdog names the plugin on stderr.
SLOW_PLUGIN_SECONDS = 5.0

_URL_UNSAFE = set("&=,#?% \t\n/")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not load: reported, then skipped.

    ``hook`` is where it failed: ``import``, ``register`` (handing the plugin to pluggy),
    ``check_pending`` (a hook that does not exist) or the name of the hook that failed.
    """

    plugin: str
    hook: str
    error: str
    details: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed in {self.hook}: {self.error}"


@dataclass
class PluginInfo:
    """What ``courseware plugins`` reports for one plugin."""

    name: str
    version: str
    source: str
    hooks: list[str] = field(default_factory=list)
    components: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Call:
    """What one registration hook of one plugin registered: (kind, name, component, replace) in order."""

    hook: str
    plugin: str
    registrations: list[tuple[str, str, Any, bool]]


class PluginHost:
    """A pluggy manager with the built-ins, entry-point plugins and optional lesson-folder plugins.

    Build one with :meth:`load`; the process-wide default comes from :func:`get_host`.
    """

    def __init__(self, *, trace: bool = False, slow_after: float = SLOW_PLUGIN_SECONDS) -> None:
        self.pm = pluggy.PluginManager("courseware")
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.sources: dict[str, tuple[str, str]] = {}  # plugin name -> (version, where from)
        self.registry = Registry()
        # Commands from register_commands: name -> (click command, plugin); see call_command_hooks.
        self.commands: dict[str, tuple[Any, str]] = {}
        self.trace = trace
        self._guard = _Guard(slow_after, _stderr)
        self._rank: dict[str, int] = {}  # plugin name -> load order
        self._skipped: set[str] = set()
        self._commands_added: set[int] = set()
        self._data_folders: list[Path] = []
        self.data_sources: dict[str, Path] = {}  # data file name -> its path (see _load_data)

    @classmethod
    def load(
        cls,
        lesson_dirs: Iterable[str | os.PathLike[str]] = (),
        *,
        entry_points: bool = True,
        extra: Iterable[tuple[object, str]] = (),
        blocked: Iterable[str] | None = None,
        trace: bool | None = None,
        slow_after: float | None = None,
        data_files: Iterable[str | os.PathLike[str]] = (),
    ) -> PluginHost:
        """Register built-ins, installed plugins, lesson-folder plugins and ``extra`` (object, name),
        then the datasets of data files: each lesson folder's ``data/`` and ``data_files``.

        ``trace`` defaults to ``COURSEWARE_TRACE_PLUGINS``; ``slow_after`` (seconds before the
        watchdog names a plugin that is still running, 0 for never) to
        ``COURSEWARE_SLOW_PLUGIN_SECONDS`` or :data:`SLOW_PLUGIN_SECONDS`.
        """
        host = cls(
            trace=_env_flag("COURSEWARE_TRACE_PLUGINS") if trace is None else trace,
            slow_after=_env_seconds("COURSEWARE_SLOW_PLUGIN_SECONDS") if slow_after is None else slow_after,
        )
        block = set(blocked) if blocked is not None else _env_list("COURSEWARE_BLOCK_PLUGINS") or set()
        for name in sorted(block):
            host.pm.set_blocked(name)
            host._note(f"blocked {name!r}")
        _loading.depth = getattr(_loading, "depth", 0) + 1
        try:
            with host._guard:
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
                host._load_data([(str(path), Path(path)) for path in data_files])
        finally:
            _loading.depth -= 1
        return host

    # -- running plugin code ------------------------------------------------------------------------

    def _attempt(self, plugin: str, hook: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        """Run plugin code; anything it raises becomes a failure of ``plugin`` in ``hook``.

        ``BaseException`` is caught too: a plugin's ``sys.exit()`` or stray ``KeyboardInterrupt``
        must not end courseware. A real Ctrl-C (see :class:`_Guard`) is passed on.
        """
        try:
            with self._guard.running(plugin, hook):
                return True, action()
        except BaseException as exc:
            if self._guard.user_interrupted(exc):
                raise
            self._fail(plugin, hook, exc)
            return False, None

    def _note(self, message: str) -> None:
        log.debug("%s", message)
        if self.trace:
            _stderr(f"courseware: trace: {message}")

    # -- loading ------------------------------------------------------------------------------------

    def _register(self, plugin: object, name: str, source: tuple[str, str]) -> None:
        if self.pm.is_blocked(name):
            self._note(f"not registering blocked plugin {name!r}")
            return
        ok, _ = self._attempt(name, "register", lambda: self.pm.register(plugin, name=name))
        if not ok:
            return
        wrappers = [
            caller.name
            for caller in self.pm.get_hookcallers(plugin) or []
            for impl in caller.get_hookimpls()
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper)
        ]
        if wrappers:
            self.pm.unregister(plugin)
            self._fail(
                name,
                wrappers[0],
                f"{wrappers[0]} is a hook wrapper (wrapper=True or hookwrapper=True); courseware calls "
                "each plugin's hooks itself, one plugin at a time, so there is nothing to wrap: "
                "implement it as a plain @hookimpl",
            )
            return
        self.sources[name] = source
        self._rank[name] = len(self._rank)
        self._note(f"registered plugin {name!r} ({source[1]})")

    def _register_module(self, module_name: str, version: str, where: str) -> None:
        if self.pm.is_blocked(module_name):
            self._note(f"not importing blocked plugin {module_name!r}")
            return
        self._note(f"importing plugin {module_name!r} ({where})")
        ok, module = self._attempt(module_name, "import", lambda: importlib.import_module(module_name))
        if ok:
            self._register(module, module_name, (version, where))

    def _load_entry_points(self) -> None:
        allowed = _env_list("COURSEWARE_LOAD_PLUGINS")
        try:
            found = list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
        except Exception as exc:  # broken metadata of some installed distribution
            self._fail(f"({ENTRY_POINT_GROUP} entry points)", "import", exc)
            return
        seen: dict[str, tuple[str, str]] = {}  # entry point name -> (version, where from)
        for ep in found:
            if allowed is not None and ep.name not in allowed:
                continue
            if self.pm.is_blocked(ep.name):
                self._note(f"not importing blocked plugin {ep.name!r}")
                continue
            dist = ep.dist
            version = dist.version if dist is not None else ""
            where = f"{dist.metadata['Name']} (entry point)" if dist is not None else "entry point"
            earlier = seen.get(ep.name) or self.sources.get(ep.name)
            if earlier is not None:
                if earlier != (version, where):  # one distribution found twice on the path is fine
                    self._fail(ep.name, "import", f"{where} names its plugin {ep.name!r}, and a plugin of "
                               f"that name already comes from {earlier[1]}")  # fmt: skip
                continue
            seen[ep.name] = (version, where)
            log.info("loading plugin %r from %s: %s", ep.name, where, ep.value)
            self._note(f"importing plugin {ep.name!r} ({where}: {ep.value})")
            ok, plugin = self._attempt(ep.name, "import", ep.load)
            if ok:
                self._register(plugin, ep.name, (version, where))

    def load_folder(self, folder: str | os.PathLike[str]) -> None:
        """Load ``<folder>/plugins/*.py`` as plugins named ``<folder name>/<module>``, and remember
        ``<folder>/data/`` for its data files, read once the registry knows the data formats."""
        self._data_folders.append(Path(folder))
        plugin_dir = Path(folder) / "plugins"
        if not plugin_dir.is_dir():
            return
        for path in sorted(plugin_dir.glob("*.py")):
            name = f"{Path(folder).resolve().name}/{path.stem}"
            if self.pm.is_blocked(name):
                self._note(f"not importing blocked plugin {name!r}")
                continue
            module_name = f"courseware_folder_plugins.{_safe_ident(name)}"
            log.info("loading plugin %r from %s", name, path)
            self._note(f"importing plugin {name!r} ({path})")
            ok, module = self._attempt(name, "import", lambda m=module_name, p=path: _exec_file(m, p))
            if ok:
                self._register(module, name, ("", str(path)))

    def _load_data(self, files: list[tuple[str, Path]]) -> None:
        """Register the datasets of the lesson folders' ``data/`` files and of ``files`` (name, path):
        each is read by :func:`courseware.datafiles.register_data_files`, and a file that cannot be
        used is this host's failure under the file's name, like a plugin's."""
        registered = register_data_files(self.registry, self._data_folders, files, self._attempt, self._fail,
                                         self._note, self.pm.is_blocked)  # fmt: skip
        for name, path in registered.items():
            self.sources[name] = ("", str(path))
            self.data_sources[name] = path

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
                self._skipped.add(name)

    def _fail(self, plugin: str, hook: str, problem: BaseException | str) -> None:
        """Record a failure: an exception from plugin code, or the host's own reason as a sentence."""
        if isinstance(problem, str):
            error, details = problem, ""
        else:
            error = f"{type(problem).__name__}: {problem}" if str(problem) else type(problem).__name__
            details = "".join(traceback.format_exception(problem))
        failure = PluginFailure(plugin=plugin, hook=hook, error=error, details=details)
        self.failures.append(failure)
        # INFO, not ERROR: every caller shows host.failures itself (the CLI's warnings, the server's
        # startup lines and index page), and logging's last-resort handler would repeat them.
        log.info("%s", failure)
        if details:
            log.debug("%s", details)
        self._note(f"failure: {failure}")

    def _skip(self, plugin: str) -> None:
        """Take a failed plugin out whole: pluggy forgets it, and nothing it registered is kept."""
        self._skipped.add(plugin)
        obj = self.pm.get_plugin(plugin)
        if obj is not None:
            self.pm.unregister(obj)

    # -- registry -----------------------------------------------------------------------------------

    def _ordered_impls(self, hook_name: str) -> list[Any]:
        """A hook's implementations in courseware's call order (see the module docstring)."""

        def group(impl: Any) -> int:
            return 0 if impl.tryfirst else 2 if impl.trylast else 1

        impls = [i for i in getattr(self.pm.hook, hook_name).get_hookimpls() if not (i.wrapper or i.hookwrapper)]
        return sorted(impls, key=lambda i: (group(i), self._rank.get(i.plugin_name, len(self._rank))))

    def _build_registry(self) -> None:
        """Call every registration hook plugin by plugin, then settle names and fill the registry.

        A plugin whose hook raises, registers something invalid, or takes a name that a plugin
        loaded before it holds (without ``replace=True``) is skipped whole and reported.
        """
        calls: list[_Call] = []
        for hook_name in [*REGISTRATION_HOOKS, COMMAND_HOOK]:
            for impl in self._ordered_impls(hook_name):
                plugin = impl.plugin_name
                if plugin in self._skipped:
                    continue
                flag = " (tryfirst)" if impl.tryfirst else " (trylast)" if impl.trylast else ""
                self._note(f"calling {hook_name} of {plugin!r}{flag}")
                call = self._call_hook(impl, hook_name)
                if call is None:
                    self._skip(plugin)
                else:
                    calls.append(call)
        winners = self._settle_names(calls)
        placed: set[tuple[str, str]] = set()
        for call in calls:
            if call.plugin in self._skipped:
                continue
            names = []
            for kind, name, _, _ in call.registrations:
                key = (kind, name)
                names.append(name)
                if key in placed:
                    continue
                placed.add(key)
                winner, plugin = winners[key]
                if key[0] == "commands":
                    self.commands[key[1]] = (winner, plugin)
                else:
                    self.registry.add(winner, plugin)
            if names:
                self._note(f"{call.hook}: {call.plugin!r} registered {', '.join(names)}")

    def _call_hook(self, impl: Any, hook_name: str) -> _Call | None:
        """One plugin's registration hook with its own ``register``; None if it failed."""
        plugin = impl.plugin_name
        staged: list[tuple[str, str, Any, bool]] = []
        refused: list[BaseException] = []
        if hook_name == COMMAND_HOOK:
            import click

            group = click.Group()
            ok, _ = self._attempt(plugin, hook_name, lambda: _call_impl(impl, cli=group))
            staged = [("commands", name, command, False) for name, command in group.commands.items()]
        else:
            expected = REGISTRATION_HOOKS[hook_name]

            def register(component: Any, replace: bool = False) -> None:
                try:
                    _validate_component(component, expected, hook_name)
                except Exception as exc:
                    refused.append(exc)
                    raise
                staged.append((COMPONENT_KINDS[expected], component.name, component, bool(replace)))

            ok, _ = self._attempt(plugin, hook_name, lambda: _call_impl(impl, register=register))
            if ok and refused:  # the plugin caught the refusal and carried on: still a failure
                self._fail(plugin, hook_name, refused[0])
                ok = False
        return _Call(hook_name, plugin, staged) if ok else None

    def _settle_names(self, calls: list[_Call]) -> dict[tuple[str, str], tuple[Any, str]]:
        """(kind, name) -> (component, plugin) that keeps it, skipping plugins that clash.

        Registrations are taken in load order: a name registered again by a plugin loaded later is
        a clash unless that plugin passed ``replace=True``. A clashing plugin is skipped whole, which
        may free names it held, so the names are settled again until no clash is left.
        """
        while True:
            holders: dict[tuple[str, str], tuple[Any, str]] = {}
            live = [c for c in calls if c.plugin not in self._skipped]
            clash = None
            for call in sorted(live, key=lambda c: self._rank.get(c.plugin, len(self._rank))):
                for kind, name, component, replace in call.registrations:
                    key = (kind, name)
                    held = holders.get(key)
                    if held is not None and not replace:
                        clash = (call, key, held[1])
                        break
                    if held is not None:
                        self._note(f"{kind_label(key[0])} {key[1]!r}: {call.plugin!r} replaces {held[1]!r}")
                    holders[key] = (component, call.plugin)
                if clash:
                    break
            if clash is None:
                return holders
            call, (kind, name), holder = clash
            if holder == call.plugin:
                reason = f"it registers {kind_label(kind)} {name!r} twice"
            else:
                reason = (
                    f"{kind_label(kind)} name {name!r} is registered by two plugins: {holder!r} and "
                    f"{call.plugin!r}; {call.plugin!r} is skipped. Block one of them "
                    f"(COURSEWARE_BLOCK_PLUGINS) or have {call.plugin!r} pass replace=True"
                )
            self._fail(call.plugin, call.hook, reason)
            self._skip(call.plugin)

    def call_command_hooks(self, cli: Any) -> None:
        """Add the plugins' commands to the click group ``cli``, once per group.

        The commands were collected when the plugins loaded (``register_commands`` receives a
        group of its own); one whose name ``cli`` already has is reported and left out.
        """
        if id(cli) in self._commands_added:
            return
        self._commands_added.add(id(cli))
        for name, (command, plugin) in self.commands.items():
            if name in getattr(cli, "commands", {}):
                self._fail(plugin, COMMAND_HOOK, f"command {name!r} is already a courseware command; it is left out")
                continue
            cli.add_command(command, name)

    def plugin_infos(self) -> list[PluginInfo]:
        infos: dict[str, PluginInfo] = {}
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:  # blocked
                continue
            version, source = self.sources.get(name, ("", ""))
            hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
            infos[name] = PluginInfo(name=name, version=version, source=source, hooks=hooks)
        for name in self.data_sources:
            infos[name] = PluginInfo(name=name, version="", source=self.sources[name][1] + " (data file)")
        for kind, reg in self.registry.registrations():
            info = infos.get(reg.plugin)
            if info is not None:
                info.components.setdefault(kind, []).append(reg.component.name)
        for name, (_, plugin) in self.commands.items():
            if plugin in infos:
                infos[plugin].components.setdefault("commands", []).append(name)
        return list(infos.values())


class _Guard:
    """Watches plugin code while a host loads: who is running, for how long, and Ctrl-C.

    A watchdog thread writes a line naming the plugin when one import or hook has run for
    ``slow_after`` seconds, and again each time that doubles. While the guard is active in the main
    thread, SIGINT goes through a handler that notes a real Ctrl-C before raising as usual, so a
    ``KeyboardInterrupt`` a plugin raises itself can be told apart and contained (in other threads
    every ``KeyboardInterrupt`` is a plugin's: signals are delivered to the main thread).
    """

    def __init__(self, slow_after: float, write: Callable[[str], None]) -> None:
        self.slow_after = slow_after
        self.write = write
        self.interrupted = False
        self.entered = False
        self._current: tuple[int, str, str, float] | None = None
        self._serial = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: Any = None

    def __enter__(self) -> _Guard:
        self.entered = True
        if self.slow_after > 0:
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="courseware-plugin-watchdog", daemon=True)
            self._thread.start()
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):

                def on_interrupt(signum: int, frame: Any) -> None:
                    self.interrupted = True
                    previous(signum, frame)

                signal.signal(signal.SIGINT, on_interrupt)
                self._previous = previous
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.entered = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def user_interrupted(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the user's Ctrl-C. Outside the guard nothing tells them apart, so a
        ``KeyboardInterrupt`` in the main thread is taken for the user's."""
        if not isinstance(exc, KeyboardInterrupt):
            return False
        if not self.entered:
            return threading.current_thread() is threading.main_thread()
        return self.interrupted

    @contextmanager
    def running(self, plugin: str, what: str) -> Iterator[None]:
        self._serial += 1
        self._current = (self._serial, plugin, what, time.monotonic())
        try:
            yield
        finally:
            self._current = None

    def _watch(self) -> None:
        poll = min(0.25, self.slow_after / 4)
        watched, next_report = 0, self.slow_after
        while not self._stop.wait(poll):
            current = self._current
            if current is None:
                continue
            serial, plugin, what, started = current
            if serial != watched:
                watched, next_report = serial, self.slow_after
            elapsed = time.monotonic() - started
            if elapsed >= next_report:
                shown = f"{elapsed:.1f}" if elapsed < 10 else f"{elapsed:.0f}"
                self.write(
                    f"courseware: still loading plugin {plugin!r} ({what}) after {shown} s; if it never "
                    f"finishes, press Ctrl-C and block it with COURSEWARE_BLOCK_PLUGINS={plugin}"
                )
                next_report *= 2


def _call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call a hook implementation as pluggy would: with the arguments it names, in its order."""
    return impl.function(*[kwargs[name] for name in impl.argnames])


def _exec_file(module_name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


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
    for attribute in _CALLABLES.get(expected, ()):
        if not callable(getattr(component, attribute)):
            raise TypeError(f"{expected.__name__} {name!r}: {attribute} must be callable, got "
                            f"{type(getattr(component, attribute)).__name__}")  # fmt: skip
    if isinstance(component, Visualizer) and component.area not in VISUALIZER_AREAS:
        raise ValueError(f"Visualizer {name!r}: area {component.area!r} is not one of the page's areas "
                         f"({', '.join(VISUALIZER_AREAS)}); the panel would never be shown")  # fmt: skip
    if isinstance(component, Activation):
        check_writers(component)
    if isinstance(component, Head):
        _validate_head(component)
    if isinstance(component, Optimizer) and (not isinstance(component.slots, int) or component.slots < 0):
        raise ValueError(f"Optimizer {name!r}: slots must be a whole number of at least 0, got {component.slots!r}")
    if isinstance(component, Dataset) and (not isinstance(component.classes, int) or component.classes < 2):
        raise ValueError(f"Dataset {name!r}: classes must be a whole number of at least 2, got {component.classes!r}")


def _validate_head(head: Head) -> None:
    """A head computes its outputs one way: by a named activation, or by its own functions."""
    functions = (head.output, head.backward)
    if head.activation and any(f is not None for f in functions):
        raise ValueError(f"Head {head.name!r}: give either activation or output and backward, not both")
    if not head.activation and not all(callable(f) for f in functions):
        raise ValueError(f"Head {head.name!r}: give activation (the name of a registered activation) or both "
                         "output(z) and backward(z, a, g)")  # fmt: skip
    exact = (head.exact_output, head.exact_backward)
    if head.activation and any(f is not None for f in exact):
        raise ValueError(f"Head {head.name!r}: a head by activation uses the activation's exact forms; drop "
                         "exact_output and exact_backward")  # fmt: skip
    if (exact[0] is None) != (exact[1] is None):
        raise ValueError(f"Head {head.name!r}: give both exact forms or neither")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _env_list(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _env_flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() not in ("", "0", "false", "no", "off")


def _env_seconds(var: str) -> float:
    try:
        return max(0.0, float(os.environ[var]))
    except (KeyError, ValueError):
        return SLOW_PLUGIN_SECONDS


def _safe_ident(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _own_version() -> str:
    from courseware import __version__

    return __version__


_default_host: PluginHost | None = None
_lock = threading.Lock()
_loading = threading.local()  # depth of PluginHost.load calls running in this thread


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded once on first use (built-ins plus installed plugins).

    Plugin code may not ask for it while plugins load (at import, or in a registration hook): the
    host it would get is the one being built. That is an error naming the mistake, reported as the
    plugin's failure, rather than a deadlock.
    """
    global _default_host
    if getattr(_loading, "depth", 0):
        raise CoursewareError(
            "a plugin asked for the plugin registry while plugins are loading (at import or in a "
            "registration hook); ask for it when courseware calls your component instead"
        )
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
