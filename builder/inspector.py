"""Pre-flight check of any SCORM package, ours or not, against what Moodle will do with it.

Reads the zip and its manifest without extracting anything and without trusting it: the manifest
may be elsewhere than the root, malformed, or name files that are not there. The checks follow
Moodle's SCORM module (version from the `<schemaversion>` text, literal namespace prefixes, name
cleaning) and what Moodle is known to accept. Schema validation uses the official
schema files in a folder the caller names (the project does not ship them); without it the report
says so. That folder is not trusted either: only regular files inside it are read, none over a size
limit, and nothing from the network.

Everything the report shows comes from the package, so the text output escapes every character a
terminal could act on (`printable`).
"""

from __future__ import annotations

import copy
import json
import os
import posixpath
import re
import stat
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from lxml import etree

Severity = Literal["error", "warning", "info"]

MANIFEST = "imsmanifest.xml"
CP12 = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
CP2004 = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP12 = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
ADLCP2004 = "http://www.adlnet.org/xsd/adlcp_v1p3"
IMSSS = "http://www.imsglobal.org/xsd/imsss"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"
IMSMD12 = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"
XML_NS = "http://www.w3.org/XML/1998/namespace"
#: The only prefixes Moodle recognises for each extension namespace (it matches names literally).
PREFIXES = {
    ADLCP12: "adlcp",
    ADLCP2004: "adlcp",
    IMSSS: "imsss",
    ADLSEQ: "adlseq",
    ADLNAV: "adlnav",
}
DRIVERS = {"1.2": "drivers/scorm12.xsd", "2004": "drivers/scorm2004_4th.xsd"}
#: Larger manifests are refused rather than read into memory (a zip can claim any size).
MAX_MANIFEST = 16 * 1024 * 1024
#: Limits on the schema folder: one file, and all files read for one schema.
MAX_SCHEMA_FILE = 4 * 1024 * 1024
MAX_SCHEMA_TOTAL = 32 * 1024 * 1024
#: What the check of our own runtime's pages reads from one package at most.
MAX_RUNTIME_READ = 64 * 1024 * 1024
#: A symbolic link entry's target is shown up to this many bytes.
MAX_LINK_TARGET = 1024
#: What reading one entry of a damaged or unusual zip can raise.
ZIP_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    ValueError,
    NotImplementedError,
)
TITLE_MAX = 255

# Moodle's scorm_parse_scorm(): these texts select SCORM 2004; anything else means 1.2.
_SCHEMAVERSION_12 = re.compile(r"^1\.2$")
_SCHEMAVERSION_2004 = re.compile(r"^(CAM )?1\.3$|^2004 (3rd|4th) Edition$")
#: Characters Moodle removes from entry names (a backslash becomes '/').
_MANGLED = re.compile(r"[&<>\"'`|:\x00-\x1f\x7f]")
_CHAR_REF = re.compile(rb"&#(x[0-9a-fA-F]+|[0-9]+);")
_XML_ID = re.compile(r"^[A-Za-z_][\w.\-]*$")


def printable(text: str) -> str:
    """`text` with every character a terminal could act on written as an escape (e.g. '\\x1b').

    Zip entry names, titles and identifiers come from the package: printed as they are, escape
    sequences could clear the screen, hide lines or reorder text (bidirectional controls).
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


@dataclass(frozen=True)
class Finding:
    """One problem (or remark) about the package."""

    severity: Severity
    code: str
    message: str
    where: str = ""
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{printable(self.where)}: " if self.where else ""
        text = f"{where}{self.severity}[{self.code}]: {printable(self.message)}"
        return text + (f"\n  hint: {printable(self.hint)}" if self.hint else "")


@dataclass
class Item:
    """An item of an organization: a SCO, an asset, or a cluster without launch."""

    identifier: str
    title: str
    depth: int
    kind: Literal["sco", "asset", "cluster", "broken"]
    launch: str | None = None


@dataclass
class Organization:
    """An organization of the manifest and its items, depth first."""

    identifier: str
    title: str
    default: bool
    items: list[Item] = field(default_factory=list)


@dataclass
class Report:
    """Everything `inspect` found out about one package."""

    package: str
    size: int = 0
    entries: int = 0
    uncompressed: int = 0
    manifest: str | None = None
    schemaversion: str | None = None
    version: str | None = None
    """The SCORM version Moodle will use: '1.2' or '2004' (from the schemaversion text)."""
    declared: str | None = None
    """The version the manifest's namespace says."""
    organizations: list[Organization] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    schema: Literal["valid", "invalid", "not checked", "not applicable"] = "not checked"
    findings: list[Finding] = field(default_factory=list)
    #: The course's reporting rule, when the package was built by scorm-builder.
    reporting: str | None = None

    def add(self, severity: Severity, code: str, message: str, **kw: Any) -> None:
        """Record a finding."""
        self.findings.append(Finding(severity, code, message, **kw))

    def count(self, severity: Severity) -> int:
        """How many findings have this severity."""
        return sum(f.severity == severity for f in self.findings)

    def ok(self, strict: bool = False) -> bool:
        """Pass: no error (and, if strict, no warning)."""
        return not self.count("error") and not (strict and self.count("warning"))

    def as_dict(self, strict: bool = False) -> dict[str, Any]:
        """The report as plain data, for `--format json`."""
        data = asdict(self)
        data["ok"] = self.ok(strict)
        data["errors"] = self.count("error")
        data["warnings"] = self.count("warning")
        return data


