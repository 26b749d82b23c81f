"""`scorm-builder new`: the starter course validates, builds and passes inspection."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.inspector import inspect_package
from builder.pipeline import validate
from builder.scaffold import ScaffoldError, course_id_for, scaffold_course
from tests.conftest import REPO, cli_command, run_cli


def test_new_course_validates_builds_and_passes_inspection(tmp_path):
    proc = run_cli("new", "starter", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "scorm-builder preview starter" in proc.stdout
    course = tmp_path / "starter"
    proc = run_cli("validate", "--strict", str(course))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "dist"
    proc = run_cli(
        "build", str(course), "--out", str(out), "--strict",
        "--target", "all", "--target", "gift", "--target", "moodle-xml",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "starter-questions.gift.txt",
        "starter-questions.moodle.xml",
        "starter-scorm12.zip",
        "starter-scorm2004.zip",
    ]
    for target in ("scorm12", "scorm2004"):
        report = inspect_package(out / f"starter-{target}.zip")
        assert report.ok(strict=True), [str(f) for f in report.findings]
        html = zipfile.ZipFile(out / f"starter-{target}.zip").read("index.html").decode()
        # One presentation, one activity with a reflection, one quiz.
        assert 'data-type="reflection"' in html and 'data-type="single-choice"' in html
    assert "check-order" in (out / "starter-questions.gift.txt").read_text()


def test_the_starter_manifests_are_schema_valid(tmp_path, assert_schema_valid):
    scaffold_course(tmp_path / "starter")
    out = tmp_path / "dist"
    proc = run_cli("build", str(tmp_path / "starter"), "--out", str(out), "--target", "all")
    assert proc.returncode == 0, proc.stderr
    for target in ("scorm12", "scorm2004"):
        with zipfile.ZipFile(out / f"starter-{target}.zip") as zf:
            assert_schema_valid(zf.read("imsmanifest.xml"), f"starter-{target}")


def test_the_starter_has_one_unit_of_each_kind_it_promises(tmp_path):
    scaffold_course(tmp_path / "c")
    kinds = []
    for unit in sorted((tmp_path / "c" / "units").glob("*.md")):
        front = unit.read_text().split("---")[1]
        kinds.append(yaml.safe_load(front)["kind"])
    assert sorted(kinds) == ["activity", "assessment", "presentation"]
    assert (tmp_path / "c" / "media").is_dir()


def test_id_title_and_language_options(tmp_path):
    title = 'Fire safety: "the basics" #1'
    files = scaffold_course(tmp_path / "x", course_id="fire-101", title=title, language="fr")
    assert len(files) == 6
    data = yaml.safe_load((tmp_path / "x" / "course.yaml").read_text())
    assert (data["id"], data["title"], data["language"]) == ("fire-101", title, "fr")
    proc = run_cli("validate", str(tmp_path / "x"))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("My Course 2", "my-course-2"), ("2024 intro", "course-2024-intro"), ("___", "course")],
)
def test_course_id_from_the_folder_name(tmp_path, folder, expected):
    assert course_id_for(tmp_path / folder) == expected


def test_refuses_a_non_empty_folder_and_bad_values(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    proc = run_cli("new", str(tmp_path / "full"))
    assert proc.returncode == 2 and "not an empty folder" in proc.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["keep.txt"]
    with pytest.raises(ScaffoldError):
        scaffold_course(tmp_path / "a", course_id="Bad Id")
    with pytest.raises(ScaffoldError):
        scaffold_course(tmp_path / "b", language="english")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # An empty folder is fine, and nothing is left beside it.
    (tmp_path / "empty").mkdir()
    scaffold_course(tmp_path / "empty")
    assert (tmp_path / "empty" / "course.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "full"]


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Clear\x1b[2Jscreen", "character 6 is U+001B"),
        ("Two\nlines", "character 4 is U+000A"),
        ("Tab\there", "U+0009"),
        ("Bell\x07", "U+0007"),
        ("Null\x00", "U+0000"),
        ("Line\u2028separator", "U+2028"),
        ("Right\u202eto left", "U+202E"),
        ("Isolate\u2066d", "U+2066"),
        ("Private\ue000use", "U+E000"),
        ("Not\ufffea character", "U+FFFE"),
        ("C1\x9bcontrol", "U+009B"),
        ("caf\udce9", "not UTF-8"),  # b'caf\xe9' (Latin-1) read from the command line
        ("   ", "1 to 255 characters"),
        ("x" * 256, "1 to 255 characters"),
    ],
)
def test_titles_that_cannot_be_a_title_are_refused(tmp_path, title, words):
    with pytest.raises(ScaffoldError, match=re.escape(words)):
        scaffold_course(tmp_path / "c", title=title)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "title", ["caf\udce9", "Clear\x1b[2Jscreen", "Right\u202eto left", "Two\nlines"]
)
def test_new_refuses_such_titles_from_the_command_line(tmp_path, title):
    # Surrogates become the original bytes on the way to the process (b'caf\xe9').
    proc = run_cli("new", str(tmp_path / "c"), "--title", title)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: the title") and "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [("--id", "fire-101\n"), ("--id", "fire\x1b-101"), ("--language", "en\n"), ("--id", "é")],
)
def test_new_refuses_ids_and_languages_with_a_line_break_or_control(tmp_path, option, value):
    proc = run_cli("new", str(tmp_path / "c"), option, value)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stderr and "\n" not in proc.stderr.rstrip("\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "title",
    [
        "Sécurité – niveau 1",
        "Sécurité\u00a0: niveau\u202f2",  # French spacing: no-break spaces
        "水の安全",
        "Safety 👩\u200d🚒 first",  # an emoji joined with a zero-width joiner
        "می\u200cخواهم",  # Persian needs the zero-width non-joiner
        "Soft\xadhyphen",
        'a: b # c, "quoted" \\ {braces} [list] & *star !tag |pipe >fold %',
    ],
)
def test_titles_in_any_script_and_with_yaml_signs_are_kept(tmp_path, title):
    scaffold_course(tmp_path / "c", title=title)
    assert yaml.safe_load((tmp_path / "c" / "course.yaml").read_text())["title"] == title
    proc = run_cli("validate", "--strict", str(tmp_path / "c"))
    assert proc.returncode == 0, proc.stderr


def test_a_folder_name_that_is_not_utf8_still_gives_a_course(tmp_path):
    folder = os.fsencode(tmp_path) + b"/cours-\xe9t\xe9"  # a Latin-1 folder name
    proc = subprocess.run(cli_command("new", os.fsdecode(folder)), capture_output=True, cwd=REPO)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert b"created " + folder in proc.stdout  # the name as given, byte for byte
    [made] = list(tmp_path.iterdir())
    data = yaml.safe_load((made / "course.yaml").read_text(encoding="utf-8"))
    assert data["id"] == "cours-t" and data["title"] == "Cours t"


# Any text at all, lone surrogates (from bytes that were not UTF-8) included.
any_text = st.text(
    st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from([chr(c) for c in range(0xDC80, 0xDD00)]),
    ),
    min_size=1,  # an empty title means "from the id"
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(title=any_text)
def test_any_title_gives_a_valid_course_or_a_usage_error(title):
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "c"
        try:
            scaffold_course(dest, title=title)
        except ScaffoldError as exc:
            assert str(exc).startswith("the title")
            assert list(Path(tmp).iterdir()) == []
            return
        data = yaml.safe_load((dest / "course.yaml").read_text(encoding="utf-8"))
        assert data["title"] == title.strip()
        validate(dest, "c")  # raises BuildFailed if the course is not valid
