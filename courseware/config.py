"""The experiment configuration: every Playground state field, validated, in the Playground's vocabulary.

One :class:`Config` describes an experiment completely: a URL (``?dataset=xor&networkShape=4,2&seed=
0.12345...``), a lesson's ``start:`` block and ``courseware train --state`` all produce one, and a
config reproduces its experiment exactly. Field names are the Playground's own (``batchSize``,
``networkShape``, ...) so that instructors and URLs share one vocabulary.

Two ways in:

* :func:`parse` collects every problem in a mapping as :class:`~courseware.errors.ConfigError`\\ s,
  for lesson files and the CLI (strict callers raise them).
* :meth:`Config.from_query` is lenient, for URLs: a bad value is dropped with a notice and the
  rest of the URL still applies.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl

from courseware.components import Dataset
from courseware.data import DataError, drawn_dataset, drawn_points, encode_points
from courseware.engine import OutputLayer, resolve_output
from courseware.errors import ConfigError, LimitError
from courseware.plugins import Registry, get_registry
from courseware.rng import js_to_fixed

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
NO_REGULARIZATION = "none"

# The Playground's hidable controls (`<name>_hide=true`), plus this project's own.
HIDABLE_CONTROLS = (
    "showTestData",
    "discretize",
    "playButton",
    "stepButton",
    "resetButton",
    "learningRate",
    "activation",
    "regularization",
    "regularizationRate",
    "problem",
    "dataset",
    "percTrainData",
    "noise",
    "batchSize",
    "numHiddenLayers",
    "optimizer",
)
# Fields of the Playground's URL that never had an effect; accepted and ignored.
INERT_KEYS = ("cosX", "cosY")


@dataclass(frozen=True)
class Limits:
    """Bounds on what a configuration may ask for, checked before anything is allocated.

    The defaults are the Playground's UI limits; a lesson (``limits:``) or a deployment
    (``courseware serve --max-neurons ...``) may widen the network's size and the batch size with
    :meth:`widened`, never beyond :data:`HARD_LIMITS`.
    """

    max_hidden_layers: int = 6
    max_neurons: int = 8
    min_batch_size: int = 1
    max_batch_size: int = 30
    min_perc_train: float = 10
    max_perc_train: float = 90
    max_noise: float = 80
    max_learning_rate: float = 10
    max_regularization_rate: float = 10
    max_seed_length: int = 64

    def widened(self, *, layers: int | None = None, neurons: int | None = None,
                batch_size: int | None = None, key: str = "limits") -> Limits:  # fmt: skip
        """These limits with new maxima for hidden layers, neurons per layer and batch size, each at
        most :data:`HARD_LIMITS`' (a :class:`LimitError` under ``key`` says which is too high)."""
        changes = {}
        for name, value, field_name, hard in (
            ("layers", layers, "max_hidden_layers", HARD_LIMITS.max_hidden_layers),
            ("neurons", neurons, "max_neurons", HARD_LIMITS.max_neurons),
            ("batchSize", batch_size, "max_batch_size", HARD_LIMITS.max_batch_size),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key}.{name}", f"{value!r} is not a whole number of at least 1")
            if value > hard:
                raise LimitError(f"{key}.{name}", f"{value} is more than the hard limit of {hard}, which protects "
                                 "the server")  # fmt: skip
            changes[field_name] = value
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
HARD_LIMITS = Limits(max_hidden_layers=10, max_neurons=16, max_batch_size=1000)
"""How far a lesson or ``courseware serve`` may raise the network's size and the batch size: a page
trains its network and draws every node's 100×100 map each frame, and 10 layers of 16 neurons keep a
frame to a few milliseconds on one core."""

_page_limits = DEFAULT_LIMITS


def page_limits() -> Limits:
    """The limits this process's pages apply to URLs and controls (``courseware serve`` may widen
    them): :data:`DEFAULT_LIMITS` unless :func:`set_page_limits` was called."""
    return _page_limits


def set_page_limits(limits: Limits) -> None:
    """Set the limits this process's pages apply (``courseware serve --max-neurons ...``), before the
    server starts its workers. Each maximum must lie within :data:`HARD_LIMITS`."""
    global _page_limits
    HARD_LIMITS.widened(layers=limits.max_hidden_layers, neurons=limits.max_neurons,
                        batch_size=limits.max_batch_size)  # fmt: skip
    _page_limits = limits


