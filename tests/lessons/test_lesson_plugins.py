"""Instructors extend lessons through plugin hooks: step kinds and metrics."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from lessonkit import lesson_text

from courseware import Metric, StepKind, hookimpl
from courseware.lessons import Feedback, LessonErrors, Step, load_lesson_text
from courseware.lessons import SeedSample
from courseware.lessons.checker import check_lesson
from courseware.plugins import PluginHost


@dataclass(kw_only=True, eq=False)
class Poll(Step):
    """A custom kind: a poll with no right answer."""

    options: tuple[str, ...] = ()
    task = "answer"

    def payload(self):
        return {"options": list(self.options)}

    def respond(self, response):
        if response not in self.options:
            raise ValueError(f"{response!r} is not an option")
        return Feedback(None, f"You voted {response}.")


def parse_poll(raw, fields):
    options = fields.texts("options")
    if len(options) < 2:
        fields.fail("options", "a poll needs at least two options")
    return Poll(**fields.common, options=options)


class Plugin:
    @hookimpl
    def register_step_kinds(self, register):
        register(StepKind("poll", "A poll.", parse_poll, {"options": "what to vote for"}))
        register(StepKind("crash", "Raises.", lambda raw, fields: 1 / 0, {}))
        register(StepKind("wrong", "Returns junk.", lambda raw, fields: "not a step", {}))

    @hookimpl
    def register_metrics(self, register):
        register(Metric("loss_sum", "Train plus test loss.", lambda run: run.train_loss + run.test_loss))


@pytest.fixture(scope="module")
def registry():
    return PluginHost.load(entry_points=False, extra=[(Plugin(), "my-plugin")]).registry


def load(steps, registry):
    return load_lesson_text(lesson_text(steps), "plugin.yaml", registry)


def test_a_plugin_step_kind_and_metric_work_like_built_ins(registry):
    lesson = load(
        """
        - kind: poll
          title: Vote
          options: [relu, tanh]
          claims:
            - {expect: loss_sum > 0, holds_in: every run}
        """,
        registry,
    )
    (poll,) = lesson.steps
    assert isinstance(poll, Poll) and poll.payload() == {"options": ["relu", "tanh"]}
    assert poll.respond("tanh").message == "You voted tanh."
    assert check_lesson(lesson, registry, SeedSample.explicit(["0.1", "0.2"])).results[0].passed


def test_a_plugin_step_kind_gets_located_errors_for_its_fields(registry):
    with pytest.raises(LessonErrors) as info:
        load("- kind: poll\n  title: Vote\n  options: [one]\n  colour: red\n", registry)
    messages = [str(e) for e in info.value.errors]
    assert messages == [
        "plugin.yaml:13: step 1 (Vote): options: a poll needs at least two options",
        "plugin.yaml:14: step 1 (Vote): colour: unknown key 'colour'; known keys: kind, title, text, hints, "
        "answer, controls, claims, options",
    ]


def test_a_failing_step_kind_is_reported_with_its_plugin(registry):
    with pytest.raises(LessonErrors) as info:
        load("- kind: crash\n  title: Boom\n- kind: wrong\n  title: Junk\n- kind: poll\n  title: Fine\n  options: [a, b]\n", registry)
    crash, wrong = info.value.errors
    assert (crash.step, wrong.step) == (1, 2)
    assert "step kind 'crash' (plugin 'my-plugin') failed: ZeroDivisionError" in crash.message
    assert "step kind 'wrong' returned str, not a Step" in wrong.message
