"""Interface languages: every string in a catalogue, French shipped, `language` sets lang."""

from __future__ import annotations

import json
import re
import string
import zipfile

import pytest

from builder.i18n import CATALOGUES, EN, catalogue
from builder.pipeline import BuildSettings, build
from builder.render import templates_dir


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_every_catalogue_has_every_string_with_the_same_placeholders(lang):
    table = CATALOGUES[lang]
    assert set(table) == set(EN), f"{lang}: missing {set(EN) - set(table)}"
    for key, text in table.items():
        assert text.strip(), key
        assert placeholders(text) == placeholders(EN[key]), key


def test_french_is_really_french():
    fr = CATALOGUES["fr"]
    same = {k for k in EN if fr[k] == EN[k]}
    # Only words that are the same in both languages may stay.
    assert same <= {
        "dir", "duration", "footnotes", "correct", "question",
        "facilitator.points", "facilitator.version", "facilitator.total",
    }, same  # fmt: skip


def test_templates_only_use_keys_of_the_catalogue():
    used: set[str] = set()
    for path in templates_dir().rglob("*.j2"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\.([a-z_]+)\b(?!\s*\()", text))
        used |= set(re.findall(r"\bt\[\s*[\"']([^\"']+)[\"']\s*\]", text))
        used |= set(re.findall(r"\bt\.get\(\s*[\"']([^\"']+)[\"']", text))
    used -= {"get", "format"}
    assert used, "no interface strings found in the templates"
    assert used <= set(EN), used - set(EN)


def test_region_subtags_and_unknown_languages():
    assert catalogue("fr-CA")["next"] == CATALOGUES["fr"]["next"]
    assert catalogue("de") == EN


def test_french_course_sets_lang_strings_and_manifest_language(tmp_path, minimal_course):
    course = minimal_course
    yaml_file = course / "course.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("language: en", "language: fr"))
    result = build(BuildSettings(course, tmp_path / "dist"))
    fr = CATALOGUES["fr"]
    for out in result.outputs:
        zf = zipfile.ZipFile(out.path)
        html = zf.read("index.html").decode()
        assert '<html lang="fr"' in html
        assert fr["next"] in html and fr["check"] in html
        assert f">{EN['check']}<" not in html and f">{EN['next']}<" not in html
        # Messages the runtime shows (the standalone notice among them) travel as JSON, in
        # the package's own script.
        script = zf.read("assets/package.js").decode()
        ui = re.fullmatch(r"window\.scormBuilderPackage = (.*);\n", script)
        strings = json.loads(ui.group(1))["strings"] if ui else {}
        assert strings.get("standalone") == fr["standalone"], "standalone notice not French"
        manifest = zf.read("imsmanifest.xml").decode()
        if out.target == "scorm2004":
            assert "<language>fr</language>" in manifest
            assert 'language="fr"' in manifest
        else:
            assert "<language>fr</language>" in zf.read("metadata.xml").decode()
