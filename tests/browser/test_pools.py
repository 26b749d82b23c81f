"""Quizzes that draw their questions, shuffle their options, limit attempts and hold their
answers back; the sequencing and likert question types. All against Moodle's rules.

The `pool` fixture: a warm-up (a sequencing and a likert question, immediate feedback) and an
exam that draws 3 of its 5 graded questions per attempt, shuffles options, allows 2 attempts and
shows answers only after a pass or the last attempt.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, Lms, axe_violations

pytestmark = pytest.mark.browser

TARGETS = ("scorm12", "scorm2004")
MODES = ("single", "multi")
POOL = FIXTURES / "pool"


def interactions(cmi: dict[str, Any]) -> list[dict[str, Any]]:
    found = cmi.get("interactions") or {}
    return [found[k] for k in sorted(found, key=int)]


def exam_of(lms: Lms) -> dict[str, Any]:
    return next(u["quiz"] for u in lms.course_data()["units"] if u["id"] == "exam")


def shown(lms: Lms) -> dict[str, list[str]]:
    """Each visible question of the exam and its options (or steps) in the order on screen."""
    return lms.frame.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll(
             'form[data-quiz="exam-quiz"] [data-question]')].filter(q => !q.hidden).map(q =>
             [q.dataset.question, [...q.querySelectorAll('input, [data-step]')].map(
               n => n.value || n.dataset.step)]))"""
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS)
def test_drawn_questions_and_the_new_types_are_recorded_as_moodle_accepts(
    lms: Lms, packages: Any, target: str, mode: str
) -> None:
    package = packages(POOL, target, mode)
    history = lms.walk(package)

    assert lms.refused() == [], "Moodle would have refused these"
    recorded = [i for data in history.values() for i in interactions(data)]
    drawn = lms.drawn["exam-quiz"]
    assert len(drawn) == 3
    pool = {"ex-fruit", "ex-boil", "ex-even", "ex-week", "ex-ice"}
    assert {i["id"] for i in recorded} & pool == set(drawn), "interactions for drawn ones only"
    by_id = {i["id"]: i for i in recorded}
    order = by_id["wu-order"]
    assert order["type"] == "sequencing" and order["result"] == "correct"
    if target == "scorm12":
        assert order["student_response"] == "a,b,c,d"
        assert order["correct_responses"]["0"]["pattern"] == "a,b,c,d"
    else:
        assert order["learner_response"] == "boil[,]pour[,]steep[,]serve"
    likert = {i["id"]: i for i in recorded if i["type"] == "likert"}
    assert set(likert) >= {"wu-confidence"}
    assert all(i["result"] == "neutral" for i in likert.values())
    response = likert["wu-confidence"][
        "student_response" if target == "scorm12" else "learner_response"
    ]
    assert response == ("c" if target == "scorm12" else "very")
    exam = history["index.html" if mode == "single" else "exam.html"]
    status = exam["core"]["lesson_status"] if target == "scorm12" else exam["success_status"]
    assert status == "passed"
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_resume_keeps_the_draw_and_the_order(lms: Lms, packages: Any, target: str) -> None:
    package = packages(POOL, target, "single")
    lms.launch(package)
    lms.go_to("exam")
    exam = exam_of(lms)
    layout = lms.layout("exam-quiz")
    before = shown(lms)
    assert len([q for q in before if q != "ex-feel"]) == 3
    first = next(q for q in exam["questions"] if q["id"] in before and q["points"] > 0)
    lms.answer(first)
    if first["type"] in ("single-choice", "multiple-response", "true-false"):
        lms.frame.locator(f"#q--{first['id']} input").first.dispatch_event("change")
    answered = lms.controls()
    lms.close()

    for _ in range(2):  # and again: what was restored is saved unchanged
        lms.launch(package, cmi=lms.relaunch_data())
        lms.go_to("exam")
        assert lms.layout("exam-quiz") == layout
        assert shown(lms) == before
        assert lms.controls() == answered
        lms.close()
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_answers_are_held_back_until_the_last_attempt(lms: Lms, packages: Any, target: str) -> None:
    package = packages(POOL, target, "multi")
    lms.launch(package, "exam.html")
    exam = exam_of(lms)
    form = lms.frame.locator('form[data-quiz="exam-quiz"]')
    lms.answer_quiz(exam, correct=False)
    strings = lms.strings()
    assert strings["feedback.later"] in lms.result("exam-quiz")
    assert form.locator(".is-incorrect, .is-answer, .fb-answer, [data-fb]:visible").count() == 0
    assert form.locator("[data-result-list] li").count() == 0

    form.locator("[data-retry]").click()
    lms.answer_quiz(exam, correct=False)  # the second and last attempt
    assert strings["feedback.later"] not in lms.result("exam-quiz")
    assert form.locator(".is-incorrect").count() == 3
    assert form.locator(".is-answer, .fb-answer").count() >= 3, "the right answers are shown"
    assert not form.locator("[data-retry]").is_visible(), "no third attempt"
    left = "t => t.attemptsLeft(t.course.units[0].quiz)"
    assert lms.frame.evaluate(f"({left})(window.scormBuilder.tracker)") == 0
    lms.close()
    cmi = lms.history()["exam.html"]
    status = cmi["core"]["lesson_status"] if target == "scorm12" else cmi["success_status"]
    assert status == "failed"
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_steps_are_reordered_with_the_keyboard(lms: Lms, packages: Any, target: str) -> None:
    package = packages(POOL, target, "multi")
    lms.launch(package, "warm-up.html")
    quiz = lms.course_data()["units"][0]["quiz"]
    order = quiz["questions"][0]
    start = lms.steps("wu-order")
    assert start != order["correct"], "the steps never start in their right order"
    step = start[-1]
    button = lms.frame.locator(f'#q--wu-order [data-step="{step}"] [data-move="up"]')
    button.focus()
    lms.page.keyboard.press("Enter")
    assert lms.steps("wu-order").index(step) == len(start) - 2
    assert lms.frame.evaluate("document.activeElement.dataset.move") == "up"
    status = lms.frame.locator("#q--wu-order [data-sequence-status]").inner_text()
    assert f"of {len(start)}" in status
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_review_mode_shows_the_attempt_drawn_and_writes_nothing(
    lms: Lms, packages: Any, target: str
) -> None:
    """Moodle's review of an unfinished attempt (a failed first try at the exam): the same
    questions and result, answers still held back; nothing that counts is written."""
    package = packages(POOL, target, "single")
    lms.walk(package, correct=False)
    drawn = lms.drawn["exam-quiz"]
    saved = lms.relaunch_data()
    lms.reset()
    review = {"core": saved["core"] | {"lesson_mode": "review"}} if target == "scorm12" else {}
    lms.launch(package, cmi=saved | (review or {"mode": "review"}))
    lms.go_to("warm-up")
    lms.go_to("exam")
    assert [q for q in shown(lms) if q != "ex-feel"] == drawn
    assert lms.frame.locator('form[data-quiz="exam-quiz"] [data-result]').is_visible()
    assert lms.strings()["feedback.later"] in lms.result("exam-quiz")
    assert lms.frame.locator('form[data-quiz="exam-quiz"] .is-incorrect').count() == 0
    lms.close()
    writes = {c["args"][0] for c in lms.calls() if c["fn"] in ("SetValue", "LMSSetValue")}
    assert writes == {"cmi.core.lesson_location" if target == "scorm12" else "cmi.location"}
    lms.assert_clean()


@pytest.mark.parametrize("mode", MODES)
def test_the_new_question_types_pass_the_accessibility_rules(
    lms: Lms, packages: Any, mode: str
) -> None:
    package = packages(POOL, "scorm2004", mode)
    lms.launch(package, package.scos()[0] if mode == "single" else "warm-up.html")
    if mode == "single":
        lms.go_to("warm-up")
    assert axe_violations(lms) == []
    quiz = lms.course_data()["units"][0]["quiz"]
    lms.answer_quiz(quiz, correct=False)  # the review state: marks, feedback, disabled moves
    assert axe_violations(lms) == []
    lms.assert_clean()
