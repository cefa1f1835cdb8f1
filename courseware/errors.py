"""Errors a user can cause and must be able to read.

Every error here carries a message written for the person who caused it (a student, an instructor, a
plugin author): the CLI prints it on one line with no traceback and the server shows it on the page.
"""

from __future__ import annotations

from collections.abc import Iterable


class CoursewareError(Exception):
    """Base class: a problem with the user's input or environment, not a bug in courseware."""


class UnknownNameError(CoursewareError, KeyError):
    """A component name that no plugin registered; the message lists the known ones."""

    def __init__(self, kind: str, name: object, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        listed = ", ".join(self.known) if self.known else "(none registered)"
        super().__init__(f"unknown {kind} {name!r}; known {kind}s: {listed}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class PluginConflictError(CoursewareError):
    """Two plugins registered a component under the same name."""


class ConfigError(CoursewareError, ValueError):
    """An invalid experiment setting; the message names the key and what is allowed."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.reason = message
        super().__init__(f"{key}: {message}")


class LimitError(ConfigError):
    """A request beyond the configured limits (too many layers, neurons, samples or epochs)."""


class ComponentError(CoursewareError):
    """A plugin's component raised while courseware was using it (generating data, training, drawing).

    Names the component and the plugin that registered it, so the page and the log can say exactly
    what failed; the caller decides what to disable.
    """

    def __init__(self, kind: str, name: str, plugin: str, error: BaseException) -> None:
        self.kind = kind
        self.name = name
        self.plugin = plugin
        self.error = error
        super().__init__(f"{kind} {name!r} from plugin {plugin!r} raised {type(error).__name__}: {error}")
