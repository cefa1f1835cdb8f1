"""Which seeds a claim is verified on: random samples of the seeds students really get.

A student's page draws its seed as the Playground does, ``Math.random().toFixed(5)``: one of the
100,000 strings ``"0.00000"`` to ``"0.99999"``. A claim is a statement about *those* runs, so
``courseware check`` verifies it on a random sample of them, and by default a fresh sample every
time: an author who calibrates a figure on one sample is verified on another, and cannot tune a
claim to the seeds that check it. A sample is named by a short key, printed by ``check``; the same
key draws the same seeds again (``--sample KEY``), and explicit seeds can be given to reproduce one
failure (``--seed``, ``--seed-file``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED_SPACE = 100_000
"""How many distinct seeds the page can draw (five decimal places)."""

DEFAULT_RUNS = 120
"""Seeds per claim stated as a rate ("in at least 90% of runs")."""

CERTAIN_FACTOR = 2
"""A claim about every run is verified on this many times more seeds: one failure disproves it."""


def playground_seed(index: int) -> str:
    """The seed string for ``index`` in ``0..SEED_SPACE-1``: ``7`` -> ``"0.00007"``."""
    return f"0.{index:05d}"


def new_key() -> str:
    """A fresh sample key: 8 hex digits from the operating system's randomness."""
    return os.urandom(4).hex()


def parse_key(text: str) -> str:
    """Check a ``--sample`` key (hex digits); raises ValueError."""
    key = text.strip().lower()
    if not key or len(key) > 16 or any(ch not in "0123456789abcdef" for ch in key):
        raise ValueError(f"{text!r} is not a sample key (1 to 16 hex digits, as check prints them)")
    return key


@dataclass(frozen=True)
class SeedSample:
    """An ordered list of distinct seeds; a claim needing n seeds takes the first n.

    ``key`` names a random sample (``None`` for explicit seeds). Every claim of one ``check`` run
    draws from the same sample, so claims on the same experiment share their trained networks.
    """

    seeds: tuple[str, ...]
    key: str | None = None

    @classmethod
    def random(cls, size: int, key: str | None = None) -> SeedSample:
        """``size`` distinct Playground seeds drawn without replacement, reproducibly from ``key``."""
        key = parse_key(key) if key is not None else new_key()
        size = min(size, SEED_SPACE)
        generator = np.random.Generator(np.random.PCG64(int(key, 16)))
        indices = generator.choice(SEED_SPACE, size=size, replace=False)
        return cls(tuple(playground_seed(int(i)) for i in indices), key)

    @classmethod
    def explicit(cls, seeds: Iterable[str]) -> SeedSample:
        """Exactly these seeds, in this order, duplicates dropped."""
        out: list[str] = []
        for seed in seeds:
            if seed not in out:
                out.append(seed)
        if not out:
            raise ValueError("no seeds given")
        return cls(tuple(out))

    def take(self, count: int) -> list[str]:
        """The first ``count`` seeds (all of them for an explicit sample)."""
        if self.key is None:
            return list(self.seeds)
        return list(self.seeds[:count])

    def describe(self) -> str:
        if self.key is None:
            return f"{len(self.seeds)} given seed{'s' if len(self.seeds) != 1 else ''}"
        return f"random Playground seeds, sample {self.key}"


def read_seed_file(path: str | Path) -> list[str]:
    """Seeds from a file: one per line (or separated by commas/whitespace); ``#`` starts a comment."""
    seeds: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        seeds.extend(part for part in line.replace(",", " ").split() if part)
    if not seeds:
        raise ValueError(f"{path}: no seeds in the file")
    return seeds