# --------------------------------------------------------------------------- zip


def _find_manifest(names: list[str], report: Report) -> str | None:
    if MANIFEST in names:
        return MANIFEST
    candidates = sorted(
        (n for n in names if posixpath.basename(n).lower() == MANIFEST and "__MACOSX" not in n),
        key=lambda n: (n.count("/"), n),
    )
    if not candidates:
        report.add(
            "error",
            "I102",
            "no imsmanifest.xml in the package: Moodle refuses it ('missing imsmanifest.xml')",
            hint="a SCORM package has imsmanifest.xml at the root of the zip",
        )
        return None
    found = candidates[0]
    why = (
        "the name is not exactly 'imsmanifest.xml'"
        if "/" not in found.lstrip("./")
        else "it is inside a folder"
    )
    report.add(
        "error",
        "I102",
        f"the manifest is at '{found}', not at the zip root ({why}): Moodle says it is "
        "'not in the root'",
        where=found,
        hint="zip the contents of the course folder, not the folder itself",
    )
    return found


def _check_names(zf: zipfile.ZipFile, report: Report) -> list[str]:
    """File entries of the zip; findings for names that are unsafe, mangled or skipped."""
    files = []
    seen: set[str] = set()
    for info in zf.infolist():
        name = info.filename
        if name in seen:
            report.add("warning", "I108", f"the zip has two entries named '{name}'", where=name)
        seen.add(name)
        if _special_entry(zf, info, report):
            continue
        if info.is_dir():
            continue
        report.entries += 1
        report.uncompressed += info.file_size
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
            report.add(
                "error",
                "I103",
                f"entry '{name}' would be written outside the package folder",
                where=name,
            )
            continue
        base = parts[-1]
        if "__MACOSX" in parts or base == ".DS_Store":
            report.add("info", "I105", f"Moodle skips '{name}' (a macOS system file)", where=name)
            continue
        files.append(name)
    return files


def _special_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, report: Report) -> bool:
    """Flag an entry made on Unix as a symbolic link, device, FIFO or socket; True if it is one."""
    if info.create_system != 3:  # only Unix zips keep a file type in the external attributes
        return False
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return False
    name = info.filename
    if kind == stat.S_IFLNK:
        try:
            with zf.open(info) as entry:
                target = entry.read(MAX_LINK_TARGET).decode("utf-8", "replace")
        except ZIP_READ_ERRORS:
            target = "(unreadable)"
        report.add(
            "error",
            "I109",
            f"entry '{name}' is a symbolic link to '{target}': a tool that extracts it may write "
            "or read outside the package folder",
            where=name,
            hint="zip the files themselves, not links to them (zip -r without --symlinks)",
        )
    else:
        report.add(
            "error",
            "I109",
            f"entry '{name}' is not a regular file (a device, FIFO or socket)",
            where=name,
        )
    return True


def _mangled(name: str) -> str | None:
    """The name Moodle stores for `name`, when it differs."""
    cleaned = _MANGLED.sub("", name.replace("\\", "/"))
    return cleaned if cleaned != name else None


# --------------------------------------------------------------------------- manifest


def _parse(data: bytes, where: str, report: Report) -> etree._Element | None:
    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or 1
        report.add(
            "error",
            "I201",
            f"the manifest is not well-formed XML: {exc.msg}",
            where=f"{where}:{line}",
        )
        return None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _ns(el: etree._Element) -> str | None:
    return etree.QName(el).namespace


