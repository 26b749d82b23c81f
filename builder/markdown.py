"""The one configured Markdown parser and the course syntax on top of it.

CommonMark with raw HTML off, plus tables, footnotes, definition lists, attributes and named
`:::` containers. Rendering is per unit: ids are prefixed with the unit id so that many units can
share one HTML document, and facilitator-only containers are dropped from learner output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from builder.errors import Diagnostic

Audience = Literal["learner", "facilitator"]

#: Callout containers: `::: name` ... `:::`, rendered as a labelled box.
CALLOUTS = ("aim", "example", "note", "key-point", "reflection", "quote", "facilitator")
#: Structural containers with their own rendering.
STRUCTURAL = ("reveal", "figure", "quiz")
CONTAINERS = CALLOUTS + STRUCTURAL

_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:", re.MULTILINE)


@dataclass
class RenderedMarkdown:
    """HTML of one Markdown text, with what the builder must know about it."""

    html: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    media: set[str] = field(default_factory=set)
    headings: list[tuple[int, str, str]] = field(default_factory=list)
    has_quiz_marker: bool = False


def _noop_render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return ""


@cache
def parser() -> MarkdownIt:
    """The configured parser (built once; markdown-it parsers are reusable)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.use(footnote_plugin).use(deflist_plugin).use(attrs_plugin).use(attrs_block_plugin)
    for name in CONTAINERS:
        md.use(container_plugin, name=name, render=_noop_render)
    return md


def slugify(text: str) -> str:
    """A heading's anchor: ASCII lower-case words joined by hyphens."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-") or "section"


def _drop_containers(tokens: list[Token], name: str) -> list[Token]:
    out: list[Token] = []
    depth = 0
    for tok in tokens:
        if tok.type == f"container_{name}_open":
            depth += 1
        elif tok.type == f"container_{name}_close":
            depth -= 1
        elif depth == 0:
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

    if audience == "learner":
        tokens = _drop_containers(tokens, "facilitator")

    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    shift = heading_base - min(levels) if levels else 0
    used_ids: set[str] = set()
    last_line: int | None = 0
    for i, tok in enumerate(tokens):
        if tok.map:
            last_line = tok.map[0]
        if tok.type in ("heading_open", "heading_close"):
            level = min(6, int(tok.tag[1]) + shift)
            tok.tag = f"h{level}"
            if tok.type == "heading_open":
                title = tokens[i + 1].content
                slug = str(tok.attrs.get("id") or slugify(title))
                anchor = f"{doc_id}--{slug}"
                n = 2
                while anchor in used_ids:
                    anchor = f"{doc_id}--{slug}-{n}"
                    n += 1
                used_ids.add(anchor)
                tok.attrSet("id", anchor)
                result.headings.append((level, anchor, title))
        elif tok.type.startswith("container_"):
            _render_container(tok, labels, figure_image, result, diag, last_line)
        elif tok.type == "inline" and tok.children:
            unlinked = False
            for child in tok.children:
                if child.type == "text":
                    for m in _FOOTNOTE_REF.finditer(child.content):
                        diag(
                            last_line,
                            "E320",
                            f"footnote [^{m.group(1)}] is cited but never defined",
                            hint=f"add a line '[^{m.group(1)}]: …' with the source",
                        )
                elif child.type == "link_close" and unlinked:
                    child.type, child.content, unlinked = "html_inline", "</span>", False
                elif child.type == "link_open":
                    href = str(child.attrs.get("href", ""))
                    new, err = resolve_link(href)
                    if err:
                        diag(last_line, "E322", err)
                    elif new == "":
                        # A target the page cannot navigate to (another SCO): keep the words.
                        child.type, child.content = "html_inline", '<span class="unit-ref">'
                        unlinked = True
                    elif new is not None:
                        child.attrSet("href", new)
                        if new.startswith(("http://", "https://", "mailto:")):
                            child.attrSet("rel", "noopener")
                            child.attrSet("target", "_blank")
                elif child.type == "image":
                    src = str(child.attrs.get("src", ""))
                    new_src = figure_image(src)
                    if new_src is None:
                        diag(last_line, "E323", f"image '{src}' not found in the course's media")
                    else:
                        child.attrSet("src", new_src)
                        child.attrSet("loading", "lazy")
                        result.media.add(new_src)
    result.html = md.renderer.render(tokens, md.options, env)
    result.html = result.html.replace('<hr class="footnotes-sep" />\n', "")
    result.has_quiz_marker = any(t.type == "container_quiz_open" for t in tokens)
    return result


def _render_container(
    tok: Token,
    labels: dict[str, str],
    figure_image: Callable[[str], str | None],
    result: RenderedMarkdown,
    diag: Callable[..., None],
    line0: int | None,
) -> None:
    """Turn a container token into the HTML open/close tag it stands for (in place)."""
    name = tok.type[len("container_") : tok.type.rindex("_")]
    opening = tok.nesting == 1
    args = tok.info.strip()[len(name) :].strip() if opening else ""
    tok.type = "html_block"
    if name == "quiz":
        tok.content = '<div class="quiz-slot" data-quiz-slot></div>\n' if opening else ""
    elif name == "reveal":
        target = f' data-reveal-after="{_attr(args)}"' if args else ""
        tok.content = f'<div class="reveal"{target}>\n' if opening else "</div>\n"
    elif name == "figure":
        if opening:
            src = figure_image(args) if args else None
            img = ""
            if src:
                img = f'<img src="{_attr(src)}" alt="" loading="lazy">\n'
                result.media.add(src)
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


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")
