"""The one configured Markdown parser and the course syntax on top of it.

CommonMark with raw HTML off, plus tables, footnotes, definition lists, attributes and named
`:::` containers. Rendering is per unit: ids are prefixed with the unit id so that many units can
share one HTML document, and facilitator-only containers are dropped from learner output.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder.errors import Diagnostic
from builder.media import player_kind
from builder.text import FOR_THE_DISTRIBUTOR, distributor_warning, unsafe_url

Audience = Literal["learner", "facilitator"]

#: Callout containers: `::: name` ... `:::`, rendered as a labelled box.
CALLOUTS = ("aim", "example", "note", "key-point", "reflection", "quote", "facilitator")
#: Structural containers with their own rendering.
STRUCTURAL = ("reveal", "figure", "quiz", "chart")
#: Interactive blocks: plain HTML that runtime/blocks.js enhances (they read and print without it).
#: `cards` are the click-to-reveal cards: `::: reveal` already names content shown after a question.
BLOCKS = ("accordion", "tabs", "cards", "steps", "zoom")
#: Editor's notes: kept in the source, never rendered for anyone.
EDITOR = "editor"
CONTAINERS = (*CALLOUTS, *STRUCTURAL, *BLOCKS, EDITOR)

_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
#: Schemes that run code or smuggle content past the package's own files; refused everywhere.
#: Raw HTML as authors write it: a tag, a closing tag or a comment (shown as text, never run).
_RAW_HTML = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?>|!--)")
_ATTR_LINE = re.compile(r"^ {0,3}\{.*\}[ \t]*$")
_EVENT_ATTR = re.compile(r"[\s/\"'](on[a-z]+)\s*=", re.IGNORECASE)
#: Attributes an author may set with `{...}`: everything else could carry script or styling.
ALLOWED_ATTRS = ("id", "class")
#: Token nesting at which a text is refused: 9 lists inside each other reach it. Below
#: markdown-it's own limit (20), which silently drops everything deeper.
MAX_NESTING = 18
_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:", re.MULTILINE)

#: Renders the chart of a data set: (data set id, HTML id prefix) -> HTML, or None if unknown.
ChartRenderer = Callable[[str, str], str | None]
#: Renders a video or audio file written with image syntax: (package path, its words) -> the
#: player's HTML and the problems found, as (code, message).
MediaPlayer = Callable[[str, str], tuple[str, list[tuple[str, str]]]]


@dataclass
class RenderedMarkdown:
    """HTML of one Markdown text, with what the builder must know about it."""

    html: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    media: set[str] = field(default_factory=set)
    headings: list[tuple[int, str, str]] = field(default_factory=list)
    has_quiz_marker: bool = False
    anchors: set[str] = field(default_factory=set)
    """Fragments other texts may link to: heading slugs and `{#id}` attributes, unprefixed."""
    links: list[tuple[str, int]] = field(default_factory=list)
    """Links inside the course (not web addresses), with their line, for fragment checks."""
    reveals: list[tuple[str, int]] = field(default_factory=list)
    """Question ids named by `::: reveal`, with their line."""
    charts: list[str] = field(default_factory=list)
    """Data set ids drawn by `::: chart`."""
    inline_links: dict[str, str] = field(default_factory=dict)
    """Resolved targets of the links in the unit's quiz text (rendered by the templates)."""
    media_lines: dict[str, int] = field(default_factory=dict)
    """First line of each resolved link and image target (so media problems have a line)."""


def _noop_render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return ""


@cache
def parser() -> MarkdownIt:
    """The configured parser (built once; markdown-it parsers are reusable)."""
    md = MarkdownIt(
        "commonmark", {"html": False, "linkify": False, "typographer": False, "maxNesting": 20}
    )
    md.enable("table")
    md.use(footnote_plugin).use(deflist_plugin)
    md.use(attrs_plugin, allowed=ALLOWED_ATTRS).use(attrs_block_plugin, allowed=ALLOWED_ATTRS)
    # Every link and image becomes a token, so that an unsafe one is reported where it is written
    # instead of silently staying text; the last core rule then strips its address.
    md.validateLink = _any_link  # type: ignore[method-assign]
    md.core.ruler.push("unsafe_urls", _strip_unsafe_urls)
    # One block rule for every `::: name`, not one per name: each rule is tried on every line.
    md.use(container_plugin, name=CONTAINER, validate=_known_container, render=_noop_render)
    return md


