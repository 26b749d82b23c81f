"""imsmanifest.xml through lxml: every difference between SCORM 1.2 and 2004 lives here.

Identifiers come from the author's ids only, so a re-uploaded new version of a course keeps the
learners' records. Nothing Moodle is known to choke on is written: no `imsss:mapInfo`, no rollup
rules, no top-level sibling SCOs, no character references (lxml writes UTF-8 text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from builder.model import Course, Mode, Target
from builder.package import METADATA12

NS12 = {
    None: "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_rootv1p2",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
LOCATIONS12 = (
    "http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd "
    "http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd"
)
NS2004 = {
    None: "http://www.imsglobal.org/xsd/imscp_v1p1",
    "adlcp": "http://www.adlnet.org/xsd/adlcp_v1p3",
    "adlseq": "http://www.adlnet.org/xsd/adlseq_v1p3",
    "adlnav": "http://www.adlnet.org/xsd/adlnav_v1p3",
    "imsss": "http://www.imsglobal.org/xsd/imsss",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
LOCATIONS2004 = (
    "http://www.imsglobal.org/xsd/imscp_v1p1 imscp_v1p1.xsd "
    "http://www.adlnet.org/xsd/adlcp_v1p3 adlcp_v1p3.xsd "
    "http://www.adlnet.org/xsd/adlseq_v1p3 adlseq_v1p3.xsd "
    "http://www.adlnet.org/xsd/adlnav_v1p3 adlnav_v1p3.xsd "
    "http://www.imsglobal.org/xsd/imsss imsss_v1p0.xsd "
    "http://ltsc.ieee.org/xsd/LOM lom.xsd"
)
LOM = "http://ltsc.ieee.org/xsd/LOM"
XML_NS = "http://www.w3.org/XML/1998/namespace"
IMSMD = "http://www.imsglobal.org/xsd/imsmd_rootv1p2p1"

ASSETS_ID = "RES-ASSETS"


@dataclass(frozen=True)
class PackageFiles:
    """Which package files belong to which resource."""

    pages: dict[str, str]
    """unit id (or 'home') -> its HTML page."""
    shared: Sequence[str]
    """files every SCO depends on: CSS, JS, media, metadata."""


def _q(ns: dict[str | None, str], tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{ns[prefix or None]}}}{local}"


class _Writer:
    def __init__(self, ns: dict[str | None, str]) -> None:
        self.ns = ns

    def el(
        self, parent: etree._Element | None, tag: str, text: str | None = None, **attrs: str
    ) -> etree._Element:
        qtag = _q(self.ns, tag)
        node = (
            etree.Element(qtag, nsmap=self.ns)  # type: ignore[arg-type]  # None = default ns
            if parent is None
            else etree.SubElement(parent, qtag)
        )
        for key, value in attrs.items():
            name = key.replace("__", ":").replace("_", "")  # adlcp__scormType -> adlcp:scormType
            if name.startswith("xml:"):
                name = f"{{{XML_NS}}}{name[4:]}"
            elif ":" in name:
                name = _q(self.ns, name)
            node.set(name, value)
        if text is not None:
            node.text = text
        return node


def _title(text: str) -> str:
    """Moodle loses a title that is just '0' and keeps 255 characters."""
    text = " ".join(text.split())[:255]
    return text if text != "0" else "0 "


def iso_duration(minutes: int) -> str:
    """Minutes as an ISO 8601 duration, e.g. 190 -> PT3H10M."""
    hours, mins = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins or not hours else "")


def _lom2004(course: Course) -> etree._Element:
    ns: dict[str | None, str] = {None: LOM}
    w = _Writer(ns)
    lang = course.language
    lom = w.el(None, "lom")
    general = w.el(lom, "general")
    ident = w.el(general, "identifier")
    w.el(ident, "catalog", "scorm-builder")
    w.el(ident, "entry", course.id)
    w.el(w.el(general, "title"), "string", _title(course.title), language=lang)
    w.el(general, "language", lang)
    w.el(w.el(general, "description"), "string", course.description, language=lang)
    for kw in course.keywords:
        w.el(w.el(general, "keyword"), "string", kw, language=lang)
    life = w.el(lom, "lifeCycle")
    w.el(w.el(life, "version"), "string", course.version, language=lang)
    edu = w.el(lom, "educational")
    w.el(w.el(edu, "typicalLearningTime"), "duration", iso_duration(course.duration))
    rights = w.el(lom, "rights")
    cr = w.el(rights, "copyrightAndOtherRestrictions")
    w.el(cr, "source", "LOMv1.0")
    w.el(cr, "value", "yes")
    w.el(w.el(rights, "description"), "string", _rights(course), language=lang)
    return lom


def _rights(course: Course) -> str:
    parts = [course.credits.source, course.credits.licence]
    if course.credits.distribution:
        parts.append(course.credits.distribution)
    if course.credits.url:
        parts.append(course.credits.url)
    return ". ".join(p.rstrip(".") for p in parts) + "."


def metadata12(course: Course) -> bytes:
    """The IMS MD 1.2 record that a SCORM 1.2 manifest points to with adlcp:location."""
    w = _Writer({None: IMSMD})
    lang = course.language

    def langstring(parent: etree._Element, tag: str, text: str, language: str = lang) -> None:
        w.el(w.el(parent, tag), "langstring", text, xml__lang=language)

    lom = w.el(None, "lom")
    general = w.el(lom, "general")
    langstring(general, "title", _title(course.title))
    entry = w.el(general, "catalogentry")
    w.el(entry, "catalog", "scorm-builder")
    langstring(entry, "entry", course.id)
    w.el(general, "language", lang)
    langstring(general, "description", course.description)
    for kw in course.keywords:
        langstring(general, "keyword", kw)
    langstring(w.el(lom, "lifecycle"), "version", course.version)
    hours, mins = divmod(course.duration, 60)
    w.el(
        w.el(w.el(lom, "educational"), "typicallearningtime"),
        "datetime",
        f"{hours:02d}:{mins:02d}:00",
    )
    rights = w.el(lom, "rights")
    restrictions = w.el(rights, "copyrightandotherrestrictions")
    langstring(restrictions, "source", "LOMv1.0", "x-none")
    langstring(restrictions, "value", "yes", "x-none")
    langstring(rights, "description", _rights(course))
    return _serialise(lom)


XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _serialise(root: etree._Element) -> bytes:
    """UTF-8 text (never character references), two-space indent, LF, fixed declaration."""
    etree.indent(root, space="  ")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def build_manifest(course: Course, files: PackageFiles, target: Target, mode: Mode) -> bytes:
    """imsmanifest.xml for one SCORM version and packaging mode."""
    is12 = target == "scorm12"
    ns = NS12 if is12 else NS2004
    w = _Writer(ns)
    root = w.el(None, "manifest", identifier=f"MANIFEST-{course.id}", version=course.version)
    root.set(_q(ns, "xsi:schemaLocation"), LOCATIONS12 if is12 else LOCATIONS2004)
    meta = w.el(root, "metadata")
    w.el(meta, "schema", "ADL SCORM")
    w.el(meta, "schemaversion", "1.2" if is12 else "2004 4th Edition")
    if is12:
        w.el(meta, "adlcp:location", METADATA12)
    else:
        meta.append(_lom2004(course))

    orgs = w.el(root, "organizations", default=f"ORG-{course.id}")
    org = w.el(orgs, "organization", identifier=f"ORG-{course.id}")
    if not is12:
        org.set(_q(ns, "adlseq:objectivesGlobalToSystem"), "false")
    w.el(org, "title", _title(course.title))
    resources = w.el(root, "resources")

    pass_by_score = course.reporting.status == "passed/failed"
    assessment = course.assessment

    def sco_item(
        parent: etree._Element,
        ident: str,
        title: str,
        res: str,
        objectives: Sequence[str],
        primary: str,
        mastery: bool,
    ) -> None:
        item = w.el(parent, "item", identifier=f"ITEM-{ident}", identifierref=res, isvisible="true")
        w.el(item, "title", _title(title))
        if is12:
            if mastery:
                w.el(item, "adlcp:masteryscore", str(course.reporting.pass_mark))
            return
        seq = w.el(item, "imsss:sequencing")
        objs = w.el(seq, "imsss:objectives")
        w.el(objs, "imsss:primaryObjective", objectiveID=primary)
        for oid in objectives:
            w.el(objs, "imsss:objective", objectiveID=oid)
        w.el(
            seq,
            "imsss:deliveryControls",
            completionSetByContent="true",
            objectiveSetByContent="true",
        )

    def sco_resource(ident: str, href: str) -> None:
        res = w.el(resources, "resource", identifier=ident, type="webcontent", href=href)
        res.set(_q(ns, "adlcp:scormtype" if is12 else "adlcp:scormType"), "sco")
        w.el(res, "file", href=href)
        w.el(res, "dependency", identifierref=ASSETS_ID)

    if mode == "single":
        res = f"RES-{course.id}"
        sco_item(
            org,
            course.id,
            course.title,
            res,
            [u.id for u in course.units],
            primary=course.id,
            mastery=pass_by_score,
        )
        sco_resource(res, files.pages["home"])
    else:
        cluster = w.el(org, "item", identifier=f"ROOT-{course.id}", isvisible="true")
        w.el(cluster, "title", _title(course.title))
        sco_item(
            cluster,
            f"{course.id}-home",
            course.title,
            f"RES-{course.id}-home",
            [],
            primary=f"{course.id}-home",
            mastery=False,
        )
        sco_resource(f"RES-{course.id}-home", files.pages["home"])
        for unit in course.units:
            is_assessment = assessment is not None and unit.id == assessment.id
            sco_item(
                cluster,
                unit.id,
                unit.title,
                f"RES-{unit.id}",
                [],
                primary=unit.id,
                mastery=pass_by_score and is_assessment,
            )
            sco_resource(f"RES-{unit.id}", files.pages[unit.id])
    if not is12:
        seq = w.el(org, "imsss:sequencing")
        w.el(seq, "imsss:controlMode", choice="true", flow="true")

    shared = w.el(resources, "resource", identifier=ASSETS_ID, type="webcontent")
    shared.set(_q(ns, "adlcp:scormtype" if is12 else "adlcp:scormType"), "asset")
    for path in sorted(files.shared):
        w.el(shared, "file", href=path)
    return _serialise(root)
