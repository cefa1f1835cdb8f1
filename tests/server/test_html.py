"""The one path from a string to a page's HTML (``courseware.server.html``).

Two kinds of check: examples (what each function keeps and what it neutralises), and properties over
generated Markdown and TeX: whatever the input, the HTML holds no element or attribute that can run
script, every math span MathJax will see is on the allow-list, and text never reaches MathJax at all.
The same corpus is rendered in Chromium by ``tests/browser/test_rendering_browser.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courseware.server.html import (
    EMPTY,
    TEX_COMMANDS,
    Html,
    echo,
    link_allowed,
    markdown,
    markdown_inline,
    shorten,
    tex_allowed,
    text,
)

ROOT = Path(__file__).resolve().parents[2]

# The attacks of issue 10 and their relatives: TeX that makes links or sets attributes, Markdown and
# HTML links to script, and delimiters meant to escape a span.
ATTACKS = [
    "$$\\href{javascript:alert(1)}{Start the lesson}$$",
    "$\\href{javascript:alert(1)}{x}$",
    "$$\\mmlToken{mi}[href=\"javascript:alert(1)\"]{x}$$",
    "$$\\class{x}{y}$$",
    "$$\\style{color:red}{x}$$",
    "$$\\cssId{x}{y}$$",
    "$$\\unicode{x41}$$",
    "$$\\require{html}\\href{javascript:alert(1)}{x}$$",
    "$$\\data{x}{y}$$",
    "$$\\url{javascript:alert(1)}$$",
    "$$\\def\\x{\\hr}\\x ef{javascript:alert(1)}{x}$$",
    "$$\\text{\\href{javascript:alert(1)}{x}}$$",
    "$$\\bbox[background:url(javascript:alert(1))]{x}$$",
    "\\(\\href{javascript:alert(1)}{x}\\)",
    "\\[\\href{javascript:alert(1)}{x}\\]",
    "$a \\) <b>$",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
]


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.tags


SAFE_TAGS = {"p", "em", "strong", "code", "pre", "a", "img", "ul", "ol", "li", "blockquote", "h1", "h2", "h3",
             "h4", "h5", "h6", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}  # fmt: skip
SCRIPT_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|file):", re.I)
# The math spans Bokeh's MathJax finds in a Div's HTML source.
MATH_SPAN = re.compile(r"\$\$(.*?)\$\$|\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)


def assert_inert(html: str) -> None:
    """No tag, attribute or URL that can run script, and only allowed TeX for MathJax."""
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS, f"<{tag}> in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", f"{name}= in {html!r}"
            if name in ("href", "src", "xlink:href"):
                assert not SCRIPT_SCHEME.match(value), f"{name}={value!r} in {html!r}"
    for match in MATH_SPAN.finditer(html):
        tex = next(g for g in match.groups() if g is not None)
        assert tex_allowed(tex), f"math span {tex!r} reaches MathJax in {html!r}"


# -- text: never markup, never TeX ------------------------------------------------------------------------


def test_text_escapes_markup_and_every_tex_delimiter() -> None:
    assert text("<b>&'\"") == "&lt;b&gt;&amp;&#x27;&quot;"
    assert text("$$\\href{javascript:alert(1)}{x}$$") == "&#36;&#36;&#92;href{javascript:alert(1)}{x}&#36;&#36;"
    assert text("a\x00b\x1bc") == "abc"  # control characters are dropped


def test_templates_escape_their_arguments_and_keep_markup() -> None:
    html = Html("<b>{}</b> {:.2f} {name}").format("<i>$x$</i>", 0.5, name=Html("<i>ok</i>"))
    assert html == "<b>&lt;i&gt;&#36;x&#36;&lt;/i&gt;</b> 0.50 <i>ok</i>" and isinstance(html, Html)
    assert Html(", ").join(["<", Html("<br>")]) == "&lt;, <br>"
    assert "<" + Html("<br>") == "&lt;<br>" and Html("<br>") + "\\" == "<br>&#92;"
    assert isinstance(EMPTY.join([]), Html)


def test_echoed_values_are_bounded() -> None:
    long = "$" * 10_240
    shown = echo(long)
    assert len(shown) < 500 and "10,240 characters" in shown and "$" not in shown
    assert shorten("short") == "short"


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_text_never_reaches_mathjax_or_the_parser(value: str) -> None:
    html = text(value)
    assert "$" not in html and "\\" not in html and "<" not in html and '"' not in html
    assert elements(html) == []


# -- lesson Markdown -------------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_neutralises_every_attack(attack: str) -> None:
    assert_inert(markdown(attack))
    assert_inert(markdown(f"Before {attack} after"))
    assert_inert(markdown_inline(attack))


def test_markdown_keeps_formatting_and_hands_allowed_math_to_mathjax() -> None:
    html = markdown("A **bold** $x_1^2 < y$ and\n$$\\frac{a}{b}$$ costs \\$5 or $10, `$code$`")
    assert "<strong>bold</strong>" in html
    assert r"\(x_1^2 \lt  y\)" in html  # inline math, with no HTML-special character left in it
    assert r"$$\frac{a}{b}$$" in html
    # dollars and backslashes outside math are character references: MathJax never sees them
    assert "costs &#36;5 or &#36;10" in html and "<code>&#36;code&#36;</code>" in html
    assert html.count("$$") == 2 and html.count(r"\(") == 1


def test_tex_commands_outside_the_allow_list_are_shown_as_code() -> None:
    html = markdown("Look: $\\href{javascript:alert(1)}{x}$ and $\\tanh(x)$")
    assert '<code class="cw-math-refused">&#92;href{javascript:alert(1)}{x}</code>' in html
    assert r"\(\tanh(x)\)" in html


def test_the_allow_list_covers_the_shipped_lessons_and_refuses_html_commands() -> None:
    used = set()
    for path in (ROOT / "lessons").glob("*.yaml"):
        used |= set(re.findall(r"\\\\?([A-Za-z]+)", path.read_text()))
    tex = {name for name in used if name in TEX_COMMANDS or name.startswith(("frac", "math"))}
    assert tex and all(name in TEX_COMMANDS for name in tex)
    for command in ("href", "url", "mmlToken", "class", "style", "cssId", "unicode", "require", "data", "def",
                    "newcommand", "let", "csname", "bbox", "html", "htmlClass", "htmlStyle", "htmlId", "htmlData",
                    "verb", "mathtip", "toggle", "texttip", "action"):  # fmt: skip
        assert command not in TEX_COMMANDS
        assert not tex_allowed(f"\\{command}{{x}}")
    assert tex_allowed(r"\begin{pmatrix} a \\ b \end{pmatrix}")
    assert not tex_allowed(r"\begin{href} x \end{href}")
    assert not tex_allowed("a \\")  # a lone trailing backslash


def test_links_open_in_a_new_tab_and_only_to_allowed_schemes() -> None:
    assert 'href="https://example.org" target="_blank" rel="noopener noreferrer"' in markdown("[x](https://example.org)")
    assert 'href="lesson?lesson=a"' in markdown("[x](lesson?lesson=a)")
    for url in ("http://a", "https://a", "mailto:a@b", "/x", "x.html", "#top", "?a=1"):
        assert link_allowed(url), url
    for url in ("javascript:x", " JavaScript:x", "vbscript:x", "data:image/png,x", "file:///etc", "java\tscript:x"):
        assert not link_allowed(url), url


# A grammar of lesson text: prose, Markdown, HTML and TeX pieces, the attacks, put together at random.
PIECES = st.sampled_from(
    [" ", "\n", "\n\n", "word", "*", "**", "_", "`", "[", "]", "(", ")", "<", ">", "&", "#", "!", '"', "'",
     "$", "$$", "\\", "\\(", "\\)", "\\[", "\\]", "{", "}", "^", "%", "javascript:", "data:", "vbscript:",
     "&#106;", "&#x6a;", "%6a", "http://x", "[a](", "![a](", "<a href=", "<svg>", "xlink:href=",
     *[f"\\{c}" for c in ("frac", "href", "url", "mmlToken", "class", "style", "unicode", "require", "data",
                          "text", "def", "begin", "end", "left", "right", "sqrt", "bbox", "color")],
     "{pmatrix}", "{href}", *ATTACKS]
)  # fmt: skip
LESSON_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=30).map("".join)


@given(LESSON_TEXT)
@settings(max_examples=500, deadline=None)
def test_generated_markdown_and_tex_is_inert(source: str) -> None:
    assert_inert(markdown(source))
    assert_inert(markdown_inline(source))
    assert_inert(text(source))


def test_pages_build_html_only_through_this_module() -> None:
    """No hand-placed ``escape()``, and ``Html`` only around literal templates: every page of the server
    (the lesson page and the compare view included) builds its HTML with ``courseware.server.html``, and
    nothing in ``courseware.lessons`` builds HTML at all."""
    for path in (ROOT / "courseware" / "server").glob("*.py"):
        if path.name == "html.py":
            continue
        source = path.read_text()
        assert not re.search(r"\bimport escape\b|\bhtml\.escape\(|\bmarkupsafe\b", source), path.name
        for match in re.finditer(r"\bHtml\((?!\)|\s*\"|\s*'|\s*\"\"\")", source):
            line = source.count("\n", 0, match.start()) + 1
            raise AssertionError(f"{path.name}:{line}: Html() around something that is not a literal template")
        assert not re.search(r"\bHtml\(\s*f[\"']", source), f"{path.name}: Html() around an f-string"
    for path in (ROOT / "courseware" / "lessons").glob("*.py"):
        assert not re.search(r"^\s*(from|import) courseware\.server", path.read_text(), re.MULTILINE), path.name
