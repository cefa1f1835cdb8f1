"""The lesson page: a lesson walked through beside a full (compact) playground.

:func:`build_lesson_panel` is what the server places left of the playground at ``/lesson?lesson=<id>``.
One :class:`LessonPanel` per browser session is the page's controller: it drives a
:class:`~courseware.lessons.walk.Walk` and scripts the session's experiment as the lesson says. It is
one of three parts:

* this module - navigation (which step opens, and with which experiment), the student's actions
  (answers, hints, the answer, the solution), goals judged on every frame, the address and the
  progress kept in the student's browser;
* :mod:`courseware.server.lessontraining` - the training a step does (a run with the playground's
  player, the replay of the lesson so far, a compare step's variants), in slices where it is long;
* :mod:`courseware.server.lessonviews` - the panel's widgets and the HTML of each part, all through
  :mod:`courseware.server.html`, in words built from the components' and metrics' labels.

Opening a step hides and locks the controls the step names and brings the experiment to where the step
starts: rebuilt from the step's configuration and replayed (``Walk.setup``), unless it stands exactly
where the previous step left it (then it continues, as the lesson describes), or the step is one where
the student experiments (a goal, free play) opened with **Next** and the lesson's settings do not
change there: then the network the student built is kept. Whenever the page undoes the student's own
settings it says so, in words. Steps open in order: a question must be answered and a goal reached
before a later step opens (:meth:`~courseware.lessons.walk.Walk.can_open`), whatever the address says.

The controller never looks at a step's class, only at the step protocol (``plan``, ``variants``,
``goal``, ``task``, ``payload``, ``restarts``, ``interactive``, ``solution``), so plugin step kinds get
the same page.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from bokeh.events import DocumentReady
from bokeh.models import Div, InlineStyleSheet, LayoutDOM

from courseware.config import TRAINING_SETTINGS, Config, training_config
from courseware.lessons.address import experiment_query, walk_from_query, walk_query
from courseware.lessons.catalog import LessonEntry, discover
from courseware.lessons.conditions import NAME_UNIT
from courseware.lessons.lesson import PAGE_CONTROLS, Lesson
from courseware.lessons.measure import Measurements, MetricTable
from courseware.lessons.steps import StepState
from courseware.lessons.walk import Walk
from courseware.lessons.wording import (
    describe_changes,
    describe_condition,
    describe_controls,
    describe_setting,
    join_words,
)
from courseware.registry import Registry
from courseware.server import lessonviews as views
from courseware.server.html import EMPTY, Html
from courseware.server.lessons import error_lines
from courseware.server.lessontraining import Script, StepTraining
from courseware.server.page import query_mapping
from courseware.server.session import address_notice
from courseware.settings import HIDABLE_CONTROLS, NO_REGULARIZATION, OPTIONAL_CONTROLS, default_optimizer, page_limits
from courseware.server.state import progress_store_js

log = logging.getLogger(__name__)

TEXT_INTERVAL_S = 0.2  # a goal's live readings are redrawn at most this often while playing
DISPLAY_SETTINGS = ("showTestData", "discretize")  # the student's view options, kept from step to step


def build_lesson_panel(
    session: Any,
    lesson_id: str,
    folders: Sequence[str | os.PathLike[str]],
    arguments: Mapping[str, Any] | None = None,
    *,
    dev: bool = False,
) -> LayoutDOM:
    """The side panel of lesson ``lesson_id`` for one browser session (the server's seam).

    ``session`` is the page's :class:`~courseware.server.session.PlaygroundSession`; ``folders`` the
    served lesson folders (plugin lesson packs are searched too). ``arguments`` are the page request's
    query arguments (name -> values); by default they are read from the session's request. Raises
    ``LookupError`` for an unknown id. A lesson that does not load gives a short "unavailable"
    panel; with ``dev`` (``courseware serve --dev``, the instructor's view) it lists every problem.
    """
    entries = discover(list(folders), session.shared_registry)  # (lessons are cached per server registry)
    entry = next((e for e in entries if e.id == lesson_id and e.ok), None)
    if entry is None or entry.lesson is None:
        broken = next((e for e in entries if e.id == lesson_id), None)
        if broken is None:
            known = ", ".join(e.id for e in entries if e.ok) or "none"
            raise LookupError(f"no lesson {lesson_id!r}; lessons: {known}")
        return unavailable_panel(broken, dev)
    if arguments is None:
        arguments = _request_arguments(session.doc)
    return LessonPanel(session, entry.lesson, arguments, next_lesson=_next_lesson(entries, entry)).root


def unavailable_panel(entry: LessonEntry, dev: bool) -> LayoutDOM:
    """What a student sees for a lesson that does not load (and, with ``dev``, its problems)."""
    return Div(
        text=views.unavailable_html(entry.title, error_lines(entry) if dev else None),
        width=views.PANEL_WIDTH, name="lesson-unavailable", css_classes=["cw-lesson-unavailable"],
        stylesheets=[InlineStyleSheet(css=views.PANEL_CSS)], styles={"padding": "12px"},
    )  # fmt: skip


def _next_lesson(entries: Sequence[LessonEntry], entry: LessonEntry) -> tuple[str, str] | None:
    """The lesson after ``entry`` in the index's order that opens (id, title), if any."""
    after = False
    for candidate in entries:
        if candidate is entry:
            after = True
        elif after and candidate.ok:
            return candidate.id, candidate.title
    return None


def _request_arguments(doc: Any) -> Mapping[str, Any]:
    context = doc.session_context
    request = getattr(context, "request", None) if context is not None else None
    return dict(request.arguments) if request is not None else {}


class LessonPanel:
    """One student's lesson beside their playground (see the module docstring)."""

    def __init__(
        self,
        session: Any,
        lesson: Lesson,
        arguments: Mapping[str, Any],
        next_lesson: tuple[str, str] | None = None,
    ) -> None:
        self.session = session
        self.lesson = lesson
        self.registry: Registry = session.registry
        self.next_lesson = next_lesson
        session.test_loss_follows_ratio = False  # the lesson's text speaks of the test loss: always shown
        query, decode_notices = query_mapping(arguments)
        state, walk_notices = walk_from_query(query, lesson)
        self.walk = Walk(lesson, state, self.registry)
        self.script = Script()
        self.widgets = views.PanelWidgets(lesson.title, session.clock)
        self.root: LayoutDOM = self.widgets.root
        self.training = StepTraining(session, self.registry, self.script, self.widgets.chart, self._status,
                                     self._guarded)  # fmt: skip
        self.training.on_finished = self._show_nav
        self._goal_shown = float("-inf")
        self._syncing = False  # True while the page itself sets the answer widgets
        self._failed: str | None = None  # the last failure shown (logged once)
        session.offer(self._offered())
        experiment = experiment_query(query)
        # The address is read within the lesson's limits (its limits:), or the server's where wider.
        limits = lesson.limits.widest(page_limits())
        config, config_notices = Config.from_query(experiment, self.registry, limits=limits)
        self._from_address: Config | None = config if experiment else None
        self._wire()
        session.notices.set("url", address_notice(decode_notices + config_notices + walk_notices))
        session.on_frame(self._on_frame)
        store = progress_store_js(session.state)
        session.state.js_on_change("progress", store)
        session.state.js_on_change("query", store)
        session.doc.js_on_event(DocumentReady, store)
        session.doc.title = f"{lesson.title} · courseware"
        self.open(self.walk.number, first=True)

    def _offered(self) -> set[str]:
        """The optional controls this lesson uses (``session.OPTIONAL_CONTROLS``): one the lesson or a
        step names in its controls (locked, hidden then shown, unlocked), the optimizer when a step
        trains with another one than the default, drawing when a step starts from drawn points. The
        others stay off the compact page."""
        default = default_optimizer(self.registry)
        named = set(self.lesson.controls.locked) | set(self.lesson.controls.hidden)
        for step in self.lesson.steps:
            named |= step.controls.show | step.controls.unlock | step.controls.lock
        offered = {name for name in OPTIONAL_CONTROLS if name in named}
        if any(s.config.optimizer not in ("", default) for s in self.lesson.states):
            offered.add("optimizer")
        if any(s.config.points for s in self.lesson.states):
            offered.add("drawing")
        return offered

    def _wire(self) -> None:
        """Every action from the browser is coalesced per frame by the session (a forged client can
        send thousands; opening a step rebuilds the experiment)."""
        w, browser = self.widgets, self.session.from_browser
        w.choices.on_change("active", lambda _a, _o, new: browser("lesson-choices", lambda: self._chose(new)))
        w.number.on_change("value", lambda _a, _o, new: browser("lesson-number", lambda: self._answer_number(new)))
        w.check.on_click(lambda: browser(
            "lesson-check", lambda: self._answer_number(w.number.value_input or w.number.value)
        ))  # fmt: skip
        w.hint.on_click(lambda: browser("lesson-hint", self._hint))
        w.reveal.on_click(lambda: browser("lesson-reveal", self._reveal))
        w.solve.on_click(lambda: browser("lesson-solve", lambda: self._guarded(self._apply_solution)))
        w.back.on_click(lambda: browser("lesson-back", lambda: self._guarded(self.open, self.walk.number - 1)))
        w.next.on_click(lambda: browser("lesson-next", lambda: self._guarded(self.open, self.walk.number + 1)))
        w.rerun.on_click(lambda: browser("lesson-rerun", self._run_again))

    # -- opening a step ----------------------------------------------------------------------------------

    def open(self, number: int, first: bool = False) -> None:
        """Open step ``number`` (or the first earlier step whose task is not done): its controls, its
        experiment, then its own action (run, compare, goal)."""
        previous = self.walk.number
        number = self.walk.can_open(number)
        self.training.cancel()
        before = training_config(self.session.experiment.config)
        self.walk.go(number)
        setup = self.walk.setup()
        keep = not first and self._keeps_network(previous, number)
        with self.script:  # the page's own changes: no goal judged, no run followed
            self.session.pause()
            self.session.lock(self._locked(setup))
            self.session.offer(self._offered() - set(setup.controls.hidden))  # a step may hide one it offers
            restored = first and self._restore_from_address(setup)
            rebuild = not restored and not keep and (setup.restart or not self.training.continues(number - 1))
            if rebuild:
                self.session.load(self._config_for(setup.config, first))
            elif not restored:
                self._set_hidden(setup)
        undone = self._undone(before) if rebuild and not first else ""
        self._show_step(setup, undone)
        if rebuild and setup.replay:
            self.training.replay(setup.replay, lambda: self._started(setup))
        else:
            self._started(setup)
        self._show_url()

    def _keeps_network(self, previous: int, number: int) -> bool:
        """Whether the student's own network stays: a step where they experiment, opened with Next,
        where the lesson's settings do not change."""
        step = self.lesson.step(number)
        return (
            number == previous + 1
            and step.interactive
            and not step.restarts
            and training_config(self.walk.config(number)) == training_config(self.walk.config(previous))
        )

    def _restore_from_address(self, setup: StepState) -> bool:
        """On a reload at a step where the student experiments, keep the experiment the address
        describes (their own settings; the training starts over)."""
        config = self._from_address
        if config is None or not self.walk.step.interactive or training_config(config) == training_config(setup.config):
            return False
        self.session.load(replace(config, hidden=self._hidden(setup)))
        return True

    def _started(self, setup: StepState) -> None:
        """The experiment stands where the step starts: do the step's own action."""
        step = self.walk.step
        number = self.walk.number
        variants = step.variants(setup.config, self.registry)
        if step.plan is not None:
            self.training.start_run(step.plan, number)
        elif variants:
            self.training.mark(number)  # the lesson's experiment is left as it was
            epochs = step.subject(setup, self.registry).fixed_epochs or 0
            self.training.compare(variants, epochs, (number, self.walk.state.seed))
        else:
            self._status(EMPTY)
            self.training.mark(number)
        if step.goal is not None:
            self._check_goal(force=True)

    def _run_again(self) -> None:
        self.training.forget()
        self._guarded(self.open, self.walk.number)

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

    def _differences(self, before: Config, after: Config) -> dict[str, Any]:
        """The settings that make ``after`` a different experiment from ``before``: key -> new value."""
        dataset_key = self.registry.problem(after.problem).dataset_field  # the dataset setting in use
        out: dict[str, Any] = {}
        for key in TRAINING_SETTINGS:
            if key in ("dataset", "regDataset") and key != dataset_key:
                continue
            if key == "regularizationRate" and after.regularization == NO_REGULARIZATION:
                continue
            if getattr(before, key) != getattr(after, key):
                out[key] = getattr(after, key)
        return out

    def _undone(self, before: Config) -> str:
        """In words, the student's own settings the page just set back to the lesson's (not those the
        step itself announces as new)."""
        announced = self.walk.step.payload().get("set") if self.walk.step.restarts else None
        differences = self._differences(before, training_config(self.session.experiment.config))
        for key in announced or {}:
            differences.pop(key, None)
        if not differences:
            return ""
        words = [
            "the lesson's data and starting weights" if key == "seed" else describe_setting(key, value, self.registry)
            for key, value in differences.items()
        ]
        return f"The playground is back to the lesson's settings for this step: {join_words(words)}."

    # -- the student's actions ----------------------------------------------------------------------------

    def _chose(self, new: Any) -> None:
        if self._syncing or new is None:
            return
        self._respond(int(new) + 1)

    def _answer_number(self, text: str) -> None:
        if self._syncing or not str(text).strip():
            return
        self._respond(str(text).strip())

    def _respond(self, response: Any) -> None:
        if self.walk.step.task != "answer":  # a forged change of a widget this step does not show
            return
        try:
            feedback = self.walk.respond(response)
        except ValueError as exc:
            self.widgets.feedback.text = views.refused_html(str(exc))
            return
        self.widgets.feedback.text = views.feedback_html(feedback)
        self.widgets.feedback.visible = True
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

    def _apply_solution(self) -> None:
        """The goal step's solution, applied by the page (locked controls included: it is the lesson's
        own action), from new weights as ``check`` verified it; the student presses play."""
        step = self.walk.step
        setup = self.walk.setup()
        subject = step.solution(setup, self.registry) if step.goal is not None else None
        if subject is None:
            return
        config = subject.variants[0][1]
        live = self.session.experiment.config
        budget = subject.plans[-1].limit if subject.plans else 0
        with self.script:
            self.session.load(replace(config, hidden=self._hidden(setup), showTestData=live.showTestData,
                                      discretize=live.discretize))  # fmt: skip
        self.training.forget()
        changes = {k: v for k, v in self._differences(setup.config, config).items() if k != "seed"}
        what = describe_changes(changes, self.registry) if changes else "The lesson's settings for this step."
        self._status(Html("<b>The solution is in place.</b> {} The network starts again from new weights: "
                          "press ▶ and watch the goal (it is usually reached within {} epochs).")
                     .format(what, budget))  # fmt: skip
        self._check_goal(force=True)

    # -- frames: runs and goals ---------------------------------------------------------------------------

    def _on_frame(self, frame: Any) -> None:
        if self.script.active:
            return
        if self.training.run is not None:
            self._guarded(self.training.follow, frame)
        elif self.walk.step.goal is not None and not self.training.busy:
            self._guarded(self._check_goal, frame.playing)

    def _check_goal(self, playing: bool = False, force: bool = False) -> None:
        """Judge the goal on the live experiment (the walk's ``GoalTracker`` counts the epochs it has
        held) and redraw the badge: at once when its state changes, else at most every
        ``TEXT_INTERVAL_S`` while playing."""
        was_done, was_state = self.walk.done, self.walk.goal_state()
        self.walk.check_goal(Measurements.of_experiment(self.session.experiment))
        if self.walk.done != was_done:
            self._show_nav()
            self._show_url()
        now = self.session.clock()
        changed = self.walk.goal_state() != was_state
        if not force and not changed and playing and now - self._goal_shown < TEXT_INTERVAL_S:
            return
        self._goal_shown = now
        self._show_goal(live=True)

    def _goal_view(self, live: bool) -> views.GoalView:
        step = self.walk.step
        goal = step.goal
        assert goal is not None
        tracker = self.walk.goal_tracker()
        readings: list[tuple[str, str]] = []
        if live:
            measurements = Measurements.of_experiment(self.session.experiment)
            table = MetricTable([(measurements, np.arange(1))], 1, self.registry)
            numbers = views.condition_numbers(goal)
            for name in sorted(goal.metrics, key=lambda m: (goal.text.find(m), m)):
                metric = self.registry.metric(name)
                label = getattr(metric, "label", "") or name.replace("_", " ")
                unit = getattr(metric, "unit", "")
                value = table.values(name)[0]
                if unit == NAME_UNIT:  # a choice (the activation): its label, as the menu shows it
                    readings.append((label, self._choice_label(metric, str(value))))
                else:
                    readings.append((label, views.reading(float(value), unit, numbers)))
        state = self.walk.goal_state()
        assert state is not None
        return views.GoalView(describe_condition(goal, self.registry), state, tracker.streak, tracker.hold, readings,
                              step.reached_message())  # fmt: skip

    def _choice_label(self, metric: Any, value: str) -> str:
        choices = getattr(metric, "choices", None)
        try:
            known = choices(self.registry) if choices is not None else {}
        except Exception:  # a plugin's choices failing: the name still reads
            known = {}
        return str(known.get(value, value)) if isinstance(known, Mapping) else value

    # -- drawing the panel --------------------------------------------------------------------------------

    def _show_step(self, setup: StepState, undone: str) -> None:
        walk, step, w = self.walk, self.walk.step, self.widgets
        w.progress.text = views.progress_html(walk.number, walk.total)
        notes = []
        payload = step.payload()
        if step.restarts and isinstance(payload.get("set"), dict) and payload["set"]:
            notes.append(describe_changes(payload["set"], self.registry) + " The network starts again from new weights.")
        unlocked = sorted(self.lesson.controls.locked - setup.controls.locked)
        if step.interactive and unlocked:
            notes.append(f"Unlocked for this step: {describe_controls(unlocked, self.registry)}.")
        notes.append(undone)
        w.step.text = views.step_html(step, notes)
        self._show_task(payload)
        w.goal.visible = step.goal is not None
        if step.goal is not None:
            w.goal.text = views.goal_html(self._goal_view(live=False))  # readings once the experiment stands
        w.chart.root.visible = False
        w.rerun.visible = step.plan is not None
        w.solve.visible = step.goal is not None and step.solution(setup, self.registry) is not None
        self._status(EMPTY)
        self._show_hints()
        self._show_answer()
        self._show_nav()

    def _show_task(self, payload: dict[str, Any]) -> None:
        w, step = self.widgets, self.walk.step
        asks = step.task == "answer"
        question = payload.get("question")
        w.question.visible = asks and bool(question)
        w.question.text = views.question_html(str(question or ""))
        options = payload.get("choices", payload.get("options"))
        choices = [str(o) for o in options] if asks and isinstance(options, list) else None
        recorded = self.walk.state.answers.get(self.walk.number)
        self._syncing = True
        try:
            w.choices.visible = choices is not None
            w.choices.labels = choices or []
            w.choices.active = _choice_index(recorded, len(choices or []))
            w.number_row.visible = asks and choices is None
            w.number.value = recorded if (recorded is not None and choices is None) else ""
        finally:
            self._syncing = False
        feedback = self.walk.feedback() if asks else None
        w.feedback.visible = asks
        w.feedback.text = views.feedback_html(feedback) if feedback is not None else EMPTY

    def _show_goal(self, live: bool = True) -> None:
        if self.walk.step.goal is not None:
            self.widgets.goal.text = views.goal_html(self._goal_view(live))

    def _show_hints(self) -> None:
        w, step = self.widgets, self.walk.step
        shown = self.walk.hints_shown()
        w.hint.visible = bool(step.hints)
        w.hint.disabled = len(shown) >= len(step.hints)
        w.hint.label = views.hint_label(len(shown), len(step.hints))
        w.hints.visible = bool(shown)
        w.hints.text = views.hints_html(shown)

    def _show_answer(self) -> None:
        w, step = self.widgets, self.walk.step
        revealed = self.walk.number in self.walk.state.revealed and step.answer is not None
        w.reveal.visible = step.answer is not None and not revealed
        w.answer.visible = revealed
        w.answer.text = views.answer_html(step.answer or "") if revealed else EMPTY

    def _show_nav(self) -> None:
        w, walk = self.widgets, self.walk
        w.back.disabled = walk.number == 1
        w.next.visible = not walk.at_end
        w.next.disabled = not walk.done
        if not walk.done:
            what = "Answer the question" if walk.step.task == "answer" else "Reach the goal"
            w.next.html_attributes = {"title": f"{what} to go on."}
        else:
            w.next.html_attributes = {}
        w.end.visible = walk.finished
        w.end.text = views.end_html(self.next_lesson)

    def _status(self, html: Html) -> None:
        w = self.widgets
        w.status.visible = bool(html)
        shown = views.status_html(html)
        if w.status.text != shown:
            w.status.text = shown

    def _show_url(self) -> None:
        """The walk in the address bar, and the student's progress in their own browser (the page's
        script keeps it in localStorage for the index; nothing is stored on the server)."""
        walk = self.walk
        state = self.session.state
        state.page_query = walk_query(walk.state)
        state.progress = json.dumps({
            "lesson": self.lesson.id,
            "step": walk.number,
            "total": walk.total,
            "done": walk.steps_done(),
            "finished": walk.finished,
            "answers": {str(k): v for k, v in sorted(walk.state.answers.items())},
            "reached": sorted(walk.state.reached),
        }, sort_keys=True)  # fmt: skip

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> Any:
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


def _choice_index(recorded: str | None, count: int) -> int | None:
    if recorded is None:
        return None
    try:
        index = int(float(recorded)) - 1
    except ValueError:
        return None
    return index if 0 <= index < count else None
