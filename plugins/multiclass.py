"""Datasets of three and four classes: a three-arm spiral, and three or four Gaussian blobs.

Labels are class indices 0, 1, 2 (, 3). They are drawn like the Playground's own spiral and Gaussian
datasets (``courseware_builtins.datasets``), class after class from the experiment's stream, with
``ceil(n / C)`` points per class and the surplus dropped after drawing, so a seed always gives the
same points. Their thumbnails draw nothing from the stream on a problem change: the original, which
the stream follows, never had them.
"""

import math

import numpy as np

from courseware import Dataset, hookimpl, jsmath, scales
from courseware_builtins.datasets import normal_values, polar_pairs, uniform, v8


def spiral_3(rng, num_samples, noise):
    """Three interleaved spiral arms, a third of a turn apart; noise jitters the positions."""
    classes = 3
    n = num_samples / classes
    count = math.ceil(n)
    parts = []
    for label in range(classes):
        i = np.arange(count, dtype=np.float64)
        r = i / n * 5
        t = 1.75 * i / n * 2 * math.pi + label * 2 * math.pi / classes
        u = rng.draws(2 * count).reshape(count, 2)
        x = r * v8(jsmath.sin, t) + uniform(u[:, 0], -1, 1) * noise
        y = r * v8(jsmath.cos, t) + uniform(u[:, 1], -1, 1) * noise
        parts.append(np.column_stack([x, y, np.full(count, float(label))]))
    return np.concatenate(parts)[:num_samples]


def _blobs(centres):
    def generate(rng, num_samples, noise):
        variance = scales.linear(noise, 0, 0.5, 0.5, 4)
        count = math.ceil(num_samples / len(centres))
        parts = []
        for label, (cx, cy) in enumerate(centres):
            v1, s = polar_pairs(rng, 2 * count)  # x then y, point by point
            x = normal_values(v1[0::2], s[0::2], cx, variance)
            y = normal_values(v1[1::2], s[1::2], cy, variance)
            parts.append(np.column_stack([x, y, np.full(count, float(label))]))
        return np.concatenate(parts)[:num_samples]

    return generate


_THREE = tuple((round(3 * math.cos(a), 6), round(3 * math.sin(a), 6)) for a in (math.pi / 2, 7 * math.pi / 6, 11 * math.pi / 6))
_FOUR = ((2.5, 2.5), (-2.5, 2.5), (-2.5, -2.5), (2.5, -2.5))
blobs_3 = _blobs(_THREE)
blobs_4 = _blobs(_FOUR)

DATASETS = [
    Dataset("spiral-3", "Three spirals", "classification", spiral_3, "Three interleaved spiral arms.", classes=3),
    Dataset("blobs-3", "Three blobs", "classification", blobs_3, "Three Gaussian blobs around the centre.",
            classes=3),
    Dataset("blobs-4", "Four blobs", "classification", blobs_4, "Four Gaussian blobs, one per quadrant.",
            classes=4),
]  # fmt: skip


@hookimpl
def register_datasets(register):
    for dataset in DATASETS:
        register(dataset)
