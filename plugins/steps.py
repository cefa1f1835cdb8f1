"""The built-in lesson step kinds: text, change, run, question, goal, compare and explore.

Each kind is a :class:`~courseware.lessons.Step` subclass plus a parse function that reads its YAML
with :class:`~courseware.lessons.Fields` (which records located errors instead of raising). They are
registered exactly as a third-party step kind would be (see ``docs/lessons.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from courseware import StepKind, hookimpl
from courseware.errors import ConfigError
from courseware.lessons import (
    MAX_EPOCHS,
    Claim,
    Controls,
    Feedback,
    Fields,
    LessonError,
    Plan,
    Rate,
    Step,
    StepState,
    Subject,
    Where,
    apply_settings,
    parse_condition,
    parse_holds_in,
    settings_text,
)
from courseware.registry import Registry

# -- text ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False)
class TextStep(Step):
    """Markdown to read; nothing to do but move on."""


def parse_text(raw: Any, fields: Fields) -> TextStep:
    return TextStep(**fields.common)


# -- change -------------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False)
class ChangeStep(Step):
    """Changes the lesson's configuration; the experiment is rebuilt with the new settings."""

    changes: dict[str, Any] = field(default_factory=dict)
    where: Where = field(default_factory=Where)

    restarts = True

    def apply(self, config: Any, registry: Registry) -> Any:
        try:
            return apply_settings(config, self.changes, registry)
        except ConfigError as exc:
            raise LessonError(self.where.at(exc.key), str(exc).split(": ", 1)[-1]) from None

    def payload(self) -> dict[str, Any]:
        return {"set": _jsonable(self.changes)}

    def terminal_lines(self) -> list[str]:
        return [f"Settings change: {settings_text(self.changes)}"]


def parse_change(raw: Any, fields: Fields) -> ChangeStep:
    changes = fields.changes("set", required=True) or {}
    return ChangeStep(**fields.common, changes=changes, where=fields.at("set"))


# -- run ----------------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False)
class RunStep(Step):
    """Trains the lesson's experiment for some epochs, or until a condition holds."""

    run: Plan = field(default_factory=Plan)

    @property
    def plan(self) -> Plan:
        return self.run

    def payload(self) -> dict[str, Any]:
        return {
            "epochs": self.run.epochs if self.run.until is None else None,
            "until": None if self.run.until is None else str(self.run.until),
            "max_epochs": self.run.max_epochs if self.run.until is not None else None,
        }

    def terminal_lines(self) -> list[str]:
        return [f"Train {self.run.describe()}."]


def parse_run(raw: Any, fields: Fields) -> RunStep:
    epochs = fields.integer("epochs", minimum=1, maximum=MAX_EPOCHS, what="a number of epochs")
    until = fields.condition("until")
    max_epochs = fields.integer("max_epochs", minimum=1, maximum=MAX_EPOCHS, what="a number of epochs")
    if fields.has("epochs") and fields.has("until"):
        fields.fail("until", "give either epochs or until (with max_epochs), not both")
    elif not fields.has("epochs") and not fields.has("until"):
        fields.fail(None, "a run step needs epochs: N, or until: CONDITION with max_epochs: N")
    if fields.has("until") and not fields.has("max_epochs"):
        fields.fail("until", "until needs max_epochs: the most epochs to train if it never holds")
    if fields.has("max_epochs") and not fields.has("until"):
        fields.fail("max_epochs", "max_epochs only goes with until")
    if until is not None and max_epochs is not None:
        plan = Plan(until=until, max_epochs=max_epochs)
    else:
        plan = Plan(epochs=epochs or 1)
    return RunStep(**fields.common, run=plan)


# -- question -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    feedback: str | None


@dataclass(frozen=True)
class NumberAnswer:
    """A numeric answer is right from ``minimum`` to ``maximum`` (inclusive)."""

    minimum: float
    maximum: float
    too_low: str | None = None
    too_high: str | None = None
    right: str | None = None
    measures: str | None = None
    holds_in: Rate | None = None
    where: Where = field(default_factory=Where)


