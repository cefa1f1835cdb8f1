"""What a setting is: the vocabulary of the settings table, and the limits that bound it.

A setting is a field of :class:`~courseware.config.Config` (``learningRate``, ``networkShape``,
...), declared in ``Config``'s body with :func:`entry`; that body is the settings table
(:data:`courseware.config.SETTINGS`). Each row's :class:`Setting` says everything the rest of
courseware needs to know about it:

* how a value is read (a :class:`Kind`: from YAML, JSON, keyword arguments or URL text) and checked
  against the :class:`Limits`, how it is written in a URL, and its default;
* what a change does to a running experiment (:class:`Effect`: a new seed, a reset, the running
  training takes it, or only the display changes), and whether the members of a cohort may differ
  in it (:class:`Sharing`);
* the words a student reads for it ("learning rate 0.1"), the controls a page shows for it
  (:class:`Control`: a menu, a slider, a check box, or a control the page draws itself), its
  ``courseware train`` option, and whether a lesson may set it.

Config parsing and ``to_query``, ``Experiment.apply`` and the cohorts, the CLI's options, the lesson
loader and its words, the page's widgets and the lesson page all read the table; none of them lists
settings of its own. Adding a setting is one row in ``Config``'s body, plus whatever the engine does
with it (``docs/architecture.md`` walks through an example).

Host code: nothing here names a concrete dataset, activation or feature; choices come from the
registry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import Any

from courseware.data import DataError, drawn_points
from courseware.errors import ConfigError, LimitError
from courseware.jsmath import decimal_number, js_bool, js_number
from courseware.registry import Registry

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
NO_REGULARIZATION = "none"
INERT_KEYS = ("cosX", "cosY")
"""Fields of the Playground's URL that never had an effect; accepted and ignored."""


# -- limits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Widening:
    """A limit a lesson (``limits: {layers: 10}``) or a deployment (``courseware serve
    --max-layers 10``) may raise, up to :data:`HARD_LIMITS`."""

    key: str  # in a lesson's limits: mapping
    field: str  # the Limits field
    option: str  # courseware serve's option
    words: str  # what it bounds, for help texts and messages


WIDENINGS = (
    Widening("layers", "max_hidden_layers", "--max-layers", "hidden layers"),
    Widening("neurons", "max_neurons", "--max-neurons", "neurons per layer"),
    Widening("batchSize", "max_batch_size", "--max-batch-size", "points per batch"),
)


