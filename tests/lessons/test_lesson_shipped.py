"""The lessons that ship with courseware: all valid, and every claim they make holds."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from lessonkit import SHIPPED

from courseware.cli import main
from courseware.lessons.checker import claim_checks
from courseware.lessons.catalog import discover
from courseware.plugins import PluginHost

# The lessons issues 4 and 8 ask for: the seed article's use cases A-E and the extra topics.
REQUIRED = {
    "tour",  # an introductory tour of the page
    "more-neurons",  # A
    "nonlinear-activation",  # B
    "more-layers",  # C
    "relu",  # D
    "features",  # E
    "learning-rate",  # too small, too large, divergence
    "overfitting",  # noise, small training set, L2
    "l1-sparsity",  # L1 killing weights
    "spiral-challenge",  # an open goal
    "regression",  # plane and multi-gaussian
    "run-to-run",  # what one run does and does not show
    "feature-crosses",  # x1x2 with no hidden layer on XOR
    "batch-size",  # the batch size
    "noise-and-split",  # noise and the training ratio, with "show test data"
    "tuning-regularization",  # the L2 rate on the noisy spiral
    "early-stopping",  # stopping at the test loss's lowest point
}
# The lessons issue 13 asks for: your own data, three classes, optimizers.
REQUIRED_DATA = {"your-own-data", "three-classes", "optimizers"}


@pytest.fixture(scope="module")
def shipped_registry():
    """The built-ins and what the shipped folder brings: its data/ files (``courseware serve
    lessons/`` and ``courseware check lessons/`` load them the same way)."""
    host = PluginHost.load([SHIPPED], entry_points=False)
    assert host.failures == []
    return host.registry


def test_every_shipped_lesson_is_valid(shipped_registry):
    entries = discover([SHIPPED], shipped_registry, packs=False)
    assert [e.error for e in entries if not e.ok] == []
    assert {e.id for e in entries} == REQUIRED | REQUIRED_DATA


def test_every_shipped_lesson_backs_its_statements_with_claims(shipped_registry):
    builtins = shipped_registry
    for entry in discover([SHIPPED], builtins, packs=False):
        lesson = entry.lesson
        assert claim_checks(lesson, builtins), f"{lesson.id} makes no claims"
        kinds = {s.kind for s in lesson.steps}
        assert kinds & {"run", "compare", "goal"}, f"{lesson.id} runs no experiment"
        for step in lesson.steps:
            if step.kind == "goal":
                assert step.solution(lesson.states[step.number - 1], builtins) is not None
            if step.task == "answer":
                assert step.respond(step.correct_response()).correct


# A fixed sample of Playground seeds, so that this suite gives the same answer on every run: a fresh
# sample (what an author runs `courseware check` for) is drawn by test_lesson_commands'
# test_check_draws_a_fresh_sample_and_repeats_one_by_key. The shipped lessons were calibrated on other
# seeds than these.
SAMPLE_KEY = "5eed2026"


@pytest.mark.slow  # trains every claim of every shipped lesson over its sample of seeds
def test_courseware_check_passes_on_the_shipped_lessons():
    result = CliRunner().invoke(main, ["check", "--sample", SAMPLE_KEY, str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert "all passed" in result.output.splitlines()[-1]
    assert f"sample {SAMPLE_KEY}" in result.output
