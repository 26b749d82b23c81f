"""Item-writing checks (W501–W508): each fires on a crafted quiz, names its questions and where
they are written, and stays silent below its threshold; `--strict` makes them fatal."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from builder.pipeline import validate
from tests.conftest import run_cli


def write_quiz(course: Path, name: str, text: str) -> str:
    """Write quizzes/<name>.yaml; return it as diagnostics show it (course/quizzes/…)."""
    (course / "quizzes" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return f"course/quizzes/{name}.yaml"


def line_of(course: Path, path: str, needle: str) -> int:
    text = (course.parent / path).read_text(encoding="utf-8")
    return text[: text.index(needle)].count("\n") + 1


def warnings_of(course: Path, path: str) -> list[str]:
    """First lines of the warnings about one file, as printed."""
    _, warnings = validate(course, "course")
    return [str(w).split("\n")[0] for w in warnings if w.path == path]


def single(qid: str, options: list[str], right: int, prompt: str = "Which one?") -> str:
    lines = [f"  - id: {qid}", "    type: single-choice", f"    prompt: {prompt}", "    options:"]
    for i, text in enumerate(options):
        mark = ", correct: true" if i == right else ""
        lines.append(f"      - {{id: o{i}, text: {json.dumps(text)}{mark}}}")
    return "\n".join(lines) + "\n"


def multi(qid: str, options: list[str], right: set[int]) -> str:
    lines = [f"  - id: {qid}", "    type: multiple-response", "    prompt: Which ones?"]
    lines.append("    options:")
    for i, text in enumerate(options):
        mark = ", correct: true" if i in right else ""
        lines.append(f"      - {{id: o{i}, text: {json.dumps(text)}{mark}}}")
    return "\n".join(lines) + "\n"


def true_false(qid: str, answer: bool) -> str:
    return (
        f"  - id: {qid}\n    type: true-false\n    prompt: Is {qid} so?\n"
        f"    answer: {str(answer).lower()}\n"
    )


def quiz(qid: str, *questions: str) -> str:
    return f"id: {qid}\ntitle: Crafted\nquestions:\n" + "".join(questions)


# --------------------------------------------------------------------------- answer-key patterns


def test_w501_the_correct_option_is_the_longest_in_most_questions(minimal_course):
    path = write_quiz(
        minimal_course,
        "longest",
        quiz(
            "longest",
            single("q1", ["Red", "The colour of a ripe tomato", "Blue"], 1),
            single("q2", ["A long and careful answer", "No", "Yes"], 0),
            single("q3", ["Up", "Down", "Sideways, then up again"], 2),
            single("q4", ["One", "Two", "Three"], 0),  # 'Three' is longer: not a hit
        ),
    )
    line = line_of(minimal_course, path, "questions:")
    assert warnings_of(minimal_course, path) == [
        f"{path}:{line}:1: warning[W501]: quiz 'longest': the correct option is the longest in "
        "3 of 4 single-choice questions ('q1', 'q2', 'q3')"
    ]


def test_w501_is_silent_when_the_longest_is_right_in_half_or_less(minimal_course):
    path = write_quiz(
        minimal_course,
        "half",
        quiz(
            "half",
            single("q1", ["Red", "The colour of a ripe tomato", "Blue"], 1),
            single("q2", ["A long and careful answer", "No", "Yes"], 0),
            single("q3", ["Up", "Down", "Sideways, then up again"], 1),
            single("q4", ["Monday", "A day of the week", "Tuesday"], 0),
        ),
    )
    assert warnings_of(minimal_course, path) == []


def test_w502_the_correct_option_stands_in_the_same_place(minimal_course):
    path = write_quiz(
        minimal_course,
        "place",
        quiz(
            "place",
            single("q1", ["Cat", "Dog", "Cow"], 1),
            single("q2", ["Oak", "Elm", "Ash"], 1),
            single("q3", ["Tea", "Gin", "Rum"], 1),
        ),
    )
    [message] = warnings_of(minimal_course, path)
    assert "warning[W502]: quiz 'place': the correct option is option 2 in 3 of 3" in message
    assert "('q1', 'q2', 'q3')" in message


def test_w503_every_true_false_answer_is_the_same(minimal_course):
    path = write_quiz(
        minimal_course,
        "tf",
        quiz("tf", *(true_false(f"t{i}", False) for i in range(3))),
    )
    [message] = warnings_of(minimal_course, path)
    assert message.endswith(
        "warning[W503]: quiz 'tf': all 3 true/false questions have the answer false "
        "('t0', 't1', 't2')"
    )
    mixed = write_quiz(
        minimal_course,
        "mixed",
        quiz("mixed", true_false("m0", False), true_false("m1", True), true_false("m2", False)),
    )
    assert warnings_of(minimal_course, mixed) == []


def test_w503_across_quizzes_names_them_and_points_at_the_first_question(minimal_course):
    # The minimal course's quiz has one true/false question, answered false, like these.
    for i in range(3):
        write_quiz(minimal_course, f"k{i}", quiz(f"k{i}", true_false(f"kt{i}", False)))
    _, warnings = validate(minimal_course, "course")
    [w] = [w for w in warnings if w.code == "W503"]
    assert w.path == "course/quizzes/check.yaml"
    assert w.line == line_of(minimal_course, w.path, "- id: q-tf")
    assert w.message == (
        "across quizzes 'check-quiz', 'k0', 'k1', 'k2': all 4 true/false questions have the "
        "answer false ('q-tf', 'kt0', 'kt1', 'kt2')"
    )


def test_w504_every_multiple_response_question_has_as_many_right_options(minimal_course):
    options = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    path = write_quiz(
        minimal_course,
        "multi",
        quiz(
            "multi",
            multi("m1", options, {0, 1, 2}),
            multi("m2", options, {1, 3, 4}),
            multi("m3", options, {0, 2, 4}),
        ),
    )
    [message] = warnings_of(minimal_course, path)
    assert message.endswith(
        "warning[W504]: quiz 'multi': all 3 multiple-response questions have exactly 3 correct "
        "options out of 5 ('m1', 'm2', 'm3')"
    )
    varied = write_quiz(
        minimal_course,
        "varied",
        quiz(
            "varied",
            multi("v1", options, {0, 1, 2}),
            multi("v2", options, {1, 3}),
            multi("v3", options, {0, 2, 4}),
        ),
    )
    assert warnings_of(minimal_course, varied) == []


# --------------------------------------------------------------------------- one question


def test_w505_all_or_none_of_the_above(minimal_course):
    path = write_quiz(
        minimal_course,
        "above",
        quiz(
            "above",
            single("q-all", ["Rain", "Snow", "All of the above"], 2),
            multi("q-none", ["Sun", "Hail", "None of these"], {0}),
        ),
    )
    line_all = line_of(minimal_course, path, '{id: o2, text: "All of the above"')
    line_none = line_of(minimal_course, path, '{id: o2, text: "None of these"')
    assert warnings_of(minimal_course, path) == [
        f"{path}:{line_all}:9: warning[W505]: question 'q-all': option 'o2' reads "
        '"All of the above"',
        f"{path}:{line_none}:9: warning[W505]: question 'q-none': option 'o2' reads "
        '"None of these"',
    ]


def test_w506_a_negative_stem_without_emphasis(minimal_course):
    path = write_quiz(
        minimal_course,
        "negative",
        quiz(
            "negative",
            single("q-not", ["Rain", "Snow"], 0, prompt="Which is not cold?"),
            single("q-except", ["Rain", "Snow"], 1, prompt="All are cold except which?"),
            single("q-isnt", ["Rain", "Snow"], 0, prompt="Which isn't cold?"),
            single("q-caps", ["Rain", "Snow"], 1, prompt="Which is NOT cold?"),
            single("q-bold", ["Rain", "Snow"], 0, prompt="Which is **not** cold?"),
            single("q-only", ["Rain", "Snow"], 1, prompt="Which is not only wet but warm?"),
        ),
    )
    found = warnings_of(minimal_course, path)
    assert [re.sub(r"^.*warning\[W506\]: ", "", m) for m in found] == [
        "question 'q-not': its prompt asks in the negative (\"not\") without emphasis",
        "question 'q-except': its prompt asks in the negative (\"except\") without emphasis",
        "question 'q-isnt': its prompt asks in the negative (\"isn't\") without emphasis",
    ]
    assert found[0].startswith(f"{path}:{line_of(minimal_course, path, 'prompt: Which is not')}:")


def test_w507_two_options_that_say_the_same(minimal_course):
    path = write_quiz(
        minimal_course,
        "dupes",
        quiz(
            "dupes",
            single("q-dupe", ["The police", "the  police.", "The army"], 0),
            """\
  - id: q-pairs
    type: matching
    prompt: Match.
    prompts:
      - {id: p1, text: Rome, answer: a}
      - {id: p2, text: rome, answer: b}
    options:
      - {id: a, text: Italy}
      - {id: b, text: Spain}
