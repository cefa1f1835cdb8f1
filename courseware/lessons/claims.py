"""Claims: what a lesson asserts about its experiments, and how robustly.

A claim is a condition (``test_loss > 0.35``) with the share of seeds it must hold in
(``holds_in: 18 of 20 seeds``). ``courseware check`` trains the claim's experiment once per seed and
counts. The seeds are the strings ``"1"``, ``"2"``, ... ``"N"`` (see :func:`check_seeds`): fixed, so a
result can be reproduced with ``courseware train --seed 7``, and not chosen by the instructor, so a
claim cannot be calibrated on a lucky seed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from courseware.lessons.conditions import Condition
from courseware.lessons.errors import Where

DEFAULT_SEEDS = 20
MAX_SEEDS = 1000

_OF = re.compile(r"^(?:in\s+)?(\d+)\s*(?:of|/|out\s+of)\s*(\d+)(?:\s+seeds?)?$", re.IGNORECASE)
_PERCENT = re.compile(r"^(?:in\s+)?(\d+(?:\.\d+)?)\s*%(?:\s+of)?(?:\s+(?:the\s+)?seeds?)?$", re.IGNORECASE)
_ALL = re.compile(r"^(?:in\s+)?all(?:\s+(\d+))?(?:\s+seeds?)?$", re.IGNORECASE)
_LESSON_SEED = re.compile(r"^(?:in\s+)?(?:the\s+)?lesson(?:'s)?\s+seed$", re.IGNORECASE)

HOLDS_IN_FORMS = '"18 of 20 seeds", "90% of seeds", "all seeds", "all 20 seeds" or "the lesson seed"'


def check_seeds(count: int) -> list[str]:
    """The seed strings a claim is checked on: ``"1"`` to ``str(count)``."""
    return [str(i) for i in range(1, count + 1)]


@dataclass(frozen=True)
class Robustness:
    """How many seeds a claim must hold in: a fraction of N seeds, or exactly the lesson's seed."""

    fraction: float = 1.0
    seeds: int = DEFAULT_SEEDS
    lesson_seed: bool = False
    text: str = "all seeds"

    def seed_count(self, override: int | None = None) -> int:
        """How many seeds to train: the claim's own count unless ``--seeds`` overrides it."""
        if self.lesson_seed:
            return 1
        return override if override is not None else self.seeds

    def required(self, seeds: int) -> int:
        """How many of ``seeds`` runs must satisfy the claim (the fraction, rounded up)."""
        if self.lesson_seed:
            return 1
        return max(1, math.ceil(self.fraction * seeds - 1e-9))

    def __str__(self) -> str:
        return self.text


def parse_holds_in(value: object) -> Robustness:
    """Read ``holds_in``; raises ValueError with the accepted forms."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{value!r} is not one of {HOLDS_IN_FORMS}")
    text = " ".join(str(value).split())
    if match := _OF.match(text):
        need, total = int(match.group(1)), int(match.group(2))
        if total < 1 or total > MAX_SEEDS:
            raise ValueError(f"{text!r}: the number of seeds must be from 1 to {MAX_SEEDS}")
        if need < 1 or need > total:
            raise ValueError(f"{text!r}: the count must be from 1 to {total}")
        return Robustness(need / total, total, False, f"{need} of {total} seeds")
    if match := _PERCENT.match(text):
        percent = float(match.group(1))
        if not 0 < percent <= 100:
            raise ValueError(f"{text!r}: the percentage must be above 0 and at most 100")
        return Robustness(percent / 100, DEFAULT_SEEDS, False, f"{match.group(1)}% of seeds")
    if match := _ALL.match(text):
        total = int(match.group(1)) if match.group(1) else DEFAULT_SEEDS
        if total < 1 or total > MAX_SEEDS:
            raise ValueError(f"{text!r}: the number of seeds must be from 1 to {MAX_SEEDS}")
        return Robustness(1.0, total, False, f"all {total} seeds" if match.group(1) else "all seeds")
    if _LESSON_SEED.match(text):
        return Robustness(1.0, 1, True, "the lesson seed")
    raise ValueError(f"{text!r} is not one of {HOLDS_IN_FORMS}")


@dataclass(frozen=True)
class Claim:
    """A condition a step asserts about its experiment, with the robustness it needs.

    ``at`` (epochs) measures a fresh run of the step's configuration after that many epochs instead
    of the lesson's experiment as the walk-through leaves it. ``says`` is the sentence the claim
    backs, shown in ``check``'s table.
    """

    expect: Condition
    holds_in: Robustness
    where: Where
    at: int | None = None
    says: str | None = None

    @property
    def label(self) -> str:
        text = self.says or str(self.expect)
        return text if self.at is None else f"{text} (at epoch {self.at})"