@dataclass(frozen=True)
class Limits:
    """Bounds on what a configuration may ask for, checked before anything is allocated.

    The defaults are the Playground's UI limits; a lesson (``limits:``) or a deployment
    (``courseware serve --max-neurons ...``) may raise those in :data:`WIDENINGS` with
    :meth:`widened`, never beyond :data:`HARD_LIMITS`. A configuration carries its limits, so a
    page's controls end where its configuration's limits do.
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

    def widened(self, key: str = "limits", **raised: int | None) -> Limits:
        """These limits with the :data:`WIDENINGS` named by their keys raised (``layers=10``),
        each at most :data:`HARD_LIMITS`'; a :class:`LimitError` under ``key`` says which is too
        high. ``None`` leaves one as it is."""
        changes = {}
        known = {w.key: w for w in WIDENINGS}
        for name, value in raised.items():
            widening = known.get(name)
            if widening is None:
                raise ConfigError(f"{key}.{name}", f"not a limit; limits: {', '.join(known)}")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key}.{name}", f"{value!r} is not a whole number of at least 1")
            hard = getattr(HARD_LIMITS, widening.field)
            if value > hard:
                raise LimitError(
                    f"{key}.{name}",
                    f"{value} is more than the hard limit of {hard}, which protects the server",
                )
            changes[widening.field] = value
        return replace(self, **changes)

    def widest(self, other: Limits) -> Limits:
        """The larger of each widenable limit of these and ``other`` (a lesson's page under a
        widened deployment allows what either allows)."""
        return replace(
            self,
            **{w.field: max(getattr(self, w.field), getattr(other, w.field)) for w in WIDENINGS},
        )


DEFAULT_LIMITS = Limits()
HARD_LIMITS = Limits(max_hidden_layers=10, max_neurons=16, max_batch_size=1000)
"""How far a lesson or ``courseware serve`` may raise the network's size and the batch size: a page
trains its network and draws every node's 100×100 map each frame, and 10 layers of 16 neurons
keep a frame to a few milliseconds on one core."""

_page_limits = DEFAULT_LIMITS


def page_limits() -> Limits:
    """The limits this process's pages apply to URLs and controls (``courseware serve`` may widen
    them): :data:`DEFAULT_LIMITS` unless :func:`set_page_limits` was called."""
    return _page_limits


def set_page_limits(limits: Limits) -> None:
    """Set the limits this process's pages apply (``courseware serve --max-neurons ...``), before
    the server starts its workers. Each maximum must lie within :data:`HARD_LIMITS`."""
    global _page_limits
    HARD_LIMITS.widened(**{w.key: getattr(limits, w.field) for w in WIDENINGS})
    _page_limits = limits


# -- what a change does ----------------------------------------------------------------------------


class Effect(Enum):
    """What changing a setting does to a running experiment (the Playground's reactions)."""

    NEW_SEED = "new seed"
    """A new seed (the one given, else one drawn from the stream), new data, new weights."""
    RESET = "reset"
    """New weights from the continuing stream; epoch 0; the data stays."""
    LIVE = "live"
    """The running training takes the new value; nothing restarts."""
    DISPLAY = "display"
    """Only what the page shows changes."""


class Sharing(Enum):
    """Whether the members of one cohort (networks trained together) may differ in a setting."""

    VARIES = "varies"
    SHARED = "shared"
    """Members must share it: it fixes the architecture or the lockstep."""


# -- controls --------------------------------------------------------------------------------------

MENU, SLIDER, CHECKBOX = "menu", "slider", "checkbox"


@dataclass(frozen=True)
class Control:
    """A control of the playground page, by the name lessons and URLs use for it.

    ``widget`` is the kind of widget the page builds from this table (a menu, a slider, a check
    box), or "" for a control the page draws itself (buttons, the dataset thumbnails, the network's
    +/- buttons, the feature toggles). ``area`` and ``order`` place a widget: ``top`` (the bar),
    ``data`` (the data column) or ``output`` (under the output map). ``hidable``: a URL may hide it
    (``<name>_hide=true``, the Playground's classroom options); ``optional``: a compact page (the
    lesson page) shows it only where its lesson uses it. A slider's ``step`` and ``end`` (where the
    slider ends unless the value lies beyond; the setting's limit otherwise) are the page's.
    """

    name: str
    words: str
    widget: str = ""
    title: str = ""
    area: str = ""
    order: int = 0
    wide: bool = False
    hidable: bool = True
    optional: bool = False
    step: float = 1
    end: float | None = None
    percent: bool = False


CONTROLS: tuple[Control, ...] = (
    # The Playground's hidable controls, in its order, then this project's own.
    Control("showTestData", "“Show test data”", CHECKBOX, "Show test data", "output", 1),
    Control("discretize", "“Discretize output”", CHECKBOX, "Discretize output", "output", 2),
    Control("playButton", "the play button"),
    Control("stepButton", "the step button"),
    Control("resetButton", "the reset button"),
    Control("learningRate", "the learning rate", MENU, "Learning rate", "top", 1),
    Control("activation", "the activation", MENU, "Activation", "top", 2),
    Control("regularization", "the regularization", MENU, "Regularization", "top", 3),
    Control(
        "regularizationRate",
        "the regularization rate",
        MENU,
        "Regularization rate",
        "top",
        4,
        wide=True,
    ),
    Control("problem", "the problem type", MENU, "Problem type", "top", 5, wide=True),
    Control("dataset", "the dataset"),
    Control(
        "percTrainData",
        "the ratio of training to test data",
        SLIDER,
        "Ratio of training to test data",
        "data",
        1,
        step=10,
        percent=True,
    ),
    Control("noise", "the noise", SLIDER, "Noise", "data", 2, step=5, end=50),
    Control("batchSize", "the batch size", SLIDER, "Batch size", "data", 3),
    Control("numHiddenLayers", "the number of hidden layers"),
    Control("optimizer", "the optimizer", MENU, "Optimizer", "data", 4, optional=True),
    # The page's own, which a lesson may hide or lock but a URL cannot.
    Control("neurons", "the number of neurons", hidable=False),
    Control("features", "the input features", hidable=False),
    Control("weights", "editing the weights", hidable=False),
    Control("drawing", "drawing and uploading points", hidable=False, optional=True),
)
CONTROL_BY_NAME = {c.name: c for c in CONTROLS}
HIDABLE_CONTROLS = tuple(c.name for c in CONTROLS if c.hidable)
PAGE_CONTROLS = tuple(c.name for c in CONTROLS if not c.hidable)
OPTIONAL_CONTROLS = tuple(c.name for c in CONTROLS if c.optional)


# -- reading and writing values --------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """How values are being read: against which registry and limits; ``text`` when they are URL
    text (``"true"``, ``"4,2"``); ``lenient`` for the Playground's looser URL rules (any
    non-``false`` boolean is true)."""

    registry: Registry
    limits: Limits
    text: bool = False
    lenient: bool = False


class Kind:
    """How a setting's values are read and written. Subclasses read one kind of value."""

    metavar = "TEXT"  # how a command line's help names a value of this kind

    def read(self, key: str, value: Any, how: Reading) -> Any:
        raise NotImplementedError

    def write(self, value: Any) -> str:
        """The value as the Playground writes it in a URL."""
        return str(value)

    def menu(self, registry: Registry, value: Any) -> list[tuple[str, str]]:
        """A menu's (value, label) options, ``value`` among them; [] for a kind without a menu."""
        return []

    def bounds(self, limits: Limits) -> tuple[float, float]:
        """The lowest and highest value a slider offers."""
        raise TypeError(f"{type(self).__name__} has no bounds")


