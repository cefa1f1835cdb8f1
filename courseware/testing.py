"""A contract test kit for plugin authors: does my component behave as the host expects?

Each ``check_*`` function raises ``AssertionError`` with a message saying what is wrong, so it can be
called from any test runner::

    from courseware.testing import check_activation
    from my_plugin import LEAKY_RELU

    def test_leaky_relu_contract():
        check_activation(LEAKY_RELU)

:func:`check_component` picks the right check for any registered component, and
:func:`registered_components` lists everything installed, so one parametrized test can cover every
plugin in an environment (courseware's own suite runs it over every built-in).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from courseware.components import Activation, Dataset, Feature, Problem, Regularizer
from courseware.plugins import Registry, get_registry
from courseware.rng import RandomStream

__all__ = [
    "check_activation",
    "check_component",
    "check_dataset",
    "check_feature",
    "check_problem",
    "check_regularizer",
    "registered_components",
]

# Total inputs an activation sees in practice, avoiding exact kinks (ReLU at 0).
_Z = np.concatenate([np.linspace(-6, 6, 241) + 0.0123, [-30.5, -12.25, 12.25, 30.5]])
_STEP = 1e-6


def _finite_difference(fn: Any, x: np.ndarray) -> np.ndarray:
    return (np.asarray(fn(x + _STEP), dtype=float) - np.asarray(fn(x - _STEP), dtype=float)) / (2 * _STEP)


def _close(actual: np.ndarray, expected: np.ndarray, where: np.ndarray, what: str) -> None:
    bad = ~np.isclose(actual, expected, rtol=1e-4, atol=1e-5)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AssertionError(
            f"{what}: at {where[i]!r} got {actual[i]!r}, expected about {expected[i]!r} "
            f"({int(bad.sum())} of {bad.size} points disagree)"
        )


def check_activation(activation: Activation) -> None:
    """Output and derivative are elementwise, shape-preserving, agree with finite differences,
    write the same values through ``out=`` as they return, and propagate NaN; exact forms, if given,
    compile and agree with them."""
    z = _Z.copy()
    a = np.asarray(activation.output(z), dtype=float)
    assert a.shape == z.shape, f"{activation.name}: output changed the shape {z.shape} to {a.shape}"
    assert np.isfinite(a).all(), f"{activation.name}: output is not finite for finite input"
    d = np.asarray(activation.derivative(z, a), dtype=float)
    assert d.shape == z.shape, f"{activation.name}: derivative changed the shape {z.shape} to {d.shape}"
    _close(d, _finite_difference(activation.output, z), z, f"{activation.name}: derivative")

    out = np.empty((3, len(z)))
    z3 = np.tile(z, (3, 1))
    activation.output_into(z3, out)
    assert np.array_equal(out, np.tile(a, (3, 1))), f"{activation.name}: output_into(z, out) differs from output(z)"
    activation.derivative_into(z3, out.copy(), out)
    assert np.allclose(out, np.tile(d, (3, 1))), f"{activation.name}: derivative_into differs from derivative"
    assert np.array_equal(z3, np.tile(z, (3, 1))), f"{activation.name}: modified its input array"

    with np.errstate(all="ignore"):
        nan_out = np.asarray(activation.output(np.array([np.nan])), dtype=float)
    assert np.isnan(nan_out).all(), (
        f"{activation.name}: NaN input gave {nan_out!r}; a diverging network must stay visibly NaN"
    )
    if activation.exact is not None or activation.exact_derivative is not None:
        exact, exact_derivative = np.empty_like(z), np.empty_like(z)
        _compiled_form(activation.name, activation.exact, "OUTPUT_FORM")(z, exact)
        _compiled_form(activation.name, activation.exact_derivative, "DERIVATIVE_FORM")(z, exact, exact_derivative)
        _close(exact, a, z, f"{activation.name}: exact form")
        _close(exact_derivative, d, z, f"{activation.name}: exact derivative")


def _compiled_form(name: str, fn: Any, form: str) -> Any:
    """An exact form compiled as the engine compiles it; both forms or neither must be given."""
    from courseware import jit

    assert fn is not None, f"{name}: give both exact forms or neither"
    compiled = jit.compile_as(fn, getattr(jit, form))
    assert compiled is not None, f"{name}: numba cannot compile the exact form {fn.__qualname__}"
    return compiled


def check_regularizer(regularizer: Regularizer) -> None:
    """The derivative agrees with finite differences of the penalty (away from kinks) and the
    penalty is non-negative, zero at zero."""
    w = np.concatenate([np.linspace(-3, 3, 121) + 0.0123, [-0.4, 0.4]])
    penalty = np.asarray(regularizer.penalty(w), dtype=float)
    assert penalty.shape == w.shape, f"{regularizer.name}: penalty changed the shape"
    assert (penalty >= 0).all(), f"{regularizer.name}: the penalty is negative somewhere"
    zero = float(np.asarray(regularizer.penalty(np.zeros(1)))[0])
    assert zero == 0, f"{regularizer.name}: penalty(0) is {zero}, expected 0"
    d = np.asarray(regularizer.derivative(w), dtype=float)
    assert d.shape == w.shape, f"{regularizer.name}: derivative changed the shape"
    _close(d, _finite_difference(regularizer.penalty, w), w, f"{regularizer.name}: derivative")
    if regularizer.exact_derivative is not None:
        exact = np.empty_like(w)
        _compiled_form(regularizer.name, regularizer.exact_derivative, "OUTPUT_FORM")(w, exact)
        _close(exact, d, w, f"{regularizer.name}: exact derivative")


def check_dataset(dataset: Dataset, registry: Registry | None = None) -> None:
    """Right shape and dtype, finite values, labels valid for the problem type, the same points for
    the same seed, different (noisy) points for another seed, and noise changes something."""
    registry = registry or get_registry()
    problem = registry.problem(dataset.problem)
    for n in (problem.num_samples, 50, 7):
        points = np.asarray(dataset.generate(RandomStream("0.12345"), n, 0.0))
        assert points.shape == (n, 3), f"{dataset.name}: generate(rng, {n}, noise) returned shape {points.shape}, expected ({n}, 3)"
        assert np.isfinite(points).all(), f"{dataset.name}: points are not all finite"
    points = np.asarray(dataset.generate(RandomStream("0.12345"), problem.num_samples, 0.0), dtype=float)
    if problem.classifies:
        labels = set(np.unique(points[:, 2]).tolist())
        assert labels <= {-1.0, 1.0}, f"{dataset.name}: classification labels must be +1 or -1, got {sorted(labels)[:5]}"
        assert labels == {-1.0, 1.0}, f"{dataset.name}: only one class present"
    again = np.asarray(dataset.generate(RandomStream("0.12345"), problem.num_samples, 0.0), dtype=float)
    assert np.array_equal(points, again), f"{dataset.name}: the same seed gave different points (use only the rng it is given)"
    # Some datasets are fixed shapes without noise (the spiral), so compare seeds with noise on.
    seeded = [
        np.asarray(dataset.generate(RandomStream(seed), problem.num_samples, 0.25), dtype=float)
        for seed in ("0.12345", "0.54321")
    ]
    assert not np.array_equal(*seeded), f"{dataset.name}: another seed gave the same points"
    noisy = np.asarray(dataset.generate(RandomStream("0.12345"), problem.num_samples, 0.5), dtype=float)
    assert not np.array_equal(points, noisy), f"{dataset.name}: noise 0.5 gave exactly the noiseless points"


def check_feature(feature: Feature) -> None:
    """Finite values of the right shape over the whole plotted square, scalars broadcast."""
    from courseware.experiment import grid_points

    x, y = grid_points()
    values = np.broadcast_to(np.asarray(feature.fn(x, y), dtype=float), x.shape)
    assert np.isfinite(values).all(), f"{feature.name}: not finite on the [-6, 6]² grid"
    sample = np.asarray(feature.fn(x[:5], y[:5]), dtype=float)
    assert np.allclose(np.broadcast_to(sample, (5,)), values[:5]), f"{feature.name}: values depend on the batch"


def check_problem(problem: Problem, registry: Registry | None = None) -> None:
    """The output activation exists and at least one dataset serves the problem type."""
    registry = registry or get_registry()
    registry.activation(problem.output_activation)
    assert problem.num_samples > 0, f"{problem.name}: num_samples must be positive"
    names = [d.name for d in registry.datasets_for(problem.name)]
    assert problem.default_dataset in names, (
        f"{problem.name}: default dataset {problem.default_dataset!r} is not one of its datasets {names}"
    )


_CHECKS = {
    Activation: check_activation,
    Regularizer: check_regularizer,
    Dataset: check_dataset,
    Feature: check_feature,
    Problem: check_problem,
}


def check_component(component: Any, registry: Registry | None = None) -> None:
    """Run the contract check that fits ``component``'s kind (no-op for kinds without one)."""
    check = _CHECKS.get(type(component))
    if check is None:
        return
    if check in (check_dataset, check_problem):
        check(component, registry)
    else:
        check(component)


def registered_components(registry: Registry | None = None) -> Iterator[tuple[str, Any]]:
    """(id, component) for every installed component that has a contract check."""
    registry = registry or get_registry()
    for kind in ("problems", "datasets", "features", "activations", "regularizers"):
        for component in registry.all(kind):
            yield f"{kind}:{component.name}", component
