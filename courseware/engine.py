"""The engine: K networks trained exactly as the original Playground trains them.

:class:`Engine` trains the K networks of a :class:`~courseware.network.Parameters` stack on their own
data, in lockstep, with the compiled kernels of :mod:`courseware.kernel`: ``nn.ts``'s rule, one sample
at a time in its order of operations, with V8's ``Math.tanh`` and ``Math.exp`` ported bit for bit. Its
losses and weights are the original's, ``==``, in every regime, including the unstable ones where one
differing bit grows into a different trajectory within two epochs (``docs/engine.md``, "Exact").

For that, every activation, regularizer, head, loss and optimizer must come with an exact form
(``Activation.exact``, ...): a loop over arrays that numba compiles. The built-ins have one. A plugin
component written only in numpy has not, and :func:`build_engine` then gives the whole stack to the
vectorized numpy engine (:class:`~courseware.vectorized.VectorizedEngine`), which is as fast but
rounds differently.

The rule (the original's ``nn.ts`` and ``playground.ts``; ``docs/engine.md``): an update after every ``batchSize`` samples counted from
the start of the epoch, the leftover samples carried into the next epoch's first batch; parameters step
by the mean gradient times the learning rate (the optimizer's step: plain gradient descent is the
original's); the regularizer's derivative is taken at the pre-step weight, applied once per batch,
never to biases, and an L1 step that crosses zero kills the link; the loss is the mean of the loss's
value per point (``0.5*(o-t)**2`` for the Playground), without the regularization term.
:mod:`courseware.reference` states it one numpy operation at a time.

The output layer is an :class:`OutputLayer`: the head the configuration resolved to (one tanh node for
the Playground's classification, one node per class for softmax), its loss, and how a point's label
becomes the targets of the output nodes and its class.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from courseware.components import Activation, Optimizer, OutputLayer, Regularizer
from courseware.network import Parameters
from courseware.registry import Registry
from courseware.training import Evaluation, Hyper, Tally
from courseware.vectorized import VectorizedEngine


def build_engine(params: Parameters, hyper: Hyper, train_inputs: np.ndarray, train_labels: np.ndarray,
                 test_inputs: np.ndarray, test_labels: np.ndarray) -> Engine | VectorizedEngine:  # fmt: skip
    """The exact :class:`Engine` when every component has a compiled exact form, else the vectorized one.

    Inputs are (K, points, features), labels (K, points): each member's own data, labelled as its
    dataset labels them (the output layer makes targets and classes of them).
    """
    data = (train_inputs, train_labels, test_inputs, test_labels)
    if _has_exact_forms(hyper):
        forms = [_ExactForms.of(*key) for key in zip(hyper.hidden, hyper.regularizer, hyper.optimizer)]
        if _OutputForms.of(hyper.output) is not None and all(f is not None for f in forms):
            return Engine(params, hyper, *data)
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
        output = hyper.output
        self._output = _OutputForms.of(output)
        assert self._output is not None, "build_engine checked that every component compiles"
        self._learning_rate = np.asarray(hyper.learning_rate, dtype=np.float64)
        self._regularization_rate = np.asarray(hyper.regularization_rate, dtype=np.float64)
        inputs, labels = self._data
        self._tally = Tally(output, labels[:, : self.num_train], labels[:, self.num_train :])
        by_components: dict[tuple[int, int, int], list[int]] = {}
        keys = zip(map(id, hyper.hidden), map(id, hyper.regularizer), map(id, hyper.optimizer))
        for member, key in enumerate(keys):
            by_components.setdefault(key, []).append(member)
        self._groups = []
        for members in map(np.array, by_components.values()):
            first = members[0]
            forms = _ExactForms.of(hyper.hidden[first], hyper.regularizer[first], hyper.optimizer[first])
            assert forms is not None, "build_engine checked that every component compiles"
            group_inputs = np.ascontiguousarray(inputs[members].transpose(1, 2, 0))
            group_targets = np.ascontiguousarray(output.targets(labels[members]).transpose(1, 2, 0))
            group_classes = np.ascontiguousarray(output.classes_of(labels[members]).T)
            self._groups.append(
                _Group(members, self._kernel_forms(forms), hyper.optimizer[first].slots, group_inputs[: self.num_train],
                       group_targets[: self.num_train], group_inputs, group_targets, group_classes,
                       np.zeros((0, self.params.flat.shape[1], len(members))), len(members) == self.params.k)
            )  # fmt: skip

    def _kernel_forms(self, forms: _ExactForms) -> np.ndarray:
        """A group's components and the output layer's, in the kernels' ``forms`` slots."""
        kernel, out = self._kernel, self._output
        slots = np.zeros(kernel.FORMS, dtype=np.int64)
        slots[[kernel.HIDDEN, kernel.HIDDEN_DERIVATIVE, kernel.PENALTY_DERIVATIVE, kernel.CLIPS, kernel.STEP]] = (
            forms.activation, forms.derivative, forms.penalty_derivative, forms.clips, forms.step)  # fmt: skip
        slots[[kernel.OUTPUT, kernel.OUTPUT_DERIVATIVE, kernel.HEAD_OUTPUT, kernel.HEAD_BACKWARD, kernel.ROW_WISE,
               kernel.LOSS_VALUE, kernel.LOSS_DERIVATIVE]] = (
            out.activation, out.derivative, out.head_output, out.head_backward, out.row_wise, out.loss_value,
            out.loss_derivative)  # fmt: skip
        return slots

    def train_epochs(self, epochs: int = 1) -> None:
        """Train every member for ``epochs`` passes over its training set."""
        params = self.params
        flat, dead = params.flat, params.dead
        carry = self.carry_count
        for group in self._groups:
            members = group.members
            p = np.ascontiguousarray(flat[members].T)
            d = np.ascontiguousarray(dead[members].T)
            acc = np.ascontiguousarray(self._acc[members].T)
            if group.slots:
                state = np.ascontiguousarray(params.moments(group.slots)[:, members].transpose(0, 2, 1))
            else:
                state = group.no_state  # a stateless optimizer (plain gradient descent): nothing to copy
            updates = params.updates if group.whole else params.updates[members]  # a copy: written back below
            self.carry_count = self._kernel.train(
                p, d, acc, carry, group.train_inputs, group.train_targets, self._layout, self._is_weight,
                self._learning_rate[members], self._regularization_rate[members], self.hyper.batch_size,
                epochs, self._max_lanes, group.kernel_forms, state, updates,
            )  # fmt: skip
            flat[members], dead[members], self._acc[members] = p.T, d.T, acc.T
            if group.slots:
                params.moments(group.slots)[:, members] = state.transpose(0, 2, 1)
            if not group.whole:
                params.updates[members] = updates

    def evaluate(self) -> Evaluation:
        """Forward every training and test point with the current weights: losses and accuracies."""
        k = self.params.k
        width = self._tally.width
        loss, hits, accuracy = np.empty((2, k)), np.empty((2, width, k)), np.empty((2, k))
        for group in self._groups:
            p = np.ascontiguousarray(self.params.flat[group.members].T)
            size = len(group.members)
            if group.whole:  # the kernel writes the results in place
                group_loss, group_hits, group_accuracy = loss, hits, accuracy
            else:
                group_loss, group_hits, group_accuracy = np.empty((2, size)), np.empty((2, width, size)), np.empty((2, size))
            self._kernel.evaluate(p, group.inputs, group.targets, group.classes, self.num_train, self._layout,
                                  self._max_lanes, group.kernel_forms, group_loss, group_hits, group_accuracy)  # fmt: skip
            if not group.whole:
                loss[:, group.members], hits[:, :, group.members] = group_loss, group_hits
                accuracy[:, group.members] = group_accuracy
        return Evaluation.of(self.params, loss, hits, self._tally, accuracy)


