"""Lesson text, titles, variant names and echoed URL values in Chromium: nothing on the page can run script.

Every string that reaches a page goes through ``courseware.server.html``. Here the pages are real: a
lesson folder is written with a hypothesis-generated corpus of Markdown and TeX (the attacks of issue
10 among it) as a lesson's title, a step's title and text, compare variant names and a broken lesson's
title; the index, the lesson page and pages opened on crafted links (an unknown key, an unknown lesson
id) are loaded, MathJax typesets what it is allowed to, and then the whole DOM, shadow roots included,
is searched: no ``href``, ``xlink:href`` or ``src`` may hold a ``javascript:``, ``data:`` or
``vbscript:`` URL, and no dialog may open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from waiting import wait_until

from courseware.lessons import load_lesson
from courseware.plugins import get_registry
from courseware.server.runner import BackgroundServer, CoursewareServer, ServeOptions

pytestmark = pytest.mark.browser  # drives a real headless Chromium (see conftest.py)

ISSUE_ATTACK = "$$\\href{javascript:alert(1)}{Start the lesson}$$"
ATTACKS = [
    ISSUE_ATTACK,
    "$$\\mmlToken{mi}[href=\"javascript:alert(2)\"]{x}$$",
    "$\\href{data:text/html,<script>alert(3)</script>}{x}$",
    "$$\\unicode{x41}\\class{a}{b}\\style{c}{d}$$",
    "\\(\\href{vbscript:msgbox(4)}{x}\\)",
    "[x](javascript:alert(5)) ![y](data:image/png;base64,AAAA) <javascript:alert(6)>",
    "<img src=x onerror=alert(7)><script>alert(8)</script>",
]
PIECES = st.sampled_from(
    [" ", "\n\n", "word", "*", "**", "`", "[", "](", ")", "<", ">", "&", "$", "$$", "\\", "\\(", "\\)", "{", "}",
     "javascript:alert(9)", "data:text/html,x", "vbscript:x", "&#106;", "http://x", "\\href", "\\url",
     "\\mmlToken", "\\frac{a}{b}", "\\text", "\\begin{pmatrix}", "\\end{pmatrix}", *ATTACKS]
)  # fmt: skip
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=3)
CORPUS_TEXT = st.lists(st.one_of(PIECES, PRINTABLE), min_size=1, max_size=12).map("".join)
SCRIPT_URL = re.compile(r"^(javascript|data|vbscript):", re.I)

URL_ATTRIBUTES = """() => {
    const found = [];
    const visit = (root) => {
        for (const el of root.querySelectorAll("*")) {
            for (const attr of el.attributes) {
                const name = attr.name.toLowerCase();
                if (name === "href" || name === "src" || name.endsWith(":href") || name === "action") {
                    found.push(name + "=" + attr.value);
                }
            }
            if (el.shadowRoot) visit(el.shadowRoot);
        }
    };
    visit(document);
    return found;
}"""
SHADOW_HTML = "(e) => e.shadowRoot ? e.shadowRoot.innerHTML : e.innerHTML"
# The HTML or the text of every shadow root, however deeply nested (Bokeh renders each model in one).
EVERY_SHADOW_ROOT = """(what) => {
    const parts = [];
    const visit = (root) => {
        for (const el of root.querySelectorAll("*")) {
            if (el.shadowRoot) { parts.push(el.shadowRoot[what]); visit(el.shadowRoot); }
        }
    };
    visit(document);
    return parts.join("\\n");
}"""


@pytest.fixture(scope="module")
def lesson_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus-lessons")


@pytest.fixture(scope="module")
def _server(lesson_dir: Path) -> Iterator[tuple[BackgroundServer, CoursewareServer]]:
    """A server of the corpus lesson folder (overrides the playground tests' server)."""
    background = BackgroundServer(ServeOptions(port=0, lesson_dirs=[lesson_dir]))
    with background as server:
        yield background, server


def corpus_lesson(lesson_id: str, strings: list[str]) -> dict:
    body = "\n\n".join(strings)
    return {
        "format": 1, "id": lesson_id, "title": f"Corpus {strings[0]}", "summary": f"Corpus {strings[-1]}",
        "objectives": ["Stay safe"],
        "start": {"dataset": "circle", "networkShape": [2], "activation": "tanh"},
        "steps": [
            {"title": f"Step {strings[0]}", "text": body + "\n\nSafe math: $$\\frac{a}{b}$$"},
            {"kind": "compare", "title": f"Compare {strings[-1]}", "epochs": 2,
             "variants": {f"{_variant(s)} ({i})": ({"activation": "relu"} if i else {})
                          for i, s in enumerate(strings[-3:])}},
        ],
    }  # fmt: skip


def _variant(name: str) -> str:
    """A variant name from the corpus (a lesson refuses brackets in variant names)."""
    return name.replace("[", "(").replace("]", ")")


def assert_no_script_urls(page, where: str) -> None:
    urls = page.evaluate(URL_ATTRIBUTES)
    bad = [u for u in urls if SCRIPT_URL.match(re.sub(r"[\x00-\x20]", "", u.split("=", 1)[1]))]
    assert bad == [], f"{where}: script URLs in the DOM: {bad}"


def open_page(browser, path: str, dialogs: list[str]):
    page = browser.open(path)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page


def shadow_html(page, css: str) -> str:
    return page.locator(css).first.evaluate(SHADOW_HTML)


# Each example is a lesson page loaded in Chromium: a few examples of many strings each, and no shrinking
# (a failure names its script URL and the whole corpus already).
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=(Phase.explicit, Phase.generate))
@given(strings=st.lists(CORPUS_TEXT, min_size=3, max_size=10).map(lambda s: s + ATTACKS))
def test_lesson_text_from_a_generated_corpus_is_inert(browser, lesson_dir: Path, strings: list[str]) -> None:
    number = len(list(lesson_dir.glob("corpus-*.yaml")))
    lesson_id = f"corpus-{number}"
    path = lesson_dir / f"{lesson_id}.yaml"
    path.write_text(yaml.safe_dump(corpus_lesson(lesson_id, strings), allow_unicode=True), encoding="utf-8")
    load_lesson(path, get_registry())  # the corpus makes a valid lesson: its text reaches the lesson page
    dialogs: list[str] = []
    page = open_page(browser, f"/lesson?lesson={lesson_id}", dialogs)
    assert wait_until(lambda: "<mjx-container" in shadow_html(page, ".cw-lesson-step")), "MathJax never ran"
    assert_no_script_urls(page, "step text")
    page.locator(".cw-lesson-next button").first.click()
    assert wait_until(lambda: "Loss after 2 epochs" in shadow_html(page, ".cw-lesson-compare-legend"))
    assert_no_script_urls(page, "compare step")
    assert dialogs == []
    page.close()