def _attr(el: etree._Element, local: str, namespaces: tuple[str, ...] = ()) -> str | None:
    """An attribute by local name, unprefixed or in one of `namespaces`, in any case."""
    for key, value in el.attrib.items():
        qn = etree.QName(key)
        if qn.localname.lower() != local.lower():
            continue
        if (qn.namespace is None and not namespaces) or qn.namespace in namespaces:
            return str(value)
    return None


def _title(el: etree._Element, cp: str | None) -> str | None:
    node = el.find(f"{{{cp}}}title") if cp else el.find("title")
    if node is None:
        return None
    return "".join(str(part) for part in node.itertext())


def _line(el: etree._Element) -> int:
    line = el.sourceline
    return line if isinstance(line, int) and line > 0 else 1


def _where(manifest: str, el: etree._Element) -> str:
    return f"{manifest}:{_line(el)}"


def _detect_version(root: etree._Element, cp: str | None, report: Report, where: str) -> None:
    report.declared = {CP12: "1.2", CP2004: "2004"}.get(_ns(root) or "")
    node = root.find(f"{{{cp}}}metadata/{{{cp}}}schemaversion") if cp else None
    if node is None:
        node = root.find("metadata/schemaversion")
    text = None if node is None else (node.text or "")
    report.schemaversion = text
    if text is not None and _SCHEMAVERSION_2004.match(text):
        report.version = "2004"
    else:
        report.version = "1.2"
        if text is not None and not _SCHEMAVERSION_12.match(text):
            severity: Severity = "error" if report.declared == "2004" else "warning"
            report.add(
                severity,
                "I202",
                f"schemaversion {text!r} is not a text Moodle recognises: it falls back to "
                "SCORM 1.2 and learners get the 1.2 API",
                where=_where(where, node) if node is not None else where,
                hint="write exactly '1.2' or '2004 4th Edition' (no spaces around it)",
            )
        elif text is None and report.declared == "2004":
            report.add(
                "error",
                "I202",
                "a SCORM 2004 manifest without <schemaversion>: Moodle treats it as SCORM 1.2",
                where=where,
                hint="add <metadata><schema>ADL SCORM</schema>"
                "<schemaversion>2004 4th Edition</schemaversion></metadata>",
            )
    if (
        report.declared
        and report.declared != report.version
        and not any(f.code == "I202" for f in report.findings)
    ):
        report.add(
            "warning",
            "I202",
            f"the manifest's namespace is SCORM {report.declared} but its schemaversion says "
            f"SCORM {report.version}; Moodle follows the schemaversion",
            where=where,
        )


def _check_prefixes(root: etree._Element, cp: str | None, report: Report, where: str) -> None:
    """Moodle matches element names with their prefix: CP unprefixed, extensions by name."""
    bad: dict[str, str] = {}
    for el in root.iter(etree.Element):
        ns = _ns(el)
        if ns is not None and ns == cp and el.prefix is not None:
            bad.setdefault(f"{el.prefix}:{_local(el)}", _where(where, el))
        elif ns in PREFIXES and el.prefix != PREFIXES[ns]:
            bad.setdefault(f"{el.prefix or '(default)'}:{_local(el)}", _where(where, el))
        for key in el.attrib:
            qn = etree.QName(key)
            if qn.namespace in PREFIXES:
                prefixes = [p for p, u in el.nsmap.items() if u == qn.namespace]
                if PREFIXES[qn.namespace] not in prefixes:
                    shown = prefixes[0] if prefixes and prefixes[0] else "(unbound)"
                    bad.setdefault(f"{shown}:{qn.localname}", _where(where, el))
    for name, at in sorted(bad.items()):
        report.add(
            "error",
            "I308",
            f"'{name}': Moodle reads names with their prefix, so it does not see this one",
            where=at,
            hint="content-packaging elements take no prefix; extensions use exactly "
            "adlcp:, imsss:, adlseq:, adlnav:",
        )


