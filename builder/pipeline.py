"""build() and validate(): the stage chain, nothing else.

    sources -> validate -> render -> outputs (builder/outputs.py: packages, guide, exports)

Markdown is parsed once, in the render stage, so `validate` runs render too (in memory) to
report Markdown problems; it writes nothing. A build of a large course keeps what two stages
made in `<out>/.cache/` (builder/cache.py), keyed by content hashes, so that a rebuild redoes
only what changed. What each saves a rebuild of 1,000 sessions (bench/RESULTS.md):

- parsed YAML, per file (builder/sources.py): parsing 0.2 s, down to 0.05 s;
- what the checks of each unit, quiz and data file alone found (builder/validate.py):
  validating 0.17 s, down to 0.08 s (the checks across files run every time);
- rendered units: 1.7 s of Markdown, down to 0.08 s of JSON;
- finished pages, manifests and metadata, deflated as the zip holds them: 1.0 s, to 0.05 s.

A cold build of a large course renders half its units in a second process (render_missing).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from builder.errors import BuildFailed, Diagnostic
from builder.markdown import Audience
from builder.model import Course, Mode, Target, Unit
from builder.outputs import OUTPUTS, Material, Written
from builder.package import Deflated, deflate, entry_name_problem, remove_stale_temp_files
from builder.render import (
    CachedUnit,
    PageContext,
    PageSpec,
    RenderedCourse,
    pack_unit,
    render_pages,
    render_unit_set,
    render_units,
    templates_dir,
    unpack_unit,
)
from builder.sources import ParseCache, SourceFile, SourceTree, load_data, load_sources
from builder.validate import CourseInvalid, validate_course

if TYPE_CHECKING:  # the cache module is imported only when a build uses one
    from builder.cache import Cache

SCORM_TARGETS: tuple[Target, ...] = ("scorm12", "scorm2004")
#: The printable facilitator's edition (builder/facilitator.py).
FACILITATOR_TARGET = "facilitator"
#: Moodle question-bank files of the graded questions (builder/export.py).
EXPORT_TARGETS = ("gift", "moodle-xml")
#: Size of the unit files (bytes) from which a build keeps a cache: a small course builds about
#: as fast without one, and its output folder stays free of it.
CACHE_MIN_CHARS = 100_000
#: The facilitator's edition is one page: its links never cross SCOs.
FACILITATOR_MODE: Mode = "single"

Output = Written  # what BuildResult.outputs holds (the name earlier versions used)


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
    unpacked: bool = False
    """Write each SCORM package as a folder of files instead of a zip (preview)."""


@dataclass
class BuildResult:
    """What a build produced, and the warnings it met."""

    course: Course
    outputs: list[Written] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- the stages


def load_course(
    course_dir: Path,
    display_root: str | None = None,
    strict: bool = False,
    parsed: ParseCache | None = None,
) -> tuple[Course, list[Diagnostic]]:
    """Read and validate a course; raise BuildFailed with every error (and warning if strict)."""
    course, warnings, _ = _load(course_dir, display_root, strict, parsed)
    return course, warnings


def _load(
    course_dir: Path, display_root: str | None, strict: bool, parsed: ParseCache | None
) -> tuple[Course, list[Diagnostic], dict[str, bytes]]:
    """load_course, and the SHA-256 of every unit and quiz file read (by path)."""
    tree = load_sources(course_dir, display_root, parsed)
    data = _load_data(tree, parsed)
    try:
        course, warnings = validate_course(tree, data, parsed)
    except CourseInvalid as exc:
        raise BuildFailed(exc.diagnostics + _markdown_problems(exc.standin, course_dir)) from None
    if strict and warnings:
        raise BuildFailed(warnings)
    return course, warnings, tree.digests


def _markdown_problems(standin: Course, course_dir: Path) -> list[Diagnostic]:
    """The Markdown problems of the units of a course that has other errors: an error in
    course.yaml must not hide the errors in the units until the next run."""
    if not standin.units:
        return []
    try:
        render_audiences(standin, course_dir, {"learner": "single", "facilitator": "single"})
    except BuildFailed as exc:
        # Links, reveals and charts that name another unit, question or data set may only be
        # broken because that one is: left to the next run.
        return [d for d in exc.diagnostics if d.code not in _CROSS_REFERENCES]
    return []


#: Diagnostic codes of Markdown that refers to something defined elsewhere in the course.
_CROSS_REFERENCES = frozenset(("E322", "E324", "E325"))


def _load_data(tree: SourceTree, parsed: ParseCache | None = None) -> list[SourceFile]:
    """The data sets in `data/*.yaml` (charts); their read errors join the tree's diagnostics."""
    return load_data(tree, parsed)


