"""Jinja2 over templates/: the course as HTML pages in memory. Writes nothing."""

from __future__ import annotations

import base64
import dataclasses
import difflib
import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from builder import __version__
from builder.errors import BuildFailed, Diagnostic
from builder.i18n import catalogue
from builder.markdown import (
    CHART_PREFIX,
    Audience,
    LinkError,
    RenderedMarkdown,
    inline_problems,
    parser,
    render_markdown,
)
from builder.media import media_player
from builder.model import Course, Quiz, Unit, response_id
from builder.model import Mode as Mode  # re-exported for older imports: both live in the model
from builder.model import Target as Target
from builder.sources import active_content, media_problem, parse_yaml, read_text, texts
from builder.suspend import fill_in_max_length
from builder.text import unsafe_url

#: Where unit pages find shared files, relative to the package root.
ASSET_DIR = "assets"
RUNTIME_FILE = "scorm-runtime.js"
#: Runtime scripts in load order: the tracker (speaks SCORM), then the course UI that uses it.
RUNTIME_FILES = (RUNTIME_FILE, "course-ui.js", "blocks.js")
#: Stylesheets every page links, in this order: the theme, then the interactive blocks.
STATIC_FILES = ("theme.css", "blocks.css")
#: The script made for each package (`package_script`), loaded before the runtime files.
PACKAGE_SCRIPT = "package.js"
#: The interface strings the runtime shows (keys of builder/i18n.py), given to it by
#: PACKAGE_SCRIPT.
UI_STRINGS = (
    *("standalone", "lms.error", "lms.saved", "session.ended", "exit.done", "progress.text"),
    *("saved", "correct", "incorrect", "correct.answer", "question", "result.score"),
    *("result.passed", "result.failed", "attempts.left", "attempts.none"),
    *("status.not-started", "status.in-progress", "status.completed", "status.passed"),
    *("status.score", "unanswered", "note", "note.close", "note.open"),
    *("completion.units", "completion.score", "sequence.moved", "feedback.later"),
)


def templates_dir() -> Path:
    """templates/ next to the package in a checkout, or inside it when installed as a wheel."""
    inside = Path(__file__).parent / "templates"
    return inside if inside.is_dir() else Path(__file__).parent.parent / "templates"


def runtime_dir() -> Path:
    """The JS runtime shipped as a static asset."""
    return Path(__file__).parent / "runtime"


LinkResolver = Callable[[str], tuple[str | None, str | None]]
ImageResolver = Callable[[str], str | None]


@dataclass(frozen=True)
class RenderedPage:
    """One file of the package, in memory."""

    path: str
    content: bytes


@dataclass(frozen=True)
class MediaFile:
    """A file copied from the course folder into the package."""

    path: str
    source: Path


@dataclass
class RenderedCourse:
    """Each unit's Markdown rendered once, shared by every target and mode."""

    course: Course
    root: Path
    audience: Audience
    units: dict[str, RenderedMarkdown] = field(default_factory=dict)
    intro: RenderedMarkdown | None = None
    media: dict[str, MediaFile] = field(default_factory=dict)
    quiz_html: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each unit's quiz texts as inline HTML (what `md_inline` gives), by unit id and text."""
    warnings: list[Diagnostic] = field(default_factory=list)
    """What the Markdown has that looks unfinished (the build goes on; --strict stops it)."""


@cache
def environment() -> Environment:
    """The one Jinja environment: autoescape on, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(["html", "j2", "xml", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates are part of the builder, not of a course: checking each one's file for
        # changes on every include costs a stat per question on every page.
        auto_reload=False,
    )
    env.filters["md_inline"] = md_inline
    env.filters["csp_hash"] = csp_hash
    env.globals["fill_in_limit"] = fill_in_max_length
    return env


def csp_hash(text: str) -> Markup:
    """A Content-Security-Policy source that allows exactly this inline `<style>` text."""
    digest = hashlib.sha256(str(text).encode()).digest()
    return Markup(f"'sha256-{base64.b64encode(digest).decode()}'")


@pass_context
def md_inline(context: Context, text: str | None) -> Markup:
    """Render a short Markdown text (a prompt, an option, feedback) without block wrapping.

    Links are rewritten as in the unit's own text (`#heading` -> the unit's anchor), using the
    targets `render_units` resolved and checked for the quiz of the unit being rendered.
    """
    if text:
        # Rendered already (render_units parses every quiz text once to check its links).
        done = _context_unit_entry(context, "quiz_html")
        if isinstance(done, dict) and text in done:
            return Markup(done[text])
    return render_inline(text, _inline_links(context))


def render_inline(text: str | None, links: dict[str, str]) -> Markup:
    """Inline Markdown as HTML, each link's target replaced by its entry in `links`."""
    if not text:
        return Markup("")
    env: dict[str, Any] = {}
    return _inline_html(parser().parseInline(text, env), env, links)


