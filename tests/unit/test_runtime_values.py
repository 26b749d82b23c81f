"""Values for Moodle decided at build time: response ids, the check on them, the warning about
packages of older builds, and the completion setting that fits the course."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from builder.inspector import inspect_package
from builder.model import (
    Matching,
    MatchPrompt,
    MatchTarget,
    Option,
    Quiz,
    SingleChoice,
    response_id,
)
from builder.pipeline import BuildSettings, build, load_course
from builder.render import course_data
from builder.sources import SourceFile
from builder.validate import _check_response_ids
from tests.conftest import edit_text, run_cli

MODULE7 = Path(__file__).parents[2] / "course"
MOODLE_ID = re.compile(r"^[\w.]{1,250}$", re.ASCII)


def test_response_ids_are_readable_and_moodle_safe() -> None:
    assert response_id("criminal-culture") == "criminal_culture"
    assert response_id("cannabis-12-4") == "cannabis_12_4"
    assert response_id("plain") == "plain"


def test_module7_course_data_maps_every_hyphenated_id() -> None:
    course = course_data(load_course(MODULE7)[0], "single")
    questions = {q["id"]: q for u in course["units"] if u["quiz"] for q in u["quiz"]["questions"]}
    assert questions["q-7-1-narco-cultura"]["lmsIds"]["criminal-culture"] == "criminal_culture"
    for q in questions.values():
        ids = [*q.get("options", []), *q.get("prompts", []), *q.get("targets", [])]
        assert all(MOODLE_ID.match(q.get("lmsIds", {}).get(i, i)) for i in ids), q["id"]
    assert "lmsIds" not in questions["q-7-4-informal"], "nothing to map: the data stays small"


def test_two_ids_reported_alike_are_refused() -> None:
    """Ids that differ only in a character Moodle refuses would merge in its reports."""
    # Author ids cannot hold "_" today; the check guards the mapping, so build the models raw.
    choice = SingleChoice.model_construct(
        id="q-one",
        type="single-choice",
        options=(Option.model_construct(id="a-b"), Option.model_construct(id="a_b")),
    )
    matching = Matching.model_construct(
        id="q-two",
        type="matching",
        prompts=(MatchPrompt.model_construct(id="x.y"), MatchPrompt.model_construct(id="x-y")),
        options=(MatchTarget.model_construct(id="t"),),
    )
    quiz = Quiz.model_construct(id="quiz", questions=(choice, matching))
    positions = {
        ("questions", 0, "options", 1, "id"): (5, 13),
        ("questions", 1, "prompts", 1, "id"): (9, 13),
    }
    source = SourceFile("quizzes/quiz.yaml", "course/quizzes/quiz.yaml", {}, positions)
    diags = list(_check_response_ids(quiz, source))
    assert [(d.code, d.line, d.column) for d in diags] == [("E314", 5, 13)]
    assert "'a-b' and 'a_b'" in diags[0].message
    assert diags[0].path == "course/quizzes/quiz.yaml"


def test_inspect_warns_about_a_2004_package_of_an_older_build(tmp_path: Path) -> None:
    result = build(
        BuildSettings(course_dir=MODULE7, out_dir=tmp_path / "new", targets=("scorm2004",))
    )
    fresh = result.outputs[0].path
    assert "I501" not in {f.code for f in inspect_package(fresh).findings}

    # The same package as an older build made it: unmapped ids, toISOString() as is.
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(fresh) as src, zipfile.ZipFile(old, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".html"):
                data = re.sub(rb',"lmsIds":\{[^}]*\}', b"", data)
            if info.filename.endswith("scorm-runtime.js"):
                data += b"\nfunction old(date) { return date.toISOString(); }\n"
            dst.writestr(info, data)
    report = inspect_package(old)
    (warning,) = [f for f in report.findings if f.code == "I501"]
    assert warning.severity == "warning"
    course = course_data(load_course(MODULE7)[0], "single")
    unsafe = [
        i
        for u in course["units"]
        if u["quiz"]
        for q in u["quiz"]["questions"]
        for i in {*q.get("options", []), *q.get("prompts", []), *q.get("targets", [])}
        if "-" in i
    ]
    assert f"sends {len(unsafe)} answer id(s) Moodle refuses (fa-" in warning.message
    assert "three decimals" in warning.message
    assert report.ok() and not report.ok(strict=True)


@pytest.mark.parametrize(
    ("status", "scorm12", "scorm2004"),
    [
        ("passed/incomplete", 'tick "Passed"', 'tick "Completed" or "Passed"'),
        ("completed/incomplete", 'tick "Completed"', 'tick "Completed"'),
        ("passed/failed", 'tick "Passed"', 'tick "Passed" to complete on a pass'),
    ],
)
def test_build_and_inspect_print_the_completion_setting(
    minimal_course: Path, tmp_path: Path, status: str, scorm12: str, scorm2004: str
) -> None:
    if status == "completed/incomplete":
        edit_text(minimal_course / "course.yaml", "status: passed/failed", f"status: {status}")
        edit_text(minimal_course / "course.yaml", "  pass_mark: 50\n  assessment: check\n", "")
    else:
        edit_text(minimal_course / "course.yaml", "status: passed/failed", f"status: {status}")
    built = run_cli("build", str(minimal_course), "--out", str(tmp_path / "out"))
    assert built.returncode == 0, built.stderr
    lines = [line for line in built.stdout.splitlines() if "Require status" in line]
    assert len(lines) == 2
    assert lines[0].startswith("Moodle (SCORM 1.2)") and scorm12 in lines[0]
    assert lines[1].startswith("Moodle (SCORM 2004)") and scorm2004 in lines[1]
    packages = sorted((tmp_path / "out").glob("*.zip"))
    for zip_path, expected in zip(packages, (scorm12, scorm2004), strict=True):
        shown = run_cli("inspect", str(zip_path))
        assert expected in shown.stdout.splitlines()[-1]
    report = json.loads(run_cli("inspect", str(zip_path), "--format", "json").stdout)
    assert report["reporting"] == status
