"""The zip: layout Moodle accepts, byte-identical rebuilds, atomic writes."""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from builder.errors import BuildFailed
from builder.package import (
    STORED_SUFFIXES,
    Entry,
    deflate,
    entry_name_problem,
    timestamp_from_env,
    write_package,
)
from builder.pipeline import BuildSettings, build
from tests.conftest import FIXTURES, REPO


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_two_builds_are_byte_identical(tmp_path, mode):
    first = build(BuildSettings(REPO / "course", tmp_path / "a", mode=mode))
    second = build(BuildSettings(REPO / "course", tmp_path / "b", mode=mode))
    assert [o.path.name for o in first.outputs] == [o.path.name for o in second.outputs]
    for a, b in zip(first.outputs, second.outputs, strict=True):
        assert _sha(a.path) == _sha(b.path)


def test_zip_layout(tmp_path):
    result = build(BuildSettings(FIXTURES / "minimal", tmp_path, mode="single"))
    assert sorted(o.path.name for o in result.outputs) == [
        "minimal-course-scorm12.zip",
        "minimal-course-scorm2004.zip",
    ]
    for out in result.outputs:
        with zipfile.ZipFile(out.path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            assert names[0] == "imsmanifest.xml"
            assert names[1:] == sorted(names[1:])
            for info in infos:
                assert info.date_time == (1980, 1, 1, 0, 0, 0)
                assert info.create_system == 3
                assert stat.S_IMODE(info.external_attr >> 16) == 0o644
                assert info.filename.isascii() and not info.filename.startswith(("./", "/"))
                assert entry_name_problem(info.filename) is None
            # Already-compressed media is stored, text is deflated.
            kinds = {i.filename: i.compress_type for i in infos}
            assert kinds["media/tower.png"] == zipfile.ZIP_STORED
            assert kinds["index.html"] == zipfile.ZIP_DEFLATED
            assert zf.testzip() is None


def test_source_date_epoch_sets_every_timestamp(tmp_path):
    stamp = timestamp_from_env({"SOURCE_DATE_EPOCH": "1700000000"})
    result = build(
        BuildSettings(FIXTURES / "minimal", tmp_path, targets=("scorm12",), timestamp=stamp)
    )
    with zipfile.ZipFile(result.outputs[0].path) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert timestamp_from_env({"SOURCE_DATE_EPOCH": "12"}) == timestamp_from_env({})
    assert timestamp_from_env({"SOURCE_DATE_EPOCH": "soon"}) == timestamp_from_env({})


@pytest.mark.parametrize(
    "name",
    [
        "hand&out.html",
        "a:b.html",
        "../x.html",
        "./imsmanifest.xml",
        "caf\u00e9.html",
        "x|y.png",
        "media/.DS_Store",
        "a\\b.html",
    ],
)
def test_names_moodle_would_mangle_are_refused(name):
    assert entry_name_problem(name) is not None


def test_failed_write_leaves_old_package_and_no_temp_file(tmp_path):
    out = tmp_path / "course.zip"
    write_package([Entry("imsmanifest.xml", b"<old/>")], out, 0)
    before = out.read_bytes()
    with pytest.raises(FileNotFoundError):
        write_package(
            [
                Entry("imsmanifest.xml", b"<new/>"),
                Entry("media/gone.png", source=tmp_path / "missing.png"),
            ],
            out,
            0,
        )
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.zip"]


def test_course_error_leaves_dist_untouched(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    out = tmp_path / "dist"
    good = build(BuildSettings(course, out))
    hashes = {o.path.name: _sha(o.path) for o in good.outputs}
    unit = course / "units" / "rules.md"
    unit.write_text(unit.read_text().replace("[^buddy]", "[^nobody]", 1))
    with pytest.raises(BuildFailed):
        build(BuildSettings(course, out))
    assert {p.name: _sha(p) for p in out.iterdir()} == hashes


def test_deflated_entries_give_the_same_zip_as_plain_data(tmp_path):
    files = {
        "imsmanifest.xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="m"/>\n',
        "index.html": b"<!DOCTYPE html>\n" + b"<p>Never swim alone.</p>\n" * 300,
        "assets/runtime.js": b'"use strict";\n' + b"api.setValue('cmi.location', '1');\n" * 80,
        "assets/theme.css": b"section { margin: 0 auto; max-width: 40em; }\n" * 60,
        "assets/empty.css": b"",
        "media/tower.png": (FIXTURES / "minimal" / "media" / "tower.png").read_bytes(),
    }
    stored = {name for name in files if Path(name).suffix in STORED_SUFFIXES}
    assert stored == {"media/tower.png"}
    plain = [Entry(name, data=data) for name, data in files.items()]
    # As the build cache gives them: text already deflated, media as bytes (and in any order).
    cached = [
        Entry(name, data=data) if name in stored else Entry(name, deflated=deflate(data))
        for name, data in reversed(files.items())
    ]
    write_package(plain, tmp_path / "plain.zip", 0)
    write_package(cached, tmp_path / "cached.zip", 0)
    assert (tmp_path / "cached.zip").read_bytes() == (tmp_path / "plain.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "cached.zip") as zf:
        assert zf.testzip() is None
        assert {name: zf.read(name) for name in zf.namelist()} == files
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
    assert kinds["media/tower.png"] == zipfile.ZIP_STORED
    assert kinds["index.html"] == zipfile.ZIP_DEFLATED
