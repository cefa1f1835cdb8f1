"""The ``courseware`` command line.

Exit codes: 0 success, 2 usage error (click's own), 1 any other error. A user's mistake (an unknown
name, a bad value) prints one line, ``Error: ...``, and no traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from courseware import __version__
from courseware import config as config_module
from courseware.errors import CoursewareError
from courseware.plugins import get_host
from courseware.settings import route_dataset


class CoursewareGroup(click.Group):
    """Turns :class:`CoursewareError` into a one-line message and exit code 1, and adds plugins'
    commands only when they are asked for.

    Importing the CLI loads no plugin and no command module of its own: a command of courseware's
    own (``plugins``, ``check``, ``serve``) is imported when it runs (:data:`LAZY_COMMANDS`), starts
    without the installed plugins, and loads the ones it needs itself, where a failing plugin is
    reported rather than fatal. A name that is not one of courseware's commands, and ``--help``,
    load the default host and its plugins' commands first.
    """

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            self.add_own_commands(LAZY_COMMANDS[cmd_name])
            command = super().get_command(ctx, cmd_name)
        if command is None:
            self.add_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.add_plugin_commands()
        return super().list_commands(ctx)

    def add_own_commands(self, module_name: str) -> None:
        """Add the commands of one of courseware's own modules (``COMMANDS``), once."""
        import importlib

        for command in importlib.import_module(module_name).COMMANDS:
            if command.name not in self.commands:
                self.add_command(command)

    def add_plugin_commands(self) -> None:
        """The plugins' commands, after all of courseware's own (a plugin's namesake is a clash)."""
        for module_name in dict.fromkeys(LAZY_COMMANDS.values()):
            self.add_own_commands(module_name)
        get_host().call_command_hooks(self)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CoursewareError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=CoursewareGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="courseware")
def main() -> None:
    """Neural-network courseware: the TensorFlow Playground in Python, with lessons that check
    their own claims."""


def _warn_plugin_failures() -> None:
    for failure in get_host().failures:
        click.echo(f"warning: {failure}", err=True)


# -- courseware plugins ---------------------------------------------------------------------------------


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("-v", "--verbose", is_flag=True, help="Show each failure's traceback.")
def plugins_command(as_json: bool, verbose: bool) -> None:
    """List installed plugins, where they come from and what each adds, and every plugin that failed
    to load. Set COURSEWARE_TRACE_PLUGINS=1 to see the loading step by step."""
    host = get_host()
    main.add_plugin_commands()  # a plugin command clashing with one of ours is a failure to list
    infos = host.plugin_infos()
    failures = [vars(f) for f in host.failures]
    if as_json:
        payload = {
            "plugins": [
                {
                    "name": i.name,
                    "version": i.version,
                    "source": i.source,
                    "hooks": i.hooks,
                    "components": i.components,
                }
                for i in infos
            ],
            "failures": [{k: v for k, v in f.items() if k != "details"} for f in failures],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    for info in infos:
        click.echo(f"{info.name} {info.version}  ({info.source})")
        for kind, names in info.components.items():
            click.echo(f"    {kind}: {', '.join(names)}")
        other_hooks = [h for h in info.hooks if h == "register_commands"]
        if other_hooks:
            click.echo(f"    hooks: {', '.join(other_hooks)}")
    for failure in host.failures:
        click.echo(f"FAILED {failure}")
        if verbose and failure.details:
            click.echo(failure.details.rstrip("\n"))


# -- courseware train -----------------------------------------------------------------------------------

# courseware train's options for settings: every setting whose row of the settings table names one.
_TRAIN_OPTIONS = {s.option[2:].replace("-", "_"): s for s in config_module.SETTINGS if s.option}


def _setting_options(command: Any) -> Any:
    """Add an option for each setting the table gives one (values are read as URL text)."""
    for setting in reversed([s for s in config_module.SETTINGS if s.option]):
        option = click.option(setting.option, metavar=setting.kind.metavar, help=setting.help)
        command = option(command)
    return command


@main.command("train")
@click.option("--state", help='A Playground URL hash or query: "activation=relu&networkShape=4,2&...".')
@click.option("--epochs", type=click.IntRange(0, 1_000_000), default=100, show_default=True)
@_setting_options
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Train on the points of a data file (CSV: columns x, y, label); the seed still shuffles "
                   "and splits them.")
@click.option("--reference", is_flag=True,
              help="Train with the readable reference engine (slower; the same numbers as the default).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--every", type=click.IntRange(1), default=None, help="Table: print every Nth epoch.")
