"""Vectorized numpy passes: the display grid, and the engine for components without an exact form.

:class:`GridPass` computes every node's output over the 100×100 grid for the heatmaps and
thumbnails, in float32: display only, so numpy's rounding is fine there.

:class:`VectorizedEngine` trains K networks with numpy, a mini-batch at a time. The exact engine
(:mod:`courseware.engine`) needs every activation and regularizer to come with an exact form it can
compile; a plugin component written only in numpy has none, and trains here instead. It is fast, but its
sums run in BLAS's order rather than the original's sample-by-sample order, so it agrees with the
original only to about 1e-15 per update, and unstable runs drift apart (there is no original to match
for such a component anyway).

Training a small network with numpy is bound by the number of calls, not by arithmetic, so
everything a mini-batch touches is laid out once, when the data is bound: each batch owns contiguous
(K, batch, nodes) buffers for every layer, each layer's ``[a, 1] @ [W; b]`` is one matmul (a column
of ones after the activations, the flat parameter layout giving ``[W; b]``), and all layers'
activations sit side by side so one call takes every derivative. A batch is then about 25 numpy calls,
whatever K is. The update rule is the original's (see :mod:`courseware.kernel`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from courseware.training import Evaluation, Hyper, Tally
from courseware.network import Parameters


def runs(items: Sequence[Any]) -> list[tuple[Any, slice]]:
    """Contiguous runs of the same item: one activation call per run of members sharing it."""
    out: list[tuple[Any, slice]] = []
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i] is not items[start]:
            out.append((items[start], slice(start, i)))
            start = i
    return out


class Call(NamedTuple):
    """An activation (or derivative) call: ``fn(*arrays)`` writes its result into the last array."""

    fn: Callable[..., Any]
    arrays: tuple[np.ndarray, ...]


def _activation_calls(hyper: Hyper, layer: int, last: int, z: np.ndarray, a: np.ndarray,
                      node_major: bool = False) -> list[Call]:  # fmt: skip
    """``a = act(z)`` for one layer's (K, rows, n) views, one call per run of members sharing an
    activation; the output layer's is the head's. ``node_major`` views are (K, n, rows): a row-wise
    head then sees them transposed, its nodes on the last axis."""
    if layer == last:
        if node_major and hyper.output.row_wise:
            z, a = z.transpose(0, 2, 1), a.transpose(0, 2, 1)
        return [Call(hyper.output.output_into, (z, a))]
    return [Call(act.output_into, (z[ks], a[ks])) for act, ks in runs(hyper.hidden)]


# -- the display grid ---------------------------------------------------------------------------------


class _GridLayer(NamedTuple):
    weights_t: np.ndarray  # (K, n_out, n_in)
    inputs: np.ndarray  # (K, n_in, points)
    biases: np.ndarray  # (K, n_out, 1)
    z: np.ndarray  # (K, n_out, points)
    activations: list[Call]


class GridPass:
    """Every node's output over a fixed grid of points, laid out node-major: (K, nodes, points).

    The grid (10,000 points for the page) is the opposite shape of a mini-batch: few nodes, many
    points. Node-major rows make the bias a broadcast along the long contiguous axis and each node's
    map one contiguous row, which is what the heatmaps and thumbnails read. The parameters are copied
    (and cast to ``dtype``) at every :meth:`forward`, so the pass always draws the current network.
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray, dtype: Any = np.float32) -> None:
        arch = params.arch
        k = params.k
        self.params = params
        self.rows = inputs.shape[0]
        self.dtype = np.dtype(dtype)
        self._weights = np.empty(params.flat.shape, dtype=dtype)
        self.a: list[np.ndarray] = [np.ascontiguousarray(np.broadcast_to(inputs.T, (k,) + inputs.T.shape), dtype=dtype)]
        self._plan: list[_GridLayer] = []
        for layer in range(1, arch.num_layers + 1):
            z = np.zeros((k, arch.sizes[layer], self.rows), dtype=dtype)
            a = np.zeros_like(z)
            self._plan.append(
                _GridLayer(
                    params.weight(layer, self._weights).transpose(0, 2, 1),
                    self.a[-1],
                    params.bias(layer, self._weights)[:, :, None],
                    z,
                    _activation_calls(hyper, layer, arch.num_layers, z, a, node_major=True),
                )
            )
            self.a.append(a)
        self._averaging_matrix: np.ndarray | None = None

    def forward(self) -> None:
        with np.errstate(all="ignore"):  # a diverged weight beyond float32's range becomes inf
            np.copyto(self._weights, self.params.flat, casting="unsafe")
            for step in self._plan:
                np.matmul(step.weights_t, step.inputs, step.z)
                np.add(step.z, step.biases, step.z)
                for call in step.activations:
                    call.fn(*call.arrays)

    def outputs(self, layer: int) -> np.ndarray:
        """(K, points, n) view of ``layer``'s outputs."""
        return self.a[layer].transpose(0, 2, 1)

    def maps(self, layer: int, side: int) -> np.ndarray:
        """(K, n, side, side) maps of ``layer``'s nodes, for a square grid of ``side`` × ``side``."""
        k, n, _ = self.a[layer].shape
        return self.a[layer].reshape(k, n, side, side)

    def block_means(self, layer: int, side: int, blocks: int) -> np.ndarray:
        """(K, n, blocks, blocks): each map averaged over ``blocks`` × ``blocks`` equal squares.

        The Playground's 10×10 node thumbnails (``reduceMatrix``). Two small matmuls with an
        averaging matrix, rather than a multi-axis mean over a reshaped copy.
        """
        averaging = self._averaging_matrix
        if averaging is None or averaging.shape != (blocks, side):
            averaging = np.kron(np.eye(blocks), np.full(side // blocks, blocks / side)).astype(self.dtype)
            self._averaging_matrix = averaging
        return averaging @ self.maps(layer, side) @ averaging.T


# -- the vectorized engine ----------------------------------------------------------------------------


class Pass:
    """Buffers for a forward pass of K networks over one fixed set of points.

    ``a[l]`` is (K, rows, n_l + 1) for every layer that feeds another: its outputs and then a column
    of ones, so ``a[l] @ [W; b]`` is the next layer's total input in one matmul. ``a[0]`` holds the
    input features; the output layer's ``a[L]`` is (K, rows, output nodes). The total inputs ``z``
    share ``a``'s layout, and layers 1..L of both lie in one contiguous span (``a_span``, ``z_span``).
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray) -> None:
        arch = params.arch
        last = arch.num_layers
        k, rows = inputs.shape[0], inputs.shape[1]
        widths = [n + 1 for n in arch.sizes[:-1]] + [arch.sizes[-1]]
        self.a0 = np.ones((k, rows, widths[0]))
        self.a0[:, :, : arch.sizes[0]] = inputs
        self.a_span = np.ones(k * rows * sum(widths[1:]))
        self.z_span = np.zeros_like(self.a_span)
        self.a = [self.a0] + _layer_views(self.a_span, k, rows, widths[1:])
        self.z = [self.a0] + _layer_views(self.z_span, k, rows, widths[1:])
        self._plan = []
        for layer in range(1, last + 1):
            n = arch.sizes[layer]
            z, a = self.z[layer][:, :, :n], self.a[layer][:, :, :n]
            matmul = Call(np.matmul, (self.a[layer - 1], params.augmented(layer), z))
            self._plan.append([matmul, *_activation_calls(hyper, layer, last, z, a)])

    def forward(self) -> None:
        for calls in self._plan:
            for call in calls:
                call.fn(*call.arrays)

    @property
    def outputs(self) -> np.ndarray:
        """(K, rows, nodes) output node values."""
        return self.a[-1]


def _layer_views(span: np.ndarray, k: int, rows: int, widths: Sequence[int]) -> list[np.ndarray]:
    """Consecutive (K, rows, width) views of ``span``, one per layer."""
    views, position = [], 0
    for width in widths:
        views.append(span[position : position + k * rows * width].reshape(k, rows, width))
        position += k * rows * width
    return views


# From this many members on, contiguous working buffers beat the fewer calls of the augmented views.
WIDE_FROM = 8


class _Layers(NamedTuple):
    """Per-layer (K, rows, n) views of one quantity, and the contiguous span holding layers 1..L."""

    views: list[np.ndarray]  # index 0 unused
    span: np.ndarray


class _MiniBatch:
    """One mini-batch (or an epoch's leftover tail), compiled into a flat list of numpy calls.

    Two layouts, chosen by K. With few members the cost is the number of calls, so activations are
    written straight into the ones-column buffers the next matmul reads. With many members the cost is
    the work per call, and element-wise operations on those strided views run several times slower
    than on contiguous arrays, so each layer also gets contiguous buffers (``wide``), copied into the
    ones-column buffer once per layer.
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray, targets: np.ndarray,
                 grad: np.ndarray) -> None:  # fmt: skip
        arch = params.arch
        last = arch.num_layers
        k, rows = params.k, inputs.shape[1]
        sizes = arch.sizes
        self.size = rows
        self.wide = k >= WIDE_FROM
        fwd = Pass(params, hyper, inputs)
        if self.wide:
            z, a, der, dz = (_contiguous_layers(k, rows, sizes) for _ in range(4))
        else:
            z = _Layers([fwd.z[0]] + [fwd.z[l][:, :, : sizes[l]] for l in range(1, last + 1)], fwd.z_span)
            a = _Layers([fwd.a[0]] + [fwd.a[l][:, :, : sizes[l]] for l in range(1, last + 1)], fwd.a_span)
            der, dz = (_like(fwd, sizes) for _ in range(2))
        da = [None] + [np.zeros_like(a.views[layer]) for layer in range(1, last + 1)]
        ops: list[Call] = []
        # Forward, per layer: z = [a_in, 1] @ [W; b]; a = act(z); in the wide layout, copy a into
        # the ones-column buffer the next layer reads.
        for layer in range(1, last + 1):
            ops.append(Call(np.matmul, (fwd.a[layer - 1], params.augmented(layer), z.views[layer])))
            ops += _activation_calls(hyper, layer, last, z.views[layer], a.views[layer])
            if self.wide and layer < last:
                ops.append(Call(np.copyto, (fwd.a[layer][:, :, : sizes[layer]], a.views[layer])))
        ops.append(Call(hyper.output.loss.derivative_into, (a.views[last], np.ascontiguousarray(targets), da[last])))
        ops += _derivative_calls(hyper, z, a, der)
        # Per layer, top down: dz = da * der (a row-wise head: its backward); grad [W; b] = [a_in, 1]ᵀ dz;
        # da below = dz Wᵀ.
        for layer in range(last, 0, -1):
            if layer == last and hyper.output.row_wise:
                backward = hyper.output.head.backward_into
                ops.append(Call(backward, (z.views[layer], a.views[layer], da[layer], dz.views[layer])))
            else:
                ops.append(Call(np.multiply, (da[layer], der.views[layer], dz.views[layer])))
            ops.append(Call(np.matmul, (fwd.a[layer - 1].transpose(0, 2, 1), dz.views[layer],
                                        params.augmented(layer, grad))))  # fmt: skip
            if layer > 1:
                w_t = params.weight(layer).transpose(0, 2, 1)
                if self.wide:  # a contiguous copy of Wᵀ, refreshed each batch, multiplies faster
                    copy = np.empty(w_t.shape)
                    ops.append(Call(np.copyto, (copy, w_t)))
                    w_t = copy
                ops.append(Call(np.matmul, (dz.views[layer], w_t, da[layer - 1])))
        self.ops = ops

    def run(self) -> None:
        """The batch's gradient, written into the engine's ``grad`` buffer."""
        for call in self.ops:
            call.fn(*call.arrays)


def _contiguous_layers(k: int, rows: int, sizes: Sequence[int]) -> _Layers:
    span = np.zeros(k * rows * sum(sizes[1:]))
    return _Layers([np.empty(0)] + _layer_views(span, k, rows, sizes[1:]), span)


def _like(fwd: Pass, sizes: Sequence[int]) -> _Layers:
    """A buffer laid out like the pass's ones-column span, viewed per layer without the ones column."""
    span = np.zeros_like(fwd.a_span)
    shapes = [view.shape for view in fwd.a[1:]]
    views, position = [], 0
    for layer, shape in enumerate(shapes, start=1):
        size = int(np.prod(shape))
        views.append(span[position : position + size].reshape(shape)[:, :, : sizes[layer]])
        position += size
    return _Layers([np.empty(0)] + views, span)


def _derivative_calls(hyper: Hyper, z: _Layers, a: _Layers, der: _Layers) -> list[Call]:
    """Calls that fill every layer's derivative, as few as possible.

    When every member shares one hidden activation, the hidden layers are one contiguous span (the
    ones columns in it get a harmless derivative of their own), and so is the whole network when
    the output activation is that same one.
    """
    last = len(z.views) - 1
    output = hyper.output.activation  # None: a row-wise head, whose backward takes the place of der
    hidden_runs = runs(hyper.hidden)
    if len(hidden_runs) == 1:
        act = hidden_runs[0][0]
        if act is output:
            return [Call(act.derivative_into, (z.span, a.span, der.span))]
        out_start = der.span.size - der.views[last].size
        calls = [Call(act.derivative_into, (z.span[:out_start], a.span[:out_start], der.span[:out_start]))]
        calls = calls if out_start else []
    else:
        calls = [
            Call(act.derivative_into, (z.views[layer][ks], a.views[layer][ks], der.views[layer][ks]))
            for act, ks in hidden_runs
            for layer in range(1, last)
        ]
    if output is None:
        return calls
    return calls + [Call(output.derivative_into, (z.views[last], a.views[last], der.views[last]))]


class VectorizedEngine:
    """Trains and evaluates K networks on their own data with numpy (see the module docstring).

    Same interface as :class:`courseware.engine.Engine`; ``exact`` is False.
    """

    exact = False

    def __init__(self, params: Parameters, hyper: Hyper, train_inputs: np.ndarray, train_labels: np.ndarray,
                 test_inputs: np.ndarray, test_labels: np.ndarray) -> None:  # fmt: skip
        self.params = params
        shape = params.flat.shape
        self._grad = np.zeros(shape)
        self._carry = np.zeros(shape)
        self.carry_count = 0
        self._step = np.empty(shape)
        self._is_weight = params.arch.weight_mask
        self._new = np.empty(shape)
        self._reg = np.empty(shape)
        self._reg_new = np.empty(shape)
        self._cross = np.empty(shape, dtype=bool)
        self._live = np.empty(shape, dtype=bool)
        self._weight_mask = params.arch.weight_mask.astype(np.float64)
        self.set_hyper(hyper)
        np.logical_not(params.dead, out=self._live)  # only an L1 update kills links, and it updates _live
        self._any_dead = bool(params.dead.any())

        self.num_train = train_inputs.shape[1]
        self.num_test = test_inputs.shape[1]
        output = hyper.output
        train_targets = output.targets(train_labels)
        bs = hyper.batch_size
        bounds = [(start, min(start + bs, self.num_train)) for start in range(0, self.num_train, bs)]
        batches = [_MiniBatch(params, hyper, train_inputs[:, s:e], train_targets[:, s:e], self._grad) for s, e in bounds]
        self._tail = batches.pop() if batches and batches[-1].size < bs else None
        self._batches = batches

        self._eval = Pass(params, hyper, np.concatenate([train_inputs, test_inputs], axis=1))
        labels = np.concatenate([train_labels, test_labels], axis=1)
        self._eval_targets = output.targets(labels)
        self._eval_classes = output.classes_of(labels).astype(np.int64)
        self._tally = Tally(output, train_labels, test_labels)

    def set_hyper(self, hyper: Hyper) -> None:
        """Learning and regularization rates may change between epochs without a rebuild."""
        self.hyper = hyper
        k = self.params.k
        self._lr = np.asarray(hyper.learning_rate, dtype=np.float64).reshape(k, 1)
        rates = np.asarray(hyper.regularization_rate, dtype=np.float64).reshape(k, 1)
        self._lr_times_rate = self._lr * rates
        self._reg_runs = [(r, ks) for r, ks in runs(hyper.regularizer) if r is not None]
        self._optimizer_runs = runs(hyper.optimizer)
        clips = np.array([bool(r is not None and r.clips_at_zero) for r in hyper.regularizer])
        self._clips = clips.reshape(k, 1) if clips.any() else None

    def train_epochs(self, epochs: int = 1) -> None:
        """Train every member for ``epochs`` passes over its training set."""
        with np.errstate(all="ignore"):
            for _ in range(epochs):
                self._epoch()

    def _epoch(self) -> None:
        bs = self.hyper.batch_size
        for index, batch in enumerate(self._batches):
            batch.run()  # the gradient of one batch, in _grad
            count = bs
            if index == 0 and self.carry_count:
                np.add(self._grad, self._carry, out=self._grad)
                count += self.carry_count
                self.carry_count = 0
            self._update(count)
        if self._tail is not None:
            self._tail.run()
            if self.carry_count:
                np.add(self._carry, self._grad, out=self._carry)
            else:
                np.copyto(self._carry, self._grad)
            self.carry_count += self._tail.size

    def _update(self, count: int) -> None:
        """One batch update of every live parameter from the accumulated gradient."""
        params = self.params
        flat = params.flat
        params.updates += 1.0
        for optimizer, ks in self._optimizer_runs:
            state = params.moments(optimizer.slots)[:, ks]
            t = params.updates[ks, None]
            self._step[ks] = optimizer.step(self._grad[ks], count, self._lr[ks], self._is_weight, state, t)
        if not self._reg_runs and not self._any_dead:
            np.subtract(flat, self._step, flat)
            return
        np.subtract(flat, self._step, out=self._new)
        target = self._new
        if self._reg_runs:
            reg = self._reg
            reg.fill(0.0)
            for regularizer, ks in self._reg_runs:
                reg[ks] = regularizer.derivative(flat[ks])  # at the pre-step weight
            np.multiply(reg, self._lr_times_rate, out=reg)
            np.multiply(reg, self._weight_mask, out=reg)  # never the biases
            np.subtract(self._new, reg, out=self._reg_new)
            target = self._reg_new
            if self._clips is not None:
                cross = self._cross
                np.multiply(self._new, self._reg_new, out=reg)
                np.less(reg, 0.0, out=cross)
                np.logical_and(cross, self._clips, out=cross)
                np.logical_and(cross, self._live, out=cross)
                np.copyto(target, 0.0, where=cross)
                np.copyto(flat, target, where=self._live)
                if cross.any():
                    np.logical_or(self.params.dead, cross, out=self.params.dead)
                    np.logical_and(self._live, ~cross, out=self._live)
                    self._any_dead = True
                return
        np.copyto(flat, target, where=self._live)

    def evaluate(self) -> Evaluation:
        """Forward every training and test point with the current weights: losses and accuracies."""
        output = self.hyper.output
        with np.errstate(all="ignore"):
            self._eval.forward()
            outputs = self._eval.outputs
            values = np.asarray(output.loss.value(outputs, self._eval_targets), dtype=np.float64)
            n = self.num_train
            loss = np.stack([_mean(values[:, :n], n), _mean(values[:, n:], self.num_test)])
            right = output.predicted(outputs) == self._eval_classes
            width = self._tally.width
            hits = np.zeros((2, width, self.params.k))
            for part, span in enumerate((slice(None, n), slice(n, None))):
                classes, correct = self._eval_classes[:, span], right[:, span]
                for c in range(width):
                    hits[part, c] = ((classes == c) & correct).sum(axis=1)
            return Evaluation.of(self.params, loss, hits, self._tally)


def _mean(values: np.ndarray, count: int) -> np.ndarray:
    """Mean over the last axis; an empty set gives NaN (the Playground's 0/0), without a warning."""
    if count == 0:
        return np.full(values.shape[0], np.nan)
    return values.sum(axis=-1) / count
