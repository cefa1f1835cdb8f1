"""``courseware check``: run every claim of every lesson over its seeds, headless and batched.

Claims are gathered into jobs: claims measured on the same configurations and the same kind of
training share one job, whose networks (every variant times every seed) train together in as few
:class:`~courseware.experiment.Cohort`\\ s as their architectures allow. A job of fixed-epoch runs
stops at each epoch a claim needs and measures there; a run-until job trains each network until
its condition holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from courseware.config import Config
from courseware.lessons.claims import Claim, check_seeds
from courseware.lessons.errors import LessonError
from courseware.lessons.lesson import Lesson
from courseware.lessons.measure import Members, MetricTable, evaluate
from courseware.lessons.steps import Plan, Step, Subject
from courseware.plugins import Registry

Progress = Callable[[int], None]


@dataclass
class ClaimResult:
    """One claim's outcome: on which seeds it held, and whether that is enough."""

    lesson: str
    path: str
    step: int
    step_title: str
    claim: Claim
    seeds: list[str]
    held: list[bool] = field(default_factory=list)
    required: int = 0
    error: str | None = None
    observed: dict[str, list[float]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(sum(self.held))

    @property
    def observed_rate(self) -> float:
        return self.count / len(self.seeds) if self.seeds else 0.0

    @property
    def required_rate(self) -> float:
        return self.required / len(self.seeds) if self.seeds else 1.0

    @property
    def passed(self) -> bool:
        return self.error is None and self.count >= self.required

    @property
    def failing_seeds(self) -> list[str]:
        return [s for s, ok in zip(self.seeds, self.held) if not ok]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "path": self.path,
            "step": self.step,
            "step_title": self.step_title,
            "claim": self.claim.label,
            "expect": str(self.claim.expect),
            "at": self.claim.at,
            "holds_in": str(self.claim.holds_in),
            "line": self.claim.where.line,
            "seeds": len(self.seeds),
            "held": self.count,
            "required": self.required,
            "observed_rate": self.observed_rate,
            "required_rate": self.required_rate,
            "passed": self.passed,
            "failing_seeds": self.failing_seeds,
            "observed_values": {k: [_json_number(v) for v in vs] for k, vs in self.observed.items()},
            "error": self.error,
        }

    def describe_values(self) -> str:
        """``test_loss[ReLU] 0.010-0.028 (median 0.017)`` for each quantity in the claim."""
        parts = []
        for name, values in self.observed.items():
            finite = np.array([v for v in values if np.isfinite(v)])
            nans = len(values) - len(finite)
            if finite.size:
                text = f"{name} {_g(finite.min())}-{_g(finite.max())} (median {_g(float(np.median(finite)))})"
            else:
                text = f"{name} never finite"
            if nans and finite.size:
                text += f", NaN in {nans}"
            parts.append(text)
        return "; ".join(parts)