@dataclass(frozen=True)
class Config:
    """A complete, validated experiment (see the module docstring). Build with :func:`default`."""

    activation: str
    regularization: str
    batchSize: int
    dataset: str
    regDataset: str
    learningRate: float
    regularizationRate: float
    noise: float
    networkShape: tuple[int, ...]
    seed: str
    showTestData: bool
    discretize: bool
    percTrainData: float
    features: tuple[str, ...]
    collectStats: bool
    tutorial: str | None
    problem: str
    initZero: bool
    hideText: bool
    hidden: tuple[str, ...] = field(default=())
    loss: str = ""
    optimizer: str = ""
    points: tuple[tuple[float, float, float], ...] = ()
    limits: Limits = field(default=DEFAULT_LIMITS, compare=False, repr=False)

    # -- derived ----------------------------------------------------------------------------------

    def dataset_name(self, registry: Registry | None = None) -> str:
        """The dataset the current problem type's field names (``dataset``/``regDataset``); drawn
        ``points``, when there are any, are used instead of it (see :meth:`used_dataset`)."""
        registry = registry or get_registry()
        return getattr(self, registry.problem(self.problem).dataset_field)

    def used_dataset(self, registry: Registry | None = None) -> Dataset:
        """The dataset in use: the drawn points, if any, else the one :meth:`dataset_name` names."""
        registry = registry or get_registry()
        problem = registry.problem(self.problem)
        if self.points:
            return drawn_dataset(self.points, problem)
        return registry.dataset(getattr(self, problem.dataset_field))

    def output_layer(self, registry: Registry | None = None) -> OutputLayer:
        """The output layer this configuration trains: its head, loss and classes (see
        :func:`courseware.engine.resolve_output`)."""
        registry = registry or get_registry()
        return resolve_output(registry, registry.problem(self.problem), self.used_dataset(registry), self.loss)

    def with_changes(self, registry: Registry | None = None, **changes: Any) -> Config:
        """A copy with ``changes`` applied and validated against this config's limits (raises
        :class:`ConfigError`)."""
        config, errors = parse(changes, registry=registry, base=self)
        if errors:
            raise errors[0]
        return config

    # -- serialising ------------------------------------------------------------------------------

    def to_dict(self, registry: Registry | None = None) -> dict[str, Any]:
        """JSON-ready, in the Playground's key order; features as a list in network order."""
        data = asdict(self)
        del data["limits"]
        data["networkShape"] = list(self.networkShape)
        data["features"] = list(self.features)
        data["hidden"] = list(self.hidden)
        data["points"] = [list(p) for p in self.points]
        return data

    def to_query(self, registry: Registry | None = None) -> str:
        """The Playground's hash vocabulary: ``activation=tanh&batchSize=10&...`` in its order."""
        registry = registry or get_registry()
        parts: list[tuple[str, str]] = [("activation", self.activation)]
        if self.regularization != NO_REGULARIZATION:
            parts.append(("regularization", self.regularization))
        parts += [
            ("batchSize", str(self.batchSize)),
            ("dataset", self.dataset),
            ("regDataset", self.regDataset),
            ("learningRate", js_number(self.learningRate)),
            ("regularizationRate", js_number(self.regularizationRate)),
            ("noise", js_number(self.noise)),
            ("networkShape", ",".join(str(n) for n in self.networkShape)),
            ("seed", self.seed),
            ("showTestData", _js_bool(self.showTestData)),
            ("discretize", _js_bool(self.discretize)),
            ("percTrainData", js_number(self.percTrainData)),
        ]
        parts += [(f.name, _js_bool(f.name in self.features)) for f in registry.all("features")]
        parts.append(("collectStats", _js_bool(self.collectStats)))
        if self.tutorial is not None:
            parts.append(("tutorial", self.tutorial))
        parts += [
            ("problem", self.problem),
            ("initZero", _js_bool(self.initZero)),
            ("hideText", _js_bool(self.hideText)),
        ]
        # This project's own keys, only when they differ from the Playground's behaviour: every URL of
        # the original stays as it was.
        if self.loss:
            parts.append(("loss", self.loss))
        if self.optimizer and self.optimizer != _default_optimizer(registry):
            parts.append(("optimizer", self.optimizer))
        if self.points:
            parts.append(("points", encode_points(self.points)))
        parts += [(f"{name}_hide", "true") for name in self.hidden]
        return "&".join(f"{k}={_quote(v)}" for k, v in parts)

    @classmethod
    def from_query(
        cls,
        query: str | Mapping[str, str],
        registry: Registry | None = None,
        limits: Limits | None = None,
    ) -> tuple[Config, list[str]]:
        """Read a URL query or hash leniently: returns the config and a notice per ignored value.

        ``limits`` defaults to this process's :func:`page_limits`."""
        registry = registry or get_registry()
        limits = limits if limits is not None else page_limits()
        if isinstance(query, str):
            pairs = parse_qsl(query.lstrip("#?"), keep_blank_values=True)
            mapping = dict(pairs)
        else:
            mapping = dict(query)
        config, errors = parse(mapping, registry=registry, base=default(registry, limits=limits), limits=limits,
                               text=True, lenient=True)  # fmt: skip
        return config, [f"ignored {e}" for e in errors]


