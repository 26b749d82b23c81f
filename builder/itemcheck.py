"""Item-writing checks: patterns that let a learner score without knowing the answers.

Assessment-design guides agree on a short list of flaws that give answers away or confuse: the
right option is the longest or always in the same place, answer keys with a visible pattern,
"all/none of the above", a negative stem nobody notices, two options that say the same thing, and
one question answering another. Only what a program can see reliably is checked here, each as a
warning (so `validate --strict` fails) that names the pattern and the questions it covers.

Answer-key patterns are looked for in each quiz, then across the quizzes where none was found
(a learner who takes every knowledge check sees them all). A pattern needs at least three
questions of a kind and more than half of them: fewer are chance.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from builder.errors import Diagnostic
from builder.model import (
    Likert,
    Matching,
    MultipleResponse,
    Question,
    Quiz,
    Sequencing,
    SingleChoice,
    TrueFalse,
)
from builder.sources import Loc, SourceFile

#: Questions a pattern must cover before it means anything.
MIN_PATTERN = 3
#: Words a correct option must have before finding it elsewhere counts as giving it away.
MIN_GIVEAWAY_WORDS = 4

#: Options that point at the other options instead of answering, by course language.
_CATCH_ALL = {
    "en": re.compile(
        r"\b(all|none|both|neither)\s+of\s+(the\s+)?(above|previous|preceding|these|those|them)\b"
        r"|\ball\s+the\s+above\b",
        re.IGNORECASE,
    ),
    "fr": re.compile(
        r"\b(toutes|tous|aucune|aucun)\s+(les\s+|des\s+)?(réponses|propositions)\s+"
        r"(ci-dessus|précédentes)|\b(toutes|aucune\s+de)\s+ces\s+(réponses|propositions)\b",
        re.IGNORECASE,
    ),
}
#: Words that turn a question's stem around ("Which is NOT …"), by course language.
_NEGATIVE = {
    "en": re.compile(r"\b(not(?!\s+only\b)|except|cannot|\w+n't)\b", re.IGNORECASE),
    "fr": re.compile(r"\b(pas|sauf|excepté|jamais)\b", re.IGNORECASE),
}
_WORD = re.compile(r"\w+")
#: Markdown emphasis (`*x*`, `**x**`, `_x_`, `__x__`): a negative inside it is emphasised.
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")


def _words(text: str) -> str:
    """The words of a text, case-folded, each with one space on either side: ' a b c '.

    One word sequence is inside another exactly when one string is inside the other.
    """
    return " " + " ".join(_WORD.findall(text.casefold())) + " "


def _right(q: SingleChoice) -> int:
    return next(i for i, o in enumerate(q.options) if o.correct)


def _single(questions: Sequence[Question]) -> list[SingleChoice]:
    """The single-choice questions with their one right option (others are errors, E310)."""
    return [
        q
        for q in questions
        if isinstance(q, SingleChoice) and sum(o.correct for o in q.options) == 1
    ]


# --------------------------------------------------------------------------- answer-key patterns

#: A pattern: the questions it found it in, and what it found ("… in 5 of 6 …"); or None.
Found = tuple[list[Question], str] | None


def _most(hits: Sequence[Question], of: Sequence[Question]) -> bool:
    return len(hits) >= MIN_PATTERN and 2 * len(hits) > len(of)


def _longest_correct(questions: Sequence[Question]) -> Found:
    single = _single(questions)
    hits: list[Question] = []
    for q in single:
        lengths = [len(" ".join(o.text.split())) for o in q.options]
        right = _right(q)
        if all(lengths[right] > n for i, n in enumerate(lengths) if i != right):
            hits.append(q)
    if not _most(hits, single):
        return None
    return hits, (
        f"the correct option is the longest in {len(hits)} of {len(single)} single-choice questions"
    )


def _same_position(questions: Sequence[Question]) -> Found:
    single = _single(questions)
    if not single:
        return None
    place, _ = Counter(_right(q) for q in single).most_common(1)[0]
    hits: list[Question] = [q for q in single if _right(q) == place]
    if not _most(hits, single):
        return None
    return hits, (
        f"the correct option is option {place + 1} in {len(hits)} of {len(single)} "
        "single-choice questions"
    )


def _true_false_same(questions: Sequence[Question]) -> Found:
    tf: list[Question] = [q for q in questions if isinstance(q, TrueFalse)]
    answers = {q.answer for q in tf if isinstance(q, TrueFalse)}
    if len(tf) < MIN_PATTERN or len(answers) != 1:
        return None
    value = "true" if answers.pop() else "false"
    return tf, f"all {len(tf)} true/false questions have the answer {value}"


def _same_number_correct(questions: Sequence[Question]) -> Found:
    multi = [q for q in questions if isinstance(q, MultipleResponse)]
    rights = {sum(o.correct for o in q.options) for q in multi}
    if len(multi) < MIN_PATTERN or len(rights) != 1:
        return None
    sizes = {len(q.options) for q in multi}
    out_of = f" out of {sizes.pop()}" if len(sizes) == 1 else ""
    return list(multi), (
        f"all {len(multi)} multiple-response questions have exactly {rights.pop()} correct "
        f"options{out_of}"
    )


@dataclass(frozen=True)
class Pattern:
    code: str
    find: Callable[[Sequence[Question]], Found]
    hint: str
    order: bool = False
    """The pattern is in the written order of options (unseen if a quiz shuffles them)."""


PATTERNS = (
    Pattern(
        "W501",
        _longest_correct,
        "a learner who picks the longest option scores without knowing; make the distractors "
        "as long and as precise as the answer",
    ),
    Pattern("W502", _same_position, "vary where the right answer stands", order=True),
    Pattern(
        "W503",
        _true_false_same,
        "a learner who notices answers them all without reading; mix true and false statements",
    ),
    Pattern(
        "W504",
        _same_number_correct,
        "a learner who learns the count needs to know less; vary the number of right options",
    ),
)


# --------------------------------------------------------------------------- one question


class _Checker:
    """The per-question checks of one quiz file."""

    def __init__(self, quiz: Quiz, source: SourceFile, language: str) -> None:
        self.quiz = quiz
        self.source = source
        self.language = language.split("-")[0].lower()
        self.out: list[Diagnostic] = []

    def warn(self, loc: Loc, code: str, message: str, hint: str) -> None:
        self.out.append(self.source.diagnostic(loc, code, message, severity="warning", hint=hint))

    def catch_all(self, qi: int, q: SingleChoice | MultipleResponse) -> None:
        """W505: an "all of the above" or "none of the above" option."""
        pattern = _CATCH_ALL.get(self.language)
        for oi, o in enumerate(q.options):
            m = pattern.search(o.text) if pattern else None
            if m:
                self.warn(
                    ("questions", qi, "options", oi),
                    "W505",
                    f"question '{q.id}': option '{o.id}' reads \"{m.group(0)}\"",
                    "it can be chosen by spotting two right options (or one wrong one), and "
                    "means something else once options are shuffled; write a real option",
                )

    def negative_stem(self, qi: int, q: SingleChoice | MultipleResponse) -> None:
        """W506: a negative word in the stem that is neither in capitals nor emphasised."""
        pattern = _NEGATIVE.get(self.language)
        if pattern is None:
            return
        plain = _EMPHASIS.sub(lambda m: " " * len(m.group(0)), q.prompt)
        word = next((m.group(0) for m in pattern.finditer(plain) if not m.group(0).isupper()), "")
        if word:
            self.warn(
                ("questions", qi, "prompt"),
                "W506",
                f"question '{q.id}': its prompt asks in the negative (\"{word}\") without emphasis",
                f"write it in capitals or bold (**{word.upper()}**), or ask in the positive: a "
                "negative read as a positive turns the right answer wrong",
            )

    def duplicates(self, qi: int, q: Question) -> None:
        """W507: two options (matching prompts, sequencing steps, scale points) of one question
        that say the same."""
        if isinstance(q, SingleChoice | MultipleResponse | Matching):
            self._same(qi, q, "options", [(o.id, o.text) for o in q.options])
        if isinstance(q, Matching):
            self._same(qi, q, "prompts", [(p.id, p.text) for p in q.prompts])
        if isinstance(q, Sequencing):
            self._same(qi, q, "steps", [(st.id, st.text) for st in q.steps])
        if isinstance(q, Likert):
            self._same(qi, q, "scale", [(st.id, st.text) for st in q.scale], "scale point")

    def _same(
        self,
        qi: int,
        q: Question,
        field: str,
        items: list[tuple[str, str]],
        noun: str | None = None,
    ) -> None:
        seen: dict[str, str] = {}
        for i, (ident, text) in enumerate(items):
            # Case, spaces and a final full stop do not make two options different.
            key = " ".join(text.casefold().split()).rstrip(".!?;:,")
            if key in seen:
                self.warn(
                    ("questions", qi, field, i),
                    "W507",
                    f"question '{q.id}': {noun or field[:-1]} '{ident}' says the same as "
                    f"'{seen[key]}'",
                    "remove one, or make them differ",
                )
            else:
                seen[key] = ident

    def giveaways(self) -> None:
        """W508: a correct option written word for word in another question's text."""
        keys = [
            (qi, oi, q, o, _words(o.text))
            for qi, q in enumerate(self.quiz.questions)
            if isinstance(q, SingleChoice | MultipleResponse)
            for oi, o in enumerate(q.options)
            if o.correct
        ]
        keys = [k for k in keys if k[-1].count(" ") > MIN_GIVEAWAY_WORDS]
        if not keys:
            return
        texts: dict[str, list[tuple[str, str]]] = {}
        for q in self.quiz.questions:
            parts = [("prompt", q.prompt), ("feedback", q.feedback.correct)]
            parts.append(("feedback", q.feedback.incorrect))
            if isinstance(q, SingleChoice | MultipleResponse):
                parts += [("feedback", o.feedback) for o in q.options]
            if isinstance(q, Matching):
                parts += [("feedback", p.feedback) for p in q.prompts]
            texts[q.id] = [(kind, _words(t)) for kind, t in parts if t]
        for qi, oi, q, o, words in keys:
            for other in self.quiz.questions:
                if other.id == q.id:
                    continue
                kind = next((k for k, t in texts[other.id] if words in t), None)
                if kind:
                    self.warn(
                        ("questions", qi, "options", oi),
                        "W508",
                        f"question '{q.id}': its correct option '{o.id}' is written word "
                        f"for word in the {kind} of question '{other.id}'",
                        "a learner who has read the other question knows this answer; "
                        "reword one of them",
                    )
                    break


