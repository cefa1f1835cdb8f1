"""How long `courseware check` takes on the shipped lessons, with the default sample.

Prints the wall time of a full check (the same sample of seeds each time, so the runs compare) in
one process and spread over the machine's cores, and the per-lesson training time. Issue 8's
target: the default check of all shipped lessons in under 60 s on a 2-core machine.

    python bench/check_lessons.py [--runs 120] [--jobs 2] [--sample KEY] [LESSON_DIR]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from courseware.lessons.catalog import discover, host_for
from courseware.lessons.checker import check_lessons, sample_size
from courseware.lessons.seeds import DEFAULT_RUNS, SeedSample

ROOT = Path(__file__).resolve().parents[1]


def timed(lessons, registry, sample, runs, jobs):
    started = time.perf_counter()
    reports = check_lessons(lessons, registry, sample, runs, jobs)
    return time.perf_counter() - started, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT / "lessons"))
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--sample", default="bec4")
    parser.add_argument("--serial", action="store_true", help="also time one process (the baseline)")
    args = parser.parse_args()

    host = host_for([Path(args.folder)])
    lessons = [e.lesson for e in discover([args.folder], host.registry, packs=False) if e.lesson is not None]
    sample = SeedSample.random(sample_size(args.runs), args.sample)
    claims = None
    rows = []
    if args.serial:
        seconds, reports = timed(lessons, host.registry, sample, args.runs, 1)
        rows.append(("1 process", seconds))
        claims = sum(len(r.results) for r in reports)
    seconds, reports = timed(lessons, host.registry, sample, args.runs, args.jobs)
    rows.append((f"{args.jobs} processes", seconds))
    claims = sum(len(r.results) for r in reports)
    failed = sum(1 for r in reports for c in r.results if not c.passed)
    print(f"{len(lessons)} lessons, {claims} claims, {args.runs} runs per rate claim, sample {args.sample}"
          f" ({failed} failed)")
    for label, value in rows:
        print(f"  {label:<12} {value:6.1f} s")
    print("training time per lesson (summed over processes):")
    for report in sorted(reports, key=lambda r: -r.seconds):
        print(f"  {report.lesson:<24} {report.seconds:6.1f} s  ({len(report.results)} claims)")


if __name__ == "__main__":
    main()
