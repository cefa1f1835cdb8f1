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
from courseware.lessons.wording import describe_condition
from courseware.registry import Registry
from courseware.jsmath import js_to_fixed

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
            echo(_indent(plain_text(step.text)))
        if step.goal is not None:
            held = getattr(step, "hold", 1)
            echo(f"  Goal: {describe_condition(step.goal, registry)}"
                 + (f", for {held} epochs in a row" if held > 1 else "") + f"   [{step.goal}]")
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
            echo(f"  Hint {index}: {plain_text(hint)}")
        if step.answer:
            echo("  Answer: " + _indent(plain_text(step.answer), "          ").lstrip())
        for claim, held in verdicts.get(step.number, []):
            echo(f"  Claim: {claim.label}  [states {claim.holds_in}; with seed {walk.state.seed}: {held}]")
    echo("")
    echo("End of the lesson. Its claims are verified over many seeds by: courseware check")


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


def agreeing(value: float, thresholds: Sequence[float], digits: int = 3) -> str:
    """``value`` to ``digits`` decimals, or more where fewer would look equal to a threshold it is
    not equal to: a loss of 0.0498 reaching "below 0.05" reads 0.0498, not 0.050."""
    if not math.isfinite(value):
        return "NaN"
    for places in range(digits, 17):
        text = js_to_fixed(value, places)
        if all(float(text) != t or value == t for t in thresholds):
            return text
    return repr(value)


def _thresholds(condition: object) -> list[float]:
    """The numbers a condition compares with (for :func:`agreeing`)."""
    found: list[float] = []

    def visit(node: object) -> None:
        value = getattr(node, "value", None)
        if isinstance(value, float):
            found.append(value)
        for name in ("operands", "items"):
            for child in getattr(node, name, ()) or ():
                visit(child)
        for name in ("operand", "left", "right"):
            child = getattr(node, name, None)
            if child is not None:
                visit(child)

    visit(getattr(condition, "tree", None))
    return found


def plain_text(markdown: str, width: int = 96) -> str:
    """Lesson Markdown as terminal text: paragraphs kept, emphasis and code marks dropped, list items
    as ``- ``, links as ``text (address)``, math left as written."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    prefix = ""
    for token in MarkdownIt("commonmark").parse(markdown or ""):
        if token.type == "list_item_open":
            prefix = "- "
        elif token.type == "inline":
            words = _inline_text(token.children or [])
            lines = [textwrap.fill(line, width, initial_indent=prefix, subsequent_indent=" " * len(prefix))
                     for line in words.split("\n")]
            blocks.append("\n".join(lines))
            prefix = ""
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(b for b in blocks if b.strip())


def _inline_text(children: Sequence[object]) -> str:
    out: list[str] = []
    link: list[str] = []
    for child in children:
        kind = getattr(child, "type", "")
        if kind in ("text", "code_inline"):
            out.append(getattr(child, "content", ""))
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            link.append(str(getattr(child, "attrs", {}).get("href", "")))
        elif kind == "link_close" and link:
            href = link.pop()
            out.append(f" ({href})" if href else "")
    return "".join(out)


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
        shown = agreeing(test, _thresholds(last.until))
        echo(f"  With the solution (seed {config.seed}): reached at epoch {epoch}, test loss {shown}.")
    else:
        echo(f"  With the solution (seed {config.seed}): not reached within {last.max_epochs} epochs.")

