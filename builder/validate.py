"""Raw course data -> the frozen Course model; Pydantic errors -> diagnostics; cross-checks."""

from __future__ import annotations

import dataclasses
import difflib
import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from builder.errors import BuildFailed, Diagnostic, has_errors
from builder.itemcheck import across_quizzes, quiz_items
from builder.model import (
    QUESTION_TYPES,
    Course,
    CourseFile,
    Credits,
    DataSet,
    Likert,
    Matching,
    MultipleResponse,
    Question,
    Quiz,
    Reporting,
    Sequencing,
    SingleChoice,
    Theme,
    Unit,
    UnitMeta,
    response_id,
)
from builder.sources import Loc, ParseCache, SourceFile, SourceTree, texts
from builder.text import distributor_warning, meant_for_the_distributor, unsafe_url
from builder.theme import LOGO_SUFFIXES, contrast_problems


def _field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop discriminated-union tags (e.g. 'single-choice') that are not keys in the file."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in QUESTION_TYPES and i and isinstance(loc[i - 1], int):
            continue
        out.append(part)
    return tuple(out)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation may hold: through Optional, unions, tuples and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _fields_of(model: type[BaseModel], loc: Loc) -> list[str]:
    """Known field names at `loc` (for 'did you mean' hints), across every question type."""
    current = [model]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        current = [
            sub
            for m in current
            if part in m.model_fields
            for sub in _models_in(m.model_fields[part].annotation)
        ]
    return sorted({name for m in current for name in m.model_fields})


#: Pydantic's error types, worded for course authors (the field's path comes first).
_PLAIN: dict[str, str] = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "tuple_type": "must be a list (one '- ' line per item)",
    "list_type": "must be a list (one '- ' line per item)",
    "dict_type": "must be a group of 'key: value' lines",
    "model_type": "must be a group of 'key: value' lines",
    "model_attributes_type": "must be a group of 'key: value' lines",
    "string_pattern_mismatch": "is not written as expected",
    "url_parsing": "must be a web address (https://…)",
    "url_scheme": "must be a web address (https://…)",
}


def _plain_words(kind: str, ctx: dict[str, Any], value: Any) -> str | None:
    """What is wrong with a value, in plain words; None for an error type not worded here."""
    if kind in _PLAIN:
        return _PLAIN[kind]
    if kind == "too_short":
        have = len(value) if isinstance(value, list | tuple) else ctx.get("actual_length")
        least = ctx.get("min_length")
        return f"needs at least {least} item{'' if least == 1 else 's'} (it has {have})"
    if kind == "too_long":
        return f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"needs at least {least} characters"
    if kind == "string_too_long":
        return (
            f"is {len(value) if isinstance(value, str) else '?'} characters long; at most "
            f"{ctx.get('max_length')} are allowed"
        )
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}"
    return None


def _follow_on(kind: str, ctx: dict[str, Any], value: Any) -> bool:
    """A list 'too short' only because some of its items have errors of their own."""
    return (
        kind == "too_short"
        and isinstance(value, list | tuple)
        and len(value) >= int(ctx.get("min_length", 0))
    )


