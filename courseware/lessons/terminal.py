"""``courseware run LESSON``: read a lesson through in the terminal, with its experiments run.

Each step is printed with its text; run steps train the lesson's experiment (one seed) and print the
losses, compare steps print every variant's loss curve side by side, goal steps try their solution,
questions list their choices with feedback. An instructor can proof-read a lesson without a browser.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence

import numpy as np

from courseware.config import Config
from courseware.experiment import Experiment
from courseware.lessons.lesson import Lesson
from courseware.lessons.measure import Measurements, Members, MetricTable, evaluate
from courseware.lessons.steps import Plan
from courseware.lessons.walk import Walk, WalkState
from courseware.plugins import Registry
from courseware.rng import js_to_fixed

Echo = Callable[[str], None]
BARS = "▁▂▃▄▅▆▇█"
CURVE_WIDTH = 40


def walk_through(lesson: Lesson, registry: Registry, echo: Echo, seed: str | None = None) -> None:
    """Print every step of ``lesson`` and run its experiments with ``seed``."""
    walk = Walk(lesson, WalkState(lesson.id, seed=seed or lesson.fixed_seed or "1"), registry)
    echo(f"{lesson.title}")
    echo(f"{lesson.summary}")
    meta = [f"id {lesson.id}", f"level {lesson.level}", f"seed {walk.state.seed}"]
    if lesson.minutes:
        meta.append(f"about {lesson.minutes} minutes")
    if lesson.author:
        meta.append(f"by {lesson.author}")
    echo("(" + ", ".join(meta) + ")")
    if lesson.objectives:
        echo("You will learn:")
        for objective in lesson.objectives:
            echo(f"  - {objective}")
    verdicts = _verdicts(lesson, registry, walk.state.seed or "1")
    experiment: Experiment | None = None
    for step in lesson.steps:
        walk.go(step.number)
        setup = walk.setup()
        echo("")
        echo(f"Step {step.number}/{walk.total} [{step.kind}] {step.title}")
        if step.text:
            echo(_indent(step.text))
        for line in step.terminal_lines():
            echo("  " + line)
        if setup.restart or experiment is None:
            experiment = Experiment(setup.config, registry)
            for plan in setup.replay:
                _train(experiment, plan, registry)
        if step.plan is not None:
            start = experiment.epoch
            reached = _train(experiment, step.plan, registry)
            _print_run(experiment, start, echo)
            if step.plan.until is not None:
                outcome = f"reached at epoch {experiment.epoch}" if reached else "not reached"
                echo(f"  until {step.plan.until}: {outcome}")
        variants = step.variants(setup.config, registry)
        if variants:
            epochs = step.subject(setup, registry).fixed_epochs or 0
            _print_compare(variants, epochs, registry, echo)
        solution = step.solution(setup, registry)
        if solution is not None:
            _print_solution(solution.variants[0][1], solution.plans, registry, echo)
        for index, hint in enumerate(step.hints, start=1):
            echo(f"  Hint {index}: {hint}")
        if step.answer:
            echo("  Answer: " + _indent(step.answer, "          ").lstrip())
        for claim, held in verdicts.get(step.number, []):
            echo(f"  Claim: {claim.label}  [checked in {claim.holds_in}; with seed {walk.state.seed}: {held}]")
    echo("")
    echo("End of the lesson. `courseware check` verifies its claims over many seeds.")


def _verdicts(lesson: Lesson, registry: Registry, seed: str) -> dict[int, list[tuple[object, str]]]:
    """Each step's claims, with whether each holds for ``seed`` ("yes", "no" or the error)."""
    from courseware.lessons.checker import check_lesson
    from courseware.lessons.seeds import SeedSample

    out: dict[int, list[tuple[object, str]]] = {}
    for result in check_lesson(lesson, registry, SeedSample.explicit([seed])).results:
        held = result.error or ("yes" if result.count else "no")
        out.setdefault(result.step, []).append((result.claim, held))
    return out


def _indent(text: str, prefix: str = "  ") -> str:
    return textwrap.indent(text.rstrip(), prefix)


def _train(experiment: Experiment, plan: Plan, registry: Registry) -> bool:
    """Train by ``plan``; for a run-until, whether its condition was reached."""
    if plan.until is None:
        experiment.step(plan.epochs)
        return True
    for epoch in range(plan.max_epochs + 1):
        if epoch:
            experiment.step(1)
        measurements = Measurements.of_experiment(experiment)
        table = MetricTable([(measurements, np.arange(1))], 1, registry)
        if evaluate(plan.until, table, {"": np.arange(1)})[0]:
            return True
    return False


def _loss(value: float) -> str:
    return js_to_fixed(value, 3) if math.isfinite(value) else "NaN"


def _print_run(experiment: Experiment, start: int, echo: Echo) -> None:
    end = experiment.epoch
    epochs = sorted({start, end, *np.linspace(start, end, 6).round().astype(int).tolist()})
    echo(f"  {'epoch':>7}  {'train loss':>10}  {'test loss':>10}")
    for e in epochs:
        echo(f"  {e:>7}  {_loss(experiment.history.train[e]):>10}  {_loss(experiment.history.test[e]):>10}")
    if experiment.diverged:
        echo("  The network diverged (NaN or infinite values).")


def _print_compare(variants: dict, epochs: int, registry: Registry, echo: Echo) -> None:
    names = list(variants)
    seed = next(iter(variants.values())).seed
    members = Members([variants[n] for n in names], registry)
    members.step(epochs)
    curves = {}
    for batch, indices in members.groups:
        _, test = batch.losses()
        for column, index in enumerate(indices):
            curves[names[index]] = test[:, column]
    finite = np.concatenate([c[np.isfinite(c)] for c in curves.values()] or [np.zeros(1)])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    width = max(len(n) for n in names)
    echo(f"  Test loss over {epochs} epochs (seed {seed}; curves share one scale {_loss(low)} to {_loss(high)}):")
    for name in names:
        curve = curves[name]
        echo(f"  {name:<{width}}  {_sparkline(curve, low, high)}  final {_loss(float(curve[-1]))}")


def _sparkline(values: Sequence[float], low: float, high: float) -> str:
    values = np.asarray(values, dtype=np.float64)
    picks = values[np.linspace(0, len(values) - 1, min(CURVE_WIDTH, len(values))).round().astype(int)]
    span = (high - low) or 1.0
    out = []
    for v in picks:
        if not math.isfinite(v):
            out.append("?")
            continue
        level = int((v - low) / span * (len(BARS) - 1) + 0.5)
        out.append(BARS[min(max(level, 0), len(BARS) - 1)])
    return "".join(out)


def _print_solution(config: Config, plans: Sequence[Plan], registry: Registry, echo: Echo) -> None:
    members = Members([config], registry)
    *warmup, last = plans
    members.step(sum(p.epochs for p in warmup))
    if last.until is None:
        members.step(last.epochs)
        return
    table = members.run_until(last.until, last.max_epochs, last.hold)
    measured, _ = table.parts[0]  # one network: read its measurements directly, not through metrics
    reached = bool(measured.reached[0] == 1)
    epoch = int(measured.epoch[0])
    test = float(measured.test_loss[0])
    if reached:
        echo(f"  With the solution (seed {config.seed}): reached at epoch {epoch}, test loss {_loss(test)}.")
    else:
        echo(f"  With the solution (seed {config.seed}): not reached within {last.max_epochs} epochs.")

