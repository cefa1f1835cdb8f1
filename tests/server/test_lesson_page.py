"""The lesson page on a bare Bokeh document: widgets driven as the browser drives them.

Each test builds the page the server builds (a compact playground with the lesson panel at its left),
acts on the panel's widgets (a click event, a choice, a typed number) and on the playground, runs the
work the server would run between messages (next-tick callbacks, the player's frames), and checks the
panel's models, the walk in the address bar, and the experiment against the engine driven directly.
The page's clock is a :class:`~waiting.ManualClock`: frames never run over budget, and throttled
redraws happen exactly when a test moves the clock.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bokeh.document import Document
from bokeh.events import ButtonClick
from bokeh.models import Div
from bokeh.server.callbacks import NextTickCallback
from lessonwalk import internal_names, reaching_seed
from waiting import ManualClock

from courseware.config import Config
from courseware.experiment import Experiment
from courseware.lessons import GoalState, discover
from courseware.lessons.address import LESSON_SEED, PAGE_KEYS, walk_from_query, walk_query
from courseware.lessons.measure import Members
from courseware.lessons.walk import WalkState
from courseware.plugins import PluginHost, Registry
from courseware.server import lessonviews as views
from courseware.server.lessonpage import LessonPanel, build_lesson_panel
from courseware.server.page import build_playground

SEED = "0.4242"
SHIPPED = Path(__file__).resolve().parents[2] / "lessons"
DONE_UP_TO_8 = {"answers": "2:2,4:1.5"}  # the questions before step 8, answered
DONE_UP_TO_10 = {"answers": "2:2,4:1.5", "reached": "8"}

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
  hidden: [noise, regularization, percTrainData]
  locked: [learningRate, neurons, activation]
steps:
  - title: Welcome
    text: |
      A **bold** start with math $\\max(0, z)$ and $$w \\leftarrow w - \\eta g$$
      <script>alert("text")</script> <img src=x onerror=alert(1)> [a link](javascript:alert(2))

      A second paragraph about the test loss.
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
  - kind: goal
    title: Again
    text: Keep the test loss below 0.4 for three epochs.
    goal: test_loss < 0.4
    hold: 3
    controls:
      unlock: [learningRate]
    solution: {set: {learningRate: 0.1}, epochs: 200, holds_in: at least 5% of runs}
  - title: The end
    text: That was all.
"""

# -- the page ----------------------------------------------------------------------------------------------


class LessonPage:
    """The lesson page on a bare document, with the browser's and the server's parts played by hand."""

    def __init__(self, registry: Any, folder: Path, lesson_id: str, **query: str) -> None:
        self.registry = registry
        self.folder = folder
        self.doc = Document()
        self.clock = ManualClock()
        query.setdefault("lesson", lesson_id)
        arguments = {k: [v.encode()] for k, v in query.items()}
        entries = discover([folder], registry)
        entry = next(e for e in entries if e.id == lesson_id)
        following = [e for e in entries if e.ok and e is not entry]
        holder: list[LessonPanel] = []

        def side_panel(session: Any) -> Any:
            next_lesson = (following[0].id, following[0].title) if following else None
            holder.append(LessonPanel(session, entry.lesson, arguments, next_lesson=next_lesson))
            return holder[0].root

        self.session = build_playground(self.doc, registry, arguments, side_panel=side_panel, keep_query="lesson",
                                        compact=True, clock=self.clock)  # fmt: skip
        self.panel = holder[0]
        self.ticks = 0  # next-tick callbacks run (sliced work)

    # the server's part

    def pump(self, frames: int = 100_000) -> None:
        """Run what the server would run: next-tick callbacks, and player frames while playing (the
        clock moves on a second after each frame, so nothing is throttled)."""
        for _ in range(frames):
            pending = [c for c in self.doc.session_callbacks if isinstance(c, NextTickCallback)]
            if pending:
                for callback in pending:
                    self.doc.remove_next_tick_callback(callback)
                    callback.callback()
                    self.ticks += 1
            elif self.session.playing:
                self.session.tick()
                self.clock.advance(1.0)
            else:
                return

    def play_until(self, done: Any, limit: int) -> None:
        """Press play and run frames until ``done()`` or ``limit`` frames, then pause."""
        self.session.play()
        for _ in range(limit):
            if done():
                break
            self.clock.advance(1.0)
            self.session.tick()
        self.session.pause()

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

    def words(self, name: str) -> str:
        """What a student reads in the Div ``name``: its text without tags, entities resolved."""
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", self.text(name))).split()).replace(" .", ".")

    def shown_text(self) -> str:
        """Every visible Div's text on the page, tags removed (what a student can read)."""
        texts = [d.text for d in self.doc.select({"type": Div}) if d.visible]
        return html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(texts)))

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