""",
        ),
    )
    found = [re.sub(r"^.*warning\[W507\]: ", "", m) for m in warnings_of(minimal_course, path)]
    assert found == [
        "question 'q-dupe': option 'o1' says the same as 'o0'",
        "question 'q-pairs': prompt 'p2' says the same as 'p1'",
    ]


def test_w508_a_correct_option_given_away_by_another_question(minimal_course):
    path = write_quiz(
        minimal_course,
        "giveaway",
        quiz(
            "giveaway",
            single("q-first", ["Weak institutions invite corruption", "Strong laws", "Luck"], 0),
            """\
  - id: q-second
    type: true-false
    prompt: Drug money funds campaigns.
    answer: true
    feedback:
      correct: Yes, because weak institutions invite corruption, as the session says.
""",
            single("q-short", ["Luck", "Strong laws"], 1),  # two words: too short to count
        ),
    )
    line = line_of(minimal_course, path, '{id: o0, text: "Weak institutions')
    assert warnings_of(minimal_course, path) == [
        f"{path}:{line}:9: warning[W508]: question 'q-first': its correct option 'o0' is "
        "written word for word in the feedback of question 'q-second'"
    ]


# --------------------------------------------------------------------------- strict


def test_item_warnings_pass_validate_but_fail_it_with_strict(minimal_course):
    write_quiz(
        minimal_course,
        "above",
        quiz("above", single("q-all", ["Rain", "Snow", "All of the above"], 2)),
    )
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 0 and "warning[W505]" in proc.stderr
    proc = run_cli("validate", "--strict", str(minimal_course))
    assert proc.returncode == 1 and "warning[W505]" in proc.stderr


def test_a_french_course_is_checked_in_french(minimal_course):
    course_yaml = minimal_course / "course.yaml"
    text = course_yaml.read_text(encoding="utf-8")
    course_yaml.write_text(re.sub(r"language: \S+", "language: fr", text), encoding="utf-8")
    path = write_quiz(
        minimal_course,
        "fr",
        quiz(
            "fr",
            single("q-fr", ["Pluie", "Toutes ces réponses"], 0, prompt="Lequel n'est pas froid ?"),
            single("q-en", ["Rain", "All of the above"], 0, prompt="Which is not cold?"),
        ),
    )
    codes = [
        re.search(r"\[(W\d+)\]: question '([^']+)'", m).groups()
        for m in warnings_of(minimal_course, path)
    ]
    assert sorted(codes) == [("W505", "q-fr"), ("W506", "q-fr")]


def test_questions_with_errors_are_reported_once_not_checked(minimal_course):
    from tests.conftest import validation_problems

    write_quiz(
        minimal_course,
        "broken",
        quiz("broken", *(single(f"b{i}", ["Yes", "No"], right=-1) for i in range(3))),
    )
    problems = validation_problems(minimal_course)
    assert [p.split(": ")[1] for p in problems] == ["error[E310]"] * 3
