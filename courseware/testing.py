"""A contract test kit for plugin authors: does my component behave as the host expects?

Each ``check_*`` function raises ``AssertionError`` with a message saying what is wrong, so it can be
called from any test runner::

    from courseware.testing import check_activation
    from my_plugin import LEAKY_RELU

    def test_leaky_relu_contract():
        check_activation(LEAKY_RELU)

There is a check for every kind of component: activations, regularizers, datasets, features, problems,
output heads, losses, optimizers, data formats, visualizers (built on a real playground session,
without a browser), metrics (computed on trained networks), step kinds (loaded in a lesson) and lesson
packs. :func:`check_component` picks the right
check for any registered component, and :func:`registered_components` lists everything installed, so
one parametrized test can cover every plugin in an environment (courseware's own suite runs it over
every built-in).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from courseware.components import (
    COMPONENT_KINDS,
    VISUALIZER_AREAS,
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    LessonSource,
    Loss,
    Metric,
    Optimizer,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
)
from courseware.errors import CoursewareError
from courseware.plugins import Registry, get_registry
from courseware.rng import RandomStream

__all__ = [
    "check_activation",
    "check_component",
    "check_data_format",
    "check_dataset",
    "check_feature",
    "check_head",
    "check_lesson_source",
    "check_loss",
    "check_metric",
    "check_optimizer",
    "check_problem",
    "check_regularizer",
    "check_step_kind",
    "check_visualizer",
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
    """Right shape and dtype, finite values, labels valid for the problem type and the number of
    classes (every class present), the same points for the same seed, different (noisy) points for
    another seed, and noise changes something. A ``fixed`` dataset (given points) must instead give
    the same points whatever it is asked, and draw nothing from the stream."""
    registry = registry or get_registry()
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
    from courseware.experiment import grid_points

    x, y = grid_points()
    values = np.broadcast_to(np.asarray(feature.fn(x, y), dtype=float), x.shape)
    assert np.isfinite(values).all(), f"{feature.name}: not finite on the [-6, 6]² grid"
    sample = np.asarray(feature.fn(x[:5], y[:5]), dtype=float)
    assert np.allclose(np.broadcast_to(sample, (5,)), values[:5]), f"{feature.name}: values depend on the batch"


def check_problem(problem: Problem, registry: Registry | None = None) -> None:
    """Its default dataset is one of its datasets, and an output head serves that dataset."""
    from courseware.engine import resolve_output
    from courseware.errors import ConfigError

    registry = registry or get_registry()
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
    from courseware.engine import OutputLayer

    registry = registry or get_registry()
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
    from courseware.engine import OutputLayer

    registry = registry or get_registry()
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
    from courseware.data import DataError, DataLimits, PointSet, fixed_dataset

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
    registry = registry or get_registry()
    dataset = fixed_dataset("example", "Example", points, registry, limits=limits)
    check_dataset(dataset, _registry_with(registry, dataset))


def check_visualizer(visualizer: Visualizer, registry: Registry | None = None) -> None:
    """On a real playground session (no browser): ``create(context)`` returns a panel whose ``root``
    is a Bokeh layout the page can place, in one of the page's areas; ``update(frame)`` takes the
    frames of a fresh page, training steps, a selected node, a changed setting, new data and a reset
    without raising; and everything the panel put in the document can be sent to the browser. All of
    it on the free playground and on a compact page (the lesson page: ``context.compact``, the test
    loss always shown)."""
    name = visualizer.name
    assert visualizer.area in VISUALIZER_AREAS, (
        f"{name}: area {visualizer.area!r} is not one of the page's areas {VISUALIZER_AREAS}"
    )
    assert isinstance(visualizer.order, (int, float)) and not isinstance(visualizer.order, bool), (
        f"{name}: order must be a number, got {visualizer.order!r}"
    )
    registry = _registry_with(registry or get_registry(), visualizer, alone=True)
    for compact in (False, True):
        _check_visualizer_on(visualizer, registry, compact)


def _check_visualizer_on(visualizer: Visualizer, registry: Registry, compact: bool) -> None:
    from bokeh.document import Document
    from bokeh.models import LayoutDOM

    from courseware import config as config_module
    from courseware.server.session import PlaygroundSession

    name = visualizer.name + (" (on a compact page)" if compact else "")
    # the instructor's view (dev): a failure's notice names the exception, which the plugin's author needs
    session = PlaygroundSession(Document(), registry, config_module.default(registry, seed="1"), compact=compact,
                                dev=True)  # fmt: skip
    session.test_loss_follows_ratio = not compact
    session.build_panels()
    built = [p for p in session.panels if p.component is visualizer]
    assert built, f"{name}: create(context) failed: {_notices(session)}"
    (instance,) = built
    root = instance.root
    assert isinstance(root, LayoutDOM), (
        f"{name}: the panel's root is {type(root).__name__}, not a Bokeh layout (a figure, a column, a Div, ...)"
    )
    session.doc.add_root(root)
    hidden = session.experiment.arch.node_ids[1] if session.experiment.arch.num_layers > 1 else []
    actions: list[tuple[str, Callable[[], Any]]] = [
        ("the first frame", lambda: session.render()),
        ("a training step", session.step),
        ("another training step", session.step),
        ("selecting a node", lambda: session.select_node(hidden[0] if hidden else None)),
        ("showing the output again", lambda: session.select_node(None)),
        ("a display setting", lambda: session.apply(showTestData=True, discretize=True)),
        ("new data", lambda: session.apply(noise=20)),
        ("another network shape", lambda: session.apply(networkShape=(3,))),
        ("a reset", session.reset),
    ]
    for what, action in actions:
        action()
        assert instance.failed is None, f"{name}: update(frame) failed after {what}: {instance.failed}"
    try:
        session.doc.to_json()  # encodes every model and value as Bokeh would for the browser
    except Exception as exc:
        raise AssertionError(f"{name}: the panel's models cannot be sent to the browser: {exc}") from exc


def check_metric(metric: Metric, registry: Registry | None = None) -> None:
    """On a few trained networks of every problem type: ``compute(run)`` gives one real number per
    network (an array of K, or one value for all), the same for a network measured alone or among
    others, the same for the lesson page's single experiment as for ``check``'s batches, and 0 or 1
    if the unit is ``"boolean"``."""
    from courseware import config as config_module
    from courseware.experiment import Experiment
    from courseware.lessons.measure import Measurements, Members

    name = metric.name
    assert isinstance(metric.description, str) and metric.description.strip(), (
        f"{name}: give a description (lesson authors see it when a name is unknown)"
    )
    registry = registry or get_registry()
    epochs = 3
    base = config_module.default(registry)
    configs = [
        base.with_changes(registry, problem=problem.name, seed=seed)
        for problem in registry.all("problems")
        for seed in ("1", "2")
    ]
    if not metric.history:
        unrecorded = Members(configs, registry, record=False)
        unrecorded.step(epochs)
        for measurements, _ in unrecorded.table().parts:
            try:
                _metric_values(metric, measurements)
            except RuntimeError as exc:
                if "history=True" in str(exc):
                    raise AssertionError(f"{name}: it reads the loss history; register it with history=True") from None
                raise
    together = Members(configs, registry)
    together.step(epochs)
    for measurements, indices in together.table().parts:
        values = _metric_values(metric, measurements)
        for position, index in enumerate(indices):
            alone = Members([configs[index]], registry)
            alone.step(epochs)
            ((single, _),) = alone.table().parts
            value = _metric_values(metric, single)[0]
            assert _same(values[position], value), (
                f"{name}: network {index + 1} measures {values[position]!r} among {len(indices)} networks "
                f"but {value!r} alone; compute each network's value from its own entries of run"
            )
    experiment = Experiment(configs[0], registry)
    experiment.step(epochs)
    page_value = _metric_values(metric, Measurements.of_experiment(experiment))[0]
    ((first, indices),) = [part for part in together.table().parts if 0 in part[1]]
    batch_value = _metric_values(metric, first)[list(indices).index(0)]
    assert _same(page_value, batch_value, rtol=1e-6), (
        f"{name}: the lesson page's experiment measures {page_value!r}, check's batch {batch_value!r}"
    )


def _metric_values(metric: Metric, run: Any) -> np.ndarray:
    raw = metric.compute(run)
    if metric.unit == "name":
        values = np.asarray(raw, dtype=object)
        assert all(isinstance(v, str) for v in values.ravel()), (
            f"{metric.name}: a name metric returns one name (a string) per network, got {raw!r}"
        )
        if metric.choices is not None:
            known = set(metric.choices(run.registry))
            unknown = sorted({v for v in values.ravel() if v not in known})
            assert not unknown, f"{metric.name}: returned {unknown}, not among its choices {sorted(known)}"
        return np.broadcast_to(values, (run.k,))
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{metric.name}: compute(run) returned {raw!r}, not numbers ({exc})") from None
    assert values.shape in ((), (run.k,)), (
        f"{metric.name}: compute(run) returned shape {values.shape} for {run.k} networks; return one "
        "value per network"
    )
    values = np.broadcast_to(values, (run.k,))
    if metric.unit == "boolean":
        assert np.isin(values, (0.0, 1.0)).all(), (
            f"{metric.name}: a boolean metric must give 0 or 1, got {sorted(set(values.tolist()))}"
        )
    return values


def _same(a: Any, b: Any, rtol: float = 1e-9) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.isclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True))


_STEP_HEADER = {
    "format": 1,
    "id": "contract",
    "title": "Contract",
    "summary": "A lesson the contract kit builds around one step.",
    "objectives": ["Check a step kind"],
}


def check_step_kind(kind: StepKind, example: str | Mapping[str, Any] | None = None,
                    registry: Registry | None = None) -> None:  # fmt: skip
    """Its ``fields`` describe each key and do not redefine the common step fields; ``parse`` given
    a step with nothing but ``kind`` and ``title`` records its problems (``fields.fail``) instead of
    raising, and returns a ``Step`` when it returns. With ``example`` (the YAML of one valid step, or
    its mapping), the example loads without errors in a lesson, its ``payload()`` and ``to_dict()``
    are JSON, ``terminal_lines()`` are strings, and a step with a correct response accepts it."""
    import yaml

    from courseware.lessons import LessonError, LessonErrors, Step, load_lesson_text
    from courseware.lessons.loader import COMMON_STEP_FIELDS

    name = kind.name
    assert isinstance(kind.description, str) and kind.description.strip(), f"{name}: give a description"
    assert isinstance(kind.fields, Mapping), f"{name}: fields must map each YAML key to a description"
    for key, text in kind.fields.items():
        assert isinstance(key, str) and isinstance(text, str) and text.strip(), (
            f"{name}: field {key!r} needs a description (a non-empty string), got {text!r}"
        )
        assert key not in COMMON_STEP_FIELDS, (
            f"{name}: field {key!r} is one every step has ({', '.join(COMMON_STEP_FIELDS)}); use another name"
        )
    crashes: list[BaseException] = []
    returned: list[Any] = []

    def parse(raw: Any, fields: Any) -> Any:
        try:
            step = kind.parse(raw, fields)
        except (LessonError, CoursewareError):
            raise
        except Exception as exc:
            crashes.append(exc)
            raise
        returned.append(step)
        return step

    spy = StepKind(kind.name, kind.description, parse, kind.fields)
    registry = _registry_with(registry or get_registry(), spy)

    def load(step: Mapping[str, Any]) -> Any:
        text = yaml.safe_dump({**_STEP_HEADER, "steps": [dict(step)]}, sort_keys=False)
        return load_lesson_text(text, f"{name}-contract.yaml", registry)

    try:
        load({"kind": name, "title": "A bare step"})
    except LessonErrors:
        pass
    assert not crashes, (
        f"{name}: parse raised {type(crashes[0]).__name__}: {crashes[0]} for a step with only kind and "
        "title; record problems with fields.fail(key, message) and return a default instead"
    )
    for step in returned:
        assert isinstance(step, Step), f"{name}: parse returned {type(step).__name__}, not a Step"
    if example is None:
        return
    raw = yaml.safe_load(example) if isinstance(example, str) else example
    assert isinstance(raw, Mapping), f"{name}: the example must be one step (a mapping), got {raw!r}"
    raw = {"kind": name, **raw}
    try:
        lesson = load(raw)
    except LessonErrors as exc:
        raise AssertionError(f"{name}: the example does not load:\n{exc}") from None
    step = lesson.steps[0]
    for method in ("payload", "to_dict"):
        try:
            json.dumps(getattr(step, method)())
        except TypeError as exc:
            raise AssertionError(f"{name}: {method}() is not JSON: {exc}") from None
    lines = step.terminal_lines()
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines), (
        f"{name}: terminal_lines() must return a list of strings, got {lines!r}"
    )
    response = step.correct_response()
    if response is not None:
        feedback = step.respond(response)
        assert feedback.correct is not False, (
            f"{name}: respond(correct_response()) says {feedback.message!r}, marked wrong"
        )


def check_lesson_source(source: LessonSource, registry: Registry | None = None) -> None:
    """The pack's folder exists, holds lesson files, and each loads without errors."""
    from courseware.lessons import LessonErrors, load_lesson
    from courseware.lessons.catalog import lesson_files

    path = Path(source.path)
    assert path.is_dir(), f"{source.name}: {source.path!r} is not a folder"
    files = lesson_files(path)
    assert files, f"{source.name}: no lesson files (*.yaml, *.yml) in {source.path}"
    for file in files:
        try:
            load_lesson(file, registry or get_registry())
        except LessonErrors as exc:
            raise AssertionError(f"{source.name}: {exc}") from None


