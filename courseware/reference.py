"""The reference engine: ``nn.ts``'s arithmetic, one operation at a time in its order.

This is the readable statement of the rule that the compiled kernels (:mod:`courseware.kernel`) run,
and what ``courseware train --reference`` uses. It is a plain per-mini-batch numpy loop that vectorizes
only where that cannot change a single rounding:

* a node's total input starts from its bias and adds ``w * a`` one source at a time;
* gradient accumulators add one sample at a time (a cumulative sum is a sequential sum);
* a source's output derivative starts from 0 and adds ``w * input derivative`` one link at a time;
* weights step by ``(lr/n)*acc``, biases by ``(lr*acc)/n``, exactly as written in the original
  (that is the plain gradient descent optimizer's step; another optimizer's step takes its place);
* activations, regularizers, heads, losses and optimizers use their exact forms (V8's ``Math.tanh``,
  say, not numpy's).

It trains one network, more slowly than the kernels, and gives the same numbers: the tests hold both
to the original's trajectories, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from courseware.components import Activation, Loss, Optimizer, Regularizer
from courseware.components import OutputLayer
from courseware.training import Evaluation, Hyper, Tally
from courseware.network import Parameters


def _output(act: Activation, z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    fn = _compiled(act.exact, "OUTPUT_FORM")
    if fn is None:
        act.output_into(z, out)
    else:
        fn(np.ascontiguousarray(z).ravel(), out.ravel())
    return out


def _derivative(act: Activation, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    fn = _compiled(act.exact_derivative, "DERIVATIVE_FORM")
    if fn is None:
        act.derivative_into(z, a, out)
    else:
        fn(np.ascontiguousarray(z).ravel(), np.ascontiguousarray(a).ravel(), out.ravel())
    return out


def _penalty_derivative(regularizer: Regularizer, w: np.ndarray) -> np.ndarray:
    fn = _compiled(regularizer.exact_derivative, "OUTPUT_FORM")
    if fn is None:
        return np.asarray(regularizer.derivative(w), dtype=np.float64)
    out = np.empty_like(w)
    fn(np.ascontiguousarray(w), out)
    return out


def _head_output(output: OutputLayer, z: np.ndarray) -> np.ndarray:
    """A layer of outputs (points, nodes): the head's activation node by node, or its own output."""
    if output.activation is not None:
        return _output(output.activation, z)
    out = np.empty_like(z)
    fn = _compiled(output.head.exact_output, "HEAD_OUTPUT_FORM")
    if fn is None:
        output.head.output_into(z, out)  # type: ignore[misc]
        return out
    columns = np.empty((z.shape[1], z.shape[0]))
    fn(np.ascontiguousarray(z.T), columns)  # the exact forms see one column per point
    return columns.T.copy()


