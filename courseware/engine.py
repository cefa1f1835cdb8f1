"""The fast engine: the Playground's training rule, vectorized over samples and over K networks.

One :class:`Engine` trains the K networks of a :class:`~courseware.network.Parameters` stack on their
own data, in lockstep. Training a small network is bound by the number of numpy calls, not by
arithmetic, so everything a mini-batch touches is laid out once, when the data is bound: each batch
owns contiguous (K, batch, nodes) buffers for every layer, and all layers' activations of a batch sit
side by side so one call takes every derivative. Per batch the engine then makes about 25 numpy calls,
whatever K is.

The rule is ``nn.ts``'s (``reference/playground.md`` §3, §5):

* an update after every ``batchSize`` samples counted from the start of the epoch; the leftover samples
  at the end of an epoch stay accumulated and join the next epoch's first batch;
* parameters step by the mean gradient times the learning rate;
* the regularizer's derivative is taken at the pre-step weight, applied once per batch, not divided by
  n, never to biases; an L1 step that crosses zero sets the weight to 0 and kills the link;
* the loss is the mean of ``0.5*(o-t)**2``, without the regularization term.

Sums here run in BLAS's order rather than the original's one-sample-at-a-time order, and numpy's tanh
may differ from V8's in the last bit, so results agree with the original to about 1e-15 in ordinary
settings; where training is chaotic (a diverging learning rate) such differences grow. The exact
reference, one operation at a time in the original's order, is :mod:`courseware.reference`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from courseware.components import Activation, Regularizer
from courseware.network import Parameters


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


def runs(items: Sequence[Any]) -> list[tuple[Any, slice]]:
    """Contiguous runs of the same item: one activation call per run of members sharing it."""
    out: list[tuple[Any, slice]] = []
    start = 0
    for i in range(1, len(items) + 1):
        if i == len(items) or items[i] is not items[start]:
            out.append((items[start], slice(start, i)))
            start = i
    return out


class Pass:
    """Buffers and views for a forward pass of K networks over one fixed set of points.

    ``a[l]`` is (K, rows, n_l + 1) for every layer that feeds another: its outputs and then a column
    of ones, so ``a[l] @ [W; b]`` is the next layer's total input in one matmul (the flat parameter
    layout stores each layer as exactly that augmented matrix). ``a[0]`` holds the input features.
    The output layer's ``a[L]`` is (K, rows, 1). Pre-activations ``z`` share ``a``'s layout, and the
    layers 1..L of both sit in one contiguous span, so a derivative takes one call.
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray, dtype: Any = np.float64,
                 weights: np.ndarray | None = None, augmented: bool = True) -> None:  # fmt: skip
        arch = params.arch
        last = arch.num_layers
        k, rows = inputs.shape[0], inputs.shape[1]
        self.rows = rows
        self.augmented = augmented
        extra = 1 if augmented else 0
        widths = [n + extra for n in arch.sizes[:-1]] + [1]
        self.a0 = np.ones((k, rows, widths[0]), dtype=dtype)
        self.a0[:, :, : arch.sizes[0]] = inputs
        span = k * rows * sum(widths[1:])
        self.a_span = np.ones(span, dtype=dtype)
        self.z_span = np.zeros(span, dtype=dtype)
        self.a: list[np.ndarray] = [self.a0]
        self.z: list[np.ndarray] = [self.a0]
        pos = 0
        for width in widths[1:]:
            size = k * rows * width
            self.a.append(self.a_span[pos : pos + size].reshape(k, rows, width))
            self.z.append(self.z_span[pos : pos + size].reshape(k, rows, width))
            pos += size
        flat = params.flat if weights is None else weights
        hidden_runs = runs(hyper.hidden)
        self.plan = []
        for layer in range(1, last + 1):
            n = arch.sizes[layer]
            z, a = self.z[layer][:, :, :n], self.a[layer][:, :, :n]
            groups = hidden_runs if layer < last else [(hyper.output, slice(None))]
            acts = [(act.output_into, z[ks], a[ks]) for act, ks in groups]
            if augmented:
                weights_and_bias, bias = params.augmented(layer, flat), None
            else:
                weights_and_bias, bias = params.weight(layer, flat), params.bias(layer, flat)[:, None, :]
            self.plan.append((self.a[layer - 1], weights_and_bias, bias, z, acts))

    def forward(self) -> None:
        matmul, add = np.matmul, np.add
        for a_in, w, b, z, acts in self.plan:
            matmul(a_in, w, out=z)
            if b is not None:
                add(z, b, out=z)
            for output_into, zz, aa in acts:
                output_into(zz, aa)

    def outputs(self, layer: int) -> np.ndarray:
        """(K, rows, n) outputs of ``layer`` (without any ones column)."""
        return self.a[layer][:, :, : self.a[layer].shape[2] - (self.augmented and layer < len(self.a) - 1)]

    @property
    def output(self) -> np.ndarray:
        """(K, rows) output node values."""
        return self.a[-1][:, :, 0]


