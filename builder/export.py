"""The course's graded questions as a Moodle question bank: GIFT and Moodle XML.

Both formats are written for Moodle's own importers (question/format/gift and question/format/xml):
one question category per quiz, `$course$/top/<course title>/<quiz title>`; question names are the
author's question ids, so a re-import is easy to match with the course. Text is the Markdown
rendered to HTML; links into the course (units, headings, media) cannot work in a question bank,
so they keep their text and lose the link. Reflections are never graded and are left out.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from builder.errors import Diagnostic
from builder.i18n import catalogue
from builder.markdown import parser
from builder.model import (
    Course,
    FillIn,
    Matching,
    MultipleResponse,
    Quiz,
    SingleChoice,
    TrueFalse,
    Unit,
)

GradedQuestion = SingleChoice | MultipleResponse | TrueFalse | Matching | FillIn

#: Grades Moodle accepts for an answer, in percent (question_bank::fraction_options_full). An
#: import with any other grade fails unless the teacher picks "nearest grade".
MOODLE_GRADES = (
    100.0,
    90.0,
    83.33333,
    80.0,
    75.0,
    70.0,
    66.66667,
    60.0,
    50.0,
    40.0,
    33.33333,
    30.0,
    25.0,
    20.0,
    16.66667,
    14.28571,
    12.5,
    11.11111,
    10.0,
    5.0,
)
#: Moodle's default penalty for a wrong try (one third), as its own exports write it.
PENALTY = "0.3333333"
#: Characters GIFT gives a meaning to; a backslash in front makes them text.
GIFT_SPECIAL = "~=#{}:"


@dataclass(frozen=True)
class Exported:
    """One question-bank file in memory, with the warnings met while writing it."""

    data: bytes
    warnings: list[Diagnostic]
    questions: int


def graded_quizzes(course: Course) -> Iterator[tuple[Unit, Quiz, list[GradedQuestion]]]:
    """Each quiz with graded questions (one question bank category), and those questions."""
    for unit in course.units:
        if unit.quiz is None:
            continue
        graded: list[GradedQuestion] = [
            q
            for q in unit.quiz.questions
            if isinstance(q, SingleChoice | MultipleResponse | TrueFalse | Matching | FillIn)
        ]
        if graded:
            yield unit, unit.quiz, graded


# --------------------------------------------------------------------------- text


def _strip_course_links(tokens: list[Token]) -> list[Token]:
    """Keep external links; a link into the course keeps its text only; images become alt text."""
    out: list[Token] = []
    dropped: list[bool] = []
    for tok in tokens:
        if tok.type == "link_open":
            href = str(tok.attrs.get("href", ""))
            external = href.startswith(("http://", "https://", "mailto:"))
            dropped.append(not external)
            if external:
                tok.attrSet("target", "_blank")
                tok.attrSet("rel", "noopener")
                out.append(tok)
        elif tok.type == "link_close":
            if not (dropped.pop() if dropped else False):
                out.append(tok)
        elif tok.type == "image":
            alt = Token("text", "", 0)
            alt.content = "".join(c.content for c in tok.children or [])
            out.append(alt)
        else:
            out.append(tok)
    return out


def inline_html(text: str) -> str:
    """A short Markdown text (prompt, option, feedback) as HTML, without course links."""
    md = parser()
    env: dict[str, object] = {}
    blocks = md.parseInline(text.strip(), env)
    children = _strip_course_links(blocks[0].children or []) if blocks else []
    renderer = md.renderer
    assert isinstance(renderer, RendererHTML)
    return renderer.renderInline(children, md.options, env).strip()


def _para(text: str | None) -> str:
    return f"<p>{inline_html(text)}</p>" if text else ""


def _shortanswer_text(answer: str) -> str:
    """Moodle's short-answer matching treats '*' as a wildcard; '\\*' is a literal star."""
    return answer.strip().replace("*", "\\*")


def _grade(share: float) -> float:
    """The Moodle grade nearest to `share` percent."""
    return min(MOODLE_GRADES, key=lambda g: (abs(g - share), -g))


