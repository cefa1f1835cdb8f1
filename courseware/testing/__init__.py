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

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from courseware.components import (
    COMPONENT_KINDS,
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
from courseware.registry import Registry
from courseware.testing.components import (
    check_activation,
    check_data_format,
    check_dataset,
    check_feature,
    check_head,
    check_loss,
    check_optimizer,
    check_problem,
    check_regularizer,
    installed,
)

if TYPE_CHECKING:
    from courseware.testing.lessons import check_lesson_source, check_metric, check_step_kind
    from courseware.testing.panels import check_visualizer

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

# The checks of the layers above the core, loaded when first asked for: checking an activation
# loads neither the lessons nor Bokeh.
_LATER = {
    "check_metric": "courseware.testing.lessons",
    "check_step_kind": "courseware.testing.lessons",
    "check_lesson_source": "courseware.testing.lessons",
    "check_visualizer": "courseware.testing.panels",
}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(_LATER[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _checks() -> dict[type, Callable[..., None]]:
    from courseware.testing.lessons import check_lesson_source, check_metric, check_step_kind
    from courseware.testing.panels import check_visualizer

    return {
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


_WITHOUT_REGISTRY = (Activation, Regularizer, Feature, Optimizer)


def check_component(component: Any, registry: Registry | None = None) -> None:
    """Run the contract check that fits ``component``'s kind (a step kind without an example)."""
    check = _checks().get(type(component))
    if check is None:
        raise TypeError(f"no contract check for {type(component).__name__}")
    if isinstance(component, _WITHOUT_REGISTRY):
        check(component)
    else:
        check(component, registry=registry)


def registered_components(registry: Registry | None = None) -> Iterator[tuple[str, Any]]:
    """(id, component) for every installed component, every kind."""
    registry = installed(registry)
    for kind in COMPONENT_KINDS.values():
        for component in registry.all(kind):
            yield f"{kind}:{component.name}", component
