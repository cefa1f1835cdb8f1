"""What a browser may change on the server: every message a client sends is screened against its page.

Nothing from the browser is trusted. BokehJS applies a change in the browser, then sends it to the
server as a ``PATCH-DOC`` event, and Bokeh's server would apply any well-formed event to the session's
document: a change to a disabled widget, to any property (``disabled``, ``visible``, ``options``), new
roots, new models of any size. :class:`GuardedWSHandler` (the server's websocket handler) screens each
message inside the document lock, just before Bokeh applies it, with :func:`screen`:

* ``PUSH-DOC`` (replace the whole document) is refused.
* ``PATCH-DOC``: every event must be one that the page's own BokehJS sends:

  - ``ModelChanged`` of a property listed in :data:`CLIENT_WRITABLE` for the model's class (a
    widget's value, a selection, the range or size a plot computed, the node under the pointer,
    whether the tab is hidden), on a model of this document, with a plain value: no model, no
    reference to one, no binary buffer;
  - a Bokeh UI event (``button_click``, ``document_ready``, ``tap``, ...) whose model, if it names
    one, is a model of this document.

  Anything else (``RootAdded``, ``RootRemoved``, ``TitleChanged``, column data changes, a model the
  client made up, a reference to an unknown id) refuses the whole message: an ``ERROR`` reply, nothing
  applied.
* A change of a property the browser may not write (a widget's ``disabled``, ``visible``,
  ``options``...), and a change or a click on a widget that is disabled or not shown on the server,
  which is what a lesson's locked and hidden controls are (and the lesson page's "Next" before the
  step is done), is dropped, and the model's real state is sent back so the browser shows it again.

Error replies never carry a traceback (Bokeh's do, with the server's paths); the traceback stays in the
server's log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bokeh.document import Document
from bokeh.document.events import ModelChangedEvent
from bokeh.model import Model
from bokeh.models import (
    CheckboxButtonGroup,
    CheckboxGroup,
    DataRange1d,
    InputWidget,
    LayoutDOM,
    Plot,
    RadioButtonGroup,
    RadioGroup,
    Range1d,
    Selection,
    Toggle,
    Widget,
)
from bokeh.models.widgets import AbstractSlider, Checkbox, FileInput, Select, Spinner, TextAreaInput, TextInput
from bokeh.server.session import ServerSession
from bokeh.server.views.ws import WSHandler

from courseware.server.html import shorten
from courseware.server.uploads import UPLOAD_LIMITS, base64_chars
from courseware.server.state import PageState

log = logging.getLogger(__name__)

# The properties a page's BokehJS writes back to the server, by model class. Nothing else is writable
# from the browser (``disabled``, ``visible``, ``options``, ``text``, ``children``, ... never are).
CLIENT_WRITABLE: tuple[tuple[type[Model], frozenset[str]], ...] = (
    (Select, frozenset({"value"})),
    (AbstractSlider, frozenset({"value", "value_throttled"})),
    (Spinner, frozenset({"value", "value_throttled"})),
    (TextInput, frozenset({"value", "value_input"})),
    (TextAreaInput, frozenset({"value", "value_input"})),
    (Checkbox, frozenset({"active"})),
    (CheckboxGroup, frozenset({"active"})),
    (CheckboxButtonGroup, frozenset({"active"})),
    (RadioGroup, frozenset({"active"})),
    (RadioButtonGroup, frozenset({"active"})),
    (Toggle, frozenset({"active"})),
    (InputWidget, frozenset({"value"})),
    (FileInput, frozenset({"value", "filename", "mime_type"})),  # one file: strings, bounded by value_allowed
    (Selection, frozenset({"indices", "line_indices", "multiline_indices", "image_indices"})),
    (Range1d, frozenset({"start", "end"})),
    (DataRange1d, frozenset({"start", "end"})),
    (Plot, frozenset({"inner_width", "inner_height", "outer_width", "outer_height"})),
    (PageState, frozenset({"hovered", "hidden"})),
)
# Typed values a writable property may hold in the protocol's JSON (maps of selection indices, NaN).
PLAIN_TYPES = frozenset({"map", "number", "set"})
LOGGED_CHARS = 300  # of a refused event, in the log
MAX_FILE_CHARS = base64_chars(UPLOAD_LIMITS.max_bytes)  # a file input's value: the upload limit, in base64
MAX_FILE_NAME_CHARS = 1000


class Refused(Exception):
    """A message no page of ours sends: refused whole, with this reason in the error reply."""


@dataclass
class Screening:
    """The events of one message that may be applied, and the widget values to send back."""

    events: list[dict[str, Any]] = field(default_factory=list)
    put_back: list[tuple[Model, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def writable(model: Model) -> frozenset[str]:
    """The properties of ``model`` a browser may change."""
    names: set[str] = set()
    for cls, attrs in CLIENT_WRITABLE:
        if isinstance(model, cls):
            names |= attrs
    return frozenset(names)


def screen(content: Any, doc: Document) -> Screening:
    """Sort the events of a ``PATCH-DOC`` for ``doc``; raises :class:`Refused` for a forged message."""
    events = content.get("events") if isinstance(content, dict) else None
    if not isinstance(events, list) or not events:
        raise Refused("a patch without events")
    if set(content) - {"events"}:
        raise Refused("a patch with more than events")
    result = Screening()
    shown = _Shown(doc)
    for event in events:
        kind = event.get("kind") if isinstance(event, dict) else None
        if kind == "ModelChanged":
            model, attr = _target(event, doc)
            if attr not in model.properties():
                raise Refused(f"a change of {type(model).__name__}.{shorten(attr, 40)}, which does not exist")
            if not _plain(event.get("new")):
                raise Refused(f"a change of {type(model).__name__}.{attr} to a model or a reference")
            if (attr not in writable(model) or (isinstance(model, Widget) and not shown.usable(model))
                    or not value_allowed(model, attr, event.get("new"))):
                result.put_back.append((model, attr))
                result.dropped.append(f"{model.name or type(model).__name__}.{attr}")
                continue
        elif kind == "MessageSent":
            model = _event_model(event, doc)
            if model is not None and isinstance(model, Widget) and not shown.usable(model):
                result.dropped.append(f"a {_event_name(event)} on {model.name or type(model).__name__}")
                continue
        else:
            raise Refused(f"a {shorten(kind, 40)} event" if isinstance(kind, str) else "an event of no kind")
        result.events.append(event)
    return result


def value_allowed(model: Model, attr: str, value: Any) -> bool:
    """Whether a writable property may take ``value`` from a browser: a file input holds one file (a
    string, not a list), of at most ``MAX_FILE_CHARS`` base64 characters under a name of at most
    ``MAX_FILE_NAME_CHARS``; anything larger is dropped before Bokeh stores it in the document. (The
    session reads the file again, with its own limits.)"""
    if isinstance(model, FileInput):
        limit = MAX_FILE_CHARS if attr == "value" else MAX_FILE_NAME_CHARS
        return isinstance(value, str) and len(value) <= limit
    return True


def _target(event: dict[str, Any], doc: Document) -> tuple[Model, str]:
    ref = event.get("model")
    attr = event.get("attr")
    if not isinstance(ref, dict) or set(ref) != {"id"} or not isinstance(attr, str):
        raise Refused("a change of no model")
    model = doc.get_model_by_id(str(ref["id"]))
    if model is None:
        raise Refused("a change of a model this page does not have")
    return model, attr


def _event_model(event: dict[str, Any], doc: Document) -> Model | None:
    data = event.get("msg_data")
    if event.get("msg_type") != "bokeh_event" or not isinstance(data, dict) or data.get("type") != "event":
        raise Refused("a message that is not a UI event")
    values = data.get("values")
    entries = values.get("entries", []) if isinstance(values, dict) and values.get("type") == "map" else None
    if not isinstance(entries, list):
        raise Refused("a UI event without values")
    model: Model | None = None
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise Refused("a UI event with malformed values")
        key, value = entry
        if key == "model" and isinstance(value, dict) and set(value) == {"id"}:
            model = doc.get_model_by_id(str(value["id"]))
            if model is None:
                raise Refused("a UI event on a model this page does not have")
        elif not _plain(value):
            raise Refused("a UI event carrying a model")
    return model


def _event_name(event: dict[str, Any]) -> str:
    return shorten(str(event.get("msg_data", {}).get("name", "event")), 40)


def _plain(value: Any, depth: int = 0) -> bool:
    """True for JSON a widget property can hold: no model, no reference, no buffer."""
    if depth > 8:
        return False
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        kind = value.get("type")
        if "id" in value or (kind is not None and kind not in PLAIN_TYPES):
            return False
        return all(_plain(v, depth + 1) for v in value.values())
    return False


class _Shown:
    """Whether a widget is usable: enabled, and shown with every layout that holds it."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._parents: dict[str, LayoutDOM] | None = None

    def usable(self, widget: Widget) -> bool:
        if widget.disabled:
            return False
        node: Model | None = widget
        for _ in range(100):  # a layout is never this deep; a cycle must not hang the server
            if node is None:
                break
            if isinstance(node, LayoutDOM) and not node.visible:
                return False
            node = self.parents.get(node.id)
        return True

    @property
    def parents(self) -> dict[str, LayoutDOM]:
        if self._parents is None:
            self._parents = {}
            stack = [r for r in self.doc.roots if isinstance(r, LayoutDOM)]
            while stack:
                node = stack.pop()
                for child in _children(node):
                    self._parents[child.id] = node
                    stack.append(child)
        return self._parents


