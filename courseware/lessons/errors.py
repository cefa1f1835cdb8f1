"""Errors in lesson files, each located for the instructor who has to fix it.

A lesson file can be wrong in many places at once; the loader collects every problem as a
:class:`LessonError` (file, line, step number and title, field, message) and raises them together as
:class:`LessonErrors`, so one ``courseware check`` run shows the instructor everything to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from courseware.errors import CoursewareError


@dataclass(frozen=True)
class Where:
    """Where in a lesson file something is: the file, the step (numbered from 1) and the field.

    ``field`` is a dotted path inside the lesson (``start.activation``) or inside the step
    (``choices[2].feedback``); list positions count from 1, as the instructor counts them.
    """

    file: str = "<lesson>"
    step: int | None = None
    step_title: str | None = None
    field: str = ""
    line: int | None = None

    def at(self, field: str, line: int | None = None) -> Where:
        """The same place, narrowed to ``field`` (joined onto the current field path)."""
        if not field:
            path = self.field
        elif field.startswith("["):
            path = f"{self.field}{field}"
        else:
            path = f"{self.field}.{field}" if self.field else field
        return Where(self.file, self.step, self.step_title, path, line if line is not None else self.line)

    def describe(self) -> str:
        """``file:line: step 3 (Title): field`` with whatever parts are known."""
        head = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [head]
        if self.step is not None:
            parts.append(f"step {self.step}" + (f" ({self.step_title})" if self.step_title else ""))
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)


class LessonError(CoursewareError, ValueError):
    """One problem in a lesson file, with its location."""

    def __init__(self, where: Where, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where.describe()}: {message}")

    @property
    def file(self) -> str:
        return self.where.file

    @property
    def line(self) -> int | None:
        return self.where.line

    @property
    def step(self) -> int | None:
        return self.where.step

    @property
    def step_title(self) -> str | None:
        return self.where.step_title

    @property
    def field(self) -> str:
        return self.where.field

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, for ``courseware check --json`` and the server's index page."""
        return {
            "file": self.file,
            "line": self.line,
            "step": self.step,
            "step_title": self.step_title,
            "field": self.field,
            "message": self.message,
            "text": str(self),
        }


class LessonErrors(CoursewareError, ValueError):
    """Every problem found in one lesson file (at least one), reported together."""

    def __init__(self, errors: Iterable[LessonError]) -> None:
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("LessonErrors needs at least one error")
        count = len(self.errors)
        heading = f"{count} problem{'s' if count != 1 else ''} in {self.errors[0].file}"
        super().__init__(heading + ":\n" + "\n".join(f"  {e}" for e in self.errors))


class ConditionError(CoursewareError, ValueError):
    """A malformed condition (``test_loss < 0.05 and neurons <= 3``); ``column`` counts from 1."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message if column is None else f"{message} (at column {column})")
