"""Property-based tests (hypothesis): what holds for every course, not just the ones we wrote.

- any valid generated course builds into packages whose manifests pass the official schemas
  strictly, whose zips are byte-identical from one build to the next (the rebuild reusing the
  render cache included), and which hold every file their manifest lists, and nothing else;
- no input, however broken, makes the builder crash: it builds, or it reports diagnostics.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from builder import pipeline
from builder.errors import BuildFailed
from builder.model import QUESTION_TYPES
from builder.pipeline import BuildResult, BuildSettings, build, validate
from builder.validate import RESERVED_IDS
from tests.conftest import FIXTURES, generated_course

PNG = (FIXTURES / "minimal" / "media" / "tower.png").read_bytes()
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Author ids of the documented form; the builder's reserved page ids are refused (E206 has its
# own tests), so a valid course never uses them.
ids = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}", fullmatch=True).filter(
    lambda i: i not in RESERVED_IDS
)
# Any printable text, scripts from everywhere included, but no control characters.
words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() and s.strip() not in ("0",))
plain = st.from_regex(r"[A-Za-z][A-Za-z ,.'()-]{0,40}[a-z.]", fullmatch=True)


def q(text: str) -> str:
    """A YAML scalar for any text: a JSON string is a YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


@st.composite
def questions(draw: st.DrawFn, qid: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(QUESTION_TYPES)))
    item: dict[str, Any] = {"id": qid, "type": kind, "prompt": draw(words)}
    if kind in ("single-choice", "multiple-response"):
        n = draw(st.integers(2, 5))
        correct = draw(
            st.sets(st.integers(0, n - 1), min_size=1, max_size=1 if kind == "single-choice" else n)
        )
        item["options"] = [
            {"id": f"o{i}", "text": draw(words), "correct": i in correct} for i in range(n)
        ]
    elif kind == "true-false":
        item["answer"] = draw(st.booleans())
    elif kind == "matching":
        n = draw(st.integers(2, 4))
        item["options"] = [{"id": f"t{i}", "text": draw(words)} for i in range(n)]
        item["prompts"] = [
            {"id": f"p{i}", "text": draw(words), "answer": f"t{draw(st.integers(0, n - 1))}"}
            for i in range(draw(st.integers(1, 4)))
        ]
    elif kind == "fill-in":
        item["answers"] = draw(st.lists(plain, min_size=1, max_size=3))
    elif kind in ("sequencing", "likert"):
        n = draw(st.integers(2, 5))
        field = "steps" if kind == "sequencing" else "scale"
        item[field] = [{"id": f"s{i}", "text": draw(words)} for i in range(n)]
    else:
        item["example"] = draw(words)
    return item


def markdown_body(draw: st.DrawFn, others: list[str], with_image: bool) -> str:
    parts = []
    for i in range(draw(st.integers(1, 4))):
        parts.append(f"## {draw(plain)}\n\n{draw(plain)} *{draw(plain)}* **{draw(plain)}**.")
        if draw(st.booleans()):
            parts.append("\n".join(f"- {draw(plain)}" for _ in range(draw(st.integers(1, 4)))))
        if draw(st.booleans()):
            parts.append(f"A claim.[^n{i}]\n\n[^n{i}]: {draw(plain)}, <https://example.org/{i}>")
    if others:
        parts.append(f"See [the next unit]({draw(st.sampled_from(others))}.md).")
    if with_image:
        parts.append(f"![{draw(plain)}](../media/figure.png)")
    if draw(st.booleans()):
        parts.append(f"::: note\n{draw(plain)}\n:::")
    return "\n\n".join(parts) + "\n"


