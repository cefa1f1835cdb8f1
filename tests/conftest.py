"""Shared fixtures.

The suite sees the built-in plugins only: whatever else happens to be installed in the environment
(the example plugin, once its test has installed it) must not change what other tests observe.
Tests about installed plugins opt back in explicitly.
"""

from __future__ import annotations

import os

os.environ["COURSEWARE_LOAD_PLUGINS"] = ""

import pytest  # noqa: E402

from courseware.plugins import Registry, get_registry  # noqa: E402


@pytest.fixture(scope="session")
def registry() -> Registry:
    return get_registry()
