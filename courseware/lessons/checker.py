"""``courseware check``: verify every claim of every lesson on a sample of students' seeds.

Each claim is trained on the first n seeds of one random sample of Playground seeds
(:mod:`courseware.lessons.seeds`; n depends on the claim, :meth:`Rate.runs`) and passes unless the
share it held in is significantly below the rate it states (:mod:`courseware.lessons.stats`).

Claims are gathered into jobs: claims measured on the same configurations and the same kind of
training share one job, whose networks (every variant times every seed) train together in as few
stacked computations as their architectures allow. A job of fixed-epoch runs stops at each epoch a
claim needs and measures there; a run-until job trains each network until its condition holds.
Jobs are independent, so :func:`check_lessons` spreads them over processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from courseware.config import Config
from courseware.lessons.claims import Claim, Rate
from courseware.lessons.conditions import metric_kind
from courseware.lessons.errors import LessonError
from courseware.lessons.lesson import Lesson
from courseware.lessons.measure import Members, MetricTable, evaluate
from courseware.lessons.seeds import DEFAULT_RUNS, SeedSample
from courseware.lessons.stats import ALPHA, percent
from courseware.lessons.steps import Plan, Step, Subject
from courseware.registry import Registry
from courseware.rng import compile_draws

Progress = Callable[[int], None]


@dataclass
class ClaimResult:
    """One claim's outcome: on which seeds it held, and whether that share is enough for its rate."""

    lesson: str
    path: str
    step: int
    step_title: str
    claim: Claim
    seeds: list[str]
    held: list[bool] = field(default_factory=list)
    error: str | None = None
    observed: dict[str, list[float]] = field(default_factory=dict)
    index: int = 0  # position among its lesson's results

    @property
    def count(self) -> int:
        return int(sum(self.held))

    @property
    def runs(self) -> int:
        return len(self.held)

    @property
    def observed_rate(self) -> float:
        return self.count / self.runs if self.runs else 0.0

    @property
    def stated_rate(self) -> float:
        return self.claim.holds_in.rate

    @property
    def p_value(self) -> float:
        """P(so few successes | the stated rate is true): the claim fails below ``ALPHA``."""
        return self.claim.holds_in.p_value(self.count, self.runs) if self.runs else 1.0

    @property
    def upper_bound(self) -> float:
        """The 95% upper confidence bound on the claim's true rate."""
        return self.claim.holds_in.upper_bound(self.count, self.runs)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.runs) and not self.claim.holds_in.fails(self.count, self.runs)

    @property
    def failing_seeds(self) -> list[str]:
        return [s for s, ok in zip(self.seeds, self.held) if not ok]

    def verdict(self) -> str:
        """``held in 87 of 120 runs (72%); states at least 90%: p = 0.0001`` for reports."""
        if self.error:
            return self.error
        text = f"held in {self.count} of {self.runs} runs ({percent(self.observed_rate)}); states {self.claim.holds_in}"
        if self.claim.holds_in.certain or self.claim.holds_in.lesson_seed:
            return text
        return text + f": p {_p(self.p_value)}, true rate at most {percent(round(self.upper_bound, 3))} (95%)"

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
            "stated_rate": self.stated_rate,
            "line": self.claim.where.line,
            "seeds": len(self.seeds),
            "held": self.count,
            "observed_rate": self.observed_rate,
            "p_value": self.p_value,
            "upper_bound": self.upper_bound,
            "alpha": ALPHA,
            "passed": self.passed,
            "failing_seeds": self.failing_seeds,
            "observed_values": {k: [_json_number(v) for v in vs] for k, vs in self.observed.items()},
            "error": self.error,
        }

    def describe_values(self) -> str:
        """``test_loss[ReLU] 0.010-0.028 (median 0.017)`` for each quantity in the claim."""
        parts = []
        for name, values in self.observed.items():
            finite = np.array([v for v in values if isinstance(v, float) and np.isfinite(v)])
            nans = len(values) - len(finite)
            if finite.size:
                low, mid, high = np.percentile(finite, [5, 50, 95])
                text = (f"{name} {_g(finite.min())}-{_g(finite.max())} (median {_g(float(mid))}, "
                        f"90% within {_g(float(low))}-{_g(float(high))})")
            else:
                text = f"{name} never finite"
            if nans and finite.size:
                text += f", NaN in {nans}"
            parts.append(text)
        return "; ".join(parts)


