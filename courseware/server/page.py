"""The playground page: one session's controller, controls and panels, laid out as the Playground is.

:func:`build_playground` is the whole page for one Bokeh document. The server's applications call it
per session; tests call it on a bare ``Document``. The layout has the original's four columns (data,
features, network, output) under its top bar; visualizers fill the columns by their ``area``:

* ``data``: under "Which dataset do you want to use?" (the dataset thumbnails);
* ``features`` and ``network``: side by side, sharing the node rows (``courseware.panel.geometry``);
* ``output``: the output column (loss, then the big map);
* ``extra``: a row under the playground, for panels the original never had.

The free playground keeps the original's look: its banner, and its columns at the original's widths
(they fit a 1280 px screen; the banner gives way on screens under 860 px high, see the template). A
lesson page is *compact* (:data:`VisualizerContext.compact <courseware.panel.VisualizerContext>`): no
banner, a narrower top bar and data column, the network's layers closer together, so the lesson's
text and the whole playground fit a school laptop's 1280x720 or 1366x768 screen side by side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bokeh.document import Document
from bokeh.events import DocumentReady
from bokeh.layouts import column, row
from bokeh.models import Div, InlineStyleSheet, LayoutDOM, Plot, Spacer
from jinja2 import Environment, FileSystemLoader

from courseware.config import Config
from courseware.registry import Registry
from courseware.panel import geometry as geo
from courseware.server.controls import Controls
from courseware.server.html import Html, shorten
from courseware.server.session import FRAME_INTERVAL_MS, PlaygroundSession
from courseware.server.state import address_bar_js, download_js

log = logging.getLogger(__name__)

MAX_QUERY_KEY = 64  # characters of a query parameter's name (the longest setting name is ~20)
MAX_QUERY_VALUE = 1000  # characters of a query value (a full feature list is ~100)
MAX_POINTS_VALUE = 8000  # characters of drawn points (200 points of up to ~16 characters, and then some)

TEMPLATES = Path(__file__).parent / "templates"
HEADER = (
    '<div class="cw-header-text">Tinker With a <b>Neural Network</b> Right Here in Your Browser.<br>'
    "Don’t Worry, You Can’t Break It. We Promise.</div>"
)

# Styles inside Bokeh's shadow DOM: each widget and Div gets this sheet.
WIDGET_CSS = """
:host { font-family: "Helvetica Neue", Helvetica, Arial, sans-serif; color: #333; }
:host(.cw-round) .bk-btn { border-radius: 50%; font-size: 18px; padding: 0; background: #fff; }
:host(.cw-play) .bk-btn { border-radius: 50%; font-size: 22px; padding: 0; background: #183d4e;
  border-color: #183d4e; color: #fff; }
:host(.cw-epoch) { min-width: 100px; }
:host(.cw-epoch.cw-compact) { min-width: 88px; margin: 0 4px; }
:host(.cw-compact.cw-round) .bk-btn { font-size: 16px; }
:host(.cw-compact.cw-play) .bk-btn { font-size: 18px; }
.cw-home { font-size: 13px; color: #0877bd; text-decoration: none; white-space: nowrap; }
:host(.cw-header) .bk-clearfix, :host(.cw-header) > div { width: 100%; }
.cw-label { font-size: 12px; color: #777; }
.cw-epoch-value { font-size: 26px; font-weight: 300; letter-spacing: 0.5px; }
:host(.cw-compact) .cw-epoch-value { font-size: 22px; }
.cw-edit-refused { font-size: 12px; color: #8a1f11; max-width: 240px; }
.cw-header-text { width: 100%; font-size: 28px; color: rgba(255,255,255,.7); text-align: center; line-height: 1.6;
  padding: 26px 0 30px 0; font-weight: 300; }
.cw-header-text b { color: #fff; font-weight: 400; }
h3 { font-size: 18px; font-weight: 400; margin: 8px 0 4px 0; color: #222; }
.cw-sub { font-size: 13px; color: #666; margin: 0 0 6px 0; }
:host(.cw-layers) { font-size: 16px; color: #333; padding-top: 6px; margin-left: 8px; }
:host(.cw-layers) span { font-size: 22px; margin-right: 6px; }
.cw-loss { font-size: 13px; color: #777; line-height: 1.5; }
.cw-loss b { color: #222; font-weight: 400; }
.cw-accuracy { color: #999; margin-left: 6px; }
.cw-class-accuracy { font-size: 12px; max-width: 280px; line-height: 1.4; }
.cw-class-share, .cw-class-name { white-space: nowrap; margin-right: 4px; }
.cw-swatch { margin-right: 2px; }
.cw-class-legend { flex-direction: column; gap: 2px; }
.cw-class-legend > span:first-child { width: auto; }
.cw-legend { font-size: 12px; color: #666; display: flex; align-items: flex-start; gap: 10px; width: 280px; }
.cw-legend > span:first-child { width: 110px; }
.cw-legend-bar { display: inline-block; width: 144px; height: 10px; margin-top: 4px;
  background: linear-gradient(to right, #f59322, #e8eaeb, #0877bd); }
.cw-legend-ticks { display: none; }
.cw-notice { background: #fff4e5; border-left: 4px solid #f59322; padding: 6px 10px; margin: 2px 0;
  font-size: 13px; color: #5a3a00; }
.cw-notice-plugin { background: #fdecea; border-left-color: #c62828; color: #5f2120; }
a.cw-share { font-size: 12px; color: #0877bd; }
"""


# A plot's canvas (in the plot's shadow DOM) takes focus when clicked; its outline is a variable it
# inherits, set here from outside its own shadow root, where it wins over the canvas's default.
PLOT_CSS = ".bk-Canvas { --outline-style: none; --outline-width: 0; }"

# The free playground on a smaller screen (a school laptop's 1366x768 or 1280x720): the banner gives
# way, and the top bar tightens, so that every control and the output fit without scrolling. (Each
# model renders in its own shadow DOM: a rule for it lives in its own stylesheet, as ``:host``.)
SHORT_SCREEN_HEADER = "@media (max-height: 860px) { :host { display: none !important; } }"
NARROW_SCREEN_BAR = "@media (max-width: 1400px) { :host { gap: 4px !important; padding: 10px 14px !important; } }"


def query_mapping(arguments: Mapping[str, Any], ignore: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """Bokeh's request arguments (name -> [bytes]) as the Playground's key -> value (the last one wins).

    A name longer than ``MAX_QUERY_KEY`` or a value longer than ``MAX_QUERY_VALUE`` characters is
    dropped with a notice (no setting is that long): nothing downstream echoes megabytes back.
    """
    mapping: dict[str, str] = {}
    notices: list[str] = []
    for key, values in arguments.items():
        if key in ignore or key.startswith("bokeh-"):
            continue
        if len(key) > MAX_QUERY_KEY:
            notices.append(f"a setting name of {len(key):,} characters ({shorten(key, 24)})")
            continue
        raw = values[-1] if isinstance(values, (list, tuple)) else values
        try:
            value = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            notices.append(f"{key}: not valid text")
            continue
        if len(value) > (MAX_POINTS_VALUE if key == "points" else MAX_QUERY_VALUE):
            notices.append(f"{key}: a value of {len(value):,} characters is too long")
            continue
        mapping[key] = value
    return mapping, notices


def config_from_arguments(arguments: Mapping[str, Any], registry: Registry, ignore: tuple[str, ...] = ()) -> tuple[Config, list[str]]:
    """The experiment a URL describes; every value that cannot be used becomes a notice, never an error."""
    mapping, notices = query_mapping(arguments, ignore)
    config, more = Config.from_query(mapping, registry)
    return config, notices + more


def build_playground(
    doc: Document,
    registry: Registry,
    arguments: Mapping[str, Any] | None = None,
    *,
    frame_interval_ms: int = FRAME_INTERVAL_MS,
    side_panel: Callable[[PlaygroundSession], LayoutDOM] | None = None,
    keep_query: str = "",
    compact: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    dev: bool = False,
) -> PlaygroundSession:
    """Build the playground page in ``doc`` and return its session controller.

    ``arguments`` are the page request's query arguments (the experiment, in the Playground's URL
    vocabulary). ``side_panel(session)`` may add a panel to the left of the playground (the lesson
    page does). ``keep_query`` names a query parameter of the page itself that the address bar keeps.
    ``compact`` lays the playground out to share the screen (see the module docstring); ``clock`` is
    the session's (tests pass one that stands still). ``dev``: the instructor's view (``serve --dev``),
    where a failing plugin's notice names it and its exception.
    """
    config, notices = config_from_arguments(arguments or {}, registry, ignore=(keep_query,) if keep_query else ())
    session = PlaygroundSession(doc, registry, config, notices=notices, frame_interval_ms=frame_interval_ms,
                                clock=clock, compact=compact, dev=dev)  # fmt: skip
    doc.title = "courseware playground"  # before the side panel, which may name the page itself
    sheet = InlineStyleSheet(css=WIDGET_CSS)
    controls = Controls(session)
    session.build_panels()
    layout = _layout(session, controls, config, compact)
    if side_panel is not None:
        layout = row(side_panel(session), layout, name="lesson-page", sizing_mode="stretch_width")
    _style(layout, sheet)
    address = address_bar_js(session.state, keep_query)
    session.state.js_on_change("query", address)
    session.state.js_on_change("page_query", address)
    session.state.js_on_change("download", download_js(session.state))
    with doc.models.freeze():  # one pass over the models, not one per root
        doc.add_root(layout)
        doc.add_root(session.state)
    doc.js_on_event(DocumentReady, address)
    doc.template = _template()
    session.render()
    return session


def _layout(session: PlaygroundSession, controls: Controls, config: Config, compact: bool) -> LayoutDOM:
    c = controls
    header = Div(text=HEADER, name="header", sizing_mode="stretch_width", visible=not (config.hideText or compact),
                 css_classes=["cw-header"], stylesheets=[InlineStyleSheet(css=SHORT_SCREEN_HEADER)],
                 styles={"background": "#183d4e"})  # fmt: skip
    pad = 14 if compact else 30
    start: list[LayoutDOM] = []
    if not compact:  # the lesson page has its own way back, in its panel
        start = [Div(text=Html('<a class="cw-home" href="./" title="All lessons">‹ Lessons</a>'), name="home")]
    top_bar = row(
        *start, c.reset, c.play, c.step, Spacer(width=0 if compact else 20), c.epoch, *c.in_area("top"), c.speed,
        name="top-bar", spacing=2 if compact else 14,
        sizing_mode="stretch_width", stylesheets=[InlineStyleSheet(css=NARROW_SCREEN_BAR)],
        styles={"background": "#fff", "padding": f"{8 if compact else 14}px {pad}px", "border-bottom": "1px solid #ddd",
                "align-items": "center", "flex-wrap": "wrap"},
    )  # fmt: skip
    data = column(
        Div(text='<h3>DATA</h3><p class="cw-sub">Which dataset do you want to use?</p>', width=140 if compact else 170),
        *session.panels_in("data"),
        *c.in_area("data"), c.regenerate,
        name="data-column", width=150 if compact else 180, spacing=8,
    )  # fmt: skip
    network = column(
        row(
            Div(text='<h3>FEATURES</h3><p class="cw-sub">Which properties do you want to feed in?</p>',
                width=geo.FEATURE_WIDTH + (20 if compact else 40)),
            c.add_layer, c.remove_layer, c.layers, spacing=6,
        ),
        row(*session.panels_in("features"), *session.panels_in("network"), spacing=0),
        row(c.edit_label, c.edit_value, c.edit_done, c.edit_refused, spacing=6),
        name="network-column",
    )  # fmt: skip
    output = column(
        Div(text="<h3>OUTPUT</h3>"),
        *session.panels_in("output"),
        row(*c.in_area("output"), c.own_data, spacing=12),
        c.drawing,
        c.share,
        name="output-column", spacing=6,
    )  # fmt: skip
    main = row(data, network, output, name="main", spacing=16 if compact else 24,
               styles={"padding": f"{10 if compact else 16}px {pad}px"})  # fmt: skip
    parts: list[LayoutDOM] = [header, top_bar, session.notices.div, main]
    extra = session.panels_in("extra")
    if extra:
        parts.append(row(*extra, name="extra", spacing=24, styles={"padding": f"0 {pad}px 30px {pad}px"}))
    return column(*parts, name="playground", sizing_mode="stretch_width")


def _style(root: LayoutDOM, sheet: InlineStyleSheet) -> None:
    """Give the layout's Divs and widgets the page's stylesheet (they render in shadow DOM), and every
    plot the rule that keeps a clicked canvas from drawing Bokeh's dotted focus outline (clicking a
    feature's thumbnail left it beside the tile, like a mark on the thumbnail).

    Walks rows and columns only (a panel's own Div children included), not every model: cheap.
    """
    plot_sheet = InlineStyleSheet(css=PLOT_CSS)
    stack = [root]
    while stack:
        model = stack.pop()
        children = model.children if "children" in model.properties() else None  # (a missing attribute is slow)
        if isinstance(children, list):
            stack.extend(child for child in children if isinstance(child, LayoutDOM))
        elif isinstance(model, Plot):
            model.stylesheets = [*model.stylesheets, plot_sheet]
        else:
            model.stylesheets = [*model.stylesheets, sheet]


_environment: Environment | None = None


def _template() -> Any:
    global _environment
    if _environment is None:
        _environment = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=False)
    return _environment.get_template("playground.html")
