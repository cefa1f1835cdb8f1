"""The lesson page in headless Chromium: a student follows a shipped lesson from its first step to its last.

The server serves ``lessons/`` as ``courseware serve lessons/`` does. The walk-through answers the
lesson's question (a wrong choice first), watches its compare and its runs, reloads the page in the
middle, reaches its goal through the page's own controls (the learning rate it unlocks, reset, play)
and finishes it. Any console error fails the test (see ``conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_until

from courseware.lessons import discover
from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LESSON = "learning-rate"  # its goal (a learning rate that learns within 3 epochs) is the quickest to reach


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    """The server of ``courseware serve lessons/`` (overrides the playground tests' server)."""
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[LESSONS]))
    with background as server:
        yield background, server


def text(page, css: str) -> str:
    """The text a Bokeh Div shows (it renders inside the element's shadow root)."""
    return page.locator(css).first.evaluate(
        """(e) => e.shadowRoot
            ? [...e.shadowRoot.children].filter((c) => !["STYLE", "LINK"].includes(c.tagName))
                .map((c) => c.innerText).join("\\n")
            : e.innerText"""
    )


def wait_text(page, css: str, pattern: str, timeout: float = 60.0) -> str:
    """Wait until the Div at ``css`` shows text matching ``pattern``; return that text."""
    assert wait_until(lambda: re.search(pattern, text(page, css)) is not None, timeout), (
        f"{css} never showed {pattern!r}; it shows: {text(page, css)!r}"
    )
    return text(page, css)


def button(page, name: str):
    return page.locator(f".cw-lesson-{name} button").first


def next_step(page, number: int) -> None:
    button(page, "next").click()
    wait_text(page, ".cw-lesson-progress", rf"Step {number} of 11\b")


def address(page) -> str:
    return page.evaluate("() => window.location.search")


def test_follow_a_lesson_from_its_first_step_to_its_last(browser) -> None:
    # the index lists every shipped lesson; the student picks one
    index = browser.context.new_page()
    index.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
    index.goto(browser.base + "/")
    for entry in discover([LESSONS]):
        assert entry.error is None, entry.error
        assert index.get_by_text(entry.title, exact=True).count() == 1, entry.title
    page = index
    page.on("console", lambda m: browser.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        page.get_by_text("Learning rate: too small, too large", exact=True).click()
    assert wait_until(lambda: "step=1&lessonSeed=" in address(page))
    session = browser.session()

    # step 1: text with math, the lesson's hidden and locked controls
    wait_text(page, ".cw-lesson-progress", r"Step 1 of 11\b")
    assert "The size of a step" in text(page, ".cw-lesson-step")
    step_html = page.locator(".cw-lesson-step").first.evaluate("(e) => e.shadowRoot.innerHTML")
    assert "mjx-container" in step_html and "$$" not in step_html  # MathJax typeset the formula
    learning_rate = page.locator("select[name=learningRate]").first
    assert learning_rate.is_visible() and learning_rate.is_disabled()  # locked: shown, not usable
    noise = page.locator(".bk-slider-title", has_text="Noise:").first
    assert noise.count() == 1 and not noise.is_visible()  # hidden
    assert browser.background.call(lambda: "neurons" in session.locked)
    network = browser.background.call(lambda: next(p.panel for p in session.panels if p.component.name == "network"))
    assert browser.background.call(lambda: list(network.buttons.data["action"])) == []  # no +/- buttons
    assert button(page, "back").is_disabled()

    # step 2: a question; next waits for an answer, each choice has its feedback
    next_step(page, 2)
    assert button(page, "next").is_disabled()
    page.locator(".cw-lesson-choices label", has_text="It learns a hundred times faster").click()
    wait_text(page, ".cw-lesson-feedback", r"Not quite")
    page.locator(".cw-lesson-choices label", has_text="The loss jumps around").click()
    wait_text(page, ".cw-lesson-feedback", r"Correct")
    assert wait_until(lambda: not button(page, "next").is_disabled())
    assert wait_until(lambda: "answers=2:2" in address(page))

    # step 3: three learning rates trained side by side, curves together
    next_step(page, 3)
    legend = wait_text(page, ".cw-lesson-compare-legend", r"Loss after 100 epochs")
    assert all(name in legend for name in ("0.0001", "0.03", "3"))
    assert page.locator(".cw-lesson-compare").first.is_visible()

    # steps 4 to 6: a change of settings, then a run that stops where its condition holds
    next_step(page, 4)
    next_step(page, 5)
    assert wait_until(lambda: "problem=regression" in address(page) and "networkShape=&" in address(page))
    next_step(page, 6)
    stopped = wait_text(page, ".cw-lesson-status", r"Stopped at epoch \d+")
    epoch = browser.background.call(lambda: session.experiment.epoch)
    assert f"Stopped at epoch {epoch}" in stopped

    # a reload lands on the same step, with the same answers and the same run
    query = address(page)
    with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        page.reload()
    wait_text(page, ".cw-lesson-progress", r"Step 6 of 11\b")
    assert wait_text(page, ".cw-lesson-status", r"Stopped at epoch \d+") == stopped
    assert "step=6" in query and "answers=2:2" in address(page)
    session = browser.session()
    assert browser.background.call(lambda: session.experiment.epoch) == epoch

    # steps 7 to 9: a learning rate too large makes it diverge
    next_step(page, 7)
    next_step(page, 8)
    wait_text(page, ".cw-lesson-status", r"Stopped at epoch \d+: diverged")
    next_step(page, 9)

    # step 10: the goal; it unlocks the learning rate, and the student reaches it with the controls
    next_step(page, 10)
    assert "Goal:" in text(page, ".cw-lesson-goal") and "Goal reached" not in text(page, ".cw-lesson-goal")
    assert button(page, "next").is_disabled()
    assert wait_until(lambda: not learning_rate.is_disabled())
    button(page, "hint").click()
    wait_text(page, ".cw-lesson-hints", r"Hint 1\.")
    learning_rate.select_option("0.03")
    assert wait_until(lambda: "learningRate=0.03&" in address(page))
    page.locator(".cw-reset button").click()
    page.locator(".cw-play button").click()
    wait_text(page, ".cw-lesson-goal", r"✓ Goal reached!")
    page.locator(".cw-play button").click()  # pause
    assert wait_until(lambda: not button(page, "next").is_disabled())
    assert wait_until(lambda: "reached=10" in address(page))

    # step 11: the end
    next_step(page, 11)
    wait_text(page, ".cw-lesson-end", r"finished this lesson")
    assert not button(page, "next").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson-page.png"), full_page=True)
