"""Installed (entry-point) plugins, from throwaway distributions: none is pip-installed.

Each test writes a ``*.dist-info`` folder and its modules into a temporary directory and puts that on
the path (see ``distkit``), in this process or in a ``courseware`` subprocess. The one real install,
of ``examples/courseware-moons`` into a temporary venv, is ``test_example_plugin.py``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from distkit import Running, courseware, environment, make_distribution

from courseware.plugins import PluginHost

pytestmark = pytest.mark.slow  # installs packages with pip: left out of the fast subset (README)

ROOT = __import__("pathlib").Path(__file__).parent.parent
TOUR = str(ROOT / "lessons" / "01-tour.yaml")

CLASHING_RELU = """
    import numpy as np
    from courseware import Activation, Dataset, hookimpl

    @hookimpl
    def register_activations(register):
        register(Activation("relu", "Mine", np.tanh, lambda z, a: 1 - a * a))
"""

EXITS_AT_IMPORT = "import sys\nsys.exit(3)\n"

INTERRUPTS_AT_IMPORT = "raise KeyboardInterrupt\n"

HANGS_AT_IMPORT = """
    import time
    while True:
        time.sleep(0.05)
"""

COMMAND = """
    import click
    from courseware import hookimpl

    @hookimpl
    def register_commands(cli):
        @cli.command()
        def hello():
            click.echo("hello from an installed plugin")
"""

MARKS_ITS_IMPORT = """
    import os
    from pathlib import Path
    Path(os.environ["IMPORT_MARK"]).write_text("imported")
"""


@pytest.fixture
def on_path(monkeypatch):
    """Put a throwaway distribution on this process's path, with entry points enabled."""
    monkeypatch.delenv("COURSEWARE_LOAD_PLUGINS", raising=False)

    def install(root, name, plugins, version="1.0"):
        make_distribution(root, name, plugins, version)
        monkeypatch.syspath_prepend(str(root))  # also invalidates importlib's caches

    return install


# -- in this process ---------------------------------------------------------------------------------------


def test_an_entry_point_plugin_is_found_with_its_distribution(tmp_path, on_path):
    on_path(tmp_path, "cw-extra", {"extra": COMMAND}, version="2.5")
    host = PluginHost.load()
    assert host.sources["extra"] == ("2.5", "cw-extra (entry point)")
    assert "hello" in host.commands and host.failures == []


def test_the_load_variable_picks_entry_points(tmp_path, on_path, monkeypatch):
    on_path(tmp_path, "cw-two", {"one": COMMAND, "two": "from courseware import hookimpl\n"})
    monkeypatch.setenv("COURSEWARE_LOAD_PLUGINS", "two")
    host = PluginHost.load()
    assert "two" in host.sources and "one" not in host.sources


def test_a_clashing_entry_point_plugin_is_a_failure_not_an_error(tmp_path, on_path):
    on_path(tmp_path, "cw-clash", {"clash": CLASHING_RELU})
    host = PluginHost.load()
    (failure,) = host.failures
    assert failure.plugin == "clash" and "'courseware_builtins.activations' and 'clash'" in failure.error
    assert host.registry.plugin_of("activations", "relu") == "courseware_builtins.activations"


def test_two_distributions_with_one_plugin_name(tmp_path, on_path):
    on_path(tmp_path / "a", "cw-first", {"same": "from courseware import hookimpl\n"})
    on_path(tmp_path / "b", "cw-second", {"same": "from courseware import hookimpl\n"})
    host = PluginHost.load()
    assert len(host.failures) == 1 and host.failures[0].plugin == "same"
    assert host.failures[0].error.startswith("cw-") and "names its plugin 'same', and a plugin of that name already " \
        "comes from cw-" in host.failures[0].error  # fmt: skip


def test_a_plugin_name_whose_first_import_failed_is_not_taken_by_another_distribution(tmp_path, on_path):
    on_path(tmp_path / "b", "cw-second", {"same": COMMAND})
    on_path(tmp_path / "a", "cw-first", {"same": EXITS_AT_IMPORT})  # prepended last: found first
    host = PluginHost.load()
    assert [f.hook for f in host.failures] == ["import", "import"]
    assert "hello" not in host.commands and "same" not in host.sources


def test_a_blocked_entry_point_is_not_imported(tmp_path, on_path):
    mark = tmp_path / "mark"
    on_path(tmp_path / "dist", "cw-mark", {"marker": MARKS_ITS_IMPORT.replace('os.environ["IMPORT_MARK"]', repr(str(mark)))})
    host = PluginHost.load(blocked=["marker"])
    assert host.failures == [] and not mark.exists()
    PluginHost.load(blocked=[])
    assert mark.exists()


