"""The tutorial works as written: every command it gives is run, every file it gives is used."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.conftest import REPO, cli_command, run_cli

TUTORIAL = REPO / "docs" / "tutorial.md"
#: Commands that set up Python itself: the test runs in an environment that has it already.
SETUP = ("python3 --version", "python3 -m venv ", "source ", "python3 -m pip install ")
STEP = re.compile(
    r"<!-- file: (?P<file>\S+) -->\n```\w*\n(?P<text>.*?)```|```sh\n(?P<commands>.*?)```",
    re.DOTALL,
)


def _steps() -> list[tuple[str, str]]:
    """The tutorial's steps in order: ("file", path + NUL + text) or ("run", command line)."""
    steps = []
    for m in STEP.finditer(TUTORIAL.read_text(encoding="utf-8")):
        if m.group("file"):
            steps.append(("file", f"{m.group('file')}\0{m.group('text')}"))
        else:
            steps += [("run", line) for line in m.group("commands").splitlines() if line.strip()]
    return steps


def _preview(args: list[str], cwd: Path) -> str:
    """Start `preview` as the tutorial says (on a free port, no browser); the course's page as
    the simulator serves it (SCORM 1.2 build); then stop it as the tutorial says (Ctrl+C)."""
    args = [a for a in args if a != "--open"] + ["--port", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        cli_command(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
            assert url, line + (proc.stderr.read() if proc.stderr else "")
            page_url = url.group().rstrip("/") + "/content/scorm12/index.html"
            with urllib.request.urlopen(page_url, timeout=30) as response:
                page = response.read().decode("utf-8")
                assert response.status == 200
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) in (0, -signal.SIGINT, 130)
    return page


def test_every_command_and_file_of_the_tutorial_works(tmp_path):
    steps = _steps()
    commands = [text for kind, text in steps if kind == "run"]
    assert [c for c in commands if not c.startswith(("scorm-builder ", *SETUP))] == []
    assert sum(kind == "file" for kind, _ in steps) == 2
    ran = []
    for kind, text in steps:
        if kind == "file":
            name, content = text.split("\0")
            path = tmp_path / name
            assert path.is_file(), f"the tutorial replaces {name}, which should exist by then"
            path.write_text(content, encoding="utf-8")
            continue
        if text.startswith(SETUP):
            continue
        args = shlex.split(text)[1:]
        if args[0] == "preview":
            page = _preview(args, tmp_path)
            assert "Fire safety at work" in page and "When the alarm sounds" in page
            ran.append("preview")
            continue
        proc = run_cli(*args, cwd=tmp_path)
        assert proc.returncode == 0, f"{text}\n{proc.stdout}{proc.stderr}"
        assert "warning" not in proc.stderr, proc.stderr
        ran.append(args[0])
    assert ran == ["--version", "new", "validate", "preview", "build"]
    # What the tutorial promises: three units, a graded quiz of three questions, two packages.
    course = tmp_path / "fire-safety"
    assert len(list((course / "units").glob("*.md"))) == 3
    assert sorted(p.name for p in (tmp_path / "dist").glob("*.zip")) == [
        "fire-safety-scorm12.zip",
        "fire-safety-scorm2004.zip",
    ]
    assert (course / "quizzes" / "check.yaml").read_text().count("  - id: check-") == 3


def test_the_tutorials_example_error_is_what_validate_says(tmp_path):
    text = TUTORIAL.read_text(encoding="utf-8")
    example = re.search(r"^fire-safety/units/welcome\.md:\d+:\d+: error\[E327\].*$", text, re.M)
    assert example
    assert run_cli("new", "fire-safety", cwd=tmp_path).returncode == 0
    welcome = re.search(
        r"<!-- file: fire-safety/units/welcome.md -->\n```\w*\n(.*?)```", text, re.S
    )
    assert welcome
    (tmp_path / "fire-safety" / "units" / "welcome.md").write_text(
        welcome.group(1).replace("::: key-point", "::: tip"), encoding="utf-8"
    )
    proc = run_cli("validate", "fire-safety", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == example.group()
