"""The panel contract: what a page gives its visualizers (documented in ``docs/visualizers.md``).

A visualizer's ``create(context)`` receives a :class:`VisualizerContext` once per browser session and
builds its Bokeh models; its ``update(frame)`` receives a :class:`Frame` after every training frame and
after every change the student makes. The two objects are deliberately small: the live experiment to
read, two ways to act on the page (show a node in the big map, ask for an action), and what changed.

This module sits between the host and its plugins, so both may import it: the server
(``courseware.server``) builds contexts and frames, the built-in and third-party panels read them. It
imports neither Bokeh nor the server, so a panel's module can be imported (and its contract tested)
without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from courseware import scales, shades
from courseware.errors import ComponentError
from courseware.experiment import GRID_SIZE, grid_axes

if TYPE_CHECKING:
    from bokeh.models import CustomJS

    from courseware.training import Evaluation
    from courseware.experiment import Experiment
    from courseware.registry import Registry

THUMBNAIL_SIZE = 10  # the original's reduceMatrix(boundary, 10)
COMPACT_NETWORK_WIDTH = 480  # px from the feature column to the output column on a compact page (the original: 640)

# What can change between two frames (``Frame.changed``).
NETWORK = "network"  # the architecture or the enabled features: node and link sets differ
WEIGHTS = "weights"  # weights or biases (training, an edit, a reset)
DATA = "data"  # the training/test points (regenerate, dataset, noise, ratio, problem)
DISPLAY = "display"  # showTestData, discretize, the node shown in the big map, hidden controls
CONFIG = "config"  # any setting
RESTART = "restart"  # the epoch counter and loss history started again (reset)
EVERYTHING = frozenset({NETWORK, WEIGHTS, DATA, DISPLAY, CONFIG, RESTART})

# Actions a visualizer may request through ``VisualizerContext.request``.
ACTIONS = (
    "toggle_feature",  # name=<feature>
    "select_dataset",  # name=<dataset>
    "add_layer",
    "remove_layer",
    "add_neuron",  # layer=<1-based hidden layer>
    "remove_neuron",  # layer=<1-based hidden layer>
    "edit_weight",  # link=<link id>: open the value editor
    "edit_bias",  # node=<node id>: open the value editor
    "reset",
    "regenerate",
    "add_point",  # x=<number>, y=<number>: a click on the output map while the student draws points
)


@dataclass
class VisualizerContext:
    """What a visualizer gets for one browser session.

    ``experiment`` is the session's live :class:`~courseware.experiment.Experiment`: read it, never
    train or change it directly (use ``request``), so that every change goes through the Playground's
    rules and the URL stays current. ``select_node(node_id)`` shows that node's map (a feature name or a
    node id) in the big output plot, and ``select_node(None)`` shows the output again. ``hover_js``
    makes the Bokeh callback that does the same from the browser when the pointer rests on a glyph.
    ``compact`` is True on a page that shares the screen with something else (the lesson page, with
    its text beside the playground): a panel should then draw no wider than it must (the network
    diagram spaces its layers closer, as :data:`COMPACT_NETWORK_WIDTH` says).
    """

    experiment: Experiment
    registry: Registry
    select_node: Callable[[str | None], None]
    request: Callable[..., None]
    hover_js: Callable[[Any, str], CustomJS]
    name: str = ""
    compact: bool = False

    @property
    def config(self) -> Any:
        return self.experiment.config

    @property
    def problem(self) -> Any:
        return self.registry.problem(self.experiment.config.problem)


class Maps:
    """Every node's output on the 100×100 grid, computed at most once per frame and only if asked.

    Arrays are float32 and oriented for Bokeh's ``image`` glyph with ``origin="top_left"``: row 0 is
    y = +6, column 0 is x = -6. ``discretize`` (the page's checkbox) is already applied, as the original
    applies it to every heatmap. NaN (a diverged network) stays NaN: draw it grey.
    """

    def __init__(self, experiment: Experiment, discretize: bool, feature_maps: Mapping[str, np.ndarray]) -> None:
        self._experiment = experiment
        self._discretize = discretize
        self._feature_maps = feature_maps

    @cached_property
    def _columns(self) -> dict[str, tuple[np.ndarray, int]]:
        """node id -> (that layer's (10000, n) outputs, column), from one vectorized grid pass."""
        e = self._experiment
        grid = e.grid_pass(np.float32)
        columns = {}
        for layer in range(1, e.arch.num_layers + 1):
            values = grid.outputs(layer)[0]
            for index, node in enumerate(e.arch.node_ids[layer]):
                columns[node] = (values, index)
        return columns

    def node(self, node_id: str) -> np.ndarray:
        """(100, 100) map of a hidden/output node, or of any feature (features ignore ``discretize``
        only in that they are raw values, clamped by the colour scale, as in the original)."""
        if node_id in self._feature_maps:
            return self._finish(self._feature_maps[node_id])
        values, index = self._columns[node_id]
        image = values[:, index].reshape(GRID_SIZE, GRID_SIZE).T  # [i=x][j=y] -> rows are y
        return self._finish(image)

    def thumbnails(self, node_ids: list[str]) -> list[np.ndarray]:
        """10×10 block means (the original's ``reduceMatrix``) of each node's map, oriented as ``node``."""
        out = []
        for node_id in node_ids:
            if node_id in self._feature_maps:
                out.append(self._finish(_reduce(self._feature_maps[node_id])))
                continue
            values, index = self._columns[node_id]
            out.append(self._finish(self._layer_thumbnails(id(values), values)[index]))
        return out

    def node_shades(self, node_id: str) -> np.ndarray:
        """(100, 100) uint8 palette indices of ``node``'s map (``discretize`` applied), oriented as
        ``node``: the colours BokehJS's ``LinearColorMapper(low=-1, high=1)`` would give the float map,
        31 for NaN (see :mod:`courseware.shades`)."""
        return shades.image_shades(self._raw(node_id), self._discretize)

    def class_shades(self) -> np.ndarray:
        """(100, 100) uint8 class-map indices of a network with one output node per class: the class it
        predicts in each cell and how sure it is (``discretize`` draws them all sure), oriented as
        ``node``; see :func:`courseware.shades.class_shades`. Meaningless for one output node."""
        values, _ = self._columns[self._experiment.output_nodes[0]]
        return shades.class_shades(values, GRID_SIZE, self._discretize)

    def thumbnail_shades(self, node_ids: list[str]) -> np.ndarray:
        """(len(node_ids), 10, 10) uint8 palette indices of each node's thumbnail (block means in
        doubles, in the original's order; see :mod:`courseware.shades`)."""
        out = np.empty((len(node_ids), THUMBNAIL_SIZE, THUMBNAIL_SIZE), dtype=np.uint8)
        layers: dict[int, np.ndarray] = {}  # a layer's thumbnails, computed in one pass when first asked
        for k, node_id in enumerate(node_ids):
            if node_id in self._feature_maps:
                out[k] = shades.block_shades(self._feature_maps[node_id], self._discretize)
                continue
            values, index = self._columns[node_id]
            if id(values) not in layers:
                layers[id(values)] = shades.layer_block_shades(values, GRID_SIZE, self._discretize)
            out[k] = layers[id(values)][index]
        return out

    def _raw(self, node_id: str) -> np.ndarray:
        """A node's (100, 100) float32 map as a view, [row = y from the top][column = x], no discretize."""
        if node_id in self._feature_maps:
            return self._feature_maps[node_id]
        values, index = self._columns[node_id]
        return values[:, index].reshape(GRID_SIZE, GRID_SIZE).T

    def _layer_thumbnails(self, key: int, values: np.ndarray) -> np.ndarray:
        """(n, 10, 10) block means of a whole layer at once, [node][row = y][column = x]."""
        cache = self.__dict__.setdefault("_thumbs", {})
        if key not in cache:
            n = values.shape[1]
            block = GRID_SIZE // THUMBNAIL_SIZE
            grid = values.reshape(THUMBNAIL_SIZE, block, THUMBNAIL_SIZE, block, n)  # [bi, i, bj, j, k]
            means = grid.mean(axis=(1, 3), dtype=np.float32)  # [bi = x block, bj = y block, k]
            cache[key] = np.ascontiguousarray(means.transpose(2, 1, 0))
        return cache[key]

    def _finish(self, image: np.ndarray) -> np.ndarray:
        image = np.ascontiguousarray(image, dtype=np.float32)
        if self._discretize and image.size:
            with np.errstate(invalid="ignore"):
                image = np.where(np.isnan(image), np.float32(np.nan), np.where(image >= 0, 1, -1)).astype(np.float32)
        return image


def _reduce(image: np.ndarray) -> np.ndarray:
    block = GRID_SIZE // THUMBNAIL_SIZE
    return image.reshape(THUMBNAIL_SIZE, block, THUMBNAIL_SIZE, block).mean(axis=(1, 3), dtype=np.float32)


def feature_maps(registry: Registry) -> tuple[dict[str, np.ndarray], list[ComponentError]]:
    """Every registered feature's raw values on the grid, [row = y from the top][column = x].

    A feature whose function raises gets an all-NaN (grey) map and is returned among the failures,
    so that one broken feature plugin cannot stop a page from opening.
    """
    xs, ys = grid_axes()
    gx, gy = np.meshgrid(xs, ys)  # gx[r][c] = x_c, gy[r][c] = y_r (row 0 = top)
    maps, failures = {}, []
    for feature in registry.all("features"):
        try:
            values = np.broadcast_to(np.asarray(feature.fn(gx, gy), dtype=np.float64), gx.shape)
        except Exception as exc:
            failures.append(ComponentError("feature", feature.name, registry.plugin_of("features", feature.name), exc))
            values = np.full(gx.shape, np.nan)
        maps[feature.name] = np.ascontiguousarray(values, dtype=np.float32)
    return maps, failures


@dataclass
class Frame:
    """What a visualizer's ``update`` receives: the state after a frame and what changed since the last.

    ``changed`` holds names from this module (``NETWORK``, ``WEIGHTS``, ``DATA``, ``DISPLAY``,
    ``CONFIG``, ``RESTART``); the first frame of a session has them all. ``playing`` is False for
    the frame that follows a pause or a single step: a panel that draws less often while playing (to
    save messages) must catch up then. ``new_losses`` are the
    (train, test) pairs of the epochs trained since the last frame (after a ``RESTART``, the history
    from epoch 0). ``selected`` is the node the big map shows. ``locked`` names the controls a lesson
    shows but does not let the student use (``neurons``, ``features``, ``weights``, ``dataset``, ...):
    the session refuses their requests, and a panel may draw them differently or leave them out.
    ``show_test_loss`` says whether the page shows the test loss: the free playground follows the
    original and hides it with the training-ratio slider (``percTrainData`` hidden); a lesson page
    always shows it, because its text, questions and goals speak of it.
    """

    epoch: int
    evaluation: Evaluation
    maps: Maps
    changed: frozenset[str]
    new_losses: list[tuple[float, float]] = field(default_factory=list)
    selected: str | None = None
    discretize: bool = False
    show_test_data: bool = False
    hidden: tuple[str, ...] = ()
    playing: bool = False
    locked: frozenset[str] = frozenset()
    show_test_loss: bool = True


def link_widths(weights: np.ndarray) -> np.ndarray:
    """``d3.scale.linear().domain([0, 5]).range([1, 10]).clamp(true)`` of |w|, as float32 px."""
    return np.asarray(scales.linear(np.abs(weights), 0, 5, 1, 10, clamp=True), dtype=np.float32)
