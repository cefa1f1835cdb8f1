"""A lesson's locked controls hold on the server, whatever the page's BokehJS is made to send (issue 10, point 2).

The page is the shipped learning-rate lesson, whose first step locks the learning rate and the
activation. A student with the browser's console can change any model through BokehJS: here the
forged changes are made exactly so (``Bokeh.documents[0].get_model_by_name(...)``), and BokehJS sends
them to the server as a page's own changes. The server's experiment must not change, and the widgets
must come back to the server's state in the browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_until

from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

LESSONS = Path(__file__).resolve().parents[2] / "lessons"

FORGE = """([activation, rate]) => {
    const doc = Bokeh.documents[0];
    const select = doc.get_model_by_name("activation");
    const learning = doc.get_model_by_name("learningRate");
    select.disabled = false;
    learning.disabled = false;
    select.value = activation;
    learning.value = rate;
    return [select.value, learning.value, select.disabled];
}"""
SHOWN = """() => {
    const doc = Bokeh.documents[0];
    const select = doc.get_model_by_name("activation");
    const learning = doc.get_model_by_name("learningRate");
    return [select.value, learning.value, select.disabled, learning.disabled];
}"""


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    """The server of ``courseware serve lessons/`` (overrides the playground tests' server)."""
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[LESSONS]))
    with background as server:
        yield background, server


def test_forged_changes_to_locked_controls_change_nothing_on_the_server(browser) -> None:
    page = browser.open("/lesson?lesson=learning-rate")
    session = browser.session()
    assert wait_until(lambda: browser.background.call(lambda: {"activation", "learningRate"} <= session.locked))
    before = browser.background.call(lambda: session.experiment.config)
    other = "sigmoid" if before.activation != "sigmoid" else "relu"
    forged = page.evaluate(FORGE, [other, "3"])
    assert forged == [other, "3", False]  # BokehJS took the changes and sent them
    shown = [before.activation, str(before.learningRate), True, True]
    assert wait_until(lambda: page.evaluate(SHOWN) == shown), page.evaluate(SHOWN)  # put back by the server
    after = browser.background.call(lambda: session.experiment.config)
    assert (after.activation, after.learningRate) == (before.activation, before.learningRate)
    names = ("activation", "learningRate")
    widgets = browser.background.call(
        lambda: [(w.value, w.disabled) for w in (session.doc.select_one({"name": n}) for n in names)]
    )
    assert widgets == [(before.activation, True), (str(before.learningRate), True)]
    page.close()
