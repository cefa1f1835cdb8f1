"""Lessons: YAML files that script experiments, guide a student through them and check their claims.

This package is the lesson model, its loader and its checker. It imports neither Bokeh nor the
server (a test holds it to that): the lesson page is in ``courseware.server.lessonpage`` and reads
lessons through the API below, as ``courseware check`` and ``courseware run`` do.

The public API, for the lesson page, the CLI and step-kind plugins:

* :func:`load_lesson` / :func:`load_lesson_text` - a validated :class:`Lesson`, or
  :class:`LessonErrors` listing every located problem;
* :func:`discover` - every lesson in some folders and in plugins' lesson packs, broken ones included,
  as :class:`LessonEntry` items (the server's index); :func:`host_for` loads lesson folders' plugins;
* :class:`Walk` and :class:`WalkState` - a student's way through a lesson, serialisable to a URL;
* :func:`check_lesson` - run every claim of a lesson over its seeds (``courseware check``);
* :class:`Step`, :class:`Fields` and friends - what a step kind plugin builds on.

See ``docs/lessons.md`` for the file format.
"""

from courseware.lessons.catalog import LessonEntry, discover, find_lesson, host_for
from courseware.lessons.checker import check_lesson, check_lessons
from courseware.lessons.claims import Claim, Rate, parse_holds_in
from courseware.lessons.conditions import Condition, parse_condition
from courseware.lessons.errors import ConditionError, LessonError, LessonErrors, Where
from courseware.lessons.fields import Fields, apply_settings, normalise_settings
from courseware.lessons.lesson import FORMAT_VERSION, Lesson, control_names
from courseware.lessons.loader import MAX_EPOCHS, load_lesson, load_lesson_text
from courseware.lessons.measure import Measurements
from courseware.lessons.steps import (
    ControlChanges,
    Controls,
    Feedback,
    Plan,
    Step,
    StepState,
    Subject,
    settings_text,
)
from courseware.lessons.goals import GoalState, GoalTracker
from courseware.lessons.seeds import SeedSample
from courseware.lessons.walk import Walk, WalkState


__all__ = [
    "FORMAT_VERSION",
    "MAX_EPOCHS",
    "Claim",
    "Condition",
    "ConditionError",
    "ControlChanges",
    "Controls",
    "Feedback",
    "GoalState",
    "GoalTracker",
    "Fields",
    "Lesson",
    "LessonError",
    "LessonEntry",
    "LessonErrors",
    "Measurements",
    "Plan",
    "Rate",
    "SeedSample",
    "Step",
    "StepState",
    "Subject",
    "Walk",
    "WalkState",
    "Where",
    "apply_settings",
    "check_lesson",
    "check_lessons",
    "control_names",
    "discover",
    "find_lesson",
    "host_for",
    "load_lesson",
    "load_lesson_text",
    "normalise_settings",
    "parse_condition",
    "parse_holds_in",
    "settings_text",
]