def _percent(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _response_weights(q: MultipleResponse) -> tuple[float, float]:
    """Grades of a right and a wrong option of a multiple-response question, in percent."""
    right = sum(o.correct for o in q.options)
    wrong = len(q.options) - right
    return _grade(100 / right), (-_grade(100 / wrong) if wrong else 0.0)


def _warnings(course: Course, unit: Unit, q: GradedQuestion, gift: bool) -> list[Diagnostic]:
    def warn(code: str, message: str, hint: str) -> Diagnostic:
        return Diagnostic(unit.source, 1, 1, code, message, "warning", hint)

    out = []
    if isinstance(q, Matching):
        answers = {o.text for o in q.options}
        if len(q.prompts) < 2 or len(answers) < 3:
            out.append(
                warn(
                    "W401",
                    f"matching question '{q.id}' has {len(q.prompts)} prompt(s) and "
                    f"{len(answers)} answer(s); Moodle's question editor asks for at least 2 "
                    "and 3",
                    "add prompts, or an option that no prompt uses (a distractor)",
                )
            )
    if isinstance(q, MultipleResponse):
        right, _ = _response_weights(q)
        total = right * sum(o.correct for o in q.options)
        if round(total / 100, 2) != 1:
            out.append(
                warn(
                    "W402",
                    f"multiple-response question '{q.id}' has too many correct options for "
                    "Moodle's grade list: the right answers would not add up to 100 %",
                    "keep at most 10 correct options",
                )
            )
    if gift and isinstance(q, FillIn):
        if q.case_sensitive:
            out.append(
                warn(
                    "W403",
                    f"GIFT cannot mark fill-in question '{q.id}' as case-sensitive; Moodle "
                    "will accept any case",
                    "use --target moodle-xml, which keeps it",
                )
            )
        if any("->" in a for a in q.answers):
            out.append(
                warn(
                    "W403",
                    f"an answer of fill-in question '{q.id}' contains '->', which GIFT reads "
                    "as a matching question",
                    "use --target moodle-xml",
                )
            )
    return out


def _category(course: Course, quiz: Quiz) -> str:
    """Moodle's category path; a '/' inside a name is written '//'."""
    parts = [p.replace("/", "//") for p in (course.title, quiz.title)]
    return "$course$/top/" + "/".join(parts)


# --------------------------------------------------------------------------- GIFT


def gift_escape(text: str) -> str:
    """Text for a GIFT file: backslash before ~ = # { } : and itself; newlines as \\n."""
    out = text.replace("\\", "\\\\")
    for ch in GIFT_SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _gift_html(html: str) -> str:
    return "[html]" + gift_escape(html)


def _gift_question(q: GradedQuestion, labels: dict[str, str]) -> str:
    head = f"::{gift_escape(q.id)}::{_gift_html(_para(q.prompt))}"
    fb = q.feedback
    lines: list[str] = []
    general = ""
    if isinstance(q, TrueFalse):
        wrong_fb = _gift_html(_para(fb.incorrect)) if fb.incorrect else ""
        right_fb = _gift_html(_para(fb.correct)) if fb.correct else ""
        body = ("TRUE" if q.answer else "FALSE") + (
            f"#{wrong_fb}#{right_fb}" if wrong_fb or right_fb else ""
        )
        return f"{head}{{{body}}}\n"
    if isinstance(q, SingleChoice):
        for o in q.options:
            # GIFT has only per-answer feedback: the option's own, then the question's.
            note = _para(o.feedback) + _para(fb.correct if o.correct else fb.incorrect)
            mark = "=" if o.correct else "~%0%"
            line = f"\t{mark}{_gift_html(inline_html(o.text))}"
            lines.append(line + (f"#{_gift_html(note)}" if note else ""))
    elif isinstance(q, MultipleResponse):
        right, wrong = _response_weights(q)
        for o in q.options:
            weight = _percent(right if o.correct else wrong)
            line = f"\t~%{weight}%{_gift_html(inline_html(o.text))}"
            lines.append(line + (f"#{_gift_html(_para(o.feedback))}" if o.feedback else ""))
        general = _labelled_feedback(q, labels)
    elif isinstance(q, Matching):
        used = {p.answer for p in q.prompts}
        text_of = {o.id: o.text for o in q.options}
        for p in q.prompts:
            lines.append(
                f"\t={_gift_html(_para(p.text))} -> {gift_escape(text_of[p.answer].strip())}"
            )
        for target in q.options:
            if target.id not in used:
                lines.append(f"\t= -> {gift_escape(target.text.strip())}")
        general = _labelled_feedback(q, labels)
    elif isinstance(q, FillIn):
        right_note = f"#{_gift_html(_para(fb.correct))}" if fb.correct else ""
        for answer in q.answers:
            lines.append(f"\t=%100%{gift_escape(_shortanswer_text(answer))}{right_note}")
        if fb.incorrect:
            lines.append(f"\t=%0%*#{_gift_html(_para(fb.incorrect))}")
    if general:
        lines.append(f"\t####{_gift_html(general)}")
    return head + "{\n" + "\n".join(lines) + "\n}\n"


def _labelled_feedback(q: GradedQuestion, labels: dict[str, str]) -> str:
    """GIFT has no right/wrong feedback for these types: one general text, each part labelled."""
    parts = []
    if q.feedback.correct:
        label = html.escape(labels["correct"])
        parts.append(f"<p><strong>{label}.</strong> {inline_html(q.feedback.correct)}</p>")
    if q.feedback.incorrect:
        label = html.escape(labels["incorrect"])
        parts.append(f"<p><strong>{label}.</strong> {inline_html(q.feedback.incorrect)}</p>")
    if isinstance(q, Matching):
        parts += [
            f"<p>{inline_html(p.text)}: {inline_html(p.feedback)}</p>"
            for p in q.prompts
            if p.feedback
        ]
    return "".join(parts)


def export_gift(course: Course) -> Exported:
    """The graded questions as a GIFT text file (UTF-8, LF)."""
    labels = catalogue(course.language)
    out = [f"// {course.title} {course.version}: graded questions, exported by scorm-builder\n"]
    warnings: list[Diagnostic] = []
    count = 0
    for unit, quiz, graded in graded_quizzes(course):
        out.append(f"\n$CATEGORY: {_category(course, quiz)}\n")
        for q in graded:
            out.append(f"\n// {quiz.id} / {q.id} ({q.type})\n")
            out.append(_gift_question(q, labels))
            warnings += _warnings(course, unit, q, gift=True)
        count += len(graded)
    return Exported("".join(out).encode("utf-8"), warnings, count)


# --------------------------------------------------------------------------- Moodle XML


def _text(parent: etree._Element, tag: str, content: str, fmt: str | None = "html") -> None:
    """<tag format="..."><text>content</text></tag>; HTML goes in CDATA where it can."""
    node = etree.SubElement(parent, tag)
    if fmt:
        node.set("format", fmt)
    text = etree.SubElement(node, "text")
    if content and fmt == "html" and "]]>" not in content:
        text.text = etree.CDATA(content)
    else:
        text.text = content


def _answer(
    parent: etree._Element,
    fraction: float,
    text: str,
    feedback: str,
    fmt: str = "html",
) -> None:
    node = etree.SubElement(parent, "answer", fraction=_percent(fraction), format=fmt)
    body = etree.SubElement(node, "text")
    body.text = etree.CDATA(text) if fmt == "html" and text and "]]>" not in text else text
    _text(node, "feedback", feedback)


def _combined_feedback(node: etree._Element, q: GradedQuestion) -> None:
    _text(node, "correctfeedback", _para(q.feedback.correct))
    _text(node, "partiallycorrectfeedback", "")
    _text(node, "incorrectfeedback", _para(q.feedback.incorrect))


def _xml_question(root: etree._Element, q: GradedQuestion) -> None:
    qtype = {
        "single-choice": "multichoice",
        "multiple-response": "multichoice",
        "true-false": "truefalse",
        "matching": "matching",
        "fill-in": "shortanswer",
    }[q.type]
    node = etree.SubElement(root, "question", type=qtype)
    _text(node, "name", q.id, fmt=None)
    _text(node, "questiontext", _para(q.prompt))
    general = ""
    if isinstance(q, Matching):
        general = "".join(
            f"<p>{inline_html(p.text)}: {inline_html(p.feedback)}</p>"
            for p in q.prompts
            if p.feedback
        )
    _text(node, "generalfeedback", general)
    etree.SubElement(node, "defaultgrade").text = str(q.points)
    etree.SubElement(node, "penalty").text = "1" if isinstance(q, TrueFalse) else PENALTY
    etree.SubElement(node, "hidden").text = "0"
    fb = q.feedback
    if isinstance(q, SingleChoice | MultipleResponse):
        single = isinstance(q, SingleChoice)
        etree.SubElement(node, "single").text = "true" if single else "false"
        # Authors order their options on purpose ("none of the above" last): keep it.
        etree.SubElement(node, "shuffleanswers").text = "false"
        etree.SubElement(node, "answernumbering").text = "none"
        _combined_feedback(node, q)
        if not single:
            etree.SubElement(node, "shownumcorrect")
        right, wrong = (100.0, 0.0) if single else _response_weights(q)  # type: ignore[arg-type]
        for o in q.options:
            _answer(node, right if o.correct else wrong, inline_html(o.text), _para(o.feedback))
    elif isinstance(q, TrueFalse):
        for value in (True, False):
            is_right = value == q.answer
            _answer(
                node,
                100 if is_right else 0,
                "true" if value else "false",
                _para(fb.correct if is_right else fb.incorrect),
                fmt="moodle_auto_format",
            )
    elif isinstance(q, Matching):
        etree.SubElement(node, "shuffleanswers").text = "true"
        _combined_feedback(node, q)
        text_of = {o.id: o.text.strip() for o in q.options}
        used = {p.answer for p in q.prompts}
        pairs = [(_para(p.text), text_of[p.answer]) for p in q.prompts]
        pairs += [("", o.text.strip()) for o in q.options if o.id not in used]
        for stem, answer in pairs:
            sub = etree.SubElement(node, "subquestion", format="html")
            stem_text = etree.SubElement(sub, "text")
            stem_text.text = etree.CDATA(stem) if stem and "]]>" not in stem else stem
            etree.SubElement(etree.SubElement(sub, "answer"), "text").text = answer
    elif isinstance(q, FillIn):
        etree.SubElement(node, "usecase").text = "1" if q.case_sensitive else "0"
        for answer in q.answers:
            _answer(
                node, 100, _shortanswer_text(answer), _para(fb.correct), fmt="moodle_auto_format"
            )
        if fb.incorrect:
            _answer(node, 0, "*", _para(fb.incorrect), fmt="moodle_auto_format")


def export_moodle_xml(course: Course) -> Exported:
    """The graded questions as a Moodle XML question file (UTF-8, LF, well-formed)."""
    root = etree.Element("quiz")
    warnings: list[Diagnostic] = []
    count = 0
    for unit, quiz, graded in graded_quizzes(course):
        cat = etree.SubElement(root, "question", type="category")
        _text(cat, "category", _category(course, quiz), fmt=None)
        for q in graded:
            _xml_question(root, q)
            warnings += _warnings(course, unit, q, gift=False)
        count += len(graded)
    etree.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )
    return Exported(data, warnings, count)


# --------------------------------------------------------------------------- files

#: File name suffix of each export target.
SUFFIXES = {"gift": "-questions.gift.txt", "moodle-xml": "-questions.moodle.xml"}


def export_course(course: Course, target: str) -> Exported:
    """The question bank of one export target ('gift' or 'moodle-xml')."""
    return export_gift(course) if target == "gift" else export_moodle_xml(course)
