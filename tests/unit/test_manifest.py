"""imsmanifest.xml: golden files, the official schemas, and what Moodle needs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from builder.pipeline import BuildSettings, build
from tests.conftest import FIXTURES, GOLDEN, REPO

CASES = [(t, m) for t in ("scorm12", "scorm2004") for m in ("single", "multi")]
IMSSS = "http://www.imsglobal.org/xsd/imsss"


def _build(course: Path, out: Path, target: str, mode: str) -> zipfile.ZipFile:
    result = build(BuildSettings(course_dir=course, out_dir=out, targets=(target,), mode=mode))
    data = result.outputs[0].path.read_bytes()
    return zipfile.ZipFile(io.BytesIO(data))


def _manifest(zf: zipfile.ZipFile) -> etree._Element:
    return etree.fromstring(zf.read("imsmanifest.xml"))


@pytest.mark.parametrize(("target", "mode"), CASES)
def test_manifest_matches_golden(tmp_path, target, mode, update_golden):
    zf = _build(FIXTURES / "minimal", tmp_path, target, mode)
    xml = zf.read("imsmanifest.xml")
    golden = GOLDEN / "minimal" / f"{target}-{mode}.xml"
    listing = GOLDEN / "minimal" / f"{target}-{mode}.files"
    names = "\n".join(zf.namelist()) + "\n"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(xml)
        listing.write_text(names)
    assert xml == golden.read_bytes(), (
        f"manifest differs from {golden}; review, then --update-golden"
    )
    assert names == listing.read_text()


@pytest.mark.parametrize(
    "course", [FIXTURES / "minimal", REPO / "course"], ids=["minimal", "module7"]
)
@pytest.mark.parametrize(("target", "mode"), CASES)
def test_manifests_are_schema_valid(tmp_path, course, target, mode, assert_schema_valid):
    zf = _build(course, tmp_path, target, mode)
    assert_schema_valid(zf.read("imsmanifest.xml"))


@pytest.mark.parametrize(("target", "mode"), CASES)
def test_every_file_listed_and_every_listed_file_present(tmp_path, target, mode):
    zf = _build(FIXTURES / "minimal", tmp_path, target, mode)
    root = _manifest(zf)
    listed = {f.get("href") for f in root.iter("{*}file")}
    in_zip = set(zf.namelist()) - {"imsmanifest.xml"}
    assert listed == in_zip
    launches = {r.get("href") for r in root.iter("{*}resource") if r.get("href")}
    assert launches <= in_zip


@pytest.mark.parametrize("target", ["scorm12", "scorm2004"])
def test_schemaversion_text_is_exact(tmp_path, target):
    root = _manifest(_build(FIXTURES / "minimal", tmp_path, target, "single"))
    text = next(root.iter("{*}schemaversion")).text
    assert text == ("1.2" if target == "scorm12" else "2004 4th Edition")
    # Moodle matches the prefixes literally and wants the CP elements unprefixed.
    raw = etree.tostring(root).decode()
    assert "<manifest " in raw and "&#" not in raw


def test_identifiers_come_from_author_ids_not_positions(tmp_path, minimal_course):
    """Reordering units keeps every identifier, so re-uploads keep learners' records."""
    course = minimal_course
    first = _manifest(_build(course, tmp_path / "a", "scorm2004", "multi"))
    yaml = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(
        yaml.replace("  - rules\n  - practice\n", "  - practice\n  - rules\n")
    )
    second = _manifest(_build(course, tmp_path / "b", "scorm2004", "multi"))

    def ids(root):
        return sorted(e.get("identifier") for e in root.iter() if e.get("identifier"))

    assert ids(first) == ids(second)
    assert "ITEM-rules" in ids(first) and "RES-practice" in ids(first)
    order = [e.get("identifier") for e in second.iter("{*}item")]
    assert order.index("ITEM-practice") < order.index("ITEM-rules")


def test_multi_mode_nests_scos_under_one_cluster(tmp_path):
    for target in ("scorm12", "scorm2004"):
        root = _manifest(_build(FIXTURES / "minimal", tmp_path / target, target, "multi"))
        org = next(root.iter("{*}organization"))
        top = [c for c in org if etree.QName(c).localname == "item"]
        assert len(top) == 1 and top[0].get("identifierref") is None
        children = [c for c in top[0] if etree.QName(c).localname == "item"]
        assert [c.get("identifier") for c in children] == [
            "ITEM-minimal-course-home",
            "ITEM-rules",
            "ITEM-practice",
            "ITEM-check",
        ]
        assert all(c.get("identifierref") for c in children)


def test_scorm12_masteryscore_only_for_passed_failed(tmp_path, minimal_course):
    root = _manifest(_build(FIXTURES / "minimal", tmp_path / "a", "scorm12", "multi"))
    scores = {e.getparent().get("identifier"): e.text for e in root.iter("{*}masteryscore")}
    assert scores == {"ITEM-check": "50"}

    course = minimal_course
    yaml = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(yaml.replace("passed/failed", "passed/incomplete"))
    root = _manifest(_build(course, tmp_path / "b", "scorm12", "single"))
    assert list(root.iter("{*}masteryscore")) == []


def test_scorm2004_has_one_objective_per_unit_and_no_map_info(tmp_path):
    root = _manifest(_build(FIXTURES / "minimal", tmp_path, "scorm2004", "single"))
    objectives = [o.get("objectiveID") for o in root.iter(f"{{{IMSSS}}}objective")]
    assert objectives == ["rules", "practice", "check"]
    assert list(root.iter(f"{{{IMSSS}}}mapInfo")) == []
    assert list(root.iter(f"{{{IMSSS}}}rollupRules")) == []
    sco = [
        r
        for r in root.iter("{*}resource")
        if r.get("{http://www.adlnet.org/xsd/adlcp_v1p3}scormType") == "sco"
    ]
    assert [r.get("href") for r in sco] == ["index.html"]


def test_scorm2004_metadata_carries_course_facts(tmp_path):
    root = _manifest(_build(FIXTURES / "minimal", tmp_path, "scorm2004", "single"))
    lom = "{http://ltsc.ieee.org/xsd/LOM}"
    assert next(root.iter(f"{lom}duration")).text == "PT20M"
    assert [k[0].text for k in root.iter(f"{lom}keyword")] == ["water", "safety"]
    assert "CC BY 4.0" in next(root.iter(f"{lom}rights")).xpath("string()")


def test_long_titles_are_cut_to_255(tmp_path, minimal_course):
    course = minimal_course
    # The model refuses titles over 255 characters; 255 exactly must survive whole.
    title = "T" * 255
    yaml = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(
        yaml.replace('title: "Minimal course: water safety"', f"title: {title}")
    )
    root = _manifest(_build(course, tmp_path / "o", "scorm12", "single"))
    titles = [t.text for t in root.iter("{*}title")]
    assert titles[0] == title and all(0 < len(t) <= 255 for t in titles)