@st.composite
def courses(draw: st.DrawFn) -> dict[str, bytes]:
    """A valid course as {relative path: bytes}."""
    unit_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    question_ids = iter(draw(st.lists(ids, min_size=12, max_size=12, unique=True)))
    graded = draw(st.booleans())
    files: dict[str, bytes] = {}
    for n, uid in enumerate(unit_ids):
        last = n == len(unit_ids) - 1
        front = [
            f"id: {uid}",
            f"title: {q(draw(words))}",
            f"kind: {draw(st.sampled_from(['presentation', 'activity', 'handout']))}",
            f"duration: {draw(st.integers(1, 240))}",
        ]
        if draw(st.booleans()):
            front.append(f"aim: {q(draw(words) + ' ' + uid)}")
        if last and graded:
            front.append("quiz: quizzes/final.yaml")
            quiz = {
                "id": "final",
                "title": draw(words),
                "questions": [draw(questions(next(question_ids))) for _ in range(3)],
            }
            # The assessment must be gradable: one graded question at least.
            quiz["questions"][0] = {
                "id": next(question_ids),
                "type": "true-false",
                "prompt": draw(words),
                "answer": True,
            }
            files["quizzes/final.yaml"] = json.dumps(quiz, ensure_ascii=False).encode()
        body = markdown_body(draw, unit_ids[n + 1 :], draw(st.booleans()))
        files[f"units/{uid}.md"] = ("---\n" + "\n".join(front) + "\n---\n\n" + body).encode()
    files["media/figure.png"] = PNG
    reporting = (
        f"reporting: {{status: passed/incomplete, pass_mark: {draw(st.integers(0, 100))}, "
        f"assessment: {unit_ids[-1]}}}"
        if graded
        else "reporting: {status: completed/incomplete}"
    )
    files["course.yaml"] = "\n".join(
        [
            f"id: {draw(ids)}",
            f"title: {q(draw(words))}",
            f'version: "{draw(st.integers(1, 9))}.{draw(st.integers(0, 20))}"',
            f"language: {draw(st.sampled_from(['en', 'fr', 'de', 'es', 'pt-BR']))}",
            f"description: {q(draw(words))}",
            f"keywords: {json.dumps(draw(st.lists(words, max_size=3)), ensure_ascii=False)}",
            "credits: {source: generated, licence: CC0}",
            reporting,
            f"packaging: {draw(st.sampled_from(['single', 'multi']))}",
            "units: [" + ", ".join(unit_ids) + "]",
            "",
        ]
    ).encode()
    return files


def write(files: dict[str, bytes], root: Path) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def manifest_files(xml: bytes) -> set[str]:
    """Every file the manifest names: <file href> and resource hrefs."""
    doc = etree.fromstring(xml)
    names = {el.get("href") for el in doc.iter() if etree.QName(el).localname == "file"}
    names |= {
        el.get("href")
        for el in doc.iter()
        if etree.QName(el).localname == "resource" and el.get("href")
    }
    return {posixpath.normpath(n) for n in names if n}


