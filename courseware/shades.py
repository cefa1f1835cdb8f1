"""Heatmaps as palette indices: the colour of each cell chosen on the server, painted in the browser.

The Playground paints every map with 31 quantised colours. Until now the page sent each map as float32
values and BokehJS's ``LinearColorMapper(low=-1, high=1)`` picked the colour of each value; now the
server picks the colour's *index* with exactly that mapper's arithmetic (:func:`shade`) and sends one
byte per cell, and the browser's mapper only looks the index up (:func:`index_mapper`). The picture is
the same, a map costs a quarter of the bytes, and an unchanged map is recognised as unchanged (the
page then sends nothing for it).

Index ``NAN_SHADE`` (31) is a value that is not a number (a diverged network); the index palettes have
a 32nd colour for it.

BokehJS (``LinearColorMapper.value_to_index`` and ``ContinuousColorMapper.cmap``) computes, in
doubles: NaN gives ``nan_color``; ``value == high`` gives the last colour; otherwise
``floor(((value - low) * (1 / (high - low))) / (1 / N))``, below 0 the first colour and from ``N`` on
the last. :func:`shade` is that, for ``low = -1``, ``high = 1``, ``N = 31``, on the same float32
values promoted to doubles; :func:`reference_shades` states it in numpy for the tests.

Thumbnails are the original's ``reduceMatrix``: each 10×10 block's mean, summed in doubles in the
original's order (x offset, then y offset) and shaded unrounded.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from courseware import scales
from courseware.jit import CACHE, OPTIONS

NUM_SHADES = scales.NUM_SHADES  # 31
NAN_SHADE = NUM_SHADES  # the index of "not a number"
BLOCK = 10  # a thumbnail cell is the mean of a BLOCK×BLOCK block of the map (the original's reduceMatrix)
_LOW, _HIGH = -1.0, 1.0


@numba.njit(cache=CACHE, **OPTIONS)
def shade(value: float) -> int:
    """The palette index BokehJS's ``LinearColorMapper(low=-1, high=1)`` with 31 colours gives ``value``."""
    if value != value:
        return NAN_SHADE
    if value == _HIGH:
        return NUM_SHADES - 1
    index = np.floor(((value - _LOW) * (1.0 / (_HIGH - _LOW))) / (1.0 / NUM_SHADES))
    if index < 0.0:
        return 0
    if index >= NUM_SHADES:
        return NUM_SHADES - 1
    return int(index)


@numba.njit(cache=CACHE, **OPTIONS)
def _discretized(value: float) -> float:
    """The page's "Discretize output": -1 or 1 by sign (0 counts as positive), NaN kept."""
    if value != value:
        return value
    return 1.0 if value >= 0.0 else -1.0


@numba.njit(cache=CACHE, **OPTIONS)
def _shade_image(image: Any, discretize: bool, out: Any) -> None:
    rows, cols = image.shape
    for r in range(rows):
        for c in range(cols):
            v = np.float64(image[r, c])
            out[r, c] = shade(_discretized(v) if discretize else v)


@numba.njit(cache=CACHE, **OPTIONS)
def _shade_blocks(image: Any, discretize: bool, out: Any) -> None:
    rows, cols = out.shape
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for dx in range(BLOCK):  # the original sums matrix[x][y] over x, then y
                for dy in range(BLOCK):
                    total += np.float64(image[r * BLOCK + dy, c * BLOCK + dx])
            mean = total / (BLOCK * BLOCK)
            out[r, c] = shade(_discretized(mean) if discretize else mean)


@numba.njit(cache=CACHE, **OPTIONS)
def _shade_layer_blocks(values: Any, side: int, discretize: bool, out: Any) -> None:
    # values[x * side + y, k]: one pass in memory order (x, then y, then node), which adds each block's
    # cells in the original's order too (x offset, then y offset)
    nodes = values.shape[1]
    cells = side // BLOCK
    total = np.zeros((cells, cells, nodes))
    for x in range(side):
        c = x // BLOCK
        for y in range(side):
            r = y // BLOCK
            row = x * side + y
            for k in range(nodes):
                total[r, c, k] += np.float64(values[row, k])
    for k in range(nodes):
        for r in range(cells):
            for c in range(cells):
                mean = total[r, c, k] / (BLOCK * BLOCK)
                out[k, r, c] = shade(_discretized(mean) if discretize else mean)


def image_shades(image: np.ndarray, discretize: bool = False) -> np.ndarray:
    """uint8 palette indices of a map (any 2-D float array or view, [row][column] as drawn)."""
    out = np.empty(image.shape, dtype=np.uint8)
    _shade_image(image, bool(discretize), out)
    return out


