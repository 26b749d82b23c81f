"""The command line as a user runs it: a real subprocess, real exit codes."""

from __future__ import annotations

import zipfile

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
