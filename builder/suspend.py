"""The longest suspend_data a learner's saved state can reach, checked against the LMS limit.

The runtime (builder/runtime/scorm-runtime.js, `encode`) saves where the learner is and every
answer in `cmi.suspend_data`. SCORM 1.2 allows 4,096 characters there and SCORM 2004 64,000; an
LMS that truncates or refuses a longer value loses the learner's work. Free-text answers are the
only parts without a fixed size, so their length limits are set here and enforced by the
page (`maxlength`) and again by the runtime.

Format 2 of the encoding, keyed by the author's ids so that a rebuilt course keeps what still
applies (builder/runtime/README.md), in characters:
    "2" "!" visited unit ids joined by ","
        "!" per quiz: id ":" attempts(2) ":" best(3) ":" flag(1) ":" shape(3), joined by ","
            and, for a quiz that draws or orders: ":" draw ":" orders, where draw is a base-32
            bitmap over the quiz's questions (one digit per five; empty without `draw`) and
            orders the display order of each ordered question of the attempt (shuffled
            options, sequencing steps), one fixed-width base-36 position per option
        "!" per answer: id ":" base-36 length ":" shape(3) + value, joined by ","
with each value at most: single-choice and likert the base-36 option index; true-false 1;
multiple response one base-32 digit per five options; matching one fixed-width base-36 target
number per prompt; sequencing one fixed-width base-36 position per step; fill-in and reflection
the text itself. Only the questions of the current attempt keep an answer, so a quiz that draws
N questions counts its N largest graded answers (and every ungraded one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from builder.errors import Diagnostic
from builder.model import Course, FillIn, Question, Quiz, Unit

#: suspend_data limits by target (characters).
LIMITS = {"scorm12": 4096, "scorm2004": 64000}
TARGET_NAMES = {"scorm12": "SCORM 1.2", "scorm2004": "SCORM 2004"}
#: A fill-in box takes at least this many characters, so a learner is never cut off mid-word.
FILL_IN_MIN_LENGTH = 100

_SHAPE = 3  # hash of a question's or quiz's structure
_QUIZ_FIELDS = 2 + 3 + 1 + _SHAPE  # attempts, best score in hundredths, review flag, shape


def fill_in_max_length(question: FillIn) -> int:
    """The longest answer a fill-in box accepts: room for every accepted answer and more."""
    return max(FILL_IN_MIN_LENGTH, *(len(a) for a in question.answers))


def text_limit(question: Question) -> int | None:
    """The character limit of a free-text answer, or None for other question types."""
    if question.type == "reflection":
        return question.max_length
    if question.type == "fill-in":
        return fill_in_max_length(question)
    return None


def _base36_digits(n: int) -> int:
    digits = 1
    while n >= 36:
        n //= 36
        digits += 1
    return digits


def answer_size(question: Question) -> int:
    """The most characters one question's saved value can take (without id and length)."""
    match question.type:
        case "single-choice":
            return _base36_digits(len(question.options) - 1)
        case "likert":
            return _base36_digits(len(question.scale) - 1)
        case "sequencing":
            return order_size(question)
        case "true-false":
            return 1
        case "multiple-response":
            return math.ceil(len(question.options) / 5)
        case "matching":
            return len(question.prompts) * _base36_digits(len(question.options))
        case _:
            return text_limit(question) or 0


def order_size(question: Question) -> int:
    """Characters of one question's option (or step) order: a fixed-width position each."""
    items = question.steps if question.type == "sequencing" else getattr(question, "options", ())
    return len(items) * _base36_digits(max(0, len(items) - 1))


def _ordered(quiz: Quiz, question: Question) -> bool:
    """Whether the runtime keeps a display order for this question (see `needsOrder`)."""
    return question.type == "sequencing" or (
        quiz.shuffle and question.type in ("single-choice", "multiple-response")
    )


def _entry_size(question: Question) -> int:
    """One saved answer: id ":" base-36 length ":" shape + value."""
    body = _SHAPE + answer_size(question)
    return len(question.id) + 1 + _base36_digits(body) + 1 + body


