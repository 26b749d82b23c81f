"""The facilitator's edition: one printable HTML file, written only for a sound course."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.errors import BuildFailed
from builder.facilitator import clock, schedule
from builder.pipeline import BuildSettings, build, load_course
from tests.conftest import REPO, edit_text, run_cli

GUIDE = "minimal-course-facilitator.html"


def run_build(course: Path, out: Path, *targets: str, strict: bool = False) -> None:
    build(BuildSettings(course_dir=course, out_dir=out, targets=targets, strict=strict))


def guide_of(out: Path) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((out / GUIDE).read_bytes())


def test_guide_has_the_facilitator_material_the_learner_package_leaves_out(
    minimal_course, tmp_path
):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "scorm2004", "facilitator")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        GUIDE,
        "minimal-course-scorm2004.zip",
    ]
    learner = zipfile.ZipFile(out / "minimal-course-scorm2004.zip").read("index.html").decode()
    guide = (out / GUIDE).read_text(encoding="utf-8")
    assert "SECRET-FACILITATOR-NOTE" not in learner
    assert "SECRET-FACILITATOR-NOTE" in guide
    # The revealed example is visible in print, and the reflection's example answer is there.
    assert "Most people forget rule two." in guide
    assert "Rule two, because signs are easy to miss." in guide


def test_units_in_order_with_kind_duration_and_aim(minimal_course, tmp_path):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    doc = guide_of(out)
    parsed, _ = load_course(minimal_course)
    sections = doc.xpath('//section[contains(@class, "guide-unit")][@id != "overview"]')
    assert [s.get("id") for s in sections] == [u.id for u in parsed.units]
    for section, unit in zip(sections, parsed.units, strict=True):
        meta = section.xpath('./p[@class="unit-kind"]')[0].text_content()
        assert f"{unit.duration} min" in meta
        if unit.aim:
            assert unit.aim in section.text_content()


def test_answer_keys_mark_every_right_answer(minimal_course, tmp_path):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    doc = guide_of(out)
    parsed, _ = load_course(minimal_course)
    [check] = [u for u in parsed.units if u.id == "check"]
    assert check.quiz is not None
    key = doc.xpath('//section[@id="check"]//div[@class="answer-key"]')[0]
    marked = [li.text_content() for li in key.xpath('.//li[@class="key-correct"]')]
    for q in check.quiz.questions:
        for option in getattr(q, "options", ()):
            if getattr(option, "correct", False):
                assert any(option.text in m for m in marked), option.text
    matching = key.xpath('.//table[@class="key-matching"]//tr[td]')
    assert [[c.text_content() for c in tr.xpath("./th|./td")][:2] for tr in matching] == [
        ["Never swim alone", "Rule one"],
        ["Read the signs", "Rule two"],
    ]
    # The feedback link back to the passage points at an anchor of the same file.
    hrefs = key.xpath(".//a/@href")
    assert "#rules--rule-one" in hrefs and doc.xpath('//*[@id="rules--rule-one"]')


def test_one_printable_file_with_no_outside_files(minimal_course, tmp_path):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    text = (out / GUIDE).read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    assert "@media print" in text and "break-before: page" in text
    assert not doc.xpath('//link[@rel="stylesheet"]') and not doc.xpath("//script")
    # Every in-page link lands on an element of the guide.
    ids = set(doc.xpath("//@id"))
    assert {h[1:] for h in doc.xpath('//a[starts-with(@href, "#")]/@href')} <= ids


def test_running_order_gives_sessions_clock_times_but_not_handouts():
    course, _ = load_course(REPO / "course")
    slots = schedule(course)
    timed = [s for s in slots if s.start is not None]
    assert [s.unit.kind for s in timed] == [
        u.kind for u in course.units if u.kind in ("presentation", "activity")
    ]
    assert timed[0].start == 0
    for before, after in itertools.pairwise(timed):
        assert after.start == before.end == before.start + before.unit.duration
    assert all(s.start is None for s in slots if s.unit.kind in ("handout", "assessment"))
    assert clock(0) == "0:00" and clock(185) == "3:05"


def test_not_written_when_the_course_has_errors(minimal_course, tmp_path):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    before = (out / GUIDE).read_bytes()
    unit = minimal_course / "units" / "practice.md"
    unit.write_text(unit.read_text().replace("Give the group", "See [the rules](nowhere.md). Give"))
    with pytest.raises(BuildFailed) as info:
        run_build(minimal_course, out, "facilitator")
    # The broken link is inside facilitator-only material: it still stops the build.
    assert [d.code for d in info.value.diagnostics] == ["E322"]
    assert (out / GUIDE).read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_not_written_with_strict_and_a_warning(minimal_course, tmp_path):
    out = tmp_path / "dist"
    (minimal_course / "units" / "extra.md").write_text(
        "---\nid: extra\ntitle: Extra\nkind: handout\nduration: 1\n---\n\nText.\n"
    )
    with pytest.raises(BuildFailed):
        run_build(minimal_course, out, "facilitator", strict=True)
    assert not (out / GUIDE).exists()


def test_a_failed_write_keeps_the_old_guide_and_leaves_no_temporary_file(
    minimal_course, tmp_path, monkeypatch
):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    before = (out / GUIDE).read_bytes()
    (minimal_course / "units" / "rules.md").write_text(
        (minimal_course / "units" / "rules.md")
        .read_text()
        .replace("Never swim alone.", "Never swim.")
    )

    real_replace = os.replace
    attempts: list[str] = []

    def refuse_the_guide(src: str, dst: str) -> None:
        if str(dst).endswith(GUIDE):
            attempts.append(str(src))
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_the_guide)
    with pytest.raises(OSError, match="disk full"):
        run_build(minimal_course, out, "facilitator")
    # The new guide was written to a temporary file beside the old one, then cleaned up.
    assert len(attempts) == 1 and Path(attempts[0]).parent == out
    assert (out / GUIDE).read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".cache")) == [GUIDE]


def test_cli_target_facilitator_and_all_means_the_two_scorm_packages(minimal_course, tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("build", str(minimal_course), *args)

    only = tmp_path / "only"
    proc = cli("--target", "facilitator", "--out", str(only))
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in only.iterdir() if not p.name.startswith(".")] == [GUIDE]
    assert "facilitator" in proc.stdout
    every = tmp_path / "all"
    proc = cli("--target", "all", "--out", str(every))
    assert proc.returncode == 0, proc.stderr
    assert GUIDE not in [p.name for p in every.iterdir()]


def test_a_problem_only_in_facilitator_material_fails_the_guide_but_not_the_packages(
    minimal_course, tmp_path
):
    unit = minimal_course / "units" / "practice.md"
    edit_text(unit, "Give the group", "Read [the next unit](missing.md). Give the group")
    [line] = [n for n, text in enumerate(unit.read_text().splitlines(), 1) if "missing.md" in text]
    where = f"course/units/practice.md:{line}:"

    def reported(stderr: str) -> bool:
        return any(
            text.startswith(where)
            and text.endswith("error[E322]: link target 'missing.md' not found")
            for text in stderr.splitlines()
        )

    # The learner packages leave facilitator material out, so nothing in them is wrong.
    proc = run_cli("build", "course", "--out", "learner", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "learner").iterdir()) == [
        "minimal-course-scorm12.zip",
        "minimal-course-scorm2004.zip",
    ]
    # The guide prints that material: the problem stops it, located in its source file.
    proc = run_cli("build", "course", "--target", "facilitator", "--out", "guide", cwd=tmp_path)
    assert proc.returncode == 1
    assert reported(proc.stderr), proc.stderr
    assert not (tmp_path / "guide" / GUIDE).exists()
    # validate checks the facilitator material too.
    proc = run_cli("validate", "course", cwd=tmp_path)
    assert proc.returncode == 1
    assert reported(proc.stderr), proc.stderr


def _print_rules(css: str) -> str:
    """The guide's rules for paper: @page and the print media block, without comments."""
    return re.sub(r"/\*.*?\*/", "", css[css.index("@page") :], flags=re.DOTALL)