def render_audiences(
    course: Course,
    course_dir: Path,
    modes: Mapping[Audience, Mode],
    units: _UnitStore | None = None,
) -> dict[Audience, RenderedCourse]:
    """Each audience's rendering in its mode; every Markdown problem of all of them, once."""
    done: dict[Audience, RenderedCourse] = {}
    diags: list[Diagnostic] = []
    for audience, mode in modes.items():
        if units is not None:
            units.render_missing(course, course_dir, audience, mode)
        try:
            done[audience] = render_units(course, course_dir, audience, mode, units)
        except BuildFailed as exc:
            diags += [d for d in exc.diagnostics if d not in diags]
    if diags:
        raise BuildFailed(diags)
    return done


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


def validate(
    course_dir: Path,
    display_root: str | None = None,
    strict: bool = False,
    language: str | None = None,
) -> tuple[Course, list[Diagnostic]]:
    """Every problem of a course, the facilitator's material included, without writing anything;
    with `language`, of that edition (its translation file included)."""
    course, warnings, digests = _load(course_dir, display_root, strict, None)
    if language is not None:
        course, warnings = translate_step(course, warnings, course_dir, language, display_root)
        if strict and warnings:
            raise BuildFailed(warnings)
    modes: dict[Audience, Mode] = {"learner": course.packaging, "facilitator": FACILITATOR_MODE}
    units = _UnitStore(None, course, course_dir, digests)
    rendered = render_audiences(course, course_dir, modes, units)
    _check_media(rendered["learner"])
    render_pages(rendered["learner"], course.packaging)  # one id twice: E332
    return course, _with_render_warnings(warnings, list(rendered.values()), strict)


def _with_render_warnings(
    warnings: list[Diagnostic], rendered: Sequence[RenderedCourse], strict: bool
) -> list[Diagnostic]:
    """`warnings` and those the renderings found, once each; raise them if `strict`."""
    found = [w for r in rendered for w in r.warnings]
    found = [w for i, w in enumerate(found) if w not in found[:i] and w not in warnings]
    if strict and found:
        raise BuildFailed(found)
    return sorted([*warnings, *found])


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
    with _collector_less_often():
        return _build(settings, progress)


