"""Each node's 100×100 map of an experiment, by node id (what the page draws, for tests to compare)."""

from __future__ import annotations

from typing import Any

import numpy as np

from courseware.experiment import GRID_SIZE, Experiment


def node_maps(experiment: Experiment, dtype: Any = np.float32) -> dict[str, np.ndarray]:
    """Each hidden and output node's 100×100 map, indexed [i][j] as the original's boundary."""
    grid = experiment.grid_pass(dtype)
    maps = {}
    for layer in range(1, experiment.arch.num_layers + 1):
        layer_maps = grid.maps(layer, GRID_SIZE)[0]
        for offset, node in enumerate(experiment.arch.node_ids[layer]):
            maps[node] = layer_maps[offset]
    return maps
