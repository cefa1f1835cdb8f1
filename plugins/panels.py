"""The playground's panels (registered as visualizers by :mod:`courseware_builtins.visualizers`).

Each panel class, called with the context, builds one panel's Bokeh models for one browser session and returns an object
with ``root`` and ``update(frame)`` (the contract is in ``docs/visualizers.md``). Every panel sends only
what changed, and only when it changes what the page shows: while training, that is the link values and
widths, and the big map and the neuron thumbnails as palette indices (one byte per cell, see
:mod:`courseware.shades`) when one of their colours changed. The session sends a frame's
changes as one message.

The look follows the original (its ``playground.ts`` and ``heatmap.ts``): the 31-colour heatmap palette at alpha
160, NaN drawn grey, links coloured by the clamped orange-grey-blue scale and 1 + 1.8|w| px wide (capped
at 10), dashed "9 1" with the dashes flowing as epochs pass, biases as small squares by each node.
"""

from __future__ import annotations

import logging
import math
import time
import weakref

import numpy as np
from bokeh.events import MouseLeave, Tap
from bokeh.layouts import column
from bokeh.models import (
    CDSView,
    ColumnDataSource,
    CustomJSHover,
    DataRange1d,
    Div,
    FixedTicker,
    GroupFilter,
    HoverTool,
    LinearColorMapper,
    Plot,
    Range1d,
    TapTool,
)
from bokeh.models.glyphs import Image, Line, MultiLine, Rect, Scatter, Text
from bokeh.plotting import figure

from courseware import panel as ctx
from courseware import scales
from courseware.jsmath import is_decimal, js_to_fixed
from courseware.rng import RandomStream
from courseware.panel import geometry as geo
from courseware import shades
from courseware.panel.html import EMPTY, Html

PALETTE_HEX = scales.rgb_hex(scales.PALETTE)
HEATMAP_ALPHA = scales.HEATMAP_ALPHA / 255
NAN_COLOUR = "#000000"  # the original's d3.rgb(undefined); at alpha 160 it reads as grey
TEXT_COLOUR = "#444444"
TEXT_INTERVAL_S = 0.2  # while playing, the loss text and chart are redrawn at most this often
DATASET_CELL = 44  # px per dataset thumbnail
DATASET_GAP = 10
THUMBNAIL_POINTS = 200  # the original draws each dataset with 200 noiseless points

log = logging.getLogger(__name__)


# -- shared helpers ----------------------------------------------------------------------------------


def colour_mapper() -> LinearColorMapper:
    """The heatmap colours of palette indices (``Maps.node_shades``): the 31 shades of the original's
    quantize scale over [-1, 1], then black for NaN (drawn at alpha 160 it reads as grey)."""
    return shades.index_mapper(PALETTE_HEX, NAN_COLOUR)


def opaque_colour_mapper() -> LinearColorMapper:
    """The heatmap colours of palette indices already blended at alpha 160 over the page, for
    thumbnails drawn as pixels (opaque pixels never show seams where they meet)."""
    return shades.index_mapper(BLENDED_HEX, BLENDED_NAN)


def link_colour_mapper() -> LinearColorMapper:
    """Links and biases: the original's continuous, clamped orange-grey-blue scale, sampled finely
    enough (1024 shades over [-1, 1]) that no channel is off by more than one level."""
    return LinearColorMapper(palette=DIVERGING_HEX, low=-1, high=1, nan_color=NAN_COLOUR)


def bare_plot(width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float], **kw) -> Plot:
    """A plot that is only its frame, one data unit per pixel: no axes, grid, toolbar or background.

    The frame has one spare pixel at its left and top: Bokeh (3.9) clears its canvas half a pixel
    off, so whatever was drawn on the first column or row stayed there (the end of a switched-off
    feature's links left a mark beside its tile; a dataset's old outline, a line on its thumbnail).
    Nothing is drawn on the spare pixel, so nothing is left behind."""
    return Plot(
        frame_width=width + 1,
        frame_height=height + 1,
        x_range=Range1d(x_range[0] - 1, x_range[1]),
        y_range=Range1d(y_range[0], y_range[1] + 1),
        title=None,
        toolbar_location=None,
        min_border=0,
        outline_line_color=None,
        background_fill_color=None,
        border_fill_color=None,
        **kw,
    )


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # source -> {kind: its one CDSView}