def _check_sequencing(root: etree._Element, report: Report, where: str) -> None:
    """Sequencing that crashes Moodle's import, or that it stores but never runs."""
    seen: set[str] = set()

    def once(code: str, severity: Severity, message: str, el: etree._Element) -> None:
        if message not in seen:
            seen.add(message)
            report.add(severity, code, message, where=_where(where, el))

    for el in root.iter(etree.Element):
        ns, local = _ns(el), _local(el)
        if ns == IMSSS and local == "mapInfo":
            once(
                "I303",
                "error",
                "imsss:mapInfo (objectives shared between SCOs) crashes Moodle's SCORM import",
                el,
            )
        elif ns == ADLSEQ and local == "mapInfo":
            once("I304", "warning", "adlseq:mapInfo is stored by Moodle but never used", el)
        elif ns == IMSSS and local == "rollupRule":
            once(
                "I304",
                "warning",
                "rollup rules: Moodle does not store their actions and never runs them",
                el,
            )
        elif ns == IMSSS and local in (
            "preConditionRule",
            "exitConditionRule",
            "postConditionRule",
        ):
            once(
                "I305",
                "warning",
                "sequencing rules (pre/exit/post conditions): Moodle stores them but does not "
                "run them; only 'continue' and 'previous' navigation work",
                el,
            )
        elif ns == IMSSS and local == "ruleCondition" and _attr(el, "referencedObjective"):
            once(
                "I304",
                "warning",
                "a rule condition's referencedObjective is silently dropped by Moodle",
                el,
            )
        elif ns == IMSSS and local in ("primaryObjective", "objective"):
            if _attr(el, "satisfiedByMeasure"):
                once(
                    "I304",
                    "warning",
                    "satisfiedByMeasure is silently dropped by Moodle: the content must set "
                    "success_status itself",
                    el,
                )
        elif ns == IMSSS and local == "sequencingCollection":
            once("I305", "warning", "a sequencing collection: Moodle does not run it", el)


def _resolve(base: str, href: str) -> str | None:
    """The zip entry an href points to, or None for a URL outside the package."""
    try:
        parts = urlsplit(href)
    except ValueError:  # e.g. 'http://[x': not a URL, so not a file in the package either
        return None
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if not path:
        return None
    joined = posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)
    return joined.lstrip("/")


