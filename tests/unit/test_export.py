"""Moodle question-bank exports (GIFT and Moodle XML).

The first tests import nothing from the builder: they run the command line, then read the two
files with a GIFT reader written here from Moodle's documented grammar (qformat_gift: the
escapes \\~ \\= \\# \\{ \\} \\: \\\\ \\n, `::name::`, `[html]`, `{…}`, `####` general feedback)
and with lxml against the documented Moodle XML structure (qformat_xml). The last ones test
helpers directly.
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]

# Moodle's grade list (question_bank::fraction_options_full), in percent.
MOODLE_GRADES = {
    100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
    14.28571, 12.5, 11.11111, 10, 5, 0,
}  # fmt: skip

#: Characters no export may contain: C0 controls but tab and line feed, DEL, C1 controls.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")

COURSE = {
    "course.yaml": """\
        id: tricky-course
        title: "Signs: {braces} / slashes"
        version: "1.0.0"
        language: fr
        description: A course whose text uses every character GIFT gives a meaning to.
        credits: {source: Test, licence: CC BY 4.0}
        reporting: {status: completed/incomplete}
        units: [lesson, check]
        """,
    "units/lesson.md": """\
        ---
        id: lesson
        title: Lesson
        kind: presentation
        duration: 5
        ---

        ## Signs

        Text.

        ## More

        {#detail}
        A paragraph.
        """,
    "units/check.md": """\
        ---
        id: check
        title: Check
        kind: assessment
        duration: 5
        quiz: quizzes/check.yaml
        ---

        Answer.
        """,
    "quizzes/check.yaml": r"""
        id: check-quiz
        title: "Check: part 1/2"
        questions:
          - id: q-signs
            type: single-choice
            prompt: 'Which sign opens a {block} in GIFT: ~, = or #? A \ is literal.'
            options:
              - {id: brace, text: "The brace {", correct: true, feedback: "Yes: {"}
              - {id: tilde, text: "The tilde ~ or = sign"}
            feedback:
              correct: See [the lesson](../units/lesson.md#signs) or <https://example.org/a#b>.
              incorrect: >-
                Not #1. See [Signs](../units/lesson.md#signs) and
                [this paragraph](../units/lesson.md#detail).
          - id: q-many
            type: multiple-response
            prompt: Pick the three right ones.
            options:
              - {id: a, text: "A = 1", correct: true}
              - {id: b, text: "B: 2", correct: true}
              - {id: c, text: "C ~ 3", correct: true}
              - {id: d, text: "D # 4"}
              - {id: e, text: "E } 5"}
            feedback: {correct: All three., incorrect: "Not all: look again."}
          - id: q-true
            type: true-false
            prompt: "GIFT escapes a colon: like this."
            answer: true
            feedback: {correct: "Right: it does.", incorrect: 'It does: \ and :'}
          - id: q-match
            type: matching
            prompt: Match the sign -> its name.
            prompts:
              - {id: p1, text: "{", answer: brace, feedback: opens}
              - {id: p2, text: "=", answer: equals}
            options:
              - {id: brace, text: "brace -> curly"}
              - {id: equals, text: equals sign}
              - {id: hash, text: "hash #"}
          - id: q-fill
            type: fill-in
            prompt: "Type the star: ____"
            answers: ["*", "star"]
            case_sensitive: true
            feedback: {correct: "Yes, *.", incorrect: "No: a star."}
          - id: q-think
            type: reflection
            prompt: Not graded.
        """,
}


def write_course(root: Path) -> Path:
    for rel, text in COURSE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("export")
    course = write_course(base / "course")
    out = base / "dist"
    proc = run_cli(
        "build", str(course), "--out", str(out), "--target", "gift", "--target", "moodle-xml"
    )
    assert proc.returncode == 0, proc.stderr
    quiz = yaml.safe_load((course / "quizzes/check.yaml").read_text(encoding="utf-8"))
    return {
        "proc": proc,
        "gift": (out / "tricky-course-questions.gift.txt").read_bytes(),
        "xml": (out / "tricky-course-questions.moodle.xml").read_bytes(),
        "quiz": quiz,
        "files": sorted(p.name for p in out.iterdir()),
    }


# --------------------------------------------------------------------------- a GIFT reader

# Moodle's reader (qformat_gift::readquestion), step by step: blocks of non-blank lines, comment
# lines blanked, escapes swapped for placeholders (private-use characters here, never in the text
# the tests write), `$CATEGORY:` read raw, `::name::`, the answers between the first `{` and the
# first `}`, `####` general feedback, a `[format]` prefix, then the question type from the answers.
_ESCAPES = {"\\:": "\ue002", "\\#": "\ue003", "\\=": "\ue004", "\\{": "\ue005", "\\}": "\ue006",
            "\\~": "\ue007", "\\n": "\ue008"}  # fmt: skip
_RESTORE = {value: key[1] if key != "\\n" else "\n" for key, value in _ESCAPES.items()}
_BACKSLASH = "\ue001"
_WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
_PHP_TRIM = " \t\n\r\0\x0b"


def protect(text: str) -> str:
    """escapedchar_pre: '\\\\' first, then each escape; an escaped backslash is one again."""
    text = text.replace("\\\\", _BACKSLASH)
    for escape, placeholder in _ESCAPES.items():
        text = text.replace(escape, placeholder)
    return text.replace(_BACKSLASH, "\\")


def restore(text: str) -> str:
    """escapedchar_post, then PHP's trim."""
    return "".join(_RESTORE.get(c, c) for c in text).strip(_PHP_TRIM)


def with_format(text: str) -> str:
    """parse_text_with_format: a leading [html], [moodle], [plain] or [markdown] is dropped."""
    text = text.strip(_PHP_TRIM)
    m = re.match(r"^\[(html|markdown|plain|moodle)\]", text)
    return restore(text[m.end() :] if m else text)


def _weighted(raw: str, default: float) -> tuple[float, str]:
    m = _WEIGHT.match(raw)
    if not m:
        return default, raw
    return float(raw[1 : raw.index("%", 1)]), raw[raw.index("%", 1) + 1 :]


def parse_gift(data: bytes) -> list[dict[str, object]]:
    """The questions and categories Moodle's GIFT importer reads from `data`, as dicts."""
    text = data.decode("utf-8")
    assert "\r" not in text
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.strip(_PHP_TRIM):
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    questions: list[dict[str, object]] = []
    category = None
    for lines in blocks:
        lines = [" " if ln.strip(_PHP_TRIM).startswith("//") else ln for ln in lines]
        body = protect("\n".join(lines).strip(_PHP_TRIM))
        if not body:
            continue
        if body.startswith("$CATEGORY:"):
            category = body[len("$CATEGORY:") :].strip(_PHP_TRIM)
            continue
        assert body.startswith("::"), body
        name, sep, rest = body[2:].partition("::")
        assert sep, body
        rest = rest.strip(_PHP_TRIM)
        start, finish = rest.find("{"), rest.find("}")
        assert 0 <= start < finish, f"no answers in {name}"
        assert rest.endswith("}") and finish == len(rest) - 1, f"text after the answers in {name}"
        qtext, answers = rest[:start], rest[start + 1 : finish].strip(_PHP_TRIM)
        general = ""
        if "####" in answers:
            answers, _, general = answers.rpartition("####")
            answers = answers.strip(_PHP_TRIM)
        q: dict[str, object] = {
            "name": restore(name),
            "category": category,
            "text": with_format(qtext),
            "general": with_format(general),
        }
        if "~" in answers:
            q["type"] = "multichoice"
            q["single"] = "=" in answers
            items = []
            for raw in answers.replace("=", "~=").split("~"):
                raw = raw.strip(_PHP_TRIM)
                if not raw:
                    continue
                if raw[0] == "=":
                    weight, raw = 100.0, raw[1:]
                else:
                    weight, raw = _weighted(raw, 0.0)
                answer, _, feedback = raw.partition("#")
                items.append((weight, with_format(answer), with_format(feedback)))
            q["answers"] = items
        elif "=" in answers and "->" in answers:
            q["type"] = "match"
            pairs = []
            for raw in answers.split("=")[1:]:
                stem, arrow, answer = raw.strip(_PHP_TRIM).partition("->")
                assert arrow, raw
                pairs.append((with_format(stem), restore(answer)))
            q["pairs"] = pairs
        elif answers.split("#")[0].strip(_PHP_TRIM) in ("T", "TRUE", "F", "FALSE"):
            q["type"] = "truefalse"
            parts = answers.split("#", 2)
            q["answer"] = parts[0].strip(_PHP_TRIM) in ("T", "TRUE")
            q["wrong_feedback"] = with_format(parts[1]) if len(parts) > 1 else ""
            q["right_feedback"] = with_format(parts[2]) if len(parts) > 2 else ""
        else:
            q["type"] = "shortanswer"
            items = []
            for raw in answers.split("=")[1:]:
                weight, raw = _weighted(raw.strip(_PHP_TRIM), 100.0)
                answer, _, feedback = raw.partition("#")
                items.append((weight, with_format(answer), with_format(feedback)))
            q["answers"] = items
        questions.append(q)
    return questions


def split_category_path(path: str) -> list[str]:
    """Moodle's qformat_default::split_category_path: '/' separates, '//' is a slash."""
    return [name.replace("//", "/").strip() for name in re.split(r"(?<!/)/(?!/)", path)]


def plain(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --------------------------------------------------------------------------- GIFT


def test_export_files_are_named_after_the_course_and_listed(exported):
    assert exported["files"] == [
        "tricky-course-questions.gift.txt",
        "tricky-course-questions.moodle.xml",
    ]
    out = exported["proc"].stdout
    assert "gift" in out and "moodle-xml" in out


def test_gift_reads_back_every_graded_question_with_its_special_characters(exported):
    questions = parse_gift(exported["gift"])
    quiz = exported["quiz"]
    graded = [q for q in quiz["questions"] if q["type"] != "reflection"]
    assert [q["name"] for q in questions] == [q["id"] for q in graded]
    by = {q["name"]: q for q in questions}
    assert {q["category"] for q in questions} == {
        "$course$/top/Signs: {braces} // slashes/Check: part 1//2"
    }

    signs = by["q-signs"]
    assert signs["type"] == "multichoice" and signs["single"] is True
    assert plain(signs["text"]) == quiz["questions"][0]["prompt"]
    weights = [a[0] for a in signs["answers"]]
    assert weights == [100.0, 0.0]
    assert [plain(a[1]) for a in signs["answers"]] == ["The brace {", "The tilde ~ or = sign"]
    assert plain(signs["answers"][1][2]) == "Not #1. See Signs and this paragraph (Lesson › More)."

    many = by["q-many"]
    assert many["type"] == "multichoice" and many["single"] is False
    rights = [a[0] for a in many["answers"] if a[0] > 0]
    assert len(rights) == 3 and round(sum(rights) / 100, 2) == 1
    assert all(abs(a[0]) in MOODLE_GRADES for a in many["answers"])
    assert [plain(a[1]) for a in many["answers"]] == ["A = 1", "B: 2", "C ~ 3", "D # 4", "E } 5"]
    # GIFT cannot tell a fully right answer from a partly right one: no right/wrong feedback.
    assert many["general"] == "" and "All three." not in exported["gift"].decode()

    tf = by["q-true"]
    assert tf["type"] == "truefalse" and tf["answer"] is True
    assert plain(tf["right_feedback"]) == "Right: it does."
    assert plain(tf["wrong_feedback"]) == "It does: \\ and :"

    match = by["q-match"]
    assert match["type"] == "match"
    assert [(plain(s), a) for s, a in match["pairs"]] == [
        ("{", "brace -> curly"),
        ("=", "equals sign"),
        ("", "hash #"),  # the distractor
    ]
    assert plain(match["text"]) == "Match the sign -> its name."

    fill = by["q-fill"]
    assert fill["type"] == "shortanswer"
    # '*' is Moodle's wildcard: a literal star is written '\*'; the catch-all wrong answer is '*'.
    assert [(w, a) for w, a, _ in fill["answers"]] == [(100, "\\*"), (100, "star"), (0, "*")]
    assert plain(fill["answers"][2][2]) == "No: a star."


def test_course_links_name_their_place_and_web_links_stay_links(exported):
    by = {q["name"]: q for q in parse_gift(exported["gift"])}
    right_feedback = by["q-signs"]["answers"][0][2]
    assert (
        plain(right_feedback) == "Yes: {See the lesson (Lesson › Signs) or https://example.org/a#b."
    )
    assert '<a href="https://example.org/a#b"' in right_feedback
    root = etree.fromstring(exported["xml"])
    [correct] = root.xpath("question[name/text='q-signs']/correctfeedback/text/text()")
    assert '<a href="https://example.org/a#b"' in correct
    for data in (exported["gift"], exported["xml"]):
        assert b"lesson.md" not in data and b'href="#' not in data


# --------------------------------------------------------------------------- Moodle XML


def test_moodle_xml_is_well_formed_and_follows_the_format(exported):
    root = etree.fromstring(exported["xml"], etree.XMLParser(no_network=True))
    assert exported["xml"].startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == "quiz"
    questions = root.findall("question")
    assert questions[0].get("type") == "category"
    assert (
        questions[0].findtext("category/text")
        == "$course$/top/Signs: {braces} // slashes/Check: part 1//2"
    )
    real = questions[1:]
    assert [q.findtext("name/text") for q in real] == [
        "q-signs",
        "q-many",
        "q-true",
        "q-match",
        "q-fill",
    ]
    for q in real:
        assert q.find("questiontext").get("format") == "html"
        assert q.findtext("questiontext/text").startswith("<p>")
        assert float(q.findtext("defaultgrade")) >= 0
        assert q.findtext("hidden") == "0"
        for answer in q.findall("answer"):
            assert abs(float(answer.get("fraction"))) in MOODLE_GRADES
            assert answer.find("text") is not None
            assert answer.find("feedback/text") is not None
    by = {q.findtext("name/text"): q for q in real}

    signs = by["q-signs"]
    assert signs.get("type") == "multichoice" and signs.findtext("single") == "true"
    assert plain(signs.findtext("questiontext/text")) == exported["quiz"]["questions"][0]["prompt"]
    assert [a.get("fraction") for a in signs.findall("answer")] == ["100", "0"]
    assert plain(signs.findtext("correctfeedback/text")).startswith("See the lesson")
    assert plain(signs.findtext("incorrectfeedback/text")) == (
        "Not #1. See Signs and this paragraph (Lesson › More)."
    )

    many = by["q-many"]
    assert many.findtext("single") == "false"
    fractions = [float(a.get("fraction")) for a in many.findall("answer")]
    assert round(sum(f for f in fractions if f > 0) / 100, 2) == 1
    assert all(f < 0 for f in fractions[3:])

    tf = by["q-true"]
    assert tf.get("type") == "truefalse"
    answers = {a.findtext("text"): a.get("fraction") for a in tf.findall("answer")}
    assert answers == {"true": "100", "false": "0"}

    match = by["q-match"]
    assert match.get("type") == "matching"
    subs = [
        (plain(s.findtext("text")), s.findtext("answer/text")) for s in match.findall("subquestion")
    ]
    assert subs == [("{", "brace -> curly"), ("=", "equals sign"), ("", "hash #")]
    assert "opens" in plain(match.findtext("generalfeedback/text"))

    fill = by["q-fill"]
    assert fill.get("type") == "shortanswer" and fill.findtext("usecase") == "1"
    assert [(a.findtext("text"), a.get("fraction")) for a in fill.findall("answer")] == [
        ("\\*", "100"),
        ("star", "100"),
        ("*", "0"),
    ]


def test_exports_are_deterministic(tmp_path, exported):
    course = write_course(tmp_path / "course")
    out = tmp_path / "again"
    proc = run_cli(
        "build",
        str(course),
        "--out",
        str(out),
        "--target",
        "gift",
        "--target",
        "moodle-xml",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "tricky-course-questions.gift.txt").read_bytes() == exported["gift"]
    assert (out / "tricky-course-questions.moodle.xml").read_bytes() == exported["xml"]


def test_gift_warns_what_it_cannot_keep(exported):
    err = exported["proc"].stderr
    assert "warning[W403]" in err and "case-sensitive" in err
    assert "warning[W401]" not in err  # 2 prompts, 3 answers: enough for Moodle


# --------------------------------------------------------------------------- helpers


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Co")), max_size=60))
def test_gift_escape_round_trips_through_the_reader(text):
    from builder.export import gift_escape

    escaped = gift_escape(text)
    protected = protect(escaped)
    assert not any(c in protected for c in "~=#{}:"), escaped
    # Control characters (XML cannot hold them) are dropped; line ends read back as LF.
    expected = CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    assert "".join(_RESTORE.get(c, c) for c in protected) == expected


def test_multiple_response_weights_stay_in_moodles_grade_list():
    from builder.export import MOODLE_GRADES as GRADES
    from builder.export import _grade

    for n in range(1, 11):
        share = _grade(100 / n)
        assert share in GRADES
        assert round(share * n / 100, 2) == 1


# --------------------------------------------------------------------------- hostile text

#: Text that would add questions and categories to a GIFT file written as it is, break a CDATA
#: section, or stop lxml: line breaks, GIFT's signs, a category line, a name, comments, controls.
HOSTILE = (
    "Evil\n$CATEGORY: $course$/top/pwned\n\n::inject::Injected?{=yes ~no}\n"
    "// a comment?\r\n{braces} ~ = # : -> %50% [html] ]]> <b>not bold</b> & \x07bell\x1b[2J"
    "\u2028end\t\x85."
)
#: For titles (never Markdown): backslashes, slashes at the ends, and escapes taken literally.
HOSTILE_TITLE = "/C:\\dir\\n " + HOSTILE + " 1/2 //"


def one_line(text: str) -> str:
    """Text as a one-line field reads back: a CR is a line break, then all breaks are spaces."""
    return " ".join(CONTROLS.sub("", text.replace("\r", "\n")).split())


def hostile_course(tmp_path: Path):
    """The tricky course, then every title, prompt, option and feedback made hostile; a second
    unit with the same quiz title. Built as models: validation may refuse such text."""
    from builder.pipeline import load_course

    root = write_course(tmp_path / "course")
    course, _ = load_course(root)
    quiz = course.units[1].quiz
    questions = []
    for q in quiz.questions:
        update: dict[str, object] = {
            "prompt": f"{q.id}: {HOSTILE}",
            "feedback": q.feedback.model_copy(update={"correct": HOSTILE, "incorrect": HOSTILE}),
        }
        if hasattr(q, "options") and q.type != "matching":
            update["options"] = tuple(
                o.model_copy(update={"text": f"{o.id} {HOSTILE}", "feedback": HOSTILE})
                for o in q.options
            )
        questions.append(q.model_copy(update=update))
    first = quiz.model_copy(update={"title": HOSTILE_TITLE, "questions": tuple(questions)})
    second = first.model_copy(
        update={
            "id": "check-two",
            "questions": tuple(
                q.model_copy(update={"id": f"{q.id}-2"}) for q in first.questions[:2]
            ),
        }
    )
    units = (
        course.units[0].model_copy(update={"quiz": second, "title": HOSTILE_TITLE}),
        course.units[1].model_copy(update={"quiz": first}),
    )
    return course.model_copy(update={"title": HOSTILE_TITLE, "units": units})


def test_hostile_text_stays_text_in_gift(tmp_path):
    from builder.export import export_gift

    course = hostile_course(tmp_path)
    exported = export_gift(course)
    text = exported.data.decode("utf-8")
    assert not CONTROLS.search(text.replace("\t", "")) and "\u2028" in text
    questions = parse_gift(exported.data)
    graded = [q for u in course.units for q in u.quiz.questions if q.type != "reflection"]
    # Exactly the questions written: no injected question, no injected category.
    assert [q["name"] for q in questions] == [q.id for q in graded]
    assert exported.questions == len(questions) == 7
    title = one_line(HOSTILE_TITLE)
    first_category = split_category_path(questions[0]["category"])
    assert first_category == ["$course$", "top", title, f"{title} – {title}"]
    last_category = split_category_path(questions[-1]["category"])
    assert last_category == ["$course$", "top", title, f"Check – {title}"]
    assert len({q["category"] for q in questions}) == 2
    # Every text reads back as written (Markdown aside: line breaks and spaces, controls gone).
    by = {q["name"]: q for q in questions}
    for q in graded:
        got = by[q.id]
        assert one_line(plain(got["text"])) == one_line(q.prompt) != ""
    signs = by["q-signs"]["answers"]
    assert [one_line(plain(a[1])) for a in signs] == [
        one_line(f"brace {HOSTILE}"),
        one_line(f"tilde {HOSTILE}"),
    ]
    assert one_line(plain(signs[0][2])) == one_line(HOSTILE + HOSTILE)
    tf = by["q-true"]
    assert one_line(plain(tf["right_feedback"])) == one_line(HOSTILE)
    fill = by["q-fill"]
    assert [(w, a) for w, a, _ in fill["answers"]] == [(100, "\\*"), (100, "star"), (0, "*")]


def test_hostile_text_stays_text_in_moodle_xml(tmp_path):
    from builder.export import export_moodle_xml

    course = hostile_course(tmp_path)
    root = etree.fromstring(export_moodle_xml(course).data, etree.XMLParser(no_network=True))
    nodes = root.findall("question")
    categories = [n.findtext("category/text") for n in nodes if n.get("type") == "category"]
    title = one_line(HOSTILE_TITLE)
    assert [split_category_path(c) for c in categories] == [
        ["$course$", "top", title, f"{title} – {title}"],
        ["$course$", "top", title, f"Check – {title}"],
    ]
    real = [n for n in nodes if n.get("type") != "category"]
    prompts = {q.id: q.prompt for u in course.units for q in u.quiz.questions}
    assert len(real) == 7
    for node in real:
        expected = one_line(prompts[node.findtext("name/text")])
        assert one_line(plain(node.findtext("questiontext/text"))) == expected
    [signs] = [n for n in real if n.findtext("name/text") == "q-signs"]
    assert [one_line(plain(a.findtext("text"))) for a in signs.findall("answer")] == [
        one_line(f"brace {HOSTILE}"),
        one_line(f"tilde {HOSTILE}"),
    ]
    assert one_line(plain(signs.findtext("correctfeedback/text"))) == one_line(HOSTILE)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Co")), min_size=1, max_size=40))
def test_any_title_is_one_category_name(title):
    from builder.export import _category_part

    path = "$course$/top/" + _category_part(one_line(title) or "x") + "/" + _category_part("q")
    assert split_category_path(path) == ["$course$", "top", (one_line(title) or "x").strip(), "q"]


# --------------------------------------------------------------------------- categories, feedback


def test_quizzes_with_the_same_title_get_a_category_each(tmp_path):
    course = write_course(tmp_path / "course")
    (course / "quizzes/check.yaml").write_text(
        (course / "quizzes/check.yaml")
        .read_text()
        .replace('title: "Check: part 1/2"', "title: Check your understanding"),
        encoding="utf-8",
    )
    (course / "quizzes/second.yaml").write_text(
        textwrap.dedent("""\
            id: second-quiz
            title: Check your understanding
            questions:
              - {id: q-second, type: true-false, prompt: Second., answer: false}
            """),
        encoding="utf-8",
    )
    lesson = course / "units/lesson.md"
    lesson.write_text(
        lesson.read_text().replace("duration: 5\n", "duration: 5\nquiz: quizzes/second.yaml\n"),
        encoding="utf-8",
    )
    out = tmp_path / "dist"
    proc = run_cli("build", str(course), "--out", str(out), "--target", "gift", "--quiet")
    assert proc.returncode == 0, proc.stderr
    questions = parse_gift((out / "tricky-course-questions.gift.txt").read_bytes())
    paths = {q["name"]: split_category_path(q["category"])[-1] for q in questions}
    assert paths["q-second"] == "Lesson – Check your understanding"
    assert paths["q-signs"] == "Check – Check your understanding"


def test_gift_leaves_out_the_feedback_it_cannot_target_and_says_so(exported):
    err = exported["proc"].stderr
    [w404] = [line for line in err.splitlines() if "W404" in line]
    assert w404.startswith("course/quizzes/check.yaml:") or "quizzes/check.yaml:" in w404
    assert "'q-many'" in w404 and "'q-match'" not in w404  # q-match has no right/wrong feedback
    gift = exported["gift"].decode()
    assert "All three." not in gift and "Not all" not in gift
    assert "Correct." not in gift and "Not quite" not in gift


def test_moodle_xml_gives_a_partly_right_answer_the_incorrect_feedback(exported):
    root = etree.fromstring(exported["xml"])
    [many] = root.xpath("question[name/text='q-many']")
    assert plain(many.findtext("correctfeedback/text")) == "All three."
    assert plain(many.findtext("partiallycorrectfeedback/text")) == "Not all: look again."
    assert plain(many.findtext("incorrectfeedback/text")) == "Not all: look again."


# --------------------------------------------------------------------------- scoring


def moodle_multichoice_grade(fractions: list[float], chosen: set[int]) -> float:
    """qtype_multichoice_multi_question::grade_response: the chosen fractions, kept in [0, 1]."""
    return min(max(0.0, sum(fractions[i] for i in chosen) / 100), 1.0)


def test_all_or_nothing_quizzes_warn_that_moodle_scores_in_part(exported):
    [w405] = [line for line in exported["proc"].stderr.splitlines() if "W405" in line]
    assert "'check-quiz'" in w405 and "'q-many'" in w405 and "'q-match'" in w405
    assert "'q-signs'" not in w405


def test_partial_scoring_exports_moodles_rule_without_a_warning(tmp_path):
    import itertools

    course = write_course(tmp_path / "course")
    quiz = course / "quizzes/check.yaml"
    quiz.write_text(
        quiz.read_text().replace("questions:", "scoring: partial\nquestions:", 1), encoding="utf-8"
    )
    out = tmp_path / "dist"
    proc = run_cli("build", str(course), "--out", str(out), "--target", "moodle-xml")
    assert proc.returncode == 0, proc.stderr
    assert "W405" not in proc.stderr
    root = etree.fromstring((out / "tricky-course-questions.moodle.xml").read_bytes())
    [many] = root.xpath("question[name/text='q-many']")
    fractions = [float(a.get("fraction")) for a in many.findall("answer")]
    right = {0, 1, 2}
    # The package's `partial` rule: each right option 1/3, each wrong one -1/2, kept in [0, 1].
    for n in range(6):
        for chosen in map(set, itertools.combinations(range(5), n)):
            package = min(1, max(0, len(chosen & right) / 3 - len(chosen - right) / 2))
            assert moodle_multichoice_grade(fractions, chosen) == pytest.approx(package, abs=1e-6)
    # And full marks only for all the right options and no wrong one.
    assert moodle_multichoice_grade(fractions, right) == pytest.approx(1, abs=1e-6)


def test_short_answers_that_look_like_a_format_or_hold_signs_read_back_as_written(tmp_path):
    from builder.export import export_gift, export_moodle_xml
    from builder.pipeline import load_course

    course, _ = load_course(write_course(tmp_path / "course"))
    answers = ("[html]<b>x</b>", "[plain] y", "a{b}=c#d~e:f", "two\nlines")
    unit = course.units[1]
    questions = tuple(
        q.model_copy(update={"answers": answers}) if q.type == "fill-in" else q
        for q in unit.quiz.questions
    )
    quiz = unit.quiz.model_copy(update={"questions": questions})
    course = course.model_copy(
        update={"units": (course.units[0], unit.model_copy(update={"quiz": quiz}))}
    )
    [fill] = [q for q in parse_gift(export_gift(course).data) if q["name"] == "q-fill"]
    assert [a for w, a, _ in fill["answers"] if w == 100] == list(answers)
    root = etree.fromstring(export_moodle_xml(course).data)
    texts = root.xpath("question[name/text='q-fill']/answer[@fraction='100']/text/text()")
    assert texts == list(answers)


@pytest.fixture(scope="module")
def tricky_model(tmp_path_factory: pytest.TempPathFactory):
    from builder.pipeline import load_course

    return load_course(write_course(tmp_path_factory.mktemp("model") / "course"))[0]


#: Any text but the private-use characters the GIFT reader above uses as placeholders.
ANY_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Co")), min_size=1, max_size=50
)


@given(title=ANY_TEXT, quiz_title=ANY_TEXT, prompt=ANY_TEXT, option=ANY_TEXT)
def test_any_text_keeps_both_files_to_their_questions_and_categories(
    tricky_model, title, quiz_title, prompt, option
):
    from builder.export import export_gift, export_moodle_xml

    unit = tricky_model.units[1]
    questions = tuple(
        q.model_copy(
            update={"prompt": prompt}
            | ({"options": (q.options[0].model_copy(update={"text": option}), *q.options[1:])}
               if q.type == "single-choice" else {})
        )
        for q in unit.quiz.questions
    )  # fmt: skip
    quiz = unit.quiz.model_copy(update={"title": quiz_title, "questions": questions})
    units = (tricky_model.units[0], unit.model_copy(update={"quiz": quiz}))
    course = tricky_model.model_copy(update={"title": title, "units": units})
    names = [q.id for q in questions if q.type != "reflection"]
    expected_path = [
        "$course$",
        "top",
        one_line(title) or course.id,
        one_line(quiz_title) or quiz.id,
    ]

    gift = parse_gift(export_gift(course).data)
    assert [q["name"] for q in gift] == names
    assert {tuple(split_category_path(q["category"])) for q in gift} == {tuple(expected_path)}
    [single] = [q for q in gift if q["name"] == "q-signs"]
    assert len(single["answers"]) == 2

    root = etree.fromstring(export_moodle_xml(course).data)
    nodes = root.findall("question")
    assert [n.findtext("name/text") for n in nodes[1:]] == names
    assert split_category_path(nodes[0].findtext("category/text")) == expected_path
