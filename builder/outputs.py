"""What a build can write: one small output per target, all in the OUTPUTS table.

Each output has a name (the `--target`), the renderings it needs (`needs`: which audiences'
text), `check` (problems it alone would meet, reported before anything is written) and `write`
(its file in the output folder). `pipeline` renders what the chosen outputs need, then loops
over them; adding an output is one class here and one row in OUTPUTS.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from builder.errors import Diagnostic
from builder.markdown import Audience
from builder.model import Course, Mode, Target, Theme
from builder.package import (
    MANIFEST,
    METADATA12,
    Deflated,
    Entry,
    write_bytes_atomic,
    write_package,
)
from builder.render import (
    ASSET_DIR,
    PACKAGE_SCRIPT,
    PageContext,
    PageSpec,
    RenderedCourse,
    minify,
    package_script,
    shipped,
    static_files,
)
from builder.theme import STYLESHEET as THEME_STYLESHEET
from builder.theme import theme_css

if TYPE_CHECKING:
    from builder.suspend import ScoSize


class PageStore(Protocol):
    """Finished files kept between builds (by the pipeline's cache), deflated as a zip holds
    them: `make` is called only for a file no earlier build made from the same input."""

    def page(self, context: PageContext, spec: PageSpec, make: Callable[[], bytes]) -> Deflated:
        """A page (the same in both SCORM versions' packages): made from the course as pages
        see it and the units it shows."""

    def file(
        self, context: PageContext, name: str, parts: Sequence[str], make: Callable[[], bytes]
    ) -> Deflated:
        """Another file (the manifest): made from the course as pages see it and `parts`."""


@dataclass
class Material:
    """What outputs are made from: the course, its renderings by audience, and settings."""

    course: Course
    mode: Mode
    timestamp: int
    renderings: Mapping[Audience, RenderedCourse]
    pages: PageStore | None = None
    unpacked: bool = False
    """Write each SCORM package as a folder of files (preview) instead of a zip."""

    @cached_property
    def scos(self) -> list[ScoSize]:
        """Each SCO's worst-case saved state (the same for both SCORM versions)."""
        from builder.suspend import sco_sizes

        return sco_sizes(self.course, self.mode)


@dataclass(frozen=True)
class Written:
    """One output the build wrote, and the warnings met while making it."""

    target: str
    path: Path
    size: int
    warnings: tuple[Diagnostic, ...] = ()
    saved_state: ScoSize | None = None
    """A SCORM package's SCO with the longest worst-case suspend_data."""


class Output(Protocol):
    """One kind of file a build can write."""

    @property
    def name(self) -> str:
        """The target name (`--target`)."""

    @property
    def needs(self) -> tuple[Audience, ...]:
        """The audiences whose rendered text this output uses (none: the course alone)."""

    def check(self, material: Material) -> list[Diagnostic]:
        """Problems only this output has (all outputs are checked before any is written)."""

    def write(self, material: Material, out_dir: Path) -> Written:
        """Write the output into `out_dir` (atomically) and say what was written."""


@dataclass(frozen=True)
class ScormPackage:
    """A SCORM package: pages, theme, runtime, media and imsmanifest.xml in one zip."""

    name: Target
    needs: tuple[Audience, ...] = ("learner",)

    def check(self, material: Material) -> list[Diagnostic]:
        """A learner's saved state must fit the target's suspend_data limit."""
        from builder.suspend import suspend_problems

        return suspend_problems(material.course, self.name, material.mode, material.scos)

    def write(self, material: Material, out_dir: Path) -> Written:
        """`<course-id>-<target>.zip` (a folder `<target>/` when material.unpacked)."""
        rendered = material.renderings["learner"]
        entries = package_entries(rendered, self.name, material.mode, material.pages)
        worst = max(material.scos, key=lambda sco: sco.size, default=None)
        if material.unpacked:
            folder = out_dir / self.name
            return Written(self.name, folder, write_folder(entries, folder), saved_state=worst)
        out = out_dir / f"{material.course.id}-{self.name}.zip"
        size = write_package(entries, out, material.timestamp)
        return Written(self.name, out, size, saved_state=worst)


@dataclass(frozen=True)
class FacilitatorGuide:
    """The printable facilitator's edition (builder/facilitator.py)."""

    name: str = "facilitator"
    # The learner's text too: a guide alone still fails on what a package would.
    needs: tuple[Audience, ...] = ("learner", "facilitator")

    def check(self, material: Material) -> list[Diagnostic]:
        """Nothing beyond what rendering reports."""
        return []

    def write(self, material: Material, out_dir: Path) -> Written:
        """`<course-id>-facilitator.html`."""
        from builder.facilitator import render_guide

        out = out_dir / f"{material.course.id}-facilitator.html"
        guide = render_guide(material.renderings["facilitator"])
        return Written(self.name, out, write_bytes_atomic(guide, out))


@dataclass(frozen=True)
class QuestionBank:
    """A Moodle question-bank file of the graded questions (builder/export.py)."""

    name: str
    needs: tuple[Audience, ...] = ()

    def check(self, material: Material) -> list[Diagnostic]:
        """Nothing: an export only warns."""
        return []

    def write(self, material: Material, out_dir: Path) -> Written:
        """`<course-id>-questions.<format>`, with the export's warnings."""
        from builder.export import SUFFIXES, export_course

        exported = export_course(material.course, self.name)
        out = out_dir / f"{material.course.id}{SUFFIXES[self.name]}"
        size = write_bytes_atomic(exported.data, out)
        return Written(self.name, out, size, tuple(exported.warnings))


OUTPUTS: dict[str, Output] = {
    output.name: output
    for output in (
        ScormPackage("scorm12"),
        ScormPackage("scorm2004"),
        FacilitatorGuide(),
        QuestionBank("gift"),
        QuestionBank("moodle-xml"),
    )
}


def package_entries(
    rendered: RenderedCourse, target: Target, mode: Mode, pages: PageStore | None = None
) -> list[Entry]:
    """The files of one SCORM package, its manifest first; pages from `pages` where it has them."""
    context = PageContext(rendered, mode)
    entries = []
    for spec in context.specs():

        def page(spec: PageSpec = spec) -> bytes:
            return context.render(spec)

        if pages is None:
            entries.append(Entry(spec.path, data=page()))
        else:
            entries.append(Entry(spec.path, deflated=pages.page(context, spec, page)))
    shared = [Entry(f.path, data=shipped(f.source)) for f in static_files()]
    script = package_script(rendered.course, target)
    shared.append(Entry(f"{ASSET_DIR}/{PACKAGE_SCRIPT}", data=script))
    if rendered.course.theme is not None:
        css = _theme_stylesheet(rendered.course.theme)
        shared.append(Entry(f"{ASSET_DIR}/{THEME_STYLESHEET}", data=css))
    media = sorted(rendered.media.values(), key=lambda m: m.path)
    shared += [Entry(m.path, source=m.source) for m in media]
    if target == "scorm12":
        shared.append(_made(context, pages, METADATA12, [], lambda: _metadata12(context)))
    page_of = {"home": "index.html"}
    if mode == "multi":
        page_of |= {u.id: f"{u.id}.html" for u in context.view.units}
    names = [e.name for e in shared]
    parts = [target, mode, *(f"{k}={v}" for k, v in page_of.items()), "", *names]
    manifest = _made(
        context, pages, MANIFEST, parts, lambda: _manifest(context, target, page_of, names)
    )
    return [manifest, *entries, *shared]


@cache
def _theme_stylesheet(theme: Theme) -> bytes:
    """The course's generated stylesheet (builder/theme.py), minified as the runtime files are."""
    return minify(theme_css(theme), ".css").encode()


def _made(
    context: PageContext,
    pages: PageStore | None,
    name: str,
    parts: Sequence[str],
    make: Callable[[], bytes],
) -> Entry:
    """A file made from the course as pages see it and `parts`: from `pages` if it has it."""
    if pages is None:
        return Entry(name, data=make())
    return Entry(name, deflated=pages.file(context, name, parts, make))


def _metadata12(context: PageContext) -> bytes:
    from builder.manifest import metadata12  # lxml: imported only when a manifest is made

    return metadata12(context.view)


def _manifest(
    context: PageContext, target: Target, page_of: dict[str, str], shared: list[str]
) -> bytes:
    from builder.manifest import PackageFiles, build_manifest

    files = PackageFiles(pages=page_of, shared=shared)
    return build_manifest(context.view, files, target, context.mode)


def write_folder(entries: list[Entry], folder: Path) -> int:
    """The package's files unzipped into `folder` (which must not exist yet); their total size."""
    import zlib

    size = 0
    for entry in entries:
        path = folder / entry.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if entry.deflated is not None:
            data = zlib.decompress(entry.deflated.stream, -15)
        elif entry.data is not None:
            data = entry.data
        else:
            assert entry.source is not None
            shutil.copyfile(entry.source, path)
            size += path.stat().st_size
            continue
        path.write_bytes(data)
        size += len(data)
    return size
