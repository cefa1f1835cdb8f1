"""The lesson page's side panel on a bare Bokeh document: widgets driven as the browser drives them.

Each test builds the page the server builds (a full playground with the panel at its left), acts on
the panel's widgets (a click event, a choice, a typed number) and on the playground, runs the work
the server would run between messages (next-tick callbacks, the player's frames), and checks the
panel's models, the walk in the address bar, and the experiment against the engine driven directly.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.events import ButtonClick
from bokeh.server.callbacks import NextTickCallback
from lessonkit import SHIPPED

from courseware.config import Config
from courseware.experiment import Experiment
from courseware.lessons import build_lesson_panel, discover
from courseware.lessons.address import LESSON_SEED, PAGE_KEYS, walk_from_query, walk_query
from courseware.lessons.measure import Members
from courseware.lessons.page import LessonPanel
from courseware.lessons.page import build_lesson_panel as build_panel
from courseware.lessons.walk import WalkState
from courseware.server.page import build_playground

SEED = "0.4242"

LESSON = """\
format: 1
id: page-sample
title: "The page <b>sample</b>"
summary: A lesson that has every step kind.
objectives: [Drive the page]
start:
  dataset: circle
  features: [x, y]
  networkShape: [3]
  activation: tanh
  learningRate: 0.03
controls:
  hidden: [noise, regularization]
  locked: [learningRate, neurons, activation]
steps:
  - title: Welcome
    text: |
      A **bold** start with math $\\max(0, z)$ and $$w \\leftarrow w - \\eta g$$
      <script>alert("text")</script> <img src=x onerror=alert(1)> [a link](javascript:alert(2))
    hints:
      - "First <script>alert('hint')</script>"
      - Second hint.
    answer: "The answer [click](javascript:alert(3))."
  - kind: question
    title: Predict
    question: "Which one? <img src=y onerror=alert(4)>"
    choices:
      - text: Left
        feedback: "No <script>alert(5)</script>."
      - text: Right
        correct: true
        feedback: Yes, right.
  - kind: run
    title: Train
    epochs: 7
  - kind: question
    title: Read it
    question: A number from 1 to 2?
    number: {min: 1, max: 2, too_low: Too small., too_high: Too big., right: Spot on.}
  - kind: change
    title: Wider
    set: {networkShape: [5]}
  - kind: run
    title: Until
    until: test_loss < 0.3
    max_epochs: 60
  - kind: compare
    title: Side by side
    epochs: 12
    variants:
      slow: {learningRate: 0.001}
      fast: {learningRate: 0.1}
      wide: {networkShape: [6]}
  - kind: goal
    title: Your turn
    text: With four neurons, get the test loss below 0.45.
    goal: neurons == 4 and test_loss < 0.45
    hold: 1
    feedback: Well done.
    hints: [Remove a neuron, then press play.]
    controls:
      unlock: [learningRate, neurons]
    solution: {set: {networkShape: [4]}, epochs: 100, holds_in: at least 5% of runs}
  - kind: explore
    title: Free play
    text: Everything is yours.
