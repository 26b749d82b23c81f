"""Tracking against scorm-again: statuses, scores and interactions, per version and mode."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import FIXTURES, MODULE7, Lms

from builder.pipeline import load_course
from builder.render import course_data

pytestmark = pytest.mark.browser

TARGETS = ("scorm12", "scorm2004")
MODES = ("single", "multi")
COURSES = {"module7": MODULE7, "all-types": FIXTURES / "all-types"}

STATUS_RANK_12 = {"not attempted": 0, "incomplete": 1, "completed": 2, "failed": 2, "passed": 3}
REFLECTIONS = {"as-why", "think-first"}
RANK_2004 = {"unknown": 0, "incomplete": 1, "completed": 2, "failed": 1, "passed": 2}


def interactions(cmi: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactions of one SCO's CMI data, in order."""
    found = cmi.get("interactions") or {}
    return [found[k] for k in sorted(found, key=int)]


def assessment_cmi(history: dict[str, dict[str, Any]], package: Any, course: dict[str, Any]):
    """The CMI data of the SCO that reports the assessment."""
    if package.mode == "single":
        return history["index.html"]
    return history[f"{course['reporting']['assessment']}.html"]


def assert_never_downgraded(lms: Lms, version: str) -> None:
    """Each status element only ever went up, and 'not attempted' was never written."""
    elements = (
        ["cmi.core.lesson_status"]
        if version == "1.2"
        else ["cmi.completion_status", "cmi.success_status"]
    )
    for element in elements:
        values = lms.set_values(element)
        ranks = [(STATUS_RANK_12 if version == "1.2" else RANK_2004)[v] for v in values]
        assert ranks == sorted(ranks), f"{element} went down: {values}"
        assert "not attempted" not in values


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("course_name", list(COURSES))
def test_every_answer_right_passes_with_100(
    lms: Lms, packages: Any, course_name: str, target: str, mode: str
) -> None:
    package = packages(COURSES[course_name], target, mode)
    course = course_data(load_course(COURSES[course_name])[0], "single")
    history = lms.walk(package, correct=True)

    # Interactions for the questions each attempt put on screen: with a draw, those drawn.
    expected = [
        q
        for u in course["units"]
        if u["quiz"]
        for q in u["quiz"]["questions"]
        if q["id"] in lms.drawn[u["quiz"]["id"]] or q["type"] in ("reflection", "likert")
    ]

    assert set(history) == set(package.scos()), "every SCO ran and terminated"
    cmi = assessment_cmi(history, package, course)
    rule = course["reporting"]["status"]
    if package.version == "1.2":
        wanted = "completed" if rule == "completed/incomplete" else "passed"
        assert cmi["core"]["lesson_status"] == wanted
        if rule != "completed/incomplete":
            assert float(cmi["core"]["score"]["raw"]) == 100
        assert cmi["core"]["exit"] == ""
    else:
        assert cmi["completion_status"] == "completed"
        if rule != "completed/incomplete":
            assert cmi["success_status"] == "passed"
            assert float(cmi["score"]["raw"]) == 100
            assert float(cmi["score"]["scaled"]) == 1
        assert cmi["exit"] == "normal"
    # Every other SCO is completed too.
    for data in history.values():
        if package.version == "1.2":
            assert data["core"]["lesson_status"] in ("completed", "passed")
        else:
            assert data["completion_status"] == "completed"

    recorded = [i for data in history.values() for i in interactions(data)]
    assert [i["id"] for i in recorded] == [q["id"] for q in expected]
    for question, item in zip(expected, recorded, strict=True):
        response = item["student_response" if package.version == "1.2" else "learner_response"]
        if question["type"] == "reflection":
            # Recorded so that teachers can read it; neither right nor wrong.
            assert item["result"] == "neutral"
            assert item["type"] == ("fill-in" if package.version == "1.2" else "long-fill-in")
            assert response == f"My thoughts on {question['id']}, in a few words."
            continue
        assert item["result"] == "correct"
        patterns = [p["pattern"] for p in item["correct_responses"].values()]
        # A right answer is written exactly as the correct-response pattern: same format.
        assert response in [p.removeprefix("{case_matters=true}") for p in patterns]
        kind = {"single-choice": "choice", "multiple-response": "choice"}.get(question["type"])
        assert item["type"] == (kind or question["type"])
        assert item["objectives"]["0"]["id"] in {u["id"] for u in course["units"]}
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_interaction_formats_follow_the_version(lms: Lms, packages: Any, target: str) -> None:
    package = packages(FIXTURES / "all-types", target, "single")
    history = lms.walk(package, correct=False)
    by_id = {i["id"]: i for i in interactions(history["index.html"])}
    if package.version == "1.2":
        # SCORM 1.2: single characters for choices, "source.target" pairs, t/f, "wrong".
        assert by_id["as-single"]["student_response"] == "b"
        assert by_id["as-single"]["correct_responses"]["0"]["pattern"] == "a"
        assert by_id["as-multi"]["correct_responses"]["0"]["pattern"] == "a,c"
        assert by_id["as-tf"]["student_response"] == "f"
        assert by_id["as-match"]["student_response"] == "1.b,2.a"
        assert by_id["as-match"]["correct_responses"]["0"]["pattern"] == "1.a,2.b"
        assert {i["result"] for k, i in by_id.items() if k not in REFLECTIONS} == {"wrong"}
        assert all(len(i["time"]) == 8 for i in by_id.values())
    else:
        # SCORM 2004: the author's ids with [,] and [.], true/false, "incorrect".
        assert by_id["as-single"]["learner_response"] == "brick"
        assert by_id["as-multi"]["correct_responses"]["0"]["pattern"] == "two[,]four"
        assert by_id["as-tf"]["learner_response"] == "false"
        assert by_id["as-match"]["learner_response"] == "dog[.]meow[,]cat[.]bark"
        assert by_id["as-match"]["correct_responses"]["0"]["pattern"] == "dog[.]bark[,]cat[.]meow"
        assert {i["result"] for k, i in by_id.items() if k not in REFLECTIONS} == {"incorrect"}
        # Two decimals of seconds at most: Moodle refuses toISOString()'s three.
        assert all(
            re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ", i["timestamp"])
            for i in by_id.values()
        )
        assert by_id["as-fill"]["description"] == "Two plus two makes …"
    # A reflection is recorded for the teacher to read: neither right nor wrong, not scored.
    why = by_id["as-why"]
    assert why["result"] == "neutral" and float(why["weighting"]) == 0
    assert why["type"] == ("fill-in" if package.version == "1.2" else "long-fill-in")
    lms.assert_clean()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS)
