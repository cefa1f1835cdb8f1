"""Lessons on the features of issue 13: raised limits, more classes, optimizers, data files."""

from __future__ import annotations

import numpy as np
import pytest
from lessonkit import lesson_text

from courseware.lessons import LessonErrors, SeedSample, load_lesson_text
from courseware.lessons.catalog import lesson_files
from courseware.lessons.checker import check_lesson
from courseware.lessons.loader import load_lesson
from courseware.plugins import PluginHost

BIG = """\
format: 1
id: big
title: Big
summary: Bigger networks.
objectives: [Train bigger networks]
limits: {layers: 8, neurons: 16, batchSize: 100}
start:
  networkShape: [16, 16]
  batchSize: 100
"""


def test_a_lesson_may_raise_the_limits_within_the_hard_ones(builtins):
    lesson = load_lesson_text(lesson_text("""
        - kind: change
          title: Deeper
          set: {networkShape: [16, 16, 16, 16, 16, 16, 16, 16]}
        - kind: compare
          title: Sizes
          epochs: 2
          variants:
            small: {networkShape: [2]}
            huge: {networkShape: [16, 16, 16]}
        """, BIG), "big.yaml", builtins)  # fmt: skip
    assert lesson.limits.max_neurons == 16 and lesson.start.limits.max_hidden_layers == 8
    assert lesson.states[0].config.networkShape == (16,) * 8
    assert lesson.states[1].config.limits == lesson.limits, "every configuration of the lesson carries its limits"


def test_limits_beyond_the_hard_ones_or_unraised_are_located_errors(builtins):
    with pytest.raises(LessonErrors) as info:
        load_lesson_text(lesson_text("- {title: Read, text: Text.}", BIG.replace("neurons: 16", "neurons: 32")),
                         "big.yaml", builtins)  # fmt: skip
    assert "big.yaml:6: limits.neurons: 32 is out of range: use 1 to 16" in str(info.value)
    plain = BIG.replace("limits: {layers: 8, neurons: 16, batchSize: 100}\n", "")
    with pytest.raises(LessonErrors) as info:
        load_lesson_text(lesson_text("- {title: Read, text: Text.}", plain), "big.yaml", builtins)
    assert "start.networkShape: a layer of 16 neurons is more than the limit of 8" in str(info.value)
    assert "start.batchSize: 100 is out of range; use a whole number from 1 to 30" in str(info.value)


THREE = """\
format: 1
id: three
title: Three
summary: Three classes.
objectives: [Classify three classes]
start:
  dataset: blobs-3
  networkShape: [4]
"""


def test_per_class_metrics_and_mixed_output_layers_in_one_check(builtins):
    """A compare step whose variants have different output layers (three classes, two) trains them in
    separate cohorts; the per-class metric and the number of classes are measured."""
    lesson = load_lesson_text(lesson_text("""
        - kind: compare
          title: Three and two
          epochs: 20
          variants:
            blobs: {}
            circle: {dataset: circle}
          claims:
            - expect: classes[blobs] == 3 and classes[circle] == 2
              holds_in: every run
            - expect: test_worst_class_accuracy[blobs] >= 0.9
              holds_in: at least 50% of runs
            - expect: test_worst_class_accuracy[blobs] <= test_accuracy[blobs]
              holds_in: every run
        """, THREE), "three.yaml", builtins)  # fmt: skip
    report = check_lesson(lesson, builtins, SeedSample.random(240, key="3c1a55"), runs=10)
    assert [r.passed for r in report.results] == [True, True, True], [r.verdict() for r in report.results]


def test_optimizer_is_a_name_metric(builtins):
    lesson = load_lesson_text(lesson_text("""
        - kind: compare
          title: Optimizers
          epochs: 5
          variants:
            plain: {}
            adam: {optimizer: adam, learningRate: 0.01}
          claims:
            - expect: optimizer[adam] == "adam" and optimizer[plain] == "sgd"
              holds_in: every run
        """, THREE), "three.yaml", builtins)  # fmt: skip
    report = check_lesson(lesson, builtins, SeedSample.random(240, key="0971"), runs=10)
    assert report.results[0].passed
    with pytest.raises(LessonErrors, match="rmsprop"):
        load_lesson_text(lesson_text("""
            - kind: goal
              title: Go
              text: Go.
              goal: optimizer == "rmsprop"
              solution: {epochs: 1, holds_in: every run}
            """, THREE), "three.yaml", builtins)  # fmt: skip


def test_a_lesson_names_a_data_file_of_its_folder(tmp_path):
    folder = tmp_path / "course"
    (folder / "data").mkdir(parents=True)
    rows = "\n".join(f"{x},{y},{'left' if x < 0 else 'right'}" for x in range(-5, 6) for y in range(-5, 6) if x)
    (folder / "data" / "halves.csv").write_text("x,y,label\n" + rows + "\n")
    (folder / "01-halves.yaml").write_text(lesson_text("""
        - kind: run
          title: Train
          epochs: 30
          claims:
            - expect: test_accuracy > 0.9
              holds_in: at least 80% of runs
        """, THREE.replace("blobs-3", "halves")))  # fmt: skip
    registry = PluginHost.load([folder], entry_points=False).registry
    (path,) = lesson_files(folder)
    lesson = load_lesson(path, registry)
    assert lesson.start.dataset == "halves"
    report = check_lesson(lesson, registry, SeedSample.random(240, key="da7a"), runs=10)
    assert report.results[0].passed, report.results[0].verdict()
    held = report.results[0]
    assert held.runs == 10
    without = PluginHost.load(entry_points=False).registry
    with pytest.raises(LessonErrors, match="start.dataset: 'halves' is not one of circle"):
        load_lesson(path, without)


def test_drawn_points_in_a_lesson(builtins):
    lesson = load_lesson_text(lesson_text("""
        - kind: run
          title: Train
          epochs: 3
        """, THREE.replace("  dataset: blobs-3\n", "  points: [[1, 1, 0], [2, 2, 0], [-1, -1, 1], [-2, -1, 1]]\n")),
        "drawn.yaml", builtins)  # fmt: skip
    assert len(lesson.start.points) == 4
    assert np.array_equal(lesson.start.output_layer(builtins).nodes, 1)
