"""Reading a lesson file into a :class:`~courseware.lessons.lesson.Lesson`, reporting every problem.

The loader reads the whole file even after a mistake, so :class:`LessonErrors` lists every problem
at once, each with the file, line, step and field. It then replays the steps (applying each change to
the configuration) to work out the experiment at each step, which finds settings that cannot apply
where they are used (a regression dataset on a classification network, say).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from courseware import config as config_module
from courseware.errors import CoursewareError
from courseware.lessons.claims import Claim
from courseware.lessons.errors import LessonError, LessonErrors, Where
from courseware.lessons.fields import Fields, check_settings, normalise_settings
from courseware.lessons.lesson import (
    ALL_CONTROLS,
    FORMAT_VERSION,
    LEVELS,
    Lesson,
    control_names,
)
from courseware.lessons.steps import ControlChanges, Controls, Step, StepState
from courseware.lessons.yamlsource import LocatedList, YamlProblem, load
from courseware.registry import Registry
from courseware.settings import DEFAULT_LIMITS, HARD_LIMITS, WIDENINGS, Limits

MAX_EPOCHS = 10_000
# A courseware command named in text a student reads.
COMMAND = re.compile(r"\bcourseware\s+(?:check|measure|run|serve|new|train|plugins)\b")
DEFAULT_STEP_KIND = "text"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

TOP_FIELDS = {
    "format": f"the lesson format version: {FORMAT_VERSION}",
    "id": "a short name for URLs: lower-case letters, digits and dashes",
    "title": "the lesson's title",
    "summary": "one or two sentences for the lesson index",
    "objectives": "what the student will be able to explain afterwards (a list)",
    "level": "one of " + ", ".join(LEVELS),
    "minutes": "estimated minutes to complete",
    "author": "who wrote the lesson",
    "limits": "raise the Playground's limits for this lesson: layers, neurons, batchSize",
    "start": "the starting configuration, in the Playground's vocabulary",
    "controls": "controls hidden or locked for the whole lesson",
    "steps": "the ordered steps",
}
CONTROL_FIELDS = {"hidden": "controls not shown", "locked": "controls shown but not changeable"}
LIMIT_FIELDS = {
    w.key: f"{w.words}, at most {getattr(HARD_LIMITS, w.field)} (the Playground: "
    f"{getattr(DEFAULT_LIMITS, w.field)})"
    for w in WIDENINGS
}
STEP_CONTROL_FIELDS = {
    "hide": "hide these controls during this step",
    "show": "show these lesson-hidden controls during this step",
    "lock": "lock these controls during this step",
    "unlock": "unlock these lesson-locked controls during this step",
}
COMMON_STEP_FIELDS = {
    "kind": f"the step kind (default {DEFAULT_STEP_KIND})",
    "title": "the step's title",
    "text": "Markdown shown to the student ($...$ for math)",
    "hints": "hints, revealed one at a time",
    "answer": "an answer or explanation the student can reveal",
    "controls": "hide/show/lock/unlock controls during this step",
    "claims": "claims that courseware check verifies",
}
CLAIM_FIELDS = {
    "expect": "the condition that must hold, e.g. test_loss < 0.05",
    "holds_in": 'the share of runs it holds in: "at least 90% of runs", "every run", "the lesson seed"',
    "at": "measure a fresh run of this step's configuration after this many epochs",
    "says": "the sentence of the lesson this claim backs (shown by courseware check)",
}


def load_lesson(path: str | os.PathLike[str], registry: Registry) -> Lesson:
    """Load and validate a lesson file; raises :class:`LessonErrors` listing every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LessonErrors([LessonError(Where(name), f"cannot read the file: {exc}")]) from None
    return load_lesson_text(text, name, registry)


def load_lesson_text(text: str, path: str, registry: Registry) -> Lesson:
    """Load and validate lesson YAML ``text`` (``path`` names it in messages, e.g. ``"<lesson>"``)."""
    errors: list[LessonError] = []
    try:
        raw, problems = load(text)
    except YamlProblem as exc:
        raise LessonErrors([LessonError(Where(path, line=exc.line), exc.message)]) from None
    errors += [
        LessonError(Where(path, line=p.line) if p.column == 0 else _step_of(raw, Where(path, line=p.line)), p.message)
        for p in problems
    ]
    if not isinstance(raw, Mapping):
        errors.append(
            LessonError(Where(path, line=getattr(raw, "line", None) or 1),
                        "a lesson file is a mapping (format:, id:, title:, ..., steps:)")
        )
        raise LessonErrors(errors)
    lesson = _Reader(raw, path, registry, errors).read()
    if errors or lesson is None:
        raise LessonErrors(_tidy(errors))
    return lesson