@dataclass(frozen=True)
class Flag(Kind):
    def read(self, key: str, value: Any, how: Reading) -> bool:
        return to_bool(key, value, how.lenient)

    def write(self, value: Any) -> str:
        return js_bool(value)


@dataclass(frozen=True)
class Number(Kind):
    """A number from ``low`` to ``high`` (each a number or a :class:`Limits` field), ``above``
    excluding ``low``. ``examples`` are a menu's options; ``percent`` reads as a percentage and
    keeps whole numbers whole."""

    metavar = "NUMBER"

    low: float | str = 0
    high: float | str = math.inf
    above: bool = False
    examples: tuple[float, ...] = ()
    percent: bool = False

    def bounds(self, limits: Limits) -> tuple[float, float]:
        def bound(value: float | str) -> float:
            return getattr(limits, value) if isinstance(value, str) else value

        return bound(self.low), bound(self.high)

    def read(self, key: str, value: Any, how: Reading) -> float:
        number = to_number(key, value)
        low, high = self.bounds(how.limits)
        if number < low or (self.above and number == low) or number > high:
            if self.percent:
                reason = f"use a percentage from {js_number(low)} to {js_number(high)}"
            else:
                opening = "(" if self.above else "["
                reason = f"use a number in {opening}{js_number(low)}, {js_number(high)}]"
                if self.examples:
                    listed = ", ".join(js_number(r) for r in self.examples)
                    playground = "the Playground's " if self.above else ""
                    reason += f", e.g. one of {playground}{listed}"
            raise ConfigError(key, f"{value!r} is out of range; {reason}")
        return (int(number) if number == int(number) else number) if self.percent else number

    def write(self, value: Any) -> str:
        return js_number(value)

    def menu(self, registry: Registry, value: Any) -> list[tuple[str, str]]:
        options = [js_number(v) for v in self.examples]
        if (
            js_number(value) not in options
        ):  # a URL may carry a value off the list; keep it selectable
            options = sorted([*options, js_number(value)], key=float)
        return [(o, o) for o in options]


@dataclass(frozen=True)
class Whole(Kind):
    """A whole number from ``low`` to ``high`` (each a number or a :class:`Limits` field)."""

    metavar = "N"

    low: int | str = 0
    high: int | str = 0

    def bounds(self, limits: Limits) -> tuple[float, float]:
        low, high = (getattr(limits, b) if isinstance(b, str) else b for b in (self.low, self.high))
        return low, high

    def read(self, key: str, value: Any, how: Reading) -> int:
        low, high = self.bounds(how.limits)
        return to_integer(key, value, int(low), int(high))


@dataclass(frozen=True)
class Choice(Kind):
    """The name of a registered component of ``kind`` (``"activations"``); ``none`` adds a value
    that names none (with its label), ``empty`` allows "" (the component's own default)."""

    metavar = "NAME"

    kind: str
    none: tuple[str, str] | None = None
    empty: bool = False

    def names(self, registry: Registry) -> list[str]:
        names = registry.names(self.kind)
        return [self.none[0], *names] if self.none else names

    def read(self, key: str, value: Any, how: Reading) -> str:
        if self.empty and (value is None or value == ""):
            return ""
        return choice(key, value, self.names(how.registry))

    def menu(self, registry: Registry, value: Any) -> list[tuple[str, str]]:
        options = [(c.name, c.label) for c in registry.all(self.kind)]
        return [self.none, *options] if self.none else options


