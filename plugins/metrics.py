"""The built-in metrics lesson claims, goals and run-until conditions can test.

Each metric computes one value per trained network from a
:class:`courseware.lessons.Measurements`; a metric whose unit is ``"boolean"`` gives 1 or 0 and may
stand alone in a condition (``expect: diverged``).
"""

from __future__ import annotations

import numpy as np

from courseware import Metric, hookimpl

BOOLEAN = "boolean"


def _accuracy(values, run):
    # Sign accuracy is meaningless for regression: NaN makes every comparison on it false.
    return np.where(run.classifies, values, np.nan)


def _per_config(run, fn):
    return np.array([fn(c) for c in run.configs], dtype=np.float64)


def _first_layer_connected(run):
    weights = run.params.weight(1)  # (K, inputs, first layer)
    return np.any(weights != 0, axis=2).sum(axis=1).astype(np.float64)


def _min_ignoring_nan(history):
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(history), np.inf, history)
        low = filled.min(axis=0)
    return np.where(np.isinf(low), np.nan, low)


METRICS = [
    Metric("train_loss", "Loss on the training points (the Playground's 'Training loss').",
           lambda run: run.train_loss),
    Metric("test_loss", "Loss on the test points (the Playground's 'Test loss').", lambda run: run.test_loss),
    Metric("train_accuracy", "Share of training points on the right side of the boundary, 0 to 1 "
           "(classification only).", lambda run: _accuracy(run.train_accuracy, run), unit="fraction"),
    Metric("test_accuracy", "Share of test points on the right side of the boundary, 0 to 1 "
           "(classification only).", lambda run: _accuracy(run.test_accuracy, run), unit="fraction"),
    Metric("min_train_loss", "Lowest training loss at any epoch so far.",
           lambda run: _min_ignoring_nan(run.history_train)),
    Metric("min_test_loss", "Lowest test loss at any epoch so far (test_loss - min_test_loss shows "
           "how far it has risen again: overfitting).", lambda run: _min_ignoring_nan(run.history_test)),
    Metric("epoch", "Epochs trained; after a run-until, the epoch it stopped at.",
           lambda run: run.epoch.astype(np.float64), unit="epochs"),
    Metric("reached", "1 if a run-until condition (or a goal) was reached, else 0.",
           lambda run: np.nan_to_num(run.reached, nan=0.0), unit=BOOLEAN),
    Metric("diverged", "1 if a weight or loss became infinite or NaN (the Playground shows grey).",
           lambda run: run.diverged.astype(np.float64), unit=BOOLEAN),
    Metric("neurons", "Neurons in all hidden layers together.",
           lambda run: _per_config(run, lambda c: sum(c.networkShape)), unit="neurons"),
    Metric("layers", "Hidden layers.", lambda run: _per_config(run, lambda c: len(c.networkShape)),
           unit="layers"),
    Metric("features", "Input features in use.", lambda run: _per_config(run, lambda c: len(c.features)),
           unit="features"),
    Metric("links", "Weights (links) in the network.",
           lambda run: np.full(run.k, float(run.arch.num_weights)), unit="links"),
    Metric("dead_links", "Links L1 regularization pushed to zero and froze.",
           lambda run: run.dead.sum(axis=1).astype(np.float64), unit="links"),
    Metric("zero_weights", "Weights that are exactly zero (frozen by L1, or set to 0).",
           lambda run: (run.weights == 0).sum(axis=1).astype(np.float64), unit="links"),
    Metric("connected_features", "Input features with at least one non-zero weight leaving them.",
           _first_layer_connected, unit="features"),
    Metric("max_abs_weight", "Largest weight magnitude |w|.",
           lambda run: np.abs(run.weights).max(axis=1, initial=0.0)),
    Metric("mean_abs_weight", "Mean weight magnitude |w|.",
           lambda run: np.abs(run.weights).mean(axis=1) if run.weights.shape[1] else np.zeros(run.k)),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