def _head_backward(output: OutputLayer, z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dL/dz of the output layer from ``g`` = dL/da: ``g`` times the activation's derivative, or the
    head's own backward."""
    if output.activation is not None:
        return g * _derivative(output.activation, z, a)
    fn = _compiled(output.head.exact_backward, "HEAD_BACKWARD_FORM")
    if fn is None:
        out = np.empty_like(z)
        output.head.backward_into(z, a, g, out)  # type: ignore[misc]
        return out
    columns = np.empty((z.shape[1], z.shape[0]))
    fn(*(np.ascontiguousarray(v.T) for v in (z, a, g)), columns)
    return columns.T.copy()


def _loss_derivative(loss: Loss, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    fn = _compiled(loss.exact_derivative, "LOSS_DERIVATIVE_FORM")
    if fn is None:
        out = np.empty_like(a)
        loss.derivative_into(a, t, out)
        return out
    columns = np.empty((a.shape[1], a.shape[0]))
    fn(np.ascontiguousarray(a.T), np.ascontiguousarray(t.T), columns)
    return columns.T.copy()


def _loss_values(loss: Loss, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Each point's loss, (points,)."""
    fn = _compiled(loss.exact_value, "LOSS_VALUE_FORM")
    if fn is None:
        return np.asarray(loss.value(a, t), dtype=np.float64)
    out = np.empty(len(a))
    fn(np.ascontiguousarray(a.T), np.ascontiguousarray(t.T), out)
    return out


def _optimizer_step(optimizer: Optimizer, grad: np.ndarray, count: int, lr: float, is_weight: np.ndarray,
                    state: np.ndarray, t: float) -> np.ndarray:  # fmt: skip
    """The optimizer's step for one network's parameters (P,); updates ``state`` (slots, P) in place."""
    fn = _compiled(optimizer.exact_step, "STEP_FORM")
    if fn is None:
        step = optimizer.step(grad[None], count, np.array([[lr]]), is_weight, state[:, None], np.array([[t]]))
        return np.asarray(step, dtype=np.float64)[0]
    delta = np.empty((len(grad), 1))
    columns = np.ascontiguousarray(state[:, :, None])
    fn(np.ascontiguousarray(grad[:, None]), count, np.array([lr]), np.ascontiguousarray(is_weight), columns,
       np.array([t]), delta)  # fmt: skip
    state[:] = columns[:, :, 0]
    return delta[:, 0]


def _compiled(fn: Callable[..., None] | None, form: str) -> Any | None:
    """A component's exact form, compiled (None if it has none, or numba cannot compile it)."""
    if fn is None:
        return None
    from courseware import jit

    return jit.compile_as(fn, getattr(jit, form))


class ReferenceEngine:
    """One network trained exactly as the original trains it (see the module docstring)."""

    exact = True

    def __init__(
        self,
        params: Parameters,
        hyper: Hyper,
        train_inputs: np.ndarray,
        train_labels: np.ndarray,
        test_inputs: np.ndarray,
        test_labels: np.ndarray,
    ) -> None:
        if params.k != 1:
            raise ValueError("the reference engine trains one network at a time")
        self.params = params
        self.arch = params.arch
        self.hyper = hyper
        output = hyper.output
        self.train_x, self.train_y = train_inputs[0], output.targets(train_labels[0])
        self.test_x, self.test_y = test_inputs[0], output.targets(test_labels[0])
        self.train_classes, self.test_classes = output.classes_of(train_labels[0]), output.classes_of(test_labels[0])
        self._tally = Tally(output, train_labels, test_labels)
        self.num_train, self.num_test = len(self.train_x), len(self.test_x)
        self._acc = np.zeros(params.arch.num_parameters)
        self.carry_count = 0

    def set_hyper(self, hyper: Hyper) -> None:
        self.hyper = hyper

    # -- the original's three steps ------------------------------------------------------------------

    def _forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per layer: totalInput = bias, then += weight * source output, source by source."""
        params, arch = self.params, self.arch
        outputs, totals = [x], [x]
        for layer in range(1, arch.num_layers + 1):
            w = params.weight(layer)[0]
            total = np.broadcast_to(params.bias(layer)[0], (len(x), arch.sizes[layer])).copy()
            source = outputs[-1]
            for j in range(arch.sizes[layer - 1]):
                total += w[j] * source[:, j : j + 1]
            totals.append(total)
            if layer < arch.num_layers:
                outputs.append(_output(self.hyper.hidden[0], total))
            else:
                outputs.append(_head_output(self.hyper.output, total))
        return outputs, totals

    def _backward(self, outputs: list[np.ndarray], totals: list[np.ndarray], target: np.ndarray) -> None:
        """Accumulate each sample's gradient in sample order, as backProp does per call."""
        params, arch, output = self.params, self.arch, self.hyper.output
        output_der = _loss_derivative(output.loss, outputs[-1], target)  # o - t for the squared error
        for layer in range(arch.num_layers, 0, -1):
            if layer == arch.num_layers:
                input_der = _head_backward(output, totals[layer], outputs[layer], output_der)
            else:
                input_der = output_der * _derivative(self.hyper.hidden[0], totals[layer], outputs[layer])
            bias_acc = params.bias(layer, self._acc[None])[0]
            weight_acc = params.weight(layer, self._acc[None])[0]
            bias_acc[:] = _sequential_sum(bias_acc, input_der)
            for j in range(arch.sizes[layer - 1]):
                weight_acc[j] = _sequential_sum(weight_acc[j], input_der * outputs[layer - 1][:, j : j + 1])
            if layer > 1:
                w = params.weight(layer)[0]
                below = np.zeros((len(target), arch.sizes[layer - 1]))
                for i in range(arch.sizes[layer]):
                    below += w[:, i] * input_der[:, i : i + 1]
                output_der = below

    def _update(self, count: int) -> None:
        hyper = self.hyper
        lr = float(hyper.learning_rate[0])
        rate = float(hyper.regularization_rate[0])
        regularizer, optimizer = hyper.regularizer[0], hyper.optimizer[0]
        params = self.params
        flat, dead, acc = params.flat[0], params.dead[0], self._acc
        weights = self.arch.weight_mask
        biases = ~weights
        params.updates[0] += 1.0
        state = params.moments(optimizer.slots)[:, 0]
        # Plain gradient descent: (lr * acc) / n for biases, (lr / n) * acc for weights.
        delta = _optimizer_step(optimizer, acc, count, lr, weights, state, float(params.updates[0]))
        flat[biases] = flat[biases] - delta[biases]
        live = weights & ~dead
        old = flat[live]
        reg = _penalty_derivative(regularizer, old) if regularizer is not None else np.zeros_like(old)
        half = old - delta[live]
        new = half - (lr * rate) * reg
        if regularizer is not None and regularizer.clips_at_zero:
            cross = half * new < 0
            new[cross] = 0.0
            killed = np.flatnonzero(live)[cross]
            flat[live] = new
            dead[killed] = True
        else:
            flat[live] = new
        acc.fill(0.0)

    # -- the engine interface ------------------------------------------------------------------------

    def train_epochs(self, epochs: int = 1) -> None:
        bs = self.hyper.batch_size
        with np.errstate(all="ignore"):
            for _ in range(epochs):
                for start in range(0, self.num_train, bs):
                    stop = min(start + bs, self.num_train)
                    outputs, totals = self._forward(self.train_x[start:stop])
                    self._backward(outputs, totals, self.train_y[start:stop])
                    self.carry_count += stop - start
                    if stop - start == bs:
                        self._update(self.carry_count)
                        self.carry_count = 0

    def evaluate(self) -> Evaluation:
        width = self._tally.width
        loss, hits = np.empty((2, 1)), np.zeros((2, width, 1))
        with np.errstate(all="ignore"):
            parts = ((self.train_x, self.train_y, self.train_classes), (self.test_x, self.test_y, self.test_classes))
            for part, (x, y, classes) in enumerate(parts):
                loss[part, 0], right = self._loss(x, y, classes)
                hits[part, :, 0] = np.bincount(classes[right].astype(np.int64), minlength=width)[:width]
        return Evaluation.of(self.params, loss, hits, self._tally)

    def _loss(self, x: np.ndarray, y: np.ndarray, classes: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean loss (added point by point from 0) and which points are classified right."""
        if len(x) == 0:
            return float("nan"), np.zeros(0, dtype=bool)
        out = self._forward(x)[0][-1]
        total = float(np.cumsum(_loss_values(self.hyper.output.loss, out, y))[-1])
        return total / len(x), self.hyper.output.predicted(out) == classes


def _sequential_sum(start: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``start`` plus the rows of ``terms`` added one at a time (not pairwise): the original's order."""
    stacked = np.concatenate([np.asarray(start)[None], terms.reshape((len(terms),) + np.shape(start))])
    return np.cumsum(stacked, axis=0)[-1]
