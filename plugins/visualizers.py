"""The built-in panels of the playground page, registered as visualizers like any plugin's.

The panels themselves (Bokeh models and their per-frame updates) live in
:mod:`courseware_builtins.panels`, imported the first time a page builds one: commands that never
draw a page (``train``, ``check``, ``plugins``) do not pay for importing Bokeh.
"""

from __future__ import annotations

from typing import Any

from courseware import Visualizer, hookimpl


def _panel(class_name: str) -> Any:
    def create(context: Any) -> Any:
        from courseware_builtins import panels

        return getattr(panels, class_name)(context)

    create.__name__ = create.__qualname__ = f"create_{class_name}"
    return create


@hookimpl
def register_visualizers(register):
    register(Visualizer("datasets", "Datasets", _panel("DatasetPicker"), area="data", order=10,
                        description="The datasets of the problem type as thumbnails; click to pick one."))  # fmt: skip
    register(Visualizer("features", "Features", _panel("FeatureColumn"), area="features", order=10,
                        description="Input features as thumbnails; click to switch one on or off."))  # fmt: skip
    register(Visualizer("network", "Network", _panel("NetworkDiagram"), area="network", order=10,
                        description="Neurons, links sized and coloured by weight, biases; hover and click."))  # fmt: skip
    register(Visualizer("loss", "Loss", _panel("LossChart"), area="output", order=10,
                        description="Train and test loss (and accuracy) with their chart over epochs."))  # fmt: skip
    register(Visualizer("boundary", "Output", _panel("DecisionBoundary"), area="output", order=20,
                        description="The output (or hovered node) over the plane, with the data points."))  # fmt: skip
