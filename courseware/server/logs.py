"""The server's log: bounded records, and no session ids.

Bokeh logs whole client messages when it cannot handle one (four 15 MB messages grew a log by 60 MB
in a second), and a few of its lines name a session id, which is all it takes to join that session.
:class:`BoundedRecords` cuts every record's message to ``MAX_LOGGED_CHARS`` and writes session ids in
Bokeh's lines as ``<session>``; tracebacks are kept (they hold code, not client data).
:func:`configure` is what ``courseware serve`` sets up.
"""

from __future__ import annotations

import logging
import re

MAX_LOGGED_CHARS = 2000
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SESSION_ID = re.compile(r"\b[A-Za-z0-9]{44}\b")  # Bokeh's session ids (bokeh.util.token)


class BoundedRecords(logging.Filter):
    """Cuts long messages and hides session ids (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        changed = False
        if record.name.startswith("bokeh") and SESSION_ID.search(message):
            message = SESSION_ID.sub("<session>", message)
            changed = True
        if len(message) > MAX_LOGGED_CHARS:
            message = f"{message[:MAX_LOGGED_CHARS]}… (cut: {len(message):,} characters in all)"
            changed = True
        if changed:
            record.msg, record.args = message, ()
        return True


def configure(level: str) -> None:
    """Log to stderr at ``level`` (``"info"``, ...), through :class:`BoundedRecords`."""
    logging.basicConfig(level=level.upper(), format=FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, BoundedRecords) for f in handler.filters):
            handler.addFilter(BoundedRecords())
