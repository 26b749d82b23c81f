"""Resume, standalone mode and an LMS that refuses values: nothing the learner did is lost."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, MODULE7, Lms

pytestmark = pytest.mark.browser

TARGETS = ("scorm12", "scorm2004")
ALL_TYPES = FIXTURES / "all-types"


def start_mid_way(lms: Lms) -> None:
    """Save the reflection of unit 1, then half-answer unit 2's quiz without submitting it."""
    lms.frame.locator("[data-start]").click()
    lms.frame.locator("section#reading").wait_for()
    lms.frame.locator("#q--think-first--input").fill(
        "Commas, colons: dots. And a line\nbreak – ü ✓"
    )
    lms.frame.locator('form[data-quiz="reflect"] [data-submit]').click()
    lms.frame.locator(".reveal.is-open").wait_for()
    lms.frame.locator("[data-next]").click()
    lms.frame.locator("section#practice").wait_for()
    lms.frame.locator("#q--pr-match--supply").select_option("sold")
    lms.frame.locator("#q--pr-multi--blue").check()
    lms.frame.locator("#q--pr-fill--input").fill("Par")
    lms.frame.locator("#q--pr-fill--input").blur()


@pytest.mark.parametrize("target", TARGETS)
def test_relaunch_returns_to_the_same_page_with_the_same_answers(
    lms: Lms, packages: Any, target: str
) -> None:
    package = packages(ALL_TYPES, target, "single")
    lms.launch(package)
    start_mid_way(lms)
    before = lms.controls()
    lms.close()

    data = lms.relaunch_data()
    lms.launch(package, cmi=data)
    entry = "cmi.core.entry" if target == "scorm12" else "cmi.entry"
    assert any(c["args"] == [entry] and c["result"] == "resume" for c in lms.calls())
    resume = lms.frame.locator("[data-resume]")
    assert resume.is_visible()
    assert lms.strings() and lms.frame.locator("[data-resume-yes]").is_visible()
    lms.frame.locator("[data-resume-yes]").click()
    lms.frame.locator("section#practice").wait_for()
    assert lms.visible_section() == "practice"
    assert lms.frame.evaluate("document.activeElement.id") == "practice--title"
    assert lms.controls() == before
    assert lms.frame.locator('.reveal[data-reveal-after="think-first"]').evaluate(
        "r => r.classList.contains('is-open')"
    )
    statuses = lms.frame.locator('[data-status-for="reading"]').inner_text()
    assert statuses == lms.strings()["status.completed"]
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_a_submitted_quiz_comes_back_in_review(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "multi")
    lms.launch(package, "assessment.html")
    quiz = lms.course_data()["units"][0]["quiz"]
    lms.answer_quiz(quiz, correct=False)
    before = lms.controls()
    result = lms.result(quiz["id"])
    lms.close()
    lms.launch(package, "assessment.html", cmi=lms.relaunch_data())
    assert lms.controls() == before
    assert lms.result(quiz["id"]) == result
    assert lms.frame.locator("[data-retry]").is_visible()
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_module7_resumes_mid_course(lms: Lms, packages: Any, target: str) -> None:
    """The real course: answer a quiz half-way through the course, leave, come back."""
    package = packages(MODULE7, target, "single")
    lms.launch(package)
    units = lms.course_data()["units"]
    middle = next(u for u in units[len(units) // 2 :] if u["quiz"])
    lms.go_to(middle["id"])
    for question in middle["quiz"]["questions"]:
        lms.answer(question, correct=True)
    lms.frame.locator(
        f'form[data-quiz="{middle["quiz"]["id"]}"] textarea, select, input'
    ).first.blur()
    before = lms.controls()
    lms.close()
    lms.launch(package, cmi=lms.relaunch_data())
    lms.frame.locator("[data-resume-yes]").click()
    lms.frame.locator(f"section#{middle['id']}").wait_for()
    assert lms.controls() == before
    lms.assert_clean()


@pytest.mark.parametrize("mode", ("single", "multi"))
def test_without_an_lms_the_course_works_standalone(lms: Lms, packages: Any, mode: str) -> None:
    package = packages(ALL_TYPES, "scorm2004", mode)
    lms.open_standalone(package)
    assert lms.notice() == lms.strings()["standalone"]
    assert lms.frame.locator("[data-exit]").is_hidden()
    if mode == "single":
        lms.frame.locator("[data-start]").click()
        lms.frame.locator("section#reading").wait_for()
        lms.go_to("assessment")
    else:
        lms.frame.locator("[data-start]").click()  # a plain link to the first unit's page
        lms.page.wait_for_url("**/reading.html")
        lms.page.goto(package.url + "assessment.html")
        lms.page.wait_for_function("document.documentElement.dataset.runtime === 'ready'")
    quiz = next(u for u in lms.course_data()["units"] if u["id"] == "assessment")["quiz"]
    lms.answer(quiz["questions"][0], correct=True)
    lms.frame.locator(f"#q--{quiz['questions'][0]['id']}--apple").blur()
    # Open the course again later, from its start page.
    lms.page.goto("about:blank")
    lms.open_standalone(package, "index.html" if mode == "single" else "assessment.html")
    if mode == "single":
        assert lms.frame.locator("[data-resume]").is_visible()
        lms.frame.locator("[data-resume-yes]").click()
        lms.frame.locator("section#assessment").wait_for()
    assert lms.frame.locator(f"#q--{quiz['questions'][0]['id']}--apple").is_checked()
    lms.answer_quiz(quiz, correct=True)
    assert lms.strings()["result.passed"].format(**{"pass": 80}) in lms.result(quiz["id"])
    lms.assert_clean()


@pytest.mark.parametrize(("set_value", "commit"), [(True, False), (False, True)])
@pytest.mark.parametrize("target", TARGETS)
def test_an_lms_that_refuses_values_loses_nothing(
    lms: Lms, packages: Any, target: str, set_value: bool, commit: bool
) -> None:
    package = packages(ALL_TYPES, target, "single")
    lms.launch(package)
    strings = lms.strings()
    lms.fail(set_value=set_value, commit=commit)
    lms.go_to("practice")
    quiz = lms.course_data()["units"][1]["quiz"]
    lms.answer_quiz(quiz, correct=True)
    lms.frame.locator("[data-notice]").wait_for()
    assert lms.notice() == strings["lms.error"]

    # Leaving on purpose while the LMS refuses: the session stays open, the learner is told.
    lms.frame.locator("[data-exit]").click()
    assert lms.page.evaluate("player.terminated") == 0
    assert lms.notice() == strings["lms.error"]

    lms.fail(False, False)
    lms.page.wait_for_function(
        "t => document.getElementById('sco').contentDocument"
        ".querySelector('[data-notice]').textContent === t",
        arg=strings["lms.saved"],
        timeout=10_000,
    )
    lms.frame.locator("[data-exit]").click()
    assert lms.page.evaluate("player.terminated") == 1
    assert lms.notice() == strings["exit.done"]
    cmi = lms.cmi()
    recorded = cmi["interactions"]
    assert sorted(i["id"] for i in recorded.values()) == sorted(q["id"] for q in quiz["questions"])

    lms.launch(package, cmi=lms.relaunch_data())
    lms.frame.locator("[data-resume-yes]").click()
    lms.frame.locator("section#practice").wait_for()
    assert lms.strings()["result.score"].format(score=100) in lms.result(quiz["id"])
    lms.assert_clean()
