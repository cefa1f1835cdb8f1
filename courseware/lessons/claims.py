"""Claims: what a lesson asserts about its experiments, and for what share of students.

A claim is a condition (``test_loss > 0.35``) with the share of runs it holds in
(``holds_in: at least 90% of runs``). A run is what a student gets: the lesson's experiment with a
seed the page drew, so the share is a statement about all Playground seeds, not about a list the
author chose. ``courseware check`` verifies it on a fresh random sample of those seeds
(:mod:`courseware.lessons.seeds`) and fails the claim when the observed share is significantly
below the stated one (:mod:`courseware.lessons.stats`).

"Every run" is for what is certain by construction (a loss cannot exceed 2, a network without a
hidden layer draws a straight line); it is checked on a larger sample, and a single failing seed
disproves it. "The lesson seed" is for lessons that pin their seed: the student sees exactly that
run, so one run decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from courseware.lessons.conditions import Condition
from courseware.lessons.errors import Where
from courseware.lessons.seeds import CERTAIN_FACTOR, DEFAULT_RUNS
from courseware.lessons.stats import p_value, percent, rejects, upper_bound

_PERCENT = re.compile(
    r"^(?:in\s+)?(?:at\s+least\s+)?(\d+(?:\.\d+)?)\s*%\s*(?:of\s+)?(?:the\s+)?(?:runs?|seeds?|students?)$",
    re.IGNORECASE,
)
_EVERY = re.compile(r"^(?:in\s+)?(?:every\s+run|all\s+(?:the\s+)?(?:runs|seeds))$", re.IGNORECASE)
_COUNT = re.compile(r"^(?:in\s+)?(?:all\s+)?(\d+)\s*(?:(?:of|/|out\s+of)\s*(\d+))?\s*(?:seeds?|runs?)$", re.IGNORECASE)
_LESSON_SEED = re.compile(r"^(?:in\s+)?(?:the\s+)?lesson(?:'s)?\s+seed$", re.IGNORECASE)

HOLDS_IN_FORMS = '"at least 90% of runs", "every run" or "the lesson seed"'


@dataclass(frozen=True)
class Rate:
    """The share of students' runs a claim holds in: ``rate`` from 0 to 1, or the lesson's own seed.

    ``runs(base)`` is how many seeds check verifies it on: ``base`` for a rate, ``CERTAIN_FACTOR``
    times as many for "every run" (it must survive more chances to fail), one for the lesson seed.
    """

    rate: float = 1.0
    lesson_seed: bool = False
    text: str = "every run"

    @property
    def certain(self) -> bool:
        """A claim about every run (not just about the lesson's own seed)."""
        return self.rate >= 1.0 and not self.lesson_seed

    def runs(self, base: int = DEFAULT_RUNS) -> int:
        if self.lesson_seed:
            return 1
        return base * CERTAIN_FACTOR if self.certain else base

    def fails(self, held: int, runs: int) -> bool:
        """Whether ``held`` of ``runs`` is significantly below the rate (every failure counts for
        "every run" and for the lesson seed)."""
        if self.lesson_seed:
            return held < runs
        return rejects(held, runs, self.rate)

    def p_value(self, held: int, runs: int) -> float:
        return 1.0 if self.lesson_seed else p_value(held, runs, self.rate)

    def upper_bound(self, held: int, runs: int) -> float:
        """The 95% upper confidence bound on the true rate (the claim fails when it is below)."""
        return upper_bound(held, runs)

    def __str__(self) -> str:
        return self.text


def parse_holds_in(value: object) -> Rate:
    """Read ``holds_in``; raises ValueError naming the accepted forms (and the fix for old ones)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not one of {HOLDS_IN_FORMS}")
    text = " ".join(str(value).split())
    if match := _PERCENT.match(text):
        share = float(match.group(1))
        if not 0 < share <= 100:
            raise ValueError(f"{text!r}: the percentage must be above 0 and at most 100")
        if share == 100:
            return Rate(1.0, False, "every run")
        return Rate(share / 100, False, f"at least {percent(share / 100)} of runs")
    if _EVERY.match(text):
        return Rate(1.0, False, "every run")
    if _LESSON_SEED.match(text):
        return Rate(1.0, True, "the lesson seed")
    if _COUNT.match(text):
        raise ValueError(
            f"{text!r} counts seeds of one fixed sample; state the share of runs students get instead, "
            "e.g. 'at least 90% of runs' (courseware measure tells what is safe to state), or 'every "
            "run' for what is certain by construction"
        )
    raise ValueError(f"{text!r} is not one of {HOLDS_IN_FORMS}")


@dataclass(frozen=True)
class Claim:
    """A condition a step asserts about its experiment, with the share of runs it holds in.

    ``at`` (epochs) measures a fresh run of the step's configuration after that many epochs instead
    of the lesson's experiment as the walk-through leaves it. ``says`` is the sentence the claim
    backs, shown in ``check``'s table.
    """

    expect: Condition
    holds_in: Rate
    where: Where
    at: int | None = None
    says: str | None = None

    @property
    def label(self) -> str:
        text = self.says or str(self.expect)
        return text if self.at is None else f"{text} (at epoch {self.at})"
