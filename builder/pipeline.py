"""build() and validate(): the stage chain, nothing else.

sources -> validate -> render -> manifest -> package. Markdown is parsed once, in the render
stage, so `validate` runs render too (in memory) to report Markdown problems; it writes nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from builder.errors import BuildFailed, Diagnostic
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
from builder.sources import SourceFile, SourceTree, load_sources, load_yaml_file
from builder.validate import validate_course

if TYPE_CHECKING:
    from builder.cache import RenderCache

# Stages only `build` needs (lxml, the cache, exports) are imported there, so that `validate`
# does not pay for them.

TargetName = Literal["scorm12", "scorm2004"]
SCORM_TARGETS: tuple[Target, ...] = ("scorm12", "scorm2004")
#: The printable facilitator's edition (builder/facilitator.py).
FACILITATOR_TARGET = "facilitator"
#: Moodle question-bank files of the graded questions (builder/export.py).
EXPORT_TARGETS = ("gift", "moodle-xml")


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
    cache: bool | None = None
    """Reuse unchanged rendered units from `<out_dir>/.cache/` (safe to delete at any time).
    None: only for a course large enough to gain from it (CACHE_MIN_CHARS of Markdown)."""


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
    course, warnings = validate_course(tree, _load_data(tree))
    if strict and warnings:
        raise BuildFailed(warnings)
    return course, warnings


def _load_data(tree: SourceTree) -> list[SourceFile]:
    """The data sets in `data/*.yaml` (charts); their read errors join the tree's diagnostics."""
    # Belongs in sources.load_sources (SourceTree.data); kept here until that module is free.
    files = []
    base = tree.root / "data"
    for path in sorted(base.glob("*.yaml")) if base.is_dir() else []:
        rel = path.relative_to(tree.root).as_posix()
        source, diags = load_yaml_file(path, rel, tree.display(rel))
        tree.diagnostics += diags
        if source is not None:
            files.append(source)
    return files


#: Markdown (characters) from which rendering and packaging use a second process: below it,
#: starting one costs more than it saves (see bench/RESULTS.md).
PARALLEL_MIN_CHARS = 300_000

#: Markdown (characters) from which a build keeps a render cache: a small course renders faster
#: than the cache loads, and its output folder stays free of it.
CACHE_MIN_CHARS = 100_000

T = TypeVar("T")


def _parallel(course: Course) -> bool:
    return (os.cpu_count() or 1) > 1 and sum(
        len(u.body) for u in course.units
    ) >= PARALLEL_MIN_CHARS


def _child(send: Any, work: Callable[[], Any]) -> None:
    send.send(work())
    send.close()


def _start(work: Callable[[], T]) -> Callable[[], T]:
    """Run `work` in a forked process; the function returned waits for its result.

    Fork, not spawn: the child inherits the imported builder and the course without pickling
    them. If the child dies for any reason the work is done again here, so the outcome (result,
    diagnostics or traceback) is always what a serial build would give.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    sys.stdout.flush()  # else the child inherits, and later repeats, unwritten output
    sys.stderr.flush()
    process = context.Process(target=_child, args=(send, work), daemon=True)
    process.start()
    send.close()

    def result() -> T:
        try:
            value: T = receive.recv()
        except (EOFError, OSError):
            value = work()
        finally:
            receive.close()
            process.join()
        return value

    return result


RenderOutcome = tuple[
    tuple[dict[str, Any], Any, dict[str, Any]] | None, list[Diagnostic], dict[str, Any]
]


def _render_job(
    course: Course, course_dir: Path, audience: str, how: str, cache: RenderCache | None
) -> RenderOutcome:
    """One audience's rendering as plain parts (the course itself is not sent back)."""
    try:
        done = render_units(course, course_dir, audience, how, cache)  # type: ignore[arg-type]
        parts = (done.units, done.intro, done.media)
        diags: list[Diagnostic] = []
    except BuildFailed as exc:
        parts, diags = None, exc.diagnostics
    return parts, diags, (cache.used.get((audience, how), {}) if cache else {})


def render_audiences(
    course: Course, course_dir: Path, mode: Mode, cache: RenderCache | None = None
) -> tuple[RenderedCourse, RenderedCourse]:
    """The learner's and the facilitator's rendering; every Markdown problem of both, once."""
    # The facilitator's edition is one page: its links never cross SCOs.
    jobs = (("learner", mode), ("facilitator", "single"))
    if _parallel(course):
        # The two audiences cost the same: one each on two cores.
        second = _start(lambda: _render_job(course, course_dir, *jobs[1], cache))
        outcomes = [_render_job(course, course_dir, *jobs[0], cache), second()]
        if cache is not None:
            cache.used[jobs[1]] = outcomes[1][2]
    else:
        outcomes = [_render_job(course, course_dir, *job, cache) for job in jobs]
    diags: list[Diagnostic] = []
    for _parts, found, _used in outcomes:
        diags += [d for d in found if d not in diags]
    if diags:
        raise BuildFailed(diags)
    done = []
    for (audience, _how), (parts, _found, _used) in zip(jobs, outcomes, strict=True):
        assert parts is not None
        units, intro, media = parts
        done.append(RenderedCourse(course, course_dir, audience, units, intro, media))  # type: ignore[arg-type]
    return done[0], done[1]


