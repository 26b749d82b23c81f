"""`::: reveal question-id` opens only once that very question has been answered."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import MODULE7, Lms

pytestmark = pytest.mark.browser


def test_each_chart_opens_only_after_its_own_data_set_is_answered(lms: Lms, packages: Any) -> None:
    package = packages(MODULE7, "scorm2004", "single")
    lms.launch(package)
    unit = next(u for u in lms.course_data()["units"] if u["id"] == "session-7-5")
    quiz = unit["quiz"]
    first, second = quiz["questions"][0], quiz["questions"][1]
    lms.go_to("session-7-5")
    lms.answer(first)
    form = lms.frame.locator(f'form[data-quiz="{quiz["id"]}"]')
    form.locator("[data-submit]").click()
    # The other data sets are blank: the learner is asked first, with their number.
    blank = len(quiz["questions"]) - 1
    assert form.locator("[data-confirm-text]").inner_text() == lms.strings()["unanswered"].format(
        n=blank, total=len(quiz["questions"])
    )
    assert form.locator("[data-result]").is_hidden()
    form.locator("[data-confirm-yes]").click()
    form.locator("[data-result]").wait_for()

    def is_open(qid: str) -> bool:
        return bool(
            lms.frame.locator(f'.reveal[data-reveal-after="{qid}"]').evaluate(
                "el => el.classList.contains('is-open')"
            )
        )

    assert is_open(first["id"])
    assert not is_open(second["id"]), "a chart must not open before its data set is answered"
    lms.assert_clean()
