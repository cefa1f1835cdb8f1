"""Lesson text (Markdown with ``$...$`` math) as HTML that is safe to put on the page.

Lesson files come from anyone who can write YAML, and the lesson page shows their text as HTML, so the
HTML must never carry script: :func:`render_markdown` uses a CommonMark parser with raw HTML turned
off (``<script>`` and ``<img onerror=...>`` come out as visible text) and its link check (no
``javascript:``, ``vbscript:``, ``file:`` or ``data:`` links).

Math is written ``$...$`` (inline) and ``$$...$$`` (display), as in ``docs/lessons.md``. Bokeh's
``Div`` typesets TeX with MathJax, finding it by the delimiters ``\\(...\\)``, ``$$...$$`` and
``\\[...\\]`` anywhere in its HTML source; so the math spans are written with those delimiters and
every other ``$`` and backslash in the HTML becomes a character reference, which the browser shows
unchanged and MathJax never sees. Inside math, ``<``, ``>`` and ``&`` are written as TeX (``\\lt``,
``\\gt``, ``\\&``) so the HTML stays inert even where MathJax is not loaded, and TeX commands that
make links or set attributes (``\\href``, ``\\class``, ...), or math delimiters that would end the
span early, are refused: such a span is shown as code instead.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

# TeX commands of MathJax's html extension (links, classes, styles, ids) and its loader.
UNSAFE_TEX = re.compile(r"\\(href|url|class|style|cssId|require|data)(?![A-Za-z])")
# Math delimiters inside a math span would end it early and start another: refused too.
DELIMITERS = ("$$", "\\(", "\\)", "\\[", "\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PLACEHOLDER = re.compile("\x02(\\d+)\x03")


def render_markdown(text: str) -> str:
    """Lesson Markdown as HTML: safe to show, math left for MathJax (see the module docstring)."""
    if not text:
        return ""
    maths: list[str] = []
    env: dict[str, Any] = {"maths": maths}
    html = _parser().render(_CONTROL.sub("", text), env)
    html = html.replace("$", "&#36;").replace("\\", "&#92;")
    return _PLACEHOLDER.sub(lambda m: maths[int(m.group(1))], html)


def render_inline(text: str) -> str:
    """One line of lesson Markdown (a title, a choice) as HTML without the surrounding paragraph."""
    html = render_markdown(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def tex_html(tex: str, display: bool) -> str:
    """A math span for Bokeh's MathJax, or the TeX as code when it holds an unsafe command."""
    if UNSAFE_TEX.search(tex) or any(d in tex for d in DELIMITERS):
        return '<code class="cw-math-refused">' + _escape_all(tex) + "</code>"
    safe = tex.replace("&", r"\&").replace("<", r"\lt ").replace(">", r"\gt ")
    return f"$${safe}$$" if display else f"\\({safe}\\)"


def _escape_all(text: str) -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return out.replace("$", "&#36;").replace("\\", "&#92;")


_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
        md.inline.ruler.before("escape", "math", _math_rule)
        md.add_render_rule("math", _render_math)
        md.add_render_rule("link_open", _render_link_open)
        _PARSER = md
    return _PARSER


def _math_rule(state: StateInline, silent: bool) -> bool:
    """``$$...$$`` or ``$...$`` (pandoc's rule for single dollars: no space just inside the dollars,
    no digit just after the closing one, so "costs $5 or $10" is not math)."""
    src, start = state.src, state.pos
    if src[start] != "$":
        return False
    if src.startswith("$$", start):
        end = src.find("$$", start + 2)
        if end < 0 or end == start + 2:
            return False
        tex, after, display = src[start + 2 : end], end + 2, True
    else:
        if start + 1 >= len(src) or src[start + 1].isspace():
            return False
        end = start + 1
        while True:
            end = src.find("$", end)
            if end < 0:
                return False
            if src[end - 1] != "\\" and not src[end - 1].isspace() and not src[end + 1 : end + 2].isdigit():
                break
            end += 1
        if end == start + 1 or "`" in src[start + 1 : end]:  # a code span wins over a dollar sign
            return False
        tex, after, display = src[start + 1 : end], end + 1, False
    if not silent:
        token = state.push("math", "", 0)
        token.content = tex
        token.meta = {"display": display}
    state.pos = after
    return True


def _render_math(renderer: Any, tokens: list, idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    maths: list[str] = env["maths"]
    maths.append(tex_html(token.content, token.meta["display"]))
    return f"\x02{len(maths) - 1}\x03"


def _render_link_open(renderer: Any, tokens: list, idx: int, options: Any, env: dict[str, Any]) -> str:
    """Links open in a new tab: following one must not end the lesson page."""
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)
