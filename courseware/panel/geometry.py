"""Where the network diagram puts things: the Playground's layout constants, shared by the panels.

The original draws the feature column, the hidden layers and the links in one SVG. Here the feature
column and the network are two Bokeh plots side by side, so both must agree on every node's position;
this module is that agreement. Coordinates are the original's SVG pixels (x to the right, y down, origin
at the feature column's left edge); the plots flip y themselves (``plot_y``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RECT_SIZE = 30  # a node's thumbnail, px
BIAS_SIZE = 5
NODE_PITCH = RECT_SIZE + 25  # vertical distance between nodes
INPUT_CX = RECT_SIZE / 2 + 50  # centre of the feature column
FEATURE_WIDTH = 118  # where the hidden layers may start
FEATURE_PLOT_WIDTH = int(INPUT_CX + RECT_SIZE / 2 + 2)  # links start at the feature's right edge (+2)
TOP = 58  # room above the nodes for each layer's +/- buttons and "N neurons"
NETWORK_WIDTH = 640  # feature column's left edge to the output column's left edge
MAX_ROWS = 8  # the tallest column: 8 neurons (features: 7 in the original)
PLOT_HEIGHT = TOP + MAX_ROWS * NODE_PITCH + 10
LINK_SPREAD = 12  # links into one node fan out over this many px


def node_cy(row: int) -> float:
    """Vertical centre of the node in ``row`` (0 at the top)."""
    return TOP + row * NODE_PITCH + RECT_SIZE / 2


def plot_y(svg_y: float) -> float:
    """Bokeh's y (up) for an SVG y (down)."""
    return -svg_y


def range_points(count: int, start: float, stop: float, padding: float = 0.7) -> list[float]:
    """``d3.scale.ordinal().rangePoints([start, stop], padding)`` for ``count`` items (d3 3.5)."""
    if count == 0:
        return []
    step = (stop - start) / (max(1, count - 1) + padding)
    first = start + step * padding / 2
    return [first + step * i for i in range(count)]


@dataclass(frozen=True)
class NetworkLayout:
    """Node centres of one architecture, in SVG pixels (see the module docstring).

    ``input_rows`` maps each *visible* feature to its row in the feature column (all visible features
    are drawn, enabled or not); the architecture's input nodes are the enabled ones.
    """

    node_ids: tuple[tuple[str, ...], ...]
    input_rows: dict[str, int]
    width: float = NETWORK_WIDTH

    @property
    def hidden_x(self) -> list[float]:
        """Left edge of each hidden layer's nodes (the original's ``layerScale``)."""
        # whole pixels, so that thumbnails drawn as 3 px squares line up with the screen's pixels
        return [round(x) for x in range_points(len(self.node_ids) - 2, FEATURE_WIDTH, self.width - RECT_SIZE)]

    def centre(self, layer: int, index: int) -> tuple[float, float]:
        ids = self.node_ids
        if layer == 0:
            return INPUT_CX, node_cy(self.input_rows[ids[0][index]])
        if layer == len(ids) - 1:
            return self.width + RECT_SIZE / 2, node_cy(0)
        return self.hidden_x[layer - 1] + RECT_SIZE / 2, node_cy(index)

    def centres(self) -> dict[str, tuple[float, float]]:
        return {
            node: self.centre(layer, index)
            for layer, nodes in enumerate(self.node_ids)
            for index, node in enumerate(nodes)
        }

    def link_path(self, layer: int, dest_index: int, source_index: int, samples: int = 24) -> tuple[list[float], list[float]]:
        """The original's ``d3.svg.diagonal`` from a source's right edge to the destination's left edge.

        Links into one node spread by their input index over ``LINK_SPREAD`` px. Returns SVG x and y
        sampled along the cubic Bézier curve (sampling lets Bokeh hit-test it as a line).
        """
        sx, sy = self.centre(layer - 1, source_index)
        dx, dy = self.centre(layer, dest_index)
        fan_in = len(self.node_ids[layer - 1])
        x0, y0 = sx + RECT_SIZE / 2 + 2, sy
        x3, y3 = dx - RECT_SIZE / 2, dy + ((source_index - (fan_in - 1) / 2) / fan_in) * LINK_SPREAD
        xm = (x0 + x3) / 2
        xs, ys = [], []
        for k in range(samples + 1):
            t = k / samples
            u = 1 - t
            a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
            xs.append(a * x0 + b * xm + c * xm + d * x3)
            ys.append(a * y0 + b * y0 + c * y3 + d * y3)
        return xs, ys


def visible_features(feature_names: Sequence[str], hidden: Sequence[str]) -> list[str]:
    """Features drawn in the column: a ``<feature>_hide`` flag removes one entirely, as in the original."""
    return [name for name in feature_names if name not in hidden]


def layout_for(
    node_ids: tuple[tuple[str, ...], ...],
    feature_names: Sequence[str],
    hidden: Sequence[str],
    width: float = NETWORK_WIDTH,
) -> NetworkLayout:
    """Where each node goes; ``width`` is the feature column's left edge to the output's (a compact
    page spaces the layers closer)."""
    rows = {name: row for row, name in enumerate(visible_features(feature_names, hidden))}
    # An enabled feature that is also hidden still feeds the network; give it a row below the others.
    for name in node_ids[0]:
        rows.setdefault(name, len(rows))
    return NetworkLayout(node_ids=node_ids, input_rows=rows, width=width)