#: The one container rule's name: its tokens are `container_block_open` / `_close`.
CONTAINER = "block"
_OPEN, _CLOSE = f"container_{CONTAINER}_open", f"container_{CONTAINER}_close"
_CONTAINER_NAMES = frozenset(CONTAINERS)


def _known_container(params: str, *_markup: str) -> bool:
    """`::: name …` opens a container if `name` is one of CONTAINERS (else it stays text)."""
    return params.strip().split(" ", 1)[0] in _CONTAINER_NAMES


def _container_name(tok: Token) -> str:
    """The name an opening container token was written with."""
    return tok.info.strip().split(" ", 1)[0]


class LinkError(str):
    """A resolver's error message that carries its own diagnostic code (plain str: E322).

    Diagnostics take its text as a plain `str` (`str(err)`), so that rendered units stay plain
    data for marshal (the build cache) and pickle (a second process).
    """

    code: str

    def __new__(cls, code: str, message: str) -> LinkError:
        """The message `message`, reported under `code`."""
        err = super().__new__(cls, message)
        err.code = code
        return err

    def __reduce__(self) -> tuple[type[LinkError], tuple[str, str]]:
        """Pickle as (code, message): str's own way would call __new__ with the text alone."""
        return LinkError, (self.code, str(self))


def _any_link(url: str) -> bool:
    return True


def _strip_unsafe_urls(state: StateCore) -> None:
    """Remove unsafe link and image addresses, keeping them in meta for the diagnostic."""
    for tok in state.tokens:
        for child in tok.children or ():
            if child.type in ("link_open", "image"):
                attr = "href" if child.type == "link_open" else "src"
                url = str(child.attrs.get(attr, ""))
                if unsafe_url(url):
                    child.meta["unsafe_url"] = url
                    del child.attrs[attr]


def _raw_html_message(tag: str) -> str:
    shown = tag if len(tag) <= 40 else tag[:37] + "…"
    event = _EVENT_ATTR.search(tag)
    if event:
        return f"raw HTML with an event handler ({event.group(1)}=) is not allowed: {shown}"
    return f"raw HTML is not allowed in Markdown: {shown}"


def inline_problems(children: Sequence[Token]) -> list[tuple[str, str, str]]:
    """Unsafe addresses, raw HTML and refused attributes in inline tokens.

    Each problem is (code, message, the text as written, to find its line).
    """
    out = []
    for child in children:
        if child.meta.get("unsafe_url"):
            url = str(child.meta["unsafe_url"])
            out.append(("E351", f"address '{url[:40]}' is not allowed", url))
        elif child.type == "text":
            raw = _RAW_HTML.search(child.content)
            if raw:
                out.append(("E352", _raw_html_message(raw.group()), raw.group()))
        if child.meta.get("insecure_attrs"):
            name = sorted(str(k) for k in child.meta["insecure_attrs"])[0]
            out.append(("E353", f"attribute '{name}' is not allowed", name))
    return out