"""


# -- the page ----------------------------------------------------------------------------------------------


class LessonPage:
    """The lesson page on a bare document, with the browser's and the server's parts played by hand."""

    def __init__(self, registry: Any, folder: Path, lesson_id: str, **query: str) -> None:
        self.registry = registry
        self.folder = folder
        self.doc = Document()
        query.setdefault("lesson", lesson_id)
        arguments = {k: [v.encode()] for k, v in query.items()}
        lesson = next(e.lesson for e in discover([folder], registry) if e.id == lesson_id)
        holder: list[LessonPanel] = []

        def side_panel(session: Any) -> Any:
            holder.append(LessonPanel(session, lesson, arguments))
            return holder[0].root

        self.session = build_playground(self.doc, registry, arguments, side_panel=side_panel, keep_query="lesson")
        self.panel = holder[0]
        self.ticks = 0  # next-tick callbacks run (sliced work)

    # the server's part

    def pump(self, frames: int = 100_000) -> None:
        """Run what the server would run: next-tick callbacks, and player frames while playing."""
        for _ in range(frames):
            pending = [c for c in self.doc.session_callbacks if isinstance(c, NextTickCallback)]
            if pending:
                for callback in pending:
                    self.doc.remove_next_tick_callback(callback)
                    callback.callback()
                    self.ticks += 1
            elif self.session.playing:
                self.session._skip_until = 0.0  # (a slow frame would make the session sit out a while)
                self.session.tick()
            else:
                return

    # the browser's part

    def get(self, name: str) -> Any:
        model = self.doc.select_one({"name": name})
        assert model is not None, f"no model named {name!r}"
        return model

    def click(self, name: str) -> None:
        button = self.get(name)
        assert button.visible and not button.disabled, f"{name} cannot be clicked"
        button._trigger_event(ButtonClick(button))

    def next(self) -> None:
        self.click("lesson-next")
        self.pump()

    def text(self, name: str) -> str:
        return self.get(name).text

    @property
    def walk(self) -> Any:
        return self.panel.walk

    @property
    def experiment(self) -> Experiment:
        return self.session.experiment

    def address(self) -> dict[str, str]:
        """The parameters the address bar shows (the page's walk, then the experiment)."""
        query = self.session.state.page_query + "&" + self.session.state.query
        return dict(pair.split("=", 1) for pair in query.split("&"))

    def reload(self) -> LessonPage:
        """A new page on the address this one shows."""
        address = self.address()
        page = LessonPage(self.registry, self.folder, address.pop("lesson"), **address)
        page.pump()
        return page


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "01-sample.yaml").write_text(LESSON, encoding="utf-8")
    return tmp_path


@pytest.fixture
def open_page(builtins, folder):
    def make(lesson_id: str = "page-sample", where: Path | None = None, **query: str) -> LessonPage:
        query.setdefault(LESSON_SEED, SEED)
        page = LessonPage(builtins, where or folder, lesson_id, **query)
        page.pump()
        return page

    return make


def fresh(config: Config, registry: Any, epochs: int = 0) -> Experiment:
    experiment = Experiment(config, registry)
    experiment.step(epochs)
    return experiment


def same_network(a: Experiment, b: Experiment) -> bool:
    return a.epoch == b.epoch and np.array_equal(a.params.flat, b.params.flat, equal_nan=True)


# -- the panel ---------------------------------------------------------------------------------------------


def test_panel_shows_the_lesson_and_its_first_step(open_page) -> None:
    page = open_page()
    assert "The page &lt;b&gt;sample&lt;/b&gt;" in page.text("lesson-head")  # titles are text, not HTML
    assert "Step 1 of 9" in page.text("lesson-progress") and "width: 11.1%" in page.text("lesson-progress")
    step = page.text("lesson-step")
    assert "<h3>Welcome</h3>" in step and "<strong>bold</strong>" in step
    assert r"\(\max(0, z)\)" in step and r"$$w \leftarrow w - \eta g$$" in step
    assert page.get("lesson-back").disabled and not page.get("lesson-next").disabled
    assert page.address()["step"] == "1" and page.address()[LESSON_SEED] == SEED
    assert page.doc.title == "The page <b>sample</b> · courseware"  # (a title is text to the browser)
    assert 'href="playground?' in page.text("share")  # the experiment's link opens the free playground


def test_no_lesson_text_reaches_the_page_as_html(open_page) -> None:
    page = open_page()
    page.click("lesson-hint")
    page.click("lesson-hint")
    page.click("lesson-reveal")
    shown = [page.text(n) for n in ("lesson-step", "lesson-hints", "lesson-answer")]
    page.next()
    page.panel.choices.active = 0  # the feedback of the wrong choice carries a script tag
    shown += [page.text(n) for n in ("lesson-question", "lesson-feedback")]
    html = "\n".join(shown)
    assert "alert" in html  # the text is there, as text
    assert not re.search(r"<script|<img|href=\"javascript", html, re.IGNORECASE)


