"""A loaded lesson: metadata, starting configuration, controls and steps, ready to walk or check."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from courseware.config import Config
from courseware.lessons.steps import Controls, Step, StepState
from courseware.registry import Registry
from courseware.settings import DEFAULT_LIMITS, HIDABLE_CONTROLS, PAGE_CONTROLS, Limits

FORMAT_VERSION = 1
LEVELS = ("beginner", "intermediate", "advanced")

ALL_CONTROLS = "all"


def control_names(registry: Registry) -> list[str]:
    """Every control a lesson may hide or lock: the Playground's, the page's, and each feature."""
    return [*HIDABLE_CONTROLS, *PAGE_CONTROLS, *registry.names("features")]


@dataclass(eq=False)
class Lesson:
    """A validated lesson file. ``states[i]`` is the experiment while step ``i + 1`` is open."""

    path: str
    id: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    level: str
    minutes: int | None
    author: str | None
    format: int
    start: Config
    fixed_seed: str | None
    controls: Controls
    steps: list[Step]
    states: list[StepState] = field(default_factory=list)
    limits: Limits = DEFAULT_LIMITS
    """The Playground's limits, raised where the lesson's ``limits:`` says: the lesson's page applies
    them to URLs and controls, and every configuration of the lesson carries them."""

    def step(self, number: int) -> Step:
        """Step ``number``, counting from 1."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"lesson {self.id!r} has steps 1 to {len(self.steps)}, not {number}")
        return self.steps[number - 1]

    def state(self, number: int, seed: str | None = None) -> StepState:
        """The experiment while step ``number`` is open, with ``seed`` (default: the lesson's)."""
        self.step(number)
        state = self.states[number - 1]
        seed = seed or self.fixed_seed
        if seed is None or seed == state.config.seed:
            return state
        return replace(state, config=replace(state.config, seed=seed))

    def to_dict(self) -> dict[str, Any]:
        """Metadata and steps as the page shows them (no answers)."""
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "objectives": list(self.objectives),
            "level": self.level,
            "minutes": self.minutes,
            "author": self.author,
            "format": self.format,
            "fixed_seed": self.fixed_seed,
            "steps": [s.to_dict() for s in self.steps],
        }

