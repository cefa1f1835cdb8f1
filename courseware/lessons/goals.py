"""A goal judged on a stable reading: what the page's goal badge says, epoch by epoch.

An oscillating loss dips below a line now and then; a goal that counted the first dip would be
"reached" by pressing play with a learning rate far too high. So a goal holds only after its
condition has been true for ``hold`` consecutive epochs, the same rule ``courseware check`` applies
(:meth:`courseware.lessons.measure.Members.run_until`). Once reached, the step is done for good, but
the badge keeps telling the truth: a goal that is lost again says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


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
    start: int | None = None  # the epoch the current streak began at
    last_epoch: int | None = None
    ever_reached: bool = False
    holding: bool = False

    def observe(self, epoch: int, holds: bool) -> GoalState:
        if self.last_epoch is not None and epoch == self.last_epoch:
            return self.state
        if self.last_epoch is not None and epoch < self.last_epoch:
            self.reset()
        if holds:
            if self.start is None:
                self.start = epoch
            self.streak = epoch - self.start + 1
        else:
            self.start, self.streak = None, 0
        self.holding = holds
        self.last_epoch = epoch
        if self.streak >= self.hold:
            self.ever_reached = True
        return self.state

    def reset(self) -> None:
        """The network was rebuilt (reset, new settings): the streak starts again; a goal reached
        stays reached."""
        self.streak = 0
        self.start = None
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
