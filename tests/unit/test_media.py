"""Video and audio written with image syntax: players, required captions, posters, the zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.media import webvtt_problems
from builder.pipeline import BuildSettings, build
from tests.conftest import run_cli

GOOD_VTT = (
    "WEBVTT\n\n00:00.000 --> 00:01.500\nHello.\n\n"
    + "id-2\n00:00:01.500 --> 00:00:03.000 line:0\nBye.\n"
)


def test_a_sound_caption_file_has_no_problems() -> None:
    assert webvtt_problems(GOOD_VTT) == []
    assert (
        webvtt_problems("\ufeffWEBVTT - with a title\r\n\r\nNOTE a note\r\n\r\n" + GOOD_VTT[8:])
        == []
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("1\n00:00:00,000 --> 00:00:01,000\nSRT, not WebVTT\n", 1, "'WEBVTT'"),
        ("WEBVTT\n\n00:00.000 -> 00:01.000\nArrow too short\n", 3, "no timing line"),
        ("WEBVTT\n\n00:00,000 --> 00:01,000\nCommas\n", 3, "is not a cue timing"),
        ("WEBVTT\n\n00:02.000 --> 00:01.000\nBackwards\n", 3, "ends before it starts"),
        ("WEBVTT\n\n00:02.000 --> 00:03.000\nB\n\n00:01.000 --> 00:02.000\nA\n", 6, "in order"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\n", 3, "no text"),
        ("WEBVTT\n", 1, "no cues"),
    ],
)
def test_caption_file_problems_name_their_line(text: str, line: int, words: str) -> None:
    problems = webvtt_problems(text)
    assert problems and problems[0][0] == line
    assert words in problems[0][1]


def _course_with(minimal_course: Path, markdown: str, files: dict[str, bytes]) -> int:
    """Add `markdown` at the end of rules.md and `files` to media/; the line it starts at."""
    for name, data in files.items():
        (minimal_course / "media" / name).write_bytes(data)
    rules = minimal_course / "units" / "rules.md"
    old = rules.read_text(encoding="utf-8")
    rules.write_text(old + "\n" + markdown + "\n", encoding="utf-8")
    return len(old.splitlines()) + 2


def test_video_and_audio_become_players_with_captions_and_poster(
    minimal_course: Path, tmp_path: Path
) -> None:
    _course_with(
        minimal_course,
        "![How to float](../media/float.webm)\n\n![Whistle](../media/whistle.mp3)",
        {
            "float.webm": b"\x1aE\xdf\xa3" + bytes(2000),
            "float.vtt": GOOD_VTT.encode(),
            "float.fr.vtt": GOOD_VTT.encode(),
            "float.jpg": b"\xff\xd8\xff" + bytes(100),
            "whistle.mp3": b"ID3" + bytes(2000),
            "whistle.en.vtt": GOOD_VTT.encode(),
        },
    )
    out = tmp_path / "dist"
    build(BuildSettings(course_dir=minimal_course, out_dir=out, targets=("scorm2004",)))
    (package,) = out.glob("*.zip")
    with zipfile.ZipFile(package) as zf:
        doc = lxml_html.fromstring(zf.read("index.html"))
        infos = {i.filename: i for i in zf.infolist()}
        manifest = zf.read("imsmanifest.xml").decode()
    (video,) = doc.xpath("//video")
    assert video.get("controls") is not None
    assert (video.get("src"), video.get("poster")) == ("media/float.webm", "media/float.jpg")
    assert video.get("aria-label") == "How to float"
    tracks = video.xpath(".//track")  # lxml nests void elements it does not know
    # The course's language first, and shown by default.
    assert [(t.get("kind"), t.get("srclang")) for t in tracks] == [
        ("captions", "en"),
        ("captions", "fr"),
    ]
    assert [t.get("default") is not None for t in tracks] == [True, False]
    (audio,) = doc.xpath("//audio")
    assert audio.xpath(".//track/@src") == ["media/whistle.en.vtt"]
    for name in ("float.webm", "whistle.mp3", "float.jpg"):
        assert infos[f"media/{name}"].compress_type == zipfile.ZIP_STORED, name
    for name in ("float.vtt", "float.fr.vtt", "whistle.en.vtt", "float.jpg"):
        assert f'href="media/{name}"' in manifest


def test_a_video_without_captions_is_an_error_that_says_captions(minimal_course: Path) -> None:
    line = _course_with(minimal_course, "![Float](../media/float.mp4)", {"float.mp4": bytes(100)})
    proc = run_cli("validate", str(minimal_course))
    assert proc.returncode == 1
    assert f"rules.md:{line}:1: error[E370]: video 'media/float.mp4' has no captions" in proc.stderr
    assert "media/float.vtt" in proc.stderr


def test_malformed_captions_are_an_error_with_the_caption_files_line(
    minimal_course: Path, tmp_path: Path
) -> None:
    bad = b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nBackwards\n"
    line = _course_with(
        minimal_course,
        "![Float](../media/float.ogg)",
        {"float.ogg": b"OggS" + bytes(100), "float.vtt": bad},
    )
    out = tmp_path / "dist"
    proc = run_cli("build", str(minimal_course), "--out", str(out))
    assert proc.returncode == 1
    assert (
        f"rules.md:{line}:1: error[E371]: captions media/float.vtt:3: the cue ends before it "
        "starts" in proc.stderr
    )
    # Fixed captions build, although nothing else changed (the build cache knows captions).
    (minimal_course / "media" / "float.vtt").write_text(GOOD_VTT, encoding="utf-8")
    proc = run_cli("build", str(minimal_course), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