# --------------------------------------------------------------------------- entry point


def _names(questions: Sequence[Question]) -> str:
    return _listed([q.id for q in questions])


#: Names listed in one message before "and N more": a long course must not print pages.
_LISTED = 8


def _listed(ids: Sequence[str]) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:_LISTED])
    return shown if len(ids) <= _LISTED else f"{shown} and {len(ids) - _LISTED} more"


def quiz_items(quiz: Quiz, source: SourceFile, language: str) -> tuple[list[Diagnostic], list[str]]:
    """The item-writing warnings of one quiz alone (W505–W508, and W501–W504 for a pattern in
    its own questions), and the codes of the patterns found in it (`across_quizzes` needs them).
    """
    checker = _Checker(quiz, source, language)
    for qi, q in enumerate(quiz.questions):
        if isinstance(q, SingleChoice | MultipleResponse):
            checker.catch_all(qi, q)
            checker.negative_stem(qi, q)
        checker.duplicates(qi, q)
    checker.giveaways()
    found: list[str] = []
    for pattern in PATTERNS:
        hit = None if pattern.order and quiz.shuffle else pattern.find(quiz.questions)
        if hit is None:
            continue
        hits, what = hit
        checker.out.append(
            source.diagnostic(
                ("questions",),
                pattern.code,
                f"quiz '{quiz.id}': {what} ({_names(hits)})",
                severity="warning",
                hint=pattern.hint,
            )
        )
        found.append(pattern.code)
    return checker.out, found


def across_quizzes(quizzes: Sequence[tuple[Quiz, SourceFile, Collection[str]]]) -> list[Diagnostic]:
    """W501–W504 for a pattern in the quizzes that showed none on their own, taken together
    (each quiz with the codes `quiz_items` found in it)."""
    out: list[Diagnostic] = []
    where: dict[str, tuple[SourceFile, int]] = {}
    for quiz, source, _found in quizzes:
        for qi, q in enumerate(quiz.questions):
            where.setdefault(q.id, (source, qi))
    for pattern in PATTERNS:
        rest = [
            quiz
            for quiz, _source, found in quizzes
            if pattern.code not in found and not (pattern.order and quiz.shuffle)
        ]
        hit = pattern.find([q for quiz in rest for q in quiz.questions])
        if hit is None:
            continue
        hits, what = hit
        ids = {q.id for q in hits}
        owners = [quiz.id for quiz in rest if any(q.id in ids for q in quiz.questions)]
        if len(owners) < 2:
            continue
        source, qi = where[hits[0].id]
        out.append(
            source.diagnostic(
                ("questions", qi),
                pattern.code,
                f"across quizzes {_listed(owners)}: {what} ({_names(hits)})",
                severity="warning",
                hint=pattern.hint,
            )
        )
    return out
