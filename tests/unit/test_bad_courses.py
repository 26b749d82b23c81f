"""The bad-input corpus (tests/bad_courses/): one clear diagnostic each, exit 1, nothing lost.

Every case starts from the good course in tests/bad_courses/_good/, which is built first into a
shared output folder. Each broken case is then built into that same folder, and must fail with
exactly the diagnostic in expected.toml (code, file, line, message), exit code 1, no traceback,
and leave the folder byte for byte as the good build left it. Every case runs in-process through
click's CliRunner (build and validate); a sample also runs as a real subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from builder.cli import cli
from builder.package import write_package
from tests.conftest import REPO, run_cli

CORPUS = REPO / "tests" / "bad_courses"
GOOD = CORPUS / "_good"
EXPECTED: dict[str, dict[str, object]] = tomllib.loads(
    (CORPUS / "expected.toml").read_text(encoding="utf-8")
)
BROKEN = sorted(name for name, case in EXPECTED.items() if not case.get("accepted"))
ACCEPTED = sorted(name for name, case in EXPECTED.items() if case.get("accepted"))
#: Run as real processes too: syntax, encoding, size, links, script, references, deep input.
SUBPROCESS_SAMPLE = (
    "yaml-syntax-error",
    "not-utf8",
    "oversize-markdown",
    "symlink-outside-course",
    "yaml-nested-too-deeply",
    "script-tag",
    "unit-file-missing",
    "alias-bomb",
)
DIAGNOSTIC = re.compile(
    r"^(?P<path>\S+?):(?P<line>\d+):(?P<column>\d+): "
    r"(?P<severity>error|warning)\[(?P<code>[EW]\d{3})\]: (?P<message>.*)$"
)
TEXT_SUFFIXES = (".yaml", ".md")


# ----------------------------------------------------------------------------- generated cases


def _oversize_markdown(course: Path, _outside: Path) -> None:
    unit = course / "units" / "intro.md"
    head = unit.read_text(encoding="utf-8")
    paragraph = "Drug markets affect public security in many ways. " * 20 + "\n\n"
    block = (paragraph * 1024).encode()
    with unit.open("wb") as fh:
        fh.write(head.encode())
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(block)


def _symlink_outside_course(course: Path, outside: Path) -> None:
    # A perfectly valid unit, but outside the course folder.
    target = outside / "intro.md"
    shutil.copy(course / "units" / "intro.md", target)
    (course / "units" / "intro.md").unlink()
    (course / "units" / "intro.md").symlink_to(target)


def _symlink_media_outside_course(course: Path, outside: Path) -> None:
    target = outside / "secret.png"
    shutil.copy(course / "media" / "diagram.png", target)
    (course / "media" / "diagram.png").unlink()
    (course / "media" / "diagram.png").symlink_to(target)


def _yaml_nested_too_deeply(course: Path, _outside: Path) -> None:
    quiz = course / "quizzes" / "check.yaml"
    depth = 100_000
    with quiz.open("a", encoding="utf-8") as fh:
        fh.write("extra: " + "[" * depth + "]" * depth + "\n")


def _rewrite_text_files(course: Path, change: Callable[[bytes], bytes]) -> None:
    for path in course.rglob("*"):
        if path.suffix in TEXT_SUFFIXES:
            path.write_bytes(change(path.read_bytes()))


def _crlf_line_ends(course: Path, _outside: Path) -> None:
    _rewrite_text_files(course, lambda raw: raw.replace(b"\n", b"\r\n"))


def _byte_order_mark(course: Path, _outside: Path) -> None:
    _rewrite_text_files(course, lambda raw: b"\xef\xbb\xbf" + raw)


#: A valid data set (data/rates.yaml) for cases that break how it is read.
DATASET = """id: rates
title: Rates by region
measure: Rate
unit: per 100,000
source: A survey
rows:
  - {label: North, value: 1}