def slugify(text: str) -> str:
    """A heading's anchor: ASCII lower-case words joined by hyphens."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-") or "section"


#: Names other Markdown tools give their boxes, and the block of ours that does the same job.
_OTHER_TOOLS_NAMES = {
    "tip": "note",
    "info": "note",
    "warning": "note",
    "caution": "note",
    "danger": "note",
    "important": "key-point",
    "details": "accordion",
    "collapse": "accordion",
    "dropdown": "accordion",
    "tab": "tabs",
    "tabset": "tabs",
    "spoiler": "cards",
    "flashcards": "cards",
    "flip": "cards",
    "card": "cards",
    "step": "steps",
    "process": "steps",
    "lightbox": "zoom",
    "todo": EDITOR,
    "comment": EDITOR,
}
#: A line that opens a `:::` block with a name, as a paragraph's text (when the name is unknown).
_BLOCK_LINE = re.compile(r"^:{3,}[ \t]*([^\s:][^\s]*)")


def container_problems(tokens: Sequence[Token]) -> list[tuple[int, str, str, str]]:
    """`:::` blocks an author got wrong, as (line, code, message, hint), lines from 0.

    An unknown name leaves the block as text that would reach learners (E327); a block never
    closed takes in the rest of the unit (E328), reported at its opening line.
    """
    out: list[tuple[int, str, str, str]] = []
    opened: list[Token] = []
    for tok in tokens:
        if tok.type == _OPEN:
            opened.append(tok)
        elif tok.type == _CLOSE and opened:
            start = opened.pop()
            if not tok.markup:  # the parser closed it at the end of the text
                name = _container_name(start)
                out.append(
                    (
                        start.map[0] if start.map else 0,
                        "E328",
                        f"'::: {name}' is never closed: it takes in the rest of the unit",
                        "end the block with a line holding only ':::'",
                    )
                )
        elif tok.type == "inline" and tok.map and ":::" in tok.content:
            for i, line in enumerate(tok.content.split("\n")):
                m = _BLOCK_LINE.match(line.strip())
                if m:
                    out.append((tok.map[0] + i, "E327", *_unknown_block(m.group(1))))
    return out


def distributor_notes(tokens: Sequence[Token]) -> list[tuple[int, str]]:
    """(line from 0, words) of each paragraph or heading whose text addresses the distributor."""
    out = []
    for tok in tokens:
        if tok.type == "inline" and tok.map:
            m = FOR_THE_DISTRIBUTOR.search(tok.content)
            if m:
                out.append((tok.map[0] + tok.content.count("\n", 0, m.start()), m.group()))
    return out


def _unknown_block(name: str) -> tuple[str, str]:
    """Message and hint for `::: name` with a name the builder does not know."""
    close = _OTHER_TOOLS_NAMES.get(name.lower()) or next(
        iter(difflib.get_close_matches(name.lower(), CONTAINERS, n=1)), None
    )
    known = ", ".join(CONTAINERS)
    hint = f"did you mean '::: {close}'? The blocks are: {known}" if close else ""
    message = f"unknown block '::: {name}': learners would see it as text"
    return message, hint or f"the blocks are: {known}"


def _drop_containers(tokens: list[Token], name: str) -> list[Token]:
    """`tokens` without the containers called `name` and everything inside them."""
    out: list[Token] = []
    opened: list[bool] = []  # per open container: is it one of those dropped?
    depth = 0
    for tok in tokens:
        if tok.type == _OPEN:
            opened.append(_container_name(tok) == name)
            depth += opened[-1]
            if opened[-1]:
                continue
        elif tok.type == _CLOSE and opened:
            dropped = opened.pop()
            depth -= dropped
            if dropped:
                continue
        if depth == 0:
            out.append(tok)
    return out


def render_markdown(
    text: str,
    *,
    doc_id: str,
    display: str,
    first_line: int,
    audience: Audience,
    labels: dict[str, str],
    resolve_link: Callable[[str], tuple[str | None, str | None]],
    figure_image: Callable[[str], str | None],
    heading_base: int = 2,
    chart: ChartRenderer | None = None,
    media_player: MediaPlayer | None = None,
) -> RenderedMarkdown:
    """Render one unit's Markdown; links are passed through `resolve_link` (href, error)."""
    md = parser()
    env: dict[str, Any] = {"docId": doc_id}
    tokens = md.parse(text, env)
    result = RenderedMarkdown(html="")

    def diag(line0: int | None, code: str, message: str, **kw: Any) -> None:
        line = first_line + (line0 or 0)
        result.diagnostics.append(Diagnostic(display, line, 1, code, message, **kw))

    # Footnotes: references never defined stay as literal text; definitions never cited vanish.
    refs = env.get("footnotes", {}).get("refs", {})
    for label, ident in refs.items():
        if ident == -1:
            name = label[1:]
            m = next((m for m in _FOOTNOTE_DEF.finditer(text) if m.group(1) == name), None)
            line0 = text.count("\n", 0, m.start()) if m else 0
            diag(
                line0,
                "E321",
                f"footnote [^{name}] is defined but never cited",
                hint=f"cite it with [^{name}] where the text relies on it, or delete it",
            )
    # A second definition of a label is silently ignored by the parser: the note would be wrong.
    seen_defs: set[str] = set()
    for m in _FOOTNOTE_DEF.finditer(text):
        if m.group(1) in seen_defs:
            diag(
                text.count("\n", 0, m.start()),
                "E326",
                f"footnote [^{m.group(1)}] is defined twice",
                hint="give each note its own label",
            )
        seen_defs.add(m.group(1))

    for line0, code, message, hint in container_problems(tokens):
        diag(line0, code, message, hint=hint)
    tokens = _drop_containers(tokens, EDITOR)
    if audience == "learner":
        tokens = _drop_containers(tokens, "facilitator")
        for line0, found in distributor_notes(tokens):
            message, hint = distributor_warning(found)
            diag(line0, "W305", message, hint=hint, severity="warning")

    tokens = _shape_blocks(tokens, doc_id, audience, labels, diag)

    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = heading_base - min(levels) if levels else 0
    anchors = _Anchors(tokens, text, diag)
    last_line: int | None = 0
    too_deep = False
    open_containers: list[str] = []
    for i, tok in enumerate(tokens):
        if tok.map:
            last_line = tok.map[0]
        if tok.level >= MAX_NESTING and not too_deep:
            too_deep = True
            diag(
                last_line,
                "E354",
                "lists, quotes and ::: blocks are nested too deeply here; deeper levels would "
                "be lost",
                hint="at most 8 lists inside each other: flatten the structure",
            )
        if tok.meta.get("insecure_attrs"):
            _attrs_diagnostic(tok, diag, _attr_block_line(text, tok, last_line))
        if tok.type in ("th_open", "td_open") and "style" in tok.attrs:
            # Column alignment: a class, since the pages' CSP forbids style attributes.
            align = str(tok.attrs.pop("style")).removeprefix("text-align:")
            tok.attrJoin("class", f"align-{align}")
        if tok.type in ("heading_open", "heading_close"):
            level = min(6, int(tok.tag[1]) + shift)
            tok.tag = f"h{level}"
            if tok.type == "heading_open":
                title = tokens[i + 1].content
                explicit = tok.attrs.get("id")
                slug = str(explicit) if explicit else anchors.heading(slugify(title))
                anchor = f"{doc_id}--{slug}"
                tok.attrSet("id", anchor)
                result.headings.append((level, anchor, title))
                result.anchors.add(slug)
        elif tok.type in (_OPEN, _CLOSE):
            if tok.type == _OPEN:
                open_containers.append(_container_name(tok))
            name = open_containers[-1] if tok.type == _OPEN else open_containers.pop()
            known = len(result.media)
            _render_container(
                tok, name, labels, figure_image, result, diag, last_line, chart, doc_id
            )
            if len(result.media) > known:  # a figure's image: remember where it is named
                for src in result.media:
                    result.media_lines.setdefault(src, first_line + (last_line or 0))
        elif tok.attrs.get("id"):
            _prefix_id(tok, doc_id, result)
        if tok.type == "inline" and tok.children:
            unlinked = False
            # Line of each child: a paragraph's lines are separated by break tokens.
            line = last_line or 0
            for child in tok.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                if child.attrs.get("id"):
                    _prefix_id(child, doc_id, result)
                if child.meta.get("insecure_attrs"):
                    _attrs_diagnostic(child, diag, line)
                if child.meta.get("unsafe_url"):
                    url = str(child.meta["unsafe_url"])
                    diag(
                        line,
                        "E351",
                        f"{'link' if child.type == 'link_open' else 'image'} address "
                        f"'{url[:40]}' is not allowed: {url.split(':', 1)[0].strip()}: "
                        "addresses can run code in the learner's browser",
                        hint="link to a web page (https://…), a unit or a file in media/",
                    )
                    continue
                if child.type == "text":
                    raw = _RAW_HTML.search(child.content)
                    if raw:
                        diag(
                            line,
                            "E352",
                            _raw_html_message(raw.group()),
                            hint="use Markdown instead; to show a tag as text, put it in "
                            "`backticks`",
                        )
                    for m in _FOOTNOTE_REF.finditer(child.content):
                        diag(
                            line,
                            "E320",
                            f"footnote [^{m.group(1)}] is cited but never defined",
                            hint=f"add a line '[^{m.group(1)}]: …' with the source",
                        )
                elif child.type == "link_close" and unlinked:
                    child.type, child.content, unlinked = "html_inline", "</span>", False
                elif child.type == "link_open":
                    href = str(child.attrs.get("href", ""))
                    new, err = resolve_link(href)
                    if not href.startswith(("http://", "https://", "mailto:")):
                        result.links.append((href, first_line + (line or 0)))
                    if err:
                        diag(line, getattr(err, "code", "E322"), str(err))
                    elif new == "":
                        # A target the page cannot navigate to (another SCO): keep the words.
                        child.type, child.content = "html_inline", '<span class="unit-ref">'
                        unlinked = True
                    elif new is not None:
                        result.media_lines.setdefault(new, first_line + line)
                        child.attrSet("href", new)
                        if new.startswith(("http://", "https://", "mailto:")):
                            child.attrSet("rel", "noopener")
                            child.attrSet("target", "_blank")
                elif child.type == "image":
                    src = str(child.attrs.get("src", ""))
                    new_src = figure_image(src)
                    if new_src is None:
                        # The link resolver says why, if the path is refused (outside the course).
                        why = resolve_link(src)[1]
                        if isinstance(why, LinkError):
                            diag(line, why.code, str(why))
                        else:
                            diag(line, "E323", f"image '{src}' not found in the course's media")
                    else:
                        child.attrSet("src", new_src)
                        child.attrSet("loading", "lazy")
                        result.media.add(new_src)
                        result.media_lines.setdefault(new_src, first_line + line)
                        if media_player is not None and player_kind(new_src):
                            html, problems = media_player(new_src, child.content)
                            for code, message in problems:
                                diag(line, code, message)
                            child.type, child.content, child.children = "html_inline", html, None
    if too_deep:
        # markdown-it stops reading at its nesting limit: whatever else it found is unreliable.
        result.diagnostics = [d for d in result.diagnostics if d.code == "E354"]
    result.reveals = [(qid, first_line + line0) for qid, line0 in result.reveals]
    result.html = md.renderer.render(tokens, md.options, env)
    result.html = result.html.replace('<hr class="footnotes-sep" />\n', "")
    return result


