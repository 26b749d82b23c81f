"""A course rebuilt and uploaded over the old one keeps each learner's progress that still applies.

Real packages: version 1 is walked, then version 2 (a question added, one removed, units
reordered, text edited, one question's options changed, a unit removed) is launched on the data
version 1 left. Visited units that still exist, answers to questions whose options did not
change, quiz attempts and best scores come back; only what changed is dropped. Data saved by
the previous runtime (suspend_data format 1) is still read.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import FIXTURES, Lms

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"
TARGETS = ("scorm12", "scorm2004")

#: What the previous runtime (format 1) saved for all-types after a walk answering everything
#: right and the reflections with "My thoughts on <id>, in a few words.".
FORMAT_1 = (
    "1.0z4zyxe.111.01zzzo017psr017psr.17:My thoughts on think-first, in a few words.,12,3,"
    "5:Paris,0,t,5,12,1:4,12:My thoughts on as-why, in a few words."
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def version_1(root: Path) -> Path:
    """all-types with one more unit, `extra`, that version 2 removes."""
    folder = root / "v1"
    shutil.copytree(ALL_TYPES, folder)
    course = load(folder / "course.yaml")
    course["units"].insert(1, "extra")
    dump(folder / "course.yaml", course)
    front = {"id": "extra", "title": "Extra", "kind": "handout", "duration": 5}
    text = "---\n" + yaml.safe_dump(front) + "---\n\nSoon gone.\n"
    (folder / "units" / "extra.md").write_text(text, encoding="utf-8")
    return folder


def version_2(root: Path, v1: Path) -> Path:
    """Version 1 after a designer's edits."""
    folder = root / "v2"
    shutil.copytree(v1, folder)
    course = load(folder / "course.yaml")
    course["version"] = "2.0.0"
    course["units"] = ["practice", "reading", "assessment"]  # reordered, `extra` removed
    dump(folder / "course.yaml", course)
    (folder / "units" / "extra.md").unlink()
    practice = load(folder / "quizzes" / "practice.yaml")
    practice["questions"] = [q for q in practice["questions"] if q["id"] != "pr-fill"]
    multi = next(q for q in practice["questions"] if q["id"] == "pr-multi")
    multi["options"].append({"id": "green", "text": "Green", "correct": True})
    practice["questions"].append(
        {"id": "pr-tf", "type": "true-false", "prompt": "Red is a colour.", "answer": True}
    )
    dump(folder / "quizzes" / "practice.yaml", practice)
    final = load(folder / "quizzes" / "assessment.yaml")
    single = next(q for q in final["questions"] if q["id"] == "as-single")
    single["prompt"] = "Which of these is a fruit?"
    single["options"][0]["text"] = "An apple"
    dump(folder / "quizzes" / "assessment.yaml", final)
    return folder


def snapshot(lms: Lms) -> dict[str, Any]:
    """The learner's state as the SCO on screen holds it."""
    return lms.frame.evaluate(
        """() => { const t = scormBuilder.tracker, c = t.course;
             const quizzes = c.units.filter(u => u.quiz).map(u => u.quiz);
             return {
               visited: c.units.filter(u => t.unitStatus(u.id) !== 'not-started').map(u => u.id),
               quizzes: Object.fromEntries(quizzes.map(z => [z.id, t.quiz(z.id)])),
               answers: Object.fromEntries(quizzes.flatMap(z => z.questions)
                 .map(q => [q.id, t.answer(q.id) === undefined ? null : t.answer(q.id)])) }; }"""
    )


@pytest.mark.parametrize("target", TARGETS)
def test_an_updated_course_keeps_what_still_applies(
    lms: Lms, packages: Any, tmp_path: Path, target: str
) -> None:
    v1 = version_1(tmp_path)
    v2 = version_2(tmp_path, v1)
    old = packages(v1, target, "single")
    # Everything wrong: the assessment is failed with an attempt left, so the SCO suspends.
    lms.launch(old)
    lms.walk(old, correct=False)
    lms.launch(old, cmi=lms.relaunch_data())
    before = snapshot(lms)
    assert set(before["visited"]) == {"reading", "extra", "practice", "assessment"}
    lms.close()

    lms.launch(packages(v2, target, "single"), cmi=lms.relaunch_data())
    after = snapshot(lms)

    assert sorted(after["visited"]) == ["assessment", "practice", "reading"]
    kept = {"pr-match", "think-first", "as-single", "as-tf", "as-multi", "as-match", "as-fill"}
    assert {q: after["answers"][q] for q in kept} == {q: before["answers"][q] for q in kept}
    assert all(before["answers"][q] not in (None, "", [], {}) for q in kept)
    assert after["answers"]["pr-multi"] is None, "its options changed"
    assert after["answers"]["pr-tf"] is None, "a new question"
    assert "pr-fill" not in after["answers"]
    # Attempts and best scores survive; a result stays on screen only for an unchanged quiz.
    for quiz in ("final", "practice-check", "reflect"):
        assert after["quizzes"][quiz]["attempts"] == before["quizzes"][quiz]["attempts"] == 1
        assert after["quizzes"][quiz]["best"] == before["quizzes"][quiz]["best"]
    assert after["quizzes"]["final"]["review"] is True
    assert after["quizzes"]["practice-check"]["review"] is False
    lms.go_to("assessment")
    assert lms.frame.locator('form[data-quiz="final"] [data-result]').is_visible()
    lms.close()
    saved = lms.history()["index.html"]["suspend_data"]
    assert saved.startswith("2!practice,reading,assessment!")
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_data_saved_in_format_1_is_still_read(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "single")
    if target == "scorm12":
        cmi: dict[str, Any] = {
            "core": {"entry": "resume", "lesson_status": "incomplete", "lesson_location": "home"},
            "suspend_data": FORMAT_1,
        }
    else:
        cmi = {
            "entry": "resume",
            "completion_status": "incomplete",
            "location": "home",
            "suspend_data": FORMAT_1,
        }
    lms.launch(package, cmi=cmi)
    state = snapshot(lms)
    assert state["visited"] == ["reading", "practice", "assessment"]
    assert state["answers"]["as-single"] == "apple"
    assert state["answers"]["pr-match"] == {"supply": "sold", "demand": "wanted"}
    assert state["answers"]["as-why"] == "My thoughts on as-why, in a few words."
    assert state["quizzes"]["final"] == {"attempts": 1, "best": 100, "review": True}
    lms.close()
    assert lms.history()["index.html"]["suspend_data"].startswith("2!"), "saved in format 2"
    lms.assert_clean()
