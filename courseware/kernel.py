"""The exact training kernels: ``nn.ts``'s per-sample rule, compiled by numba, for K networks.

:mod:`courseware.reference` states the rule one numpy operation at a time; these kernels run the same
arithmetic in the same order for every sample:

* forward: a node's total input starts from its bias and adds ``weight * source output`` source by
  source; its output is the activation's exact form (``Math.tanh`` ported bit for bit for tanh);
* backward: the output nodes' derivatives are the loss's derivative (``output - target`` for the
  Playground's squared error); a node's input derivative is its output derivative times the
  activation's derivative (or, for a row-wise head such as softmax, the head's ``backward``); a
  source node's output derivative is ``0 + w * input derivative`` summed over its outgoing links in
  order (dead links included, with their weight 0);
* accumulation, sample after sample: the input derivative into the bias's accumulator, and
  ``input derivative * source output`` into each live incoming link's;
* update, after every ``batch_size`` samples counted from the start of the epoch (a leftover carries
  into the next epoch): the optimizer turns the accumulated sums into a step ``delta`` (plain
  gradient descent: ``(lr * acc) / n`` for biases, ``(lr / n) * acc`` for weights, as ``nn.ts``
  writes them); biases step to ``b - delta``; live weights to ``half = w - delta``, then ``half -
  (lr * rate) * R'(w)`` with the regularizer's derivative taken at the weight before the step; a
  clipping regularizer (L1) that takes a weight across zero sets it to 0 and kills the link;
* loss: the loss's value per point (``0.5 * ((o - t) * (o - t))``), summed point by point from 0,
  divided by the count; a point is classified right when its predicted class (the sign of a single
  output, else the largest output) is its class.

**Lanes.** Within a mini-batch every sample sees the same weights, and networks never interact, so
forward and backward passes are independent per (sample, network) pair: a *lane*. The kernels lay a
batch's lanes side by side (sample-major: lane ``s * members + k``), give each lane a copy of its
network's weights (``lane_p``, refreshed after every update), and run every step as one loop over the
lanes, which the compiler turns into SIMD code, four to eight lanes at a time. Each lane still performs
exactly its sample's operations in the original's order; only accumulation, the one place where samples
meet, walks the lanes sample by sample. One network with a batch of 10 gets 10 lanes; a cohort of 256
with a batch of 1 gets 256; a cohort is trained in chunks of members small enough to stay in cache.

Data layouts (members last): parameters (P, K) in :class:`~courseware.network.Parameters`' flat order
(per layer its weights, source-major, then its biases); inputs (points, features, K); labels
(points, K). ``layout`` has a row per layer (row 0: the inputs) giving its size, where its weights and
biases start, and where its nodes start in the (nodes, lanes) arrays. Targets are (points, output
nodes, K), the points' classes (points, K). The activations, head, loss, regularizer and optimizer
arrive as addresses of their compiled exact forms (:func:`courseware.jit.address_of`), gathered in one
``forms`` array, and are called once per layer (or per batch update) for all its nodes and lanes. A head computes its outputs either with an
activation, node by node (``row_wise`` False: the Playground's heads), or with its own forms over the
(output nodes, lanes) block (``row_wise`` True: softmax); the forms of the way not taken are no-ops.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import types

from courseware.jit import (
    CACHE,
    DERIVATIVE_FORM,
    HEAD_BACKWARD_FORM,
    HEAD_OUTPUT_FORM,
    LOSS_DERIVATIVE_FORM,
    LOSS_VALUE_FORM,
    OPTIONS,
    OUTPUT_FORM,
    STEP_FORM,
    callable_as,
)

SIZE, WEIGHTS, BIASES, NODES = 0, 1, 2, 3
"""Columns of a ``layout`` row."""

_f8, _i8, _b1 = types.float64, types.int64, types.boolean
_output_form, _derivative_form = callable_as(OUTPUT_FORM), callable_as(DERIVATIVE_FORM)
_head_output_form, _head_backward_form = callable_as(HEAD_OUTPUT_FORM), callable_as(HEAD_BACKWARD_FORM)
_loss_value_form, _loss_derivative_form = callable_as(LOSS_VALUE_FORM), callable_as(LOSS_DERIVATIVE_FORM)
_step_form = callable_as(STEP_FORM)


def layout_of(sizes: tuple[int, ...], offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The (layers + 1, 4) int64 ``layout`` of an architecture (see the module docstring)."""
    layout = np.zeros((len(sizes), 4), dtype=np.int64)
    position = 0
    for layer, size in enumerate(sizes):
        weights, biases = offsets[layer] if layer else (0, 0)
        layout[layer] = (size, weights, biases, position)
        position += size
    return layout


