"""Command line: parse arguments, call the pipeline, print diagnostics, set the exit code.

Exit codes: 0 success, 1 problems in the course, 2 usage errors. Only this module prints.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from builder import __version__
from builder.errors import BuildFailed, Diagnostic

TARGET_CHOICES = ("scorm12", "scorm2004", "all")


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
    help="What to build; repeat for several. Default: both SCORM versions.",
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
def build(
    course: Path,
    targets: tuple[str, ...],
    mode: str | None,
    out_dir: Path,
    strict: bool,
    quiet: bool,
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
    settings = BuildSettings(
        course_dir=course,
        out_dir=out_dir,
        targets=tuple(chosen),
        mode=mode,  # type: ignore[arg-type]
        timestamp=timestamp_from_env(os.environ),
        strict=strict,
        display_root=_display_root(course),
    )
    try:
        result = run_build(settings)
    except BuildFailed as exc:
        _print_diagnostics(exc.diagnostics)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"error: cannot write the package: {exc}", err=True)
        sys.exit(1)
    _print_diagnostics(result.warnings)
    if not quiet:
        for out in result.outputs:
            click.echo(f"{out.target:<10} {out.path}  {out.size / 1024:.1f} KiB")
        click.echo(f"built {len(result.outputs)} target(s) in {result.seconds:.2f} s")


@cli.command()
@click.argument("course", type=click.Path(path_type=Path), default=Path("course"))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def validate(course: Path, strict: bool, fmt: str) -> None:
    """Check COURSE and report every problem at once; writes nothing."""
    from builder.pipeline import validate as run_validate

    try:
        _, warnings = run_validate(course, _display_root(course), strict)
    except BuildFailed as exc:
        _print_diagnostics(exc.diagnostics, fmt)
        sys.exit(1)
    _print_diagnostics(warnings, fmt)
    if fmt == "text" and not warnings:
        click.echo(f"{course}: no problems found")


def main() -> None:
    """Console-script entry point."""
    cli()
