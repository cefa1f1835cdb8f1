"""The plugin host: registration, conflicts, failures, blocking, overriding, folder plugins.

Every hook has a ``test_hook_<name>`` here (a meta-test checks it), each registering a throwaway
plugin on a fresh host so nothing leaks into other tests.
"""

import inspect
import textwrap
from pathlib import Path

import click
import numpy as np
import pytest

from courseware import (
    Activation,
    Dataset,
    Feature,
    LessonSource,
    Metric,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
    hookimpl,
    hookspecs,
)
from courseware.errors import PluginConflictError, UnknownNameError
from courseware.plugins import PluginHost

ROOT = Path(__file__).parent.parent
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]


def load(*plugins, **kwargs):
    extra = [(plugin, f"test-plugin-{i}") for i, plugin in enumerate(plugins)]
    return PluginHost.load(entry_points=False, extra=extra, **kwargs)


def _points(rng, n, noise):
    u = rng.draws(2 * n).reshape(n, 2) * 12 - 6
    return np.column_stack([u, np.where(u[:, 0] > 0, 1.0, -1.0)])


class Registers:
    """A plugin registering one component from one hook."""

    def __init__(self, hook, component, replace=False):
        def impl(register):
            register(component, replace=replace) if replace else register(component)

        impl.__name__ = hook
        setattr(self, hook, hookimpl(impl))


# -- one test per hook -------------------------------------------------------------------------------


def test_hook_register_problems():
    host = load(Registers("register_problems", Problem("ranking", "Ranking", "tanh", 100, "dataset", "circle", True)))
    assert host.registry.problem("ranking").num_samples == 100
    assert host.registry.plugin_of("problems", "ranking") == "test-plugin-0"


def test_hook_register_datasets():
    host = load(Registers("register_datasets", Dataset("halves", "Halves", "classification", _points)))
    assert "halves" in [d.name for d in host.registry.datasets_for("classification")]


def test_hook_register_features():
    host = load(Registers("register_features", Feature("cosX", "cos(X_1)", lambda x, y: np.cos(x))))
    assert host.registry.names("features")[-1] == "cosX", "third-party features follow the built-ins"


def test_hook_register_activations():
    act = Activation("softsign", "Softsign", lambda z: z / (1 + abs(z)), lambda z, a: 1 / (1 + abs(z)) ** 2)
    host = load(Registers("register_activations", act))
    assert host.registry.activation("softsign") is act


def test_hook_register_regularizers():
    reg = Regularizer("L4", "L4", lambda w: w**4, lambda w: 4 * w**3)
    assert load(Registers("register_regularizers", reg)).registry.regularizer("L4") is reg


def test_hook_register_visualizers():
    vis = Visualizer("nothing", "Nothing", lambda context: None)
    assert load(Registers("register_visualizers", vis)).registry.visualizer("nothing") is vis


def test_hook_register_metrics():
    metric = Metric("zero", "Always zero", lambda run: np.zeros(1))
    assert load(Registers("register_metrics", metric)).registry.metric("zero") is metric


def test_hook_register_step_kinds():
    kind = StepKind("pause", "Wait a moment", lambda raw, where: raw)
    assert load(Registers("register_step_kinds", kind)).registry.step_kind("pause") is kind


def test_hook_register_lessons(tmp_path):
    source = LessonSource("extra-pack", str(tmp_path))
    host = load(Registers("register_lessons", source))
    assert [s.path for s in host.registry.all("lesson_sources")] == [str(tmp_path)]


def test_hook_register_commands():
    class Commands:
        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                click.echo("hello from a plugin")

    host = load(Commands())
    group = click.Group()
    host.call_command_hooks(group)
    assert "hello" in group.commands


# -- host behaviour ------------------------------------------------------------------------------------


def test_builtins_are_registered_as_plugins():
    host = load()
    names = [name for name, _ in host.pm.list_name_plugin()]
    assert "courseware_builtins.datasets" in names
    assert host.registry.plugin_of("activations", "relu") == "courseware_builtins.activations"
    assert host.registry.names("features") == ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"]


def test_name_clash_names_both_plugins():
    clash = Registers("register_activations", Activation("relu", "Mine", np.tanh, lambda z, a: 1 - a * a))
    with pytest.raises(PluginConflictError, match="'relu'.*'courseware_builtins.activations' and 'test-plugin-0'"):
        load(clash)