@dataclass(kw_only=True, eq=False)
class QuestionStep(Step):
    """A question (or a prediction before a run): choices with feedback, or a number in a range."""

    question: str = ""
    choices: tuple[Choice, ...] = ()
    numeric: NumberAnswer | None = None

    task = "answer"

    def payload(self) -> dict[str, Any]:
        if self.numeric is not None:
            return {"question": self.question, "type": "number"}
        return {"question": self.question, "type": "choice", "choices": [c.text for c in self.choices]}

    def respond(self, response: Any) -> Feedback:
        if self.numeric is not None:
            value = _to_float(response)
            if value is None:
                raise ValueError(f"{response!r} is not a number")
            n = self.numeric
            if value < n.minimum:
                return Feedback(False, n.too_low or "Too low.")
            if value > n.maximum:
                return Feedback(False, n.too_high or "Too high.")
            return Feedback(True, n.right or "Right.")
        index = _to_int(response)
        if index is None or not 1 <= index <= len(self.choices):
            raise ValueError(f"{response!r} is not a choice from 1 to {len(self.choices)}")
        choice = self.choices[index - 1]
        message = choice.feedback or ("Right." if choice.correct else "Not quite.")
        return Feedback(choice.correct, message)

    def correct_response(self) -> Any:
        if self.numeric is not None:
            return (self.numeric.minimum + self.numeric.maximum) / 2
        return next(i for i, c in enumerate(self.choices, start=1) if c.correct)

    def implicit_claims(self, state: StepState, registry: Registry) -> list[tuple[Claim, Subject]]:
        n = self.numeric
        if n is None or n.measures is None or n.holds_in is None:
            return []
        text = f"{_fmt(n.minimum)} <= {n.measures} <= {_fmt(n.maximum)}"
        metrics = {m.name: m for m in registry.all("metrics")}
        claim = Claim(parse_condition(text, metrics), n.holds_in, n.where, None, "the correct range contains the measured value")
        return [(claim, self.subject(state, registry))]

    def terminal_lines(self) -> list[str]:
        lines = [f"Question: {self.question}"]
        if self.numeric is not None:
            n = self.numeric
            lines.append(f"  (a number; correct from {_fmt(n.minimum)} to {_fmt(n.maximum)})")
            for label, text in (("too low", n.too_low), ("too high", n.too_high), ("right", n.right)):
                if text:
                    lines.append(f"    if {label}: {text}")
            return lines
        for index, choice in enumerate(self.choices, start=1):
            mark = "*" if choice.correct else " "
            lines.append(f" {mark}{index}. {choice.text}")
            if choice.feedback:
                lines.append(f"      -> {' '.join(choice.feedback.split())}")
        return lines


def parse_question(raw: Any, fields: Fields) -> QuestionStep:
    question = fields.text("question", required=True, default="", what="the question to ask") or ""
    choices: list[Choice] = []
    number = None
    if fields.has("choices") == fields.has("number"):
        fields.fail(None, "a question needs either choices: (a list) or number: (a range), exactly one")
    if fields.has("choices"):
        items = fields.mappings("choices", CHOICE_FIELDS, what="choice")
        for item in items:
            text = item.text("text", required=True, default="", what="the choice's text") or ""
            choices.append(Choice(text, item.boolean("correct"), item.text("feedback")))
        if isinstance(fields.get("choices"), list):
            if len(fields.get("choices")) < 2:
                fields.fail("choices", "give at least two choices")
            elif items and not any(c.correct for c in choices):
                fields.fail("choices", "mark at least one choice with correct: true")
    if fields.has("number"):
        sub = fields.mapping("number", NUMBER_FIELDS)
        if sub is not None:
            low = sub.number("min", required=True, default=0.0, what="the smallest correct value")
            high = sub.number("max", required=True, default=0.0, what="the largest correct value")
            if low is not None and high is not None and low > high:
                sub.fail("max", f"max ({_fmt(high)}) is below min ({_fmt(low)})")
            metrics = fields.registry.names("metrics")
            measures = sub.choice("measures", metrics)
            holds_in = sub.rate("holds_in", required=False)
            if sub.has("measures") != sub.has("holds_in"):
                sub.fail(None, "measures and holds_in go together: the metric the range is checked "
                               "against, and in how many seeds")
            number = NumberAnswer(
                low or 0.0, high or 0.0, sub.text("too_low"), sub.text("too_high"), sub.text("right"),
                measures, holds_in, sub.at(),
            )
    return QuestionStep(**fields.common, question=question, choices=tuple(choices), numeric=number)