#: Ids the pages derive from a unit's or quiz's id: `<unit>--title` (the unit's heading),
#: `<quiz>--quiz` and `<quiz>--quiz-key` (a quiz's heading, its answer key in the guide). No
#: heading slug or `{#id}` may take them.
RESERVED_ANCHORS = frozenset(("title", "quiz", "quiz-key"))
#: Charts are `<unit>--chart--<data set>` (and their parts `…-title`, `…-desc`): a heading slug
#: never holds `--`, and no `{#id}` may.
CHART_PREFIX = "chart--"


class _Anchors:
    """The fragment ids of one unit: `{#id}`s as written, heading slugs made unique.

    Authors' ids are collected first, so that a heading whose slug another element names
    explicitly gets a numbered slug instead (`details-2`): an author's id never moves. Numbering
    keeps the next number per slug, so that many equal headings cost linear time.
    """

    def __init__(self, tokens: Sequence[Token], text: str, diag: Callable[..., None]) -> None:
        self.taken: set[str] = set(RESERVED_ANCHORS)
        self.next: dict[str, int] = {}
        lines = text.split("\n")
        line: int | None = 0
        for tok in tokens:
            line = tok.map[0] if tok.map else line
            for item in (tok, *(tok.children or ())):
                ident = item.attrs.get("id")
                if ident:
                    at = line
                    # A block's `{#id}` stands on the line above it.
                    if item is tok and tok.map and 0 < tok.map[0] <= len(lines):
                        above = lines[tok.map[0] - 1]
                        at = tok.map[0] - 1 if _ATTR_LINE.match(above) else at
                    self._explicit(str(ident), at, diag)

    def _explicit(self, ident: str, line: int | None, diag: Callable[..., None]) -> None:
        if ident in RESERVED_ANCHORS or "--" in ident:
            diag(
                line,
                "E329",
                f"the id '{ident}' is reserved for the builder's own use",
                hint="choose another {#id}: not 'title', 'quiz' or 'quiz-key', and without '--'",
            )
        elif ident in self.taken:
            diag(
                line,
                "E329",
                f"the id '{ident}' is given twice in this unit",
                hint="each {#id} must be unique within its unit",
            )
        self.taken.add(ident)

    def heading(self, slug: str) -> str:
        """A slug for a heading without `{#id}`: `slug`, or `slug-2`, `slug-3`, … if taken."""
        if slug not in self.taken:
            self.taken.add(slug)
            return slug
        n = self.next.get(slug, 2)
        while f"{slug}-{n}" in self.taken:
            n += 1
        self.next[slug] = n + 1
        self.taken.add(f"{slug}-{n}")
        return f"{slug}-{n}"