def _inline_html(tokens: list[Any], env: dict[str, Any], links: dict[str, str]) -> Markup:
    """Inline tokens (as parsed, changed in place) as HTML, each link's target from `links`."""
    md = parser()
    for tok in tokens:
        unlinked = False
        for child in tok.children or []:
            if child.type == "link_close" and unlinked:
                child.type, child.content, unlinked = "html_inline", "</span>", False
            elif child.type == "link_open":
                old = str(child.attrs.get("href", ""))
                href = links.get(old, old)
                if href == "":
                    # Another SCO (multi mode): keep the words, as unit text does.
                    child.type, child.content = "html_inline", '<span class="unit-ref">'
                    unlinked = True
                    continue
                child.attrSet("href", href)
                if href.startswith(("http://", "https://", "mailto:")):
                    child.attrSet("rel", "noopener")
                    child.attrSet("target", "_blank")
    return Markup(md.renderer.render(tokens, md.options, env))


def _inline_links(context: Context) -> dict[str, str]:
    """The resolved quiz links of the unit a template is rendering, if it can tell which."""
    rendered = _context_unit_entry(context, "html")
    return rendered.inline_links if isinstance(rendered, RenderedMarkdown) else {}


def _context_unit_entry(context: Context, name: str) -> Any:
    """The entry for the unit a template is rendering in the context's `name` mapping."""
    entries = context.get(name)
    unit = context.get("unit")
    if not isinstance(entries, dict):
        return None
    if not isinstance(unit, Unit):
        quiz = context.get("quiz")
        course = context.get("course")
        if not isinstance(quiz, Quiz) or not isinstance(course, Course):
            return None
        unit = next((u for u in course.units if u.quiz is not None and u.quiz.id == quiz.id), None)
        if unit is None:
            return None
    return entries.get(unit.id)


def _resolver(
    course: Course,
    unit_file: str | None,
    doc_id: str,
    mode: Mode,
    root: Path,
    media: dict[str, MediaFile],
    by_file: dict[str, str] | None = None,
) -> tuple[LinkResolver, ImageResolver]:
    """Link and image resolvers for one Markdown document (a unit, or the home page)."""
    if by_file is None:
        by_file = _files_of(course)
    base = posixpath.dirname(unit_file) if unit_file else ""
    real_root = root.resolve()

    def inside(rel: str) -> bool:
        # A media file may be a symlink: what it points to must be in the course folder too.
        return (root / rel).resolve().is_relative_to(real_root)

    def outside_problem(href: str, path: str) -> LinkError | None:
        if PurePosixPath(path).is_absolute():
            return LinkError(
                "E350", f"'{href}' is an absolute path; files are read only from the course folder"
            )
        if all(
            posixpath.normpath(posixpath.join(start, path)).startswith("../")
            for start in (base, "")
        ):
            return LinkError("E350", f"'{href}' leads out of the course folder")
        return None

    def locate(href: str) -> str | None:
        for start in (base, ""):
            rel = posixpath.normpath(posixpath.join(start, href))
            if rel.startswith("../") or rel == ".." or PurePosixPath(rel).is_absolute():
                continue
            # Any file that exists, even a FIFO or a device: media_diagnostics says why it
            # cannot be packaged, where "not found" would mislead.
            if rel in by_file or ((root / rel).exists() and not (root / rel).is_dir()):
                return rel
        return None

    def unit_href(uid: str, frag: str = "") -> str:
        anchor = f"{uid}--{frag}" if frag else uid
        if mode == "single":
            return f"#{anchor}"
        # In multi mode each unit is its own SCO: only the LMS may move between them.
        return "" if uid != doc_id else f"#{anchor}"

    def resolve(href: str) -> tuple[str | None, str | None]:
        if href.startswith(("http://", "https://", "mailto:")):
            return href, None
        if href in ("", "#"):
            return None, f"link target '{href}' is empty (a placeholder?)"
        if href.startswith("#"):
            return f"#{doc_id}--{href[1:]}", None
        if unsafe_url(href):
            return None, LinkError("E351", f"address '{href[:40]}' is not allowed")
        path, _, frag = href.partition("#")
        rel = locate(path)
        if rel is None:
            return None, outside_problem(href, path) or f"link target '{href}' not found"
        if rel in by_file:
            return unit_href(by_file[rel], frag), None
        if not rel.startswith("media/"):
            return None, f"link target '{href}' is not a unit or a file in media/"
        if not inside(rel):
            return None, LinkError(
                "E350", f"'{href}' is a link to a file outside the course folder"
            )
        media.setdefault(rel, MediaFile(rel, root / rel))
        return rel, None

    def figure(src: str) -> str | None:
        rel = locate(src)
        if rel is None or not rel.startswith("media/") or not inside(rel):
            return None
        media.setdefault(rel, MediaFile(rel, root / rel))
        return rel

    return resolve, figure


