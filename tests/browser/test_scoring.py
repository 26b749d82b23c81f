"""A quiz's `scoring` in the package, against the score Moodle gives the same answers.

The expected score is computed from the Moodle XML export of the same course with Moodle's own
rules (qtype_multichoice_multi: the chosen answers' fractions added, kept between 0 and 1;
qtype_match: right pairs / prompts), so package and question bank are compared, not two copies
of one formula.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from browser_support import Lms
from lxml import etree

from builder.export import export_moodle_xml
from builder.pipeline import load_course

pytestmark = pytest.mark.browser

FILES = {
    "course.yaml": """\
        id: scoring-SCORING
        title: Scoring
        version: "1.0.0"
        language: en
        description: One graded quiz with a multiple-response and a matching question.
        credits: {source: scorm-builder test fixture, licence: CC0}
        reporting: {status: passed/failed, pass_mark: 80, assessment: test}
        units: [intro, test]
        """,
    "units/intro.md": "---\nid: intro\ntitle: Intro\nkind: presentation\nduration: 1\n---\n\nHi.\n",
    "units/test.md": (
        "---\nid: test\ntitle: Test\nkind: assessment\nduration: 5\nquiz: quizzes/test.yaml\n"
        "---\n\nAnswer.\n"
    ),
    "quizzes/test.yaml": """\
        id: test-quiz
        title: Test
        scoring: SCORING
        questions:
          - id: q-multi
            type: multiple-response
            prompt: Which are even?
            options:
              - {id: two, text: "2", correct: true}
              - {id: four, text: "4", correct: true}
              - {id: six, text: "6", correct: true}
              - {id: three, text: "3"}
              - {id: five, text: "5"}
          - id: q-match
            type: matching
            prompt: Match the capitals.
            prompts:
              - {id: p-fr, text: France, answer: paris}
              - {id: p-it, text: Italy, answer: rome}
            options:
              - {id: paris, text: Paris}
              - {id: rome, text: Rome}
              - {id: bern, text: Bern}
        """,
}
#: Two of three right options and one wrong one; one pair of two right.
CHOSEN = {"two", "four", "three"}
PAIRS = {"p-fr": "paris", "p-it": "bern"}


@pytest.fixture(scope="module")
def courses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for scoring in ("partial", "all-or-nothing"):
        root = tmp_path_factory.mktemp(f"scoring-{scoring}")
        for rel, text in FILES.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).replace("SCORING", scoring), encoding="utf-8")
        out[scoring] = root
    return out


def moodle_percent(course_dir: Path) -> float:
    """The quiz score Moodle gives CHOSEN and PAIRS, from the exported Moodle XML."""
    root = etree.fromstring(export_moodle_xml(load_course(course_dir)[0]).data)
    [multi] = root.xpath("question[name/text='q-multi']")
    options = ["two", "four", "six", "three", "five"]  # the order written, as exported
    fractions = [float(a.get("fraction")) / 100 for a in multi.findall("answer")]
    grade_multi = min(
        1.0, max(0.0, sum(f for o, f in zip(options, fractions, strict=True) if o in CHOSEN))
    )
    [match] = root.xpath("question[name/text='q-match']")
    stems = [s for s in match.findall("subquestion") if s.findtext("text")]
    answers = {"France": "Paris", "Italy": "Bern"}
    right = sum(s.findtext("answer/text") == answers[s.findtext("text")[3:-4]] for s in stems)
    grade_match = right / len(stems)
    return (grade_multi + grade_match) / 2 * 100


@pytest.mark.parametrize("target", ["scorm12", "scorm2004"])
@pytest.mark.parametrize("scoring", ["partial", "all-or-nothing"])
def test_partial_scoring_matches_moodle_and_all_or_nothing_does_not(
    lms: Lms, packages: Any, courses: dict[str, Path], scoring: str, target: str
) -> None:
    package = packages(courses[scoring], target, "single")
    lms.launch(package, "index.html")
    lms.go_to("test")
    f = lms.frame
    for option in ["two", "four", "six", "three", "five"]:
        box = f.locator(f"#q-multi--{option}")
        box.check() if option in CHOSEN else box.uncheck()
    for prompt, choice in PAIRS.items():
        f.locator(f"#q-match--{prompt}").select_option(choice)
    f.locator('form[data-quiz="test-quiz"] [data-submit]').click()
    f.locator('form[data-quiz="test-quiz"] [data-result]').wait_for()
    cmi = lms.cmi()
    score = float(cmi["core"]["score"]["raw"] if package.version == "1.2" else cmi["score"]["raw"])
    lms.close()

    moodle = moodle_percent(courses[scoring])  # the export's fractions do not depend on it
    assert moodle == pytest.approx(100 / 3, abs=0.01)  # (1/6 + 1/2) / 2
    if scoring == "partial":
        assert score == pytest.approx(moodle, abs=0.01)
    else:
        assert score == 0  # neither question fully right
    lms.assert_clean()