@pytest.fixture(scope="module")
def builtins() -> Registry:
    """Only the built-in plugins, so installed third-party plugins cannot change the results."""
    return PluginHost.load(entry_points=False).registry


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
    assert "Step 1 of 11" in page.text("lesson-progress") and "width: 9.1%" in page.text("lesson-progress")
    step = page.text("lesson-step")
    assert "<h3>Welcome</h3>" in step and "<strong>bold</strong>" in step
    assert r"\(\max(0, z)\)" in step and r"$$w \leftarrow w - \eta g$$" in step
    assert step.count("<p>") == 2  # the text's paragraphs stay paragraphs
    assert page.get("lesson-back").disabled and not page.get("lesson-next").disabled
    assert page.address()["step"] == "1" and page.address()[LESSON_SEED] == SEED
    assert page.doc.title == "The page <b>sample</b> · courseware"  # (a title is text to the browser)
    assert 'href="playground?' in page.text("share")  # the experiment's link opens the free playground


def test_the_test_loss_is_shown_though_the_ratio_slider_is_hidden(open_page, make_page) -> None:
    page = open_page()
    assert not page.get("percTrainData").visible  # the lesson hides the training-ratio slider...
    assert "Test loss" in page.text("losses")  # ...but its text speaks of the test loss: it is shown
    playground = make_page(percTrainData_hide="true")  # the free playground keeps the original's rule
    assert "Test loss" not in playground.get("losses").text and "Training loss" in playground.get("losses").text


def test_no_lesson_text_reaches_the_page_as_html(open_page) -> None:
    page = open_page()
    page.click("lesson-hint")
    page.click("lesson-hint")
    page.click("lesson-reveal")
    shown = [page.text(n) for n in ("lesson-step", "lesson-hints", "lesson-answer")]
    page.next()
    page.panel.widgets.choices.active = 0  # the feedback of the wrong choice carries a script tag
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
    page.panel.widgets.choices.active = 0
    assert "cw-wrong" in page.text("lesson-feedback") and "No" in page.text("lesson-feedback")
    assert not page.get("lesson-next").disabled  # any answer lets the student go on
    page.panel.widgets.choices.active = 1
    assert "cw-right" in page.text("lesson-feedback") and "Yes, right." in page.text("lesson-feedback")
    assert page.address()["answers"] == "2:2"


def test_a_number_question_checks_the_range(open_page) -> None:
    page = open_page(step="4", answers="2:2")
    assert page.get("lesson-number-row").visible and not page.get("lesson-choices").visible
    page.get("lesson-number").value = "lots"
    assert "not a number" in page.text("lesson-feedback") and page.get("lesson-next").disabled
    page.get("lesson-number").value = "0.5"
    assert "Too small." in page.text("lesson-feedback")
    page.get("lesson-number").value_input = "1.5"
    page.click("lesson-check")
    assert "cw-right" in page.text("lesson-feedback") and "Spot on." in page.text("lesson-feedback")
    assert page.address()["answers"] == "2:2,4:1.5" and not page.get("lesson-next").disabled


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
    page.panel.widgets.choices.active = 1
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
    page.panel.widgets.choices.active = 1
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
    page = open_page(step="5", answers="2:2,4:1.5")
    config = page.walk.config(5)
    assert config.networkShape == (5,) and page.experiment.config.networkShape == (5,)
    assert same_network(page.experiment, fresh(config, page.registry))
    assert "Now: one hidden layer of 5 neurons." in page.text("lesson-step")  # in words, not as settings
    page.next()
    expected = fresh(config, page.registry)
    while expected.test_loss >= 0.3 and expected.epoch < 60:
        expected.step(1)
    assert same_network(page.experiment, expected) and not page.session.playing
    assert f"Stopped at epoch {expected.epoch}: test loss below 0.3." in page.text("lesson-status")


