"""d3 scales and the Playground's colours (playground.md §5, §10.9)."""

import numpy as np

from courseware import scales

PALETTE_HEX = (
    "f59322 f4992f f39f3d f2a44a f2aa58 f1b065 f0b672 efbc80 eec18d edc79b eccda8 ebd3b5 ebd9c3 eaded0 "
    "e9e4de e8eaeb d9e2e8 cadbe5 bbd3e2 accbdf 9dc4dc 8ebcd9 7fb4d6 71add2 62a5cf 539dcc 4496c9 358ec6 "
    "2686c3 177fc0 0877bd"
).split()


def test_heatmap_palette_matches_the_original():
    assert [h[1:] for h in scales.rgb_hex(scales.PALETTE)] == PALETTE_HEX


def test_link_colours_round_half_up():
    assert scales.rgb_hex(scales.diverging_rgb([-0.5, 0.25, 0.5])) == ["#efbf87", "#b0cde0", "#78b1d4"]
    assert scales.rgb_hex(scales.diverging_rgb([-7, 7])) == ["#f59322", "#0877bd"]  # clamped


def test_label_scale_is_d3_arithmetic():
    assert scales.linear(3, -10, 10, -1, 1) == 0.30000000000000004


def test_quantize_index_and_nan():
    idx = scales.shade_index(np.array([-1.0, -0.999, 0.0, 0.999, 1.0, 5.0, np.nan]))
    assert idx.tolist() == [0, 0, 15, 30, 30, 30, -1]
    assert scales.shade_index(np.array([0.01, -0.01]), discretize=True).tolist() == [30, 0]


def test_heatmap_rgba_alpha_and_nan_colour():
    rgba = scales.heatmap_rgba(np.array([[0.0, np.nan]])).view(np.uint8).reshape(1, 2, 4)
    assert rgba[0, 0].tolist() == [0xE8, 0xEA, 0xEB, 160]
    assert rgba[0, 1].tolist() == [0, 0, 0, 160]
