"""The kinds of component a plugin can register, as plain frozen dataclasses.

A plugin builds one of these and hands it to the ``register`` callback its hook receives. The host
never names a concrete dataset, feature or activation: it only knows these shapes. Each class says in
its docstring what the host expects of it; :mod:`courseware.testing` checks those expectations.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from courseware.errors import ConfigError

if TYPE_CHECKING:
    from courseware.rng import RandomStream

ArrayFn = Callable[..., np.ndarray]


def _writer(fn: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """A callable ``(*args, out)`` that writes ``fn(*args)`` into ``out``, as directly as possible.

    numpy ufuncs and functions whose next positional parameter is ``out`` are used as they are, so
    the engine's hot loop calls them with no wrapper; anything else is wrapped with a copy.
    """
    if isinstance(fn, np.ufunc):
        return fn
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    if len(params) > arity and params[arity] == "out":
        return fn

    def write(*args: Any) -> None:
        np.copyto(args[-1], fn(*args[:-1]))

    return write


# A small batch of total inputs for the registration check below: two rows, no exact kinks.
_PROBE = np.array([[-2.5, -0.75, 0.0123, 0.6, 3.1], [1.7, -4.2, 0.3, -0.05, 5.5]])


def check_writers(activation: Activation) -> None:
    """Raise ``ValueError`` if writing through ``out=`` gives other values than the plain call.

    :func:`_writer` trusts a parameter named ``out``: a function that declares it but returns a new
    array instead would leave the engine's buffer as it was (a derivative of zero: the network
    silently never learns). The plugin host calls this at registration, on a small array. A plain
    call that raises is not judged here: the component is reported, by name, when it is used.
    """
    z = _PROBE.copy()
    try:
        a = np.asarray(activation.output(z.copy()), dtype=np.float64)
        d = np.asarray(activation.derivative(z.copy(), np.broadcast_to(a, z.shape).copy()), dtype=np.float64)
    except Exception:
        return
    _compare_writer(activation.name, "output(z, out)", "output(z)", activation.output_into, (z.copy(),), a)
    a_in = np.broadcast_to(a, z.shape).copy()
    _compare_writer(activation.name, "derivative(z, a, out)", "derivative(z, a)", activation.derivative_into,
                    (z.copy(), a_in), d)  # fmt: skip


def _compare_writer(name: str, written: str, plain: str, into: Callable[..., Any], args: tuple[Any, ...],
                    expected: np.ndarray) -> None:  # fmt: skip
    out = np.full(_PROBE.shape, np.nan)
    try:
        into(*args, out)
    except Exception as exc:
        raise ValueError(f"activation {name!r}: {written} raised {type(exc).__name__}: {exc}, but {plain} "
                         "works; accept out= and write into it, or drop the out parameter") from exc  # fmt: skip
    try:
        expected = np.broadcast_to(expected, out.shape)
    except ValueError:
        raise ValueError(f"activation {name!r}: {plain} returned shape {expected.shape} for input shape "
                         f"{out.shape}") from None  # fmt: skip
    bad = ~np.isclose(out, expected, rtol=1e-9, atol=1e-12, equal_nan=True)
    if bad.any():
        i = np.unravel_index(int(np.flatnonzero(bad)[0]), out.shape)
        raise ValueError(
            f"activation {name!r}: {written} does not write what {plain} returns (at z = {float(_PROBE[i])!r}, "
            f"out holds {float(out[i])!r}, the plain call gives {float(expected[i])!r}); write the result into out "
            "(np.copyto(out, result), or a numpy function's own out=), or drop the out parameter"
        )


@dataclass(frozen=True)
class Problem:
    """A problem type: what a label means and how many points its datasets have.

    ``dataset_field`` is the Playground state field that names this problem's dataset (the original
    keeps one per problem type: ``dataset`` and ``regDataset``). ``classifies`` marks labels that are
    classes (+1/-1 for two, 0 .. C-1 for more), with accuracy as a metric and "discretize output"
    meaningful; otherwise a label is a number to predict. What the output layer computes is a
    :class:`Head`'s business: the first registered head of the problem type that suits the data.
    """

    name: str
    label: str
    num_samples: int
    dataset_field: str
    default_dataset: str
    classifies: bool
    default: bool = False
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    """A 2-D dataset generator.

    ``generate(rng, num_samples, noise)`` draws from ``rng`` (the experiment's seeded stream) and
    returns a float64 array of shape ``(num_samples, 3)``: columns x, y, label. ``noise`` is a fraction
    (the UI's 0-50 % becomes 0-0.5). Points are returned unshuffled: the host shuffles and splits them
    exactly as the Playground does.

    Classification labels: with ``classes=2`` (the Playground's datasets) +1 or -1; with more, the
    class index 0 .. ``classes - 1``. Class 0 of two is -1 (orange), class 1 is +1 (blue), so that one
    numbering serves every count. ``class_labels`` optionally names the classes for the page.
    ``fixed`` marks a dataset whose points are given rather than drawn (a file, drawn points): it
    returns them all whatever ``num_samples`` asks, ignores noise, and draws nothing from ``rng``.
    """

    name: str
    label: str
    problem: str
    generate: Callable[[RandomStream, int, float], np.ndarray]
    description: str = ""
    classes: int = 2
    class_labels: tuple[str, ...] = ()
    fixed: bool = False


@dataclass(frozen=True)
class Feature:
    """An input feature computed from the point's coordinates: ``fn(x, y) -> array``.

    Features enter the network in registration order (the built-ins register the Playground's order:
    x, y, x², y², xy, sin x, sin y), which fixes the weight-initialisation order. ``default`` features are
    on in a fresh experiment.
    """

    name: str
    label: str
    fn: ArrayFn
    default: bool = False
    description: str = ""


@dataclass(frozen=True)
class Activation:
    """A neuron's activation ``output(z)`` and its derivative ``derivative(z, a)``.

    The derivative receives both the total input ``z`` and the output ``a = output(z)`` so that tanh
    and sigmoid can reuse ``a``. Either function may accept an ``out=`` array to write into; the engine
    then avoids a copy on the hot path. Both must propagate NaN (a diverging network is shown, not
    hidden).

    ``exact(z, out)`` and ``exact_derivative(z, a, out)`` optionally compute the same values bit for
    bit as the original Playground does in JavaScript (V8's ``Math.tanh``, not numpy's), element by
    element over 1-D float64 arrays: plain Python loops that numba can compile, such as ``for i in
    range(z.size): out[i] = jsmath.tanh(z[i])``. The exact engine compiles them (:mod:`courseware.jit`);
    an activation without them trains on the vectorized numpy engine, as fast but not bit-exact.
    """

    name: str
    label: str
    output: ArrayFn
    derivative: ArrayFn
    default: bool = False
    description: str = ""
    exact: Callable[[np.ndarray, np.ndarray], None] | None = None
    exact_derivative: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None
    output_into: Callable[..., Any] = field(init=False, repr=False, compare=False)
    derivative_into: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # output_into(z, out) and derivative_into(z, a, out): the engine's hot-path entry points.
        object.__setattr__(self, "output_into", _writer(self.output, 1))
        object.__setattr__(self, "derivative_into", _writer(self.derivative, 2))


@dataclass(frozen=True)
class Regularizer:
    """A weight penalty ``penalty(w)`` with ``derivative(w)``, applied once per batch to weights only.

    ``clips_at_zero`` gives the Playground's L1 rule: a weight that the penalty pushes across zero is set
    to 0 and the link is frozen ("dead") until the network is rebuilt. ``exact_derivative(w, out)`` is
    the derivative as a compilable loop over a 1-D float64 array, as for :class:`Activation`.
    """

    name: str
    label: str
    penalty: ArrayFn
    derivative: ArrayFn
    clips_at_zero: bool = False
    description: str = ""
    exact_derivative: Callable[[np.ndarray, np.ndarray], None] | None = None


@dataclass(frozen=True)
class Head:
    """The output layer: how many nodes it has, what they compute, and what a label asks of them.

    A head serves one problem type (``problem``). A ``per_class`` head has one output node per class:
    a point's target is the one-hot row of its class, its predicted class the node with the largest
    output (the first, on a tie). Any other head has a single node: its target is the label itself
    (+1/-1 for two classes, the number for regression) and, when classifying, the predicted class is
    the output's sign (0 counts as +1), as in the Playground.

    What the nodes compute, one of two ways:

    * ``activation`` names a registered :class:`Activation` that every output node applies on its
      own (the Playground's heads: tanh for classification, linear for regression); its exact forms
      are the head's;
    * or ``output(z)`` maps each row of total inputs to the outputs and ``backward(z, a, g)`` turns
      ``g``, the loss's derivative with respect to the outputs ``a``, into the derivative with respect
      to ``z`` (softmax: ``a * (g - sum(a * g))``). Nodes are on the last axis; either function may
      take an ``out=`` array to write into, as an activation's. ``exact_output(z, out)`` and
      ``exact_backward(z, a, g, out)`` are their compiled forms for the exact engine, plain loops over
      float64 arrays of shape (nodes, points), one column per point.

    ``loss`` names the :class:`Loss` used when the configuration names none.
    """

    name: str
    label: str
    problem: str
    loss: str
    activation: str = ""
    output: ArrayFn | None = None
    backward: ArrayFn | None = None
    per_class: bool = False
    description: str = ""
    exact_output: Callable[[np.ndarray, np.ndarray], None] | None = None
    exact_backward: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None] | None = None
    output_into: Callable[..., Any] | None = field(init=False, repr=False, compare=False)
    backward_into: Callable[..., Any] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # output_into(z, out) and backward_into(z, a, g, out), as an activation's hot-path entry points.
        object.__setattr__(self, "output_into", None if self.output is None else _writer(self.output, 1))
        object.__setattr__(self, "backward_into", None if self.backward is None else _writer(self.backward, 3))


@dataclass(frozen=True)
class Loss:
    """What training minimises: ``value(a, t)`` and its derivative ``derivative(a, t)`` = dL/da.

    ``a`` are a head's outputs and ``t`` the targets, of the same shape, with the output nodes on the
    last axis; ``value`` sums over the nodes and returns one number per point (the reported loss is
    their mean), ``derivative`` returns an array like ``a`` (it may take ``out=``). ``heads`` names the
    heads the loss suits (empty: every head); cross-entropy, say, needs probabilities.
    ``exact_value(a, t, out)`` (``out`` of shape (points,)) and ``exact_derivative(a, t, out)`` are
    the compiled forms, plain loops over float64 arrays of shape (nodes, points); ``exact_value`` adds
    the nodes' terms in node order, starting from 0.
    """

    name: str
    label: str
    value: ArrayFn
    derivative: ArrayFn
    heads: tuple[str, ...] = ()
    description: str = ""
    exact_value: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None
    exact_derivative: Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None = None
    derivative_into: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "derivative_into", _writer(self.derivative, 2))

    def suits(self, head: str) -> bool:
        """Whether this loss can train through the head named ``head``."""
        return not self.heads or head in self.heads


@dataclass(frozen=True)
class Optimizer:
    """How a batch's gradient becomes a step of the parameters.

    ``step(grad, count, lr, is_weight, state, t)`` returns the amount to subtract from every parameter:
    ``grad`` (K, P) is the gradient summed over the ``count`` samples of the batch, ``lr`` (K, 1) the
    learning rates, ``is_weight`` (P,) tells weights from biases, ``state`` (``slots``, K, P) is the
    optimizer's memory (zero when the network is built; update it in place), ``t`` (K, 1) the number of
    this update since the network was built (1, 2, ...). The regularizer's step, L1's clipping and dead
    links are the host's and follow the Playground's rule whatever the optimizer.

    ``exact_step(grad, count, lr, is_weight, state, t, delta)`` is the compiled form for the exact
    engine, writing the step into ``delta``; its arrays have the parameters first and the networks
    last: ``grad`` and ``delta`` (P, M), ``lr`` and ``t`` (M,), ``state`` (``slots``, P, M).
    ``default`` marks the optimizer of a fresh experiment.
    """

    name: str
    label: str
    step: Callable[..., np.ndarray]
    slots: int = 0
    default: bool = False
    description: str = ""
    exact_step: Callable[..., None] | None = None


@dataclass(frozen=True)
class DataFormat:
    """A file format points can be read from (``courseware train --data FILE``, a lesson's ``data/``).

    ``read(data, name, limits)`` parses ``data`` (the file's bytes; ``name`` is the file's name, for
    messages) into a :class:`courseware.data.PointSet`, raising :class:`courseware.data.DataError`
    with the row and column of the first problem. ``limits`` is a :class:`courseware.data.DataLimits`:
    stop reading at ``limits.max_rows``. The host then checks the limits again, scales points that lie
    outside the plane into it, and turns the set into a :class:`Dataset`. ``suffixes`` are the file
    name endings it reads (``.csv``).
    """

    name: str
    label: str
    suffixes: tuple[str, ...]
    read: Callable[..., Any]
    description: str = ""


@dataclass(frozen=True)
class Visualizer:
    """A panel of the playground page.

    ``create(context)`` builds the panel's Bokeh models for one session and returns an object with a
    ``root`` (the Bokeh layout to place) and ``update(frame)`` (called after every training frame).
    ``area`` says where the page places it (see ``docs/plugins.md``); ``order`` sorts within an area.
    """

    name: str
    label: str
    create: Callable[[Any], Any]
    area: str = "extra"
    order: int = 100
    description: str = ""


# Where the playground page places a visualizer (``Visualizer.area``), in the page's order.
VISUALIZER_AREAS = ("data", "features", "network", "output", "extra")


@dataclass(frozen=True)
class Metric:
    """A measured quantity a lesson claim or goal can test, e.g. ``test_loss`` or ``accuracy``.

    ``compute(run)`` receives a :class:`courseware.lessons.Measurements` of K trained networks and returns
    an array of K values (one per seed or variant). A metric whose ``unit`` is ``"name"`` returns names
    (``activation``: ``"relu"``) and may give ``choices(registry)``, the names it can take (a mapping
    of name to label, or just the names), so that a condition comparing it with an unknown name is an
    error in the lesson file, not a silent never, and a student reads the label.
    ``label`` is how a student reads it ("test loss"); the name is for lesson authors. ``control``
    names the playground control that shows the quantity (``learningRate``): a lesson step that hides
    that control cannot ask the student to reach a goal on it. ``history`` marks a metric that reads
    the loss history (``run.history_test``): ``courseware check`` then records every epoch's losses
    for the claims that use it, and skips that work for the others.
    """

    name: str
    description: str
    compute: Callable[[Any], np.ndarray]
    unit: str = ""
    label: str = ""
    control: str = ""
    history: bool = False
    choices: Callable[[Any], Collection[str] | Mapping[str, str]] | None = None


@dataclass(frozen=True)
class StepKind:
    """A kind of lesson step (text, run, question, goal, ...).

    ``fields`` maps each allowed YAML key of the step to a description; ``parse(raw, where)`` validates a
    step mapping and returns the step object, recording each problem with its location (see
    ``docs/lessons.md``) rather than stopping at the first.
    """

    name: str
    description: str
    parse: Callable[[Mapping[str, Any], Any], Any]
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LessonSource:
    """A folder of lesson files a package ships (``path``), registered under a pack ``name``."""

    name: str
    path: str
    description: str = ""


COMPONENT_KINDS: dict[type, str] = {
    Problem: "problems",
    Dataset: "datasets",
    Feature: "features",
    Activation: "activations",
    Regularizer: "regularizers",
    Head: "heads",
    Loss: "losses",
    Optimizer: "optimizers",
    DataFormat: "data_formats",
    Visualizer: "visualizers",
    Metric: "metrics",
    StepKind: "step_kinds",
    LessonSource: "lesson_sources",
}


# -- the output layer a configuration resolves to -------------------------------------------------------


def class_index(labels: np.ndarray, classes: int) -> np.ndarray:
    """Class numbers 0 .. classes-1 of classification labels: with two classes the Playground's -1
    is class 0 and +1 class 1; with more, the label is the class number."""
    labels = np.asarray(labels, dtype=np.float64)
    if classes == 2:
        return (labels > 0).astype(np.int64)
    return labels.astype(np.int64)


@dataclass(frozen=True)
class OutputLayer:
    """The output layer a configuration resolved to: head, loss, nodes and classes.

    ``classes`` is the number of classes of a classification (0 for a regression); ``nodes`` is one
    per class for a ``per_class`` head, else 1. ``activation`` is the head's activation when the head
    computes its outputs node by node (``Head.activation``), None for a row-wise head.
    """

    head: Head
    loss: Loss
    classes: int
    activation: Activation | None = None

    @property
    def nodes(self) -> int:
        return self.classes if self.head.per_class else 1

    @property
    def row_wise(self) -> bool:
        return self.activation is None

    @property
    def classifies(self) -> bool:
        return self.classes > 0

    def targets(self, labels: np.ndarray) -> np.ndarray:
        """(..., nodes) targets of labels (...): a per-class head's one-hot rows, else the label."""
        labels = np.asarray(labels, dtype=np.float64)
        if not self.head.per_class:
            return labels[..., None].copy()
        return (class_index(labels, self.classes)[..., None] == np.arange(self.nodes)).astype(np.float64)

    def classes_of(self, labels: np.ndarray) -> np.ndarray:
        """Each point's class number (float64, for the kernels); zeros for a regression."""
        labels = np.asarray(labels, dtype=np.float64)
        if not self.classifies:
            return np.zeros(labels.shape)
        return class_index(labels, self.classes).astype(np.float64)

    def predicted(self, outputs: np.ndarray) -> np.ndarray:
        """The class each row of outputs (..., nodes) predicts: the sign of a single output (0 counts
        as +1: class 1), else the first largest output."""
        outputs = np.asarray(outputs)
        if outputs.shape[-1] == 1:
            return (outputs[..., 0] >= 0).astype(np.int64)
        best = np.zeros(outputs.shape[:-1], dtype=np.int64)
        top = outputs[..., 0]
        for c in range(1, outputs.shape[-1]):  # the kernels' rule: a later node wins only if larger
            better = outputs[..., c] > top
            best = np.where(better, c, best)
            top = np.where(better, outputs[..., c], top)
        return best

    def output_into(self, z: np.ndarray, out: np.ndarray) -> None:
        """Outputs of total inputs (..., nodes) into ``out``, with numpy."""
        if self.activation is not None:
            self.activation.output_into(z, out)
        else:
            self.head.output_into(z, out)  # type: ignore[misc]

    def backward_into(self, z: np.ndarray, a: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
        """dL/dz from ``g`` = dL/da into ``out``, with numpy."""
        if self.activation is not None:
            self.activation.derivative_into(z, a, out)
            np.multiply(g, out, out=out)
        else:
            self.head.backward_into(z, a, g, out)  # type: ignore[misc]


class ComponentLookup(Protocol):
    """What :func:`resolve_output` reads of a registry (:class:`courseware.registry.Registry`)."""

    def heads_for(self, problem: str) -> list[Head]: ...

    def loss(self, name: str) -> Loss: ...

    def activation(self, name: str) -> Activation: ...


def resolve_output(registry: ComponentLookup, problem: Problem, dataset: Dataset, loss: str = "") -> OutputLayer:
    """The output layer for ``dataset`` of ``problem``, trained on ``loss`` ("": the head's own).

    The head is the first registered head of the problem type that fits: a single-node head fits a
    regression or two classes, a ``per_class`` head any classification; with a ``loss`` named, the
    head must be one the loss suits. So two classes get the Playground's tanh head unless the loss
    asks for another (cross-entropy: softmax), and three or more get softmax. Raises
    :class:`~courseware.errors.ConfigError` (key ``loss``) when no head fits.
    """
    classes = dataset.classes if problem.classifies else 0
    fitting = [h for h in registry.heads_for(problem.name)
               if (h.per_class and problem.classifies) or (not h.per_class and classes <= 2)]  # fmt: skip
    chosen = registry.loss(loss) if loss else None
    suited = [h for h in fitting if chosen is None or chosen.suits(h.name)]
    what = f"{classes} classes" if problem.classifies else f"a {problem.name} problem"
    if not suited:
        if chosen is None:
            raise ConfigError("loss", f"no output head is installed for {what}")
        heads = ", ".join(chosen.heads) or "any"
        raise ConfigError("loss", f"the {chosen.label.lower()} loss ({chosen.name}) does not fit {what}: it needs "
                          f"the head {heads}")  # fmt: skip
    head = suited[0]
    used = chosen or registry.loss(head.loss)
    if not used.suits(head.name):
        raise ConfigError("loss", f"head {head.name!r} names the loss {used.name!r}, which does not suit it")
    activation = registry.activation(head.activation) if head.activation else None
    return OutputLayer(head, used, classes, activation)
