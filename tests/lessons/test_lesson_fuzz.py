"""Junk never crashes the loader: it gives a Lesson or LessonErrors, nothing else.

Three kinds of junk: arbitrary text; random YAML documents built from the lesson vocabulary (so the
junk reaches the step kinds, conditions and settings); and shipped lessons with one value replaced.
"""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lessonkit import SHIPPED

from courseware.lessons import Lesson, LessonErrors, load_lesson_text

KEYS = [
    "format", "id", "title", "summary", "objectives", "level", "minutes", "author", "start", "controls",
    "steps", "kind", "text", "hints", "answer", "claims", "expect", "holds_in", "at", "says", "set",
    "epochs", "until", "max_epochs", "question", "choices", "correct", "feedback", "number", "min", "max",
    "measures", "goal", "solution", "variants", "hidden", "locked", "hide", "show", "lock", "unlock",
    "dataset", "activation", "networkShape", "learningRate", "features", "seed", "noise", "problem",
    "regularization", "regularizationRate", "batchSize", "percTrainData", "initZero", "x_hide",
]
WORDS = [
    "run", "text", "change", "question", "goal", "compare", "explore", "circle", "reg-gauss", "relu",
    "tanh", "L1", "all", "x", "xSquared", "test_loss < 0.1", "test_loss[A] < 1", "reached", "diverged",
    "18 of 20 seeds", "all seeds", "the lesson seed", "0 of 0 seeds", "beginner", "A", "", " ", "[",
    "test_loss <", "neurons <= 3 and", "1e-5", "nan", "-1",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS), st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5),
    ),
    max_leaves=30,
)


def assert_loads_or_reports(text: str, registry) -> None:
    try:
        lesson = load_lesson_text(text, "junk.yaml", registry)
    except LessonErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert str(error).startswith("junk.yaml")
        return
    assert isinstance(lesson, Lesson)
    assert len(lesson.states) == len(lesson.steps)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_arbitrary_text(builtins, text):
    assert_loads_or_reports(text, builtins)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {"format": st.just(1) | SCALARS, "id": st.just("fuzz") | SCALARS, "title": st.just("T") | SCALARS,
         "summary": st.just("S") | SCALARS, "objectives": st.just(["o"]) | VALUES},
        optional={"start": VALUES, "controls": VALUES, "steps": st.lists(VALUES, max_size=4)},
    )
)
def test_random_documents_in_the_lesson_vocabulary(builtins, document):
    assert_loads_or_reports(yaml.safe_dump(document, allow_unicode=True), builtins)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


SHIPPED_DOCS = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(SHIPPED.glob("*.yaml"))]


@pytest.mark.slow  # hundreds of lessons loaded
@pytest.mark.skipif(not SHIPPED_DOCS, reason="no shipped lessons")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_shipped_lessons_with_one_value_replaced(builtins, data):
    document = copy.deepcopy(data.draw(st.sampled_from(SHIPPED_DOCS)))
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(VALUES)
    assert_loads_or_reports(yaml.safe_dump(document, allow_unicode=True), builtins)
