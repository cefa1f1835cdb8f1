"""The page's small shared state between the browser and the server, as a Bokeh ``DataModel``.

Bokeh synchronises a ``DataModel``'s properties both ways without any TypeScript: the browser writes
``hovered`` from hover callbacks, the server writes ``query`` and the browser mirrors it into the
address bar. It is one model per session, added to the document as a root.
"""

from __future__ import annotations

from bokeh.core.properties import Bool, String
from bokeh.model import DataModel
from bokeh.models import CustomJS


PAGE_STATE_NAME = "page-state"  # the page's one PageState, found by name by visibility_js


class PageState(DataModel):
    """``hovered``: the node or feature under the pointer ("" for none); ``query``: the experiment's
    state in the Playground's URL vocabulary, kept in the address bar; ``page_query``: the page's own
    parameters (the lesson page's walk: ``lesson=...&step=...``), kept before the experiment's;
    ``progress``: the lesson page's progress as JSON, kept in the browser's localStorage for the
    index (:func:`progress_store_js`); ``hidden``: whether the browser says the tab is hidden (a
    background tab, a minimised window), written by :func:`visibility_js`. Only ``hovered`` and
    ``hidden`` are written by the browser (``guard.py``); ``download``: a file the server hands the
    browser to save (a counter line, then the CSV text; see :func:`download_js`)."""

    hovered = String(default="")
    hidden = Bool(default=False)
    query = String(default="")
    page_query = String(default="")
    progress = String(default="")
    download = String(default="")


PROGRESS_KEY = "courseware.progress."  # + lesson id: the localStorage key the index page reads


def hover_callback(state: PageState, source: object, id_column: str) -> CustomJS:
    """A CustomJS for a ``HoverTool`` (or a ``MouseLeave`` event) that reports the hovered row's id."""
    return CustomJS(
        args={"state": state, "source": source, "column": id_column},
        code="""
const hit = (typeof cb_data !== "undefined" && cb_data != null && cb_data.index != null)
    ? cb_data.index.indices : [];
const id = hit.length > 0 ? String(source.data[column][hit[0]]) : "";
if (state.hovered !== id) { state.hovered = id; }
""",
    )


def address_bar_js(state: PageState, keep: str = "") -> CustomJS:
    """Mirror ``state.page_query`` and ``state.query`` into the address bar without reloading
    (``history.replaceState``).

    Use it for ``state.js_on_change("query", ...)`` (and ``"page_query"``) and for the
    ``DocumentReady`` event (the first state). ``keep`` names a query parameter of the page itself
    (``lesson``) that must survive while ``page_query`` is empty.
    """
    return CustomJS(
        args={"state": state, "keep": keep},
        code="""
let query = state.query;
if (state.page_query) {
    query = state.page_query + "&" + query;
} else if (keep) {
    const value = new URLSearchParams(window.location.search).get(keep);
    if (value !== null) { query = keep + "=" + encodeURIComponent(value) + "&" + query; }
}
const url = window.location.pathname + "?" + query;
if (window.location.pathname + window.location.search !== url) {
    window.history.replaceState(null, "", url);
}
""",
    )


def progress_store_js(state: PageState) -> CustomJS:
    """Keep the lesson page's progress in the student's own browser (``localStorage``), for the index.

    Nothing is stored on the server: a student's progress lives where the student is. The record is
    ``state.progress`` (lesson, step, total, steps done, finished, answers, goals reached) with the
    page's address to resume at; the steps done and "finished" never go down (going back a step is not
    forgetting), until the index's "Start again" removes the record. A browser that refuses storage
    (private mode, a policy) simply keeps nothing.
    """
    return CustomJS(
        args={"state": state, "prefix": PROGRESS_KEY},
        code="""
try {
    const now = JSON.parse(state.progress || "null");
    if (now && now.lesson) {
        const key = prefix + now.lesson;
        const before = JSON.parse(window.localStorage.getItem(key) || "null") || {};
        const page = window.location.pathname.split("/").pop() || "lesson";
        now.url = page + "?" + state.page_query + (state.query ? "&" + state.query : "");
        now.done = Math.max(now.done || 0, before.done || 0);
        now.finished = Boolean(now.finished || before.finished);
        now.saved = Date.now();
        window.localStorage.setItem(key, JSON.stringify(now));
    }
} catch (error) {
    // no storage in this browser: progress is simply not kept
}
""",
    )


def visibility_js(name: str = PAGE_STATE_NAME) -> CustomJS:
    """A CustomJS for the document's ``DocumentReady`` event that keeps the ``PageState`` called
    ``name`` told whether the browser hides the tab (``document.hidden``, the Page Visibility API): once
    when the page is ready, then at each ``visibilitychange``. The server stops sending a hidden tab
    frames (``PlaygroundSession.set_hidden``).

    The state is looked up by name in the document (``cb_obj`` of a document event) rather than passed
    in ``args``: a document-level callback that held a model would keep a closed session's models
    alive until a full garbage collection.
    """
    return CustomJS(
        args={"name": name},
        code="""
const state = cb_obj != null && cb_obj.get_model_by_name != null ? cb_obj.get_model_by_name(name) : null;
if (state == null) { return; }
const update = () => { if (state.hidden !== document.hidden) { state.hidden = document.hidden; } };
update();
document.addEventListener("visibilitychange", update);
""",
    )


def download_js(state: PageState, filename: str = "points.csv") -> CustomJS:
    """A CustomJS for ``state.js_on_change("download", ...)``: save the file the server put in
    ``state.download`` (its first line is a counter, the rest the file) as ``filename``."""
    return CustomJS(
        args={"state": state, "filename": filename},
        code="""
const text = state.download || "";
const start = text.indexOf("\\n");
if (start < 0) { return; }
const blob = new Blob([text.slice(start + 1)], {type: "text/csv"});
const link = document.createElement("a");
link.href = URL.createObjectURL(blob);
link.download = filename;
document.body.appendChild(link);
link.click();
setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
""",
    )