def block_shades(image: np.ndarray, discretize: bool = False) -> np.ndarray:
    """uint8 palette indices of a map's thumbnail: the mean of each ``BLOCK``×``BLOCK`` block."""
    rows, cols = image.shape
    out = np.empty((rows // BLOCK, cols // BLOCK), dtype=np.uint8)
    _shade_blocks(image, bool(discretize), out)
    return out


def layer_block_shades(values: np.ndarray, side: int, discretize: bool = False) -> np.ndarray:
    """uint8 thumbnail indices of every node of a layer at once, from its grid outputs ``values``
    ((side², nodes), row ``x * side + y``): (nodes, side / BLOCK, side / BLOCK), [node][row = y][column
    = x], as :func:`block_shades` of each node's map."""
    cells = side // BLOCK
    out = np.empty((values.shape[1], cells, cells), dtype=np.uint8)
    _shade_layer_blocks(values, side, bool(discretize), out)
    return out


def reference_shades(values: np.ndarray, discretize: bool = False) -> np.ndarray:
    """:func:`shade` in numpy, written as BokehJS computes it (for tests)."""
    v = np.asarray(values, dtype=np.float64)
    if discretize:
        v = np.where(np.isnan(v), np.nan, np.where(v >= 0, 1.0, -1.0))
    with np.errstate(invalid="ignore"):
        index = np.floor(((v - _LOW) * (1 / (_HIGH - _LOW))) / (1 / NUM_SHADES))
        index = np.where(v == _HIGH, NUM_SHADES - 1, index)
        index = np.clip(index, 0, NUM_SHADES - 1)
    return np.where(np.isnan(v), NAN_SHADE, index).astype(np.uint8)


def index_palette(colours: list[str], nan_colour: str) -> list[str]:
    """The palette of an index mapper: the 31 colours, then the colour of NaN."""
    if len(colours) != NUM_SHADES:
        raise ValueError(f"a heatmap palette has {NUM_SHADES} colours, not {len(colours)}")
    return [*colours, nan_colour]


def index_mapper(colours: list[str], nan_colour: str) -> Any:
    """A ``LinearColorMapper`` that paints index ``i`` (0-31) with ``index_palette(...)[i]``: 32 bins of
    width 1 over [0, 32], exact in doubles."""
    from bokeh.models import LinearColorMapper

    return LinearColorMapper(palette=index_palette(colours, nan_colour), low=0, high=NUM_SHADES + 1)


# -- the class map: more than two classes ------------------------------------------------------------
# A network with one output node per class is drawn as the class it predicts in each cell (its hue)
# and how sure it is (the hue's lightness): index ``hue * CLASS_LEVELS + level``, one byte per cell as
# the two-class map, with a palette of its own (:func:`class_mapper`). ``CLASS_NAN_SHADE`` is a cell
# whose outputs are not numbers (a diverged network).

CLASS_HUES = len(scales.CLASS_COLOURS)
CLASS_LEVELS = scales.CLASS_LEVELS
CLASS_NAN_SHADE = CLASS_HUES * CLASS_LEVELS


def class_shades(values: np.ndarray, side: int, discretize: bool = False) -> np.ndarray:
    """(side, side) uint8 class-map indices of an output layer's grid values ``values`` ((side², C),
    row ``x * side + y``, oriented as :func:`image_shades` of a node's map).

    The class is the first largest output (NaN never wins, as in the accuracy); the level is the
    largest output's place between ``1 / C`` (a softmax that cannot tell the classes apart) and 1,
    cut into ``CLASS_LEVELS`` equal parts. ``discretize`` draws every cell at full confidence, as the
    page's "Discretize output" draws the two-class map in two colours.
    """
    classes = values.shape[1]
    v = np.asarray(values, dtype=np.float64).reshape(side, side, classes)
    nan = np.isnan(v).any(axis=2)
    filled = np.where(np.isnan(v), -np.inf, v)
    best = filled.argmax(axis=2)
    if discretize:
        level = np.full(best.shape, CLASS_LEVELS - 1, dtype=np.int64)
    else:
        low = 1.0 / classes
        top = filled.max(axis=2)
        with np.errstate(invalid="ignore", over="ignore"):
            level = np.floor((top - low) / (1.0 - low) * CLASS_LEVELS)
        level = np.clip(np.nan_to_num(level, nan=0.0, posinf=CLASS_LEVELS - 1, neginf=0.0), 0, CLASS_LEVELS - 1)
    index = (best % CLASS_HUES) * CLASS_LEVELS + level.astype(np.int64)
    index[nan] = CLASS_NAN_SHADE
    return np.ascontiguousarray(index.T, dtype=np.uint8)


def class_palette(nan_colour: str) -> list[str]:
    """The class map's colours: every class hue at every level (hue-major), then the colour of NaN."""
    return [*scales.rgb_hex(scales.class_rgb(CLASS_LEVELS)), nan_colour]


def class_mapper(nan_colour: str) -> Any:
    """A ``LinearColorMapper`` that paints class-map index ``i`` with ``class_palette(...)[i]``: bins of
    width 1, as :func:`index_mapper`."""
    from bokeh.models import LinearColorMapper

    palette = class_palette(nan_colour)
    return LinearColorMapper(palette=palette, low=0, high=len(palette))