def pydantic_diagnostics(
    exc: ValidationError, source: SourceFile, model: type[BaseModel], what: str
) -> list[Diagnostic]:
    """Word each Pydantic error for a course author and place it at its YAML node."""
    out = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        kind = err["type"]
        field = _field_path(loc) or what
        value = err.get("input")
        hint = None
        if kind == "missing":
            code, msg = "E201", f"missing required field '{field}'"
        elif kind == "extra_forbidden":
            code, msg = "E202", f"unknown key '{field}'"
            close = difflib.get_close_matches(str(loc[-1]), _fields_of(model, loc), n=1)
            if close:
                hint = f"did you mean '{close[0]}'?"
        elif (kind == "string_pattern_mismatch" and str(loc[-1]) in ("id", "answer")) or (
            kind == "string_pattern_mismatch" and len(loc) >= 2 and loc[-2] == "units"
        ):
            code = "E203"
            msg = f"'{value}' is not a valid id ({field})"
            hint = (
                "use lower-case letters, digits and single hyphens, starting with a letter, "
                "e.g. 'session-7-1'"
            )
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")
            code = "E204"
            msg = (
                f"unknown question type {value.get('type')!r} ({field})"
                if kind == "union_tag_invalid" and isinstance(value, dict)
                else f"missing 'type' ({field})"
            )
            hint = "type is one of: " + ", ".join(sorted(QUESTION_TYPES))
        elif kind in ("model_type", "dict_type") and not loc:
            code, msg = "E108", f"the file is empty or is not a mapping of keys to values ({what})"
        elif _follow_on(kind, err.get("ctx", {}), value):
            continue  # its items' own errors say what is wrong
        else:
            code = "E205"
            got = repr(value)
            if len(got) > 60:  # a long title would drown the message
                got = f"{got[:40]}… ({len(value) if isinstance(value, str) else len(got)} chars)"
            plain = isinstance(value, dict | list | tuple) or kind == "string_too_long"
            shown = "" if plain else f" (got {got})"
            words = _plain_words(kind, err.get("ctx", {}), value)
            if words is None:
                words = f"{err['msg'][0].lower()}{err['msg'][1:]}"
            msg = f"{field} {words}{shown}"
        out.append(source.diagnostic(loc, code, msg, hint=hint))
    return out


def _parse(
    source: SourceFile, model: type[BaseModel], what: str, diagnostics: list[Diagnostic]
) -> Any:
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        diagnostics += pydantic_diagnostics(exc, source, model, what)
        return None


def _check_quiz(quiz: Quiz, source: SourceFile) -> Iterable[Diagnostic]:
    graded = sum(q.points > 0 for q in quiz.questions)
    if quiz.draw is not None and quiz.draw > graded:
        yield source.diagnostic(
            ("draw",),
            "E315",
            f"quiz '{quiz.id}' draws {quiz.draw} questions but has {graded} graded question(s)",
            hint=f"lower 'draw' to {graded} at most, or add questions to the pool",
        )
    for qi, q in enumerate(quiz.questions):
        at: Loc = ("questions", qi)
        if isinstance(q, Sequencing | Likert):
            field = "steps" if isinstance(q, Sequencing) else "scale"
            word = "steps" if isinstance(q, Sequencing) else "scale points"
            items = [s.id for s in (q.steps if isinstance(q, Sequencing) else q.scale)]
            for si, sid in enumerate(items):
                if sid in items[:si]:
                    yield source.diagnostic(
                        (*at, field, si, "id"),
                        "E313",
                        f"question '{q.id}' has two {word} with id '{sid}'",
                    )
        if isinstance(q, SingleChoice | MultipleResponse):
            ids = [o.id for o in q.options]
            for oi, oid in enumerate(ids):
                if oid in ids[:oi]:
                    yield source.diagnostic(
                        (*at, "options", oi, "id"),
                        "E313",
                        f"question '{q.id}' has two options with id '{oid}'",
                    )
            correct = sum(o.correct for o in q.options)
            if isinstance(q, SingleChoice) and correct != 1:
                yield source.diagnostic(
                    (*at, "options"),
                    "E310",
                    f"single-choice question '{q.id}' has {correct} correct options; it needs "
                    "exactly one",
                    hint="mark the right option with 'correct: true'",
                )
            if isinstance(q, MultipleResponse) and correct == 0:
                yield source.diagnostic(
                    (*at, "options"),
                    "E311",
                    f"multiple-response question '{q.id}' has no correct option",
                    hint="mark the right options with 'correct: true'",
                )
        if isinstance(q, Matching):
            targets = [o.id for o in q.options]
            for ti, tid in enumerate(targets):
                if tid in targets[:ti]:
                    yield source.diagnostic(
                        (*at, "options", ti, "id"),
                        "E313",
                        f"question '{q.id}' has two options with id '{tid}'",
                    )
            seen: list[str] = []
            for pi, p in enumerate(q.prompts):
                if p.answer not in targets:
                    yield source.diagnostic(
                        (*at, "prompts", pi, "answer"),
                        "E312",
                        f"matching answer '{p.answer}' of question '{q.id}' is not one of its "
                        f"options ({', '.join(targets)})",
                    )
                if p.id in seen:
                    yield source.diagnostic(
                        (*at, "prompts", pi, "id"),
                        "E313",
                        f"question '{q.id}' has two prompts with id '{p.id}'",
                    )
                seen.append(p.id)


