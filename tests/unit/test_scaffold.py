"""`scorm-builder new`: the starter course validates, builds and passes inspection."""

from __future__ import annotations

import zipfile

import pytest
import yaml

from builder.inspector import inspect_package
from builder.scaffold import ScaffoldError, course_id_for, scaffold_course
from tests.conftest import run_cli


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
