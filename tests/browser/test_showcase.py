"""The showcase course's interactive blocks in the browser: keyboard alone, axe, and the state
each block keeps when the learner comes back."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import REPO, Lms
from test_accessibility import axe_violations, fits_width

pytestmark = pytest.mark.browser

SHOWCASE = REPO / "examples" / "showcase"
#: Both SCORM versions and both packaging modes, in two runs.
RUNS = [("scorm12", "single"), ("scorm2004", "multi")]


def open_blocks_unit(lms: Lms, packages: Any, target: str, mode: str) -> None:
    package = packages(SHOWCASE, target, mode)
    if mode == "single":
        lms.launch(package)
        lms.go_to("blocks")
    else:
        lms.launch(package, "blocks.html")


def focused(lms: Lms) -> str:
    """The focused element: its text, or its tag when it has none."""
    return str(
        lms.frame.evaluate(
            "(document.activeElement.textContent || '').trim() || document.activeElement.tagName"
        )
    )


@pytest.mark.parametrize(("target", "mode"), RUNS)
def test_blocks_by_keyboard_and_their_state_on_return(
    lms: Lms, packages: Any, target: str, mode: str
) -> None:
    open_blocks_unit(lms, packages, target, mode)
    f = lms.frame
    keys = lms.page.keyboard

    # Tabs: one tab stop; arrows, Home and End move and show the tab's panel.
    tabs = f.locator('[data-block="tabs"] [role="tab"]')
    assert tabs.all_inner_texts() == ["In person", "Online", "Mixed"]
    panels = f.locator('[data-block="tabs"] [role="tabpanel"]')
    assert [p.is_visible() for p in panels.all()] == [True, False, False]
    tabs.first.focus()
    keys.press("ArrowRight")
    assert focused(lms) == "Online"
    assert [p.is_visible() for p in panels.all()] == [False, True, False]
    keys.press("End")
    assert focused(lms) == "Mixed"
    keys.press("Home")
    assert focused(lms) == "In person"
    keys.press("ArrowLeft")  # wraps round
    assert focused(lms) == "Mixed"
    assert tabs.nth(2).get_attribute("aria-selected") == "true"
    assert panels.nth(2).get_attribute("aria-labelledby") == tabs.nth(2).get_attribute("id")

    # Accordion: a native summary, opened with Enter.
    summary = f.locator('[data-block="accordion"] summary').nth(1)
    summary.focus()
    keys.press("Enter")
    assert f.locator('[data-block="accordion"] details').nth(1).get_attribute("open") is not None

    # Cards: the answer shows only when asked for.
    button = f.locator('[data-block="reveal"] button').first
    answer = f.locator('[data-block="reveal"] .block-card-answer').first
    assert button.get_attribute("aria-expanded") == "false" and not answer.is_visible()
    button.focus()
    keys.press("Space")
    assert button.get_attribute("aria-expanded") == "true" and answer.is_visible()

    # Zoom: a dialog that Escape closes, giving focus back to the button that opened it.
    zoom = f.locator('[data-block="zoom"] button')
    zoom.focus()
    keys.press("Enter")
    dialog = f.locator("dialog.block-zoom-dialog")
    assert dialog.is_visible()
    assert focused(lms) == "Close"
    assert dialog.locator("img").evaluate("img => img.naturalWidth") == 1600
    keys.press("Escape")
    f.locator("dialog").wait_for(state="detached")  # the close event comes a moment later
    assert focused(lms) == "Enlarge image"

    assert axe_violations(lms) == []
    assert fits_width(lms)

    # The learner comes back: the same tab, section and card as they left them.
    lms.close()
    open_blocks_unit(lms, packages, target, mode)
    assert f.locator('[data-block="tabs"] [aria-selected="true"]').inner_text() == "Mixed"
    assert f.locator('[data-block="accordion"] details[open]').count() == 1
    assert (
        lms.frame.locator('[data-block="reveal"] button').first.get_attribute("aria-expanded")
        == "true"
    )
    # A link to a heading inside a hidden tab shows that tab.
    f.evaluate("location.hash = '#blocks--online'")
    f.wait_for_function(
        "document.querySelector('[data-block=tabs] [aria-selected=true]').textContent === 'Online'"
    )
    lms.assert_clean()


def test_on_paper_every_tab_and_card_answer_is_printed(lms: Lms, packages: Any) -> None:
    package = packages(SHOWCASE, "scorm2004", "single")
    lms.open_standalone(package)
    # The same page as a printer sees it: every tab panel and card answer is shown.
    lms.page.emulate_media(media="print")
    f = lms.frame
    assert all(p.is_visible() for p in f.locator('[data-block="tabs"] section').all())
    assert all(a.is_visible() for a in f.locator(".block-card-answer").all())
    assert f.locator('[role="tablist"]').first.is_hidden()
    lms.page.emulate_media(media="screen")


def test_the_video_plays_with_its_captions(lms: Lms, packages: Any) -> None:
    open_blocks_unit(lms, packages, "scorm2004", "single")
    video = lms.frame.locator("video")
    video.scroll_into_view_if_needed()
    lms.frame.wait_for_function("document.querySelector('video').readyState >= 1", timeout=10_000)
    tracks = video.evaluate("v => [...v.textTracks].map(t => [t.kind, t.language, t.mode])")
    assert tracks == [["captions", "en", "showing"]]
    assert video.evaluate("v => v.duration") == pytest.approx(3, abs=0.2)
    lms.frame.wait_for_function(
        "document.querySelector('video').textTracks[0].cues.length === 2", timeout=10_000
    )
    lms.assert_clean()


def test_the_themed_showcase_in_dark_pages_passes_axe(lms: Lms, packages: Any) -> None:
    lms.page.emulate_media(color_scheme="dark")
    try:
        open_blocks_unit(lms, packages, "scorm12", "multi")
        background = lms.frame.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 24, 28)"
        lms.frame.locator('[data-block="reveal"] button').first.click()
        assert axe_violations(lms) == []
    finally:
        lms.page.emulate_media(color_scheme="light")
    lms.assert_clean()


@pytest.mark.parametrize(
    ("target", "mode", "scheme"), [("scorm2004", "single", "light"), ("scorm12", "multi", "dark")]
)
def test_every_showcase_page_passes_axe_and_fits_a_phone(
    lms: Lms, packages: Any, target: str, mode: str, scheme: str
) -> None:
    lms.page.emulate_media(color_scheme=scheme)
    lms.page.set_viewport_size({"width": 360, "height": 740})
    try:
        package = packages(SHOWCASE, target, mode)
        for href in package.scos():
            lms.launch(package, href)
            for unit in lms.course_data()["units"]:
                if mode == "single":
                    lms.go_to(unit["id"])
                where = f"{href} {unit['id']} {scheme}"
                assert axe_violations(lms) == [], where
                assert fits_width(lms), where
                if unit["quiz"]:
                    lms.answer_quiz(unit["quiz"], correct=False)
                    assert axe_violations(lms) == [], f"{where} after submitting"
    finally:
        lms.page.emulate_media(color_scheme="light")
        lms.page.set_viewport_size({"width": 1024, "height": 800})
    lms.close()
    lms.assert_clean()
