"""Generating, shuffling and splitting a dataset exactly as the Playground does.

The Playground shuffles with a backwards Fisher-Yates that takes exactly one draw per point, then
splits at ``floor(len * percTrainData / 100)``; the training order is never reshuffled afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from courseware.components import Dataset
from courseware.rng import RandomStream


@dataclass(frozen=True)
class Points:
    """A shuffled dataset split into training and test points, each an (n, 3) array of x, y, label."""

    train: np.ndarray
    test: np.ndarray

    @property
    def all(self) -> np.ndarray:
        return np.concatenate([self.train, self.test])


def shuffle(rng: RandomStream, points: np.ndarray) -> np.ndarray:
    """The Playground's in-place backwards Fisher-Yates, returning a shuffled copy."""
    order = list(range(len(points)))
    draws = rng.draws(len(points))
    for step, counter in enumerate(range(len(order), 0, -1)):
        index = int(draws[step] * counter)
        last = counter - 1
        order[last], order[index] = order[index], order[last]
    return points[np.array(order, dtype=np.intp)] if len(points) else points


def split(points: np.ndarray, perc_train: float) -> Points:
    split_index = int(np.floor(len(points) * perc_train / 100))
    return Points(train=points[:split_index].copy(), test=points[split_index:].copy())


def generate(
    dataset: Dataset, rng: RandomStream, num_samples: int, noise_percent: float, perc_train: float
) -> Points:
    """Generate ``dataset`` from ``rng``, shuffle it and split it, consuming draws as the original."""
    raw = np.asarray(dataset.generate(rng, num_samples, noise_percent / 100), dtype=np.float64)
    if raw.ndim != 2 or raw.shape[1] != 3:
        raise ValueError(
            f"dataset {dataset.name!r} returned an array of shape {raw.shape}; expected (n, 3)"
        )
    return split(shuffle(rng, raw), perc_train)
