"""`inspect` on our packages and on broken ones made here, in tmp, from small manifests."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from builder.inspector import SchemasUnusable, format_report, inspect_package
from builder.pipeline import BuildSettings, build
from tests.conftest import FIXTURES, run_cli

M12 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="MAN" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="ORG">
    <organization identifier="ORG"><title>Course</title>
      <item identifier="ITEM" identifierref="RES"><title>{title}</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES" type="webcontent" adlcp:scormtype="sco" href="{href}">
      <file href="{href}"/>{files}
    </resource>
  </resources>
</manifest>
"""

M2004 = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="MAN" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="ORG">
    <organization identifier="ORG"><title>Course</title>
      <item identifier="ITEM" identifierref="RES"><title>Unit</title>{sequencing}</item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES" type="webcontent" adlcp:scormType="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
</manifest>
"""


def make_zip(path: Path, entries: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def pkg12(tmp_path: Path, version="1.2", title="Unit", href="index.html", files="", extra=None):
    manifest = M12.format(version=version, title=title, href=escape(href), files=files)
    entries: dict[str, str | bytes] = {"imsmanifest.xml": manifest, href: "<html></html>"}
    entries.update(extra or {})
    return make_zip(tmp_path / "p.zip", entries)


def codes(report, severity=None):
    return {f.code for f in report.findings if severity is None or f.severity == severity}


@pytest.fixture(scope="module")
def our_packages(tmp_path_factory):
    out = tmp_path_factory.mktemp("ours")
    result = build(BuildSettings(FIXTURES / "minimal", out, mode="multi"))
    return {o.target: o.path for o in result.outputs}


@pytest.mark.parametrize("target", ["scorm12", "scorm2004"])
def test_our_packages_pass_with_schemas(our_packages, target, schemas):
    report = inspect_package(our_packages[target], schemas)
    assert report.ok(strict=True), "\n".join(format_report(report))
    assert report.schema == "valid"
    assert report.version == ("1.2" if target == "scorm12" else "2004")
    assert report.missing == [] and report.unlisted == []
    [org] = report.organizations
    launches = [i.launch for i in org.items if i.kind == "sco"]
    assert launches == ["index.html", "rules.html", "practice.html", "check.html"]
    assert org.items[0].kind == "cluster"  # one non-launchable root, as Moodle wants


def test_without_schemas_the_report_says_they_were_not_checked(our_packages):
    report = inspect_package(our_packages["scorm12"])
    assert report.schema == "not checked"
    assert any("schemas not checked" in line for line in format_report(report))
    assert report.ok()


def test_manifest_in_a_folder_fails_but_is_still_read(tmp_path):
    manifest = M12.format(version="1.2", title="Unit", href="index.html", files="")
    path = make_zip(
        tmp_path / "p.zip",
        {"course/imsmanifest.xml": manifest, "course/index.html": "<html></html>"},
    )
    report = inspect_package(path)
    assert not report.ok()
    assert "I102" in codes(report, "error")
    assert report.manifest == "course/imsmanifest.xml"
    assert report.organizations[0].items[0].launch == "index.html"
    assert report.missing == []


@pytest.mark.parametrize("name", ["./imsmanifest.xml", "IMSMANIFEST.XML"])
def test_manifest_name_must_be_exact(tmp_path, name):
    manifest = M12.format(version="1.2", title="Unit", href="index.html", files="")
    path = make_zip(tmp_path / "p.zip", {name: manifest, "index.html": "x"})
    assert "I102" in codes(inspect_package(path), "error")


def test_missing_and_unlisted_files(tmp_path):
    path = pkg12(
        tmp_path,
        files='<file href="media/gone.png"/><file href="a%20b.css"/>',
        extra={"a b.css": "x", "stray.txt": "x", "imscp_rootv1p1p2.xsd": "x"},
    )
    report = inspect_package(path)
    assert report.missing == ["media/gone.png"]
    assert report.unlisted == ["stray.txt"]  # schema files at the root are normal
    assert "I106" in codes(report, "error") and "I107" in codes(report, "warning")
    assert not report.ok()


@pytest.mark.parametrize(
    ("version", "severity"),
    [(" 1.2", "warning"), ("1.2 ", "warning"), ("SCORM 1.2", "warning")],
)
def test_schemaversion_text_moodle_does_not_recognise(tmp_path, version, severity):
    report = inspect_package(pkg12(tmp_path, version=version))
    assert "I202" in codes(report, severity)
    assert report.version == "1.2"


@pytest.mark.parametrize("version", ["2004 4th edition", " 2004 4th Edition", "2004"])
def test_2004_manifest_with_bad_schemaversion_gets_the_12_api(tmp_path, version):
    manifest = M2004.format(version=version, sequencing="")
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert report.declared == "2004" and report.version == "1.2"
    assert "I202" in codes(report, "error")


@pytest.mark.parametrize("version", ["2004 3rd Edition", "CAM 1.3", "1.3"])
def test_schemaversion_texts_moodle_reads_as_2004(tmp_path, version):
    manifest = M2004.format(version=version, sequencing="")
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert report.version == "2004" and report.ok()


def test_names_moodle_mangles(tmp_path):
    path = pkg12(tmp_path, href="hand&out.html", extra={"notes|old.txt": "x"})
    report = inspect_package(path)
    messages = [f.message for f in report.findings if f.code == "I104"]
    assert any("'hand&out.html' as 'handout.html': links to it break" in m for m in messages)
    errors = {f.where for f in report.findings if f.code == "I104" and f.severity == "error"}
    assert errors == {"hand&out.html"}  # the unlisted one is only a warning
    assert not report.ok()


def test_macos_junk_is_skipped_and_unsafe_paths_fail(tmp_path):
    path = pkg12(tmp_path, extra={"__MACOSX/._index.html": "x", "../evil.sh": "x"})
    report = inspect_package(path)
    assert "I105" in codes(report, "info") and "I103" in codes(report, "error")
    assert "__MACOSX/._index.html" not in report.unlisted


def test_sequencing_moodle_cannot_run(tmp_path):
    seq = """<imsss:sequencing>
      <imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>
        <imsss:ruleCondition condition="satisfied" referencedObjective="OBJ"/>
      </imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule>
      </imsss:sequencingRules>
      <imsss:rollupRules><imsss:rollupRule><imsss:rollupConditions>
        <imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
        <imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>
      <imsss:objectives><imsss:primaryObjective objectiveID="OBJ" satisfiedByMeasure="true">
        <imsss:mapInfo targetObjectiveID="G"/></imsss:primaryObjective></imsss:objectives>
    </imsss:sequencing>"""
    manifest = M2004.format(version="2004 4th Edition", sequencing=seq)
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert "I303" in codes(report, "error")  # mapInfo crashes Moodle's import
    texts = " ".join(f.message for f in report.findings)
    for word in ("rollup rules", "referencedObjective", "satisfiedByMeasure", "pre/exit/post"):
        assert word in texts
    assert not report.ok()


def test_titles_too_long_or_zero(tmp_path):
    report = inspect_package(pkg12(tmp_path, title="x" * 300))
    assert "I301" in codes(report, "warning") and report.ok() and not report.ok(strict=True)
    report = inspect_package(pkg12(tmp_path, title="0"))
    assert "I302" in codes(report, "warning")


def test_prefixed_cp_elements_are_invisible_to_moodle(tmp_path):
    manifest = (
        M12.format(version="1.2", title="Unit", href="index.html", files="")
        .replace('xmlns="http://www.imsproject.org', 'xmlns:cp="http://www.imsproject.org')
        .replace("<", "<cp:")
        .replace("<cp:/", "</cp:")
        .replace("<cp:?xml", "<?xml")
    )
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert "I308" in codes(report, "error")


def test_top_level_sibling_scos_and_broken_references(tmp_path):
    manifest = M12.format(version="1.2", title="Unit", href="index.html", files="").replace(
        '<item identifier="ITEM" identifierref="RES"><title>Unit</title></item>',
        '<item identifier="A" identifierref="RES"><title>A</title></item>'
        '<item identifier="B" identifierref="RES"><title>B</title></item>'
        '<item identifier="C" identifierref="NOPE"><title>C</title></item>',
    )
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert {"I306", "I206"} <= codes(report, "warning")


def test_not_a_zip_and_not_xml(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    report = inspect_package(junk)
    assert "I101" in codes(report, "error") and not report.ok()
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": "<manifest><oops></manifest>"})
    report = inspect_package(path)
    assert "I201" in codes(report, "error") and report.schema == "not applicable"


def test_no_external_entities_are_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    manifest = (
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        + M12.format(version="1.2", title="&x;", href="index.html", files="").split("?>", 1)[1]
    )
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert "TOP-SECRET" not in json.dumps(report.as_dict())


@pytest.mark.parametrize(
    ("example", "valid"),
    [
        ("scorm12_valid_full.xml", True),
        ("scorm12_invalid_bad_scormtype.xml", False),
        ("scorm2004_4th_valid_full.xml", True),
        ("scorm2004_4th_invalid_missing_identifier.xml", False),
    ],
)
def test_schema_validation_with_the_official_schemas(tmp_path, example, valid, schemas):
    manifest = (schemas / "examples" / example).read_bytes()
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest})
    report = inspect_package(path, schemas)
    assert report.schema == ("valid" if valid else "invalid")
    assert ("I401" in codes(report, "error")) is not valid


def test_schemas_folder_without_drivers_is_refused(tmp_path, our_packages):
    with pytest.raises(SchemasUnusable):
        inspect_package(our_packages["scorm12"], tmp_path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("inspect", *args)


def test_command_with_schemas_says_valid_and_pass(our_packages, schemas):
    proc = run(str(our_packages["scorm2004"]), "--schemas", str(schemas))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "schema:   valid" in proc.stdout and "PASS" in proc.stdout
    assert "index.html" in proc.stdout and "SCORM 2004" in proc.stdout


def test_command_exit_codes_text_and_json(tmp_path, our_packages):
    proc = run(str(our_packages["scorm2004"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "schema:   not checked" in proc.stdout and "PASS" in proc.stdout

    broken = pkg12(tmp_path, files='<file href="gone.js"/>')
    proc = run(str(broken), "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["ok"] is False and data["missing"] == ["gone.js"]
    assert data["schema"] == "not checked" and data["errors"] >= 1

    long_title = tmp_path / "long"
    long_title.mkdir()
    warn = pkg12(long_title, title="y" * 256)
    assert run(str(warn)).returncode == 0
    assert run(str(warn), "--strict").returncode == 1

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(str(our_packages["scorm12"]), "--schemas", str(empty)).returncode == 2
    assert run(str(tmp_path / "nope.zip")).returncode == 2
