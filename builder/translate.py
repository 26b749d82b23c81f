"""Translations: the course's learner-facing texts out as XLIFF 1.2, and back in as an edition.

`extract_segments` lists every text a learner (or facilitator) reads, with a stable id, its file
and line; `write_xliff` writes them for a translator's tool. `translate_course` reads
`translations/<lang>.xlf` and returns the course with each text replaced by its translation,
which the render stage then turns into pages unchanged.

Inline Markdown becomes XLIFF inline elements, so that a translator's tool protects it:

- `*emphasis*` and `**strong**`: `<g ctype="italic">` / `<g ctype="bold">` around the words;
- a link: `<bpt ctype="link">[</bpt>` words `<ept>](address)</ept>`, the address kept as code;
- an image: `<bpt ctype="image">![</bpt>` alt text `<ept>](file)</ept>`;
- a footnote mark, a code span, an autolink: `<ph>` holding the Markdown as written;
- a hard line break: `<x ctype="lb"/>`.

A translation is rebuilt with the codes of the course's text (matched by id), so a translator
may reorder them but cannot change a link's address; a missing, extra or repeated code is an error
(for a translation already outdated, a warning, and the source text is used).

Ids (documented in docs/translation.md) are built from author ids and the structure of the
text, never from its words: `course/title`, `session-7-1/title`, `quiz/check-7-1/q-1/prompt`,
`session-7-1/landscape/p1` (the first paragraph from the one written with `{#landscape}`),
`session-7-1/h2/p3` (third paragraph after the unit's second heading without an id),
`session-7-1/fn-4/p1` (footnote 4). Editing, adding or removing text elsewhere leaves an id as
it is; a text that moves keeps its translation through its source hash.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from markdown_it.token import Token

from builder import __version__
from builder.errors import BuildFailed, Diagnostic
from builder.markdown import CONTAINER, EDITOR, heading_slugger, parser
from builder.model import Course, DataSet, Quiz
from builder.sources import SourceFile, SourceTree, load_sources, load_yaml_file

XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"
_X = f"{{{XLIFF_NS}}}"
#: Who writes the notes and context this module reads back (a translator's notes are kept).
TOOL = "scorm-builder"
#: Largest translation file read; a course of 1,000 pages stays well under it.
MAX_XLIFF_BYTES = 16 * 1024 * 1024
TRANSLATIONS_DIR = "translations"
#: Target states that mean "the source changed since this was translated".
REVIEW_STATES = frozenset(("needs-review-translation", "needs-translation", "needs-adaptation"))
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

_OPEN, _CLOSE = f"container_{CONTAINER}_open", f"container_{CONTAINER}_close"


# --------------------------------------------------------------------------- inline content


@dataclass(frozen=True)
class Code:
    """One inline element of a text: what it is and the Markdown it stands for."""

    tag: str  # g, x, ph, bpt or ept
    id: str
    ctype: str
    native: str = ""


#: A text as XLIFF sees it: strings, codes, and (for `<g>`) a code with what it encloses.
Piece = str | Code | tuple[Code, list[Any]]


@dataclass
class Segment:
    """One translatable text of the course, where it is written, and how to show it."""

    id: str
    file: str
    display: str
    line: int
    text: str
    """The text as written (Markdown for a Markdown field or block, else plain text)."""
    pieces: list[Piece] = field(default_factory=list)
    markdown: bool = True
    note: str = ""
    break_prefix: str = ""
    """What a hard line break in the translation continues with (a quote's `> `, an indent)."""

    @property
    def hash(self) -> str:
        """A short hash of the text, blind to line wrapping."""
        return source_hash(self.text)

    @property
    def words(self) -> int:
        """Words a translator reads (inline codes not counted)."""
        return len(plain_text(self.pieces).split())


def source_hash(text: str) -> str:
    """The hash kept with each translation to tell when its source changes."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def plain_text(pieces: Sequence[Piece]) -> str:
    """The words of a text, without its codes."""
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, tuple):
            out.append(plain_text(p[1]))
    return "".join(out)


class _Unsupported(Exception):
    """Inline Markdown this module cannot carry through XLIFF (the text stays untranslated)."""


def _link_close(tok: Token) -> str:
    href = str(tok.attrs.get("href", tok.attrs.get("src", "")))
    dest = f"<{href}>" if re.search(r"[\s()<>]", href) else href
    title = tok.attrs.get("title")
    if title:
        dest += ' "' + str(title).replace("\\", "\\\\").replace('"', '\\"') + '"'
    extra = []
    for key, value in tok.attrs.items():
        if key == "id":
            extra.append(f"#{value}")
        elif key == "class":
            extra += [f".{c}" for c in str(value).split()]
    return f"]({dest})" + ("{" + " ".join(extra) + "}" if extra else "")


def inline_pieces(children: Sequence[Token]) -> list[Piece]:
    """Inline tokens as pieces: text, and numbered codes for the Markdown around it."""
    counter = iter(range(1, 10_000))
    root: list[Piece] = []
    stack: list[list[Piece]] = [root]
    links: list[Code] = []
    i = 0
    while i < len(children):
        tok = children[i]
        out = stack[-1]
        kind = tok.type
        if kind in ("text", "text_special"):
            out.append(tok.content)
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append(Code("x", str(next(counter)), "lb"))
        elif kind in ("em_open", "strong_open"):
            group: list[Piece] = []
            ctype = "italic" if kind == "em_open" else "bold"
            out.append((Code("g", str(next(counter)), ctype), group))
            stack.append(group)
        elif kind in ("em_close", "strong_close"):
            stack.pop()
        elif kind == "link_open" and tok.markup == "autolink":
            url = "".join(c.content for c in children[i + 1 : i + 2])
            out.append(Code("ph", str(next(counter)), "x-autolink", f"<{url}>"))
            i += 3  # the link's text and its close are inside the code
            continue
        elif kind == "link_open":
            code = Code("bpt", str(next(counter)), "link", "[")
            out.append(code)
            links.append(Code("ept", code.id, "link", _link_close(tok)))
        elif kind == "link_close":
            out.append(links.pop())
        elif kind == "image":
            ident = str(next(counter))
            out.append(Code("bpt", ident, "image", "!["))
            out.append(tok.content)
            out.append(Code("ept", ident, "image", _link_close(tok)))
        elif kind == "code_inline":
            ticks = tok.markup
            pad = " " if tok.content.startswith("`") or tok.content.endswith("`") else ""
            native = f"{ticks}{pad}{tok.content}{pad}{ticks}"
            out.append(Code("ph", str(next(counter)), "x-code", native))
        elif kind == "footnote_ref":
            native = f"[^{tok.meta.get('label', '')}]"
            out.append(Code("ph", str(next(counter)), "x-footnote", native))
        else:
            raise _Unsupported(kind)
        i += 1
    return root


def plain_pieces(text: str) -> list[Piece]:
    """A plain-text field: one string, whitespace as the page shows it."""
    return [" ".join(text.split())]


def _flatten(pieces: Sequence[Piece]) -> dict[str, Code]:
    codes: dict[str, Code] = {}
    for p in pieces:
        if isinstance(p, Code):
            codes[f"{p.tag}:{p.id}"] = p
        elif isinstance(p, tuple):
            codes[f"g:{p[0].id}"] = p[0]
            codes.update(_flatten(p[1]))
    return codes


# --------------------------------------------------------------------------- Markdown out


_ESCAPE = re.compile(r"([\\`*_\[\]<>{}|~&!#])")
_LIST_START = re.compile(r"^(\d{1,9})([.)])")


def _escape(text: str) -> str:
    return _ESCAPE.sub(r"\\\1", text)


def to_markdown(pieces: Sequence[Piece], break_prefix: str = "") -> str:
    """Pieces (a translation) as one line of Markdown; a hard break continues on a new line."""

    def walk(items: Sequence[Piece]) -> str:
        out = []
        for p in items:
            if isinstance(p, str):
                out.append(_escape(re.sub(r"\s+", " ", p)))
            elif isinstance(p, tuple):
                mark = "**" if p[0].ctype == "bold" else "*"
                inner = walk(p[1])
                if not inner.strip():  # emptied by the translator: nothing to emphasise
                    out.append(inner)
                    continue
                # Emphasis must hug its words: spaces move outside the marks.
                lead = " " if inner[:1] == " " else ""
                trail = " " if inner[-1:] == " " and inner.strip() else ""
                out.append(f"{lead}{mark}{inner.strip()}{mark}{trail}")
            elif p.tag == "x":
                out.append("\\\n" + break_prefix)
            else:
                out.append(p.native)
        return "".join(out)

    text = re.sub(r" {2,}", " ", walk(pieces)).strip(" ")
    # What would start a list, heading, quote, definition or container at the start of a line.
    if _LIST_START.match(text):
        text = _LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)
    elif text[:1] in ("-", "+", "=", ":", ">"):
        text = "\\" + text
    return text


_KEPT = ("em_open", "strong_open", "link_open", "image", "code_inline")


def formatting_lost(pieces: Sequence[Piece], markdown: str) -> bool:
    """True if `markdown` (made from `pieces`) would not show all of their emphasis, links,
    images and code, e.g. `**"…"**word`, which Markdown does not read as bold."""
    want: dict[str, int] = {}
    for key, code in _flatten(pieces).items():
        kind = {"italic": "em_open", "bold": "strong_open", "link": "link_open"}.get(code.ctype)
        kind = {"image": "image", "x-code": "code_inline", "x-autolink": "link_open"}.get(
            code.ctype, kind
        )
        if kind is not None and not key.startswith("ept:"):
            want[kind] = want.get(kind, 0) + 1
    got: dict[str, int] = {}
    for tok in parser().parseInline(markdown, {})[0].children or []:
        if tok.type in _KEPT:
            got[tok.type] = got.get(tok.type, 0) + 1
    return got != want


# --------------------------------------------------------------------------- Markdown blocks


@dataclass
class Block:
    """One inline text of a Markdown document and where it stands in the source."""

    key: str
    line: int
    """0-based line of the text's first line in the document."""
    spans: list[tuple[int, int, int]]
    """(line, start, end) of each of the text's source lines."""
    children: list[Token]
    facilitator: bool
    break_prefix: str = ""
    anchor: str = ""
    """A heading's anchor as the source's words make it: kept by a translation, so that links
    to `page.md#heading` still arrive."""


def _spans(lines: list[str], tok: Token, cursor: dict[int, int]) -> list[tuple[int, int, int]]:
    """Where each line of an inline token's text is in the source lines (raise if unsure)."""
    assert tok.map is not None
    start, end = tok.map
    spans = []
    at = start
    for part in tok.content.split("\n"):
        part = part.strip()
        while at < max(end, start + 1) and at < len(lines):
            col = lines[at].find(part, cursor.get(at, 0)) if part else -1
            if col < 0 and "|" in part:  # a table cell's `\|` is `|` in its text
                part = part.replace("|", "\\|")
                col = lines[at].find(part, cursor.get(at, 0))
            if col >= 0:
                spans.append((at, col, col + len(part)))
                cursor[at] = col + len(part)
                break
            at += 1
        else:
            raise _Unsupported("text not found in its lines")
        at += 1
    return spans


Shape = list[tuple[str, str, str]]
#: The kind of a text by the block it is in (in ids); anything else is a paragraph, `p`.
_KINDS = {"heading_open": "title", "th_open": "cell", "td_open": "cell", "dt_open": "term"}


def markdown_blocks(text: str, prefix: str) -> tuple[list[Block], list[int], Shape]:
    """Every inline text of a Markdown document, keyed `prefix/<anchor>/<kind><n>`; the lines
    (0-based) of texts that could not be carried (kept in the source language); the document's
    block_shape."""
    env: dict[str, Any] = {}
    tokens = parser().parse(text, env)
    slug = heading_slugger(tokens, text)
    lines = text.split("\n")
    blocks: list[Block] = []
    anchor = "top"
    headings = 0
    counts: dict[str, int] = {}
    saved: list[tuple[str, dict[str, int]]] = []
    facilitator = 0
    parents: list[str] = []
    cursor: dict[int, int] = {}
    skipped: list[int] = []
    heading_id = False
    editor = 0
    for tok in tokens:
        if tok.type == _OPEN:
            name = tok.info.strip().split(" ", 1)[0]
            facilitator += name == "facilitator"
            editor += name == EDITOR
            parents.append(name)
        elif tok.type == _CLOSE and parents:
            name = parents.pop()
            facilitator -= name == "facilitator"
            editor -= name == EDITOR
        elif tok.type in ("footnote_reference_open", "footnote_open"):
            saved.append((anchor, counts))
            anchor, counts = f"fn-{tok.meta.get('label', '')}", {}
        elif tok.type in ("footnote_reference_close", "footnote_close") and saved:
            anchor, counts = saved.pop()
        elif tok.nesting == 1 and tok.type != "inline":
            ident = tok.attrs.get("id")
            if tok.type == "heading_open":
                headings += 1
                anchor, counts = (str(ident) if ident else f"h{headings}"), {}
                heading_id = bool(ident)
            elif ident and not saved:
                anchor, counts = str(ident), {}
            parents.append(tok.type)
        elif tok.nesting == -1 and parents:
            parents.pop()
        if tok.type != "inline" or not tok.children or not tok.content.strip() or editor:
            continue  # (an editor's note is never published, so never translated)
        parent = parents[-1] if parents else ""
        base = _KINDS.get(parent, "p")
        if facilitator:
            base = "fac-" + base
        counts[base] = counts.get(base, 0) + 1
        # A heading is the one title of its anchor: `…/h2/title`, not `…/h2/title1`.
        first_title = base.endswith("title") and counts[base] == 1
        key = f"{prefix}/{anchor}/{base}" + ("" if first_title else str(counts[base]))
        try:
            spans = _spans(lines, tok, cursor)
        except _Unsupported:
            skipped.append(tok.map[0] if tok.map else 0)
            continue
        first = spans[0][0]
        if len(spans) > 1:
            second = spans[1]
            cont = lines[second[0]][: second[1]]
        else:
            cont = re.sub(r"[^>\s]", " ", lines[first][: spans[0][1]])
        keep = ""
        if parent == "heading_open" and not heading_id:
            keep = slug(tok.content)
        blocks.append(Block(key, first, spans, list(tok.children), facilitator > 0, cont, keep))
    return blocks, skipped, _shape(tokens)


def splice(text: str, blocks: Sequence[Block], replacements: dict[str, str]) -> str:
    """`text` with each block named in `replacements` replaced by its (one-line) Markdown.

    The first line of a block takes the whole text; its other lines are removed, unless
    something else (another table cell) shares them.
    """
    lines = text.split("\n")
    # Edits from the end, so that earlier positions stay valid.
    edits: list[tuple[int, int, int, str]] = []
    for block in blocks:
        new = replacements.get(block.key)
        if new is None:
            continue
        for n, (line, start, end) in enumerate(block.spans):
            edits.append((line, start, end, new if n == 0 else ""))
    drop: set[int] = set()
    for line, start, end, new in sorted(edits, reverse=True):
        row = lines[line]
        lines[line] = row[:start] + new + row[end:]
        if not new and re.fullmatch(r"[\s>]*", row[:start] + row[end:]):
            drop.add(line)
    for block in blocks:
        if block.anchor and block.key in replacements:
            line = block.spans[0][0]
            prefix = re.match(r"[\s>]*", lines[line])
            lines[line] = f"{prefix.group() if prefix else ''}{{#{block.anchor}}}\n{lines[line]}"
    return "\n".join(row for n, row in enumerate(lines) if n not in drop)


def block_shape(text: str) -> Shape:
    """The block structure of a Markdown document (to check a translation kept it)."""
    return _shape(parser().parse(text, {}))


def _shape(tokens: Sequence[Token]) -> Shape:
    return [(t.type, t.tag, t.info.strip()) for t in tokens if t.type != "inline"]


# --------------------------------------------------------------------------- extraction


@dataclass
class Extract:
    """Every translatable text of a course, by file, in reading order."""

    course: Course
    files: dict[str, list[Segment]]
    source_language: str
    skipped: list[Diagnostic] = field(default_factory=list)
    """Texts whose inline Markdown cannot be carried (they stay in the source language)."""
    bodies: dict[str, tuple[list[Block], Shape]] = field(default_factory=dict)
    """Each Markdown text's blocks and shape, by id prefix (parsed once, for apply_texts)."""

    @property
    def segments(self) -> list[Segment]:
        """All segments, file by file."""
        return [s for segs in self.files.values() for s in segs]


class _Collector:
    def __init__(self, src: SourceFile | None, rel: str, display: str) -> None:
        self.src, self.rel, self.display = src, rel, display
        self.out: list[Segment] = []
        self.skipped: list[Diagnostic] = []
        self.bodies: dict[str, tuple[list[Block], Shape]] = {}

    def line(self, loc: tuple[str | int, ...]) -> int:
        return self.src.where(loc)[0] if self.src is not None else 1

    def plain(
        self, ident: str, text: str | None, loc: tuple[str | int, ...], note: str = ""
    ) -> None:
        if text:
            seg = Segment(ident, self.rel, self.display, self.line(loc), text, plain_pieces(text))
            seg.markdown, seg.note = False, note
            self.out.append(seg)

    def inline(
        self, ident: str, text: str | None, loc: tuple[str | int, ...], note: str = ""
    ) -> None:
        if not text:
            return
        env: dict[str, Any] = {}
        tokens = parser().parseInline(text, env)
        try:
            pieces = inline_pieces(tokens[0].children or [])
        except _Unsupported:
            self.skipped.append(_skipped(self.display, self.line(loc), ident))
            return
        self.out.append(
            Segment(ident, self.rel, self.display, self.line(loc), text, pieces, True, note)
        )

    def body(self, prefix: str, text: str, first_line: int, note: str = "") -> None:
        blocks, skipped, shape = markdown_blocks(text, prefix)
        self.bodies[prefix] = (blocks, shape)
        for line in skipped:
            self.skipped.append(_skipped(self.display, first_line + line, "here"))
        lines = text.split("\n")
        for block in blocks:
            try:
                pieces = inline_pieces(block.children)
            except _Unsupported:
                self.skipped.append(_skipped(self.display, first_line + block.line, block.key))
                continue
            written = "\n".join(lines[ln][a:b] for ln, a, b in block.spans)
            why = "facilitator's edition only" if block.facilitator else note
            seg = Segment(
                block.key, self.rel, self.display, first_line + block.line, written, pieces
            )
            seg.note, seg.break_prefix = why, block.break_prefix
            self.out.append(seg)


def _skipped(display: str, line: int, ident: str) -> Diagnostic:
    return Diagnostic(
        display,
        line,
        1,
        "W605",
        f"the text {ident} uses Markdown that a translation file cannot carry: it is not offered "
        "for translation and stays as written",
        severity="warning",
    )


def _quiz_segments(c: _Collector, quiz: Quiz) -> None:
    p = f"quiz/{quiz.id}"
    c.plain(f"{p}/title", quiz.title, ("title",))
    c.inline(f"{p}/intro", quiz.intro, ("intro",))
    for qi, q in enumerate(quiz.questions):
        at: tuple[str | int, ...] = ("questions", qi)
        qp = f"{p}/{q.id}"
        c.inline(f"{qp}/prompt", q.prompt, (*at, "prompt"))
        c.inline(f"{qp}/feedback/correct", q.feedback.correct, (*at, "feedback", "correct"))
        c.inline(f"{qp}/feedback/incorrect", q.feedback.incorrect, (*at, "feedback", "incorrect"))
        if q.type in ("single-choice", "multiple-response"):
            for oi, opt in enumerate(q.options):
                c.inline(f"{qp}/options/{opt.id}", opt.text, (*at, "options", oi, "text"))
                c.inline(
                    f"{qp}/options/{opt.id}/feedback",
                    opt.feedback,
                    (*at, "options", oi, "feedback"),
                )
        elif q.type == "matching":
            for pi, mp in enumerate(q.prompts):
                c.inline(f"{qp}/prompts/{mp.id}", mp.text, (*at, "prompts", pi, "text"))
                c.inline(
                    f"{qp}/prompts/{mp.id}/feedback", mp.feedback, (*at, "prompts", pi, "feedback")
                )
            for oi, target in enumerate(q.options):
                c.plain(f"{qp}/options/{target.id}", target.text, (*at, "options", oi, "text"))
        elif q.type == "fill-in":
            for ai, answer in enumerate(q.answers):
                c.plain(
                    f"{qp}/answers/{ai + 1}",
                    answer,
                    (*at, "answers", ai),
                    "an answer the learner types: accepted as correct",
                )
        elif q.type == "sequencing":
            for si, step in enumerate(q.steps):
                c.inline(f"{qp}/steps/{step.id}", step.text, (*at, "steps", si, "text"))
        elif q.type == "likert":
            for si, point in enumerate(q.scale):
                c.inline(f"{qp}/scale/{point.id}", point.text, (*at, "scale", si, "text"))
        elif q.type == "reflection":
            c.inline(f"{qp}/example", q.example, (*at, "example"))


def _dataset_segments(c: _Collector, ds: DataSet) -> None:
    p = f"data/{ds.id}"
    for name in ("title", "period", "measure", "unit", "label_heading", "source", "note"):
        c.plain(f"{p}/{name}", getattr(ds, name), (name,), "chart")
    for ri, row in enumerate(ds.rows):
        key = row.prompt or str(ri + 1)
        c.plain(f"{p}/rows/{key}", row.label, ("rows", ri, "label"), "chart label")


def extract_segments(course: Course, course_dir: Path, display_root: str | None = None) -> Extract:
    """Every learner- and facilitator-facing text of a validated course, with file and line."""
    tree = load_sources(course_dir, display_root)
    data = _data_files(tree)
    files: dict[str, list[Segment]] = {}
    skipped: list[Diagnostic] = []
    bodies: dict[str, tuple[list[Block], Shape]] = {}

    def collect(c: _Collector) -> None:
        files.setdefault(c.rel, []).extend(c.out)
        bodies.update(c.bodies)
        skipped.extend(c.skipped)

    c = _Collector(tree.course, "course.yaml", tree.display("course.yaml"))
    c.plain("course/title", course.title, ("title",))
    c.plain("course/description", course.description, ("description",), "package description")
    for i, kw in enumerate(course.keywords):
        c.plain(f"course/keywords/{i + 1}", kw, ("keywords", i), "keyword (package metadata)")
    c.plain("course/aim", course.aim, ("aim",))
    for i, obj in enumerate(course.objectives):
        c.plain(f"course/objectives/{i + 1}", obj, ("objectives", i))
    if course.introduction:
        c.body("course/introduction", course.introduction, c.line(("introduction",)))
    c.plain("course/credits/source", course.credits.source, ("credits", "source"))
    c.plain("course/credits/licence", course.credits.licence, ("credits", "licence"))
    c.plain(
        "course/credits/distribution",
        course.credits.distribution,
        ("credits", "distribution"),
        "for distributors: package metadata and facilitator's edition",
    )
    collect(c)
    for unit in course.units:
        c = _Collector(tree.units.get(unit.file), unit.file, unit.source)
        c.plain(f"{unit.id}/title", unit.title, ("title",))
        c.plain(f"{unit.id}/aim", unit.aim, ("aim",))
        for i, obj in enumerate(unit.objectives):
            c.plain(f"{unit.id}/objectives/{i + 1}", obj, ("objectives", i))
        c.body(unit.id, unit.body, unit.body_line)
        collect(c)
        if unit.quiz is not None and unit.quiz_file is not None and unit.quiz_file not in files:
            c = _Collector(tree.quizzes.get(unit.quiz_file), unit.quiz_file, unit.quiz_source or "")
            _quiz_segments(c, unit.quiz)
            collect(c)
    for ds in course.datasets:
        src = data.get(ds.id)
        rel = src.rel if src is not None else f"data/{ds.id}.yaml"
        c = _Collector(src, rel, src.display if src is not None else tree.display(rel))
        _dataset_segments(c, ds)
        collect(c)
    return Extract(course, files, course.language, skipped, bodies)


def _data_files(tree: SourceTree) -> dict[str, SourceFile]:
    """The data set files of a course, by the id they declare."""
    out = {}
    base = tree.root / "data"
    for path in sorted(base.glob("*.yaml")) if base.is_dir() else []:
        rel = path.relative_to(tree.root).as_posix()
        src, _ = load_yaml_file(path, rel, tree.display(rel))
        if src is not None and isinstance(src.data, dict) and isinstance(src.data.get("id"), str):
            out[src.data["id"]] = src
    return out


# --------------------------------------------------------------------------- XLIFF out


def _append_pieces(parent: etree._Element, pieces: Sequence[Piece]) -> None:
    last: etree._Element | None = None

    def text(value: str) -> None:
        if last is None:
            parent.text = (parent.text or "") + value
        else:
            last.tail = (last.tail or "") + value

    for p in pieces:
        if isinstance(p, str):
            text(p)
        elif isinstance(p, tuple):
            last = etree.SubElement(parent, _X + "g", id=p[0].id, ctype=p[0].ctype)
            _append_pieces(last, p[1])
        else:
            attrs = {"id": p.id}
            if p.tag != "ept":
                attrs["ctype"] = p.ctype
            last = etree.SubElement(parent, _X + p.tag, attrs)
            if p.tag != "x":
                last.text = p.native
            else:
                last.set("equiv-text", "\n")


@dataclass
class TransUnit:
    """A trans-unit as read from a translation file."""

    id: str
    hash: str
    source: etree._Element
    target: etree._Element | None
    line: int
    state: str
    notes: list[etree._Element] = field(default_factory=list)


def new_document(extract: Extract, language: str) -> etree._Element:
    """An XLIFF 1.2 document with every segment and no translation."""
    nsmap: Any = {None: XLIFF_NS}
    root = etree.Element(_X + "xliff", nsmap=nsmap, version="1.2")
    for rel, segments in extract.files.items():
        if not segments:
            continue
        datatype = "x-markdown" if rel.endswith(".md") else "x-yaml"
        f = etree.SubElement(
            root,
            _X + "file",
            {
                "original": rel,
                "source-language": extract.source_language,
                "target-language": language,
                "datatype": datatype,
            },
        )
        header = etree.SubElement(f, _X + "header")
        etree.SubElement(
            header, _X + "tool", {"tool-id": TOOL, "tool-name": TOOL, "tool-version": __version__}
        )
        body = etree.SubElement(f, _X + "body")
        for seg in segments:
            body.append(trans_unit(seg))
    return root


def trans_unit(seg: Segment, target: etree._Element | None = None) -> etree._Element:
    """One trans-unit: source, the target if given, location, hash and a note for translators."""
    tu = etree.Element(_X + "trans-unit", id=seg.id)
    if not seg.markdown:
        tu.set("datatype", "plaintext")
    source = etree.SubElement(tu, _X + "source")
    _append_pieces(source, seg.pieces)
    if target is not None:
        tu.append(target)
    group = etree.SubElement(tu, _X + "context-group", name="location", purpose="location")
    for ctype, value in (
        ("sourcefile", seg.file),
        ("linenumber", str(seg.line)),
        ("x-source-hash", seg.hash),
    ):
        etree.SubElement(group, _X + "context", {"context-type": ctype}).text = value
    note = etree.SubElement(tu, _X + "note", {"from": TOOL})
    note.text = f"{seg.file}:{seg.line}" + (f" – {seg.note}" if seg.note else "")
    return tu


def serialise(root: etree._Element) -> bytes:
    """The document as bytes: declaration, UTF-8, structure indented, texts untouched."""
    _indent(root, 0)
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


_STRUCTURE = frozenset(
    _X + t for t in ("xliff", "file", "header", "body", "group", "trans-unit", "context-group")
)


def _indent(elem: etree._Element, level: int) -> None:
    if elem.tag not in _STRUCTURE or not len(elem):
        return
    pad = "\n" + "  " * (level + 1)
    elem.text = pad
    for child in elem:
        _indent(child, level + 1)
        child.tail = pad
    elem[-1].tail = "\n" + "  " * level


def write_xliff(extract: Extract, language: str) -> bytes:
    """A new translation file for `language` (no targets yet)."""
    return serialise(new_document(extract, language))


# --------------------------------------------------------------------------- XLIFF in


def _line(elem: etree._Element | None) -> int:
    """An element's line in its file (1 if unknown)."""
    line = elem.sourceline if elem is not None else None
    return line if isinstance(line, int) else 1


class XliffError(Exception):
    """A translation file that cannot be used; `line` where known."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def read_xliff(data: bytes) -> etree._Element:
    """Parse a translation file safely: no entities, no network, no DTD, bounded size."""
    if len(data) > MAX_XLIFF_BYTES:
        raise XliffError(f"larger than {MAX_XLIFF_BYTES // (1024 * 1024)} MiB")
    xml_parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = etree.fromstring(data, xml_parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise XliffError(f"not well-formed XML: {exc.msg}", int(exc.lineno or 1)) from None
    if getattr(tree.docinfo, "doctype", ""):
        raise XliffError("a DOCTYPE is not allowed in a translation file")
    root = tree.getroot()
    if root.tag != _X + "xliff" or root.get("version") != "1.2":
        raise XliffError(f"not an XLIFF 1.2 document (namespace {XLIFF_NS})", _line(root))
    return root


def load_xliff(path: Path) -> etree._Element:
    """read_xliff of a file, refusing one too large before reading it (OSError if unreadable)."""
    if path.stat().st_size > MAX_XLIFF_BYTES:
        raise XliffError(f"larger than {MAX_XLIFF_BYTES // (1024 * 1024)} MiB")
    return read_xliff(path.read_bytes())


def read_units(root: etree._Element) -> dict[str, TransUnit]:
    """The trans-units of a document by id (the first of a repeated id wins)."""
    units: dict[str, TransUnit] = {}
    for tu in root.iter(_X + "trans-unit"):
        ident = tu.get("id")
        source = tu.find(_X + "source")
        if ident is None or source is None or ident in units:
            continue
        target = tu.find(_X + "target")
        hashes = [
            c.text or ""
            for c in tu.iter(_X + "context")
            if c.get("context-type") == "x-source-hash"
        ]
        units[ident] = TransUnit(
            ident,
            str(hashes[0]).strip() if hashes else "",
            source,
            target,
            _line(tu),
            (target.get("state") or "") if target is not None else "",
            [n for n in tu.findall(_X + "note") if n.get("from") != TOOL],
        )
    return units


def element_pieces(elem: etree._Element) -> list[Piece]:
    """The content of a <source> or <target> as pieces (codes without their Markdown)."""
    out: list[Piece] = []
    if elem.text:
        out.append(elem.text)
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        tag = etree.QName(child).localname
        ident = child.get("id") or ""
        if tag == "g":
            out.append((Code("g", ident, child.get("ctype") or ""), element_pieces(child)))
        elif tag in ("x", "ph", "bpt", "ept", "it", "bx", "ex"):
            native = "".join(str(t) for t in child.itertext())
            out.append(Code(tag, ident, child.get("ctype") or "", native))
        elif tag == "mrk":  # a translator's marker: its words count, the marker does not
            out.extend(element_pieces(child))
        if child.tail:
            out.append(child.tail)
    return out


def _with_natives(pieces: Sequence[Piece], natives: dict[str, Code]) -> list[Piece]:
    """Target pieces with each code's Markdown and type taken from the source's code."""
    out: list[Piece] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, tuple):
            src = natives[f"g:{p[0].id}"]
            out.append((src, _with_natives(p[1], natives)))
        else:
            out.append(natives[f"{p.tag}:{p.id}"])
    return out


def code_problem(source: Sequence[Piece], target: Sequence[Piece]) -> str | None:
    """Why a target's inline elements do not match its source's, or None."""
    want = _flatten(source)
    seen: list[str] = []

    def walk(items: Sequence[Piece]) -> str | None:
        open_links: list[str] = []
        for p in items:
            code = p[0] if isinstance(p, tuple) else p
            if isinstance(code, str):
                continue
            key = f"{code.tag}:{code.id}"
            if key not in want:
                return f'<{code.tag} id="{code.id}"> is not in the source'
            seen.append(key)
            if code.tag == "bpt":
                open_links.append(code.id)
            elif code.tag == "ept":
                if code.id not in open_links:
                    return f'<ept id="{code.id}"> comes before its <bpt> or in another element'
                open_links.remove(code.id)
            if isinstance(p, tuple):
                inner = walk(p[1])
                if inner:
                    return inner
        if open_links:
            return f'<bpt id="{open_links[0]}"> has no <ept> in the same element'
        return None

    problem = walk(target)
    if problem:
        return problem
    for key in want:
        if seen.count(key) == 0:
            tag, ident = key.split(":", 1)
            return f'<{tag} id="{ident}"> of the source is missing'
        if seen.count(key) > 1:
            tag, ident = key.split(":", 1)
            return f'<{tag} id="{ident}"> appears {seen.count(key)} times'
    return None


# --------------------------------------------------------------------------- applying


def translation_path(course_dir: Path, language: str) -> Path:
    """Where a language's translation of a course lives."""
    return course_dir / TRANSLATIONS_DIR / f"{language}.xlf"


def is_language(tag: str) -> bool:
    """True for a language tag as translation files are named (fr, pt-BR…)."""
    return _LANG.match(tag) is not None


def languages(course_dir: Path) -> list[str]:
    """The languages a course has a translation file for."""
    base = course_dir / TRANSLATIONS_DIR
    found = sorted(p.stem for p in base.glob("*.xlf")) if base.is_dir() else []
    return [lang for lang in found if _LANG.match(lang)]


@dataclass
class Applied:
    """What a translation file gave: Markdown (or plain text) by segment id, and problems."""

    texts: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _shown(course_dir: Path, display_root: str | None, rel: str) -> str:
    root = display_root if display_root is not None else str(course_dir)
    root = root.rstrip("/") or "."
    return rel if root in ("", ".") else f"{root}/{rel}"


def pair_units(segments: Sequence[Segment], units: dict[str, TransUnit]) -> dict[str, TransUnit]:
    """The translation file's unit for each segment id, where one belongs to it.

    In order: the same id and source; the same source under another id (the text moved); then,
    for texts that changed, the most similar former source in the same section (at least half
    alike: a paragraph inserted before another does not take its translation); then the same id.
    """
    paired: dict[str, TransUnit] = {}
    taken: set[str] = set()

    def take(seg: Segment, unit: TransUnit) -> None:
        paired[seg.id] = unit
        taken.add(unit.id)

    by_hash: dict[str, list[TransUnit]] = {}
    for unit in units.values():
        by_hash.setdefault(unit.hash, []).append(unit)
    for seg in segments:
        same = units.get(seg.id)
        if same is not None and same.hash == seg.hash:
            take(seg, same)
    for seg in segments:
        if seg.id not in paired:
            free = [u for u in by_hash.get(seg.hash, []) if u.id not in taken]
            if free:
                take(seg, free[0])
    left = [s for s in segments if s.id not in paired]
    free_by_section: dict[str, list[TransUnit]] = {}
    for unit in units.values():
        if unit.id not in taken:
            free_by_section.setdefault(unit.id.rsplit("/", 1)[0], []).append(unit)
    scored = []
    for seg in left:
        mine = " ".join(plain_text(seg.pieces).split())
        for unit in free_by_section.get(seg.id.rsplit("/", 1)[0], []):
            theirs = " ".join(plain_text(element_pieces(unit.source)).split())
            ratio = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
            if ratio >= 0.5:
                scored.append((-ratio, unit.id != seg.id, seg.id, unit.id))
    segs = {s.id: s for s in left}
    for _ratio, _other, seg_id, unit_id in sorted(scored):
        if seg_id not in paired and unit_id not in taken:
            take(segs[seg_id], units[unit_id])
    for seg in left:
        same = units.get(seg.id)
        if seg.id not in paired and same is not None and same.id not in taken:
            take(seg, same)
    return paired


def match_translations(
    extract: Extract, root: etree._Element, display: str, language: str
) -> Applied:
    """The translation of each segment, with a diagnostic for every problem found."""
    out = Applied()
    name = {"fr": "French", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "en": "English"}
    lang_name = name.get(language.split("-")[0].lower(), f"'{language}'")

    def diag(path: str, line: int, code: str, message: str, warn: bool, **kw: Any) -> None:
        out.diagnostics.append(
            Diagnostic(path, line, 1, code, message, "warning" if warn else "error", **kw)
        )

    for f in root.iter(_X + "file"):
        declared = f.get("target-language")
        if declared and declared.lower() != language.lower():
            diag(
                display,
                _line(f),
                "E601",
                f"target-language is '{declared}', but this file is the '{language}' translation",
                False,
            )
    units = read_units(root)
    paired = pair_units(extract.segments, units)
    used = {unit.id for unit in paired.values()}
    for seg in extract.segments:
        unit = paired.get(seg.id)
        where = f"{seg.display}:{seg.line}"
        target = unit.target if unit is not None else None
        pieces = element_pieces(target) if target is not None else []
        if unit is None or not (plain_text(pieces).strip() or _flatten(pieces)):
            diag(
                seg.display,
                seg.line,
                "W601",
                f"no {lang_name} translation of {seg.id}: the source text is used",
                True,
                hint=f"translate it in {display}"
                if unit is not None
                else f"run 'scorm-builder translate update --to {language}' to add it to {display}",
            )
            continue
        assert unit is not None
        outdated = unit.hash != seg.hash or unit.state in REVIEW_STATES
        if outdated:
            diag(
                seg.display,
                seg.line,
                "W602",
                f"outdated {lang_name} translation of {seg.id}: the text at {where} changed "
                f"since it was translated ({display}:{unit.line})",
                True,
                hint="have it reviewed, then set its state to 'translated'",
            )
        if not seg.markdown:
            out.texts[seg.id] = " ".join(plain_text(pieces).split())
            continue
        # Codes are rebuilt from the course as it is now (a link's current address), by id.
        problem = code_problem(seg.pieces, pieces)
        if problem is not None:
            diag(
                display,
                _line(target) if target is not None else unit.line,
                "W603" if outdated else "E602",
                f"translation of {seg.id} ({where}): {problem}"
                + ("; the source text is used" if outdated else ""),
                outdated,
                hint="inline elements (<g>, <x/>, <ph>, <bpt>/<ept>) stand for links, emphasis "
                "and notes: keep each one exactly once, in any order",
            )
            continue
        filled = _with_natives(pieces, _flatten(seg.pieces))
        markdown = to_markdown(filled, seg.break_prefix)
        if formatting_lost(filled, markdown):
            diag(
                display,
                _line(target),
                "E602",
                f"translation of {seg.id} ({where}): Markdown cannot show its emphasis or links "
                "as placed (a mark between a word and punctuation?)",
                False,
                hint="put a space or punctuation outside the <g> element, or move it",
            )
            continue
        out.texts[seg.id] = markdown
    for ident, unit in units.items():
        if ident not in used:
            diag(
                display,
                unit.line,
                "W604",
                f"translation of {ident}: the course has no such text any more",
                True,
                hint=f"run 'scorm-builder translate update --to {language}' to remove it",
            )
    return out


def translate_course(
    course: Course, course_dir: Path, language: str, display_root: str | None = None
) -> tuple[Course, list[Diagnostic]]:
    """The course in `language`, from translations/<language>.xlf; warnings, or BuildFailed."""
    rel = f"{TRANSLATIONS_DIR}/{language}.xlf"
    display = _shown(course_dir, display_root, rel)
    path = course_dir / rel
    if not _LANG.match(language):
        raise BuildFailed(
            [Diagnostic(display, 1, 1, "E601", f"'{language}' is not a language tag")]
        )
    try:
        root = load_xliff(path)
    except FileNotFoundError:
        raise BuildFailed(
            [
                Diagnostic(
                    display,
                    1,
                    1,
                    "E601",
                    f"no translation file for '{language}'",
                    hint=f"create it with 'scorm-builder translate extract --to {language}'",
                )
            ]
        ) from None
    except OSError as exc:
        raise BuildFailed(
            [Diagnostic(display, 1, 1, "E601", f"cannot read: {exc.strerror}")]
        ) from None
    except XliffError as exc:
        raise BuildFailed([Diagnostic(display, exc.line, 1, "E601", str(exc))]) from None
    extract = extract_segments(course, course_dir, display_root)
    applied = match_translations(extract, root, display, language)
    diags = applied.diagnostics + extract.skipped
    translated, problems = apply_texts(extract, applied.texts, language, display)
    diags += problems
    if any(d.severity == "error" for d in diags):
        raise BuildFailed(diags)
    return translated, diags


def edition_id(course_id: str, language: str) -> str:
    """The id of a language edition: its packages are `<id>-<lang>-scorm12.zip` and so on."""
    return f"{course_id}-{language.lower()}"


def apply_texts(
    extract: Extract, texts: dict[str, str], language: str, display: str
) -> tuple[Course, list[Diagnostic]]:
    """The course with each text in `texts` (by segment id) in place of the source's."""
    course = extract.course
    diags: list[Diagnostic] = []

    def get(ident: str, value: Any) -> Any:
        return texts.get(ident, value) if value else value

    def body(prefix: str, text: str, display_file: str, first_line: int) -> str:
        if prefix in extract.bodies:
            blocks, shape = extract.bodies[prefix]
        else:
            blocks, _, shape = markdown_blocks(text, prefix)
        new = splice(text, blocks, texts)
        if new != text and block_shape(new) != shape:
            diags.append(
                Diagnostic(
                    display_file,
                    first_line,
                    1,
                    "E603",
                    f"the {language} translation changes the structure of the "
                    "text (a translated line starts a list, heading or block?)",
                    hint=f"check the translations of {prefix}/… in {display}",
                )
            )
            return text
        return new

    units = []
    for unit in course.units:
        quiz = _translate_quiz(unit.quiz, get) if unit.quiz is not None else None
        units.append(
            unit.model_copy(
                update={
                    "title": get(f"{unit.id}/title", unit.title),
                    "aim": get(f"{unit.id}/aim", unit.aim),
                    "objectives": tuple(
                        get(f"{unit.id}/objectives/{i + 1}", o)
                        for i, o in enumerate(unit.objectives)
                    ),
                    "body": body(unit.id, unit.body, unit.source, unit.body_line),
                    "quiz": quiz,
                }
            )
        )
    datasets = []
    for ds in course.datasets:
        p = f"data/{ds.id}"
        fields = {
            n: get(f"{p}/{n}", getattr(ds, n))
            for n in ("title", "period", "measure", "unit", "label_heading", "source", "note")
        }
        rows = tuple(
            r.model_copy(update={"label": get(f"{p}/rows/{r.prompt or i + 1}", r.label)})
            for i, r in enumerate(ds.rows)
        )
        datasets.append(ds.model_copy(update={**fields, "rows": rows}))
    intro = course.introduction
    if intro:
        intro = body("course/introduction", intro, "course.yaml", 1)
    credits = course.credits.model_copy(
        update={
            "source": get("course/credits/source", course.credits.source),
            "licence": get("course/credits/licence", course.credits.licence),
            "distribution": get("course/credits/distribution", course.credits.distribution),
        }
    )
    translated = course.model_copy(
        update={
            "id": edition_id(course.id, language),
            "language": language,
            "title": get("course/title", course.title),
            "description": get("course/description", course.description),
            "keywords": tuple(
                get(f"course/keywords/{i + 1}", k) for i, k in enumerate(course.keywords)
            ),
            "aim": get("course/aim", course.aim),
            "objectives": tuple(
                get(f"course/objectives/{i + 1}", o) for i, o in enumerate(course.objectives)
            ),
            "introduction": intro,
            "credits": credits,
            "units": tuple(units),
            "datasets": tuple(datasets),
        }
    )
    return translated, diags


def _translate_quiz(quiz: Quiz, get: Any) -> Quiz:
    p = f"quiz/{quiz.id}"
    questions = []
    for q in quiz.questions:
        qp = f"{p}/{q.id}"
        update: dict[str, Any] = {
            "prompt": get(f"{qp}/prompt", q.prompt),
            "feedback": q.feedback.model_copy(
                update={
                    "correct": get(f"{qp}/feedback/correct", q.feedback.correct),
                    "incorrect": get(f"{qp}/feedback/incorrect", q.feedback.incorrect),
                }
            ),
        }
        if q.type in ("single-choice", "multiple-response"):
            update["options"] = tuple(
                o.model_copy(
                    update={
                        "text": get(f"{qp}/options/{o.id}", o.text),
                        "feedback": get(f"{qp}/options/{o.id}/feedback", o.feedback),
                    }
                )
                for o in q.options
            )
        elif q.type == "matching":
            update["prompts"] = tuple(
                m.model_copy(
                    update={
                        "text": get(f"{qp}/prompts/{m.id}", m.text),
                        "feedback": get(f"{qp}/prompts/{m.id}/feedback", m.feedback),
                    }
                )
                for m in q.prompts
            )
            update["options"] = tuple(
                o.model_copy(update={"text": get(f"{qp}/options/{o.id}", o.text)})
                for o in q.options
            )
        elif q.type == "fill-in":
            update["answers"] = tuple(
                get(f"{qp}/answers/{i + 1}", a) for i, a in enumerate(q.answers)
            )
        elif q.type == "sequencing":
            update["steps"] = tuple(
                st.model_copy(update={"text": get(f"{qp}/steps/{st.id}", st.text)})
                for st in q.steps
            )
        elif q.type == "likert":
            update["scale"] = tuple(
                st.model_copy(update={"text": get(f"{qp}/scale/{st.id}", st.text)})
                for st in q.scale
            )
        elif q.type == "reflection":
            update["example"] = get(f"{qp}/example", q.example)
        questions.append(q.model_copy(update=update))
    return quiz.model_copy(
        update={
            "title": get(f"{p}/title", quiz.title),
            "intro": get(f"{p}/intro", quiz.intro),
            "questions": tuple(questions),
        }
    )


# --------------------------------------------------------------------------- update


@dataclass
class Merged:
    """A translation file brought up to date with the course, and what changed."""

    data: bytes
    kept: int = 0
    review: int = 0
    new: int = 0
    removed: int = 0


def merge(extract: Extract, old: etree._Element, language: str) -> Merged:
    """A new extract with the translations of `old`: unchanged ones kept, changed ones kept and
    marked `needs-review-translation`, texts no longer in the course dropped."""
    units = {
        ident: unit
        for ident, unit in read_units(old).items()
        if unit.target is not None and _has_content(unit.target)
    }
    paired = pair_units(extract.segments, units)
    root = new_document(extract, language)
    result = Merged(b"")
    found: set[str] = set()
    segs = {s.id: s for s in extract.segments}
    for tu in list(root.iter(_X + "trans-unit")):
        seg = segs[tu.get("id") or ""]
        unit = paired.get(seg.id)
        if unit is None or unit.target is None or not _has_content(unit.target):
            result.new += 1
            if unit is not None:
                found.add(unit.id)
            continue
        found.add(unit.id)
        target = _copy(unit.target)
        if unit.hash != seg.hash or unit.state in REVIEW_STATES:
            target.set("state", "needs-review-translation")
            result.review += 1
        else:
            result.kept += 1
        source = tu.find(_X + "source")
        assert source is not None
        source.addnext(target)
        for note in unit.notes:
            tu.append(_copy(note))
    result.removed = sum(1 for ident in units if ident not in found)
    result.data = serialise(root)
    return result


def _has_content(target: etree._Element) -> bool:
    """True if a target holds any words or inline element."""
    pieces = element_pieces(target)
    return bool(plain_text(pieces).strip() or _flatten(pieces))


def _copy(elem: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(elem))
    copy.tail = None
    return copy


def count(extract: Extract) -> tuple[int, int]:
    """Translation units and source words of an extract."""
    return len(extract.segments), sum(s.words for s in extract.segments)
