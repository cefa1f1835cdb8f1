"""The lesson page's side panel: a lesson walked through beside a full playground.

:func:`build_lesson_panel` is what the server places left of the playground at ``/lesson?lesson=<id>``
(see ``courseware/server/lessons.py``). One :class:`LessonPanel` per browser session drives a
:class:`~courseware.lessons.walk.Walk` and scripts the session's experiment as the lesson says:

* opening a step hides and locks the controls the step names, and brings the experiment to where the
  step starts: rebuilt from the step's configuration and replayed (``Walk.setup``), unless it stands
  exactly where the previous step left it (then it simply continues, as the lesson describes);
* a step with a plan (``run``) then trains in front of the student with the playground's own player,
  up to its epochs or its condition, and pauses;
* a step with variants (``compare``) trains them apart, in slices that keep the server responsive,
  and draws their loss curves together;
* a step with a task takes the student's answer (choices or a number) and gives feedback, or checks its
  goal on every frame and says, unmistakably, when it is reached;
* the walk and the experiment both live in the address bar (:mod:`courseware.lessons.address`), so a
  reload returns to the same step.

The panel never looks at a step's class, only at the step protocol (``plan``, ``variants``, ``goal``,
``task``, ``payload``, ``restarts``), so plugin step kinds get the same page.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import Button, Div, InlineStyleSheet, LayoutDOM, RadioGroup, TextInput

from courseware.config import HIDABLE_CONTROLS, Config
from courseware.lessons.address import experiment_query, walk_from_query, walk_query
from courseware.lessons.background import Slices
from courseware.lessons.catalog import LessonEntry, discover
from courseware.lessons.compareview import CompareChart, Curves, VariantTraining
from courseware.lessons.conditions import BOOLEAN_UNIT, Condition
from courseware.lessons.lesson import PAGE_CONTROLS, Lesson
from courseware.lessons.measure import Measurements, MetricTable, evaluate
from courseware.lessons.steps import Feedback, Plan, StepState, settings_text
from courseware.lessons.walk import Walk
from courseware.plugins import Registry
from courseware.rng import js_to_fixed
from courseware.server import context as ctx
from courseware.server.html import EMPTY, Html, markdown, markdown_inline
from courseware.server.page import query_mapping
from courseware.server.session import address_notice

log = logging.getLogger(__name__)

PANEL_WIDTH = 340
TEXT_INTERVAL_S = 0.2  # live numbers (a run's epoch, a goal's metrics) redrawn at most this often
DISPLAY_SETTINGS = ("showTestData", "discretize")  # the student's view options, kept from step to step
NOT_TRAINING = {"hidden": (), "showTestData": False, "discretize": False, "hideText": False,
                "collectStats": False, "tutorial": None}  # fmt: skip

PANEL_CSS = """
:host { font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; color: #333; font-size: 14px; }
.cw-lesson-head a { color: #0877bd; font-size: 13px; text-decoration: none; }
.cw-lesson-head h2 { font-size: 19px; font-weight: 400; margin: 6px 0 2px 0; color: #183d4e; }
.cw-progress-text { font-size: 12px; color: #777; margin-bottom: 4px; }
.cw-progress { width: 300px; height: 6px; background: #e3e3e3; border-radius: 3px; overflow: hidden; }
.cw-progress > div { height: 100%; background: #0877bd; }
.cw-kind { font-size: 11px; text-transform: uppercase; letter-spacing: 1px; color: #f59322; margin-top: 4px; }
.cw-step h3 { font-size: 17px; font-weight: 500; margin: 2px 0 8px 0; color: #222; }
.cw-step p, .cw-step li { line-height: 1.45; }
.cw-step code, .cw-goal code { background: #f0f0f0; padding: 0 3px; border-radius: 2px; font-size: 12.5px; }
.cw-settings { font-size: 13px; color: #555; background: #f4f8fb; border-left: 3px solid #0877bd;
  padding: 4px 8px; margin-top: 6px; }
.cw-question { font-weight: 500; margin: 4px 0; }
.cw-feedback { padding: 6px 10px; border-radius: 3px; margin: 4px 0; line-height: 1.4; }
.cw-feedback p { margin: 2px 0; }
.cw-right { background: #e8f5e9; border-left: 4px solid #2e7d32; }
.cw-wrong { background: #fdecea; border-left: 4px solid #c62828; }
.cw-neutral { background: #f4f8fb; border-left: 4px solid #0877bd; }
.cw-error { color: #8a1f11; }
.cw-goal { background: #fff; border: 1px solid #ddd; padding: 6px 10px; border-radius: 3px; }
.cw-goal-now { font-size: 12px; color: #666; margin-top: 4px; }
.cw-goal-reached { background: #2e7d32; color: #fff; font-size: 20px; font-weight: 500; padding: 10px 12px;
  border-radius: 4px; margin: 6px 0 4px 0; text-align: center; }
.cw-status { font-size: 13px; color: #555; }
.cw-hints p, .cw-answer p { margin: 2px 0; }
.cw-hint { background: #fffbe6; border-left: 3px solid #f5c022; padding: 4px 8px; margin: 4px 0; }
.cw-answer-box { background: #f4f8fb; border-left: 3px solid #183d4e; padding: 4px 8px; margin: 4px 0; }
.cw-end { background: #e8f5e9; border: 1px solid #2e7d32; padding: 8px 10px; border-radius: 4px; }
.cw-end a, .cw-notice a { color: #0877bd; }
.cw-variant { font-size: 12px; display: flex; align-items: center; gap: 6px; }
.cw-swatch { display: inline-block; width: 14px; height: 4px; }
.cw-variant-final { color: #666; }
.cw-compare-status { font-size: 12px; color: #555; margin-bottom: 2px; }
.cw-math-refused { color: #8a1f11; }
mjx-container[display="true"] { display: block; text-align: center; margin: 6px 0; }
"""


def build_lesson_panel(
    session: Any,
    lesson_id: str,
    folders: Sequence[str | os.PathLike[str]],
    arguments: Mapping[str, Any] | None = None,
) -> LayoutDOM:
    """The side panel of lesson ``lesson_id`` for one browser session (the server's seam).

    ``session`` is the page's :class:`~courseware.server.session.PlaygroundSession`; ``folders`` the
    served lesson folders (plugin lesson packs are searched too). ``arguments`` are the page request's
    query arguments (name -> values); by default they are read from the session's request. Raises
    ``LookupError`` for an unknown id; a lesson that does not load gives a panel listing its errors.
    """
    entries = served_lessons(folders, session.registry)
    entry = next((e for e in entries if e.id == lesson_id and e.ok), None)
    if entry is None or entry.lesson is None:
        broken = next((e for e in entries if e.id == lesson_id), None)
        if broken is None:
            known = ", ".join(e.id for e in entries if e.ok) or "none"
            raise LookupError(f"no lesson {lesson_id!r}; lessons: {known}")
        return _broken_panel(broken)
    if arguments is None:
        arguments = _request_arguments(session.doc)
    return LessonPanel(session, entry.lesson, arguments).root


# -- the lessons served -----------------------------------------------------------------------------------


def served_lessons(folders: Sequence[str | os.PathLike[str]], registry: Registry) -> list[LessonEntry]:
    """:func:`discover` of ``folders``: each file is read once per change (the server has usually read
    it already, off the event loop, when the page was requested)."""
    return discover(list(folders), registry)


def _request_arguments(doc: Any) -> Mapping[str, Any]:
    context = doc.session_context
    request = getattr(context, "request", None) if context is not None else None
    return dict(request.arguments) if request is not None else {}


def _broken_panel(entry: LessonEntry) -> LayoutDOM:
    errors = [str(e) for e in entry.errors] or [entry.error or ""]
    items = EMPTY.join(Html("<li>{}</li>").format(e) for e in errors)
    return Div(
        text=Html('<div class="cw-notice"><b>The lesson “{}” cannot be opened.</b><ul>{}</ul>'
                  '<a href="./">All lessons</a></div>').format(entry.title, items),
        width=PANEL_WIDTH, name="lesson-broken", stylesheets=[InlineStyleSheet(css=PANEL_CSS)],
    )  # fmt: skip


# -- the panel -------------------------------------------------------------------------------------------


@dataclass
class _Mark:
    """The experiment exactly as a step left it, to tell whether the next step can simply continue."""

    step: int
    epoch: int
    config: Config
    flat: np.ndarray
    dead: np.ndarray


@dataclass
class _Run:
    """A step's training in progress (the playground's player runs it; each frame is checked)."""

    plan: Plan
    start: int  # the epoch it started at
    speed: int  # the student's epochs per frame, restored afterwards
    speed_set: int = 0  # the speed the panel last gave the player
    shown: float = 0.0


class LessonPanel:
    """One student's lesson beside their playground (see the module docstring)."""

    def __init__(self, session: Any, lesson: Lesson, arguments: Mapping[str, Any]) -> None:
        self.session = session
        self.lesson = lesson
        self.registry: Registry = session.registry
        query, decode_notices = query_mapping(arguments)
        state, walk_notices = walk_from_query(query, lesson)
        self.walk = Walk(lesson, state, self.registry)
        self.slices = Slices(session.doc)
        self._run: _Run | None = None
        self._left: _Mark | None = None
        self._scripting = 0  # > 0 while the panel itself changes the experiment
        self._syncing = False
        self._curves: dict[tuple[int, str | None], Curves] = {}
        self._goal_shown = 0.0
        self._failed: str | None = None  # the last failure shown (logged once)
        experiment = experiment_query(query)
        config, config_notices = Config.from_query(experiment, self.registry)
        self._from_address: Config | None = config if experiment else None
        self._build()
        session.notices.set("url", address_notice(decode_notices + config_notices + walk_notices))
        session.on_frame(self._on_frame)
        session.doc.title = f"{lesson.title} · courseware"
        self.open(self.walk.number, first=True)

    # -- layout ------------------------------------------------------------------------------------------

    def _build(self) -> None:
        sheet = InlineStyleSheet(css=PANEL_CSS)
        width = PANEL_WIDTH - 20

        def div(name: str, **kw: Any) -> Div:
            return Div(text="", width=width, name=f"lesson-{name}", css_classes=[f"cw-lesson-{name}"],
                       stylesheets=[sheet], **kw)  # fmt: skip

        lesson = self.lesson
        self.head = div("head")
        self.head.text = Html('<a href="./">‹ All lessons</a><h2>{}</h2>').format(lesson.title)
        self.progress = div("progress")
        self.step_view = div("step")
        self.question = div("question")
        self.choices = RadioGroup(labels=[], active=None, name="lesson-choices", css_classes=["cw-lesson-choices"],
                                  width=width)  # fmt: skip
        self.number = TextInput(value="", placeholder="a number", name="lesson-number", width=150,
                                css_classes=["cw-lesson-number"])  # fmt: skip
        self.check = Button(label="Check", name="lesson-check", css_classes=["cw-lesson-check"], width=80)
        self.number_row = row(self.number, self.check, name="lesson-number-row")
        self.feedback = div("feedback")
        self.goal = div("goal")
        self.status = div("status")
        self.rerun = Button(label="↺ Run this step again", name="lesson-rerun", css_classes=["cw-lesson-rerun"],
                            width=180)  # fmt: skip
        self.chart = CompareChart(width)
        self.chart.plot.stylesheets = [sheet]
        self.chart.legend.stylesheets = [sheet]
        self.hint_button = Button(label="Show a hint", name="lesson-hint", css_classes=["cw-lesson-hint"], width=150)
        self.hints = div("hints")
        self.reveal_button = Button(label="Show the answer", name="lesson-reveal", css_classes=["cw-lesson-reveal"],
                                    width=150)  # fmt: skip
        self.answer = div("answer")
        self.back = Button(label="‹ Back", name="lesson-back", css_classes=["cw-lesson-back"], width=100)
        self.next = Button(label="Next ›", name="lesson-next", css_classes=["cw-lesson-next"], width=100,
                           button_type="primary")  # fmt: skip
        self.end = div("end")
        self.root: LayoutDOM = column(
            self.head, self.progress, self.step_view, self.question, self.choices, self.number_row, self.feedback,
            self.goal, self.status, self.rerun, self.chart.root, row(self.hint_button, self.reveal_button),
            self.hints, self.answer, row(self.back, self.next, name="lesson-nav"), self.end,
            name="lesson-panel", width=PANEL_WIDTH, spacing=6,
            styles={"padding": "12px 10px 30px 16px", "background": "#fff", "border-right": "1px solid #ddd",
                    "min-height": "100vh"},
        )  # fmt: skip
        # every action from the browser is coalesced per frame by the session (a forged client can
        # send thousands; opening a step rebuilds the experiment)
        browser = self.session.from_browser
        self.choices.on_change("active", lambda a, o, new: browser("lesson-choices", lambda: self._chose(a, o, new)))
        self.number.on_change("value", lambda _a, _o, new: browser("lesson-number", lambda: self._answer_number(new)))
        self.check.on_click(lambda: browser(
            "lesson-check", lambda: self._answer_number(self.number.value_input or self.number.value)
        ))  # fmt: skip
        self.hint_button.on_click(lambda: browser("lesson-hint", self._hint))
        self.reveal_button.on_click(lambda: browser("lesson-reveal", self._reveal))
        self.back.on_click(lambda: browser("lesson-back", lambda: self._guarded(self.open, self.walk.number - 1)))
        self.next.on_click(lambda: browser("lesson-next", lambda: self._guarded(self.open, self.walk.number + 1)))
        self.rerun.on_click(lambda: browser("lesson-rerun", self._run_again))

    # -- opening a step ----------------------------------------------------------------------------------

    def open(self, number: int, first: bool = False) -> None:
        """Open step ``number``: its controls, its experiment, then its own action (run, compare)."""
        number = min(max(number, 1), self.walk.total)
        self.slices.cancel()
        self._stop_run()
        self.walk.go(number)
        setup = self.walk.setup()
        self._show_step(setup)
        self._scripting += 1  # the panel's own changes: no goal check, no run to follow
        try:
            self.session.pause()
            self.session.lock(self._locked(setup))
            restored = first and self._restore_from_address(setup)
            rebuild = not restored and (setup.restart or not self._continues(number - 1))
            if rebuild:
                self.session.load(self._config_for(setup.config, first))
            elif not restored:
                self._set_hidden(setup)
        finally:
            self._scripting -= 1
        if rebuild and setup.replay:
            self._status(Html("Preparing the experiment: replaying the lesson so far…"))
            self.slices.start(self._replay(setup.replay), lambda: self._guarded(self._replayed, setup))
        else:
            self._started(setup)
        self._show_url()

    def _restore_from_address(self, setup: StepState) -> bool:
        """On a reload at a step where the student experiments, keep the experiment the address
        describes (their own settings; the training starts over)."""
        config = self._from_address
        if config is None or not self.walk.step.interactive or _training(config) == _training(setup.config):
            return False
        self.session.load(replace(config, hidden=self._hidden(setup)))
        return True

    def _replay(self, plans: Iterable[Plan]) -> Iterator[None]:
        """Train the lesson's experiment as the steps before this one did (sliced: one epoch each)."""
        experiment = self.session.experiment
        for plan in plans:
            if plan.until is None:
                for _ in range(plan.epochs):
                    if self._closed:
                        return
                    self._hold_player()
                    experiment.step(1)
                    yield
            else:
                for epoch in range(plan.max_epochs + 1):
                    if self._closed:
                        return
                    self._hold_player()
                    if epoch:
                        experiment.step(1)
                    if self._holds(plan.until):
                        break
                    yield

    def _hold_player(self) -> None:
        if self.session.playing:  # a click on play while the history replays must not train ahead
            self._scripting += 1
            try:
                self.session.pause()
            finally:
                self._scripting -= 1

    @property
    def _closed(self) -> bool:
        """The browser tab is gone and its session released: a slice still queued does nothing."""
        return self.session.experiment is None

    def _replayed(self, setup: StepState) -> None:
        if self._closed:
            return
        self._scripting += 1
        try:
            self.session.render({ctx.WEIGHTS})
        finally:
            self._scripting -= 1
        self._started(setup)

    def _started(self, setup: StepState) -> None:
        """The experiment stands where the step starts: do the step's own action."""
        step = self.walk.step
        plan = step.plan
        variants = step.variants(setup.config, self.registry)
        if plan is not None:
            self._start_run(plan)
        elif variants:
            self._start_compare(variants, setup)
        else:
            self._status(EMPTY)
            self._mark()
        if step.goal is not None:
            self._check_goal(force=True)

    def _continues(self, number: int) -> bool:
        """Whether the experiment stands exactly where step ``number`` left it."""
        mark = self._left
        e = self.session.experiment
        return (
            mark is not None
            and mark.step == number
            and mark.epoch == e.epoch
            and mark.config == _training(e.config)
            and np.array_equal(mark.flat, e.params.flat, equal_nan=True)
            and np.array_equal(mark.dead, e.params.dead)
        )

    def _mark(self) -> None:
        e = self.session.experiment
        self._left = _Mark(self.walk.number, e.epoch, _training(e.config), e.params.flat.copy(), e.params.dead.copy())

    # -- controls ----------------------------------------------------------------------------------------

    def _hidden(self, setup: StepState) -> tuple[str, ...]:
        """The hidden controls the playground's settings can hide (``X_hide``), in its order."""
        names = [*HIDABLE_CONTROLS, *self.registry.names("features")]
        return tuple(n for n in names if n in setup.controls.hidden)

    def _locked(self, setup: StepState) -> set[str]:
        """Locked controls, with the page's own controls the lesson hides (locking removes them)."""
        return set(setup.controls.locked) | (set(setup.controls.hidden) & set(PAGE_CONTROLS))

    def _set_hidden(self, setup: StepState) -> None:
        hidden = self._hidden(setup)
        if set(hidden) != set(self.session.experiment.config.hidden):
            self.session.apply(hidden=list(hidden))

    def _config_for(self, config: Config, first: bool) -> Config:
        """The step's configuration with the lesson's hidden controls and the student's view options."""
        live = self.session.experiment.config
        number = self.walk.number
        changes: dict[str, Any] = {"hidden": self._hidden(self.walk.setup())}
        for key in DISPLAY_SETTINGS:
            if first:
                keep = self._from_address is not None
            else:
                keep = number == 1 or getattr(self.walk.config(number - 1), key) == getattr(config, key)
            if keep:
                changes[key] = getattr(live, key)
        return replace(config, **changes)

    # -- runs ---------------------------------------------------------------------------------------------

    def _start_run(self, plan: Plan) -> None:
        e = self.session.experiment
        run = _Run(plan, e.epoch, self.session.speed)
        self._run = run
        if self._run_over(run):
            return
        self._pace(run)
        self._run_status(run, force=True)
        self.session.play()  # its frames come back through _on_frame

    def _run_over(self, run: _Run) -> bool:
        """Finish ``run`` if it is complete; whether it was."""
        e = self.session.experiment
        done = e.epoch - run.start
        plan = run.plan
        if plan.until is None:
            if done >= plan.epochs:
                self._finish_run(Html("Trained {} epochs.").format(plan.epochs))
                return True
            return False
        if self._holds(plan.until):
            self._finish_run(Html("Stopped at epoch {}: <code>{}</code> holds.").format(e.epoch, plan.until))
            return True
        if done >= plan.max_epochs:
            self._finish_run(
                Html("<code>{}</code> was not reached within {} epochs.").format(plan.until, plan.max_epochs)
            )
            return True
        return False

    def _pace(self, run: _Run) -> None:
        """Epochs per frame: the student's speed, but never past the run's end; a run-until goes one
        epoch at a time so it stops exactly where its condition first holds."""
        if self.session.speed != run.speed_set and run.speed_set:
            run.speed = self.session.speed  # the student changed the speed during the run
        remaining = run.plan.epochs - (self.session.experiment.epoch - run.start)
        speed = 1 if run.plan.until is not None else max(1, min(run.speed, remaining))
        run.speed_set = speed
        self.session.set_speed(speed)

    def _follow_run(self, frame: Any) -> None:
        run = self._run
        assert run is not None
        e = self.session.experiment
        if ctx.RESTART in frame.changed or e.epoch < run.start:
            self._stop_run()
            self._status(Html("The network was rebuilt, so this step's training stopped. "
                              "Press “Run this step again” to see it."))  # fmt: skip
            return
        if self._run_over(run):
            return
        self._pace(run)
        if not self.session.playing:
            self._run_status(run, force=True, paused=True)
        else:
            self._run_status(run)

    def _run_status(self, run: _Run, force: bool = False, paused: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - run.shown < TEXT_INTERVAL_S:
            return
        run.shown = now
        done = self.session.experiment.epoch - run.start
        if run.plan.until is None:
            html = Html("Training: epoch {} of {}").format(done, run.plan.epochs)
        else:
            html = Html("Training until <code>{}</code>: epoch {} (at most {})").format(
                run.plan.until, done, run.plan.max_epochs
            )
        self._status(html + (Html(" (paused: press ▶ to go on).") if paused else Html("…")))

    def _finish_run(self, message: Html) -> None:
        self._stop_run()
        self._mark()
        self._status(message)

    def _stop_run(self) -> None:
        run = self._run
        if run is None:
            return
        self._run = None
        self._scripting += 1
        try:
            self.session.set_speed(run.speed)
            self.session.pause()
        finally:
            self._scripting -= 1

    def _run_again(self) -> None:
        self._left = None
        self._guarded(self.open, self.walk.number)

    # -- compare ------------------------------------------------------------------------------------------

    def _start_compare(self, variants: dict[str, Config], setup: StepState) -> None:
        self._mark()  # the lesson's experiment is left as it was
        self.chart.root.visible = True
        key = (self.walk.number, self.walk.state.seed)
        cached = self._curves.get(key)
        if cached is not None:
            self.chart.draw(cached)
            return
        epochs = self.walk.step.subject(setup, self.registry).fixed_epochs or 0
        training = VariantTraining(variants, epochs, self.registry)
        self.chart.clear()

        def work() -> Iterator[None]:
            for _ in training.work():
                if self.chart.due():
                    self.chart.draw(training.curves())
                yield

        def done() -> None:
            curves = training.curves()
            self._curves[key] = curves
            self.chart.draw(curves)

        self.slices.start(work(), lambda: self._guarded(done))

    # -- the student's actions ----------------------------------------------------------------------------

    def _chose(self, _attr: str, _old: Any, new: Any) -> None:
        if self._syncing or new is None:
            return
        self._respond(int(new) + 1)

    def _answer_number(self, text: str) -> None:
        if self._syncing or not str(text).strip():
            return
        self._respond(str(text).strip())

    def _respond(self, response: Any) -> None:
        try:
            feedback = self.walk.respond(response)
        except ValueError as exc:
            self.feedback.text = Html('<div class="cw-feedback cw-wrong">{}</div>').format(exc)
            return
        self._show_feedback(feedback)
        self._show_nav()
        self._show_url()

    def _hint(self) -> None:
        self.walk.show_hint()
        self._show_hints()
        self._show_url()

    def _reveal(self) -> None:
        self.walk.reveal()
        self._show_answer()
        self._show_url()

    # -- frames: runs and goals ---------------------------------------------------------------------------

    def _on_frame(self, frame: Any) -> None:
        if self._run is not None and not self._scripting:
            self._guarded(self._follow_run, frame)
        elif self.walk.step.goal is not None and not self._scripting and not self.slices.busy:
            self._guarded(self._check_goal, frame.playing)

    def _check_goal(self, playing: bool = False, force: bool = False) -> None:
        number = self.walk.number
        was = number in self.walk.state.reached
        self.walk.check_goal(Measurements.of_experiment(self.session.experiment))
        now = time.perf_counter()
        reached = number in self.walk.state.reached
        if reached != was:
            self._show_nav()
            self._show_url()
        elif not force and playing and now - self._goal_shown < TEXT_INTERVAL_S:
            return
        self._goal_shown = now
        self._show_goal()

    def _goal_values(self, goal: Condition) -> Html:
        """The goal's metrics measured on the live experiment: ``test_loss 0.082 · neurons 3``."""
        measurements = Measurements.of_experiment(self.session.experiment)
        table = MetricTable([(measurements, np.arange(1))], 1, self.registry)
        parts = []
        for name in sorted(goal.metrics, key=lambda m: (goal.text.find(m), m)):
            value = float(table.values(name)[0])
            boolean = getattr(self.registry.metric(name), "unit", "") == BOOLEAN_UNIT
            parts.append(Html("{} <b>{}</b>").format(name, _value(value, boolean)))
        return Html(" · ").join(parts)

    def _holds(self, condition: Condition) -> bool:
        measurements = Measurements.of_experiment(self.session.experiment)
        table = MetricTable([(measurements, np.arange(1))], 1, self.registry)
        return bool(evaluate(condition, table, {"": np.arange(1)})[0])

    # -- drawing the panel --------------------------------------------------------------------------------

    def _show_step(self, setup: StepState) -> None:
        walk, step = self.walk, self.walk.step
        n, total = walk.number, walk.total
        self.progress.text = Html(
            '<div class="cw-progress-text">Step {} of {}</div>'
            '<div class="cw-progress"><div style="width: {:.1f}%"></div></div>'
        ).format(n, total, 100 * n / total)
        settings = EMPTY
        payload = step.payload()
        if step.restarts and isinstance(payload.get("set"), dict) and payload["set"]:
            settings = Html(
                '<div class="cw-settings">New settings: {}. The network starts again from new weights.</div>'
            ).format(settings_text(payload["set"]))
        unlocked = sorted(self.lesson.controls.locked - setup.controls.locked)
        if step.interactive and unlocked:
            names = Html(", ").join(Html("<code>{}</code>").format(u) for u in unlocked)
            settings += Html('<div class="cw-settings">Unlocked for this step: {}.</div>').format(names)
        self.step_view.text = Html('<div class="cw-step"><div class="cw-kind">{}</div><h3>{}</h3>{}{}</div>').format(
            _kind_label(step), markdown_inline(step.title), markdown(step.text), settings
        )
        self._show_task(payload)
        self.goal.visible = step.goal is not None
        if step.goal is not None:
            self._show_goal(live=False)  # measured once the experiment stands where the step starts
        self.chart.root.visible = False
        self.rerun.visible = step.plan is not None
        self.status.text = EMPTY
        self._show_hints()
        self._show_answer()
        self._show_nav()

    def _show_task(self, payload: dict[str, Any]) -> None:
        step = self.walk.step
        asks = step.task == "answer"
        question = payload.get("question")
        self.question.visible = asks and bool(question)
        self.question.text = Html('<div class="cw-question">{}</div>').format(markdown(str(question or "")))
        options = payload.get("choices", payload.get("options"))
        choices = [str(o) for o in options] if asks and isinstance(options, list) else None
        recorded = self.walk.state.answers.get(self.walk.number)
        self._syncing = True
        try:
            self.choices.visible = choices is not None
            self.choices.labels = choices or []
            self.choices.active = _choice_index(recorded, len(choices or []))
            self.number_row.visible = asks and choices is None
            self.number.value = recorded if (recorded is not None and choices is None) else ""
        finally:
            self._syncing = False
        feedback = self.walk.feedback() if asks else None
        self.feedback.visible = asks
        if feedback is not None:
            self._show_feedback(feedback)
        else:
            self.feedback.text = EMPTY

    def _show_feedback(self, feedback: Feedback) -> None:
        if feedback.correct is None:
            kind, head = "cw-neutral", EMPTY
        elif feedback.correct:
            kind, head = "cw-right", Html("<b>✓ Correct.</b> ")
        else:
            kind, head = "cw-wrong", Html("<b>✗ Not quite.</b> ")
        self.feedback.visible = True
        self.feedback.text = Html('<div class="cw-feedback {}">{}{}</div>').format(
            kind, head, markdown(feedback.message)
        )

    def _show_goal(self, live: bool = True) -> None:
        step = self.walk.step
        goal = step.goal
        if goal is None:
            return
        reached = self.walk.number in self.walk.state.reached
        head = Html('<div class="cw-goal"><div>Goal: <code>{}</code></div>').format(goal)
        now = self._goal_values(goal) if live else EMPTY
        values = Html('<div class="cw-goal-now">Now: {}</div>').format(now) if now else EMPTY
        if reached:
            self.goal.text = Html(
                '<div class="cw-goal-reached" role="status">✓ Goal reached!</div>'
                '<div class="cw-feedback cw-right">{}</div>{}{}</div>'
            ).format(markdown(step.reached_message()), head, values)
        else:
            self.goal.text = head + values + Html("</div>")

    def _show_hints(self) -> None:
        step = self.walk.step
        shown = self.walk.hints_shown()
        self.hint_button.visible = bool(step.hints)
        more = len(shown) < len(step.hints)
        self.hint_button.disabled = not more
        if not shown:
            self.hint_button.label = f"Show a hint (of {len(step.hints)})" if len(step.hints) > 1 else "Show a hint"
        else:
            self.hint_button.label = "Another hint" if more else "No more hints"
        self.hints.visible = bool(shown)
        self.hints.text = EMPTY.join(
            Html('<div class="cw-hint"><b>Hint {}.</b> {}</div>').format(i, markdown(h))
            for i, h in enumerate(shown, start=1)
        )

    def _show_answer(self) -> None:
        step = self.walk.step
        revealed = self.walk.number in self.walk.state.revealed and step.answer is not None
        self.reveal_button.visible = step.answer is not None and not revealed
        self.answer.visible = revealed
        self.answer.text = (
            Html('<div class="cw-answer-box"><b>Answer.</b> {}</div>').format(markdown(step.answer or ""))
            if revealed
            else EMPTY
        )

    def _show_nav(self) -> None:
        walk = self.walk
        self.back.disabled = walk.number == 1
        self.next.visible = not walk.at_end
        self.next.disabled = not walk.done
        step = walk.step
        if not walk.done:
            what = "Answer the question" if step.task == "answer" else "Reach the goal"
            self.next.html_attributes = {"title": f"{what} to go on."}
        else:
            self.next.html_attributes = {}
        self.end.visible = walk.at_end and walk.done
        self.end.text = Html(
            '<div class="cw-end"><b>✓ You have finished this lesson.</b> <a href="./">Back to all lessons</a></div>'
        )

    def _status(self, html: Html) -> None:
        self.status.visible = bool(html)
        shown = Html('<div class="cw-status">{}</div>').format(html) if html else EMPTY
        if self.status.text != shown:
            self.status.text = shown

    def _show_url(self) -> None:
        self.session.state.page_query = walk_query(self.walk.state)

    def _guarded(self, fn: Any, *args: Any) -> Any:
        """Run a step's action; a failure (a broken plugin, a bad setting) is shown, not swallowed."""
        try:
            return fn(*args)
        except Exception as exc:
            message = f"Step {self.walk.number} of this lesson failed: {type(exc).__name__}: {exc}"
            if message != self._failed:  # a failure on every frame is logged once
                log.exception("lesson %s, step %d failed", self.lesson.id, self.walk.number)
            self._failed = message
            self.session.notices.set("lesson", message)
            return None


# -- helpers ----------------------------------------------------------------------------------------------


def _training(config: Config) -> Config:
    """``config`` without the settings that only change what is shown (for comparing experiments)."""
    return replace(config, **NOT_TRAINING)


def _kind_label(step: Any) -> str:
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


def _choice_index(recorded: str | None, count: int) -> int | None:
    if recorded is None:
        return None
    try:
        index = int(float(recorded)) - 1
    except ValueError:
        return None
    return index if 0 <= index < count else None


def _value(value: float, boolean: bool) -> str:
    if boolean:
        return "yes" if value == 1 else "no"
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    return js_to_fixed(value, 3) if abs(value) >= 0.001 else f"{value:.2g}"
