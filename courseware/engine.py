"""The engine: K networks trained exactly as the original Playground trains them.

:class:`Engine` trains the K networks of a :class:`~courseware.network.Parameters` stack on their own
data, in lockstep, with the compiled kernels of :mod:`courseware.kernel`: ``nn.ts``'s rule, one sample
at a time in its order of operations, with V8's ``Math.tanh`` and ``Math.exp`` ported bit for bit. Its
losses and weights are the original's, ``==``, in every regime, including the unstable ones where one
differing bit grows into a different trajectory within two epochs (``reference/playground.md`` §8).

For that, every activation and regularizer must come with an exact form (``Activation.exact``): a loop
over an array that numba compiles. The built-ins have one. A plugin component written only in numpy has
not, and :func:`build_engine` then gives the whole stack to the vectorized numpy engine
(:class:`~courseware.vectorized.VectorizedEngine`), which is as fast but rounds differently.

The rule (``reference/playground.md`` §3, §5): an update after every ``batchSize`` samples counted from
the start of the epoch, the leftover samples carried into the next epoch's first batch; parameters step
by the mean gradient times the learning rate; the regularizer's derivative is taken at the pre-step
weight, applied once per batch, never to biases, and an L1 step that crosses zero kills the link; the
loss is the mean of ``0.5*(o-t)**2``, without the regularization term. :mod:`courseware.reference`
states it one numpy operation at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from courseware.components import Activation, Regularizer
from courseware.network import Parameters

if TYPE_CHECKING:
    from courseware.plugins import Registry
    from courseware.vectorized import VectorizedEngine


@dataclass
class Hyper:
    """Per-member training settings. The batch size is shared: members train in lockstep."""

    hidden: Sequence[Activation]
    output: Activation
    learning_rate: np.ndarray
    regularizer: Sequence[Regularizer | None]
    regularization_rate: np.ndarray
    batch_size: int


@dataclass(frozen=True)
class Evaluation:
    """Losses (and sign accuracies) of every member on its own data, each of shape (K,)."""

    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    diverged: np.ndarray

    @classmethod
    def of(cls, params: Parameters, train_loss: np.ndarray, test_loss: np.ndarray, train_accuracy: np.ndarray,
           test_accuracy: np.ndarray, num_test: int) -> Evaluation:  # fmt: skip
        """An evaluation, with members marked diverged where a parameter or a loss is not finite
        (an empty test set's NaN loss does not count)."""
        finite = np.isfinite(params.flat).all(axis=1) & np.isfinite(train_loss)
        if num_test:
            finite &= np.isfinite(test_loss)
        return cls(train_loss, test_loss, train_accuracy, test_accuracy, ~finite)


class TrainingEngine(Protocol):
    """What :class:`Engine`, :class:`~courseware.vectorized.VectorizedEngine` and
    :class:`~courseware.reference.ReferenceEngine` offer an experiment."""

    params: Parameters
    hyper: Hyper
    carry_count: int  # samples accumulated toward the next update
    exact: bool  # bit for bit the original's numbers

    def set_hyper(self, hyper: Hyper) -> None: ...

    def train_epochs(self, epochs: int = 1) -> None: ...

    def evaluate(self) -> Evaluation: ...


def build_engine(params: Parameters, hyper: Hyper, train_inputs: np.ndarray, train_labels: np.ndarray,
                 test_inputs: np.ndarray, test_labels: np.ndarray) -> Engine | VectorizedEngine:  # fmt: skip
    """The exact :class:`Engine` when every component has a compiled exact form, else the vectorized one.

    Inputs are (K, points, features), labels (K, points): each member's own data.
    """
    data = (train_inputs, train_labels, test_inputs, test_labels)
    if _has_exact_forms(hyper):
        forms = [_ExactForms.of(hidden, regularizer) for hidden, regularizer in zip(hyper.hidden, hyper.regularizer)]
        output = _ExactForms.of(hyper.output, None)
        if output is not None and all(f is not None for f in forms):
            return Engine(params, hyper, *data)
    from courseware.vectorized import VectorizedEngine  # (it imports this module)

    return VectorizedEngine(params, hyper, *data)


class Engine:
    """Trains and evaluates K networks on their own data, bit for bit as the original (see the module
    docstring). ``carry_count`` is how many samples are accumulated toward the next update."""

    exact = True

    def __init__(self, params: Parameters, hyper: Hyper, train_inputs: np.ndarray, train_labels: np.ndarray,
                 test_inputs: np.ndarray, test_labels: np.ndarray) -> None:  # fmt: skip
        from courseware import kernel

        self._kernel = kernel
        self.params = params
        arch = params.arch
        self._layout = kernel.layout_of(arch.sizes, arch.offsets)
        self._is_weight = np.ascontiguousarray(arch.weight_mask)
        # Lanes per kernel pass (see courseware.kernel): enough to fill SIMD registers and amortize a
        # pass, few enough that a lane's parameters and node values stay in the CPU's caches. Measured
        # with bench/engine.py: 256 for the default network, 64 for a 6x8 one.
        self._max_lanes = int(max(64, min(256, 32768 // (arch.num_parameters + sum(arch.sizes)))))
        self._acc = np.zeros(params.flat.shape)
        self.carry_count = 0
        self.num_train = train_inputs.shape[1]
        self.num_test = test_inputs.shape[1]
        self._data = (
            np.concatenate([train_inputs, test_inputs], axis=1),
            np.concatenate([train_labels, test_labels], axis=1),
        )
        self.set_hyper(hyper)

    def set_hyper(self, hyper: Hyper) -> None:
        """New settings between epochs (a learning-rate change, say) without losing the carry."""
        self.hyper = hyper
        self._output = _ExactForms.of(hyper.output, None)
        self._learning_rate = np.asarray(hyper.learning_rate, dtype=np.float64)
        self._regularization_rate = np.asarray(hyper.regularization_rate, dtype=np.float64)
        inputs, labels = self._data
        by_components: dict[tuple[int, int], list[int]] = {}
        for member, key in enumerate(zip(map(id, hyper.hidden), map(id, hyper.regularizer))):
            by_components.setdefault(key, []).append(member)
        self._groups = []
        for members in map(np.array, by_components.values()):
            first = members[0]
            forms = _ExactForms.of(hyper.hidden[first], hyper.regularizer[first])
            assert forms is not None, "build_engine checked that every component compiles"
            group_inputs = np.ascontiguousarray(inputs[members].transpose(1, 2, 0))
            group_labels = np.ascontiguousarray(labels[members].T)
            self._groups.append(
                _Group(members, forms, group_inputs[: self.num_train], group_labels[: self.num_train],
                       group_inputs, group_labels)
            )  # fmt: skip

    def train_epochs(self, epochs: int = 1) -> None:
        """Train every member for ``epochs`` passes over its training set."""
        flat, dead = self.params.flat, self.params.dead
        output = self._output
        carry = self.carry_count
        for group in self._groups:
            members, forms = group.members, group.forms
            p = np.ascontiguousarray(flat[members].T)
            d = np.ascontiguousarray(dead[members].T)
            acc = np.ascontiguousarray(self._acc[members].T)
            self.carry_count = self._kernel.train(
                p, d, acc, carry, group.train_inputs, group.train_labels, self._layout, self._is_weight,
                self._learning_rate[members], self._regularization_rate[members], self.hyper.batch_size,
                epochs, self._max_lanes, forms.activation, forms.derivative, output.activation,
                output.derivative, forms.penalty_derivative, forms.clips,
            )  # fmt: skip
            flat[members], dead[members], self._acc[members] = p.T, d.T, acc.T

    def evaluate(self) -> Evaluation:
        """Forward every training and test point with the current weights: losses and accuracies."""
        k = self.params.k
        loss, accuracy = np.empty((2, k)), np.empty((2, k))
        for group in self._groups:
            p = np.ascontiguousarray(self.params.flat[group.members].T)
            group_loss, group_accuracy = np.empty((2, len(group.members))), np.empty((2, len(group.members)))
            self._kernel.evaluate(p, group.inputs, group.labels, self.num_train, self._layout, self._max_lanes,
                                  group.forms.activation, self._output.activation, group_loss, group_accuracy)  # fmt: skip
            loss[:, group.members], accuracy[:, group.members] = group_loss, group_accuracy
        return Evaluation.of(self.params, loss[0], loss[1], accuracy[0], accuracy[1], self.num_test)


def _has_exact_forms(hyper: Hyper) -> bool:
    """Whether every component names exact forms (checked before numba is even imported)."""
    activations = [*hyper.hidden, hyper.output]
    return all(a.exact is not None and a.exact_derivative is not None for a in activations) and all(
        r is None or r.exact_derivative is not None for r in hyper.regularizer
    )


class _ExactForms(NamedTuple):
    """A member's components compiled (:mod:`courseware.jit`), by address: what the kernels call."""

    activation: int
    derivative: int
    penalty_derivative: int
    clips: bool

    @classmethod
    def of(cls, activation: Activation, regularizer: Regularizer | None) -> _ExactForms | None:
        """Compiled forms, or None when numba cannot compile one of them."""
        from courseware import jit

        penalty = regularizer.exact_derivative if regularizer is not None else _no_penalty
        forms = cls(
            jit.address_of(activation.exact, jit.OUTPUT_FORM),
            jit.address_of(activation.exact_derivative, jit.DERIVATIVE_FORM),
            jit.address_of(penalty, jit.OUTPUT_FORM),
            bool(regularizer is not None and regularizer.clips_at_zero),
        )
        return None if None in forms else forms


def _no_penalty(w: np.ndarray, out: np.ndarray) -> None:
    """No regularizer: a derivative of 0, so a weight steps to ``half - (lr * rate) * 0``, i.e. ``half``."""
    for i in range(w.size):
        out[i] = 0.0


class _Group(NamedTuple):
    """Members sharing their hidden activation and regularizer (one kernel call each), with their
    data laid out for the kernels: members last, (points, features, members) and (points, members)."""

    members: np.ndarray
    forms: _ExactForms
    train_inputs: np.ndarray
    train_labels: np.ndarray
    inputs: np.ndarray  # training points, then test points
    labels: np.ndarray


def warm_up(registry: Registry) -> None:
    """Compile, or load from numba's disk cache, everything the exact engine runs: the kernels, every
    registered activation's and regularizer's exact forms, and every feature (the built-in sines are
    compiled on first use). About 5 s the first time after an install, 0.4 s from the cache. A server
    runs this on a thread as it starts, so that no page waits for it; nothing here may stop a server,
    so a component that fails is left to fail where it is used, with its name.
    """
    from courseware import jit, kernel  # noqa: F401  (importing the kernels compiles them)

    forms = [(_no_penalty, jit.OUTPUT_FORM)]
    for activation in registry.all("activations"):
        forms += [(activation.exact, jit.OUTPUT_FORM), (activation.exact_derivative, jit.DERIVATIVE_FORM)]
    for regularizer in registry.all("regularizers"):
        forms.append((regularizer.exact_derivative, jit.OUTPUT_FORM))
    for fn, form in forms:
        if fn is not None:
            jit.address_of(fn, form)
    points = np.zeros(4)
    for feature in registry.all("features"):
        try:
            feature.fn(points, points)
        except Exception:  # noqa: BLE001  (reported, attributed, where the feature is used)
            pass
