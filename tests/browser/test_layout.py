"""Layout of Module 7 on a phone, in an LMS's player frame and on a laptop, in both packagings.

At each size: the unit's heading is on the first screen, nothing scrolls sideways, Next stays
on screen half-way down the longest unit, charts are at least 300 px wide (or scroll inside
their figure), and axe-core finds nothing. Set SCORM_BUILDER_SCREENSHOTS to a folder to keep a
screenshot of each size (docs/img/ holds the ones the docs show).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from browser_support import MODULE7, Lms, Package, axe_violations

pytestmark = pytest.mark.browser

#: name -> (viewport, size of the player's frame or None when it fills the window)
SIZES: dict[str, tuple[tuple[int, int], tuple[int, int] | None]] = {
    "phone": ((375, 812), None),
    "frame": ((1280, 800), (1000, 600)),
    "laptop": ((1366, 768), None),
}
LONG_UNIT = "session-7-1"
CHART_UNIT = "session-7-5"


def set_size(lms: Lms, size: str) -> None:
    """Resize the window, and the player's frame when it is smaller than the window."""
    viewport, frame = SIZES[size]
    lms.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    if frame is not None:
        lms.page.evaluate(
            "s => { const f = document.getElementById('sco');"
            " f.style.width = s[0] + 'px'; f.style.height = s[1] + 'px'; }",
            list(frame),
        )


def open_unit(lms: Lms, package: Package, unit_id: str) -> None:
    """Show a unit as a learner arriving on it would: from the pager or the LMS's menu."""
    if package.mode == "multi":
        lms.launch(package, f"{unit_id}.html")
        return
    lms.frame.evaluate("id => { location.hash = id; }", unit_id)
    lms.frame.locator(f"section#{unit_id}").wait_for()


def geometry(lms: Lms) -> dict[str, Any]:
    """Where the heading, the app bar and Next are, in the frame's viewport."""
    return lms.frame.evaluate(
        """() => {
          const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                    width: r.width, height: r.height}; };
          const h1 = document.querySelector('section[data-unit]:not([hidden]) h1');
          const next = document.querySelector('[data-next]');
          let nextOnTop = false;
          if (next && next.offsetParent !== null) {
            const r = next.getBoundingClientRect();
            nextOnTop = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
              === next;
          }
          return {h1: box(h1), bar: box(document.querySelector('body > header')),
                  next: box(next), nextOnTop: nextOnTop,
                  main: box(document.querySelector('main')),
                  width: innerWidth, height: innerHeight,
                  scrollWidth: document.documentElement.scrollWidth,
                  clientWidth: document.documentElement.clientWidth,
                  scrollHeight: document.documentElement.scrollHeight};
        }"""
    )


def assert_heading_on_first_screen(lms: Lms, where: str) -> None:
    g = geometry(lms)
    assert g["h1"] is not None, where
    assert g["h1"]["top"] >= g["bar"]["bottom"] - 1, f"{where}: the heading is under the bar"
    assert g["h1"]["bottom"] <= g["height"], f"{where}: the heading is below the first screen"


def assert_no_sideways_scrolling(lms: Lms, where: str) -> None:
    g = geometry(lms)
    assert g["scrollWidth"] <= g["clientWidth"] + 1, f"{where} scrolls sideways"


def charts(lms: Lms) -> list[dict[str, float]]:
    """Each chart on screen: its width and whether its figure scrolls sideways."""
    return lms.frame.evaluate(
        """() => [...document.querySelectorAll('section:not([hidden]) figure.chart')]
             .map(f => ({width: f.querySelector('svg').getBoundingClientRect().width,
                         figure: f.clientWidth, scrolls: f.scrollWidth > f.clientWidth}))"""
    )


