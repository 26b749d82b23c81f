"""The course's graded questions as a Moodle question bank: GIFT and Moodle XML.

Both formats are written for Moodle's own importers (question/format/gift and question/format/xml):
one question category per quiz, `$course$/top/<course title>/<quiz title>` (the unit's title is
put in front of a quiz title that several quizzes share); question names are the author's question
ids, so a re-import is easy to match with the course. Text is the Markdown rendered to HTML; a
link into the course cannot work in a question bank, so it keeps its text and names the place it
pointed to ("this paragraph (Session 7.4: … › Informal networks)"). Reflections are never graded
and are left out.

Every field is written so that no text can change the file's structure: GIFT's special
characters, backslashes and line breaks are escaped, category names and comments are kept to one
line, and characters XML 1.0 cannot hold (control characters) are dropped from both formats.

Scoring: single-choice, true-false and fill-in questions are right or wrong in both the package
and Moodle. Moodle core gives partial credit on multiple-response (per option) and matching (per
pair) questions and has no all-or-nothing setting for them; a quiz with `scoring: partial` scores
them the same way in the package, and an all-or-nothing quiz that has them is exported with
Moodle's partial credit and a warning (W405).
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from builder.errors import Diagnostic
from builder.markdown import parser, slugify
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
#: Text formats GIFT reads from a leading `[name]` (question/format/gift parse_text_with_format).
_GIFT_FORMAT = re.compile(r"^\[(html|moodle|plain|markdown)\]")
#: Characters XML 1.0 cannot hold, and C1 controls: dropped from every exported text.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
#: Separates a unit's title from the section a link pointed to.
PLACE_SEPARATOR = " › "


@dataclass(frozen=True)
class Exported:
    """One question-bank file in memory, with the warnings met while writing it."""

    data: bytes
    warnings: list[Diagnostic]
    questions: int


def graded_quizzes(course: Course) -> Iterator[tuple[Unit, Quiz, list[GradedQuestion]]]:
    """Each quiz with graded questions (one question bank category), and those questions.

    A quiz that two units share is exported once, with the first.
    """
    seen: set[str] = set()
    for unit in course.units:
        if unit.quiz is None or unit.quiz.id in seen:
            continue
        seen.add(unit.quiz.id)
        graded: list[GradedQuestion] = [
            q
            for q in unit.quiz.questions
            if isinstance(q, SingleChoice | MultipleResponse | TrueFalse | Matching | FillIn)
        ]
        if graded:
            yield unit, unit.quiz, graded


# --------------------------------------------------------------------------- text


def clean(text: str) -> str:
    """`text` without the characters XML cannot hold (and C1 controls); CR LF and CR as LF."""
    return _UNWRITABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str) -> str:
    """`text` cleaned, with every run of white space (line breaks included) as one space."""
    return " ".join(clean(text).split())


class Places:
    """Names the place in the course that a link points to, for texts read outside it."""

    def __init__(self, course: Course) -> None:
        self._units = {u.file: u for u in course.units}
        self._sections: dict[str, dict[str, str | None]] = {}

    def _target(self, unit: Unit, path: str) -> Unit | None:
        if not path:
            return unit
        for start in (posixpath.dirname(unit.file), ""):
            found = self._units.get(posixpath.normpath(posixpath.join(start, path)))
            if found is not None:
                return found
        return None

    def _anchors(self, unit: Unit) -> dict[str, str | None]:
        """Each anchor of a unit -> the heading it is, or stands under (None: above all)."""
        if unit.id not in self._sections:
            anchors: dict[str, str | None] = {}
            current: str | None = None
            tokens = parser().parse(unit.body, {})
            for i, tok in enumerate(tokens):
                if tok.type == "heading_open" and i + 1 < len(tokens):
                    children = tokens[i + 1].children or []
                    current = one_line("".join(c.content for c in children if c.content))
                    slug = str(tok.attrs.get("id") or slugify(current))
                    anchor, n = slug, 2
                    while anchor in anchors:  # the renderer's numbering of repeated headings
                        anchor, n = f"{slug}-{n}", n + 1
                    anchors[anchor] = current
                    continue
                if tok.attrs.get("id"):
                    anchors.setdefault(str(tok.attrs["id"]), current)
                for child in tok.children or []:
                    if child.attrs.get("id"):
                        anchors.setdefault(str(child.attrs["id"]), current)
            self._sections[unit.id] = anchors
        return self._sections[unit.id]

    def describe(self, unit: Unit, href: str) -> tuple[str, ...]:
        """The unit title and section a link of `unit`'s quiz leads to; () if not a unit."""
        path, _, frag = href.partition("#")
        target = self._target(unit, path)
        if target is None:
            return ()
        title = one_line(target.title)
        section = self._anchors(target).get(frag) if frag else None
        return (title, section) if section else (title,)


