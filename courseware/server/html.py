"""The one path by which any string reaches a page as HTML (its escaping half, :class:`Html` and
:func:`text`, lives in :mod:`courseware.panel.html`, so that panels use it without the server).

Bokeh's ``Div`` shows its ``text`` as HTML and, before that, hands every TeX span it finds *in the
HTML source* (between ``$$...$$``, ``\\(...\\)`` or ``\\[...\\]``) to MathJax, whose full TeX input can
make links (``\\href``), set attributes (``\\mmlToken``, ``\\class``, ``\\style``) and load extensions
(``\\require``). So escaping ``<`` and ``&`` is not enough: a ``$`` or a backslash that reaches a Div
unescaped can be script. Every string a page shows is therefore one of three things, and this module
is the only place that turns it into HTML:

* :class:`Html` - markup written in this code base (a template). ``Html("<b>{}</b>").format(value)``
  escapes every argument that is not itself ``Html``; ``+`` and :meth:`Html.join` do the same. A
  plain ``str`` is never taken for markup.
* :func:`text` - anything else: a URL value, a lesson id, a title, an exception message, a variant
  name. HTML-escaped, and ``$`` and ``\\`` written as character references (``&#36;``, ``&#92;``):
  the browser shows them unchanged, MathJax never sees a delimiter. Echoed user input is never
  Markdown and never TeX; :func:`shorten` bounds it first.
* :func:`markdown` / :func:`markdown_inline` - lesson text written by a lesson's author: CommonMark
  with raw HTML off (``<script>`` comes out as visible text), links and images only to ``http``,
  ``https``, ``mailto`` or relative addresses, and math (``$...$``, ``$$...$$``) handed to MathJax
  only if every TeX command in it is on :data:`TEX_COMMANDS` (an allow-list; anything else, such as
  ``\\href``, ``\\url``, ``\\mmlToken``, ``\\class``, ``\\style``, ``\\unicode``, ``\\require``,
  ``\\data``, ``\\def``, shows the TeX as code instead).

Inside math, ``<``, ``>`` and ``&`` are written as TeX (``\\lt``, ``\\gt``, ``\\&``) so the HTML stays
inert where MathJax is not loaded. The index page has no MathJax, but uses the same path.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from courseware.panel.html import CONTROL_CHARACTERS as _CONTROL
from courseware.panel.html import ECHO_LIMIT, EMPTY, Html, echo, shorten, text

__all__ = ["ECHO_LIMIT", "EMPTY", "Html", "echo", "markdown", "markdown_inline", "shorten", "tex_allowed",
           "tex_html", "text"]

# -- lesson text: Markdown with math ----------------------------------------------------------------------

# TeX commands that only typeset: symbols, fonts, fractions, operators, accents, spacing, delimiters.
# Anything that makes a link, sets an attribute or a style, defines a macro or loads code is absent.
TEX_COMMANDS = frozenset("""
alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi
rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma
Upsilon Phi Psi Omega
frac dfrac tfrac cfrac binom sqrt sum prod int iint oint lim limsup liminf sup inf max min arg argmax argmin
log ln exp sin cos tan sinh cosh tanh arcsin arccos arctan sec csc cot det dim ker deg gcd Pr operatorname
cdot cdots ldots dots vdots ddots times div pm mp ast star circ bullet oplus otimes odot setminus
le leq ge geq lt gt ne neq approx sim simeq cong equiv propto ll gg prec succ preceq succeq
in notin ni subset subseteq supset supseteq cup cap emptyset varnothing forall exists nexists neg lnot
land lor wedge vee implies iff to gets mapsto rightarrow leftarrow leftrightarrow Rightarrow Leftarrow
Leftrightarrow longrightarrow longleftarrow uparrow downarrow nearrow searrow
partial nabla infty hbar ell Re Im aleph prime angle triangle square top bot mid parallel perp
hat widehat bar overline underline tilde widetilde vec dot ddot breve check acute grave overbrace
underbrace overset underset stackrel
mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak boldsymbol bm text textrm textbf textit
textsf texttt mbox displaystyle textstyle scriptstyle
left right middle big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr
langle rangle lfloor rfloor lceil rceil lvert rvert lVert rVert vert Vert backslash
quad qquad enspace thinspace negthinspace
begin end
color
""".split())
# Environments \\begin{...} may open (alignment and matrices only).
TEX_ENVIRONMENTS = frozenset(
    "matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases aligned gathered array split".split()
)
# Control symbols (a backslash and one non-letter): spacing and escaped characters, no delimiters.
TEX_SYMBOLS = frozenset(list(",;:! {}|&%#_") + ["\\"])
_TEX_TOKEN = re.compile(r"\\([A-Za-z]+|[^A-Za-z]|$)")
_TEX_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{([^{}]*)\}")
_TEX_DELIMITERS = ("$", "\\(", "\\)", "\\[", "\\]")

# Link and image addresses: these schemes, or none (a relative address or a #fragment).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_IGNORED = re.compile(r"[\x00-\x20\x7f]")  # browsers drop these (tab, newline, ...) from a URL
_PLACEHOLDER = re.compile("\x02(\\d+)\x03")


def tex_allowed(tex: str) -> bool:
    """Whether every command in ``tex`` is on the allow-lists (and it opens no math delimiter)."""
    if any(d in tex for d in _TEX_DELIMITERS):
        return False
    for match in _TEX_TOKEN.finditer(tex):
        name = match.group(1)
        if len(name) == 1 and not name.isalpha():
            if name not in TEX_SYMBOLS:
                return False
        elif name not in TEX_COMMANDS:
            return False
    environments = _TEX_ENVIRONMENT.findall(tex)
    if ("\\begin" in tex or "\\end" in tex) and len(environments) != tex.count("\\begin") + tex.count("\\end"):
        return False
    return all(e.strip() in TEX_ENVIRONMENTS for e in environments)


def tex_html(tex: str, display: bool) -> Html:
    """A math span for MathJax, or the TeX shown as code when it is not allowed."""
    if not tex_allowed(tex):
        return Html('<code class="cw-math-refused">{}</code>').format(tex)
    safe = tex.replace("&", r"\&").replace("<", r"\lt ").replace(">", r"\gt ")
    return Html(f"$${safe}$$" if display else f"\\({safe}\\)")


def link_allowed(url: str) -> bool:
    """A link or image address a lesson may use: ``http``, ``https``, ``mailto`` or relative."""
    match = _SCHEME.match(_URL_IGNORED.sub("", url))
    return match is None or match.group(1).lower() in LINK_SCHEMES


def markdown(source: str) -> Html:
    """Lesson Markdown as HTML: safe to show, allowed math left for MathJax (see the module docstring)."""
    if not source:
        return EMPTY
    maths: list[Html] = []
    html = _parser().render(_CONTROL.sub("", str(source)), {"maths": maths})
    html = html.replace("$", "&#36;").replace("\\", "&#92;")
    return Html(_PLACEHOLDER.sub(lambda m: maths[int(m.group(1))], html))


def markdown_inline(source: str) -> Html:
    """One line of lesson Markdown (a step title, a choice) without the surrounding paragraph."""
    html = markdown(source).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Html(html)


_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
        md.validateLink = link_allowed  # type: ignore[method-assign]
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
    maths: list[Html] = env["maths"]
    maths.append(tex_html(token.content, token.meta["display"]))
    return f"\x02{len(maths) - 1}\x03"


def _render_link_open(renderer: Any, tokens: list, idx: int, options: Any, env: dict[str, Any]) -> str:
    """Links open in a new tab: following one must not end the lesson page."""
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer")
    return renderer.renderToken(tokens, idx, options, env)