# -- the command line ------------------------------------------------------------------------------------


def test_plugins_command_runs_and_shows_a_clash(tmp_path):
    env = environment(make_distribution(tmp_path, "cw-clash", {"clash": CLASHING_RELU}))
    result = courseware("plugins", env=env)
    assert result.returncode == 0, result.stderr
    assert "FAILED plugin 'clash' failed in register_activations: activation name 'relu' is registered by two " \
           "plugins: 'courseware_builtins.activations' and 'clash'" in result.stdout  # fmt: skip
    payload = json.loads(courseware("plugins", "--json", env=env).stdout)
    assert [f["plugin"] for f in payload["failures"]] == ["clash"]
    assert "clash" not in [p["name"] for p in payload["plugins"]]


def test_other_commands_keep_working_beside_a_clash(tmp_path):
    env = environment(make_distribution(tmp_path, "cw-clash", {"clash": CLASHING_RELU}))
    result = courseware("train", "--activation", "relu", "--epochs", "1", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        (
            "warning: plugin 'clash' failed in register_activations: activation name 'relu' is registered by "
            "two plugins: 'courseware_builtins.activations' and 'clash'; 'clash' is skipped. Block one of them "
            "(COURSEWARE_BLOCK_PLUGINS) or have 'clash' pass replace=True"
        )
    ]


@pytest.mark.parametrize(("source", "error"), [(EXITS_AT_IMPORT, "SystemExit: 3"),
                                               (INTERRUPTS_AT_IMPORT, "KeyboardInterrupt")])  # fmt: skip
def test_check_keeps_going_past_a_plugin_that_exits_or_interrupts(tmp_path, source, error):
    env = environment(make_distribution(tmp_path, "cw-rude", {"rude": source}))
    result = courseware("check", "--runs", "2", "--sample", "1", TOUR, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"warning: plugin 'rude' failed in import: {error}" in result.stderr.splitlines()
    assert "all passed" in result.stdout


def test_serve_keeps_going_past_a_plugin_that_exits(tmp_path):
    env = environment(make_distribution(tmp_path, "cw-rude", {"rude": EXITS_AT_IMPORT}))
    server = Running("serve", "--port", "0", env=env)
    try:
        server.wait_for(lambda stream, line: "courseware: serving at http://" in line)
        server.wait_for(lambda stream, line: line == "warning: plugin 'rude' failed in import: SystemExit: 3")
        assert server.process.poll() is None, "the server is still running"
    finally:
        server.stop()


def test_a_hanging_plugin_is_named_and_ctrl_c_still_stops_courseware(tmp_path):
    env = environment(make_distribution(tmp_path, "cw-hang", {"hang": HANGS_AT_IMPORT}),
                      COURSEWARE_SLOW_PLUGIN_SECONDS="0.2")  # fmt: skip
    checking = Running("check", "--runs", "2", "--sample", "1", TOUR, env=env)
    try:
        line = checking.wait_for(lambda stream, line: stream == "err" and "still loading plugin" in line)
        assert line.startswith("courseware: still loading plugin 'hang' (import) after 0.")
        assert line.endswith("press Ctrl-C and block it with COURSEWARE_BLOCK_PLUGINS=hang")
        code = checking.stop(signal.SIGINT)
    finally:
        checking.stop()
    assert code == 1 and ("err", "Aborted!") in checking.rest()
    blocked = courseware("check", "--runs", "2", "--sample", "1", TOUR, env={**env, "COURSEWARE_BLOCK_PLUGINS": "hang"})
    assert blocked.returncode == 0 and "all passed" in blocked.stdout


def test_importing_the_cli_loads_no_plugin(tmp_path):
    mark = tmp_path / "mark"
    env = environment(make_distribution(tmp_path / "dist", "cw-mark", {"marker": MARKS_ITS_IMPORT}),
                      IMPORT_MARK=str(mark))  # fmt: skip
    subprocess.run([sys.executable, "-c", "import courseware.cli"], env=env, check=True)
    assert not mark.exists()
    assert courseware("plugins", env=env).returncode == 0
    assert mark.exists()


def test_a_plugin_command_runs_and_is_listed(tmp_path):
    env = environment(make_distribution(tmp_path, "cw-hello", {"hello-plugin": COMMAND}))
    result = courseware("hello", env=env)
    assert (result.returncode, result.stdout) == (0, "hello from an installed plugin\n"), result.stderr
    assert "hello" in courseware("--help", env=env).stdout
