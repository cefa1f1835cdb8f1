"""The plugin host: registration, order, conflicts, failures of every kind, blocking, overriding,
folder plugins, the watchdog and the trace.

Every hook has a ``test_hook_<name>`` here (a meta-test checks it), each registering a throwaway
plugin on a fresh host so nothing leaks into other tests.
"""

import inspect
import signal
import textwrap
import threading
from pathlib import Path

import click
import numpy as np
import pytest

from courseware import (
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    LessonSource,
    Loss,
    Metric,
    Optimizer,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
    hookimpl,
    hookspecs,
)
from courseware import plugins as plugins_module
from courseware.errors import UnknownNameError
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
    host = load(Registers("register_problems", Problem("ranking", "Ranking", 100, "dataset", "circle", True)))
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


def test_hook_register_heads():
    head = Head("sigmoid-node", "One sigmoid output", "classification", "square", activation="sigmoid")
    host = load(Registers("register_heads", head))
    assert host.registry.head("sigmoid-node") is head
    assert [h.name for h in host.registry.heads_for("classification")] == ["tanh", "softmax", "sigmoid-node"]


def test_hook_register_heads_refuses_a_head_computed_two_ways():
    both = Head("both", "Both", "classification", "square", activation="tanh", output=np.tanh,
                backward=lambda z, a, g: g)  # fmt: skip
    host = load(Registers("register_heads", both))
    assert "give either activation or output and backward" in str(host.failures[0])
    neither = Head("neither", "Neither", "classification", "square")
    assert "give activation" in str(load(Registers("register_heads", neither)).failures[0])


def test_hook_register_losses():
    hinge = Loss("hinge", "Hinge", lambda a, t: np.maximum(0, 1 - a * t).sum(-1),
                 lambda a, t: np.where(a * t < 1, -t, 0.0), heads=("tanh",))  # fmt: skip
    host = load(Registers("register_losses", hinge))
    assert host.registry.loss("hinge") is hinge
    assert host.registry.plugin_of("losses", "hinge") == "test-plugin-0"


def test_hook_register_optimizers():
    sign = Optimizer("sign", "Sign descent", lambda grad, count, lr, is_weight, state, t: lr * np.sign(grad))
    host = load(Registers("register_optimizers", sign))
    assert host.registry.optimizer("sign") is sign
    assert host.registry.default_optimizer().name == "sgd", "the built-in default stays the default"


def test_hook_register_optimizers_refuses_negative_slots():
    bad = Optimizer("bad", "Bad", lambda *args: 0, slots=-1)
    assert "slots must be a whole number" in str(load(Registers("register_optimizers", bad)).failures[0])


def test_hook_register_data_formats(tmp_path):
    from courseware.data import PointSet
    from courseware.datafiles import read_data_file

    def read_tsv(data, name, limits):
        rows = [line.split("\t") for line in data.decode().splitlines() if line]
        return PointSet(np.array([[float(x), float(y), float(c)] for x, y, c in rows]), classes=("a", "b"))

    tsv = DataFormat("tsv", "Tab-separated", (".tsv",), read_tsv)
    host = load(Registers("register_data_formats", tsv))
    assert host.registry.data_format("tsv") is tsv
    path = tmp_path / "pairs.tsv"
    path.write_text("1\t2\t0\n-1\t-2\t1\n3\t1\t0\n")
    dataset = read_data_file(path, host.registry)
    assert dataset.name == "pairs" and dataset.fixed and dataset.class_labels == ("a", "b")
    assert dataset.generate(None, 500, 0.0)[:, 2].tolist() == [-1.0, 1.0, -1.0], "two classes: -1 and +1"


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
    assert host.failures == []


def test_replace_overrides_a_builtin():
    mine = Activation("relu", "Leaky", lambda z: np.where(z > 0, z, 0.1 * z), lambda z, a: np.where(z > 0, 1.0, 0.1))
    host = load(Registers("register_activations", mine, replace=True))
    assert host.registry.activation("relu") is mine
    assert host.registry.names("activations")[0] == "relu", "a replacement keeps the name's place"
    assert host.failures == []


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        load().registry.dataset("circel")
    assert str(info.value) == (
        "unknown dataset 'circel'; known datasets: blobs-3, blobs-4, circle, gauss, reg-gauss, reg-plane, spiral, "
        "spiral-3, xor"
    )


