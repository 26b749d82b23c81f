"""Errors and warnings that tell a new author what went wrong and what to write instead."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.conftest import edit_text, run_cli, validation_problems


def _append(path: Path, text: str) -> int:
    """Add `text` (which starts with a blank line) to a file; the line where it then starts."""
    old = path.read_text(encoding="utf-8")
    path.write_text(old + text, encoding="utf-8")
    return len(old.splitlines()) + 2


def test_an_unknown_block_is_an_error_that_names_it_and_suggests_ours(minimal_course):
    line = _append(minimal_course / "units" / "rules.md", "\n::: tip\nDrink water.\n:::\n")
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert f"rules.md:{line}:1: error[E327]: unknown block '::: tip'" in proc.stderr
    assert "did you mean '::: note'?" in proc.stderr


def test_a_misspelt_block_name_gets_the_closest_one(minimal_course):
    _append(minimal_course / "units" / "rules.md", "\n::: key-pint\nDrink water.\n:::\n")
    proc = run_cli("validate", str(minimal_course))
    assert "error[E327]: unknown block '::: key-pint'" in proc.stderr
    assert "did you mean '::: key-point'?" in proc.stderr


def test_an_unclosed_block_is_an_error_at_its_opening_line(minimal_course):
    text = "\n::: note\nDrink water.\n\n## Rule three\n"
    line = _append(minimal_course / "units" / "rules.md", text)
    problems = validation_problems(minimal_course)
    assert problems == [
        f"course/units/rules.md:{line}:1: error[E328]: '::: note' is never closed: it takes in the "
        "rest of the unit"
    ]


def test_an_unquoted_colon_gets_a_hint_to_quote_the_value(minimal_course):
    edit_text(
        minimal_course / "course.yaml",
        'title: "Minimal course: water safety"',
        "title: Minimal course: water safety",
    )
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert "course.yaml:2:22: error[E101]: YAML syntax: a colon followed by a space" in proc.stderr
    assert 'hint: put the value in quotes: title: "Minimal course: water safety"' in proc.stderr


def test_a_misspelt_key_in_an_option_gets_did_you_mean_and_no_internal_wording(minimal_course):
    edit_text(
        minimal_course / "quizzes" / "check.yaml",
        "{id: alone, text: Never swim alone, correct: true}",
        "{id: alone, text: Never swim alone, corect: true}",
    )
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert "unknown key 'questions[0].options[0].corect'" in proc.stderr
    assert "did you mean 'correct'?" in proc.stderr
    # The option with the bad key leaves one valid option: not a second, misleading error.
    assert "after validation" not in proc.stderr and "tuple" not in proc.stderr
    assert proc.stderr.count("error[") == 1


def test_pydantic_wording_is_replaced_by_plain_words(minimal_course):
    edit_text(minimal_course / "units" / "rules.md", "duration: 10", "duration: 0")
    edit_text(minimal_course / "course.yaml", "pass_mark: 50", "pass_mark: yes")
    problems = validation_problems(minimal_course)
    assert "duration must be at least 1 (got 0)" in problems[1]
    assert "reporting.pass_mark must be a whole number" in problems[0]
    assert not any("input should" in p or "valid integer" in p for p in problems)


def test_a_figure_without_its_image_warns_and_strict_fails(minimal_course):
    text = "\n::: figure ../media/map.png\nA map.\n:::\n"
    line = _append(minimal_course / "units" / "rules.md", text)
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 0
    assert (
        f"rules.md:{line}:1: warning[W304]: figure '../media/map.png' has no image" in proc.stderr
    )
    assert run_cli("validate", "--strict", str(minimal_course)).returncode == 1
    out = minimal_course.parent / "out"
    proc = run_cli("build", str(minimal_course), "--out", str(out), "--strict")
    assert proc.returncode == 1 and "W304" in proc.stderr
    assert not out.exists() or not list(out.glob("*.zip"))


def test_a_note_for_the_distributor_warns_where_learners_would_see_it(minimal_course):
    edit_text(
        minimal_course / "course.yaml",
        "licence: CC BY 4.0",
        "licence: CC BY 4.0; check the photo rights before publishing",
    )
    line = _append(minimal_course / "units" / "rules.md", "\nTODO: add rule three.\n")
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 0
    assert "course.yaml:13:3: warning[W305]: 'before publishing'" in proc.stderr
    assert f"rules.md:{line}:1: warning[W305]: 'TODO'" in proc.stderr
    assert run_cli("validate", "--strict", str(minimal_course)).returncode == 1


def test_the_same_note_in_facilitator_or_editor_blocks_and_distribution_is_fine(minimal_course):
    _append(
        minimal_course / "units" / "rules.md",
        "\n::: editor\nTODO: add rule three.\n:::\n\n::: facilitator\nTBD: timing.\n:::\n",
    )
    edit_text(
        minimal_course / "course.yaml",
        "  licence: CC BY 4.0",
        "  licence: CC BY 4.0\n  distribution: check the photo rights before publishing",
    )
    proc = run_cli("validate", "--strict", str(minimal_course))
    assert proc.returncode == 0, proc.stderr


def test_an_editor_block_never_leaves_the_source(minimal_course, tmp_path):
    _append(minimal_course / "units" / "rules.md", "\n::: editor\nEDITOR-ONLY-NOTE\n:::\n")
    out = tmp_path / "out"
    proc = run_cli(
        "build", str(minimal_course), "--out", str(out), "--target", "all",
        "--target", "facilitator", "--target", "gift", "--target", "moodle-xml",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    outputs = [p for p in out.iterdir() if p.is_file()]
    assert len(outputs) == 5
    for path in outputs:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                blobs = [zf.read(name) for name in zf.namelist()]
        else:
            blobs = [path.read_bytes()]
        assert all(b"EDITOR-ONLY-NOTE" not in blob for blob in blobs), path.name
    assert b"EDITOR-ONLY-NOTE" in (minimal_course / "units" / "rules.md").read_bytes()


def test_an_error_in_course_yaml_does_not_hide_the_errors_in_the_units(minimal_course):
    edit_text(minimal_course / "course.yaml", 'version: "2.1.0"\n', "")
    line = _append(minimal_course / "units" / "rules.md", "\n::: tip\nDrink water.\n:::\n")
    edit_text(minimal_course / "units" / "practice.md", "duration: 5", "duration: 0")
    problems = validation_problems(minimal_course)
    assert [p.split(": error")[0] for p in problems] == [
        "course/course.yaml:1:1",
        "course/units/practice.md:5:1",
        f"course/units/rules.md:{line}:1",
    ]
    assert "E327" in problems[2]


def test_a_yaml_syntax_error_in_course_yaml_does_not_hide_them_either(minimal_course):
    edit_text(minimal_course / "course.yaml", "language: en", "language: en: fr")
    _append(minimal_course / "units" / "rules.md", "\n::: note\nNever closed.\n")
    codes = [p.split("error[")[1][:4] for p in validation_problems(minimal_course)]
    assert codes == ["E101", "E328"]