def test_a_compare_step_trains_its_variants_in_slices(open_page) -> None:
    page = open_page(step="6", **DONE_UP_TO_8)
    page.panel.training.slices.slice_s = 0.0  # every epoch its own callback: the server answers between them
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


def test_a_goal_is_judged_on_every_frame_and_its_badge_tells_the_truth(open_page) -> None:
    page = open_page(step="8", **DONE_UP_TO_8)
    goal = page.text("lesson-goal")
    assert page.walk.number == 8 and "Goal:</b> 4 neurons and test loss below 0.45." in goal
    assert "Not reached yet." in goal and page.get("lesson-next").disabled
    assert "neurons <b>5</b>" in goal and "test loss <b>" in goal  # the goal's metrics, measured live
    page.session.request("remove_neuron", layer=1)  # the diagram's - button: unlocked here
    assert page.experiment.config.networkShape == (4,) and not page.walk.done
    page.play_until(lambda: page.walk.done, 300)
    history = page.experiment.history.test
    assert history[-1] < 0.45 <= history[-2]  # noticed on the very frame (one epoch each) it held
    assert "✓ Goal reached!" in page.text("lesson-goal") and "Well done." in page.text("lesson-goal")
    assert not page.get("lesson-next").disabled and page.address()["reached"] == "8"
    page.session.request("add_neuron", layer=1)  # reached, then changed: the step stays done...
    assert page.walk.done and page.walk.goal_state() is GoalState.LOST
    goal = page.text("lesson-goal")
    assert "Reached earlier" in goal and "does not hold now" in goal and "✓ Goal reached!" not in goal


def test_a_held_goal_counts_its_epochs_and_a_dip_is_not_enough(open_page) -> None:
    page = open_page(step="10", **DONE_UP_TO_10)
    assert page.walk.number == 10 and "held for 3 epochs in a row" in page.text("lesson-goal")
    page.play_until(lambda: page.walk.goal_state() is not GoalState.PENDING, 400)
    assert page.walk.goal_state() is GoalState.HOLDING and not page.walk.done  # one reading below 0.4
    assert "Holding: 1 of 3 epochs" in page.text("lesson-goal")
    page.play_until(lambda: page.walk.done, 10)
    losses = page.experiment.history.test
    assert all(loss < 0.4 for loss in losses[-3:]) and losses[-4] >= 0.4  # reached after exactly 3
    assert "✓ Goal reached!" in page.text("lesson-goal")


def test_apply_the_solution_sets_it_up_and_says_what_changed(open_page) -> None:
    page = open_page(step="8", **DONE_UP_TO_8)
    assert page.get("lesson-solve").visible and page.get("lesson-reveal").visible is False  # no answer here
    page.session.step()
    page.click("lesson-solve")
    assert page.experiment.config.networkShape == (4,) and page.experiment.epoch == 0
    status = page.text("lesson-status")
    assert "The solution is in place" in status and "one hidden layer of 4 neurons" in status
    assert not any(name in status for name in internal_names(page.registry))
    solution = page.walk.step.solution(page.walk.setup(), page.registry).variants[0][1]
    assert same_network(page.experiment, fresh(solution, page.registry))  # as check verified it
    page.play_until(lambda: page.walk.done, 100)
    assert page.walk.done