def validate(
    course_dir: Path, display_root: str | None = None, strict: bool = False
) -> tuple[Course, list[Diagnostic]]:
    """Every problem of a course, without writing anything."""
    course, warnings = load_course(course_dir, display_root, strict)
    rendered, _ = render_audiences(course, course_dir, course.packaging)
    _check_media(rendered)
    return course, warnings


def package_entries(rendered: RenderedCourse, target: Target, mode: Mode) -> list[Entry]:
    """The files of one SCORM package, its manifest included."""
    from builder.manifest import METADATA12, PackageFiles, build_manifest, metadata12

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
    """Media names an LMS would mangle, reported where the text first names the file."""
    diags = []
    for media in sorted(rendered.media.values(), key=lambda m: m.path):
        problem = entry_name_problem(media.path)
        if problem:
            where = next(
                (
                    (unit.source, rendered.units[unit.id].media_lines[media.path])
                    for unit in rendered.course.units
                    if media.path in rendered.units[unit.id].media_lines
                ),
                (rendered.course.units[0].source if rendered.course.units else "course.yaml", 1),
            )
            diags.append(Diagnostic(*where, 1, "E330", f"media file name '{media.path}' {problem}"))
    if diags:
        raise BuildFailed(diags)


def _write_package(rendered: RenderedCourse, target: Target, mode: Mode, out: Path, ts: int) -> int:
    return write_package(package_entries(rendered, target, mode), out, ts)


def _write_packages(
    rendered: RenderedCourse,
    targets: Sequence[Target],
    mode: Mode,
    settings: BuildSettings,
    step: Callable[[str], None],
) -> list[Output]:
    """Each target's pages, manifest and zip; a large course's last target in a second process."""
    course = rendered.course
    outs = {t: settings.out_dir / f"{course.id}-{t}.zip" for t in targets}
    ts = settings.timestamp
    later: dict[str, Callable[[], int]] = {}
    if len(targets) > 1 and _parallel(course):
        last = targets[-1]
        later[last] = _start(lambda: _write_package(rendered, last, mode, outs[last], ts))
    sizes = {}
    for target in targets:
        step(f"packaging {target}")
        if target in later:
            sizes[target] = later[target]()
        else:
            sizes[target] = _write_package(rendered, target, mode, outs[target], ts)
    return [Output(t, outs[t], sizes[t]) for t in targets]


def build(settings: BuildSettings, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build every requested target into settings.out_dir; `progress` hears each step's name."""
    from builder.cache import CACHE_DIR, RenderCache
    from builder.export import SUFFIXES, export_course, write_atomic
    from builder.facilitator import render_guide, write_guide
    from builder.suspend import check_suspend_data

    started = time.perf_counter()
    step = progress or (lambda _name: None)
    step("reading the course")
    course, warnings = load_course(settings.course_dir, settings.display_root, settings.strict)
    result = BuildResult(course=course, warnings=warnings)
    mode = settings.mode or course.packaging
    scorm = [t for t in settings.targets if t in SCORM_TARGETS]
    guide = None
    if scorm or FACILITATOR_TARGET in settings.targets:
        step("rendering")
        # Both audiences always: a build fails on exactly what `validate` reports.
        use_cache = settings.cache
        if use_cache is None:
            use_cache = sum(len(u.body) for u in course.units) >= CACHE_MIN_CHARS
        cache = (
            RenderCache(settings.out_dir / CACHE_DIR, course, settings.course_dir)
            if use_cache
            else None
        )
        rendered, for_facilitator = render_audiences(course, settings.course_dir, mode, cache)
        _check_media(rendered)
        check_suspend_data(course, scorm, mode)
        if FACILITATOR_TARGET in settings.targets:
            guide = render_guide(for_facilitator)
        result.outputs += _write_packages(rendered, scorm, mode, settings, step)
        if cache is not None:
            cache.save()
    if guide is not None:
        step("writing the facilitator's guide")
        out = settings.out_dir / f"{course.id}-facilitator.html"
        result.outputs.append(Output(FACILITATOR_TARGET, out, write_guide(guide, out)))
    for target in (t for t in settings.targets if t in EXPORT_TARGETS):
        step(f"exporting {target}")
        exported = export_course(course, target)
        out = settings.out_dir / f"{course.id}{SUFFIXES[target]}"
        result.outputs.append(Output(target, out, write_atomic(exported.data, out)))
        result.warnings += [w for w in exported.warnings if w not in result.warnings]
    result.seconds = time.perf_counter() - started
    return result
