"""The component registry: every registered component by kind and name, and who registered it.

The plugin host (:mod:`courseware.plugins`) fills one as plugins load; everything else reads
components through it and is handed it explicitly (a page's session, a lesson, a configuration, an
experiment), so that nothing below the host needs the host itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from courseware.components import (
    COMPONENT_KINDS,
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    Loss,
    Metric,
    Optimizer,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
)
from courseware.errors import PluginConflictError, UnknownNameError


@dataclass(frozen=True)
class Registration:
    component: Any
    plugin: str


class Registry:
    """Every registered component by kind and name, remembering which plugin registered it.

    Lookups of unknown names raise :class:`UnknownNameError` listing the known names.
    """

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Registration]] = {k: {} for k in COMPONENT_KINDS.values()}
        self._codes: dict[Any, tuple[str, str, str]] | None = None

    def add(self, component: Any, plugin: str, replace: bool = False) -> None:
        kind = COMPONENT_KINDS[type(component)]
        table = self._items[kind]
        existing = table.get(component.name)
        if existing is not None and not replace:
            raise PluginConflictError(
                f"{kind_label(kind)} name {component.name!r} is registered by two plugins: "
                f"{existing.plugin!r} and {plugin!r}; block one (COURSEWARE_BLOCK_PLUGINS) or have the "
                "newer one pass replace=True"
            )
        table[component.name] = Registration(component, plugin)
        self._codes = None

    def overlay(self) -> Registry:
        """A registry with every component of this one whose additions stay its own: a page's session
        registers the dataset of a file its student uploaded there, and no other page sees it. The
        components themselves are shared (they are immutable)."""
        other = Registry()
        other._items = {kind: dict(table) for kind, table in self._items.items()}
        return other

    def _get(self, kind: str, name: str, label: str) -> Any:
        try:
            return self._items[kind][name].component
        except (KeyError, TypeError):
            raise UnknownNameError(label, name, self._items[kind]) from None

    def all(self, kind: str) -> list[Any]:
        """The components of one kind, in registration order."""
        return [r.component for r in self._items[kind].values()]

    def names(self, kind: str) -> list[str]:
        return list(self._items[kind])

    def plugin_of(self, kind: str, name: str) -> str:
        return self._items[kind][name].plugin

    def registrations(self) -> Iterator[tuple[str, Registration]]:
        for kind, table in self._items.items():
            for reg in table.values():
                yield kind, reg

    def problem(self, name: str) -> Problem:
        return self._get("problems", name, "problem")

    def dataset(self, name: str) -> Dataset:
        return self._get("datasets", name, "dataset")

    def feature(self, name: str) -> Feature:
        return self._get("features", name, "feature")

    def activation(self, name: str) -> Activation:
        return self._get("activations", name, "activation")

    def regularizer(self, name: str) -> Regularizer:
        return self._get("regularizers", name, "regularizer")

    def head(self, name: str) -> Head:
        return self._get("heads", name, "head")

    def loss(self, name: str) -> Loss:
        return self._get("losses", name, "loss")

    def optimizer(self, name: str) -> Optimizer:
        return self._get("optimizers", name, "optimizer")

    def data_format(self, name: str) -> DataFormat:
        return self._get("data_formats", name, "data format")

    def visualizer(self, name: str) -> Visualizer:
        return self._get("visualizers", name, "visualizer")

    def metric(self, name: str) -> Metric:
        return self._get("metrics", name, "metric")

    def step_kind(self, name: str) -> StepKind:
        return self._get("step_kinds", name, "step kind")

    def owner_of(self, error: BaseException) -> tuple[str, str, str] | None:
        """(kind, name, plugin) of the registered component whose code raised ``error``, if any.

        Walks the traceback from the innermost frame outwards and matches each frame's code object
        against the functions components were registered with.
        """
        codes = self._component_codes()
        tb = error.__traceback__
        frames = []
        while tb is not None:
            frames.append(tb.tb_frame.f_code)
            tb = tb.tb_next
        for code in reversed(frames):
            if code in codes:
                return codes[code]
        return None

    def _component_codes(self) -> dict[Any, tuple[str, str, str]]:
        if self._codes is not None:
            return self._codes
        codes: dict[Any, tuple[str, str, str]] = {}
        for kind, reg in self.registrations():
            if kind == "visualizers":  # a failing panel is reported by the page that runs it
                continue
            for value in vars(reg.component).values():
                code = getattr(value, "__code__", None)
                if code is not None:
                    codes.setdefault(code, (kind_label(kind), reg.component.name, reg.plugin))
        self._codes = codes
        return codes

    def datasets_for(self, problem: str) -> list[Dataset]:
        return [d for d in self.all("datasets") if d.problem == problem]

    def default_problem(self) -> Problem:
        problems = self.all("problems")
        if not problems:
            raise UnknownNameError("problem", "(default)", [])
        return next((p for p in problems if p.default), problems[0])

    def default_activation(self) -> Activation:
        acts = self.all("activations")
        if not acts:
            raise UnknownNameError("activation", "(default)", [])
        return next((a for a in acts if a.default), acts[0])

    def default_optimizer(self) -> Optimizer:
        optimizers = self.all("optimizers")
        if not optimizers:
            raise UnknownNameError("optimizer", "(default)", [])
        return next((o for o in optimizers if o.default), optimizers[0])

    def heads_for(self, problem: str) -> list[Head]:
        return [h for h in self.all("heads") if h.problem == problem]


def kind_label(kind: str) -> str:
    """``step_kinds`` -> ``step kind``, ``losses`` -> ``loss``."""
    singular = kind[:-2] if kind.endswith("sses") else kind[:-1]
    return singular.replace("_", " ")
