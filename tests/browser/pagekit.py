"""What a student sees in the browser, read from the page: text inside Bokeh's shadow roots, where each
control is on the screen, and whether anything needs a scroll bar to be seen."""

from __future__ import annotations

import re
from typing import Any

from waiting import wait_until

# Every control a student can use on the page, through every shadow root: its name (for messages),
# its box on the screen, and whether it sits in the lesson panel's scrolling body (then it is scrolled
# into view first, as the student would).
CONTROLS_JS = """(scroll) => {
    const out = [];
    const inBody = (el) => {
        for (let node = el; node; node = node.parentNode || node.host) {
            if (node.classList && node.classList.contains("cw-lesson-body")) { return true; }
        }
        return false;
    };
    const label = (el) => (el.innerText || el.getAttribute("title") || el.getAttribute("name") ||
                           el.getAttribute("type") || el.className || el.tagName).toString().trim().slice(0, 40);
    const visit = (root) => {
        for (const el of root.querySelectorAll("*")) {
            if (el.shadowRoot) { visit(el.shadowRoot); }
            const tag = el.tagName;
            const control = tag === "BUTTON" || tag === "SELECT" || (tag === "INPUT" && el.type !== "hidden")
                || (el.classList && el.classList.contains("noUi-target"));
            if (!control) { continue; }
            let box = el.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) { continue; }  // not shown (display: none)
            const body = inBody(el);
            if (body && scroll) { el.scrollIntoView({block: "nearest", inline: "nearest"}); box = el.getBoundingClientRect(); }
            out.push({name: tag.toLowerCase() + " " + label(el), body: body,
                      left: box.left, top: box.top, right: box.right, bottom: box.bottom});
        }
    };
    visit(document);
    return out;
}"""


def text(page: Any, css: str) -> str:
    """The text a Bokeh Div shows (it renders inside the element's shadow root)."""
    return page.locator(css).first.evaluate(
        """(e) => e.shadowRoot
            ? [...e.shadowRoot.children].filter((c) => !["STYLE", "LINK"].includes(c.tagName))
                .map((c) => c.innerText).join("\\n")
            : e.innerText"""
    )


def wait_text(page: Any, css: str, pattern: str, timeout: float = 60.0) -> str:
    """Wait until the Div at ``css`` shows text matching ``pattern``; return that text."""
    assert wait_until(lambda: re.search(pattern, text(page, css)) is not None, timeout), (
        f"{css} never showed {pattern!r}; it shows: {text(page, css)!r}"
    )
    return text(page, css)


def viewport(page: Any) -> tuple[int, int]:
    size = page.viewport_size
    return size["width"], size["height"]


def box_inside(page: Any, css: str) -> dict[str, float]:
    """The box of the element at ``css``, asserted to be wholly on the screen."""
    element = page.locator(css).first
    element.wait_for(state="visible")
    box = element.bounding_box()
    width, height = viewport(page)
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, (css, box)
    assert box["x"] + box["width"] <= width + 0.5 and box["y"] + box["height"] <= height + 0.5, (css, box, width, height)
    return box


def off_screen_controls(page: Any) -> list[str]:
    """Every control that is not wholly on the screen (after scrolling the lesson's text to it)."""
    width, height = viewport(page)
    outside = []
    for c in page.evaluate(CONTROLS_JS, True):
        if c["left"] < -0.5 or c["top"] < -0.5 or c["right"] > width + 0.5 or c["bottom"] > height + 0.5:
            outside.append(f"{c['name']} at ({c['left']:.0f}, {c['top']:.0f})-({c['right']:.0f}, {c['bottom']:.0f})")
    return outside


def scrolls(page: Any) -> dict[str, int]:
    """How far the page itself can scroll, across and down (0 and 0: everything fits)."""
    return page.evaluate(
        """() => ({across: document.documentElement.scrollWidth - window.innerWidth,
                   down: document.documentElement.scrollHeight - window.innerHeight})"""
    )


def assert_fits(page: Any, where: str = "") -> None:
    """The output map, both losses, the loss chart and every control on the screen, no horizontal
    scrolling (the issue's definition of a page that fits a school laptop)."""
    assert scrolls(page)["across"] <= 0, f"{where}: the page scrolls sideways: {scrolls(page)}"
    for css in (".cw-boundary", ".cw-loss-chart", ".cw-network", ".cw-features"):
        box_inside(page, css)
    losses = box_inside(page, ".cw-losses")
    shown = text(page, ".cw-losses")
    assert "Test loss" in shown and "Training loss" in shown, f"{where}: the losses show {shown!r}"
    assert losses["height"] > 0
    outside = off_screen_controls(page)
    assert outside == [], f"{where}: controls off the screen: {outside}"