def test_echoed_link_values_and_broken_titles_are_plain_text(browser, lesson_dir: Path) -> None:
    (lesson_dir / "broken.yaml").write_text(
        yaml.safe_dump({"format": 1, "id": "broken", "title": ISSUE_ATTACK, "steps": "not a list"}), encoding="utf-8"
    )
    dialogs: list[str] = []
    pages = {
        "unknown lesson id": f"/lesson?lesson={quote(ISSUE_ATTACK)}",
        "unknown URL key": f"/playground?{quote(ISSUE_ATTACK)}=1&seed={quote(ISSUE_ATTACK)}",
        "broken lesson": "/lesson?lesson=broken",
    }
    for where, path in pages.items():
        page = open_page(browser, path, dialogs)
        shown = page.locator(".bk-Div").filter(has_text="Start the lesson")
        assert wait_until(lambda: shown.count() > 0), f"{where}: the value is not shown"
        assert "<mjx-container" not in page.evaluate(EVERY_SHADOW_ROOT, "innerHTML"), f"{where}: typeset by MathJax"
        shown_text = page.evaluate(EVERY_SHADOW_ROOT, "textContent")
        assert "\\href{javascript:alert(1)}" in shown_text, f"{where}: the text is not shown as written"
        assert_no_script_urls(page, where)
        page.close()
    index = browser.context.new_page()
    index.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    index.goto(browser.base + "/")
    assert index.get_by_text(ISSUE_ATTACK, exact=True).count() == 1  # the broken lesson's title, as text
    assert_no_script_urls(index, "index")
    assert dialogs == []
