"""Translations: XLIFF 1.2 out, a language edition back in, and the checks between them."""

from __future__ import annotations

import copy
import html
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from builder.errors import BuildFailed
from builder.pipeline import BuildSettings, build, load_course, validate
from builder.translate import XLIFF_NS, extract_segments, write_xliff
from tests.conftest import REPO, edit_text, run_cli

X = f"{{{XLIFF_NS}}}"
CODES = (X + "ph", X + "bpt", X + "ept")


def extract_file(course: Path, lang: str = "fr") -> bytes:
    loaded, _ = load_course(course, "course")
    return write_xliff(extract_segments(loaded, course, "course"), lang)


def fill(data: bytes, change: Callable[[str], str] = str.upper) -> bytes:
    """Every trans-unit given a target: its source with `change` applied to the words only."""
    root = etree.fromstring(data)
    for tu in root.iter(X + "trans-unit"):
        source = tu.find(X + "source")
        target = copy.deepcopy(source)
        target.tag = X + "target"
        target.set("state", "translated")
        for el in target.iter():
            if el.tag not in CODES and el.text:
                el.text = change(el.text)
            if el is not target and el.tail:
                el.tail = change(el.tail)
        source.addnext(target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def units_of(data: bytes) -> dict[str, etree._Element]:
    return {tu.get("id"): tu for tu in etree.fromstring(data).iter(X + "trans-unit")}


def translated_course(course: Path, lang: str = "fr", change=str.upper) -> Path:
    (course / "translations").mkdir(exist_ok=True)
    (course / "translations" / f"{lang}.xlf").write_bytes(fill(extract_file(course, lang), change))
    return course


def build_edition(course: Path, out: Path, lang: str = "fr", targets=("scorm2004",)):
    return build(BuildSettings(course, out, targets=targets, display_root="course", language=lang))


def page_text(zip_path: Path, name: str = "index.html") -> str:
    with zipfile.ZipFile(zip_path) as z:
        return html.unescape(z.read(name).decode())


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def module7(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("m7") / "course"
    shutil.copytree(REPO / "course", course)
    return course


# --------------------------------------------------------------------------- the file


def test_extract_writes_xliff_12_with_location_hash_and_inline_codes(minimal_course):
    data = extract_file(minimal_course)
    root = etree.fromstring(data)
    assert root.tag == X + "xliff" and root.get("version") == "1.2"
    files = root.findall(X + "file")
    assert {f.get("original") for f in files} >= {"course.yaml", "units/rules.md"}
    assert all(f.get("source-language") == "en" and f.get("target-language") == "fr" for f in files)
    units = units_of(data)
    para = units["rules/h1/p1"]  # "Never swim alone.[^buddy]" under the first heading
    assert "".join(para.find(X + "source").itertext()) == "Never swim alone.[^buddy]"
    ph = para.find(X + "source").find(X + "ph")
    assert ph.get("ctype") == "x-footnote" and ph.text == "[^buddy]"
    contexts = {c.get("context-type"): c.text for c in para.iter(X + "context")}
    assert contexts["sourcefile"] == "units/rules.md"
    assert contexts["linenumber"] == "12"
    assert re.fullmatch(r"[0-9a-f]{16}", contexts["x-source-hash"])
    assert para.find(X + "note").text.startswith("units/rules.md:12")
    link = units["rules/h2/p1"].find(X + "source")
    assert [(e.tag, e.get("ctype"), e.text) for e in link] == [
        (X + "bpt", "link", "["),
        (X + "ept", None, "](practice.md#try-it)"),
    ]
    # Image alt text is translatable, between the image's codes.
    image = units["rules/h1/p2"].find(X + "source")
    assert image[0].get("ctype") == "image" and image[0].tail == "A lifeguard tower"
    assert units["quiz/check-quiz/q-alone/prompt"].find(X + "source").text == "What is rule one?"


def test_ids_do_not_depend_on_words_or_on_text_elsewhere(minimal_course):
    before = units_of(extract_file(minimal_course))
    rules = minimal_course / "units" / "rules.md"
    edit_text(rules, "Read the signs.", "Always read the signs.")
    edit_text(rules, "## Rule one", "## Rule number one")
    edit_text(rules, "tower.png)\n", "tower.png)\n\nA new last paragraph of rule one.\n")
    with (minimal_course / "units" / "check.md").open("a") as f:
        f.write("\nA new closing paragraph.\n")
    edit_text(minimal_course / "course.yaml", "  - name the three rules", "  - name the rules")
    after = units_of(extract_file(minimal_course))
    assert set(before) <= set(after)
    assert set(after) - set(before) == {"rules/h1/p3", "check/top/p2"}
    text = "".join(after["rules/h2/p1"].find(X + "source").itertext())
    assert text.startswith("Always read the signs.")


def test_editor_notes_are_not_offered_for_translation(minimal_course):
    before = units_of(extract_file(minimal_course))
    rules = minimal_course / "units" / "rules.md"
    edit_text(rules, "## Rule two\n", "## Rule two\n\n::: editor\nCheck the wording.\n:::\n")
    after = units_of(extract_file(minimal_course))
    assert set(after) == set(before)
    assert not [i for i, tu in after.items() if "wording" in "".join(tu.itertext())]


def test_module7_extract_counts(module7, tmp_path):
    out = tmp_path / "m7.xlf"
    result = run_cli("translate", "extract", str(module7), "--to", "fr", "-o", str(out))
    assert result.returncode == 0, result.stderr
    units = units_of(out.read_bytes())
    found = re.search(r"(\d+) translation units, ([\d,]+) words", result.stderr)
    assert found and int(found.group(1)) == len(units) > 500
    assert len(units) == len(set(units))


# --------------------------------------------------------------------------- editions


def test_round_trip_every_learner_facing_text_is_translated(module7, tmp_path):
    """Extract Module 7, fill every target mechanically (upper case), build the French edition:
    every translated run of words is in the packages, no long English run is left."""
    translated_course(module7)
    out = tmp_path / "dist"
    result = build_edition(module7, out, targets=("scorm2004", "facilitator", "gift"))
    names = sorted(p.name for p in out.iterdir() if p.is_file())
    assert names == [
        "drugs-security-organised-crime-fr-facilitator.html",
        "drugs-security-organised-crime-fr-questions.gift.txt",
        "drugs-security-organised-crime-fr-scorm2004.zip",
    ]
    assert not [w for w in result.warnings if w.code.startswith("W6")]
    package = out / "drugs-security-organised-crime-fr-scorm2004.zip"
    learner = page_text(package)
    shown = words(
        learner
        + page_text(package, "imsmanifest.xml")
        + html.unescape((out / "drugs-security-organised-crime-fr-facilitator.html").read_text())
    )
    gift = (out / "drugs-security-organised-crime-fr-questions.gift.txt").read_text()
    assert "WHAT IS “FOCUSED DETERRENCE”?" in gift
    assert "What is “focused deterrence”?" not in gift
    assert '<html lang="fr" dir="ltr"' in learner
    assert "Sommaire du cours" in learner  # the interface in French
    data = (module7 / "translations" / "fr.xlf").read_bytes()
    missing = []
    for ident, tu in units_of(data).items():
        for run in _runs(tu.find(X + "target")):
            if run.upper() == run and sum(c.isalpha() for c in run) >= 3 and run not in shown:
                missing.append((ident, run))
    assert not missing, missing[:10]
    english = []
    page = words(learner)
    for ident, tu in units_of(data).items():
        for run in _runs(tu.find(X + "source")):
            # (A link whose words are its address is in the page as its address, too.)
            if len(run) >= 30 and run.upper() != run and run in page and "://" not in run:
                english.append((ident, run))
    assert not english, english[:10]


def _runs(elem: etree._Element) -> list[str]:
    """Runs of words of a source or target (text between inline codes)."""
    runs = [elem.text or ""]
    for el in elem.iter():
        if el is not elem:
            if el.tag not in CODES:
                runs.append(el.text or "")
            runs.append(el.tail or "")
    return [words(r).strip(" .,:;") for r in runs if words(r).strip(" .,:;")]


def test_a_translation_identical_to_the_source_changes_no_page(module7, tmp_path):
    """Every text of Module 7 through XLIFF and back as it was: the same pages (but the
    edition's id, and line breaks inside paragraphs), so rebuilding Markdown loses nothing."""
    course = tmp_path / "course"
    shutil.copytree(module7, course, ignore=shutil.ignore_patterns("translations"))
    translated_course(course, "en", lambda text: text)
    plain = build(BuildSettings(course, tmp_path / "a", targets=("scorm12",), mode="multi"))
    edition = build(
        BuildSettings(course, tmp_path / "b", targets=("scorm12",), mode="multi", language="en")
    )
    assert edition.warnings == plain.warnings  # the translation adds none of its own
    with (
        zipfile.ZipFile(plain.outputs[0].path) as a,
        zipfile.ZipFile(edition.outputs[0].path) as b,
    ):
        pages = [n for n in a.namelist() if n.endswith(".html")]
        assert len(pages) > 10 and pages == [n for n in b.namelist() if n.endswith(".html")]
        for name in pages:
            before = a.read(name).decode()
            after = (
                b.read(name)
                .decode()
                .replace("drugs-security-organised-crime-en", "drugs-security-organised-crime")
            )
            assert words(before) == words(after), name


RICH = """
{#rich}
## Tables, quotes and lists

| Rule | Why |
|---|---|
| Swim *with* a buddy | Help \\| is near |
| Read the signs | They **warn** you |

> A quotation that runs
> over two lines, with a\\
> hard break.

1. First step,
   continued on a second line.
   - A nested item with `code`.

Term
: Its definition.

::: note
A note with a [link](#rich).
:::
"""


def test_tables_quotes_lists_and_breaks_round_trip(minimal_course, tmp_path):
    rules = minimal_course / "units" / "rules.md"
    rules.write_text(rules.read_text() + RICH)
    same = tmp_path / "same"
    shutil.copytree(minimal_course, same)
    translated_course(same, "en", lambda text: text)
    translated_course(minimal_course, "fr")
    pages = {}
    for name, course, lang in (
        ("en", same, "en"),
        ("fr", minimal_course, "fr"),
        ("src", same, None),
    ):
        result = build(BuildSettings(course, tmp_path / name, targets=("scorm12",), language=lang))
        assert not result.warnings, result.warnings
        pages[name] = page_text(result.outputs[0].path)

    def part(page: str) -> str:
        start = page.index('id="rules--rich"')
        return words(page[start : page.index("</section>", start)])

    assert part(pages["en"]) == part(pages["src"])
    fr = part(pages["fr"])
    for text in ("SWIM <em>WITH</em> A BUDDY", "HELP | IS NEAR", "THEY <strong>WARN</strong> YOU",
                 "OVER TWO LINES, WITH A<br />", "HARD BREAK.", "FIRST STEP, CONTINUED ON A SECOND",
                 "A NESTED ITEM WITH <code>code</code>.", "<dt>TERM</dt>", "ITS DEFINITION.",
                 'A NOTE WITH A <a href="#rules--rich">LINK</a>.'):  # fmt: skip
        assert text in fr, text
    assert fr.count("<td") == 4 and fr.count("<li>") == 2 and fr.count("<blockquote>") == 1


def test_edition_metadata_and_interface_in_its_language(minimal_course, tmp_path):
    translated_course(minimal_course, "ar", lambda s: "ع " + s)
    out = tmp_path / "dist"
    build_edition(minimal_course, out, "ar", ("scorm12", "scorm2004"))
    package = out / "minimal-course-ar-scorm2004.zip"
    page = page_text(package)
    assert '<html lang="ar" dir="rtl"' in page
    assert "محتويات الدورة" in page
    manifest = etree.fromstring(page_text(package, "imsmanifest.xml").encode())
    lom = "{http://ltsc.ieee.org/xsd/LOM}"
    assert manifest.find(f".//{lom}general/{lom}language").text == "ar"
    title = manifest.find(f".//{lom}general/{lom}title/{lom}string")
    assert title.get("language") == "ar" and title.text == "ع Minimal course: water safety"
    assert (out / "minimal-course-ar-scorm12.zip").is_file()


def test_language_all_builds_every_translation(minimal_course, tmp_path):
    translated_course(minimal_course, "fr")
    translated_course(minimal_course, "es", str.lower)
    out = tmp_path / "dist"
    result = run_cli("build", str(minimal_course), "--language", "all", "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("*.zip")) == [
        "minimal-course-es-scorm12.zip",
        "minimal-course-es-scorm2004.zip",
        "minimal-course-fr-scorm12.zip",
        "minimal-course-fr-scorm2004.zip",
    ]


def test_heading_links_still_arrive_in_a_translation(minimal_course, tmp_path):
    translated_course(minimal_course)
    out = tmp_path / "dist"
    build_edition(minimal_course, out, targets=("scorm12",))
    page = page_text(out / "minimal-course-fr-scorm12.zip")
    assert 'id="rules--rule-one">RULE ONE</h' in page
    assert 'href="#rules--rule-one"' in page


# --------------------------------------------------------------------------- checks


def _set_target(course: Path, ident: str, make: Callable[[etree._Element], None]) -> None:
    path = course / "translations" / "fr.xlf"
    root = etree.fromstring(path.read_bytes())
    tu = next(t for t in root.iter(X + "trans-unit") if t.get("id") == ident)
    make(tu.find(X + "target"))
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_reordered_inline_elements_still_build(minimal_course, tmp_path):
    translated_course(minimal_course)

    def reorder(target: etree._Element) -> None:
        # "Water Safety Council (2020), *Swim with a buddy*, <https://…>" → link first.
        for child in list(target):
            target.remove(child)
        target.text = "Voir "
        ph = etree.SubElement(target, X + "ph", id="2", ctype="x-autolink")
        ph.text = "<https://example.org/buddy>"
        ph.tail = " et "
        g = etree.SubElement(target, X + "g", id="1", ctype="italic")
        g.text = "Nager à deux"
        g.tail = " (2020)"

    _set_target(minimal_course, "rules/fn-buddy/p1", reorder)
    out = tmp_path / "dist"
    build_edition(minimal_course, out, targets=("scorm12",))
    page = page_text(out / "minimal-course-fr-scorm12.zip")
    assert re.search(r'Voir <a href="https://example.org/buddy"[^>]*>[^<]+</a> et <em>Nager', page)


def test_broken_inline_elements_are_an_error_with_the_file_line(minimal_course, tmp_path):
    translated_course(minimal_course)
    _set_target(minimal_course, "rules/h1/p1", lambda t: t.remove(t.find(X + "ph")))
    result = run_cli("validate", str(minimal_course), "--language", "fr")
    assert result.returncode == 1
    assert re.search(
        r"translations/fr\.xlf:\d+:1: error\[E602\]: translation of rules/h1/p1 "
        r'\(.*units/rules\.md:12\): <ph id="1"> of the source is missing',
        result.stderr,
    ), result.stderr
    assert "Traceback" not in result.stderr


def test_markdown_typed_by_a_translator_stays_text(minimal_course, tmp_path):
    translated_course(minimal_course)

    def markdownish(target: etree._Element) -> None:
        target.text = "2. *pas* [un lien](x.md) `code` | {#id} ::: note"

    _set_target(minimal_course, "rules/h1/title", markdownish)
    out = tmp_path / "dist"
    build_edition(minimal_course, out, targets=("scorm12",))
    page = page_text(out / "minimal-course-fr-scorm12.zip")
    assert '">2. *pas* [un lien](x.md) `code` | {#id} ::: note</h' in html.unescape(page)


def test_emphasis_markdown_cannot_show_is_an_error(minimal_course):
    translated_course(minimal_course)

    def glued(target: etree._Element) -> None:
        g = target.find(X + "g")
        g.text, g.tail = "“Nager à deux”", "ensemble"

    _set_target(minimal_course, "rules/fn-buddy/p1", glued)
    with pytest.raises(BuildFailed) as info:
        validate(minimal_course, "course", language="fr")
    assert [d.code for d in info.value.diagnostics] == ["E602"]
    assert "cannot show its emphasis" in info.value.diagnostics[0].message


def test_a_code_used_twice_or_unknown_is_an_error(minimal_course):
    translated_course(minimal_course)

    def twice(target: etree._Element) -> None:
        target.append(copy.deepcopy(target.find(X + "ph")))

    _set_target(minimal_course, "rules/h1/p1", twice)
    with pytest.raises(BuildFailed) as info:
        validate(minimal_course, "course", language="fr")
    assert [d.code for d in info.value.diagnostics] == ["E602"]
    assert "appears 2 times" in info.value.diagnostics[0].message


def test_missing_target_warns_and_uses_the_source_strict_fails(minimal_course, tmp_path):
    translated_course(minimal_course)
    _set_target(minimal_course, "rules/h2/title", lambda t: t.getparent().remove(t))
    _, warnings = validate(minimal_course, "course", language="fr")
    assert [str(w).split("\n")[0] for w in warnings] == [
        "course/units/rules.md:16:1: warning[W601]: no French translation of rules/h2/title: "
        "the source text is used"
    ]
    out = tmp_path / "dist"
    build_edition(minimal_course, out, targets=("scorm12",))
    assert ">Rule two</h" in page_text(out / "minimal-course-fr-scorm12.zip")
    result = run_cli("build", str(minimal_course), "--language", "fr", "--strict", "--out", "d")
    assert result.returncode == 1 and "W601" in result.stderr


def test_outdated_translation_after_a_one_word_change(minimal_course):
    translated_course(minimal_course)
    edit_text(minimal_course / "units" / "rules.md", "Read the signs.", "Read the notices.")
    _, warnings = validate(minimal_course, "course", language="fr")
    assert [(w.code, w.path, w.line) for w in warnings] == [("W602", "course/units/rules.md", 18)]
    assert "outdated French translation of rules/h2/p1" in warnings[0].message
    assert "course/units/rules.md:18" in warnings[0].message


def test_translation_of_a_removed_text_is_a_warning(minimal_course):
    translated_course(minimal_course)
    edit_text(minimal_course / "units" / "rules.md", "Read the signs. See also", "See")
    edit_text(minimal_course / "course.yaml", "keywords: [water, safety]", "keywords: [water]")
    _, warnings = validate(minimal_course, "course", language="fr")
    assert {(w.code, w.message.split(":")[0]) for w in warnings} == {
        ("W602", "outdated French translation of rules/h2/p1"),
        ("W604", "translation of course/keywords/2"),
    }


def test_no_translation_file_is_an_error(minimal_course):
    result = run_cli("validate", str(minimal_course), "--language", "de")
    assert result.returncode == 1
    assert "translations/de.xlf:1:1: error[E601]: no translation file for 'de'" in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"<xliff", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
            b'<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">&a;</xliff>',
            "DOCTYPE is not allowed",
        ),
        (b"<xliff version='2.0'/>", "not an XLIFF 1.2 document"),
    ],
)
def test_unusable_translation_files_are_reported_not_read(minimal_course, text, message):
    (minimal_course / "translations").mkdir()
    (minimal_course / "translations" / "fr.xlf").write_bytes(text)
    with pytest.raises(BuildFailed) as info:
        validate(minimal_course, "course", language="fr")
    assert [d.code for d in info.value.diagnostics] == ["E601"]
    assert message in info.value.diagnostics[0].message


