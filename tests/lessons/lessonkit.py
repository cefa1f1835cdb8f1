"""Helpers shared by the lesson tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "lessons"

# A small valid lesson header the tests extend with their own steps.
HEADER = """\
format: 1
id: sample
title: Sample
summary: A sample lesson.
objectives: [Test things]
start:
  dataset: circle
  networkShape: [4]
  activation: relu
"""


def lesson_text(steps: str, header: str = HEADER) -> str:
    """A lesson file: ``header`` and the (dedented) YAML list of ``steps``."""
    return header + "steps:\n" + textwrap.indent(textwrap.dedent(steps).strip("\n"), "  ") + "\n"
