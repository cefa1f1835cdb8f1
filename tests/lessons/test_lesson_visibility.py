"""A lesson never hides what it speaks of (where that can be decided), and never names a command to a
student: the loader reports each case on its step."""

from __future__ import annotations

import pytest

from courseware.lessons import LessonErrors


def errors_of(load, steps: str) -> str:
    with pytest.raises(LessonErrors) as caught:
        load(steps)
    return str(caught.value)


def test_a_claim_or_a_stopping_condition_may_not_read_a_hidden_control(load) -> None:
    message = errors_of(load, """
        - kind: run
          title: Train
          epochs: 10
          controls: {hide: [learningRate]}
          claims:
            - {expect: learning_rate < 0.1, holds_in: every run}
        - kind: run
          title: Until
          until: train_ratio > 40
          max_epochs: 5
          controls: {hide: [percTrainData]}
    """)
    assert "step 1 (Train)" in message and "this claim reads learning rate" in message
    assert "step 2 (Until)" in message and "stopping condition reads ratio of training data" in message


def test_a_numeric_question_may_not_measure_a_hidden_quantity(load) -> None:
    message = errors_of(load, """
        - kind: question
          title: Read it
          question: What is the batch size?
          number: {min: 1, max: 30, measures: batch_size, holds_in: every run}
          controls: {hide: [batchSize]}
    """)
    assert "the question's answer reads batch size" in message


def test_a_goal_must_be_reachable_with_the_controls_its_step_leaves(load) -> None:
    message = errors_of(load, """
        - kind: goal
          title: Reach
          goal: test_loss < 0.2
          controls: {hide: [playButton, stepButton], lock: [learningRate]}
          solution: {set: {learningRate: 0.3, networkShape: [4, 2]}, epochs: 100, holds_in: at least 50% of runs}
    """)
    assert "must show the play or the step button" in message
    assert "changes what learningRate sets, but this step locks it" in message
    assert "numHiddenLayers" not in message  # the lesson left it free
    fine = load("""
        - kind: goal
          title: Reach
          goal: test_loss < 0.2
          controls: {lock: [numHiddenLayers]}
          solution: {set: {networkShape: [5]}, epochs: 100, holds_in: at least 50% of runs}
    """)
    assert fine.steps[0].goal is not None  # one layer stays one layer: only the neurons change


def test_text_a_student_reads_never_names_a_command(load) -> None:
    message = errors_of(load, """
        - title: The end
          text: Well done.
          hints: ["Every number here was proven by `courseware check` over many seeds."]
    """)
    assert "step 1 (The end)" in message and "courseware check" in message
    load("""
        - title: The end
          text: This lesson was written with courseware.
    """)  # the name alone is no command
