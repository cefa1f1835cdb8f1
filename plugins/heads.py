"""Output heads and losses: the Playground's own pairing, and softmax with cross-entropy.

The Playground has one output node: tanh for classification (labels +1/-1), linear for regression,
trained on the squared error ``0.5 * (o - t)**2``. Those are the ``tanh`` and ``linear`` heads with
the ``square`` loss, and through the compiled kernels they give the original's numbers bit for bit:
the loss's derivative ``o - t`` times the activation's derivative, as ``nn.ts`` computes it.

For three or more classes the ``softmax`` head has one node per class, whose outputs are the
probabilities ``exp(z_c) / sum(exp(z))`` (computed from ``z - max(z)``, so nothing overflows), and
``cross-entropy`` is ``-log`` of the probability of the right class. Together their derivative with
respect to ``z`` is ``p - onehot``, computed here the long way (the loss's ``-t/p`` through softmax's
Jacobian) so that any loss can train through softmax and any head can use the squared error. A
probability that underflows to 0 for a point's own class (logits 745 apart) makes the loss infinite:
the network is then reported as diverged.
"""

import numpy as np

from courseware import Head, Loss, hookimpl, jsmath

# -- softmax ----------------------------------------------------------------------------------------


def _softmax(z, out=None):
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = z - np.max(z, axis=-1, keepdims=True)
        e = np.exp(shifted)
        result = e / np.sum(e, axis=-1, keepdims=True)
    if out is None:
        return result
    np.copyto(out, result)
    return out


def _softmax_backward(z, a, g, out=None):
    with np.errstate(invalid="ignore", over="ignore"):
        result = a * (g - np.sum(a * g, axis=-1, keepdims=True))
    if out is None:
        return result
    np.copyto(out, result)
    return out


def _exact_softmax(z, out):
    """Per column: ``exp(z - max) / sum``, with V8's ``Math.exp``, the sum in node order."""
    nodes, points = z.shape
    top = np.empty(points)
    for p in range(points):
        top[p] = z[0, p]
    for c in range(1, nodes):
        for p in range(points):
            v = z[c, p]
            top[p] = v if (v > top[p] or v != v) else top[p]  # NaN wins, so a diverged column stays NaN
    shifted = np.empty((nodes, points))
    for c in range(nodes):
        for p in range(points):
            shifted[c, p] = z[c, p] - top[p]
    jsmath.exp_into(shifted.reshape(-1), out.reshape(-1))
    total = np.zeros(points)
    for c in range(nodes):
        for p in range(points):
            total[p] += out[c, p]
    for c in range(nodes):
        for p in range(points):
            out[c, p] = out[c, p] / total[p]


def _exact_softmax_backward(z, a, g, out):
    nodes, points = a.shape
    weighted = np.zeros(points)
    for c in range(nodes):
        for p in range(points):
            weighted[p] += a[c, p] * g[c, p]
    for c in range(nodes):
        for p in range(points):
            out[c, p] = a[c, p] * (g[c, p] - weighted[p])


# -- squared error -----------------------------------------------------------------------------------


def _square(a, t):
    d = a - t
    return np.sum(0.5 * (d * d), axis=-1)


def _square_derivative(a, t, out=None):
    return np.subtract(a, t, out=out)


def _exact_square(a, t, out):
    """``nn.ts``'s ``0.5 * (o - t) * (o - t)``, added up over the nodes from 0."""
    nodes, points = a.shape
    for p in range(points):
        out[p] = 0.0
    for c in range(nodes):
        for p in range(points):
            d = a[c, p] - t[c, p]
            out[p] += 0.5 * (d * d)


def _exact_square_derivative(a, t, out):
    nodes, points = a.shape
    for c in range(nodes):
        for p in range(points):
            out[c, p] = a[c, p] - t[c, p]


# -- cross-entropy -------------------------------------------------------------------------------------


def _cross_entropy(a, t):
    # Terms with a target of 0 are 0, not 0 * log(0) = NaN: only the right class counts.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(t != 0, -t * np.log(a), 0.0)
    return np.sum(terms, axis=-1)


def _cross_entropy_derivative(a, t, out=None):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(t != 0, -t / a, 0.0)
    if out is None:
        return result
    np.copyto(out, result)
    return out


def _exact_cross_entropy(a, t, out):
    nodes, points = a.shape
    for p in range(points):
        out[p] = 0.0
    for c in range(nodes):
        for p in range(points):
            target = t[c, p]
            if target != 0.0:
                out[p] += -target * jsmath.log(a[c, p])


def _exact_cross_entropy_derivative(a, t, out):
    nodes, points = a.shape
    for c in range(nodes):
        for p in range(points):
            target = t[c, p]
            out[c, p] = -target / a[c, p] if target != 0.0 else 0.0


HEADS = [
    Head("tanh", "One tanh output", "classification", "square", activation="tanh",
         description="The Playground's: one output node with tanh, labels +1 and -1, the class is the sign."),
    Head("linear", "One linear output", "regression", "square", activation="linear",
         description="The Playground's: one output node, its total input as it is."),
    Head("softmax", "Softmax", "classification", "cross-entropy", output=_softmax, backward=_softmax_backward,
         per_class=True, exact_output=_exact_softmax, exact_backward=_exact_softmax_backward,
         description="One output node per class; the outputs are the probabilities of the classes."),
]  # fmt: skip

LOSSES = [
    Loss("square", "Squared error", _square, _square_derivative,
         description="0.5 (output - target)², added over the output nodes: the Playground's loss.",
         exact_value=_exact_square, exact_derivative=_exact_square_derivative),
    Loss("cross-entropy", "Cross-entropy", _cross_entropy, _cross_entropy_derivative, heads=("softmax",),
         description="-log of the probability given to the right class.",
         exact_value=_exact_cross_entropy, exact_derivative=_exact_cross_entropy_derivative),
]  # fmt: skip


@hookimpl
def register_heads(register):
    for head in HEADS:
        register(head)


@hookimpl
def register_losses(register):
    for loss in LOSSES:
        register(loss)