def _inspect_manifest(
    root: etree._Element, raw: bytes, manifest: str, files: list[str], report: Report
) -> None:
    cp = _ns(root) if _ns(root) in (CP12, CP2004) else None
    if cp is None and _ns(root) is not None:
        report.add(
            "error",
            "I201",
            f"the manifest's root is in namespace '{_ns(root)}', not IMS Content Packaging",
            where=_where(manifest, root),
        )
    if _local(root) != "manifest":
        report.add(
            "error",
            "I201",
            f"the manifest's root element is <{_local(root)}>, not <manifest>",
            where=_where(manifest, root),
        )
        return

    def q(tag: str) -> str:
        return f"{{{cp}}}{tag}" if cp else tag

    _detect_version(root, cp, report, manifest)
    _check_prefixes(root, cp, report, manifest)
    if report.version == "2004" or report.declared == "2004":
        _check_sequencing(root, report, manifest)
    entities = sorted({str(e.text) for e in root.iter(etree.Entity)})  # e.g. '&x;'
    if entities:
        report.add(
            "warning",
            "I310",
            f"the manifest uses entity references ({', '.join(entities)}): "
            "inspect does not expand them, so the text they stand for is not checked",
            where=manifest,
            hint="write the text itself, and leave out the DOCTYPE declaration",
        )
    if _CHAR_REF.search(raw):
        report.add(
            "warning",
            "I309",
            "the manifest uses numeric character references (e.g. '&#233;'): Moodle shows "
            "them as text",
            where=manifest,
            hint="write the characters themselves in UTF-8",
        )
    for el in (root, root.find(q("resources"))):
        if el is not None and el.get(f"{{{XML_NS}}}base"):
            report.add(
                "warning",
                "I307",
                f"xml:base on <{_local(el)}> is ignored by Moodle: only a resource's own "
                "xml:base counts in the launch URL",
                where=_where(manifest, el),
            )

    # Identifiers.
    ids: dict[str, int] = {}
    for el in root.iter(etree.Element):
        ident = el.get("identifier")
        if ident is None:
            continue
        if ident in ids:
            report.add(
                "error",
                "I207",
                f"identifier '{ident}' is used twice (first on line {ids[ident]})",
                where=_where(manifest, el),
            )
        else:
            ids[ident] = _line(el)
        if not _XML_ID.match(ident):
            report.add(
                "error",
                "I207",
                f"identifier '{ident}' is not an XML ID (no leading digit, no spaces)",
                where=_where(manifest, el),
            )

    # Resources: launch paths and every file the manifest lists.
    scorm_ns = (ADLCP12, ADLCP2004)
    base_dir = posixpath.dirname(manifest)
    listed: set[str] = {manifest}
    resources: dict[str, tuple[str | None, str]] = {}
    for res in root.iter(q("resource")):
        rid = res.get("identifier") or ""
        rbase = posixpath.join(base_dir, res.get(f"{{{XML_NS}}}base") or "")
        stype = _attr(res, "scormtype", scorm_ns)
        if stype is None:
            kind = "asset"
        elif stype in ("sco", "asset"):
            kind = stype
        else:
            kind = "asset"
            report.add(
                "warning",
                "I208",
                f"resource '{rid}': scormtype '{stype}' is not exactly 'sco' or 'asset'; Moodle "
                "treats it as an asset, so nothing is tracked",
                where=_where(manifest, res),
            )
        href = res.get("href")
        launch = _resolve(rbase, href) if href else None
        # Moodle's launch URL: the resource's own xml:base + href, relative to the manifest.
        resources[rid] = ((res.get(f"{{{XML_NS}}}base") or "") + href if href else None, kind)
        for path in [launch, *(_resolve(rbase, f.get("href") or "") for f in res.iter(q("file")))]:
            if path:
                listed.add(path)
    for loc in root.iter(f"{{{ADLCP12}}}location", f"{{{ADLCP2004}}}location"):
        path = _resolve(base_dir, (loc.text or "").strip())
        if path:
            listed.add(path)

    present = set(files)
    report.missing = sorted(p for p in listed if p not in present)
    for path in report.missing:
        report.add(
            "error",
            "I106",
            f"'{path}' is listed in the manifest but is not in the zip",
            where=manifest,
        )
    schema_files = (".xsd", ".dtd")
    report.unlisted = sorted(
        f
        for f in files
        if f not in listed
        and not (posixpath.dirname(f) == base_dir and f.lower().endswith(schema_files))
    )
    for path in report.unlisted:
        report.add(
            "warning", "I107", f"'{path}' is in the zip but not listed in the manifest", where=path
        )
    for name in files:
        cleaned = _mangled(name)
        if cleaned is not None:
            severity: Severity = "error" if name in listed else "warning"
            report.add(
                severity,
                "I104",
                f"Moodle stores '{name}' as '{cleaned}'"
                + (": links to it break" if severity == "error" else ""),
                where=name,
                hint="rename the file without & < > \" ' ` | : \\ and update the links",
            )

    # Organizations and their items.
    orgs = root.find(q("organizations"))
    org_list = [] if orgs is None else orgs.findall(q("organization"))
    default = orgs.get("default") if orgs is not None else None
    if not org_list:
        report.add(
            "error",
            "I203",
            "the manifest has no organization: Moodle finds nothing to launch",
            where=_where(manifest, orgs if orgs is not None else root),
        )
    elif orgs is not None and default and default not in {o.get("identifier") for o in org_list}:
        report.add(
            "error",
            "I203",
            f"organizations@default '{default}' names no organization",
            where=_where(manifest, orgs),
        )

    def check_title(el: etree._Element, what: str) -> str:
        text = _title(el, cp)
        if text is None or not text.strip():
            report.add("warning", "I302", f"{what} has no title", where=_where(manifest, el))
            return ""
        if text.strip() == "0":
            report.add(
                "warning",
                "I302",
                f"{what} is titled '0', which Moodle loses",
                where=_where(manifest, el),
            )
        if len(text) > TITLE_MAX:
            report.add(
                "warning",
                "I301",
                f"{what}'s title has {len(text)} characters; Moodle keeps {TITLE_MAX}",
                where=_where(manifest, el),
            )
        return " ".join(text.split())

    launchable = 0
    for org in org_list:
        oid = org.get("identifier") or ""
        info = Organization(
            oid,
            check_title(org, f"organization '{oid}'"),
            default == oid or (not default and org is org_list[0]),
        )
        report.organizations.append(info)

        def walk(parent: etree._Element, depth: int, into: Organization) -> int:
            found = 0
            for item in parent.findall(q("item")):
                iid = item.get("identifier") or ""
                title = check_title(item, f"item '{iid}'")
                ref = item.get("identifierref")
                entry = Item(iid, title, depth, "cluster")
                if ref is not None:
                    if ref not in resources:
                        entry.kind = "broken"
                        report.add(
                            "warning",
                            "I206",
                            f"item '{iid}' refers to resource '{ref}', which does not exist: "
                            "Moodle keeps the item but it cannot be launched",
                            where=_where(manifest, item),
                        )
                    else:
                        href, kind = resources[ref]
                        params = item.get("parameters") or ""
                        entry.kind = kind  # type: ignore[assignment]
                        entry.launch = (href or "") + params if href else None
                        if href:
                            found += 1
                into.items.append(entry)
                found += walk(item, depth + 1, into)
            return found

        count = walk(org, 0, info)
        launchable += count
        top = org.findall(q("item"))
        if len(top) > 1 and count > 1:
            report.add(
                "warning",
                "I306",
                f"organization '{oid}' has {len(top)} top-level items: Moodle's next/previous "
                "buttons misbehave",
                where=_where(manifest, org),
                hint="put the SCOs under one item without a launch",
            )
    if org_list and not launchable:
        report.add(
            "error",
            "I204",
            "no item can be launched: no item refers to a resource with an href",
            where=manifest,
        )


