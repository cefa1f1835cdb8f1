"""The lesson commands of the ``courseware`` CLI: ``check``, ``run`` and ``new lesson``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from courseware.errors import CoursewareError
from courseware.lessons.checker import LessonReport, check_lesson, total_cost
from courseware.lessons.catalog import discover, find_lesson, host_for
from courseware.lessons.skeleton import lesson_id, skeleton

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


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--seeds", type=click.IntRange(1, 1000), help="Check every claim on this many seeds "
              "(the required share is kept; default: each claim's own count, e.g. 20).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also print the measured values behind each claim.")
def check_command(paths: tuple[str, ...], seeds: int | None, as_json: bool, verbose: bool) -> None:
    """Validate lesson files and verify every claim over its seeds.

    PATHS are lesson folders or files. Exits with status 1 if a lesson is invalid or a claim fails.
    """
    started = time.perf_counter()
    host = host_for(_folders(paths))
    _warn_failures(host)
    registry = host.registry
    entries = discover(paths, registry, packs=False)
    if not entries:
        raise CoursewareError(f"no lesson files (*.yaml, *.yml) in {', '.join(paths)}")
    lessons = [e.lesson for e in entries if e.lesson is not None]
    reports: list[LessonReport] = []
    cost = total_cost(lessons, registry, seeds)
    show_bar = not as_json
    bar_file = sys.stderr
    with click.progressbar(length=max(cost, 1), label="checking claims", file=bar_file,
                           show_eta=False) if show_bar else _NoBar() as bar:
        for entry in entries:
            if entry.lesson is None:
                reports.append(LessonReport(entry.path, entry.id, errors=list(entry.errors)))
                continue
            reports.append(check_lesson(entry.lesson, registry, seeds, progress=bar.update))
    seconds = time.perf_counter() - started
    passed = bool(reports) and all(r.passed for r in reports)
    if as_json:
        click.echo(json.dumps({
            "passed": passed,
            "seconds": round(seconds, 2),
            "seeds": seeds,
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
        _print_reports(reports, seconds, verbose)
    if not passed:
        sys.exit(1)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


def _print_reports(reports: list[LessonReport], seconds: float, verbose: bool = False) -> None:
    for report in reports:
        for error in report.errors:
            click.echo(f"INVALID {error}")
    rows = [
        (c.lesson, str(c.step), _clip(c.claim.label), f"{c.count}/{len(c.seeds)}",
         f"{c.required}/{len(c.seeds)}", "pass" if c.passed else "FAIL")
        for report in reports for c in report.results
    ]
    header = ("lesson", "step", "claim", "observed", "required", "result")
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
                reason = c.error or (
                    f"held in {c.count} of {len(c.seeds)} seeds, needs {c.required}; "
                    f"failed on seeds {', '.join(c.failing_seeds[:12])}"
                    + (" ..." if len(c.failing_seeds) > 12 else "")
                    + (f"; measured {c.describe_values()}" if c.observed else "")
                )
                click.echo(f"FAILED {where}: step {c.step} ({c.step_title}): {c.claim.label}: {reason}")
    claims = sum(len(r.results) for r in reports)
    failed = sum(1 for r in reports for c in r.results if not c.passed)
    invalid = sum(1 for r in reports if r.errors)
    verdict = "all passed" if not failed and not invalid else f"{failed} failed, {invalid} invalid"
    click.echo(f"{len(reports)} lessons, {claims} claims: {verdict} ({seconds:.1f} s)")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CLAIM_WIDTH else text[: CLAIM_WIDTH - 1] + "…"


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


COMMANDS = [check_command, run_command, new_group]
