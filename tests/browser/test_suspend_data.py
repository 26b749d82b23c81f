"""A course with many questions: its longest saved state is what the builder predicted, and fits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import Lms

from builder.pipeline import load_course
from builder.suspend import LIMITS, worst_case_size

pytestmark = pytest.mark.browser

#: Characters the encoding could trip on: its own separators, newlines and non-ASCII text.
FILLER = "Commas, colons: dots. ü ✓ – end\n"


def write_course(root: Path, units: int, reflection_length: int) -> Path:
    """A course of `units` units, each with one question of every type."""
    (root / "units").mkdir(parents=True)
    (root / "quizzes").mkdir()
    ids = [f"unit-{n}" for n in range(1, units + 1)]
    course = {
        "id": "many-questions",
        "title": "Many questions",
        "version": "1.0.0",
        "language": "en",
        "description": "Every question type, many times.",
        "credits": {"source": "test", "licence": "CC0"},
        "reporting": {"status": "passed/failed", "pass_mark": 50, "assessment": ids[-1]},
        "units": ids,
    }
    (root / "course.yaml").write_text(yaml.safe_dump(course), encoding="utf-8")
    for n, uid in enumerate(ids, start=1):
        quiz = {
            "id": f"quiz-{n}",
            "title": f"Quiz {n}",
            "questions": [
                {
                    "id": f"sc-{n}",
                    "type": "single-choice",
                    "prompt": "Pick one.",
                    "options": [
                        {"id": f"o{i}", "text": f"Option {i}", "correct": i == 0} for i in range(4)
                    ],
                },
                {"id": f"tf-{n}", "type": "true-false", "prompt": "True?", "answer": True},
                {
                    "id": f"mr-{n}",
                    "type": "multiple-response",
                    "prompt": "Pick some.",
                    "options": [
                        {"id": f"o{i}", "text": f"Option {i}", "correct": i % 2 == 0}
                        for i in range(7)
                    ],
                },
                {
                    "id": f"ma-{n}",
                    "type": "matching",
                    "prompt": "Match them.",
                    "prompts": [
                        {"id": f"p{i}", "text": f"Prompt {i}", "answer": f"t{i}"} for i in range(3)
                    ],
                    "options": [{"id": f"t{i}", "text": f"Target {i}"} for i in range(4)],
                },
                {"id": f"fi-{n}", "type": "fill-in", "prompt": "Say yes.", "answers": ["yes"]},
                {
                    "id": f"re-{n}",
                    "type": "reflection",
                    "prompt": "Reflect.",
                    "max_length": reflection_length,
                },
            ],
        }
        (root / "quizzes" / f"quiz-{n}.yaml").write_text(yaml.safe_dump(quiz), encoding="utf-8")
        front = {"id": uid, "title": f"Unit {n}", "kind": "activity", "duration": 5}
        front["quiz"] = f"quizzes/quiz-{n}.yaml"
        text = "---\n" + yaml.safe_dump(front) + "---\n\nRead this, then answer.\n"
        (root / "units" / f"{uid}.md").write_text(text, encoding="utf-8")
    return root


def largest_course(root: Path, limit: int, units: int) -> tuple[Path, int]:
    """The course whose reflections are as long as the limit allows: (folder, worst case)."""
    probe = write_course(root / "probe", units, 100)
    base = worst_case_size(load_course(probe)[0].units)
    length = min(4000, 100 + (limit - base) // units)
    while True:
        folder = write_course(root / f"course-{length}", units, length)
        size = worst_case_size(load_course(folder)[0].units)
        if size <= limit:
            return folder, size
        length -= 1


def fill_to_the_brim(lms: Lms, question: dict[str, Any]) -> None:
    """The answer that takes the most room in suspend_data."""
    f, qid, kind = lms.frame, question["id"], question["type"]
    if kind == "single-choice":
        f.locator(f"#q--{qid}--{question['options'][-1]}").check()
    elif kind == "true-false":
        f.locator(f"#q--{qid}--false").check()
    elif kind == "multiple-response":
        for option in question["options"]:
            f.locator(f"#q--{qid}--{option}").check()
    elif kind == "matching":
        for prompt in question["prompts"]:
            f.locator(f"#q--{qid}--{prompt}").select_option(question["targets"][-1])
    else:
        limit = question["maxLength"]
        f.locator(f"#q--{qid}--input").fill((FILLER * (limit // len(FILLER) + 1))[:limit])


@pytest.mark.parametrize(("target", "units"), [("scorm12", 10), ("scorm2004", 16)])
def test_many_questions_fit_in_suspend_data(
    lms: Lms, packages: Any, tmp_path: Path, target: str, units: int
) -> None:
    folder, worst = largest_course(tmp_path, LIMITS[target], units)
    package = packages(folder, target, "single")
    lms.launch(package)
    course = lms.course_data()
    assert sum(len(u["quiz"]["questions"]) for u in course["units"]) == units * 6
    for unit in course["units"]:
        lms.go_to(unit["id"])
        for question in unit["quiz"]["questions"]:
            fill_to_the_brim(lms, question)
        lms.frame.locator(f'form[data-quiz="{unit["quiz"]["id"]}"] [data-submit]').click()
    before = lms.controls()
    lms.close()

    saved = lms.cmi()["suspend_data"]
    # The builder's bound is exact: every answer at its largest reaches it, and it fits.
    assert len(saved) == worst <= LIMITS[target]
    lms.launch(package, cmi=lms.relaunch_data())
    lms.frame.locator("[data-resume-yes]").click()
    lms.frame.locator(f"section#{course['units'][-1]['id']}").wait_for()
    assert lms.controls() == before
    lms.assert_clean()
