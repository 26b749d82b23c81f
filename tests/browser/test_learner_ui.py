"""What a learner meets beyond the layout: quiz safeguards, review, completion, note pop-ups."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import FIXTURES, MODULE7, Lms

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"

#: WCAG contrast of an element's text colour against the first opaque background behind it.
CONTRAST = """e => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let back = e, bg = 'rgb(255, 255, 255)';
  while (back) { const c = getComputedStyle(back).backgroundColor;
    if (rgb(c).length === 3 || rgb(c)[3] === 1) { bg = c; break; } back = back.parentElement; }
  const s = getComputedStyle(e);
  const fg = s.webkitTextFillColor && s.webkitTextFillColor !== s.color
    ? s.webkitTextFillColor : s.color;
  const a = lum(fg), b = lum(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def assessment(lms: Lms) -> dict[str, Any]:
    return next(u for u in lms.course_data()["units"] if u["id"] == "assessment")["quiz"]


def test_enter_never_submits_and_blank_answers_are_counted_first(lms: Lms, packages: Any) -> None:
    lms.launch(packages(ALL_TYPES, "scorm2004", "single"))
    lms.go_to("assessment")
    quiz = assessment(lms)
    form = lms.frame.locator(f'form[data-quiz="{quiz["id"]}"]')
    first = quiz["questions"][0]
    lms.answer(first)
    lms.frame.locator(f"#q--{first['id']}--{first['correct'][0]}").press("Enter")
    lms.frame.locator("#q--as-fill--input").press("Enter")
    assert form.locator("[data-confirm]").is_hidden() and form.locator("[data-result]").is_hidden()
    assert lms.set_values("cmi.interactions.0.id") == [], "Enter sent nothing to the LMS"

    form.locator("[data-submit]").click()
    graded = [q for q in quiz["questions"] if q["type"] != "reflection"]
    confirm = form.locator("[data-confirm-text]")
    expected = lms.strings()["unanswered"].format(n=len(graded) - 1, total=len(graded))
    assert confirm.inner_text() == expected
    assert lms.frame.evaluate("document.activeElement.hasAttribute('data-confirm-text')")
    form.locator("[data-confirm-no]").click()
    assert form.locator("[data-confirm]").is_hidden() and form.locator("[data-result]").is_hidden()
    second = graded[1]
    assert lms.frame.evaluate("document.activeElement.name") == second["id"], (
        "back to the first question without an answer"
    )
    assert lms.set_values("cmi.interactions.0.id") == []
    form.locator("[data-submit]").click()
    form.locator("[data-confirm-yes]").click()
    form.locator("[data-result]").wait_for()
    assert lms.set_values("cmi.interactions.0.id") == [first["id"]]
    lms.close()
    lms.assert_clean()


def test_review_marks_each_item_and_keeps_answers_readable(lms: Lms, packages: Any) -> None:
    lms.launch(packages(ALL_TYPES, "scorm2004", "single"))
    lms.go_to("assessment")
    quiz = assessment(lms)
    lms.answer_quiz(quiz, correct=False)
    graded = [q for q in quiz["questions"] if q["type"] != "reflection"]
    marks = [
        lms.frame.locator(f'[data-question="{q["id"]}"] .verdict').inner_text() for q in graded
    ]
    assert all(m.startswith("✗ ") for m in marks), marks
    items = lms.frame.locator(f'form[data-quiz="{quiz["id"]}"] [data-result-list] li')
    assert items.count() == len(graded)
    assert all(t.startswith("✗ ") for t in items.all_inner_texts())
    # The answers given, in controls now disabled, still read at 4.5:1 or better.
    chosen = [
        lms.frame.locator("#q--as-match--dog"),  # a matching choice (a select)
        lms.frame.locator("#q--as-fill--input"),  # typed text
        lms.frame.locator('[data-question="as-single"] input:checked + label'),
    ]
    assert lms.frame.locator("#q--as-match--dog").is_disabled()
    for control in chosen:
        assert control.evaluate(CONTRAST) >= 4.5, control
    lms.close()
    lms.assert_clean()


def test_completion_panel_once_the_rule_is_met(lms: Lms, packages: Any) -> None:
    lms.launch(packages(ALL_TYPES, "scorm2004", "single"))
    panel = lms.frame.locator("[data-completion]")
    lms.go_to("assessment")
    assert panel.is_hidden(), "passed/failed: nothing is complete before the assessment"
    quiz = assessment(lms)
    lms.answer_quiz(quiz)
    assert panel.is_visible()
    strings = lms.strings()
    text = panel.inner_text()
    assert strings["completion.score"].format(score=100, **{"pass": 80}) in text
    # Only the assessment was opened: the panel says so.
    assert strings["completion.units"].format(done=1, total=3) in text
    # It follows the result of the check that completed the course.
    assert lms.frame.evaluate(
        "() => document.querySelector('form[data-quiz]:not([hidden]) + [data-completion]') !== null"
    )
    lms.go_to("home")
    assert panel.is_visible()
    panel.locator("[data-completion-review]").click()
    lms.frame.locator("section#reading").wait_for()
    assert panel.is_hidden()
    lms.close()
    lms.assert_clean()


def test_notes_open_in_place_and_the_note_jumped_to_is_marked(lms: Lms, packages: Any) -> None:
    lms.launch(packages(MODULE7, "scorm2004", "single"))
    lms.page.set_viewport_size({"width": 375, "height": 812})
    lms.go_to("session-7-1")
    ref = lms.frame.locator("section#session-7-1 .footnote-ref a").first
    box = ref.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24, f"a note marker is {box}"
    note_id = ref.get_attribute("href")[1:]
    note_text = lms.frame.locator(f"#{note_id}").inner_text().replace("↩︎", "").strip()

    ref.click()
    pop = lms.frame.locator(f"#pop-{note_id}")
    assert ref.get_attribute("aria-expanded") == "true"
    assert ref.get_attribute("aria-controls") == f"pop-{note_id}"
    assert note_text[:40] in pop.inner_text()
    assert lms.frame.evaluate("document.activeElement.closest('.note-pop') !== null")
    lms.page.keyboard.press("Escape")
    assert pop.count() == 0 and ref.get_attribute("aria-expanded") == "false"
    assert lms.frame.evaluate("document.activeElement.getAttribute('href')") == f"#{note_id}"

    ref.click()
    pop.locator(f'a[href="#{note_id}"]').click()
    lms.page.wait_for_function(
        "id => document.getElementById('sco').contentDocument"
        ".querySelector('.footnote-item:target')?.id === id",
        arg=note_id,
    )
    note = lms.frame.locator(f"#{note_id}")
    assert note.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    top = note.evaluate("e => e.getBoundingClientRect().top")
    bar = lms.frame.evaluate("document.querySelector('.app-bar').getBoundingClientRect().bottom")
    assert top >= bar, "the note is not hidden under the bar"
    lms.close()
    lms.assert_clean()


def test_a_units_check_comes_before_its_notes(lms: Lms, packages: Any) -> None:
    lms.launch(packages(MODULE7, "scorm2004", "single"))
    order = lms.frame.evaluate(
        """() => [...document.querySelectorAll('section[data-unit]')]
             .filter(s => s.querySelector('form[data-quiz]') && s.querySelector('.footnotes'))
             .map(s => !!(s.querySelector('form[data-quiz]')
                 .compareDocumentPosition(s.querySelector('.footnotes'))
                 & Node.DOCUMENT_POSITION_FOLLOWING))"""
    )
    assert order and all(order), order
    lms.close()
