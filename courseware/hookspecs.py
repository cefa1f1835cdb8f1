"""The hooks a courseware plugin can implement.

Registration hooks receive a ``register`` callback and call it once per component (the style of
simonw/llm): the host learns which plugin registered what, validates each registration where it
happens, and can name the plugin when something goes wrong. The host calls each plugin's
implementation itself: ``tryfirst`` ones first, ``trylast`` ones last, load order otherwise (see
:mod:`courseware.plugins`); hook wrappers are refused. ``register_commands`` receives a click group
of its own, whose commands the command line adds. Every docstring below is the hook's contract;
``docs/plugins.md`` documents each with its exact signature (a test keeps the two in step).
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("courseware")
hookimpl = pluggy.HookimplMarker("courseware")


@hookspec
def register_problems(register: Any) -> None:
    """Register problem types: call ``register(Problem(...))`` for each."""


@hookspec
def register_datasets(register: Any) -> None:
    """Register dataset generators: call ``register(Dataset(...))`` for each."""


@hookspec
def register_features(register: Any) -> None:
    """Register input features: call ``register(Feature(...))`` for each, in network order."""


@hookspec
def register_activations(register: Any) -> None:
    """Register activation functions: call ``register(Activation(...))`` for each."""


@hookspec
def register_regularizers(register: Any) -> None:
    """Register weight regularizers: call ``register(Regularizer(...))`` for each."""


@hookspec
def register_heads(register: Any) -> None:
    """Register output heads (the output layer and what a label asks of it): ``register(Head(...))``."""


@hookspec
def register_losses(register: Any) -> None:
    """Register losses, what training minimises: call ``register(Loss(...))`` for each."""


@hookspec
def register_optimizers(register: Any) -> None:
    """Register optimizers, how a batch's gradient becomes a step: ``register(Optimizer(...))``."""


@hookspec
def register_data_formats(register: Any) -> None:
    """Register file formats points can be read from: call ``register(DataFormat(...))`` for each."""


@hookspec
def register_visualizers(register: Any) -> None:
    """Register playground panels: call ``register(Visualizer(...))`` for each."""


@hookspec
def register_metrics(register: Any) -> None:
    """Register measured quantities for lesson claims and goals: ``register(Metric(...))``."""


@hookspec
def register_step_kinds(register: Any) -> None:
    """Register lesson step kinds: call ``register(StepKind(...))`` for each."""


@hookspec
def register_lessons(register: Any) -> None:
    """Register folders of lesson files a package ships: ``register(LessonSource(...))``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the ``courseware`` command group: ``@cli.command()``."""
