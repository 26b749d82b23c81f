"""Navigation: pager, table of contents, progress, focus; SCO-to-SCO moves; one termination."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, Lms

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"


def active_id(lms: Lms) -> str:
    return lms.frame.evaluate("document.activeElement.id")


def test_single_sco_pager_contents_progress_and_focus(lms: Lms, packages: Any) -> None:
    package = packages(ALL_TYPES, "scorm2004", "single")
    lms.launch(package)
    strings = lms.strings()
    prev, nxt = lms.frame.locator("[data-prev]"), lms.frame.locator("[data-next]")
    assert prev.is_disabled() and nxt.is_enabled()
    assert lms.frame.locator("[data-progress-text]").inner_text() == strings[
        "progress.text"
    ].format(done=0, total=3)

    nxt.click()
    lms.frame.locator("section#reading").wait_for()
    assert active_id(lms) == "reading--title", "focus moves to the new page's heading"
    assert lms.frame.locator('nav a[aria-current="page"]').get_attribute("data-nav") == "reading"
    assert (
        lms.frame.locator('[data-status-for="reading"]').inner_text() == strings["status.completed"]
    )
    assert lms.frame.evaluate("document.title").startswith("Reading and reflecting – ")

    lms.go_to("assessment")
    assert nxt.is_disabled()
    assert active_id(lms) == "assessment--title"
    assert (
        lms.frame.locator('[data-status-for="assessment"]').inner_text()
        == strings["status.in-progress"]
    )
    assert (
        lms.frame.locator('[data-status-for="practice"]').inner_text()
        == strings["status.not-started"]
    )
    # One measure: a unit counts once seen and, if it has a graded check, tried.
    assert lms.frame.locator("progress").evaluate("p => p.value") == 33
    prev.click()
    lms.frame.locator("section#practice").wait_for()
    assert lms.frame.locator("[data-progress-text]").inner_text() == strings[
        "progress.text"
    ].format(done=1, total=3)
    # A practice check below its pass mark shows the score, never "failed".
    practice = next(u for u in lms.course_data()["units"] if u["id"] == "practice")["quiz"]
    lms.answer_quiz(practice, correct=False)
    assert lms.frame.locator('[data-status-for="practice"]').inner_text() == strings[
        "status.score"
    ].format(score=0)
    assert lms.frame.locator("[data-progress-text]").inner_text() == strings[
        "progress.text"
    ].format(done=2, total=3)
    result = lms.result(practice["id"])
    assert strings["result.score"].format(score=0) in result
    assert strings["result.failed"].replace("{pass}", "80") not in result
    # A link to another unit, in the unit's text, moves there like the contents do.
    lms.frame.locator("section#practice a", has_text="the reading").click()
    lms.frame.locator("section#reading").wait_for()
    assert active_id(lms) == "reading--title"
    lms.close()
    assert lms.set_values("cmi.location")[-1] == "reading"
    lms.assert_clean()


def test_scorm2004_scos_ask_the_lms_to_move_on(lms: Lms, packages: Any) -> None:
    package = packages(ALL_TYPES, "scorm2004", "multi")
    lms.launch(package, "practice.html")
    lms.frame.locator("[data-next]").click()
    lms.wait_ready("assessment.html")
    assert lms.page.evaluate("player.history['practice.html'].exit") == "normal"
    assert lms.set_values("adl.nav.request") == ["continue"]
    lms.frame.locator("[data-prev]").click()
    lms.wait_ready("practice.html")
    assert lms.set_values("adl.nav.request") == ["continue", "previous"]
    lms.assert_clean()


def test_scorm12_scos_leave_moving_on_to_the_lms(lms: Lms, packages: Any) -> None:
    package = packages(ALL_TYPES, "scorm12", "multi")
    lms.launch(package, "index.html")
    assert lms.frame.locator("[data-start]").is_hidden()
    assert lms.frame.locator("[data-lms-nav]").is_visible()
    # The unit list keeps its words but no longer leads away from the LMS's control.
    assert lms.frame.locator(".unit-list a").count() == 0
    assert "Practice" in lms.frame.locator(".unit-list").inner_text()
    lms.launch(package, "practice.html")
    assert lms.frame.locator("[data-pager]").is_hidden()
    assert lms.frame.locator("section#practice a").count() == 0
    lms.close()
    lms.assert_clean()


def test_hiding_the_page_saves_and_terminates_exactly_once(lms: Lms, packages: Any) -> None:
    package = packages(ALL_TYPES, "scorm12", "single")
    lms.launch(package)
    lms.go_to("reading")

    def visibility(state: str) -> None:
        lms.frame.evaluate(
            """s => { Object.defineProperty(document, 'visibilityState',
                        {value: s, configurable: true});
                      document.dispatchEvent(new Event('visibilitychange')); }""",
            state,
        )

    visibility("hidden")
    assert lms.page.evaluate("player.terminated") == 1
    assert lms.set_values("cmi.core.exit") == ["suspend"]
    # The session time goes with every save (so the LMS always holds a current one), the
    # last one just before the session ends.
    times = lms.set_values("cmi.core.session_time")
    assert times == sorted(times)
    names = [(c["fn"], c["args"][0] if c["args"] else "") for c in lms.calls()]
    last = max(i for i, n in enumerate(names) if n == ("LMSSetValue", "cmi.core.session_time"))
    assert last < names.index(("LMSFinish", ""))
    visibility("visible")
    assert lms.notice() == lms.strings()["session.ended"]
    lms.page.evaluate("player.close()")
    lms.page.wait_for_function("document.getElementById('sco').src.startsWith('about:')")
    lms.page.wait_for_timeout(200)
    finishes = [c for c in lms.calls() if c["fn"] == "LMSFinish"]
    assert len(finishes) == 1, "pagehide after a termination does not terminate again"
    lms.assert_clean()


def test_opening_a_reference_link_saves_without_ending_the_session(lms: Lms, packages: Any) -> None:
    """A citation opens in a new tab: the course must still be tracked when the learner is back."""
    package = packages(ALL_TYPES, "scorm12", "single")
    lms.launch(package)
    lms.go_to("reading")
    lms.frame.evaluate(
        """() => { const a = document.createElement('a');
                   a.href = 'https://example.org/'; a.target = '_blank';
                   a.addEventListener('click', e => e.preventDefault());
                   document.querySelector('main').append(a); a.click();
                   Object.defineProperty(document, 'visibilityState',
                                         {value: 'hidden', configurable: true});
                   document.dispatchEvent(new Event('visibilitychange')); }"""
    )
    assert lms.page.evaluate("player.terminated") == 0
    assert lms.set_values("cmi.core.exit") == [], "saved, not ended"
    lms.frame.evaluate(
        """() => { Object.defineProperty(document, 'visibilityState',
                                         {value: 'visible', configurable: true});
                   document.dispatchEvent(new Event('visibilitychange')); }"""
    )
    lms.go_to("practice")
    lms.page.evaluate("player.close()")
    lms.page.wait_for_function("document.getElementById('sco').src.startsWith('about:')")
    lms.page.wait_for_timeout(200)
    assert [c["fn"] for c in lms.calls()].count("LMSFinish") == 1
    assert lms.set_values("cmi.core.lesson_location")[-1] == "practice"
