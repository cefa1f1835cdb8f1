"""The playground's own controls: the top bar, the data sliders, the layer buttons, the value editor.

Every widget calls one :class:`~courseware.server.session.PlaygroundSession` method, and follows the
session back (``on_config``/``on_status``/``on_frame``) so that a change from anywhere (a panel, a
lesson, the URL) shows in the widgets. Choices come from the registry: this module never names a
concrete dataset, activation or feature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bokeh.layouts import column, row
from bokeh.models import (
    Button,
    CheckboxGroup,
    Div,
    FileInput,
    PrintfTickFormatter,
    RadioButtonGroup,
    Select,
    Slider,
    TextInput,
    Toggle,
)

from courseware.config import SETTINGS, Config
from courseware.jsmath import js_number
from courseware.registry import Registry
from courseware.server.html import Html, shorten
from courseware.server.session import SPEEDS, PlaygroundSession
from courseware.settings import CHECKBOX, MENU, SLIDER, Control, Setting

TEXT_INTERVAL_S = 0.2  # while playing, numbers are redrawn at most this often (5 times a second)
PLAY = "▶"
PAUSE = "❚❚"


def epoch_text(epoch: int) -> str:
    """The original's ``addCommas(zeroPad(iter))``: 6 digits, wrapping past 999,999: ``001,234``."""
    digits = ("000000" + str(int(epoch)))[-6:]
    return f"{digits[:3]},{digits[3:]}"


class SettingWidget:
    """The widget of one setting whose row of the settings table names a menu, a slider or a check
    box (:class:`~courseware.settings.Control`): built, read and shown from that row alone."""

    def __init__(self, control: Control, setting: Setting, registry: Registry, width: int) -> None:
        self.control = control
        self.setting = setting
        self.registry = registry
        name = setting.name
        if control.widget == MENU:
            self.widget: Any = Select(title=control.title, name=name, width=width)
            self.attribute = "value"
        elif control.widget == SLIDER:
            extra = {"format": PrintfTickFormatter(format="%d%%")} if control.percent else {}
            self.widget = Slider(title=control.title, start=0, end=1, step=control.step, value=0, name=name,
                                 width=width, **extra)  # fmt: skip
            self.attribute = "value"
        elif control.widget == CHECKBOX:
            # A check box whose label is clickable too (Bokeh's Checkbox draws its label beside the box,
            # not in a <label>: only the 13 px box would react); a group of one, "on" when [0] is active.
            self.widget = CheckboxGroup(labels=[control.title], active=[], name=name,
                                        css_classes=[f"cw-{_dashed(name)}"])  # fmt: skip
            self.attribute = "active"
        else:  # pragma: no cover - a table mistake
            raise ValueError(f"setting {name!r}: no widget of kind {control.widget!r}")

    def value(self, new: Any) -> Any:
        """The setting's value for the widget's ``new`` value (checked again when applied)."""
        if self.control.widget == CHECKBOX:
            return isinstance(new, list) and 0 in new
        return new

    def show(self, config: Config) -> None:
        """Show the setting's value in ``config``, within ``config``'s limits."""
        value = getattr(config, self.setting.name)
        widget = self.widget
        if self.control.widget == MENU:
            options = self.setting.kind.menu(self.registry, value)
            numeric = bool(options) and all(o == label for o, label in options)
            widget.options = [o for o, _ in options] if numeric else options
            widget.value = js_number(value) if numeric else (value or (options[0][0] if options else ""))
        elif self.control.widget == SLIDER:
            low, high = self.setting.kind.bounds(config.limits)
            end = high if self.control.end is None else max(self.control.end, value)  # (the noise's, to 80)
            widget.start, widget.end = low, min(end, high)
            widget.value = value
        else:
            widget.active = [0] if value else []


def _dashed(name: str) -> str:
    """``showTestData`` -> ``show-test-data`` (a CSS class)."""
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