@contextlib.contextmanager
def _collector_less_often() -> Iterator[None]:
    """Python's cycle collector run less often while a build runs: a build makes hundreds of
    thousands of objects that live until it ends, and at the default thresholds the collector
    walks them again and again. A 1,000-session rebuild: 0.49 → 0.41 s in-process, 11 % of
    `scorm-builder build`; the cold build 2–4 % faster; peak memory the same (bench/RESULTS.md).
    """
    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _build(settings: BuildSettings, progress: Callable[[str], None] | None) -> BuildResult:
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    unknown = [t for t in settings.targets if t not in OUTPUTS]
    if unknown:
        raise ValueError(f"unknown target(s): {', '.join(unknown)}")
    outputs = [OUTPUTS[t] for t in settings.targets]
    remove_stale_temp_files(settings.out_dir)
    cache = _open_cache(settings)
    try:
        step("reading the course")
        parsed = _ParsedStore(cache) if cache is not None else None
        course, warnings, digests = _load(
            settings.course_dir, settings.display_root, settings.strict, parsed
        )
        # Every later stage, and every cache key, sees only the Course it is given: the
        # translated one for a language edition.
        if settings.language is not None:
            course, warnings = translate_step(
                course, warnings, settings.course_dir, settings.language, settings.display_root
            )
            if settings.strict and warnings:
                raise BuildFailed(warnings)
        mode = settings.mode or course.packaging
        modes: dict[Audience, Mode] = {}
        for audience in sorted({a for output in outputs for a in output.needs}):
            modes[audience] = mode if audience == "learner" else FACILITATOR_MODE
        units = _UnitStore(cache, course, settings.course_dir, digests)
        renderings: dict[Audience, RenderedCourse] = {}
        if modes:
            step("rendering")
            renderings = render_audiences(course, settings.course_dir, modes, units)
            if "learner" in renderings:
                _check_media(renderings["learner"])
            rendered = list(renderings.values())
            warnings = _with_render_warnings(warnings, rendered, settings.strict)
        pages = _PageStore(cache, units)
        material = Material(course, mode, settings.timestamp, renderings, pages, settings.unpacked)
        problems = [d for output in outputs for d in output.check(material)]
        if problems:
            raise BuildFailed(problems)
        result = BuildResult(course=course, warnings=warnings)
        for output in outputs:
            step(f"writing {output.name}")
            written = output.write(material, settings.out_dir)
            result.outputs.append(written)
            result.warnings += [w for w in written.warnings if w not in result.warnings]
        if cache is not None:
            cache.save()
    finally:
        if cache is not None:
            cache.close()
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- the cache


def _open_cache(settings: BuildSettings) -> Cache | None:
    """The output folder's cache, if the build wants one and it can be used safely."""
    wanted = settings.cache
    if wanted is None:
        # Decided before reading, so that reading can use the cache too: bytes on disk.
        total = 0
        for folder, _dirs, files in os.walk(settings.course_dir / "units"):
            for name in files:
                if name.endswith(".md"):
                    try:
                        total += os.stat(os.path.join(folder, name)).st_size
                    except OSError:
                        continue
        wanted = total >= CACHE_MIN_CHARS
    if not wanted:
        return None
    from builder.cache import Cache, code_fingerprint

    return Cache.open(settings.out_dir, code_fingerprint(templates_dir()))