CHOICE_FIELDS = {"text": "the choice", "correct": "true for a right answer", "feedback": "shown when chosen"}
NUMBER_FIELDS = {
    "min": "the smallest correct value",
    "max": "the largest correct value",
    "too_low": "feedback below min",
    "too_high": "feedback above max",
    "right": "feedback within the range",
    "measures": "a metric check verifies the range against (the lesson's experiment at this step)",
    "holds_in": "in how many seeds the measured value must fall in the range",
}


# -- goal ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Solution:
    """Settings and training that reach a goal; ``check`` proves it in ``holds_in`` of runs."""

    changes: dict[str, Any]
    epochs: int
    holds_in: Rate
    where: Where


DEFAULT_HOLD = 20
"""Epochs a goal's condition must keep holding before it counts (an oscillating loss dips)."""

DEFAULT_LEFT_ALONE = "at least 95% of runs"
"""How often the step's start, left alone, must miss the goal (so that reaching it needs the student)."""


@dataclass(kw_only=True, eq=False)
class GoalStep(Step):
    """A condition the student reaches by experimenting, checked live; ``check`` tries the solution.

    ``hold``: the condition must hold for this many consecutive epochs. ``left_alone``: the share of
    runs in which the step's start, trained for the solution's epochs without any change, does *not*
    reach the goal; ``check`` proves it, so a goal always needs the student.
    """

    feedback: str = "Goal reached."
    solution_spec: Solution | None = None
    where_goal: Where = field(default_factory=Where)
    hold: int = DEFAULT_HOLD
    left_alone: Rate = field(default_factory=lambda: parse_holds_in(DEFAULT_LEFT_ALONE))
    where_left_alone: Where = field(default_factory=Where)

    interactive = True
    task = "reach"

    def apply(self, config: Any, registry: Registry) -> Any:
        if self.solution_spec is not None:  # the solution must suit the configuration here
            try:
                apply_settings(config, self.solution_spec.changes, registry)
            except ConfigError as exc:
                raise LessonError(self.solution_spec.where.at(f"set.{exc.key}"), str(exc).split(": ", 1)[-1]) from None
        return config

    def payload(self) -> dict[str, Any]:
        return {"goal": str(self.goal) if self.goal is not None else None, "hold": self.hold}

    def reached_message(self) -> str:
        return self.feedback

    def solution(self, state: StepState, registry: Registry) -> Subject | None:
        if self.solution_spec is None or self.goal is None:
            return None
        try:
            config = apply_settings(state.config, self.solution_spec.changes, registry)
        except ConfigError as exc:
            raise LessonError(self.solution_spec.where.at("set"), str(exc)) from None
        plan = Plan(until=self.goal, max_epochs=self.solution_spec.epochs, hold=self.hold)
        return Subject((("", config),), (plan,))

    def subject(self, state: StepState, registry: Registry, at: int | None = None) -> Subject:
        # A goal step's claims are about its solution.
        solved = self.solution(state, registry)
        if solved is None or at is not None:
            return super().subject(state, registry, at)
        return solved

    def implicit_claims(self, state: StepState, registry: Registry) -> list[tuple[Claim, Subject]]:
        """The solution reaches the goal; and the step's start, left alone, does not.

        Like ``rustlings dev check``, which insists that an exercise fails before it is solved: a goal
        that the step's own start reaches by pressing play teaches nothing. "Left alone" is the
        experiment as the step opens, trained on for the solution's epoch budget with no change, and
        judged by the same stable-reading rule as the student.
        """
        solved = self.solution(state, registry)
        if solved is None or self.solution_spec is None or self.goal is None:
            return []
        metrics = {m.name: m for m in registry.all("metrics")}
        reaches = Claim(
            parse_condition("reached", metrics), self.solution_spec.holds_in, self.solution_spec.where, None,
            f"the solution reaches the goal within {self.solution_spec.epochs} epochs",
        )
        claims = [(reaches, solved)]
        at_open = Step.subject(self, state, registry)
        if not any(p.until is not None for p in at_open.plans):
            idle = Plan(until=self.goal, max_epochs=self.solution_spec.epochs, hold=self.hold)
            not_alone = Claim(
                parse_condition("not reached", metrics), self.left_alone, self.where_left_alone, None,
                f"left alone for {self.solution_spec.epochs} epochs, the step's start does not reach the goal",
            )
            claims.append((not_alone, Subject(at_open.variants, at_open.plans + (idle,))))
        return claims

    def terminal_lines(self) -> list[str]:
        lines = []
        if self.solution_spec is not None:
            how = settings_text(self.solution_spec.changes) or "the current settings"
            lines.append(f"  A solution: {how}, trained up to {self.solution_spec.epochs} epochs.")
        lines.append(f"  When reached: {self.feedback}")
        return lines