class GridPass:
    """Every node's output over a fixed grid of points, laid out node-major: (K, nodes, points).

    The grid (10,000 points for the page) is the opposite shape of a mini-batch: few nodes, many
    points. Node-major rows make the bias a broadcast along the long contiguous axis and each node's
    map one contiguous row, which is what the heatmaps and thumbnails read.
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray, dtype: Any, weights: np.ndarray) -> None:
        arch = params.arch
        k = params.k
        self.rows = inputs.shape[0]
        self.dtype = np.dtype(dtype)
        self.a: list[np.ndarray] = [np.ascontiguousarray(np.broadcast_to(inputs.T, (k,) + inputs.T.shape), dtype=dtype)]
        hidden_runs = runs(hyper.hidden)
        self.plan = []
        for layer in range(1, arch.num_layers + 1):
            z = np.zeros((k, arch.sizes[layer], self.rows), dtype=dtype)
            a = np.zeros_like(z)
            groups = hidden_runs if layer < arch.num_layers else [(hyper.output, slice(None))]
            acts = [(act.output_into, z[ks], a[ks]) for act, ks in groups]
            w_t = params.weight(layer, weights).transpose(0, 2, 1)
            bias = params.bias(layer, weights)[:, :, None]
            self.plan.append((w_t, self.a[-1], bias, z, acts))
            self.a.append(a)

    def forward(self) -> None:
        matmul, add = np.matmul, np.add
        for w_t, a_in, b, z, acts in self.plan:
            matmul(w_t, a_in, z)
            add(z, b, z)
            for output_into, zz, aa in acts:
                output_into(zz, aa)

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
        averaging = self._averaging(side, blocks)
        return averaging @ self.maps(layer, side) @ averaging.T

    def _averaging(self, side: int, blocks: int) -> np.ndarray:
        cached = getattr(self, "_avg", None)
        if cached is None or cached.shape != (blocks, side):
            cached = np.kron(np.eye(blocks), np.full(side // blocks, blocks / side)).astype(self.dtype)
            self._avg = cached
        return cached


# From this many members on, contiguous working buffers beat the fewer calls of the augmented views.
WIDE_FROM = 8


class _Batch:
    """One mini-batch (or the leftover tail of an epoch): its forward pass plus backward-pass views.

    Two layouts, chosen by K. With few members the cost is the number of calls, so activations are
    written straight into the ones-column buffers the next matmul reads. With many members the cost is
    the work per call, and element-wise operations on those strided views run several times slower
    than on contiguous arrays, so each layer also gets contiguous buffers (``wide``), copied into the
    ones-column buffer once per layer.
    """

    def __init__(self, params: Parameters, hyper: Hyper, inputs: np.ndarray, labels: np.ndarray,
                 grad: np.ndarray) -> None:  # fmt: skip
        arch = params.arch
        last = arch.num_layers
        k = params.k
        self.wide = k >= WIDE_FROM
        self.size = inputs.shape[1]
        fwd = self.fwd = Pass(params, hyper, inputs)
        self.labels = np.ascontiguousarray(labels)[:, :, None]
        if self.wide:
            work = _Work(k, self.size, arch.sizes, hyper)
            z, a, der, dz = work.z, work.a, work.der, work.dz
            self.derivatives = work.derivatives(hyper)
        else:
            der_span, dz_span = np.zeros_like(fwd.a_span), np.zeros_like(fwd.a_span)
            der, dz = _carve(der_span, fwd), _carve(dz_span, fwd)
            z = [None] + [fwd.z[layer][:, :, : arch.sizes[layer]] for layer in range(1, last + 1)]
            a = [None] + [fwd.a[layer][:, :, : arch.sizes[layer]] for layer in range(1, last + 1)]
            der = [None] + [der[layer][:, :, : arch.sizes[layer]] for layer in range(1, last + 1)]
            dz = [None] + [dz[layer][:, :, : arch.sizes[layer]] for layer in range(1, last + 1)]
            self.derivatives = [(act.derivative_into, zz, aa, dd)
                                for act, zz, aa, dd in _derivative_calls(hyper, fwd, der_span, _carve(der_span, fwd))]  # fmt: skip
        hidden_runs = runs(hyper.hidden)
        # Forward, per layer: z = [a_in, 1] @ [W; b]; a = act(z); in the wide layout, copy a into
        # the ones-column buffer the next layer reads.
        self.forward = []
        for layer in range(1, last + 1):
            groups = hidden_runs if layer < last else [(hyper.output, slice(None))]
            acts = [(act.output_into, z[layer][ks], a[layer][ks]) for act, ks in groups]
            copy = (fwd.a[layer][:, :, : arch.sizes[layer]], a[layer]) if self.wide and layer < last else None
            self.forward.append((fwd.a[layer - 1], params.augmented(layer), z[layer], acts, copy))
        self.output = a[last]
        da = [None] + [np.zeros_like(a[layer]) for layer in range(1, last + 1)]
        self.d_output = da[last]
        # Per layer, top down: dz = da * der; grad [W; b] = [a_in, 1]ᵀ dz; da below = dz Wᵀ.
        self.backward = []
        for layer in range(last, 0, -1):
            w_t = params.weight(layer).transpose(0, 2, 1) if layer > 1 else None
            w_t_copy = np.empty(w_t.shape) if self.wide and w_t is not None else None
            self.backward.append(
                (da[layer], der[layer], dz[layer], fwd.a[layer - 1].transpose(0, 2, 1),
                 params.augmented(layer, grad), w_t, w_t_copy, da[layer - 1] if layer > 1 else None)
            )  # fmt: skip


class _Work:
    """Contiguous per-layer buffers for the wide layout; each kind's layers share one span."""

    def __init__(self, k: int, rows: int, sizes: tuple[int, ...], hyper: Hyper) -> None:
        total = k * rows * sum(sizes[1:])
        self.spans = {name: np.zeros(total) for name in ("z", "a", "der", "dz")}
        self.sizes = sizes
        views: dict[str, list[np.ndarray | None]] = {}
        for name, span in self.spans.items():
            pos, layers = 0, [None]
            for n in sizes[1:]:
                layers.append(span[pos : pos + k * rows * n].reshape(k, rows, n))
                pos += k * rows * n
            views[name] = layers
        self.z, self.a, self.der, self.dz = views["z"], views["a"], views["der"], views["dz"]

    def derivatives(self, hyper: Hyper) -> list[tuple[Any, np.ndarray, np.ndarray, np.ndarray]]:
        last = len(self.sizes) - 1
        hidden_runs = runs(hyper.hidden)
        z, a, der = self.spans["z"], self.spans["a"], self.spans["der"]
        if len(hidden_runs) == 1:
            act = hidden_runs[0][0]
            if act is hyper.output:
                return [(act.derivative_into, z, a, der)]
            out_start = der.size - self.der[last].size
            calls = [(act.derivative_into, z[:out_start], a[:out_start], der[:out_start])] if out_start else []
        else:
            calls = [(act.derivative_into, self.z[layer][ks], self.a[layer][ks], self.der[layer][ks])
                     for act, ks in hidden_runs for layer in range(1, last)]  # fmt: skip
        return calls + [(hyper.output.derivative_into, self.z[last], self.a[last], self.der[last])]