def _p(value: float) -> str:
    return f"= {value:.2g}" if value >= 0.0001 else "< 0.0001"


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
    lesson: Lesson, registry: Registry, sample: SeedSample, runs: int = DEFAULT_RUNS, same_runs: bool = False
) -> tuple[list[_Job], list[ClaimResult]]:
    """Group a lesson's claims into training jobs; returns the jobs and the (empty) results.

    Each claim takes the first ``claim.holds_in.runs(runs)`` seeds of ``sample`` (every seed of an
    explicit sample), or the lesson's own seed for a claim about it; with ``same_runs`` every claim
    takes ``runs`` seeds (``courseware measure``).
    """
    fixed = _Job(())
    jobs: dict[Any, _Job] = {}
    results = []
    for step, claim, subject in claim_checks(lesson, registry):
        if claim.holds_in.lesson_seed:
            claim_seeds = [lesson.fixed_seed or sample.seeds[0]]
        else:
            claim_seeds = sample.take(runs if same_runs else claim.holds_in.runs(runs))
        result = ClaimResult(
            lesson.id, lesson.path, step.number, step.title, claim, claim_seeds, index=len(results)
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
        trained = Members(configs, registry, record=_needs_history(job, registry))
    except Exception as exc:  # a plugin's dataset or activation failing
        _fail_all(job, f"could not build the experiment: {type(exc).__name__}: {exc}")
        return
    if job.plans:
        *warmup, last = job.plans
        try:
            trained.step(sum(p.epochs for p in warmup))
            assert last.until is not None
            table = trained.run_until(last.until, last.max_epochs, last.hold)
        except Exception as exc:
            _fail_all(job, f"training failed: {type(exc).__name__}: {exc}")
            return
        _measure(job.checkpoints[-1], table, registry, extra=("epoch",))
        return
    reach = np.array(job.reach)
    for checkpoint in sorted(job.checkpoints):
        try:
            trained.advance(checkpoint, reach >= checkpoint)
        except Exception as exc:
            _fail_all(job, f"training failed: {type(exc).__name__}: {exc}")
            return
        _measure(job.checkpoints[checkpoint], trained.table(), registry)


def _needs_history(job: _Job, registry: Registry) -> bool:
    """Whether any claim or run-until of the job reads the loss history: recording every epoch's
    losses costs about as much as training, so jobs that need only the last epoch skip it."""
    names = {m for claims in job.checkpoints.values() for result, _ in claims for m in result.claim.expect.metrics}
    names |= {m for plan in job.plans if plan.until is not None for m in plan.until.metrics}
    for name in names:
        try:
            if registry.metric(name).history:
                return True
        except Exception:  # unknown metric: the claim reports it
            return True
    return False


def _measure(
    claims: Sequence[tuple[ClaimResult, dict[str, np.ndarray]]],
    table: MetricTable,
    registry: Registry,
    extra: Sequence[str] = (),
) -> None:
    """Record each claim's outcome per seed, and the values of the metrics it tests (plus ``extra``:
    the epoch a run-until stopped at) for reports and calibration."""
    for result, members in claims:
        try:
            result.held = [bool(v) for v in evaluate(result.claim.expect, table, members)]
            for metric in [*sorted(result.claim.expect.metrics), *extra]:
                if metric_kind(registry.metric(metric)) == "boolean":
                    continue  # the claim's own verdict already says it
                for name in members:
                    label = metric if not name else f"{metric}[{name}]"
                    if name and f"{metric}[{name}]" not in str(result.claim.expect.tree):
                        continue
                    values = table.values(metric)[members[name]]
                    result.observed[label] = [v if isinstance(v, str) else float(v) for v in values]
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
    sample: SeedSample | None = None,
    runs: int = DEFAULT_RUNS,
    progress: Progress | None = None,
) -> LessonReport:
    """Check every claim of one (valid) lesson, in this process (see :func:`plan_jobs`).

    Without a ``sample``, a fresh random one is drawn.
    """
    sample = sample or SeedSample.random(sample_size(runs))
    started = time.perf_counter()
    jobs, results = plan_jobs(lesson, registry, sample, runs)
    for job in jobs:
        run_job(job, registry)
        if progress is not None:
            progress(job_cost(job))
    return LessonReport(lesson.path, lesson.id, results=results, seconds=time.perf_counter() - started)


