"""Fixtures for the lesson tests: a registry of the built-ins only, and a lesson loader."""

from __future__ import annotations

import pytest
from lessonkit import HEADER, lesson_text

from courseware.lessons import Lesson, load_lesson_text
from courseware.plugins import PluginHost, Registry


@pytest.fixture(scope="session")
def builtins() -> Registry:
    """Only the built-in plugins, so installed third-party plugins cannot change the results."""
    return PluginHost.load(entry_points=False).registry


@pytest.fixture
def load(builtins):
    """``load(steps, header=HEADER)``: a lesson from YAML steps, loaded with the built-ins."""

    def load_steps(steps: str, header: str = HEADER) -> Lesson:
        return load_lesson_text(lesson_text(steps, header), "sample.yaml", builtins)

    return load_steps
