"""Strings on a page: :class:`Html` (markup written in this code base) and :func:`text` (anything else).

The escaping half of :mod:`courseware.server.html`, the one path by which a string reaches a page
(read its docstring): panels build their HTML with these, and the server's pages with the same ones
through that module. Bokeh's ``Div`` hands TeX delimiters in its HTML source to MathJax, so
:func:`text` writes ``$`` and ``\\`` as character references as well as escaping ``<`` and ``&``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any

ECHO_LIMIT = 80  # characters of an echoed value (a URL value, a lesson id) shown before "…"


class Html(str):
    """A string of HTML that is safe to put on a page (see the module docstring).

    Build it from a literal template in this code base; never wrap a string that came from elsewhere.
    """

    __slots__ = ()

    def __html__(self) -> Html:
        return self

    def format(self, *args: Any, **kwargs: Any) -> Html:
        """``str.format`` with every argument that is not ``Html`` escaped by :func:`text`."""
        return Html(_FORMATTER.vformat(self, args, kwargs))

    def join(self, items: Iterable[Any]) -> Html:  # type: ignore[override]
        return Html(str.join(self, (_as_html(item) for item in items)))

    def __add__(self, other: Any) -> Html:  # type: ignore[override]
        return Html(str.__add__(self, _as_html(other)))

    def __radd__(self, other: Any) -> Html:
        return Html(str.__add__(_as_html(other), self))


EMPTY = Html("")

_TEXT = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
    "$": "&#36;", "\\": "&#92;",
})  # fmt: skip
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: object) -> Html:
    """``value`` as text on a page: never markup, never Markdown, never TeX."""
    if isinstance(value, Html):
        return value
    return Html(CONTROL_CHARACTERS.sub("", str(value)).translate(_TEXT))


def shorten(value: object, limit: int = ECHO_LIMIT) -> str:
    """``value`` cut to ``limit`` characters (with "…" and its length), for echoing input back."""
    value = str(value)
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"


def echo(value: object, limit: int = ECHO_LIMIT) -> Html:
    """A value the user sent (a URL value, a lesson id), bounded and shown as text."""
    return text(shorten(value, limit))


def _as_html(value: Any) -> Html:
    return value if isinstance(value, Html) else text(value)


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Html):
            return value if not format_spec else Html(format(str(value), format_spec))
        return text(format(value, format_spec))


_FORMATTER = _Formatter()
