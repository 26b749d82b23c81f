"""build() and validate(): the stage chain, nothing else.

sources -> validate -> render -> manifest -> package. Markdown is parsed once, in the render
stage, so `validate` runs render too (in memory) to report Markdown problems; it writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from builder.errors import BuildFailed, Diagnostic
from builder.manifest import METADATA12, PackageFiles, build_manifest, metadata12
from builder.model import Course
from builder.package import MANIFEST, Entry, entry_name_problem, write_package
from builder.render import (
    Mode,
    RenderedCourse,
    Target,
    render_pages,
    render_units,
    static_files,
)
from builder.sources import load_sources
from builder.validate import validate_course

TargetName = Literal["scorm12", "scorm2004"]
SCORM_TARGETS: tuple[Target, ...] = ("scorm12", "scorm2004")


@dataclass(frozen=True)
class BuildSettings:
    """Everything a build depends on besides the course files (no stage reads the environment)."""

    course_dir: Path
    out_dir: Path
    targets: Sequence[str] = SCORM_TARGETS
    mode: Mode | None = None
    timestamp: int = 315532800
    strict: bool = False
    display_root: str | None = None


@dataclass(frozen=True)
class Output:
    """One file the build wrote."""

    target: str
    path: Path
    size: int


@dataclass
class BuildResult:
    """What a build produced, and the warnings it met."""

    course: Course
    outputs: list[Output] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0


def load_course(
    course_dir: Path, display_root: str | None = None, strict: bool = False
) -> tuple[Course, list[Diagnostic]]:
    """Read and validate a course; raise BuildFailed with every error (and warning if strict)."""
    tree = load_sources(course_dir, display_root)
    course, warnings = validate_course(tree)
    if strict and warnings:
        raise BuildFailed(warnings)
    return course, warnings


def validate(
    course_dir: Path, display_root: str | None = None, strict: bool = False
) -> tuple[Course, list[Diagnostic]]:
    """Every problem of a course, without writing anything."""
    course, warnings = load_course(course_dir, display_root, strict)
    render_units(course, course_dir, "learner", course.packaging)
    return course, warnings


def package_entries(rendered: RenderedCourse, target: Target, mode: Mode) -> list[Entry]:
    """The files of one SCORM package, its manifest included."""
    course = rendered.course
    pages = render_pages(rendered, target, mode)
    entries = [Entry(p.path, data=p.content) for p in pages]
    shared = [Entry(f.path, source=f.source) for f in static_files()]
    shared += [
        Entry(m.path, source=m.source)
        for m in sorted(rendered.media.values(), key=lambda m: m.path)
    ]
    if target == "scorm12":
        shared.append(Entry(METADATA12, data=metadata12(course)))
    page_of = {"home": "index.html"} | (
        {u.id: f"{u.id}.html" for u in course.units} if mode == "multi" else {}
    )
    files = PackageFiles(pages=page_of, shared=[e.name for e in shared])
    manifest = build_manifest(course, files, target, mode)
    return [Entry(MANIFEST, data=manifest), *entries, *shared]


def _check_media(rendered: RenderedCourse) -> None:
    diags = []
    for media in rendered.media.values():
        problem = entry_name_problem(media.path)
        if problem:
            diags.append(
                Diagnostic(
                    rendered.course.units[0].source if rendered.course.units else "course.yaml",
                    1,
                    1,
                    "E330",
                    f"media file name '{media.path}' {problem}",
                )
            )
    if diags:
        raise BuildFailed(diags)


def build(settings: BuildSettings) -> BuildResult:
    """Build every requested target into settings.out_dir."""
    started = time.perf_counter()
    course, warnings = load_course(settings.course_dir, settings.display_root, settings.strict)
    result = BuildResult(course=course, warnings=warnings)
    mode = settings.mode or course.packaging
    scorm = [t for t in settings.targets if t in SCORM_TARGETS]
    if scorm:
        rendered = render_units(course, settings.course_dir, "learner", mode)
        _check_media(rendered)
        packages = [(t, package_entries(rendered, t, mode)) for t in scorm]
        for target, entries in packages:
            out = settings.out_dir / f"{course.id}-{target}.zip"
            size = write_package(entries, out, settings.timestamp)
            result.outputs.append(Output(target, out, size))
    result.seconds = time.perf_counter() - started
    return result