def _program(batch: _Batch) -> list[tuple[Any, tuple[Any, ...]]]:
    """A batch's forward and backward pass as a flat list of (numpy function, positional args).

    Running it is nothing but calls: no attribute lookups, branches or unpacking per operation, which
    for a small network is where a Python training loop spends most of its time.
    """
    ops: list[tuple[Any, tuple[Any, ...]]] = []
    for a_in, w, z, acts, copy in batch.forward:
        ops.append((np.matmul, (a_in, w, z)))
        ops += [(output_into, (zz, aa)) for output_into, zz, aa in acts]
        if copy is not None:
            ops.append((np.copyto, copy))
    ops.append((np.subtract, (batch.output, batch.labels, batch.d_output)))
    ops += [(derivative_into, (z, a, der)) for derivative_into, z, a, der in batch.derivatives]
    for da, der, dz, a_in_t, grad, w_t, w_t_copy, da_below in batch.backward:
        ops.append((np.multiply, (da, der, dz)))
        ops.append((np.matmul, (a_in_t, dz, grad)))
        if w_t is not None:
            if w_t_copy is not None:
                ops.append((np.copyto, (w_t_copy, w_t)))
                w_t = w_t_copy
            ops.append((np.matmul, (dz, w_t, da_below)))
    return ops