# --------------------------------------------------------------------------- schemas


class _SchemaFolder(etree.Resolver):
    """Every file libxml2 asks for while compiling a schema, read only from the schema folder.

    A resolver sees each load (the driver and every import and include), so nothing else opens a
    file: a FIFO cannot block, a link cannot lead outside, a huge file cannot fill the memory.
    """

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.total = 0
        self.problem: str | None = None

    def read(self, url: str) -> bytes:
        """The bytes of a schema file; SchemasUnusable (naming it) if it may not be read."""
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("", "file") or parts.netloc:
            raise SchemasUnusable(f"a schema refers to {url!r}, outside the schema folder")
        path = Path(unquote(parts.path))
        shown = printable(str(path))
        real = os.path.realpath(path)
        if not Path(real).is_relative_to(self.folder):
            raise SchemasUnusable(f"{shown} is outside the schema folder (a link?)")
        try:
            # Non-blocking: opening a FIFO must not wait for a writer (fstat then refuses it).
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except (OSError, ValueError) as exc:
            raise SchemasUnusable(f"cannot read {shown}: {getattr(exc, 'strerror', exc)}") from exc
        with os.fdopen(fd, "rb") as handle:
            try:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise SchemasUnusable(f"{shown} is not a regular file")
                if info.st_size > MAX_SCHEMA_FILE:
                    raise SchemasUnusable(f"{shown} is larger than {MAX_SCHEMA_FILE} bytes")
                self.total += info.st_size
                if self.total > MAX_SCHEMA_TOTAL:
                    raise SchemasUnusable(
                        f"the schema files add up to more than {MAX_SCHEMA_TOTAL} bytes"
                    )
                return handle.read(MAX_SCHEMA_FILE + 1)[:MAX_SCHEMA_FILE]
            except OSError as exc:
                raise SchemasUnusable(f"cannot read {shown}: {exc.strerror}") from exc

    # lxml passes a context (the stubs leave it out).
    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        try:
            data = self.read(system_url)
        except SchemasUnusable as exc:
            self.problem = self.problem or str(exc)
            data = b"<refused/>"  # not a schema: the import fails, and _schema says why
        return self.resolve_string(data, context, base_url=system_url)


@cache
def _schema(folder: Path, driver: str) -> etree.XMLSchema:
    """An official SCORM schema from `folder` (resolved), compiled once, with no network."""
    files = _SchemaFolder(folder)
    parser = etree.XMLParser(
        no_network=True, load_dtd=False, resolve_entities=False, huge_tree=False
    )
    parser.resolvers.add(files)
    url = urlunsplit(("file", "", str(folder / driver), "", ""))
    try:
        doc = etree.fromstring(files.read(url), parser, base_url=url)
        schema = etree.XMLSchema(doc)
    except (etree.Error, ValueError, RecursionError) as exc:
        raise SchemasUnusable(files.problem or _schema_error(folder / driver, exc)) from exc
    if files.problem:
        raise SchemasUnusable(files.problem)
    return schema


def _schema_error(driver: Path, exc: Exception) -> str:
    """Why a schema does not compile, naming the file at fault (a syntax error first)."""
    entries = list(getattr(exc, "error_log", None) or [])
    syntax = [e for e in entries if e.domain_name == "PARSER"]
    entry = syntax[0] if syntax else (entries[-1] if entries else None)
    if entry is None or not entry.filename:
        return f"cannot load the schema {printable(str(driver))}: {printable(str(exc))}"
    where = unquote(urlsplit(entry.filename).path) or entry.filename
    return (
        f"cannot load the schema {printable(str(driver))}: "
        f"{printable(where)}:{entry.line}: {printable(entry.message)}"
    )