def test_printed_pages_carry_a_running_header_and_page_numbers(minimal_course, tmp_path):
    edit_text(
        minimal_course / "course.yaml",
        'title: "Minimal course: water safety"',
        'title: "Water </style><script>alert(1)</script> \\"safety\\""',
    )
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    text = (out / GUIDE).read_text(encoding="utf-8")
    doc = lxml_html.fromstring(text)
    assert not doc.xpath("//script")  # the title cannot close the style element
    [style] = doc.xpath("//style/text()")
    assert "counter(page)" in style and "counter(pages)" in style
    header = style[style.index('@top-left { content: "') :].split(";")[0]
    assert header.startswith('@top-left { content: "Water \\3c \\2f style\\3e \\3c script\\3e')
    assert "Facilitator's guide" in header
    assert "@page :first" in style  # no header or number on the cover


def test_print_rules_keep_only_short_blocks_unbroken(minimal_course, tmp_path):
    out = tmp_path / "dist"
    run_build(minimal_course, out, "facilitator")
    style = lxml_html.fromstring((out / GUIDE).read_bytes()).xpath("//style/text()")[0]
    unbroken: list[str] = []
    for rule in _print_rules(style).split("}"):
        if "break-inside: avoid" in rule:
            unbroken += [s.strip() for s in rule.split("{")[-2].split(",")]
    # A long block that may not break is pushed whole to the next page: a near-empty page.
    for long_block in (".callout", "table", ".key-question", "blockquote", ".answer-key"):
        assert long_block not in unbroken
    # A chart learners see after answering prints in place, under its label.
    assert ".reveal:has(> .chart)" in unbroken


def test_cover_and_running_order_agree_on_the_workshop_and_explain_the_rest(tmp_path):
    build(BuildSettings(REPO / "course", tmp_path, targets=("facilitator",)))
    [path] = tmp_path.glob("*-facilitator.html")
    doc = lxml_html.fromstring(path.read_bytes())
    cover = " ".join(doc.xpath('//header[@class="guide-cover"]')[0].text_content().split())
    course, _ = load_course(REPO / "course")
    workshop = sum(u.duration for u in course.units if u.kind in ("presentation", "activity"))
    assert (workshop, course.duration) == (180, 220)
    assert f"Workshop: {workshop} minutes" in cover
    assert f"Total learning time: {course.duration} minutes" in cover
    total = doc.xpath('//table[@class="schedule"]/tfoot')[0].text_content()
    assert f"{workshop} min" in total
    note = " ".join(doc.xpath('//p[contains(@class, "timing-note")]')[0].text_content().split())
    assert f"{workshop} minutes" in note and f"({course.duration - workshop} minutes)" in note
    assert f"{course.duration} minutes in all" in note