def _has_exact_forms(hyper: Hyper) -> bool:
    """Whether every component names exact forms (checked before numba is even imported)."""
    output = hyper.output
    activations = [*hyper.hidden] + ([output.activation] if output.activation is not None else [])
    head = output.head
    return (
        all(a.exact is not None and a.exact_derivative is not None for a in activations)
        and all(r is None or r.exact_derivative is not None for r in hyper.regularizer)
        and all(o.exact_step is not None for o in hyper.optimizer)
        and (output.activation is not None or (head.exact_output is not None and head.exact_backward is not None))
        and output.loss.exact_value is not None
        and output.loss.exact_derivative is not None
    )


class _ExactForms(NamedTuple):
    """A member's components compiled (:mod:`courseware.jit`), by address: what the kernels call."""

    activation: int
    derivative: int
    penalty_derivative: int
    clips: bool
    step: int

    @classmethod
    def of(cls, activation: Activation, regularizer: Regularizer | None, optimizer: Optimizer) -> _ExactForms | None:
        """Compiled forms, or None when numba cannot compile one of them."""
        from courseware import jit

        penalty = regularizer.exact_derivative if regularizer is not None else _no_penalty
        forms = cls(
            jit.address_of(activation.exact, jit.OUTPUT_FORM),
            jit.address_of(activation.exact_derivative, jit.DERIVATIVE_FORM),
            jit.address_of(penalty, jit.OUTPUT_FORM),
            bool(regularizer is not None and regularizer.clips_at_zero),
            jit.address_of(optimizer.exact_step, jit.STEP_FORM),
        )
        return None if None in forms else forms


