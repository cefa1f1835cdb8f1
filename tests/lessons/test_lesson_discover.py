"""Finding lessons in folders and plugin packs; folder plugins; broken lessons stay listed."""

from __future__ import annotations

import textwrap

from lessonkit import lesson_text

from courseware import LessonSource, hookimpl
from courseware.lessons import SeedSample
from courseware.lessons.checker import check_lesson
from courseware.lessons.catalog import discover, host_for
from courseware.plugins import PluginHost


def test_broken_and_duplicate_lessons_are_entries_with_errors(tmp_path, builtins):
    (tmp_path / "01-good.yaml").write_text(lesson_text("- title: A\n"))
    (tmp_path / "02-broken.yaml").write_text(lesson_text("- kind: run\n  title: B\n").replace("id: sample", "id: broken"))
    (tmp_path / "03-same-id.yaml").write_text(lesson_text("- title: C\n"))
    (tmp_path / "notes.txt").write_text("not a lesson")
    good, broken, duplicate = discover([tmp_path], builtins, packs=False)
    assert good.ok and good.id == "sample" and good.lesson is not None and good.title == "Sample"
    assert not broken.ok and broken.id == "broken" and broken.title == "Sample" and broken.lesson is None
    assert "a run step needs epochs" in broken.error and broken.errors[0].step == 1
    assert not duplicate.ok and "the id 'sample' is already used by" in duplicate.error
    assert [e.to_dict()["id"] for e in (good, broken, duplicate)] == ["sample", "broken", "sample"]


def test_an_unparseable_file_is_listed_by_its_file_name(tmp_path, builtins):
    (tmp_path / "mangled.yaml").write_text("id: [unclosed\n")
    (entry,) = discover([tmp_path], builtins, packs=False)
    assert (entry.id, entry.title, entry.ok) == ("mangled", "mangled.yaml", False)
    assert "YAML syntax" in entry.error


def test_plugins_can_ship_lesson_packs(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "packed.yaml").write_text(lesson_text("- title: From a pack\n").replace("id: sample", "id: packed"))

    class Pack:
        @hookimpl
        def register_lessons(self, register):
            register(LessonSource("my-pack", str(pack), "A pack."))

    registry = PluginHost.load(entry_points=False, extra=[(Pack(), "pack-plugin")]).registry
    (entry,) = discover([], registry)
    assert entry.ok and entry.id == "packed" and entry.source == "pack my-pack"


FOLDER_PLUGIN = '''
import numpy as np
from courseware import Metric, StepKind, hookimpl
from courseware.lessons import Step


class Shout(Step):
    """A custom step kind: text in capitals."""


def parse_shout(raw, fields):
    word = fields.text("word", required=True)
    step = Shout(**fields.common)
    step.text = (word or "").upper()
    return step


@hookimpl
def register_metrics(register):
    register(Metric("double_test_loss", "Twice the test loss.", lambda run: 2 * run.test_loss))


@hookimpl
def register_step_kinds(register):
    register(StepKind("shout", "Capitals.", parse_shout, {"word": "the word to shout"}))
'''


def test_a_lesson_folder_carries_its_own_plugins(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "extras.py").write_text(textwrap.dedent(FOLDER_PLUGIN))
    (tmp_path / "custom.yaml").write_text(lesson_text(
        """
        - kind: shout
          title: Loud
          word: hello
        - title: Measure
          claims:
            - {expect: double_test_loss >= 0, holds_in: every run}
        """
    ))
    host = host_for([tmp_path])
    assert host.failures == []
    (entry,) = discover([tmp_path], host.registry, packs=False)
    assert entry.ok, entry.error
    assert entry.lesson.steps[0].text == "HELLO"
    assert check_lesson(entry.lesson, host.registry, SeedSample.explicit(["0.1", "0.2"])).results[0].passed
    # Without the folder's plugins the same file is broken, with messages naming the unknowns.
    (plain,) = discover([tmp_path], PluginHost.load(entry_points=False).registry, packs=False)
    assert not plain.ok
    assert "unknown value 'shout'" in plain.error and "unknown metric 'double_test_loss'" in plain.error
