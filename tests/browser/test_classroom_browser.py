"""The page in a real classroom (issue 9), in headless Chromium: school laptops' screens, the small
things a student clicks, finding one's way between the index, the lessons and the playground, progress
kept in the student's own browser, broken lessons, and steps that open in order.

The server serves a folder made here: a sample lesson (two paragraphs of text, a question, a goal), a
second lesson, and a broken one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from pagekit import assert_fits, scrolls, text, wait_text
from waiting import wait_until

from courseware.panel import geometry as geo
from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions
from courseware.server.state import PROGRESS_KEY

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

SAMPLE = """\
format: 1
id: sample
title: A sample lesson
summary: Two paragraphs, a question and a goal.
objectives: [Read two paragraphs, Answer a question]
level: beginner
minutes: 5
start: {dataset: circle, networkShape: [3], activation: tanh, seed: "0.5"}
controls:
  hidden: [percTrainData, noise]
  locked: [learningRate]
steps:
  - title: Two paragraphs
    text: |
      The first paragraph speaks of the test loss.

      The second paragraph.
  - kind: question
    title: Predict
    question: Which one?
    choices:
      - {text: Left, feedback: No.}
      - {text: Right, correct: true, feedback: Yes.}
  - title: After the question
    text: Read on.
  - kind: goal
    title: Your turn
    goal: test_loss < 0.45
    hold: 2
    controls: {unlock: [learningRate]}
    solution: {set: {learningRate: 0.1}, epochs: 200, holds_in: at least 50% of runs}
  - title: The end
    text: Done.
