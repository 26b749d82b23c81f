"""Jinja2 over templates/: the course as HTML pages in memory. Writes nothing."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from builder import __version__
from builder.errors import BuildFailed, Diagnostic
from builder.i18n import catalogue
from builder.markdown import Audience, RenderedMarkdown, parser, render_markdown
from builder.model import Course, Quiz, Unit

Target = Literal["scorm12", "scorm2004"]
Mode = Literal["single", "multi"]

#: Where unit pages find shared files, relative to the package root.
ASSET_DIR = "assets"
RUNTIME_FILE = "scorm-runtime.js"
STATIC_FILES = ("theme.css",)


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
    )
    env.filters["md_inline"] = md_inline
    return env


def md_inline(text: str | None) -> Markup:
    """Render a short Markdown text (a prompt, an option, feedback) without block wrapping."""
    if not text:
        return Markup("")
    return Markup(parser().renderInline(text))


def _resolver(
    course: Course,
    unit_file: str | None,
    doc_id: str,
    mode: Mode,
    root: Path,
    media: dict[str, MediaFile],
) -> tuple[LinkResolver, ImageResolver]:
    """Link and image resolvers for one Markdown document (a unit, or the home page)."""
    by_file = {u.file: u.id for u in course.units}
    base = posixpath.dirname(unit_file) if unit_file else ""

    def locate(href: str) -> str | None:
        for start in (base, ""):
            rel = posixpath.normpath(posixpath.join(start, href))
            if rel.startswith("../") or rel == ".." or PurePosixPath(rel).is_absolute():
                continue
            if rel in by_file or (root / rel).is_file():
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
        if href.startswith("#"):
            return (f"#{doc_id}--{href[1:]}" if href[1:] else href), None
        path, _, frag = href.partition("#")
        rel = locate(path)
        if rel is None:
            return None, f"link target '{href}' not found"
        if rel in by_file:
            return unit_href(by_file[rel], frag), None
        if not rel.startswith("media/"):
            return None, f"link target '{href}' is not a unit or a file in media/"
        media.setdefault(rel, MediaFile(rel, root / rel))
        return rel, None

    def figure(src: str) -> str | None:
        rel = locate(src)
        if rel is None or not rel.startswith("media/"):
            return None
        media.setdefault(rel, MediaFile(rel, root / rel))
        return rel

    return resolve, figure


def render_units(course: Course, root: Path, audience: Audience, mode: Mode) -> RenderedCourse:
    """Render every unit's Markdown once; raise BuildFailed with every Markdown problem."""
    labels = catalogue(course.language)
    out = RenderedCourse(course=course, root=root, audience=audience)
    diags: list[Diagnostic] = []
    for unit in course.units:
        resolve, figure = _resolver(course, unit.file, unit.id, mode, root, out.media)
        rendered = render_markdown(
            unit.body,
            doc_id=unit.id,
            display=unit.source,
            first_line=unit.body_line - 1,
            audience=audience,
            labels=labels,
            resolve_link=resolve,
            figure_image=figure,
        )
        diags += rendered.diagnostics
        out.units[unit.id] = rendered
    if course.introduction:
        resolve, figure = _resolver(course, None, "home", mode, root, out.media)
        out.intro = render_markdown(
            course.introduction,
            doc_id="home",
            display="course.yaml",
            first_line=1,
            audience=audience,
            labels=labels,
            resolve_link=resolve,
            figure_image=figure,
        )
        diags += out.intro.diagnostics
    if any(d.severity == "error" for d in diags):
        raise BuildFailed(diags)
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
        elif q.type == "reflection":
            item["maxLength"] = q.max_length
        questions.append(item)
    return {
        "id": quiz.id,
        "passMark": quiz.pass_mark,
        "attempts": quiz.attempts,
        "maxPoints": quiz.max_points,
        "questions": questions,
    }


def course_data(
    course: Course, target: Target, mode: Mode, unit: Unit | None = None
) -> dict[str, Any]:
    """The JSON the runtime reads from the page: units, quizzes and how to report."""
    units = [unit] if unit is not None else list(course.units)
    return {
        "id": course.id,
        "version": course.version,
        "scorm": "1.2" if target == "scorm12" else "2004",
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


def _page(template: str, **context: Any) -> bytes:
    html = environment().get_template(template).render(**context)
    return html.encode("utf-8")


def render_pages(rendered: RenderedCourse, target: Target, mode: Mode) -> list[RenderedPage]:
    """Every HTML page of one package, plus the shared static files."""
    course = rendered.course
    t = catalogue(course.language)
    common = {
        "course": course,
        "t": t,
        "html": rendered.units,
        "intro": rendered.intro,
        "assets": ASSET_DIR,
        "generator": f"scorm-builder {__version__}",
        "mode": mode,
        "home_page": True,
    }
    pages: list[RenderedPage] = []
    if mode == "single":
        data = json.dumps(
            course_data(course, target, mode),
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        pages.append(
            RenderedPage(
                "index.html", _page("course.html.j2", units=course.units, data=data, **common)
            )
        )
    else:
        data = json.dumps(
            course_data(course, target, mode, None) | {"units": []},
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
        )
        pages.append(
            RenderedPage("index.html", _page("course.html.j2", units=(), data=data, **common))
        )
        for unit in course.units:
            data = json.dumps(
                course_data(course, target, mode, unit),
                ensure_ascii=False,
                separators=(",", ":"),
                sort_keys=True,
            )
            pages.append(
                RenderedPage(
                    f"{unit.id}.html",
                    _page(
                        "course.html.j2", units=(unit,), data=data, **common | {"home_page": False}
                    ),
                )
            )
    return pages


def static_files() -> list[MediaFile]:
    """Theme and runtime files every package carries, under assets/."""
    files = [
        MediaFile(f"{ASSET_DIR}/{name}", templates_dir() / "static" / name) for name in STATIC_FILES
    ]
    files.append(MediaFile(f"{ASSET_DIR}/{RUNTIME_FILE}", runtime_dir() / RUNTIME_FILE))
    return files