def test_a_question_gives_feedback_per_choice_and_unlocks_next(open_page) -> None:
    page = open_page()
    page.next()
    assert page.walk.number == 2
    assert page.get("lesson-choices").visible and page.get("lesson-choices").labels == ["Left", "Right"]
    assert page.get("lesson-next").disabled  # answer first
    page.panel.choices.active = 0
    assert "cw-wrong" in page.text("lesson-feedback") and "No" in page.text("lesson-feedback")
    assert not page.get("lesson-next").disabled  # any answer lets the student go on
    page.panel.choices.active = 1
    assert "cw-right" in page.text("lesson-feedback") and "Yes, right." in page.text("lesson-feedback")
    assert page.address()["answers"] == "2:2"


def test_a_number_question_checks_the_range(open_page) -> None:
    page = open_page(step="4")
    assert page.get("lesson-number-row").visible and not page.get("lesson-choices").visible
    page.get("lesson-number").value = "lots"
    assert "not a number" in page.text("lesson-feedback") and page.get("lesson-next").disabled
    page.get("lesson-number").value = "0.5"
    assert "Too small." in page.text("lesson-feedback")
    page.get("lesson-number").value_input = "1.5"
    page.click("lesson-check")
    assert "cw-right" in page.text("lesson-feedback") and "Spot on." in page.text("lesson-feedback")
    assert page.address()["answers"] == "4:1.5" and not page.get("lesson-next").disabled


def test_hints_come_one_at_a_time_and_the_answer_on_request(open_page) -> None:
    page = open_page()
    assert not page.get("lesson-hints").visible and not page.get("lesson-answer").visible
    page.click("lesson-hint")
    assert "First" in page.text("lesson-hints") and "Second" not in page.text("lesson-hints")
    page.click("lesson-hint")
    assert "Second hint." in page.text("lesson-hints") and page.get("lesson-hint").disabled
    page.click("lesson-reveal")
    assert "The answer" in page.text("lesson-answer") and not page.get("lesson-reveal").visible
    assert page.address()["hints"] == "1:2" and page.address()["revealed"] == "1"


def test_a_run_step_plays_to_its_epochs_then_pauses(open_page) -> None:
    page = open_page()
    page.click("lesson-next")
    page.panel.choices.active = 1
    page.session.set_speed(5)  # the student's speed: frames of 5 epochs must stop at epoch 7, not 10
    page.click("lesson-next")
    assert page.walk.number == 3 and page.session.playing  # the step trains in front of the student
    page.pump()
    assert not page.session.playing and page.experiment.epoch == 7
    assert page.session.speed == 5  # the student's speed is theirs again
    assert "Trained 7 epochs." in page.text("lesson-status")
    assert same_network(page.experiment, fresh(page.walk.config(3), page.registry, 7))
    assert "000,007" in page.get("epoch").text


def test_a_run_can_be_paused_resumed_stopped_and_run_again(open_page) -> None:
    page = open_page(step="2")
    page.panel.choices.active = 1
    page.click("lesson-next")
    page.session.pause()  # the student pauses the step's training
    assert "paused" in page.text("lesson-status") and page.experiment.epoch < 7
    page.session.play()  # and goes on: the run still stops at its epochs
    page.pump()
    assert page.experiment.epoch == 7 and "Trained 7 epochs." in page.text("lesson-status")
    page.click("lesson-rerun")  # the same run from where the step starts
    assert page.session.playing and page.experiment.epoch < 7
    page.session.reset()  # a reset in the middle ends the step's run
    assert "training stopped" in page.text("lesson-status") and not page.session.playing
    page.click("lesson-rerun")
    page.pump()
    assert same_network(page.experiment, fresh(page.walk.config(3), page.registry, 7))


