"""What the pages give the runtime: course data, strings, markup hooks, scripts and policy."""

from __future__ import annotations

import gzip
import json
import pickle
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from builder.i18n import catalogue
from builder.markdown import LinkError
from builder.pipeline import BuildSettings, build, load_course
from builder.render import (
    ASSET_DIR,
    PACKAGE_SCRIPT,
    RUNTIME_FILES,
    minify,
    render_pages,
    render_units,
    runtime_dir,
    shipped,
    static_files,
    templates_dir,
)
from tests.conftest import REPO

ALL_TYPES = Path(__file__).parents[1] / "browser" / "fixtures" / "all-types"
MODULE7 = REPO / "course"
#: Every script a page loads, in order: the package's own data, then the runtime.
SCRIPTS = [f"{ASSET_DIR}/{name}" for name in (PACKAGE_SCRIPT, *RUNTIME_FILES)]


def pages(course_dir: Path, mode: str) -> dict[str, Any]:
    """path -> parsed HTML of every page of a package (the same in both SCORM versions')."""
    course, _ = load_course(course_dir)
    rendered = render_units(course, course_dir, "learner", mode)  # type: ignore[arg-type]
    return {
        p.path: lxml_html.fromstring(p.content)
        for p in render_pages(rendered, mode)  # type: ignore[arg-type]
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
    for doc in pages(course, "single").values():
        scripts = doc.xpath("//script")
        assert [s.get("src") or s.get("type") for s in scripts] == [*SCRIPTS, "application/json"]
        data = json_block(doc, "course-data")
        assert hostile in [u["title"] for u in data["units"]]


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_pages_load_only_package_scripts_under_a_strict_policy(mode: str) -> None:
    for path, doc in pages(ALL_TYPES, mode).items():
        head = doc.find("head")
        first = head[1]  # right after <meta charset>: the policy covers everything loaded
        assert first.get("http-equiv") == "Content-Security-Policy", path
        policy = first.get("content")
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe" not in policy
        blocks = doc.xpath("//script[not(@src)]")
        assert [s.get("type") for s in blocks] == ["application/json"], path
        assert doc.xpath("//*[@style] | //style") == [], path
        assert [s.get("src") for s in doc.xpath("//script[@src]")] == SCRIPTS
        assert all(s.get("defer") is not None for s in doc.xpath("//script[@src]")), path


def test_every_runtime_file_is_shipped() -> None:
    sources = {f.path: f.source for f in static_files()}
    for name in RUNTIME_FILES:
        assert sources[f"{ASSET_DIR}/{name}"] == runtime_dir() / name
        assert (runtime_dir() / name).is_file()


def test_packages_carry_the_scripts_and_stylesheets_minified(tmp_path: Path) -> None:
    files = package_files(MODULE7, tmp_path, "multi")["scorm2004"]
    saved = 0
    for f in static_files():
        source = f.source.read_bytes()
        packed = files[f.path]
        assert packed == shipped(f.source), f.path
        assert b"\n  " not in packed and b"/* " not in packed, f.path  # no indents, no comments
        saved += len(gzip.compress(source)) - len(gzip.compress(packed))
    assert saved > 6_000  # bytes a learner no longer downloads, compressed


def test_minifying_keeps_licence_comments_and_meaning() -> None:
    js = "/*! keep me */\n// a comment\nvar a = 1 ;\n/* gone */\nvar re = /[/]\\//g;\n"
    assert minify(js, ".js") == "/*! keep me */var a=1;var re=/[/]\\//g;"
    css = "/*! licence */\n/* note */\n.a  >  .b {\n  color : red ;\n}\n"
    assert minify(css, ".css") == "/*! licence */.a>.b{color:red}"
    with pytest.raises(ValueError, match="html"):
        minify("<p>", ".html")
    # Made once per file version, and the same on every run: packages stay byte-identical.
    theme = templates_dir() / "static" / "theme.css"
    assert shipped(theme) is shipped(theme)
    assert shipped(theme) == minify(theme.read_text(encoding="utf-8"), ".css").encode()


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


def package_files(course_dir: Path, out: Path, mode: str) -> dict[str, dict[str, bytes]]:
    """target -> name -> bytes of every file of both SCORM packages of a course."""
    result = build(BuildSettings(course_dir, out, mode=mode))  # type: ignore[arg-type]
    files = {}
    for output in result.outputs:
        with zipfile.ZipFile(output.path) as zf:
            files[output.target] = {name: zf.read(name) for name in zf.namelist()}
    return files


def package_data(script: bytes) -> Any:
    """The value PACKAGE_SCRIPT gives the runtime."""
    prefix, suffix = b"window.scormBuilderPackage = ", b";\n"
    assert script.startswith(prefix) and script.endswith(suffix)
    return json.loads(script[len(prefix) : -len(suffix)])


def test_the_package_script_carries_every_string_the_runtime_uses(tmp_path: Path) -> None:
    keys = runtime_string_keys()
    assert {"lms.error", "standalone", "result.score", "status.passed"} <= keys
    english = catalogue("en")
    files = package_files(ALL_TYPES, tmp_path, "multi")
    for target, version in (("scorm12", "1.2"), ("scorm2004", "2004")):
        data = package_data(files[target][f"{ASSET_DIR}/{PACKAGE_SCRIPT}"])
        assert data["scorm"] == version
        strings = data["strings"]
        assert keys <= set(strings), keys - set(strings)
        assert all(strings[k] == english[k] for k in keys)


@pytest.mark.parametrize("mode", ["single", "multi"])
@pytest.mark.parametrize("course_dir", [MODULE7, ALL_TYPES], ids=["module7", "all-types"])
def test_pages_are_the_same_in_both_scorm_versions(
    tmp_path: Path, course_dir: Path, mode: str
) -> None:
    """The version is in the package's script alone: a page can be made once for both."""
    files = package_files(course_dir, tmp_path, mode)
    scorm12, scorm2004 = files["scorm12"], files["scorm2004"]
    pages = sorted(name for name in scorm2004 if name.endswith(".html"))
    assert len(pages) == (1 if mode == "single" else len(load_course(course_dir)[0].units) + 1)
    assert sorted(n for n in scorm12 if n.endswith(".html")) == pages
    for name in pages:
        assert scorm12[name] == scorm2004[name], name
        doc = lxml_html.fromstring(scorm2004[name])
        assert "scorm" not in json_block(doc, "course-data")
        assert not doc.xpath('//*[@id="course-strings"]')
    script = f"{ASSET_DIR}/{PACKAGE_SCRIPT}"
    assert package_data(scorm12[script])["scorm"] == "1.2"
    assert package_data(scorm2004[script])["scorm"] == "2004"
    for files_of_target in (scorm12, scorm2004):
        assert f'href="{script}"'.encode() in files_of_target["imsmanifest.xml"]


def test_the_package_script_cannot_be_closed_or_broken(tmp_path: Path, monkeypatch) -> None:
    """The strings are JSON in a script: no `</script>`, comment or line separator survives."""
    import builder.render as render

    hostile = "Fin </script><!-- & \u2028\u2029 ok"
    english = catalogue("en")
    monkeypatch.setattr(render, "catalogue", lambda language: english | {"saved": hostile})
    course, _ = load_course(ALL_TYPES)
    script = render.package_script(course, "scorm12")
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw.encode() not in script
    assert package_data(script)["strings"]["saved"] == hostile


def test_quiz_markup_matches_the_course_data() -> None:
    doc = pages(ALL_TYPES, "single")["index.html"]
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
    docs = pages(ALL_TYPES, "multi")
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
