"""What every training engine shares: the per-member settings, the evaluation, and the protocol.

The exact compiled :class:`~courseware.engine.Engine`, the vectorized numpy
:class:`~courseware.vectorized.VectorizedEngine` and the readable
:class:`~courseware.reference.ReferenceEngine` each take a :class:`Hyper` and give an
:class:`Evaluation`; an experiment holds any of them as a :class:`TrainingEngine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from courseware.components import Activation, Optimizer, OutputLayer, Regularizer
from courseware.network import Parameters


@dataclass
class Hyper:
    """Per-member training settings. The batch size and the output layer are shared: members train in
    lockstep, on one architecture."""

    hidden: Sequence[Activation]
    output: OutputLayer
    learning_rate: np.ndarray
    regularizer: Sequence[Regularizer | None]
    regularization_rate: np.ndarray
    batch_size: int
    optimizer: Sequence[Optimizer]


@dataclass(frozen=True)
class Evaluation:
    """Losses and accuracies of every member on its own data, each of shape (K,); per class (K, C).

    Accuracies are NaN for a regression; a class with no points has a NaN accuracy of its own.
    """

    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    diverged: np.ndarray
    hits: np.ndarray = field(default_factory=lambda: np.zeros((2, 2, 0)), repr=False)
    tally: Tally | None = field(default=None, repr=False)

    @classmethod
    def of(cls, params: Parameters, loss: np.ndarray, hits: np.ndarray, tally: Tally,
           accuracy: np.ndarray | None = None) -> Evaluation:  # fmt: skip
        """From (2, K) losses (training, test) and (2, C, K) right answers per class, out of the
        points the ``tally`` counts (``accuracy``, if the caller has it: right answers over points,
        per part). Members are marked diverged where a parameter or a loss is not finite (an empty
        training or test set's NaN loss does not count)."""
        if not tally.classifies:
            accuracy = tally.no_accuracy
        elif accuracy is None:
            accuracy = (
                hits.sum(axis=1) / tally.totals
            )  # a count over a count, as the original divides
        finite = np.isfinite(params.flat).all(axis=1)
        if tally.any_empty:
            finite &= (np.isfinite(loss) | tally.empty).all(axis=0)
        else:
            finite &= np.isfinite(loss).all(axis=0)
        return cls(loss[0], loss[1], accuracy[0], accuracy[1], ~finite, hits, tally)

    @property
    def train_class_accuracy(self) -> np.ndarray:
        """(K, C): each class's share of its training points classified right."""
        return self._per_class(0)

    @property
    def test_class_accuracy(self) -> np.ndarray:
        """(K, C): each class's share of its test points classified right."""
        return self._per_class(1)

    def _per_class(self, part: int) -> np.ndarray:
        # Computed when asked (metrics, the command line), not on every frame.
        tally = self.tally
        if tally is None or not tally.classifies:
            return np.full(self.hits.shape[:0:-1], np.nan)
        return (self.hits[part] / tally.counts[part]).T


class Tally:
    """What an evaluation divides by, counted once per data set: the points of each class in the
    training and test parts of every member. Counts of 0 are kept as NaN, so that an empty class or
    part has a NaN accuracy without a warning."""

    def __init__(
        self, output: OutputLayer, train_labels: np.ndarray, test_labels: np.ndarray
    ) -> None:
        self.classifies = output.classifies
        counts = np.stack(
            [class_counts(output, train_labels), class_counts(output, test_labels)]
        )  # (2, C, K)
        totals = counts.sum(axis=1)  # (2, K)
        self.width = counts.shape[1]
        self.empty = totals == 0
        self.any_empty = bool(self.empty.any())
        self.counts = np.where(counts == 0, np.nan, counts)
        self.totals = np.where(self.empty, np.nan, totals)
        self.no_accuracy = np.full((2, totals.shape[1]), np.nan)


def class_counts(output: OutputLayer, labels: np.ndarray) -> np.ndarray:
    """(C, K) points of each class among labels (K, points); C is at least 2 (a regression's points
    all count as class 0)."""
    classes = output.classes_of(labels).astype(np.int64)
    width = max(2, output.classes)
    counts = np.zeros((width, classes.shape[0]))
    for k, row in enumerate(classes):
        counts[:, k] = np.bincount(row, minlength=width)[:width]
    return counts


class TrainingEngine(Protocol):
    """What :class:`~courseware.engine.Engine`, :class:`~courseware.vectorized.VectorizedEngine` and
    :class:`~courseware.reference.ReferenceEngine` offer an experiment."""

    params: Parameters
    hyper: Hyper
    carry_count: int  # samples accumulated toward the next update
    exact: bool  # bit for bit the original's numbers

    def set_hyper(self, hyper: Hyper) -> None: ...

    def train_epochs(self, epochs: int = 1) -> None: ...

    def evaluate(self) -> Evaluation: ...