class _ParsedStore:
    """Parsed YAML by the hash of its text (sources.ParseCache), and what the checks of each
    file alone found (validate.check_file), as JSON. The first part of a key, up to a NUL
    character, names its kind (`yaml`, `checked`): each kind is a pack file of its own."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def get_raw(self, key: str) -> bytes | None:
        """The entry stored under `key` (sources.py's or validate.py's own key), or None."""
        from builder.cache import key as make_key

        return self.cache.get(make_key(key.split("\0", 1)[0], key))

    def put_raw(self, key: str, blob: bytes) -> None:
        """Keep an entry for the next build."""
        from builder.cache import key as make_key

        self.cache.put(make_key(key.split("\0", 1)[0], key), blob)


class _UnitStore:
    """Rendered units (render.UnitCache): those this build rendered ahead (`render_missing`),
    then the cache's, keyed by everything a unit's rendering depends on."""

    def __init__(
        self, cache: Cache | None, course: Course, course_dir: Path, digests: Mapping[str, bytes]
    ) -> None:
        self.cache = cache
        self.digests = digests
        self.context = _course_context(course, course_dir)
        self._keys: dict[tuple[Audience, Mode, str], str] = {}
        self._rests: dict[str, str] = {}
        self._ready: dict[str, CachedUnit] = {}

    def _rest(self, unit: Unit) -> str:
        """The unit's model without its body, as JSON (once per build)."""
        rest = self._rests.get(unit.id)
        if rest is None:
            # The body apart: serialising it as JSON costs twice what hashing its text does.
            rest = self._rests[unit.id] = unit.model_dump_json(exclude={"body"})
        return rest

    def view(self, course: Course) -> str:
        """A digest of the course as pages see it: without the units' Markdown (PageContext)."""
        h = hashlib.sha256(course.model_dump_json(exclude={"units"}).encode())
        for unit in course.units:
            h.update(b"\0" + self._rest(unit).encode())
        return h.hexdigest()

    def key(self, unit: Unit, audience: Audience, mode: Mode) -> str:
        """The name of a unit's rendering: its model and quiz file, the course context."""
        from builder.cache import key

        known = self._keys.get((audience, mode, unit.id))
        if known is None:
            # The quiz file's bytes too: quiz problems are placed by searching its text.
            quiz = self.digests.get(unit.quiz_file or "", b"")
            rest = self._rest(unit)
            known = key(f"unit-{audience}-{mode}", self.context, rest, unit.body, quiz)
            self._keys[(audience, mode, unit.id)] = known
        return known

    def get(self, unit: Unit, audience: Audience, mode: Mode) -> CachedUnit | None:
        """The unit's rendering, if this build made it already or an earlier build did."""
        name = self.key(unit, audience, mode)
        ready = self._ready.get(name)
        if ready is not None or self.cache is None:
            return ready
        blob = self.cache.get(name)
        found = unpack_unit(blob) if blob is not None else None
        if found is not None:  # asked again by render_units after render_missing
            self._ready[name] = found
        return found

    def put(
        self,
        unit: Unit,
        audience: Audience,
        mode: Mode,
        value: CachedUnit,
        packed: bytes | None = None,
    ) -> None:
        """Keep a unit's rendering for the rest of this build and the next one (`packed`: its
        pack_unit bytes, if at hand)."""
        name = self.key(unit, audience, mode)
        self._ready[name] = value
        if self.cache is not None:
            self.cache.put(name, packed if packed is not None else pack_unit(value))

    def render_missing(self, course: Course, root: Path, audience: Audience, mode: Mode) -> None:
        """Render the units no build has rendered yet; half of them in a second process if
        they are many (PARALLEL_MIN_CHARS)."""
        todo = [u for u in course.units if self.get(u, audience, mode) is None]
        theirs: list[Unit] = []
        mine, other = sum(len(u.body) for u in todo), 0
        if mine >= PARALLEL_MIN_CHARS:
            while todo and mine > other:  # the last half of the units, by size
                unit = todo.pop()
                theirs.insert(0, unit)
                mine, other = mine - len(unit.body), other + len(unit.body)

        def render_theirs() -> bytes:
            done = render_unit_set(course, root, audience, mode, theirs)
            return b"".join(_frame(pack_unit(done[u.id])) for u in theirs)

        later = _in_child(render_theirs) if theirs else None
        try:
            done = render_unit_set(course, root, audience, mode, todo)
        finally:
            received = later() if later is not None else None
        packed: dict[str, bytes] = {}
        for unit, blob in zip(theirs, _frames(received or b""), strict=False):
            value = unpack_unit(blob)
            if value is not None:
                done[unit.id], packed[unit.id] = value, blob
        missing = [u for u in theirs if u.id not in done]  # the second process failed
        done |= render_unit_set(course, root, audience, mode, missing)
        for unit in [*todo, *theirs]:
            self.put(unit, audience, mode, done[unit.id], packed.get(unit.id))


#: Markdown still to render (characters) from which half of it is rendered by a second process:
#: a 1,000-session course renders in 1.0 s instead of 1.9 s (bench/RESULTS.md). Below it the
#: process gains little: it starts in milliseconds, but runs slower than the first.
PARALLEL_MIN_CHARS = 300_000


