"""The Playground's four activations, with its exact derivatives.

Each function writes into ``out`` when given one, so the engine's hot loop allocates nothing. NaN
propagates as in JavaScript (``Math.max(0, NaN)`` is NaN), and ReLU's derivative at 0 is 0.
"""

import math

import numpy as np

from courseware import Activation, hookimpl


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


def _sigmoid_scalar(z):
    try:
        return 1 / (1 + math.exp(-z))
    except OverflowError:  # JavaScript's Math.exp overflows to Infinity, and 1/Infinity is 0
        return 0.0


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


@hookimpl
def register_activations(register):
    register(Activation("relu", "ReLU", _relu, _relu_derivative, description="max(0, z)"))
    register(
        Activation(
            "tanh", "Tanh", np.tanh, _tanh_derivative, default=True, description="tanh(z)",
            scalar=math.tanh,
        )
    )
    register(
        Activation(
            "sigmoid", "Sigmoid", _sigmoid, _sigmoid_derivative, description="1/(1+e^-z)",
            scalar=_sigmoid_scalar,
        )
    )
    register(Activation("linear", "Linear", _linear, _linear_derivative, description="z"))