def attempt_questions(quiz: Quiz) -> list[Question]:
    """The questions of the attempt whose saved state is longest: all of them, or the `draw`
    graded ones whose answer and order take the most room, and every ungraded one."""
    if quiz.draw is None:
        return list(quiz.questions)

    def room(q: Question) -> int:
        return _entry_size(q) + 1 + (order_size(q) if _ordered(quiz, q) else 0)

    graded = sorted((q for q in quiz.questions if q.points > 0), key=room, reverse=True)
    return graded[: quiz.draw] + [q for q in quiz.questions if q.points == 0]


def quiz_entry_size(quiz: Quiz) -> int:
    """The longest entry of a quiz in the quizzes part (without the separating comma)."""
    size = len(quiz.id) + 4 + _QUIZ_FIELDS
    if quiz.draw is None and not any(_ordered(quiz, q) for q in quiz.questions):
        return size
    draw = math.ceil(len(quiz.questions) / 5) if quiz.draw is not None else 0
    orders = sum(order_size(q) for q in attempt_questions(quiz) if _ordered(quiz, q))
    return size + 2 + draw + orders


def _joined(sizes: Sequence[int]) -> int:
    return sum(sizes) + max(0, len(sizes) - 1)


def worst_case_size(units: Sequence[Unit]) -> int:
    """The longest suspend_data of a SCO made of these units (format 2, see module doc)."""
    quizzes = [u.quiz for u in units if u.quiz]
    answers = [_entry_size(q) for quiz in quizzes for q in attempt_questions(quiz)]
    return (
        1
        + 1
        + _joined([len(u.id) for u in units])
        + 1
        + _joined([quiz_entry_size(z) for z in quizzes])
        + 1
        + _joined(answers)
    )


@dataclass(frozen=True)
class ScoSize:
    """The worst-case saved state of one SCO."""

    name: str
    units: tuple[Unit, ...]
    size: int


def sco_sizes(course: Course, mode: str) -> list[ScoSize]:
    """Each SCO's worst-case suspend_data: one SCO for the course, or one per unit."""
    if mode == "single":
        return [ScoSize("the course", course.units, worst_case_size(course.units))]
    return [ScoSize(f"unit '{u.id}'", (u,), worst_case_size((u,))) for u in course.units]


def suspend_problems(
    course: Course, target: str, mode: str, scos: Sequence[ScoSize] | None = None
) -> list[Diagnostic]:
    """One error per SCO whose worst-case saved state exceeds the target's limit (`scos`: the
    course's sco_sizes in `mode`, if known: a build works them out once for every target)."""
    limit = LIMITS.get(target)
    if limit is None:
        return []
    diags = []
    for sco in scos if scos is not None else sco_sizes(course, mode):
        if sco.size <= limit:
            continue
        texts = sorted(
            (
                (text_limit(q) or 0, q.id, u)
                for u in sco.units
                if u.quiz
                for q in u.quiz.questions
                if text_limit(q)
            ),
            key=lambda t: (-t[0], t[1]),
        )
        free = sum(size for size, _, _ in texts)
        biggest = ", ".join(f"'{qid}' ({size})" for size, qid, _ in texts[:5])
        where = texts[0][2] if texts else sco.units[0]
        path = (where.quiz_source or where.source) if texts else where.source
        hint = (
            f"lower `max_length` of the longest reflections ({biggest}) so that the total "
            f"fits, or build only for SCORM 2004 (--target scorm2004)"
            if texts and target == "scorm12"
            else f"lower `max_length` of the longest reflections ({biggest})"
            if texts
            else "split the questions over more units, or package one SCO per unit (--mode multi)"
        )
        diags.append(
            Diagnostic(
                path,
                1,
                1,
                "E340",
                f"the saved state of {sco.name} can reach {sco.size:,} characters, over "
                f"{TARGET_NAMES[target]}'s suspend_data limit of {limit:,}; free-text answers "
                f"can take {free:,} of them",
                hint=hint,
            )
        )
    return diags