def test_replace_overrides_a_builtin():
    mine = Activation("relu", "Leaky", lambda z: np.where(z > 0, z, 0.1 * z), lambda z, a: np.where(z > 0, 1.0, 0.1))
    host = load(Registers("register_activations", mine, replace=True))
    assert host.registry.activation("relu") is mine


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        load().registry.dataset("circel")
    assert str(info.value) == "unknown dataset 'circel'; known datasets: circle, gauss, reg-gauss, reg-plane, spiral, xor"


def test_a_raising_hook_is_reported_and_skipped():
    class Broken:
        @hookimpl
        def register_datasets(self, register):
            register(Dataset("half-done", "Half", "classification", _points))
            raise RuntimeError("boom")

    good = Registers("register_features", Feature("cosY", "cos(X_2)", lambda x, y: np.cos(y)))
    host = load(Broken(), good)
    assert [str(f) for f in host.failures] == ["plugin 'test-plugin-0' failed in register_datasets: RuntimeError: boom"]
    assert "half-done" not in host.registry.names("datasets"), "a failed call registers nothing"
    assert "cosY" in host.registry.names("features")


def test_registering_the_wrong_kind_is_a_reported_failure():
    host = load(Registers("register_datasets", Feature("f", "F", lambda x, y: x)))
    assert "register_datasets must register Dataset objects, got Feature" in str(host.failures[0])


def test_unsafe_names_are_refused():
    host = load(Registers("register_datasets", Dataset("two moons", "Moons", "classification", _points)))
    assert "must be a non-empty string without spaces" in str(host.failures[0])


def test_misspelt_hook_disables_the_plugin():
    class Typo:
        @hookimpl
        def register_dataset(self, register):  # missing "s"
            pass

    host = load(Typo())
    assert host.failures[0].hook == "check_pending" and "register_dataset" in host.failures[0].error
    assert not host.pm.has_plugin("test-plugin-0")


def test_builtins_can_be_blocked(monkeypatch):
    monkeypatch.setenv("COURSEWARE_BLOCK_PLUGINS", "courseware_builtins.regularizers")
    assert load().registry.names("regularizers") == []
    assert load(blocked=[]).registry.names("regularizers") == ["L1", "L2"]


def test_load_plugins_variable_restricts_entry_points(monkeypatch):
    monkeypatch.setenv("COURSEWARE_LOAD_PLUGINS", "")
    host = PluginHost.load()
    assert all(source[1] in ("built-in",) for source in host.sources.values())


def test_lesson_folder_plugins_load_with_the_folder(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "moons.py").write_text(textwrap.dedent('''
        import numpy as np
        from courseware import Dataset, hookimpl

        def halves(rng, n, noise):
            u = rng.draws(2 * n).reshape(n, 2) * 12 - 6
            return np.column_stack([u, np.where(u[:, 1] > 0, 1.0, -1.0)])

        @hookimpl
        def register_datasets(register):
            register(Dataset("halves", "Halves", "classification", halves))
    '''))
    (tmp_path / "plugins" / "broken.py").write_text("raise ImportError('missing dependency')\n")
    host = PluginHost.load([tmp_path], entry_points=False)
    assert host.registry.plugin_of("datasets", "halves") == f"{tmp_path.name}/moons"
    assert [f.plugin for f in host.failures] == [f"{tmp_path.name}/broken"]


def test_plugin_infos_list_components_and_sources():
    infos = {i.name: i for i in load().plugin_infos()}
    assert infos["courseware_builtins.datasets"].components["datasets"][:2] == ["circle", "xor"]
    assert infos["courseware_builtins.datasets"].source == "built-in"


# -- meta-tests ---------------------------------------------------------------------------------------


def test_every_hook_has_a_test():
    tests = {name for name in globals() if name.startswith("test_hook_")}
    missing = [hook for hook in HOOKS if f"test_hook_{hook}" not in tests]
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    params = inspect.signature(getattr(hookspecs, hook)).parameters
    signature = f"{hook}({', '.join(params)})"
    assert f"### {signature}" in docs, f"docs/plugins.md needs a heading '### {signature}'"
