"""The session time reaches the LMS on every way out: exit button, menu, leaving, closing the tab.

Moodle adds `session_time` to `total_time` in its own page when the session ends (Terminate),
with whatever session time the SCO last set. A SCO that sets it only in its final moments loses
it whenever Moodle (its "Exit activity" link, its table of contents) or the browser ends the
page first, or when the last request is cut off by the page going away. So the runtime writes the
time with every save, again before the page may go (beforeunload), and ends the session once.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browser_support import FIXTURES, Lms, record

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"
TARGETS = ("scorm12", "scorm2004")
NAMES = {
    "scorm12": ("LMSSetValue", "cmi.core.session_time", "LMSFinish"),
    "scorm2004": ("SetValue", "cmi.session_time", "Terminate"),
}
STAY = 1.2  # seconds in the SCO: the session time must show them


def seconds(value: str) -> float:
    """A SCORM 1.2 (HHHH:MM:SS.SS) or 2004 (PT#H#M#S) duration in seconds."""
    if m := re.fullmatch(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)", value):
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?([\d.]+)S", value)
    assert m, value
    return int(m[1] or 0) * 3600 + int(m[2] or 0) * 60 + float(m[3])


def spend_time(lms: Lms) -> None:
    """Open a unit and answer a question, then stay a while."""
    lms.frame.locator("[data-start]").click()
    lms.frame.locator("section#reading").wait_for()
    lms.page.wait_for_timeout(STAY * 1000)


def assert_time_sent_before_the_end(calls: list[dict[str, Any]], target: str) -> None:
    set_fn, element, finish = NAMES[target]
    names = [c["fn"] for c in calls]
    assert names.count(finish) == 1, "the session ends exactly once"
    before = calls[: names.index(finish)]
    times = [c["args"][1] for c in before if c["fn"] == set_fn and c["args"][0] == element]
    assert times and seconds(times[-1]) >= STAY
    assert all(c.get("result") == "true" for c in before if c["fn"] == set_fn)


def finished_record(page: Any) -> dict[str, Any]:
    """What the player kept when the SCO terminated (it survives the player's page)."""
    return json.loads(page.evaluate("localStorage.getItem('player.finished')") or "null")


@pytest.mark.parametrize("target", TARGETS)
def test_exit_button(lms: Lms, packages: Any, target: str) -> None:
    lms.launch(packages(ALL_TYPES, target, "single"))
    spend_time(lms)
    lms.frame.locator("[data-exit]").click()
    assert_time_sent_before_the_end(lms.calls(), target)
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_the_lms_menu_opens_another_sco(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "multi")
    lms.launch(package, "reading.html")
    lms.page.wait_for_timeout(STAY * 1000)
    lms.launch(package, "practice.html")  # the SCO on screen is unloaded first
    calls = [c for c in lms.calls() if c.get("href") == "reading.html"]
    assert_time_sent_before_the_end(calls, target)
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_the_lms_holds_a_current_time_before_the_end(lms: Lms, packages: Any, target: str) -> None:
    """If Moodle ends the session itself, the time it adds is the one of the last save."""
    lms.launch(packages(ALL_TYPES, target, "single"))
    spend_time(lms)
    lms.go_to("assessment")
    quiz = next(u["quiz"] for u in lms.course_data()["units"] if u["id"] == "assessment")
    lms.answer_quiz(quiz)  # a submission saves at once
    cmi = lms.cmi()
    held = cmi["core"]["session_time"] if target == "scorm12" else cmi["session_time"]
    assert seconds(held) >= STAY
    assert lms.page.evaluate("player.terminated") == 0
    lms.assert_clean()


@pytest.mark.parametrize("how", ["navigate-away", "close-tab"])
@pytest.mark.parametrize("target", TARGETS)
def test_leaving_the_page(
    browser_context: Any, server: Any, packages: Any, target: str, how: str
) -> None:
    """Moodle's "Exit activity" replaces the whole page; closing the tab ends it."""
    page = browser_context.new_page()
    page.goto(f"{server.base}/player/player.html")
    page.evaluate("localStorage.clear()")
    lms = Lms(page, server, record(page, server))
    lms.launch(packages(ALL_TYPES, target, "single"))
    spend_time(lms)
    if how == "navigate-away":
        page.goto(f"{server.base}/player/player.html?left")
        done = finished_record(page)
        page.close()
    else:
        page.close(run_before_unload=True)
        other = browser_context.new_page()
        other.goto(f"{server.base}/player/player.html")
        other.wait_for_function("localStorage.getItem('player.finished') !== null")
        done = finished_record(other)
        other.close()
    assert done is not None, "the SCO terminated"
    assert_time_sent_before_the_end(done["calls"], target)