@dataclass(frozen=True)
class DatasetChoice(Kind):
    """A dataset of the problem types whose datasets this field names (``dataset``,
    ``regDataset``)."""

    metavar = "NAME"

    def read(self, key: str, value: Any, how: Reading) -> str:
        registry = how.registry
        problems = [p for p in registry.all("problems") if p.dataset_field == key]
        names = [d.name for p in problems for d in registry.datasets_for(p.name)]
        if isinstance(value, str) and value not in names and value in registry.names("datasets"):
            other = registry.dataset(value).problem
            field_name = registry.problem(other).dataset_field
            raise ConfigError(
                key,
                f"{value!r} is a {other} dataset: set {field_name}: {value} and problem: {other} "
                f"(the {key} setting takes one of {', '.join(names)})",
            )
        return choice(key, value, names)


@dataclass(frozen=True)
class Shape(Kind):
    """Hidden layer sizes: ``[4, 2]`` or ``"4,2"`` ("" for none), within the limits."""

    metavar = "SIZES"

    def read(self, key: str, value: Any, how: Reading) -> tuple[int, ...]:
        limits = how.limits
        if how.text or isinstance(value, str):
            raw = str(value).strip()
            items: list[Any] = [p.strip() for p in raw.split(",")] if raw else []
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise ConfigError(key, f'{value!r} is not a list of layer sizes, e.g. [4, 2] or "4,2"')
        if len(items) > limits.max_hidden_layers:
            raise LimitError(
                key,
                f"{len(items)} hidden layers is more than the limit of {limits.max_hidden_layers}",
            )
        sizes = []
        for item in items:
            size = to_integer(key, item, 1, None)
            if size > limits.max_neurons:
                raise LimitError(
                    key, f"a layer of {size} neurons is more than the limit of {limits.max_neurons}"
                )
            sizes.append(size)
        return tuple(sizes)

    def write(self, value: Any) -> str:
        return ",".join(str(n) for n in value)


@dataclass(frozen=True)
class Seed(Kind):
    metavar = "SEED"

    def read(self, key: str, value: Any, how: Reading) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # YAML reads an unquoted 0.10000 as the number 0.1, and "0.1" is another seed.
            raise ConfigError(
                key,
                f'{value!r} is a number; a seed is a string (in YAML quote it: seed: "0.10000")',
            )
        longest = how.limits.max_seed_length
        if (
            not isinstance(value, str)
            or not value
            or len(value) > longest
            or not value.isprintable()
        ):
            raise ConfigError(
                key, f"{value!r} is not a usable seed; use up to {longest} printable characters"
            )
        return value


@dataclass(frozen=True)
class OptionalText(Kind):
    def read(self, key: str, value: Any, how: Reading) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ConfigError(key, f"{value!r} is not a tutorial name")
        return value


@dataclass(frozen=True)
class Points(Kind):
    """Drawn points: ``x,y,label`` triples joined by ``_``, or a list of ``[x, y, label]``."""

    def read(self, key: str, value: Any, how: Reading) -> tuple[tuple[float, float, float], ...]:
        if value is None or value == "":
            return ()
        try:
            return drawn_points(value, classifies=None)
        except DataError as exc:
            raise ConfigError(key, str(exc)) from None

    def write(self, value: Any) -> str:
        return "_".join(",".join(js_number(v) for v in point) for point in value)


@dataclass(frozen=True)
class Names(Kind):
    """A list of names (``"x,y"`` or ``[x, y]``): the enabled features, the hidden controls.

    In a URL each name is a key of its own (``x=true``, ``learningRate_hide=true``): see
    :func:`courseware.config.parse`."""

    metavar = "NAMES"

    what: str  # "feature", "control"

    def known(self, registry: Registry) -> list[str]:
        features = registry.names("features")
        return features if self.what == "feature" else [*HIDABLE_CONTROLS, *features]

    def read(self, key: str, value: Any, how: Reading) -> tuple[str, ...]:
        names = to_list(key, value)
        known = self.known(how.registry)
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = known if self.what == "feature" else HIDABLE_CONTROLS
            raise ConfigError(
                key, f"unknown {self.what} {unknown[0]!r}; allowed: {', '.join(listed)}"
            )
        return tuple(dict.fromkeys(names))


# -- the words a student reads ---------------------------------------------------------------------