def train_command(state: str | None, epochs: int, reference: bool, fmt: str, every: int | None,
                  data_file: Path | None, **options: Any) -> None:  # fmt: skip
    """Train one network headless and print its losses and accuracies (or everything, as JSON)."""
    from courseware.experiment import Experiment

    _warn_plugin_failures()
    registry = get_host().registry
    if data_file is not None:
        registry, name = _with_data_file(registry, data_file)
        if options.get("dataset") is not None:
            raise CoursewareError("--data and --dataset both name the data: give one of them")
        options["dataset"] = name
    config = config_module.default(registry)
    if state:
        config, errors = config_module.parse(_query_pairs(state), registry=registry, base=config, text=True)
        if errors:
            raise CoursewareError(f"--state {errors[0]}")
    changes = {setting.name: value for name, setting in _TRAIN_OPTIONS.items()
               if (value := options.get(name)) is not None}  # fmt: skip
    if changes:
        if "dataset" in changes:
            registry.dataset(changes["dataset"])  # an unknown name lists the known ones
        changes = route_dataset(changes, registry)
        config, errors = config_module.parse(changes, registry=registry, base=config, text=True)
        if errors:
            raise CoursewareError(f"--{_option_for(errors[0].key)}: {errors[0].reason}")

    experiment = Experiment(config, registry, reference=reference)
    initial = (experiment.params.weights(), experiment.params.biases())
    show_progress = fmt == "table" and epochs >= 200 and sys.stderr.isatty()
    if show_progress:
        with click.progressbar(length=epochs, label="training", file=sys.stderr) as bar:
            for _ in range(epochs):
                experiment.step(1)
                bar.update(1)
    else:
        experiment.step(epochs)

    if fmt == "json":
        payload = {
            "config": experiment.config.to_dict(),
            "query": experiment.config.to_query(registry),
            "losses": [[_json_number(t), _json_number(v)] for t, v in experiment.history.pairs()],
            "accuracy": _accuracies(experiment),
            "initial": {"weights": initial[0], "biases": initial[1]},
            "final": {
                "weights": experiment.params.weights(),
                "biases": experiment.params.biases(),
                "dead": [link for link, dead in experiment.params.dead_links().items() if dead],
            },
            "data": {
                "train": experiment.points.train.tolist(),
                "test": experiment.points.test.tolist(),
            },
            "diverged": experiment.diverged,
        }
        click.echo(json.dumps(_clean(payload)))
        return
    _print_table(experiment, epochs, every)


def _print_table(experiment: Any, epochs: int, every: int | None) -> None:
    from courseware.jsmath import js_to_fixed

    history = experiment.history.pairs()
    step = every or max(1, epochs // 10)
    rows = [i for i in range(0, len(history), step)]
    if rows[-1] != len(history) - 1:
        rows.append(len(history) - 1)
    click.echo(f"{'epoch':>7}  {'train loss':>10}  {'test loss':>10}")
    for i in rows:
        train, test = history[i]
        click.echo(f"{i:>7}  {js_to_fixed(train, 3):>10}  {js_to_fixed(test, 3):>10}")
    accuracy = _accuracies(experiment)
    if accuracy is not None:
        click.echo(f"accuracy: training {_percent(accuracy['train'])}, test {_percent(accuracy['test'])}")
        width = max(len(c["class"]) for c in accuracy["classes"])
        for row in accuracy["classes"]:
            click.echo(f"  class {row['class']:<{width}}  training {_percent(row['train']):>6}, "
                       f"test {_percent(row['test']):>6}")  # fmt: skip
    if experiment.diverged:
        click.echo("The network diverged (NaN or infinite values): try a smaller learning rate.")
    click.echo(f"state: {experiment.config.to_query(experiment.registry)}")


def _accuracies(experiment: Any) -> dict[str, Any] | None:
    """Accuracy on the training and test points, overall and per class (None for a regression).

    Classes are named as the dataset names them, else -1/+1 for two and 0, 1, ... for more."""
    output = experiment.parts.output
    if not output.classifies:
        return None
    evaluation, dataset = experiment.evaluation, experiment.parts.dataset
    names = dataset.class_labels or (("-1", "+1") if output.classes == 2 else tuple(map(str, range(output.classes))))
    return {
        "train": _json_number(float(evaluation.train_accuracy[0])),
        "test": _json_number(float(evaluation.test_accuracy[0])),
        "classes": [
            {"class": name, "train": _json_number(float(train)), "test": _json_number(float(test))}
            for name, train, test in zip(names, evaluation.train_class_accuracy[0], evaluation.test_class_accuracy[0])
        ],
    }


def _percent(fraction: float | None) -> str:
    from courseware.jsmath import js_to_fixed

    return "n/a" if fraction is None else f"{js_to_fixed(100 * fraction, 1)}%"


def _with_data_file(registry: Any, path: Path) -> tuple[Any, str]:
    """A copy of ``registry`` with the dataset of a data file (its name is the file's stem)."""
    from courseware.datafiles import read_data_file
    from courseware.registry import Registry

    dataset = read_data_file(path, registry)  # a DataError names the row and column
    if dataset.name in registry.names("datasets"):
        raise CoursewareError(f"{path}: a dataset named {dataset.name!r} is installed already; rename the file")
    copy = Registry()
    for _, registration in registry.registrations():
        copy.add(registration.component, registration.plugin)
    copy.add(dataset, str(path))
    return copy, dataset.name


def _query_pairs(state: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(state.strip().lstrip("#?"), keep_blank_values=True))


def _option_for(key: str) -> str:
    option = config_module.SETTING_BY_NAME[key].option if key in config_module.SETTING_BY_NAME else ""
    return option[2:] if option else key


def _json_number(value: float) -> float | None:
    return None if not math.isfinite(value) else value


def _clean(value: Any) -> Any:
    """NaN and infinities become null: JSON has no such numbers."""
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


# -- subcommands defined elsewhere, and plugins' own ---------------------------------------------------

# Each of courseware's own commands defined in another module, by name: the module is imported when the
# command runs (or --help lists it), so `courseware train` loads neither the lessons nor the server.
LAZY_COMMANDS = {
    "check": "courseware.lessons.commands",
    "measure": "courseware.lessons.commands",
    "run": "courseware.lessons.commands",
    "new": "courseware.lessons.commands",
    "serve": "courseware.server.commands",
}