def default(registry: Registry | None = None, seed: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Config:
    """The Playground's defaults; the default components come from the plugins that registered them."""
    registry = registry or get_registry()
    problem = registry.default_problem()
    dataset_fields = {p.dataset_field: p.default_dataset for p in registry.all("problems")}
    return Config(
        activation=registry.default_activation().name,
        regularization=NO_REGULARIZATION,
        batchSize=10,
        dataset=dataset_fields.get("dataset", ""),
        regDataset=dataset_fields.get("regDataset", ""),
        learningRate=0.03,
        regularizationRate=0.0,
        noise=0,
        networkShape=(4, 2),
        seed=seed if seed is not None else new_seed(),
        showTestData=False,
        discretize=False,
        percTrainData=50,
        features=tuple(f.name for f in registry.all("features") if f.default),
        collectStats=False,
        tutorial=None,
        problem=problem.name,
        initZero=False,
        hideText=False,
        optimizer=_default_optimizer(registry),
        limits=limits,
    )


def _default_optimizer(registry: Registry) -> str:
    optimizers = registry.all("optimizers")
    return next((o.name for o in optimizers if o.default), optimizers[0].name if optimizers else "")


def new_seed() -> str:
    """A fresh seed string as the Playground makes one: ``Math.random().toFixed(5)``."""
    return js_to_fixed(random.random(), 5)


# -- parsing ----------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_FIELD_NAMES = {f.name for f in fields(Config)} - {"limits"}


def parse(
    mapping: Mapping[str, Any],
    *,
    registry: Registry | None = None,
    base: Config | None = None,
    limits: Limits | None = None,
    text: bool = False,
    lenient: bool = False,
) -> tuple[Config, list[ConfigError]]:
    """Apply ``mapping`` (Playground keys) on top of ``base`` and validate it.

    Returns the resulting config and every problem found; a key with a bad value keeps the base value.
    ``text`` means values are URL strings (``"true"``, ``"4,2"``). ``lenient`` follows the Playground's
    URL rules where they are looser (any non-``false`` boolean is true; a ``*_hide`` flag is only on
    when ``true``). ``limits`` (default: the base's) bound the values and travel with the result.
    """
    registry = registry or get_registry()
    limits = limits if limits is not None else (base.limits if base is not None else DEFAULT_LIMITS)
    base = base or default(registry, limits=limits)
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
                    raise ConfigError(key, _allowed("a hidable control", HIDABLE_CONTROLS))
                hidden[name] = (value == "true") if text and lenient else _to_bool(key, value, text)
            elif key in INERT_KEYS:
                _to_bool(key, value, text)
            elif key in feature_names:
                features[key] = _to_bool(key, value, text, lenient)
            elif key == "features":
                names = _to_list(key, value, text)
                unknown = [n for n in names if n not in feature_names]
                if unknown:
                    raise ConfigError(key, f"unknown feature {unknown[0]!r}; " + _allowed("", feature_names))
                features = dict.fromkeys(names, True)
            elif key == "hidden":
                names = _to_list(key, value, text)
                bad = [n for n in names if n not in HIDABLE_CONTROLS and n not in feature_names]
                if bad:
                    raise ConfigError(key, f"unknown control {bad[0]!r}; " + _allowed("", HIDABLE_CONTROLS))
                hidden = dict.fromkeys(names, True)
            elif key in _FIELD_NAMES:
                changes[key] = _parse_field(key, value, registry, limits, text, lenient)
            else:
                raise ConfigError(key, "unknown setting; " + _allowed("known settings", _known_keys(registry)))
        except ConfigError as exc:
            errors.append(exc)

    enabled = tuple(n for n in feature_names if features.get(n))
    config = replace(
        base,
        **changes,
        features=enabled,
        hidden=tuple(n for n, on in hidden.items() if on),
        limits=limits,
    )
    config, more = _check_consistency(config, base, registry)
    return config, errors + more


def from_mapping(
    mapping: Mapping[str, Any],
    registry: Registry | None = None,
    base: Config | None = None,
    limits: Limits | None = None,
) -> Config:
    """Strict: build a config from typed values (YAML, JSON, keyword arguments) or raise the first error."""
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
            suitable = [d.name for d in registry.datasets_for(problem.name)]
            errors.append(
                ConfigError(
                    field_name,
                    f"{name!r} is a {dataset.problem} dataset; {field_name} takes a {problem.name} "
                    f"dataset: {', '.join(suitable)}",
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


def _parse_field(
    key: str, value: Any, registry: Registry, limits: Limits, text: bool, lenient: bool
) -> Any:
    if key == "activation":
        return _choice(key, value, registry.names("activations"))
    if key == "regularization":
        return _choice(key, value, [NO_REGULARIZATION, *registry.names("regularizers")])
    if key == "problem":
        return _choice(key, value, registry.names("problems"))
    if key in ("dataset", "regDataset"):
        problems = [p for p in registry.all("problems") if p.dataset_field == key]
        names = [d.name for p in problems for d in registry.datasets_for(p.name)]
        if isinstance(value, str) and value not in names and value in registry.names("datasets"):
            other = registry.dataset(value).problem
            field = registry.problem(other).dataset_field
            raise ConfigError(
                key,
                f"{value!r} is a {other} dataset: set {field}: {value} and problem: {other} "
                f"(the {key} setting takes one of {', '.join(names)})",
            )
        return _choice(key, value, names)
    if key == "batchSize":
        return _integer(key, value, text, limits.min_batch_size, limits.max_batch_size)
    if key == "learningRate":
        number = _number(key, value, text)
        if not 0 < number <= limits.max_learning_rate:
            raise ConfigError(
                key,
                f"{value!r} is out of range; use a number in (0, {js_number(limits.max_learning_rate)}]"
                f", e.g. one of the Playground's {', '.join(js_number(r) for r in LEARNING_RATES)}",
            )
        return number
    if key == "regularizationRate":
        number = _number(key, value, text)
        if not 0 <= number <= limits.max_regularization_rate:
            raise ConfigError(
                key,
                f"{value!r} is out of range; use a number in [0, "
                f"{js_number(limits.max_regularization_rate)}], e.g. one of "
                f"{', '.join(js_number(r) for r in REGULARIZATION_RATES)}",
            )
        return number
    if key == "noise":
        number = _number(key, value, text)
        if not 0 <= number <= limits.max_noise:
            raise ConfigError(key, f"{value!r} is out of range; use a percentage from 0 to {js_number(limits.max_noise)}")
        return _int_if_whole(number)
    if key == "percTrainData":
        number = _number(key, value, text)
        if not limits.min_perc_train <= number <= limits.max_perc_train:
            raise ConfigError(
                key,
                f"{value!r} is out of range; use a percentage from {js_number(limits.min_perc_train)} "
                f"to {js_number(limits.max_perc_train)}",
            )
        return _int_if_whole(number)
    if key == "networkShape":
        return _network_shape(key, value, text, limits)
    if key == "seed":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # YAML reads an unquoted 0.10000 as the number 0.1, and "0.1" is another seed.
            raise ConfigError(
                key, f"{value!r} is a number; a seed is a string (in YAML quote it: seed: \"0.10000\")"
            )
        seed = value if isinstance(value, str) else None
        if seed is None or not seed or len(seed) > limits.max_seed_length or not seed.isprintable():
            raise ConfigError(
                key, f"{value!r} is not a usable seed; use up to {limits.max_seed_length} printable characters"
            )
        return seed
    if key == "tutorial":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ConfigError(key, f"{value!r} is not a tutorial name")
        return value
    if key in ("showTestData", "discretize", "collectStats", "initZero", "hideText"):
        return _to_bool(key, value, text, lenient)
    if key == "loss":
        if value is None or value == "":
            return ""  # the head's own loss
        return _choice(key, value, registry.names("losses"))
    if key == "optimizer":
        return _choice(key, value, registry.names("optimizers"))
    if key == "points":
        if value is None or value == "":
            return ()
        try:
            return drawn_points(value, classifies=None)
        except DataError as exc:
            raise ConfigError(key, str(exc)) from None
    raise ConfigError(key, "cannot be set directly")  # pragma: no cover - features/hidden handled above


def _network_shape(key: str, value: Any, text: bool, limits: Limits) -> tuple[int, ...]:
    if text or isinstance(value, str):
        raw = str(value).strip()
        items: list[Any] = [p.strip() for p in raw.split(",")] if raw else []
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ConfigError(key, f"{value!r} is not a list of layer sizes, e.g. [4, 2] or \"4,2\"")
    if len(items) > limits.max_hidden_layers:
        raise LimitError(
            key, f"{len(items)} hidden layers is more than the limit of {limits.max_hidden_layers}"
        )
    sizes = []
    for item in items:
        size = _integer(key, item, isinstance(item, str), 1, None)
        if size > limits.max_neurons:
            raise LimitError(
                key, f"a layer of {size} neurons is more than the limit of {limits.max_neurons}"
            )
        sizes.append(size)
    return tuple(sizes)


def _choice(key: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _number(key: str, value: Any, text: bool) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise ConfigError(key, f"{value!r} is far too large") from None
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
    else:
        raise ConfigError(key, f"{value!r} is not a number")
    if not math.isfinite(number):
        raise ConfigError(key, f"{value!r} is not a finite number")
    return number


def _integer(key: str, value: Any, text: bool, low: int, high: int | None) -> int:
    number = _number(key, value, text)
    if number != int(number):
        raise ConfigError(key, f"{value!r} is not a whole number")
    whole = int(number)
    if whole < low or (high is not None and whole > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        error = LimitError if high is not None and whole > high else ConfigError
        raise error(key, f"{value!r} is out of range; use a whole number {bounds}")
    return whole


def _to_bool(key: str, value: Any, text: bool, lenient: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if lenient and value != "":
            return True  # the Playground: anything but "false" is true
    raise ConfigError(key, f"{value!r} is not true or false")


def _to_list(key: str, value: Any, text: bool) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(key, f"{value!r} is not a list of names")


def _int_if_whole(number: float) -> float:
    return int(number) if number == int(number) else number


def _known_keys(registry: Registry) -> list[str]:
    keys = [f.name for f in fields(Config) if f.name != "limits"] + registry.names("features")
    return keys + ["<control>_hide"]


def _allowed(what: str, names: Iterable[str]) -> str:
    listed = ", ".join(names)
    return f"{what}: {listed}" if what else f"allowed: {listed}"


def _js_bool(value: bool) -> str:
    return "true" if value else "false"


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe=",.-_~:")


def js_number(value: float) -> str:
    """JavaScript's ``String(number)``: ``10`` not ``10.0``, ``0.00001`` not ``1e-05``."""
    if isinstance(value, bool):
        return str(value).lower()
    number = float(value)
    if not math.isfinite(number):
        return "NaN" if number != number else ("Infinity" if number > 0 else "-Infinity")
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    digits_repr = repr(number)
    mantissa, _, exp = digits_repr.partition("e")
    exponent = int(exp) if exp else 0
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0") or "0"
    point = len(int_part) + exponent - (len(int_part + frac_part) - len((int_part + frac_part).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    # point: position of the decimal point relative to the start of `digits` (JS's n).
    if -6 < point <= 21:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return f"{sign}{digits[:point]}.{digits[point:]}"
    exp_value = point - 1
    head = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{head}e{'+' if exp_value > 0 else '-'}{abs(exp_value)}"