class Writer:
    """Markdown texts of one unit's quiz as HTML for a question bank."""

    def __init__(self, places: Places, unit: Unit) -> None:
        self.places = places
        self.unit = unit

    def _localise(self, tokens: list[Token]) -> list[Token]:
        """Keep web links; a link into the course keeps its text and names its place; images
        become their alt text."""
        out: list[Token] = []
        stack: list[tuple[tuple[str, ...], int] | None] = []  # per open link: place, start
        for tok in tokens:
            if tok.type == "link_open":
                href = str(tok.attrs.get("href", ""))
                if href.startswith(("http://", "https://", "mailto:")):
                    tok.attrSet("target", "_blank")
                    tok.attrSet("rel", "noopener")
                    out.append(tok)
                    stack.append(None)
                else:
                    stack.append((self.places.describe(self.unit, href), len(out)))
            elif tok.type == "link_close":
                dropped = stack.pop() if stack else None
                if dropped is None:
                    out.append(tok)
                    continue
                place, start = dropped
                said = one_line("".join(t.content for t in out[start:])).casefold()
                if place and said not in (p.casefold() for p in place):
                    note = Token("text", "", 0)
                    note.content = f" ({PLACE_SEPARATOR.join(place)})"
                    out.append(note)
            elif tok.type == "image":
                alt = Token("text", "", 0)
                alt.content = "".join(c.content for c in tok.children or [])
                out.append(alt)
            else:
                out.append(tok)
        return out

    def inline(self, text: str) -> str:
        """A short Markdown text (prompt, option, feedback) as HTML."""
        md = parser()
        env: dict[str, object] = {}
        blocks = md.parseInline(clean(text).strip(), env)
        children = self._localise(blocks[0].children or []) if blocks else []
        renderer = md.renderer
        assert isinstance(renderer, RendererHTML)
        return renderer.renderInline(children, md.options, env).strip()

    def para(self, text: str | None) -> str:
        """A text as one HTML paragraph; '' for no text."""
        return f"<p>{self.inline(text)}</p>" if text else ""

    def pair_feedback(self, q: Matching) -> str:
        """The prompts' own feedback, for the general feedback (formats have no per-pair one)."""
        return "".join(
            f"<p>{self.inline(p.text)}: {self.inline(p.feedback)}</p>"
            for p in q.prompts
            if p.feedback
        )


def _shortanswer_text(answer: str) -> str:
    """Moodle's short-answer matching treats '*' as a wildcard; '\\*' is a literal star."""
    return clean(answer).strip().replace("*", "\\*")


def _grade(share: float) -> float:
    """The Moodle grade nearest to `share` percent."""
    return min(MOODLE_GRADES, key=lambda g: (abs(g - share), -g))


