"""What the pages give the runtime: course data, strings, markup hooks, scripts and policy."""

from __future__ import annotations

import json
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from builder.i18n import catalogue
from builder.markdown import LinkError
from builder.pipeline import load_course
from builder.render import (
    ASSET_DIR,
    RUNTIME_FILES,
    render_pages,
    render_units,
    runtime_dir,
    static_files,
)

ALL_TYPES = Path(__file__).parents[1] / "browser" / "fixtures" / "all-types"


def pages(course_dir: Path, target: str, mode: str) -> dict[str, Any]:
    """path -> parsed HTML of every page of one package."""
    course, _ = load_course(course_dir)
    rendered = render_units(course, course_dir, "learner", mode)  # type: ignore[arg-type]
    return {
        p.path: lxml_html.fromstring(p.content)
        for p in render_pages(rendered, target, mode)  # type: ignore[arg-type]
    }


def json_block(doc: Any, block_id: str) -> Any:
    (script,) = doc.xpath(f'//script[@id="{block_id}"]')
    assert script.get("type") == "application/json"
    return json.loads(script.text)


def test_course_data_cannot_end_its_script_block(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(ALL_TYPES, course)
    hostile = "Ends </script><script>alert(1)</script> & <!-- here"
    unit = course / "units" / "practice.md"
    unit.write_text(
        unit.read_text(encoding="utf-8").replace("title: Practice", f'title: "{hostile}"'),
        encoding="utf-8",
    )
    for doc in pages(course, "scorm2004", "single").values():
        scripts = doc.xpath("//script")
        assert [s.get("src") or s.get("type") for s in scripts] == [
            *(f"{ASSET_DIR}/{name}" for name in RUNTIME_FILES),
            "application/json",
            "application/json",
        ]
        data = json_block(doc, "course-data")
        assert hostile in [u["title"] for u in data["units"]]


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_pages_load_only_package_scripts_under_a_strict_policy(mode: str) -> None:
    for path, doc in pages(ALL_TYPES, "scorm12", mode).items():
        head = doc.find("head")
        first = head[1]  # right after <meta charset>: the policy covers everything loaded
        assert first.get("http-equiv") == "Content-Security-Policy", path
        policy = first.get("content")
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe" not in policy
        blocks = doc.xpath("//script[not(@src)]")
        assert [s.get("type") for s in blocks] == ["application/json"] * 2, path
        assert doc.xpath("//*[@style] | //style") == [], path
        assert [s.get("src") for s in doc.xpath("//script[@src]")] == [
            f"{ASSET_DIR}/{name}" for name in RUNTIME_FILES
        ]


def test_every_runtime_file_is_shipped() -> None:
    shipped = {f.path: f.source for f in static_files()}
    for name in RUNTIME_FILES:
        assert shipped[f"{ASSET_DIR}/{name}"] == runtime_dir() / name
        assert (runtime_dir() / name).is_file()


def runtime_string_keys() -> set[str]:
    """Every interface string the course UI script looks up."""
    source = (runtime_dir() / "course-ui.js").read_text(encoding="utf-8")
    keys = set(re.findall(r'\bT\["([^"]+)"\]', source))
    keys |= set(re.findall(r"\bT\.([a-zA-Z]+)\b", source))
    keys |= set(re.findall(r'\bfmt\("([^"]+)"', source))
    if 'T["status." +' in source:  # a unit's status, looked up by name
        keys |= {f"status.{s}" for s in STATUSES}
    notices = re.search(r"var NOTICES = \{(.*?)\};", source, re.DOTALL)
    assert notices
    keys |= set(re.findall(r':\s*"([^"]+)"', notices.group(1)))
    return keys


STATUSES = ("not-started", "in-progress", "completed", "passed", "failed")


def test_the_page_carries_every_string_the_runtime_uses() -> None:
    keys = runtime_string_keys()
    assert {"lms.error", "standalone", "result.score", "status.passed"} <= keys
    english = catalogue("en")
    for doc in pages(ALL_TYPES, "scorm2004", "multi").values():
        strings = json_block(doc, "course-strings")
        assert keys <= set(strings), keys - set(strings)
        assert all(strings[k] == english[k] for k in keys)


def test_quiz_markup_matches_the_course_data() -> None:
    doc = pages(ALL_TYPES, "scorm2004", "single")["index.html"]
    data = json_block(doc, "course-data")
    questions = [q for u in data["units"] if u["quiz"] for q in u["quiz"]["questions"]]
    assert len(questions) == 10
    for q in questions:
        (box,) = doc.xpath(f'//*[@id="q--{q["id"]}"]')
        assert box.get("data-question") == q["id"] and box.get("data-type") == q["type"]
        if q["type"] in ("fill-in", "reflection"):
            (field,) = box.xpath(".//input | .//textarea")
            # The page enforces the same limit the runtime and the suspend_data bound use.
            assert int(field.get("maxlength")) == q["maxLength"]
        if q["type"] == "matching":
            selects = box.xpath(".//select/@data-prompt")
            assert selects == q["prompts"]


def test_one_sco_per_unit_pages_know_their_neighbours() -> None:
    docs = pages(ALL_TYPES, "scorm2004", "multi")
    assert sorted(docs) == ["assessment.html", "index.html", "practice.html", "reading.html"]

    def hrefs(doc: Any) -> dict[str, str]:
        return {
            attr: doc.xpath(f"//button[@{attr}]/@data-href")[0]
            for attr in ("data-prev", "data-next", "data-start")
            if doc.xpath(f"//button[@{attr}]/@data-href")
        }

    assert hrefs(docs["index.html"]) == {"data-start": "reading.html"}
    assert hrefs(docs["reading.html"]) == {"data-prev": "index.html", "data-next": "practice.html"}
    assert hrefs(docs["assessment.html"]) == {"data-prev": "practice.html"}
    # Each unit page carries only its own unit; the home page none.
    assert json_block(docs["index.html"], "course-data")["units"] == []
    assert [u["id"] for u in json_block(docs["practice.html"], "course-data")["units"]] == [
        "practice"
    ]


def test_markdown_error_messages_survive_pickling() -> None:
    # A second process renders units and sends their diagnostics back pickled.
    err = LinkError("E350", "link 'x' leads outside the course folder")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(err, protocol))
        assert isinstance(back, LinkError), protocol
        assert str(back) == "link 'x' leads outside the course folder", protocol
        assert back.code == "E350", protocol
