"""Every page: zero axe-core violations, usable at 320 px, strict CSP; a quiz by keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, MODULE7, Lms, axe_violations

pytestmark = pytest.mark.browser

#: Runs before any script of every frame: collects Content-Security-Policy violations.
CSP_WATCH = """document.addEventListener('securitypolicyviolation', e => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"""


def csp_violations(lms: Lms) -> list[str]:
    """Content-Security-Policy violations seen by the page on screen."""
    return lms.frame.evaluate("window.__csp || []")


def fits_width(lms: Lms) -> bool:
    """No horizontal scrolling of the page (a wide table may scroll inside itself)."""
    return lms.frame.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def check_page(lms: Lms, where: str) -> None:
    assert axe_violations(lms) == [], where
    assert csp_violations(lms) == [], where
    assert lms.frame.locator("h1:visible").count() == 1, where


@pytest.mark.parametrize(("target", "mode"), [("scorm2004", "single"), ("scorm12", "multi")])
def test_every_page_of_module7_is_accessible(
    lms: Lms, packages: Any, target: str, mode: str
) -> None:
    lms.page.add_init_script(CSP_WATCH)
    package = packages(MODULE7, target, mode)
    for n, href in enumerate(package.scos()):
        lms.launch(package, href)
        if n == 0:
            check_page(lms, href)  # the home page, before anything is answered
        units = lms.course_data()["units"]
        for unit in units:
            if mode == "single":
                lms.go_to(unit["id"])
            assert lms.frame.evaluate("document.activeElement.tagName") in ("H1", "BODY")
            check_page(lms, unit["id"])
            if unit["quiz"]:
                # Wrong first: feedback, retry and result are on screen for axe too.
                lms.answer_quiz(unit["quiz"], correct=False)
                check_page(lms, f"{unit['id']} after submitting")
    lms.close()
    lms.assert_clean()


def test_the_axe_check_does_find_problems(lms: Lms, packages: Any) -> None:
    """A control without a label on the page: the same check must report it."""
    lms.launch(packages(FIXTURES / "all-types", "scorm2004", "single"))
    assert axe_violations(lms) == []
    lms.frame.evaluate(
        "document.querySelector('main section:not([hidden])')"
        ".appendChild(document.createElement('input'))"
    )
    assert any(v.startswith("label:") for v in axe_violations(lms))


@pytest.mark.parametrize("mode", ("single", "multi"))
def test_pages_work_at_320_px(lms: Lms, packages: Any, mode: str) -> None:
    lms.page.set_viewport_size({"width": 320, "height": 640})
    lms.page.add_init_script(CSP_WATCH)
    package = packages(MODULE7, "scorm2004", mode)
    for href in package.scos():
        lms.launch(package, href)
        sections = ["home"] if mode == "single" else []
        sections += [u["id"] for u in lms.course_data()["units"]]
        for section in sections:
            if mode == "single":
                lms.frame.evaluate("id => { location.hash = id; }", section)
                lms.frame.locator(f"section#{section}").wait_for()
            assert fits_width(lms), f"{href}#{section} scrolls sideways at 320 px"
        assert csp_violations(lms) == []
    lms.close()
    lms.assert_clean()


def test_the_content_security_policy_is_enforced(lms: Lms, packages: Any) -> None:
    """The policy is really active (an injected inline script is refused), on every page."""
    lms.page.add_init_script(CSP_WATCH)
    for mode in ("single", "multi"):
        package = packages(FIXTURES / "all-types", "scorm2004", mode)
        for page in package.path.glob("*.html"):
            html = page.read_text(encoding="utf-8")
            assert '<meta http-equiv="Content-Security-Policy"' in html
            assert "<script>" not in html and " style=" not in html and "<style" not in html
    package = packages(FIXTURES / "all-types", "scorm2004", "single")
    lms.launch(package)
    assert csp_violations(lms) == []
    ran = lms.frame.evaluate(
        """() => { const s = document.createElement('script');
             s.textContent = 'window.__injected = true'; document.body.appendChild(s);
             return window.__injected === true; }"""
    )
    assert ran is False
    lms.page.wait_for_function(
        "() => (document.getElementById('sco').contentWindow.__csp || []).length > 0"
    )
    assert any("script-src" in v for v in csp_violations(lms))
    lms.close()


def tab_to(lms: Lms, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if lms.frame.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        lms.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def focused(lms: Lms) -> dict[str, Any]:
    return lms.frame.evaluate(
        """() => { const e = document.activeElement, s = getComputedStyle(e);
             return {id: e.id, value: e.value, checked: e.checked,
                     outline: s.outlineStyle + ' ' + s.outlineWidth}; }"""
    )


def test_a_quiz_done_with_the_keyboard_alone(lms: Lms, packages: Any) -> None:
    package = packages(FIXTURES / "all-types", "scorm2004", "single")
    lms.launch(package)
    quiz = next(u for u in lms.course_data()["units"] if u["id"] == "assessment")["quiz"]
    lms.page.locator("#sco").focus()
    tab_to(lms, 'a[data-nav="assessment"]')
    assert focused(lms)["outline"].startswith("solid"), "the focus is visible"
    lms.page.keyboard.press("Enter")
    lms.frame.locator("section#assessment").wait_for()
    lms.page.wait_for_function(
        "() => document.getElementById('sco').contentDocument.activeElement.id"
        " === 'assessment--title'"
    )
    key = lms.page.keyboard
    for q in quiz["questions"]:
        qid, kind = q["id"], q["type"]
        if kind in ("single-choice", "true-false"):
            tab_to(lms, f'input[name="{qid}"]')
            key.press("Space")
            right = q["correct"][0] if kind == "single-choice" else str(q["correct"]).lower()
            for _ in range(10):
                if focused(lms)["id"] == f"q--{qid}--{right}":
                    break
                key.press("ArrowDown")
            assert focused(lms)["checked"] and focused(lms)["id"] == f"q--{qid}--{right}"
        elif kind == "multiple-response":
            for option in q["options"]:
                tab_to(lms, f"#q--{qid}--{option}")
                if option in q["correct"]:
                    key.press("Space")
        elif kind == "matching":
            for prompt in q["prompts"]:
                tab_to(lms, f"#q--{qid}--{prompt}")
                for _ in range(len(q["targets"]) + 1):
                    if focused(lms)["value"] == q["correct"][prompt]:
                        break
                    key.press("ArrowDown")
                assert focused(lms)["value"] == q["correct"][prompt]
        else:
            tab_to(lms, f"#q--{qid}--input")
            key.type(q["correct"][0] if kind == "fill-in" else "Typed with the keyboard.")
    tab_to(lms, f'form[data-quiz="{quiz["id"]}"] [data-submit]')
    key.press("Enter")
    lms.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-result-title]').wait_for()
    assert focused(lms)["id"] == "" and lms.frame.evaluate(
        "document.activeElement.hasAttribute('data-result-title')"
    ), "the result takes the focus"
    assert lms.strings()["result.score"].format(score=100) in lms.result(quiz["id"])
    lms.close()
    cmi = lms.cmi()
    assert cmi["success_status"] == "passed" and cmi["score"]["raw"] == "100"
    lms.assert_clean()
