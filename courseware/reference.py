"""The reference engine: ``nn.ts``'s arithmetic, one operation at a time in its order.

This is the readable statement of the rule that the compiled kernels (:mod:`courseware.kernel`) run,
and what ``courseware train --reference`` uses. It is a plain per-mini-batch numpy loop that vectorizes
only where that cannot change a single rounding:

* a node's total input starts from its bias and adds ``w * a`` one source at a time;
* gradient accumulators add one sample at a time (a cumulative sum is a sequential sum);
* a source's output derivative starts from 0 and adds ``w * input derivative`` one link at a time;
* weights step by ``(lr/n)*acc``, biases by ``(lr*acc)/n``, exactly as written in the original;
* activations and regularizers use their exact forms (V8's ``Math.tanh``, say, not numpy's).

It trains one network, more slowly than the kernels, and gives the same numbers: the tests hold both
to the original's trajectories, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from courseware.components import Activation, Regularizer
from courseware.engine import Evaluation, Hyper
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
        self.train_x, self.train_y = train_inputs[0], train_labels[0]
        self.test_x, self.test_y = test_inputs[0], test_labels[0]
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
            act = self.hyper.hidden[0] if layer < arch.num_layers else self.hyper.output
            totals.append(total)
            outputs.append(_output(act, total))
        return outputs, totals

    def _backward(self, outputs: list[np.ndarray], totals: list[np.ndarray], target: np.ndarray) -> None:
        """Accumulate each sample's gradient in sample order, as backProp does per call."""
        params, arch = self.params, self.arch
        output_der = outputs[-1] - target[:, None]
        for layer in range(arch.num_layers, 0, -1):
            act = self.hyper.hidden[0] if layer < arch.num_layers else self.hyper.output
            input_der = output_der * _derivative(act, totals[layer], outputs[layer])
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
        regularizer = hyper.regularizer[0]
        flat, dead, acc = self.params.flat[0], self.params.dead[0], self._acc
        weights = self.arch.weight_mask
        biases = ~weights
        flat[biases] = flat[biases] - lr * acc[biases] / count
        live = weights & ~dead
        old = flat[live]
        reg = _penalty_derivative(regularizer, old) if regularizer is not None else np.zeros_like(old)
        half = old - (lr / count) * acc[live]
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
        with np.errstate(all="ignore"):
            train_loss, train_acc = self._loss(self.train_x, self.train_y)
            test_loss, test_acc = self._loss(self.test_x, self.test_y)
        values = (np.array([v]) for v in (train_loss, test_loss, train_acc, test_acc))
        return Evaluation.of(self.params, *values, self.num_test)

    def _loss(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        if len(x) == 0:
            return float("nan"), float("nan")
        out = self._forward(x)[0][-1][:, 0]
        diff = out - y
        total = float(np.cumsum(0.5 * (diff * diff))[-1])
        hits = float(np.mean(np.where(out >= 0, 1.0, -1.0) == y))
        return total / len(x), hits


def _sequential_sum(start: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """``start`` plus the rows of ``terms`` added one at a time (not pairwise): the original's order."""
    stacked = np.concatenate([np.asarray(start)[None], terms.reshape((len(terms),) + np.shape(start))])
    return np.cumsum(stacked, axis=0)[-1]
