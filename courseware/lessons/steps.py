"""What every lesson step is, whatever its kind: the base class step kinds build on.

A step kind (``text``, ``run``, ``question``, ... or a plugin's own) parses its YAML into a
:class:`Step` subclass and overrides the few methods that give it behaviour. The host never looks at
a step's class: the lesson page, ``courseware run`` and ``courseware check`` only use this protocol:

* :meth:`Step.apply` - how the step changes the lesson's configuration (a ``change`` step);
  ``restarts`` - whether the lesson's experiment is rebuilt when the step opens;
* :attr:`Step.plan` - training the step does in the lesson's experiment (a ``run`` step);
* :meth:`Step.variants` - side-by-side experiments (a ``compare`` step);
* ``task`` with :meth:`Step.respond` (a question) or :attr:`Step.goal` (checked live);
  ``interactive`` - the student changes settings, so the next step starts again from the lesson's
  configuration;
* :meth:`Step.subject` and :meth:`Step.implicit_claims` - what the step's claims are measured on;
* :meth:`Step.payload` - the kind's own data for the page (never the correct answers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from courseware.config import Config
from courseware.lessons.claims import Claim
from courseware.lessons.conditions import Condition
from courseware.registry import Registry


@dataclass(frozen=True)
class Plan:
    """Training in one go: ``epochs`` epochs, or until ``until`` holds (at most ``max_epochs``).

    ``hold`` is how many consecutive epochs ``until`` must hold before it counts as reached: a goal is
    judged on a stable reading, not on a momentary dip of an oscillating loss.
    """

    epochs: int = 0
    until: Condition | None = None
    max_epochs: int = 0
    hold: int = 1

    @property
    def limit(self) -> int:
        """The most epochs this plan can train."""
        return self.max_epochs if self.until is not None else self.epochs

    def describe(self) -> str:
        if self.until is None:
            return f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        held = f", held for {self.hold} epochs" if self.hold > 1 else ""
        return f"until {self.until}{held} (at most {self.max_epochs} epochs)"


@dataclass(frozen=True)
class Subject:
    """The experiment a claim is measured on: named variants, each trained by ``plans`` from scratch.

    A lesson experiment has one variant named ``""``; a compare step has one per variant. Each
    variant's configuration is trained once per checked seed (its ``seed`` is replaced).
    """

    variants: tuple[tuple[str, Config], ...]
    plans: tuple[Plan, ...] = ()

    @property
    def fixed_epochs(self) -> int | None:
        """Total epochs when every plan is a fixed number of epochs, else ``None``."""
        if any(p.until is not None for p in self.plans):
            return None
        return sum(p.epochs for p in self.plans)


@dataclass(frozen=True)
class ControlChanges:
    """A step's changes to the lesson's hidden and locked controls."""

    hide: frozenset[str] = frozenset()
    show: frozenset[str] = frozenset()
    lock: frozenset[str] = frozenset()
    unlock: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.hide or self.show or self.lock or self.unlock)


@dataclass(frozen=True)
class Controls:
    """Which playground controls are hidden and which are shown but locked."""

    hidden: frozenset[str] = frozenset()
    locked: frozenset[str] = frozenset()

    def changed(self, changes: ControlChanges) -> Controls:
        return Controls(
            hidden=(self.hidden - changes.show) | changes.hide,
            locked=(self.locked - changes.unlock) | changes.lock,
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {"hidden": sorted(self.hidden), "locked": sorted(self.locked)}


@dataclass(frozen=True)
class Feedback:
    """The answer to a student's response: ``correct`` is ``None`` when there is no right answer."""

    correct: bool | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"correct": self.correct, "message": self.message}


@dataclass(frozen=True)
class StepState:
    """The lesson's experiment while a step is open (computed by replaying the steps before it).

    ``config`` is the lesson's configuration (after this step's own changes). ``restart``: the page
    rebuilds the experiment from ``config`` when the step opens. ``replay`` is the training the
    experiment has had since it was built, before this step's own ``plan``: a page opened directly on
    this step (a reload) rebuilds and replays it to show the same network.
    """

    config: Config
    restart: bool
    replay: tuple[Plan, ...]
    controls: Controls


