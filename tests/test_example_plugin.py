"""The example third-party plugin, really installed with pip, is found and used.

This is the suite's one real install, and it goes into a temporary venv, never into the developer's
environment: the venv sees the development environment's packages (courseware, numpy, Bokeh, pip,
setuptools) through a ``.pth`` file, and pip installs ``examples/courseware-moons`` into the venv alone.
Other entry-point tests use throwaway ``*.dist-info`` folders (``test_entry_points.py``).
"""

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # installs the example plugin with pip: left out of the fast subset (README)

EXAMPLE = Path(__file__).parent.parent / "examples" / "courseware-moons"


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """The python of a temporary venv with courseware-moons installed by pip."""
    before = _installed_here()
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    # addsitedir, unlike a plain path line, also runs the .pth files there (courseware's editable install)
    lines = [f"import site; site.addsitedir({path!r})\n" for path in site.getsitepackages()]
    (Path(purelib) / "courseware_development.pth").write_text("".join(lines))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(EXAMPLE)],
                   check=True, env=ENV)  # fmt: skip
    installed = subprocess.run([python, "-m", "pip", "show", "--files", "courseware-moons"], capture_output=True,
                               text=True, check=True, env=ENV).stdout  # fmt: skip
    assert f"Location: {purelib}" in installed, "installed into the temporary venv"
    assert _installed_here() == before, "the developer's environment is left as it was"
    return python


def _installed_here() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("courseware-moons")
    except PackageNotFoundError:
        return False
    return True


# The suite as a whole loads no entry-point plugins (see conftest.py); these tests are about them.
ENV = {k: v for k, v in os.environ.items() if k not in ("COURSEWARE_LOAD_PLUGINS", "PYTHONPATH")}


def courseware(python: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "courseware", *args], capture_output=True, text=True, check=False,
                          env={**ENV, **env})  # fmt: skip


def test_example_plugin_is_listed(venv):
    result = courseware(venv, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["failures"] == []
    moons = {p["name"]: p for p in payload["plugins"]}["moons"]
    assert moons["version"] == "1.0.0" and moons["source"] == "courseware-moons (entry point)"
    assert moons["components"] == {
        "datasets": ["moons"], "activations": ["leaky-relu"], "visualizers": ["weights-histogram"],
    }  # fmt: skip


def test_example_plugin_trains(venv):
    result = courseware(venv, "train", "--dataset", "moons", "--activation", "leaky-relu", "--learning-rate", "0.1",
                        "--seed", "0.5", "--epochs", "60", "--format", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    losses = json.loads(result.stdout)["losses"]
    assert losses[-1][0] < 0.5 * losses[0][0], "the network learns the moons"


def test_example_plugin_can_be_excluded(venv):
    result = courseware(venv, "plugins", "--json", COURSEWARE_LOAD_PLUGINS="")
    assert "moons" not in {p["name"] for p in json.loads(result.stdout)["plugins"]}


def test_example_plugins_own_tests_pass(venv):
    result = subprocess.run([venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                            capture_output=True, text=True, env=ENV, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