def _carve(span: np.ndarray, like: Pass) -> list[np.ndarray]:
    """Per-layer views of ``span`` shaped like the pass's activations (index 0 unused)."""
    views: list[np.ndarray] = [like.a[0]]
    pos = 0
    for layer in range(1, len(like.a)):
        shape = like.a[layer].shape
        size = like.a[layer].size
        views.append(span[pos : pos + size].reshape(shape))
        pos += size
    return views


def _derivative_calls(
    hyper: Hyper, fwd: Pass, der_span: np.ndarray, der: list[np.ndarray]
) -> list[tuple[Activation, np.ndarray, np.ndarray, np.ndarray]]:
    """(activation, z, a, out) calls that fill every layer's derivative, as few as possible.

    When every member shares one hidden activation, the hidden layers are one contiguous span, and
    so is the whole network when the output activation is the same one.
    """
    last = len(fwd.a) - 1
    hidden_runs = runs(hyper.hidden)
    calls = []
    if len(hidden_runs) == 1:
        act = hidden_runs[0][0]
        out_start = der_span.size - der[last].size
        if act is hyper.output:
            return [(act, fwd.z_span, fwd.a_span, der_span)]
        if out_start:
            calls.append((act, fwd.z_span[:out_start], fwd.a_span[:out_start], der_span[:out_start]))
    else:
        for act, ks in hidden_runs:
            for layer in range(1, last):
                calls.append((act, fwd.z[layer][ks], fwd.a[layer][ks], der[layer][ks]))
    calls.append((hyper.output, fwd.z[last], fwd.a[last], der[last]))
    return calls