@SETTINGS
@given(files=courses())
def test_any_valid_course_gives_deterministic_complete_packages(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = write(files, Path(tmp) / "course")
        first = build(BuildSettings(course_dir=course, out_dir=Path(tmp) / "a", cache=True))
        # The second build reuses the first one's render cache: it must not change a byte.
        again = build(BuildSettings(course_dir=course, out_dir=Path(tmp) / "a", cache=True))
        fresh = build(BuildSettings(course_dir=course, out_dir=Path(tmp) / "b", cache=False))
        assert [o.target for o in first.outputs] == ["scorm12", "scorm2004"]
        for one, two, three in zip(first.outputs, again.outputs, fresh.outputs, strict=True):
            assert one.path.read_bytes() == two.path.read_bytes() == three.path.read_bytes()
            with zipfile.ZipFile(one.path) as zf:
                names = zf.namelist()
                assert names[0] == "imsmanifest.xml"
                xml = zf.read("imsmanifest.xml")
                listed = manifest_files(xml)
                assert listed == set(names) - {"imsmanifest.xml"}
                assert zf.testzip() is None


@SETTINGS
@given(files=courses())
def test_any_valid_course_gives_schema_valid_manifests(
    files: dict[str, bytes], assert_schema_valid: Callable[[bytes, str], None]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = write(files, Path(tmp) / "course")
        for one in build(BuildSettings(course_dir=course, out_dir=Path(tmp) / "a")).outputs:
            with zipfile.ZipFile(one.path) as zf:
                assert_schema_valid(zf.read("imsmanifest.xml"), f"{one.target}/imsmanifest.xml")


@SETTINGS
@given(files=courses(), body=st.text(max_size=400), where=st.sampled_from(["unit", "course"]))
def test_no_text_makes_the_builder_crash(files: dict[str, bytes], body: str, where: str) -> None:
    """Any Markdown body, or any course.yaml text: a result or diagnostics, never an exception."""
    with tempfile.TemporaryDirectory() as tmp:
        course = write(files, Path(tmp) / "course")
        if where == "unit":
            unit = next(course.glob("units/*.md"))
            head = unit.read_text(encoding="utf-8").split("---\n\n", 1)[0]
            unit.write_text(head + "---\n\n" + body, encoding="utf-8")
        else:
            (course / "course.yaml").write_text(body, encoding="utf-8")
        try:
            validate(course)
        except BuildFailed as failed:
            assert failed.diagnostics
            assert all(d.line >= 1 and d.code[0] in "EW" for d in failed.diagnostics)


@SETTINGS
@given(data=st.binary(max_size=300))
def test_no_bytes_make_the_reader_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = write({"course.yaml": data, "units/u.md": b"---\n" + data}, Path(tmp) / "c")
        with pytest.raises(BuildFailed):
            validate(course)


def _zips(result: BuildResult) -> list[bytes]:
    return [o.path.read_bytes() for o in result.outputs]


def test_cached_rebuilds_give_the_bytes_of_a_cold_build(tmp_path: Path) -> None:
    course = generated_course(tmp_path, 30)
    size = sum(p.stat().st_size for p in course.glob("units/*.md"))
    assert size >= pipeline.CACHE_MIN_CHARS  # this course keeps a cache unasked
    warm = tmp_path / "warm"
    first = _zips(build(BuildSettings(course_dir=course, out_dir=warm)))
    assert (warm / ".cache" / "CACHEDIR.TAG").is_file()
    assert _zips(build(BuildSettings(course_dir=course, out_dir=warm))) == first

    # Edit one session: the cached rebuild must equal a cold build of the new text.
    unit = course / "units" / "session-7.md"
    unit.write_text(unit.read_text(encoding="utf-8") + "\nOne more *paragraph*.\n", "utf-8")
    rebuilt = _zips(build(BuildSettings(course_dir=course, out_dir=warm)))
    cold = _zips(build(BuildSettings(course_dir=course, out_dir=tmp_path / "cold", cache=False)))
    assert rebuilt == cold != first


# Any text at all, control characters, lone surrogates and private-use characters included:
# written into YAML as JSON escapes ("\u0001", "\ud800"), which YAML reads back as those characters.
any_text = st.text(max_size=40)
# File names as a file system can hold them (no '/', no NUL, no surrogates; at most 255 bytes).
file_names = st.text(
    st.characters(codec="utf-8", exclude_characters="/\0", exclude_categories=("Cs",)),
    min_size=1,
    max_size=30,
).filter(lambda s: s not in (".", "..") and len(s.encode()) <= 200)


def _ids_are_unique(html: str) -> bool:
    found = re.findall(r'\sid="([^"]*)"', html)
    return len(found) == len(set(found))


@SETTINGS
@given(
    files=courses(),
    uid=st.one_of(ids, any_text),
    title=any_text,
    unit_name=file_names,
    media_name=file_names,
)
def test_any_ids_titles_and_file_names_give_packages_or_diagnostics(
    files: dict[str, bytes], uid: str, title: str, unit_name: str, media_name: str
) -> None:
    """An id, a title, a unit file name and a media file name of any Unicode: the build gives
    packages (with well-formed manifests and no id twice on a page) or diagnostics, never a
    traceback."""
    with tempfile.TemporaryDirectory() as tmp:
        course = write(files, Path(tmp) / "course")
        unit = sorted(course.glob("units/*.md"))[0]
        old_id = unit.stem
        front, body = unit.read_text(encoding="utf-8").split("\n---\n", 1)
        front = re.sub(r"(?m)^id: .*$", lambda _: f"id: {json.dumps(uid)}", front)
        front = re.sub(r"(?m)^title: .*$", lambda _: f"title: {json.dumps(title)}", front)
        body += f"\n\n![A figure](<../media/{media_name}>)\n"
        unit.unlink()
        (course / "units" / f"{unit_name}.md").write_text(
            front + "\n---\n" + body, encoding="utf-8"
        )
        (course / "media" / media_name).write_bytes(PNG)
        course_yaml = (course / "course.yaml").read_text(encoding="utf-8")
        course_yaml = re.sub(
            r"(?m)^units: \[(.*)\]$",
            lambda m: (
                "units: " + json.dumps([uid if u == old_id else u for u in m.group(1).split(", ")])
            ),
            course_yaml,
        )
        (course / "course.yaml").write_text(course_yaml, encoding="utf-8")
        try:
            result = build(BuildSettings(course_dir=course, out_dir=Path(tmp) / "out"))
        except BuildFailed as failed:
            assert failed.diagnostics
            assert all(
                d.line >= 1 and re.fullmatch(r"[EW]\d{3}", d.code) for d in failed.diagnostics
            )
            return
        for output in result.outputs:
            with zipfile.ZipFile(output.path) as zf:
                etree.fromstring(zf.read("imsmanifest.xml"))
                for name in zf.namelist():
                    if name.endswith(".html"):
                        assert _ids_are_unique(zf.read(name).decode()), name
