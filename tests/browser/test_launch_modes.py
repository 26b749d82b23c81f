"""Launch modes: Moodle's Preview (browse), review and no-credit attempts count for nothing.

Moodle records whatever the content sends, even in a preview: the runtime itself must write
nothing that counts when the LMS says the attempt does not.
"""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, Lms

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"
TARGETS = ("scorm12", "scorm2004")


def launch_data(target: str, mode: str = "normal", credit: str = "credit") -> dict[str, Any]:
    """What an LMS gives a SCO launched in `mode` with `credit`."""
    if target == "scorm12":
        return {"core": {"lesson_mode": mode, "credit": credit}}
    return {"mode": mode, "credit": credit}


def written(lms: Lms, href: str | None = None) -> set[str]:
    """The elements the SCO (the one at `href`) set, interaction indexes folded."""
    names = {
        c["args"][0]
        for c in lms.calls()
        if c["fn"] in ("SetValue", "LMSSetValue") and href in (None, c.get("href"))
    }
    return {n.split(".")[0] + ".interactions" if ".interactions." in n else n for n in names}


@pytest.mark.parametrize("target", TARGETS)
def test_browse_mode_counts_nothing(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "single")
    history = lms.walk(package, correct=True, cmi=launch_data(target, "browse", "no-credit"))
    cmi = history["index.html"]
    if target == "scorm12":
        assert cmi["core"]["lesson_status"] == "browsed"
        assert cmi["core"]["score"]["raw"] == ""
        assert written(lms) == {"cmi.core.lesson_location", "cmi.core.lesson_status"}
    else:
        assert (cmi["completion_status"], cmi["success_status"]) == ("unknown", "unknown")
        assert cmi["score"]["raw"] == ""
        assert written(lms) == {"cmi.location"}
    assert cmi["suspend_data"] == "", "a preview leaves the learner's saved state alone"
    assert not cmi["interactions"]
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_review_mode_writes_only_the_location(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "single")
    lms.walk(package, correct=False)
    saved = lms.relaunch_data()
    lms.reset()
    review = saved | launch_data(target, "review", "no-credit")
    if target == "scorm12":
        review["core"] = saved["core"] | review["core"]
    lms.launch(package, cmi=review)
    lms.go_to("reading")
    lms.go_to("assessment")
    # The learner sees the saved answers and result; trying again sends nothing that counts.
    quiz = next(u["quiz"] for u in lms.course_data()["units"] if u["id"] == "assessment")
    assert lms.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-result]').is_visible()
    lms.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-retry]').click()
    lms.answer_quiz(quiz, correct=True)
    lms.close()
    assert written(lms) == {"cmi.core.lesson_location" if target == "scorm12" else "cmi.location"}
    lms.assert_clean()


@pytest.mark.parametrize("target", TARGETS)
def test_no_credit_saves_progress_but_no_grade(lms: Lms, packages: Any, target: str) -> None:
    package = packages(ALL_TYPES, target, "single")
    history = lms.walk(package, correct=True, cmi=launch_data(target, "normal", "no-credit"))
    cmi = history["index.html"]
    assert cmi["suspend_data"].startswith("2!"), "the learner can still resume"
    assert cmi["interactions"], "the teacher can still read the answers"
    if target == "scorm12":
        assert cmi["core"]["lesson_status"] == "completed"
        assert cmi["core"]["score"]["raw"] == ""
    else:
        assert (cmi["completion_status"], cmi["success_status"]) == ("completed", "unknown")
        assert cmi["score"]["raw"] == ""
    objectives = cmi["objectives"].values()
    assert all(not (o.get("score") or {}).get("raw") for o in objectives)
    lms.assert_clean()


def test_browse_mode_still_moves_between_scos(lms: Lms, packages: Any) -> None:
    """SCORM 2004, one SCO per unit: Next asks the LMS to continue, in any mode."""
    package = packages(ALL_TYPES, "scorm2004", "multi")
    scos = package.scos()
    lms.launch(package, scos[0], cmi=launch_data("scorm2004", "browse", "no-credit"))
    lms.frame.locator("[data-start]").click()
    lms.wait_ready(scos[1])
    assert written(lms, scos[0]) in ({"adl.nav.request"}, {"adl.nav.request", "cmi.location"})
    lms.assert_clean()
