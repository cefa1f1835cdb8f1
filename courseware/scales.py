"""d3 3.5 scale arithmetic and the Playground's colours, reproduced exactly.

d3's linear scale computes ``r0*(1-t) + r1*t`` with ``t = (x-d0)/(d1-d0)`` (clamping ``t`` when asked),
which is not the same float as the algebraically equal ``(x+y)/10``; labels, the heatmap grid and the
colours all depend on it. Colour channels round half-up as JavaScript's ``Math.round`` does.
"""

from __future__ import annotations

import numpy as np

ORANGE = (0xF5, 0x93, 0x22)
GREY = (0xE8, 0xEA, 0xEB)
BLUE = (0x08, 0x77, 0xBD)
NUM_SHADES = 31
HEATMAP_ALPHA = 160
NAN_RGB = (0, 0, 0)  # d3.rgb(undefined) is black; drawn at alpha 160 it reads as grey


def linear(x, d0: float, d1: float, r0: float, r1: float, clamp: bool = False):
    """``d3.scale.linear().domain([d0, d1]).range([r0, r1])(x)`` for scalars or arrays."""
    span = (d1 - d0) or float("inf")  # d3: a zero-width domain maps everything to r0
    t = (np.asarray(x, dtype=np.float64) - d0) / span
    if clamp:
        t = np.maximum(0.0, np.minimum(1.0, t))
    out = r0 * (1 - t) + r1 * t
    return float(out) if np.ndim(out) == 0 else out


def js_round(value: np.ndarray) -> np.ndarray:
    """JavaScript ``Math.round``: halves round up (towards +inf), unlike numpy's half-to-even."""
    return np.floor(np.asarray(value, dtype=np.float64) + 0.5)


def _mix(c0: tuple[int, int, int], c1: tuple[int, int, int], t: np.ndarray) -> np.ndarray:
    """d3.interpolateRgb: ``round(a + (b - a) * t)`` per channel, half-up; shape (..., 3)."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    a = np.array(c0, dtype=np.float64)
    b = np.array(c1, dtype=np.float64)
    return js_round(a + (b - a) * t).astype(np.uint8)


def diverging_rgb(values: np.ndarray) -> np.ndarray:
    """``d3.scale.linear().domain([-1,0,1]).range([orange, grey, blue]).clamp(true)``, shape (..., 3).

    The Playground colours links and biases with it (continuous, clamped). NaN maps to black.
    """
    v = np.asarray(values, dtype=np.float64)
    low = _mix(ORANGE, GREY, np.clip(v + 1, 0, 1))
    high = _mix(GREY, BLUE, np.clip(v, 0, 1))
    rgb = np.where((v < 0)[..., None], low, high)
    rgb[np.isnan(v)] = NAN_RGB
    return rgb


def rgb_hex(rgb: np.ndarray) -> list[str]:
    flat = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3)
    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in flat]


def _palette() -> np.ndarray:
    k = np.arange(NUM_SHADES) / (NUM_SHADES - 1)
    # d3.scale.linear().domain([0, .5, 1]) over the 31 sample points k/30.
    low = _mix(ORANGE, GREY, np.clip(k / 0.5, 0, 1))
    high = _mix(GREY, BLUE, np.clip((k - 0.5) / 0.5, 0, 1))
    return np.where((k < 0.5)[:, None], low, high)


PALETTE = _palette()
"""The 31 heatmap colours, orange (-1) to blue (+1)."""


def shade_index(values: np.ndarray, discretize: bool = False) -> np.ndarray:
    """Palette index of each value: ``clamp(floor(15.5*(v+1)), 0, 30)``; NaN gives -1."""
    v = np.asarray(values, dtype=np.float64)
    if discretize:
        v = np.where(v >= 0, 1.0, np.where(np.isnan(v), np.nan, -1.0))
    with np.errstate(invalid="ignore"):
        idx = np.floor(NUM_SHADES / 2 * (v + 1))  # d3.scale.quantize over [-1, 1]
        idx = np.clip(idx, 0, NUM_SHADES - 1)
    idx = np.where(np.isnan(idx), -1, idx)
    return idx.astype(np.int16)


def heatmap_rgba(values: np.ndarray, discretize: bool = False) -> np.ndarray:
    """RGBA image (uint32, little-endian ABGR as Bokeh's ``image_rgba`` wants) for a value grid."""
    idx = shade_index(values, discretize)
    rgb = np.where((idx >= 0)[..., None], PALETTE[np.maximum(idx, 0)], np.array(NAN_RGB, np.uint8))
    rgba = np.empty(idx.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = HEATMAP_ALPHA
    return rgba.view(np.uint32).reshape(idx.shape)


# -- more than two classes ---------------------------------------------------------------------------
# A classification of more than two classes colours each class with a hue of its own: the Playground's
# orange and blue first (so class 0 and 1 look as they do with two classes), then hues far from both.
# Words, not numbers, are how a student names them ("the green class").
CLASS_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("orange", ORANGE),
    ("blue", BLUE),
    ("green", (0x2C, 0xA0, 0x2C)),
    ("purple", (0x94, 0x67, 0xBD)),
    ("red", (0xD6, 0x27, 0x28)),
    ("teal", (0x17, 0xBE, 0xCF)),
    ("brown", (0x8C, 0x56, 0x4B)),
    ("pink", (0xE3, 0x77, 0xC2)),
)
CLASS_LEVELS = 8
"""Lightness levels of a class's hue in the class map: the network's confidence, from as unsure as it
can be (level 0, nearly the Playground's middle grey) to certain (the full hue)."""


def class_rgb(levels: int = CLASS_LEVELS) -> np.ndarray:
    """(hues * levels, 3) colours, hue-major: entry ``hue * levels + level`` is the hue mixed with the
    Playground's middle grey, from one part in ``levels`` of the hue (level 0) to all of it."""
    t = (np.arange(levels) + 1) / levels
    return np.concatenate([_mix(GREY, rgb, t) for _, rgb in CLASS_COLOURS])


def class_hex(index: int) -> str:
    """The full hue of class ``index`` (hues repeat beyond the eighth class)."""
    return rgb_hex(np.array([CLASS_COLOURS[index % len(CLASS_COLOURS)][1]]))[0]


def class_word(index: int) -> str:
    """The colour word of class ``index``: "orange", "blue", "green", ..."""
    word = CLASS_COLOURS[index % len(CLASS_COLOURS)][0]
    return word if index < len(CLASS_COLOURS) else f"{word} {index // len(CLASS_COLOURS) + 1}"
