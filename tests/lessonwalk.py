"""Following shipped lessons in tests, whatever their content: seeds their solutions reach, and the
words a student must never read. (Imported by name: tests/ is on sys.path.)"""

from __future__ import annotations

from typing import Any

from courseware.config import HIDABLE_CONTROLS, Config
from courseware.lessons.measure import Members
from courseware.registry import Registry


def solution_reaches(lesson: Any, step: Any, seed: str, registry: Registry) -> bool:
    """Whether ``step``'s solution reaches its goal with ``seed``, as ``check`` measures it."""
    subject = step.solution(lesson.state(step.number, seed), registry)
    if subject is None:
        return False
    members = Members([subject.variants[0][1]], registry)
    *warmup, last = subject.plans
    members.step(sum(p.epochs for p in warmup))
    measured, _ = members.run_until(last.until, last.max_epochs, last.hold).parts[0]
    return bool(measured.reached[0] == 1)


def reaching_seed(lesson: Any, registry: Registry) -> str | None:
    """The first of the seeds "1" to "20" in which every goal's solution reaches its goal (a lesson
    whose solutions never do, while its content is being rewritten, has none)."""
    for seed in map(str, range(1, 21)):
        if all(solution_reaches(lesson, step, seed, registry) for step in lesson.steps if step.goal is not None):
            return seed
    return None


def internal_names(registry: Registry) -> list[str]:
    """Words a student must never read: configuration keys, control names and metric ids (those that
    are not also plain English: "activation", "noise" and "neurons" are words)."""
    names = {*Config.__dataclass_fields__, *HIDABLE_CONTROLS, *(m.name for m in registry.all("metrics"))}
    return sorted(n for n in names if "_" in n or any(c.isupper() for c in n))
