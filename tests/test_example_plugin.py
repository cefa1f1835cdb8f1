"""The example third-party plugin, installed with pip into this environment, is found and used."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "courseware-moons"


@pytest.fixture(scope="module")
def installed():
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(EXAMPLE)],
        check=True,
    )
    yield
    # Leave it installed: uninstalling mid-session would race with other tests' plugin loading.


# The suite as a whole loads no entry-point plugins (see conftest.py); these tests are about them.
WITH_PLUGINS = {k: v for k, v in os.environ.items() if k != "COURSEWARE_LOAD_PLUGINS"}


def courseware(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "courseware", *args], capture_output=True, text=True,
                          check=False, env=WITH_PLUGINS)  # fmt: skip


def test_example_plugin_is_listed(installed):
    result = courseware("plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    moons = plugins["moons"]
    assert moons["version"] == "1.0.0" and moons["source"] == "courseware-moons (entry point)"
    assert moons["components"] == {
        "datasets": ["moons"], "activations": ["leaky-relu"], "visualizers": ["weights-histogram"],
    }  # fmt: skip


def test_example_plugin_trains(installed):
    result = courseware("train", "--dataset", "moons", "--activation", "leaky-relu", "--learning-rate", "0.1",
                        "--seed", "0.5", "--epochs", "60", "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    losses = json.loads(result.stdout)["losses"]
    assert losses[-1][0] < 0.5 * losses[0][0], "the network learns the moons"


def test_example_plugin_can_be_excluded(installed):
    result = subprocess.run(
        [sys.executable, "-m", "courseware", "plugins", "--json"],
        capture_output=True, text=True, env={**WITH_PLUGINS, "COURSEWARE_LOAD_PLUGINS": ""},
    )  # fmt: skip
    assert "moons" not in {p["name"] for p in json.loads(result.stdout)["plugins"]}


def test_example_plugins_own_tests_pass(installed):
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                            capture_output=True, text=True, env=WITH_PLUGINS)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