def heading_slugger(tokens: Sequence[Token], text: str) -> Callable[[str], str]:
    """The function that gives each heading without `{#id}`, in document order, the anchor the
    page will give it (an author's `{#id}` elsewhere in the unit pushes it to `slug-2`)."""
    anchors = _Anchors(tokens, text, lambda *args, **kwargs: None)
    return lambda title: anchors.heading(slugify(title))


def _attr_block_line(text: str, tok: Token, line0: int | None) -> int | None:
    """The line of the `{...}` block that gave `tok` its attributes (it stands above it)."""
    if not tok.map:
        return line0
    lines = text.split("\n")
    name = sorted(str(k) for k in tok.meta["insecure_attrs"])[0]
    at = tok.map[0] - 1
    while 0 <= at < len(lines) and _ATTR_LINE.match(lines[at]):
        if name in lines[at]:
            return at
        at -= 1
    return line0


def _attrs_diagnostic(tok: Token, diag: Callable[..., None], line0: int | None) -> None:
    names = sorted(str(k) for k in tok.meta["insecure_attrs"])
    events = [n for n in names if n.lower().startswith("on")]
    diag(
        line0,
        "E353",
        f"event handler attribute {events[0]}= is not allowed"
        if events
        else f"attribute '{names[0]}' is not allowed",
        hint="attributes in {…} may only set #id and .class",
    )


