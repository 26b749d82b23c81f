"""build() and validate(): the stage chain, nothing else.

sources -> validate -> render -> manifest -> package. Markdown is parsed once, in the render
stage, so `validate` runs render too (in memory) to report Markdown problems; it writes nothing.
A build of a large course keeps what each stage made in `<out>/.cache/` (builder/cache.py), so
that a rebuild redoes only what changed, and shares the rendering with a second process.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from builder.errors import BuildFailed, Diagnostic
from builder.markdown import Audience
from builder.model import Course, Unit
from builder.package import (
    MANIFEST,
    METADATA12,
    Deflated,
    Entry,
    entry_name_problem,
    write_bytes_atomic,
    write_package,
)
from builder.render import (
    ASSET_DIR,
    CachedUnit,
    Mode,
    PageContext,
    PageSpec,
    RenderedCourse,
    Target,
    pack_unit,
    render_pages,
    render_unit_set,
    render_units,
    static_files,
    unpack_unit,
)
from builder.sources import ParseCache, SourceFile, SourceTree, load_sources, load_yaml_file
from builder.theme import STYLESHEET as THEME_STYLESHEET
from builder.theme import theme_css
from builder.validate import CourseInvalid, validate_course

if TYPE_CHECKING:
    from builder.cache import BuildCache, RenderCache

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
    language: str | None = None
    """Build the edition in this language from `translations/<language>.xlf` (builder/translate.py)
    instead of the course as written."""
    cache: bool | None = None
    """Reuse what earlier builds made (parsed files, rendered units, pages) from
    `<out_dir>/.cache/` (safe to delete at any time). None: only for a course large enough to
    gain from it (unit files of CACHE_MIN_CHARS bytes or more)."""


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
    course, warnings, _, _ = _load(course_dir, display_root, strict)
    return course, warnings


def _load(
    course_dir: Path, display_root: str | None, strict: bool, cache: ParseCache | None = None
) -> tuple[Course, list[Diagnostic], dict[str, bytes], bytes]:
    """load_course, with a parse cache; and the digests of the unit and quiz files read, and
    a hash standing for the course without its units' Markdown (SourceTree.metadata_key)."""
    tree = load_sources(course_dir, display_root, cache)
    data = _load_data(tree, cache)
    try:
        course, warnings = validate_course(tree, data)
    except CourseInvalid as exc:
        raise BuildFailed(exc.diagnostics + _markdown_problems(exc.standin, course_dir)) from None
    if strict and warnings:
        raise BuildFailed(warnings)
    return course, warnings, tree.digests, tree.metadata_key(data)


def _markdown_problems(standin: Course, course_dir: Path) -> list[Diagnostic]:
    """The Markdown problems of the units of a course that has other errors: an error in
    course.yaml must not hide the errors in the units until the next run."""
    if not standin.units:
        return []
    try:
        render_audiences(standin, course_dir, "single")
    except BuildFailed as exc:
        # Links, reveals and charts that name another unit, question or data set may only be
        # broken because that one is: left to the next run.
        return [d for d in exc.diagnostics if d.code not in _CROSS_REFERENCES]
    return []


#: Diagnostic codes of Markdown that refers to something defined elsewhere in the course.
_CROSS_REFERENCES = frozenset(("E322", "E324", "E325"))


