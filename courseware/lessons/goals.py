"""A goal judged on a stable reading: what the page's goal badge says, epoch by epoch.

An oscillating loss dips below a line now and then; a goal that counted the first dip would be
"reached" by pressing play with a learning rate far too high. So a goal holds only after its
condition has been true for ``hold`` consecutive epochs. :func:`advance` is that rule, for one
network (the page's :class:`GoalTracker`) or many at once (``courseware check``'s
:meth:`courseware.lessons.measure.Members.run_until`). Once reached, the step is done for good, but
the badge keeps telling the truth: a goal that is lost again says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

NOT_HOLDING = -1
"""A streak's start when the condition does not hold."""


def advance(start: Any, epoch: Any, holds: Any, hold: int) -> tuple[Any, Any, Any]:
    """The hold rule, for one network or an array of them: given each streak's ``start`` (the epoch
    the condition began to hold, :data:`NOT_HOLDING` if it does not) and a reading at ``epoch``,
    returns the new start, the streak (epochs held, counting both ends: readings five epochs apart
    make a streak of six) and whether it has held for ``hold`` epochs."""
    start = np.where(holds, np.where(np.asarray(start) == NOT_HOLDING, epoch, start), NOT_HOLDING)
    streak = np.where(start == NOT_HOLDING, 0, np.asarray(epoch) - start + 1)
    return start, streak, streak >= hold


class GoalState(Enum):
    PENDING = "pending"  # not holding now, never reached
    HOLDING = "holding"  # holding now, for fewer than ``hold`` epochs, never reached
    REACHED = "reached"  # reached, and holding now
    LOST = "lost"  # reached earlier, not holding now


@dataclass
class GoalTracker:
    """Feeds on readings of the goal's condition (``observe``) and knows the goal's state.

    The checker reads every epoch. The page reads once per frame, and a frame may train several
    epochs at a high speed setting, so the streak is counted in epochs from the first reading that
    held: two holding readings five epochs apart make a streak of six. A reading for the epoch just
    seen (a redraw without training) changes nothing; an earlier epoch means the network was rebuilt
    (reset, new settings), so the streak starts again.
    """

    hold: int = 1
    streak: int = 0
    start: int = NOT_HOLDING  # the epoch the current streak began at
    last_epoch: int | None = None
    ever_reached: bool = False
    holding: bool = False

    def observe(self, epoch: int, holds: bool) -> GoalState:
        if self.last_epoch is not None and epoch == self.last_epoch:
            return self.state
        if self.last_epoch is not None and epoch < self.last_epoch:
            self.reset()
        start, streak, reached = advance(self.start, epoch, holds, self.hold)
        self.start, self.streak = int(start), int(streak)
        self.holding = bool(holds)
        self.last_epoch = epoch
        self.ever_reached = self.ever_reached or bool(reached)
        return self.state

    def reset(self) -> None:
        """The network was rebuilt (reset, new settings): the streak starts again; a goal reached
        stays reached."""
        self.streak = 0
        self.start = NOT_HOLDING
        self.last_epoch = None
        self.holding = False

    @property
    def state(self) -> GoalState:
        if self.ever_reached:
            return GoalState.REACHED if self.holding else GoalState.LOST
        return GoalState.HOLDING if self.holding else GoalState.PENDING

    @property
    def remaining(self) -> int:
        """Epochs the condition must still hold before the goal counts (0 once reached)."""
        return 0 if self.ever_reached else max(0, self.hold - self.streak)
