"""Loading the golden trajectories of the original Playground (copied from the reference)."""

from __future__ import annotations

import json
from pathlib import Path

from courseware import config as config_module
from courseware.registry import Registry

DATA = Path(__file__).parent / "data"


def golden_cases() -> list[dict]:
    with open(DATA / "playground-golden.json") as f:
        return json.load(f)


def golden_config(case: dict, registry: Registry) -> config_module.Config:
    """The golden case's settings as a Config (limits widened: the golden runs use URL-only values)."""
    c = case["config"]
    dataset = registry.dataset(c["dataset"])
    mapping = {key: c[key] for key in (
        "seed", "noise", "percTrainData", "batchSize", "learningRate", "regularizationRate",
        "activation", "regularization", "networkShape", "initZero", "features")}  # fmt: skip
    mapping["problem"] = dataset.problem
    mapping[registry.problem(dataset.problem).dataset_field] = dataset.name
    limits = config_module.Limits(max_batch_size=1000)
    return config_module.from_mapping(mapping, registry, limits=limits)


def chaotic_cases() -> list[dict]:
    """Unstable runs (learning rates 0.3-10, small batches, sin features), same format."""
    with open(DATA / "playground-golden-chaotic.json") as f:
        return json.load(f)
