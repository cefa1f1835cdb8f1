"""The contract kit for the core's components: activations, regularizers, datasets, features,
problems, output heads, losses, optimizers and data formats.

Each ``check_*`` raises ``AssertionError`` saying what is wrong. It imports neither the lessons nor
the server: import the checks from :mod:`courseware.testing`, which adds those of the lesson machinery
(:mod:`courseware.testing.lessons`) and of panels (:mod:`courseware.testing.panels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from courseware.components import (
    COMPONENT_KINDS,
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    Loss,
    Optimizer,
    OutputLayer,
    Problem,
    Regularizer,
    resolve_output,
)
from courseware.data import DataError, DataLimits, PointSet, fixed_dataset
from courseware.errors import ConfigError
from courseware.experiment import grid_points
from courseware.plugins import get_host
from courseware.registry import Registry
from courseware.rng import RandomStream

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
    """Right shape and dtype, finite values, labels valid for the problem type and the number of
    classes (every class present), the same points for the same seed, different (noisy) points for
    another seed, and noise changes something. A ``fixed`` dataset (given points) must instead give
    the same points whatever it is asked, and draw nothing from the stream."""
    registry = installed(registry)
    problem = registry.problem(dataset.problem)
    assert isinstance(dataset.classes, int) and dataset.classes >= 2, (
        f"{dataset.name}: classes must be a whole number of at least 2, got {dataset.classes!r}"
    )
    assert not dataset.class_labels or len(dataset.class_labels) == dataset.classes, (
        f"{dataset.name}: {len(dataset.class_labels)} class labels for {dataset.classes} classes"
    )
    for n in (problem.num_samples, 50, 7):
        points = np.asarray(dataset.generate(RandomStream("0.12345"), n, 0.0))
        expected = (len(points), 3) if dataset.fixed else (n, 3)
        assert points.shape == expected and points.ndim == 2, (
            f"{dataset.name}: generate(rng, {n}, noise) returned shape {points.shape}, expected {expected}"
        )
        assert np.isfinite(points).all(), f"{dataset.name}: points are not all finite"
    points = np.asarray(dataset.generate(RandomStream("0.12345"), problem.num_samples, 0.0), dtype=float)
    if problem.classifies:
        labels = set(np.unique(points[:, 2]).tolist())
        if dataset.classes == 2:
            assert labels <= {-1.0, 1.0}, f"{dataset.name}: two-class labels must be +1 or -1, got {sorted(labels)[:5]}"
        else:
            expected_labels = set(map(float, range(dataset.classes)))
            assert labels <= expected_labels, (
                f"{dataset.name}: labels of {dataset.classes} classes must be 0 .. {dataset.classes - 1}, got "
                f"{sorted(labels)[:5]}"
            )
        assert len(labels) == dataset.classes, f"{dataset.name}: {len(labels)} of its {dataset.classes} classes present"
    if dataset.fixed:
        rng = RandomStream("0.12345")
        other = np.asarray(dataset.generate(rng, 7, 0.5), dtype=float)
        assert np.array_equal(points, other), f"{dataset.name}: a fixed dataset must give its points whatever it is asked"
        assert rng.random() == RandomStream("0.12345").random(), f"{dataset.name}: a fixed dataset must not draw"
        return
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
    x, y = grid_points()
    values = np.broadcast_to(np.asarray(feature.fn(x, y), dtype=float), x.shape)
    assert np.isfinite(values).all(), f"{feature.name}: not finite on the [-6, 6]² grid"
    sample = np.asarray(feature.fn(x[:5], y[:5]), dtype=float)
    assert np.allclose(np.broadcast_to(sample, (5,)), values[:5]), f"{feature.name}: values depend on the batch"


def check_problem(problem: Problem, registry: Registry | None = None) -> None:
    """Its default dataset is one of its datasets, and an output head serves that dataset."""
    registry = installed(registry)
    assert problem.num_samples > 0, f"{problem.name}: num_samples must be positive"
    names = [d.name for d in registry.datasets_for(problem.name)]
    assert problem.default_dataset in names, (
        f"{problem.name}: default dataset {problem.default_dataset!r} is not one of its datasets {names}"
    )
    try:
        resolve_output(registry, problem, registry.dataset(problem.default_dataset))
    except ConfigError as exc:
        raise AssertionError(f"{problem.name}: {exc.reason}; register a Head with problem={problem.name!r}") from None


# -- heads, losses, optimizers, data formats -------------------------------------------------------------


def _rows(nodes: int, seed: int = 7) -> np.ndarray:
    """Total inputs of an output layer: 24 points, values a trained network meets, no exact ties."""
    return np.random.default_rng(seed).uniform(-3.0, 3.0, size=(24, nodes)) + 0.0123


def check_head(head: Head, registry: Registry | None = None) -> None:
    """Its problem type and default loss exist and suit it. A head by activation names a registered
    activation (whose own contract covers its derivative). A row-wise head keeps the shape, is finite
    for finite input, propagates NaN (row by row), writes through ``out=`` what it returns, and its
    ``backward(z, a, g)`` agrees with finite differences of ``sum(g * output(z))``; its exact forms,
    if given, compile and agree."""

    registry = installed(registry)
    problem = registry.problem(head.problem)
    loss = registry.loss(head.loss)
    assert loss.suits(head.name), f"{head.name}: its loss {loss.name!r} does not suit it (Loss.heads = {loss.heads})"
    assert not (head.per_class and not problem.classifies), (
        f"{head.name}: a per-class head needs a problem type that classifies, not {problem.name!r}"
    )
    if head.activation:
        registry.activation(head.activation)
        return
    nodes = 3 if head.per_class else 1
    z = _rows(nodes)
    layer = OutputLayer(head, loss, nodes if head.per_class else 2)
    a = np.asarray(head.output(z.copy()), dtype=float)  # type: ignore[misc]
    assert a.shape == z.shape, f"{head.name}: output changed the shape {z.shape} to {a.shape}"
    assert np.isfinite(a).all(), f"{head.name}: output is not finite for finite input"
    out = np.full(z.shape, np.nan)
    layer.output_into(z.copy(), out)
    assert np.allclose(out, a, rtol=1e-12, atol=1e-15), f"{head.name}: output(z, out) differs from output(z)"
    g = np.random.default_rng(11).uniform(-1.0, 1.0, size=z.shape)
    back = np.empty(z.shape)
    zc = z.copy()
    layer.backward_into(zc, a.copy(), g, back)
    assert np.array_equal(zc, z), f"{head.name}: backward modified its input z"
    numeric = np.empty(z.shape)
    for c in range(nodes):
        up, down = z.copy(), z.copy()
        up[:, c] += _STEP
        down[:, c] -= _STEP
        f_up = (np.asarray(head.output(up)) * g).sum(axis=-1)  # type: ignore[misc]
        f_down = (np.asarray(head.output(down)) * g).sum(axis=-1)  # type: ignore[misc]
        numeric[:, c] = (f_up - f_down) / (2 * _STEP)
    _close(back.ravel(), numeric.ravel(), z.ravel(), f"{head.name}: backward")
    nan_row = z[:2].copy()
    nan_row[0, 0] = np.nan
    with np.errstate(all="ignore"):
        nan_out = np.asarray(head.output(nan_row), dtype=float)  # type: ignore[misc]
    assert np.isnan(nan_out[0]).any(), f"{head.name}: a NaN input gave {nan_out[0]!r}; a diverging network must stay NaN"
    assert np.isfinite(nan_out[1]).all(), f"{head.name}: a NaN in one row spilled into another"
    if head.exact_output is not None or head.exact_backward is not None:
        exact, exact_back = np.empty(z.T.shape), np.empty(z.T.shape)
        _compiled_form(head.name, head.exact_output, "HEAD_OUTPUT_FORM")(np.ascontiguousarray(z.T), exact)
        _compiled_form(head.name, head.exact_backward, "HEAD_BACKWARD_FORM")(
            np.ascontiguousarray(z.T), np.ascontiguousarray(exact), np.ascontiguousarray(g.T), exact_back
        )
        _close(exact.T.ravel(), a.ravel(), z.ravel(), f"{head.name}: exact output (columns are points)")
        _close(exact_back.T.ravel(), back.ravel(), z.ravel(), f"{head.name}: exact backward (columns are points)")


def check_loss(loss: Loss, registry: Registry | None = None) -> None:
    """Through every installed head it suits (at least one): one finite value per point, the
    derivative agrees with finite differences of the value, ``out=`` writes what is returned, the
    inputs are left alone, NaN outputs give a NaN loss; exact forms, if given, compile and agree."""

    registry = installed(registry)
    heads = [h for h in registry.all("heads") if loss.suits(h.name)]
    assert heads, f"{loss.name}: none of the heads it suits ({', '.join(loss.heads)}) is installed"
    for head in heads:
        problem = registry.problem(head.problem)
        classes = (3 if head.per_class else 2) if problem.classifies else 0
        activation = registry.activation(head.activation) if head.activation else None
        layer = OutputLayer(head, loss, classes, activation)
        z = _rows(layer.nodes)
        a = np.empty(z.shape)
        layer.output_into(z, a)
        rng = np.random.default_rng(5)
        if classes:
            labels = rng.integers(0, classes, size=len(z)).astype(float)
            labels = np.where(labels > 0, 1.0, -1.0) if classes == 2 else labels
        else:
            labels = rng.uniform(-1.0, 1.0, size=len(z))
        t = layer.targets(labels)
        where = f"{loss.name} through {head.name}"
        a_before, t_before = a.copy(), t.copy()
        values = np.asarray(loss.value(a, t), dtype=float)
        assert values.shape == (len(z),), f"{where}: value(a, t) gave shape {values.shape}, expected one per point ({len(z)},)"
        assert np.isfinite(values).all(), f"{where}: the loss is not finite for a head's finite outputs"
        d = np.asarray(loss.derivative(a, t), dtype=float)
        assert d.shape == a.shape, f"{where}: derivative changed the shape {a.shape} to {d.shape}"
        assert np.array_equal(a, a_before) and np.array_equal(t, t_before), f"{where}: modified its inputs"
        numeric = np.empty(a.shape)
        for c in range(a.shape[1]):
            up, down = a.copy(), a.copy()
            up[:, c] += _STEP
            down[:, c] -= _STEP
            numeric[:, c] = (np.asarray(loss.value(up, t)) - np.asarray(loss.value(down, t))) / (2 * _STEP)
        _close(d.ravel(), numeric.ravel(), a.ravel(), f"{where}: derivative")
        out = np.full(a.shape, np.nan)
        loss.derivative_into(a, t, out)
        assert np.allclose(out, d), f"{where}: derivative(a, t, out) differs from derivative(a, t)"
        with np.errstate(all="ignore"):
            nan_values = np.asarray(loss.value(np.full(a.shape, np.nan), t), dtype=float)
        assert np.isnan(nan_values).all(), f"{where}: NaN outputs gave the loss {nan_values[:3]!r}; a diverged network must show NaN"
        if loss.exact_value is not None or loss.exact_derivative is not None:
            exact, exact_d = np.empty(len(z)), np.empty(a.T.shape)
            columns = np.ascontiguousarray(a.T), np.ascontiguousarray(t.T)
            _compiled_form(loss.name, loss.exact_value, "LOSS_VALUE_FORM")(*columns, exact)
            _compiled_form(loss.name, loss.exact_derivative, "LOSS_DERIVATIVE_FORM")(*columns, exact_d)
            _close(exact, values, np.arange(len(z)), f"{where}: exact value (columns are points)")
            _close(exact_d.T.ravel(), d.ravel(), a.ravel(), f"{where}: exact derivative (columns are points)")


def check_optimizer(optimizer: Optimizer) -> None:
    """``step`` returns one finite step per parameter and keeps its state to ``slots`` arrays; a zero
    gradient from fresh state is a zero step; networks are independent (a network stepped among others
    steps as it does alone); repeated steps descend a simple bowl; the exact form, if given, compiles
    and agrees with ``step`` over several updates (its state included)."""
    name = optimizer.name
    assert isinstance(optimizer.slots, int) and optimizer.slots >= 0, f"{name}: slots must be a whole number >= 0"
    rng = np.random.default_rng(3)
    k, p, count = 3, 9, 10
    is_weight = np.arange(p) % 3 != 2
    lr = np.array([[0.03], [0.1], [0.3]])

    def run(grads: list[np.ndarray], rates: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        state = np.zeros((optimizer.slots, len(rates), p))
        steps = []
        for t, grad in enumerate(grads, start=1):
            step = np.asarray(optimizer.step(grad.copy(), count, rates, is_weight, state, np.full((len(rates), 1), float(t))),
                              dtype=float)  # fmt: skip
            assert step.shape == grad.shape, f"{name}: step(...) gave shape {step.shape}, expected {grad.shape}"
            assert np.isfinite(step).all(), f"{name}: the step is not finite for a finite gradient"
            steps.append(step)
        return steps, state

    zero, _ = run([np.zeros((k, p))], lr)
    assert not zero[0].any(), f"{name}: a zero gradient from fresh state moved the parameters by {zero[0].max()!r}"
    grads = [rng.normal(size=(k, p)) * count for _ in range(5)]
    together, _ = run(grads, lr)
    for member in range(k):
        alone, _ = run([g[member : member + 1] for g in grads], lr[member : member + 1])
        assert np.allclose(together[-1][member], alone[-1][0], rtol=1e-12, atol=1e-15), (
            f"{name}: network {member} stepped differently among others than alone; keep each network's own state"
        )
    # A bowl, f(w) = |w|² / 2 over `count` samples: the gradient sum is count * w.
    w = rng.normal(size=(1, p)) * 2
    start = float((w * w).sum())
    state = np.zeros((optimizer.slots, 1, p))
    for t in range(1, 301):
        w = w - np.asarray(optimizer.step(count * w, count, np.array([[0.01]]), is_weight, state, np.array([[float(t)]])))
    assert float((w * w).sum()) < 0.5 * start, f"{name}: 300 steps at a learning rate of 0.01 did not descend a bowl"
    if optimizer.exact_step is not None:
        compiled = _compiled_form(name, optimizer.exact_step, "STEP_FORM")
        state = np.zeros((optimizer.slots, p, k))
        _, numpy_state = run(grads, lr)
        for t, grad in enumerate(grads, start=1):
            delta = np.empty((p, k))
            compiled(np.ascontiguousarray(grad.T), count, np.ascontiguousarray(lr[:, 0]), np.ascontiguousarray(is_weight),
                     state, np.full(k, float(t)), delta)  # fmt: skip
            _close(delta.T.ravel(), together[t - 1].ravel(), np.arange(delta.size), f"{name}: exact step at update {t}")
        _close(state.transpose(0, 2, 1).ravel(), numpy_state.ravel(), np.arange(state.size), f"{name}: exact state")


def check_data_format(data_format: DataFormat, example: bytes | None = None, registry: Registry | None = None) -> None:
    """Its suffixes are file name endings; empty and garbled files are refused with a
    :class:`~courseware.data.DataError` (never another exception); with ``example`` (a valid file's
    bytes), reading gives a :class:`~courseware.data.PointSet` the host turns into a dataset that
    passes :func:`check_dataset`."""
    name = data_format.name
    assert data_format.suffixes and all(isinstance(s, str) and s.startswith(".") for s in data_format.suffixes), (
        f"{name}: suffixes must be file name endings such as '.csv', got {data_format.suffixes!r}"
    )
    limits = DataLimits()
    for what, data in (("an empty file", b""), ("a garbled file", b"\xff\xfe\x00\x01garbage\n\x80,,,\n")):
        try:
            data_format.read(data, f"bad{data_format.suffixes[0]}", limits)
        except DataError:
            continue
        except Exception as exc:
            raise AssertionError(f"{name}: {what} raised {type(exc).__name__}: {exc}; raise DataError saying "
                                 "what is wrong and where") from None  # fmt: skip
        raise AssertionError(f"{name}: {what} was read without complaint")
    if example is None:
        return
    points = data_format.read(example, f"example{data_format.suffixes[0]}", limits)
    assert isinstance(points, PointSet), f"{name}: read returned {type(points).__name__}, not a PointSet"
    registry = installed(registry)
    dataset = fixed_dataset("example", "Example", points, registry, limits=limits)
    check_dataset(dataset, registry_with(registry, dataset))


def registry_with(registry: Registry, component: Any, alone: bool = False) -> Registry:
    """A copy of ``registry`` with ``component`` in it (replacing its namesake); with ``alone``, the
    only one of its kind."""
    kind = COMPONENT_KINDS[type(component)]
    copy = Registry()
    for existing_kind, registration in registry.registrations():
        if alone and existing_kind == kind:
            continue
        copy.add(registration.component, registration.plugin)
    plugin = "(checked)"
    if not alone and component.name in registry.names(kind):
        plugin = registry.plugin_of(kind, component.name)
    copy.add(component, plugin, replace=True)
    return copy


def installed(registry: Registry | None) -> Registry:
    """``registry``, or (None) the installed plugins' registry: what a plugin author's own tests
    check their components against."""
    return registry if registry is not None else get_host().registry