def _prefix_id(tok: Token, doc_id: str, result: RenderedMarkdown) -> None:
    """Make an author's `{#id}` unique in a page of many units, like heading ids."""
    ident = str(tok.attrs["id"])
    result.anchors.add(ident)
    tok.attrSet("id", f"{doc_id}--{ident}")


def _render_container(
    tok: Token,
    name: str,
    labels: dict[str, str],
    figure_image: Callable[[str], str | None],
    result: RenderedMarkdown,
    diag: Callable[..., None],
    line0: int | None,
    chart: ChartRenderer | None = None,
    doc_id: str = "",
) -> None:
    """Turn a container token into the HTML open/close tag it stands for (in place)."""
    opening = tok.nesting == 1
    args = tok.info.strip()[len(name) :].strip() if opening else ""
    tok.type = "html_block"
    if name == "quiz":
        tok.content = '<div class="quiz-slot" data-quiz-slot></div>\n' if opening else ""
        # Noted here: the token's type is rewritten to html_block just above.
        result.has_quiz_marker = result.has_quiz_marker or opening
    elif name == "reveal":
        target = f' data-reveal-after="{_attr(args)}"' if args else ""
        if opening and args:
            result.reveals.append((args, line0 or 0))
        tok.content = f'<div class="reveal"{target}>\n' if opening else "</div>\n"
    elif name == "chart":
        if not opening:
            tok.content = "</figure>\n"
            return
        html = chart(args, f"{doc_id}--{CHART_PREFIX}{args}") if chart and args else None
        if html is None:
            diag(
                line0,
                "E325",
                f"chart of unknown data set '{args}'" if args else "chart without a data set id",
                hint="write '::: chart <id>' with the id of a file in data/",
            )
            html = ""
        else:
            result.charts.append(args)
        tok.content = (
            f'<figure class="chart" id="{_attr(doc_id)}--{CHART_PREFIX}{_attr(args)}">\n{html}'
        )
    elif name == "zoom":
        if not opening:
            tok.content = "</figcaption>\n</figure>\n"
            return
        img = _figure_img(figure_image, args, result)
        if img is None:
            img = ""
            diag(
                line0,
                "E362",
                f"'::: zoom' image '{args}' not found in the course's media"
                if args
                else "'::: zoom' without an image",
                hint="write '::: zoom media/<file>' with an image in media/, and the caption "
                "inside the block; did you mean '::: figure'?",
            )
        label = labels.get("block.zoom", "Enlarge image")
        close = labels.get("block.close", "Close")
        tok.content = (
            f'<figure class="figure block-zoom" data-block="zoom" data-zoom="{_attr(label)}" '
            f'data-close="{_attr(close)}">\n{img}<figcaption>\n'
        )
    elif name == "figure":
        if opening:
            img = _figure_img(figure_image, args, result)
            if img is None:
                img = ""
                _figure_without_image(args, diag, line0)
            tok.content = f'<figure class="figure">\n{img}<figcaption>\n'
        else:
            tok.content = "</figcaption>\n</figure>\n"
    else:
        label = labels.get(f"callout.{name}", name.replace("-", " ").capitalize())
        tok.content = (
            f'<div class="callout callout-{name}" role="note" aria-label="{_attr(label)}">\n'
            f'<p class="callout-label">{_esc(label)}</p>\n'
            if opening
            else "</div>\n"
        )