@dataclass(kw_only=True, eq=False)
class Step:
    """One step of a lesson. Subclasses add their kind's fields and override the behaviour below.

    ``number`` counts from 1. ``hints`` are revealed one at a time; ``answer`` is a revealable
    answer or explanation. ``claims`` are checked by ``courseware check``.
    """

    kind: str
    number: int
    title: str
    text: str = ""
    hints: tuple[str, ...] = ()
    answer: str | None = None
    controls: ControlChanges = field(default_factory=ControlChanges)
    claims: tuple[Claim, ...] = ()
    line: int | None = None

    restarts: ClassVar[bool] = False
    interactive: ClassVar[bool] = False
    task: ClassVar[str | None] = None  # "answer", "reach", "explore" or None
    goal: Condition | None = None

    # -- the lesson's configuration and experiment ----------------------------------------------------

    def apply(self, config: Config, registry: Registry) -> Config:
        """The lesson's configuration after this step (raise ConfigError if it cannot apply)."""
        return config

    @property
    def plan(self) -> Plan | None:
        """Training this step does in the lesson's experiment, if any."""
        return None

    def variants(self, config: Config, registry: Registry) -> dict[str, Config] | None:
        """Named side-by-side experiments this step shows, if any."""
        return None

    def claim_variants(self) -> list[str] | None:
        """Variant names a claim on this step must choose from (``None``: claims name none)."""
        return None

    def adjust_controls(self, controls: Controls, every: Iterable[str]) -> Controls:
        """The controls while this step is open; ``every`` lists all control names."""
        return controls.changed(self.controls)

    # -- claims -------------------------------------------------------------------------------------------

    def subject(self, state: StepState, registry: Registry, at: int | None = None) -> Subject:
        """What a claim on this step measures.

        By default the lesson's experiment as the step leaves it (rebuilt, replayed, then this step's
        own plan); with ``at``, a fresh run of the step's configuration for ``at`` epochs.
        """
        if at is not None:
            return Subject((("", state.config),), (Plan(epochs=at),))
        plans = state.replay + ((self.plan,) if self.plan is not None else ())
        return Subject((("", state.config),), plans)

    def implicit_claims(self, state: StepState, registry: Registry) -> list[tuple[Claim, Subject]]:
        """Claims the step makes by its nature (a goal: its solution reaches it)."""
        return []

    def solution(self, state: StepState, registry: Registry) -> Subject | None:
        """A way to complete the step's task (a goal's solution), for ``courseware run``."""
        return None

    # -- the student ----------------------------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        """The kind's own JSON-ready data for the page; never reveals correct answers."""
        return {}

    def respond(self, response: Any) -> Feedback:
        """Feedback for a student's response to this step's task (raise ValueError if malformed)."""
        raise ValueError(f"a {self.kind} step takes no responses")

    def reached_message(self) -> str:
        """What the page says when the student reaches this step's goal."""
        return "Goal reached."

    def correct_response(self) -> Any:
        """A response :meth:`respond` accepts as correct, if the step has one (tests, previews)."""
        return None

    def terminal_lines(self) -> list[str]:
        """Extra lines ``courseware run`` prints after the step's text (choices, goal, ...)."""
        return []

    def to_dict(self) -> dict[str, Any]:
        """The step as the page sees it before any response (hints and answer withheld)."""
        return {
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "task": self.task,
            "hint_count": len(self.hints),
            "has_answer": self.answer is not None,
            "interactive": self.interactive,
            "payload": self.payload(),
        }


def settings_text(changes: Mapping[str, Any]) -> str:
    """``activation: relu, networkShape: [4]`` for terminal output and labels."""
    parts = []
    for key, value in changes.items():
        if isinstance(value, (list, tuple)):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        parts.append(f"{key}: {value}")
    return ", ".join(parts)
