"""A student's walk through a lesson: state in the URL, responses, hints, goals checked live."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lessonkit import SHIPPED

from courseware.experiment import Experiment
from courseware.lessons import Measurements, SeedSample, load_lesson
from courseware.lessons.walk import Walk, WalkState

STEPS = """
- title: Intro
  hints: [First hint., Second hint.]
  answer: The answer.
- kind: question
  title: Q
  question: Which?
  choices:
    - {text: a, feedback: No.}
    - {text: b, correct: true, feedback: Yes.}
- kind: question
  title: N
  question: How much?
  number: {min: 1, max: 2}
- kind: goal
  title: G
  goal: epoch >= 3 and test_loss < 0.45
  feedback: Done.
  controls: {unlock: [neurons]}
  solution: {epochs: 50, holds_in: at least 70% of runs}
- kind: explore
  title: E
  text: Play.
"""


@pytest.fixture
def lesson(load):
    from lessonkit import HEADER

    return load(STEPS, HEADER + "controls:\n  locked: [neurons, activation]\n")


def test_responses_hints_and_reveals_are_recorded(lesson, builtins):
    walk = Walk(lesson, None, builtins)
    assert walk.number == 1 and walk.done
    assert walk.show_hint() == "First hint."
    assert walk.show_hint() == "Second hint."
    assert walk.show_hint() is None
    assert walk.reveal() == "The answer."
    walk.next()
    assert not walk.done
    assert walk.respond(1).correct is False
    feedback = walk.respond(2)
    assert (feedback.correct, feedback.message) == (True, "Yes.")
    assert walk.done and walk.state.answers == {2: "2"}
    walk.next()
    assert walk.respond("1.5").correct is True
    with pytest.raises(ValueError):
        walk.respond("lots")


def test_the_state_round_trips_through_the_url(lesson, builtins):
    walk = Walk(lesson, WalkState(lesson.id, seed="0.52213"), builtins)
    walk.show_hint()
    walk.reveal()
    walk.go(2)
    walk.respond(2)
    walk.go(3)
    walk.respond(1.25)
    walk.go(4)
    walk.state.reached.add(4)
    query = walk.state.to_query()
    assert query == "lesson=sample&step=4&seed=0.52213&answers=2:2,3:1.25&hints=1:1&revealed=1&reached=4"
    state, notices = WalkState.from_query(query, lesson)
    assert notices == []
    assert state == walk.state


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    step=st.integers(1, 5),
    choice=st.none() | st.integers(1, 2),
    number=st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    hints=st.integers(0, 2),
    revealed=st.booleans(),
    seed=st.text(alphabet="0123456789.abc", min_size=1, max_size=10),
)
def test_any_valid_state_round_trips(lesson, step, choice, number, hints, revealed, seed):
    state = WalkState(lesson.id, step=step, seed=seed)
    if choice is not None:
        state.answers[2] = str(choice)
    if number is not None:
        state.answers[3] = repr(number)
    if hints:
        state.hints[1] = hints
    if revealed:
        state.revealed.add(1)
    back, notices = WalkState.from_query(state.to_query(), lesson)
    assert notices == [] and back == state


def test_invalid_parameters_are_dropped_with_notices(lesson):
    query = "lesson=other&step=99&answers=2:7,3:x,9:1,junk&hints=1:5&revealed=2,x&reached=1"
    state, notices = WalkState.from_query(query, lesson)
    assert state == WalkState(lesson.id)
    assert notices == [
        "ignored lesson='other': this is lesson 'sample'",
        "ignored step 99: the lesson has steps 1 to 5",
        "ignored answers item 'junk': expected STEP:VALUE",
        "ignored the answer for step 2: '7' is not a choice from 1 to 2",
        "ignored the answer for step 3: 'x' is not a number",
        "ignored answer for step 9: the lesson has steps 1 to 5",
        "ignored hints for step 1: it has 2 hints",
        "ignored revealed step 2: it has no answer to reveal",
        "ignored revealed step 'x': not a step number",
        "ignored reached step 1: it has no goal",
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["lesson", "step", "seed", "answers", "hints", "revealed", "reached", "x"]),
                       st.text(max_size=20)))
def test_junk_parameters_never_raise(lesson, params):
    state, notices = WalkState.from_query(params, lesson)
    assert 1 <= state.step <= len(lesson.steps)
    assert isinstance(notices, list)


def test_controls_and_experiment_setup_per_step(lesson, builtins):
    walk = Walk(lesson, None, builtins)
    assert walk.controls().locked == {"neurons", "activation"}
    walk.go(4)
    assert walk.controls().locked == {"activation"}
    walk.go(5)
    assert walk.controls().locked == frozenset()
    assert walk.setup(5).restart  # after a goal, the lesson's experiment is rebuilt
    assert walk.config().seed == walk.state.seed


def test_a_goal_is_checked_on_the_live_experiment(lesson, builtins):
    walk = Walk(lesson, WalkState(lesson.id, seed="1"), builtins)
    walk.go(4)
    experiment = Experiment(walk.config(), builtins)
    assert walk.check_goal(Measurements.of_experiment(experiment)).correct is False
    assert not walk.done
    for _ in range(50):
        experiment.step(1)
        if walk.check_goal(Measurements.of_experiment(experiment)).correct:
            break
    assert walk.done and 4 in walk.state.reached
    assert experiment.epoch >= 3 and experiment.test_loss < 0.45
    experiment.reset()  # the goal stays reached
    assert walk.check_goal(Measurements.of_experiment(experiment)).message == "Done."


def test_the_view_is_json_and_hides_answers(lesson, builtins):
    walk = Walk(lesson, None, builtins)
    walk.go(2)
    view = walk.view()
    json.dumps(view)
    assert view["number"] == 2 and view["total"] == 5
    assert view["step"]["payload"] == {"question": "Which?", "type": "choice", "choices": ["a", "b"]}
    assert "correct" not in json.dumps(view["step"])
    assert view["feedback"] is None
    walk.respond(2)
    assert walk.view()["feedback"] == {"correct": True, "message": "Yes."}
    walk.go(1)
    assert walk.view()["answer"] is None
    walk.reveal()
    assert walk.view()["answer"] == "The answer."


def test_a_shipped_lesson_can_be_followed_to_the_end(builtins):
    """What the browser test will do, headless: answer every question, reach every goal."""
    lesson = load_lesson(SHIPPED / "02-more-neurons.yaml", builtins)
    for seed in SeedSample.random(20, key="3a1").seeds:  # the goal's solution holds in most seeds; find one
        walk = Walk(lesson, WalkState(lesson.id, seed=seed), builtins)
        experiment = None
        reached_all = True
        for step in lesson.steps:
            walk.go(step.number)
            setup = walk.setup()
            if setup.restart or experiment is None:
                experiment = Experiment(setup.config, builtins)
            if step.plan is not None:
                experiment.step(step.plan.epochs)
            if step.task == "answer":
                assert walk.respond(step.correct_response()).correct
            if step.task == "reach":
                solution = step.solution(setup, builtins)
                experiment = Experiment(solution.variants[0][1], builtins)
                assert experiment.config.seed == seed
                for _ in range(solution.plans[-1].max_epochs):
                    if walk.check_goal(Measurements.of_experiment(experiment)).correct:
                        break
                    experiment.step(1)
                reached_all = reached_all and walk.done
            assert walk.done or not reached_all
        if reached_all:
            break
    assert walk.at_end and walk.done
    assert set(walk.state.answers) == {s.number for s in lesson.steps if s.task == "answer"}