def _figure_img(
    figure_image: Callable[[str], str | None], args: str, result: RenderedMarkdown
) -> str | None:
    """The <img> of `::: figure` / `::: zoom` for the image named in `args` (kept as a media file
    of the page), or None if there is no such image."""
    src = figure_image(args) if args else None
    if not src:
        return None
    result.media.add(src)
    return f'<img src="{_attr(src)}" alt="" loading="lazy">\n'


def _figure_without_image(args: str, diag: Callable[..., None], line0: int | None) -> None:
    """W304: a figure with no image looks unfinished to learners (a placeholder left in)."""
    diag(
        line0,
        "W304",
        f"figure '{args}' has no image: the file is not in media/"
        if args
        else "figure without an image",
        hint="add the image to media/ and name it after '::: figure', or, if there is no image "
        "to show, write the text without '::: figure'",
        severity="warning",
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


@dataclass(frozen=True)
class _Shape:
    """The HTML a sectioned block is made of (`{id}` and labels filled in by `_shape_blocks`)."""

    outer: tuple[str, str]
    """Around the whole block."""
    inner: tuple[str, str]
    """Around the sections (after any text before the first heading)."""
    section: tuple[str, str, str]
    """Before a section's heading, after it, and after the section."""


_SHAPES = {
    "accordion": _Shape(
        ('<div class="block block-accordion" data-block="accordion" id="{id}">\n', "</div>\n"),
        ("", ""),
        (
            '<details class="block-section"{open}>\n<summary class="block-summary">\n',
            '</summary>\n<div class="block-body">\n',
            "</div>\n</details>\n",
        ),
    ),
    "tabs": _Shape(
        (
            '<div class="block block-tabs" data-block="tabs" id="{id}" '
            'data-label="{label_tabs}">\n',
            "</div>\n",
        ),
        ("", ""),
        ('<section class="block-section block-tab">\n', "", "</section>\n"),
    ),
    "cards": _Shape(
        (
            '<div class="block block-cards" data-block="reveal" id="{id}" '
            'data-show="{label_show}" data-hide="{label_hide}">\n',
            "</div>\n",
        ),
        ("", ""),
        (
            '<div class="block-card">\n',
            '<div class="block-card-answer">\n',
            "</div>\n</div>\n",
        ),
    ),
    "steps": _Shape(
        ('<div class="block block-steps" data-block="steps" id="{id}">\n', "</div>\n"),
        ('<ol class="block-steps-list">\n', "</ol>\n"),
        ('<li class="block-step">\n', "", "</li>\n"),
    ),
}
#: What a section is called in each block's messages.
_SECTION_WORD = {"accordion": "section", "tabs": "tab", "cards": "card", "steps": "step"}


def _html_token(content: str) -> Token:
    tok = Token("html_block", "", 0)
    tok.content, tok.block = content, True
    return tok


def _matching_close(tokens: Sequence[Token], at: int) -> int:
    """Index of the container close that ends the container opened at `at`."""
    depth = 0
    for j in range(at, len(tokens)):
        if tokens[j].type == _OPEN:
            depth += 1
        elif tokens[j].type == _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return len(tokens) - 1


def _shape_blocks(
    tokens: list[Token],
    doc_id: str,
    audience: Audience,
    labels: dict[str, str],
    diag: Callable[..., None],
) -> list[Token]:
    """Give each sectioned block (accordion, tabs, cards, steps) its HTML, section by heading.

    Each heading of the block's highest level inside it starts a section; text before the first
    heading stays in front of the sections. `::: steps` may hold a single list instead.
    """
    before: dict[int, list[str]] = {}
    counts: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if tok.type != _OPEN or _container_name(tok) not in _SHAPES:
            continue
        name = _container_name(tok)
        line0 = tok.map[0] if tok.map else 0
        end = _matching_close(tokens, i)
        counts[name] = counts.get(name, 0) + 1
        shape = _SHAPES[name]
        fill = {
            "id": _attr(f"{doc_id}--block-{name}-{counts[name]}"),
            "open": " open" if audience == "facilitator" else "",
            "label_tabs": _attr(labels.get("block.tabs", "Sections")),
            "label_show": _attr(labels.get("block.show", "Show answer")),
            "label_hide": _attr(labels.get("block.hide", "Hide answer")),
        }
        args = tok.info.strip()[len(name) :].strip()
        if args:
            diag(
                line0,
                "E360",
                f"'::: {name}' takes no name after it, found '{args}'",
                hint=f"did you mean '::: {name}' alone, then a heading '## {args}'? Each "
                f"heading inside starts a {_SECTION_WORD[name]}",
            )
        top = [j for j in range(i + 1, end) if tokens[j].level == tok.level + 1]
        heads = [j for j in top if tokens[j].type == "heading_open"]
        tok.type, tok.content = "html_block", shape.outer[0].format(**fill)
        tokens[end].type, tokens[end].content = "html_block", shape.outer[1]
        if not heads:
            lists = [j for j in top if tokens[j].type in ("bullet_list_open", "ordered_list_open")]
            if name == "steps" and len(lists) == 1 and top[0] == lists[0]:
                _number_list(tokens, lists[0], end)
                continue
            word = _SECTION_WORD[name]
            alt = "a list of steps" if name == "steps" else f"each {word}"
            diag(
                line0,
                "E361",
                f"'::: {name}' has no headings: each heading inside starts a {word}",
                hint=f"start {alt} with a heading ('## Title'); did you mean '::: note' "
                "(a box without sections)?",
            )
            continue
        level = min(tokens[j].tag for j in heads)
        starts = [j for j in heads if tokens[j].tag == level]
        first, (sec_open, sec_mid, sec_close) = True, shape.section
        for j in starts:
            html = ("" if first else sec_close) + (shape.inner[0] if first else "") + sec_open
            before.setdefault(j, []).append(html.format(**fill))
            if sec_mid:
                before.setdefault(j + 3, []).append(sec_mid)  # after heading_close
            first = False
        before.setdefault(end, []).append(sec_close + shape.inner[1])
    if not before:
        return tokens
    out: list[Token] = []
    for i, tok in enumerate(tokens):
        out += [_html_token(html) for html in before.get(i, ())]
        out.append(tok)
    return out


def _number_list(tokens: list[Token], at: int, end: int) -> None:
    """Turn the list opened at `at` (inside a `::: steps` ending at `end`) into a numbered one."""
    depth = 0
    for j in range(at, end):
        tok = tokens[j]
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            if depth == 1:
                tok.type, tok.tag = "ordered_list_open", "ol"
                tok.attrJoin("class", "block-steps-list")
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                tok.type, tok.tag = "ordered_list_close", "ol"
                return