def _without_entities(root: etree._Element) -> etree._Element:
    """A copy of the manifest without its (unexpanded) entity references, for the validator."""
    doc = copy.deepcopy(root)
    for ref in list(doc.iter(etree.Entity)):
        parent = ref.getparent()
        if parent is None:
            continue
        if ref.tail:
            before = ref.getprevious()
            if before is not None:
                before.tail = (before.tail or "") + ref.tail
            else:
                parent.text = (parent.text or "") + ref.tail
        parent.remove(ref)
    return doc


def _validate_schema(root: etree._Element, report: Report, schemas: Path, manifest: str) -> None:
    version = report.declared or report.version
    if version not in DRIVERS:
        report.schema = "not applicable"
        report.add("warning", "I402", "cannot pick a schema for this manifest", where=manifest)
        return
    schema = _schema(Path(os.path.realpath(schemas)), DRIVERS[version])
    doc = _without_entities(root)
    if version == "1.2":
        # The 1.2 IMS MD schema cannot be compiled by libxml2 (see the schemas' README).
        dropped = [el for el in doc.iter(f"{{{IMSMD12}}}lom")]
        for el in dropped:
            el.getparent().remove(el)  # type: ignore[union-attr]
        if dropped:
            report.add(
                "info",
                "I402",
                "inline IMS metadata in a SCORM 1.2 manifest cannot be schema-checked and was "
                "skipped",
                where=manifest,
            )
    if schema.validate(doc):
        report.schema = "valid"
        return
    report.schema = "invalid"
    for err in schema.error_log:  # type: ignore[attr-defined]  # iterable at run time
        report.add("error", "I401", f"schema: {err.message}", where=f"{manifest}:{err.line}")


class SchemasUnusable(Exception):
    """The --schemas folder does not hold the official schema drivers."""


# --------------------------------------------------------------------------- entry point


def inspect_package(path: Path, schemas: Path | None = None) -> Report:
    """Inspect a SCORM zip; raise SchemasUnusable if `schemas` cannot be loaded."""
    report = Report(package=str(path))
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode):  # a FIFO or a device would block or never end
            report.add("error", "I101", "the package is not a regular file")
            report.schema = "not applicable"
            return report
        report.size = found.st_size
        zf = zipfile.ZipFile(path)
    except ZIP_READ_ERRORS as exc:
        report.add("error", "I101", f"cannot read the package as a zip file: {exc}")
        report.schema = "not applicable"
        return report
    with zf:
        files = _check_names(zf, report)
        runtime = _runtime_facts(zf, files)
        manifest = _find_manifest(files, report)
        if manifest is None:
            report.schema = "not applicable"
            return report
        report.manifest = manifest
        info = zf.getinfo(manifest)
        if info.file_size > MAX_MANIFEST:
            report.add("error", "I201", f"the manifest is {info.file_size} bytes, too large")
            report.schema = "not applicable"
            return report
        try:
            raw = zf.read(manifest)
        except ZIP_READ_ERRORS as exc:
            report.add(
                "error", "I101", f"cannot read {manifest} from the zip: {exc}", where=manifest
            )
            report.schema = "not applicable"
            return report
    root = _parse(raw, manifest, report)
    if root is None:
        report.schema = "not applicable"
        return report
    _inspect_manifest(root, raw, manifest, files, report)
    _check_runtime_values(runtime, report)
    if schemas is not None:
        _validate_schema(root, report, schemas, manifest)
    else:
        report.add(
            "info",
            "I400",
            "schemas not checked: pass --schemas DIR (the official SCORM schema folder)",
        )
    return report


# --------------------------------------------------------------------------- our runtime

_COURSE_DATA = re.compile(rb'<script[^>]*\bid="course-data"[^>]*>(.*?)</script>', re.DOTALL)
_SAFE_RESPONSE_ID = re.compile(r"^[A-Za-z0-9_.]{1,250}$")
#: The runtime of builds before Moodle-safe values sent toISOString()'s 3 decimals as is.
_OLD_TIMESTAMP = re.compile(rb"return date\.toISOString\(\);")


@dataclass
class _RuntimeFacts:
    """What a scorm-builder package's pages tell about the values its runtime will send."""

    pages: dict[str, Any] = field(default_factory=dict)
    old_timestamps: bool = False