def test_registering_the_wrong_kind_is_a_reported_failure():
    host = load(Registers("register_datasets", Feature("f", "F", lambda x, y: x)))
    assert "register_datasets must register Dataset objects, got Feature" in str(host.failures[0])


def test_unsafe_names_are_refused():
    host = load(Registers("register_datasets", Dataset("two moons", "Moons", "classification", _points)))
    assert "must be a non-empty string without spaces" in str(host.failures[0])


def test_a_component_whose_function_is_not_callable_is_refused():
    host = load(Registers("register_features", Feature("half", "Half", 0.5)))
    assert str(host.failures[0]) == (
        "plugin 'test-plugin-0' failed in register_features: TypeError: Feature 'half': fn must be callable, got float"
    )


def test_a_visualizer_in_an_area_the_page_lacks_is_refused():
    host = load(Registers("register_visualizers", Visualizer("side", "Side", lambda context: None, area="sidebar")))
    assert "area 'sidebar' is not one of the page's areas (data, features, network, output, extra)" in host.failures[0].error
    assert "side" not in host.registry.names("visualizers")


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


def test_a_blocked_folder_plugin_is_not_even_imported(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "loud.py").write_text("raise SystemExit('imported')\n")
    host = PluginHost.load([tmp_path], entry_points=False, blocked=[f"{tmp_path.name}/loud"])
    assert host.failures == []


def test_plugin_infos_list_components_and_sources():
    infos = {i.name: i for i in load().plugin_infos()}
    assert infos["courseware_builtins.datasets"].components["datasets"][:2] == ["circle", "xor"]
    assert infos["courseware_builtins.datasets"].source == "built-in"


# -- a failing plugin is skipped whole, never fatal ----------------------------------------------------------


def test_name_clash_is_a_failure_naming_both_plugins_and_the_later_is_skipped():
    class Clashing:
        @hookimpl
        def register_datasets(self, register):
            register(Dataset("halves", "Halves", "classification", _points))

        @hookimpl
        def register_activations(self, register):
            register(Activation("relu", "Mine", np.tanh, lambda z, a: 1 - a * a))

    host = load(Clashing())
    (failure,) = host.failures
    assert (failure.plugin, failure.hook) == ("test-plugin-0", "register_activations")
    assert failure.error == (
        "activation name 'relu' is registered by two plugins: 'courseware_builtins.activations' and "
        "'test-plugin-0'; 'test-plugin-0' is skipped. Block one of them (COURSEWARE_BLOCK_PLUGINS) or have "
        "'test-plugin-0' pass replace=True"
    )
    assert host.registry.plugin_of("activations", "relu") == "courseware_builtins.activations"
    assert "halves" not in host.registry.names("datasets"), "a skipped plugin registers nothing at all"
    assert not host.pm.has_plugin("test-plugin-0")
    assert host.registry.names("activations") == ["relu", "tanh", "sigmoid", "linear"]


def test_a_clash_between_two_third_party_plugins_skips_the_one_loaded_later():
    first = Registers("register_features", Feature("cosX", "cos(X_1)", lambda x, y: np.cos(x)))
    second = Registers("register_features", Feature("cosX", "cos X", lambda x, y: np.cos(x)))
    host = load(first, second)
    assert host.registry.plugin_of("features", "cosX") == "test-plugin-0"
    assert [f.plugin for f in host.failures] == ["test-plugin-1"]
    assert "'test-plugin-0' and 'test-plugin-1'" in host.failures[0].error


def test_a_later_plugin_cannot_take_a_replaced_name_without_replace():
    mine = Registers("register_activations", Activation("relu", "Mine", np.tanh, lambda z, a: 1 - a * a), replace=True)
    late = Registers("register_activations", Activation("relu", "Late", np.tanh, lambda z, a: 1 - a * a))
    host = load(mine, late)
    assert host.registry.plugin_of("activations", "relu") == "test-plugin-0"
    assert [f.plugin for f in host.failures] == ["test-plugin-1"]
    assert "'test-plugin-0' and 'test-plugin-1'" in host.failures[0].error