def parse_goal(raw: Any, fields: Fields) -> GoalStep:
    goal = fields.condition("goal", required=True)
    feedback = fields.text("feedback", default="Goal reached.") or "Goal reached."
    solution = None
    if not fields.has("solution"):
        fields.require("solution", "settings and epochs that reach the goal, so check can prove it is reachable")
    sub = fields.mapping("solution", SOLUTION_FIELDS)
    if sub is not None:
        changes = sub.changes("set") or {}
        epochs = sub.integer("epochs", required=True, minimum=1, maximum=MAX_EPOCHS, what="a number of epochs")
        holds_in = sub.rate("holds_in")
        if epochs is not None and holds_in is not None:
            solution = Solution(changes, epochs, holds_in, sub.at())
    hold = fields.integer("hold", minimum=1, maximum=MAX_EPOCHS, what="a number of epochs")
    left_alone = fields.rate("left_alone", required=False) if fields.has("left_alone") else None
    return GoalStep(
        **fields.common, goal=goal, feedback=feedback, solution_spec=solution, where_goal=fields.at("goal"),
        hold=DEFAULT_HOLD if hold is None else hold,
        left_alone=left_alone or parse_holds_in(DEFAULT_LEFT_ALONE),
        where_left_alone=fields.at("left_alone") if fields.has("left_alone") else fields.at("goal"),
    )


SOLUTION_FIELDS = {
    "set": "settings that reach the goal (optional: the lesson's settings may already do)",
    "epochs": "the most epochs to train: the goal's budget",
    "holds_in": 'the share of runs the solution reaches the goal in, e.g. "at least 80% of runs"',
}


# -- compare ------------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False)
class CompareStep(Step):
    """Several variants of the lesson's configuration trained side by side, loss curves together."""

    variant_changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    epochs: int = 100
    where: Where = field(default_factory=Where)

    def variants(self, config: Any, registry: Registry) -> dict[str, Any]:
        out = {}
        for name, changes in self.variant_changes.items():
            try:
                out[name] = apply_settings(config, changes, registry)
            except ConfigError as exc:
                raise LessonError(self.where.at(f"{name}.{exc.key}"), str(exc).split(": ", 1)[-1]) from None
        return out

    def apply(self, config: Any, registry: Registry) -> Any:
        self.variants(config, registry)  # validates every variant against the configuration here
        return config

    def claim_variants(self) -> list[str]:
        return list(self.variant_changes)

    def subject(self, state: StepState, registry: Registry, at: int | None = None) -> Subject:
        variants = tuple(self.variants(state.config, registry).items())
        return Subject(variants, (Plan(epochs=self.epochs if at is None else at),))

    def payload(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "variants": [{"name": n, "set": _jsonable(c)} for n, c in self.variant_changes.items()],
        }

    def terminal_lines(self) -> list[str]:
        lines = [f"Compare, {self.epochs} epochs each:"]
        lines += [f"  {name}: {settings_text(c) or '(the lesson settings)'}" for name, c in self.variant_changes.items()]
        return lines


