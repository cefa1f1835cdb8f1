"""An example third-party courseware plugin: a dataset, an activation and a page panel.

Installed with pip, it is found through the ``courseware`` entry-point group (see ``pyproject.toml``)
and appears in ``courseware plugins``, in ``courseware train --dataset moons`` and on the page.
"""

import math

import numpy as np

from courseware import Activation, Dataset, Visualizer, hookimpl


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


class WeightsHistogram:
    """A panel under the playground: the distribution of the network's weights, every frame.

    Bokeh is imported here, not at module level, so that the CLI's commands that never draw a page
    do not pay for it.
    """

    def __init__(self, context):
        from bokeh.models import ColumnDataSource
        from bokeh.plotting import figure

        self.context = context
        self.source = ColumnDataSource({"left": [], "right": [], "count": []})
        self.root = figure(width=300, height=150, title="Weights", toolbar_location=None, name="weights-histogram")
        self.root.quad(left="left", right="right", bottom=0, top="count", source=self.source,
                       fill_color="#0877bd", line_color="white")  # fmt: skip

    def update(self, frame):
        from courseware import panel as ctx

        if not frame.changed & {ctx.WEIGHTS, ctx.NETWORK}:
            return
        weights = self.context.experiment.params.weight_vector()
        counts, edges = np.histogram(weights[np.isfinite(weights)], bins=20)
        self.source.data = {"left": edges[:-1], "right": edges[1:], "count": counts}


WEIGHTS_HISTOGRAM = Visualizer(
    "weights-histogram", "Weights", WeightsHistogram, area="extra", order=50,
    description="A histogram of the network's weights.",
)  # fmt: skip


@hookimpl
def register_visualizers(register):
    register(WEIGHTS_HISTOGRAM)


@hookimpl
def register_datasets(register):
    register(MOONS)


@hookimpl
def register_activations(register):
    register(LEAKY_RELU)