def test_a_plugin_registering_one_name_twice_is_skipped():
    class Twice:
        @hookimpl
        def register_features(self, register):
            register(Feature("cosX", "cos(X_1)", lambda x, y: np.cos(x)))
            register(Feature("cosX", "cos(X_1)", lambda x, y: np.cos(x)))

    host = load(Twice())
    assert host.failures[0].error == "it registers feature 'cosX' twice"
    assert "cosX" not in host.registry.names("features")


def test_a_raising_hook_is_reported_and_its_whole_plugin_skipped():
    class Broken:
        @hookimpl
        def register_datasets(self, register):
            register(Dataset("half-done", "Half", "classification", _points))

        @hookimpl
        def register_features(self, register):
            register(Feature("cosX", "cos(X_1)", lambda x, y: np.cos(x)))
            raise RuntimeError("boom")

    good = Registers("register_features", Feature("cosY", "cos(X_2)", lambda x, y: np.cos(y)))
    host = load(Broken(), good)
    assert [str(f) for f in host.failures] == ["plugin 'test-plugin-0' failed in register_features: RuntimeError: boom"]
    assert "half-done" not in host.registry.names("datasets") and "cosX" not in host.registry.names("features")
    assert "cosY" in host.registry.names("features")


def test_a_plugin_that_swallows_a_refusal_still_fails():
    class Sly:
        @hookimpl
        def register_datasets(self, register):
            try:
                register(Dataset("two moons", "Moons", "classification", _points))
            except ValueError:
                pass
            register(Dataset("halves", "Halves", "classification", _points))

    host = load(Sly())
    assert "Dataset name 'two moons' must be a non-empty string" in host.failures[0].error
    assert "halves" not in host.registry.names("datasets")


class ExitsInHook:
    @hookimpl
    def register_datasets(self, register):
        raise SystemExit(3)


class InterruptsInHook:
    @hookimpl
    def register_features(self, register):
        raise KeyboardInterrupt


class Unusual(BaseException):
    """Neither an Exception nor one of Python's own: still contained."""


class RaisesBaseException:
    @hookimpl
    def register_metrics(self, register):
        raise Unusual("odd")


@pytest.mark.parametrize(
    ("plugin", "hook", "error"),
    [
        (ExitsInHook(), "register_datasets", "SystemExit: 3"),
        (InterruptsInHook(), "register_features", "KeyboardInterrupt"),
        (RaisesBaseException(), "register_metrics", "Unusual: odd"),
    ],
    ids=["SystemExit", "KeyboardInterrupt", "BaseException"],
)
def test_a_hook_raising_any_base_exception_is_contained(plugin, hook, error):
    host = load(plugin)
    assert [(f.plugin, f.hook, f.error) for f in host.failures] == [("test-plugin-0", hook, error)]
    assert host.registry.names("features")[:2] == ["x", "y"], "everything else loaded"


@pytest.mark.parametrize(
    ("source", "error"),
    [("import sys\nsys.exit(2)\n", "SystemExit: 2"), ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
     ("raise GeneratorExit\n", "GeneratorExit")],
)  # fmt: skip
def test_a_module_raising_any_base_exception_at_import_is_contained(tmp_path, source, error):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "rude.py").write_text(source)
    host = PluginHost.load([tmp_path], entry_points=False)
    assert [(f.plugin, f.hook, f.error) for f in host.failures] == [(f"{tmp_path.name}/rude", "import", error)]


