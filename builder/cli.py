"""Command line: parse arguments, call the pipeline, print diagnostics, set the exit code.

Exit codes: 0 success, 1 problems in the course, 2 usage errors. Only this module prints.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from builder import __version__
from builder.errors import BuildFailed, Diagnostic

if TYPE_CHECKING:
    from builder.pipeline import BuildResult

#: The SCORM version of each SCORM target.
SCORM_VERSIONS = {"scorm12": "1.2", "scorm2004": "2004"}
TARGET_CHOICES = ("scorm12", "scorm2004", "gift", "moodle-xml", "facilitator", "all")


def _display_root(course: Path) -> str:
    text = str(course)
    return text.rstrip("/") or "/"


def _print_diagnostics(diags: list[Diagnostic], fmt: str = "text") -> None:
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in diags], indent=2))
        return
    for d in sorted(diags):
        click.echo(str(d), err=True)
    errors = sum(d.severity == "error" for d in diags)
    warnings = len(diags) - errors
    if diags:
        click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


@contextmanager
def _progress(enabled: bool, steps: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on an interactive terminal; silent otherwise (logs, CI, pipes)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _step: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<22}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=steps)

        def advance(step: str) -> None:
            bar.update(task, description=step, advance=1)

        yield advance


def _suspend_lines(result: BuildResult) -> list[str]:
    """The worst-case suspend_data of each SCORM package against its LMS limit."""
    from builder.suspend import LIMITS

    return [
        f"suspend_data {o.target:<10} worst case {worst.size:,} of {LIMITS[o.target]:,} "
        f"characters ({worst.size / LIMITS[o.target]:.0%}, {worst.name})"
        for o in result.outputs
        if (worst := o.saved_state) is not None and o.target in LIMITS
    ]


def completion_hint(version: str, reporting: str | None) -> str:
    """The Moodle activity-completion setting that fits a package's version and reporting rule.

    Moodle's "Require status" looks at the stored status: with only "Completed" ticked (its
    default) a SCORM 1.2 package that reports `passed` never completes the activity.
    """
    where = f'Moodle (SCORM {version}): Activity completion > "Require status":'
    if reporting is None:
        if version == "1.2":
            return f'{where} tick "Passed" if the package reports passed/failed, else "Completed"'
        return f'{where} tick "Completed" (or "Passed" to require a pass)'
    if reporting == "completed/incomplete":
        return f'{where} tick "Completed" (the course reports completed once every unit is seen)'
    if version == "1.2":
        return (
            f'{where} tick "Passed" (the course reports {reporting}; with "Completed" alone '
            "Moodle never completes it)"
        )
    if reporting == "passed/incomplete":
        return f'{where} tick "Completed" or "Passed" (both are reported on a pass)'
    return (
        f'{where} tick "Passed" to complete on a pass, "Completed" to complete on any '
        "finished attempt"
    )


def _print_summary(result: BuildResult) -> None:
    """What was written, how big, how long, and the saved-state budget."""
    for out in result.outputs:
        click.echo(f"{out.target:<10} {out.path}  {out.size / 1024:.1f} KiB")
    for line in _suspend_lines(result):
        click.echo(line)
    for target in sorted({o.target for o in result.outputs if o.target in SCORM_VERSIONS}):
        click.echo(completion_hint(SCORM_VERSIONS[target], result.course.reporting.status))
    total = sum(o.size for o in result.outputs) / 1024
    click.echo(f"built {len(result.outputs)} target(s), {total:.1f} KiB, in {result.seconds:.2f} s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scorm-builder")
def cli() -> None:
    """Build SCORM 1.2 and SCORM 2004 packages from a course in YAML and Markdown."""


@cli.command()
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option(
    "--target",
    "targets",
    multiple=True,
    type=click.Choice(TARGET_CHOICES),
    help="What to build; repeat for several. 'all' is both SCORM versions (the default); "
    "gift and moodle-xml export the graded questions for Moodle's question bank; "
    "facilitator writes the printable facilitator's guide.",
)
@click.option(
    "--mode",
    type=click.Choice(["single", "multi"]),
    default=None,
    help="One SCO for the whole course, or one SCO per unit (default: course.yaml).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder for the packages.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@click.option(
    "--language",
    metavar="LANG|all",
    help="Build the edition in LANG from translations/LANG.xlf ('all': every translation).",
)
def build(
    course: Path,
    targets: tuple[str, ...],
    mode: str | None,
    out_dir: Path,
    strict: bool,
    quiet: bool,
    language: str | None,
) -> None:
    """Build COURSE (default: ./course) into packages in --out."""
    from builder.package import timestamp_from_env
    from builder.pipeline import SCORM_TARGETS, BuildSettings
    from builder.pipeline import build as run_build

    chosen: list[str] = []
    for t in targets or ("all",):
        for name in SCORM_TARGETS if t == "all" else (t,):
            if name not in chosen:
                chosen.append(name)
    try:
        timestamp = timestamp_from_env(os.environ)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    failed = False
    for lang in _languages(course, language):
        settings = BuildSettings(
            course_dir=course,
            out_dir=out_dir,
            targets=tuple(chosen),
            mode=mode,  # type: ignore[arg-type]
            timestamp=timestamp,
            strict=strict,
            display_root=_display_root(course),
            language=lang,
        )
        try:
            with _progress(enabled=not quiet, steps=2 + len(chosen)) as advance:
                result = run_build(settings, advance)
        except BuildFailed as exc:
            _print_diagnostics(exc.diagnostics)
            failed = True
            continue
        except OSError as exc:
            click.echo(f"error: cannot write the package: {exc}", err=True)
            sys.exit(1)
        _print_diagnostics(result.warnings)
        if not quiet:
            _print_summary(result)
    if failed:
        sys.exit(1)


def _languages(course: Path, language: str | None) -> list[str | None]:
    """The editions `--language` asks for: None is the course as written."""
    if language is None:
        return [None]
    if language != "all":
        return [language]
    from builder.translate import languages

    found = languages(course)
    if not found:
        click.echo(f"error: {course}/translations/ holds no translation (LANG.xlf)", err=True)
        sys.exit(2)
    return list(found)


@cli.command()
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--language",
    metavar="LANG|all",
    help="Check the edition in LANG, its translation file included ('all': every translation).",
)
def validate(course: Path, strict: bool, fmt: str, language: str | None) -> None:
    """Check COURSE and report every problem at once; writes nothing."""
    from builder.pipeline import validate as run_validate

    found: list[Diagnostic] = []
    failed = False
    for lang in _languages(course, language):
        try:
            _, warnings = run_validate(course, _display_root(course), strict, lang)
        except BuildFailed as exc:
            found += [d for d in exc.diagnostics if d not in found]
            failed = True
            continue
        found += [d for d in warnings if d not in found]
    _print_diagnostics(found, fmt)
    if failed:
        sys.exit(1)
    if fmt == "text" and not found:
        click.echo(f"{course}: no problems found")


@cli.command()
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0 picks a free one).",
)
@click.option(
    "--mode",
    type=click.Choice(["single", "multi"]),
    default=None,
    help="One SCO for the whole course, or one SCO per unit (default: course.yaml).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
def preview(course: Path, port: int, mode: str | None, open_browser: bool) -> None:
    """Serve COURSE in a local LMS simulator; rebuild and reload on every change."""
    import signal

    from builder.preview import BuildState, Preview

    if not (course / "course.yaml").is_file():
        # The same diagnostic and exit code as build and validate: nothing to preview here.
        from builder.sources import load_sources

        _print_diagnostics(load_sources(course, _display_root(course)).diagnostics)
        sys.exit(1)

    def report(state: BuildState) -> None:
        if state.ok:
            click.echo(f"build {state.generation}: ok in {state.seconds:.2f} s", err=True)
            _print_diagnostics(state.diagnostics)
        else:
            click.echo(f"build {state.generation}: the course has errors", err=True)
            _print_diagnostics(state.diagnostics)

    def stop_on_signal(signum: int, _frame: object) -> None:
        raise _Stopped(signum)

    # SIGTERM (kill, a service manager) and SIGHUP (the terminal closed; not on Windows) end the
    # preview as Ctrl+C does: through `finally`, which deletes the temporary builds.
    stopping = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    for signum in stopping:
        signal.signal(signum, stop_on_signal)
    server: Preview | None = None
    try:
        try:
            server = Preview(
                course,
                display_root=_display_root(course),
                mode=mode,  # type: ignore[arg-type]
                port=port,
                on_build=report,
            )
        except OSError as exc:
            click.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror}", err=True)
            sys.exit(2)
        server.start()
        click.echo(f"Preview on {server.url}  (Ctrl+C to stop)")
        if open_browser:
            import webbrowser

            webbrowser.open(server.url)
        server.wait()
    except (KeyboardInterrupt, _Stopped):
        click.echo("stopping", err=True)
    finally:
        # A second signal must not interrupt the clean-up.
        for signum in (signal.SIGINT, *stopping):
            signal.signal(signum, signal.SIG_IGN)
        if server is not None:
            server.stop()


class _Stopped(BaseException):
    """A signal asked the preview to stop (like KeyboardInterrupt, no build may catch it)."""


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--id", "course_id", help="Course id (default: from the folder name).")
@click.option("--title", help="Course title (default: from the id).")
@click.option("--language", default="en", show_default=True, help="Interface language (en, fr).")
def new(directory: Path, course_id: str | None, title: str | None, language: str) -> None:
    """Create a small working course in DIRECTORY to start from."""
    from builder.scaffold import ScaffoldError, scaffold_course

    try:
        files = scaffold_course(directory, course_id, title, language)
    except ScaffoldError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: cannot create {directory}: {exc.strerror}", err=True)
        sys.exit(1)
    click.echo(f"created {directory} ({len(files)} files). Next:")
    click.echo(f"  scorm-builder preview {directory}")
    click.echo(f"  scorm-builder build {directory}")


@cli.command("inspect")
@click.argument("package", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--schemas",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Folder of the official SCORM schemas (with drivers/); without it they are not checked.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def inspect_command(package: Path, schemas: Path | None, strict: bool, fmt: str) -> None:
    """Check any SCORM PACKAGE (zip) for what Moodle will do with it; exit 1 on failure."""
    from builder.inspector import SchemasUnusable, format_report, inspect_package, printable

    if not package.is_file():
        raise click.BadParameter(f"{printable(str(package))} is not a file", param_hint="PACKAGE")
    try:
        report = inspect_package(package, schemas)
    except SchemasUnusable as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(strict), indent=2))
    else:
        for line in format_report(report, strict):
            click.echo(line)
        if report.version is not None:
            click.echo(completion_hint(report.version, report.reporting))
    sys.exit(0 if report.ok(strict) else 1)


@cli.group()
def translate() -> None:
    """Send the course's texts to translators (XLIFF 1.2) and take their work back."""