def add(plot: Plot, source: ColumnDataSource, glyph, kind: str | None = None):
    """Add a glyph (only the rows whose ``kind`` column is ``kind``, if given); selection never restyles it.

    Glyphs of one source and kind share one view: fewer models make every message to the browser
    cheaper (Bokeh indexes all of a document's models for each one).
    """
    views = _VIEWS.setdefault(source, {})
    view = views.get(kind)
    if view is None:
        view = views[kind] = CDSView(filter=GroupFilter(column_name="kind", group=kind)) if kind else CDSView()
    renderer = plot.add_glyph(source, glyph, view=view)
    renderer.selection_glyph = glyph
    renderer.nonselection_glyph = glyph
    return renderer


def on_tap(source: ColumnDataSource, handle) -> None:
    """Call ``handle(row)`` for a tapped row, then clear the selection so the same row can be tapped again."""

    def changed(_attr, _old, new):
        if new:
            source.selected.indices = []
            handle(new[0])

    source.selected.on_change("indices", changed)


def pretty_label(label: str) -> str:
    """``X_1^2`` -> ``X₁²``: the original's ``_`` (subscript) and ``^`` (superscript) in plain text."""
    sub = str.maketrans("0123456789+-()nx", "₀₁₂₃₄₅₆₇₈₉₊₋₍₎ₙₓ")
    sup = str.maketrans("0123456789+-()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ⁿ")
    out = []
    i = 0
    while i < len(label):
        ch = label[i]
        if ch in "_^" and i + 1 < len(label):
            out.append(label[i + 1].translate(sub if ch == "_" else sup))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def label_colours(labels: np.ndarray, classes: int = 2) -> list[str]:
    """Data dots: the quantised colour of the label (orange = -1, blue = +1); with more than two
    classes, the hue of the point's class (its label is the class number)."""
    if classes > 2:
        return [scales.class_hex(int(c)) if np.isfinite(c) else NAN_COLOUR for c in labels]
    index = scales.shade_index(labels)
    return [PALETTE_HEX[i] if i >= 0 else NAN_COLOUR for i in index]


def class_names(dataset, classes: int) -> list[str]:
    """What the page calls each class: the names a data file gave them, or (numbers, or no names)
    their colour words, "orange", "blue", "green" ... Never an id a student did not choose."""
    labels = [str(label) for label in getattr(dataset, "class_labels", ())]
    if len(labels) == classes and not all(is_decimal(label) for label in labels):
        return labels
    return [scales.class_word(i) for i in range(classes)]


def class_swatch(index: int) -> Html:
    """A small square in the class's colour, before its name."""
    return Html('<span class="cw-swatch" style="color: {}">■</span>').format(scales.class_hex(index))


def _blend(rgb: np.ndarray) -> np.ndarray:
    alpha = scales.HEATMAP_ALPHA / 255
    return scales.js_round(np.asarray(rgb, np.float64) * alpha + np.asarray(PAGE_RGB, np.float64) * (1 - alpha))


PAGE_RGB = (0xF7, 0xF7, 0xF7)
BLENDED_HEX = scales.rgb_hex(_blend(scales.PALETTE))
BLENDED_NAN = scales.rgb_hex(_blend(np.array([scales.NAN_RGB])))[0]
DIVERGING_HEX = scales.rgb_hex(scales.diverging_rgb(-1 + (np.arange(1024) + 0.5) * 2 / 1024))


# -- dataset thumbnails ----------------------------------------------------------------------------------