def _check_response_ids(quiz: Quiz, source: SourceFile) -> Iterable[Diagnostic]:
    """Two ids of one question that SCORM 2004 would report as the same response id."""
    for qi, q in enumerate(quiz.questions):
        groups: list[tuple[str, Sequence[str]]] = []
        if isinstance(q, SingleChoice | MultipleResponse | Matching):
            groups.append(("options", [o.id for o in q.options]))
        if isinstance(q, Matching):
            groups.append(("prompts", [p.id for p in q.prompts]))
        if isinstance(q, Sequencing):
            groups.append(("steps", [s.id for s in q.steps]))
        if isinstance(q, Likert):
            groups.append(("scale", [s.id for s in q.scale]))
        for field, ids in groups:
            first: dict[str, str] = {}
            for i, oid in enumerate(ids):
                other = first.setdefault(response_id(oid), oid)
                if other != oid:
                    yield source.diagnostic(
                        ("questions", qi, field, i, "id"),
                        "E314",
                        f"question '{q.id}': ids '{other}' and '{oid}' would both be reported "
                        f"to the LMS as '{response_id(oid)}'",
                        hint="rename one of them so that they differ in a letter or digit",
                    )


_CHART = re.compile(r"^ {0,3}:{3,}[ \t]*chart[ \t]+(\S+)", re.MULTILINE)


def charted_datasets(bodies: Iterable[str]) -> set[str]:
    """Ids of the data sets that `::: chart` blocks of these unit bodies draw.

    The only thing validation reads from the units' Markdown (for W303).
    """
    # The substring test first: scanning every body with the regex dominates a large course.
    return {m.group(1) for body in bodies if "chart" in body for m in _CHART.finditer(body)}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _check_dataset(
    ds: DataSet, source: SourceFile, questions: dict[str, Question]
) -> Iterable[Diagnostic]:
    """Compare a data set with the matching question it is the answer key of.

    Two copies of the same figures (a handout and a facilitators' answer key) drift apart; this
    catches a row matched to another region, a region that is not among the options, and a
    prompt whose value or unit differs from the data.
    """
    if ds.question is None:
        return
    q = questions.get(ds.question)
    if not isinstance(q, Matching):
        what = "is not a matching question" if q is not None else "does not exist"
        yield source.diagnostic(
            ("question",),
            "E343",
            f"data set '{ds.id}' is the answer key of question '{ds.question}', which {what}",
        )
        return
    options = {o.id: o.text for o in q.options}
    prompts = {p.id: p for p in q.prompts}
    covered = set()
    for ri, row in enumerate(ds.rows):
        if row.prompt is None:
            continue
        prompt = prompts.get(row.prompt)
        if prompt is None:
            yield source.diagnostic(
                ("rows", ri, "prompt"),
                "E341",
                f"data set '{ds.id}': question '{q.id}' has no prompt '{row.prompt}'",
                hint="prompts: " + ", ".join(prompts),
            )
            continue
        covered.add(row.prompt)
        answer = options.get(prompt.answer, prompt.answer)
        if _norm(answer) != _norm(row.label):
            yield source.diagnostic(
                ("rows", ri, "label"),
                "E341",
                f"data set '{ds.id}' gives {ds.value_text(row.value)} to '{row.label}', but "
                f"question '{q.id}' matches prompt '{prompt.id}' to '{answer}'",
                hint="the data and the answer key must agree: check both against the source",
            )
        value = ds.value_text(row.value)
        if value not in prompt.text or _norm(ds.unit) not in _norm(prompt.text):
            yield source.diagnostic(
                ("rows", ri, "value"),
                "E342",
                f"prompt '{prompt.id}' of question '{q.id}' reads '{prompt.text}', which does "
                f"not state the value and unit of data set '{ds.id}' ('{value} {ds.unit}')",
                hint="a value with the wrong number or unit misleads the learner",
            )
    for p in q.prompts:
        if p.id not in covered:
            yield source.diagnostic(
                ("rows",),
                "E341",
                f"data set '{ds.id}' has no row for prompt '{p.id}' of question '{q.id}'",
            )


