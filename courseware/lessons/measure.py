"""Training the networks a lesson talks about, and measuring them for metrics.

:class:`Measurements` is what a metric (``register_metrics``) receives: K trained networks at one
moment, with their losses, accuracies, weights, loss history and configuration. It is built from a
:class:`~courseware.experiment.Cohort` (``courseware check``: many seeds and variants at once) or from
one :class:`~courseware.experiment.Experiment` (the lesson page, checking a goal live).

:class:`Members` trains any list of configurations together: those that share an architecture go into
one :class:`~courseware.experiment.Cohort` (one stacked computation), the others into further cohorts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from courseware.config import Config
from courseware.experiment import COHORT_SHARED, Cohort, Experiment, cohort_key
from courseware.lessons.conditions import Condition, metric_kind
from courseware.lessons.goals import NOT_HOLDING, advance
from courseware.network import Architecture, Parameters
from courseware.registry import Registry

# The settings members of one Cohort must share (and the output layer they resolve to: cohort_key).
SHARED = COHORT_SHARED


@dataclass(eq=False)
class Measurements:
    """K networks measured at one moment: the argument of every metric's ``compute``.

    Arrays have one entry per network. ``history_train``/``history_test`` are (epochs + 1, K) loss
    histories since the network was built (NaN after a network stopped early). ``reached`` is 1 where
    a run-until condition (or a goal) was reached, 0 where it was not, NaN for plain runs.
    ``train_class_accuracy``/``test_class_accuracy`` are (K, C): each class's share of its points
    classified right (NaN for a class without points, and for a regression).
    """

    configs: Sequence[Config]
    registry: Registry
    params: Parameters
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    diverged: np.ndarray
    epoch: np.ndarray
    reached: np.ndarray
    history: Callable[[], tuple[np.ndarray, np.ndarray]]
    train_class_accuracy: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    test_class_accuracy: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    @property
    def k(self) -> int:
        return len(self.configs)

    @property
    def arch(self) -> Architecture:
        return self.params.arch

    @cached_property
    def history_train(self) -> np.ndarray:
        return self._histories[0]

    @cached_property
    def history_test(self) -> np.ndarray:
        return self._histories[1]

    @cached_property
    def _histories(self) -> tuple[np.ndarray, np.ndarray]:
        return self.history()

    @cached_property
    def weights(self) -> np.ndarray:
        """(K, W) weights of every network in link order."""
        return self.params.flat[:, self.arch.link_order]

    @cached_property
    def dead(self) -> np.ndarray:
        """(K, W) links that L1 regularization froze at zero, in link order."""
        return self.params.dead[:, self.arch.link_order]

    @cached_property
    def classifies(self) -> np.ndarray:
        """(K,) whether each network's problem is a classification (accuracy is meaningful)."""
        return np.array([self.registry.problem(c.problem).classifies for c in self.configs])

    @classmethod
    def of_cohort(cls, cohort: Cohort, reached: np.ndarray | None = None) -> Measurements:
        last = cohort.evaluations[-1]
        k = cohort.k
        return cls(
            configs=cohort.configs,
            registry=cohort.registry,
            params=cohort.params,
            train_loss=last.train_loss,
            test_loss=last.test_loss,
            train_accuracy=last.train_accuracy,
            test_accuracy=last.test_accuracy,
            diverged=last.diverged,
            epoch=np.full(k, cohort.epoch),
            reached=np.full(k, np.nan) if reached is None else reached,
            history=cohort.losses if cohort.history_complete else _unrecorded,
            train_class_accuracy=last.train_class_accuracy,
            test_class_accuracy=last.test_class_accuracy,
        )

    @classmethod
    def of_experiment(cls, experiment: Experiment, reached: bool | None = None) -> Measurements:
        """One interactive network, as the lesson page checks a goal on it."""
        last = experiment.evaluation

        def history() -> tuple[np.ndarray, np.ndarray]:
            return (
                np.array(experiment.history.train)[:, None],
                np.array(experiment.history.test)[:, None],
            )

        return cls(
            configs=[experiment.config],
            registry=experiment.registry,
            params=experiment.params,
            train_loss=last.train_loss,
            test_loss=last.test_loss,
            train_accuracy=last.train_accuracy,
            test_accuracy=last.test_accuracy,
            diverged=last.diverged,
            epoch=np.array([experiment.epoch]),
            reached=np.array([np.nan if reached is None else float(reached)]),
            history=history,
            train_class_accuracy=last.train_class_accuracy,
            test_class_accuracy=last.test_class_accuracy,
        )


def _unrecorded() -> tuple[np.ndarray, np.ndarray]:
    raise RuntimeError(
        "this metric reads the loss history, which was not recorded for it: register it with "
        "Metric(..., history=True)"
    )


class MetricTable:
    """Metric values of several groups of measurements, scattered into one array of all members."""

    def __init__(self, parts: Sequence[tuple[Measurements, np.ndarray]], total: int, registry: Registry) -> None:
        self.parts = parts
        self.total = total
        self.registry = registry
        self._cache: dict[str, np.ndarray] = {}

    def values(self, name: str) -> np.ndarray:
        if name not in self._cache:
            metric = self.registry.metric(name)
            textual = metric_kind(metric) == "name"
            out = np.full(self.total, None, dtype=object) if textual else np.full(self.total, np.nan)
            for measurements, indices in self.parts:
                computed = np.asarray(metric.compute(measurements), dtype=object if textual else np.float64)
                out[indices] = np.broadcast_to(computed, (len(indices),))
            self._cache[name] = out
        return self._cache[name]