"""


def _fifo(rel: str) -> Callable[[Path, Path], None]:
    """Replace (or add) `rel` with a named pipe that nothing ever writes to: reading it hangs."""

    def make(course: Path, _outside: Path) -> None:
        path = course / rel
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return make


def _link_out(rel: str, content: Callable[[Path], bytes]) -> Callable[[Path, Path], None]:
    """Replace (or add) `rel` with a link to a file outside the course holding `content`."""

    def make(course: Path, outside: Path) -> None:
        target = outside / Path(rel).name
        target.write_bytes(content(course))
        path = course / rel
        path.parent.mkdir(exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return make


def _link(rel: str, target: str) -> Callable[[Path, Path], None]:
    def make(course: Path, _outside: Path) -> None:
        (course / rel).parent.mkdir(exist_ok=True)
        (course / rel).unlink(missing_ok=True)
        (course / rel).symlink_to(target)

    return make


def _course_yaml_folder(course: Path, _outside: Path) -> None:
    (course / "course.yaml").unlink()
    (course / "course.yaml").mkdir()


def _data_folder_outside(course: Path, outside: Path) -> None:
    (outside / "data").mkdir()
    (outside / "data" / "rates.yaml").write_text(DATASET, encoding="utf-8")
    (course / "data").symlink_to(outside / "data")


def _oversize(rel: str, head: bytes, filler: bytes, size: int) -> Callable[[Path, Path], None]:
    def make(course: Path, _outside: Path) -> None:
        path = course / rel
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(head + filler * (size // len(filler) + 1))

    return make


GENERATORS: dict[str, Callable[[Path, Path], None]] = {
    "oversize-markdown": _oversize_markdown,
    "symlink-outside-course": _symlink_outside_course,
    "symlink-media-outside-course": _symlink_media_outside_course,
    "yaml-nested-too-deeply": _yaml_nested_too_deeply,
    "crlf-line-ends": _crlf_line_ends,
    "byte-order-mark": _byte_order_mark,
    "unit-fifo": _fifo("units/extra.md"),
    "quiz-fifo": _fifo("quizzes/extra.yaml"),
    "data-fifo": _fifo("data/extra.yaml"),
    "course-yaml-fifo": _fifo("course.yaml"),
    "media-fifo": _fifo("media/diagram.png"),
    "handout-fifo": _fifo("media/handout.pdf"),
    "course-yaml-folder": _course_yaml_folder,
    "data-symlink-outside-course": _link_out("data/rates.yaml", lambda _: DATASET.encode()),
    "data-folder-symlink-outside-course": _data_folder_outside,
    "data-symlink-dev-zero": _link("data/rates.yaml", "/dev/zero"),
    "media-symlink-dev-zero": _link("media/diagram.png", "/dev/zero"),
    "course-yaml-symlink-outside-course": _link_out(
        "course.yaml", lambda course: (course / "course.yaml").read_bytes()
    ),
    "quiz-symlink-outside-course": _link_out(
        "quizzes/check.yaml", lambda course: (course / "quizzes" / "check.yaml").read_bytes()
    ),
    "oversize-data-yaml": _oversize(
        "data/rates.yaml", DATASET.encode(), b"# a comment line of filler\n", 3 << 20
    ),
    "oversize-quiz-yaml": _oversize(
        "quizzes/check.yaml",
        (GOOD / "quizzes" / "check.yaml").read_bytes(),
        b"# a comment line of filler\n",
        3 << 20,
    ),
    "oversize-svg": _oversize(
        "media/diagram.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg">\n',
        b'<rect width="1" height="1"/>\n',
        6 << 20,
    ),
}


def make_case(name: str, where: Path) -> Path:
    """The good course with case `name` applied, as `where`/course (plus `where`/outside)."""
    case = EXPECTED[name]
    course = where / "course"
    outside = where / "outside"
    outside.mkdir()
    shutil.copytree(GOOD, course)
    for path in sorted((CORPUS / name).rglob("*")):
        if path.is_file() and path.name != "CASE.md":
            dst = course / path.relative_to(CORPUS / name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
    for rel in case.get("delete", []):  # type: ignore[union-attr]
        (course / str(rel)).unlink()
    if "generate" in case:
        GENERATORS[str(case["generate"])](course, outside)
    return course


# ----------------------------------------------------------------------------- helpers


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (the cache included) with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def diagnostics(stderr: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in map(DIAGNOSTIC.match, stderr.splitlines()) if m]


def assert_one_expected_error(name: str, stderr: str) -> None:
    case = EXPECTED[name]
    assert "Traceback" not in stderr
    errors = [d for d in diagnostics(stderr) if d["severity"] == "error"]
    assert len(errors) == 1, f"{name}: expected one error, got:\n{stderr}"
    [error] = errors
    assert error["code"] == case["code"], stderr
    assert error["path"] == f"course/{case['file']}", stderr
    assert int(error["line"]) == case["line"], stderr
    assert str(case["message"]) in error["message"], stderr
    assert "1 error(s)" in stderr


@pytest.fixture(scope="module")
def good_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """The good course built into a fresh output folder: (folder, its files)."""
    where = tmp_path_factory.mktemp("good")
    shutil.copytree(GOOD, where / "course")
    out = where / "dist"
    proc = run_cli("build", "course", "--out", str(out), cwd=where)
    assert proc.returncode == 0, proc.stderr
    files = snapshot(out)
    zips = [name for name in files if name.endswith(".zip")]
    assert zips == ["corpus-course-scorm12.zip", "corpus-course-scorm2004.zip"]
    for name in zips:
        with zipfile.ZipFile(out / name) as zf:
            assert zf.testzip() is None
    return out, files


# ----------------------------------------------------------------------------- the corpus


def test_the_corpus_is_complete() -> None:
    """At least 100 cases, each with a folder, and no folder without a case."""
    assert len(BROKEN) + len(ACCEPTED) >= 100
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir() and p.name[0] not in "._"}
    assert folders == set(EXPECTED)
    for name in BROKEN:
        assert {"code", "file", "line", "message", "why"} <= set(EXPECTED[name]), name
        assert any((CORPUS / name).iterdir()), name


@pytest.mark.parametrize("name", BROKEN)
def test_bad_course_fails_cleanly_and_keeps_the_good_package(
    name: str,
    good_build: tuple[Path, dict[str, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, before = good_build
    make_case(name, tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for args in (["build", "course", "--out", str(out)], ["validate", "course"]):
        started = time.perf_counter()
        result = runner.invoke(cli, args)
        elapsed = time.perf_counter() - started
        # A content error exits through sys.exit(1); anything else is a crash in the builder.
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 1, result.output
        assert_one_expected_error(name, result.stderr)
        assert elapsed < 10, f"{args[0]} took {elapsed:.1f} s"
    assert snapshot(out) == before


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_bad_course_as_a_real_process(
    name: str, good_build: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    out, before = good_build
    make_case(name, tmp_path)
    started = time.perf_counter()
    proc = run_cli("build", "course", "--out", str(out), cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 1, proc.stderr
    assert_one_expected_error(name, proc.stderr)
    assert proc.stdout == ""
    assert snapshot(out) == before
    if name == "oversize-markdown":
        # Refused from its size, before reading 50 MB: as quick as any other error.
        assert elapsed < 5, f"took {elapsed:.1f} s"


@pytest.mark.parametrize("name", ACCEPTED)
def test_windows_line_ends_and_byte_order_marks_give_the_same_package(
    name: str, good_build: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    _, before = good_build
    course = make_case(name, tmp_path)
    assert any(
        b"\r\n" in p.read_bytes() or p.read_bytes()[:3] == b"\xef\xbb\xbf"
        for p in course.rglob("*.md")
    )
    other = tmp_path / "dist"
    proc = run_cli("build", "course", "--out", str(other), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for package in ("corpus-course-scorm12.zip", "corpus-course-scorm2004.zip"):
        assert (other / package).read_bytes() == before[package]


def test_a_failed_write_leaves_the_old_package_and_no_partial_file(tmp_path: Path) -> None:
    """A file that vanishes mid-build (an I/O error) loses nothing either."""
    from builder.package import Entry

    out = tmp_path / "course.zip"
    write_package([Entry("imsmanifest.xml", data=b"<manifest/>")], out, 0)
    good = out.read_bytes()
    entries = [
        Entry("imsmanifest.xml", data=b"<manifest/>"),
        Entry("media/gone.mp4", source=tmp_path / "gone.mp4"),
    ]
    with pytest.raises(OSError):
        write_package(entries, out, 0)
    assert out.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["course.zip"]