class DatasetPicker:
    """The problem type's datasets as small pictures; clicking one selects it (new data, reset)."""

    def __init__(self, context: ctx.VisualizerContext) -> None:
        self.context = context
        self.problem: str | None = None
        width = 2 * DATASET_CELL + DATASET_GAP
        self.points = ColumnDataSource({"x": [], "y": [], "color": []})
        self.cells = ColumnDataSource({"x": [], "y": [], "name": [], "label": [], "line": [], "alpha": []})
        p = self.plot = bare_plot(width, width, (0, width), (-width, 0))
        cells = add(p, self.cells, Rect(x="x", y="y", width=DATASET_CELL, height=DATASET_CELL, fill_color="white",
                                        fill_alpha="alpha", line_color="line", line_width=2))  # fmt: skip
        add(p, self.points, Scatter(x="x", y="y", marker="square", size=2, fill_color="color", line_color=None))
        p.add_tools(TapTool(renderers=[cells]), HoverTool(renderers=[cells], tooltips="@label"))
        on_tap(self.cells, lambda row: context.request("select_dataset", name=self.cells.data["name"][row]))
        self.root = p
        p.name = "dataset-picker"
        p.css_classes = ["cw-dataset-picker"]

    def update(self, frame: ctx.Frame) -> None:
        if not frame.changed & {ctx.CONFIG, ctx.DATA}:
            return
        config = self.context.config
        self.root.visible = "dataset" not in frame.hidden
        datasets = self.context.registry.datasets_for(config.problem)
        # drawn points replace the dataset: no thumbnail is the one in use then
        selected = "" if config.points else config.dataset_name(self.context.registry)
        drawn = (config.problem, tuple(id(d) for d in datasets))  # a page's upload adds (or replaces) one
        if drawn != self.problem:
            self.problem = drawn
            self._draw(datasets)
        line = ["#000000" if d.name == selected else "#dddddd" for d in datasets]
        if line != list(self.cells.data["line"]):
            self.cells.data.update(line=line, alpha=[1.0 if d.name == selected else 0.6 for d in datasets])

    def _draw(self, datasets) -> None:
        xs, ys, colours = [], [], []
        cell_x, cell_y = [], []
        for index, dataset in enumerate(datasets):
            left = (index % 2) * (DATASET_CELL + DATASET_GAP)
            top = (index // 2) * (DATASET_CELL + DATASET_GAP)
            cell_x.append(left + DATASET_CELL / 2)
            cell_y.append(-(top + DATASET_CELL / 2))
            try:
                points = np.asarray(dataset.generate(RandomStream(f"thumbnail:{dataset.name}"), THUMBNAIL_POINTS, 0.0))
            except Exception:  # a broken dataset plugin gets an empty cell; choosing it is reported then
                plugin = self.context.registry.plugin_of("datasets", dataset.name)
                log.exception("dataset %r from plugin %r failed to draw its thumbnail", dataset.name, plugin)
                points = np.empty((0, 3))
            inside = (np.abs(points[:, 0]) <= 6) & (np.abs(points[:, 1]) <= 6)
            points = points[inside]
            # The original draws canvas y = 100 (y + 6) / 12 without flipping: the picture is mirrored.
            xs.append(left + DATASET_CELL * (points[:, 0] + 6) / 12)
            ys.append(-(top + DATASET_CELL * (points[:, 1] + 6) / 12))
            if dataset.classes > 2:  # each class its hue, as the points on the output map
                colours += label_colours(points[:, 2], dataset.classes)
            else:
                colours += scales.rgb_hex(scales.diverging_rgb(points[:, 2]))
        rows = (len(datasets) + 1) // 2
        height = max(1, rows) * (DATASET_CELL + DATASET_GAP) - DATASET_GAP
        self.plot.frame_height = height + 1  # (bare_plot's spare row)
        self.plot.y_range.start = -height
        self.points.data = {
            "x": np.concatenate(xs).astype(np.float32) if xs else [],
            "y": np.concatenate(ys).astype(np.float32) if ys else [],
            "color": colours,
        }
        self.cells.data = {
            "x": cell_x,
            "y": cell_y,
            "name": [d.name for d in datasets],
            "label": [d.label for d in datasets],
            "line": ["#dddddd"] * len(datasets),
            "alpha": [0.6] * len(datasets),
        }


# -- feature column ---------------------------------------------------------------------------------------


class FeatureColumn:
    """Every input feature as a thumbnail of its values; click to switch it on or off, hover to enlarge."""

    def __init__(self, context: ctx.VisualizerContext) -> None:
        self.context = context
        self.shown: tuple | None = None
        self.source = ColumnDataSource(
            {"image": [], "x": [], "y": [], "cx": [], "cy": [], "name": [], "label": [], "alpha": [],
             "text_alpha": [], "line_alpha": []}  # fmt: skip
        )
        width = geo.FEATURE_PLOT_WIDTH
        p = self.plot = bare_plot(width, geo.PLOT_HEIGHT, (0, width), (-geo.PLOT_HEIGHT, 0))
        size = geo.RECT_SIZE
        add(p, self.source, Image(image="image", x="x", y="y", dw=size, dh=size, color_mapper=colour_mapper(),
                                  origin="top_left", anchor="top_left", global_alpha="alpha"))  # fmt: skip
        # the outline (invisible for a feature that is off) is also the hover and tap target
        target = add(p, self.source, Rect(x="cx", y="cy", width=size, height=size, fill_color=None,
                                          line_color="black", line_width=2, line_alpha="line_alpha"))  # fmt: skip
        add(p, self.source, Text(x=geo.INPUT_CX - size / 2 - 8, y="cy", text="label", text_align="right",
                                 text_baseline="middle", text_font_size="13px", text_color=TEXT_COLOUR,
                                 text_alpha="text_alpha"))  # fmt: skip
        hover = context.hover_js(self.source, "name")
        p.add_tools(HoverTool(renderers=[target], tooltips=None, callback=hover), TapTool(renderers=[target]))
        p.js_on_event(MouseLeave, hover)
        on_tap(self.source, lambda row: context.request("toggle_feature", name=self.source.data["name"][row]))
        self.root = p
        p.name = "features"
        p.css_classes = ["cw-features"]

    def update(self, frame: ctx.Frame) -> None:
        config = self.context.config
        registry = self.context.registry
        names = geo.visible_features(registry.names("features"), config.hidden)
        shown = (tuple(names), tuple(config.features), frame.discretize)
        if shown == self.shown:
            return
        self.shown = shown
        enabled = set(config.features)
        on = np.array([n in enabled for n in names], dtype=bool)
        cy = np.array([geo.node_cy(row) for row in range(len(names))], dtype=np.float32)
        size = geo.RECT_SIZE
        self.source.data = {
            "image": list(frame.maps.thumbnail_shades(names)),
            "x": np.full(len(names), geo.INPUT_CX - size / 2, dtype=np.float32),
            "y": -(cy - size / 2),
            "cx": np.full(len(names), geo.INPUT_CX, dtype=np.float32),
            "cy": -cy,
            "name": names,
            "label": [pretty_label(registry.feature(n).label) for n in names],
            "alpha": np.where(on, HEATMAP_ALPHA, 0.4 * HEATMAP_ALPHA).astype(np.float32),
            "text_alpha": np.where(on, 1.0, 0.5).astype(np.float32),
            "line_alpha": np.where(on, 1.0, 0.0).astype(np.float32),
        }


# -- network diagram --------------------------------------------------------------------------------------


class NetworkDiagram:
    """Hidden neurons as thumbnails, links sized and coloured by weight, biases as small squares.

    Hover a neuron to see its map in the big plot; hover a link or bias for its value and click it to
    edit it; the + and - above each layer change its neuron count (left out while a lesson locks
    ``neurons``).

    Links and hidden nodes share one data source: its rows are the links, then the nodes (outline,
    bias square); column ``kind`` says which, and each glyph draws only its kind (a ``GroupFilter``
    view). Column ``v`` is the value shown, a link's weight or a node's bias, and ``width`` a link's
    width; both are sent when a weight changed. The thumbnails' pixels (10×10 per hidden node) are a
    second source whose ``shade`` column (palette indices) is sent only when a pixel's colour changed.
    The dashes' flow is the link glyph's one ``line_dash_offset``, sent every third epoch.
    """

    def __init__(self, context: ctx.VisualizerContext) -> None:
        self.context = context
        self.structure: tuple | None = None
        self.neurons_locked = False  # a lesson's locked "neurons": no +/- buttons
        self.offset = 0
        self.net = ColumnDataSource(_empty_network(), name="network-values")
        self.pixels = ColumnDataSource({"x": [], "y": [], "shade": np.zeros(0, np.uint8)}, name="network-thumbnails")
        self.buttons = ColumnDataSource({"x": [], "y": [], "label": [], "action": [], "layer": []})
        self.captions = ColumnDataSource({"x": [], "y": [], "text": []})
        left = geo.FEATURE_PLOT_WIDTH
        right = self.width = ctx.COMPACT_NETWORK_WIDTH if context.compact else geo.NETWORK_WIDTH
        p = self.plot = bare_plot(right - left, geo.PLOT_HEIGHT, (left, right), (-geo.PLOT_HEIGHT, 0))
        size = geo.RECT_SIZE
        pixel = geo.RECT_SIZE / ctx.THUMBNAIL_SIZE
        links = {"field": "v", "transform": link_colour_mapper()}
        heat = {"field": "shade", "transform": opaque_colour_mapper()}

        self.links = MultiLine(xs="xs", ys="ys", line_color=links, line_width="width", line_dash=[9, 1],
                               line_dash_offset=0)  # fmt: skip
        add(p, self.net, self.links, "link")
        link_targets = add(p, self.net, MultiLine(xs="xs", ys="ys", line_width=8, line_alpha=0), "link")
        add(p, self.pixels, Rect(x="x", y="y", width=pixel, height=pixel, fill_color=heat, line_color=None))
        # the visible node outlines and bias squares are also the hover and tap targets
        node_targets = add(p, self.net, Rect(x="x", y="y", width=size, height=size, fill_color=None,
                                             line_color="black", line_width=2), "node")  # fmt: skip
        add(p, self.net, Scatter(x="ax", y="y", marker="triangle", angle=-np.pi / 2, size=7, fill_color="black",
                                 line_color="black"), "node")  # fmt: skip
        bias_targets = add(p, self.net, Rect(x="bx", y="by", width=geo.BIAS_SIZE, height=geo.BIAS_SIZE,
                                             fill_color=links, line_color="#777777", line_width=0.5), "node")  # fmt: skip
        buttons = add(p, self.buttons, Scatter(x="x", y="y", marker="circle", size=22, fill_color="#e6e6e6",
                                               line_color="#bbbbbb"))  # fmt: skip
        add(p, self.buttons, Text(x="x", y="y", text="label", text_align="center", text_baseline="middle",
                                  text_font_size="16px", text_color=TEXT_COLOUR))  # fmt: skip
        add(p, self.captions, Text(x="x", y="y", text="text", text_align="center", text_baseline="middle",
                                   text_font_size="12px", text_color=TEXT_COLOUR))  # fmt: skip

        precision = CustomJSHover(code="return Number(value).toPrecision(2);")
        hover = context.hover_js(self.net, "id")
        p.add_tools(
            HoverTool(renderers=[node_targets], tooltips=None, callback=hover),
            HoverTool(renderers=[link_targets], tooltips="Weight is @v{custom}", formatters={"@v": precision}),
            HoverTool(renderers=[bias_targets], tooltips="Bias is @v{custom}", formatters={"@v": precision}),
            TapTool(renderers=[link_targets, bias_targets, buttons]),
        )
        p.js_on_event(MouseLeave, hover)
        on_tap(self.net, self._tapped)
        on_tap(self.buttons, self._button)
        self.root = p
        p.name = "network"
        p.css_classes = ["cw-network"]

    def _tapped(self, row: int) -> None:
        kind, ident = self.net.data["kind"][row], self.net.data["id"][row]
        if kind == "link":
            self.context.request("edit_weight", link=ident)
        elif kind == "node":
            self.context.request("edit_bias", node=ident)

    def _button(self, row: int) -> None:
        self.context.request(self.buttons.data["action"][row], layer=self.buttons.data["layer"][row])

    def update(self, frame: ctx.Frame) -> None:
        neurons_locked = "neurons" in frame.locked
        rebuilt = ctx.NETWORK in frame.changed or self.structure is None or neurons_locked != self.neurons_locked
        if rebuilt:
            self.neurons_locked = neurons_locked
            self._build()
        if not frame.changed & {ctx.NETWORK, ctx.WEIGHTS, ctx.DISPLAY, ctx.RESTART} and not rebuilt:
            return
        e = self.context.experiment
        weights = e.params.weight_vector()
        biases = e.params.flat[0, self._bias_index]
        with np.errstate(over="ignore"):  # a diverged weight beyond float32's range is drawn as inf
            v = np.concatenate([weights, biases]).astype(np.float32)
        if rebuilt or not np.array_equal(v, self.net.data["v"], equal_nan=True):
            width = np.ones(len(v), dtype=np.float32)  # only the link rows use it
            width[: len(weights)] = np.nan_to_num(ctx.link_widths(weights), nan=1.0)
            self.net.data.update(v=v, width=width)
        shade = frame.maps.thumbnail_shades(self._hidden).ravel() if self._hidden else np.zeros(0, np.uint8)
        if rebuilt or not np.array_equal(shade, self.pixels.data["shade"]):
            self.pixels.data.update(shade=shade)
        offset = -(frame.epoch // 3)  # the dashes flow as the original's stroke-dashoffset = -iter/3
        if offset != self.offset:
            self.offset = offset
            self.links.line_dash_offset = offset

    def _build(self) -> None:
        """New node and link geometry (the architecture, the enabled or hidden features changed)."""
        e = self.context.experiment
        config = e.config
        arch = e.arch
        layout = geo.layout_for(arch.node_ids, self.context.registry.names("features"), config.hidden, self.width)
        self.structure = (arch.node_ids, tuple(config.hidden))
        self._hidden = [n for layer in arch.node_ids[1:-1] for n in layer]
        self._bias_index = np.array([arch.bias_index[n] for n in self._hidden], dtype=np.intp)
        size = geo.RECT_SIZE
        centres = layout.centres()
        data = _empty_network()

        def row(kind: str, ident: str, **values: object) -> None:
            data["kind"].append(kind)
            data["id"].append(ident)
            for name in ("xs", "ys"):
                data[name].append(values.get(name, []))
            for name in ("x", "y", "ax", "bx", "by"):
                data[name].append(values.get(name, np.nan))

        for layer in range(1, len(arch.node_ids)):
            for dest in range(len(arch.node_ids[layer])):
                for src in range(len(arch.node_ids[layer - 1])):
                    lx, ly = layout.link_path(layer, dest, src)
                    ident = f"{arch.node_ids[layer - 1][src]}-{arch.node_ids[layer][dest]}"
                    row("link", ident, xs=[round(x, 1) for x in lx], ys=[round(-y, 1) for y in ly])
        for node in self._hidden:
            cx, cy = centres[node]
            # the bias square sits at (-7, 28) from the node's top-left corner, 5 px wide
            row("node", node, x=cx, y=-cy, ax=cx + size / 2 + 3,
                bx=cx - size / 2 - 7 + geo.BIAS_SIZE / 2, by=-(cy - size / 2 + 28 + geo.BIAS_SIZE / 2))  # fmt: skip
        n = len(data["kind"])
        data["v"] = np.zeros(n, np.float32)
        data["width"] = np.ones(n, np.float32)
        for name in ("x", "y", "ax", "bx", "by"):
            data[name] = np.asarray(data[name], dtype=np.float32)
        self.net.data = data
        pixel = size / ctx.THUMBNAIL_SIZE
        px, py = [], []
        for node in self._hidden:
            cx, cy = centres[node]
            for r in range(ctx.THUMBNAIL_SIZE):
                for c in range(ctx.THUMBNAIL_SIZE):
                    px.append(cx - size / 2 + (c + 0.5) * pixel)
                    py.append(-(cy - size / 2 + (r + 0.5) * pixel))
        self.pixels.data = {
            "x": np.asarray(px, dtype=np.float32),
            "y": np.asarray(py, dtype=np.float32),
            "shade": np.zeros(len(px), np.uint8),
        }

        bx, by, label, action, layers = [], [], [], [], []
        cap_x, cap_y, captions = [], [], []
        for index, left in enumerate(layout.hidden_x):
            centre = left + size / 2
            pairs = () if self.neurons_locked else ((-14, "+", "add_neuron"), (14, "−", "remove_neuron"))
            for dx, text, act in pairs:
                bx.append(centre + dx)
                by.append(-(geo.TOP - 40))
                label.append(text)
                action.append(act)
                layers.append(index + 1)
            neurons = len(arch.node_ids[index + 1])
            cap_x.append(centre)
            cap_y.append(-(geo.TOP - 14))
            captions.append(f"{neurons} neuron{'s' if neurons != 1 else ''}")
        self.buttons.data = {"x": bx, "y": by, "label": label, "action": action, "layer": layers}
        self.captions.data = {"x": cap_x, "y": cap_y, "text": captions}


def _empty_network() -> dict:
    return {"kind": [], "id": [], "xs": [], "ys": [], "x": [], "y": [], "ax": [], "bx": [], "by": [],
            "v": np.zeros(0, np.float32), "width": []}  # fmt: skip


# -- loss text and chart --------------------------------------------------------------------------------


class LossChart:
    """Test and training loss to 3 decimals (accuracy too, for classification) over a tiny chart."""

    def __init__(self, context: ctx.VisualizerContext) -> None:
        self.context = context
        self.text = Div(text="", name="losses", css_classes=["cw-losses"], styles={"font-size": "13px", "color": TEXT_COLOUR})
        self.source = ColumnDataSource({"epoch": [], "train": [], "test": []})
        self.pending: list[tuple[float, float]] = []  # losses not yet on the chart
        self.next_epoch = 0
        self.drawn = 0.0
        p = self.plot = Plot(
            frame_width=140, frame_height=55, title=None, toolbar_location=None, min_border=2,
            x_range=DataRange1d(range_padding=0), y_range=DataRange1d(range_padding=0.02),
            outline_line_color=None, background_fill_color=None, border_fill_color=None,
        )  # fmt: skip
        add(p, self.source, Line(x="epoch", y="train", line_color="#777777", line_width=1.5))
        self.test_line = add(p, self.source, Line(x="epoch", y="test", line_color="black", line_width=1.5))
        p.css_classes = ["cw-loss-chart"]
        self.root = column(self.text, p, name="loss-chart")

    def update(self, frame: ctx.Frame) -> None:
        if ctx.RESTART in frame.changed:
            self.pending = list(frame.new_losses)
            self.source.data = _loss_columns([], 0)
            self.next_epoch = 0
        else:
            self.pending += frame.new_losses
        now = time.perf_counter()
        if frame.playing and now - self.drawn < TEXT_INTERVAL_S and not frame.changed - {ctx.WEIGHTS}:
            return  # drawn again within TEXT_INTERVAL_S, or as soon as the player stops
        self.drawn = now
        if self.pending:
            self.source.stream(_loss_columns(self.pending, self.next_epoch))
            self.next_epoch += len(self.pending)
            self.pending = []
        hide_test = not frame.show_test_loss  # the playground hides it with the ratio slider, as the original
        evaluation = frame.evaluation
        train, test = float(evaluation.train_loss[0]), float(evaluation.test_loss[0])
        lines = []
        if not hide_test:
            lines.append(("Test loss", test, float(evaluation.test_accuracy[0])))
        lines.append(("Training loss", train, float(evaluation.train_accuracy[0])))
        classifies = self.context.problem.classifies
        html = EMPTY.join(
            Html('<div class="cw-loss"><span>{}</span> <b>{}</b>{}</div>').format(
                name, js_to_fixed(loss, 3),
                Html(' <span class="cw-accuracy">accuracy {}</span>').format(_percent(acc)) if classifies else EMPTY,
            )
            for name, loss, acc in lines
        )  # fmt: skip
        if classifies:
            html += self._per_class(evaluation, test=not hide_test)
        if html != self.text.text:
            self.text.text = html
        self.test_line.visible = not hide_test


    def _per_class(self, evaluation, test: bool) -> str:
        """Each class's share of its points classified right (test points when the test loss shows):
        an overall accuracy can hide a class the network never learned."""
        e = self.context.experiment
        shares = (evaluation.test_class_accuracy if test else evaluation.train_class_accuracy)[0]
        names = class_names(e.parts.dataset, len(shares))
        parts = [Html('<span class="cw-class-share">{}{} {}</span>').format(class_swatch(i), name, _percent(float(share)))
                 for i, (name, share) in enumerate(zip(names, shares))]  # fmt: skip
        return Html('<div class="cw-loss cw-class-accuracy">{} by class: {}</div>').format(
            "Test points right" if test else "Training points right", Html(" · ").join(parts)
        )


def _loss_columns(pairs, start: int) -> dict[str, list]:
    """Chart rows for epochs ``start``...; plain lists: a few numbers travel cheaper as JSON than as
    binary buffers (non-finite losses become gaps)."""
    values = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    values = np.where(np.isfinite(values), values, np.nan)
    return {
        "epoch": list(range(start, start + len(values))),
        "train": [float(v) for v in values[:, 0]],
        "test": [float(v) for v in values[:, 1]],
    }


def _percent(fraction: float) -> str:
    return "NaN" if math.isnan(fraction) else f"{js_to_fixed(100 * fraction, 1)}%"


# -- decision boundary ------------------------------------------------------------------------------------


class DecisionBoundary:
    """The big 100×100 map (the output, or the hovered node) with the training and test points."""

    def __init__(self, context: ctx.VisualizerContext) -> None:
        self.context = context
        self.image = ColumnDataSource({"image": [np.full((100, 100), shades.NAN_SHADE, np.uint8)]}, name="output-map-image")
        self.train = ColumnDataSource({"x": [], "y": [], "color": []})
        self.test = ColumnDataSource({"x": [], "y": [], "color": []})
        p = self.plot = figure(
            frame_width=260, frame_height=260, x_range=Range1d(-6, 6), y_range=Range1d(-6, 6), tools="",
            toolbar_location=None, y_axis_location="right", min_border=4, outline_line_color=None,
            background_fill_color=None, border_fill_color=None, name="decision-boundary", css_classes=["cw-boundary"],
        )  # fmt: skip
        p.grid.visible = False
        for axis in p.axis:
            axis.ticker = FixedTicker(ticks=list(range(-6, 7)))
            axis.major_label_text_font_size = "9px"
            axis.major_label_text_color = "#777777"
            axis.axis_line_color = "#bbbbbb"
            axis.major_tick_line_color = "#bbbbbb"
            axis.minor_tick_line_color = None
        self.value_map = add(p, self.image, Image(image="image", x=-6, y=-6, dw=12, dh=12, color_mapper=colour_mapper(),
                                                  origin="top_left", anchor="bottom_left", global_alpha=HEATMAP_ALPHA))  # fmt: skip
        # One output node per class: the class map (hue = class, lightness = confidence), its own palette.
        self.classes_image = ColumnDataSource({"image": [np.full((100, 100), shades.CLASS_NAN_SHADE, np.uint8)]},
                                              name="output-class-image")  # fmt: skip
        self.class_map = add(p, self.classes_image, Image(image="image", x=-6, y=-6, dw=12, dh=12,
                                                          color_mapper=shades.class_mapper(NAN_COLOUR), origin="top_left",
                                                          anchor="bottom_left", global_alpha=HEATMAP_ALPHA))  # fmt: skip
        self.class_map.visible = False
        self.legend_shown: tuple | None = None
        add(p, self.train, Scatter(x="x", y="y", size=6, fill_color="color", fill_alpha=0.9, line_color="white",
                                   line_width=1, line_alpha=0.8))  # fmt: skip
        self.test_points = add(p, self.test, Scatter(x="x", y="y", size=6, fill_color="color", fill_alpha=0.9,
                                                     line_color="black", line_width=1, line_alpha=0.6))  # fmt: skip
        # A click on the map is a point to draw: the page decides whether the student is drawing, and which
        # class (a locked or left-out "drawing" refuses it), and checks the numbers again.
        p.on_event(Tap, lambda event: context.request("add_point", x=event.x, y=event.y))
        self.legend = Div(text=VALUE_LEGEND, name="legend")
        self.root = column(p, self.legend, name="output-map")
        self.plot = p

    def update(self, frame: ctx.Frame) -> None:
        e = self.context.experiment
        classes = e.parts.output.classes
        if frame.changed & {ctx.DATA, ctx.NETWORK, ctx.RESTART} or not len(self.train.data["x"]):
            self.train.data = _points(e.points.train, classes)
            self.test.data = _points(e.points.test, classes)
        self.test_points.visible = frame.show_test_data
        by_class = len(e.output_nodes) > 1 and (frame.selected is None or frame.selected in e.output_nodes)
        if by_class:
            image = frame.maps.class_shades()
            if not np.array_equal(image, self.classes_image.data["image"][0]):
                self.classes_image.data = {"image": [image]}
        else:
            image = frame.maps.node_shades(frame.selected or e.output_node)
            if not np.array_equal(image, self.image.data["image"][0]):  # a frame that changes no colour sends nothing
                self.image.data = {"image": [image]}
        if self.class_map.visible != by_class:
            self.class_map.visible = by_class
            self.value_map.visible = not by_class
        self._legend(e, by_class, classes)

    def _legend(self, e, by_class: bool, classes: int) -> None:
        """The value scale under a node's map; each class's colour and name under the class map."""
        shown = (by_class, classes, e.parts.dataset.name, tuple(getattr(e.parts.dataset, "class_labels", ())))
        if shown == self.legend_shown:
            return
        self.legend_shown = shown
        if not by_class:
            self.legend.text = VALUE_LEGEND
            return
        names = class_names(e.parts.dataset, classes)
        self.legend.text = Html('<div class="cw-legend cw-class-legend"><span>Colors show the class the network '
                                "predicts, paler where it is less sure.</span><span>{}</span></div>").format(
            Html(" ").join(Html('<span class="cw-class-name">{}{}</span>').format(class_swatch(i), name)
                           for i, name in enumerate(names))
        )  # fmt: skip


VALUE_LEGEND = Html(
    '<div class="cw-legend"><span>Colors shows data, neuron and weight values.</span>'
    '<span class="cw-legend-bar"></span><span class="cw-legend-ticks"><i>-1</i><i>0</i><i>1</i>'
    "</span></div>"
)


def _points(points: np.ndarray, classes: int = 2) -> dict:
    return {
        "x": points[:, 0].astype(np.float32),
        "y": points[:, 1].astype(np.float32),
        "color": label_colours(points[:, 2], classes),
    }


# -- registration ----------------------------------------------------------------------------------------
