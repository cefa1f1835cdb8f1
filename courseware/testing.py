"""A contract test kit for plugin authors: does my component behave as the host expects?

Each ``check_*`` function raises ``AssertionError`` with a message saying what is wrong, so it can be
called from any test runner::

    from courseware.testing import check_activation
    from my_plugin import LEAKY_RELU

    def test_leaky_relu_contract():
        check_activation(LEAKY_RELU)

There is a check for every kind of component: activations, regularizers, datasets, features, problems,
visualizers (built on a real playground session, without a browser), metrics (computed on trained
networks), step kinds (loaded in a lesson) and lesson packs. :func:`check_component` picks the right
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
    Dataset,
    Feature,
    LessonSource,
    Metric,
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
    "check_dataset",
    "check_feature",
    "check_lesson_source",
    "check_metric",
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
    session = PlaygroundSession(Document(), registry, config_module.default(registry, seed="1"), compact=compact)
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
    Visualizer: check_visualizer,
    Metric: check_metric,
    StepKind: check_step_kind,
    LessonSource: check_lesson_source,
}
_NEEDS_REGISTRY = {check_dataset, check_problem, check_visualizer, check_metric, check_lesson_source}


def check_component(component: Any, registry: Registry | None = None) -> None:
    """Run the contract check that fits ``component``'s kind (a step kind without an example)."""
    check = _CHECKS.get(type(component))
    if check is None:
        raise TypeError(f"no contract check for {type(component).__name__}")
    if check is check_step_kind:
        check_step_kind(component, registry=registry)
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
