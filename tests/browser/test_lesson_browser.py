"""Shipped lessons walked end to end in headless Chromium, on a school laptop's screen.

The server serves ``lessons/`` as ``courseware serve lessons/`` does. A student opens each lesson from
the index and follows every step through the page's own controls: a run plays by itself, a question is
answered by clicking its right choice (or typing a number), a goal is reached with "Apply the solution"
and the play button. At every step the test checks what the student sees: the whole page fits the
screen (the output map, both losses, the loss chart and every control on it, nothing sideways), the
test loss is on the screen whenever the step's text speaks of it, and no configuration key, metric id
or command is written anywhere. The walk follows whatever the lessons say (their content is being
rewritten): it takes the lessons in the index's order whose solutions reach their goals for one of the
seeds "1" to "20". Any console error fails the test (see ``conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lessonwalk import internal_names, reaching_seed
from pagekit import assert_fits, box_inside, text, wait_text
from waiting import wait_until

from courseware.lessons import discover
from courseware.lessons.catalog import host_for
from courseware.plugins import get_registry
from courseware.server.lessonpage import LessonPanel
from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Text from every shadow root under an element: what the student can read in the lesson panel.
DEEP_TEXT = """(e) => {
    const parts = [];
    const visit = (node) => {
        if (node.shadowRoot) { visit(node.shadowRoot); }
        for (const child of node.children || []) {
            if (["STYLE", "LINK", "SCRIPT"].includes(child.tagName)) { continue; }
            if (child.shadowRoot || child.children.length) { visit(child); }
            else if (child.innerText) { parts.push(child.innerText); }
        }
    };
    visit(e);
    return parts.join("\\n");
}"""


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    """The server of ``courseware serve lessons/`` (overrides the playground tests' server)."""
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[LESSONS]))
    with background as server:
        yield background, server


@pytest.fixture(scope="module")
def walkable() -> list[tuple[Any, str]]:
    """The shipped lessons, in the index's order, with a seed that lets every solution reach its goal."""
    registry = host_for([LESSONS]).registry  # with the folder's data/, as served
    out = []
    for entry in discover([LESSONS], registry):
        if entry.lesson is not None:
            seed = reaching_seed(entry.lesson, registry)
            if seed is not None:
                out.append((entry, seed))
    return out


def lesson_panel(browser: Any) -> LessonPanel:
    """The server's controller of the page opened last."""
    session = browser.session()
    return next(
        listener.__self__ for listener in session._frame_listeners
        if isinstance(getattr(listener, "__self__", None), LessonPanel)
    )  # fmt: skip


def settled(browser: Any, panel: LessonPanel) -> bool:
    """The step's own work is over: no run playing, no replay or compare in slices."""
    return browser.background.call(lambda: panel.training.run is None and not panel.training.busy)


def open_lesson(browser: Any, page: Any, lesson_id: str, seed: str) -> LessonPanel:
    with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        page.goto(f"{browser.base}/lesson?lesson={lesson_id}&lessonSeed={seed}")
    return lesson_panel(browser)


def walk(browser: Any, page: Any, entry: Any, seed: str, names: list[str]) -> None:
    """Follow ``entry``'s lesson from its first step to its last through the page, checking each step."""
    lesson = entry.lesson
    panel = open_lesson(browser, page, lesson.id, seed)
    total = len(lesson.steps)
    for number in range(1, total + 1):
        where = f"{lesson.id} step {number}"
        wait_text(page, ".cw-lesson-progress", rf"Step {number} of {total}\b")
        assert wait_until(lambda: settled(browser, panel), 120), f"{where}: the step's training never ended"
        shown = page.locator(".cw-lesson-panel").first.evaluate(DEEP_TEXT)
        notices = text(page, ".cw-notices")
        if re.search(r"test loss", shown, re.IGNORECASE):
            box_inside(page, ".cw-losses")
            assert "Test loss" in text(page, ".cw-losses"), f"{where}: the text speaks of the test loss"
        assert_fits(page, where)
        found = [n for n in names if re.search(rf"\b{re.escape(n)}\b", shown + "\n" + notices)]
        assert found == [], f"{where}: internal names on the page: {found}"
        assert "courseware " not in shown, f"{where}: a command in the lesson's text"
        step = lesson.step(number)
        if step.task == "answer":
            answer(page, step)
        if step.goal is not None:
            reach(browser, page, panel, where)
        if number < total:
            page.locator(".cw-lesson-next button").click()
    end = wait_text(page, ".cw-lesson-end", r"finished this lesson")
    later = [e for e in discover([LESSONS], get_registry()) if e.ok]
    if later[-1].id != lesson.id:
        assert "Next lesson:" in end, "the last step offers the next lesson"


def answer(page: Any, step: Any) -> None:
    response = step.correct_response()
    if page.locator(".cw-lesson-choices").first.is_visible():
        page.locator(".cw-lesson-choices label").nth(int(response) - 1).click()
    else:
        page.locator(".cw-lesson-number input").fill(str(response))
        page.locator(".cw-lesson-check button").click()
    wait_text(page, ".cw-lesson-feedback", r"Correct")


def reach(browser: Any, page: Any, panel: LessonPanel, where: str) -> None:
    """Reach the goal as a student who gives up would: apply the solution, then play."""
    page.locator(".cw-lesson-solve button").click()
    wait_text(page, ".cw-lesson-status", r"The solution is in place")
    page.locator("select[name=speed]").select_option(label="10 epochs/frame")
    page.locator(".cw-play button").click()
    assert wait_until(lambda: browser.background.call(lambda: panel.walk.done), 180), f"{where}: goal not reached"
    wait_text(page, ".cw-lesson-goal", r"Goal reached|Reached earlier")
    if browser.background.call(lambda: panel.session.playing):
        page.locator(".cw-play button").click()


def test_three_shipped_lessons_walked_end_to_end_on_a_1366x768_screen(browser, walkable) -> None:
    assert len(walkable) >= 3, f"fewer than three shipped lessons can be followed: {[e.id for e, _ in walkable]}"
    page = browser.context.new_page()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.on("console", lambda m: browser.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
    names = internal_names(get_registry())
    for entry, seed in walkable[:3]:
        walk(browser, page, entry, seed, names)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lesson-page-1366x768.png"))


def test_a_shipped_lesson_walked_end_to_end_on_a_1280x720_screen(browser, walkable) -> None:
    assert walkable, "no shipped lesson can be followed"
    page = browser.context.new_page()
    page.set_viewport_size({"width": 1280, "height": 720})
    page.on("console", lambda m: browser.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
    entry, seed = walkable[-1]
    walk(browser, page, entry, seed, internal_names(get_registry()))
