"""The preview server: simulator page, builds served from tmp, rebuild on change, errors shown."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from builder.preview import Preview
from tests.conftest import FIXTURES


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            return res.status, res.headers.get("Content-Type", ""), res.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def build_info(preview: Preview) -> dict:
    return json.loads(fetch(preview.url + "__build")[2])


def wait_for_generation(preview: Preview, after: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = build_info(preview)
        if info["generation"] > after:
            return info
        time.sleep(0.1)
    raise AssertionError(f"no rebuild after generation {after} within {timeout} s")


@pytest.fixture
def served(minimal_course: Path):
    course = minimal_course
    builds = []
    preview = Preview(course, display_root="course", port=0, on_build=builds.append)
    preview.start(watch=True)
    yield preview, course, builds
    preview.stop()


def test_serves_the_simulator_and_both_scorm_versions(served):
    preview, _, builds = served
    assert preview.url.startswith("http://127.0.0.1:")
    status, ctype, body = fetch(preview.url)
    assert status == 200 and ctype.startswith("text/html")
    assert b"LMS simulator" in body and b"/__sim/sim.js" in body
    status, _, js = fetch(preview.url + "__sim/sim.js")
    assert status == 200
    for name in (b"LMSInitialize", b"LMSFinish", b"Initialize", b"Terminate", b"API_1484_11"):
        assert name in js
    info = build_info(preview)
    assert info["ok"] is True and info["generation"] == 1 and builds[0].ok
    assert info["course"]["id"] == "minimal-course"
    for target, version in (("scorm12", "1.2"), ("scorm2004", "2004")):
        entry = info["targets"][target]
        assert entry["version"] == version
        [sco] = entry["scos"]
        assert sco["href"] == "index.html"
        status, ctype, page = fetch(preview.url + f"content/{target}/index.html")
        assert status == 200 and ctype.startswith("text/html")
        assert b'<html lang="en"' in page
        status, _, manifest = fetch(preview.url + f"content/{target}/imsmanifest.xml")
        assert status == 200 and b"<manifest" in manifest
    assert info["targets"]["scorm12"]["scos"][0]["masteryScore"] == "50"


@pytest.mark.parametrize(
    "path",
    [
        "/content/scorm12/../../../../etc/passwd",
        "/content/scorm12/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/content/scorm12/..%2f..%2fcourse.yaml",
        "/content/elsewhere/index.html",
        "/nothing-here",
    ],
)
def test_nothing_outside_the_build_is_served(served, path):
    preview = served[0]
    host, port = preview.server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path)  # sent as written: no client-side normalisation
    res = conn.getresponse()
    assert res.status == 404
    assert b"root:" not in res.read()
    conn.close()


def test_a_course_change_rebuilds_errors_are_shown_and_the_server_stays_up(served):
    preview, course, builds = served
    yaml_file = course / "course.yaml"
    good = yaml_file.read_text()
    yaml_file.write_text(good.replace("language: en", "language: en\ncolour: blue"))
    info = wait_for_generation(preview, 1)
    assert info["ok"] is False
    assert any(
        d["code"] == "E202" and d["text"].startswith("course/course.yaml:")
        for d in info["diagnostics"]
    )
    assert builds[-1].ok is False
    # The last good build is still served while the author fixes the error.
    assert fetch(preview.url + "content/scorm12/index.html")[0] == 200
    assert fetch(preview.url)[0] == 200

    yaml_file.write_text(good.replace("Minimal course: water safety", "Water safety, second try"))
    info = wait_for_generation(preview, info["generation"])
    assert info["ok"] is True and info["goodGeneration"] == info["generation"]
    assert info["course"]["title"] == "Water safety, second try"
    assert b"Water safety, second try" in fetch(preview.url + "content/scorm2004/index.html")[2]


def test_multi_sco_packages_list_every_sco(tmp_path):
    preview = Preview(FIXTURES / "minimal", mode="multi", port=0)
    try:
        state = preview.rebuild()
        scos = state.targets["scorm12"]["scos"]
        assert [s["href"] for s in scos] == [
            "index.html",
            "rules.html",
            "practice.html",
            "check.html",
        ]
        assert [s["masteryScore"] for s in scos] == [None, None, None, "50"]
    finally:
        preview.stop()


def test_stop_removes_the_temporary_builds(tmp_path):
    preview = Preview(FIXTURES / "minimal", port=0)
    preview.start(watch=False)
    folder = preview.folder
    assert folder is not None and (folder / "scorm12" / "index.html").is_file()
    preview.stop()
    assert not folder.exists()