def _load_cached(
    course_dir: Path, display_root: str | None, strict: bool, cache: BuildCache
) -> tuple[Course, list[Diagnostic], dict[str, bytes], bytes, Course | None, Callable[[], None]]:
    """_load, without parsing or validating again a course an earlier build validated; the
    course without its Markdown if the cache gave it; and a function that keeps this build's
    course in the cache (call it once the build is over).

    What validation makes of a course depends on its files' YAML (front matter included), their
    names, and of the units' Markdown only on which data sets it charts (W303): if all of that
    is as an earlier successful build found it, its course (kept as JSON, without the units'
    Markdown) and warnings are the same, and only the bodies are read anew.
    """
    from builder.cache import course_entry, course_from, digest

    key = ""
    if cache.courses.holds_any():  # else a first build: nothing to recognise, nothing to scan
        scan = load_sources(course_dir, display_root, parse=False)
        data = _load_data(scan, parse=False)
        if scan.course is not None and not (
            scan.diagnostics or scan.unit_errors or scan.quiz_errors
        ):
            key = digest("course", scan.metadata_key(data))
            blob = cache.courses.get_raw(key)
            hit = course_from(blob, scan) if blob is not None else None
            if hit is not None:
                course, view, warnings = hit
                if strict and warnings:
                    raise BuildFailed(warnings)
                return course, warnings, scan.digests, scan.metadata_key(data), view, lambda: None
    course, warnings, digests, course_key = _load(course_dir, display_root, False, cache.sources)
    if not key:
        key = digest("course", course_key)
    if strict and warnings:
        raise BuildFailed(warnings)
    # A large course's JSON and its check take a tenth of a second: on the other core.
    later = _start(lambda: course_entry(course, warnings)) if _parallel(course) else None

    def keep() -> None:
        blob = later() if later is not None else course_entry(course, warnings)
        if blob is not None:
            cache.courses.put_raw(key, blob)

    return course, warnings, digests, course_key, None, keep


def _load_data(
    tree: SourceTree, cache: ParseCache | None = None, parse: bool = True
) -> list[SourceFile]:
    """The data sets in `data/*.yaml` (charts); their read errors join the tree's diagnostics."""
    # Belongs in sources.load_sources (SourceTree.data); kept here until that module is free.
    files = []
    base = tree.root / "data"
    for path in sorted(base.glob("*.yaml")) if base.is_dir() else []:
        rel = path.relative_to(tree.root).as_posix()
        source, diags = load_yaml_file(path, rel, tree.display(rel), cache, parse)
        tree.diagnostics += diags
        if source is not None:
            files.append(source)
    return files


#: Markdown (characters) from which rendering and packaging share their work with a second
#: process. Below it the second process gains nothing: it starts in a few milliseconds, but
#: then runs a third slower than the first, copying every page of memory it touches (Module
#: 7, 64,000 characters: 34 ms on two cores against 36 ms on one; see bench/RESULTS.md).
PARALLEL_MIN_CHARS = 300_000

#: Size of the unit files (bytes) from which a build keeps a cache: a small course builds faster
#: than the cache loads, and its output folder stays free of it.
CACHE_MIN_CHARS = 100_000

T = TypeVar("T")
U = TypeVar("U")

#: What receiving a second process's result can raise: all mean "do it here".
_LOST = (EOFError, OSError, pickle.UnpicklingError, AttributeError, ImportError, TypeError)


def _chars(units: Sequence[Unit]) -> int:
    return sum(len(u.body) for u in units)


def _parallel(course: Course) -> bool:
    return _two_cores() and _chars(course.units) >= PARALLEL_MIN_CHARS


def _two_cores() -> bool:
    return (os.cpu_count() or 1) > 1 and hasattr(os, "fork")