def _children(node: LayoutDOM) -> Iterable[LayoutDOM]:
    if "children" not in node.properties():  # (getattr of a missing property is slow in Bokeh)
        return ()
    children = node.children
    if not isinstance(children, list):
        return ()
    found = []
    for child in children:
        if isinstance(child, tuple):  # GridBox: (model, row, column, ...)
            child = child[0]
        if isinstance(child, LayoutDOM):
            found.append(child)
    return found


def put_back(doc: Document, targets: list[tuple[Model, str]]) -> None:
    """Send the browser the server's value of each refused ``(model, attr)``, so it shows it again."""
    for model, attr in targets:
        doc.callbacks.trigger_on_change(ModelChangedEvent(doc, model, attr, getattr(model, attr)))


class GuardedWSHandler(WSHandler):
    """Bokeh's websocket handler with every incoming message screened (see the module docstring)."""

    LOGGED_REFUSALS = 3  # per connection: a client sending thousands of forged messages fills no log

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refusals = 0

    def _log_refusal(self, level: int, what: str, *args: Any) -> None:
        self._refusals += 1
        if self._refusals <= self.LOGGED_REFUSALS:
            last = self._refusals == self.LOGGED_REFUSALS
            log.log(level, what + (" (further refusals on this connection are not logged)" if last else ""), *args)

    async def _handle(self, message: Any) -> Any:
        connection = self.connection
        if connection is None:
            return None
        if message.msgtype == "PUSH-DOC":
            self._log_refusal(logging.WARNING, "refused a PUSH-DOC from a client")
            return _error(connection, message, "refused: a client cannot replace the document")
        if message.msgtype == "PATCH-DOC":
            return await connection.session.with_document_locked(self._patch, message)
        work = await super()._handle(message)
        if getattr(work, "msgtype", None) == "ERROR":  # Bokeh's reply carries the traceback: keep it in the log
            return _error(connection, message, "the server could not handle this message")
        return work

    def _patch(self, message: Any) -> Any:
        """Screen and apply one ``PATCH-DOC`` (called with the document locked)."""
        connection = self.connection
        session: ServerSession = connection.session
        doc = session.document
        try:
            screening = screen(message.content, doc)
        except Refused as exc:
            self._log_refusal(logging.WARNING, "refused a change from a client: %s", exc)
            return _error(connection, message, f"refused: {exc}")
        if screening.dropped:
            self._log_refusal(logging.INFO, "ignored a change the page does not allow: %s",
                              ", ".join(screening.dropped[:5]))  # fmt: skip
        failed: BaseException | None = None
        if screening.events:
            message.content["events"] = screening.events
            try:
                # Bokeh's own PATCH-DOC handling, minus the lock we already hold
                ServerSession._handle_patch.__wrapped__(session, message, connection)  # type: ignore[attr-defined]
            except Exception as exc:
                log.error("a change from a client could not be applied: %s", shorten(repr(exc), LOGGED_CHARS),
                          exc_info=True)  # fmt: skip
                failed = exc
        put_back(doc, screening.put_back)
        if failed is not None:
            return _error(connection, message, "the change could not be applied")
        return connection.ok(message)


def _error(connection: Any, message: Any, text: str) -> Any:
    """An ``ERROR`` reply with ``text`` and no traceback."""
    reply = connection.error(message, text)
    reply.content["traceback"] = None
    return reply