def test_a_goal_step_keeps_the_network_the_student_built(open_page) -> None:
    page = open_page(step="9", **DONE_UP_TO_10)
    assert page.walk.number == 9
    page.get("learningRate").value = "0.1"  # free play: the student's own network
    for _ in range(5):
        page.session.step()
    built = page.experiment.params.flat.copy()
    page.next()  # the goal step: the lesson's settings do not change there, so the network stays
    assert page.walk.number == 10 and page.experiment.config.learningRate == 0.1 and page.experiment.epoch == 5
    np.testing.assert_array_equal(page.experiment.params.flat, built)
    page.click("lesson-back")  # back to free play: opened from the lesson's settings, and the page says so
    page.pump()
    assert page.experiment.config.learningRate == 0.03
    assert "back to the lesson's settings for this step: learning rate 0.03." in page.words("lesson-step")


def test_steps_open_in_order_whatever_the_address_says(open_page) -> None:
    page = open_page(step="8")
    assert page.walk.number == 2  # the question of step 2 comes first
    notice = page.session.notices.items["url"]
    assert "step 8 comes after the question of step 2" in notice and "opens at step 2" in notice
    page = open_page(step="8", answers="2:1")
    assert page.walk.number == 4
    page = open_page(step="11", **DONE_UP_TO_8)
    assert page.walk.number == 8  # a goal must be reached first
    page.panel.open(9)  # the server refuses what a disabled Next would do
    assert page.walk.number == 8


def test_controls_are_hidden_and_locked_as_the_lesson_says(open_page) -> None:
    page = open_page(**DONE_UP_TO_10)
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
    assert "Unlocked for this step: the learning rate and the number of neurons." in page.text("lesson-step")
    page.get("learningRate").value = "0.1"
    assert page.experiment.config.learningRate == 0.1
    page.panel.open(9)  # explore: everything unlocked
    page.pump()
    assert session.locked == frozenset() and not page.get("activation").disabled
    session.request("add_neuron", layer=1)
    assert page.experiment.config.networkShape == (6,)


def test_no_internal_name_reaches_the_student(open_page) -> None:
    """Walk the whole lesson, solving what it asks, and read every text the page shows on the way."""
    page = open_page()
    names = internal_names(page.registry)
    seen = []
    while True:
        step = page.walk.step
        if step.task == "answer":
            response = step.correct_response()
            if page.get("lesson-choices").visible:
                page.panel.widgets.choices.active = response - 1
            else:
                page.get("lesson-number").value = str(response)
        if step.hints:
            page.click("lesson-hint")
        if step.goal is not None:
            page.click("lesson-solve")
            page.play_until(lambda: page.walk.done, 400)
        seen.append(page.shown_text())
        if page.walk.at_end:
            break
        page.next()
    shown = "\n".join(seen)
    found = sorted({n for n in names if re.search(rf"\b{re.escape(n)}\b", shown)})
    assert found == [], f"internal names on the page: {found}"
    assert "courseware " not in shown.replace("courseware playground", "")


def test_reloading_returns_to_the_same_step_with_the_same_experiment(open_page) -> None:
    page = open_page()
    page.click("lesson-hint")
    page.next()
    page.panel.widgets.choices.active = 1
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
    page = open_page(step="8", **DONE_UP_TO_8)
    page.get("learningRate").value = "0.1"
    again = page.reload()
    assert again.walk.number == 8 and again.experiment.config.learningRate == 0.1
    assert again.experiment.epoch == 0


def test_back_reopens_the_previous_step_where_it_starts(open_page) -> None:
    page = open_page(step="3", answers="2:2")
    assert page.experiment.epoch == 7
    page.next()
    page.session.step()  # the student trains on during the question
    page.click("lesson-back")
    assert page.walk.number == 3 and page.session.playing
    page.pump()
    assert same_network(page.experiment, fresh(page.walk.config(3), page.registry, 7))