def _registry_with(registry: Registry, component: Any, alone: bool = False) -> Registry:
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


def _notices(session: Any) -> str:
    return "; ".join(session.notices.items.values()) or "(no message)"


_CHECKS: dict[type, Callable[..., None]] = {
    Activation: check_activation,
    Regularizer: check_regularizer,
    Dataset: check_dataset,
    Feature: check_feature,
    Problem: check_problem,
    Head: check_head,
    Loss: check_loss,
    Optimizer: check_optimizer,
    DataFormat: check_data_format,
    Visualizer: check_visualizer,
    Metric: check_metric,
    StepKind: check_step_kind,
    LessonSource: check_lesson_source,
}
_NEEDS_REGISTRY = {check_dataset, check_problem, check_head, check_loss, check_visualizer, check_metric,
                   check_lesson_source}


def check_component(component: Any, registry: Registry | None = None) -> None:
    """Run the contract check that fits ``component``'s kind (a step kind without an example)."""
    check = _CHECKS.get(type(component))
    if check is None:
        raise TypeError(f"no contract check for {type(component).__name__}")
    if check is check_step_kind:
        check_step_kind(component, registry=registry)
    elif check is check_data_format:
        check_data_format(component, registry=registry)
    elif check in _NEEDS_REGISTRY:
        check(component, registry)
    else:
        check(component)


def registered_components(registry: Registry | None = None) -> Iterator[tuple[str, Any]]:
    """(id, component) for every installed component, every kind."""
    registry = registry or get_registry()
    for kind in COMPONENT_KINDS.values():
        for component in registry.all(kind):
            yield f"{kind}:{component.name}", component