def _extract(course: Path) -> Any:
    """The course's translatable texts, or exit 1 with its problems."""
    from builder.pipeline import load_course
    from builder.translate import extract_segments

    if not course.is_dir():
        raise click.BadParameter(f"{course} is not a folder", param_hint="COURSE")
    try:
        loaded, _ = load_course(course, _display_root(course))
    except BuildFailed as exc:
        _print_diagnostics(exc.diagnostics)
        sys.exit(1)
    extract = extract_segments(loaded, course, _display_root(course))
    _print_diagnostics(extract.skipped)
    return extract


def _check_language(language: str) -> None:
    from builder.translate import is_language

    if not is_language(language):
        raise click.BadParameter(f"'{language}' is not a language tag (e.g. fr, es, pt-BR)")


def _write(data: bytes, out: Path) -> None:
    from builder.package import write_bytes_atomic

    if str(out) == "-":
        click.echo(data.decode(), nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(data, out)
    except OSError as exc:
        click.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        sys.exit(1)


@translate.command("extract")
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option("--to", "language", required=True, metavar="LANG", help="Target language (fr, ar…).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File to write ('-': standard output). Default: COURSE/translations/LANG.xlf, "
    "if it does not exist yet.",
)
def translate_extract(course: Path, language: str, output: Path | None) -> None:
    """Write every text of COURSE to translate as an XLIFF 1.2 file."""
    from builder.translate import count, translation_path, write_xliff

    _check_language(language)
    extract = _extract(course)
    out = output or translation_path(course, language)
    if output is None and out.exists():
        click.echo(
            f"error: {out} exists: 'scorm-builder translate update --to {language}' brings it "
            "up to date and keeps its translations",
            err=True,
        )
        sys.exit(2)
    _write(write_xliff(extract, language), out)
    units, words = count(extract)
    click.echo(f"{out}: {units} translation units, {words:,} words", err=True)


@translate.command("update")
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option("--to", "language", required=True, metavar="LANG", help="Target language.")
@click.option(
    "-f",
    "--file",
    "path",
    type=click.Path(path_type=Path),
    help="Translation file to update (default: COURSE/translations/LANG.xlf).",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write here instead of in place."
)
def translate_update(course: Path, language: str, path: Path | None, output: Path | None) -> None:
    """Merge the course's current texts into a translation file, keeping its translations."""
    from builder.translate import XliffError, load_xliff, merge, translation_path

    _check_language(language)
    extract = _extract(course)
    path = path or translation_path(course, language)
    try:
        old = load_xliff(path)
    except OSError as exc:
        click.echo(f"error: cannot read {path}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    except XliffError as exc:
        click.echo(f"{path}:{exc.line}:1: error[E601]: {exc}", err=True)
        sys.exit(1)
    merged = merge(extract, old, language)
    out = output or path
    _write(merged.data, out)
    click.echo(
        f"{out}: {merged.kept} kept, {merged.review} to review (needs-review-translation), "
        f"{merged.new} new, {merged.removed} removed",
        err=True,
    )


def main() -> None:
    """Console-script entry point."""
    cli()
