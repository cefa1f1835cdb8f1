"""The built-in metrics lesson claims, goals and run-until conditions can test.

Each metric computes one value per trained network from a
:class:`courseware.lessons.Measurements`; a metric whose unit is ``"boolean"`` gives 1 or 0 and may
stand alone in a condition (``expect: diverged``).
"""

from __future__ import annotations

import numpy as np

from courseware import Metric, hookimpl
from courseware.config import NO_REGULARIZATION

BOOLEAN = "boolean"
NAME = "name"
SWING_EPOCHS = 10


def _accuracy(values, run):
    # Sign accuracy is meaningless for regression: NaN makes every comparison on it false.
    return np.where(run.classifies, values, np.nan)


def _per_config(run, fn):
    return np.array([fn(c) for c in run.configs], dtype=np.float64)


def _first_layer_connected(run):
    weights = run.params.weight(1)  # (K, inputs, first layer)
    return np.any(weights != 0, axis=2).sum(axis=1).astype(np.float64)


def _names(run, fn):
    return np.array([fn(c) for c in run.configs], dtype=object)


def _swing(history):
    """Highest minus lowest loss over the last SWING_EPOCHS epochs: near 0 once training has settled,
    large while the loss oscillates (a learning rate that is too high). NaN before enough epochs."""
    recent = history[-SWING_EPOCHS:]
    with np.errstate(all="ignore"):
        swing = np.max(recent, axis=0) - np.min(recent, axis=0)
    return np.where(len(history) >= SWING_EPOCHS, swing, np.nan)


def _worst_class(per_class, run):
    """The lowest accuracy among the classes that have points (NaN for a regression)."""
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(per_class), np.inf, per_class)
        low = filled.min(axis=1) if per_class.shape[1] else np.full(run.k, np.inf)
    return _accuracy(np.where(np.isinf(low), np.nan, low), run)


def _classes(run):
    return _per_config(run, lambda c: c.output_layer(run.registry).classes)


def _min_ignoring_nan(history):
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(history), np.inf, history)
        low = filled.min(axis=0)
    return np.where(np.isinf(low), np.nan, low)