#: Ids the pages, the runtime or the package use themselves: a unit or quiz of that id would
#: replace or break them (`index` is the launch page, `course-data` the runtime's data, `home`
#: and `overview` the home and guide sections, `q` the prefix of question ids, `main` and
#: the others elements of every page).
RESERVED_IDS = frozenset(
    [
        *("index", "home", "overview", "course-data", "course-strings", "main"),
        *("progress-label", "toc", "completion-title", "q"),
    ]
)


def reserved_id(src: SourceFile, loc: Loc, ident: str, what: str) -> Diagnostic:
    """E206: `ident` is one of RESERVED_IDS."""
    return src.diagnostic(
        loc,
        "E206",
        f"'{ident}' is reserved for the builder's own pages; a {what} cannot have this id",
        hint="reserved ids: " + ", ".join(sorted(RESERVED_IDS)),
    )


#: Characters no course text may hold: C0 controls but tab and line feed, DEL, C1 controls,
#: lone surrogates and noncharacters. YAML escapes ("\x01", "\ud800") can write them;
#: XML (the manifest) cannot hold them, and in HTML they are at best invisible.
_BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
#: Fields whose value becomes a link address (credits and data-set sources).
URL_FIELDS = frozenset(("url",))


def _shown(text: str) -> str:
    """`text` with control characters written as escapes (a message must not hide them)."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", text)


def unsafe_text(src: SourceFile) -> list[Diagnostic]:
    """E206 for forbidden characters in any text of a YAML file; E351 for unsafe addresses."""
    out: list[Diagnostic] = []
    for loc, value in texts(src.data):
        bad = _BAD_CHARS.search(value)
        if bad:
            out.append(
                src.diagnostic(
                    loc,
                    "E206",
                    f"{_field_path(loc) or 'value'}: the control character "
                    f"U+{ord(bad.group()):04X} is not allowed in course text",
                    hint='delete it (a YAML escape such as "\\x01" writes one)',
                )
            )
        elif loc and loc[-1] in URL_FIELDS and unsafe_url(value):
            out.append(
                src.diagnostic(
                    loc,
                    "E351",
                    f"{_field_path(loc) or 'value'}: address '{_shown(value[:40])}' is not "
                    f"allowed: {_shown(value.split(':', 1)[0].strip())}: addresses can run "
                    "code in the reader's browser",
                    hint="give a web address (https://…)",
                )
            )
    return out


def _text_line(src: SourceFile, loc: Loc, text: str | None) -> int:
    """The line where the text of the value at `loc` starts: a block scalar (`|`, `>`) starts
    on the line after its key (its text holds a line break, which plain scalars fold away)."""
    line = src.where(loc)[0]
    raw = src.data.get(loc[0]) if isinstance(src.data, dict) and len(loc) == 1 else None
    return line + 1 if isinstance(raw, str) and "\n" in raw else line


def _distributor_notes(
    cfile: CourseFile, course_src: SourceFile, units: Sequence[tuple[UnitMeta, SourceFile]]
) -> list[Diagnostic]:
    """W305 for the texts of course.yaml and front matter that learners see, where they read
    as a note for whoever edits or distributes the course (a to-do, a caveat)."""
    texts: list[tuple[SourceFile, Loc, str | None]] = [
        (course_src, ("title",), cfile.title),
        (course_src, ("description",), cfile.description),
        (course_src, ("aim",), cfile.aim),
        (course_src, ("credits", "source"), cfile.credits.source),
        (course_src, ("credits", "licence"), cfile.credits.licence),
        *((course_src, ("objectives", i), text) for i, text in enumerate(cfile.objectives)),
    ]
    for meta, src in units:
        texts += [(src, ("title",), meta.title), (src, ("aim",), meta.aim)]
        texts += [(src, ("objectives", i), text) for i, text in enumerate(meta.objectives)]
    out = []
    for src, loc, text in texts:
        words = meant_for_the_distributor(text or "")
        if words:
            message, hint = distributor_warning(words)
            out.append(src.diagnostic(loc, "W305", message, hint=hint, severity="warning"))
    return out


class CourseInvalid(BuildFailed):
    """The course has errors. `standin` holds every unit that could be read, so that the
    problems in their Markdown are reported in the same run (an error in course.yaml, or in
    the list of units, must not hide them)."""

    def __init__(self, diagnostics: list[Diagnostic], standin: Course) -> None:
        super().__init__(diagnostics)
        self.standin = standin


def _unit(meta: UnitMeta, src: SourceFile, quiz: Quiz | None, quiz_src: SourceFile | None) -> Unit:
    """The unit a unit file describes, with its quiz (and the quiz's file, when known)."""
    return Unit(
        id=meta.id,
        title=meta.title,
        kind=meta.kind,
        duration=meta.duration,
        aim=meta.aim,
        objectives=meta.objectives,
        file=src.rel,
        source=src.display,
        body=src.body,
        body_line=src.body_line,
        quiz=quiz,
        quiz_file=quiz_src.rel if quiz_src else None,
        quiz_source=quiz_src.display if quiz_src else None,
    )


def _standin_course(
    metas: dict[str, tuple[UnitMeta, SourceFile]],
    quizzes: dict[str, Quiz],
    datasets: list[DataSet],
) -> Course:
    """A course of every readable unit, in file order, for checking their Markdown only."""
    units = []
    for meta, src in sorted(metas.values(), key=lambda pair: pair[1].rel):
        rel = PurePosixPath(meta.quiz).as_posix() if meta.quiz else None
        units.append(_unit(meta, src, quizzes.get(rel) if rel else None, None))
    return Course(
        id="course",
        title="course",
        version="0",
        language="en",
        description="",
        keywords=(),
        aim=None,
        objectives=(),
        introduction=None,
        credits=Credits(source="-", licence="-"),
        reporting=Reporting(),
        packaging="single",
        units=tuple(units),
        datasets=tuple(datasets),
    )


#: The model of each kind of file checked on its own, and its name in messages.
_FILE_KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "unit": (UnitMeta, "front matter"),
    "quiz": (Quiz, "quiz"),
    "data": (DataSet, "data set"),
}


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """What the checks of one file alone found: its model (None if it is not valid), its
    diagnostics and, for a quiz, the codes of the answer-key patterns in it (itemcheck)."""

    model: Any
    diagnostics: list[Diagnostic]
    patterns: Sequence[str] = ()