def _runtime_facts(zf: zipfile.ZipFile, files: list[str]) -> _RuntimeFacts:
    facts = _RuntimeFacts()
    budget = MAX_RUNTIME_READ  # a hostile zip may hold many large pages: read this much at most
    for name in files:
        info = zf.getinfo(name)
        if info.file_size > MAX_MANIFEST or not name.endswith((".html", "scorm-runtime.js")):
            continue
        budget -= info.file_size
        if budget < 0:
            break
        try:
            data = zf.read(info)
        except ZIP_READ_ERRORS:
            continue
        if name.endswith(".js"):
            facts.old_timestamps |= bool(_OLD_TIMESTAMP.search(data))
        elif m := _COURSE_DATA.search(data):
            try:
                facts.pages[name] = json.loads(m.group(1))
            except (ValueError, RecursionError):  # not JSON, or nested beyond Python's stack
                continue
    return facts


def _unsafe_response_ids(course: Any) -> list[str]:
    """Option, prompt and target ids that SCORM 2004 would send unmapped and Moodle refuses."""
    unsafe = []
    units = course.get("units") if isinstance(course, dict) else None
    for unit in units if isinstance(units, list) else []:
        quiz = unit.get("quiz") if isinstance(unit, dict) else None
        for q in quiz.get("questions", []) if isinstance(quiz, dict) else []:
            mapped = q.get("lmsIds") or {}
            ids = [*q.get("options", []), *q.get("prompts", []), *q.get("targets", [])]
            unsafe += [
                f"{q.get('id')}: {i}"
                for i in ids
                if isinstance(i, str) and not _SAFE_RESPONSE_ID.match(mapped.get(i, i))
            ]
    return unsafe


def _check_runtime_values(facts: _RuntimeFacts, report: Report) -> None:
    """Warn about a scorm-builder SCORM 2004 package whose runtime values Moodle refuses."""
    for course in facts.pages.values():
        status = (course.get("reporting") or {}).get("status") if isinstance(course, dict) else None
        report.reporting = report.reporting or (status if isinstance(status, str) else None)
    if report.version != "2004" or not facts.pages:
        return
    unsafe = sorted({i for course in facts.pages.values() for i in _unsafe_response_ids(course)})
    problems = []
    if unsafe:
        shown = ", ".join(unsafe[:3]) + (", …" if len(unsafe) > 3 else "")
        problems.append(f"{len(unsafe)} answer id(s) Moodle refuses ({shown})")
    if facts.old_timestamps:
        problems.append("interaction timestamps with three decimals, which Moodle refuses")
    if problems:
        report.add(
            "warning",
            "I501",
            "this SCORM 2004 package was built by an older scorm-builder whose runtime sends "
            + " and ".join(problems)
            + ": in Moodle nothing is saved after the first quiz answer",
            hint="rebuild the course with this version of scorm-builder",
        )


def format_report(report: Report, strict: bool = False) -> list[str]:
    """The report as text lines for a terminal, every non-printable character escaped."""
    kib = report.size / 1024
    lines = [
        f"package:  {report.package}",
        f"size:     {kib:.1f} KiB, {report.entries} files, "
        f"{report.uncompressed / 1024:.1f} KiB uncompressed",
    ]
    if report.manifest:
        shown = report.schemaversion if report.schemaversion is not None else "(none)"
        declared = f", namespace says {report.declared}" if report.declared else ""
        lines.append(
            f"version:  SCORM {report.version} in Moodle (schemaversion {shown!r}{declared})"
        )
    for org in report.organizations:
        mark = " (default)" if org.default else ""
        lines.append(f"organization {org.identifier}{mark}: {org.title}")
        for item in org.items:
            pad = "  " * (item.depth + 1)
            target = f" -> {item.launch}" if item.launch else ""
            lines.append(f"{pad}{item.kind:<7} {item.identifier}: {item.title}{target}")
    lines.append(
        f"files:    {len(report.missing)} missing from the zip, "
        f"{len(report.unlisted)} not listed in the manifest"
    )
    lines.append(f"schema:   {report.schema}")
    for finding in sorted(
        report.findings,
        key=lambda f: (("error", "warning", "info").index(f.severity), f.code, f.where),
    ):
        lines.extend(str(finding).split("\n"))
    verdict = "PASS" if report.ok(strict) else "FAIL"
    lines.append(
        f"{verdict}: {report.count('error')} error(s), {report.count('warning')} warning(s)"
        + (" (strict)" if strict else "")
    )
    return [printable(line) for line in lines]