@numba.njit(inline="always", **OPTIONS)
def _layers(nodes: np.ndarray, layout: np.ndarray) -> list[np.ndarray]:
    """Each layer's rows of a (nodes, lanes) array as one flat view, for the activation calls (made
    once per call: slicing per sample would cost more than a small network's arithmetic)."""
    return [nodes[layout[l, NODES] : layout[l, NODES] + layout[l, SIZE]].reshape(-1) for l in range(layout.shape[0])]


@numba.njit(inline="always", **OPTIONS)
def _spread(p: np.ndarray, first: int, members: int, lane_p: np.ndarray) -> None:
    """Give every lane its network's parameters: lane ``s * members + k`` gets member ``first + k``'s."""
    for q in range(p.shape[0]):
        for s in range(lane_p.shape[1] // members):
            for k in range(members):
                lane_p[q, s * members + k] = p[q, first + k]


@numba.njit(inline="always", **OPTIONS)
def _load(inputs: np.ndarray, start: int, samples: int, first: int, members: int, a: np.ndarray) -> None:
    """Points ``start .. start + samples`` of members ``first ..`` into the input rows of ``a``."""
    for j in range(inputs.shape[1]):
        for s in range(samples):
            for k in range(members):
                a[j, s * members + k] = inputs[start + s, j, first + k]


@numba.njit(inline="always", **OPTIONS)
def _rows(nodes: np.ndarray, layout: np.ndarray, layer: int) -> np.ndarray:
    """One layer's rows of a (nodes, lanes) array: a (layer size, lanes) view."""
    return nodes[layout[layer, NODES] : layout[layer, NODES] + layout[layer, SIZE]]


@numba.njit(inline="always", **OPTIONS)
def _forward(lane_p: np.ndarray, layout: np.ndarray, lanes: int, z: np.ndarray, a: np.ndarray,
             z_layers: list[np.ndarray], a_layers: list[np.ndarray], z_out: np.ndarray, a_out: np.ndarray,
             hidden: Any, output: Any, head_output: Any, row_wise: bool) -> None:  # fmt: skip
    """Every lane's sample through its network (``forwardProp``): each node's ``z`` and ``a``."""
    last = layout.shape[0] - 1
    for layer in range(1, last + 1):
        n_in, n_out = layout[layer - 1, SIZE], layout[layer, SIZE]
        weights, biases = layout[layer, WEIGHTS], layout[layer, BIASES]
        source, node = layout[layer - 1, NODES], layout[layer, NODES]
        for i in range(n_out):
            for lane in range(lanes):
                z[node + i, lane] = lane_p[biases + i, lane]
            for j in range(n_in):
                w = weights + j * n_out + i
                for lane in range(lanes):
                    z[node + i, lane] += lane_p[w, lane] * a[source + j, lane]
        if layer < last:
            hidden(z_layers[layer], a_layers[layer])
        elif row_wise:
            head_output(z_out, a_out)
        else:
            output(z_layers[layer], a_layers[layer])


@numba.njit(inline="always", **OPTIONS)
def _backward(lane_p: np.ndarray, layout: np.ndarray, lanes: int, targets: np.ndarray, der: np.ndarray,
              d_output: np.ndarray, d_input: np.ndarray, z_layers: list[np.ndarray], a_layers: list[np.ndarray],
              der_layers: list[np.ndarray], outputs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
              hidden_derivative: Any, output_derivative: Any, head_backward: Any, row_wise: bool,
              loss_derivative: Any) -> None:  # fmt: skip
    """Every node's input derivative in every lane (``backProp``, without the accumulation).
    ``outputs`` are the output layer's rows of ``z``, ``a``, ``d_output`` and ``d_input``."""
    last = layout.shape[0] - 1
    z_out, a_out, d_output_out, d_input_out = outputs
    loss_derivative(a_out, targets, d_output_out)
    for layer in range(last, 0, -1):
        n_in, n_out = layout[layer - 1, SIZE], layout[layer, SIZE]
        weights = layout[layer, WEIGHTS]
        source, node = layout[layer - 1, NODES], layout[layer, NODES]
        if layer == last and row_wise:
            head_backward(z_out, a_out, d_output_out, d_input_out)
        else:
            derivative = output_derivative if layer == last else hidden_derivative
            derivative(z_layers[layer], a_layers[layer], der_layers[layer])
            for i in range(n_out):
                for lane in range(lanes):
                    d_input[node + i, lane] = d_output[node + i, lane] * der[node + i, lane]
        if layer > 1:
            for j in range(n_in):
                for lane in range(lanes):
                    d_output[source + j, lane] = 0.0
                for i in range(n_out):
                    w = weights + j * n_out + i
                    for lane in range(lanes):
                        d_output[source + j, lane] += lane_p[w, lane] * d_input[node + i, lane]


@numba.njit(inline="always", **OPTIONS)
def _accumulate(acc: np.ndarray, dead: np.ndarray, layout: np.ndarray, first: int, members: int,
                samples: int, a: np.ndarray, d_input: np.ndarray) -> None:  # fmt: skip
    """Add each sample's derivatives to its network's accumulators, sample after sample."""
    for layer in range(1, layout.shape[0]):
        n_in, n_out = layout[layer - 1, SIZE], layout[layer, SIZE]
        weights, biases = layout[layer, WEIGHTS], layout[layer, BIASES]
        source, node = layout[layer - 1, NODES], layout[layer, NODES]
        for i in range(n_out):
            for s in range(samples):
                for k in range(members):
                    acc[biases + i, first + k] += d_input[node + i, s * members + k]
            for j in range(n_in):
                w = weights + j * n_out + i
                for s in range(samples):
                    for k in range(members):
                        lane = s * members + k
                        live = not dead[w, first + k]  # a dead link no longer accumulates
                        term = d_input[node + i, lane] * a[source + j, lane]
                        acc[w, first + k] = acc[w, first + k] + term if live else acc[w, first + k]


@numba.njit(inline="always", **OPTIONS)
def _update(p: np.ndarray, dead: np.ndarray, acc: np.ndarray, first: int, members: int, before: np.ndarray,
            grad: np.ndarray, delta: np.ndarray, penalty: np.ndarray, is_weight: np.ndarray, count: int,
            learning_rate: np.ndarray, regularization_rate: np.ndarray, penalty_derivative: Any, clips: bool,
            step: Any, state: np.ndarray, updates: np.ndarray) -> None:  # fmt: skip
    """One batch update of members ``first ..`` from ``count`` samples (``updateWeights``); clears
    their accumulators. ``before``, ``grad``, ``delta`` and ``penalty`` are (P, members) scratch;
    ``learning_rate``, ``state`` and ``updates`` are the members' own (contiguous copies, or the
    arrays themselves when the chunk holds every network, as the gradient then is ``acc``)."""
    whole = members == p.shape[1]
    for q in range(p.shape[0]):
        for k in range(members):
            before[q, k] = p[q, first + k]
    if not whole:
        for q in range(p.shape[0]):
            for k in range(members):
                grad[q, k] = acc[q, first + k]
    penalty_derivative(before.reshape(-1), penalty.reshape(-1))  # at the weights before this step
    for k in range(members):
        updates[k] += 1.0
    step(acc if whole else grad, count, learning_rate, is_weight, state, updates, delta)
    for q in range(p.shape[0]):
        if is_weight[q]:
            for k in range(members):
                half = before[q, k] - delta[q, k]
                new = half - (learning_rate[k] * regularization_rate[first + k]) * penalty[q, k]
                kill = clips and half * new < 0.0
                live = not dead[q, first + k]
                p[q, first + k] = (0.0 if kill else new) if live else before[q, k]
                dead[q, first + k] = dead[q, first + k] or (live and kill)
        else:
            for k in range(members):
                p[q, first + k] = before[q, k] - delta[q, k]
        for k in range(members):
            acc[q, first + k] = 0.0


@numba.njit(inline="always", **OPTIONS)
def _load_targets(targets: np.ndarray, start: int, samples: int, first: int, members: int, t: np.ndarray) -> None:
    """The targets of points ``start .. start + samples`` of members ``first ..`` into ``t`` (nodes, lanes)."""
    for c in range(targets.shape[1]):
        for s in range(samples):
            for k in range(members):
                t[c, s * members + k] = targets[start + s, c, first + k]


# Slots of the ``forms`` array the kernels take: the addresses of the components' compiled forms (see
# courseware.engine), and two flags. One array rather than a dozen arguments: numba's dispatcher pays
# for every argument of every call, and a small network trains one epoch per call.
HIDDEN, HIDDEN_DERIVATIVE, OUTPUT, OUTPUT_DERIVATIVE, HEAD_OUTPUT, HEAD_BACKWARD, ROW_WISE = range(7)
LOSS_VALUE, LOSS_DERIVATIVE, PENALTY_DERIVATIVE, CLIPS, STEP = range(7, 12)
FORMS = 12


@numba.njit(
    _i8(_f8[:, ::1], _b1[:, ::1], _f8[:, ::1], _i8, _f8[:, :, ::1], _f8[:, :, ::1], _i8[:, ::1], _b1[::1],
        _f8[::1], _f8[::1], _i8, _i8, _i8, _i8[::1], _f8[:, :, ::1], _f8[::1]),
    cache=CACHE, **OPTIONS,
)  # fmt: skip
def train(p: np.ndarray, dead: np.ndarray, acc: np.ndarray, carry: int, inputs: np.ndarray, targets: np.ndarray,
          layout: np.ndarray, is_weight: np.ndarray, learning_rate: np.ndarray, regularization_rate: np.ndarray,
          batch_size: int, epochs: int, max_lanes: int, forms: np.ndarray, state: np.ndarray,
          updates: np.ndarray) -> int:  # fmt: skip
    """Train every network ``epochs`` epochs on its own points (``oneStep``), in place.

    ``carry`` samples are already accumulated in ``acc`` from earlier epochs; returns how many are
    accumulated after (the same for every network). A pass takes up to ``max_lanes`` lanes: as many
    networks as fit, and as many of a batch's samples as then fit (one network: the whole batch).
    ``forms`` holds the components' compiled forms (the slots above), ``state`` (slots, P, K) is the
    optimizer's memory and ``updates`` (K,) the updates made so far.
    """
    hidden, hidden_derivative = _output_form(forms[HIDDEN]), _derivative_form(forms[HIDDEN_DERIVATIVE])
    output, output_derivative = _output_form(forms[OUTPUT]), _derivative_form(forms[OUTPUT_DERIVATIVE])
    head_output, head_backward = _head_output_form(forms[HEAD_OUTPUT]), _head_backward_form(forms[HEAD_BACKWARD])
    row_wise, clips = forms[ROW_WISE] != 0, forms[CLIPS] != 0
    loss_derivative = _loss_derivative_form(forms[LOSS_DERIVATIVE])
    penalty_derivative = _output_form(forms[PENALTY_DERIVATIVE])
    step = _step_form(forms[STEP])
    num_params, num_points, num_networks = p.shape[0], inputs.shape[0], p.shape[1]
    num_outputs, slots = targets.shape[1], state.shape[0]
    # Lanes: up to ``per_pass`` samples of a batch for each of ``chunk`` networks.
    per_pass = max(1, min(batch_size, max_lanes // num_networks))
    chunk = max(1, min(num_networks, max_lanes // per_pass))
    lanes = per_pass * chunk
    nodes = layout[-1, NODES] + layout[-1, SIZE]
    z, a, der = np.zeros((nodes, lanes)), np.zeros((nodes, lanes)), np.zeros((nodes, lanes))
    d_output, d_input = np.zeros((nodes, lanes)), np.zeros((nodes, lanes))
    z_layers, a_layers, der_layers = _layers(z, layout), _layers(a, layout), _layers(der, layout)
    last = layout.shape[0] - 1
    outputs = (_rows(z, layout, last), _rows(a, layout, last), _rows(d_output, layout, last),
               _rows(d_input, layout, last))  # fmt: skip
    lane_p, t = np.zeros((num_params, lanes)), np.zeros((num_outputs, lanes))
    count = carry
    for first in range(0, num_networks, chunk):
        members = min(chunk, num_networks - first)
        before, penalty = np.zeros((num_params, members)), np.zeros((num_params, members))
        whole = members == num_networks  # one chunk holds every network: no copies needed
        grad, delta = np.zeros((num_params, 0 if whole else members)), np.zeros((num_params, members))
        rates, member_state, member_updates = learning_rate, state, updates
        if not whole:  # this chunk's own copies (loops: slicing compiles several times slower)
            rates, member_updates = np.empty(members), np.empty(members)
            member_state = np.empty((slots, num_params, members))
            for k in range(members):
                rates[k], member_updates[k] = learning_rate[first + k], updates[first + k]
                for slot in range(slots):
                    for q in range(num_params):
                        member_state[slot, q, k] = state[slot, q, first + k]
        _spread(p, first, members, lane_p)
        count = carry
        for _ in range(epochs):
            for start in range(0, num_points, batch_size):
                stop = min(start + batch_size, num_points)
                for pass_start in range(start, stop, per_pass):
                    samples = min(per_pass, stop - pass_start)
                    used = samples * members
                    _load(inputs, pass_start, samples, first, members, a)
                    _load_targets(targets, pass_start, samples, first, members, t)
                    _forward(lane_p, layout, used, z, a, z_layers, a_layers, outputs[0], outputs[1], hidden, output,
                             head_output, row_wise)  # fmt: skip
                    _backward(lane_p, layout, used, t, der, d_output, d_input, z_layers, a_layers, der_layers, outputs,
                              hidden_derivative, output_derivative, head_backward, row_wise, loss_derivative)  # fmt: skip
                    _accumulate(acc, dead, layout, first, members, samples, a, d_input)
                count += stop - start
                if stop - start == batch_size:
                    _update(p, dead, acc, first, members, before, grad, delta, penalty, is_weight, count, rates,
                            regularization_rate, penalty_derivative, clips, step, member_state, member_updates)  # fmt: skip
                    _spread(p, first, members, lane_p)
                    count = 0
        if not whole:
            for k in range(members):  # (loops, not slice assignments: they compile several times faster)
                for slot in range(slots):
                    for q in range(num_params):
                        state[slot, q, first + k] = member_state[slot, q, k]
                updates[first + k] = member_updates[k]
    return count


@numba.njit(
    types.void(_f8[:, ::1], _f8[:, :, ::1], _f8[:, :, ::1], _f8[:, ::1], _i8, _i8[:, ::1], _i8, _i8[::1],
               _f8[:, ::1], _f8[:, :, ::1], _f8[:, ::1]),
    cache=CACHE, **OPTIONS,
)  # fmt: skip
def evaluate(p: np.ndarray, inputs: np.ndarray, targets: np.ndarray, classes: np.ndarray, num_train: int,
             layout: np.ndarray, max_lanes: int, forms: np.ndarray, loss: np.ndarray, hits: np.ndarray,
             accuracy: np.ndarray) -> None:  # fmt: skip
    """Each network's loss on its training points (the first ``num_train``) and on its test points (the
    rest), into rows 0 and 1 of ``loss`` (``getLoss``); in ``hits[part, c, k]`` how many points of
    class ``c`` it classified right (``classes`` holds each point's class), and in ``accuracy`` the
    share of each part's points classified right."""
    hidden, output = _output_form(forms[HIDDEN]), _output_form(forms[OUTPUT])
    head_output, loss_value = _head_output_form(forms[HEAD_OUTPUT]), _loss_value_form(forms[LOSS_VALUE])
    row_wise = forms[ROW_WISE] != 0
    num_points, num_networks, num_outputs = inputs.shape[0], p.shape[1], targets.shape[1]
    chunk = min(num_networks, max_lanes)
    block = max(1, min(num_points, max_lanes // chunk))  # points per pass
    lanes = block * chunk
    nodes, out = layout[-1, NODES] + num_outputs, layout[-1, NODES]
    z, a = np.zeros((nodes, lanes)), np.zeros((nodes, lanes))
    z_layers, a_layers = _layers(z, layout), _layers(a, layout)
    last = layout.shape[0] - 1
    z_out, a_out = _rows(z, layout, last), _rows(a, layout, last)
    lane_p, t, values = np.zeros((p.shape[0], lanes)), np.zeros((num_outputs, lanes)), np.zeros(lanes)
    loss.fill(0.0)
    hits.fill(0.0)
    for first in range(0, num_networks, chunk):
        members = min(chunk, num_networks - first)
        _spread(p, first, members, lane_p)
        for start in range(0, num_points, block):
            samples = min(block, num_points - start)
            _load(inputs, start, samples, first, members, a)
            _load_targets(targets, start, samples, first, members, t)
            _forward(lane_p, layout, samples * members, z, a, z_layers, a_layers, z_out, a_out, hidden, output,
                     head_output, row_wise)  # fmt: skip
            loss_value(a_out, t, values)
            for s in range(samples):
                part = 0 if start + s < num_train else 1
                for k in range(members):
                    lane = s * members + k
                    loss[part, first + k] += values[lane]
                    if num_outputs == 1:
                        predicted = 1 if a[out, lane] >= 0.0 else 0
                    else:
                        predicted = 0
                        for c in range(1, num_outputs):
                            predicted = c if a[out + c, lane] > a[out + predicted, lane] else predicted
                    if predicted == classes[start + s, first + k]:
                        hits[part, predicted, first + k] += 1.0
    num_test = num_points - num_train
    for k in range(num_networks):
        loss[0, k] /= num_train
        loss[1, k] /= num_test
        right_train, right_test = 0.0, 0.0
        for c in range(hits.shape[1]):
            right_train += hits[0, c, k]
            right_test += hits[1, c, k]
        accuracy[0, k] = right_train / num_train
        accuracy[1, k] = right_test / num_test
