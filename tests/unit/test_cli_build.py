"""The command line as a user runs it: a real subprocess, real exit codes."""

from __future__ import annotations

import io
import marshal
import pickle
import zipfile
from pathlib import Path

from jinja2.bccache import bc_magic

from builder import __version__
from tests.conftest import FIXTURES, run_cli


def test_build_default_course_writes_both_targets(tmp_path):
    proc = run_cli("build", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "drugs-security-organised-crime-scorm12.zip",
        "drugs-security-organised-crime-scorm2004.zip",
    ]
    for name in names:
        with zipfile.ZipFile(tmp_path / name) as zf:
            assert zf.namelist()[0] == "imsmanifest.xml"
    assert "scorm12" in proc.stdout and "scorm2004" in proc.stdout


def test_build_one_target_and_mode(tmp_path):
    proc = run_cli(
        "build",
        str(FIXTURES / "minimal"),
        "--target",
        "scorm2004",
        "--mode",
        "multi",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    [zip_path] = tmp_path.iterdir()
    assert zip_path.name == "minimal-course-scorm2004.zip"
    assert "rules.html" in zipfile.ZipFile(zip_path).namelist()


def test_course_errors_exit_1_with_located_messages_and_no_traceback(minimal_course, tmp_path):
    course = minimal_course.rename(tmp_path / "broken")
    yaml = course / "course.yaml"
    yaml.write_text(yaml.read_text().replace("language: en", "language: en\ncolour: blue"))
    out = tmp_path / "dist"
    proc = run_cli("build", "broken", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 1
    assert "broken/course.yaml:5:1: error[E202]: unknown key 'colour'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()
    proc = run_cli("validate", "broken", cwd=tmp_path)
    assert proc.returncode == 1 and "error[E202]" in proc.stderr


def test_validate_ok_and_json(tmp_path):
    proc = run_cli("validate", str(FIXTURES / "minimal"))
    assert proc.returncode == 0 and "no problems found" in proc.stdout
    proc = run_cli("validate", str(FIXTURES / "minimal"), "--format", "json")
    assert proc.returncode == 0 and proc.stdout.strip() == "[]"


def test_usage_errors_exit_2():
    assert run_cli("build", "--target", "scorm3").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_missing_course_folder_is_a_course_error(tmp_path):
    proc = run_cli("build", str(tmp_path / "nothing"), "--out", str(tmp_path / "d"))
    assert proc.returncode == 1
    assert "course.yaml:1:1: error[E100]: course.yaml not found" in proc.stderr


def test_version_and_help():
    proc = run_cli("--version")
    assert proc.returncode == 0 and __version__ in proc.stdout
    proc = run_cli("--help")
    assert proc.returncode == 0 and "build" in proc.stdout and "validate" in proc.stdout


def test_compiled_templates_are_kept_per_user_and_never_change_a_package(minimal_course, tmp_path):
    cache_home = tmp_path / "xdg-cache"
    templates = cache_home / "scorm-builder" / "templates"

    def build_into(out: str, cache: Path | str = cache_home, **env: str) -> dict[str, bytes]:
        proc = run_cli(
            "build",
            str(minimal_course),
            "--out",
            str(tmp_path / out),
            cwd=tmp_path,
            env={"XDG_CACHE_HOME": str(cache), **env},
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""  # nothing said about the cache, whatever state it is in
        return {p.name: p.read_bytes() for p in (tmp_path / out).glob("*.zip")}

    first = build_into("out1")
    assert sorted(first) == ["minimal-course-scorm12.zip", "minimal-course-scorm2004.zip"]
    kept = sorted(templates.iterdir())
    assert kept and all(p.is_file() and p.stat().st_size > 0 for p in kept)
    # A build that finds compiled templates gives the same bytes.
    assert build_into("out2") == first
    # Damaged entries (garbage, or emptied as by a full disk) only mean compiling again.
    for entry in kept:
        entry.write_bytes(b"\x00not compiled code\xff" * 64)
    kept[0].write_bytes(b"")
    assert build_into("out3") == first
    # A cache folder that cannot be created (its parent is a file) is not an error either.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file")
    assert build_into("out4", cache=blocker) == first
    assert blocker.read_text() == "a regular file"
    # Entries that pass Jinja's checks (header, source checksum) but hold no code.
    for entry in sorted(templates.iterdir()):
        data = io.BytesIO(entry.read_bytes())
        assert data.read(len(bc_magic)) == bc_magic
        pickle.load(data)  # the template source's checksum
        entry.write_bytes(data.getvalue()[: data.tell()] + marshal.dumps(42))
    assert build_into("out5") == first
    # A relative XDG_CACHE_HOME is ignored, as the XDG rules say: nothing lands in the folder
    # the build runs in; the cache goes to ~/.cache.
    home = tmp_path / "home"
    assert build_into("out6", cache="relative-cache", HOME=str(home)) == first
    assert not (tmp_path / "relative-cache").exists()
    assert any((home / ".cache" / "scorm-builder" / "templates").iterdir())