def test_a_replay_is_sliced_and_a_closed_tab_stops_it(open_page) -> None:
    page = open_page(step="3", answers="2:2")
    page.session.step()  # the experiment no longer stands where step 3 left it: step 4 replays
    page.panel.training.slices.slice_s = 0.0
    page.panel.open(4)
    assert page.panel.training.busy and "Preparing the experiment" in page.text("lesson-status")
    assert page.experiment.epoch < 7
    page.pump()
    assert page.experiment.epoch == 7 and page.text("lesson-status") == ""
    page.session.step()
    page.panel.open(4)
    assert page.panel.training.busy
    page.session.destroy()  # the tab closes while the replay is queued
    page.pump()  # the queued slices find nothing to do, and fail at nothing
    assert not page.panel.training.busy and "lesson" not in page.session.notices.items


def test_the_last_step_says_the_lesson_is_finished_and_offers_the_next(open_page, folder) -> None:
    page = open_page(step="11", reached="8,10", answers="2:2,4:1.5")
    assert not page.get("lesson-next").visible and page.get("lesson-end").visible
    assert "finished this lesson" in page.text("lesson-end") and "lesson?lesson=" not in page.text("lesson-end")
    (folder / "02-next.yaml").write_text(LESSON.replace("page-sample", "page-next").replace(
        '"The page <b>sample</b>"', "The next one"), encoding="utf-8")  # fmt: skip
    page = open_page(step="11", reached="8,10", answers="2:2,4:1.5")
    end = page.text("lesson-end")
    assert 'href="lesson?lesson=page-next"' in end and "The next one" in end and 'href="./"' in end


def test_progress_is_handed_to_the_browser_and_never_goes_backwards_there(open_page) -> None:
    page = open_page()
    progress = json.loads(page.session.state.progress)
    assert progress == {"lesson": "page-sample", "step": 1, "total": 11, "done": 1, "finished": False,
                        "answers": {}, "reached": []}  # fmt: skip
    page.next()
    assert json.loads(page.session.state.progress)["done"] == 1  # step 2: its question is not answered
    page.panel.widgets.choices.active = 1
    progress = json.loads(page.session.state.progress)
    assert progress["done"] == 2 and progress["answers"] == {"2": "2"}
    page = open_page(step="11", reached="8,10", answers="2:2,4:1.5")
    progress = json.loads(page.session.state.progress)
    assert progress["finished"] and progress["done"] == 11 and progress["reached"] == [8, 10]
    store = page.session.state.js_property_callbacks["change:progress"][0].code
    assert "localStorage" in store and "Math.max" in store  # kept in the student's browser only


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
        build_lesson_panel(session, "no-such-lesson", [folder], arguments={})
    broken = tmp_path_factory.mktemp("broken")
    (broken / "bad.yaml").write_text(LESSON.replace("epochs: 7", "epochs: seven"), encoding="utf-8")
    panel = build_lesson_panel(session, "page-sample", [broken], arguments={})
    assert panel.name == "lesson-unavailable" and "is unavailable right now" in panel.text
    assert "seven" not in panel.text and str(broken) not in panel.text  # students see no problems, no paths
    panel = build_lesson_panel(session, "page-sample", [broken], arguments={}, dev=True)
    assert "<li>bad.yaml:" in panel.text and "seven" in panel.text and str(broken) not in panel.text


def test_the_seam_finds_the_panel(builtins, folder) -> None:
    doc = Document()
    session = build_playground(doc, builtins, {}, side_panel=lambda s: build_lesson_panel(s, "page-sample", [folder]),
                               keep_query="lesson", compact=True)  # fmt: skip
    assert doc.select_one({"name": "lesson-panel"}) is not None
    assert session.state.page_query.startswith("lesson=page-sample&step=1&lessonSeed=")


def test_readings_show_digits_enough_to_agree_with_the_verdict() -> None:
    assert views.reading(0.0498, "", [0.05]) == "0.0498"  # not "0.050" beside "below 0.05"
    assert views.reading(0.08234, "", [0.05]) == "0.082"
    assert views.reading(3.0, "neurons", [3]) == "3" and views.reading(1.0, "boolean", []) == "yes"