def _in_child(work: Callable[[], bytes]) -> Callable[[], bytes | None] | None:
    """Run `work` in a forked process; the function returned waits for its bytes (None if the
    process failed in any way: the caller then does the work itself). None if this process
    cannot fork safely (no fork, or other threads: preview's server)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    receive, send = os.pipe()
    sys.stdout.flush()  # else the child inherits, and later repeats, unwritten output
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: its bytes down the pipe, then out without any clean-up
        status = 1
        try:
            os.close(receive)
            data = work()
            with open(send, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(send)

    def result() -> bytes | None:
        try:
            with open(receive, "rb") as pipe:
                data = pipe.read()
        finally:
            _, status = os.waitpid(pid, 0)  # always: no process is left behind
        return data if status == 0 else None

    return result


def _frame(blob: bytes) -> bytes:
    return len(blob).to_bytes(8, "little") + blob


def _frames(data: bytes) -> list[bytes]:
    blobs, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 8], "little")
        blobs.append(data[at + 8 : at + 8 + size])
        at += 8 + size
    return blobs


class _PageStore:
    """Finished files, deflated (outputs.PageStore), keyed by the course as pages see it (no
    Markdown), and for a page the keys of the units it shows: a page is made once for both
    SCORM versions' packages, and a rebuild after one edit makes that unit's page again and
    copies every other page and the manifests from the cache (if the build has one)."""

    def __init__(self, cache: Cache | None, units: _UnitStore) -> None:
        self.cache = cache
        self.units = units
        self._views: dict[int, str] = {}
        self._made: dict[str, Deflated] = {}  # by this build (a cache gives back only older)

    def _view(self, context: PageContext) -> str:
        # Once per rendering (every target's pages share it).
        view = self._views.get(id(context.rendered))
        if view is None:
            view = self._views[id(context.rendered)] = self.units.view(context.course)
        return view

    def _deflated(self, name: str, make: Callable[[], bytes]) -> Deflated:
        found = self._made.get(name)
        if found is not None:
            return found
        blob = self.cache.get(name) if self.cache is not None else None
        found = Deflated.from_bytes(blob) if blob is not None else None
        if found is None:
            found = deflate(make())
            if self.cache is not None:
                self.cache.put(name, found.to_bytes())
        self._made[name] = found
        return found

    def page(self, context: PageContext, spec: PageSpec, make: Callable[[], bytes]) -> Deflated:
        """A page, deflated: made once for both SCORM versions, and as an earlier build made
        it if nothing it shows has changed."""
        from builder.cache import key

        rendered, mode = context.rendered, context.mode
        shown = (
            list(rendered.course.units) if mode == "single" else [spec.unit] if spec.unit else []
        )
        units = [self.units.key(u, rendered.audience, mode) for u in shown]
        name = key(f"page-{mode}", self.units.context, self._view(context), spec.path, *units)
        return self._deflated(name, make)

    def file(
        self, context: PageContext, name: str, parts: Sequence[str], make: Callable[[], bytes]
    ) -> Deflated:
        """A file made from the course as pages see it and `parts`, deflated."""
        from builder.cache import key

        kind = f"file-{context.mode}"
        return self._deflated(key(kind, self._view(context), name, *parts), make)


def _course_context(course: Course, course_dir: Path) -> bytes:
    """What a unit's rendering depends on besides the unit: the course's language, units and
    data sets, and which files the course folder holds (links resolve against them)."""
    h = hashlib.sha256(str(course_dir.resolve()).encode() + b"\0" + course.language.encode())
    for unit in course.units:
        h.update(f"\0{unit.file}\0{unit.id}".encode())
    for dataset in course.datasets:
        h.update(dataset.model_dump_json().encode())
    root = os.path.normpath(course_dir)
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(folder, root)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]):
            path = os.path.join(folder, name)
            target = os.path.realpath(path) if os.path.islink(path) else ""
            h.update(f"\0{rel}/{name}\0{target}".encode())
            if name.endswith(".vtt"):  # captions are checked while units render
                with contextlib.suppress(OSError):
                    h.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return h.digest()
