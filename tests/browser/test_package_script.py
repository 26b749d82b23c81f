"""assets/package.js: the one file that tells the runtime its SCORM version and interface
strings, so that the pages are the same in both versions' packages."""

from __future__ import annotations

import shutil
from dataclasses import replace
from typing import Any

import pytest
from browser_support import FIXTURES, Lms, Package

pytestmark = pytest.mark.browser

ALL_TYPES = FIXTURES / "all-types"


@pytest.mark.parametrize("target", ["scorm12", "scorm2004"])
def test_the_runtime_speaks_the_version_the_package_script_gives(
    lms: Lms, packages: Any, target: str
) -> None:
    package = packages(ALL_TYPES, target, "multi")
    lms.launch(package)
    init = "LMSInitialize" if target == "scorm12" else "Initialize"
    assert lms.calls()[0]["fn"] == init
    assert lms.frame.evaluate("window.scormBuilderPackage.scorm") == package.version
    lms.assert_clean()


def without_package_script(package: Package) -> Package:
    """A copy of an extracted package whose assets/package.js is gone (as if it failed to load)."""
    name = f"{package.name}-no-script"
    path = package.path.parent / name
    if not path.exists():
        shutil.copytree(package.path, path)
        (path / "assets" / "package.js").unlink()
    return replace(package, name=name, path=path, url=package.url.replace(package.name, name))


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_a_page_without_its_package_script_runs_standalone_and_says_why(
    lms: Lms, packages: Any, mode: str
) -> None:
    package = without_package_script(packages(ALL_TYPES, "scorm2004", mode))
    # Waits until the course UI is ready: nothing stopped it.
    lms.launch(package, "index.html" if mode == "single" else "practice.html")
    assert lms.rec.page_errors == []
    # No version, so no LMS call that could be wrong: the course runs on its own, and says why.
    assert lms.calls() == []
    warnings = [m["text"] for m in lms.rec.console if m["type"] == "warning"]
    assert any("assets/package.js did not load" in w for w in warnings), warnings
    assert lms.frame.locator("[data-notice]").is_visible()
    # The course still works: a quiz is scored and marked (the texts show their names).
    if mode == "single":
        lms.frame.locator("[data-start]").click()
        lms.go_to("practice")
    quiz = next(u["quiz"] for u in lms.course_data()["units"] if u["id"] == "practice")
    lms.answer_quiz(quiz)
    result = lms.result(quiz["id"])
    assert "result.score result.passed" in result
    assert result.count("✓") == len(quiz["questions"]) and "✗" not in result
    assert lms.rec.page_errors == []
