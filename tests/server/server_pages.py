"""A playground built on a bare Bokeh document, with helpers that act on its widgets and glyphs the way
the browser would (a widget value change, a button click event, a tap selection, a hover)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bokeh.document import Document
from bokeh.events import ButtonClick

from courseware.experiment import Experiment
from courseware.plugins import Registry
from courseware.server.session import PlaygroundSession

SEED = "0.12345"


@dataclass
class Page:
    doc: Document
    session: PlaygroundSession
    registry: Registry

    def get(self, name: str) -> Any:
        model = self.doc.select_one({"name": name})
        assert model is not None, f"no model named {name!r} on the page"
        return model

    def click(self, name: str) -> None:
        button = self.get(name)
        button._trigger_event(ButtonClick(button))

    def panel(self, name: str) -> Any:
        for instance in self.session.panels:
            if instance.component.name == name:
                return instance.panel
        raise AssertionError(f"no panel {name!r}")

    def tap(self, source: Any, row: int) -> None:
        source.selected.indices = [row]

    def net_rows(self, kind: str) -> np.ndarray:
        data = self.panel("network").net.data
        return np.array([k == kind for k in data["kind"]])

    @property
    def experiment(self) -> Experiment:
        return self.session.experiment

    def epoch_text(self) -> str:
        return self.get("epoch").text

    def loss_text(self) -> str:
        return self.get("losses").text


def arguments(**values: str) -> dict[str, list[bytes]]:
    """Query arguments as Bokeh's request hands them over."""
    return {k: [v.encode()] for k, v in values.items()}




def wait_for(predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll a condition (bounded; the tests assert on the outcome, never on how long it took)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