def _start(work: Callable[[], T]) -> Callable[[], T]:
    """Run `work` in a forked process; the function returned waits for its result.

    Fork: the child inherits the imported builder and the course without pickling them, and
    starts in a few milliseconds. If the child fails in any way the work is done again here,
    so the outcome (result, diagnostics or traceback) is always what a serial build would give.
    Call the function returned even when the parent's own work fails: it reaps the child.
    """
    receive, send = os.pipe()
    sys.stdout.flush()  # else the child inherits, and later repeats, unwritten output
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: its result down the pipe, then out without any clean-up
        status = 1
        try:
            os.close(receive)
            data = pickle.dumps(work(), pickle.HIGHEST_PROTOCOL)
            with open(send, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(send)

    def result() -> T:
        try:
            with open(receive, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(pid, 0)
            if status == 0 and data:
                value: T = pickle.loads(data)
                return value
        except _LOST:
            pass
        return work()

    return result


def _side_by_side(here: Callable[[], T], there: Callable[[], U]) -> tuple[T, U]:
    """`here()` in this process while `there()` runs in a forked one; both results."""
    later = _start(there)
    try:
        mine = here()
    finally:
        theirs = later()  # even when `here` failed: the child is waited for
    return mine, theirs


def _halves(units: Sequence[T], size: Callable[[T], int]) -> tuple[list[T], list[T]]:
    """Split `units` in order into two parts of about the same total size."""
    total = sum(size(u) for u in units)
    done = 0
    for i, unit in enumerate(units):
        if done * 2 >= total:
            return list(units[:i]), list(units[i:])
        done += size(unit)
    return list(units), []


def _packed_units(
    course: Course, course_dir: Path, audience: Audience, mode: Mode, units: list[Unit]
) -> dict[str, bytes]:
    """render_unit_set, each unit packed (so the cache can keep the bytes as they are)."""
    done = render_unit_set(course, course_dir, audience, mode, units)
    return {uid: pack_unit(value) for uid, value in done.items()}


def _render_audience(
    course: Course,
    course_dir: Path,
    audience: Audience,
    mode: Mode,
    cache: RenderCache | None,
) -> tuple[RenderedCourse | None, list[Diagnostic]]:
    """One audience's rendering (or its diagnostics); a large share of new units on two cores."""
    done: dict[str, CachedUnit] = {}
    todo: list[Unit] = []
    for unit in course.units:
        hit = cache.get(unit, audience, mode) if cache is not None else None
        if hit is None:
            todo.append(unit)
        else:
            done[unit.id] = hit
    if todo and _two_cores() and len(todo) > 1 and _chars(todo) >= PARALLEL_MIN_CHARS:
        mine, theirs = _halves(todo, lambda u: len(u.body))
        rendered, received = _side_by_side(
            lambda: render_unit_set(course, course_dir, audience, mode, mine),
            lambda: _packed_units(course, course_dir, audience, mode, theirs),
        )
        for unit in theirs:
            blob = received.get(unit.id, b"")
            value = unpack_unit(blob)
            if value is None:  # cannot happen; if it did, render it here
                value = render_unit_set(course, course_dir, audience, mode, [unit])[unit.id]
                blob = pack_unit(value)
            rendered[unit.id] = value
            if cache is not None:
                cache.put_raw(unit, audience, mode, blob)
        if cache is not None:
            for unit in mine:
                cache.put(unit, audience, mode, rendered[unit.id])
        done.update(rendered)
    elif todo:
        rendered = render_unit_set(course, course_dir, audience, mode, todo)
        if cache is not None:
            for unit in todo:
                cache.put(unit, audience, mode, rendered[unit.id])
        done.update(rendered)
    try:
        return render_units(course, course_dir, audience, mode, done=done), []
    except BuildFailed as exc:
        return None, exc.diagnostics


def _render(
    course: Course,
    course_dir: Path,
    jobs: Sequence[tuple[Audience, Mode]],
    cache: RenderCache | None = None,
) -> list[RenderedCourse]:
    """Each (audience, mode) rendering; every Markdown problem of all of them, once."""
    outcomes = [_render_audience(course, course_dir, *job, cache) for job in jobs]
    diags: list[Diagnostic] = []
    for _done, found in outcomes:
        diags += [d for d in found if d not in diags]
    if diags:
        raise BuildFailed(diags)
    return [done for done, _found in outcomes if done is not None]


#: The facilitator's edition is one page: its links never cross SCOs.
FACILITATOR_JOB: tuple[Audience, Mode] = ("facilitator", "single")


def render_audiences(
    course: Course, course_dir: Path, mode: Mode, cache: RenderCache | None = None
) -> tuple[RenderedCourse, RenderedCourse]:
    """The learner's and the facilitator's rendering; every Markdown problem of both, once."""
    learner, facilitator = _render(course, course_dir, [("learner", mode), FACILITATOR_JOB], cache)
    return learner, facilitator


def validate(
    course_dir: Path,
    display_root: str | None = None,
    strict: bool = False,
    language: str | None = None,
) -> tuple[Course, list[Diagnostic]]:
    """Every problem of a course, the facilitator's material included, without writing anything;
    with `language`, of that edition (its translation file included)."""
    with _no_cyclic_gc():
        course, warnings = load_course(course_dir, display_root, strict)
        if language is not None:
            course, warnings = translate_step(course, warnings, course_dir, language, display_root)
            if strict and warnings:
                raise BuildFailed(warnings)
        rendered, guide = render_audiences(course, course_dir, course.packaging)
        _check_media(rendered)
    return course, _with_render_warnings(warnings, [rendered, guide], strict)


def _with_render_warnings(
    warnings: list[Diagnostic], rendered: Sequence[RenderedCourse], strict: bool
) -> list[Diagnostic]:
    """`warnings` and those the renderings found, once each; raise them if `strict`."""
    found = [w for r in rendered for w in r.warnings]
    found = [w for i, w in enumerate(found) if w not in found[:i] and w not in warnings]
    if strict and found:
        raise BuildFailed(found)
    return sorted([*warnings, *found])


def _shared_entries(
    rendered: RenderedCourse,
    target: Target,
    mode: Mode,
    cache: BuildCache | None = None,
    context: PageContext | None = None,
) -> list[Entry]:
    """Theme, runtime, media and (SCORM 1.2) metadata files of a package."""
    shared = [Entry(f.path, source=f.source) for f in static_files()]
    if rendered.course.theme is not None:
        css = theme_css(rendered.course.theme).encode()
        shared.append(Entry(f"{ASSET_DIR}/{THEME_STYLESHEET}", data=css))
    shared += [
        Entry(m.path, source=m.source)
        for m in sorted(rendered.media.values(), key=lambda m: m.path)
    ]
    if target == "scorm12":
        shared.append(Entry(METADATA12, data=_metadata12(rendered, mode, cache, context)))
    return shared


def _metadata12(
    rendered: RenderedCourse, mode: Mode, cache: BuildCache | None, context: PageContext | None
) -> bytes:
    """The SCORM 1.2 metadata file; with a cache, the one made from the same course before."""

    def build() -> bytes:
        from builder.manifest import metadata12

        # As pages see the course (without Markdown), which is what the cache key stands for.
        return metadata12(context.view if context is not None else rendered.course)

    if cache is None or context is None:
        return build()
    from builder.cache import digest

    return cache.pages(mode).get_or_make(digest("metadata12", context.meta_fingerprint()), build)


def _manifest(
    course: Course,
    target: Target,
    mode: Mode,
    shared: list[Entry],
    cache: BuildCache | None = None,
    context: PageContext | None = None,
) -> Entry:
    """imsmanifest.xml; with a cache, the one an earlier build made from the same course."""
    page_of = {"home": "index.html"} | (
        {u.id: f"{u.id}.html" for u in course.units} if mode == "multi" else {}
    )
    names = [e.name for e in shared]

    def build() -> bytes:
        from builder.manifest import PackageFiles, build_manifest

        return build_manifest(course, PackageFiles(pages=page_of, shared=names), target, mode)

    if cache is None or context is None:
        return Entry(MANIFEST, data=build())
    from builder.cache import digest, pack_deflated, unpack_deflated

    # The course as pages see it (everything but the units' Markdown), and the file lists.
    key = digest(
        "manifest",
        target,
        mode,
        context.meta_fingerprint(),
        *(f"{k}={v}" for k, v in page_of.items()),
        "\0shared",
        *names,
    )
    store = cache.pages(mode)
    blob = store.get_raw(key)
    deflated = unpack_deflated(blob) if blob is not None else None
    if deflated is None:
        from builder.package import deflate

        # Kept deflated, as the zip holds it: a large course's manifest takes a while to deflate.
        deflated = deflate(build())
        store.put_raw(key, pack_deflated(deflated))
    return Entry(MANIFEST, deflated=deflated)


def package_entries(rendered: RenderedCourse, target: Target, mode: Mode) -> list[Entry]:
    """The files of one SCORM package, its manifest included."""
    pages = render_pages(rendered, target, mode)
    entries = [Entry(p.path, data=p.content) for p in pages]
    shared = _shared_entries(rendered, target, mode)
    return [_manifest(rendered.course, target, mode, shared), *entries, *shared]


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


def _deflate_pages(
    context: PageContext, specs: Sequence[PageSpec], targets: Sequence[Target]
) -> dict[str, dict[Target, Deflated]]:
    """Render and deflate some pages for every target (a share of the work, maybe in a child)."""
    from builder.package import deflate

    done = {}
    for spec in specs:
        pages = context.render(spec, targets)
        done[spec.path] = {t: deflate(pages[t]) for t in targets}
    return done


def _pages(
    context: PageContext,
    targets: Sequence[Target],
    cache: BuildCache | None,
    render_cache: RenderCache | None = None,
) -> dict[str, dict[Target, Deflated]]:
    """Every page of the packages, deflated, by path: from the cache or rendered (on two cores
    when there are many)."""
    from builder.cache import digest, pack_page, unpack_page

    rendered, mode = context.rendered, context.mode
    specs = context.specs()
    found: dict[str, dict[Target, Deflated]] = {}
    keys: dict[str, str] = {}
    stored: dict[str, dict[Target, Deflated]] = {}
    if cache is not None:
        unit_keys = (
            {u.id: render_cache.key(u, rendered.audience, mode) for u in rendered.course.units}
            if render_cache is not None
            else None
        )
        for spec in specs:
            keys[spec.path] = key = digest("page", context.fingerprint(spec, unit_keys))
            blob = cache.pages(mode).get_raw(key)
            value = unpack_page(blob) if blob is not None else None
            if value is not None:
                stored[spec.path] = value
                if all(t in value for t in targets):
                    found[spec.path] = value
    todo = [spec for spec in specs if spec.path not in found]

    def size(spec: PageSpec) -> int:
        # A one-unit page costs about its unit's HTML; the home page of a multi package little.
        return len(rendered.units[spec.unit.id].html) if spec.unit is not None else 1

    if len(todo) > 1 and _two_cores() and sum(map(size, todo)) >= PARALLEL_MIN_CHARS:
        mine, theirs = _halves(todo, size)
        made, made_there = _side_by_side(
            lambda: _deflate_pages(context, mine, targets),
            lambda: _deflate_pages(context, theirs, targets),
        )
        made |= made_there
    else:
        made = _deflate_pages(context, todo, targets)
    found |= made
    if cache is not None:
        # What was found is kept already; what was made joins what was stored for other targets.
        for path, page in made.items():
            cache.pages(mode).put_raw(keys[path], pack_page(stored.get(path, {}) | page))
    return {spec.path: found[spec.path] for spec in specs}


def _write_packages(
    rendered: RenderedCourse,
    targets: Sequence[Target],
    mode: Mode,
    settings: BuildSettings,
    step: Callable[[str], None],
    cache: BuildCache | None,
    render_cache: RenderCache | None = None,
    course_key: bytes | None = None,
    view: Course | None = None,
) -> list[Output]:
    """Each target's pages, manifest and zip; pages rendered once for every target."""
    course = rendered.course
    outs = {t: settings.out_dir / f"{course.id}-{t}.zip" for t in targets}
    ts = settings.timestamp
    context = PageContext(rendered, mode, course_key, view)
    if cache is None and not _parallel(course):
        # A small course: pages go to zipfile as they are (nothing to keep, nothing to share).
        pages = {spec.path: context.render(spec, targets) for spec in context.specs()}
        sizes = {}
        for target in targets:
            step(f"packaging {target}")
            entries = [Entry(path, data=content[target]) for path, content in pages.items()]
            shared = _shared_entries(rendered, target, mode, None, context)
            manifest = _manifest(context.view, target, mode, shared)
            sizes[target] = write_package([manifest, *entries, *shared], outs[target], ts)
        return [Output(t, outs[t], sizes[t]) for t in targets]
    deflated = _pages(context, targets, cache, render_cache)
    packages = {}
    for target in targets:
        shared = _shared_entries(rendered, target, mode, cache, context)
        manifest = _manifest(context.view, target, mode, shared, cache, context)
        entries = [Entry(path, deflated=page[target]) for path, page in deflated.items()]
        packages[target] = [manifest, *entries, *shared]
    # One after the other: with every page deflated already, a zip takes a few hundredths of
    # a second, less than starting a second process to write one.
    sizes = {}
    for target in targets:
        step(f"packaging {target}")
        sizes[target] = write_package(packages[target], outs[target], ts)
    return [Output(t, outs[t], sizes[t]) for t in targets]


def _wants_cache(settings: BuildSettings) -> bool:
    """settings.cache, or (None) whether the unit files are large enough to gain from one."""
    if settings.cache is not None:
        return settings.cache
    # Decided before reading, so that reading can use the cache too: bytes on disk.
    units = settings.course_dir / "units"
    total = 0
    for folder, _dirs, files in os.walk(units):
        for name in files:
            if name.endswith(".md"):
                with contextlib.suppress(OSError):
                    total += os.stat(os.path.join(folder, name)).st_size
    return total >= CACHE_MIN_CHARS


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cycle collector, then restore it as it was; and skip it at exit.

    A build allocates millions of small objects (tokens, models, strings) that live until it
    ends and form no cycles worth collecting; the collector would scan them again and again
    (a tenth of a large build's time). Reference counting still frees everything as usual.
    """
    atexit.unregister(_leave_to_the_os)  # once, however many builds a process runs
    atexit.register(_leave_to_the_os)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                # What the build left alive is all still "young": the first collection after
                # enabling would scan it all. Freezing and unfreezing moves it to the oldest
                # generation unscanned (only when nothing else is frozen, to undo no one's freeze).
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _leave_to_the_os() -> None:
    """At interpreter exit: no last cycle collection over everything still loaded.

    Python's shutdown collects every cycle of every module it unloads (the builder's libraries
    hold tens of thousands of objects), a few hundredths of a second that only return memory
    to a process that is ending. Only run at exit (atexit), so a long-lived process that builds
    (the preview server, tests) keeps collecting as usual.
    """
    gc.freeze()


def translate_step(
    course: Course,
    warnings: list[Diagnostic],
    course_dir: Path,
    language: str,
    display_root: str | None,
) -> tuple[Course, list[Diagnostic]]:
    """The course in `language` (between validate and render); every warning so far and its own."""
    from builder.translate import translate_course

    translated, found = translate_course(course, course_dir, language, display_root)
    return translated, warnings + found


def build(settings: BuildSettings, progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build every requested target into settings.out_dir; `progress` hears each step's name."""
    with _no_cyclic_gc():
        return _build(settings, progress)


def _build(settings: BuildSettings, progress: Callable[[str], None] | None) -> BuildResult:
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    step("reading the course")
    # A language edition is built without the cache: its keys stand for the course as written.
    if settings.language is not None or not _wants_cache(settings):
        course, warnings, digests, course_key = _load(
            settings.course_dir, settings.display_root, settings.strict
        )
        if settings.language is not None:
            course, warnings = translate_step(
                course, warnings, settings.course_dir, settings.language, settings.display_root
            )
            if settings.strict and warnings:
                raise BuildFailed(warnings)
            course_key = hashlib.sha256(course.model_dump_json().encode()).digest()
        result = _outputs(settings, step, course, warnings, digests, course_key, None, None)
    else:
        from builder.cache import CACHE_DIR, BuildCache

        cache = BuildCache(settings.out_dir / CACHE_DIR)
        course, warnings, digests, course_key, view, keep_course = _load_cached(
            settings.course_dir, settings.display_root, settings.strict, cache
        )
        try:
            result = _outputs(settings, step, course, warnings, digests, course_key, view, cache)
        finally:
            keep_course()  # also waits for its second process when the build failed
        cache.save()
    result.seconds = time.perf_counter() - started
    return result


def _outputs(
    settings: BuildSettings,
    step: Callable[[str], None],
    course: Course,
    warnings: list[Diagnostic],
    digests: dict[str, bytes],
    course_key: bytes,
    view: Course | None,
    cache: BuildCache | None,
) -> BuildResult:
    """Every requested target of a course that loaded without errors (`view`: the course
    without its units' Markdown, if at hand)."""
    result = BuildResult(course=course, warnings=warnings)
    mode = settings.mode or course.packaging
    scorm = [t for t in settings.targets if t in SCORM_TARGETS]
    guide = None
    if scorm or FACILITATOR_TARGET in settings.targets:
        step("rendering")
        render_cache = None
        if cache is not None:
            from builder.cache import RenderCache

            render_cache = RenderCache(cache, course, settings.course_dir, digests)
        # The learner's text always (a guide alone still fails on what a package would); the
        # facilitator's edition, and the problems only its material has, only when asked for.
        jobs: list[tuple[Audience, Mode]] = [("learner", mode)]
        if FACILITATOR_TARGET in settings.targets:
            jobs.append(FACILITATOR_JOB)
        done = _render(course, settings.course_dir, jobs, render_cache)
        result.warnings = _with_render_warnings(result.warnings, done, settings.strict)
        rendered = done[0]
        _check_media(rendered)
        _check_suspend_data(course, scorm, mode, cache, course_key)
        if FACILITATOR_TARGET in settings.targets:
            from builder.facilitator import render_guide

            guide = render_guide(done[1])
        if scorm:
            result.outputs += _write_packages(
                rendered, scorm, mode, settings, step, cache, render_cache, course_key, view
            )
    if guide is not None:
        step("writing the facilitator's guide")
        out = settings.out_dir / f"{course.id}-facilitator.html"
        result.outputs.append(Output(FACILITATOR_TARGET, out, write_bytes_atomic(guide, out)))
    exports = [t for t in settings.targets if t in EXPORT_TARGETS]
    if exports:
        from builder.export import SUFFIXES, export_course

        for target in exports:
            step(f"exporting {target}")
            exported = export_course(course, target)
            out = settings.out_dir / f"{course.id}{SUFFIXES[target]}"
            result.outputs.append(Output(target, out, write_bytes_atomic(exported.data, out)))
            result.warnings += [w for w in exported.warnings if w not in result.warnings]
    return result


def _check_suspend_data(
    course: Course, targets: Sequence[str], mode: Mode, cache: BuildCache | None, course_key: bytes
) -> None:
    """suspend.check_suspend_data, skipped where an earlier build passed it for the same course.

    The check reads the units and quizzes, never the Markdown, which course_key leaves out.
    """
    from builder.suspend import check_suspend_data

    def check() -> bytes:
        check_suspend_data(course, targets, mode)  # raises BuildFailed if it does not fit
        return b"fits"

    if cache is None:
        check()
        return
    from builder.cache import digest

    cache.pages(mode).get_or_make(digest("suspend data fits", course_key, mode, *targets), check)