def test_a_change_step_rebuilds_and_a_run_until_stops_where_its_condition_first_holds(open_page) -> None:
    page = open_page(step="5")
    config = page.walk.config(5)
    assert config.networkShape == (5,) and page.experiment.config.networkShape == (5,)
    assert same_network(page.experiment, fresh(config, page.registry))
    assert "New settings: networkShape: [5]" in page.text("lesson-step")
    page.next()
    expected = fresh(config, page.registry)
    while expected.test_loss >= 0.3 and expected.epoch < 60:
        expected.step(1)
    assert same_network(page.experiment, expected) and not page.session.playing
    assert f"Stopped at epoch {expected.epoch}" in page.text("lesson-status")


def test_a_compare_step_trains_its_variants_in_slices(open_page) -> None:
    page = open_page(step="6")
    page.panel.slices.slice_s = 0.0  # every epoch its own callback: the server answers between them
    before = page.ticks
    lesson_experiment = page.experiment.params.flat.copy(), page.experiment.epoch
    page.next()
    assert page.walk.number == 7 and page.ticks - before >= 12
    assert page.get("lesson-compare-view").visible
    test = page.get("lesson-compare").renderers[0].data_source.data
    assert test["name"] == ["slow", "fast", "wide"]
    variants = page.walk.step.variants(page.walk.config(7), page.registry)
    members = Members(list(variants.values()), page.registry)
    members.step(12)
    for batch, indices in members.groups:
        _, losses = batch.losses()
        for column, index in enumerate(indices):
            np.testing.assert_allclose(test["ys"][index], losses[:, column].astype(np.float32))
    legend = page.text("lesson-compare-legend")
    assert "Loss after 12 epochs" in legend and legend.count("cw-variant-final") == 3
    # the lesson's own experiment is left as it was
    assert page.experiment.epoch == lesson_experiment[1]
    np.testing.assert_array_equal(page.experiment.params.flat, lesson_experiment[0])


def test_a_goal_is_checked_on_every_frame_and_reaching_it_shows(open_page) -> None:
    page = open_page(step="8")
    assert page.walk.number == 8 and "Goal:" in page.text("lesson-goal")
    assert "Goal reached" not in page.text("lesson-goal") and page.get("lesson-next").disabled
    assert "neurons <b>5</b>" in page.text("lesson-goal")  # the goal's metrics, measured live
    page.session.request("remove_neuron", layer=1)  # the diagram's - button: unlocked here
    assert page.experiment.config.networkShape == (4,) and not page.walk.done
    page.session.play()
    for _ in range(300):
        page.session._skip_until = 0.0
        page.session.tick()
        if page.walk.done:
            break
    page.session.pause()
    history = page.experiment.history.test
    assert history[-1] < 0.45 <= history[-2]  # noticed on the very frame (one epoch each) it held
    assert "✓ Goal reached!" in page.text("lesson-goal") and "Well done." in page.text("lesson-goal")
    assert not page.get("lesson-next").disabled and page.address()["reached"] == "8"
    page.session.request("add_neuron", layer=1)  # once reached, a goal stays reached
    assert page.walk.done and "Goal reached" in page.text("lesson-goal")


def test_controls_are_hidden_and_locked_as_the_lesson_says(open_page) -> None:
    page = open_page()
    session = page.session
    assert not page.get("noise").visible and not page.get("regularization").visible  # hidden
    assert page.get("learningRate").visible and page.get("learningRate").disabled  # locked
    assert page.get("activation").disabled and not page.get("batchSize").disabled
    assert {"learningRate", "neurons", "activation"} <= session.locked
    assert page.address().get("noise_hide") == "true"  # hidden, in the Playground's own words
    shape = page.experiment.config.networkShape
    session.request("add_neuron", layer=1)  # the diagram's + button, refused while locked
    assert page.experiment.config.networkShape == shape
    network = next(p.panel for p in session.panels if p.component.name == "network")
    assert network.buttons.data["action"] == []  # and not drawn
    page.panel.open(8)  # the goal step unlocks the learning rate and the neurons
    page.pump()
    assert not page.get("learningRate").disabled and page.get("activation").disabled
    assert "add_neuron" in network.buttons.data["action"]
    page.get("learningRate").value = "0.1"
    assert page.experiment.config.learningRate == 0.1
    page.panel.open(9)  # explore: everything unlocked
    page.pump()
    assert session.locked == frozenset() and not page.get("activation").disabled
    session.request("add_neuron", layer=1)
    assert page.experiment.config.networkShape == (6,)