class Controls:
    """All the host-owned widgets of one playground page (see the module docstring)."""

    def __init__(self, session: PlaygroundSession) -> None:
        self.session = session
        registry = session.registry
        config = session.experiment.config
        self._syncing = False
        self._epoch_drawn = float("-inf")
        # A compact page (the lesson page) shares the screen: smaller buttons, narrower menus.
        small = session.compact
        compact = ["cw-compact"] if small else []
        round_size, play_size, menu = (36, 46, 96) if small else (44, 60, 110)
        wide = 112 if small else 120  # the menus with longer titles or choices
        slider = 140 if small else 150

        # top bar
        self.reset = Button(label="↺", name="reset", css_classes=["cw-round", "cw-reset", *compact], width=round_size,
                            height=round_size, html_attributes={"title": "Reset the network"})  # fmt: skip
        self.play = Button(label=PLAY, name="play", css_classes=["cw-play", *compact], width=play_size, height=play_size,
                           button_type="primary", html_attributes={"title": "Run/Pause"})  # fmt: skip
        self.step = Button(label="⇥", name="step", css_classes=["cw-round", "cw-step", *compact], width=round_size,
                           height=round_size, html_attributes={"title": "Step one epoch"})  # fmt: skip
        self.epoch = Div(text=self._epoch_html(0), name="epoch", css_classes=["cw-epoch", *compact])
        # the settings' own widgets, from the settings table (menus, sliders, check boxes)
        self.settings: dict[str, SettingWidget] = {}
        for setting in SETTINGS:
            control = setting.widget
            if control is not None:
                width = slider if control.area == "data" else (wide if control.wide else menu)
                self.settings[setting.name] = SettingWidget(control, setting, registry, width)
        self.speed = Select(
            title="Speed", name="speed", width=118 if small else 120, value=str(session.speed),
            options=[(str(s), f"{s} epoch{'s' if s != 1 else ''}/frame") for s in SPEEDS],
        )  # fmt: skip

        # data column
        self.regenerate = Button(label="Regenerate", name="regenerate", width=slider, css_classes=["cw-regenerate"])

        # layers header
        self.add_layer = Button(label="+", name="add-layer", css_classes=["cw-round", "cw-add-layer"], width=34,
                                height=34)  # fmt: skip
        self.remove_layer = Button(label="−", name="remove-layer", css_classes=["cw-round", "cw-remove-layer"],
                                   width=34, height=34)  # fmt: skip
        self.layers = Div(text="", name="layers", css_classes=["cw-layers"])

        # output column
        self.share = Div(text="", name="share", css_classes=["cw-share-link"])

        # drawing your own points (under the output map): a class picker ("off", then the classes), a
        # button that clears them, a file to upload and the points to download
        self.draw_label = Div(text=Html('<span class="cw-label">Draw points:</span>'), name="draw-label")
        self.draw_class = RadioButtonGroup(labels=["off"], active=0, name="draw-class", css_classes=["cw-draw-class"])
        self.clear_points = Button(label="Clear points", name="clear-points", css_classes=["cw-clear-points"], width=110)
        self.download = Button(label="Download points", name="download-points", css_classes=["cw-download"],
                               width=130)  # fmt: skip
        self.upload = FileInput(accept=".csv", name="upload", css_classes=["cw-upload"], width=240,
                                title="Upload points (CSV):")  # fmt: skip
        # shown as one block, opened with a toggle: closed (or left out) it takes no room, the gaps between
        # its rows included, so the playground still fits a school laptop's screen
        self.own_data = Toggle(label="Own points", name="own-data", active=False, css_classes=["cw-own-data"],
                               width=92, html_attributes={"title": "Draw, upload or download points"})  # fmt: skip
        self.drawing = column(
            row(self.draw_label, self.draw_class, spacing=4), row(self.clear_points, self.download, spacing=6),
            self.upload, name="drawing", spacing=6,
        )  # fmt: skip

        # value editor (the original's hovercard)
        self.edit_label = Div(text="", name="edit-label", css_classes=["cw-edit-label"])
        self.edit_value = TextInput(value="", name="edit-value", width=110, css_classes=["cw-edit-value"])
        self.edit_done = Button(label="Done", name="edit-done", width=60, css_classes=["cw-edit-done"])
        self.edit_refused = Div(text="", name="edit-refused", css_classes=["cw-edit-refused"], visible=False)

        if small:  # Bokeh gives every widget 5 px of margin on each side: in the top bar, 2 are enough
            for widget in (self.reset, self.play, self.step, *self.in_area("top"), self.speed):
                widget.margin = (5, 2, 5, 2)
        self._wire()
        self.sync(config)
        self.status()
        session.on_config(self.sync)
        session.on_status(self.status)
        session.on_frame(self.frame)

    # -- widget -> session ---------------------------------------------------------------------------

    def _wire(self) -> None:
        s = self.session
        self._click(self.play, s.toggle_play)
        self._click(self.step, s.step)
        self._click(self.reset, s.reset)
        self._click(self.regenerate, s.regenerate)
        self._click(self.add_layer, lambda: s.request("add_layer"))
        self._click(self.remove_layer, lambda: s.request("remove_layer"))
        self._click(self.edit_done, s.end_edit)
        for name, item in self.settings.items():
            self._on(item.widget, item.attribute, lambda v, name=name, item=item: s.apply(**{name: item.value(v)}))
        self._on(self.speed, "value", lambda v: s.set_speed(int(v)))
        self._on(self.edit_value, "value_input", self._edited)
        self._on(self.draw_class, "active", lambda v: s.set_draw_class(v - 1 if isinstance(v, int) and v > 0 else None))
        self._on(self.own_data, "active", self._open_drawing)
        self._click(self.clear_points, s.clear_points)
        self._click(self.download, s.download)
        self._on(self.upload, "filename", lambda _v: self._uploaded())

    def _open_drawing(self, active: Any) -> None:
        """The "Your own points" toggle: show the drawing and file controls, or hide them and stop drawing."""
        self.drawing.visible = bool(active) and self.session.offers("drawing")
        if not self.drawing.visible and self.draw_class.active:
            self.draw_class.active = 0
        if not self.drawing.visible:
            self.session.set_draw_class(None)

    def _uploaded(self) -> None:
        """A file arrived (``value``, then ``filename``, in one message): read it, then have the browser
        empty the widget, so that the document keeps no copy of the file and the same file can come again."""
        upload = self.upload
        if not upload.filename:
            return
        self.session.upload(upload.filename, upload.value)
        upload.clear()  # the browser empties it and sends the empty value back

    def _edited(self, text: Any) -> None:
        """A keystroke in the value editor: a number sets the weight at once (as in the original); text
        that is not a number changes nothing, and the editor says why instead of ignoring it."""
        typed = str(text).strip()
        if self.session.set_edited_value(typed) or typed in ("", "-", "+", ".", "-.", "+."):
            self._refuse(None)  # a number, or the start of one being typed
        else:
            self._refuse(Html('<span class="cw-edit-refused">“{}” is not a number, so the value stays {}. '
                              "Type a number such as 0.5 or -1.2.</span>")
                         .format(shorten(typed, 20), js_number(self.session.edited_value() or 0.0)))  # fmt: skip

    def _refuse(self, message: Html | None) -> None:
        self.edit_refused.visible = message is not None
        if message is not None and self.edit_refused.text != message:
            self.edit_refused.text = message

    def _on(self, widget: Any, attr: str, handler: Callable[[Any], Any]) -> None:
        """``handler(new value)`` for each change the browser makes, coalesced per frame."""

        def changed(_attr: str, _old: Any, new: Any) -> None:
            if not self._syncing:
                self.session.from_browser(f"{widget.name}.{attr}", lambda: handler(new))

        widget.on_change(attr, changed)

    def _click(self, button: Any, handler: Callable[[], Any]) -> None:
        button.on_click(lambda: self.session.from_browser(f"{button.name}.click", handler))

    # -- session -> widgets --------------------------------------------------------------------------

    def sync(self, config: Config) -> None:
        """Show ``config`` in the widgets without re-applying it."""
        self._syncing = True
        try:
            for item in self.settings.values():
                item.show(config)
            layers = len(config.networkShape)
            self.layers.text = Html("<span>{}</span> HIDDEN LAYER{}").format(layers, "S" if layers != 1 else "")
            self.share.text = Html(
                '<a class="cw-share" href="playground?{}" target="_blank">Link to this experiment</a>'
            ).format(self.session.state.query)
            choices = ["off", *(words for words, _ in self.session.draw_choices())]
            if list(self.draw_class.labels) != choices:
                drawing = self.session.draw_class
                self.draw_class.labels = choices
                self.draw_class.active = drawing + 1 if drawing is not None and drawing + 1 < len(choices) else 0
                self.session.set_draw_class(self.draw_class.active - 1 if self.draw_class.active else None)
            self._set_disabled()
            hidden = set(config.hidden)
            for widget, control in self._hidable():
                widget.visible = control not in hidden and self.session.offers(control)
            self.drawing.visible = self.session.offers("drawing") and self.own_data.active
        finally:
            self._syncing = False

    def in_area(self, area: str) -> list[Any]:
        """The settings' widgets placed in one area of the page (``top``, ``data``, ``output``), in
        the order the settings table gives them."""
        placed = [item for item in self.settings.values() if item.control.area == area]
        return [item.widget for item in sorted(placed, key=lambda item: item.control.order)]

    def _hidable(self) -> list[tuple[Any, str]]:
        return [
            (self.play, "playButton"), (self.step, "stepButton"), (self.reset, "resetButton"),
            *((item.widget, item.control.name) for item in self.settings.values()),
            (self.add_layer, "numHiddenLayers"), (self.remove_layer, "numHiddenLayers"),
            (self.draw_label, "drawing"), (self.draw_class, "drawing"), (self.clear_points, "drawing"),
            (self.download, "drawing"), (self.upload, "drawing"), (self.own_data, "drawing"),
        ]  # fmt: skip

    def _set_disabled(self) -> None:
        """A locked control is shown, but cannot be used; "Clear points" only while there are some."""
        s = self.session
        for widget, control in self._hidable():
            disabled = control in s.locked or (widget is self.clear_points and not s.experiment.config.points)
            if widget.disabled != disabled:
                widget.disabled = disabled

    def status(self) -> None:
        s = self.session
        label = PAUSE if s.playing else PLAY
        if self.play.label != label:
            self.play.label = label
        self._set_disabled()
        editing = s.editing is not None
        for widget in (self.edit_label, self.edit_value, self.edit_done):
            widget.visible = editing
        if not editing:
            self._refuse(None)
        if editing:
            kind, ident = s.editing  # type: ignore[misc]
            self.edit_label.text = Html("{} <b>{}</b>:").format("Weight" if kind == "weight" else "Bias", ident)
            self._syncing = True
            try:
                self.edit_value.value = js_number(s.edited_value() or 0.0)
            finally:
                self._syncing = False

    def frame(self, frame: Any) -> None:
        """The epoch counter, redrawn at most every ``TEXT_INTERVAL_S`` while playing (a counter that
        changes faster cannot be read, and each redraw is a message), and always when play stops."""
        now = self.session.clock()
        if frame.playing and now - self._epoch_drawn < TEXT_INTERVAL_S:
            return
        self._epoch_drawn = now
        html = self._epoch_html(frame.epoch)
        if html != self.epoch.text:
            self.epoch.text = html

    @staticmethod
    def _epoch_html(epoch: int) -> Html:
        return Html('<div class="cw-label">Epoch</div><div class="cw-epoch-value">{}</div>').format(epoch_text(epoch))
