"""The experiment configuration: every setting, validated, in the Playground's vocabulary.

One :class:`Config` describes an experiment completely: a URL (``?dataset=xor&networkShape=4,2&seed=
0.12345...``), a lesson's ``start:`` block and ``courseware train --state`` all produce one, and a
config reproduces its experiment exactly. Setting names are the Playground's own (``batchSize``,
``networkShape``, ...) so that instructors and URLs share one vocabulary.

``Config``'s body is the settings table: each field is declared with
:func:`courseware.settings.entry`, which says how the setting is read, bounded, written, worded,
controlled and applied (see :mod:`courseware.settings`). :data:`SETTINGS` is that table, and
everything else reads it.

Two ways in:

* :func:`parse` collects every problem in a mapping as :class:`~courseware.errors.ConfigError`\\ s,
  for lesson files and the CLI (strict callers raise them).
* :meth:`Config.from_query` is lenient, for URLs: a bad value is dropped with a notice and the
  rest of the URL still applies.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote

from courseware.components import Dataset, OutputLayer, resolve_output
from courseware.data import DataError, drawn_dataset, drawn_points
from courseware.errors import ConfigError
from courseware.jsmath import js_bool, js_to_fixed
from courseware.registry import Registry
from courseware.settings import (
    DEFAULT_LIMITS,
    DISPLAY,
    HIDABLE_CONTROLS,
    INERT_KEYS,
    LEARNING_RATES,
    LIVE,
    NEW_SEED,
    NO_REGULARIZATION,
    REGULARIZATION_RATES,
    RESET,
    SHARED,
    VARIES,
    Choice,
    Control,
    DatasetChoice,
    Effect,
    Flag,
    Limits,
    Names,
    Number,
    OptionalText,
    Points,
    Reading,
    Seed,
    Setting,
    Shape,
    Whole,
    component_words,
    constant,
    dataset_default,
    default_features,
    default_optimizer,
    describe_network,
    entry,
    feature_controls,
    feature_words,
    flag_words,
    hidden_words,
    number_words,
    page_limits,
    point_words,
    problem_words,
    shape_controls,
    table_of,
    to_bool,
)


@dataclass(frozen=True)
class Config:
    """A complete, validated experiment (see the module docstring). Build with :func:`default`.

    The fields are the settings table, in the Playground's URL order (``state.ts``'s ``PROPS``),
    then this project's own settings.
    """

    activation: str = entry(
        kind=Choice("activations"),
        default=lambda r: r.default_activation().name,
        effect=RESET,
        cohort=VARIES,
        words=component_words("activations", "the {} activation"),
        controls=("activation",),
        option="--activation",
        help="Hidden-layer activation.",
    )
    regularization: str = entry(
        kind=Choice("regularizers", none=(NO_REGULARIZATION, "None")),
        default=constant(NO_REGULARIZATION),
        effect=RESET,
        cohort=VARIES,
        words=component_words("regularizers", "{} regularization", none="no regularization"),
        controls=("regularization",),
        option="--regularization",
        help='"none" or a regularizer name.',
        always_in_url=False,
    )
    batchSize: int = entry(
        kind=Whole("min_batch_size", "max_batch_size"),
        default=constant(10),
        effect=RESET,
        cohort=SHARED,
        words=number_words("batch size {}"),
        controls=("batchSize",),
        option="--batch-size",
        help="Points per update.",
    )
    dataset: str = entry(
        kind=DatasetChoice(),
        default=dataset_default("dataset"),
        effect=NEW_SEED,
        cohort=VARIES,
        words=component_words("datasets", "the {} dataset"),
        controls=("dataset",),
        option="--dataset",
        help="Dataset name (of any problem type; the problem type follows).",
    )
    regDataset: str = entry(
        kind=DatasetChoice(),
        default=dataset_default("regDataset"),
        effect=NEW_SEED,
        cohort=VARIES,
        words=component_words("datasets", "the {} dataset"),
        controls=("dataset",),
    )
    learningRate: float = entry(
        kind=Number(0, "max_learning_rate", above=True, examples=LEARNING_RATES),
        default=constant(0.03),
        effect=LIVE,
        cohort=VARIES,
        words=number_words("learning rate {}"),
        controls=("learningRate",),
        option="--learning-rate",
        help="The learning rate, e.g. 0.03.",
    )
    regularizationRate: float = entry(
        kind=Number(0, "max_regularization_rate", examples=REGULARIZATION_RATES),
        default=constant(0.0),
        effect=RESET,
        cohort=VARIES,
        words=number_words("regularization rate {}"),
        controls=("regularizationRate",),
        option="--regularization-rate",
        help="The regularization rate, e.g. 0.001.",
    )
    noise: float = entry(
        kind=Number(0, "max_noise", percent=True),
        default=constant(0),
        effect=NEW_SEED,
        cohort=VARIES,
        words=number_words("noise {}"),
        controls=("noise",),
        option="--noise",
        help="Noise percentage, 0-80.",
    )
    networkShape: tuple[int, ...] = entry(
        kind=Shape(),
        default=constant((4, 2)),
        effect=RESET,
        cohort=SHARED,
        words=lambda value, registry: describe_network(value),
        controls=("numHiddenLayers", "neurons"),
        needs=shape_controls,
        option="--network-shape",
        help='Hidden layer sizes, e.g. "4,2" ("" for none).',
    )
    seed: str = entry(
        kind=Seed(),
        default=constant(""),
        effect=NEW_SEED,
        cohort=VARIES,
        words=lambda value, registry: "new data and starting weights",
        option="--seed",
        help="The seed string (the Playground's seed= value).",
    )
    showTestData: bool = entry(
        kind=Flag(),
        default=constant(False),
        effect=DISPLAY,
        cohort=VARIES,
        words=flag_words("“Show test data” on", "“Show test data” off"),
        controls=("showTestData",),
    )
    discretize: bool = entry(
        kind=Flag(),
        default=constant(False),
        effect=DISPLAY,
        cohort=VARIES,
        words=flag_words("“Discretize output” on", "“Discretize output” off"),
        controls=("discretize",),
    )
    percTrainData: float = entry(
        kind=Number("min_perc_train", "max_perc_train", percent=True),
        default=constant(50),
        effect=NEW_SEED,
        cohort=SHARED,
        words=number_words("{}% of the points for training"),
        controls=("percTrainData",),
        option="--perc-train",
        help="Percentage of points used for training.",
    )
    features: tuple[str, ...] = entry(
        kind=Names("feature"),
        default=default_features,
        effect=RESET,
        cohort=SHARED,
        words=feature_words,
        controls=("features",),
        needs=feature_controls,
        option="--features",
        help='Enabled input features, e.g. "x,y,xSquared".',
    )
    collectStats: bool = entry(
        kind=Flag(),
        default=constant(False),
        effect=DISPLAY,
        cohort=VARIES,
        words=flag_words("statistics collected", "no statistics collected"),
    )
    tutorial: str | None = entry(
        kind=OptionalText(),
        default=constant(None),
        effect=DISPLAY,
        cohort=VARIES,
        words=lambda value, registry: f"the tutorial {value}" if value else "no tutorial",
        always_in_url=False,
        not_in_lessons="a lesson is the tutorial",
    )
    problem: str = entry(
        kind=Choice("problems"),
        default=lambda r: r.default_problem().name,
        effect=NEW_SEED,
        cohort=SHARED,
        words=problem_words,
        controls=("problem",),
        option="--problem",
        help="The problem type, e.g. classification or regression.",
    )
    initZero: bool = entry(
        kind=Flag(),
        default=constant(False),
        effect=RESET,
        cohort=VARIES,
        words=flag_words("every weight starting at zero", "random starting weights"),
    )
    hideText: bool = entry(
        kind=Flag(),
        default=constant(False),
        effect=DISPLAY,
        cohort=VARIES,
        words=flag_words("the page's text hidden", "the page's text shown"),
    )
    loss: str = entry(
        kind=Choice("losses", empty=True),
        default=constant(""),
        effect=RESET,
        cohort=SHARED,
        words=component_words("losses", "the {} loss", none="the output's own loss"),
        option="--loss",
        help='The loss, e.g. "cross-entropy" (default: the output head\'s own).',
        always_in_url=False,
    )
    optimizer: str = entry(
        kind=Choice("optimizers"),
        default=default_optimizer,
        effect=RESET,
        cohort=VARIES,
        words=component_words("optimizers", "the {} optimizer"),
        controls=("optimizer",),
        option="--optimizer",
        help='How the weights step: "sgd" (the Playground\'s, default), "momentum", "adam".',
        always_in_url=False,
    )
    points: tuple[tuple[float, float, float], ...] = entry(
        kind=Points(),
        default=constant(()),
        effect=NEW_SEED,
        cohort=VARIES,
        words=point_words,
        controls=("drawing",),
        always_in_url=False,
    )
    hidden: tuple[str, ...] = entry(
        kind=Names("control"),
        default=constant(()),
        effect=DISPLAY,
        cohort=VARIES,
        words=hidden_words,
        not_in_lessons="use the lesson's controls: hidden list",
    )

    limits: Limits = field(default=DEFAULT_LIMITS, compare=False, repr=False)
    """The limits the values were checked against; a change is checked against them too."""

    # -- derived ----------------------------------------------------------------------------------

    def dataset_name(self, registry: Registry) -> str:
        """The dataset the current problem type's field names (``dataset``/``regDataset``); drawn
        ``points``, when there are any, are used instead of it (see :meth:`used_dataset`)."""
        return getattr(self, registry.problem(self.problem).dataset_field)

    def used_dataset(self, registry: Registry) -> Dataset:
        """The dataset in use: the drawn points, if any, else the one :meth:`dataset_name` names."""
        problem = registry.problem(self.problem)
        if self.points:
            return drawn_dataset(self.points, problem)
        return registry.dataset(getattr(self, problem.dataset_field))

    def output_layer(self, registry: Registry) -> OutputLayer:
        """The output layer this configuration trains: its head, loss and classes (see
        :func:`courseware.components.resolve_output`)."""
        problem = registry.problem(self.problem)
        return resolve_output(registry, problem, self.used_dataset(registry), self.loss)

    def with_changes(self, registry: Registry, **changes: Any) -> Config:
        """A copy with ``changes`` applied and validated against this config's limits (raises
        :class:`ConfigError`)."""
        config, errors = parse(changes, registry=registry, base=self)
        if errors:
            raise errors[0]
        return config

    def changed(self, other: Config) -> set[str]:
        """The settings whose values differ between this config and ``other``."""
        return {s.name for s in SETTINGS if getattr(self, s.name) != getattr(other, s.name)}

    # -- serialising ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the table's order; tuples as lists."""
        data = asdict(self)
        del data["limits"]
        for name in ("networkShape", "features", "hidden"):
            data[name] = list(data[name])
        data["points"] = [list(p) for p in self.points]
        return data

    def to_query(self, registry: Registry) -> str:
        """The Playground's hash vocabulary: ``activation=tanh&batchSize=10&...`` in its order.

        Every feature is written as a key of its own (``x=true&y=false``) and each hidden control as
        ``<name>_hide=true``; settings the Playground did not have appear only when they differ
        from their default, so every URL of the original stays as it was."""
        parts: list[tuple[str, str]] = []
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if setting.name == "features":
                parts += [(f.name, js_bool(f.name in value)) for f in registry.all("features")]
            elif setting.name == "hidden":
                parts += [(f"{name}_hide", "true") for name in value]
            elif setting.always_in_url or value != setting.default_value(registry):
                parts.append((setting.name, setting.kind.write(value)))
        return "&".join(f"{k}={quote(v, safe=',.-_~:')}" for k, v in parts)

    @classmethod
    def from_query(
        cls,
        query: str | Mapping[str, str],
        registry: Registry,
        limits: Limits | None = None,
    ) -> tuple[Config, list[str]]:
        """Read a URL query or hash leniently: returns the config and a notice per ignored value.

        ``limits`` defaults to this process's :func:`~courseware.settings.page_limits`."""
        limits = limits if limits is not None else page_limits()
        if isinstance(query, str):
            mapping = dict(parse_qsl(query.lstrip("#?"), keep_blank_values=True))
        else:
            mapping = dict(query)
        config, errors = parse(
            mapping,
            registry=registry,
            base=default(registry, limits=limits),
            limits=limits,
            text=True,
            lenient=True,
        )
        return config, [f"ignored {e}" for e in errors]