"""
SECOND = SAMPLE.replace("id: sample", "id: second").replace("A sample lesson", "The second lesson")
BROKEN = SAMPLE.replace("id: sample", "id: broken").replace("title: A sample lesson", "title: A broken lesson") \
    .replace("level: beginner", "level: expert")
SIZES = [(1366, 768), (1280, 720)]


@pytest.fixture(scope="module")
def _server(tmp_path_factory) -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    folder = tmp_path_factory.mktemp("classroom")
    (folder / "01-sample.yaml").write_text(SAMPLE, encoding="utf-8")
    (folder / "02-second.yaml").write_text(SECOND, encoding="utf-8")
    (folder / "03-broken.yaml").write_text(BROKEN, encoding="utf-8")
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[folder]))
    with background as server:
        yield background, server


@pytest.fixture
def open_sized(browser):
    def make(path: str, width: int = 1366, height: int = 768):
        page = browser.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.on("console", lambda m: browser.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
        with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
            page.goto(browser.base + path)
        return page

    return make


def index(browser):
    page = browser.context.new_page()
    page.on("pageerror", lambda e: browser.errors.append(f"page error: {e}"))
    page.goto(browser.base + "/")
    return page


# -- 2. screens ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_lesson_page_fits_a_school_laptop(open_sized, width, height) -> None:
    page = open_sized("/lesson?lesson=sample", width, height)
    wait_text(page, ".cw-lesson-progress", r"Step 1 of 5")
    assert_fits(page, f"lesson page at {width}x{height}")
    assert scrolls(page)["down"] <= 0  # no scrolling at all: the step's text scrolls inside the panel


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_playground_fits_a_school_laptop(open_sized, width, height) -> None:
    page = open_sized("/playground?seed=0.1", width, height)
    assert_fits(page, f"playground at {width}x{height}")
    assert not page.locator(".cw-header").first.is_visible()  # the banner gives way on a short screen


def test_the_playground_keeps_the_originals_look_on_a_wide_screen(open_sized) -> None:
    page = open_sized("/playground?seed=0.1", 1600, 1000)
    assert page.locator(".cw-header").first.is_visible()
    assert "Tinker With a Neural Network" in text(page, ".cw-header")
    assert page.locator(".cw-network").first.bounding_box()["width"] > 550  # the original's network width


# -- 4. text and controls -----------------------------------------------------------------------------------


def test_step_text_keeps_its_paragraphs(open_sized) -> None:
    page = open_sized("/lesson?lesson=sample")
    tops = page.locator(".cw-lesson-step").first.evaluate(
        "(e) => [...e.shadowRoot.querySelectorAll('p')].map((p) => p.getBoundingClientRect().top)"
    )
    assert len(tops) == 2 and tops[1] - tops[0] > 30  # two paragraphs, a blank line apart


def test_the_check_box_labels_can_be_clicked(browser, open_sized) -> None:
    page = open_sized("/playground?seed=0.1")
    session = browser.session()
    page.get_by_text("Show test data", exact=True).click()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.config.showTestData))
    page.get_by_text("Discretize output", exact=True).click()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.config.discretize))


def test_a_switched_off_feature_leaves_no_mark(browser, open_sized) -> None:
    page = open_sized("/playground?seed=0.1")
    features = page.locator(".cw-features").first.bounding_box()
    network = page.locator(".cw-network").first.bounding_box()
    page.mouse.click(features["x"] + geo.INPUT_CX, features["y"] + geo.node_cy(0))  # X1 off
    session = browser.session()
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.config.features) == ("y",))
    page.mouse.move(5, 700)
    top = features["y"] + geo.node_cy(0) - geo.RECT_SIZE / 2
    beside = {"x": network["x"], "y": top, "width": 6, "height": geo.RECT_SIZE}  # where X1's links began

    def clean() -> bool:
        shot = page.screenshot(clip=beside)
        return page.evaluate(
            """async (data) => {
                const image = new Image();
                image.src = "data:image/png;base64," + data;
                await image.decode();
                const canvas = new OffscreenCanvas(image.width, image.height);
                const ctx = canvas.getContext("2d");
                ctx.drawImage(image, 0, 0);
                const pixels = ctx.getImageData(0, 0, image.width, image.height).data;
                for (let i = 0; i < pixels.length; i += 4) {
                    if (Math.abs(pixels[i] - 247) + Math.abs(pixels[i + 1] - 247) + Math.abs(pixels[i + 2] - 247) > 6) {
                        return false;
                    }
                }
                return true;
            }""",
            __import__("base64").b64encode(shot).decode(),
        )

    assert wait_until(clean, 10), "a mark is left beside the switched-off feature"
    focused = page.evaluate(
        """() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement) {
                   e = e.shadowRoot.activeElement; } return getComputedStyle(e).outlineStyle; }"""
    )
    assert focused == "none"  # the clicked canvas draws no dotted focus frame either


def test_the_weight_editor_says_why_text_is_refused(browser, open_sized) -> None:
    page = open_sized("/playground?seed=0.12345")
    session = browser.session()
    layout = browser.background.call(lambda: geo.layout_for(
        session.experiment.arch.node_ids, session.registry.names("features"), session.experiment.config.hidden
    ))  # fmt: skip
    xs, ys = layout.link_path(2, 0, 0)  # link 1-5
    network = page.locator(".cw-network").first.bounding_box()
    x, y = network["x"] + 1 + xs[len(xs) // 2] - geo.FEATURE_PLOT_WIDTH, network["y"] + 1 + ys[len(ys) // 2]
    page.mouse.click(x, y)
    editor = page.locator(".cw-edit-value input")
    editor.wait_for(state="visible")
    before = browser.background.call(lambda: session.experiment.params.weights()["1-5"])
    editor.fill("abc")
    refused = wait_text(page, ".cw-edit-refused", r"is not a number")
    assert "“abc” is not a number, so the value stays" in refused
    assert browser.background.call(lambda: session.experiment.params.weights()["1-5"]) == before
    editor.fill("1.5")
    assert wait_until(lambda: browser.background.call(lambda: session.experiment.params.weights()["1-5"]) == 1.5)
    assert wait_until(lambda: not page.locator(".cw-edit-refused").first.is_visible())


# -- 5. finding one's way; progress in the student's browser -------------------------------------------------


def test_the_playground_links_back_to_the_index(open_sized) -> None:
    page = open_sized("/playground?seed=0.1")
    page.get_by_text("‹ Lessons").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_text("A sample lesson").count() == 1


def test_the_index_shows_each_lesson_and_the_students_progress(browser, open_sized) -> None:
    home = index(browser)
    home.evaluate("() => window.localStorage.clear()")
    home.reload()
    item = home.locator('li[data-lesson="sample"]')
    assert "Beginner · about 5 minutes · 5 steps" in item.inner_text()
    assert "Answer a question" in item.inner_text()  # the objectives
    assert not item.locator(".progress").is_visible()  # nothing done yet

    page = open_sized("/lesson?lesson=sample")
    page.locator(".cw-lesson-next button").click()
    wait_text(page, ".cw-lesson-progress", r"Step 2 of 5")
    page.locator(".cw-lesson-choices label").nth(1).click()
    wait_text(page, ".cw-lesson-feedback", r"Correct")
    page.locator(".cw-lesson-next button").click()
    wait_text(page, ".cw-lesson-progress", r"Step 3 of 5")
    stored = lambda: json.loads(page.evaluate(f"() => window.localStorage.getItem('{PROGRESS_KEY}sample')") or "{}")  # noqa: E731
    assert wait_until(lambda: stored().get("done") == 3)
    assert stored()["answers"] == {"2": "2"} and "step=3" in stored()["url"]

    home.reload()
    item = home.locator('li[data-lesson="sample"]')
    assert item.locator(".progress-state").inner_text() == "3 of 5 steps"
    resume = item.locator(".resume").get_attribute("href")
    assert resume.startswith("lesson?") and "step=3" in resume and "answers=2:2" in resume
    with home.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        item.locator(".resume").click()
    wait_text(home, ".cw-lesson-progress", r"Step 3 of 5")  # resumed where the student was

    home.goto(browser.base + "/")
    with home.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        home.locator('li[data-lesson="sample"] .restart').click()
    wait_text(home, ".cw-lesson-progress", r"Step 1 of 5")  # started again
    home.goto(browser.base + "/")
    assert home.locator('li[data-lesson="sample"] .progress-state').inner_text() in ("", "1 of 5 steps")


def test_the_last_step_offers_the_next_lesson_and_finished_shows_done(browser, open_sized) -> None:
    page = open_sized("/lesson?lesson=sample&step=5&answers=2:2&reached=4")
    end = wait_text(page, ".cw-lesson-end", r"finished this lesson")
    assert "Next lesson: The second lesson" in end
    home = index(browser)

    def done() -> bool:
        home.reload()
        return home.locator('li[data-lesson="sample"] .progress-state').inner_text() == "done ✓"

    assert wait_until(done, 20)
    with page.expect_console_message(lambda m: "document idle" in m.text, timeout=60_000):
        page.get_by_text("The second lesson ›").click()
    wait_text(page, ".cw-lesson-head", r"The second lesson")


# -- 6. a broken lesson -------------------------------------------------------------------------------------


def test_students_see_a_broken_lesson_as_unavailable_without_its_problems(browser, open_sized) -> None:
    home = index(browser)
    broken = home.locator("li.broken")
    assert broken.inner_text().strip().endswith("This lesson is unavailable.")
    assert "expert" not in home.content() and "/tmp" not in home.content()
    page = open_sized("/lesson?lesson=broken")
    shown = text(page, ".cw-lesson-unavailable")
    assert "is unavailable right now" in shown and "expert" not in shown and ".yaml" not in shown


# -- 7. step order ------------------------------------------------------------------------------------------


def test_a_step_in_the_address_cannot_skip_a_question(browser, open_sized) -> None:
    page = open_sized("/lesson?lesson=sample&step=4")
    wait_text(page, ".cw-lesson-progress", r"Step 2 of 5")
    assert "comes after the question of step 2" in text(page, ".cw-notices")
    assert page.locator(".cw-lesson-next button").is_disabled()


def test_a_goal_step_shows_its_state_and_applies_its_solution(browser, open_sized) -> None:
    page = open_sized("/lesson?lesson=sample&step=4&answers=2:2")
    wait_text(page, ".cw-lesson-progress", r"Step 4 of 5")
    goal = wait_text(page, ".cw-lesson-goal", r"Not reached yet")
    assert "Goal: test loss below 0.45, held for 2 epochs in a row." in goal
    page.locator(".cw-lesson-solve button").click()
    status = wait_text(page, ".cw-lesson-status", r"The solution is in place")
    assert "learning rate 0.1" in status and "learningRate" not in status
    page.locator(".cw-play button").click()
    wait_text(page, ".cw-lesson-goal", r"✓ Goal reached!", timeout=120)
    assert wait_until(lambda: not page.locator(".cw-lesson-next button").is_disabled())
