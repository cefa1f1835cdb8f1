"""What the lesson panel shows: its widgets, and the HTML of each of its parts.

:class:`PanelWidgets` builds the panel's Bokeh models once per session and lays them out;
:class:`~courseware.server.lessonpage.LessonPanel` (the controller) decides what each shows. Every
piece of HTML comes from a function here, built with :class:`~courseware.server.html.Html` templates:
lesson text goes through :func:`~courseware.server.html.markdown`, everything else (titles, variant
names, numbers, the wording of settings and conditions) is escaped as text. No function here names a
configuration key or a metric id to the student: settings, controls and conditions arrive already put
into words by :mod:`courseware.lessons.wording`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import Button, Div, InlineStyleSheet, LayoutDOM, RadioGroup, TextInput

from courseware.lessons.conditions import BOOLEAN_UNIT, Condition, _Number
from courseware.lessons.goals import GoalState
from courseware.lessons.steps import Feedback, Step
from courseware.jsmath import js_to_fixed
from courseware.server.compareview import CompareChart
from courseware.server.html import EMPTY, Html, markdown, markdown_inline

PANEL_WIDTH = 300  # with the compact playground beside it, the page fits 1280 px (see docs/lessons.md)
INDEX = "./"  # the index page, relative to /lesson and /playground

PANEL_CSS = """
:host { font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; color: #333; font-size: 14px; }
.cw-back { color: #0877bd; font-size: 13px; text-decoration: none; }
h2.cw-title { font-size: 18px; font-weight: 400; margin: 4px 0 2px 0; color: #183d4e; line-height: 1.3; }
.cw-progress-text { font-size: 12px; color: #777; margin-bottom: 4px; }
.cw-progress { width: 260px; height: 6px; background: #e3e3e3; border-radius: 3px; overflow: hidden; }
.cw-progress > div { height: 100%; background: #0877bd; }
.cw-kind { font-size: 11px; text-transform: uppercase; letter-spacing: 1px; color: #f59322; margin-top: 4px; }
.cw-step h3 { font-size: 16px; font-weight: 500; margin: 2px 0 6px 0; color: #222; }
.cw-step p, .cw-step li, .cw-question p { line-height: 1.45; margin: 0 0 0.7em 0; }
.cw-step ul, .cw-step ol { margin: 0 0 0.7em 0; padding-left: 1.3em; }
.cw-step code, .cw-goal code { background: #f0f0f0; padding: 0 3px; border-radius: 2px; font-size: 12.5px; }
.cw-settings { font-size: 13px; color: #555; background: #f4f8fb; border-left: 3px solid #0877bd;
  padding: 4px 8px; margin-top: 6px; line-height: 1.4; }
.cw-question { font-weight: 500; margin: 4px 0; }
.cw-feedback { padding: 6px 10px; border-radius: 3px; margin: 4px 0; line-height: 1.4; }
.cw-feedback p { margin: 2px 0; }
.cw-right { background: #e8f5e9; border-left: 4px solid #2e7d32; }
.cw-wrong { background: #fdecea; border-left: 4px solid #c62828; }
.cw-neutral { background: #f4f8fb; border-left: 4px solid #0877bd; }
.cw-goal { background: #fff; border: 1px solid #ddd; padding: 6px 10px; border-radius: 3px; line-height: 1.4; }
.cw-goal-now { font-size: 12px; color: #666; margin-top: 4px; }
.cw-goal-state { font-size: 13px; margin-top: 4px; }
.cw-goal-holding { color: #0877bd; }
.cw-goal-lost { background: #fff4e5; border-left: 4px solid #f59322; padding: 4px 8px; margin: 4px 0; }
.cw-goal-reached { background: #2e7d32; color: #fff; font-size: 19px; font-weight: 500; padding: 8px 12px;
  border-radius: 4px; margin: 6px 0 4px 0; text-align: center; }
.cw-status { font-size: 13px; color: #555; line-height: 1.4; }
.cw-hints p, .cw-answer p { margin: 2px 0; }
.cw-hint { background: #fffbe6; border-left: 3px solid #f5c022; padding: 4px 8px; margin: 4px 0; }
.cw-answer-box { background: #f4f8fb; border-left: 3px solid #183d4e; padding: 4px 8px; margin: 4px 0; }
.cw-end { background: #e8f5e9; border: 1px solid #2e7d32; padding: 8px 10px; border-radius: 4px; line-height: 1.6; }
.cw-end a, .cw-notice a { color: #0877bd; }
.cw-variant { font-size: 12px; display: flex; align-items: center; gap: 6px; }
.cw-swatch { display: inline-block; width: 14px; height: 4px; }
.cw-variant-final { color: #666; }
.cw-compare-status { font-size: 12px; color: #555; margin-bottom: 2px; }
.cw-math-refused { color: #8a1f11; }
.cw-unavailable ul { padding-left: 1.2em; font-family: monospace; font-size: 12px; }
.cw-unavailable li { margin: 2px 0; white-space: pre-wrap; }
mjx-container[display="true"] { display: block; text-align: center; margin: 6px 0; }
"""
# The choices of a question: long labels wrap inside the panel, their text beside the button.
CHOICES_CSS = """
.bk-input-group label { white-space: normal; align-items: flex-start; line-height: 1.35; margin: 3px 0; }
.bk-input-group input { margin-top: 3px; flex: none; }
"""


class PanelWidgets:
    """The lesson panel's Bokeh models for one session, laid out in one column.

    Names (``lesson-next``, ``lesson-goal``, ...) are what tests and the guard see; the controller
    wires the buttons and fills the Divs.
    """

    def __init__(self, title: str, clock: Callable[[], float]) -> None:
        sheet = InlineStyleSheet(css=PANEL_CSS)
        width = PANEL_WIDTH - 26

        def div(name: str, text: Html = EMPTY) -> Div:
            return Div(text=text, width=width, name=f"lesson-{name}", css_classes=[f"cw-lesson-{name}"],
                       stylesheets=[sheet])  # fmt: skip

        def button(name: str, label: str, width: int, **kw: Any) -> Button:
            return Button(label=label, name=f"lesson-{name}", css_classes=[f"cw-lesson-{name}"], width=width,
                          stylesheets=[sheet], **kw)  # fmt: skip

        self.head = div("head", text=head_html(title))
        self.progress = div("progress")
        self.step = div("step")
        self.question = div("question")
        self.choices = RadioGroup(labels=[], active=None, name="lesson-choices", css_classes=["cw-lesson-choices"],
                                  width=width, stylesheets=[InlineStyleSheet(css=CHOICES_CSS)])  # fmt: skip
        self.number = TextInput(value="", placeholder="a number", name="lesson-number", width=150,
                                css_classes=["cw-lesson-number"])  # fmt: skip
        self.check = button("check", "Check", 80)
        self.number_row = row(self.number, self.check, name="lesson-number-row")
        self.feedback = div("feedback")
        self.goal = div("goal")
        self.status = div("status")
        self.rerun = button("rerun", "↺ Run this step again", 180)
        self.chart = CompareChart(width, clock)
        self.chart.plot.stylesheets = [sheet]
        self.chart.legend.stylesheets = [sheet]
        self.hint = button("hint", "Show a hint", 130)
        self.hints = div("hints")
        self.reveal = button("reveal", "Show the answer", 130)
        self.solve = button("solve", "Apply the solution", 140)
        self.answer = div("answer")
        self.back = button("back", "‹ Back", 100)
        self.next = button("next", "Next ›", 100, button_type="primary")
        self.end = div("end")
        # The step's content scrolls inside the panel, so that the way on (Back, Next) and the whole
        # playground stay on a 720 px high screen however long the step's text is.
        self.body = column(
            self.step, self.question, self.choices, self.number_row, self.feedback, self.goal, self.status,
            self.rerun, self.chart.root, row(self.hint, self.reveal, name="lesson-help"), self.solve, self.hints,
            self.answer, name="lesson-body", spacing=6, width=PANEL_WIDTH - 16, css_classes=["cw-lesson-body"],
            styles={"flex": "1 1 auto", "min-height": "0", "overflow-y": "auto", "overflow-x": "hidden"},
        )  # fmt: skip
        self.root: LayoutDOM = column(
            self.head, self.progress, self.end, self.body, row(self.back, self.next, name="lesson-nav"),
            name="lesson-panel", width=PANEL_WIDTH, spacing=6, css_classes=["cw-lesson-panel"],
            styles={"padding": "10px 4px 12px 14px", "background": "#fff", "border-right": "1px solid #ddd",
                    "height": "100vh", "box-sizing": "border-box", "position": "sticky", "top": "0"},
        )  # fmt: skip


# -- the parts of the panel ---------------------------------------------------------------------------


def head_html(title: str) -> Html:
    return Html('<a class="cw-back" href="{}">‹ All lessons</a><h2 class="cw-title">{}</h2>').format(INDEX, title)


def progress_html(number: int, total: int) -> Html:
    return Html(
        '<div class="cw-progress-text">Step {} of {}</div>'
        '<div class="cw-progress"><div style="width: {:.1f}%"></div></div>'
    ).format(number, total, 100 * number / total)


def kind_label(step: Step) -> str:
    """What kind of step this is, in the student's words (from the step protocol, not its class)."""
    if step.task == "answer":
        return "Question"
    if step.task == "reach":
        return "Your turn: a goal"
    if step.task == "explore":
        return "Explore"
    if step.plan is not None:
        return "Training"
    if step.claim_variants():
        return "Compare"
    if step.restarts:
        return "New settings"
    return ""


def step_html(step: Step, notes: Sequence[str]) -> Html:
    """The step's kind, title, text (Markdown with math) and the page's notes about it, in words."""
    extra = EMPTY.join(Html('<div class="cw-settings">{}</div>').format(note) for note in notes if note)
    return Html('<div class="cw-step"><div class="cw-kind">{}</div><h3>{}</h3>{}{}</div>').format(
        kind_label(step), markdown_inline(step.title), markdown(step.text), extra
    )


def question_html(question: str) -> Html:
    return Html('<div class="cw-question">{}</div>').format(markdown(question))


def feedback_html(feedback: Feedback) -> Html:
    if feedback.correct is None:
        kind, head = "cw-neutral", EMPTY
    elif feedback.correct:
        kind, head = "cw-right", Html("<b>✓ Correct.</b> ")
    else:
        kind, head = "cw-wrong", Html("<b>✗ Not quite.</b> ")
    return Html('<div class="cw-feedback {}">{}{}</div>').format(kind, head, markdown(feedback.message))


def refused_html(message: str) -> Html:
    """A response the step cannot take (not a number, not a choice), and why."""
    return Html('<div class="cw-feedback cw-wrong">{}</div>').format(message)


@dataclass(frozen=True)
class GoalView:
    """Everything the goal badge shows: the goal in words, its state, the live readings."""

    words: str
    state: GoalState
    streak: int
    hold: int
    readings: Sequence[tuple[str, str]]  # (label, value as text)
    message: str  # the step's feedback once reached


def goal_html(view: GoalView) -> Html:
    """The goal and how it stands: not yet, holding (k of N epochs), reached, or reached and lost."""
    held = Html(", held for {} epochs in a row").format(view.hold) if view.hold > 1 else EMPTY
    head = Html('<div class="cw-goal"><div><b>Goal:</b> {}{}.</div>').format(view.words, held)
    now = Html(" · ").join(Html("{} <b>{}</b>").format(label, value) for label, value in view.readings)
    values = Html('<div class="cw-goal-now">Now: {}</div>').format(now) if view.readings else EMPTY
    state = view.state
    if state is GoalState.REACHED:
        return Html(
            '<div class="cw-goal-reached" role="status">✓ Goal reached!</div>'
            '<div class="cw-feedback cw-right">{}</div>{}{}</div>'
        ).format(markdown(view.message), head, values)
    if state is GoalState.LOST:
        return head + values + Html(
            '<div class="cw-goal-state cw-goal-lost" role="status">✓ Reached earlier (this step is done), '
            "but it does not hold now.</div></div>"
        )
    if state is GoalState.HOLDING:
        line = Html('<div class="cw-goal-state cw-goal-holding" role="status">Holding: {} of {} epochs…</div>')
        return head + values + line.format(min(view.streak, view.hold), view.hold) + Html("</div>")
    return head + values + Html('<div class="cw-goal-state" role="status">Not reached yet.</div></div>')


def hints_html(hints: Sequence[str]) -> Html:
    return EMPTY.join(
        Html('<div class="cw-hint"><b>Hint {}.</b> {}</div>').format(i, markdown(h))
        for i, h in enumerate(hints, start=1)
    )


def hint_label(shown: int, total: int) -> str:
    if not shown:
        return f"Show a hint (of {total})" if total > 1 else "Show a hint"
    return "Another hint" if shown < total else "No more hints"


def answer_html(answer: str) -> Html:
    return Html('<div class="cw-answer-box"><b>Answer.</b> {}</div>').format(markdown(answer))


def status_html(html: Html) -> Html:
    return Html('<div class="cw-status">{}</div>').format(html) if html else EMPTY


def end_html(next_lesson: tuple[str, str] | None) -> Html:
    """The last step, done: the next lesson of the index (if any) and the way back to all lessons."""
    if next_lesson is None:
        after = Html('<a href="{}">Back to all lessons</a>').format(INDEX)
    else:
        lesson_id, title = next_lesson
        after = Html('Next lesson: <a class="cw-next-lesson" href="lesson?lesson={}">{} ›</a><br>'
                     '<a href="{}">All lessons</a>').format(lesson_id, title, INDEX)  # fmt: skip
    return Html('<div class="cw-end"><b>✓ You have finished this lesson.</b><br>{}</div>').format(after)


def unavailable_html(title: str, errors: Sequence[str] | None) -> Html:
    """A lesson that does not load: a short line for students; with ``errors`` (the instructor's view,
    ``courseware serve --dev``), every problem on its own line."""
    listed = EMPTY
    if errors:
        listed = Html("<p>Problems in the lesson file (shown because the server runs with --dev):</p><ul>{}</ul>").format(
            EMPTY.join(Html("<li>{}</li>").format(e) for e in errors)
        )
    return Html(
        '<div class="cw-notice cw-unavailable"><b>The lesson “{}” is unavailable right now.</b>{}'
        '<p><a href="{}">All lessons</a></p></div>'
    ).format(title, listed, INDEX)


# -- runs -------------------------------------------------------------------------------------------------


def run_progress_html(done: int, epochs: int, until: str | None, paused: bool) -> Html:
    """A step's training as it goes (``until`` is its stopping condition in words)."""
    if until is None:
        html = Html("Training: epoch {} of {}").format(done, epochs)
    else:
        html = Html("Training until {}: epoch {} (at most {})").format(until, done, epochs)
    return html + (Html(" (paused: press ▶ to go on).") if paused else Html("…"))


def run_done_html(epochs: int) -> Html:
    return Html("Trained {} epochs.").format(epochs)


def run_stopped_html(epoch: int, until: str) -> Html:
    return Html("Stopped at epoch {}: {}.").format(epoch, until)


def run_missed_html(until: str, epochs: int) -> Html:
    return Html("Not reached within {} epochs: {}.").format(epochs, until)


# -- numbers ---------------------------------------------------------------------------------------------


def condition_numbers(condition: Condition) -> list[float]:
    """The numbers a condition compares with (a reading is shown with digits enough to tell them apart)."""
    found: list[float] = []
    stack: list[Any] = [condition.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, _Number):
            found.append(node.value)
            continue
        for name in ("items", "operands"):
            stack.extend(getattr(node, name, ()) or ())
        for name in ("operand", "left", "right"):
            child = getattr(node, name, None)
            if child is not None:
                stack.append(child)
    return found


def reading(value: float, unit: str, thresholds: Sequence[float]) -> str:
    """A metric's live value as text: yes/no for a boolean, whole numbers whole, a loss to 3 decimals
    or more where 3 would look equal to a number of the goal (0.0498 against "below 0.05" reads
    0.0498, not 0.050), so what the badge shows agrees with its verdict."""
    if unit == BOOLEAN_UNIT:
        return "yes" if value == 1 else "no"
    if not math.isfinite(value):
        return "not a number" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    if abs(value) < 0.001 and not any(abs(t) < 0.001 for t in thresholds):
        return f"{value:.2g}"
    for places in range(3, 17):
        text = js_to_fixed(value, places)
        if all(float(text) != t or value == t for t in thresholds):
            return text
    return repr(value)