def _files_of(course: Course) -> dict[str, str]:
    """Unit file -> unit id. Callers that loop over units compute it once and pass it on."""
    return {u.file: u.id for u in course.units}


def _link_target(
    course: Course, unit: Unit, href: str, by_file: dict[str, str] | None = None
) -> tuple[str, str] | None:
    """(unit id, fragment) of a link to a heading or anchor of a unit; None otherwise."""
    if href.startswith(("http://", "https://", "mailto:")) or "#" not in href:
        return None
    path, _, frag = href.partition("#")
    if not path:
        return (unit.id, frag) if frag else None
    if by_file is None:
        by_file = _files_of(course)
    for start in (posixpath.dirname(unit.file), ""):
        rel = posixpath.normpath(posixpath.join(start, path))
        if rel in by_file:
            return (by_file[rel], frag) if frag else None
    return None


def _quiz_texts(quiz: Quiz) -> list[str]:
    """Every Markdown text of a quiz that the templates render."""
    texts = [quiz.intro]
    for q in quiz.questions:
        texts += [q.prompt, q.feedback.correct, q.feedback.incorrect]
        for opt in getattr(q, "options", ()):
            texts += [opt.text, getattr(opt, "feedback", None)]
        texts += [p.text for p in getattr(q, "prompts", ())]
        texts += [p.feedback for p in getattr(q, "prompts", ())]
        texts.append(getattr(q, "example", None))
    return [t for t in texts if t]