def test_reloading_returns_to_the_same_step_with_the_same_experiment(open_page) -> None:
    page = open_page()
    page.click("lesson-hint")
    page.next()
    page.panel.choices.active = 1
    page.next()  # the run step trains 7 epochs
    page.next()
    page.get("lesson-number").value = "1.2"
    assert page.walk.number == 4 and page.experiment.epoch == 7
    again = page.reload()
    assert again.walk.state == page.walk.state
    assert again.walk.number == 4 and "Read it" in again.text("lesson-step")
    assert again.get("lesson-number").value == "1.2" and "Spot on." in again.text("lesson-feedback")
    assert same_network(again.experiment, page.experiment)  # rebuilt and replayed to epoch 7
    assert not again.session.notices.items  # nothing in the address went unused


def test_a_reload_at_a_goal_keeps_the_students_own_settings(open_page) -> None:
    page = open_page(step="8")
    page.get("learningRate").value = "0.1"
    again = page.reload()
    assert again.walk.number == 8 and again.experiment.config.learningRate == 0.1
    assert again.experiment.epoch == 0


def test_back_reopens_the_previous_step_where_it_starts(open_page) -> None:
    page = open_page(step="3")
    assert page.experiment.epoch == 7
    page.next()
    page.session.step()  # the student trains on during the question
    page.click("lesson-back")
    assert page.walk.number == 3 and page.session.playing
    page.pump()
    assert same_network(page.experiment, fresh(page.walk.config(3), page.registry, 7))


def test_a_replay_is_sliced_and_a_closed_tab_stops_it(open_page) -> None:
    page = open_page(step="3")
    page.session.step()  # the experiment no longer stands where step 3 left it: step 4 replays
    page.panel.slices.slice_s = 0.0
    page.panel.open(4)
    assert page.panel.slices.busy and "Preparing the experiment" in page.text("lesson-status")
    assert page.experiment.epoch < 7
    page.pump()
    assert page.experiment.epoch == 7 and page.text("lesson-status") == ""
    page.session.step()
    page.panel.open(4)
    assert page.panel.slices.busy
    page.session.destroy()  # the tab closes while the replay is queued
    page.pump()  # the queued slices find nothing to do, and fail at nothing
    assert not page.panel.slices.busy and "lesson" not in page.session.notices.items


def test_the_last_step_says_the_lesson_is_finished(open_page) -> None:
    page = open_page(step="9")
    assert not page.get("lesson-next").visible and page.get("lesson-end").visible
    assert "finished this lesson" in page.text("lesson-end")


def test_bad_address_parameters_become_one_notice(open_page) -> None:
    page = open_page(step="99", answers="2:7", learningRate="fast")
    assert page.walk.number == 1 and page.walk.state.answers == {}
    notice = page.session.notices.items["url"]
    assert "step 99" in notice and "answer for step 2" in notice and "learningRate" in notice
    assert "lessonSeed" not in notice and "lesson=" not in notice  # the page's own parameters are known


def test_the_address_keeps_walk_and_experiment_apart(builtins, folder) -> None:
    lesson = next(e.lesson for e in discover([folder], builtins))
    state = WalkState(lesson.id, step=3, seed="0.5", answers={2: "2"}, hints={1: 1})
    query = walk_query(state)
    assert query == "lesson=page-sample&step=3&lessonSeed=0.5&answers=2:2&hints=1:1"
    playground = set(Config.from_query("", builtins)[0].to_query(builtins).replace("&", "=").split("=")[::2])
    assert not playground & set(PAGE_KEYS)
    back, notices = walk_from_query(dict(p.split("=") for p in query.split("&")) | {"seed": "0.9"}, lesson)
    assert back == state and notices == []
    seeded, _ = walk_from_query({"seed": "0.9"}, lesson)  # a hand-made link's experiment seed seeds the walk
    assert seeded.seed == "0.9"


