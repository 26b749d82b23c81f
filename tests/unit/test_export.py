"""Moodle question-bank exports (GIFT and Moodle XML).

The first tests import nothing from the builder: they run the command line, then read the two
files with a GIFT reader written here from Moodle's documented grammar (qformat_gift: the
escapes \\~ \\= \\# \\{ \\} \\: \\\\ \\n, `::name::`, `[html]`, `{…}`, `####` general feedback)
and with lxml against the documented Moodle XML structure (qformat_xml). The last ones test
helpers directly.
"""

from __future__ import annotations

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
              incorrect: "Not #1."
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

# Private-use placeholders: never in the course text the test generates.
_ESCAPES = {"\\\\": "\ue001", "\\:": "\ue002", "\\#": "\ue003", "\\=": "\ue004", "\\{": "\ue005",
            "\\}": "\ue006", "\\~": "\ue007", "\\n": "\ue008"}  # fmt: skip
_RESTORE = {value: key[1] if key != "\\n" else "\n" for key, value in _ESCAPES.items()}


def protect(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _ESCAPES:
            out.append(_ESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def restore(text: str) -> str:
    return "".join(_RESTORE.get(c, c) for c in text).strip()


def html_text(text: str) -> str:
    text = text.strip()
    m = re.match(r"^\[(html|markdown|plain|moodle)\]", text)
    return restore(text[m.end() :] if m else text)


def parse_gift(data: bytes) -> list[dict[str, object]]:
    """GIFT questions as dicts; asserts what Moodle's importer would reject."""
    text = data.decode("utf-8")
    assert "\r" not in text
    questions: list[dict[str, object]] = []
    category = None
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.split("\n") if not ln.strip().startswith("//")]
        body = "\n".join(lines).strip()
        if not body:
            continue
        if body.startswith("$CATEGORY:"):
            category = body[len("$CATEGORY:") :].strip()
            continue
        body = protect(body)
        assert body.startswith("::"), body
        name, _, rest = body[2:].partition("::")
        assert rest.count("{") == 1 and rest.count("}") == 1, f"unescaped brace in {name}"
        assert rest.endswith("}"), f"text after the answers in {name}"
        qtext, _, answers = rest[:-1].partition("{")
        answers = answers.strip()
        general = ""
        if "####" in answers:
            answers, _, general = answers.rpartition("####")
        q: dict[str, object] = {
            "name": restore(name),
            "category": category,
            "text": html_text(qtext),
            "general": html_text(general),
        }
        if "~" in answers:
            q["type"] = "multichoice"
            q["single"] = "=" in answers
            items = []
            for raw in re.split(r"(?=[~=])", answers.replace("\n", " ")):
                raw = raw.strip()
                if not raw:
                    continue
                weight = 100.0 if raw[0] == "=" else 0.0
                raw = raw[1:]
                m = re.match(r"^%(-?[0-9.]+)%", raw)
                if m:
                    weight = float(m.group(1))
                    raw = raw[m.end() :]
                answer, _, feedback = raw.partition("#")
                items.append((weight, html_text(answer), html_text(feedback)))
            q["answers"] = items
        elif "=" in answers and "->" in answers:
            q["type"] = "match"
            pairs = []
            for raw in answers.split("=")[1:]:
                stem, arrow, answer = raw.partition("->")
                assert arrow, raw
                pairs.append((html_text(stem), restore(answer)))
            q["pairs"] = pairs
        elif answers.split("#")[0].strip() in ("T", "TRUE", "F", "FALSE"):
            q["type"] = "truefalse"
            parts = answers.split("#")
            q["answer"] = parts[0].strip() in ("T", "TRUE")
            q["wrong_feedback"] = html_text(parts[1]) if len(parts) > 1 else ""
            q["right_feedback"] = html_text(parts[2]) if len(parts) > 2 else ""
        else:
            q["type"] = "shortanswer"
            items = []
            for raw in answers.split("=")[1:]:
                raw = raw.strip()
                m = re.match(r"^%(-?[0-9.]+)%", raw)
                weight = float(m.group(1)) if m else 100.0
                raw = raw[m.end() :] if m else raw
                answer, _, feedback = raw.partition("#")
                items.append((weight, restore(answer), html_text(feedback)))
            q["answers"] = items
        questions.append(q)
    return questions


def plain(html: str) -> str:
    return (
        re.sub(r"<[^>]+>", "", html).replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")
    )


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
    assert plain(signs["answers"][1][2]) == "Not #1."

    many = by["q-many"]
    assert many["type"] == "multichoice" and many["single"] is False
    rights = [a[0] for a in many["answers"] if a[0] > 0]
    assert len(rights) == 3 and round(sum(rights) / 100, 2) == 1
    assert all(abs(a[0]) in MOODLE_GRADES for a in many["answers"])
    assert [plain(a[1]) for a in many["answers"]] == ["A = 1", "B: 2", "C ~ 3", "D # 4", "E } 5"]
    assert "All three." in plain(many["general"]) and "Not all: look again." in plain(
        many["general"]
    )

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


def test_course_links_keep_their_text_and_web_links_stay_links(exported):
    by = {q["name"]: q for q in parse_gift(exported["gift"])}
    right_feedback = by["q-signs"]["answers"][0][2]
    assert plain(right_feedback) == "Yes: {See the lesson or https://example.org/a#b."
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
    assert plain(signs.findtext("incorrectfeedback/text")) == "Not #1."

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
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert "".join(_RESTORE.get(c, c) for c in protected) == expected


def test_multiple_response_weights_stay_in_moodles_grade_list():
    from builder.export import MOODLE_GRADES as GRADES
    from builder.export import _grade

    for n in range(1, 11):
        share = _grade(100 / n)
        assert share in GRADES
        assert round(share * n / 100, 2) == 1
