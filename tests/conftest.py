"""Shared fixtures."""

from __future__ import annotations

import pytest

from courseware.plugins import Registry, get_registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    return get_registry()
