"""The contract kit for the lesson machinery's components: metrics, step kinds and lesson packs.

Import the checks from :mod:`courseware.testing`. This part imports the lessons, never the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from courseware import config as config_module
from courseware.components import LessonSource, Metric, StepKind
from courseware.errors import CoursewareError
from courseware.experiment import Experiment
from courseware.lessons import LessonError, LessonErrors, Step, load_lesson, load_lesson_text
from courseware.lessons.catalog import lesson_files
from courseware.lessons.loader import COMMON_STEP_FIELDS
from courseware.lessons.measure import Measurements, Members
from courseware.registry import Registry
from courseware.testing.components import installed, registry_with


def check_metric(metric: Metric, registry: Registry | None = None) -> None:
    """On a few trained networks of every problem type: ``compute(run)`` gives one real number per
    network (an array of K, or one value for all), the same for a network measured alone or among
    others, the same for the lesson page's single experiment as for ``check``'s batches, and 0 or 1
    if the unit is ``"boolean"``."""

    name = metric.name
    assert isinstance(metric.description, str) and metric.description.strip(), (
        f"{name}: give a description (lesson authors see it when a name is unknown)"
    )
    registry = installed(registry)
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
                    raise AssertionError(
                        f"{name}: it reads the loss history; register it with history=True"
                    ) from None
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
            assert not unknown, (
                f"{metric.name}: returned {unknown}, not among its choices {sorted(known)}"
            )
        return np.broadcast_to(values, (run.k,))
    try:
        values = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AssertionError(
            f"{metric.name}: compute(run) returned {raw!r}, not numbers ({exc})"
        ) from None
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

    name = kind.name
    assert isinstance(kind.description, str) and kind.description.strip(), (
        f"{name}: give a description"
    )
    assert isinstance(kind.fields, Mapping), (
        f"{name}: fields must map each YAML key to a description"
    )
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
    registry = registry_with(installed(registry), spy)

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
    assert isinstance(raw, Mapping), (
        f"{name}: the example must be one step (a mapping), got {raw!r}"
    )
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

    path = Path(source.path)
    assert path.is_dir(), f"{source.name}: {source.path!r} is not a folder"
    files = lesson_files(path)
    assert files, f"{source.name}: no lesson files (*.yaml, *.yml) in {source.path}"
    for file in files:
        try:
            load_lesson(file, installed(registry))
        except LessonErrors as exc:
            raise AssertionError(f"{source.name}: {exc}") from None