METRICS = [
    Metric("train_loss", "Loss on the training points (the Playground's 'Training loss').",
           lambda run: run.train_loss, label="training loss"),
    Metric("test_loss", "Loss on the test points (the Playground's 'Test loss').", lambda run: run.test_loss,
           label="test loss"),
    Metric("train_accuracy", "Share of training points on the right side of the boundary, 0 to 1 "
           "(classification only).", lambda run: _accuracy(run.train_accuracy, run), unit="fraction",
           label="training accuracy"),
    Metric("test_accuracy", "Share of test points on the right side of the boundary, 0 to 1 "
           "(classification only).", lambda run: _accuracy(run.test_accuracy, run), unit="fraction",
           label="test accuracy"),
    Metric("train_worst_class_accuracy", "The lowest accuracy among the classes on the training points: how "
           "well the worst-served class is learned, 0 to 1 (classification only).",
           lambda run: _worst_class(run.train_class_accuracy, run), unit="fraction",
           label="training accuracy of the worst class"),
    Metric("test_worst_class_accuracy", "The lowest accuracy among the classes on the test points, 0 to 1 "
           "(classification only).", lambda run: _worst_class(run.test_class_accuracy, run), unit="fraction",
           label="test accuracy of the worst class"),
    Metric("classes", "The number of classes of the data (0 for a regression).", _classes, unit="classes",
           label="classes"),
    Metric("min_train_loss", "Lowest training loss at any epoch so far.",
           lambda run: _min_ignoring_nan(run.history_train), label="lowest training loss so far", history=True),
    Metric("min_test_loss", "Lowest test loss at any epoch so far (test_loss - min_test_loss shows "
           "how far it has risen again: overfitting).", lambda run: _min_ignoring_nan(run.history_test),
           label="lowest test loss so far", history=True),
    Metric("train_loss_swing", f"Highest minus lowest training loss over the last {SWING_EPOCHS} epochs: "
           "large while the loss oscillates (a learning rate too high), near 0 once it has settled.",
           lambda run: _swing(run.history_train), label=f"swing of the training loss over {SWING_EPOCHS} epochs", history=True),
    Metric("test_loss_swing", f"Highest minus lowest test loss over the last {SWING_EPOCHS} epochs.",
           lambda run: _swing(run.history_test), label=f"swing of the test loss over {SWING_EPOCHS} epochs", history=True),
    Metric("epoch", "Epochs trained; after a run-until, the epoch it stopped at.",
           lambda run: run.epoch.astype(np.float64), unit="epochs", label="epochs"),
    Metric("reached", "1 if a run-until condition (or a goal) was reached, else 0.",
           lambda run: np.nan_to_num(run.reached, nan=0.0), unit=BOOLEAN, label="reached"),
    Metric("diverged", "1 if a weight or loss became infinite or NaN (the Playground shows grey).",
           lambda run: run.diverged.astype(np.float64), unit=BOOLEAN, label="diverged"),
    Metric("neurons", "Neurons in all hidden layers together.",
           lambda run: _per_config(run, lambda c: sum(c.networkShape)), unit="neurons", label="neurons", control="neurons"),
    Metric("layers", "Hidden layers.", lambda run: _per_config(run, lambda c: len(c.networkShape)),
           unit="layers", label="hidden layers", control="numHiddenLayers"),
    Metric("features", "Input features in use.", lambda run: _per_config(run, lambda c: len(c.features)),
           unit="features", label="input features", control="features"),
    Metric("learning_rate", "The learning rate.", lambda run: _per_config(run, lambda c: c.learningRate),
           label="learning rate", control="learningRate"),
    Metric("batch_size", "Points per mini-batch.", lambda run: _per_config(run, lambda c: c.batchSize),
           unit="points", label="batch size", control="batchSize"),
    Metric("regularization_rate", "The regularization rate (0 when there is no regularization).",
           lambda run: _per_config(
               run, lambda c: 0.0 if c.regularization == NO_REGULARIZATION else c.regularizationRate),
           label="regularization rate", control="regularizationRate"),
    Metric("noise", "The dataset's noise, 0 to 50 (percent).", lambda run: _per_config(run, lambda c: c.noise),
           label="noise", control="noise"),
    Metric("train_ratio", "The percentage of points used for training.",
           lambda run: _per_config(run, lambda c: c.percTrainData), label="ratio of training data", control="percTrainData"),
    Metric("activation", 'The hidden layers\' activation, compared by name: activation == "relu".',
           lambda run: _names(run, lambda c: c.activation), unit=NAME, label="activation", control="activation",
           choices=lambda registry: {a.name: a.label for a in registry.all("activations")}),
    Metric("regularization", 'The regularization, compared by name: regularization == "L2" '
           '(or "none").', lambda run: _names(run, lambda c: c.regularization), unit=NAME,
           label="regularization", control="regularization",
           choices=lambda registry: {NO_REGULARIZATION: "none",
                                     **{r.name: r.label for r in registry.all("regularizers")}}),
    Metric("optimizer", 'The optimizer, compared by name: optimizer == "adam".',
           lambda run: _names(run, lambda c: c.optimizer or run.registry.default_optimizer().name), unit=NAME,
           label="optimizer", control="optimizer",
           choices=lambda registry: {o.name: o.label for o in registry.all("optimizers")}),
    Metric("links", "Weights (links) in the network.",
           lambda run: np.full(run.k, float(run.arch.num_weights)), unit="links", label="weights"),
    Metric("dead_links", "Links L1 regularization pushed to zero and froze.",
           lambda run: run.dead.sum(axis=1).astype(np.float64), unit="links", label="frozen weights"),
    Metric("zero_weights", "Weights that are exactly zero (frozen by L1, or set to 0).",
           lambda run: (run.weights == 0).sum(axis=1).astype(np.float64), unit="links", label="zero weights"),
    Metric("connected_features", "Input features with at least one non-zero weight leaving them.",
           _first_layer_connected, unit="features", label="connected input features"),
    Metric("max_abs_weight", "Largest weight magnitude |w|.",
           lambda run: np.abs(run.weights).max(axis=1, initial=0.0), label="largest weight"),
    Metric("mean_abs_weight", "Mean weight magnitude |w|.",
           lambda run: np.abs(run.weights).mean(axis=1) if run.weights.shape[1] else np.zeros(run.k),
           label="mean weight size"),
]


@hookimpl
def register_metrics(register):
    for metric in METRICS:
        register(metric)
