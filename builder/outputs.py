"""What a build can write: one small output per target, all in the OUTPUTS table.

Each output has a name (the `--target`), the renderings it needs (`needs`: which audiences'
text), `check` (problems it alone would meet, reported before anything is written) and `write`
(its file in the output folder). `pipeline` renders what the chosen outputs need, then loops
over them; adding an output is one class here and one row in OUTPUTS.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from builder.errors import Diagnostic
from builder.markdown import Audience
from builder.model import Course, Mode, Target
from builder.package import (
    MANIFEST,
    METADATA12,
    Deflated,
    Entry,
    deflate,
    write_bytes_atomic,
    write_package,
)
from builder.render import PageContext, PageSpec, RenderedCourse, static_files


class PageStore(Protocol):
    """Finished pages kept between builds (by the pipeline's cache): outputs ask and tell."""

    def get(self, context: PageContext, spec: PageSpec, target: Target) -> Deflated | None:
        """The page as an earlier build deflated it, if nothing it shows has changed."""

    def put(self, context: PageContext, spec: PageSpec, target: Target, page: Deflated) -> None:
        """Keep a deflated page for the next build."""


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


@dataclass(frozen=True)
class Written:
    """One output the build wrote, and the warnings met while making it."""

    target: str
    path: Path
    size: int
    warnings: tuple[Diagnostic, ...] = ()


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

        return suspend_problems(material.course, self.name, material.mode)

    def write(self, material: Material, out_dir: Path) -> Written:
        """`<course-id>-<target>.zip` (a folder `<target>/` when material.unpacked)."""
        rendered = material.renderings["learner"]
        entries = package_entries(rendered, self.name, material.mode, material.pages)
        if material.unpacked:
            folder = out_dir / self.name
            return Written(self.name, folder, write_folder(entries, folder))
        out = out_dir / f"{material.course.id}-{self.name}.zip"
        return Written(self.name, out, write_package(entries, out, material.timestamp))


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
    from builder.manifest import PackageFiles, build_manifest, metadata12

    context = PageContext(rendered, mode)
    entries = []
    for spec in context.specs():
        if pages is None:
            entries.append(Entry(spec.path, data=context.render(spec, target)))
            continue
        page = pages.get(context, spec, target)
        if page is None:
            page = deflate(context.render(spec, target))
            pages.put(context, spec, target, page)
        entries.append(Entry(spec.path, deflated=page))
    shared = [Entry(f.path, source=f.source) for f in static_files()]
    media = sorted(rendered.media.values(), key=lambda m: m.path)
    shared += [Entry(m.path, source=m.source) for m in media]
    if target == "scorm12":
        shared.append(Entry(METADATA12, data=metadata12(context.view)))
    page_of = {"home": "index.html"}
    if mode == "multi":
        page_of |= {u.id: f"{u.id}.html" for u in context.view.units}
    files = PackageFiles(pages=page_of, shared=[e.name for e in shared])
    manifest = Entry(MANIFEST, data=build_manifest(context.view, files, target, mode))
    return [manifest, *entries, *shared]


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