def test_a_real_ctrl_c_while_a_plugin_loads_is_not_contained(tmp_path):
    """SIGINT reaches the process while a plugin's import runs: the user wants out, so loading stops."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow.py").write_text(textwrap.dedent("""
        import os, signal, time
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs between bytecodes: this loop never completes
            time.sleep(0.01)
    """))
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        PluginHost.load([tmp_path], entry_points=False)
    assert signal.getsignal(signal.SIGINT) is before, "the host puts the previous handler back"


def test_a_plugin_asking_for_the_registry_while_plugins_load_fails_clearly(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "eager.py").write_text("from courseware.plugins import get_registry\nREGISTRY = get_registry()\n")
    host = PluginHost.load([tmp_path], entry_points=False)
    assert "asked for the plugin registry while plugins are loading" in host.failures[0].error


def test_a_slow_plugin_is_named_on_stderr_while_it_runs(monkeypatch):
    """The watchdog names the plugin and the hook while it is still running (no fixed sleep: the
    slow hook waits until the watchdog has spoken)."""
    lines = []
    spoke = threading.Event()

    def write(line):
        lines.append(line)
        spoke.set()

    monkeypatch.setattr(plugins_module, "_stderr", write)

    class Slow:
        @hookimpl
        def register_features(self, register):
            assert spoke.wait(10), "the watchdog never spoke"

    host = PluginHost.load(entry_points=False, extra=[(Slow(), "slow-plugin")], slow_after=0.05)
    assert host.failures == []
    assert lines[0].startswith("courseware: still loading plugin 'slow-plugin' (register_features) after 0.")
    assert lines[0].endswith("press Ctrl-C and block it with COURSEWARE_BLOCK_PLUGINS=slow-plugin")


# -- ordering -----------------------------------------------------------------------------------------------


def _feature_plugin(name, **flags):
    class Plugin:
        @hookimpl(**flags)
        def register_features(self, register):
            register(Feature(name, name, lambda x, y: x))

    return Plugin()


def test_registration_order_honours_tryfirst_and_trylast():
    host = load(
        _feature_plugin("last", trylast=True),
        _feature_plugin("plain1"),
        _feature_plugin("first1", tryfirst=True),
        _feature_plugin("plain2"),
        _feature_plugin("first2", tryfirst=True),
    )
    assert host.registry.names("features") == [
        "first1", "first2", "x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY", "plain1", "plain2", "last",
    ]  # fmt: skip


def test_tryfirst_changes_the_order_but_not_who_wins_a_clash():
    class Early:
        @hookimpl(tryfirst=True)
        def register_activations(self, register):
            register(Activation("relu", "Early", np.tanh, lambda z, a: 1 - a * a))

    host = load(Early())
    assert host.registry.plugin_of("activations", "relu") == "courseware_builtins.activations"
    assert [f.plugin for f in host.failures] == ["test-plugin-0"]


@pytest.mark.parametrize("flag", ["wrapper", "hookwrapper"])
def test_hook_wrappers_are_refused_by_name(flag):
    class Wrapping:
        @hookimpl(**{flag: True})
        def register_features(self, register):
            register(Feature("wrapped", "Wrapped", lambda x, y: x))
            yield

    host = load(Wrapping())
    (failure,) = host.failures
    assert (failure.plugin, failure.hook) == ("test-plugin-0", "register_features")
    assert failure.error.startswith("register_features is a hook wrapper (wrapper=True or hookwrapper=True)")
    assert "wrapped" not in host.registry.names("features") and not host.pm.has_plugin("test-plugin-0")


def test_trace_shows_who_registered_what_in_order(capsys):
    load(_feature_plugin("early", tryfirst=True), _feature_plugin("late"), trace=True)
    lines = [line.removeprefix("courseware: trace: ") for line in capsys.readouterr().err.splitlines()]
    calls = [line for line in lines if line.startswith("calling register_features")]
    assert calls == [
        "calling register_features of 'test-plugin-0' (tryfirst)",
        "calling register_features of 'courseware_builtins.features'",
        "calling register_features of 'test-plugin-1'",
    ]
    registered = [line for line in lines if line.startswith("register_features:")]
    assert registered == [
        "register_features: 'test-plugin-0' registered early",
        "register_features: 'courseware_builtins.features' registered x, y, xSquared, ySquared, xTimesY, sinX, sinY",
        "register_features: 'test-plugin-1' registered late",
    ]


def test_the_trace_variable_turns_the_trace_on(capsys, monkeypatch):
    monkeypatch.setenv("COURSEWARE_TRACE_PLUGINS", "1")
    load()
    assert "courseware: trace: importing plugin 'courseware_builtins.problems' (built-in)" in capsys.readouterr().err
    monkeypatch.setenv("COURSEWARE_TRACE_PLUGINS", "0")
    load()
    assert capsys.readouterr().err == ""


# -- the out= protocol ----------------------------------------------------------------------------------------


def _leaky(z, out=None):
    return np.maximum(z, 0.01 * z, out=out)


def test_an_activation_ignoring_out_is_refused_at_registration():
    """The docs' old five-minute example: out= declared, then ignored, so the network never learned."""

    def leaky_derivative(z, a, out=None):
        return np.where(z > 0, 1.0, 0.01)

    host = load(Registers("register_activations", Activation("leaky-relu", "Leaky", _leaky, leaky_derivative)))
    (failure,) = host.failures
    assert (failure.plugin, failure.hook) == ("test-plugin-0", "register_activations")
    assert failure.error.startswith(
        "ValueError: activation 'leaky-relu': derivative(z, a, out) does not write what derivative(z, a) returns "
        "(at z = -2.5, out holds nan, the plain call gives 0.01)"
    )
    assert "leaky-relu" not in host.registry.names("activations")


