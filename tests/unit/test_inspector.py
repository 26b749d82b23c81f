"""`inspect` on our packages and on broken ones made here, in tmp, from small manifests."""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.inspector import SchemasUnusable, format_report, inspect_package, printable
from builder.pipeline import BuildSettings, build
from tests.conftest import FIXTURES, REPO, cli_command, run_cli, schemas_dir

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


# --------------------------------------------------------------------------- hostile packages


def deflated(path: Path, entries: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def manifest12(**kw: str) -> str:
    values = {"version": "1.2", "title": "Unit", "href": "index.html", "files": ""} | kw
    return M12.format(**values)


def damage_first_entry(path: Path, damage) -> Path:
    """Apply `damage` to the bytes of a zip whose first entry is imsmanifest.xml."""
    data = bytearray(path.read_bytes())
    start = 30 + len("imsmanifest.xml")  # local header, then the name, then the data
    damage(data, start)
    path.write_bytes(bytes(data))
    return path


def scramble(data: bytearray, start: int) -> None:
    for i in range(start, start + 40):
        data[i] ^= 0x55


def set_encrypted(data: bytearray, start: int) -> None:
    data[6] |= 1  # general purpose flag, bit 0: encrypted
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1


def set_method(data: bytearray, start: int) -> None:
    data[8] = 99  # an unknown compression method (local header and central directory)
    central = data.index(b"PK\x01\x02")
    data[central + 10] = 99


def flip_crc(data: bytearray, start: int) -> None:
    central = data.index(b"PK\x01\x02")
    data[14] ^= 0xFF
    data[central + 16] ^= 0xFF


@pytest.mark.parametrize("damage", [scramble, set_encrypted, set_method, flip_crc])
def test_a_manifest_that_cannot_be_decompressed_is_a_finding(tmp_path, damage):
    path = deflated(tmp_path / "p.zip", {"imsmanifest.xml": manifest12(), "index.html": "x"})
    damage_first_entry(path, damage)
    report = inspect_package(path)
    [finding] = [f for f in report.findings if f.code == "I101"]
    assert finding.where == "imsmanifest.xml" and "cannot read imsmanifest.xml" in finding.message
    assert not report.ok() and report.schema == "not applicable"
    proc = run(str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error[I101]" in proc.stdout and "FAIL" in proc.stdout


def test_truncated_and_randomly_damaged_zips_never_raise(tmp_path):
    path = deflated(
        tmp_path / "good.zip",
        {"imsmanifest.xml": manifest12(), "index.html": "<p>x</p>" * 50, "a.css": "b{}"},
    )
    good = path.read_bytes()
    rng = random.Random(20261205)
    damaged = tmp_path / "bad.zip"
    outcomes = set()
    for size in range(0, len(good), 37):
        damaged.write_bytes(good[:size])
        outcomes.add(inspect_package(damaged).ok())
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        damaged.write_bytes(bytes(data))
        report = inspect_package(damaged)
        format_report(report)
        outcomes.add(report.ok())
    assert outcomes == {True, False}  # some damage is harmless, most is reported


ENTITY = '<?xml version="1.0"?>\n<!DOCTYPE manifest [<!ENTITY who "the team">]>\n'


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_schemas_check_a_manifest_with_internal_entities(tmp_path, version):
    if version == "1.2":
        body = manifest12(title="Made by &who;")
    else:
        body = M2004.format(version="2004 4th Edition", sequencing="").replace(
            "<title>Unit</title>", "<title>Unit &who; wrote</title>"
        )
    manifest = ENTITY + body.split("?>", 1)[1].replace(
        "<title>Course</title>", "<title>&who;&amp;&who;</title>"
    )
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    schemas = schemas_dir()
    report = inspect_package(path, schemas)
    assert report.schema == "valid", [str(f) for f in report.findings]
    [warning] = [f for f in report.findings if f.code == "I310"]
    assert "&who;" in warning.message and warning.severity == "warning"
    proc = run(str(path), "--schemas", str(schemas), "--strict")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "warning[I310]" in proc.stdout


def test_an_entity_as_the_schemaversion_is_not_a_version_moodle_reads(tmp_path):
    manifest = ENTITY.replace("the team", "1.2") + manifest12().split("?>", 1)[1].replace(
        "<schemaversion>1.2</schemaversion>", "<schemaversion>&who;</schemaversion>"
    )
    path = make_zip(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": "x"})
    report = inspect_package(path)
    assert "I310" in codes(report, "warning") and "I202" in codes(report, "warning")
    assert report.version == "1.2" and report.schemaversion == ""


# --------------------------------------------------------------------------- schema folders

TINY_DRIVER = """<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <xsd:import namespace="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
              schemaLocation="{location}"/>
</xsd:schema>
"""
TINY_CP = """<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"
  targetNamespace="http://www.imsproject.org/xsd/imscp_rootv1p1p2" elementFormDefault="qualified">
  <xsd:element name="manifest">
    <xsd:complexType>
      <xsd:sequence><xsd:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
      </xsd:sequence>
      <xsd:attribute name="identifier" type="xsd:ID" use="required"/>
      <xsd:attribute name="version" type="xsd:string"/>
    </xsd:complexType>
  </xsd:element>
</xsd:schema>
"""


def schema_folder(root: Path, location: str = "../cp/cp.xsd") -> Path:
    """A tiny schema folder in the official layout: drivers/scorm12.xsd imports cp/cp.xsd."""
    (root / "drivers").mkdir(parents=True)
    (root / "cp").mkdir()
    (root / "drivers" / "scorm12.xsd").write_text(TINY_DRIVER.format(location=location))
    (root / "cp" / "cp.xsd").write_text(TINY_CP)
    return root


def test_a_small_schema_folder_of_our_own_is_loaded_with_its_imports(tmp_path):
    folder = schema_folder(tmp_path / "schemas")
    path = pkg12(tmp_path)
    assert inspect_package(path, folder).schema == "valid"
    no_id = make_zip(
        tmp_path / "other.zip",
        {"imsmanifest.xml": manifest12().replace('identifier="MAN" ', ""), "index.html": "x"},
    )
    report = inspect_package(no_id, folder)
    assert report.schema == "invalid" and "I401" in codes(report, "error")


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def link_to(target: str):
    def make(path: Path) -> None:
        path.unlink(missing_ok=True)
        path.symlink_to(target)

    return make


def write(text: str):
    return lambda path: path.write_text(text)


def huge(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: large on paper, nothing to read


def folder_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize(
    ("which", "spoil", "words"),
    [
        ("cp/cp.xsd", fifo, "cp.xsd is not a regular file"),
        ("drivers/scorm12.xsd", fifo, "scorm12.xsd is not a regular file"),
        ("cp/cp.xsd", link_to("/dev/zero"), "cp.xsd is outside the schema folder"),
        ("cp/cp.xsd", link_to("/etc/hostname"), "cp.xsd is outside the schema folder"),
        ("cp/cp.xsd", huge, "cp.xsd is larger than"),
        ("cp/cp.xsd", folder_instead, "cp.xsd"),
        ("cp/cp.xsd", write("<xsd:schema"), "cp.xsd:1:"),
        ("cp/cp.xsd", write("<not-a-schema/>"), "cannot load the schema"),
        ("drivers/scorm12.xsd", write("\x00\x01 binary"), "scorm12.xsd:1:"),
        (
            "drivers/scorm12.xsd",
            write(TINY_DRIVER.format(location="http://example.invalid/cp.xsd")),
            "http://example.invalid/cp.xsd",
        ),
        (
            "drivers/scorm12.xsd",
            write(TINY_DRIVER.format(location="../../outside.xsd")),
            "outside.xsd",
        ),
    ],
)
def test_broken_or_hostile_schema_folders_are_refused_quickly(tmp_path, which, spoil, words):
    folder = schema_folder(tmp_path / "schemas")
    (tmp_path / "outside.xsd").write_text(TINY_CP)
    spoil(folder / which)
    package = pkg12(tmp_path)
    proc = subprocess.run(
        cli_command("inspect", str(package), "--schemas", str(folder)),
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and words in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_link_inside_the_schema_folder_is_followed(tmp_path):
    folder = schema_folder(tmp_path / "schemas")
    (folder / "cp" / "real.xsd").write_text(TINY_CP)
    link_to("real.xsd")(folder / "cp" / "cp.xsd")
    assert inspect_package(pkg12(tmp_path), folder).schema == "valid"


# --------------------------------------------------------------------------- terminal safety

NASTY = "\x1b[2J\x1b[H\rhidden\x07\u202eevil\x9b31m"


def test_text_output_escapes_every_non_printable_character(tmp_path):
    # XML allows C1 controls and bidirectional overrides, not C0 controls: those come in names.
    title = "T\u202eitle \x9b1m"
    href = "launch\u202e\x85.html"
    path = make_zip(
        tmp_path / f"pkg{NASTY[:4]}.zip",
        {
            "imsmanifest.xml": manifest12(title=title, href=href),
            href: "x",
            f"stray{NASTY}.txt": "x",
        },
    )
    report = inspect_package(path)
    lines = format_report(report)
    assert all(line.isprintable() for line in lines), lines
    text = "\n".join(lines)
    assert "stray\\x1b[2J\\x1b[H\\rhidden\\x07\\u202eevil\\x9b31m.txt" in text
    assert "T\\u202eitle \\x9b1m" in text and "pkg\\x1b[2J" in text
    assert "-> launch\\u202e\\x85.html" in text
    assert printable("café – ok") == "café – ok"  # ordinary letters and signs stay
    proc = run(str(path))
    assert proc.returncode == 0 and "PASS: 0 error(s), 2 warning(s)" in proc.stdout
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout and "\r" not in proc.stdout
    assert "stray\\x1b[2J" in proc.stdout
    data = json.loads(run(str(path), "--format", "json").stdout)
    assert f"stray{NASTY}.txt" in data["unlisted"]  # JSON keeps the real name, escaped by JSON
    proc = run(str(tmp_path / "gone\x1b[2J.zip"))
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and "gone\\x1b[2J" in proc.stderr


@given(st.text(st.characters(exclude_categories=()), max_size=30))
def test_printable_output_is_always_printable_and_keeps_printable_text(text):
    shown = printable(text)
    assert shown.isprintable()
    assert (shown == text) is text.isprintable()


def unix_entry(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (kind | 0o777) << 16
    return info


def test_symbolic_links_and_special_files_in_the_zip_are_errors(tmp_path):
    path = pkg12(tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(unix_entry("media/passwd", stat.S_IFLNK), "../../../../etc/passwd")
        zf.writestr(unix_entry("media/pipe", stat.S_IFIFO), "")
        zf.writestr(unix_entry("media/ok.txt", stat.S_IFREG), "fine")
        dos = zipfile.ZipInfo("media/dos.txt")
        dos.external_attr = 0x20  # an MS-DOS archive bit, not a file type
        zf.writestr(dos, "fine")
    report = inspect_package(path)
    flagged = {f.where: f for f in report.findings if f.code == "I109"}
    assert set(flagged) == {"media/passwd", "media/pipe"}
    assert "symbolic link to '../../../../etc/passwd'" in flagged["media/passwd"].message
    assert "not a regular file" in flagged["media/pipe"].message
    assert all(f.severity == "error" for f in flagged.values()) and not report.ok()
    assert report.unlisted == ["media/dos.txt", "media/ok.txt"]
    lines = run(str(path)).stdout
    assert "media/passwd: error[I109]" in lines


def fifo_package(path: Path) -> Path:
    os.mkfifo(path)
    return path


def device_package(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def folder_package(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("make", [fifo_package, device_package, folder_package])
def test_a_package_that_is_not_a_regular_file_is_a_usage_error_at_once(tmp_path, make):
    package = make(tmp_path / "p.zip")
    if make is not folder_package:
        report = inspect_package(package)
        assert [f.code for f in report.findings] == ["I101"] and not report.ok()
    proc = subprocess.run(
        cli_command("inspect", str(package)), capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "p.zip" in proc.stderr


def test_a_schemas_argument_that_is_not_a_folder_is_a_usage_error(tmp_path, our_packages):
    fifo = tmp_path / "schemas"
    os.mkfifo(fifo)
    proc = subprocess.run(
        cli_command("inspect", str(our_packages["scorm12"]), "--schemas", str(fifo)),
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "schemas" in proc.stderr


def test_page_data_nested_beyond_any_stack_is_skipped(tmp_path):
    deep = "[" * 200_000 + "]" * 200_000
    page = f'<script type="application/json" id="course-data">{deep}</script>'
    manifest = M2004.format(version="2004 4th Edition", sequencing="")
    path = deflated(tmp_path / "p.zip", {"imsmanifest.xml": manifest, "index.html": page})
    report = inspect_package(path)
    assert report.ok() and report.version == "2004"


def test_the_pages_read_for_the_runtime_check_are_bounded(tmp_path, monkeypatch):
    from builder import inspector

    reads = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(
        zipfile.ZipFile, "read", lambda zf, name, *a: reads.append(name) or real_read(zf, name, *a)
    )
    monkeypatch.setattr(inspector, "MAX_RUNTIME_READ", 3_000)
    pages = {f"p{n}.html": "x" * 1_000 for n in range(10)}
    path = deflated(tmp_path / "p.zip", {"imsmanifest.xml": manifest12(), **pages})
    inspect_package(path)
    assert len([r for r in reads if str(getattr(r, "filename", r)).endswith(".html")]) == 3