_COUNT_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def join_words(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def plain_label(label: str) -> str:
    """A label written for math rendering (``X_1^2``) as plain text (``X₁²``)."""
    out, i = [], 0
    while i < len(label):
        ch = label[i]
        if ch in "_^" and i + 1 < len(label) and label[i + 1].isdigit():
            j = i + 1
            while j < len(label) and label[j].isdigit():
                j += 1
            out.append(label[i + 1 : j].translate(_SUB if ch == "_" else _SUP))
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def component_label(registry: Registry, kind: str, name: str) -> str:
    """A component's label as plain text (``"ReLU"`` for ``relu``); an unknown name stays as
    written (the loader has reported it already)."""
    for component in registry.all(kind):
        if component.name == name:
            return plain_label(component.label)
    return name


def describe_network(shape: Iterable[int]) -> str:
    """``[4, 2]`` -> "two hidden layers, of 4 and 2 neurons"."""
    sizes = list(shape)
    if not sizes:
        return "no hidden layer"
    if len(sizes) == 1:
        return f"one hidden layer of {sizes[0]} neuron{'s' if sizes[0] != 1 else ''}"
    count = _COUNT_WORDS.get(len(sizes), str(len(sizes)))
    return f"{count} hidden layers, of {join_words(str(n) for n in sizes)} neurons"


Words = Callable[[Any, Registry], str]


def number_words(template: str) -> Words:
    """``"learning rate {}"``: the number as JavaScript writes it."""
    return lambda value, registry: template.format(js_number(value))


def component_words(kind: str, template: str, none: str = "") -> Words:
    """``"the {} activation"`` with the component's label; ``none`` for the value naming none."""

    def words(value: Any, registry: Registry) -> str:
        if none and value in (NO_REGULARIZATION, ""):
            return none
        return template.format(component_label(registry, kind, value))

    return words


def flag_words(on: str, off: str) -> Words:
    return lambda value, registry: on if value else off


def feature_words(value: Any, registry: Registry) -> str:
    names = [component_label(registry, "features", n) for n in value]
    return "inputs " + join_words(names) if names else "no inputs"


def problem_words(value: Any, registry: Registry) -> str:
    return f"a {component_label(registry, 'problems', value).lower()} problem"


def point_words(value: Any, registry: Registry) -> str:
    count = len(value)
    return f"{count} drawn point{'s' if count != 1 else ''}" if count else "no drawn points"


def hidden_words(value: Any, registry: Registry) -> str:
    names = [CONTROL_BY_NAME[n].words if n in CONTROL_BY_NAME else f"the input {n}" for n in value]
    return "hidden: " + join_words(names) if names else "every control shown"


# -- which controls a change needs -----------------------------------------------------------------


def shape_controls(old: Any, new: Any) -> set[str]:
    old, new = tuple(old), tuple(new)
    needed = set()
    if len(new) != len(old):
        needed.add("numHiddenLayers")
    if any(a != b for a, b in zip(new, old)) or len(new) > len(old):
        needed.add("neurons")
    return needed


def feature_controls(old: Any, new: Any) -> set[str]:
    switched = set(new) ^ set(old)
    return {"features", *switched} if switched else set()


# -- a row of the table ----------------------------------------------------------------------------


Default = Callable[[Registry], Any]


@dataclass(frozen=True)
class Setting:
    """One setting (see the module docstring). ``name`` is its key in ``Config``, in URLs and in
    lesson files."""

    name: str
    kind: Kind
    default: Default
    effect: Effect
    cohort: Sharing
    words: Words
    controls: tuple[str, ...] = ()
    needs: Callable[[Any, Any], set[str]] | None = None
    """The controls a student uses to change it from one value to another (default: its
    controls)."""
    option: str = ""  # courseware train's option ("" for none)
    help: str = ""
    always_in_url: bool = True
    """The Playground writes it in every URL; this project's own keys appear only when they differ
    from the default, so every URL of the original stays as it was."""
    not_in_lessons: str = ""  # why a lesson may not set it ("" if it may)

    def default_value(self, registry: Registry) -> Any:
        return self.default(registry)

    def describe(self, value: Any, registry: Registry) -> str:
        """The setting at ``value`` in a student's words."""
        return self.words(value, registry)

    def controls_for(self, old: Any, new: Any) -> set[str]:
        """The controls a student uses to change this setting from ``old`` to ``new``."""
        if self.needs is not None:
            return self.needs(old, new)
        return set(self.controls) if old != new else set()

    @property
    def widget(self) -> Control | None:
        """The control the page builds a widget for from this table, if any."""
        for name in self.controls:
            control = CONTROL_BY_NAME[name]
            if control.widget:
                return control
        return None


@dataclass(frozen=True)
class constant:  # (lower case: it reads as a function in the table, constant(10))
    """A default that does not depend on the registry."""

    value: Any

    def __call__(self, registry: Registry) -> Any:
        return self.value


def dataset_default(field_name: str) -> Default:
    def default(registry: Registry) -> str:
        fields = {p.dataset_field: p.default_dataset for p in registry.all("problems")}
        return fields.get(field_name, "")

    return default


def default_optimizer(registry: Registry) -> str:
    optimizers = registry.all("optimizers")
    return registry.default_optimizer().name if optimizers else ""


def default_features(registry: Registry) -> tuple[str, ...]:
    return tuple(f.name for f in registry.all("features") if f.default)


RESET, NEW_SEED, LIVE, DISPLAY = Effect.RESET, Effect.NEW_SEED, Effect.LIVE, Effect.DISPLAY
VARIES, SHARED = Sharing.VARIES, Sharing.SHARED


def entry(
    kind: Kind,
    default: Default,
    effect: Effect,
    cohort: Sharing,
    words: Words,
    controls: tuple[str, ...] = (),
    **more: Any,
) -> Any:
    """One row of the settings table: a field of :class:`~courseware.config.Config` whose name and
    type are the setting's, described by a :class:`Setting` (the keyword arguments are its
    fields)."""
    described = Setting("", kind, default, effect, cohort, words, controls, **more)
    return field(metadata={"setting": described})


def table_of(config_class: type) -> tuple[Setting, ...]:
    """The settings table of a dataclass whose fields were declared with :func:`entry`, in order."""
    return tuple(
        replace(f.metadata["setting"], name=f.name)
        for f in fields(config_class)  # type: ignore[arg-type]
        if "setting" in f.metadata
    )


def control_words(name: str, registry: Registry) -> str:
    """A control in words (``"the learning rate"``); a feature's toggle by its label."""
    if name in CONTROL_BY_NAME:
        return CONTROL_BY_NAME[name].words
    if name in registry.names("features"):
        return f"the input {component_label(registry, 'features', name)}"
    return name


# -- value readers, shared by the kinds and by anything else reading settings ----------------------


def choice(key: str, value: Any, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(key, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def to_number(key: str, value: Any) -> float:
    """A finite number from a number or a number written in decimal."""
    if isinstance(value, bool):
        raise ConfigError(key, f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise ConfigError(key, f"{value!r} is far too large") from None
    elif isinstance(value, str) and (parsed := decimal_number(value)) is not None:
        number = parsed
    else:
        raise ConfigError(key, f"{value!r} is not a number")
    if not math.isfinite(number):
        raise ConfigError(key, f"{value!r} is not a finite number")
    return number


def to_integer(key: str, value: Any, low: int, high: int | None) -> int:
    number = to_number(key, value)
    if number != int(number):
        raise ConfigError(key, f"{value!r} is not a whole number")
    whole = int(number)
    if whole < low or (high is not None and whole > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        error = LimitError if high is not None and whole > high else ConfigError
        raise error(key, f"{value!r} is out of range; use a whole number {bounds}")
    return whole


def to_bool(key: str, value: Any, lenient: bool = False) -> bool:
    """``true``/``false`` (or a boolean); ``lenient``: the Playground's rule, anything but
    ``false`` (and "") is true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if lenient and value != "":
            return True
    raise ConfigError(key, f"{value!r} is not true or false")


def to_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(key, f"{value!r} is not a list of names")


def route_dataset(mapping: Mapping[Any, Any], registry: Registry) -> dict[str, Any]:
    """Settings where ``dataset`` may name a dataset of any problem type (a lesson file,
    ``courseware train --dataset``): it moves to the field its problem type reads (``regDataset``
    for a regression), and the problem type follows unless also given."""
    out = {str(k): v for k, v in mapping.items()}
    name = out.get("dataset")
    if isinstance(name, str) and name in registry.names("datasets"):
        problem = registry.problem(registry.dataset(name).problem)
        if out.get("problem", problem.name) != problem.name:
            return out  # contradictory: left for the configuration's own check to report
        if problem.dataset_field != "dataset":
            out.pop("dataset")
            out[problem.dataset_field] = name
        out["problem"] = problem.name
    return out