def test_an_activation_writing_part_of_out_is_refused():
    def half_written(z, a, out=None):
        if out is None:
            return np.where(z > 0, 1.0, 0.01)
        out[z > 0] = 1.0  # forgets the negative side
        return out

    host = load(Registers("register_activations", Activation("leaky-relu", "Leaky", _leaky, half_written)))
    assert "derivative(z, a, out) does not write what derivative(z, a) returns (at z = -2.5" in host.failures[0].error


def test_an_activation_whose_out_form_raises_is_refused():
    def not_in_place(z, out=None):
        if out is not None:
            raise NotImplementedError("no in-place form yet")
        return np.maximum(z, 0.01 * z)

    host = load(Registers("register_activations", Activation("leaky-relu", "Leaky", not_in_place, lambda z, a: z)))
    assert host.failures[0].error.startswith(
        "ValueError: activation 'leaky-relu': output(z, out) raised NotImplementedError: no in-place form yet, "
        "but output(z) works"
    )


def test_an_activation_honouring_out_or_without_it_is_accepted():
    def into(z, a, out=None):
        result = np.where(z > 0, 1.0, 0.01)
        if out is None:
            return result
        np.copyto(out, result)
        return out

    plain = Activation("leaky-plain", "Leaky", lambda z: np.maximum(z, 0.01 * z), lambda z, a: np.where(z > 0, 1.0, 0.01))
    honest = Activation("leaky-out", "Leaky", _leaky, into)
    host = load(Registers("register_activations", plain), Registers("register_activations", honest))
    assert host.failures == []
    assert host.registry.names("activations")[-2:] == ["leaky-plain", "leaky-out"]


def test_an_activation_that_always_raises_is_left_for_its_use_to_report():
    def explode(z, out=None):
        raise FloatingPointError("kaboom")

    host = load(Registers("register_activations", Activation("flaky", "Flaky", explode, lambda z, a: z)))
    assert host.failures == [] and "flaky" in host.registry.names("activations")


# -- commands -----------------------------------------------------------------------------------------------


def _command_plugin(name, raises=None):
    class Commands:
        @hookimpl
        def register_commands(self, cli):
            @cli.command(name)
            def command():
                click.echo(f"{name} from a plugin")

            if raises is not None:
                raise raises

    return Commands()


def test_a_plugin_command_clashing_with_a_courseware_command_is_left_out():
    host = load(_command_plugin("check"), _command_plugin("hello"))
    group = click.Group(commands={"check": click.Command("check")})
    host.call_command_hooks(group)
    assert sorted(group.commands) == ["check", "hello"] and group.commands["check"].callback is None
    assert [str(f) for f in host.failures] == [
        "plugin 'test-plugin-0' failed in register_commands: command 'check' is already a courseware command; it is left out"
    ]


def test_two_plugins_adding_one_command_name_clash():
    host = load(_command_plugin("hello"), _command_plugin("hello"))
    assert list(host.commands) == ["hello"] and host.commands["hello"][1] == "test-plugin-0"
    assert [f.plugin for f in host.failures] == ["test-plugin-1"]


def test_a_command_hook_that_exits_is_contained():
    host = load(_command_plugin("bye", raises=SystemExit(0)))
    assert [(f.hook, f.error) for f in host.failures] == [("register_commands", "SystemExit: 0")]
    assert host.commands == {}


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
