"""Interactive blocks: the HTML each `:::` block gives (plain sections that read without script),
the errors for blocks written wrong, and the page weight of their script and stylesheet."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from builder.i18n import catalogue
from builder.markdown import render_markdown
from builder.pipeline import BuildSettings, build
from builder.render import ASSET_DIR, RUNTIME_FILES, runtime_dir, shipped, templates_dir
from tests.conftest import run_cli

#: The budget for the blocks' script and stylesheet together, gzipped.
BUDGET = 15 * 1024


def render(text: str, audience: str = "learner") -> Any:
    return render_markdown(
        text,
        doc_id="u",
        display="units/u.md",
        first_line=1,
        audience=audience,  # type: ignore[arg-type]
        labels=catalogue("en"),
        resolve_link=lambda href: (href, None),
        figure_image=lambda src: src if src.startswith("media/") and "missing" not in src else None,
    )


def tree(text: str, audience: str = "learner") -> Any:
    result = render(text, audience)
    assert result.diagnostics == []
    return lxml_html.fragment_fromstring(result.html, create_parent="div")


def _text(el: Any) -> str:
    return " ".join(el.text_content().split())


TABS = """::: tabs
A word before the tabs.

## Ghana
Accra.

### Detail
Deeper heading stays inside.

## Mexico
- Guerrero
:::
"""


def test_tabs_are_plain_sections_each_with_its_heading_and_text() -> None:
    doc = tree(TABS)
    (block,) = doc.xpath('//div[@data-block="tabs"]')
    sections = block.xpath("./section")
    assert [_text(s.xpath("./h2")[0]) for s in sections] == ["Ghana", "Mexico"]
    assert "Deeper heading stays inside." in _text(sections[0])
    assert "Guerrero" in _text(sections[1])
    # The text before the first heading stays in front of the sections, not in a tab.
    assert block.xpath("./p")[0].text == "A word before the tabs."
    # Nothing is hidden in the HTML: without script every section reads.
    assert doc.xpath("//*[@hidden] | //*[@role]") == []
    # Two blocks on one page get different ids (the runtime keeps each one's open tab).
    doc2 = tree(TABS + "\n" + TABS)
    ids = [b.get("id") for b in doc2.xpath('//div[@data-block="tabs"]')]
    assert len(set(ids)) == 2


def test_accordion_sections_are_native_details_opened_in_the_facilitators_edition() -> None:
    text = "::: accordion\n## One\nFirst.\n\n## Two\nSecond.\n:::\n"
    learner = tree(text)
    details = learner.xpath('//div[@data-block="accordion"]/details')
    assert [_text(d.xpath("./summary")[0]) for d in details] == ["One", "Two"]
    assert [d.get("open") for d in details] == [None, None]
    assert _text(details[1]).endswith("Second.")
    guide = tree(text, "facilitator")
    assert all(d.get("open") is not None for d in guide.xpath("//details"))


def test_cards_keep_prompt_and_answer_together_and_answer_in_the_html() -> None:
    doc = tree("::: cards\n## What is 2 + 2?\nFour.\n\n## Capital of Ghana?\nAccra.\n:::\n")
    (block,) = doc.xpath('//div[@data-block="reveal"]')
    assert block.get("data-show") == "Show answer"
    cards = block.xpath('./div[@class="block-card"]')
    assert [_text(c.xpath("./h2")[0]) for c in cards] == ["What is 2 + 2?", "Capital of Ghana?"]
    assert [_text(c.xpath('./div[@class="block-card-answer"]')[0]) for c in cards] == [
        "Four.",
        "Accra.",
    ]


def test_steps_from_headings_or_from_a_list_are_a_numbered_list() -> None:
    doc = tree("::: steps\n## Plan\nThink.\n\n## Act\nDo.\n:::\n")
    items = doc.xpath('//div[@data-block="steps"]/ol/li')
    assert [_text(li.xpath("./h2")[0]) for li in items] == ["Plan", "Act"]
    listed = tree("::: steps\n- Plan\n- Act\n  - nested stays a bullet\n:::\n")
    (ol,) = listed.xpath('//div[@data-block="steps"]/ol')
    assert [_text(li).split(" nested")[0] for li in ol.xpath("./li")] == ["Plan", "Act"]
    assert listed.xpath("//ol/li/ul/li")  # only the outer list is numbered


def test_zoom_is_a_figure_with_its_image_and_caption() -> None:
    doc = tree("::: zoom media/map.png\nThe whole region.\n:::\n")
    (figure,) = doc.xpath('//figure[@data-block="zoom"]')
    assert figure.xpath("./img/@src") == ["media/map.png"]
    assert _text(figure.xpath("./figcaption")[0]) == "The whole region."
    assert figure.get("data-zoom") == "Enlarge image"


@pytest.mark.parametrize(
    ("text", "line", "code", "words"),
    [
        ("Intro.\n\n::: tabs\nJust text.\n:::\n", 3, "E361", "'::: tabs' has no headings"),
        ("::: cards\nNo prompt.\n:::\n", 1, "E361", "'::: cards' has no headings"),
        ("\n::: accordion open\n## A\nx\n:::\n", 2, "E360", "takes no name after it"),
        ("::: zoom media/missing.png\nx\n:::\n", 1, "E362", "'::: zoom' image"),
        ("::: zoom\nx\n:::\n", 1, "E362", "without an image"),
    ],
)
def test_a_block_written_wrong_is_an_error_at_its_line(
    text: str, line: int, code: str, words: str
) -> None:
    (diag,) = render(text).diagnostics
    assert (diag.line, diag.code) == (line, code)
    assert words in diag.message
    assert "did you mean" in (diag.hint or "")


@pytest.mark.parametrize(("written", "meant"), [("tab", "tabs"), ("details", "accordion")])
def test_other_tools_block_names_suggest_ours(minimal_course: Path, written: str, meant: str):
    rules = minimal_course / "units" / "rules.md"
    rules.write_text(rules.read_text(encoding="utf-8") + f"\n::: {written}\n## A\nx\n:::\n")
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert f"error[E327]: unknown block '::: {written}'" in proc.stderr
    assert f"did you mean '::: {meant}'?" in proc.stderr


def test_a_tabs_block_without_headings_fails_the_build_with_file_and_line(minimal_course: Path):
    rules = minimal_course / "units" / "rules.md"
    old = rules.read_text(encoding="utf-8")
    rules.write_text(old + "\n::: tabs\nOnly a paragraph.\n:::\n", encoding="utf-8")
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    line = len(old.splitlines()) + 2
    assert f"units/rules.md:{line}:1: error[E361]: '::: tabs' has no headings" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_packages_and_the_guide_carry_the_blocks(minimal_course: Path, tmp_path: Path, mode: str):
    rules = minimal_course / "units" / "rules.md"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text + "\n::: accordion\n## Why\nBecause.\n:::\n", encoding="utf-8")
    out = tmp_path / "dist"
    build(
        BuildSettings(
            course_dir=minimal_course, out_dir=out, targets=("scorm12", "facilitator"), mode=mode
        )
    )
    (package,) = out.glob("*.zip")
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
        assert {f"{ASSET_DIR}/blocks.js", f"{ASSET_DIR}/blocks.css"} <= names
        page = "index.html" if mode == "single" else "rules.html"
        doc = lxml_html.fromstring(zf.read(page))
    assert doc.xpath('//div[@data-block="accordion"]/details')
    assert f"{ASSET_DIR}/blocks.css" in doc.xpath("//link[@rel='stylesheet']/@href")
    assert f"{ASSET_DIR}/blocks.js" in doc.xpath("//script/@src")
    if mode == "single":
        (guide,) = out.glob("*-facilitator.html")
        text = guide.read_text(encoding="utf-8")
        assert ".block-steps-list" in text  # the blocks' stylesheet, inlined
        assert '<details class="block-section" open>' in text


def test_blocks_script_and_stylesheet_fit_the_page_weight_budget() -> None:
    assert "blocks.js" in RUNTIME_FILES
    # As packages carry them: minified.
    data = shipped(runtime_dir() / "blocks.js") + shipped(templates_dir() / "static" / "blocks.css")
    assert len(gzip.compress(data, 9)) <= BUDGET


SHOWCASE = Path(__file__).parents[2] / "examples" / "showcase"


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_the_showcase_builds_strict_with_schema_valid_manifests(
    tmp_path: Path, mode: str, assert_schema_valid: Any
) -> None:
    out = tmp_path / "dist"
    result = build(
        BuildSettings(
            course_dir=SHOWCASE,
            out_dir=out,
            targets=("scorm12", "scorm2004"),
            mode=mode,  # type: ignore[arg-type]
            strict=True,
        )
    )
    assert len(result.outputs) == 2
    blocks: set[str] = set()
    types: set[str] = set()
    charts = 0
    for output in result.outputs:
        with zipfile.ZipFile(output.path) as zf:
            assert_schema_valid(zf.read("imsmanifest.xml"))
            for name in zf.namelist():
                if name.endswith(".html"):
                    doc = lxml_html.fromstring(zf.read(name))
                    blocks |= set(doc.xpath("//@data-block"))
                    types |= set(doc.xpath("//@data-question/../@data-type"))
                    types |= set(doc.xpath("//*[@data-question]/@data-type"))
                    charts += len(doc.xpath("//figure[@class='chart']//svg"))
    assert blocks >= {"accordion", "tabs", "reveal", "steps", "zoom"}
    assert types == {
        "single-choice",
        "multiple-response",
        "true-false",
        "matching",
        "fill-in",
        "reflection",
    }
    assert charts > 0
