"""The build refuses a course whose saved learner state could outgrow the LMS's suspend_data.

The bound itself is proven exact in the browser (tests/browser/test_suspend_data.py): every
answer at its largest produces a suspend_data of exactly `worst_case_size` characters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from builder import suspend
from builder.errors import BuildFailed
from builder.model import Course
from builder.pipeline import BuildSettings, build, load_course
from builder.suspend import (
    FILL_IN_MIN_LENGTH,
    LIMITS,
    ScoSize,
    answer_size,
    fill_in_max_length,
    sco_sizes,
    suspend_problems,
    worst_case_size,
)


def reflections_course(root: Path, lengths: list[int], packaging: str = "single") -> Path:
    """A course with one unit per reflection, each reflection with its own max_length."""
    (root / "units").mkdir(parents=True)
    (root / "quizzes").mkdir()
    ids = [f"unit-{n}" for n in range(len(lengths))]
    course = {
        "id": "reflective",
        "title": "Reflective",
        "version": "1.0.0",
        "language": "en",
        "description": "Reflections only.",
        "credits": {"source": "test", "licence": "CC0"},
        "reporting": {"status": "completed/incomplete"},
        "packaging": packaging,
        "units": ids,
    }
    (root / "course.yaml").write_text(yaml.safe_dump(course), encoding="utf-8")
    for n, (uid, length) in enumerate(zip(ids, lengths, strict=True)):
        quiz = {
            "id": f"quiz-{n}",
            "title": "Think",
            "questions": [
                {"id": f"reflect-{n}", "type": "reflection", "prompt": "Why?", "max_length": length}
            ],
        }
        (root / "quizzes" / f"q{n}.yaml").write_text(yaml.safe_dump(quiz), encoding="utf-8")
        front = yaml.safe_dump(
            {
                "id": uid,
                "title": f"Unit {n}",
                "kind": "activity",
                "duration": 5,
                "quiz": f"quizzes/q{n}.yaml",
            }
        )
        (root / "units" / f"{uid}.md").write_text(f"---\n{front}---\n\nText.\n", encoding="utf-8")
    return root


def size_of(folder: Path) -> int:
    return worst_case_size(load_course(folder)[0].units)


def test_a_longer_reflection_costs_exactly_its_extra_characters(tmp_path: Path) -> None:
    short = size_of(reflections_course(tmp_path / "a", [100, 100]))
    longer = size_of(reflections_course(tmp_path / "b", [100, 150]))
    assert longer - short == 50


def test_answer_sizes_grow_with_the_question(tmp_path: Path) -> None:
    course = load_course(Path(__file__).parents[1] / "browser" / "fixtures" / "all-types")[0]
    questions = {q.id: q for u in course.units if u.quiz for q in u.quiz.questions}
    # A reflection's value is its text; a true/false answer one character.
    assert answer_size(questions["think-first"]) == questions["think-first"].max_length
    assert answer_size(questions["as-tf"]) == 1
    fill = questions["as-fill"]
    assert fill_in_max_length(fill) >= FILL_IN_MIN_LENGTH
    assert answer_size(fill) == fill_in_max_length(fill)


def test_saved_state_is_keyed_by_ids_so_longer_ids_cost_their_characters(tmp_path: Path) -> None:
    """Format 2 names units, quizzes and questions by id: each id is stored once."""
    short = size_of(reflections_course(tmp_path / "a", [100]))
    folder = reflections_course(tmp_path / "b", [100])
    for name in ("course.yaml", "units/unit-0.md", "quizzes/q0.yaml"):
        path = folder / name
        text = path.read_text(encoding="utf-8")
        text = text.replace("unit-0", "unit-0-long").replace("reflect-0", "reflect-0-long")
        path.write_text(text.replace("quiz-0", "quiz-0-long"), encoding="utf-8")
    (folder / "units" / "unit-0.md").rename(folder / "units" / "unit-0-long.md")
    # One unit id, one quiz id, one question id: five more characters each.
    assert size_of(folder) - short == 15


def test_module7_fits_scorm12() -> None:
    course = load_course(Path(__file__).parents[2] / "course")[0]
    assert worst_case_size(course.units) <= LIMITS["scorm12"]
    assert suspend_problems(course, "scorm12", "single") == []


def test_a_course_that_fits_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = reflections_course(tmp_path / "c", [1000, 1000, 1000])
    assert size_of(folder) <= LIMITS["scorm12"]
    calls: list[str] = []

    def counted(course: Course, mode: str) -> list[ScoSize]:
        calls.append(mode)
        return sco_sizes(course, mode)

    monkeypatch.setattr(suspend, "sco_sizes", counted)
    result = build(BuildSettings(course_dir=folder, out_dir=tmp_path / "out"))
    assert [o.target for o in result.outputs] == ["scorm12", "scorm2004"]
    # Each package reports its worst SCO (the CLI prints it), worked out once for both.
    assert [o.saved_state and o.saved_state.size for o in result.outputs] == [size_of(folder)] * 2
    assert calls == ["single"]


def test_scorm12_build_fails_with_a_clear_message_when_it_could_overflow(tmp_path: Path) -> None:
    folder = reflections_course(tmp_path / "c", [1000, 1000, 1000, 1500])
    assert size_of(folder) > LIMITS["scorm12"]
    with pytest.raises(BuildFailed) as failed:
        build(BuildSettings(course_dir=folder, out_dir=tmp_path / "out"))
    (diag,) = failed.value.diagnostics
    assert diag.code == "E340"
    assert diag.path.endswith("quizzes/q3.yaml"), "points at the longest reflection's quiz"
    assert "SCORM 1.2" in diag.message and "4,096" in diag.message
    assert f"{size_of(folder):,}" in diag.message
    assert diag.hint and "'reflect-3' (1500)" in diag.hint and "max_length" in diag.hint
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.zip"))


def test_scorm2004_and_one_sco_per_unit_have_room_for_it(tmp_path: Path) -> None:
    folder = reflections_course(tmp_path / "c", [1000, 1000, 1000, 1500])
    course = load_course(folder)[0]
    assert suspend_problems(course, "scorm2004", "single") == []
    # One SCO per unit: each SCO saves only its own unit's answers.
    assert suspend_problems(course, "scorm12", "multi") == []
    result = build(
        BuildSettings(course_dir=folder, out_dir=tmp_path / "out", targets=("scorm2004",))
    )
    assert [o.target for o in result.outputs] == ["scorm2004"]


def test_multi_mode_checks_each_unit_on_its_own(tmp_path: Path) -> None:
    folder = reflections_course(tmp_path / "c", [100, 4000, 100], packaging="multi")
    course = load_course(folder)[0]
    assert suspend_problems(course, "scorm12", "multi") == []
    crowded = reflections_course(tmp_path / "d", [100, 4000, 100], packaging="multi")
    text = (crowded / "quizzes" / "q1.yaml").read_text(encoding="utf-8")
    extra = {"id": "reflect-extra", "type": "reflection", "prompt": "And?", "max_length": 400}
    quiz = yaml.safe_load(text)
    quiz["questions"].append(extra)
    (crowded / "quizzes" / "q1.yaml").write_text(yaml.safe_dump(quiz), encoding="utf-8")
    problems = suspend_problems(load_course(crowded)[0], "scorm12", "multi")
    assert [p.code for p in problems] == ["E340"]
    assert "unit 'unit-1'" in problems[0].message
