"""Start-up of ``courseware train``: the first run on an empty numba cache, and a warm one.

    python bench/startup.py [--runs N] [--epochs E]

Each figure is the wall time of a fresh process, the median of ``--runs`` runs:

* **cold**: ``courseware train --epochs E`` with ``NUMBA_CACHE_DIR`` set to a new, empty folder, so
  the exact engine's kernels and the components' exact forms are compiled (what a student's first
  run after installing pays);
* **warm**: the same command again, everything loaded from that cache.

Beside them, in the same way, the floor no courseware code can go under: Python with numpy, then
with numba imported, then with numba's first cached function loaded (numba sets up its compiler's
typing and target context on the first one, whatever it is). The difference between a figure and
the floor is what courseware itself costs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COURSEWARE = [sys.executable, "-m", "courseware"]
FIRST_CACHED = """
import numba
@numba.njit("float64(float64)", cache=True)
def twice(x):
    return 2 * x
"""


def wall(command: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    train = [*COURSEWARE, "train", "--epochs", str(args.epochs), "--seed", "0.12345"]

    def cold() -> float:
        cache = tempfile.mkdtemp(prefix="courseware-numba-")
        try:
            return wall(train, {**os.environ, "NUMBA_CACHE_DIR": cache})
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    cache = tempfile.mkdtemp(prefix="courseware-numba-")
    scratch = tempfile.mkdtemp(prefix="courseware-floor-")
    try:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        (Path(scratch) / "first_cached.py").write_text(FIRST_CACHED)
        wall(train, env)  # fill the cache
        wall([sys.executable, "-c", "import first_cached"], env, scratch)
        figures = {
            "python + numpy": median_of(args.runs, lambda: wall([sys.executable, "-c", "import numpy"], env)),
            "+ numba imported": median_of(args.runs, lambda: wall([sys.executable, "-c", "import numba"], env)),
            "+ numba's first cached function": median_of(
                args.runs, lambda: wall([sys.executable, "-c", "import first_cached"], env, scratch)
            ),
            f"courseware train --epochs {args.epochs}, warm": median_of(args.runs, lambda: wall(train, env)),
            f"courseware train --epochs {args.epochs}, cold": median_of(args.runs, cold),
        }
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    width = max(len(name) for name in figures)
    print(f"median of {args.runs} fresh processes each")
    for name, seconds in figures.items():
        print(f"  {name:<{width}}  {seconds:6.2f} s")


if __name__ == "__main__":
    main()
