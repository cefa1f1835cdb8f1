"""The lesson's experiment, scripted by the page: a step's run, the replay of a lesson so far, a compare.

:class:`StepTraining` is the part of the lesson page that trains. It uses the playground's own player
for a ``run`` step (the student sees the network learn, and may pause), trains in short slices
(:class:`~courseware.server.slices.Slices`) what must not hold up the server (replaying the steps
before the current one after a reload, a compare step's variants), and remembers where a step left the
experiment (:class:`Mark`), so that the next step can simply continue it.

Whatever it says to the student goes through the ``status`` callback it is given, already as HTML
from :mod:`courseware.server.lessonviews`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from courseware import panel as ctx
from courseware.config import Config, training_config
from courseware.lessons.conditions import Condition
from courseware.lessons.measure import Measurements, MetricTable, evaluate
from courseware.lessons.steps import Plan
from courseware.lessons.wording import describe_condition
from courseware.registry import Registry
from courseware.server import lessonviews as views
from courseware.server.compareview import CompareChart, Curves, VariantTraining
from courseware.server.html import EMPTY, Html
from courseware.server.slices import Slices

TEXT_INTERVAL_S = 0.2  # a run's epoch is redrawn at most this often while playing
class Script:
    """Counts the page's own changes to the experiment (``with script: ...``): the frames they cause
    are the lesson's doing, not the student's, and must not be followed as a run or judged as a goal."""

    def __init__(self) -> None:
        self.depth = 0

    def __enter__(self) -> Script:
        self.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1

    @property
    def active(self) -> bool:
        return self.depth > 0


@dataclass
class Mark:
    """The experiment exactly as a step left it, to tell whether the next step can simply continue."""

    step: int
    epoch: int
    config: Config
    flat: np.ndarray
    dead: np.ndarray


@dataclass
class Run:
    """A step's training in progress (the playground's player runs it; each frame is checked)."""

    plan: Plan
    start: int  # the epoch it started at
    speed: int  # the student's epochs per frame, restored afterwards
    speed_set: int = 0  # the speed the page last gave the player
    shown: float = float("-inf")


class StepTraining:
    """Runs, replays and compares for one lesson page (see the module docstring)."""

    def __init__(
        self,
        session: Any,
        registry: Registry,
        script: Script,
        chart: CompareChart,
        status: Callable[[Html], None],
        guard: Callable[..., Any],
    ) -> None:
        self.session = session
        self.guard = guard  # runs a callback so that a failure is shown on the page, not swallowed
        self.registry = registry
        self.script = script
        self.chart = chart
        self.status = status
        self.slices = Slices(session.doc, clock=session.clock)
        self.run: Run | None = None
        self._step = 0  # the step whose run is under way
        self.left: Mark | None = None
        self._curves: dict[tuple[int, str | None], Curves] = {}
        self.on_finished: Callable[[], None] = lambda: None  # a run ended (the page redraws its buttons)

    @property
    def busy(self) -> bool:
        """Sliced work (a replay, a compare) is under way: frames are not the student's."""
        return self.slices.busy

    @property
    def closed(self) -> bool:
        """The browser tab is gone and its session released: a slice still queued does nothing."""
        return self.session.experiment is None

    def cancel(self) -> None:
        """Stop whatever the previous step was doing."""
        self.slices.cancel()
        self.stop_run()

    # -- where a step left the experiment -------------------------------------------------------------

    def mark(self, step: int) -> None:
        e = self.session.experiment
        self.left = Mark(step, e.epoch, training_config(e.config), e.params.flat.copy(), e.params.dead.copy())

    def forget(self) -> None:
        self.left = None

    def continues(self, step: int) -> bool:
        """Whether the experiment stands exactly where step ``step`` left it."""
        mark = self.left
        e = self.session.experiment
        return (
            mark is not None
            and mark.step == step
            and mark.epoch == e.epoch
            and mark.config == training_config(e.config)
            and np.array_equal(mark.flat, e.params.flat, equal_nan=True)
            and np.array_equal(mark.dead, e.params.dead)
        )

    # -- replaying the lesson so far ------------------------------------------------------------------

    def replay(self, plans: Iterable[Plan], then: Callable[[], None]) -> None:
        """Train the freshly rebuilt experiment as the steps before this one did (one epoch per unit
        of sliced work), then call ``then``."""
        self.status(Html("Preparing the experiment: replaying the lesson so far…"))

        def done() -> None:
            if self.closed:
                return
            with self.script:
                self.session.render({ctx.WEIGHTS})
            then()

        self.slices.start(self._replay(plans), lambda: self.guard(done))

    def _replay(self, plans: Iterable[Plan]) -> Iterator[None]:
        experiment = self.session.experiment
        for plan in plans:
            if plan.until is None:
                for _ in range(plan.epochs):
                    if self.closed:
                        return
                    self._hold_player()
                    experiment.step(1)
                    yield
            else:
                for epoch in range(plan.max_epochs + 1):
                    if self.closed:
                        return
                    self._hold_player()
                    if epoch:
                        experiment.step(1)
                    if self.holds(plan.until):
                        break
                    yield

    def _hold_player(self) -> None:
        if self.session.playing:  # a click on play while the history replays must not train ahead
            with self.script:
                self.session.pause()

    def holds(self, condition: Condition) -> bool:
        """Whether ``condition`` holds on the live experiment now."""
        measurements = Measurements.of_experiment(self.session.experiment)
        table = MetricTable([(measurements, np.arange(1))], 1, self.registry)
        return bool(evaluate(condition, table, {"": np.arange(1)})[0])

    # -- a run step -------------------------------------------------------------------------------------

    def start_run(self, plan: Plan, step: int) -> None:
        """Train ``plan`` with the playground's player, in front of the student; pause at its end."""
        e = self.session.experiment
        run = Run(plan, e.epoch, self.session.speed)
        self.run = run
        self._step = step
        if self._run_over(run):
            return
        self._pace(run)
        self._run_status(run, force=True)
        self.session.play()  # its frames come back through follow()

    def follow(self, frame: ctx.Frame) -> None:
        """A frame while a run is under way: stop it at its end, pace it, say how far it is."""
        run = self.run
        assert run is not None
        e = self.session.experiment
        if ctx.RESTART in frame.changed or e.epoch < run.start:
            self.stop_run()
            self.status(Html("The network was rebuilt, so this step's training stopped. "
                             "Press “Run this step again” to see it."))  # fmt: skip
            self.on_finished()
            return
        if self._run_over(run):
            return
        self._pace(run)
        self._run_status(run, force=not self.session.playing, paused=not self.session.playing)

    def _until_words(self, plan: Plan) -> str:
        return describe_condition(plan.until, self.registry) if plan.until is not None else ""

    def _run_over(self, run: Run) -> bool:
        """Finish ``run`` if it is complete; whether it was."""
        e = self.session.experiment
        done = e.epoch - run.start
        plan = run.plan
        if plan.until is None:
            if done >= plan.epochs:
                self._finish_run(views.run_done_html(plan.epochs))
                return True
            return False
        if self.holds(plan.until):
            self._finish_run(views.run_stopped_html(e.epoch, self._until_words(plan)))
            return True
        if done >= plan.max_epochs:
            self._finish_run(views.run_missed_html(self._until_words(plan), plan.max_epochs))
            return True
        return False

    def _pace(self, run: Run) -> None:
        """Epochs per frame: the student's speed, but never past the run's end; a run-until goes one
        epoch at a time so it stops exactly where its condition first holds."""
        if self.session.speed != run.speed_set and run.speed_set:
            run.speed = self.session.speed  # the student changed the speed during the run
        remaining = run.plan.epochs - (self.session.experiment.epoch - run.start)
        speed = 1 if run.plan.until is not None else max(1, min(run.speed, remaining))
        run.speed_set = speed
        self.session.set_speed(speed)

    def _run_status(self, run: Run, force: bool = False, paused: bool = False) -> None:
        now = self.session.clock()
        if not force and now - run.shown < TEXT_INTERVAL_S:
            return
        run.shown = now
        done = self.session.experiment.epoch - run.start
        plan = run.plan
        until = self._until_words(plan) if plan.until is not None else None
        self.status(views.run_progress_html(done, plan.limit, until, paused))

    def _finish_run(self, message: Html) -> None:
        self.stop_run()
        self.mark(self._step)
        self.status(message)
        self.on_finished()

    def stop_run(self) -> None:
        run = self.run
        if run is None:
            return
        self.run = None
        with self.script:
            self.session.set_speed(run.speed)
            self.session.pause()

    # -- a compare step ---------------------------------------------------------------------------------

    def compare(self, variants: dict[str, Config], epochs: int, key: tuple[int, str | None]) -> None:
        """Train every variant from scratch beside the lesson's experiment, drawing the curves as they
        grow; the lesson's own experiment is left as it was. Curves are kept per step and seed."""
        self.chart.root.visible = True
        cached = self._curves.get(key)
        if cached is not None:
            self.chart.draw(cached)
            return
        training = VariantTraining(variants, epochs, self.registry)
        self.chart.clear()

        def work() -> Iterator[None]:
            for _ in training.work():
                if self.chart.due():
                    self.chart.draw(training.curves())
                yield

        def done() -> None:
            curves = training.curves()
            self._curves[key] = curves
            self.chart.draw(curves)

        self.slices.start(work(), lambda: self.guard(done))
        self.status(EMPTY)
