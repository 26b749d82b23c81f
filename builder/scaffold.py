"""`scorm-builder new DIR`: a small working course to start from.

The course files live in builder/scaffold_course/ (shipped inside the wheel); only course.yaml
carries placeholders, for the id, the title and the language. The new folder is assembled beside
its destination and renamed into place, so a failure never leaves half a course behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

TEMPLATE = Path(__file__).parent / "scaffold_course"
_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
#: Unicode categories a title may not hold: controls, surrogates, private use, unassigned, and
#: line and paragraph separators.
_REFUSED = {"Cc", "Cs", "Co", "Cn", "Zl", "Zp"}
#: Bidirectional embeddings, overrides and isolates: they can make text read in another order.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ScaffoldError(Exception):
    """The course cannot be created where or as asked (a usage error)."""


def _title_problem(name: str) -> str | None:
    """Why `name` cannot be a course title, or None.

    Arguments arrive from the terminal: bytes that are not UTF-8 come as lone surrogates, which
    no file can hold, and a control character, line break or bidirectional override would reach
    every page and manifest. Spaces of every kind, joiners and marks that scripts need are kept.
    """
    if not 1 <= len(name) <= 255:
        return "the title must have 1 to 255 characters"
    for position, char in enumerate(name, 1):
        if "\udc80" <= char <= "\udcff":
            return "the title is not UTF-8 text: check the terminal's character encoding"
        if unicodedata.category(char) in _REFUSED or char in _BIDI_CONTROLS:
            return (
                f"the title must be one line of printable text: character {position} is "
                f"U+{ord(char):04X}, a control or formatting character"
            )
    return None


def course_id_for(folder: Path) -> str:
    """A valid course id from a folder name, e.g. 'My Course 2' -> 'my-course-2'."""
    words = re.findall(r"[a-z0-9]+", folder.resolve().name.lower())
    ident = "-".join(words)[:64].strip("-")
    if not ident or not ident[0].isalpha():
        ident = f"course-{ident}".strip("-")
    return ident


def scaffold_course(
    dest: Path, course_id: str | None = None, title: str | None = None, language: str = "en"
) -> list[Path]:
    """Create a starter course in `dest` (absent or empty); return the files written."""
    ident = course_id or course_id_for(dest)
    if not _ID.fullmatch(ident) or len(ident) > 64:
        raise ScaffoldError(
            f"{ident!r} is not a valid course id: use lower-case letters, digits and single "
            "hyphens, starting with a letter"
        )
    if not _LANGUAGE.fullmatch(language):
        raise ScaffoldError(f"{language!r} is not a language tag such as 'en' or 'fr'")
    name = (title or ident.replace("-", " ").capitalize()).strip()
    problem = _title_problem(name)
    if problem:
        raise ScaffoldError(problem)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} already exists and is not an empty folder")

    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        staged = work / "course"
        shutil.copytree(TEMPLATE, staged, ignore=shutil.ignore_patterns("__pycache__"))
        (staged / "media").mkdir(exist_ok=True)
        course_yaml = staged / "course.yaml"
        text = course_yaml.read_text(encoding="utf-8")
        # A JSON string is a valid YAML double-quoted scalar: any title stays one safe value.
        text = (
            text.replace("__COURSE_ID__", ident)
            .replace("__COURSE_TITLE__", json.dumps(name, ensure_ascii=False))
            .replace("__LANGUAGE__", language)
        )
        course_yaml.write_text(text, encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        os.replace(staged, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sorted(p for p in dest.rglob("*") if p.is_file())