@pytest.fixture(scope="module")
def shipped_registry() -> Any:
    """The built-ins and the shipped folder's data/ files, as ``courseware serve lessons/`` loads them."""
    from courseware.lessons.catalog import host_for

    return host_for([SHIPPED]).registry


@pytest.mark.parametrize("file", [p.name for p in sorted(SHIPPED.glob("*.yaml"))])
def test_every_shipped_lesson_can_be_followed_to_its_end(shipped_registry, file) -> None:
    builtins = shipped_registry
    entry = next(e for e in discover([SHIPPED], builtins) if Path(e.path).name == file)
    seed = reaching_seed(entry.lesson, builtins)
    assert seed is not None, f"no seed of 1 to 20 lets every solution of {entry.id} reach its goal"
    page = LessonPage(builtins, SHIPPED, entry.id, **{LESSON_SEED: seed})
    page.pump()
    while True:
        step = page.walk.step
        assert "failed" not in " ".join(page.session.notices.items.values())
        if step.task == "answer":
            response = step.correct_response()
            if page.get("lesson-choices").visible:
                page.panel.widgets.choices.active = response - 1
            else:
                page.get("lesson-number").value = str(response)
            assert "cw-right" in page.text("lesson-feedback")
        if step.goal is not None and not page.walk.done:
            # "Apply the solution" sets it up as check does (a fresh network of the lesson's seed); play,
            # one epoch a frame as check reads it
            subject = step.solution(page.walk.setup(), builtins)
            page.click("lesson-solve")
            page.session.set_speed(1)
            page.play_until(lambda: page.walk.done, subject.plans[-1].max_epochs + 1)
            assert "Goal reached" in page.text("lesson-goal")
        if page.walk.at_end:
            break
        page.next()
    assert page.get("lesson-end").visible


def test_a_goal_on_a_choice_reads_the_choice_by_its_label(builtins, tmp_path) -> None:
    (tmp_path / "01-choice.yaml").write_text("""\
format: 1
id: choice
title: A choice
summary: A goal on the activation.
objectives: [Choose]
start: {dataset: circle, networkShape: [3], activation: tanh}
steps:
  - kind: goal
    title: Pick ReLU
    goal: activation == "relu" and test_loss < 0.4
    hold: 1
    solution: {set: {activation: relu}, epochs: 200, holds_in: at least 5% of runs}
""", encoding="utf-8")  # fmt: skip
    page = LessonPage(builtins, tmp_path, "choice", **{LESSON_SEED: SEED})
    page.pump()
    goal = page.words("lesson-goal")
    assert "Goal: activation is ReLU and test loss below 0.4." in goal
    assert "activation Tanh" in goal and "relu" not in goal  # the menu's label, not the name


def test_a_step_may_offer_drawing_that_the_lesson_hides(builtins, tmp_path) -> None:
    """Drawing is an optional control: hidden by the lesson, it is not on the page at all (nor
    accepted); a step that shows it puts the "Own points" toggle on the page, and a click on the map
    then adds a point."""
    (tmp_path / "01-draw.yaml").write_text("""\
format: 1
id: draw
title: Draw
summary: Drawing on one step only.
objectives: [Draw]
start: {dataset: gauss, networkShape: [2]}
controls: {hidden: [drawing]}
steps:
  - title: Look
    text: The data.
  - title: Draw
    text: Your own points.
    controls: {show: [drawing]}
""", encoding="utf-8")  # fmt: skip
    page = LessonPage(builtins, tmp_path, "draw", **{LESSON_SEED: SEED})
    page.pump()
    session = page.session
    assert not session.offers("drawing") and not page.get("own-data").visible
    session.set_draw_class(0)
    session.add_point(1.0, 1.0)
    page.pump()
    assert session.experiment.config.points == (), "a hidden control is refused on the server"
    page.next()
    assert session.offers("drawing") and page.get("own-data").visible and not page.get("own-data").disabled
    session.set_draw_class(0)
    session.add_point(1.0, 1.0)
    page.pump()
    assert len(session.experiment.config.points) == 1