def check_file(src: SourceFile, kind: str, language: str) -> FileCheck:
    """The checks of a unit, quiz or data file (`kind`) that read no other file: forbidden
    text, the model, reserved ids and, for a quiz, its questions (`language`: the course's)."""
    model, what = _FILE_KINDS[kind]
    diags = unsafe_text(src)
    value = _parse(src, model, what, diags)
    if isinstance(value, UnitMeta | Quiz) and value.id in RESERVED_IDS:
        diags.append(reserved_id(src, ("id",), value.id, kind))
    if not isinstance(value, Quiz):
        return FileCheck(value, diags)
    diags += _check_quiz(value, src)
    diags += _check_response_ids(value, src)
    items, patterns = quiz_items(value, src, language)
    return FileCheck(value, diags + items, patterns)


def _checked(src: SourceFile, kind: str, language: str, cache: ParseCache | None) -> FileCheck:
    """check_file, or what it found for the same bytes, shown path and language in an earlier
    build (the build cache): a rebuild of 1,000 sessions after one edit validates in 0.08 s
    instead of 0.17 s (bench/RESULTS.md).

    Only the diagnostics are kept: the model is validated again from the parsed data, which
    costs less than reading it back from JSON and is the same by construction. (A build that
    saves its cache has no invalid file, and a file that is not valid is checked again.)
    """
    if cache is None:
        return check_file(src, kind, language)
    key = f"checked\0{kind}\0{language}\0{src.display}\0{src.digest.hex()}"
    blob = cache.get_raw(key)
    if blob is not None:
        try:
            rows, patterns = json.loads(blob)
            value = _FILE_KINDS[kind][0].model_validate(src.data)
            return FileCheck(value, [Diagnostic(*row) for row in rows], patterns)
        except (ValueError, TypeError):  # not valid, or not an entry this code wrote
            pass
    found = check_file(src, kind, language)
    rows = [dataclasses.astuple(d) for d in found.diagnostics]
    cache.put_raw(key, json.dumps([rows, found.patterns]).encode())
    return found