def screenshot(lms: Lms, name: str) -> None:
    folder = os.environ.get("SCORM_BUILDER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        lms.page.locator("#sco").screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.mark.parametrize("mode", ["single", "multi"])
@pytest.mark.parametrize("size", list(SIZES))
def test_module7_layout(lms: Lms, packages: Any, mode: str, size: str) -> None:
    package = packages(MODULE7, "scorm2004", mode)
    lms.launch(package)
    set_size(lms, size)
    where = f"{mode} at {size}"

    # The overview: its heading first, nothing wider than the screen, nothing axe objects to.
    assert_heading_on_first_screen(lms, f"{where}, overview")
    assert_no_sideways_scrolling(lms, f"{where}, overview")
    assert axe_violations(lms) == [], f"{where}, overview"

    # The longest unit: heading on the first screen; Next on screen half-way down it.
    open_unit(lms, package, LONG_UNIT)
    assert_heading_on_first_screen(lms, f"{where}, {LONG_UNIT}")
    screenshot(lms, f"{size}-{mode}")
    assert_no_sideways_scrolling(lms, f"{where}, {LONG_UNIT}")
    g = geometry(lms)
    assert g["scrollHeight"] > 2 * g["height"], "the unit is long enough to test scrolling"
    lms.frame.evaluate(
        "() => window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) / 2)"
    )
    g = geometry(lms)
    assert g["next"] is not None and g["nextOnTop"], f"{where}: Next is not visible half-way"
    assert g["next"]["top"] >= 0 and g["next"]["bottom"] <= g["height"], where
    assert axe_violations(lms) == [], f"{where}, {LONG_UNIT}"

    # Charts, once their data sets are answered: readable or scrolling, never squeezed.
    open_unit(lms, package, CHART_UNIT)
    unit = next(u for u in lms.course_data()["units"] if u["id"] == CHART_UNIT)
    lms.answer_quiz(unit["quiz"])
    lms.frame.evaluate("document.querySelectorAll('figure.chart')[1].scrollIntoView()")
    screenshot(lms, f"{size}-{mode}-chart")
    found = charts(lms)
    assert len(found) == 5, "every data set's chart is open"
    for chart in found:
        assert chart["width"] >= 300 or chart["scrolls"], f"{where}: a chart is {chart}"
    assert_no_sideways_scrolling(lms, f"{where}, {CHART_UNIT} with its charts")
    assert axe_violations(lms) == [], f"{where}, {CHART_UNIT} after answering"
    lms.close()
    lms.assert_clean()


@pytest.mark.parametrize("size", list(SIZES))
def test_contents_are_a_drawer_when_narrow_and_a_sidebar_when_wide(
    lms: Lms, packages: Any, size: str
) -> None:
    package = packages(MODULE7, "scorm2004", "single")
    lms.launch(package)
    set_size(lms, size)
    toc, toggle = lms.frame.locator("nav.toc"), lms.frame.locator("[data-toc-toggle]")
    if size == "laptop":
        assert toc.is_visible() and toggle.is_hidden()
        return
    assert toc.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toc.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert lms.frame.evaluate("document.activeElement.closest('nav') !== null")
    screenshot(lms, f"{size}-contents")
    assert axe_violations(lms) == [], f"{size}, contents open"
    lms.page.keyboard.press("Escape")
    assert toc.is_hidden()
    assert lms.frame.evaluate("document.activeElement.hasAttribute('data-toc-toggle')")
    toggle.click()
    lms.page.mouse.click(geometry(lms)["width"] - 10, 400)  # on the dimmed page beside it
    assert toc.is_hidden()
    # The keyboard never walks through the dimmed page: tabbing out of the drawer closes it.
    toggle.click()
    inside = "document.activeElement.closest('nav.toc') !== null"
    for _ in range(toc.locator("a, button").count() + 1):
        if not lms.frame.evaluate(inside):
            break
        lms.page.keyboard.press("Tab")
    assert not lms.frame.evaluate(inside)
    assert toc.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
    lms.go_to(LONG_UNIT)  # opens the drawer and follows a link: the drawer closes behind it
    assert toc.is_hidden() and lms.visible_section() == LONG_UNIT
    lms.close()
    lms.assert_clean()


def test_one_sco_per_unit_leaves_no_empty_column(lms: Lms, packages: Any) -> None:
    """The LMS shows its own contents next to a multi-SCO package: no list, no gap for one."""
    package = packages(MODULE7, "scorm2004", "multi")
    lms.launch(package, f"{LONG_UNIT}.html")
    set_size(lms, "laptop")
    assert lms.frame.locator("nav.toc").count() == 0
    assert lms.frame.locator("[data-toc-toggle]").count() == 0
    g = geometry(lms)
    left, right = g["main"]["left"], g["width"] - g["main"]["right"]
    assert abs(left - right) <= 20, f"the text is off centre: {left} px left, {right} px right"
    lms.close()
    lms.assert_clean()