def _step_of(raw: Any, where: Where) -> Where:
    """``where``, with the step whose lines contain it (for problems found while reading YAML)."""
    steps = raw.get("steps") if isinstance(raw, Mapping) else None
    if where.line is None or not isinstance(steps, LocatedList):
        return where
    number = None
    for index, start in enumerate(steps.item_lines):
        if start <= where.line:
            number = index
    if number is None:
        return where
    title = steps[number].get("title") if isinstance(steps[number], Mapping) else None
    return Where(where.file, number + 1, str(title) if isinstance(title, str) else None, where.field, where.line)


def _tidy(errors: list[LessonError]) -> list[LessonError]:
    """In file order, each problem once (a setting checked when read and again when applied)."""
    seen = set()
    unique = []
    for error in errors:
        key = (error.step, error.field, error.message)
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return sorted(unique, key=lambda e: e.line or 0)


class _Reader:
    def __init__(self, raw: Mapping[Any, Any], path: str, registry: Registry, errors: list[LessonError]) -> None:
        self.path = path
        self.registry = registry
        self.errors = errors
        self.top = Fields(raw, Where(path), errors, registry, TOP_FIELDS, what="a lesson file")
        self.limits = DEFAULT_LIMITS
        self.controls_known = control_names(registry)

    def read(self) -> Lesson | None:
        top = self.top
        version = top.integer("format", required=True, what=f"the format version ({FORMAT_VERSION})")
        if version is not None and version != FORMAT_VERSION:
            top.fail("format", f"format {version} is not supported; this courseware reads format {FORMAT_VERSION}")
        lesson_id = top.text("id", required=True, what="a lesson id")
        if lesson_id is not None and not ID_PATTERN.match(lesson_id):
            top.fail("id", f"{lesson_id!r} is not a usable id: use lower-case letters, digits and dashes")
        title = top.text("title", required=True, what="the lesson's title")
        summary = top.text("summary", required=True, what="a one-line summary")
        objectives = top.texts("objectives", what="a list of objectives")
        if not objectives and "objectives" not in top.raw:
            top.fail(None, "objectives is required: a list of what the student will learn")
        elif not objectives and isinstance(top.get("objectives"), list) and not top.get("objectives"):
            top.fail("objectives", "give at least one objective")
        level = top.choice("level", LEVELS, default=LEVELS[0])
        minutes = top.integer("minutes", minimum=1, maximum=600)
        author = top.text("author")
        self.limits = top.limits = self.read_limits()
        start, fixed_seed = self.start()
        controls = self.lesson_controls()
        steps = self.steps()
        if any(v is None for v in (version, lesson_id, title, summary)) or start is None:
            return None
        lesson = Lesson(
            path=self.path,
            id=lesson_id,  # type: ignore[arg-type]
            title=title,  # type: ignore[arg-type]
            summary=summary,  # type: ignore[arg-type]
            objectives=objectives,
            level=level or LEVELS[0],
            minutes=minutes,
            author=author,
            format=version,  # type: ignore[arg-type]
            start=start,
            fixed_seed=fixed_seed,
            controls=controls,
            steps=steps,
            limits=self.limits,
        )
        lesson.states = self.replay(lesson)
        return lesson

    # -- start and controls ------------------------------------------------------------------------------

    def read_limits(self) -> Limits:
        """The lesson's limits: the Playground's, raised where ``limits:`` says, within the hard limits."""
        fields = self.top.mapping("limits", LIMIT_FIELDS)
        if fields is None:
            return DEFAULT_LIMITS
        raised = {
            w.key: fields.integer(w.key, minimum=1, maximum=getattr(HARD_LIMITS, w.field)) for w in WIDENINGS
        }
        return DEFAULT_LIMITS.widened(**raised)

    def start(self) -> tuple[config_module.Config | None, str | None]:
        base = config_module.default(self.registry, seed="1", limits=self.limits)
        fields = self.top.mapping("start")
        if fields is None:
            return (base if "start" not in self.top.raw or self.top.raw["start"] is None else None), None
        settings = normalise_settings(fields.raw, self.registry)
        before = len(self.errors)
        check_settings(settings, fields)
        if len(self.errors) > before:
            return base, None
        seed = settings.get("seed")
        config, _ = config_module.parse(
            {k: v for k, v in settings.items() if not k.endswith("_hide")}, registry=self.registry, base=base
        )
        return config, (str(seed) if seed is not None else None)

    def control_list(self, fields: Fields, key: str) -> frozenset[str]:
        names = fields.names(key, [ALL_CONTROLS, *self.controls_known], what="control")
        if ALL_CONTROLS in names:
            return frozenset(self.controls_known)
        return frozenset(names)

    def lesson_controls(self) -> Controls:
        fields = self.top.mapping("controls", CONTROL_FIELDS)
        if fields is None:
            return Controls()
        return Controls(hidden=self.control_list(fields, "hidden"), locked=self.control_list(fields, "locked"))

    # -- steps --------------------------------------------------------------------------------------------

    def steps(self) -> list[Step]:
        raw_steps = self.top.get("steps")
        if "steps" not in self.top.raw or raw_steps is None:
            self.top.fail(None, "steps is required: the list of the lesson's steps")
            return []
        if not isinstance(raw_steps, list) or not raw_steps:
            self.top.fail("steps", "steps must be a non-empty list of steps (each starting with '- ')")
            return []
        steps = []
        for index, raw in enumerate(raw_steps):
            line = raw_steps.line_of(index) if hasattr(raw_steps, "line_of") else None
            step = self.step(index + 1, raw, line)
            if step is not None:
                steps.append(step)
        return steps

    def step(self, number: int, raw: Any, line: int | None) -> Step | None:
        title = raw.get("title") if isinstance(raw, Mapping) else None
        title = str(title).strip() if isinstance(title, (str, int, float)) and not isinstance(title, bool) else None
        where = Where(self.path, number, title or None, "", line)
        if not isinstance(raw, Mapping):
            self.errors.append(LessonError(where, "a step must be a mapping (kind:, title:, text:, ...)"))
            return None
        kinds = self.registry.names("step_kinds")
        kind_name = raw.get("kind", DEFAULT_STEP_KIND)
        probe = Fields(raw, where, self.errors, self.registry, limits=self.limits)
        if kind_name not in kinds:
            probe.choice("kind", kinds)
            return None
        kind = self.registry.step_kind(kind_name)
        allowed = {**COMMON_STEP_FIELDS, **dict(kind.fields)}
        fields = Fields(raw, where, self.errors, self.registry, allowed, what="a step", limits=self.limits)
        fields.common = {
            "kind": kind_name,
            "number": number,
            "title": fields.text("title", required=True, default=f"Step {number}", what="the step's title"),
            "text": fields.text("text", default=""),
            "hints": fields.texts("hints", what="a list of hints"),
            "answer": fields.text("answer"),
            "controls": self.step_controls(fields),
            "line": line,
        }
        try:
            step = kind.parse(raw, fields)
        except LessonError as exc:
            self.errors.append(exc)
            return None
        except CoursewareError as exc:
            fields.fail(None, str(exc))
            return None
        except Exception as exc:  # a plugin's bug must not take down the loader
            plugin = self.registry.plugin_of("step_kinds", kind_name)
            fields.fail(None, f"step kind {kind_name!r} (plugin {plugin!r}) failed: {type(exc).__name__}: {exc}")
            return None
        if not isinstance(step, Step):
            fields.fail(None, f"step kind {kind_name!r} returned {type(step).__name__}, not a Step")
            return None
        step.claims = tuple(self.claims(fields, step))
        return step

    def step_controls(self, fields: Fields) -> ControlChanges:
        sub = fields.mapping("controls", STEP_CONTROL_FIELDS)
        if sub is None:
            return ControlChanges()
        return ControlChanges(
            hide=self.control_list(sub, "hide"),
            show=self.control_list(sub, "show"),
            lock=self.control_list(sub, "lock"),
            unlock=self.control_list(sub, "unlock"),
        )

    def claims(self, fields: Fields, step: Step) -> list[Claim]:
        out = []
        variants = step.claim_variants()
        for claim in fields.mappings("claims", CLAIM_FIELDS, what="claim"):
            expect = claim.condition("expect", required=True, variants=variants)
            holds_in = claim.rate("holds_in")
            at = claim.integer("at", minimum=0, maximum=MAX_EPOCHS, what="a number of epochs")
            says = claim.text("says")
            if expect is not None and holds_in is not None:
                out.append(Claim(expect, holds_in, claim.at(), at, says))
        return out

    # -- replaying the steps -------------------------------------------------------------------------------

    def replay(self, lesson: Lesson) -> list[StepState]:
        """Each step's experiment: configuration, whether it restarts, the training before it.

        Step kinds are plugin code: anything they raise here is reported on their step.
        """
        states: list[StepState] = []
        config = lesson.start
        replay: tuple[Any, ...] = ()
        after_interactive = True  # the first step builds the experiment
        for step in lesson.steps:
            where = Where(self.path, step.number, step.title, "", step.line)
            before = len(self.errors)
            config = self.guarded(step, where, step.apply, config, self.registry, default=config)
            restart = step.restarts or after_interactive
            if restart:
                replay = ()
            controls = self.guarded(
                step, where, step.adjust_controls, lesson.controls, self.controls_known, default=lesson.controls
            )
            state = StepState(config, restart, replay, controls)
            states.append(state)
            if len(self.errors) == before:  # claims of a step that cannot apply are not checkable
                self.check_claims(lesson, step, state, where)
            plan = self.guarded(step, where, lambda: step.plan, default=None)
            if plan is not None:
                replay = replay + (plan,)
            after_interactive = step.interactive
        return states

    def check_claims(self, lesson: Lesson, step: Step, state: StepState, where: Where) -> None:
        for claim in step.claims:
            if claim.at is not None:
                continue
            subject = self.guarded(step, where, step.subject, state, self.registry, default=None)
            if subject is not None and any(p.until is not None for p in subject.plans[:-1]):
                self.errors.append(
                    LessonError(
                        claim.where,
                        "this claim follows a run-until in the same experiment, where each seed "
                        "stopped at a different epoch; give the claim 'at: EPOCHS' or put a "
                        "change step before it",
                    )
                )
        self.check_visible(step, state, where)
        implicit = self.guarded(step, where, step.implicit_claims, state, self.registry, default=[])
        for claim in [*step.claims, *(c for c, _ in implicit)]:
            if claim.holds_in.lesson_seed and lesson.fixed_seed is None:
                self.errors.append(
                    LessonError(claim.where, "'the lesson seed' needs a fixed seed: set start: seed: ...")
                )

    def check_visible(self, step: Step, state: StepState, where: Where) -> None:
        """A step never hides what it speaks of, where that can be decided.

        * A goal, a claim, a run's stopping condition or a numeric question's measured value must not
          read a quantity whose control the step hides: the student could neither see nor change it
          (a goal on the learning rate with the learning rate hidden).
        * A goal's solution must not need a control the step hides or locks, and a goal step must
          leave the student a way to train (the play or the step button): a goal the student cannot
          reach teaches nothing.
        * Text a student reads never names a command (``courseware check``): students run none.

        (The losses are always shown on the lesson page, whatever the step hides.)
        """
        hidden = state.controls.hidden
        if ALL_CONTROLS in hidden:
            hidden = frozenset(self.controls_known)
        if step.goal is not None:
            self._hidden_metrics(step.goal, hidden, getattr(step, "where_goal", None) or where.at("goal"), "the goal")
        for claim in step.claims:
            self._hidden_metrics(claim.expect, hidden, claim.where, "this claim")
        plan = self.guarded(step, where, lambda: step.plan, default=None)
        if plan is not None and plan.until is not None:
            self._hidden_metrics(plan.until, hidden, where.at("until"), "the run's stopping condition")
        numeric = getattr(step, "numeric", None)
        measures = getattr(numeric, "measures", None)
        if measures:
            self._hidden_metric_names([measures], hidden, getattr(numeric, "where", where), "the question's answer")
        if step.task == "reach":
            self._reachable(step, state, where)
        self._no_commands(step, where)

    def _hidden_metrics(self, condition: Any, hidden: frozenset[str], where: Where, what: str) -> None:
        self._hidden_metric_names(sorted(getattr(condition, "metrics", ())), hidden, where, what)

    def _hidden_metric_names(self, names: Any, hidden: frozenset[str], where: Where, what: str) -> None:
        for name in names:
            try:
                metric = self.registry.metric(name)
            except Exception:  # unknown: reported where the condition was parsed
                continue
            control = getattr(metric, "control", "")
            if control and control in hidden:
                self.errors.append(LessonError(
                    where,
                    f"{what} reads {metric.label or name}, but this step hides its control ({control}); "
                    f"show it (controls: show: [{control}]) or leave it out",
                ))  # fmt: skip

    def _reachable(self, step: Step, state: StepState, where: Where) -> None:
        hidden, locked = state.controls.hidden, state.controls.locked
        if ALL_CONTROLS in locked:
            locked = frozenset(self.controls_known)
        if {"playButton", "stepButton"} <= hidden:
            self.errors.append(LessonError(where.at("controls"), "a goal step must show the play or the step "
                                           "button: the student trains the network to reach it"))  # fmt: skip
        solution = getattr(step, "solution_spec", None)
        changes = getattr(solution, "changes", None) or {}
        needed = self._controls_for(changes, state)
        for control in sorted(needed & (hidden | locked)):
            how = "hides" if control in hidden else "locks"
            fix = f"controls: show: [{control}]" if control in hidden else f"controls: unlock: [{control}]"
            self.errors.append(LessonError(
                getattr(solution, "where", where),
                f"the solution changes what {control} sets, but this step {how} it, so the student cannot "
                f"reach the goal that way; {fix}",
            ))  # fmt: skip

    def _controls_for(self, changes: Mapping[str, Any], state: StepState) -> set[str]:
        """The controls a student uses to make ``changes`` to the step's configuration (each
        setting's row of the settings table says which)."""
        needed: set[str] = set()
        for key, value in changes.items():
            setting = config_module.SETTING_BY_NAME.get(key)
            if setting is not None:
                old = getattr(state.config, key)
                needed |= setting.controls_for(old, tuple(value) if isinstance(value, list) else value)
        return needed

    def _no_commands(self, step: Step, where: Where) -> None:
        payload = self.guarded(step, where, step.payload, default={}) or {}
        texts = [step.text, *step.hints, step.answer or "", str(payload.get("question") or ""),
                 *(str(c) for c in payload.get("choices") or ()), step.reached_message()]  # fmt: skip
        texts += self._responses(step)
        for text in texts:
            match = COMMAND.search(text or "")
            if match:
                self.errors.append(LessonError(
                    where, f"a student reads “{match.group(0)}”: students run no commands; say it without one"
                ))  # fmt: skip
                return

    @staticmethod
    def _responses(step: Step) -> list[str]:
        """What a response can show: each choice's feedback, a numeric question's messages."""
        out = []
        choices = (step.payload() or {}).get("choices") or ()
        for response in range(1, len(choices) + 1):
            try:
                out.append(step.respond(response).message)
            except ValueError:
                pass
        numeric = getattr(step, "numeric", None)
        if numeric is not None:
            out += [t for t in (numeric.too_low, numeric.too_high, numeric.right) if t]
        return out

    def guarded(self, step: Step, where: Where, fn: Any, *args: Any, default: Any) -> Any:
        """``fn(*args)``, recording what it raises on ``step`` and returning ``default`` then."""
        try:
            return fn(*args)
        except LessonError as exc:  # located by the step kind
            self.errors.append(exc)
        except CoursewareError as exc:
            self.errors.append(LessonError(where, str(exc)))
        except Exception as exc:  # a plugin's bug must not take down the loader
            plugin = self.registry.plugin_of("step_kinds", step.kind)
            self.errors.append(
                LessonError(where, f"step kind {step.kind!r} (plugin {plugin!r}) failed: {type(exc).__name__}: {exc}")
            )
        return default