def validate_course(
    tree: SourceTree, data: Sequence[SourceFile] = (), cache: ParseCache | None = None
) -> tuple[Course, list[Diagnostic]]:
    """Build the Course from the sources (and `data/*.yaml`); raise BuildFailed on any error.

    Each unit, quiz and data file is checked on its own first (check_file; with `cache`, only
    the files an earlier build did not see), then the files against each other.
    """
    diags = list(tree.diagnostics)
    cfile: CourseFile | None = None
    if tree.course is not None:
        diags += unsafe_text(tree.course)
        cfile = _parse(tree.course, CourseFile, "course.yaml", diags)
    language = cfile.language if cfile else "en"

    metas: dict[str, tuple[UnitMeta, SourceFile]] = {}
    # Ids (and file names) of unit files whose own errors are reported: listing them in
    # course.yaml is not a second mistake, so no follow-on "unit not found".
    broken_units = {PurePosixPath(rel).stem for rel in tree.unit_errors}
    for src in tree.units.values():
        unit_check = _checked(src, "unit", language, cache)
        diags += unit_check.diagnostics
        meta = unit_check.model
        if meta is None:
            broken_units.add(PurePosixPath(src.rel).stem)
            if isinstance(src.data, dict) and isinstance(src.data.get("id"), str):
                broken_units.add(src.data["id"])
            continue
        if meta.id in metas:
            other = metas[meta.id][1]
            diags.append(
                src.diagnostic(
                    ("id",), "E302", f"unit id '{meta.id}' is already used by {other.display}"
                )
            )
            continue
        metas[meta.id] = (meta, src)

    quizzes: dict[str, Quiz] = {}
    quiz_sources: dict[str, SourceFile] = {}
    questions: dict[str, Question] = {}
    # Quiz files that failed to load (their own errors are reported; no follow-on errors).
    broken: set[str] = {rel for rel in tree.quiz_errors}
    question_ids: dict[str, str] = {}
    quiz_ids: dict[str, str] = {}
    patterns: dict[str, Sequence[str]] = {}
    for rel, src in tree.quizzes.items():
        quiz_check = _checked(src, "quiz", language, cache)
        diags += quiz_check.diagnostics
        quiz = quiz_check.model
        if quiz is None:
            broken.add(rel)
            continue
        patterns[rel] = quiz_check.patterns
        if quiz.id in quiz_ids:
            diags.append(
                src.diagnostic(
                    ("id",), "E302", f"quiz id '{quiz.id}' is already used by {quiz_ids[quiz.id]}"
                )
            )
        quiz_ids[quiz.id] = src.display
        for qi, q in enumerate(quiz.questions):
            if q.id in question_ids:
                diags.append(
                    src.diagnostic(
                        ("questions", qi, "id"),
                        "E302",
                        f"question id '{q.id}' is already used in {question_ids[q.id]}",
                    )
                )
            question_ids[q.id] = src.display
            questions.setdefault(q.id, q)
        quizzes[rel] = quiz
        quiz_sources[rel] = src

    diags += across_quizzes(
        [(quiz, quiz_sources[rel], patterns[rel]) for rel, quiz in quizzes.items()]
    )

    datasets: list[DataSet] = []
    dataset_ids: dict[str, str] = {}
    for src in data:
        data_check = _checked(src, "data", language, cache)
        diags += data_check.diagnostics
        ds = data_check.model
        if ds is None:
            continue
        if ds.id in dataset_ids:
            diags.append(
                src.diagnostic(
                    ("id",),
                    "E302",
                    f"data set id '{ds.id}' is already used by {dataset_ids[ds.id]}",
                )
            )
            continue
        dataset_ids[ds.id] = src.display
        diags += _check_dataset(ds, src, questions)
        datasets.append(ds)

    if cfile is None or tree.course is None:
        raise CourseInvalid(diags, _standin_course(metas, quizzes, datasets))

    units: list[Unit] = []
    listed = set()
    quiz_owner: dict[str, str] = {}
    for ui, uid in enumerate(cfile.units):
        if uid in listed:
            diags.append(
                tree.course.diagnostic(("units", ui), "E302", f"unit '{uid}' is listed twice")
            )
            continue
        listed.add(uid)
        if uid not in metas and uid in broken_units:
            continue
        if uid not in metas:
            close = difflib.get_close_matches(uid, list(metas), n=1)
            diags.append(
                tree.course.diagnostic(
                    ("units", ui),
                    "E301",
                    f"unit '{uid}' not found: no file in units/ has this id",
                    hint=f"did you mean '{close[0]}'?"
                    if close
                    else "create units/<name>.md whose front matter says 'id: " + uid + "'",
                )
            )
            continue
        meta, src = metas[uid]
        quiz = None
        quiz_src = None
        if meta.quiz is not None:
            rel = PurePosixPath(meta.quiz).as_posix()
            quiz = quizzes.get(rel)
            quiz_src = quiz_sources.get(rel)
            norm = posixpath.normpath(rel)
            if rel.startswith("/") or norm == ".." or norm.startswith("../"):
                diags.append(
                    src.diagnostic(
                        ("quiz",),
                        "E350",
                        f"quiz path '{meta.quiz}' leads out of the course folder",
                        hint="course files are read only from inside the course folder",
                    )
                )
            elif rel in quiz_owner:
                diags.append(
                    src.diagnostic(
                        ("quiz",),
                        "E302",
                        f"quiz file '{meta.quiz}' is already the quiz of unit '{quiz_owner[rel]}'",
                        hint="a quiz belongs to one unit: copy it, with new ids, for another",
                    )
                )
            elif quiz is None and not any(d.path == tree.display(rel) for d in diags):
                diags.append(
                    src.diagnostic(
                        ("quiz",),
                        "E303",
                        f"quiz file '{meta.quiz}' not found",
                        hint="quiz files live in quizzes/ and are named "
                        "by their path, e.g. quizzes/check-7-1.yaml",
                    )
                )
            quiz_owner.setdefault(rel, meta.id)
        units.append(_unit(meta, src, quiz, quiz_src))

    for uid, (_meta, src) in metas.items():
        if uid not in listed:
            diags.append(
                src.diagnostic(
                    ("id",),
                    "W302",
                    f"unit '{uid}' is not listed in course.yaml",
                    severity="warning",
                    hint="add it to 'units' or delete the file",
                )
            )

    aims: dict[str, str] = {}
    for u in units:
        if u.aim:
            key = " ".join(u.aim.lower().split())
            if key in aims:
                diags.append(
                    metas[u.id][1].diagnostic(
                        ("aim",),
                        "W301",
                        f"unit '{u.id}' has the same aim as unit '{aims[key]}'",
                        severity="warning",
                        hint="each session should say what it alone sets out to do",
                    )
                )
            else:
                aims[key] = u.id

    charted = charted_datasets(u.body for u in units)
    for src in data:
        ds_id = src.data.get("id") if isinstance(src.data, dict) else None
        if dataset_ids.get(str(ds_id)) == src.display and ds_id not in charted:
            diags.append(
                src.diagnostic(
                    ("id",),
                    "W303",
                    f"data set '{ds_id}' is never shown: no unit has '::: chart {ds_id}'",
                    severity="warning",
                    hint="draw it where the text needs it, or delete the file",
                )
            )

    diags += _distributor_notes(cfile, tree.course, [metas[u.id] for u in units])

    rep = cfile.reporting
    if rep.status != "completed/incomplete":
        target = next((u for u in units if u.id == rep.assessment), None)
        if rep.assessment is None:
            diags.append(
                tree.course.diagnostic(
                    ("reporting",),
                    "E304",
                    f"reporting status '{rep.status}' needs 'assessment': the unit whose quiz "
                    "decides passed or failed",
                )
            )
        elif target is None and rep.assessment in broken_units:
            pass  # its own errors are reported
        elif target is None:
            diags.append(
                tree.course.diagnostic(
                    ("reporting", "assessment"),
                    "E304",
                    f"assessment unit '{rep.assessment}' is not a unit of the course",
                )
            )
        elif target.quiz is None and metas[target.id][0].quiz is not None:
            pass  # the quiz file is missing, outside the course or broken: already reported
        elif target.quiz is None or not target.quiz.graded:
            diags.append(
                tree.course.diagnostic(
                    ("reporting", "assessment"),
                    "E305",
                    f"assessment unit '{rep.assessment}' has no graded quiz",
                )
            )
    if cfile is not None and cfile.theme is not None and tree.course is not None:
        diags += _theme_problems(cfile.theme, tree.course, tree.root)

    if has_errors(diags):
        raise CourseInvalid(diags, _standin_course(metas, quizzes, datasets))
    course = Course(
        id=cfile.id,
        title=cfile.title,
        version=cfile.version,
        language=cfile.language,
        description=cfile.description,
        keywords=cfile.keywords,
        aim=cfile.aim,
        objectives=cfile.objectives,
        introduction=cfile.introduction,
        credits=cfile.credits,
        reporting=cfile.reporting,
        packaging=cfile.packaging,
        units=tuple(units),
        datasets=tuple(sorted(datasets, key=lambda d: d.id)),
        allow_active_media=cfile.allow_active_media,
        source=tree.course.display,
        introduction_line=_text_line(tree.course, ("introduction",), cfile.introduction),
        theme=cfile.theme,
    )
    return course, sorted(diags)


def _theme_problems(theme: Theme, course_src: SourceFile, root: Path) -> list[Diagnostic]:
    """E380 for a colour pair of the theme below WCAG AA; E381 for a logo that is not an image
    in media/."""
    out = [
        course_src.diagnostic(
            ("theme", field),
            "E380",
            message,
            hint="choose a darker accent (or, for dark pages, a lighter accent_dark)",
        )
        for field, message in contrast_problems(theme)
    ]
    if theme.logo is not None:
        rel = PurePosixPath(theme.logo)
        inside = (root / rel).resolve().is_relative_to(root.resolve())
        if (
            rel.is_absolute()
            or not rel.as_posix().startswith("media/")
            or not inside
            or not (root / rel).is_file()
            or rel.suffix.lower() not in LOGO_SUFFIXES
        ):
            out.append(
                course_src.diagnostic(
                    ("theme", "logo"),
                    "E381",
                    f"logo '{theme.logo}' is not an image in media/",
                    hint="name a .png, .jpg, .gif or .webp file in the course's media/ folder",
                )
            )
    return out
