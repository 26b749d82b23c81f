"""Video and audio written with image syntax: the player element, its captions and poster.

`![Tips for chairs](media/tips.webm)` becomes a `<video controls>` (`.mp3`/`.ogg`: `<audio>`).
Captions are required: a WebVTT file next to the media file, `tips.vtt` or `tips.<lang>.vtt`,
checked here at build time (header, cue timings, their order), becomes a `<track>`. An image of
the same name (`tips.jpg`, `.jpeg`, `.png` or `.webp`) is the video's poster.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

#: Media kinds by file name ending; everything else written as an image stays an image.
PLAYERS = {".mp4": "video", ".webm": "video", ".mp3": "audio", ".ogg": "audio"}
POSTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+\S.*)?$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
#: Names of the caption languages players list (in that language); other codes show as written.
LANGUAGE_NAMES = {
    "ar": "العربية",
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "pt": "Português",
}


def player_kind(path: str) -> str | None:
    """'video' or 'audio' for a media file written with image syntax, else None."""
    return PLAYERS.get(posixpath.splitext(path)[1].lower())


@dataclass(frozen=True)
class Captions:
    """A WebVTT file found next to a media file."""

    path: str
    """Relative to the course folder, as the package holds it."""
    language: str | None


def find_captions(root: Path, rel: str) -> list[Captions]:
    """The caption files next to media file `rel`: `<stem>.vtt` and `<stem>.<lang>.vtt`."""
    folder, name = posixpath.split(rel)
    stem = posixpath.splitext(name)[0]
    found = []
    directory = root / folder
    if not directory.is_dir():
        return []
    for entry in sorted(directory.iterdir()):
        if not entry.is_file() or not entry.name.endswith(".vtt"):
            continue
        middle = entry.name[len(stem) : -len(".vtt")]
        if not entry.name.startswith(stem):
            continue
        if middle == "":
            found.append(Captions(posixpath.join(folder, entry.name), None))
        elif middle.startswith(".") and _LANG.match(middle[1:]):
            found.append(Captions(posixpath.join(folder, entry.name), middle[1:]))
    return found


def find_poster(root: Path, rel: str) -> str | None:
    """An image with the media file's name next to it (its poster), if there is one."""
    stem = posixpath.splitext(rel)[0]
    return next((stem + s for s in POSTER_SUFFIXES if (root / (stem + s)).is_file()), None)


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = parts
    return (
        int(hours or 0) * 3600
        + int(minutes or 0) * 60
        + int(seconds or 0)
        + int(millis or 0) / 1000
    )


def webvtt_problems(text: str) -> list[tuple[int, str]]:
    """What is wrong with a WebVTT file, as (line from 1, message); empty if it is sound.

    Checks what players refuse or show wrong: the `WEBVTT` header, each cue's timing line,
    cues that end before they start, cues out of order, and a file with no cue at all.
    """
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = lines[0] if lines else ""
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        return [(1, "the first line must be 'WEBVTT'")]
    problems: list[tuple[int, str]] = []
    cues = 0
    last_start = -1.0
    i = 1
    while i < len(lines) and lines[i].strip():  # the header's own lines
        i += 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
            continue
        at = 0 if "-->" in block[0] else 1  # an optional cue identifier comes first
        if at >= len(block) or "-->" not in block[at]:
            problems.append(
                (block_start + 1, "a cue has no timing line ('00:00:01.000 --> 00:00:04.000')")
            )
            continue
        m = _TIMING.match(block[at].strip())
        line = block_start + at + 1
        if m is None:
            problems.append(
                (
                    line,
                    f"'{block[at].strip()[:50]}' is not a cue timing "
                    "('00:00:01.000 --> 00:00:04.000')",
                )
            )
            continue
        start, end = _seconds(m.groups()[:4]), _seconds(m.groups()[4:])
        if end <= start:
            problems.append((line, "the cue ends before it starts"))
        elif start < last_start:
            problems.append((line, "the cue starts before the one above it: cues must be in order"))
        if at + 1 >= len(block):
            problems.append((line, "the cue has no text"))
        last_start = max(last_start, start)
        cues += 1
    if not cues and not problems:
        problems.append((1, "the file has no cues"))
    return problems


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def player_html(
    kind: str, src: str, title: str, captions: list[Captions], poster: str | None, language: str
) -> str:
    """The `<video>` or `<audio>` element, with a caption track for each file (the course's
    language first, shown by default) and a link to the file for browsers that cannot play it."""
    ordered = sorted(captions, key=lambda c: (c.language or language) != language)
    tracks = ""
    for n, c in enumerate(ordered):
        lang = c.language or language
        label = LANGUAGE_NAMES.get(lang.split("-")[0], lang)
        tracks += (
            f'<track kind="captions" src="{_esc(c.path)}" srclang="{_esc(lang)}" '
            f'label="{_esc(label)}"{" default" if n == 0 else ""}>'
        )
    extra = f' poster="{_esc(poster)}"' if poster and kind == "video" else ""
    name = f' aria-label="{_esc(title)}"' if title else ""
    return (
        f'<{kind} class="media media-{kind}" controls preload="metadata" src="{_esc(src)}"'
        f"{extra}{name}>{tracks}"
        f'<a href="{_esc(src)}">{_esc(title or posixpath.basename(src))}</a></{kind}>'
    )


def media_player(
    root: Path, src: str, title: str, language: str
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """A media file's player: its HTML, the files it needs besides `src` (captions, poster),
    and what is wrong with its captions, as (code, message)."""
    kind = player_kind(src) or "video"
    captions = find_captions(root, src)
    poster = find_poster(root, src) if kind == "video" else None
    problems: list[tuple[str, str]] = []
    if not captions:
        stem = posixpath.splitext(src)[0]
        problems.append(
            (
                "E370",
                f"{kind} '{src}' has no captions: add a WebVTT file {stem}.vtt or "
                f"{stem}.<language>.vtt next to it",
            )
        )
    for c in captions:
        try:
            text = (root / c.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append(("E371", f"captions {c.path} cannot be read as UTF-8 text"))
            continue
        for line, message in webvtt_problems(text):
            problems.append(("E371", f"captions {c.path}:{line}: {message}"))
    files = [c.path for c in captions] + ([poster] if poster else [])
    return player_html(kind, src, title, captions, poster, language), files, problems
