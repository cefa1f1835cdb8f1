"""Where compiled code is cached: the exact engine must work from a read-only install, by a user
without a home folder, and even with nowhere to write at all (then it compiles in memory)."""

import subprocess
import sys
import tempfile
import textwrap

import pytest

# numba looks beside the source, then in the user's cache folder; these runs pretend neither is
# writable by leaving numba only its NUMBA_CACHE_DIR locator, unset.
NOWHERE_WRITABLE = """
import numba, numba.core.caching as caching
caching.CacheImpl._locator_classes = [caching.UserProvidedCacheLocator]
numba.config.CACHE_DIR = ""
"""

TRAIN = """
from courseware import config as config_module, jit
from courseware.experiment import Experiment
from courseware.plugins import get_registry
registry = get_registry()
experiment = Experiment(config_module.from_mapping({"seed": "0.12345"}, registry), registry)
experiment.step(1)
assert experiment.engine.exact and experiment.history.train[1] == 0.49635937670035557
print(jit.CACHE, numba.config.CACHE_DIR)
"""


def _run(script: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow  # compiles the engine from nothing in a fresh process
def test_without_a_writable_cache_folder_the_cache_goes_to_the_temporary_directory():
    cache, folder = _run(NOWHERE_WRITABLE + TRAIN).split()
    assert cache == "True" and folder.startswith(tempfile.gettempdir()) and "courseware-numba" in folder


@pytest.mark.slow  # compiles the engine from nothing in a fresh process
def test_with_nowhere_to_write_the_engine_compiles_in_memory():
    unwritable = NOWHERE_WRITABLE + "import tempfile\ntempfile.gettempdir = lambda: '/proc'\n"
    cache, _ = _run(unwritable + TRAIN).split()
    assert cache == "False"