SETTINGS: tuple[Setting, ...] = table_of(Config)
"""The settings table: one :class:`~courseware.settings.Setting` per field of :class:`Config`."""
SETTING_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def settings_with(effect: Effect) -> frozenset[str]:
    """The settings whose change has ``effect`` on a running experiment."""
    return frozenset(s.name for s in SETTINGS if s.effect is effect)


COHORT_SHARED = tuple(s.name for s in SETTINGS if s.cohort is SHARED)
"""The settings the members of one cohort must share (they fix the architecture or the lockstep)."""
TRAINING_SETTINGS = tuple(s.name for s in SETTINGS if s.effect is not DISPLAY)
"""The settings that make an experiment what it is (all but the display's)."""


_SHOWN_ONLY: dict[str, Any] = {s.name: s.default for s in SETTINGS if s.effect is DISPLAY}
if not all(
    isinstance(d, constant) for d in _SHOWN_ONLY.values()
):  # pragma: no cover - a table mistake
    raise TypeError("a display setting's default must be a constant(...): training_config sets it")


def training_config(config: Config) -> Config:
    """``config`` with every display setting at its default: two experiments that differ only in
    what is shown compare equal."""
    shown_only = {name: default.value for name, default in _SHOWN_ONLY.items()}
    return replace(config, **shown_only)