def test_wrong_answers_fail_then_a_retry_passes(
    lms: Lms, packages: Any, target: str, mode: str
) -> None:
    """all-types reports passed/failed with two attempts at the assessment."""
    package = packages(FIXTURES / "all-types", target, mode)
    scos = package.scos()
    page = "index.html" if mode == "single" else "assessment.html"
    lms.launch(package, page)
    if mode == "single":
        lms.go_to("assessment")
    quiz = next(u["quiz"] for u in lms.course_data()["units"] if u["id"] == "assessment")

    lms.answer_quiz(quiz, correct=False)
    strings = lms.strings()
    result = lms.result(quiz["id"])
    assert strings["result.score"].format(score=0) in result
    assert strings["attempts.left"].format(n=1) in result
    cmi = lms.cmi()
    if package.version == "1.2":
        assert lms.set_values("cmi.core.lesson_status")[-1] == "failed"
        assert cmi["core"]["score"]["raw"] == "0"
    else:
        assert cmi["success_status"] == "failed"
        assert cmi["completion_status"] == "completed"

    retry = lms.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-retry]')
    retry.click()
    assert not lms.frame.locator(f"#q--{quiz['questions'][0]['id']}--apple").is_checked()
    lms.answer_quiz(quiz, correct=True)
    assert strings["result.passed"].format(**{"pass": 80}) in lms.result(quiz["id"])
    assert retry.is_hidden()
    lms.close()
    cmi = lms.history()[page]
    if package.version == "1.2":
        assert cmi["core"]["lesson_status"] == "passed"
        assert cmi["core"]["score"]["raw"] == "100"
    else:
        assert cmi["success_status"] == "passed"
        assert cmi["score"]["scaled"] == "1"
    tries = [i for i in interactions(cmi) if i["id"] == "as-single"]
    assert [i["result"] for i in tries] == [
        "wrong" if package.version == "1.2" else "incorrect",
        "correct",
    ], "each attempt is recorded"
    assert_never_downgraded(lms, package.version)
    assert scos
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_failing_module7_leaves_it_incomplete(lms: Lms, packages: Any, target: str) -> None:
    """Module 7 reports passed/incomplete: a failed assessment is 'incomplete', not 'failed'."""
    package = packages(MODULE7, target, "single")
    lms.launch(package)
    course = lms.course_data()
    assert course["reporting"]["status"] == "passed/incomplete"
    history = lms.walk(package, correct=False)
    cmi = history["index.html"]
    if package.version == "1.2":
        assert cmi["core"]["lesson_status"] == "incomplete"
        assert cmi["core"]["exit"] == "suspend"
    else:
        assert cmi["completion_status"] == "incomplete"
        assert cmi["success_status"] == "unknown"
        assert cmi["exit"] == "suspend"
    assert_never_downgraded(lms, package.version)
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_each_unit_is_an_objective_in_single_mode(lms: Lms, packages: Any, target: str) -> None:
    package = packages(FIXTURES / "all-types", target, "single")
    history = lms.walk(package, correct=True)
    objectives = history["index.html"]["objectives"]
    by_id = {o["id"]: o for o in objectives.values()}
    assert set(by_id) == {"reading", "practice", "assessment"}
    if package.version == "1.2":
        assert by_id["reading"]["status"] == "completed"
        assert by_id["assessment"]["status"] == "passed"
    else:
        assert by_id["reading"]["completion_status"] == "completed"
        assert by_id["assessment"]["success_status"] == "passed"
        assert by_id["practice"]["score"]["scaled"] == "1"
    lms.assert_clean()


def test_session_time_and_exit_are_written_before_terminating(lms: Lms, packages: Any) -> None:
    for target, session, exit_ in (
        ("scorm12", "cmi.core.session_time", "cmi.core.exit"),
        ("scorm2004", "cmi.session_time", "cmi.exit"),
    ):
        package = packages(FIXTURES / "all-types", target, "single")
        lms.reset()
        lms.launch(package)
        lms.close()
        names = [c["fn"] for c in lms.calls()]
        finish = "LMSFinish" if target == "scorm12" else "Terminate"
        assert names.count(finish) == 1
        assert names.count("LMSInitialize" if target == "scorm12" else "Initialize") == 1
        before = [c["args"][0] for c in lms.calls()[: names.index(finish)] if "Set" in c["fn"]]
        assert session in before and exit_ in before
        assert lms.set_values(exit_) == ["suspend"], "unfinished: the LMS keeps the data"
    lms.assert_clean()