def job_cost(job: _Job) -> int:
    """A rough measure of a job's work, for progress bars and scheduling: network-epochs plus set-up."""
    if job.plans:
        return job.size * (job.epochs + 20)
    return sum(job.reach) + 20 * job.size


def sample_size(runs: int) -> int:
    """Seeds a check needs from its sample: enough for claims about every run."""
    return Rate(1.0).runs(runs)


# -- many lessons, over processes ------------------------------------------------------------------------

Outcome = tuple[int, list[bool], dict[str, list[float]], "str | None"]
_WORK: dict[str, Any] = {}  # what forked workers inherit: the planned jobs and the registry


def _run_in_worker(lesson_index: int, job_index: int) -> list[Outcome]:
    """Run one planned job in a worker and return its claims' outcomes (results are copies here)."""
    job = _WORK["jobs"][lesson_index][job_index]
    run_job(job, _WORK["registry"])
    return _outcomes(job)


def _outcomes(job: _Job) -> list[Outcome]:
    return [
        (result.index, result.held, result.observed, result.error)
        for claims in job.checkpoints.values() for result, _ in claims
    ]


def check_lessons(
    lessons: Sequence[Lesson],
    registry: Registry,
    sample: SeedSample,
    runs: int = DEFAULT_RUNS,
    workers: int = 1,
    progress: Progress | None = None,
    same_runs: bool = False,
) -> list[LessonReport]:
    """Check several lessons, spreading their jobs over ``workers`` processes (largest first).

    Workers are forked, so they share the loaded plugins and the planned jobs without pickling
    them; where ``fork`` is unavailable the jobs run in this process.
    """
    compile_draws()  # thousands of data sets to generate: worth loading the compiled stream
    planned = [plan_jobs(lesson, registry, sample, runs, same_runs) for lesson in lessons]
    seconds = [0.0] * len(lessons)
    tasks = sorted(
        ((li, ji) for li, (jobs, _) in enumerate(planned) for ji in range(len(jobs))),
        key=lambda t: -job_cost(planned[t[0]][0][t[1]]),
    )

    def merge(li: int, ji: int, outcomes: list[Outcome], took: float) -> None:
        results = planned[li][1]
        for index, held, observed, error in outcomes:
            results[index].held, results[index].observed, results[index].error = held, observed, error
        seconds[li] += took
        if progress is not None:
            progress(job_cost(planned[li][0][ji]))

    context = _fork_context()
    if workers <= 1 or context is None or len(tasks) <= 1:
        for li, ji in tasks:
            began = time.perf_counter()
            run_job(planned[li][0][ji], registry)
            merge(li, ji, [], time.perf_counter() - began)
    else:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        _WORK.update(jobs=[jobs for jobs, _ in planned], registry=registry)
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(_timed, li, ji): (li, ji) for li, ji in tasks}
                for future in as_completed(futures):
                    li, ji = futures[future]
                    outcomes, took = future.result()
                    merge(li, ji, outcomes, took)
        finally:
            _WORK.clear()
    return [
        LessonReport(lesson.path, lesson.id, results=results, seconds=seconds[li])
        for li, (lesson, (_, results)) in enumerate(zip(lessons, planned))
    ]


def _timed(lesson_index: int, job_index: int) -> tuple[list[Outcome], float]:
    began = time.perf_counter()
    outcomes = _run_in_worker(lesson_index, job_index)
    return outcomes, time.perf_counter() - began


def _fork_context() -> Any:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")