@dataclass
class LessonReport:
    """A lesson file's check: its validation errors, or its claims' results."""

    path: str
    lesson: str | None
    errors: list[LessonError] = field(default_factory=list)
    results: list[ClaimResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.errors and all(r.passed for r in self.results)


@dataclass
class _Job:
    """Networks trained together; each member is one (configuration, seed) pair.

    A lesson's fixed-epoch claims share one job: every distinct configuration and seed is trained
    once, all together, and measured at each epoch a claim needs (a member trains only as far as
    its claims need). The claims on one run-until experiment make a job of their own.
    """

    plans: tuple[Plan, ...]  # the run-until experiment's plans; empty for the fixed-epoch job
    members: dict[tuple[Config, str], int] = field(default_factory=dict)
    reach: list[int] = field(default_factory=list)  # per member: the last epoch it is needed at
    checkpoints: dict[int, list[tuple[ClaimResult, dict[str, np.ndarray]]]] = field(default_factory=dict)

    def member(self, config: Config, seed: str, epoch: int) -> int:
        key = (config, seed)
        if key not in self.members:
            self.members[key] = len(self.members)
            self.reach.append(epoch)
        index = self.members[key]
        self.reach[index] = max(self.reach[index], epoch)
        return index

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def epochs(self) -> int:
        if self.plans:
            return sum(p.limit for p in self.plans)
        return max(self.checkpoints, default=0)


def claim_checks(lesson: Lesson, registry: Registry) -> list[tuple[Step, Claim, Subject]]:
    """Every claim of a lesson (explicit and implicit) with the experiment it is measured on."""
    out = []
    for step, state in zip(lesson.steps, lesson.states):
        for claim, subject in step.implicit_claims(state, registry):
            out.append((step, claim, subject))
        for claim in step.claims:
            out.append((step, claim, step.subject(state, registry, claim.at)))
    return out


def plan_jobs(
    lesson: Lesson, registry: Registry, seeds: int | None = None, seed_strings: Sequence[str] | None = None
) -> tuple[list[_Job], list[ClaimResult]]:
    """Group a lesson's claims into training jobs; returns the jobs and the (empty) results.

    ``seeds`` overrides each claim's seed count; ``seed_strings`` checks every claim on exactly
    those seeds instead (``courseware run`` uses one: the seed it walks with).
    """
    fixed = _Job(())
    jobs: dict[Any, _Job] = {}
    results = []
    for step, claim, subject in claim_checks(lesson, registry):
        if seed_strings is not None:
            claim_seeds = list(seed_strings)
        elif claim.holds_in.lesson_seed:
            claim_seeds = [lesson.fixed_seed or "1"]
        else:
            claim_seeds = check_seeds(claim.holds_in.seed_count(seeds))
        result = ClaimResult(
            lesson.id, lesson.path, step.number, step.title, claim, claim_seeds,
            required=claim.holds_in.required(len(claim_seeds)),
        )
        results.append(result)
        epochs = subject.fixed_epochs
        if epochs is not None:
            job, checkpoint = fixed, epochs
        else:
            key = (tuple(replace(c, seed="") for _, c in subject.variants), tuple(claim_seeds), subject.plans)
            job = jobs.setdefault(key, _Job(subject.plans))
            checkpoint, epochs = -1, sum(p.limit for p in subject.plans)
        variants = {
            name: np.array([job.member(replace(config, seed=""), seed, epochs) for seed in claim_seeds])
            for name, config in subject.variants
        }
        job.checkpoints.setdefault(checkpoint, []).append((result, variants))
    ordered = ([fixed] if fixed.members else []) + list(jobs.values())
    return ordered, results


def run_job(job: _Job, registry: Registry) -> None:
    """Train the job's networks and record each claim's outcome in its result."""
    configs = [replace(config, seed=seed) for config, seed in job.members]
    try:
        trained = Members(configs, registry)
    except Exception as exc:  # a plugin's dataset or activation failing
        _fail_all(job, f"could not build the experiment: {type(exc).__name__}: {exc}")
        return
    if job.plans:
        *warmup, last = job.plans
        try:
            trained.step(sum(p.epochs for p in warmup))
            assert last.until is not None
            table = trained.run_until(last.until, last.max_epochs)
        except Exception as exc:
            _fail_all(job, f"training failed: {type(exc).__name__}: {exc}")
            return
        _measure(job.checkpoints[-1], table, registry)
        return
    reach = np.array(job.reach)
    for checkpoint in sorted(job.checkpoints):
        try:
            trained.advance(checkpoint, reach >= checkpoint)
        except Exception as exc:
            _fail_all(job, f"training failed: {type(exc).__name__}: {exc}")
            return
        _measure(job.checkpoints[checkpoint], trained.table(), registry)


def _measure(
    claims: Sequence[tuple[ClaimResult, dict[str, np.ndarray]]],
    table: MetricTable,
    registry: Registry,
) -> None:
    for result, members in claims:
        try:
            result.held = [bool(v) for v in evaluate(result.claim.expect, table, members)]
            for metric in sorted(result.claim.expect.metrics):
                for name in members:
                    label = metric if not name else f"{metric}[{name}]"
                    if name and f"{metric}[{name}]" not in str(result.claim.expect.tree):
                        continue
                    result.observed[label] = [float(v) for v in table.values(metric)[members[name]]]
        except Exception as exc:  # a metric plugin raising: name it, and carry on
            owner = registry.owner_of(exc) if hasattr(registry, "owner_of") else None
            who = f" ({owner[0]} {owner[1]!r} of plugin {owner[2]!r})" if owner else ""
            result.error = f"measuring failed{who}: {type(exc).__name__}: {exc}"


def _g(value: float) -> str:
    return f"{value:.3g}"


def _json_number(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _fail_all(job: _Job, message: str) -> None:
    for claims in job.checkpoints.values():
        for result, _ in claims:
            result.error = message


def check_lesson(
    lesson: Lesson,
    registry: Registry,
    seeds: int | None = None,
    progress: Progress | None = None,
    seed_strings: Sequence[str] | None = None,
) -> LessonReport:
    """Check every claim of one (valid) lesson (see :func:`plan_jobs` for the seeds)."""
    started = time.perf_counter()
    jobs, results = plan_jobs(lesson, registry, seeds, seed_strings)
    for job in jobs:
        run_job(job, registry)
        if progress is not None:
            progress(job_cost(job))
    return LessonReport(lesson.path, lesson.id, results=results, seconds=time.perf_counter() - started)


def job_cost(job: _Job) -> int:
    """A rough measure of a job's work, for progress bars: network-epochs plus set-up."""
    if job.plans:
        return job.size * (job.epochs + 20)
    return sum(job.reach) + 20 * job.size


def total_cost(lessons: Iterable[Lesson], registry: Registry, seeds: int | None = None) -> int:
    return sum(job_cost(j) for lesson in lessons for j in plan_jobs(lesson, registry, seeds)[0])
