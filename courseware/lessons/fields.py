"""Reading one mapping of a lesson file, field by field, collecting every problem.

:class:`Fields` is what the loader and every step kind (built-in or a plugin's) use to read YAML:
each reader returns the value, or a default after recording a located :class:`LessonError`, so
parsing never stops at the first mistake. Unknown keys are reported with the list of known ones.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Mapping
from typing import Any

from courseware import config as config_module
from courseware.config import SETTINGS, Config
from courseware.errors import CoursewareError
from courseware.lessons.claims import Rate, parse_holds_in
from courseware.lessons.conditions import Condition, parse_condition
from courseware.lessons.errors import ConditionError, LessonError, Where
from courseware.lessons.yamlsource import LocatedList, LocatedMap
from courseware.registry import Registry
from courseware.settings import DEFAULT_LIMITS, Limits, route_dataset

_MISSING = object()


class Fields:
    """A mapping from a lesson file with located, error-collecting readers.

    ``allowed`` (key -> description), when given, makes any other key an error. ``errors`` is shared
    with the whole file. ``common`` holds the step fields the host already read (a step kind passes
    them on to its :class:`~courseware.lessons.steps.Step`). ``limits`` are the lesson's (its
    ``limits:`` key): Playground settings are checked against them, and nested mappings inherit them.
    """

    def __init__(
        self,
        raw: Any,
        where: Where,
        errors: list[LessonError],
        registry: Registry,
        allowed: Mapping[str, str] | Collection[str] | None = None,
        what: str = "this mapping",
        limits: Limits | None = None,
    ) -> None:
        self.where = where
        self.errors = errors
        self.registry = registry
        self.limits = limits if limits is not None else DEFAULT_LIMITS
        self.common: dict[str, Any] = {}
        if raw is None:
            raw = LocatedMap()
        if not isinstance(raw, Mapping):
            self.fail(None, f"{what} must be a mapping of keys to values, not {_kind(raw)}")
            raw = LocatedMap()
        self.raw: Mapping[Any, Any] = raw
        if allowed is not None:
            known = list(allowed)
            for key in raw:
                if key not in known:
                    self.fail(key, _unknown(key, known, "key"))

    # -- places and problems -----------------------------------------------------------------------

    def line(self, key: Any = None) -> int | None:
        if key is not None and isinstance(self.raw, LocatedMap) and key in self.raw.key_lines:
            return self.raw.key_lines[key]
        # A nested mapping is best located by the key that holds it (where.line).
        return self.where.line or getattr(self.raw, "line", None)

    def at(self, key: Any = None) -> Where:
        """The location of ``key`` (or of this mapping)."""
        if key is None:
            return Where(self.where.file, self.where.step, self.where.step_title, self.where.field, self.line())
        return self.where.at(str(key), self.line(key))

    def fail(self, key: Any, message: str) -> None:
        """Record a problem with ``key`` (``None``: with the mapping as a whole)."""
        self.errors.append(LessonError(self.at(key), message))

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key] is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.raw.get(key, _MISSING)
        return default if value is _MISSING or value is None else value

    def require(self, key: str, what: str) -> bool:
        if not self.has(key):
            self.fail(None if key not in self.raw else key, f"{key} is required: {what}")
            return False
        return True

    # -- scalars -------------------------------------------------------------------------------------

    def text(self, key: str, *, required: bool = False, default: str | None = None, what: str = "text") -> str | None:
        """A string (a number is accepted and kept as written); empty text counts as missing."""
        if not self.has(key):
            if required:
                self.require(key, what)
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(key, f"expected {what}, got {_kind(value)}")
            return default
        text = str(value).strip()
        if not text:
            if required:
                self.fail(key, f"{key} must not be empty")
            return default
        return str(value).rstrip() if isinstance(value, str) else text

    def texts(self, key: str, *, what: str = "a list of texts") -> tuple[str, ...]:
        """A list of non-empty strings (one string is a list of one)."""
        if not self.has(key):
            return ()
        value = self.raw[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"expected {what}, got {_kind(value)}")
            return ()
        out = []
        for index, item in enumerate(value):
            item_where = self.where.at(f"{key}[{index + 1}]", _item_line(value, index, self.line(key)))
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.errors.append(LessonError(item_where, f"expected a non-empty text, got {_kind(item)}"))
                continue
            out.append(str(item).rstrip())
        return tuple(out)

    def integer(
        self,
        key: str,
        *,
        required: bool = False,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        what: str = "a whole number",
    ) -> int | None:
        if not self.has(key):
            if required:
                self.require(key, what)
            return default
        value = _as_number(self.raw[key])
        if value is None or not math.isfinite(value) or value != int(value):
            self.fail(key, f"expected {what}, got {self.raw[key]!r}")
            return default
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.fail(key, f"{number} is out of range: use {_range(minimum, maximum)}")
            return default
        return number

    def number(
        self,
        key: str,
        *,
        required: bool = False,
        default: float | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        what: str = "a number",
    ) -> float | None:
        if not self.has(key):
            if required:
                self.require(key, what)
            return default
        value = _as_number(self.raw[key])
        if value is None or not math.isfinite(value):
            self.fail(key, f"expected {what}, got {self.raw[key]!r}")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(key, f"{value:g} is out of range: use {_range(minimum, maximum)}")
            return default
        return value

    def boolean(self, key: str, default: bool = False) -> bool:
        if not self.has(key):
            return default
        value = self.raw[key]
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
            return default
        return value

    def choice(self, key: str, options: Collection[str], *, default: str | None = None, required: bool = False) -> str | None:
        if not self.has(key):
            if required:
                self.require(key, "one of " + ", ".join(options))
            return default
        value = self.raw[key]
        if not isinstance(value, str) or value not in options:
            self.fail(key, _unknown(value, list(options), "value"))
            return default
        return value

    def names(self, key: str, known: Collection[str], *, what: str = "name") -> tuple[str, ...]:
        """A list of names from ``known`` (one name is a list of one)."""
        value = self.raw.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(key, f"expected a list of {what}s, got {_kind(value)}")
            return ()
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or item not in known:
                where = self.where.at(f"{key}[{index + 1}]", _item_line(value, index, self.line(key)))
                self.errors.append(LessonError(where, _unknown(item, list(known), what)))
                continue
            out.append(item)
        return tuple(out)

    # -- nested ---------------------------------------------------------------------------------------

    def mapping(self, key: str, allowed: Mapping[str, str] | Collection[str] | None = None) -> Fields | None:
        """The nested mapping at ``key`` as :class:`Fields` (``None`` if absent or not a mapping)."""
        if not self.has(key):
            return None
        value = self.raw[key]
        if not isinstance(value, Mapping):
            self.fail(key, f"expected a mapping (key: value lines), got {_kind(value)}")
            return None
        return Fields(value, self.where.at(str(key), self.line(key)), self.errors, self.registry, allowed,
                      limits=self.limits)

    def mappings(
        self, key: str, allowed: Mapping[str, str] | Collection[str] | None = None, *, what: str = "item"
    ) -> list[Fields]:
        """A list of mappings at ``key``, each as :class:`Fields` located at its item."""
        if not self.has(key):
            return []
        value = self.raw[key]
        if not isinstance(value, list):
            self.fail(key, f"expected a list of {what}s, got {_kind(value)}")
            return []
        out = []
        for index, item in enumerate(value):
            where = self.where.at(f"{key}[{index + 1}]", _item_line(value, index, self.line(key)))
            if not isinstance(item, Mapping):
                self.errors.append(LessonError(where, f"each {what} must be a mapping, not {_kind(item)}"))
                continue
            out.append(Fields(item, where, self.errors, self.registry, allowed, limits=self.limits))
        return out

    # -- courseware values -------------------------------------------------------------------------------

    def condition(
        self, key: str, *, required: bool = False, variants: Collection[str] | None = None
    ) -> Condition | None:
        """A condition on metrics (see :mod:`courseware.lessons.conditions`)."""
        if not self.has(key):
            if required:
                self.require(key, 'a condition such as "test_loss < 0.1"')
            return None
        metrics = {m.name: m for m in self.registry.all("metrics")}
        choices = {m.name: m.choices(self.registry) for m in metrics.values() if m.choices is not None}
        try:
            return parse_condition(self.raw[key], metrics, variants, choices)
        except ConditionError as exc:
            self.fail(key, str(exc))
            return None

    def changes(self, key: str, *, required: bool = False) -> dict[str, Any] | None:
        """Playground settings (``activation: relu``), checked now against the defaults.

        Whether a change suits the configuration it is applied to (a dataset of the right problem
        type) is checked again when the lesson's steps are replayed.
        """
        if not self.has(key):
            if required:
                self.require(key, "Playground settings, e.g. {activation: relu}")
            return None
        value = self.raw[key]
        if not isinstance(value, Mapping):
            self.fail(key, f"expected Playground settings (key: value lines), got {_kind(value)}")
            return None
        changes = normalise_settings(value, self.registry)
        inner = Fields(value, self.where.at(str(key), self.line(key)), self.errors, self.registry, limits=self.limits)
        check_settings(changes, inner)
        return changes

    def rate(self, key: str = "holds_in", *, required: bool = True) -> Rate | None:
        if not self.has(key):
            if required:
                self.require(key, 'the share of runs the claim holds in, e.g. "at least 90% of runs"')
            return None
        try:
            return parse_holds_in(self.raw[key])
        except ValueError as exc:
            self.fail(key, str(exc))
            return None


# -- Playground settings in lesson files ----------------------------------------------------------------

# Settings that belong to the lesson machinery, not to a lesson's settings: why a lesson may not set them.
RESERVED_SETTINGS = {s.name: s.not_in_lessons for s in SETTINGS if s.not_in_lessons}


def normalise_settings(mapping: Mapping[Any, Any], registry: Registry) -> dict[str, Any]:
    """Lesson-friendly spellings of Playground settings, mapped onto the Playground's own keys:
    ``dataset`` may name a dataset of any problem type (see :func:`courseware.settings.route_dataset`)."""
    return route_dataset(mapping, registry)


def check_settings(changes: Mapping[str, Any], fields: Fields) -> None:
    """Validate settings against the defaults, reporting each problem at its key."""
    for key in changes:
        if key in RESERVED_SETTINGS or key.endswith("_hide"):
            reason = RESERVED_SETTINGS.get(key, RESERVED_SETTINGS["hidden"])
            fields.fail(key, f"{key} is not a setting here: {reason}")
    settings = {k: v for k, v in changes.items() if k not in RESERVED_SETTINGS and not k.endswith("_hide")}
    base = config_module.default(fields.registry, seed="1", limits=fields.limits)
    try:
        _, problems = config_module.parse(settings, registry=fields.registry, base=base)
    except CoursewareError as exc:  # pragma: no cover - parse collects its errors
        fields.fail(None, str(exc))
        return
    for problem in problems:
        key = problem.key if problem.key in fields.raw else _original_key(problem.key, fields.raw)
        fields.fail(key, _strip_key(str(problem), problem.key))


def apply_settings(config: Config, changes: Mapping[str, Any], registry: Registry) -> Config:
    """``config`` with ``changes`` applied; raises :class:`~courseware.errors.ConfigError`."""
    settings = {k: v for k, v in changes.items() if k not in RESERVED_SETTINGS and not k.endswith("_hide")}
    new, problems = config_module.parse(settings, registry=registry, base=config)
    if problems:
        raise problems[0]
    return new


def _original_key(key: str, raw: Mapping[Any, Any]) -> Any:
    # `regDataset` problems come from a `dataset:` the instructor wrote.
    if key in ("regDataset", "problem") and "dataset" in raw:
        return "dataset"
    return None


def _strip_key(message: str, key: str) -> str:
    prefix = f"{key}: "
    return message[len(prefix):] if message.startswith(prefix) else message


# -- helpers ------------------------------------------------------------------------------------------


def _as_number(value: Any) -> float | None:
    """Numbers, and numeric strings (YAML 1.1 reads ``1e-5`` as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__


def _range(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"at least {minimum:g}"
    return f"at most {maximum:g}"


def _unknown(value: Any, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1) if isinstance(value, str) else []
    hint = f" (did you mean {close[0]}?)" if close else ""
    listed = ", ".join(str(k) for k in known) if known else "(none)"
    return f"unknown {what} {value!r}{hint}; known {what}s: {listed}"


def _item_line(value: Any, index: int, default: int | None) -> int | None:
    if isinstance(value, LocatedList):
        return value.line_of(index)
    return default
