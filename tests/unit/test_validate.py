"""Author errors: every one reported at once, at its file and line, with a stable code."""

from __future__ import annotations

import pytest

from builder.errors import BuildFailed
from builder.pipeline import validate
from tests.conftest import edit_text, validation_problems


def test_valid_fixture_has_no_problems(minimal_course):
    parsed, warnings = validate(minimal_course, "course")
    assert warnings == [] and [u.id for u in parsed.units] == ["rules", "practice", "check"]


def test_unknown_key_names_line_and_suggests(minimal_course):
    edit_text(minimal_course / "course.yaml", "keywords:", "keywrods:")
    with pytest.raises(BuildFailed) as info:
        validate(minimal_course, "course")
    [d] = info.value.diagnostics
    assert str(d) == (
        "course/course.yaml:6:1: error[E202]: unknown key 'keywrods'\n"
        "  hint: did you mean 'keywords'?"
    )


def test_missing_field_and_wrong_type_are_reported_together_sorted(minimal_course):
    edit_text(minimal_course / "course.yaml", 'version: "2.1.0"\n', "")
    edit_text(minimal_course / "units" / "rules.md", "duration: 10", "duration: ten")
    edit_text(minimal_course / "quizzes" / "check.yaml", "pass_mark: 50", "pass_mark: 150")
    assert validation_problems(minimal_course) == [
        "course/course.yaml:1:1: error[E201]: missing required field 'version'",
        "course/quizzes/check.yaml:3:1: error[E205]: pass_mark must be at most 100 (got 150)",
        "course/units/rules.md:5:1: error[E205]: duration must be a whole number (got 'ten')",
    ]


def test_question_rules(minimal_course):
    quiz = minimal_course / "quizzes" / "check.yaml"
    edit_text(
        quiz,
        "{id: night, text: Never swim at night}",
        "{id: night, text: Never swim at night, correct: true}",
    )
    edit_text(quiz, "answer: two", "answer: three")
    edit_text(quiz, "{id: signs, text: Read the signs, correct: true}", "{id: signs, text: Read}")
    edit_text(
        quiz,
        "{id: alone, text: Never swim alone, correct: true}\n      - {id: signs",
        "{id: alone, text: Never swim alone}\n      - {id: signs",
    )
    assert validation_problems(minimal_course) == [
        "course/quizzes/check.yaml:8:5: error[E310]: single-choice question 'q-alone' has 2 "
        "correct options; it needs exactly one",
        "course/quizzes/check.yaml:17:5: error[E311]: multiple-response question 'q-rules' has "
        "no correct option",
        "course/quizzes/check.yaml:30:45: error[E312]: matching answer 'three' of question "
        "'q-match' is not one of its options (one, two)",
    ]


def test_unknown_question_type(minimal_course):
    edit_text(minimal_course / "quizzes" / "check.yaml", "type: true-false", "type: yes-no")
    [problem] = validation_problems(minimal_course)
    assert problem == (
        "course/quizzes/check.yaml:22:5: error[E204]: unknown question type 'yes-no' (questions[2])"
    )


def test_references(minimal_course):
    edit_text(minimal_course / "course.yaml", "  - practice\n", "  - practise\n")
    problems = validation_problems(minimal_course)
    assert problems == [
        "course/course.yaml:20:5: error[E301]: unit 'practise' not found: no file in units/ "
        "has this id",
        "course/units/practice.md:2:1: warning[W302]: unit 'practice' is not listed in course.yaml",
    ]


def test_footnotes_and_links(minimal_course):
    unit = minimal_course / "units" / "rules.md"
    edit_text(unit, "Never swim alone.[^buddy]", "Never swim alone.[^pal]")
    edit_text(unit, "(practice.md#try-it)", "(nowhere.md)")
    assert validation_problems(minimal_course) == [
        "course/units/rules.md:12:1: error[E320]: footnote [^pal] is cited but never defined",
        "course/units/rules.md:18:1: error[E322]: link target 'nowhere.md' not found",
        "course/units/rules.md:20:1: error[E321]: footnote [^buddy] is defined but never cited",
    ]


def test_yaml_syntax_and_duplicate_keys(minimal_course):
    edit_text(
        minimal_course / "units" / "rules.md",
        "kind: presentation",
        "kind: presentation\nkind: activity",
    )
    edit_text(minimal_course / "quizzes" / "practice.yaml", "title: Your turn", "title: [Your turn")
    problems = validation_problems(minimal_course)
    assert problems[0].startswith("course/quizzes/practice.yaml:")
    assert "error[E101]: YAML syntax" in problems[0]
    assert problems[1] == (
        "course/units/rules.md:5:1: error[E104]: duplicate key 'kind' (first written on line 4)"
    )


def test_same_aim_is_a_warning_and_strict_makes_it_fatal(minimal_course):
    edit_text(
        minimal_course / "units" / "practice.md",
        "aim: To apply the rules.",
        "aim: To know the  rules.",
    )
    _, warnings = validate(minimal_course, "course")
    assert [str(w).split("\n")[0] for w in warnings] == [
        "course/units/practice.md:6:1: warning[W301]: unit 'practice' has the same aim as unit "
        "'rules'"
    ]
    with pytest.raises(BuildFailed):
        validate(minimal_course, "course", strict=True)


def test_yaml_core_schema_no_yes_no_booleans_or_dates(minimal_course):
    edit_text(minimal_course / "course.yaml", 'version: "2.1.0"', "version: 2024-01-02")
    edit_text(minimal_course / "units" / "rules.md", "title: The three rules", "title: no")
    parsed, _ = validate(minimal_course, "course")
    assert parsed.version == "2024-01-02"
    assert parsed.units[0].title == "no"


def test_quiz_draw_shuffle_and_feedback(minimal_course):
    quiz = minimal_course / "quizzes" / "check.yaml"
    edit_text(quiz, "pass_mark: 50\n", "pass_mark: 50\ndraw: 6\nshuffle: true\nfeedback: later\n")
    assert validation_problems(minimal_course) == [
        "course/quizzes/check.yaml:6:1: error[E205]: feedback must be 'immediate' or "
        "'after-pass-or-last-attempt' (got 'later')",
    ]
    edit_text(quiz, "feedback: later", "feedback: after-pass-or-last-attempt")
    assert validation_problems(minimal_course) == [
        "course/quizzes/check.yaml:4:1: error[E315]: quiz 'check-quiz' draws 6 questions but "
        "has 5 graded question(s)",
    ]
    edit_text(quiz, "draw: 6", "draw: 5")
    validate(minimal_course, "course")


def test_sequencing_and_likert_ids(minimal_course):
    quiz = minimal_course / "quizzes" / "practice.yaml"
    quiz.write_text(
        quiz.read_text() + "  - id: practice-order\n    type: sequencing\n    prompt: Order them.\n"
        "    steps:\n      - {id: first, text: First}\n      - {id: first, text: Second}\n"
        "  - id: practice-scale\n    type: likert\n    prompt: How sure?\n"
        "    scale:\n      - {id: sure, text: Not}\n      - {id: sure, text: Very}\n"
    )
    assert validation_problems(minimal_course) == [
        "course/quizzes/practice.yaml:13:10: error[E313]: question 'practice-order' has two "
        "steps with id 'first'",
        "course/quizzes/practice.yaml:19:10: error[E313]: question 'practice-scale' has two "
        "scale points with id 'sure'",
    ]
