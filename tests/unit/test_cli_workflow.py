"""The designer's workflow from the command line: validate output, build summary, preview."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, cli_command, run_cli


def unbuffered() -> dict[str, str]:
    """The environment for a builder process whose output is read while it runs."""
    # Built at call time: the session's private cache folder is set after this module loads.
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def broken_course(minimal_course: Path) -> Path:
    course = minimal_course.rename(minimal_course.with_name("broken"))
    yaml = course / "course.yaml"
    yaml.write_text(yaml.read_text().replace("language: en", "language: en\nlangauge: fr"))
    (course / "units" / "extra.md").write_text(
        "---\nid: extra\ntitle: Extra\nkind: handout\nduration: 1\ncolor: red\n---\n\nText.\n"
    )
    return course


def test_validate_prints_every_problem_with_its_hint(minimal_course, tmp_path):
    course = broken_course(minimal_course)
    proc = run_cli("validate", "broken", cwd=tmp_path)
    assert proc.returncode == 1
    assert re.search(r"^broken/course\.yaml:\d+:1: error\[E202\]: unknown key 'langauge'$",
                     proc.stderr, re.M)  # fmt: skip
    assert "  hint: did you mean 'language'?" in proc.stderr
    # Every problem at once, in every file.
    assert "broken/units/extra.md:6:1: error[E202]: unknown key 'color'" in proc.stderr
    assert "2 error(s), 0 warning(s)" in proc.stderr
    # Warnings alone pass, unless --strict.
    yaml = course / "course.yaml"
    yaml.write_text(yaml.read_text().replace("langauge: fr\n", ""))
    extra = course / "units" / "extra.md"
    extra.write_text(extra.read_text().replace("color: red\n", ""))
    proc = run_cli("validate", "broken", cwd=tmp_path)
    assert proc.returncode == 0 and "warning[W302]" in proc.stderr
    assert "  hint: add it to 'units'" in proc.stderr
    proc = run_cli("validate", "broken", "--strict", cwd=tmp_path)
    assert proc.returncode == 1 and "warning[W302]" in proc.stderr


def test_validate_json_is_complete_and_alone_on_stdout(minimal_course, tmp_path):
    broken_course(minimal_course)
    proc = run_cli("validate", "broken", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    keys = {"path", "line", "column", "severity", "code", "message", "hint"}
    assert data and all(set(d) == keys for d in data)
    by_path = {d["path"]: d for d in data}
    assert set(by_path) == {"broken/course.yaml", "broken/units/extra.md"}
    typo = by_path["broken/course.yaml"]
    assert (typo["code"], typo["severity"]) == ("E202", "error") and typo["line"] > 1
    assert typo["hint"] == "did you mean 'language'?"


def test_build_summary_quiet_and_suspend_budget(tmp_path):
    proc = run_cli(
        "build", str(FIXTURES / "minimal"), "--out", str(tmp_path / "d"),
        "--target", "all", "--target", "gift", "--target", "moodle-xml",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for target in ("scorm12", "scorm2004", "gift", "moodle-xml"):
        assert re.search(rf"^{target}\s+\S+\s+\d+\.\d KiB$", out, re.M), target
    assert re.search(r"^suspend_data scorm12\s+worst case [\d,]+ of 4,096 characters", out, re.M)
    assert re.search(r"^suspend_data scorm2004\s+worst case [\d,]+ of 64,000 characters", out, re.M)
    assert re.search(r"^built 4 target\(s\), [\d.]+ KiB, in [\d.]+ s$", out, re.M)
    proc = run_cli("build", str(FIXTURES / "minimal"), "--out", str(tmp_path / "q"), "--quiet")
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == ""


def test_build_shows_progress_on_a_terminal_only(tmp_path):
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        cli_command("build", str(FIXTURES / "minimal"), "--out", str(tmp_path / "d")),
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower,
        env=unbuffered(),
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    stdout = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0
    assert b"writing scorm" in seen or b"reading the course" in seen
    assert b"packaging" not in stdout  # the summary on stdout stays plain


def test_help_stays_fast_by_importing_lazily():
    code = (
        "import sys, builder.cli; heavy = {'rich', 'watchfiles', 'lxml', 'jinja2', 'pydantic'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    proc = run_cli("--help")
    for command in ("build", "validate", "preview", "new", "inspect"):
        assert command in proc.stdout


def preview_process(course: Path, tmp: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """A running `preview` (temporary folders in `tmp` if given) and its address.

    The address line is awaited for 60 s at most: a preview that never starts fails the test.
    """
    env = unbuffered() | ({"TMPDIR": str(tmp)} if tmp is not None else {})
    proc = subprocess.Popen(
        cli_command("preview", str(course), "--port", "0"),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else ""
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        proc.kill()
        raise AssertionError(line + proc.communicate(timeout=30)[1])
    return proc, match.group(0)


def test_preview_command_serves_until_interrupted(minimal_course):
    proc, url = preview_process(minimal_course)
    try:
        with urllib.request.urlopen(url + "__build", timeout=10) as res:
            info = json.load(res)
        assert info["ok"] is True
        with urllib.request.urlopen(url, timeout=10) as res:
            assert b"LMS simulator" in res.read()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "build 1: ok" in err and "Traceback" not in err


@pytest.mark.parametrize("case", ["missing folder", "folder without course.yaml", "a file"])
def test_a_course_that_is_not_there_exits_1_for_every_command(tmp_path, case):
    course = tmp_path / "nothing"
    if case == "folder without course.yaml":
        course.mkdir()
    elif case == "a file":
        course.write_text("not a folder")
    expected = f"{course}/course.yaml:1:1: error[E100]: course.yaml not found"
    for command in (
        ["build", "--out", str(tmp_path / "d")],
        ["validate"],
        ["preview", "--port", "0"],
    ):
        proc = run_cli(command[0], str(course), *command[1:])
        assert proc.returncode == 1, (command, proc.stderr)
        assert proc.stderr.splitlines()[0] == expected, command
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_preview_stopped_by_a_signal_deletes_its_temporary_builds(minimal_course, tmp_path, signum):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, url = preview_process(minimal_course, tmp)
    try:
        with urllib.request.urlopen(url + "__build", timeout=10) as res:
            assert json.load(res)["ok"] is True
        [work] = list(tmp.iterdir())
        assert work.name.startswith("scorm-builder-preview-") and any(work.rglob("index.html"))
    finally:
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopping" in err and "Traceback" not in err
    assert list(tmp.iterdir()) == []


def test_preview_on_a_port_in_use_exits_2_and_leaves_nothing(minimal_course, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = run_cli("preview", str(minimal_course), "--port", port, env={"TMPDIR": str(tmp)})
    assert proc.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr and list(tmp.iterdir()) == []
