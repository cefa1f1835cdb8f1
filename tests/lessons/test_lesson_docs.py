"""docs/lessons.md documents the whole format, and its worked example really passes check."""

from __future__ import annotations

import re

import pytest
from lessonkit import REPO

from courseware.lessons import load_lesson_text
from courseware.lessons import SeedSample
from courseware.lessons.checker import check_lesson, sample_size
from courseware.lessons.seeds import DEFAULT_RUNS
from courseware.lessons.loader import CLAIM_FIELDS, COMMON_STEP_FIELDS, TOP_FIELDS

DOCS = REPO / "docs" / "lessons.md"


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def worked_example(docs: str) -> str:
    start = docs.index("<!-- worked-example -->")
    match = re.search(r"```yaml\n(.*?)```", docs[start:], re.S)
    assert match, "the worked example must follow its marker as a ```yaml block"
    return match.group(1)


@pytest.mark.slow  # checks every claim of a lesson
def test_the_worked_example_is_a_valid_lesson_whose_claims_hold(docs, builtins):
    lesson = load_lesson_text(worked_example(docs), "worked-example.yaml", builtins)
    kinds = {step.kind for step in lesson.steps}
    assert {"text", "question", "run", "compare", "goal"} <= kinds
    results = check_lesson(lesson, builtins, SeedSample.random(sample_size(DEFAULT_RUNS), key="d0c5")).results
    assert results and all(r.passed for r in results), [(r.claim.label, r.count) for r in results]


def documented(docs: str, name: str) -> bool:
    return f"`{name}`" in docs


def test_every_step_kind_and_metric_is_documented(docs, builtins):
    for kind in builtins.all("step_kinds"):
        assert f"### `{kind.name}`" in docs, f"step kind {kind.name} has no section"
        for field in kind.fields:
            assert documented(docs, field), f"field {field} of {kind.name} is not documented"
    for metric in builtins.all("metrics"):
        assert re.search(rf"^\| `{metric.name}` \|", docs, re.M), f"metric {metric.name} is not in the table"


def test_every_field_of_the_format_is_documented(docs):
    for fields in (TOP_FIELDS, COMMON_STEP_FIELDS, CLAIM_FIELDS):
        for name in fields:
            assert documented(docs, name), f"{name} is not documented"