def _line_of(root: Path, rel: str | None, needle: str) -> int:
    """The first line of a course file that contains `needle` (1 if unknown)."""
    if rel is None:
        return 1
    try:
        text = (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def text_lines(root: Path, rel: str | None) -> dict[str, int]:
    """The line where each text of a YAML course file starts (as the model keeps it: stripped).

    For problems in quiz text: the text's own line, not the first line of the file that happens
    to hold the same characters (a title, a comment).
    """
    if rel is None:
        return {}
    text, _ = read_text(root / rel, rel)
    if text is None:
        return {}
    data, positions, _ = parse_yaml(text, rel)
    out: dict[str, int] = {}
    for loc, value in texts(data):
        if loc in positions:
            # A block scalar (`|`, `>`) starts on the line after its key; its text ends with a
            # line break, which a plain or quoted scalar never has.
            block = value.endswith("\n")
            line = positions[loc][0] + block
            if out.get(value.strip(), line) >= line:
                out[value.strip()] = line
    return out


def _line_in(text: str, needle: str, starts: dict[str, int]) -> int | None:
    """The line of `needle` inside `text`, whose first line is in `starts` (else None)."""
    first = starts.get(text)
    if first is None:
        return None
    at = text.find(needle)
    return first + (text.count("\n", 0, at) if at >= 0 else 0)


def _check_quiz_links(
    course: Course,
    unit: Unit,
    resolve: LinkResolver,
    rendered: RenderedMarkdown,
    root: Path,
) -> tuple[list[Diagnostic], list[tuple[str, int]], dict[str, str]]:
    """Resolve the links of a unit's quiz text; errors, links to check for fragments, and each
    text as inline HTML (from the same parse, once every link is resolved)."""
    diags: list[Diagnostic] = []
    links: list[tuple[str, int]] = []
    if unit.quiz is None:
        return diags, links, {}
    display = unit.quiz_source or unit.source
    parsed = []
    starts: dict[str, int] | None = None
    for text in _quiz_texts(unit.quiz):
        env: dict[str, Any] = {}
        tokens = parser().parseInline(text, env)
        parsed.append((text, tokens, env))
        for tok in tokens:
            for code, message, needle in inline_problems(tok.children or []):
                if starts is None:
                    starts = text_lines(root, unit.quiz_file)
                line = _line_in(text, needle, starts) or _line_of(root, unit.quiz_file, needle)
                diags.append(Diagnostic(display, line, 1, code, message))
            for child in tok.children or []:
                if child.meta.get("unsafe_url"):
                    continue
                if child.type != "link_open":
                    continue
                href = str(child.attrs.get("href", ""))
                if href in rendered.inline_links:
                    continue
                line = _line_of(root, unit.quiz_file, href)
                new, err = resolve(href)
                if err:
                    diags.append(
                        Diagnostic(display, line, 1, getattr(err, "code", "E322"), str(err))
                    )
                    continue
                rendered.inline_links[href] = new if new is not None else href
                links.append((href, line))
    # The links are all known now: each text as md_inline would render it at page time.
    html = {
        text: str(_inline_html(tokens, env, rendered.inline_links)) for text, tokens, env in parsed
    }
    return diags, links, html


def _check_fragments(
    course: Course,
    unit: Unit,
    links: list[tuple[str, int]],
    display: str,
    rendered: dict[str, RenderedMarkdown],
    by_file: dict[str, str] | None = None,
) -> list[Diagnostic]:
    """Links to `#heading` or `unit.md#heading` must name an anchor that exists."""
    diags = []
    for href, line in links:
        target = _link_target(course, unit, href, by_file)
        if target is None or target[0] not in rendered:
            continue
        uid, frag = target
        anchors = rendered[uid].anchors
        if frag in anchors:
            continue
        close = difflib.get_close_matches(frag, sorted(anchors), n=1)
        diags.append(
            Diagnostic(
                display,
                line,
                1,
                "E322",
                f"link target '{href}' not found: unit '{uid}' has no heading or anchor '{frag}'",
                hint=f"did you mean '#{close[0]}'?"
                if close
                else "link to a heading's slug (lower case, hyphens) or an {#id}",
            )
        )
    return diags


#: One unit's rendering as a cache keeps it: its Markdown, its quiz text's problems and links,
#: the media files it names, and its quiz texts as inline HTML.
CachedUnit = tuple[
    RenderedMarkdown,
    list[Diagnostic],
    list[tuple[str, int]],
    dict[str, MediaFile],
    dict[str, str],
]


class UnitCache(Protocol):
    """Rendered units by content hash (kept by the pipeline): render only asks and tells."""

    def get(self, unit: Unit, audience: Audience, mode: Mode) -> CachedUnit | None:
        """The unit's earlier rendering, if nothing it depends on has changed."""

    def put(self, unit: Unit, audience: Audience, mode: Mode, value: CachedUnit) -> None:
        """Remember a unit's rendering."""


def _unit_renderer(
    course: Course, root: Path, audience: Audience, mode: Mode
) -> Callable[[Unit], CachedUnit]:
    """A function that renders one unit of `course` (its Markdown, then its quiz's links)."""
    labels = catalogue(course.language)
    datasets = {d.id: d for d in course.datasets}
    by_file = _files_of(course)

    def chart(dataset_id: str, prefix: str) -> str | None:
        from builder.charts import chart_html  # lxml: only for a course with charts

        ds = datasets.get(dataset_id)
        return chart_html(ds, prefix) if ds is not None else None

    def render(unit: Unit) -> CachedUnit:
        unit_media: dict[str, MediaFile] = {}
        resolve, figure = _resolver(course, unit.file, unit.id, mode, root, unit_media, by_file)

        def player(src: str, title: str) -> tuple[str, list[tuple[str, str]]]:
            html, files, problems = media_player(root, src, title, course.language)
            for rel in files:  # captions and poster travel with the media file
                unit_media.setdefault(rel, MediaFile(rel, root / rel))
            return html, problems

        rendered = render_markdown(
            unit.body,
            doc_id=unit.id,
            display=unit.source,
            first_line=unit.body_line,  # token lines count from 0
            audience=audience,
            labels=labels,
            resolve_link=resolve,
            figure_image=figure,
            chart=chart,
            media_player=player,
        )
        quiz_diags, links, quiz_html = _check_quiz_links(course, unit, resolve, rendered, root)
        return rendered, quiz_diags, links, unit_media, quiz_html

    return render


def pack_unit(value: CachedUnit) -> bytes:
    """A unit's rendering as bytes (for the build cache): JSON, a line break, then its HTML as
    UTF-8 (most of the bytes, read back faster as text than as a JSON string, and JSON written
    compactly holds no line break); `unpack_unit` reads it back."""
    rendered, quiz_diags, links, media, quiz_html = value
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(RenderedMarkdown):
        item = getattr(rendered, f.name)
        if f.name == "html":
            continue
        if f.name == "diagnostics":
            item = [dataclasses.astuple(d) for d in item]
        elif isinstance(item, set | frozenset):
            item = sorted(item)
        fields[f.name] = item
    plain = {
        "rendered": fields,
        "quiz_diagnostics": [dataclasses.astuple(d) for d in quiz_diags],
        "links": links,
        "media": {rel: [m.path, str(m.source)] for rel, m in media.items()},
        "quiz_html": quiz_html,
    }
    head = json.dumps(plain, separators=(",", ":")).encode()
    return head + b"\n" + rendered.html.encode()


def unpack_unit(blob: bytes) -> CachedUnit | None:
    """The rendering `pack_unit` packed, or None if `blob` is not one.

    JSON gives lists for tuples and sets: each field takes back the type of its default
    (tests/unit/test_cache.py round-trips a rendering with every field filled in).
    """
    try:
        head, newline, html = blob.partition(b"\n")
        if not newline:
            return None
        plain = json.loads(head)
        fields = plain["rendered"] | {"html": html.decode()}
        kw: dict[str, Any] = {}
        for f in dataclasses.fields(RenderedMarkdown):
            item = fields[f.name]
            empty = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
            if f.name == "diagnostics":
                item = [Diagnostic(*d) for d in item]
            elif isinstance(empty, set):
                item = set(item)
            elif isinstance(empty, list):
                item = [tuple(x) if isinstance(x, list) else x for x in item]
            kw[f.name] = item
        if len(fields) != len(kw):
            return None
        media = {
            rel: MediaFile(path, Path(source)) for rel, (path, source) in plain["media"].items()
        }
        return (
            RenderedMarkdown(**kw),
            [Diagnostic(*d) for d in plain["quiz_diagnostics"]],
            [(href, line) for href, line in plain["links"]],
            media,
            dict(plain["quiz_html"]),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def render_unit_set(
    course: Course, root: Path, audience: Audience, mode: Mode, units: Iterable[Unit]
) -> dict[str, CachedUnit]:
    """Render some units of a course, each on its own (a share of `render_units`' work)."""
    render = _unit_renderer(course, root, audience, mode)
    return {unit.id: render(unit) for unit in units}


def render_units(
    course: Course,
    root: Path,
    audience: Audience,
    mode: Mode,
    cache: UnitCache | None = None,
) -> RenderedCourse:
    """Render every unit's Markdown once; raise BuildFailed with every Markdown problem.

    Units `cache` knows are not rendered again.
    """
    out = RenderedCourse(course=course, root=root, audience=audience)
    diags: list[Diagnostic] = []
    quiz_links: dict[str, list[tuple[str, int]]] = {}
    by_file = _files_of(course)
    render: Callable[[Unit], CachedUnit] | None = None
    for unit in course.units:
        hit = cache.get(unit, audience, mode) if cache is not None else None
        if hit is None:
            render = render or _unit_renderer(course, root, audience, mode)
            hit = render(unit)
            if cache is not None:
                cache.put(unit, audience, mode, hit)
        rendered, quiz_diags, quiz_links[unit.id], unit_media, out.quiz_html[unit.id] = hit
        for rel, media_file in unit_media.items():
            out.media.setdefault(rel, media_file)
        diags += rendered.diagnostics
        out.units[unit.id] = rendered
        diags += quiz_diags
    question_ids = {q.id for u in course.units if u.quiz for q in u.quiz.questions}
    for unit in course.units:
        rendered = out.units[unit.id]
        diags += _check_fragments(course, unit, rendered.links, unit.source, out.units, by_file)
        diags += _check_fragments(
            course, unit, quiz_links[unit.id], unit.quiz_source or unit.source, out.units, by_file
        )
        for qid, line in rendered.reveals:
            if qid not in question_ids:
                close = difflib.get_close_matches(qid, sorted(question_ids), n=1)
                diags.append(
                    Diagnostic(
                        unit.source,
                        line,
                        1,
                        "E324",
                        f"'::: reveal {qid}' names a question that does not exist",
                        hint=f"did you mean '{close[0]}'?" if close else None,
                    )
                )
    if course.theme is not None and course.theme.logo is not None:
        logo = course.theme.logo  # checked by validate: an image in media/
        out.media.setdefault(logo, MediaFile(logo, root / logo))
    if course.introduction:
        resolve, figure = _resolver(course, None, "home", mode, root, out.media)
        out.intro = render_markdown(
            course.introduction,
            doc_id="home",
            display=course.source,
            first_line=course.introduction_line,
            audience=audience,
            labels=catalogue(course.language),
            resolve_link=resolve,
            figure_image=figure,
        )
        diags += out.intro.diagnostics
    diags += media_diagnostics(out)
    if any(d.severity == "error" for d in diags):
        raise BuildFailed(diags)
    out.warnings = sorted(d for d in diags if d.severity == "warning")
    return out


def media_diagnostics(rendered: RenderedCourse) -> list[Diagnostic]:
    """Media that cannot be packaged: not a regular file inside the course, too large, active
    content (see sources.active_content), or a name that differs from another only in case."""
    where: dict[str, tuple[str, int]] = {}
    for unit in rendered.course.units:
        for rel, line in rendered.units[unit.id].media_lines.items():
            where.setdefault(rel, (unit.source, line))
    if rendered.intro is not None:
        for rel, line in rendered.intro.media_lines.items():
            where.setdefault(rel, (rendered.course.source, line))
    out = []
    folded: dict[str, str] = {}
    allow = rendered.course.allow_active_media
    for rel in sorted(rendered.media):
        path, line = where.get(rel, (rendered.course.source, 1))
        problem = media_problem(rendered.root, rel)
        if problem is None:
            why = active_content(rendered.root, rel, allow)
            if why is not None:
                problem = (
                    "E355",
                    f"{why}; set 'allow_active_media: true' in course.yaml only if you trust it",
                )
        if problem is None and rel.lower() in folded:
            problem = (
                "E331",
                f"media files '{folded[rel.lower()]}' and '{rel}' differ only in upper and lower "
                "case: one would replace the other on Windows and macOS",
            )
        folded.setdefault(rel.lower(), rel)
        if problem is not None:
            out.append(Diagnostic(path, line, 1, *problem))
    return out


def quiz_data(quiz: Quiz) -> dict[str, Any]:
    """What the runtime needs to score a quiz and report its interactions."""
    questions = []
    for q in quiz.questions:
        item: dict[str, Any] = {"id": q.id, "type": q.type, "points": q.points}
        if q.type in ("single-choice", "multiple-response"):
            item["options"] = [o.id for o in q.options]
            item["correct"] = [o.id for o in q.options if o.correct]
        elif q.type == "true-false":
            item["correct"] = q.answer
        elif q.type == "matching":
            item["prompts"] = [p.id for p in q.prompts]
            item["targets"] = [o.id for o in q.options]
            item["correct"] = {p.id: p.answer for p in q.prompts}
        elif q.type == "fill-in":
            item["correct"] = list(q.answers)
            item["caseSensitive"] = q.case_sensitive
            item["maxLength"] = fill_in_max_length(q)
        elif q.type == "sequencing":
            item["options"] = [s.id for s in q.steps]
            item["correct"] = [s.id for s in q.steps]
        elif q.type == "likert":
            item["options"] = [s.id for s in q.scale]
        elif q.type == "reflection":
            item["maxLength"] = q.max_length
        ids = [*item.get("options", ()), *item.get("prompts", ()), *item.get("targets", ())]
        if any(response_id(i) != i for i in ids):
            # SCORM 2004 reports answers with these: ids Moodle accepts (validate.py, E314).
            item["lmsIds"] = {i: response_id(i) for i in ids}
        questions.append(item)
    return {
        "id": quiz.id,
        "passMark": quiz.pass_mark,
        "attempts": quiz.attempts,
        "scoring": quiz.scoring,
        "draw": quiz.draw,
        "shuffle": quiz.shuffle,
        "feedback": quiz.feedback,
        "maxPoints": quiz.max_points,
        "questions": questions,
    }


def course_data(course: Course, mode: Mode, unit: Unit | None = None) -> dict[str, Any]:
    """The JSON the runtime reads from the page: units, quizzes and how to report.

    The same for both SCORM versions (the version is in PACKAGE_SCRIPT), so that a page is too.
    """
    units = [unit] if unit is not None else list(course.units)
    return {
        "id": course.id,
        "version": course.version,
        "mode": mode,
        "reporting": {
            "status": course.reporting.status,
            "passMark": course.reporting.pass_mark,
            "assessment": course.reporting.assessment,
        },
        "units": [
            {
                "id": u.id,
                "title": u.title,
                "kind": u.kind,
                "quiz": quiz_data(u.quiz) if u.quiz else None,
            }
            for u in units
        ],
    }


def json_script(value: Any) -> Markup:
    """JSON for a `<script type="application/json">` block: deterministic, unable to close it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # "</script>" or "<!--" inside the block would end or change it; \u escapes are inert.
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def package_script(course: Course, target: Target) -> bytes:
    """PACKAGE_SCRIPT: what every page of one package shares, its SCORM version and the
    interface strings, given once to the runtime (`window.scormBuilderPackage`) instead of on
    every page, so that a page is the same in both versions' packages."""
    strings = catalogue(course.language)
    value = {
        "scorm": "1.2" if target == "scorm12" else "2004",
        "strings": {key: strings[key] for key in UI_STRINGS},
    }
    # Escaped as in a page, and so are the line separators older JavaScript took for line ends.
    text = str(json_script(value)).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.scormBuilderPackage = {text};\n".encode()


def _page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


PAGE_TEMPLATE = "course.html.j2"


@dataclass(frozen=True)
class PageSpec:
    """One HTML page of a package: the home page (or whole course), or one unit's SCO page."""

    path: str
    unit: Unit | None = None


class PageContext:
    """What the pages of one rendering are made from, prepared once for every page and target.

    Pages are given the units without their Markdown source (`view`: templates show rendered
    HTML), and a one-unit page only that unit's HTML, so what a page shows is the course without
    its Markdown plus the renderings of the units on it (what the pipeline's page keys hash).
    """

    def __init__(self, rendered: RenderedCourse, mode: Mode) -> None:
        self.rendered = rendered
        self.mode = mode
        course = rendered.course
        self.course = course
        self.view = course.model_copy(
            update={"units": tuple(u.model_copy(update={"body": ""}) for u in course.units)}
        )
        self.common = {
            "course": self.view,
            "t": catalogue(course.language),
            "intro": rendered.intro,
            "assets": ASSET_DIR,
            "generator": f"scorm-builder {__version__}",
            # The package's own data first: `defer` runs the scripts in this order.
            "runtime_files": (PACKAGE_SCRIPT, *RUNTIME_FILES),
            "mode": mode,
            "home_page": True,
            # Computed once: a template that maps course.units on every page is O(units²).
            "unit_ids": [u.id for u in course.units],
        }

    def specs(self) -> list[PageSpec]:
        """Every page, in package order: index.html first, then one page per unit (multi)."""
        pages = [PageSpec("index.html")]
        if self.mode == "multi":
            pages += [PageSpec(f"{u.id}.html", u) for u in self.view.units]
        return pages

    def _context(self, spec: PageSpec) -> dict[str, Any]:
        units, quiz = self.rendered.units, self.rendered.quiz_html
        if self.mode == "single":
            return self.common | {"units": self.view.units, "html": units, "quiz_html": quiz}
        if spec.unit is None:
            return self.common | {"units": (), "html": {}, "quiz_html": {}}
        uid = spec.unit.id
        return self.common | {
            "units": (spec.unit,),
            "html": {uid: units[uid]},
            "quiz_html": {uid: quiz.get(uid, {})},
            "home_page": False,
        }

    def _data(self, spec: PageSpec) -> str:
        course, mode = self.course, self.mode
        if mode == "single":
            value = course_data(course, mode)
        elif spec.unit is None:
            value = course_data(course, mode, None) | {"units": []}
        else:
            value = course_data(course, mode, spec.unit)
        return str(json_script(value))

    def render(self, spec: PageSpec) -> bytes:
        """The page's bytes, the same in both SCORM versions' packages (the version is in
        PACKAGE_SCRIPT); BuildFailed if two of its elements share an id."""
        data = Markup(self._data(spec))
        html = _page(PAGE_TEMPLATE, data=data, **self._context(spec))
        check_ids(spec.path, html, self.course)
        return html.encode()


#: An id attribute as the templates and the Markdown renderer write it (text and attribute
#: values are escaped, so `id="` inside them never matches).
_ID_ATTR = re.compile(r'\sid="([^"]*)"')


def check_ids(page: str, html: str, course: Course) -> None:
    """Raise BuildFailed if two elements of a page have the same id: links, labels and the
    runtime would find the first only. Reported against the unit whose id the id begins with."""
    seen: set[str] = set()
    repeated: list[str] = []
    for ident in _ID_ATTR.findall(html):
        if ident in seen and ident not in repeated:
            repeated.append(ident)
        seen.add(ident)
    if not repeated:
        return
    first = repeated[0]
    owner = max(
        (u for u in course.units if first == u.id or first.startswith(f"{u.id}-")),
        key=lambda u: len(u.id),
        default=None,
    )
    more = f" (and {len(repeated) - 1} more ids)" if len(repeated) > 1 else ""
    raise BuildFailed(
        [
            Diagnostic(
                owner.source if owner is not None else course.source,
                _repeat_line(owner, first) if owner is not None else 1,
                1,
                "E332",
                f"page '{page}' would have two elements with id '{first}'{more}",
                hint="something is shown twice on one page (a chart, a quiz), or an id equals "
                "one the builder derives from another: rename one",
            )
        ]
    )


def _repeat_line(unit: Unit, ident: str) -> int:
    """The line of a unit that makes `ident` a second time, where it can tell (a chart drawn
    again); else the unit's first line."""
    rest = ident.removeprefix(f"{unit.id}--")
    if not rest.startswith(CHART_PREFIX):
        return 1
    name = re.escape(rest[len(CHART_PREFIX) :].split("--")[0])
    opened = re.compile(rf"^ {{0,3}}:{{3,}}[ \t]*chart[ \t]+{name}[ \t]*$", re.MULTILINE)
    starts = [m.start() for m in opened.finditer(unit.body)]
    return unit.body_line + unit.body.count("\n", 0, starts[1]) if len(starts) > 1 else 1


def render_pages(rendered: RenderedCourse, mode: Mode) -> list[RenderedPage]:
    """Every HTML page of a package (of either SCORM version)."""
    context = PageContext(rendered, mode)
    return [RenderedPage(spec.path, context.render(spec)) for spec in context.specs()]


def static_files() -> list[MediaFile]:
    """Theme and runtime files every package carries, under assets/ (as `shipped` gives them)."""
    files = [
        MediaFile(f"{ASSET_DIR}/{name}", templates_dir() / "static" / name) for name in STATIC_FILES
    ]
    files += [MediaFile(f"{ASSET_DIR}/{name}", runtime_dir() / name) for name in RUNTIME_FILES]
    return files


def shipped(source: Path) -> bytes:
    """A script or stylesheet of the builder as it is shipped: without its comments and spare
    white space (`/*! ... */` comments kept), made once per process and file version.

    The files stay readable in the builder; each of Module 7's packages is 8 kB smaller for it
    (bench/RESULTS.md, slow networks).
    """
    stat = source.stat()
    return _minified(source, stat.st_mtime_ns, stat.st_size)


@cache
def _minified(source: Path, _mtime_ns: int, _size: int) -> bytes:
    text = source.read_text(encoding="utf-8")
    return minify(text, source.suffix).encode()


def minify(text: str, suffix: str) -> str:
    """JavaScript (`.js`) or CSS (`.css`) without comments and spare white space, the same
    text giving the same result on every run; `/*! ... */` comments are kept."""
    if suffix == ".js":
        import rjsmin  # imported on first use: only builds that write a package need it

        return str(rjsmin.jsmin(text, keep_bang_comments=True))
    if suffix == ".css":
        import rcssmin

        return str(rcssmin.cssmin(text, keep_bang_comments=True))
    raise ValueError(f"cannot minify '{suffix}' files")
