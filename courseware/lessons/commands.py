"""The lesson commands of the ``courseware`` CLI: ``check``, ``measure``, ``run`` and ``new lesson``."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from courseware.errors import CoursewareError
from courseware.lessons.catalog import discover, find_lesson, host_for
from courseware.lessons.checker import ClaimResult, LessonReport, check_lessons, job_cost, plan_jobs, sample_size
from courseware.lessons.seeds import CERTAIN_FACTOR, DEFAULT_RUNS, SeedSample, read_seed_file
from courseware.lessons.skeleton import lesson_id, skeleton
from courseware.lessons.stats import ALPHA, percent, safe_rate

CALIBRATION_RUNS = 400

CLAIM_WIDTH = 58


def _folders(paths: tuple[str, ...]) -> list[Path]:
    """The folders whose plugins must load: each folder given, or the folder of each file."""
    out: list[Path] = []
    for p in paths:
        folder = Path(p) if Path(p).is_dir() else Path(p).parent
        if folder not in out:
            out.append(folder)
    return out


def _warn_failures(host) -> None:
    for failure in host.failures:
        click.echo(f"warning: {failure}", err=True)


def _sample(seeds: tuple[str, ...], seed_file: str | None, key: str | None, runs: int) -> SeedSample:
    """The seeds to verify on: explicit ones, a named random sample, or a fresh random sample."""
    given = list(seeds)
    if seed_file is not None:
        try:
            given += read_seed_file(seed_file)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CoursewareError(f"--seed-file: {exc}") from None
    if given:
        if key is not None:
            raise CoursewareError("--sample names a random sample; it cannot be combined with --seed or --seed-file")
        return SeedSample.explicit(given)
    try:
        return SeedSample.random(sample_size(runs), key)
    except ValueError as exc:
        raise CoursewareError(f"--sample: {exc}") from None


def _lessons_at(paths: tuple[str, ...]) -> tuple[Any, list[Any]]:
    host = host_for(_folders(paths))
    _warn_failures(host)
    entries = discover(paths, host.registry, packs=False)
    if not entries:
        raise CoursewareError(f"no lesson files (*.yaml, *.yml) in {', '.join(paths)}")
    return host, entries


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


_SEED_OPTIONS = [
    click.option("--seed", "seeds", multiple=True, metavar="SEED",
                 help="Verify on exactly this seed (repeatable), e.g. to reproduce a failure."),
    click.option("--seed-file", type=click.Path(exists=True, dir_okay=False),
                 help="Verify on the seeds listed in this file (one per line, # comments)."),
    click.option("--sample", "key", metavar="KEY",
                 help="Draw the random sample named KEY again (check prints the key it used)."),
    click.option("--jobs", type=click.IntRange(1, 64), default=None,
                 help="Processes to train in (default: the machine's cores, at most 4)."),
]


def _seed_options(fn: Any) -> Any:
    for option in reversed(_SEED_OPTIONS):
        fn = option(fn)
    return fn


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--runs", type=click.IntRange(1, 2000), default=DEFAULT_RUNS, show_default=True,
              help="Seeds each claim stated as a rate is verified on (claims about every run get "
                   f"{CERTAIN_FACTOR} times as many).")
@_seed_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also print the measured values behind each claim.")
def check_command(paths: tuple[str, ...], runs: int, seeds: tuple[str, ...], seed_file: str | None,
                  key: str | None, jobs: int | None, as_json: bool, verbose: bool) -> None:  # fmt: skip
    """Validate lesson files and verify every claim on a fresh sample of students' seeds.

    PATHS are lesson folders or files. A claim such as "at least 90% of runs" fails when the share
    of sampled runs it holds in is significantly below 90% (exact binomial test, 5% level); a claim
    about every run fails on a single counterexample. Each check draws a new random sample of
    Playground seeds, so a claim cannot be tuned to the seeds that verify it; the sample's key is
    printed to repeat it. Exits with status 1 if a lesson is invalid or a claim fails.
    """
    started = time.perf_counter()
    sample = _sample(seeds, seed_file, key, runs)
    host, entries = _lessons_at(paths)
    registry = host.registry
    valid = [e for e in entries if e.lesson is not None]
    lessons = [e.lesson for e in valid]
    cost = sum(job_cost(j) for lesson in lessons for j in plan_jobs(lesson, registry, sample, runs)[0])
    with _bar(cost, "checking claims", quiet=as_json) as bar:
        checked = check_lessons(lessons, registry, sample, runs, jobs or _default_workers(), bar.update)
    by_path = {r.path: r for r in checked}
    reports = [
        by_path[e.lesson.path] if e.lesson is not None else LessonReport(e.path, e.id, errors=list(e.errors))
        for e in entries
    ]
    seconds = time.perf_counter() - started
    passed = bool(reports) and all(r.passed for r in reports)
    if as_json:
        click.echo(json.dumps({
            "passed": passed,
            "seconds": round(seconds, 2),
            "runs": runs,
            "sample": sample.key,
            "seeds": None if sample.key else list(sample.seeds),
            "alpha": ALPHA,
            "lessons": [
                {
                    "path": r.path,
                    "id": r.lesson,
                    "valid": not r.errors,
                    "passed": r.passed,
                    "seconds": round(r.seconds, 2),
                    "errors": [e.to_dict() for e in r.errors],
                    "claims": [c.to_dict() for c in r.results],
                }
                for r in reports
            ],
        }, indent=2))
    else:
        _print_reports(reports, seconds, sample, verbose)
    if not passed:
        sys.exit(1)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


def _bar(cost: int, label: str, quiet: bool) -> Any:
    if quiet:
        return _NoBar()
    return click.progressbar(length=max(cost, 1), label=label, file=sys.stderr, show_eta=False)


def _print_reports(reports: list[LessonReport], seconds: float, sample: SeedSample, verbose: bool = False) -> None:
    for report in reports:
        for error in report.errors:
            click.echo(f"INVALID {error}")
    rows = [
        (c.lesson, str(c.step), _clip(c.claim.label), f"{c.count}/{c.runs}", _clip(str(c.claim.holds_in), 22),
         "" if c.claim.holds_in.certain or c.claim.holds_in.lesson_seed or not c.runs else _p(c.p_value),
         "pass" if c.passed else "FAIL")
        for report in reports for c in report.results
    ]
    header = ("lesson", "step", "claim", "held", "states", "p", "result")
    if rows:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
        click.echo("  ".join("-" * w for w in widths))
        for row in rows:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if verbose:
        for report in reports:
            for c in report.results:
                click.echo(f"{c.lesson} step {c.step}: {c.claim.label}: {c.describe_values() or c.error}")
    for report in reports:
        for c in report.results:
            if not c.passed:
                where = f"{c.path}:{c.claim.where.line}" if c.claim.where.line else c.path
                reason = c.verdict()
                if c.error is None:
                    shown = c.failing_seeds[:8]
                    reason += f"; failed on seeds {', '.join(shown)}" + (" ..." if len(c.failing_seeds) > 8 else "")
                    if c.observed:
                        reason += f"; measured {c.describe_values()}"
                click.echo(f"FAILED {where}: step {c.step} ({c.step_title}): {c.claim.label}: {reason}")
    claims = sum(len(r.results) for r in reports)
    failed = sum(1 for r in reports for c in r.results if not c.passed)
    invalid = sum(1 for r in reports if r.errors)
    verdict = "all passed" if not failed and not invalid else f"{failed} failed, {invalid} invalid"
    click.echo(f"Verified on {sample.describe()}"
               + (f" (repeat with --sample {sample.key})" if sample.key else "")
               + f"; a rate fails when significantly below what it states (exact binomial test, {percent(ALPHA)} level).")
    click.echo(f"{len(reports)} lessons, {claims} claims: {verdict} ({seconds:.1f} s)")


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 0.0001 else "<0.0001"


def _clip(text: str, width: int = CLAIM_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("measure")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--runs", type=click.IntRange(20, 5000), default=CALIBRATION_RUNS, show_default=True,
              help="Seeds to measure every claim on.")
@_seed_options
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
def measure_command(paths: tuple[str, ...], runs: int, seeds: tuple[str, ...], seed_file: str | None,
                    key: str | None, jobs: int | None, as_json: bool) -> None:  # fmt: skip
    """Measure every claim and goal of lessons on many seeds: the calibration aid for authors.

    For each claim it prints the share of runs it holds in, the distribution of each quantity it
    tests (minimum, percentiles, maximum), and the strongest rate that is safe to state: one that a
    later `check` on fresh seeds will not reject, except with a probability under 0.1%. Measure on
    one sample, state with the margin it gives, and let `check` verify on another.
    """
    started = time.perf_counter()
    sample = _sample(seeds, seed_file, key, runs)
    host, entries = _lessons_at(paths)
    registry = host.registry
    lessons = [e.lesson for e in entries if e.lesson is not None]
    for entry in entries:
        for error in entry.errors:
            click.echo(f"INVALID {error}", err=True)
    cost = sum(job_cost(j) for lesson in lessons for j in plan_jobs(lesson, registry, sample, runs, same_runs=True)[0])
    with _bar(cost, "measuring claims", quiet=as_json) as bar:
        reports = check_lessons(lessons, registry, sample, runs, jobs or _default_workers(), bar.update,
                                same_runs=True)
    rows = [calibration(c) for r in reports for c in r.results]
    if as_json:
        click.echo(json.dumps({"sample": sample.key, "runs": runs, "claims": rows}, indent=2))
        return
    for row in rows:
        click.echo(f"{row['lesson']} step {row['step']} (line {row['line']}): {row['claim']}")
        if row["error"]:
            click.echo(f"  error: {row['error']}")
            continue
        click.echo(f"  held in {row['held']} of {row['runs']} runs ({percent(row['share'])}); "
                   f"states {row['states']}: {row['advice']}")
        for name, stats in row["values"].items():
            click.echo("  " + _distribution(name, stats))
    click.echo(f"Measured on {sample.describe()} in {time.perf_counter() - started:.1f} s.")


def calibration(result: ClaimResult) -> dict[str, Any]:
    """What ``measure`` reports of one claim: its share, the values behind it, and a safe rate."""
    held, runs = result.count, result.runs
    safe = safe_rate(held, runs, DEFAULT_RUNS) if runs else None
    stated = result.claim.holds_in
    if result.error:
        advice = ""
    elif stated.lesson_seed:
        advice = "about the lesson seed only"
    elif stated.certain:
        advice = ("held in every run measured; keep 'every run' only if it is certain by construction"
                  + (f", otherwise state 'at least {percent(safe)} of runs'" if safe else "")
                  if held == runs else "FALSE: it failed in some runs; state a rate instead"
                  + (f", at most 'at least {percent(safe)} of runs'" if safe else ""))
    elif safe is None:
        advice = "too rare to state as a rate; drop the claim or change the experiment"
    elif safe >= stated.rate:
        advice = f"safe (the strongest safe rate is 'at least {percent(safe)} of runs')"
    else:
        advice = f"TOO STRONG: state at most 'at least {percent(safe)} of runs'"
    return {
        "lesson": result.lesson, "path": result.path, "step": result.step, "line": result.claim.where.line,
        "claim": result.claim.label, "states": str(stated), "held": held, "runs": runs,
        "share": result.observed_rate, "safe_rate": safe, "advice": advice, "error": result.error,
        "values": {name: _summary(values) for name, values in result.observed.items()},
    }


def _summary(values: list[float]) -> dict[str, Any]:
    finite = np.array([v for v in values if isinstance(v, float) and np.isfinite(v)])
    out: dict[str, Any] = {"nan": len(values) - len(finite)}
    if finite.size:
        for label, q in (("min", 0), ("p5", 5), ("p25", 25), ("median", 50), ("p75", 75), ("p95", 95), ("max", 100)):
            out[label] = float(np.percentile(finite, q))
    return out


def _distribution(name: str, stats: dict[str, Any]) -> str:
    if "median" not in stats:
        return f"{name}: never finite"
    text = (f"{name}: min {stats['min']:.3g}, 5% {stats['p5']:.3g}, 25% {stats['p25']:.3g}, "
            f"median {stats['median']:.3g}, 75% {stats['p75']:.3g}, 95% {stats['p95']:.3g}, max {stats['max']:.3g}")
    return text + (f"; NaN in {stats['nan']}" if stats["nan"] else "")


@click.command("run")
@click.argument("lesson")
@click.option("--lessons", "dirs", multiple=True, default=("lessons",), show_default=True,
              help="Folders to look for a lesson id in.")
@click.option("--seed", help="The seed string to run with (default: the lesson's, or 1).")
def run_command(lesson: str, dirs: tuple[str, ...], seed: str | None) -> None:
    """Walk through a LESSON (a file or an id) in the terminal, running its experiments."""
    from courseware.lessons.terminal import walk_through

    folders = [Path(lesson).parent] if Path(lesson).is_file() else [Path(d) for d in dirs]
    host = host_for(folders)
    _warn_failures(host)
    found = find_lesson(lesson, dirs, host.registry)
    walk_through(found, host.registry, click.echo, seed=seed)


@click.group("new")
def new_group() -> None:
    """Create new courseware files from commented skeletons."""


@new_group.command("lesson")
@click.argument("name")
@click.option("--dir", "folder", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the lesson into.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new_lesson_command(name: str, folder: str, force: bool) -> None:
    """Write NAME.yaml: a commented lesson skeleton that passes `courseware check`."""
    path = Path(folder) / f"{lesson_id(name)}.yaml"
    if path.exists() and not force:
        raise CoursewareError(f"{path} already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(skeleton(name, str(path)), encoding="utf-8")
    click.echo(f"wrote {path}; check it with: courseware check {path}")


COMMANDS = [check_command, measure_command, run_command, new_group]