class Engine:
    """Trains and evaluates K networks on their own data, in lockstep (see the module docstring)."""

    def __init__(
        self,
        params: Parameters,
        hyper: Hyper,
        train_inputs: np.ndarray,
        train_labels: np.ndarray,
        test_inputs: np.ndarray,
        test_labels: np.ndarray,
    ) -> None:
        self.params = params
        self.arch = params.arch
        shape = params.flat.shape
        self._grad = np.zeros(shape)
        self._carry = np.zeros(shape)
        self.carry_count = 0
        self._step = np.empty(shape)
        self._new = np.empty(shape)
        self._reg = np.empty(shape)
        self._reg_new = np.empty(shape)
        self._cross = np.empty(shape, dtype=bool)
        self._live = np.empty(shape, dtype=bool)
        self._weight_mask_f = self.arch.weight_mask.astype(np.float64)
        self.set_hyper(hyper)
        self.refresh_dead()

        self.num_train = train_inputs.shape[1]
        self.num_test = test_inputs.shape[1]
        bs = hyper.batch_size
        full = self.num_train // bs
        bounds = [(c * bs, (c + 1) * bs) for c in range(full)]
        if full * bs < self.num_train:
            bounds.append((full * bs, self.num_train))
        self._batches = [
            _Batch(params, hyper, train_inputs[:, s:e], train_labels[:, s:e], self._grad) for s, e in bounds
        ]
        self._tail = self._batches.pop() if full * bs < self.num_train else None
        self._programs = [_program(batch) for batch in self._batches]
        self._tail_program = _program(self._tail) if self._tail is not None else []

        self._eval = Pass(params, hyper, np.concatenate([train_inputs, test_inputs], axis=1))
        self._eval_labels = np.concatenate([train_labels, test_labels], axis=1)
        self._err = np.empty(self._eval_labels.shape)
        self._grid: GridPass | None = None
        self._grid_weights: np.ndarray | None = None

    # -- settings -----------------------------------------------------------------------------------

    def set_hyper(self, hyper: Hyper) -> None:
        """Learning and regularization rates may change between epochs without a rebuild."""
        self.hyper = hyper
        k = self.params.k
        self._lr = np.asarray(hyper.learning_rate, dtype=np.float64).reshape(k, 1)
        rates = np.asarray(hyper.regularization_rate, dtype=np.float64).reshape(k, 1)
        self._lr_times_rate = self._lr * rates
        self._reg_runs = [(r, ks) for r, ks in runs(hyper.regularizer) if r is not None]
        clips = np.array([bool(r is not None and r.clips_at_zero) for r in hyper.regularizer])
        self._clips = clips.reshape(k, 1) if clips.any() else None
        self._lr_over_n: dict[int, np.ndarray] = {}

    def refresh_dead(self) -> None:
        """Recompute which parameters may learn (after dead flags change outside training)."""
        np.logical_not(self.params.dead, out=self._live)
        self._any_dead = bool(self.params.dead.any())

    # -- training ------------------------------------------------------------------------------------

    def train_epochs(self, epochs: int = 1) -> None:
        """Train every member for ``epochs`` passes over its training set."""
        with np.errstate(all="ignore"):
            for _ in range(epochs):
                self._epoch()

    def _epoch(self) -> None:
        bs = self.hyper.batch_size
        update = self._update
        for index, program in enumerate(self._programs):
            for fn, args in program:  # the gradient of one batch, summed into _grad
                fn(*args)
            count = bs
            if index == 0 and self.carry_count:
                np.add(self._grad, self._carry, out=self._grad)
                count += self.carry_count
                self.carry_count = 0
            update(count)
        if self._tail is not None:
            for fn, args in self._tail_program:
                fn(*args)
            if self.carry_count:
                np.add(self._carry, self._grad, out=self._carry)
            else:
                np.copyto(self._carry, self._grad)
            self.carry_count += self._tail.size

    def _update(self, count: int) -> None:
        """One batch update of every live parameter from the accumulated gradient."""
        flat = self.params.flat
        lr_over_n = self._lr_over_n.get(count)
        if lr_over_n is None:
            lr_over_n = self._lr_over_n[count] = self._lr / count
        np.multiply(self._grad, lr_over_n, self._step)
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
            np.multiply(reg, self._weight_mask_f, out=reg)  # never the biases
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

    # -- evaluation ----------------------------------------------------------------------------------

    def evaluate(self) -> Evaluation:
        """Forward every training and test point with the current weights: losses and accuracies."""
        with np.errstate(all="ignore"):
            self._eval.forward()
            out = self._eval.output
            err = self._err
            np.subtract(out, self._eval_labels, out=err)
            np.multiply(err, err, out=err)
            np.multiply(err, 0.5, out=err)
            n = self.num_train
            train_loss = _mean(err[:, :n], n)
            test_loss = _mean(err[:, n:], self.num_test)
            hits = np.where(out >= 0, 1.0, -1.0) == self._eval_labels
            train_acc = _mean(hits[:, :n], n)
            test_acc = _mean(hits[:, n:], self.num_test)
            finite = np.isfinite(self.params.flat).all(axis=1) & np.isfinite(train_loss)
            if self.num_test:
                finite &= np.isfinite(test_loss)
        return Evaluation(train_loss, test_loss, train_acc, test_acc, ~finite)

    def grid_pass(self, grid_inputs: np.ndarray, dtype: Any = np.float32) -> GridPass:
        """Every node's output at every grid point (see :class:`GridPass`).

        ``grid_inputs`` (points, features) is shared by all members. The buffers persist, so calling
        this every frame allocates nothing; float32 is plenty for display (float64 to compare).
        """
        grid = self._grid
        if grid is None or grid.dtype != np.dtype(dtype) or grid.rows != len(grid_inputs):
            self._grid_weights = np.empty(self.params.flat.shape, dtype=dtype)
            grid = self._grid = GridPass(self.params, self.hyper, grid_inputs, dtype, self._grid_weights)
        assert self._grid_weights is not None
        with np.errstate(all="ignore"):  # a diverged weight beyond float32's range becomes inf
            np.copyto(self._grid_weights, self.params.flat, casting="unsafe")
            grid.forward()
        return grid


def _mean(values: np.ndarray, count: int) -> np.ndarray:
    """Mean over the last axis; an empty set gives NaN (the Playground's 0/0), without a warning."""
    if count == 0:
        return np.full(values.shape[0], np.nan)
    return values.sum(axis=-1) / count
