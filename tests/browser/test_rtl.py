"""Module 7 in Arabic: right to left, accessible, usable at 375 px inside the LMS's frame."""

from __future__ import annotations

import copy
import re
import shutil
import zipfile
from typing import Any

import pytest
from browser_support import MODULE7, Lms, Package, Server
from lxml import etree
from test_accessibility import CSP_WATCH, axe_violations, csp_violations, fits_width

from builder.pipeline import BuildSettings, build, load_course
from builder.translate import XLIFF_NS, extract_segments, write_xliff

pytestmark = pytest.mark.browser

X = f"{{{XLIFF_NS}}}"
#: Arabic words by length, standing in for a translation of each English word.
WORDS = ["و", "في", "على", "الذي", "المخدرات", "السياسات", "الجريمة", "المنظمة", "الأمن"]


def arabic(text: str) -> str:
    return re.sub(r"[A-Za-z]+", lambda m: WORDS[min(len(m.group()), len(WORDS)) - 1], text)


def fill_arabic(data: bytes) -> bytes:
    """Every trans-unit given an 'Arabic' target: the source's words replaced, codes kept."""
    root = etree.fromstring(data)
    codes = (X + "ph", X + "bpt", X + "ept")
    for tu in root.iter(X + "trans-unit"):
        source = tu.find(X + "source")
        target = copy.deepcopy(source)
        target.tag = X + "target"
        for el in target.iter():
            if el.tag not in codes and el.text:
                el.text = arabic(el.text)
            if el is not target and el.tail:
                el.tail = arabic(el.tail)
        source.addnext(target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def arabic_package(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Package:
    """Module 7's Arabic edition (SCORM 2004, one SCO), extracted for the local server."""
    course = tmp_path_factory.mktemp("ar") / "course"
    shutil.copytree(MODULE7, course)
    loaded, _ = load_course(course)
    (course / "translations").mkdir()
    xliff = write_xliff(extract_segments(loaded, course), "ar")
    (course / "translations" / "ar.xlf").write_bytes(fill_arabic(xliff))
    out = tmp_path_factory.mktemp("ar-dist")
    result = build(BuildSettings(course, out, targets=("scorm2004",), mode="single", language="ar"))
    assert not [w for w in result.warnings if w.code.startswith("W6")]
    name = "module7-ar-scorm2004"
    with zipfile.ZipFile(result.outputs[0].path) as zf:
        zf.extractall(server.site / name)
    return Package(name, "scorm2004", "single", server.site / name, f"{server.base}/pkg/{name}/")


def starts_on_the_right(lms: Lms) -> bool:
    """The first paragraph of the unit on screen starts in its right half."""
    return lms.frame.evaluate(
        """() => {
          const p = [...document.querySelectorAll('main section:not([hidden]) p')]
            .find(e => e.firstChild && e.firstChild.nodeType === 3 && e.textContent.trim()
                       && e.getClientRects().length > 0);
          const range = document.createRange();
          range.setStart(p.firstChild, 0);
          range.setEnd(p.firstChild, 1);
          const box = p.getBoundingClientRect(), first = range.getBoundingClientRect();
          return first.left > box.left + box.width / 2;
        }"""
    )


def test_arabic_edition_right_to_left_accessible_at_375_px(
    lms: Lms, arabic_package: Package
) -> None:
    lms.page.set_viewport_size({"width": 375, "height": 720})
    lms.page.add_init_script(CSP_WATCH)
    lms.launch(arabic_package)
    assert lms.frame.evaluate("document.documentElement.lang") == "ar"
    assert lms.frame.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert lms.frame.evaluate("window.frameElement !== null"), "runs inside the LMS frame"
    assert axe_violations(lms) == [], "home"
    assert fits_width(lms), "the home page scrolls sideways at 375 px"
    units = lms.course_data()["units"]
    for unit in units:
        lms.go_to(unit["id"])
        assert fits_width(lms), f"{unit['id']} scrolls sideways at 375 px"
        assert axe_violations(lms) == [], unit["id"]
        assert starts_on_the_right(lms), f"{unit['id']}: text does not start on the right"
        if unit["quiz"]:
            lms.answer_quiz(unit["quiz"], correct=False)
            assert axe_violations(lms) == [], f"{unit['id']} after submitting"
            assert fits_width(lms), f"{unit['id']} after submitting"
    assert csp_violations(lms) == []
    lms.close()
    lms.assert_clean()


def test_the_layout_check_tells_left_from_right(lms: Lms, packages: Any) -> None:
    """The English edition starts its text on the left: the check above can fail."""
    lms.launch(packages(MODULE7, "scorm2004", "single"))
    unit = lms.course_data()["units"][0]["id"]
    lms.go_to(unit)
    assert lms.frame.evaluate("getComputedStyle(document.body).direction") == "ltr"
    assert not starts_on_the_right(lms)
    lms.close()
