"""The Playground's four activations, with its exact derivatives.

Each numpy function writes into ``out`` when given one, so the vectorized paths allocate nothing. NaN
propagates as in JavaScript (``Math.max(0, NaN)`` is NaN), and ReLU's derivative at 0 is 0.

Each activation also has its exact form: loops over 1-D arrays that the exact engine compiles, computing
what ``nn.ts`` computes (``Math.tanh``, ``1 / (1 + Math.exp(-x))``) bit for bit with the V8 ports of
:mod:`courseware.jsmath`.
"""

import numpy as np

from courseware import Activation, hookimpl, jsmath


def _tanh_derivative(z, a, out=None):
    out = np.multiply(a, a, out=out)
    return np.subtract(1.0, out, out=out)


def _relu(z, out=None):
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(z, a, out=None):
    # The original tests `x <= 0 ? 0 : 1`, so NaN gets 1 (not 0 as `x > 0` would give).
    if out is None:
        out = np.empty(np.shape(z))
    np.less_equal(z, 0.0, out=out, casting="unsafe")
    return np.subtract(1.0, out, out=out)


def _sigmoid(z, out=None):
    out = np.negative(z, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    return np.divide(1.0, out, out=out)


def _sigmoid_derivative(z, a, out=None):
    out = np.subtract(1.0, a, out=out)
    return np.multiply(a, out, out=out)


def _linear(z, out=None):
    if out is None:
        return np.array(z, dtype=np.float64, copy=True)
    np.copyto(out, z)
    return out


def _linear_derivative(z, a, out=None):
    if out is None:
        return np.ones_like(z, dtype=np.float64)
    out.fill(1.0)
    return out


# -- exact forms (compiled by numba; see Activation) ---------------------------------------------------


def _exact_tanh_derivative(z, a, out):
    for i in range(z.size):
        out[i] = 1.0 - a[i] * a[i]  # nn.ts recomputes tanh(x); a is that value


def _exact_relu(z, out):
    for i in range(z.size):
        x = z[i]
        out[i] = x if (x > 0.0 or x != x) else 0.0  # Math.max(0, x): NaN stays NaN, -0 gives 0


def _exact_relu_derivative(z, a, out):
    for i in range(z.size):
        out[i] = 0.0 if z[i] <= 0.0 else 1.0


def _exact_sigmoid(z, out):
    minus_z = np.empty_like(z)  # not exp_into(out, out): arrays that may overlap defeat SIMD
    for i in range(z.size):
        minus_z[i] = -z[i]
    jsmath.exp_into(minus_z, out)
    for i in range(z.size):
        out[i] = 1.0 / (1.0 + out[i])  # 1 / (1 + Math.exp(-x))


def _exact_sigmoid_derivative(z, a, out):
    for i in range(z.size):
        out[i] = a[i] * (1.0 - a[i])


def _exact_linear(z, out):
    for i in range(z.size):
        out[i] = z[i]


def _exact_linear_derivative(z, a, out):
    for i in range(z.size):
        out[i] = 1.0


@hookimpl
def register_activations(register):
    register(
        Activation(
            "relu", "ReLU", _relu, _relu_derivative, description="max(0, z)",
            exact=_exact_relu, exact_derivative=_exact_relu_derivative,
        )
    )  # fmt: skip
    register(
        Activation(
            "tanh", "Tanh", np.tanh, _tanh_derivative, default=True, description="tanh(z)",
            exact=jsmath.tanh_into, exact_derivative=_exact_tanh_derivative,
        )
    )  # fmt: skip
    register(
        Activation(
            "sigmoid", "Sigmoid", _sigmoid, _sigmoid_derivative, description="1/(1+e^-z)",
            exact=_exact_sigmoid, exact_derivative=_exact_sigmoid_derivative,
        )
    )  # fmt: skip
    register(
        Activation(
            "linear", "Linear", _linear, _linear_derivative, description="z",
            exact=_exact_linear, exact_derivative=_exact_linear_derivative,
        )
    )  # fmt: skip