def widgets_in(area: str) -> list[tuple[Control, Setting]]:
    """The widgets a page builds from the table for one area (``top``, ``data``, ``output``), in
    their order, each with its setting."""
    found = [(s.widget, s) for s in SETTINGS if s.widget is not None and s.widget.area == area]
    return sorted(found, key=lambda pair: pair[0].order)  # type: ignore[union-attr,return-value]


def default(registry: Registry, seed: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Config:
    """Every setting's default (the default components come from the plugins that registered
    them)."""
    values = {s.name: s.default_value(registry) for s in SETTINGS}
    values["seed"] = seed if seed is not None else new_seed()
    return Config(**values, limits=limits)


def new_seed() -> str:
    """A fresh seed string as the Playground makes one: ``Math.random().toFixed(5)``."""
    return js_to_fixed(random.random(), 5)


# -- parsing ---------------------------------------------------------------------------------------


def parse(
    mapping: Mapping[str, Any],
    *,
    registry: Registry,
    base: Config | None = None,
    limits: Limits | None = None,
    text: bool = False,
    lenient: bool = False,
) -> tuple[Config, list[ConfigError]]:
    """Apply ``mapping`` (Playground keys) on top of ``base`` and validate it.

    Returns the resulting config and every problem found; a key with a bad value keeps the base
    value. ``text`` means values are URL strings (``"true"``, ``"4,2"``). ``lenient`` follows the
    Playground's URL rules where they are looser (any non-``false`` boolean is true; a ``*_hide``
    flag is only on when ``true``). ``limits`` (default: the base's) bound the values and travel
    with the result.
    """
    limits = limits if limits is not None else (base.limits if base is not None else DEFAULT_LIMITS)
    base = base or default(registry, limits=limits)
    reading = Reading(registry, limits, text, lenient)
    errors: list[ConfigError] = []
    changes: dict[str, Any] = {}
    feature_names = registry.names("features")
    features = dict.fromkeys(base.features, True)
    hidden = dict.fromkeys(base.hidden, True)

    for raw_key, value in mapping.items():
        key = str(raw_key)
        try:
            if key.endswith("_hide"):
                name = key[: -len("_hide")]
                if name not in HIDABLE_CONTROLS and name not in feature_names:
                    raise ConfigError(key, "a hidable control: " + ", ".join(HIDABLE_CONTROLS))
                hidden[name] = (value == "true") if text and lenient else to_bool(key, value)
            elif key in INERT_KEYS:
                to_bool(key, value)
            elif key in feature_names:
                features[key] = to_bool(key, value, lenient)
            elif key == "features":
                features = dict.fromkeys(SETTING_BY_NAME[key].kind.read(key, value, reading), True)
            elif key == "hidden":
                hidden = dict.fromkeys(SETTING_BY_NAME[key].kind.read(key, value, reading), True)
            elif key in SETTING_BY_NAME:
                changes[key] = SETTING_BY_NAME[key].kind.read(key, value, reading)
            else:
                known = [*SETTING_BY_NAME, *feature_names, "<control>_hide"]
                raise ConfigError(key, "unknown setting; known settings: " + ", ".join(known))
        except ConfigError as exc:
            errors.append(exc)

    config = replace(
        base,
        **changes,
        features=tuple(n for n in feature_names if features.get(n)),
        hidden=tuple(n for n, on in hidden.items() if on),
        limits=limits,
    )
    config, more = _check_consistency(config, base, registry)
    return config, errors + more


def from_mapping(
    mapping: Mapping[str, Any],
    registry: Registry,
    base: Config | None = None,
    limits: Limits | None = None,
) -> Config:
    """Strict: build a config from typed values (YAML, JSON, keyword arguments) or raise the first
    error."""
    config, errors = parse(mapping, registry=registry, base=base, limits=limits)
    if errors:
        raise errors[0]
    return config


def _check_consistency(
    config: Config, base: Config, registry: Registry
) -> tuple[Config, list[ConfigError]]:
    """Datasets must suit their field's problem type, drawn points the problem type, and some head
    must serve the problem type, the data's classes and the loss."""
    errors: list[ConfigError] = []
    for problem in registry.all("problems"):
        field_name = problem.dataset_field
        name = getattr(config, field_name, None)
        if name is None:
            continue
        dataset = registry.dataset(name)
        if dataset.problem != problem.name:
            suitable = ", ".join(d.name for d in registry.datasets_for(problem.name))
            errors.append(
                ConfigError(
                    field_name,
                    f"{name!r} is a {dataset.problem} dataset; {field_name} "
                    f"takes a {problem.name} dataset: {suitable}",
                )
            )
            config = replace(config, **{field_name: getattr(base, field_name)})
    if config.points:
        try:
            drawn_points(config.points, classifies=registry.problem(config.problem).classifies)
        except DataError as exc:
            errors.append(ConfigError("points", f"{exc} (for a {config.problem} problem)"))
            config = replace(config, points=())
    try:
        config.output_layer(registry)
    except ConfigError as exc:
        errors.append(exc)
        config = replace(config, loss="")
    return config, errors
