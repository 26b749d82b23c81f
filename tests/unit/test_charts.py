"""Bar charts of data sets: accessible SVG with its table; data checked against the quiz."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from builder.charts import chart_html, chart_svg, data_table
from builder.model import DataSet
from builder.pipeline import BuildSettings, build, validate
from tests.conftest import edit_text, validation_problems

SVG = "{http://www.w3.org/2000/svg}"


def dataset(**changes: object) -> DataSet:
    data: dict[str, object] = {
        "id": "prisons",
        "title": "Number of prisoners",
        "period": "2013 or latest year",
        "measure": "Prisoners per 100,000 population",
        "unit": "prisoners per 100,000 population",
        "source": "World Prison Population List",
        "rows": [
            {"label": "Caribbean", "value": 376},
            {"label": "Middle East & <North> Africa", "value": 98},
            {"label": "West Africa", "value": 0},
        ],
    }
    data.update(changes)
    return DataSet.model_validate(data)


def bars(svg_text: str) -> list[float]:
    svg = etree.fromstring(svg_text)
    return [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]


def test_svg_has_an_accessible_name_description_and_no_style_or_script():
    svg_text = chart_svg(dataset(), "u--chart-prisons")
    svg = etree.fromstring(svg_text)
    assert svg.get("role") == "img"
    ids = svg.get("aria-labelledby").split()
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert ids == [title.get("id"), desc.get("id")]
    assert title.text == "Number of prisoners (2013 or latest year)"
    # The description names every value with its unit, for screen readers.
    assert "Caribbean: 376 prisoners per 100,000 population" in desc.text
    assert "Middle East & <North> Africa: 98" in desc.text
    for el in svg.iter():
        assert "style" not in el.attrib, el.tag
        assert not any(name.startswith("on") for name in el.attrib), el.tag
    assert svg.find(f".//{SVG}script") is None and "<style" not in svg_text


def test_bars_are_proportional_to_the_values_from_zero():
    widths = bars(chart_svg(dataset(), "p"))
    assert widths[2] == 0
    assert widths[1] == pytest.approx(widths[0] * 98 / 376, abs=0.1)


def test_axis_max_fixes_the_scale_unless_a_value_exceeds_it():
    ds = dataset(rows=[{"label": "A", "value": 33}, {"label": "B", "value": 66}])
    free = bars(chart_svg(ds, "p"))
    fixed = bars(chart_svg(ds.model_copy(update={"axis_max": 100.0}), "p"))
    assert fixed[1] == pytest.approx(free[1] * 66 / 100, abs=0.1)
    too_small = bars(chart_svg(ds.model_copy(update={"axis_max": 50.0}), "p"))
    assert too_small == free


def test_values_are_written_as_the_source_gives_them():
    ds = dataset(
        decimals=2,
        rows=[{"label": "Latin America", "value": 71.1}, {"label": "Asia", "value": 0.21}],
    )
    texts = [t.text for t in etree.fromstring(chart_svg(ds, "p")).iter(f"{SVG}text")]
    assert "71.10" in texts and "0.21" in texts
    assert dataset(rows=[{"label": "South Asia", "value": 1779}]).value_text(1779) == "1,779"


def test_data_table_is_the_text_alternative():
    table = lxml_html.fromstring(data_table(dataset()))
    assert table.tag == "table"
    assert "Number of prisoners" in table.findtext("caption")
    assert [th.text_content() for th in table.xpath(".//thead//th")] == [
        "Region",
        "Prisoners per 100,000 population",
    ]
    rows = [
        [cell.text_content() for cell in tr.xpath("./th|./td")] for tr in table.xpath(".//tbody/tr")
    ]
    assert rows == [
        ["Caribbean", "376"],
        ["Middle East & <North> Africa", "98"],
        ["West Africa", "0"],
    ]
    assert all(th.get("scope") == "row" for th in table.xpath(".//tbody//th"))


def test_chart_html_is_deterministic_and_escapes_text():
    ds = dataset(url="https://example.org/list?a=1&b=2", note="A note <b>here</b>.")
    first, second = chart_html(ds, "x"), chart_html(ds, "x")
    assert first == second
    assert "<North>" not in first and "&lt;North&gt;" in first
    assert "<b>" not in first
    assert 'href="https://example.org/list?a=1&amp;b=2"' in first


# --------------------------------------------------------------------------- in a course


@pytest.fixture
def course(minimal_course: Path) -> Path:
    """The minimal fixture with a data set that is the answer key of its matching question."""
    target = minimal_course
    (target / "data").mkdir()
    (target / "data" / "rules.yaml").write_text(
        "id: rule-numbers\n"
        "title: Rule numbers\n"
        "measure: Number of the rule\n"
        "unit: rule\n"
        "source: The rules unit\n"
        "question: q-match\n"
        "rows:\n"
        "  - {label: Rule one, value: 1, prompt: p-alone}\n"
        "  - {label: Rule two, value: 2, prompt: p-signs}\n",
        encoding="utf-8",
    )
    quiz = target / "quizzes" / "check.yaml"
    quiz.write_text(
        quiz.read_text()
        .replace(
            "text: Never swim alone, answer: one", "text: Never swim alone (rule 1), answer: one"
        )
        .replace("text: Read the signs, answer: two", "text: Read the signs (rule 2), answer: two")
    )
    unit = target / "units" / "check.md"
    unit.write_text(unit.read_text() + "\n:::: reveal q-match\n::: chart rule-numbers\n:::\n::::\n")
    return target


def test_a_chart_in_a_reveal_reaches_the_package(course, tmp_path):
    parsed, warnings = validate(course, "course")
    assert warnings == [] and [d.id for d in parsed.datasets] == ["rule-numbers"]
    out = tmp_path / "dist"
    build(BuildSettings(course_dir=course, out_dir=out, targets=("scorm2004",)))
    page = zipfile.ZipFile(out / "minimal-course-scorm2004.zip").read("index.html").decode()
    doc = lxml_html.fromstring(page)
    [reveal] = doc.xpath('//div[@data-reveal-after="q-match"]')
    [figure] = reveal.xpath('.//figure[contains(@class, "chart")]')
    assert figure.xpath('.//*[local-name()="svg"][@role="img"]')
    assert figure.xpath(".//table//th[.='Rule one']")
    assert not re.search(r"<svg[^>]*\sstyle=", page)


def test_unknown_chart_is_an_error(course):
    edit_text(course / "units" / "check.md", "::: chart rule-numbers", "::: chart rule-nmbers")
    [problem] = validation_problems(course)
    assert problem.startswith("course/units/check.md:")
    assert problem.endswith("error[E325]: chart of unknown data set 'rule-nmbers'")


def test_data_set_that_no_unit_shows_is_a_warning(course):
    edit_text(course / "units" / "check.md", "::: chart rule-numbers\n:::\n", "")
    _, warnings = validate(course, "course")
    assert [str(w).split("\n")[0] for w in warnings] == [
        "course/data/rules.yaml:1:1: warning[W303]: data set 'rule-numbers' is never shown: no "
        "unit has '::: chart rule-numbers'"
    ]


def test_data_that_disagrees_with_the_answer_key_is_an_error(course):
    data = course / "data" / "rules.yaml"
    edit_text(
        data,
        "{label: Rule one, value: 1, prompt: p-alone}",
        "{label: Rule two, value: 1, prompt: p-alone}",
    )
    edit_text(
        data,
        "{label: Rule two, value: 2, prompt: p-signs}",
        "{label: Rule two, value: 3, prompt: p-signs}",
    )
    assert validation_problems(course) == [
        "course/data/rules.yaml:8:6: error[E341]: data set 'rule-numbers' gives 1 to 'Rule two', "
        "but question 'q-match' matches prompt 'p-alone' to 'Rule one'",
        "course/data/rules.yaml:9:23: error[E342]: prompt 'p-signs' of question 'q-match' reads "
        "'Read the signs (rule 2)', which does not state the value and unit of data set "
        "'rule-numbers' ('3 rule')",
    ]


def test_missing_rows_and_wrong_question(course):
    data = course / "data" / "rules.yaml"
    edit_text(data, "  - {label: Rule two, value: 2, prompt: p-signs}\n", "")
    assert validation_problems(course) == [
        "course/data/rules.yaml:7:1: error[E341]: data set 'rule-numbers' has no row for prompt "
        "'p-signs' of question 'q-match'"
    ]
    edit_text(data, "question: q-match", "question: q-tf")
    assert validation_problems(course) == [
        "course/data/rules.yaml:6:1: error[E343]: data set 'rule-numbers' is the answer key of "
        "question 'q-tf', which is not a matching question"
    ]