def test_external_entities_are_never_fetched(minimal_course, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    (minimal_course / "translations").mkdir()
    (minimal_course / "translations" / "fr.xlf").write_text(
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
        '<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2">&s;</xliff>'
    )
    with pytest.raises(BuildFailed) as info:
        validate(minimal_course, "course", language="fr")
    assert "SECRET" not in str(info.value.diagnostics)


# --------------------------------------------------------------------------- update


def test_update_keeps_translations_and_marks_changed_ones_for_review(minimal_course):
    translated_course(minimal_course)
    path = minimal_course / "translations" / "fr.xlf"
    rules = minimal_course / "units" / "rules.md"
    edit_text(rules, "Read the signs.", "Read the notices.")
    edit_text(rules, "## Rule two\n", "## Rule two\n\nA new paragraph.\n\n")
    result = run_cli("translate", "update", str(minimal_course), "--to", "fr")
    assert result.returncode == 0, result.stderr
    assert re.search(r"kept, 1 to review .*, 1 new, 0 removed", result.stderr), result.stderr
    units = units_of(path.read_bytes())
    changed = units["rules/h2/p2"].find(X + "target")  # after the new paragraph
    assert changed.get("state") == "needs-review-translation"
    assert "".join(changed.itertext()).startswith("READ THE SIGNS")
    assert "notices" in "".join(units["rules/h2/p2"].find(X + "source").itertext())
    assert units["rules/h2/p1"].find(X + "target") is None  # the new text
    kept = units["rules/h1/p1"].find(X + "target")
    assert kept.get("state") == "translated" and kept.text == "NEVER SWIM ALONE."
    # The build says which translations to review.
    _, warnings = validate(minimal_course, "course", language="fr")
    assert sorted(w.code for w in warnings) == ["W601", "W602"]


def test_extract_refuses_to_overwrite_a_translation(minimal_course):
    translated_course(minimal_course)
    before = (minimal_course / "translations" / "fr.xlf").read_bytes()
    result = run_cli("translate", "extract", str(minimal_course), "--to", "fr")
    assert result.returncode == 2 and "translate update --to fr" in result.stderr
    assert (minimal_course / "translations" / "fr.xlf").read_bytes() == before


def test_a_file_saved_by_translate_toolkit_builds(minimal_course, tmp_path):
    """The XLIFF library under Weblate and Pootle reads the file, fills it, saves it; it builds."""
    xliff = pytest.importorskip("translate.storage.xliff")
    store = xliff.xlifffile.parsestring(extract_file(minimal_course))
    units = [u for u in store.units if not u.isheader()]
    assert len(units) == len(units_of(extract_file(minimal_course)))
    para = next(u for u in units if u.getlocations() == ["units/rules.md:12"])
    assert "[^buddy]" in str(para.rich_source[0])  # the footnote mark, as an inline element
    for unit in units:
        if not len(unit.xmlelement.find(X + "source")):  # no inline elements
            unit.target = f"«{unit.source}»"
        else:
            unit.rich_target = unit.rich_source  # codes as they are
    (minimal_course / "translations").mkdir()
    (minimal_course / "translations" / "fr.xlf").write_bytes(bytes(store))
    out = tmp_path / "dist"
    result = build_edition(minimal_course, out, targets=("scorm12",))
    assert not [w for w in result.warnings if w.code.startswith("W6")]
    page = page_text(out / "minimal-course-fr-scorm12.zip")
    assert ">«The three rules»</h" in page
    assert '<p>Never swim alone.<sup class="footnote-ref">' in page


def test_extract_is_deterministic(minimal_course):
    assert extract_file(minimal_course) == extract_file(minimal_course)