def parse_compare(raw: Any, fields: Fields) -> CompareStep:
    epochs = fields.integer("epochs", required=True, minimum=1, maximum=MAX_EPOCHS, what="a number of epochs")
    variants: dict[str, dict[str, Any]] = {}
    sub = fields.mapping("variants")
    if sub is None:
        if not fields.has("variants"):
            fields.require("variants", "named variants, e.g. ReLU: {activation: relu}")
    else:
        for name in sub.raw:
            label = str(name).strip()
            if not label or "]" in label or "[" in label:
                sub.fail(name, f"{name!r} is not a usable variant name (no brackets, not empty)")
                continue
            value = sub.raw[name]
            if value is None:
                variants[label] = {}
                continue
            changes = sub.changes(name)
            if changes is not None:
                variants[label] = changes
        if len(sub.raw) < 2:
            fields.fail("variants", "compare at least two variants")
    return CompareStep(**fields.common, variant_changes=variants, epochs=epochs or 1, where=fields.at("variants"))


# -- explore ------------------------------------------------------------------------------------------


@dataclass(kw_only=True, eq=False)
class ExploreStep(Step):
    """Free play with a prompt: every locked control is unlocked unless the step says otherwise."""

    interactive = True
    task = "explore"

    def adjust_controls(self, controls: Controls, every: Any) -> Controls:
        if self.controls:
            return controls.changed(self.controls)
        return Controls(hidden=controls.hidden, locked=frozenset())


def parse_explore(raw: Any, fields: Fields) -> ExploreStep:
    if not fields.common.get("text"):
        fields.fail(None, "an explore step needs text: the prompt for free play")
    return ExploreStep(**fields.common)


# -- helpers ------------------------------------------------------------------------------------------


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _to_int(value: Any) -> int | None:
    number = _to_float(value)
    if number is None or number != int(number):
        return None
    return int(number)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}


@hookimpl
def register_step_kinds(register):
    register(StepKind("text", "Markdown to read.", parse_text, {}))
    register(StepKind("change", "Change the configuration; the experiment restarts.", parse_change,
                      {"set": "Playground settings to change, e.g. {networkShape: [4]}"}))
    register(StepKind("run", "Train the lesson's experiment.", parse_run, {
        "epochs": "train this many epochs",
        "until": "or train until this condition holds ...",
        "max_epochs": "... for at most this many epochs",
    }))
    register(StepKind("question", "A question or prediction, with feedback.", parse_question, {
        "question": "the question",
        "choices": "a list of {text, correct, feedback}",
        "number": "or a numeric answer: {min, max, too_low, too_high, right, measures, holds_in}",
    }))
    register(StepKind("goal", "A condition the student must reach, checked live.", parse_goal, {
        "goal": "the condition to reach, e.g. test_loss <= 0.05 and neurons <= 3",
        "feedback": "shown when the goal is reached",
        "solution": "{set, epochs, holds_in}: how check proves the goal is reachable",
        "hold": f"epochs the condition must keep holding before it counts (default {DEFAULT_HOLD})",
        "left_alone": "the share of runs in which the step's start, left alone for the solution's "
                      f"epochs, misses the goal (default {DEFAULT_LEFT_ALONE!r})",
    }))
    register(StepKind("compare", "Variants trained side by side.", parse_compare, {
        "variants": "named variants: Name: {settings}",
        "epochs": "epochs to train each variant",
    }))
    register(StepKind("explore", "Free play with a prompt; controls unlocked.", parse_explore, {}))
