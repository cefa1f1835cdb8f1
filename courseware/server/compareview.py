"""A compare step on the lesson page: its variants trained side by side, their loss curves together.

:class:`VariantTraining` trains every variant from scratch with :class:`~courseware.lessons.measure.Members`
(variants that share an architecture in one stacked :class:`~courseware.experiment.Cohort`), one epoch
per ``next()``, so the page can slice the work (:mod:`courseware.server.slices`).
:class:`CompareChart` draws the curves as they grow: one colour per variant, the test loss solid and
the training loss dashed, and a legend with each variant's final losses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, DataRange1d, Div, HoverTool, LayoutDOM
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from courseware.config import Config
from courseware.lessons.measure import Members
from courseware.registry import Registry
from courseware.jsmath import js_to_fixed
from courseware.server.html import EMPTY, Html

DRAW_INTERVAL_S = 0.15  # curves are redrawn at most this often while the variants train


@dataclass
class Curves:
    """Each variant's (train, test) loss per epoch so far; ``epochs`` is the number asked for."""

    names: list[str]
    epochs: int
    train: dict[str, np.ndarray] = field(default_factory=dict)
    test: dict[str, np.ndarray] = field(default_factory=dict)
    trained: int = 0

    @property
    def complete(self) -> bool:
        return self.trained >= self.epochs


class VariantTraining:
    """Every variant trained ``epochs`` epochs from scratch; :meth:`work` yields after each epoch."""

    def __init__(self, variants: dict[str, Config], epochs: int, registry: Registry) -> None:
        self.variants = variants
        self.names = list(variants)
        self.epochs = epochs
        self.registry = registry
        self.members: Members | None = None

    def work(self) -> Iterator[None]:
        self.members = Members([self.variants[n] for n in self.names], self.registry)
        yield
        for _ in range(self.epochs):
            self.members.step(1)
            yield

    def curves(self) -> Curves:
        curves = Curves(self.names, self.epochs)
        if self.members is None:
            return curves
        for batch, indices in self.members.groups:
            train, test = batch.losses()
            for column_index, member in enumerate(indices):
                curves.train[self.names[member]] = train[:, column_index]
                curves.test[self.names[member]] = test[:, column_index]
        curves.trained = self.members.epoch
        return curves


class CompareChart:
    """The chart and legend of a compare step (see the module docstring)."""

    def __init__(self, width: int, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.test = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": []})
        self.train = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": []})
        plot = figure(
            width=width, height=210, tools="", toolbar_location=None, x_range=DataRange1d(range_padding=0),
            y_range=DataRange1d(range_padding=0.05), x_axis_label="epoch", y_axis_label="loss",
            name="lesson-compare", css_classes=["cw-lesson-compare"], min_border_left=40,
            background_fill_color=None, border_fill_color=None, outline_line_color=None,
        )  # fmt: skip
        plot.grid.grid_line_color = "#eeeeee"
        for axis in plot.axis:
            axis.axis_label_text_font_size = "11px"
            axis.axis_label_text_font_style = "normal"
            axis.major_label_text_font_size = "10px"
        tests = plot.multi_line(xs="xs", ys="ys", line_color="color", line_width=2, source=self.test)
        plot.multi_line(xs="xs", ys="ys", line_color="color", line_width=1.2, line_dash="dashed", line_alpha=0.7,
                        source=self.train)  # fmt: skip
        plot.add_tools(HoverTool(renderers=[tests], tooltips="@name", line_policy="nearest"))
        self.plot = plot
        self.legend = Div(text="", name="lesson-compare-legend", css_classes=["cw-lesson-compare-legend"])
        self.root: LayoutDOM = column(plot, self.legend, name="lesson-compare-view", visible=False)
        self._drawn = 0.0

    def clear(self) -> None:
        empty = {"xs": [], "ys": [], "color": [], "name": []}
        self.test.data = dict(empty)
        self.train.data = dict(empty)
        self.legend.text = ""

    def due(self) -> bool:
        """Whether the curves may be redrawn while training (at most every ``DRAW_INTERVAL_S``)."""
        return self.clock() - self._drawn >= DRAW_INTERVAL_S

    def draw(self, curves: Curves) -> None:
        self._drawn = self.clock()
        colours = [Category10_10[i % len(Category10_10)] for i in range(len(curves.names))]
        names = [n for n in curves.names if n in curves.test]
        for source, values in ((self.test, curves.test), (self.train, curves.train)):
            source.data = {
                "xs": [np.arange(len(values[n]), dtype=np.float32) for n in names],
                "ys": [_finite(values[n]) for n in names],
                "color": [colours[curves.names.index(n)] for n in names],
                "name": names,
            }
        rows = []
        for index, name in enumerate(curves.names):
            final = ""
            if curves.complete and name in curves.test:
                final = f"test {_loss(curves.test[name][-1])}, training {_loss(curves.train[name][-1])}"
            rows.append(
                Html('<div class="cw-variant"><span class="cw-swatch" style="background:{}"></span>'
                     '<span class="cw-variant-name">{}</span> <span class="cw-variant-final">{}</span></div>')
                .format(colours[index], name, final)
            )  # fmt: skip
        status = (
            f"Loss after {curves.epochs} epochs (solid: test, dashed: training):"
            if curves.complete
            else f"Training {len(curves.names)} variants: epoch {curves.trained} of {curves.epochs}…"
        )
        self.legend.text = Html('<div class="cw-compare-status">{}</div>').format(status) + EMPTY.join(rows)


def _finite(values: np.ndarray) -> np.ndarray:
    """Losses as float32 for the chart; a diverged run's (inf, NaN, or beyond float32) becomes a gap."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(values, dtype=np.float32)
    return np.where(np.isfinite(out), out, np.float32(np.nan))


def _loss(value: float) -> str:
    return js_to_fixed(float(value), 3) if math.isfinite(float(value)) else "NaN"
