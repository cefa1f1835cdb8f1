"""courseware: neural-network courseware in the spirit of TensorFlow Playground, built on plugins.

Plugin authors need only what this module exports: the ``hookimpl`` marker and the component classes
they register (see ``docs/plugins.md``).
"""

from courseware.components import (
    Activation,
    DataFormat,
    Dataset,
    Feature,
    Head,
    LessonSource,
    Loss,
    Metric,
    Optimizer,
    Problem,
    Regularizer,
    StepKind,
    Visualizer,
)
from courseware.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "DataFormat",
    "Dataset",
    "Feature",
    "Head",
    "LessonSource",
    "Loss",
    "Metric",
    "Optimizer",
    "Problem",
    "Regularizer",
    "StepKind",
    "Visualizer",
    "__version__",
    "hookimpl",
]
