"""Palette indices computed on the server give exactly the colours BokehJS's mapper gave the floats.

``courseware.shades.shade`` (compiled) is checked against ``reference_shades``, which states
BokehJS's ``LinearColorMapper(low=-1, high=1)`` arithmetic in numpy, on random values and on every bin
edge and its neighbours, NaN and infinities; the index palettes are checked to map index ``i`` to
colour ``i`` under that same arithmetic. (The browser test ``test_capacity_browser`` compares the two
mappers inside Chromium.)
"""

from __future__ import annotations

import numpy as np
import pytest

from courseware import scales
from courseware.config import Config
from courseware.experiment import Experiment
from courseware import panel as ctx
from courseware import shades


def bokehjs_index(value: float, low: float, high: float, n: int) -> int:
    """BokehJS 3's ``LinearColorMapper.value_to_index`` then ``cmap``'s clamping, for a non-NaN value."""
    if value == high:
        return n - 1
    index = np.floor(((value - low) * (1 / (high - low))) / (1 / n))
    return int(min(max(index, 0), n - 1))


def edge_values() -> np.ndarray:
    edges = -1 + np.arange(shades.NUM_SHADES + 1) * 2 / shades.NUM_SHADES
    around = [np.nextafter(edges.astype(np.float32), np.float32(d)) for d in (-np.inf, np.inf)]
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1.5, -7.0], np.float32)
    return np.concatenate([edges.astype(np.float32), *around, special])


def test_compiled_shades_follow_bokehjs_arithmetic() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(-1.3, 1.3, 20_000).astype(np.float32), edge_values()])
    values = values[: len(values) // 10 * 10].reshape(-1, 10)
    for discretize in (False, True):
        np.testing.assert_array_equal(
            shades.image_shades(values, discretize), shades.reference_shades(values, discretize)
        )
    finite = values[np.isfinite(values) | np.isinf(values)]
    expected = [bokehjs_index(float(v), -1.0, 1.0, shades.NUM_SHADES) for v in finite]
    np.testing.assert_array_equal(shades.reference_shades(finite), expected)
    assert shades.reference_shades(np.array([np.nan]))[0] == shades.NAN_SHADE


def test_the_index_palette_maps_each_index_to_its_colour() -> None:
    mapper = shades.index_mapper(scales.rgb_hex(scales.PALETTE), "#000000")
    palette = list(mapper.palette)
    assert len(palette) == shades.NUM_SHADES + 1 and palette[-1] == "#000000"
    for index in range(shades.NUM_SHADES + 1):
        assert bokehjs_index(float(index), mapper.low, mapper.high, len(palette)) == index
    with pytest.raises(ValueError):
        shades.index_palette(["#000000"] * 30, "#000000")


@pytest.mark.parametrize("query", [{}, {"dataset": "spiral", "networkShape": "6,4", "activation": "relu",
                                        "learningRate": "0.3", "seed": "0.5"}])  # fmt: skip
def test_maps_shades_match_the_float_maps(registry, query) -> None:
    config, _ = Config.from_query(query, registry)
    experiment = Experiment(config, registry)
    features, _ = ctx.feature_maps(registry)
    hidden = [n for layer in experiment.arch.node_ids[1:-1] for n in layer]
    for _ in range(3):
        experiment.step(5)
        for discretize in (False, True):
            maps = ctx.Maps(experiment, discretize, features)
            for node in (experiment.output_node, hidden[0], "x"):
                np.testing.assert_array_equal(maps.node_shades(node), shades.reference_shades(maps.node(node)))
            # thumbnails: the original's reduceMatrix (block means in doubles), then the same shading
            expected = []
            for node in [*hidden, "x", "y"]:
                raw = ctx.Maps(experiment, False, features).node(node).astype(np.float64)
                means = raw.reshape(10, 10, 10, 10).mean(axis=(1, 3))
                expected.append(shades.reference_shades(means, discretize))
            np.testing.assert_array_equal(maps.thumbnail_shades([*hidden, "x", "y"]), np.stack(expected))
