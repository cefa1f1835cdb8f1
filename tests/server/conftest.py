"""Fixtures for the server's tests (the helpers are in ``server_pages``)."""

from __future__ import annotations

from typing import Any

import pytest
from bokeh.document import Document
from server_pages import SEED, Page, arguments
from waiting import ManualClock

from courseware import config as cfg
from courseware.experiment import Experiment
from courseware.registry import Registry
from courseware.server.page import build_playground
from courseware.server.runner import BackgroundServer, ServeOptions


@pytest.fixture
def make_page(registry: Registry):
    def make(registry_: Registry | None = None, clock: ManualClock | None = None, dev: bool = False,
             **query: str) -> Page:  # fmt: skip
        """A playground on a bare document; its clock stands still unless ``clock`` says otherwise, so
        no frame is ever over budget however slow the machine. ``dev``: the instructor's view."""
        reg = registry_ or registry
        query.setdefault("seed", SEED)
        doc = Document()
        session = build_playground(doc, reg, arguments(**query), clock=clock or ManualClock(), dev=dev)
        return Page(doc, session, reg)

    return make


@pytest.fixture
def page(make_page) -> Page:
    return make_page()


@pytest.fixture
def reference(registry: Registry):
    """An experiment built straight from the engine with the same settings, to compare against."""

    def make(**changes: Any) -> Experiment:
        config = cfg.default(registry, seed=SEED)
        if changes:
            config = config.with_changes(registry, **changes)
        return Experiment(config, registry)

    return make


@pytest.fixture(scope="module")
def running():
    """A real server on a free loopback port, for the tests that speak HTTP or the websocket to it (a
    test module that needs other options defines its own)."""
    background = BackgroundServer(ServeOptions(port=0))
    with background as server:
        yield background, server
