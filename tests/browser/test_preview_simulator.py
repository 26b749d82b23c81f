"""The preview's LMS simulator in headless Chromium: it records a launch, resumes, switches API.

This file has its own browser fixture (it needs Chromium but not the Node test tools): on a
developer machine without Chromium it skips with the reason; with CI=true it fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium, missing_browser, unavailable

from builder.preview import Preview
from tests.conftest import edit_text

pytestmark = pytest.mark.browser


@pytest.fixture
def sim_page(minimal_course: Path) -> Iterator[tuple[Any, Preview, Path]]:
    """The simulator page of a preview of a copy of the minimal course."""
    reason = missing_browser()
    if reason is not None:
        unavailable(reason)
    preview = Preview(minimal_course, display_root="course", port=0)
    preview.start(watch=True)
    try:
        with chromium() as context:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(preview.url)
            yield page, preview, minimal_course
            assert not errors, errors
    finally:
        preview.stop()


def log_text(page: Any) -> str:
    return page.inner_text("#log")


def cmi_value(page: Any, element: str) -> str | None:
    return page.evaluate(
        """element => {
            for (const row of document.querySelectorAll('#cmi tbody tr')) {
                if (row.cells[0].textContent === element) return row.cells[1].textContent;
            }
            return null;
        }""",
        element,
    )


def test_simulator_records_a_launch_and_a_resume_and_switches_to_2004(sim_page):
    page, _, _ = sim_page
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSInitialize(\"\") → \"true\"')"
    )
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('cmi.core.lesson_status')"
    )
    assert "SCORM 1.2" in log_text(page)
    assert cmi_value(page, "cmi.core.entry") == "ab-initio"
    assert cmi_value(page, "cmi.core.lesson_status") == "incomplete"

    # Relaunch: the course leaves with exit=suspend, so the LMS hands its data back.
    page.click("#relaunch")
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSFinish(\"\") → \"true\"')"
    )
    page.wait_for_function("document.getElementById('log').textContent.includes('launch 2')")
    page.wait_for_function(
        "[...document.querySelectorAll('#cmi td')].some(td => td.textContent === 'resume')"
    )
    assert cmi_value(page, "cmi.core.entry") == "resume"

    page.select_option("#version", "2004")
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('Initialize(\"\") → \"true\"')"
        " && document.getElementById('log').textContent.includes('SCORM 2004')"
    )
    page.wait_for_function(
        "[...document.querySelectorAll('#cmi td')].some(td => td.textContent === 'cmi.entry')"
    )
    assert cmi_value(page, "cmi.entry") == "ab-initio"  # its own learner record

    # Reset forgets the 2004 record: the next launch starts again.
    page.click("#reset")
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('learner record reset')"
    )
    page.wait_for_function(
        "[...document.querySelectorAll('#cmi td')].some(td => td.textContent === 'ab-initio')"
    )


def test_simulator_refuses_values_an_lms_refuses(sim_page):
    page, _, _ = sim_page
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSInitialize(\"\") → \"true\"')"
    )
    results = page.evaluate(
        """() => {
            const api = window.API;
            const set = (k, v) => [api.LMSSetValue(k, v), api.LMSGetLastError()];
            return {
                notAttempted: set('cmi.core.lesson_status', 'not attempted'),
                iso: set('cmi.core.session_time', 'PT1M'),
                score: set('cmi.core.score.raw', '101'),
                readOnly: set('cmi.core.entry', 'resume'),
                longLocation: set('cmi.core.lesson_location', 'x'.repeat(256)),
                result: set('cmi.interactions.0.result', 'incorrect'),
                good: set('cmi.core.score.raw', '85.5'),
                gap: set('cmi.interactions.5.id', 'q1'),
            };
        }"""
    )
    assert results["good"] == ["true", "0"]
    assert results["notAttempted"] == ["false", "405"]
    assert results["iso"] == ["false", "405"]
    assert results["score"] == ["false", "405"]
    assert results["readOnly"] == ["false", "403"]
    assert results["longLocation"] == ["false", "405"]
    assert results["result"] == ["false", "405"]
    assert results["gap"] == ["false", "201"]
    assert "error 405" in log_text(page)


def test_a_course_error_shows_in_the_page_and_a_fix_reloads(sim_page):
    page, _, course = sim_page
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSInitialize(\"\") → \"true\"')"
    )
    yaml_file = course / "course.yaml"
    good = yaml_file.read_text()
    yaml_file.write_text(good.replace("language: en", "language: en\ncolour: blue"))
    page.wait_for_selector("#errors:not([hidden])", timeout=15000)
    assert "error[E202]" in page.inner_text("#error-list")
    yaml_file.write_text(good.replace("Minimal course: water safety", "Water safety again"))
    page.wait_for_selector("#errors", state="hidden", timeout=15000)
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('the course was rebuilt')"
    )
    frame = page.frame_locator("#content")
    frame.locator("text=Water safety again").first.wait_for(timeout=15000)


def test_a_rebuild_keeps_the_unit_and_the_scroll_position(sim_page):
    page, _, course = sim_page
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSInitialize(\"\") → \"true\"')"
    )
    # A long unit, so that there is something to scroll; then go to it and scroll down.
    rules = course / "units" / "rules.md"
    rules.write_text(rules.read_text() + "".join(f"\nParagraph {n}.\n" for n in range(150)))
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('the course was rebuilt')"
    )
    content = page.frame_locator("#content")
    content.locator("text=Paragraph 149").first.wait_for(state="attached", timeout=15000)
    frame = page.frame(url=lambda url: "/content/" in url)
    assert frame is not None
    frame.evaluate("location.hash = 'rules'")
    frame.wait_for_function("!document.getElementById('rules').hidden")
    frame.evaluate("window.scrollTo(0, 900)")
    frame.wait_for_function("window.scrollY > 800")
    before = frame.evaluate("window.scrollY")
    page.evaluate("document.getElementById('log').textContent = ''")

    edit_text(course / "course.yaml", "Minimal course: water safety", "Water safety, edited")
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('the course was rebuilt')"
    )
    content.locator("text=Water safety, edited").first.wait_for(state="attached", timeout=15000)
    frame = page.frame(url=lambda url: "/content/" in url)
    assert frame is not None
    frame.wait_for_function("document.readyState === 'complete'")
    frame.wait_for_function(f"Math.abs(window.scrollY - {before}) < 2", timeout=5000)
    assert frame.evaluate("location.hash") == "#rules"
    assert frame.evaluate("document.getElementById('home').hidden") is True
    assert frame.evaluate("document.getElementById('rules').hidden") is False


def test_relaunch_by_hand_starts_at_the_launch_page(sim_page):
    page, _, _ = sim_page
    page.wait_for_function(
        "document.getElementById('log').textContent.includes('LMSInitialize(\"\") → \"true\"')"
    )
    frame = page.frame(url=lambda url: "/content/" in url)
    assert frame is not None
    frame.evaluate("location.hash = 'practice'")
    page.click("#relaunch")
    page.wait_for_function("document.getElementById('log').textContent.includes('launch 2')")
    page.wait_for_function(
        "document.getElementById('content').contentWindow.document.readyState === 'complete'"
        " && document.getElementById('content').contentWindow.location.pathname !== 'blank'"
    )
    frame = page.frame(url=lambda url: "/content/" in url)
    assert frame is not None and frame.evaluate("location.hash") == ""