class _OutputForms(NamedTuple):
    """The output layer compiled, by address: the head's activation or its own forms (the others are
    no-ops the kernels never call), and the loss."""

    activation: int
    derivative: int
    head_output: int
    head_backward: int
    row_wise: bool
    loss_value: int
    loss_derivative: int

    @classmethod
    def of(cls, output: OutputLayer) -> _OutputForms | None:
        from courseware import jit

        activation, head = output.activation, output.head
        forms = cls(
            jit.address_of(activation.exact if activation else _no_output, jit.OUTPUT_FORM),
            jit.address_of(activation.exact_derivative if activation else _no_derivative, jit.DERIVATIVE_FORM),
            jit.address_of(head.exact_output if not activation else _no_head_output, jit.HEAD_OUTPUT_FORM),
            jit.address_of(head.exact_backward if not activation else _no_head_backward, jit.HEAD_BACKWARD_FORM),
            output.row_wise,
            jit.address_of(output.loss.exact_value, jit.LOSS_VALUE_FORM),
            jit.address_of(output.loss.exact_derivative, jit.LOSS_DERIVATIVE_FORM),
        )
        return None if None in forms else forms


def _no_penalty(w: np.ndarray, out: np.ndarray) -> None:
    """No regularizer: a derivative of 0, so a weight steps to ``half - (lr * rate) * 0``, i.e. ``half``."""
    for i in range(w.size):
        out[i] = 0.0


def _no_output(z: np.ndarray, out: np.ndarray) -> None:
    """Stands in for the output activation of a row-wise head (never called)."""


def _no_derivative(z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    """Stands in for the output activation's derivative of a row-wise head (never called)."""


def _no_head_output(z: np.ndarray, out: np.ndarray) -> None:
    """Stands in for the forms of a head by activation (never called)."""


def _no_head_backward(z: np.ndarray, a: np.ndarray, g: np.ndarray, out: np.ndarray) -> None:
    """Stands in for the forms of a head by activation (never called)."""


class _Group(NamedTuple):
    """Members sharing their hidden activation, regularizer and optimizer (one kernel call each), with
    their data laid out for the kernels: members last, (points, features, members), (points, nodes,
    members) and (points, members)."""

    members: np.ndarray
    kernel_forms: np.ndarray  # the group's and the output layer's compiled forms, by address (see kernel.FORMS)
    slots: int
    train_inputs: np.ndarray
    train_targets: np.ndarray
    inputs: np.ndarray  # training points, then test points
    targets: np.ndarray
    classes: np.ndarray
    no_state: np.ndarray  # (0, P, members): the state of an optimizer without one
    whole: bool  # the group is every member, in order


def warm_up(registry: Registry) -> None:
    """Compile, or load from numba's disk cache, everything the exact engine runs: the kernels, every
    registered activation's, regularizer's, head's, loss's and optimizer's exact forms, and every
    feature (the built-in sines are compiled on first use). About 5 s the first time after an install,
    0.4 s from the cache. A server runs this on a thread as it starts, so that no page waits for it;
    nothing here may stop a server, so a component that fails is left to fail where it is used, with
    its name.
    """
    from courseware import jit, kernel  # noqa: F401  (importing the kernels compiles them)

    forms: list[tuple[Any, Any]] = [
        (_no_penalty, jit.OUTPUT_FORM), (_no_output, jit.OUTPUT_FORM), (_no_derivative, jit.DERIVATIVE_FORM),
        (_no_head_output, jit.HEAD_OUTPUT_FORM), (_no_head_backward, jit.HEAD_BACKWARD_FORM),
    ]  # fmt: skip
    for activation in registry.all("activations"):
        forms += [(activation.exact, jit.OUTPUT_FORM), (activation.exact_derivative, jit.DERIVATIVE_FORM)]
    for regularizer in registry.all("regularizers"):
        forms.append((regularizer.exact_derivative, jit.OUTPUT_FORM))
    for head in registry.all("heads"):
        forms += [(head.exact_output, jit.HEAD_OUTPUT_FORM), (head.exact_backward, jit.HEAD_BACKWARD_FORM)]
    for loss in registry.all("losses"):
        forms += [(loss.exact_value, jit.LOSS_VALUE_FORM), (loss.exact_derivative, jit.LOSS_DERIVATIVE_FORM)]
    for optimizer in registry.all("optimizers"):
        forms.append((optimizer.exact_step, jit.STEP_FORM))
    for fn, form in forms:
        if fn is not None:
            jit.address_of(fn, form)
    points = np.zeros(4)
    for feature in registry.all("features"):
        try:
            feature.fn(points, points)
        except Exception:  # noqa: BLE001  (reported, attributed, where the feature is used)
            pass