def _percent(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _response_weights(q: MultipleResponse) -> tuple[float, float]:
    """Grades of a right and a wrong option of a multiple-response question, in percent.

    Moodle adds the grades of the options chosen and keeps the sum between 0 and 100: all right
    options and no wrong one give 100; each wrong one takes back as much as the right share.
    """
    right = sum(o.correct for o in q.options)
    wrong = len(q.options) - right
    return _grade(100 / right), (-_grade(100 / wrong) if wrong else 0.0)


# --------------------------------------------------------------------------- warnings


def _warn(unit: Unit, code: str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(unit.quiz_source or unit.source, 1, 1, code, message, "warning", hint)


def _question_warnings(unit: Unit, q: GradedQuestion, gift: bool) -> list[Diagnostic]:
    out = []
    if isinstance(q, Matching):
        answers = {o.text for o in q.options}
        if len(q.prompts) < 2 or len(answers) < 3:
            out.append(
                _warn(
                    unit,
                    "W401",
                    f"matching question '{q.id}' has {len(q.prompts)} prompt(s) and "
                    f"{len(answers)} answer(s); Moodle's question editor asks for at least 2 "
                    "and 3",
                    "add prompts, or an option that no prompt uses (a distractor)",
                )
            )
    if isinstance(q, MultipleResponse):
        right = sum(o.correct for o in q.options)
        if right > 10 or len(q.options) - right > 10:
            out.append(
                _warn(
                    unit,
                    "W402",
                    f"multiple-response question '{q.id}' has more than 10 correct or 10 wrong "
                    "options: Moodle's grade list cannot give each its exact share",
                    "keep at most 10 correct and 10 wrong options",
                )
            )
    if gift and isinstance(q, FillIn):
        if q.case_sensitive:
            out.append(
                _warn(
                    unit,
                    "W403",
                    f"GIFT cannot mark fill-in question '{q.id}' as case-sensitive; Moodle "
                    "will accept any case",
                    "use --target moodle-xml, which keeps it",
                )
            )
        if any("->" in a for a in q.answers):
            out.append(
                _warn(
                    unit,
                    "W403",
                    f"an answer of fill-in question '{q.id}' contains '->', which GIFT reads "
                    "as a matching question",
                    "use --target moodle-xml",
                )
            )
    return out


def _gift_feedback_warning(unit: Unit, graded: list[GradedQuestion]) -> list[Diagnostic]:
    """GIFT has no right/wrong feedback for multiple-response and matching questions."""
    lost = [
        q.id
        for q in graded
        if isinstance(q, MultipleResponse | Matching)
        and (q.feedback.correct or q.feedback.incorrect)
    ]
    if not lost:
        return []
    return [
        _warn(
            unit,
            "W404",
            "GIFT has no right or wrong feedback for multiple-response and matching questions: "
            "the 'correct' and 'incorrect' feedback of "
            + ", ".join(f"'{q}'" for q in lost)
            + " is left out of the GIFT file",
            "use --target moodle-xml, which keeps it, or give each option its own feedback",
        )
    ]


def _scoring_warning(unit: Unit, quiz: Quiz, graded: list[GradedQuestion]) -> list[Diagnostic]:
    """An all-or-nothing quiz whose partly right answers Moodle would give partial credit."""
    if quiz.scoring != "all-or-nothing":
        return []
    partial = [q.id for q in graded if isinstance(q, MultipleResponse | Matching)]
    if not partial:
        return []
    return [
        _warn(
            unit,
            "W405",
            f"quiz '{quiz.id}' scores each question all or nothing, but Moodle gives partial "
            "credit (per option, per pair) on "
            + ", ".join(f"'{q}'" for q in partial)
            + ": the same answers would score higher in Moodle than in the package",
            "add 'scoring: partial' to the quiz to score them as Moodle does in the package too",
        )
    ]


# --------------------------------------------------------------------------- categories


def _category_part(name: str) -> str:
    """One name of a category path as Moodle writes it (qformat_default assemble_category_path):
    '/' doubled, and a space against a slash at either end."""
    part = name.replace("/", "//")
    if part.startswith("/"):
        part = " " + part
    if part.endswith("/"):
        part += " "
    return part


def categories(course: Course) -> dict[str, str]:
    """Quiz id -> its category path; quizzes that share a title get their unit's title too."""
    quizzes = [(unit, quiz) for unit, quiz, _ in graded_quizzes(course)]
    titles = Counter(one_line(q.title) for _, q in quizzes)
    names = {}
    for unit, quiz in quizzes:
        title = one_line(quiz.title) or quiz.id
        if titles[one_line(quiz.title)] > 1:
            title = f"{one_line(unit.title)} – {title}"
        names[quiz.id] = title
    repeated = Counter(names.values())
    course_name = one_line(course.title) or course.id
    return {
        qid: "$course$/top/"
        + _category_part(course_name)
        + "/"
        + _category_part(f"{name} ({qid})" if repeated[name] > 1 else name)
        for qid, name in names.items()
    }


# --------------------------------------------------------------------------- GIFT


def gift_escape(text: str) -> str:
    """Text for a GIFT file: backslash before ~ = # { } : and itself; line breaks as \\n."""
    out = clean(text).replace("\\", "\\\\")
    for ch in GIFT_SPECIAL:
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\n")


def _gift_html(html: str) -> str:
    return "[html]" + gift_escape(html)


def _gift_plain(text: str) -> str:
    """A plain answer (short answer) that GIFT would not mistake for a format name."""
    escaped = gift_escape(text)
    return "[plain]" + escaped if _GIFT_FORMAT.match(escaped) else escaped


def _gift_question(q: GradedQuestion, w: Writer) -> str:
    head = f"::{gift_escape(q.id)}::{_gift_html(w.para(q.prompt))}"
    fb = q.feedback
    lines: list[str] = []
    general = ""
    if isinstance(q, TrueFalse):
        wrong_fb = _gift_html(w.para(fb.incorrect)) if fb.incorrect else ""
        right_fb = _gift_html(w.para(fb.correct)) if fb.correct else ""
        body = ("TRUE" if q.answer else "FALSE") + (
            f"#{wrong_fb}#{right_fb}" if wrong_fb or right_fb else ""
        )
        return f"{head}{{{body}}}\n"
    if isinstance(q, SingleChoice):
        for o in q.options:
            # GIFT has only per-answer feedback: the option's own, then the question's.
            note = w.para(o.feedback) + w.para(fb.correct if o.correct else fb.incorrect)
            mark = "=" if o.correct else "~%0%"
            line = f"\t{mark}{_gift_html(w.inline(o.text))}"
            lines.append(line + (f"#{_gift_html(note)}" if note else ""))
    elif isinstance(q, MultipleResponse):
        # Per-option feedback only: GIFT cannot tell a fully right answer from a partly right
        # one, so the question's right/wrong feedback is left out (W404).
        right, wrong = _response_weights(q)
        for o in q.options:
            weight = _percent(right if o.correct else wrong)
            line = f"\t~%{weight}%{_gift_html(w.inline(o.text))}"
            lines.append(line + (f"#{_gift_html(w.para(o.feedback))}" if o.feedback else ""))
    elif isinstance(q, Matching):
        used = {p.answer for p in q.prompts}
        text_of = {o.id: o.text for o in q.options}
        for p in q.prompts:
            lines.append(
                f"\t={_gift_html(w.para(p.text))} -> {gift_escape(one_line(text_of[p.answer]))}"
            )
        for target in q.options:
            if target.id not in used:
                lines.append(f"\t= -> {gift_escape(one_line(target.text))}")
        general = w.pair_feedback(q)
    elif isinstance(q, FillIn):
        right_note = f"#{_gift_html(w.para(fb.correct))}" if fb.correct else ""
        for answer in q.answers:
            lines.append(f"\t=%100%{_gift_plain(_shortanswer_text(answer))}{right_note}")
        if fb.incorrect:
            lines.append(f"\t=%0%*#{_gift_html(w.para(fb.incorrect))}")
    if general:
        lines.append(f"\t####{_gift_html(general)}")
    return head + "{\n" + "\n".join(lines) + "\n}\n"


def _gift_category(path: str) -> str:
    """A `$CATEGORY:` line. GIFT reads its backslash escapes there but never undoes them, so
    only a backslash is escaped (as two, which it reads as one)."""
    return "$CATEGORY: " + path.replace("\\", "\\\\")


def export_gift(course: Course) -> Exported:
    """The graded questions as a GIFT text file (UTF-8, LF)."""
    title = one_line(course.title)
    out = [f"// {title} {course.version}: graded questions, exported by scorm-builder\n"]
    warnings: list[Diagnostic] = []
    paths = categories(course)
    places = Places(course)
    count = 0
    for unit, quiz, graded in graded_quizzes(course):
        out.append(f"\n{_gift_category(paths[quiz.id])}\n")
        writer = Writer(places, unit)
        for q in graded:
            out.append(f"\n// {quiz.id} / {q.id} ({q.type})\n")
            out.append(_gift_question(q, writer))
            warnings += _question_warnings(unit, q, gift=True)
        warnings += _gift_feedback_warning(unit, graded)
        warnings += _scoring_warning(unit, quiz, graded)
        count += len(graded)
    return Exported("".join(out).encode("utf-8"), warnings, count)


# --------------------------------------------------------------------------- Moodle XML


def _put(node: etree._Element, content: str, html: bool) -> None:
    """Set a <text> element's content: HTML in CDATA where it can be, always cleaned."""
    content = clean(content)
    node.text = etree.CDATA(content) if html and content and "]]>" not in content else content


def _text(parent: etree._Element, tag: str, content: str, fmt: str | None = "html") -> None:
    """<tag format="..."><text>content</text></tag>."""
    node = etree.SubElement(parent, tag)
    if fmt:
        node.set("format", fmt)
    _put(etree.SubElement(node, "text"), content, fmt == "html")


def _answer(
    parent: etree._Element,
    fraction: float,
    text: str,
    feedback: str,
    fmt: str = "html",
) -> None:
    node = etree.SubElement(parent, "answer", fraction=_percent(fraction), format=fmt)
    _put(etree.SubElement(node, "text"), text, fmt == "html")
    _text(node, "feedback", feedback)


def _combined_feedback(node: etree._Element, q: GradedQuestion, w: Writer) -> None:
    """Right, partly right and wrong feedback. A partly right answer is not right in the
    package either, so it gets the author's 'incorrect' feedback."""
    _text(node, "correctfeedback", w.para(q.feedback.correct))
    _text(node, "partiallycorrectfeedback", w.para(q.feedback.incorrect))
    _text(node, "incorrectfeedback", w.para(q.feedback.incorrect))


def _xml_question(root: etree._Element, q: GradedQuestion, w: Writer) -> None:
    qtype = {
        "single-choice": "multichoice",
        "multiple-response": "multichoice",
        "true-false": "truefalse",
        "matching": "matching",
        "fill-in": "shortanswer",
    }[q.type]
    node = etree.SubElement(root, "question", type=qtype)
    _text(node, "name", q.id, fmt=None)
    _text(node, "questiontext", w.para(q.prompt))
    _text(node, "generalfeedback", w.pair_feedback(q) if isinstance(q, Matching) else "")
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
        _combined_feedback(node, q, w)
        if not single:
            etree.SubElement(node, "shownumcorrect")
        right, wrong = (100.0, 0.0) if single else _response_weights(q)  # type: ignore[arg-type]
        for o in q.options:
            _answer(node, right if o.correct else wrong, w.inline(o.text), w.para(o.feedback))
    elif isinstance(q, TrueFalse):
        for value in (True, False):
            is_right = value == q.answer
            _answer(
                node,
                100 if is_right else 0,
                "true" if value else "false",
                w.para(fb.correct if is_right else fb.incorrect),
                fmt="moodle_auto_format",
            )
    elif isinstance(q, Matching):
        etree.SubElement(node, "shuffleanswers").text = "true"
        _combined_feedback(node, q, w)
        text_of = {o.id: one_line(o.text) for o in q.options}
        used = {p.answer for p in q.prompts}
        pairs = [(w.para(p.text), text_of[p.answer]) for p in q.prompts]
        pairs += [("", one_line(o.text)) for o in q.options if o.id not in used]
        for stem, answer in pairs:
            sub = etree.SubElement(node, "subquestion", format="html")
            _put(etree.SubElement(sub, "text"), stem, html=True)
            _put(etree.SubElement(etree.SubElement(sub, "answer"), "text"), answer, html=False)
    elif isinstance(q, FillIn):
        etree.SubElement(node, "usecase").text = "1" if q.case_sensitive else "0"
        for answer in q.answers:
            _answer(
                node, 100, _shortanswer_text(answer), w.para(fb.correct), fmt="moodle_auto_format"
            )
        if fb.incorrect:
            _answer(node, 0, "*", w.para(fb.incorrect), fmt="moodle_auto_format")


def export_moodle_xml(course: Course) -> Exported:
    """The graded questions as a Moodle XML question file (UTF-8, LF, well-formed)."""
    root = etree.Element("quiz")
    warnings: list[Diagnostic] = []
    paths = categories(course)
    places = Places(course)
    count = 0
    for unit, quiz, graded in graded_quizzes(course):
        cat = etree.SubElement(root, "question", type="category")
        _text(cat, "category", paths[quiz.id], fmt=None)
        writer = Writer(places, unit)
        for q in graded:
            _xml_question(root, q, writer)
            warnings += _question_warnings(unit, q, gift=False)
        warnings += _scoring_warning(unit, quiz, graded)
        count += len(graded)
    etree.indent(root, space="  ")
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )
    return Exported(data, warnings, count)


# --------------------------------------------------------------------------- files

#: File name suffix of each export target.
SUFFIXES = {"gift": "-questions.gift.txt", "moodle-xml": "-questions.moodle.xml"}

#: The writer of each export target.
EXPORTERS: dict[str, Callable[[Course], Exported]] = {
    "gift": export_gift,
    "moodle-xml": export_moodle_xml,
}


def export_course(course: Course, target: str) -> Exported:
    """The question bank of one export target ('gift' or 'moodle-xml')."""
    return EXPORTERS[target](course)
