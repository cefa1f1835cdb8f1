"""An example third-party courseware plugin: a dataset and an activation.

Installed with pip, it is found through the ``courseware`` entry-point group (see ``pyproject.toml``)
and appears in ``courseware plugins``, in ``courseware train --dataset moons`` and on the page.
"""

import math

import numpy as np

from courseware import Activation, Dataset, hookimpl


def moons(rng, num_samples, noise):
    """Two interleaved half circles, scaled to the plotted square.

    Three draws per point, all from ``rng``: the angle, then the x and y jitter (scaled by noise).
    """
    u = rng.draws(3 * num_samples).reshape(num_samples, 3)
    upper = np.arange(num_samples) < (num_samples + 1) // 2
    angle = u[:, 0] * math.pi
    x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
    y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    x = (x - 0.5) * 3.5 + (u[:, 1] * 2 - 1) * noise * 3
    y = (y - 0.25) * 3.5 + (u[:, 2] * 2 - 1) * noise * 3
    return np.column_stack([x, y, np.where(upper, 1.0, -1.0)])


def leaky_relu(z, out=None):
    return np.maximum(z, 0.01 * z, out=out)


def leaky_relu_derivative(z, a, out=None):
    result = np.where(z > 0, 1.0, 0.01)
    result[np.isnan(z)] = np.nan
    if out is None:
        return result
    np.copyto(out, result)
    return out


MOONS = Dataset("moons", "Two moons", "classification", moons, "Two interleaved half circles.")
LEAKY_RELU = Activation(
    "leaky-relu", "Leaky ReLU", leaky_relu, leaky_relu_derivative, description="max(z, 0.01 z)"
)


@hookimpl
def register_datasets(register):
    register(MOONS)


@hookimpl
def register_activations(register):
    register(LEAKY_RELU)
