"""A student's way through a lesson: where they are, what they answered, which hints they saw.

:class:`WalkState` is plain data that round-trips through URL parameters, so reloading the lesson
page (or sharing its URL) returns to the same step with the same answers::

    lesson=more-neurons&step=4&seed=0.52213&answers=2:1,6:0.42&hints=5:2&revealed=5&reached=7

:class:`Walk` is what the lesson page drives: it moves between steps, records responses, reveals
hints and answers, checks goals on the student's live experiment, and says which controls are
hidden or locked and how the experiment must be set up when a step opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

import numpy as np

from courseware import config as config_module
from courseware.config import Config
from courseware.lessons.goals import GoalState, GoalTracker
from courseware.lessons.lesson import Lesson
from courseware.lessons.measure import Measurements, MetricTable, evaluate
from courseware.lessons.steps import Controls, Feedback, Step, StepState
from courseware.registry import Registry

WALK_KEYS = ("lesson", "step", "seed", "answers", "hints", "revealed", "reached")


@dataclass
class WalkState:
    """Everything about a walk-through that is not in the lesson: serialisable to URL parameters.

    Step numbers count from 1. ``answers`` maps a step to the student's response as text (a choice
    number or a number); ``hints`` to how many hints are shown; ``revealed`` lists steps whose answer
    is shown; ``reached`` lists goal steps the student has reached.
    """

    lesson: str
    step: int = 1
    seed: str | None = None
    answers: dict[int, str] = field(default_factory=dict)
    hints: dict[int, int] = field(default_factory=dict)
    revealed: set[int] = field(default_factory=set)
    reached: set[int] = field(default_factory=set)

    def to_params(self) -> dict[str, str]:
        params = {"lesson": self.lesson, "step": str(self.step)}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.answers:
            params["answers"] = ",".join(f"{n}:{a}" for n, a in sorted(self.answers.items()))
        if self.hints:
            params["hints"] = ",".join(f"{n}:{c}" for n, c in sorted(self.hints.items()) if c)
        if self.revealed:
            params["revealed"] = ",".join(str(n) for n in sorted(self.revealed))
        if self.reached:
            params["reached"] = ",".join(str(n) for n in sorted(self.reached))
        return params

    def to_query(self) -> str:
        return "&".join(f"{k}={quote(v, safe=',.:-_~')}" for k, v in self.to_params().items())

    @classmethod
    def from_query(cls, query: str | dict[str, str], lesson: Lesson) -> tuple[WalkState, list[str]]:
        """Read URL parameters leniently: anything invalid for ``lesson`` is dropped with a notice."""
        if isinstance(query, str):
            params = dict(parse_qsl(query.lstrip("#?"), keep_blank_values=True))
        else:
            params = dict(query)
        notices: list[str] = []
        total = len(lesson.steps)
        state = cls(lesson.id)
        given = params.get("lesson")
        if given is not None and given != lesson.id:
            notices.append(f"ignored lesson={given!r}: this is lesson {lesson.id!r}")

        def step_number(text: str, what: str) -> int | None:
            try:
                number = int(text)
            except ValueError:
                notices.append(f"ignored {what} {text!r}: not a step number")
                return None
            if not 1 <= number <= total:
                notices.append(f"ignored {what} {number}: the lesson has steps 1 to {total}")
                return None
            return number

        if "step" in params:
            state.step = step_number(params["step"], "step") or 1
        if "seed" in params:
            seed = params["seed"]
            if lesson.fixed_seed is not None and seed != lesson.fixed_seed:
                notices.append(f"ignored seed {seed!r}: this lesson uses seed {lesson.fixed_seed!r}")
            elif not seed or len(seed) > 64 or not seed.isprintable():
                notices.append(f"ignored seed {seed!r}: not a usable seed")
            else:
                state.seed = seed
        for number, value in _pairs(params.get("answers", ""), notices, "answers"):
            n = step_number(number, "answer for step")
            if n is None:
                continue
            step = lesson.step(n)
            try:
                step.respond(value)
            except ValueError as exc:
                notices.append(f"ignored the answer for step {n}: {exc}")
                continue
            state.answers[n] = value
        for number, value in _pairs(params.get("hints", ""), notices, "hints"):
            n = step_number(number, "hints for step")
            if n is None:
                continue
            available = len(lesson.step(n).hints)
            try:
                count = int(value)
            except ValueError:
                notices.append(f"ignored hints for step {n}: {value!r} is not a count")
                continue
            if not 0 <= count <= available:
                notices.append(f"ignored hints for step {n}: it has {available} hints")
                continue
            state.hints[n] = count
        for text in _items(params.get("revealed", "")):
            n = step_number(text, "revealed step")
            if n is not None:
                if lesson.step(n).answer is None:
                    notices.append(f"ignored revealed step {n}: it has no answer to reveal")
                else:
                    state.revealed.add(n)
        for text in _items(params.get("reached", "")):
            n = step_number(text, "reached step")
            if n is not None:
                if lesson.step(n).goal is None:
                    notices.append(f"ignored reached step {n}: it has no goal")
                else:
                    state.reached.add(n)
        return state, notices


def first_unfinished(lesson: Lesson, state: WalkState, before: int) -> int | None:
    """The first step before step ``before`` whose task the student has not done, if any.

    A lesson requires its tasks in order: a question must be answered (any answer; feedback says
    whether it was right) and a goal reached before any later step opens. The page's Next waits for
    it, and a step number in the address cannot skip it.
    """
    for number in range(1, min(before, len(lesson.steps) + 1)):
        task = lesson.step(number).task
        if task == "answer" and number not in state.answers:
            return number
        if task == "reach" and number not in state.reached:
            return number
    return None


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pairs(text: str, notices: list[str], what: str) -> list[tuple[str, str]]:
    out = []
    for item in _items(text):
        number, sep, value = item.partition(":")
        if not sep or not value:
            notices.append(f"ignored {what} item {item!r}: expected STEP:VALUE")
            continue
        out.append((number, value))
    return out


class Walk:
    """A lesson being followed by one student (see the module docstring).

    The page keeps one per session: it reads :meth:`view` to draw the step, calls :meth:`respond`,
    :meth:`show_hint`, :meth:`reveal`, :meth:`go`, and, while the student trains, :meth:`check_goal`.
    When :meth:`setup` says ``restart``, the page rebuilds its experiment from ``setup().config`` and
    trains it by ``setup().replay`` before the step's own plan.
    """

    def __init__(self, lesson: Lesson, state: WalkState | None, registry: Registry) -> None:
        self.lesson = lesson
        self.registry = registry
        self.state = state or WalkState(lesson.id)
        self._trackers: dict[int, GoalTracker] = {}
        if self.state.seed is None:
            self.state.seed = lesson.fixed_seed or config_module.new_seed()

    # -- where we are ---------------------------------------------------------------------------------

    @property
    def number(self) -> int:
        return self.state.step

    @property
    def step(self) -> Step:
        return self.lesson.step(self.state.step)

    @property
    def total(self) -> int:
        return len(self.lesson.steps)

    @property
    def at_end(self) -> bool:
        return self.state.step == self.total

    def go(self, number: int) -> Step:
        """Open step ``number`` (1 to total)."""
        self.lesson.step(number)  # raises IndexError with the range
        self.state.step = number
        return self.step

    def next(self) -> Step:
        return self.go(min(self.state.step + 1, self.total))

    def back(self) -> Step:
        return self.go(max(self.state.step - 1, 1))

    # -- the experiment -------------------------------------------------------------------------------

    def setup(self, number: int | None = None) -> StepState:
        """How the lesson's experiment stands when step ``number`` (default: current) opens."""
        return self.lesson.state(number or self.state.step, self.state.seed)

    def config(self, number: int | None = None) -> Config:
        return self.setup(number).config

    def controls(self, number: int | None = None) -> Controls:
        return self.setup(number).controls

    # -- the student's actions ----------------------------------------------------------------------------

    def respond(self, response: Any) -> Feedback:
        """Record the student's response to the current step and return its feedback."""
        feedback = self.step.respond(response)
        self.state.answers[self.state.step] = str(response)
        return feedback

    def feedback(self, number: int | None = None) -> Feedback | None:
        """Feedback for the recorded response to step ``number``, if any."""
        n = number or self.state.step
        if n not in self.state.answers:
            return None
        return self.lesson.step(n).respond(self.state.answers[n])

    def show_hint(self) -> str | None:
        """Reveal the current step's next hint (``None`` when all are shown)."""
        step, n = self.step, self.state.step
        shown = self.state.hints.get(n, 0)
        if shown >= len(step.hints):
            return None
        self.state.hints[n] = shown + 1
        return step.hints[shown]

    def hints_shown(self, number: int | None = None) -> list[str]:
        n = number or self.state.step
        return list(self.lesson.step(n).hints[: self.state.hints.get(n, 0)])

    def reveal(self) -> str | None:
        """Show the current step's answer or explanation, if it has one."""
        if self.step.answer is None:
            return None
        self.state.revealed.add(self.state.step)
        return self.step.answer

    def check_goal(self, measurements: Measurements) -> Feedback | None:
        """Read the student's experiment for the current step's goal; ``None`` when it has none.

        Call it once per epoch trained (``measurements`` is usually
        ``Measurements.of_experiment(experiment)``): a goal counts only after its condition has held
        for the step's ``hold`` consecutive epochs (:class:`GoalTracker`). Once reached it stays
        reached (the step is done), but :meth:`goal_state` tells whether it still holds.
        """
        step, n = self.step, self.state.step
        if step.goal is None:
            return None
        table = MetricTable([(measurements, _all(measurements.k))], measurements.k, self.registry)
        held = bool(evaluate(step.goal, table, {"": _all(measurements.k)})[0])
        tracker = self.goal_tracker()
        if n in self.state.reached:
            tracker.ever_reached = True
        tracker.observe(int(measurements.epoch[0]), held)
        if tracker.ever_reached:
            self.state.reached.add(n)
            return Feedback(True, step.reached_message())
        return Feedback(False, f"Not yet: {step.goal}")

    def goal_tracker(self) -> GoalTracker:
        """The current goal step's tracker (one per step, kept while the walk lives)."""
        step = self.step
        hold = int(getattr(step, "hold", 1) or 1)
        return self._trackers.setdefault(self.state.step, GoalTracker(hold=hold))

    def goal_state(self) -> GoalState | None:
        """The current goal's state (pending, holding, reached, lost); ``None`` without a goal."""
        if self.step.goal is None:
            return None
        tracker = self.goal_tracker()
        if self.state.step in self.state.reached:
            tracker.ever_reached = True
        return tracker.state

    def can_open(self, number: int) -> int:
        """The step that opens when the student asks for step ``number``: ``number`` itself, or the
        first earlier step whose task is not done (see :func:`first_unfinished`)."""
        number = min(max(number, 1), self.total)
        return first_unfinished(self.lesson, self.state, number) or number

    def steps_done(self) -> int:
        """How many steps are behind the student: those before the current one (tasks are done in
        order), and the current one if its task is done."""
        return self.state.step - 1 + (1 if self.done else 0)

    @property
    def finished(self) -> bool:
        """The last step is open and done."""
        return self.at_end and self.done

    @property
    def done(self) -> bool:
        """Whether the current step's task is complete (a step without a task always is)."""
        task, n = self.step.task, self.state.step
        if task == "answer":
            return n in self.state.answers
        if task == "reach":
            return n in self.state.reached
        return True

    # -- for the page -----------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """Everything the page shows for the current step, JSON-ready."""
        n = self.state.step
        step = self.step
        feedback = self.feedback()
        setup = self.setup()
        return {
            "lesson": {"id": self.lesson.id, "title": self.lesson.title},
            "number": n,
            "total": self.total,
            "step": step.to_dict(),
            "hints": self.hints_shown(),
            "more_hints": self.state.hints.get(n, 0) < len(step.hints),
            "answer": step.answer if n in self.state.revealed else None,
            "response": self.state.answers.get(n),
            "feedback": feedback.to_dict() if feedback is not None else None,
            "reached": n in self.state.reached,
            "done": self.done,
            "controls": setup.controls.to_dict(),
            "restart": setup.restart,
            "config": setup.config.to_query(self.registry),
            "seed": self.state.seed,
            "url": self.state.to_query(),
        }


def _all(k: int) -> np.ndarray:
    return np.arange(k)