def evaluate(condition: Condition, table: MetricTable, members: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``condition`` with variant ``name`` -> member indices; returns one bool per seed."""
    size = len(next(iter(members.values())))

    def lookup(metric: str, variant: str | None) -> np.ndarray:
        return table.values(metric)[members["" if variant is None else variant]]

    return np.broadcast_to(condition.holds(lookup), (size,)).copy()


class Members:
    """Any configurations trained in lockstep, in as few cohorts as their architectures allow."""

    def __init__(self, configs: Sequence[Config], registry: Registry, record: bool = True) -> None:
        self.configs = list(configs)
        self.registry = registry
        self.record = record  # keep every epoch's losses (metrics with history=True need them)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, config in enumerate(self.configs):
            groups.setdefault(cohort_key(config, registry), []).append(index)
        self.groups = [
            (Cohort([self.configs[i] for i in indices], registry), np.array(indices)) for indices in groups.values()
        ]
        self.epoch = 0

    def step(self, epochs: int) -> None:
        for cohort, _ in self.groups:
            cohort.step(epochs, record=self.record)
        self.epoch += epochs

    def advance(self, epoch: int, needed: np.ndarray) -> None:
        """Train the cohorts holding any ``needed`` member up to ``epoch`` (others wait)."""
        for cohort, indices in self.groups:
            if needed[indices].any() and cohort.epoch < epoch:
                cohort.step(epoch - cohort.epoch, record=self.record)
        self.epoch = max(self.epoch, epoch)

    def table(self) -> MetricTable:
        parts = [(Measurements.of_cohort(cohort), indices) for cohort, indices in self.groups]
        return MetricTable(parts, len(self.configs), self.registry)

    def run_until(self, condition: Condition, max_epochs: int, hold: int = 1) -> MetricTable:
        """Train until ``condition`` has held for ``hold`` consecutive epochs for each network, or
        ``max_epochs`` more epochs.

        Networks are trained in lockstep, so one that reached the condition trains on; its
        measurements are kept as they were at the epoch it got there (the last of the ``hold``).
        """
        stopped = np.full(len(self.configs), -1)
        start = np.full(len(self.configs), NOT_HOLDING)
        snapshots: list[_Snapshot] = [_Snapshot(cohort) for cohort, _ in self.groups]
        for epoch in range(max_epochs + 1):
            if epoch:
                self.step(1)
            holds = evaluate(condition, self.table(), {"": np.arange(len(self.configs))})
            start, _, reached = advance(start, epoch, holds, hold)  # the page's rule (goals.py)
            new = reached & (stopped < 0)
            if new.any():
                stopped[new] = self.epoch
                for snapshot, (_, indices) in zip(snapshots, self.groups):
                    snapshot.keep(new[indices])
            if (stopped >= 0).all():
                break
        parts = []
        for snapshot, (_, indices) in zip(snapshots, self.groups):
            parts.append((snapshot.measurements(stopped[indices]), indices))
        return MetricTable(parts, len(self.configs), self.registry)


class _Snapshot:
    """Each member's state at the epoch it stopped (members still running keep their latest)."""

    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort
        self.flat = cohort.params.flat.copy()
        self.dead = cohort.params.dead.copy()
        self.kept = np.zeros(cohort.k, dtype=bool)

    def keep(self, mask: np.ndarray) -> None:
        self.flat[mask] = self.cohort.params.flat[mask]
        self.dead[mask] = self.cohort.params.dead[mask]
        self.kept |= mask

    def measurements(self, stopped: np.ndarray) -> Measurements:
        cohort = self.cohort
        reached = stopped >= 0
        final = np.where(reached, stopped, cohort.epoch)
        self.flat[~self.kept] = cohort.params.flat[~self.kept]
        self.dead[~self.kept] = cohort.params.dead[~self.kept]
        params = Parameters(cohort.params.arch, cohort.k)
        params.flat[:] = self.flat
        params.dead[:] = self.dead
        start = cohort.epoch - (len(cohort.evaluations) - 1)  # the epoch of evaluations[0]
        rows = final - start
        member = np.arange(cohort.k)
        evals = cohort.evaluations

        def pick(attribute: str) -> np.ndarray:
            return np.array([getattr(evals[r], attribute)[m] for m, r in zip(member, rows)])

        def pick_rows(attribute: str) -> np.ndarray:
            return np.stack([getattr(evals[r], attribute)[m] for m, r in zip(member, rows)])

        def history() -> tuple[np.ndarray, np.ndarray]:
            train, test = cohort.losses()
            cut = np.arange(len(train))[:, None] > rows[None, :]
            return np.where(cut, np.nan, train), np.where(cut, np.nan, test)

        return Measurements(
            configs=cohort.configs,
            registry=cohort.registry,
            params=params,
            train_loss=pick("train_loss"),
            test_loss=pick("test_loss"),
            train_accuracy=pick("train_accuracy"),
            test_accuracy=pick("test_accuracy"),
            diverged=pick("diverged"),
            epoch=final,
            reached=reached.astype(np.float64),
            history=history,
            train_class_accuracy=pick_rows("train_class_accuracy"),
            test_class_accuracy=pick_rows("test_class_accuracy"),
        )