def test_unknown_and_broken_lessons(builtins, folder, tmp_path_factory) -> None:
    doc = Document()
    session = build_playground(doc, builtins, {})
    with pytest.raises(LookupError):
        build_panel(session, "no-such-lesson", [folder], arguments={})
    broken = tmp_path_factory.mktemp("broken")
    (broken / "bad.yaml").write_text(LESSON.replace("epochs: 7", "epochs: seven"), encoding="utf-8")
    panel = build_panel(session, "page-sample", [broken], arguments={})
    assert panel.name == "lesson-broken" and "cannot be opened" in panel.text and "seven" in panel.text


def test_the_seam_finds_the_panel(builtins, folder) -> None:
    doc = Document()
    session = build_playground(doc, builtins, {}, side_panel=lambda s: build_lesson_panel(s, "page-sample", [folder]),
                               keep_query="lesson")  # fmt: skip
    assert doc.select_one({"name": "lesson-panel"}) is not None
    assert session.state.page_query.startswith("lesson=page-sample&step=1&lessonSeed=")


def reaching_seed(lesson: Any, registry: Any) -> str:
    """The first of ``check``'s seeds in which every goal's solution reaches its goal, by the engine."""
    for seed in map(str, range(1, 21)):
        if all(solution_reaches(lesson, step, seed, registry) for step in lesson.steps if step.goal is not None):
            return seed
    raise AssertionError(f"no seed of 1 to 20 lets every solution of {lesson.id} reach its goal")


def solution_reaches(lesson: Any, step: Any, seed: str, registry: Any) -> bool:
    subject = step.solution(lesson.state(step.number, seed), registry)
    members = Members([subject.variants[0][1]], registry)
    *warmup, last = subject.plans
    members.step(sum(p.epochs for p in warmup))
    measured, _ = members.run_until(last.until, last.max_epochs).parts[0]
    return bool(measured.reached[0] == 1)


@pytest.fixture(scope="module")
def shipped_registry() -> Any:
    """The built-ins and the shipped folder's data/ files, as ``courseware serve lessons/`` loads them."""
    from courseware.lessons.catalog import host_for

    return host_for([SHIPPED]).registry


@pytest.mark.parametrize("file", [p.name for p in sorted(SHIPPED.glob("*.yaml"))])
def test_every_shipped_lesson_can_be_followed_to_its_end(shipped_registry, file) -> None:
    builtins = shipped_registry
    entry = next(e for e in discover([SHIPPED], builtins) if Path(e.path).name == file)
    page = LessonPage(builtins, SHIPPED, entry.id, **{LESSON_SEED: reaching_seed(entry.lesson, builtins)})
    page.pump()
    while True:
        step = page.walk.step
        assert "failed" not in " ".join(page.session.notices.items.values())
        if step.task == "answer":
            response = step.correct_response()
            if page.get("lesson-choices").visible:
                page.panel.choices.active = response - 1
            else:
                page.get("lesson-number").value = str(response)
            assert "cw-right" in page.text("lesson-feedback")
        if step.goal is not None and not page.walk.done:
            # the student sets the solution up as check does (a fresh network of the lesson's seed), plays
            subject = step.solution(page.walk.setup(), builtins)
            page.session.load(replace(subject.variants[0][1], hidden=page.experiment.config.hidden))
            page.session.play()
            while not page.walk.done and page.experiment.epoch <= subject.plans[-1].max_epochs:
                page.session._skip_until = 0.0
                page.session.tick()
            page.session.pause()
            assert "Goal reached" in page.text("lesson-goal")
        if page.walk.at_end:
            break
        page.next()
    assert page.get("lesson-end").visible
