"""Loading valid lessons: metadata, configuration, controls, steps and the replayed experiment."""

from __future__ import annotations

import pytest

from courseware.lessons import LessonErrors, load_lesson_text

from lessonkit import HEADER


def test_metadata_and_start(load):
    lesson = load("- title: Hello\n  text: Hi\n")
    assert (lesson.id, lesson.title, lesson.summary, lesson.objectives) == (
        "sample", "Sample", "A sample lesson.", ("Test things",)
    )
    assert lesson.level == "beginner" and lesson.minutes is None and lesson.fixed_seed is None
    assert lesson.start.dataset == "circle"
    assert lesson.start.networkShape == (4,)
    assert lesson.start.activation == "relu"
    assert [s.kind for s in lesson.steps] == ["text"]


def test_a_regression_dataset_sets_its_own_field_and_problem(builtins):
    header = HEADER.replace("dataset: circle", "dataset: reg-gauss")
    lesson = load_lesson_text(header + "steps:\n  - title: A\n", "x.yaml", builtins)
    assert lesson.start.problem == "regression"
    assert lesson.start.regDataset == "reg-gauss"
    assert lesson.start.dataset == "circle"  # the classification field keeps its default


def test_a_fixed_seed_is_the_lesson_seed(builtins):
    header = HEADER.replace("start:\n", "start:\n  seed: '0.12345'\n")
    lesson = load_lesson_text(header + "steps:\n  - title: A\n", "x.yaml", builtins)
    assert lesson.fixed_seed == "0.12345"
    assert lesson.state(1).config.seed == "0.12345"


def test_changes_carry_forward_and_restart_the_experiment(load):
    lesson = load(
        """
        - kind: run
          title: Train
          epochs: 10
        - kind: run
          title: More
          epochs: 5
        - kind: change
          title: Bigger
          set: {networkShape: [8]}
        - title: Look
        """
    )
    states = lesson.states
    assert [s.restart for s in states] == [True, False, True, False]
    assert [s.config.networkShape for s in states] == [(4,), (4,), (8,), (8,)]
    assert [tuple(p.epochs for p in s.replay) for s in states] == [(), (10,), (), ()]
    assert lesson.steps[0].plan.epochs == 10


def test_after_a_goal_or_explore_the_experiment_restarts(load):
    lesson = load(
        """
        - kind: run
          title: Train
          epochs: 10
        - kind: explore
          title: Play
          text: Play freely.
        - title: Back
        """
    )
    assert [s.restart for s in lesson.states] == [True, False, True]
    assert lesson.states[2].replay == ()


def test_controls_per_step(load):
    header = HEADER + "controls:\n  hidden: [noise, batchSize]\n  locked: [activation, dataset]\n"
    lesson = load(
        """
        - title: Read
        - title: Try
          controls: {unlock: [activation], hide: [percTrainData], show: [noise]}
        - kind: explore
          title: Free
          text: Anything.
        """,
        header,
    )
    read, try_, free = (s.controls for s in lesson.states)
    assert read.hidden == {"noise", "batchSize"} and read.locked == {"activation", "dataset"}
    assert try_.hidden == {"batchSize", "percTrainData"} and try_.locked == {"dataset"}
    assert free.locked == frozenset() and free.hidden == {"noise", "batchSize"}


def test_all_means_every_control(load, builtins):
    from courseware.lessons import control_names

    lesson = load("- title: A\n", HEADER + "controls:\n  locked: [all]\n")
    assert lesson.controls.locked == set(control_names(builtins))


def test_every_error_in_a_file_is_reported_at_once(builtins):
    steps = "".join(f"  - kind: run\n    title: Step {i}\n    epochs: -{i}\n" for i in range(1, 8))
    with pytest.raises(LessonErrors) as info:
        load_lesson_text(HEADER + "steps:\n" + steps, "many.yaml", builtins)
    assert [e.step for e in info.value.errors] == list(range(1, 8))
    assert all(e.field == "epochs" for e in info.value.errors)


def test_step_kinds_parse_their_fields(load, builtins):
    lesson = load(
        """
        - kind: question
          title: Q
          question: Which?
          choices:
            - {text: a}
            - {text: b, correct: true, feedback: Yes.}
        - kind: question
          title: N
          question: How much?
          number: {min: 0.1, max: 0.2, too_low: Low., too_high: High.}
        - kind: goal
          title: G
          goal: test_loss < 0.1
          solution: {epochs: 100, holds_in: at least 90% of runs}
        - kind: compare
          title: C
          epochs: 20
          variants:
            ReLU: {activation: relu}
            tanh: {activation: tanh}
        - kind: run
          title: U
          until: test_loss < 0.1
          max_epochs: 50
        """
    )
    q, n, g, c, u = lesson.steps
    assert q.respond(2).correct is True and q.respond(2).message == "Yes."
    assert q.respond("1").correct is False
    assert n.respond(0.15).correct is True
    assert n.respond(0.05).message == "Low." and n.respond(0.3).message == "High."
    with pytest.raises(ValueError):
        q.respond(3)
    assert g.task == "reach" and str(g.goal) == "test_loss < 0.1"
    assert list(c.variants(lesson.states[3].config, builtins)) == ["ReLU", "tanh"]
    assert u.plan.until is not None and u.plan.max_epochs == 50
    assert q.payload() == {"question": "Which?", "type": "choice", "choices": ["a", "b"]}

